//! Text for people: what data holds shown so that a terminal cannot act
//! on it, numbers with thousands separators, shell words, standard output
//! that a closed pipe silences, and the one channel of warnings and notes
//! on standard error ([`warning`], [`note`]). A leaf: it names no other
//! module.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::Write as _;

/// True for the characters a terminal would act on instead of showing, or
/// that show nothing: C0 and C1 controls, DEL, the bidirectional
/// formatting characters (embeddings, overrides, isolates and marks) that
/// reorder the text around them, and the zero-width ones.
pub fn hidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            // bidirectional marks, embeddings, overrides and isolates
            '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
            // line and paragraph separators
            | '\u{2028}' | '\u{2029}'
            // characters that show nothing: zero-width space, joiners, word
            // joiner and invisible operators, byte order mark, soft hyphen,
            // Mongolian vowel separator (`Open` and `Open\u{200b}` must not
            // look alike)
            | '\u{200B}'..='\u{200D}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}' | '\u{00AD}' | '\u{180E}'
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

/// Cuts `text` to at most `max` characters, marking the cut.
pub fn abridge(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let cut: String = text.chars().take(max).collect();
        format!("{cut}…")
    }
}

/// Standard output that a closed pipe (`| head`) silences instead of
/// stopping the run: once the reader has gone, what is written is dropped.
#[derive(Debug, Default)]
pub struct Stdout {
    closed: bool,
}

impl Stdout {
    /// Writes a line.
    pub fn line(&mut self, text: &str) -> anyhow::Result<()> {
        self.text(&format!("{text}\n"))
    }

    /// Writes `text` as it is, and flushes it.
    pub fn text(&mut self, text: &str) -> anyhow::Result<()> {
        if self.closed {
            return Ok(());
        }
        let mut out = std::io::stdout().lock();
        match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                self.closed = true;
                STDOUT_CLOSED.store(true, std::sync::atomic::Ordering::Relaxed);
                Ok(())
            }
            other => Ok(other?),
        }
    }
}

static STDOUT_CLOSED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// True once a write found standard output closed (its reader, `head`,
/// has gone): a command that would print again and again can stop.
pub fn stdout_closed() -> bool {
    STDOUT_CLOSED.load(std::sync::atomic::Ordering::Relaxed)
}

/// `n` and a noun, singular for one: `1 late event`, `2 late events`
/// (`noun` is the plural; its last `s` goes for one).
pub fn count_of(n: u64, noun: &str) -> String {
    let noun = if n == 1 {
        noun.strip_suffix('s').unwrap_or(noun)
    } else {
        noun
    };
    format!("{} {noun}", thousands(n as i64))
}

/// Whether `e` comes of writing to a closed pipe (`| head`).
pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            || c.downcast_ref::<serde_json::Error>()
                .is_some_and(|j| j.io_error_kind() == Some(std::io::ErrorKind::BrokenPipe))
    })
}

/// Notes that standard output was closed by its reader.
pub fn mark_stdout_closed() {
    STDOUT_CLOSED.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// Writes to standard output; a closed pipe (`| head`) is not an error.
pub fn print_stdout(text: &str) -> anyhow::Result<()> {
    Stdout::default().text(text)
}

#[cfg(test)]
mod tests {
    #[test]
    fn one_is_singular() {
        assert_eq!(super::count_of(1, "late events"), "1 late event");
        assert_eq!(super::count_of(0, "late events"), "0 late events");
        assert_eq!(super::count_of(1200, "files"), "1,200 files");
    }

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
        // characters that show nothing are shown as escapes
        assert_eq!(printable("Open\u{200b}"), "Open\\u{200b}");
        assert_eq!(printable("\u{feff}Op\u{ad}en\u{2060}"), "\\u{feff}Op\\u{ad}en\\u{2060}");
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

/// Notices held back while a screen is owned (see [`hold_notices`]);
/// `None` while they go straight to standard error.
static HELD: std::sync::Mutex<Option<Vec<String>>> = std::sync::Mutex::new(None);

/// Says `line` on standard error, or keeps it for later while a live
/// view owns the screen.
fn notice(line: String) {
    let mut held = HELD.lock().unwrap_or_else(|e| e.into_inner());
    match held.as_mut() {
        Some(lines) => lines.push(line),
        None => {
            // a closed standard error is no reason to stop the work
            let _ = writeln!(std::io::stderr(), "{line}");
        }
    }
}

/// A warning: something was not as it should be, and what was done about
/// it. Said on standard error as `windowpane: warning: …`, with anything
/// the data put in it (file names, values) shown escaped.
pub fn warning(message: &str) {
    notice(format!("windowpane: warning: {}", printable_lines(message)));
}

/// A note on the work under way (`windowpane: …`), on standard error as
/// [`warning`] says it.
pub fn note(message: &str) {
    notice(format!("windowpane: {}", printable_lines(message)));
}

/// From now on warnings and notes are kept instead of said, until
/// [`release_notices`]: for a view that owns the terminal's screen.
pub fn hold_notices() {
    let mut held = HELD.lock().unwrap_or_else(|e| e.into_inner());
    held.get_or_insert_with(Vec::new);
}

/// Says the warnings and notes kept since [`hold_notices`], in order, and
/// says the next ones at once again.
pub fn release_notices() {
    let lines = HELD.lock().unwrap_or_else(|e| e.into_inner()).take();
    for line in lines.unwrap_or_default() {
        let _ = writeln!(std::io::stderr(), "{line}");
    }
}

#[cfg(test)]
mod notice_tests {
    use super::*;

    #[test]
    fn notices_held_for_a_view_are_kept_in_order_then_said() {
        hold_notices();
        warning("a \u{1b}[2J file");
        note("scanning");
        let held = HELD.lock().unwrap().clone().unwrap();
        assert_eq!(held, ["windowpane: warning: a \\u{1b}[2J file", "windowpane: scanning"]);
        release_notices();
        assert!(HELD.lock().unwrap().is_none());
    }
}
