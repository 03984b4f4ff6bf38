//! Any Polars frame (a SQL result, a figure) as a terminal table, CSV,
//! JSON or NDJSON, and every figure of a run as one JSON document or as
//! NDJSON rows.
//!
//! Datetimes are UTC: tables show `2016-07-26 02:45:00`, CSV and JSON the
//! RFC 3339 form with a `Z`, as every report file does. Floats keep their
//! full precision (shortest round-trip form); null is an empty CSV field,
//! JSON `null` and an empty table cell. Table cells and column names go
//! through [`printable`], so control characters in the data are shown
//! escaped, never sent to the terminal.

use chrono::DateTime;
use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{CellAlignment, ContentArrangement, Table};
use std::fmt::Write;

use polars::prelude::*;
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use serde_json::{Number, Value};

use super::summary::Summary;
use crate::metrics::Figures;
use crate::source::Rejected;
use crate::text::{printable, thousands};

/// How a result is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FrameFormat {
    /// A formatted table, long results abridged to their first and last rows.
    Table,
    /// CSV with a header row.
    Csv,
    /// One JSON array of row objects.
    Json,
    /// One JSON object per row and line (JSON Lines).
    Ndjson,
}

/// Where a table is printed, which decides how its note says to see the
/// rows it leaves out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// On the command line: the note names the options.
    Command,
    /// In the interactive prompt: the note names the prompt's commands.
    Prompt,
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

/// A row as a JSON object whose keys keep the order of the frame's
/// columns (a plain JSON map would sort them).
#[derive(Debug, Clone, PartialEq)]
pub struct Row(pub Vec<(String, Value)>);

impl Serialize for Row {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in &self.0 {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

/// The rows of `df` as JSON objects, column name to value, in column order.
pub fn json_rows(df: &DataFrame) -> PolarsResult<Vec<Row>> {
    let names: Vec<String> = df.get_column_names().iter().map(|n| n.to_string()).collect();
    (0..df.height())
        .map(|i| Ok(Row(names.iter().cloned().zip(row(df, i, json)?).collect())))
        .collect()
}

/// Named tables as one JSON object, in the order given.
struct Tables<'a>(Vec<(&'static str, Rows<'a>)>);

impl Serialize for Tables<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, rows) in &self.0 {
            map.serialize_entry(name, rows)?;
        }
        map.end()
    }
}

/// Rows of this many rows of the moving average are made at a time.
const PIECE_ROWS: u64 = 1 << 16;

/// The rows of a table, made as they are written: a frame's one at a time,
/// the moving average's a piece of hours at a time (it is never whole).
enum Rows<'a> {
    Frame(DataFrame),
    Moving(&'a Figures),
}

impl Rows<'_> {
    /// Calls `each` with every row, in order.
    fn each<E>(&self, mut each: impl FnMut(Row) -> Result<(), E>, fail: impl Fn(String) -> E) -> Result<(), E> {
        let frame_rows = |df: &DataFrame, each: &mut dyn FnMut(Row) -> Result<(), E>| -> Result<(), E> {
            let names: Vec<String> = df.get_column_names().iter().map(|n| n.to_string()).collect();
            for i in 0..df.height() {
                let values = row(df, i, json).map_err(|e| fail(e.to_string()))?;
                each(Row(names.iter().cloned().zip(values).collect()))?;
            }
            Ok(())
        };
        match self {
            Rows::Frame(df) => frame_rows(df, &mut each),
            Rows::Moving(f) => {
                let names = f.action_names();
                for (lo, hi) in f.moving_pieces(PIECE_ROWS) {
                    let piece = f
                        .moving_piece(lo, hi)
                        .and_then(|m| crate::frames::moving_frame(&m.frame()?, &names))
                        .map_err(|e| fail(format!("{e:#}")))?;
                    frame_rows(&piece, &mut each)?;
                }
                Ok(())
            }
        }
    }
}

impl Serialize for Rows<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{Error, SerializeSeq};
        let mut seq = serializer.serialize_seq(None)?;
        self.each(|r| seq.serialize_element(&r), S::Error::custom)?;
        seq.end()
    }
}

/// The document of `batch --format json`: the summary's keys, then `tables`.
#[derive(Serialize)]
struct FiguresDoc<'a> {
    #[serde(flatten)]
    summary: &'a Summary,
    tables: Tables<'a>,
}

/// An object with a `"table"` key first and the keys of `inner` after it.
#[derive(Serialize)]
struct Tagged<'a, T: Serialize> {
    table: &'a str,
    #[serde(flatten)]
    inner: T,
}

/// One JSON value per line.
fn lines<T: Serialize>(items: impl IntoIterator<Item = T>) -> String {
    let mut out = String::new();
    for item in items {
        let _ = writeln!(out, "{}", serde_json::to_string(&item).unwrap_or_default());
    }
    out
}

/// Renders `df` in `format`, as the command line prints it. A table shows
/// at most `max_rows` rows (the first and last halves; 0 shows all) and
/// ends with the row count.
pub fn render(df: &DataFrame, format: FrameFormat, max_rows: usize) -> PolarsResult<String> {
    render_in(df, format, max_rows, Place::Command)
}

/// [`render`], with the note of an abridged table fitted to `place`.
pub fn render_in(df: &DataFrame, format: FrameFormat, max_rows: usize, place: Place) -> PolarsResult<String> {
    match format {
        FrameFormat::Table => table(df, max_rows, place),
        // the one CSV writer of the report tables, so that a view and its
        // table are the same bytes
        FrameFormat::Csv => super::csv::frame_to_string(df),
        FrameFormat::Json => {
            let mut out = serde_json::to_string_pretty(&json_rows(df)?).unwrap_or_default();
            out.push('\n');
            Ok(out)
        }
        FrameFormat::Ndjson => Ok(lines(json_rows(df)?)),
    }
}

/// The tables of a run by name, in the order the report lists them:
/// every figure, then the rejected lines.
/// Every table of a run in the report's order, the moving average made
/// as it is written.
fn run_tables<'a>(figures: &'a Figures, rejected: &[Rejected]) -> anyhow::Result<Vec<(&'static str, Rows<'a>)>> {
    let mut tables = Vec::new();
    for &name in crate::frames::FIGURE_TABLES.iter() {
        tables.push((
            name,
            match name {
                "moving_average" => Rows::Moving(figures),
                _ => Rows::Frame(crate::frames::figure_frame(figures, name)?),
            },
        ));
    }
    tables.push(("rejected", Rows::Frame(crate::frames::rejected_frame(rejected)?)));
    Ok(tables)
}

/// Writes every figure of a run as one JSON document into `out`: the keys
/// of `summary.json` and `tables`, which holds each table of the report
/// folder (the CSV files and `rejected.ndjson`) as an array of row objects
/// under its name. The document is written as it is made: the moving
/// average is never held whole.
pub fn write_figures_json(
    out: impl std::io::Write,
    summary: &Summary,
    figures: &Figures,
    rejected: &[Rejected],
) -> anyhow::Result<()> {
    let doc = FiguresDoc {
        summary,
        tables: Tables(run_tables(figures, rejected)?),
    };
    let mut out = std::io::BufWriter::with_capacity(1 << 16, out);
    let mut ser = serde_json::Serializer::with_formatter(&mut out, serde_json::ser::PrettyFormatter::new());
    doc.serialize(&mut ser)?;
    std::io::Write::write_all(&mut out, b"\n")?;
    std::io::Write::flush(&mut out)?;
    Ok(())
}

/// Writes every figure of a run as JSON Lines into `out`: first
/// `{"table": "summary", ...}` with the keys of `summary.json`, then one
/// object per row of each table, `{"table": "minute_counts", "action": ...,
/// ...}` (the `table` key comes first, so `grep '^{"table":"alerts"'`
/// finds a table's rows).
pub fn write_figures_ndjson(
    out: impl std::io::Write,
    summary: &Summary,
    figures: &Figures,
    rejected: &[Rejected],
) -> anyhow::Result<()> {
    let mut out = std::io::BufWriter::with_capacity(1 << 16, out);
    let mut line = |item: &dyn erased::Json| -> std::io::Result<()> {
        item.write(&mut out)?;
        std::io::Write::write_all(&mut out, b"\n")
    };
    line(&Tagged {
        table: "summary",
        inner: summary,
    })?;
    for (name, rows) in run_tables(figures, rejected)? {
        rows.each(|r| line(&Tagged { table: name, inner: r }), std::io::Error::other)?;
    }
    std::io::Write::flush(&mut out)?;
    Ok(())
}

/// Compact JSON of values of different types through one closure.
mod erased {
    /// A value written as compact JSON.
    pub trait Json {
        fn write(&self, out: &mut dyn std::io::Write) -> std::io::Result<()>;
    }

    impl<T: serde::Serialize> Json for T {
        fn write(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
            serde_json::to_writer(out, self).map_err(std::io::Error::from)
        }
    }
}

fn table(df: &DataFrame, max_rows: usize, place: Place) -> PolarsResult<String> {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(
            df.get_column_names()
                .iter()
                .map(|n| printable(n).into_owned())
                .collect::<Vec<_>>(),
        );
    // a terminal that reports no size (a pseudo-terminal nobody sized):
    // 80 columns, not one character a column
    if t.width() == Some(0) {
        t.set_width(80);
    }
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
            Some(i) => t.add_row(row(df, i, |v| {
                text(v, true).map(|s| printable(&s).into_owned()).unwrap_or_default()
            })?),
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
        let how = match place {
            Place::Command => "--max-rows 0 shows all, --format csv writes all",
            Place::Prompt => ".maxrows 0 shows all, .output FILE with .format csv writes all",
        };
        format!("{rows}, {max_rows} shown ({how})")
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
        let prompt = render_in(&sample(), FrameFormat::Table, 2, Place::Prompt).unwrap();
        assert!(prompt.ends_with("3 rows, 2 shown (.maxrows 0 shows all, .output FILE with .format csv writes all)\n"));
        let all = render(&sample(), FrameFormat::Table, 0).unwrap();
        assert!(all.contains("02:46:00") && all.ends_with("3 rows\n"), "{all}");
    }

    #[test]
    fn table_cells_and_names_show_controls_escaped() {
        let df = df!("a\u{1b}[2J" => ["\u{1b}]0;PWNED\u{7}X", "abc\u{202e}def"]).unwrap();
        let out = render(&df, FrameFormat::Table, 0).unwrap();
        assert!(
            !out.contains('\u{1b}') && !out.contains('\u{7}') && !out.contains('\u{202e}'),
            "{out:?}"
        );
        assert!(out.contains("\\u{1b}]0;PWNED\\u{7}X"), "{out}");
        assert!(out.contains("abc\\u{202e}def"), "{out}");
        assert!(out.contains("a\\u{1b}[2J"), "{out}");
        // CSV and JSON are for programs: the value is kept, JSON escapes it
        let json = render(&df, FrameFormat::Json, 0).unwrap();
        assert!(json.contains("\\u001b]0;PWNED\\u0007X"), "{json}");
    }

    #[test]
    fn ndjson_is_one_object_per_line() {
        let out = render(&sample(), FrameFormat::Ndjson, 0).unwrap();
        let rows: Vec<Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[1]["action"], "Close, \"quoted\"");
        assert_eq!(rows[0]["average"], Value::from(16.575));
    }
}
