//! The command line as a user meets it: the errors they run into, the report
//! folder, the output formats.

use std::fs;
use std::path::{Path, PathBuf};

use crate::util::windowpane;
use predicates::prelude::*;
use serde_json::Value;

fn fixture(case: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/conformance")
        .join(case)
        .join("input")
}

fn write(dir: &Path, name: &str, body: &str) {
    fs::write(dir.join(name), body).unwrap();
}

#[test]
fn a_missing_folder_is_one_clear_sentence() {
    windowpane()
        .args(["batch", "/no/such/folder", "--no-report"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("cannot open the input /no/such/folder"))
        .stderr(predicate::str::contains("check the path"))
        .stderr(predicate::str::contains("panicked").not());
}

#[test]
fn an_empty_folder_says_what_files_are_expected() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "notes.txt", "not an input");
    windowpane()
        .args(["batch", "--no-report"])
        .arg(dir.path())
        .assert()
        .code(1)
        .stderr(predicate::str::contains("no input files in"))
        .stderr(predicate::str::contains("*.json"));
}

#[test]
fn a_file_that_cannot_be_read_is_named() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "file-0.json", "{\"time\":1,\"action\":\"A\"}\n");
    let bad = dir.path().join("file-1.json");
    write(dir.path(), "file-1.json", "{\"time\":2,\"action\":\"A\"}\n");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&bad, fs::Permissions::from_mode(0o000)).unwrap();
        if fs::read(&bad).is_ok() {
            // running as root, where permissions do not stop reading: a
            // dangling link is a file that cannot be read either
            fs::remove_file(&bad).unwrap();
            std::os::unix::fs::symlink(dir.path().join("gone.json"), &bad).unwrap();
        }
    }
    windowpane()
        .args(["batch", "--no-report"])
        .arg(dir.path())
        .assert()
        .code(1)
        .stderr(predicate::str::contains("cannot read"))
        .stderr(predicate::str::contains("file-1.json"));
}

#[test]
fn a_corrupt_gzip_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "file-0.json.gz", "this is not gzip");
    windowpane()
        .args(["batch", "--no-report"])
        .arg(dir.path())
        .assert()
        .code(1)
        .stderr(predicate::str::contains("file-0.json.gz is not a valid gzip file"));
}

#[test]
fn all_lines_bad_is_an_error_that_shows_the_first_reason() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.json", "garbage\n[1]\n");
    windowpane()
        .args(["batch", "--no-report"])
        .arg(dir.path())
        .assert()
        .code(1)
        .stderr(predicate::str::contains("all 2 lines were rejected"))
        .stderr(predicate::str::contains("a.json line 1: not valid JSON"));
}

#[test]
fn strict_stops_at_the_first_bad_line_in_input_order() {
    windowpane()
        .args(["batch", "--strict", "--no-report"])
        .arg(fixture("messy"))
        .assert()
        .code(1)
        .stderr(predicate::str::is_match(r"file-0\.json line \d+: ").unwrap())
        .stderr(predicate::str::contains("--strict"));
    // a clean input passes under --strict
    windowpane()
        .args(["batch", "--strict", "--no-report", "--format", "json"])
        .arg(fixture("seedlike"))
        .assert()
        .success();
}

#[test]
fn bad_options_are_usage_errors() {
    windowpane()
        .args(["batch", "--moving-window", "30s"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("30m"));
    windowpane()
        .args(["batch", "--alert-actions", "Open"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("Open,Close"));
    windowpane().args(["batch", "--no-such-option"]).assert().code(2);
}

#[test]
fn the_report_folder_has_every_file_of_the_contract() {
    let out = tempfile::tempdir().unwrap();
    let report = out.path().join("messy-report");
    windowpane()
        .args(["batch", "--report"])
        .arg(&report)
        .arg(fixture("messy"))
        .assert()
        .success()
        .stdout(predicate::str::contains("126 rejected lines are quarantined"));
    for f in [
        "summary.json",
        "index.html",
        "rejected.ndjson",
        "tables/minute_counts.csv",
        "tables/hourly_counts.csv",
        "tables/totals.csv",
        "tables/hourly_average.csv",
        "tables/alerts.csv",
        "tables/moving_average.csv",
        "charts/hourly_counts.png",
        "charts/minute_counts.png",
        "charts/hourly_average.png",
        "charts/alert_difference.png",
    ] {
        assert!(report.join(f).is_file(), "{f} is missing");
    }
    let summary: Value = serde_json::from_str(&fs::read_to_string(report.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["input"]["lines"], 12366);
    assert_eq!(summary["input"]["events"], 12240);
    assert_eq!(summary["input"]["rejected"], 126);
    assert_eq!(summary["input"]["files"], 7);
    assert_eq!(summary["totals"]["Pause"], 240);
    assert_eq!(summary["alerts"], 5);
    assert_eq!(summary["peak_hour"]["window_start"], "2016-07-26T07:00:00Z");
    assert_eq!(summary["peak_hour"]["window_end"], "2016-07-26T08:00:00Z");
    let rejected = fs::read_to_string(report.join("rejected.ndjson")).unwrap();
    assert_eq!(rejected.lines().count(), 126);
    let first: Value = serde_json::from_str(rejected.lines().next().unwrap()).unwrap();
    for key in ["file", "line", "reason", "text"] {
        assert!(!first[key].is_null(), "{key} in {first}");
    }
    let alerts = fs::read_to_string(report.join("tables/alerts.csv")).unwrap();
    assert_eq!(
        alerts.lines().next().unwrap(),
        "window_start,window_end,open,close,difference"
    );
    assert!(
        alerts.contains("2016-07-26T08:58:00Z,2016-07-26T08:59:00Z,0,22,-22"),
        "{alerts}"
    );
    let ma = fs::read_to_string(report.join("tables/moving_average.csv")).unwrap();
    assert_eq!(ma.lines().nth(1).unwrap(), "Close,2016-07-26T02:45:00Z,0,0.0,");
    let png = fs::read(report.join("charts/minute_counts.png")).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
}

#[test]
fn a_report_replaces_the_old_one_whole_but_never_a_foreign_folder() {
    let out = tempfile::tempdir().unwrap();
    let report = out.path().join("r");
    windowpane()
        .args(["batch", "--report"])
        .arg(&report)
        .arg(fixture("messy"))
        .assert()
        .success();
    // a table an earlier run wrote (its marker lists it) that this run does not
    write(&report.join("tables"), "stale.csv", "old");
    let marker = fs::read_to_string(report.join(".windowpane-report")).unwrap();
    write(&report, ".windowpane-report", &format!("{marker}tables/stale.csv\n"));
    windowpane()
        .args(["batch", "--report"])
        .arg(&report)
        .arg(fixture("messy"))
        .assert()
        .success();
    assert!(
        !report.join("tables/stale.csv").exists(),
        "the old report is replaced whole"
    );
    assert!(report.join("tables/alerts.csv").exists());
    let leftovers: Vec<_> = fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers, ["r"], "no temporary folders are left behind");

    let foreign = out.path().join("home");
    fs::create_dir(&foreign).unwrap();
    write(&foreign, "thesis.tex", "precious");
    windowpane()
        .args(["batch", "--report"])
        .arg(&foreign)
        .arg(fixture("messy"))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("refusing to replace"));
    assert!(foreign.join("thesis.tex").exists());
}

#[test]
fn html_escapes_values_from_the_data() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "a.json",
        "{\"time\":1469501107,\"action\":\"<script>alert(1)</script>\"}\n<b>bad</b>\n",
    );
    let report = dir.path().join("report");
    windowpane()
        .args(["batch", "--report"])
        .arg(&report)
        .arg(dir.path().join("a.json"))
        .assert()
        .success();
    let html = fs::read_to_string(report.join("index.html")).unwrap();
    assert!(!html.contains("<script>"), "an action name became markup");
    assert!(!html.contains("<b>bad</b>"), "a rejected line became markup");
    assert!(html.contains("&#60;script&#62;alert(1)&#60;/script&#62;"));
}

#[test]
fn json_format_prints_the_summary() {
    let out = windowpane()
        .args(["batch", "--no-report", "--format", "json"])
        .arg(fixture("seedlike"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["input"]["events"], 100000);
    assert_eq!(v["minute_rows"], 6106);
    assert_eq!(v["hourly_count_max"], 1079);
    assert_eq!(v["first_event"], "2016-07-26T02:45:07Z");
}

#[test]
fn terminal_tables_show_the_figures() {
    windowpane()
        .args(["batch", "--no-report"])
        .arg(fixture("seedlike"))
        .assert()
        .success()
        .stdout(predicate::str::contains("100,000"))
        .stdout(predicate::str::contains("◀ peak"))
        .stdout(predicate::str::contains("2016-07-27 18:00"))
        .stdout(predicate::str::contains("Alerts: 9 minutes"))
        .stdout(predicate::str::contains("11 of 53 hours shown; --all shows every hour"));
}

#[test]
fn generate_is_deterministic_and_batch_reads_what_it_writes() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    for d in [&a, &b] {
        windowpane()
            .args([
                "generate",
                "--files",
                "6",
                "--events",
                "3000",
                "--bad-lines",
                "4",
                "--gzip-every",
                "3",
                "--extra-action",
                "Pause",
            ])
            .arg(d)
            .assert()
            .success();
    }
    for name in ["file-0.json", "file-2.json.gz", "file-5.json.gz"] {
        assert_eq!(
            fs::read(a.join(name)).unwrap(),
            fs::read(b.join(name)).unwrap(),
            "{name}"
        );
    }
    let out = windowpane()
        .args(["batch", "--no-report", "--format", "json"])
        .arg(&a)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["input"]["rejected"], 24);
    assert_eq!(v["totals"]["Open"], 1500);
    assert_eq!(v["totals"]["Close"], 1500);
    assert!(v["totals"]["Pause"].as_i64().unwrap() > 0);
    // a second run into the same folder needs --force
    windowpane()
        .arg("generate")
        .arg(&a)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("--force"));
}

#[test]
fn files_with_only_blank_lines_say_so() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.json", "\n  \n\n");
    windowpane()
        .args(["batch", "--no-report"])
        .arg(dir.path())
        .assert()
        .code(1)
        .stderr(predicate::str::contains("hold no lines"));
}

#[test]
fn a_closed_pipe_is_not_an_error() {
    // `windowpane batch | true`: the reader is gone before the tables are
    // written, so the write fails with a broken pipe, which must be quiet
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!(
            "{} batch --no-report {} | true; exit ${{PIPESTATUS[0]}}",
            assert_cmd::cargo::cargo_bin("windowpane").display(),
            fixture("seedlike").display()
        ))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "exit {:?}: {stderr}", out.status.code());
    assert!(stderr.is_empty(), "{stderr}");
}

#[test]
fn a_report_folder_given_as_the_input_is_named_as_one() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("r");
    windowpane()
        .args(["batch", "--report"])
        .arg(&report)
        .arg(fixture("seedlike"))
        .assert()
        .success();
    for cmd in ["batch", "sql"] {
        windowpane()
            .arg(cmd)
            .arg(&report)
            .args(if cmd == "sql" { vec!["select 1"] } else { vec![] })
            .assert()
            .code(1)
            .stderr(predicate::str::contains(
                "is a report folder windowpane wrote, not a folder of events",
            ));
    }
}

#[test]
fn many_actions_get_the_busiest_columns_and_one_of_the_others_in_the_terminal() {
    // 30 actions of unequal rates: A01 busiest, A30 the least
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("many");
    windowpane()
        .args(["generate", input.to_str().unwrap(), "--files", "3", "--events", "30000"])
        .args([
            "--actions",
            "30",
            "--zipf",
            "1",
            "--active-hours",
            "5-24",
            "--rate",
            "3000",
        ])
        .assert()
        .success();
    let json = windowpane()
        .args(["batch", input.to_str().unwrap(), "--no-report", "--format", "json"])
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&json.stdout).unwrap();
    let totals: Vec<(String, i64)> = doc["tables"]["totals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["action"].as_str().unwrap().to_string(),
                t["total_count"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(totals.len(), 30);
    let out = windowpane()
        .args(["batch", input.to_str().unwrap(), "--no-report"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    // the hourly table: the 7 busiest actions, then one column of the 23 others
    let header = text
        .lines()
        .find(|l| l.contains("hour (UTC)"))
        .expect("the hourly table");
    let cells: Vec<&str> = header
        .split(['│', '┆'])
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    assert_eq!(
        cells,
        [
            "hour (UTC)",
            "A01",
            "A02",
            "A03",
            "A04",
            "A05",
            "A06",
            "A07",
            "23 others",
            "average / minute"
        ]
    );
    // each row's cells add up to the hour's events: the others column
    // holds the rest (checked on the first hour against the JSON table)
    let first = text
        .lines()
        .skip_while(|l| !l.contains("hour (UTC)"))
        .find(|l| l.starts_with("│ 20"))
        .unwrap();
    let values: Vec<i64> = first
        .split(['│', '┆'])
        .map(str::trim)
        .skip(2)
        .take(8)
        .map(|c| c.replace(',', "").parse().unwrap())
        .collect();
    let hour = doc["tables"]["hourly_counts"].as_array().unwrap();
    let start = hour[0]["window_start"].as_str().unwrap().to_string();
    let of_hour: i64 = hour
        .iter()
        .filter(|r| r["window_start"] == start.as_str())
        .map(|r| r["count"].as_i64().unwrap())
        .sum();
    assert_eq!(values.iter().sum::<i64>(), of_hour, "{first}");
    // the totals: the 19 busiest, then the others with their sum
    assert!(
        text.contains("the 19 busiest of 30 actions; --all lists every one"),
        "{text}"
    );
    let others: i64 = {
        let mut by: Vec<&(String, i64)> = totals.iter().collect();
        by.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        by[19..].iter().map(|t| t.1).sum()
    };
    let row = text.lines().find(|l| l.contains("11 others")).expect("the others row");
    let digits = others.to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    assert!(row.contains(&grouped), "{row} against {others}");
    // --all lists every action
    let all = windowpane()
        .args(["batch", input.to_str().unwrap(), "--no-report", "--all"])
        .output()
        .unwrap();
    let all = String::from_utf8(all.stdout).unwrap();
    assert!(!all.contains("busiest of 30"), "{all}");
    assert!(all.contains("│ A30"), "{all}");
}

/// A usage error reads like every other error: `windowpane: error: …`,
/// then the usage line and the hint, exit status 2; help is not an error.
#[test]
fn usage_errors_are_in_the_style_of_every_error() {
    let out = windowpane().args(["batch", "--nope"]).assert().code(2);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        stderr.starts_with("windowpane: error: unexpected argument '--nope' found"),
        "{stderr}"
    );
    assert!(stderr.contains("Usage: windowpane batch"), "{stderr}");
    assert!(!stderr.contains('\u{1b}'), "{stderr:?}");
    windowpane().args(["batch", "--help"]).assert().success();
}

/// `windowpane` alone shows its help (on standard error, status 2, as
/// clap does), not an error about the help.
#[test]
fn windowpane_alone_shows_its_help_not_an_error() {
    let out = windowpane().assert().code(2);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(stderr.contains("Usage: windowpane <COMMAND>"), "{stderr}");
    assert!(!stderr.contains("windowpane: error"), "{stderr}");
}
