//! How the report follows the state: the two long tables of a report
//! brought up to date from the last report's instead of written again,
//! as a two-phase commit (prepare from the ledger, write aside or extend
//! in place under a journal, swap the folder in, then drop the journal and
//! save the new ledger through the checkpoint's side file).
//!
//! `minute_counts.csv` and `moving_average.csv` hold a row per action and
//! minute, ordered by minute first: nearly all of a report's bytes (106 MB
//! for a year of minute data). When `update` or `stream` writes a report,
//! it writes those two tables in blocks — runs of whole hours of at least
//! [`BLOCK`] rows — and keeps where each block lies in a ledger in its
//! checkpoint (`report.idx`). The next report of the same checkpoint keeps
//! every block whose hours no trigger touched since and formats only the
//! rows of the hours that changed:
//! - When the blocks kept are the table's first ones (a new dump of later
//!   data), the table is **extended in place**: once the old report folder
//!   is moved aside, the file's bytes past the last kept block are saved in
//!   a journal there, the new rows written over them, and the file linked
//!   into the new folder before it is swapped in. Only the new rows are
//!   written; nothing is copied, and the old folder's removal frees nothing
//!   but its small files. A run killed before the swap leaves the journal,
//!   from which the next run gives the old report back its bytes
//!   ([`roll_back`]) before putting it back in place. A table file linked
//!   anywhere else is never changed.
//! - Otherwise the kept blocks are copied into a new file
//!   (`copy_file_range`: the kernel copies, nothing is formatted again) and
//!   the old report is only read.
//!
//! Either way the report folder is replaced whole: at no moment does the
//! folder in place hold a table half-written.
//!
//! Each row's bytes depend on that row alone (see
//! [`super::csv::write_rows`]), so a table made of kept and new blocks is
//! byte for byte the table batch writes at once. A table is written whole
//! instead unless all of these hold:
//! - the ledger was written from this checkpoint for this report folder,
//!   with the same options, table format and actions (a new action adds a
//!   row to every minute of the moving average), and it reads back whole;
//! - the old file is the one the ledger describes (inode, size and
//!   modification time), so no one changed it since;
//! - every trigger since the ledger's commit ran in this process, so the
//!   hours they touched are known;
//! - for the moving average, the data's first minute is the same (the
//!   windows of the first minutes count the minutes since the first).

use std::collections::BTreeSet;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{Context, Result};
use polars::prelude::*;

use super::csv;
use super::report::Report;
use crate::checkpoint::SideFile;
use crate::codec;
use crate::engine::changes::ChangedHours;
use crate::metrics::{HOUR, MINUTE};

/// The fewest rows of a block (a block ends at the first hour boundary
/// after it has this many).
pub const BLOCK: usize = if cfg!(test) { 7 } else { 4096 };

/// The tables written in blocks.
pub const TABLES: [&str; 2] = ["minute_counts", "moving_average"];

/// A run of rows of a table file: from `hour` up to the next block's hour.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Block {
    hour: i64,
    offset: u64,
    len: u64,
}

/// What identifies a file's content without reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Stamp {
    ino: u64,
    size: u64,
    mtime_ns: i128,
}

impl Stamp {
    fn of(path: &Path) -> Option<Stamp> {
        Self::of_metadata(&fs::metadata(path).ok()?)
    }

    fn of_metadata(m: &fs::Metadata) -> Option<Stamp> {
        use std::os::unix::fs::MetadataExt;
        Some(Stamp {
            ino: m.ino(),
            size: m.size(),
            mtime_ns: i128::from(m.mtime()) * 1_000_000_000 + i128::from(m.mtime_nsec()),
        })
    }
}

/// Where the blocks of one table file lie: after the header, in the order
/// of their hours (both tables are ordered by minute first).
#[derive(Debug, Clone, PartialEq, Eq)]
struct TableIndex {
    name: String,
    header: u64,
    blocks: Vec<Block>,
    stamp: Stamp,
}

/// What a report written from a checkpoint leaves for the next one.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Ledger {
    /// The checkpoint's commit the report shows.
    commit: u64,
    /// The report folder, made absolute.
    report: String,
    /// The options and table format it was written with.
    options: String,
    /// The data's first and last minute then.
    bounds: (i64, i64),
    tables: Vec<TableIndex>,
}

const TAG: &[u8] = b"windowpane report index 2";

impl Ledger {
    fn encode(&self) -> Vec<u8> {
        let mut w = codec::Writer::new();
        w.bytes(TAG);
        w.u64(self.commit);
        w.bytes(self.report.as_bytes());
        w.bytes(self.options.as_bytes());
        w.i64(self.bounds.0);
        w.i64(self.bounds.1);
        w.u64(self.tables.len() as u64);
        for t in &self.tables {
            w.bytes(t.name.as_bytes());
            w.u64(t.header);
            w.u64(t.stamp.ino);
            w.u64(t.stamp.size);
            w.u128(t.stamp.mtime_ns as u128);
            w.u64(t.blocks.len() as u64);
            for b in &t.blocks {
                w.i64(b.hour);
                w.u64(b.offset);
                w.u64(b.len);
            }
        }
        w.finish()
    }

    fn decode(bytes: &[u8]) -> Result<Ledger> {
        let mut r = codec::Reader::new(bytes)?;
        anyhow::ensure!(r.bytes()? == TAG, "not a report index");
        let text = |b: &[u8]| String::from_utf8(b.to_vec()).context("not UTF-8");
        let commit = r.u64()?;
        let report = text(r.bytes()?)?;
        let options = text(r.bytes()?)?;
        let bounds = (r.i64()?, r.i64()?);
        let mut tables = Vec::new();
        for _ in 0..r.count()? {
            let name = text(r.bytes()?)?;
            let header = r.u64()?;
            let stamp = Stamp {
                ino: r.u64()?,
                size: r.u64()?,
                mtime_ns: r.u128()? as i128,
            };
            let mut blocks = Vec::new();
            for _ in 0..r.count()? {
                blocks.push(Block {
                    hour: r.i64()?,
                    offset: r.u64()?,
                    len: r.u64()?,
                });
            }
            tables.push(TableIndex {
                name,
                header,
                blocks,
                stamp,
            });
        }
        anyhow::ensure!(r.is_done(), "bytes after the end");
        Ok(Ledger {
            commit,
            report,
            options,
            bounds,
            tables,
        })
    }
}

/// What the earlier report offers, as far as it can be trusted.
#[derive(Debug)]
struct Reuse {
    /// The earlier report's folder, read while the new one is written aside.
    old_dir: PathBuf,
    /// The tables of it that are as the ledger describes.
    tables: Vec<TableIndex>,
    /// Hours whose minute rows changed since.
    minutes: BTreeSet<i64>,
    /// Hours whose moving-average rows changed since; `None`: all.
    moving: Option<BTreeSet<i64>>,
}

/// A report's long tables written in blocks, reusing an earlier report's
/// where it can, and the ledger kept for the next one.
#[derive(Debug)]
pub struct TableReuse {
    checkpoint: PathBuf,
    options: String,
    commit: u64,
    bounds: Option<(i64, i64)>,
    reuse: Option<Reuse>,
    written: Mutex<Vec<TableIndex>>,
    /// The last report's chart digest and the hours changed since.
    old_digest: Mutex<Option<(super::digest::Digest, BTreeSet<i64>)>>,
    /// Whether this report's digest was saved for the next one.
    digest_saved: Mutex<Option<Result<()>>>,
    /// Whether tables may be extended in place (see
    /// [`TableReuse::allow_in_place`]).
    in_place: std::sync::atomic::AtomicBool,
    /// The tables left for [`TableReuse::extend`].
    extensions: Mutex<Vec<Extension>>,
}

/// The ledger and the chart digest a checkpoint holds, read but not yet
/// checked against the state.
struct Read {
    ledger: Option<Ledger>,
    /// The options it was made with, its commit and the digest.
    digest: Option<(String, u64, super::digest::Digest)>,
}

impl Read {
    fn from(checkpoint: &Path) -> Read {
        Read {
            ledger: SideFile::ReportLedger
                .read(checkpoint)
                .and_then(|bytes| Ledger::decode(&bytes).ok()),
            digest: super::digest::Digest::read(checkpoint),
        }
    }
}

/// The ledger and chart digest of a checkpoint folder, for
/// [`TableReuse::prepare`] to check: read when asked, or read ahead on a
/// thread of their own while the triggers run (decoding a year's digest
/// takes a few milliseconds).
#[derive(Debug)]
pub struct Prefetch {
    checkpoint: PathBuf,
    reading: Mutex<Option<std::thread::JoinHandle<Read>>>,
}

impl Prefetch {
    /// The ledger and digest of the checkpoint folder `checkpoint`, read
    /// when they are taken.
    pub fn later(checkpoint: &Path) -> Prefetch {
        Prefetch {
            checkpoint: checkpoint.to_path_buf(),
            reading: Mutex::new(None),
        }
    }

    /// Starts reading the ledger and digest of the checkpoint folder
    /// `checkpoint`.
    pub fn start(checkpoint: &Path) -> Prefetch {
        let dir = checkpoint.to_path_buf();
        let reading = std::thread::Builder::new()
            .name("read ahead".into())
            .spawn(move || Read::from(&dir))
            .ok();
        Prefetch {
            checkpoint: checkpoint.to_path_buf(),
            reading: Mutex::new(reading),
        }
    }

    /// The checkpoint folder read.
    pub fn checkpoint(&self) -> &Path {
        &self.checkpoint
    }

    /// What was read ahead, or (when nothing was, or it was taken
    /// already) what the files hold now.
    fn take(&self) -> Read {
        let reading = self.reading.lock().expect("not poisoned").take();
        reading
            .and_then(|r| r.join().ok())
            .unwrap_or_else(|| Read::from(&self.checkpoint))
    }
}

/// The canonical form of a report folder's path (of its parent when it
/// does not exist yet), for comparing.
fn canonical(dir: &Path) -> String {
    let absolute = dir.canonicalize().unwrap_or_else(|_| {
        let parent = dir
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        parent
            .canonicalize()
            .map(|p| p.join(dir.file_name().unwrap_or_default()))
            .unwrap_or_else(|_| dir.to_path_buf())
    });
    absolute.display().to_string()
}

/// The CSV file of the table `name` in the report folder `dir`.
fn table_path(dir: &Path, name: &str) -> PathBuf {
    dir.join("tables").join(format!("{name}.csv"))
}

/// The first hour of `t`.
fn hour_of(t: i64) -> i64 {
    t.div_euclid(HOUR) * HOUR
}

impl TableReuse {
    /// Prepares the report `report_dir` of the checkpoint whose ledger and
    /// digest `files` reads, whose state is at `commit`, with `bounds` its
    /// first and last minute, written with `options` (which must name
    /// everything the tables' bytes depend on) and a moving window of
    /// `window` minutes. Keeps what of the ledger and digest an earlier
    /// report left can be used.
    pub fn prepare(
        files: &Prefetch,
        report_dir: &Path,
        options: String,
        commit: u64,
        bounds: Option<(i64, i64)>,
        window: usize,
        touched: &ChangedHours,
    ) -> TableReuse {
        let checkpoint = &files.checkpoint;
        let read = files.take();
        let reuse = read
            .ledger
            .and_then(|ledger| Self::reuse(ledger, report_dir, &options, commit, bounds, window, touched));
        let old_digest = read
            .digest
            .filter(|(saved, at, _)| super::digest::Digest::fits(saved, *at, &options, touched.since, commit))
            .map(|(_, at, d)| {
                let dirty = touched.hours.iter().filter(|(_, &c)| c > at).map(|(&h, _)| h).collect();
                (d, dirty)
            });
        TableReuse {
            checkpoint: checkpoint.to_path_buf(),
            options,
            commit,
            bounds,
            reuse,
            written: Mutex::new(Vec::new()),
            old_digest: Mutex::new(old_digest),
            digest_saved: Mutex::new(None),
            in_place: std::sync::atomic::AtomicBool::new(false),
            extensions: Mutex::new(Vec::new()),
        }
    }

    fn reuse(
        ledger: Ledger,
        report_dir: &Path,
        options: &str,
        commit: u64,
        bounds: Option<(i64, i64)>,
        window: usize,
        touched: &ChangedHours,
    ) -> Option<Reuse> {
        let bounds = bounds?;
        if ledger.report != canonical(report_dir)
            || ledger.options != options
            || ledger.commit < touched.since
            || ledger.commit > commit
        {
            return None;
        }
        let minutes: BTreeSet<i64> = touched
            .hours
            .iter()
            .filter(|(_, &c)| c > ledger.commit)
            .map(|(&h, _)| h)
            .collect();
        let reach = (window.max(1) as i64 - 1) * MINUTE;
        let moving = (bounds.0 == ledger.bounds.0).then(|| {
            let mut hours = BTreeSet::new();
            let mut add = |from: i64, to: i64| {
                let mut h = hour_of(from);
                while h <= hour_of(to) {
                    hours.insert(h);
                    h += HOUR;
                }
            };
            for &h in &minutes {
                add(h, h + HOUR - MINUTE + reach);
            }
            if bounds.1 != ledger.bounds.1 {
                // the grid went on past the old last minute
                add(ledger.bounds.1, ledger.bounds.1 + reach);
            }
            hours
        });
        let tables: Vec<TableIndex> = ledger
            .tables
            .into_iter()
            .filter(|t| Stamp::of(&table_path(report_dir, &t.name)) == Some(t.stamp))
            .collect();
        Some(Reuse {
            old_dir: report_dir.to_path_buf(),
            tables,
            minutes,
            moving,
        })
    }

    /// The last report's chart digest brought up to date, reading the
    /// hours that changed since with `rows`; `None` when there is none to
    /// trust.
    pub fn digest(&self, rows: &super::digest::RowsIn) -> Option<super::digest::Digest> {
        let (mut d, dirty) = self.old_digest.lock().expect("not poisoned").take()?;
        d.refresh(&dirty, rows);
        Some(d)
    }

    /// Keeps this report's digest for the next report. It is saved at
    /// once, on the thread that made it (beside the others still drawing
    /// and writing): it sums up the state, whatever becomes of the report.
    pub fn keep_digest(&self, d: &super::digest::Digest) {
        let saved = d.save(&self.checkpoint, &self.options, self.commit);
        *self.digest_saved.lock().expect("not poisoned") = Some(saved);
    }

    /// Whether the earlier report's `name` table is reused.
    pub fn reuses(&self, name: &str) -> bool {
        self.old_table(name).is_some()
    }

    fn old_table(&self, name: &str) -> Option<(&Reuse, &TableIndex, &BTreeSet<i64>)> {
        let reuse = self.reuse.as_ref()?;
        let dirty = match name {
            "moving_average" => reuse.moving.as_ref()?,
            _ => &reuse.minutes,
        };
        let t = reuse.tables.iter().find(|t| t.name == name)?;
        Some((reuse, t, dirty))
    }

    /// Lets the tables be extended in place (see [`TableReuse::extend`]):
    /// only when the report is written aside and swapped in by renaming.
    /// Forgets any extension planned before.
    /// Forgets the tables written before too: called before each write
    /// of the report.
    pub fn allow_in_place(&self, allow: bool) {
        self.in_place.store(allow, std::sync::atomic::Ordering::Relaxed);
        self.extensions.lock().expect("not poisoned").clear();
        self.written.lock().expect("not poisoned").clear();
    }

    /// Writes the table `name` (one of [`TABLES`]) of the report `r` as
    /// CSV to `path`, in blocks, reusing the earlier report's where it can.
    /// When the earlier table is a prefix of this one and may be extended
    /// in place, nothing is written yet: [`TableReuse::extend`] does it.
    pub fn write_table(&self, r: &Report, name: &str, path: &Path) -> Result<()> {
        if let Some((reuse, old, dirty)) = self.old_table(name) {
            if self.in_place.load(std::sync::atomic::Ordering::Relaxed) {
                match extension(r, name, &reuse.old_dir, old, dirty) {
                    Ok(Some(e)) => {
                        self.extensions.lock().expect("not poisoned").push(e);
                        return Ok(());
                    }
                    Ok(None) => {}
                    Err(e) => crate::text::warning(&format!(
                        "the last report's {name}.csv cannot be extended ({e:#}); it is written again"
                    )),
                }
            }
        }
        let file = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
        let mut out = Out::new(file);
        let spliced = self.old_table(name).map(|(reuse, old, dirty)| -> Result<TableIndex> {
            let old_path = table_path(&reuse.old_dir, name);
            let src = File::open(&old_path).with_context(|| format!("cannot read {}", old_path.display()))?;
            out.src = Some(src);
            splice(r, name, &mut out, old, dirty)
        });
        let mut index = match spliced {
            Some(Ok(index)) => Ok(index),
            // the earlier table cannot be read as its ledger says: this one
            // is written whole
            Some(Err(e)) => {
                crate::text::warning(&format!(
                    "the last report's {name}.csv cannot be reused ({e:#}); it is written whole"
                ));
                out.restart()?;
                whole(r, name, &mut out)
            }
            None => whole(r, name, &mut out),
        }
        .with_context(|| format!("cannot write {}", path.display()))?;
        let file = out.file()?;
        file.flush()?;
        // renaming the report into place keeps the inode and the time
        index.stamp = file
            .metadata()
            .ok()
            .and_then(|m| Stamp::of_metadata(&m))
            .unwrap_or_default();
        self.written.lock().expect("not poisoned").push(index);
        Ok(())
    }

    /// Whether tables wait to be extended in place.
    pub fn extends(&self) -> bool {
        !self.extensions.lock().expect("not poisoned").is_empty()
    }

    /// Extends in place the tables that [`TableReuse::write_table`] left for
    /// it, then links them into the new report folder `new_dir`.
    /// `old_dir` is the earlier report, already moved aside: no one reads
    /// it as the report any more, and it is removed once the new one is in
    /// place. What each table held past the cut is first saved in a
    /// journal in `old_dir`, so that [`roll_back`] gives the earlier report
    /// back as it was if this fails or the process is killed before the new
    /// report is in place.
    ///
    /// A table file linked anywhere else is never changed (it is written
    /// again instead, see [`extension`]).
    pub fn extend(&self, old_dir: &Path, new_dir: &Path) -> Result<()> {
        use std::os::unix::fs::FileExt;
        let extensions = std::mem::take(&mut *self.extensions.lock().expect("not poisoned"));
        if extensions.is_empty() {
            return Ok(());
        }
        let mut files = Vec::new();
        let mut journal = Journal::default();
        for e in &extensions {
            let path = table_path(old_dir, &e.name);
            let (f, m) = open_alone(&path, true)?;
            anyhow::ensure!(
                Stamp::of_metadata(&m) == Some(e.stamp),
                "{} changed while the new report was written",
                path.display()
            );
            let len = e.stamp.size.checked_sub(e.cut).context("the cut lies past the end")?;
            let mut saved = vec![0u8; usize::try_from(len)?];
            f.read_exact_at(&mut saved, e.cut)
                .with_context(|| format!("cannot read {}", path.display()))?;
            journal.tables.push((e.name.clone(), e.stamp.size, e.cut, saved));
            files.push(f);
        }
        crate::checkpoint::write_aside(&old_dir.join(JOURNAL), &journal.encode(), false)?;
        for (e, f) in extensions.into_iter().zip(files) {
            let path = table_path(old_dir, &e.name);
            f.write_all_at(&e.tail, e.cut)
                .and_then(|()| f.set_len(e.cut + e.tail.len() as u64))
                .with_context(|| format!("cannot extend {}", path.display()))?;
            let new_path = table_path(new_dir, &e.name);
            fs::hard_link(&path, &new_path).with_context(|| format!("cannot link {}", new_path.display()))?;
            let stamp = f
                .metadata()
                .ok()
                .and_then(|m| Stamp::of_metadata(&m))
                .unwrap_or_default();
            self.written.lock().expect("not poisoned").push(TableIndex {
                name: e.name,
                header: e.header,
                blocks: e.blocks,
                stamp,
            });
        }
        Ok(())
    }

    /// Keeps the ledger of the report just written to `report_dir` (its
    /// tables as they are now there) for the next one, and removes a chart
    /// digest this report did not make (see [`TableReuse::keep_digest`]). A
    /// report whose tables were not written in blocks leaves no ledger.
    pub fn save(&self, report_dir: &Path) -> Result<()> {
        let saved = self.digest_saved.lock().expect("not poisoned").take();
        match saved {
            Some(saved) => saved?,
            None => SideFile::ChartDigest.remove(&self.checkpoint)?,
        }
        let tables = std::mem::take(&mut *self.written.lock().expect("not poisoned"));
        // the files in place must be the ones written (not those of a run
        // that replaced the report since)
        let in_place = tables
            .iter()
            .all(|t| Stamp::of(&table_path(report_dir, &t.name)) == Some(t.stamp));
        let Some(bounds) = self.bounds.filter(|_| !tables.is_empty() && in_place) else {
            return SideFile::ReportLedger.remove(&self.checkpoint);
        };
        let ledger = Ledger {
            commit: self.commit,
            report: canonical(report_dir),
            options: self.options.clone(),
            bounds,
            tables,
        };
        // no fsync: a ledger lost in a crash only makes the next report
        // write its tables whole, and a torn one fails its checksum
        SideFile::ReportLedger.write(&self.checkpoint, &ledger.encode())
    }
}

/// Opens the table file `path` to change it, never through a symbolic
/// link, and only a regular file with no other link (none of the user's
/// files is ever changed): its metadata as opened.
fn open_alone(path: &Path, read: bool) -> Result<(File, fs::Metadata)> {
    use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
    let f = fs::OpenOptions::new()
        .read(read)
        .write(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    let m = f.metadata()?;
    anyhow::ensure!(
        m.file_type().is_file() && m.nlink() == 1,
        "{} is linked elsewhere too",
        path.display()
    );
    Ok((f, m))
}

/// Removes the file `path` if there is one.
fn remove_if_there(path: &Path) -> Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).with_context(|| format!("cannot remove {}", path.display()))
        }
        _ => Ok(()),
    }
}

/// The file in an earlier report folder, moved aside, that says how to
/// give its extended tables back their bytes.
pub const JOURNAL: &str = ".windowpane-undo";

/// What the tables of an earlier report held past their cut, saved before
/// they are extended in place: per table, its name, length, cut and the
/// bytes from the cut to the end.
#[derive(Debug, Default, PartialEq, Eq)]
struct Journal {
    tables: Vec<(String, u64, u64, Vec<u8>)>,
}

const JOURNAL_TAG: &[u8] = b"windowpane report undo";

impl Journal {
    fn encode(&self) -> Vec<u8> {
        let mut w = codec::Writer::new();
        w.bytes(JOURNAL_TAG);
        w.u64(self.tables.len() as u64);
        for (name, len, cut, saved) in &self.tables {
            w.bytes(name.as_bytes());
            w.u64(*len);
            w.u64(*cut);
            w.bytes(saved);
        }
        w.finish()
    }

    fn decode(bytes: &[u8]) -> Result<Journal> {
        let mut r = codec::Reader::new(bytes)?;
        anyhow::ensure!(r.bytes()? == JOURNAL_TAG, "not a report journal");
        let mut tables = Vec::new();
        for _ in 0..r.count()? {
            let name = String::from_utf8(r.bytes()?.to_vec()).context("not UTF-8")?;
            anyhow::ensure!(TABLES.contains(&name.as_str()), "no table {name}");
            let (len, cut) = (r.u64()?, r.u64()?);
            let saved = r.bytes()?.to_vec();
            anyhow::ensure!(
                cut.checked_add(saved.len() as u64) == Some(len),
                "lengths do not add up"
            );
            tables.push((name, len, cut, saved));
        }
        anyhow::ensure!(r.is_done(), "bytes after the end");
        Ok(Journal { tables })
    }
}

/// Gives the tables of the earlier report folder `old_dir` (moved aside by
/// a write that extended them in place, see [`TableReuse::extend`]) their
/// bytes back, from its journal, and removes the journal; without a
/// journal, nothing was changed. Only for a folder that is not, or no
/// longer, being made the report: its tables may be the new report's.
pub fn roll_back(old_dir: &Path) -> Result<()> {
    use std::os::unix::fs::FileExt;
    let path = old_dir.join(JOURNAL);
    // a journal being written when the run was killed: nothing was changed
    remove_if_there(&path.with_extension("tmp"))?;
    let bytes = match fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let journal = Journal::decode(&bytes).with_context(|| format!("cannot read {}", path.display()))?;
    for (name, len, cut, saved) in &journal.tables {
        let table = table_path(old_dir, name);
        // linked elsewhere, it may be a newer report's: left as it is
        let (f, _) = open_alone(&table, false)?;
        f.write_all_at(saved, *cut)
            .and_then(|()| f.set_len(*len))
            .with_context(|| format!("cannot restore {}", table.display()))?;
    }
    fs::remove_file(&path).with_context(|| format!("cannot remove {}", path.display()))
}

/// A table to extend in place: the earlier file's bytes up to `cut` stay,
/// `tail` replaces the rest.
#[derive(Debug)]
struct Extension {
    name: String,
    /// The earlier file, as the ledger describes it.
    stamp: Stamp,
    cut: u64,
    tail: Vec<u8>,
    header: u64,
    /// The blocks of the extended table.
    blocks: Vec<Block>,
}

/// What writing a table from the earlier one (indexed by `old`) takes:
/// the blocks of hours not in `dirty` are copied, the rest formatted anew.
#[derive(Debug, PartialEq, Eq)]
enum Step {
    /// An earlier block, unchanged.
    Copy(Block),
    /// The rows of minutes in `[lo, hi)`, formatted.
    Fresh(i64, i64),
}

/// The steps of a table after its header, in order.
fn steps(old: &TableIndex, dirty: &BTreeSet<i64>) -> Vec<Step> {
    let mut steps = Vec::new();
    // rows before `done` are written
    let mut done = i64::MIN;
    for (k, b) in old.blocks.iter().enumerate() {
        let end = old.blocks.get(k + 1).map_or(i64::MAX, |n| n.hour);
        if end <= b.hour || dirty.range(b.hour..end).next().is_some() {
            continue;
        }
        if done < b.hour {
            steps.push(Step::Fresh(done, b.hour));
        }
        steps.push(Step::Copy(b.clone()));
        done = end;
    }
    if done < i64::MAX {
        steps.push(Step::Fresh(done, i64::MAX));
    }
    steps
}

/// The table `name` as an extension of the earlier file in `old_dir`
/// (indexed by `old`), when the blocks it keeps are the file's first ones
/// and the file is linked nowhere else; `None` when it must be written
/// again.
fn extension(
    r: &Report,
    name: &str,
    old_dir: &Path,
    old: &TableIndex,
    dirty: &BTreeSet<i64>,
) -> Result<Option<Extension>> {
    use std::os::unix::fs::MetadataExt;
    let steps = steps(old, dirty);
    // the blocks kept must be the file's first ones: no rows come before
    // the last of them but its own
    let Some(kept) = steps.iter().rposition(|s| matches!(s, Step::Copy(_))).map(|k| k + 1) else {
        return Ok(None);
    };
    let mut end = old.header;
    for s in &steps[..kept] {
        match *s {
            Step::Copy(ref b) if b.offset == end => end += b.len,
            Step::Fresh(lo, hi) if none_in(r, name, (lo, hi))? => {}
            _ => return Ok(None),
        }
    }
    let path = table_path(old_dir, name);
    let m = fs::symlink_metadata(&path)?;
    if !m.file_type().is_file() || m.nlink() != 1 || Stamp::of_metadata(&m) != Some(old.stamp) {
        return Ok(None);
    }
    // the bytes past the cut are saved in the journal first: worth it
    // when they are at most what is kept
    if old.stamp.size.saturating_sub(end) > end {
        return Ok(None);
    }
    if !same_header(r, name, &File::open(&path)?, old)? {
        return Ok(None);
    }
    let mut blocks: Vec<Block> = steps[..kept]
        .iter()
        .filter_map(|s| match s {
            Step::Copy(b) => Some(b.clone()),
            Step::Fresh(..) => None,
        })
        .collect();
    let cut = end;
    let mut out = Out::memory(cut);
    for s in &steps[kept..] {
        if let Step::Fresh(lo, hi) = *s {
            write_fresh(r, name, (lo, hi), &mut out, &mut blocks)?;
        }
    }
    Ok(Some(Extension {
        name: name.to_string(),
        stamp: old.stamp,
        cut,
        tail: out.into_memory(),
        header: old.header,
        blocks,
    }))
}

/// Where a table's bytes go.
enum Sink {
    File(File),
    /// The bytes after the first `start` of a table extended in place.
    Memory(Vec<u8>),
}

/// A table file being written.
struct Out {
    file: Sink,
    /// Its length once the copy below is made.
    pos: u64,
    /// The earlier table, when this one is spliced from it.
    src: Option<File>,
    /// Bytes of the earlier table still to copy to the end: consecutive
    /// blocks are copied by one call.
    pending: Option<(u64, u64)>,
    /// Whether disk space may have been reserved past the end.
    reserved: bool,
    /// Rows being formatted, kept from block to block.
    buf: Vec<u8>,
}

impl Out {
    fn new(file: File) -> Out {
        Out {
            file: Sink::File(file),
            pos: 0,
            src: None,
            pending: None,
            reserved: false,
            buf: Vec::new(),
        }
    }

    /// Rows kept in memory, the table's first `start` bytes being kept.
    fn memory(start: u64) -> Out {
        Out {
            file: Sink::Memory(Vec::new()),
            pos: start,
            src: None,
            pending: None,
            reserved: false,
            buf: Vec::new(),
        }
    }

    /// The bytes kept in memory.
    fn into_memory(self) -> Vec<u8> {
        match self.file {
            Sink::Memory(bytes) => bytes,
            Sink::File(_) => Vec::new(),
        }
    }

    /// The file written to.
    fn file(&mut self) -> Result<&mut File> {
        match &mut self.file {
            Sink::File(f) => Ok(f),
            Sink::Memory(_) => anyhow::bail!("the table is kept in memory"),
        }
    }

    /// Empties the file, to write it again from the start.
    fn restart(&mut self) -> Result<()> {
        use std::io::{Seek, SeekFrom};
        self.pending = None;
        let file = self.file()?;
        file.set_len(0)?;
        file.seek(SeekFrom::Start(0))?;
        self.pos = 0;
        Ok(())
    }

    /// Reserves `len` bytes of disk space without changing the file's
    /// length. The file system then allocates the blocks at once instead
    /// of page by page as the copy fills them (a quarter less kernel time
    /// on ext4). Where it cannot, nothing changes.
    fn reserve(&mut self, len: u64) {
        use std::os::unix::io::AsRawFd;
        let (Ok(len), Sink::File(file)) = (libc::off_t::try_from(len), &self.file) else {
            return;
        };
        // SAFETY: the descriptor is an open file for the length of the call
        unsafe { libc::fallocate(file.as_raw_fd(), libc::FALLOC_FL_KEEP_SIZE, 0, len) };
        // a call that fails (no space left) may still have reserved part
        self.reserved = true;
    }

    /// Makes the pending copy and gives back reserved space not used.
    fn finish(&mut self) -> Result<()> {
        self.flush_copy()?;
        if self.reserved {
            // cutting at the length frees the blocks past it
            let pos = self.pos;
            self.file()?.set_len(pos)?;
        }
        Ok(())
    }

    fn flush_copy(&mut self) -> Result<()> {
        if let Some((offset, len)) = self.pending.take() {
            let src = self.src.as_ref().context("no earlier table to copy from")?;
            let Sink::File(dst) = &self.file else {
                anyhow::bail!("no copy into memory");
            };
            copy_range(src, offset, len, dst)?;
        }
        Ok(())
    }

    /// Appends rows (or a header) formatted by the CSV writer.
    fn rows(&mut self, df: &DataFrame, header: bool) -> Result<u64> {
        self.flush_copy()?;
        let len = match &mut self.file {
            Sink::File(file) => {
                let mut buf = Vec::with_capacity(64 * df.height() + 64);
                csv::write_rows(df, &mut buf, header)?;
                file.write_all(&buf)?;
                buf.len()
            }
            Sink::Memory(bytes) => {
                let before = bytes.len();
                csv::write_rows(df, &mut *bytes, header)?;
                bytes.len() - before
            }
        };
        self.pos += len as u64;
        Ok(len as u64)
    }

    /// Appends `len` bytes of `src` from `offset`, copied by the kernel
    /// (with the next copy if it follows on in `src`).
    fn copy(&mut self, offset: u64, len: u64) -> Result<()> {
        match self.pending {
            Some((o, l)) if o + l == offset => self.pending = Some((o, l + len)),
            _ => {
                self.flush_copy()?;
                self.pending = Some((offset, len));
            }
        }
        self.pos += len;
        Ok(())
    }

    /// Appends bytes formatted elsewhere.
    fn bytes(&mut self, buf: &[u8]) -> Result<u64> {
        self.flush_copy()?;
        match &mut self.file {
            Sink::File(file) => file.write_all(buf)?,
            Sink::Memory(bytes) => bytes.extend_from_slice(buf),
        }
        self.pos += buf.len() as u64;
        Ok(buf.len() as u64)
    }

    /// Appends `n` rows whose minutes `time` gives, in blocks: a block
    /// ends at the first hour boundary after [`BLOCK`] rows, and `write`
    /// formats rows `a..b` for the file.
    fn blocks(
        &mut self,
        n: usize,
        time: impl Fn(usize) -> i64,
        blocks: &mut Vec<Block>,
        mut write: impl FnMut(usize, usize, &mut Vec<u8>) -> Result<()>,
    ) -> Result<()> {
        let mut buf = std::mem::take(&mut self.buf);
        let mut a = 0;
        while a < n {
            let mut b = (a + BLOCK).min(n);
            while b < n && hour_of(time(b)) == hour_of(time(b - 1)) {
                b += 1;
            }
            buf.clear();
            write(a, b, &mut buf)?;
            let offset = self.pos;
            let len = self.bytes(&buf)?;
            blocks.push(Block {
                hour: hour_of(time(a)),
                offset,
                len,
            });
            a = b;
        }
        self.buf = buf;
        Ok(())
    }
}

/// Copies `len` bytes of `src` from `offset` to the end of what was
/// written to `dst`, in the kernel where the file system allows.
fn copy_range(src: &File, mut offset: u64, mut len: u64, dst: &File) -> std::io::Result<()> {
    use std::os::unix::io::AsRawFd;
    while len > 0 {
        let mut off = offset as libc::loff_t;
        let chunk = len.min(1 << 30) as usize;
        // SAFETY: both descriptors are open files for the length of the
        // call, `off` is a valid offset, and a null output offset means the
        // file position of `dst`
        let n = unsafe {
            libc::copy_file_range(
                src.as_raw_fd(),
                &mut off,
                dst.as_raw_fd(),
                std::ptr::null_mut(),
                chunk,
                0,
            )
        };
        if n < 0 {
            let e = std::io::Error::last_os_error();
            return match e.raw_os_error() {
                Some(libc::EXDEV | libc::ENOSYS | libc::EINVAL | libc::EOPNOTSUPP) => copy_plain(src, offset, len, dst),
                _ => Err(e),
            };
        }
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the earlier report's table is shorter than its index says",
            ));
        }
        offset += n as u64;
        len -= n as u64;
    }
    Ok(())
}

/// [`copy_range`] through a buffer.
fn copy_plain(src: &File, mut offset: u64, mut len: u64, mut dst: &File) -> std::io::Result<()> {
    use std::os::unix::fs::FileExt;
    let mut buf = vec![0u8; (len as usize).min(1 << 20)];
    while len > 0 {
        let want = (len as usize).min(buf.len());
        src.read_exact_at(&mut buf[..want], offset)?;
        dst.write_all(&buf[..want])?;
        offset += want as u64;
        len -= want as u64;
    }
    Ok(())
}

/// An empty frame of the table `name`, for its header.
fn header_frame(r: &Report, name: &str) -> Result<DataFrame> {
    let f = r.figures;
    Ok(match name {
        "minute_counts" => crate::frames::minute_frame(&f.minutes_in(i64::MIN, i64::MIN))?,
        _ => crate::frames::moving_frame(&f.moving_between(i64::MIN, i64::MIN)?, &f.action_names())?,
    })
}

/// Whether the earlier table `src` (indexed by `old`) starts with the
/// header this version writes for the table `name`.
fn same_header(r: &Report, name: &str, src: &File, old: &TableIndex) -> Result<bool> {
    let mut header = Vec::new();
    csv::write_rows(&header_frame(r, name)?, &mut header, true)?;
    let mut there = vec![0u8; old.header as usize];
    std::os::unix::fs::FileExt::read_exact_at(src, &mut there, 0)?;
    Ok(there == header)
}

/// Appends the rows of the table `name` with minutes in `[lo, hi)` in
/// blocks; the moving average a piece at a time, formatted from its
/// columns.
fn write_fresh(r: &Report, name: &str, (lo, hi): (i64, i64), out: &mut Out, blocks: &mut Vec<Block>) -> Result<()> {
    let f = r.figures;
    if name == "minute_counts" {
        let t = f.minutes_in(lo, hi);
        let df = crate::frames::minute_frame(&t)?;
        return out.blocks(
            t.len(),
            |k| t.start[k],
            blocks,
            |a, b, buf| Ok(csv::write_rows(&df.slice(a as i64, b - a), buf, false)?),
        );
    }
    let fields = csv::fields(&f.action_names());
    let pieces: Vec<(i64, i64)> = r
        .moving_pieces()
        .into_iter()
        .map(|(a, b)| (a.max(lo), b.min(hi)))
        .filter(|(a, b)| a < b)
        .collect();
    // one thread computes and formats the next piece while this one
    // writes the last (with many actions, writing is half the time)
    std::thread::scope(|s| {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        let fields = &fields;
        s.spawn(move || {
            for (a, b) in pieces {
                let made = f.moving_piece(a, b).map(|m| formatted(&m, fields));
                let failed = made.is_err();
                if tx.send(made).is_err() || failed {
                    break;
                }
            }
        });
        for made in rx {
            let (bytes, parts) = made?;
            for (hour, range) in parts {
                let offset = out.pos;
                let len = out.bytes(&bytes[range])?;
                blocks.push(Block { hour, offset, len });
            }
        }
        Ok(())
    })
}

/// The CSV rows of a piece of the moving average, and its blocks (each
/// block's hour and bytes): a block ends at the first hour boundary after
/// [`BLOCK`] rows, as [`Out::blocks`] cuts them.
type Formatted = (Vec<u8>, Vec<(i64, std::ops::Range<usize>)>);

/// Formats a piece of the moving average in blocks.
fn formatted(m: &crate::metrics::MovingTable, fields: &[Vec<u8>]) -> Formatted {
    let n = m.len();
    let mut bytes = Vec::new();
    let mut parts = Vec::new();
    let mut a = 0;
    while a < n {
        let mut b = (a + BLOCK).min(n);
        while b < n && hour_of(m.minute(b)) == hour_of(m.minute(b - 1)) {
            b += 1;
        }
        let start = bytes.len();
        csv::moving_rows(m, fields, a..b, &mut bytes);
        parts.push((hour_of(m.minute(a)), start..bytes.len()));
        a = b;
    }
    (bytes, parts)
}

/// Whether the table `name` has no row with a minute in `[lo, hi)`.
fn none_in(r: &Report, name: &str, (lo, hi): (i64, i64)) -> Result<bool> {
    let f = r.figures;
    if name == "minute_counts" {
        return Ok(f.minutes_in(lo, hi).is_empty());
    }
    for (a, b) in r.moving_pieces() {
        let (a, b) = (a.max(lo), b.min(hi));
        if a < b && !f.moving_piece(a, b)?.is_empty() {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Writes the table `name` whole, in blocks; the moving average a piece
/// of time at a time, never made whole.
fn whole(r: &Report, name: &str, out: &mut Out) -> Result<TableIndex> {
    let header = out.rows(&header_frame(r, name)?, true)?;
    let mut blocks = Vec::new();
    if name == "minute_counts" {
        let df = r.frame(name)?;
        let times = &r.figures.minute_counts().start;
        out.blocks(
            times.len(),
            |k| times[k],
            &mut blocks,
            |a, b, buf| Ok(csv::write_rows(&df.slice(a as i64, b - a), buf, false)?),
        )?;
    } else {
        write_fresh(r, name, (i64::MIN, i64::MAX), out, &mut blocks)?;
    }
    out.finish()?;
    Ok(TableIndex {
        name: name.to_string(),
        header,
        blocks,
        stamp: Stamp::default(),
    })
}

/// Writes the table `name` from the earlier file `out.src` (indexed by `old`):
/// its blocks of hours not in `dirty` are copied, the rest formatted anew.
fn splice(r: &Report, name: &str, out: &mut Out, old: &TableIndex, dirty: &BTreeSet<i64>) -> Result<TableIndex> {
    let src = out.src.as_ref().context("no earlier table")?;
    anyhow::ensure!(same_header(r, name, src, old)?, "the earlier table has another header");
    // the new table is about as long as the earlier one
    out.reserve(src.metadata()?.len());
    out.copy(0, old.header)?;
    let mut blocks = Vec::new();
    for step in steps(old, dirty) {
        match step {
            Step::Copy(b) => {
                blocks.push(Block {
                    hour: b.hour,
                    offset: out.pos,
                    len: b.len,
                });
                out.copy(b.offset, b.len)?;
            }
            Step::Fresh(lo, hi) => write_fresh(r, name, (lo, hi), out, &mut blocks)?,
        }
    }
    out.finish()?;
    Ok(TableIndex {
        name: name.to_string(),
        header: old.header,
        blocks,
        stamp: Stamp::default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::metrics::Options;
    use crate::output::report::Report;
    use crate::output::summary::{InputStats, Summary};
    use crate::state::MinuteCounts;
    use rand_pcg::rand_core::{Rng, SeedableRng};

    /// How a test writes a report's tables.
    #[derive(Clone, Copy, PartialEq, Eq)]
    enum How {
        /// Each table file aside, then renamed into place.
        Aside,
        /// The folder aside, tables extended in place where they can be,
        /// the folder swapped in.
        InPlace,
        /// As `InPlace`, killed after the extension: the next run finds the
        /// old folder aside and rolls it back.
        Killed,
    }

    /// The bytes of the two long tables in `dir`.
    fn long_tables(dir: &Path) -> Vec<Vec<u8>> {
        TABLES
            .iter()
            .map(|t| fs::read(table_path(dir, t)).unwrap_or_default())
            .collect()
    }

    /// Writes the two long tables of `counts` into `dir/tables` through a
    /// splice prepared from the ledger in `ck`, as a report write would
    /// (see [`How`]), and keeps the ledger. Returns which tables were
    /// reused.
    fn write(
        counts: &MinuteCounts,
        opts: &Options,
        dir: &Path,
        ck: &Path,
        commit: u64,
        touched: &ChangedHours,
    ) -> Vec<bool> {
        write_as(How::Aside, counts, opts, dir, ck, commit, touched)
    }

    /// [`write`], written as `how` says.
    fn write_as(
        how: How,
        counts: &MinuteCounts,
        opts: &Options,
        dir: &Path,
        ck: &Path,
        commit: u64,
        touched: &ChangedHours,
    ) -> Vec<bool> {
        let figures = crate::metrics::compute(counts, opts).unwrap();
        let input = InputStats {
            files: 1,
            lines: counts.events(),
            events: counts.events(),
            rejected: 0,
            late: 0,
            missing: 0,
            skipped: 0,
            scan: None,
            quarantine: None,
            fields: None,
        };
        let summary = Summary::new(&input, counts.time_range(), &figures);
        // read ahead on a thread or when prepared: the same either way
        let files = if commit.is_multiple_of(2) {
            Prefetch::start(ck)
        } else {
            Prefetch::later(ck)
        };
        let splice = TableReuse::prepare(
            &files,
            dir,
            format!("options {:?}", figures.action_names()),
            commit,
            counts.minute_bounds(),
            opts.moving_window,
            touched,
        );
        let reused = TABLES.iter().map(|t| splice.reuses(t)).collect();
        let r = Report {
            heading: None,
            title: "t",
            summary: &summary,
            figures: &figures,
            rejected: &[],
            options: opts,
            triggers: None,
            table_format: super::super::tables::TableFormat::Csv,
            live: None,
            generated: chrono::DateTime::from_timestamp(0, 0).unwrap(),
            frames: Default::default(),
            reuse: None,
            plan: Default::default(),
            digest: Default::default(),
        };
        let tables = dir.join("tables");
        fs::create_dir_all(&tables).unwrap();
        if how == How::Aside {
            for name in TABLES {
                let aside = tables.join(format!("{name}.new"));
                splice.write_table(&r, name, &aside).unwrap();
                fs::rename(&aside, table_path(dir, name)).unwrap();
            }
        } else {
            let (new, old) = (dir.with_extension("new"), dir.with_extension("old"));
            fs::create_dir_all(new.join("tables")).unwrap();
            splice.allow_in_place(true);
            for name in TABLES {
                splice.write_table(&r, name, &table_path(&new, name)).unwrap();
            }
            let before = long_tables(dir);
            fs::rename(dir, &old).unwrap();
            splice.extend(&old, &new).unwrap();
            if how == How::Killed {
                // the next run removes the new folder (which links to the
                // tables: they are rolled back only when linked nowhere
                // else) and puts the old report back as it was
                if old.join(JOURNAL).exists() {
                    assert!(roll_back(&old).is_err());
                }
                fs::remove_dir_all(&new).unwrap();
                roll_back(&old).unwrap();
                assert_eq!(long_tables(&old), before, "rolled back after commit {commit}");
                assert!(!old.join(JOURNAL).exists());
                fs::rename(&old, dir).unwrap();
                return reused;
            }
            fs::rename(&new, dir).unwrap();
            fs::remove_dir_all(&old).unwrap();
        }
        for name in TABLES {
            let expected = csv::frame_to_string(&crate::frames::figure_frame(&figures, name).unwrap()).unwrap();
            assert_eq!(
                fs::read_to_string(table_path(dir, name)).unwrap(),
                expected,
                "{name} after commit {commit}"
            );
        }
        splice.save(dir).unwrap();
        reused
    }

    fn add(counts: &mut MinuteCounts, touched: &mut ChangedHours, commit: u64, events: &[(i64, &str)]) {
        let mut delta = MinuteCounts::new();
        for &(t, a) in events {
            delta.add(t, a);
            touched.hours.insert(hour_of(t), commit);
        }
        let range = match (counts.time_range(), delta.time_range()) {
            (Some(a), Some(b)) => Some((a.0.min(b.0), a.1.max(b.1))),
            (a, b) => a.or(b),
        };
        counts.merge(delta);
        counts.set_time_range(range);
    }

    /// 40 to 99 events at random times in `[from, from + span)`, of
    /// actions drawn from `actions`.
    fn random_events(
        rng: &mut rand_pcg::Pcg64,
        from: i64,
        span: i64,
        actions: &[&'static str],
    ) -> Vec<(i64, &'static str)> {
        (0..40 + rng.next_u64() % 60)
            .map(|_| {
                let t = from + (rng.next_u64() % span as u64) as i64;
                (t, actions[(rng.next_u64() % actions.len() as u64) as usize])
            })
            .collect()
    }

    /// A folder with a checkpoint folder `ck` in it and where the report
    /// `r` goes, and the options of seed `seed` (one of four moving
    /// windows).
    fn setting(seed: u64) -> (tempfile::TempDir, PathBuf, PathBuf, Options) {
        let dir = tempfile::tempdir().unwrap();
        let (report, ck) = (dir.path().join("r"), dir.path().join("ck"));
        fs::create_dir_all(&ck).unwrap();
        let opts = Options {
            moving_window: [1usize, 3, 30, 90][seed as usize % 4],
            ..Options::default()
        };
        (dir, report, ck, opts)
    }

    #[test]
    fn spliced_tables_are_the_tables_written_whole() {
        let base = 1_469_498_400;
        for seed in 0..12u64 {
            let mut rng = rand_pcg::Pcg64::seed_from_u64(seed);
            let (_dir, report, ck, opts) = setting(seed);
            let mut counts = MinuteCounts::new();
            let mut touched = ChangedHours::default();
            // a third of the seeds bring a new action now and then
            let actions = &["Open", "Close", "Open", "Close", "Zoom"][..if seed % 3 == 0 { 5 } else { 4 }];
            let next = |rng: &mut rand_pcg::Pcg64, from: i64, span: i64| random_events(rng, from, span, actions);
            let first = next(&mut rng, base, 20 * HOUR);
            add(&mut counts, &mut touched, 1, &first);
            assert_eq!(write(&counts, &opts, &report, &ck, 1, &touched), vec![false, false]);
            let mut end = base + 20 * HOUR;
            for commit in 2..8 {
                // later data, data inside the span, a stray far away, data before the first
                let events = match (commit + seed) % 4 {
                    0 => next(&mut rng, end - HOUR, 6 * HOUR),
                    1 => next(&mut rng, base + 2 * HOUR, 5 * HOUR),
                    2 => vec![(end + 400 * 86_400, "Close"), (end + 37, "Open")],
                    _ => next(&mut rng, base - 3 * HOUR, 2 * HOUR),
                };
                end = end.max(events.iter().map(|e| e.0).max().unwrap_or(end));
                let first_before = counts.minute_bounds().unwrap().0;
                let actions_before = counts.actions().len();
                add(&mut counts, &mut touched, commit, &events);
                let same_first = counts.minute_bounds().unwrap().0 == first_before;
                // a new action changes every minute's moving-average rows
                let same_actions = counts.actions().len() == actions_before;
                assert_eq!(
                    write(&counts, &opts, &report, &ck, commit, &touched),
                    vec![same_actions, same_actions && same_first],
                    "seed {seed}, commit {commit}"
                );
            }
            // an earlier table whose header is not this version's, though
            // its stamp is as recorded, is written whole
            let mc = report.join("tables/minute_counts.csv");
            let modified = fs::metadata(&mc).unwrap().modified().unwrap();
            {
                use std::os::unix::fs::FileExt;
                let f = fs::OpenOptions::new().write(true).open(&mc).unwrap();
                f.write_all_at(b"ACTION", 0).unwrap();
                f.set_modified(modified).unwrap();
            }
            let later = next(&mut rng, end, HOUR);
            add(&mut counts, &mut touched, 8, &later);
            write(&counts, &opts, &report, &ck, 8, &touched);
            // a table changed by someone else is written whole
            fs::write(&mc, fs::read_to_string(&mc).unwrap().replace("Open", "Opened")).unwrap();
            let more = next(&mut rng, end, HOUR);
            add(&mut counts, &mut touched, 9, &more);
            assert!(!write(&counts, &opts, &report, &ck, 9, &touched)[0]);
            // triggers before this process (a ledger older than what is known) are not trusted
            let since = ChangedHours {
                since: 10,
                hours: touched.hours.clone(),
            };
            add(&mut counts, &mut touched, 10, &[(end, "Open")]);
            assert_eq!(write(&counts, &opts, &report, &ck, 10, &since), vec![false, false]);
        }
    }

    #[test]
    fn tables_extended_in_place_are_the_tables_written_whole() {
        use std::os::unix::fs::MetadataExt;
        let base = 1_469_498_400;
        let mut extended = 0;
        let inodes = |dir: &Path| -> Vec<u64> {
            TABLES
                .iter()
                .map(|t| fs::metadata(table_path(dir, t)).map_or(0, |m| m.ino()))
                .collect()
        };
        for seed in 0..12u64 {
            let mut rng = rand_pcg::Pcg64::seed_from_u64(seed);
            let (dir, report, ck, opts) = setting(seed);
            let mut counts = MinuteCounts::new();
            let mut touched = ChangedHours::default();
            let next = |rng: &mut rand_pcg::Pcg64, from: i64, span: i64| {
                random_events(rng, from, span, &["Open", "Close", "Zoom"])
            };
            let first = next(&mut rng, base, 20 * HOUR);
            add(&mut counts, &mut touched, 1, &first);
            write_as(How::InPlace, &counts, &opts, &report, &ck, 1, &touched);
            let mut end = base + 20 * HOUR;
            let mut rolled_back = false;
            for commit in 2..10 {
                // mostly later data (a new dump), sometimes data inside the
                // span or an action never seen (every minute's rows change)
                let back = (rng.next_u64() % 2) as i64 * HOUR;
                let events = match (commit + seed) % 5 {
                    0 => next(&mut rng, base + 2 * HOUR, 5 * HOUR),
                    1 => vec![(end + 5, "Quit")],
                    _ => next(&mut rng, end - back, 6 * HOUR),
                };
                let later = events.iter().all(|e| e.0 >= end) && !events.iter().any(|e| e.1 == "Quit");
                end = end.max(events.iter().map(|e| e.0).max().unwrap_or(end));
                add(&mut counts, &mut touched, commit, &events);
                let before = inodes(&report);
                let how = if rng.next_u64() % 4 == 0 {
                    How::Killed
                } else {
                    How::InPlace
                };
                let reused = write_as(how, &counts, &opts, &report, &ck, commit, &touched);
                if how == How::Killed {
                    assert_eq!(inodes(&report), before);
                    rolled_back = true;
                    continue;
                }
                // after a new dump, the tables written in place (a table
                // rolled back changed its time, and is written again)
                if later && !rolled_back {
                    assert_eq!(reused, vec![true, true], "seed {seed}, commit {commit}");
                    assert_eq!(inodes(&report), before, "seed {seed}, commit {commit}");
                    extended += 1;
                }
                rolled_back = false;
            }
            // (after a write that leaves a ledger of the tables in place)
            add(&mut counts, &mut touched, 10, &[(end, "Open")]);
            write_as(How::InPlace, &counts, &opts, &report, &ck, 10, &touched);
            // a table linked elsewhere too is never changed: written again
            let linked = dir.path().join("kept.csv");
            fs::hard_link(table_path(&report, "minute_counts"), &linked).unwrap();
            let kept = fs::read(&linked).unwrap();
            let later = next(&mut rng, end, HOUR);
            add(&mut counts, &mut touched, 11, &later);
            let before = inodes(&report);
            assert_eq!(
                write_as(How::InPlace, &counts, &opts, &report, &ck, 11, &touched),
                vec![true, true]
            );
            assert_eq!(fs::read(&linked).unwrap(), kept);
            let after = inodes(&report);
            assert!(after[0] != before[0] && after[1] == before[1], "{before:?} {after:?}");
            // nor is a file the table links to: it is read, and written again
            let elsewhere = dir.path().join("elsewhere.csv");
            fs::rename(table_path(&report, "moving_average"), &elsewhere).unwrap();
            std::os::unix::fs::symlink(&elsewhere, table_path(&report, "moving_average")).unwrap();
            let kept = fs::read(&elsewhere).unwrap();
            add(&mut counts, &mut touched, 12, &[(end + 2 * HOUR, "Open")]);
            write_as(How::InPlace, &counts, &opts, &report, &ck, 12, &touched);
            assert_eq!(fs::read(&elsewhere).unwrap(), kept);
            assert!(fs::symlink_metadata(table_path(&report, "moving_average"))
                .unwrap()
                .is_file());
        }
        assert!(extended >= 10, "{extended} reports with tables extended");
    }

    #[test]
    fn a_damaged_journal_is_refused_and_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let old = dir.path();
        fs::create_dir_all(old.join("tables")).unwrap();
        fs::write(table_path(old, "minute_counts"), b"header\nrow 1\nrow 2, extended\n").unwrap();
        let journal = Journal {
            tables: vec![("minute_counts".into(), 19, 13, b"row 2\n".to_vec())],
        };
        let mut bytes = journal.encode();
        assert_eq!(Journal::decode(&bytes).unwrap(), journal);
        bytes[30] ^= 4;
        fs::write(old.join(JOURNAL), &bytes).unwrap();
        assert!(roll_back(old).is_err());
        assert_eq!(
            fs::read(table_path(old, "minute_counts")).unwrap(),
            b"header\nrow 1\nrow 2, extended\n"
        );
        fs::write(old.join(JOURNAL), journal.encode()).unwrap();
        roll_back(old).unwrap();
        assert_eq!(
            fs::read(table_path(old, "minute_counts")).unwrap(),
            b"header\nrow 1\nrow 2\n"
        );
        assert!(!old.join(JOURNAL).exists());
        // without a journal nothing was changed
        roll_back(old).unwrap();
        // a journal the killed run was still writing is removed: nothing
        // was changed yet
        fs::write(old.join(JOURNAL).with_extension("tmp"), b"half").unwrap();
        roll_back(old).unwrap();
        assert_eq!(fs::read_dir(old).unwrap().count(), 1);
        // a table linked elsewhere too (a newer report's) is left as it is
        fs::hard_link(table_path(old, "minute_counts"), old.join("newer.csv")).unwrap();
        fs::write(old.join(JOURNAL), journal.encode()).unwrap();
        let err = roll_back(old).unwrap_err();
        assert!(format!("{err:#}").contains("linked elsewhere"), "{err:#}");
        assert_eq!(fs::read(old.join("newer.csv")).unwrap(), b"header\nrow 1\nrow 2\n");
    }

    #[test]
    fn the_ledger_reads_back_and_a_changed_byte_is_found() {
        let ledger = Ledger {
            commit: 7,
            report: "/r/events".into(),
            options: "o".into(),
            bounds: (-60, 253_402_300_740),
            tables: vec![TableIndex {
                name: "moving_average".into(),
                header: 41,
                blocks: vec![
                    Block {
                        hour: -3600,
                        offset: 41,
                        len: 9000,
                    },
                    Block {
                        hour: 0,
                        offset: 9041,
                        len: 12,
                    },
                ],
                stamp: Stamp {
                    ino: 5,
                    size: 9053,
                    mtime_ns: 1_700_000_000_123_456_789,
                },
            }],
        };
        let bytes = ledger.encode();
        assert_eq!(Ledger::decode(&bytes).unwrap(), ledger);
        let mut bad = bytes.clone();
        bad[20] ^= 1;
        assert!(Ledger::decode(&bad).is_err());
    }
}
