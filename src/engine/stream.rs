//! Streaming: the input folder taken a few files per trigger, as Spark's
//! file source does with `maxFilesPerTrigger`, folded into the same state
//! as batch, with every figure derived from that state after each trigger.
//!
//! Each trigger is recorded in a [`Checkpoint`] before it runs and committed
//! after, so a run killed at any point and started again counts every file
//! exactly once and ends with the batch figures.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Instant, UNIX_EPOCH};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use super::checkpoint::Checkpoint;
use super::welford::Welford;
use crate::metrics::{self, Alert, Count, Figures, Options, MINUTE};
use crate::progress::Progress;
use crate::source::{self, Batch, FileOrder, InputFile, Rejected};
use crate::state::MinuteCounts;

/// Which rows a trigger emits, as Spark names the modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum, Default)]
#[serde(rename_all = "lowercase")]
pub enum OutputMode {
    /// The whole minute-count table after each trigger.
    #[default]
    Complete,
    /// Only the minute-count rows the trigger changed.
    Update,
    /// Each minute-count row once, when its window is final: the largest
    /// event time seen minus the watermark has passed the window's end.
    Append,
}

/// How a stream runs.
#[derive(Debug, Clone)]
pub struct StreamOptions {
    /// The figures' options.
    pub figures: Options,
    /// Files taken per trigger, at most (at least 1).
    pub max_files_per_trigger: usize,
    /// The order files are taken in.
    pub order: FileOrder,
    /// Which rows each trigger emits.
    pub mode: OutputMode,
    /// Append mode: how far (in minutes) event time may lag behind the
    /// largest seen before its window is final and later events are late.
    pub watermark_minutes: usize,
    /// Reader threads.
    pub threads: usize,
}

/// What a checkpoint belongs to: a checkpoint made with other values is
/// refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metadata {
    version: u32,
    input: String,
    order: String,
    mode: OutputMode,
    alert_threshold: i64,
    alert_actions: (String, String),
    moving_window: usize,
    watermark_minutes: Option<usize>,
}

/// A processed file, as it was when it was read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileStamp {
    /// Its name relative to the input.
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its modification time, nanoseconds since the epoch.
    pub mtime_ns: u128,
}

impl FileStamp {
    fn of(file: &InputFile) -> Result<Self> {
        let meta = std::fs::metadata(&file.path).with_context(|| format!("cannot read {}", file.path.display()))?;
        let mtime_ns = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        Ok(Self {
            name: file.name.clone(),
            size: meta.len(),
            mtime_ns,
        })
    }
}

/// One row of `tables/triggers.csv`: what a trigger did (Spark's query
/// progress).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TriggerRow {
    /// Trigger number, from 1.
    pub trigger: u64,
    /// Files it took.
    pub files: u64,
    /// Valid events in them.
    pub events: u64,
    /// Rejected lines in them.
    pub rejected: u64,
    /// Rows of the state (action, minute) after it.
    pub state_rows: u64,
    /// Variance of the minute counts after it (online).
    pub variance: Option<f64>,
    /// Alert minutes that appeared in it.
    pub new_alerts: u64,
    /// Wall time of the trigger.
    pub duration_ms: f64,
}

/// A change of the alert list made by one trigger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlertChange {
    /// A minute crossed the threshold.
    New(Alert),
    /// An alert minute's counts changed; it is still over the threshold.
    Updated(Alert),
    /// An alert minute fell back under the threshold.
    Withdrawn(Alert),
}

/// What one trigger did and emitted.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Its row of the triggers table.
    pub row: TriggerRow,
    /// The files it took.
    pub files: Vec<String>,
    /// The minute-count rows it emits: all of them (complete) or those it
    /// changed (update).
    pub emitted: Vec<Count>,
    /// How the alerts changed.
    pub alerts: Vec<AlertChange>,
    /// Every figure after it.
    pub figures: Figures,
    /// Events that came for windows already final (append mode): counted
    /// here, not merged.
    pub late: u64,
    /// The watermark after it (append mode), epoch seconds.
    pub watermark: Option<i64>,
}

/// What the checkpoint saves after each trigger.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Saved {
    trigger: u64,
    processed: Vec<FileStamp>,
    files: u64,
    lines: u64,
    counts: Vec<(String, i64, u64)>,
    range: Option<(i64, i64)>,
    welford: Welford,
    rejected: Vec<Rejected>,
    alerts: Vec<(i64, i64, i64)>,
    triggers: Vec<TriggerRow>,
    #[serde(default)]
    watermark: Option<i64>,
    #[serde(default)]
    late: u64,
    /// Append mode: events in rows made final and moved out of the state.
    #[serde(default)]
    final_events: u64,
}

/// A stream over one input folder with its checkpoint.
pub struct Stream {
    input: PathBuf,
    checkpoint: Checkpoint,
    opts: StreamOptions,
    trigger: u64,
    processed: Vec<FileStamp>,
    batch: Batch,
    welford: Welford,
    alerts: BTreeMap<i64, Alert>,
    triggers: Vec<TriggerRow>,
    warned: HashSet<String>,
    watermark: Option<i64>,
    late: u64,
    final_events: u64,
}

impl Stream {
    /// Opens a stream on `input` with its checkpoint in `checkpoint_dir`,
    /// taking up where an earlier run with the same checkpoint stopped.
    pub fn open(input: &Path, checkpoint_dir: &Path, opts: StreamOptions) -> Result<Self> {
        let canonical = input
            .canonicalize()
            .with_context(|| format!("cannot open the input {}: check the path", input.display()))?;
        let metadata = Metadata {
            version: 1,
            input: canonical.display().to_string(),
            order: format!("{:?}", opts.order).to_lowercase(),
            mode: opts.mode,
            alert_threshold: opts.figures.alert_threshold,
            alert_actions: opts.figures.alert_actions.clone(),
            moving_window: opts.figures.moving_window,
            watermark_minutes: (opts.mode == OutputMode::Append).then_some(opts.watermark_minutes),
        };
        let checkpoint = Checkpoint::open(checkpoint_dir, &metadata)?;
        let last = checkpoint.last_commit()?;
        let saved: Saved = if last == 0 {
            Saved::default()
        } else {
            checkpoint.load_state(last)?
        };
        let counts = MinuteCounts::from_rows(saved.counts, saved.range);
        Ok(Self {
            input: input.to_path_buf(),
            checkpoint,
            opts,
            trigger: saved.trigger,
            processed: saved.processed,
            batch: Batch {
                files: saved.files,
                lines: saved.lines,
                counts,
                rejected: saved.rejected,
                skipped: Vec::new(),
            },
            welford: saved.welford,
            alerts: saved
                .alerts
                .into_iter()
                .map(|(s, open, close)| (s, alert(s, open, close)))
                .collect(),
            triggers: saved.triggers,
            watermark: saved.watermark,
            late: saved.late,
            final_events: saved.final_events,
            warned: HashSet::new(),
        })
    }

    /// Everything read so far, as one batch; in append mode, only the
    /// windows not final yet (see [`Stream::complete_batch`]).
    pub fn batch(&self) -> &Batch {
        &self.batch
    }

    /// Events counted so far (in append mode, late events are not).
    pub fn events(&self) -> u64 {
        self.batch.counts.events() + self.final_events
    }

    /// Everything read so far, as one batch, with the windows append mode
    /// made final read back from the checkpoint: what the report is made of.
    pub fn complete_batch(&self) -> Result<Batch> {
        let mut batch = self.batch.clone();
        if self.opts.mode == OutputMode::Append {
            let finals: Vec<Vec<(String, i64, u64)>> = self.checkpoint.read_finals(self.trigger)?;
            let range = batch.counts.time_range();
            let rows = finals
                .into_iter()
                .flatten()
                .chain(batch.counts.rows().into_iter().map(|(a, m, n)| (a.to_string(), m, n)));
            batch.counts = MinuteCounts::from_rows(rows, range);
        }
        Ok(batch)
    }

    /// Every trigger so far, including those of earlier runs.
    pub fn triggers(&self) -> &[TriggerRow] {
        &self.triggers
    }

    /// Events dropped as late (append mode), over every trigger.
    pub fn late(&self) -> u64 {
        self.late
    }

    /// The online variance of the minute counts.
    pub fn variance(&self) -> Option<f64> {
        self.welford.variance()
    }

    /// Input files not processed yet, in input order. A processed file that
    /// has changed since is reported once on standard error and not re-read.
    pub fn unprocessed(&mut self) -> Result<Vec<InputFile>> {
        let files = source::list_files(&self.input, self.opts.order)?;
        let done: BTreeMap<&str, &FileStamp> = self.processed.iter().map(|s| (s.name.as_str(), s)).collect();
        let mut out = Vec::new();
        for file in files {
            match done.get(file.name.as_str()) {
                None => out.push(file),
                Some(stamp) => {
                    let now = FileStamp::of(&file)?;
                    if (now.size, now.mtime_ns) != (stamp.size, stamp.mtime_ns) && self.warned.insert(file.name.clone())
                    {
                        eprintln!(
                            "windowpane: warning: {} has changed since it was processed (size {} then, {} now); \
                             its new content is not counted: put new events in new files",
                            file.name, stamp.size, now.size
                        );
                    }
                }
            }
        }
        Ok(out)
    }

    /// Runs the next trigger: the files planned by a run that was stopped
    /// before committing, or else up to `max_files_per_trigger` unprocessed
    /// files. Returns `None` when there is nothing to take.
    pub fn run_trigger(&mut self) -> Result<Option<Outcome>> {
        let n = self.trigger + 1;
        let stamps: Vec<FileStamp> = match self.checkpoint.planned(n)? {
            Some(planned) => planned,
            None => {
                let take: Vec<InputFile> = self
                    .unprocessed()?
                    .into_iter()
                    .take(self.opts.max_files_per_trigger.max(1))
                    .collect();
                if take.is_empty() {
                    return Ok(None);
                }
                let stamps = take.iter().map(FileStamp::of).collect::<Result<Vec<_>>>()?;
                self.checkpoint.plan(n, &stamps)?;
                stamps
            }
        };
        let started = Instant::now();
        let root = if self.input.is_dir() {
            self.input.clone()
        } else {
            PathBuf::new()
        };
        let files: Vec<InputFile> = stamps
            .iter()
            .map(|s| InputFile {
                path: if root.as_os_str().is_empty() {
                    self.input.clone()
                } else {
                    root.join(&s.name)
                },
                name: s.name.clone(),
            })
            .collect();
        let delta = source::read_all(&files, self.opts.threads, false, &Progress::hidden())?;
        Ok(Some(self.apply(n, stamps, delta, started)?))
    }

    fn apply(&mut self, n: u64, stamps: Vec<FileStamp>, mut delta: Batch, started: Instant) -> Result<Outcome> {
        let (events, rejected) = (delta.counts.events(), delta.rejected.len() as u64);
        // append mode: counts for windows already final are late, and dropped
        let mut late = 0;
        let before = self.watermark;
        if self.opts.mode == OutputMode::Append {
            let range = delta.counts.time_range();
            late = delta
                .counts
                .retain_minutes(|minute| before.is_none_or(|w| minute + MINUTE > w));
            let lag = self.opts.watermark_minutes as i64 * MINUTE;
            let latest = self
                .batch
                .counts
                .time_range()
                .map(|r| r.1)
                .into_iter()
                .chain(range.map(|r| r.1))
                .max();
            self.watermark = latest.map(|t| t - lag).max(before);
            self.late += late;
        }
        // the variance of the minute counts follows every changed count
        let changed = delta.counts.rows();
        for (action, minute, d) in &changed {
            let old = self.batch.counts.count(action, *minute);
            if old == 0 {
                self.welford.add(*d as f64);
            } else {
                self.welford.replace(old as f64, (old + d) as f64);
            }
        }
        self.batch.merge(delta);
        let figures = metrics::compute(&self.batch.counts, &self.opts.figures)?;

        let emitted = match self.opts.mode {
            OutputMode::Complete => figures.minute_counts.clone(),
            OutputMode::Append => {
                // windows that became final in this trigger
                let final_now = |start: i64| self.watermark.is_some_and(|w| start + MINUTE <= w);
                let final_before = |start: i64| before.is_some_and(|w| start + MINUTE <= w);
                figures
                    .minute_counts
                    .iter()
                    .filter(|c| final_now(c.window_start) && !final_before(c.window_start))
                    .cloned()
                    .collect()
            }
            OutputMode::Update => {
                let keys: HashSet<(&str, i64)> = changed.iter().map(|(a, m, _)| (&**a, *m)).collect();
                figures
                    .minute_counts
                    .iter()
                    .filter(|c| keys.contains(&(&*c.action, c.window_start)))
                    .cloned()
                    .collect()
            }
        };
        let now: BTreeMap<i64, Alert> = figures.alerts.iter().map(|a| (a.window_start, a.clone())).collect();
        let mut alerts = Vec::new();
        for (start, a) in &now {
            match self.alerts.get(start) {
                None => alerts.push(AlertChange::New(a.clone())),
                Some(before) if before != a => alerts.push(AlertChange::Updated(a.clone())),
                Some(_) => {}
            }
        }
        for start in self.alerts.keys().filter(|s| !now.contains_key(s)) {
            // the minute's counts now, under the threshold
            let of = |action: &str| self.batch.counts.count(action, *start) as i64;
            let (open, close) = &self.opts.figures.alert_actions;
            alerts.push(AlertChange::Withdrawn(alert(*start, of(open), of(close))));
        }
        self.alerts = now;
        if self.opts.mode == OutputMode::Append && emitted.is_empty() {
            self.checkpoint.clear_final(n)?;
        } else if self.opts.mode == OutputMode::Append {
            // final rows never change again: they go to the checkpoint, not
            // the state, so the state holds only the windows still open
            let rows: Vec<(String, i64, u64)> = emitted
                .iter()
                .map(|c| (c.action.to_string(), c.window_start, c.count as u64))
                .collect();
            self.checkpoint.write_final(n, &rows)?;
            self.final_events += rows.iter().map(|r| r.2).sum::<u64>();
            let w = self.watermark.unwrap_or(i64::MIN);
            self.batch.counts.retain_minutes(|minute| minute + MINUTE > w);
            self.alerts.retain(|start, _| start + MINUTE > w);
        }
        let row = TriggerRow {
            trigger: n,
            files: stamps.len() as u64,
            events,
            rejected,
            // in append mode the rows of final windows have left the state
            state_rows: match self.opts.mode {
                OutputMode::Append => self.batch.counts.rows().len() as u64,
                _ => figures.minute_counts.len() as u64,
            },
            variance: self.welford.variance(),
            new_alerts: alerts.iter().filter(|a| matches!(a, AlertChange::New(_))).count() as u64,
            duration_ms: started.elapsed().as_secs_f64() * 1000.0,
        };
        self.trigger = n;
        self.processed.extend(stamps.iter().cloned());
        self.triggers.push(row.clone());
        self.checkpoint.commit(n, &self.saved())?;
        Ok(Outcome {
            row,
            files: stamps.into_iter().map(|s| s.name).collect(),
            emitted,
            alerts,
            figures,
            late,
            watermark: self.watermark,
        })
    }

    fn saved(&self) -> Saved {
        Saved {
            trigger: self.trigger,
            processed: self.processed.clone(),
            files: self.batch.files,
            lines: self.batch.lines,
            counts: self
                .batch
                .counts
                .rows()
                .into_iter()
                .map(|(a, m, n)| (a.to_string(), m, n))
                .collect(),
            range: self.batch.counts.time_range(),
            welford: self.welford,
            rejected: self.batch.rejected.clone(),
            alerts: self
                .alerts
                .values()
                .map(|a| (a.window_start, a.open, a.close))
                .collect(),
            triggers: self.triggers.clone(),
            watermark: self.watermark,
            late: self.late,
            final_events: self.final_events,
        }
    }
}

fn alert(window_start: i64, open: i64, close: i64) -> Alert {
    Alert {
        window_start,
        window_end: window_start + MINUTE,
        open,
        close,
        difference: open - close,
    }
}
