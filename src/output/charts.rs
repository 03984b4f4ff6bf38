//! The report's charts, drawn with plotters into PNG files.
//!
//! A chart never gets more points per series than it has pixels: the
//! stretch of time holding the bulk of the data (see [`series::bulk`]) is
//! cut into at most [`MAX_BINS`] bins of a minute, an hour, a day or a week.
//! When a bin holds more than one minute (or hour), the chart draws the
//! range of the values in it as a band and their mean as a line, and says so
//! on its axis; a separate chart keeps the minute detail of the last hours.
//! Events far from the rest are left out of the charts and counted in a note.
//!
//! The font (DejaVu Sans) is compiled into the binary, so charts render the
//! same on a machine with no system fonts.

use std::cell::RefCell;
use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::sync::Once;

use super::canvas::Canvas;
use anyhow::{anyhow, Result};
use chrono::{DateTime, Utc};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use polars::prelude::{DataFrame, PolarsResult};

use super::report::Report;
use super::series::{self, Bins, Bulk};
use super::timefmt::short;
use crate::engine::stream::TriggerRow;
use crate::metrics::{HOUR, MINUTE};

/// Chart size in pixels.
const SIZE: (u32, u32) = (1200, 500);

/// The zlib level of the charts' image data. Level 3 takes 40% of the
/// time of the default (6) for files a fifth larger (240 KB against
/// 200 KB for a year's five charts); the charts are drawn again at every
/// report, so the time counts more than the bytes.
const PNG_LEVEL: u32 = 3;
/// The most bins (points per series) a chart over time draws.
pub const MAX_BINS: usize = 1000;
/// The minute detail kept when the minute chart is binned.
const RECENT: i64 = 6 * HOUR;
/// The most actions drawn (the largest by total); the others are named in
/// the note.
const MAX_ACTIONS: usize = 8;
/// The most actions whose ranges are drawn as bands (see [`Plan::bands`]).
const MAX_BANDS: usize = 3;
/// The most alert minutes marked one by one.
const MAX_MARKS: usize = 5000;

/// Colours given to actions in name order.
const PALETTE: [RGBColor; 8] = [
    RGBColor(214, 96, 26),  // orange
    RGBColor(31, 104, 180), // blue
    RGBColor(44, 150, 60),  // green
    RGBColor(148, 82, 180), // purple
    RGBColor(120, 120, 120),
    RGBColor(200, 40, 120),
    RGBColor(20, 150, 160),
    RGBColor(150, 120, 30),
];
const ALERT: RGBColor = RGBColor(210, 30, 30);

/// One chart of a report, as the page shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    /// File name in `charts/`.
    pub file: &'static str,
    /// Caption.
    pub caption: String,
}

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

type Area<'a> = DrawingArea<Canvas<'a>, Shift>;

/// Draws one chart of a report: with its plan, the caption, the note on
/// the time axis, on the area.
type Draw = fn(&Report, &Plan, &str, &str, &Area) -> Result<()>;
type TimeChart<'a, 'b> = ChartContext<'a, Canvas<'b>, Cartesian2d<RangedDateTime<DateTime<Utc>>, RangedCoordf64>>;

/// Epoch seconds as a chart coordinate.
fn dt(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(secs, 0).unwrap_or_default()
}

/// Epoch seconds of a datetime column (milliseconds); nulls as `i64::MIN`.
fn secs(df: &DataFrame, name: &str) -> PolarsResult<Vec<i64>> {
    let s = df.column(name)?.as_materialized_series().to_physical_repr();
    Ok(s.i64()?
        .iter()
        .map(|v| v.map_or(i64::MIN, |ms| ms.div_euclid(1000)))
        .collect())
}

fn ints(df: &DataFrame, name: &str) -> PolarsResult<Vec<f64>> {
    Ok(df
        .column(name)?
        .i64()?
        .iter()
        .map(|v| v.map_or(f64::NAN, |v| v as f64))
        .collect())
}

fn floats(df: &DataFrame, name: &str) -> PolarsResult<Vec<f64>> {
    Ok(df.column(name)?.f64()?.iter().map(|v| v.unwrap_or(f64::NAN)).collect())
}

/// What every chart over time shares: the actions drawn, the charted
/// stretch and its bins.
pub struct Plan {
    /// The actions drawn, by name.
    pub actions: Vec<String>,
    /// Actions not drawn (beyond [`MAX_ACTIONS`]).
    pub hidden_actions: usize,
    /// The stretch of the minute rows' bulk.
    pub bulk: Bulk,
    /// Bins of the minute charts.
    pub minutes: Bins,
    /// Bins of the hourly charts.
    pub hours: Bins,
    /// Every action (the report's totals order), for row ids.
    all_actions: Vec<String>,
}

/// Columns of a figure table as a chart reads them.
#[derive(Default)]
struct Rows {
    times: Vec<i64>,
    ids: Vec<u32>,
    values: Vec<f64>,
}

impl Rows {
    fn new(times: Vec<i64>, ids: Vec<u32>, values: Vec<f64>) -> Rows {
        Rows { times, ids, values }
    }

    /// The rows of a minute table (`names` its action names, `codes` their
    /// codes, `times`, `values`), action ids indexing `actions`.
    fn of_codes(
        names: &[std::sync::Arc<str>],
        actions: &[String],
        codes: impl Iterator<Item = u32>,
        times: Vec<i64>,
        values: Vec<f64>,
    ) -> Rows {
        let index: HashMap<&str, u32> = actions
            .iter()
            .enumerate()
            .map(|(i, a)| (a.as_str(), i as u32))
            .collect();
        let id: Vec<u32> = names
            .iter()
            .map(|n| index.get(&**n).copied().unwrap_or(u32::MAX))
            .collect();
        let ids = codes.map(|c| id.get(c as usize).copied().unwrap_or(u32::MAX)).collect();
        Rows::new(times, ids, values)
    }

    /// `action`, `window_start` and the value column `value` of `df`
    /// (action ids index `actions`, `u32::MAX` for an unknown one).
    fn read(df: &DataFrame, actions: &[String], value: &str, int: bool) -> PolarsResult<Rows> {
        let index: HashMap<&str, u32> = actions
            .iter()
            .enumerate()
            .map(|(i, n)| (n.as_str(), i as u32))
            .collect();
        // a few actions: compare the names, which is faster than hashing
        let few = actions.len() <= 16;
        let ids = df
            .column("action")?
            .str()?
            .iter()
            .map(|a| {
                let Some(a) = a else { return u32::MAX };
                if few {
                    actions.iter().position(|n| n == a).map_or(u32::MAX, |i| i as u32)
                } else {
                    index.get(a).copied().unwrap_or(u32::MAX)
                }
            })
            .collect();
        Ok(Rows::new(
            secs(df, "window_start")?,
            ids,
            if int { ints(df, value)? } else { floats(df, value)? },
        ))
    }

    /// The rows of the actions of `ids` (indices into the action list)
    /// with a time in `span`, each with its slot in `ids`.
    fn of_actions<'a>(&'a self, ids: &[usize], span: (i64, i64)) -> impl Iterator<Item = (usize, i64, f64)> + 'a {
        // the slot of each action id (ids are small: indices of the actions)
        let mut slot = vec![usize::MAX; ids.iter().max().map_or(0, |m| m + 1)];
        for (k, id) in ids.iter().enumerate() {
            slot[*id] = k;
        }
        self.ids
            .iter()
            .zip(&self.times)
            .zip(&self.values)
            .filter(move |((_, t), _)| **t >= span.0 && **t < span.1)
            .filter_map(move |((id, t), v)| {
                let k = *slot.get(*id as usize)?;
                (k != usize::MAX).then_some((k, *t, *v))
            })
    }

    /// Per action of `ids` (indices into the action list), the (times,
    /// values) of its rows with a time in `from..to`.
    fn per_action(&self, ids: &[usize], span: (i64, i64)) -> Vec<(Vec<i64>, Vec<f64>)> {
        let mut out = vec![(Vec::new(), Vec::new()); ids.len()];
        for (k, t, v) in self.of_actions(ids, span) {
            out[k].0.push(t);
            out[k].1.push(v);
        }
        out
    }
}

impl Plan {
    /// The plan of the report's charts; `None` without events.
    pub fn new(r: &Report) -> Result<Option<Plan>> {
        let f = r.figures;
        if f.totals.is_empty() {
            return Ok(None);
        }
        let mut by_total: Vec<&(String, i64)> = f.totals.iter().collect();
        by_total.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let mut actions: Vec<String> = by_total.iter().take(MAX_ACTIONS).map(|t| t.0.clone()).collect();
        actions.sort();
        let all_actions: Vec<String> = f.totals.iter().map(|t| t.0.clone()).collect();
        let Some(bulk) = r.digest().bulk(&|lo, hi| r.minutes_in(lo, hi)) else {
            return Ok(None);
        };
        let minutes = Bins::over(bulk.start, bulk.end, MINUTE, MAX_BINS);
        let hour0 = bulk.start.div_euclid(HOUR) * HOUR;
        let hour1 = (bulk.end + HOUR - 1).div_euclid(HOUR) * HOUR;
        let hours = Bins::over(hour0, hour1, HOUR, MAX_BINS);
        Ok(Some(Plan {
            hidden_actions: f.totals.len() - actions.len(),
            actions,
            bulk,
            minutes,
            hours,
            all_actions,
        }))
    }

    /// The indices of the drawn actions in the list of all actions.
    fn drawn(&self) -> Vec<usize> {
        self.actions
            .iter()
            .filter_map(|a| self.all_actions.iter().position(|b| b == a))
            .collect()
    }

    /// The moving-average rows of minutes in `span`, computed for that
    /// stretch only.
    fn moving(&self, r: &Report, (from, to): (i64, i64)) -> Result<Rows> {
        // the drawn actions' rows only: a few of maybe thousands
        let names = &r.figures.action_names();
        let only: Vec<u32> = self
            .actions
            .iter()
            .filter_map(|a| names.binary_search_by(|n| (**n).cmp(a.as_str())).ok())
            .map(|c| c as u32)
            .collect();
        let m = r.figures.moving_piece_of(from, to, Some(&only))?;
        Ok(Rows::of_codes(
            names,
            &self.all_actions,
            (0..m.len()).map(|k| m.codes[k % m.actions.max(1)]),
            (0..m.len()).map(|k| m.minute(k)).collect(),
            m.average.clone(),
        ))
    }

    /// The minute rows of `span` (a stretch of at most [`MAX_BINS`]
    /// minutes), action ids indexing the list of all actions.
    fn minute_rows(&self, r: &Report, (from, to): (i64, i64)) -> Rows {
        let t = r.minutes_in(from, to);
        Rows::of_codes(
            &t.names,
            &self.all_actions,
            t.code.iter().copied(),
            t.start.clone(),
            t.count.iter().map(|&c| c as f64).collect(),
        )
    }

    /// Whether the charts per action draw each action's range as a band:
    /// with more actions, the bands would cover each other (and the lines),
    /// so only the means are drawn.
    pub fn bands(&self) -> bool {
        self.actions.len() <= MAX_BANDS
    }

    /// Whether the minute charts are binned wider than a minute.
    pub fn binned(&self) -> bool {
        !self.minutes.raw(MINUTE)
    }

    /// A sentence on what the charts leave out, if anything.
    pub fn note(&self) -> Option<String> {
        let mut parts = Vec::new();
        let b = &self.bulk;
        if b.cut() {
            parts.push(format!(
                "{} of {} events lie outside the charted stretch {} – {} (the data runs from {} to {}, {} apart)",
                crate::text::thousands(b.outside),
                crate::text::thousands(b.total),
                short(b.start),
                short(b.end),
                short(b.first),
                short(b.last),
                series::duration(b.last - b.first)
            ));
        }
        if self.hidden_actions > 0 {
            parts.push(format!(
                "the {} largest actions are drawn, {} smaller ones are not",
                self.actions.len(),
                self.hidden_actions
            ));
        }
        (!parts.is_empty()).then(|| {
            let mut s = parts.join("; ");
            s[..1].make_ascii_uppercase();
            s.push('.');
            s
        })
    }

    /// The charts of a report with these figures, in the page's order.
    pub fn charts(&self, r: &Report) -> Vec<Chart> {
        let per = |bins: &Bins, unit: i64| {
            if bins.raw(unit) {
                String::new()
            } else {
                format!(" (per {}: the range as a band, the mean as a line)", bins.label())
            }
        };
        // with more actions than bands can show apart, their means only
        let per_action = |bins: &Bins, unit: i64| {
            if bins.raw(unit) || self.bands() {
                per(bins, unit)
            } else {
                format!(" (per {}: the mean)", bins.label())
            }
        };
        let w = r.options.moving_window;
        let detail = match self.bands() {
            true => format!("Events per minute and {w}-minute moving average"),
            false => format!("{w}-minute moving average of the events per minute"),
        };
        let mut out = vec![Chart {
            file: "hourly_counts.png",
            caption: format!("Events per hour, per action{}", per_action(&self.hours, HOUR)),
        }];
        out.push(Chart {
            file: "minute_counts.png",
            caption: if self.binned() {
                format!("Events per minute, per action{}", per_action(&self.minutes, MINUTE))
            } else {
                format!("{}, per action", detail)
            },
        });
        if self.binned() {
            out.push(Chart {
                file: "recent_minutes.png",
                caption: format!("The last {} hours in minutes: {}", RECENT / HOUR, detail.to_lowercase()),
            });
        }
        out.push(Chart {
            file: "hourly_average.png",
            caption: format!(
                "Average actions per minute, per hour, peak hour marked{}",
                per(&self.hours, HOUR)
            ),
        });
        let (open, close) = (&r.options.alert_actions.0, &r.options.alert_actions.1);
        out.push(Chart {
            file: "alert_difference.png",
            caption: format!(
                "{open} − {close} per minute, alert when |difference| > {}{}",
                r.options.alert_threshold,
                per(&self.minutes, MINUTE)
            ),
        });
        if r.triggers.is_some_and(|t| !t.is_empty()) {
            out.push(Chart {
                file: "triggers.png",
                caption: "After each trigger: its duration, the state size and the variance of the minute counts"
                    .into(),
            });
        }
        out
    }
}

/// Draws every chart of the report into `dir`. Does nothing when there are
/// no events.
pub fn draw_all(r: &Report, dir: &Path) -> Result<()> {
    let Some(plan) = r.plan()? else {
        return Ok(());
    };
    register_font();
    let charts = plan.charts(r);
    let caption = |file: &str| {
        charts
            .iter()
            .find(|c| c.file == file)
            .map(|c| c.caption.clone())
            .unwrap_or_default()
    };
    let x_note = plan.bulk.cut().then(|| {
        format!(
            " · {} {} outside, data over {}",
            crate::text::thousands(plan.bulk.outside),
            if plan.bulk.outside == 1 { "event" } else { "events" },
            series::duration(plan.bulk.last - plan.bulk.first)
        )
    });
    let x_note = x_note.as_deref().unwrap_or("");
    let caption = &caption;
    // the costliest first; two threads take the next one left
    let mut list: Vec<(&str, Draw)> = Vec::new();
    if plan.binned() {
        list.push(("recent_minutes.png", |r, plan, caption, _, root| {
            recent(r, plan, caption, root)
        }));
    }
    list.extend([
        ("minute_counts.png", minute_counts as Draw),
        ("hourly_counts.png", hourly_counts),
        ("alert_difference.png", alert_difference),
        ("hourly_average.png", hourly_average),
    ]);
    let list = std::sync::Mutex::new(list.into_iter());
    let work = || -> Result<()> {
        loop {
            let next = list.lock().map_err(|_| anyhow!("drawing a chart failed"))?.next();
            let Some((file, draw)) = next else {
                return Ok(());
            };
            png(&dir.join(file), SIZE, |root| {
                draw(r, plan, &caption(file), x_note, root)
            })?;
        }
    };
    std::thread::scope(|s| {
        let other = s.spawn(work);
        let mine = work();
        let theirs = other.join().map_err(|_| anyhow!("drawing a chart failed"))?;
        mine.and(theirs)
    })
}

/// Draws a chart of `size` pixels with `draw` and writes it to `path` as a
/// PNG of at most 256 colours (see [`write_png`]).
fn png(path: &Path, size: (u32, u32), draw: impl FnOnce(&Area) -> Result<()>) -> Result<()> {
    thread_local! {
        /// The pixels of a chart and their colour numbers, kept for the
        /// next chart the thread draws: taken again, they cost no fresh
        /// pages of memory.
        static SCRATCH: RefCell<(Vec<u8>, Vec<u32>, Vec<u8>)> = RefCell::default();
    }
    SCRATCH.with_borrow_mut(|(pixels, ids, data)| {
        pixels.clear();
        pixels.resize(size.0 as usize * size.1 as usize * 3, 255);
        {
            let root = Canvas(BitMapBackend::with_buffer(pixels, size)).into_drawing_area();
            draw(&root)?;
            root.present().map_err(err)?;
        }
        write_png(path, pixels, size, ids, data)
    })
}

/// Writes RGB `pixels` as an indexed PNG: the 256 most frequent colours
/// are kept and any other (anti-aliased edges of text) takes the nearest of
/// them, which makes a chart several times smaller than true colour.
fn write_png(path: &Path, pixels: &[u8], (w, h): (u32, u32), ids: &mut Vec<u32>, data: &mut Vec<u8>) -> Result<()> {
    let palette = indexed(pixels, w as usize, ids, data);
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::new(PNG_LEVEL));
    let compressed = z.write_all(data).and_then(|()| z.finish())?;
    let file = std::fs::File::create(path).map_err(|e| anyhow!("cannot create {}: {e}", path.display()))?;
    let mut enc = png::Encoder::new(std::io::BufWriter::new(file), w, h);
    enc.set_color(png::ColorType::Indexed);
    enc.set_depth(png::BitDepth::Eight);
    enc.set_palette(palette);
    let mut writer = enc
        .write_header()
        .map_err(|e| anyhow!("cannot write {}: {e}", path.display()))?;
    writer
        .write_chunk(png::chunk::IDAT, &compressed)
        .and_then(|()| writer.finish())
        .map_err(|e| anyhow!("cannot write {}: {e}", path.display()))
}

/// The colours of an image (`0xRRGGBB`) numbered in the order they are
/// first seen, with the number of pixels of each.
struct Colours {
    /// Open addressing: a colour plus one (0: free) and its number.
    slots: Vec<(u32, u32)>,
    colours: Vec<u32>,
    counts: Vec<u32>,
}

impl Colours {
    fn new() -> Colours {
        Colours {
            slots: vec![(0, 0); 1024],
            colours: Vec::new(),
            counts: Vec::new(),
        }
    }

    /// The number of colour `c`, given one if it is new.
    fn id(&mut self, c: u32) -> u32 {
        let mask = self.slots.len() - 1;
        let mut i = (c.wrapping_mul(0x9E37_79B1) >> 12) as usize & mask;
        loop {
            match self.slots[i] {
                (0, _) => break,
                (k, id) if k == c + 1 => return id,
                _ => i = (i + 1) & mask,
            }
        }
        let id = self.colours.len() as u32;
        self.slots[i] = (c + 1, id);
        self.colours.push(c);
        self.counts.push(0);
        if self.colours.len() * 2 > self.slots.len() {
            let mut grown = Colours {
                slots: vec![(0, 0); self.slots.len() * 4],
                colours: Vec::new(),
                counts: Vec::new(),
            };
            for &c in &self.colours {
                grown.id(c);
            }
            self.slots = grown.slots;
        }
        id
    }
}

/// The palette (at most 256 colours, most frequent first; ties by colour)
/// and the PNG image data of RGB `pixels` in rows of `w`: each row of
/// palette indices after its filter type, 0 (none: rows of indices gain
/// nothing from the others), written to `data`. `ids` is room for the
/// colour numbers.
fn indexed(pixels: &[u8], w: usize, ids: &mut Vec<u32>, data: &mut Vec<u8>) -> Vec<u8> {
    let mut colours = Colours::new();
    ids.clear();
    ids.reserve(pixels.len() / 3);
    let w = w.max(1);
    // the runs of the row before: (colour number, pixels)
    let mut runs: Vec<(u32, u32)> = Vec::new();
    let mut before: &[u8] = &[];
    for row in pixels.chunks_exact(3 * w) {
        if row == before {
            // a row like the one before (margins, empty stretches)
            ids.extend_from_within(ids.len() - w..);
            for &(id, n) in &runs {
                colours.counts[id as usize] += n;
            }
            continue;
        }
        before = row;
        runs.clear();
        let mut at = 0;
        while at < row.len() {
            let c = u32::from(row[at]) << 16 | u32::from(row[at + 1]) << 8 | u32::from(row[at + 2]);
            let id = colours.id(c);
            // the run: eight pixels at a time while they equal the pixel before
            let mut end = at + 3;
            while end + 24 <= row.len() && row[end..end + 24] == row[end - 3..end + 21] {
                end += 24;
            }
            while end < row.len() && row[end..end + 3] == row[at..at + 3] {
                end += 3;
            }
            let n = ((end - at) / 3) as u32;
            ids.extend(std::iter::repeat_n(id, n as usize));
            colours.counts[id as usize] += n;
            runs.push((id, n));
            at = end;
        }
    }
    let mut order: Vec<u32> = (0..colours.colours.len() as u32).collect();
    order.sort_unstable_by_key(|&i| {
        (
            std::cmp::Reverse(colours.counts[i as usize]),
            colours.colours[i as usize],
        )
    });
    let rgb = |c: u32| [(c >> 16) as u8, (c >> 8) as u8, c as u8];
    let palette: Vec<[u8; 3]> = order
        .iter()
        .take(256)
        .map(|&i| rgb(colours.colours[i as usize]))
        .collect();
    // the palette by channel, for the nearest colour of the others
    // (as floats: exact here, and multiplied in vector registers)
    let channel = |k: usize| -> [f32; 256] {
        let mut v = [1e6; 256];
        for (slot, p) in v.iter_mut().zip(&palette) {
            *slot = f32::from(p[k]);
        }
        v
    };
    let (red, green, blue) = (channel(0), channel(1), channel(2));
    let mut index = vec![0u8; colours.colours.len()];
    let mut dist = [0f32; 256];
    for (rank, &i) in order.iter().enumerate() {
        index[i as usize] = if rank < 256 {
            rank as u8
        } else {
            let [r, g, b] = rgb(colours.colours[i as usize]).map(f32::from);
            for k in 0..256 {
                let (dr, dg, db) = (red[k] - r, green[k] - g, blue[k] - b);
                dist[k] = dr * dr + dg * dg + db * db;
            }
            // the first of the nearest
            let least = dist.iter().fold(f32::MAX, |m, &d| m.min(d));
            dist.iter().position(|&d| d == least).unwrap_or(0) as u8
        };
    }
    data.clear();
    data.reserve(ids.len() + ids.len() / w + 1);
    for row in ids.chunks(w) {
        data.push(0);
        data.extend(row.iter().map(|&i| index[i as usize]));
    }
    palette.concat()
}

/// A chart over time (x: epoch seconds `x0..x1`) with its caption, axes and
/// grid drawn; `integer` labels the y axis without decimals.
#[allow(clippy::too_many_arguments)]
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
        .caption(crate::text::printable(caption), ("sans-serif", 20))
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(64)
        .build_cartesian_2d(dt(x0)..dt(x1.max(x0 + MINUTE)), y0..y1)
        .map_err(err)?;
    let (labels, decimals) = y_ticks(y1 - y0, integer);
    let y_label = move |v: &f64| format!("{v:.decimals$}");
    let days = x1 - x0 > 4 * 24 * HOUR;
    let date_label = |x: &DateTime<Utc>| short(x.timestamp())[..10].to_string();
    let time_label = |x: &DateTime<Utc>| short(x.timestamp());
    // no more labels than minutes: a label per half minute would read
    // the same minute twice
    let minutes = usize::try_from((x1 - x0) / MINUTE).unwrap_or(usize::MAX);
    chart
        .configure_mesh()
        .x_labels(8.min(minutes.saturating_add(1)))
        .x_label_formatter(if days { &date_label } else { &time_label })
        .y_desc(y_desc)
        .y_labels(labels)
        .y_label_formatter(&y_label)
        .x_desc(x_desc)
        .max_light_lines(4)
        .light_line_style(BLACK.mix(0.05))
        .label_style(("sans-serif", 14))
        .draw()
        .map_err(err)?;
    Ok(chart)
}

/// How many y labels to ask for over a `range`, and their decimals, so
/// that no two labels read the same: counts of a small range get a label
/// per whole number; finer ranges as many decimals as their step needs.
fn y_ticks(range: f64, integer: bool) -> (usize, usize) {
    if integer && range.is_finite() && range < 10.0 {
        return ((range.floor() as usize + 1).max(2), 0);
    }
    // plotters puts about ten labels on a round step of about range / 10
    let step = range / 10.0;
    let decimals = if !step.is_finite() || step >= 1.0 {
        0
    } else {
        (-step.log10()).ceil().clamp(0.0, 6.0) as usize
    };
    (10, decimals)
}

/// Series of at most this many points get a mark at each.
const MAX_MARKED_POINTS: usize = 24;

/// The longest legend label, in characters; longer ones are cut with `…`.
const MAX_LABEL: usize = 48;

/// A legend entry as drawn: its control characters shown as escapes, as
/// the page shows them, and a long one cut so that it stays within the
/// legend.
fn legend_label(label: &str) -> String {
    short_label(&crate::text::printable(label))
}

/// `label` cut to [`MAX_LABEL`] characters in its middle, so that what
/// the label adds after the action (` moving average`) stays.
fn short_label(label: &str) -> String {
    let n = label.chars().count();
    if n <= MAX_LABEL {
        return label.to_string();
    }
    let tail = MAX_LABEL / 2;
    let head = MAX_LABEL - 1 - tail;
    let mut cut: String = label.chars().take(head).collect();
    cut.push('…');
    cut.extend(label.chars().skip(n - tail));
    cut
}

fn legend<'a, 'b: 'a>(chart: &mut TimeChart<'a, 'b>) -> Result<()> {
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .label_font(("sans-serif", 14))
        .draw()
        .map_err(err)
}

/// The runs of finite values of `values` over `bins` (at bin centres when
/// `centre`), for lines that break where there is no data.
fn runs(bins: &Bins, values: &[f64], centre: bool) -> Vec<Vec<(DateTime<Utc>, f64)>> {
    let shift = if centre { bins.width / 2 } else { 0 };
    let mut out: Vec<Vec<(DateTime<Utc>, f64)>> = Vec::new();
    let mut cur = Vec::new();
    for (i, v) in values.iter().enumerate() {
        if v.is_finite() {
            cur.push((dt(bins.time(i) + shift), *v));
        } else if !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Draws `values` as a line broken at missing bins; returns whether any
/// segment was drawn (the first one carries the legend entry).
fn line<'a, 'b: 'a>(
    chart: &mut TimeChart<'a, 'b>,
    bins: &Bins,
    values: &[f64],
    style: ShapeStyle,
    label: Option<String>,
) -> Result<()> {
    let mut label = label.map(|l| legend_label(&l));
    let runs = runs(bins, values, bins.width > MINUTE);
    // few points (one hour, a few minutes) get a mark each, so that a
    // single point shows and two are not read as a slope
    if runs.iter().map(Vec::len).sum::<usize>() <= MAX_MARKED_POINTS {
        let fill = style.color.filled();
        for run in &runs {
            chart
                .draw_series(run.iter().map(|&p| Circle::new(p, 3, fill)))
                .map_err(err)?;
        }
    }
    for run in runs {
        let s = chart.draw_series(LineSeries::new(run, style)).map_err(err)?;
        if let Some(l) = label.take() {
            let legend_style = ShapeStyle {
                stroke_width: 3,
                ..style
            };
            s.label(l)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], legend_style));
        }
    }
    Ok(())
}

/// A band between two lines of the same x coordinates: `pts` holds the
/// upper line left to right, then the lower one right to left (a polygon).
/// Filled row by row: a translucent fill blends a pixel row's run at once,
/// where a polygon wider than tall is filled column by column, a pixel at
/// a time.
struct Band {
    pts: Vec<(DateTime<Utc>, f64)>,
    style: ShapeStyle,
}

impl<'a> plotters::element::PointCollection<'a, (DateTime<Utc>, f64)> for &'a Band {
    type Point = &'a (DateTime<Utc>, f64);
    type IntoIter = &'a [(DateTime<Utc>, f64)];
    fn point_iter(self) -> Self::IntoIter {
        &self.pts
    }
}

impl<DB: plotters::prelude::DrawingBackend> plotters::element::Drawable<DB> for Band {
    fn draw<I: Iterator<Item = plotters_backend::BackendCoord>>(
        &self,
        points: I,
        backend: &mut DB,
        _: (u32, u32),
    ) -> Result<(), plotters_backend::DrawingErrorKind<DB::ErrorType>> {
        let pts: Vec<(i32, i32)> = points.collect();
        let n = pts.len() / 2;
        if n < 2 {
            return Ok(());
        }
        let (upper, lower) = (&pts[..n], &pts[n..]);
        let lower_at = |k: usize| lower[n - 1 - k];
        let (left, right) = (upper[0].0, upper[n - 1].0);
        if right < left {
            return Ok(());
        }
        // per column, the rows the band covers (top <= bottom)
        let width = (right - left + 1) as usize;
        let mut span = vec![(i32::MAX, i32::MIN); width];
        let mut cover = |x: i32, a: i32, b: i32| {
            let s = &mut span[(x - left) as usize];
            s.0 = s.0.min(a.min(b));
            s.1 = s.1.max(a.max(b));
        };
        for k in 0..n - 1 {
            let ((xa, ta), (xb, tb)) = (upper[k], upper[k + 1]);
            let (ba, bb) = (lower_at(k).1, lower_at(k + 1).1);
            if xb <= xa {
                cover(xa, ta.min(tb), ba.max(bb));
                continue;
            }
            for x in xa..=xb {
                let f = f64::from(x - xa) / f64::from(xb - xa);
                let top = f64::from(ta) + f * f64::from(tb - ta);
                let bottom = f64::from(ba) + f * f64::from(bb - ba);
                cover(x, top.round() as i32, bottom.round() as i32);
            }
        }
        let (y0, y1) = span
            .iter()
            .filter(|s| s.0 <= s.1)
            .fold((i32::MAX, i32::MIN), |(a, b), s| (a.min(s.0), b.max(s.1)));
        for y in y0..=y1 {
            let mut x = 0;
            while x < width {
                if span[x].0 <= y && y <= span[x].1 {
                    let start = x;
                    while x < width && span[x].0 <= y && y <= span[x].1 {
                        x += 1;
                    }
                    // the bitmap backend fills up to the corner, not past
                    // it: one row, from `start` to before `x`
                    backend.draw_rect((left + start as i32, y), (left + x as i32, y + 1), &self.style, true)?;
                } else {
                    x += 1;
                }
            }
        }
        Ok(())
    }
}

/// Draws the band between `lo` and `hi` (per bin, at bin centres).
fn band<'a, 'b: 'a>(chart: &mut TimeChart<'a, 'b>, bins: &Bins, lo: &[f64], hi: &[f64], c: RGBColor) -> Result<()> {
    let both: Vec<f64> = lo
        .iter()
        .zip(hi)
        .map(|(l, h)| if l.is_finite() && h.is_finite() { *l } else { f64::NAN })
        .collect();
    let shift = bins.width / 2;
    let mut start = None;
    for i in 0..=both.len() {
        let ok = i < both.len() && both[i].is_finite();
        match (ok, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                let mut pts: Vec<(DateTime<Utc>, f64)> = (s..i).map(|k| (dt(bins.time(k) + shift), hi[k])).collect();
                pts.extend((s..i).rev().map(|k| (dt(bins.time(k) + shift), lo[k])));
                if i - s == 1 {
                    // one bin: a bar of its width
                    let t = bins.time(s);
                    chart
                        .draw_series(std::iter::once(Rectangle::new(
                            [(dt(t), lo[s]), (dt(t + bins.width), hi[s])],
                            c.mix(0.25).filled(),
                        )))
                        .map_err(err)?;
                } else {
                    // a light fill with its edges drawn: where two bands
                    // overlap, each keeps its outline in its own colour
                    // instead of blending into one muddy shape
                    chart
                        .draw_series(std::iter::once(Band {
                            pts,
                            style: c.mix(0.13).filled(),
                        }))
                        .map_err(err)?;
                    for edge in [hi, lo] {
                        chart
                            .draw_series(LineSeries::new(
                                (s..i).map(|k| (dt(bins.time(k) + shift), edge[k])),
                                c.mix(0.55).stroke_width(1),
                            ))
                            .map_err(err)?;
                    }
                }
                start = None;
            }
            _ => {}
        }
    }
    Ok(())
}

/// The first and last hours of the data when it covers them only in part
/// (the first event after :00, the last before :59): hour start times.
fn partial_hour_starts(bulk: &Bulk) -> Vec<i64> {
    let mut hours = Vec::new();
    // only the data the chart shows: rows cut off as outliers aside
    if bulk.first < bulk.start || bulk.last > bulk.end {
        return hours;
    }
    if bulk.first.rem_euclid(HOUR) != 0 {
        hours.push(bulk.first.div_euclid(HOUR) * HOUR);
    }
    let last = (bulk.last - 1).div_euclid(HOUR) * HOUR;
    if bulk.last.rem_euclid(HOUR) != 0 && !hours.contains(&last) {
        hours.push(last);
    }
    hours
}

/// The stretches `[a, b)` of a chart's `bins` (each `unit` wide when raw)
/// that the data covers only in part: with a bin per hour, the first and
/// last hours of the data when it starts after :00 or ends before :59;
/// with bins of many units (days, weeks), the first and last bins when the
/// data starts after the first's start or ends before the last's end, so
/// that a mean there, over fewer units, is not read as a rise or a fall.
fn partial_bins(bulk: &Bulk, bins: &Bins, unit: i64) -> Vec<(i64, i64)> {
    if bins.raw(HOUR) {
        return partial_hour_starts(bulk).into_iter().map(|h| (h, h + HOUR)).collect();
    }
    if bins.raw(unit) || bulk.first < bulk.start || bulk.last > bulk.end {
        return Vec::new();
    }
    let mut out = Vec::new();
    if let Some(i) = bins.index(bulk.start).filter(|&i| bulk.start > bins.time(i)) {
        out.push((bins.time(i), bins.time(i) + bins.width));
    }
    if let Some(j) = bins.index(bulk.end - 1) {
        let b = (bins.time(j), bins.time(j) + bins.width);
        if bulk.end < b.1 && !out.contains(&b) {
            out.push(b);
        }
    }
    out
}

/// Shades the bins of a chart that the data covers only in part (see
/// [`partial_bins`]; the x axis says so: [`partial_note`]).
fn shade_partial<'a, 'b: 'a>(
    chart: &mut TimeChart<'a, 'b>,
    plan: &Plan,
    (bins, unit): (&Bins, i64),
    ymax: f64,
) -> Result<()> {
    for (a, b) in partial_bins(&plan.bulk, bins, unit) {
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(dt(a), 0.0), (dt(b), ymax)],
                RGBColor(120, 120, 120).mix(0.14).filled(),
            )))
            .map_err(err)?;
    }
    Ok(())
}

/// What the x axis of a chart adds when [`shade_partial`] shades a bin.
fn partial_note(plan: &Plan, bins: &Bins, unit: i64) -> String {
    match partial_bins(&plan.bulk, bins, unit).is_empty() {
        true => String::new(),
        false => {
            let bin = match bins.label() {
                l if l == "hour" => "an hour".to_string(),
                l if l.starts_with(|c: char| c.is_ascii_digit()) => format!("a bin of {l}"),
                l => format!("a {l}"),
            };
            format!("; shaded: {bin} the data covers only in part")
        }
    }
}

fn top(values: impl Iterator<Item = f64>) -> f64 {
    values.filter(|v| v.is_finite()).fold(1.0, f64::max) * 1.1
}

/// The top of a y axis of means, which may all be well below 1.
fn top_of_means(values: impl Iterator<Item = f64>) -> f64 {
    let most = values.filter(|v| v.is_finite()).fold(0.0, f64::max);
    if most > 0.0 {
        most * 1.1
    } else {
        1.0
    }
}

fn hourly_counts(r: &Report, plan: &Plan, caption: &str, x_note: &str, root: &Area) -> Result<()> {
    let bins = &plan.hours;
    let span = (plan.bulk.start.div_euclid(HOUR) * HOUR, plan.bulk.end);
    let rows = Rows::read(r.frame("hourly_counts")?, &plan.all_actions, "count", true)?
        .per_action(&plan.drawn(), (bins.start, bins.time(bins.n)));
    let binned: Vec<_> = rows
        .iter()
        .map(|(t, v)| series::aggregate(t, v, bins, HOUR, span))
        .collect();
    let bands = !bins.raw(HOUR) && plan.bands();
    let means = !bins.raw(HOUR) && !bands;
    let ymax = match means {
        false => top(binned.iter().flat_map(|b| b.max.iter().copied())),
        true => top_of_means(binned.iter().flat_map(|b| b.mean.iter().copied())),
    };
    let x_desc = format!("{} (UTC){x_note}{}", bins.label(), partial_note(plan, bins, HOUR));
    let mut chart = time_chart(
        root,
        caption,
        (bins.start, bins.time(bins.n)),
        (0.0, ymax),
        "events per hour",
        &x_desc,
        !means,
    )?;
    shade_partial(&mut chart, plan, (bins, HOUR), ymax)?;
    for (i, (a, b)) in plan.actions.iter().zip(&binned).enumerate() {
        let c = color(i);
        if bands {
            band(&mut chart, bins, &b.min, &b.max, c)?;
        }
        line(&mut chart, bins, &b.mean, c.stroke_width(2), Some(a.clone()))?;
    }
    legend(&mut chart)?;
    Ok(())
}

fn minute_counts(r: &Report, plan: &Plan, caption: &str, x_note: &str, root: &Area) -> Result<()> {
    let bins = &plan.minutes;
    let span = (plan.bulk.start, plan.bulk.end);
    let x_desc = format!("{} (UTC){x_note}{}", bins.label(), partial_note(plan, bins, MINUTE));
    if plan.binned() {
        let binned = r
            .digest()
            .binned(&plan.actions, bins, span, &|lo, hi| r.minutes_in(lo, hi));
        let bands = plan.bands();
        let ymax = match bands {
            true => top(binned.iter().flat_map(|b| b.max.iter().copied())),
            false => top_of_means(binned.iter().flat_map(|b| b.mean.iter().copied())),
        };
        let mut chart = time_chart(
            root,
            caption,
            (bins.start, bins.time(bins.n)),
            (0.0, ymax),
            "events per minute",
            &x_desc,
            bands,
        )?;
        shade_partial(&mut chart, plan, (bins, MINUTE), ymax)?;
        for (i, (a, b)) in plan.actions.iter().zip(&binned).enumerate() {
            let c = color(i);
            if bands {
                band(&mut chart, bins, &b.min, &b.max, c)?;
            }
            line(
                &mut chart,
                bins,
                &b.mean,
                c.stroke_width(2),
                Some(format!("{a}, mean per minute")),
            )?;
        }
        legend(&mut chart)?;
        return Ok(());
    }
    minute_detail(r, plan, bins, span, caption, &x_desc, root)
}

/// Per-minute counts and the moving average over `bins` (one minute each).
fn minute_detail(
    r: &Report,
    plan: &Plan,
    bins: &Bins,
    span: (i64, i64),
    caption: &str,
    x_desc: &str,
    root: &Area,
) -> Result<()> {
    let counts = plan.minute_rows(r, span).per_action(&plan.drawn(), span);
    let moving = plan.moving(r, span)?.per_action(&plan.drawn(), span);
    let counts: Vec<_> = counts
        .iter()
        .map(|(t, v)| series::aggregate(t, v, bins, MINUTE, span).mean)
        .collect();
    let moving: Vec<_> = moving.iter().map(|(t, v)| series::dense(t, v, bins)).collect();
    let ymax = match plan.bands() {
        true => top(counts.iter().flatten().copied()),
        false => top_of_means(moving.iter().flatten().copied()),
    };
    let mut chart = time_chart(
        root,
        caption,
        (bins.start, bins.time(bins.n)),
        (0.0, ymax),
        "events per minute",
        x_desc,
        plan.bands(),
    )?;
    for (i, a) in plan.actions.iter().enumerate() {
        let c = color(i);
        // with many actions, the raw minutes would hide the averages
        if plan.bands() {
            line(
                &mut chart,
                bins,
                &counts[i],
                c.mix(0.3).stroke_width(1),
                Some(format!("{a} per minute")),
            )?;
        }
        line(
            &mut chart,
            bins,
            &moving[i],
            c.stroke_width(2),
            Some(format!("{a} moving average")),
        )?;
    }
    legend(&mut chart)?;
    Ok(())
}

fn recent(r: &Report, plan: &Plan, caption: &str, root: &Area) -> Result<()> {
    let end = plan.bulk.end;
    let start = (end - RECENT).max(plan.bulk.start);
    let bins = Bins::over(start, end, MINUTE, MAX_BINS);
    minute_detail(r, plan, &bins, (start, end), caption, "minute (UTC)", root)
}

fn hourly_average(r: &Report, plan: &Plan, caption: &str, x_note: &str, root: &Area) -> Result<()> {
    let bins = &plan.hours;
    let span = (plan.bulk.start.div_euclid(HOUR) * HOUR, plan.bulk.end);
    let df = r.frame("hourly_average")?;
    // an hour without events has no average: not a 0
    let b = series::aggregate_present(&secs(df, "window_start")?, &floats(df, "average")?, bins, span);
    let ymax = top(b.max.iter().copied()) * 1.05;
    let x_desc = format!("{} (UTC){x_note}{}", bins.label(), partial_note(plan, bins, HOUR));
    let mut chart = time_chart(
        root,
        caption,
        (bins.start, bins.time(bins.n)),
        (0.0, ymax),
        "average actions per minute",
        &x_desc,
        false,
    )?;
    shade_partial(&mut chart, plan, (bins, HOUR), ymax)?;
    let base = color(1);
    if bins.raw(HOUR) {
        chart
            .draw_series(
                b.mean
                    .iter()
                    .enumerate()
                    .filter(|(_, v)| v.is_finite() && **v > 0.0)
                    .map(|(i, v)| {
                        let t = bins.time(i);
                        Rectangle::new(
                            [(dt(t + HOUR / 20), 0.0), (dt(t + HOUR - HOUR / 20), *v)],
                            base.mix(0.7).filled(),
                        )
                    }),
            )
            .map_err(err)?;
    } else {
        band(&mut chart, bins, &b.min, &b.max, base)?;
        line(&mut chart, bins, &b.mean, base.stroke_width(2), None)?;
    }
    if let Some(p) = r
        .figures
        .peak_hour
        .as_ref()
        .filter(|p| bins.index(p.window_start).is_some())
    {
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [
                    (dt(p.window_start), 0.0),
                    (dt(p.window_end.max(p.window_start + bins.width / 3)), p.average),
                ],
                ALERT.filled(),
            )))
            .map_err(err)?;
        let text = format!("peak {} : {:.3}", short(p.window_start), p.average);
        let (x0, x1) = (bins.start, bins.time(bins.n));
        let anchor = if p.window_start - x0 > (x1 - x0) * 3 / 4 {
            x0 + (x1 - x0) * 3 / 5
        } else {
            p.window_start
        };
        chart
            .draw_series(std::iter::once(Text::new(
                text,
                (dt(anchor), p.average * 1.03),
                ("sans-serif", 15).into_font().color(&ALERT),
            )))
            .map_err(err)?;
    }
    Ok(())
}

fn alert_difference(r: &Report, plan: &Plan, caption: &str, x_note: &str, root: &Area) -> Result<()> {
    let bins = &plan.minutes;
    let span = (plan.bulk.start, plan.bulk.end);
    let (open, close) = (&r.options.alert_actions.0, &r.options.alert_actions.1);
    let b = if plan.binned() {
        r.digest().diff_binned(bins, span, &|lo, hi| r.minutes_in(lo, hi))
    } else {
        // the difference per minute with events of either action
        let diff = super::digest::differences(&r.minutes_in(span.0, span.1), &r.options.alert_actions);
        let t: Vec<i64> = diff.iter().map(|d| d.0).collect();
        let v: Vec<f64> = diff.iter().map(|d| d.1 as f64).collect();
        series::aggregate(&t, &v, bins, MINUTE, span)
    };
    let threshold = r.options.alert_threshold as f64;
    let lim = b
        .min
        .iter()
        .chain(&b.max)
        .filter(|v| v.is_finite())
        .map(|v| v.abs())
        .fold(threshold, f64::max)
        * 1.15
        + 1.0;
    let x_desc = format!("{} (UTC){x_note}", bins.label());
    let (x0, x1) = (bins.start, bins.time(bins.n));
    let mut chart = time_chart(
        root,
        caption,
        (x0, x1),
        (-lim, lim),
        &format!("{open} − {close}"),
        &x_desc,
        true,
    )?;
    if bins.raw(MINUTE) {
        line(
            &mut chart,
            bins,
            &b.mean,
            color(1).stroke_width(1),
            Some("difference".into()),
        )?;
    } else {
        band(&mut chart, bins, &b.min, &b.max, color(1))?;
        line(
            &mut chart,
            bins,
            &b.mean,
            color(1).stroke_width(1),
            Some("difference, mean".into()),
        )?;
    }
    for sign in [1.0, -1.0] {
        let s = chart
            .draw_series(DashedLineSeries::new(
                vec![(dt(x0), sign * threshold), (dt(x1), sign * threshold)],
                8,
                6,
                ALERT.mix(0.8).stroke_width(1),
            ))
            .map_err(err)?;
        if sign > 0.0 {
            s.label(format!("threshold ±{}", r.options.alert_threshold))
                .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], ALERT.stroke_width(1)));
        }
    }
    let alerts: Vec<_> = r
        .figures
        .alerts
        .iter()
        .filter(|a| bins.index(a.window_start).is_some())
        .take(MAX_MARKS)
        .collect();
    // alert minutes closer than a marker's width on the same side are one
    // marker, at the largest difference, with their number beside it
    let pixels = chart.plotting_area().get_pixel_range().0;
    let per_pixel = (x1 - x0) as f64 / f64::from((pixels.end - pixels.start).max(1));
    let marks = alert_marks(
        alerts.iter().map(|a| (a.window_start, a.difference)),
        (12.0 * per_pixel) as i64,
    );
    chart
        .draw_series(
            marks
                .iter()
                .map(|m| Circle::new((dt(m.at), m.difference as f64), 6, ALERT.stroke_width(2))),
        )
        .map_err(err)?
        .label(format!("alert minutes ({})", r.figures.alerts.len()))
        .legend(|(x, y)| Circle::new((x + 10, y), 5, ALERT.stroke_width(2)));
    chart
        .draw_series(marks.iter().filter(|m| m.minutes > 1).map(|m| {
            Text::new(
                format!("×{}", m.minutes),
                (dt(m.at + (10.0 * per_pixel) as i64), m.difference as f64),
                ("sans-serif", 13).into_font().color(&ALERT),
            )
        }))
        .map_err(err)?;
    legend(&mut chart)?;
    Ok(())
}

/// One marker of the alert chart: alert minutes drawn as one.
#[derive(Debug, Clone, PartialEq)]
struct AlertMark {
    /// Where it is drawn: the minute of the largest difference.
    at: i64,
    /// That difference.
    difference: i64,
    /// How many alert minutes it stands for.
    minutes: usize,
}

/// Groups alert minutes `(window start, difference)`, in time order, into
/// markers: a minute joins the marker before it when it is on the same
/// side of zero and less than `apart` seconds after that marker's last.
fn alert_marks(alerts: impl Iterator<Item = (i64, i64)>, apart: i64) -> Vec<AlertMark> {
    let mut marks: Vec<AlertMark> = Vec::new();
    let mut last = i64::MIN;
    for (t, d) in alerts {
        match marks.last_mut() {
            Some(m) if (m.difference > 0) == (d > 0) && t - last < apart => {
                m.minutes += 1;
                if d.abs() > m.difference.abs() {
                    (m.at, m.difference) = (t, d);
                }
            }
            _ => marks.push(AlertMark {
                at: t,
                difference: d,
                minutes: 1,
            }),
        }
        last = t;
    }
    marks
}

/// Draws the stream's chart: each trigger's duration, the number of state
/// rows and the online variance after it, one panel each.
pub fn triggers(rows: &[TriggerRow], dir: &Path) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    register_font();
    png(&dir.join("triggers.png"), (SIZE.0, 660), |root| {
        trigger_panels(rows, root)
    })
}

fn trigger_panels(rows: &[TriggerRow], root: &Area) -> Result<()> {
    let root = root
        .titled(
            "After each trigger: its duration, the state size and the variance of the minute counts",
            ("sans-serif", 20),
        )
        .map_err(err)?;
    let panels = root.split_evenly((3, 1));
    let n = rows.len() as f64;
    // (y axis, points, colour, decimals of the y labels)
    type Panel<'a> = (&'a str, Vec<(f64, f64)>, RGBColor, usize);
    let series: [Panel; 3] = [
        (
            "duration (ms)",
            rows.iter().map(|r| (r.trigger as f64, r.duration_ms)).collect(),
            color(2),
            0,
        ),
        (
            "state rows",
            rows.iter().map(|r| (r.trigger as f64, r.state_rows as f64)).collect(),
            color(0),
            0,
        ),
        (
            "variance",
            rows.iter()
                .filter_map(|r| Some((r.trigger as f64, r.variance?)))
                .collect(),
            color(1),
            1,
        ),
    ];
    for (panel, (label, pts, c, decimals)) in panels.iter().zip(series) {
        let top = pts.iter().map(|p| p.1).fold(1.0, f64::max) * 1.1;
        // labels that never read the same: more decimals on a short axis
        let (labels, fine) = y_ticks(top, false);
        let decimals = decimals.max(fine);
        let mut chart = ChartBuilder::on(panel)
            .margin(10)
            .x_label_area_size(32)
            .y_label_area_size(72)
            .build_cartesian_2d(0.5..n + 0.5, 0.0..top)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("trigger")
            .y_desc(label)
            .x_label_formatter(&|v| format!("{v:.0}"))
            .y_labels(labels)
            .y_label_formatter(&|v| format!("{v:.decimals$}"))
            .max_light_lines(4)
            .light_line_style(BLACK.mix(0.05))
            .label_style(("sans-serif", 13))
            .draw()
            .map_err(err)?;
        let dots = pts.len() <= 200;
        chart
            .draw_series(LineSeries::new(pts.clone(), c.stroke_width(2)))
            .map_err(err)?;
        if dots {
            chart
                .draw_series(pts.into_iter().map(|p| Circle::new(p, 3, c.filled())))
                .map_err(err)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alert_minutes_close_together_on_one_side_are_one_marker() {
        let alerts = [(0, 25), (60, 30), (120, 22), (180, -24), (10_000, 21), (10_060, 23)];
        let marks = alert_marks(alerts.into_iter(), 600);
        assert_eq!(
            marks,
            vec![
                AlertMark {
                    at: 60,
                    difference: 30,
                    minutes: 3
                },
                AlertMark {
                    at: 180,
                    difference: -24,
                    minutes: 1
                },
                AlertMark {
                    at: 10_060,
                    difference: 23,
                    minutes: 2
                },
            ]
        );
        // far apart, or a scale where a minute is wider than a marker: one each
        assert_eq!(alert_marks(alerts.into_iter(), 0).len(), 6);
    }

    /// The palette and indices worked out the plain way: every colour
    /// counted, the 256 most frequent kept (ties by colour), any other
    /// mapped to the first of its nearest.
    fn plain(pixels: &[u8], w: usize) -> (Vec<u8>, Vec<u8>) {
        let mut freq: HashMap<[u8; 3], u32> = HashMap::new();
        for p in pixels.chunks_exact(3) {
            *freq.entry([p[0], p[1], p[2]]).or_insert(0) += 1;
        }
        let mut colours: Vec<([u8; 3], u32)> = freq.into_iter().collect();
        colours.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let palette: Vec<[u8; 3]> = colours.iter().take(256).map(|c| c.0).collect();
        let index = |c: [u8; 3]| -> u8 {
            let dist = |p: &[u8; 3]| (0..3).map(|k| (i32::from(p[k]) - i32::from(c[k])).pow(2)).sum::<i32>();
            (0..palette.len()).min_by_key(|&i| dist(&palette[i])).unwrap() as u8
        };
        let mut data = Vec::new();
        for row in pixels.chunks_exact(3 * w) {
            data.push(0);
            data.extend(row.chunks_exact(3).map(|p| index([p[0], p[1], p[2]])));
        }
        (palette.concat(), data)
    }

    #[test]
    fn the_first_and_last_bins_the_data_covers_in_part_are_shaded() {
        const DAY: i64 = 24 * HOUR;
        let day0 = 1_356_998_400; // 2013-01-01
        let bulk = |start: i64, end: i64| Bulk {
            start,
            end,
            outside: 0,
            total: 1,
            first: start,
            last: end,
        };
        let days = Bins {
            start: day0,
            width: DAY,
            n: 365,
        };
        // from 05:00 on the first day to 10:32 on the last: both days
        let b = bulk(day0 + 5 * HOUR, day0 + 364 * DAY + 10 * HOUR + 32 * MINUTE);
        assert_eq!(
            partial_bins(&b, &days, HOUR),
            vec![(day0, day0 + DAY), (day0 + 364 * DAY, day0 + 365 * DAY)]
        );
        // whole days: none
        assert!(partial_bins(&bulk(day0, day0 + 365 * DAY), &days, HOUR).is_empty());
        // one day, in part: shaded once
        let one = Bins {
            start: day0,
            width: DAY,
            n: 1,
        };
        assert_eq!(
            partial_bins(&bulk(day0 + HOUR, day0 + 2 * HOUR), &one, MINUTE),
            vec![(day0, day0 + DAY)]
        );
        // a bar per hour: the hours the data covers in part
        let hours = Bins {
            start: day0,
            width: HOUR,
            n: 24,
        };
        let b = bulk(day0 + 5 * HOUR + 20 * MINUTE, day0 + 7 * HOUR);
        assert_eq!(partial_bins(&b, &hours, HOUR), vec![(day0 + 5 * HOUR, day0 + 6 * HOUR)]);
        // a bin per unit: nothing to shade
        let minutes = Bins {
            start: day0,
            width: MINUTE,
            n: 60,
        };
        assert!(partial_bins(&bulk(day0 + 30, day0 + 600), &minutes, MINUTE).is_empty());
    }

    #[test]
    fn legend_labels_show_control_characters_as_escapes() {
        let label = legend_label("a\u{202e}b\u{1b}c moving average");
        assert_eq!(label, "a\\u{202e}b\\u{1b}c moving average");
    }

    #[test]
    fn long_legend_labels_are_cut_in_the_middle() {
        assert_eq!(short_label("Open moving average"), "Open moving average");
        let long = format!("{} moving average", "L".repeat(600));
        let cut = short_label(&long);
        assert_eq!(cut.chars().count(), MAX_LABEL);
        assert!(
            cut.ends_with("L moving average") && cut.starts_with("LLL") && cut.contains('…'),
            "{cut}"
        );
    }

    #[test]
    fn y_labels_never_repeat() {
        // counts up to 3.3: a label per whole number, no decimals
        assert_eq!(y_ticks(3.3, true), (4, 0));
        // fractions: enough decimals for a step of a tenth of the range
        assert_eq!(y_ticks(1.1, false).1, 1);
        assert_eq!(y_ticks(0.055, false).1, 3);
        assert_eq!(y_ticks(250.0, true), (10, 0));
        assert_eq!(y_ticks(25.0, false).1, 0);
    }

    #[test]
    fn a_small_image_takes_its_colours_by_frequency() {
        // 4 × 3: white ×6, red ×4, blue ×2
        let (wh, rd, bl) = ([255u8, 255, 255], [200u8, 0, 0], [0u8, 0, 200]);
        let rows = [[wh, wh, rd, bl], [rd, wh, wh, bl], [rd, wh, wh, rd]];
        let pixels: Vec<u8> = rows.iter().flatten().flatten().copied().collect();
        let mut data = Vec::new();
        let palette = indexed(&pixels, 4, &mut Vec::new(), &mut data);
        assert_eq!(palette, [wh, rd, bl].concat());
        assert_eq!(data, [0, 0, 0, 1, 2, 0, 1, 0, 0, 2, 0, 1, 0, 0, 1]);
    }

    #[test]
    fn more_than_256_colours_take_the_nearest_kept_one() {
        // random colours along rows, a grey of many pixels, and repeated rows
        let mut pixels = Vec::new();
        let w = 50;
        let mut state = 7u32;
        for row in 0..40 {
            for x in 0..w {
                let c = if row % 3 == 1 {
                    let k = (row - 1) * w + x;
                    pixels[3 * k..3 * k + 3].to_vec()
                } else if x % 4 == 0 || (row % 5 == 0 && x > 10) {
                    // and long runs of one colour, passed eight at a time
                    vec![128, 128, 128]
                } else {
                    state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
                    let v = (state >> 16) as u8;
                    vec![v, v.wrapping_add(3), (state >> 8) as u8]
                };
                pixels.extend(c);
            }
        }
        let mut data = Vec::new();
        let palette = indexed(&pixels, w, &mut Vec::new(), &mut data);
        let distinct: std::collections::HashSet<&[u8]> = pixels.chunks_exact(3).collect();
        assert!(distinct.len() > 256, "{} colours", distinct.len());
        assert_eq!((palette, data), plain(&pixels, w));
    }
}
