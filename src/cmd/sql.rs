//! `windowpane sql`: SQL queries over the figures of an events folder.

use std::collections::HashMap;
use std::fs::File;
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use rustyline::completion::{Completer, FilenameCompleter, Pair};

use super::args::{parse_duration, FigureArgs};
use crate::engine::stream::Stream;
use crate::metrics;
use crate::output::frame::{self, FrameFormat, Place};
use crate::source::{self, FileOrder};
use crate::sql::{self, Session, VIEWS};
use crate::text::{printable, printable_lines, thousands};

/// Run SQL over the figures of a folder of NDJSON events.
///
/// Reads INPUT as `batch` does and registers every figure as a view of a
/// Polars SQL context:
///
///   events          time, action (one row per valid event)
///   minute_counts   action, window_start, window_end, count
///   hourly_counts   action, window_start, window_end, count
///   totals          action, total_count
///   hourly_average  window_start, window_end, average
///   moving_average  action, window_start, count, moving_average, moving_variance
///   alerts          window_start, window_end, open, close, difference
///   rejected        file, line, reason, text (the lines that are not events)
///
/// The exercise's names work too: static_input (events), counts and
/// static_counts (minute_counts), static_counts_hourly (hourly_counts),
/// static_mean (hourly_average). A window is two columns, window_start and
/// window_end (UTC): write the exercise's `window.start` as `window_start`.
///
/// INPUT is read as `batch` reads it: folders (searched recursively),
/// files, patterns, - for standard input; several may be given.
///
/// The query is the last argument, or the statements of -f FILE, or of
/// standard input when it is not a terminal (and not the input). Without
/// any, on a terminal, an interactive prompt opens (statements end with `;`,
/// Tab completes view and column names, history is kept, .help lists its
/// commands: .timer, .maxrows, .read, .output, ...). A single argument that
/// names an existing
/// folder or file is the INPUT; otherwise it is the query.
///
/// Several statements print one result after the other; with --format json
/// they print one JSON array with an object per statement,
/// {"statement": "...", "rows": [...]} (a single statement prints its
/// array of rows alone), and with --format ndjson one line per row.
///
/// Examples:
///   windowpane sql "select action, sum(count) as total from counts group by action"
///   windowpane sql data/events -f examples/queries.sql --format csv
///   windowpane sql        (a prompt; .tables lists the views)
///
/// Exit status: 0 on success, 1 when the input cannot be read, 2 when a
/// query fails (its message and the query are printed) or on a usage error.
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// Inputs as for `batch` [default: data/events], then the SQL query (one
    /// or more statements separated by `;`). The last argument is the query
    /// unless it names an existing path, is -, or a pattern that matches.
    #[arg(value_name = "INPUT... QUERY")]
    pub positional: Vec<String>,
    /// Read the statements from this file instead.
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// How to print results: a table, CSV, JSON (an array of row objects) or
    /// NDJSON (one row object per line).
    #[arg(long, value_enum, default_value_t = FrameFormat::Table)]
    pub format: FrameFormat,
    /// Rows a table shows at most, half from the start and half from the end
    /// (0: all) [default: 40; at the prompt, as many as fit the terminal
    /// with the table's header, up to 40].
    #[arg(long, value_name = "N")]
    pub max_rows: Option<usize>,
    /// The order in which files are taken.
    #[arg(long, value_enum, default_value_t = FileOrder::Name)]
    pub order: FileOrder,
    #[command(flatten)]
    pub figures: FigureArgs,
    #[command(flatten)]
    pub read: source::ReadArgs,
    /// Scan on a Spark cluster through Spark Connect, as `batch --spark`:
    /// sc://HOST:PORT, optionally followed by /;token=…;use_ssl=true. The
    /// cluster reads INPUT; the views of the figures are complete, but
    /// `events` and `rejected` are empty (the lines stay on the cluster).
    #[arg(long, value_name = "URL")]
    pub spark: Option<String>,
    /// Query what a stream or update has committed in this checkpoint
    /// folder, instead of reading INPUT: every view of its state as of its
    /// last commit (named on the first line), while it runs or not. The
    /// arguments are then only the query.
    #[arg(long, value_name = "DIR", conflicts_with = "spark")]
    pub checkpoint: Option<PathBuf>,
    /// With --checkpoint: run the statements again every DURATION ("5s",
    /// "1m") over the latest commit, until Ctrl-C or --times.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, requires = "checkpoint")]
    pub every: Option<Duration>,
    /// With --every: stop after N runs.
    #[arg(long, value_name = "N", requires = "every", value_parser = clap::value_parser!(u64).range(1..))]
    pub times: Option<u64>,
    /// Print only the rows a statement has not printed before: in an
    /// earlier run of --every, or, with --seen, in an earlier command.
    #[arg(long)]
    pub new_rows: bool,
    /// With --new-rows: the file that remembers the rows printed, so that
    /// the next command prints only rows that are new since (created when
    /// missing).
    #[arg(long, value_name = "FILE", requires = "new_rows")]
    pub seen: Option<PathBuf>,
}

/// True when a positional argument names an input rather than a query.
fn names_input(arg: &str) -> bool {
    arg == source::STDIN
        || Path::new(arg).exists()
        || (!arg.contains(char::is_whitespace)
            && arg.contains(['*', '?', '['])
            && source::Inputs::from_args(&[arg]).list_files(FileOrder::Name).is_ok())
}

/// Where the statements come from.
enum Statements {
    Script(String),
    Prompt,
}

impl Args {
    /// The inputs and the statements, from the positional arguments.
    fn resolve(&self) -> Result<(Vec<String>, Statements)> {
        let mut inputs = self.positional.clone();
        let query = match inputs.last() {
            Some(_) if self.checkpoint.is_some() && self.file.is_none() => inputs.pop(),
            Some(last) if self.file.is_none() && !names_input(last) => inputs.pop(),
            _ => None,
        };
        if self.checkpoint.is_some() && !inputs.is_empty() {
            anyhow::bail!(
                "with --checkpoint the views are the checkpoint's: give no INPUT ({} too many arguments), only the query",
                inputs.len()
            );
        }
        if query.is_some() && self.file.is_some() {
            anyhow::bail!("give the statements either as the last argument or with -f FILE, not both");
        }
        if inputs.is_empty() && self.checkpoint.is_none() {
            inputs.push("data/events".into());
        }
        let stdin_is_input = inputs.iter().any(|i| i == source::STDIN);
        let statements = match (query, &self.file) {
            (Some(q), _) => Statements::Script(q),
            (None, Some(file)) => Statements::Script(
                std::fs::read_to_string(file)
                    .with_context(|| format!("cannot read the SQL file {}", file.display()))?,
            ),
            (None, None) if stdin_is_input => anyhow::bail!(
                "standard input (-) is the input here, so the statements cannot come from it too: give the query as the last argument or with -f FILE"
            ),
            (None, None) if std::io::stdin().is_terminal() => Statements::Prompt,
            (None, None) => {
                let mut text = String::new();
                std::io::stdin()
                    .read_to_string(&mut text)
                    .context("cannot read the statements from standard input")?;
                Statements::Script(text)
            }
        };
        Ok((inputs, statements))
    }
}

/// Rows a table shows when `--max-rows` is not given.
const DEFAULT_ROWS: usize = 40;

impl Args {
    /// Rows a printed table shows at most.
    fn rows(&self) -> usize {
        self.max_rows.unwrap_or(DEFAULT_ROWS)
    }

    /// Rows a table shows at the prompt: `--max-rows`, else as many as
    /// fit the terminal with the table's borders, header and row count
    /// and the next prompt (seven lines), from 4 up to 40.
    fn prompt_rows(&self) -> usize {
        self.max_rows
            .unwrap_or_else(|| match ratatui::crossterm::terminal::size() {
                Ok((_, height)) if height > 0 => usize::from(height).saturating_sub(8).clamp(4, DEFAULT_ROWS),
                _ => DEFAULT_ROWS,
            })
    }
}

/// Runs the command.
pub fn run(args: &Args) -> Result<()> {
    let (mut arguments, statements) = args.resolve()?;
    let mut seen = Seen::open(args)?;
    if let Some(dir) = &args.checkpoint {
        return run_checkpoint(args, dir, statements, &mut seen);
    }
    if let Some(url) = &args.spark {
        let inputs: Vec<PathBuf> = arguments.iter().map(PathBuf::from).collect();
        let scan = source::spark::read(url, &inputs, &args.read.options(false))?;
        eprintln!(
            "windowpane: the scan ran on {}: the views `events` and `rejected` are empty (the lines stay on the cluster); every other view is complete",
            crate::source::spark::display_url(url)
        );
        let figures = metrics::compute(&scan.batch.counts, &args.figures.options())
            .with_context(|| format!("cannot compute the figures of {}", arguments.join(" ")))?;
        let mut session = Session::new(figures, Vec::new(), Vec::new())?.with_read(&args.read.options(false));
        let input = PathBuf::from(arguments.join(" "));
        return match statements {
            Statements::Script(text) => run_script(&mut session, &text, args.format, args.rows(), &mut seen),
            Statements::Prompt => {
                Prompt::new(args.format, args.prompt_rows()).run(&mut session, &input, scan.batch.counts.events())
            }
        };
    }
    // the events view reads the files again: standard input is kept in a
    // temporary file for it, removed when the session ends
    let spool = match arguments.iter().position(|a| a == source::STDIN) {
        Some(i) => {
            let spool = source::Spool::stdin()?;
            arguments[i] = spool.path().display().to_string();
            Some(spool)
        }
        None => None,
    };
    let inputs = source::Inputs::from_args(&arguments);
    let input = PathBuf::from(inputs.display());
    let mut batch = source::read_inputs(&inputs, args.order, &args.read.options(false), None)?;
    if let Some(spool) = &spool {
        spool.rename_in(&mut batch.rejected);
    }
    if !batch.rejected.is_empty() {
        eprintln!(
            "windowpane: {} of {} lines of {} are not valid events: they are in the view `rejected`, not in the figures",
            thousands(batch.rejected.len() as i64),
            thousands(batch.lines as i64),
            printable(&input.display().to_string())
        );
    }
    let figures = metrics::compute(&batch.counts, &args.figures.options())
        .with_context(|| format!("cannot compute the figures of {}", input.display()))?;
    let files = inputs.list_files(args.order)?.files;
    let events = batch.counts.events();
    let mut session = Session::new(figures, batch.rejected, files)?.with_read(&args.read.options(false));
    match statements {
        Statements::Script(text) => run_script(&mut session, &text, args.format, args.rows(), &mut seen),
        Statements::Prompt => Prompt::new(args.format, args.prompt_rows()).run(&mut session, &input, events),
    }
}

/// A checkpoint's state as a session, and the line that says which commit
/// it is.
fn checkpoint_session(args: &Args, dir: &Path) -> Result<(Session, String, u64)> {
    let stream = Stream::read_committed(dir, args.figures.options())?;
    let when = stream.committed_at().map(|t| {
        chrono::DateTime::<chrono::Utc>::from(t)
            .format("%Y-%m-%d %H:%M:%S UTC")
            .to_string()
    });
    let heading = match (stream.commit(), when) {
        (0, _) => format!("-- {}: no trigger committed yet", printable(&dir.display().to_string())),
        (n, Some(when)) => format!(
            "-- {} at trigger {n}, committed {when} ({} events)",
            printable(&dir.display().to_string()),
            thousands(stream.events() as i64)
        ),
        (n, None) => format!("-- {} at trigger {n}", printable(&dir.display().to_string())),
    };
    let events = stream.events();
    let figures = stream
        .figures()
        .with_context(|| format!("cannot compute the figures of {}", dir.display()))?;
    let session = Session::of_stream(figures, stream.rejected()?, stream.triggers().to_vec());
    Ok((session, heading, events))
}

/// `sql --checkpoint`: the statements over the latest commit, once or
/// every --every.
fn run_checkpoint(args: &Args, dir: &Path, statements: Statements, seen: &mut Seen) -> Result<()> {
    let text = match statements {
        Statements::Script(text) => text,
        Statements::Prompt => {
            if args.every.is_some() || args.new_rows {
                anyhow::bail!(
                    "--every and --new-rows run statements given as an argument or with -f FILE; \
                     in the prompt, .refresh moves to the latest commit"
                );
            }
            let (mut session, heading, events) = checkpoint_session(args, dir)?;
            println!("{heading}");
            let reload = |session: &mut Session| -> Result<String> {
                let (new, heading, _) = checkpoint_session(args, dir)?;
                *session = new;
                Ok(heading)
            };
            return Prompt::new(args.format, args.prompt_rows())
                .with_reload(&reload)
                .run(&mut session, dir, events);
        }
    };
    let mut run = 0u64;
    loop {
        match checkpoint_session(args, dir) {
            Ok((mut session, heading, _)) => {
                // the heading is a line of the table output, and beside CSV
                // or JSON it goes to standard error, so that standard output
                // stays parseable
                if args.format == FrameFormat::Table {
                    crate::text::print_stdout(&format!("{heading}\n"))?;
                } else {
                    eprintln!("{heading}");
                }
                run_script(&mut session, &text, args.format, args.rows(), seen)?;
            }
            // once running, a read that fails (a stream started over
            // meanwhile) is said and tried again at the next period
            Err(e) if run > 0 => eprintln!("windowpane: warning: {}", printable_lines(&format!("{e:#}"))),
            Err(e) => return Err(e),
        }
        run += 1;
        match args.every {
            Some(every) if args.times.is_none_or(|t| run < t) && !crate::text::stdout_closed() => {
                std::thread::sleep(every)
            }
            _ => return Ok(()),
        }
        if args.format == FrameFormat::Table {
            crate::text::print_stdout("\n")?;
        }
    }
}

/// The rows printed before, for --new-rows: for each statement (by its
/// place in the script and its text) and row (the text of its values), how
/// many times it was printed, so that a result's equal rows are each new
/// once; kept in --seen FILE between commands.
struct Seen {
    on: bool,
    file: Option<PathBuf>,
    rows: HashMap<String, usize>,
}

impl Seen {
    fn open(args: &Args) -> Result<Seen> {
        let mut rows = HashMap::new();
        if let Some(file) = &args.seen {
            match std::fs::read_to_string(file) {
                Ok(text) => {
                    for line in text.lines().filter(|l| !l.is_empty()) {
                        let (key, n): (String, usize) = serde_json::from_str(line).with_context(|| {
                            format!(
                                "{} is not a --seen file windowpane wrote (a JSON [row, times] per line)",
                                file.display()
                            )
                        })?;
                        rows.insert(key, n);
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e).with_context(|| format!("cannot read {}", file.display())),
            }
        }
        Ok(Seen {
            on: args.new_rows,
            file: args.seen.clone(),
            rows,
        })
    }

    /// The rows of `df`, the result of statement number `index`, that were
    /// not printed before, now remembered as printed.
    fn new_rows(
        &mut self,
        index: usize,
        statement: &str,
        df: polars::prelude::DataFrame,
    ) -> Result<polars::prelude::DataFrame> {
        if !self.on {
            return Ok(df);
        }
        let mut counts: HashMap<String, usize> = HashMap::new();
        let mut keep = Vec::with_capacity(df.height());
        for i in 0..df.height() {
            let row = df.get_row(i).context("cannot read a row of the result")?;
            let values: Vec<String> = row.0.iter().map(|v| format!("{v:?}")).collect();
            let key = serde_json::to_string(&(index, statement.trim(), values))?;
            let n = counts.entry(key.clone()).or_default();
            *n += 1;
            let before = self.rows.get(&key).copied().unwrap_or(0);
            keep.push(*n > before);
        }
        for (key, n) in counts {
            let seen = self.rows.entry(key).or_default();
            *seen = (*seen).max(n);
        }
        let mask: polars::prelude::BooleanChunked = keep.into_iter().collect();
        Ok(df.filter(&mask)?)
    }

    /// Saves what was printed in the --seen file: written under a new
    /// name beside it and renamed over it.
    fn save(&self) -> Result<()> {
        let Some(file) = &self.file else { return Ok(()) };
        let mut keys: Vec<(&String, &usize)> = self.rows.iter().collect();
        keys.sort();
        let mut text = String::new();
        for k in keys {
            text.push_str(&serde_json::to_string(&k)?);
            text.push('\n');
        }
        let dir = match file.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let write = || -> std::io::Result<()> {
            let mut aside = tempfile::NamedTempFile::new_in(dir)?;
            aside.write_all(text.as_bytes())?;
            aside.persist(file).map_err(|e| e.error)?;
            Ok(())
        };
        write().with_context(|| format!("cannot write {}", file.display()))
    }
}

/// Text for standard output: a CSV result is written as it is to a file or
/// a pipe, but shown with control characters escaped on a terminal.
fn for_stdout(text: String, format: FrameFormat) -> String {
    if format == FrameFormat::Csv && std::io::stdout().is_terminal() {
        printable_lines(&text).into_owned()
    } else {
        text
    }
}

fn run_script(session: &mut Session, text: &str, format: FrameFormat, max_rows: usize, seen: &mut Seen) -> Result<()> {
    let statements = sql::split_statements(text);
    if statements.is_empty() {
        return Err(crate::model::UsageError(
            "no SQL statement given: pass a query, -f FILE, or statements on standard input".into(),
        )
        .into());
    }
    if format == FrameFormat::Json && statements.len() > 1 {
        // one JSON document: each statement with its rows; the statements
        // stop at the first that fails, which is in the document with its
        // error, so that the output is valid JSON either way
        #[derive(serde::Serialize)]
        struct Outcome<'a> {
            statement: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            rows: Option<Vec<frame::Row>>,
            #[serde(skip_serializing_if = "Option::is_none")]
            error: Option<String>,
        }
        let mut results = Vec::with_capacity(statements.len());
        let mut failed = None;
        for (i, statement) in statements.iter().enumerate() {
            match session.query(statement) {
                Ok(df) => {
                    let df = seen.new_rows(i, statement, df)?;
                    let rows = frame::json_rows(&df).context("cannot print the result")?;
                    results.push(Outcome {
                        statement,
                        rows: Some(rows),
                        error: None,
                    });
                }
                Err(e) => {
                    let message = match e.downcast_ref::<sql::QueryError>() {
                        Some(q) => q.message.clone(),
                        None => format!("{e:#}"),
                    };
                    results.push(Outcome {
                        statement,
                        rows: None,
                        error: Some(message),
                    });
                    failed = Some(e);
                    break;
                }
            }
        }
        let mut out = serde_json::to_string_pretty(&results).context("cannot print the result")?;
        out.push('\n');
        crate::text::print_stdout(&out)?;
        seen.save()?;
        return match failed {
            Some(e) => Err(e),
            None => Ok(()),
        };
    }
    for (i, statement) in statements.iter().enumerate() {
        let df = seen.new_rows(i, statement, session.query(statement)?)?;
        let mut out = frame::render(&df, format, max_rows).context("cannot print the result")?;
        if i + 1 < statements.len() && format == FrameFormat::Table {
            out.push('\n');
        }
        crate::text::print_stdout(&for_stdout(out, format))?;
        // what was printed is remembered at once: a later statement that
        // fails does not make these rows new again
        seen.save()?;
    }
    Ok(())
}

const PROMPT_HELP: &str = "\
Statements end with `;` and may span lines; Tab completes view and column
names and the commands. Commands:
  .tables                 the views, their other names and columns
  .schema [VIEW]          the columns and types of a view (DESCRIBE VIEW), or of all
  .format table|csv|json|ndjson  how results are printed (.mode is the same)
  .headers on|off         the header line of CSV results
  .maxrows N              rows a table shows at most (0: all)
  .timer on|off           print how long each statement takes
  .read FILE              run the statements of FILE
  .output FILE            write results to FILE (replaced); .output alone: back to the screen
  .refresh                over --checkpoint: move to the latest commit
  .help                   this text
  .quit                   leave (or Ctrl-D); Ctrl-C drops the statement being typed";

/// The prompt's commands, for Tab completion.
const DOT_COMMANDS: &[&str] = &[
    ".tables", ".schema", ".format", ".mode", ".headers", ".maxrows", ".timer", ".read", ".output", ".refresh",
    ".help", ".quit",
];

/// Saves the prompt's history, if it has a file; a failure is not worth
/// stopping for.
fn save_history(editor: &mut rustyline::Editor<Helper, rustyline::history::DefaultHistory>, file: Option<&Path>) {
    if let Some(h) = file {
        if let Some(dir) = h.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let _ = editor.save_history(h);
    }
}

/// Where the prompt keeps its history: `$XDG_STATE_HOME/windowpane/` or
/// `~/.local/state/windowpane/`.
fn history_path() -> Option<PathBuf> {
    let state = std::env::var_os("XDG_STATE_HOME")
        .filter(|s| !s.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))?;
    Some(state.join("windowpane").join("sql_history"))
}

fn describe_views(session: &mut Session, width: usize) -> Result<String> {
    let mut out = String::new();
    for view in VIEWS {
        let columns = session.schema(view)?;
        let cols: Vec<String> = columns.iter().map(|(n, t)| format!("{n} {t}")).collect();
        let aliases = if view.aliases.is_empty() {
            String::new()
        } else {
            format!(" (also {})", view.aliases.join(", "))
        };
        // what it holds, without the column list the next lines give
        let about = view.about.split_once(": ").map_or(view.about, |(what, _)| what);
        out.push_str(&wrapped(&format!("{}{aliases}: {about}", view.name), width, ""));
        out.push_str(&wrapped(&cols.join(", "), width, "    "));
    }
    Ok(out)
}

/// `text` broken into lines of at most `width` columns between words, each
/// after `indent`.
fn wrapped(text: &str, width: usize, indent: &str) -> String {
    let mut out = String::new();
    let mut line = String::from(indent);
    for word in text.split(' ') {
        if line.len() > indent.len() && line.chars().count() + 1 + word.chars().count() > width {
            out.push_str(line.trim_end());
            out.push('\n');
            line = String::from(indent);
        }
        if line.len() > indent.len() {
            line.push(' ');
        }
        line.push_str(word);
    }
    out.push_str(&line);
    out.push('\n');
    out
}

/// The terminal's width in columns, 80 when it cannot be told.
fn terminal_width() -> usize {
    match ratatui::crossterm::terminal::size() {
        Ok((width, _)) if width > 0 => usize::from(width),
        _ => 80,
    }
}

/// The views and their other names, for Tab after `from` and `join`.
fn view_names() -> Vec<String> {
    let mut names: Vec<String> = VIEWS
        .iter()
        .flat_map(|v| std::iter::once(v.name).chain(v.aliases.iter().copied()))
        .map(str::to_string)
        .collect();
    names.sort();
    names
}

/// The words Tab completes: the views and their other names, their
/// columns, and the SQL keywords most queries need.
fn completion_words(session: &mut Session) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    for view in VIEWS {
        words.push(view.name.to_string());
        words.extend(view.aliases.iter().map(|a| a.to_string()));
        if let Ok(columns) = session.schema(view) {
            words.extend(columns.into_iter().map(|(name, _)| name));
        }
    }
    words.extend(
        [
            "select",
            "from",
            "where",
            "group",
            "by",
            "order",
            "having",
            "limit",
            "as",
            "and",
            "or",
            "not",
            "count",
            "sum",
            "avg",
            "min",
            "max",
            "variance",
            "desc",
            "asc",
            "distinct",
            "join",
            "on",
            "over",
            "partition",
            "row_number",
        ]
        .iter()
        .map(|w| w.to_string()),
    );
    words.sort();
    words.dedup();
    words
}

/// Tab completion in the prompt: commands at the start of a line, file
/// names after `.read` and `.output`, view names after `from` and `join`,
/// else view, column and keyword names.
struct Helper {
    views: Vec<String>,
    words: Vec<String>,
    files: FilenameCompleter,
}

/// The start of the word that ends at `pos`: letters, digits and `_`.
fn word_start(line: &str, pos: usize) -> usize {
    line[..pos]
        .char_indices()
        .rev()
        .find(|(_, c)| !(c.is_alphanumeric() || *c == '_'))
        .map_or(0, |(i, c)| i + c.len_utf8())
}

impl Helper {
    fn candidates(&self, line: &str, pos: usize) -> (usize, Vec<Pair>) {
        let pair = |w: &str| Pair {
            display: w.to_string(),
            replacement: w.to_string(),
        };
        let typed = &line[..pos];
        let trimmed = typed.trim_start();
        if trimmed.starts_with('.') && !trimmed.contains(char::is_whitespace) {
            let start = pos - trimmed.len();
            let found = DOT_COMMANDS
                .iter()
                .filter(|c| c.starts_with(trimmed))
                .map(|c| pair(c))
                .collect();
            return (start, found);
        }
        if trimmed.starts_with(".read ") || trimmed.starts_with(".output ") {
            return self.files.complete_path(line, pos).unwrap_or((pos, Vec::new()));
        }
        let start = word_start(line, pos);
        let prefix = line[start..pos].to_lowercase();
        let before = line[..start].trim_end();
        let previous = &before[word_start(before, before.len())..];
        let after_from = previous.eq_ignore_ascii_case("from") || previous.eq_ignore_ascii_case("join");
        // nothing typed yet: after `from` or `join` the views are what can
        // come; elsewhere every word could, too many to list
        if prefix.is_empty() && !after_from {
            return (pos, Vec::new());
        }
        let names = if after_from { &self.views } else { &self.words };
        let found = names
            .iter()
            .filter(|w| w.to_lowercase().starts_with(&prefix))
            .map(|w| pair(w))
            .collect();
        (start, found)
    }
}

impl Completer for Helper {
    type Candidate = Pair;

    fn complete(&self, line: &str, pos: usize, _ctx: &rustyline::Context<'_>) -> rustyline::Result<(usize, Vec<Pair>)> {
        Ok(self.candidates(line, pos))
    }
}

impl rustyline::hint::Hinter for Helper {
    type Hint = String;
}
impl rustyline::highlight::Highlighter for Helper {}
impl rustyline::validate::Validator for Helper {}
impl rustyline::Helper for Helper {}

/// Where the prompt's results go: the screen, or a file given by `.output`.
enum Sink {
    Screen,
    File(File, PathBuf),
}

/// The prompt's settings and output.
/// Moves a session to a checkpoint's latest commit; says which it is.
type Reload<'a> = dyn Fn(&mut Session) -> Result<String> + 'a;

struct Prompt<'a> {
    format: FrameFormat,
    max_rows: usize,
    timer: bool,
    sink: Sink,
    /// Over a checkpoint: moves the session to the latest commit and says
    /// which it is (`.refresh`).
    reload: Option<&'a Reload<'a>>,
    /// Whether Ctrl-C interrupts a statement (on a terminal).
    interruptible: bool,
    /// Whether CSV results keep their header line.
    headers: bool,
}

impl<'a> Prompt<'a> {
    fn new(format: FrameFormat, max_rows: usize) -> Self {
        Prompt {
            format,
            max_rows,
            reload: None,
            timer: false,
            sink: Sink::Screen,
            interruptible: false,
            headers: true,
        }
    }

    /// Writes a result to the screen or the `.output` file.
    fn emit(&mut self, text: &str) {
        let text = match self.format == FrameFormat::Csv && !self.headers {
            true => text.split_once('\n').map_or("", |(_, rows)| rows),
            false => text,
        };
        match &mut self.sink {
            Sink::Screen => {
                let text = if self.format == FrameFormat::Csv {
                    printable_lines(text)
                } else {
                    text.into()
                };
                print!("{text}");
                let _ = std::io::stdout().flush();
            }
            Sink::File(file, path) => {
                if let Err(e) = file.write_all(text.as_bytes()) {
                    eprintln!(
                        "error: cannot write to {}: {e}; back to the screen",
                        printable(&path.display().to_string())
                    );
                    self.sink = Sink::Screen;
                    print!("{text}");
                }
            }
        }
    }

    /// Runs every statement of `text`, printing each result or error. On
    /// a terminal, Ctrl-C abandons the statement running (and those after
    /// it) and the prompt goes on.
    fn run_statements(&mut self, session: &mut Session, text: &str) {
        for statement in sql::split_statements(text) {
            let started = Instant::now();
            let Some(result) = self.query(session, &statement) else {
                eprintln!("interrupted: the statement was abandoned (and any after it); the views are built again when a query names them");
                return;
            };
            match result.and_then(|df| Ok(frame::render_in(&df, self.format, self.max_rows, Place::Prompt)?)) {
                Ok(out) => self.emit(&out),
                Err(e) => eprintln!("error: {}", printable_lines(&format!("{e:#}"))),
            }
            if self.timer {
                eprintln!("run time: {:.3} s", started.elapsed().as_secs_f64());
            }
        }
    }

    /// Runs one statement; none when Ctrl-C abandoned it. On a terminal
    /// the statement runs on a thread of its own with the session, and the
    /// prompt waits for its answer or for Ctrl-C: then the session goes on
    /// as a spare (the same figures, no view built), and the abandoned
    /// query ends on its own.
    fn query(&self, session: &mut Session, statement: &str) -> Option<Result<polars::prelude::DataFrame>> {
        if !self.interruptible {
            return Some(session.query(statement));
        }
        crate::signals::interrupted();
        let mut owned = std::mem::replace(session, session.spare());
        let statement = statement.to_string();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let result = owned.query(&statement);
            let _ = tx.send((owned, result));
        });
        loop {
            match rx.recv_timeout(Duration::from_millis(30)) {
                Ok((owned, result)) => {
                    *session = owned;
                    return Some(result);
                }
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                    if crate::signals::interrupted() {
                        return None;
                    }
                }
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                    return Some(Err(anyhow::anyhow!("the query stopped without an answer")))
                }
            }
        }
    }

    /// The same prompt over a checkpoint, which `.refresh` reloads.
    fn with_reload(mut self, reload: &'a Reload<'a>) -> Self {
        self.reload = Some(reload);
        self
    }

    /// Runs one dot command; false when it asks to leave.
    fn command(&mut self, session: &mut Session, line: &str) -> bool {
        let line = line.trim();
        let (name, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        let rest = rest.trim();
        match name {
            ".quit" | ".exit" | ".q" => return false,
            ".help" => println!("{PROMPT_HELP}"),
            ".refresh" => match self.reload {
                Some(reload) => match reload(session) {
                    Ok(heading) => println!("{heading}"),
                    Err(e) => eprintln!("error: {}", printable_lines(&format!("{e:#}"))),
                },
                None => eprintln!(
                    "error: .refresh moves to a checkpoint's latest commit: start the prompt with --checkpoint DIR"
                ),
            },
            ".tables" => match describe_views(session, terminal_width()) {
                Ok(text) => print!("{text}"),
                Err(e) => eprintln!("error: {e:#}"),
            },
            ".format" | ".mode" => match <FrameFormat as clap::ValueEnum>::from_str(rest, true) {
                Ok(f) => self.format = f,
                Err(_) => eprintln!("error: expected {name} table, csv, json or ndjson"),
            },
            ".headers" => match rest {
                "on" => self.headers = true,
                "off" => self.headers = false,
                _ => eprintln!("error: expected .headers on or .headers off"),
            },
            ".schema" if rest.is_empty() => self.run_statements(
                session,
                &VIEWS
                    .iter()
                    .map(|v| format!("describe {};", v.name))
                    .collect::<String>(),
            ),
            ".schema" => self.run_statements(session, &format!("describe {rest};")),
            ".maxrows" => match rest.parse() {
                Ok(n) => self.max_rows = n,
                Err(_) => eprintln!(
                    "error: expected .maxrows N, a whole number of rows (0 shows all); it is {}",
                    self.max_rows
                ),
            },
            ".timer" => match rest {
                "on" => self.timer = true,
                "off" => self.timer = false,
                _ => eprintln!("error: expected .timer on or .timer off"),
            },
            ".read" if !rest.is_empty() => match std::fs::read_to_string(rest) {
                Ok(text) => {
                    if sql::split_statements(&text).is_empty() {
                        eprintln!("error: {} holds no SQL statement", printable(rest));
                    }
                    self.run_statements(session, &text);
                }
                Err(e) => eprintln!("error: cannot read the SQL file {}: {e}", printable(rest)),
            },
            ".read" => eprintln!("error: expected .read FILE"),
            ".output" if rest.is_empty() => self.sink = Sink::Screen,
            ".output" => match File::create(rest) {
                Ok(f) => self.sink = Sink::File(f, PathBuf::from(rest)),
                Err(e) => eprintln!(
                    "error: cannot write to {}: {e}; results stay on the screen",
                    printable(rest)
                ),
            },
            other => eprintln!("error: unknown command {}; .help lists the commands", printable(other)),
        }
        true
    }

    fn run(mut self, session: &mut Session, input: &Path, events: u64) -> Result<()> {
        use rustyline::error::ReadlineError;
        // Tab completes what all candidates share, a second Tab lists them
        let config = rustyline::Config::builder()
            .completion_type(rustyline::CompletionType::List)
            .build();
        let mut editor: rustyline::Editor<Helper, rustyline::history::DefaultHistory> =
            rustyline::Editor::with_config(config).context("cannot open the interactive prompt")?;
        editor.set_helper(Some(Helper {
            views: view_names(),
            words: completion_words(session),
            files: FilenameCompleter::new(),
        }));
        let history = history_path();
        if let Some(h) = &history {
            let _ = editor.load_history(h);
        }
        println!(
            "windowpane sql over {} ({} events).\nEnd statements with `;`; Tab completes names; .help for help, .quit to leave.",
            printable(&input.display().to_string()),
            thousands(events as i64)
        );
        // Ctrl-C at the prompt clears the line (the editor reads it as a
        // key); while a statement runs, it abandons the statement
        crate::signals::catch_interrupts();
        self.interruptible = true;
        let mut buffer = String::new();
        loop {
            let line = match editor.readline(if buffer.is_empty() { "sql> " } else { " ..> " }) {
                Ok(line) => line,
                Err(ReadlineError::Interrupted) => {
                    buffer.clear();
                    continue;
                }
                Err(ReadlineError::Eof) => break,
                Err(e) => return Err(e).context("cannot read from the terminal"),
            };
            if buffer.is_empty() && line.trim_start().starts_with('.') {
                let _ = editor.add_history_entry(line.trim());
                if !self.command(session, &line) {
                    break;
                }
                continue;
            }
            buffer.push_str(&line);
            buffer.push('\n');
            if !sql::is_complete(&buffer) {
                continue;
            }
            let _ = editor.add_history_entry(buffer.trim());
            // saved before the statement runs: a session ended by a signal
            // (Ctrl-C during a long query) keeps its history
            save_history(&mut editor, history.as_deref());
            self.run_statements(session, &buffer);
            buffer.clear();
        }
        save_history(&mut editor, history.as_deref());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn helper() -> Helper {
        Helper {
            views: vec!["minute_counts".into(), "totals".into()],
            words: vec![
                "minute_counts".into(),
                "moving_average".into(),
                "total_count".into(),
                "totals".into(),
                "window_start".into(),
                "window_end".into(),
            ],
            files: FilenameCompleter::new(),
        }
    }

    fn replacements(line: &str) -> (usize, Vec<String>) {
        let (start, found) = helper().candidates(line, line.len());
        (start, found.into_iter().map(|p| p.replacement).collect())
    }

    #[test]
    fn tab_completes_names_commands_and_nothing_else() {
        assert_eq!(
            replacements("select * from mi"),
            (14, vec!["minute_counts".to_string()])
        );
        assert_eq!(
            replacements("select WINDOW_"),
            (7, vec!["window_start".to_string(), "window_end".to_string()])
        );
        assert_eq!(replacements(".ti"), (0, vec![".timer".to_string()]));
        assert_eq!(replacements("  .ma"), (2, vec![".maxrows".to_string()]));
        assert_eq!(replacements("select "), (7, vec![]));
        assert_eq!(replacements("select zz"), (7, vec![]));
        // after from and join: views only
        assert_eq!(
            replacements("select tot"),
            (7, vec!["total_count".to_string(), "totals".to_string()])
        );
        assert_eq!(replacements("select * FROM tot"), (14, vec!["totals".to_string()]));
        assert_eq!(
            replacements("select * from a join tot"),
            (21, vec!["totals".to_string()])
        );
        // Tab right after from lists every view
        assert_eq!(
            replacements("select * from "),
            (14, vec!["minute_counts".to_string(), "totals".to_string()])
        );
    }

    #[test]
    fn view_descriptions_are_broken_between_words_to_the_width() {
        let text = wrapped(
            "action str, window_start datetime[ms], window_end datetime[ms], count i64",
            40,
            "    ",
        );
        assert_eq!(
            text,
            "    action str, window_start\n    datetime[ms], window_end\n    datetime[ms], count i64\n"
        );
        assert!(text.lines().all(|l| l.chars().count() <= 40), "{text}");
        assert_eq!(wrapped("short", 80, ""), "short\n");
    }
}
