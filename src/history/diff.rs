//! What changed between two snapshots: who joined and left each team and Enterprise Account,
//! role and permission changes, which findings are new, resolved or persisting (by fingerprint),
//! and how seats and spend moved.
//!
//! A grant inside a scope that either snapshot did not read (a gap) is neither a joiner nor a
//! leaver: it is listed as unknown, because "not read" is not "not there".
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Serialize;

use super::HistoryError;
use crate::analyze::{read_findings, Config, Finding, FindingSet};
use crate::report::grants::{load_grants, Grant, GrantKey, TEAM_MEMBERSHIP};
use crate::report::model::seat_cost;
use crate::snapshot::{Gap, Snapshot};

#[derive(Debug, Clone, Serialize)]
pub struct SnapshotRef {
    pub id: String,
    pub as_of: String,
    pub complete: bool,
    pub hkaudit_version: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct GrantChange {
    pub key: GrantKey,
    pub email: String,
    pub role: String,
    pub permissions: Vec<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Change {
    pub key: GrantKey,
    pub email: String,
    pub old: String,
    pub new: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FindingRef {
    pub rule_id: String,
    pub severity: String,
    pub subject: String,
    pub message: String,
    pub fingerprint: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct FindingDiff {
    pub new: Vec<FindingRef>,
    pub resolved: Vec<FindingRef>,
    pub persisting: Vec<FindingRef>,
    /// Gone from NEW, but the rule did not run there over the finding's scope: not resolved,
    /// just not checked again.
    pub not_rechecked: Vec<FindingRef>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TeamCostDelta {
    pub team: String,
    pub old_seats: u32,
    pub new_seats: u32,
    pub old_monthly_cents: i64,
    pub new_monthly_cents: i64,
    pub delta_cents: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct CostDelta {
    pub old_seats: u32,
    pub new_seats: u32,
    pub old_monthly_cents: i64,
    pub new_monthly_cents: i64,
    pub delta_cents: i64,
    pub teams: Vec<TeamCostDelta>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SnapshotDiff {
    pub format_version: u32,
    pub old: SnapshotRef,
    pub new: SnapshotRef,
    pub joiners: Vec<GrantChange>,
    pub leavers: Vec<GrantChange>,
    pub role_changes: Vec<Change>,
    pub permission_changes: Vec<Change>,
    /// Grants in scopes one of the snapshots did not read: neither joined nor left, unknown.
    pub unknown: Vec<GrantChange>,
    /// None when either snapshot has no findings.json (run `hkaudit analyze` on both).
    pub findings: Option<FindingDiff>,
    pub cost: CostDelta,
    pub warnings: Vec<String>,
}

fn snapshot_ref(s: &Snapshot) -> SnapshotRef {
    let m = s.manifest();
    SnapshotRef {
        id: m.snapshot_id.clone(),
        as_of: m.as_of.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        complete: m.complete,
        hkaudit_version: m.hkaudit_version.clone(),
    }
}

/// Which grants a gap leaves unknown: per team for team-scoped gaps, everything of a kind for
/// organisation-wide ones.
struct Unread {
    teams: BTreeSet<String>,
    all_team_members: bool,
    all_enterprise_members: bool,
    all_app_permissions: bool,
}

impl Unread {
    fn of(gaps: &[Gap]) -> Self {
        let mut u = Unread {
            teams: BTreeSet::new(),
            all_team_members: false,
            all_enterprise_members: false,
            all_app_permissions: false,
        };
        for g in gaps {
            let touches = |t: &str| g.tables.iter().any(|x| x == t);
            if touches("team_members") || touches("app_permissions") {
                match &g.team_name {
                    Some(team) => {
                        u.teams.insert(team.clone());
                    }
                    None => {
                        u.all_team_members |= touches("team_members");
                        u.all_app_permissions |= touches("app_permissions");
                    }
                }
            }
            if touches("enterprise_members") {
                u.all_enterprise_members = true;
            }
        }
        u
    }

    fn covers(&self, key: &GrantKey) -> bool {
        match key.grant_type.as_str() {
            TEAM_MEMBERSHIP => self.all_team_members || self.teams.contains(&key.team),
            crate::report::grants::ENTERPRISE_MEMBERSHIP => self.all_enterprise_members,
            _ => self.all_app_permissions || (!key.team.is_empty() && self.teams.contains(&key.team)),
        }
    }
}

fn change(g: &Grant) -> GrantChange {
    GrantChange { key: g.key.clone(), email: g.email.clone(), role: g.role.clone(), permissions: g.permissions.clone() }
}

fn finding_ref(f: &Finding) -> FindingRef {
    FindingRef {
        rule_id: f.rule_id.clone(),
        severity: f.severity.as_str().to_owned(),
        subject: f.subject.display(),
        message: f.message.clone(),
        fingerprint: f.fingerprint.clone(),
    }
}

pub fn diff(old_dir: &Path, new_dir: &Path, config: &Config) -> Result<SnapshotDiff, HistoryError> {
    let old = Snapshot::open(old_dir)?;
    let new = Snapshot::open(new_dir)?;
    let mut warnings = Vec::new();
    if old.manifest().snapshot_id == new.manifest().snapshot_id {
        warnings.push("OLD and NEW are the same snapshot".to_owned());
    }
    if old.manifest().as_of > new.manifest().as_of {
        warnings.push(format!(
            "OLD ({}) is newer than NEW ({}): joiners and leavers read backwards",
            old.manifest().snapshot_id,
            new.manifest().snapshot_id
        ));
    }
    let unread_old = Unread::of(&old.manifest().gaps);
    let unread_new = Unread::of(&new.manifest().gaps);
    for (label, s) in [("OLD", &old), ("NEW", &new)] {
        if !s.manifest().complete {
            warnings.push(format!(
                "{label} snapshot {} is incomplete ({} gaps): changes in what it did not read are listed as unknown",
                s.manifest().snapshot_id,
                s.manifest().gaps.len()
            ));
        }
    }

    let old_grants: BTreeMap<GrantKey, Grant> = load_grants(&old)?.into_iter().map(|g| (g.key.clone(), g)).collect();
    let new_grants: BTreeMap<GrantKey, Grant> = load_grants(&new)?.into_iter().map(|g| (g.key.clone(), g)).collect();
    let (mut joiners, mut leavers, mut unknown, mut role_changes, mut permission_changes) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (key, g) in &new_grants {
        match old_grants.get(key) {
            None if unread_old.covers(key) => unknown.push(change(g)),
            None => joiners.push(change(g)),
            Some(o) => {
                if o.role != g.role {
                    role_changes.push(Change {
                        key: key.clone(),
                        email: g.email.clone(),
                        old: o.role.clone(),
                        new: g.role.clone(),
                    });
                } else if o.permissions != g.permissions {
                    // A role change already explains the permissions it implies.
                    permission_changes.push(Change {
                        key: key.clone(),
                        email: g.email.clone(),
                        old: o.permissions.join(", "),
                        new: g.permissions.join(", "),
                    });
                }
            }
        }
    }
    for (key, g) in &old_grants {
        if !new_grants.contains_key(key) {
            if unread_new.covers(key) {
                unknown.push(change(g));
            } else {
                leavers.push(change(g));
            }
        }
    }

    let old_findings = read_findings(old.dir()).ok();
    let new_findings = read_findings(new.dir()).ok();
    let findings = match (&old_findings, &new_findings) {
        (Some(o), Some(n)) => Some(finding_diff(o, n)),
        _ => {
            warnings.push(
                "findings are compared only when both snapshots were analyzed: run `hkaudit analyze` on each"
                    .to_owned(),
            );
            None
        }
    };

    let old_cost = seat_cost(&old, old_findings.as_ref(), config)?;
    let new_cost = seat_cost(&new, new_findings.as_ref(), config)?;
    let mut teams: BTreeMap<String, TeamCostDelta> = BTreeMap::new();
    for t in &old_cost.teams {
        teams.insert(
            t.team.clone(),
            TeamCostDelta {
                team: t.team.clone(),
                old_seats: t.seats,
                new_seats: 0,
                old_monthly_cents: t.monthly_cents,
                new_monthly_cents: 0,
                delta_cents: 0,
            },
        );
    }
    for t in &new_cost.teams {
        let e = teams.entry(t.team.clone()).or_insert(TeamCostDelta {
            team: t.team.clone(),
            old_seats: 0,
            new_seats: 0,
            old_monthly_cents: 0,
            new_monthly_cents: 0,
            delta_cents: 0,
        });
        e.new_seats = t.seats;
        e.new_monthly_cents = t.monthly_cents;
    }
    let teams: Vec<TeamCostDelta> = teams
        .into_values()
        .map(|mut t| {
            t.delta_cents = t.new_monthly_cents - t.old_monthly_cents;
            t
        })
        .collect();

    Ok(SnapshotDiff {
        format_version: 1,
        old: snapshot_ref(&old),
        new: snapshot_ref(&new),
        joiners,
        leavers,
        role_changes,
        permission_changes,
        unknown,
        findings,
        cost: CostDelta {
            old_seats: old_cost.seats,
            new_seats: new_cost.seats,
            old_monthly_cents: old_cost.monthly_cents,
            new_monthly_cents: new_cost.monthly_cents,
            delta_cents: new_cost.monthly_cents - old_cost.monthly_cents,
            teams,
        },
        warnings,
    })
}

fn finding_diff(old: &FindingSet, new: &FindingSet) -> FindingDiff {
    use crate::analyze::RuleStatus;
    let old_fp: BTreeSet<&str> = old.findings.iter().map(|f| f.fingerprint.as_str()).collect();
    let new_fp: BTreeSet<&str> = new.findings.iter().map(|f| f.fingerprint.as_str()).collect();
    // Did the rule look at this finding's scope in NEW?
    let rechecked = |f: &Finding| match new.rules.iter().find(|r| r.rule_id == f.rule_id) {
        None => false,
        Some(r) => match r.status {
            RuleStatus::Ok => true,
            RuleStatus::Partial => {
                !r.skipped.iter().any(|s| f.subject.team.as_ref().is_some_and(|t| s.scope == format!("team:{t}")))
            }
            RuleStatus::Skipped | RuleStatus::Disabled | RuleStatus::Error => false,
        },
    };
    let gone: Vec<&Finding> = old.findings.iter().filter(|f| !new_fp.contains(f.fingerprint.as_str())).collect();
    FindingDiff {
        new: new.findings.iter().filter(|f| !old_fp.contains(f.fingerprint.as_str())).map(finding_ref).collect(),
        resolved: gone.iter().filter(|f| rechecked(f)).map(|f| finding_ref(f)).collect(),
        persisting: new.findings.iter().filter(|f| old_fp.contains(f.fingerprint.as_str())).map(finding_ref).collect(),
        not_rechecked: gone.iter().filter(|f| !rechecked(f)).map(|f| finding_ref(f)).collect(),
    }
}
