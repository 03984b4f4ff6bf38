//! `index.html`: one self-contained page (charts inlined) with the summary,
//! the tables (long ones abridged) and the charts. Every value that comes
//! from the data is escaped.

use std::fmt::Write;
use std::path::Path;

use base64::Engine;

use super::charts::CHARTS;
use super::summary::Summary;
use super::terminal::thousands;
use crate::source::Rejected;

/// Rows shown at each end of a long table.
const EDGE: usize = 12;

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

/// Splits a CSV line written by this tool into fields (quoted fields may
/// hold commas and doubled quotes).
fn csv_fields(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(std::mem::take(&mut cur)),
            (c, _) => cur.push(c),
        }
    }
    fields.push(cur);
    fields
}

fn table(out: &mut String, name: &str, csv: &str) {
    let lines: Vec<&str> = csv.lines().collect();
    let Some((header, rows)) = lines.split_first() else {
        return;
    };
    let _ = write!(
        out,
        "<h3>{}</h3>\n<p class=\"note\">{} rows · <a href=\"tables/{}\">tables/{}</a></p>\n<table>\n<tr>",
        escape(name.trim_end_matches(".csv")),
        rows.len(),
        escape(name),
        escape(name)
    );
    for h in csv_fields(header) {
        let _ = write!(out, "<th>{}</th>", escape(&h));
    }
    out.push_str("</tr>\n");
    let n = rows.len();
    for (i, row) in rows.iter().enumerate() {
        if n > 2 * EDGE + 1 && i == EDGE {
            let _ = writeln!(
                out,
                "<tr class=\"gap\"><td colspan=\"9\">… {} rows not shown …</td></tr>",
                n - 2 * EDGE
            );
        }
        if n > 2 * EDGE + 1 && i >= EDGE && i < n - EDGE {
            continue;
        }
        out.push_str("<tr>");
        for f in csv_fields(row) {
            let _ = write!(out, "<td>{}</td>", escape(&f));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");
}

/// Builds the page. `charts_dir` holds the PNGs to inline (absent ones are
/// left out).
pub fn page(
    title: &str,
    summary: &Summary,
    tables: &[(String, String)],
    rejected: &[Rejected],
    charts_dir: &Path,
) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>windowpane · {t}</title>\n<style>\n\
         body{{font-family:system-ui,sans-serif;max-width:1240px;margin:2em auto;padding:0 1em;color:#222}}\n\
         table{{border-collapse:collapse;margin:.5em 0 1.5em;font-size:.9em}}\n\
         td,th{{border:1px solid #ccc;padding:.2em .6em;text-align:right}}\n\
         th{{background:#f3f3f3}} tr.gap td{{text-align:center;color:#777}}\n\
         img{{max-width:100%;border:1px solid #ddd;margin:.5em 0}} .note{{color:#666;margin:0}}\n\
         pre{{background:#f7f7f7;padding:1em;overflow:auto}}\n</style>\n</head>\n<body>\n\
         <h1>windowpane report: {t}</h1>\n",
        t = escape(title)
    );
    let i = &summary.input;
    let _ = writeln!(
        out,
        "<p>{} files, {} lines: {} events and {} rejected lines. Events from {} to {}.</p>",
        thousands(i.files as i64),
        thousands(i.lines as i64),
        thousands(i.events as i64),
        thousands(i.rejected as i64),
        escape(summary.first_event.as_deref().unwrap_or("–")),
        escape(summary.last_event.as_deref().unwrap_or("–"))
    );
    if let Some(p) = &summary.peak_hour {
        let _ = writeln!(
            out,
            "<p>Peak hour: <b>{} to {}</b>, {:.4} actions per minute on average. Alert minutes: <b>{}</b>. Variance of the minute counts: {}.</p>",
            escape(&p.window_start),
            escape(&p.window_end),
            p.average,
            summary.alerts,
            summary.variance.map(|v| format!("{v:.4}")).unwrap_or_else(|| "–".into())
        );
    }
    out.push_str("<h2>Charts</h2>\n");
    for (file, caption) in CHARTS {
        if let Ok(png) = std::fs::read(charts_dir.join(file)) {
            let data = base64::engine::general_purpose::STANDARD.encode(png);
            let _ = writeln!(
                out,
                "<figure><img alt=\"{c}\" src=\"data:image/png;base64,{data}\"><figcaption>{c} · <a href=\"charts/{f}\">charts/{f}</a></figcaption></figure>",
                c = escape(caption),
                f = escape(file)
            );
        }
    }
    out.push_str("<h2>Tables</h2>\n");
    // the short tables that answer the questions first, the long ones after
    const ORDER: [&str; 6] = [
        "totals.csv",
        "alerts.csv",
        "hourly_average.csv",
        "hourly_counts.csv",
        "minute_counts.csv",
        "moving_average.csv",
    ];
    let rank = |name: &str| ORDER.iter().position(|n| *n == name).unwrap_or(ORDER.len());
    let mut ordered: Vec<&(String, String)> = tables.iter().collect();
    ordered.sort_by_key(|(name, _)| rank(name));
    for (name, csv) in ordered {
        table(&mut out, name, csv);
    }
    let _ = writeln!(
        out,
        "<h2>Rejected lines</h2>\n<p class=\"note\">{} lines · <a href=\"rejected.ndjson\">rejected.ndjson</a></p>",
        rejected.len()
    );
    if !rejected.is_empty() {
        out.push_str("<table>\n<tr><th>file</th><th>line</th><th>reason</th><th>text</th></tr>\n");
        for r in rejected.iter().take(2 * EDGE) {
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
                escape(&r.file),
                r.line,
                escape(&r.reason),
                escape(&crate::source::abridge(&r.text, 120))
            );
        }
        out.push_str("</table>\n");
    }
    out.push_str("<h2>summary.json</h2>\n<pre>");
    out.push_str(&escape(&summary.to_json()));
    out.push_str("</pre>\n</body>\n</html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape("<script>\"a\" & 'b'</script>"),
            "&lt;script&gt;&quot;a&quot; &amp; &#39;b&#39;&lt;/script&gt;"
        );
    }

    #[test]
    fn reads_back_quoted_csv_fields() {
        assert_eq!(csv_fields("\"a,\"\"b\"\"\",2,"), vec!["a,\"b\"", "2", ""]);
    }
}
