//! `windowpane update`: a rerun on a new dump reads only the new files and
//! writes the report batch would write from scratch.

use std::fs;
use std::path::Path;
use std::process::Command;

fn windowpane(args: &[&str], dir: &Path) -> String {
    let out = Command::new(assert_cmd::cargo::cargo_bin("windowpane"))
        .args(args)
        .env("SOURCE_DATE_EPOCH", "1795651200")
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Every file of a report folder but the page (which names its command).
fn tables(report: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for sub in ["", "tables"] {
        for e in fs::read_dir(report.join(sub)).unwrap() {
            let p = e.unwrap().path();
            if p.is_file()
                && p.extension()
                    .is_some_and(|x| x == "csv" || x == "json" || x == "ndjson")
            {
                out.push((
                    p.file_name().unwrap().to_string_lossy().into_owned(),
                    fs::read(&p).unwrap(),
                ));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn a_rerun_reads_only_the_new_dump_and_writes_the_batch_report() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    windowpane(
        &[
            "generate",
            "dumps",
            "--files",
            "6",
            "--events",
            "6000",
            "--bad-lines",
            "3",
        ],
        d,
    );
    let first = windowpane(&["update", "dumps"], d);
    assert!(
        first.starts_with("windowpane update: dumps (6 new files, 0 read before)"),
        "{first}"
    );
    // the checkpoint is beside the report, hidden, and says git should ignore it
    let ck = d.join("reports/.dumps.checkpoint");
    assert!(fs::read_to_string(ck.join(".gitignore")).unwrap().contains('*'));
    windowpane(
        &["generate", "dumps", "--append", "--files", "2", "--events", "2000"],
        d,
    );
    let second = windowpane(&["update", "dumps"], d);
    assert!(
        second.starts_with("windowpane update: dumps (2 new files, 6 read before)"),
        "{second}"
    );
    let nothing = windowpane(&["update", "dumps", "--no-report"], d);
    assert!(
        nothing.starts_with("windowpane update: dumps (0 new files, 8 read before)"),
        "{nothing}"
    );
    // batch from scratch over all eight files: the same report, byte for byte
    windowpane(&["batch", "dumps", "--report", "batch-report"], d);
    let (updated, batch) = (tables(&d.join("reports/dumps")), tables(&d.join("batch-report")));
    assert!(
        updated.len() >= 8,
        "{:?}",
        updated.iter().map(|t| &t.0).collect::<Vec<_>>()
    );
    assert_eq!(
        updated.iter().map(|t| &t.0).collect::<Vec<_>>(),
        batch.iter().map(|t| &t.0).collect::<Vec<_>>()
    );
    for ((name, a), (_, b)) in updated.iter().zip(&batch) {
        assert!(a == b, "{name} differs between update and batch");
    }
    // the tables printed are batch's too, but for the heading
    let printed = windowpane(&["batch", "dumps", "--no-report"], d);
    assert_eq!(
        nothing.lines().skip(1).collect::<Vec<_>>(),
        printed.lines().skip(1).collect::<Vec<_>>()
    );
}

#[test]
fn rebuild_removes_only_a_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    windowpane(&["generate", "dumps", "--files", "2", "--events", "200"], d);
    // with a report, the checkpoint also keeps what the next report reuses
    windowpane(&["update", "dumps"], d);
    for kept in ["report.idx", "digest.idx"] {
        assert!(d.join("reports/.dumps.checkpoint").join(kept).is_file(), "{kept}");
    }
    let again = windowpane(&["update", "dumps", "--rebuild"], d);
    assert!(
        again.starts_with("windowpane update: dumps (2 new files, 0 read before)"),
        "{again}"
    );
    // a folder that is not a checkpoint is never removed
    fs::create_dir(d.join("mine")).unwrap();
    fs::write(d.join("mine/notes.txt"), "keep me").unwrap();
    let out = Command::new(assert_cmd::cargo::cargo_bin("windowpane"))
        .args(["update", "dumps", "--no-report", "--rebuild", "--checkpoint", "mine"])
        .current_dir(d)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not look like a windowpane checkpoint"));
    assert_eq!(fs::read_to_string(d.join("mine/notes.txt")).unwrap(), "keep me");
}

#[test]
fn rebuild_refuses_a_checkpoint_another_process_holds_and_removes_nothing() {
    // a running stream holds the checkpoint: --rebuild must not empty it
    // under the stream's feet (it used to remove the folder, then lock a
    // new one, and both processes wrote into it)
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    windowpane(&["generate", "dumps", "--files", "2", "--events", "200"], d);
    let mut follower = Command::new(assert_cmd::cargo::cargo_bin("windowpane"))
        .args([
            "stream",
            "dumps",
            "--follow",
            "--no-report",
            "--quiet",
            "--checkpoint",
            "ck",
        ])
        .current_dir(d)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let committed = |d: &Path| d.join("ck/delta/2").is_file() || d.join("ck/snapshot/2").is_file();
    let start = std::time::Instant::now();
    while !committed(d) && start.elapsed() < std::time::Duration::from_secs(60) {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(committed(d), "the stream committed no second trigger");
    let before: Vec<_> = ["metadata.json", "triggers.ndjson"]
        .iter()
        .map(|f| fs::read(d.join("ck").join(f)).unwrap())
        .collect();
    let out = Command::new(assert_cmd::cargo::cargo_bin("windowpane"))
        .args(["update", "dumps", "--no-report", "--rebuild", "--checkpoint", "ck"])
        .current_dir(d)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("in use by another windowpane"), "{err}");
    let after: Vec<_> = ["metadata.json", "triggers.ndjson"]
        .iter()
        .map(|f| fs::read(d.join("ck").join(f)).unwrap())
        .collect();
    assert_eq!(before, after, "the held checkpoint was changed");
    assert!(committed(d), "the held checkpoint lost its commits");
    follower.kill().unwrap();
    follower.wait().unwrap();
    // once let go, --rebuild starts it over and reads every file again
    let again = windowpane(
        &["update", "dumps", "--no-report", "--rebuild", "--checkpoint", "ck"],
        d,
    );
    assert!(again.contains("(2 new files, 0 read before)"), "{again}");
}

#[test]
fn a_checkpoint_inside_the_report_folder_is_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    windowpane(&["generate", "dumps", "--files", "2", "--events", "200"], d);
    for cmd in ["update", "stream"] {
        let out = Command::new(assert_cmd::cargo::cargo_bin("windowpane"))
            .args([cmd, "dumps", "--report", "r", "--checkpoint", "r/ck"])
            .current_dir(d)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{cmd}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("is inside the report folder r"), "{cmd}: {stderr}");
        assert!(!d.join("r").exists(), "{cmd} wrote before refusing");
    }
}

/// Two dumps in `d/dumps`, each taken by `update`: the second holds as
/// many new rows as there were, so the state doubles and a new snapshot
/// (`snapshot/2`) holds the loaded chunks as they were, and the new ones.
fn two_dumps_and_a_second_snapshot(d: &Path) {
    windowpane(&["generate", "dumps", "--files", "6", "--events", "30000"], d);
    windowpane(&["update", "dumps", "--no-report"], d);
    windowpane(
        &["generate", "dumps", "--append", "--files", "6", "--events", "90000"],
        d,
    );
    windowpane(&["update", "dumps", "--no-report"], d);
}

#[test]
fn snapshots_loaded_in_part_and_saved_again_give_the_batch_report() {
    // A snapshot's chunks are read only when a run needs them, and a chunk
    // not changed since is saved again as its bytes: load, change old and
    // new minutes, save, load again, and the report is still batch's.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    two_dumps_and_a_second_snapshot(d);
    let snapshots: Vec<String> = fs::read_dir(d.join("reports/.dumps.checkpoint/snapshot"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(snapshots.contains(&"2".to_string()), "{snapshots:?}");
    // late data: the first file's minutes again, in chunks saved twice
    fs::copy(d.join("dumps/file-0.json"), d.join("dumps/late-0.json")).unwrap();
    windowpane(&["update", "dumps", "--no-report"], d);
    let printed = windowpane(&["update", "dumps"], d);
    assert!(printed.contains("(0 new files, 13 read before)"), "{printed}");
    windowpane(&["batch", "dumps", "--report", "batch-report"], d);
    let (updated, batch) = (tables(&d.join("reports/dumps")), tables(&d.join("batch-report")));
    assert_eq!(updated.len(), batch.len());
    for ((name, a), (_, b)) in updated.iter().zip(&batch) {
        assert!(a == b, "{name} differs between update and batch");
    }
}

#[test]
fn a_checkpoint_of_another_format_is_refused_and_rebuild_starts_over() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    windowpane(&["generate", "dumps", "--files", "2", "--events", "200"], d);
    windowpane(&["update", "dumps", "--no-report"], d);
    // as an older release would have left it
    let meta = d.join("reports/.dumps.checkpoint/metadata.json");
    let text = fs::read_to_string(&meta).unwrap();
    let older = text.replace(&format!("\"format\": {}", windowpane::codec::FORMAT), "\"format\": 2");
    assert_ne!(older, text);
    fs::write(&meta, older).unwrap();
    let out = Command::new(assert_cmd::cargo::cargo_bin("windowpane"))
        .args(["update", "dumps", "--no-report"])
        .current_dir(d)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("written by another version of windowpane") && err.contains("update --rebuild"),
        "{err}"
    );
    let again = windowpane(&["update", "dumps", "--no-report", "--rebuild"], d);
    assert!(again.contains("(2 new files, 0 read before)"), "{again}");
}

#[test]
fn reports_brought_up_to_date_are_the_batch_reports() {
    // update writes the long tables in blocks and copies, from the report
    // before, the blocks of the hours no new file touched: after a new
    // dump, late data, a new action and other options, every table is
    // still batch's, byte for byte
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let same_as_batch = |options: &[&str], step: &str| {
        let mut args = vec!["batch", "dumps", "--report", "batch-report"];
        args.extend_from_slice(options);
        windowpane(&args, d);
        let (updated, batch) = (tables(&d.join("reports/dumps")), tables(&d.join("batch-report")));
        assert_eq!(updated.len(), batch.len(), "{step}");
        for ((name, a), (_, b)) in updated.iter().zip(&batch) {
            assert!(a == b, "{name} differs between update and batch after {step}");
        }
        // the page (made at the same time) and the charts too
        for file in [
            "index.html",
            "charts/minute_counts.png",
            "charts/recent_minutes.png",
            "charts/alert_difference.png",
        ] {
            let (a, b) = (d.join("reports/dumps").join(file), d.join("batch-report").join(file));
            assert!(
                fs::read(&a).unwrap() == fs::read(&b).unwrap(),
                "{file} differs between update and batch after {step}"
            );
        }
    };
    // 100 hours: both long tables of several blocks
    windowpane(
        &["generate", "dumps", "--files", "6", "--events", "60000", "--rate", "10"],
        d,
    );
    windowpane(&["update", "dumps"], d);
    assert!(d.join("reports/.dumps.checkpoint/report.idx").is_file());
    same_as_batch(&[], "the first update");
    windowpane(
        &["generate", "dumps", "--append", "--files", "2", "--events", "20000"],
        d,
    );
    let inodes = || -> Vec<u64> {
        use std::os::unix::fs::MetadataExt;
        ["minute_counts.csv", "moving_average.csv"]
            .iter()
            .map(|t| fs::metadata(d.join("reports/dumps/tables").join(t)).unwrap().ino())
            .collect()
    };
    let before = inodes();
    windowpane(&["update", "dumps"], d);
    same_as_batch(&[], "a new dump");
    // later data: the long tables were extended in place, not copied
    assert_eq!(inodes(), before, "the long tables after a new dump");
    let before = inodes();
    fs::copy(d.join("dumps/file-1.json"), d.join("dumps/late-1.json")).unwrap();
    windowpane(&["update", "dumps"], d);
    same_as_batch(&[], "late data");
    // rows changed in the middle: new files, the old ones only read
    assert!(inodes().iter().zip(&before).all(|(a, b)| a != b));
    windowpane(
        &[
            "generate",
            "dumps",
            "--append",
            "--files",
            "1",
            "--events",
            "3000",
            "--extra-action",
            "Zoom",
        ],
        d,
    );
    windowpane(&["update", "dumps"], d);
    same_as_batch(&[], "a new action");
    windowpane(&["update", "dumps", "--moving-window", "45m"], d);
    same_as_batch(&["--moving-window", "45m"], "another moving window");
}

#[test]
fn a_kept_chart_digest_that_does_not_add_up_to_the_state_is_not_used() {
    // a commit number can come back with other data (a checkpoint put back
    // from a copy, then another dump): the digest kept for that number must
    // not draw the charts of the data before
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ck = d.join("reports/.dumps.checkpoint");
    let copy_dir = |from: &Path, to: &Path| {
        fs::create_dir_all(to).unwrap();
        for e in fs::read_dir(from).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                for f in fs::read_dir(&p).unwrap() {
                    let f = f.unwrap().path();
                    let sub = to.join(p.file_name().unwrap());
                    fs::create_dir_all(&sub).unwrap();
                    fs::copy(&f, sub.join(f.file_name().unwrap())).unwrap();
                }
            } else {
                fs::copy(&p, to.join(p.file_name().unwrap())).unwrap();
            }
        }
    };
    windowpane(&["generate", "dumps", "--files", "4", "--events", "40000"], d);
    windowpane(&["update", "dumps"], d);
    copy_dir(&ck, &d.join("saved"));
    windowpane(
        &["generate", "dumps", "--append", "--files", "1", "--events", "9000"],
        d,
    );
    windowpane(&["update", "dumps"], d);
    let stale = fs::read(ck.join("digest.idx")).unwrap();
    // the checkpoint put back, another dump in the same file, the digest of
    // the first one left in place
    fs::remove_dir_all(&ck).unwrap();
    copy_dir(&d.join("saved"), &ck);
    fs::write(ck.join("digest.idx"), stale).unwrap();
    fs::remove_file(d.join("dumps/file-4.json")).unwrap();
    windowpane(
        &["generate", "dumps", "--append", "--files", "1", "--events", "3000"],
        d,
    );
    windowpane(&["update", "dumps"], d);
    windowpane(&["batch", "dumps", "--report", "batch-report"], d);
    for file in ["index.html", "charts/minute_counts.png", "charts/alert_difference.png"] {
        let (a, b) = (d.join("reports/dumps").join(file), d.join("batch-report").join(file));
        assert!(
            fs::read(&a).unwrap() == fs::read(&b).unwrap(),
            "{file} differs between update and batch"
        );
    }
}

#[test]
fn a_damaged_snapshot_is_left_for_the_one_before_and_the_report_is_still_batchs() {
    // The newest snapshot is checked on a thread of its own while it is
    // decoded: with a damaged byte anywhere, even among the counts it
    // starts with, the run names the checksum, takes the snapshot before
    // and still writes batch's report (that nothing of the damaged one
    // reaches the state is the unit test in src/engine/stream.rs).
    for at in [6usize, 0] {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        two_dumps_and_a_second_snapshot(d);
        let snapshot = d.join("reports/.dumps.checkpoint/snapshot/2");
        let mut bytes = fs::read(&snapshot).unwrap();
        // a byte of the header's counts, or one in the middle
        let at = if at == 0 { bytes.len() / 2 } else { at };
        bytes[at] ^= 0x5a;
        fs::write(&snapshot, bytes).unwrap();
        let out = Command::new(assert_cmd::cargo::cargo_bin("windowpane"))
            .args(["update", "dumps"])
            .env("SOURCE_DATE_EPOCH", "1795651200")
            .current_dir(d)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{err}");
        assert!(err.contains("cannot be used") && err.contains("checksum"), "{err}");
        windowpane(&["batch", "dumps", "--report", "batch-report"], d);
        let (updated, batch) = (tables(&d.join("reports/dumps")), tables(&d.join("batch-report")));
        assert_eq!(updated.len(), batch.len());
        for ((name, a), (_, b)) in updated.iter().zip(&batch) {
            assert!(a == b, "byte {at}: {name} differs between update and batch");
        }
    }
}

/// The sum of the `count` column of a report's `minute_counts.csv`, and the
/// events its `summary.json` counts.
fn counted(report: &Path) -> (u64, u64) {
    let table = fs::read_to_string(report.join("tables/minute_counts.csv")).unwrap();
    let sum = table
        .lines()
        .skip(1)
        .map(|l| l.rsplit(',').next().unwrap().parse::<u64>().unwrap())
        .sum();
    let summary: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(report.join("summary.json")).unwrap()).unwrap();
    (sum, summary["input"]["events"].as_u64().unwrap())
}

#[test]
fn updates_killed_while_they_extend_the_report_leave_it_whole() {
    // each run brings a new dump and is killed at a random moment, mostly
    // while it writes the report: the report in place (or, between the
    // two renames, beside it) always adds up, and the next run that ends
    // writes batch's report
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    windowpane(
        &[
            "generate", "dumps", "--files", "4", "--events", "200000", "--rate", "20",
        ],
        d,
    );
    windowpane(&["update", "dumps"], d);
    let run = || {
        Command::new(assert_cmd::cargo::cargo_bin("windowpane"))
            .args(["update", "dumps"])
            .current_dir(d)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    let append = || {
        windowpane(
            &["generate", "dumps", "--append", "--files", "1", "--events", "20000"],
            d,
        )
    };
    append();
    let started = std::time::Instant::now();
    assert!(run().wait().unwrap().success());
    let full = started.elapsed().as_millis().max(20) as u64;
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    for _ in 0..16 {
        append();
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let delay = full / 4 + seed % (full * 3 / 4 + 1);
        let mut child = run();
        std::thread::sleep(std::time::Duration::from_millis(delay));
        let _ = child.kill();
        let _ = child.wait();
        let report = d.join("reports/dumps");
        let beside: Vec<_> = fs::read_dir(d.join("reports"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(".dumps.old-"))
            .collect();
        let shown = if report.join("summary.json").is_file() {
            report
        } else {
            assert_eq!(beside.len(), 1, "no report in place and none beside");
            // the next run rolls it back first: as it is, it may hold a
            // table extended past its summary
            continue;
        };
        let (sum, events) = counted(&shown);
        assert_eq!(sum, events, "the report in place does not add up");
    }
    assert!(run().wait().unwrap().success());
    let (sum, events) = counted(&d.join("reports/dumps"));
    assert_eq!(sum, events);
    // what killed runs left is gone
    let left: Vec<_> = fs::read_dir(d.join("reports"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".dumps.old-") || n.starts_with(".dumps.tmp-"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    windowpane(&["batch", "dumps", "--report", "batch-report"], d);
    let (updated, batch) = (tables(&d.join("reports/dumps")), tables(&d.join("batch-report")));
    assert_eq!(updated.len(), batch.len());
    for ((name, a), (_, b)) in updated.iter().zip(&batch) {
        assert!(a == b, "{name} differs between update and batch");
    }
}

#[test]
fn alerts_of_new_options_stay_right_when_no_file_is_new() {
    // another threshold computes the alerts again; a later run with the
    // same options and nothing new loads them as they were saved, not the
    // older threshold's
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    windowpane(&["generate", "dumps", "--files", "3", "--events", "6000"], d);
    let alerts =
        |out: &str| -> serde_json::Value { serde_json::from_str::<serde_json::Value>(out).unwrap()["alerts"].clone() };
    let want = alerts(&windowpane(
        &[
            "batch",
            "dumps",
            "--no-report",
            "--format",
            "summary",
            "--alert-threshold",
            "5",
        ],
        d,
    ));
    let default = alerts(&windowpane(
        &["batch", "dumps", "--no-report", "--format", "summary"],
        d,
    ));
    assert_ne!(
        want, default,
        "the thresholds give the same alerts: the test sees nothing"
    );
    windowpane(&["update", "dumps", "--no-report", "--format", "summary"], d);
    for _ in 0..2 {
        let got = windowpane(
            &[
                "update",
                "dumps",
                "--no-report",
                "--format",
                "summary",
                "--alert-threshold",
                "5",
            ],
            d,
        );
        assert_eq!(alerts(&got), want);
    }
    // and a reader of the checkpoint sees them too
    let out = windowpane(
        &[
            "sql",
            "--checkpoint",
            "reports/.dumps.checkpoint",
            "--alert-threshold",
            "5",
            "--format",
            "csv",
            "select count(*) as n from alerts",
        ],
        d,
    );
    assert_eq!(out.lines().nth(1).unwrap(), want.to_string());
}
