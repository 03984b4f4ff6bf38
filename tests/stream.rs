//! Streaming ends with exactly the batch figures, whatever the split of the
//! input into files, the files per trigger, and the crashes on the way.

use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use proptest::prelude::*;
use windowpane::engine::stream::{AlertChange, OutputMode, Stream, StreamOptions};
use windowpane::metrics::{self, Figures, Options};
use windowpane::source::FileOrder;
use windowpane::state::MinuteCounts;

/// 2016-07-26T02:00:00Z.
const H: i64 = 1_469_498_400;

fn options(max_files: usize, mode: OutputMode) -> StreamOptions {
    StreamOptions {
        figures: Options::default(),
        max_files_per_trigger: max_files,
        order: FileOrder::Name,
        mode,
        watermark_minutes: 10,
        threads: 2,
        read: Default::default(),
    }
}

fn write_files(dir: &Path, files: &[Vec<(i64, &str)>]) {
    for (i, events) in files.iter().enumerate() {
        let body: String = events
            .iter()
            .map(|(t, a)| format!("{{\"time\":{t},\"action\":\"{a}\"}}\n"))
            .collect();
        fs::write(dir.join(format!("file-{i}.json")), body).unwrap();
    }
}

/// Writes an event folder with `windowpane generate`.
fn generate(out: &Path, options: &[&str]) {
    let status = Command::new(assert_cmd::cargo::cargo_bin("windowpane"))
        .arg("generate")
        .args(options)
        .arg(out)
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
}

fn batch_figures(events: &[(i64, &str)]) -> Figures {
    let mut c = MinuteCounts::new();
    for (t, a) in events {
        c.add(*t, a);
    }
    metrics::compute(&c, &Options::default()).unwrap()
}

/// Runs a stream to its end; returns the final figures and online variance.
fn run_stream(input: &Path, checkpoint: &Path, opts: StreamOptions) -> (Figures, Option<f64>, usize) {
    let mut stream = Stream::open(input, checkpoint, opts).unwrap();
    let mut triggers = 0;
    while stream.run_trigger().unwrap().is_some() {
        triggers += 1;
    }
    (stream.figures().unwrap(), stream.variance(), triggers)
}

fn events_strategy() -> impl Strategy<Value = Vec<(i64, &'static str)>> {
    // three hours of events, three actions, clustered enough to alert
    prop::collection::vec(
        (0i64..3 * 3600, prop::sample::select(vec!["Open", "Close", "Pause"])),
        1..400,
    )
    .prop_map(|v| v.into_iter().map(|(t, a)| (H + t, a)).collect())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn stream_equals_batch_for_any_split(
        events in events_strategy(),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..6),
        max_files in 1usize..4,
        update in any::<bool>(),
    ) {
        let mut cut_points: Vec<usize> = cuts.iter().map(|c| c.index(events.len() + 1)).collect();
        cut_points.sort_unstable();
        let mut files = Vec::new();
        let mut start = 0;
        for c in cut_points.into_iter().chain([events.len()]) {
            files.push(events[start..c].to_vec());
            start = c;
        }
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in");
        fs::create_dir(&input).unwrap();
        write_files(&input, &files);
        let mode = if update { OutputMode::Update } else { OutputMode::Complete };
        let (streamed, online, triggers) = run_stream(&input, &dir.path().join("ck"), options(max_files, mode));
        let batch = batch_figures(&events);
        prop_assert_eq!(triggers, files.len().div_ceil(max_files));
        // every kept figure, bit for bit: minute counts, hourly counts and
        // averages, totals, alerts, the variance from running sums
        prop_assert_eq!(streamed.minute_counts(), batch.minute_counts());
        prop_assert_eq!(&streamed.hourly_counts, &batch.hourly_counts);
        prop_assert_eq!(&streamed.alerts, &batch.alerts);
        prop_assert_eq!(&streamed.totals, &batch.totals);
        let bits = |h: &[windowpane::metrics::HourAverage]| h.iter().map(|h| (h.window_start, h.average.to_bits())).collect::<Vec<_>>();
        prop_assert_eq!(bits(&streamed.hourly_average), bits(&batch.hourly_average));
        prop_assert_eq!(&streamed.peak_hour, &batch.peak_hour);
        prop_assert_eq!(online.map(f64::to_bits), batch.variance.map(f64::to_bits));
        prop_assert_eq!(streamed.moving_rows().unwrap(), batch.moving_rows().unwrap());
        prop_assert!(streamed == batch);
    }
}

#[test]
fn update_mode_emits_only_the_rows_a_trigger_changed() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    fs::create_dir(&input).unwrap();
    // file 0: minutes 0 and 1; file 1 adds to minute 1 and opens minute 2
    write_files(
        &input,
        &[
            vec![(H, "Open"), (H + 60, "Open")],
            vec![(H + 61, "Open"), (H + 120, "Close")],
        ],
    );
    let mut s = Stream::open(&input, &dir.path().join("ck"), options(1, OutputMode::Update)).unwrap();
    let first = s.run_trigger().unwrap().unwrap();
    assert_eq!(first.emitted.len(), 2);
    let second = s.run_trigger().unwrap().unwrap();
    let rows: Vec<(i64, &str, i64)> = second
        .emitted
        .iter()
        .map(|c| (c.window_start - H, &*c.action, c.count))
        .collect();
    assert_eq!(rows, [(60, "Open", 2), (120, "Close", 1)]);
    assert!(s.run_trigger().unwrap().is_none());
}

#[test]
fn alerts_appear_once_are_updated_and_withdrawn() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    fs::create_dir(&input).unwrap();
    let opens = vec![(H, "Open"); 21];
    write_files(&input, &[opens.clone(), opens, vec![(H, "Close"); 40]]);
    let mut s = Stream::open(&input, &dir.path().join("ck"), options(1, OutputMode::Complete)).unwrap();
    let t1 = s.run_trigger().unwrap().unwrap();
    assert!(
        matches!(&t1.alerts[..], [AlertChange::New(a)] if a.open == 21 && a.difference == 21),
        "{:?}",
        t1.alerts
    );
    assert_eq!(t1.row.new_alerts, 1);
    let t2 = s.run_trigger().unwrap().unwrap();
    assert!(
        matches!(&t2.alerts[..], [AlertChange::Updated(a)] if a.open == 42),
        "{:?}",
        t2.alerts
    );
    assert_eq!(t2.row.new_alerts, 0);
    let t3 = s.run_trigger().unwrap().unwrap();
    assert!(
        matches!(&t3.alerts[..], [AlertChange::Withdrawn(a)] if a.close == 40 && a.difference == 2),
        "{:?}",
        t3.alerts
    );
}

#[test]
fn a_rerun_takes_only_new_files_and_options_the_state_depends_on_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    fs::create_dir(&input).unwrap();
    write_files(&input, &[vec![(H, "Open")], vec![(H + 1, "Open")]]);
    let ck = dir.path().join("ck");
    let (_, _, triggers) = run_stream(&input, &ck, options(1, OutputMode::Complete));
    assert_eq!(triggers, 2);
    fs::write(
        input.join("file-2.json"),
        "{\"time\":1469498402,\"action\":\"Close\"}\n",
    )
    .unwrap();
    let (figures, _, triggers) = run_stream(&input, &ck, options(5, OutputMode::Complete));
    assert_eq!(triggers, 1, "only the new file");
    assert_eq!(figures.totals, [("Close".to_string(), 1), ("Open".to_string(), 2)]);
    // another alert threshold: the alerts are computed again, nothing is refused
    let mut other = options(1, OutputMode::Complete);
    other.figures.alert_threshold = 0;
    let events = [(H, "Open"), (H + 1, "Open"), (H + 2, "Close")];
    let mut c = MinuteCounts::new();
    events.iter().for_each(|(t, a)| c.add(*t, a));
    let expected = metrics::compute(&c, &other.figures).unwrap();
    let reopened = Stream::open(&input, &ck, other.clone()).unwrap();
    let figures = reopened.figures().unwrap();
    assert_eq!(figures.alerts.len(), 1);
    assert_eq!(figures.alerts, expected.alerts);
    drop(reopened);
    // another output mode: the state's meaning differs; refused, naming the option
    let err = Stream::open(&input, &ck, options(1, OutputMode::Append))
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("--output-mode complete"), "{err}");
}

#[test]
fn a_second_process_on_the_same_checkpoint_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    fs::create_dir(&input).unwrap();
    write_files(&input, &[vec![(H, "Open")]]);
    let ck = dir.path().join("ck");
    let _held = Stream::open(&input, &ck, options(1, OutputMode::Complete)).unwrap();
    let err = Stream::open(&input, &ck, options(1, OutputMode::Complete))
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("is in use by another windowpane run (a stream or an update, pid "),
        "{err}"
    );
}

/// Kills the stream with SIGKILL at pseudo-random moments, restarts it with
/// the same command until it finishes, and compares with batch.
#[test]
fn exactly_once_across_kill_9_and_restart() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    let exe = assert_cmd::cargo::cargo_bin("windowpane");
    generate(&input, &["--files", "40", "--events", "8000", "--bad-lines", "2"]);
    let ck = dir.path().join("ck");
    let report = dir.path().join("report");
    let stream = || {
        let mut cmd = Command::new(&exe);
        cmd.args(["stream", "-q", "--checkpoint"])
            .arg(&ck)
            .arg("--report")
            .arg(&report)
            .arg(&input)
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        cmd
    };
    // Each run is killed at a random moment after it committed a trigger of
    // its own (so that every run gets somewhere, however slow the machine):
    // 0 to 8 ms later, anywhere in the next trigger's planning, reading,
    // state writing or commit. The last run ends on its own.
    let commits = || {
        ["delta", "snapshot"]
            .iter()
            .flat_map(|d| fs::read_dir(ck.join(d)).into_iter().flatten())
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u64>().ok())
            .max()
            .unwrap_or(0)
    };
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut kills = 0;
    loop {
        let before = commits();
        let mut child = stream().spawn().unwrap();
        while commits() == before && child.try_wait().unwrap().is_none() {
            std::thread::sleep(Duration::from_micros(200));
        }
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        std::thread::sleep(Duration::from_micros(seed % 8_000));
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap();
            let _ = child.wait();
            kills += 1;
            assert!(kills < 200, "the stream never finished");
            continue;
        }
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        break;
    }
    assert!(kills >= 5, "only {kills} kills: the test did not interrupt the stream");
    let batch = Command::new(&exe)
        .args(["batch", "--no-report", "--format", "summary"])
        .arg(&input)
        .output()
        .unwrap();
    let streamed = fs::read(report.join("summary.json")).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&streamed),
        String::from_utf8_lossy(&batch.stdout),
        "after {kills} kills"
    );
    let triggers = fs::read_to_string(report.join("tables/triggers.csv")).unwrap();
    assert_eq!(
        triggers.lines().count(),
        41,
        "one row per file, none twice:\n{triggers}"
    );
    assert!(report.join("charts/triggers.png").is_file());
}

#[test]
fn append_mode_emits_final_windows_once_and_drops_late_events() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    fs::create_dir(&input).unwrap();
    write_files(
        &input,
        &[
            vec![(H, "Open"), (H + 65, "Open")], // latest 1:05, watermark (2 min) -0:55: nothing final
            vec![(H + 250, "Close")],            // latest 4:10, watermark 2:10: minutes 0 and 1 final
            vec![(H + 10, "Open"), (H + 200, "Open")], // minute 0 is final: late; minute 3 is not
            vec![(H + 400, "Close")],            // watermark 4:40: minute 3 final, minute 4 (to 5:00) not
        ],
    );
    let mut opts = options(1, OutputMode::Append);
    opts.watermark_minutes = 2;
    let mut s = Stream::open(&input, &dir.path().join("ck"), opts).unwrap();
    let emitted = |o: &windowpane::engine::stream::Outcome| -> Vec<(i64, String, i64)> {
        o.emitted
            .iter()
            .map(|c| (c.window_start - H, c.action.to_string(), c.count))
            .collect()
    };
    let t1 = s.run_trigger().unwrap().unwrap();
    assert_eq!((emitted(&t1), t1.late, t1.watermark), (vec![], 0, Some(H - 55)));
    let t2 = s.run_trigger().unwrap().unwrap();
    assert_eq!(emitted(&t2), [(0, "Open".to_string(), 1), (60, "Open".to_string(), 1)]);
    assert_eq!(t2.row.state_rows, 1, "only minute 4 is still open");
    let t3 = s.run_trigger().unwrap().unwrap();
    assert_eq!((emitted(&t3), t3.late), (vec![], 1));
    let t4 = s.run_trigger().unwrap().unwrap();
    assert_eq!(emitted(&t4), [(180, "Open".to_string(), 1)]);
    assert_eq!(t4.row.state_rows, 2, "minutes 4 and 6 are still open");
    assert_eq!(t4.watermark, Some(H + 280));
    assert_eq!(s.late(), 1);
    // the late event is counted, never merged
    assert_eq!(s.events(), 5);
    let stats = s.input_stats();
    assert_eq!(
        (stats.lines, stats.events, stats.late),
        (6, 5, 1),
        "lines = events + rejected + late"
    );
    let f = s.figures().unwrap();
    assert_eq!(f.totals, [("Close".to_string(), 2), ("Open".to_string(), 3)]);
    assert!(s.run_trigger().unwrap().is_none());
    drop(s);
    let s = Stream::open(&input, &dir.path().join("ck"), {
        let mut o = options(1, OutputMode::Append);
        o.watermark_minutes = 2;
        o
    })
    .unwrap();
    assert_eq!(s.figures().unwrap(), f);
    assert_eq!(s.input_stats(), stats);
    assert_eq!(s.triggers().iter().map(|t| t.late).collect::<Vec<_>>(), [0, 0, 1, 0]);
}

#[test]
fn append_mode_keeps_only_open_windows_and_ends_with_the_batch_figures() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    // 30 files over about 10 hours
    generate(&input, &["--files", "30", "--events", "20000"]);
    let ck = dir.path().join("ck");
    let mut opts = options(1, OutputMode::Append);
    // the generator sorts all events by time before cutting them into
    // files: with the default watermark nothing is late
    opts.watermark_minutes = 10;
    let mut s = Stream::open(&input, &ck, opts.clone()).unwrap();
    let mut max_state = 0;
    for k in 0.. {
        if k == 12 {
            // a crash after trigger 13 had appended to the logs, before its
            // commit: what it appended must not count
            fs::OpenOptions::new()
                .append(true)
                .open(ck.join("rejected.ndjson"))
                .unwrap()
                .write_all(b"{\"file\":\"x\",\"line\":1,\"reason\":\"r\",\"text\":\"t\"}\n")
                .unwrap();
            drop(s);
            s = Stream::open(&input, &ck, opts.clone()).unwrap();
        }
        match s.run_trigger().unwrap() {
            Some(t) => max_state = max_state.max(t.row.state_rows),
            None => break,
        }
    }
    assert_eq!(s.late(), 0);
    let streamed = s.figures().unwrap();
    let batch = windowpane::source::read(&input, FileOrder::Name, false, Some(2)).unwrap();
    let expected = metrics::compute(&batch.counts, &Options::default()).unwrap();
    assert_eq!(streamed, expected);
    assert_eq!(s.rejected().unwrap(), batch.rejected);
    let rows = expected.minute_len() as u64;
    // open windows: the 10 minutes under the watermark and a file's span
    // (about 20 minutes), of two actions
    assert!(
        max_state < rows / 3,
        "the state held up to {max_state} rows of {rows}: final windows were kept"
    );
}

#[test]
fn files_still_being_written_are_taken_only_once_renamed_into_place() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    fs::create_dir(&input).unwrap();
    write_files(&input, &[vec![(H, "Open")]]);
    // a writer's convention: a _-prefixed (or hidden) name until complete
    fs::write(input.join("_file-1.json"), "{\"time\":1469498401,\"act").unwrap();
    fs::write(input.join(".file-2.json"), "{\"time\":1469498402,\"act").unwrap();
    let mut s = Stream::open(&input, &dir.path().join("ck"), options(5, OutputMode::Complete)).unwrap();
    let t1 = s.run_trigger().unwrap().unwrap();
    assert_eq!(t1.files, ["file-0.json"]);
    assert!(s.run_trigger().unwrap().is_none());
    fs::write(
        input.join("_file-1.json"),
        "{\"time\":1469498401,\"action\":\"Close\"}\n",
    )
    .unwrap();
    fs::rename(input.join("_file-1.json"), input.join("file-1.json")).unwrap();
    let t2 = s.run_trigger().unwrap().unwrap();
    assert_eq!(
        (t2.files.clone(), t2.row.rejected),
        (vec!["file-1.json".to_string()], 0)
    );
    assert_eq!(s.events(), 2);
}

#[test]
fn a_processed_file_that_changed_is_reported_not_reread() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    fs::create_dir(&input).unwrap();
    write_files(&input, &[vec![(H, "Open")]]);
    let ck = dir.path().join("ck");
    run_stream(&input, &ck, options(1, OutputMode::Complete));
    // someone appends to a file already counted
    fs::write(
        input.join("file-0.json"),
        "{\"time\":1469498400,\"action\":\"Open\"}\n{\"time\":1469498401,\"action\":\"Open\"}\n",
    )
    .unwrap();
    let out = Command::new(assert_cmd::cargo::cargo_bin("windowpane"))
        .args(["stream", "-q", "--no-report", "--checkpoint"])
        .arg(&ck)
        .arg(&input)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("file-0.json has changed since it was processed"),
        "{stderr}"
    );
    let reopened = Stream::open(&input, &ck, options(1, OutputMode::Complete)).unwrap();
    assert_eq!(reopened.events(), 1, "the new line is not counted");
}

/// Reads lines from `lines` until one contains `needle`; panics after `limit`.
fn wait_for_line(lines: &std::sync::mpsc::Receiver<String>, needle: &str, limit: Duration) -> String {
    let until = std::time::Instant::now() + limit;
    loop {
        let left = until.saturating_duration_since(std::time::Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) if line.contains(needle) => return line,
            Ok(_) => {}
            Err(e) => panic!("no line with {needle:?} ({e})"),
        }
    }
}

/// `stream --follow` over `input` with its checkpoint in `dir` and its
/// report in `report`, and the lines it prints, as they come.
fn follow(
    dir: &Path,
    input: &Path,
    report: &Path,
    extra: &[&str],
) -> (std::process::Child, std::sync::mpsc::Receiver<String>) {
    use std::io::BufRead;
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("windowpane"))
        .args(["stream", "--follow"])
        .args(extra)
        .arg("--checkpoint")
        .arg(dir.join("ck"))
        .arg("--report")
        .arg(report)
        .arg(input)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, lines) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            if tx.send(line.unwrap()).is_err() {
                break;
            }
        }
    });
    (child, lines)
}

#[test]
fn follow_takes_a_file_moved_in_at_once_and_stops_cleanly_on_ctrl_c() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    fs::create_dir(&input).unwrap();
    write_files(&input, &[vec![(H, "Open"), (H + 1, "Open")]]);
    let report = dir.path().join("report");
    // ten minutes between looks: only a change notification can start trigger 2 in time
    let (child, lines) = follow(dir.path(), &input, &report, &["--trigger-interval", "10m"]);
    let generous = Duration::from_secs(30);
    wait_for_line(&lines, "trigger 1: file-0.json", generous);
    // caught up, it brings the report up to date and says it waits
    wait_for_line(&lines, "report updated", generous);
    wait_for_line(&lines, "waiting for new files (Ctrl-C stops)", generous);
    let events = || -> serde_json::Value {
        let summary: serde_json::Value =
            serde_json::from_slice(&fs::read(report.join("summary.json")).unwrap()).unwrap();
        summary["input"]["events"].clone()
    };
    assert_eq!(events(), 2);
    // written under a _-name, then moved into place, as writers should
    fs::write(
        input.join("_file-1.json"),
        format!("{{\"time\":{},\"action\":\"Close\"}}\n", H + 2),
    )
    .unwrap();
    fs::rename(input.join("_file-1.json"), input.join("file-1.json")).unwrap();
    let second = wait_for_line(&lines, "trigger 2:", generous);
    assert!(second.contains("file-1.json (1 events, 0 rejected)"), "{second}");
    wait_for_line(&lines, "report updated", generous);
    assert_eq!(events(), 3);
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("stopped after trigger 2"), "{stderr}");
    let summary: serde_json::Value = serde_json::from_slice(&fs::read(report.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["input"]["events"], 3);
    assert_eq!(summary["totals"]["Close"], 1);
}

#[test]
fn follow_ends_as_on_ctrl_c_when_terminated_or_hung_up() {
    // `kill`, `systemctl stop`, `docker stop` and a closed terminal end a
    // followed stream as Ctrl-C does: the page no longer says it is live
    for signal in ["-TERM", "-HUP"] {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in");
        fs::create_dir(&input).unwrap();
        write_files(&input, &[vec![(H, "Open"), (H + 1, "Close")]]);
        let report = dir.path().join("report");
        let (child, lines) = follow(dir.path(), &input, &report, &[]);
        wait_for_line(&lines, "report updated", Duration::from_secs(30));
        let page = || fs::read_to_string(report.join("index.html")).unwrap();
        assert!(
            page().contains("http-equiv=\"refresh\""),
            "{signal}: the live page does not reload"
        );
        let status = Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{signal}: {stderr}");
        assert!(stderr.contains("stopped after trigger 1"), "{signal}: {stderr}");
        assert!(
            !page().contains("http-equiv=\"refresh\""),
            "{signal}: the page still says it is live"
        );
        assert!(!page().contains("is running and rewrites"), "{signal}");
    }
}

#[test]
fn a_file_gone_between_listing_and_reading_is_recorded_as_missing() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    fs::create_dir(&input).unwrap();
    write_files(
        &input,
        &[vec![(H, "Open")], vec![(H + 1, "Open")], vec![(H + 2, "Close")]],
    );
    let ck = dir.path().join("ck");
    let mut s = Stream::open(&input, &ck, options(1, OutputMode::Complete)).unwrap();
    assert_eq!(s.files_left().unwrap(), 3);
    // listed, then removed before its trigger reads it (a race with a
    // writer, or a removal after a crash)
    fs::remove_file(input.join("file-0.json")).unwrap();
    let t = s.run_trigger().unwrap().unwrap();
    assert_eq!((t.files.len(), t.missing.clone()), (0, vec!["file-0.json".to_string()]));
    while s.run_trigger().unwrap().is_some() {}
    assert_eq!(s.events(), 2);
    assert_eq!(s.input_stats().missing, 1);
    drop(s);
    // the checkpoint is not stuck: a restart goes on, and the missing file
    // is not asked for again
    let mut s = Stream::open(&input, &ck, options(1, OutputMode::Complete)).unwrap();
    assert!(s.run_trigger().unwrap().is_none());
    assert_eq!(s.missing(), ["file-0.json"]);
}

/// In `dir`: an input `in` of two files, streamed a file per trigger
/// with the checkpoint `ck`; returned with the bytes of the plan a killed
/// run would leave for trigger 3, taking `file-2.json`.
fn two_triggers_and_a_plan(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf, Vec<u8>) {
    let input = dir.join("in");
    fs::create_dir(&input).unwrap();
    write_files(&input, &[vec![(H, "Open")], vec![(H + 1, "Open")]]);
    let ck = dir.join("ck");
    run_stream(&input, &ck, options(1, OutputMode::Complete));
    let mut plan = windowpane::codec::Writer::new();
    plan.u64(1);
    plan.bytes(b"file-2.json");
    (input, ck, plan.finish())
}

#[test]
fn a_planned_trigger_reads_the_file_as_it_is_and_warns_about_nothing_later() {
    let dir = tempfile::tempdir().unwrap();
    let (input, ck, plan) = two_triggers_and_a_plan(dir.path());
    // a run planned trigger 3 (file-2) and was killed; then file-2 was
    // written again before the restart
    fs::write(
        input.join("file-2.json"),
        "{\"time\":1469498402,\"action\":\"Close\"}\n",
    )
    .unwrap();
    fs::write(ck.join("offsets/3"), plan).unwrap();
    fs::write(
        input.join("file-2.json"),
        "{\"time\":1469498402,\"action\":\"Close\"}\n{\"time\":1469498403,\"action\":\"Close\"}\n",
    )
    .unwrap();
    let (figures, _, triggers) = run_stream(&input, &ck, options(1, OutputMode::Complete));
    assert_eq!(triggers, 1);
    assert_eq!(figures.totals, [("Close".to_string(), 2), ("Open".to_string(), 2)]);
    // what was read is what was stamped: no warning about a change afterwards
    let out = Command::new(assert_cmd::cargo::cargo_bin("windowpane"))
        .args(["stream", "-q", "--no-report", "--checkpoint"])
        .arg(&ck)
        .arg(&input)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("has changed"), "{stderr}");
}

#[test]
fn a_file_name_that_is_not_utf8_is_taken_once_and_the_stream_goes_on() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    fs::create_dir(&input).unwrap();
    let odd = std::ffi::OsStr::from_bytes(b"file-\xff.json");
    fs::write(input.join(odd), "{\"time\":1469498400,\"action\":\"Open\"}\n").unwrap();
    let ck = dir.path().join("ck");
    let (_, _, triggers) = run_stream(&input, &ck, options(1, OutputMode::Complete));
    assert_eq!(triggers, 1);
    write_files(&input, &[vec![(H + 60, "Open")]]);
    let (figures, _, triggers) = run_stream(&input, &ck, options(1, OutputMode::Complete));
    assert_eq!(triggers, 1, "only the new file");
    assert_eq!(figures.totals, [("Open".to_string(), 2)]);
}

#[test]
fn a_stream_piped_into_a_reader_that_stops_early_ends_cleanly() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    generate(&input, &["--files", "20", "--events", "4000"]);
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("windowpane"))
        .args(["stream", "--no-report", "--checkpoint"])
        .arg(dir.path().join("ck"))
        .arg(&input)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // `| head -1`: one line, then the pipe is closed
    let mut first = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.starts_with("trigger 1:"), "{first}");
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn a_plan_cut_short_by_a_machine_crash_is_planned_again() {
    // plans are not flushed to disk: after a power cut one may be empty
    // or cut short; it fails its checksum and the trigger is planned again
    for cut in [0.0, 0.5] {
        let dir = tempfile::tempdir().unwrap();
        let (input, ck, plan) = two_triggers_and_a_plan(dir.path());
        fs::write(
            input.join("file-2.json"),
            format!(
                "{{\"time\":{},\"action\":\"Close\"}}\n{{\"time\":{},\"action\":\"Close\"}}\n",
                H + 2,
                H + 3
            ),
        )
        .unwrap();
        fs::write(ck.join("offsets/3"), &plan[..(plan.len() as f64 * cut) as usize]).unwrap();
        let (figures, _, triggers) = run_stream(&input, &ck, options(1, OutputMode::Complete));
        assert_eq!(triggers, 1, "plan cut at {cut}");
        assert_eq!(figures.totals, [("Close".to_string(), 2), ("Open".to_string(), 2)]);
    }
}
