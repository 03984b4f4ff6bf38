//! Validation of one input line: the event rules of the metrics contract.
//!
//! Almost every line of a real input has the canonical shape
//! `{"time": 1469501107, "action": "Open"}`. A small scanner recognises flat
//! JSON objects whose values are integers or plain strings and accepts them
//! without allocating; every other line goes through `serde_json`, which
//! decides whether it is an event and, if not, why.

use std::borrow::Cow;

use chrono::DateTime;
use serde_json::Value;

/// The earliest accepted event time: 0001-01-01T00:00:00Z.
pub const MIN_TIME: i64 = -62_135_596_800;
/// The latest accepted event time: 9999-12-31T23:59:59Z.
pub const MAX_TIME: i64 = 253_402_300_799;

/// What one line of input turned out to be.
#[derive(Debug, PartialEq, Eq)]
pub enum Line<'a> {
    /// Only white space: skipped and not counted.
    Blank,
    /// A valid event: epoch seconds (UTC) and its action.
    Event {
        /// Event time, epoch seconds.
        time: i64,
        /// The action, never empty.
        action: Cow<'a, str>,
    },
    /// Not an event; the reason says why, for a person.
    Rejected(String),
}

/// Classifies one line (without its trailing newline).
pub fn parse(line: &[u8]) -> Line<'_> {
    if let Some((time, action)) = fast::canonical(line).or_else(|| fast::scan(line)) {
        return match check_time(time) {
            Ok(time) => Line::Event {
                time,
                action: Cow::Borrowed(action),
            },
            Err(reason) => Line::Rejected(reason),
        };
    }
    if line.iter().all(|b| b.is_ascii_whitespace()) {
        return Line::Blank;
    }
    slow(line)
}

fn check_time(time: i64) -> Result<i64, String> {
    if (MIN_TIME..=MAX_TIME).contains(&time) {
        Ok(time)
    } else {
        Err(format!(
            "`time` {time} is out of range (expected epoch seconds between years 1 and 9999)"
        ))
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "an integer",
        Value::Number(_) => "a number with a fraction or exponent",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn slow(line: &[u8]) -> Line<'_> {
    let value: Value = match serde_json::from_slice(line) {
        Ok(v) => v,
        Err(e) => return Line::Rejected(format!("not valid JSON ({e})")),
    };
    let Value::Object(map) = value else {
        return Line::Rejected(format!("expected a JSON object, found {}", kind(&value)));
    };
    let time = match map.get("time") {
        None => return Line::Rejected("`time` is missing".into()),
        Some(Value::Number(n)) => match n.as_i64() {
            Some(t) => match check_time(t) {
                Ok(t) => t,
                Err(reason) => return Line::Rejected(reason),
            },
            None if n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0 && f.abs() > 1e18) => {
                return Line::Rejected(format!("`time` {n} is out of range"))
            }
            None => {
                return Line::Rejected(format!(
                    "`time` is {} ({n}); expected integer epoch seconds",
                    kind(&Value::Number(n.clone()))
                ))
            }
        },
        Some(Value::String(s)) => match DateTime::parse_from_rfc3339(s) {
            Ok(t) => t.timestamp(),
            Err(_) => {
                return Line::Rejected(format!(
                "`time` {s:?} is not an RFC 3339 timestamp (expected e.g. \"2016-07-26T02:45:07Z\" or epoch seconds)"
            ))
            }
        },
        Some(other) => {
            return Line::Rejected(format!(
                "`time` is {}; expected integer epoch seconds or an RFC 3339 string",
                kind(other)
            ))
        }
    };
    let action = match map.get("action") {
        None => return Line::Rejected("`action` is missing".into()),
        Some(Value::String(s)) if s.is_empty() => return Line::Rejected("`action` is an empty string".into()),
        Some(Value::String(s)) => s.clone(),
        Some(other) => return Line::Rejected(format!("`action` is {}; expected a non-empty string", kind(other))),
    };
    Line::Event {
        time,
        action: Cow::Owned(action),
    }
}

/// The allocation-free path for flat objects of integers and plain strings.
mod fast {
    /// The exact form writers of this data use, `{"time":N,"action":"A"}`
    /// with no spaces and a printable ASCII action without escapes: checked
    /// byte by byte, with no other work.
    #[inline]
    pub fn canonical(line: &[u8]) -> Option<(i64, &str)> {
        const HEAD: &[u8] = b"{\"time\":";
        const MID: &[u8] = b",\"action\":\"";
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let rest = line.strip_prefix(HEAD)?;
        let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        if digits == 0 || digits > 18 || (digits > 1 && rest[0] == b'0') {
            return None;
        }
        let time = rest[..digits].iter().fold(0i64, |v, d| v * 10 + i64::from(d - b'0'));
        let action = rest[digits..].strip_prefix(MID)?.strip_suffix(b"\"}")?;
        if action.is_empty()
            || !action
                .iter()
                .all(|&b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\')
        {
            return None;
        }
        // printable ASCII is valid UTF-8
        Some((time, std::str::from_utf8(action).ok()?))
    }

    /// Returns `(time, action)` when the line is certainly a valid JSON
    /// object with an integer `time` and a non-empty plain string `action`;
    /// `None` means "ask the full parser".
    pub fn scan(line: &[u8]) -> Option<(i64, &str)> {
        let mut p = Cursor { s: line, i: 0 };
        p.ws();
        p.expect(b'{')?;
        p.ws();
        let mut time = None;
        let mut action = None;
        if p.peek() == Some(b'}') {
            return None;
        }
        loop {
            let key = p.string()?;
            p.ws();
            p.expect(b':')?;
            p.ws();
            match p.peek()? {
                b'"' => {
                    let v = p.string()?;
                    match key {
                        "action" => action = Some(v),
                        // a string time is RFC 3339: the full parser handles it
                        "time" => return None,
                        _ => {}
                    }
                }
                b'-' | b'0'..=b'9' => {
                    let v = p.integer()?;
                    match key {
                        "time" => time = Some(v),
                        "action" => return None,
                        _ => {}
                    }
                }
                _ => return None,
            }
            p.ws();
            match p.next()? {
                b',' => p.ws(),
                b'}' => break,
                _ => return None,
            }
        }
        p.ws();
        if p.i != line.len() {
            return None;
        }
        match (time, action) {
            (Some(t), Some(a)) if !a.is_empty() => Some((t, a)),
            _ => None,
        }
    }

    struct Cursor<'a> {
        s: &'a [u8],
        i: usize,
    }

    impl<'a> Cursor<'a> {
        fn peek(&self) -> Option<u8> {
            self.s.get(self.i).copied()
        }
        fn next(&mut self) -> Option<u8> {
            let b = self.peek()?;
            self.i += 1;
            Some(b)
        }
        fn expect(&mut self, b: u8) -> Option<()> {
            (self.next()? == b).then_some(())
        }
        fn ws(&mut self) {
            while matches!(self.peek(), Some(b' ' | b'\t' | b'\r' | b'\n')) {
                self.i += 1;
            }
        }
        /// A string without escapes or control characters, valid UTF-8.
        fn string(&mut self) -> Option<&'a str> {
            self.expect(b'"')?;
            let start = self.i;
            let len = memchr::memchr(b'"', &self.s[start..])?;
            let body = &self.s[start..start + len];
            if body.iter().any(|&b| b == b'\\' || b < 0x20) {
                return None;
            }
            self.i = start + len + 1;
            std::str::from_utf8(body).ok()
        }
        /// A JSON integer (no fraction, no exponent) that fits in i64.
        fn integer(&mut self) -> Option<i64> {
            let neg = self.peek() == Some(b'-');
            if neg {
                self.i += 1;
            }
            let start = self.i;
            while matches!(self.peek(), Some(b'0'..=b'9')) {
                self.i += 1;
            }
            let digits = &self.s[start..self.i];
            if digits.is_empty() || (digits.len() > 1 && digits[0] == b'0') || digits.len() > 18 {
                return None;
            }
            if matches!(self.peek(), Some(b'.' | b'e' | b'E')) {
                return None;
            }
            let mut v: i64 = 0;
            for &d in digits {
                v = v * 10 + i64::from(d - b'0');
            }
            Some(if neg { -v } else { v })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(time: i64, action: &str) -> Line<'static> {
        Line::Event {
            time,
            action: Cow::Owned(action.to_string()),
        }
    }

    fn reason(line: &str) -> String {
        match parse(line.as_bytes()) {
            Line::Rejected(r) => r,
            other => panic!("{line:?} was accepted as {other:?}"),
        }
    }

    #[test]
    fn canonical_and_spaced_lines_are_events() {
        assert_eq!(
            parse(br#"{"time":1469501107,"action":"Open"}"#),
            event(1469501107, "Open")
        );
        assert_eq!(
            parse(b" { \"action\" : \"Close\" , \"time\" : 5 , \"x\": \"y\" }\r"),
            event(5, "Close")
        );
        // negative times are before 1970, still valid
        assert_eq!(parse(br#"{"time":-61,"action":"a"}"#), event(-61, "a"));
    }

    #[test]
    fn lines_the_scanner_passes_on_are_still_events() {
        // escapes, nested values, booleans: the full parser decides
        assert_eq!(parse(br#"{"time":1,"action":"Op\u0065n"}"#), event(1, "Open"));
        assert_eq!(
            parse(br#"{"time":1,"action":"Open","meta":{"a":[1,true]}}"#),
            event(1, "Open")
        );
        assert_eq!(
            parse(br#"{"time":"2016-07-26T02:45:07Z","action":"Open"}"#),
            event(1469501107, "Open")
        );
        assert_eq!(
            parse(br#"{"time":"2016-07-26T04:45:07+02:00","action":"Open"}"#),
            event(1469501107, "Open")
        );
        // duplicate keys: the last one wins on both paths
        assert_eq!(parse(br#"{"time":1,"time":2,"action":"A"}"#), event(2, "A"));
        assert_eq!(parse(br#"{"time":1,"time":2,"action":"A","n":1.5}"#), event(2, "A"));
    }

    #[test]
    fn the_canonical_path_accepts_only_what_the_full_parser_accepts() {
        assert_eq!(
            fast::canonical(br#"{"time":1469501107,"action":"Open"}"#),
            Some((1469501107, "Open"))
        );
        assert_eq!(fast::canonical(b"{\"time\":0,\"action\":\"a b\"}\r"), Some((0, "a b")));
        for other in [
            r#"{"time":01,"action":"Open"}"#,
            r#"{"time":-5,"action":"Open"}"#,
            r#"{"time":1,"action":""}"#,
            r#"{"time":1,"action":"a\"b"}"#,
            r#"{"time":1,"action":"a"}x"#,
            r#"{"time":1,"action":"Öl"}"#,
            r#"{"time":1.5,"action":"a"}"#,
            r#"{"time":1,"action":"a","x":1}"#,
        ] {
            assert_eq!(fast::canonical(other.as_bytes()), None, "{other}");
        }
        // what it leaves is still parsed right by the other paths
        assert_eq!(parse(br#"{"time":-5,"action":"Open"}"#), event(-5, "Open"));
        assert_eq!(parse(r#"{"time":1,"action":"Öl"}"#.as_bytes()), event(1, "Öl"));
    }

    #[test]
    fn blank_lines_are_blank() {
        assert_eq!(parse(b""), Line::Blank);
        assert_eq!(parse(b"  \t\r"), Line::Blank);
    }

    #[test]
    fn every_kind_of_bad_line_is_rejected_with_its_reason() {
        assert!(reason("garbage line").starts_with("not valid JSON"));
        assert!(reason(r#"{"time":"#).starts_with("not valid JSON"));
        assert_eq!(reason("[1,2,3]"), "expected a JSON object, found an array");
        assert_eq!(reason(r#"{"action":"Close"}"#), "`time` is missing");
        assert_eq!(reason(r#"{"time":1469501107}"#), "`action` is missing");
        assert!(reason(r#"{"time":null,"action":"Open"}"#).starts_with("`time` is null"));
        assert!(reason(r#"{"time":"not-a-time","action":"Open"}"#).contains("not an RFC 3339"));
        assert!(reason(r#"{"time":1.5,"action":"Open"}"#).contains("fraction"));
        assert!(reason(r#"{"time":true,"action":"Open"}"#).contains("boolean"));
        assert!(reason(r#"{"time":1,"action":""}"#).contains("empty"));
        assert!(reason(r#"{"time":1,"action":7}"#).contains("an integer"));
        assert!(reason(r#"{"time":1,"action":null}"#).contains("null"));
        assert!(reason(r#"{"time":99999999999999,"action":"a"}"#).contains("out of range"));
        assert!(reason(r#"{"time":99999999999999999999,"action":"a"}"#).contains("out of range"));
        assert!(reason(r#"{"time":01,"action":"a"}"#).starts_with("not valid JSON"));
        assert!(reason(r#"{"time":1,"action":"a"} x"#).starts_with("not valid JSON"));
        assert!(reason(r#"{"time":1,"action":"a",}"#).starts_with("not valid JSON"));
    }

    #[test]
    fn invalid_utf8_is_rejected_not_mangled() {
        let line = b"{\"time\":1,\"action\":\"\xff\"}";
        assert!(matches!(parse(line), Line::Rejected(r) if r.starts_with("not valid JSON")));
    }
}
