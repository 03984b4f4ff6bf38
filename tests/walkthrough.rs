//! The walkthrough in `notebooks-equivalent/` is real: every command shown
//! there runs (each page in a scratch folder of its own) and its output must
//! be the one shown, `[..]` standing for a varying part of a line (timings)
//! and `...` for varying lines. After a change that alters an output on
//! purpose, `TRYCMD=overwrite cargo test --release --test suite walkthrough`
//! rewrites the pages; read the diff before committing it.

#[test]
fn every_command_of_the_walkthrough_prints_what_it_shows() {
    trycmd::TestCases::new()
        .register_bin("windowpane", std::path::Path::new(env!("CARGO_BIN_EXE_windowpane")))
        .case("notebooks-equivalent/*.md");
}
