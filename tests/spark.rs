//! `--spark`: the scan run by a real Spark Connect server must give the
//! report a local run gives, table for table, byte for byte.
//!
//! The server: `WINDOWPANE_SPARK_URL` when set (`.ci/run` starts one with
//! scripts/spark-connect-server.sh), else one this test starts with that
//! script on a port of its own and stops at the end, when Java and pyspark
//! 4.3.0 are installed. Without either, the test says why and passes,
//! unless `WINDOWPANE_SPARK_TEST=required`.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command as Process;
use std::time::Duration;

use assert_cmd::Command;
use serde_json::Value;

fn windowpane() -> Command {
    let mut c = Command::cargo_bin("windowpane").unwrap();
    c.timeout(Duration::from_secs(600));
    c
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn script() -> PathBuf {
    root().join("scripts/spark-connect-server.sh")
}

/// A server this test started, stopped when dropped; its logs are in a
/// temporary folder removed after it.
struct Started {
    port: String,
    logs: tempfile::TempDir,
}

impl Drop for Started {
    fn drop(&mut self) {
        let _ = Process::new(script())
            .arg("stop")
            .env("WINDOWPANE_SPARK_PORT", &self.port)
            .env("TMPDIR", self.logs.path())
            .status();
    }
}

/// The server's URL and, when this test started it, its guard; `None`
/// (after saying why) when there is none and none is required.
fn server() -> Option<(String, Option<Started>)> {
    let required = std::env::var("WINDOWPANE_SPARK_TEST").is_ok_and(|v| v == "required");
    if let Ok(url) = std::env::var("WINDOWPANE_SPARK_URL") {
        return Some((url, None));
    }
    let check = Process::new(script())
        .arg("check")
        .output()
        .expect("run the server script");
    if !check.status.success() {
        let why = String::from_utf8_lossy(&check.stdout).trim().to_string();
        assert!(
            !required,
            "WINDOWPANE_SPARK_TEST=required, but {why}: run scripts/spark-connect-server.sh start and set WINDOWPANE_SPARK_URL"
        );
        eprintln!("skipped: the --spark tests need a Spark Connect server: {why}");
        return None;
    }
    // a port of our own, so that a developer's server is left alone
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();
    let guard = Started {
        port: port.clone(),
        logs: tempfile::tempdir().unwrap(),
    };
    // a token of this run's own: the test checks that another is refused
    let token = format!("t{}x{port}", std::process::id());
    let status = Process::new(script())
        .arg("start")
        .env("WINDOWPANE_SPARK_PORT", &port)
        .env("WINDOWPANE_SPARK_TOKEN", &token)
        .env("TMPDIR", guard.logs.path())
        .status()
        .expect("run the server script");
    assert!(status.success(), "scripts/spark-connect-server.sh start failed");
    Some((format!("sc://127.0.0.1:{port}/;token={token}"), Some(guard)))
}

fn fixture(case: &str) -> PathBuf {
    let conformance = root().join("tests/fixtures/conformance").join(case).join("input");
    if conformance.exists() {
        conformance
    } else {
        root().join("tests/fixtures").join(case).join("input")
    }
}

/// The files of a report's tables/ folder, by name.
fn tables(report: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for entry in fs::read_dir(report.join("tables")).unwrap() {
        let path = entry.unwrap().path();
        out.insert(
            path.file_name().unwrap().to_string_lossy().into_owned(),
            fs::read(&path).unwrap(),
        );
    }
    out
}

fn summary(report: &Path) -> Value {
    serde_json::from_slice(&fs::read(report.join("summary.json")).unwrap()).unwrap()
}

/// The connection string as reports show it: the token hidden.
fn shown(url: &str) -> String {
    match url.split_once("/;token=") {
        Some((base, rest)) => {
            let after = rest.split_once(';').map(|(_, r)| format!(";{r}")).unwrap_or_default();
            format!("{base}/;token=…{after}")
        }
        None => url.to_string(),
    }
}

/// Runs `batch` on `input` locally and through the server, and checks
/// that every table is the same byte for byte and the summary the same
/// but for where the scan ran and how rejected lines are kept.
fn same_report(url: &str, input: &Path, extra: &[&str], local_input: &Path, local_extra: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let local = dir.path().join("local");
    let spark = dir.path().join("spark");
    windowpane()
        .arg("batch")
        .arg(local_input)
        .args(local_extra)
        .arg("--report")
        .arg(&local)
        .arg("--format")
        .arg("summary")
        .assert()
        .success();
    let out = windowpane()
        .arg("batch")
        .arg(input)
        .args(extra)
        .args(["--spark", url, "--report"])
        .arg(&spark)
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    let (lt, st) = (tables(&local), tables(&spark));
    assert_eq!(lt.keys().collect::<Vec<_>>(), st.keys().collect::<Vec<_>>());
    for (name, bytes) in &lt {
        assert!(
            bytes == &st[name],
            "{}: tables/{name} differs between the local and the --spark run",
            input.display()
        );
    }
    let (mut ls, mut ss) = (summary(&local), summary(&spark));
    let (li, si) = (ls["input"].take(), ss["input"].take());
    assert_eq!(ls, ss, "{}: summary.json differs", input.display());
    for key in ["files", "lines", "events", "rejected", "late"] {
        assert_eq!(li[key], si[key], "{}: input.{key}", input.display());
    }
    assert_eq!(si["scan"], Value::from(format!("spark {}", shown(url))));
    assert!(si["quarantine"].as_str().unwrap().contains("counted on the cluster"));
    assert!(li.get("scan").is_none() && li.get("quarantine").is_none());
    if li["rejected"].as_u64().unwrap() > 0 {
        assert!(
            stdout.contains("rejected lines are not in the figures: counted on the cluster"),
            "{stdout}"
        );
    }
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            fs::copy(&path, &target).unwrap();
        }
    }
}

/// `input` with every integer time in milliseconds (plus 999 ms, which must
/// not change its minute), as files of `dir`.
/// A copy of `input` whose event objects keep their time under `at.ts`
/// (a fraction of a second added to integer ones) and their action under
/// `payload.kind` (`Pause` as the number 3), beside other nested values.
fn nested(input: &Path, dir: &Path) {
    for entry in fs::read_dir(input).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let data = crate::util::decompressed(&path);
        let mut out = String::new();
        for line in String::from_utf8_lossy(&data).lines() {
            match serde_json::from_str::<serde_json::Value>(line) {
                Ok(serde_json::Value::Object(mut m)) => {
                    let mut at = serde_json::Map::new();
                    if let Some(t) = m.remove("time") {
                        let t = match t.as_i64() {
                            Some(i) => serde_json::json!(i as f64 + 0.5),
                            None => t,
                        };
                        at.insert("ts".into(), t);
                    }
                    let mut payload = serde_json::Map::new();
                    if let Some(a) = m.remove("action") {
                        let a = if a == "Pause" { serde_json::json!(3) } else { a };
                        payload.insert("kind".into(), a);
                    }
                    payload.insert("tags".into(), serde_json::json!(["x", {"y": null}]));
                    m.insert("at".into(), serde_json::Value::Object(at));
                    m.insert("payload".into(), serde_json::Value::Object(payload));
                    out.push_str(&serde_json::Value::Object(m).to_string());
                }
                _ => out.push_str(line),
            }
            out.push('\n');
        }
        fs::write(dir.join(name.trim_end_matches(".gz")), out).unwrap();
    }
}

fn in_milliseconds(input: &Path, dir: &Path) {
    for entry in fs::read_dir(input).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let data = crate::util::decompressed(&path);
        let text = String::from_utf8(data).unwrap();
        let mut out = String::new();
        for line in text.split_inclusive('\n') {
            match line.strip_prefix("{\"time\":").and_then(|rest| {
                let digits = rest.chars().take_while(char::is_ascii_digit).count();
                (digits > 0).then(|| (rest[..digits].parse::<i64>().unwrap(), &rest[digits..]))
            }) {
                Some((t, rest)) => out.push_str(&format!("{{\"time\":{}{rest}", t * 1000 + 999)),
                None => out.push_str(line),
            }
        }
        let target = dir.join(&name);
        if name.ends_with(".gz") {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(out.as_bytes()).unwrap();
            fs::write(target, e.finish().unwrap()).unwrap();
        } else {
            fs::write(target, out).unwrap();
        }
    }
}

#[test]
fn the_cluster_scan_gives_the_local_report_on_every_case() {
    let Some((url, _guard)) = server() else { return };
    // the Spark conformance cases, and lines at every edge of the rules
    // (times as RFC 3339 strings with offsets, out of range, of other types,
    // repeated keys, trailing text, long lines, a byte order mark, CRLF,
    // partition folders, .gz, skipped names)
    for case in ["seedlike", "messy"] {
        let input = fixture(case);
        same_report(&url, &input, &[], &input, &[]);
    }
    let edge = tempfile::tempdir().unwrap();
    copy_dir(&fixture("spark-edge"), edge.path());
    // a line over the 1 MiB limit, an action at and one over 1 KiB
    let long = format!(
        "{{\"time\":1469501115,\"action\":\"{}\"}}\n{{\"time\":1469501115,\"action\":\"{}\"}}\n{{\"time\":1469501115,\"action\":\"Open\",\"pad\":\"{}\"}}\n",
        "A".repeat(1024),
        "B".repeat(1025),
        "x".repeat(1 << 20)
    );
    fs::write(edge.path().join("long.jsonl"), long).unwrap();
    same_report(&url, edge.path(), &[], edge.path(), &[]);
    // --time-unit applies on the cluster too
    let ms = tempfile::tempdir().unwrap();
    in_milliseconds(&fixture("messy"), ms.path());
    same_report(&url, ms.path(), &["--time-unit", "ms"], &fixture("messy"), &[]);
    // named fields, nested, with number actions and times with a fraction:
    // the cluster reads them as this machine does
    let named = tempfile::tempdir().unwrap();
    nested(&fixture("messy"), named.path());
    let fields = ["--time-field", "at.ts", "--action-field", "payload.kind"];
    same_report(&url, named.path(), &fields, named.path(), &fields);

    // a path the cluster does not have: one sentence that says where it looked
    let out = windowpane()
        .args(["batch", "/no/such/folder", "--no-report", "--spark", &url])
        .assert()
        .failure()
        .code(1);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        stderr.starts_with("windowpane: error: the path ")
            && stderr.contains("/no/such/folder was not found on the cluster"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");

    // a token the server does not know: one sentence
    if let Some((base, _)) = url.split_once("/;token=") {
        let wrong = format!("{base}/;token=wrong");
        let out = windowpane()
            .arg("batch")
            .arg(fixture("messy"))
            .args(["--no-report", "--spark", &wrong])
            .assert()
            .failure()
            .code(1);
        let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
        assert_eq!(
            stderr.trim_end(),
            format!(
                "windowpane: error: the Spark Connect server at {base}/;token=… refused the authentication: \
                 check the token in the connection string (sc://host:port/;token=…;use_ssl=true)"
            )
        );
        assert!(!stderr.contains("wrong"), "the token is shown: {stderr}");
    }

    // sql over the same figures
    let out = windowpane()
        .arg("sql")
        .arg(fixture("messy"))
        .args([
            "select action, sum(count) as n from minute_counts group by action order by action",
            "--format",
            "csv",
            "--spark",
            &url,
        ])
        .assert()
        .success();
    let local = windowpane()
        .arg("sql")
        .arg(fixture("messy"))
        .args([
            "select action, sum(count) as n from minute_counts group by action order by action",
            "--format",
            "csv",
        ])
        .assert()
        .success();
    assert_eq!(out.get_output().stdout, local.get_output().stdout);
}

#[test]
fn an_unreachable_server_is_one_sentence_naming_it() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("sc://127.0.0.1:{port}");
    let out = windowpane()
        .arg("batch")
        .arg(fixture("messy"))
        .args(["--no-report", "--spark", &url])
        .assert()
        .failure()
        .code(1);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        stderr.starts_with(&format!(
            "windowpane: error: cannot reach the Spark Connect server at {url}: check the host and port"
        )),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

#[test]
fn options_the_cluster_cannot_honour_are_refused_before_connecting() {
    let out = windowpane()
        .args(["batch", "-", "--no-report", "--spark", "sc://127.0.0.1:1"])
        .assert()
        .failure()
        .code(1);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(stderr.contains("--spark cannot read standard input"), "{stderr}");
    let out = windowpane()
        .arg("batch")
        .arg(fixture("messy"))
        .args(["--strict", "--no-report", "--spark", "sc://127.0.0.1:1"])
        .assert()
        .failure()
        .code(1);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(stderr.contains("--strict cannot be used with --spark"), "{stderr}");
    // a damaged file the cluster leaves out unnamed would be recorded as
    // read by update's checkpoint
    let dir = tempfile::tempdir().unwrap();
    let out = windowpane()
        .arg("update")
        .arg(fixture("messy"))
        .args(["--skip-corrupt-files", "--spark", "sc://127.0.0.1:1", "--report"])
        .arg(dir.path().join("r"))
        .assert()
        .failure()
        .code(1);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        stderr.contains("--skip-corrupt-files cannot be used with --spark here"),
        "{stderr}"
    );
}

/// Parquet on the cluster: the conformance case written as Parquet (text
/// columns, Spark's layout with `_SUCCESS` and `.crc` files) gives the
/// tables of its JSON folder; typed columns (timestamps, integers,
/// booleans) give the local run's tables; `update --spark` takes Parquet
/// dumps beside JSON ones.
#[test]
fn parquet_files_are_read_on_the_cluster_with_the_local_rules() {
    use polars::prelude::*;
    let Some((url, _guard)) = server() else { return };
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("messy-parquet");
    crate::util::parquet_copy(&fixture("messy"), &copy);
    // Hadoop's local file system checks a file against its .crc file: the
    // copy's stand-ins (not real checksums) would fail that check
    for entry in fs::read_dir(copy.join("dt=2016-07-26")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "crc") {
            fs::remove_file(path).unwrap();
        }
    }
    same_report(&url, &copy, &[], &fixture("messy"), &[]);
    // typed columns, each kind in a folder of its own (the cluster reads a
    // folder's files with one schema)
    let write = |path: &Path, mut df: DataFrame| {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        ParquetWriter::new(fs::File::create(path).unwrap())
            .finish(&mut df)
            .unwrap();
    };
    let seconds = [
        Some(1_469_501_100i64),
        Some(1_469_501_161),
        None,
        Some(1_469_504_700),
        Some(-5),
    ];
    let stamps = Series::new("ts".into(), seconds.map(|s| s.map(|s| s * 1000)))
        .cast(&DataType::Datetime(
            TimeUnit::Milliseconds,
            Some(polars::prelude::TimeZone::UTC),
        ))
        .unwrap();
    let typed = dir.path().join("typed");
    write(
        &typed.join("stamps/a.parquet"),
        DataFrame::new(
            5,
            vec![
                stamps.into(),
                Series::new("kind".into(), [Some(true), Some(false), Some(true), None, Some(true)]).into(),
            ],
        )
        .unwrap(),
    );
    write(
        &typed.join("integers/a.parquet"),
        df!("ts" => seconds, "kind" => [Some(404i64), Some(200), Some(404), Some(500), None]).unwrap(),
    );
    for kind in ["stamps", "integers"] {
        let input = typed.join(kind);
        let fields = ["--time-field", "ts", "--action-field", "kind"];
        same_report(&url, &input, &fields, &input, &fields);
    }
    // files that give a column different types: refused in one sentence,
    // where reading them with one type would reject every row of the others
    let clash = typed.join("clash");
    fs::create_dir_all(&clash).unwrap();
    fs::copy(typed.join("stamps/a.parquet"), clash.join("a.parquet")).unwrap();
    fs::copy(typed.join("integers/a.parquet"), clash.join("b.parquet")).unwrap();
    let out = windowpane()
        .arg("batch")
        .arg(&clash)
        .args([
            "--no-report",
            "--time-field",
            "ts",
            "--action-field",
            "kind",
            "--spark",
            &url,
        ])
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(stderr.contains("do not all give a column the same type"), "{stderr}");
    // update --spark over Parquet and JSON dumps
    let mixed = dir.path().join("mixed");
    fs::create_dir_all(&mixed).unwrap();
    let parts: Vec<PathBuf> = fs::read_dir(copy.join("dt=2016-07-26"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
        .collect();
    fs::copy(&parts[0], mixed.join("a.parquet")).unwrap();
    fs::copy(fixture("seedlike").join("file-0.json"), mixed.join("b.json")).unwrap();
    let report = dir.path().join("report");
    update_on_cluster(&url, &mixed, &report);
    fs::copy(&parts[1], mixed.join("c.parquet")).unwrap();
    let out = update_on_cluster(&url, &mixed, &report);
    assert!(String::from_utf8_lossy(&out.stdout).contains("(1 new file, 2 read before)"));
    assert_batch_tables(&mixed, &dir.path().join("local"), &report, &[], "update --spark");
}

/// CSV and TSV on the cluster: the conformance cases written as CSV and
/// as TSV (some gzipped) give the tables of their JSON folders; named
/// columns, another delimiter, quoted cells and blank rows are read as
/// locally; a header without the time column is a sentence naming the
/// columns it has.
#[test]
fn csv_and_tsv_files_are_read_on_the_cluster_with_the_local_rules() {
    let Some((url, _guard)) = server() else { return };
    let dir = tempfile::tempdir().unwrap();
    for case in ["messy", "seedlike"] {
        for (extension, delimiter) in [("csv", b','), ("tsv", b'\t')] {
            let copy = dir.path().join(format!("{case}-{extension}"));
            crate::util::delimited_copy(&fixture(case), &copy, extension, delimiter);
            same_report(&url, &copy, &[], &fixture(case), &[]);
        }
    }
    let named = dir.path().join("named");
    fs::create_dir_all(&named).unwrap();
    fs::write(
        named.join("a.csv"),
        "user;when;what\nu1;1469501107;Open\nu2;\"2016-07-26T02:45:08Z\";\"Cl;o\"\"se\"\n  ;  ;  \nu3;;Open\nu4;1469501170.5;\"multi\nline\"\nu5;1469501180\n",
    )
    .unwrap();
    fs::copy(fixture("seedlike").join("file-0.json"), named.join("b.json")).unwrap();
    let fields = ["--time-field", "when", "--action-field", "what", "--delimiter", ";"];
    same_report(&url, &named, &fields, &named, &fields);
    // a header without the named column
    let out = windowpane()
        .arg("batch")
        .arg(&named)
        .args(["--no-report", "--time-field", "ts", "--delimiter", ";", "--spark", &url])
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        stderr.contains("have no column \"ts\": their header names \"user\", \"when\", \"what\""),
        "{stderr}"
    );
    // files whose headers name the columns in another order: refused, not
    // read by position
    let orders = dir.path().join("orders");
    fs::create_dir_all(&orders).unwrap();
    fs::write(orders.join("a.csv"), "time,action\n1469501100,Open\n").unwrap();
    fs::write(orders.join("b.csv"), "action,time\nClose,1469501160\n").unwrap();
    let out = windowpane()
        .arg("batch")
        .arg(&orders)
        .args(["--no-report", "--spark", &url])
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(stderr.contains("must name the columns of the first file's"), "{stderr}");
}

/// `update --spark` over `input` with its report in `report`; the output.
fn update_on_cluster(url: &str, input: &Path, report: &Path) -> std::process::Output {
    let out = windowpane()
        .arg("update")
        .arg(input)
        .args(["--spark", url, "--report"])
        .arg(report)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "update --spark failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// `update --spark` over `input` with its report in `report`, started and
/// left running, its standard error as `stderr` says.
fn start_update_on_cluster(url: &str, input: &Path, report: &Path, stderr: std::process::Stdio) -> std::process::Child {
    Process::new(assert_cmd::cargo::cargo_bin("windowpane"))
        .arg("update")
        .arg(input)
        .args(["--spark", url, "--report"])
        .arg(report)
        .stdout(std::process::Stdio::null())
        .stderr(stderr)
        .spawn()
        .unwrap()
}

/// Writes `batch`'s local report of `input` into `local` and checks that
/// `report`, made through the cluster, has the same tables, byte for byte,
/// and no other but those of `own` (a stream's `triggers.csv`); `what`
/// names the cluster's run in a failure.
fn assert_batch_tables(input: &Path, local: &Path, report: &Path, own: &[&str], what: &str) {
    windowpane()
        .arg("batch")
        .arg(input)
        .arg("--report")
        .arg(local)
        .assert()
        .success();
    let (lt, mut ct) = (tables(local), tables(report));
    for name in own {
        assert!(ct.remove(*name).is_some(), "{what} wrote no tables/{name}");
    }
    assert_eq!(lt.keys().collect::<Vec<_>>(), ct.keys().collect::<Vec<_>>(), "{what}");
    for (name, bytes) in &lt {
        assert!(bytes == &ct[name], "tables/{name} differs between batch and {what}");
    }
}

/// The events `batch` counts in `files` of `from`, read on this machine.
fn local_events(from: &Path, files: &[&str]) -> u64 {
    let dir = tempfile::tempdir().unwrap();
    for f in files {
        fs::copy(from.join(f), dir.path().join(f)).unwrap();
    }
    let out = windowpane()
        .arg("batch")
        .arg(dir.path())
        .args(["--no-report", "--format", "summary"])
        .output()
        .unwrap();
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    summary["input"]["events"].as_u64().unwrap()
}

/// The rerun on a cluster: dumps arrive one after another, `update
/// --spark` after each scans only the new files on the cluster (each
/// trigger's events are those of its dump alone), and the report at the
/// end is `batch`'s, table for table, byte for byte.
#[test]
fn update_on_the_cluster_reads_only_the_new_files_and_ends_with_the_batch_report() {
    let Some((url, _guard)) = server() else { return };
    let from = fixture("messy");
    let dumps: [&[&str]; 3] = [
        &["file-0.json", "file-1.json", "file-2.json.gz"],
        &["file-3.json", "file-4.json"],
        &["file-5.json.gz", "file-6.json"],
    ];
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    let report = dir.path().join("report");
    fs::create_dir_all(&input).unwrap();
    for (k, dump) in dumps.iter().enumerate() {
        for f in *dump {
            fs::copy(from.join(f), input.join(f)).unwrap();
        }
        let out = update_on_cluster(&url, &input, &report);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let read_before: usize = dumps[..k].iter().map(|d| d.len()).sum();
        assert!(
            stdout.contains(&format!("({} new files, {read_before} read before)", dump.len())),
            "{stdout}"
        );
        // what the cluster sent back for this trigger is this dump's events
        let checkpoint = dir.path().join(".report.checkpoint");
        let triggers = windowpane()
            .arg("sql")
            .arg("--checkpoint")
            .arg(&checkpoint)
            .args(["select files, events from triggers order by trigger", "--format", "csv"])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&triggers.stdout).into_owned();
        let last = text.lines().last().unwrap().to_string();
        assert_eq!(last, format!("{},{}", dump.len(), local_events(&from, dump)), "{text}");
        assert_eq!(text.lines().count(), k + 2, "one trigger per update: {text}");
    }
    // a rerun with nothing new scans nothing
    let out = update_on_cluster(&url, &input, &report);
    assert!(String::from_utf8_lossy(&out.stdout).contains("(0 new files, 7 read before)"));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("scanning"));
    let local = dir.path().join("local");
    assert_batch_tables(&from, &local, &report, &[], "update --spark");
    let (li, ci) = (summary(&local)["input"].take(), summary(&report)["input"].take());
    for key in ["files", "lines", "events", "rejected"] {
        assert_eq!(li[key], ci[key], "input.{key}");
    }
    assert_eq!(ci["scan"], Value::from(format!("spark {}", shown(&url))));

    // the checkpoint belongs to --spark runs: a local run over it is
    // refused, naming the option, and the reverse
    let out = windowpane()
        .arg("update")
        .arg(&input)
        .arg("--report")
        .arg(&report)
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(stderr.contains("was made with --spark sc://"), "{stderr}");
    assert!(!stderr.contains("token=t"), "the token is shown: {stderr}");
    let other = dir.path().join("other");
    windowpane()
        .arg("update")
        .arg(&input)
        .arg("--report")
        .arg(&other)
        .assert()
        .success();
    let out = windowpane()
        .arg("update")
        .arg(&input)
        .args(["--spark", &url, "--report"])
        .arg(&other)
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(stderr.contains("was made without --spark"), "{stderr}");
}

/// Exactly once on the cluster: `update --spark` killed at any instant
/// (connecting, listing, while the scan runs on the cluster, after the
/// counts came back, committing) and run again counts every file once.
#[test]
fn update_on_the_cluster_killed_at_any_instant_counts_every_file_once() {
    let Some((url, _guard)) = server() else { return };
    let from = fixture("messy");
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    let report = dir.path().join("report");
    fs::create_dir_all(&input).unwrap();
    let names = [
        "file-0.json",
        "file-1.json",
        "file-2.json.gz",
        "file-3.json",
        "file-4.json",
    ];
    for (k, delay_ms) in [300, 900, 1500, 2100, 2700].into_iter().enumerate() {
        fs::copy(from.join(names[k]), input.join(names[k])).unwrap();
        let mut child = start_update_on_cluster(&url, &input, &report, std::process::Stdio::null());
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = child.kill();
        child.wait().unwrap();
    }
    update_on_cluster(&url, &input, &report);
    let local = dir.path().join("local");
    assert_batch_tables(&input, &local, &report, &[], "update --spark killed at any instant");
    assert_eq!(summary(&local)["input"]["events"], summary(&report)["input"]["events"]);
}

/// Ctrl-C while `update --spark`'s scan runs on the cluster cancels it
/// there: nothing of the trigger is committed, and the next run takes the
/// same files and ends with `batch`'s figures.
#[test]
fn ctrl_c_cancels_the_update_scan_on_the_cluster_and_the_rerun_completes_it() {
    let Some((url, _guard)) = server() else { return };
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    let report = dir.path().join("report");
    // a scan of some seconds on the local server
    windowpane()
        .arg("generate")
        .arg(&input)
        .args(["--events", "600000", "--files", "20"])
        .assert()
        .success();
    let mut child = start_update_on_cluster(&url, &input, &report, std::process::Stdio::piped());
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    use std::io::BufRead;
    while !line.contains("scanning") {
        line.clear();
        assert!(stderr.read_line(&mut line).unwrap() > 0, "no scan started");
    }
    // into the scan query (the views over the files are made first)
    std::thread::sleep(Duration::from_millis(1200));
    // SAFETY: sends SIGINT to the child this test started
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(1), "{rest}");
    assert!(rest.contains("interrupting the query on sc://"), "{rest}");
    assert!(rest.contains("interrupted (Ctrl-C): the query was cancelled"), "{rest}");
    let out = update_on_cluster(&url, &input, &report);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("(20 new files, 0 read before)"),
        "the interrupted trigger was not committed"
    );
    assert_eq!(summary(&report)["input"]["events"], Value::from(600000));
}

/// `stream --spark` takes the files a few per trigger on the cluster and
/// ends with `batch`'s tables.
#[test]
fn a_stream_on_the_cluster_gives_the_batch_tables() {
    let Some((url, _guard)) = server() else { return };
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report");
    let out = windowpane()
        .arg("stream")
        .arg(fixture("messy"))
        .args(["--spark", &url, "--max-files-per-trigger", "3", "--checkpoint"])
        .arg(dir.path().join("ck"))
        .arg("--report")
        .arg(&report)
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(stdout.contains("after 3 triggers"), "{stdout}");
    assert_batch_tables(
        &fixture("messy"),
        &dir.path().join("local"),
        &report,
        &["triggers.csv"],
        "stream --spark",
    );
}
