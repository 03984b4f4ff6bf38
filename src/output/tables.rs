//! The `tables/` folder of a report: every figure table as CSV, Parquet or
//! both, written from the frames of [`crate::frames::figure_frames`] (the same
//! frames the `sql` views hold).
//!
//! Parquet keeps the column types: timestamps are UTC timestamps in
//! milliseconds (`isAdjustedToUTC`), counts 64-bit integers, averages
//! doubles, actions strings.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use anyhow::{Context, Result};
use polars::prelude::*;

use super::csv;
use crate::metrics::MovingTable;

/// The file formats of the tables.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum TableFormat {
    /// `tables/*.csv`.
    #[default]
    Csv,
    /// `tables/*.parquet`.
    Parquet,
    /// Both.
    Both,
}

impl TableFormat {
    /// Whether CSV files are written.
    pub fn csv(self) -> bool {
        matches!(self, Self::Csv | Self::Both)
    }
    /// Whether Parquet files are written.
    pub fn parquet(self) -> bool {
        matches!(self, Self::Parquet | Self::Both)
    }
    /// The extension of the file a page links to (CSV when written).
    pub fn link_extension(self) -> &'static str {
        if self.csv() {
            "csv"
        } else {
            "parquet"
        }
    }
}

/// `df` with its datetimes marked as UTC, for Parquet.
fn utc(df: &DataFrame) -> PolarsResult<DataFrame> {
    let columns = df
        .columns()
        .iter()
        .map(|c| match c.dtype() {
            DataType::Datetime(unit, None) => c.cast(&DataType::Datetime(*unit, Some(TimeZone::UTC))),
            _ => Ok(c.clone()),
        })
        .collect::<PolarsResult<Vec<_>>>()?;
    DataFrame::new(df.height(), columns)
}

/// Writes `df` as `dir/<name>.parquet`.
pub fn write_parquet(df: &DataFrame, path: &Path) -> Result<()> {
    let file = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut df = utc(df)?;
    ParquetWriter::new(BufWriter::new(file))
        .finish(&mut df)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
    Ok(())
}

/// Writes `df` as CSV into `path`.
pub fn write_csv(df: &DataFrame, path: &Path) -> Result<()> {
    let file = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    csv::write_frame(df, BufWriter::with_capacity(1 << 20, file))
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))
}

/// Rows of a Parquet row group, as Polars' writer makes them.
const ROW_GROUP: usize = 512 * 512;

/// Writes the moving average made a piece at a time, the pieces in order
/// (actions coded into `names`), as `dir/<name>.csv` and/or
/// `dir/<name>.parquet`: the same bytes of CSV and the same rows and types
/// of Parquet (in row groups of [`ROW_GROUP`] rows) as the whole frame
/// would give, holding one piece at a time.
pub fn write_pieces(
    name: &str,
    pieces: impl Iterator<Item = Result<MovingTable>>,
    names: &[std::sync::Arc<str>],
    dir: &Path,
    format: TableFormat,
) -> Result<()> {
    let csv_path = dir.join(format!("{name}.csv"));
    let parquet_path = dir.join(format!("{name}.parquet"));
    let create = |path: &Path| File::create(path).with_context(|| format!("cannot create {}", path.display()));
    let mut csv_out = match format.csv() {
        true => Some(BufWriter::with_capacity(1 << 20, create(&csv_path)?)),
        false => None,
    };
    let mut parquet_out = None;
    let mut pending: Option<DataFrame> = None;
    let fields = csv::fields(names);
    let mut buf = Vec::new();
    let mut first = true;
    let csv_failed = |e: PolarsError| anyhow::anyhow!("cannot write {}: {e}", csv_path.display());
    let parquet_failed = |e: PolarsError| anyhow::anyhow!("cannot write {}: {e}", parquet_path.display());
    for piece in pieces {
        let piece = piece?;
        if let Some(w) = csv_out.as_mut() {
            buf.clear();
            if first {
                let header = crate::frames::moving_frame(&MovingTable::default().frame()?, names)?;
                csv::write_rows(&header, &mut buf, true).map_err(csv_failed)?;
            }
            csv::moving_rows(&piece, &fields, 0..piece.len(), &mut buf);
            w.write_all(&buf)
                .with_context(|| format!("cannot write {}", csv_path.display()))?;
        }
        if format.parquet() {
            let piece = crate::frames::moving_frame(&piece.frame()?, names)?;
            let piece = utc(&piece).map_err(parquet_failed)?;
            if parquet_out.is_none() {
                let file = create(&parquet_path)?;
                parquet_out = Some(
                    ParquetWriter::new(BufWriter::new(file))
                        .batched(piece.schema())
                        .map_err(parquet_failed)?,
                );
            }
            let mut held = match pending.take() {
                Some(mut p) => {
                    p.vstack_mut(&piece).map_err(parquet_failed)?;
                    p
                }
                None => piece,
            };
            let writer = parquet_out.as_mut().expect("made above");
            while held.height() >= ROW_GROUP {
                let mut group = held.slice(0, ROW_GROUP);
                group.rechunk_mut_par();
                writer.write_batch(&group).map_err(parquet_failed)?;
                held = held.slice(ROW_GROUP as i64, usize::MAX);
            }
            pending = Some(held);
        }
        first = false;
    }
    if let Some(mut w) = csv_out {
        w.flush()
            .with_context(|| format!("cannot write {}", csv_path.display()))?;
    }
    if let Some(mut writer) = parquet_out {
        if let Some(mut rest) = pending.filter(|p| p.height() > 0) {
            rest.rechunk_mut_par();
            writer.write_batch(&rest).map_err(parquet_failed)?;
        }
        writer.finish().map_err(parquet_failed)?;
    }
    Ok(())
}

/// Writes every frame into `dir` as `<name>.csv` and/or `<name>.parquet`.
pub fn write_all(frames: &[(&str, &DataFrame)], dir: &Path, format: TableFormat) -> Result<()> {
    std::thread::scope(|s| {
        let jobs: Vec<_> = frames
            .iter()
            .map(|(name, df)| {
                s.spawn(move || -> Result<()> {
                    if format.csv() {
                        write_csv(df, &dir.join(format!("{name}.csv")))?;
                    }
                    if format.parquet() {
                        write_parquet(df, &dir.join(format!("{name}.parquet")))?;
                    }
                    Ok(())
                })
            })
            .collect();
        jobs.into_iter().try_for_each(|j| {
            j.join()
                .unwrap_or_else(|_| Err(anyhow::anyhow!("a table writer panicked")))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parquet_keeps_utc_timestamps_and_types() {
        let dir = tempfile::tempdir().unwrap();
        let df = df!(
            "action" => ["Open", "Close"],
            "window_start" => [1_469_501_100_000i64, 1_469_501_160_000],
            "count" => [3i64, 4],
            "average" => [Some(0.5), None],
        )
        .unwrap()
        .lazy()
        .with_column(col("window_start").cast(DataType::Datetime(TimeUnit::Milliseconds, None)))
        .collect()
        .unwrap();
        let path = dir.path().join("t.parquet");
        write_parquet(&df, &path).unwrap();
        let back = ParquetReader::new(File::open(&path).unwrap()).finish().unwrap();
        assert_eq!(
            back.column("window_start").unwrap().dtype(),
            &DataType::Datetime(TimeUnit::Milliseconds, Some(TimeZone::UTC))
        );
        assert_eq!(back.column("count").unwrap().dtype(), &DataType::Int64);
        assert_eq!(back.column("average").unwrap().dtype(), &DataType::Float64);
        let t = back
            .column("window_start")
            .unwrap()
            .as_materialized_series()
            .to_physical_repr();
        assert_eq!(t.i64().unwrap().get(1), Some(1_469_501_160_000));
        assert_eq!(back.column("average").unwrap().null_count(), 1);
        assert_eq!(back.column("action").unwrap().str().unwrap().get(1), Some("Close"));
    }
}
