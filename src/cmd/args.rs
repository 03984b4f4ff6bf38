//! The options several commands share, each defined once with one help
//! text, the one duration syntax, and where a report and its checkpoint go
//! by default. Commands flatten these groups into their own `Args`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Result;

use crate::metrics::Options;
use crate::output::tables::TableFormat;
use crate::source::{FileOrder, Inputs};

/// Where the report folder goes, and its tables' format.
#[derive(Debug, Clone, clap::Args)]
pub struct ReportArgs {
    /// Where to write the report folder [default: reports/<input name>;
    /// reports/<input name>-stream for `stream`].
    #[arg(long, value_name = "DIR")]
    pub report: Option<PathBuf>,
    /// Write no report folder, only print.
    #[arg(long, conflicts_with = "report")]
    pub no_report: bool,
    /// The format of the report's tables: tables/*.csv, tables/*.parquet
    /// (UTC timestamps, typed columns) or both.
    #[arg(long, value_enum, default_value_t = TableFormat::Csv, value_name = "FORMAT")]
    pub table_format: TableFormat,
    /// Show every hour in the hourly table, not only the first and last.
    #[arg(long)]
    pub all: bool,
    /// The report page's title [default: the input as given; "standard
    /// input" for -].
    #[arg(long, value_name = "TEXT")]
    pub title: Option<String>,
}

impl ReportArgs {
    /// The report folder to write, if any: `--report`, else `default`.
    pub fn dir(&self, default: PathBuf) -> Option<PathBuf> {
        (!self.no_report).then(|| self.report.clone().unwrap_or(default))
    }
}

/// Where a stream keeps what it has read.
#[derive(Debug, Clone, clap::Args)]
pub struct CheckpointArgs {
    /// The checkpoint folder [default: hidden beside the report folder,
    /// reports/.<report name>.checkpoint].
    #[arg(long, value_name = "DIR")]
    pub checkpoint: Option<PathBuf>,
}

impl CheckpointArgs {
    /// The checkpoint folder: `--checkpoint`, else hidden beside the
    /// report folder `report_dir` (even when no report is written).
    pub fn dir(&self, report_dir: &Path) -> PathBuf {
        self.checkpoint
            .clone()
            .unwrap_or_else(|| default_checkpoint(report_dir))
    }
}

/// How input files are taken.
#[derive(Debug, Clone, clap::Args)]
pub struct RunArgs {
    /// The order in which files are taken.
    #[arg(long, value_enum, default_value_t = FileOrder::Name)]
    pub order: FileOrder,
    /// Reader threads [default: the number of cores].
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
}

/// The options every figure-computing command shares.
#[derive(Debug, Clone, clap::Args)]
pub struct FigureArgs {
    /// Alert when |open - close| in a minute is strictly greater than this.
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub alert_threshold: u32,
    /// The two actions the alerts compare, as FIRST,SECOND.
    #[arg(long, default_value = "Open,Close", value_name = "A,B", value_parser = parse_pair)]
    pub alert_actions: (String, String),
    /// Length of the trailing moving-average window, in whole minutes
    /// ("30m", "1h30m", "1d", "30 minutes").
    #[arg(long, default_value = "30m", value_name = "DURATION", value_parser = parse_minutes)]
    pub moving_window: usize,
}

impl FigureArgs {
    /// The metrics options these arguments ask for.
    pub fn options(&self) -> Options {
        Options {
            alert_threshold: i64::from(self.alert_threshold),
            alert_actions: self.alert_actions.clone(),
            moving_window: self.moving_window,
        }
    }
}

/// What `stream` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StreamFormat {
    /// A line per trigger, then the tables.
    Table,
    /// A JSON object per line: each trigger's progress, then {"summary": …}.
    Json,
    /// Only the contents of summary.json, at the end.
    Summary,
}

fn parse_pair(s: &str) -> Result<(String, String), String> {
    match s.split_once(',') {
        Some((a, b)) if a == b => Err(format!(
            "the two alert actions are the same ({a:?}): their difference is always 0; name two actions, like Open,Close"
        )),
        Some((a, b)) if !a.is_empty() && !b.is_empty() && !b.contains(',') => Ok((a.to_string(), b.to_string())),
        _ => Err(format!(
            "expected two action names separated by a comma, like Open,Close; got {s:?}"
        )),
    }
}

/// A duration as people write it, the one syntax of every option: a
/// number with a unit (ms, s, m, h, d, w), several of them together as
/// Polars writes windows ("1h30m"), or Spark's words ("10 minutes",
/// "1 hour 30 minutes"). A bare number is refused: it could mean seconds
/// or minutes.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "{s:?} needs a unit: {t}m for minutes, {t}s for seconds, {t}h for hours"
        ));
    }
    let d = humantime::parse_duration(t)
        .map_err(|e| format!("expected a duration like 30s, 10m, 1h30m, 1d or \"10 minutes\"; got {s:?} ({e})"))?;
    if d.is_zero() {
        return Err(format!("{s:?} is no time at all; give a duration longer than zero"));
    }
    Ok(d)
}

/// A duration in whole minutes (a window, a watermark): at least one, at
/// most a century, which keeps the arithmetic on epoch seconds far from
/// overflowing.
pub fn parse_minutes(s: &str) -> Result<usize, String> {
    let t = s.trim();
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "{s:?} needs a unit: {t}m for minutes, or hours ({t}h) or days ({t}d)"
        ));
    }
    let d = parse_duration(s)?;
    if d.subsec_nanos() != 0 || d.as_secs() % 60 != 0 {
        return Err(format!(
            "{s:?} is not a whole number of minutes; write it like 30m, 1h30m or 1d"
        ));
    }
    let minutes = d.as_secs() / 60;
    if minutes > 100 * 366 * 24 * 60 {
        return Err(format!("{s:?} is longer than a century"));
    }
    Ok(minutes as usize)
}

/// The default report folder of an input: `reports/<its name>`.
pub fn default_report_dir(input: &Path) -> PathBuf {
    PathBuf::from("reports").join(Inputs::from_args(&[input]).report_name())
}

/// The default report folder of a stream over an input, beside batch's and
/// not in it: `reports/<its name>-stream`.
pub fn default_stream_report_dir(input: &Path) -> PathBuf {
    let base = default_report_dir(input);
    let name = base
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    base.with_file_name(format!("{name}-stream"))
}

/// The default checkpoint of a report folder: hidden beside it.
pub fn default_checkpoint(report_dir: &Path) -> PathBuf {
    let name = report_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "input".into());
    report_dir.with_file_name(format!(".{name}.checkpoint"))
}

/// Refuses a checkpoint inside the report folder, which every report
/// replaces whole. Both paths are resolved first (`..`, symbolic links),
/// so `--checkpoint ../ck` beside `--report .` is not taken to be inside.
pub fn check_apart(checkpoint: &Path, report: Option<&Path>) -> Result<()> {
    if let Some(report) = report {
        if resolved(checkpoint).starts_with(resolved(report)) {
            anyhow::bail!(
                "the checkpoint {} is inside the report folder {}, which each report replaces; \
                 give --checkpoint a folder outside it",
                checkpoint.display(),
                report.display()
            );
        }
    }
    Ok(())
}

/// `path` made absolute with `..` and symbolic links resolved as far as it
/// exists; the part that does not exist yet is joined on as written.
fn resolved(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut missing = Vec::new();
    let mut at = absolute.as_path();
    loop {
        if let Ok(real) = at.canonicalize() {
            return missing.iter().rev().fold(real, |p: PathBuf, part| p.join(part));
        }
        match (at.parent(), at.file_name()) {
            (Some(parent), Some(name)) => {
                missing.push(name.to_owned());
                at = parent;
            }
            _ => return absolute,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_duration_syntax_takes_polars_and_spark_forms() {
        let secs = |s: &str| parse_duration(s).map(|d| d.as_secs_f64());
        assert_eq!(secs("5s"), Ok(5.0));
        assert_eq!(secs("500ms"), Ok(0.5));
        assert_eq!(secs("1h30m"), Ok(5400.0));
        assert_eq!(secs("10 minutes"), Ok(600.0));
        assert_eq!(secs("1 hour 30 minutes"), Ok(5400.0));
        assert_eq!(secs("1d"), Ok(86400.0));
        assert_eq!(secs("1w"), Ok(604800.0));
        assert!(parse_duration("30").unwrap_err().contains("needs a unit"));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("soon").is_err());
    }

    #[test]
    fn windows_and_watermarks_are_whole_minutes() {
        assert_eq!(parse_minutes("30m"), Ok(30));
        assert_eq!(parse_minutes("1h"), Ok(60));
        assert_eq!(parse_minutes("1h30m"), Ok(90));
        assert_eq!(parse_minutes("10 minutes"), Ok(10));
        assert_eq!(parse_minutes("1d"), Ok(1440));
        assert_eq!(parse_minutes("1w"), Ok(10080));
        assert!(parse_minutes("30").is_err());
        assert!(parse_minutes("0m").is_err());
        assert_eq!(parse_minutes("1.5h"), Ok(90));
        assert!(parse_minutes("30s").is_err());
        assert!(parse_minutes("90s").is_err());
        // a bare number: minutes suggested, not seconds (which are refused)
        let bare = parse_minutes("90").unwrap_err();
        assert!(bare.contains("90m") && !bare.contains("90s"), "{bare}");
        assert!(parse_minutes("300000000000000000m").is_err());
    }

    #[test]
    fn alert_actions_are_a_pair() {
        assert_eq!(parse_pair("Open,Close"), Ok(("Open".into(), "Close".into())));
        assert!(parse_pair("Open").is_err());
        assert!(parse_pair("Open,").is_err());
        assert!(parse_pair("a,b,c").is_err());
        assert!(parse_pair("A01,A01").unwrap_err().contains("the same"));
    }

    #[test]
    fn a_checkpoint_beside_the_report_is_apart_however_written() {
        let dir = tempfile::tempdir().unwrap();
        let report = dir.path().join("r");
        std::fs::create_dir(&report).unwrap();
        assert!(check_apart(&report.join("../ck"), Some(&report)).is_ok());
        assert!(check_apart(&report.join("ck"), Some(&report)).is_err());
        assert!(check_apart(&report.join("x/../ck"), Some(&report)).is_err());
        // through a symbolic link to the report folder
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&report, &link).unwrap();
        assert!(check_apart(&link.join("ck"), Some(&report)).is_err());
    }
}
