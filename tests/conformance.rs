//! Every figure equals what Apache Spark computed from the same folder
//! (tests/fixtures/conformance/<case>/expected.json): counts exactly, floats
//! within 1e-9 relative.

use std::path::PathBuf;

use serde_json::Value;
use windowpane::engine::stream::{OutputMode, Stream, StreamOptions};
use windowpane::metrics::{self, Figures, Options};
use windowpane::output::timefmt::rfc3339;
use windowpane::source as batch;
use windowpane::source::{Batch, FileOrder};

fn case(name: &str) -> (Batch, Figures, Value) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/conformance")
        .join(name);
    let expected: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap();
    let batch = batch::read(&dir.join("input"), FileOrder::Name, false, Some(2)).unwrap();
    let figures = metrics::compute(&batch.counts, &Options::default()).unwrap();
    (batch, figures, expected)
}

fn close(ours: f64, spark: f64) -> bool {
    let diff = (ours - spark).abs();
    diff <= 1e-9 * ours.abs().max(spark.abs()) || diff < 1e-12
}

fn assert_close(ours: f64, spark: &Value, what: &str) {
    let spark = spark.as_f64().unwrap_or_else(|| panic!("{what}: Spark has {spark}"));
    assert!(close(ours, spark), "{what}: ours {ours}, Spark {spark}");
}

/// The same case run as a stream, `per_trigger` files at a time.
fn streamed(name: &str, per_trigger: usize) -> (Batch, Figures, Value) {
    let (_, _, expected) = case(name);
    let input = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/conformance")
        .join(name)
        .join("input");
    let ck = tempfile::tempdir().unwrap();
    let opts = StreamOptions {
        figures: Options::default(),
        max_files_per_trigger: per_trigger,
        order: FileOrder::Name,
        mode: OutputMode::Update,
        watermark_minutes: 10,
        threads: 2,
        read: Default::default(),
    };
    let mut stream = Stream::open(&input, ck.path(), opts).unwrap();
    while stream.run_trigger().unwrap().is_some() {}
    let online = stream.variance().unwrap();
    let figures = stream.figures().unwrap();
    assert_close(online, &expected["variance"], "online variance");
    let stats = stream.input_stats();
    let batch = Batch {
        files: stats.files,
        lines: stats.lines,
        counts: stream.counts().clone(),
        rejected: stream.rejected().unwrap(),
        skipped: Vec::new(),
    };
    (batch, figures, expected)
}

fn check(name: &str) {
    check_figures(case(name));
}

fn check_figures((batch, f, exp): (Batch, Figures, Value)) {
    assert_eq!(batch.counts.events(), exp["rows_valid"].as_u64().unwrap(), "events");
    assert_eq!(batch.lines, exp["rows_total"].as_u64().unwrap(), "lines");
    assert_eq!(
        batch.lines,
        batch.counts.events() + batch.rejected.len() as u64,
        "lines = events + rejected"
    );

    let totals: Vec<(String, i64)> = {
        let mut t: Vec<(String, i64)> = exp["totals"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_i64().unwrap()))
            .collect();
        t.sort();
        t
    };
    assert_eq!(f.totals, totals, "totals");

    let rows = |v: &Value| -> Vec<(String, String, i64)> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r[0].as_str().unwrap().to_string(),
                    r[1].as_str().unwrap().to_string(),
                    r[2].as_i64().unwrap(),
                )
            })
            .collect()
    };
    let ours = |c: &[metrics::Count]| -> Vec<(String, String, i64)> {
        c.iter()
            .map(|c| (c.action.to_string(), rfc3339(c.window_start), c.count))
            .collect()
    };
    assert_eq!(ours(&f.hourly_counts), rows(&exp["hourly_counts"]), "hourly counts");
    assert_eq!(f.hourly_count_max(), exp["hourly_max"].as_i64(), "hourly max");
    assert_eq!(f.hourly_count_min(), exp["hourly_min"].as_i64(), "hourly min");
    assert_eq!(
        f.minute_counts().len() as u64,
        exp["minute_rows"].as_u64().unwrap(),
        "minute rows"
    );
    assert_eq!(ours(&f.minute_rows()), rows(&exp["minute_counts"]), "minute counts");
    for c in f.minute_rows().iter().chain(&f.hourly_counts) {
        assert!(c.window_end > c.window_start);
    }

    let hours = exp["hourly_average"].as_array().unwrap();
    assert_eq!(f.hourly_average.len(), hours.len(), "hours");
    for (h, e) in f.hourly_average.iter().zip(hours) {
        assert_eq!(rfc3339(h.window_start), e[0].as_str().unwrap());
        assert_close(h.average, &e[1], &format!("hourly average of {}", e[0]));
    }
    let peak = f.peak_hour.as_ref().unwrap();
    assert_eq!(
        rfc3339(peak.window_start),
        exp["peak_hour"][0].as_str().unwrap(),
        "peak hour"
    );
    assert_close(peak.average, &exp["peak_hour"][1], "peak average");

    assert_close(f.variance.unwrap(), &exp["variance"], "variance");

    let alerts: Vec<(String, i64, i64)> = f
        .alerts
        .iter()
        .map(|a| (rfc3339(a.window_start), a.open, a.close))
        .collect();
    let spark_alerts: Vec<(String, i64, i64)> = exp["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a[0].as_str().unwrap().to_string(),
                a[1].as_i64().unwrap(),
                a[2].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(alerts, spark_alerts, "alerts");
    assert!(f.alerts.iter().all(|a| a.difference == a.open - a.close));

    // Spark's rows, put in the table's order: by minute, then action
    let mut ma = exp["moving_average"].as_array().unwrap().clone();
    ma.sort_by_key(|e| (e[1].as_str().unwrap().to_string(), e[0].as_str().unwrap().to_string()));
    let moving = f.moving_rows().unwrap();
    assert_eq!(moving.len(), ma.len(), "moving average rows");
    for (m, e) in moving.iter().zip(&ma) {
        let what = format!("moving average of {} at {}", m.action, rfc3339(m.window_start));
        assert_eq!(
            (&*m.action, rfc3339(m.window_start).as_str(), m.count),
            (e[0].as_str().unwrap(), e[1].as_str().unwrap(), e[2].as_i64().unwrap()),
            "{what}"
        );
        assert_close(m.moving_average, &e[3], &what);
        match (m.moving_variance, e[4].as_f64()) {
            (None, None) => {}
            (Some(v), Some(_)) => assert_close(v, &e[4], &format!("moving variance, {what}")),
            (ours, spark) => panic!("moving variance, {what}: ours {ours:?}, Spark {spark:?}"),
        }
    }
}

#[test]
fn seedlike_equals_spark() {
    check("seedlike");
}

#[test]
fn seedlike_as_a_stream_equals_spark() {
    check_figures(streamed("seedlike", 1));
}

#[test]
fn messy_as_a_stream_equals_spark() {
    check_figures(streamed("messy", 2));
}

#[test]
fn messy_equals_spark() {
    check("messy");
}

#[test]
fn messy_quarantines_every_bad_line_with_its_place() {
    let (batch, _, _) = case("messy");
    assert_eq!(batch.rejected.len(), 126);
    // the gzip files' lines are counted in decompressed line numbers
    assert!(batch.rejected.iter().any(|r| r.file == "file-2.json.gz"));
    for r in &batch.rejected {
        assert!(r.line >= 1 && !r.reason.is_empty(), "{r:?}");
    }
    let kinds: std::collections::BTreeSet<&str> = batch.rejected.iter().map(|r| r.text.as_str()).collect();
    assert_eq!(kinds.len(), 7, "seven kinds of bad line: {kinds:?}");
}
