//! Formatted tables for the terminal, fitted to its width.
//!
//! Every value that comes from the data (actions, file names, rejected
//! text) goes through [`crate::text::printable`] before it reaches a
//! terminal, so that a hostile input cannot move the cursor, set the window
//! title or reverse the text around it.

use std::collections::BTreeMap;
use std::fmt::Write;

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{CellAlignment, ContentArrangement, Table};

use super::summary::Summary;
use super::timefmt::short;
use crate::metrics::{Figures, Options};
use crate::text::{printable, shell_word, thousands};

/// How many hours to show at each end of the hourly table without `--all`.
const EDGE_ROWS: usize = 5;

fn table(header: Vec<String>) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header);
    t
}

fn right_align(t: &mut Table, from: usize) {
    let n = t.column_count();
    for i in from..n {
        if let Some(c) = t.column_mut(i) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
}

fn float(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.4}")).unwrap_or_else(|| "–".into())
}

/// Renders the whole terminal report. `input` is the input as the user
/// wrote it (named in the hint about rejected lines); `report_dir` is the
/// report folder written, if any.
pub fn render(
    heading: &str,
    input: &str,
    s: &Summary,
    f: &Figures,
    opts: &Options,
    all: bool,
    report_dir: Option<&str>,
) -> String {
    let mut out = format!("{}\n\n", printable(heading));
    out += &input_table(input, s, report_dir);
    out += &totals_table(f, all);
    out += &hourly_table(f, all);
    out += &alerts_table(f, opts);
    out += &statistics_table(s, f);
    if let Some(dir) = report_dir {
        let dir = printable(dir);
        let _ = writeln!(out, "\nReport written to {dir}/ (open {dir}/index.html)");
    }
    out
}

/// What was read, and where the rejected lines are.
fn input_table(input: &str, s: &Summary, report_dir: Option<&str>) -> String {
    let mut out = String::new();
    // late events (streaming append mode) have a column when there are any,
    // so that lines = events + rejected + late can be read off the table
    let late = s.input.late > 0;
    let mut header = vec!["files".into(), "lines".into(), "events".into(), "rejected".into()];
    let mut row = vec![
        thousands(s.input.files as i64),
        thousands(s.input.lines as i64),
        thousands(s.input.events as i64),
        thousands(s.input.rejected as i64),
    ];
    if late {
        header.push("late".into());
        row.push(thousands(s.input.late as i64));
    }
    header.extend(["first event".into(), "last event".into()]);
    row.extend([
        s.first_event.clone().unwrap_or_else(|| "–".into()),
        s.last_event.clone().unwrap_or_else(|| "–".into()),
    ]);
    let mut t = table(header);
    t.add_row(row);
    right_align(&mut t, 0);
    let _ = writeln!(out, "Input\n{t}");
    if s.input.rejected > 0 {
        let n = thousands(s.input.rejected as i64);
        let _ = match (&s.input.quarantine, report_dir) {
            (Some(q), _) => writeln!(out, "{n} rejected lines are not in the figures: {}", printable(q)),
            (None, Some(d)) => writeln!(
                out,
                "{n} rejected lines are quarantined in {}/rejected.ndjson",
                printable(d)
            ),
            (None, None) => writeln!(
                out,
                "{n} rejected lines are not in the figures (no report, so no rejected.ndjson); \
                 `windowpane sql {} \"select * from rejected\"` lists them with file, line and reason",
                printable(&shell_word(input))
            ),
        };
    }
    out
}

/// Events per action and their share.
fn totals_table(f: &Figures, all: bool) -> String {
    let mut t = table(vec!["action".into(), "total_count".into(), "share".into()]);
    let total: i64 = f.totals.iter().map(|t| t.1).sum();
    let share = |n: i64| format!("{:.1}%", 100.0 * n as f64 / total.max(1) as f64);
    let (listed, others) = split(f, if all { usize::MAX } else { MAX_TOTALS });
    for (a, n) in &listed {
        t.add_row(vec![printable(a).into_owned(), thousands(*n), share(*n)]);
    }
    let mut note = String::new();
    if !others.is_empty() {
        let sum: i64 = others.iter().map(|t| t.1).sum();
        t.add_row(vec![
            format!("{} others", thousands(others.len() as i64)),
            thousands(sum),
            share(sum),
        ]);
        note = format!(
            "the {} busiest of {} actions; --all lists every one (tables/totals.csv has them)\n",
            listed.len(),
            thousands(f.totals.len() as i64)
        );
    }
    right_align(&mut t, 1);
    format!("\nTotals\n{t}\n{note}")
}

/// Actions listed by name in the totals without `--all`; past it, the
/// busiest ones and a row of the others.
const MAX_TOTALS: usize = 20;

/// Actions given a column of their own in the hourly table; past it, the
/// busiest ones and a column of the others.
const MAX_COLUMNS: usize = 8;

/// Actions with their totals: those shown on their own, and the others.
type Split<'a> = (Vec<&'a (String, i64)>, Vec<&'a (String, i64)>);

/// The actions shown on their own, at most `max`, and the others: all of
/// them in the totals' order (by name) when they are that few, else the
/// busiest first and a place kept for the others.
fn split(f: &Figures, max: usize) -> Split<'_> {
    let mut all: Vec<&(String, i64)> = f.totals.iter().collect();
    if all.len() <= max {
        return (all, Vec::new());
    }
    all.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let others = all.split_off(max.saturating_sub(1).max(1));
    (all, others)
}

/// Hourly counts, one column per action, with the hourly average beside;
/// without `all`, only the first and last hours and the peak.
fn hourly_table(f: &Figures, all: bool) -> String {
    let mut out = String::new();
    let (shown, others) = split(f, MAX_COLUMNS);
    let mut actions: Vec<&str> = shown.iter().map(|t| t.0.as_str()).collect();
    actions.sort();
    let rest: std::collections::HashSet<&str> = others.iter().map(|t| t.0.as_str()).collect();
    let peak = f.peak_hour.as_ref().map(|p| p.window_start);
    let n = f.hourly_average.len();
    let shown = |i: usize, start: i64| all || i < EDGE_ROWS || i + EDGE_ROWS >= n || Some(start) == peak;
    // the counts of the hours shown only: a year holds thousands
    let shown_hours: std::collections::HashSet<i64> = f
        .hourly_average
        .iter()
        .enumerate()
        .filter(|(i, h)| shown(*i, h.window_start))
        .map(|(_, h)| h.window_start)
        .collect();
    let mut by_hour: BTreeMap<i64, BTreeMap<&str, i64>> = BTreeMap::new();
    for c in f.hourly_counts.iter().filter(|c| shown_hours.contains(&c.window_start)) {
        by_hour.entry(c.window_start).or_default().insert(&*c.action, c.count);
    }
    let mut header = vec!["hour (UTC)".to_string()];
    header.extend(actions.iter().map(|a| printable(a).into_owned()));
    if !rest.is_empty() {
        header.push(format!("{} others", thousands(rest.len() as i64)));
    }
    header.push("average / minute".into());
    header.push(String::new());
    let mut t = table(header);
    let mut hidden = 0;
    for (i, h) in f.hourly_average.iter().enumerate() {
        if !shown(i, h.window_start) {
            hidden += 1;
            continue;
        }
        if i > 0 && !shown(i - 1, f.hourly_average[i - 1].window_start) {
            let mut gap = vec!["⋮".to_string()];
            let others = usize::from(!rest.is_empty());
            gap.extend(std::iter::repeat_n("⋮".to_string(), actions.len() + others + 1));
            gap.push(String::new());
            t.add_row(gap);
        }
        let counts = by_hour.get(&h.window_start);
        let mut row = vec![short(h.window_start)];
        for a in &actions {
            row.push(thousands(counts.and_then(|c| c.get(a)).copied().unwrap_or(0)));
        }
        if !rest.is_empty() {
            let others = counts.map_or(0, |c| c.iter().filter(|(a, _)| rest.contains(*a)).map(|(_, n)| n).sum());
            row.push(thousands(others));
        }
        row.push(format!("{:.4}", h.average));
        row.push(if Some(h.window_start) == peak {
            "◀ peak".into()
        } else {
            String::new()
        });
        t.add_row(row);
    }
    right_align(&mut t, 1);
    let _ = writeln!(out, "\nHourly counts and average actions per minute\n{t}");
    if hidden > 0 {
        let _ = writeln!(out, "{} of {n} hours shown; --all shows every hour", n - hidden);
    }
    if !rest.is_empty() {
        let _ = writeln!(
            out,
            "a column for each of the {} busiest actions, the other {} summed; tables/hourly_counts.csv \
             (or windowpane sql \"select * from hourly_counts\") has each one",
            actions.len(),
            thousands(rest.len() as i64)
        );
    }
    out
}

/// The alert minutes, or a line saying there are none.
fn alerts_table(f: &Figures, opts: &Options) -> String {
    let (open, close) = (printable(&opts.alert_actions.0), printable(&opts.alert_actions.1));
    if f.alerts.is_empty() {
        return format!(
            "\nAlerts (|{open} − {close}| > {} in a minute): none\n",
            opts.alert_threshold
        );
    }
    let mut t = table(vec![
        "minute (UTC)".into(),
        open.to_string(),
        close.to_string(),
        "difference".into(),
    ]);
    for a in &f.alerts {
        t.add_row(vec![
            short(a.window_start),
            thousands(a.open),
            thousands(a.close),
            format!("{:+}", a.difference),
        ]);
    }
    right_align(&mut t, 1);
    format!(
        "\nAlerts: {} minutes where |{open} − {close}| > {}\n{t}\n",
        f.alerts.len(),
        opts.alert_threshold
    )
}

/// The one-number figures.
fn statistics_table(s: &Summary, f: &Figures) -> String {
    let mut t = table(vec!["figure".into(), "value".into()]);
    t.add_row(vec!["minute rows".into(), thousands(s.minute_rows as i64)]);
    t.add_row(vec!["variance of minute counts".into(), float(s.variance)]);
    t.add_row(vec![
        "hourly count max".into(),
        s.hourly_count_max.map(thousands).unwrap_or_default(),
    ]);
    t.add_row(vec![
        "hourly count min".into(),
        s.hourly_count_min.map(thousands).unwrap_or_default(),
    ]);
    if let Some(p) = &f.peak_hour {
        t.add_row(vec![
            "peak hour".into(),
            format!("{} ({:.4} / minute)", short(p.window_start), p.average),
        ]);
    }
    right_align(&mut t, 1);
    format!("\nStatistics\n{t}\n")
}
