//! Everything a person or a program reads: terminal tables, the summary,
//! CSV tables, charts, the HTML page and the report folder that holds them.

pub mod charts;
pub mod csv;
pub mod digest;
pub mod frame;
pub mod html;
pub mod live;
pub mod report;
pub mod series;
pub mod splice;
pub mod summary;
pub mod tables;
pub mod terminal;
pub mod timefmt;

use std::path::Path;

use anyhow::Result;

use crate::engine::stream::TriggerRow;
use crate::metrics::{Figures, Options};
use crate::source::Rejected;

/// What a finished run hands to [`publish`].
pub struct Run<'a> {
    /// The first line of the terminal output, e.g. `windowpane batch: data/events`.
    pub heading: &'a str,
    /// The report's title: the input folder as the user wrote it.
    pub title: &'a str,
    /// What was read.
    pub input: summary::InputStats,
    /// The first and last event time, epoch seconds.
    pub range: Option<(i64, i64)>,
    /// The rejected lines, in input order.
    pub rejected: &'a [Rejected],
    /// The figures computed from it.
    pub figures: &'a Figures,
    /// The options the figures were computed with.
    pub options: &'a Options,
    /// The stream's query progress, one row per trigger (`None` for `batch`).
    pub triggers: Option<&'a [TriggerRow]>,
}

/// How the report folder is written, beyond the figures.
#[derive(Debug, Clone, Default)]
pub struct ReportSettings {
    /// The format of `tables/` (`--table-format`).
    pub table_format: tables::TableFormat,
    /// Set while `stream --follow` rewrites the report: the page then says
    /// so and reloads itself while the stream runs.
    pub live: Option<report::LiveStatus>,
    /// Set when the long tables are written in blocks, reusing an earlier
    /// report's (`update`, `stream`).
    pub splice: Option<std::sync::Arc<splice::Splice>>,
    /// The checkpoint's report ledger and chart digest, read ahead while
    /// the triggers ran (`update`).
    pub prefetch: Option<std::sync::Arc<splice::Prefetch>>,
}

/// The end of a run, shared by `batch` and `stream`: writes the report
/// folder (when `report_dir` is given) and returns the summary and the
/// terminal tables (every hourly row when `all`).
pub fn publish(run: &Run, report_dir: Option<&Path>, all: bool) -> Result<(summary::Summary, String)> {
    publish_with(run, report_dir, all, &ReportSettings::default())
}

/// [`publish`] with the report written as `settings` say.
pub fn publish_with(
    run: &Run,
    report_dir: Option<&Path>,
    all: bool,
    settings: &ReportSettings,
) -> Result<(summary::Summary, String)> {
    let summary = summary::Summary::new(&run.input, run.range, run.figures);
    warn_absent_alert_actions(run.figures, run.options);
    if let Some(dir) = report_dir {
        let report = report::Report {
            title: run.title,
            summary: &summary,
            figures: run.figures,
            rejected: run.rejected,
            options: run.options,
            triggers: run.triggers,
            table_format: settings.table_format,
            live: settings.live.clone(),
            generated: report::run_time(),
            frames: Default::default(),
            splice: settings.splice.clone(),
            plan: Default::default(),
            digest: Default::default(),
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

/// Alerts compare two actions: when one of them never occurs, every alert
/// is only the other's count, which is seldom what was meant (a typo, or
/// another case): say so, naming the actions there are.
fn warn_absent_alert_actions(f: &Figures, opts: &Options) {
    let (open, close) = &opts.alert_actions;
    let absent: Vec<&str> = [open, close]
        .into_iter()
        .filter(|a| !f.totals.iter().any(|t| &t.0 == *a))
        .map(|a| a.as_str())
        .collect();
    if !absent.is_empty() && !f.totals.is_empty() {
        let there: Vec<String> = f.totals.iter().take(12).map(|t| format!("{:?}", t.0)).collect();
        eprintln!(
            "windowpane: warning: the alert action{} {} never occur{} in the data (actions are case-sensitive); \
             the actions there are: {}{}",
            if absent.len() > 1 { "s" } else { "" },
            absent
                .iter()
                .map(|a| format!("{a:?}"))
                .collect::<Vec<_>>()
                .join(" and "),
            if absent.len() > 1 { "" } else { "s" },
            there.join(", "),
            if f.totals.len() > 12 { ", …" } else { "" }
        );
    }
}
