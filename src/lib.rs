//! windowpane: windowed counts, hourly averages, alerts and moving
//! statistics over folders of timestamped NDJSON events, in batch or
//! streaming, with the same answers either way.
//!
//! Data flows one way: [`source`] finds and validates input lines and folds
//! them into [`state::MinuteCounts`]; [`metrics`] derives every figure from
//! that state with Polars lazy plans; [`output`] prints and writes them;
//! [`sql`] exposes them as views to SQL queries.

pub mod cmd;
pub mod engine;
pub mod metrics;
pub mod output;
pub mod progress;
pub mod source;
pub mod spark;
pub mod sql;
pub mod state;

use std::io::Write;

use clap::{Parser, Subcommand};

/// The version `--version` prints: the package version and the commit it
/// was built from (see build.rs).
pub const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (", env!("WINDOWPANE_COMMIT"), ")");

/// The command line.
#[derive(Debug, Parser)]
#[command(
    name = "windowpane",
    version = VERSION,
    about = "Windowed counts, averages, alerts and moving statistics over folders of timestamped NDJSON events",
    after_help = "Exit status: 0 on success, 1 when the input cannot be analysed (the message says which \
                  file, which line and what to do), 2 on a usage error or a failed SQL query.\n\
                  `windowpane help COMMAND` explains each command and its options."
)]
pub struct Cli {
    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands; each one's help text is the doc comment of its `Args`.
#[derive(Debug, Subcommand)]
#[allow(missing_docs)]
pub enum Command {
    Batch(cmd::batch::Args),
    Update(cmd::update::Args),
    Stream(cmd::stream::Args),
    Sql(cmd::sql::Args),
    Generate(cmd::generate::Args),
    Completions(cmd::completions::Args),
    Man(cmd::man::Args),
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Batch(args) => cmd::batch::run(&args),
        Command::Generate(args) => cmd::generate::run(&args),
        Command::Sql(args) => cmd::sql::run(&args),
        Command::Stream(args) => cmd::stream::run(&args),
        Command::Update(args) => cmd::update::run(&args),
        Command::Completions(args) => cmd::completions::run(&args),
        Command::Man(args) => cmd::man::run(&args),
    }
}

/// The exit status for an error: 2 for a failed SQL query, 1 otherwise
/// (usage errors exit with 2 from the argument parser).
pub fn exit_status(e: &anyhow::Error) -> u8 {
    if e.chain().any(|c| c.is::<sql::QueryError>()) {
        2
    } else {
        1
    }
}

/// Writes to standard output; a closed pipe (`| head`) is not an error.
pub fn print_stdout(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}
