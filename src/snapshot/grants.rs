//! Grants: the unit of access a reviewer certifies, and what `diff` and `certify` compare across
//! snapshots. A grant is a person's membership of a team, their membership of an Enterprise
//! Account, or a direct grant on an app (an explicit team-app permission or a personal-app
//! collaboration), or a pending team invitation. Access implied by a team role is part of the team membership, not a grant of
//! its own.
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::rows::Rows;
use super::scope::{Place, Scopes};
use super::{email_norm as norm, Gap, Snapshot, SnapshotError};

pub const TEAM_MEMBERSHIP: &str = "team-membership";
pub const ENTERPRISE_MEMBERSHIP: &str = "enterprise-membership";
pub const APP_PERMISSION: &str = "app-permission";
pub const PERSONAL_APP_COLLABORATOR: &str = "personal-app-collaborator";
/// A pending invitation: whoever holds the email can take the seat, so it is certified too.
pub const TEAM_INVITATION: &str = "team-invitation";
/// A worksheet row that marks a scope not read: it names no grant and takes no decision.
pub const NOT_READ: &str = "not-read";
pub const GRANT_TYPES: [&str; 5] =
    [TEAM_MEMBERSHIP, ENTERPRISE_MEMBERSHIP, APP_PERMISSION, PERSONAL_APP_COLLABORATOR, TEAM_INVITATION];

/// What identifies a grant across snapshots (names, not ids: a reviewer writes names).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct GrantKey {
    pub grant_type: String,
    pub enterprise_account: String,
    pub team: String,
    pub app: String,
    /// Lower-cased email.
    pub email: String,
}

impl GrantKey {
    pub fn display(&self) -> String {
        let place = [&self.enterprise_account, &self.team, &self.app]
            .into_iter()
            .filter(|s| !s.is_empty())
            .cloned()
            .collect::<Vec<_>>()
            .join(" / ");
        format!("{} {} on {}", self.email, self.grant_type, place)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub key: GrantKey,
    /// The email as Heroku writes it.
    pub email: String,
    /// Team role for a team membership; empty otherwise.
    pub role: String,
    pub permissions: Vec<String>,
    pub federated: Option<bool>,
    pub two_factor: Option<bool>,
    /// The Heroku user id, where the table carries one: one person across emails.
    #[serde(default)]
    pub user_id: Option<String>,
}

/// Every grant in a snapshot, sorted by key.
pub fn load_grants(snapshot: &Snapshot) -> Result<Vec<Grant>, SnapshotError> {
    let read = |t: &str| -> Result<Rows, SnapshotError> { Ok(Rows::new(t, snapshot.read(t)?)) };
    let teams = read("teams")?;
    let team_ea: BTreeMap<String, String> = teams
        .string("name")?
        .into_iter()
        .zip(teams.str("enterprise_account_name")?.into_iter().map(Option::unwrap_or_default))
        .collect();
    let ea_of = |team: &str| team_ea.get(team).cloned().unwrap_or_default();
    let mut grants = Vec::new();

    let tm = read("team_members")?;
    let (team, email, role, fed, tfa, uid) = (
        tm.string("team_name")?,
        tm.string("email")?,
        tm.string("role")?,
        tm.bool("federated")?,
        tm.bool("two_factor_authentication")?,
        tm.str("user_id")?,
    );
    for i in 0..tm.len() {
        let permissions = match role[i].as_str() {
            "admin" | "owner" => vec!["view", "deploy", "operate", "manage"],
            "member" | "viewer" => vec!["view"],
            _ => vec![],
        };
        grants.push(Grant {
            key: GrantKey {
                grant_type: TEAM_MEMBERSHIP.into(),
                enterprise_account: ea_of(&team[i]),
                team: team[i].clone(),
                app: String::new(),
                email: norm(&email[i]),
            },
            email: email[i].clone(),
            role: role[i].clone(),
            permissions: permissions.into_iter().map(str::to_owned).collect(),
            federated: fed[i],
            two_factor: tfa[i],
            user_id: uid[i].clone(),
        });
    }

    // Role-implied grants are most of this table (every member × every team app): only direct
    // grants are read, filtered before anything is materialised.
    let ap = {
        let mut ctx = polars::sql::SQLContext::new();
        ctx.register("app_permissions", snapshot.scan("app_permissions")?);
        let direct = ctx
            .execute("SELECT * FROM app_permissions WHERE ARRAY_CONTAINS(sources, 'explicit') OR ARRAY_CONTAINS(sources, 'personal-collaborator')")
            .and_then(|lf| lf.collect())
            .map_err(|source| SnapshotError::Column { table: "app_permissions".into(), column: "sources".into(), source })?;
        Rows::new("app_permissions", direct)
    };
    let (app, team, email, perms, sources, uid) = (
        ap.string("app_name")?,
        ap.str("team_name")?,
        ap.string("email")?,
        ap.list("permissions")?,
        ap.list("sources")?,
        ap.str("user_id")?,
    );
    for i in 0..ap.len() {
        let grant_type = if sources[i].iter().any(|s| s == "personal-collaborator") {
            PERSONAL_APP_COLLABORATOR
        } else if sources[i].iter().any(|s| s == "explicit") {
            APP_PERMISSION
        } else {
            continue;
        };
        let team = team[i].clone().unwrap_or_default();
        grants.push(Grant {
            key: GrantKey {
                grant_type: grant_type.into(),
                enterprise_account: ea_of(&team),
                team,
                app: app[i].clone(),
                email: norm(&email[i]),
            },
            email: email[i].clone(),
            role: String::new(),
            permissions: perms[i].clone(),
            federated: None,
            two_factor: None,
            user_id: uid[i].clone(),
        });
    }

    let inv = read("team_invitations")?;
    let (team, email, role, uid) =
        (inv.string("team_name")?, inv.string("email")?, inv.string("role")?, inv.str("user_id")?);
    for i in 0..inv.len() {
        grants.push(Grant {
            key: GrantKey {
                grant_type: TEAM_INVITATION.into(),
                enterprise_account: ea_of(&team[i]),
                team: team[i].clone(),
                app: String::new(),
                email: norm(&email[i]),
            },
            email: email[i].clone(),
            role: role[i].clone(),
            permissions: Vec::new(),
            federated: None,
            two_factor: None,
            user_id: uid[i].clone(),
        });
    }

    let em = read("enterprise_members")?;
    let (ea, email, perms, tfa, fed, uid) = (
        em.string("enterprise_account_name")?,
        em.string("email")?,
        em.list("permissions")?,
        em.bool("two_factor_authentication")?,
        em.bool("federated")?,
        em.str("user_id")?,
    );
    for i in 0..em.len() {
        grants.push(Grant {
            key: GrantKey {
                grant_type: ENTERPRISE_MEMBERSHIP.into(),
                enterprise_account: ea[i].clone(),
                team: String::new(),
                app: String::new(),
                email: norm(&email[i]),
            },
            email: email[i].clone(),
            role: String::new(),
            permissions: perms[i].clone(),
            federated: fed[i],
            two_factor: tfa[i],
            user_id: uid[i].clone(),
        });
    }
    grants.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(grants)
}

/// What a snapshot did not read, grant by grant: the one answer `report`, `diff` and `certify`
/// give to "is this grant absent, or just not read?". A gap leaves out the grants of the tables it
/// names, inside the scope it names (a team, an app, an enterprise account, or everything).
#[derive(Debug, Clone, Default)]
pub struct Unread {
    scopes: Vec<UnreadScope>,
}

/// One scope not read, with the grant types it leaves out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnreadScope {
    pub grant_types: Vec<String>,
    /// `team acme-payments`, `app acme-billing`, `enterprise account acme`, `the whole organisation`.
    pub label: String,
    /// The team's name, for a team's gap.
    pub team: Option<String>,
    pub app: Option<String>,
    pub enterprise_account: Option<String>,
    /// Only teams the snapshot does not list (a failed list of an account's teams).
    pub unlisted_teams_only: bool,
    /// What was not read and why, the scope named first and its id as a detail.
    pub reason: String,
}

fn grant_types_of(table: &str) -> &'static [&'static str] {
    match table {
        "team_members" => &[TEAM_MEMBERSHIP],
        "team_invitations" => &[TEAM_INVITATION],
        "app_permissions" => &[APP_PERMISSION, PERSONAL_APP_COLLABORATOR],
        "enterprise_members" => &[ENTERPRISE_MEMBERSHIP],
        // A team missing from the list is missing with everything in it.
        "teams" => &[TEAM_MEMBERSHIP, TEAM_INVITATION, APP_PERMISSION],
        _ => &[],
    }
}

impl Unread {
    pub fn of(snapshot: &Snapshot) -> Result<Unread, SnapshotError> {
        let mut names = Scopes::read(snapshot)?;
        let gaps = &snapshot.manifest().gaps;
        names.learn(gaps);
        Ok(Self::from_gaps(gaps, &names))
    }

    pub fn from_gaps(gaps: &[Gap], names: &Scopes) -> Unread {
        // One entry per (place, tables-only-teams) so a scope is told once with all its gaps.
        let mut by_place: BTreeMap<(Place, bool), Vec<&Gap>> = BTreeMap::new();
        for g in gaps {
            if g.tables.iter().any(|t| !grant_types_of(t).is_empty()) {
                let teams_only = g.tables.iter().filter(|t| !grant_types_of(t).is_empty()).all(|t| t == "teams");
                by_place.entry((Place::of(g), teams_only)).or_default().push(g);
            }
        }
        let scopes = by_place
            .into_iter()
            .map(|((place, teams_only), gaps)| {
                let mut types: Vec<String> = Vec::new();
                for g in &gaps {
                    for t in &g.tables {
                        for ty in grant_types_of(t) {
                            if !types.iter().any(|x| x == ty) {
                                types.push((*ty).to_owned());
                            }
                        }
                    }
                }
                // Personal apps belong to no team or account: a team's gap hides none of them.
                if matches!(place, Place::Team(_) | Place::Enterprise(_)) {
                    types.retain(|t| t != PERSONAL_APP_COLLABORATOR);
                }
                let (team, app, enterprise_account) = match &place {
                    Place::All => (None, None, None),
                    Place::Team(id) => (Some(names.team_name(id).unwrap_or(id).to_owned()), None, None),
                    Place::App(_) => (None, gaps.iter().find_map(|g| g.app_name.clone()), None),
                    Place::Enterprise(id) => (None, None, Some(names.ea_name(id).unwrap_or(id).to_owned())),
                };
                UnreadScope {
                    grant_types: types,
                    label: names.label(&place),
                    team,
                    app,
                    enterprise_account,
                    unlisted_teams_only: teams_only,
                    reason: names.reason(&place, &gaps),
                }
            })
            .collect();
        Unread { scopes }
    }

    /// Every scope not read.
    pub fn scopes(&self) -> &[UnreadScope] {
        &self.scopes
    }

    /// The scope that leaves this grant unread, if any. `listed_teams` are the teams the snapshot
    /// lists: a failed list of teams leaves out only the others.
    pub fn covers(&self, key: &GrantKey, listed_teams: &std::collections::BTreeSet<String>) -> Option<&UnreadScope> {
        self.scopes.iter().find(|s| {
            if !s.grant_types.contains(&key.grant_type) {
                return false;
            }
            if s.unlisted_teams_only && (key.team.is_empty() || listed_teams.contains(&key.team)) {
                return false;
            }
            match (&s.team, &s.app, &s.enterprise_account) {
                (Some(team), _, _) => *team == key.team,
                (None, Some(app), _) => *app == key.app,
                (None, None, Some(ea)) => *ea == key.enterprise_account,
                (None, None, None) => true,
            }
        })
    }

    /// Why a team's member list is not known (its seats cannot be counted), if it is not.
    pub fn team_members(&self, team: &str) -> Option<&UnreadScope> {
        self.scopes.iter().find(|s| {
            s.grant_types.iter().any(|t| t == TEAM_MEMBERSHIP)
                && !s.unlisted_teams_only
                && match (&s.team, &s.app, &s.enterprise_account) {
                    (Some(t), _, _) => t == team,
                    (None, None, None) => true,
                    _ => false,
                }
        })
    }
}
