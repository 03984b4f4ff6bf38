//! Parquet input (`*.parquet`, as Spark, Kafka Connect or Polars write
//! it): each row is a line of the input. Only the two named columns are
//! read. The time column may be a timestamp of any unit (with a time zone
//! or without: taken as UTC), an integer in the `--time-unit`, or a string
//! in the forms of a JSON time; the action column a string, a categorical,
//! an integer or a boolean (named by its text). A row whose time or action
//! is null or not valid is rejected with its file, row number (from 1),
//! reason and values, as a bad JSON line is.
//!
//! The file is read with Polars' Parquet reader, the two columns only; the
//! rows are then folded as JSON lines are, so that every figure comes from
//! the same state.

use std::fs::File;

use anyhow::{bail, Result};
use polars::prelude::{AnyValue, Column, DataType, ParquetReader, SerReader, TimeUnit as PolarsUnit};

use super::line::{self, TimeUnit};
use super::{InputFile, ReadOptions};

/// True for a Parquet file's name.
pub fn is_parquet_name(name: &str) -> bool {
    name.ends_with(".parquet")
}

/// Calls `visit` with each row's number (from 1), its event or why it is
/// not one, and a way to get its values as a JSON object, until it returns
/// false.
pub fn for_each_row(
    file: &InputFile,
    opts: &ReadOptions,
    mut visit: impl FnMut(u64, Result<(i64, &str), String>, &dyn Fn() -> String) -> bool,
) -> Result<()> {
    let shown = super::shown(file);
    let (time_name, action_name) = (opts.fields.time_name(), opts.fields.action_name());
    let open = || File::open(&file.path).map_err(|e| anyhow::anyhow!("cannot read {shown}: {e}"));
    let schema = ParquetReader::new(open()?)
        .schema()
        .map_err(|e| anyhow::anyhow!("{shown} cannot be read as Parquet: {}", first_line(&e.to_string())))?;
    for name in [&time_name, &action_name] {
        if schema.get(name.as_str()).is_none() {
            let columns: Vec<String> = schema.iter_names().map(|n| format!("{:?}", n.as_str())).collect();
            bail!(
                "{shown} has no column {name:?}: its columns are {}; give the columns with --time-field and --action-field",
                columns.join(", ")
            );
        }
    }
    let df = ParquetReader::new(open()?)
        .with_columns(Some(vec![time_name.clone(), action_name.clone()]))
        .finish()
        .map_err(|e| anyhow::anyhow!("{shown} cannot be read as Parquet: {}", first_line(&e.to_string())))?;
    let times = df.column(&time_name)?;
    let actions = df.column(&action_name)?;
    let actions_text = match actions.dtype() {
        DataType::String => actions.clone(),
        DataType::Boolean
        | DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::UInt64 => actions.cast(&DataType::String)?,
        dt if dt.is_categorical() || dt.is_enum() => actions.cast(&DataType::String)?,
        other => bail!(
            "{shown}: the column {action_name:?} is of type {other}; expected a string, a categorical, an integer or a boolean"
        ),
    };
    let actions_text = actions_text.str()?;
    for i in 0..df.height() {
        let time_value = times.get(i)?;
        let judged = time_of(&time_value, times.dtype(), opts.unit, &time_name).and_then(|t| {
            let action = actions_text
                .get(i)
                .ok_or_else(|| format!("`{action_name}` is null"))
                .and_then(|a| line::action_of_text(a, &action_name))?;
            Ok((t, action))
        });
        let text = || {
            let value = |c: &Column| match c.get(i) {
                Ok(AnyValue::Null) | Err(_) => serde_json::Value::Null,
                Ok(v) => serde_json::Value::String(v.str_value().into_owned()),
            };
            serde_json::json!({ time_name.as_str(): value(times), action_name.as_str(): value(actions) }).to_string()
        };
        if !visit(i as u64 + 1, judged, &text) {
            break;
        }
    }
    Ok(())
}

/// Epoch seconds of one time cell, or why not.
fn time_of(value: &AnyValue, dtype: &DataType, unit: TimeUnit, name: &str) -> Result<i64, String> {
    match (value, dtype) {
        (AnyValue::Null, _) => Err(format!("`{name}` is null")),
        (AnyValue::Datetime(v, u, _), _) | (AnyValue::DatetimeOwned(v, u, _), _) => {
            let per_second = match u {
                PolarsUnit::Nanoseconds => 1_000_000_000,
                PolarsUnit::Microseconds => 1_000_000,
                PolarsUnit::Milliseconds => 1_000,
            };
            let seconds = v.div_euclid(per_second);
            line::time_of_integer(seconds, TimeUnit::S, name)
        }
        (AnyValue::String(s), _) => line::time_of_text(s, unit, name),
        (AnyValue::StringOwned(s), _) => line::time_of_text(s, unit, name),
        (v, dt) if dt.is_integer() => match v.extract::<i64>() {
            Some(i) => line::time_of_integer(i, unit, name),
            None => Err(format!("`{name}` {v} is out of range for {}", unit.describe())),
        },
        (_, DataType::Date) => Err(format!(
            "`{name}` is a date, without a time of day; expected a timestamp, an integer or a string column"
        )),
        (_, dt) if dt.is_float() => Err(format!(
            "`{name}` is a floating-point column; expected a timestamp, an integer or a string column"
        )),
        (_, dt) => Err(format!(
            "`{name}` is of type {dt}; expected a timestamp, an integer or a string column"
        )),
    }
}

/// The first line of an engine message (the rest is detail for its
/// developers).
fn first_line(message: &str) -> &str {
    message.lines().next().unwrap_or(message)
}
