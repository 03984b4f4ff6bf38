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
    // the exercise's Spark queries name the window struct
    windowpane()
        .args(["sql"])
        .arg(case("messy").join("input"))
        .arg("select window.start, count from minute_counts")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("the columns window_start and window_end"));
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
        .code(2)
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

/// Runs `windowpane` in `dir` and returns its standard output, failing
/// the test on a non-zero exit.
fn output_in(dir: &std::path::Path, args: &[&str]) -> String {
    let out = windowpane().current_dir(dir).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn every_view_of_a_finished_streams_checkpoint_is_the_view_of_its_input() {
    // messy has rejected lines, gzip files and three actions
    let dir = tempfile::tempdir().unwrap();
    let input = case("messy").join("input");
    let input = input.to_str().unwrap();
    output_in(
        dir.path(),
        &[
            "stream",
            input,
            "--max-files-per-trigger",
            "2",
            "--checkpoint",
            "ck",
            "--report",
            "report",
            "-q",
        ],
    );
    // the report's triggers.csv is the view triggers as sql writes it
    let written = std::fs::read_to_string(dir.path().join("report/tables/triggers.csv")).unwrap();
    let asked = output_in(
        dir.path(),
        &["sql", "--checkpoint", "ck", "--format", "csv", "select * from triggers"],
    );
    assert!(written.lines().count() > 2, "{written}");
    assert_eq!(written, asked);
    for view in [
        "minute_counts",
        "hourly_counts",
        "totals",
        "hourly_average",
        "moving_average",
        "alerts",
        "rejected",
    ] {
        let query = format!("select * from {view}");
        let live = output_in(dir.path(), &["sql", "--checkpoint", "ck", "--format", "csv", &query]);
        let folder = output_in(dir.path(), &["sql", input, "--format", "csv", &query]);
        assert!(live.lines().count() > 1, "{view}: no rows");
        assert!(live == folder, "{view} differs between the checkpoint and the input");
    }
    // the scan of the minute table answers counts, limits and some columns
    // as the whole table does
    let whole = output_in(
        dir.path(),
        &["sql", input, "--format", "csv", "select * from minute_counts"],
    );
    let rows: Vec<&str> = whole.lines().skip(1).collect();
    let ask = |query: &str| output_in(dir.path(), &["sql", "--checkpoint", "ck", "--format", "csv", query]);
    assert_eq!(ask("select count(*) as n from counts"), format!("n\n{}\n", rows.len()));
    let first: Vec<String> = ask("select * from minute_counts limit 3")
        .lines()
        .skip(1)
        .map(String::from)
        .collect();
    assert_eq!(first, rows[..3]);
    let starts: Vec<String> = ask("select window_start, count from counts")
        .lines()
        .skip(1)
        .map(String::from)
        .collect();
    let expected: Vec<String> = rows
        .iter()
        .map(|r| {
            let f: Vec<&str> = r.split(',').collect();
            format!("{},{}", f[1], f[3])
        })
        .collect();
    assert_eq!(starts, expected);
    // its triggers are triggers.csv's rows, and events are not kept there
    let triggers = output_in(
        dir.path(),
        &[
            "sql",
            "--checkpoint",
            "ck",
            "--format",
            "csv",
            "select trigger, files, state_rows from triggers",
        ],
    );
    assert_eq!(triggers.lines().count(), 1 + 4, "{triggers}");
    let out = windowpane()
        .current_dir(dir.path())
        .args(["sql", "--checkpoint", "ck", "select count(*) from events"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not the events"));
}

#[test]
fn a_stopped_stream_is_queried_as_of_its_last_commit_and_new_rows_are_printed_once() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let input = case("seedlike").join("input");
    let input = input.to_str().unwrap();
    let count = |d: &std::path::Path| -> (String, u64) {
        let out = windowpane()
            .current_dir(d)
            .args([
                "sql",
                "--checkpoint",
                "ck",
                "--format",
                "csv",
                "select count(*) as n from counts",
            ])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let n = String::from_utf8_lossy(&out.stdout)
            .lines()
            .nth(1)
            .unwrap()
            .parse()
            .unwrap();
        (String::from_utf8_lossy(&out.stderr).into_owned(), n)
    };
    let stream = |d: &std::path::Path| {
        output_in(
            d,
            &[
                "stream",
                input,
                "--max-triggers",
                "10",
                "--checkpoint",
                "ck",
                "--no-report",
                "-q",
            ],
        );
    };
    stream(d);
    let (heading, first) = count(d);
    assert!(heading.contains("at trigger 10, committed "), "{heading}");
    // the state rows of trigger 10, as its triggers row says
    let rows = output_in(
        d,
        &[
            "sql",
            "--checkpoint",
            "ck",
            "--format",
            "csv",
            "select state_rows from triggers where trigger = 10",
        ],
    );
    assert_eq!(rows.lines().nth(1).unwrap().parse::<u64>().unwrap(), first);
    // the exercise's alert loop: only alerts not shown before
    let alerts = |d: &std::path::Path| -> usize {
        output_in(
            d,
            &[
                "sql",
                "--checkpoint",
                "ck",
                "--new-rows",
                "--seen",
                "shown",
                "--format",
                "csv",
                "select * from alerts",
            ],
        )
        .lines()
        .skip(1)
        .count()
    };
    let early = alerts(d);
    assert_eq!(alerts(d), 0, "rows shown before are shown again");
    stream(d);
    let (heading, later) = count(d);
    assert!(heading.contains("at trigger 20,"), "{heading}");
    assert!(later > first, "{later} after {first}");
    let all = output_in(d, &["sql", input, "--format", "csv", "select * from alerts"])
        .lines()
        .count()
        - 1;
    let fresh = alerts(d);
    // seedlike's alerts all fall in the first files, or some later: either
    // way each is printed exactly once over the two runs
    let at_20 = output_in(
        d,
        &["sql", "--checkpoint", "ck", "--format", "csv", "select * from alerts"],
    )
    .lines()
    .count()
        - 1;
    assert_eq!(early + fresh, at_20, "each alert printed once");
    assert!(at_20 <= all);
    // --every runs the query again over the latest commit, --times bounds it
    let out = output_in(
        d,
        &[
            "sql",
            "--checkpoint",
            "ck",
            "--every",
            "50ms",
            "--times",
            "3",
            "select count(*) as n from counts",
        ],
    );
    assert_eq!(out.matches("at trigger 20,").count(), 3, "{out}");
}

#[test]
fn a_reader_of_a_running_stream_sees_whole_commits_only() {
    // files are moved in one by one while `stream --follow` takes them, a
    // reader queries the checkpoint all the while, and the stream is
    // killed once midway and started again: every answer is the state of
    // some committed trigger, answers never go down, and the last is batch's
    use std::process::Stdio;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_path_buf();
    let source = case("seedlike").join("input");
    let inbox = d.join("inbox");
    fs::create_dir(&inbox).unwrap();
    let follow = |d: &std::path::Path| {
        std::process::Command::new(assert_cmd::cargo::cargo_bin("windowpane"))
            .current_dir(d)
            .args([
                "stream",
                "inbox",
                "--follow",
                "--trigger-interval",
                "200ms",
                "--checkpoint",
                "ck",
                "--no-report",
                "-q",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    // the reader starts before the stream has committed anything
    let reader = {
        let (d, done) = (d.clone(), done.clone());
        std::thread::spawn(move || {
            let mut answers = Vec::new();
            let mut queries = 0;
            while !done.load(std::sync::atomic::Ordering::SeqCst) || queries < 200 {
                queries += 1;
                let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("windowpane"))
                    .current_dir(&d)
                    .args([
                        "sql",
                        "--checkpoint",
                        "ck",
                        "--format",
                        "csv",
                        "select count(*) as n from counts",
                    ])
                    .output()
                    .unwrap();
                if out.status.success() {
                    let text = String::from_utf8_lossy(&out.stdout).into_owned();
                    let heading = String::from_utf8_lossy(&out.stderr).into_owned();
                    let trigger: u64 = heading
                        .split("at trigger ")
                        .nth(1)
                        .and_then(|t| t.split(',').next())
                        .and_then(|t| t.parse().ok())
                        .unwrap_or(0);
                    answers.push((trigger, text.lines().nth(1).unwrap().parse::<u64>().unwrap()));
                } else {
                    // only before the first commit: no checkpoint yet
                    let err = String::from_utf8_lossy(&out.stderr);
                    assert!(
                        answers.is_empty() && (err.contains("no checkpoint at") || err.contains("has not started")),
                        "{err}"
                    );
                }
            }
            answers
        })
    };
    let mut stream = follow(&d);
    let files: Vec<_> = (0..30).map(|i| format!("file-{i}.json")).collect();
    for (i, name) in files.iter().enumerate() {
        fs::copy(source.join(name), inbox.join(format!("_{name}"))).unwrap();
        fs::rename(inbox.join(format!("_{name}")), inbox.join(name)).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(150));
        if i == 14 {
            stream.kill().unwrap();
            stream.wait().unwrap();
            stream = follow(&d);
        }
    }
    // wait until every file is committed, then stop
    let committed = || -> u64 {
        fs::read_to_string(d.join("ck/triggers.ndjson"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap()["files"].as_u64().unwrap())
            .sum()
    };
    let start = std::time::Instant::now();
    while committed() < 30 && start.elapsed() < std::time::Duration::from_secs(60) {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let answers = reader.join().unwrap();
    stream.kill().unwrap();
    stream.wait().unwrap();
    assert_eq!(committed(), 30);
    // each answer is the state rows its trigger recorded
    let log = fs::read_to_string(d.join("ck/triggers.ndjson")).unwrap();
    let state_rows: std::collections::HashMap<u64, u64> = log
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            (v["trigger"].as_u64().unwrap(), v["state_rows"].as_u64().unwrap())
        })
        .collect();
    assert!(answers.len() >= 100, "{} answers", answers.len());
    assert!(
        answers.iter().any(|a| a.0 > 0 && a.0 < answers.last().unwrap().0),
        "no answer while the stream ran"
    );
    for (trigger, n) in &answers {
        let want = if *trigger == 0 { 0 } else { state_rows[trigger] };
        assert_eq!(*n, want, "trigger {trigger}");
    }
    assert!(answers.windows(2).all(|w| w[0].1 <= w[1].1), "answers went down");
    // the last equals batch's over the same thirty files
    let batch = output_in(
        &d,
        &["sql", "inbox", "--format", "csv", "select count(*) as n from counts"],
    );
    let last = output_in(
        &d,
        &[
            "sql",
            "--checkpoint",
            "ck",
            "--format",
            "csv",
            "select count(*) as n from counts",
        ],
    );
    // (the reader's own last answer may predate the last commit: the test
    // stops it once the triggers log names every file, and a trigger's line
    // is written just before its commit)
    assert_eq!(last, batch);
    assert!(answers.last().unwrap().1 <= batch.lines().nth(1).unwrap().parse::<u64>().unwrap());
}

#[test]
fn new_rows_keeps_equal_rows_and_each_statements_own_rows() {
    let dir = tempfile::tempdir().unwrap();
    let input = case("seedlike").join("input");
    let input = input.to_str().unwrap();
    output_in(dir.path(), &["update", input, "--no-report", "--checkpoint", "ck"]);
    // two equal rows in one result are both new; the same statement twice
    // in a script prints its rows twice
    let script = "select 1 as one from totals; select 1 as one from totals;";
    let new_rows = [
        "sql",
        "--checkpoint",
        "ck",
        "--new-rows",
        "--seen",
        "seen.json",
        "--format",
        "csv",
        script,
    ];
    let out = output_in(dir.path(), &new_rows);
    assert_eq!(out.lines().filter(|l| *l == "1").count(), 4, "{out}");
    let again = output_in(dir.path(), &new_rows);
    assert_eq!(again.lines().filter(|l| *l == "1").count(), 0, "{again}");
}

#[test]
fn a_failing_statement_ends_a_script_and_json_stays_one_valid_document() {
    let out = windowpane()
        .args(["sql", "--format", "json"])
        .arg(case("seedlike").join("input"))
        .arg("select count(*) as n from totals; select nothing_here from totals; select 2 as b from totals")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let doc: Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    let items = doc.as_array().unwrap();
    assert_eq!(items.len(), 2, "{doc}");
    assert_eq!(items[0]["rows"][0]["n"], 2);
    assert!(items[1]["error"].as_str().unwrap().contains("nothing_here"), "{doc}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("the query failed"));
}

#[test]
fn table_functions_that_read_files_are_refused_before_any_path_is_looked_at() {
    for query in [
        "select * from read_csv('/etc/passwd')",
        "select count(*) from READ_PARQUET('/no/such/file.parquet')",
    ] {
        let out = windowpane()
            .arg("sql")
            .arg(case("seedlike").join("input"))
            .arg(query)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{query}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("reads a file from disk") && !err.contains("No such file"),
            "{err}"
        );
        assert!(!String::from_utf8_lossy(&out.stdout).contains("root:"), "{query}");
    }
}
