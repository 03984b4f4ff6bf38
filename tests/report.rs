//! The report folder as a person or a program reads it: the page's key
//! figures and abridged tables, Parquet tables, hostile values, data lying
//! far apart.

use std::fs::{self, File};
use std::path::Path;

use crate::util::windowpane;
use polars::prelude::*;

fn batch(input: &Path, report: &Path, extra: &[&str]) {
    windowpane()
        .args(["batch", "--report"])
        .arg(report)
        .args(extra)
        .arg(input)
        .assert()
        .success();
}

/// `n` events a minute apart from 2016-07-26T02:00:00Z, alternating Open
/// and Close, as NDJSON lines.
fn events(n: i64) -> String {
    (0..n)
        .map(|i| {
            let action = if i % 2 == 0 { "Open" } else { "Close" };
            format!("{{\"time\":{},\"action\":\"{action}\"}}\n", 1_469_498_400 + i * 60)
        })
        .collect()
}

#[test]
fn parquet_tables_hold_the_csv_rows_with_utc_timestamps() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("a.json"), events(300)).unwrap();
    let report = dir.path().join("report");
    batch(&dir.path().join("a.json"), &report, &["--table-format", "both"]);
    for name in [
        "minute_counts",
        "hourly_counts",
        "totals",
        "hourly_average",
        "alerts",
        "moving_average",
    ] {
        let csv = fs::read_to_string(report.join(format!("tables/{name}.csv"))).unwrap();
        let df = ParquetReader::new(File::open(report.join(format!("tables/{name}.parquet"))).unwrap())
            .finish()
            .unwrap();
        assert_eq!(df.height(), csv.lines().count() - 1, "{name}: rows");
        let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
        let columns: Vec<&str> = df.get_column_names().iter().map(|c| c.as_str()).collect();
        assert_eq!(columns, header, "{name}: columns");
        for c in df.columns() {
            if c.name().starts_with("window_") {
                assert_eq!(
                    c.dtype(),
                    &DataType::Datetime(TimeUnit::Milliseconds, Some(TimeZone::UTC)),
                    "{name}.{}",
                    c.name()
                );
            }
        }
    }
    // the same values: 150 Open minutes, the first at 02:00
    let df = ParquetReader::new(File::open(report.join("tables/minute_counts.parquet")).unwrap())
        .finish()
        .unwrap();
    let opens = df
        .column("action")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .filter(|a| *a == Some("Open"))
        .count();
    assert_eq!(opens, 150);
    let first = df
        .column("window_start")
        .unwrap()
        .as_materialized_series()
        .to_physical_repr();
    assert_eq!(first.i64().unwrap().get(0), Some(1_469_498_400_000));
    let csv = fs::read_to_string(report.join("tables/minute_counts.csv")).unwrap();
    assert_eq!(
        csv.lines().nth(1),
        Some("Open,2016-07-26T02:00:00Z,2016-07-26T02:01:00Z,1")
    );
}

#[test]
fn parquet_alone_writes_no_csv_and_the_page_links_the_parquet_files() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("a.json"), events(100)).unwrap();
    let report = dir.path().join("report");
    batch(&dir.path().join("a.json"), &report, &["--table-format", "parquet"]);
    assert!(report.join("tables/alerts.parquet").is_file());
    assert!(!report.join("tables/alerts.csv").exists());
    let html = fs::read_to_string(report.join("index.html")).unwrap();
    assert!(html.contains("href=\"tables/minute_counts.parquet\""), "{html}");
    assert!(!html.contains(".csv\""), "a link to a CSV file that is not written");
}

#[test]
fn the_page_opens_with_the_key_figures_and_abridges_long_tables() {
    let dir = tempfile::tempdir().unwrap();
    // 300 minutes: Open at even minutes, Close at odd ones; a burst of 25
    // Opens at 02:10 makes one alert minute (26 Open, 0 Close)
    let mut body = events(300);
    for _ in 0..25 {
        body.push_str("{\"time\":1469499000,\"action\":\"Open\"}\n");
    }
    body.push_str("not json\n");
    fs::write(dir.path().join("a.json"), body).unwrap();
    let report = dir.path().join("report");
    batch(&dir.path().join("a.json"), &report, &[]);
    let html = fs::read_to_string(report.join("index.html")).unwrap();
    let keys = &html[html.find("id=\"key-figures\"").unwrap()..html.find("</header>").unwrap()];
    assert!(keys.contains("<b>325</b><span>events</span>"), "{keys}");
    assert!(keys.contains("<b>1</b><span>rejected of 326 lines</span>"), "{keys}");
    assert!(
        keys.contains("<b>1</b><span>alert minute (Open − Close beyond ±20)</span>"),
        "{keys}"
    );
    // the peak hour: 02:00 holds 60 minutes of 1 event plus the burst of 25
    assert!(
        keys.contains("<b>02:00–03:00</b><span>peak hour, 2016-07-26 (UTC), 1.417 actions per minute</span>"),
        "{keys}"
    );
    // minute_counts has 300 rows: the first and last 8 are shown
    let minutes = &html[html.find("id=\"t-minute_counts\"").unwrap()..];
    let minutes = &minutes[..minutes.find("</section>").unwrap()];
    assert!(minutes.contains("300 rows, the first and last 8 shown"), "{minutes}");
    assert!(minutes.contains("⋯ 284 rows not shown ⋯"), "{minutes}");
    assert!(minutes.contains("<td>2016-07-26 06:59</td>"), "the last row: {minutes}");
    assert_eq!(minutes.matches("<tr>").count(), 1 + 16, "{minutes}");
    // the options and what made the report
    assert!(html.contains("--alert-actions Open,Close --alert-threshold 20"));
    assert!(html.contains(concat!("by windowpane ", env!("CARGO_PKG_VERSION"))));
}

#[test]
fn hostile_actions_neither_add_markup_nor_break_rows() {
    let dir = tempfile::tempdir().unwrap();
    let hostile = "<script>alert(1)</script>\\nnext\\u0000row\\u202e";
    let mut body = events(10);
    body.push_str(&format!("{{\"time\":1469498400,\"action\":\"{hostile}\"}}\n"));
    body.push_str("{\"time\":1469498460,\"action\":\"=HYPERLINK(1)\"}\n");
    fs::write(dir.path().join("a.json"), body).unwrap();
    let report = dir.path().join("report");
    batch(&dir.path().join("a.json"), &report, &[]);
    let html = fs::read_to_string(report.join("index.html")).unwrap();
    assert!(!html.contains("<script"), "an action became markup");
    assert!(!html.contains('\0'), "a NUL went into the page");
    assert!(!html.contains('\u{202e}'), "a bidi override went into the page");
    let shown = "&#60;script&#62;alert(1)&#60;/script&#62;<span class=\"esc\">\\n</span>next<span class=\"esc\">\\u{0}</span>row<span class=\"esc\">\\u{202e}</span>";
    let totals = &html[html.find("id=\"t-totals\"").unwrap()..];
    let totals = &totals[..totals.find("</section>").unwrap()];
    assert!(
        totals.contains(&format!("<tr><td>{shown}</td><td class=\"n\">1</td></tr>")),
        "{totals}"
    );
    // the CSV keeps the value as it is, quoted because of the line break;
    // a value that looks like a formula is written unchanged
    let csv = fs::read_to_string(report.join("tables/totals.csv")).unwrap();
    assert!(
        csv.contains("\"<script>alert(1)</script>\nnext\0row\u{202e}\",1\n"),
        "{csv:?}"
    );
    assert!(csv.contains("\n=HYPERLINK(1),1\n"), "{csv:?}");
}

#[test]
fn a_far_event_is_left_out_of_the_charts_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    // two days of 2016 and one event a year earlier
    let mut body = String::new();
    for i in 0..2880i64 {
        body.push_str(&format!(
            "{{\"time\":{},\"action\":\"Open\"}}\n",
            1_469_498_400 + i * 60
        ));
    }
    body.push_str("{\"time\":1437962400,\"action\":\"Open\"}\n");
    fs::write(dir.path().join("a.json"), body).unwrap();
    let report = dir.path().join("report");
    batch(&dir.path().join("a.json"), &report, &[]);
    let html = fs::read_to_string(report.join("index.html")).unwrap();
    assert!(
        html.contains("1 of 2,881 events lie outside the charted stretch 2016-07-26 02:00 – 2016-07-28 02:00 (the data runs from 2015-07-27 02:00 to 2016-07-28 02:00, 12.1 months apart)"),
        "{}",
        &html[html.find("id=\"charts\"").unwrap()..][..600]
    );
    // two days of minutes are drawn per hour, with the last hours in minutes
    assert!(html.contains("Events per minute, per action (per hour: the range as a band, the mean as a line)"));
    assert!(report.join("charts/recent_minutes.png").is_file());
}

/// The page's title: the input as given, "standard input" for `-`, or
/// `--title`, escaped like every value.
#[test]
fn the_page_is_titled_by_the_input_or_by_title() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("a.json");
    fs::write(&input, events(30)).unwrap();
    let from_stdin = dir.path().join("stdin");
    windowpane()
        .args(["batch", "-", "--report"])
        .arg(&from_stdin)
        .write_stdin(events(30))
        .assert()
        .success();
    let page = fs::read_to_string(from_stdin.join("index.html")).unwrap();
    assert!(page.contains("<h1>windowpane report: standard input</h1>"), "{page}");
    let titled = dir.path().join("titled");
    batch(&input, &titled, &["--title", "Door sensors <July>"]);
    let page = fs::read_to_string(titled.join("index.html")).unwrap();
    assert!(page.contains("<title>windowpane · Door sensors &#60;July&#62;</title>"));
    assert!(page.contains("<h1>windowpane report: Door sensors &#60;July&#62;</h1>"));
    // the input is still named where the page says what it was made from
    assert!(page.contains("a.json"));
}
