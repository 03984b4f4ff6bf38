//! Validation of one input line: the event rules of the metrics contract.
//!
//! Almost every line of a real input has the canonical shape
//! `{"time": 1469501107, "action": "Open"}`. A small scanner recognises flat
//! JSON objects whose values are integers or plain strings and accepts them
//! without allocating; every other line goes through `serde_json`, which
//! decides whether it is an event and, if not, why.
//!
//! Integer times are epoch seconds, or milliseconds or microseconds with
//! [`TimeUnit`]; string times are RFC 3339 and the near forms Spark writes
//! and reads (see [`parse_time_string`]). Either way the time must fall in
//! the years 1 to 9999, and an action is at most [`MAX_ACTION_BYTES`] long.

use std::borrow::Cow;

use chrono::{Datelike, NaiveDate};
use serde_json::Value;

/// The earliest accepted event time: 0001-01-01T00:00:00Z.
pub const MIN_TIME: i64 = -62_135_596_800;
/// The latest accepted event time: 9999-12-31T23:59:59Z.
pub const MAX_TIME: i64 = 253_402_300_799;

/// The longest accepted action, in bytes of UTF-8: 1 KiB. Longer values are
/// rejected with this reason (an action is a name, not a payload; a huge one
/// would make every table, chart and state entry huge).
pub const MAX_ACTION_BYTES: usize = 1024;

/// What integer `time` values count: the unit of the epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum TimeUnit {
    /// Epoch seconds (the sample's form).
    #[default]
    S,
    /// Epoch milliseconds (Java's and JavaScript's `currentTimeMillis`).
    Ms,
    /// Epoch microseconds.
    Us,
}

impl TimeUnit {
    /// How many of this unit make a second.
    pub fn per_second(self) -> i64 {
        match self {
            TimeUnit::S => 1,
            TimeUnit::Ms => 1_000,
            TimeUnit::Us => 1_000_000,
        }
    }

    /// Its name for people ("epoch seconds").
    pub fn describe(self) -> &'static str {
        match self {
            TimeUnit::S => "epoch seconds",
            TimeUnit::Ms => "epoch milliseconds",
            TimeUnit::Us => "epoch microseconds",
        }
    }

    /// Its value for `--time-unit`.
    pub fn flag(self) -> &'static str {
        match self {
            TimeUnit::S => "s",
            TimeUnit::Ms => "ms",
            TimeUnit::Us => "us",
        }
    }
}

/// Where an event's two fields are in its JSON object: a key, or a dotted
/// path into nested objects (`payload.type`). The defaults are `time` and
/// `action`. Paths are made once per run and kept for its life, so that
/// the options that carry them stay plain values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fields {
    /// The time field's path.
    pub time: &'static [&'static str],
    /// The action field's path.
    pub action: &'static [&'static str],
}

impl Default for Fields {
    fn default() -> Self {
        Fields {
            time: &["time"],
            action: &["action"],
        }
    }
}

impl Fields {
    /// The path of a field named on the command line (`payload.type`), or
    /// why it is not one.
    pub fn path(name: &str) -> Result<&'static [&'static str], String> {
        if name.is_empty() || name.split('.').any(str::is_empty) {
            return Err(format!(
                "{name:?} is not a field name: give a key (ts) or a dotted path into nested objects (payload.type)"
            ));
        }
        let parts: Vec<&'static str> = name
            .split('.')
            .map(|p| &*Box::leak(p.to_string().into_boxed_str()))
            .collect();
        Ok(Box::leak(parts.into_boxed_slice()))
    }

    /// The time field as written on the command line.
    pub fn time_name(&self) -> String {
        self.time.join(".")
    }

    /// The action field as written on the command line.
    pub fn action_name(&self) -> String {
        self.action.join(".")
    }

    /// The fields as named on the command line, when not the defaults: what
    /// the summary and the page say the events were read from.
    pub fn named(&self) -> Option<crate::model::FieldNames> {
        (!self.is_default()).then(|| crate::model::FieldNames {
            time: self.time_name(),
            action: self.action_name(),
        })
    }

    /// True for `time` and `action`.
    pub fn is_default(&self) -> bool {
        *self == Fields::default()
    }

    /// The time key of a flat object, when the path is one key.
    fn time_key(&self) -> Option<&'static str> {
        match self.time {
            [key] => Some(key),
            _ => None,
        }
    }

    /// The action key of a flat object, when the path is one key.
    fn action_key(&self) -> Option<&'static str> {
        match self.action {
            [key] => Some(key),
            _ => None,
        }
    }
}

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

/// Classifies one line (without its trailing newline), integer times
/// being epoch seconds, the fields `time` and `action`.
pub fn parse(line: &[u8]) -> Line<'_> {
    parse_with(line, TimeUnit::S, Fields::default())
}

/// Classifies one line (without its trailing newline), integer times being
/// in `unit`, the event's fields where `fields` say.
pub fn parse_with(line: &[u8], unit: TimeUnit, fields: Fields) -> Line<'_> {
    let fast = if fields.is_default() {
        fast::canonical(line).or_else(|| fast::scan(line, "time", "action"))
    } else {
        fast::in_form(line, fields).or_else(|| {
            fields
                .time_key()
                .zip(fields.action_key())
                .and_then(|(t, a)| fast::scan(line, t, a))
        })
    }
    .or_else(|| fast::scan_paths(line, fields.time, fields.action));
    if let Some((time, action)) = fast {
        if action.len() > MAX_ACTION_BYTES {
            return Line::Rejected(action_too_long(&fields, action.len()));
        }
        return match check_integer(i128::from(time), unit).map_err(|r| named(r, &fields.time_name())) {
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
    slow(line, unit, fields)
}

fn action_too_long(fields: &Fields, len: usize) -> String {
    format!(
        "`{}` is {len} bytes long; the limit is {MAX_ACTION_BYTES} bytes (1 KiB)",
        fields.action_name()
    )
}

/// The value at `path` in an object, or why there is none (named by the
/// path up to where it ends).
fn lookup<'v>(map: &'v serde_json::Map<String, Value>, path: &[&str]) -> Result<&'v Value, String> {
    let mut value = map
        .get(path[0])
        .ok_or_else(|| format!("`{}` is missing", path.join(".")))?;
    for (i, key) in path.iter().enumerate().skip(1) {
        let Value::Object(inner) = value else {
            return Err(format!(
                "`{}` is missing (`{}` is {}, not an object)",
                path.join("."),
                path[..i].join("."),
                kind(value)
            ));
        };
        value = inner
            .get(*key)
            .ok_or_else(|| format!("`{}` is missing", path.join(".")))?;
    }
    Ok(value)
}

/// Epoch seconds of a time written as text (a CSV cell named `name`): an
/// integer in `unit`, a number with a fraction (cut down to the second),
/// or a timestamp string as JSON times take them; or why not.
pub fn time_of_text(text: &str, unit: TimeUnit, name: &str) -> Result<i64, String> {
    let t = text;
    if t.is_empty() {
        return Err(format!("`{name}` is empty"));
    }
    // numbers as JSON writes them (no `+60`, `007`, `.5`): an integer, or
    // one with a fraction or an exponent
    if is_json_number(t) {
        if let Ok(i) = t.parse::<i128>() {
            return check_integer(i, unit).map_err(|r| named(r, name));
        }
        if let Ok(f) = t.parse::<f64>() {
            return check_fraction(f, unit, name);
        }
    }
    match parse_time_string(t) {
        Some(seconds) => check_seconds(seconds, t).map_err(|r| named(r, name)),
        None => Err(format!(
            "`{name}` {} is not a timestamp (expected RFC 3339 like \"2016-07-26T02:45:07Z\", or {})",
            quote(&crate::text::abridge(t, 64)),
            unit.describe()
        )),
    }
}

/// True for a number as JSON writes it: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
fn is_json_number(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = usize::from(b.first() == Some(&b'-'));
    let digits = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - start
    };
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => {
            digits(&mut i);
        }
        _ => return false,
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// Epoch seconds of an integer time in `unit` (of the field `name`), or
/// why not.
pub fn time_of_integer(value: i64, unit: TimeUnit, name: &str) -> Result<i64, String> {
    check_integer(i128::from(value), unit).map_err(|r| named(r, name))
}

/// An action written as text (a CSV cell named `name`), or why it is not
/// one.
pub fn action_of_text<'a>(text: &'a str, name: &str) -> Result<&'a str, String> {
    if text.is_empty() {
        return Err(format!("`{name}` is empty"));
    }
    if text.len() > MAX_ACTION_BYTES {
        return Err(format!(
            "`{name}` is {} bytes long; the limit is {MAX_ACTION_BYTES} bytes (1 KiB)",
            text.len()
        ));
    }
    Ok(text)
}

/// Epoch seconds of a time with a fraction in `unit`, cut down to the
/// whole second (toward minus infinity), or why not.
fn check_fraction(value: f64, unit: TimeUnit, name: &str) -> Result<i64, String> {
    let seconds = (value / unit.per_second() as f64).floor();
    if seconds.is_finite() && (MIN_TIME as f64..=MAX_TIME as f64).contains(&seconds) {
        Ok(seconds as i64)
    } else {
        Err(format!(
            "`{name}` {value} is out of range for {} (years 1 to 9999)",
            unit.describe()
        ))
    }
}

/// A reason about `time` said of the field as it is named.
fn named(reason: String, name: &str) -> String {
    if name == "time" {
        reason
    } else {
        reason.replacen("`time`", &format!("`{name}`"), 1)
    }
}

/// Epoch seconds from an integer `time` in `unit`, or why not.
fn check_integer(value: i128, unit: TimeUnit) -> Result<i64, String> {
    // the common case in 64-bit arithmetic (128-bit division is slow)
    if let (Ok(v), TimeUnit::S) = (i64::try_from(value), unit) {
        if (MIN_TIME..=MAX_TIME).contains(&v) {
            return Ok(v);
        }
    }
    let seconds = value.div_euclid(i128::from(unit.per_second()));
    if (i128::from(MIN_TIME)..=i128::from(MAX_TIME)).contains(&seconds) {
        return Ok(seconds as i64);
    }
    let mut reason = format!(
        "`time` {value} is out of range for {} (years 1 to 9999)",
        unit.describe()
    );
    // a value too large for its unit that fits a finer one: say which
    for finer in [TimeUnit::Ms, TimeUnit::Us] {
        if finer.per_second() > unit.per_second() {
            let s = value.div_euclid(i128::from(finer.per_second()));
            if (i128::from(MIN_TIME)..=i128::from(MAX_TIME)).contains(&s) {
                reason.push_str(&format!(
                    "; it would be valid as {}: run with --time-unit {}",
                    finer.describe(),
                    finer.flag()
                ));
                break;
            }
        }
    }
    Err(reason)
}

fn check_seconds(seconds: i64, text: &str) -> Result<i64, String> {
    if (MIN_TIME..=MAX_TIME).contains(&seconds) {
        Ok(seconds)
    } else {
        Err(format!(
            "`time` {} is out of range (years 1 to 9999 in UTC)",
            quote(text)
        ))
    }
}

/// A string as JSON writes it, for messages: quotes, and escapes for
/// control characters.
fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| String::from("\"?\""))
}

/// Epoch seconds of a timestamp string, or `None` when it is not one of
/// the accepted forms:
///
/// * `2016-07-26T02:45:07Z`, RFC 3339: a `T` (or `t`, or a space) between
///   date and time, `Z` (or `z`) or an offset;
/// * offsets as `+02:00`, `+0200` or `+02` (Spark writes `+0000`);
/// * fractional seconds of any length (`.000`, `.123456`), cut to the second;
/// * no zone at all (`2016-07-26 02:45:07`, `2016-07-26T02:45`): UTC.
///
/// The year has four digits; whether the result falls in the years 1 to
/// 9999 is checked after the offset is applied.
pub fn parse_time_string(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let num = |range: std::ops::Range<usize>| -> Option<u32> {
        let digits = b.get(range)?;
        digits
            .iter()
            .all(u8::is_ascii_digit)
            .then(|| digits.iter().fold(0u32, |v, d| v * 10 + u32::from(d - b'0')))
    };
    if b.len() < 16 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') || b[13] != b':' {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)?;
    let (hour, minute) = (num(11..13)?, num(14..16)?);
    let mut i = 16;
    let mut second = 0;
    if b.get(i) == Some(&b':') {
        second = num(i + 1..i + 3)?;
        i += 3;
        if b.get(i) == Some(&b'.') {
            let digits = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
            if digits == 0 {
                return None;
            }
            i += 1 + digits;
        }
    }
    // 60 is a leap second: counted as the second before, as chrono does
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let offset: i64 = match &b[i..] {
        [] | [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), rest @ ..] => {
            let (h, m) = match rest {
                [_, _] => (num(i + 1..i + 3)?, 0),
                [_, _, b':', _, _] => (num(i + 1..i + 3)?, num(i + 4..i + 6)?),
                [_, _, _, _] => (num(i + 1..i + 3)?, num(i + 3..i + 5)?),
                _ => return None,
            };
            if h > 23 || m > 59 {
                return None;
            }
            let o = i64::from(h * 3600 + m * 60);
            if *sign == b'-' {
                -o
            } else {
                o
            }
        }
        _ => return None,
    };
    let days = i64::from(date.num_days_from_ce()) - 719_163;
    Some(days * 86_400 + i64::from(hour * 3600 + minute * 60 + second.min(59)) - offset)
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

/// serde_json's message without its " at line 1 column N" (a line is
/// parsed on its own, so its line is always 1): the column is the line's own.
fn json_error(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let message = match text.rfind(" at line ") {
        Some(at) => &text[..at],
        None => &text,
    };
    if e.column() > 0 {
        format!("not valid JSON: {message} at column {}", e.column())
    } else {
        format!("not valid JSON: {message}")
    }
}

fn slow(line: &[u8], unit: TimeUnit, fields: Fields) -> Line<'_> {
    let value: Value = match serde_json::from_slice(line) {
        Ok(v) => v,
        Err(e) => return Line::Rejected(json_error(&e)),
    };
    let Value::Object(map) = value else {
        return Line::Rejected(format!("expected a JSON object, found {}", kind(&value)));
    };
    let (time_name, action_name) = (fields.time_name(), fields.action_name());
    let time = match lookup(&map, fields.time) {
        Err(reason) => return Line::Rejected(reason),
        Ok(Value::Number(n)) => {
            let integer = n.as_i64().map(i128::from).or_else(|| n.as_u64().map(i128::from));
            match integer {
                Some(t) => match check_integer(t, unit).map_err(|r| named(r, &time_name)) {
                    Ok(t) => t,
                    Err(reason) => return Line::Rejected(reason),
                },
                None if n.as_f64().is_some_and(|f| f.fract() == 0.0 && f.abs() > 1e18) => {
                    return Line::Rejected(format!("`{time_name}` {n} is out of range for {}", unit.describe()))
                }
                // a fraction: cut down to the whole second
                None => match n.as_f64().map(|f| check_fraction(f, unit, &time_name)) {
                    Some(Ok(t)) => t,
                    Some(Err(reason)) => return Line::Rejected(reason),
                    None => {
                        return Line::Rejected(format!(
                            "`{time_name}` is {} ({n}); expected {}",
                            kind(&Value::Number(n.clone())),
                            unit.describe()
                        ))
                    }
                },
            }
        }
        Ok(Value::String(s)) => match parse_time_string(s) {
            Some(t) => match check_seconds(t, s).map_err(|r| named(r, &time_name)) {
                Ok(t) => t,
                Err(reason) => return Line::Rejected(reason),
            },
            None => {
                return Line::Rejected(format!(
                "`{time_name}` {} is not a timestamp (expected RFC 3339 like \"2016-07-26T02:45:07Z\", or integer {})",
                quote(&crate::text::abridge(s, 64)),
                unit.describe()
            ))
            }
        },
        Ok(other) => {
            return Line::Rejected(format!(
                "`{time_name}` is {}; expected integer {} or an RFC 3339 string",
                kind(other),
                unit.describe()
            ))
        }
    };
    // a number or a boolean is an action of its own, named by its JSON
    // text, as Spark's reader does
    let action = match lookup(&map, fields.action) {
        Err(reason) => return Line::Rejected(reason),
        Ok(Value::String(s)) if s.is_empty() => return Line::Rejected(format!("`{action_name}` is an empty string")),
        Ok(Value::String(s)) if s.len() > MAX_ACTION_BYTES => return Line::Rejected(action_too_long(&fields, s.len())),
        Ok(Value::String(s)) => s.clone(),
        Ok(Value::Number(n)) => n.to_string(),
        Ok(Value::Bool(b)) => b.to_string(),
        Ok(other) => {
            return Line::Rejected(format!(
                "`{action_name}` is {}; expected a non-empty string, a number or a boolean",
                kind(other)
            ))
        }
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
        in_shape(line, b"{\"time\":", b",\"action\":\"", b"\"}")
    }

    /// A byte an action or key may hold to be taken without a parser:
    /// printable ASCII, not a quote or a backslash.
    #[inline]
    fn plain(b: u8) -> bool {
        (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\'
    }

    /// The line as `head`, a plain integer time (up to 18 digits, no
    /// leading zero), `mid`, a non-empty [`plain`] action and `tail`, and
    /// nothing else (but a `\r` at the end). Always inlined: with the
    /// canonical form's constant parts it is as fast as a check written
    /// out for them (about 10% faster than a call on a year of lines).
    #[inline(always)]
    fn in_shape<'a>(line: &'a [u8], head: &[u8], mid: &[u8], tail: &[u8]) -> Option<(i64, &'a str)> {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let rest = line.strip_prefix(head)?;
        let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        if digits == 0 || digits > 18 || (digits > 1 && rest[0] == b'0') {
            return None;
        }
        let time = rest[..digits].iter().fold(0i64, |v, d| v * 10 + i64::from(d - b'0'));
        let action = rest[digits..].strip_prefix(mid)?.strip_suffix(tail)?;
        if action.is_empty() || !action.iter().all(|&b| plain(b)) {
            return None;
        }
        // printable ASCII is valid UTF-8
        Some((time, std::str::from_utf8(action).ok()?))
    }

    /// The exact compact form of an event with the fields `fields`, the
    /// time first: the bytes before the time, between the time and the
    /// action, and after the action (`{"ts":`, `,"payload":{"type":"`,
    /// `"}}` for `ts` and `payload.type`); none when a key needs escapes
    /// or the paths cannot both hold a value.
    pub struct Form {
        head: Vec<u8>,
        mid: Vec<u8>,
        tail: Vec<u8>,
    }

    impl Form {
        fn of(time: &[&str], action: &[&str]) -> Option<Form> {
            if !time.iter().chain(action).all(|k| k.bytes().all(plain)) {
                return None;
            }
            let shared = time.iter().zip(action).take_while(|(a, b)| a == b).count();
            let (prefix, t, a) = (&time[..shared], &time[shared..], &action[shared..]);
            if t.is_empty() || a.is_empty() {
                return None;
            }
            let keys = |out: &mut Vec<u8>, path: &[&str]| {
                for (i, key) in path.iter().enumerate() {
                    out.extend_from_slice(format!("\"{key}\":").as_bytes());
                    if i + 1 < path.len() {
                        out.push(b'{');
                    }
                }
            };
            let mut head = b"{".to_vec();
            for key in prefix {
                head.extend_from_slice(format!("\"{key}\":{{").as_bytes());
            }
            keys(&mut head, t);
            let mut mid = vec![b'}'; t.len() - 1];
            mid.push(b',');
            keys(&mut mid, a);
            mid.push(b'"');
            let mut tail = b"\"".to_vec();
            tail.extend(std::iter::repeat_n(b'}', a.len() - 1 + 1 + prefix.len()));
            Some(Form { head, mid, tail })
        }
    }

    /// The form of some fields, by their paths' addresses (the paths live
    /// for the whole run), when they have one.
    type Kept = Option<((usize, usize), Option<Form>)>;

    thread_local! {
        /// The form of the fields last asked for.
        static FORM: std::cell::RefCell<Kept> = const { std::cell::RefCell::new(None) };
    }

    /// [`canonical`] for named fields: the line in the exact compact form
    /// of [`Form`], with a plain integer time and a printable ASCII action
    /// without escapes, checked byte by byte.
    #[inline]
    pub fn in_form(line: &[u8], fields: super::Fields) -> Option<(i64, &str)> {
        let key = (fields.time.as_ptr() as usize, fields.action.as_ptr() as usize);
        FORM.with(|cell| {
            let mut kept = cell.borrow_mut();
            if kept.as_ref().is_none_or(|(k, _)| *k != key) {
                *kept = Some((key, Form::of(fields.time, fields.action)));
            }
            let form = kept.as_ref()?.1.as_ref()?;
            in_shape(line, &form.head, &form.mid, &form.tail)
        })
    }

    /// Returns `(time, action)` when the line is certainly a valid JSON
    /// object with an integer `time` and a non-empty plain string `action`;
    /// `None` means "ask the full parser".
    pub fn scan<'a>(line: &'a [u8], time_key: &str, action_key: &str) -> Option<(i64, &'a str)> {
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
                    if key == action_key {
                        action = Some(v);
                    } else if key == time_key {
                        // a string time is RFC 3339: the full parser handles it
                        return None;
                    }
                }
                b'-' | b'0'..=b'9' => {
                    let start = p.i;
                    let v = p.integer()?;
                    if key == time_key {
                        time = Some(v);
                    } else if key == action_key {
                        // an integer action is named by its JSON text (-0
                        // as the full parser names it)
                        let text = std::str::from_utf8(&p.s[start..p.i]).ok()?;
                        if text == "-0" {
                            return None;
                        }
                        action = Some(text);
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

    /// Returns `(time, action)` when the line is certainly a valid JSON
    /// object whose value at the path `time` is an integer and at the path
    /// `action` a non-empty plain string or an integer, whatever else it
    /// holds (nested objects, arrays, escapes); `None` means "ask the full
    /// parser", which also says why a line is not an event.
    pub fn scan_paths<'a>(line: &'a [u8], time: &[&str], action: &[&str]) -> Option<(i64, &'a str)> {
        let mut p = Cursor { s: line, i: 0 };
        let mut found = (None, None);
        p.ws();
        object(&mut p, Some(time), Some(action), &mut found, 0)?;
        p.ws();
        if p.i != line.len() {
            return None;
        }
        match found {
            (Some(t), Some(a)) if !a.is_empty() => Some((t, a)),
            _ => None,
        }
    }

    /// Deeper than this, the full parser decides (it has its own limit).
    const MAX_DEPTH: usize = 100;

    /// One object; `time` and `action` are what is left of each path when
    /// this object lies on it.
    fn object<'a>(
        p: &mut Cursor<'a>,
        time: Option<&[&str]>,
        action: Option<&[&str]>,
        found: &mut (Option<i64>, Option<&'a str>),
        depth: usize,
    ) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        p.expect(b'{')?;
        p.ws();
        if p.peek()? == b'}' {
            p.i += 1;
            return Some(());
        }
        let (mut seen_time, mut seen_action) = (false, false);
        loop {
            let key = p.string()?;
            p.ws();
            p.expect(b':')?;
            p.ws();
            let t = time.filter(|t| t[0] == key);
            let a = action.filter(|a| a[0] == key);
            // a key of a path twice: which one counts is the full parser's call
            if (t.is_some() && std::mem::replace(&mut seen_time, true))
                || (a.is_some() && std::mem::replace(&mut seen_action, true))
            {
                return None;
            }
            let (t_leaf, a_leaf) = (t.is_some_and(|t| t.len() == 1), a.is_some_and(|a| a.len() == 1));
            let on_path = t.is_some() || a.is_some();
            match p.peek()? {
                b'"' if a_leaf => found.1 = Some(p.string()?),
                b'-' | b'0'..=b'9' if t_leaf || a_leaf => {
                    let start = p.i;
                    let v = p.integer()?;
                    if t_leaf {
                        found.0 = Some(v);
                    } else {
                        let text = std::str::from_utf8(&p.s[start..p.i]).ok()?;
                        if text == "-0" {
                            return None;
                        }
                        found.1 = Some(text);
                    }
                }
                b'{' if !t_leaf && !a_leaf => object(p, t.map(|t| &t[1..]), a.map(|a| &a[1..]), found, depth + 1)?,
                // anything else on a path (a string time, a boolean action,
                // a value where an object should be) is the full parser's
                _ if on_path => return None,
                _ => p.skip_value(depth + 1)?,
            }
            p.ws();
            match p.next()? {
                b',' => p.ws(),
                b'}' => return Some(()),
                _ => return None,
            }
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
        /// Skips any JSON value that is certainly valid; `None` for one
        /// the full parser must judge (a lone surrogate escape, invalid
        /// UTF-8, too deep).
        fn skip_value(&mut self, depth: usize) -> Option<()> {
            if depth > MAX_DEPTH {
                return None;
            }
            match self.peek()? {
                b'"' => self.skip_string(),
                b'{' => {
                    let mut ignore = (None, None);
                    object(self, None, None, &mut ignore, depth)
                }
                b'[' => {
                    self.i += 1;
                    self.ws();
                    if self.peek()? == b']' {
                        self.i += 1;
                        return Some(());
                    }
                    loop {
                        self.skip_value(depth + 1)?;
                        self.ws();
                        match self.next()? {
                            b',' => self.ws(),
                            b']' => return Some(()),
                            _ => return None,
                        }
                    }
                }
                b't' => self.literal(b"true"),
                b'f' => self.literal(b"false"),
                b'n' => self.literal(b"null"),
                b'-' | b'0'..=b'9' => self.number(),
                _ => None,
            }
        }

        fn literal(&mut self, word: &[u8]) -> Option<()> {
            let end = self.i + word.len();
            (self.s.get(self.i..end)? == word).then(|| self.i = end)
        }

        /// A string with any escapes but those of a surrogate (whose
        /// pairing the full parser checks), valid UTF-8.
        fn skip_string(&mut self) -> Option<()> {
            self.expect(b'"')?;
            let start = self.i;
            loop {
                match *self.s.get(self.i)? {
                    b'"' => break,
                    b'\\' => match *self.s.get(self.i + 1)? {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => self.i += 2,
                        b'u' => {
                            let hex = self.s.get(self.i + 2..self.i + 6)?;
                            if !hex.iter().all(u8::is_ascii_hexdigit) {
                                return None;
                            }
                            let unit = u16::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?;
                            if (0xD800..=0xDFFF).contains(&unit) {
                                return None;
                            }
                            self.i += 6;
                        }
                        _ => return None,
                    },
                    b if b < 0x20 => return None,
                    _ => self.i += 1,
                }
            }
            std::str::from_utf8(&self.s[start..self.i]).ok()?;
            self.i += 1;
            Some(())
        }

        /// A JSON number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
        fn number(&mut self) -> Option<()> {
            let digits = |c: &mut Self| {
                let start = c.i;
                while matches!(c.peek(), Some(b'0'..=b'9')) {
                    c.i += 1;
                }
                c.i - start
            };
            if self.peek() == Some(b'-') {
                self.i += 1;
            }
            match self.peek()? {
                b'0' => self.i += 1,
                b'1'..=b'9' => {
                    digits(self);
                }
                _ => return None,
            }
            if self.peek() == Some(b'.') {
                self.i += 1;
                if digits(self) == 0 {
                    return None;
                }
            }
            if matches!(self.peek(), Some(b'e' | b'E')) {
                self.i += 1;
                if matches!(self.peek(), Some(b'+' | b'-')) {
                    self.i += 1;
                }
                if digits(self) == 0 {
                    return None;
                }
            }
            Some(())
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
    fn numbers_and_booleans_are_actions_named_by_their_json_text() {
        // the scanner and the full parser agree
        assert_eq!(parse(br#"{"time":60,"action":404}"#), event(60, "404"));
        assert_eq!(parse(br#"{"time":60, "action": 404, "x":"y"}"#), event(60, "404"));
        assert_eq!(parse(br#"{"time":60,"action":-7}"#), event(60, "-7"));
        assert_eq!(parse(br#"{"time":60,"action":true}"#), event(60, "true"));
        assert_eq!(parse(br#"{"time":60,"action":false}"#), event(60, "false"));
        assert_eq!(parse(br#"{"time":60,"action":2.5}"#), event(60, "2.5"));
        assert_eq!(
            parse(br#"{"action":404,"time":"1970-01-01T00:01:00Z"}"#),
            event(60, "404")
        );
    }

    #[test]
    fn text_times_take_json_numbers_only() {
        assert_eq!(time_of_text("60", TimeUnit::S, "t"), Ok(60));
        assert_eq!(time_of_text("60.9", TimeUnit::S, "t"), Ok(60));
        assert_eq!(time_of_text("6e1", TimeUnit::S, "t"), Ok(60));
        for bad in ["+60", "007", ".5", "5.", "-.5", "1e", "0x10", " 60"] {
            assert!(time_of_text(bad, TimeUnit::S, "t").is_err(), "{bad}");
        }
        // an escape that is not four hex digits is the full parser's call
        let line = br#"{"time":60,"action":"Open","note":"\u+041"}"#;
        assert_eq!(fast::scan_paths(line, &["time"], &["action"]), None);
        assert!(matches!(parse(line), Line::Rejected(_)));
    }

    #[test]
    fn times_with_a_fraction_are_cut_down_to_the_second() {
        assert_eq!(parse(br#"{"time":1469501107.75,"action":"a"}"#), event(1469501107, "a"));
        assert_eq!(parse(br#"{"time":1469501107.0,"action":"a"}"#), event(1469501107, "a"));
        assert_eq!(parse(br#"{"time":-0.5,"action":"a"}"#), event(-1, "a"));
        assert_eq!(
            parse_with(
                br#"{"time":1469501107750.5,"action":"a"}"#,
                TimeUnit::Ms,
                Fields::default()
            ),
            event(1469501107, "a")
        );
    }

    #[test]
    fn named_fields_and_dotted_paths_are_read_like_time_and_action() {
        let fields = Fields {
            time: Fields::path("ts").unwrap(),
            action: Fields::path("payload.type").unwrap(),
        };
        let p = |line: &str| -> Line<'static> {
            match parse_with(line.as_bytes(), TimeUnit::S, fields) {
                Line::Event { time, action } => event(time, &action),
                Line::Rejected(r) => Line::Rejected(r),
                Line::Blank => Line::Blank,
            }
        };
        assert_eq!(p(r#"{"ts":60,"payload":{"type":"Push","n":[1,2]}}"#), event(60, "Push"));
        assert_eq!(
            p(r#"{"payload":{"type":200},"ts":"1970-01-01T00:01:00Z"}"#),
            event(60, "200")
        );
        assert_eq!(
            p(r#"{"time":60,"action":"a"}"#),
            Line::Rejected("`ts` is missing".into())
        );
        assert_eq!(
            p(r#"{"ts":60,"payload":"x"}"#),
            Line::Rejected("`payload.type` is missing (`payload` is a string, not an object)".into())
        );
        assert_eq!(
            p(r#"{"ts":60,"payload":{}}"#),
            Line::Rejected("`payload.type` is missing".into())
        );
        // reasons name the field as it is named
        match p(r#"{"ts":99999999999999,"payload":{"type":"a"}}"#) {
            Line::Rejected(r) => assert!(r.starts_with("`ts` 99999999999999 is out of range"), "{r}"),
            other => panic!("{other:?}"),
        }
        // a flat renamed pair takes the scanner's path
        let flat = Fields {
            time: Fields::path("timestamp").unwrap(),
            action: Fields::path("event").unwrap(),
        };
        let line = br#"{"timestamp":1469501107,"event":"login","user":"u1"}"#;
        assert_eq!(fast::scan(line, "timestamp", "event"), Some((1469501107, "login")));
        assert_eq!(parse_with(line, TimeUnit::S, flat), event(1469501107, "login"));
        assert_eq!(
            parse_with(br#"{"timestamp":1}"#, TimeUnit::S, flat),
            Line::Rejected("`event` is missing".into())
        );
        assert!(Fields::path("a..b").is_err());
        assert!(Fields::path("").is_err());
    }

    /// Whatever the nested scanner accepts, the full parser accepts as the
    /// same event: pieces of nested JSON strung together at random.
    #[test]
    fn the_nested_scanner_agrees_with_the_full_parser() {
        use proptest::prelude::*;
        let piece = prop_oneof![
            Just("{".to_string()),
            Just("}".to_string()),
            Just("[".to_string()),
            Just("]".to_string()),
            Just(",".to_string()),
            Just(":".to_string()),
            Just(" ".to_string()),
            Just("\"ts\"".to_string()),
            Just("\"e\"".to_string()),
            Just("\"k\"".to_string()),
            Just("\"x\"".to_string()),
            Just("\"a\\u00e9\\n\"".to_string()),
            Just("\"\\ud83d\\ude00\"".to_string()),
            Just("\"\\ud800\"".to_string()),
            Just("\"\\u+041\"".to_string()),
            Just("60".to_string()),
            Just("-0".to_string()),
            Just("1.5e3".to_string()),
            Just("007".to_string()),
            Just("true".to_string()),
            Just("null".to_string()),
            Just("\"Open\"".to_string()),
            Just("{\"ts\":60,\"e\":{\"k\":\"Open\"}}".to_string()),
        ];
        let line = proptest::collection::vec(piece, 1..24).prop_map(|v| v.concat());
        let fields = Fields {
            time: &["ts"],
            action: &["e", "k"],
        };
        proptest!(ProptestConfig::with_cases(4000), |(l in line)| {
            if fast::scan_paths(l.as_bytes(), fields.time, fields.action).is_some()
                || fast::in_form(l.as_bytes(), fields).is_some()
            {
                prop_assert_eq!(parse_with(l.as_bytes(), TimeUnit::S, fields), slow(l.as_bytes(), TimeUnit::S, fields), "{}", l);
            }
        });
        // random JSON objects, written compactly: most that hold both paths
        // are taken by the scanner, and each as the full parser takes it
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            (-1e6f64..1e6).prop_map(Value::from),
            "[a-zé\"\\\\\n ]{0,6}".prop_map(Value::from),
            Just(Value::from("Open")),
            (0i64..4000).prop_map(Value::from),
        ];
        let value = leaf.prop_recursive(4, 32, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
                proptest::collection::btree_map(prop_oneof![Just("ts"), Just("e"), Just("k"), Just("x")], inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k.to_string(), v)).collect())),
            ]
        });
        let extras =
            || proptest::collection::btree_map(prop_oneof![Just("x"), Just("y"), Just("z")], value.clone(), 0..3);
        let time = prop_oneof![3 => (0i64..4_000_000_000).prop_map(Value::from), 1 => value.clone()];
        let kind =
            prop_oneof![2 => Just(Value::from("Open")), 1 => (-5i64..500).prop_map(Value::from), 1 => value.clone()];
        let event = (extras(), time, kind, extras()).prop_map(|(top, t, k, inner)| {
            let mut e: serde_json::Map<String, Value> = inner.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
            e.insert("k".into(), k);
            let mut o: serde_json::Map<String, Value> = top.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
            o.insert("ts".into(), t);
            o.insert("e".into(), Value::Object(e));
            Value::Object(o)
        });
        let taken = std::cell::Cell::new(0);
        proptest!(ProptestConfig::with_cases(4000), |(v in event)| {
            let l = v.to_string();
            if fast::scan_paths(l.as_bytes(), fields.time, fields.action).is_some() {
                taken.set(taken.get() + 1);
                prop_assert_eq!(parse_with(l.as_bytes(), TimeUnit::S, fields), slow(l.as_bytes(), TimeUnit::S, fields), "{}", l);
            }
        });
        assert!(taken.get() > 1000, "the scanner took {} random events", taken.get());
        // the exact compact form, time first, is taken byte by byte; any
        // other order or spacing is left to the scanner
        fn form(t: &'static [&'static str], a: &'static [&'static str], l: &str) -> Option<(i64, String)> {
            fast::in_form(l.as_bytes(), Fields { time: t, action: a }).map(|(t, a)| (t, a.to_string()))
        }
        assert_eq!(
            form(&["ts"], &["e", "k"], r#"{"ts":60,"e":{"k":"Open"}}"#),
            Some((60, "Open".into()))
        );
        assert_eq!(
            form(&["m", "ts"], &["m", "k"], r#"{"m":{"ts":60,"k":"Open"}}"#),
            Some((60, "Open".into()))
        );
        assert_eq!(
            form(&["a", "b", "ts"], &["k"], r#"{"a":{"b":{"ts":7}},"k":"x"}"#),
            Some((7, "x".into()))
        );
        assert_eq!(form(&["ts"], &["e", "k"], r#"{"ts": 60,"e":{"k":"Open"}}"#), None);
        assert_eq!(form(&["ts"], &["e", "k"], r#"{"e":{"k":"Open"},"ts":60}"#), None);
        assert_eq!(form(&["ts"], &["e", "k"], r#"{"ts":60,"e":{"k":"a"b"}}"#), None);
        assert_eq!(form(&["ts"], &["e", "k"], r#"{"ts":060,"e":{"k":"Open"}}"#), None);
        assert_eq!(form(&["ts"], &["ts", "k"], r#"{"ts":{"k":"x"}}"#), None);
        for l in [r#"{"m":{"ts":60,"k":"Open"}}"#, r#"{"a":{"b":{"ts":7}},"k":"x"}"#] {
            let (t, a): (&'static [&'static str], &'static [&'static str]) = if l.starts_with(r#"{"m""#) {
                (&["m", "ts"], &["m", "k"])
            } else {
                (&["a", "b", "ts"], &["k"])
            };
            let f = Fields { time: t, action: a };
            assert_eq!(
                parse_with(l.as_bytes(), TimeUnit::S, f),
                slow(l.as_bytes(), TimeUnit::S, f),
                "{l}"
            );
        }
        // nested values elsewhere, escapes and exponents are skipped, not refused
        let line = br#"{"x":[1,{"y":"a\"b"},-2.5e-3,true,null],"ts":60,"e":{"n":"\u00e9","k":"Open"}}"#;
        assert_eq!(fast::scan_paths(line, fields.time, fields.action), Some((60, "Open")));
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
        assert!(reason(r#"{"time":"not-a-time","action":"Open"}"#).contains("is not a timestamp"));
        assert!(reason(r#"{"time":true,"action":"Open"}"#).contains("boolean"));
        assert!(reason(r#"{"time":1,"action":""}"#).contains("empty"));
        assert!(reason(r#"{"time":1,"action":null}"#).contains("null"));
        assert!(reason(r#"{"time":1,"action":{"a":1}}"#).contains("an object"));
        assert!(reason(r#"{"time":1,"action":[1]}"#).contains("an array"));
        assert!(reason(r#"{"time":1e300,"action":"a"}"#).contains("out of range"));
        assert!(reason(r#"{"time":99999999999999,"action":"a"}"#).contains("out of range"));
        assert!(reason(r#"{"time":99999999999999999999,"action":"a"}"#).contains("out of range"));
        assert!(reason(r#"{"time":01,"action":"a"}"#).starts_with("not valid JSON"));
        assert!(reason(r#"{"time":1,"action":"a"} x"#).starts_with("not valid JSON"));
        assert!(reason(r#"{"time":1,"action":"a",}"#).starts_with("not valid JSON"));
    }

    #[test]
    fn an_action_longer_than_the_limit_is_rejected_with_the_limit() {
        let ok = "a".repeat(MAX_ACTION_BYTES);
        assert_eq!(
            parse(format!(r#"{{"time":1,"action":"{ok}"}}"#).as_bytes()),
            event(1, &ok)
        );
        let long = "a".repeat(MAX_ACTION_BYTES + 1);
        for line in [
            format!(r#"{{"time":1,"action":"{long}"}}"#),
            format!(r#"{{"action":"{long}","time":1, "x":1}}"#),
            format!(r#"{{"time":1,"action":"\u0041{long}"}}"#),
        ] {
            let r = reason(&line);
            assert!(r.contains("the limit is 1024 bytes"), "{r}");
        }
    }

    #[test]
    fn rfc3339_strings_outside_years_1_to_9999_are_rejected() {
        for bad in [
            "9999-12-31T23:59:59-01:00",
            "0000-12-31T23:59:59Z",
            "0001-01-01T00:00:00+00:01",
        ] {
            let r = reason(&format!(r#"{{"time":"{bad}","action":"a"}}"#));
            assert!(r.contains("out of range"), "{bad}: {r}");
        }
        assert_eq!(
            parse(br#"{"time":"9999-12-31T23:59:59Z","action":"a"}"#),
            event(MAX_TIME, "a")
        );
        assert_eq!(
            parse(br#"{"time":"0001-01-01T00:00:00Z","action":"a"}"#),
            event(MIN_TIME, "a")
        );
    }

    #[test]
    fn the_time_forms_spark_writes_and_reads_are_accepted() {
        // 2016-07-28T04:19:28Z is 1469679568
        for form in [
            "2016-07-28T04:19:28Z",
            "2016-07-28T04:19:28.000+0000",
            "2016-07-28T04:19:28+0000",
            "2016-07-28T04:19:28+00:00",
            "2016-07-28T06:19:28+02:00",
            "2016-07-28T06:19:28+0200",
            "2016-07-28T06:19:28+02",
            "2016-07-28T00:19:28-04:00",
            "2016-07-28 04:19:28",
            "2016-07-28T04:19:28",
            "2016-07-28t04:19:28z",
            "2016-07-28T04:19:28.999999Z",
            "2016-07-28 04:19:28.5",
        ] {
            assert_eq!(parse_time_string(form), Some(1_469_679_568), "{form}");
            assert_eq!(
                parse(format!(r#"{{"time":"{form}","action":"a"}}"#).as_bytes()),
                event(1_469_679_568, "a"),
                "{form}"
            );
        }
        assert_eq!(parse_time_string("2016-07-28T04:19Z"), Some(1_469_679_540));
        for bad in [
            "2016-07-28",
            "2016-13-28T04:19:28Z",
            "2016-02-30T04:19:28Z",
            "2016-07-28T24:00:00Z",
            "2016-07-28T04:19:28.Z",
            "2016-07-28T04:19:28+2",
            "2016-07-28T04:19:28 UTC",
            "16-07-28T04:19:28Z",
            "2016-07-28T04:19:28Zx",
        ] {
            assert_eq!(parse_time_string(bad), None, "{bad}");
        }
    }

    #[test]
    fn integer_times_follow_the_time_unit() {
        let line = br#"{"time":1469501107999,"action":"a"}"#;
        assert_eq!(
            parse_with(line, TimeUnit::Ms, Fields::default()),
            event(1469501107, "a")
        );
        let r = reason(std::str::from_utf8(line).unwrap());
        assert!(r.contains("out of range for epoch seconds"), "{r}");
        assert!(r.contains("run with --time-unit ms"), "{r}");
        let micros = r#"{"time":1469501107999999,"action":"a"}"#;
        assert_eq!(
            parse_with(micros.as_bytes(), TimeUnit::Us, Fields::default()),
            event(1469501107, "a")
        );
        assert!(reason(micros).contains("--time-unit us"));
        // before 1970, milliseconds round down to the earlier second
        assert_eq!(
            parse_with(br#"{"time":-1,"action":"a"}"#, TimeUnit::Ms, Fields::default()),
            event(-1, "a")
        );
        assert_eq!(
            parse_with(br#"{"time": -1000, "action":"a"}"#, TimeUnit::Ms, Fields::default()),
            event(-1, "a")
        );
        // a value out of range in every unit has no hint
        let r = reason(r#"{"time":99999999999999999999,"action":"a"}"#);
        assert!(r.contains("out of range") && !r.contains("--time-unit"), "{r}");
    }

    #[test]
    fn json_errors_name_the_lines_own_column_and_no_debug_dump() {
        let r = reason(r#"{"time":1,"action":"a",}"#);
        assert!(r.contains("at column 24"), "{r}");
        assert!(!r.contains("line 1"), "{r}");
        let r = reason(r#"{"time":"\u001b]0;x","action":"a"}"#);
        assert!(r.contains("\\u001b"), "{r}");
        assert!(!r.contains("\\u{1b}"), "{r}");
    }

    #[test]
    fn invalid_utf8_is_rejected_not_mangled() {
        let line = b"{\"time\":1,\"action\":\"\xff\"}";
        assert!(matches!(parse(line), Line::Rejected(r) if r.starts_with("not valid JSON")));
    }
}
