//! What the repository ships stays true: `data/events` is the generator's
//! output with the defaults, and `reports/example` is the report of it
//! (what `batch` writes to `reports/events`, which git ignores).

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use crate::util::root;
use assert_cmd::Command;

/// The time `reports/example/index.html` says it was made (2026-11-26).
const REPORT_TIME: &str = "1795651200";

/// Every file below `dir`, by relative path.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
                out.insert(rel, fs::read(&p).unwrap());
            }
        }
    }
    out
}

fn assert_same_tree(fresh: &Path, committed: &Path, fix: &str) {
    let (fresh, committed_files) = (tree(fresh), tree(committed));
    let names = |t: &BTreeMap<String, Vec<u8>>| t.keys().cloned().collect::<Vec<_>>();
    assert_eq!(
        names(&fresh),
        names(&committed_files),
        "{} is out of date: {fix}",
        committed.display()
    );
    for (name, bytes) in &fresh {
        assert!(
            bytes == &committed_files[name],
            "{}/{name} is out of date: {fix}",
            committed.display()
        );
    }
}

#[test]
fn data_events_is_the_generators_default_output() {
    let out = tempfile::tempdir().unwrap();
    let events = out.path().join("events");
    Command::cargo_bin("windowpane")
        .unwrap()
        .arg("generate")
        .arg(&events)
        .assert()
        .success();
    assert_same_tree(
        &events,
        &root().join("data/events"),
        "run `cargo run --release -- generate data/events --force`",
    );
}

#[test]
fn the_example_report_is_the_report_of_data_events() {
    let out = tempfile::tempdir().unwrap();
    let report = out.path().join("events");
    Command::cargo_bin("windowpane")
        .unwrap()
        .current_dir(root())
        // the page says when it was made: a fixed time makes it reproducible
        .env("SOURCE_DATE_EPOCH", REPORT_TIME)
        .args(["batch", "data/events", "--report"])
        .arg(&report)
        .assert()
        .success();
    assert_same_tree(
        &report,
        &root().join("reports/example"),
        &format!(
            "make it again with the commands in reports/README.md (SOURCE_DATE_EPOCH={REPORT_TIME}) and commit it"
        ),
    );
}

#[test]
fn the_top_level_is_the_designs_and_only_the_example_report_is_committed() {
    for entry in [
        "Cargo.toml",
        "README.md",
        "src",
        "reports",
        "tests",
        "data",
        "notebooks-equivalent",
    ] {
        assert!(root().join(entry).exists(), "{entry} is missing at the top level");
    }
    // the folder says how its report was made, with the time the test uses
    let readme = fs::read_to_string(root().join("reports/README.md")).unwrap();
    assert!(readme.contains(&format!("SOURCE_DATE_EPOCH={REPORT_TIME}")), "{readme}");
    assert!(readme.contains("--report reports/example"), "{readme}");
    // the reports users make (and their checkpoints) stay out of git
    let ignored = |path: &str| {
        std::process::Command::new("git")
            .args(["check-ignore", "-q", "--no-index", path])
            .current_dir(root())
            .status()
            .ok()
            .and_then(|s| s.code())
    };
    if ignored("reports/README.md").is_none() {
        eprintln!("skipped the .gitignore checks: git cannot be run here");
        return;
    }
    for path in [
        "reports/events/index.html",
        "reports/.events.checkpoint/lock",
        "reports/mine/x.csv",
    ] {
        assert_eq!(ignored(path), Some(0), "{path} is not ignored");
    }
    for path in [
        "reports/README.md",
        "reports/example/index.html",
        "reports/example/tables/totals.csv",
    ] {
        assert_eq!(ignored(path), Some(1), "{path} is ignored");
    }
}
