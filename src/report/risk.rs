//! The risk report, for security reviewers: findings grouped by severity and rule with their
//! evidence, and what no rule could judge (values unknown, rules skipped or partial).
use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::analyze::{money, Finding, FindingSet, RuleResult, RuleStatus, Severity};

#[derive(Debug, Clone, Serialize)]
pub struct RiskReport {
    /// `2FA unknown for 3 members of teams acme-data, acme-web`, one per kind of value across rules.
    pub unknown: Vec<String>,
    pub total: usize,
    pub by_severity: Vec<(String, usize)>,
    pub groups: Vec<SeverityGroup>,
    pub rules: Vec<RuleResult>,
    pub rules_not_ok: Vec<RuleNotOk>,
}

/// A rule that did not fully run, as the completeness section tells it.
#[derive(Debug, Clone, Serialize)]
pub struct RuleNotOk {
    pub rule_id: String,
    pub status: RuleStatus,
    /// Scopes not judged, by name: `team acme-payments`.
    pub not_judged: Vec<String>,
    /// `2FA unknown for 3 members of team acme-web`.
    pub unknown: Vec<String>,
    /// What was not read where, and other reasons it did not run.
    pub why: Vec<String>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SeverityGroup {
    pub severity: String,
    pub rules: Vec<RuleGroup>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RuleGroup {
    pub rule_id: String,
    pub title: String,
    pub description: String,
    pub remediation: String,
    pub findings: Vec<FindingView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FindingView {
    pub subject: String,
    pub message: String,
    pub evidence: Vec<(String, String)>,
    pub cost: String,
    pub fingerprint: String,
}

/// `finding_cents`: what the seats of each finding's person cost per month, by fingerprint (a
/// finding about someone holding no seat has none).
pub fn risk(set: &FindingSet, finding_cents: &BTreeMap<String, i64>) -> RiskReport {
    let mut groups = Vec::new();
    for sev in Severity::ALL.iter().rev() {
        let mut by_rule: BTreeMap<String, Vec<&Finding>> = BTreeMap::new();
        for f in set.findings.iter().filter(|f| f.severity == *sev) {
            by_rule.entry(f.rule_id.clone()).or_default().push(f);
        }
        if by_rule.is_empty() {
            continue;
        }
        let rules = by_rule
            .into_iter()
            .map(|(rule_id, fs)| RuleGroup {
                title: fs.first().map(|f| f.title.clone()).unwrap_or_default(),
                remediation: fs.first().map(|f| f.remediation.clone()).unwrap_or_default(),
                description: set
                    .rules
                    .iter()
                    .find(|r| r.rule_id == rule_id)
                    .map(|r| r.description.clone())
                    .unwrap_or_default(),
                findings: fs
                    .iter()
                    .map(|f| FindingView {
                        subject: f.subject.display(),
                        message: f.message.clone(),
                        evidence: f.evidence.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
                        cost: finding_cents
                            .get(&f.fingerprint)
                            .copied()
                            .or(f.monthly_cost_cents)
                            .map(money)
                            .unwrap_or_default(),
                        fingerprint: f.fingerprint.clone(),
                    })
                    .collect(),
                rule_id,
            })
            .collect();
        groups.push(SeverityGroup { severity: sev.as_str().to_owned(), rules });
    }
    let counts = set.count_by_severity();
    // One line per kind of unknown value, across the rules that needed it (admins and the other
    // members are counted by different rules, never twice).
    let mut unknown: BTreeMap<&str, (usize, BTreeSet<&str>, Vec<&str>)> = BTreeMap::new();
    for r in &set.rules {
        for u in &r.unknown {
            let e = unknown.entry(u.what.as_str()).or_default();
            e.0 += u.count;
            e.1.extend(u.teams.iter().map(String::as_str));
            e.2.push(r.rule_id.as_str());
        }
    }
    let unknown = unknown
        .into_iter()
        .map(|(what, (count, teams, rules))| {
            let line = crate::analyze::UnknownValues {
                what: what.to_owned(),
                count,
                teams: teams.into_iter().map(str::to_owned).collect(),
            }
            .line();
            format!("{line} (not judged by {})", rules.join(", "))
        })
        .collect();
    RiskReport {
        unknown,
        total: set.findings.len(),
        by_severity: Severity::ALL
            .iter()
            .rev()
            .map(|s| (s.as_str().to_owned(), counts.get(s).copied().unwrap_or(0)))
            .collect(),
        groups,
        rules: set.rules.clone(),
        rules_not_ok: set
            .rules
            .iter()
            .filter(|r| !matches!(r.status, RuleStatus::Ok))
            .map(|r| RuleNotOk {
                rule_id: r.rule_id.clone(),
                status: r.status,
                not_judged: r.skipped.iter().filter(|s| s.scope != "all").map(|s| s.label()).collect(),
                unknown: r.unknown.iter().map(|u| u.line()).collect(),
                why: r.skipped.iter().map(|s| s.reason.clone()).collect(),
                error: r.error.clone(),
            })
            .collect(),
    }
}
