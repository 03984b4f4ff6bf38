//! The one definition of every figure (see the metrics contract in the
//! README): Polars lazy plans over the minute counts of [`MinuteCounts`].
//!
//! Batch runs them once over the counts of the whole input; streaming runs
//! them over its state after each trigger. Both get the same [`Figures`].

use anyhow::{bail, Result};
use polars::prelude::*;

use std::sync::Arc;

use crate::state::{Coded, MinuteCounts};

/// Seconds in a minute window.
pub const MINUTE: i64 = 60;
/// Seconds in an hour window.
pub const HOUR: i64 = 3600;
/// The most rows the dense moving-average grid may have.
const MAX_GRID_ROWS: i64 = 50_000_000;

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
#[derive(Debug, Clone, PartialEq, Eq)]
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
#[derive(Debug, Clone, PartialEq)]
pub struct HourAverage {
    /// Hour start, epoch seconds.
    pub window_start: i64,
    /// Hour end (exclusive), epoch seconds.
    pub window_end: i64,
    /// Mean over the hour's minutes of the mean count over actions.
    pub average: f64,
}

/// A minute where the two alert actions differ by more than the threshold.
#[derive(Debug, Clone, PartialEq, Eq)]
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

/// One point of the moving average of one action.
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

/// Every figure of the contract.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Figures {
    /// Per (action, minute) with events, by minute then action.
    pub minute_counts: Vec<Count>,
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
    /// Per action then minute, over the dense minute grid.
    pub moving_average: Vec<Moving>,
    /// Sample variance of the minute counts; `None` with fewer than 2 rows.
    pub variance: Option<f64>,
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
}

const MS: i64 = 1000;

fn datetime() -> DataType {
    DataType::Datetime(TimeUnit::Milliseconds, None)
}

/// A frame of `action` (code), `window_start` (datetime, from epoch
/// seconds) and `count`, in the order given.
fn frame(action: Vec<u32>, start_secs: Vec<i64>, count: Vec<i64>) -> PolarsResult<DataFrame> {
    let start: Vec<i64> = start_secs.into_iter().map(|s| s * MS).collect();
    df!("action" => action, "window_start" => start, "count" => count)?
        .lazy()
        .with_column(col("window_start").cast(datetime()))
        .collect()
}

/// The minute counts in the order of `rows`.
fn minute_frame(rows: &[(u32, i64, u64)]) -> PolarsResult<DataFrame> {
    frame(
        rows.iter().map(|r| r.0).collect(),
        rows.iter().map(|r| r.1).collect(),
        rows.iter().map(|r| r.2 as i64).collect(),
    )
}

/// Epoch-aligned tumbling windows of `seconds` over `window_start`.
fn tumbling(seconds: i64) -> DynamicGroupOptions {
    let every = Duration::parse(&format!("{seconds}s"));
    DynamicGroupOptions {
        every,
        period: every,
        offset: Duration::parse("0s"),
        label: Label::Left,
        include_boundaries: false,
        closed_window: ClosedWindow::Left,
        start_by: StartBy::WindowBound,
        ..Default::default()
    }
}

/// Counts per action in windows of `seconds`, by window then action.
/// `by_action` is sorted by action, then minute, as windows per action need.
fn windowed_counts(by_action: &DataFrame, seconds: i64) -> LazyFrame {
    by_action
        .clone()
        .lazy()
        .group_by_dynamic(col("window_start"), [col("action")], tumbling(seconds))
        .agg([col("count").sum()])
        .sort(["window_start", "action"], SortMultipleOptions::default())
}

/// Per minute window, the mean count over the actions present in it; per
/// hour window, the mean of those. `by_minute` is sorted by minute.
fn hourly_average(by_minute: &DataFrame) -> LazyFrame {
    by_minute
        .clone()
        .lazy()
        .group_by_dynamic(col("window_start"), [] as [Expr; 0], tumbling(MINUTE))
        .agg([col("count").cast(DataType::Float64).mean().alias("minute_mean")])
        .group_by_dynamic(col("window_start"), [] as [Expr; 0], tumbling(HOUR))
        .agg([col("minute_mean").mean().alias("average")])
}

/// Minute windows where the counts of the two alert actions differ by more
/// than `threshold`. `by_minute` is sorted by minute.
fn alerts(by_minute: &DataFrame, open: Option<u32>, close: Option<u32>, threshold: i64) -> LazyFrame {
    // an action that never occurs gets a code no row has
    let of = |code: Option<u32>| {
        col("count")
            .filter(col("action").eq(lit(code.unwrap_or(u32::MAX))))
            .sum()
    };
    by_minute
        .clone()
        .lazy()
        .group_by_dynamic(col("window_start"), [] as [Expr; 0], tumbling(MINUTE))
        .agg([of(open).alias("open"), of(close).alias("close")])
        .with_column((col("open") - col("close")).alias("difference"))
        .filter(col("difference").abs().gt(lit(threshold)))
}

/// The dense minute range of the data: its first minute and how many
/// minutes it spans.
fn minute_span(coded: &Coded) -> Result<Option<(i64, i64)>> {
    let (Some(lo), Some(hi)) = (
        coded.rows.iter().map(|r| r.1).min(),
        coded.rows.iter().map(|r| r.1).max(),
    ) else {
        return Ok(None);
    };
    let span = (hi - lo) / MINUTE + 1;
    if span.saturating_mul(coded.names.len() as i64) > MAX_GRID_ROWS {
        bail!(
            "the events span {span} minutes ({} to {}), too long for the per-minute moving average; \
             look for events with a wrong time far from the others",
            crate::output::timefmt::rfc3339(lo),
            crate::output::timefmt::rfc3339(hi)
        );
    }
    Ok(Some((lo, span)))
}

/// The dense grid of one action: every minute from `lo` for `span` minutes
/// with its count (0 where the action had no event), in minute order.
/// `rows` are that action's minute counts, in minute order.
fn grid(code: u32, rows: &[(u32, i64, u64)], lo: i64, span: i64) -> PolarsResult<DataFrame> {
    let mut count = vec![0i64; span as usize];
    for &(_, minute, n) in rows {
        count[((minute - lo) / MINUTE) as usize] = n as i64;
    }
    let start: Vec<i64> = (0..span).map(|i| lo + i * MINUTE).collect();
    frame(vec![code; span as usize], start, count)
}

/// The trailing moving average and variance over one action's dense grid.
fn moving_average_of(grid: DataFrame, window: usize) -> LazyFrame {
    let trailing = RollingOptionsFixedWindow {
        window_size: window,
        min_periods: 1,
        ..Default::default()
    };
    let rolling_sum = |e: Expr, name: &str| e.rolling_sum(trailing.clone()).alias(name);
    // Sums of counts and squared counts are exact integers, so the mean and
    // the sample variance below are each rounded once.
    let n = col("n");
    let s = col("s");
    let ss = col("ss");
    grid.lazy()
        .with_column(lit(1i64).alias("one"))
        .with_columns([
            rolling_sum(col("one"), "n"),
            rolling_sum(col("count"), "s"),
            rolling_sum(col("count") * col("count"), "ss"),
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
}

/// Reads a frame's `window_start` as epoch seconds.
fn starts(df: &DataFrame) -> Result<Vec<i64>> {
    let secs = df
        .column("window_start")?
        .cast(&DataType::Int64)?
        .i64()?
        .iter()
        .flatten()
        .map(|ms| ms.div_euclid(MS))
        .collect();
    Ok(secs)
}

/// Reads a frame's action codes as names.
fn actions(df: &DataFrame, names: &[Arc<str>]) -> Result<Vec<Arc<str>>> {
    let codes = df.column("action")?.u32()?;
    Ok(codes.iter().flatten().map(|c| names[c as usize].clone()).collect())
}

fn ints(df: &DataFrame, name: &str) -> Result<Vec<i64>> {
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

fn counts_of(df: &DataFrame, names: &[Arc<str>], seconds: i64) -> Result<Vec<Count>> {
    let (a, s, c) = (actions(df, names)?, starts(df)?, ints(df, "count")?);
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

/// The moving-average frame as rows, read column by column without
/// intermediate copies (it is the largest table).
fn moving_rows(moving: &DataFrame, names: &[Arc<str>]) -> Result<Vec<Moving>> {
    if moving.height() == 0 {
        return Ok(Vec::new());
    }
    let start = moving.column("window_start")?.cast(&DataType::Int64)?;
    let (action, start, count, average, variance) = (
        moving.column("action")?.u32()?,
        start.i64()?,
        moving.column("count")?.i64()?,
        moving.column("moving_average")?.f64()?,
        moving.column("moving_variance")?.f64()?,
    );
    let rows = action
        .into_no_null_iter()
        .zip(start.into_no_null_iter())
        .zip(count.into_no_null_iter())
        .zip(average.iter())
        .zip(variance.iter())
        .map(|((((a, ms), count), avg), var)| Moving {
            action: names[a as usize].clone(),
            window_start: ms.div_euclid(MS),
            count,
            moving_average: avg.unwrap_or(f64::NAN),
            moving_variance: var,
        });
    Ok(rows.collect())
}

/// Computes every figure from the minute counts.
pub fn compute(counts: &MinuteCounts, opts: &Options) -> Result<Figures> {
    if opts.moving_window == 0 {
        bail!("the moving window must be at least one minute");
    }
    let coded = counts.coded();
    if coded.rows.is_empty() {
        return Ok(Figures::default());
    }
    let names = &coded.names;
    let by_action = minute_frame(&coded.rows)?;
    let mut rows = coded.rows.clone();
    rows.sort_unstable_by_key(|r| (r.1, r.0));
    let by_minute = minute_frame(&rows)?;
    let hourly = windowed_counts(&by_action, HOUR).collect()?;
    let totals = by_action
        .clone()
        .lazy()
        .group_by([col("action")])
        .agg([col("count").sum()])
        .sort(["action"], SortMultipleOptions::default())
        .collect()?;
    let averages = hourly_average(&by_minute).collect()?;
    let (open, close) = &opts.alert_actions;
    let alert_rows = alerts(&by_minute, coded.code(open), coded.code(close), opts.alert_threshold).collect()?;
    let variance = by_action
        .clone()
        .lazy()
        .select([col("count").cast(DataType::Float64).var(1)])
        .collect()?;
    let hourly_average: Vec<HourAverage> = starts(&averages)?
        .into_iter()
        .zip(floats(&averages, "average")?)
        .map(|(s, a)| HourAverage {
            window_start: s,
            window_end: s + HOUR,
            average: a.unwrap_or(f64::NAN),
        })
        .collect();
    // largest average, earliest hour on ties (the rows are in hour order)
    let peak_hour = hourly_average
        .iter()
        .fold(None::<&HourAverage>, |best, h| match best {
            Some(b) if b.average >= h.average => Some(b),
            _ => Some(h),
        })
        .cloned();
    let alerts = {
        let (s, o, c, d) = (
            starts(&alert_rows)?,
            ints(&alert_rows, "open")?,
            ints(&alert_rows, "close")?,
            ints(&alert_rows, "difference")?,
        );
        (0..s.len())
            .map(|i| Alert {
                window_start: s[i],
                window_end: s[i] + MINUTE,
                open: o[i],
                close: c[i],
                difference: d[i],
            })
            .collect()
    };
    let mut moving_average = Vec::new();
    if let Some((lo, span)) = minute_span(&coded)? {
        moving_average.reserve((span as usize) * names.len());
        // one action at a time: its rows are contiguous in `coded.rows`
        for chunk in coded.rows.chunk_by(|a, b| a.0 == b.0) {
            let code = chunk[0].0;
            let moving = moving_average_of(grid(code, chunk, lo, span)?, opts.moving_window).collect()?;
            moving_average.extend(moving_rows(&moving, names)?);
        }
    }
    Ok(Figures {
        // the minute windows are formed as events are folded (the state is
        // keyed by floor(t / 60) * 60, the same windows); in window order:
        minute_counts: rows
            .iter()
            .map(|&(code, start, count)| Count {
                action: names[code as usize].clone(),
                window_start: start,
                window_end: start + MINUTE,
                count: count as i64,
            })
            .collect(),
        hourly_counts: counts_of(&hourly, names, HOUR)?,
        totals: actions(&totals, names)?
            .into_iter()
            .map(|a| a.to_string())
            .zip(ints(&totals, "count")?)
            .collect(),
        hourly_average,
        peak_hour,
        alerts,
        moving_average,
        variance: floats(&variance, "count")?.first().copied().flatten(),
    })
}
