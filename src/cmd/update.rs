//! `windowpane update`: bring a report up to date with a new dump of data,
//! reading only the files not read before.

use std::path::PathBuf;

use anyhow::Result;

use super::args::{check_apart, default_report_dir, CheckpointArgs, FigureArgs, ReportArgs, RunArgs};
use crate::engine::stream::{OutputMode, Stream, StreamOptions};
use crate::output::{self, PrintFormat};

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
/// With --spark sc://HOST:PORT, a Spark cluster (4.0 or newer) lists the
/// files of INPUT (a path there: s3://…, hdfs://…, or on the server) with
/// their size and time, and scans only the new ones; their counts per
/// action and minute come back and join the checkpoint on this machine.
/// Such a checkpoint is kept for --spark runs: a local run over it is
/// refused, and the reverse.
///
/// Exit status: 0 on success, 1 when the input or the checkpoint cannot be
/// used, 2 on a usage error.
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// A folder of NDJSON event files, or one file.
    #[arg(default_value = "data/events")]
    pub input: PathBuf,
    #[command(flatten)]
    pub report: ReportArgs,
    #[command(flatten)]
    pub checkpoint: CheckpointArgs,
    /// Forget what the checkpoint holds and read every file again.
    #[arg(long)]
    pub rebuild: bool,
    /// What to print, as `batch` does.
    #[arg(long, value_enum, default_value_t = PrintFormat::Table)]
    pub format: PrintFormat,
    #[command(flatten)]
    pub run: RunArgs,
    #[command(flatten)]
    pub figures: FigureArgs,
    #[command(flatten)]
    pub read: crate::source::ReadArgs,
    /// Read the new files on a Spark cluster through Spark Connect (Spark
    /// 4.0 or newer): sc://HOST:PORT, optionally followed by
    /// /;token=…;use_ssl=true. The cluster lists INPUT and scans only the
    /// files the checkpoint has not processed; rejected lines are counted,
    /// not listed.
    #[arg(long, value_name = "URL")]
    pub spark: Option<String>,
}

/// Runs the command.
pub fn run(args: &Args) -> Result<()> {
    let opts = args.figures.options();
    let report_dir = args
        .report
        .report
        .clone()
        .unwrap_or_else(|| default_report_dir(&args.input));
    let checkpoint = args.checkpoint.dir(&report_dir);
    let out_dir = (!args.report.no_report).then_some(report_dir.as_path());
    check_apart(&checkpoint, out_dir)?;
    let options = StreamOptions {
        figures: opts.clone(),
        max_files_per_trigger: usize::MAX,
        order: args.run.order,
        mode: OutputMode::Complete,
        watermark_minutes: 0,
        threads: crate::source::threads(args.run.threads),
        read: args.read.options(false),
    };
    let mut stream = match &args.spark {
        Some(url) => Stream::open_on_cluster(url, &args.input, &checkpoint, options, args.rebuild)?,
        None if args.rebuild => Stream::rebuild(&args.input, &checkpoint, options)?,
        None => Stream::open(&args.input, &checkpoint, options)?,
    };
    // the last report's ledger and chart digest are read on another
    // thread while the new files are
    let prefetch = out_dir.map(|_| std::sync::Arc::new(output::reuse::Prefetch::start(&checkpoint)));
    let before = stream.input_stats().files;
    let mut new_files = 0;
    while let Some(outcome) = stream.run_trigger()? {
        new_files += outcome.files.len();
        for m in &outcome.missing {
            crate::text::warning(&format!("{m} was planned but is gone; recorded as missing"));
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
    let settings = output::ReportSettings {
        table_format: args.report.table_format,
        title: args.report.title.clone(),
        live: None,
        reuse: None,
        prefetch,
    };
    let p = output::publish_stream(
        &stream,
        &heading,
        &input,
        &opts,
        out_dir,
        args.report.all,
        false,
        &settings,
    )?;
    let printed = output::print(args.format, &p.summary, &p.tables, &p.figures, &p.rejected);
    // the command is the process's last act: what it holds is not freed
    std::mem::forget(p);
    stream.end_of_process()?;
    printed
}
