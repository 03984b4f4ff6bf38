//! The minute counts summed up per hour: what the charts over long
//! stretches and the page's long-table figures are made from.
//!
//! A chart over a year draws bins of a day or a week, never single
//! minutes, so it needs of each hour only the smallest, largest and summed
//! count of each action (and of the Open − Close difference), which is the
//! same whichever order the minutes are taken in. Where a bin edge or the
//! charted stretch cuts an hour, that hour's minute rows are read instead,
//! so every chart is exactly the one the minute rows give.
//!
//! `update` and `stream` keep the digest of their last report in the
//! checkpoint (`digest.idx`, beside the report ledger of
//! [`super::reuse`]) and bring it up to date by summing again only the
//! hours their triggers touched: a report after a new day reads that day's
//! rows, not the year's.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};

use super::series::{Binned, Binner, Bins, Bulk, Quantiles, Stretch};
use crate::checkpoint::SideFile;
use crate::codec;
use crate::metrics::{HOUR, MINUTE};
use crate::state::MinuteTable;

const TAG: &[u8] = b"windowpane chart digest";

/// The smallest, largest and summed value of some integers, and how many.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stat {
    /// How many values.
    pub n: u64,
    /// The smallest (`i64::MAX` when none).
    pub min: i64,
    /// The largest (`i64::MIN` when none).
    pub max: i64,
    /// Their sum.
    pub sum: i64,
}

impl Default for Stat {
    fn default() -> Self {
        Stat {
            n: 0,
            min: i64::MAX,
            max: i64::MIN,
            sum: 0,
        }
    }
}

impl Stat {
    fn add(&mut self, v: i64) {
        self.n += 1;
        self.min = self.min.min(v);
        self.max = self.max.max(v);
        self.sum = self.sum.saturating_add(v);
    }

    fn write(&self, w: &mut codec::Writer) {
        w.u64(self.n);
        if self.n > 0 {
            w.i64(self.min);
            w.i64(self.max);
            w.i64(self.sum);
        }
    }

    fn read(r: &mut codec::Reader) -> Result<Stat> {
        let n = r.u64()?;
        if n == 0 {
            return Ok(Stat::default());
        }
        Ok(Stat {
            n,
            min: r.i64()?,
            max: r.i64()?,
            sum: r.i64()?,
        })
    }

    /// Adds these values to bin `i` of `b`.
    fn into_bin(self, b: &mut Binner, i: usize) {
        if self.n > 0 {
            b.merge(i, self.min as f64, self.max as f64, self.sum as f64, self.n as i64);
        }
    }
}

/// One hour's minute rows, summed up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hour {
    /// The first minute with a row.
    pub first: i64,
    /// The last minute with a row.
    pub last: i64,
    /// Events of every action.
    pub events: u64,
    /// Rows (action, minute).
    pub rows: u64,
    /// Minutes with a row.
    pub minutes: u64,
    /// Moving-average grid minutes that the hour's minutes start before
    /// its last one: over each two successive minutes with a row, the
    /// smaller of the window and the minutes between them.
    pub grid: u64,
    /// Per action with a row (by name, sorted): its counts.
    pub counts: Vec<(Arc<str>, Stat)>,
    /// The alert actions' difference (open − close) per minute with a row
    /// of either.
    pub diff: Stat,
}

/// The minute counts summed up per hour with rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digest {
    window: usize,
    alert: (String, String),
    /// Hour start (epoch seconds) → its summary.
    pub hours: BTreeMap<i64, Hour>,
}

/// An hour as the charts take it: summed up when wholly inside the
/// charted stretch (with its bin), else its rows inside the stretch.
enum Piece<'a> {
    Whole(&'a Hour, usize),
    Part(MinuteTable),
}

/// Reads the minute rows of `[lo, hi)`.
pub type RowsIn<'a> = dyn Fn(i64, i64) -> MinuteTable + 'a;

fn hour_of(t: i64) -> i64 {
    t.div_euclid(HOUR) * HOUR
}

impl Digest {
    /// The digest of the rows of `t` (sorted by minute, as every minute
    /// table is), for a moving window of `window` minutes and the alert
    /// actions `alert`.
    pub fn of(t: &MinuteTable, window: usize, alert: &(String, String)) -> Digest {
        let mut d = Digest {
            window: window.max(1),
            alert: alert.clone(),
            hours: BTreeMap::new(),
        };
        d.add(t);
        d
    }

    /// Adds the hours of `t`, none of which it holds yet.
    fn add(&mut self, t: &MinuteTable) {
        let open = t.code_of(&self.alert.0);
        let close = t.code_of(&self.alert.1);
        let window = self.window as i64;
        // one slot per action, reset after each hour for the actions seen
        let mut stats = vec![Stat::default(); t.names.len()];
        let mut seen: Vec<u32> = Vec::new();
        let mut i = 0;
        while i < t.len() {
            let h = hour_of(t.start[i]);
            let mut hour = Hour {
                first: t.start[i],
                last: t.start[i],
                events: 0,
                rows: 0,
                minutes: 0,
                grid: 0,
                counts: Vec::new(),
                diff: Stat::default(),
            };
            let from = i;
            while i < t.len() && hour_of(t.start[i]) == h {
                let m = t.start[i];
                hour.minutes += 1;
                hour.grid += ((m - hour.last) / MINUTE).min(window) as u64;
                hour.last = m;
                while i < t.len() && t.start[i] == m {
                    let stat = &mut stats[t.code[i] as usize];
                    if stat.n == 0 {
                        seen.push(t.code[i]);
                    }
                    stat.add(t.count[i] as i64);
                    hour.events += t.count[i];
                    hour.rows += 1;
                    i += 1;
                }
            }
            for (_, o, c) in crate::metrics::open_close(t, from..i, open, close) {
                hour.diff.add(o - c);
            }
            // codes sort as the names do
            seen.sort_unstable();
            hour.counts = seen
                .drain(..)
                .map(|c| (t.names[c as usize].clone(), std::mem::take(&mut stats[c as usize])))
                .collect();
            self.hours.insert(h, hour);
        }
    }

    /// Sums up again the hours of `dirty` from the rows `rows` reads.
    pub fn refresh(&mut self, dirty: &BTreeSet<i64>, rows: &RowsIn) {
        for (from, to) in crate::metrics::hour_runs(dirty.iter().copied()) {
            let stale: Vec<i64> = self.hours.range(from..to).map(|(h, _)| *h).collect();
            for h in stale {
                self.hours.remove(&h);
            }
            self.add(&rows(from, to));
        }
    }

    /// Rows (action, minute) summed up.
    pub fn rows(&self) -> u64 {
        self.hours.values().map(|h| h.rows).sum()
    }

    /// Events summed up.
    pub fn events(&self) -> u64 {
        self.hours.values().map(|h| h.events).sum()
    }

    /// Minutes of the moving-average grid: from each minute with a row to
    /// the next, the smaller of the window and the minutes between them,
    /// and the last minute (see [`crate::metrics::moving_grid`]).
    pub fn grid_len(&self) -> u64 {
        let hours = self.grid_per_hour();
        hours.iter().map(|h| h.1).sum::<u64>() + u64::from(!hours.is_empty())
    }

    /// Each hour with rows and the grid minutes it adds: those from the
    /// last minute with a row before it to its first (at most the window),
    /// and those its own minutes start before its last one.
    fn grid_per_hour(&self) -> Vec<(i64, u64)> {
        let mut before: Option<i64> = None;
        self.hours
            .iter()
            .map(|(&h, hour)| {
                let gap = before.map_or(0, |last| ((hour.first - last) / MINUTE).min(self.window as i64) as u64);
                before = Some(hour.last);
                (h, gap + hour.grid)
            })
            .collect()
    }

    /// Stretches `[lo, hi)` that cut the timeline at hour boundaries into
    /// pieces of about `rows` rows of the moving average (its grid minutes
    /// times `actions`), from `i64::MIN` to `i64::MAX`: the long table
    /// made and written a piece at a time.
    pub fn pieces(&self, actions: usize, rows: u64) -> Vec<(i64, i64)> {
        let per_hour = self.grid_per_hour();
        crate::metrics::hour_pieces(per_hour.into_iter().map(|(h, g)| (h, g * actions.max(1) as u64)), rows)
    }

    /// The first hours holding at least `n` of `what` (rows or minutes),
    /// as the stretch `[first hour, end of the last one)`.
    pub fn head(&self, n: u64, what: fn(&Hour) -> u64) -> Option<(i64, i64)> {
        let first = *self.hours.keys().next()?;
        let mut seen = 0;
        for (&h, hour) in &self.hours {
            seen += what(hour);
            if seen >= n {
                return Some((first, h + HOUR));
            }
        }
        Some((first, self.hours.keys().next_back()? + HOUR))
    }

    /// The last hours holding at least `n` of `what`, as the stretch
    /// `[the first of them, end of the last hour)`.
    pub fn tail(&self, n: u64, what: fn(&Hour) -> u64) -> Option<(i64, i64)> {
        let end = self.hours.keys().next_back()? + HOUR;
        let mut seen = 0;
        for (&h, hour) in self.hours.iter().rev() {
            seen += what(hour);
            if seen >= n {
                return Some((h, end));
            }
        }
        Some((*self.hours.keys().next()?, end))
    }

    /// The charted stretch of the minute rows: exactly
    /// [`super::series::bulk`] of every row weighted by its count, reading
    /// only the hours where a quantile or the stretch's edge falls.
    pub fn bulk(&self, rows: &RowsIn) -> Option<Bulk> {
        let first = self.hours.values().next()?.first;
        let last = self.hours.values().next_back()?.last + MINUTE;
        let total: i64 = self.hours.values().map(|h| h.events as i64).sum();
        let mut q = Quantiles::new(total);
        'hours: for (&h, hour) in &self.hours {
            if !q.crosses(hour.events as i64) {
                q.skip(hour.events as i64);
                continue;
            }
            let t = rows(h, h + HOUR);
            for (&m, &n) in t.start.iter().zip(&t.count) {
                if q.add(m, n as i64) {
                    break 'hours;
                }
            }
        }
        let mut s = Stretch::around(q.rows(first, last - MINUTE), MINUTE);
        for (&h, hour) in &self.hours {
            if hour.last < s.from || hour.first >= s.to {
                s.outside(hour.events as i64);
            } else if hour.first >= s.from && hour.last < s.to {
                s.inside(hour.first, hour.last);
            } else {
                let t = rows(h, h + HOUR);
                for (&m, &n) in t.start.iter().zip(&t.count) {
                    s.add(m, n as i64);
                }
            }
        }
        Some(s.bulk(total, first, last))
    }

    /// Per action of `actions`, its minute counts in `span` binned over
    /// `bins` (bins of whole hours), as [`super::series::aggregate`] bins
    /// them.
    pub fn binned(&self, actions: &[String], bins: &Bins, span: (i64, i64), rows: &RowsIn) -> Vec<Binned> {
        let slot = |a: &str| actions.iter().position(|x| x == a);
        let mut out = vec![Binner::new(bins); actions.len()];
        self.each_hour(bins, span, rows, |piece| match piece {
            Piece::Whole(hour, i) => {
                for (a, s) in &hour.counts {
                    if let Some(k) = slot(a) {
                        s.into_bin(&mut out[k], i);
                    }
                }
            }
            Piece::Part(t) => {
                for (a, m, n) in t.iter() {
                    if let Some(k) = slot(a) {
                        out[k].add(bins, span, m, n as f64);
                    }
                }
            }
        });
        out.into_iter().map(|b| b.finish(bins, MINUTE, span)).collect()
    }

    /// The alert actions' difference per minute in `span`, binned over
    /// `bins` (bins of whole hours).
    pub fn diff_binned(&self, bins: &Bins, span: (i64, i64), rows: &RowsIn) -> Binned {
        let mut out = Binner::new(bins);
        self.each_hour(bins, span, rows, |piece| match piece {
            Piece::Whole(hour, i) => hour.diff.into_bin(&mut out, i),
            Piece::Part(t) => {
                for (m, d) in differences(&t, &self.alert) {
                    out.add(bins, span, m, d as f64);
                }
            }
        });
        out.finish(bins, MINUTE, span)
    }

    /// Hands `f` each hour wholly inside `span` with its bin, and the rows
    /// of each hour that `span` cuts.
    fn each_hour(&self, bins: &Bins, (lo, hi): (i64, i64), rows: &RowsIn, mut f: impl FnMut(Piece)) {
        debug_assert!(bins.width % HOUR == 0, "bins of whole hours");
        for (&h, hour) in self.hours.range(hour_of(lo)..) {
            if h >= hi {
                break;
            }
            if h >= lo && h + HOUR <= hi {
                if let Some(i) = bins.index(h) {
                    f(Piece::Whole(hour, i));
                }
            } else {
                f(Piece::Part(rows(h.max(lo), (h + HOUR).min(hi))));
            }
        }
    }

    /// Whether a digest saved with `saved` options at commit `at` serves a
    /// report made with `options` of a state at `commit`, whose triggers
    /// since `since` are known.
    pub fn fits(saved: &str, at: u64, options: &str, since: u64, commit: u64) -> bool {
        saved == options && (since..=commit).contains(&at)
    }

    /// Reads the digest saved in the checkpoint folder `dir`, unchecked:
    /// the options it was made with, its commit and the digest.
    pub fn read(dir: &Path) -> Option<(String, u64, Digest)> {
        Self::decode(&SideFile::ChartDigest.read(dir)?).ok()
    }

    /// Saves the digest of `commit`, made with `options`, in the checkpoint
    /// folder `dir`. No fsync: a digest lost in a crash only makes the next
    /// report sum up every hour again, and a torn one fails its checksum.
    pub fn save(&self, dir: &Path, options: &str, commit: u64) -> Result<()> {
        SideFile::ChartDigest.write(dir, &self.encode(options, commit))
    }

    fn encode(&self, options: &str, commit: u64) -> Vec<u8> {
        let mut w = codec::Writer::new();
        w.bytes(TAG);
        w.bytes(options.as_bytes());
        w.u64(commit);
        w.u64(self.window as u64);
        w.bytes(self.alert.0.as_bytes());
        w.bytes(self.alert.1.as_bytes());
        // the action names once, each hour naming them by number
        let names: BTreeSet<&Arc<str>> = self
            .hours
            .values()
            .flat_map(|h| h.counts.iter().map(|c| &c.0))
            .collect();
        let names: Vec<&Arc<str>> = names.into_iter().collect();
        w.u64(names.len() as u64);
        for n in &names {
            w.bytes(n.as_bytes());
        }
        w.u64(self.hours.len() as u64);
        let mut before = 0i64;
        for (&h, hour) in &self.hours {
            w.i64(h - before);
            before = h;
            w.i64(hour.first - h);
            w.i64(hour.last - h);
            w.u64(hour.events);
            w.u64(hour.rows);
            w.u64(hour.minutes);
            w.u64(hour.grid);
            w.u64(hour.counts.len() as u64);
            for (a, s) in &hour.counts {
                w.u64(names.binary_search(&a).unwrap_or_default() as u64);
                s.write(&mut w);
            }
            hour.diff.write(&mut w);
        }
        w.finish()
    }

    fn decode(bytes: &[u8]) -> Result<(String, u64, Digest)> {
        let mut r = codec::Reader::new(bytes)?;
        anyhow::ensure!(r.bytes()? == TAG, "not a chart digest");
        let text = |b: &[u8]| String::from_utf8(b.to_vec()).context("not UTF-8");
        let options = text(r.bytes()?)?;
        let commit = r.u64()?;
        let window = r.u64()? as usize;
        let alert = (text(r.bytes()?)?, text(r.bytes()?)?);
        let names: Vec<Arc<str>> = (0..r.count()?)
            .map(|_| Ok(Arc::from(text(r.bytes()?)?)))
            .collect::<Result<_>>()?;
        let mut hours = BTreeMap::new();
        let mut h = 0i64;
        for _ in 0..r.count()? {
            h = h.checked_add(r.i64()?).context("an hour out of range")?;
            let first = h + r.i64()?;
            let last = h + r.i64()?;
            let (events, rows, minutes, grid) = (r.u64()?, r.u64()?, r.u64()?, r.u64()?);
            let mut counts = Vec::new();
            for _ in 0..r.count()? {
                let name = names.get(r.u64()? as usize).context("an unknown action")?.clone();
                counts.push((name, Stat::read(&mut r)?));
            }
            let diff = Stat::read(&mut r)?;
            hours.insert(
                h,
                Hour {
                    first,
                    last,
                    events,
                    rows,
                    minutes,
                    grid,
                    counts,
                    diff,
                },
            );
        }
        anyhow::ensure!(r.is_done(), "bytes after the end");
        Ok((options, commit, Digest { window, alert, hours }))
    }
}

/// The alert actions' difference (open − close) of each minute of `t`
/// with a row of either, in minute order.
pub fn differences(t: &MinuteTable, (open, close): &(String, String)) -> Vec<(i64, i64)> {
    crate::metrics::open_close(t, 0..t.len(), t.code_of(open), t.code_of(close))
        .map(|(m, o, c)| (m, o - c))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A digest saved with `options`, read back when it serves a state at
    /// `commit` whose triggers since `since` are known, as a reuse takes it.
    fn load(dir: &Path, options: &str, since: u64, commit: u64) -> Option<(u64, Digest)> {
        let (saved, at, d) = Digest::read(dir)?;
        Digest::fits(&saved, at, options, since, commit).then_some((at, d))
    }
    use crate::output::series;
    use crate::state::MinuteCounts;
    use rand_pcg::rand_core::{Rng, SeedableRng};
    use rand_pcg::Pcg64;

    const T2016: i64 = 1_469_498_400; // 2016-07-26T02:00:00Z
    const ACTIONS: [&str; 4] = ["Open", "Close", "Zap", "Aa"];

    fn alert() -> (String, String) {
        ("Open".into(), "Close".into())
    }

    /// Events over `hours` hours in bursts and gaps: dense hours, sparse
    /// ones, empty stretches, a far stray.
    fn table(seed: u64, hours: i64) -> MinuteTable {
        let mut rng = Pcg64::seed_from_u64(seed);
        let mut counts = MinuteCounts::new();
        let mut t = T2016 + (rng.next_u64() % 3600) as i64;
        let end = T2016 + hours * HOUR;
        let actions = 1 + (rng.next_u64() % ACTIONS.len() as u64) as usize;
        while t < end {
            let burst = rng.next_u64() % 4 == 0;
            let step = if burst {
                1 + rng.next_u64() % 50
            } else {
                1 + rng.next_u64() % 9000
            };
            t += step as i64;
            counts.add(t, ACTIONS[(rng.next_u64() % actions as u64) as usize]);
        }
        if seed.is_multiple_of(3) {
            counts.add(0, "Open");
        }
        counts.table()
    }

    fn rows_of(t: &MinuteTable) -> impl Fn(i64, i64) -> MinuteTable + '_ {
        move |lo, hi| t.slice_minutes(lo, hi)
    }

    /// The rows of `action` as (times, values).
    fn series_of(t: &MinuteTable, action: &str) -> (Vec<i64>, Vec<f64>) {
        t.iter()
            .filter(|(a, _, _)| &***a == action)
            .map(|(_, m, n)| (m, n as f64))
            .unzip()
    }

    fn same(a: &Binned, b: &Binned) -> bool {
        format!("{a:?}") == format!("{b:?}")
    }

    #[test]
    fn sums_per_hour_give_what_the_rows_give() {
        for seed in 0..24 {
            let t = table(seed, 20 + (seed as i64 * 37) % 400);
            let rows = rows_of(&t);
            let d = Digest::of(&t, 30, &alert());
            // the charted stretch
            let weights: Vec<i64> = t.count.iter().map(|&c| c as i64).collect();
            let want = series::bulk(&t.start, &weights, MINUTE).unwrap();
            let bulk = d.bulk(&rows).unwrap();
            assert_eq!(bulk, want, "seed {seed}");
            // bins of hours and of days, over the stretch and over spans
            // that cut hours
            let mut rng = Pcg64::seed_from_u64(seed + 100);
            for max in [30, 200, 1000] {
                let bins = Bins::over(bulk.start, bulk.end, MINUTE, max);
                if bins.width < HOUR {
                    continue;
                }
                let cut = |rng: &mut Pcg64| bulk.start + (rng.next_u64() % 7200) as i64;
                for span in [
                    (bulk.start, bulk.end),
                    (cut(&mut rng), bulk.end - (rng.next_u64() % 5000) as i64),
                ] {
                    let names: Vec<String> = t.names.iter().map(|n| n.to_string()).collect();
                    let got = d.binned(&names, &bins, span, &rows);
                    for (name, got) in names.iter().zip(&got) {
                        let (times, values) = series_of(&t, name);
                        let want = series::aggregate(&times, &values, &bins, MINUTE, span);
                        assert!(same(got, &want), "seed {seed}, {name}, {bins:?}, {span:?}");
                    }
                    let (times, values): (Vec<i64>, Vec<f64>) = differences(&t, &alert())
                        .into_iter()
                        .map(|(m, d)| (m, d as f64))
                        .unzip();
                    let want = series::aggregate(&times, &values, &bins, MINUTE, span);
                    assert!(
                        same(&d.diff_binned(&bins, span, &rows), &want),
                        "seed {seed}, difference"
                    );
                }
            }
        }
    }

    #[test]
    fn the_grid_length_is_the_moving_grids() {
        for seed in 0..12 {
            let t = table(seed, 300);
            let mut minutes = t.start.clone();
            minutes.dedup();
            for window in [1, 3, 30, 90] {
                let d = Digest::of(&t, window, &alert());
                let want = crate::metrics::moving_grid(&minutes, window).len() as u64;
                assert_eq!(d.grid_len(), want, "seed {seed}, window {window}");
            }
        }
    }

    #[test]
    fn hours_summed_again_give_the_digest_of_every_row() {
        for seed in 0..12 {
            let t = table(seed, 200);
            let whole = Digest::of(&t, 30, &alert());
            // an older state: some hours held fewer rows, or none
            let mut rng = Pcg64::seed_from_u64(seed);
            let hours: Vec<i64> = whole.hours.keys().copied().collect();
            let dirty: BTreeSet<i64> = hours
                .iter()
                .copied()
                .filter(|_| rng.next_u64() % 4 == 0)
                .chain([hours[hours.len() - 1] + HOUR])
                .collect();
            let older = MinuteTable {
                names: t.names.clone(),
                ..Default::default()
            };
            let mut older = older;
            for i in 0..t.len() {
                if !dirty.contains(&hour_of(t.start[i])) || rng.next_u64() % 2 == 0 {
                    older.code.push(t.code[i]);
                    older.start.push(t.start[i]);
                    older.count.push(t.count[i]);
                }
            }
            let mut d = Digest::of(&older, 30, &alert());
            d.refresh(&dirty, &rows_of(&t));
            assert_eq!(d, whole, "seed {seed}");
        }
    }

    #[test]
    fn a_saved_digest_reads_back_for_its_options_and_commits_only() {
        let dir = tempfile::tempdir().unwrap();
        let d = Digest::of(&table(7, 100), 30, &alert());
        d.save(dir.path(), "options", 5).unwrap();
        assert_eq!(load(dir.path(), "options", 3, 9), Some((5, d.clone())));
        assert_eq!(load(dir.path(), "other options", 3, 9), None);
        // a commit before the stream's first trigger of this run, or after
        // the state's
        assert_eq!(load(dir.path(), "options", 6, 9), None);
        assert_eq!(load(dir.path(), "options", 0, 4), None);
        // a damaged file is not read
        let path = dir.path().join(SideFile::ChartDigest.name());
        let mut bytes = std::fs::read(&path).unwrap();
        let middle = bytes.len() / 2;
        bytes[middle] ^= 1;
        std::fs::write(&path, bytes).unwrap();
        assert_eq!(load(dir.path(), "options", 3, 9), None);
    }

    #[test]
    fn head_and_tail_cover_the_first_and_last_rows() {
        let t = table(5, 100);
        let d = Digest::of(&t, 30, &alert());
        let (a, b) = d.head(8, |h| h.rows).unwrap();
        let first = t.slice_minutes(a, b);
        assert!(first.len() >= 8);
        assert_eq!(first.rows(0, 8), t.rows(0, 8));
        let (c, e) = d.tail(8, |h| h.rows).unwrap();
        let last = t.slice_minutes(c, e);
        assert_eq!(last.rows(last.len() - 8, last.len()), t.rows(t.len() - 8, t.len()));
    }
}
