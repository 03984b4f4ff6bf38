//! The figures a stream keeps up to date after each trigger, so that a
//! trigger costs what it changed: the hourly counts and averages and the
//! alerts of the hours it touched are computed again from those hours'
//! rows; the totals and the variance follow running sums. Everything else
//! (the minute and moving-average tables) is read off the state when a
//! report asks.

use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::Result;

use super::changes::AlertChange;
use crate::metrics::{self, Alert, Count, Figures, HourAverage, Options, Sums, HOUR};
use crate::state::{MinuteCounts, MinuteTable};

/// The figures kept up to date, by hour and minute.
#[derive(Debug, Default)]
pub struct KeptFigures {
    /// (hour start, action) → events in that hour.
    pub hourly: BTreeMap<(i64, Arc<str>), i64>,
    /// Hour start → average events per minute of that hour.
    pub averages: BTreeMap<i64, f64>,
    /// Minute start → the alert of that minute.
    pub alerts: BTreeMap<i64, Alert>,
    /// Events per action.
    pub totals: BTreeMap<Arc<str>, i64>,
    /// Exact sums of the minute counts, for their variance.
    pub sums: Sums,
}

impl KeptFigures {
    /// Computes the hourly figures and the alerts again for `hours` (sorted,
    /// each once: those a trigger's rows touched) from the rows of the
    /// state in them, with batch's one-pass figures; returns how the alerts
    /// changed.
    pub fn refresh(&mut self, state: &MinuteCounts, opts: &Options, hours: &[i64]) -> Result<Vec<AlertChange>> {
        if hours.is_empty() {
            return Ok(Vec::new());
        }
        // the rows of those hours, a range of consecutive hours at a time
        let mut table = MinuteTable::default();
        for (from, to) in metrics::hour_runs(hours.iter().copied()) {
            let part = state.table_in(from, to);
            table.names = part.names;
            table.code.extend(part.code);
            table.start.extend(part.start);
            table.count.extend(part.count);
        }
        let (counts, averages) = metrics::hourly(&table, 0..table.len())?;
        let alerts = metrics::alerts_of(&table, opts);
        // what the touched hours held before, found by range: the cost
        // follows the hours touched, not the hours held
        let none: Arc<str> = Arc::from("");
        let mut old: BTreeMap<i64, Alert> = BTreeMap::new();
        for &h in hours {
            let stale: Vec<(i64, Arc<str>)> = self
                .hourly
                .range((h, none.clone())..(h + HOUR, none.clone()))
                .map(|(k, _)| k.clone())
                .collect();
            for k in stale {
                self.hourly.remove(&k);
            }
            self.averages.remove(&h);
            let minutes: Vec<i64> = self.alerts.range(h..h + HOUR).map(|(m, _)| *m).collect();
            for m in minutes {
                old.extend(self.alerts.remove_entry(&m));
            }
        }
        self.hourly
            .extend(counts.into_iter().map(|c| ((c.window_start, c.action), c.count)));
        self.averages
            .extend(averages.into_iter().map(|h| (h.window_start, h.average)));
        let mut changes = Vec::new();
        for a in alerts {
            match old.remove(&a.window_start) {
                None => changes.push(AlertChange::New(a.clone())),
                Some(before) if before != a => changes.push(AlertChange::Updated(a.clone())),
                Some(_) => {}
            }
            self.alerts.insert(a.window_start, a);
        }
        let (open, close) = &opts.alert_actions;
        for (m, _) in old {
            // the minute's counts now, under the threshold
            let of = |action: &str| state.count(action, m) as i64;
            let (open, close) = (of(open), of(close));
            changes.push(AlertChange::Withdrawn(
                Alert::of(m, open, close).expect("an event's minute and counts fit"),
            ));
        }
        Ok(changes)
    }

    /// Every figure: the kept ones and the minute counts `counts` as they
    /// are. Equal to batch's figures of the same events.
    pub fn figures(&self, counts: MinuteCounts, moving_window: usize) -> Figures {
        let averages: Vec<HourAverage> = self
            .averages
            .iter()
            .map(|(&h, &average)| HourAverage {
                window_start: h,
                window_end: h + HOUR,
                average,
            })
            .collect();
        Figures::from_parts(
            counts,
            self.hourly
                .iter()
                .map(|((h, a), &count)| Count {
                    action: a.clone(),
                    window_start: *h,
                    window_end: h + HOUR,
                    count,
                })
                .collect(),
            self.totals.iter().map(|(a, &n)| (a.to_string(), n)).collect(),
            averages,
            self.alerts.values().cloned().collect(),
            self.sums.variance(),
            moving_window,
        )
    }
}
