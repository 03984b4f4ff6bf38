//! Small hand-computed cases, one per definition of the metrics contract.

use windowpane::metrics::{compute, Figures, Options};
use windowpane::state::MinuteCounts;

/// 2016-07-26T02:00:00Z, the start of an hour.
const H: i64 = 1_469_498_400;

fn figures(events: &[(i64, &str)]) -> Figures {
    figures_with(events, &Options::default())
}

fn figures_with(events: &[(i64, &str)], opts: &Options) -> Figures {
    let mut c = MinuteCounts::new();
    for (t, a) in events {
        c.add(*t, a);
    }
    compute(&c, opts).unwrap()
}

fn repeat(n: usize, t: i64, a: &'static str) -> Vec<(i64, &'static str)> {
    vec![(t, a); n]
}

#[test]
fn windows_are_half_open_at_59_and_00() {
    let f = figures(&[
        (H + 59, "Open"),
        (H + 60, "Open"),
        (H + 3599, "Open"),
        (H + 3600, "Open"),
    ]);
    let minutes: Vec<(i64, i64)> = f.minute_rows().iter().map(|c| (c.window_start - H, c.count)).collect();
    assert_eq!(minutes, [(0, 1), (60, 1), (3540, 1), (3600, 1)]);
    assert!(f.minute_rows().iter().all(|c| c.window_end == c.window_start + 60));
    let hours: Vec<(i64, i64)> = f.hourly_counts.iter().map(|c| (c.window_start - H, c.count)).collect();
    assert_eq!(hours, [(0, 3), (3600, 1)]);
    assert!(f.hourly_counts.iter().all(|c| c.window_end == c.window_start + 3600));
}

#[test]
fn minute_counts_are_sorted_by_window_then_action() {
    let f = figures(&[(H + 61, "b"), (H + 1, "b"), (H + 2, "a"), (H + 62, "a")]);
    let rows = f.minute_rows();
    let order: Vec<(i64, &str)> = rows.iter().map(|c| (c.window_start - H, &*c.action)).collect();
    assert_eq!(order, [(0, "a"), (0, "b"), (60, "a"), (60, "b")]);
    assert_eq!(f.totals, [("a".to_string(), 2), ("b".to_string(), 2)]);
}

#[test]
fn a_minute_with_only_one_alert_action_counts_the_other_as_zero() {
    // minute 0: 25 opens, no close; minute 1: 22 closes, no open (a signed
    // difference, never an unsigned wrap); minute 2: 20 vs 0 is not strictly
    // greater than 20; minute 3: 21 vs 0 is.
    let mut events = repeat(25, H, "Open");
    events.extend(repeat(22, H + 60, "Close"));
    events.extend(repeat(20, H + 120, "Open"));
    events.extend(repeat(21, H + 180, "Open"));
    events.extend(repeat(30, H + 180, "Pause"));
    let f = figures(&events);
    let alerts: Vec<(i64, i64, i64, i64)> = f
        .alerts
        .iter()
        .map(|a| (a.window_start - H, a.open, a.close, a.difference))
        .collect();
    assert_eq!(alerts, [(0, 25, 0, 25), (60, 0, 22, -22), (180, 21, 0, 21)]);
}

#[test]
fn alert_threshold_and_actions_are_options() {
    let mut events = repeat(5, H, "Open");
    events.extend(repeat(1, H, "Close"));
    events.extend(repeat(9, H, "Pause"));
    let opts = Options {
        alert_threshold: 3,
        ..Options::default()
    };
    assert_eq!(figures_with(&events, &opts).alerts.len(), 1);
    let opts = Options {
        alert_threshold: 3,
        alert_actions: ("Pause".into(), "Open".into()),
        ..Options::default()
    };
    let f = figures_with(&events, &opts);
    assert_eq!((f.alerts[0].open, f.alerts[0].close, f.alerts[0].difference), (9, 5, 4));
}

#[test]
fn moving_average_is_trailing_over_a_dense_grid_from_the_first_minute() {
    // A: 2 at minute 0, nothing at minute 1, 4 at minute 2; B only at minute 1
    let mut events = repeat(2, H, "A");
    events.extend(repeat(1, H + 60, "B"));
    events.extend(repeat(4, H + 120, "A"));
    let f = figures(&events);
    let a: Vec<(i64, i64, f64, Option<f64>)> = f
        .moving_rows()
        .unwrap()
        .iter()
        .filter(|m| &*m.action == "A")
        .map(|m| (m.window_start - H, m.count, m.moving_average, m.moving_variance))
        .collect();
    // [2] -> mean 2, no variance; [2,0] -> 1, 2; [2,0,4] -> 2, 4
    assert_eq!(
        a,
        [(0, 2, 2.0, None), (60, 0, 1.0, Some(2.0)), (120, 4, 2.0, Some(4.0))]
    );
    let b: Vec<(i64, i64)> = f
        .moving_rows()
        .unwrap()
        .iter()
        .filter(|m| &*m.action == "B")
        .map(|m| (m.window_start - H, m.count))
        .collect();
    assert_eq!(
        b,
        [(0, 0), (60, 1), (120, 0)],
        "B's grid starts at the data's first minute"
    );
}

#[test]
fn moving_window_holds_this_minute_and_the_29_before() {
    // minute i has i + 1 events, for i = 0..=30
    let mut events = Vec::new();
    for i in 0..=30i64 {
        events.extend(repeat(i as usize + 1, H + 60 * i, "A"));
    }
    let f = figures(&events);
    let moving = f.moving_rows().unwrap();
    let last = moving.last().unwrap();
    assert_eq!(last.window_start - H, 1800);
    // window = counts 2..=31: mean 16.5, sample variance of 30 consecutive integers = 77.5
    assert_eq!(last.moving_average, 16.5);
    assert_eq!(last.moving_variance, Some(77.5));
    // minute 29 still averages from the start: 1..=30
    assert_eq!(moving[29].moving_average, 15.5);
    let opts = Options {
        moving_window: 2,
        ..Options::default()
    };
    let f = figures_with(&events, &opts);
    assert_eq!(f.moving_rows().unwrap().last().unwrap().moving_average, 30.5);
}

#[test]
fn hourly_average_is_the_mean_over_minutes_of_the_mean_over_actions() {
    // minute 0: A=2, B=4 -> 3; minute 1: A=1 -> 1; the hour: (3 + 1) / 2 = 2
    let mut events = repeat(2, H, "A");
    events.extend(repeat(4, H, "B"));
    events.extend(repeat(1, H + 60, "A"));
    let f = figures(&events);
    assert_eq!(f.hourly_average.len(), 1);
    assert_eq!(f.hourly_average[0].average, 2.0);
    assert_eq!(f.hourly_average[0].window_end - f.hourly_average[0].window_start, 3600);
}

#[test]
fn peak_hour_ties_go_to_the_earliest_hour() {
    let mut events = repeat(3, H, "A");
    events.extend(repeat(3, H + 7200, "A"));
    events.extend(repeat(1, H + 3600, "A"));
    let f = figures(&events);
    assert_eq!(f.peak_hour.unwrap().window_start, H);
    // and the largest wins when there is no tie
    events.extend(repeat(1, H + 7200, "A"));
    assert_eq!(figures(&events).peak_hour.unwrap().window_start, H + 7200);
}

#[test]
fn variance_is_the_sample_variance_of_minute_counts() {
    // minute rows with counts 1, 2, 3, 4: sample variance 5/3
    let mut events = repeat(1, H, "A");
    events.extend(repeat(2, H, "B"));
    events.extend(repeat(3, H + 60, "A"));
    events.extend(repeat(4, H + 600, "A"));
    let f = figures(&events);
    assert!((f.variance.unwrap() - 5.0 / 3.0).abs() < 1e-15);
    assert_eq!(figures(&[(H, "A")]).variance, None, "one row has no sample variance");
}

#[test]
fn no_events_no_figures() {
    let f = figures(&[]);
    assert!(f.minute_counts().is_empty() && f.hourly_counts.is_empty() && f.totals.is_empty());
    assert!(f.alerts.is_empty() && f.hourly_average.is_empty());
    assert_eq!((f.variance, f.peak_hour.clone()), (None, None));
    assert!(f.moving_rows().unwrap().is_empty());
}

#[test]
fn a_gap_longer_than_the_window_adds_no_moving_average_rows() {
    // A: 3 events at minute 0 and 2 at minute 100; the window is 30 minutes
    let mut events = repeat(3, H, "A");
    events.extend(repeat(2, H + 100 * 60, "A"));
    let f = figures(&events);
    let rows: Vec<(i64, i64, f64)> = f
        .moving_rows()
        .unwrap()
        .iter()
        .map(|m| ((m.window_start - H) / 60, m.count, m.moving_average))
        .collect();
    // minutes 0..=29 (the window that holds minute 0), then minute 100 (the
    // last minute of the data): nothing in between
    assert_eq!(rows.len(), 31);
    assert_eq!(rows[0], (0, 3, 3.0));
    assert_eq!(rows[1], (1, 0, 1.5));
    assert_eq!(rows[29], (29, 0, 0.1));
    // at minute 100 the window holds 30 minutes, 29 of them without events
    assert_eq!(rows[30], (100, 2, 2.0 / 30.0));
}

#[test]
fn events_in_year_1_and_9999_beside_2016_cost_nothing_special() {
    let mut events = repeat(25, H, "Open");
    events.push((-62_135_596_800, "Open"));
    events.push((253_402_300_799, "Close"));
    let f = figures(&events);
    assert_eq!(f.minute_counts().len(), 3);
    assert_eq!(f.hourly_counts.len(), 3);
    assert_eq!(f.hourly_average.len(), 3);
    assert_eq!(f.alerts.len(), 1, "the 2016 minute");
    // each event's trailing window: 30 minutes for year 1 and for 2016 (for
    // both actions), and the last minute of the data
    assert_eq!(f.moving_rows().unwrap().len(), 2 * (30 + 30 + 1));
}

#[test]
fn hourly_max_and_min() {
    let mut events = repeat(5, H, "A");
    events.extend(repeat(2, H + 3600, "B"));
    let f = figures(&events);
    assert_eq!((f.hourly_count_max(), f.hourly_count_min()), (Some(5), Some(2)));
}
