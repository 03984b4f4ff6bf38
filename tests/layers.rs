//! The house has one direction: every `crate::` path in the code below
//! `src/` (tests aside) points from a module down to one of a lower layer,
//! never up or sideways, so the modules form no cycle. `src/lib.rs`'s
//! module doc states the same order; this test reads the sources and fails
//! on any path that breaks it, naming the file and line.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// The top-level modules, from the top layer down: a module may name only
/// modules of a later row (the crate root, `lib.rs`, is above them all and
/// no module names it). Modules of the last row name no other module.
pub const LAYERS: &[&[&str]] = &[
    &["cmd"],
    &["output"],
    &["sql"],
    &["engine"],
    &["frames"],
    &["source"],
    &["checkpoint"],
    &["metrics"],
    &["state"],
    &["model", "text", "codec", "progress"],
];

/// The files of `src/cmd/` that are not commands: what commands share.
const SHARED_BY_COMMANDS: &[&str] = &["args", "mod"];

/// The commands: the files of `src/cmd/` but those they share.
fn commands() -> Vec<String> {
    fs::read_dir(root().join("cmd"))
        .unwrap()
        .map(|e| e.unwrap().path().file_stem().unwrap().to_string_lossy().into_owned())
        .filter(|c| !SHARED_BY_COMMANDS.contains(&c.as_str()))
        .collect()
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The layer of each top-level module (0 is the top).
fn layer_of() -> BTreeMap<&'static str, usize> {
    LAYERS
        .iter()
        .enumerate()
        .flat_map(|(i, row)| row.iter().map(move |m| (*m, i)))
        .collect()
}

/// Every `.rs` file below `dir`.
fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The code of a file without comments, string literals and its test
/// module (a `#[cfg(test)]` item and all that follows it at the end).
fn code_of(text: &str) -> Vec<String> {
    let body = match text.find("#[cfg(test)]\nmod tests") {
        Some(at) => &text[..at],
        None => text,
    };
    let mut out = Vec::new();
    let mut in_block = 0usize;
    for line in body.lines() {
        let mut kept = String::new();
        let mut chars = line.chars().peekable();
        let mut in_string = false;
        while let Some(c) = chars.next() {
            if in_block > 0 {
                if c == '*' && chars.peek() == Some(&'/') {
                    chars.next();
                    in_block -= 1;
                } else if c == '/' && chars.peek() == Some(&'*') {
                    chars.next();
                    in_block += 1;
                }
                continue;
            }
            if in_string {
                if c == '\\' {
                    chars.next();
                } else if c == '"' {
                    in_string = false;
                }
                continue;
            }
            match c {
                '/' if chars.peek() == Some(&'/') => break,
                '/' if chars.peek() == Some(&'*') => {
                    chars.next();
                    in_block += 1;
                }
                '"' => in_string = true,
                _ => kept.push(c),
            }
        }
        out.push(kept);
    }
    out
}

/// The top-level module a source file belongs to (`None` for `lib.rs` and
/// `main.rs`), and whether `super::` in it names the crate root.
fn module_of(file: &Path) -> (Option<String>, bool) {
    let rel = file.strip_prefix(root()).unwrap();
    let parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    let first = parts[0].trim_end_matches(".rs").to_string();
    if parts.len() == 1 && (first == "lib" || first == "main") {
        return (None, false);
    }
    let top_file = parts.len() == 1 || (parts.len() == 2 && parts[1] == "mod.rs");
    (Some(first), top_file)
}

/// The modules a line names: `crate::a…`, `crate::{a, b::…}`, and the
/// crate root for `crate::Item` and a top-level file's `super::`.
fn named(line: &str, super_is_root: bool) -> Vec<String> {
    let mut out = Vec::new();
    let ident = |s: &str| -> String { s.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect() };
    let mut rest = line;
    while let Some(at) = rest.find("crate::") {
        let before = rest[..at].chars().last();
        let after = &rest[at + "crate::".len()..];
        rest = after;
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
            continue;
        }
        if let Some(group) = after.strip_prefix('{') {
            let mut depth = 0;
            let mut item = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        out.push(ident(item.trim()));
                        item.clear();
                        continue;
                    }
                    _ => {}
                }
                if depth == 0 {
                    item.push(c);
                }
            }
            if !item.trim().is_empty() {
                out.push(ident(item.trim()));
            }
        } else {
            out.push(ident(after));
        }
    }
    if super_is_root {
        let mut rest = line;
        while let Some(at) = rest.find("super::") {
            let before = rest[..at].chars().last();
            rest = &rest[at + "super::".len()..];
            if !before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                out.push(format!("(root via super) {}", ident(rest)));
            }
        }
    }
    out
}

/// The modules of `src/cmd/` a line of a command names: `super::x` and
/// `crate::cmd::x`.
fn commands_named(line: &str) -> Vec<String> {
    let ident = |s: &str| -> String { s.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect() };
    let mut out = Vec::new();
    for prefix in ["super::", "crate::cmd::"] {
        let mut rest = line;
        while let Some(at) = rest.find(prefix) {
            let before = rest[..at].chars().last();
            rest = &rest[at + prefix.len()..];
            if !before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                out.push(ident(rest));
            }
        }
    }
    out
}

/// Every edge of the code that breaks the layers, as `file:line: why`.
fn broken_edges(files: &[(PathBuf, String)]) -> Vec<String> {
    let layers = layer_of();
    let commands = commands();
    let mut broken = Vec::new();
    for (file, text) in files {
        let (module, super_is_root) = module_of(file);
        let Some(module) = module else { continue };
        let rel = file.strip_prefix(root()).unwrap_or(file).display().to_string();
        let Some(&own) = layers.get(module.as_str()) else {
            broken.push(format!("src/{rel}: the module `{module}` has no layer in LAYERS"));
            continue;
        };
        let command = (module == "cmd")
            .then(|| file.file_stem().unwrap().to_string_lossy().into_owned())
            .filter(|c| commands.contains(c));
        for (n, line) in code_of(text).iter().enumerate() {
            if let Some(own_command) = &command {
                for other in commands_named(line) {
                    if &other != own_command && commands.contains(&other) {
                        broken.push(format!(
                            "src/{rel}:{}: the command `{own_command}` names the command `{other}`; share through cmd/args.rs or a lower module",
                            n + 1
                        ));
                    }
                }
            }
            for target in named(line, super_is_root) {
                if target == module {
                    continue;
                }
                match layers.get(target.as_str()) {
                    Some(&theirs) if theirs > own => {}
                    Some(_) => broken.push(format!(
                        "src/{rel}:{}: `{module}` names `{target}`, which is not in a lower layer",
                        n + 1
                    )),
                    None => broken.push(format!(
                        "src/{rel}:{}: `{module}` names `crate::{target}`, an item of the crate root or an unknown module",
                        n + 1
                    )),
                }
            }
        }
    }
    broken
}

fn all_sources() -> Vec<(PathBuf, String)> {
    let mut files = Vec::new();
    sources(&root(), &mut files);
    files.sort();
    files
        .into_iter()
        .map(|f| {
            let text = fs::read_to_string(&f).unwrap();
            (f, text)
        })
        .collect()
}

#[test]
fn every_import_points_down_the_layers() {
    let files = all_sources();
    // every top-level module has a layer, and every layer's module exists
    let on_disk: Vec<String> = files.iter().filter_map(|(f, _)| module_of(f).0).collect();
    for m in layer_of().keys() {
        assert!(
            on_disk.iter().any(|d| d == m),
            "LAYERS names `{m}`, which src/ does not have"
        );
    }
    let broken = broken_edges(&files);
    assert!(broken.is_empty(), "imports against the layers:\n{}", broken.join("\n"));
}

#[test]
fn lib_rs_states_the_same_order() {
    let lib = fs::read_to_string(root().join("lib.rs")).unwrap();
    let order: Vec<String> = LAYERS
        .iter()
        .map(|row| row.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(", "))
        .collect();
    let mut at = 0;
    for row in &order {
        match lib[at..].find(row.as_str()) {
            Some(i) => at += i + row.len(),
            None => panic!("lib.rs's module doc does not name {row} in the order of LAYERS"),
        }
    }
}

#[test]
fn the_check_sees_a_forbidden_edge() {
    // a lower module naming a higher one, in the three spellings, is found;
    // comments, strings and test modules are not code
    let file = |path: &str, text: &str| (root().join(path), text.to_string());
    let files = vec![
        file("engine/stream.rs", "use crate::output::summary::InputStats;\n"),
        file("state.rs", "fn f() { crate::metrics::MINUTE }\n"),
        file("source/mod.rs", "use crate::{state::Row, output::report::MARKER};\n"),
        file("metrics.rs", "pub use super::VERSION;\n"),
        file(
            "model.rs",
            "// crate::cmd is only a comment\nconst S: &str = \"crate::cmd\";\n",
        ),
        file(
            "checkpoint/mod.rs",
            "use crate::codec;\n#[cfg(test)]\nmod tests {\n    use crate::cmd;\n}\n",
        ),
        file(
            "cmd/batch.rs",
            "use crate::output::publish;\nuse super::args::ReportArgs;\n",
        ),
        file(
            "cmd/update.rs",
            "use super::args::ReportArgs;\nuse super::stream::publish;\n",
        ),
        file("cmd/sql.rs", "fn f() { crate::cmd::batch::run(); }\n"),
    ];
    let broken = broken_edges(&files);
    assert_eq!(broken.len(), 6, "{broken:#?}");
    for (i, needle) in [
        "engine/stream.rs:1",
        "state.rs:1",
        "source/mod.rs:1",
        "metrics.rs:1",
        "cmd/update.rs:2",
        "cmd/sql.rs:1",
    ]
    .iter()
    .enumerate()
    {
        assert!(broken[i].contains(needle), "{}", broken[i]);
    }
}
