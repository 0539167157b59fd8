//! Running the rules: one polars SQL context with every table registered once under its name,
//! each rule's rows turned into findings, and the snapshot's gaps applied so that "not read" is
//! never reported as "not there".
use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use polars::prelude::*;
use polars::sql::SQLContext;

use super::config::{Config, Ignore};
use super::finding::*;
use super::rule::{GapScope, Rule};
use super::AnalyzeError;
use crate::snapshot::{Gap, Snapshot, TableBuilder};

/// Inputs beside the snapshot, already parsed and validated.
#[derive(Default)]
pub struct Inputs {
    /// `idp_users(email_norm, status, status_changed_at, last_login_at, source)`; None when no
    /// export was given (rules that need one are then skipped, not passed).
    pub idp_users: Option<DataFrame>,
    /// `idp_domains(domain, source)`: the domains the exports cover.
    pub idp_domains: Option<DataFrame>,
    /// Rows for the `authorizations` table from users' exports.
    pub authorizations: Option<DataFrame>,
    /// Email domains that belong to the organisation (lower-case), resolved by the caller: the
    /// config's `org_domains`, else the audit identity's domain.
    pub org_domains: Vec<String>,
    /// The inputs used and what was read from each, for the findings' header.
    pub names: Vec<super::inputs::InputRecord>,
}

pub fn run(snapshot: &Snapshot, inputs: &Inputs, config: &Config, rules: &[Rule]) -> Result<FindingSet, AnalyzeError> {
    crate::stack::with_large_stack(|| run_here(snapshot, inputs, config, rules))
}

fn run_here(snapshot: &Snapshot, inputs: &Inputs, config: &Config, rules: &[Rule]) -> Result<FindingSet, AnalyzeError> {
    let manifest = snapshot.manifest();
    let as_of = manifest.as_of;
    let mut ctx = SQLContext::new();
    for table in crate::snapshot::TABLES {
        let mut lf = snapshot.scan(table)?;
        if *table == "authorizations" {
            if let Some(extra) = &inputs.authorizations {
                lf = concat([lf, extra.clone().lazy()], UnionArgs::default())
                    .map_err(|e| AnalyzeError::query("authorizations", e))?;
            }
        }
        ctx.register(table, lf);
    }
    ctx.register("idp_users", inputs.idp_users.clone().map_or_else(empty_idp_users, Ok)?.lazy());
    ctx.register("idp_domains", inputs.idp_domains.clone().map_or_else(empty_idp_domains, Ok)?.lazy());
    let org = TableBuilder::new()
        .str("domain", inputs.org_domains.iter().map(|d| Some(d.to_lowercase())))
        .build("org_domains")?;
    ctx.register("org_domains", org.lazy());

    let values: BTreeMap<&str, String> = BTreeMap::from([
        ("as_of_epoch", as_of.timestamp().to_string()),
        ("inactive_days", config.inactive_days.to_string()),
        ("invite_stale_days", config.invite_stale_days.to_string()),
        ("seat_price_cents", config.seats.price_per_month_cents.to_string()),
        ("window_since_epoch", manifest.activity_window.since.timestamp().to_string()),
    ]);

    let mut results = Vec::new();
    let mut findings = Vec::new();
    for rule in rules {
        let overrides = config.rule(&rule.id).cloned().unwrap_or_default();
        let severity = overrides.severity.unwrap_or(rule.severity);
        let mut result = RuleResult {
            rule_id: rule.id.clone(),
            title: rule.title.clone(),
            description: rule.description.clone(),
            remediation: rule.remediation.clone(),
            severity,
            status: RuleStatus::Ok,
            findings: 0,
            ignored: 0,
            skipped: Vec::new(),
            error: None,
        };
        if overrides.enabled == Some(false) {
            result.status = RuleStatus::Disabled;
            results.push(result);
            continue;
        }
        if let Some(reason) = precondition(rule, inputs, config, snapshot) {
            result.status = RuleStatus::Skipped;
            result.skipped.push(SkippedScope { scope: "all".into(), reason });
            results.push(result);
            continue;
        }
        let gaps: Vec<&Gap> =
            manifest.gaps.iter().filter(|g| g.tables.iter().any(|t| rule.tables.contains(t))).collect();
        let team_gaps: BTreeSet<String> = gaps.iter().filter_map(|g| g.team_id.clone()).collect();
        let whole_rule_blocked =
            !gaps.is_empty() && (rule.gap_scope == GapScope::Global || gaps.iter().any(|g| g.team_id.is_none()));
        if whole_rule_blocked {
            result.status = RuleStatus::Skipped;
            result.skipped = gaps.iter().map(|g| SkippedScope { scope: "all".into(), reason: gap_reason(g) }).collect();
            results.push(result);
            continue;
        }
        let sql = rule.bind(&values)?;
        let started = std::time::Instant::now();
        let df = match ctx.execute(&sql).and_then(|lf| lf.collect()) {
            Ok(df) => df,
            Err(e) => {
                result.status = RuleStatus::Error;
                result.error = Some(format!("{}: query failed: {e}", rule.origin));
                results.push(result);
                continue;
            }
        };
        let queried = started.elapsed();
        let rows = match rows_to_findings(rule, severity, &df) {
            Ok(rows) => rows,
            Err(e) => {
                result.status = RuleStatus::Error;
                result.error = Some(e);
                results.push(result);
                continue;
            }
        };
        if !team_gaps.is_empty() {
            result.status = RuleStatus::Partial;
            result.skipped = gaps
                .iter()
                .map(|g| SkippedScope {
                    scope: format!("team:{}", g.team_name.clone().unwrap_or_default()),
                    reason: gap_reason(g),
                })
                .collect();
        }
        let mut seen = BTreeSet::new();
        for (team_id, finding) in rows {
            if team_id.as_ref().is_some_and(|t| team_gaps.contains(t)) {
                continue;
            }
            if rule.exempt_service_accounts
                && finding.subject.email.as_deref().is_some_and(|e| config.is_service_account(e))
            {
                continue;
            }
            if overrides.ignore.iter().any(|ig| ignores(ig, &finding, as_of)) {
                result.ignored += 1;
                continue;
            }
            // A rule that returns the same subject twice reports it once.
            if seen.insert(finding.fingerprint.clone()) {
                findings.push(finding);
            }
        }
        result.findings = seen.len();
        tracing::info!(rule = %rule.id, rows = df.height(), ?queried, total = ?started.elapsed(), "rule ran");
        results.push(result);
    }
    findings.sort_by(|a, b| {
        (std::cmp::Reverse(a.severity), &a.rule_id, &a.subject, &a.message).cmp(&(
            std::cmp::Reverse(b.severity),
            &b.rule_id,
            &b.subject,
            &b.message,
        ))
    });
    let complete =
        manifest.complete && results.iter().all(|r| matches!(r.status, RuleStatus::Ok | RuleStatus::Disabled));
    Ok(FindingSet {
        format_version: FindingSet::FORMAT_VERSION,
        snapshot_id: manifest.snapshot_id.clone(),
        as_of,
        complete,
        inputs: inputs.names.clone(),
        rules: results,
        findings,
    })
}

/// Why a rule cannot run at all, before looking at gaps.
fn precondition(rule: &Rule, inputs: &Inputs, config: &Config, snapshot: &Snapshot) -> Option<String> {
    if rule.requires_idp && inputs.idp_users.is_none() {
        return Some("no identity-provider export given (--idp)".into());
    }
    let window = snapshot.manifest().activity_window.days;
    if rule.params.iter().any(|p| p == "inactive_days") && window < config.inactive_days {
        return Some(format!(
            "the snapshot read {window} days of activity, fewer than inactive_days = {}: extract with --activity-days {} or more",
            config.inactive_days, config.inactive_days
        ));
    }
    None
}

fn gap_reason(gap: &Gap) -> String {
    let status = gap.status.map(|s| format!("HTTP {s} ")).unwrap_or_default();
    let id = gap.error_id.clone().unwrap_or_default();
    format!("not read: {} {status}{id}: {}", gap.path, gap.message).replace("  ", " ")
}

fn ignores(ig: &Ignore, f: &Finding, as_of: DateTime<Utc>) -> bool {
    if !ig.applies_on(as_of.date_naive()) {
        return false;
    }
    let s = ig.subject.trim();
    f.subject.email.as_deref().is_some_and(|e| e.eq_ignore_ascii_case(s))
        || f.subject.display() == s
        || f.fingerprint == s
}

/// Columns that name the subject rather than evidence.
const SUBJECT_COLUMNS: &[&str] =
    &["enterprise_account_name", "team_name", "app_name", "email", "item", "team_id", "message", "monthly_cost_cents"];

fn rows_to_findings(rule: &Rule, severity: Severity, df: &DataFrame) -> Result<Vec<(Option<String>, Finding)>, String> {
    let text = |name: &str| -> Result<Option<Vec<Option<String>>>, String> {
        match df.column(name) {
            Ok(c) => column_text(c).map(Some),
            Err(_) => Ok(None),
        }
    };
    let messages = text("message")?.ok_or_else(|| format!("{}: the query returns no `message` column", rule.origin))?;
    let ea = text("enterprise_account_name")?;
    let team = text("team_name")?;
    let team_id = text("team_id")?;
    let app = text("app_name")?;
    let email = text("email")?;
    let item = text("item")?;
    let cost: Option<Vec<Option<i64>>> = match df.column("monthly_cost_cents") {
        Ok(c) => Some(
            c.cast(&DataType::Int64)
                .map_err(|e| format!("{}: monthly_cost_cents: {e}", rule.origin))?
                .i64()
                .map_err(|e| e.to_string())?
                .iter()
                .collect(),
        ),
        Err(_) => None,
    };
    let mut evidence_cols: Vec<(String, Vec<Option<String>>)> = Vec::new();
    for c in df.columns() {
        let name = c.name().to_string();
        if !SUBJECT_COLUMNS.contains(&name.as_str()) {
            evidence_cols.push((name, column_text(c)?));
        }
    }
    let at = |v: &Option<Vec<Option<String>>>, i: usize| v.as_ref().and_then(|v| v[i].clone());
    let mut out = Vec::with_capacity(df.height());
    for i in 0..df.height() {
        let subject = Subject {
            enterprise_account: at(&ea, i),
            team: at(&team, i),
            app: at(&app, i),
            email: at(&email, i),
            item: at(&item, i),
        };
        let evidence = evidence_cols.iter().filter_map(|(k, v)| v[i].clone().map(|s| (k.clone(), s))).collect();
        let fingerprint = Finding::fingerprint_of(&rule.id, &subject);
        out.push((
            at(&team_id, i),
            Finding {
                rule_id: rule.id.clone(),
                severity,
                confidence: rule.confidence,
                title: rule.title.clone(),
                subject,
                message: messages[i].clone().unwrap_or_default(),
                evidence,
                remediation: rule.remediation.clone(),
                monthly_cost_cents: cost.as_ref().and_then(|c| c[i]),
                fingerprint,
            },
        ));
    }
    Ok(out)
}

/// A column as text: strings as they are, lists joined with ", ", timestamps as RFC 3339.
fn column_text(c: &Column) -> Result<Vec<Option<String>>, String> {
    let series = c.as_materialized_series();
    match series.dtype() {
        DataType::List(_) => {
            let list = series.list().map_err(|e| e.to_string())?;
            Ok((0..list.len())
                .map(|i| {
                    list.get_as_series(i).map(|s| {
                        s.cast(&DataType::String)
                            .ok()
                            .and_then(|s| s.str().ok().map(|ca| ca.iter().flatten().collect::<Vec<_>>().join(", ")))
                            .unwrap_or_default()
                    })
                })
                .collect())
        }
        DataType::Datetime(_, _) => {
            let utc = series.cast(&DataType::Datetime(TimeUnit::Milliseconds, None)).map_err(|e| e.to_string())?;
            let ms = utc.cast(&DataType::Int64).map_err(|e| e.to_string())?;
            Ok(ms
                .i64()
                .map_err(|e| e.to_string())?
                .iter()
                .map(|v| {
                    v.and_then(DateTime::<Utc>::from_timestamp_millis)
                        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
                })
                .collect())
        }
        _ => {
            let s = series.cast(&DataType::String).map_err(|e| e.to_string())?;
            Ok(s.str().map_err(|e| e.to_string())?.iter().map(|v| v.map(str::to_owned)).collect())
        }
    }
}

fn empty_idp_users() -> Result<DataFrame, AnalyzeError> {
    Ok(TableBuilder::new()
        .str::<&str>("email_norm", [])
        .str::<&str>("status", [])
        .time("status_changed_at", [])
        .time("last_login_at", [])
        .str::<&str>("source", [])
        .build("idp_users")?)
}

fn empty_idp_domains() -> Result<DataFrame, AnalyzeError> {
    Ok(TableBuilder::new().str::<&str>("domain", []).str::<&str>("source", []).build("idp_domains")?)
}
