//! windowpane: windowed counts, hourly averages, alerts and moving
//! statistics over folders of timestamped NDJSON events, in batch or
//! streaming, with the same answers either way.
//!
//! Data flows one way, and so do the imports: each module names only
//! modules of the layers below it (`tests/layers.rs` checks this). From
//! the top:
//!
//! 1. `cmd`: one file per command, each with its help at the top; none
//!    names another, and the options they share are in `cmd::args`.
//! 2. `output`: what people and programs read: terminal tables, the live
//!    view, `summary.json`, tables, charts, the page, and the report folder
//!    kept up to date after each trigger.
//! 3. `sql`: SQL views over the figures.
//! 4. `engine`: the stream's trigger loop; it defines what a trigger
//!    changed (`engine::changes`), which the report follows.
//! 5. `frames`: the figure tables as Polars frames, the one columnar form
//!    the tables, the page and SQL read.
//! 6. `source`: finding input files and reading their lines into the
//!    state, locally or on a Spark cluster (`source::spark`).
//! 7. `checkpoint`: the checkpoint folder, the only door to it.
//! 8. `metrics`: every figure, derived from the state.
//! 9. `state`: the counts per (action, minute window).
//! 10. `model`, `text`, `codec`, `progress`, `signals`: leaves that name no other
//!     module: shared records and names, text for people, the binary
//!     codec, the progress bar, the stop signals.
//!
//! The same order as a list, for the test: `cmd` → `output` → `sql` →
//! `engine` → `frames` → `source` → `checkpoint` → `metrics` → `state` →
//! `model`, `text`, `codec`, `progress`, `signals`.

pub mod checkpoint;
pub mod cmd;
pub mod codec;
pub mod engine;
pub mod frames;
pub mod metrics;
pub mod model;
pub mod output;
pub mod progress;
pub mod signals;
pub mod source;
pub mod sql;
pub mod state;
pub mod text;

pub use model::VERSION;

pub use cmd::{Cli, Command};

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

/// The exit status for an error: 2 for a failed SQL query or a usage
/// error (as the argument parser's), 1 otherwise.
pub fn exit_status(e: &anyhow::Error) -> u8 {
    if e.chain()
        .any(|c| c.is::<sql::QueryError>() || c.is::<model::UsageError>())
    {
        2
    } else {
        1
    }
}
