//! The checkpoint folder of a stream, so that a run killed at any instant
//! and started again with the same command goes on where it was, counting
//! every file exactly once. What a trigger writes follows what it changed,
//! not the history held:
//!
//! ```text
//! DIR/.gitignore       keeps the folder out of git
//! DIR/lock             held (flock) by the running process
//! DIR/metadata.json    the input and options the checkpoint belongs to
//! DIR/offsets/N        the files trigger N takes, written before it runs
//! DIR/delta/N          what trigger N changed: its commit
//! DIR/snapshot/N       the whole state after trigger N, written instead of
//!                      a delta now and then: also a commit
//! DIR/rejected.ndjson  the quarantine, appended to by each trigger
//! DIR/triggers.ndjson  one line per trigger, appended
//! DIR/report.idx       where the blocks of the last report's long tables
//!                      lie, for the next report (a [`SideFile`])
//! DIR/digest.idx       the last report's minute counts summed up per hour,
//!                      for the next report's charts (a [`SideFile`])
//! ```
//!
//! On start, the newest snapshot is loaded and the deltas after it are
//! applied; the logs are cut back to the lengths the last commit recorded
//! (a trigger that appended and then died before committing runs again).
//! If `offsets/N+1` exists, trigger N+1 was planned but not committed and
//! runs again with the files it had planned (a plan cut short by a machine
//! crash, being checksummed, is planned again). Commits and plans are
//! written aside and renamed into place, so none is ever seen
//! half-written; commits are flushed to disk first. Only
//! the two newest snapshots and the files after the older one are kept.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

/// An open, locked checkpoint folder.
pub struct Checkpoint {
    dir: PathBuf,
    // held for the life of the value; the OS releases it if the process
    // dies. `None`: a reader, which neither locks nor writes.
    lock: Option<File>,
}

/// Writes `bytes` to `path` atomically: aside, flushed to disk, renamed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_aside(path, bytes, true)
}

/// Writes `bytes` aside and renames them to `path`, flushing file and
/// folder to disk when `durable`: a reader sees the old file or the new
/// one, never part of one.
pub fn write_aside(path: &Path, bytes: &[u8], durable: bool) -> Result<()> {
    let tmp = path.with_extension("tmp");
    let write = || -> std::io::Result<()> {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        if durable {
            f.sync_all()?;
        }
        fs::rename(&tmp, path)?;
        if let (true, Some(parent)) = (
            durable,
            path.parent()
                .map(|p| if p.as_os_str().is_empty() { Path::new(".") } else { p }),
        ) {
            File::open(parent)?.sync_all()?;
        }
        Ok(())
    };
    write().with_context(|| format!("cannot write {}", path.display()))
}

impl Drop for Checkpoint {
    /// Lets go of the lock explicitly: closing the file is not enough while
    /// a child process forked meanwhile (and not yet past its exec) shares
    /// the open file.
    fn drop(&mut self) {
        if let Some(lock) = &self.lock {
            let _ = lock.unlock();
        }
    }
}

/// The whole of `file` mapped read-only into memory, or `None` (an empty
/// file, or a failed mapping).
fn mapped(file: &File) -> Option<memmap2::Mmap> {
    if file.metadata().ok()?.len() == 0 {
        return None;
    }
    // SAFETY: a private read-only mapping of a commit file, which is never
    // changed once renamed into place, and which the lock keeps other runs
    // from removing while mapped (see `Checkpoint::map`)
    unsafe { memmap2::Mmap::map(file) }.ok()
}

/// The numbers of the files `N` in `dir`, sorted.
fn numbers(dir: &Path) -> Result<Vec<u64>> {
    let mut out = Vec::new();
    if dir.exists() {
        for e in fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
            if let Ok(n) = e?.file_name().to_string_lossy().parse::<u64>() {
                out.push(n);
            }
        }
    }
    out.sort_unstable();
    Ok(out)
}

/// The files a checkpoint keeps beside its commits for those who follow
/// the state (the report). They are caches of what the commits already
/// say: one lost or damaged only makes the next report do more work, so
/// they are written aside and renamed, without a flush to disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SideFile {
    /// Where the blocks of the last report's long tables lie.
    ReportLedger,
    /// The last report's minute counts summed up per hour, for its charts.
    ChartDigest,
}

impl SideFile {
    /// The file's name in the checkpoint folder.
    pub fn name(self) -> &'static str {
        match self {
            SideFile::ReportLedger => "report.idx",
            SideFile::ChartDigest => "digest.idx",
        }
    }

    fn path(self, dir: &Path) -> PathBuf {
        dir.join(self.name())
    }

    /// Reads the side file of the checkpoint folder `dir`; `None` when it
    /// is not there or cannot be read. Needs no lock: the file is replaced
    /// whole, never changed in place.
    pub fn read(self, dir: &Path) -> Option<Vec<u8>> {
        fs::read(self.path(dir)).ok()
    }

    /// Replaces the side file of the checkpoint folder `dir`.
    pub fn write(self, dir: &Path, bytes: &[u8]) -> Result<()> {
        write_aside(&self.path(dir), bytes, false)
    }

    /// Removes the side file of the checkpoint folder `dir`, if there.
    pub fn remove(self, dir: &Path) -> Result<()> {
        let path = self.path(dir);
        match fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(e).with_context(|| format!("cannot remove {}", path.display()))
            }
            _ => Ok(()),
        }
    }
}

/// The names a checkpoint folder may hold: everything windowpane writes
/// there. A folder with anything else is not emptied.
const OURS: [&str; 13] = [
    ".gitignore",
    "report.idx",
    "report.tmp",
    "digest.idx",
    "digest.tmp",
    "lock",
    "metadata.json",
    "metadata.tmp",
    "offsets",
    "delta",
    "snapshot",
    "rejected.ndjson",
    "triggers.ndjson",
];

/// Checks that `dir` is a checkpoint folder: it holds a windowpane
/// metadata.json and only the files a checkpoint has, so that emptying it
/// deletes nothing windowpane did not write.
fn check_ours(dir: &Path) -> Result<()> {
    let entries: Vec<String> = fs::read_dir(dir)
        .with_context(|| format!("cannot list {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect();
    let foreign: Vec<&String> = entries.iter().filter(|e| !OURS.contains(&e.as_str())).collect();
    if !entries.iter().any(|e| e == "metadata.json") || !foreign.is_empty() {
        bail!(
            "{} does not look like a windowpane checkpoint (it holds {}); remove it yourself if it is one",
            dir.display(),
            if foreign.is_empty() {
                "no metadata.json".to_string()
            } else {
                format!("{:?}", foreign)
            }
        );
    }
    Ok(())
}

/// The kinds of commit file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// What one trigger changed.
    Delta,
    /// The whole state.
    Snapshot,
}

impl Kind {
    fn folder(self) -> &'static str {
        match self {
            Kind::Delta => "delta",
            Kind::Snapshot => "snapshot",
        }
    }
}

impl Checkpoint {
    /// Opens (creating) the checkpoint `dir` and locks it. Refuses a folder
    /// held by another process, and a folder with other files that is not
    /// a checkpoint.
    pub fn open(dir: &Path) -> Result<Self> {
        if dir.is_dir()
            && !dir.join("metadata.json").exists()
            && fs::read_dir(dir)
                .with_context(|| format!("cannot list {}", dir.display()))?
                .next()
                .is_some()
        {
            bail!(
                "{} is not empty and is not a windowpane checkpoint (no metadata.json); give --checkpoint another folder",
                dir.display()
            );
        }
        for sub in ["offsets", "delta", "snapshot"] {
            fs::create_dir_all(dir.join(sub))
                .with_context(|| format!("cannot create the checkpoint folder {}", dir.display()))?;
        }
        let ignore = dir.join(".gitignore");
        if !ignore.exists() {
            fs::write(
                &ignore,
                "# a windowpane checkpoint: machine state, not for version control\n*\n",
            )
            .with_context(|| format!("cannot write {}", ignore.display()))?;
        }
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(dir.join("lock"))
            .with_context(|| format!("cannot open {}", dir.join("lock").display()))?;
        if lock.try_lock().is_err() {
            let holder = fs::read_to_string(dir.join("lock")).unwrap_or_default();
            let pid = match holder.trim() {
                "" => String::new(),
                pid => format!(", pid {pid}"),
            };
            bail!(
                "the checkpoint {} is in use by another windowpane run (a stream or an update{pid}); wait for it to finish, or give this run another --checkpoint",
                dir.display()
            );
        }
        lock.set_len(0)?;
        (&lock).write_all(std::process::id().to_string().as_bytes())?;
        Ok(Self {
            dir: dir.to_path_buf(),
            lock: Some(lock),
        })
    }

    /// Opens the checkpoint `dir` emptied, to start over: the lock is
    /// taken first (a folder another process holds is refused and left as
    /// it is), then everything but the lock file is removed while it is
    /// held. A folder with files a checkpoint does not have is refused.
    pub fn open_emptied(dir: &Path) -> Result<Self> {
        if dir.is_dir() && fs::read_dir(dir).map(|mut d| d.next().is_some()).unwrap_or(true) {
            check_ours(dir)?;
        }
        let checkpoint = Self::open(dir)?;
        for name in OURS.iter().filter(|&&n| n != "lock" && n != ".gitignore") {
            let path = dir.join(name);
            let gone = match fs::symlink_metadata(&path) {
                Ok(m) if m.is_dir() => fs::remove_dir_all(&path),
                Ok(_) => fs::remove_file(&path),
                Err(_) => continue,
            };
            gone.with_context(|| format!("cannot remove {} to start the checkpoint over", path.display()))?;
        }
        for sub in ["offsets", "delta", "snapshot"] {
            fs::create_dir_all(dir.join(sub))
                .with_context(|| format!("cannot create the checkpoint folder {}", dir.display()))?;
        }
        Ok(checkpoint)
    }

    /// Opens the checkpoint `dir` to read what its writer has committed,
    /// while the writer runs or not: it takes no lock and writes nothing
    /// (every method that writes refuses). Commit files are renamed into
    /// place whole and never changed, so a reader sees each whole or not at
    /// all; the logs are read up to the lengths the last commit records.
    pub fn open_reader(dir: &Path) -> Result<Self> {
        if !dir.join("metadata.json").is_file() {
            if dir.is_dir() {
                bail!(
                    "{} is not a windowpane checkpoint, or its stream has not started yet (it has no metadata.json)",
                    dir.display()
                );
            }
            bail!(
                "there is no checkpoint at {}: give the --checkpoint folder of a stream or update",
                dir.display()
            );
        }
        Ok(Self {
            dir: dir.to_path_buf(),
            lock: None,
        })
    }

    /// True for a reader (see [`Checkpoint::open_reader`]).
    pub fn is_reader(&self) -> bool {
        self.lock.is_none()
    }

    /// Refuses a write through a reader.
    fn writable(&self) -> Result<()> {
        if self.lock.is_none() {
            bail!("the checkpoint {} is open for reading only", self.dir.display());
        }
        Ok(())
    }

    /// When commit `n` was written (its file's modification time).
    pub fn committed_at(&self, n: u64) -> Option<std::time::SystemTime> {
        [Kind::Delta, Kind::Snapshot]
            .iter()
            .find_map(|&k| fs::metadata(self.path(k, n)).and_then(|m| m.modified()).ok())
    }

    /// Lets go of the lock before the value is dropped.
    pub fn unlock(&self) -> Result<()> {
        match &self.lock {
            Some(lock) => lock
                .unlock()
                .with_context(|| format!("cannot unlock {}", self.dir.join("lock").display())),
            None => Ok(()),
        }
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The saved metadata, if any.
    pub fn metadata(&self) -> Result<Option<String>> {
        let path = self.dir.join("metadata.json");
        if !path.exists() {
            return Ok(None);
        }
        Ok(Some(
            fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?,
        ))
    }

    /// Saves the metadata.
    pub fn set_metadata(&self, text: &str) -> Result<()> {
        self.writable()?;
        write_atomic(&self.dir.join("metadata.json"), text.as_bytes())
    }

    fn path(&self, kind: Kind, n: u64) -> PathBuf {
        self.dir.join(kind.folder()).join(n.to_string())
    }

    /// The numbers of the commit files of a kind, sorted.
    pub fn list(&self, kind: Kind) -> Result<Vec<u64>> {
        numbers(&self.dir.join(kind.folder()))
    }

    /// The number of the last committed trigger (0: none).
    pub fn last_commit(&self) -> Result<u64> {
        let delta = self.list(Kind::Delta)?.last().copied().unwrap_or(0);
        let snapshot = self.list(Kind::Snapshot)?.last().copied().unwrap_or(0);
        Ok(delta.max(snapshot))
    }

    /// Reads a commit file.
    pub fn read(&self, kind: Kind, n: u64) -> Result<Vec<u8>> {
        let path = self.path(kind, n);
        fs::read(&path).with_context(|| format!("cannot read {}", path.display()))
    }

    /// A commit file mapped into memory: its pages come straight from the
    /// page cache, without a copy of megabytes into fresh memory. Commit
    /// files are never changed once renamed into place and the lock keeps
    /// other runs out; a file cut short by another program while mapped
    /// would stop the process (SIGBUS). Read whole where it cannot be
    /// mapped.
    pub fn map(&self, kind: Kind, n: u64) -> Result<crate::state::Bytes> {
        let path = self.path(kind, n);
        let file = File::open(&path).with_context(|| format!("cannot read {}", path.display()))?;
        match mapped(&file) {
            Some(m) => Ok(std::sync::Arc::new(m)),
            None => Ok(std::sync::Arc::new(self.read(kind, n)?)),
        }
    }

    /// Where a commit file is, for messages.
    pub fn describe(&self, kind: Kind, n: u64) -> String {
        self.path(kind, n).display().to_string()
    }

    /// Writes trigger `n`'s commit file.
    pub fn commit(&self, kind: Kind, n: u64, bytes: &[u8]) -> Result<()> {
        self.writable()?;
        write_atomic(&self.path(kind, n), bytes)
    }

    /// The files planned for trigger `n`, if it was planned.
    pub fn planned(&self, n: u64) -> Result<Option<Vec<u8>>> {
        let path = self.dir.join("offsets").join(n.to_string());
        match fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    }

    /// Records the files trigger `n` takes, before it runs. Not flushed to
    /// disk: the plan serves a run killed before its commit, which the
    /// system survives; after a machine crash a lost or cut plan only means
    /// that the trigger is planned again (its commit records what it read).
    pub fn plan(&self, n: u64, bytes: &[u8]) -> Result<()> {
        self.writable()?;
        write_aside(&self.dir.join("offsets").join(n.to_string()), bytes, false)
    }

    /// Appends to a log and flushes it to disk; returns its new length.
    pub fn append(&self, log: &str, bytes: &[u8]) -> Result<u64> {
        self.writable()?;
        let path = self.dir.join(log);
        let mut f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .with_context(|| format!("cannot open {}", path.display()))?;
        if !bytes.is_empty() {
            f.write_all(bytes)
                .and_then(|()| f.sync_data())
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        Ok(f.metadata()
            .with_context(|| format!("cannot read {}", path.display()))?
            .len())
    }

    /// Cuts a log back to `len` bytes (what the last commit recorded).
    pub fn truncate(&self, log: &str, len: u64) -> Result<()> {
        self.writable()?;
        let path = self.dir.join(log);
        let f = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .with_context(|| format!("cannot open {}", path.display()))?;
        let now = f.metadata()?.len();
        if now < len {
            bail!(
                "the checkpoint log {} is shorter ({now} bytes) than its last commit recorded ({len}): it was damaged",
                path.display()
            );
        }
        if now > len {
            f.set_len(len)
                .and_then(|()| f.sync_all())
                .with_context(|| format!("cannot cut {} back to its last commit", path.display()))?;
        }
        Ok(())
    }

    /// Reads a whole log.
    pub fn read_log(&self, log: &str) -> Result<Vec<u8>> {
        let path = self.dir.join(log);
        match fs::read(&path) {
            Ok(bytes) => Ok(bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    }

    /// Removes the snapshots before `keep` and the deltas and plans up to
    /// it: what a load starting from snapshot `keep` no longer needs.
    pub fn prune(&self, keep: u64) -> Result<()> {
        self.writable()?;
        for (folder, upto) in [("snapshot", keep.saturating_sub(1)), ("delta", keep), ("offsets", keep)] {
            let dir = self.dir.join(folder);
            for n in numbers(&dir)?.into_iter().filter(|&n| n <= upto) {
                let _ = fs::remove_file(dir.join(n.to_string()));
            }
        }
        Ok(())
    }
}
