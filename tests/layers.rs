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
    &["model", "text", "codec", "progress", "signals"],
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

/// The code of a file without comments, string and character literals,
/// and its test modules (`#[cfg(test)] mod … { … }`, wherever they are),
/// line by line (the lines keep their numbers).
fn code_of(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_block = 0usize;
    for line in text.lines() {
        let mut kept = String::new();
        let chars: Vec<char> = line.chars().collect();
        let mut i = 0;
        let mut in_string = false;
        while i < chars.len() {
            let c = chars[i];
            let next = chars.get(i + 1).copied();
            i += 1;
            if in_block > 0 {
                if c == '*' && next == Some('/') {
                    i += 1;
                    in_block -= 1;
                } else if c == '/' && next == Some('*') {
                    i += 1;
                    in_block += 1;
                }
                continue;
            }
            if in_string {
                if c == '\\' {
                    i += 1;
                } else if c == '"' {
                    in_string = false;
                }
                continue;
            }
            match c {
                '/' if next == Some('/') => break,
                '/' if next == Some('*') => {
                    i += 1;
                    in_block += 1;
                }
                '"' => in_string = true,
                // a character literal ('"', '\'', '\\'); a lifetime has no closing quote
                '\'' if next == Some('\\') => {
                    while i < chars.len() && chars[i] != '\'' {
                        i += if chars[i] == '\\' { 2 } else { 1 };
                    }
                    i += 1;
                }
                '\'' if chars.get(i + 1) == Some(&'\'') => i += 2,
                _ => kept.push(c),
            }
        }
        out.push(kept);
    }
    // test modules out, keeping their lines empty
    let mut depth_at_test: Option<usize> = None;
    let mut depth = 0usize;
    let mut pending_test = false;
    for line in out.iter_mut() {
        let trimmed = line.trim();
        if depth_at_test.is_none() && trimmed.starts_with("#[cfg(test)]") {
            pending_test = true;
        }
        let opens = line.matches('{').count();
        let closes = line.matches('}').count();
        if pending_test && trimmed.starts_with("mod ") && opens > 0 {
            depth_at_test = Some(depth);
            pending_test = false;
        }
        let inside = depth_at_test.is_some();
        depth = (depth + opens).saturating_sub(closes);
        if inside {
            line.clear();
            if depth_at_test == Some(depth) {
                depth_at_test = None;
            }
        }
    }
    out
}

/// The top-level module a source file belongs to (`None` for `lib.rs` and
/// `main.rs`), and how deep its module is (1 for `src/x.rs` and
/// `src/x/mod.rs`): `super::` that many times names the crate root.
fn module_of(file: &Path) -> (Option<String>, usize) {
    let rel = file.strip_prefix(root()).unwrap();
    let parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    let first = parts[0].trim_end_matches(".rs").to_string();
    if parts.len() == 1 && (first == "lib" || first == "main") {
        return (None, 0);
    }
    let depth = if parts.last().is_some_and(|p| p == "mod.rs") {
        parts.len() - 1
    } else {
        parts.len()
    };
    (Some(first), depth)
}

/// The modules the code names, with the line each is on: `crate::a…`,
/// `crate::{a, b::…}` (over several lines too), and the crate root for
/// `crate::Item` and for as many `super::` as the module is deep.
fn named(lines: &[String], depth: usize) -> Vec<(usize, String)> {
    let text = lines.join("\n");
    let line_of = |at: usize| text[..at].matches('\n').count();
    let ident = |s: &str| -> String { s.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect() };
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(found) = text[from..].find("crate::") {
        let at = from + found;
        from = at + "crate::".len();
        let before = text[..at].chars().last();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$' || c == ':') {
            continue;
        }
        let after = &text[from..];
        if let Some(group) = after.strip_prefix('{') {
            let mut level = 0;
            let mut item = String::new();
            let mut items = Vec::new();
            for c in group.chars() {
                match c {
                    '{' => level += 1,
                    '}' if level == 0 => break,
                    '}' => level -= 1,
                    ',' if level == 0 => {
                        items.push(std::mem::take(&mut item));
                        continue;
                    }
                    _ => {}
                }
                if level == 0 {
                    item.push(c);
                }
            }
            items.push(item);
            for item in items.iter().map(|i| i.trim()).filter(|i| !i.is_empty()) {
                out.push((line_of(at), ident(item)));
            }
        } else {
            out.push((line_of(at), ident(after)));
        }
    }
    // super:: repeated `depth` times (or more) leaves the module's own tree
    let mut from = 0;
    while let Some(found) = text[from..].find("super::") {
        let at = from + found;
        let before = text[..at].chars().last();
        let mut n = 0;
        let mut rest = &text[at..];
        while let Some(r) = rest.strip_prefix("super::") {
            n += 1;
            rest = r;
        }
        from = at + n * "super::".len();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
            continue;
        }
        if n >= depth {
            out.push((line_of(at), format!("(root via super) {}", ident(rest))));
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
        let (module, depth) = module_of(file);
        let Some(module) = module else { continue };
        let rel = file.strip_prefix(root()).unwrap_or(file).display().to_string();
        let Some(&own) = layers.get(module.as_str()) else {
            broken.push(format!("src/{rel}: the module `{module}` has no layer in LAYERS"));
            continue;
        };
        // a command, or the options commands share, names no command
        let stem = file.file_stem().unwrap().to_string_lossy().into_owned();
        let command = (module == "cmd" && stem != "mod").then_some(stem);
        let code = code_of(text);
        if let Some(own_command) = &command {
            for (n, line) in code.iter().enumerate() {
                for other in commands_named(line) {
                    if &other != own_command && commands.contains(&other) {
                        broken.push(format!(
                            "src/{rel}:{}: `cmd/{own_command}.rs` names the command `{other}`; share through cmd/args.rs or a lower module",
                            n + 1
                        ));
                    }
                }
            }
        }
        for (n, target) in named(&code, depth) {
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
        file("frames.rs", "use crate::{\n    metrics::Figures,\n    sql::View,\n};\n"),
        file(
            "engine/stream/records.rs",
            "use super::super::super::sql;\nuse super::*;\n",
        ),
        file(
            "text.rs",
            "fn q(c: char) -> bool { c == '\"' } fn r() { crate::output::x(); }\n",
        ),
        file(
            "codec.rs",
            "#[cfg(test)]\nmod tests {\n    use crate::cmd;\n}\n\nfn after() { crate::state::x(); }\n",
        ),
    ];
    let broken = broken_edges(&files);
    assert_eq!(broken.len(), 10, "{broken:#?}");
    for (i, needle) in [
        "engine/stream.rs:1",
        "state.rs:1",
        "source/mod.rs:1",
        "metrics.rs:1",
        "cmd/update.rs:2",
        "cmd/sql.rs:1",
        "frames.rs:1",
        "engine/stream/records.rs:1",
        "text.rs:1",
        "codec.rs:6",
    ]
    .iter()
    .enumerate()
    {
        assert!(broken[i].contains(needle), "{}", broken[i]);
    }
}
