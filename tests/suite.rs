//! The integration tests, as one binary: each file of this folder is a
//! module of it (but `memory.rs`, which measures its child processes' peak
//! memory and so runs alone), and `util.rs` holds what they share. One
//! binary links the library once, where a binary per file linked it each
//! time.

mod util;

mod browser;
mod cli;
mod committed;
mod conformance;
mod definitions;
mod fuzz;
mod input;
mod layers;
mod newcomer;
mod pipeline;
mod prompt;
mod readme;
mod report;
mod safety;
mod spark;
mod sql;
mod stream;
mod update;
mod walkthrough;
