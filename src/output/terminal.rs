//! Formatted tables for the terminal, fitted to its width.

use std::collections::BTreeMap;
use std::fmt::Write;

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{CellAlignment, ContentArrangement, Table};

use super::summary::Summary;
use super::timefmt::short;
use crate::metrics::{Figures, Options};

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

/// Thousands separators for counts: `100,000`.
pub fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

fn float(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.4}")).unwrap_or_else(|| "–".into())
}

/// Renders the whole terminal report.
pub fn render(heading: &str, s: &Summary, f: &Figures, opts: &Options, all: bool, report_dir: Option<&str>) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{heading}\n");

    let mut t = table(vec![
        "files".into(),
        "lines".into(),
        "events".into(),
        "rejected".into(),
        "first event".into(),
        "last event".into(),
    ]);
    t.add_row(vec![
        thousands(s.input.files as i64),
        thousands(s.input.lines as i64),
        thousands(s.input.events as i64),
        thousands(s.input.rejected as i64),
        s.first_event.clone().unwrap_or_else(|| "–".into()),
        s.last_event.clone().unwrap_or_else(|| "–".into()),
    ]);
    right_align(&mut t, 0);
    let _ = writeln!(out, "Input\n{t}");
    if s.input.rejected > 0 {
        let place = report_dir
            .map(|d| format!("{d}/rejected.ndjson"))
            .unwrap_or_else(|| "the report's rejected.ndjson".into());
        let _ = writeln!(
            out,
            "{} rejected lines are quarantined in {place}",
            thousands(s.input.rejected as i64)
        );
    }

    let mut t = table(vec!["action".into(), "total_count".into(), "share".into()]);
    let total: i64 = f.totals.iter().map(|t| t.1).sum();
    for (a, n) in &f.totals {
        t.add_row(vec![
            a.clone(),
            thousands(*n),
            format!("{:.1}%", 100.0 * *n as f64 / total.max(1) as f64),
        ]);
    }
    right_align(&mut t, 1);
    let _ = writeln!(out, "\nTotals\n{t}");

    // hourly counts, one column per action, with the hourly average beside
    let actions: Vec<&str> = f.totals.iter().map(|t| t.0.as_str()).collect();
    let mut by_hour: BTreeMap<i64, BTreeMap<&str, i64>> = BTreeMap::new();
    for c in &f.hourly_counts {
        by_hour.entry(c.window_start).or_default().insert(&*c.action, c.count);
    }
    let mut header = vec!["hour (UTC)".to_string()];
    header.extend(actions.iter().map(|a| a.to_string()));
    header.push("average / minute".into());
    header.push(String::new());
    let mut t = table(header);
    let peak = f.peak_hour.as_ref().map(|p| p.window_start);
    let n = f.hourly_average.len();
    let shown = |i: usize, start: i64| all || i < EDGE_ROWS || i + EDGE_ROWS >= n || Some(start) == peak;
    let mut hidden = 0;
    for (i, h) in f.hourly_average.iter().enumerate() {
        if !shown(i, h.window_start) {
            hidden += 1;
            continue;
        }
        if i > 0 && !shown(i - 1, f.hourly_average[i - 1].window_start) {
            let mut gap = vec!["⋮".to_string()];
            gap.extend(std::iter::repeat_n("⋮".to_string(), actions.len() + 1));
            gap.push(String::new());
            t.add_row(gap);
        }
        let counts = by_hour.get(&h.window_start);
        let mut row = vec![short(h.window_start)];
        for a in &actions {
            row.push(thousands(counts.and_then(|c| c.get(a)).copied().unwrap_or(0)));
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

    let (open, close) = (opts.alert_actions.0.as_str(), opts.alert_actions.1.as_str());
    let mut t = table(vec![
        "minute (UTC)".into(),
        open.into(),
        close.into(),
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
    if f.alerts.is_empty() {
        let _ = writeln!(
            out,
            "\nAlerts (|{open} − {close}| > {} in a minute): none",
            opts.alert_threshold
        );
    } else {
        let _ = writeln!(
            out,
            "\nAlerts: {} minutes where |{open} − {close}| > {}\n{t}",
            f.alerts.len(),
            opts.alert_threshold
        );
    }

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
    let _ = writeln!(out, "\nStatistics\n{t}");
    if let Some(dir) = report_dir {
        let _ = writeln!(out, "\nReport written to {dir}/ (open {dir}/index.html)");
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn thousands_groups_digits() {
        assert_eq!(super::thousands(0), "0");
        assert_eq!(super::thousands(999), "999");
        assert_eq!(super::thousands(100000), "100,000");
        assert_eq!(super::thousands(-1234567), "-1,234,567");
    }
}
