//! What a new user meets around the figures: machine-readable output of
//! every figure, exit statuses in every help text, the version with its
//! commit, shell completions and manual pages, hostile text in the data
//! shown escaped, and `generate --append`.

use std::fs;
use std::path::{Path, PathBuf};

use crate::util::windowpane;
use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

fn case(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/conformance")
        .join(name)
        .join("input")
}

fn stdout_of(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// An input folder whose actions are hostile: a terminal escape that sets
/// the window title (and rings the bell), and a right-to-left override.
fn hostile(dir: &Path) -> PathBuf {
    let input = dir.join("in");
    fs::create_dir_all(&input).unwrap();
    let mut body = String::new();
    for k in 0..30 {
        body.push_str(&format!(
            "{{\"time\":{},\"action\":\"\\u001b]0;PWNED\\u0007X\"}}\n",
            1469501100 + k
        ));
    }
    body.push_str("{\"time\":1469501100,\"action\":\"abc\\u202edef\"}\n");
    body.push_str("{\"time\":1469501100,\"action\":\"Open\"}\n");
    body.push_str("not json \u{1b}[2J\n");
    fs::write(input.join("e.json"), body).unwrap();
    input
}

/// True when `text` holds none of the characters a terminal would obey.
fn inert(text: &str) -> bool {
    !text.chars().any(|c| c == '\u{1b}' || c == '\u{7}' || c == '\u{202e}')
}

#[test]
fn control_characters_in_the_data_are_shown_escaped_on_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let input = hostile(dir.path());
    let out = stdout_of(
        windowpane()
            .args(["batch", "--no-report", "--alert-actions"])
            .arg("\u{1b}]0;PWNED\u{7}X,Open")
            .arg(&input),
    );
    assert!(inert(&out), "{out:?}");
    assert!(out.contains("\\u{1b}]0;PWNED\\u{7}X"), "{out}");
    assert!(out.contains("abc\\u{202e}def"), "{out}");
    // the alert table's header names the actions the same way
    assert!(out.contains("|\\u{1b}]0;PWNED\\u{7}X − Open| > 20"), "{out}");
    for format in ["table", "csv"] {
        let out = stdout_of(
            windowpane()
                .args(["sql", "--format", format])
                .arg(&input)
                .arg("select action, total_count from totals; select text from rejected"),
        );
        // csv to a pipe is for programs and keeps the bytes; a table never does
        if format == "table" {
            assert!(inert(&out), "{out:?}");
            assert!(
                out.contains("\\u{1b}]0;PWNED\\u{7}X") && out.contains("not json \\u{1b}[2J"),
                "{out}"
            );
        } else {
            assert!(out.contains("\u{1b}]0;PWNED\u{7}X"), "{out:?}");
        }
    }
    // JSON escapes them its own way
    let out = stdout_of(
        windowpane()
            .args(["batch", "--no-report", "--format", "summary"])
            .arg(&input),
    );
    assert!(out.contains("\\u001b]0;PWNED\\u0007X"), "{out}");
    // a message naming a hostile file name
    let name = dir.path().join("bad\u{1b}[31mname");
    fs::create_dir_all(&name).unwrap();
    let err = windowpane().args(["batch", "--no-report"]).arg(&name).output().unwrap();
    let stderr = String::from_utf8(err.stderr).unwrap();
    assert_eq!(err.status.code(), Some(1));
    assert!(inert(&stderr) && stderr.contains("bad\\u{1b}[31mname"), "{stderr:?}");
}

#[test]
fn without_a_report_the_rejected_lines_are_not_said_to_be_in_one() {
    let out = stdout_of(windowpane().args(["batch", "--no-report"]).arg(case("messy")));
    assert!(
        !out.contains("rejected.ndjson\n") && !out.contains("quarantined"),
        "{out}"
    );
    assert!(
        out.contains("126 rejected lines are not in the figures (no report, so no rejected.ndjson)"),
        "{out}"
    );
    assert!(out.contains("\"select * from rejected\"` lists them"), "{out}");
    // with a report, they are where it says
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("r");
    let out = stdout_of(
        windowpane()
            .arg("batch")
            .arg(case("messy"))
            .arg("--report")
            .arg(&report),
    );
    assert!(out.contains(&format!(
        "126 rejected lines are quarantined in {}/rejected.ndjson",
        report.display()
    )));
    assert_eq!(
        fs::read_to_string(report.join("rejected.ndjson"))
            .unwrap()
            .lines()
            .count(),
        126
    );
}

/// The keys of the first object in `text`, in the order written.
fn json_keys(text: &str) -> Vec<String> {
    let start = text.find('{').unwrap();
    let end = start + text[start..].find('}').unwrap();
    text[start + 1..end]
        .lines()
        .filter_map(|l| {
            l.trim()
                .strip_prefix('"')
                .and_then(|k| k.split_once('"'))
                .map(|(k, _)| k.to_string())
        })
        .collect()
}

#[test]
fn batch_json_holds_every_figure_and_the_report_tables_row_for_row() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("r");
    let input = case("messy");
    let out = stdout_of(
        windowpane()
            .args(["batch", "--format", "json", "--report"])
            .arg(&report)
            .arg(&input),
    );
    let doc: Value = serde_json::from_str(&out).unwrap();
    // the summary's keys, as summary.json has them and in its order, then tables
    let summary_text = fs::read_to_string(report.join("summary.json")).unwrap();
    let summary: Value = serde_json::from_str(&summary_text).unwrap();
    let top: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("  \""))
        .map(|l| l[3..].split('"').next().unwrap())
        .collect();
    let mut expected: Vec<&str> = summary_text
        .lines()
        .filter(|l| l.starts_with("  \""))
        .map(|l| l[3..].split('"').next().unwrap())
        .collect();
    expected.push("tables");
    assert_eq!(top, expected);
    for (key, value) in summary.as_object().unwrap() {
        assert_eq!(&doc[key], value, "{key}");
    }
    // each table: as many rows as its CSV file, with its columns
    for table in [
        "minute_counts",
        "hourly_counts",
        "totals",
        "hourly_average",
        "moving_average",
        "alerts",
    ] {
        let csv = fs::read_to_string(report.join("tables").join(format!("{table}.csv"))).unwrap();
        let mut lines = csv.lines();
        let header = lines.next().unwrap().to_string();
        let rows = doc["tables"][table].as_array().unwrap();
        assert_eq!(rows.len(), lines.count(), "{table}");
        // the keys in the CSV file's column order
        let first_row = out.find(&format!("\"{table}\": [")).unwrap();
        let keys = json_keys(&out[first_row..]);
        assert_eq!(keys.join(","), header, "{table}");
    }
    assert_eq!(doc["tables"]["rejected"].as_array().unwrap().len(), 126);
    assert_eq!(doc["tables"]["totals"][0]["total_count"], doc["totals"]["Close"]);
    // the same rows as NDJSON, each line tagged with its table
    let out = stdout_of(
        windowpane()
            .args(["batch", "--no-report", "--format", "ndjson"])
            .arg(&input),
    );
    let lines: Vec<Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines[0]["table"], "summary");
    assert!(
        out.lines().all(|l| l.starts_with("{\"table\":\"")),
        "the table key comes first"
    );
    assert_eq!(lines[0]["input"], doc["input"]);
    for (table, rows) in doc["tables"].as_object().unwrap() {
        let tagged: Vec<&Value> = lines.iter().filter(|l| l["table"] == table.as_str()).collect();
        assert_eq!(tagged.len(), rows.as_array().unwrap().len(), "{table}");
        let mut first = tagged[0].clone();
        first.as_object_mut().unwrap().remove("table");
        assert_eq!(&first, &rows[0], "{table}");
    }
    // summary alone is summary.json, byte for byte
    let out = stdout_of(
        windowpane()
            .args(["batch", "--no-report", "--format", "summary"])
            .arg(&input),
    );
    assert_eq!(out, fs::read_to_string(report.join("summary.json")).unwrap());
}

#[test]
fn several_sql_statements_print_one_json_document() {
    let input = case("seedlike");
    let out = stdout_of(
        windowpane()
            .args(["sql", "--format", "json"])
            .arg(&input)
            .arg("select count(*) as n from totals; select action from totals order by action"),
    );
    let doc: Value = serde_json::from_str(&out).expect("one JSON document");
    let results = doc.as_array().unwrap();
    assert_eq!(results.len(), 2);
    assert_eq!(results[0]["statement"], "select count(*) as n from totals");
    assert_eq!(results[0]["rows"], serde_json::json!([{"n": 2}]));
    assert_eq!(
        results[1]["rows"],
        serde_json::json!([{"action": "Close"}, {"action": "Open"}])
    );
    // one statement: its rows alone, as before
    let out = stdout_of(
        windowpane()
            .args(["sql", "--format", "json"])
            .arg(&input)
            .arg("select count(*) as n from totals;"),
    );
    assert_eq!(
        serde_json::from_str::<Value>(&out).unwrap(),
        serde_json::json!([{"n": 2}])
    );
    // ndjson: a line per row of every statement
    let out = stdout_of(
        windowpane()
            .args(["sql", "--format", "ndjson"])
            .arg(&input)
            .arg("select count(*) as n from totals; select action from totals order by action"),
    );
    let lines: Vec<Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(
        lines,
        vec![
            serde_json::json!({"n": 2}),
            serde_json::json!({"action": "Close"}),
            serde_json::json!({"action": "Open"})
        ]
    );
    // the keys keep the order of the columns asked for
    let out = stdout_of(
        windowpane()
            .args(["sql", "--format", "ndjson"])
            .arg(&input)
            .arg("select total_count, action from totals order by action limit 1"),
    );
    assert_eq!(out, "{\"total_count\":50000,\"action\":\"Close\"}\n");
    // the shipped example file runs, as the README shows
    let examples = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/queries.sql");
    let out = stdout_of(
        windowpane()
            .args(["sql", "--format", "json", "-f"])
            .arg(&examples)
            .arg(&input),
    );
    let doc: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc.as_array().unwrap().len(), 4);
}

#[test]
fn every_help_text_ends_with_the_exit_status() {
    windowpane()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("Exit status: 0 on success"));
    for sub in windowpane::cmd::man::SUBCOMMANDS {
        windowpane()
            .args(["help", sub])
            .assert()
            .success()
            .stdout(predicate::str::contains("Exit status: 0 on success"));
    }
    // the list of pages is every subcommand there is
    use clap::CommandFactory;
    let mut names: Vec<String> = windowpane::Cli::command()
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect();
    names.sort();
    let mut listed: Vec<String> = windowpane::cmd::man::SUBCOMMANDS
        .iter()
        .map(|s| s.to_string())
        .collect();
    listed.sort();
    assert_eq!(names, listed);
}

#[test]
fn the_version_names_the_commit() {
    let out = stdout_of(windowpane().arg("--version"));
    assert!(
        out.starts_with(&format!("windowpane {} (commit ", env!("CARGO_PKG_VERSION"))),
        "{out}"
    );
    // in a git checkout, the commit of HEAD at build time
    if let Ok(head) = std::process::Command::new("git")
        .args(["-C", env!("CARGO_MANIFEST_DIR"), "rev-parse", "--short=12", "HEAD"])
        .output()
    {
        let head = String::from_utf8_lossy(&head.stdout).trim().to_string();
        if head.len() == 12 {
            assert!(
                out.contains(&head),
                "{out} is not HEAD {head} (rebuild after committing)"
            );
        }
    }
}

#[test]
fn completions_load_in_bash_and_cover_every_shell() {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_windowpane"));
    let script = format!(
        "set -e; source <('{}' completions bash); complete -p windowpane",
        bin.display()
    );
    let out = std::process::Command::new("bash")
        .args(["-c", &script])
        .output()
        .unwrap();
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("windowpane"));
    // the script offers the subcommands and the options of batch
    let bash = stdout_of(windowpane().args(["completions", "bash"]));
    for word in [
        "batch",
        "stream",
        "sql",
        "generate",
        "completions",
        "--alert-threshold",
        "--format",
    ] {
        assert!(bash.contains(word), "{word}");
    }
    for shell in ["zsh", "fish", "elvish", "powershell"] {
        let text = stdout_of(windowpane().args(["completions", shell]));
        assert!(text.contains("alert-threshold"), "{shell}");
    }
    windowpane().args(["completions", "tcsh"]).assert().code(2);
}

#[test]
fn manual_pages_are_roff_and_man_reads_them() {
    let page = stdout_of(windowpane().arg("man"));
    assert!(page.starts_with(".ie") || page.contains(".TH windowpane 1"), "{page}");
    assert!(page.contains("windowpane\\-batch") || page.contains("batch"), "{page}");
    let sql = stdout_of(windowpane().args(["man", "sql"]));
    assert!(
        sql.contains(".TH sql 1") || sql.contains(".TH windowpane-sql 1") || sql.contains(".TH"),
        "{sql}"
    );
    assert!(sql.contains("max\\-rows"), "{sql}");
    windowpane().args(["man", "nothing"]).assert().code(2);
    // every page into a folder
    let dir = tempfile::tempdir().unwrap();
    windowpane()
        .args(["man", "--out-dir"])
        .arg(dir.path())
        .assert()
        .success();
    let mut pages: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    pages.sort();
    // a page per command, none for `help`
    assert_eq!(
        pages,
        [
            "windowpane-batch.1",
            "windowpane-completions.1",
            "windowpane-generate.1",
            "windowpane-man.1",
            "windowpane-sql.1",
            "windowpane-stream.1",
            "windowpane-update.1",
            "windowpane.1"
        ]
    );
    // the synopsis names each option's value; tables are not filled
    let sql = fs::read_to_string(dir.path().join("windowpane-sql.1")).unwrap();
    assert!(sql.contains("[\\fB\\-\\-format\\fR \\fIFORMAT\\fR]"), "{sql}");
    assert!(sql.contains(".nh\n") && sql.contains(".nf\n"), "{sql}");
    // in a man1 folder man does not search, the way to make it search it
    let man1 = dir.path().join("share/man/man1");
    if std::process::Command::new("manpath").output().is_ok() {
        let out = windowpane()
            .args(["man", "--out-dir"])
            .arg(&man1)
            .env("MANPATH", "/usr/share/man")
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(said.contains("export MANPATH="), "{said}");
        let root = dir.path().join("share/man").canonicalize().unwrap();
        let out = windowpane()
            .args(["man", "--out-dir"])
            .arg(&man1)
            .env("MANPATH", format!("{}:/usr/share/man", root.display()))
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(said.contains("man windowpane now shows them"), "{said}");
    }
    // `man -l` renders it, where man is installed
    let man = std::process::Command::new("man")
        .args(["-l"])
        .arg(dir.path().join("windowpane-batch.1"))
        .env("MANPAGER", "cat")
        .env("MANWIDTH", "80")
        .output();
    if let Ok(out) = man {
        if out.status.success() {
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(text.contains("alert-threshold"), "{text}");
        }
    }
}

#[test]
fn generate_append_continues_the_numbering_and_the_timeline() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    let b = dir.path().join("b");
    for out in [&a, &b] {
        windowpane()
            .arg("generate")
            .arg(out)
            .args(["--files", "3", "--events", "600"])
            .assert()
            .success();
        windowpane()
            .arg("generate")
            .arg(out)
            .args(["--files", "2", "--events", "200", "--append"])
            .assert()
            .success()
            .stderr(predicate::str::contains("file-3.json to file-4.json"));
    }
    // deterministic: the same folder and options add the same bytes
    for name in ["file-3.json", "file-4.json"] {
        assert_eq!(
            fs::read(a.join(name)).unwrap(),
            fs::read(b.join(name)).unwrap(),
            "{name}"
        );
    }
    let times = |name: &str| -> Vec<i64> {
        fs::read_to_string(a.join(name))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap()["time"].as_i64().unwrap())
            .collect()
    };
    let last_old = times("file-2.json").into_iter().max().unwrap();
    let new: Vec<i64> = [times("file-3.json"), times("file-4.json")].concat();
    assert_eq!(new.len(), 200);
    assert_eq!(
        new[0],
        last_old + 60,
        "the new dump starts a minute after the last event"
    );
    assert!(new.windows(2).all(|w| w[0] <= w[1]));
    // a new dump is not the old one again
    assert_ne!(
        fs::read(a.join("file-3.json")).unwrap(),
        fs::read(a.join("file-0.json")).unwrap()
    );
    // the folder then reads as 800 events
    let out = stdout_of(
        windowpane()
            .args(["batch", "--no-report", "--format", "summary"])
            .arg(&a),
    );
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["input"]["files"], 5);
    assert_eq!(v["input"]["events"], 800);
    // --append and --force do not go together; without either, a full folder is refused
    windowpane()
        .arg("generate")
        .arg(&a)
        .args(["--append", "--force"])
        .assert()
        .code(2);
    windowpane()
        .arg("generate")
        .arg(&a)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("--append"));
}

#[test]
fn generate_writes_each_file_aside_and_renames_it_into_place() {
    // a stream following the folder must never see a file under its own
    // name before it is whole: no file of an input name is created or
    // written to in place, each arrives by a rename
    use notify::event::{CreateKind, EventKind, ModifyKind, RenameMode};
    use notify::Watcher;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("dump");
    windowpane()
        .arg("generate")
        .arg(&out)
        .args(["--files", "1", "--events", "200"])
        .assert()
        .success()
        .stderr(predicate::str::contains("in 1 file to"));
    let (tx, rx) = std::sync::mpsc::channel();
    let mut watcher = notify::recommended_watcher(tx).unwrap();
    watcher.watch(&out, notify::RecursiveMode::NonRecursive).unwrap();
    windowpane()
        .arg("generate")
        .arg(&out)
        .args(["--files", "3", "--events", "30000", "--gzip-every", "2", "--append"])
        .assert()
        .success();
    std::thread::sleep(std::time::Duration::from_millis(300));
    drop(watcher);
    let mut renamed = Vec::new();
    for event in rx.try_iter() {
        let event = event.unwrap();
        for path in &event.paths {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            match event.kind {
                EventKind::Modify(ModifyKind::Name(RenameMode::To | RenameMode::Both)) => renamed.push(name),
                EventKind::Create(CreateKind::File | CreateKind::Any) | EventKind::Modify(ModifyKind::Data(_)) => {
                    panic!("{name} was written in place: {event:?}")
                }
                _ => {}
            }
        }
    }
    renamed.sort();
    renamed.dedup();
    assert_eq!(renamed, ["file-1.json.gz", "file-2.json", "file-3.json.gz"]);
    // nothing is left aside, and one file is not "files"
    let names: Vec<String> = fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.starts_with('.')), "{names:?}");
    windowpane()
        .arg("generate")
        .arg(&out)
        .args(["--files", "1", "--events", "100", "--append"])
        .assert()
        .success()
        .stderr(predicate::str::contains("in 1 file to").and(predicate::str::contains("(file-4.json, from")));
}
