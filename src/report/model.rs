//! The view model: everything the three readers see, computed once from the snapshot, its
//! findings and the config. Templates only lay it out; every number and decision is made here.
use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, Utc};
use serde::Serialize;

use super::frame::Rows;
use super::grants::{self, Unread, UnreadScope};
use super::ReportError;
use crate::analyze::{money, Config, Finding, FindingSet, RuleResult, RuleStatus, Severity};
use crate::snapshot::email_norm as norm;
use crate::snapshot::{Gap, Snapshot};

/// Rules whose findings on a grant recommend revoking it in the certification worksheet.
const REVOKE_RULES: &[&str] =
    &["inactive-seat", "enterprise-removal-not-cascaded", "idp-deprovisioned-member", "stale-invitation"];
pub const ROLES: [&str; 4] = ["admin", "member", "viewer", "collaborator"];

#[derive(Debug, Clone, Serialize)]
pub struct ReportModel {
    pub snapshot: SnapshotInfo,
    pub gaps: Vec<Gap>,
    /// The gaps as a reader needs them: the scope by name, the id as a detail.
    pub not_read: Vec<GapView>,
    /// Scopes whose grants were not read, so the worksheet holds none of them.
    pub certification_missing: Vec<UnreadScope>,
    pub scope: Scope,
    pub cost: CostReport,
    pub risk: RiskReport,
    pub certification: Vec<CertRow>,
    /// Certification rows grouped for the per-team HTML view.
    pub certification_by_team: Vec<CertGroup>,
    /// Days since each seat holder's last activity (None: none inside the window), for the chart.
    #[serde(skip)]
    pub seat_days_inactive: Vec<Option<i64>>,
    /// Across a folder of snapshots, when `--history` is given.
    pub trends: Option<TrendsView>,
}

/// Trends with display strings, so templates do no arithmetic.
#[derive(Debug, Clone, Serialize)]
pub struct TrendsView {
    pub data: super::trends::Trends,
    pub rows: Vec<TrendRow>,
    pub mean_days_to_resolve: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct TrendRow {
    pub snapshot_id: String,
    pub as_of: String,
    pub seats: u32,
    pub spend: String,
    pub open: String,
    pub complete: bool,
}

impl TrendsView {
    pub fn new(data: super::trends::Trends) -> Self {
        let rows = data
            .points
            .iter()
            .map(|p| TrendRow {
                snapshot_id: p.snapshot_id.clone(),
                as_of: ts(p.as_of),
                seats: p.seats_by_team.values().sum(),
                spend: money(p.spend_cents),
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

/// One failed read, for the completeness tables.
#[derive(Debug, Clone, Serialize)]
pub struct GapView {
    /// `team acme-payments`, `app acme-billing`, `enterprise account acme`, `the whole organisation`.
    pub scope: String,
    /// `team id 824f…`, when the scope has one.
    pub id: String,
    /// The endpoint template (`GET /teams/{team}/members`), free of ids.
    pub endpoint: String,
    pub path: String,
    pub tables: Vec<String>,
    /// `HTTP 403 forbidden: You do not have access to this team.`
    pub failure: String,
}

impl GapView {
    fn of(g: &Gap, names: &crate::analyze::scope::Scopes) -> GapView {
        use crate::analyze::scope::{failure, Place, Scopes};
        let place = Place::of(g);
        GapView {
            scope: names.label(&place),
            id: Scopes::id_detail(&place).unwrap_or_default(),
            endpoint: g.endpoint.clone(),
            path: g.path.clone(),
            tables: g.tables.clone(),
            failure: failure(g),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct SnapshotInfo {
    pub id: String,
    pub taken_at: String,
    pub as_of: String,
    pub api_url: String,
    pub account_email: String,
    pub complete: bool,
    pub findings_complete: bool,
    pub window_days: u32,
    pub window_since: String,
    pub review_period: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Scope {
    pub enterprise_accounts: Vec<String>,
    pub teams: usize,
    pub apps: usize,
    pub people: usize,
    pub inputs: Vec<String>,
    /// What each identity-provider export held, as analyze read it.
    pub idp_files: Vec<crate::analyze::InputRecord>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TeamCost {
    pub team: String,
    pub enterprise_account: String,
    /// Set when the team's members were not read: its counts are unknown, shown as "not read",
    /// and left out of every total.
    pub not_read: Option<String>,
    pub admins: u32,
    pub members: u32,
    pub viewers: u32,
    pub collaborators: u32,
    pub seats: u32,
    /// Seats billed: at least the configured minimum per team (Teams pricing).
    pub billed_seats: u32,
    pub monthly_cents: i64,
    pub annual_cents: i64,
    pub inactive_seats: u32,
    pub inactive_cents: i64,
    pub viewer_cents: i64,
    /// What acting on every `inactive-seat` finding would save per month, minimum applied.
    pub saving_cents: i64,
    /// Priced through the Enterprise contract instead of per team.
    pub enterprise_priced: bool,
    pub monthly: String,
    pub annual: String,
    pub inactive: String,
    pub viewer: String,
    pub saving: String,
    pub role_cents: BTreeMap<String, i64>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct EnterpriseCost {
    pub enterprise_account: String,
    /// Set when a team of the account was not read: its unique users are a lower bound, so the
    /// account is left out of the totals.
    pub not_read: Option<String>,
    pub unique_users: u32,
    pub price: String,
    pub monthly_cents: i64,
    pub monthly: String,
    pub inactive_users: u32,
    pub saving_cents: i64,
    pub saving: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CostReport {
    /// Teams and accounts left out of the totals because they were not read, by name.
    pub excluded: Vec<String>,
    /// `excluding acme-payments (not read)`, said beside every total; empty when nothing is excluded.
    pub excluded_note: String,
    pub price_per_seat_cents: i64,
    pub price_per_seat: String,
    pub minimum_per_team: u32,
    pub teams: Vec<TeamCost>,
    pub enterprise: Vec<EnterpriseCost>,
    pub seats: u32,
    pub billed_seats: u32,
    pub monthly_cents: i64,
    pub annual_cents: i64,
    pub inactive_cents: i64,
    pub viewer_cents: i64,
    pub saving_cents: i64,
    pub monthly: String,
    pub annual: String,
    pub inactive: String,
    pub viewer: String,
    pub saving: String,
    pub annual_saving: String,
}

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

/// One grant to certify: user × team, user × app or user × enterprise account.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CertRow {
    pub review_period: String,
    pub snapshot_id: String,
    pub snapshot_time: String,
    pub enterprise_account: String,
    pub team: String,
    pub app: String,
    pub grant_type: String,
    pub role: String,
    pub permissions: String,
    pub user_email: String,
    pub federated: String,
    pub two_factor: String,
    pub idp_status: String,
    pub last_activity: String,
    pub days_inactive: String,
    pub flags: String,
    pub monthly_cost: String,
    pub recommended_decision: String,
    pub recommendation_reason: String,
    pub reviewer: String,
    pub decision: String,
    pub decision_date: String,
    pub justification: String,
}

impl CertRow {
    pub const HEADER: [&'static str; 23] = [
        "review_period",
        "snapshot_id",
        "snapshot_time",
        "enterprise_account",
        "team",
        "app",
        "grant_type",
        "role",
        "permissions",
        "user_email",
        "federated",
        "two_factor",
        "idp_status",
        "last_activity",
        "days_inactive",
        "flags",
        "monthly_cost",
        "recommended_decision",
        "recommendation_reason",
        "reviewer",
        "decision",
        "decision_date",
        "justification",
    ];

    pub fn cells(&self) -> [&str; 23] {
        [
            &self.review_period,
            &self.snapshot_id,
            &self.snapshot_time,
            &self.enterprise_account,
            &self.team,
            &self.app,
            &self.grant_type,
            &self.role,
            &self.permissions,
            &self.user_email,
            &self.federated,
            &self.two_factor,
            &self.idp_status,
            &self.last_activity,
            &self.days_inactive,
            &self.flags,
            &self.monthly_cost,
            &self.recommended_decision,
            &self.recommendation_reason,
            &self.reviewer,
            &self.decision,
            &self.decision_date,
            &self.justification,
        ]
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct CertGroup {
    pub title: String,
    pub rows: Vec<CertRow>,
}

fn ts(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn yes_no(b: Option<bool>) -> String {
    match b {
        Some(true) => "yes".into(),
        Some(false) => "no".into(),
        None => String::new(),
    }
}

/// A membership's flag: `unknown` when the API did not report it.
fn known(b: Option<bool>) -> String {
    match b {
        None => "unknown".into(),
        b => yes_no(b),
    }
}

struct Member {
    team_id: String,
    team: String,
    email: String,
    role: String,
}

/// Build the model. `idp` is the normalised IdP rows analyze kept (email_norm → status, and the
/// covered domains), when exports were given.
/// Team seats as the snapshot holds them.
struct Seats {
    members: Vec<Member>,
    team_ids: Vec<String>,
    team_names: Vec<String>,
    team_ea: BTreeMap<String, String>,
}

fn seats(snapshot: &Snapshot) -> Result<Seats, ReportError> {
    let teams = Rows::new("teams", snapshot.read("teams")?);
    let team_names = teams.string("name")?;
    let team_ids = teams.string("id")?;
    let team_ea: BTreeMap<String, String> = team_ids
        .iter()
        .cloned()
        .zip(teams.str("enterprise_account_name")?.into_iter().map(Option::unwrap_or_default))
        .collect();
    let tm = Rows::new("team_members", snapshot.read("team_members")?);
    let (tid, tname, email, role) =
        (tm.string("team_id")?, tm.string("team_name")?, tm.string("email")?, tm.string("role")?);
    let members = (0..tm.len())
        .map(|i| Member {
            team_id: tid[i].clone(),
            team: tname[i].clone(),
            email: email[i].clone(),
            role: role[i].clone(),
        })
        .collect();
    Ok(Seats { members, team_ids, team_names, team_ea })
}

/// The cost report of a snapshot alone (inactive seats come from `findings` when given).
pub fn seat_cost(
    snapshot: &Snapshot,
    findings: Option<&FindingSet>,
    config: &Config,
) -> Result<CostReport, ReportError> {
    let s = seats(snapshot)?;
    let empty = FindingSet {
        format_version: FindingSet::FORMAT_VERSION,
        snapshot_id: snapshot.manifest().snapshot_id.clone(),
        as_of: snapshot.manifest().as_of,
        complete: true,
        inputs: Vec::new(),
        rules: Vec::new(),
        findings: Vec::new(),
    };
    let unread = Unread::of(snapshot)?;
    Ok(cost(&s, findings.unwrap_or(&empty), config, &unread))
}

pub fn build(
    snapshot: &Snapshot,
    findings: &FindingSet,
    config: &Config,
    idp: Option<IdpView>,
) -> Result<ReportModel, ReportError> {
    let m = snapshot.manifest();
    let read = |t: &str| -> Result<Rows, ReportError> { Ok(Rows::new(t, snapshot.read(t)?)) };

    let seats = seats(snapshot)?;
    let unread = Unread::of(snapshot)?;
    let listed_teams: BTreeSet<String> = seats.team_names.iter().cloned().collect();
    let mut names = crate::analyze::scope::Scopes::read(snapshot)?;
    names.learn(&m.gaps);

    // Last activity per person, from the snapshot's activity table.
    let activity = read("activity")?;
    let mut last_seen: BTreeMap<String, DateTime<Utc>> = BTreeMap::new();
    for (email, at) in activity.str("user_email_norm")?.into_iter().zip(activity.time("at")?) {
        if let (Some(e), Some(at)) = (email, at) {
            let entry = last_seen.entry(e).or_insert(at);
            if at > *entry {
                *entry = at;
            }
        }
    }
    let days_since = |email: &str| -> Option<i64> { last_seen.get(&norm(email)).map(|t| (m.as_of - *t).num_days()) };

    // Findings indexed by (team, email) and by email.
    let mut flags_by_team_email: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    let mut flags_by_app_email: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    let mut flags_by_email: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut reasons: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for f in &findings.findings {
        let Some(email) = f.subject.email.as_deref().map(norm) else { continue };
        match (&f.subject.team, &f.subject.app) {
            (Some(team), _) => {
                flags_by_team_email.entry((team.clone(), email.clone())).or_default().insert(f.rule_id.clone());
                reasons.entry((team.clone(), email.clone())).or_default().push(format!("{}: {}", f.rule_id, f.message));
            }
            (None, Some(app)) => {
                flags_by_app_email.entry((app.clone(), email.clone())).or_default().insert(f.rule_id.clone());
                reasons
                    .entry((format!("app:{app}"), email.clone()))
                    .or_default()
                    .push(format!("{}: {}", f.rule_id, f.message));
            }
            (None, None) => {
                flags_by_email.entry(email.clone()).or_default().insert(f.rule_id.clone());
                reasons
                    .entry((String::new(), email.clone()))
                    .or_default()
                    .push(format!("{}: {}", f.rule_id, f.message));
            }
        }
    }

    let cost = cost(&seats, findings, config, &unread);
    let ea_by_team_name: BTreeMap<String, String> = seats
        .team_ids
        .iter()
        .zip(&seats.team_names)
        .filter_map(|(id, name)| Some((name.clone(), seats.team_ea.get(id).filter(|e| !e.is_empty())?.clone())))
        .collect();
    let Seats { members, team_ids, .. } = seats;

    // Certification rows.
    let period = review_period(m.as_of);
    // The instant the data reflects (`--as-of`, else the run), so a worksheet is reproducible.
    let snapshot_time = ts(m.as_of);
    let price = config.seats.price_per_month_cents;
    let idp_status = |email: &str| -> String {
        match &idp {
            None => "no IdP export".into(),
            Some(v) => v.status(email),
        }
    };
    let base = |ea: &str, team: &str, app: &str, grant: &str, email: &str| CertRow {
        review_period: period.clone(),
        snapshot_id: m.snapshot_id.clone(),
        snapshot_time: snapshot_time.clone(),
        enterprise_account: ea.to_owned(),
        team: team.to_owned(),
        app: app.to_owned(),
        grant_type: grant.to_owned(),
        role: String::new(),
        permissions: String::new(),
        user_email: email.to_owned(),
        federated: String::new(),
        two_factor: String::new(),
        idp_status: idp_status(email),
        last_activity: last_seen.get(&norm(email)).map(|t| ts(*t)).unwrap_or_default(),
        days_inactive: days_since(email)
            .map(|d| d.to_string())
            .unwrap_or_else(|| format!(">{}", m.activity_window.days)),
        flags: String::new(),
        monthly_cost: String::new(),
        // In the decision column's words, so a reviewer can copy the recommendation as it is.
        recommended_decision: "Approve".into(),
        recommendation_reason: String::new(),
        reviewer: String::new(),
        decision: String::new(),
        decision_date: String::new(),
        justification: String::new(),
    };
    let decide = |row: &mut CertRow, flags: &BTreeSet<String>, why: Vec<String>| {
        row.flags = flags.iter().cloned().collect::<Vec<_>>().join(" ");
        if flags.iter().any(|f| REVOKE_RULES.contains(&f.as_str())) {
            row.recommended_decision = "Deny".into();
            row.recommendation_reason = why.join("; ");
        } else if !flags.is_empty() {
            row.recommendation_reason = format!("Approve if justified: {}", why.join("; "));
        } else {
            row.recommendation_reason = "no finding".into();
        }
    };

    let all_grants = super::grants::load_grants(snapshot)?;
    // A finding about a person holds for every email of their Heroku user id (as the rules
    // gather them): each grant is flagged under all of them.
    let mut ids_of_email: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for g in &all_grants {
        if let Some(id) = g.user_id.as_deref() {
            ids_of_email.entry(g.key.email.as_str()).or_default().insert(id);
        }
    }
    let mut emails_of_id: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (email, ids) in &ids_of_email {
        for id in ids {
            emails_of_id.entry(id).or_default().insert(email);
        }
    }
    let same_person = |email: &str| -> BTreeSet<String> {
        let mut out: BTreeSet<String> = BTreeSet::from([email.to_owned()]);
        for id in ids_of_email.get(email).into_iter().flatten() {
            out.extend(emails_of_id.get(id).into_iter().flatten().map(|e| (*e).to_owned()));
        }
        out
    };
    let mut cert = Vec::new();
    for g in &all_grants {
        let k = &g.key;
        // What was read of a scope that was not read whole is no list to certify from.
        if unread.covers(k, &listed_teams).is_some() {
            continue;
        }
        let mut row = base(&k.enterprise_account, &k.team, &k.app, &k.grant_type, &g.email);
        row.role = g.role.clone();
        row.permissions = match k.grant_type.as_str() {
            grants::TEAM_MEMBERSHIP if g.permissions.is_empty() => "granted apps only".into(),
            grants::TEAM_MEMBERSHIP => format!("{} (all team apps)", g.permissions.join(", ")),
            _ => g.permissions.join(", "),
        };
        // A membership whose flag the API did not report says so; an app grant has none to report.
        let membership = matches!(k.grant_type.as_str(), grants::TEAM_MEMBERSHIP | grants::ENTERPRISE_MEMBERSHIP);
        row.federated = if membership { known(g.federated) } else { yes_no(g.federated) };
        row.two_factor = if membership { known(g.two_factor) } else { yes_no(g.two_factor) };
        let person = same_person(&k.email);
        if let Some(v) = &idp {
            row.idp_status = v.status_of_person(&person);
        }
        let mut flags: BTreeSet<String> =
            person.iter().flat_map(|e| flags_by_email.get(e).cloned().unwrap_or_default()).collect();
        let mut why = Vec::new();
        let scoped = match k.grant_type.as_str() {
            grants::TEAM_MEMBERSHIP => {
                row.monthly_cost = money(price);
                Some((k.team.clone(), flags_by_team_email.get(&(k.team.clone(), k.email.clone()))))
            }
            grants::TEAM_INVITATION => {
                row.permissions = "pending: a seat once accepted".into();
                Some((k.team.clone(), flags_by_team_email.get(&(k.team.clone(), k.email.clone()))))
            }
            grants::APP_PERMISSION | grants::PERSONAL_APP_COLLABORATOR => {
                Some((format!("app:{}", k.app), flags_by_app_email.get(&(k.app.clone(), k.email.clone()))))
            }
            _ => None,
        };
        if let Some((scope, scoped_flags)) = scoped {
            flags.extend(scoped_flags.cloned().unwrap_or_default());
            why.extend(reasons.get(&(scope, k.email.clone())).cloned().unwrap_or_default());
        }
        for e in &person {
            why.extend(reasons.get(&(String::new(), e.clone())).cloned().unwrap_or_default());
        }
        decide(&mut row, &flags, why);
        cert.push(row);
    }
    let missing: Vec<UnreadScope> = unread.scopes().to_vec();
    for scope in &missing {
        let team_ea = scope.team.as_ref().and_then(|t| ea_by_team_name.get(t)).map(String::as_str);
        let mut row = base(
            scope.enterprise_account.as_deref().or(team_ea).unwrap_or_default(),
            scope.team.as_deref().unwrap_or_default(),
            scope.app.as_deref().unwrap_or_default(),
            grants::NOT_READ,
            "",
        );
        row.idp_status = String::new();
        row.days_inactive = String::new();
        row.recommended_decision = String::new();
        row.permissions = format!("not read: {}", scope.grant_types.join(", "));
        row.recommendation_reason = format!(
            "{}: no grant here can be certified from this snapshot; extract again with access to it",
            scope.reason
        );
        cert.push(row);
    }
    let seat_days: Vec<Option<i64>> =
        members.iter().filter(|m| unread.team_members(&m.team).is_none()).map(|m| days_since(&m.email)).collect();
    cert.sort_by(|a, b| {
        (&a.enterprise_account, &a.team, &a.app, &a.grant_type, norm(&a.user_email)).cmp(&(
            &b.enterprise_account,
            &b.team,
            &b.app,
            &b.grant_type,
            norm(&b.user_email),
        ))
    });

    let mut groups: BTreeMap<String, Vec<CertRow>> = BTreeMap::new();
    for row in &cert {
        let title = if row.grant_type == grants::NOT_READ && row.team.is_empty() && row.app.is_empty() {
            match row.enterprise_account.as_str() {
                "" => "Not read".to_owned(),
                ea => format!("Enterprise account {ea}"),
            }
        } else if !row.team.is_empty() {
            format!("Team {}", row.team)
        } else if !row.app.is_empty() {
            "Personal apps".to_owned()
        } else {
            format!("Enterprise account {}", row.enterprise_account)
        };
        groups.entry(title).or_default().push(row.clone());
    }

    let apps = read("apps")?;
    let people: BTreeSet<String> =
        cert.iter().filter(|r| r.grant_type != grants::NOT_READ).map(|r| norm(&r.user_email)).collect();
    let eas = read("enterprise_accounts")?;

    Ok(ReportModel {
        snapshot: SnapshotInfo {
            id: m.snapshot_id.clone(),
            taken_at: ts(m.taken_at),
            as_of: ts(m.as_of),
            api_url: m.api_url.clone(),
            account_email: m.account_email.clone().unwrap_or_default(),
            complete: m.complete,
            findings_complete: findings.complete,
            window_days: m.activity_window.days,
            window_since: ts(m.activity_window.since),
            review_period: period,
        },
        gaps: m.gaps.clone(),
        not_read: m.gaps.iter().map(|g| GapView::of(g, &names)).collect(),
        certification_missing: missing,
        scope: Scope {
            enterprise_accounts: eas.string("name")?,
            teams: team_ids.len(),
            apps: apps.len(),
            people: people.len(),
            inputs: findings.inputs.iter().map(|i| i.name.clone()).collect(),
            idp_files: findings.inputs.iter().filter(|i| i.idp.is_some()).cloned().collect(),
        },
        cost,
        risk: risk(findings),
        certification: cert,
        certification_by_team: groups.into_iter().map(|(title, rows)| CertGroup { title, rows }).collect(),
        seat_days_inactive: seat_days,
        trends: None,
    })
}

/// `2026-Q4` for the quarter the snapshot's `as_of` falls in.
fn review_period(at: DateTime<Utc>) -> String {
    format!("{}-Q{}", at.year(), (at.month() - 1) / 3 + 1)
}

/// IdP status per person, from the rows analyze kept.
pub struct IdpView {
    pub status: BTreeMap<String, String>,
    pub domains: BTreeSet<String>,
}

/// How severe an IdP status is: across several exports (or a person's several emails), the most
/// severe is the one a reviewer must see.
pub(super) fn idp_rank(status: &str) -> u8 {
    match status {
        "deprovisioned" => 3,
        "suspended" => 2,
        "active" => 1,
        _ => 0,
    }
}

impl IdpView {
    /// A person's status under any of their emails: the most severe one listed, else `absent`
    /// when an export covers one of their domains.
    fn status_of_person(&self, emails: &BTreeSet<String>) -> String {
        let listed = emails.iter().filter_map(|e| self.status.get(&norm(e))).max_by_key(|s| idp_rank(s));
        match listed {
            Some(s) => s.clone(),
            None if emails.iter().any(|e| self.status(e) == "absent") => "absent".into(),
            None => emails.iter().next().map(|e| self.status(e)).unwrap_or_else(|| "domain not covered".into()),
        }
    }

    fn status(&self, email: &str) -> String {
        let e = norm(email);
        if let Some(s) = self.status.get(&e) {
            return s.clone();
        }
        let domain = e.rsplit_once('@').map(|(_, d)| d.to_owned()).unwrap_or_default();
        if self.domains.contains(&domain) {
            "absent".into()
        } else {
            "domain not covered".into()
        }
    }
}

fn cost(seats: &Seats, findings: &FindingSet, config: &Config, unread: &Unread) -> CostReport {
    let Seats { members, team_ids, team_names, team_ea } = seats;
    let price = config.seats.price_per_month_cents;
    let min = config.seats.minimum_per_team;
    let ea_price = config.enterprise.price_per_unique_user_per_month_cents;
    let inactive: BTreeSet<(String, String)> = findings
        .findings
        .iter()
        .filter(|f| f.rule_id == "inactive-seat")
        .filter_map(|f| Some((f.subject.team.clone()?, norm(f.subject.email.as_deref()?))))
        .collect();
    let team_unread = |name: &str| unread.team_members(name).map(|s| s.reason.clone());

    let mut teams = Vec::new();
    for (id, name) in team_ids.iter().zip(team_names) {
        let not_read = team_unread(name);
        // Whatever was read of an unread team is no count: it is left out, not shown as a fact.
        let ms: Vec<&Member> =
            if not_read.is_some() { Vec::new() } else { members.iter().filter(|m| &m.team_id == id).collect() };
        let count = |role: &str| ms.iter().filter(|m| m.role == role).count() as u32;
        let seats = ms.len() as u32;
        let inactive_seats = ms.iter().filter(|m| inactive.contains(&(name.clone(), norm(&m.email)))).count() as u32;
        let ea = team_ea.get(id).cloned().unwrap_or_default();
        let enterprise_priced = ea_price.is_some() && !ea.is_empty();
        let (billed, monthly, saving) = if enterprise_priced || not_read.is_some() {
            // Priced per unique user across the Enterprise Account (see `enterprise`), or unknown.
            (seats, 0, 0)
        } else {
            let billed = seats.max(min);
            let after = (seats - inactive_seats).max(min);
            (billed, i64::from(billed) * price, i64::from(billed - after) * price)
        };
        let priced = !enterprise_priced && not_read.is_none();
        let role_cents: BTreeMap<String, i64> =
            ROLES.iter().map(|r| ((*r).to_owned(), if priced { i64::from(count(r)) * price } else { 0 })).collect();
        let inactive_cents = if priced { i64::from(inactive_seats) * price } else { 0 };
        let viewer_cents = if priced { i64::from(count("viewer")) * price } else { 0 };
        teams.push(TeamCost {
            team: name.clone(),
            enterprise_account: ea,
            not_read,
            admins: count("admin"),
            members: count("member"),
            viewers: count("viewer"),
            collaborators: count("collaborator"),
            seats,
            billed_seats: billed,
            monthly_cents: monthly,
            annual_cents: monthly * 12,
            inactive_seats,
            inactive_cents,
            viewer_cents,
            saving_cents: saving,
            enterprise_priced,
            monthly: money(monthly),
            annual: money(monthly * 12),
            inactive: money(inactive_cents),
            viewer: money(viewer_cents),
            saving: money(saving),
            role_cents,
        });
    }

    let mut enterprise = Vec::new();
    if let Some(p) = ea_price {
        let mut by_ea: BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)> = BTreeMap::new();
        let mut unread_teams: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for t in &teams {
            if !t.enterprise_account.is_empty() {
                by_ea.entry(t.enterprise_account.clone()).or_default();
                if t.not_read.is_some() {
                    unread_teams.entry(t.enterprise_account.clone()).or_default().push(t.team.clone());
                }
            }
        }
        for m in members.iter().filter(|m| team_unread(&m.team).is_none()) {
            let ea = team_ea.get(&m.team_id).cloned().unwrap_or_default();
            if ea.is_empty() {
                continue;
            }
            let entry = by_ea.entry(ea).or_default();
            entry.0.insert(norm(&m.email));
            if inactive.contains(&(m.team.clone(), norm(&m.email))) {
                entry.1.insert(norm(&m.email));
            }
        }
        for (ea, (users, inactive_in_some_team)) in by_ea {
            // A person stops costing only when every seat they hold in the account is inactive.
            let fully_inactive = inactive_in_some_team
                .iter()
                .filter(|e| {
                    members
                        .iter()
                        .filter(|m| team_ea.get(&m.team_id) == Some(&ea) && &norm(&m.email) == *e)
                        .all(|m| inactive.contains(&(m.team.clone(), norm(&m.email))))
                })
                .count() as u32;
            let not_read = unread_teams
                .get(&ea)
                .map(|t| format!("{} not read: unique users are at least those counted", plural_teams(t)));
            let monthly = i64::from(users.len() as u32) * p;
            let saving = if not_read.is_some() { 0 } else { i64::from(fully_inactive) * p };
            enterprise.push(EnterpriseCost {
                enterprise_account: ea,
                not_read,
                unique_users: users.len() as u32,
                price: money(p),
                monthly_cents: monthly,
                monthly: money(monthly),
                inactive_users: fully_inactive,
                saving_cents: saving,
                saving: money(saving),
            });
        }
    }

    // Totals are sums of what was read; what was not is named beside them, never counted as zero.
    let counted: Vec<&TeamCost> = teams.iter().filter(|t| t.not_read.is_none()).collect();
    let counted_ea: Vec<&EnterpriseCost> = enterprise.iter().filter(|e| e.not_read.is_none()).collect();
    let mut excluded: Vec<String> = teams.iter().filter(|t| t.not_read.is_some()).map(|t| t.team.clone()).collect();
    excluded.extend(
        enterprise
            .iter()
            .filter(|e| e.not_read.is_some())
            .map(|e| format!("enterprise account {}", e.enterprise_account)),
    );
    let excluded_note =
        if excluded.is_empty() { String::new() } else { format!("excluding {} (not read)", excluded.join(", ")) };
    let sum = |f: &dyn Fn(&TeamCost) -> i64| counted.iter().map(|t| f(t)).sum::<i64>();
    let ea_monthly: i64 = counted_ea.iter().map(|e| e.monthly_cents).sum();
    let ea_saving: i64 = counted_ea.iter().map(|e| e.saving_cents).sum();
    let monthly = sum(&|t| t.monthly_cents) + ea_monthly;
    let saving = sum(&|t| t.saving_cents) + ea_saving;
    let inactive_cents = sum(&|t| t.inactive_cents);
    let viewer_cents = sum(&|t| t.viewer_cents);
    CostReport {
        excluded,
        excluded_note,
        price_per_seat_cents: price,
        price_per_seat: money(price),
        minimum_per_team: min,
        seats: counted.iter().map(|t| t.seats).sum(),
        billed_seats: counted.iter().map(|t| t.billed_seats).sum(),
        monthly_cents: monthly,
        annual_cents: monthly * 12,
        inactive_cents,
        viewer_cents,
        saving_cents: saving,
        monthly: money(monthly),
        annual: money(monthly * 12),
        inactive: money(inactive_cents),
        viewer: money(viewer_cents),
        saving: money(saving),
        annual_saving: money(saving * 12),
        teams,
        enterprise,
    }
}

/// `team acme-payments`, `teams acme-data, acme-web`.
fn plural_teams(teams: &[String]) -> String {
    match teams {
        [one] => format!("team {one}"),
        many => format!("teams {}", many.join(", ")),
    }
}

fn risk(set: &FindingSet) -> RiskReport {
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
                        cost: f.monthly_cost_cents.map(money).unwrap_or_default(),
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
