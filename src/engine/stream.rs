//! Streaming: the input folder taken a few files per trigger, as Spark's
//! file source does with `maxFilesPerTrigger`, folded into the same state
//! as batch.
//!
//! A trigger costs what it brings, not what is held: its events are merged
//! into the chunks of the state they fall in; the hourly figures and alerts
//! are computed again, with the same plans as batch, for the hours it
//! touched only; totals and the variance follow running sums. The
//! checkpoint records the files it takes before it runs, then what it
//! changed (see [`Checkpoint`]), so a run killed at any point and started
//! again counts every file exactly once and ends with the batch figures.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Instant, UNIX_EPOCH};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

mod records;

pub use super::changes::AlertChange;
use super::kept::KeptFigures;
use crate::checkpoint::{Checkpoint, Kind};
use crate::codec::{Reader, Writer};
use crate::metrics::{self, Alert, Count, Figures, Options, Sums, HOUR, MINUTE};
use crate::model::InputStats;
use crate::progress::Progress;
use crate::source::{self, Batch, FileOrder, InputFile, Rejected};
use crate::state::{MinuteCounts, MinuteTable, Row, SavedChunk, Stored};
use records::{check_metadata, decode_plan, encode_plan, read_metadata};

/// A snapshot is written instead of a delta after this many triggers, or
/// sooner when the deltas since the last one hold half the state's rows.
const SNAPSHOT_EVERY: u64 = 16;
/// The quarantine log in the checkpoint.
const REJECTED_LOG: &str = "rejected.ndjson";
/// The triggers log in the checkpoint.
const TRIGGERS_LOG: &str = "triggers.ndjson";

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
    /// How lines are read (the time unit, damaged files).
    pub read: source::ReadOptions,
}

/// What a checkpoint belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Metadata {
    format: u64,
    input: String,
    order: String,
    mode: OutputMode,
    watermark_minutes: Option<usize>,
    time_unit: String,
    /// The fields events are read from (absent in checkpoints made before
    /// they could be named: `time` and `action`).
    #[serde(default = "default_time_field")]
    time_field: String,
    #[serde(default = "default_action_field")]
    action_field: String,
    alert_threshold: i64,
    alert_actions: (String, String),
    /// The Spark Connect server that read the input (`--spark`, its token
    /// hidden); absent when this machine reads it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    spark: Option<String>,
}

fn default_time_field() -> String {
    "time".into()
}

fn default_action_field() -> String {
    "action".into()
}

/// The files of an input, each with what it is now when asked for.
type Listed = Vec<(InputFile, Option<Result<FileStamp>>)>;

/// Lists the files of `input` in `order`, stamping each when `stamp`.
fn list_stamped(input: &Path, order: FileOrder, stamp: bool) -> Result<Listed> {
    let files = source::list_files(input, order)?;
    Ok(files
        .into_iter()
        .map(|f| {
            let now = stamp.then(|| FileStamp::of(Vec::new(), &f.path));
            (f, now)
        })
        .collect())
}

/// The input of a stream read by a Spark cluster (`update --spark`): the
/// cluster lists the files and scans exactly those of each trigger.
struct Cluster {
    session: source::spark::Session,
    /// The input path as the cluster reads it.
    path: String,
    /// The latest listing: each file's name on the cluster and its stamp,
    /// by its path relative to the input.
    index: HashMap<Vec<u8>, (String, FileStamp)>,
    /// A listing made for a plan left by a stopped run, for the next
    /// [`Stream::unprocessed`] to take instead of listing again.
    fresh: Option<Listed>,
    /// Whether each scan is announced, with its rejected lines, on
    /// standard error (not under a live view).
    notices: bool,
}

impl Cluster {
    /// Lists the input on the cluster, in `order`, keeping the index.
    fn list(&mut self, order: FileOrder, read: &source::ReadOptions) -> Result<Listed> {
        let mut files = source::spark::list(&self.session, &self.path, read)?;
        files.sort_by(|a, b| {
            let by_time = match order {
                FileOrder::Mtime => a.mtime_ns.cmp(&b.mtime_ns),
                FileOrder::Name => std::cmp::Ordering::Equal,
            };
            by_time.then_with(|| natord::compare(&a.rel, &b.rel))
        });
        self.index.clear();
        let mut listed = Vec::with_capacity(files.len());
        for f in files {
            let stamp = FileStamp {
                rel: f.rel.as_bytes().to_vec(),
                size: f.size,
                mtime_ns: f.mtime_ns,
            };
            self.index.insert(stamp.rel.clone(), (f.uri.clone(), stamp.clone()));
            let file = InputFile {
                path: PathBuf::from(&f.uri),
                name: f.rel,
                limit: Some(f.size),
            };
            listed.push((file, Some(Ok(stamp))));
        }
        Ok(listed)
    }
}

/// A processed file, as it was when it was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileStamp {
    /// Its path relative to the input, as bytes (any file name works).
    pub rel: Vec<u8>,
    /// Its size in bytes.
    pub size: u64,
    /// Its modification time, nanoseconds since the epoch.
    pub mtime_ns: u128,
}

impl FileStamp {
    fn of(rel: Vec<u8>, path: &Path) -> Result<Self> {
        let meta = std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
        let mtime_ns = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        Ok(Self {
            rel,
            size: meta.len(),
            mtime_ns,
        })
    }

    /// Its name for people (invalid UTF-8 replaced).
    pub fn name(&self) -> String {
        String::from_utf8_lossy(&self.rel).into_owned()
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
    /// Events for windows already final (append mode): counted, not merged.
    #[serde(default)]
    pub late: u64,
    /// Rows of the state (action, minute) after it; in append mode, the
    /// windows still open.
    pub state_rows: u64,
    /// Variance of the minute counts after it.
    pub variance: Option<f64>,
    /// Alert minutes that appeared in it.
    pub new_alerts: u64,
    /// Wall time of the trigger: reading, merging, the figures (not the
    /// checkpoint's commit, which follows this row).
    pub duration_ms: f64,
}

/// Where a trigger's time went, in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Durations {
    /// Reading and validating its files.
    pub read: f64,
    /// Merging into the state and updating the figures.
    pub update: f64,
    /// Writing the checkpoint.
    pub commit: f64,
}

/// What one trigger did and emitted.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Its row of the triggers table.
    pub row: TriggerRow,
    /// The files it took.
    pub files: Vec<String>,
    /// Planned files that were gone when it ran: recorded as missing.
    pub missing: Vec<String>,
    /// The minute-count rows it emits in update and append mode (in
    /// complete mode, the whole table: see [`Stream::counts`]).
    pub emitted: Vec<Count>,
    /// How many rows it emits.
    pub emitted_rows: usize,
    /// Rows of the state it changed.
    pub changed_rows: usize,
    /// How the alerts changed.
    pub alerts: Vec<AlertChange>,
    /// Events that came for windows already final (append mode): counted
    /// here, not merged.
    pub late: u64,
    /// The watermark after it (append mode), epoch seconds.
    pub watermark: Option<i64>,
    /// Where its time went.
    pub durations: Durations,
}

/// The files a stream has listed and not taken yet.
#[derive(Default)]
struct Queue {
    /// Those files, in input order.
    pending: VecDeque<InputFile>,
    /// Whether the input was listed by this process.
    listed_once: bool,
    /// The first listing, made while the checkpoint loads.
    first_listing: Option<std::thread::JoinHandle<Result<Listed>>>,
}

/// What a stream's triggers have read, over every trigger.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Tally {
    /// Files taken.
    files: u64,
    /// Lines read in them.
    lines: u64,
    /// Lines rejected.
    rejected: u64,
    /// Events for windows already final (append mode): counted, not merged.
    late: u64,
    /// Files left out: not events by their name, devices, damaged files
    /// with `--skip-corrupt-files`.
    skipped: u64,
}

/// A stream over one input folder with its checkpoint.
pub struct Stream {
    input: PathBuf,
    /// Whether the input is a folder (found once, when opened).
    input_is_dir: bool,
    root: PathBuf,
    checkpoint: Checkpoint,
    opts: StreamOptions,
    trigger: u64,
    processed: HashMap<Vec<u8>, FileStamp>,
    /// Planned files that were gone when their trigger ran; never taken again.
    missing: Vec<Vec<u8>>,
    counts: MinuteCounts,
    /// What the triggers read, over every trigger.
    read: Tally,
    watermark: Option<i64>,
    /// The figures kept up to date after each trigger.
    kept: KeptFigures,
    triggers: Vec<TriggerRow>,
    /// Lengths of the rejected and triggers logs at the last commit.
    logs: (u64, u64),
    /// Triggers and changed rows since the last snapshot.
    since_snapshot: (u64, u64),
    /// The files listed and not taken yet.
    queue: Queue,
    /// The hours this process's triggers touched (see [`Stream::changed_hours`]).
    changed: super::changes::ChangedHours,
    /// Set when a Spark cluster reads the input.
    cluster: Option<Cluster>,
}

impl Stream {
    /// The state a stream or update has committed in `checkpoint_dir`, as
    /// a reader sees it while the writer runs, after it stopped or after it
    /// was killed: exactly one committed trigger's state, never part of
    /// one. Takes no lock and writes nothing, so the writer is never held
    /// up. When the writer's clean-up removes a file between the listing
    /// and the read, the newer state is read instead. The figures are
    /// computed with `figures` (the alerts again when their options differ
    /// from the checkpoint's); such a stream takes no trigger.
    pub fn read_committed(checkpoint_dir: &Path, figures: Options) -> Result<Self> {
        let mut tries = 0;
        loop {
            let checkpoint = Checkpoint::open_reader(checkpoint_dir)?;
            let before = checkpoint.last_commit()?;
            match Self::read_once(checkpoint, figures.clone()) {
                Ok(stream) => return Ok(stream),
                Err(e) => {
                    tries += 1;
                    let now = Checkpoint::open_reader(checkpoint_dir).and_then(|c| c.last_commit());
                    let moved = now.is_ok_and(|now| now != before);
                    if tries >= 50 {
                        return Err(e.context(format!(
                            "the stream kept committing while {} was read: try again",
                            checkpoint_dir.display()
                        )));
                    }
                    if !moved {
                        return Err(e);
                    }
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
            }
        }
    }

    fn read_once(checkpoint: Checkpoint, figures: Options) -> Result<Self> {
        let dir = checkpoint.dir().to_path_buf();
        let text = checkpoint.metadata()?.unwrap_or_default();
        let saved = read_metadata(&dir, &text)?;
        let alerts_changed =
            (saved.alert_threshold, &saved.alert_actions) != (figures.alert_threshold, &figures.alert_actions);
        let order = if saved.order == "mtime" {
            FileOrder::Mtime
        } else {
            FileOrder::Name
        };
        let input = PathBuf::from(&saved.input);
        let opts = StreamOptions {
            figures,
            max_files_per_trigger: 0,
            order,
            mode: saved.mode,
            watermark_minutes: saved.watermark_minutes.unwrap_or(0),
            threads: 1,
            read: source::ReadOptions::default(),
        };
        let mut stream = Stream::empty(input.clone(), true, input, checkpoint, opts);
        // a reader lists nothing
        stream.queue.listed_once = true;
        stream.load()?;
        if alerts_changed {
            stream.compute_alerts_again();
        }
        Ok(stream)
    }

    /// A stream over `input` with nothing read or loaded yet.
    fn empty(input: PathBuf, input_is_dir: bool, root: PathBuf, checkpoint: Checkpoint, opts: StreamOptions) -> Self {
        Stream {
            input,
            input_is_dir,
            root,
            checkpoint,
            opts,
            trigger: 0,
            processed: HashMap::new(),
            missing: Vec::new(),
            counts: MinuteCounts::new(),
            read: Tally::default(),
            watermark: None,
            kept: KeptFigures::default(),
            triggers: Vec::new(),
            logs: (0, 0),
            since_snapshot: (0, 0),
            queue: Queue::default(),
            changed: Default::default(),
            cluster: None,
        }
    }

    /// Computes every alert again from the state: the alerts are the only
    /// kept figure that the options change.
    fn compute_alerts_again(&mut self) {
        let all = metrics::alerts_of(&self.counts.table(), &self.opts.figures);
        self.kept.alerts = all.into_iter().map(|a| (a.window_start, a)).collect();
    }

    /// When the last commit was written.
    pub fn committed_at(&self) -> Option<std::time::SystemTime> {
        self.checkpoint.committed_at(self.trigger)
    }

    /// A log's bytes up to `len`, what the last commit recorded.
    fn committed_log(&self, log: &str, len: u64) -> Result<Vec<u8>> {
        let mut bytes = self.checkpoint.read_log(log)?;
        match usize::try_from(len) {
            Ok(len) if len <= bytes.len() => bytes.truncate(len),
            _ => bail!(
                "the checkpoint log {} is shorter ({} bytes) than its last commit recorded ({len}): it was damaged",
                self.checkpoint.dir().join(log).display(),
                bytes.len()
            ),
        }
        Ok(bytes)
    }

    /// Opens a stream on `input` with its checkpoint in `checkpoint_dir`,
    /// taking up where an earlier run with the same checkpoint stopped.
    pub fn open(input: &Path, checkpoint_dir: &Path, opts: StreamOptions) -> Result<Self> {
        Self::open_in(input, checkpoint_dir, opts, false, None)
    }

    /// Opens a stream whose input a Spark cluster reads, through the
    /// Spark Connect server of `url` (`update --spark`): the cluster lists
    /// the files of `input` (a path there) with their size and time, and
    /// each trigger sends one scan of exactly its files, whose minute
    /// counts are merged here. The checkpoint is this machine's, kept as
    /// for a local input; one made by a local run is refused, and the
    /// reverse. `rebuild` starts it over, as [`Stream::rebuild`].
    pub fn open_on_cluster(
        url: &str,
        input: &Path,
        checkpoint_dir: &Path,
        opts: StreamOptions,
        rebuild: bool,
    ) -> Result<Self> {
        if opts.read.strict {
            bail!("--strict cannot be used with --spark: the cluster counts rejected lines instead of stopping at the first (run without --strict, or without --spark to find the first bad line)");
        }
        if opts.read.skip_corrupt {
            // Spark leaves a damaged file out without saying which: it
            // would be recorded as processed without being counted
            bail!("--skip-corrupt-files cannot be used with --spark here: the cluster leaves damaged files out without naming them, and the checkpoint would record them as read; run without it (a damaged file then stops the run, naming it), or without --spark");
        }
        let (session, path) = source::spark::open_for_files(url, input, &opts.read)?;
        let cluster = Cluster {
            session,
            path,
            index: HashMap::new(),
            fresh: None,
            notices: true,
        };
        Self::open_in(
            input,
            checkpoint_dir,
            opts,
            rebuild,
            Some((cluster, source::spark::display_url(url))),
        )
    }

    /// Starts the checkpoint `checkpoint_dir` over and opens a stream on
    /// it: every file is read again. The checkpoint's lock is taken before
    /// anything is removed, so a checkpoint in use by another process is
    /// refused and left whole.
    pub fn rebuild(input: &Path, checkpoint_dir: &Path, opts: StreamOptions) -> Result<Self> {
        Self::open_in(input, checkpoint_dir, opts, true, None)
    }

    fn open_in(
        input: &Path,
        checkpoint_dir: &Path,
        opts: StreamOptions,
        emptied: bool,
        cluster: Option<(Cluster, String)>,
    ) -> Result<Self> {
        let (canonical, input_is_dir, root) = match &cluster {
            // the cluster's path as it is: a folder or a file there
            Some((c, _)) => (PathBuf::from(&c.path), true, PathBuf::from(&c.path)),
            None => {
                let canonical = input
                    .canonicalize()
                    .with_context(|| format!("cannot open the input {}: check the path", input.display()))?;
                let input_is_dir = canonical.is_dir();
                let root = if input_is_dir {
                    canonical.clone()
                } else {
                    canonical.parent().map(Path::to_path_buf).unwrap_or_default()
                };
                (canonical, input_is_dir, root)
            }
        };
        let (cluster, spark) = match cluster {
            Some((c, url)) => (Some(c), Some(url)),
            None => (None, None),
        };
        let metadata = Metadata {
            spark,
            format: crate::codec::FORMAT,
            input: canonical.display().to_string(),
            order: format!("{:?}", opts.order).to_lowercase(),
            mode: opts.mode,
            watermark_minutes: (opts.mode == OutputMode::Append).then_some(opts.watermark_minutes),
            time_unit: format!("{:?}", opts.read.unit).to_lowercase(),
            time_field: opts.read.fields.time_name(),
            action_field: opts.read.fields.action_name(),
            alert_threshold: opts.figures.alert_threshold,
            alert_actions: opts.figures.alert_actions.clone(),
        };
        let checkpoint = if emptied {
            Checkpoint::open_emptied(checkpoint_dir)?
        } else {
            Checkpoint::open(checkpoint_dir)?
        };
        let saved = checkpoint.metadata()?;
        let alerts_changed = match &saved {
            Some(text) => check_metadata(checkpoint_dir, text, &metadata)?,
            None => false,
        };
        let text = serde_json::to_string_pretty(&metadata)?;
        let mut stream = Stream::empty(input.to_path_buf(), input_is_dir, root, checkpoint, opts);
        stream.cluster = cluster;
        if stream.cluster.is_none() {
            // the input is listed (and, when files were processed before,
            // each file stamped) on another thread while the state loads
            let stamp = stream.checkpoint.last_commit()? > 0;
            let (input, order) = (stream.input.clone(), stream.opts.order);
            stream.queue.first_listing = std::thread::Builder::new()
                .name("list".into())
                .spawn(move || list_stamped(&input, order, stamp))
                .ok();
        }
        stream.load()?;
        stream.changed.since = stream.trigger;
        if alerts_changed {
            // the alerts are the only figure kept that the options change:
            // computed again, and saved in a snapshot of the last commit
            // before the metadata names the new options, so that no later
            // load takes the old alerts for the new options
            stream.compute_alerts_again();
            if stream.trigger > 0 {
                let bytes = stream.encode_snapshot();
                stream.checkpoint.commit(Kind::Snapshot, stream.trigger, &bytes)?;
                stream.since_snapshot = (0, 0);
            }
        }
        if saved.as_deref() != Some(text.as_str()) {
            stream.checkpoint.set_metadata(&text)?;
        }
        Ok(stream)
    }

    /// Loads the newest snapshot, applies the deltas after it and cuts the
    /// logs back to the last commit.
    fn load(&mut self) -> Result<()> {
        let last = self.checkpoint.last_commit()?;
        let reader = self.checkpoint.is_reader();
        if last == 0 {
            if !reader {
                self.checkpoint.truncate(REJECTED_LOG, 0)?;
                self.checkpoint.truncate(TRIGGERS_LOG, 0)?;
            }
            return Ok(());
        }
        let snapshots: Vec<u64> = self
            .checkpoint
            .list(Kind::Snapshot)?
            .into_iter()
            .filter(|&n| n <= last)
            .collect();
        let mut from = 0;
        for &n in snapshots.iter().rev() {
            match self.read_snapshot(n) {
                Ok(()) => {
                    from = n;
                    break;
                }
                // a reader racing the writer's clean-up reads again instead
                Err(e) if reader => return Err(e),
                Err(e) => crate::text::warning(&format!(
                    "the checkpoint snapshot {} cannot be used ({e:#}); trying an older one",
                    self.checkpoint.describe(Kind::Snapshot, n)
                )),
            }
        }
        if from == 0 && !snapshots.is_empty() {
            bail!(
                "no snapshot of the checkpoint {} can be read; start over with `windowpane update --rebuild --checkpoint {}` \
                 (a stream's: delete that folder), and every file is read again",
                self.checkpoint.dir().display(),
                self.checkpoint.dir().display()
            );
        }
        let deltas: Vec<u64> = self.checkpoint.list(Kind::Delta)?;
        for n in from + 1..=last {
            if !deltas.contains(&n) {
                if self.checkpoint.list(Kind::Snapshot)?.contains(&n) {
                    // its snapshot was damaged and nothing after it can be applied
                    break;
                }
                bail!(
                    "the checkpoint {} lacks the record of trigger {n}; start over with `windowpane update --rebuild --checkpoint {}` \
                     (a stream's: delete that folder), and every file is read again",
                    self.checkpoint.dir().display(),
                    self.checkpoint.dir().display()
                );
            }
            let bytes = self.checkpoint.read(Kind::Delta, n)?;
            self.apply_delta(&bytes).with_context(|| {
                format!(
                    "the checkpoint file {} is damaged; start over with `windowpane update --rebuild` on its checkpoint \
                     (a stream's: delete the checkpoint folder), and every file is read again",
                    self.checkpoint.describe(Kind::Delta, n)
                )
            })?;
        }
        if !reader {
            self.checkpoint.truncate(REJECTED_LOG, self.logs.0)?;
            self.checkpoint.truncate(TRIGGERS_LOG, self.logs.1)?;
        }
        // what the last commit recorded: a writer may have appended since
        let log = self.committed_log(TRIGGERS_LOG, self.logs.1)?;
        self.triggers = log
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .map(serde_json::from_slice)
            .collect::<Result<_, _>>()
            .with_context(|| format!("the checkpoint log {TRIGGERS_LOG} is damaged"))?;
        Ok(())
    }

    /// Input files not processed yet, in input order, listed anew. A
    /// processed file that has changed since is reported once on standard
    /// error and not re-read.
    pub fn unprocessed(&mut self) -> Result<Vec<InputFile>> {
        let files: Listed = match (self.queue.first_listing.take(), &mut self.cluster) {
            (_, Some(c)) => match c.fresh.take() {
                Some(listed) => listed,
                None => c.list(self.opts.order, &self.opts.read)?,
            },
            (Some(listing), None) => listing
                .join()
                .unwrap_or_else(|_| Err(anyhow::anyhow!("listing the input {} failed", self.input.display())))?,
            (None, None) => list_stamped(&self.input, self.opts.order, false)?,
        };
        let check_changes = !self.queue.listed_once;
        self.queue.listed_once = true;
        let mut out = Vec::new();
        for (file, then) in files {
            let rel = self.rel(&file);
            match self.processed.get(&rel) {
                None if self.missing.contains(&rel) => {}
                None => out.push(file),
                Some(stamp) if check_changes => {
                    let now = match then {
                        Some(then) => then?,
                        None => FileStamp::of(rel, &file.path)?,
                    };
                    if (now.size, now.mtime_ns) != (stamp.size, stamp.mtime_ns) {
                        crate::text::warning(&format!(
                            "{} has changed since it was processed (size {} then, {} now); \
                             its new content is not counted: put new events in new files",
                            file.name, stamp.size, now.size
                        ));
                    }
                }
                Some(_) => {}
            }
        }
        Ok(out)
    }

    /// Files waiting to be taken, listing the input again when none is
    /// left from the last listing.
    pub fn files_left(&mut self) -> Result<usize> {
        if self.queue.pending.is_empty() {
            self.queue.pending = self.unprocessed()?.into();
        }
        Ok(self.queue.pending.len())
    }

    /// True when the input was listed in this run and every file of that
    /// listing has been taken: what was available at the start is done.
    pub fn listing_done(&self) -> bool {
        self.queue.listed_once && self.queue.pending.is_empty()
    }

    /// A file's path relative to the input folder (its name, for an input
    /// that is one file).
    fn rel(&self, file: &InputFile) -> Vec<u8> {
        if self.cluster.is_some() {
            // the listing named it relative to the cluster's path
            return file.name.as_bytes().to_vec();
        }
        let rel = if self.input_is_dir {
            file.path
                .strip_prefix(&self.input)
                .or_else(|_| file.path.strip_prefix(&self.root))
                .unwrap_or(&file.path)
        } else {
            Path::new(file.path.file_name().unwrap_or(file.path.as_os_str()))
        };
        rel.as_os_str().as_bytes().to_vec()
    }

    /// Runs the next trigger: the files planned by a run that was stopped
    /// before committing, or else up to `max_files_per_trigger` unprocessed
    /// files. Returns `None` when there is nothing to take.
    pub fn run_trigger(&mut self) -> Result<Option<Outcome>> {
        let n = self.trigger + 1;
        // a plan not flushed before a machine crash may be cut short: it
        // fails its checksum and the trigger is planned again (nothing of
        // it was committed, so any plan counts every file once)
        let planned = self.checkpoint.planned(n)?.and_then(|bytes| match decode_plan(&bytes) {
            Ok(rels) => Some(rels),
            Err(e) => {
                crate::text::warning(&format!(
                    "the plan of trigger {n} in the checkpoint cannot be read ({e:#}); planning it again"
                ));
                None
            }
        });
        let planned: Vec<Vec<u8>> = match planned {
            Some(rels) => rels,
            None => {
                if self.files_left()? == 0 {
                    return Ok(None);
                }
                let take = self.opts.max_files_per_trigger.max(1).min(self.queue.pending.len());
                let taken: Vec<InputFile> = self.queue.pending.drain(..take).collect();
                let rels: Vec<Vec<u8>> = taken.iter().map(|f| self.rel(f)).collect();
                self.checkpoint.plan(n, &encode_plan(&rels))?;
                rels
            }
        };
        let started = Instant::now();
        if self.cluster.is_some() {
            return self.run_cluster_trigger(n, planned, started).map(Some);
        }
        // what is read is stamped as it is now; a planned file that is gone
        // (removed after a crash, or between listing and reading) is recorded
        let mut stamps = Vec::new();
        let mut missing = Vec::new();
        let mut files = Vec::new();
        for rel in planned {
            let path = self.root.join(OsStr::from_bytes(&rel));
            match FileStamp::of(rel.clone(), &path) {
                Ok(stamp) => {
                    // read as far as stamped: what is appended meanwhile
                    // is new content, found by the next run
                    files.push(InputFile {
                        path,
                        name: stamp.name(),
                        limit: Some(stamp.size),
                    });
                    stamps.push(stamp);
                }
                Err(_) if !path.exists() => missing.push(rel),
                Err(e) => return Err(e),
            }
        }
        let delta = source::read_files(&files, self.opts.threads, &self.opts.read, &Progress::hidden())?;
        let read_ms = started.elapsed().as_secs_f64() * 1000.0;
        let rejected = delta.rejected.len() as u64;
        Ok(Some(self.apply(n, stamps, missing, delta, rejected, started, read_ms)?))
    }

    /// Runs trigger `n` of a stream the cluster reads: its planned files
    /// are found in the cluster's listing (listed now for a plan a stopped
    /// run left; a file not there any more is recorded as missing), and one
    /// scan of exactly those files brings back their minute counts and
    /// their rejected lines counted by reason.
    fn run_cluster_trigger(&mut self, n: u64, planned: Vec<Vec<u8>>, started: Instant) -> Result<Outcome> {
        let (order, read) = (self.opts.order, self.opts.read);
        let cluster = self.cluster.as_mut().expect("a cluster stream");
        if !self.queue.listed_once && cluster.fresh.is_none() {
            cluster.fresh = Some(cluster.list(order, &read)?);
        }
        let (mut stamps, mut missing, mut uris) = (Vec::new(), Vec::new(), Vec::new());
        for rel in planned {
            match cluster.index.get(&rel) {
                Some((uri, stamp)) => {
                    uris.push(uri.clone());
                    stamps.push(stamp.clone());
                }
                None => missing.push(rel),
            }
        }
        let scan = match uris.is_empty() {
            true => source::spark::SparkScan::default(),
            false => {
                if cluster.notices {
                    crate::text::note(&format!(
                        "scanning {} on {} …",
                        crate::text::count_of(uris.len() as u64, "new files"),
                        cluster.session.url()
                    ));
                }
                source::spark::scan_files(&cluster.session, &cluster.path, &uris, &read)?
            }
        };
        // the cluster read these files and no other (an empty plain file
        // is no file to Spark's text source: it comes back from none)
        let read_back: HashMap<&str, (u64, u128)> = scan.read.iter().map(|(u, s, m)| (u.as_str(), (*s, *m))).collect();
        let planned: std::collections::HashSet<&str> = uris.iter().map(String::as_str).collect();
        if let Some(other) = read_back.keys().find(|u| !planned.contains(*u)) {
            bail!(
                "the cluster read {} in trigger {n}, which was not planned: nothing was committed; run again",
                crate::text::printable(other)
            );
        }
        if let Some((uri, _)) = uris
            .iter()
            .zip(&stamps)
            .find(|(u, s)| s.size > 0 && !read_back.contains_key(u.as_str()))
        {
            bail!(
                "the cluster did not read {} in trigger {n}, which was planned: nothing was committed; run again",
                crate::text::printable(uri)
            );
        }
        // each file stamped as the scan found it: a file that grew since
        // the listing was read as it is now
        for (uri, stamp) in uris.iter().zip(&mut stamps) {
            if let Some(&(size, mtime_ns)) = read_back.get(uri.as_str()) {
                (stamp.size, stamp.mtime_ns) = (size, mtime_ns);
            }
        }
        if let Some(notice) = source::spark::rejected_notice(&scan).filter(|_| cluster.notices) {
            crate::text::note(&notice);
        }
        let read_ms = started.elapsed().as_secs_f64() * 1000.0;
        let rejected = scan.rejected;
        self.apply(n, stamps, missing, scan.batch, rejected, started, read_ms)
    }

    /// Folds trigger `n`'s read into the state, keeps the figures up to
    /// date, and commits it: the watermark and late events first (append
    /// mode), then what changed, the rows to emit, and the commit.
    #[allow(clippy::too_many_arguments)]
    fn apply(
        &mut self,
        n: u64,
        stamps: Vec<FileStamp>,
        missing: Vec<Vec<u8>>,
        mut delta: Batch,
        rejected: u64,
        started: Instant,
        read_ms: f64,
    ) -> Result<Outcome> {
        let events = delta.counts.events();
        let before = self.watermark;
        let late = self.drop_late(&mut delta.counts);
        let range = match (self.counts.time_range(), delta.counts.time_range()) {
            (Some(a), Some(b)) => Some((a.0.min(b.0), a.1.max(b.1))),
            (a, b) => a.or(b),
        };
        let changed = self.changed_rows(&delta.counts.table());
        let hours = hours_of(&changed);
        for &h in &hours {
            self.changed.hours.insert(h, n);
        }
        self.counts.merge(std::mem::take(&mut delta.counts));
        self.counts.set_time_range(range);
        let alerts = self.kept.refresh(&self.counts, &self.opts.figures, &hours)?;
        let emitted = self.emitted(&changed, before);
        let emitted_rows = match self.opts.mode {
            OutputMode::Complete => self.counts.len(),
            _ => emitted.len(),
        };
        let update_ms = started.elapsed().as_secs_f64() * 1000.0 - read_ms;
        self.read.files += stamps.len() as u64;
        self.read.lines += delta.lines;
        self.read.rejected += rejected;
        self.read.late += late;
        self.read.skipped += delta.skipped.len() as u64;
        let row = TriggerRow {
            trigger: n,
            files: stamps.len() as u64,
            events,
            rejected,
            late,
            state_rows: self.state_rows() as u64,
            variance: self.kept.sums.variance(),
            new_alerts: alerts.iter().filter(|a| matches!(a, AlertChange::New(_))).count() as u64,
            duration_ms: 0.0,
        };
        let commit_started = Instant::now();
        let row = self.commit_trigger(n, row, &stamps, &missing, &changed, &delta.rejected, started)?;
        let commit_ms = commit_started.elapsed().as_secs_f64() * 1000.0;
        Ok(Outcome {
            row,
            files: stamps.iter().map(FileStamp::name).collect(),
            missing: missing
                .iter()
                .map(|m| String::from_utf8_lossy(m).into_owned())
                .collect(),
            emitted,
            emitted_rows,
            changed_rows: changed.len(),
            alerts,
            late,
            watermark: self.watermark,
            durations: Durations {
                read: read_ms,
                update: update_ms,
                commit: commit_ms,
            },
        })
    }

    /// Append mode: drops from `counts` the events of windows already final
    /// (late), moves the watermark on, and returns how many were dropped.
    fn drop_late(&mut self, counts: &mut MinuteCounts) -> u64 {
        if self.opts.mode != OutputMode::Append {
            return 0;
        }
        let before = self.watermark;
        let range = counts.time_range();
        let late = counts.retain_minutes(|minute| before.is_none_or(|w| minute + MINUTE > w));
        let lag = (self.opts.watermark_minutes as i64).saturating_mul(MINUTE);
        let latest = self
            .counts
            .time_range()
            .map(|r| r.1)
            .into_iter()
            .chain(range.map(|r| r.1))
            .max();
        self.watermark = latest.map(|t| t.saturating_sub(lag)).max(before);
        late
    }

    /// The minute rows a trigger emits in its output mode: none listed in
    /// complete mode (the whole table is), the changed rows in update
    /// mode, the windows that became final in append mode.
    fn emitted(&self, changed: &[(Arc<str>, i64, u64)], watermark_before: Option<i64>) -> Vec<Count> {
        match self.opts.mode {
            OutputMode::Complete => Vec::new(),
            OutputMode::Update => changed
                .iter()
                .map(|(a, m, c)| Count {
                    action: a.clone(),
                    window_start: *m,
                    window_end: m + MINUTE,
                    count: *c as i64,
                })
                .collect(),
            OutputMode::Append => {
                let lo = watermark_before.map_or(i64::MIN, |w| w - MINUTE + 1);
                let hi = self.watermark.map_or(i64::MIN, |w| w - MINUTE + 1);
                metrics::minute_rows(&self.counts.table_in(lo, hi))
            }
        }
    }

    /// Commits trigger `n`: the logs first (its rejected lines, its row
    /// with the time it took), then the commit that records their lengths,
    /// a snapshot now and then, else a delta of the changed rows.
    #[allow(clippy::too_many_arguments)]
    fn commit_trigger(
        &mut self,
        n: u64,
        mut row: TriggerRow,
        stamps: &[FileStamp],
        missing: &[Vec<u8>],
        changed: &[(Arc<str>, i64, u64)],
        rejected: &[Rejected],
        started: Instant,
    ) -> Result<TriggerRow> {
        let mut quarantine = Vec::new();
        for r in rejected {
            serde_json::to_writer(&mut quarantine, r)?;
            quarantine.push(b'\n');
        }
        let rejected_len = self.checkpoint.append(REJECTED_LOG, &quarantine)?;
        self.trigger = n;
        for stamp in stamps {
            self.processed.insert(stamp.rel.clone(), stamp.clone());
        }
        self.missing.extend(missing.iter().cloned());
        self.since_snapshot.0 += 1;
        self.since_snapshot.1 += changed.len() as u64;
        row.duration_ms = started.elapsed().as_secs_f64() * 1000.0;
        let mut line = serde_json::to_vec(&row)?;
        line.push(b'\n');
        let triggers_len = self.checkpoint.append(TRIGGERS_LOG, &line)?;
        self.logs = (rejected_len, triggers_len);
        if self.since_snapshot.0 >= SNAPSHOT_EVERY || self.since_snapshot.1 * 2 >= self.counts.len() as u64 {
            let previous = self.checkpoint.list(Kind::Snapshot)?.last().copied();
            self.checkpoint.commit(Kind::Snapshot, n, &self.encode_snapshot())?;
            if let Some(p) = previous {
                self.checkpoint.prune(p)?;
            }
            self.since_snapshot = (0, 0);
        } else {
            let bytes = self.encode_delta(n, stamps, missing, changed);
            self.checkpoint.commit(Kind::Delta, n, &bytes)?;
        }
        self.triggers.push(row.clone());
        Ok(row)
    }

    /// The rows a delta table changes, with their new counts; keeps the
    /// running sums and totals.
    fn changed_rows(&mut self, delta: &MinuteTable) -> Vec<(Arc<str>, i64, u64)> {
        let empty = self.counts.is_empty();
        let mut changed = Vec::with_capacity(delta.len());
        for (a, m, d) in delta.iter() {
            let old = if empty { 0 } else { self.counts.count(a, m) };
            self.kept.sums.change(old, old + d);
            *self.kept.totals.entry(a.clone()).or_default() += d as i64;
            changed.push((a.clone(), m, old + d));
        }
        changed
    }

    /// Rows of the state; in append mode, of the windows still open.
    fn state_rows(&self) -> usize {
        match (self.opts.mode, self.watermark) {
            (OutputMode::Append, Some(w)) => self.counts.table_in(w - MINUTE + 1, i64::MAX).len(),
            _ => self.counts.len(),
        }
    }

    /// The hours whose minute rows this process's triggers changed, with
    /// the last commit that changed each, and the commit it started from.
    pub fn changed_hours(&self) -> &super::changes::ChangedHours {
        &self.changed
    }

    /// The last committed trigger.
    pub fn commit(&self) -> u64 {
        self.trigger
    }

    /// Ends a run whose process exits next: lets go of the checkpoint's
    /// lock and leaves the state's memory to the system instead of freeing
    /// it piece by piece (for a year of data, about half a millisecond).
    pub fn end_of_process(mut self) -> Result<()> {
        self.checkpoint.unlock()?;
        // the cluster's session is closed on the server at once
        drop(self.cluster.take());
        std::mem::forget(self);
        Ok(())
    }

    /// Whether a stream the cluster reads announces each scan and its
    /// rejected lines on standard error (yes unless turned off, as under a
    /// live view that owns the screen).
    pub fn set_scan_notices(&mut self, on: bool) {
        if let Some(c) = &mut self.cluster {
            c.notices = on;
        }
    }

    /// The checkpoint folder.
    pub fn checkpoint_dir(&self) -> &Path {
        self.checkpoint.dir()
    }

    /// The options it runs with.
    pub fn options(&self) -> &StreamOptions {
        &self.opts
    }

    /// The minute counts so far (late events are not in them).
    pub fn counts(&self) -> &MinuteCounts {
        &self.counts
    }

    /// Events counted so far (in append mode, late events are not).
    pub fn events(&self) -> u64 {
        self.counts.events()
    }

    /// What was read so far, for the summary.
    pub fn input_stats(&self) -> InputStats {
        InputStats {
            files: self.read.files,
            lines: self.read.lines,
            events: self.counts.events(),
            rejected: self.read.rejected,
            late: self.read.late,
            missing: self.missing.len() as u64,
            skipped: self.read.skipped,
            scan: self.cluster.as_ref().map(|c| format!("spark {}", c.session.url())),
            quarantine: self
                .cluster
                .as_ref()
                .map(|_| "counted on the cluster by reason; the lines are not listed".into()),
            fields: self.opts.read.fields.named(),
        }
    }

    /// Planned files that were gone when their trigger ran.
    pub fn missing(&self) -> Vec<String> {
        self.missing
            .iter()
            .map(|m| String::from_utf8_lossy(m).into_owned())
            .collect()
    }

    /// The quarantined lines of every trigger, in order.
    pub fn rejected(&self) -> Result<Vec<Rejected>> {
        let log = self.committed_log(REJECTED_LOG, self.logs.0)?;
        log.split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| serde_json::from_slice(l).map_err(anyhow::Error::from))
            .collect::<Result<_>>()
            .with_context(|| format!("the checkpoint log {REJECTED_LOG} is damaged"))
    }

    /// Every figure of everything read so far: the kept figures, and the
    /// minute counts as they are. Equal to batch's figures of the same
    /// events.
    pub fn figures(&self) -> Result<Figures> {
        Ok(self.kept.figures(self.counts.clone(), self.opts.figures.moving_window))
    }

    /// The figures of the latest `minutes` minutes (the live view's), with
    /// the totals of everything.
    pub fn recent_figures(&self, minutes: i64) -> Result<Figures> {
        let minutes = minutes + self.opts.figures.moving_window as i64;
        let Some((_, last)) = self.counts.time_range() else {
            return Ok(Figures::default());
        };
        let from = (last.div_euclid(MINUTE) - minutes) * MINUTE;
        let mut f = metrics::figures_of(self.counts.table_in(from, i64::MAX), &self.opts.figures)?;
        f.totals = self.kept.totals.iter().map(|(a, &n)| (a.to_string(), n)).collect();
        Ok(f)
    }

    /// The alert minutes now, in order.
    pub fn alerts(&self) -> Vec<Alert> {
        self.kept.alerts.values().cloned().collect()
    }

    /// Alert minutes now.
    pub fn alert_count(&self) -> usize {
        self.kept.alerts.len()
    }

    /// Every trigger so far, including those of earlier runs.
    pub fn triggers(&self) -> &[TriggerRow] {
        &self.triggers
    }

    /// Events dropped as late (append mode), over every trigger.
    pub fn late(&self) -> u64 {
        self.read.late
    }

    /// The variance of the minute counts, from running sums.
    pub fn variance(&self) -> Option<f64> {
        self.kept.sums.variance()
    }
}

/// The hours of some rows, sorted, each once.
fn hours_of(rows: &[(Arc<str>, i64, u64)]) -> Vec<i64> {
    let mut hours: Vec<i64> = rows.iter().map(|r| r.1.div_euclid(HOUR) * HOUR).collect();
    hours.sort_unstable();
    hours.dedup();
    hours
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_damaged_snapshot_changes_nothing_of_the_stream() {
        // the checksum is summed beside the decoding: what is decoded
        // from damaged bytes must not reach the stream
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in");
        std::fs::create_dir(&input).unwrap();
        for f in 0..3 {
            let lines: String = (0..50)
                .map(|i| {
                    format!(
                        "{{\"time\": {}, \"action\": \"Open\"}}\n",
                        1_469_501_107 + (f * 50 + i) * 37
                    )
                })
                .collect();
            std::fs::write(input.join(format!("file-{f}.json")), lines).unwrap();
        }
        let opts = StreamOptions {
            figures: Options::default(),
            max_files_per_trigger: 1,
            order: FileOrder::Name,
            mode: OutputMode::Complete,
            watermark_minutes: 0,
            threads: 1,
            read: Default::default(),
        };
        let mut s = Stream::open(&input, &dir.path().join("ck"), opts).unwrap();
        while s.run_trigger().unwrap().is_some() {}
        let n = *s.checkpoint.list(Kind::Snapshot).unwrap().last().unwrap();
        let path = PathBuf::from(s.checkpoint.describe(Kind::Snapshot, n));
        let good = std::fs::read(&path).unwrap();
        // the stream as that snapshot has it
        s.read_snapshot(n).unwrap();
        let before = (
            s.trigger,
            s.read.files,
            s.read.lines,
            s.logs,
            s.counts.len(),
            s.processed.len(),
        );
        assert_eq!(before.0, n);
        // the trigger number it starts with, damaged (a new file: the
        // state's chunks still map the old one)
        let mut bad = good.clone();
        bad[5] ^= 0x5a;
        let aside = path.with_extension("damaged");
        std::fs::write(&aside, &bad).unwrap();
        std::fs::rename(&aside, &path).unwrap();
        let err = s.read_snapshot(n).unwrap_err().to_string();
        assert!(err.contains("checksum"), "{err}");
        assert_eq!(
            before,
            (
                s.trigger,
                s.read.files,
                s.read.lines,
                s.logs,
                s.counts.len(),
                s.processed.len()
            )
        );
    }
}
