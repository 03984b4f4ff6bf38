//! One module per subcommand, each with its help text at the top.

pub mod batch;
pub mod completions;
pub mod generate;
pub mod man;
pub mod sql;
pub mod stream;
pub mod update;
