//! The stream: input taken a few files per trigger, each trigger's change
//! folded into the state and the figures kept up to date, every commit
//! saved through the checkpoint so that a run killed at any instant goes
//! on where it stopped. `update` is a stream that takes every new file at
//! once; `batch` reads everything in one pass without one.
//!
//! The incremental path, in the order a trigger takes it:
//! 1. [`stream`]: the trigger loop: plan the files, read them, apply them;
//! 2. [`changes`]: what the trigger changed (the hours, the alerts);
//! 3. [`kept`]: the figures kept up to date from that;
//! 4. `stream::records`: how the commit is saved, through [`crate::checkpoint`];
//!
//! and then `output::reuse` brings the report's long tables up to date
//! from the changed hours.

pub mod changes;
pub mod kept;
pub mod stream;
