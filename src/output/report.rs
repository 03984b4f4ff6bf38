//! The report folder: every exporter writes its files into a fresh folder
//! beside the target, which then replaces the target whole, so a crash never
//! leaves half a report.

use std::fs;
use std::path::{Path, PathBuf};

use std::sync::OnceLock;

use anyhow::{bail, Context, Result};
use chrono::{DateTime, Utc};
use polars::prelude::DataFrame;

use super::summary::Summary;
use super::tables::TableFormat;
use super::{charts, html};
use crate::engine::stream::TriggerRow;
use crate::metrics::{Figures, Options};
use crate::source::Rejected;

/// The state of a `stream --follow` whose report this is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveStatus {
    /// When the stream last rewrote the report.
    pub updated: DateTime<Utc>,
    /// Whether the stream is still running (the page then reloads itself).
    pub running: bool,
}

/// When the report is written: `SOURCE_DATE_EPOCH` (seconds) when set, so
/// that a report can be made byte for byte again, else the clock.
pub fn run_time() -> DateTime<Utc> {
    std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .and_then(|s| DateTime::from_timestamp(s, 0))
        .unwrap_or_else(Utc::now)
}

/// Everything a report is made from.
pub struct Report<'a> {
    /// What the report is about (the input's name).
    pub title: &'a str,
    /// The page's title when another than the input's name (`--title`).
    pub heading: Option<&'a str>,
    /// The headline figures.
    pub summary: &'a Summary,
    /// Every figure.
    pub figures: &'a Figures,
    /// The quarantined lines.
    pub rejected: &'a [Rejected],
    /// The options the figures were computed with.
    pub options: &'a Options,
    /// The triggers of a stream (`None` for batch).
    pub triggers: Option<&'a [TriggerRow]>,
    /// The format of `tables/`.
    pub table_format: TableFormat,
    /// Set while a `stream --follow` keeps the report up to date.
    pub live: Option<LiveStatus>,
    /// When the report was made.
    pub generated: DateTime<Utc>,
    /// The figure tables as frames, one per name of
    /// [`crate::frames::FIGURE_TABLES`], each made on first use (see
    /// [`Report::frame`]); start empty.
    pub frames: [OnceLock<DataFrame>; 6],
    /// Set when the long tables are written in blocks and an earlier
    /// report's reused where it can (see [`super::reuse`]).
    pub reuse: Option<std::sync::Arc<super::reuse::TableReuse>>,
    /// The plan of the charts (see [`Report::plan`]); start empty.
    pub plan: OnceLock<Option<super::charts::Plan>>,
    /// The minute counts per hour (see [`Report::digest`]); start empty.
    pub digest: DigestSlot,
}

/// Where a report keeps its chart digest: made on first use, and handed to
/// the reuse once.
#[derive(Debug, Default)]
pub struct DigestSlot {
    made: OnceLock<std::sync::Arc<super::digest::Digest>>,
    kept: std::sync::atomic::AtomicBool,
}

/// About how many rows of the moving average are made at a time: the
/// table itself is never held whole (it has a row per grid minute and
/// action, many times the events with many actions).
pub const MOVING_PIECE_ROWS: u64 = 1 << 18;

impl Report<'_> {
    /// The plan of the charts, made on first use and shared by the charts
    /// and the page; `None` without events.
    pub fn plan(&self) -> Result<Option<&super::charts::Plan>> {
        if let Some(p) = self.plan.get() {
            return Ok(p.as_ref());
        }
        let plan = super::charts::Plan::new(self)?;
        Ok(self.plan.get_or_init(|| plan).as_ref())
    }

    /// The stretches of time `[lo, hi)` in which the moving average is
    /// made and written, a bounded number of rows each (see
    /// [`super::digest::Digest::pieces`]).
    pub fn moving_pieces(&self) -> Vec<(i64, i64)> {
        self.digest()
            .pieces(self.figures.action_names().len(), MOVING_PIECE_ROWS)
    }

    /// The minute counts summed up per hour, made on first use: brought up
    /// to date from the last report's when the reuse offers it, else
    /// summed from every row.
    pub fn digest(&self) -> &super::digest::Digest {
        let d = self.digest.made.get_or_init(|| {
            let f = self.figures;
            let rows = |lo: i64, hi: i64| f.minutes_in(lo, hi);
            // a kept digest must add up to the state's rows and events (a
            // commit number used again after a damaged snapshot would not)
            let events: i64 = f.totals.iter().map(|t| t.1).sum();
            let kept = self
                .reuse
                .as_ref()
                .and_then(|s| s.digest(&rows))
                .filter(|d| d.rows() == f.minute_len() as u64 && d.events() as i64 == events);
            std::sync::Arc::new(kept.unwrap_or_else(|| {
                super::digest::Digest::of(f.minute_counts(), f.moving_window, &self.options.alert_actions)
            }))
        });
        // saved by the first thread to get it, while the others go on
        if let Some(s) = &self.reuse {
            if !self.digest.kept.swap(true, std::sync::atomic::Ordering::AcqRel) {
                s.keep_digest(d);
            }
        }
        d
    }

    /// The minute rows of `[lo, hi)`, read from the state when the whole
    /// table was not made.
    pub fn minutes_in(&self, lo: i64, hi: i64) -> crate::state::MinuteTable {
        self.figures.minutes_in(lo, hi)
    }

    /// Whether the frame of the table `name` was made.
    pub fn has_frame(&self, name: &str) -> bool {
        self.slot(name).is_some_and(|f| f.get().is_some())
    }

    /// Where the frame of the table `name` is kept.
    fn slot(&self, name: &str) -> Option<&OnceLock<DataFrame>> {
        let i = crate::frames::FIGURE_TABLES.iter().position(|n| *n == name)?;
        Some(&self.frames[i])
    }

    /// The frame of the table `name`, made on first use.
    pub fn frame(&self, name: &str) -> Result<&DataFrame> {
        let slot = self.slot(name).with_context(|| format!("no table named {name}"))?;
        if let Some(df) = slot.get() {
            return Ok(df);
        }
        let df = crate::frames::figure_frame(self.figures, name)
            .with_context(|| format!("cannot build the table {name}"))?;
        Ok(slot.get_or_init(|| df))
    }
}

/// Writes one part of a report folder.
pub trait Exporter: Sync {
    /// What it writes, for error messages.
    fn describe(&self) -> &'static str;
    /// Whether it may run beside the exporters after it: no other reads
    /// what it writes.
    fn beside(&self) -> bool {
        false
    }
    /// Writes its files into `dir` (which exists).
    fn export(&self, report: &Report, dir: &Path) -> Result<()>;
}

struct SummaryJson;
impl Exporter for SummaryJson {
    fn describe(&self) -> &'static str {
        "summary.json"
    }
    fn export(&self, r: &Report, dir: &Path) -> Result<()> {
        Ok(fs::write(dir.join("summary.json"), r.summary.to_json())?)
    }
}

struct Tables;
impl Exporter for Tables {
    fn describe(&self) -> &'static str {
        "the tables"
    }
    fn beside(&self) -> bool {
        true
    }
    fn export(&self, r: &Report, dir: &Path) -> Result<()> {
        let tables = dir.join("tables");
        fs::create_dir_all(&tables)?;
        let reuse = r.reuse.as_deref().filter(|_| r.table_format == TableFormat::Csv);
        let in_blocks = |name: &str| reuse.is_some() && super::reuse::TABLES.contains(&name);
        // the moving average is made a piece at a time, never whole
        let in_pieces = |name: &str| name == "moving_average" && !r.has_frame(name);
        let frames: Vec<(&str, &DataFrame)> = crate::frames::FIGURE_TABLES
            .iter()
            .filter(|name| !in_blocks(name) && !in_pieces(name))
            .map(|name| Ok((*name, r.frame(name)?)))
            .collect::<Result<_>>()?;
        std::thread::scope(|s| -> Result<()> {
            let mut jobs: Vec<_> = reuse
                .into_iter()
                .flat_map(|sp| super::reuse::TABLES.iter().map(move |name| (sp, name)))
                .map(|(sp, name)| {
                    let path = tables.join(format!("{name}.csv"));
                    s.spawn(move || sp.write_table(r, name, &path))
                })
                .collect();
            let name = "moving_average";
            if !in_blocks(name) && in_pieces(name) {
                let tables = &tables;
                jobs.push(s.spawn(move || {
                    let make = |lo, hi| r.figures.moving_piece(lo, hi);
                    let names = r.figures.action_names();
                    super::tables::write_pieces(name, &r.moving_pieces(), make, &names, tables, r.table_format)
                }));
            }
            let others = super::tables::write_all(&frames, &tables, r.table_format);
            let spliced = jobs.into_iter().try_for_each(|j| {
                j.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("a table writer panicked")))
            });
            others.and(spliced)
        })?;
        if let Some(triggers) = r.triggers {
            // the rows of the view `triggers`, as `sql` writes them
            let frame = crate::sql::triggers_frame(triggers)?;
            super::tables::write_csv(&frame, &tables.join("triggers.csv"))?;
        }
        Ok(())
    }
}

struct Quarantine;
impl Exporter for Quarantine {
    fn describe(&self) -> &'static str {
        "rejected.ndjson"
    }
    fn export(&self, r: &Report, dir: &Path) -> Result<()> {
        let mut out = String::new();
        for line in r.rejected {
            out.push_str(&serde_json::to_string(line)?);
            out.push('\n');
        }
        Ok(fs::write(dir.join("rejected.ndjson"), out)?)
    }
}

struct Charts;
impl Exporter for Charts {
    fn describe(&self) -> &'static str {
        "the charts"
    }
    fn export(&self, r: &Report, dir: &Path) -> Result<()> {
        let charts = dir.join("charts");
        fs::create_dir_all(&charts)?;
        charts::draw_all(r, &charts)?;
        charts::triggers(r.triggers.unwrap_or_default(), &charts)
    }
}

struct Html;
impl Exporter for Html {
    fn describe(&self) -> &'static str {
        "index.html"
    }
    fn export(&self, r: &Report, dir: &Path) -> Result<()> {
        let page = html::page(r, &dir.join("charts"))?;
        Ok(fs::write(dir.join("index.html"), page)?)
    }
}

/// The exporters of a report folder, in the order they run (the page last:
/// it inlines the charts).
pub fn exporters() -> Vec<Box<dyn Exporter>> {
    vec![
        Box::new(SummaryJson),
        Box::new(Tables),
        Box::new(Quarantine),
        Box::new(Charts),
        Box::new(Html),
    ]
}

/// The file that marks a folder as a report windowpane wrote. It lists every
/// file and folder windowpane put there; a report folder is replaced only
/// when it holds this file and nothing that the file does not list.
pub use crate::model::REPORT_MARKER as MARKER;

const MARKER_HEAD: &str = "# This folder is a windowpane report. windowpane replaces it whole on its next\n\
# run, unless it holds files not listed here: those it never deletes (it refuses\n\
# to write here instead). The files and folders windowpane wrote:\n";

/// The prefix of the temporary folder made inside a target that cannot be
/// replaced whole (`.` or a mount point).
const INSIDE_TMP: &str = ".windowpane-tmp-";

fn sibling(dir: &Path, tag: &str) -> PathBuf {
    sibling_of(dir, tag, std::process::id())
}

fn sibling_of(dir: &Path, tag: &str, pid: u32) -> PathBuf {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "report".into());
    dir.with_file_name(format!(".{name}.{tag}-{pid}"))
}

/// True when a windowpane process with this id runs (or may run: one we
/// may not signal is alive too). Process ids are reused, quickly on a busy
/// machine: where Linux tells a process's program name, a process running
/// another program is not the one that wrote the folder.
fn alive(pid: u32) -> bool {
    let Ok(id) = libc::pid_t::try_from(pid) else {
        return true;
    };
    // SAFETY: signal 0 only checks that the process exists
    let r = unsafe { libc::kill(id, 0) };
    let exists = r == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH);
    if !exists {
        return false;
    }
    match (fs::read(format!("/proc/{pid}/comm")), fs::read("/proc/self/comm")) {
        (Ok(theirs), Ok(ours)) => theirs == ours,
        _ => true,
    }
}

/// The process id at the end of a temporary folder's name that starts with
/// `prefix`, or `None` when the name is not one of ours.
fn pid_of(name: &str, prefix: &str) -> Option<u32> {
    let digits = name.strip_prefix(prefix)?;
    (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| digits.parse().ok())
        .flatten()
}

/// True when `dir` is a folder windowpane made: it holds the marker, or
/// nothing at all.
fn ours(dir: &Path) -> bool {
    fs::symlink_metadata(dir).is_ok_and(|m| m.is_dir())
        && (dir.join(MARKER).is_file() || fs::read_dir(dir).is_ok_and(|mut d| d.next().is_none()))
}

/// Removes the temporary and old copies of the report `dir` that processes
/// which no longer run left behind (killed during a write): beside it
/// (`.NAME.tmp-PID`, `.NAME.old-PID`) and inside it (`.windowpane-tmp-PID`).
/// Only folders windowpane made are removed (see [`ours`]).
fn remove_stale(dir: &Path) {
    let name = match dir.file_name() {
        Some(n) => n.to_string_lossy().into_owned(),
        None => return,
    };
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let old_prefix = format!(".{name}.old-");
    let prefixes = [format!(".{name}.tmp-"), old_prefix.clone()];
    let beside = fs::read_dir(&parent)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| (e, &prefixes[..]));
    let inside_prefix = [INSIDE_TMP.to_string()];
    let inside = fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| (e, &inside_prefix[..]));
    let mut found: Vec<_> = beside.chain(inside).collect();
    // temporary folders first: a killed run's may hold links to the old
    // report's tables, which are rolled back only when linked nowhere else
    found.sort_by_key(|(e, _)| e.file_name().to_string_lossy().starts_with(&old_prefix));
    for (entry, prefixes) in found {
        let entry_name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = prefixes.iter().find_map(|p| pid_of(&entry_name, p)) else {
            continue;
        };
        let path = entry.path();
        if pid == std::process::id() || alive(pid) || !ours(&path) {
            continue;
        }
        // a run killed between its two renames left the old report beside
        // and no report in place: the old one goes back first, its tables
        // as they were (kept aside, whatever fails: it is the only report)
        if entry_name.starts_with(&old_prefix) && fs::symlink_metadata(dir).is_err() {
            match super::reuse::roll_back(&path) {
                Ok(()) => {
                    let _ = fs::rename(&path, dir);
                }
                Err(e) => crate::text::warning(&format!(
                    "the report {} left by a killed run cannot be put back ({e:#}); it stays in {}",
                    dir.display(),
                    path.display()
                )),
            }
            continue;
        }
        let _ = remove_ours(&path);
    }
}

/// Removes a folder windowpane made, its marker last: a run killed while
/// removing it leaves a folder that is still recognisably its own (marked,
/// or empty), which the next run removes.
fn remove_ours(dir: &Path) -> std::io::Result<()> {
    for entry in fs::read_dir(dir)?.collect::<Vec<_>>() {
        let entry = entry?;
        if entry.file_name() == MARKER {
            continue;
        }
        if entry.file_type()?.is_dir() {
            fs::remove_dir_all(entry.path())?;
        } else {
            fs::remove_file(entry.path())?;
        }
    }
    match fs::remove_file(dir.join(MARKER)) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    fs::remove_dir(dir)
}

/// Every file and folder under `dir`, relative, folders ending in `/`,
/// the marker and temporary folders of live writes aside.
fn entries(dir: &Path) -> Result<Vec<String>> {
    fn walk(dir: &Path, rel: &str, out: &mut Vec<String>) -> Result<()> {
        for entry in fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
            let entry = entry.with_context(|| format!("cannot list {}", dir.display()))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            // the marker, and the temporary folder of a write inside that
            // still runs (with its own marker), are not report entries
            if rel.is_empty() && (name == MARKER || (name.starts_with(INSIDE_TMP) && ours(&entry.path()))) {
                continue;
            }
            let path = format!("{rel}{name}");
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                out.push(format!("{path}/"));
                walk(&entry.path(), &format!("{path}/"), out)?;
            } else {
                out.push(path);
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(dir, "", &mut out)?;
    out.sort();
    Ok(out)
}

/// The entries a report folder's marker lists.
fn listed(dir: &Path) -> Result<std::collections::BTreeSet<String>> {
    let text =
        fs::read_to_string(dir.join(MARKER)).with_context(|| format!("cannot read {}", dir.join(MARKER).display()))?;
    Ok(text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect())
}

fn write_marker(dir: &Path, entries: &[String]) -> Result<()> {
    let mut text = MARKER_HEAD.to_string();
    for e in entries {
        text.push_str(e);
        text.push('\n');
    }
    fs::write(dir.join(MARKER), text).with_context(|| format!("cannot write {}", dir.join(MARKER).display()))
}

/// How a report folder is written.
#[derive(Debug, PartialEq, Eq)]
enum Mode {
    /// Written beside the target and renamed over it.
    Swap,
    /// Written into a temporary folder inside the target, then moved into
    /// place entry by entry: for targets that cannot be renamed (the
    /// current folder, a mount point).
    Inside,
}

/// Whether `dir` (an existing folder) can only be written inside.
fn must_write_inside(dir: &Path) -> bool {
    let Ok(real) = dir.canonicalize() else {
        return false;
    };
    if std::env::current_dir().is_ok_and(|cwd| cwd.canonicalize().is_ok_and(|c| c == real)) {
        return true;
    }
    let Some(parent) = real.parent() else {
        return true;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let (Ok(a), Ok(b)) = (fs::metadata(&real), fs::metadata(parent)) {
            return a.dev() != b.dev();
        }
    }
    false
}

/// Checks that `dir` may be written: it does not exist, or is an empty
/// folder, or a report folder windowpane wrote holding nothing else.
/// Anything else is refused with a sentence saying what to do: windowpane
/// never deletes what it did not write.
fn check_replaceable(dir: &Path) -> Result<Mode> {
    let meta = match fs::metadata(dir) {
        Err(_) => return Ok(Mode::Swap),
        Ok(m) => m,
    };
    if !meta.is_dir() {
        bail!(
            "cannot write the report to {}: it is a file; choose another --report folder",
            dir.display()
        );
    }
    // a folder made read-only is kept as it is: replacing it would defeat
    // its owner's intent (and its old copy could not be removed after)
    use std::os::unix::fs::PermissionsExt;
    if meta.permissions().mode() & 0o200 == 0 {
        bail!(
            "refusing to replace {}: it is read-only (made so by its owner); make it writable (chmod u+w) or choose another --report folder",
            dir.display()
        );
    }
    let found = entries(dir)?;
    let mode = if must_write_inside(dir) {
        Mode::Inside
    } else {
        Mode::Swap
    };
    if found.is_empty() {
        return Ok(mode);
    }
    if !dir.join(MARKER).is_file() {
        let older = if dir.join("summary.json").is_file() {
            " (if it is a report of an older windowpane, which did not mark its reports, delete it yourself)"
        } else {
            ""
        };
        bail!(
            "refusing to replace {}: it is not empty and is not a report folder windowpane made (it has no {MARKER} file){older}; choose another --report folder, a new or an empty one",
            dir.display()
        );
    }
    let listed = listed(dir)?;
    let foreign: Vec<&String> = found.iter().filter(|e| !listed.contains(*e)).collect();
    if !foreign.is_empty() {
        let mut names: Vec<String> = foreign.iter().take(5).map(|s| s.to_string()).collect();
        if foreign.len() > 5 {
            names.push(format!("and {} more", foreign.len() - 5));
        }
        bail!(
            "refusing to replace the report folder {}: it holds files windowpane did not write ({}), and windowpane never deletes those; move them out of it, or choose another --report folder",
            dir.display(),
            names.join(", ")
        );
    }
    Ok(mode)
}

/// Runs the exporters into the new folder `tmp` and marks it: those that
/// may run beside the others on threads of their own, the others in order.
fn export_into(report: &Report, dir: &Path, tmp: &Path, exporters: &[Box<dyn Exporter>]) -> Result<()> {
    fs::create_dir(tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
    let run = |e: &dyn Exporter| {
        e.export(report, tmp)
            .with_context(|| format!("cannot write {} of the report {}", e.describe(), dir.display()))
    };
    let written = write_marker(tmp, &[]).and_then(|()| {
        std::thread::scope(|s| {
            let beside: Vec<_> = exporters
                .iter()
                .filter(|e| e.beside())
                .map(|e| s.spawn(move || run(e.as_ref())))
                .collect();
            let rest = exporters
                .iter()
                .filter(|e| !e.beside())
                .try_for_each(|e| run(e.as_ref()));
            let beside = beside.into_iter().try_for_each(|j| {
                j.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("a report writer panicked")))
            });
            rest.and(beside)
        })
    });
    let written = written.and_then(|()| write_marker(tmp, &entries(tmp)?));
    if written.is_err() {
        let _ = remove_ours(tmp);
    }
    written
}

/// Writes the report folder `dir`, replacing an earlier report there.
///
/// The report is written into a temporary folder beside `dir`, which then
/// replaces it, so a crash never leaves half a report; temporary folders of
/// killed runs are removed first. A link to a folder is followed (the
/// link stays). A target that cannot be renamed (the current folder, a
/// mount point) is written inside. See [`check_replaceable`] for what is
/// refused.
pub fn write(report: &Report, dir: &Path, exporters: &[Box<dyn Exporter>]) -> Result<()> {
    let dir = &if fs::symlink_metadata(dir).is_ok_and(|m| m.file_type().is_symlink()) {
        dir.canonicalize().with_context(|| {
            format!(
                "cannot write the report to {}: it is a link that leads nowhere; make its target folder or choose another --report folder",
                dir.display()
            )
        })?
    } else {
        dir.to_path_buf()
    };
    remove_stale(dir);
    let mode = check_replaceable(dir)?;
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent).with_context(|| format!("cannot create the folder {}", parent.display()))?;
    }
    if mode == Mode::Inside {
        if let Some(sp) = report.reuse.as_deref() {
            sp.allow_in_place(false);
        }
        return write_inside(report, dir, exporters);
    }
    match swap(report, dir, exporters, true)? {
        Swap::Done => Ok(()),
        Swap::Undone(e) => {
            crate::text::warning(&format!(
                "the tables of {} cannot be extended in place ({e:#}); they are written again",
                dir.display()
            ));
            match swap(report, dir, exporters, false)? {
                Swap::Done => Ok(()),
                Swap::Undone(e) => Err(e),
            }
        }
    }
}

/// What became of [`swap`].
enum Swap {
    /// The new report is in place.
    Done,
    /// Extending the long tables in place failed: the old report is back
    /// in place as it was.
    Undone(anyhow::Error),
}

/// Writes the report aside and swaps it in for the old one (`dir`), the
/// long tables extended in place when `in_place` allows and the reuse
/// plans it (see [`super::reuse::TableReuse::extend`]).
fn swap(report: &Report, dir: &Path, exporters: &[Box<dyn Exporter>], in_place: bool) -> Result<Swap> {
    let tmp = sibling(dir, "tmp");
    if ours(&tmp) {
        let _ = remove_ours(&tmp);
    }
    let reuse = report.reuse.as_deref();
    if let Some(sp) = reuse {
        sp.allow_in_place(in_place);
    }
    export_into(report, dir, &tmp, exporters)?;
    let old = sibling(dir, "old");
    let moved = dir.exists();
    if moved {
        if let Err(e) = fs::rename(dir, &old) {
            let _ = remove_ours(&tmp);
            if e.raw_os_error() == Some(libc::EBUSY) {
                if let Some(sp) = reuse {
                    sp.allow_in_place(false);
                }
                return write_inside(report, dir, exporters).map(|()| Swap::Done);
            }
            return Err(e).with_context(|| format!("cannot move the old report {} aside", dir.display()));
        }
    }
    // the long tables extended in place: only now that the old report is
    // aside, and given back if anything fails before the new one is in place
    let extends = reuse.filter(|sp| sp.extends());
    if let Some(sp) = extends {
        let extended = if moved {
            sp.extend(&old, &tmp).and_then(|()| write_marker(&tmp, &entries(&tmp)?))
        } else {
            Err(anyhow::anyhow!("the earlier report is gone"))
        };
        if let Err(e) = extended {
            put_back(dir, &tmp, &old, moved)?;
            return Ok(Swap::Undone(e));
        }
    }
    if let Err(e) = fs::rename(&tmp, dir) {
        let e = anyhow::Error::new(e).context(format!("cannot move the new report into {}", dir.display()));
        if extends.is_some() {
            if let Err(b) = put_back(dir, &tmp, &old, moved) {
                return Err(e.context(format!("{b:#}")));
            }
        }
        return Err(e);
    }
    if extends.is_some() {
        // the old folder's tables are the new report's now: its journal
        // goes first, so that nothing ever rolls them back
        if let Err(e) = fs::remove_file(old.join(super::reuse::JOURNAL)) {
            crate::text::warning(&format!(
                "cannot remove {} ({e}); remove the folder {} yourself",
                old.join(super::reuse::JOURNAL).display(),
                old.display()
            ));
            return Ok(Swap::Done);
        }
    }
    if old.exists() {
        let _ = remove_ours(&old);
    }
    Ok(Swap::Done)
}

/// Puts the old report, moved aside to `old` (if `moved`), back in place
/// as it was after its tables were extended (or not) for the new report
/// `tmp`, which is removed first (it holds links to the old tables).
fn put_back(dir: &Path, tmp: &Path, old: &Path, moved: bool) -> Result<()> {
    let _ = remove_ours(tmp);
    if !moved {
        return Ok(());
    }
    super::reuse::roll_back(old)
        .and_then(|()| Ok(fs::rename(old, dir)?))
        .with_context(|| format!("the old report is left in {}", old.display()))
}

/// Writes the report into `dir` itself: the new files go to a temporary
/// folder inside it, then the old report's entries (those its marker lists)
/// are removed and the new ones moved into place. Not atomic, but nothing
/// the marker does not list is touched.
fn write_inside(report: &Report, dir: &Path, exporters: &[Box<dyn Exporter>]) -> Result<()> {
    fs::create_dir_all(dir).with_context(|| format!("cannot create the folder {}", dir.display()))?;
    let tmp = dir.join(format!("{INSIDE_TMP}{}", std::process::id()));
    if ours(&tmp) {
        let _ = remove_ours(&tmp);
    }
    export_into(report, dir, &tmp, exporters)?;
    let old: Vec<String> = if dir.join(MARKER).is_file() {
        listed(dir)?.into_iter().collect()
    } else {
        Vec::new()
    };
    let new = entries(&tmp)?;
    // while entries move, the marker lists both the old and the new ones
    let mut both: Vec<String> = old.iter().chain(&new).cloned().collect();
    both.sort();
    both.dedup();
    write_marker(dir, &both)?;
    for entry in old.iter().filter(|e| !e.trim_end_matches('/').contains('/')) {
        let path = dir.join(entry.trim_end_matches('/'));
        let removed = if entry.ends_with('/') {
            fs::remove_dir_all(&path)
        } else {
            fs::remove_file(&path)
        };
        match removed {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(e).with_context(|| format!("cannot remove the old {}", path.display()))
            }
            _ => {}
        }
    }
    for entry in new.iter().filter(|e| !e.trim_end_matches('/').contains('/')) {
        let name = entry.trim_end_matches('/');
        fs::rename(tmp.join(name), dir.join(name))
            .with_context(|| format!("cannot move the new {name} into {}", dir.display()))?;
    }
    write_marker(dir, &new)?;
    let _ = remove_ours(&tmp);
    Ok(())
}
