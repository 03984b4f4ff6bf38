//! CSV as every output writes it: the `tables/*.csv` files of a report and
//! `sql --format csv` go through the one function [`write_frame`], so a
//! view and the report table of the same name are the same bytes.
//!
//! Polars' CSV writer writes the rows. Timestamps are RFC 3339 in UTC with a
//! `Z` (`2016-07-26T02:00:00Z`, fractions of a second only when present),
//! formatted here without `strftime`: the date part is computed once per day
//! and the clock digits written directly. Floats keep full precision
//! (shortest round-trip form, `0.0` for zero), null is an empty field, the
//! empty string is `""`, and a value is quoted only when it holds a comma, a
//! quote or a line break. Values are written as they are: a value that
//! starts with `=`, `+`, `-` or `@` is not altered (see the README on
//! spreadsheets).

use std::fmt::Write as _;
use std::io::Write;

use chrono::DateTime;
use polars::prelude::*;

use crate::metrics::MovingTable;

/// A CSV field for the few values written without Polars' writer: in
/// quotes when it holds a comma, a quote or a line break (quotes doubled),
/// or when empty, as the `csv` crate writes a record of one field.
pub fn field(s: &str) -> String {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::with_capacity(s.len() + 3));
    // writing to memory cannot fail
    let _ = w.write_record([s]);
    let mut bytes = w.into_inner().unwrap_or_default();
    bytes.pop(); // the record's line break
    String::from_utf8(bytes).unwrap_or_default()
}

/// Each name as a CSV field, as Polars' writer quotes it: in quotes when
/// it holds a comma, a quote or a line break (quotes doubled), and `""`
/// when empty.
pub fn fields(names: &[std::sync::Arc<str>]) -> Vec<Vec<u8>> {
    names.iter().map(|n| field(n).into_bytes()).collect()
}

/// Rows `rows` of a piece of the moving average as CSV lines, the action
/// of code `a` written as `fields[a]`: the same bytes as the rows of its
/// frame through [`write_rows`] (the tests hold it to that), formatted
/// without building the frame's string columns (each minute's time once
/// for all its actions).
pub fn moving_rows(m: &MovingTable, fields: &[Vec<u8>], rows: std::ops::Range<usize>, out: &mut Vec<u8>) {
    let mut time = Rfc3339::default();
    let mut stamp = String::with_capacity(32);
    let mut minute = None;
    let mut ints = itoa::Buffer::new();
    let mut floats = zmij::Buffer::new();
    out.reserve(rows.len() * 48);
    for k in rows {
        let at = m.minute(k);
        if minute != Some(at) {
            time.format_parts(at, 0, &mut stamp);
            minute = Some(at);
        }
        out.extend_from_slice(&fields[m.codes[k % m.actions.max(1)] as usize]);
        out.push(b',');
        out.extend_from_slice(stamp.as_bytes());
        out.push(b',');
        out.extend_from_slice(ints.format(m.count[k]).as_bytes());
        out.push(b',');
        out.extend_from_slice(floats.format(m.average[k]).as_bytes());
        out.push(b',');
        if let Some(v) = m.variance[k] {
            out.extend_from_slice(floats.format(v).as_bytes());
        }
        out.push(b'\n');
    }
}

/// Year, month and day of a day number counted from 1970-01-01 (the
/// proleptic Gregorian calendar, as chrono and Polars use).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

fn two(out: &mut String, v: u32) {
    out.push(char::from(b'0' + (v / 10) as u8));
    out.push(char::from(b'0' + (v % 10) as u8));
}

/// Formats timestamps in RFC 3339 UTC, remembering the last day's date part.
#[derive(Default)]
pub struct Rfc3339 {
    day: Option<i64>,
    date: String,
}

impl Rfc3339 {
    /// Writes `ns` nanoseconds since the epoch into `out` (which it clears):
    /// `2016-07-26T02:45:00Z`, with `.500`, `.000250` or `.000000250` when
    /// the time has a fraction of a second.
    pub fn format(&mut self, ns: i128, out: &mut String) {
        out.clear();
        let secs = ns.div_euclid(1_000_000_000);
        let frac = ns.rem_euclid(1_000_000_000) as u32;
        match i64::try_from(secs) {
            Ok(secs) => self.format_parts(secs, frac, out),
            Err(_) => {
                let _ = write!(out, "{ns}");
            }
        }
    }

    /// [`Rfc3339::format`] of `secs` seconds and `frac` nanoseconds.
    pub fn format_parts(&mut self, secs: i64, frac: u32, out: &mut String) {
        out.clear();
        let day = secs.div_euclid(86_400);
        if self.day != Some(day) {
            self.date.clear();
            let (y, m, d) = civil(day);
            if (0..=9999).contains(&y) {
                let _ = write!(self.date, "{y:04}-{m:02}-{d:02}T");
            } else {
                // outside four digits: chrono's form (`+10000-01-01`)
                match DateTime::from_timestamp(day * 86_400, 0) {
                    Some(t) => {
                        let _ = write!(self.date, "{}T", t.format("%Y-%m-%d"));
                    }
                    None => {
                        let _ = write!(out, "{secs}");
                        return;
                    }
                }
            }
            self.day = Some(day);
        }
        let tod = secs.rem_euclid(86_400) as u32;
        out.push_str(&self.date);
        two(out, tod / 3600);
        out.push(':');
        two(out, tod / 60 % 60);
        out.push(':');
        two(out, tod % 60);
        if frac != 0 {
            let _ = if frac.is_multiple_of(1_000_000) {
                write!(out, ".{:03}", frac / 1_000_000)
            } else if frac.is_multiple_of(1_000) {
                write!(out, ".{:06}", frac / 1_000)
            } else {
                write!(out, ".{frac:09}")
            };
        }
        out.push('Z');
    }
}

/// Values per second and nanoseconds per value of a time unit.
fn per_second(unit: TimeUnit) -> (i64, i64) {
    match unit {
        TimeUnit::Nanoseconds => (1_000_000_000, 1),
        TimeUnit::Microseconds => (1_000_000, 1_000),
        TimeUnit::Milliseconds => (1_000, 1_000_000),
    }
}

/// A datetime column as RFC 3339 strings (nulls stay null).
pub fn rfc3339_column(c: &Column) -> PolarsResult<Column> {
    let DataType::Datetime(unit, _) = c.dtype() else {
        polars_bail!(ComputeError: "{} is not a datetime column", c.name());
    };
    let (per, nanos) = per_second(*unit);
    let physical = c.as_materialized_series().to_physical_repr();
    let values = physical.i64()?;
    let mut builder = StringChunkedBuilder::new(c.name().clone(), values.len());
    let mut fmt = Rfc3339::default();
    let mut buf = String::with_capacity(32);
    for v in values.iter() {
        match v {
            Some(v) => {
                let frac = (v.rem_euclid(per) * nanos) as u32;
                fmt.format_parts(v.div_euclid(per), frac, &mut buf);
                builder.append_value(&buf);
            }
            None => builder.append_null(),
        }
    }
    Ok(builder.finish().into_column())
}

/// `df` with what Polars' CSV writer would not write as this tool does:
/// datetimes as RFC 3339 with a `Z`; nested and binary values as text.
fn prepared(df: &DataFrame) -> PolarsResult<DataFrame> {
    let mut columns = Vec::with_capacity(df.width());
    for c in df.columns() {
        let c = match c.dtype() {
            DataType::Datetime(..) => rfc3339_column(c)?,
            DataType::List(_) | DataType::Array(..) | DataType::Struct(_) | DataType::Binary => {
                let mut builder = StringChunkedBuilder::new(c.name().clone(), c.len());
                for i in 0..c.len() {
                    match c.get(i)? {
                        AnyValue::Null => builder.append_null(),
                        v => builder.append_value(v.to_string()),
                    }
                }
                builder.finish().into_column()
            }
            _ => c.clone(),
        };
        columns.push(c);
    }
    DataFrame::new(df.height(), columns)
}

/// Writes `df` as CSV with a header row into `out`.
pub fn write_frame<W: Write>(df: &DataFrame, out: W) -> PolarsResult<()> {
    write_rows(df, out, true)
}

/// Writes `df` as CSV into `out`, with a header row when `header`. Each
/// row's bytes depend on that row alone, so rows written in parts are the
/// same bytes as rows written at once.
pub fn write_rows<W: Write>(df: &DataFrame, out: W, header: bool) -> PolarsResult<()> {
    let mut df = prepared(df)?;
    // up to some tens of thousands of rows are written sooner by the
    // calling thread than handed to the thread pool (whose threads then
    // spin, waiting, beside the report's other writers)
    let mut writer = CsvWriter::new(out).include_header(header);
    if df.height() < PARALLEL_ROWS {
        writer.n_threads(1).finish(&mut df)
    } else {
        writer.finish(&mut df)
    }
}

/// The fewest rows written by the thread pool.
const PARALLEL_ROWS: usize = 50_000;

/// `df` as CSV text with a header row.
pub fn frame_to_string(df: &DataFrame) -> PolarsResult<String> {
    let mut out = Vec::new();
    write_frame(df, &mut out)?;
    String::from_utf8(out).map_err(|e| polars_err!(ComputeError: "CSV output is not UTF-8: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moving_rows_are_the_bytes_of_the_frame_through_polars() {
        use crate::state::MinuteCounts;
        use std::sync::Arc;
        // names that need quotes, huge counts (variances past 64 bits),
        // fractions of every kind, times before 1970 and past 9999
        let names = ["a,b", "say \"hi\"", "line\nbreak", "plain", "ünï"];
        let mut c = MinuteCounts::new();
        let mut rng = 7u64;
        for i in 0..4_000i64 {
            rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let t = match i {
                0 => -86_400 * 400,
                1 => 253_402_300_800 + 3_600,
                _ => 1_469_501_100 + i * 37 % 50_000,
            };
            let n = if i == 5 { 3_000_000_000 } else { 1 + (rng >> 60) };
            c.add_counts(&[(
                names[(rng >> 40) as usize % names.len()].into(),
                t - t.rem_euclid(60),
                n,
            )]);
        }
        let t = c.table();
        let bounds = (t.start[0], *t.start.last().unwrap());
        for window in [1, 30, 600] {
            let m = crate::metrics::moving_table(&t, window, bounds).unwrap();
            let names: Vec<Arc<str>> = t.names.clone();
            let frame = crate::frames::moving_frame(&m.frame().unwrap(), &names).unwrap();
            let mut want = Vec::new();
            write_rows(&frame, &mut want, false).unwrap();
            let mut got = Vec::new();
            let fields = fields(&names);
            // in two parts, as blocks are written
            moving_rows(&m, &fields, 0..m.len() / 3, &mut got);
            moving_rows(&m, &fields, m.len() / 3..m.len(), &mut got);
            assert!(got == want, "window {window}: the rows differ");
        }
        assert_eq!(fields(&["".into(), "x".into()]), [b"\"\"".to_vec(), b"x".to_vec()]);
    }

    #[test]
    fn fields_are_quoted_only_when_needed() {
        assert_eq!(field("Open"), "Open");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("line\nbreak"), "\"line\nbreak\"");
        assert_eq!(field(""), "\"\"");
    }

    #[test]
    fn the_calendar_agrees_with_chrono_over_ten_thousand_years() {
        // every 997th day from year 1 to 9999, and the edges
        let first = -719_162; // 0001-01-01
        let last = 2_932_896; // 9999-12-31
        let mut fmt = Rfc3339::default();
        let mut out = String::new();
        for day in (first..=last).step_by(997).chain([first, last, -1, 0, 59, 60, 11_016]) {
            let secs = day * 86_400 + 45_296;
            fmt.format(i128::from(secs) * 1_000_000_000, &mut out);
            let expected = DateTime::from_timestamp(secs, 0)
                .unwrap()
                .format("%Y-%m-%dT%H:%M:%SZ")
                .to_string();
            assert_eq!(out, expected, "day {day}");
        }
    }

    #[test]
    fn fractions_appear_only_when_present() {
        let mut fmt = Rfc3339::default();
        let mut out = String::new();
        let base: i128 = 1_469_498_400 * 1_000_000_000;
        fmt.format(base, &mut out);
        assert_eq!(out, "2016-07-26T02:00:00Z");
        fmt.format(base + 500_000_000, &mut out);
        assert_eq!(out, "2016-07-26T02:00:00.500Z");
        fmt.format(base + 250_000, &mut out);
        assert_eq!(out, "2016-07-26T02:00:00.000250Z");
        fmt.format(base + 7, &mut out);
        assert_eq!(out, "2016-07-26T02:00:00.000000007Z");
        fmt.format(-1_000_000_000, &mut out);
        assert_eq!(out, "1969-12-31T23:59:59Z");
    }

    fn sample() -> DataFrame {
        df!(
            "action" => ["Open", "Close, \"quoted\"", "=1+1", "two\nlines", ""],
            "t" => [1_469_501_100_000i64, 1_469_501_160_000, 1_469_501_220_500, 0, -1000],
            "average" => [Some(16.575), None, Some(0.1 + 0.2), Some(0.0), Some(2.0)],
            "count" => [1i64, 2, 3, 4, 5],
        )
        .unwrap()
        .lazy()
        .with_column(col("t").cast(DataType::Datetime(TimeUnit::Milliseconds, None)))
        .collect()
        .unwrap()
    }

    #[test]
    fn frames_are_rfc3339_full_precision_quoted_only_when_needed() {
        assert_eq!(
            frame_to_string(&sample()).unwrap(),
            "action,t,average,count\n\
             Open,2016-07-26T02:45:00Z,16.575,1\n\
             \"Close, \"\"quoted\"\"\",2016-07-26T02:46:00Z,,2\n\
             =1+1,2016-07-26T02:47:00.500Z,0.30000000000000004,3\n\
             \"two\nlines\",1970-01-01T00:00:00Z,0.0,4\n\
             \"\",1969-12-31T23:59:59Z,2.0,5\n"
        );
    }

    #[test]
    fn utc_datetimes_are_written_the_same_way() {
        let df = sample()
            .lazy()
            .with_column(col("t").cast(DataType::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))))
            .collect()
            .unwrap();
        let text = frame_to_string(&df).unwrap();
        assert!(text.contains("Open,2016-07-26T02:45:00Z,16.575,1\n"), "{text}");
    }
}
