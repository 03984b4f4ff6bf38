//! A progress bar on standard error for long work: it appears only when
//! standard error is a terminal and the work has already taken about a
//! second, so quick runs and pipelines never see it.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How long work runs before the bar is shown.
const DELAY: Duration = Duration::from_secs(1);

/// A counter of work done that may show itself as a bar.
pub struct Progress {
    bar: ProgressBar,
    started: Instant,
    shown: Mutex<bool>,
    enabled: bool,
}

impl Progress {
    /// A bar over `total` units of `what` (e.g. "files"), shown if useful.
    pub fn new(total: u64, what: &str) -> Self {
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden());
        let template = format!("{{spinner}} reading {{pos}}/{{len}} {what} [{{bar:30}}] {{elapsed}} (eta {{eta}})");
        if let Ok(style) = ProgressStyle::with_template(&template) {
            bar.set_style(style.progress_chars("=> "));
        }
        Self {
            bar,
            started: Instant::now(),
            shown: Mutex::new(false),
            enabled: std::io::stderr().is_terminal(),
        }
    }

    /// A progress that never shows.
    pub fn hidden() -> Self {
        let mut p = Self::new(0, "");
        p.enabled = false;
        p
    }

    /// Records `n` more units done.
    pub fn inc(&self, n: u64) {
        self.bar.inc(n);
        if self.enabled && self.started.elapsed() >= DELAY {
            let mut shown = self.shown.lock().unwrap_or_else(|e| e.into_inner());
            if !*shown {
                self.bar.set_draw_target(ProgressDrawTarget::stderr());
                *shown = true;
            }
        }
    }

    /// Removes the bar from the screen.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
