//! The one definition of every figure (see the metrics contract in the
//! README): Polars lazy plans over the minute counts of a [`MinuteTable`].
//!
//! Batch runs them once over the whole table; streaming runs the same
//! plans over the rows of the minutes and hours a trigger changed, and
//! keeps the results (see `engine::stream`). Nothing here is sized by the
//! time span of the data: windows are keys computed from the rows, and the
//! moving average covers only the minutes whose trailing window holds an
//! event.

use std::sync::{Arc, OnceLock};

use anyhow::{bail, Result};
use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::state::{MinuteCounts, MinuteTable};

/// Seconds in a minute window.
pub const MINUTE: i64 = 60;
/// Seconds in an hour window.
pub const HOUR: i64 = 3600;
/// The longest moving-average window, in minutes (a week).
pub const MAX_MOVING_WINDOW: usize = 7 * 24 * 60;
/// The most rows the moving-average table may have.
const MAX_MOVING_ROWS: usize = 200_000_000;
/// The most rows of the moving average made whole in memory (a `sql`
/// view; about 60 bytes a row as a frame): the report makes it a piece at
/// a time, whatever its length.
const MAX_WHOLE_MOVING_ROWS: usize = 50_000_000;

/// `n` with its thousands grouped.
fn thousands(n: usize) -> String {
    crate::text::thousands(n as i64)
}

/// What the figures depend on besides the data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// An alert needs `|open - close|` strictly greater than this.
    pub alert_threshold: i64,
    /// The two actions compared by the alerts (`Open`, `Close`).
    pub alert_actions: (String, String),
    /// Minutes in the trailing moving-average window (30).
    pub moving_window: usize,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            alert_threshold: 20,
            alert_actions: ("Open".into(), "Close".into()),
            moving_window: 30,
        }
    }
}

/// A count of one action in one window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Count {
    /// The action.
    pub action: Arc<str>,
    /// Window start, epoch seconds.
    pub window_start: i64,
    /// Window end (exclusive), epoch seconds.
    pub window_end: i64,
    /// Events in the window.
    pub count: i64,
}

/// The hourly average of one hour window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HourAverage {
    /// Hour start, epoch seconds.
    pub window_start: i64,
    /// Hour end (exclusive), epoch seconds.
    pub window_end: i64,
    /// Mean over the hour's minutes of the mean count over actions.
    pub average: f64,
}

/// A minute where the two alert actions differ by more than the threshold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    /// Minute start, epoch seconds.
    pub window_start: i64,
    /// Minute end (exclusive), epoch seconds.
    pub window_end: i64,
    /// Count of the first alert action (0 when absent).
    pub open: i64,
    /// Count of the second alert action (0 when absent).
    pub close: i64,
    /// `open - close`, signed.
    pub difference: i64,
}

impl Alert {
    /// The alert row of the minute that starts at `minute`, with the
    /// counts of the two alert actions; `None` when its end or difference
    /// would not fit (only numbers read from a damaged file are so large).
    pub fn of(minute: i64, open: i64, close: i64) -> Option<Alert> {
        Some(Alert {
            window_start: minute,
            window_end: minute.checked_add(MINUTE)?,
            open,
            close,
            difference: open.checked_sub(close)?,
        })
    }
}

/// One row of the moving-average table.
#[derive(Debug, Clone, PartialEq)]
pub struct Moving {
    /// The action.
    pub action: Arc<str>,
    /// Minute start, epoch seconds.
    pub window_start: i64,
    /// That minute's count (0 when the action had no event).
    pub count: i64,
    /// Mean of the trailing window's counts.
    pub moving_average: f64,
    /// Sample variance of the trailing window's counts; `None` for one minute.
    pub moving_variance: Option<f64>,
}

/// Exact sums of the minute counts, from which their sample variance is
/// computed with a single rounding. Streaming keeps them as counts change.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sums {
    /// Number of (action, minute) rows.
    pub n: u64,
    /// Sum of their counts.
    pub s: u128,
    /// Sum of their squared counts.
    pub ss: u128,
}

impl Sums {
    /// The sums of `counts`.
    pub fn of(counts: &[u64]) -> Self {
        let mut sums = Sums::default();
        counts.iter().for_each(|&c| sums.change(0, c));
        sums
    }

    /// A row's count changes from `old` to `new` (0 is no row).
    pub fn change(&mut self, old: u64, new: u64) {
        match (old, new) {
            (0, 0) => return,
            (0, _) => self.n += 1,
            (_, 0) => self.n -= 1,
            _ => {}
        }
        let (old, new) = (u128::from(old), u128::from(new));
        self.s = self.s + new - old;
        self.ss = self.ss + new * new - old * old;
    }

    /// The sample variance (n - 1); `None` below two rows.
    pub fn variance(&self) -> Option<f64> {
        if self.n < 2 {
            return None;
        }
        let n = u128::from(self.n);
        let denominator = (n * (n - 1)) as f64;
        // n·ss − s² is exact while it fits; past that, in floating point
        match n.checked_mul(self.ss).zip(self.s.checked_mul(self.s)) {
            Some((a, b)) => Some(a.saturating_sub(b) as f64 / denominator),
            None => {
                let (n, s, ss) = (n as f64, self.s as f64, self.ss as f64);
                Some(((n * ss - s * s) / denominator).max(0.0))
            }
        }
    }
}

/// Every figure of the contract.
#[derive(Debug, Clone, Default)]
pub struct Figures {
    /// Per (action, minute) with events, by minute then action: see
    /// [`Figures::minute_counts`].
    minute_counts: OnceLock<MinuteTable>,
    /// The state the minute table is read from when first asked for
    /// (figures kept by a stream), with its number of rows.
    state: Option<MinuteCounts>,
    /// Per (action, hour) with events, by hour then action.
    pub hourly_counts: Vec<Count>,
    /// Per action, by action name.
    pub totals: Vec<(String, i64)>,
    /// Per hour with events, by hour.
    pub hourly_average: Vec<HourAverage>,
    /// The largest hourly average, earliest on ties.
    pub peak_hour: Option<HourAverage>,
    /// Alert minutes, by minute.
    pub alerts: Vec<Alert>,
    /// Sample variance of the minute counts; `None` with fewer than 2 rows.
    pub variance: Option<f64>,
    /// Minutes in the moving-average window.
    pub moving_window: usize,
    /// The moving average, made when first asked for.
    moving: OnceLock<DataFrame>,
}

impl PartialEq for Figures {
    /// Equal figures; the moving average is derived from the minute counts
    /// and the window, which are compared.
    fn eq(&self, other: &Self) -> bool {
        self.minute_counts() == other.minute_counts()
            && self.hourly_counts == other.hourly_counts
            && self.totals == other.totals
            && self.hourly_average == other.hourly_average
            && self.peak_hour == other.peak_hour
            && self.alerts == other.alerts
            && self.variance.map(f64::to_bits) == other.variance.map(f64::to_bits)
            && self.moving_window == other.moving_window
    }
}

impl Figures {
    /// The largest hourly count.
    pub fn hourly_count_max(&self) -> Option<i64> {
        self.hourly_counts.iter().map(|c| c.count).max()
    }

    /// The smallest hourly count.
    pub fn hourly_count_min(&self) -> Option<i64> {
        self.hourly_counts.iter().map(|c| c.count).min()
    }

    /// Per (action, minute) with events, by minute then action. Figures
    /// kept by a stream read it from their state on the first call, so that
    /// a run that needs only the summary reads no more of the state than it
    /// changed.
    pub fn minute_counts(&self) -> &MinuteTable {
        self.minute_counts
            .get_or_init(|| self.state.as_ref().map(MinuteCounts::table).unwrap_or_default())
    }

    /// The number of rows of [`Figures::minute_counts`], without reading
    /// them.
    pub fn minute_len(&self) -> usize {
        match (self.minute_counts.get(), &self.state) {
            (Some(t), _) => t.len(),
            (None, Some(state)) => state.len(),
            (None, None) => 0,
        }
    }

    /// The minute counts as rows (for small uses: the table is columnar).
    pub fn minute_rows(&self) -> Vec<Count> {
        minute_rows(self.minute_counts())
    }

    /// The moving average as rows (for small uses and tests).
    pub fn moving_rows(&self) -> Result<Vec<Moving>> {
        let df = self.moving_average()?;
        let (a, s, c, m, v) = (
            df.column("action")?.u32()?,
            df.column("window_start")?.i64()?,
            df.column("count")?.i64()?,
            df.column("moving_average")?.f64()?,
            df.column("moving_variance")?.f64()?,
        );
        Ok((0..df.height())
            .map(|i| Moving {
                action: self.minute_counts().names[a.get(i).unwrap_or(0) as usize].clone(),
                window_start: s.get(i).unwrap_or(0),
                count: c.get(i).unwrap_or(0),
                moving_average: m.get(i).unwrap_or(f64::NAN),
                moving_variance: v.get(i),
            })
            .collect())
    }

    /// Figures from parts kept elsewhere (a stream keeps them as it goes).
    #[allow(clippy::too_many_arguments)]
    pub fn from_parts(
        state: MinuteCounts,
        hourly_counts: Vec<Count>,
        totals: Vec<(String, i64)>,
        hourly_average: Vec<HourAverage>,
        alerts: Vec<Alert>,
        variance: Option<f64>,
        moving_window: usize,
    ) -> Self {
        Figures {
            peak_hour: peak_hour(&hourly_average),
            minute_counts: OnceLock::new(),
            state: Some(state),
            hourly_counts,
            totals,
            hourly_average,
            alerts,
            variance,
            moving_window,
            moving: OnceLock::new(),
        }
    }

    /// The minute rows of minutes in `[lo, hi)` (all action names kept,
    /// so codes are those of [`Figures::minute_counts`]), read from the
    /// state's chunks of that range when the whole table was not made.
    pub fn minutes_in(&self, lo: i64, hi: i64) -> MinuteTable {
        match (self.minute_counts.get(), &self.state) {
            (None, Some(state)) => state.table_in(lo, hi),
            _ => self.minute_counts().slice_minutes(lo, hi),
        }
    }

    /// The action names, sorted (their codes are the positions).
    pub fn action_names(&self) -> Vec<Arc<str>> {
        self.minutes_in(i64::MIN, i64::MIN).names
    }

    /// The first and last minute with events.
    pub fn minute_bounds(&self) -> Option<(i64, i64)> {
        match (self.minute_counts.get(), &self.state) {
            (None, Some(state)) => state.minute_bounds(),
            _ => {
                let t = self.minute_counts();
                t.start.first().copied().zip(t.start.last().copied())
            }
        }
    }

    /// The rows of [`Figures::moving_average`] with a `window_start` in
    /// `[lo, hi)`, computed from the minutes they depend on only (the
    /// whole table when it was made already).
    pub fn moving_between(&self, lo: i64, hi: i64) -> Result<DataFrame> {
        if let Some(df) = self.moving.get() {
            return starting_within(df.clone(), (lo, hi));
        }
        let Some(bounds) = self.minute_bounds() else {
            return moving_average(&MinuteTable::default(), self.moving_window);
        };
        moving_average_between(|a, b| self.minutes_in(a, b), self.moving_window, bounds, (lo, hi))
    }

    /// The rows of the moving average with a `window_start` in `[lo, hi)`,
    /// computed from the minutes they depend on only, as columns.
    pub fn moving_piece(&self, lo: i64, hi: i64) -> Result<MovingTable> {
        self.moving_piece_of(lo, hi, None)
    }

    /// [`Figures::moving_piece`] of the actions of the codes `only` (into
    /// [`Figures::action_names`]), or of every action.
    pub fn moving_piece_of(&self, lo: i64, hi: i64, only: Option<&[u32]>) -> Result<MovingTable> {
        let Some(bounds) = self.minute_bounds() else {
            let codes: Vec<u32> = match only {
                Some(c) => c.to_vec(),
                None => (0..self.action_names().len() as u32).collect(),
            };
            return Ok(MovingTable {
                actions: codes.len(),
                codes,
                ..Default::default()
            });
        };
        moving_table_between(|a, b| self.minutes_in(a, b), self.moving_window, bounds, (lo, hi), only)
    }

    /// Stretches `[lo, hi)` cut at hour boundaries, from `i64::MIN` to
    /// `i64::MAX`, each holding about `rows` rows of the moving average
    /// (its grid minutes times the actions): the table made a piece at a
    /// time.
    pub fn moving_pieces(&self, rows: u64) -> Vec<(i64, i64)> {
        let t = self.minute_counts();
        let actions = t.names.len().max(1) as u64;
        // per hour with rows, the grid minutes from the minute with a row
        // before each of its own (at most the window)
        let mut per_hour: Vec<(i64, u64)> = Vec::new();
        let mut before = None::<i64>;
        for &m in &t.start {
            if before == Some(m) {
                continue;
            }
            let grid = before.map_or(1, |b| ((m - b) / MINUTE).min(self.moving_window as i64) as u64);
            before = Some(m);
            let hour = m.div_euclid(HOUR) * HOUR;
            match per_hour.last_mut() {
                Some((h, n)) if *h == hour => *n += grid * actions,
                _ => per_hour.push((hour, grid * actions)),
            }
        }
        hour_pieces(per_hour, rows)
    }

    /// The moving average and variance, per minute then action: a frame of
    /// `action` (code into `minute_counts.names`), `window_start` (epoch
    /// seconds), `count`, `moving_average` and `moving_variance`. Computed
    /// on the first call.
    pub fn moving_average(&self) -> Result<&DataFrame> {
        if let Some(df) = self.moving.get() {
            return Ok(df);
        }
        let t = self.minute_counts();
        let mut distinct = t.start.clone();
        distinct.dedup();
        let minutes = moving_grid(&distinct, self.moving_window).len();
        let rows = minutes.saturating_mul(t.names.len());
        if rows > MAX_WHOLE_MOVING_ROWS {
            bail!(
                "the moving average has {} rows ({} grid minutes × {} actions), more than windowpane holds in \
                 memory at once ({}); the report writes it a piece at a time (tables/moving_average.csv or \
                 .parquet of windowpane batch), and the view minute_counts holds the counts it is made of",
                thousands(rows),
                thousands(minutes),
                thousands(t.names.len()),
                thousands(MAX_WHOLE_MOVING_ROWS)
            );
        }
        let df = moving_average(t, self.moving_window)?;
        Ok(self.moving.get_or_init(|| df))
    }
}

/// Cuts the timeline at hour boundaries into stretches `[lo, hi)` from
/// `i64::MIN` to `i64::MAX`, each holding about `rows` rows: `hours` are
/// the hours with rows, in order, and how many each holds.
pub fn hour_pieces(hours: impl IntoIterator<Item = (i64, u64)>, rows: u64) -> Vec<(i64, i64)> {
    let mut out = Vec::new();
    let (mut lo, mut held) = (i64::MIN, 0u64);
    for (h, n) in hours {
        held += n;
        if held >= rows {
            out.push((lo, h + HOUR));
            (lo, held) = (h + HOUR, 0);
        }
    }
    out.push((lo, i64::MAX));
    out
}

/// A minute table's rows as [`Count`]s.
pub fn minute_rows(t: &MinuteTable) -> Vec<Count> {
    t.iter()
        .map(|(a, m, c)| Count {
            action: a.clone(),
            window_start: m,
            window_end: m + MINUTE,
            count: c as i64,
        })
        .collect()
}

/// The minute rows as a frame: `action` (code), `window_start` (epoch
/// seconds), `hour` (the start of its hour window), `count`, in the table's
/// order (by minute, then action): what the plans the tests hold the
/// one-pass figures to read.
#[cfg(test)]
fn minute_frame(t: &MinuteTable) -> PolarsResult<DataFrame> {
    minute_frame_in(t, 0..t.len())
}

/// [`minute_frame`] of the rows `rows` of the table.
#[cfg(test)]
fn minute_frame_in(t: &MinuteTable, rows: std::ops::Range<usize>) -> PolarsResult<DataFrame> {
    // the rows are in minute order, so in hour order too: Polars groups
    // sorted keys by slicing them instead of hashing
    let sorted = |name: &str, values: Vec<i64>| {
        let mut s = Series::new(name.into(), values);
        s.set_sorted_flag(polars::series::IsSorted::Ascending);
        Column::from(s)
    };
    let start = &t.start[rows.clone()];
    DataFrame::new_infer_height(vec![
        Column::new("action".into(), &t.code[rows.clone()]),
        sorted("window_start", start.to_vec()),
        sorted("hour", start.iter().map(|s| s.div_euclid(HOUR) * HOUR).collect()),
        Column::new(
            "count".into(),
            t.count[rows].iter().map(|&c| c as i64).collect::<Vec<i64>>(),
        ),
    ])
}

/// Rows the hourly figures take at a time: every figure but the moving
/// average is a sum or mean within an hour, so the table is taken an
/// hour-aligned slice at a time, and the memory of the hourly average's
/// plan follows the slice, not the data.
const SLICE_ROWS: usize = 1 << 17;

/// Ranges of about `size` rows of sorted minute starts that never split an
/// hour.
fn hour_slices(start: &[i64], size: usize) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut lo = 0;
    while lo < start.len() {
        let mut hi = (lo + size.max(1)).min(start.len());
        if hi < start.len() {
            let hour = start[hi].div_euclid(HOUR);
            hi += start[hi..].partition_point(|s| s.div_euclid(HOUR) == hour);
        }
        out.push(lo..hi);
        lo = hi;
    }
    out
}

/// Counts per (action, hour) and the hourly average, for every hour that
/// has rows among rows `rows` of a minute table (for an hour's figures,
/// every row of that hour must be among them).
///
/// The counts are integer sums, taken in one pass over the rows (they are
/// in minute order, so in hour order); so is each minute's mean over the
/// actions present, an exact sum and one correctly rounded division. The
/// hourly average, a mean of those floats, is a Polars plan, so that its
/// sums are always taken in the same order. Unit tests hold all of it bit
/// for bit to the same figures as Polars plans over the rows.
pub fn hourly(t: &MinuteTable, rows: std::ops::Range<usize>) -> Result<(Vec<Count>, Vec<HourAverage>)> {
    let mut counts = Vec::new();
    let (mut hours, mut means) = (Vec::new(), Vec::new());
    // per action code, its count in the hour so far; the codes seen in it
    let mut by_code = vec![0i64; t.names.len()];
    let mut seen: Vec<u32> = Vec::new();
    let mut i = rows.start;
    while i < rows.end {
        let hour = t.start[i].div_euclid(HOUR) * HOUR;
        while i < rows.end && t.start[i].div_euclid(HOUR) * HOUR == hour {
            let minute = t.start[i];
            let (mut sum, mut n) = (0i128, 0u64);
            while i < rows.end && t.start[i] == minute {
                let (code, count) = (t.code[i], t.count[i] as i64);
                if by_code[code as usize] == 0 {
                    seen.push(code);
                }
                by_code[code as usize] += count;
                sum += i128::from(count);
                n += 1;
                i += 1;
            }
            hours.push(hour);
            means.push(sum as f64 / n as f64);
        }
        seen.sort_unstable();
        for &code in &seen {
            counts.push(Count {
                action: t.names[code as usize].clone(),
                window_start: hour,
                window_end: hour + HOUR,
                count: std::mem::take(&mut by_code[code as usize]),
            });
        }
        seen.clear();
    }
    let mut hour = Series::new("hour".into(), hours);
    hour.set_sorted_flag(polars::series::IsSorted::Ascending);
    // Polars' own grouped mean, without building and optimising a plan
    // (which costs a trigger of one new file more than its rows)
    #[allow(deprecated)]
    let mut averages = DataFrame::new_infer_height(vec![Column::from(hour), Column::new("minute_mean".into(), means)])?
        .group_by_stable(["hour"])?
        .select(["minute_mean"])
        .mean()?;
    averages.set_column_names(&["window_start", "average"])?;
    let averages = hour_averages(&averages)?;
    Ok((counts, averages))
}

/// The rows of a frame of `window_start` (hour) and `average`.
fn hour_averages(df: &DataFrame) -> Result<Vec<HourAverage>> {
    Ok(ints(df, "window_start")?
        .into_iter()
        .zip(floats(df, "average")?)
        .map(|(s, a)| HourAverage {
            window_start: s,
            window_end: s + HOUR,
            average: a.unwrap_or(f64::NAN),
        })
        .collect())
}

/// [`alerts_in`] over a whole table, with the alert actions and threshold
/// of `opts`.
pub fn alerts_of(t: &MinuteTable, opts: &Options) -> Vec<Alert> {
    let (open, close) = &opts.alert_actions;
    alerts_in(t, 0..t.len(), t.code_of(open), t.code_of(close), opts.alert_threshold)
}

/// Events per action, by action name: integer sums in one pass (a unit
/// test holds them to a Polars plan's).
pub fn totals(t: &MinuteTable) -> Vec<(String, i64)> {
    let mut by_code = vec![0i64; t.names.len()];
    for (&code, &count) in t.code.iter().zip(&t.count) {
        by_code[code as usize] += count as i64;
    }
    // codes sort like names
    t.names
        .iter()
        .zip(by_code)
        .filter(|(_, n)| *n > 0)
        .map(|(a, n)| (a.to_string(), n))
        .collect()
}

/// The plans the one-pass figures are held to: hourly counts and averages
/// and totals, grouped by Polars over a [`minute_frame`].
#[cfg(test)]
#[allow(clippy::type_complexity)]
fn hourly_and_totals_plans(
    frame: &DataFrame,
    names: &[Arc<str>],
) -> Result<(Vec<Count>, Vec<HourAverage>, Vec<(String, i64)>)> {
    let counts = frame
        .clone()
        .lazy()
        .group_by([col("hour").alias("window_start"), col("action")])
        .agg([col("count").sum()])
        .sort(["window_start", "action"], SortMultipleOptions::default())
        .collect()?;
    let averages = frame
        .clone()
        .lazy()
        .with_column(col("count").cast(DataType::Float64).alias("count"))
        .group_by_stable([col("window_start")])
        .agg([col("hour").first(), col("count").mean().alias("minute_mean")])
        .group_by_stable([col("hour").alias("window_start")])
        .agg([col("minute_mean").mean().alias("average")])
        .collect()?;
    let totals = frame
        .clone()
        .lazy()
        .group_by([col("action")])
        .agg([col("count").sum()])
        .sort(["action"], SortMultipleOptions::default())
        .collect()?;
    let averages = hour_averages(&averages)?;
    let totals = codes(&totals, names)?
        .into_iter()
        .map(|a| a.to_string())
        .zip(ints(&totals, "count")?)
        .collect();
    Ok((counts_of(&counts, names, HOUR)?, averages, totals))
}

/// Minute windows of `frame` (a [`minute_frame`]) where the counts of the
/// two alert actions (codes; `None` when the action never occurs) differ by
/// more than `threshold`, as a plan: the oracle the tests hold
/// [`alerts_in`] to.
#[cfg(test)]
fn alerts_plan(frame: &DataFrame, open: Option<u32>, close: Option<u32>, threshold: i64) -> Result<Vec<Alert>> {
    // an action that never occurs gets a code no row has
    let code = |c: Option<u32>| lit(c.unwrap_or(u32::MAX));
    let of = |c: Option<u32>| when(col("action").eq(code(c))).then(col("count")).otherwise(lit(0i64));
    let rows = frame
        .clone()
        .lazy()
        .filter(col("action").eq(code(open)).or(col("action").eq(code(close))))
        .with_columns([of(open).alias("open"), of(close).alias("close")])
        .group_by_stable([col("window_start")])
        .agg([col("open").sum(), col("close").sum()])
        .with_column((col("open") - col("close")).alias("difference"))
        .filter(col("difference").abs().gt(lit(threshold)))
        .collect()?;
    let (s, o, c, d) = (
        ints(&rows, "window_start")?,
        ints(&rows, "open")?,
        ints(&rows, "close")?,
        ints(&rows, "difference")?,
    );
    Ok((0..s.len())
        .map(|i| {
            let a = Alert::of(s[i], o[i], c[i]).expect("an event's minute and counts fit");
            debug_assert_eq!(a.difference, d[i]);
            a
        })
        .collect())
}

/// Minute windows among rows `rows` of a minute table where the counts of
/// the two alert actions (codes; `None` when the action never occurs)
/// differ by more than `threshold`: a minute counts when it has a row of
/// either action. Integer sums in one pass over the rows; a grouping plan
/// would cost a slice per minute. A unit test holds it equal to the same
/// figure as a Polars plan.
pub fn alerts_in(
    t: &MinuteTable,
    rows: std::ops::Range<usize>,
    open: Option<u32>,
    close: Option<u32>,
    threshold: i64,
) -> Vec<Alert> {
    open_close(t, rows, open, close)
        .filter(|(_, o, c)| (o - c).abs() > threshold)
        .map(|(minute, open, close)| Alert::of(minute, open, close).expect("an event's minute and counts fit"))
        .collect()
}

/// Per minute among rows `rows` of a minute table with a row of either
/// alert action (codes; `None` when the action never occurs): its start
/// and the two actions' counts, in minute order.
pub fn open_close(
    t: &MinuteTable,
    rows: std::ops::Range<usize>,
    open: Option<u32>,
    close: Option<u32>,
) -> impl Iterator<Item = (i64, i64, i64)> + '_ {
    let mut i = rows.start;
    std::iter::from_fn(move || {
        while i < rows.end {
            let minute = t.start[i];
            let (mut o, mut c, mut seen) = (0i64, 0i64, false);
            while i < rows.end && t.start[i] == minute {
                let code = Some(t.code[i]);
                if code == open {
                    o += t.count[i] as i64;
                    seen = true;
                } else if code == close {
                    c += t.count[i] as i64;
                    seen = true;
                }
                i += 1;
            }
            if seen {
                return Some((minute, o, c));
            }
        }
        None
    })
}

/// Runs of consecutive hours among `hours` (hour starts, sorted, each
/// once), as `[first hour, end of the last)`.
pub fn hour_runs(hours: impl IntoIterator<Item = i64>) -> Vec<(i64, i64)> {
    let mut runs: Vec<(i64, i64)> = Vec::new();
    for h in hours {
        match runs.last_mut() {
            Some(run) if run.1 == h => run.1 += HOUR,
            _ => runs.push((h, h + HOUR)),
        }
    }
    runs
}

/// The largest hourly average, the earliest hour on ties (`hours` in hour
/// order).
pub fn peak_hour<'a>(hours: impl IntoIterator<Item = &'a HourAverage>) -> Option<HourAverage> {
    hours
        .into_iter()
        .fold(None::<&HourAverage>, |best, h| match best {
            Some(b) if b.average >= h.average => Some(b),
            _ => Some(h),
        })
        .cloned()
}

/// The minutes the moving average covers: every minute from an event's
/// minute to the end of the trailing window that holds it, but not past the
/// data's last minute; in order. Its length is bounded by `window` times
/// the number of distinct minutes, whatever their span.
pub fn moving_grid(distinct_minutes: &[i64], window: usize) -> Vec<i64> {
    let Some(&last) = distinct_minutes.last() else {
        return Vec::new();
    };
    moving_grid_to(distinct_minutes, window, last)
}

/// [`moving_grid`] of some of the data's minutes, `last` being the data's
/// last minute (where the grid stops, wherever these minutes end).
fn moving_grid_to(distinct_minutes: &[i64], window: usize, last: i64) -> Vec<i64> {
    let reach = (window as i64 - 1) * MINUTE;
    let mut grid = Vec::new();
    let mut covered = i64::MIN;
    for &m in distinct_minutes {
        let mut x = if covered == i64::MIN {
            m
        } else {
            m.max(covered + MINUTE)
        };
        let end = (m + reach).min(last);
        while x <= end {
            grid.push(x);
            x += MINUTE;
        }
        covered = covered.max(end);
    }
    grid
}

/// The trailing moving average and sample variance of each action's
/// counts, over the minutes of [`moving_grid`], per minute then action.
pub fn moving_average(t: &MinuteTable, window: usize) -> Result<DataFrame> {
    let bounds = t.start.first().zip(t.start.last()).map(|(a, b)| (*a, *b));
    moving_average_within(t, window, bounds.unwrap_or_default())
}

/// The rows of the moving average with a `window_start` in `[lo, hi)`,
/// computed from the minute rows in `[lo - (window - 1) minutes, hi)`
/// (`rows_in` gives them) and the data's first and last minute: the same
/// rows, bit for bit, as those of [`moving_average`] over all the data.
/// The trailing window of a minute in the range holds no row before
/// `lo - (window - 1)` minutes, and a grid minute of the range lacking
/// there (one only an earlier event's window reaches) has no event, so
/// neither the sums nor the grid of the range change.
pub fn moving_average_between(
    rows_in: impl FnOnce(i64, i64) -> MinuteTable,
    window: usize,
    (first, last): (i64, i64),
    (lo, hi): (i64, i64),
) -> Result<DataFrame> {
    moving_table_between(rows_in, window, (first, last), (lo, hi), None)?.frame()
}

/// [`moving_average_between`] as a [`MovingTable`].
pub fn moving_table_between(
    rows_in: impl FnOnce(i64, i64) -> MinuteTable,
    window: usize,
    (first, last): (i64, i64),
    (lo, hi): (i64, i64),
    only: Option<&[u32]>,
) -> Result<MovingTable> {
    let reach = (window.max(1) as i64 - 1) * MINUTE;
    let t = rows_in(lo.saturating_sub(reach).max(first), hi);
    moving_table_of(&t, window, (first, last), only, (lo, hi))
}

/// The rows of `df` with a `window_start` in `[lo, hi)`.
fn starting_within(df: DataFrame, (lo, hi): (i64, i64)) -> Result<DataFrame> {
    Ok(df
        .lazy()
        .filter(col("window_start").gt_eq(lit(lo)).and(col("window_start").lt(lit(hi))))
        .collect()?)
}

/// The moving average and variance of some grid minutes, every action's
/// row of each minute, in the table's order (by minute, then action): row
/// `i * actions + a` is action `a`'s (its code) in `minutes[i]`.
#[derive(Debug, Clone, Default)]
pub struct MovingTable {
    /// Rows per minute: one per action of `codes`.
    pub actions: usize,
    /// The action (its code in the minute table) of each row of a minute:
    /// every code, `0..actions`, unless some actions only were asked for.
    pub codes: Vec<u32>,
    /// The grid minutes (epoch seconds), in order.
    pub minutes: Vec<i64>,
    /// Events of the action in the minute.
    pub count: Vec<i64>,
    /// The trailing window's mean count.
    pub average: Vec<f64>,
    /// The trailing window's sample variance; none in the data's first
    /// minute.
    pub variance: Vec<Option<f64>>,
}

impl MovingTable {
    /// The number of rows.
    pub fn len(&self) -> usize {
        self.count.len()
    }

    /// True without rows.
    pub fn is_empty(&self) -> bool {
        self.count.is_empty()
    }

    /// The minute of row `k`.
    pub fn minute(&self, k: usize) -> i64 {
        self.minutes[k / self.actions.max(1)]
    }

    /// The rows as a frame: `action` (code), `window_start` (epoch
    /// seconds), `count`, `moving_average` and `moving_variance`.
    pub fn frame(&self) -> Result<DataFrame> {
        let a = self.actions.max(1);
        Ok(df!(
            "action" => (0..self.len()).map(|k| self.codes[k % a]).collect::<Vec<u32>>(),
            "window_start" => (0..self.len()).map(|k| self.minutes[k / a]).collect::<Vec<i64>>(),
            "count" => &self.count,
            "moving_average" => &self.average,
            "moving_variance" => &self.variance,
        )?)
    }
}

/// [`moving_average`] of the rows `t`, part of data whose first and last
/// minute are `first` and `last`.
fn moving_average_within(t: &MinuteTable, window: usize, bounds: (i64, i64)) -> Result<DataFrame> {
    moving_table(t, window, bounds)?.frame()
}

/// The moving figures of the rows `t`, part of data whose first and last
/// minute are `first` and `last`: over each action's counts on the grid
/// (0 where it has no event), the trailing sums of `window` grid rows, in
/// 128 bits. Between two stretches of the grid lie window − 1 minutes
/// without events, so a window of `window` rows never reaches into the
/// stretch before; the number of minutes in the window is `window`, or
/// fewer in the data's first minutes. The mean is the sum over that
/// number; the sample variance `(n·ss − s²) / (n·(n − 1))`, its numerator
/// exact while it fits in 128 bits (past that in floating point, as
/// [`Sums::variance`] does). This is the definition's plan of rolling sums
/// (see the tests), bit for bit, without its 64-bit sums' limit.
pub fn moving_table(t: &MinuteTable, window: usize, bounds: (i64, i64)) -> Result<MovingTable> {
    moving_table_of(t, window, bounds, None, (i64::MIN, i64::MAX))
}

/// [`moving_table`] of the actions of the codes `only` (in that order),
/// or of every action, keeping the rows of minutes in `[lo, hi)`: the
/// same rows of those actions and minutes (a chart draws a few of many;
/// a piece's first minutes only feed the sums of the ones kept).
pub fn moving_table_of(
    t: &MinuteTable,
    window: usize,
    (first, last): (i64, i64),
    only: Option<&[u32]>,
    (lo, hi): (i64, i64),
) -> Result<MovingTable> {
    let codes: Vec<u32> = match only {
        Some(codes) => codes.to_vec(),
        None => (0..t.names.len() as u32).collect(),
    };
    if t.is_empty() {
        return Ok(MovingTable {
            actions: codes.len(),
            codes,
            ..Default::default()
        });
    }
    if window == 0 || window > MAX_MOVING_WINDOW {
        bail!("the moving window must be between 1 minute and {MAX_MOVING_WINDOW} minutes (a week)");
    }
    let mut distinct: Vec<i64> = t.start.clone();
    distinct.dedup();
    let mut grid = moving_grid_to(&distinct, window, last);
    let kept = grid.partition_point(|&m| m < lo)..grid.partition_point(|&m| m < hi);
    grid.truncate(kept.end);
    let actions = codes.len();
    let g = grid.len();
    if kept.len().saturating_mul(actions) > MAX_MOVING_ROWS {
        bail!(
            "the moving average would have {} rows ({g} minutes for {actions} actions); use a shorter --moving-window",
            g.saturating_mul(actions),
        );
    }
    // each action's counts on the grid, action by action
    let mut slot = vec![u32::MAX; t.names.len()];
    for (k, &c) in codes.iter().enumerate() {
        if let Some(s) = slot.get_mut(c as usize) {
            *s = k as u32;
        }
    }
    let mut dense = vec![0i64; g * actions];
    let mut i = 0;
    for (&code, (&start, &count)) in t.code.iter().zip(t.start.iter().zip(&t.count)) {
        while i < g && grid[i] < start {
            i += 1;
        }
        if i == g {
            // past the minutes kept, and so past every sum they need
            break;
        }
        if let Some(&k) = slot.get(code as usize).filter(|&&k| k != u32::MAX) {
            dense[k as usize * g + i] = count as i64;
        }
    }
    let rows = kept.len() * actions;
    let mut count = vec![0i64; rows];
    let mut average = vec![0f64; rows];
    let mut variance = vec![None; rows];
    let n: Vec<i64> = grid
        .iter()
        .map(|&m| ((m - first).div_euclid(MINUTE) + 1).min(window as i64))
        .collect();
    // 64-bit sums where they cannot wrap (the same integers, sooner)
    let largest = dense.iter().copied().max().unwrap_or(0).max(0) as u128;
    let wide = (largest * window as u128)
        .checked_mul(largest * window as u128)
        .is_none_or(|b| b > i64::MAX as u128);
    let mut out = Out {
        actions,
        from: kept.start,
        count: &mut count,
        average: &mut average,
        variance: &mut variance,
    };
    for a in 0..actions {
        let run = &dense[a * g..(a + 1) * g];
        if run.iter().all(|&c| c == 0) {
            // an action without events here: zeros, and a variance of 0
            for (i, &n) in n[kept.clone()].iter().enumerate() {
                out.variance[i * actions + a] = (n > 1).then_some(0.0);
            }
        } else if wide {
            trailing::<i128>(run, window, &n, a, &mut out);
        } else {
            trailing::<i64>(run, window, &n, a, &mut out);
        }
    }
    grid.drain(..kept.start);
    Ok(MovingTable {
        actions,
        codes,
        minutes: grid,
        count,
        average,
        variance,
    })
}

/// Where [`trailing`] writes: the columns of a [`MovingTable`].
struct Out<'a> {
    actions: usize,
    /// The first grid row kept: rows before it only feed the sums.
    from: usize,
    count: &'a mut [i64],
    average: &'a mut [f64],
    variance: &'a mut [Option<f64>],
}

/// The integers the trailing sums are kept in.
trait Sum: Copy + std::ops::Add<Output = Self> + std::ops::Sub<Output = Self> + std::ops::Mul<Output = Self> {
    const ZERO: Self;
    fn of(v: i64) -> Self;
    fn checked_mul(self, other: Self) -> Option<Self>;
    fn float(self) -> f64;
}

impl Sum for i64 {
    const ZERO: Self = 0;
    fn of(v: i64) -> Self {
        v
    }
    fn checked_mul(self, other: Self) -> Option<Self> {
        i64::checked_mul(self, other)
    }
    fn float(self) -> f64 {
        self as f64
    }
}

impl Sum for i128 {
    const ZERO: Self = 0;
    fn of(v: i64) -> Self {
        v as i128
    }
    fn checked_mul(self, other: Self) -> Option<Self> {
        i128::checked_mul(self, other)
    }
    fn float(self) -> f64 {
        self as f64
    }
}

/// The trailing sums of `window` rows over one action's `run` of grid
/// counts, `n` being each grid minute's number of minutes in its window,
/// written as action `a`'s rows. `n·ss − s²` is exact while it fits in
/// `S` (then rounded once); past that in floating point.
fn trailing<S: Sum>(run: &[i64], window: usize, n: &[i64], a: usize, out: &mut Out) {
    let (mut s, mut ss) = (S::ZERO, S::ZERO);
    for (i, &c) in run.iter().enumerate() {
        let c = S::of(c);
        s = s + c;
        ss = ss + c * c;
        if i >= window {
            let old = S::of(run[i - window]);
            s = s - old;
            ss = ss - old * old;
        }
        let Some(kept) = i.checked_sub(out.from) else {
            continue;
        };
        let k = kept * out.actions + a;
        out.count[k] = run[i];
        let m = n[i];
        out.average[k] = s.float() / m as f64;
        if m > 1 {
            let denominator = (m * (m - 1)) as f64;
            let m = S::of(m);
            out.variance[k] = Some(match m.checked_mul(ss).zip(s.checked_mul(s)) {
                Some((x, y)) => (x - y).float() / denominator,
                None => ((m.float() * ss.float() - s.float() * s.float()) / denominator).max(0.0),
            });
        }
    }
}

/// The definition's plan of the moving figures: rolling sums of `window`
/// rows over each action's counts on the grid, in Polars, with 64-bit
/// sums (so only for counts where they cannot wrap). The tests hold
/// [`moving_table`] to it.
#[cfg(test)]
fn moving_plan(t: &MinuteTable, window: usize, (first, last): (i64, i64)) -> Result<DataFrame> {
    let mut distinct: Vec<i64> = t.start.clone();
    distinct.dedup();
    let grid = moving_grid_to(&distinct, window, last);
    let actions = t.names.len();
    let mut per_action: Vec<Vec<(i64, u64)>> = vec![Vec::new(); actions];
    for (&code, (&start, &count)) in t.code.iter().zip(t.start.iter().zip(&t.count)) {
        per_action[code as usize].push((start, count));
    }
    let (mut code, mut start, mut count) = (Vec::new(), Vec::new(), Vec::new());
    for (c, events) in per_action.iter().enumerate() {
        let mut next = events.iter().peekable();
        for &m in &grid {
            let n = match next.peek() {
                Some(&&(s, n)) if s == m => {
                    next.next();
                    n as i64
                }
                _ => 0,
            };
            code.push(c as u32);
            start.push(m);
            count.push(n);
        }
    }
    assert!(fits_in_64_bits(&count, window), "the plan's sums would wrap");
    let w = window as i64;
    let trailing = RollingOptionsFixedWindow {
        window_size: window,
        min_periods: 1,
        ..Default::default()
    };
    let since_first = (col("window_start") - lit(first)).floor_div(lit(MINUTE)) + lit(1i64);
    let n = col("n");
    let (s, ss) = (col("s"), col("ss"));
    let df = df!("action" => code, "window_start" => start, "count" => count)?
        .lazy()
        .with_columns([
            col("count")
                .rolling_sum(trailing.clone())
                .over([col("action")])?
                .alias("s"),
            (col("count") * col("count"))
                .rolling_sum(trailing)
                .over([col("action")])?
                .alias("ss"),
            when(since_first.clone().gt(lit(w)))
                .then(lit(w))
                .otherwise(since_first)
                .alias("n"),
        ])
        .with_columns([
            (s.clone().cast(DataType::Float64) / n.clone().cast(DataType::Float64)).alias("moving_average"),
            when(n.clone().gt(lit(1i64)))
                .then(
                    (n.clone() * ss - s.clone() * s).cast(DataType::Float64)
                        / (n.clone() * (n - lit(1i64))).cast(DataType::Float64),
                )
                .otherwise(lit(NULL).cast(DataType::Float64))
                .alias("moving_variance"),
        ])
        .select([
            col("action"),
            col("window_start"),
            col("count"),
            col("moving_average"),
            col("moving_variance"),
        ])
        .collect()?;
    // per action, then put in minute, then action order
    let g = grid.len();
    let order: Vec<IdxSize> = (0..g * actions)
        .map(|k| ((k % actions) * g + k / actions) as IdxSize)
        .collect();
    Ok(df.take(&IdxCa::from_vec("order".into(), order))?)
}

/// True when the plan's 64-bit sums cannot wrap: `n·ss` and `s²` are at
/// most `(window · largest count)²`.
#[cfg(test)]
fn fits_in_64_bits(count: &[i64], window: usize) -> bool {
    let largest = count.iter().copied().max().unwrap_or(0).max(0) as u128;
    let bound = largest * window as u128;
    bound.checked_mul(bound).is_some_and(|b| b <= i64::MAX as u128)
}

/// Reads an integer column.
pub fn ints(df: &DataFrame, name: &str) -> Result<Vec<i64>> {
    Ok(df
        .column(name)?
        .cast(&DataType::Int64)?
        .i64()?
        .into_no_null_iter()
        .collect())
}

fn floats(df: &DataFrame, name: &str) -> Result<Vec<Option<f64>>> {
    Ok(df.column(name)?.cast(&DataType::Float64)?.f64()?.iter().collect())
}

/// Reads a frame's action codes as names.
#[cfg(test)]
fn codes(df: &DataFrame, names: &[Arc<str>]) -> Result<Vec<Arc<str>>> {
    let codes = df.column("action")?.u32()?;
    Ok(codes.iter().flatten().map(|c| names[c as usize].clone()).collect())
}

#[cfg(test)]
fn counts_of(df: &DataFrame, names: &[Arc<str>], seconds: i64) -> Result<Vec<Count>> {
    let (a, s, c) = (codes(df, names)?, ints(df, "window_start")?, ints(df, "count")?);
    Ok(a.into_iter()
        .zip(s)
        .zip(c)
        .map(|((action, window_start), count)| Count {
            action,
            window_start,
            window_end: window_start + seconds,
            count,
        })
        .collect())
}

/// Computes every figure from the minute counts.
pub fn compute(counts: &MinuteCounts, opts: &Options) -> Result<Figures> {
    figures_of(counts.table(), opts)
}

/// Computes every figure from a whole minute table.
pub fn figures_of(table: MinuteTable, opts: &Options) -> Result<Figures> {
    figures_in_slices(table, opts, SLICE_ROWS)
}

/// [`figures_of`], the plans taking slices of about `size` rows.
fn figures_in_slices(table: MinuteTable, opts: &Options, size: usize) -> Result<Figures> {
    if opts.moving_window == 0 || opts.moving_window > MAX_MOVING_WINDOW {
        bail!("the moving window must be between 1 minute and {MAX_MOVING_WINDOW} minutes (a week)");
    }
    if table.is_empty() {
        return Ok(Figures {
            moving_window: opts.moving_window,
            ..Default::default()
        });
    }
    let (open, close) = (
        table.code_of(&opts.alert_actions.0),
        table.code_of(&opts.alert_actions.1),
    );
    let (mut hourly_counts, mut hourly_average, mut alerts) = (Vec::new(), Vec::new(), Vec::new());
    for rows in hour_slices(&table.start, size) {
        let (counts, averages) = hourly(&table, rows.clone())?;
        hourly_counts.extend(counts);
        hourly_average.extend(averages);
        alerts.extend(alerts_in(&table, rows, open, close, opts.alert_threshold));
    }
    let totals = totals(&table);
    Ok(Figures {
        peak_hour: peak_hour(&hourly_average),
        variance: Sums::of(&table.count).variance(),
        minute_counts: OnceLock::from(table),
        state: None,
        hourly_counts,
        totals,
        hourly_average,
        alerts,
        moving_window: opts.moving_window,
        moving: OnceLock::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_grid_covers_each_events_trailing_window_up_to_the_last_minute() {
        let m = |k: i64| k * MINUTE;
        // window 3: an event at 0 covers 0..=2; at 10 covers 10..=12, but
        // 11 is the last minute with an event
        assert_eq!(
            moving_grid(&[m(0), m(1), m(10), m(11)], 3),
            [m(0), m(1), m(2), m(3), m(10), m(11)]
        );
        assert!(moving_grid(&[], 30).is_empty());
        // far apart: two events a million years of minutes apart cost
        // two windows
        let far = moving_grid(&[m(-5_000_000_000), m(0), m(4_000_000_000)], 30);
        assert_eq!(far.len(), 30 + 30 + 1);
    }

    #[test]
    fn alerts_without_a_plan_equal_the_plans() {
        let mut rng = 11u64;
        let mut next = |n: u64| {
            rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (rng >> 33) % n
        };
        for round in 0..40 {
            let mut counts = MinuteCounts::new();
            for _ in 0..(1 + next(400)) {
                let t = next(300) as i64 * 20 - 1000;
                let action = ["Open", "Close", "Other"][next(3) as usize];
                counts.add(t, action);
            }
            let t = counts.table();
            let frame = minute_frame(&t).unwrap();
            let threshold = next(4) as i64 - 1;
            for (open, close) in [
                ("Open", "Close"),
                ("Close", "Open"),
                ("Open", "Nobody"),
                ("Nobody", "Other"),
            ] {
                let (o, c) = (t.code_of(open), t.code_of(close));
                assert_eq!(
                    alerts_in(&t, 0..t.len(), o, c, threshold),
                    alerts_plan(&frame, o, c, threshold).unwrap(),
                    "round {round}, {open}/{close}, threshold {threshold}"
                );
            }
        }
    }

    /// A table of `events` events over `actions` actions, times jumping
    /// about within a few days (some minutes with every action).
    fn random_table(seed: u64, events: i64, actions: &[&str]) -> MinuteTable {
        let mut counts = MinuteCounts::new();
        let mut rng = seed;
        for i in 0..events {
            rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let action = actions[(rng >> 40) as usize % actions.len()];
            counts.add(i * 13 + (rng >> 50) as i64 - 4000, action);
        }
        counts.table()
    }

    #[test]
    fn one_pass_figures_in_slices_equal_the_plans_over_everything() {
        let h = |k: i64| k * HOUR;
        let start = [h(0), h(0) + 60, h(1), h(1) + 60, h(1) + 120, h(2), h(9)];
        assert_eq!(hour_slices(&start, 1), [0..2, 2..5, 5..7]);
        assert_eq!(hour_slices(&start, 3), [0..5, 5..7]);
        assert_eq!(hour_slices(&start, 100), vec![(0..7)]);
        assert!(hour_slices(&[], 4).is_empty());
        for (seed, actions) in [
            (5, &["Open", "Close", "Other"][..]),
            (9, &["g", "f", "e", "d", "c", "b", "a"][..]),
        ] {
            let t = random_table(seed, 40_000, actions);
            let frame = minute_frame(&t).unwrap();
            let (counts, averages, totals) = hourly_and_totals_plans(&frame, &t.names).unwrap();
            let bits = |a: &[HourAverage]| {
                a.iter()
                    .map(|a| (a.window_start, a.average.to_bits()))
                    .collect::<Vec<_>>()
            };
            assert!(averages.iter().any(|a| a.average.fract() != 0.0));
            let opts = Options {
                alert_threshold: 2,
                ..Options::default()
            };
            let alerts = alerts_plan(&frame, t.code_of("Open"), t.code_of("Close"), 2).unwrap();
            assert!(hour_slices(&t.start, 500).len() > 10);
            let f = figures_in_slices(t, &opts, 500).unwrap();
            assert_eq!(f.hourly_counts, counts);
            assert_eq!(bits(&f.hourly_average), bits(&averages));
            assert_eq!(f.totals, totals);
            assert_eq!(f.alerts, alerts);
        }
    }

    #[test]
    fn the_hourly_figures_of_some_hours_are_the_plans_over_those_rows() {
        let t = random_table(3, 30_000, &["a", "b", "c", "d"]);
        let slices = hour_slices(&t.start, 700);
        let rows = slices[3].start..slices[7].end;
        let (counts, averages) = hourly(&t, rows.clone()).unwrap();
        let (want_counts, want_averages, _) =
            hourly_and_totals_plans(&minute_frame_in(&t, rows).unwrap(), &t.names).unwrap();
        assert_eq!(counts, want_counts);
        let bits = |a: &[HourAverage]| a.iter().map(|a| a.average.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&averages), bits(&want_averages));
    }

    #[test]
    fn consecutive_hours_make_one_run() {
        assert_eq!(
            hour_runs([0, HOUR, 3 * HOUR, 5 * HOUR, 6 * HOUR]),
            [(0, 2 * HOUR), (3 * HOUR, 4 * HOUR), (5 * HOUR, 7 * HOUR)]
        );
        assert_eq!(hour_runs([]), []);
    }

    #[test]
    fn the_moving_variance_of_huge_counts_does_not_wrap() {
        // one event, then 32 million in one minute a week later, over a
        // week's window: n·ss alone is past 2^63
        let mut c = MinuteCounts::new();
        let week = MAX_MOVING_WINDOW as i64 * MINUTE;
        c.add_counts(&[("a".into(), 0, 1), ("a".into(), week, 32_000_000)]);
        let df = moving_average(&c.table(), MAX_MOVING_WINDOW).unwrap();
        let variance = floats(&df, "moving_variance").unwrap();
        let peak = variance.iter().flatten().copied().fold(f64::MIN, f64::max);
        // the window holds 32,000,000 and 10,079 zeros
        let n = MAX_MOVING_WINDOW as f64;
        let want = 32e6 * 32e6 * (n - 1.0) / (n * (n - 1.0));
        assert!((peak - want).abs() <= want * 1e-12, "{peak} against {want}");
        assert!(variance.iter().flatten().all(|v| *v >= 0.0));
        assert!(variance.iter().flatten().all(|v| *v >= 0.0));
    }

    #[test]
    fn the_moving_table_is_the_plan_of_rolling_sums_bit_for_bit() {
        let bits = |df: &DataFrame, c: &str| {
            floats(df, c)
                .unwrap()
                .into_iter()
                .map(|v| v.map(f64::to_bits))
                .collect::<Vec<_>>()
        };
        for (seed, window) in [(9, 30), (3, 1), (4, 7), (5, 180)] {
            let t = random_table(seed, 3_000, &["x", "y", "z"]);
            let bounds = (t.start[0], *t.start.last().unwrap());
            let plan = moving_plan(&t, window, bounds).unwrap();
            let table = moving_average(&t, window).unwrap();
            assert_eq!(plan.height(), table.height());
            for c in ["action", "window_start", "count"] {
                assert!(
                    plan.column(c).unwrap().cast(&DataType::Int64).unwrap()
                        == table.column(c).unwrap().cast(&DataType::Int64).unwrap(),
                    "{c}"
                );
            }
            assert_eq!(bits(&plan, "moving_average"), bits(&table, "moving_average"));
            assert_eq!(bits(&plan, "moving_variance"), bits(&table, "moving_variance"));
            // a piece of minutes is the same rows as the whole table's
            let m = t.start[t.len() / 2];
            let piece = moving_table_of(
                &t.slice_minutes(m - 40 * MINUTE, i64::MAX),
                window,
                bounds,
                None,
                (m, m + 90 * MINUTE),
            )
            .unwrap()
            .frame()
            .unwrap();
            let whole = starting_within(table.clone(), (m, m + 90 * MINUTE)).unwrap();
            if window <= 41 {
                assert!(piece.equals_missing(&whole), "window {window}");
            }
        }
    }

    #[test]
    fn exact_sums_give_the_sample_variance() {
        let s = Sums::of(&[1, 2, 3, 4]);
        assert_eq!(s.variance(), Some(5.0 / 3.0));
        let mut t = s;
        t.change(2, 10);
        t.change(4, 0);
        assert_eq!(t, Sums::of(&[1, 10, 3]));
        assert_eq!(Sums::of(&[7]).variance(), None);
        // large counts stay exact
        let big = Sums::of(&[u64::from(u32::MAX), u64::from(u32::MAX) + 2]);
        assert_eq!(big.variance(), Some(2.0));
    }
}
