//! Where events come from: finding the input files, reading them (gzip
//! transparently), validating every line and folding the events into
//! [`MinuteCounts`].

pub mod line;

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::SystemTime;

use anyhow::{bail, Context, Result};
use serde::Serialize;

use crate::progress::Progress;
use crate::state::MinuteCounts;

/// The order in which input files are taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum FileOrder {
    /// Natural name order: `file-2.json` before `file-10.json`.
    #[default]
    Name,
    /// Modification time, oldest first (ties by name).
    Mtime,
}

/// One input file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputFile {
    /// Where it is.
    pub path: PathBuf,
    /// Its name relative to the input folder, as reports show it.
    pub name: String,
}

/// True when a file name is an input: `.json`, `.jsonl`, `.ndjson`, each
/// optionally followed by `.gz`, and not hidden or `_`-prefixed.
pub fn is_input_name(name: &str) -> bool {
    if name.starts_with('.') || name.starts_with('_') {
        return false;
    }
    let base = name.strip_suffix(".gz").unwrap_or(name);
    [".json", ".jsonl", ".ndjson"].iter().any(|ext| base.ends_with(ext))
}

/// Lists the input files of `input` (a folder, or a single file) in `order`.
pub fn list_files(input: &Path, order: FileOrder) -> Result<Vec<InputFile>> {
    let meta = fs::metadata(input).with_context(|| {
        format!(
            "cannot open the input {}: check the path (expected a folder of NDJSON files or one file)",
            input.display()
        )
    })?;
    if meta.is_file() {
        let name = input
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| input.display().to_string());
        return Ok(vec![InputFile {
            path: input.to_path_buf(),
            name,
        }]);
    }
    let entries = fs::read_dir(input).with_context(|| format!("cannot list the folder {}", input.display()))?;
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot list the folder {}", input.display()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !is_input_name(&name) {
            continue;
        }
        let path = entry.path();
        // folders are not inputs; a link that leads nowhere is kept, so that
        // reading it fails loudly instead of losing it silently
        if fs::metadata(&path).is_ok_and(|m| m.is_dir()) {
            continue;
        }
        let mtime = match order {
            FileOrder::Mtime => Some(
                fs::metadata(&path)
                    .and_then(|m| m.modified())
                    .with_context(|| format!("cannot read the modification time of {}", path.display()))?,
            ),
            FileOrder::Name => None,
        };
        files.push((InputFile { path, name }, mtime));
    }
    files.sort_by(|(a, ma), (b, mb)| {
        let by_time = ma
            .unwrap_or(SystemTime::UNIX_EPOCH)
            .cmp(&mb.unwrap_or(SystemTime::UNIX_EPOCH));
        by_time.then_with(|| natord::compare(&a.name, &b.name))
    });
    Ok(files.into_iter().map(|(f, _)| f).collect())
}

/// Reads a whole file, decompressing it when its name ends in `.gz`.
pub fn read_file(path: &Path) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    read_file_into(path, &mut out, &mut Vec::new())?;
    Ok(out)
}

/// Reads a whole file into `out` (replacing its contents), decompressing it
/// when its name ends in `.gz`; `scratch` holds the compressed bytes. Reusing
/// both buffers across files saves allocating and faulting in fresh memory.
pub fn read_file_into(path: &Path, out: &mut Vec<u8>, scratch: &mut Vec<u8>) -> Result<()> {
    let read = |buf: &mut Vec<u8>| -> std::io::Result<()> {
        buf.clear();
        fs::File::open(path)?.read_to_end(buf)?;
        Ok(())
    };
    if path.extension().is_some_and(|e| e == "gz") {
        read(scratch).with_context(|| format!("cannot read {}", path.display()))?;
        out.clear();
        flate2::read::MultiGzDecoder::new(&scratch[..])
            .read_to_end(out)
            .with_context(|| format!("{} is not a valid gzip file", path.display()))?;
    } else {
        read(out).with_context(|| format!("cannot read {}", path.display()))?;
    }
    Ok(())
}

/// A line that is not an event, kept in the quarantine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Rejected {
    /// The file's name relative to the input.
    pub file: String,
    /// 1-based line number in the (decompressed) file.
    pub line: u64,
    /// Why it is not an event.
    pub reason: String,
    /// The line as read (invalid UTF-8 replaced).
    pub text: String,
}

/// What reading some files produced.
#[derive(Debug, Default, Clone)]
pub struct Batch {
    /// Files read.
    pub files: u64,
    /// Lines read, blank lines aside.
    pub lines: u64,
    /// The events, folded.
    pub counts: MinuteCounts,
    /// The rejected lines, in input order.
    pub rejected: Vec<Rejected>,
}

impl Batch {
    /// Adds another batch read after this one.
    pub fn merge(&mut self, other: Batch) {
        self.files += other.files;
        self.lines += other.lines;
        self.counts.merge(other.counts);
        self.rejected.extend(other.rejected);
    }
}

/// The lines of a file's content with their 1-based numbers, without
/// their newlines; a last line without a newline counts too.
pub fn lines(data: &[u8]) -> impl Iterator<Item = (u64, &[u8])> {
    let mut start = 0;
    let ends =
        memchr::memchr_iter(b'\n', data).chain((!data.is_empty() && !data.ends_with(b"\n")).then_some(data.len()));
    ends.enumerate().map(move |(index, end)| {
        let raw = &data[start..end];
        start = end + 1;
        (index as u64 + 1, raw)
    })
}

/// Validates and folds the content of one file into `batch`. With
/// `strict`, stops at the first rejected line (which is then the last
/// element of `batch.rejected`).
pub fn fold_into(batch: &mut Batch, name: &str, data: &[u8], strict: bool) {
    batch.files += 1;
    let mut fold = crate::state::Fold::new();
    for (number, raw) in lines(data) {
        match line::parse(raw) {
            line::Line::Blank => {}
            line::Line::Event { time, action } => {
                batch.lines += 1;
                fold.add(time, &action);
            }
            line::Line::Rejected(reason) => {
                batch.lines += 1;
                batch.rejected.push(Rejected {
                    file: name.to_string(),
                    line: number,
                    reason,
                    text: String::from_utf8_lossy(raw).into_owned(),
                });
                if strict {
                    break;
                }
            }
        }
    }
    batch.counts.absorb(fold);
}

/// Validates and folds the content of one file on its own.
pub fn fold_bytes(name: &str, data: &[u8], strict: bool) -> Batch {
    let mut batch = Batch::default();
    fold_into(&mut batch, name, data, strict);
    batch
}

/// Reads `files` with `threads` workers and folds them.
///
/// Each worker folds the files it takes into a state of its own, and the
/// states are merged at the end (counts add up in any order); rejected lines
/// are kept per file so that the quarantine is in input order.
///
/// With `strict`, the first rejected line in input order is an error naming
/// its file, line and reason.
pub fn read_all(files: &[InputFile], threads: usize, strict: bool, progress: &Progress) -> Result<Batch> {
    let next = AtomicUsize::new(0);
    // the first file index (in input order) that failed
    let stop_at = AtomicUsize::new(usize::MAX);
    let per_file: Mutex<Vec<Option<Result<Vec<Rejected>>>>> = Mutex::new((0..files.len()).map(|_| None).collect());
    let threads = threads.clamp(1, files.len().max(1));
    let workers: Vec<Batch> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut local = Batch::default();
                    let (mut data, mut scratch) = (Vec::new(), Vec::new());
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= files.len() || i > stop_at.load(Ordering::Relaxed) {
                            break;
                        }
                        let file = &files[i];
                        let result = read_file_into(&file.path, &mut data, &mut scratch).map(|()| {
                            let before = local.rejected.len();
                            fold_into(&mut local, &file.name, &data, strict);
                            local.rejected.split_off(before)
                        });
                        let failed = match &result {
                            Err(_) => true,
                            Ok(rejected) => strict && !rejected.is_empty(),
                        };
                        if failed {
                            stop_at.fetch_min(i, Ordering::Relaxed);
                        }
                        progress.inc(1);
                        per_file.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(result);
                    }
                    local
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a reader thread panicked"))
            .collect()
    });
    let mut total = Batch::default();
    for result in per_file
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .flatten()
    {
        let rejected = result?;
        if strict {
            if let Some(r) = rejected.first() {
                bail!(
                    "{} line {}: {} (--strict stops at the first bad line; run without it to quarantine bad lines instead)\n  the line: {}",
                    r.file,
                    r.line,
                    r.reason,
                    abridge(&r.text, 200)
                );
            }
        }
        total.rejected.extend(rejected);
    }
    for worker in workers {
        total.files += worker.files;
        total.lines += worker.lines;
        total.counts.merge(worker.counts);
    }
    Ok(total)
}

/// Cuts `text` to at most `max` characters, marking the cut.
pub fn abridge(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let cut: String = text.chars().take(max).collect();
        format!("{cut}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_names_follow_the_contract() {
        for ok in ["a.json", "a.jsonl", "a.ndjson", "a.json.gz", "file-10.ndjson.gz"] {
            assert!(is_input_name(ok), "{ok}");
        }
        for no in [".a.json", "_tmp.json", "a.csv", "a.gz", "a.json.tmp", "_SUCCESS"] {
            assert!(!is_input_name(no), "{no}");
        }
    }

    #[test]
    fn files_are_listed_in_natural_order_skipping_non_inputs() {
        let dir = tempfile::tempdir().unwrap();
        for n in [
            "file-10.json",
            "file-2.json",
            "file-1.json.gz",
            ".hidden.json",
            "_part.json",
            "notes.txt",
        ] {
            fs::write(dir.path().join(n), b"").unwrap();
        }
        fs::create_dir(dir.path().join("sub.json")).unwrap();
        let names: Vec<String> = list_files(dir.path(), FileOrder::Name)
            .unwrap()
            .into_iter()
            .map(|f| f.name)
            .collect();
        assert_eq!(names, ["file-1.json.gz", "file-2.json", "file-10.json"]);
    }

    #[test]
    fn line_numbers_count_blank_lines_but_lines_do_not() {
        let data = b"{\"time\":1,\"action\":\"A\"}\n\n  \nbad\n{\"time\":61,\"action\":\"A\"}\n";
        let b = fold_bytes("f.json", data, false);
        assert_eq!(b.lines, 3);
        assert_eq!(b.counts.events(), 2);
        assert_eq!(b.rejected.len(), 1);
        assert_eq!(b.rejected[0].line, 4);
        assert_eq!(b.rejected[0].text, "bad");
        assert_eq!(b.lines, b.counts.events() + b.rejected.len() as u64);
    }
}
