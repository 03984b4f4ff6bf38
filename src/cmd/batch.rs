//! `windowpane batch`: read a whole events folder once and compute every
//! figure.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::metrics::{self, Figures, Options};
use crate::output;
use crate::output::summary::InputStats;
use crate::output::tables::TableFormat;
use crate::progress::Progress;
use crate::source::{self, Batch, FileOrder, Inputs, ReadArgs, ReadOptions};

/// Analyse a folder of NDJSON events in one pass.
///
/// Reads every input file of INPUT: a folder (searched recursively, Hive-style
/// partition folders like dt=2016-07-26/ included; natural order of the
/// relative paths), a file, a pattern like 'data/*.json.gz', or - for
/// standard input; several may be given. Input files are *.json, *.jsonl,
/// *.ndjson and the same with .gz; hidden and _-prefixed names are skipped.
/// It validates every line, and computes the per-minute and hourly counts per
/// action, the totals, the hourly average of actions per minute and its peak
/// hour, the minutes where Open and Close differ by more than the threshold,
/// the 30-minute moving average and variance, and the variance of the minute
/// counts.
///
/// Prints tables to the terminal and writes a report folder (summary.json,
/// tables/*.csv or .parquet, rejected.ndjson, charts/*.png, index.html), by default
/// reports/<input folder name>/. Lines that are not valid events are counted
/// and quarantined in rejected.ndjson with file, line and reason; --strict
/// stops at the first one instead.
///
/// With --spark sc://HOST:PORT, a Spark cluster (4.0 or newer) reads INPUT
/// where it is (s3://..., hdfs://..., a path on the server), checks the
/// lines and counts the events per action and minute; windowpane computes
/// every figure from those counts. Rejected lines are then counted by
/// reason, not listed.
///
/// Exit status: 0 on success, 1 when the input cannot be analysed, 2 on a
/// usage error.
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// Folders of NDJSON event files, files, patterns, or - for standard input.
    #[arg(default_value = "data/events", value_name = "INPUT")]
    pub input: Vec<PathBuf>,
    /// Where to write the report folder [default: reports/<input name>].
    #[arg(long, value_name = "DIR")]
    pub report: Option<PathBuf>,
    /// Write no report folder, only print.
    #[arg(long, conflicts_with = "report")]
    pub no_report: bool,
    /// The format of the report's tables: tables/*.csv, tables/*.parquet
    /// (UTC timestamps, typed columns) or both.
    #[arg(long, value_enum, default_value_t = TableFormat::Csv, value_name = "FORMAT")]
    pub table_format: TableFormat,
    /// What to print: tables; json, every figure in one JSON document (the
    /// keys of summary.json and `tables`, each table as an array of row
    /// objects); ndjson, one object per line tagged with its "table"; or
    /// summary, summary.json only.
    #[arg(long, value_enum, default_value_t = BatchFormat::Table)]
    pub format: BatchFormat,
    /// Show every hour in the hourly table, not only the first and last.
    #[arg(long)]
    pub all: bool,
    /// Stop at the first bad line with an error naming file, line and reason.
    #[arg(long)]
    pub strict: bool,
    /// The order in which files are taken.
    #[arg(long, value_enum, default_value_t = FileOrder::Name)]
    pub order: FileOrder,
    #[command(flatten)]
    pub figures: FigureArgs,
    #[command(flatten)]
    pub read: ReadArgs,
    /// Reader threads [default: the number of cores].
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Scan on a Spark cluster through Spark Connect (Spark 4.0 or newer):
    /// sc://HOST:PORT, optionally followed by /;token=…;use_ssl=true. The
    /// cluster reads INPUT (s3://…, abfss://…, hdfs://…, dbfs:/…, or a path
    /// on the server), checks every line and sends back only the counts per
    /// action and minute; rejected lines are counted, not listed.
    #[arg(long, value_name = "URL")]
    pub spark: Option<String>,
}

/// The options every figure-computing command shares.
#[derive(Debug, Clone, clap::Args)]
pub struct FigureArgs {
    /// Alert when |open - close| in a minute is strictly greater than this.
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub alert_threshold: u32,
    /// The two actions the alerts compare, as FIRST,SECOND.
    #[arg(long, default_value = "Open,Close", value_name = "A,B", value_parser = parse_pair)]
    pub alert_actions: (String, String),
    /// Length of the trailing moving-average window: minutes ("30m", "30") or hours ("1h").
    #[arg(long, default_value = "30m", value_name = "DURATION", value_parser = parse_minutes)]
    pub moving_window: usize,
}

impl FigureArgs {
    /// The metrics options these arguments ask for.
    pub fn options(&self) -> Options {
        Options {
            alert_threshold: i64::from(self.alert_threshold),
            alert_actions: self.alert_actions.clone(),
            moving_window: self.moving_window,
        }
    }
}

/// What `stream` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A line per trigger, then the tables.
    Table,
    /// A JSON object per line: each trigger's progress, then {"summary": …}.
    Json,
    /// Only the contents of summary.json, at the end.
    Summary,
}

/// What `batch` prints on standard output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BatchFormat {
    /// Formatted tables.
    Table,
    /// Every figure in one JSON document: summary.json's keys and `tables`.
    Json,
    /// Every figure as JSON Lines: the summary, then a line per table row.
    Ndjson,
    /// The contents of summary.json.
    Summary,
}

fn parse_pair(s: &str) -> Result<(String, String), String> {
    match s.split_once(',') {
        Some((a, b)) if !a.is_empty() && !b.is_empty() && !b.contains(',') => Ok((a.to_string(), b.to_string())),
        _ => Err(format!(
            "expected two action names separated by a comma, like Open,Close; got {s:?}"
        )),
    }
}

pub(crate) fn parse_minutes(s: &str) -> Result<usize, String> {
    let bad = || format!("expected a whole number of minutes like 30m or 1h; got {s:?}");
    let (num, scale) = if let Some(n) = s.strip_suffix('m') {
        (n, 1)
    } else if let Some(n) = s.strip_suffix('h') {
        (n, 60)
    } else {
        (s, 1)
    };
    let n: usize = num.trim().parse().map_err(|_| bad())?;
    if n == 0 {
        return Err(bad());
    }
    // a century is far more than any window or watermark needs, and keeps
    // the arithmetic on epoch seconds far from overflowing
    match n.checked_mul(scale) {
        Some(m) if m <= 100 * 366 * 24 * 60 => Ok(m),
        _ => Err(format!(
            "{s:?} is longer than a century; expected a whole number of minutes like 30m or 1h"
        )),
    }
}

/// The default report folder of an input: `reports/<its name>`.
pub fn default_report_dir(input: &Path) -> PathBuf {
    PathBuf::from("reports").join(Inputs::from_args(&[input]).report_name())
}

/// Reads every file of `input` (one folder or file) and folds it, integer
/// times being epoch seconds.
pub fn read(input: &Path, order: FileOrder, strict: bool, threads: Option<usize>) -> Result<Batch> {
    let opts = ReadOptions {
        strict,
        ..ReadOptions::default()
    };
    read_inputs(&Inputs::from_args(&[input]), order, &opts, threads)
}

/// Reads every file of `inputs` and folds it.
pub fn read_inputs(inputs: &Inputs, order: FileOrder, opts: &ReadOptions, threads: Option<usize>) -> Result<Batch> {
    let input = inputs.display();
    let listing = inputs.list_files(order)?;
    if let Some(notice) = source::skipped_notice(&listing.skipped) {
        eprintln!("{notice}");
    }
    let files = listing.files;
    if files.is_empty() {
        bail!(
            "no input files in {input}: expected files named *.json, *.jsonl or *.ndjson (optionally .gz); hidden and _-prefixed names are skipped"
        );
    }
    let threads = source::threads(threads);
    let progress = Progress::new(files.len() as u64, "files");
    let batch = source::read_files(&files, threads, opts, &progress);
    progress.finish();
    let mut batch = batch?;
    if let Some(notice) = source::skipped_notice(&batch.skipped) {
        eprintln!("{notice}");
    }
    batch.skipped.splice(0..0, listing.skipped);
    if batch.counts.events() == 0 {
        match batch.rejected.first() {
            Some(r) => bail!(
                "no valid events in {}: all {} lines were rejected; the first, {} line {}: {}",
                input,
                batch.lines,
                r.file,
                r.line,
                r.reason
            ),
            None => bail!(
                "no events in {}: its input files ({}) hold no lines",
                input,
                batch.files
            ),
        }
    }
    Ok(batch)
}

/// Runs the command.
pub fn run(args: &Args) -> Result<()> {
    let opts = args.figures.options();
    let inputs = Inputs::from_args(&args.input);
    let input = inputs.display();
    let (mut batch, stats) = match &args.spark {
        Some(url) => {
            let scan = source::spark::read(url, &args.input, &args.read.options(args.strict))?;
            let stats = scan.input_stats(url);
            (scan.batch, stats)
        }
        None => {
            let batch = read_inputs(&inputs, args.order, &args.read.options(args.strict), args.threads)?;
            let stats = InputStats::of(&batch);
            (batch, stats)
        }
    };
    let range = batch.counts.time_range();
    // the state is not needed past its table: let it go as the table grows
    let table = std::mem::take(&mut batch.counts).into_table();
    let figures: Figures =
        metrics::figures_of(table, &opts).with_context(|| format!("cannot compute the figures of {input}"))?;
    let report_dir = (!args.no_report).then(|| {
        args.report
            .clone()
            .unwrap_or_else(|| PathBuf::from("reports").join(inputs.report_name()))
    });
    let run = output::Run {
        heading: &format!("windowpane batch: {input}"),
        title: &input,
        input: stats,
        range,
        rejected: &batch.rejected,
        figures: &figures,
        options: &opts,
        triggers: None,
    };
    let settings = output::ReportSettings {
        table_format: args.table_format,
        live: None,
        ..Default::default()
    };
    let (summary, tables) = output::publish_with(&run, report_dir.as_deref(), args.all, &settings)?;
    print(args.format, &summary, &tables, &figures, &batch.rejected)
}

/// Prints a finished run's figures in `format` (`tables` are the terminal
/// tables): batch's output, and update's.
pub fn print(
    format: BatchFormat,
    summary: &crate::output::summary::Summary,
    tables: &str,
    figures: &Figures,
    rejected: &[crate::source::Rejected],
) -> Result<()> {
    crate::print_stdout(&match format {
        BatchFormat::Summary => summary.to_json(),
        BatchFormat::Json => {
            output::frame::figures_json(summary, figures, rejected).context("cannot print the figures")?
        }
        BatchFormat::Ndjson => {
            output::frame::figures_ndjson(summary, figures, rejected).context("cannot print the figures")?
        }
        BatchFormat::Table => tables.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_whole_minutes() {
        assert_eq!(parse_minutes("30m"), Ok(30));
        assert_eq!(parse_minutes("30"), Ok(30));
        assert_eq!(parse_minutes("1h"), Ok(60));
        assert!(parse_minutes("0m").is_err());
        assert!(parse_minutes("1.5h").is_err());
        assert!(parse_minutes("30s").is_err());
        assert!(parse_minutes("300000000000000000m").is_err());
    }

    #[test]
    fn alert_actions_are_a_pair() {
        assert_eq!(parse_pair("Open,Close"), Ok(("Open".into(), "Close".into())));
        assert!(parse_pair("Open").is_err());
        assert!(parse_pair("Open,").is_err());
        assert!(parse_pair("a,b,c").is_err());
    }
}
