//! The report folder: every exporter writes its files into a fresh folder
//! beside the target, which then replaces the target whole, so a crash never
//! leaves half a report.

use std::fs;
use std::path::{Path, PathBuf};

use std::sync::OnceLock;

use anyhow::{bail, Context, Result};
use chrono::{DateTime, Utc};
use polars::prelude::DataFrame;

use super::summary::Summary;
use super::tables::TableFormat;
use super::{charts, csv, html};
use crate::engine::stream::TriggerRow;
use crate::metrics::{Figures, Options};
use crate::source::Rejected;

/// The state of a `stream --follow` whose report this is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveStatus {
    /// When the stream last rewrote the report.
    pub updated: DateTime<Utc>,
    /// Whether the stream is still running (the page then reloads itself).
    pub running: bool,
}

/// When the report is written: `SOURCE_DATE_EPOCH` (seconds) when set, so
/// that a report can be made byte for byte again, else the clock.
pub fn run_time() -> DateTime<Utc> {
    std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .and_then(|s| DateTime::from_timestamp(s, 0))
        .unwrap_or_else(Utc::now)
}

/// Everything a report is made from.
pub struct Report<'a> {
    /// What the report is about (the input's name).
    pub title: &'a str,
    /// The headline figures.
    pub summary: &'a Summary,
    /// Every figure.
    pub figures: &'a Figures,
    /// The quarantined lines.
    pub rejected: &'a [Rejected],
    /// The options the figures were computed with.
    pub options: &'a Options,
    /// The triggers of a stream (`None` for batch).
    pub triggers: Option<&'a [TriggerRow]>,
    /// The format of `tables/`.
    pub table_format: TableFormat,
    /// Set while a `stream --follow` keeps the report up to date.
    pub live: Option<LiveStatus>,
    /// When the report was made.
    pub generated: DateTime<Utc>,
    /// The figure tables as frames (see [`Report::frames`]); start empty.
    pub frames: OnceLock<Vec<(&'static str, DataFrame)>>,
}

impl Report<'_> {
    /// The figure tables as frames, built on first use and shared by the
    /// exporters.
    pub fn frames(&self) -> Result<&[(&'static str, DataFrame)]> {
        if self.frames.get().is_none() {
            let frames = crate::sql::figure_frames(self.figures).context("cannot build the figure tables")?;
            let _ = self.frames.set(frames);
        }
        Ok(self.frames.get().map(Vec::as_slice).unwrap_or_default())
    }

    /// The frame of the table `name`.
    pub fn frame(&self, name: &str) -> Result<&DataFrame> {
        self.frames()?
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, df)| df)
            .with_context(|| format!("no table named {name}"))
    }
}

/// Writes one part of a report folder.
pub trait Exporter {
    /// What it writes, for error messages.
    fn describe(&self) -> &'static str;
    /// Writes its files into `dir` (which exists).
    fn export(&self, report: &Report, dir: &Path) -> Result<()>;
}

struct SummaryJson;
impl Exporter for SummaryJson {
    fn describe(&self) -> &'static str {
        "summary.json"
    }
    fn export(&self, r: &Report, dir: &Path) -> Result<()> {
        Ok(fs::write(dir.join("summary.json"), r.summary.to_json())?)
    }
}

struct Tables;
impl Exporter for Tables {
    fn describe(&self) -> &'static str {
        "the tables"
    }
    fn export(&self, r: &Report, dir: &Path) -> Result<()> {
        let tables = dir.join("tables");
        fs::create_dir_all(&tables)?;
        super::tables::write_all(r.frames()?, &tables, r.table_format)?;
        if let Some(triggers) = r.triggers {
            fs::write(tables.join("triggers.csv"), csv::triggers(triggers))?;
        }
        Ok(())
    }
}

struct Quarantine;
impl Exporter for Quarantine {
    fn describe(&self) -> &'static str {
        "rejected.ndjson"
    }
    fn export(&self, r: &Report, dir: &Path) -> Result<()> {
        let mut out = String::new();
        for line in r.rejected {
            out.push_str(&serde_json::to_string(line)?);
            out.push('\n');
        }
        Ok(fs::write(dir.join("rejected.ndjson"), out)?)
    }
}

struct Charts;
impl Exporter for Charts {
    fn describe(&self) -> &'static str {
        "the charts"
    }
    fn export(&self, r: &Report, dir: &Path) -> Result<()> {
        let charts = dir.join("charts");
        fs::create_dir_all(&charts)?;
        charts::draw_all(r, &charts)?;
        charts::triggers(r.triggers.unwrap_or_default(), &charts)
    }
}

struct Html;
impl Exporter for Html {
    fn describe(&self) -> &'static str {
        "index.html"
    }
    fn export(&self, r: &Report, dir: &Path) -> Result<()> {
        let page = html::page(r, &dir.join("charts"))?;
        Ok(fs::write(dir.join("index.html"), page)?)
    }
}

/// The exporters of a report folder, in the order they run (the page last:
/// it inlines the charts).
pub fn exporters() -> Vec<Box<dyn Exporter>> {
    vec![
        Box::new(SummaryJson),
        Box::new(Tables),
        Box::new(Quarantine),
        Box::new(Charts),
        Box::new(Html),
    ]
}

fn sibling(dir: &Path, tag: &str) -> PathBuf {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "report".into());
    dir.with_file_name(format!(".{name}.{tag}-{}", std::process::id()))
}

/// Refuses to replace a folder that is not a report.
fn check_replaceable(dir: &Path) -> Result<()> {
    if !dir.exists() {
        return Ok(());
    }
    if !dir.is_dir() {
        bail!(
            "cannot write the report to {}: it is a file; choose another --report folder",
            dir.display()
        );
    }
    let empty = fs::read_dir(dir)?.next().is_none();
    if !empty && !dir.join("summary.json").is_file() {
        bail!(
            "refusing to replace {}: it is not empty and holds no summary.json, so it is not a windowpane report; choose another --report folder",
            dir.display()
        );
    }
    Ok(())
}

/// Writes the report folder `dir`, replacing an earlier report there.
pub fn write(report: &Report, dir: &Path, exporters: &[Box<dyn Exporter>]) -> Result<()> {
    check_replaceable(dir)?;
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent).with_context(|| format!("cannot create the folder {}", parent.display()))?;
    }
    let tmp = sibling(dir, "tmp");
    let _ = fs::remove_dir_all(&tmp);
    fs::create_dir(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
    let written = exporters.iter().try_for_each(|e| {
        e.export(report, &tmp)
            .with_context(|| format!("cannot write {} of the report {}", e.describe(), dir.display()))
    });
    if let Err(e) = written {
        let _ = fs::remove_dir_all(&tmp);
        return Err(e);
    }
    let old = sibling(dir, "old");
    if dir.exists() {
        fs::rename(dir, &old).with_context(|| format!("cannot move the old report {} aside", dir.display()))?;
    }
    fs::rename(&tmp, dir).with_context(|| format!("cannot move the new report into {}", dir.display()))?;
    let _ = fs::remove_dir_all(&old);
    Ok(())
}
