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
