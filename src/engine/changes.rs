//! What the triggers changed, as the engine tells those who follow the
//! state (the report brings only what changed up to date).

use std::collections::BTreeMap;

/// The hours a stream's triggers changed, with the last commit that
/// changed each; complete for the commits after `since`.
#[derive(Debug, Clone, Default)]
pub struct ChangedHours {
    /// The commit the stream was opened at: what came before is not known.
    pub since: u64,
    /// Hour start (epoch seconds) → the last commit that changed a row in it.
    pub hours: BTreeMap<i64, u64>,
}
