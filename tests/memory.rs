//! Memory stays bounded whatever the input: a gzip bomb of newlines and a
//! line of 50 MB are read in a buffer of fixed size, and a report of many
//! actions never holds its long table whole. The peak memory of each child
//! process is measured by the kernel (wait4), child by child.

#![cfg(target_os = "linux")]

use std::fs;
use std::io::Write;

/// Runs `windowpane ARGS` to its end with at most `cap_mib` MiB of data
/// memory (`RLIMIT_DATA`: its heap and anonymous mappings; the mapped
/// binary and input files are not counted), and gives its standard output.
/// A run that needs more fails to allocate and aborts, failing the test.
fn run_capped(args: &[&std::ffi::OsStr], cap_mib: u64) -> Vec<u8> {
    use std::os::unix::process::CommandExt;
    let mut command = std::process::Command::new(assert_cmd::cargo::cargo_bin("windowpane"));
    command.args(args);
    let cap = cap_mib << 20;
    // SAFETY: only setrlimit, which is async-signal-safe, runs in the child
    unsafe {
        command.pre_exec(move || {
            let limit = libc::rlimit {
                rlim_cur: cap,
                rlim_max: cap,
            };
            if libc::setrlimit(libc::RLIMIT_DATA, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let out = command.output().unwrap();
    assert!(
        out.status.success(),
        "{args:?} within {cap_mib} MiB: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
            .chars()
            .take(2000)
            .collect::<String>()
    );
    out.stdout
}

#[test]
fn a_report_of_twenty_thousand_actions_is_written_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let input = d.join("many");
    let report = d.join("report");
    run_capped(
        &[
            "generate".as_ref(),
            input.as_os_str(),
            "--files".as_ref(),
            "2".as_ref(),
            "--events".as_ref(),
            "20000".as_ref(),
            "--actions".as_ref(),
            "20000".as_ref(),
            "--zipf".as_ref(),
            "0".as_ref(),
            "--rate".as_ref(),
            "10000".as_ref(),
        ],
        200,
    );
    // made whole, the moving average of this report needs more than 250
    // MiB; a piece at a time, about 130
    let out = run_capped(
        &[
            "batch".as_ref(),
            input.as_os_str(),
            "--report".as_ref(),
            report.as_os_str(),
            "--format".as_ref(),
            "json".as_ref(),
        ],
        200,
    );
    let summary: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(summary["input"]["events"], 20000);
    let actions = summary["actions"].as_array().unwrap().len();
    assert!(actions > 12_000, "{actions} actions");
    // every action on every minute of the grid: over two hours and the
    // half hour after, millions of rows
    let moving = fs::read(report.join("tables/moving_average.csv")).unwrap();
    let rows = moving.iter().filter(|&&b| b == b'\n').count() - 1;
    assert_eq!(rows % actions, 0);
    assert!(rows >= actions * 120, "{rows} rows");
}

#[test]
fn a_gzip_bomb_and_a_huge_line_are_read_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // 256 MiB of newlines, about 250 KiB compressed
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let newlines = vec![b'\n'; 1 << 20];
    for _ in 0..256 {
        e.write_all(&newlines).unwrap();
    }
    e.write_all(b"{\"time\":60,\"action\":\"Open\"}\n").unwrap();
    fs::create_dir(d.join("bomb")).unwrap();
    fs::write(d.join("bomb/a.json.gz"), e.finish().unwrap()).unwrap();
    // one action of 50 MB
    let mut body = b"{\"time\":60,\"action\":\"Open\"}\n{\"time\":60,\"action\":\"".to_vec();
    body.resize(body.len() + (50 << 20), b'x');
    body.extend_from_slice(b"\"}\n");
    fs::create_dir(d.join("huge")).unwrap();
    fs::write(d.join("huge/a.json"), body).unwrap();

    for (input, lines, rejected) in [("bomb", 1, 0), ("huge", 2, 1)] {
        let report = d.join(format!("report-{input}"));
        let folder = d.join(input);
        // the input is 256 MiB and 50 MiB; a reader that held either whole
        // would fail within this cap
        let out = run_capped(
            &[
                "batch".as_ref(),
                "--format".as_ref(),
                "json".as_ref(),
                "--report".as_ref(),
                report.as_os_str(),
                folder.as_os_str(),
            ],
            160,
        );
        let summary: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(summary["input"]["lines"], lines, "{input}");
        assert_eq!(summary["input"]["rejected"], rejected, "{input}");
    }
}
