//! `windowpane stream`: take the input folder as a stream, a few files per
//! trigger, with a checkpoint that makes every file count exactly once.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Receiver;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use super::batch::{default_report_dir, FigureArgs, Format};
use crate::engine::stream::{AlertChange, OutputMode, Stream, StreamOptions};
use crate::metrics;
use crate::output;
use crate::output::live::{Live, View};
use crate::output::timefmt::short;
use crate::source::FileOrder;

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
    /// Files taken per trigger, at most.
    #[arg(long, default_value_t = 1, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_files_per_trigger: u64,
    /// Which minute-count rows each trigger emits.
    #[arg(long, value_enum, default_value_t = OutputMode::Complete)]
    pub output_mode: OutputMode,
    /// Append mode: how far event time may lag behind the largest seen before
    /// a minute window is final ("10m", "1h"); later events for it are late.
    #[arg(long, default_value = "10m", value_name = "DURATION", value_parser = super::batch::parse_minutes)]
    pub watermark: usize,
    /// Print the rows each trigger emits, as CSV, after its line.
    #[arg(long)]
    pub show_rows: bool,
    /// The checkpoint folder [default: reports/.<input name>-stream.checkpoint].
    #[arg(long, value_name = "DIR")]
    pub checkpoint: Option<PathBuf>,
    /// Where to write the report folder at the end [default: reports/<input name>-stream].
    #[arg(long, value_name = "DIR")]
    pub report: Option<PathBuf>,
    /// Write no report folder.
    #[arg(long, conflicts_with = "report")]
    pub no_report: bool,
    /// The format of the report's tables: tables/*.csv, tables/*.parquet
    /// (UTC timestamps, typed columns) or both.
    #[arg(long, value_enum, default_value_t = crate::output::tables::TableFormat::Csv, value_name = "FORMAT")]
    pub table_format: crate::output::tables::TableFormat,
    /// Keep watching INPUT for new files until stopped (Ctrl-C, SIGTERM or
    /// a closed terminal), instead of stopping when every file is processed.
    #[arg(long)]
    pub follow: bool,
    /// With --follow: a new file in INPUT starts a trigger at once; this is how
    /// often the folder is also looked at, in case a change goes unnoticed
    /// (network file systems) ("5s", "500ms").
    #[arg(long, default_value = "5s", value_name = "DURATION", value_parser = parse_interval)]
    pub trigger_interval: Duration,
    /// Print only the final tables, not a line per trigger.
    #[arg(long, short)]
    pub quiet: bool,
    /// What to print: a line per trigger and the tables; JSON, an object per
    /// line (each trigger's progress, then the summary); or only summary.json.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Show every hour in the final hourly table.
    #[arg(long)]
    pub all: bool,
    /// The order in which files are taken.
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

fn parse_interval(s: &str) -> Result<Duration, String> {
    let bad = || format!("expected a duration like 5s, 500ms, 1m or 1h; got {s:?}");
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = num.parse().map_err(|_| bad())?;
    let d = match unit {
        "ms" => Duration::from_millis(n),
        "s" | "" => Duration::from_secs(n),
        "m" => Duration::from_secs(n * 60),
        "h" => Duration::from_secs(n * 3600),
        _ => return Err(bad()),
    };
    if d.is_zero() {
        return Err(bad());
    }
    Ok(d)
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
    ctrlc::set_handler(move || {
        if flag.swap(true, Ordering::SeqCst) {
            // a second Ctrl-C: leave now; the checkpoint keeps what is committed
            std::process::exit(130);
        }
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
            eprintln!(
                "windowpane: cannot watch {} for new files ({e}); looking every --trigger-interval instead",
                input.display()
            );
            None
        }
    }
}

/// The default checkpoint of a report folder: hidden beside it.
pub fn default_checkpoint(report_dir: &Path) -> PathBuf {
    let name = report_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "input".into());
    report_dir.with_file_name(format!(".{name}.checkpoint"))
}

/// Refuses a checkpoint inside the report folder, which every report
/// replaces whole.
pub fn check_apart(checkpoint: &Path, report: Option<&Path>) -> Result<()> {
    let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    if let Some(report) = report {
        if absolute(checkpoint).starts_with(absolute(report)) {
            anyhow::bail!(
                "the checkpoint {} is inside the report folder {}, which each report replaces; \
                 give --checkpoint a folder outside it",
                checkpoint.display(),
                report.display()
            );
        }
    }
    Ok(())
}

/// A published run: its summary, terminal tables, figures and rejected lines.
pub struct Published {
    /// summary.json.
    pub summary: crate::output::summary::Summary,
    /// The terminal tables.
    pub tables: String,
    /// Every figure.
    pub figures: crate::metrics::Figures,
    /// The quarantined lines.
    pub rejected: Vec<crate::source::Rejected>,
}

/// Writes the report folder (when `out_dir` is given) from everything the
/// stream has read, and returns what was published; with `triggers`, the
/// report has the triggers table and chart.
#[allow(clippy::too_many_arguments)]
pub fn publish(
    stream: &Stream,
    heading: &str,
    title: &str,
    opts: &crate::metrics::Options,
    out_dir: Option<&Path>,
    all: bool,
    triggers: bool,
    settings: &output::ReportSettings,
) -> Result<Published> {
    if stream.events() == 0 {
        let input = stream.input_stats();
        anyhow::bail!(
            "no valid events in {title} after {} triggers ({} lines read, {} rejected, {} late)",
            stream.triggers().len(),
            input.lines,
            input.rejected,
            input.late
        );
    }
    let figures = stream
        .figures()
        .with_context(|| format!("cannot compute the figures of {title}"))?;
    let rejected = stream.rejected()?;
    // the long tables in blocks, reusing the last report's where it can
    let splice = out_dir
        .filter(|_| stream.options().mode != crate::engine::stream::OutputMode::Append)
        .map(|dir| {
            let later;
            let read = match settings.prefetch.as_deref() {
                Some(p) if p.checkpoint() == stream.checkpoint_dir() => p,
                _ => {
                    later = output::splice::Prefetch::later(stream.checkpoint_dir());
                    &later
                }
            };
            std::sync::Arc::new(output::splice::Splice::prepare(
                read,
                dir,
                // the moving average has a row per action and minute: a new
                // action changes every minute's rows
                format!(
                    "{} {opts:?} {:?} {:?}",
                    crate::VERSION,
                    settings.table_format,
                    figures.action_names()
                ),
                stream.commit(),
                stream.counts().minute_bounds(),
                opts.moving_window,
                stream.touched(),
            ))
        });
    let settings = &output::ReportSettings {
        splice: splice.clone(),
        ..settings.clone()
    };
    let run = output::Run {
        heading,
        title,
        input: stream.input_stats(),
        range: stream.counts().time_range(),
        rejected: &rejected,
        figures: &figures,
        options: opts,
        triggers: triggers.then(|| stream.triggers()),
    };
    let (summary, tables) = output::publish_with(&run, out_dir, all, settings)?;
    if let (Some(splice), Some(dir)) = (splice, out_dir) {
        if let Err(e) = splice.save(dir) {
            eprintln!("windowpane: warning: {e:#}; the next report is written whole");
        }
    }
    Ok(Published {
        summary,
        tables,
        figures,
        rejected,
    })
}

/// Standard output that a closed pipe (`| head`) silences instead of
/// stopping the run.
struct Out {
    closed: bool,
}

impl Out {
    fn line(&mut self, text: &str) -> Result<()> {
        self.text(&format!("{text}\n"))
    }

    fn text(&mut self, text: &str) -> Result<()> {
        use std::io::Write;
        if self.closed {
            return Ok(());
        }
        let mut out = std::io::stdout().lock();
        match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(())
            }
            other => Ok(other?),
        }
    }
}

/// A trigger's progress as one JSON object.
fn progress_json(o: &crate::engine::stream::Outcome, stream: &Stream) -> String {
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
    let json = args.format == Format::Json;
    let quiet = args.quiet || args.format != Format::Table;
    // beside batch's report, not in it: reports/<name>-stream
    let report_dir = {
        let base = default_report_dir(&args.input);
        let name = base
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        base.with_file_name(format!("{name}-stream"))
    };
    let checkpoint = args
        .checkpoint
        .clone()
        .unwrap_or_else(|| default_checkpoint(&report_dir));
    let mut out = Out { closed: false };
    let out_dir = (!args.no_report).then(|| args.report.clone().unwrap_or(report_dir.clone()));
    check_apart(&checkpoint, out_dir.as_deref())?;
    let mut stream = Stream::open(
        &args.input,
        &checkpoint,
        StreamOptions {
            figures: opts.clone(),
            max_files_per_trigger: args.max_files_per_trigger as usize,
            order: args.order,
            mode: args.output_mode,
            watermark_minutes: args.watermark,
            threads: crate::source::threads(args.threads),
            read: args.read.options(false),
        },
    )?;
    let resumed = stream.triggers().len();
    if resumed > 0 && !quiet {
        out.line(&format!(
            "resuming after trigger {resumed} from {}",
            checkpoint.display()
        ))?;
    }

    let stop = stop_flag()?;
    let changes = if args.follow { watch(&args.input) } else { None };
    let mut live = if !quiet && !args.show_rows && std::io::stdout().is_terminal() {
        Some(Live::start()?)
    } else {
        None
    };
    let quit = |live: &Option<Live>, wait: Duration| -> Result<bool> {
        if stop.load(Ordering::SeqCst) {
            return Ok(true);
        }
        match live {
            Some(l) => l.quit_requested(wait),
            None => {
                std::thread::sleep(wait);
                Ok(false)
            }
        }
    };
    let input_name = args.input.display().to_string();
    let heading = format!("windowpane stream: {input_name}");
    let mut alert_log: Vec<String> = Vec::new();
    let mut stopped = false;
    let mut reported = resumed;
    loop {
        if quit(&live, Duration::ZERO)? {
            stopped = true;
            break;
        }
        let Some(outcome) = stream.run_trigger()? else {
            if !args.follow {
                break;
            }
            // caught up: bring the report up to date while waiting
            if reported < stream.triggers().len() && stream.events() > 0 {
                if let Some(dir) = &out_dir {
                    // the page says it is live and reloads itself while the stream runs
                    let settings = output::ReportSettings {
                        table_format: args.table_format,
                        live: Some(output::report::LiveStatus {
                            updated: chrono::Utc::now(),
                            running: true,
                        }),
                        splice: None,
                        prefetch: None,
                    };
                    publish(
                        &stream,
                        &heading,
                        &input_name,
                        &opts,
                        Some(dir),
                        args.all,
                        true,
                        &settings,
                    )?;
                    if live.is_none() && !quiet {
                        out.line(&format!("report updated: {}", dir.display()))?;
                    }
                }
                reported = stream.triggers().len();
            }
            // wait for new files: a change in the folder wakes us at once, the
            // trigger interval is the polling fallback; look now and then for a stop
            let until = Instant::now() + args.trigger_interval;
            while Instant::now() < until && !stopped {
                stopped = quit(&live, Duration::from_millis(50).min(args.trigger_interval))?;
                if changes.as_ref().is_some_and(|(_, rx)| rx.try_recv().is_ok()) {
                    // let a batch of files moved in together land, then take them together
                    std::thread::sleep(Duration::from_millis(100));
                    while changes.as_ref().is_some_and(|(_, rx)| rx.try_recv().is_ok()) {}
                    break;
                }
            }
            if stopped {
                break;
            }
            continue;
        };
        for m in &outcome.missing {
            eprintln!(
                "windowpane: warning: {m} was planned for trigger {} but is gone; recorded as missing",
                outcome.row.trigger
            );
        }
        if json {
            out.line(&progress_json(&outcome, &stream))?;
            continue;
        }
        if let Some(view) = live.as_mut() {
            alert_log.extend(outcome.alerts.iter().map(|c| describe(c, &opts)));
            let files_left = stream.files_left()?;
            let mut figures = stream.recent_figures(crate::output::live::RECENT_MINUTES)?;
            figures.alerts = stream.alerts();
            let status = match outcome.watermark {
                Some(w) => format!("append, watermark {} · {} late events", short(w), stream.late()),
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
            view.draw(&View {
                input: &args.input.display().to_string(),
                trigger: outcome.row.trigger,
                files_done: stream.input_stats().files,
                files_left,
                events: stream.events(),
                trigger_events: outcome.row.events,
                figures: &figures,
                recent: &recent,
                moving: moving_at.map(|t| (t, moving.as_slice())),
                variance: stream.variance(),
                alerts: &alert_log,
                status,
            })?;
            continue;
        }
        if !quiet {
            let r = &outcome.row;
            out.line(&format!(
                "trigger {}: {} ({} events, {} rejected) · state {} rows · {} rows emitted ({}) · variance {} · {:.1} ms",
                r.trigger,
                file_list(&outcome.files),
                r.events,
                r.rejected,
                r.state_rows,
                outcome.emitted_rows,
                format!("{:?}", args.output_mode).to_lowercase(),
                r.variance.map_or("–".to_string(), |v| format!("{v:.4}")),
                r.duration_ms
            ))?;
            if let Some(w) = outcome.watermark {
                out.line(&format!(
                    "  watermark {} · {} late events (counted, not merged)",
                    short(w),
                    outcome.late
                ))?;
            }
            for change in &outcome.alerts {
                out.line(&format!("  {}", describe(change, &opts)))?;
            }
            if args.show_rows {
                out.line("  action,window_start,window_end,count")?;
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
                    out.line(&format!(
                        "  {},{},{},{}",
                        crate::output::csv::field(a),
                        crate::output::timefmt::rfc3339(m),
                        crate::output::timefmt::rfc3339(m + metrics::MINUTE),
                        c
                    ))?;
                }
            }
        }
    }
    // give the terminal back before printing
    drop(live);
    if stopped {
        eprintln!("windowpane: stopped after trigger {}", stream.triggers().len());
    } else if resumed > 0 && stream.triggers().len() == resumed && !quiet {
        out.line(&format!(
            "no new files: every file of {} was taken by an earlier run",
            args.input.display()
        ))?;
    }
    let Published {
        summary, tables: text, ..
    } = publish(
        &stream,
        &heading,
        &input_name,
        &opts,
        out_dir.as_deref(),
        args.all,
        true,
        &output::ReportSettings {
            table_format: args.table_format,
            // a followed stream leaves a page that says it has ended
            live: args.follow.then(|| output::report::LiveStatus {
                updated: chrono::Utc::now(),
                running: false,
            }),
            splice: None,
            prefetch: None,
        },
    )?;
    if args.format == Format::Summary {
        return crate::print_stdout(&summary.to_json());
    }
    if json {
        return out.line(&serde_json::json!({ "summary": summary }).to_string());
    }
    let late = if args.output_mode == OutputMode::Append {
        format!(", {} late events counted but not merged", stream.late())
    } else {
        String::new()
    };
    out.text(&format!(
        "\nafter {} triggers (variance {}{late}):\n{text}",
        stream.triggers().len(),
        stream.variance().map_or("–".to_string(), |v| v.to_string())
    ))
}
