//! `index.html`: one self-contained page to hand on. Key figures first, a
//! table of contents, the charts (inlined), the tables abridged to their
//! interesting rows with links to the files, the rejected lines, and what
//! the report was made from (options, version, input, time).
//!
//! The page is the template `templates/report.html` (askama, checked when
//! windowpane is compiled), filled with the values made here. The template
//! escapes every value unless its type is markup already ([`Markup`], such
//! as text from the data with its control characters — line breaks, NUL,
//! escapes, bidirectional overrides — shown as visible escapes), so no
//! value can add markup or break a row. The page needs no network and no
//! script; it follows the browser's dark mode and prints without the
//! navigation.

use std::fmt::{self, Write};
use std::path::Path;

use anyhow::Result;
use askama::Template;
use base64::Engine;
use polars::prelude::{AnyValue, DataFrame};

use super::charts::{Chart, Plan};
use super::report::Report;
use super::series;
use super::timefmt::short;
use crate::engine::stream::TriggerRow;
use crate::text::thousands;

/// Rows shown at each end of a long table.
const EDGE: usize = 8;
/// Tables up to this many rows are shown whole.
const WHOLE: usize = 2 * EDGE + 4;
/// Alert minutes shown (all of them up to this many).
const MAX_ALERTS: usize = 500;
/// Rejected lines shown.
const MAX_REJECTED: usize = 20;
/// How the page writes a moment.
const WHEN: &str = "%Y-%m-%d %H:%M:%S UTC";
/// Seconds between reloads of a live page.
const REFRESH: u32 = 5;

/// Escapes text for HTML element content and attribute values, as the
/// page's template escapes every value.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let _ = askama::filters::Escaper::write_escaped_str(&askama::filters::Html, &mut out, s);
    out
}

/// Whether `c` would change how the text around it looks, or shows
/// nothing: the characters a terminal is not shown either.
fn invisible(c: char) -> bool {
    crate::text::hidden(c)
}

/// A value from the data as page text: escaped, with control and bidi
/// characters shown as `\n`, `\t`, `\u{0}` … in a marked span.
pub fn visible(s: &str) -> String {
    shown(s, true)
}

/// [`visible`], the escapes in `span`s when `marked`, else as plain text
/// (for an attribute's value).
fn shown(s: &str, marked: bool) -> String {
    if !s.chars().any(invisible) {
        return escape(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    let mut plain = String::new();
    for c in s.chars() {
        if invisible(c) {
            out.push_str(&escape(&std::mem::take(&mut plain)));
            let shown = match c {
                '\n' => "\\n".to_string(),
                '\r' => "\\r".to_string(),
                '\t' => "\\t".to_string(),
                c => format!("\\u{{{:x}}}", c as u32),
            };
            match marked {
                true => {
                    let _ = write!(out, "<span class=\"esc\">{shown}</span>");
                }
                false => out.push_str(&shown),
            }
        } else {
            plain.push(c);
        }
    }
    out.push_str(&escape(&plain));
    out
}

/// Markup ready for the page, which the template does not escape again;
/// made only by its constructors, each of which says why it is safe.
struct Markup(std::borrow::Cow<'static, str>);

impl Markup {
    /// Text from the data made page text by [`visible`].
    fn visible(s: &str) -> Self {
        Self(visible(s).into())
    }
    /// Text from the data for an attribute's value or the window's title:
    /// escaped, the escapes of control characters as plain text (no spans).
    fn attribute(s: &str) -> Self {
        Self(shown(s, false).into())
    }
    /// A chart's PNG in base64: letters, digits, `+`, `/` and `=`, nothing
    /// to escape (and too long to look through for it).
    fn base64(png: &[u8]) -> Self {
        Self(base64::engine::general_purpose::STANDARD.encode(png).into())
    }
    /// Markup the page itself holds (its style sheet), never data.
    fn own(markup: &'static str) -> Self {
        Self(markup.into())
    }
}

impl fmt::Display for Markup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl askama::filters::HtmlSafe for Markup {}

/// A number for reading: thousands separated, at most 3 decimals.
fn number(v: f64) -> String {
    if !v.is_finite() {
        return v.to_string();
    }
    if v == v.trunc() && v.abs() < 1e15 {
        return thousands(v as i64);
    }
    let s = format!("{:.3}", v);
    let s = s.trim_end_matches('0').trim_end_matches('.');
    match s.split_once('.') {
        Some((int, frac)) => {
            let n: i64 = int.parse().unwrap_or(0);
            let sign = if int.starts_with('-') && n == 0 { "-" } else { "" };
            format!("{sign}{}.{frac}", thousands(n))
        }
        None => thousands(s.parse().unwrap_or(0)),
    }
}

/// A value as the page shows it: its text, and whether it is a number.
fn cell(v: &AnyValue) -> (String, bool) {
    let (text, number) = match v {
        AnyValue::Null => (String::new(), false),
        AnyValue::String(s) => (s.to_string(), false),
        AnyValue::StringOwned(s) => (s.to_string(), false),
        AnyValue::Float64(f) => (number(*f), true),
        AnyValue::Float32(f) => (number(f64::from(*f)), true),
        AnyValue::Int64(n) => (thousands(*n), true),
        AnyValue::Int32(n) => (thousands(i64::from(*n)), true),
        AnyValue::UInt64(n) => (thousands(*n as i64), true),
        AnyValue::UInt32(n) => (thousands(i64::from(*n)), true),
        AnyValue::Datetime(t, _, _) | AnyValue::DatetimeOwned(t, _, _) => (short(t.div_euclid(1000)), false),
        other => (other.to_string(), false),
    };
    (text, number)
}

/// A table cell: its text shown, right-aligned when a number, in `code`
/// when it is a line of input.
struct Cell {
    text: Markup,
    number: bool,
    code: bool,
}

impl Cell {
    fn new(text: &str, number: bool) -> Self {
        Self {
            text: Markup::visible(text),
            number,
            code: false,
        }
    }
}

/// A row of a table as shown: its cells, or the gap where rows are left
/// out (how many, written out).
enum Row {
    Cells(Vec<Cell>),
    Gap(String),
}

/// The rows shown of a table under its headers.
struct Body {
    headers: Vec<String>,
    rows: Vec<Row>,
}

impl Body {
    /// The rows `shown` of `n` (`None` marks the stretch left out), each
    /// made by `row`.
    fn new(headers: Vec<String>, n: usize, shown: &[Option<usize>], row: impl Fn(usize) -> Vec<Cell>) -> Self {
        let hidden = n - shown.iter().flatten().count();
        let rows = shown
            .iter()
            .map(|i| match i {
                Some(i) => Row::Cells(row(*i)),
                None => Row::Gap(thousands(hidden as i64)),
            })
            .collect();
        Self { headers, rows }
    }
}

/// The rows to show of `n`: all up to `whole`, else the first and last
/// [`EDGE`] with a gap between.
fn abridge(n: usize, whole: usize) -> Vec<Option<usize>> {
    if n <= whole {
        (0..n).map(Some).collect()
    } else {
        (0..EDGE)
            .map(Some)
            .chain(std::iter::once(None))
            .chain((n - EDGE..n).map(Some))
            .collect()
    }
}

/// What each table holds, for its heading.
fn describe(name: &str) -> &'static str {
    match name {
        "totals" => "Events per action",
        "alerts" => "Alert minutes",
        "hourly_average" => "Average actions per minute, per hour",
        "hourly_counts" => "Events per hour and action",
        "minute_counts" => "Events per minute and action",
        "moving_average" => "Moving average and variance per action and minute",
        _ => "",
    }
}

/// A table as the page shows it: its number of rows, a frame of the rows
/// shown, and which rows of that frame are shown where (`None`: the gap).
struct View {
    n: usize,
    df: DataFrame,
    shown: Vec<Option<usize>>,
}

/// The view of the table `name`. The two long tables are not made whole
/// for the page: their first and last rows are read from the state, the
/// moving average's computed for those minutes only.
fn view(r: &Report, name: &str) -> Result<View> {
    let whole = if name == "alerts" { MAX_ALERTS } else { WHOLE };
    if let Some(v) = edges(r, name)? {
        return Ok(v);
    }
    let df = r.frame(name)?.clone();
    let n = df.height();
    Ok(View {
        n,
        shown: abridge(n, whole),
        df,
    })
}

/// The first and last [`EDGE`] rows of `minute_counts` or
/// `moving_average` when it has more than [`WHOLE`] rows and its frame was
/// not made.
fn edges(r: &Report, name: &str) -> Result<Option<View>> {
    if r.has_frame(name) {
        return Ok(None);
    }
    let f = r.figures;
    let d = r.digest();
    let edge = EDGE as u64;
    let (head, tail, n) = match name {
        "minute_counts" => {
            let n = f.minute_len();
            let (Some((a, b)), Some((c, e))) = (d.head(edge, |h| h.rows), d.tail(edge, |h| h.rows)) else {
                return Ok(None);
            };
            if n <= WHOLE {
                return Ok(None);
            }
            let (first, last) = (r.minutes_in(a, b), r.minutes_in(c, e));
            if first.len() < EDGE || last.len() < EDGE {
                return Ok(None);
            }
            (
                crate::frames::minute_frame(&first.rows(0, EDGE))?,
                crate::frames::minute_frame(&last.rows(last.len() - EDGE, last.len()))?,
                n,
            )
        }
        "moving_average" => {
            let names = f.action_names();
            let grid = d.grid_len() as usize;
            let n = grid * names.len();
            let (Some((a, b)), Some((c, e))) = (d.head(edge, |h| h.minutes), d.tail(edge, |h| h.minutes)) else {
                return Ok(None);
            };
            if n <= WHOLE || grid < EDGE || names.is_empty() {
                return Ok(None);
            }
            // the grid's first minutes come from the first minutes with
            // rows; its last ones from the last, and those a window before
            let window = f.moving_window;
            let reach = (window.max(1) as i64 - 1) * crate::metrics::MINUTE;
            let grid_of = |lo: i64, hi: i64| {
                let mut minutes = r.minutes_in(lo, hi).start;
                minutes.dedup();
                crate::metrics::moving_grid(&minutes, window)
            };
            let (first, last) = (grid_of(a, b), grid_of(c.saturating_sub(reach), e));
            if first.len() < EDGE || last.len() < EDGE {
                return Ok(None);
            }
            // the rows of those minutes, every action's (minute first)
            let part = |minutes: &[i64]| -> Result<DataFrame> {
                let (lo, hi) = (minutes[0], minutes[minutes.len() - 1] + crate::metrics::MINUTE);
                crate::frames::moving_frame(&f.moving_between(lo, hi)?, &names)
            };
            let tail = part(&last[last.len() - EDGE..])?;
            (
                part(&first[..EDGE])?.slice(0, EDGE),
                tail.slice((tail.height() - EDGE) as i64, EDGE),
                n,
            )
        }
        _ => return Ok(None),
    };
    let df = head.vstack(&tail)?;
    let shown = (0..EDGE)
        .map(Some)
        .chain(std::iter::once(None))
        .chain((EDGE..2 * EDGE).map(Some))
        .collect();
    Ok(Some(View { n, df, shown }))
}

/// A table's section of the page.
struct Section {
    /// Its anchor.
    id: String,
    /// What it holds.
    heading: &'static str,
    /// The table's name.
    name: &'static str,
    /// Its rows, counted in words.
    count: String,
    /// Whether the first and last rows only are shown.
    abridged: bool,
    /// Rows shown at each end when abridged.
    edge: usize,
    /// The file with every row.
    file: String,
    /// The rows shown; none for a table without rows.
    body: Option<Body>,
}

/// The figure table `name` as the page shows it.
fn frame_section(r: &Report, name: &'static str, v: &View) -> Section {
    let n = v.n;
    let df = &v.df;
    let ext = r.table_format.link_extension();
    let shown = &v.shown;
    let headers: Vec<String> = df.get_column_names().iter().map(|c| c.to_string()).collect();
    let row = |i: usize| -> Vec<Cell> {
        df.columns()
            .iter()
            .map(|c| {
                let (mut text, number) = c.get(i).map(|v| cell(&v)).unwrap_or_default();
                // a difference carries its sign, as the terminal shows it
                if c.name().as_str() == "difference" && number && !text.starts_with('-') && text != "0" {
                    text.insert(0, '+');
                }
                Cell::new(&text, number)
            })
            .collect()
    };
    Section {
        id: format!("t-{name}"),
        heading: describe(name),
        name,
        count: format!("{} {}", thousands(n as i64), if n == 1 { "row" } else { "rows" }),
        abridged: n > shown.iter().flatten().count(),
        edge: EDGE,
        file: format!("tables/{name}.{ext}"),
        body: (n > 0).then(|| Body::new(headers, n, shown, row)),
    }
}

const STYLE: &str = "\
:root{color-scheme:light dark;--fg:#1d1f21;--muted:#5f6368;--bg:#fff;--card:#f4f5f7;--line:#d6d8db;--accent:#1f68b4;--alert:#c62828}
@media (prefers-color-scheme:dark){:root{--fg:#e6e6e6;--muted:#a0a4a8;--bg:#16181b;--card:#23262a;--line:#3a3e44;--accent:#7fb2ee;--alert:#ff7a70}
img.chart{filter:invert(.9) hue-rotate(180deg)}}
*{box-sizing:border-box}
body{font:16px/1.5 system-ui,-apple-system,'Segoe UI',sans-serif;max-width:1240px;margin:0 auto;padding:1em;color:var(--fg);background:var(--bg)}
a{color:var(--accent)}
h1{font-size:1.5em;margin:.2em 0 .6em;overflow-wrap:anywhere}
h2{font-size:1.25em;margin:1.6em 0 .4em;border-bottom:1px solid var(--line)}
h3{font-size:1.05em;margin:1.2em 0 .2em}
.keys{display:grid;grid-template-columns:repeat(2,1fr);gap:.6em;margin:0 0 1em}
@media (min-width:600px){.keys{grid-template-columns:repeat(var(--half),1fr)}}
@media (min-width:1100px){.keys{grid-template-columns:repeat(var(--n),1fr)}}
.key{background:var(--card);border-radius:6px;padding:.5em .8em}
.key b{display:block;font-size:1.45em;line-height:1.2;overflow-wrap:anywhere}
.key span{color:var(--muted);font-size:.85em}
.key.alert b{color:var(--alert)}
nav{background:var(--card);border-radius:6px;padding:.4em .8em;font-size:.92em}
nav ol{margin:.2em 0;padding-left:1.4em;columns:2 260px}
.live{border:2px solid var(--accent);border-radius:6px;padding:.4em .8em;margin:.6em 0}
.note{color:var(--muted);margin:.1em 0 .4em;font-size:.92em}
figure{margin:1em 0}
img.chart{width:100%;height:auto;border:1px solid var(--line);border-radius:4px}
figcaption{color:var(--muted);font-size:.92em}
.scroll{overflow-x:auto}
table{border-collapse:collapse;margin:.3em 0 1em;font-size:.88em;font-variant-numeric:tabular-nums}
td,th{border:1px solid var(--line);padding:.15em .6em;text-align:left;white-space:nowrap}
td.n{text-align:right}
th{background:var(--card)}
tr.gap td{text-align:center;color:var(--muted)}
.esc{color:var(--alert);font-family:monospace}
code{font-size:.92em;overflow-wrap:anywhere}
dl.about{display:grid;grid-template-columns:max-content 1fr;gap:.2em 1em}
dl.about dt{color:var(--muted)} dl.about dd{margin:0;overflow-wrap:anywhere}
@media (max-width:600px){body{padding:.6em;font-size:15px}.key b{font-size:1.2em}}
@media print{nav,.live{display:none}body{max-width:none;color:#000;background:#fff}img.chart{filter:none}
figure,table,.keys{break-inside:avoid}a{color:inherit;text-decoration:none}}
";

/// The page: every value it shows, made ready for `templates/report.html`.
#[derive(Template)]
#[template(path = "report.html")]
struct Page {
    title_text: Markup,
    title: Markup,
    refresh: Option<u32>,
    live: Option<Live>,
    style: Markup,
    cards: Vec<Card>,
    charts: Vec<Figure>,
    charts_note: Option<Markup>,
    tables: Vec<Section>,
    triggers: Option<Section>,
    rejected: Rejected,
    about: About,
}

/// Whether the page is a running stream's, which reloads.
struct Live {
    running: bool,
    reload: u32,
    updated: String,
}

/// A key figure: its value and what it is; marked when it calls for a look.
struct Card {
    value: String,
    label: String,
    alert: bool,
}

impl Card {
    fn new(value: impl Into<String>, label: impl Into<String>, alert: bool) -> Self {
        Self {
            value: value.into(),
            label: label.into(),
            alert,
        }
    }
}

/// A chart inlined, linked to its file.
struct Figure {
    id: String,
    caption: Markup,
    alt: Markup,
    file: &'static str,
    data: Markup,
}

/// The rejected lines' section.
struct Rejected {
    /// How many, in words.
    count: String,
    /// Where the lines went when they were not kept (the quarantine).
    quarantine: Option<String>,
    /// How many are shown, when not all.
    first: Option<usize>,
    body: Option<Body>,
}

/// How the report was made.
struct About {
    input: Markup,
    files: String,
    lines: String,
    fields: Option<crate::model::FieldNames>,
    made: String,
    version: &'static str,
    alert_a: String,
    alert_b: String,
    threshold: i64,
    window: usize,
    format: &'static str,
}

/// Builds the page of report `r`. `charts_dir` holds the PNGs to inline
/// (absent ones are left out).
pub fn page(r: &Report, charts_dir: &Path) -> Result<String> {
    let plan = r.plan()?;
    // what the contents list: the charts drawn, the tables in this order
    let charts = plan.map(|p| p.charts(r)).unwrap_or_default();
    const ORDER: [&str; 6] = [
        "totals",
        "alerts",
        "hourly_average",
        "hourly_counts",
        "minute_counts",
        "moving_average",
    ];
    let tables = ORDER
        .iter()
        .map(|name| Ok(frame_section(r, name, &view(r, name)?)))
        .collect::<Result<_>>()?;
    let title = match (r.heading, r.title) {
        (Some(heading), _) => heading,
        (None, "-") => "standard input",
        (None, input) => input,
    };
    let page = Page {
        // the window's title is text: its escapes without spans
        title_text: Markup::attribute(title),
        title: Markup::visible(title),
        refresh: r.live.as_ref().filter(|l| l.running).map(|_| REFRESH),
        live: r.live.as_ref().map(|l| Live {
            running: l.running,
            reload: REFRESH,
            updated: l.updated.format(WHEN).to_string(),
        }),
        style: Markup::own(STYLE),
        cards: key_figures(r, plan),
        charts_note: plan.and_then(Plan::note).map(|n| Markup::visible(&n)),
        charts: figures(&charts, charts_dir),
        tables,
        triggers: r.triggers.map(triggers_section),
        rejected: rejected_section(r),
        about: about_section(r),
    };
    let mut out = String::with_capacity(page.charts.iter().map(|c| c.data.0.len()).sum::<usize>() + (1 << 16));
    page.render_into(&mut out)?;
    Ok(out)
}

/// The key figures at the top.
fn key_figures(r: &Report, plan: Option<&Plan>) -> Vec<Card> {
    let s = r.summary;
    let i = &s.input;
    let mut cards = vec![
        Card::new(thousands(i.events as i64), "events", false),
        Card::new(
            thousands(i.rejected as i64),
            format!("rejected of {} lines", thousands(i.lines as i64)),
            i.rejected > 0,
        ),
    ];
    if i.late > 0 {
        // streaming append mode: counted, not in the figures
        let noun = if i.late == 1 {
            "late event, not merged"
        } else {
            "late events, not merged"
        };
        cards.push(Card::new(thousands(i.late as i64), noun, true));
    }
    if let (Some(first), Some(last)) = (&s.first_event, &s.last_event) {
        let span = r.figures.hourly_average.first().zip(r.figures.hourly_average.last());
        let words = plan
            .as_ref()
            .map(|p| series::duration(p.bulk.last - p.bulk.first))
            .or_else(|| span.map(|(a, b)| series::duration(b.window_end - a.window_start)))
            .unwrap_or_default();
        let when = |t: &str| t.replace('T', " ").replace('Z', "");
        cards.push(Card::new(
            words,
            format!("from {} to {}", when(first), when(last)),
            false,
        ));
    }
    cards.push(match &r.figures.peak_hour {
        Some(p) => {
            let (start, end) = (short(p.window_start), short(p.window_end));
            let (day, from) = start.split_once(' ').unwrap_or((&start, ""));
            let to = end.split_once(' ').map_or(end.as_str(), |e| e.1);
            Card::new(
                format!("{from}–{to}"),
                format!(
                    "peak hour, {day} (UTC), {} {} per minute",
                    number(p.average),
                    if p.average == 1.0 { "action" } else { "actions" }
                ),
                false,
            )
        }
        None => Card::new("–", "peak hour", false),
    });
    cards.push(Card::new(
        thousands(s.alerts as i64),
        format!(
            "{} ({} − {} beyond ±{})",
            if s.alerts == 1 { "alert minute" } else { "alert minutes" },
            r.options.alert_actions.0,
            r.options.alert_actions.1,
            r.options.alert_threshold
        ),
        s.alerts > 0,
    ));
    cards.push(Card::new(
        s.variance.map(number).unwrap_or_else(|| "–".into()),
        match s.variance {
            Some(v) => format!(
                "variance of the events per minute: how widely minutes differ (standard deviation {})",
                number(v.max(0.0).sqrt())
            ),
            None => "variance of the events per minute".to_string(),
        },
        false,
    ));
    cards
}

/// The charts drawn into `charts_dir`, each read and inlined (absent ones
/// are left out).
fn figures(charts: &[Chart], charts_dir: &Path) -> Vec<Figure> {
    charts
        .iter()
        .filter_map(|c| {
            let png = std::fs::read(charts_dir.join(c.file)).ok()?;
            Some(Figure {
                id: c.file.trim_end_matches(".png").to_string(),
                caption: Markup::visible(&c.caption),
                alt: Markup::attribute(&c.caption),
                file: c.file,
                data: Markup::base64(&png),
            })
        })
        .collect()
}

/// The stream's triggers (abridged).
fn triggers_section(t: &[TriggerRow]) -> Section {
    let n = t.len();
    let shown = abridge(n, WHOLE);
    let row = |i: usize| -> Vec<Cell> {
        let x = &t[i];
        [
            thousands(x.trigger as i64),
            thousands(x.files as i64),
            thousands(x.events as i64),
            thousands(x.rejected as i64),
            thousands(x.state_rows as i64),
            x.variance.map(number).unwrap_or_default(),
            thousands(x.new_alerts as i64),
            thousands(x.duration_ms as i64),
        ]
        .iter()
        .map(|text| Cell::new(text, true))
        .collect()
    };
    let headers = [
        "trigger",
        "files",
        "events",
        "rejected",
        "state rows",
        "variance",
        "new alerts",
        "duration (ms)",
    ]
    .map(String::from)
    .to_vec();
    Section {
        id: "t-triggers".into(),
        heading: "Triggers of the stream",
        name: "triggers",
        count: format!(
            "{} {}",
            thousands(n as i64),
            if n == 1 { "trigger" } else { "triggers" }
        ),
        abridged: n > WHOLE,
        edge: EDGE,
        file: "tables/triggers.csv".into(),
        body: Some(Body::new(headers, n, &shown, row)),
    }
}

/// The rejected lines (the first ones).
fn rejected_section(r: &Report) -> Rejected {
    let s = r.summary;
    let rejected = r.rejected;
    let lines = |n: usize| format!("{} {}", thousands(n as i64), if n == 1 { "line" } else { "lines" });
    if let Some(q) = &s.input.quarantine {
        return Rejected {
            count: lines(s.input.rejected as usize),
            quarantine: Some(q.clone()),
            first: None,
            body: None,
        };
    }
    let shown: Vec<Option<usize>> = (0..rejected.len().min(MAX_REJECTED)).map(Some).collect();
    let row = |i: usize| -> Vec<Cell> {
        let x = &rejected[i];
        vec![
            Cell::new(&x.file, false),
            Cell::new(&thousands(x.line as i64), true),
            Cell::new(&x.reason, false),
            Cell {
                code: true,
                ..Cell::new(&crate::text::abridge(&x.text, 120), false)
            },
        ]
    };
    Rejected {
        count: lines(rejected.len()),
        quarantine: None,
        first: (rejected.len() > MAX_REJECTED).then_some(MAX_REJECTED),
        body: (!rejected.is_empty()).then(|| {
            Body::new(
                ["file", "line", "reason", "text"].map(String::from).to_vec(),
                shown.len(),
                &shown,
                row,
            )
        }),
    }
}

/// How the report was made: input, time, options, files.
fn about_section(r: &Report) -> About {
    let i = &r.summary.input;
    let o = r.options;
    About {
        input: Markup::visible(r.title),
        files: crate::text::count_of(i.files, "files"),
        lines: crate::text::count_of(i.lines, "lines"),
        fields: i.fields.clone(),
        made: r.generated.format(WHEN).to_string(),
        version: env!("CARGO_PKG_VERSION"),
        alert_a: o.alert_actions.0.clone(),
        alert_b: o.alert_actions.1.clone(),
        threshold: o.alert_threshold,
        window: o.moving_window,
        format: match r.table_format {
            super::tables::TableFormat::Csv => "CSV",
            super::tables::TableFormat::Parquet => "Parquet",
            super::tables::TableFormat::Both => "CSV and Parquet",
        },
    }
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;

    use super::super::report::LiveStatus;
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape("<script>\"a\" & 'b'</script>"),
            "&#60;script&#62;&#34;a&#34; &#38; &#39;b&#39;&#60;/script&#62;"
        );
    }

    #[test]
    fn control_and_bidi_characters_are_shown_not_obeyed() {
        assert_eq!(visible("Open"), "Open");
        assert_eq!(
            visible("a\nb\0<i>\u{202e}"),
            "a<span class=\"esc\">\\n</span>b<span class=\"esc\">\\u{0}</span>&#60;i&#62;<span class=\"esc\">\\u{202e}</span>"
        );
        // in an attribute, no markup: the escapes as text
        assert_eq!(Markup::attribute("a\n\"b\"").0, "a\\n&#34;b&#34;");
    }

    #[test]
    fn numbers_are_rounded_for_reading() {
        assert_eq!(number(17.558333333333334), "17.558");
        assert_eq!(number(1234567.0), "1,234,567");
        assert_eq!(number(0.30000000000000004), "0.3");
        assert_eq!(number(-0.0004), "0");
        assert_eq!(number(-12345.5), "-12,345.5");
        assert_eq!(number(-0.25), "-0.25");
    }

    #[test]
    fn the_key_cards_are_laid_out_in_full_rows() {
        let page = page_of(None);
        let cards = page.matches("<div class=\"key").count();
        assert!(cards >= 5, "{page}");
        let section = format!(
            "<section id=\"key-figures\" class=\"keys\" style=\"--n:{cards};--half:{}\">",
            cards.div_ceil(2)
        );
        assert!(page.contains(&section), "{page}");
    }

    /// The page of a few events, with `live` as given.
    fn page_of(live: Option<LiveStatus>) -> String {
        page_titled(live, "events")
    }

    /// [`page_of`] with the input named `title`.
    fn page_titled(live: Option<LiveStatus>, title: &str) -> String {
        let data = b"{\"time\":1469501107,\"action\":\"Open\"}\n{\"time\":1469501167,\"action\":\"Close\"}\n";
        let batch = crate::source::fold_bytes("a.json", data, false);
        let options = crate::metrics::Options::default();
        let figures = crate::metrics::compute(&batch.counts, &options).unwrap();
        let input = batch.stats();
        let summary = super::super::summary::Summary::new(&input, batch.counts.time_range(), &figures);
        let report = Report {
            title,
            heading: None,
            summary: &summary,
            figures: &figures,
            rejected: &batch.rejected,
            options: &options,
            triggers: None,
            table_format: super::super::tables::TableFormat::Csv,
            live,
            generated: DateTime::from_timestamp(1_795_651_200, 0).unwrap(),
            frames: Default::default(),
            reuse: None,
            plan: Default::default(),
            digest: Default::default(),
        };
        page(&report, Path::new("/nonexistent")).unwrap()
    }

    #[test]
    fn a_live_page_reloads_while_the_stream_runs_and_stops_after() {
        let updated = DateTime::from_timestamp(1_795_651_230, 0).unwrap();
        let running = page_of(Some(LiveStatus { updated, running: true }));
        assert!(running.contains("<meta http-equiv=\"refresh\" content=\"5\">"));
        assert!(running.contains("<b>Live:</b>"));
        assert!(running.contains("Last updated 2026-11-26 00:00:30 UTC."));
        let ended = page_of(Some(LiveStatus {
            updated,
            running: false,
        }));
        assert!(!ended.contains("http-equiv=\"refresh\""));
        assert!(ended.contains("The stream has ended."));
        let batch = page_of(None);
        assert!(!batch.contains("refresh") && !batch.contains("class=\"live\""));
        assert!(batch.contains("<dt>made</dt><dd>2026-11-26 00:00:00 UTC by windowpane"));
    }

    #[test]
    fn a_title_with_control_characters_shows_them_as_text_in_the_window_title() {
        let page = page_titled(None, "door\n<sensors>\u{202e}");
        assert!(
            page.contains("<title>windowpane · door\\n&#60;sensors&#62;\\u{202e}</title>"),
            "{page}"
        );
        assert!(page.contains(
            "<h1>windowpane report: door<span class=\"esc\">\\n</span>&#60;sensors&#62;<span class=\"esc\">\\u{202e}</span></h1>"
        ));
        assert!(!page.contains('\u{202e}'));
    }

    #[test]
    fn long_tables_show_head_and_tail() {
        let shown = abridge(100, WHOLE);
        assert_eq!(shown.len(), 2 * EDGE + 1);
        assert_eq!(shown[EDGE], None);
        assert_eq!(shown.last(), Some(&Some(99)));
        assert_eq!(abridge(5, WHOLE), vec![Some(0), Some(1), Some(2), Some(3), Some(4)]);
    }
}
