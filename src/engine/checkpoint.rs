//! The checkpoint folder of a stream, so that a run killed at any instant
//! and started again with the same command goes on where it was, counting
//! every file exactly once.
//!
//! ```text
//! DIR/lock            held (flock) by the running process
//! DIR/metadata.json   the input and options the checkpoint belongs to
//! DIR/offsets/N       the files trigger N takes, written before it runs
//! DIR/state/N.json    the state after trigger N
//! DIR/commits/N       written after state/N.json: trigger N is done
//! DIR/final/N.json    append mode: the rows trigger N made final, written
//!                     before its commit and no longer kept in the state
//! ```
//!
//! On start, the highest N in `commits/` names the state to load; if
//! `offsets/N+1` exists, trigger N+1 was planned but not committed and runs
//! again with exactly the files it had planned. Every file is written aside
//! and renamed into place, so none is ever seen half-written.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// An open, locked checkpoint folder.
pub struct Checkpoint {
    dir: PathBuf,
    // held for the life of the value; the OS releases it if the process dies
    _lock: File,
}

/// Writes `bytes` to `path` atomically: aside, flushed to disk, renamed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    let write = || -> std::io::Result<()> {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)?;
        if let Some(parent) = path.parent() {
            File::open(parent)?.sync_all()?;
        }
        Ok(())
    };
    write().with_context(|| format!("cannot write {}", path.display()))
}

fn numbers(dir: &Path) -> Result<Vec<u64>> {
    let mut out = Vec::new();
    if dir.exists() {
        for e in fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
            let name = e?.file_name().to_string_lossy().into_owned();
            if let Ok(n) = name.trim_end_matches(".json").parse::<u64>() {
                out.push(n);
            }
        }
    }
    out.sort_unstable();
    Ok(out)
}

impl Checkpoint {
    /// Opens (creating) the checkpoint `dir` for a stream whose input and
    /// options are described by `metadata`. Refuses a checkpoint held by
    /// another process, or made for another input or other options.
    pub fn open<M: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(
        dir: &Path,
        metadata: &M,
    ) -> Result<Self> {
        for sub in ["offsets", "state", "commits"] {
            fs::create_dir_all(dir.join(sub))
                .with_context(|| format!("cannot create the checkpoint folder {}", dir.display()))?;
        }
        let lock = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(dir.join("lock"))
            .with_context(|| format!("cannot open {}", dir.join("lock").display()))?;
        if lock.try_lock().is_err() {
            let holder = fs::read_to_string(dir.join("lock")).unwrap_or_default();
            bail!(
                "the checkpoint {} is in use by another windowpane stream (pid {}); wait for it to finish, or give this run another --checkpoint",
                dir.display(),
                holder.trim()
            );
        }
        lock.set_len(0)?;
        (&lock).write_all(std::process::id().to_string().as_bytes())?;
        let meta_path = dir.join("metadata.json");
        if meta_path.exists() {
            let text =
                fs::read_to_string(&meta_path).with_context(|| format!("cannot read {}", meta_path.display()))?;
            let saved: M = serde_json::from_str(&text)
                .with_context(|| format!("{} is not a windowpane checkpoint of this version", meta_path.display()))?;
            if &saved != metadata {
                bail!(
                    "the checkpoint {} belongs to another input or other options ({}); \
                     rerun with the same ones, or give this run another --checkpoint (or delete that folder to start over)",
                    dir.display(),
                    text.trim()
                );
            }
        } else {
            write_atomic(&meta_path, &serde_json::to_vec_pretty(metadata)?)?;
        }
        Ok(Self {
            dir: dir.to_path_buf(),
            _lock: lock,
        })
    }

    /// The number of the last committed trigger (0: none).
    pub fn last_commit(&self) -> Result<u64> {
        Ok(numbers(&self.dir.join("commits"))?.last().copied().unwrap_or(0))
    }

    /// Reads the state saved by trigger `n`.
    pub fn load_state<S: DeserializeOwned>(&self, n: u64) -> Result<S> {
        let path = self.dir.join("state").join(format!("{n}.json"));
        let text = fs::read(&path).with_context(|| format!("cannot read the checkpoint state {}", path.display()))?;
        serde_json::from_slice(&text).with_context(|| format!("the checkpoint state {} is damaged", path.display()))
    }

    /// The files planned for trigger `n`, if it was planned.
    pub fn planned<P: DeserializeOwned>(&self, n: u64) -> Result<Option<P>> {
        let path = self.dir.join("offsets").join(n.to_string());
        if !path.exists() {
            return Ok(None);
        }
        let text = fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        Ok(Some(serde_json::from_slice(&text).with_context(|| {
            format!("the checkpoint log {} is damaged", path.display())
        })?))
    }

    /// Records the files trigger `n` takes, before it runs.
    pub fn plan<P: Serialize>(&self, n: u64, files: &P) -> Result<()> {
        write_atomic(
            &self.dir.join("offsets").join(n.to_string()),
            &serde_json::to_vec(files)?,
        )
    }

    /// Where the rows trigger `n` made final are kept.
    fn final_path(&self, n: u64) -> PathBuf {
        self.dir.join("final").join(format!("{n}.json"))
    }

    /// Writes the rows trigger `n` made final (append mode), before its
    /// commit. A trigger that runs again after a crash writes the same rows
    /// over the same file.
    pub fn write_final<R: Serialize>(&self, n: u64, rows: &R) -> Result<()> {
        let dir = self.dir.join("final");
        fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
        write_atomic(&self.final_path(n), &serde_json::to_vec(rows)?)
    }

    /// Removes a final-rows file of trigger `n` left by an attempt that
    /// crashed before its commit, when the attempt that commits has none.
    pub fn clear_final(&self, n: u64) -> Result<()> {
        let path = self.final_path(n);
        match fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(e).with_context(|| format!("cannot remove {}", path.display()))
            }
            _ => Ok(()),
        }
    }

    /// The final rows of every committed trigger up to `last`, in trigger
    /// order (a file of a trigger that never committed is ignored).
    pub fn read_finals<R: DeserializeOwned>(&self, last: u64) -> Result<Vec<R>> {
        let mut out = Vec::new();
        for n in numbers(&self.dir.join("final"))?.into_iter().filter(|&n| n <= last) {
            let path = self.final_path(n);
            let text = fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
            out.push(
                serde_json::from_slice(&text)
                    .with_context(|| format!("the checkpoint file {} is damaged", path.display()))?,
            );
        }
        Ok(out)
    }

    /// Saves the state after trigger `n` and commits it; drops states older
    /// than the previous one.
    pub fn commit<S: Serialize>(&self, n: u64, state: &S) -> Result<()> {
        write_atomic(
            &self.dir.join("state").join(format!("{n}.json")),
            &serde_json::to_vec(state)?,
        )?;
        write_atomic(&self.dir.join("commits").join(n.to_string()), b"")?;
        for old in numbers(&self.dir.join("state"))?.into_iter().filter(|&k| k + 1 < n) {
            let _ = fs::remove_file(self.dir.join("state").join(format!("{old}.json")));
        }
        Ok(())
    }
}
