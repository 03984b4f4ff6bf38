//! How input reaches the state: all at once (batch, see `cmd::batch`) or a
//! few files per trigger with a checkpoint (streaming).

pub mod checkpoint;
pub mod codec;
pub mod stream;
