//! The live view of a stream on a terminal, redrawn after each trigger:
//! progress, the latest minutes' counts per action as bars, the moving
//! average, the variance and the alerts so far. `q`, Esc or Ctrl-C stops the
//! stream after the trigger under way.

use std::time::Duration;

use anyhow::{Context, Result};
use ratatui::crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
use ratatui::layout::{Constraint, Layout};
use ratatui::style::{Color, Style, Stylize};
use ratatui::text::Line;
use ratatui::widgets::{Bar, BarChart, BarGroup, Block, List, ListItem, Paragraph};
use ratatui::DefaultTerminal;

use super::terminal::thousands;
use super::timefmt::short;
use crate::metrics::Figures;

const COLORS: [Color; 6] = [
    Color::LightRed,
    Color::LightBlue,
    Color::LightGreen,
    Color::Magenta,
    Color::Gray,
    Color::Yellow,
];

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
    /// Events per second over this run.
    pub rate: f64,
    /// Every figure now.
    pub figures: &'a Figures,
    /// The online variance.
    pub variance: Option<f64>,
    /// Alert messages so far, oldest first.
    pub alerts: &'a [String],
    /// A status line (mode, watermark, late events).
    pub status: String,
}

/// A full-screen view that restores the terminal when dropped.
pub struct Live {
    terminal: DefaultTerminal,
}

impl Live {
    /// Takes over the terminal.
    pub fn start() -> Result<Self> {
        Ok(Self {
            terminal: ratatui::try_init().context("cannot set up the terminal for the live view")?,
        })
    }

    /// Redraws the screen.
    pub fn draw(&mut self, v: &View) -> Result<()> {
        self.terminal.draw(|frame| {
            let [head, bars, moving, alerts] = Layout::vertical([
                Constraint::Length(4),
                Constraint::Min(8),
                Constraint::Length(3),
                Constraint::Length(8),
            ])
            .areas(frame.area());

            let head_text = vec![
                Line::from(vec![
                    "windowpane stream ".bold(),
                    v.input.into(),
                    format!(
                        " · trigger {} · files {} done, {} left · {} events ({}/s)",
                        v.trigger,
                        v.files_done,
                        v.files_left,
                        thousands(v.events as i64),
                        thousands(v.rate as i64)
                    )
                    .into(),
                ]),
                Line::from(format!(
                    "variance of the minute counts {} · {} alert minutes · {} · q stops",
                    v.variance.map_or("–".into(), |x| format!("{x:.4}")),
                    v.figures.alerts.len(),
                    v.status
                )),
            ];
            frame.render_widget(Paragraph::new(head_text).block(Block::bordered()), head);

            // the latest minutes that fit, one group of bars per minute
            let actions: Vec<&str> = v.figures.totals.iter().map(|t| t.0.as_str()).collect();
            let group_width = actions.len() as u16 * 2 + 1;
            let fit = (bars.width.saturating_sub(2) / group_width.max(1)).max(1) as usize;
            let mut minutes: Vec<i64> = v.figures.minute_counts.start.clone();
            minutes.dedup();
            let shown = &minutes[minutes.len().saturating_sub(fit)..];
            let mut chart = BarChart::default()
                .block(Block::bordered().title(format!(
                    " events per minute, latest {} minutes: {} ",
                    shown.len(),
                    actions
                        .iter()
                        .enumerate()
                        .map(|(i, a)| format!("{a} ({})", ["red", "blue", "green", "magenta", "grey", "yellow"][i % 6]))
                        .collect::<Vec<_>>()
                        .join(", ")
                )))
                .bar_width(2)
                .bar_gap(0)
                .group_gap(1);
            let first = shown.first().copied().unwrap_or(i64::MIN);
            for (k, m) in shown.iter().enumerate() {
                let bars_of: Vec<Bar> = actions
                    .iter()
                    .enumerate()
                    .map(|(i, a)| {
                        let t = &v.figures.minute_counts;
                        let n = (0..t.len())
                            .rev()
                            .take_while(|&i| t.start[i] >= first)
                            .find(|&i| t.start[i] == *m && &*t.names[t.code[i] as usize] == *a)
                            .map_or(0, |i| t.count[i]);
                        Bar::default()
                            .value(n)
                            .text_value(String::new())
                            .style(Style::new().fg(COLORS[i % COLORS.len()]))
                    })
                    .collect();
                let label = if k % 10 == 0 {
                    short(*m)[11..].to_string()
                } else {
                    String::new()
                };
                chart = chart.data(BarGroup::new(bars_of).label(Line::from(label)));
            }
            frame.render_widget(chart, bars);

            let latest = moving_at_latest(v.figures);
            let moving_text = match latest.first().map(|m| m.1) {
                Some(t) => {
                    let parts: Vec<String> = latest
                        .iter()
                        .map(|(action, _, average, variance)| {
                            format!(
                                "{} {:.2} (variance {})",
                                action,
                                average,
                                variance.map_or("–".into(), |x| format!("{x:.2}"))
                            )
                        })
                        .collect();
                    format!("moving average at {}: {}", short(t), parts.join(" · "))
                }
                None => "moving average: no events yet".into(),
            };
            frame.render_widget(Paragraph::new(moving_text).block(Block::bordered()), moving);

            let items: Vec<ListItem> = v
                .alerts
                .iter()
                .rev()
                .take(alerts.height.saturating_sub(2) as usize)
                .map(|a| ListItem::new(a.as_str()))
                .collect();
            frame.render_widget(
                List::new(items).block(Block::bordered().title(" alerts, newest first ")),
                alerts,
            );
        })?;
        Ok(())
    }

    /// True when the user asked to stop (q, Esc or Ctrl-C), waiting up to
    /// `wait` for a key.
    pub fn quit_requested(&self, wait: Duration) -> Result<bool> {
        if !event::poll(wait)? {
            return Ok(false);
        }
        Ok(match event::read()? {
            Event::Key(k) if k.kind == KeyEventKind::Press => {
                matches!(k.code, KeyCode::Char('q') | KeyCode::Esc)
                    || (k.code == KeyCode::Char('c') && k.modifiers.contains(KeyModifiers::CONTROL))
            }
            _ => false,
        })
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        ratatui::restore();
    }
}

/// The moving average of each action at the latest minute of `f`.
fn moving_at_latest(f: &Figures) -> Vec<(String, i64, f64, Option<f64>)> {
    let Ok(df) = f.moving_average() else {
        return Vec::new();
    };
    let (Ok(action), Ok(start), Ok(average), Ok(variance)) = (
        df.column("action").and_then(|c| c.u32()),
        df.column("window_start").and_then(|c| c.i64()),
        df.column("moving_average").and_then(|c| c.f64()),
        df.column("moving_variance").and_then(|c| c.f64()),
    ) else {
        return Vec::new();
    };
    let Some(last) = start.iter().flatten().max() else {
        return Vec::new();
    };
    (0..df.height())
        .filter(|&i| start.get(i) == Some(last))
        .map(|i| {
            let code = action.get(i).unwrap_or(0) as usize;
            (
                f.minute_counts
                    .names
                    .get(code)
                    .map_or_else(String::new, |n| n.to_string()),
                last,
                average.get(i).unwrap_or(f64::NAN),
                variance.get(i),
            )
        })
        .collect()
}
