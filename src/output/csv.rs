//! The `tables/*.csv` files, in the contract's columns.
//!
//! Values never need quoting except actions, which are quoted when they hold
//! a comma, a quote or a line break.

use std::fmt::Write;

use super::timefmt::rfc3339;
use crate::engine::stream::TriggerRow;
use crate::metrics::{Count, Figures};

/// Quotes a CSV field when needed.
pub fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn opt(v: Option<f64>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

fn counts(rows: &[Count]) -> String {
    let mut out = String::from("action,window_start,window_end,count\n");
    for r in rows {
        let _ = writeln!(
            out,
            "{},{},{},{}",
            field(&r.action),
            rfc3339(r.window_start),
            rfc3339(r.window_end),
            r.count
        );
    }
    out
}

/// Every table as (file name, contents).
pub fn tables(f: &Figures) -> Vec<(&'static str, String)> {
    let mut totals = String::from("action,total_count\n");
    for (a, n) in &f.totals {
        let _ = writeln!(totals, "{},{n}", field(a));
    }
    let mut hourly_average = String::from("window_start,window_end,average\n");
    for h in &f.hourly_average {
        let _ = writeln!(
            hourly_average,
            "{},{},{}",
            rfc3339(h.window_start),
            rfc3339(h.window_end),
            h.average
        );
    }
    let mut alerts = String::from("window_start,window_end,open,close,difference\n");
    for a in &f.alerts {
        let _ = writeln!(
            alerts,
            "{},{},{},{},{}",
            rfc3339(a.window_start),
            rfc3339(a.window_end),
            a.open,
            a.close,
            a.difference
        );
    }
    let mut moving = String::from("action,window_start,count,moving_average,moving_variance\n");
    for m in &f.moving_average {
        let _ = writeln!(
            moving,
            "{},{},{},{},{}",
            field(&m.action),
            rfc3339(m.window_start),
            m.count,
            m.moving_average,
            opt(m.moving_variance)
        );
    }
    vec![
        ("minute_counts.csv", counts(&f.minute_counts)),
        ("hourly_counts.csv", counts(&f.hourly_counts)),
        ("totals.csv", totals),
        ("hourly_average.csv", hourly_average),
        ("alerts.csv", alerts),
        ("moving_average.csv", moving),
    ]
}

/// `tables/triggers.csv`: one row per trigger of a stream.
pub fn triggers(rows: &[TriggerRow]) -> String {
    let mut out = String::from("trigger,files,events,rejected,state_rows,variance,new_alerts,duration_ms\n");
    for r in rows {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{}",
            r.trigger,
            r.files,
            r.events,
            r.rejected,
            r.state_rows,
            opt(r.variance),
            r.new_alerts,
            r.duration_ms
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_only_when_needed() {
        assert_eq!(field("Open"), "Open");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }

    #[test]
    fn floats_are_shortest_round_trip() {
        assert_eq!(16.575f64.to_string(), "16.575");
        assert_eq!(opt(Some(0.1 + 0.2)), "0.30000000000000004");
        assert_eq!(opt(None), "");
    }
}
