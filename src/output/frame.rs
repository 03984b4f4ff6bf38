//! Any Polars frame (a SQL result) as a terminal table, CSV or JSON.
//!
//! Datetimes are UTC: tables show `2016-07-26 02:45:00`, CSV and JSON the
//! RFC 3339 form with a `Z`, as every report file does. Floats keep their
//! full precision (shortest round-trip form); null is an empty CSV field,
//! JSON `null` and an empty table cell.

use chrono::DateTime;
use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{CellAlignment, ContentArrangement, Table};
use polars::prelude::*;
use serde_json::{Map, Number, Value};

use super::terminal::thousands;

/// How a result is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FrameFormat {
    /// A formatted table, long results abridged to their first and last rows.
    Table,
    /// CSV with a header row.
    Csv,
    /// One JSON array of row objects.
    Json,
}

/// A datetime value in nanoseconds since the epoch, UTC.
fn nanos(v: i64, unit: TimeUnit) -> i128 {
    let v = i128::from(v);
    match unit {
        TimeUnit::Nanoseconds => v,
        TimeUnit::Microseconds => v * 1_000,
        TimeUnit::Milliseconds => v * 1_000_000,
    }
}

/// Formats nanoseconds since the epoch with `sep` between date and time and
/// `zone` at the end; fractions of a second appear only when present.
fn datetime(ns: i128, sep: char, zone: &str) -> String {
    let secs = ns.div_euclid(1_000_000_000);
    let frac = ns.rem_euclid(1_000_000_000) as u32;
    match i64::try_from(secs).ok().and_then(|s| DateTime::from_timestamp(s, frac)) {
        Some(t) if frac == 0 => format!("{}{zone}", t.format(&format!("%Y-%m-%d{sep}%H:%M:%S"))),
        Some(t) => format!("{}{zone}", t.format(&format!("%Y-%m-%d{sep}%H:%M:%S%.f"))),
        None => ns.to_string(),
    }
}

/// A cell as text; `None` for null. `table` chooses the terminal's
/// datetime form over RFC 3339.
fn text(v: &AnyValue, table: bool) -> Option<String> {
    let (sep, zone) = if table { (' ', "") } else { ('T', "Z") };
    Some(match v {
        AnyValue::Null => return None,
        AnyValue::String(s) => s.to_string(),
        AnyValue::StringOwned(s) => s.to_string(),
        AnyValue::Boolean(b) => b.to_string(),
        AnyValue::Float64(f) => f.to_string(),
        AnyValue::Float32(f) => f.to_string(),
        AnyValue::Datetime(t, unit, _) => datetime(nanos(*t, *unit), sep, zone),
        AnyValue::DatetimeOwned(t, unit, _) => datetime(nanos(*t, *unit), sep, zone),
        AnyValue::Date(d) => datetime(i128::from(*d) * 86_400_000_000_000, sep, zone)[..10].to_string(),
        other => other.to_string(),
    })
}

/// A cell as JSON.
fn json(v: &AnyValue) -> Value {
    match v {
        AnyValue::Null => Value::Null,
        AnyValue::Boolean(b) => Value::Bool(*b),
        AnyValue::Int8(n) => Value::from(*n),
        AnyValue::Int16(n) => Value::from(*n),
        AnyValue::Int32(n) => Value::from(*n),
        AnyValue::Int64(n) => Value::from(*n),
        AnyValue::UInt8(n) => Value::from(*n),
        AnyValue::UInt16(n) => Value::from(*n),
        AnyValue::UInt32(n) => Value::from(*n),
        AnyValue::UInt64(n) => Value::from(*n),
        AnyValue::Float64(f) => Number::from_f64(*f).map_or(Value::Null, Value::Number),
        AnyValue::Float32(f) => Number::from_f64(f64::from(*f)).map_or(Value::Null, Value::Number),
        other => text(other, false).map_or(Value::Null, Value::String),
    }
}

/// Row `i` of `df`, each cell through `f`.
fn row<T>(df: &DataFrame, i: usize, f: impl Fn(&AnyValue) -> T) -> PolarsResult<Vec<T>> {
    df.columns().iter().map(|c| c.get(i).map(|v| f(&v))).collect()
}

/// Renders `df` in `format`. A table shows at most `max_rows` rows (the
/// first and last halves; 0 shows all) and ends with the row count.
pub fn render(df: &DataFrame, format: FrameFormat, max_rows: usize) -> PolarsResult<String> {
    match format {
        FrameFormat::Table => table(df, max_rows),
        // the one CSV writer of the report tables, so that a view and its
        // table are the same bytes
        FrameFormat::Csv => super::csv::frame_to_string(df),
        FrameFormat::Json => {
            let names: Vec<String> = df.get_column_names().iter().map(|n| n.to_string()).collect();
            let mut rows = Vec::with_capacity(df.height());
            for i in 0..df.height() {
                let cells = row(df, i, json)?;
                rows.push(Value::Object(names.iter().cloned().zip(cells).collect::<Map<_, _>>()));
            }
            let mut out = serde_json::to_string_pretty(&Value::Array(rows)).unwrap_or_default();
            out.push('\n');
            Ok(out)
        }
    }
}

fn table(df: &DataFrame, max_rows: usize) -> PolarsResult<String> {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(df.get_column_names().iter().map(|n| n.to_string()).collect::<Vec<_>>());
    let height = df.height();
    let shown: Vec<Option<usize>> = if max_rows == 0 || height <= max_rows {
        (0..height).map(Some).collect()
    } else {
        let head = max_rows.div_ceil(2);
        let tail = max_rows - head;
        (0..head)
            .map(Some)
            .chain(std::iter::once(None))
            .chain((height - tail..height).map(Some))
            .collect()
    };
    for i in shown {
        match i {
            Some(i) => t.add_row(row(df, i, |v| text(v, true).unwrap_or_default())?),
            None => t.add_row(vec!["…"; df.width()]),
        };
    }
    for (i, c) in df.columns().iter().enumerate() {
        if c.dtype().is_primitive_numeric() {
            if let Some(col) = t.column_mut(i) {
                col.set_cell_alignment(CellAlignment::Right);
            }
        }
    }
    let rows = if height == 1 {
        "1 row".to_string()
    } else {
        format!("{} rows", thousands(height as i64))
    };
    let note = if max_rows != 0 && height > max_rows {
        format!("{rows}, {max_rows} shown (--max-rows 0 shows all, --format csv writes all)")
    } else {
        rows
    };
    Ok(format!("{t}\n{note}\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> DataFrame {
        df!(
            "action" => ["Open", "Close, \"quoted\"", "Open"],
            "t" => [1_469_501_100_000i64, 1_469_501_160_000, 1_469_501_220_500],
            "average" => [Some(16.575), None, Some(0.1)],
        )
        .unwrap()
        .lazy()
        .with_column(col("t").cast(DataType::Datetime(TimeUnit::Milliseconds, None)))
        .collect()
        .unwrap()
    }

    #[test]
    fn csv_is_rfc3339_and_quoted_with_empty_nulls() {
        let out = render(&sample(), FrameFormat::Csv, 0).unwrap();
        assert_eq!(
            out,
            "action,t,average\nOpen,2016-07-26T02:45:00Z,16.575\n\"Close, \"\"quoted\"\"\",2016-07-26T02:46:00Z,\nOpen,2016-07-26T02:47:00.500Z,0.1\n"
        );
    }

    #[test]
    fn json_keeps_numbers_and_nulls() {
        let out = render(&sample(), FrameFormat::Json, 0).unwrap();
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v[0]["average"], Value::from(16.575));
        assert_eq!(v[1]["average"], Value::Null);
        assert_eq!(v[2]["t"], "2016-07-26T02:47:00.500Z");
    }

    #[test]
    fn long_tables_are_abridged_and_say_so() {
        let out = render(&sample(), FrameFormat::Table, 2).unwrap();
        assert!(out.contains("2016-07-26 02:45:00"), "{out}");
        assert!(!out.contains("02:46:00"), "{out}");
        assert!(out.contains("02:47:00.500"), "{out}");
        assert!(out.contains('…'), "{out}");
        assert!(
            out.ends_with("3 rows, 2 shown (--max-rows 0 shows all, --format csv writes all)\n"),
            "{out}"
        );
        let all = render(&sample(), FrameFormat::Table, 0).unwrap();
        assert!(all.contains("02:46:00") && all.ends_with("3 rows\n"), "{all}");
    }
}
