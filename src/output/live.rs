//! The live view of a stream on a terminal, redrawn after each trigger and
//! whenever the terminal is resized: progress and the rate of the latest
//! triggers, the latest minutes' counts per action as stacked bars on a
//! time axis with a count axis, the moving average, the variance and the
//! alerts so far. `q`, Esc or Ctrl-C stops the stream after the trigger
//! under way; when the view closes, the latest alerts stay printed on the
//! terminal.
//!
//! It fits 80 columns, and each action has a pattern of its own as well as
//! a colour, so the bars read the same under `NO_COLOR` (which the terminal
//! library honours).

use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use anyhow::{Context, Result};
use ratatui::crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
use ratatui::layout::{Constraint, Layout};
use ratatui::style::{Color, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, List, ListItem, Paragraph, Wrap};
use ratatui::DefaultTerminal;

use super::timefmt::short;
use crate::metrics::Figures;
use crate::text::{printable, thousands};

/// How many of the latest minutes the view can show: the stream hands it
/// the minute counts of this many minutes before the latest one.
pub const RECENT_MINUTES: i64 = 240;

/// Triggers the rate is measured over.
const RATE_TRIGGERS: usize = 10;

/// Alerts left printed on the terminal when the view closes.
const ALERTS_KEPT: usize = 20;

/// One pattern and one colour per action, in the order of the totals.
const PATTERNS: [(char, Color); 6] = [
    ('█', Color::LightRed),
    ('▒', Color::LightBlue),
    ('░', Color::LightGreen),
    ('▚', Color::Magenta),
    ('▞', Color::Yellow),
    ('▓', Color::Gray),
];

/// One action's moving average at a minute: `(action, moving average,
/// moving variance)`.
pub type MovingRow = (String, f64, Option<f64>);

/// What the view shows after a trigger.
pub struct View<'a> {
    /// The input's name.
    pub input: &'a str,
    /// Triggers run so far.
    pub trigger: u64,
    /// Files processed so far.
    pub files_done: u64,
    /// Files waiting.
    pub files_left: usize,
    /// Events counted so far.
    pub events: u64,
    /// Events this trigger counted (for the rate of the latest triggers).
    pub trigger_events: u64,
    /// How long this trigger took to run, in milliseconds (the rate counts
    /// the work, not the wait between triggers).
    pub trigger_ms: f64,
    /// Every figure now; the view reads only the small tables (`totals`,
    /// `alerts`).
    pub figures: &'a Figures,
    /// The minute counts `(minute start, action, count)` of the latest
    /// [`RECENT_MINUTES`] minutes, in any order; minutes without events may
    /// be left out (they are drawn empty).
    pub recent: &'a [(i64, String, i64)],
    /// The moving average at its latest minute: that minute, and per action
    /// `(action, moving average, moving variance)`.
    pub moving: Option<(i64, &'a [MovingRow])>,
    /// The online variance.
    pub variance: Option<f64>,
    /// Alert messages so far, oldest first.
    pub alerts: &'a [String],
    /// A status line (mode, watermark, late events).
    pub status: String,
}

/// What was drawn last, kept to draw again when the terminal is resized.
#[derive(Clone, Default)]
struct Screen {
    head: Vec<String>,
    actions: Vec<String>,
    recent: Vec<(i64, String, i64)>,
    alert_minutes: Vec<i64>,
    moving: String,
    alerts: Vec<String>,
    alerts_total: usize,
}

/// A full-screen view that restores the terminal when dropped and then
/// prints the latest alerts ([`alert_log`]).
pub struct Live {
    terminal: RefCell<DefaultTerminal>,
    screen: RefCell<Option<Screen>>,
    /// `(seconds its run took, events)` of the latest triggers.
    samples: VecDeque<(f64, u64)>,
}

/// Events per second of work over the latest triggers: their events over
/// the time their runs took (a followed stream's wait for files is not
/// work, and counting it made a fast stream look slow).
fn rate(samples: &VecDeque<(f64, u64)>) -> Option<f64> {
    let secs: f64 = samples.iter().map(|s| s.0).sum();
    let events: u64 = samples.iter().map(|s| s.1).sum();
    (secs > 0.0).then(|| events as f64 / secs)
}

impl Live {
    /// Takes over the terminal.
    pub fn start() -> Result<Self> {
        Ok(Self {
            terminal: RefCell::new(ratatui::try_init().context("cannot set up the terminal for the live view")?),
            screen: RefCell::new(None),
            samples: VecDeque::new(),
        })
    }

    /// Shows, before any trigger, that the stream watches `input` for
    /// files (a view drawn once stays as it is while the stream waits).
    pub fn waiting(&self, input: &str) -> Result<()> {
        if self.screen.borrow().is_some() {
            return Ok(());
        }
        let lines = vec![
            Line::from(format!("windowpane stream {}", printable(input)).bold()),
            Line::from("watching the folder: no new file yet; a trigger runs as soon as one lands"),
            Line::from("q stops"),
        ];
        self.terminal
            .borrow_mut()
            .draw(|frame| frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), frame.area()))
            .context("cannot draw the live view")?;
        Ok(())
    }

    /// Redraws the screen after a trigger.
    pub fn draw(&mut self, v: &View) -> Result<()> {
        self.samples.push_back((v.trigger_ms / 1000.0, v.trigger_events));
        while self.samples.len() > RATE_TRIGGERS {
            self.samples.pop_front();
        }
        let measured = self.samples.len().max(1);
        let rate = rate(&self.samples).map_or("–".into(), |r| format!("{} events/s", thousands(r.round() as i64)));
        let head = vec![
            format!(
                "windowpane stream {} · trigger {} · files {} done, {} left",
                printable(v.input),
                v.trigger,
                thousands(v.files_done as i64),
                thousands(v.files_left as i64)
            ),
            format!(
                "{} events · {rate} in the last {measured} trigger{} · variance {}",
                thousands(v.events as i64),
                if measured == 1 { "" } else { "s" },
                v.variance.map_or("–".into(), |x| format!("{x:.4}")),
            ),
            format!(
                "{} in the state · {} · q stops",
                crate::text::count_of(v.figures.alerts.len() as u64, "alert minutes"),
                printable(&v.status)
            ),
        ];
        let moving = match v.moving {
            Some((t, rows)) if !rows.is_empty() => {
                let parts: Vec<String> = rows
                    .iter()
                    .map(|(a, m, var)| {
                        format!(
                            "{} {m:.2} (variance {})",
                            printable(a),
                            var.map_or("–".into(), |x| format!("{x:.2}"))
                        )
                    })
                    .collect();
                format!("moving average at {}: {}", short(t), parts.join(" · "))
            }
            _ => "moving average: no events yet".into(),
        };
        let keep = v.alerts.len().saturating_sub(200);
        let screen = Screen {
            head,
            actions: v.figures.totals.iter().map(|t| t.0.clone()).collect(),
            recent: v.recent.to_vec(),
            alert_minutes: v.figures.alerts.iter().map(|a| a.window_start).collect(),
            moving,
            alerts: v.alerts[keep..].iter().map(|a| printable(a).into_owned()).collect(),
            alerts_total: v.alerts.len(),
        };
        *self.screen.borrow_mut() = Some(screen);
        self.redraw()
    }

    /// Draws the latest screen again, fitted to the terminal's size now.
    fn redraw(&self) -> Result<()> {
        let screen = self.screen.borrow();
        let Some(s) = screen.as_ref() else {
            return Ok(());
        };
        self.terminal.borrow_mut().draw(|frame| {
            // the text blocks as tall as their lines wrapped to the width
            let inner = frame.area().width.saturating_sub(2).max(1) as usize;
            let rows = |lines: &[&str]| -> u16 {
                let n: usize = lines.iter().map(|l| l.chars().count().div_ceil(inner).max(1)).sum();
                n as u16 + 2
            };
            let head_lines: Vec<&str> = s.head.iter().map(String::as_str).collect();
            let [head, bars, moving, alerts] = Layout::vertical([
                Constraint::Length(rows(&head_lines)),
                Constraint::Min(9),
                Constraint::Length(rows(&[s.moving.as_str()])),
                Constraint::Length(7),
            ])
            .areas(frame.area());
            let head_text: Vec<Line> = s
                .head
                .iter()
                .enumerate()
                .map(|(i, l)| {
                    let span = Span::from(l.clone());
                    Line::from(if i == 0 { span.bold() } else { span })
                })
                .collect();
            frame.render_widget(
                Paragraph::new(head_text)
                    .wrap(Wrap { trim: true })
                    .block(Block::bordered()),
                head,
            );

            let legend: Vec<String> = s
                .actions
                .iter()
                .enumerate()
                .map(|(i, a)| format!("{} {}", PATTERNS[i % PATTERNS.len()].0, printable(a)))
                .collect();
            let inner_width = bars.width.saturating_sub(2) as usize;
            let inner_height = bars.height.saturating_sub(2) as usize;
            let chart = bar_lines(&s.recent, &s.actions, &s.alert_minutes, inner_width, inner_height);
            frame.render_widget(
                Paragraph::new(chart)
                    .block(Block::bordered().title(format!(" events per minute (UTC): {} ", legend.join("  ")))),
                bars,
            );
            frame.render_widget(
                Paragraph::new(s.moving.clone())
                    .wrap(Wrap { trim: true })
                    .block(Block::bordered()),
                moving,
            );
            let items: Vec<ListItem> = s
                .alerts
                .iter()
                .rev()
                .take(alerts.height.saturating_sub(2) as usize)
                .map(|a| ListItem::new(a.clone()))
                .collect();
            frame.render_widget(
                List::new(items).block(
                    Block::bordered().title(format!(" alert changes this run, newest first ({}) ", s.alerts_total)),
                ),
                alerts,
            );
        })?;
        Ok(())
    }

    /// True when the user asked to stop (q, Esc or Ctrl-C), waiting up to
    /// `wait` for a key. A resized terminal is redrawn at once.
    pub fn quit_requested(&self, wait: Duration) -> Result<bool> {
        if !event::poll(wait)? {
            return Ok(false);
        }
        Ok(match event::read()? {
            Event::Key(k) if k.kind == KeyEventKind::Press => {
                matches!(k.code, KeyCode::Char('q') | KeyCode::Esc)
                    || (k.code == KeyCode::Char('c') && k.modifiers.contains(KeyModifiers::CONTROL))
            }
            Event::Resize(..) => {
                self.redraw()?;
                false
            }
            _ => false,
        })
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        ratatui::restore();
        let screen = self.screen.borrow();
        if let Some(s) = screen.as_ref() {
            let text = alert_log(&s.alerts, s.alerts_total);
            if !text.is_empty() {
                let _ = crate::text::print_stdout(&text);
            }
        }
    }
}

/// The text left on the terminal when the live view closes: the latest
/// alert messages (at most 20, oldest first) of `alerts`, out of `total`
/// in all; empty when there were none.
pub fn alert_log(alerts: &[String], total: usize) -> String {
    if alerts.is_empty() {
        return String::new();
    }
    let shown = &alerts[alerts.len().saturating_sub(ALERTS_KEPT)..];
    let mut out = if shown.len() < total {
        format!(
            "alert changes of this run: the latest {} of {total} (every alert minute is in tables/alerts.csv of the report)\n",
            shown.len()
        )
    } else {
        format!("alert changes of this run ({total}):\n")
    };
    for a in shown {
        out.push_str("  ");
        out.push_str(&printable(a));
        out.push('\n');
    }
    out
}

/// The bar chart as lines of text `width` by `height`: a count axis on the
/// left, one column per minute up to the latest (minutes without events
/// drawn empty, none skipped), each column the actions' counts stacked in
/// their patterns and colours, then a time axis with a tick every 10
/// minutes, `!` under the alert minutes, and the ticks' times.
pub fn bar_lines(
    recent: &[(i64, String, i64)],
    actions: &[String],
    alert_minutes: &[i64],
    width: usize,
    height: usize,
) -> Vec<Line<'static>> {
    let Some(latest) = recent.iter().map(|r| r.0).max() else {
        return vec![Line::from("no events yet")];
    };
    if height < 4 || width < 12 {
        return vec![Line::from("(too small to draw)")];
    }
    let rows = height - 2; // the time axis and its labels below
                           // counts per minute, one per action in the legend's order
    let mut by_minute: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for (m, a, n) in recent {
        if let Some(i) = actions.iter().position(|x| x == a) {
            by_minute.entry(*m).or_insert_with(|| vec![0; actions.len()])[i] += n;
        }
    }
    let first_seen = *by_minute.keys().next().unwrap_or(&latest);
    let max_total = by_minute
        .values()
        .map(|v| v.iter().sum::<i64>())
        .max()
        .unwrap_or(0)
        .max(1);
    let label_width = thousands(nice_top(max_total)).len().max(1);
    let columns = width - label_width - 2;
    // the latest minutes that fit, from the first with events at most
    let span = ((latest - first_seen) / 60 + 1) as usize;
    let shown = columns.min(span);
    let start = latest - (shown as i64 - 1) * 60;
    let minutes: Vec<i64> = (0..shown as i64).map(|k| start + k * 60).collect();
    // the scale is that of the minutes shown, up to a round number
    let max_total = nice_top(
        by_minute
            .range(start..)
            .map(|(_, v)| v.iter().sum::<i64>())
            .max()
            .unwrap_or(0)
            .max(1),
    );

    // cells[row][col] = which action fills it, rows from the top
    let mut cells: Vec<Vec<Option<usize>>> = vec![vec![None; shown]; rows];
    for (col, m) in minutes.iter().enumerate() {
        let Some(counts) = by_minute.get(m) else { continue };
        let mut cum = 0i64;
        let mut filled = 0usize;
        for (i, n) in counts.iter().enumerate() {
            cum += n;
            let top = ((cum as f64 / max_total as f64) * rows as f64).round() as usize;
            for r in filled..top.min(rows) {
                cells[rows - 1 - r][col] = Some(i);
            }
            filled = filled.max(top.min(rows));
        }
    }
    let mut lines = Vec::with_capacity(height);
    // the row where bars reach half the top: labelled with that half
    let half_row = rows - (rows as f64 / 2.0).round() as usize;
    for (r, row) in cells.iter().enumerate() {
        let label = if r == 0 {
            thousands(max_total)
        } else if r == half_row && rows >= 5 && max_total % 2 == 0 {
            thousands(max_total / 2)
        } else {
            String::new()
        };
        let tick = if label.is_empty() { '│' } else { '┤' };
        let mut spans = vec![Span::raw(format!("{label:>label_width$} {tick}"))];
        for cell in row {
            spans.push(match cell {
                Some(i) => {
                    let (ch, color) = PATTERNS[i % PATTERNS.len()];
                    Span::styled(ch.to_string(), Style::new().fg(color))
                }
                None => Span::raw(" "),
            });
        }
        lines.push(Line::from(spans));
    }
    // the time axis: └ at the zero, ┬ every 10 minutes, ! at alert minutes
    let mut axis = format!("{:>label_width$} └", 0);
    let mut labels = " ".repeat(label_width + 2);
    let mut next_free = 0usize;
    for (col, m) in minutes.iter().enumerate() {
        let ten = m.rem_euclid(600) == 0;
        axis.push(if alert_minutes.contains(m) {
            '!'
        } else if ten {
            '┬'
        } else {
            '─'
        });
        if ten && col >= next_free && col + 5 <= shown {
            let hm = &short(*m)[11..];
            while labels.chars().count() < label_width + 2 + col {
                labels.push(' ');
            }
            labels.push_str(hm);
            next_free = col + 6;
        }
    }
    lines.push(Line::from(axis));
    lines.push(Line::from(labels));
    lines
}

/// The top of a bar scale: the smallest of 1, 2, 4, 5 times a power of
/// ten that is at least `max`, so that the top and its half are round.
fn nice_top(max: i64) -> i64 {
    let mut power = 1i64;
    loop {
        for m in [1, 2, 4, 5] {
            let top = m * power;
            if top >= max {
                return top;
            }
        }
        power = power.saturating_mul(10);
        if power == i64::MAX {
            return max;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bar_scales_end_at_round_numbers() {
        let tops: Vec<i64> = [1, 3, 7, 13, 27, 45, 48, 51, 99, 101, 4_500].map(nice_top).to_vec();
        assert_eq!(tops, [1, 4, 10, 20, 40, 50, 50, 100, 100, 200, 5_000]);
    }

    fn text(lines: &[Line]) -> Vec<String> {
        lines
            .iter()
            .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect::<String>())
            .collect()
    }

    #[test]
    fn the_rate_counts_the_work_of_the_triggers_not_the_wait_between_them() {
        // two triggers of 1,000 and 3,000 events that ran 2 ms and 2 ms,
        // however long the stream waited for their files
        let samples: VecDeque<(f64, u64)> = [(0.002, 1_000), (0.002, 3_000)].into_iter().collect();
        assert_eq!(rate(&samples), Some(1_000_000.0));
        assert_eq!(rate(&VecDeque::new()), None);
        assert_eq!(rate(&[(0.0, 5)].into_iter().collect()), None);
    }

    #[test]
    fn bars_keep_empty_minutes_on_the_time_axis_and_stack_actions() {
        // 00:58 has 4 opens and 4 closes, 00:59 nothing, 01:00 two opens
        let t = 1_469_498_280; // 2016-07-26 01:58 UTC
        let recent = vec![
            (t, "Open".to_string(), 4),
            (t, "Close".to_string(), 4),
            (t + 120, "Open".to_string(), 2),
        ];
        let actions = vec!["Close".to_string(), "Open".to_string()];
        let lines = text(&bar_lines(&recent, &actions, &[t + 120], 40, 10));
        assert_eq!(lines.len(), 10);
        // 8 rows of bars up to 10, the round number above the largest
        // total (8), and 5 where the bars reach half of it
        assert_eq!(lines[0], "10 ┤   ");
        // the first minute: 4 closes (█) under 4 opens (▒), the empty minute, 2 opens
        assert_eq!(lines[2], "   │▒  ");
        assert_eq!(lines[4], " 5 ┤▒  ");
        assert_eq!(lines[5], "   │█  ");
        assert_eq!(lines[7], "   │█ ▒");
        // the axis ticks 02:00, marks the alert minute, and labels the tick
        assert_eq!(lines[8], " 0 └──!");
        assert!(lines[9].is_empty() || lines[9].trim().is_empty(), "{:?}", lines[9]);
    }

    #[test]
    fn the_axis_labels_every_ten_minutes_that_fit() {
        let t0 = 1_469_498_400; // 02:00
        let recent: Vec<(i64, String, i64)> = (0..30).map(|k| (t0 + 60 * k, "Open".to_string(), 1 + k % 3)).collect();
        let lines = text(&bar_lines(&recent, &["Open".to_string()], &[], 80, 8));
        let axis = &lines[6];
        assert!(axis.starts_with("0 └┬─────────┬─────────┬"), "{axis}");
        assert_eq!(lines[7], "   02:00     02:10     02:20");
        assert!(lines[0].starts_with("4 ┤"), "{}", lines[0]);
    }

    #[test]
    fn the_scale_is_that_of_the_minutes_shown() {
        let t0 = 1_469_498_400;
        // a peak of 100 long before the 20 minutes that fit, then counts up to 10
        let mut recent = vec![(t0, "Open".to_string(), 100)];
        recent.extend((100..130).map(|k| (t0 + 60 * k, "Open".to_string(), 1 + k % 10)));
        let lines = text(&bar_lines(&recent, &["Open".to_string()], &[], 25, 12));
        assert!(lines[0].starts_with(" 10 ┤"), "{lines:#?}");
    }

    #[test]
    fn bars_fit_the_width_and_show_the_latest_minutes() {
        let t0 = 1_469_498_400;
        let recent: Vec<(i64, String, i64)> = (0..500).map(|k| (t0 + 60 * k, "Open".to_string(), 1)).collect();
        for line in text(&bar_lines(&recent, &["Open".to_string()], &[], 78, 12)) {
            assert!(line.chars().count() <= 78, "{line}");
        }
    }

    #[test]
    fn the_alert_log_keeps_the_latest_and_escapes_them() {
        assert_eq!(alert_log(&[], 0), "");
        let alerts: Vec<String> = (0..25).map(|i| format!("alert {i}")).collect();
        let log = alert_log(&alerts, 30);
        assert!(
            log.starts_with("alert changes of this run: the latest 20 of 30"),
            "{log}"
        );
        assert!(log.contains("  alert 5\n") && log.ends_with("  alert 24\n") && !log.contains("alert 4\n"));
        let log = alert_log(&["new: \u{1b}]0;PWNED\u{7}X".to_string()], 1);
        assert_eq!(log, "alert changes of this run (1):\n  new: \\u{1b}]0;PWNED\\u{7}X\n");
    }
}
