//! The formats other tools read, as types of their own: `findings.json` ([`FindingSetV1`]) and the
//! report's `summary.json` ([`SummaryV1`]). They are separate from the internal types on purpose:
//! an internal change cannot change a published format without a change here, and a change here
//! changes the JSON Schema generated from these types (`docs/findings.schema.json`,
//! `docs/summary.schema.json`), which a test keeps current. Adding an optional field is
//! compatible; removing or renaming one needs a new format version.
//!
//! This module uses no other module of hkaudit: the stages convert their internal types to and
//! from these ones.
mod findings;
mod summary;

pub use findings::{
    CertifyV1, ConfidenceV1, FindingSetV1, FindingV1, FixV1, IdpInputSummaryV1, InputRecordV1, InputWarningV1,
    RuleResultV1, RuleStatusV1, SavingReasonV1, SeverityV1, SigninCoverageV1, SkippedScopeV1, SubjectV1,
    TextEncodingV1, UnknownValuesV1,
};
pub use summary::{CostSummaryV1, EnterpriseCostV1, FindingCountsV1, ScopeV1, SnapshotInfoV1, SummaryV1, TeamCostV1};

/// `docs/findings.schema.json`: the JSON Schema of `findings.json`.
pub fn findings_schema() -> serde_json::Value {
    schemars::schema_for!(FindingSetV1<'static>).to_value()
}

/// `docs/summary.schema.json`: the JSON Schema of the report's `summary.json`.
pub fn summary_schema() -> serde_json::Value {
    schemars::schema_for!(SummaryV1).to_value()
}

/// The schema files in `docs/`, by name, as they must read (pretty-printed, one newline at the end).
pub fn schema_files() -> Vec<(&'static str, String)> {
    [("findings.schema.json", findings_schema()), ("summary.schema.json", summary_schema())]
        .into_iter()
        .map(|(name, schema)| {
            let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
            text.push('\n');
            (name, text)
        })
        .collect()
}
