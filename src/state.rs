//! The one piece of state every figure is derived from: event counts per
//! (action, minute window), plus the first and last event time.
//!
//! [`MinuteCounts`] keeps its rows sorted by (minute, action) in chunks of
//! at most [`CHUNK`] rows, each chunk three plain columns: 20 bytes a row,
//! whatever the gaps between the minutes. Adding a few rows (a streaming
//! trigger) touches only the chunks they fall in, so its cost follows the
//! rows added, not the rows held. Reading is in order, chunk after chunk.
//!
//! Events reach it through a [`Fold`]: an accumulator that counts
//! events in a small dense window of minutes around the latest time seen
//! (files are mostly in time order) and sets aside the few that fall
//! elsewhere, then hands its rows over sorted.

use std::collections::BTreeMap;
use std::ops::Bound::{Excluded, Unbounded};
use std::sync::{Arc, OnceLock};

use foldhash::fast::RandomState;
use std::collections::HashMap;

/// Floor of `t / 60` times 60: the start of the minute window of `t`.
pub fn minute_of(t: i64) -> i64 {
    t.div_euclid(60) * 60
}

/// The most rows a chunk holds; a chunk that grows past it is split.
pub const CHUNK: usize = 2048;

/// A row of the state: (minute start in epoch seconds, action id, count).
pub type Row = (i64, u32, u64);

/// Action names and their ids (in the order first seen).
#[derive(Debug, Default)]
struct Names {
    names: Vec<Arc<str>>,
    index: HashMap<Arc<str>, u32, RandomState>,
    /// The names sorted, and each id's rank among them, for as many names
    /// as it says (names are only ever added): made once, not by every
    /// table read (with many actions the sort is what a read costs).
    sorted: std::sync::Mutex<Option<Arc<Sorted>>>,
}

/// The action names in order, and each id's rank (its code in a table).
#[derive(Debug)]
struct Sorted {
    names: Vec<Arc<str>>,
    rank: Vec<u32>,
}

impl Clone for Names {
    fn clone(&self) -> Self {
        Names {
            names: self.names.clone(),
            index: self.index.clone(),
            sorted: Default::default(),
        }
    }
}

impl Names {
    /// The names sorted and each id's rank.
    fn sorted(&self) -> Arc<Sorted> {
        let mut kept = self.sorted.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(s) = kept.as_ref().filter(|s| s.names.len() == self.names.len()) {
            return s.clone();
        }
        let mut order: Vec<u32> = (0..self.names.len() as u32).collect();
        order.sort_unstable_by(|&a, &b| self.names[a as usize].cmp(&self.names[b as usize]));
        let mut rank = vec![0u32; order.len()];
        for (r, &id) in order.iter().enumerate() {
            rank[id as usize] = r as u32;
        }
        let made = Arc::new(Sorted {
            names: order.iter().map(|&id| self.names[id as usize].clone()).collect(),
            rank,
        });
        *kept = Some(made.clone());
        made
    }

    fn id(&mut self, action: &str) -> u32 {
        // a handful of actions is the rule: a scan beats hashing
        if self.names.len() <= 8 {
            if let Some(i) = self.names.iter().position(|a| **a == *action) {
                return i as u32;
            }
        } else if let Some(&i) = self.index.get(action) {
            return i;
        }
        let name: Arc<str> = Arc::from(action);
        let id = self.names.len() as u32;
        self.names.push(name.clone());
        self.index.insert(name, id);
        id
    }

    fn find(&self, action: &str) -> Option<u32> {
        self.index.get(action).copied()
    }
}

/// A chunk's rows as columns, sorted by (minute, id).
#[derive(Debug, Clone, Default)]
struct Cols {
    minute: Vec<i64>,
    id: Vec<u32>,
    count: Vec<u64>,
}

impl Cols {
    fn len(&self) -> usize {
        self.minute.len()
    }

    fn key(&self, i: usize) -> (i64, u32) {
        (self.minute[i], self.id[i])
    }

    fn push(&mut self, (m, id, n): Row) {
        self.minute.push(m);
        self.id.push(id);
        self.count.push(n);
    }

    fn from_rows(rows: &[Row]) -> Self {
        let mut c = Cols {
            minute: Vec::with_capacity(rows.len()),
            id: Vec::with_capacity(rows.len()),
            count: Vec::with_capacity(rows.len()),
        };
        rows.iter().for_each(|&r| c.push(r));
        c
    }

    fn rows(&self) -> impl Iterator<Item = Row> + '_ {
        (0..self.len()).map(|i| (self.minute[i], self.id[i], self.count[i]))
    }

    /// Merges sorted `rows` into these, adding counts of equal keys;
    /// returns the merged rows and how many keys were new.
    fn merge(&self, rows: &[Row]) -> (Vec<Row>, usize) {
        let mut out = Vec::with_capacity(self.len() + rows.len());
        let (mut i, mut j, mut new) = (0, 0, 0);
        while i < self.len() || j < rows.len() {
            let take_own = j == rows.len() || (i < self.len() && self.key(i) < (rows[j].0, rows[j].1));
            if take_own {
                out.push((self.minute[i], self.id[i], self.count[i]));
                i += 1;
            } else if i < self.len() && self.key(i) == (rows[j].0, rows[j].1) {
                out.push((rows[j].0, rows[j].1, self.count[i] + rows[j].2));
                i += 1;
                j += 1;
            } else {
                out.push(rows[j]);
                new += 1;
                j += 1;
            }
        }
        (out, new)
    }
}

/// The bytes of a saved file, read or mapped, shared by the chunks in it.
pub type Bytes = Arc<dyn AsRef<[u8]> + Send + Sync>;

/// The rows of one chunk as a checkpoint saved them: read from there only
/// when first needed, so that loading a large state costs the chunks a run
/// touches, not every row held.
#[derive(Clone)]
pub struct Stored {
    /// The saved file, shared by every chunk of it.
    pub bytes: Bytes,
    /// Where in `bytes` this chunk's rows are.
    pub range: std::ops::Range<usize>,
    /// How many rows it holds.
    pub len: usize,
    /// The key (minute start, action id) of its first row.
    pub first: (i64, u32),
    /// Reads the rows back from their bytes (and their number), in order.
    pub decode: fn(&[u8], usize) -> anyhow::Result<Vec<Row>>,
}

impl std::fmt::Debug for Stored {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Stored({} rows from {:?}, {} bytes)",
            self.len,
            self.first,
            self.range.len()
        )
    }
}

/// One chunk of rows, sorted by (minute, id). A chunk never changes once
/// made (adding rows makes new chunks), so copies of a state share their
/// chunks; one loaded from a checkpoint is decoded when first read.
#[derive(Debug)]
struct Chunk {
    len: usize,
    cols: OnceLock<Cols>,
    /// Where it came from, when loaded: a checkpoint can save it again
    /// as it is.
    stored: Option<(Stored, u32)>,
}

impl Chunk {
    fn of(cols: Cols) -> Arc<Chunk> {
        Arc::new(Chunk {
            len: cols.len(),
            cols: OnceLock::from(cols),
            stored: None,
        })
    }

    /// Its rows; a stored chunk is decoded (and checked) on the first call.
    fn cols(&self) -> &Cols {
        self.cols.get_or_init(|| {
            let (stored, actions) = self.stored.as_ref().expect("a chunk is made of rows or loaded");
            let rows = (stored.decode)(&(*stored.bytes).as_ref()[stored.range.clone()], stored.len);
            match rows {
                Ok(rows)
                    if rows.len() == stored.len
                        && rows.first().map(|r| (r.0, r.1)) == Some(stored.first)
                        && rows.windows(2).all(|w| (w[0].0, w[0].1) < (w[1].0, w[1].1))
                        && rows.iter().all(|r| r.1 < *actions && r.2 > 0) =>
                {
                    Cols::from_rows(&rows)
                }
                // the checkpoint file's checksum matched, so only a defect of
                // the program that wrote it leads here
                _ => panic!(
                    "a chunk of the checkpoint's snapshot does not read back as it was written; \
                     delete the checkpoint folder to start over (every file is read again)"
                ),
            }
        })
    }
}

/// A chunk of the state as a checkpoint saves it.
pub enum SavedChunk<'a> {
    /// Unchanged since it was loaded: its bytes as they were saved.
    Stored {
        /// Its first row's key (minute start, action id).
        first: (i64, u32),
        /// How many rows it holds.
        len: usize,
        /// The bytes its rows were saved as.
        bytes: &'a [u8],
    },
    /// Made since: its rows, sorted by (minute, id).
    Rows(Vec<Row>),
}

/// Puts rows sorted by minute (ids remapped) back in (minute, id) order,
/// sorting the few rows of each minute only.
fn reorder_within_minutes(rows: &mut [Row]) {
    let mut i = 0;
    while i < rows.len() {
        let mut j = i + 1;
        while j < rows.len() && rows[j].0 == rows[i].0 {
            j += 1;
        }
        if j - i > 1 {
            rows[i..j].sort_unstable_by_key(|r| r.1);
        }
        i = j;
    }
}

/// Sorts rows by (minute, id) and adds up the counts of equal keys.
fn sort_and_sum(rows: &mut Vec<Row>) {
    rows.sort_unstable_by_key(|r| (r.0, r.1));
    rows.dedup_by(|later, earlier| {
        let same = (later.0, later.1) == (earlier.0, earlier.1);
        if same {
            earlier.2 += later.2;
        }
        same
    });
}

/// Counts per (action, minute window start) and the event time range.
#[derive(Debug, Clone, Default)]
pub struct MinuteCounts {
    names: Names,
    /// Chunks by their first key.
    chunks: BTreeMap<(i64, u32), Arc<Chunk>>,
    rows: usize,
    events: u64,
    first: Option<i64>,
    last: Option<i64>,
}

impl MinuteCounts {
    /// An empty state.
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts one event. For many events, a [`Fold`] is much faster.
    pub fn add(&mut self, time: i64, action: &str) {
        let id = self.names.id(action);
        self.add_rows(&[(minute_of(time), id, 1)]);
        self.events += 1;
        self.widen(Some(time), Some(time));
    }

    /// Adds every event of a fold.
    pub fn absorb(&mut self, mut fold: Fold) {
        let rows = fold.finish();
        let ids: Vec<u32> = fold.names.names.iter().map(|a| self.names.id(a)).collect();
        let mut rows: Vec<Row> = rows.into_iter().map(|(m, id, n)| (m, ids[id as usize], n)).collect();
        if ids.iter().enumerate().any(|(local, &id)| local as u32 != id) {
            reorder_within_minutes(&mut rows);
        }
        self.add_rows(&rows);
        self.events += fold.events;
        self.widen(fold.first, fold.last);
    }

    fn widen(&mut self, first: Option<i64>, last: Option<i64>) {
        self.first = match (self.first, first) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.last = match (self.last, last) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
    }

    /// Adds sorted rows (by minute, then id; keys unique) of this state's
    /// ids. The event count and time range are the caller's to keep.
    fn add_rows(&mut self, rows: &[Row]) {
        if rows.is_empty() {
            return;
        }
        if self.chunks.is_empty() {
            for part in rows.chunks(CHUNK / 2) {
                self.chunks
                    .insert((part[0].0, part[0].1), Chunk::of(Cols::from_rows(part)));
            }
            self.rows = rows.len();
            return;
        }
        let mut i = 0;
        while i < rows.len() {
            let key = (rows[i].0, rows[i].1);
            let at = match self.chunks.range(..=key).next_back() {
                Some((k, _)) => *k,
                None => *self.chunks.keys().next().expect("not empty"),
            };
            let next = self.chunks.range((Excluded(at), Unbounded)).next().map(|(k, _)| *k);
            let end = match next {
                Some(n) => i + rows[i..].partition_point(|r| (r.0, r.1) < n),
                None => rows.len(),
            };
            let chunk = self.chunks.remove(&at).expect("the chunk found above");
            let (merged, new) = chunk.cols().merge(&rows[i..end]);
            self.rows += new;
            let pieces = if merged.len() > CHUNK {
                merged.len().div_ceil(CHUNK / 2)
            } else {
                1
            };
            let size = merged.len().div_ceil(pieces);
            for part in merged.chunks(size) {
                self.chunks
                    .insert((part[0].0, part[0].1), Chunk::of(Cols::from_rows(part)));
            }
            i = end;
        }
    }

    /// Adds counts of named rows (action, minute start, events) in any
    /// order. The event time range is the caller's to keep.
    pub fn add_counts(&mut self, rows: &[(Arc<str>, i64, u64)]) {
        let mut own: Vec<Row> = rows.iter().map(|(a, m, n)| (*m, self.names.id(a), *n)).collect();
        sort_and_sum(&mut own);
        self.events += own.iter().map(|r| r.2).sum::<u64>();
        self.add_rows(&own);
    }

    /// A state from chunks a checkpoint saved, ids indexing `names`, with
    /// `events` counted in them; `None` when the chunks are not in key
    /// order, too large, or name no action. Their rows are read when first
    /// needed.
    pub fn from_stored(
        names: Vec<Arc<str>>,
        chunks: Vec<Stored>,
        events: u64,
        range: Option<(i64, i64)>,
    ) -> Option<Self> {
        let ordered = chunks.windows(2).all(|w| w[0].first < w[1].first);
        if !ordered
            || chunks
                .iter()
                .any(|c| c.len == 0 || c.len > CHUNK || c.first.1 as usize >= names.len())
        {
            return None;
        }
        let mut state = Self::new();
        for name in names {
            let id = state.names.names.len() as u32;
            if state.names.index.insert(name.clone(), id).is_some() {
                return None;
            }
            state.names.names.push(name);
        }
        let actions = state.names.names.len() as u32;
        for c in chunks {
            state.rows += c.len;
            state.chunks.insert(
                c.first,
                Arc::new(Chunk {
                    len: c.len,
                    cols: OnceLock::new(),
                    stored: Some((c, actions)),
                }),
            );
        }
        state.events = events;
        state.set_time_range(range);
        Some(state)
    }

    /// The chunks as a checkpoint saves them, in key order: those loaded
    /// and not changed since as the bytes they were loaded from, the others
    /// as rows. Ids index [`MinuteCounts::actions`].
    pub fn saved_chunks(&self) -> impl Iterator<Item = SavedChunk<'_>> + '_ {
        self.chunks.iter().map(|(first, c)| match &c.stored {
            Some((stored, _)) => SavedChunk::Stored {
                first: *first,
                len: c.len,
                bytes: &(*stored.bytes).as_ref()[stored.range.clone()],
            },
            None => SavedChunk::Rows(c.cols().rows().collect()),
        })
    }

    /// Sets the event time range (as a checkpoint saved it).
    pub fn set_time_range(&mut self, range: Option<(i64, i64)>) {
        self.first = range.map(|r| r.0);
        self.last = range.map(|r| r.1);
    }

    /// Adds every count of `other` into `self`.
    pub fn merge(&mut self, mut other: MinuteCounts) {
        if self.rows == 0 && self.names.names.is_empty() {
            let (events, first, last) = (self.events, self.first, self.last);
            *self = other;
            self.events += events;
            self.widen(first, last);
            return;
        }
        // chunk by chunk, each dropped once added: the two states' rows
        // are never held twice
        let ids: Vec<u32> = other.names.names.iter().map(|a| self.names.id(a)).collect();
        let remapped = ids.iter().enumerate().any(|(local, &id)| local as u32 != id);
        for (_, chunk) in std::mem::take(&mut other.chunks) {
            let mut rows: Vec<Row> = chunk.cols().rows().map(|(m, id, n)| (m, ids[id as usize], n)).collect();
            drop(chunk);
            if remapped {
                reorder_within_minutes(&mut rows);
            }
            self.add_rows(&rows);
        }
        self.events += other.events;
        self.widen(other.first, other.last);
    }

    fn all_rows(&self) -> Vec<Row> {
        let mut out = Vec::with_capacity(self.rows);
        for c in self.chunks.values() {
            out.extend(c.cols().rows());
        }
        out
    }

    /// The count of one action in one minute window (0 when it has none).
    pub fn count(&self, action: &str, minute: i64) -> u64 {
        match self.names.find(action) {
            Some(id) => self.count_of(id, minute),
            None => 0,
        }
    }

    fn count_of(&self, id: u32, minute: i64) -> u64 {
        let key = (minute, id);
        let Some((_, c)) = self.chunks.range(..=key).next_back() else {
            return 0;
        };
        let c = c.cols();
        let (mut lo, mut hi) = (0, c.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            match c.key(mid).cmp(&key) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return c.count[mid],
            }
        }
        0
    }

    /// Keeps only the rows whose minute start `keep` accepts and returns the
    /// number of events dropped. The event time range stays as it was.
    pub fn retain_minutes(&mut self, keep: impl Fn(i64) -> bool) -> u64 {
        let (kept, dropped): (Vec<Row>, Vec<Row>) = self.all_rows().into_iter().partition(|r| keep(r.0));
        let dropped: u64 = dropped.iter().map(|r| r.2).sum();
        self.chunks.clear();
        self.rows = 0;
        self.add_rows(&kept);
        self.events -= dropped;
        dropped
    }

    /// Number of events counted.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// Number of (action, minute) rows.
    pub fn len(&self) -> usize {
        self.rows
    }

    /// True when no event was counted.
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Earliest and latest event time (epoch seconds), if any event.
    pub fn time_range(&self) -> Option<(i64, i64)> {
        Some((self.first?, self.last?))
    }

    /// Every action seen, in the order first seen.
    pub fn actions(&self) -> &[Arc<str>] {
        &self.names.names
    }

    /// Every (action, minute start, count), sorted by minute, then action.
    pub fn rows(&self) -> Vec<(Arc<str>, i64, u64)> {
        let t = self.table();
        (0..t.len())
            .map(|i| (t.names[t.code[i] as usize].clone(), t.start[i], t.count[i]))
            .collect()
    }

    /// The first and last minute that has a row (reading only the first
    /// and last chunk).
    pub fn minute_bounds(&self) -> Option<(i64, i64)> {
        let first = *self.chunks.values().next()?.cols().minute.first()?;
        let last = *self.chunks.values().next_back()?.cols().minute.last()?;
        Some((first, last))
    }

    /// The whole state as a [`MinuteTable`].
    pub fn table(&self) -> MinuteTable {
        self.decode_all();
        self.table_in(i64::MIN, i64::MAX)
    }

    /// Decodes every chunk loaded from a checkpoint and not read yet, on
    /// two threads when there are many.
    fn decode_all(&self) {
        let stored: Vec<&Arc<Chunk>> = self.chunks.values().filter(|c| c.cols.get().is_none()).collect();
        if stored.len() < 64 {
            return;
        }
        let (a, b) = stored.split_at(stored.len() / 2);
        std::thread::scope(|s| {
            s.spawn(|| {
                a.iter().for_each(|c| {
                    c.cols();
                })
            });
            b.iter().for_each(|c| {
                c.cols();
            });
        });
    }

    /// The whole state as a [`MinuteTable`], letting go of each chunk once
    /// copied: the state and the table are not held whole at once.
    pub fn into_table(mut self) -> MinuteTable {
        let (mut t, rank) = self.empty_table(self.rows);
        for (_, chunk) in std::mem::take(&mut self.chunks) {
            push_rows(&mut t, &rank, chunk.cols(), i64::MIN, i64::MAX);
        }
        order_within_minutes(&mut t, &rank);
        t
    }

    /// The rows of minutes in `[lo, hi)` as a [`MinuteTable`] (with every
    /// action's name, so codes are the same as in [`MinuteCounts::table`]).
    pub fn table_in(&self, lo: i64, hi: i64) -> MinuteTable {
        let whole = lo == i64::MIN && hi == i64::MAX;
        let (mut t, rank) = self.empty_table(if whole { self.rows } else { 0 });
        let from = self
            .chunks
            .range(..=(lo, 0))
            .next_back()
            .map_or((i64::MIN, 0), |(k, _)| *k);
        for (first, c) in self.chunks.range(from..) {
            if first.0 >= hi {
                break;
            }
            push_rows(&mut t, &rank, c.cols(), lo, hi);
        }
        order_within_minutes(&mut t, &rank);
        t
    }

    /// A table with the action names sorted and room for `rows` rows, and
    /// each id's code (its name's rank).
    fn empty_table(&self, rows: usize) -> (MinuteTable, Vec<u32>) {
        let sorted = self.names.sorted();
        let rank = sorted.rank.clone();
        let t = MinuteTable {
            names: sorted.names.clone(),
            code: Vec::with_capacity(rows),
            start: Vec::with_capacity(rows),
            count: Vec::with_capacity(rows),
        };
        (t, rank)
    }
}

/// Appends a chunk's rows of minutes in `[lo, hi)`, ids as codes.
fn push_rows(t: &mut MinuteTable, rank: &[u32], c: &Cols, lo: i64, hi: i64) {
    let a = c.minute.partition_point(|&m| m < lo);
    let b = c.minute.partition_point(|&m| m < hi);
    t.start.extend_from_slice(&c.minute[a..b]);
    t.code.extend(c.id[a..b].iter().map(|&id| rank[id as usize]));
    t.count.extend_from_slice(&c.count[a..b]);
}

/// Within a minute, rows are in id order: puts them in code (name) order,
/// which is nothing to do when the ids were seen in name order.
fn order_within_minutes(t: &mut MinuteTable, rank: &[u32]) {
    if rank.iter().enumerate().all(|(id, &r)| id as u32 == r) {
        return;
    }
    let mut group: Vec<(u32, u64)> = Vec::new();
    let mut i = 0;
    while i < t.len() {
        let mut j = i + 1;
        while j < t.len() && t.start[j] == t.start[i] {
            j += 1;
        }
        if j - i == 2 && t.code[i] > t.code[i + 1] {
            t.code.swap(i, i + 1);
            t.count.swap(i, i + 1);
        } else if j - i > 2 {
            group.clear();
            group.extend((i..j).map(|k| (t.code[k], t.count[k])));
            group.sort_unstable();
            for (k, &(code, n)) in (i..j).zip(&group) {
                t.code[k] = code;
                t.count[k] = n;
            }
        }
        i = j;
    }
}

/// Minute counts as columns, sorted by minute, then action: the
/// `minute_counts` table, and the form every figure is computed from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MinuteTable {
    /// Action names, sorted; a code is an index into it, so codes sort like
    /// names.
    pub names: Vec<Arc<str>>,
    /// Action code of each row.
    pub code: Vec<u32>,
    /// Minute window start of each row, epoch seconds.
    pub start: Vec<i64>,
    /// Events of each row.
    pub count: Vec<u64>,
}

impl MinuteTable {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.start.len()
    }

    /// True when it has no row.
    pub fn is_empty(&self) -> bool {
        self.start.is_empty()
    }

    /// The code of an action, if it occurs.
    pub fn code_of(&self, action: &str) -> Option<u32> {
        self.names
            .binary_search_by(|n| (**n).cmp(action))
            .ok()
            .map(|c| c as u32)
    }

    /// The rows of minutes in `[lo, hi)`, with every action's name (so
    /// codes stay the same).
    pub fn slice_minutes(&self, lo: i64, hi: i64) -> MinuteTable {
        let a = self.start.partition_point(|&m| m < lo);
        let b = self.start.partition_point(|&m| m < hi).max(a);
        self.rows(a, b)
    }

    /// Rows `a..b`, with every action's name (so codes stay the same).
    pub fn rows(&self, a: usize, b: usize) -> MinuteTable {
        MinuteTable {
            names: self.names.clone(),
            code: self.code[a..b].to_vec(),
            start: self.start[a..b].to_vec(),
            count: self.count[a..b].to_vec(),
        }
    }

    /// Row `i` as (action, minute start, count).
    pub fn row(&self, i: usize) -> (&Arc<str>, i64, u64) {
        (&self.names[self.code[i] as usize], self.start[i], self.count[i])
    }

    /// The rows in order, as (action, minute start, count).
    pub fn iter(&self) -> impl Iterator<Item = (&Arc<str>, i64, u64)> + '_ {
        (0..self.len()).map(|i| self.row(i))
    }
}

/// Minutes in a [`Fold`]'s dense window.
const WINDOW: i64 = 2048;
/// Actions (in the order seen) that get a dense window; others go aside.
const DENSE_ACTIONS: usize = 8;

/// An accumulator of events, to be added to a [`MinuteCounts`] with
/// [`MinuteCounts::absorb`]. Its memory is bounded by a small window plus
/// the rows it holds.
#[derive(Debug, Clone)]
pub struct Fold {
    names: Names,
    /// Minute index (`t / 60`) of the window's first slot; `None` before
    /// the first event.
    base: Option<i64>,
    /// Per action with a dense window: its counts, a slot per minute.
    dense: Vec<Vec<u32>>,
    /// Events in a row that missed the window: many move it.
    misses: u32,
    /// Rows set aside or flushed from the window, not sorted yet.
    loose: Vec<Row>,
    /// Sorted, unique rows.
    sorted: Vec<Row>,
    events: u64,
    first: Option<i64>,
    last: Option<i64>,
}

impl Default for Fold {
    fn default() -> Self {
        Self::new()
    }
}

impl Fold {
    /// An empty fold.
    pub fn new() -> Self {
        Fold {
            names: Names::default(),
            base: None,
            dense: Vec::new(),
            misses: 0,
            loose: Vec::new(),
            sorted: Vec::new(),
            events: 0,
            first: None,
            last: None,
        }
    }

    /// Number of events added.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// Counts one event.
    #[inline]
    pub fn add(&mut self, time: i64, action: &str) {
        let id = self.names.id(action);
        self.events += 1;
        self.first = Some(self.first.map_or(time, |f| f.min(time)));
        self.last = Some(self.last.map_or(time, |l| l.max(time)));
        let m = time.div_euclid(60);
        if (id as usize) < DENSE_ACTIONS {
            while self.dense.len() <= id as usize {
                self.dense.push(vec![0; WINDOW as usize]);
            }
            if let Some(base) = self.base {
                let off = m - base;
                if (0..WINDOW).contains(&off) {
                    self.misses = 0;
                    self.bump(id, off as usize, m);
                    return;
                }
            }
            self.misses += 1;
            if self.base.is_none() || self.misses > 16 {
                // the events have moved on: flush the window, move it there
                self.flush();
                let base = m - WINDOW / 8;
                self.base = Some(base);
                self.misses = 0;
                self.bump(id, (m - base) as usize, m);
                return;
            }
        }
        self.loose.push((m * 60, id, 1));
        if self.loose.len() >= (1 << 16).max(self.sorted.len() / 2) {
            self.compact();
        }
    }

    #[inline]
    fn bump(&mut self, id: u32, off: usize, m: i64) {
        let slot = &mut self.dense[id as usize][off];
        if *slot == u32::MAX {
            self.loose.push((m * 60, id, u64::from(u32::MAX)));
            *slot = 0;
        }
        *slot += 1;
    }

    /// Moves the dense window's counts to the loose rows.
    fn flush(&mut self) {
        let Some(base) = self.base else { return };
        // minute by minute, so that the rows come out in key order
        for off in 0..WINDOW as usize {
            for (id, slots) in self.dense.iter_mut().enumerate() {
                let n = &mut slots[off];
                if *n > 0 {
                    self.loose.push(((base + off as i64) * 60, id as u32, u64::from(*n)));
                    *n = 0;
                }
            }
        }
    }

    /// Sorts the loose rows into the sorted ones.
    fn compact(&mut self) {
        let mut loose = std::mem::take(&mut self.loose);
        loose.sort_unstable_by_key(|r| (r.0, r.1));
        let sorted = std::mem::take(&mut self.sorted);
        let mut out: Vec<Row> = Vec::with_capacity(sorted.len() + loose.len());
        let (mut i, mut j) = (0, 0);
        while i < sorted.len() || j < loose.len() {
            let r = if j == loose.len() || (i < sorted.len() && (sorted[i].0, sorted[i].1) <= (loose[j].0, loose[j].1))
            {
                i += 1;
                sorted[i - 1]
            } else {
                j += 1;
                loose[j - 1]
            };
            match out.last_mut() {
                Some(last) if (last.0, last.1) == (r.0, r.1) => last.2 += r.2,
                _ => out.push(r),
            }
        }
        self.sorted = out;
        self.loose = loose;
        self.loose.clear();
    }

    /// Every row, sorted and unique; the fold is empty of rows afterwards.
    fn finish(&mut self) -> Vec<Row> {
        self.flush();
        self.base = None;
        self.compact();
        self.loose = Vec::new();
        std::mem::take(&mut self.sorted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minute_windows_are_floored_half_open() {
        assert_eq!(minute_of(59), 0);
        assert_eq!(minute_of(60), 60);
        assert_eq!(minute_of(119), 60);
        assert_eq!(minute_of(-1), -60);
    }

    #[test]
    fn retaining_minutes_drops_their_events_and_keeps_the_time_range() {
        let mut c = MinuteCounts::new();
        for (t, a) in [(0, "Open"), (30, "Open"), (61, "Close"), (125, "Open")] {
            c.add(t, a);
        }
        assert_eq!(c.retain_minutes(|m| m >= 60), 2);
        assert_eq!(c.events(), 2);
        assert_eq!(c.count("Open", 0), 0);
        assert_eq!((c.count("Close", 60), c.count("Open", 120)), (1, 1));
        assert_eq!(c.time_range(), Some((0, 125)));
    }

    #[test]
    fn merging_two_halves_equals_counting_everything() {
        let events = [
            (0, "Open"),
            (59, "Open"),
            (60, "Close"),
            (61, "Open"),
            (10, "Open"),
            (3600, "X"),
        ];
        let mut all = MinuteCounts::new();
        for (t, a) in events {
            all.add(t, a);
        }
        let (mut left, mut right) = (MinuteCounts::new(), MinuteCounts::new());
        for (i, (t, a)) in events.iter().enumerate() {
            if i % 2 == 0 {
                left.add(*t, a)
            } else {
                right.add(*t, a)
            }
        }
        left.merge(right);
        assert_eq!(left.rows(), all.rows());
        let all_rows = all.rows();
        let rows: Vec<(&str, i64, u64)> = all_rows.iter().map(|r| (&*r.0, r.1, r.2)).collect();
        assert_eq!(
            rows,
            vec![("Open", 0, 3), ("Close", 60, 1), ("Open", 60, 1), ("X", 3600, 1)]
        );
        assert_eq!(left.events(), 6);
        assert_eq!(left.time_range(), Some((0, 3600)));
    }

    /// A simple model: a sorted map of every row.
    fn model(events: &[(i64, String)]) -> Vec<(Arc<str>, i64, u64)> {
        let mut m: BTreeMap<(i64, String), u64> = BTreeMap::new();
        for (t, a) in events {
            *m.entry((minute_of(*t), a.clone())).or_default() += 1;
        }
        m.into_iter().map(|((t, a), n)| (Arc::from(a.as_str()), t, n)).collect()
    }

    #[test]
    fn folds_merges_and_chunk_splits_agree_with_a_sorted_map() {
        // times jumping about (far apart, backwards, dense stretches), many
        // actions, enough rows to split chunks many times
        let mut rng = 7u64;
        let mut next = || {
            rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            rng >> 33
        };
        let mut events = Vec::new();
        for i in 0..60_000i64 {
            let t = match next() % 10 {
                0 => (next() as i64 % 2_000_000_000) * 97 - 90_000_000_000,
                1 => -(next() as i64 % 100_000),
                _ => 1_469_500_000 + i * 7 + (next() % 50) as i64,
            };
            events.push((t, format!("a{}", next() % 12)));
        }
        let expected = model(&events);
        // one fold
        let mut fold = Fold::new();
        for (t, a) in &events {
            fold.add(*t, a);
        }
        let mut one = MinuteCounts::new();
        one.absorb(fold);
        assert_eq!(one.rows(), expected);
        assert_eq!(one.len(), expected.len());
        assert_eq!(one.events(), events.len() as u64);
        // small folds added one after another, as triggers do
        let mut many = MinuteCounts::new();
        for part in events.chunks(777) {
            let mut f = Fold::new();
            for (t, a) in part {
                f.add(*t, a);
            }
            many.absorb(f);
        }
        assert_eq!(many.rows(), expected);
        assert_eq!(many.len(), expected.len());
        // merges of large states
        let (mut left, mut right) = (MinuteCounts::new(), MinuteCounts::new());
        for (i, part) in events.chunks(5000).enumerate() {
            let mut f = Fold::new();
            for (t, a) in part {
                f.add(*t, a);
            }
            if i % 2 == 0 {
                left.absorb(f)
            } else {
                right.absorb(f)
            }
        }
        left.merge(right);
        assert_eq!(left.rows(), expected);
        assert!(many.chunks.values().all(|c| c.len <= CHUNK && c.len > 0));
        for (a, m, n) in expected.iter().step_by(97) {
            assert_eq!(many.count(a, *m), *n);
        }
        assert_eq!(many.count("a3", 17), 0);
        assert_eq!(many.count("nobody", expected[0].1), 0);
    }

    #[test]
    fn a_range_of_minutes_has_the_codes_of_the_whole_table() {
        let mut c = MinuteCounts::new();
        for (t, a) in [(0, "b"), (60, "a"), (60, "c"), (120, "b"), (7200, "a")] {
            c.add(t, a);
        }
        let all = c.table();
        assert_eq!(all.names.iter().map(|n| &**n).collect::<Vec<_>>(), ["a", "b", "c"]);
        assert_eq!(all.code, [1, 0, 2, 1, 0]);
        let part = c.table_in(60, 121);
        assert_eq!(
            (part.start.clone(), part.code.clone()),
            (vec![60, 60, 120], vec![0, 2, 1])
        );
        assert_eq!(part.names, all.names);
    }
}
