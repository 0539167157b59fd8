//! `findings.json`, format version 1: what `hkaudit analyze` found in one snapshot.
//!
//! The strings of a finding are borrowed while writing (a large analysis writes hundreds of
//! thousands of findings without copying them) and owned once read.
use std::borrow::Cow;
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `findings.json`: the findings of one analysis of one snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "hkaudit findings.json, format version 1")]
pub struct FindingSetV1<'a> {
    /// Always 1 for this format; a reader refuses another.
    pub format_version: u32,
    /// The `snapshot_id` of the snapshot's manifest.
    pub snapshot_id: String,
    /// The instant the snapshot's data reflects.
    pub as_of: DateTime<Utc>,
    /// False when the snapshot had gaps or a rule was skipped for missing data: the findings are
    /// then a lower bound, not the whole truth.
    pub complete: bool,
    /// Every input besides the snapshot, with what was read from it.
    pub inputs: Vec<InputRecordV1>,
    /// One entry per rule, in the order they ran.
    pub rules: Vec<RuleResultV1>,
    pub findings: Vec<FindingV1<'a>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SeverityV1 {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ConfidenceV1 {
    Low,
    Medium,
    High,
}

/// What `hkaudit plan` does about a finding (the rule's `fix` header).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum FixV1 {
    RemoveTeamMember,
    RemoveAppCollaborator,
    RevokeInvitation,
    RevokeAuthorization,
    RemoveAllAccess,
    #[default]
    Manual,
}

/// Why acting on a finding frees a seat (the rule's `saving-reason` header).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum SavingReasonV1 {
    Left,
    Deprovisioned,
    Inactive,
}

/// What the certification worksheet recommends for the grants a finding is about (the rule's
/// `certify` header).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum CertifyV1 {
    Revoke,
    #[default]
    Review,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RuleStatusV1 {
    /// Ran over everything it needs: its findings are the whole truth.
    Ok,
    /// Ran, but some scopes were not read or some values were unknown (see `skipped`, `unknown`).
    Partial,
    /// Did not run: nothing it needs was read, or an input it needs was not given.
    Skipped,
    Disabled,
    /// The query failed.
    Error,
}

/// Who or what a finding is about; rules fill the parts that apply.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SubjectV1<'a> {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub enterprise_account: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub team: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub app: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub email: Option<Cow<'a, str>>,
    /// A further key inside the subject: an authorization id, the identity provider that reports
    /// a person.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub item: Option<Cow<'a, str>>,
}

/// One finding: what a reviewer must act on, with the evidence that shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FindingV1<'a> {
    /// The rule's id: its file name in `queries/` without `.sql`.
    pub rule_id: Cow<'a, str>,
    pub severity: SeverityV1,
    pub confidence: ConfidenceV1,
    pub title: Cow<'a, str>,
    pub subject: SubjectV1<'a>,
    pub message: Cow<'a, str>,
    /// Every other column the rule returned, as text.
    pub evidence: Cow<'a, BTreeMap<String, String>>,
    pub remediation: Cow<'a, str>,
    /// Absent in files written before it existed: read as `manual`.
    #[serde(default)]
    pub fix: FixV1,
    /// Absent in files written before it existed: read as `review`.
    #[serde(default)]
    pub certify: CertifyV1,
    /// Acting on the finding frees the seat of the subject's team membership. Absent in files
    /// written before it existed: read as false.
    #[serde(default)]
    pub frees_seat: bool,
    /// Why acting on it frees a seat (the rule's `saving-reason`), for the saving's breakdown.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub saving_reason: Option<SavingReasonV1>,
    /// Monthly cost of the access this finding is about, in cents, where a seat is involved.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub monthly_cost_cents: Option<i64>,
    /// Stable across snapshots for the same rule and subject: how `diff` tells new from persisting.
    pub fingerprint: Cow<'a, str>,
}

/// A scope a rule could not judge (or not wholly), and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SkippedScopeV1 {
    /// `all`, or `team:<name>` / `app:<name>` / `enterprise_account:<name>`.
    pub scope: String,
    pub reason: String,
    /// The team, app or enterprise account id, when the scope has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// For an enterprise account: the teams inside it, whose findings the gap reaches too.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub teams: Vec<String>,
}

/// Values a rule needed and did not have: those rows could be neither passed nor reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct UnknownValuesV1 {
    /// What was unknown: `2FA`, `SSO federation`.
    pub what: String,
    /// Members (rows) the rule could not judge.
    pub count: usize,
    /// The teams they are in, by name.
    pub teams: Vec<String>,
}

/// What happened to one rule in the analysis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RuleResultV1 {
    pub rule_id: String,
    pub title: String,
    pub description: String,
    pub remediation: String,
    #[serde(default)]
    pub fix: FixV1,
    #[serde(default)]
    pub certify: CertifyV1,
    #[serde(default)]
    pub frees_seat: bool,
    pub severity: SeverityV1,
    pub status: RuleStatusV1,
    pub findings: usize,
    /// Findings matched by an `ignore` entry of the config (with a reason), not reported.
    pub ignored: usize,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub skipped: Vec<SkippedScopeV1>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub unknown: Vec<UnknownValuesV1>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error: Option<String>,
}

/// One input of an analysis besides the snapshot. Files written before inputs were described list
/// only their names (a string); those still read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(from = "InputRecordRepr")]
pub struct InputRecordV1 {
    /// `okta:users.csv`, `export:alice.json`: the `source` value rows from this file carry.
    pub name: String,
    /// `idp`, `signins` or `authorizations`.
    pub kind: String,
    /// The path as given.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub file: Option<String>,
    /// What was read from an identity-provider export.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub idp: Option<IdpInputSummaryV1>,
    /// What a sign-in log covers (`kind` `signins`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub signins: Option<SigninCoverageV1>,
}

/// An input as a reader accepts it: an object, or only its name in files written before inputs
/// were described.
#[derive(Deserialize, JsonSchema)]
#[serde(untagged)]
enum InputRecordRepr {
    /// Only the name (older files).
    Name(String),
    Full {
        /// `okta:users.csv`, `export:alice.json`: the `source` value rows from this file carry.
        name: String,
        /// `idp`, `signins` or `authorizations`.
        kind: String,
        /// The path as given.
        #[serde(default)]
        file: Option<String>,
        /// What was read from an identity-provider export.
        #[serde(default)]
        idp: Option<Box<IdpInputSummaryV1>>,
        /// What a sign-in log covers.
        #[serde(default)]
        signins: Option<Box<SigninCoverageV1>>,
    },
}

impl From<InputRecordRepr> for InputRecordV1 {
    fn from(r: InputRecordRepr) -> Self {
        match r {
            InputRecordRepr::Name(name) => {
                let kind = if name.starts_with("export:") { "authorizations" } else { "idp" };
                InputRecordV1 { name, kind: kind.to_owned(), file: None, idp: None, signins: None }
            }
            InputRecordRepr::Full { name, kind, file, idp, signins } => {
                InputRecordV1 { name, kind, file, idp: idp.map(|b| *b), signins: signins.map(|b| *b) }
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum TextEncodingV1 {
    #[serde(rename = "UTF-8")]
    Utf8,
    #[serde(rename = "UTF-8 with BOM")]
    Utf8Bom,
    #[serde(rename = "UTF-16LE with BOM")]
    Utf16LeBom,
    #[serde(rename = "UTF-16BE with BOM")]
    Utf16BeBom,
}

/// A value that could not be read and was left unknown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct InputWarningV1 {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub column: Option<String>,
    pub message: String,
}

/// What an identity-provider export held, as read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct IdpInputSummaryV1 {
    /// The format detected from the header (or named with `--idp-format`), e.g. `okta-password-health`.
    pub format: String,
    /// Its human name, e.g. "Okta Password Health report".
    pub format_name: String,
    /// Whether `--idp-format` named it.
    #[serde(default)]
    pub format_given: bool,
    pub encoding: TextEncodingV1,
    /// `,`, `;`, `tab`, or `json`.
    pub delimiter: String,
    /// A line set aside before the header (`#TYPE …`, `sep=;`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub preamble: Option<String>,
    /// Data rows read (one per user in the file).
    pub rows: usize,
    /// Distinct users.
    pub users: usize,
    pub active: usize,
    pub suspended: usize,
    pub deprovisioned: usize,
    /// Entra guests (B2B users of another organisation).
    pub guests: usize,
    /// Rows whose login is not an email address.
    pub non_email_logins: usize,
    /// Email domains an absence from this export means something for.
    pub domains: Vec<String>,
    /// `derived` or `idp_domains`.
    pub domains_from: String,
    /// How `03/04/2026`-style dates were read: `day-first`, `month-first`, or `undetermined`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub date_order: Option<String>,
    /// Optional values that could not be read and were left unknown.
    pub warnings: usize,
    /// The first warnings, in file order.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub warning_list: Vec<InputWarningV1>,
}

/// What one identity-provider sign-in log covers: the period it speaks for and what was kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SigninCoverageV1 {
    /// The format detected from the content, e.g. `okta-log-json`, `entra-signins-csv`.
    pub format: String,
    pub encoding: TextEncodingV1,
    /// The first event of any application in the file.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub first: Option<DateTime<Utc>>,
    /// The last event of any application in the file.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub last: Option<DateTime<Utc>>,
    /// Whole days from `first` to `last`: a log shorter than `inactive_days` can clear a seat
    /// (a sign-in in it) but never condemn one.
    pub span_days: i64,
    /// The application names taken for Heroku that occur in the file.
    pub apps: Vec<String>,
    /// Sign-ins to Heroku kept (any outcome).
    pub rows: usize,
    /// Events of other applications, or that were not sign-ins: left out.
    pub other_rows: usize,
    /// Values that could not be read and were left unknown.
    pub warnings: usize,
    /// The first warnings, in file order.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub warning_list: Vec<InputWarningV1>,
}
