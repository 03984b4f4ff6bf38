//! Everything a person or a program reads: terminal tables, the summary,
//! CSV tables, charts, the HTML page and the report folder that holds them.

pub mod charts;
pub mod csv;
pub mod frame;
pub mod html;
pub mod live;
pub mod report;
pub mod summary;
pub mod terminal;
pub mod timefmt;

use std::path::Path;

use anyhow::Result;

use crate::engine::stream::TriggerRow;
use crate::metrics::{Figures, Options};
use crate::source::Batch;

/// What a finished run hands to [`publish`].
pub struct Run<'a> {
    /// The first line of the terminal output, e.g. `windowpane batch: data/events`.
    pub heading: &'a str,
    /// The report's title: the input folder as the user wrote it.
    pub title: &'a str,
    /// Everything read from the input, rejected lines included.
    pub batch: &'a Batch,
    /// The figures computed from it.
    pub figures: &'a Figures,
    /// The options the figures were computed with.
    pub options: &'a Options,
    /// The stream's query progress, one row per trigger (`None` for `batch`).
    pub triggers: Option<&'a [TriggerRow]>,
}

/// The end of a run, shared by `batch` and `stream`: writes the report
/// folder (when `report_dir` is given) and returns the summary and the
/// terminal tables (every hourly row when `all`).
pub fn publish(run: &Run, report_dir: Option<&Path>, all: bool) -> Result<(summary::Summary, String)> {
    let summary = summary::Summary::new(run.batch, run.figures);
    if let Some(dir) = report_dir {
        let report = report::Report {
            title: run.title,
            summary: &summary,
            figures: run.figures,
            rejected: &run.batch.rejected,
            options: run.options,
            triggers: run.triggers,
        };
        report::write(&report, dir, &report::exporters())?;
    }
    let dir = report_dir.map(|d| d.display().to_string());
    let text = terminal::render(
        run.heading,
        run.title,
        &summary,
        run.figures,
        run.options,
        all,
        dir.as_deref(),
    );
    Ok((summary, text))
}
