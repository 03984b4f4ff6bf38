//! Memory stays bounded whatever the input: a gzip bomb of newlines and a
//! line of 50 MB are read in a buffer of fixed size. The peak memory of the
//! child processes is measured by the kernel (getrusage), so this file holds
//! one test alone: no other child may raise the peak.

#![cfg(target_os = "linux")]

use std::fs;
use std::io::Write;

use assert_cmd::Command;

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
        let out = Command::cargo_bin("windowpane")
            .unwrap()
            .args(["batch", "--format", "json", "--report"])
            .arg(d.join(format!("report-{input}")))
            .arg(d.join(input))
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        let summary: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(summary["input"]["lines"], lines, "{input}");
        assert_eq!(summary["input"]["rejected"], rejected, "{input}");
    }
    // SAFETY: getrusage fills the struct it is given
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    assert_eq!(unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) }, 0);
    let peak_kib = usage.ru_maxrss;
    // the input is 256 MiB and 50 MiB; a reader that held either whole
    // would fail this
    assert!(peak_kib < 160 * 1024, "peak memory of a run: {peak_kib} KiB");
}
