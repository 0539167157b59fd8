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
use crate::snapshot::scope::{Place, Scopes};
use crate::snapshot::{Gap, Snapshot, TableBuilder};

/// Inputs beside the snapshot, already parsed and validated.
#[derive(Default)]
pub struct Inputs {
    /// `idp_users(email_norm, status, status_changed_at, last_login_at, source)`; None when no
    /// export was given (rules that need one are then skipped, not passed).
    pub idp_users: Option<DataFrame>,
    /// `idp_domains(domain, source)`: the domains the exports cover.
    pub idp_domains: Option<DataFrame>,
    /// `signins(email_norm, at, source, app, outcome)`: sign-ins to Heroku from `--signins` logs.
    pub signins: Option<DataFrame>,
    /// `signin_logs(source, idp, first_at, last_at, heroku_rows)`: what period each log covers.
    pub signin_logs: Option<DataFrame>,
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
    ctx.register("signins", inputs.signins.clone().map_or_else(empty_signins, Ok)?.lazy());
    ctx.register("signin_logs", inputs.signin_logs.clone().map_or_else(empty_signin_logs, Ok)?.lazy());
    let org = TableBuilder::new()
        .str("domain", inputs.org_domains.iter().map(|d| Some(d.to_lowercase())))
        .build("org_domains")?;
    ctx.register("org_domains", org.lazy());
    // Built once, and only when a rule reads it: rules join it many times.
    if rules.iter().any(|r| r.tables.iter().chain(&r.evidence_tables).any(|t| t == "people")) {
        let started = std::time::Instant::now();
        let people =
            ctx.execute(PEOPLE_SQL).and_then(|lf| lf.collect()).map_err(|e| AnalyzeError::query("people", e))?;
        tracing::info!(rows = people.height(), elapsed = ?started.elapsed(), "people built");
        ctx.register("people", people.lazy());
    }

    let mut scopes = Scopes::read(snapshot)?;
    scopes.learn(&manifest.gaps);

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
            fix: rule.fix,
            certify: rule.certify,
            frees_seat: rule.frees_seat,
            severity,
            status: RuleStatus::Ok,
            findings: 0,
            ignored: 0,
            skipped: Vec::new(),
            unknown: Vec::new(),
            error: None,
        };
        if overrides.enabled == Some(false) {
            result.status = RuleStatus::Disabled;
            results.push(result);
            continue;
        }
        if let Some(reason) = precondition(rule, inputs, config, snapshot) {
            result.status = RuleStatus::Skipped;
            result.skipped.push(SkippedScope { scope: "all".into(), reason, id: None, teams: Vec::new() });
            results.push(result);
            continue;
        }
        let touching = touching_gaps(rule, &manifest.gaps);
        result.skipped = not_judged(&touching, &scopes);
        let skip = match &rule.gap_scope {
            GapScope::Global(why) => {
                if !touching.is_empty() {
                    result.skipped.push(SkippedScope {
                        scope: "all".into(),
                        reason: format!("this rule cannot judge part of the data ({why}), and some was not read"),
                        id: None,
                        teams: Vec::new(),
                    });
                }
                !touching.is_empty()
            }
            GapScope::Person => false,
            _ => touching.iter().any(|t| t.place == Place::All && !t.by_person && !t.lists_teams),
        };
        if skip {
            result.status = RuleStatus::Skipped;
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
        let mut seen = BTreeSet::new();
        let mut unknown: BTreeMap<String, (usize, BTreeSet<String>)> = BTreeMap::new();
        let labels: Vec<String> = touching.iter().map(|t| qualifier(t, &scopes)).collect();
        for (keys, mut finding) in rows {
            let place = row_place(&keys, &scopes);
            let mut qualifiers: BTreeSet<&str> = BTreeSet::new();
            let mut withheld = false;
            for (t, label) in touching.iter().zip(&labels) {
                match effect(&rule.gap_scope, t, &place, &scopes) {
                    Effect::Withhold => withheld = true,
                    Effect::Qualify => {
                        qualifiers.insert(label);
                    }
                    Effect::None => {}
                }
            }
            if withheld {
                continue;
            }
            if let Some(what) = keys.unknown {
                let entry = unknown.entry(what).or_default();
                entry.0 += 1;
                entry.1.extend(finding.subject.team.clone());
                continue;
            }
            if !qualifiers.is_empty() {
                let list = qualifiers.into_iter().collect::<Vec<_>>().join(", ");
                finding.message = format!("{} (also possibly in {list}: not read)", finding.message);
                finding.evidence.insert("not_read".into(), list);
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
        result.unknown = unknown
            .into_iter()
            .map(|(what, (count, teams))| UnknownValues { what, count, teams: teams.into_iter().collect() })
            .collect();
        if !touching.is_empty() || !result.unknown.is_empty() {
            result.status = RuleStatus::Partial;
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

/// `people(email_norm, email, person)`: every email Heroku shows for someone with access or a
/// token, and the person it belongs to: the Heroku user id shown with that email, else
/// `email:<email_norm>`. One person has several emails when one user id appears under several.
const PEOPLE_SQL: &str = "
SELECT email_norm, FIRST(email) AS email, COALESCE(MIN(user_id), 'email:' || FIRST(email_norm)) AS person
FROM (
  SELECT email_norm, email, user_id FROM team_members
  UNION ALL
  SELECT email_norm, email, user_id FROM enterprise_members
  UNION ALL
  SELECT email_norm, email, user_id FROM team_invitations
  UNION ALL
  SELECT email_norm, email, user_id FROM app_permissions
  UNION ALL
  SELECT user_email_norm AS email_norm, user_email AS email, user_id FROM authorizations
)
WHERE email_norm IS NOT NULL
GROUP BY email_norm
";

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

/// A gap on some of the tables a rule depends on.
struct Touch<'a> {
    gap: &'a Gap,
    place: Place,
    /// Every table it touches is joined to rows through the person (`by_person`).
    by_person: bool,
    /// It touches only `teams`: whole teams may be missing, but no row of a listed team is.
    lists_teams: bool,
}

fn touching_gaps<'a>(rule: &Rule, gaps: &'a [Gap]) -> Vec<Touch<'a>> {
    gaps.iter()
        .filter_map(|g| {
            let touched: Vec<&String> = g.tables.iter().filter(|t| rule.tables.contains(t)).collect();
            (!touched.is_empty()).then(|| Touch {
                gap: g,
                place: Place::of(g),
                by_person: touched.iter().all(|t| rule.by_person.contains(t)),
                lists_teams: touched.iter().all(|t| t.as_str() == "teams"),
            })
        })
        .collect()
}

/// One entry per scope the touching gaps cover, named, with what was not read there.
fn not_judged(touching: &[Touch<'_>], scopes: &Scopes) -> Vec<SkippedScope> {
    let mut by_place: BTreeMap<&Place, Vec<&Gap>> = BTreeMap::new();
    for t in touching {
        by_place.entry(&t.place).or_default().push(t.gap);
    }
    by_place
        .into_iter()
        .map(|(place, gaps)| SkippedScope {
            scope: scopes.key(place),
            reason: scopes.reason(place, &gaps),
            id: match place {
                Place::All => None,
                Place::Team(id) | Place::App(id) | Place::Enterprise(id) => Some(id.clone()),
            },
            teams: match place {
                Place::Enterprise(id) => scopes.teams_of(id),
                _ => Vec::new(),
            },
        })
        .collect()
}

/// The scope keys a row carries, completed through containment (an app's team, a team's
/// enterprise account).
struct RowPlace {
    team: Option<String>,
    app: Option<String>,
    ea: Option<String>,
}

fn row_place(keys: &RowKeys, scopes: &Scopes) -> RowPlace {
    let team =
        keys.team_id.clone().or_else(|| keys.app_id.as_deref().and_then(|a| scopes.app_team(a)).map(str::to_owned));
    let ea = keys.ea_id.clone().or_else(|| team.as_deref().and_then(|t| scopes.team_ea(t)).map(str::to_owned));
    RowPlace { team, app: keys.app_id.clone(), ea }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Effect {
    /// The gap has nothing to do with this row.
    None,
    /// The row stands, but may be incomplete: the person may also be in the unread scope.
    Qualify,
    /// The row's own scope was not read: it is not judged.
    Withhold,
}

/// How one gap bears on one row, by the rule's `gap_scope` (see `rule`'s documentation).
fn effect(scope: &GapScope, t: &Touch<'_>, row: &RowPlace, scopes: &Scopes) -> Effect {
    if *scope == GapScope::Person || t.by_person {
        return Effect::Qualify;
    }
    let enterprise_rule = *scope == GapScope::Enterprise;
    let is = |v: &Option<String>, x: &str| v.as_deref() == Some(x);
    // Teams missing from a list hide no row of a listed team, but may hold an account's admins.
    let whole_teams = if enterprise_rule { Effect::Qualify } else { Effect::None };
    match &t.place {
        Place::All if t.lists_teams => whole_teams,
        Place::All => Effect::Withhold,
        Place::Enterprise(e) if is(&row.ea, e) => {
            if t.lists_teams {
                whole_teams
            } else {
                Effect::Withhold
            }
        }
        Place::Enterprise(_) => Effect::None,
        Place::Team(x) if is(&row.team, x) => {
            if t.lists_teams {
                Effect::None
            } else {
                Effect::Withhold
            }
        }
        // A team inside the account a row is about.
        Place::Team(x)
            if enterprise_rule && row.team.is_none() && scopes.team_ea(x).is_some_and(|e| is(&row.ea, e)) =>
        {
            Effect::Qualify
        }
        Place::Team(_) => Effect::None,
        Place::App(a) if is(&row.app, a) => Effect::Withhold,
        // An app inside the team or account a row is about.
        Place::App(a) if row.app.is_none() => {
            let team = scopes.app_team(a);
            let inside_team = team.is_some_and(|tm| is(&row.team, tm));
            let inside_ea = enterprise_rule && team.and_then(|tm| scopes.team_ea(tm)).is_some_and(|e| is(&row.ea, e));
            if inside_team || inside_ea {
                Effect::Qualify
            } else {
                Effect::None
            }
        }
        Place::App(_) => Effect::None,
    }
}

/// What a qualified finding says was not read: the scope's name, or for an organisation-wide
/// list, the list.
fn qualifier(t: &Touch<'_>, scopes: &Scopes) -> String {
    match &t.place {
        Place::All => t.gap.endpoint.clone(),
        place => scopes.label(place),
    }
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

/// Columns that name the subject or its scope, or steer the engine, rather than evidence.
const SUBJECT_COLUMNS: &[&str] = &[
    "enterprise_account_name",
    "team_name",
    "app_name",
    "email",
    "item",
    "team_id",
    "app_id",
    "enterprise_account_id",
    "unknown",
    "message",
    "monthly_cost_cents",
    "confidence",
];

/// A row's scope ids, and whether it is a value the rule could not judge.
struct RowKeys {
    team_id: Option<String>,
    app_id: Option<String>,
    ea_id: Option<String>,
    /// Set when the row is not a finding: what the rule needed and did not have.
    unknown: Option<String>,
}

fn rows_to_findings(rule: &Rule, severity: Severity, df: &DataFrame) -> Result<Vec<(RowKeys, Finding)>, String> {
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
    let app_id = text("app_id")?;
    let ea_id = text("enterprise_account_id")?;
    let unknown = text("unknown")?;
    if let Some(key) = rule.gap_scope.key_column() {
        if df.column(key).is_err() {
            return Err(format!(
                "{}: `gap_scope` says each row has a scope, but the query returns no `{key}` column",
                rule.origin
            ));
        }
    }
    let confidence = match text("confidence")? {
        Some(values) => Some(
            values
                .iter()
                .map(|v| v.as_deref().map(str::parse::<Confidence>).transpose())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| format!("{}: the `confidence` column: {e}", rule.origin))?,
        ),
        None => None,
    };
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
        let keys = RowKeys {
            team_id: at(&team_id, i),
            app_id: at(&app_id, i),
            ea_id: at(&ea_id, i),
            unknown: at(&unknown, i),
        };
        out.push((
            keys,
            Finding {
                rule_id: rule.id.clone(),
                severity,
                // A row's own `confidence` (when the rule returns one) overrides the header's.
                confidence: confidence.as_ref().and_then(|c| c[i]).unwrap_or(rule.confidence),
                title: rule.title.clone(),
                subject,
                message: messages[i].clone().unwrap_or_default(),
                evidence,
                remediation: rule.remediation.clone(),
                fix: rule.fix,
                certify: rule.certify,
                frees_seat: rule.frees_seat,
                saving_reason: rule.saving_reason,
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

fn empty_signins() -> Result<DataFrame, AnalyzeError> {
    Ok(super::signins::signins_frame(&[])?)
}

fn empty_signin_logs() -> Result<DataFrame, AnalyzeError> {
    Ok(super::signins::signin_logs_frame(&[])?)
}

fn empty_idp_domains() -> Result<DataFrame, AnalyzeError> {
    Ok(TableBuilder::new().str::<&str>("domain", []).str::<&str>("source", []).build("idp_domains")?)
}
