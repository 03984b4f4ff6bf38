//! Delimited files: CSV (`*.csv`) and TSV (`*.tsv`), plain or `.gz`. A
//! header row names the columns; quoting is RFC 4180's; each data row is a
//! line of the input (the header is not counted). The time and action
//! columns are named by `--time-field` and `--action-field` (a column name,
//! dots included), and their cells take the forms of JSON times and
//! actions: a row whose time is missing, empty or not a time, or whose
//! action is empty, is rejected with its file, row number, reason and text,
//! as a bad JSON line is.

use anyhow::{bail, Result};

use super::line::{self, TimeUnit};
use super::{open, InputFile, ReadOptions};

/// The delimiter of a delimited file's name (`,` for `.csv`, a tab for
/// `.tsv`, either optionally `.gz`), or `None` for another kind of input.
pub fn delimiter_of(name: &str) -> Option<u8> {
    let base = name.strip_suffix(".gz").unwrap_or(name);
    if base.ends_with(".csv") {
        Some(b',')
    } else if base.ends_with(".tsv") {
        Some(b'\t')
    } else {
        None
    }
}

/// Calls `visit` with each data row's line in the file (the header is line
/// 1), its event or why it is not one, and a way to get its text (the
/// cells joined by the delimiter), until it returns false. Rows of white
/// space only are skipped, as blank lines are.
pub fn for_each_row(
    file: &InputFile,
    opts: &ReadOptions,
    delimiter: u8,
    mut visit: impl FnMut(u64, Result<(i64, &str), String>, &dyn Fn() -> String) -> bool,
) -> Result<()> {
    let shown = || super::shown(file);
    let reader = open(file).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", shown()))?;
    let mut rows = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(true)
        .flexible(true)
        .from_reader(reader);
    let (time_name, action_name) = (opts.fields.time_name(), opts.fields.action_name());
    let header = rows
        .byte_headers()
        .map_err(|e| anyhow::anyhow!("{} cannot be read as CSV: {e}", shown()))?
        .clone();
    if header.is_empty() {
        // an empty file: no header, no rows
        return Ok(());
    }
    let column = |name: &str| header.iter().position(|h| trim_bom(h) == name.as_bytes());
    let (Some(t), Some(a)) = (column(&time_name), column(&action_name)) else {
        let names: Vec<String> = header
            .iter()
            .map(|h| format!("{:?}", String::from_utf8_lossy(trim_bom(h))))
            .collect();
        let missing = if column(&time_name).is_none() {
            &time_name
        } else {
            &action_name
        };
        bail!(
            "{} has no column {missing:?}: its header names {}; give the columns with --time-field and --action-field",
            shown(),
            names.join(", ")
        );
    };
    let mut record = csv::ByteRecord::new();
    let mut row = 0u64;
    loop {
        match rows.read_byte_record(&mut record) {
            Ok(false) => return Ok(()),
            Ok(true) => {}
            Err(e) => bail!("{} cannot be read as CSV after row {row}: {e}", shown()),
        }
        row += 1;
        // a row of white space only is blank, as a blank JSON line is
        if record.iter().all(|cell| cell.iter().all(u8::is_ascii_whitespace)) {
            continue;
        }
        // named by its line in the file (the header is line 1), where an
        // editor finds it
        let line = record.position().map_or(row + 1, |p| p.line());
        let judged = judge(&record, t, a, header.len(), opts.unit, (&time_name, &action_name));
        let text = || {
            let cells: Vec<String> = record.iter().map(|f| String::from_utf8_lossy(f).into_owned()).collect();
            crate::text::abridge(&cells.join(&(delimiter as char).to_string()), 1024)
        };
        if !visit(line, judged, &text) {
            return Ok(());
        }
    }
}

/// The event of one row, or why it is not one.
fn judge<'r>(
    record: &'r csv::ByteRecord,
    t: usize,
    a: usize,
    columns: usize,
    unit: TimeUnit,
    (time_name, action_name): (&str, &str),
) -> Result<(i64, &'r str), String> {
    let cell = |i: usize, name: &str| -> Result<&'r str, String> {
        let bytes = record.get(i).ok_or_else(|| {
            format!(
                "the row has {} fields, the header {columns}: `{name}` is missing",
                record.len()
            )
        })?;
        std::str::from_utf8(bytes).map_err(|_| format!("`{name}` is not valid UTF-8"))
    };
    // the common case, an integer time, without a UTF-8 check or a parser
    let raw = record.get(t).unwrap_or_default();
    let digits = raw.strip_prefix(b"-").unwrap_or(raw);
    let time = if !digits.is_empty()
        && digits.len() <= 18
        && digits.iter().all(u8::is_ascii_digit)
        && (digits.len() == 1 || digits[0] != b'0')
    {
        let v = digits.iter().fold(0i64, |v, d| v * 10 + i64::from(d - b'0'));
        line::time_of_integer(if raw[0] == b'-' { -v } else { v }, unit, time_name)?
    } else {
        line::time_of_text(cell(t, time_name)?, unit, time_name)?
    };
    let action = line::action_of_text(cell(a, action_name)?, action_name)?;
    Ok((time, action))
}

/// A header cell without a UTF-8 byte order mark before it.
fn trim_bom(cell: &[u8]) -> &[u8] {
    cell.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(cell)
}
