//! The view model: everything the three readers see, computed once from the snapshot, its
//! findings and the config. Templates only lay it out; every number and decision is made in the
//! reader's module ([`super::cost`], [`super::risk`], [`super::certification`]) and gathered here.
use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::act_on::{people_to_act, PersonToAct};
use super::certification::{self, ts, CertGroup, CertRow};
use super::cost::CostReport;
use super::people::{Activity, IdpView, SamePerson};
use super::risk::{risk, RiskReport};
use super::trends::TrendsView;
use super::ReportError;
use crate::analyze::cost::{seat_cost_of, Seats};
use crate::analyze::{Config, FindingSet};
use crate::snapshot::email_norm as norm;
use crate::snapshot::grants::{self, load_grants, Unread, UnreadScope};
use crate::snapshot::rows::Rows;
use crate::snapshot::scope::{failure, Place, Scopes};
use crate::snapshot::{Gap, Snapshot};

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
    /// Everyone with a finding, the worst first, with what they hold and the steps to take.
    pub people: Vec<PersonToAct>,
    pub certification: Vec<CertRow>,
    /// Certification rows grouped for the per-team HTML view.
    pub certification_by_team: Vec<CertGroup>,
    /// Days since each seat holder's last activity (None: none inside the window), for the chart.
    #[serde(skip)]
    pub seat_days_inactive: Vec<Option<i64>>,
    /// Across a folder of snapshots, when `--history` is given.
    pub trends: Option<TrendsView>,
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
    fn of(g: &Gap, names: &Scopes) -> GapView {
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
    /// What period each `--signins` log covers, as analyze read it.
    pub signin_logs: Vec<crate::analyze::InputRecord>,
}

/// Build the model. `idp` is the normalised IdP rows analyze kept (email_norm → status, and the
/// covered domains), when exports were given; `sign_ins` the successful Heroku sign-ins
/// (email, when, identity provider) from `--signins` logs.
pub fn build(
    snapshot: &Snapshot,
    findings: &FindingSet,
    config: &Config,
    idp: Option<IdpView>,
    sign_ins: Vec<(String, chrono::DateTime<chrono::Utc>, String)>,
) -> Result<ReportModel, ReportError> {
    let m = snapshot.manifest();
    let read = |t: &str| -> Result<Rows, ReportError> { Ok(Rows::new(t, snapshot.read(t)?)) };

    let seats = Seats::read(snapshot)?;
    let unread = Unread::of(snapshot)?;
    let mut names = Scopes::read(snapshot)?;
    names.learn(&m.gaps);
    let activity = Activity::read(snapshot)?.with_sign_ins(sign_ins);
    let seat_cost = seat_cost_of(&seats, &findings.findings, config, &unread);
    let cost = CostReport::of(&seat_cost);

    let listed_teams: BTreeSet<String> = seats.team_names.iter().cloned().collect();
    let ea_by_team_name: BTreeMap<String, String> = seats
        .team_ids
        .iter()
        .zip(&seats.team_names)
        .filter_map(|(id, name)| Some((name.clone(), seats.team_ea.get(id).filter(|e| !e.is_empty())?.clone())))
        .collect();
    let grants = load_grants(snapshot)?;
    let tm = read("team_members")?;
    let mut joined: BTreeMap<(String, String), chrono::DateTime<chrono::Utc>> = BTreeMap::new();
    let mut display_names: BTreeMap<String, String> = BTreeMap::new();
    for (((team, email), at), name) in
        tm.string("team_name")?.into_iter().zip(tm.string("email")?).zip(tm.time("created_at")?).zip(tm.str("name")?)
    {
        if let Some(at) = at {
            joined.insert((team, norm(&email)), at);
        }
        if let Some(n) = name.filter(|n| !n.trim().is_empty()) {
            display_names.insert(norm(&email), n);
        }
    }
    let cert = certification::rows(&certification::Sources {
        manifest: m,
        findings: &findings.findings,
        grants: &grants,
        unread: &unread,
        listed_teams: &listed_teams,
        ea_by_team_name: &ea_by_team_name,
        activity: &activity,
        idp: idp.as_ref(),
        price_per_seat_cents: config.seats.price_per_month_cents,
        joined: &joined,
        names: &display_names,
    });
    let seat_days: Vec<Option<i64>> = seats
        .members
        .iter()
        .filter(|m| unread.team_members(&m.team).is_none())
        .map(|m| activity.days_since(&m.email))
        .collect();

    let invitations = crate::analyze::remedy::read_invitations(snapshot)?;
    let same_person = SamePerson::of(&grants);
    let people_view = people_to_act(&super::act_on::Sources {
        findings: &findings.findings,
        grants: &grants,
        invitations: &invitations,
        same_person: &same_person,
        freed_by_email: &seat_cost.freed_by_email,
        names: &display_names,
        snapshot_id: &m.snapshot_id,
        as_of: &ts(m.as_of),
    });

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
            review_period: certification::review_period(m.as_of),
        },
        gaps: m.gaps.clone(),
        not_read: m.gaps.iter().map(|g| GapView::of(g, &names)).collect(),
        certification_missing: unread.scopes().to_vec(),
        scope: Scope {
            enterprise_accounts: eas.string("name")?,
            teams: seats.team_ids.len(),
            apps: apps.len(),
            people: people.len(),
            inputs: findings.inputs.iter().map(|i| i.name.clone()).collect(),
            idp_files: findings.inputs.iter().filter(|i| i.idp.is_some()).cloned().collect(),
            signin_logs: findings.inputs.iter().filter(|i| i.signins.is_some()).cloned().collect(),
        },
        cost,
        risk: risk(findings, &seat_cost.finding_cents),
        people: people_view,
        certification_by_team: certification::by_team(&cert),
        certification: cert,
        seat_days_inactive: seat_days,
        trends: None,
    })
}
