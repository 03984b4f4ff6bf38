//! Inputs as users have them: partitioned folders, patterns, several
//! inputs, standard input, epoch milliseconds, and the faults of real
//! files (a byte order mark, an empty or damaged .gz, FIFOs, huge lines).
//! The figures must be those of the flat folder.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

use crate::util::decompressed;

fn windowpane() -> Command {
    let mut c = Command::cargo_bin("windowpane").unwrap();
    // a regression that reads a FIFO or /dev/zero would hang: fail instead
    c.timeout(Duration::from_secs(300));
    c
}

fn fixture(case: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/conformance")
        .join(case)
        .join("input")
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn sorted_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    files
}

/// Every figure a run writes: the tables of its report folder, and the
/// input counts of its summary.
#[derive(Debug, PartialEq)]
struct Figures {
    tables: BTreeMap<String, String>,
    lines: Value,
    events: Value,
    rejected: Value,
}

fn figures(report: &Path) -> Figures {
    let mut tables = BTreeMap::new();
    for path in sorted_files(&report.join("tables")) {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        tables.insert(name, fs::read_to_string(&path).unwrap());
    }
    assert!(tables.len() >= 5, "{tables:?}");
    let summary: Value = serde_json::from_str(&fs::read_to_string(report.join("summary.json")).unwrap()).unwrap();
    Figures {
        tables,
        lines: summary["input"]["lines"].clone(),
        events: summary["input"]["events"].clone(),
        rejected: summary["input"]["rejected"].clone(),
    }
}

fn batch(inputs: &[&str], extra: &[&str], report: &Path) -> Figures {
    windowpane()
        .arg("batch")
        .args(inputs)
        .args(extra)
        .arg("--report")
        .arg(report)
        .assert()
        .success();
    figures(report)
}

fn flat(case: &str, out: &Path) -> Figures {
    batch(
        &[fixture(case).to_str().unwrap()],
        &[],
        &out.join(format!("flat-{case}")),
    )
}

#[test]
fn a_partitioned_copy_gives_the_figures_of_the_flat_folder() {
    let out = tempfile::tempdir().unwrap();
    for case in ["seedlike", "messy"] {
        let expected = flat(case, out.path());
        let parts = out.path().join(format!("parts-{case}"));
        for (i, file) in sorted_files(&fixture(case)).into_iter().enumerate() {
            let dir = parts
                .join(format!("dt=2016-07-{:02}", 26 + i % 3))
                .join(format!("hour={}", i % 2));
            fs::create_dir_all(&dir).unwrap();
            fs::copy(&file, dir.join(file.file_name().unwrap())).unwrap();
        }
        // what Spark and Hadoop leave beside the data is not read
        fs::write(parts.join("_SUCCESS"), b"").unwrap();
        fs::create_dir_all(parts.join("_temporary/0")).unwrap();
        fs::write(
            parts.join("_temporary/0/part-9.json"),
            b"{\"time\":1,\"action\":\"Open\"}\n",
        )
        .unwrap();
        fs::create_dir_all(parts.join(".hidden")).unwrap();
        fs::write(parts.join(".hidden/part-9.json"), b"{\"time\":1,\"action\":\"Open\"}\n").unwrap();
        let got = batch(&[parts.to_str().unwrap()], &[], &out.path().join(format!("r-{case}")));
        assert_eq!(got, expected, "{case}");
        let rejected = fs::read_to_string(out.path().join(format!("r-{case}/rejected.ndjson"))).unwrap();
        if case == "messy" {
            assert!(rejected.contains("\"file\":\"dt=2016-07-"), "{rejected}");
        }
    }
}

#[test]
fn the_same_events_in_milliseconds_give_the_same_figures_with_time_unit_ms() {
    let out = tempfile::tempdir().unwrap();
    let expected = flat("seedlike", out.path());
    let ms = out.path().join("ms");
    fs::create_dir(&ms).unwrap();
    for file in sorted_files(&fixture("seedlike")) {
        let mut body = String::new();
        for (i, line) in fs::read_to_string(&file).unwrap().lines().enumerate() {
            let mut v: Value = serde_json::from_str(line).unwrap();
            let t = v["time"].as_i64().unwrap();
            // any millisecond within the second falls in the same second
            v["time"] = Value::from(t * 1000 + (i as i64 * 37) % 1000);
            body.push_str(&v.to_string());
            body.push('\n');
        }
        fs::write(ms.join(file.file_name().unwrap()), body).unwrap();
    }
    let got = batch(
        &[ms.to_str().unwrap()],
        &["--time-unit", "ms"],
        &out.path().join("r-ms"),
    );
    assert_eq!(got, expected);
    // without the option every line is rejected, with a hint
    windowpane()
        .args(["batch", "--no-report"])
        .arg(&ms)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("run with --time-unit ms"));
}

#[test]
fn standard_input_gives_the_figures_of_the_folder_plain_or_gzip() {
    let out = tempfile::tempdir().unwrap();
    for case in ["seedlike", "messy"] {
        let expected = flat(case, out.path());
        let mut all = Vec::new();
        for file in sorted_files(&fixture(case)) {
            all.extend(decompressed(&file));
        }
        for (kind, stdin) in [("plain", all.clone()), ("gzip", gzip(&all))] {
            let report = out.path().join(format!("stdin-{case}-{kind}"));
            windowpane()
                .args(["batch", "-", "--report"])
                .arg(&report)
                .write_stdin(stdin)
                .assert()
                .success();
            assert_eq!(figures(&report), expected, "{case} {kind}");
        }
    }
}

#[test]
fn patterns_and_several_inputs_give_the_figures_of_the_folder() {
    let out = tempfile::tempdir().unwrap();
    let expected = flat("messy", out.path());
    let dir = fixture("messy");
    let d = dir.to_str().unwrap();
    let got = batch(
        &[
            &format!("{d}/*.json.gz"),
            &format!("{d}/file-[0-4].json"),
            &format!("{d}/file-6.json"),
        ],
        &[],
        &out.path().join("globs"),
    );
    assert_eq!(got, expected);
    // a file named twice is read once
    let again = batch(&[d, &format!("{d}/file-0.json")], &[], &out.path().join("twice"));
    assert_eq!(again, expected);
    windowpane()
        .args(["batch", "--no-report", &format!("{d}/nothing-*.json")])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("no file or folder matches"));
}

#[test]
fn a_byte_order_mark_an_empty_gz_and_skipped_names() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::write(d.join("a.json"), b"\xEF\xBB\xBF{\"time\":60,\"action\":\"Open\"}\n").unwrap();
    fs::write(d.join("b.json.gz"), b"").unwrap();
    fs::write(d.join("c.json.gz"), gzip(b"\n\n   \n")).unwrap();
    fs::write(d.join("d.JSON"), b"{\"time\":60,\"action\":\"Open\"}\n").unwrap();
    fs::write(d.join("e.json.bz2"), b"BZh").unwrap();
    fs::write(d.join("notes.txt"), b"hello").unwrap();
    let output = windowpane()
        .args(["batch", "--format", "json", "--no-report"])
        .arg(d)
        .assert()
        .success()
        .stderr(predicate::str::contains("skipped 3 entries"))
        .stderr(predicate::str::contains("d.JSON"))
        .stderr(predicate::str::contains("e.json.bz2"))
        .stderr(predicate::str::contains("notes.txt"))
        .get_output()
        .stdout
        .clone();
    let summary: Value = serde_json::from_slice(&output).unwrap();
    assert_eq!(summary["input"]["files"], 3);
    assert_eq!(summary["input"]["lines"], 1);
    assert_eq!(summary["input"]["events"], 1);
    assert_eq!(summary["input"]["rejected"], 0);
}

#[cfg(unix)]
#[test]
fn fifos_and_links_to_devices_in_a_folder_are_skipped_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::write(d.join("a.json"), b"{\"time\":60,\"action\":\"Open\"}\n").unwrap();
    std::os::unix::fs::symlink("/dev/zero", d.join("zero.json")).unwrap();
    let fifo_made = std::process::Command::new("mkfifo")
        .arg(d.join("pipe.json"))
        .status()
        .is_ok_and(|s| s.success());
    let assert = windowpane()
        .args(["batch", "--no-report"])
        .arg(d)
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "zero.json: not a regular file (a device): not read",
        ));
    if fifo_made {
        assert.stderr(predicate::str::contains(
            "pipe.json: not a regular file (a FIFO): not read",
        ));
    }
}

#[test]
fn a_damaged_gz_is_named_and_can_be_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::write(d.join("a.json"), b"{\"time\":60,\"action\":\"Open\"}\n").unwrap();
    let mut bad = gzip(&b"{\"time\":120,\"action\":\"Open\"}\n".repeat(10_000));
    let n = bad.len();
    bad[n / 2..]
        .iter_mut()
        .for_each(|b| *b = b.wrapping_mul(7).wrapping_add(3));
    fs::write(d.join("b.json.gz"), bad).unwrap();
    windowpane()
        .args(["batch", "--no-report"])
        .arg(d)
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "b.json.gz is not a valid gzip file or is damaged",
        ))
        .stderr(predicate::str::contains("--skip-corrupt-files"))
        .stderr(predicate::str::contains("Custom {").not());
    let output = windowpane()
        .args(["batch", "--no-report", "--format", "json", "--skip-corrupt-files"])
        .arg(d)
        .assert()
        .success()
        .stderr(predicate::str::contains("skipped 1 entry"))
        .stderr(predicate::str::contains("b.json.gz"))
        .get_output()
        .stdout
        .clone();
    let summary: Value = serde_json::from_slice(&output).unwrap();
    // the lines before the damage count, as with Spark's ignoreCorruptFiles
    let lines = summary["input"]["lines"].as_u64().unwrap();
    assert!(lines >= 1, "{summary}");
    assert_eq!(
        summary["input"]["events"].as_u64().unwrap() + summary["input"]["rejected"].as_u64().unwrap(),
        lines
    );
}

#[test]
fn huge_actions_and_lines_are_rejected_with_their_limit() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut body = Vec::new();
    body.extend_from_slice(b"{\"time\":60,\"action\":\"Open\"}\n");
    for size in [50 << 20, 3 << 20, 2000] {
        body.extend_from_slice(b"{\"time\":60,\"action\":\"");
        body.extend(std::iter::repeat_n(b'x', size));
        body.extend_from_slice(b"\"}\n");
    }
    body.extend_from_slice(b"{\"time\":120,\"action\":\"Close\"}\n");
    fs::write(d.join("a.json"), &body).unwrap();
    drop(body);
    let report = d.join("report");
    windowpane()
        .args(["batch", "--format", "json"])
        .arg(d.join("a.json"))
        .arg("--report")
        .arg(&report)
        .assert()
        .success();
    let rejected: Vec<Value> = fs::read_to_string(report.join("rejected.ndjson"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let reasons: Vec<(u64, String)> = rejected
        .iter()
        .map(|r| (r["line"].as_u64().unwrap(), r["reason"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(reasons.len(), 3, "{reasons:?}");
    assert_eq!(reasons[0].0, 2);
    assert!(
        reasons[0]
            .1
            .contains("the line is 52428823 bytes long; the limit is 1048576 bytes"),
        "{reasons:?}"
    );
    assert!(reasons[1].1.contains("the limit is 1048576 bytes"), "{reasons:?}");
    assert_eq!(
        reasons[2],
        (4, "`action` is 2000 bytes long; the limit is 1024 bytes (1 KiB)".into())
    );
    // the report stays small: the quarantine keeps the head of a huge line
    let size: u64 = fs::metadata(report.join("rejected.ndjson")).unwrap().len();
    assert!(size < 16 << 10, "{size}");
}

#[test]
fn reasons_name_the_lines_own_column() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let body = "{\"time\":60,\"action\":\"Open\"}\n".repeat(4) + "{\"time\":60,\"action\":\"Open\",}\n";
    fs::write(d.join("a.json"), body).unwrap();
    windowpane()
        .args(["batch", "--no-report", "--strict"])
        .arg(d)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("a.json line 5: not valid JSON"))
        .stderr(predicate::str::contains("at column 28"))
        .stderr(predicate::str::contains("line 1 column").not());
}

#[test]
fn sql_reads_standard_input_patterns_and_several_inputs() {
    let dir = fixture("messy");
    let d = dir.to_str().unwrap();
    let mut all = Vec::new();
    for file in sorted_files(&dir) {
        all.extend(decompressed(&file));
    }
    let query = "select count(*) as n from events";
    // Spark's figure for the messy fixture: 12,240 valid events
    for args in [
        vec!["-", query],
        vec![&format!("{d}/*.json.gz"), &format!("{d}/file-[0-46].json"), d, query],
    ] {
        windowpane()
            .arg("sql")
            .args(&args)
            .args(["--format", "csv"])
            .write_stdin(gzip(&all))
            .assert()
            .success()
            .stdout("n\n12240\n");
    }
    // the rejected lines of standard input name it, not a temporary file
    windowpane()
        .args(["sql", "-", "select distinct file from rejected", "--format", "csv"])
        .write_stdin(all)
        .assert()
        .success()
        .stdout("file\n(standard input)\n");
    windowpane()
        .args(["sql", "-"])
        .write_stdin("")
        .assert()
        .code(1)
        .stderr(predicate::str::contains("the statements cannot come from it too"));
}

#[test]
fn sql_reads_the_events_view_in_the_time_unit() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("a.json"),
        "{\"time\":1469501107999,\"action\":\"Open\"}\n{\"time\":1469501167000,\"action\":\"Close\"}\n",
    )
    .unwrap();
    windowpane()
        .arg("sql")
        .arg(dir.path())
        .args(["--time-unit", "ms", "--format", "csv"])
        .arg("select cast(time as varchar) as t, action from events order by time")
        .assert()
        .success()
        .stdout(predicate::str::contains("2016-07-26 02:45:07"))
        .stdout(predicate::str::contains("2016-07-26 02:46:07"));
}

#[test]
fn what_is_skipped_reaches_the_batch() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::write(d.join("a.json"), b"{\"time\":60,\"action\":\"Open\"}\n").unwrap();
    fs::write(d.join("b.json.gz"), b"not gzip at all").unwrap();
    fs::write(d.join("c.txt"), b"").unwrap();
    let inputs = windowpane::source::Inputs::from_args(&[d]);
    let opts = windowpane::source::ReadOptions {
        skip_corrupt: true,
        ..Default::default()
    };
    let batch = windowpane::source::read_inputs(&inputs, windowpane::source::FileOrder::Name, &opts, Some(2)).unwrap();
    let skipped: Vec<&str> = batch.skipped.iter().map(|s| s.file.as_str()).collect();
    assert_eq!(skipped, ["c.txt", "b.json.gz"]);
    assert!(
        batch.skipped[1].reason.contains("not a valid gzip file"),
        "{:?}",
        batch.skipped
    );
    assert_eq!((batch.files, batch.lines, batch.counts.events()), (2, 1, 1));
}

/// Writes a copy of a conformance case whose every JSON object line is
/// rewritten by `change` (other lines kept as they are), decompressed.
fn rewritten(case: &str, out: &Path, change: &dyn Fn(&mut serde_json::Map<String, Value>)) -> PathBuf {
    let dir = out.join(format!("{case}-rewritten"));
    fs::create_dir_all(&dir).unwrap();
    for file in sorted_files(&fixture(case)) {
        let text = String::from_utf8_lossy(&decompressed(&file)).into_owned();
        let mut body = String::new();
        for line in text.lines() {
            match serde_json::from_str::<Value>(line) {
                Ok(Value::Object(mut map)) => {
                    // an action that is not a non-empty string stays
                    // rejected: null, whatever it becomes
                    let named = |a: &Value| a.as_str().is_some_and(|s| !s.is_empty());
                    if map.get("action").is_some_and(|a| !named(a)) {
                        map.insert("action".into(), Value::Null);
                    }
                    change(&mut map);
                    body.push_str(&Value::Object(map).to_string());
                }
                _ => body.push_str(line),
            }
            body.push('\n');
        }
        let name = file
            .file_name()
            .unwrap()
            .to_string_lossy()
            .trim_end_matches(".gz")
            .to_string();
        fs::write(dir.join(name), body).unwrap();
    }
    dir
}

/// Every figure of `batch --format json`, action names mapped by `names`
/// and the fields the events were read from left out.
fn all_figures(input: &Path, extra: &[&str], names: &[(&str, &str)]) -> Value {
    let out = windowpane()
        .args(["batch", "--no-report", "--format", "json"])
        .arg(input)
        .args(extra)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["input"].as_object_mut().unwrap().remove("fields");
    // the quarantine's reasons name the fields: its count is compared
    v["tables"].as_object_mut().unwrap().remove("rejected");
    fn map(v: &mut Value, names: &[(&str, &str)]) {
        match v {
            Value::String(s) => {
                if let Some((_, to)) = names.iter().find(|(from, _)| from == s) {
                    *s = to.to_string();
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|i| map(i, names)),
            Value::Object(o) => {
                let entries: Vec<(String, Value)> = std::mem::take(o).into_iter().collect();
                for (k, mut val) in entries {
                    map(&mut val, names);
                    let k = names
                        .iter()
                        .find(|(from, _)| *from == k)
                        .map_or(k, |(_, to)| to.to_string());
                    o.insert(k, val);
                }
            }
            _ => {}
        }
    }
    map(&mut v, names);
    v
}

#[test]
fn renamed_and_nested_fields_give_the_figures_of_time_and_action() {
    let out = tempfile::tempdir().unwrap();
    for case in ["messy", "seedlike"] {
        let expected = all_figures(&fixture(case), &[], &[]);
        let nested = rewritten(case, out.path(), &|m| {
            let time = m.remove("time");
            let action = m.remove("action");
            if let Some(t) = time {
                m.insert("ts".into(), t);
            }
            let mut payload = serde_json::Map::new();
            if let Some(a) = action {
                payload.insert("kind".into(), a);
            }
            payload.insert("repo".into(), serde_json::json!({"id": 7, "tags": ["a", "b"]}));
            m.insert("payload".into(), Value::Object(payload));
        });
        let got = all_figures(&nested, &["--time-field", "ts", "--action-field", "payload.kind"], &[]);
        assert_eq!(got, expected, "{case}");
        // the summary names the fields
        let summary = windowpane()
            .args([
                "batch",
                "--no-report",
                "--format",
                "summary",
                "--time-field",
                "ts",
                "--action-field",
                "payload.kind",
            ])
            .arg(&nested)
            .output()
            .unwrap();
        let summary: Value = serde_json::from_slice(&summary.stdout).unwrap();
        assert_eq!(
            summary["input"]["fields"],
            serde_json::json!({"time": "ts", "action": "payload.kind"})
        );
    }
}

#[test]
fn numeric_actions_and_times_with_a_fraction_give_the_same_figures() {
    let out = tempfile::tempdir().unwrap();
    let case = "messy";
    let expected = all_figures(&fixture(case), &[], &[]);
    // actions as numbers, in the same order as their names
    let numbers = [("Close", 1), ("Open", 2), ("Pause", 3)];
    let numeric = rewritten(case, &out.path().join("n"), &|m| {
        if let Some(Value::String(a)) = m.get("action") {
            if let Some((_, n)) = numbers.iter().find(|(name, _)| name == a) {
                m.insert("action".into(), Value::from(*n));
            }
        }
    });
    let got = all_figures(
        &numeric,
        &["--alert-actions", "2,1"],
        &[("1", "Close"), ("2", "Open"), ("3", "Pause")],
    );
    assert_eq!(got, expected);
    // a fraction of a second in each integer time: the same seconds
    let fractional = rewritten(case, &out.path().join("f"), &|m| {
        if let Some(t) = m.get("time").and_then(Value::as_i64) {
            m.insert("time".into(), serde_json::json!(t as f64 + 0.75));
        }
    });
    assert_eq!(all_figures(&fractional, &[], &[]), expected);
}

#[test]
fn a_checkpoint_records_the_fields_and_refuses_others() {
    let out = tempfile::tempdir().unwrap();
    let d = out.path();
    fs::create_dir(d.join("in")).unwrap();
    fs::write(d.join("in/a.json"), "{\"ts\":60,\"event\":\"login\"}\n").unwrap();
    windowpane()
        .current_dir(d)
        .args([
            "update",
            "in",
            "--no-report",
            "--time-field",
            "ts",
            "--action-field",
            "event",
        ])
        .assert()
        .success();
    windowpane()
        .current_dir(d)
        .args(["update", "in", "--no-report"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("--time-field ts"));
}

/// A copy of a conformance case as delimited files: a header row `time`,
/// `action` and a row per line, each cell the JSON text of the line's
/// value (a string without its quotes; missing or null: empty), and a line
/// that is not an object a row of its text.
fn as_delimited(case: &str, out: &Path, extension: &str, delimiter: u8) -> PathBuf {
    let dir = out.join(format!("{case}-{extension}"));
    crate::util::delimited_copy(&fixture(case), &dir, extension, delimiter);
    dir
}

#[test]
fn csv_and_tsv_copies_give_the_figures_of_the_json_folder() {
    let out = tempfile::tempdir().unwrap();
    for case in ["messy", "seedlike"] {
        let expected = all_figures(&fixture(case), &[], &[]);
        for (extension, delimiter) in [("csv", b','), ("tsv", b'\t')] {
            let dir = as_delimited(case, out.path(), extension, delimiter);
            assert_eq!(all_figures(&dir, &[], &[]), expected, "{case} as {extension}");
        }
    }
    // the same rows with other column names and a semicolon
    let dir = out.path().join("named");
    fs::create_dir(&dir).unwrap();
    fs::write(
        dir.join("a.csv"),
        "user;when;what\nu1;1469501107;Open\nu2;\"2016-07-26T02:45:08Z\";\"Cl;ose\"\nu3;;Open\n",
    )
    .unwrap();
    let v = all_figures(
        &dir,
        &["--time-field", "when", "--action-field", "what", "--delimiter", ";"],
        &[],
    );
    assert_eq!(v["input"]["events"], 2);
    assert_eq!(v["input"]["rejected"], 1);
    assert_eq!(v["totals"], serde_json::json!({"Cl;ose": 1, "Open": 1}));
}

#[test]
fn bad_csv_is_a_sentence_or_a_counted_row() {
    let out = tempfile::tempdir().unwrap();
    let d = out.path();
    fs::create_dir(d.join("in")).unwrap();
    // a header only, a ragged row, an unclosed quote at the end
    fs::write(d.join("in/a.csv"), "time,action\n").unwrap();
    fs::write(
        d.join("in/b.csv"),
        "time,action\n60,Open\n61\n62,Close,extra\n\"63,Open\n",
    )
    .unwrap();
    let v = all_figures(&d.join("in"), &[], &[]);
    assert_eq!(v["input"]["lines"], 4, "{v}");
    assert_eq!(v["input"]["events"], 2, "{v}");
    // a file whose header lacks a named column: its columns are listed
    fs::write(d.join("in/c.csv"), "ts,kind\n60,Open\n").unwrap();
    windowpane()
        .args(["batch", "--no-report"])
        .arg(d.join("in"))
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "has no column \"time\": its header names \"ts\", \"kind\"",
        ));
    // and with --skip-corrupt-files it is skipped and listed
    windowpane()
        .args(["batch", "--no-report", "--skip-corrupt-files"])
        .arg(d.join("in"))
        .assert()
        .success()
        .stderr(predicate::str::contains("c.csv"));
}

/// Writes a Parquet file of `df`.
fn write_parquet(path: &Path, mut df: polars::prelude::DataFrame) {
    use polars::prelude::*;
    ParquetWriter::new(fs::File::create(path).unwrap())
        .finish(&mut df)
        .unwrap();
}

#[test]
fn parquet_copies_give_the_figures_of_the_json_folder() {
    let out = tempfile::tempdir().unwrap();
    for case in ["messy", "seedlike"] {
        let expected = all_figures(&fixture(case), &[], &[]);
        let dir = out.path().join(format!("{case}-parquet"));
        crate::util::parquet_copy(&fixture(case), &dir);
        assert_eq!(all_figures(&dir, &[], &[]), expected, "{case} as Parquet");
    }
}

#[test]
fn parquet_columns_of_every_kind_are_read_and_bad_ones_are_sentences_or_counted() {
    use polars::prelude::*;
    let out = tempfile::tempdir().unwrap();
    let d = out.path().join("in");
    fs::create_dir(&d).unwrap();
    // a timestamp in microseconds with a time zone and a categorical action
    let micros = Series::new("ts".into(), [60_500_000i64, 61_000_000, 3_600_000_000])
        .cast(&DataType::Datetime(
            polars::prelude::TimeUnit::Microseconds,
            Some(TimeZone::UTC),
        ))
        .unwrap();
    let kinds = Series::new("kind".into(), ["a", "b", "a"])
        .cast(&DataType::from_categories(Categories::global()))
        .unwrap();
    write_parquet(
        &d.join("a.parquet"),
        DataFrame::new_infer_height(vec![micros.into(), kinds.into()]).unwrap(),
    );
    // integer times (seconds) and integer actions, with nulls
    write_parquet(
        &d.join("b.parquet"),
        df!("ts" => [Some(60i64), None, Some(120)], "kind" => [Some(404i32), Some(200), None]).unwrap(),
    );
    let v = all_figures(&d, &["--time-field", "ts", "--action-field", "kind"], &[]);
    assert_eq!(v["input"]["lines"], 6, "{v}");
    assert_eq!(v["input"]["events"], 4, "{v}");
    assert_eq!(v["totals"], serde_json::json!({"404": 1, "a": 2, "b": 1}), "{v}");
    // a date or a float for the time: every row rejected with the reason
    for (name, times) in [
        (
            "date",
            Series::new("ts".into(), [19000i32]).cast(&DataType::Date).unwrap(),
        ),
        ("float", Series::new("ts".into(), [60.5f64])),
    ] {
        let dir = out.path().join(name);
        fs::create_dir(&dir).unwrap();
        write_parquet(
            &dir.join("c.parquet"),
            DataFrame::new_infer_height(vec![times.into(), Series::new("kind".into(), ["a"]).into()]).unwrap(),
        );
        let out = windowpane()
            .args(["batch", "--no-report", "--time-field", "ts", "--action-field", "kind"])
            .arg(&dir)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(if name == "date" { "is a date" } else { "floating-point" }),
            "{err}"
        );
    }
    // a truncated file, a column missing in one file of many: one sentence
    let bytes = fs::read(d.join("b.parquet")).unwrap();
    let cut = out.path().join("cut");
    fs::create_dir(&cut).unwrap();
    fs::write(cut.join("b.parquet"), &bytes[..bytes.len() / 2]).unwrap();
    windowpane()
        .args(["batch", "--no-report", "--time-field", "ts", "--action-field", "kind"])
        .arg(&cut)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("cannot be read as Parquet"));
    write_parquet(&d.join("c.parquet"), df!("ts" => [60i64], "other" => ["x"]).unwrap());
    windowpane()
        .args(["batch", "--no-report", "--time-field", "ts", "--action-field", "kind"])
        .arg(&d)
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "has no column \"kind\": its columns are \"ts\", \"other\"",
        ));
}

#[test]
fn update_takes_csv_and_parquet_dumps_in_a_mixed_folder_like_json_ones() {
    use polars::prelude::*;
    let out = tempfile::tempdir().unwrap();
    let d = out.path();
    let dumps = d.join("dumps");
    fs::create_dir(&dumps).unwrap();
    // the seedlike case's files, as JSON, CSV and Parquet by turns, in
    // three dumps: update after each gives batch's figures of all
    let csv_dir = as_delimited("seedlike", d, "csv", b',');
    let files = sorted_files(&fixture("seedlike"));
    let stem = |i: usize| format!("file-{i:02}");
    for (dump, range) in [(0, 0..10), (1, 10..25), (2, 25..files.len())] {
        for i in range {
            let src = &files[i];
            let name = stem(i);
            match i % 3 {
                0 => {
                    fs::copy(src, dumps.join(format!("{name}.json"))).unwrap();
                }
                1 => {
                    let from = csv_dir.join(format!("{}.csv", src.file_stem().unwrap().to_string_lossy()));
                    fs::copy(from, dumps.join(format!("{name}.csv"))).unwrap();
                }
                _ => {
                    let (mut t, mut a): (Vec<i64>, Vec<String>) = (Vec::new(), Vec::new());
                    for line in fs::read_to_string(src).unwrap().lines() {
                        let v: Value = serde_json::from_str(line).unwrap();
                        t.push(v["time"].as_i64().unwrap());
                        a.push(v["action"].as_str().unwrap().to_string());
                    }
                    write_parquet(
                        &dumps.join(format!("{name}.parquet")),
                        df!("time" => t, "action" => a).unwrap(),
                    );
                }
            }
        }
        let updated = windowpane()
            .current_dir(d)
            .args(["update", "dumps", "--no-report", "--format", "json"])
            .output()
            .unwrap();
        assert!(
            updated.status.success(),
            "dump {dump}: {}",
            String::from_utf8_lossy(&updated.stderr)
        );
        let mut got: Value = serde_json::from_slice(&updated.stdout).unwrap();
        let mut want = all_figures(&dumps, &[], &[]);
        for v in [&mut got, &mut want] {
            v["tables"].as_object_mut().unwrap().remove("rejected");
        }
        got["input"].as_object_mut().unwrap().remove("fields");
        assert_eq!(got, want, "dump {dump}");
    }
}
