//! Loading a fixture folder (`docs/fixtures.md`) into memory, validating it once so the server
//! never meets a half-formed object, plus the lookups the server needs per request.
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Value};

use super::SandboxError;

/// A bearer token the sandbox accepts, and the account (email) it belongs to.
#[derive(Clone, PartialEq, Eq)]
pub struct Token {
    pub token: String,
    pub account: String,
}

/// A loaded organisation. Objects stay `serde_json::Value` so they are served exactly as written.
#[derive(Clone)]
pub struct Fixture {
    pub(crate) now: DateTime<Utc>,
    pub(crate) tokens: Vec<Token>,
    pub(crate) accounts: Vec<Value>,
    pub(crate) enterprise_accounts: Vec<Value>,
    /// Keyed by enterprise-account name, as the folder layout is.
    pub(crate) ea_members: BTreeMap<String, Vec<Value>>,
    pub(crate) ea_events: BTreeMap<String, Vec<Value>>,
    pub(crate) teams: Vec<Value>,
    /// Keyed by team name.
    pub(crate) team_members: BTreeMap<String, Vec<Value>>,
    pub(crate) team_invitations: BTreeMap<String, Vec<Value>>,
    pub(crate) team_identity_providers: BTreeMap<String, Vec<Value>>,
    /// `GET /teams/{team}/features`; a team without a file has none (an empty list).
    pub(crate) team_features: BTreeMap<String, Vec<Value>>,
    pub(crate) apps: Vec<Value>,
    /// Keyed by app name.
    pub(crate) app_collaborators: BTreeMap<String, Vec<Value>>,
    pub(crate) app_releases: BTreeMap<String, Vec<Value>>,
    pub(crate) app_builds: BTreeMap<String, Vec<Value>>,
    pub(crate) oauth_authorizations: Vec<Value>,
}

// Tokens are secrets even in a fixture (they may be copied from a real export): Debug output,
// which ends up in logs and test failures, shows who a token belongs to, never the token.
impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Token").field("token", &"<redacted>").field("account", &self.account).finish()
    }
}

// A summary: the full organisation (and its OAuth secrets) has no place in a log line.
impl std::fmt::Debug for Fixture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fixture")
            .field("now", &self.now)
            .field("tokens", &self.tokens)
            .field("teams", &self.teams.len())
            .field("apps", &self.apps.len())
            .field("enterprise_accounts", &self.enterprise_accounts.len())
            .finish_non_exhaustive()
    }
}

impl Fixture {
    /// Read and validate a fixture folder. Errors name the file and what is wrong with it.
    pub fn load(dir: &Path) -> Result<Fixture, SandboxError> {
        if !dir.is_dir() {
            return Err(SandboxError::MissingFixture(dir.to_path_buf()));
        }
        let (now, tokens) = load_sandbox_json(&dir.join("sandbox.json"))?;
        let accounts = read_array(&dir.join("accounts.json"), &["id", "email"])?;
        let enterprise_accounts = read_array(&dir.join("enterprise-accounts.json"), &["id", "name"])?;
        let teams = read_array(&dir.join("teams.json"), &["id", "name"])?;
        let apps = read_array(&dir.join("apps.json"), &["id", "name"])?;
        let oauth_authorizations = read_array(&dir.join("oauth-authorizations.json"), &["id"])?;

        let ea_names = names(&enterprise_accounts);
        let team_names = names(&teams);
        let app_names = names(&apps);
        let ea_dir = dir.join("enterprise-accounts");
        let team_dir = dir.join("teams");
        let app_dir = dir.join("apps");

        let fixture = Fixture {
            now,
            ea_members: read_per_owner(
                &ea_dir,
                "members.json",
                &ea_names,
                "enterprise account",
                "enterprise-accounts.json",
            )?,
            ea_events: read_per_owner(
                &ea_dir,
                "events.json",
                &ea_names,
                "enterprise account",
                "enterprise-accounts.json",
            )?,
            team_members: read_per_owner(&team_dir, "members.json", &team_names, "team", "teams.json")?,
            team_invitations: read_per_owner(&team_dir, "invitations.json", &team_names, "team", "teams.json")?,
            team_identity_providers: read_per_owner(
                &team_dir,
                "identity-providers.json",
                &team_names,
                "team",
                "teams.json",
            )?,
            team_features: read_per_owner(&team_dir, "features.json", &team_names, "team", "teams.json")?,
            app_collaborators: read_per_owner(&app_dir, "collaborators.json", &app_names, "app", "apps.json")?,
            app_releases: read_per_owner(&app_dir, "releases.json", &app_names, "app", "apps.json")?,
            app_builds: read_per_owner(&app_dir, "builds.json", &app_names, "app", "apps.json")?,
            tokens,
            accounts,
            enterprise_accounts,
            teams,
            apps,
            oauth_authorizations,
        };
        for token in &fixture.tokens {
            if fixture.account(&token.account).is_none() {
                return Err(invalid(
                    &dir.join("sandbox.json"),
                    format!("token for {} has no account with that email in accounts.json", token.account),
                ));
            }
        }
        for (ea, events) in &fixture.ea_events {
            let path = ea_dir.join(ea).join("events.json");
            for (i, event) in events.iter().enumerate() {
                if created_at(event).is_none() {
                    return Err(invalid(&path, format!("item {i} has no RFC 3339 `created_at`")));
                }
            }
        }
        Ok(fixture)
    }

    /// The fixture's fixed "now": every timestamp in it is written relative to this instant.
    pub fn now(&self) -> DateTime<Utc> {
        self.now
    }

    /// Move the fixture's "now", e.g. to run an audit "later" over the same organisation.
    pub fn set_now(&mut self, now: DateTime<Utc>) {
        self.now = now;
    }

    /// The tokens the sandbox accepts, with their accounts.
    pub fn tokens(&self) -> &[Token] {
        &self.tokens
    }

    /// Teams as served by `/teams`.
    pub fn teams(&self) -> &[Value] {
        &self.teams
    }

    /// Apps as served by `/apps`.
    pub fn apps(&self) -> &[Value] {
        &self.apps
    }

    /// The members of a team (by name), as served by `/teams/{team}/members`.
    pub fn team_members(&self, team: &str) -> &[Value] {
        self.team_members.get(team).map_or(&[], Vec::as_slice)
    }

    /// How many collaborators, releases and builds an app (by name) has, as served by
    /// `/apps/{app}/collaborators`, `/releases` and `/builds`: what a per-app crawl would page
    /// through (the extract benchmark's naive plan).
    pub fn app_list_sizes(&self, app: &str) -> (usize, usize, usize) {
        let len = |lists: &BTreeMap<String, Vec<Value>>| lists.get(app).map_or(0, Vec::len);
        (len(&self.app_collaborators), len(&self.app_releases), len(&self.app_builds))
    }

    /// Remove a member from a team; false when there was no such member.
    pub fn remove_team_member(&mut self, team: &str, email: &str) -> bool {
        let Some(members) = self.team_members.get_mut(team) else {
            return false;
        };
        let before = members.len();
        members.retain(|m| str_at(m, &["email"]) != Some(email));
        members.len() != before
    }

    /// Change a member's role in a team; false when there was no such member.
    pub fn set_member_role(&mut self, team: &str, email: &str, role: &str) -> bool {
        let now = timestamp(self.now);
        let Some(members) = self.team_members.get_mut(team) else {
            return false;
        };
        match members.iter_mut().find(|m| str_at(m, &["email"]) == Some(email)) {
            Some(member) => {
                member["role"] = json!(role);
                member["updated_at"] = json!(now);
                true
            }
            None => false,
        }
    }

    /// Revoke one of the audit identity's OAuth authorizations; false when there was none.
    pub fn remove_authorization(&mut self, id: &str) -> bool {
        let before = self.oauth_authorizations.len();
        self.oauth_authorizations.retain(|a| str_at(a, &["id"]) != Some(id));
        self.oauth_authorizations.len() != before
    }

    /// Invite `email` to a team, invited by the first token's account; false when the team is
    /// unknown. The invitation id is derived from team and email so reruns are identical.
    pub fn add_invitation(&mut self, team: &str, email: &str, role: &str, at: DateTime<Utc>) -> bool {
        let Some(team_obj) = self.teams.iter().find(|t| str_at(t, &["name"]) == Some(team)) else {
            return false;
        };
        let team_ref = json!({"id": team_obj["id"], "name": team_obj["name"]});
        let inviter = self
            .tokens
            .first()
            .and_then(|t| self.account(&t.account))
            .map_or(Value::Null, |a| json!({"id": a["id"], "email": a["email"], "name": a["name"]}));
        let at = timestamp(at);
        let invitation = json!({
            "id": stable_uuid(&["invitation", team, email]),
            "user": {"id": stable_uuid(&["user", email]), "email": email, "name": Value::Null},
            "invited_by": inviter,
            "team": team_ref,
            "role": role,
            "created_at": at,
            "updated_at": at,
        });
        self.team_invitations.entry(team.to_string()).or_default().push(invitation);
        true
    }

    pub(crate) fn account(&self, email: &str) -> Option<&Value> {
        self.accounts.iter().find(|a| str_at(a, &["email"]) == Some(email))
    }
}

/// Lookups by id or name, built once when the server starts (the fixture is frozen from then on).
#[derive(Debug, Default)]
pub(crate) struct Index {
    teams: HashMap<String, usize>,
    apps: HashMap<String, usize>,
    eas: HashMap<String, usize>,
    /// Team name → indexes into `apps`.
    pub(crate) team_apps: HashMap<String, Vec<usize>>,
}

impl Index {
    pub(crate) fn new(fixture: &Fixture) -> Index {
        let mut index = Index::default();
        by_id_and_name(&fixture.teams, &mut index.teams);
        by_id_and_name(&fixture.apps, &mut index.apps);
        by_id_and_name(&fixture.enterprise_accounts, &mut index.eas);
        for (i, app) in fixture.apps.iter().enumerate() {
            let team = str_at(app, &["team", "name"]).map(str::to_string).or_else(|| {
                let id = str_at(app, &["team", "id"])?;
                let t = index.teams.get(id)?;
                str_at(&fixture.teams[*t], &["name"]).map(str::to_string)
            });
            if let Some(team) = team {
                index.team_apps.entry(team).or_default().push(i);
            }
        }
        index
    }

    pub(crate) fn team<'f>(&self, fixture: &'f Fixture, key: &str) -> Option<&'f Value> {
        self.teams.get(key).map(|i| &fixture.teams[*i])
    }

    pub(crate) fn app<'f>(&self, fixture: &'f Fixture, key: &str) -> Option<&'f Value> {
        self.apps.get(key).map(|i| &fixture.apps[*i])
    }

    pub(crate) fn ea<'f>(&self, fixture: &'f Fixture, key: &str) -> Option<&'f Value> {
        self.eas.get(key).map(|i| &fixture.enterprise_accounts[*i])
    }
}

fn by_id_and_name(items: &[Value], map: &mut HashMap<String, usize>) {
    for (i, item) in items.iter().enumerate() {
        for key in ["id", "name"] {
            if let Some(k) = str_at(item, &[key]) {
                map.entry(k.to_string()).or_insert(i);
            }
        }
    }
}

/// A nested string field, e.g. `str_at(app, &["team", "name"])`.
pub(crate) fn str_at<'v>(value: &'v Value, path: &[&str]) -> Option<&'v str> {
    path.iter().try_fold(value, |v, key| v.get(key))?.as_str()
}

pub(crate) fn created_at(value: &Value) -> Option<DateTime<Utc>> {
    let text = str_at(value, &["created_at"])?;
    DateTime::parse_from_rfc3339(text).ok().map(|t| t.with_timezone(&Utc))
}

pub(crate) fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A UUID-shaped id that depends only on its inputs, so generated objects are reproducible.
pub(crate) fn stable_uuid(parts: &[&str]) -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    let hex = hex::encode(&hasher.finalize()[..16]);
    format!("{}-{}-4{}-8{}-{}", &hex[0..8], &hex[8..12], &hex[13..16], &hex[17..20], &hex[20..32])
}

fn names(items: &[Value]) -> Vec<String> {
    items.iter().filter_map(|v| str_at(v, &["name"]).map(str::to_string)).collect()
}

fn invalid(path: &Path, reason: String) -> SandboxError {
    SandboxError::Invalid { path: path.to_path_buf(), reason }
}

fn read_json(path: &Path) -> Result<Value, SandboxError> {
    let text =
        std::fs::read_to_string(path).map_err(|source| SandboxError::Read { path: path.to_path_buf(), source })?;
    serde_json::from_str(&text).map_err(|source| SandboxError::Json { path: path.to_path_buf(), source })
}

fn load_sandbox_json(path: &Path) -> Result<(DateTime<Utc>, Vec<Token>), SandboxError> {
    let value = read_json(path)?;
    let now_text = str_at(&value, &["now"]).ok_or_else(|| invalid(path, "missing string `now` (RFC 3339)".into()))?;
    let now = DateTime::parse_from_rfc3339(now_text)
        .map_err(|e| invalid(path, format!("`now` {now_text:?} is not RFC 3339: {e}")))?
        .with_timezone(&Utc);
    let items =
        value.get("tokens").and_then(Value::as_array).ok_or_else(|| invalid(path, "missing array `tokens`".into()))?;
    let mut tokens = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        match (str_at(item, &["token"]), str_at(item, &["account"])) {
            (Some(token), Some(account)) => {
                tokens.push(Token { token: token.to_string(), account: account.to_string() })
            }
            _ => return Err(invalid(path, format!("tokens[{i}] needs string `token` and `account`"))),
        }
    }
    if tokens.is_empty() {
        return Err(invalid(path, "`tokens` is empty: no request could authenticate".into()));
    }
    Ok((now, tokens))
}

/// Read an array of objects; a missing file is an empty list (the format says so).
fn read_array(path: &Path, required: &[&str]) -> Result<Vec<Value>, SandboxError> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    let Value::Array(items) = read_json(path)? else {
        return Err(invalid(path, "expected a JSON array of objects".into()));
    };
    for (i, item) in items.iter().enumerate() {
        if !item.is_object() {
            return Err(invalid(path, format!("item {i} is not an object")));
        }
        for field in required {
            if str_at(item, &[field]).is_none() {
                return Err(invalid(path, format!("item {i} has no string `{field}`")));
            }
        }
    }
    Ok(items)
}

/// Read `<dir>/<owner>/<file>` for every owner folder, refusing folders that name no known owner
/// (a typo there would otherwise silently serve an empty list).
fn read_per_owner(
    dir: &Path,
    file: &str,
    known: &[String],
    kind: &str,
    listing: &str,
) -> Result<BTreeMap<String, Vec<Value>>, SandboxError> {
    let mut out = BTreeMap::new();
    if !dir.is_dir() {
        return Ok(out);
    }
    let entries = std::fs::read_dir(dir).map_err(|source| SandboxError::Read { path: dir.to_path_buf(), source })?;
    let mut folders: Vec<PathBuf> = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| SandboxError::Read { path: dir.to_path_buf(), source })?;
        if entry.path().is_dir() {
            folders.push(entry.path());
        }
    }
    folders.sort();
    for folder in folders {
        let Some(owner) = folder.file_name().and_then(|n| n.to_str()).map(str::to_string) else {
            return Err(invalid(&folder, "folder name is not UTF-8".into()));
        };
        if !known.contains(&owner) {
            return Err(invalid(&folder, format!("no {kind} named `{owner}` in {listing}")));
        }
        let items = read_array(&folder.join(file), &["id"])?;
        if !items.is_empty() {
            out.insert(owner, items);
        }
    }
    Ok(out)
}
