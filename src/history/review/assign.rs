//! Who reviews which grant. The defaults follow who answers for the access on Heroku: a team's
//! admins for its members, invitations and app grants, the Enterprise Account's managers for its
//! membership, a personal app's owner for its collaborators. Nobody reviews their own access: the
//! next admin, else the account's managers, else the fallback reviewer takes that row. A
//! `--reviewers` file names other reviewers per team, app or Enterprise Account.
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::analyze::inputs::{email_norm, line_of, read_utf8, CsvText};
use crate::analyze::InputError;
use crate::history::HistoryError;
use crate::snapshot::grants::{
    Grant, GrantKey, APP_PERMISSION, ENTERPRISE_MEMBERSHIP, PERSONAL_APP_COLLABORATOR, TEAM_INVITATION, TEAM_MEMBERSHIP,
};
use crate::snapshot::Snapshot;

/// The scopes a `--reviewers` file can name, as its `scope` column (or TOML table) writes them.
pub const SCOPES: [&str; 3] = ["team", "app", "enterprise-account"];

/// Who could review what, read from the review snapshot.
#[derive(Debug, Clone, Default)]
pub struct Directory {
    /// Team → its admins (role admin or owner), sorted, without excluded accounts.
    admins: BTreeMap<String, Vec<String>>,
    team_ea: BTreeMap<String, String>,
    /// Enterprise Account → members with `manage`, sorted, without excluded accounts.
    managers: BTreeMap<String, Vec<String>>,
    /// Personal app → its owner.
    owners: BTreeMap<String, String>,
    /// App → its team, for team apps.
    app_team: BTreeMap<String, String>,
    /// Email → the Heroku user ids it is known under: one person across emails.
    ids: BTreeMap<String, BTreeSet<String>>,
}

fn strings(snapshot: &Snapshot, table: &str, columns: &[&str]) -> Result<Vec<Vec<Option<String>>>, HistoryError> {
    let frame = snapshot.read(table)?;
    let bad = |e: polars::error::PolarsError| {
        HistoryError::input(snapshot.dir().display().to_string(), None, format!("{table}: {e}"))
    };
    let mut out = Vec::new();
    for c in columns {
        let col = frame.column(c).map_err(bad)?;
        let text = col.str().map_err(bad)?;
        out.push(text.iter().map(|v| v.map(str::to_owned)).collect());
    }
    Ok(out)
}

impl Directory {
    /// `excluded` says which accounts never review (the audit identity, service accounts): a
    /// robot cannot certify anyone's access.
    pub fn of(snapshot: &Snapshot, grants: &[Grant], excluded: &dyn Fn(&str) -> bool) -> Result<Self, HistoryError> {
        let mut d = Directory::default();
        for g in grants {
            if let Some(id) = &g.user_id {
                d.ids.entry(g.key.email.clone()).or_default().insert(id.clone());
            }
            match g.key.grant_type.as_str() {
                TEAM_MEMBERSHIP if matches!(g.role.as_str(), "admin" | "owner") && !excluded(&g.key.email) => {
                    d.admins.entry(g.key.team.clone()).or_default().push(g.key.email.clone());
                }
                ENTERPRISE_MEMBERSHIP if g.permissions.iter().any(|p| p == "manage") && !excluded(&g.key.email) => {
                    d.managers.entry(g.key.enterprise_account.clone()).or_default().push(g.key.email.clone());
                }
                _ => {}
            }
            if !g.key.team.is_empty() && !g.key.enterprise_account.is_empty() {
                d.team_ea.insert(g.key.team.clone(), g.key.enterprise_account.clone());
            }
        }
        for list in d.admins.values_mut().chain(d.managers.values_mut()) {
            list.sort();
            list.dedup();
        }
        let [name, team, personal_owner] =
            <[Vec<Option<String>>; 3]>::try_from(strings(snapshot, "apps", &["name", "team_name", "owner_email"])?)
                .unwrap_or_default();
        let personal = snapshot.read("apps")?;
        let personal = personal
            .column("personal")
            .and_then(|c| c.bool().cloned())
            .map(|c| c.iter().collect::<Vec<_>>())
            .unwrap_or_default();
        for i in 0..name.len() {
            let Some(app) = name[i].clone() else { continue };
            if let Some(t) = team[i].clone() {
                d.app_team.insert(app.clone(), t);
            }
            if personal.get(i).copied().flatten() == Some(true) {
                if let Some(owner) = personal_owner[i].as_deref().map(email_norm).filter(|o| !excluded(o)) {
                    d.owners.insert(app, owner);
                }
            }
        }
        Ok(d)
    }

    /// Whether `reviewer` is the person who holds the grant: the same email, or another email of
    /// the same Heroku user id.
    pub fn is_holder(&self, reviewer: &str, key: &GrantKey, holder_id: Option<&str>) -> bool {
        let r = email_norm(reviewer);
        r == key.email || holder_id.is_some_and(|id| self.ids.get(&r).is_some_and(|ids| ids.contains(id)))
    }

    /// The Heroku user ids an email is known under.
    pub fn user_ids(&self, email: &str) -> Vec<String> {
        self.ids.get(&email_norm(email)).map(|s| s.iter().cloned().collect()).unwrap_or_default()
    }
}

/// Reviewers named in a `--reviewers` file, in the order given (the first reviews, the next takes
/// the first's own rows).
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub file: Option<PathBuf>,
    team: BTreeMap<String, Vec<String>>,
    app: BTreeMap<String, Vec<String>>,
    enterprise_account: BTreeMap<String, Vec<String>>,
}

/// The names a `--reviewers` file may use, so a typo is an error rather than a silent default.
#[derive(Debug, Clone, Default)]
pub struct Known {
    pub teams: BTreeSet<String>,
    pub apps: BTreeSet<String>,
    pub enterprise_accounts: BTreeSet<String>,
}

impl Known {
    pub fn of(grants: &[Grant], directory: &Directory) -> Self {
        let mut k = Known::default();
        for g in grants {
            if !g.key.team.is_empty() {
                k.teams.insert(g.key.team.clone());
            }
            if !g.key.app.is_empty() {
                k.apps.insert(g.key.app.clone());
            }
            if !g.key.enterprise_account.is_empty() {
                k.enterprise_accounts.insert(g.key.enterprise_account.clone());
            }
        }
        k.teams.extend(directory.admins.keys().cloned());
        k.apps.extend(directory.app_team.keys().cloned());
        k.apps.extend(directory.owners.keys().cloned());
        k
    }
}

fn check_reviewer(path: &Path, line: usize, reviewer: &str) -> Result<String, InputError> {
    let r = email_norm(reviewer);
    let ok = r.split_once('@').is_some_and(|(a, b)| !a.is_empty() && !b.is_empty() && !b.contains('@'));
    if !ok {
        return Err(InputError::new(
            path,
            Some(line),
            format!("reviewer `{reviewer}` is not an email"),
            "name each reviewer by the email they use on Heroku",
        ));
    }
    Ok(r)
}

impl Overrides {
    /// Read `--reviewers`: a CSV with columns `scope,name,reviewer` (scope `team`, `app` or
    /// `enterprise-account`; several rows for one scope give the order), or a TOML file with
    /// tables `[team]`, `[app]`, `[enterprise-account]` mapping a name to an email or a list.
    pub fn read(path: &Path, known: &Known) -> Result<Self, HistoryError> {
        let text = read_utf8(path)?;
        let toml = path.extension().and_then(|e| e.to_str()).is_some_and(|e| e.eq_ignore_ascii_case("toml"));
        let mut o = Overrides { file: Some(path.to_owned()), ..Default::default() };
        if toml {
            o.read_toml(path, &text, known)?;
        } else {
            o.read_csv(path, &text, known)?;
        }
        Ok(o)
    }

    fn add(
        &mut self,
        path: &Path,
        line: usize,
        scope: &str,
        name: &str,
        reviewer: &str,
        known: &Known,
    ) -> Result<(), InputError> {
        let reviewer = check_reviewer(path, line, reviewer)?;
        let (map, names, what) = match scope.trim().to_lowercase().replace('_', "-").as_str() {
            "team" => (&mut self.team, &known.teams, "team"),
            "app" => (&mut self.app, &known.apps, "app"),
            "enterprise-account" | "enterprise" => {
                (&mut self.enterprise_account, &known.enterprise_accounts, "enterprise account")
            }
            other => {
                return Err(InputError::new(
                    path,
                    Some(line),
                    format!("scope `{other}` is not one hkaudit knows"),
                    format!("write one of {}", SCOPES.join(", ")),
                ))
            }
        };
        let name = name.trim();
        if !names.contains(name) {
            return Err(InputError::new(
                path,
                Some(line),
                format!("{what} `{name}` is not in the review snapshot"),
                format!("write the {what}'s name as Heroku shows it (names are case-sensitive)"),
            ));
        }
        let list = map.entry(name.to_owned()).or_default();
        if !list.contains(&reviewer) {
            list.push(reviewer);
        }
        Ok(())
    }

    fn read_csv(&mut self, path: &Path, text: &str, known: &Known) -> Result<(), HistoryError> {
        let csv = CsvText::new(path, text);
        let mut reader = csv.reader(true);
        let headers = csv.headers(&mut reader)?;
        let col = |name: &str| headers.iter().position(|h| super::super::worksheet::column_key(h) == name);
        let (Some(scope), Some(name), Some(reviewer)) = (col("scope"), col("name"), col("reviewer")) else {
            return Err(InputError::new(
                path,
                Some(csv.header_line()),
                "the reviewers file needs the columns scope, name, reviewer",
                "write a header `scope,name,reviewer` and one row per reviewer, e.g. `team,acme-web,wendy.web@acme.example`",
            )
            .into());
        };
        for record in csv.records(&mut reader) {
            let (line, r) = record?;
            if r.iter().all(|f| f.trim().is_empty()) {
                continue;
            }
            let get = |i: usize| r.get(i).unwrap_or_default();
            self.add(path, line, get(scope), get(name), get(reviewer), known)?;
        }
        Ok(())
    }

    fn read_toml(&mut self, path: &Path, text: &str, known: &Known) -> Result<(), HistoryError> {
        use toml::Spanned;
        type Table = BTreeMap<Spanned<String>, Spanned<toml::Value>>;
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Raw {
            team: Option<Table>,
            app: Option<Table>,
            #[serde(rename = "enterprise-account")]
            enterprise_account: Option<Table>,
        }
        let raw: Raw = toml::from_str(text).map_err(|e| {
            InputError::new(
                path,
                e.span().map(|s| line_of(text, s.start)),
                e.message().trim().replace('\n', " "),
                "use tables [team], [app] and [enterprise-account], each mapping a name to a reviewer's email or a list of emails",
            )
        })?;
        for (scope, table) in [("team", raw.team), ("app", raw.app), ("enterprise-account", raw.enterprise_account)] {
            for (name, value) in table.unwrap_or_default() {
                let line = line_of(text, value.span().start);
                let emails: Vec<String> = match value.get_ref() {
                    toml::Value::String(s) => vec![s.clone()],
                    toml::Value::Array(a) if a.iter().all(|v| v.is_str()) => {
                        a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect()
                    }
                    _ => {
                        return Err(InputError::new(
                            path,
                            Some(line),
                            format!("`{}` in [{scope}] is neither an email nor a list of emails", name.get_ref()),
                            "write name = \"reviewer@example.com\" or name = [\"first@example.com\", \"second@example.com\"]",
                        )
                        .into())
                    }
                };
                for e in emails {
                    self.add(path, line, scope, name.get_ref(), &e, known)?;
                }
            }
        }
        Ok(())
    }

    fn describe(&self, scope: &str, name: &str) -> String {
        let file = self
            .file
            .as_deref()
            .and_then(|f| f.file_name())
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_else(|| "--reviewers".into());
        format!("named for {scope} {name} in {file}")
    }
}

/// The reviewer of one grant, and why them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Assigned {
    pub reviewer: String,
    pub basis: String,
    /// Went to the fallback reviewer: nobody else could take it.
    pub fallback: bool,
}

/// Candidates in order, each list with the words that say why they review.
struct Candidates {
    lists: Vec<(Vec<String>, String)>,
    /// Why nobody in `lists` could take it, for the fallback's basis.
    nobody: String,
}

fn candidates(key: &GrantKey, d: &Directory, o: &Overrides) -> Candidates {
    let team_list = |team: &str| -> (Vec<String>, String) {
        match o.team.get(team) {
            Some(l) => (l.clone(), o.describe("team", team)),
            None => (d.admins.get(team).cloned().unwrap_or_default(), format!("admin of team {team}")),
        }
    };
    let ea_list = |ea: &str| -> (Vec<String>, String) {
        match o.enterprise_account.get(ea) {
            Some(l) => (l.clone(), o.describe("enterprise-account", ea)),
            None => (d.managers.get(ea).cloned().unwrap_or_default(), format!("manager of enterprise account {ea}")),
        }
    };
    let mut lists = Vec::new();
    let nobody;
    match key.grant_type.as_str() {
        TEAM_MEMBERSHIP | TEAM_INVITATION | APP_PERMISSION => {
            if key.grant_type == APP_PERMISSION {
                if let Some(l) = o.app.get(&key.app) {
                    lists.push((l.clone(), o.describe("app", &key.app)));
                }
            }
            let team = if key.team.is_empty() {
                d.app_team.get(&key.app).cloned().unwrap_or_default()
            } else {
                key.team.clone()
            };
            lists.push(team_list(&team));
            let ea = d.team_ea.get(&team).cloned().unwrap_or_else(|| key.enterprise_account.clone());
            if ea.is_empty() {
                nobody = format!("team {team} has no admin who can review this grant, and no enterprise account");
            } else {
                lists.push(ea_list(&ea));
                nobody = format!(
                    "neither an admin of team {team} nor a manager of enterprise account {ea} can review this grant"
                );
            }
        }
        ENTERPRISE_MEMBERSHIP => {
            lists.push(ea_list(&key.enterprise_account));
            nobody = format!("no manager of enterprise account {} can review this grant", key.enterprise_account);
        }
        PERSONAL_APP_COLLABORATOR => {
            match o.app.get(&key.app) {
                Some(l) => lists.push((l.clone(), o.describe("app", &key.app))),
                None => lists.push((
                    d.owners.get(&key.app).cloned().into_iter().collect(),
                    format!("owner of personal app {}", key.app),
                )),
            }
            nobody = format!("personal app {} has no owner who can review this grant", key.app);
        }
        other => nobody = format!("grant type {other} has no default reviewer"),
    }
    Candidates { lists, nobody }
}

/// The reviewer of `key`: the first candidate who is not its holder, else `fallback` (when not
/// the holder either). `None` when nobody can review it.
pub fn assign(
    key: &GrantKey,
    holder_id: Option<&str>,
    d: &Directory,
    o: &Overrides,
    fallback: Option<&str>,
) -> Result<Assigned, String> {
    let c = candidates(key, d, o);
    for (i, (list, why)) in c.lists.iter().enumerate() {
        let mut skipped_holder = false;
        for r in list {
            if d.is_holder(r, key, holder_id) {
                skipped_holder = true;
                continue;
            }
            let basis = match (i, skipped_holder) {
                (0, false) => why.clone(),
                (0, true) => format!("{why} (the first reviewer holds this grant)"),
                _ => format!("{why} (no other reviewer of the grant's own scope)"),
            };
            return Ok(Assigned { reviewer: r.clone(), basis, fallback: false });
        }
    }
    match fallback.map(email_norm) {
        Some(f) if !d.is_holder(&f, key, holder_id) => {
            Ok(Assigned { reviewer: f, basis: format!("fallback reviewer: {}", c.nobody), fallback: true })
        }
        Some(f) => Err(format!(
            "{}: {}, and the fallback reviewer {f} holds it: name a reviewer for it with --reviewers",
            key.display(),
            c.nobody
        )),
        None => Err(format!(
            "{}: {}: set `fallback_reviewer` under [review] in hkaudit.toml, or name a reviewer for it with --reviewers",
            key.display(),
            c.nobody
        )),
    }
}
