//! Formatted tables for the terminal, fitted to its width.
//!
//! Every value that comes from the data (actions, file names, rejected
//! text) goes through [`printable`] before it reaches a terminal, so that a
//! hostile input cannot move the cursor, set the window title or reverse
//! the text around it.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt::Write;

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{CellAlignment, ContentArrangement, Table};

use super::summary::Summary;
use super::timefmt::short;
use crate::metrics::{Figures, Options};

/// How many hours to show at each end of the hourly table without `--all`.
const EDGE_ROWS: usize = 5;

fn table(header: Vec<String>) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header);
    t
}

fn right_align(t: &mut Table, from: usize) {
    let n = t.column_count();
    for i in from..n {
        if let Some(c) = t.column_mut(i) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
}

/// True for the characters a terminal would act on instead of showing:
/// C0 and C1 controls, DEL, and the bidirectional formatting characters
/// (embeddings, overrides, isolates and marks) that reorder the text
/// around them.
fn hidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{2028}' | '\u{2029}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
        )
}

/// `text` as it can be shown on a terminal: every control character and
/// bidirectional formatting character is written as an escape (`\n`,
/// `\t`, `\r`, else `\u{1b}`, `\u{202e}`); everything else is kept.
/// Text without such characters is returned as it is, without copying.
pub fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(hidden) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if hidden(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// [`printable`] for a message of several lines: each line is escaped and
/// the line breaks are kept.
pub fn printable_lines(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| c != '\n' && hidden(c)) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(text.split('\n').map(printable).collect::<Vec<_>>().join("\n"))
}

/// Thousands separators for counts: `100,000`.
pub fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

fn float(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.4}")).unwrap_or_else(|| "–".into())
}

/// Renders the whole terminal report. `input` is the input as the user
/// wrote it (named in the hint about rejected lines); `report_dir` is the
/// report folder written, if any.
pub fn render(
    heading: &str,
    input: &str,
    s: &Summary,
    f: &Figures,
    opts: &Options,
    all: bool,
    report_dir: Option<&str>,
) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}\n", printable(heading));

    // late events (streaming append mode) have a column when there are any,
    // so that lines = events + rejected + late can be read off the table
    let late = s.input.late > 0;
    let mut header = vec!["files".into(), "lines".into(), "events".into(), "rejected".into()];
    let mut row = vec![
        thousands(s.input.files as i64),
        thousands(s.input.lines as i64),
        thousands(s.input.events as i64),
        thousands(s.input.rejected as i64),
    ];
    if late {
        header.push("late".into());
        row.push(thousands(s.input.late as i64));
    }
    header.extend(["first event".into(), "last event".into()]);
    row.extend([
        s.first_event.clone().unwrap_or_else(|| "–".into()),
        s.last_event.clone().unwrap_or_else(|| "–".into()),
    ]);
    let mut t = table(header);
    t.add_row(row);
    right_align(&mut t, 0);
    let _ = writeln!(out, "Input\n{t}");
    if s.input.rejected > 0 {
        let n = thousands(s.input.rejected as i64);
        let _ = match (&s.input.quarantine, report_dir) {
            (Some(q), _) => writeln!(out, "{n} rejected lines are not in the figures: {}", printable(q)),
            (None, Some(d)) => writeln!(
                out,
                "{n} rejected lines are quarantined in {}/rejected.ndjson",
                printable(d)
            ),
            (None, None) => writeln!(
                out,
                "{n} rejected lines are not in the figures (no report, so no rejected.ndjson); \
                 `windowpane sql {} \"select * from rejected\"` lists them with file, line and reason",
                printable(&shell_word(input))
            ),
        };
    }

    let mut t = table(vec!["action".into(), "total_count".into(), "share".into()]);
    let total: i64 = f.totals.iter().map(|t| t.1).sum();
    for (a, n) in &f.totals {
        t.add_row(vec![
            printable(a).into_owned(),
            thousands(*n),
            format!("{:.1}%", 100.0 * *n as f64 / total.max(1) as f64),
        ]);
    }
    right_align(&mut t, 1);
    let _ = writeln!(out, "\nTotals\n{t}");

    // hourly counts, one column per action, with the hourly average beside
    let actions: Vec<&str> = f.totals.iter().map(|t| t.0.as_str()).collect();
    let peak = f.peak_hour.as_ref().map(|p| p.window_start);
    let n = f.hourly_average.len();
    let shown = |i: usize, start: i64| all || i < EDGE_ROWS || i + EDGE_ROWS >= n || Some(start) == peak;
    // the counts of the hours shown only: a year holds thousands
    let shown_hours: std::collections::HashSet<i64> = f
        .hourly_average
        .iter()
        .enumerate()
        .filter(|(i, h)| shown(*i, h.window_start))
        .map(|(_, h)| h.window_start)
        .collect();
    let mut by_hour: BTreeMap<i64, BTreeMap<&str, i64>> = BTreeMap::new();
    for c in f.hourly_counts.iter().filter(|c| shown_hours.contains(&c.window_start)) {
        by_hour.entry(c.window_start).or_default().insert(&*c.action, c.count);
    }
    let mut header = vec!["hour (UTC)".to_string()];
    header.extend(actions.iter().map(|a| printable(a).into_owned()));
    header.push("average / minute".into());
    header.push(String::new());
    let mut t = table(header);
    let mut hidden = 0;
    for (i, h) in f.hourly_average.iter().enumerate() {
        if !shown(i, h.window_start) {
            hidden += 1;
            continue;
        }
        if i > 0 && !shown(i - 1, f.hourly_average[i - 1].window_start) {
            let mut gap = vec!["⋮".to_string()];
            gap.extend(std::iter::repeat_n("⋮".to_string(), actions.len() + 1));
            gap.push(String::new());
            t.add_row(gap);
        }
        let counts = by_hour.get(&h.window_start);
        let mut row = vec![short(h.window_start)];
        for a in &actions {
            row.push(thousands(counts.and_then(|c| c.get(a)).copied().unwrap_or(0)));
        }
        row.push(format!("{:.4}", h.average));
        row.push(if Some(h.window_start) == peak {
            "◀ peak".into()
        } else {
            String::new()
        });
        t.add_row(row);
    }
    right_align(&mut t, 1);
    let _ = writeln!(out, "\nHourly counts and average actions per minute\n{t}");
    if hidden > 0 {
        let _ = writeln!(out, "{} of {n} hours shown; --all shows every hour", n - hidden);
    }

    let (open, close) = (printable(&opts.alert_actions.0), printable(&opts.alert_actions.1));
    let mut t = table(vec![
        "minute (UTC)".into(),
        open.to_string(),
        close.to_string(),
        "difference".into(),
    ]);
    for a in &f.alerts {
        t.add_row(vec![
            short(a.window_start),
            thousands(a.open),
            thousands(a.close),
            format!("{:+}", a.difference),
        ]);
    }
    right_align(&mut t, 1);
    if f.alerts.is_empty() {
        let _ = writeln!(
            out,
            "\nAlerts (|{open} − {close}| > {} in a minute): none",
            opts.alert_threshold
        );
    } else {
        let _ = writeln!(
            out,
            "\nAlerts: {} minutes where |{open} − {close}| > {}\n{t}",
            f.alerts.len(),
            opts.alert_threshold
        );
    }

    let mut t = table(vec!["figure".into(), "value".into()]);
    t.add_row(vec!["minute rows".into(), thousands(s.minute_rows as i64)]);
    t.add_row(vec!["variance of minute counts".into(), float(s.variance)]);
    t.add_row(vec![
        "hourly count max".into(),
        s.hourly_count_max.map(thousands).unwrap_or_default(),
    ]);
    t.add_row(vec![
        "hourly count min".into(),
        s.hourly_count_min.map(thousands).unwrap_or_default(),
    ]);
    if let Some(p) = &f.peak_hour {
        t.add_row(vec![
            "peak hour".into(),
            format!("{} ({:.4} / minute)", short(p.window_start), p.average),
        ]);
    }
    right_align(&mut t, 1);
    let _ = writeln!(out, "\nStatistics\n{t}");
    if let Some(dir) = report_dir {
        let dir = printable(dir);
        let _ = writeln!(out, "\nReport written to {dir}/ (open {dir}/index.html)");
    }
    out
}

/// `word` as one word of a POSIX shell command line: as it is when it
/// holds only characters no shell treats specially, else in single quotes.
pub fn shell_word(word: &str) -> Cow<'_, str> {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./:,=+@%".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        Cow::Borrowed(word)
    } else {
        Cow::Owned(format!("'{}'", word.replace('\'', "'\\''")))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn thousands_groups_digits() {
        assert_eq!(super::thousands(0), "0");
        assert_eq!(super::thousands(999), "999");
        assert_eq!(super::thousands(100000), "100,000");
        assert_eq!(super::thousands(-1234567), "-1,234,567");
    }

    #[test]
    fn controls_and_bidi_overrides_are_escaped() {
        use super::printable;
        assert!(matches!(printable("Open"), std::borrow::Cow::Borrowed("Open")));
        assert_eq!(printable("\u{1b}]0;PWNED\u{7}X"), "\\u{1b}]0;PWNED\\u{7}X");
        assert_eq!(printable("abc\u{202e}def"), "abc\\u{202e}def");
        assert_eq!(printable("a\nb\tc\r"), "a\\nb\\tc\\r");
        assert_eq!(printable("\u{9b}2J\u{7f}"), "\\u{9b}2J\\u{7f}");
        assert_eq!(printable("\u{2066}x\u{2069}\u{200f}"), "\\u{2066}x\\u{2069}\\u{200f}");
        // letters of any script, accents and emoji are shown as they are
        assert_eq!(printable("Öffnen ✓ 開く שלום"), "Öffnen ✓ 開く שלום");
        assert_eq!(super::printable_lines("a\u{1b}\nb"), "a\\u{1b}\nb");
    }

    #[test]
    fn shell_words_are_quoted_when_needed() {
        assert_eq!(super::shell_word("data/events"), "data/events");
        assert_eq!(super::shell_word("my data"), "'my data'");
        assert_eq!(super::shell_word("it's"), "'it'\\''s'");
    }
}
