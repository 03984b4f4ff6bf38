//! SQL over the figures: every table of the report as a view of a Polars
//! SQL context, with the exercise's names as aliases.
//!
//! The views are built from the same [`Figures`] that `batch` prints, so a
//! query sees exactly the report's numbers. Windows are two columns,
//! `window_start` and `window_end` (datetimes, UTC, without a time zone so
//! that `window_start >= '2016-07-26 20:00'` compares as written). The
//! `events` view holds one row per valid event and is read from the input
//! only when a query names it.

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;

use anyhow::{Context, Result};
use polars::prelude::{
    col, AnonymousScan, AnonymousScanArgs, Column, DataFrame, DataType, Expr, IntoLazy, LazyFrame, PolarsResult,
    ScanArgsAnonymous, Schema, SchemaRef,
};
use polars::sql::{extract_table_identifiers, SQLContext};

use crate::engine::stream::TriggerRow;
use crate::frames::{datetime_ms, figure_frame, minute_columns, minute_frame, rejected_frame, strings, MINUTE_COLUMNS};
use crate::metrics::Figures;
use crate::source::{self, InputFile, Rejected};

/// One view: its name, the exercise's names for it, what it holds.
pub struct View {
    /// The name used in queries.
    pub name: &'static str,
    /// Other names for it, from the exercise.
    pub aliases: &'static [&'static str],
    /// What one row is.
    pub about: &'static str,
}

/// Every view, in the order `.tables` lists them.
pub const VIEWS: &[View] = &[
    View {
        name: "events",
        aliases: &["static_input"],
        about: "one row per valid event: time, action",
    },
    View {
        name: "minute_counts",
        aliases: &["counts", "static_counts"],
        about: "events per action and minute window: action, window_start, window_end, count",
    },
    View {
        name: "hourly_counts",
        aliases: &["static_counts_hourly"],
        about: "events per action and hour window: action, window_start, window_end, count",
    },
    View {
        name: "totals",
        aliases: &[],
        about: "events per action: action, total_count",
    },
    View {
        name: "hourly_average",
        aliases: &["static_mean"],
        about: "average actions per minute, per hour: window_start, window_end, average",
    },
    View {
        name: "moving_average",
        aliases: &[],
        about: "per action and minute of the dense grid: action, window_start, count, moving_average, moving_variance",
    },
    View {
        name: "rejected",
        aliases: &[],
        about: "the lines that are not valid events: file, line, reason, text",
    },
    View {
        name: "triggers",
        aliases: &[],
        about: "a stream's committed triggers (over --checkpoint): trigger, files, events, rejected, state_rows, variance, new_alerts, duration_ms",
    },
    View {
        name: "alerts",
        aliases: &[],
        about: "minutes where the alert actions differ by more than the threshold: window_start, window_end, open, close, difference",
    },
];

/// The view a name (or alias) refers to, case-insensitively.
pub fn view_of(name: &str) -> Option<&'static View> {
    let name = name.to_ascii_lowercase();
    VIEWS
        .iter()
        .find(|v| v.name == name || v.aliases.contains(&name.as_str()))
}

/// A query the SQL engine refused or failed to run: its message and the
/// query, for the person who wrote it. Commands exit with status 2 on it.
#[derive(Debug)]
pub struct QueryError {
    /// The engine's message.
    pub message: String,
    /// The query as given.
    pub query: String,
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the query failed: {}\n  the query: {}",
            self.message,
            self.query.trim()
        )
    }
}

impl std::error::Error for QueryError {}

/// The `events` frame: every valid event of `files`, in input order,
/// integer times being in `unit`.
pub fn events_frame(files: &[InputFile], read: &source::ReadOptions) -> Result<DataFrame> {
    let mut times: Vec<i64> = Vec::new();
    let mut codes: Vec<u32> = Vec::new();
    let mut names: Vec<String> = Vec::new();
    let mut index: foldhash::HashMap<String, u32> = Default::default();
    let mut buf = Vec::new();
    let mut push = |time: i64, action: &str| {
        let code = match index.get(action) {
            Some(&c) => c,
            None => {
                let c = names.len() as u32;
                names.push(action.to_string());
                index.insert(action.to_string(), c);
                c
            }
        };
        times.push(time);
        codes.push(code);
    };
    for file in files {
        let rows = source::for_each_table_row(file, read, |_, judged, _| {
            if let Ok((time, action)) = judged {
                push(time, action);
            }
            true
        });
        if let Some(result) = rows {
            result?;
            continue;
        }
        let mut reader = source::open(file).with_context(|| format!("cannot open {}", file.path.display()))?;
        let read = source::for_each_line(&mut *reader, &mut buf, |_, piece| {
            let source::Piece::Line(raw) = piece else { return };
            if let source::line::Line::Event { time, action } = source::line::parse_with(raw, read.unit, read.fields) {
                push(time, &action);
            }
        });
        read.with_context(|| format!("cannot read {}", file.path.display()))?;
    }
    let frame = DataFrame::new_infer_height(vec![
        datetime_ms("time", times.into_iter())?,
        strings("action", codes.iter().map(|&c| names[c as usize].as_str())),
    ])
    .context("cannot build the events view")?;
    Ok(frame)
}

/// Where the `events` view comes from.
enum Events {
    /// Read from these files the first time a query names it.
    Files(Vec<InputFile>),
    /// Not to be had: why, for the person who asked.
    NotKept(String),
}

/// A SQL session over one input's views, or one checkpoint's. Each view
/// is built the first time a query names it, so a query pays only for the
/// views it reads (`select * from alerts` never builds the minute table).
pub struct Session {
    ctx: SQLContext,
    figures: Arc<Figures>,
    rejected: Arc<Vec<Rejected>>,
    triggers: Option<Arc<Vec<TriggerRow>>>,
    events: Events,
    read: source::ReadOptions,
    registered: HashSet<&'static str>,
}

impl Session {
    /// A session over `figures` and the `rejected` lines (and the events,
    /// read from `files` the first time a query names them).
    pub fn new(figures: Figures, rejected: Vec<Rejected>, files: Vec<InputFile>) -> Result<Self> {
        Ok(Session {
            ctx: SQLContext::new(),
            figures: Arc::new(figures),
            rejected: Arc::new(rejected),
            triggers: None,
            events: Events::Files(files),
            read: Default::default(),
            registered: HashSet::new(),
        })
    }

    /// A session over what a stream committed: its figures, its
    /// quarantine and its triggers; the events are not kept there.
    pub fn of_stream(figures: Figures, rejected: Vec<Rejected>, triggers: Vec<TriggerRow>) -> Self {
        Session {
            ctx: SQLContext::new(),
            figures: Arc::new(figures),
            rejected: Arc::new(rejected),
            triggers: Some(Arc::new(triggers)),
            events: Events::NotKept(
                "a checkpoint keeps the counts per action and minute, not the events: the view `events` \
                 is not there (query the input folder for it: windowpane sql INPUT \"...\")"
                    .into(),
            ),
            read: Default::default(),
            registered: HashSet::new(),
        }
    }

    /// A session over the same figures, lines and events with no view
    /// built yet: what a prompt goes on with when it abandons a query that
    /// runs on in this session.
    pub fn spare(&self) -> Session {
        Session {
            ctx: SQLContext::new(),
            figures: self.figures.clone(),
            rejected: self.rejected.clone(),
            triggers: self.triggers.clone(),
            events: match &self.events {
                Events::Files(files) => Events::Files(files.clone()),
                Events::NotKept(why) => Events::NotKept(why.clone()),
            },
            read: self.read,
            registered: HashSet::new(),
        }
    }

    /// The same session, reading the events view as `read` says (the unit
    /// of integer times, the fields).
    pub fn with_read(mut self, read: &source::ReadOptions) -> Self {
        self.read = *read;
        self
    }

    /// The same session without the events of the lines (a scan on a
    /// cluster keeps them there): `why` says so when a query asks.
    pub fn without_events(mut self, why: &str) -> Self {
        self.events = Events::NotKept(why.into());
        self
    }

    /// Builds and registers the view `name` if no query has yet.
    fn register_view(&mut self, name: &'static str, query: &str) -> Result<()> {
        if self.registered.contains(name) {
            return Ok(());
        }
        let refuse = |message: String| QueryError {
            message,
            query: query.to_string(),
        };
        if name == "minute_counts" {
            // a scan that builds only the columns a query reads, and none
            // for a count: the minute table is the largest
            let mut schema = Schema::with_capacity(MINUTE_COLUMNS.len() + 1);
            schema.insert(HEIGHT_ONLY.into(), DataType::Null);
            schema.merge(minute_frame(&Default::default())?.schema().as_ref().clone());
            let scan = MinuteScan {
                figures: self.figures.clone(),
                schema: Arc::new(schema),
            };
            let args = ScanArgsAnonymous {
                schema: Some(scan.schema.clone()),
                name: "minute_counts",
                ..Default::default()
            };
            let columns: Vec<Expr> = MINUTE_COLUMNS.iter().map(|&c| col(c)).collect();
            let lf = LazyFrame::anonymous_scan(Arc::new(scan), args)?.select(columns);
            register_lazy(&self.ctx, name, lf);
            self.registered.insert(name);
            return Ok(());
        }
        let frame =
            match name {
                "events" => match &self.events {
                    Events::Files(files) => events_frame(files, &self.read)?,
                    Events::NotKept(why) => return Err(refuse(why.clone()).into()),
                },
                "rejected" => rejected_frame(&self.rejected).context("cannot build the view rejected")?,
                "triggers" => match &self.triggers {
                    Some(rows) => triggers_frame(rows).context("cannot build the view triggers")?,
                    None => return Err(refuse(
                        "the view `triggers` holds a stream's triggers: query the checkpoint of a stream or update \
                         with --checkpoint DIR"
                            .into(),
                    )
                    .into()),
                },
                _ => figure_frame(&self.figures, name).with_context(|| format!("cannot build the view {name}"))?,
            };
        register(&self.ctx, name, frame);
        self.registered.insert(name);
        Ok(())
    }

    /// Runs one statement and collects its result.
    pub fn query(&mut self, query: &str) -> Result<DataFrame> {
        let fail = |message: String| QueryError {
            message,
            query: query.to_string(),
        };
        // DESCRIBE view: its columns and types, as DuckDB lists them
        let words: Vec<&str> = query.split_whitespace().collect();
        if let [first, rest @ ..] = &words[..] {
            if first.eq_ignore_ascii_case("describe") || first.eq_ignore_ascii_case("desc") {
                let name = match rest {
                    [t, name] if t.eq_ignore_ascii_case("table") => Some(*name),
                    [name] => Some(*name),
                    _ => None,
                };
                let name = name.map(|n| n.trim_end_matches(';').trim_matches('"'));
                let Some(view) = name.and_then(view_of) else {
                    let names: Vec<&str> = VIEWS.iter().map(|v| v.name).collect();
                    return Err(fail(format!("DESCRIBE takes one view: {}", names.join(", "))).into());
                };
                let columns = self.schema(view)?;
                return Ok(DataFrame::new_infer_height(vec![
                    strings("column_name", columns.iter().map(|c| c.0.as_str())),
                    strings("column_type", columns.iter().map(|c| c.1.as_str())),
                ])?);
            }
        }
        if let Some(function) = file_function(query) {
            return Err(fail(format!(
                "{function}() reads a file from disk; windowpane's SQL reads its own views only (.tables lists them): \
                 give the file as the input instead (windowpane sql FILE \"...\")"
            ))
            .into());
        }
        let tables = extract_table_identifiers(query, false, true).map_err(|e| fail(readable(&e.to_string())))?;
        for t in &tables {
            if let Some(view) = view_of(t) {
                self.register_view(view.name, query)?;
            }
        }
        let result = self.ctx.execute(query).and_then(|lf| lf.collect());
        let result = result.map(|df| count_star_named(df, query));
        result.map_err(|e| {
            let mut message = readable(&e.to_string());
            if message.contains("statement type is not supported") {
                message = "windowpane's SQL runs SELECT statements (with WITH, UNION, ORDER BY, LIMIT ...) and \
                           DESCRIBE view; .tables lists the views"
                    .into();
            } else if message.contains("unable to find column") && query.contains('"') {
                message.push_str(
                    " (double quotes name a column, as in standard SQL: write a string in single quotes, 'Open')",
                );
            } else if message.contains("named 'window'") {
                // Spark's window struct, as the exercise's queries use it
                message.push_str(
                    " (where Spark has the struct window.start and window.end, the views have the columns \
                     window_start and window_end)",
                );
            }
            let unknown: Vec<&String> = tables
                .iter()
                .filter(|t| view_of(t).is_none() && !self.ctx.get_tables().contains(t))
                .collect();
            if !unknown.is_empty() {
                let names: Vec<&str> = VIEWS.iter().map(|v| v.name).collect();
                message.push_str(&format!(" (the views are {})", names.join(", ")));
            }
            fail(message).into()
        })
    }

    /// The columns and types of a view, as `name type` pairs: known
    /// without building it.
    pub fn schema(&mut self, view: &View) -> Result<Vec<(String, String)>> {
        let empty = match view.name {
            "events" => {
                return Ok(vec![
                    ("time".into(), "datetime[ms]".into()),
                    ("action".into(), "str".into()),
                ])
            }
            "rejected" => rejected_frame(&[])?,
            "triggers" => triggers_frame(&[])?,
            name => figure_frame(&Figures::default(), name)?,
        };
        Ok(empty
            .columns()
            .iter()
            .map(|c| (c.name().to_string(), c.dtype().to_string()))
            .collect())
    }
}

/// The name of the scan's first column, a column of nulls that only
/// carries the table's height and that the view does not show: Polars
/// reads the first of the smallest columns for a count, and this one
/// costs nothing to make (the others need the state decoded).
const HEIGHT_ONLY: &str = "__rows";

/// The `minute_counts` view as a scan: the minute table is read from the
/// state only when a query needs its rows, and only the columns it reads
/// are built (a count needs none).
struct MinuteScan {
    figures: Arc<Figures>,
    schema: SchemaRef,
}

impl AnonymousScan for MinuteScan {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn schema(&self, _: Option<usize>) -> PolarsResult<SchemaRef> {
        Ok(self.schema.clone())
    }

    fn allows_projection_pushdown(&self) -> bool {
        true
    }

    fn scan(&self, args: AnonymousScanArgs) -> PolarsResult<DataFrame> {
        let names: Vec<&str> = match &args.with_columns {
            Some(columns) => columns.iter().map(|c| c.as_str()).collect(),
            None => self.schema.iter_names().map(|c| c.as_str()).collect(),
        };
        let height = self.figures.minute_len();
        let shown: Vec<&str> = names.iter().copied().filter(|&n| n != HEIGHT_ONLY).collect();
        let mut frame = if shown.is_empty() {
            DataFrame::empty_with_height(height)
        } else {
            minute_columns(self.figures.minute_counts(), &shown)?
        };
        if let Some(at) = names.iter().position(|&n| n == HEIGHT_ONLY) {
            let nulls = Column::full_null(HEIGHT_ONLY.into(), height, &DataType::Null);
            frame.insert_column(at, nulls)?;
        }
        // a LIMIT pushed down to the scan: the scan must honour it
        Ok(match args.n_rows {
            Some(n) if n < frame.height() => frame.head(Some(n)),
            _ => frame,
        })
    }
}

/// The `triggers` frame: a stream's committed triggers, the columns of
/// `tables/triggers.csv`.
pub fn triggers_frame(rows: &[TriggerRow]) -> PolarsResult<DataFrame> {
    let col_u64 =
        |name: &str, f: fn(&TriggerRow) -> u64| Column::new(name.into(), rows.iter().map(f).collect::<Vec<u64>>());
    DataFrame::new_infer_height(vec![
        col_u64("trigger", |r| r.trigger),
        col_u64("files", |r| r.files),
        col_u64("events", |r| r.events),
        col_u64("rejected", |r| r.rejected),
        col_u64("state_rows", |r| r.state_rows),
        Column::new(
            "variance".into(),
            rows.iter().map(|r| r.variance).collect::<Vec<Option<f64>>>(),
        ),
        col_u64("new_alerts", |r| r.new_alerts),
        Column::new(
            "duration_ms".into(),
            rows.iter().map(|r| r.duration_ms).collect::<Vec<f64>>(),
        ),
    ])
}

/// The engine's table functions that read any file on disk
/// (`read_csv('/etc/passwd')`): the SQL surface is the views, so a query
/// that calls one is refused, before any path is looked at.
const FILE_FUNCTIONS: [&str; 4] = ["read_csv", "read_parquet", "read_ipc", "read_json"];

/// The file-reading table function a query calls, if any: its name in any
/// case, bare or quoted (`"read_csv"`, `` `read_csv` ``), before `(` with
/// white space or comments between; string literals are not looked in.
fn file_function(query: &str) -> Option<&'static str> {
    let mut code = String::new();
    let mut chars = query.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                for d in chars.by_ref() {
                    if d == '\'' {
                        break;
                    }
                }
                code.push(' ');
            }
            '-' if chars.peek() == Some(&'-') => {
                for d in chars.by_ref() {
                    if d == '\n' {
                        break;
                    }
                }
                code.push(' ');
            }
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                let mut prev = ' ';
                for d in chars.by_ref() {
                    if prev == '*' && d == '/' {
                        break;
                    }
                    prev = d;
                }
                code.push(' ');
            }
            // a quoted name is the name
            '"' | '`' | '[' | ']' => {}
            c => code.push(c.to_ascii_lowercase()),
        }
    }
    FILE_FUNCTIONS.into_iter().find(|f| {
        code.match_indices(f).any(|(at, _)| {
            let before = code[..at].chars().last();
            let after = code[at + f.len()..].trim_start().chars().next();
            !before.is_some_and(|c| c.is_alphanumeric() || c == '_') && after == Some('(')
        })
    })
}

/// An engine message without the syntax-tree dumps some messages carry:
/// lines longer than a person reads are cut short.
fn readable(message: &str) -> String {
    const MAX: usize = 160;
    let lines: Vec<String> = message
        .trim_end()
        .lines()
        .map(|l| {
            if l.chars().count() > MAX {
                format!("{}… (cut)", l.chars().take(MAX).collect::<String>())
            } else {
                l.to_string()
            }
        })
        .collect();
    lines.join("\n")
}

fn register(ctx: &SQLContext, name: &'static str, frame: DataFrame) {
    register_lazy(ctx, name, frame.lazy());
}

fn register_lazy(ctx: &SQLContext, name: &'static str, lf: LazyFrame) {
    if let Some(view) = view_of(name) {
        for alias in view.aliases {
            ctx.register(alias, lf.clone());
        }
    }
    ctx.register(name, lf);
}

/// Splits a script into the statements ended by `;` (outside quotes and
/// comments) and the text after the last one.
fn scan(script: &str) -> (Vec<String>, String) {
    let mut done = Vec::new();
    let mut current = String::new();
    let mut chars = script.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' | '"' => {
                current.push(c);
                for d in chars.by_ref() {
                    current.push(d);
                    if d == c {
                        break;
                    }
                }
            }
            '-' if chars.peek() == Some(&'-') => {
                current.push(c);
                for d in chars.by_ref() {
                    current.push(d);
                    if d == '\n' {
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                current.push(c);
                let mut prev = ' ';
                for d in chars.by_ref() {
                    current.push(d);
                    if prev == '*' && d == '/' {
                        break;
                    }
                    prev = d;
                }
            }
            ';' => done.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    (done, current)
}

/// Splits a script into statements at `;`, outside quotes and comments;
/// the last one needs no `;`. Empty statements are dropped; comments are
/// kept in the text.
pub fn split_statements(script: &str) -> Vec<String> {
    let (mut statements, rest) = scan(script);
    statements.push(rest);
    statements
        .into_iter()
        .filter(|s| has_code(s))
        .map(|s| s.trim().to_string())
        .collect()
}

/// True when `text` ends a statement: what follows its last `;` is only
/// white space and comments (as a prompt decides whether to run or to
/// read another line).
pub fn is_complete(text: &str) -> bool {
    let (statements, rest) = scan(text);
    !has_code(&rest) && statements.iter().any(|s| has_code(s))
}

/// True when `text` holds more than white space and `--` comments.
fn has_code(text: &str) -> bool {
    text.lines().any(|l| {
        let l = l.trim();
        !l.is_empty() && !l.starts_with("--")
    })
}

/// The result of `query` with an unnamed `count(*)` column called
/// `count`, as in PostgreSQL (Polars calls it `len`): only when the query
/// counts rows with `count(*)`, names nothing `len` itself, and the result
/// has no `count` column already.
fn count_star_named(mut df: DataFrame, query: &str) -> DataFrame {
    let lower = query.to_lowercase();
    let counts = lower.contains("count(*)") || lower.contains("count( * )");
    let names_len = lower
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .any(|w| w == "len");
    let has = |name: &str| df.get_column_names().iter().any(|n| n.as_str() == name);
    if counts && !names_len && has("len") && !has("count") {
        let _ = df.rename("len", "count".into());
    }
    df
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn count_star_is_named_count_unless_that_would_clash() {
        let frame = |names: &[&str]| {
            DataFrame::new_infer_height(names.iter().map(|n| Column::new((*n).into(), [1i64])).collect()).unwrap()
        };
        let names = |df: DataFrame| df.get_column_names().iter().map(|n| n.to_string()).collect::<Vec<_>>();
        assert_eq!(
            names(count_star_named(frame(&["len"]), "select count(*) from t")),
            ["count"]
        );
        // a column the query names len, or a count column already there
        assert_eq!(
            names(count_star_named(frame(&["len"]), "select count(*) as len from t")),
            ["len"]
        );
        assert_eq!(
            names(count_star_named(
                frame(&["len", "count"]),
                "select count(*), count from t"
            )),
            ["len", "count"]
        );
        assert_eq!(names(count_star_named(frame(&["len"]), "select len from t")), ["len"]);
    }

    #[test]
    fn file_reading_functions_are_found_outside_quotes_only() {
        assert_eq!(file_function("select * from read_csv('/etc/passwd')"), Some("read_csv"));
        assert_eq!(file_function("SELECT * FROM READ_PARQUET ('x')"), Some("read_parquet"));
        assert_eq!(file_function("select 'read_csv(x)' as s from totals"), None);
        assert_eq!(
            file_function("select my_read_json(1) from totals -- read_ipc('x')"),
            None
        );
        assert_eq!(file_function("select * from totals"), None);
        assert_eq!(
            file_function("select * from read_csv/**/('/etc/passwd')"),
            Some("read_csv")
        );
        assert_eq!(
            file_function("select * from \"read_csv\"('/etc/passwd')"),
            Some("read_csv")
        );
        assert_eq!(
            file_function("select * from `read_json` ('/etc/passwd')"),
            Some("read_json")
        );
    }

    #[test]
    fn statements_split_outside_quotes_and_comments() {
        let script = "select 1; -- a comment; still a comment\nselect 'a;b' as x;\n\n/* c; d */ select 2 ;  -- end\n";
        assert_eq!(
            split_statements(script),
            vec![
                "select 1".to_string(),
                "-- a comment; still a comment\nselect 'a;b' as x".to_string(),
                "/* c; d */ select 2".to_string(),
            ]
        );
        assert!(split_statements("  -- only a comment\n ; ;").is_empty());
    }

    #[test]
    fn a_statement_is_complete_at_its_semicolon() {
        assert!(!is_complete("select 1"));
        assert!(!is_complete("select ';'"));
        assert!(is_complete("select 1\n from t; -- done\n"));
        assert!(!is_complete("select 1; select"));
        assert!(!is_complete(";"));
    }

    #[test]
    fn the_events_schema_told_before_reading_is_the_one_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("e.json");
        std::fs::write(&path, "{\"time\": 1469501107, \"action\": \"Open\"}\nbad\n").unwrap();
        let files = vec![InputFile {
            path,
            name: "e.json".into(),
            limit: None,
        }];
        let mut session = Session::new(Figures::default(), Vec::new(), files).unwrap();
        let events = &VIEWS[0];
        let told = session.schema(events).unwrap();
        let df = session.query("select * from events").unwrap();
        assert_eq!(df.height(), 1);
        assert_eq!(session.schema(events).unwrap(), told);
    }

    #[test]
    fn aliases_find_their_views() {
        assert_eq!(view_of("static_counts_hourly").map(|v| v.name), Some("hourly_counts"));
        assert_eq!(view_of("COUNTS").map(|v| v.name), Some("minute_counts"));
        assert_eq!(view_of("static_mean").map(|v| v.name), Some("hourly_average"));
        assert!(view_of("nothing").is_none());
    }
}
