//! Where events come from: finding the input files, reading them (gzip
//! transparently), validating every line and folding the events into
//! [`MinuteCounts`].

pub mod delimited;
pub mod line;
pub mod parquet;
pub mod spark;

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::SystemTime;

use anyhow::{bail, Context, Result};
use serde::Serialize;

use crate::model::InputStats;
use crate::progress::Progress;
use crate::state::{Fold, MinuteCounts};

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
    /// Where it is; [`STDIN`] for standard input.
    pub path: PathBuf,
    /// Its name relative to the input folder, as reports show it.
    pub name: String,
    /// Read no more than these bytes of it (of the file on disk, before
    /// any decompression): a stream reads what it stamped, so that a file
    /// still growing is counted as far as its stamp says.
    pub limit: Option<u64>,
}

/// The path that stands for standard input, on the command line and in
/// [`InputFile::path`].
pub const STDIN: &str = "-";

/// The name reports give standard input.
pub const STDIN_NAME: &str = "(standard input)";

impl InputFile {
    /// True when this is standard input rather than a file.
    pub fn is_stdin(&self) -> bool {
        self.path.as_os_str() == STDIN
    }
}

/// True when a file name is an input: `.json`, `.jsonl`, `.ndjson`, each
/// optionally followed by `.gz`, and not hidden or `_`-prefixed.
pub fn is_input_name(name: &str) -> bool {
    if is_hidden(name) {
        return false;
    }
    let base = name.strip_suffix(".gz").unwrap_or(name);
    [".json", ".jsonl", ".ndjson"].iter().any(|ext| base.ends_with(ext))
        || delimited::delimiter_of(name).is_some()
        || parquet::is_parquet_name(name)
}

/// Hidden (`.x`) and `_`-prefixed names: files being written, metadata
/// (`_SUCCESS`, `.crc`), or folders of neither kind of data. Skipped
/// silently, files and folders alike.
fn is_hidden(name: &str) -> bool {
    name.starts_with('.') || name.starts_with('_')
}

/// A file (or folder entry) that was not read, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Skipped {
    /// The name as reports show input files.
    pub file: String,
    /// Why it was not read (or not read to its end).
    pub reason: String,
}

/// One input as given on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// `-`: standard input, plain or gzip (recognised by its first bytes).
    Stdin,
    /// A folder (searched recursively) or one file.
    Path(PathBuf),
    /// A pattern with `*`, `?` or `[...]` (`**` crosses folders) that names
    /// no existing path: what it matches, each taken like a [`Input::Path`].
    Glob(String),
}

impl Input {
    /// Reads one command-line argument.
    pub fn parse(arg: &Path) -> Input {
        if arg.as_os_str() == STDIN {
            return Input::Stdin;
        }
        match arg.to_str() {
            Some(text) if !arg.exists() && text.contains(['*', '?', '[']) => Input::Glob(text.to_string()),
            _ => Input::Path(arg.to_path_buf()),
        }
    }

    /// The input as the user wrote it.
    pub fn display(&self) -> String {
        match self {
            Input::Stdin => STDIN.to_string(),
            Input::Path(p) => p.display().to_string(),
            Input::Glob(g) => g.clone(),
        }
    }
}

/// The inputs of one command, in command-line order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inputs(pub Vec<Input>);

/// The files of some inputs, and what was found but not taken.
#[derive(Debug, Clone, Default)]
pub struct Listing {
    /// The files to read, in order.
    pub files: Vec<InputFile>,
    /// Entries of the input folders that are not read: names that are not
    /// input names, and files that are not regular files (FIFOs, devices,
    /// sockets, links to them). Hidden and `_`-prefixed names are not listed.
    pub skipped: Vec<Skipped>,
}

impl Inputs {
    /// The inputs named by command-line arguments.
    pub fn from_args<P: AsRef<Path>>(args: &[P]) -> Inputs {
        Inputs(args.iter().map(|a| Input::parse(a.as_ref())).collect())
    }

    /// True when standard input is one of them.
    pub fn reads_stdin(&self) -> bool {
        self.0.contains(&Input::Stdin)
    }

    /// The inputs as the user wrote them, space-separated.
    pub fn display(&self) -> String {
        self.0.iter().map(Input::display).collect::<Vec<_>>().join(" ")
    }

    /// A short name for the report folder: the first input's folder or file
    /// name without extensions (`stdin` for standard input).
    pub fn report_name(&self) -> String {
        let path = match self.0.first() {
            Some(Input::Path(p)) => p.clone(),
            Some(Input::Glob(g)) => literal_prefix(g),
            Some(Input::Stdin) => return "stdin".into(),
            None => return "input".into(),
        };
        let path = path.canonicalize().unwrap_or(path);
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let stem = name.split('.').next().unwrap_or_default();
        if stem.is_empty() {
            "input".into()
        } else {
            stem.to_string()
        }
    }

    /// Lists the files of every input, in command-line order; within a
    /// folder in `order`, by the path relative to the folder. A file named
    /// twice is read once.
    ///
    /// Names: with one folder, the paths relative to it
    /// (`dt=2016-07-26/part-0.json`); with one file, its name; with several
    /// inputs, the paths as given (`a/file-0.json`).
    pub fn list_files(&self, order: FileOrder) -> Result<Listing> {
        let mut listing = Listing::default();
        let several = self.0.len() > 1;
        let mut seen = std::collections::HashSet::new();
        for input in &self.0 {
            let paths = match input {
                Input::Stdin => {
                    if seen.insert(PathBuf::from(STDIN)) {
                        listing.files.push(InputFile {
                            path: PathBuf::from(STDIN),
                            name: STDIN_NAME.into(),
                            limit: None,
                        });
                    }
                    continue;
                }
                Input::Path(p) => vec![p.clone()],
                Input::Glob(pattern) => expand_glob(pattern)?,
            };
            let named = several || matches!(input, Input::Glob(_));
            for path in paths {
                let prefix = named.then(|| path.display().to_string());
                let mut one = list_path(&path, order, prefix.as_deref())?;
                one.files
                    .retain(|f| seen.insert(f.path.canonicalize().unwrap_or_else(|_| f.path.clone())));
                listing.files.extend(one.files);
                listing.skipped.extend(one.skipped);
            }
        }
        Ok(listing)
    }
}

/// The folders of a pattern before its first wildcard.
fn literal_prefix(pattern: &str) -> PathBuf {
    Path::new(pattern)
        .components()
        .take_while(|c| !c.as_os_str().to_string_lossy().contains(['*', '?', '[']))
        .collect()
}

fn expand_glob(pattern: &str) -> Result<Vec<PathBuf>> {
    let options = glob::MatchOptions {
        case_sensitive: true,
        require_literal_separator: true,
        require_literal_leading_dot: true,
    };
    let paths = glob::glob_with(pattern, options).map_err(|e| {
        anyhow::anyhow!(
            "{pattern} is not a valid pattern: {} (at character {})",
            e.msg,
            e.pos + 1
        )
    })?;
    let mut found = Vec::new();
    for path in paths {
        found.push(path.map_err(|e| anyhow::anyhow!("cannot read {}: {}", e.path().display(), e.error()))?);
    }
    if found.is_empty() {
        bail!("no file or folder matches {pattern}: check the pattern (quote it so that the shell leaves it to windowpane, or not)");
    }
    found.sort_by(|a, b| natord::compare(&a.to_string_lossy(), &b.to_string_lossy()));
    Ok(found)
}

/// Lists the input files of `input` (a folder, searched recursively, or a
/// single file) in `order`; see [`Inputs::list_files`].
pub fn list_files(input: &Path, order: FileOrder) -> Result<Vec<InputFile>> {
    Ok(list_path(input, order, None)?.files)
}

/// The files of one path; `prefix` replaces the path in names when given.
fn list_path(input: &Path, order: FileOrder, prefix: Option<&str>) -> Result<Listing> {
    let meta = fs::metadata(input).with_context(|| {
        format!(
            "cannot open the input {}: check the path (expected a folder of NDJSON files, one file, or - for standard input)",
            input.display()
        )
    })?;
    if meta.is_dir() && input.join(crate::model::REPORT_MARKER).is_file() {
        bail!(
            "{} is a report folder windowpane wrote, not a folder of events: give the events it was made from \
             (its index.html names them under \"How this report was made\")",
            input.display()
        );
    }
    let mut listing = Listing::default();
    if !meta.is_dir() {
        // a file named on the command line is read whatever its name or
        // kind (a pipe from `<(zcat ...)` too)
        let name = match prefix {
            Some(p) => p.to_string(),
            None => input
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| input.display().to_string()),
        };
        listing.files.push(InputFile {
            path: input.to_path_buf(),
            name,
            limit: None,
        });
        return Ok(listing);
    }
    let mut files = Vec::new();
    let mut visited = std::collections::HashSet::new();
    visited.insert(input.canonicalize().unwrap_or_else(|_| input.to_path_buf()));
    walk(input, "", order, &mut files, &mut listing.skipped, &mut visited)?;
    files.sort_by(|(a, ma): &(InputFile, Option<SystemTime>), (b, mb)| {
        let by_time = ma
            .unwrap_or(SystemTime::UNIX_EPOCH)
            .cmp(&mb.unwrap_or(SystemTime::UNIX_EPOCH));
        by_time.then_with(|| natord::compare(&a.name, &b.name))
    });
    listing.skipped.sort_by(|a, b| natord::compare(&a.file, &b.file));
    let rename = |name: String| match prefix {
        Some(p) => format!("{}/{name}", p.trim_end_matches('/')),
        None => name,
    };
    listing.files = files
        .into_iter()
        .map(|(f, _)| InputFile {
            path: f.path,
            name: rename(f.name),
            limit: None,
        })
        .collect();
    for s in &mut listing.skipped {
        s.file = rename(std::mem::take(&mut s.file));
    }
    Ok(listing)
}

type Found = (InputFile, Option<SystemTime>);

/// Collects the input files under `dir`, `rel` being its path relative to
/// the input folder (empty at the top, else ending in `/`).
fn walk(
    dir: &Path,
    rel: &str,
    order: FileOrder,
    files: &mut Vec<Found>,
    skipped: &mut Vec<Skipped>,
    visited: &mut std::collections::HashSet<PathBuf>,
) -> Result<()> {
    let entries = fs::read_dir(dir).with_context(|| format!("cannot list the folder {}", dir.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot list the folder {}", dir.display()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if is_hidden(&name) {
            continue;
        }
        let path = entry.path();
        let relative = format!("{rel}{name}");
        // the entry's own type costs no call; a link is followed
        let kind = match entry.file_type() {
            Ok(t) if !t.is_symlink() => Ok(t),
            _ => fs::metadata(&path).map(|m| m.file_type()),
        };
        let kind = match kind {
            Ok(k) => k,
            // a link that leads nowhere is kept when it has an input's
            // name, so that reading it fails loudly instead of losing it
            Err(_) if is_input_name(&name) => {
                files.push((
                    InputFile {
                        path,
                        name: relative,
                        limit: None,
                    },
                    None,
                ));
                continue;
            }
            Err(_) => {
                skipped.push(Skipped {
                    file: relative,
                    reason: "a link that leads nowhere".into(),
                });
                continue;
            }
        };
        if kind.is_dir() {
            // a report windowpane wrote holds .json files that are not events
            if path.join(crate::model::REPORT_MARKER).is_file() {
                skipped.push(Skipped {
                    file: format!("{relative}/"),
                    reason: "a windowpane report folder, not input".into(),
                });
                continue;
            }
            // Hive-style partitions (`dt=2016-07-26/`) and any other folder;
            // a link back to a folder already searched is not followed again
            if visited.insert(path.canonicalize().unwrap_or_else(|_| path.clone())) {
                walk(&path, &format!("{relative}/"), order, files, skipped, visited)?;
            }
            continue;
        }
        if !is_input_name(&name) {
            skipped.push(Skipped {
                file: relative,
                reason: "not an input name (*.json, *.jsonl, *.ndjson, optionally .gz; lower case)".into(),
            });
            continue;
        }
        if !kind.is_file() {
            skipped.push(Skipped {
                file: relative,
                reason: format!("not a regular file ({}): not read", file_kind(&kind)),
            });
            continue;
        }
        // a file gone since the folder was listed sorts first; reading it
        // then records it as missing, as for any file that goes away
        let mtime = match order {
            FileOrder::Mtime => fs::metadata(&path).and_then(|m| m.modified()).ok(),
            FileOrder::Name => None,
        };
        files.push((
            InputFile {
                path,
                name: relative,
                limit: None,
            },
            mtime,
        ));
    }
    Ok(())
}

fn file_kind(t: &fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    let _ = t;
    "not a file"
}

/// One note about skipped entries (for [`crate::text::note`]), or `None`.
pub fn skipped_notice(skipped: &[Skipped]) -> Option<String> {
    let first = skipped.first()?;
    let mut text = format!(
        "skipped {} {} that {} not read: {}: {}",
        skipped.len(),
        if skipped.len() == 1 { "entry" } else { "entries" },
        if skipped.len() == 1 { "was" } else { "were" },
        first.file,
        first.reason
    );
    for s in skipped.iter().skip(1).take(4) {
        text.push_str(&format!("; {}: {}", s.file, s.reason));
    }
    if skipped.len() > 5 {
        text.push_str(&format!("; and {} more", skipped.len() - 5));
    }
    Some(text)
}

/// The longest line read as a line, in bytes: 1 MiB. A longer line is
/// rejected without being held in memory (its first KiB is kept as its text).
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// What a rejected over-long line keeps of its text, in bytes.
const LONG_LINE_HEAD: usize = 1024;

/// How much is read at a time.
const CHUNK: usize = 1 << 20;

/// One line handed out by [`for_each_line`].
#[derive(Debug, PartialEq, Eq)]
pub enum Piece<'a> {
    /// A line without its newline.
    Line(&'a [u8]),
    /// A line longer than [`MAX_LINE_BYTES`]: its first bytes, its length.
    TooLong {
        /// The first [`LONG_LINE_HEAD`] bytes.
        head: &'a [u8],
        /// Its length in bytes.
        len: u64,
    },
}

/// Calls `f` with every line of `reader` and its 1-based number, in a
/// buffer of bounded size (`buf`, reused across files): memory stays below
/// about two MiB whatever the input, and the cost is linear in it. A UTF-8
/// byte order mark at the start is not part of the first line; a last line
/// without a newline counts. Returns the number of lines.
pub fn for_each_line<R: Read + ?Sized>(
    reader: &mut R,
    buf: &mut Vec<u8>,
    mut f: impl FnMut(u64, Piece<'_>),
) -> std::io::Result<u64> {
    if buf.len() < MAX_LINE_BYTES + CHUNK {
        // zeroed by the allocator (fresh pages): only the pages a small
        // file fills are ever touched, not all 2 MB
        *buf = vec![0; MAX_LINE_BYTES + CHUNK];
    }
    let (mut start, mut end) = (0usize, 0usize);
    let mut number = 0u64;
    let mut bom_pending = true;
    // inside a line too long to hold: its head and its length so far
    let mut long: Option<(Vec<u8>, u64)> = None;
    loop {
        if end == buf.len() {
            buf.copy_within(start..end, 0);
            end -= start;
            start = 0;
        }
        let n = match reader.read(&mut buf[end..]) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let eof = n == 0;
        end += n;
        if bom_pending {
            if end - start < 3 && !eof {
                continue;
            }
            if buf[start..end].starts_with(b"\xEF\xBB\xBF") {
                start += 3;
            }
            bom_pending = false;
        }
        let base = start;
        for nl in memchr::memchr_iter(b'\n', &buf[base..end]) {
            let line = &buf[start..base + nl];
            number += 1;
            match long.take() {
                Some((head, len)) => f(
                    number,
                    Piece::TooLong {
                        head: &head,
                        len: len + line.len() as u64,
                    },
                ),
                None if line.len() > MAX_LINE_BYTES => f(
                    number,
                    Piece::TooLong {
                        head: &line[..LONG_LINE_HEAD],
                        len: line.len() as u64,
                    },
                ),
                None => f(number, Piece::Line(line)),
            }
            start = base + nl + 1;
        }
        let rest = end - start;
        if let Some((_, len)) = &mut long {
            *len += rest as u64;
            start = end;
        } else if rest > MAX_LINE_BYTES {
            long = Some((buf[start..start + LONG_LINE_HEAD].to_vec(), rest as u64));
            start = end;
        }
        if eof {
            if let Some((head, len)) = long.take() {
                number += 1;
                f(number, Piece::TooLong { head: &head, len });
            } else if rest > 0 {
                number += 1;
                f(number, Piece::Line(&buf[start..end]));
            }
            return Ok(number);
        }
    }
}

/// Opens an input for reading: gzip is decompressed as a stream (by name
/// for files, by its first bytes for standard input); an empty `.gz` file
/// is an empty input.
pub fn open(file: &InputFile) -> std::io::Result<Box<dyn Read>> {
    use std::io::BufRead;
    fn decode<R: BufRead + 'static>(mut reader: R, gzip: Option<bool>) -> std::io::Result<Box<dyn Read>> {
        let head = reader.fill_buf()?;
        if head.is_empty() {
            return Ok(Box::new(std::io::empty()));
        }
        let gzip = gzip.unwrap_or_else(|| head.starts_with(&[0x1f, 0x8b]));
        Ok(if gzip {
            Box::new(flate2::bufread::MultiGzDecoder::new(reader))
        } else {
            Box::new(reader)
        })
    }
    if file.is_stdin() {
        return decode(std::io::BufReader::with_capacity(CHUNK, std::io::stdin()), None);
    }
    let f = fs::File::open(&file.path)?;
    let f: Box<dyn Read> = match file.limit {
        Some(limit) => Box::new(f.take(limit)),
        None => Box::new(f),
    };
    if file.path.extension().is_some_and(|e| e == "gz") {
        decode(std::io::BufReader::with_capacity(256 << 10, f), Some(true))
    } else {
        Ok(f)
    }
}

/// Reads a whole file, decompressing it when its name ends in `.gz`.
pub fn read_file(path: &Path) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    read_file_into(path, &mut out, &mut Vec::new())?;
    Ok(out)
}

/// Reads a whole file into `out` (replacing its contents), decompressing it
/// when its name ends in `.gz`, without a leading byte order mark;
/// `scratch` is unused (kept for callers). Prefer [`for_each_line`], whose
/// memory is bounded.
pub fn read_file_into(path: &Path, out: &mut Vec<u8>, scratch: &mut Vec<u8>) -> Result<()> {
    let _ = scratch;
    out.clear();
    let file = InputFile {
        path: path.to_path_buf(),
        name: path.display().to_string(),
        limit: None,
    };
    open(&file)
        .and_then(|mut r| r.read_to_end(out))
        .with_context(|| format!("cannot read {}", path.display()))?;
    if out.starts_with(b"\xEF\xBB\xBF") {
        out.drain(..3);
    }
    Ok(())
}

/// Standard input copied (decompressed) to an anonymous temporary file,
/// for commands that read their input twice. The file has no name in any
/// folder (it is created unlinked, readable by this user only), so no other
/// user can reach or replace it, and it is gone on every exit, a kill
/// included; it is read again through this process's descriptor.
#[derive(Debug)]
pub struct Spool {
    // the open file keeps it alive; `path` reaches it through /proc
    _file: fs::File,
    path: PathBuf,
}

impl Spool {
    /// Copies standard input to a new anonymous temporary file.
    pub fn stdin() -> Result<Spool> {
        use std::os::fd::AsRawFd;
        let folder = std::env::temp_dir();
        let mut file = tempfile::tempfile_in(&folder).with_context(|| {
            format!(
                "cannot create a temporary file in {} to hold standard input (set TMPDIR to another folder)",
                folder.display()
            )
        })?;
        let path = PathBuf::from(format!("/proc/self/fd/{}", file.as_raw_fd()));
        if !path.exists() {
            bail!(
                "standard input can be read twice only where /proc is mounted; give the events as a file instead of -"
            );
        }
        let stdin = InputFile {
            path: PathBuf::from(STDIN),
            name: STDIN_NAME.into(),
            limit: None,
        };
        open(&stdin)
            .and_then(|mut r| std::io::copy(&mut r, &mut file))
            .with_context(|| format!("cannot copy standard input to a temporary file in {}", folder.display()))?;
        Ok(Spool { _file: file, path })
    }

    /// Where the copy is read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Names standard input, not the temporary file, in `rejected`.
    pub fn rename_in(&self, rejected: &mut [Rejected]) {
        let name = self.path.file_name().map(|n| n.to_string_lossy().into_owned());
        for r in rejected {
            if Some(&r.file) == name.as_ref() || r.file == self.path.display().to_string() {
                r.file = STDIN_NAME.into();
            }
        }
    }
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
    /// The line as read (invalid UTF-8 replaced); of a line longer than
    /// [`MAX_LINE_BYTES`], its first KiB followed by `…`.
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
    /// What was found but not read, or not to its end: names that are not
    /// inputs, files that are not regular files, damaged files skipped
    /// with `--skip-corrupt-files`.
    pub skipped: Vec<Skipped>,
}

impl Batch {
    /// Adds another batch read after this one.
    pub fn merge(&mut self, other: Batch) {
        self.files += other.files;
        self.lines += other.lines;
        self.counts.merge(other.counts);
        self.rejected.extend(other.rejected);
        self.skipped.extend(other.skipped);
    }
}

impl Batch {
    /// What this batch read, for the summary.
    pub fn stats(&self) -> InputStats {
        InputStats {
            files: self.files,
            lines: self.lines,
            events: self.counts.events(),
            rejected: self.rejected.len() as u64,
            late: 0,
            missing: 0,
            skipped: self.skipped.len() as u64,
            scan: None,
            quarantine: None,
            fields: None,
        }
    }
}

/// Reads every file of `input` (one folder or file) and folds it, integer
/// times being epoch seconds.
pub fn read(input: &Path, order: FileOrder, strict: bool, threads: Option<usize>) -> Result<Batch> {
    let opts = ReadOptions {
        strict,
        ..ReadOptions::default()
    };
    read_inputs(&Inputs::from_args(&[input]), order, &opts, threads)
}

/// Reads every file of `inputs` and folds it.
pub fn read_inputs(inputs: &Inputs, order: FileOrder, opts: &ReadOptions, threads: Option<usize>) -> Result<Batch> {
    let input = inputs.display();
    let listing = inputs.list_files(order)?;
    if let Some(notice) = skipped_notice(&listing.skipped) {
        crate::text::note(&notice);
    }
    let files = listing.files;
    if files.is_empty() {
        bail!(
            "no input files in {input}: expected files named *.json, *.jsonl or *.ndjson (optionally .gz); hidden and _-prefixed names are skipped"
        );
    }
    let threads = self::threads(threads);
    let progress = Progress::new(files.len() as u64, "files");
    let batch = read_files(&files, threads, opts, &progress);
    progress.finish();
    let mut batch = batch?;
    if let Some(notice) = skipped_notice(&batch.skipped) {
        crate::text::note(&notice);
    }
    batch.skipped.splice(0..0, listing.skipped);
    if batch.counts.events() == 0 {
        match batch.rejected.first() {
            Some(r) => bail!(
                "no valid events in {}: all {} lines were rejected; the first, {} line {}: {}",
                input,
                batch.lines,
                r.file,
                r.line,
                r.reason
            ),
            None => bail!(
                "no events in {}: its input files ({}) hold no lines",
                input,
                batch.files
            ),
        }
    }
    Ok(batch)
}

/// Reader threads: `threads`, or one per core.
pub fn threads(threads: Option<usize>) -> usize {
    threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
}

/// How lines are read and judged.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadOptions {
    /// The unit of integer `time` values.
    pub unit: line::TimeUnit,
    /// Where the time and the action are in each line.
    pub fields: line::Fields,
    /// The delimiter of CSV files, when not the one their name says.
    pub delimiter: Option<u8>,
    /// Stop at the first rejected line.
    pub strict: bool,
    /// A file that cannot be read to its end (a damaged gzip, an I/O
    /// error) is listed in [`Batch::skipped`] and the run goes on; the lines
    /// read before the damage count. Without it, such a file is an error.
    pub skip_corrupt: bool,
}

/// The reading options every command that reads events shares.
#[derive(Debug, Clone, clap::Args)]
pub struct ReadArgs {
    /// The unit of integer `time` values: epoch seconds, milliseconds or
    /// microseconds. RFC 3339 strings are read the same whatever it is.
    #[arg(long, value_enum, default_value_t = line::TimeUnit::S, value_name = "UNIT")]
    pub time_unit: line::TimeUnit,
    /// The field that holds each event's time: a key, or a dotted path
    /// into nested objects (payload.created_at).
    #[arg(long, default_value = "time", value_name = "NAME", value_parser = line::Fields::path)]
    pub time_field: &'static [&'static str],
    /// The field that holds each event's action: a key, or a dotted path
    /// (payload.type). A number or a boolean there is an action of its own,
    /// named by its JSON text (404, true).
    #[arg(long, default_value = "action", value_name = "NAME", value_parser = line::Fields::path)]
    pub action_field: &'static [&'static str],
    /// The delimiter of CSV files (one character) [default: , for *.csv,
    /// a tab for *.tsv].
    #[arg(long, value_name = "CHAR", value_parser = parse_delimiter)]
    pub delimiter: Option<u8>,
    /// Go on when a file cannot be read to its end (a damaged .gz): it is
    /// listed as skipped, the lines read before the damage count.
    #[arg(long)]
    pub skip_corrupt_files: bool,
}

impl ReadArgs {
    /// The read options these arguments ask for.
    pub fn options(&self, strict: bool) -> ReadOptions {
        ReadOptions {
            unit: self.time_unit,
            fields: line::Fields {
                time: self.time_field,
                action: self.action_field,
            },
            delimiter: self.delimiter,
            strict,
            skip_corrupt: self.skip_corrupt_files,
        }
    }
}

fn parse_delimiter(s: &str) -> Result<u8, String> {
    match s.as_bytes() {
        [b] if b.is_ascii() && *b != b'"' && *b != b'\n' => Ok(*b),
        _ if s == "\\t" || s == "tab" => Ok(b'\t'),
        _ => Err(format!("expected one ASCII character such as , ; | or \\t; got {s:?}")),
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

/// Folds one line into `batch`; true when it was rejected.
fn fold_piece(
    batch: &mut Batch,
    fold: &mut Fold,
    name: &str,
    number: u64,
    piece: Piece<'_>,
    opts: &ReadOptions,
) -> bool {
    let (reason, text) = match piece {
        Piece::Line(raw) => match line::parse_with(raw, opts.unit, opts.fields) {
            line::Line::Blank => return false,
            line::Line::Event { time, action } => {
                batch.lines += 1;
                fold.add(time, &action);
                return false;
            }
            line::Line::Rejected(reason) => (reason, String::from_utf8_lossy(raw).into_owned()),
        },
        Piece::TooLong { head, len } => (
            format!("the line is {len} bytes long; the limit is {MAX_LINE_BYTES} bytes (1 MiB)"),
            format!("{}…", String::from_utf8_lossy(head)),
        ),
    };
    batch.lines += 1;
    batch.rejected.push(Rejected {
        file: name.to_string(),
        line: number,
        reason,
        text,
    });
    true
}

/// Calls `visit` with each row of a file of rows (CSV, TSV, Parquet, by
/// its name): its number, its event or why it is not one, and a way to get
/// its text, until it returns false. `None` for a file of lines (JSON).
pub fn for_each_table_row(
    file: &InputFile,
    opts: &ReadOptions,
    visit: impl FnMut(u64, Result<(i64, &str), String>, &dyn Fn() -> String) -> bool,
) -> Option<Result<()>> {
    let name = file.path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
    if let Some(delimiter) = delimited::delimiter_of(&name) {
        return Some(delimited::for_each_row(
            file,
            opts,
            opts.delimiter.unwrap_or(delimiter),
            visit,
        ));
    }
    parquet::is_parquet_name(&name).then(|| parquet::for_each_row(file, opts, visit))
}

/// Folds a file of rows into `batch` as lines are folded; `None` for a
/// file of lines.
fn fold_table(batch: &mut Batch, file: &InputFile, opts: &ReadOptions) -> Option<Result<()>> {
    let mut fold = Fold::new();
    let result = for_each_table_row(file, opts, |row, judged, text| {
        batch.lines += 1;
        match judged {
            Ok((time, action)) => fold.add(time, action),
            Err(reason) => {
                batch.rejected.push(Rejected {
                    file: file.name.clone(),
                    line: row,
                    reason,
                    text: text(),
                });
                if opts.strict {
                    return false;
                }
            }
        }
        true
    })?;
    batch.files += 1;
    batch.counts.absorb(fold);
    Some(result)
}

/// Reads and folds one input into `batch`, with `buf` as the line buffer.
/// With `opts.strict`, stops at the first rejected line (which is then the
/// last element of `batch.rejected`). An error is a file that cannot be
/// opened or read to its end; what was read before it stays folded.
pub fn fold_file(batch: &mut Batch, file: &InputFile, opts: &ReadOptions, buf: &mut Vec<u8>) -> Result<()> {
    if let Some(result) = fold_table(batch, file, opts) {
        return result;
    }
    batch.files += 1;
    let mut reader = open(file).with_context(|| format!("cannot read {}", shown(file)))?;
    let mut last = 0;
    let mut stopped = false;
    let mut fold = Fold::new();
    let result = for_each_line(&mut *reader, buf, |number, piece| {
        if stopped {
            return;
        }
        last = number;
        if fold_piece(batch, &mut fold, &file.name, number, piece, opts) && opts.strict {
            stopped = true;
        }
    });
    batch.counts.absorb(fold);
    result.map(|_| ()).map_err(|e| {
        let gzip = file.path.extension().is_some_and(|e| e == "gz");
        let what = if gzip && e.kind() != std::io::ErrorKind::PermissionDenied {
            "is not a valid gzip file or is damaged"
        } else {
            "cannot be read to its end"
        };
        anyhow::anyhow!("{} {what}: {e} (after line {last})", shown(file))
    })
}

pub(crate) fn shown(file: &InputFile) -> String {
    if file.is_stdin() {
        STDIN_NAME.to_string()
    } else {
        file.path.display().to_string()
    }
}

/// Validates and folds the content of one file into `batch`. With
/// `strict`, stops at the first rejected line (which is then the last
/// element of `batch.rejected`).
pub fn fold_into(batch: &mut Batch, name: &str, data: &[u8], strict: bool) {
    batch.files += 1;
    let mut stopped = false;
    let mut reader = data;
    let mut fold = Fold::new();
    let _ = for_each_line(&mut reader, &mut Vec::new(), |number, piece| {
        if !stopped && fold_piece(batch, &mut fold, name, number, piece, &ReadOptions::default()) && strict {
            stopped = true;
        }
    });
    batch.counts.absorb(fold);
}

/// Validates and folds the content of one file on its own.
pub fn fold_bytes(name: &str, data: &[u8], strict: bool) -> Batch {
    let mut batch = Batch::default();
    fold_into(&mut batch, name, data, strict);
    batch
}

/// Reads `files` with `threads` workers and folds them, integer times
/// being epoch seconds; see [`read_files`].
pub fn read_all(files: &[InputFile], threads: usize, strict: bool, progress: &Progress) -> Result<Batch> {
    let opts = ReadOptions {
        strict,
        ..ReadOptions::default()
    };
    read_files(files, threads, &opts, progress)
}

/// What reading one file gave besides its events.
struct FileOutcome {
    rejected: Vec<Rejected>,
    error: Option<anyhow::Error>,
}

/// Reads `files` with `threads` workers and folds them.
///
/// Each worker folds the files it takes into a state of its own, and the
/// states are merged at the end (counts add up in any order); rejected lines
/// are kept per file so that the quarantine is in input order.
///
/// With `strict`, the first rejected line in input order is an error naming
/// its file, line and reason. A file that cannot be read to its end is an
/// error naming it, or with `skip_corrupt` an entry of [`Batch::skipped`].
pub fn read_files(files: &[InputFile], threads: usize, opts: &ReadOptions, progress: &Progress) -> Result<Batch> {
    let next = AtomicUsize::new(0);
    // the first file index (in input order) that failed
    let stop_at = AtomicUsize::new(usize::MAX);
    let per_file: Mutex<Vec<Option<FileOutcome>>> = Mutex::new((0..files.len()).map(|_| None).collect());
    let threads = threads.clamp(1, files.len().max(1));
    let work = || {
        let mut local = Batch::default();
        let mut buf = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            if i >= files.len() || i > stop_at.load(Ordering::Relaxed) {
                break;
            }
            let file = &files[i];
            let before = local.rejected.len();
            let error = fold_file(&mut local, file, opts, &mut buf).err();
            let rejected = local.rejected.split_off(before);
            let failed = (error.is_some() && !opts.skip_corrupt) || (opts.strict && !rejected.is_empty());
            if failed {
                stop_at.fetch_min(i, Ordering::Relaxed);
            }
            progress.inc(1);
            per_file.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(FileOutcome { rejected, error });
        }
        local
    };
    // one reader: no thread to start (a trigger of one new file)
    let workers: Vec<Batch> = if threads == 1 {
        vec![work()]
    } else {
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads).map(|_| scope.spawn(work)).collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("a reader thread panicked"))
                .collect()
        })
    };
    let mut total = Batch::default();
    let outcomes = per_file.into_inner().unwrap_or_else(|e| e.into_inner());
    for (file, outcome) in files.iter().zip(outcomes) {
        let Some(outcome) = outcome else { continue };
        if opts.strict {
            if let Some(r) = outcome.rejected.first() {
                bail!(
                    "{} line {}: {} (--strict stops at the first bad line; run without it to quarantine bad lines instead)\n  the line: {}",
                    r.file,
                    r.line,
                    r.reason,
                    crate::text::abridge(&r.text, 200)
                );
            }
        }
        total.rejected.extend(outcome.rejected);
        if let Some(error) = outcome.error {
            if !opts.skip_corrupt {
                bail!(
                    "{error:#}\n  move the file away, or run with --skip-corrupt-files to list it as skipped and go on"
                );
            }
            total.skipped.push(Skipped {
                file: file.name.clone(),
                reason: format!("{error:#}; the lines before it were read"),
            });
        }
    }
    for worker in workers {
        total.files += worker.files;
        total.lines += worker.lines;
        total.counts.merge(worker.counts);
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_read_no_further_than_its_limit() {
        // a stream reads what it stamped: lines appended after the stamp
        // are the next run's
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.json");
        let two = "{\"time\":60,\"action\":\"a\"}\n{\"time\":61,\"action\":\"b\"}\n";
        std::fs::write(&path, format!("{two}{{\"time\":62,\"action\":\"c\"}}\n")).unwrap();
        for (limit, lines) in [(Some(two.len() as u64), 2), (None, 3)] {
            let file = InputFile {
                path: path.clone(),
                name: "a.json".into(),
                limit,
            };
            let mut batch = Batch::default();
            fold_file(&mut batch, &file, &ReadOptions::default(), &mut Vec::new()).unwrap();
            assert_eq!((batch.lines, batch.counts.events()), (lines, lines));
        }
    }

    #[test]
    fn input_names_follow_the_contract() {
        for ok in [
            "a.json",
            "a.jsonl",
            "a.ndjson",
            "a.json.gz",
            "file-10.ndjson.gz",
            "a.csv",
            "a.tsv.gz",
        ] {
            assert!(is_input_name(ok), "{ok}");
        }
        for no in [
            ".a.json",
            "_tmp.json",
            "a.gz",
            "a.json.tmp",
            "_SUCCESS",
            "a.csv.crc",
            ".a.csv",
        ] {
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

    fn gzip(data: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn fold_path(path: &Path) -> Result<Batch> {
        let file = InputFile {
            path: path.to_path_buf(),
            name: path.file_name().unwrap().to_string_lossy().into_owned(),
            limit: None,
        };
        let mut batch = Batch::default();
        fold_file(&mut batch, &file, &ReadOptions::default(), &mut Vec::new())?;
        Ok(batch)
    }

    #[test]
    fn a_byte_order_mark_is_not_part_of_the_first_line() {
        let b = fold_bytes("f.json", b"\xEF\xBB\xBF{\"time\":1,\"action\":\"A\"}\n", false);
        assert_eq!((b.lines, b.counts.events()), (1, 1), "{:?}", b.rejected);
        // only at the start of a file
        let b = fold_bytes(
            "f.json",
            b"{\"time\":1,\"action\":\"A\"}\n\xEF\xBB\xBF{\"time\":1,\"action\":\"A\"}\n",
            false,
        );
        assert_eq!((b.lines, b.counts.events()), (2, 1));
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f.json.gz");
        fs::write(&p, gzip(b"\xEF\xBB\xBF{\"time\":1,\"action\":\"A\"}")).unwrap();
        assert_eq!(fold_path(&p).unwrap().counts.events(), 1);
    }

    #[test]
    fn an_empty_gzip_file_is_an_input_with_no_lines() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.json.gz");
        fs::write(&empty, b"").unwrap();
        let b = fold_path(&empty).unwrap();
        assert_eq!((b.files, b.lines, b.rejected.len()), (1, 0, 0));
        let blank = dir.path().join("blank.json.gz");
        fs::write(&blank, gzip(b"\n  \n\r\n\n")).unwrap();
        let b = fold_path(&blank).unwrap();
        assert_eq!((b.files, b.lines, b.rejected.len()), (1, 0, 0));
        let nothing = dir.path().join("nothing.json.gz");
        fs::write(&nothing, gzip(b"")).unwrap();
        assert_eq!(fold_path(&nothing).unwrap().lines, 0);
    }

    #[test]
    fn a_damaged_gzip_file_is_an_error_naming_it_after_the_lines_read() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("bad.json.gz");
        let mut data = gzip(&b"{\"time\":1,\"action\":\"A\"}\n".repeat(1000));
        let n = data.len();
        data.truncate(n - 20);
        fs::write(&p, &data).unwrap();
        let e = format!("{:#}", fold_path(&p).unwrap_err());
        assert!(
            e.contains("bad.json.gz") && e.contains("not a valid gzip file or is damaged"),
            "{e}"
        );
        fs::write(&p, b"plain text, not gzip\n").unwrap();
        let e = format!("{:#}", fold_path(&p).unwrap_err());
        assert!(e.contains("bad.json.gz"), "{e}");
    }

    #[test]
    fn lines_longer_than_the_limit_are_rejected_without_being_held() {
        let mut data = Vec::new();
        data.extend_from_slice(b"{\"time\":1,\"action\":\"A\"}\n");
        data.extend_from_slice(b"{\"time\":1,\"action\":\"");
        data.extend(std::iter::repeat_n(b'x', 5 * MAX_LINE_BYTES));
        data.extend_from_slice(b"\"}\n{\"time\":2,\"action\":\"B\"}\n");
        data.extend(std::iter::repeat_n(b'y', MAX_LINE_BYTES + 1));
        let b = fold_bytes("f.json", &data, false);
        assert_eq!(b.lines, 4);
        assert_eq!(b.counts.events(), 2);
        assert_eq!(b.rejected.len(), 2);
        assert_eq!(b.rejected[0].line, 2);
        assert!(
            b.rejected[0]
                .reason
                .contains(&format!("{} bytes long", 5 * MAX_LINE_BYTES + 22)),
            "{}",
            b.rejected[0].reason
        );
        assert!(b.rejected[0].text.len() < 2 * LONG_LINE_HEAD);
        assert_eq!(b.rejected[1].line, 4);
        assert!(b.rejected[1].reason.contains("the limit is 1048576 bytes"));
    }

    #[test]
    fn the_splitter_gives_the_same_lines_whatever_the_read_sizes() {
        // a reader that hands out one to seven bytes at a time
        struct Drip<'a>(&'a [u8], usize);
        impl Read for Drip<'_> {
            fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
                self.1 = self.1 % 7 + 1;
                let n = self.1.min(self.0.len()).min(out.len());
                out[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let data = b"\xEF\xBB\xBFa\n\nbc\r\nlast";
        let mut got = Vec::new();
        let n = for_each_line(&mut Drip(data, 0), &mut Vec::new(), |i, p| match p {
            Piece::Line(l) => got.push((i, l.to_vec())),
            Piece::TooLong { .. } => panic!("too long"),
        })
        .unwrap();
        assert_eq!(n, 4);
        let expected: Vec<(u64, Vec<u8>)> = vec![
            (1, b"a".to_vec()),
            (2, vec![]),
            (3, b"bc\r".to_vec()),
            (4, b"last".to_vec()),
        ];
        assert_eq!(got, expected);
    }

    #[test]
    fn folders_are_searched_recursively_with_partitions_in_natural_order() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for folder in [
            "dt=2016-07-10",
            "dt=2016-07-9",
            "_temporary",
            ".git",
            "dt=2016-07-10/hour=2",
        ] {
            fs::create_dir_all(root.join(folder)).unwrap();
        }
        for n in [
            "dt=2016-07-10/part-1.json",
            "dt=2016-07-10/part-0.json",
            "dt=2016-07-10/hour=2/part-0.json",
            "dt=2016-07-9/part-0.json.gz",
            "dt=2016-07-9/_SUCCESS",
            "dt=2016-07-9/.part-0.json.crc",
            "_temporary/part-0.json",
            ".git/x.json",
            "top.json",
            "notes.txt",
            "UPPER.JSON",
            "old.json.bz2",
        ] {
            fs::write(root.join(n), b"").unwrap();
        }
        let listing = Inputs::from_args(&[root]).list_files(FileOrder::Name).unwrap();
        let names: Vec<&str> = listing.files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "dt=2016-07-9/part-0.json.gz",
                "dt=2016-07-10/hour=2/part-0.json",
                "dt=2016-07-10/part-0.json",
                "dt=2016-07-10/part-1.json",
                "top.json"
            ]
        );
        let skipped: Vec<&str> = listing.skipped.iter().map(|s| s.file.as_str()).collect();
        assert_eq!(skipped, ["UPPER.JSON", "notes.txt", "old.json.bz2"]);
        // a report folder windowpane wrote inside the input is not read
        fs::create_dir(root.join("report")).unwrap();
        fs::write(root.join("report/.windowpane-report"), b"").unwrap();
        fs::write(root.join("report/summary.json"), b"{}").unwrap();
        let listing = Inputs::from_args(&[root]).list_files(FileOrder::Name).unwrap();
        assert_eq!(listing.files.len(), 5);
        assert!(listing.skipped.iter().any(|s| s.file == "report/"));
    }

    #[cfg(unix)]
    #[test]
    fn files_that_are_not_regular_are_skipped_with_their_kind() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::write(root.join("a.json"), b"").unwrap();
        std::os::unix::fs::symlink("/dev/zero", root.join("zero.json")).unwrap();
        let fifo = root.join("pipe.json");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        let listing = Inputs::from_args(&[root]).list_files(FileOrder::Name).unwrap();
        let names: Vec<&str> = listing.files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["a.json"]);
        let mut skipped: Vec<String> = listing
            .skipped
            .iter()
            .map(|s| format!("{}: {}", s.file, s.reason))
            .collect();
        skipped.sort();
        let mut expected = vec!["zero.json: not a regular file (a device): not read".to_string()];
        if made.is_ok_and(|s| s.success()) {
            expected.insert(0, "pipe.json: not a regular file (a FIFO): not read".to_string());
        }
        assert_eq!(skipped, expected);
    }

    #[test]
    fn several_inputs_and_patterns_are_listed_in_command_line_order_once() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir(root.join("a")).unwrap();
        for n in ["a/f-2.json", "a/f-10.json", "b.json", "c-1.json", "c-2.json"] {
            fs::write(root.join(n), b"").unwrap();
        }
        let r = root.display().to_string();
        let args = [
            format!("{r}/c-*.json"),
            format!("{r}/a"),
            format!("{r}/b.json"),
            format!("{r}/a/f-2.json"),
        ];
        let listing = Inputs::from_args(&args).list_files(FileOrder::Name).unwrap();
        let names: Vec<String> = listing.files.iter().map(|f| f.name.replace(&r, "R")).collect();
        assert_eq!(
            names,
            ["R/c-1.json", "R/c-2.json", "R/a/f-2.json", "R/a/f-10.json", "R/b.json"]
        );
        let e = Inputs::from_args(&[format!("{r}/z*.json")])
            .list_files(FileOrder::Name)
            .unwrap_err();
        assert!(e.to_string().contains("no file or folder matches"), "{e}");
        assert_eq!(Inputs::from_args(&["-"]).0, [Input::Stdin]);
        assert_eq!(Inputs::from_args(&[format!("{r}/a")]).report_name(), "a");
        assert_eq!(Inputs::from_args(&[format!("{r}/b.json")]).report_name(), "b");
        assert_eq!(Inputs::from_args(&[format!("{r}/a/f-*.json")]).report_name(), "a");
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
