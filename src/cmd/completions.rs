//! `windowpane completions`: shell completion scripts, generated from the
//! command-line definitions.

use clap::CommandFactory;
use clap_complete::Shell;

/// Print a shell completion script for windowpane.
///
/// The script completes subcommands, options and their values. Load it for
/// the current shell session, or install it where your shell looks:
///
///   bash:  source <(windowpane completions bash)
///          windowpane completions bash > ~/.local/share/bash-completion/completions/windowpane
///   zsh:   windowpane completions zsh > ~/.zfunc/_windowpane
///          (with fpath+=(~/.zfunc); autoload -U compinit; compinit in ~/.zshrc)
///   fish:  windowpane completions fish > ~/.config/fish/completions/windowpane.fish
///
/// Exit status: 0 on success, 1 when the script cannot be written, 2 on a
/// usage error.
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// The completion script for `shell`.
pub fn script(shell: Shell) -> Vec<u8> {
    let mut cmd = super::Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, "windowpane", &mut out);
    out
}

/// Runs the command.
pub fn run(args: &Args) -> anyhow::Result<()> {
    crate::text::print_stdout(&String::from_utf8_lossy(&script(args.shell)))
}
