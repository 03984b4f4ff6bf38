//! One module per subcommand, each with its help text at the top; none
//! names another. The options they share are in [`args`].

pub mod args;
pub mod batch;
pub mod completions;
pub mod generate;
pub mod man;
pub mod sql;
pub mod stream;
pub mod update;

use clap::{Parser, Subcommand};

/// The command line.
#[derive(Debug, Parser)]
#[command(
    name = "windowpane",
    version = crate::model::VERSION,
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
    Batch(batch::Args),
    Update(update::Args),
    Stream(stream::Args),
    Sql(sql::Args),
    Generate(generate::Args),
    Completions(completions::Args),
    Man(man::Args),
}
