//! What every layer shares: the version, the names of the files that
//! mark windowpane's own folders, and the record of what a run read. A
//! leaf: it names no other module.

use serde::Serialize;

/// The version `--version` prints: the package version and the commit it
/// was built from (see build.rs).
pub const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (", env!("WINDOWPANE_COMMIT"), ")");

/// The file that marks a folder as a report windowpane wrote (and may
/// replace); its text explains itself to a person who opens it.
pub const REPORT_MARKER: &str = ".windowpane-report";

/// What was read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InputStats {
    /// Files read.
    pub files: u64,
    /// Lines read, blank lines aside (= events + rejected + late).
    pub lines: u64,
    /// Valid events.
    pub events: u64,
    /// Rejected lines.
    pub rejected: u64,
    /// Valid events that came for a window already final (streaming append
    /// mode): counted here, not in the figures.
    pub late: u64,
    /// Files a stream had planned to read that were gone when it ran.
    #[serde(skip_serializing_if = "is_zero")]
    pub missing: u64,
    /// Entries found in the inputs but not read, or not read to their end
    /// (other names, devices, damaged files with --skip-corrupt-files).
    #[serde(skip_serializing_if = "is_zero")]
    pub skipped: u64,
    /// Where the lines were read and checked, when not here
    /// (`spark sc://host:15002` with `--spark`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scan: Option<String>,
    /// How rejected lines are kept, when not line by line in
    /// `rejected.ndjson` (with `--spark` they are counted on the cluster).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quarantine: Option<String>,
    /// The fields the events were read from, when not `time` and `action`
    /// (`--time-field`, `--action-field`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fields: Option<FieldNames>,
}

/// The fields events were read from, as named on the command line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldNames {
    /// The time field (a key or a dotted path).
    pub time: String,
    /// The action field.
    pub action: String,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// A usage error found after the arguments were parsed (a statement
/// missing, options that do not go together): the process exits with 2,
/// as for an argument the parser refuses.
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}
