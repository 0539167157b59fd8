//! Where a gap is, by name: the team, app or enterprise account a failed read covers, and what
//! contains what (an app is in a team, a team in an enterprise account), read from the snapshot.
//! Every message about a gap (rule results, reports, diff, certify) names the scope the way a
//! reader knows it, with the id only as a second detail, and cuts exactly that scope.
use std::collections::{BTreeMap, BTreeSet};

use polars::prelude::*;

use super::{Gap, Snapshot, SnapshotError};

/// The place a gap covers.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Place {
    /// An organisation-wide list (`GET /teams`, `GET /apps`): no narrower scope.
    All,
    /// Team id.
    Team(String),
    /// App id.
    App(String),
    /// Enterprise account id.
    Enterprise(String),
}

impl Place {
    pub fn of(gap: &Gap) -> Place {
        // The narrowest scope named: an app's gap also names the app's team.
        if let Some(app) = &gap.app_id {
            Place::App(app.clone())
        } else if let Some(team) = &gap.team_id {
            Place::Team(team.clone())
        } else if let Some(ea) = &gap.enterprise_account_id {
            Place::Enterprise(ea.clone())
        } else {
            Place::All
        }
    }
}

/// Names and containment of the snapshot's teams, apps and enterprise accounts.
#[derive(Debug, Clone, Default)]
pub struct Scopes {
    team_name: BTreeMap<String, String>,
    team_ea: BTreeMap<String, String>,
    ea_name: BTreeMap<String, String>,
    app_name: BTreeMap<String, String>,
    app_team: BTreeMap<String, String>,
}

fn strings(table: &str, df: &DataFrame, name: &str) -> Result<Vec<Option<String>>, SnapshotError> {
    let bad = |source| SnapshotError::Column { table: table.to_owned(), column: name.to_owned(), source };
    let col = df.column(name).map_err(bad)?;
    let s = col.as_materialized_series().cast(&DataType::String).map_err(bad)?;
    Ok(s.str().map_err(bad)?.iter().map(|v| v.map(str::to_owned)).collect())
}

fn pairs(keys: Vec<Option<String>>, values: Vec<Option<String>>) -> BTreeMap<String, String> {
    keys.into_iter().zip(values).filter_map(|(k, v)| Some((k?, v?))).collect()
}

impl Scopes {
    pub fn read(snapshot: &Snapshot) -> Result<Scopes, SnapshotError> {
        let teams = snapshot.read("teams")?;
        let eas = snapshot.read("enterprise_accounts")?;
        let apps = snapshot
            .scan("apps")?
            .select([col("id"), col("name"), col("team_id")])
            .collect()
            .map_err(|source| SnapshotError::Table { table: "apps".into(), source })?;
        let (t, e, a) = (
            |c| strings("teams", &teams, c),
            |c| strings("enterprise_accounts", &eas, c),
            |c| strings("apps", &apps, c),
        );
        let mut s = Scopes {
            team_name: pairs(t("id")?, t("name")?),
            team_ea: pairs(t("id")?, t("enterprise_account_id")?),
            ea_name: pairs(e("id")?, e("name")?),
            app_name: pairs(a("id")?, a("name")?),
            app_team: pairs(a("id")?, a("team_id")?),
        };
        // A team listed only under its enterprise account still names the account.
        let ea_of_team = pairs(t("enterprise_account_id")?, t("enterprise_account_name")?);
        for (id, name) in ea_of_team {
            s.ea_name.entry(id).or_insert(name);
        }
        Ok(s)
    }

    /// Add what the gaps themselves name (a gap may be about a team or app the tables lack).
    pub fn learn(&mut self, gaps: &[Gap]) {
        for g in gaps {
            if let (Some(id), Some(name)) = (&g.team_id, &g.team_name) {
                self.team_name.entry(id.clone()).or_insert_with(|| name.clone());
            }
            if let (Some(id), Some(name)) = (&g.app_id, &g.app_name) {
                self.app_name.entry(id.clone()).or_insert_with(|| name.clone());
            }
            if let (Some(app), Some(team)) = (&g.app_id, &g.team_id) {
                self.app_team.entry(app.clone()).or_insert_with(|| team.clone());
            }
        }
    }

    pub fn team_name(&self, id: &str) -> Option<&str> {
        self.team_name.get(id).map(String::as_str)
    }

    pub fn ea_name(&self, id: &str) -> Option<&str> {
        self.ea_name.get(id).map(String::as_str)
    }

    /// The enterprise account a team belongs to.
    pub fn team_ea(&self, team_id: &str) -> Option<&str> {
        self.team_ea.get(team_id).map(String::as_str)
    }

    /// The team an app belongs to (none for a personal app).
    pub fn app_team(&self, app_id: &str) -> Option<&str> {
        self.app_team.get(app_id).map(String::as_str)
    }

    /// Names of the teams of an enterprise account, sorted.
    pub fn teams_of(&self, ea_id: &str) -> Vec<String> {
        let names: BTreeSet<String> = self
            .team_ea
            .iter()
            .filter(|(_, ea)| ea.as_str() == ea_id)
            .filter_map(|(t, _)| self.team_name.get(t).cloned())
            .collect();
        names.into_iter().collect()
    }

    /// `team:acme-payments`, `app:acme-billing`, `enterprise_account:acme`, or `all`: the key a
    /// rule result lists a scope under. An id the snapshot cannot name stands in for the name.
    pub fn key(&self, place: &Place) -> String {
        match place {
            Place::All => "all".to_owned(),
            Place::Team(id) => format!("team:{}", self.team_name(id).unwrap_or(id)),
            Place::App(id) => format!("app:{}", self.app_name.get(id).map(String::as_str).unwrap_or(id)),
            Place::Enterprise(id) => format!("enterprise_account:{}", self.ea_name(id).unwrap_or(id)),
        }
    }

    /// `team acme-payments`, `app acme-billing`, `enterprise account acme`, `the whole organisation`.
    pub fn label(&self, place: &Place) -> String {
        match place {
            Place::All => "the whole organisation".to_owned(),
            Place::Team(id) => format!("team {}", self.team_name(id).unwrap_or(id)),
            Place::App(id) => format!("app {}", self.app_name.get(id).map(String::as_str).unwrap_or(id)),
            Place::Enterprise(id) => format!("enterprise account {}", self.ea_name(id).unwrap_or(id)),
        }
    }

    /// `team id 824f…`, the second detail after the name.
    pub fn id_detail(place: &Place) -> Option<String> {
        match place {
            Place::All => None,
            Place::Team(id) => Some(format!("team id {id}")),
            Place::App(id) => Some(format!("app id {id}")),
            Place::Enterprise(id) => Some(format!("enterprise account id {id}")),
        }
    }

    /// Why a place was not read, from its gaps: `team acme-payments not read: GET
    /// /teams/{team}/members, GET /teams/{team}/apps: HTTP 403 forbidden: You do not have access
    /// to this team. (team id 824f…)`. Gaps that failed the same way are told once.
    pub fn reason(&self, place: &Place, gaps: &[&Gap]) -> String {
        let mut by_failure: BTreeMap<String, Vec<&str>> = BTreeMap::new();
        for g in gaps {
            let endpoints = by_failure.entry(failure(g)).or_default();
            if !endpoints.contains(&g.endpoint.as_str()) {
                endpoints.push(g.endpoint.as_str());
            }
        }
        let what: Vec<String> =
            by_failure.into_iter().map(|(failure, endpoints)| format!("{}: {failure}", endpoints.join(", "))).collect();
        let id = Self::id_detail(place).map(|d| format!(" ({d})")).unwrap_or_default();
        format!("{} not read: {}{id}", self.label(place), what.join("; "))
    }
}

/// `HTTP 403 forbidden: You do not have access to this team.`
pub fn failure(g: &Gap) -> String {
    let mut parts = Vec::new();
    if let Some(s) = g.status {
        parts.push(format!("HTTP {s}"));
    }
    if let Some(id) = &g.error_id {
        parts.push(id.clone());
    }
    let head = parts.join(" ");
    match (head.is_empty(), g.message.trim().is_empty()) {
        (true, true) => "failed".to_owned(),
        (true, false) => g.message.trim().to_owned(),
        (false, true) => head,
        (false, false) => format!("{head}: {}", g.message.trim()),
    }
}
