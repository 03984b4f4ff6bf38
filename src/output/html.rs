//! `index.html`: one self-contained page to hand on. Key figures first, a
//! table of contents, the charts (inlined), the tables abridged to their
//! interesting rows with links to the files, the rejected lines, and what
//! the report was made from (options, version, input, time).
//!
//! Every value that comes from the data is escaped, and control characters
//! (line breaks, NUL, escapes, bidirectional overrides) are shown as
//! visible escapes, so no value can add markup or break a row. The page
//! needs no network and no script; it follows the browser's dark mode and
//! prints without the navigation.

use std::fmt::Write;
use std::path::Path;

use anyhow::Result;
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
/// Seconds between reloads of a live page.
const REFRESH: u32 = 5;

/// Escapes text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
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
            let _ = write!(out, "<span class=\"esc\">{shown}</span>");
        } else {
            plain.push(c);
        }
    }
    out.push_str(&escape(&plain));
    out
}

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

/// A cell for the page: its HTML and whether it is a number.
fn cell(v: &AnyValue) -> (String, bool) {
    match v {
        AnyValue::Null => (String::new(), false),
        AnyValue::String(s) => (visible(s), false),
        AnyValue::StringOwned(s) => (visible(s), false),
        AnyValue::Float64(f) => (number(*f), true),
        AnyValue::Float32(f) => (number(f64::from(*f)), true),
        AnyValue::Int64(n) => (thousands(*n), true),
        AnyValue::Int32(n) => (thousands(i64::from(*n)), true),
        AnyValue::UInt64(n) => (thousands(*n as i64), true),
        AnyValue::UInt32(n) => (thousands(i64::from(*n)), true),
        AnyValue::Datetime(t, _, _) | AnyValue::DatetimeOwned(t, _, _) => (escape(&short(t.div_euclid(1000))), false),
        other => (visible(&other.to_string()), false),
    }
}

/// Writes the rows `shown` of a table (`None` marks the hidden stretch).
fn table_rows(
    out: &mut String,
    headers: &[&str],
    n: usize,
    shown: &[Option<usize>],
    row: &dyn Fn(usize) -> Vec<(String, bool)>,
) {
    out.push_str("<div class=\"scroll\"><table>\n<thead><tr>");
    for h in headers {
        let _ = write!(out, "<th>{}</th>", escape(h));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for i in shown {
        match i {
            Some(i) => {
                out.push_str("<tr>");
                for (text, num) in row(*i) {
                    let class = if num { " class=\"n\"" } else { "" };
                    let _ = write!(out, "<td{class}>{text}</td>");
                }
                out.push_str("</tr>\n");
            }
            None => {
                let hidden = n - shown.iter().flatten().count();
                let _ = writeln!(
                    out,
                    "<tr class=\"gap\"><td colspan=\"{}\">⋯ {} rows not shown ⋯</td></tr>",
                    headers.len(),
                    thousands(hidden as i64)
                );
            }
        }
    }
    out.push_str("</tbody></table></div>\n");
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

fn frame_table(out: &mut String, r: &Report, name: &str, v: &View) {
    let n = v.n;
    let df = &v.df;
    let ext = r.table_format.link_extension();
    let shown = &v.shown;
    let hidden = n - shown.iter().flatten().count();
    let _ = write!(
        out,
        "<section id=\"t-{name}\">\n<h3>{} <code>{name}</code></h3>\n<p class=\"note\">{} {}",
        describe(name),
        thousands(n as i64),
        if n == 1 { "row" } else { "rows" },
    );
    if hidden > 0 {
        let _ = write!(out, ", the first and last {EDGE} shown");
    }
    let _ = writeln!(
        out,
        " · every row in <a href=\"tables/{name}.{ext}\">tables/{name}.{ext}</a></p>"
    );
    if n == 0 {
        out.push_str("</section>\n");
        return;
    }
    let headers: Vec<&str> = df.get_column_names().iter().map(|c| c.as_str()).collect();
    let row = |i: usize| -> Vec<(String, bool)> {
        df.columns()
            .iter()
            .map(|c| {
                let (text, num) = c.get(i).map(|v| cell(&v)).unwrap_or_default();
                // a difference carries its sign, as the terminal shows it
                match c.name().as_str() == "difference" && num && !text.starts_with('-') && text != "0" {
                    true => (format!("+{text}"), num),
                    false => (text, num),
                }
            })
            .collect()
    };
    table_rows(out, &headers, n, shown, &row);
    out.push_str("</section>\n");
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

fn key(out: &mut String, value: &str, label: &str, alert: bool) {
    let _ = writeln!(
        out,
        "<div class=\"key{}\"><b>{value}</b><span>{label}</span></div>",
        if alert { " alert" } else { "" }
    );
}

/// Builds the page of report `r`. `charts_dir` holds the PNGs to inline
/// (absent ones are left out).
pub fn page(r: &Report, charts_dir: &Path) -> Result<String> {
    let plan = r.plan()?;
    let mut out = String::with_capacity(1 << 20);
    head(&mut out, r);
    key_figures(&mut out, r, plan);
    // what the contents list: the charts drawn, the tables in this order
    let charts = plan.map(|p| p.charts(r)).unwrap_or_default();
    let charts: Vec<_> = charts
        .into_iter()
        .filter(|c| charts_dir.join(c.file).is_file())
        .collect();
    const ORDER: [&str; 6] = [
        "totals",
        "alerts",
        "hourly_average",
        "hourly_counts",
        "minute_counts",
        "moving_average",
    ];
    let tables: Vec<(&str, View)> = ORDER
        .iter()
        .map(|name| Ok((*name, view(r, name)?)))
        .collect::<Result<_>>()?;
    contents(&mut out, r, !charts.is_empty(), &tables);
    if !charts.is_empty() {
        charts_section(&mut out, plan, &charts, charts_dir);
    }
    // tables
    out.push_str(
        "<h2 id=\"tables\">Tables</h2>\n<p class=\"note\">Shown rounded (at most 3 decimals, times to the minute, UTC); the files hold every row at full precision.</p>\n",
    );
    for (name, v) in &tables {
        frame_table(&mut out, r, name, v);
    }
    if let Some(t) = r.triggers {
        triggers_section(&mut out, t);
    }
    rejected_section(&mut out, r);
    about_section(&mut out, r);
    out.push_str("<p class=\"note\"><a href=\"#top\">back to the top</a></p>\n</body>\n</html>\n");
    Ok(out)
}

/// The page's head and title, and whether it is live.
fn head(out: &mut String, r: &Report) {
    let title = match (r.heading, r.title) {
        (Some(heading), _) => visible(heading),
        (None, "-") => "standard input".to_string(),
        (None, input) => visible(input),
    };
    let refresh = match &r.live {
        Some(l) if l.running => format!("<meta http-equiv=\"refresh\" content=\"{REFRESH}\">\n"),
        _ => String::new(),
    };
    let _ = write!(
        out,
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\n{refresh}\
         <title>windowpane · {title}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n\
         <header id=\"top\">\n<h1>windowpane report: {title}</h1>\n"
    );
    if let Some(l) = &r.live {
        let when = escape(&l.updated.format("%Y-%m-%d %H:%M:%S UTC").to_string());
        if l.running {
            let _ = writeln!(
                out,
                "<p class=\"live\"><b>Live:</b> <code>stream --follow</code> is running and rewrites this report as files arrive; the page reloads every {REFRESH} s. Last updated {when}.</p>"
            );
        } else {
            let _ = writeln!(
                out,
                "<p class=\"live\"><b>The stream has ended.</b> Last updated {when}; the page no longer reloads.</p>"
            );
        }
    }
}

/// The key figures at the top.
fn key_figures(page: &mut String, r: &Report, plan: Option<&Plan>) {
    let s = r.summary;
    let i = &s.input;
    let mut cards = String::new();
    let out = &mut cards;
    key(out, &thousands(i.events as i64), "events", false);
    key(
        out,
        &thousands(i.rejected as i64),
        &format!("rejected of {} lines", thousands(i.lines as i64)),
        i.rejected > 0,
    );
    if i.late > 0 {
        // streaming append mode: counted, not in the figures
        let noun = if i.late == 1 {
            "late event, not merged"
        } else {
            "late events, not merged"
        };
        key(out, &thousands(i.late as i64), noun, true);
    }
    if let (Some(first), Some(last)) = (&s.first_event, &s.last_event) {
        let span = r.figures.hourly_average.first().zip(r.figures.hourly_average.last());
        let words = plan
            .as_ref()
            .map(|p| series::duration(p.bulk.last - p.bulk.first))
            .or_else(|| span.map(|(a, b)| series::duration(b.window_end - a.window_start)))
            .unwrap_or_default();
        key(
            out,
            &escape(&words),
            &format!(
                "from {} to {}",
                escape(&first.replace('T', " ").replace('Z', "")),
                escape(&last.replace('T', " ").replace('Z', ""))
            ),
            false,
        );
    }
    match &r.figures.peak_hour {
        Some(p) => {
            let (start, end) = (short(p.window_start), short(p.window_end));
            let (day, from) = start.split_once(' ').unwrap_or((&start, ""));
            let to = end.split_once(' ').map_or(end.as_str(), |e| e.1);
            key(
                out,
                &escape(&format!("{from}–{to}")),
                &format!(
                    "peak hour, {} (UTC), {} actions per minute",
                    escape(day),
                    number(p.average)
                ),
                false,
            )
        }
        None => key(out, "–", "peak hour", false),
    }
    key(
        out,
        &thousands(s.alerts as i64),
        &format!(
            "{} ({} − {} beyond ±{})",
            if s.alerts == 1 { "alert minute" } else { "alert minutes" },
            escape(&r.options.alert_actions.0),
            escape(&r.options.alert_actions.1),
            r.options.alert_threshold
        ),
        s.alerts > 0,
    );
    key(
        out,
        &s.variance.map(number).unwrap_or_else(|| "–".into()),
        &match s.variance {
            Some(v) => format!(
                "variance of the events per minute: how widely minutes differ (standard deviation {})",
                number(v.max(0.0).sqrt())
            ),
            None => "variance of the events per minute".to_string(),
        },
        false,
    );
    // one row of cards on a wide screen, two equal rows on a middling one,
    // two columns on a phone: never a card alone on a row of its own
    let n = cards.matches("<div class=\"key").count();
    let _ = write!(
        page,
        "<section id=\"key-figures\" class=\"keys\" style=\"--n:{n};--half:{}\">\n{cards}</section>\n</header>\n",
        n.div_ceil(2)
    );
}

/// The list of contents.
fn contents(out: &mut String, r: &Report, charts: bool, tables: &[(&str, View)]) {
    out.push_str("<nav aria-label=\"contents\"><b>Contents</b>\n<ol>\n");
    if charts {
        out.push_str("<li><a href=\"#charts\">Charts</a></li>\n");
    }
    out.push_str("<li><a href=\"#tables\">Tables</a>: ");
    let links: Vec<String> = tables
        .iter()
        .map(|(n, _)| format!("<a href=\"#t-{n}\">{n}</a>"))
        .chain(r.triggers.map(|_| "<a href=\"#t-triggers\">triggers</a>".to_string()))
        .collect();
    out.push_str(&links.join(", "));
    out.push_str("</li>\n<li><a href=\"#rejected\">Rejected lines</a></li>\n<li><a href=\"#about\">How this report was made</a></li>\n</ol></nav>\n");
}

/// The charts, each embedded and linked to its file.
fn charts_section(out: &mut String, plan: Option<&Plan>, charts: &[Chart], charts_dir: &Path) {
    if !charts.is_empty() {
        out.push_str("<h2 id=\"charts\">Charts</h2>\n");
        if let Some(note) = plan.and_then(Plan::note) {
            let _ = writeln!(out, "<p class=\"note\">{}</p>", visible(&note));
        }
        for c in charts {
            let Ok(png) = std::fs::read(charts_dir.join(c.file)) else {
                continue;
            };
            let data = base64::engine::general_purpose::STANDARD.encode(png);
            let _ = writeln!(
                out,
                "<figure id=\"c-{id}\"><img class=\"chart\" alt=\"{cap}\" src=\"data:image/png;base64,{data}\"><figcaption>{cap} · <a href=\"charts/{f}\">charts/{f}</a></figcaption></figure>",
                id = c.file.trim_end_matches(".png"),
                cap = visible(&c.caption),
                f = c.file
            );
        }
    }
}

/// The stream's triggers (abridged).
fn triggers_section(out: &mut String, t: &[TriggerRow]) {
    {
        let n = t.len();
        let shown = abridge(n, WHOLE);
        let _ = writeln!(
            out,
            "<section id=\"t-triggers\">\n<h3>Triggers of the stream <code>triggers</code></h3>\n<p class=\"note\">{} triggers · every row in <a href=\"tables/triggers.csv\">tables/triggers.csv</a></p>",
            thousands(n as i64)
        );
        let row = |i: usize| -> Vec<(String, bool)> {
            let x = &t[i];
            vec![
                (thousands(x.trigger as i64), true),
                (thousands(x.files as i64), true),
                (thousands(x.events as i64), true),
                (thousands(x.rejected as i64), true),
                (thousands(x.state_rows as i64), true),
                (x.variance.map(number).unwrap_or_default(), true),
                (thousands(x.new_alerts as i64), true),
                (thousands(x.duration_ms as i64), true),
            ]
        };
        table_rows(
            out,
            &[
                "trigger",
                "files",
                "events",
                "rejected",
                "state rows",
                "variance",
                "new alerts",
                "duration (ms)",
            ],
            n,
            &shown,
            &row,
        );
        out.push_str("</section>\n");
    }
}

/// The rejected lines (the first ones).
fn rejected_section(out: &mut String, r: &Report) {
    let s = r.summary;
    let rejected = r.rejected;
    if let Some(q) = &s.input.quarantine {
        let _ = writeln!(
            out,
            "<h2 id=\"rejected\">Rejected lines</h2>\n<p class=\"note\">{} {} · {}</p>",
            thousands(s.input.rejected as i64),
            if s.input.rejected == 1 { "line" } else { "lines" },
            escape(q)
        );
    } else {
        let _ = writeln!(
        out,
        "<h2 id=\"rejected\">Rejected lines</h2>\n<p class=\"note\">{} {}{} · every one in <a href=\"rejected.ndjson\">rejected.ndjson</a> with its file, line and reason</p>",
        thousands(rejected.len() as i64),
        if rejected.len() == 1 { "line" } else { "lines" },
        if rejected.len() > MAX_REJECTED {
            format!(", the first {MAX_REJECTED} shown")
        } else {
            String::new()
        }
    );
        if !rejected.is_empty() {
            let shown: Vec<Option<usize>> = (0..rejected.len().min(MAX_REJECTED)).map(Some).collect();
            let row = |i: usize| -> Vec<(String, bool)> {
                let x = &rejected[i];
                vec![
                    (visible(&x.file), false),
                    (thousands(x.line as i64), true),
                    (visible(&x.reason), false),
                    (
                        format!("<code>{}</code>", visible(&crate::text::abridge(&x.text, 120))),
                        false,
                    ),
                ]
            };
            table_rows(out, &["file", "line", "reason", "text"], shown.len(), &shown, &row);
        }
    }
}

/// How the report was made: input, time, options, files.
fn about_section(out: &mut String, r: &Report) {
    let i = &r.summary.input;
    let title = escape(r.title);
    let o = r.options;
    let fields = match &i.fields {
        Some(f) => format!(
            "<dt>fields</dt><dd>time from <code>{t}</code>, action from <code>{a}</code> (<code>--time-field {t} --action-field {a}</code>)</dd>\n",
            t = escape(&f.time),
            a = escape(&f.action)
        ),
        None => String::new(),
    };
    let _ = writeln!(
        out,
        "<h2 id=\"about\">How this report was made</h2>\n<dl class=\"about\">\n\
         <dt>input</dt><dd><code>{title}</code>: {files}, {lines}</dd>\n{fields}\
         <dt>made</dt><dd>{when} by windowpane {version}</dd>\n\
         <dt>alerts</dt><dd>|{a} − {b}| per minute &gt; {t} (<code>--alert-actions {a},{b} --alert-threshold {t}</code>)</dd>\n\
         <dt>moving average</dt><dd>trailing {w} minutes (<code>--moving-window {w}m</code>)</dd>\n\
         <dt>tables</dt><dd>{fmt} in <a href=\"tables/\">tables/</a>; times are UTC</dd>\n\
         <dt>files</dt><dd><a href=\"summary.json\">summary.json</a> (the key figures), <a href=\"rejected.ndjson\">rejected.ndjson</a>, <a href=\"charts/\">charts/</a></dd>\n</dl>",
        files = crate::text::count_of(i.files, "files"),
        lines = crate::text::count_of(i.lines, "lines"),
        when = escape(&r.generated.format("%Y-%m-%d %H:%M:%S UTC").to_string()),
        version = env!("CARGO_PKG_VERSION"),
        a = escape(&o.alert_actions.0),
        b = escape(&o.alert_actions.1),
        t = o.alert_threshold,
        w = o.moving_window,
        fmt = match r.table_format {
            super::tables::TableFormat::Csv => "CSV",
            super::tables::TableFormat::Parquet => "Parquet",
            super::tables::TableFormat::Both => "CSV and Parquet",
        },
    );
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
            "&lt;script&gt;&quot;a&quot; &amp; &#39;b&#39;&lt;/script&gt;"
        );
    }

    #[test]
    fn control_and_bidi_characters_are_shown_not_obeyed() {
        assert_eq!(visible("Open"), "Open");
        assert_eq!(
            visible("a\nb\0<i>\u{202e}"),
            "a<span class=\"esc\">\\n</span>b<span class=\"esc\">\\u{0}</span>&lt;i&gt;<span class=\"esc\">\\u{202e}</span>"
        );
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
        let data = b"{\"time\":1469501107,\"action\":\"Open\"}\n{\"time\":1469501167,\"action\":\"Close\"}\n";
        let batch = crate::source::fold_bytes("a.json", data, false);
        let options = crate::metrics::Options::default();
        let figures = crate::metrics::compute(&batch.counts, &options).unwrap();
        let input = batch.stats();
        let summary = super::super::summary::Summary::new(&input, batch.counts.time_range(), &figures);
        let report = Report {
            title: "events",
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
    fn long_tables_show_head_and_tail() {
        let shown = abridge(100, WHOLE);
        assert_eq!(shown.len(), 2 * EDGE + 1);
        assert_eq!(shown[EDGE], None);
        assert_eq!(shown.last(), Some(&Some(99)));
        assert_eq!(abridge(5, WHOLE), vec![Some(0), Some(1), Some(2), Some(3), Some(4)]);
    }
}
