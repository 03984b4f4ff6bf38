//! The design's definition of the figures, written as a Polars lazy
//! pipeline: the events of a folder (JSON, CSV or Parquet, read by the
//! line rules), `group_by_dynamic` every minute and every hour by action,
//! and rolling expressions over each action's dense minutes for the moving
//! figures. Every table windowpane computes (its one-pass figures and its
//! incremental path alike) is held to it, over the conformance cases and
//! over random events.

use std::path::Path;

use polars::prelude::*;
use windowpane::metrics::{self, Options};
use windowpane::source::{self, FileOrder, ReadOptions};

/// The events of a folder: `time` (datetime, ms), `action`.
fn events(dir: &Path) -> LazyFrame {
    let files = source::list_files(dir, FileOrder::Name).unwrap();
    windowpane::sql::events_frame(&files, &ReadOptions::default())
        .unwrap()
        .lazy()
}

/// Windows of `every` by action: `action`, `window_start`, `count`,
/// ordered by window, then action.
fn windows(events: LazyFrame, every: &str) -> DataFrame {
    events
        .sort(["time"], Default::default())
        .group_by_dynamic(col("time"), [col("action")], tumbling(every))
        .agg([len().cast(DataType::Int64).alias("count")])
        .select([col("action"), col("time").alias("window_start"), col("count")])
        .sort(["window_start", "action"], Default::default())
        .collect()
        .unwrap()
}

/// Windows of `every`, one after the other from a whole multiple of it,
/// each labelled by its start and closed on the left.
fn tumbling(every: &str) -> DynamicGroupOptions {
    let every = polars::prelude::Duration::parse(every);
    DynamicGroupOptions {
        every,
        period: every,
        offset: polars::prelude::Duration::parse("0m"),
        label: Label::Left,
        include_boundaries: false,
        closed_window: ClosedWindow::Left,
        start_by: StartBy::WindowBound,
        ..Default::default()
    }
}

/// The moving average and sample variance over each action's trailing
/// `window` minutes, on the dense minutes from the first to the last, left
/// out where the trailing window holds no event of any action.
fn moving(minutes: &DataFrame, window: usize) -> DataFrame {
    let ms = |df: &DataFrame| -> Vec<i64> {
        df.column("window_start")
            .unwrap()
            .cast(&DataType::Int64)
            .unwrap()
            .i64()
            .unwrap()
            .into_no_null_iter()
            .collect()
    };
    let starts = ms(minutes);
    let (first, last) = (
        starts.iter().min().copied().unwrap(),
        starts.iter().max().copied().unwrap(),
    );
    let grid: Vec<i64> = (first..=last).step_by(60_000).collect();
    let actions = minutes
        .column("action")
        .unwrap()
        .unique_stable()
        .unwrap()
        .sort(Default::default())
        .unwrap();
    let grid = df!("window_start" => grid).unwrap().lazy();
    let actions = DataFrame::new_infer_height(vec![actions]).unwrap().lazy();
    let counts = minutes
        .clone()
        .lazy()
        .with_column(col("window_start").cast(DataType::Int64));
    let fixed = |n| RollingOptionsFixedWindow {
        window_size: n,
        min_periods: 1,
        ..Default::default()
    };
    let dense = actions
        .cross_join(grid, None)
        .join(
            counts,
            [col("action"), col("window_start")],
            [col("action"), col("window_start")],
            JoinArgs::new(JoinType::Left),
        )
        .with_column(col("count").fill_null(lit(0i64)).cast(DataType::Float64))
        .sort(["action", "window_start"], Default::default())
        .with_columns([
            col("count")
                .rolling_mean(fixed(window))
                .over([col("action")])
                .unwrap()
                .alias("moving_average"),
            col("count")
                .rolling_var(fixed(window))
                .over([col("action")])
                .unwrap()
                .alias("moving_variance"),
        ]);
    // the minutes whose trailing window holds an event of any action
    let held = dense
        .clone()
        .group_by([col("window_start")])
        .agg([col("count").sum().alias("all")])
        .sort(["window_start"], Default::default())
        .with_column(col("all").rolling_sum(fixed(window)).alias("held"))
        .filter(col("held").gt(lit(0.0)))
        .select([col("window_start")]);
    dense
        .join(
            held,
            [col("window_start")],
            [col("window_start")],
            JoinArgs::new(JoinType::Inner),
        )
        .select([
            col("action"),
            col("window_start"),
            col("count").cast(DataType::Int64),
            col("moving_average"),
            col("moving_variance"),
        ])
        .sort(["window_start", "action"], Default::default())
        .collect()
        .unwrap()
}

fn ints(df: &DataFrame, name: &str) -> Vec<i64> {
    df.column(name)
        .unwrap()
        .cast(&DataType::Int64)
        .unwrap()
        .i64()
        .unwrap()
        .into_no_null_iter()
        .collect()
}

fn strs(df: &DataFrame, name: &str) -> Vec<String> {
    let column = df.column(name).unwrap().str().unwrap().clone();
    column.iter().map(|v| v.unwrap_or_default().to_string()).collect()
}

fn floats(df: &DataFrame, name: &str) -> Vec<Option<f64>> {
    df.column(name)
        .unwrap()
        .cast(&DataType::Float64)
        .unwrap()
        .f64()
        .unwrap()
        .iter()
        .map(|v| v.filter(|f| f.is_finite()))
        .collect()
}

fn close(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0),
        (a, b) => a == b,
    }
}

/// Holds windowpane's tables of `dir`, batch and incremental, to the
/// pipeline's.
fn holds(dir: &Path) {
    let opts = Options::default();
    let batch = source::read(dir, FileOrder::Name, false, Some(2)).unwrap();
    holds_figures(dir, &metrics::compute(&batch.counts, &opts).unwrap(), &opts);
    // and a stream taking a file per trigger, its figures kept up to date
    let ck = tempfile::tempdir().unwrap();
    let mut stream = windowpane::engine::stream::Stream::open(
        dir,
        &ck.path().join("ck"),
        windowpane::engine::stream::StreamOptions {
            figures: opts.clone(),
            max_files_per_trigger: 1,
            order: FileOrder::Name,
            mode: windowpane::engine::stream::OutputMode::Complete,
            watermark_minutes: 0,
            threads: 2,
            read: ReadOptions::default(),
        },
    )
    .unwrap();
    while stream.run_trigger().unwrap().is_some() {}
    holds_figures(dir, &stream.figures().unwrap(), &opts);
}

/// Holds one set of figures of `dir` to the pipeline's tables.
fn holds_figures(dir: &Path, figures: &windowpane::metrics::Figures, opts: &Options) {
    let frame = |name| windowpane::frames::figure_frame(figures, name).unwrap();
    let minutes = windows(events(dir), "1m");
    for (name, every) in [("minute_counts", "1m"), ("hourly_counts", "1h")] {
        let want = match every {
            "1m" => minutes.clone(),
            _ => windows(events(dir), every),
        };
        let got = frame(name);
        assert_eq!(
            strs(&got, "action"),
            strs(&want, "action"),
            "{name} of {}",
            dir.display()
        );
        assert_eq!(ints(&got, "window_start"), ints(&want, "window_start"), "{name}");
        assert_eq!(ints(&got, "count"), ints(&want, "count"), "{name}");
    }
    // totals: every event of an action
    let want = events(dir)
        .group_by([col("action")])
        .agg([len().cast(DataType::Int64).alias("total_count")])
        .sort(["action"], Default::default())
        .collect()
        .unwrap();
    let got = frame("totals");
    assert_eq!(
        strs(&got, "action"),
        strs(&want, "action"),
        "totals of {}",
        dir.display()
    );
    assert_eq!(ints(&got, "total_count"), ints(&want, "total_count"));
    // the hourly average: per hour window (group_by_dynamic of the minute
    // windows), the mean over its minutes of the mean over the actions
    // present of their counts
    let per_minute = minutes
        .clone()
        .lazy()
        .group_by([col("window_start")])
        .agg([col("count").cast(DataType::Float64).mean().alias("per_action")])
        .sort(["window_start"], Default::default());
    let want = per_minute
        .group_by_dynamic(col("window_start"), [], tumbling("1h"))
        .agg([col("per_action").mean().alias("average")])
        .sort(["window_start"], Default::default())
        .collect()
        .unwrap();
    let got = frame("hourly_average");
    assert_eq!(
        ints(&got, "window_start"),
        ints(&want, "window_start"),
        "hourly_average of {}",
        dir.display()
    );
    for (i, (a, b)) in floats(&got, "average").iter().zip(floats(&want, "average")).enumerate() {
        assert!(close(*a, b), "hourly_average row {i}: {a:?} against {b:?}");
    }
    // the alerts: minutes where the two alert actions' counts (0 when
    // absent) differ by more than the threshold
    let (open, close_action) = (&opts.alert_actions.0, &opts.alert_actions.1);
    let of = |a: &str| {
        col("count")
            .filter(col("action").eq(lit(a.to_string())))
            .sum()
            .fill_null(lit(0i64))
    };
    let want = minutes
        .clone()
        .lazy()
        .group_by([col("window_start")])
        .agg([of(open).alias("open"), of(close_action).alias("close")])
        .with_column((col("open") - col("close")).alias("difference"))
        .filter(col("difference").abs().gt(lit(opts.alert_threshold)))
        .sort(["window_start"], Default::default())
        .collect()
        .unwrap();
    let got = frame("alerts");
    assert_eq!(
        ints(&got, "window_start"),
        ints(&want, "window_start"),
        "alerts of {}",
        dir.display()
    );
    assert_eq!(ints(&got, "open"), ints(&want, "open"));
    assert_eq!(ints(&got, "close"), ints(&want, "close"));
    assert_eq!(ints(&got, "difference"), ints(&want, "difference"));
    assert!(
        !dir.ends_with("seedlike/input") || got.height() > 0,
        "the seed-like case has alerts to compare"
    );
    let want = moving(&minutes, opts.moving_window);
    let got = frame("moving_average");
    assert_eq!(got.height(), want.height(), "moving_average rows of {}", dir.display());
    assert_eq!(strs(&got, "action"), strs(&want, "action"));
    assert_eq!(ints(&got, "window_start"), ints(&want, "window_start"));
    assert_eq!(ints(&got, "count"), ints(&want, "count"));
    for column in ["moving_average", "moving_variance"] {
        let (g, w) = (floats(&got, column), floats(&want, column));
        for (i, (a, b)) in g.iter().zip(&w).enumerate() {
            assert!(
                close(*a, *b),
                "{column} row {i}: {a:?} against {b:?} in {}",
                dir.display()
            );
        }
    }
}

#[test]
fn the_tables_are_the_group_by_dynamic_pipelines_on_the_conformance_cases() {
    for case in ["seedlike", "messy"] {
        holds(&crate::util::conformance(case).join("input"));
    }
}

#[test]
fn the_tables_are_the_pipelines_on_random_events_in_each_format() {
    // random events with gaps longer than the window, three actions, and
    // the same events as JSON, CSV and Parquet
    let dir = tempfile::tempdir().unwrap();
    let mut state = 7u64;
    let mut next = |n: u64| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) % n
    };
    let mut rows = Vec::new();
    let mut t = 1_469_501_107i64;
    for _ in 0..3000 {
        t += if next(50) == 0 {
            3600 + next(7200) as i64
        } else {
            next(40) as i64
        };
        let action = ["Open", "Close", "Pause"][next(3) as usize];
        rows.push((t, action));
    }
    for (kind, write) in [("json", 0), ("csv", 1), ("parquet", 2)] {
        let folder = dir.path().join(kind);
        std::fs::create_dir(&folder).unwrap();
        match write {
            0 => {
                let body: String = rows
                    .iter()
                    .map(|(t, a)| format!("{{\"time\":{t},\"action\":\"{a}\"}}\n"))
                    .collect();
                std::fs::write(folder.join("a.json"), body).unwrap();
            }
            1 => {
                let body: String = std::iter::once("time,action\n".to_string())
                    .chain(rows.iter().map(|(t, a)| format!("{t},{a}\n")))
                    .collect();
                std::fs::write(folder.join("a.csv"), body).unwrap();
            }
            _ => {
                let mut df = df!(
                    "time" => rows.iter().map(|r| r.0).collect::<Vec<i64>>(),
                    "action" => rows.iter().map(|r| r.1).collect::<Vec<&str>>()
                )
                .unwrap();
                ParquetWriter::new(std::fs::File::create(folder.join("a.parquet")).unwrap())
                    .finish(&mut df)
                    .unwrap();
            }
        }
        holds(&folder);
        // and the events each format's reader gives are the events written
        let truth = df!(
            "time" => rows.iter().map(|r| r.0 * 1000).collect::<Vec<i64>>(),
            "action" => rows.iter().map(|r| r.1).collect::<Vec<&str>>()
        )
        .unwrap()
        .lazy()
        .with_column(col("time").cast(DataType::Datetime(polars::prelude::TimeUnit::Milliseconds, None)));
        for every in ["1m", "1h"] {
            assert_eq!(
                windows(events(&folder), every),
                windows(truth.clone(), every),
                "{kind}, every {every}"
            );
        }
    }
}
