//! Trends across a folder of snapshots (`hkaudit report --history DIR`): seats and spend per team
//! over time, open findings by severity over time, and how long findings take to be resolved.
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::certification::ts;
use super::ReportError;
use crate::analyze::cost::seat_cost;
use crate::analyze::{money, read_findings, Config, Finding, FindingSet, Severity};
use crate::snapshot::Snapshot;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TrendPoint {
    pub snapshot_id: String,
    pub as_of: DateTime<Utc>,
    pub complete: bool,
    pub seats_by_team: BTreeMap<String, u32>,
    pub spend_by_team_cents: BTreeMap<String, i64>,
    /// Spend over the teams that were read (see `not_read_teams`).
    pub spend_cents: i64,
    /// Teams this snapshot could not read: they have no count here, and the total is partial.
    pub not_read_teams: Vec<String>,
    /// None when the snapshot was never analyzed.
    pub open_by_severity: Option<BTreeMap<String, usize>>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Trends {
    pub points: Vec<TrendPoint>,
    /// Findings seen in one snapshot and gone (with the rule having run over them) in a later one.
    pub resolved: usize,
    /// Mean days from the first snapshot that showed a finding to the first that no longer did.
    pub mean_days_to_resolve: Option<f64>,
    /// Snapshot folders skipped, with why (unreadable, unknown format).
    pub skipped: Vec<String>,
}

/// Every snapshot folder directly inside `dir` (not `latest`, not temporary folders), by `as_of`.
pub fn load_trends(dir: &Path, config: &Config) -> Result<Trends, ReportError> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        crate::analyze::InputError::new(
            dir,
            None,
            format!("--history: cannot read the folder: {e}"),
            "pass the folder that holds the snapshots",
        )
    })?;
    let mut snapshots = Vec::new();
    let mut skipped = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.')
            || name == crate::snapshot::LATEST
            || !path.is_dir()
            || !path.join("manifest.json").exists()
        {
            continue;
        }
        match Snapshot::open(&path) {
            Ok(s) => snapshots.push(s),
            Err(e) => skipped.push(format!("{name}: {}", crate::errors::chain(&e))),
        }
    }
    snapshots.sort_by(|a, b| {
        (a.manifest().as_of, &a.manifest().snapshot_id).cmp(&(b.manifest().as_of, &b.manifest().snapshot_id))
    });

    let mut points = Vec::new();
    let mut sets: Vec<(DateTime<Utc>, Option<FindingSet>)> = Vec::new();
    for s in &snapshots {
        let findings = read_findings(s.dir()).ok();
        let cost = seat_cost(s, findings.as_ref().map(|f| f.findings.as_slice()), config)?;
        points.push(TrendPoint {
            snapshot_id: s.manifest().snapshot_id.clone(),
            as_of: s.manifest().as_of,
            complete: s.manifest().complete,
            // A team a snapshot did not read has no count there, not a count of zero.
            seats_by_team: cost
                .teams
                .iter()
                .filter(|t| t.not_read.is_none())
                .map(|t| (t.team.clone(), t.seats))
                .collect(),
            spend_by_team_cents: cost
                .teams
                .iter()
                .filter(|t| t.not_read.is_none())
                .map(|t| (t.team.clone(), t.monthly_cents))
                .collect(),
            spend_cents: cost.monthly_cents,
            not_read_teams: cost.teams.iter().filter(|t| t.not_read.is_some()).map(|t| t.team.clone()).collect(),
            open_by_severity: findings.as_ref().map(|f| {
                let counts = f.count_by_severity();
                Severity::ALL.iter().map(|s| (s.as_str().to_owned(), counts.get(s).copied().unwrap_or(0))).collect()
            }),
        });
        sets.push((s.manifest().as_of, findings));
    }
    let (resolved, mean) = resolution_times(&sets);
    Ok(Trends { points, resolved, mean_days_to_resolve: mean, skipped })
}

/// Trends with display strings, so templates do no arithmetic.
#[derive(Debug, Clone, Serialize)]
pub struct TrendsView {
    pub data: Trends,
    pub rows: Vec<TrendRow>,
    pub mean_days_to_resolve: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct TrendRow {
    pub snapshot_id: String,
    pub as_of: String,
    /// Seats over the teams read, with the unread ones named beside it.
    pub seats: String,
    pub spend: String,
    pub open: String,
    pub complete: bool,
}

/// A total over the teams that were read, naming the ones that were not: a reader must not take
/// it for the whole organisation's.
fn partial(total: String, not_read: &[String]) -> String {
    if not_read.is_empty() {
        total
    } else {
        format!("{total} (not read: {})", not_read.join(", "))
    }
}

impl TrendsView {
    pub fn new(data: Trends) -> Self {
        let rows = data
            .points
            .iter()
            .map(|p| TrendRow {
                snapshot_id: p.snapshot_id.clone(),
                as_of: ts(p.as_of),
                seats: partial(p.seats_by_team.values().sum::<u32>().to_string(), &p.not_read_teams),
                spend: partial(money(p.spend_cents), &p.not_read_teams),
                open: match &p.open_by_severity {
                    Some(c) => Severity::ALL
                        .iter()
                        .rev()
                        .map(|s| format!("{} {}", c.get(s.as_str()).copied().unwrap_or(0), s.as_str()))
                        .collect::<Vec<_>>()
                        .join(", "),
                    None => "not analyzed".into(),
                },
                complete: p.complete,
            })
            .collect();
        let mean_days_to_resolve = match data.mean_days_to_resolve {
            Some(d) => format!("{d:.1} days over {} resolved findings", data.resolved),
            None => "no finding resolved yet".into(),
        };
        TrendsView { data, rows, mean_days_to_resolve }
    }
}

/// For each finding (by fingerprint), the first snapshot it appears in and the first later
/// analyzed snapshot where it is gone and its rule ran: the days between are its time to resolve.
/// A finding that came back is counted again from its return.
fn resolution_times(sets: &[(DateTime<Utc>, Option<FindingSet>)]) -> (usize, Option<f64>) {
    let mut open: BTreeMap<String, (DateTime<Utc>, Finding)> = BTreeMap::new();
    let mut durations = Vec::new();
    for (as_of, set) in sets {
        let Some(set) = set else { continue };
        let present: BTreeSet<&str> = set.findings.iter().map(|f| f.fingerprint.as_str()).collect();
        // Gone counts as resolved only where the rule judged the finding's scope again.
        open.retain(|fp, (since, finding)| {
            let judged = set.rules.iter().find(|r| r.rule_id == finding.rule_id).is_some_and(|r| r.rechecked(finding));
            let gone = !present.contains(fp.as_str()) && judged;
            if gone {
                durations.push((*as_of - *since).num_seconds() as f64 / 86_400.0);
            }
            !gone
        });
        for f in &set.findings {
            open.entry(f.fingerprint.clone()).or_insert((*as_of, f.clone()));
        }
    }
    let mean = if durations.is_empty() { None } else { Some(durations.iter().sum::<f64>() / durations.len() as f64) };
    (durations.len(), mean)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::{Confidence, RuleResult, RuleStatus, Subject};
    use chrono::TimeZone;

    fn at(day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, day, 0, 0, 0).single().expect("valid")
    }

    fn set(day: u32, fingerprints: &[&str], status: RuleStatus) -> (DateTime<Utc>, Option<FindingSet>) {
        let finding = |fp: &str| Finding {
            rule_id: "r".into(),
            severity: Severity::Low,
            confidence: Confidence::High,
            title: String::new(),
            subject: Subject::default(),
            message: String::new(),
            evidence: Default::default(),
            remediation: String::new(),
            fix: Default::default(),
            certify: Default::default(),
            frees_seat: false,
            saving_reason: None,
            monthly_cost_cents: None,
            fingerprint: fp.into(),
        };
        let rule = RuleResult {
            rule_id: "r".into(),
            title: String::new(),
            description: String::new(),
            remediation: String::new(),
            fix: Default::default(),
            certify: Default::default(),
            frees_seat: false,
            severity: Severity::Low,
            status,
            findings: 0,
            ignored: 0,
            skipped: vec![],
            unknown: vec![],
            error: None,
        };
        (
            at(day),
            Some(FindingSet {
                format_version: 1,
                snapshot_id: day.to_string(),
                as_of: at(day),
                complete: true,
                inputs: vec![],
                rules: vec![rule],
                findings: fingerprints.iter().map(|f| finding(f)).collect(),
            }),
        )
    }

    #[test]
    fn days_to_resolve_run_from_first_seen_to_first_gone() {
        // a: seen day 1, gone day 11 → 10 days. b: seen day 6, gone day 11 → 5 days. c: never gone.
        let sets = vec![
            set(1, &["a"], RuleStatus::Ok),
            set(6, &["a", "b", "c"], RuleStatus::Ok),
            set(11, &["c"], RuleStatus::Ok),
        ];
        assert_eq!(resolution_times(&sets), (2, Some(7.5)));
    }

    #[test]
    fn a_finding_missing_because_its_rule_was_skipped_is_not_resolved() {
        let sets = vec![set(1, &["a"], RuleStatus::Ok), set(6, &[], RuleStatus::Skipped), set(11, &[], RuleStatus::Ok)];
        assert_eq!(resolution_times(&sets), (1, Some(10.0)), "resolved only when the rule ran again, on day 11");
    }
}
