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
/// would give, holding a few pieces at a time.
///
/// The pieces are the stretches `pieces`, each made by `make`. One or two
/// threads ([`formatters_for`]) make and format them (CSV rows, a Parquet
/// frame), taking turns, while this one writes them in order: with many
/// actions, writing is half the time.
pub fn write_pieces(
    name: &str,
    pieces: &[(i64, i64)],
    make: impl Fn(i64, i64) -> Result<MovingTable> + Sync,
    names: &[std::sync::Arc<str>],
    dir: &Path,
    format: TableFormat,
) -> Result<()> {
    let csv_path = dir.join(format!("{name}.csv"));
    let parquet_path = dir.join(format!("{name}.parquet"));
    let create = |path: &Path| File::create(path).with_context(|| format!("cannot create {}", path.display()));
    let mut csv_out = match format.csv() {
        true => Some(create(&csv_path)?),
        false => None,
    };
    let csv_failed = |e: PolarsError| anyhow::anyhow!("cannot write {}: {e}", csv_path.display());
    let parquet_failed = |e: PolarsError| anyhow::anyhow!("cannot write {}: {e}", parquet_path.display());
    let header = match format.csv() {
        true => {
            let mut header = Vec::new();
            let empty = crate::frames::moving_frame(&MovingTable::default().frame()?, names)?;
            csv::write_rows(&empty, &mut header, true).map_err(csv_failed)?;
            header
        }
        false => Vec::new(),
    };
    let parquet_out = std::thread::scope(|s| -> Result<_> {
        let mut parquet_out: Option<GroupWriter<_>> = None;
        // each formatter's two buffers of CSV go round: one formatted while
        // the other is written; the first formatter's first holds the header
        let mut header = Some(header);
        let make = &make;
        let threads = formatters_for(pieces.len());
        let mut formatting = Vec::with_capacity(threads);
        let formatters: Vec<_> = (0..threads)
            .map(|turn| {
                let (made_tx, made_rx) = std::sync::mpsc::sync_channel(1);
                let (spent_tx, spent_rx) = std::sync::mpsc::channel();
                let first = header.take().unwrap_or_default();
                let _ = (spent_tx.send(first), spent_tx.send(Vec::new()));
                let mine = pieces.iter().skip(turn).step_by(threads);
                formatting.push(s.spawn(move || {
                    format_pieces(mine.map(|&(lo, hi)| make(lo, hi)), names, format, spent_rx, made_tx)
                }));
                (made_rx, spent_tx)
            })
            .collect();
        let mut write = || -> Result<()> {
            for k in 0..pieces.len() {
                let (made_rx, spent_tx) = &formatters[k % threads];
                let Ok(made) = made_rx.recv() else {
                    // it panicked: said below
                    break;
                };
                let (buf, piece): Formatted = made?;
                if let Some(w) = csv_out.as_mut() {
                    w.write_all(&buf)
                        .with_context(|| format!("cannot write {}", csv_path.display()))?;
                    // the formatter may have ended; then the buffer is not needed
                    let _ = spent_tx.send(buf);
                }
                if let Some(piece) = piece {
                    let writer = match parquet_out.as_mut() {
                        Some(w) => w,
                        None => {
                            let file = create(&parquet_path)?;
                            let writer = ParquetWriter::new(BufWriter::new(file))
                                .batched(piece.schema())
                                .map_err(parquet_failed)?;
                            parquet_out.insert(GroupWriter::new(writer, piece.schema()))
                        }
                    };
                    writer.extend(s, piece).map_err(parquet_failed)?;
                }
            }
            Ok(())
        };
        let written = write();
        // the formatters stop when their channels close
        drop(formatters);
        if formatting.into_iter().any(|f| f.join().is_err()) {
            anyhow::bail!(
                "making the rows of {} failed (a formatter panicked)",
                dir.join(name).display()
            );
        }
        written?;
        parquet_out.map(|w| w.end(s)).transpose().map_err(parquet_failed)
    })?;
    if let Some(writer) = parquet_out {
        writer.finish().map_err(parquet_failed)?;
    }
    Ok(())
}

/// Threads that make and format the `pieces` of the moving average: two
/// when it is long (many actions), else one, as the other tables are
/// written beside it (measured: a second thread makes a year of two
/// actions, in 4 pieces, 3% slower, and 16 actions over a year, in 26
/// pieces, 35% faster).
fn formatters_for(pieces: usize) -> usize {
    if pieces >= 8 {
        2
    } else {
        1
    }
}

/// A piece of the moving average made ready to write: its CSV rows (after
/// the header, in the first) and its Parquet frame.
type Formatted = (Vec<u8>, Option<DataFrame>);

/// Computes the pieces and formats each into a buffer taken from `spent`,
/// sending them to `made` in order, until a piece fails or the writer
/// stops listening.
fn format_pieces(
    pieces: impl Iterator<Item = Result<MovingTable>>,
    names: &[std::sync::Arc<str>],
    format: TableFormat,
    spent: std::sync::mpsc::Receiver<Vec<u8>>,
    made: std::sync::mpsc::SyncSender<Result<Formatted>>,
) {
    let fields = csv::fields(names);
    let mut first = true;
    for piece in pieces {
        let formatted = piece.and_then(|piece| {
            let mut buf = Vec::new();
            if format.csv() {
                // the header is the first buffer, kept in place
                buf = spent.recv().unwrap_or_default();
                if !std::mem::take(&mut first) {
                    buf.clear();
                }
                csv::moving_rows(&piece, &fields, 0..piece.len(), &mut buf);
            }
            let frame = match format.parquet() {
                true => Some(utc(&crate::frames::moving_frame(&piece.frame()?, names)?)?),
                false => None,
            };
            Ok((buf, frame))
        });
        let failed = formatted.is_err();
        if made.send(formatted).is_err() || failed {
            break;
        }
    }
}

/// Row groups encoded and compressed beside each other, each on a thread of
/// its own, and written in order: the pages Polars' writer would make of
/// them, one after another, in the same file.
struct GroupWriter<'s, W: Write> {
    writer: polars::io::parquet::write::BatchedWriter<W>,
    fields: Vec<polars_parquet::write::ParquetType>,
    encodings: Vec<Vec<polars_parquet::write::Encoding>>,
    /// Rows not yet in a group.
    pending: Option<DataFrame>,
    /// The groups being encoded, oldest first.
    encoding: std::collections::VecDeque<std::thread::ScopedJoinHandle<'s, PolarsResult<Encoded>>>,
}

/// A row group's rows and the compressed pages of each of its columns.
type Encoded = (u64, Vec<Vec<polars_parquet::write::CompressedPage>>);

/// Row groups encoded at once, at most.
const ENCODING: usize = 2;

impl<'s, W: Write> GroupWriter<'s, W> {
    fn new(mut writer: polars::io::parquet::write::BatchedWriter<W>, schema: &Schema) -> Self {
        let arrow = schema.to_arrow(CompatLevel::newest());
        let encodings = polars::io::parquet::write::get_encodings(&arrow).to_vec();
        let fields = writer.parquet_schema().fields().to_vec();
        Self {
            writer,
            fields,
            encodings,
            pending: None,
            encoding: Default::default(),
        }
    }

    /// Adds `rows` after the rows before, starting the encoding of each
    /// group of [`ROW_GROUP`] rows they fill.
    fn extend<'e>(&mut self, scope: &'s std::thread::Scope<'s, 'e>, rows: DataFrame) -> PolarsResult<()> {
        let mut held = match self.pending.take() {
            Some(mut p) => {
                p.vstack_mut(&rows)?;
                p
            }
            None => rows,
        };
        while held.height() >= ROW_GROUP {
            self.push(scope, held.slice(0, ROW_GROUP))?;
            held = held.slice(ROW_GROUP as i64, usize::MAX);
        }
        self.pending = Some(held);
        Ok(())
    }

    /// Writes the last rows as a group and every group still being
    /// encoded, and returns the writer, whose footer is still to write.
    fn end<'e>(
        mut self,
        scope: &'s std::thread::Scope<'s, 'e>,
    ) -> PolarsResult<polars::io::parquet::write::BatchedWriter<W>> {
        if let Some(rest) = self.pending.take().filter(|p| p.height() > 0) {
            self.push(scope, rest)?;
        }
        self.drain(0)?;
        Ok(self.writer)
    }

    /// Starts encoding `group`, once fewer than [`ENCODING`] groups are
    /// under way (writing the oldest until then).
    fn push<'e>(&mut self, scope: &'s std::thread::Scope<'s, 'e>, group: DataFrame) -> PolarsResult<()> {
        self.drain(ENCODING - 1)?;
        let (fields, encodings) = (self.fields.clone(), self.encodings.clone());
        self.encoding
            .push_back(scope.spawn(move || encode_group(group, &fields, &encodings)));
        Ok(())
    }

    /// Writes the oldest groups until `left` are still being encoded.
    fn drain(&mut self, left: usize) -> PolarsResult<()> {
        while self.encoding.len() > left {
            let job = self.encoding.pop_front().expect("more than none");
            let (rows, pages) = job
                .join()
                .unwrap_or_else(|_| Err(polars_err!(ComputeError: "a Parquet encoder panicked")))?;
            self.writer.write_row_group(rows, &pages)?;
        }
        Ok(())
    }
}

/// The compressed pages of `group`'s columns, made as Polars' Parquet
/// writer makes them with its default options (statistics, zstd, format
/// version 1, pages of at most 1 MiB): the test
/// `the_moving_average_written_in_pieces_is_the_whole_frame_written_at_once`
/// fails when they are not the writer's bytes.
fn encode_group(
    mut group: DataFrame,
    fields: &[polars_parquet::write::ParquetType],
    encodings: &[Vec<polars_parquet::write::Encoding>],
) -> PolarsResult<Encoded> {
    use polars_parquet::write::{array_to_columns, Compressor, Version, WriteOptions};
    let options = WriteOptions {
        statistics: StatisticsOptions::default(),
        compression: ParquetCompression::default().into(),
        version: Version::V1,
        data_page_size: None,
    };
    // one chunk, one batch: the row group's columns
    group.rechunk_mut_par();
    let rows = group.height() as u64;
    let mut batches = group.iter_chunks(CompatLevel::newest(), false);
    let (Some(batch), None) = (batches.next(), batches.next()) else {
        polars_bail!(ComputeError: "a row group of the moving average is not one chunk");
    };
    let mut pages = Vec::with_capacity(fields.len());
    for ((array, field), encoding) in batch.columns().iter().zip(fields).zip(encodings) {
        for column in array_to_columns(array, field.clone(), options, encoding)? {
            let column = column
                .map(|page| page.map_err(|e| polars_parquet::read::ParquetError::FeatureNotSupported(e.to_string())));
            pages.push(Compressor::new_from_vec(column, options.compression, vec![]).collect::<Result<Vec<_>, _>>()?);
        }
    }
    Ok((rows, pages))
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

    /// A moving average of `minutes` minutes and three actions, in pieces
    /// of `per_piece` minutes: counts, averages and variances that vary
    /// (and a missing variance in the first minute).
    fn pieces(minutes: usize, per_piece: usize) -> Vec<MovingTable> {
        let actions = 3;
        (0..minutes)
            .step_by(per_piece)
            .map(|from| {
                let upto = (from + per_piece).min(minutes);
                let rows = (upto - from) * actions;
                let row = |k: usize| from * actions + k;
                MovingTable {
                    actions,
                    codes: vec![0, 1, 2],
                    minutes: (from..upto).map(|m| 1_700_000_000 + 60 * m as i64).collect(),
                    count: (0..rows).map(|k| (row(k) % 7) as i64).collect(),
                    average: (0..rows).map(|k| (row(k) % 11) as f64 / 3.0).collect(),
                    variance: (0..rows)
                        .map(|k| (row(k) >= actions).then(|| (row(k) % 5) as f64 * 0.25))
                        .collect(),
                }
            })
            .collect()
    }

    #[test]
    fn the_moving_average_written_in_pieces_is_the_whole_frame_written_at_once() {
        // more rows than two row groups, in pieces that do not end at a
        // group's end, so that groups are made across pieces and encoded
        // beside each other
        let names: Vec<std::sync::Arc<str>> = ["Open", "Close", "a \"quoted\", action"].map(Into::into).to_vec();
        let parts = pieces(2 * ROW_GROUP / 3 + 1_000, 10_000);
        assert_eq!(formatters_for(parts.len()), 2, "{} pieces", parts.len());
        let mut whole = MovingTable::default();
        for p in &parts {
            whole.actions = p.actions;
            whole.codes.clone_from(&p.codes);
            whole.minutes.extend(&p.minutes);
            whole.count.extend(&p.count);
            whole.average.extend(&p.average);
            whole.variance.extend(&p.variance);
        }
        assert!(whole.len() > 2 * ROW_GROUP);
        let dir = tempfile::tempdir().unwrap();
        write_pieces(
            "moving_average",
            &(0..parts.len() as i64).map(|k| (k, k + 1)).collect::<Vec<_>>(),
            |k, _| Ok(parts[k as usize].clone()),
            &names,
            dir.path(),
            TableFormat::Both,
        )
        .unwrap();
        let frame = crate::frames::moving_frame(&whole.frame().unwrap(), &names).unwrap();
        let read = |p: &Path| std::fs::read(p).unwrap();
        let csv = dir.path().join("whole.csv");
        write_csv(&frame, &csv).unwrap();
        assert!(
            read(&csv) == read(&dir.path().join("moving_average.csv")),
            "the CSV differs"
        );
        // Parquet: the bytes of Polars' own writer given the same row groups
        // one after another
        let parquet = dir.path().join("whole.parquet");
        let frame = utc(&frame).unwrap();
        let mut writer = ParquetWriter::new(BufWriter::new(File::create(&parquet).unwrap()))
            .batched(frame.schema())
            .unwrap();
        for from in (0..frame.height()).step_by(ROW_GROUP) {
            let mut group = frame.slice(from as i64, ROW_GROUP);
            group.rechunk_mut_par();
            writer.write_batch(&group).unwrap();
        }
        writer.finish().unwrap();
        drop(writer);
        assert!(
            read(&parquet) == read(&dir.path().join("moving_average.parquet")),
            "the Parquet file differs"
        );
        // and the rows and types of the frame
        let back = ParquetReader::new(File::open(dir.path().join("moving_average.parquet")).unwrap())
            .finish()
            .unwrap();
        assert!(back.equals_missing(&frame), "the Parquet rows differ");
        assert_eq!(back.height(), whole.len());
    }

    #[test]
    fn a_piece_that_fails_or_panics_ends_the_writing_with_an_error_not_a_hang() {
        let names: Vec<std::sync::Arc<str>> = ["Open", "Close", "x"].map(Into::into).to_vec();
        let parts = pieces(200_000, 10_000);
        let ranges: Vec<(i64, i64)> = (0..parts.len() as i64).map(|k| (k, k + 1)).collect();
        assert_eq!(formatters_for(ranges.len()), 2);
        for format in [TableFormat::Csv, TableFormat::Parquet, TableFormat::Both] {
            let dir = tempfile::tempdir().unwrap();
            // a piece that fails: its error, from either formatter
            for bad in [5, 6] {
                let failed = write_pieces(
                    "moving_average",
                    &ranges,
                    |k, _| match k == bad {
                        true => anyhow::bail!("piece {k} cannot be made"),
                        false => Ok(parts[k as usize].clone()),
                    },
                    &names,
                    dir.path(),
                    format,
                )
                .unwrap_err();
                assert_eq!(format!("{failed:#}"), format!("piece {bad} cannot be made"));
            }
            // a piece that panics: an error that names the table
            let panicked = write_pieces(
                "moving_average",
                &ranges,
                |k, _| {
                    assert!(k != 7, "a deliberate panic");
                    Ok(parts[k as usize].clone())
                },
                &names,
                dir.path(),
                format,
            )
            .unwrap_err();
            let text = format!("{panicked:#}");
            assert!(text.contains("moving_average") && text.contains("panicked"), "{text}");
        }
    }
}
