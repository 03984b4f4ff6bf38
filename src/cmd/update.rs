//! `windowpane update`: bring a report up to date with a new dump of data,
//! reading only the files not read before.

use std::path::PathBuf;

use anyhow::Result;

use super::batch::{default_report_dir, BatchFormat, FigureArgs};
use super::stream::{default_checkpoint, publish};
use crate::engine::stream::{OutputMode, Stream, StreamOptions};
use crate::source::FileOrder;

/// Bring the report of an events folder up to date, reading only new files.
///
/// The command to rerun on each new dump of data. The first run reads every
/// file, as `batch` does; each later run reads only the files that are new
/// since, adds them to the counts kept in a checkpoint, and writes the
/// same report and tables as `batch` would from scratch — at a cost that
/// follows the new files, not the history. (A stream that takes everything
/// available and stops: Spark's Trigger.AvailableNow.)
///
/// The checkpoint is kept beside the report, hidden, and out of git's way:
/// reports/.<input name>.checkpoint/ by default. A processed file that
/// has changed since is reported, not read again: put new events in new
/// files. --rebuild starts the checkpoint over and reads every file.
///
/// Exit status: 0 on success, 1 when the input or the checkpoint cannot be
/// used, 2 on a usage error.
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// A folder of NDJSON event files, or one file.
    #[arg(default_value = "data/events")]
    pub input: PathBuf,
    /// Where to write the report folder [default: reports/<input name>].
    #[arg(long, value_name = "DIR")]
    pub report: Option<PathBuf>,
    /// Write no report folder, only print.
    #[arg(long, conflicts_with = "report")]
    pub no_report: bool,
    /// The format of the report's tables: tables/*.csv, tables/*.parquet
    /// (UTC timestamps, typed columns) or both.
    #[arg(long, value_enum, default_value_t = crate::output::tables::TableFormat::Csv, value_name = "FORMAT")]
    pub table_format: crate::output::tables::TableFormat,
    /// The checkpoint folder [default: reports/.<input name>.checkpoint].
    #[arg(long, value_name = "DIR")]
    pub checkpoint: Option<PathBuf>,
    /// Forget what the checkpoint holds and read every file again.
    #[arg(long)]
    pub rebuild: bool,
    /// What to print, as `batch` does.
    #[arg(long, value_enum, default_value_t = BatchFormat::Table)]
    pub format: BatchFormat,
    /// Show every hour in the hourly table, not only the first and last.
    #[arg(long)]
    pub all: bool,
    /// The order in which new files are taken.
    #[arg(long, value_enum, default_value_t = FileOrder::Name)]
    pub order: FileOrder,
    #[command(flatten)]
    pub figures: FigureArgs,
    #[command(flatten)]
    pub read: crate::source::ReadArgs,
    /// Reader threads [default: the number of cores].
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
}

/// Runs the command.
pub fn run(args: &Args) -> Result<()> {
    let opts = args.figures.options();
    let report_dir = args.report.clone().unwrap_or_else(|| default_report_dir(&args.input));
    let checkpoint = args
        .checkpoint
        .clone()
        .unwrap_or_else(|| default_checkpoint(&report_dir));
    super::stream::check_apart(&checkpoint, (!args.no_report).then_some(report_dir.as_path()))?;
    let open = if args.rebuild { Stream::rebuild } else { Stream::open };
    let mut stream = open(
        &args.input,
        &checkpoint,
        StreamOptions {
            figures: opts.clone(),
            max_files_per_trigger: usize::MAX,
            order: args.order,
            mode: OutputMode::Complete,
            watermark_minutes: 0,
            threads: crate::source::threads(args.threads),
            read: args.read.options(false),
        },
    )?;
    // the last report's ledger and chart digest are read on another
    // thread while the new files are
    let prefetch = (!args.no_report).then(|| std::sync::Arc::new(crate::output::splice::Prefetch::start(&checkpoint)));
    let before = stream.input_stats().files;
    let mut new_files = 0;
    while let Some(outcome) = stream.run_trigger()? {
        new_files += outcome.files.len();
        for m in &outcome.missing {
            eprintln!("windowpane: warning: {m} was planned but is gone; recorded as missing");
        }
        // what was there at the start (and a plan left by a stopped run)
        // is done: files that came since wait for the next update
        if stream.listing_done() {
            break;
        }
    }
    let input = args.input.display().to_string();
    let heading = format!(
        "windowpane update: {input} ({} new file{}, {} read before)",
        new_files,
        if new_files == 1 { "" } else { "s" },
        before
    );
    let out_dir = (!args.no_report).then_some(report_dir.as_path());
    let settings = crate::output::ReportSettings {
        table_format: args.table_format,
        live: None,
        splice: None,
        prefetch,
    };
    let p = publish(&stream, &heading, &input, &opts, out_dir, args.all, false, &settings)?;
    let printed = super::batch::print(args.format, &p.summary, &p.tables, &p.figures, &p.rejected);
    // the command is the process's last act: what it holds is not freed
    std::mem::forget(p);
    stream.end_of_process()?;
    printed
}
