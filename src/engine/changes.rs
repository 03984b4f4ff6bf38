//! What the triggers changed, as the engine tells those who follow the
//! state: the hours whose rows changed (the report brings only those up
//! to date) and how the alert list changed (the stream's lines and live
//! view show it).

use std::collections::BTreeMap;

use crate::metrics::Alert;

/// The hours a stream's triggers changed, with the last commit that
/// changed each; complete for the commits after `since`.
#[derive(Debug, Clone, Default)]
pub struct ChangedHours {
    /// The commit the stream was opened at: what came before is not known.
    pub since: u64,
    /// Hour start (epoch seconds) → the last commit that changed a row in it.
    pub hours: BTreeMap<i64, u64>,
}

/// A change of the alert list made by one trigger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlertChange {
    /// A minute crossed the threshold.
    New(Alert),
    /// An alert minute's counts changed; it is still over the threshold.
    Updated(Alert),
    /// An alert minute fell back under the threshold.
    Withdrawn(Alert),
}
