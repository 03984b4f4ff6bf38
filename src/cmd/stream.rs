//! `windowpane stream`: take the input folder as a stream, a few files per
//! trigger, with a checkpoint that makes every file count exactly once.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Receiver;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use super::args::{
    check_apart, default_stream_report_dir, parse_duration, parse_minutes, CheckpointArgs, FigureArgs, ReportArgs,
    RunArgs, StreamFormat,
};
use crate::engine::stream::{AlertChange, Outcome, OutputMode, Stream, StreamOptions};
use crate::metrics;
use crate::output;
use crate::output::live::{Live, View};
use crate::output::timefmt::short;
use crate::text::{printable, Stdout};

/// Analyse a folder of NDJSON events as a stream, a few files per trigger.
///
/// Like Spark's file source with maxFilesPerTrigger: each trigger takes up to
/// --max-files-per-trigger files not processed yet, in input order, folds
/// them into the counts per action and minute, and derives every figure
/// again. It prints one line per trigger (files, events, state size,
/// variance, alerts that appeared, changed or were withdrawn) and, at the
/// end, the same tables and report folder as `batch`, plus
/// tables/triggers.csv. The final figures are exactly those of `batch`.
///
/// Every trigger is logged in the checkpoint folder before it runs and
/// committed after; the checkpoint holds what each trigger changed, and now
/// and then a snapshot of the whole state. A run that is killed and started again with the same
/// command goes on where it stopped, counting nothing twice; a rerun on a
/// folder that has gained files takes only the new ones. Files whose names
/// are hidden or start with _ are skipped: write a file under such a name
/// and rename it when it is complete.
///
/// With --format json, one JSON object per line: each trigger's progress
/// (in the spirit of Spark's StreamingQueryProgress), then {"summary": …};
/// --format summary prints only summary.json, as `batch --format summary`.
///
/// To bring a report up to date with a new dump, `windowpane update` is
/// the shorter command: every new file at once, the batch report.
///
/// Exit status: 0 on success, 1 when the input or the checkpoint cannot be
/// used, 2 on a usage error.
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// A folder of NDJSON event files, or one file.
    #[arg(default_value = "data/events")]
    pub input: PathBuf,
    /// Stop after N triggers of this run, as if stopped by Ctrl-C: the
    /// next run with the same checkpoint goes on from there.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_triggers: Option<u64>,
    /// Files taken per trigger, at most.
    #[arg(long, default_value_t = 1, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_files_per_trigger: u64,
    /// Which minute-count rows each trigger emits.
    #[arg(long, value_enum, default_value_t = OutputMode::Complete)]
    pub output_mode: OutputMode,
    /// Append mode: how far event time may lag behind the largest seen before
    /// a minute window is final ("10m", "1h", "10 minutes"); later events for
    /// it are late.
    #[arg(long, default_value = "10m", value_name = "DURATION", value_parser = parse_minutes)]
    pub watermark: usize,
    /// Print the rows each trigger emits, as CSV, after its line.
    #[arg(long)]
    pub show_rows: bool,
    #[command(flatten)]
    pub checkpoint: CheckpointArgs,
    #[command(flatten)]
    pub report: ReportArgs,
    /// Keep watching INPUT for new files until stopped (Ctrl-C, SIGTERM or
    /// a closed terminal), instead of stopping when every file is processed.
    #[arg(long)]
    pub follow: bool,
    /// With --follow: a new file in INPUT starts a trigger at once; this is how
    /// often the folder is also looked at, in case a change goes unnoticed
    /// (network file systems) ("5s", "500ms").
    #[arg(long, default_value = "5s", value_name = "DURATION", value_parser = parse_duration)]
    pub trigger_interval: Duration,
    /// Print only the final tables, not a line per trigger.
    #[arg(long, short)]
    pub quiet: bool,
    /// What to print: a line per trigger and the tables; JSON, an object per
    /// line (each trigger's progress, then the summary); or only summary.json.
    #[arg(long, value_enum, default_value_t = StreamFormat::Table)]
    pub format: StreamFormat,
    #[command(flatten)]
    pub run: RunArgs,
    #[command(flatten)]
    pub figures: FigureArgs,
    #[command(flatten)]
    pub read: crate::source::ReadArgs,
    /// Read the files on a Spark cluster through Spark Connect (Spark 4.0
    /// or newer), as `update --spark` does: sc://HOST:PORT, optionally
    /// followed by /;token=…;use_ssl=true. The cluster lists INPUT (a path
    /// there) and each trigger scans its files there; with --follow, INPUT
    /// is listed again every --trigger-interval.
    #[arg(long, value_name = "URL")]
    pub spark: Option<String>,
}

/// One line for an alert change.
fn describe(change: &AlertChange, opts: &crate::metrics::Options) -> String {
    let (what, a) = match change {
        AlertChange::New(a) => ("new", a),
        AlertChange::Updated(a) => ("updated", a),
        AlertChange::Withdrawn(a) => ("withdrawn, now within the threshold", a),
    };
    format!(
        "alert {what}: {} {} {} − {} {} = {:+}",
        short(a.window_start),
        opts.alert_actions.0,
        a.open,
        opts.alert_actions.1,
        a.close,
        a.difference
    )
}

/// The files of a trigger for its log line: all of them when few, else the
/// first and the last.
fn file_list(files: &[String]) -> String {
    match files {
        [first, .., last] if files.len() > 3 => format!("{first} … {last} ({} files)", files.len()),
        _ => files.join(", "),
    }
}

/// A flag Ctrl-C, SIGTERM and SIGHUP set: the stream stops after the
/// trigger under way.
fn stop_flag() -> Result<Arc<AtomicBool>> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    crate::signals::on_stop(move || {
        if flag.swap(true, Ordering::SeqCst) {
            // a second Ctrl-C: leave now; the checkpoint keeps what is committed
            std::process::exit(130);
        }
        // a scan running on a cluster is stopped there: its trigger is
        // not committed, and runs again next time
        crate::source::spark::client::interrupt_query();
    })
    .context("cannot install the handler of Ctrl-C, SIGTERM and SIGHUP")?;
    Ok(stop)
}

/// Watches `input` for changes; `None` (polling only) when the system
/// cannot, which is said once.
fn watch(input: &std::path::Path) -> Option<(notify::RecommendedWatcher, Receiver<()>)> {
    use notify::Watcher;
    let (tx, rx) = std::sync::mpsc::channel();
    let watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if event.is_ok() {
            let _ = tx.send(());
        }
    })
    .and_then(|mut w| w.watch(input, notify::RecursiveMode::NonRecursive).map(|()| w));
    match watcher {
        Ok(w) => Some((w, rx)),
        Err(e) => {
            crate::text::note(&format!(
                "cannot watch {} for new files ({e}); looking every --trigger-interval instead",
                input.display()
            ));
            None
        }
    }
}

/// A trigger's progress as one JSON object.
fn progress_json(o: &Outcome, stream: &Stream) -> String {
    let r = &o.row;
    let count = |f: fn(&AlertChange) -> bool| o.alerts.iter().filter(|a| f(a)).count();
    let seconds = (o.durations.read + o.durations.update + o.durations.commit) / 1000.0;
    serde_json::json!({
        "trigger": r.trigger,
        "timestamp": crate::output::timefmt::rfc3339(chrono::Utc::now().timestamp()),
        "files": o.files,
        "missing_files": o.missing,
        "num_input_rows": r.events + r.rejected + r.late,
        "events": r.events,
        "rejected": r.rejected,
        "late": r.late,
        "processed_rows_per_second": if seconds > 0.0 { (r.events + r.rejected + r.late) as f64 / seconds } else { 0.0 },
        "duration_ms": {
            "read": o.durations.read,
            "update": o.durations.update,
            "commit": o.durations.commit,
            "total": o.durations.read + o.durations.update + o.durations.commit,
        },
        "state_rows": r.state_rows,
        "rows_updated": o.changed_rows,
        "rows_emitted": o.emitted_rows,
        "watermark": o.watermark.map(crate::output::timefmt::rfc3339),
        "variance": r.variance,
        "alerts": {
            "new": count(|a| matches!(a, AlertChange::New(_))),
            "updated": count(|a| matches!(a, AlertChange::Updated(_))),
            "withdrawn": count(|a| matches!(a, AlertChange::Withdrawn(_))),
            "total": stream.alert_count(),
        },
        "events_total": stream.events(),
    })
    .to_string()
}

/// Runs the command.
pub fn run(args: &Args) -> Result<()> {
    let opts = args.figures.options();
    // beside batch's report, not in it: reports/<name>-stream
    let report_dir = default_stream_report_dir(&args.input);
    let checkpoint = args.checkpoint.dir(&report_dir);
    let out_dir = args.report.dir(report_dir);
    check_apart(&checkpoint, out_dir.as_deref())?;
    let options = StreamOptions {
        figures: opts.clone(),
        max_files_per_trigger: args.max_files_per_trigger as usize,
        order: args.run.order,
        mode: args.output_mode,
        watermark_minutes: args.watermark,
        threads: crate::source::threads(args.run.threads),
        read: args.read.options(false),
    };
    let mut stream = match &args.spark {
        Some(url) => Stream::open_on_cluster(url, &args.input, &checkpoint, options, false)?,
        None => Stream::open(&args.input, &checkpoint, options)?,
    };
    let resumed = stream.triggers().len();
    let quiet = args.quiet || args.format != StreamFormat::Table;
    if resumed > 0 && !quiet {
        // before the live view takes the screen
        crate::text::print_stdout(&format!(
            "resuming after trigger {resumed} from {}\n",
            checkpoint.display()
        ))?;
    }
    let mut screen = Screen::new(args)?;
    // a cluster's scans are announced on standard error only where that
    // does not write over the live view
    stream.set_scan_notices(screen.live.is_none() && !screen.quiet);
    let stopped = take_triggers(args, &mut stream, &mut screen, out_dir.as_deref())?;
    // give the terminal back before printing
    let mut out = screen.close();
    if stopped {
        // after a hang-up the terminal may be gone: a message that cannot
        // be written must not stop the report from being written
        use std::io::Write as _;
        let _ = writeln!(
            std::io::stderr(),
            "windowpane: stopped after trigger {}; the same command goes on from there",
            stream.triggers().len()
        );
    } else if resumed > 0 && stream.triggers().len() == resumed && !quiet {
        out.line(&format!(
            "no new files: every file of {} was taken by an earlier run",
            args.input.display()
        ))?;
    }
    finish(args, &stream, &mut out, out_dir.as_deref())
}

/// Runs triggers until every file is taken (or, with --follow, until a
/// stop), showing each; returns whether a stop ended them.
fn take_triggers(args: &Args, stream: &mut Stream, screen: &mut Screen, out_dir: Option<&Path>) -> Result<bool> {
    let stop = stop_flag()?;
    // a cluster's folder is not watched from here: it is listed again
    // every --trigger-interval
    let changes = if args.follow && args.spark.is_none() {
        watch(&args.input)
    } else {
        None
    };
    let mut reported = stream.triggers().len();
    let taken_before = reported;
    // said once each time the stream catches up and starts to wait
    let mut waiting_said = false;
    loop {
        if screen.stop_asked(&stop, Duration::ZERO)? {
            return Ok(true);
        }
        let next = match stream.run_trigger() {
            Ok(next) => next,
            // Ctrl-C stopped the trigger's scan on the cluster
            Err(e) if stop.load(Ordering::SeqCst) && args.spark.is_some() => {
                eprintln!("windowpane: {}", printable(&format!("{e:#}")));
                return Ok(true);
            }
            Err(e) => return Err(e),
        };
        let Some(outcome) = next else {
            if !args.follow {
                return Ok(false);
            }
            // caught up: bring the report up to date while waiting
            if reported < stream.triggers().len() && stream.events() > 0 {
                if let Some(dir) = out_dir {
                    publish_live(args, stream, dir)?;
                    if screen.live.is_none() && !screen.quiet {
                        screen.out.line(&format!("report updated: {}", dir.display()))?;
                    }
                }
                reported = stream.triggers().len();
            }
            if !waiting_said && !screen.quiet {
                let input = args.input.display().to_string();
                match &screen.live {
                    Some(live) => live.waiting(&input)?,
                    None => screen.out.line(&format!(
                        "watching {}: waiting for new files (Ctrl-C stops)",
                        printable(&input)
                    ))?,
                }
                waiting_said = true;
            }
            if wait_for_files(args, &changes, screen, &stop)? {
                return Ok(true);
            }
            continue;
        };
        waiting_said = false;
        for m in &outcome.missing {
            crate::text::warning(&format!(
                "{m} was planned for trigger {} but is gone; recorded as missing",
                outcome.row.trigger
            ));
        }
        match screen.trigger(args, &outcome, stream) {
            Ok(()) => {}
            // Ctrl-C stopped the listing the view asked the cluster for
            Err(e) if stop.load(Ordering::SeqCst) && args.spark.is_some() => {
                eprintln!("windowpane: {}", printable(&format!("{e:#}")));
                return Ok(true);
            }
            Err(e) => return Err(e),
        }
        if args
            .max_triggers
            .is_some_and(|max| (stream.triggers().len() - taken_before) as u64 >= max)
        {
            return Ok(true);
        }
    }
}

/// Waits for new files: a change in the folder wakes the stream at once,
/// the trigger interval is the fallback of a folder that cannot be
/// watched. Returns whether a stop was asked for meanwhile.
fn wait_for_files(
    args: &Args,
    changes: &Option<(notify::RecommendedWatcher, Receiver<()>)>,
    screen: &Screen,
    stop: &AtomicBool,
) -> Result<bool> {
    let until = Instant::now() + args.trigger_interval;
    while Instant::now() < until {
        if screen.stop_asked(stop, Duration::from_millis(50).min(args.trigger_interval))? {
            return Ok(true);
        }
        if changes.as_ref().is_some_and(|(_, rx)| rx.try_recv().is_ok()) {
            // let a batch of files moved in together land, then take them together
            std::thread::sleep(Duration::from_millis(100));
            while changes.as_ref().is_some_and(|(_, rx)| rx.try_recv().is_ok()) {}
            return Ok(false);
        }
    }
    Ok(false)
}

/// Brings the report up to date while a followed stream waits: its page
/// says it is live and reloads itself.
fn publish_live(args: &Args, stream: &Stream, dir: &Path) -> Result<()> {
    publish(args, stream, Some(dir), Some(true))?;
    Ok(())
}

/// Writes the stream's report to `dir` (if any) and returns what was
/// published; `running` says what the page says of a followed stream: live
/// (`Some(true)`), ended (`Some(false)`), or nothing.
fn publish(args: &Args, stream: &Stream, dir: Option<&Path>, running: Option<bool>) -> Result<output::Published> {
    let input = args.input.display().to_string();
    output::publish_stream(
        stream,
        &format!("windowpane stream: {input}"),
        &input,
        &args.figures.options(),
        dir,
        args.report.all,
        true,
        &output::ReportSettings {
            table_format: args.report.table_format,
            title: args.report.title.clone(),
            live: running.map(|running| output::report::LiveStatus {
                updated: chrono::Utc::now(),
                running,
            }),
            reuse: None,
            prefetch: None,
        },
    )
}

/// Writes the final report and prints the final tables (or summary).
fn finish(args: &Args, stream: &Stream, out: &mut Stdout, out_dir: Option<&Path>) -> Result<()> {
    // a followed stream leaves a page that says it has ended
    let output::Published {
        summary, tables: text, ..
    } = publish(args, stream, out_dir, args.follow.then_some(false))?;
    match args.format {
        StreamFormat::Summary => out.text(&summary.to_json()),
        StreamFormat::Json => out.line(&serde_json::json!({ "summary": summary }).to_string()),
        StreamFormat::Table => {
            let late = if args.output_mode == OutputMode::Append {
                format!(
                    ", {} counted but not merged",
                    crate::text::count_of(stream.late(), "late events")
                )
            } else {
                String::new()
            };
            out.text(&format!(
                "\nafter {} triggers (variance {}{late}):\n{text}",
                stream.triggers().len(),
                stream.variance().map_or("–".to_string(), |v| v.to_string())
            ))
        }
    }
}

/// Where each trigger is shown: the live view on a terminal, else a line
/// per trigger (or a JSON object), or nothing with --quiet.
struct Screen {
    out: Stdout,
    live: Option<Live>,
    quiet: bool,
    alert_log: Vec<String>,
}

impl Screen {
    fn new(args: &Args) -> Result<Screen> {
        let quiet = args.quiet || args.format != StreamFormat::Table;
        let live = if !quiet && !args.show_rows && std::io::stdout().is_terminal() {
            // warnings wait for the screen to be given back
            crate::text::hold_notices();
            Some(Live::start()?)
        } else {
            None
        };
        Ok(Screen {
            out: Stdout::default(),
            live,
            quiet,
            alert_log: Vec::new(),
        })
    }

    /// Whether a stop was asked for (Ctrl-C, a signal, `q` in the live
    /// view), looking for `wait` at most.
    fn stop_asked(&self, stop: &AtomicBool, wait: Duration) -> Result<bool> {
        if stop.load(Ordering::SeqCst) {
            return Ok(true);
        }
        match &self.live {
            Some(l) => l.quit_requested(wait),
            None => {
                std::thread::sleep(wait);
                Ok(false)
            }
        }
    }

    /// Shows one trigger.
    fn trigger(&mut self, args: &Args, outcome: &Outcome, stream: &mut Stream) -> Result<()> {
        if args.format == StreamFormat::Json {
            return self.out.line(&progress_json(outcome, stream));
        }
        if self.live.is_some() {
            return self.draw(args, outcome, stream);
        }
        if !self.quiet {
            self.lines(args, outcome, stream)?;
        }
        Ok(())
    }

    /// The live view after a trigger.
    fn draw(&mut self, args: &Args, outcome: &Outcome, stream: &mut Stream) -> Result<()> {
        let opts = args.figures.options();
        self.alert_log.extend(outcome.alerts.iter().map(|c| describe(c, &opts)));
        let files_left = stream.files_left()?;
        let mut figures = stream.recent_figures(crate::output::live::RECENT_MINUTES)?;
        figures.alerts = stream.alerts();
        let status = match outcome.watermark {
            Some(w) => format!(
                "append, watermark {} · {}",
                short(w),
                crate::text::count_of(stream.late(), "late events")
            ),
            None => format!("{:?} mode", args.output_mode).to_lowercase(),
        };
        // the latest minutes' counts and moving averages, for the bars
        let recent: Vec<(i64, String, i64)> = figures
            .minute_counts()
            .iter()
            .map(|(a, m, c)| (m, a.to_string(), c as i64))
            .collect();
        let moving_rows = figures.moving_rows()?;
        let moving_at = moving_rows.iter().map(|m| m.window_start).max();
        let moving: Vec<(String, f64, Option<f64>)> = moving_rows
            .iter()
            .filter(|m| Some(m.window_start) == moving_at)
            .map(|m| (m.action.to_string(), m.moving_average, m.moving_variance))
            .collect();
        let Some(view) = self.live.as_mut() else { return Ok(()) };
        view.draw(&View {
            input: &args.input.display().to_string(),
            trigger: outcome.row.trigger,
            files_done: stream.input_stats().files,
            files_left,
            events: stream.events(),
            trigger_events: outcome.row.events,
            trigger_ms: outcome.row.duration_ms,
            figures: &figures,
            recent: &recent,
            moving: moving_at.map(|t| (t, moving.as_slice())),
            variance: stream.variance(),
            alerts: &self.alert_log,
            status,
        })
    }

    /// A trigger's line, its watermark, its alert changes and, with
    /// --show-rows, the rows it emits as CSV.
    fn lines(&mut self, args: &Args, outcome: &Outcome, stream: &Stream) -> Result<()> {
        let r = &outcome.row;
        let mode = format!("{:?}", args.output_mode).to_lowercase();
        self.out.line(&format!(
            "trigger {}: {} ({} events, {} rejected) · state {} rows · {} rows emitted ({mode}) · variance {} · {:.1} ms",
            r.trigger,
            file_list(&outcome.files),
            r.events,
            r.rejected,
            r.state_rows,
            outcome.emitted_rows,
            r.variance.map_or("–".to_string(), |v| format!("{v:.4}")),
            r.duration_ms
        ))?;
        if let Some(w) = outcome.watermark {
            self.out.line(&format!(
                "  watermark {} · {} (counted, not merged)",
                short(w),
                crate::text::count_of(outcome.late, "late events")
            ))?;
        }
        let opts = args.figures.options();
        for change in &outcome.alerts {
            self.out.line(&format!("  {}", describe(change, &opts)))?;
        }
        if args.show_rows {
            self.out.line("  action,window_start,window_end,count")?;
            let all;
            let rows: Vec<(&str, i64, i64)> = if args.output_mode == OutputMode::Complete {
                all = stream.counts().table();
                all.iter().map(|(a, m, c)| (&**a, m, c as i64)).collect()
            } else {
                outcome
                    .emitted
                    .iter()
                    .map(|c| (&*c.action, c.window_start, c.count))
                    .collect()
            };
            for (a, m, c) in rows {
                self.out.line(&format!(
                    "  {},{},{},{}",
                    crate::output::csv::field(a),
                    crate::output::timefmt::rfc3339(m),
                    crate::output::timefmt::rfc3339(m + metrics::MINUTE),
                    c
                ))?;
            }
        }
        Ok(())
    }

    /// Gives the terminal back; what is printed after goes to standard
    /// output.
    fn close(self) -> Stdout {
        drop(self.live);
        crate::text::release_notices();
        self.out
    }
}
