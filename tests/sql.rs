//! `windowpane sql`: the views are the report's tables, the exercise's own
//! queries give Spark's figures, and a failing query is a clear message with
//! exit status 2.

use std::fs;

use crate::util::conformance as case;
use crate::util::windowpane;
use predicates::prelude::*;
use serde_json::Value;

/// Runs one query on a conformance case and returns its rows as JSON.
fn rows(case_name: &str, query: &str) -> Vec<Value> {
    let out = windowpane()
        .args(["sql", "--format", "json"])
        .arg(case(case_name).join("input"))
        .arg(query)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    match serde_json::from_slice(&out.stdout).unwrap() {
        Value::Array(rows) => rows,
        other => panic!("not an array: {other}"),
    }
}

fn expected(case_name: &str) -> Value {
    serde_json::from_slice(&fs::read(case(case_name).join("expected.json")).unwrap()).unwrap()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs())
}

#[test]
fn every_view_as_csv_is_the_report_table_of_the_same_name() {
    let dir = tempfile::tempdir().unwrap();
    let input = case("messy").join("input");
    let report = dir.path().join("report");
    windowpane()
        .args(["batch", "--report"])
        .arg(&report)
        .arg(&input)
        .assert()
        .success();
    for view in [
        "minute_counts",
        "hourly_counts",
        "totals",
        "hourly_average",
        "moving_average",
        "alerts",
    ] {
        let out = windowpane()
            .args(["sql", "--format", "csv"])
            .arg(&input)
            .arg(format!("select * from {view}"))
            .output()
            .unwrap();
        assert!(out.status.success(), "{view}: {}", String::from_utf8_lossy(&out.stderr));
        let table = fs::read_to_string(report.join("tables").join(format!("{view}.csv"))).unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), table, "view {view}");
    }
    // the quarantine: the same lines, in the same order
    let quarantined: Vec<Value> = fs::read_to_string(report.join("rejected.ndjson"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let rejected = rows("messy", "select file, line, reason from rejected");
    assert_eq!(rejected.len(), 126);
    assert_eq!(quarantined.len(), rejected.len());
    for (q, r) in quarantined.iter().zip(&rejected) {
        assert_eq!(
            (&q["file"], &q["line"], &q["reason"]),
            (&r["file"], &r["line"], &r["reason"])
        );
    }
}

#[test]
fn the_exercise_queries_give_sparks_figures() {
    for name in ["seedlike", "messy"] {
        let spark = expected(name);
        // 2(a): the exercise checks max and min with one query each
        let max = rows(name, "select max(count) from static_counts_hourly");
        assert_eq!(max[0]["count"], spark["hourly_max"], "{name}");
        let min = rows(name, "select min(count) from static_counts_hourly");
        assert_eq!(min[0]["count"], spark["hourly_min"], "{name}");
        // 2(b)
        let totals = rows(
            name,
            "select action, sum(count) as total_count from static_counts_hourly group by action",
        );
        assert_eq!(totals.len(), spark["totals"].as_object().unwrap().len(), "{name}");
        for t in &totals {
            assert_eq!(
                spark["totals"][t["action"].as_str().unwrap()],
                t["total_count"],
                "{name}"
            );
        }
        // 2(c): the rows, in window then action order, and their number
        let minutes = rows(
            name,
            "select action, count from static_counts order by window_start, action",
        );
        let spark_minutes = spark["minute_counts"].as_array().unwrap();
        assert_eq!(minutes.len(), spark_minutes.len(), "{name}");
        for (m, s) in minutes.iter().zip(spark_minutes) {
            assert_eq!((&m["action"], &m["count"]), (&s[0], &s[2]), "{name}");
        }
        let n = rows(name, "select count(*) as n from static_counts");
        assert_eq!(n[0]["n"], spark["minute_rows"], "{name}");
        // 2(d) and 2(e)
        let hours = rows(name, "select count(*) as n from static_mean");
        assert_eq!(
            hours[0]["n"].as_u64().unwrap() as usize,
            spark["hourly_average"].as_array().unwrap().len()
        );
        let peak = rows(
            name,
            "select * from (select row_number() over (order by average desc) as rownum, window_start, average from static_mean) as foo where rownum <= 1",
        );
        assert_eq!(peak.len(), 1);
        assert_eq!(peak[0]["window_start"], spark["peak_hour"][0], "{name}");
        assert!(close(
            peak[0]["average"].as_f64().unwrap(),
            spark["peak_hour"][1].as_f64().unwrap()
        ));
        // 3(d)
        let variance = rows(name, "select variance(count) as v from counts");
        assert!(
            close(variance[0]["v"].as_f64().unwrap(), spark["variance"].as_f64().unwrap()),
            "{name}: {variance:?} vs {}",
            spark["variance"]
        );
        // the events themselves
        let events = rows(name, "select count(*) as n from static_input");
        assert_eq!(events[0]["n"], spark["rows_valid"], "{name}");
    }
}

#[test]
fn a_failing_query_prints_the_engine_message_and_the_query_and_exits_2() {
    windowpane()
        .args(["sql"])
        .arg(case("messy").join("input"))
        .arg("select nothing_here from counts")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("the query failed:"))
        .stderr(predicate::str::contains("nothing_here"))
        .stderr(predicate::str::contains("the query: select nothing_here from counts"))
        .stderr(predicate::str::contains("panicked").not());
    windowpane()
        .args(["sql"])
        .arg(case("messy").join("input"))
        .arg("select * from static_count")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("relation 'static_count' was not found"))
        .stderr(predicate::str::contains("the views are events, minute_counts"));
    windowpane()
        .args(["sql"])
        .arg(case("messy").join("input"))
        .arg("selec 1")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("the query: selec 1"));
}

#[test]
fn statements_come_from_an_argument_a_file_or_standard_input() {
    let dir = tempfile::tempdir().unwrap();
    let input = case("seedlike").join("input");
    let script = dir.path().join("q.sql");
    fs::write(
        &script,
        "-- two statements; the second has a ';' in a string\nselect count(*) as n from totals;\nselect 'a;b' as s from totals limit 1;\n",
    )
    .unwrap();
    windowpane()
        .args(["sql", "--format", "csv", "-f"])
        .arg(&script)
        .arg(&input)
        .assert()
        .success()
        .stdout("n\n2\ns\na;b\n");
    windowpane()
        .args(["sql", "--format", "csv"])
        .arg(&input)
        .write_stdin("select count(*) as n from alerts")
        .assert()
        .success()
        .stdout(format!(
            "n\n{}\n",
            expected("seedlike")["alerts"].as_array().unwrap().len()
        ));
    // one argument: a query unless it names an existing folder; the input
    // then defaults to data/events, relative to where the command runs
    windowpane()
        .current_dir(dir.path())
        .args(["sql", "select 1"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("cannot open the input data/events"));
    windowpane()
        .args(["sql", "-f"])
        .arg(dir.path().join("missing.sql"))
        .arg(&input)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("cannot read the SQL file"));
    windowpane()
        .args(["sql"])
        .arg(&input)
        .write_stdin("  -- nothing\n")
        .assert()
        .code(1)
        .stderr(predicate::str::contains("no SQL statement given"));
}

#[test]
fn tables_are_abridged_on_request_and_csv_writes_every_row() {
    let input = case("seedlike").join("input");
    windowpane()
        .args(["sql", "--max-rows", "4"])
        .arg(&input)
        .arg("select * from minute_counts")
        .assert()
        .success()
        .stdout(predicate::str::contains("6,106 rows, 4 shown"))
        .stdout(predicate::str::contains("2016-07-26 02:45:00"));
    let out = windowpane()
        .args(["sql", "--format", "csv"])
        .arg(&input)
        .arg("select * from minute_counts")
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 6106 + 1);
}

/// The interactive prompt, on a real terminal: `script` (util-linux) gives
/// the command a pseudo-terminal; each line is typed once the prompt shows.
#[test]
fn the_prompt_runs_statements_over_several_lines_and_keeps_a_history() {
    use std::io::{Read, Write};
    use std::process::Stdio;
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    let dir = tempfile::tempdir().unwrap();
    let exe = assert_cmd::cargo::cargo_bin("windowpane");
    let command = format!("{} sql {}", exe.display(), case("seedlike").join("input").display());
    let mut child = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env("XDG_STATE_HOME", dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("`script` (util-linux) runs the prompt on a pseudo-terminal");
    let seen = Arc::new(Mutex::new(String::new()));
    let mut stdout = child.stdout.take().unwrap();
    let sink = seen.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock().unwrap().push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    let wait_for = |needle: &str, count: usize| {
        let until = Instant::now() + Duration::from_secs(30);
        while seen.lock().unwrap().matches(needle).count() < count {
            assert!(Instant::now() < until, "no {needle:?} in:\n{}", seen.lock().unwrap());
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    let mut stdin = child.stdin.take().unwrap();
    let mut type_line = |line: &str| {
        stdin.write_all(format!("{line}\r").as_bytes()).unwrap();
        stdin.flush().unwrap();
    };
    wait_for("sql> ", 1);
    type_line("select count(*) as n");
    wait_for(" ..> ", 1);
    type_line("from totals;");
    wait_for("1 row", 1);
    wait_for("sql> ", 2);
    type_line("select nothing_here from totals;");
    wait_for("the query failed", 1);
    wait_for("sql> ", 3);
    type_line(".quit");
    let status = child.wait().unwrap();
    assert!(status.success());
    let out = seen.lock().unwrap().clone();
    assert!(out.contains("│ 2 │"), "{out}");
    let history = std::fs::read_to_string(dir.path().join("windowpane/sql_history")).unwrap();
    assert!(history.contains("select count(*) as n\\nfrom totals;"), "{history}");
    assert!(history.contains("select nothing_here from totals;"), "{history}");
}

#[test]
fn standard_input_is_held_where_no_other_user_can_reach_it_and_never_left_behind() {
    // `sql -` reads its events twice, so it keeps a copy of standard input:
    // never under a name in the temporary folder (a predictable name there
    // let another user redirect the copy through a symlink), and gone even
    // when the process is killed
    use std::io::Write;
    use std::process::Stdio;
    let tmp = tempfile::tempdir().unwrap();
    let lines = fs::read_to_string(case("seedlike").join("input/file-0.json")).unwrap();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("windowpane"))
        .args(["sql", "-", "select count(*) as n from events"])
        .env("TMPDIR", tmp.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(lines.as_bytes()).unwrap();
    stdin.flush().unwrap();
    // the copy is being made: nothing may appear in the temporary folder
    std::thread::sleep(std::time::Duration::from_millis(500));
    let listed = || {
        fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        listed(),
        Vec::<std::ffi::OsString>::new(),
        "standard input was copied under a name"
    );
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(
        listed(),
        Vec::<std::ffi::OsString>::new(),
        "a killed run left its copy behind"
    );
    // and the copy reads back whole
    let out = windowpane()
        .args(["sql", "--format", "csv", "-", "select count(*) as n from events"])
        .env("TMPDIR", tmp.path())
        .write_stdin(lines.clone())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // every line of this case is a valid event (Spark counted them all)
    let n: usize = String::from_utf8_lossy(&out.stdout)
        .lines()
        .nth(1)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert_eq!(n, lines.lines().count());
    assert_eq!(listed(), Vec::<std::ffi::OsString>::new());
}

/// Lines that reach the prompt together (a paste without bracketed paste,
/// `tmux paste-buffer`) are each read: none is dropped.
#[test]
fn the_prompt_reads_every_line_of_a_paste() {
    use std::io::{Read, Write};
    use std::process::Stdio;
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    let dir = tempfile::tempdir().unwrap();
    let exe = assert_cmd::cargo::cargo_bin("windowpane");
    let command = format!("{} sql {}", exe.display(), case("seedlike").join("input").display());
    let mut child = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env("XDG_STATE_HOME", dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("`script` (util-linux) runs the prompt on a pseudo-terminal");
    let seen = Arc::new(Mutex::new(String::new()));
    let mut stdout = child.stdout.take().unwrap();
    let sink = seen.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock().unwrap().push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    let wait_for = |needle: &str| {
        let until = Instant::now() + Duration::from_secs(30);
        while !seen.lock().unwrap().contains(needle) {
            assert!(Instant::now() < until, "no {needle:?} in:\n{}", seen.lock().unwrap());
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    let mut stdin = child.stdin.take().unwrap();
    wait_for("sql> ");
    // two statements of two lines each, in one write
    stdin
        .write_all(b"select count(*) * 3 as n\rfrom totals;\rselect count(*) * 4 as n\rfrom totals;\r")
        .unwrap();
    stdin.flush().unwrap();
    wait_for("│ 6 │");
    wait_for("│ 8 │");
    stdin.write_all(b".quit\r").unwrap();
    stdin.flush().unwrap();
    assert!(child.wait().unwrap().success());
}
