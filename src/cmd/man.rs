//! `windowpane man`: manual pages in roff, generated from the command-line
//! definitions.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::CommandFactory;

/// Print a manual page for windowpane or one of its subcommands.
///
/// The pages are made from the same text as --help. Read one at once with
///   windowpane man | man -l -
///   windowpane man sql | man -l -
/// or install them all for `man windowpane`, `man windowpane-batch`, ...:
///   windowpane man --out-dir ~/.local/share/man/man1
///
/// Exit status: 0 on success, 1 when a page cannot be written, 2 on a usage
/// error (an unknown subcommand among them).
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// The subcommand whose page to print [default: the main page].
    #[arg(value_name = "SUBCOMMAND", value_parser = SUBCOMMANDS)]
    pub subcommand: Option<String>,
    /// Write every page (windowpane.1, windowpane-batch.1, ...) into this
    /// folder instead of printing one.
    #[arg(long, value_name = "DIR", conflicts_with = "subcommand")]
    pub out_dir: Option<PathBuf>,
}

/// The subcommands that have a page (a test checks the list is whole).
pub const SUBCOMMANDS: [&str; 7] = ["batch", "update", "stream", "sql", "generate", "completions", "man"];

/// The command with its version and the pages' names filled in.
fn command() -> clap::Command {
    let mut cmd = super::Cli::command();
    cmd.build();
    cmd
}

/// Escapes text for roff: a backslash doubled, a hyphen as `\-` (so that
/// it stays a hyphen-minus that can be searched and copied).
fn roff(text: &str) -> String {
    text.replace('\\', "\\\\").replace('-', "\\-")
}

/// The SYNOPSIS section: every option with its value name
/// (`[--format FORMAT]`), then the positional arguments.
fn synopsis(cmd: &clap::Command) -> String {
    let name = cmd.get_bin_name().unwrap_or(cmd.get_name());
    let mut parts = vec![format!("\\fB{}\\fR", roff(name))];
    let mut positional = Vec::new();
    for arg in cmd.get_arguments().filter(|a| !a.is_hide_set()) {
        let takes_value = arg.get_action().takes_values();
        let values = arg
            .get_value_names()
            .map(|v| v.iter().map(|n| n.to_string()).collect::<Vec<_>>().join(" "))
            .unwrap_or_else(|| arg.get_id().as_str().to_uppercase());
        if arg.is_positional() {
            let more = arg.get_num_args().is_some_and(|n| n.max_values() > 1) && !values.contains("...");
            positional.push(format!("[\\fI{}\\fR{}]", roff(&values), if more { "..." } else { "" }));
            continue;
        }
        let mut names = Vec::new();
        if let Some(c) = arg.get_short() {
            names.push(format!("\\fB\\-{}\\fR", roff(&c.to_string())));
        }
        if let Some(l) = arg.get_long() {
            names.push(format!("\\fB\\-\\-{}\\fR", roff(l)));
        }
        let value = if takes_value {
            format!(" \\fI{}\\fR", roff(&values))
        } else {
            String::new()
        };
        parts.push(format!("[{}{value}]", names.join("|")));
    }
    parts.extend(positional);
    if cmd.has_subcommands() {
        parts.push("\\fISUBCOMMAND\\fR".into());
    }
    format!(".SH SYNOPSIS\n{}\n", parts.join(" "))
}

/// The description with its indented lines (tables of views, examples)
/// kept as written: each run of them is set without filling.
fn keep_layout(roff_text: &str) -> String {
    let mut out = String::with_capacity(roff_text.len() + 64);
    let mut verbatim = false;
    for line in roff_text.lines() {
        let indented = line.starts_with("  ");
        if indented && !verbatim {
            out.push_str(".nf\n");
        } else if !indented && verbatim {
            out.push_str(".fi\n");
        }
        verbatim = indented;
        out.push_str(line);
        out.push('\n');
    }
    if verbatim {
        out.push_str(".fi\n");
    }
    out
}

/// The roff page of the main command, or of subcommand `name`.
pub fn page(name: Option<&str>) -> Result<Vec<u8>> {
    let cmd = command();
    let cmd = match name {
        None => cmd,
        Some(name) => match cmd.find_subcommand(name) {
            Some(sub) => sub.clone(),
            None => {
                let names: Vec<&str> = cmd.get_subcommands().map(|s| s.get_name()).collect();
                bail!("no subcommand {name:?}: the subcommands are {}", names.join(", "));
            }
        },
    };
    let man = clap_mangen::Man::new(cmd.clone());
    let failed = "cannot make the manual page";
    let mut out = Vec::new();
    man.render_title(&mut out).context(failed)?;
    // neither hyphenated nor stretched: option names and tables stay whole
    out.extend_from_slice(b".nh\n.ad l\n");
    man.render_name_section(&mut out).context(failed)?;
    out.extend_from_slice(synopsis(&cmd).as_bytes());
    let mut description = Vec::new();
    man.render_description_section(&mut description).context(failed)?;
    out.extend_from_slice(keep_layout(&String::from_utf8_lossy(&description)).as_bytes());
    if cmd.get_arguments().any(|a| !a.is_hide_set()) {
        man.render_options_section(&mut out).context(failed)?;
    }
    if cmd.has_subcommands() {
        man.render_subcommands_section(&mut out).context(failed)?;
    }
    if cmd.get_after_long_help().is_some() || cmd.get_after_help().is_some() {
        man.render_extra_section(&mut out).context(failed)?;
    }
    if cmd.get_version().is_some() {
        man.render_version_section(&mut out).context(failed)?;
    }
    // each section comes with the page's two opening lines: kept once
    let text = String::from_utf8_lossy(&out);
    let mut lines = text.lines();
    let opening: Vec<&str> = lines.by_ref().take(2).collect();
    let mut page = opening.join("\n") + "\n";
    for line in lines.filter(|l| !opening.contains(l)) {
        page.push_str(line);
        page.push('\n');
    }
    Ok(page.into_bytes())
}

/// Where `man` looks for pages now (`manpath`), when it can be asked.
fn manpath() -> Option<Vec<PathBuf>> {
    let out = std::process::Command::new("manpath").output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    Some(std::env::split_paths(text.trim()).collect())
}

/// Runs the command.
pub fn run(args: &Args) -> Result<()> {
    let Some(dir) = &args.out_dir else {
        let text = page(args.subcommand.as_deref())?;
        return crate::text::print_stdout(&String::from_utf8_lossy(&text));
    };
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create the folder {}", dir.display()))?;
    let names = std::iter::once(None).chain(SUBCOMMANDS.iter().map(|s| Some(*s)));
    for name in names {
        let file = match name {
            None => dir.join("windowpane.1"),
            Some(sub) => dir.join(format!("windowpane-{sub}.1")),
        };
        std::fs::write(&file, page(name)?).with_context(|| format!("cannot write {}", file.display()))?;
    }
    eprintln!("wrote {} manual pages into {}", SUBCOMMANDS.len() + 1, dir.display());
    // `man windowpane` finds them where its search path has the folder
    // above man1/
    let root = std::fs::canonicalize(dir)
        .ok()
        .filter(|d| d.file_name().is_some_and(|n| n == "man1"))
        .and_then(|d| d.parent().map(PathBuf::from));
    match (root, manpath()) {
        (Some(root), Some(paths))
            if paths
                .iter()
                .any(|p| std::fs::canonicalize(p).ok().as_ref() == Some(&root)) =>
        {
            eprintln!("man windowpane now shows them")
        }
        (Some(root), Some(_)) => eprintln!(
            "man does not search {} yet: add  export MANPATH=\"{}:$(manpath)\"  to your shell's profile, \
             then man windowpane shows them (now: man -l {})",
            root.display(),
            root.display(),
            dir.join("windowpane.1").display()
        ),
        (None, _) => eprintln!(
            "read one with  man -l {}; for man windowpane, write them into a folder named man1 on man's search path \
             (manpath lists it), such as ~/.local/share/man/man1 with that folder added to MANPATH",
            dir.join("windowpane.1").display()
        ),
        (Some(_), None) => {}
    }
    Ok(())
}
