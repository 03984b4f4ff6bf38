//! The stream: input taken a few files per trigger, each trigger's change
//! folded into the state and the figures kept up to date, every commit
//! saved through the checkpoint so that a run killed at any instant goes
//! on where it stopped. `update` is a stream that takes every new file at
//! once; `batch` reads everything in one pass without one.

pub mod changes;
pub mod stream;
