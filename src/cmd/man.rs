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
    let mut out = Vec::new();
    clap_mangen::Man::new(cmd)
        .render(&mut out)
        .context("cannot make the manual page")?;
    Ok(out)
}

/// Runs the command.
pub fn run(args: &Args) -> Result<()> {
    match &args.out_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir).with_context(|| format!("cannot create the folder {}", dir.display()))?;
            clap_mangen::generate_to(command(), dir)
                .with_context(|| format!("cannot write the manual pages into {}", dir.display()))?;
            eprintln!("wrote the manual pages into {}", dir.display());
            Ok(())
        }
        None => {
            let text = page(args.subcommand.as_deref())?;
            crate::text::print_stdout(&String::from_utf8_lossy(&text))
        }
    }
}
