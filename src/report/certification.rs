//! The access-certification worksheet, for managers: one row per grant (user × team, user × app,
//! user × Enterprise Account, pending invitation) with what a reviewer needs to decide, and a
//! recommendation taken from the findings about it: `revoke` when a finding's rule says
//! `certify: revoke`, else keep. Nothing of a scope that was not read is certified from a partial
//! list: each such scope gets one `not-read` row naming it.
use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, Utc};
use serde::Serialize;

use super::people::{Activity, IdpView, SamePerson};
use crate::analyze::{money, Certify, Finding};
use crate::snapshot::email_norm as norm;
use crate::snapshot::grants::{self, Grant, Unread};
use crate::snapshot::Manifest;

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
    /// Display name: the Heroku account's, where the snapshot has one.
    pub name: String,
    pub federated: String,
    pub two_factor: String,
    pub idp_status: String,
    /// The latest signal of any kind: release, build, audit-trail action or Heroku sign-in.
    pub last_activity: String,
    /// The latest successful sign-in to Heroku in a `--signins` log, and the identity provider
    /// that logged it (`sso sign-in via okta`); empty when no log shows one.
    pub last_sign_in: String,
    pub last_sign_in_source: String,
    /// Whole days, or empty when there is nothing to count from (see `activity_basis`).
    pub days_inactive: String,
    /// What `days_inactive` counts from: `window` (the last activity inside the activity
    /// window), `since_joined` (no activity yet, joined inside the window: days since joining),
    /// `none_in_window` (no activity in the window: no number).
    pub activity_basis: String,
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
    pub const HEADER: [&'static str; 27] = [
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
        "name",
        "federated",
        "two_factor",
        "idp_status",
        "last_activity",
        "last_sign_in",
        "last_sign_in_source",
        "days_inactive",
        "activity_basis",
        "flags",
        "monthly_cost",
        "recommended_decision",
        "recommendation_reason",
        "reviewer",
        "decision",
        "decision_date",
        "justification",
    ];

    pub fn cells(&self) -> [&str; 27] {
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
            &self.name,
            &self.federated,
            &self.two_factor,
            &self.idp_status,
            &self.last_activity,
            &self.last_sign_in,
            &self.last_sign_in_source,
            &self.days_inactive,
            &self.activity_basis,
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

/// `2026-Q4` for the quarter the snapshot's `as_of` falls in.
pub(super) fn review_period(at: DateTime<Utc>) -> String {
    format!("{}-Q{}", at.year(), (at.month() - 1) / 3 + 1)
}

pub(super) fn ts(t: DateTime<Utc>) -> String {
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

/// The findings about each grant: their rule ids (the row's flags) and messages (its reason),
/// by the scope they name.
#[derive(Default)]
struct Flags {
    by_team_email: BTreeMap<(String, String), BTreeSet<String>>,
    by_app_email: BTreeMap<(String, String), BTreeSet<String>>,
    by_email: BTreeMap<String, BTreeSet<String>>,
    /// Keyed by (team, email), (`app:APP`, email) or ("", email) for a person-wide finding.
    reasons: BTreeMap<(String, String), Vec<String>>,
    /// Rules whose findings on a grant recommend revoking it (`certify: revoke` in their header).
    revoke_rules: BTreeSet<String>,
}

impl Flags {
    fn of(findings: &[Finding]) -> Flags {
        let mut flags = Flags::default();
        for f in findings {
            if f.certify == Certify::Revoke {
                flags.revoke_rules.insert(f.rule_id.clone());
            }
            let Some(email) = f.subject.email.as_deref().map(norm) else { continue };
            let (scope, set) = match (&f.subject.team, &f.subject.app) {
                (Some(team), _) => {
                    (team.clone(), flags.by_team_email.entry((team.clone(), email.clone())).or_default())
                }
                (None, Some(app)) => {
                    (format!("app:{app}"), flags.by_app_email.entry((app.clone(), email.clone())).or_default())
                }
                (None, None) => (String::new(), flags.by_email.entry(email.clone()).or_default()),
            };
            set.insert(f.rule_id.clone());
            flags.reasons.entry((scope, email)).or_default().push(format!("{}: {}", f.rule_id, f.message));
        }
        flags
    }

    /// Flags the row and recommends: revoke when a flag's rule says so, else keep.
    fn decide(&self, row: &mut CertRow, flags: &BTreeSet<String>, why: Vec<String>) {
        row.flags = flags.iter().cloned().collect::<Vec<_>>().join(" ");
        if flags.iter().any(|f| self.revoke_rules.contains(f)) {
            row.recommended_decision = "Deny".into();
            row.recommendation_reason = why.join("; ");
        } else if !flags.is_empty() {
            row.recommendation_reason = format!("Approve if justified: {}", why.join("; "));
        } else {
            row.recommendation_reason = "no finding".into();
        }
    }
}

/// What the worksheet is made from.
pub struct Sources<'a> {
    pub manifest: &'a Manifest,
    pub findings: &'a [Finding],
    pub grants: &'a [Grant],
    pub unread: &'a Unread,
    /// The teams the snapshot lists: a failed list of teams leaves out only the others.
    pub listed_teams: &'a BTreeSet<String>,
    /// Team name → its Enterprise Account, for a not-read team's row.
    pub ea_by_team_name: &'a BTreeMap<String, String>,
    pub activity: &'a Activity,
    pub idp: Option<&'a IdpView>,
    pub price_per_seat_cents: i64,
    /// (team, lower-cased email) → when they joined the team.
    pub joined: &'a BTreeMap<(String, String), DateTime<Utc>>,
    /// Lower-cased email → display name.
    pub names: &'a BTreeMap<String, String>,
}

/// `days_inactive` and `activity_basis` for one person (module documentation of [`CertRow`]).
fn inactivity(src: &Sources<'_>, email: &str, joined: Option<DateTime<Utc>>) -> (String, String) {
    if let Some(d) = src.activity.days_since(email) {
        return (d.to_string(), "window".into());
    }
    match joined.filter(|j| *j >= src.manifest.activity_window.since) {
        Some(j) => ((src.manifest.as_of - j).num_days().max(0).to_string(), "since_joined".into()),
        None => (String::new(), "none_in_window".into()),
    }
}

/// Every worksheet row: the grants read whole, then one row per scope not read; sorted by
/// where, grant type and email.
pub fn rows(src: &Sources<'_>) -> Vec<CertRow> {
    let m = src.manifest;
    let flags = Flags::of(src.findings);
    let people = SamePerson::of(src.grants);
    let period = review_period(m.as_of);
    // The instant the data reflects (`--as-of`, else the run), so a worksheet is reproducible.
    let snapshot_time = ts(m.as_of);
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
        name: src.names.get(&norm(email)).cloned().unwrap_or_default(),
        federated: String::new(),
        two_factor: String::new(),
        idp_status: match src.idp {
            None => "no IdP export".into(),
            Some(v) => v.status(email),
        },
        last_activity: src.activity.last(email).map(ts).unwrap_or_default(),
        last_sign_in: src.activity.last_sign_in(email).map(|(at, _)| ts(at)).unwrap_or_default(),
        last_sign_in_source: src.activity.last_sign_in(email).map(|(_, what)| what.to_owned()).unwrap_or_default(),
        days_inactive: String::new(),
        activity_basis: String::new(),
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

    let mut cert = Vec::new();
    for g in src.grants {
        let k = &g.key;
        // What was read of a scope that was not read whole is no list to certify from.
        if src.unread.covers(k, src.listed_teams).is_some() {
            continue;
        }
        let mut row = base(&k.enterprise_account, &k.team, &k.app, &k.grant_type, &g.email);
        let joined = (k.grant_type == grants::TEAM_MEMBERSHIP)
            .then(|| src.joined.get(&(k.team.clone(), k.email.clone())).copied())
            .flatten();
        (row.days_inactive, row.activity_basis) = inactivity(src, &g.email, joined);
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
        let person = people.emails(&k.email);
        if let Some(v) = src.idp {
            row.idp_status = v.status_of_person(&person);
        }
        let mut row_flags: BTreeSet<String> =
            person.iter().flat_map(|e| flags.by_email.get(e).cloned().unwrap_or_default()).collect();
        let mut why = Vec::new();
        let scoped = match k.grant_type.as_str() {
            grants::TEAM_MEMBERSHIP => {
                row.monthly_cost = money(src.price_per_seat_cents);
                Some((k.team.clone(), flags.by_team_email.get(&(k.team.clone(), k.email.clone()))))
            }
            grants::TEAM_INVITATION => {
                row.permissions = "pending: a seat once accepted".into();
                Some((k.team.clone(), flags.by_team_email.get(&(k.team.clone(), k.email.clone()))))
            }
            grants::APP_PERMISSION | grants::PERSONAL_APP_COLLABORATOR => {
                Some((format!("app:{}", k.app), flags.by_app_email.get(&(k.app.clone(), k.email.clone()))))
            }
            _ => None,
        };
        if let Some((scope, scoped_flags)) = scoped {
            row_flags.extend(scoped_flags.cloned().unwrap_or_default());
            why.extend(flags.reasons.get(&(scope, k.email.clone())).cloned().unwrap_or_default());
        }
        for e in &person {
            why.extend(flags.reasons.get(&(String::new(), e.clone())).cloned().unwrap_or_default());
        }
        flags.decide(&mut row, &row_flags, why);
        cert.push(row);
    }
    for scope in src.unread.scopes() {
        let team_ea = scope.team.as_ref().and_then(|t| src.ea_by_team_name.get(t)).map(String::as_str);
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
    cert.sort_by(|a, b| {
        (&a.enterprise_account, &a.team, &a.app, &a.grant_type, norm(&a.user_email)).cmp(&(
            &b.enterprise_account,
            &b.team,
            &b.app,
            &b.grant_type,
            norm(&b.user_email),
        ))
    });
    cert
}

/// The rows grouped for the per-team HTML view.
pub fn by_team(rows: &[CertRow]) -> Vec<CertGroup> {
    let mut groups: BTreeMap<String, Vec<CertRow>> = BTreeMap::new();
    for row in rows {
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
    groups.into_iter().map(|(title, rows)| CertGroup { title, rows }).collect()
}
