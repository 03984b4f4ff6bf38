//! `summary.json`: the headline figures of a run.

use std::collections::BTreeMap;

use serde::Serialize;

use super::timefmt::rfc3339;
use crate::metrics::Figures;
pub use crate::model::InputStats;

/// The hour with the largest hourly average.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Peak {
    /// Hour start, RFC 3339.
    pub window_start: String,
    /// Hour end, RFC 3339.
    pub window_end: String,
    /// Its hourly average.
    pub average: f64,
}

/// The contents of `summary.json`, in the contract's key order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// What was read.
    pub input: InputStats,
    /// Time of the earliest event, RFC 3339.
    pub first_event: Option<String>,
    /// Time of the latest event, RFC 3339.
    pub last_event: Option<String>,
    /// Every action seen, sorted.
    pub actions: Vec<String>,
    /// Events per action.
    pub totals: BTreeMap<String, i64>,
    /// Largest hourly count.
    pub hourly_count_max: Option<i64>,
    /// Smallest hourly count.
    pub hourly_count_min: Option<i64>,
    /// Rows of `minute_counts`.
    pub minute_rows: usize,
    /// Sample variance of the minute counts.
    pub variance: Option<f64>,
    /// The peak hour.
    pub peak_hour: Option<Peak>,
    /// Number of alert minutes.
    pub alerts: usize,
}

impl Summary {
    /// Builds the summary of what was read (`input`, events between
    /// `range`) and its `figures`.
    pub fn new(input: &InputStats, range: Option<(i64, i64)>, figures: &Figures) -> Self {
        Self {
            input: input.clone(),
            first_event: range.map(|r| rfc3339(r.0)),
            last_event: range.map(|r| rfc3339(r.1)),
            actions: figures.totals.iter().map(|t| t.0.clone()).collect(),
            totals: figures.totals.iter().cloned().collect(),
            hourly_count_max: figures.hourly_count_max(),
            hourly_count_min: figures.hourly_count_min(),
            minute_rows: figures.minute_len(),
            variance: figures.variance,
            peak_hour: figures.peak_hour.as_ref().map(|p| Peak {
                window_start: rfc3339(p.window_start),
                window_end: rfc3339(p.window_end),
                average: p.average,
            }),
            alerts: figures.alerts.len(),
        }
    }

    /// Pretty JSON with a final newline.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("a summary always serialises");
        s.push('\n');
        s
    }
}
