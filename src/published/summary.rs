//! The report's `summary.json`, format version 1: the figures of the three reports for machines.
//! Its keys are written in alphabetical order at every level, as the file has always had them.
use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::InputRecordV1;

/// `summary.json`: what `hkaudit report` found, in figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "hkaudit summary.json, format version 1")]
pub struct SummaryV1 {
    /// Always 1 for this format.
    pub format_version: u32,
    pub snapshot: SnapshotInfoV1,
    /// The snapshot read everything and every rule ran over what it needs.
    pub complete: bool,
    /// How many reads failed (the manifest's gaps).
    pub gaps: usize,
    pub scope: ScopeV1,
    pub findings: FindingCountsV1,
    pub cost: CostSummaryV1,
    /// Rows of `certification.csv` that name a grant.
    pub certification_rows: usize,
    /// Scopes whose grants were not read, so the worksheet holds none of them: `team acme-payments`.
    pub certification_not_read: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SnapshotInfoV1 {
    pub id: String,
    /// RFC 3339, UTC.
    pub taken_at: String,
    /// The instant the data reflects, RFC 3339, UTC.
    pub as_of: String,
    pub api_url: String,
    /// The audit identity; empty when the API did not say.
    pub account_email: String,
    pub complete: bool,
    pub findings_complete: bool,
    pub window_days: u32,
    pub window_since: String,
    /// `2026-Q4`: the quarter `as_of` falls in.
    pub review_period: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ScopeV1 {
    pub enterprise_accounts: Vec<String>,
    pub teams: usize,
    pub apps: usize,
    /// People holding a grant the worksheet lists.
    pub people: usize,
    /// The names of the analysis's inputs besides the snapshot.
    pub inputs: Vec<String>,
    /// What each identity-provider export held.
    pub idp_files: Vec<InputRecordV1>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FindingCountsV1 {
    pub total: usize,
    /// Every severity, `info` to `critical`, with its count.
    pub by_severity: BTreeMap<String, usize>,
    /// Every rule of the analysis with its count.
    pub by_rule: BTreeMap<String, usize>,
}

/// Amounts are integer cents of `currency`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CostSummaryV1 {
    /// Always `USD`.
    pub currency: String,
    pub price_per_seat_cents: i64,
    pub minimum_per_team: u32,
    /// Seats of the teams read (totals leave out `excluded`).
    pub seats: u32,
    pub billed_seats: u32,
    pub monthly_cents: i64,
    pub annual_cents: i64,
    pub inactive_cents: i64,
    pub viewer_cents: i64,
    /// What acting on every finding that frees a seat would save per month.
    pub saving_cents: i64,
    /// Teams and accounts left out of the totals because they were not read, by name.
    pub excluded: Vec<String>,
    pub teams: Vec<TeamCostV1>,
    /// Per unique user across each Enterprise Account, when contract pricing is configured.
    pub enterprise: Vec<EnterpriseCostV1>,
}

/// One team's seats. A team whose members were not read says why in `not_read` and has `null`
/// counts: unknown, not zero.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TeamCostV1 {
    pub team: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub not_read: Option<String>,
    pub seats: Option<u32>,
    pub billed_seats: Option<u32>,
    pub monthly_cents: Option<i64>,
    pub inactive_seats: Option<u32>,
    pub saving_cents: Option<i64>,
    /// Priced through the Enterprise contract instead of per team.
    pub enterprise_priced: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct EnterpriseCostV1 {
    pub enterprise_account: String,
    /// Set when a team of the account was not read: its unique users are a lower bound, and the
    /// account is left out of the totals.
    pub not_read: Option<String>,
    pub unique_users: u32,
    /// The price per unique user per month, as text (`$25.00`).
    pub price: String,
    pub monthly_cents: i64,
    pub monthly: String,
    pub inactive_users: u32,
    pub saving_cents: i64,
    pub saving: String,
}
