//! The one piece of state every figure is derived from: event counts per
//! (action, minute window), plus the first and last event time.
//!
//! It is small (one entry per action and minute that has events), mergeable
//! (the counts of two inputs add up), and the same for batch and streaming:
//! batch folds every file into it once, streaming folds a few files per
//! trigger.

use std::collections::HashMap;
use std::sync::Arc;

use foldhash::fast::RandomState;

/// Floor of `t / 60` times 60: the start of the minute window of `t`.
pub fn minute_of(t: i64) -> i64 {
    t.div_euclid(60) * 60
}

/// Counts per (action, minute window start) and the event time range.
#[derive(Debug, Default, Clone)]
pub struct MinuteCounts {
    actions: Vec<String>,
    counts: HashMap<(u32, i64), u64, RandomState>,
    /// Per action: the minute being counted and its count not yet in `counts`
    /// (events come mostly in time order, so most events touch the same
    /// entry as the previous event of their action).
    pending: Vec<(i64, u64)>,
    events: u64,
    first: Option<i64>,
    last: Option<i64>,
}

impl MinuteCounts {
    /// An empty state.
    pub fn new() -> Self {
        Self::default()
    }

    fn action_id(&mut self, action: &str) -> usize {
        if let Some(i) = self.actions.iter().position(|a| a == action) {
            return i;
        }
        self.actions.push(action.to_string());
        self.pending.push((0, 0));
        self.actions.len() - 1
    }

    /// Counts one event.
    pub fn add(&mut self, time: i64, action: &str) {
        let id = self.action_id(action);
        let minute = minute_of(time);
        let slot = &mut self.pending[id];
        if slot.0 == minute {
            slot.1 += 1;
        } else {
            if slot.1 > 0 {
                *self.counts.entry((id as u32, slot.0)).or_insert(0) += slot.1;
            }
            *slot = (minute, 1);
        }
        self.events += 1;
        self.first = Some(self.first.map_or(time, |f| f.min(time)));
        self.last = Some(self.last.map_or(time, |l| l.max(time)));
    }

    fn flush(&mut self) {
        for (id, slot) in self.pending.iter_mut().enumerate() {
            if slot.1 > 0 {
                *self.counts.entry((id as u32, slot.0)).or_insert(0) += slot.1;
                slot.1 = 0;
            }
        }
    }

    /// Adds every count of `other` into `self`.
    pub fn merge(&mut self, mut other: MinuteCounts) {
        other.flush();
        self.flush();
        let ids: Vec<usize> = other.actions.iter().map(|a| self.action_id(a)).collect();
        for ((id, minute), n) in other.counts {
            *self.counts.entry((ids[id as usize] as u32, minute)).or_insert(0) += n;
        }
        self.events += other.events;
        self.first = match (self.first, other.first) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.last = match (self.last, other.last) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
    }

    /// The count of one action in one minute window (0 when it has none).
    pub fn count(&self, action: &str, minute: i64) -> u64 {
        let Some(id) = self.actions.iter().position(|a| a == action) else {
            return 0;
        };
        let stored = self.counts.get(&(id as u32, minute)).copied().unwrap_or(0);
        let pending = self.pending[id];
        stored + if pending.0 == minute { pending.1 } else { 0 }
    }

    /// Rebuilds a state from its rows and event time range, as a checkpoint
    /// saved them.
    pub fn from_rows(rows: impl IntoIterator<Item = (String, i64, u64)>, range: Option<(i64, i64)>) -> Self {
        let mut state = Self::new();
        for (action, minute, n) in rows {
            let id = state.action_id(&action) as u32;
            *state.counts.entry((id, minute)).or_insert(0) += n;
            state.events += n;
        }
        state.first = range.map(|r| r.0);
        state.last = range.map(|r| r.1);
        state
    }

    /// Keeps only the rows whose minute start `keep` accepts and returns the
    /// number of events dropped. The event time range stays as it was.
    pub fn retain_minutes(&mut self, keep: impl Fn(i64) -> bool) -> u64 {
        let range = self.time_range();
        let (kept, dropped): (Vec<_>, Vec<_>) = self.rows().into_iter().partition(|r| keep(r.1));
        *self = Self::from_rows(kept.into_iter().map(|(a, m, n)| (a.to_string(), m, n)), range);
        dropped.iter().map(|r| r.2).sum()
    }

    /// Number of events counted.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// Earliest and latest event time (epoch seconds), if any event.
    pub fn time_range(&self) -> Option<(i64, i64)> {
        Some((self.first?, self.last?))
    }

    /// Every (action, minute start, count) with a non-zero count, sorted by
    /// minute, then action.
    pub fn rows(&self) -> Vec<(Arc<str>, i64, u64)> {
        let coded = self.coded();
        let mut rows: Vec<(Arc<str>, i64, u64)> = coded
            .rows
            .iter()
            .map(|&(code, minute, n)| (coded.names[code as usize].clone(), minute, n))
            .collect();
        rows.sort_unstable_by(|a, b| (a.1, &a.0).cmp(&(b.1, &b.0)));
        rows
    }

    /// The counts with actions as codes: see [`Coded`].
    pub fn coded(&self) -> Coded {
        let mut order: Vec<usize> = (0..self.actions.len()).collect();
        order.sort_unstable_by(|&a, &b| self.actions[a].cmp(&self.actions[b]));
        let mut code = vec![0u32; self.actions.len()];
        for (c, &id) in order.iter().enumerate() {
            code[id] = c as u32;
        }
        let pending = self.pending.iter().enumerate().filter(|(_, slot)| slot.1 > 0);
        let mut rows: Vec<(u32, i64, u64)> = self
            .counts
            .iter()
            .map(|(&(id, minute), &n)| (code[id as usize], minute, n))
            .chain(pending.map(|(id, &(minute, n))| (code[id], minute, n)))
            .collect();
        rows.sort_unstable();
        // a pending count may belong to a minute that is also in the map
        rows.dedup_by(|later, earlier| {
            let same = (later.0, later.1) == (earlier.0, earlier.1);
            if same {
                earlier.2 += later.2;
            }
            same
        });
        Coded {
            names: order.iter().map(|&id| Arc::from(self.actions[id].as_str())).collect(),
            rows,
        }
    }
}

/// The minute counts with each action replaced by its code: its index in
/// `names`, which is sorted, so codes sort like names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coded {
    /// Action names, sorted; a code is an index into it.
    pub names: Vec<Arc<str>>,
    /// (action code, minute start, count), sorted by action, then minute.
    pub rows: Vec<(u32, i64, u64)>,
}

impl Coded {
    /// The code of an action, if it occurs.
    pub fn code(&self, action: &str) -> Option<u32> {
        self.names
            .binary_search_by(|n| (**n).cmp(action))
            .ok()
            .map(|c| c as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minute_windows_are_floored_half_open() {
        assert_eq!(minute_of(59), 0);
        assert_eq!(minute_of(60), 60);
        assert_eq!(minute_of(119), 60);
        assert_eq!(minute_of(-1), -60);
    }

    #[test]
    fn retaining_minutes_drops_their_events_and_keeps_the_time_range() {
        let mut c = MinuteCounts::new();
        for (t, a) in [(0, "Open"), (30, "Open"), (61, "Close"), (125, "Open")] {
            c.add(t, a);
        }
        assert_eq!(c.retain_minutes(|m| m >= 60), 2);
        assert_eq!(c.events(), 2);
        assert_eq!(c.count("Open", 0), 0);
        assert_eq!((c.count("Close", 60), c.count("Open", 120)), (1, 1));
        assert_eq!(c.time_range(), Some((0, 125)));
    }

    #[test]
    fn merging_two_halves_equals_counting_everything() {
        let events = [
            (0, "Open"),
            (59, "Open"),
            (60, "Close"),
            (61, "Open"),
            (10, "Open"),
            (3600, "X"),
        ];
        let mut all = MinuteCounts::new();
        for (t, a) in events {
            all.add(t, a);
        }
        let (mut left, mut right) = (MinuteCounts::new(), MinuteCounts::new());
        for (i, (t, a)) in events.iter().enumerate() {
            if i % 2 == 0 {
                left.add(*t, a)
            } else {
                right.add(*t, a)
            }
        }
        left.merge(right);
        assert_eq!(left.rows(), all.rows());
        let all_rows = all.rows();
        let rows: Vec<(&str, i64, u64)> = all_rows.iter().map(|r| (&*r.0, r.1, r.2)).collect();
        assert_eq!(
            rows,
            vec![("Open", 0, 3), ("Close", 60, 1), ("Open", 60, 1), ("X", 3600, 1)]
        );
        assert_eq!(left.events(), 6);
        assert_eq!(left.time_range(), Some((0, 3600)));
    }
}
