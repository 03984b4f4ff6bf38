//! The `tables/*.csv` files, in the contract's columns.
//!
//! Values never need quoting except actions, which are quoted when they hold
//! a comma, a quote or a line break.

use std::fmt::Write;

use crate::engine::stream::TriggerRow;
use crate::metrics::Figures;

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

/// Every table as (file name, contents).
pub fn tables(f: &Figures) -> anyhow::Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    for (name, df) in crate::sql::figure_frames(f)? {
        out.push((
            format!("{name}.csv"),
            super::frame::render(&df, super::frame::FrameFormat::Csv, 0)?,
        ));
    }
    Ok(out)
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
