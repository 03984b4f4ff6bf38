//! Every command the README shows runs as written: the test takes each
//! line of the README's `sh` blocks, in order, and runs it with `bash` in
//! a scratch copy of the repository's data and examples, `cargo run
//! --release --` standing for the `windowpane` binary under test. A command
//! must exit with status 0, unless it is one of the few listed in `SKIPPED`
//! with the reason it cannot run here.

use crate::util::root;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Commands that are not run, each with the reason; a trailing ` *`
/// stands for any arguments.
const SKIPPED: &[(&str, &str)] = &[
    ("cargo test --release", "the test suite itself"),
    (
        "cargo install --locked --path .",
        "a full release build into ~/.cargo/bin",
    ),
    ("windowpane stream --follow", "runs until Ctrl-C"),
    (
        "windowpane sql",
        "an interactive prompt: tests/sql.rs types into it on a pseudo-terminal",
    ),
    ("pip install duckdb", "installs a Python package"),
    (
        "python3 bench/history.py *",
        "the benchmark: minutes of runs and gigabytes of generated data",
    ),
    ("windowpane batch s3://bucket/events *", "needs a Spark cluster"),
    ("windowpane sql s3://bucket/events *", "needs a Spark cluster"),
    ("windowpane update s3://bucket/events *", "needs a Spark cluster"),
    (
        "scripts/spark-connect-server.sh *",
        "installs pyspark and runs a JVM server: tests/spark.rs runs --spark against one",
    ),
    ("windowpane generate /tmp/events-10m *", "350 MB of generated data"),
    (
        "windowpane batch /tmp/events-10m *",
        "the measured example, on 350 MB and a Spark server",
    ),
];

/// True when `command` is the skipped `pattern`.
fn matches(pattern: &str, command: &str) -> bool {
    match pattern.strip_suffix(" *") {
        Some(prefix) => command.starts_with(&format!("{prefix} ")),
        None => command == pattern,
    }
}

/// The command lines of the README's `sh` blocks, in order, without their
/// comments; a line ending in `\` goes on on the next.
fn readme_commands(readme: &str) -> Vec<String> {
    let mut commands = Vec::new();
    let mut in_sh = false;
    let mut pending = String::new();
    for line in readme.lines() {
        let trimmed = line.trim();
        if !in_sh {
            in_sh = trimmed == "```sh";
            continue;
        }
        if trimmed.starts_with("```") {
            in_sh = false;
            continue;
        }
        // a comment starts at `#` after white space, outside quotes
        let mut code = String::new();
        let mut quote: Option<char> = None;
        let mut prev = ' ';
        for c in line.chars() {
            match quote {
                Some(q) if c == q => quote = None,
                Some(_) => {}
                None if c == '"' || c == '\'' => quote = Some(c),
                None if c == '#' && prev.is_whitespace() => break,
                None => {}
            }
            code.push(c);
            prev = c;
        }
        let code = code.trim();
        if let Some(start) = code.strip_suffix('\\') {
            pending.push_str(start.trim_end());
            pending.push(' ');
            continue;
        }
        pending.push_str(code);
        let command = std::mem::take(&mut pending).trim().to_string();
        if !command.is_empty() {
            commands.push(command.replace("cargo run --release -- ", "windowpane "));
        }
    }
    commands
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[test]
fn the_readme_commands_are_found() {
    let commands = readme_commands("text\n```sh\ncargo run --release -- batch   # the main job\nwindowpane sql \"select '#1'\"  \\\n  --format csv\n```\n```text\nnot a command\n```\n");
    assert_eq!(
        commands,
        vec![
            "windowpane batch".to_string(),
            "windowpane sql \"select '#1'\" --format csv".to_string()
        ]
    );
}

#[test]
fn every_command_of_the_readme_runs_as_written() {
    let readme = fs::read_to_string(root().join("README.md")).unwrap();
    let commands = readme_commands(&readme);
    assert!(commands.len() >= 10, "too few commands found: {commands:?}");
    let scratch = tempfile::tempdir().unwrap();
    for dir in ["data", "examples"] {
        copy_dir(&root().join(dir), &scratch.path().join(dir));
    }
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_windowpane"));
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut ran = 0;
    for command in &commands {
        if SKIPPED.iter().any(|(s, _)| matches(s, command)) {
            continue;
        }
        let out = Command::new("bash")
            .args(["-o", "pipefail", "-c", command])
            .current_dir(scratch.path())
            .env("PATH", &path)
            .env("HOME", scratch.path())
            .env("XDG_STATE_HOME", scratch.path().join("state"))
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "README command failed: {command}\nstatus {:?}\nstdout:\n{}\nstderr:\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        ran += 1;
    }
    assert!(ran >= 8, "only {ran} commands ran of {commands:?}");
    // each skip is still a command the README shows (no stale entries)
    for (s, why) in SKIPPED {
        assert!(
            commands.iter().any(|c| matches(s, c)),
            "SKIPPED lists {s:?} ({why}), which the README no longer shows"
        );
    }
}
