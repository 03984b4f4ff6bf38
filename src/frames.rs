//! The figure tables as Polars frames: the one columnar form that every
//! table sink reads (CSV and Parquet tables, the page, the SQL views).
//! Windows are two datetime columns in milliseconds, UTC, without a time
//! zone.

use anyhow::Result;
use polars::prelude::{Column, DataFrame, DataType, PolarsResult, TimeUnit};

use crate::metrics::Figures;
use crate::source::Rejected;

const MS: i64 = 1000;

pub(crate) fn datetime_ms(name: &str, secs: impl Iterator<Item = i64>) -> PolarsResult<Column> {
    let ms: Vec<i64> = secs.map(|s| s * MS).collect();
    Column::new(name.into(), ms).cast(&DataType::Datetime(TimeUnit::Milliseconds, None))
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
    DataFrame::new_infer_height(vec![
        strings("action", m.code.iter().map(|&c| &*m.names[c as usize])),
        datetime_ms("window_start", m.start.iter().copied())?,
        datetime_ms("window_end", m.start.iter().map(|s| s + crate::metrics::MINUTE))?,
        Column::new("count".into(), m.count.iter().map(|&c| c as i64).collect::<Vec<i64>>()),
    ])
}

/// The `moving_average` frame of rows of [`Figures::moving_average`]
/// (action codes into `names`).
pub fn moving_frame(moving: &DataFrame, names: &[std::sync::Arc<str>]) -> Result<DataFrame> {
    let codes: Vec<u32> = moving.column("action")?.u32()?.into_no_null_iter().collect();
    let mut moving = moving.clone();
    moving.with_column(strings("action", codes.iter().map(|&c| &*names[c as usize])))?;
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
