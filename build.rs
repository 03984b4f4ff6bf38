//! Records the git commit windowpane is built from, for `--version`.
//!
//! In a git checkout of windowpane (its own repository, not one it was
//! unpacked into) the commit is asked of git, and the build script runs
//! again only when HEAD moves (a commit, a checkout). Built from a package
//! without `.git` (`cargo install` of a downloaded crate), the commit comes
//! from the `.cargo_vcs_info.json` that `cargo package` writes, if any.
//! `WINDOWPANE_COMMIT` in the environment overrides both.
//!
//! It also tells the linker how to make the binary: position-dependent and
//! without its symbol table (see below).

use std::path::{Path, PathBuf};
use std::process::Command;

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git").arg("-C").arg(dir).args(args).output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && !text.is_empty()).then_some(text)
}

/// The files whose change means HEAD moved: HEAD itself, the branch it
/// points to and the packed refs.
fn head_files(dir: &Path) -> Vec<PathBuf> {
    let absolute = |p: String| {
        let p = PathBuf::from(p);
        if p.is_absolute() {
            p
        } else {
            dir.join(p)
        }
    };
    let (Some(git_dir), Some(common)) = (
        git(dir, &["rev-parse", "--git-dir"]).map(absolute),
        git(dir, &["rev-parse", "--git-common-dir"]).map(absolute),
    ) else {
        return Vec::new();
    };
    let head = git_dir.join("HEAD");
    let mut files = vec![head.clone(), common.join("packed-refs")];
    if let Some(branch) = std::fs::read_to_string(&head)
        .ok()
        .and_then(|h| h.strip_prefix("ref: ").map(|r| r.trim().to_string()))
    {
        files.push(common.join(branch));
    }
    files.into_iter().filter(|f| f.exists()).collect()
}

/// The commit recorded by `cargo package` in a packaged crate.
fn packaged_commit(dir: &Path) -> Option<String> {
    let info = std::fs::read_to_string(dir.join(".cargo_vcs_info.json")).ok()?;
    let at = info.find("\"sha1\"")?;
    let rest = &info[at + 6..];
    let start = rest.find('"')? + 1;
    let len = rest[start..].find('"')?;
    Some(rest[start..start + len].chars().take(12).collect())
}

fn main() {
    let dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=WINDOWPANE_COMMIT");
    let commit = match std::env::var("WINDOWPANE_COMMIT") {
        Ok(c) if !c.is_empty() => c,
        _ => match packaged_commit(&dir) {
            // a packaged crate, even when unpacked inside some other repository
            Some(c) => format!("commit {c}"),
            None => {
                // only windowpane's own repository: not one it was unpacked into
                let top = git(&dir, &["rev-parse", "--show-toplevel"]).map(PathBuf::from);
                let own = top.is_some_and(|t| t.canonicalize().ok() == dir.canonicalize().ok());
                for f in head_files(&dir).into_iter().filter(|_| own) {
                    println!("cargo:rerun-if-changed={}", f.display());
                }
                own.then(|| git(&dir, &["log", "-1", "--format=%h %cs", "--abbrev=12"]))
                    .flatten()
                    .map(|c| format!("commit {c}"))
                    .unwrap_or_else(|| "commit unknown: built outside a git checkout".into())
            }
        },
    };
    println!("cargo:rustc-env=WINDOWPANE_COMMIT={commit}");
    // How the release binary is linked, on Linux (GNU ld or lld syntax):
    let release = std::env::var("PROFILE").as_deref() == Ok("release");
    let linux = std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux");
    if release && linux {
        // A position-dependent executable: no relocations for the loader to
        // apply at each start (writing 231,000 pointers took 4 of a run's
        // 5.3 ms; packed relocations save the bytes but not that time). The
        // stack, heap and libraries are still placed at random; the
        // program's own code is not.
        println!("cargo:rustc-link-arg-bins=-no-pie");
        // The symbol table (37 MB of function names) is left out unless
        // WINDOWPANE_KEEP_SYMBOLS is set (which compiles only windowpane
        // again, not its dependencies). A panic names its file and line
        // either way; with the symbols a backtrace names every function.
        if std::env::var_os("WINDOWPANE_KEEP_SYMBOLS").is_none_or(|v| v.is_empty()) {
            println!("cargo:rustc-link-arg-bins=-Wl,--strip-all");
        }
    }
    println!("cargo:rerun-if-env-changed=WINDOWPANE_KEEP_SYMBOLS");
}
