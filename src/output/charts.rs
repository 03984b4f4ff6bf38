//! The report's charts, drawn with plotters into PNG files.
//!
//! The font (DejaVu Sans) is compiled into the binary, so charts render the
//! same on a machine with no system fonts.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Once;

use anyhow::{anyhow, Result};
use chrono::{DateTime, Utc};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::{CoordTranslate, Shift};
use plotters::prelude::*;

use super::timefmt::short;
use crate::engine::stream::TriggerRow;
use crate::metrics::{Figures, Options, HOUR, MINUTE};

/// Chart size in pixels.
const SIZE: (u32, u32) = (1200, 520);

/// Colours given to actions in name order.
const PALETTE: [RGBColor; 6] = [
    RGBColor(214, 96, 26),  // orange
    RGBColor(31, 104, 180), // blue
    RGBColor(44, 150, 60),  // green
    RGBColor(148, 82, 180), // purple
    RGBColor(120, 120, 120),
    RGBColor(200, 40, 120),
];
const ALERT: RGBColor = RGBColor(210, 30, 30);

/// The chart files, in the order the HTML page shows them, with captions
/// (the last one only for streams).
pub const CHARTS: [(&str, &str); 5] = [
    ("hourly_counts.png", "Events per hour, per action"),
    (
        "minute_counts.png",
        "Events per minute and 30-minute moving average, per action",
    ),
    (
        "hourly_average.png",
        "Average actions per minute, per hour (peak hour highlighted)",
    ),
    (
        "alert_difference.png",
        "Open − Close per minute, with the alert threshold and alert minutes",
    ),
    (
        "triggers.png",
        "Variance of the minute counts and state size after each trigger",
    ),
];

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // the font is a valid TrueType file shipped by the dejavu crate
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, dejavu::sans::regular());
    });
}

fn color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

fn err<E: std::fmt::Display>(e: E) -> anyhow::Error {
    anyhow!("drawing a chart failed: {e}")
}

type Area<'a> = DrawingArea<BitMapBackend<'a>, Shift>;
type TimeChart<'a, 'b> =
    ChartContext<'a, BitMapBackend<'b>, Cartesian2d<RangedDateTime<DateTime<Utc>>, RangedCoordf64>>;

/// Epoch seconds as a chart coordinate.
fn dt(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(secs, 0).unwrap_or_default()
}

fn time_label(x: &DateTime<Utc>) -> String {
    short(x.timestamp())
}

/// Draws the stream's chart: the online variance and the number of state
/// rows after each trigger, one panel each.
pub fn triggers(rows: &[TriggerRow], dir: &Path) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    register_font();
    let path = dir.join(CHARTS[4].0);
    let root = area(&path)?;
    let root = root.titled(CHARTS[4].1, ("sans-serif", 22)).map_err(err)?;
    let panels = root.split_evenly((2, 1));
    let n = rows.len() as f64;
    // (y axis, points, colour, decimals of the y labels)
    type Panel<'a> = (&'a str, Vec<(f64, f64)>, RGBColor, usize);
    let series: [Panel; 2] = [
        (
            "variance of the minute counts",
            rows.iter()
                .filter_map(|r| Some((r.trigger as f64, r.variance?)))
                .collect(),
            color(1),
            1,
        ),
        (
            "state rows",
            rows.iter().map(|r| (r.trigger as f64, r.state_rows as f64)).collect(),
            color(0),
            0,
        ),
    ];
    for (panel, (label, pts, c, decimals)) in panels.iter().zip(series) {
        let top = pts.iter().map(|p| p.1).fold(1.0, f64::max) * 1.1;
        let mut chart = ChartBuilder::on(panel)
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(64)
            .build_cartesian_2d(0.5..n + 0.5, 0.0..top)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("trigger")
            .y_desc(label)
            .x_label_formatter(&|v| format!("{v:.0}"))
            .y_label_formatter(&|v| format!("{v:.decimals$}"))
            .label_style(("sans-serif", 14))
            .draw()
            .map_err(err)?;
        chart
            .draw_series(LineSeries::new(pts.clone(), c.stroke_width(2)))
            .map_err(err)?;
        chart
            .draw_series(pts.into_iter().map(|p| Circle::new(p, 3, c.filled())))
            .map_err(err)?;
    }
    root.present().map_err(err)
}

/// Draws every chart of the figures into `dir`. Does nothing when there are
/// no events.
pub fn draw_all(f: &Figures, opts: &Options, dir: &Path) -> Result<()> {
    if f.minute_counts.is_empty() {
        return Ok(());
    }
    register_font();
    hourly_counts(f, &dir.join(CHARTS[0].0))?;
    minute_counts(f, opts, &dir.join(CHARTS[1].0))?;
    hourly_average(f, &dir.join(CHARTS[2].0))?;
    alert_difference(f, opts, &dir.join(CHARTS[3].0))?;
    Ok(())
}

fn area(path: &Path) -> Result<Area<'_>> {
    let root = BitMapBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    Ok(root)
}

fn actions(f: &Figures) -> Vec<&str> {
    f.totals.iter().map(|t| t.0.as_str()).collect()
}

fn hourly_counts(f: &Figures, path: &Path) -> Result<()> {
    let root = area(path)?;
    let x0 = f.hourly_counts.iter().map(|c| c.window_start).min().unwrap_or(0);
    let x1 = f.hourly_counts.iter().map(|c| c.window_start).max().unwrap_or(0) + HOUR;
    let ymax = f.hourly_count_max().unwrap_or(1).max(1) as f64 * 1.1;
    let mut chart = time_chart(
        &root,
        CHARTS[0].1,
        (x0, x1),
        (0f64, ymax),
        "events per hour",
        "hour (UTC)",
        true,
    )?;
    for (i, a) in actions(f).into_iter().enumerate() {
        let c = color(i);
        let pts: Vec<(DateTime<Utc>, f64)> = f
            .hourly_counts
            .iter()
            .filter(|r| &*r.action == a)
            .map(|r| (dt(r.window_start + HOUR / 2), r.count as f64))
            .collect();
        chart
            .draw_series(LineSeries::new(pts.clone(), c.stroke_width(2)))
            .map_err(err)?
            .label(a.to_string())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(3)));
        chart
            .draw_series(pts.into_iter().map(|p| Circle::new(p, 3, c.filled())))
            .map_err(err)?;
    }
    legend(&mut chart)?;
    root.present().map_err(err)
}

/// A chart over time (x: epoch seconds `x0..x1`) with its caption, axes and
/// grid drawn; `integer` labels the y axis without decimals.
fn time_chart<'a, 'b>(
    root: &'a Area<'b>,
    caption: &str,
    (x0, x1): (i64, i64),
    (y0, y1): (f64, f64),
    y_desc: &str,
    x_desc: &str,
    integer: bool,
) -> Result<TimeChart<'a, 'b>> {
    let mut chart = ChartBuilder::on(root)
        .caption(caption, ("sans-serif", 22))
        .margin(16)
        .x_label_area_size(40)
        .y_label_area_size(64)
        .build_cartesian_2d(dt(x0)..dt(x1), y0..y1)
        .map_err(err)?;
    let whole = |v: &f64| format!("{v:.0}");
    let decimal = |v: &f64| format!("{v:.1}");
    chart
        .configure_mesh()
        .x_labels(8)
        .x_label_formatter(&time_label)
        .y_desc(y_desc)
        .y_label_formatter(if integer { &whole } else { &decimal })
        .x_desc(x_desc)
        .label_style(("sans-serif", 14))
        .draw()
        .map_err(err)?;
    Ok(chart)
}

fn legend<'a, 'b: 'a, CT: CoordTranslate>(chart: &mut ChartContext<'a, BitMapBackend<'b>, CT>) -> Result<()> {
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .label_font(("sans-serif", 14))
        .draw()
        .map_err(err)
}

/// One row of the moving-average table.
struct MovingRow {
    action: std::sync::Arc<str>,
    window_start: i64,
    count: i64,
    moving_average: f64,
}

fn moving_rows(f: &Figures) -> Result<Vec<MovingRow>> {
    let df = f.moving_average()?;
    let (a, s, c, m) = (
        df.column("action")?.u32()?,
        df.column("window_start")?.i64()?,
        df.column("count")?.i64()?,
        df.column("moving_average")?.f64()?,
    );
    Ok((0..df.height())
        .map(|i| MovingRow {
            action: f.minute_counts.names[a.get(i).unwrap_or(0) as usize].clone(),
            window_start: s.get(i).unwrap_or(0),
            count: c.get(i).unwrap_or(0),
            moving_average: m.get(i).unwrap_or(f64::NAN),
        })
        .collect())
}

fn minute_counts(f: &Figures, opts: &Options, path: &Path) -> Result<()> {
    let root = area(path)?;
    let moving = moving_rows(f)?;
    let x0 = moving.iter().map(|m| m.window_start).min().unwrap_or(0);
    let x1 = moving.iter().map(|m| m.window_start).max().unwrap_or(0) + MINUTE;
    let ymax = moving.iter().map(|m| m.count).max().unwrap_or(1).max(1) as f64 * 1.1;
    let caption = format!(
        "Events per minute and {}-minute moving average, per action",
        opts.moving_window
    );
    let mut chart = time_chart(
        &root,
        &caption,
        (x0, x1),
        (0f64, ymax),
        "events per minute",
        "minute (UTC)",
        true,
    )?;
    for (i, a) in actions(f).into_iter().enumerate() {
        let c = color(i);
        let rows = moving.iter().filter(|m| &*m.action == a);
        chart
            .draw_series(LineSeries::new(
                rows.clone().map(|m| (dt(m.window_start), m.count as f64)),
                c.mix(0.25).stroke_width(1),
            ))
            .map_err(err)?
            .label(format!("{a} per minute"))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c.mix(0.35).stroke_width(2)));
        chart
            .draw_series(LineSeries::new(
                rows.map(|m| (dt(m.window_start), m.moving_average)),
                c.stroke_width(2),
            ))
            .map_err(err)?
            .label(format!("{a} moving average"))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(3)));
    }
    legend(&mut chart)?;
    root.present().map_err(err)
}

fn hourly_average(f: &Figures, path: &Path) -> Result<()> {
    let root = area(path)?;
    let x0 = f.hourly_average.first().map_or(0, |h| h.window_start);
    let x1 = f.hourly_average.last().map_or(0, |h| h.window_end);
    let ymax = f.hourly_average.iter().map(|h| h.average).fold(1.0, f64::max) * 1.15;
    let mut chart = time_chart(
        &root,
        CHARTS[2].1,
        (x0, x1),
        (0f64, ymax),
        "average actions per minute",
        "hour (UTC)",
        false,
    )?;
    let peak = f.peak_hour.as_ref().map(|p| p.window_start);
    let base = color(1);
    chart
        .draw_series(f.hourly_average.iter().map(|h| {
            let style = if Some(h.window_start) == peak {
                ALERT.filled()
            } else {
                base.mix(0.7).filled()
            };
            Rectangle::new(
                [
                    (dt(h.window_start + HOUR / 20), 0.0),
                    (dt(h.window_end - HOUR / 20), h.average),
                ],
                style,
            )
        }))
        .map_err(err)?;
    if let Some(p) = &f.peak_hour {
        let text = format!("peak {} : {:.3}", short(p.window_start), p.average);
        let anchor = if p.window_start - x0 > (x1 - x0) * 3 / 4 {
            x0 + (x1 - x0) * 3 / 5
        } else {
            p.window_start
        };
        chart
            .draw_series(std::iter::once(Text::new(
                text,
                (dt(anchor), p.average * 1.05),
                ("sans-serif", 15).into_font().color(&ALERT),
            )))
            .map_err(err)?;
    }
    root.present().map_err(err)
}

fn alert_difference(f: &Figures, opts: &Options, path: &Path) -> Result<()> {
    let root = area(path)?;
    let (open, close) = (&opts.alert_actions.0, &opts.alert_actions.1);
    // the difference at every minute of the data's range
    let mut diff: BTreeMap<i64, i64> = BTreeMap::new();
    for m in moving_rows(f)? {
        diff.entry(m.window_start).or_insert(0);
    }
    for (action, start, count) in f.minute_counts.iter() {
        if **action == **open {
            *diff.entry(start).or_insert(0) += count as i64;
        }
        if **action == **close {
            *diff.entry(start).or_insert(0) -= count as i64;
        }
    }
    let x0 = diff.keys().next().copied().unwrap_or(0);
    let x1 = diff.keys().last().copied().unwrap_or(0) + MINUTE;
    let t = opts.alert_threshold as f64;
    let lim = diff.values().map(|d| d.unsigned_abs() as f64).fold(t, f64::max) * 1.15 + 1.0;
    let caption = format!(
        "{open} − {close} per minute, alert when |difference| > {}",
        opts.alert_threshold
    );
    let mut chart = time_chart(
        &root,
        &caption,
        (x0, x1),
        (-lim, lim),
        &format!("{open} − {close}"),
        "minute (UTC)",
        true,
    )?;
    chart
        .draw_series(LineSeries::new(
            diff.iter().map(|(k, v)| (dt(*k), *v as f64)),
            color(1).stroke_width(1),
        ))
        .map_err(err)?
        .label("difference")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color(1).stroke_width(2)));
    for sign in [1.0, -1.0] {
        let s = chart
            .draw_series(DashedLineSeries::new(
                vec![(dt(x0), sign * t), (dt(x1), sign * t)],
                8,
                6,
                ALERT.mix(0.8).stroke_width(1),
            ))
            .map_err(err)?;
        if sign > 0.0 {
            s.label(format!("threshold ±{}", opts.alert_threshold))
                .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], ALERT.stroke_width(1)));
        }
    }
    chart
        .draw_series(
            f.alerts
                .iter()
                .map(|a| Circle::new((dt(a.window_start), a.difference as f64), 6, ALERT.stroke_width(2))),
        )
        .map_err(err)?
        .label(format!("alert minutes ({})", f.alerts.len()))
        .legend(|(x, y)| Circle::new((x + 10, y), 5, ALERT.stroke_width(2)));
    legend(&mut chart)?;
    root.present().map_err(err)
}
