//! The report page in a real browser: headless Chromium renders
//! `index.html` of a report with hostile values; its text must hold the key
//! figures, no value from the data may have become markup, and the console
//! stays free of errors.
//!
//! Without Chromium (`/usr/bin/chromium`, or the path in `CHROMIUM`) the test
//! says so and passes as skipped, unless `WINDOWPANE_BROWSER_TEST=required`
//! (as in CI, which installs Debian's `chromium`).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;

fn chromium() -> Option<PathBuf> {
    let path = PathBuf::from(std::env::var_os("CHROMIUM").unwrap_or_else(|| "/usr/bin/chromium".into()));
    if path.is_file() {
        return Some(path);
    }
    let required = std::env::var("WINDOWPANE_BROWSER_TEST").is_ok_and(|v| v == "required");
    assert!(
        !required,
        "{} is missing and the browser test is required",
        path.display()
    );
    eprintln!(
        "skipped: {} is not installed (apt-get install chromium)",
        path.display()
    );
    None
}

/// Runs headless Chromium on `page` with `args`, each run with a new empty
/// profile folder and no network services.
fn run(chromium: &Path, page: &Path, args: &[&str]) -> Output {
    let profile = tempfile::tempdir().unwrap();
    std::process::Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap()
}

/// The text of the page without its tags.
fn text(dom: &str) -> String {
    let mut out = String::new();
    let mut tag = false;
    for c in dom.chars() {
        match c {
            '<' => tag = true,
            '>' if tag => {
                tag = false;
                out.push(' ');
            }
            c if !tag => out.push(c),
            _ => {}
        }
    }
    let out = out.split_whitespace().collect::<Vec<_>>().join(" ");
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&")
}

#[test]
fn the_page_renders_in_chromium_with_its_key_figures_and_no_injected_markup() {
    let Some(chromium) = chromium() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut body = String::new();
    for i in 0..600i64 {
        let action = if i % 3 == 0 { "Close" } else { "Open" };
        body.push_str(&format!(
            "{{\"time\":{},\"action\":\"{action}\"}}\n",
            1_469_498_400 + i * 20
        ));
    }
    for _ in 0..30 {
        body.push_str("{\"time\":1469499000,\"action\":\"Open\"}\n");
    }
    body.push_str(
        "{\"time\":1469498400,\"action\":\"<script>document.title='owned'</script>\\n<img src=x onerror=alert(1)>\"}\n",
    );
    body.push_str("<b>not an event</b>\n");
    fs::write(dir.path().join("a.json"), body).unwrap();
    let report = dir.path().join("report");
    Command::cargo_bin("windowpane")
        .unwrap()
        .args(["batch", "--report"])
        .arg(&report)
        .arg(dir.path().join("a.json"))
        .assert()
        .success();
    let page = report.join("index.html");

    let out = run(&chromium, &page, &["--dump-dom"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let dom = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let console: Vec<&str> = stderr.lines().filter(|l| l.contains("CONSOLE")).collect();
    assert!(console.is_empty(), "console messages: {console:#?}");
    // nothing from the data became an element
    assert!(!dom.contains("<script"), "a script element: {dom}");
    assert!(!dom.contains("<img src=\"x\""), "an injected image");
    assert!(!dom.contains("<b>not"), "a rejected line became markup");
    assert!(dom.contains("<title>windowpane · "), "the title was changed");
    // the first screen's figures, as text
    let text = text(&dom);
    for figure in [
        "631 events",
        "1 rejected of 632 lines",
        "02:00–03:00 peak hour, 2016-07-26 (UTC)",
        "1 alert minute (Open − Close beyond ±20)",
    ] {
        assert!(text.contains(figure), "{figure:?} is not on the page: {text}");
    }
    assert!(
        text.contains("<script>document.title='owned'</script> \\n <img src=x onerror=alert(1)>"),
        "the hostile action is shown as text: {text}"
    );

    // a screenshot: a PNG of the page
    let shot = dir.path().join("page.png");
    let out = run(
        &chromium,
        &page,
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1280,1600",
            "--hide-scrollbars",
        ],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let png = fs::read(&shot).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
}
