//! `--spark`: the scan run by a Spark cluster through Spark Connect.
//!
//! The cluster reads the input files where they are, applies the line rules
//! of the metrics contract in Spark SQL (with the VARIANT functions of Spark
//! 4: `try_parse_json`, `schema_of_variant`, `try_variant_get`) and folds the
//! events into counts per (action, minute window start). Only those counts
//! come back, as Arrow, with the number of files, the rejected lines per
//! reason and one of each; windowpane builds the same [`Batch`] as a local
//! read from them, so every figure, table, chart and report is made by the
//! same code.
//!
//! CSV, TSV and Parquet files are read there too, each kind through views
//! of its own ([`Kind`]) and a query head of its own (a Parquet one written
//! for the types of its two columns), all ending in the same shared part.
//!
//! What differs from a local read: rejected lines are counted, not listed
//! line by line (a sample per reason names its file); Spark's file sources
//! leave out empty plain files (an empty `.gz` file still counts); a byte
//! order mark is taken off every line, not only a file's first.

pub mod client;

use std::path::Path;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use arrow_array::{Array, RecordBatch};
use arrow_schema::DataType;

use crate::source::line::{Fields, TimeUnit};
use crate::source::{Batch, ReadOptions};
use crate::state::MinuteCounts;
use client::sql_string;
pub use client::{display_url, Session};

/// The head of the scan of JSON lines: the views of [`Kind::Json`] taken
/// apart up to the rows [`SCAN_TAIL`] reads.
pub const SCAN_JSON: &str = include_str!("scan_json.sql");
/// The head of the scan of Parquet files, with the expressions of their
/// column types to fill in (see [`parquet_query`]).
pub const SCAN_PARQUET: &str = include_str!("scan_parquet.sql");
/// The part both scans share: times read, rows judged, counts folded by
/// action and minute. `{{UNIT}}` is the units per second of integer times.
pub const SCAN_TAIL: &str = include_str!("scan_tail.sql");

/// The names of JSON inputs (as [`crate::source::is_input_name`]); Spark
/// leaves out hidden and `_`-prefixed names itself.
const INPUT_NAMES: &str = "*.{json,jsonl,ndjson,json.gz,jsonl.gz,ndjson.gz}";
/// The names of every input the cluster reads.
const LISTED_NAMES: &str = "*.{json,jsonl,ndjson,json.gz,jsonl.gz,ndjson.gz,parquet,csv,csv.gz,tsv,tsv.gz}";
/// The head of the scan of CSV and TSV files, with their columns to fill in
/// (see [`delimited_query`]).
pub const SCAN_DELIMITED: &str = include_str!("scan_delimited.sql");

/// An integer time as text, as the local reader takes it without a
/// fraction: a JSON integer of up to 18 digits (an SQL string of a regex).
const WHOLE: &str = r"'^-?(0|[1-9][0-9]{0,17})\\z'";
/// A number as JSON writes it (an SQL string of a regex).
const NUMBER: &str = r"'^-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][+-]?[0-9]+)?\\z'";

/// Options as the pairs [`Session::create_file_view`] takes.
fn pairs<'a>(options: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    options.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// The kinds of input file, each read through views of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Json,
    Parquet,
    Csv,
    Tsv,
}

impl Kind {
    /// The kind of a file by its name (`.gz` aside).
    fn of(uri: &str) -> Kind {
        // the names a local read goes by
        if crate::source::parquet::is_parquet_name(uri) {
            return Kind::Parquet;
        }
        match crate::source::delimited::delimiter_of(uri) {
            Some(b'\t') => Kind::Tsv,
            Some(_) => Kind::Csv,
            None => Kind::Json,
        }
    }

    /// The delimiter of its cells: `--delimiter`, else its name's (CSV and
    /// TSV only).
    fn delimiter(self, opts: &ReadOptions) -> char {
        let by_name = if self == Kind::Tsv { '\t' } else { ',' };
        opts.delimiter.map_or(by_name, char::from)
    }

    /// The names of its files in a folder.
    fn names(self) -> &'static str {
        match self {
            Kind::Json => INPUT_NAMES,
            Kind::Parquet => "*.parquet",
            Kind::Csv => "*.{csv,csv.gz}",
            Kind::Tsv => "*.{tsv,tsv.gz}",
        }
    }

    /// The view of its rows and the view of its files (one row each).
    fn views(self) -> (&'static str, &'static str) {
        match self {
            Kind::Json => ("windowpane_lines", "windowpane_files"),
            Kind::Parquet => ("windowpane_parquet", "windowpane_parquet_files"),
            Kind::Csv => ("windowpane_csv", "windowpane_csv_files"),
            Kind::Tsv => ("windowpane_tsv", "windowpane_tsv_files"),
        }
    }

    /// The data source of its rows and how it reads them.
    fn source(self, opts: &ReadOptions) -> (&'static str, Vec<(&'static str, String)>) {
        let delimited = || {
            let options = vec![
                ("header", "true".to_string()),
                // each file's header is checked against the first file's
                ("enforceSchema", "false".to_string()),
                // RFC 4180: a quoted cell may hold line breaks and "" quotes
                ("multiLine", "true".to_string()),
                ("quote", "\"".to_string()),
                ("escape", "\"".to_string()),
                ("sep", self.delimiter(opts).to_string()),
                // an empty cell is empty, a missing one null
                ("nullValue", "\u{1}".to_string()),
                ("mode", "PERMISSIVE".to_string()),
            ];
            ("csv", options)
        };
        match self {
            Kind::Json => ("text", vec![("lineSep", "\n".to_string())]),
            // every file's schema is read and merged: files that give a
            // column different types are refused rather than read with one
            Kind::Parquet => ("parquet", vec![("mergeSchema", "true".to_string())]),
            Kind::Csv | Kind::Tsv => delimited(),
        }
    }

    /// Makes its two views over `paths`: files, or with `folder` the files
    /// of its names in every folder of one path.
    fn make_views(self, session: &Session, paths: &[String], folder: bool, opts: &ReadOptions) -> Result<()> {
        let mut options: Vec<(&str, String)> = Vec::new();
        if folder {
            options.push(("recursiveFileLookup", "true".into()));
            options.push(("pathGlobFilter", self.names().into()));
        }
        if opts.skip_corrupt {
            options.push(("ignoreCorruptFiles", "true".into()));
        }
        let (rows, files) = self.views();
        // a folder path is taken as the JSON view takes it (a glob in it
        // expanded); a file of a list as it is named
        let literal = !folder;
        session.create_file_view(files, "binaryFile", paths, &pairs(&options), literal)?;
        let (format, read) = self.source(opts);
        options.extend(read);
        session.create_file_view(rows, format, paths, &pairs(&options), literal)
    }

    /// Runs its scan over its views.
    fn scan(self, session: &Session, path: &str, opts: &ReadOptions) -> Result<Vec<RecordBatch>> {
        match self {
            Kind::Json => session.query(&scan_query(opts.unit, opts.fields)),
            Kind::Parquet => scan_parquet(session, path, opts),
            Kind::Csv | Kind::Tsv => scan_delimited(session, self, path, opts),
        }
    }
}

/// Session settings the scan relies on: invalid dates give NULL instead of
/// an error, and an object's repeated key takes its last value, as the
/// local reader does.
const SETTINGS: [(&str, &str); 3] = [
    ("spark.sql.ansi.enabled", "false"),
    ("spark.sql.variant.allowDuplicateKeys", "true"),
    // a Parquet timestamp without a time zone is taken as UTC
    ("spark.sql.session.timeZone", "UTC"),
];

/// Rejected lines of one reason, as the cluster counted them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedSample {
    /// Why they are not events.
    pub reason: String,
    /// How many lines.
    pub lines: u64,
    /// The file of one of them, relative to the input path when it is in it.
    pub file: String,
    /// That line (its first 300 characters).
    pub text: String,
}

/// What a scan on the cluster gave.
#[derive(Debug, Clone, Default)]
pub struct SparkScan {
    /// Files, lines and the folded events, as a local read gives them;
    /// `rejected` stays empty (the lines are not listed).
    pub batch: Batch,
    /// Rejected lines.
    pub rejected: u64,
    /// Rejected lines by reason, most frequent first.
    pub samples: Vec<RejectedSample>,
    /// The files the cluster read, as it names them, with their size and
    /// modification time (nanoseconds) as the scan found them.
    pub read: Vec<(String, u64, u128)>,
}

/// An input file on the cluster, as its listing gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterFile {
    /// Where it is, as the cluster names it (`file:/data/in/a.json`,
    /// `s3a://bucket/in/a.json`).
    pub uri: String,
    /// Its path relative to the input path.
    pub rel: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its modification time, nanoseconds since the epoch (the cluster
    /// gives microseconds).
    pub mtime_ns: u128,
}

/// The options of a view over the files named `names` in every folder of
/// `path`.
fn file_options(path: &str, names: &str, opts: &ReadOptions) -> String {
    let mut options = format!(
        "path {}, recursiveFileLookup 'true', pathGlobFilter {}",
        sql_string(path),
        sql_string(names)
    );
    if opts.skip_corrupt {
        options.push_str(", ignoreCorruptFiles 'true'");
    }
    options
}

/// `head` and the shared tail as one query, reading the files of the
/// view `files`, with the unit and the fields' names filled in.
fn whole_query(head: &str, files: &str, unit: TimeUnit, fields: Fields) -> String {
    format!("{head}{SCAN_TAIL}")
        .replace("{{FILES}}", files)
        .replace("{{UNIT}}", &unit.per_second().to_string())
        .replace("{{TIME_NAME}}", &fields.time_name())
        .replace("{{ACTION_NAME}}", &fields.action_name())
}

/// The scan query of JSON lines for integer times in `unit` and the
/// event's `fields`.
pub fn scan_query(unit: TimeUnit, fields: Fields) -> String {
    let path = |p: &[&str]| format!("$.{}", p.join("."));
    let head = SCAN_JSON
        .replace("{{CANONICAL}}", if fields.is_default() { "true" } else { "false" })
        .replace("{{TIME_PATH}}", &path(fields.time))
        .replace("{{ACTION_PATH}}", &path(fields.action));
    whole_query(&head, "windowpane_files", unit, fields)
}

/// A column name as a Spark SQL identifier.
fn column(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// The scan query of Parquet files whose time column is of the Spark type
/// `time_type` and whose action column of `action_type` (as `DESCRIBE`
/// names them); an action column of another type than text, an integer
/// or a boolean is refused, as the local reader refuses it.
pub fn parquet_query(unit: TimeUnit, fields: Fields, time_type: &str, action_type: &str) -> Result<String> {
    let (time_name, action_name) = (fields.time_name(), fields.action_name());
    let integer = |t: &str| {
        matches!(t, "tinyint" | "smallint" | "int" | "bigint") || (t.starts_with("decimal(") && t.ends_with(",0)"))
    };
    let expected = "expected a timestamp, an integer or a string column";
    let null = "CAST(NULL AS BIGINT)".to_string();
    let (whole, number) = (WHOLE, NUMBER);
    let (mut secs, mut int, mut frac, mut text) = (
        null.clone(),
        null.clone(),
        "CAST(NULL AS DOUBLE)".to_string(),
        "CAST(NULL AS STRING)".to_string(),
    );
    let mut type_reason = "CAST(NULL AS STRING)".to_string();
    match time_type {
        "timestamp" | "timestamp_ntz" => {
            let micros = match time_type {
                "timestamp" => "unix_micros(tv)",
                _ => "unix_micros(CAST(tv AS TIMESTAMP))",
            };
            secs = format!("({micros} - pmod({micros}, 1000000)) div 1000000");
        }
        // an unsigned 64-bit column comes as decimal(20,0): past the range
        // of a 64-bit integer it is out of range, not wrapped
        t if integer(t) => {
            int = "CASE WHEN tv BETWEEN -9223372036854775808 AND 9223372036854775807 THEN bigint(tv) END".into()
        }
        "string" => {
            int = format!("CASE WHEN tv RLIKE {whole} THEN bigint(tv) END");
            frac = format!("CASE WHEN tv RLIKE {number} AND NOT tv RLIKE {whole} THEN double(tv) END");
            text = format!("CASE WHEN NOT tv RLIKE {number} THEN tv END");
        }
        "date" => type_reason = sql_string(&format!("`{time_name}` is a date, without a time of day; {expected}")),
        "float" | "double" => {
            type_reason = sql_string(&format!("`{time_name}` is a floating-point column; {expected}"))
        }
        other => type_reason = sql_string(&format!("`{time_name}` is of type {other}; {expected}")),
    }
    let action = match action_type {
        "string" => "av".to_string(),
        "boolean" => "string(av)".to_string(),
        t if integer(t) => "string(av)".to_string(),
        other => bail!(
            "the column {action_name:?} of the Parquet files is of type {other}; expected a string, a categorical, an integer or a boolean"
        ),
    };
    let head = SCAN_PARQUET
        .replace("{{TIME_COLUMN}}", &column(&time_name))
        .replace("{{ACTION_COLUMN}}", &column(&action_name))
        .replace("{{TIME_KEY}}", &sql_string(&time_name))
        .replace("{{ACTION_KEY}}", &sql_string(&action_name))
        .replace("{{TIME_SECS}}", &secs)
        .replace("{{TIME_INT}}", &int)
        .replace("{{TIME_FRAC}}", &frac)
        .replace("{{TIME_TEXT}}", &text)
        .replace("{{TIME_TYPE_REASON}}", &type_reason)
        .replace("{{ACTION}}", &action);
    Ok(whole_query(&head, "windowpane_parquet_files", unit, fields))
}

/// The types of the time and action columns of the view
/// `windowpane_parquet`, as Spark names them; a missing column is refused
/// with the columns the files have.
fn parquet_types(session: &Session, path: &str, fields: Fields) -> Result<(String, String)> {
    let columns = columns_of(session, "windowpane_parquet")?;
    let type_of = |name: &str| columns.iter().find(|(n, _)| n == name).map(|(_, t)| t.clone());
    let (time_name, action_name) = (fields.time_name(), fields.action_name());
    match (type_of(&time_name), type_of(&action_name)) {
        (Some(t), Some(a)) => Ok((t, a)),
        (t, _) => {
            let missing = if t.is_none() { &time_name } else { &action_name };
            let names: Vec<String> = columns.iter().map(|(n, _)| format!("{n:?}")).collect();
            bail!(
                "the Parquet files of {path} have no column {missing:?}: their columns are {}; give the columns with --time-field and --action-field",
                names.join(", ")
            )
        }
    }
}

/// The columns of the view `view`, as `DESCRIBE` names them and their
/// types.
fn columns_of(session: &Session, view: &str) -> Result<Vec<(String, String)>> {
    let mut columns = Vec::new();
    for batch in &session.query(&format!("DESCRIBE {view}"))? {
        let names = strings(batch, "col_name")?;
        let types = strings(batch, "data_type")?;
        columns.extend(names.into_iter().zip(types).filter_map(|(n, t)| Some((n?, t?))));
    }
    Ok(columns)
}

/// The scan query of the CSV or TSV files of `kind`'s view, whose header
/// names `columns`; a header without the time or the action column is
/// refused, naming the columns it has, as a local read refuses it.
pub fn delimited_query(
    kind: KindName,
    path: &str,
    unit: TimeUnit,
    fields: Fields,
    columns: &[String],
    delimiter: char,
) -> Result<String> {
    let (time_name, action_name) = (fields.time_name(), fields.action_name());
    // a header may begin with a byte order mark
    let find = |name: &str| columns.iter().find(|c| c.trim_start_matches('\u{feff}') == name);
    let (Some(time), Some(action)) = (find(&time_name), find(&action_name)) else {
        let missing = if find(&time_name).is_none() {
            &time_name
        } else {
            &action_name
        };
        let names: Vec<String> = columns
            .iter()
            .map(|c| format!("{:?}", c.trim_start_matches('\u{feff}')))
            .collect();
        bail!(
            "the {} files of {path} have no column {missing:?}: their header names {}; give the columns with --time-field and --action-field",
            kind.0,
            names.join(", ")
        );
    };
    let blank = columns
        .iter()
        .map(|c| format!(r"coalesce({}, '') RLIKE '^[ \\t\\n\\f\\r]*\\z'", column(c)))
        .collect::<Vec<_>>()
        .join(" AND ");
    let head = SCAN_DELIMITED
        .replace("{{VIEW}}", kind.1)
        .replace("{{WHOLE}}", WHOLE)
        .replace("{{NUMBER}}", NUMBER);
    // the header's names last, so that no name is taken for a placeholder
    Ok(whole_query(&head, kind.2, unit, fields)
        .replace("{{TIME_COLUMN}}", &column(time))
        .replace("{{ACTION_COLUMN}}", &column(action))
        .replace("{{DELIMITER}}", &sql_string(&delimiter.to_string()))
        .replace("{{BLANK}}", &format!("({blank})")))
}

/// A kind of delimited file for [`delimited_query`]: its name for people,
/// the view of its rows and the view of its files.
pub type KindName = (&'static str, &'static str, &'static str);

/// Runs the scan of the CSV or TSV files of `kind`'s views.
fn scan_delimited(session: &Session, kind: Kind, path: &str, opts: &ReadOptions) -> Result<Vec<RecordBatch>> {
    let (rows, files) = kind.views();
    let columns: Vec<String> = columns_of(session, rows)?.into_iter().map(|(n, _)| n).collect();
    let name = if kind == Kind::Tsv { "TSV" } else { "CSV" };
    let sep = kind.delimiter(opts);
    session.query(&delimited_query(
        (name, rows, files),
        path,
        opts.unit,
        opts.fields,
        &columns,
        sep,
    )?)
}

/// Runs the scan of the Parquet files of the view `windowpane_parquet`
/// (and `windowpane_parquet_files`).
fn scan_parquet(session: &Session, path: &str, opts: &ReadOptions) -> Result<Vec<RecordBatch>> {
    let (time_type, action_type) = parquet_types(session, path, opts.fields)?;
    session.query(&parquet_query(opts.unit, opts.fields, &time_type, &action_type)?)
}

/// Refuses field names the cluster's JSON paths cannot hold as written.
fn check_field_names(fields: Fields) -> Result<()> {
    for part in fields.time.iter().chain(fields.action) {
        if !part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            bail!(
                "--spark reads fields whose names are letters, digits and _ (a dotted path of them); {part:?} is not: \
                 run without --spark to read it here"
            );
        }
    }
    Ok(())
}

/// Sets the session settings the scan relies on.
fn prepare(session: &Session) -> Result<()> {
    for (key, value) in SETTINGS {
        session.set_conf(key, value)?;
    }
    Ok(())
}

/// Runs the scan of `path` (read by the cluster) and folds its result.
pub fn scan(session: &Session, path: &str, opts: &ReadOptions) -> Result<SparkScan> {
    prepare(session)?;
    let mut batches = Vec::new();
    for kind in std::iter::once(Kind::Json).chain(other_kinds(session, path)?) {
        kind.make_views(session, &[path.to_string()], true, opts)?;
        batches.extend(kind.scan(session, path, opts)?);
    }
    fold(&batches, path)
}

/// Opens a session on the server of `url` for reading `input` file by
/// file (`update --spark`): checks the options as [`read`] does and sets
/// the session up. Returns the session and the path the cluster reads.
pub fn open_for_files(url: &str, input: &Path, opts: &ReadOptions) -> Result<(Session, String)> {
    check_field_names(opts.fields)?;
    if input.as_os_str() == crate::source::STDIN {
        bail!("--spark cannot read standard input: the cluster reads the input, so give its path there (s3://…, hdfs://…, or a path on the server)");
    }
    let session = Session::open(url)?;
    prepare(&session)?;
    Ok((session, cluster_path(input)))
}

/// Lists the input files of `path` on the cluster with their size and
/// modification time, reading none of them (Spark's `binaryFile` source
/// without its `content` column), by the same name rules as the scan.
pub fn list(session: &Session, path: &str, opts: &ReadOptions) -> Result<Vec<ClusterFile>> {
    session.execute(&format!(
        "CREATE OR REPLACE TEMPORARY VIEW windowpane_files USING binaryFile OPTIONS ({})",
        file_options(path, LISTED_NAMES, opts)
    ))?;
    let batches = session.query("SELECT path, length, unix_micros(modificationTime) AS mtime FROM windowpane_files")?;
    let mut out = Vec::new();
    for batch in &batches {
        let uris = strings(batch, "path")?;
        let sizes = integers(batch, "length")?;
        let mtimes = integers(batch, "mtime")?;
        for ((uri, size), mtime) in uris.into_iter().zip(sizes).zip(mtimes) {
            let Some(uri) = uri else { continue };
            out.push(ClusterFile {
                rel: relative(&uri, path),
                size: size.map_or(0, |s| s.max(0) as u64),
                mtime_ns: mtime.map_or(0, |m| m.max(0) as u128 * 1000),
                uri,
            });
        }
    }
    Ok(out)
}

/// Runs the scan of exactly the files `uris` (as [`list`] named them)
/// under the input path `path`, and folds its result: the cluster reads
/// these files and no other.
pub fn scan_files(session: &Session, path: &str, uris: &[String], opts: &ReadOptions) -> Result<SparkScan> {
    let mut batches = Vec::new();
    for kind in [Kind::Json, Kind::Parquet, Kind::Csv, Kind::Tsv] {
        let files: Vec<String> = uris.iter().filter(|u| Kind::of(u) == kind).cloned().collect();
        if !files.is_empty() {
            kind.make_views(session, &files, false, opts)?;
            batches.extend(kind.scan(session, path, opts)?);
        }
    }
    fold(&batches, path)
}

/// The input names other than JSON ones.
const OTHER_NAMES: &str = "*.{csv,tsv,parquet,csv.gz,tsv.gz}";

/// The kinds of input other than JSON that `path` holds files of.
fn other_kinds(session: &Session, path: &str) -> Result<Vec<Kind>> {
    session.execute(&format!(
        "CREATE OR REPLACE TEMPORARY VIEW windowpane_others USING binaryFile OPTIONS ({})",
        file_options(path, OTHER_NAMES, &ReadOptions::default())
    ))?;
    let batches = session.query(
        "SELECT count_if(endswith(path, '.parquet')) AS parquet, count_if(path RLIKE '\\\\.csv(\\\\.gz)?$') AS csv, \
         count_if(path RLIKE '\\\\.tsv(\\\\.gz)?$') AS tsv FROM windowpane_others",
    )?;
    let mut kinds = Vec::new();
    if let Some(batch) = batches.first().filter(|b| b.num_rows() > 0) {
        for (name, kind) in [("parquet", Kind::Parquet), ("csv", Kind::Csv), ("tsv", Kind::Tsv)] {
            if integers(batch, name)?.first().copied().flatten().unwrap_or(0) > 0 {
                kinds.push(kind);
            }
        }
    }
    Ok(kinds)
}

/// The path a cluster reads for an input argument: a URL (`s3://…`,
/// `dbfs:/…`) or an absolute path as it is, a relative path made absolute
/// from the current folder (for a server on this machine).
pub fn cluster_path(arg: &Path) -> String {
    let text = arg.to_string_lossy();
    let scheme = text
        .split_once(':')
        .is_some_and(|(s, _)| s.len() > 1 && s.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)));
    if scheme || arg.is_absolute() {
        return text.into_owned();
    }
    match std::env::current_dir() {
        Ok(cwd) => cwd.join(arg).display().to_string(),
        Err(_) => text.into_owned(),
    }
}

/// Reads the one input of `inputs` on the Spark Connect server of `url`:
/// connects, runs the scan, and says on standard error what was rejected.
/// An input with no valid event is an error, as for a local read.
pub fn read(url: &str, inputs: &[std::path::PathBuf], opts: &ReadOptions) -> Result<SparkScan> {
    let [input] = inputs else {
        bail!(
            "--spark reads one input (a folder or a file on the cluster); got {}",
            inputs.len()
        );
    };
    check_field_names(opts.fields)?;
    if input.as_os_str() == crate::source::STDIN {
        bail!("--spark cannot read standard input: the cluster reads the input, so give its path there (s3://…, hdfs://…, or a path on the server)");
    }
    if opts.strict {
        bail!("--strict cannot be used with --spark: the cluster counts rejected lines instead of stopping at the first (run without --strict, or without --spark to find the first bad line)");
    }
    let path = cluster_path(input);
    let session = Session::open(url)?;
    let scan = scan(&session, &path, opts)?;
    if let Some(notice) = rejected_notice(&scan) {
        crate::text::note(&notice);
    }
    if scan.batch.files == 0 {
        bail!(
            "no input files in {path} on the cluster: expected files named *.json, *.jsonl or *.ndjson (optionally .gz), not empty; hidden and _-prefixed names are skipped"
        );
    }
    if scan.batch.counts.events() == 0 {
        match scan.samples.first() {
            Some(r) => bail!(
                "no valid events in {path}: all {} lines were rejected on the cluster; {} of them: {} (e.g. in {})",
                scan.batch.lines,
                r.lines,
                r.reason,
                r.file
            ),
            None => bail!(
                "no events in {path}: its input files ({}) hold no lines",
                scan.batch.files
            ),
        }
    }
    Ok(scan)
}

impl SparkScan {
    /// The input figures of the summary: where the scan ran, and that the
    /// rejected lines are counted rather than listed.
    pub fn input_stats(&self, url: &str) -> crate::model::InputStats {
        let mut stats = self.batch.stats();
        stats.rejected = self.rejected;
        stats.scan = Some(format!("spark {}", display_url(url)));
        stats.quarantine = Some("counted on the cluster by reason; the lines are not listed".into());
        stats
    }
}

/// One column as optional strings, whatever string type the server chose.
fn strings(batch: &RecordBatch, name: &str) -> Result<Vec<Option<String>>> {
    let column = batch
        .column_by_name(name)
        .with_context(|| format!("the scan's result has no column {name}"))?;
    let values = match column.data_type() {
        DataType::Utf8 => column
            .as_string::<i32>()
            .iter()
            .map(|v| v.map(str::to_string))
            .collect(),
        DataType::LargeUtf8 => column
            .as_string::<i64>()
            .iter()
            .map(|v| v.map(str::to_string))
            .collect(),
        DataType::Utf8View => column.as_string_view().iter().map(|v| v.map(str::to_string)).collect(),
        DataType::Null => vec![None; column.len()],
        other => bail!("the scan's column {name} is {other}, not text"),
    };
    Ok(values)
}

/// One column as optional 64-bit integers.
fn integers(batch: &RecordBatch, name: &str) -> Result<Vec<Option<i64>>> {
    let column = batch
        .column_by_name(name)
        .with_context(|| format!("the scan's result has no column {name}"))?;
    match column.data_type() {
        DataType::Int64 => Ok(column.as_primitive::<Int64Type>().iter().collect()),
        DataType::Null => Ok(vec![None; column.len()]),
        other => bail!("the scan's column {name} is {other}, not a 64-bit integer"),
    }
}

/// A file as the scan names it (`file:///data/in/a.json`), relative to the
/// input path when it is inside it.
fn relative(file: &str, path: &str) -> String {
    let root = path.trim_end_matches('/');
    let bare = root.split_once("://").map_or(root, |(_, rest)| rest);
    match file.find(bare) {
        Some(at) if !bare.is_empty() => {
            let rest = file[at + bare.len()..].trim_start_matches('/');
            if rest.is_empty() {
                file.rsplit('/').next().unwrap_or(file).to_string()
            } else {
                rest.to_string()
            }
        }
        _ => file.to_string(),
    }
}

/// Folds the scan's rows (see the query's header) into a [`SparkScan`].
pub fn fold(batches: &[RecordBatch], path: &str) -> Result<SparkScan> {
    let mut rows: Vec<(Arc<str>, i64, u64)> = Vec::new();
    let mut range: Option<(i64, i64)> = None;
    let mut scan = SparkScan::default();
    let mut names: std::collections::HashMap<String, Arc<str>> = std::collections::HashMap::new();
    for batch in batches {
        let kind = strings(batch, "kind")?;
        let name = strings(batch, "name")?;
        let minute = integers(batch, "minute")?;
        let n = integers(batch, "n")?;
        let first = integers(batch, "first")?;
        let last = integers(batch, "last")?;
        let file = strings(batch, "file")?;
        let text = strings(batch, "text")?;
        for i in 0..batch.num_rows() {
            let count = u64::try_from(n[i].unwrap_or(0)).unwrap_or(0);
            match kind[i].as_deref() {
                Some("m") => {
                    let (Some(action), Some(minute), Some(lo), Some(hi)) = (&name[i], minute[i], first[i], last[i])
                    else {
                        bail!("the scan returned an incomplete minute row (row {i})");
                    };
                    let action = names
                        .entry(action.clone())
                        .or_insert_with(|| Arc::from(action.as_str()))
                        .clone();
                    rows.push((action, minute, count));
                    range = Some(match range {
                        Some((a, b)) => (a.min(lo), b.max(hi)),
                        None => (lo, hi),
                    });
                }
                Some("r") => {
                    scan.rejected += count;
                    scan.samples.push(RejectedSample {
                        reason: name[i].clone().unwrap_or_default(),
                        lines: count,
                        file: relative(file[i].as_deref().unwrap_or_default(), path),
                        text: text[i].clone().unwrap_or_default(),
                    });
                }
                Some("f") => {
                    scan.batch.files += count;
                    if let Some(uri) = &name[i] {
                        let size = first[i].map_or(0, |s| s.max(0) as u64);
                        let mtime_ns = last[i].map_or(0, |m| m.max(0) as u128 * 1000);
                        scan.read.push((uri.clone(), size, mtime_ns));
                    }
                }
                other => bail!("the scan returned a row of unknown kind {other:?}"),
            }
        }
    }
    let mut counts = MinuteCounts::new();
    counts.add_counts(&rows);
    counts.set_time_range(range);
    scan.samples
        .sort_by(|a, b| b.lines.cmp(&a.lines).then_with(|| a.reason.cmp(&b.reason)));
    scan.batch.lines = counts.events() + scan.rejected;
    scan.batch.counts = counts;
    Ok(scan)
}

/// One note about the rejected lines (for [`crate::text::note`]), or `None`.
pub fn rejected_notice(scan: &SparkScan) -> Option<String> {
    let first = scan.samples.first()?;
    let mut text = format!(
        "{} of {} lines were rejected on the cluster (counted, not listed line by line): {} × {} (e.g. {}: {})",
        scan.rejected,
        scan.batch.lines,
        first.lines,
        first.reason,
        first.file,
        crate::text::abridge(&first.text, 80)
    );
    for s in scan.samples.iter().skip(1) {
        text.push_str(&format!("; {} × {}", s.lines, s.reason));
    }
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{ArrayRef, Int64Array, StringArray};
    use arrow_schema::{Field, Schema};

    /// A result row: kind, name, minute, n, first, last, file.
    type Row<'a> = (
        &'a str,
        Option<&'a str>,
        Option<i64>,
        i64,
        Option<i64>,
        Option<i64>,
        Option<&'a str>,
    );

    fn result(rows: &[Row]) -> RecordBatch {
        let text = |f: fn(&Row) -> Option<String>| -> ArrayRef {
            Arc::new(StringArray::from(rows.iter().map(f).collect::<Vec<_>>()))
        };
        let int = |f: fn(&Row) -> Option<i64>| -> ArrayRef {
            Arc::new(Int64Array::from(rows.iter().map(f).collect::<Vec<_>>()))
        };
        let schema = Schema::new(vec![
            Field::new("kind", DataType::Utf8, true),
            Field::new("name", DataType::Utf8, true),
            Field::new("minute", DataType::Int64, true),
            Field::new("n", DataType::Int64, true),
            Field::new("first", DataType::Int64, true),
            Field::new("last", DataType::Int64, true),
            Field::new("file", DataType::Utf8, true),
            Field::new("text", DataType::Utf8, true),
        ]);
        RecordBatch::try_new(
            Arc::new(schema),
            vec![
                text(|r| Some(r.0.to_string())),
                text(|r| r.1.map(str::to_string)),
                int(|r| r.2),
                int(|r| Some(r.3)),
                int(|r| r.4),
                int(|r| r.5),
                text(|r| r.6.map(str::to_string)),
                text(|r| r.6.map(|_| "bad".to_string())),
            ],
        )
        .unwrap()
    }

    #[test]
    fn the_scan_rows_fold_into_the_state_a_local_read_makes() {
        let batches = [
            result(&[
                ("m", Some("Open"), Some(60), 2, Some(61), Some(119), None),
                ("m", Some("Close"), Some(0), 1, Some(5), Some(5), None),
                (
                    "r",
                    Some("not valid JSON"),
                    None,
                    3,
                    None,
                    None,
                    Some("file:///in/a/b.json"),
                ),
            ]),
            result(&[
                ("m", Some("Open"), Some(0), 4, Some(0), Some(59), None),
                ("f", None, None, 2, None, None, None),
            ]),
        ];
        let scan = fold(&batches, "/in").unwrap();
        let mut local = MinuteCounts::new();
        for (t, a) in [(61, "Open"), (119, "Open"), (5, "Close")]
            .into_iter()
            .chain((0..4).map(|i| (i * 19, "Open")))
        {
            local.add(t, a);
        }
        assert_eq!(scan.batch.counts.rows(), local.rows());
        assert_eq!(scan.batch.counts.time_range(), Some((0, 119)));
        assert_eq!(scan.batch.counts.events(), 7);
        assert_eq!((scan.batch.files, scan.batch.lines, scan.rejected), (2, 10, 3));
        assert_eq!(scan.samples[0].file, "a/b.json");
        assert!(scan.batch.rejected.is_empty());
    }

    #[test]
    fn files_are_named_relative_to_the_input() {
        assert_eq!(relative("file:///data/in/x.json", "/data/in"), "x.json");
        assert_eq!(relative("file:///data/in/dt=1/x.json", "/data/in/"), "dt=1/x.json");
        assert_eq!(relative("s3://b/p/x.json.gz", "s3://b/p"), "x.json.gz");
        assert_eq!(relative("file:///data/one.json", "/data/one.json"), "one.json");
        assert_eq!(relative("hdfs://n/other.json", "/data"), "hdfs://n/other.json");
    }

    #[test]
    fn the_query_scales_integer_times_by_the_unit() {
        assert!(scan_query(TimeUnit::Ms, Fields::default()).contains("253402300800 * 1000 - 1"));
        let named = Fields {
            time: &["ts"],
            action: &["payload", "type"],
        };
        for query in [
            scan_query(TimeUnit::S, Fields::default()),
            scan_query(TimeUnit::S, named),
        ] {
            assert!(!query.contains("{{"), "{query}");
        }
        assert!(scan_query(TimeUnit::S, named).contains("'$.payload.type'"));
        // the Parquet query, for every kind of column it takes
        for time in [
            "timestamp",
            "timestamp_ntz",
            "bigint",
            "int",
            "string",
            "date",
            "double",
            "decimal(20,0)",
        ] {
            for action in ["string", "boolean", "bigint", "decimal(20,0)"] {
                let query = parquet_query(TimeUnit::Ms, named, time, action).unwrap();
                assert!(!query.contains("{{"), "{time} {action}: {query}");
                assert!(query.contains("FROM windowpane_parquet_files"), "{query}");
            }
        }
        let date = parquet_query(TimeUnit::S, Fields::default(), "date", "string").unwrap();
        assert!(date.contains("is a date, without a time of day"), "{date}");
        let columns = ["\u{feff}time".to_string(), "action".to_string(), "user".to_string()];
        let csv = delimited_query(
            ("CSV", "windowpane_csv", "windowpane_csv_files"),
            "/in",
            TimeUnit::S,
            Fields::default(),
            &columns,
            ',',
        )
        .unwrap();
        assert!(!csv.contains("{{"), "{csv}");
        assert!(
            csv.contains("`\u{feff}time` AS tv") && csv.contains("coalesce(`user`, '')"),
            "{csv}"
        );
        let e = delimited_query(("CSV", "v", "f"), "/in", TimeUnit::S, named, &columns, ',').unwrap_err();
        assert!(
            e.to_string()
                .contains("have no column \"ts\": their header names \"time\", \"action\", \"user\""),
            "{e}"
        );
        assert_eq!(Kind::of("s3://b/x.csv.gz"), Kind::Csv);
        assert_eq!(Kind::of("/d/x.tsv"), Kind::Tsv);
        assert_eq!(Kind::of("/d/x.snappy.parquet"), Kind::Parquet);
        assert_eq!(Kind::of("/d/x.jsonl.gz"), Kind::Json);
        let e = parquet_query(TimeUnit::S, Fields::default(), "bigint", "double").unwrap_err();
        assert!(
            e.to_string()
                .contains("expected a string, a categorical, an integer or a boolean"),
            "{e}"
        );
        let options = file_options("/d/it's", INPUT_NAMES, &ReadOptions::default());
        assert!(options.contains(r"path '/d/it\'s'"), "{options}");
        assert!(!options.contains("ignoreCorruptFiles"));
    }
}
