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
}

#[test]
fn a_folder_with_files_the_cluster_does_not_read_is_refused() {
    let Some((url, _guard)) = server() else { return };
    // a local run reads the CSV file too: the cluster would leave it out
    let dir = tempfile::tempdir().unwrap();
    fs::copy(fixture("seedlike").join("file-0.json"), dir.path().join("file-0.json")).unwrap();
    fs::write(dir.path().join("more.csv"), "time,action\n60,Open\n").unwrap();
    windowpane()
        .args(["batch", "--no-report", "--spark", &url])
        .arg(dir.path())
        .assert()
        .code(1)
        .stderr(predicates::str::contains("which the cluster does not read yet"));
}
