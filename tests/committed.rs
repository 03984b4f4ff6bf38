//! What the repository ships stays true: `data/events` is the generator's
//! output with the defaults, and `docs/example-report` is the report of it
//! (what `batch` writes to `reports/events`, which git ignores).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// The time `docs/example-report/index.html` says it was made (2026-11-26).
const REPORT_TIME: &str = "1795651200";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

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
        &root().join("docs/example-report"),
        &format!(
            "run `SOURCE_DATE_EPOCH={REPORT_TIME} target/release/windowpane batch --report docs/example-report` \
             (the built binary: the variable given to cargo would rebuild the dependencies) and commit it"
        ),
    );
}
