//! Fuzzing the line parser and the line splitter (plain and gzip) with
//! arbitrary bytes: no panic, and `lines = events + rejected` always.
//!
//! The default number of cases keeps `cargo test` quick; a long run is
//! `PROPTEST_CASES=200000 cargo test --release --test fuzz`. Failures
//! proptest finds are kept in proptest-regressions/fuzz.txt and replayed
//! first on every run.

use std::fs;
use std::io::Write;

use proptest::prelude::*;
use windowpane::source::line::{self, TimeUnit};
use windowpane::source::{self, Batch, InputFile, ReadOptions};

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn check_sum(b: &Batch) {
    assert_eq!(b.lines, b.counts.events() + b.rejected.len() as u64);
}

/// Pieces that reach every path of the parser when strung together.
fn fragment() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(b"{\"time\":1469501107,\"action\":\"Open\"}".to_vec()),
        Just(b"{\"time\":".to_vec()),
        Just(b",\"action\":\"".to_vec()),
        Just(b"\"}".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"\xEF\xBB\xBF".to_vec()),
        Just(b"\"2016-07-28T04:19:28.000+0000\"".to_vec()),
        Just(b"\"9999-12-31T23:59:59-01:00\"".to_vec()),
        Just(b"253402300800".to_vec()),
        Just(b"-62135596801".to_vec()),
        Just(b"99999999999999999999".to_vec()),
        Just(b"1e3".to_vec()),
        Just(b"\\u0000".to_vec()),
        Just(b"\\ud800".to_vec()),
        Just(vec![b'x'; 1030]),
        Just(b"{}".to_vec()),
        Just(b"[".to_vec()),
        "[ -~]{0,12}".prop_map(String::into_bytes),
        proptest::collection::vec(any::<u8>(), 0..8),
        (0i64..2_000_000_000_000).prop_map(|n| n.to_string().into_bytes()),
    ]
}

fn text() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..600),
        proptest::collection::vec(fragment(), 0..40).prop_map(|v| v.concat()),
    ]
}

proptest! {
    #[test]
    fn the_parser_never_panics_and_accepts_only_events_in_range(data in text()) {
        for raw in data.split(|&b| b == b'\n') {
            for unit in [TimeUnit::S, TimeUnit::Ms, TimeUnit::Us] {
                match line::parse_with(raw, unit, Default::default()) {
                    line::Line::Event { time, action } => {
                        prop_assert!((line::MIN_TIME..=line::MAX_TIME).contains(&time));
                        prop_assert!(!action.is_empty() && action.len() <= line::MAX_ACTION_BYTES);
                    }
                    line::Line::Rejected(reason) => {
                        prop_assert!(!reason.is_empty());
                        prop_assert!(!reason.contains("line 1 column"), "{}", reason);
                    }
                    line::Line::Blank => prop_assert!(raw.iter().all(u8::is_ascii_whitespace)),
                }
            }
        }
    }

    #[test]
    fn folding_keeps_every_line_accounted_for(data in text()) {
        let b = source::fold_bytes("f.json", &data, false);
        check_sum(&b);
        let non_blank = source::lines(data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&data))
            .filter(|(_, l)| !l.iter().all(u8::is_ascii_whitespace))
            .count() as u64;
        prop_assert_eq!(b.lines, non_blank);
    }

    #[test]
    fn gzip_and_plain_files_give_the_same_lines(data in text(), garbage in proptest::collection::vec(any::<u8>(), 0..64)) {
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("a.json");
        let packed = dir.path().join("a.json.gz");
        let broken = dir.path().join("b.json.gz");
        fs::write(&plain, &data).unwrap();
        fs::write(&packed, gzip(&data)).unwrap();
        fs::write(&broken, &garbage).unwrap();
        let read = |path: &std::path::Path| {
            let file = InputFile { path: path.to_path_buf(), name: "a".into(), limit: None };
            let mut b = Batch::default();
            let r = source::fold_file(&mut b, &file, &ReadOptions::default(), &mut Vec::new());
            (b, r)
        };
        let (a, ra) = read(&plain);
        let (g, rg) = read(&packed);
        prop_assert!(ra.is_ok() && rg.is_ok());
        check_sum(&a);
        check_sum(&g);
        prop_assert_eq!((a.lines, a.counts.events()), (g.lines, g.counts.events()));
        prop_assert_eq!(a.rejected, g.rejected);
        // bytes that are not gzip: an error or lines, never a panic
        let (x, _) = read(&broken);
        check_sum(&x);
    }
}
