//! The report folder never costs a user data: windowpane replaces only the
//! folders it marked as its own, refuses any other non-empty target, cleans
//! what killed runs left, and survives SIGKILL during the write.

use std::fs;
use std::path::{Path, PathBuf};

use crate::util::windowpane;
use predicates::prelude::*;

const MARKER: &str = ".windowpane-report";

fn small_input(dir: &Path) -> PathBuf {
    let input = dir.join("events");
    fs::create_dir_all(&input).unwrap();
    fs::write(
        input.join("a.json"),
        "{\"time\":60,\"action\":\"Open\"}\n{\"time\":61,\"action\":\"Close\"}\n{\"time\":3600,\"action\":\"Open\"}\n",
    )
    .unwrap();
    input
}

fn report_to(input: &Path, report: &Path) -> assert_cmd::assert::Assert {
    windowpane()
        .args(["batch", "--format", "json"])
        .arg(input)
        .arg("--report")
        .arg(report)
        .assert()
}

fn is_whole_report(dir: &Path) -> bool {
    [
        "summary.json",
        "index.html",
        "rejected.ndjson",
        MARKER,
        "tables/minute_counts.csv",
    ]
    .iter()
    .all(|f| dir.join(f).is_file())
}

fn leftovers(parent: &Path, name: &str) -> Vec<String> {
    let tmp = format!(".{name}.tmp-");
    let old = format!(".{name}.old-");
    fs::read_dir(parent)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(&tmp) || n.starts_with(&old))
        .collect()
}

/// The id of a process that has ended.
fn dead_pid() -> u32 {
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    pid
}

#[test]
fn a_report_folder_is_marked_and_replaced_on_the_next_run() {
    let dir = tempfile::tempdir().unwrap();
    let input = small_input(dir.path());
    let report = dir.path().join("r");
    report_to(&input, &report).success();
    assert!(is_whole_report(&report));
    let marker = fs::read_to_string(report.join(MARKER)).unwrap();
    assert!(marker.lines().any(|l| l == "summary.json"), "{marker}");
    assert!(marker.lines().any(|l| l == "tables/"), "{marker}");
    // an empty folder is taken too
    let empty = dir.path().join("empty");
    fs::create_dir(&empty).unwrap();
    report_to(&input, &empty).success();
    assert!(is_whole_report(&empty));
    // and a report is replaced by the next
    fs::write(input.join("b.json"), "{\"time\":7200,\"action\":\"Open\"}\n").unwrap();
    let out = report_to(&input, &report).success().get_output().stdout.clone();
    let summary: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(summary["input"]["events"], 4);
    let written: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(report.join("summary.json")).unwrap()).unwrap();
    assert_eq!(written["input"]["events"], 4);
    assert!(leftovers(dir.path(), "r").is_empty());
}

#[test]
fn files_a_user_adds_to_a_report_folder_are_never_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let input = small_input(dir.path());
    let report = dir.path().join("r");
    report_to(&input, &report).success();
    fs::write(report.join("notes.md"), "my notes").unwrap();
    fs::write(report.join("tables/mine.csv"), "a,b").unwrap();
    // a name like windowpane's temporary folders, but not windowpane's
    let lookalike = report.join(format!(".windowpane-tmp-{}", dead_pid()));
    fs::create_dir(&lookalike).unwrap();
    fs::write(lookalike.join("precious.txt"), "keep").unwrap();
    report_to(&input, &report)
        .code(1)
        .stderr(predicate::str::contains("refusing to replace the report folder"))
        .stderr(predicate::str::contains("notes.md"))
        .stderr(predicate::str::contains("tables/mine.csv"))
        .stderr(predicate::str::contains(
            "move them out of it, or choose another --report folder",
        ));
    assert_eq!(fs::read_to_string(report.join("notes.md")).unwrap(), "my notes");
    assert_eq!(fs::read_to_string(report.join("tables/mine.csv")).unwrap(), "a,b");
    assert!(lookalike.join("precious.txt").is_file());
    assert!(is_whole_report(&report));
}

#[test]
fn an_input_folder_inside_the_report_folder_is_never_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("r");
    let input = small_input(&report);
    // the first run: the folder holds only the input, no marker
    report_to(&input, &report)
        .code(1)
        .stderr(predicate::str::contains("is not a report folder windowpane made"));
    assert!(input.join("a.json").is_file());
    // a marked report folder into which the input was moved afterwards
    let other = dir.path().join("r2");
    report_to(&input, &other).success();
    let moved = other.join("events");
    fs::rename(&input, &moved).unwrap();
    report_to(&moved, &other)
        .code(1)
        .stderr(predicate::str::contains("events/"));
    assert!(moved.join("a.json").is_file());
}

#[test]
fn a_project_folder_holding_a_summary_json_is_not_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let input = small_input(dir.path());
    let project = dir.path().join("project");
    fs::create_dir_all(project.join("src")).unwrap();
    fs::write(project.join("src/main.rs"), "fn main() {}").unwrap();
    fs::write(project.join("README"), "read me").unwrap();
    fs::write(project.join("summary.json"), "{}").unwrap();
    report_to(&input, &project)
        .code(1)
        .stderr(predicate::str::contains("refusing to replace"))
        .stderr(predicate::str::contains("older windowpane"));
    assert!(project.join("src/main.rs").is_file());
    assert!(project.join("README").is_file());
    assert_eq!(fs::read_to_string(project.join("summary.json")).unwrap(), "{}");
}

#[test]
fn stale_temporary_folders_of_dead_runs_are_removed_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let input = small_input(dir.path());
    let report = dir.path().join("r");
    report_to(&input, &report).success();
    let dead = dead_pid();
    let stale_tmp = dir.path().join(format!(".r.tmp-{dead}"));
    let stale_old = dir.path().join(format!(".r.old-{dead}"));
    let stale_empty = dir.path().join(format!(".r.tmp-{}", dead_pid()));
    for d in [&stale_tmp, &stale_old] {
        fs::create_dir(d).unwrap();
        fs::write(d.join(MARKER), "").unwrap();
        fs::write(d.join("summary.json"), "{}").unwrap();
    }
    fs::create_dir(&stale_empty).unwrap();
    // not windowpane's: no marker
    let foreign = dir.path().join(format!(".r.tmp-{}", dead_pid()));
    fs::create_dir(&foreign).unwrap();
    fs::write(foreign.join("precious.txt"), "keep").unwrap();
    // a run that is still going (waiting for standard input)
    let mut running = std::process::Command::new(assert_cmd::cargo::cargo_bin("windowpane"))
        .args(["batch", "-", "--no-report"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let live = dir.path().join(format!(".r.tmp-{}", running.id()));
    fs::create_dir(&live).unwrap();
    fs::write(live.join(MARKER), "").unwrap();
    report_to(&input, &report).success();
    assert!(!stale_tmp.exists() && !stale_old.exists() && !stale_empty.exists());
    assert!(foreign.join("precious.txt").is_file());
    assert!(live.exists());
    assert!(is_whole_report(&report));
    running.kill().unwrap();
    running.wait().unwrap();
}

#[test]
fn the_current_folder_as_report_is_written_inside() {
    let dir = tempfile::tempdir().unwrap();
    let input = small_input(dir.path());
    let here = dir.path().join("here");
    fs::create_dir(&here).unwrap();
    for _ in 0..2 {
        windowpane()
            .current_dir(&here)
            .args(["batch", "--report", "."])
            .arg(&input)
            .assert()
            .success();
        assert!(is_whole_report(&here));
        let names: Vec<String> = fs::read_dir(&here)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(!names.iter().any(|n| n.contains("tmp")), "{names:?}");
    }
    assert!(leftovers(dir.path(), "here").is_empty());
    // a file of the user's in it: refused, kept
    fs::write(here.join("mine.txt"), "mine").unwrap();
    windowpane()
        .current_dir(&here)
        .args(["batch", "--report", "."])
        .arg(&input)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("mine.txt"));
    assert!(here.join("mine.txt").is_file());
    // a non-empty folder windowpane did not make: refused
    let project = dir.path().join("project");
    fs::create_dir(&project).unwrap();
    fs::write(project.join("Cargo.toml"), "").unwrap();
    windowpane()
        .current_dir(&project)
        .args(["batch", "--report", "."])
        .arg(&input)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("not a report folder windowpane made"));
    assert!(project.join("Cargo.toml").is_file());
}

#[cfg(unix)]
#[test]
fn a_linked_report_folder_is_followed_not_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let input = small_input(dir.path());
    let target = dir.path().join("elsewhere");
    fs::create_dir(&target).unwrap();
    let link = dir.path().join("link");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    for _ in 0..2 {
        report_to(&input, &link).success();
        assert!(fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        assert!(is_whole_report(&target));
    }
}

/// SIGKILL during the report write, again and again: at every moment a
/// whole report is in place (or, between the two renames, beside it), and
/// the next run leaves no temporary folder and a whole report with the
/// figures of a clean run.
#[cfg(unix)]
#[test]
fn kills_during_the_report_write_leave_nothing_behind_after_the_next_run() {
    kills_during_the_report_write(&["batch"]);
}

#[test]
fn kills_of_a_stream_during_its_report_write_leave_nothing_behind() {
    // every file is taken by the first run; later runs only write the report
    kills_during_the_report_write(&["stream", "-q", "--checkpoint", "ck"]);
}

/// Kills `windowpane ARGS INPUT --report r` 30 times, mostly while it
/// writes the report, then checks that the next run leaves a whole report,
/// the tables of a clean batch, and no temporary folder.
fn kills_during_the_report_write(args: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    // a long span makes big tables and charts: the write takes most of a run
    let input = dir.path().join("events");
    windowpane()
        .args(["generate", "--events", "200000", "--rate", "300", "--files", "10"])
        .arg(&input)
        .assert()
        .success();
    let clean = dir.path().join("clean");
    report_to(&input, &clean).success();
    let report = dir.path().join("r");
    let run = || {
        std::process::Command::new(assert_cmd::cargo::cargo_bin("windowpane"))
            .current_dir(dir.path())
            .args(args)
            .arg(&input)
            .arg("--report")
            .arg(&report)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    // how long one run takes here, to spread the kills over it
    let started = std::time::Instant::now();
    assert!(run().wait().unwrap().success());
    let full = started.elapsed().as_millis().max(20) as u64;
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut interrupted = 0;
    for _ in 0..30 {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        // mostly late in the run, where the report is written
        let delay = full / 3 + (seed >> 33) % (full * 2 / 3 + 1);
        let mut child = run();
        std::thread::sleep(std::time::Duration::from_millis(delay));
        let _ = child.kill();
        let _ = child.wait();
        let left = leftovers(dir.path(), "r");
        // each run removes what the killed runs before it left
        assert!(left.len() <= 2, "{left:?}");
        interrupted += usize::from(!left.is_empty());
        let whole_beside = left
            .iter()
            .any(|n| n.contains(".old-") && is_whole_report(&dir.path().join(n)));
        assert!(is_whole_report(&report) || whole_beside, "{left:?}");
    }
    eprintln!("{interrupted} of 30 kills left a temporary folder");
    assert!(run().wait().unwrap().success());
    assert_eq!(leftovers(dir.path(), "r"), Vec::<String>::new());
    assert!(is_whole_report(&report));
    for table in ["minute_counts.csv", "hourly_counts.csv", "totals.csv", "alerts.csv"] {
        assert_eq!(
            fs::read_to_string(report.join("tables").join(table)).unwrap(),
            fs::read_to_string(clean.join("tables").join(table)).unwrap(),
            "{table}"
        );
    }
}

#[test]
fn a_report_folder_made_read_only_is_kept_as_it_is() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let input = small_input(d);
    let report = d.join("r");
    windowpane()
        .args(["batch", "--report"])
        .arg(&report)
        .arg(&input)
        .assert()
        .success();
    let before = fs::read(report.join("summary.json")).unwrap();
    fs::set_permissions(&report, fs::Permissions::from_mode(0o555)).unwrap();
    windowpane()
        .args(["batch", "--alert-threshold", "1", "--report"])
        .arg(&report)
        .arg(&input)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("it is read-only"));
    fs::set_permissions(&report, fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(fs::read(report.join("summary.json")).unwrap(), before);
    // nothing left aside
    let names: Vec<String> = fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.starts_with(".r.")), "{names:?}");
}
