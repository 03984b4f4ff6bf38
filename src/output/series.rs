//! Time series cut down to what a chart can show: the stretch of time that
//! holds the bulk of the data, and fixed-width bins over it (a minute, an
//! hour, a day, a week …) so that a chart never gets more points than it has
//! pixels, whatever the span.
//!
//! Nothing here is sized by the span of the data: the number of bins is
//! bounded by the caller, and a few events far from the rest (in year 1 or
//! 9999) are left outside the charted stretch and counted.

use crate::metrics::{HOUR, MINUTE};

const DAY: i64 = 24 * HOUR;
const WEEK: i64 = 7 * DAY;

/// The charted stretch of the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bulk {
    /// Start of the stretch (epoch seconds, inclusive).
    pub start: i64,
    /// End of the stretch (exclusive).
    pub end: i64,
    /// Weight (events) of the rows outside the stretch.
    pub outside: i64,
    /// Total weight.
    pub total: i64,
    /// The earliest row's time.
    pub first: i64,
    /// The end of the latest row (its time plus the unit).
    pub last: i64,
}

impl Bulk {
    /// Whether rows lie outside the stretch.
    pub fn cut(&self) -> bool {
        self.outside > 0
    }
}

/// The stretch holding the bulk of rows at `times` (epoch seconds, each
/// covering `unit` seconds) weighted by `weights`: from the 0.5% to the
/// 99.5% weighted quantile, widened on each side by the width between them
/// (at least an hour) and kept within the data. `None` without rows.
pub fn bulk(times: &[i64], weights: &[i64], unit: i64) -> Option<Bulk> {
    bulk_by(times, |i| weights.get(i).copied().unwrap_or(1), unit)
}

/// [`bulk`] with the weight of row `i` given by `weight(i)`.
pub fn bulk_by(times: &[i64], weight: impl Fn(usize) -> i64, unit: i64) -> Option<Bulk> {
    if times.is_empty() {
        return None;
    }
    let sorted = times.windows(2).all(|w| w[0] <= w[1]);
    let order: Vec<usize> = if sorted {
        Vec::new()
    } else {
        let mut o: Vec<usize> = (0..times.len()).collect();
        o.sort_unstable_by_key(|&i| times[i]);
        o
    };
    let at = |k: usize| if sorted { k } else { order[k] };
    let w = |i: usize| weight(i).max(0);
    let total: i64 = (0..times.len()).map(w).sum();
    let (first, last) = (times[at(0)], times[at(times.len() - 1)] + unit);
    let mut q = Quantiles::new(total);
    for k in 0..times.len() {
        let i = at(k);
        if q.add(times[i], w(i)) {
            break;
        }
    }
    let mut s = Stretch::around(q.rows(first, last - unit), unit);
    for (i, &t) in times.iter().enumerate() {
        s.add(t, w(i));
    }
    Some(s.bulk(total, first, last))
}

/// The walk, in time order, to the rows at cumulative weight 0.5% and
/// 99.5% (see [`bulk`]).
#[derive(Debug, Clone)]
pub struct Quantiles {
    q0: f64,
    q1: f64,
    cum: i64,
    lo: Option<i64>,
    hi: Option<i64>,
}

impl Quantiles {
    /// The walk over rows weighing `total` in all.
    pub fn new(total: i64) -> Quantiles {
        Quantiles {
            q0: total as f64 * 0.005,
            q1: total as f64 * 0.995,
            cum: 0,
            lo: None,
            hi: None,
        }
    }

    /// Takes the next row, at `t` and weighing `w`; true once the 99.5%
    /// row is found (the walk is over).
    pub fn add(&mut self, t: i64, w: i64) -> bool {
        self.cum += w;
        if self.lo.is_none() && self.cum as f64 > self.q0 {
            self.lo = Some(t);
        }
        if self.cum as f64 >= self.q1 {
            self.hi = Some(t);
        }
        self.hi.is_some()
    }

    /// Whether rows weighing `w` in all, taken next, hold a quantile's row
    /// (then they must be taken one by one).
    pub fn crosses(&self, w: i64) -> bool {
        let after = (self.cum + w) as f64;
        (self.lo.is_none() && after > self.q0) || after >= self.q1
    }

    /// Passes over rows weighing `w` in all that hold no quantile's row.
    pub fn skip(&mut self, w: i64) {
        self.cum += w;
    }

    /// The times of the two rows, `first` and `last` for one not found.
    pub fn rows(&self, first: i64, last: i64) -> (i64, i64) {
        (self.lo.unwrap_or(first), self.hi.unwrap_or(last))
    }
}

/// The charted stretch being found: the rows inside the window around the
/// quantile rows, and the weight of those outside (see [`bulk`]).
#[derive(Debug, Clone)]
pub struct Stretch {
    /// Start of the window (inclusive).
    pub from: i64,
    /// End of the window (exclusive).
    pub to: i64,
    unit: i64,
    start: i64,
    end: i64,
    outside: i64,
}

impl Stretch {
    /// The window around the quantile rows at `lo` and `hi`: widened on
    /// each side by the width between them, at least an hour.
    pub fn around((lo, hi): (i64, i64), unit: i64) -> Stretch {
        let width = (hi + unit - lo).max(HOUR);
        Stretch {
            from: lo.saturating_sub(width),
            to: hi.saturating_add(unit).saturating_add(width),
            unit,
            start: i64::MAX,
            end: i64::MIN,
            outside: 0,
        }
    }

    /// Takes a row at `t` weighing `w`.
    pub fn add(&mut self, t: i64, w: i64) {
        if t < self.from || t >= self.to {
            self.outside += w;
        } else {
            self.inside(t, t);
        }
    }

    /// Takes rows from `first` to `last`, all inside the window.
    pub fn inside(&mut self, first: i64, last: i64) {
        self.start = self.start.min(first);
        self.end = self.end.max(last + self.unit);
    }

    /// Takes rows weighing `w`, all outside the window.
    pub fn outside(&mut self, w: i64) {
        self.outside += w;
    }

    /// The stretch of rows weighing `total`, from `first` to the end of
    /// the last one, `last`.
    pub fn bulk(&self, total: i64, first: i64, last: i64) -> Bulk {
        Bulk {
            start: self.start,
            end: self.end,
            outside: self.outside,
            total,
            first,
            last,
        }
    }
}

/// Fixed-width bins over a stretch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bins {
    /// Start of the first bin (epoch seconds).
    pub start: i64,
    /// Width of a bin in seconds.
    pub width: i64,
    /// Number of bins.
    pub n: usize,
}

impl Bins {
    /// The smallest of minute, hour, day, week (then whole weeks) that is at
    /// least `unit` and covers `start..end` in at most `max` bins, aligned
    /// to its own width.
    pub fn over(start: i64, end: i64, unit: i64, max: usize) -> Bins {
        let span = (end - start).max(unit) as i128;
        let max = max.max(1) as i128;
        let width = [MINUTE, HOUR, DAY, WEEK]
            .into_iter()
            .filter(|w| *w >= unit)
            .find(|w| span / *w as i128 + 2 <= max)
            .unwrap_or_else(|| {
                let weeks = (span / (WEEK as i128 * (max - 2).max(1)) + 1).min(i64::MAX as i128 / WEEK as i128);
                WEEK * weeks as i64
            });
        let first = start.div_euclid(width) * width;
        let n = ((end as i128 - first as i128 + width as i128 - 1) / width as i128).max(1) as usize;
        Bins { start: first, width, n }
    }

    /// Whether each bin is one unit: the series is drawn as it is.
    pub fn raw(&self, unit: i64) -> bool {
        self.width == unit
    }

    /// The bin of time `t`, if inside.
    pub fn index(&self, t: i64) -> Option<usize> {
        let i = match t.checked_sub(self.start) {
            Some(d) => d.div_euclid(self.width) as i128,
            None => (t as i128 - self.start as i128).div_euclid(self.width as i128),
        };
        (0..self.n as i128).contains(&i).then_some(i as usize)
    }

    /// Start time of bin `i`.
    pub fn time(&self, i: usize) -> i64 {
        self.start + self.width * i as i64
    }

    /// The bin's name for axis titles: "minute", "hour", "day", "week" or
    /// "4 weeks".
    pub fn label(&self) -> String {
        match self.width {
            MINUTE => "minute".into(),
            HOUR => "hour".into(),
            DAY => "day".into(),
            WEEK => "week".into(),
            w if w % WEEK == 0 => format!("{} weeks", w / WEEK),
            w => format!("{w} s"),
        }
    }
}

/// A series in bins: the smallest and largest value of a unit in each bin
/// and their mean, with units without a row counted as `0`; `NaN` where the
/// bin lies outside `lo..hi`.
#[derive(Debug, Clone, PartialEq)]
pub struct Binned {
    /// Smallest value per bin.
    pub min: Vec<f64>,
    /// Largest value per bin.
    pub max: Vec<f64>,
    /// Mean value per unit over the bin.
    pub mean: Vec<f64>,
}

/// Bins the rows `(times[i], values[i])` (at most one row per unit; units
/// with no row count as `0`) over the units of `lo..hi` only.
pub fn aggregate(times: &[i64], values: &[f64], bins: &Bins, unit: i64, span: (i64, i64)) -> Binned {
    Binner::of(times, values, bins, span).finish(bins, unit, span)
}

/// [`aggregate`] of values that units without a row do not have (an
/// hour without events has no average): each bin's smallest, largest and
/// mean value over the rows it holds, `NaN` in a bin without rows.
pub fn aggregate_present(times: &[i64], values: &[f64], bins: &Bins, span: (i64, i64)) -> Binned {
    Binner::of(times, values, bins, span).finish_present(bins)
}

/// [`aggregate`] one row at a time.
#[derive(Debug, Clone)]
pub struct Binner {
    min: Vec<f64>,
    max: Vec<f64>,
    sum: Vec<f64>,
    rows: Vec<i64>,
}

impl Binner {
    /// No rows yet, over `bins`.
    pub fn new(bins: &Bins) -> Binner {
        let n = bins.n;
        Binner {
            min: vec![f64::INFINITY; n],
            max: vec![f64::NEG_INFINITY; n],
            sum: vec![0.0; n],
            rows: vec![0; n],
        }
    }

    /// The rows `(times[i], values[i])` in `span`, added.
    fn of(times: &[i64], values: &[f64], bins: &Bins, span: (i64, i64)) -> Binner {
        let mut b = Binner::new(bins);
        for (&t, &v) in times.iter().zip(values) {
            b.add(bins, span, t, v);
        }
        b
    }

    /// Adds the row `(t, v)` when `t` is in `lo..hi`.
    pub fn add(&mut self, bins: &Bins, (lo, hi): (i64, i64), t: i64, v: f64) {
        if t < lo || t >= hi || v.is_nan() {
            return;
        }
        if let Some(i) = bins.index(t) {
            self.min[i] = self.min[i].min(v);
            self.max[i] = self.max[i].max(v);
            self.sum[i] += v;
            self.rows[i] += 1;
        }
    }

    /// Adds to bin `i` rows whose smallest value is `min`, largest `max`,
    /// sum `sum` (exact: integers), `rows` of them.
    pub fn merge(&mut self, i: usize, min: f64, max: f64, sum: f64, rows: i64) {
        self.min[i] = self.min[i].min(min);
        self.max[i] = self.max[i].max(max);
        self.sum[i] += sum;
        self.rows[i] += rows;
    }

    /// The bins over the rows they hold only, `NaN` in a bin without rows
    /// (see [`aggregate_present`]).
    pub fn finish_present(self, bins: &Bins) -> Binned {
        let mut out = Binned {
            min: vec![f64::NAN; bins.n],
            max: vec![f64::NAN; bins.n],
            mean: vec![f64::NAN; bins.n],
        };
        for i in (0..bins.n).filter(|&i| self.rows[i] > 0) {
            out.min[i] = self.min[i];
            out.max[i] = self.max[i];
            out.mean[i] = self.sum[i] / self.rows[i] as f64;
        }
        out
    }

    /// The bins, units without a row counting as `0`.
    pub fn finish(self, bins: &Bins, unit: i64, (lo, hi): (i64, i64)) -> Binned {
        let Binner {
            mut min,
            mut max,
            sum,
            rows,
        } = self;
        let mut mean = vec![f64::NAN; bins.n];
        for i in 0..bins.n {
            let b0 = bins.time(i).max(lo);
            let b1 = (bins.time(i) + bins.width).min(hi);
            let units = (b1 - b0 + unit - 1).div_euclid(unit);
            if units <= 0 {
                min[i] = f64::NAN;
                max[i] = f64::NAN;
                continue;
            }
            if rows[i] < units {
                min[i] = min[i].min(0.0);
                max[i] = max[i].max(0.0);
            }
            mean[i] = sum[i] / units as f64;
        }
        Binned { min, max, mean }
    }
}

/// The values of the rows in bins of one unit each (raw), `NaN` where no
/// row falls (the last row wins on a shared bin).
pub fn dense(times: &[i64], values: &[f64], bins: &Bins) -> Vec<f64> {
    let mut out = vec![f64::NAN; bins.n];
    for (&t, &v) in times.iter().zip(values) {
        if let Some(i) = bins.index(t) {
            out[i] = v;
        }
    }
    out
}

/// A length of time in words: "45 minutes", "3.2 days", "9,998 years".
pub fn duration(secs: i64) -> String {
    let s = secs.unsigned_abs() as f64;
    let (v, unit) = if s < 2.0 * HOUR as f64 {
        (s / 60.0, "minutes")
    } else if s < 2.0 * DAY as f64 {
        (s / HOUR as f64, "hours")
    } else if s < 60.0 * DAY as f64 {
        (s / DAY as f64, "days")
    } else if s < 730.0 * DAY as f64 {
        (s / (30.436875 * DAY as f64), "months")
    } else {
        (s / (365.2425 * DAY as f64), "years")
    };
    if v >= 100.0 {
        format!("{} {unit}", crate::text::thousands(v.round() as i64))
    } else if (v - v.round()).abs() < 0.05 {
        format!("{:.0} {unit}", v.round())
    } else {
        format!("{v:.1} {unit}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T2016: i64 = 1_469_498_400; // 2016-07-26T02:00:00Z

    #[test]
    fn far_events_are_left_outside_and_counted() {
        // 4,000 minutes of 2016 data, one event at time 0 and one in 9999
        let mut times = vec![0];
        times.extend((0..4000).map(|i| T2016 + i * MINUTE));
        times.push(253_402_300_740);
        let weights = vec![1; times.len()];
        let b = bulk(&times, &weights, MINUTE).unwrap();
        assert_eq!(b.outside, 2);
        assert_eq!(b.total, 4002);
        assert_eq!((b.start, b.end), (T2016, T2016 + 4000 * MINUTE));
        assert_eq!((b.first, b.last), (0, 253_402_300_800));
        let bins = Bins::over(b.start, b.end, MINUTE, 1000);
        assert_eq!(bins.width, HOUR, "4,000 minutes go in hours");
        assert!(bins.n <= 1000);
    }

    #[test]
    fn data_spread_evenly_is_charted_whole() {
        let times: Vec<i64> = (0..1000).map(|i| T2016 + i * 7 * HOUR).collect();
        let b = bulk(&times, &vec![1; 1000], MINUTE).unwrap();
        assert_eq!(b.outside, 0);
        assert_eq!((b.start, b.end), (T2016, T2016 + 999 * 7 * HOUR + MINUTE));
    }

    #[test]
    fn unsorted_rows_give_the_same_stretch() {
        let mut times: Vec<i64> = (0..500).map(|i| T2016 + i * MINUTE).collect();
        times.push(-62_135_596_800); // year 1
        let sorted = bulk(&times, &vec![2; 501], MINUTE).unwrap();
        times.reverse();
        assert_eq!(bulk(&times, &vec![2; 501], MINUTE).unwrap(), sorted);
        assert_eq!(sorted.outside, 2);
    }

    #[test]
    fn bins_never_outnumber_the_limit_whatever_the_span() {
        for span in [
            MINUTE,
            999 * MINUTE,
            40 * DAY,
            365 * DAY,
            9998 * 365 * DAY,
            i64::MAX / 4,
        ] {
            let b = Bins::over(-62_135_596_800, -62_135_596_800 + span, MINUTE, 1000);
            assert!(b.n <= 1000, "span {span}: {b:?}");
            assert!(b.start <= -62_135_596_800);
        }
        assert_eq!(Bins::over(T2016, T2016 + 6 * 7 * DAY, MINUTE, 1100).label(), "hour");
        assert_eq!(Bins::over(T2016, T2016 + 6 * 7 * DAY, MINUTE, 1100).n, 1008);
        assert_eq!(Bins::over(T2016, T2016 + 365 * DAY, HOUR, 1000).label(), "day");
        assert_eq!(Bins::over(T2016, T2016 + 600 * MINUTE, MINUTE, 1000).label(), "minute");
    }

    #[test]
    fn a_bin_holds_min_max_and_mean_with_missing_units_as_zero() {
        let bins = Bins {
            start: 0,
            width: HOUR,
            n: 2,
        };
        // hour 0: 60 minutes, all present: 1..=60; hour 1: two minutes, 5 and 7
        let mut times: Vec<i64> = (0..60).map(|m| m * MINUTE).collect();
        let mut values: Vec<f64> = (1..=60).map(f64::from).collect();
        times.extend([HOUR, HOUR + 10 * MINUTE]);
        values.extend([5.0, 7.0]);
        let b = aggregate(&times, &values, &bins, MINUTE, (0, 2 * HOUR));
        assert_eq!(b.min, vec![1.0, 0.0]);
        assert_eq!(b.max, vec![60.0, 7.0]);
        assert_eq!(b.mean, vec![30.5, 0.2]);
        // only the first 30 minutes of hour 1 hold data: the mean is over 30
        let b = aggregate(&times, &values, &bins, MINUTE, (0, HOUR + 30 * MINUTE));
        assert_eq!(b.mean[1], 0.4);
        // negative values keep their sign; missing minutes still count as 0
        let b = aggregate(&[0], &[-4.0], &bins, MINUTE, (0, 2 * HOUR));
        assert_eq!((b.min[0], b.max[0]), (-4.0, 0.0));
    }

    #[test]
    fn values_that_absent_units_do_not_have_are_binned_over_the_rows_present() {
        let bins = Bins {
            start: 0,
            width: DAY,
            n: 3,
        };
        // day 0: hours 5 and 6 only (averages 1.0 and 1.4); day 1: none;
        // day 2: one hour
        let times = [5 * HOUR, 6 * HOUR, 2 * DAY + HOUR];
        let values = [1.0, 1.4, 2.0];
        let b = aggregate_present(&times, &values, &bins, (0, 3 * DAY));
        assert_eq!(b.min[0], 1.0);
        assert_eq!(b.max[0], 1.4);
        assert!((b.mean[0] - 1.2).abs() < 1e-12, "{:?}", b.mean);
        assert!(b.mean[1].is_nan() && b.min[1].is_nan() && b.max[1].is_nan());
        assert_eq!((b.min[2], b.max[2], b.mean[2]), (2.0, 2.0, 2.0));
        // where absent units count as 0, day 0's mean is over its 24 hours
        let zeros = aggregate(&times, &values, &bins, HOUR, (0, 3 * DAY));
        assert!((zeros.mean[0] - 0.1).abs() < 1e-12 && zeros.min[0] == 0.0);
    }

    #[test]
    fn durations_read_as_words() {
        assert_eq!(duration(45 * MINUTE), "45 minutes");
        assert_eq!(duration(52 * HOUR), "2.2 days");
        assert_eq!(duration(253_402_300_800), "8,030 years");
        assert_eq!(duration(365 * DAY), "12 months");
    }
}
