//! `windowpane batch`: read a whole events folder once and compute every
//! figure.

use std::path::PathBuf;

use anyhow::{Context, Result};

use super::args::{FigureArgs, ReportArgs, RunArgs};
use crate::metrics::{self, Figures};
use crate::output::{self, PrintFormat};
use crate::source::{self, Inputs, ReadArgs};

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
    #[command(flatten)]
    pub report: ReportArgs,
    /// What to print: tables; json, every figure in one JSON document (the
    /// keys of summary.json and `tables`, each table as an array of row
    /// objects); ndjson, one object per line tagged with its "table"; or
    /// summary, summary.json only.
    #[arg(long, value_enum, default_value_t = PrintFormat::Table)]
    pub format: PrintFormat,
    /// Stop at the first bad line with an error naming file, line and reason.
    #[arg(long)]
    pub strict: bool,
    #[command(flatten)]
    pub run: RunArgs,
    #[command(flatten)]
    pub figures: FigureArgs,
    #[command(flatten)]
    pub read: ReadArgs,
    /// Scan on a Spark cluster through Spark Connect (Spark 4.0 or newer):
    /// sc://HOST:PORT, optionally followed by /;token=…;use_ssl=true. The
    /// cluster reads INPUT (s3://…, abfss://…, hdfs://…, dbfs:/…, or a path
    /// on the server), checks every line and sends back only the counts per
    /// action and minute; rejected lines are counted, not listed.
    #[arg(long, value_name = "URL")]
    pub spark: Option<String>,
}

/// Runs the command.
pub fn run(args: &Args) -> Result<()> {
    let opts = args.figures.options();
    let inputs = Inputs::from_args(&args.input);
    let input = inputs.display();
    let (mut batch, mut stats) = match &args.spark {
        Some(url) => {
            let scan = source::spark::read(url, &args.input, &args.read.options(args.strict))?;
            let stats = scan.input_stats(url);
            (scan.batch, stats)
        }
        None => {
            let batch = source::read_inputs(
                &inputs,
                args.run.order,
                &args.read.options(args.strict),
                args.run.threads,
            )?;
            let stats = batch.stats();
            (batch, stats)
        }
    };
    stats.fields = args.read.options(args.strict).fields.named();
    let range = batch.counts.time_range();
    // the state is not needed past its table: let it go as the table grows
    let table = std::mem::take(&mut batch.counts).into_table();
    let figures: Figures =
        metrics::figures_of(table, &opts).with_context(|| format!("cannot compute the figures of {input}"))?;
    let report_dir = args.report.dir(PathBuf::from("reports").join(inputs.report_name()));
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
        table_format: args.report.table_format,
        title: args.report.title.clone(),
        live: None,
        ..Default::default()
    };
    let (summary, tables) = output::publish_with(&run, report_dir.as_deref(), args.report.all, &settings)?;
    output::print(args.format, &summary, &tables, &figures, &batch.rejected)
}
