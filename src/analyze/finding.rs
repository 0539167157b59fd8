//! Findings: what a reviewer must act on, with the evidence that shows it.
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] =
        [Severity::Info, Severity::Low, Severity::Medium, Severity::High, Severity::Critical];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    pub fn parse(word: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == word.trim().to_ascii_lowercase())
    }

    /// The exit code `analyze` uses when this is the highest severity at or above `--fail-on`.
    pub fn exit_code(self) -> u8 {
        match self {
            Severity::Info => 10,
            Severity::Low => 11,
            Severity::Medium => 12,
            Severity::High => 13,
            Severity::Critical => 14,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Severity::ALL
            .into_iter()
            .find(|v| v.as_str() == s.trim().to_ascii_lowercase())
            .ok_or_else(|| format!("unknown severity `{s}`: use one of info, low, medium, high, critical"))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    Low,
    Medium,
    High,
}

impl FromStr for Confidence {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "low" => Ok(Confidence::Low),
            "medium" => Ok(Confidence::Medium),
            "high" => Ok(Confidence::High),
            other => Err(format!("unknown confidence `{other}`: use low, medium or high")),
        }
    }
}

/// What `hkaudit plan` does about a rule's findings (the rule's `-- fix:` header).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Fix {
    /// Remove the subject's team membership (`team` and `email`).
    RemoveTeamMember,
    /// Remove the subject's collaboration on its app (`app` and `email`).
    RemoveAppCollaborator,
    /// Revoke the subject's pending invitation to its team (`team` and `email`).
    RevokeInvitation,
    /// Revoke the OAuth authorization `item`, as its owner `email`.
    RevokeAuthorization,
    /// Remove every grant and invitation of the person (`email`, under all their emails).
    RemoveAllAccess,
    /// No safe automatic fix: the plan repeats the remediation as a step done by hand. Also what
    /// a rule without the header, or a findings.json written before it existed, gets.
    #[default]
    Manual,
}

impl Fix {
    pub const ALL: [Fix; 6] = [
        Fix::RemoveTeamMember,
        Fix::RemoveAppCollaborator,
        Fix::RevokeInvitation,
        Fix::RevokeAuthorization,
        Fix::RemoveAllAccess,
        Fix::Manual,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Fix::RemoveTeamMember => "remove-team-member",
            Fix::RemoveAppCollaborator => "remove-app-collaborator",
            Fix::RevokeInvitation => "revoke-invitation",
            Fix::RevokeAuthorization => "revoke-authorization",
            Fix::RemoveAllAccess => "remove-all-access",
            Fix::Manual => "manual",
        }
    }

    /// Whether acting on a finding removes the subject's team membership, and so can free a seat.
    pub fn removes_team_membership(self) -> bool {
        matches!(self, Fix::RemoveTeamMember | Fix::RemoveAllAccess)
    }
}

impl FromStr for Fix {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Fix::ALL
            .into_iter()
            .find(|f| f.as_str() == s.trim())
            .ok_or_else(|| format!("unknown fix `{s}`: use one of {}", Fix::ALL.map(Fix::as_str).join(", ")))
    }
}

/// Why acting on a finding frees a seat (the rule's `-- saving-reason:` header): the cost
/// report breaks its saving down by it. When two findings free one seat, the first reason in
/// [`SavingReason::ALL`] names it, so a seat is counted once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SavingReason {
    /// The person left: removed from the Enterprise Account, still in its teams.
    Left,
    /// The identity provider switched them off.
    Deprovisioned,
    /// The seat is not used.
    Inactive,
}

impl SavingReason {
    pub const ALL: [SavingReason; 3] = [SavingReason::Left, SavingReason::Deprovisioned, SavingReason::Inactive];

    pub fn as_str(self) -> &'static str {
        match self {
            SavingReason::Left => "left",
            SavingReason::Deprovisioned => "deprovisioned",
            SavingReason::Inactive => "inactive",
        }
    }
}

impl FromStr for SavingReason {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SavingReason::ALL.into_iter().find(|r| r.as_str() == s.trim()).ok_or_else(|| {
            format!(
                "unknown saving-reason `{s}`: use one of {}",
                SavingReason::ALL.map(SavingReason::as_str).join(", ")
            )
        })
    }
}

/// What the access-certification worksheet recommends for a grant a rule's finding is about (the
/// rule's `-- certify:` header).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Certify {
    /// Recommend revoking the grant.
    Revoke,
    /// Recommend keeping it if the reviewer can justify it.
    #[default]
    Review,
}

impl Certify {
    pub const ALL: [Certify; 2] = [Certify::Revoke, Certify::Review];

    pub fn as_str(self) -> &'static str {
        match self {
            Certify::Revoke => "revoke",
            Certify::Review => "review",
        }
    }
}

impl FromStr for Certify {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Certify::ALL.into_iter().find(|c| c.as_str() == s.trim()).ok_or_else(|| {
            format!("unknown certify `{s}`: use one of {}", Certify::ALL.map(Certify::as_str).join(", "))
        })
    }
}

/// Who or what a finding is about. Every part is optional; rules fill what applies.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Subject {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enterprise_account: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// A further key inside the subject: an authorization id, the identity provider that
    /// reports a person.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item: Option<String>,
}

impl Subject {
    /// `enterprise / team / app / item / email`, the parts that apply.
    pub fn display(&self) -> String {
        [&self.enterprise_account, &self.team, &self.app, &self.item, &self.email]
            .into_iter()
            .flatten()
            .cloned()
            .collect::<Vec<_>>()
            .join(" / ")
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub rule_id: String,
    pub severity: Severity,
    pub confidence: Confidence,
    pub title: String,
    pub subject: Subject,
    pub message: String,
    /// Every other column the rule returned, as text, in column order.
    pub evidence: BTreeMap<String, String>,
    pub remediation: String,
    /// What acting on it means (the rule's `fix`, `certify` and `frees-seat` headers), carried on
    /// every finding so that `plan`, the worksheet and the cost report need only findings.json.
    /// A findings.json written before these existed reads as `manual`, `review`, `false`.
    #[serde(default)]
    pub fix: Fix,
    #[serde(default)]
    pub certify: Certify,
    /// Acting on it frees the seat of the subject's team membership: the cost report's saving.
    #[serde(default)]
    pub frees_seat: bool,
    /// Why it frees a seat (`saving-reason`), for the saving's breakdown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub saving_reason: Option<SavingReason>,
    /// Monthly cost of the access this finding is about, in cents, where a seat is involved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub monthly_cost_cents: Option<i64>,
    /// Stable across snapshots for the same rule and subject: how `diff` tells new from persisting.
    pub fingerprint: String,
}

impl Finding {
    pub fn fingerprint_of(rule_id: &str, subject: &Subject) -> String {
        let mut h = Sha256::new();
        for part in [
            Some(rule_id.to_owned()),
            subject.enterprise_account.clone(),
            subject.team.clone(),
            subject.app.clone(),
            subject.item.clone(),
            subject.email.as_ref().map(|e| e.to_lowercase()),
        ] {
            h.update(part.unwrap_or_default().as_bytes());
            h.update([0u8]);
        }
        hex::encode(&h.finalize()[..8])
    }
}

/// What happened to one rule in a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleStatus {
    /// Ran over everything it needs: its findings are the whole truth.
    Ok,
    /// Ran, but some scopes were not read or some values were unknown: findings there were
    /// withheld or qualified (see `skipped` and `unknown`).
    Partial,
    /// Did not run: nothing it needs was read, or an input it needs was not given.
    Skipped,
    Disabled,
    /// The query failed.
    Error,
}

/// A scope a rule could not judge (or not wholly), and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedScope {
    /// `all`, or `team:<name>` / `app:<name>` / `enterprise_account:<name>`: names, as a reader
    /// knows them (the id is beside it).
    pub scope: String,
    /// What was not read there and why, the scope named first and its id only as a detail.
    pub reason: String,
    /// The team, app or enterprise account id, when the scope has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// For an enterprise account: the teams inside it, whose findings the gap reaches too.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub teams: Vec<String>,
}

impl SkippedScope {
    /// The scope as a reader says it: `team acme-payments`, `app acme-billing`,
    /// `enterprise account acme`, `everything`.
    pub fn label(&self) -> String {
        match self.scope.split_once(':') {
            Some(("team", name)) => format!("team {name}"),
            Some(("app", name)) => format!("app {name}"),
            Some(("enterprise_account", name)) => format!("enterprise account {name}"),
            _ if self.scope == "all" => "everything".to_owned(),
            _ => self.scope.clone(),
        }
    }
}

/// Values a rule needed and did not have: those rows could be neither passed nor reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnknownValues {
    /// What was unknown, as a reader says it: `2FA`, `SSO federation`.
    pub what: String,
    /// Members (rows) the rule could not judge.
    pub count: usize,
    /// The teams they are in, by name.
    pub teams: Vec<String>,
}

impl UnknownValues {
    /// `2FA unknown for 3 members of teams acme-data, acme-web`.
    pub fn line(&self) -> String {
        let members = if self.count == 1 { "member" } else { "members" };
        match self.teams.as_slice() {
            [] => format!("{} unknown for {} {members}", self.what, self.count),
            [team] => format!("{} unknown for {} {members} of team {team}", self.what, self.count),
            teams => format!("{} unknown for {} {members} of teams {}", self.what, self.count, teams.join(", ")),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleResult {
    pub rule_id: String,
    pub title: String,
    pub description: String,
    pub remediation: String,
    #[serde(default)]
    pub fix: Fix,
    #[serde(default)]
    pub certify: Certify,
    #[serde(default)]
    pub frees_seat: bool,
    pub severity: Severity,
    pub status: RuleStatus,
    pub findings: usize,
    /// Findings matched by an `ignore` entry of the config (with a reason), not reported.
    pub ignored: usize,
    /// Scopes not judged (or only partly), each with what was not read there.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub skipped: Vec<SkippedScope>,
    /// Values the rule needed and did not have (a null 2FA flag): those members were not judged.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub unknown: Vec<UnknownValues>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error: Option<String>,
}

impl RuleResult {
    /// Did this run judge the finding's subject, so that its absence means it is resolved? A
    /// person-wide finding is judged again only by a run that read everything; a team's or an
    /// app's when its team, app and enterprise account were read.
    pub fn rechecked(&self, f: &Finding) -> bool {
        match self.status {
            RuleStatus::Ok => true,
            RuleStatus::Skipped | RuleStatus::Disabled | RuleStatus::Error => false,
            RuleStatus::Partial => {
                let s = &f.subject;
                // A person-wide finding may sit in any unread scope or unknown value.
                if s.team.is_none() && s.app.is_none() {
                    return false;
                }
                let unknown_here = self
                    .unknown
                    .iter()
                    .any(|u| u.teams.is_empty() || s.team.as_ref().is_some_and(|t| u.teams.contains(t)));
                !unknown_here
                    && !self.skipped.iter().any(|k| {
                        k.scope == "all"
                            || s.team.as_ref().is_some_and(|t| k.scope == format!("team:{t}") || k.teams.contains(t))
                            || s.app.as_ref().is_some_and(|a| k.scope == format!("app:{a}"))
                            || s.enterprise_account
                                .as_ref()
                                .is_some_and(|e| k.scope == format!("enterprise_account:{e}"))
                    })
            }
        }
    }
}

/// `findings.json`: the frozen, versioned output of `analyze`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FindingSet {
    pub format_version: u32,
    pub snapshot_id: String,
    pub as_of: chrono::DateTime<chrono::Utc>,
    /// False when the snapshot had gaps or a rule was skipped for missing data: the findings
    /// are then a lower bound, not the whole truth.
    pub complete: bool,
    /// Every input besides the snapshot, with what was read from it (an older findings.json's
    /// plain names still read).
    pub inputs: Vec<super::inputs::InputRecord>,
    pub rules: Vec<RuleResult>,
    pub findings: Vec<Finding>,
}

impl FindingSet {
    pub const FORMAT_VERSION: u32 = 1;

    pub fn highest_severity(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.severity).max()
    }

    pub fn count_by_severity(&self) -> BTreeMap<Severity, usize> {
        let mut counts = BTreeMap::new();
        for f in &self.findings {
            *counts.entry(f.severity).or_insert(0) += 1;
        }
        counts
    }
}
