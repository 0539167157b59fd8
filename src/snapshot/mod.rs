//! A snapshot: one folder of Parquet tables plus `manifest.json`, which says exactly what was and
//! was not read. It is the contract between `extract` and everything after it (and outside tools
//! such as DuckDB or pandas); `docs/snapshot.md` documents every table and column.
//!
//! Snapshots are written into a temporary folder beside the target and renamed into place at the
//! end, so a killed run never leaves a folder that looks like a snapshot; `latest` moves only
//! after the rename.
mod frame;
pub mod grants;
mod manifest;
mod read;
pub mod rows;
pub mod schema;
pub mod scope;
mod write;

pub use frame::TableBuilder;
pub use manifest::{ActivityWindow, Gap, Manifest, TableInfo, FORMAT_VERSION};
pub use read::Snapshot;
pub use schema::TABLES;
pub use write::{SnapshotWriter, LATEST};

/// How emails are compared everywhere in hkaudit, and what every `*_norm` column holds:
/// trimmed and lower-cased.
pub fn email_norm(email: &str) -> String {
    email.trim().to_lowercase()
}

#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// Reading or writing a file or folder failed.
    #[error("{}{}", path.display(), if action.is_empty() { String::new() } else { format!(": {action}") })]
    File {
        path: std::path::PathBuf,
        /// What was being done (`cannot open the snapshot`); may be empty.
        action: &'static str,
        #[source]
        source: std::io::Error,
    },

    /// A problem with a path that no underlying error explains (a snapshot id already taken).
    #[error("{path}: {detail}")]
    Io { path: String, detail: String },

    #[error("{path}: not a snapshot folder (no manifest.json): pass a folder written by `hkaudit extract`, or `snapshots/latest`")]
    NotASnapshot { path: String },

    #[error("{path}: manifest.json is not valid")]
    BadManifest {
        path: String,
        #[source]
        source: serde_json::Error,
    },

    #[error("{path}: snapshot format version {found} is not one this hkaudit reads (it reads version {FORMAT_VERSION}); use an hkaudit release of the same format, or extract again")]
    UnknownFormat { path: String, found: u32 },

    #[error("table {table}: no such table in a snapshot")]
    UnknownTable { table: String },

    /// A frame written as a snapshot table differs from the table's definition: a bug in the
    /// code that filled it, caught before a reader sees it.
    #[error("table {table} does not match its definition in src/snapshot/schema.rs: {problem}")]
    Schema { table: String, problem: String },

    #[error("table {table} was not written: every table in src/snapshot/schema.rs must be, empty or not")]
    MissingTable { table: String },

    #[error("table {table}")]
    Table {
        table: String,
        #[source]
        source: polars::prelude::PolarsError,
    },

    #[error("{}", path.display())]
    Parquet {
        path: std::path::PathBuf,
        #[source]
        source: polars::prelude::PolarsError,
    },

    #[error("table {table} has no column {column}")]
    NoColumn { table: String, column: String },

    #[error("table {table}, column {column}")]
    Column {
        table: String,
        column: String,
        #[source]
        source: polars::prelude::PolarsError,
    },
}

impl SnapshotError {
    /// A message about a path, for a caller that has no underlying error to keep.
    pub(crate) fn io(path: &std::path::Path, err: impl std::fmt::Display) -> Self {
        SnapshotError::Io { path: path.display().to_string(), detail: err.to_string() }
    }

    pub(crate) fn file(path: &std::path::Path, action: &'static str, source: std::io::Error) -> Self {
        SnapshotError::File { path: path.to_owned(), action, source }
    }
}
