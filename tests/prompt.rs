//! The `sql` prompt's commands on a real terminal: `script` (util-linux)
//! gives the command a pseudo-terminal, and each line is typed once the
//! prompt shows. Tab completion, `.maxrows`, `.timer`, `.read` and
//! `.output`.

use crate::util::conformance as case;
use std::io::{Read, Write};
use std::process::{Child, ChildStdin, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What the shell command line `command` prints when it runs on a
/// pseudo-terminal of its own.
fn on_terminal(command: &str) -> String {
    let out = std::process::Command::new("script")
        .args(["-qec", command, "/dev/null"])
        .stdin(Stdio::null())
        .output()
        .expect("`script` (util-linux) runs the command on a pseudo-terminal");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The prompt on a pseudo-terminal, with what it printed so far.
struct Session {
    child: Child,
    stdin: ChildStdin,
    seen: Arc<Mutex<String>>,
}

impl Session {
    fn start(state: &std::path::Path, cwd: &std::path::Path) -> Session {
        // a terminal of 120 columns, as a person would have
        Session::start_sized(state, cwd, 40)
    }

    /// The prompt on a terminal of 120 columns and `rows` lines.
    fn start_sized(state: &std::path::Path, cwd: &std::path::Path, rows: u16) -> Session {
        let exe = assert_cmd::cargo::cargo_bin("windowpane");
        let command = format!(
            "stty cols 120 rows {rows}; exec '{}' sql '{}'",
            exe.display(),
            case("seedlike").join("input").display()
        );
        let mut child = std::process::Command::new("script")
            .args(["-qec", &command, "/dev/null"])
            .env("XDG_STATE_HOME", state)
            .current_dir(cwd)
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
        let stdin = child.stdin.take().unwrap();
        Session { child, stdin, seen }
    }

    /// Waits until `needle` has appeared `count` times.
    fn wait_for(&self, needle: &str, count: usize) {
        let until = Instant::now() + Duration::from_secs(30);
        while self.seen.lock().unwrap().matches(needle).count() < count {
            assert!(
                Instant::now() < until,
                "no {needle:?} in:\n{}",
                self.seen.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn type_keys(&mut self, keys: &str) {
        self.stdin.write_all(keys.as_bytes()).unwrap();
        self.stdin.flush().unwrap();
    }

    /// Types `line` and Enter at the prompt, and waits for the next prompt.
    /// The prompt is drawn again at each Tab, and once after the line runs.
    fn line(&mut self, line: &str) {
        let shown = self.output().matches("sql> ").count();
        self.type_keys(&format!("{line}\r"));
        if line != ".quit" {
            self.wait_for("sql> ", shown + 1 + line.matches('\t').count());
        }
    }

    fn output(&self) -> String {
        self.seen.lock().unwrap().clone()
    }

    /// Types `.quit` and checks that the prompt ends with status 0,
    /// showing the status and what it printed otherwise.
    fn quit(&mut self) {
        self.line(".quit");
        let status = self.child.wait().unwrap();
        // what it printed on its way out
        std::thread::sleep(Duration::from_millis(100));
        assert!(status.success(), "{status}; the prompt printed:\n{}", self.output());
    }
}

#[test]
fn tab_completes_view_names_and_the_prompt_commands_work() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Session::start(dir.path(), dir.path());
    // Tab completion: `tot` becomes `totals`, `act` becomes `action`
    s.wait_for("sql> ", 1);
    s.line("select count(*) as n, max(act\t) as last from tot\t;");
    s.wait_for("1 row", 1);
    assert!(s.output().contains("max(action) as last from totals"), "{}", s.output());
    assert!(s.output().contains("│ 2 ┆ Open │"), "{}", s.output());
    assert!(!s.output().contains("the query failed"), "{}", s.output());

    // .maxrows: the note names the prompt's own commands
    s.line(".maxrows 2");
    s.line("select * from minute_counts;");
    s.wait_for("6,106 rows, 2 shown (.maxrows 0 shows all", 1);

    // .timer on: a run time after each statement
    s.line(".timer on");
    s.line("select 1 as one;");
    s.wait_for("run time: ", 1);
    s.line(".timer off");

    // .read: the statements of a file
    std::fs::write(
        dir.path().join("q.sql"),
        "select 41 + 1 as answer;\nselect 'second' as x;\n",
    )
    .unwrap();
    s.line(".read q.sql");
    s.wait_for("second", 1);
    assert!(s.output().contains(" 42 │"), "{}", s.output());

    // .output FILE, then back to the screen
    s.line(".format csv");
    s.line(".output totals.csv");
    s.line("select * from totals;");
    s.line(".output");
    s.line("select 'on screen' as back;");
    s.wait_for("on screen", 1);
    s.quit();
    let written = std::fs::read_to_string(dir.path().join("totals.csv")).unwrap();
    assert_eq!(written, "action,total_count\nClose,50000\nOpen,50000\n");
    assert!(!s.output().contains("Close,50000"), "the result went to the screen too");
    // errors of the commands are sentences, and the prompt goes on
}

#[test]
fn bad_prompt_commands_say_what_is_expected() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Session::start(dir.path(), dir.path());
    s.wait_for("sql> ", 1);
    s.line(".maxrows many");
    s.wait_for("expected .maxrows N", 1);
    s.line(".read missing.sql");
    s.wait_for("cannot read the SQL file missing.sql", 1);
    s.line(".timer sometimes");
    s.wait_for("expected .timer on or .timer off", 1);
    s.line(".nothing");
    s.wait_for("unknown command .nothing", 1);
    s.quit();
}

#[test]
fn csv_on_a_terminal_shows_control_characters_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    std::fs::write(
        input.join("e.json"),
        "{\"time\":1469501100,\"action\":\"\\u001b]0;PWNED\\u0007X\"}\n",
    )
    .unwrap();
    let exe = assert_cmd::cargo::cargo_bin("windowpane");
    let query = "select action from totals";
    let text = on_terminal(&format!(
        "'{}' sql --format csv '{}' '{query}'",
        exe.display(),
        input.display()
    ));
    assert!(text.contains("\\u{1b}]0;PWNED\\u{7}X"), "{text:?}");
    assert!(!text.contains('\u{1b}') && !text.contains('\u{7}'), "{text:?}");
    // to a pipe, CSV keeps the bytes for the program that reads it
    let piped = std::process::Command::new(&exe)
        .args(["sql", "--format", "csv"])
        .arg(&input)
        .arg(query)
        .output()
        .unwrap();
    assert_eq!(piped.stdout, b"action\n\x1b]0;PWNED\x07X\n");
}

/// Lines that reach the prompt together (a paste without bracketed paste,
/// `tmux paste-buffer`) are each read: none is dropped.
#[test]
fn every_line_of_a_paste_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Session::start(dir.path(), dir.path());
    s.wait_for("sql> ", 1);
    // two statements of two lines each, in one write
    s.type_keys("select count(*) * 3 as n\rfrom totals;\rselect count(*) * 4 as n\rfrom totals;\r");
    s.wait_for("│ 6 │", 1);
    s.wait_for("│ 8 │", 1);
    s.quit();
}

#[test]
fn ctrl_c_abandons_a_running_statement_and_the_prompt_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Session::start(dir.path(), dir.path());
    s.wait_for("sql> ", 1);
    s.line("select 1 as warm;");
    // a query of some seconds and little memory: every pair of minute rows
    // and their actions compared, few kept (an abandoned query goes on
    // until it ends: it must not weigh on the machine meanwhile)
    let answers = s.output().matches("1 row").count();
    s.type_keys(
        "select count(*) as n from minute_counts a cross join minute_counts b \
         where a.count * b.count = 123456789 and a.action || b.action || a.action || b.action <> 'x';\r",
    );
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(s.output().matches("1 row").count(), answers, "the query ended at once");
    // Ctrl-C, as the terminal sends it
    s.type_keys("\u{3}");
    s.wait_for("interrupted: the statement was abandoned", 1);
    assert_eq!(s.output().matches("1 row").count(), answers, "{}", s.output());
    // the same process answers the next statement, views built again
    s.line("select sum(total_count) as events from totals;");
    s.wait_for("100000", 1);
    s.quit();
}

#[test]
fn duckdb_names_of_the_commands_and_describe_work() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Session::start(dir.path(), dir.path());
    s.wait_for("sql> ", 1);
    // DESCRIBE and .schema list a view's columns and types
    s.line("describe totals;");
    s.wait_for("total_count", 1);
    assert!(s.output().contains("column_name"), "{}", s.output());
    s.line(".schema alerts");
    s.wait_for("difference", 1);
    // .mode is .format; .headers off drops the CSV header line
    s.line(".mode csv");
    s.line(".headers off");
    s.line("select * from totals order by action;");
    s.wait_for("Open,50000", 1);
    s.line(".headers on");
    s.line("select 'x' as marker;");
    s.wait_for("marker", 1);
    let out = s.output();
    let before_marker = &out[..out.find("marker").unwrap()];
    assert!(!before_marker.contains("action,total_count"), "{out}");
    // a statement that is not a query is one sentence, not a dump
    s.line("insert into totals values ('a', 1);");
    s.wait_for("windowpane's SQL runs SELECT statements", 1);
    assert!(!s.output().contains("Insert {"), "{}", s.output());
    s.quit();
}

/// A pseudo-terminal that nobody gave a size (`docker exec -t`, some CI
/// runners) reports 0 columns: tables are 80 columns wide there, not one
/// character a column.
#[test]
fn a_terminal_without_a_size_gets_tables_80_columns_wide() {
    let exe = assert_cmd::cargo::cargo_bin("windowpane");
    let input = case("seedlike").join("input");
    let query = "select sum(total_count) as events from totals";
    let text = on_terminal(&format!(
        "stty cols 0 rows 0; exec '{}' sql '{}' '{query}'",
        exe.display(),
        input.display()
    ));
    assert!(text.contains("│ events │") && text.contains("│ 100000 │"), "{text}");
}

/// A result fits the terminal: on 24 lines a long table shows 16 rows,
/// so that its header stays on the screen; `.maxrows` still decides.
#[test]
fn a_long_result_fits_a_24_line_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Session::start_sized(dir.path(), dir.path(), 24);
    s.wait_for("sql> ", 1);
    s.line("select * from minute_counts;");
    s.wait_for("6,106 rows, 16 shown", 1);
    s.line(".maxrows 30");
    s.line("select * from minute_counts;");
    s.wait_for("6,106 rows, 30 shown", 1);
    s.quit();
}
