//! `analyze`: turn a snapshot (plus identity-provider and authorization exports) into findings.
//!
//! Rules are SQL files ([`rule`]); the engine ([`engine`]) registers every snapshot table once
//! under its name, runs each rule with polars, and applies the manifest's gaps so that a rule
//! whose data was not read reports `skipped`/`partial` instead of passing or firing. Inputs that
//! do not come from the snapshot: [`idp`] (identity-provider exports), [`tokens`] (`heroku
//! authorizations --json` exports) and [`config`] (`hkaudit.toml`), with the error type they share
//! in [`inputs`].
pub mod config;
pub mod engine;
pub mod finding;
pub mod idp;
pub mod inputs;
pub mod rule;
pub mod tokens;
mod write;

pub use config::{load_config, money, Config};
pub use engine::{run, Inputs};
pub use inputs::InputError;
pub use finding::{Confidence, Finding, FindingSet, RuleResult, RuleStatus, Severity, SkippedScope, Subject};
pub use rule::{builtin_rules, load_rules, Rule};
pub use write::{read_findings, write_findings, FINDINGS_JSON, FINDINGS_PARQUET};

use crate::snapshot::SnapshotError;

#[derive(Debug, thiserror::Error)]
pub enum AnalyzeError {
    /// A rule file is malformed.
    #[error("{path}{}: {detail}", if *line > 0 { format!(":{line}") } else { String::new() })]
    Rule { path: String, line: usize, detail: String },

    #[error("{path}: {detail}")]
    Input { path: String, detail: String },

    #[error("{table}: {detail}")]
    Query { table: String, detail: String },

    #[error(transparent)]
    Snapshot(#[from] SnapshotError),

    #[error(transparent)]
    BadInput(#[from] InputError),

    #[error("{path}: cannot write findings: {detail}")]
    Output { path: String, detail: String },
}

impl AnalyzeError {
    pub(crate) fn query(table: &str, e: impl std::fmt::Display) -> Self {
        AnalyzeError::Query { table: table.to_owned(), detail: e.to_string() }
    }
}
