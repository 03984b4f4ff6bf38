//! The figure tables as Polars frames: the one columnar form that every
//! table sink reads (CSV and Parquet tables, the page, the SQL views).
//! Windows are two datetime columns in milliseconds, UTC, without a time
//! zone.

use anyhow::Result;
use polars::prelude::{
    ChunkTake, Column, DataFrame, IdxCa, IdxSize, Int64Chunked, IntoSeries, NewChunkedArray, PolarsResult,
    StringChunked, TimeUnit,
};

use crate::metrics::Figures;
use crate::source::Rejected;

const MS: i64 = 1000;

pub(crate) fn datetime_ms(name: &str, secs: impl Iterator<Item = i64>) -> PolarsResult<Column> {
    // built as the logical type over its integers: no copy, no cast
    let ms: Vec<i64> = secs.map(|s| s * MS).collect();
    Ok(Int64Chunked::from_vec(name.into(), ms)
        .into_datetime(TimeUnit::Milliseconds, None)
        .into_series()
        .into())
}

pub(crate) fn strings<'a>(name: &str, values: impl Iterator<Item = &'a str>) -> Column {
    Column::new(name.into(), values.collect::<Vec<&str>>())
}

/// The `rejected` frame: the quarantine, in input order.
pub fn rejected_frame(rejected: &[Rejected]) -> PolarsResult<DataFrame> {
    DataFrame::new_infer_height(vec![
        strings("file", rejected.iter().map(|r| r.file.as_str())),
        Column::new("line".into(), rejected.iter().map(|r| r.line).collect::<Vec<u64>>()),
        strings("reason", rejected.iter().map(|r| r.reason.as_str())),
        strings("text", rejected.iter().map(|r| r.text.as_str())),
    ])
}

/// The names of the figure views (all but `events` and `rejected`), in
/// the order [`figure_frames`] gives them.
pub const FIGURE_TABLES: [&str; 6] = [
    "minute_counts",
    "hourly_counts",
    "totals",
    "hourly_average",
    "moving_average",
    "alerts",
];

/// The frames of every figure view (all but `events` and `rejected`), by
/// view name: the one columnar form every table sink (CSV, Parquet, the
/// page, SQL) reads.
pub fn figure_frames(f: &Figures) -> Result<Vec<(&'static str, DataFrame)>> {
    FIGURE_TABLES
        .iter()
        .map(|name| Ok((*name, figure_frame(f, name)?)))
        .collect()
}

/// The `minute_counts` frame of the rows of a minute table.
pub fn minute_frame(m: &crate::state::MinuteTable) -> PolarsResult<DataFrame> {
    minute_columns(m, &MINUTE_COLUMNS)
}

/// A string column of `codes` into `names`, gathered from a column of the
/// names: each row is a view into the names' bytes, none copied per row.
pub(crate) fn coded_strings(name: &str, names: &[std::sync::Arc<str>], codes: &[u32]) -> PolarsResult<Column> {
    let dictionary = StringChunked::from_slice(name.into(), &names.iter().map(|n| &**n).collect::<Vec<&str>>());
    let rows = IdxCa::from_vec(name.into(), codes.iter().map(|&c| c as IdxSize).collect());
    Ok(dictionary.take(&rows)?.into_series().into())
}

/// The columns of the `minute_counts` frame, in order.
pub const MINUTE_COLUMNS: [&str; 4] = ["action", "window_start", "window_end", "count"];

/// Some columns of the `minute_counts` frame of a minute table (names of
/// [`MINUTE_COLUMNS`]), in the order asked: a query that reads one column
/// builds only that one.
pub fn minute_columns(m: &crate::state::MinuteTable, names: &[&str]) -> PolarsResult<DataFrame> {
    let columns = names
        .iter()
        .map(|&name| match name {
            "action" => coded_strings("action", &m.names, &m.code),
            "window_start" => datetime_ms("window_start", m.start.iter().copied()),
            "window_end" => datetime_ms("window_end", m.start.iter().map(|s| s + crate::metrics::MINUTE)),
            "count" => Ok(Column::new(
                "count".into(),
                m.count.iter().map(|&c| c as i64).collect::<Vec<i64>>(),
            )),
            other => Err(polars::prelude::polars_err!(ColumnNotFound: "minute_counts has no column {other}")),
        })
        .collect::<PolarsResult<Vec<Column>>>()?;
    if columns.is_empty() {
        return Ok(DataFrame::empty_with_height(m.len()));
    }
    DataFrame::new_infer_height(columns)
}

/// The `moving_average` frame of rows of [`Figures::moving_average`]
/// (action codes into `names`).
pub fn moving_frame(moving: &DataFrame, names: &[std::sync::Arc<str>]) -> Result<DataFrame> {
    let codes: Vec<u32> = moving.column("action")?.u32()?.into_no_null_iter().collect();
    let mut moving = moving.clone();
    moving.with_column(coded_strings("action", names, &codes)?)?;
    moving.with_column(datetime_ms(
        "window_start",
        moving.column("window_start")?.i64()?.into_no_null_iter(),
    )?)?;
    Ok(moving)
}

/// The frame of the figure view `name` (one of [`FIGURE_TABLES`]).
pub fn figure_frame(f: &Figures, name: &str) -> Result<DataFrame> {
    let counts = |rows: &[crate::metrics::Count]| -> PolarsResult<DataFrame> {
        DataFrame::new_infer_height(vec![
            strings("action", rows.iter().map(|c| &*c.action)),
            datetime_ms("window_start", rows.iter().map(|c| c.window_start))?,
            datetime_ms("window_end", rows.iter().map(|c| c.window_end))?,
            Column::new("count".into(), rows.iter().map(|c| c.count).collect::<Vec<i64>>()),
        ])
    };
    Ok(match name {
        "minute_counts" => minute_frame(f.minute_counts())?,
        "hourly_counts" => counts(&f.hourly_counts)?,
        "totals" => DataFrame::new_infer_height(vec![
            strings("action", f.totals.iter().map(|t| t.0.as_str())),
            Column::new("total_count".into(), f.totals.iter().map(|t| t.1).collect::<Vec<i64>>()),
        ])?,
        "hourly_average" => DataFrame::new_infer_height(vec![
            datetime_ms("window_start", f.hourly_average.iter().map(|h| h.window_start))?,
            datetime_ms("window_end", f.hourly_average.iter().map(|h| h.window_end))?,
            Column::new(
                "average".into(),
                f.hourly_average.iter().map(|h| h.average).collect::<Vec<f64>>(),
            ),
        ])?,
        "moving_average" => moving_frame(f.moving_average()?, &f.minute_counts().names)?,
        "alerts" => {
            let a = &f.alerts;
            DataFrame::new_infer_height(vec![
                datetime_ms("window_start", a.iter().map(|r| r.window_start))?,
                datetime_ms("window_end", a.iter().map(|r| r.window_end))?,
                Column::new("open".into(), a.iter().map(|r| r.open).collect::<Vec<i64>>()),
                Column::new("close".into(), a.iter().map(|r| r.close).collect::<Vec<i64>>()),
                Column::new(
                    "difference".into(),
                    a.iter().map(|r| r.difference).collect::<Vec<i64>>(),
                ),
            ])?
        }
        other => anyhow::bail!("no figure table named {other}"),
    })
}
