//! Everything a person or a program reads: terminal tables, the summary,
//! CSV tables, charts, the HTML page and the report folder that holds them.

pub mod canvas;
pub mod charts;
pub mod csv;
pub mod digest;
pub mod frame;
pub mod html;
pub mod live;
pub mod report;
pub mod reuse;
pub mod series;
pub mod summary;
pub mod tables;
pub mod terminal;
pub mod timefmt;

use std::path::Path;

use anyhow::{Context, Result};

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
    pub reuse: Option<std::sync::Arc<reuse::TableReuse>>,
    /// The checkpoint's report ledger and chart digest, read ahead while
    /// the triggers ran (`update`).
    pub prefetch: Option<std::sync::Arc<reuse::Prefetch>>,
    /// The page's title (`--title`), when not the input's name.
    pub title: Option<String>,
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
            heading: settings.title.as_deref(),
            summary: &summary,
            figures: run.figures,
            rejected: run.rejected,
            options: run.options,
            triggers: run.triggers,
            table_format: settings.table_format,
            live: settings.live.clone(),
            generated: report::run_time(),
            frames: Default::default(),
            reuse: settings.reuse.clone(),
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

/// A published run: its summary, terminal tables, figures and rejected lines.
pub struct Published {
    /// summary.json.
    pub summary: summary::Summary,
    /// The terminal tables.
    pub tables: String,
    /// Every figure.
    pub figures: crate::metrics::Figures,
    /// The quarantined lines.
    pub rejected: Vec<crate::source::Rejected>,
}

/// Writes the report folder (when `out_dir` is given) from everything the
/// stream has read, and returns what was published; with `triggers`, the
/// report has the triggers table and chart.
#[allow(clippy::too_many_arguments)]
pub fn publish_stream(
    stream: &crate::engine::stream::Stream,
    heading: &str,
    title: &str,
    opts: &crate::metrics::Options,
    out_dir: Option<&Path>,
    all: bool,
    triggers: bool,
    settings: &ReportSettings,
) -> Result<Published> {
    if stream.events() == 0 {
        let input = stream.input_stats();
        anyhow::bail!(
            "no valid events in {title} after {} triggers ({} lines read, {} rejected, {} late)",
            stream.triggers().len(),
            input.lines,
            input.rejected,
            input.late
        );
    }
    let figures = stream
        .figures()
        .with_context(|| format!("cannot compute the figures of {title}"))?;
    let rejected = stream.rejected()?;
    // the long tables in blocks, reusing the last report's where it can
    let reuse = out_dir
        .filter(|_| stream.options().mode != crate::engine::stream::OutputMode::Append)
        .map(|dir| {
            let later;
            let read = match settings.prefetch.as_deref() {
                Some(p) if p.checkpoint() == stream.checkpoint_dir() => p,
                _ => {
                    later = reuse::Prefetch::later(stream.checkpoint_dir());
                    &later
                }
            };
            std::sync::Arc::new(reuse::TableReuse::prepare(
                read,
                dir,
                reuse_key(opts, settings.table_format, &figures.action_names()),
                stream.commit(),
                stream.counts().minute_bounds(),
                opts.moving_window,
                stream.changed_hours(),
            ))
        });
    let settings = &ReportSettings {
        reuse: reuse.clone(),
        ..settings.clone()
    };
    let run = Run {
        heading,
        title,
        input: stream.input_stats(),
        range: stream.counts().time_range(),
        rejected: &rejected,
        figures: &figures,
        options: opts,
        triggers: triggers.then(|| stream.triggers()),
    };
    let (summary, tables) = publish_with(&run, out_dir, all, settings)?;
    if let (Some(reuse), Some(dir)) = (reuse, out_dir) {
        if let Err(e) = reuse.save(dir) {
            crate::text::warning(&format!("{e:#}; the next report is written whole"));
        }
    }
    Ok(Published {
        summary,
        tables,
        figures,
        rejected,
    })
}

/// What a report's tables and charts depend on besides the state, as the
/// text the ledger and the chart digest keep: a report made with another
/// key reuses nothing of the last one. Each part is named, so that the key
/// changes only when what it names does. The moving average has a row per
/// action and minute: a new action changes every minute's rows.
fn reuse_key(opts: &Options, table_format: tables::TableFormat, actions: &[std::sync::Arc<str>]) -> String {
    let actions: Vec<&str> = actions.iter().map(|a| &**a).collect();
    serde_json::json!({
        "version": crate::model::VERSION,
        "alert_threshold": opts.alert_threshold,
        "alert_actions": [opts.alert_actions.0, opts.alert_actions.1],
        "moving_window_minutes": opts.moving_window,
        "table_format": format!("{table_format:?}").to_lowercase(),
        "actions": actions,
    })
    .to_string()
}

/// What `batch` and `update` print on standard output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PrintFormat {
    /// Formatted tables.
    Table,
    /// Every figure in one JSON document: summary.json's keys and `tables`.
    Json,
    /// Every figure as JSON Lines: the summary, then a line per table row.
    Ndjson,
    /// The contents of summary.json.
    Summary,
}

/// Prints a finished run's figures in `format` (`tables` are the terminal
/// tables): batch's output, and update's.
pub fn print(
    format: PrintFormat,
    summary: &summary::Summary,
    tables: &str,
    figures: &Figures,
    rejected: &[crate::source::Rejected],
) -> Result<()> {
    let written = match format {
        PrintFormat::Summary => return crate::text::print_stdout(&summary.to_json()),
        PrintFormat::Table => return crate::text::print_stdout(tables),
        // written as made: the moving average is never whole
        PrintFormat::Json => frame::write_figures_json(std::io::stdout().lock(), summary, figures, rejected),
        PrintFormat::Ndjson => frame::write_figures_ndjson(std::io::stdout().lock(), summary, figures, rejected),
    };
    match written {
        Err(e) if crate::text::is_broken_pipe(&e) => {
            crate::text::mark_stdout_closed();
            Ok(())
        }
        other => other.context("cannot print the figures"),
    }
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
        crate::text::warning(&format!(
            "the alert action{} {} never occur{} in the data (actions are case-sensitive); \
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
        ));
    }
}
