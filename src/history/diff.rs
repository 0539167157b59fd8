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
use crate::analyze::cost::{seat_cost, SeatCost};
use crate::analyze::{read_findings, Config, Finding, FindingSet};
use crate::snapshot::grants::{load_grants, Grant, GrantKey, Unread};
use crate::snapshot::Snapshot;

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
    /// Set when either snapshot did not read the team's members: its seats are unknown there,
    /// so it has no change and is left out of the totals.
    pub not_read: Option<String>,
    pub old_seats: u32,
    pub new_seats: u32,
    pub old_monthly_cents: i64,
    pub new_monthly_cents: i64,
    pub delta_cents: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct CostDelta {
    /// Teams left out of the totals because one snapshot did not read them, by name.
    pub excluded: Vec<String>,
    /// `excluding acme-web (not read in NEW)`, said beside the totals; empty when none.
    pub excluded_note: String,
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
    /// The scopes each snapshot did not read, by name: `NEW: team acme-web not read: …`.
    pub not_read: Vec<String>,
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
    let unread_old = Unread::of(&old)?;
    let unread_new = Unread::of(&new)?;
    let mut not_read = Vec::new();
    for (label, s, unread) in [("OLD", &old, &unread_old), ("NEW", &new, &unread_new)] {
        if !s.manifest().complete {
            let scopes: Vec<&str> = unread.scopes().iter().map(|u| u.label.as_str()).collect();
            let what = if scopes.is_empty() { String::new() } else { format!(": {} not read", scopes.join(", ")) };
            warnings.push(format!(
                "{label} snapshot {} is incomplete ({} gaps){what}; changes in what it did not read are listed as unknown",
                s.manifest().snapshot_id,
                s.manifest().gaps.len()
            ));
        }
        not_read.extend(unread.scopes().iter().map(|u| format!("{label}: {}", u.reason)));
    }

    let old_list = load_grants(&old)?;
    let new_list = load_grants(&new)?;
    let listed = |s: &Snapshot| -> Result<BTreeSet<String>, HistoryError> {
        let teams = crate::snapshot::rows::Rows::new("teams", s.read("teams")?);
        Ok(teams.str("name")?.into_iter().flatten().collect())
    };
    let (old_teams, new_teams) = (listed(&old)?, listed(&new)?);
    let old_grants: BTreeMap<GrantKey, Grant> = old_list.into_iter().map(|g| (g.key.clone(), g)).collect();
    let new_grants: BTreeMap<GrantKey, Grant> = new_list.into_iter().map(|g| (g.key.clone(), g)).collect();
    let (mut joiners, mut leavers, mut unknown, mut role_changes, mut permission_changes) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (key, g) in &new_grants {
        match old_grants.get(key) {
            None if unread_old.covers(key, &old_teams).is_some() => unknown.push(change(g)),
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
            if unread_new.covers(key, &new_teams).is_some() {
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

    let old_cost = seat_cost(&old, old_findings.as_ref().map(|f| f.findings.as_slice()), config)?;
    let new_cost = seat_cost(&new, new_findings.as_ref().map(|f| f.findings.as_slice()), config)?;
    let cost = cost_delta(&old_cost, &new_cost);
    Ok(SnapshotDiff {
        format_version: 1,
        old: snapshot_ref(&old),
        new: snapshot_ref(&new),
        joiners,
        leavers,
        role_changes,
        permission_changes,
        unknown,
        not_read,
        findings,
        cost,
        warnings,
    })
}

/// Seats and spend per team, compared only where both snapshots read the team: a team one of
/// them did not read has no change, and the totals leave it out and say so.
fn cost_delta(old: &SeatCost, new: &SeatCost) -> CostDelta {
    let mut teams: BTreeMap<String, TeamCostDelta> = BTreeMap::new();
    let blank = |team: &str| TeamCostDelta {
        team: team.to_owned(),
        not_read: None,
        old_seats: 0,
        new_seats: 0,
        old_monthly_cents: 0,
        new_monthly_cents: 0,
        delta_cents: 0,
    };
    let mut why: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for (label, report) in [("OLD", old), ("NEW", new)] {
        for t in &report.teams {
            let e = teams.entry(t.team.clone()).or_insert_with(|| blank(&t.team));
            if t.not_read.is_some() {
                why.entry(t.team.clone()).or_default().push(label);
            }
            if label == "OLD" {
                (e.old_seats, e.old_monthly_cents) = (t.seats, t.monthly_cents);
            } else {
                (e.new_seats, e.new_monthly_cents) = (t.seats, t.monthly_cents);
            }
        }
    }
    let mut excluded = Vec::new();
    let teams: Vec<TeamCostDelta> = teams
        .into_values()
        .map(|mut t| {
            match why.get(&t.team) {
                Some(sides) => {
                    t.not_read = Some(format!("not read in {}", sides.join(" and ")));
                    excluded.push(format!("{} ({})", t.team, t.not_read.as_deref().unwrap_or_default()));
                }
                None => t.delta_cents = t.new_monthly_cents - t.old_monthly_cents,
            }
            t
        })
        .collect();
    let counted = || teams.iter().filter(|t| t.not_read.is_none());
    // Enterprise contract pricing is compared only where both snapshots read the whole account.
    let ea_cents = |r: &SeatCost, other: &SeatCost| -> i64 {
        r.enterprise
            .iter()
            .filter(|e| e.not_read.is_none())
            .filter(|e| {
                other.enterprise.iter().any(|o| o.enterprise_account == e.enterprise_account && o.not_read.is_none())
            })
            .map(|e| e.monthly_cents)
            .sum()
    };
    let old_monthly = counted().map(|t| t.old_monthly_cents).sum::<i64>() + ea_cents(old, new);
    let new_monthly = counted().map(|t| t.new_monthly_cents).sum::<i64>() + ea_cents(new, old);
    let excluded_note = if excluded.is_empty() { String::new() } else { format!("excluding {}", excluded.join(", ")) };
    CostDelta {
        old_seats: counted().map(|t| t.old_seats).sum(),
        new_seats: counted().map(|t| t.new_seats).sum(),
        old_monthly_cents: old_monthly,
        new_monthly_cents: new_monthly,
        delta_cents: new_monthly - old_monthly,
        excluded,
        excluded_note,
        teams,
    }
}

fn finding_diff(old: &FindingSet, new: &FindingSet) -> FindingDiff {
    let old_fp: BTreeSet<&str> = old.findings.iter().map(|f| f.fingerprint.as_str()).collect();
    let new_fp: BTreeSet<&str> = new.findings.iter().map(|f| f.fingerprint.as_str()).collect();
    // Did the rule look at this finding's scope in NEW?
    let rechecked = |f: &Finding| new.rules.iter().find(|r| r.rule_id == f.rule_id).is_some_and(|r| r.rechecked(f));
    let gone: Vec<&Finding> = old.findings.iter().filter(|f| !new_fp.contains(f.fingerprint.as_str())).collect();
    FindingDiff {
        new: new.findings.iter().filter(|f| !old_fp.contains(f.fingerprint.as_str())).map(finding_ref).collect(),
        resolved: gone.iter().filter(|f| rechecked(f)).map(|f| finding_ref(f)).collect(),
        persisting: new.findings.iter().filter(|f| old_fp.contains(f.fingerprint.as_str())).map(finding_ref).collect(),
        not_rechecked: gone.iter().filter(|f| !rechecked(f)).map(|f| finding_ref(f)).collect(),
    }
}
