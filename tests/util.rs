//! What the test modules share: the binary under test and the paths of
//! the repository and its fixtures.

use std::path::PathBuf;

/// The `windowpane` binary under test.
pub fn windowpane() -> assert_cmd::Command {
    assert_cmd::Command::cargo_bin("windowpane").unwrap()
}

/// The repository's root folder.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A conformance case's folder (its `input/` and Spark's `expected.json`).
pub fn conformance(case: &str) -> PathBuf {
    root().join("tests/fixtures/conformance").join(case)
}

/// A file's bytes, decompressed when its name ends in `.gz`.
pub fn decompressed(path: &std::path::Path) -> Vec<u8> {
    let data = std::fs::read(path).unwrap();
    if path.extension().is_some_and(|e| e == "gz") {
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::MultiGzDecoder::new(&data[..]), &mut out).unwrap();
        out
    } else {
        data
    }
}

/// Writes a copy of the JSON files of `from` as Parquet into `dir`: one
/// file per input file, in a partition folder as Spark writes them, with
/// its `_SUCCESS` and `.crc` files beside. Each line is a row of the text
/// columns `time` and `action` (a number as its JSON text); a line that is
/// not an object keeps its text as the time and no action.
pub fn parquet_copy(from: &std::path::Path, dir: &std::path::Path) {
    use polars::prelude::*;
    use serde_json::Value;
    let part = dir.join("dt=2016-07-26");
    std::fs::create_dir_all(&part).unwrap();
    std::fs::write(dir.join("_SUCCESS"), "").unwrap();
    let mut files: Vec<PathBuf> = std::fs::read_dir(from).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    for (n, file) in files.iter().enumerate() {
        let text = String::from_utf8_lossy(&decompressed(file)).into_owned();
        let (mut times, mut actions): (Vec<Option<String>>, Vec<Option<String>>) = (Vec::new(), Vec::new());
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let cell = |v: Option<&Value>| match v {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) => Some(s.clone()),
                Some(other) => Some(other.to_string()),
            };
            match serde_json::from_str::<Value>(line) {
                Ok(Value::Object(m)) => {
                    times.push(cell(m.get("time")));
                    actions.push(cell(m.get("action")));
                }
                _ => {
                    times.push(Some(line.to_string()));
                    actions.push(None);
                }
            }
        }
        let name = format!("part-{n:05}-c000.snappy.parquet");
        let mut df = df!("time" => times, "action" => actions).unwrap();
        ParquetWriter::new(std::fs::File::create(part.join(&name)).unwrap())
            .finish(&mut df)
            .unwrap();
        std::fs::write(part.join(format!(".{name}.crc")), "crc").unwrap();
    }
}

/// Writes a copy of the JSON files of `from` as delimited files into
/// `dir` (`extension` `csv` or `tsv`, gzipped where the original is): a
/// header `time`, `action`, then a row per line (a number as its JSON
/// text; a line that is not an object as the time, with no action).
pub fn delimited_copy(from: &std::path::Path, dir: &std::path::Path, extension: &str, delimiter: u8) {
    use serde_json::Value;
    std::fs::create_dir_all(dir).unwrap();
    let mut files: Vec<PathBuf> = std::fs::read_dir(from).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    for file in files {
        let text = String::from_utf8_lossy(&decompressed(&file)).into_owned();
        let mut w = csv::WriterBuilder::new().delimiter(delimiter).from_writer(Vec::new());
        w.write_record(["time", "action"]).unwrap();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let cell = |v: Option<&Value>| match v {
                None | Some(Value::Null) => String::new(),
                Some(Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
            };
            match serde_json::from_str::<Value>(line) {
                Ok(Value::Object(m)) => w.write_record([cell(m.get("time")), cell(m.get("action"))]).unwrap(),
                _ => w.write_record([line, ""]).unwrap(),
            }
        }
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let stem = name.split('.').next().unwrap();
        let body = w.into_inner().unwrap();
        if name.ends_with(".gz") {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            std::io::Write::write_all(&mut gz, &body).unwrap();
            std::fs::write(dir.join(format!("{stem}.{extension}.gz")), gz.finish().unwrap()).unwrap();
        } else {
            std::fs::write(dir.join(format!("{stem}.{extension}")), body).unwrap();
        }
    }
}
