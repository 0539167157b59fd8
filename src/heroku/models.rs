//! The resources hkaudit reads, with only the fields the audit uses.
//!
//! Unknown fields are ignored (most team and enterprise resources are `development` stability and
//! grow fields). Fields that hold secrets are simply not declared: `access_token.token`,
//! `refresh_token.token` and `grant.code` of an OAuth authorization are dropped while the JSON is
//! being read, so no later code can store or print them.
//!
//! Real responses are looser than the schema suggests (`shared/heroku/NOTES.md` §7: `required` is
//! rare; the official CLI's recordings hold `identity_provider: {}`, archives without `url`,
//! members without `two_factor_authentication`). So every field is optional except what
//! identifies a resource (its `id`, or what [`Element::missing_identity`] checks), and every
//! nested reference is all-optional: `identity_provider: {}` reads as "no id", not as an
//! unreadable page. A missing boolean stays `None` (unknown), never `false`.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer};

pub use super::decode::Element;

pub type Timestamp = DateTime<Utc>;

/// `{id, name}` references (team, enterprise account, app).
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
pub struct NamedRef {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
}

/// `{id, email}` references to a user.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
pub struct UserRef {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default, alias = "full_name")]
    pub name: Option<String>,
    #[serde(default)]
    pub federated: Option<bool>,
}

/// A field that may be absent, `null`, or a value: the three mean different things for an
/// identity provider (absent: unknown; null: none; an object: that one).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Presence<T> {
    #[default]
    Absent,
    Null,
    Present(T),
}

impl<T> Presence<T> {
    pub fn value(&self) -> Option<&T> {
        match self {
            Presence::Present(v) => Some(v),
            _ => None,
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Presence<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Only called when the key is there (`#[serde(default)]` covers the absent case).
        Ok(match Option::<T>::deserialize(d)? {
            Some(v) => Presence::Present(v),
            None => Presence::Null,
        })
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct Account {
    #[serde(default)]
    pub id: Option<String>,
    pub email: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub federated: Option<bool>,
    #[serde(default)]
    pub two_factor_authentication: Option<bool>,
    #[serde(default)]
    pub last_login: Option<Timestamp>,
    #[serde(default)]
    pub created_at: Option<Timestamp>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
pub struct IdentityProviderRef {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct EnterpriseAccount {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub permissions: Vec<String>,
    #[serde(default)]
    pub trial: Option<bool>,
    #[serde(default)]
    pub identity_provider: Option<IdentityProviderRef>,
    #[serde(default)]
    pub created_at: Option<Timestamp>,
    #[serde(default)]
    pub updated_at: Option<Timestamp>,
}

impl EnterpriseAccount {
    /// The name people know it by; the id when the API gave none.
    pub fn label(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.id)
    }
}

impl Element for EnterpriseAccount {}

/// Enterprise member permissions arrive as `[{name, description}]`; older payloads use strings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PermissionNames(pub Vec<String>);

impl<'de> Deserialize<'de> for PermissionNames {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Item {
            Named { name: String },
            Plain(String),
        }
        let items = Option::<Vec<Item>>::deserialize(d)?.unwrap_or_default();
        Ok(PermissionNames(
            items
                .into_iter()
                .map(|i| match i {
                    Item::Named { name } | Item::Plain(name) => name,
                })
                .collect(),
        ))
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct EnterpriseMember {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub user: UserRef,
    #[serde(default)]
    pub permissions: PermissionNames,
    #[serde(default)]
    pub two_factor_authentication: Option<bool>,
    #[serde(default)]
    pub identity_provider: Presence<IdentityProviderRef>,
}

impl EnterpriseMember {
    /// Signs in through an identity provider: known only when the API said which (or said none).
    pub fn federated(&self) -> Option<bool> {
        match &self.identity_provider {
            Presence::Absent => None,
            Presence::Null => Some(false),
            Presence::Present(idp) => idp.id.as_ref().map(|_| true),
        }
    }
}

impl Element for EnterpriseMember {
    fn missing_identity(&self) -> Option<&'static str> {
        (self.user.email.is_none() && self.user.id.is_none())
            .then_some("no `user.email` and no `user.id`: whose membership it is is unknown")
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct Team {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub enterprise_account: Option<NamedRef>,
    #[serde(default)]
    pub identity_provider: Option<IdentityProviderRef>,
    /// The caller's role in this team.
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default)]
    pub membership_limit: Option<f64>,
    #[serde(default)]
    pub default: Option<bool>,
    #[serde(default)]
    pub created_at: Option<Timestamp>,
    #[serde(default)]
    pub updated_at: Option<Timestamp>,
}

impl Team {
    /// The name people know it by; the id when the API gave none.
    pub fn label(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.id)
    }

    pub fn enterprise_account_id(&self) -> Option<&String> {
        self.enterprise_account.as_ref().and_then(|e| e.id.as_ref())
    }
}

impl Element for Team {}

#[derive(Debug, Clone, Deserialize)]
pub struct TeamMember {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default)]
    pub federated: Option<bool>,
    #[serde(default)]
    pub two_factor_authentication: Option<bool>,
    #[serde(default)]
    pub identity_provider: Option<IdentityProviderRef>,
    #[serde(default)]
    pub user: Option<UserRef>,
    #[serde(default)]
    pub created_at: Option<Timestamp>,
    #[serde(default)]
    pub updated_at: Option<Timestamp>,
}

impl TeamMember {
    /// The member's email: the membership's own, else its user's.
    pub fn email(&self) -> Option<&String> {
        self.email.as_ref().or_else(|| self.user.as_ref().and_then(|u| u.email.as_ref()))
    }

    pub fn user_id(&self) -> Option<&String> {
        self.user.as_ref().and_then(|u| u.id.as_ref())
    }
}

impl Element for TeamMember {
    fn missing_identity(&self) -> Option<&'static str> {
        (self.email().is_none() && self.user_id().is_none())
            .then_some("no `email`, `user.email` or `user.id`: who the member is is unknown")
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct TeamInvitation {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub user: UserRef,
    #[serde(default)]
    pub invited_by: Option<UserRef>,
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default)]
    pub created_at: Option<Timestamp>,
    #[serde(default)]
    pub updated_at: Option<Timestamp>,
}

impl Element for TeamInvitation {
    fn missing_identity(&self) -> Option<&'static str> {
        (self.id.is_none() && self.user.email.is_none() && self.user.id.is_none())
            .then_some("no `id`, `user.email` or `user.id`: which invitation it is is unknown")
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct IdentityProvider {
    pub id: String,
    #[serde(default)]
    pub entity_id: Option<String>,
    #[serde(default)]
    pub sso_target_url: Option<String>,
    #[serde(default)]
    pub created_at: Option<Timestamp>,
    #[serde(default)]
    pub updated_at: Option<Timestamp>,
}

impl Element for IdentityProvider {}

#[derive(Debug, Clone, Deserialize)]
pub struct App {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub team: Option<NamedRef>,
    #[serde(default)]
    pub owner: Option<UserRef>,
    #[serde(default)]
    pub locked: Option<bool>,
    #[serde(default)]
    pub created_at: Option<Timestamp>,
    #[serde(default)]
    pub updated_at: Option<Timestamp>,
    #[serde(default)]
    pub released_at: Option<Timestamp>,
}

impl App {
    /// The name people know it by; the id when the API gave none.
    pub fn label(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.id)
    }

    /// Owned by a user rather than a team (outside Teams' controls).
    pub fn personal(&self) -> bool {
        self.team.is_none()
    }

    pub fn team_id(&self) -> Option<&String> {
        self.team.as_ref().and_then(|t| t.id.as_ref())
    }
}

impl Element for App {}

/// `GET /teams/{team}/permissions`: one entry per team app, with each user's permissions.
#[derive(Debug, Clone, Deserialize)]
pub struct PermissionEntity {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub team_id: Option<String>,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub users: Vec<PermissionEntityUser>,
}

impl Element for PermissionEntity {}

#[derive(Debug, Clone, Deserialize)]
pub struct PermissionEntityUser {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub permissions: PermissionNames,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Collaborator {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub app: Option<NamedRef>,
    #[serde(default)]
    pub user: UserRef,
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default)]
    pub permissions: PermissionNames,
    #[serde(default)]
    pub created_at: Option<Timestamp>,
    #[serde(default)]
    pub updated_at: Option<Timestamp>,
}

impl Element for Collaborator {
    fn missing_identity(&self) -> Option<&'static str> {
        (self.user.email.is_none() && self.user.id.is_none())
            .then_some("no `user.email` and no `user.id`: whose access it is is unknown")
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct Release {
    pub id: String,
    #[serde(default)]
    pub version: Option<i64>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub user: Option<UserRef>,
    pub created_at: Timestamp,
}

impl Element for Release {}

#[derive(Debug, Clone, Deserialize)]
pub struct Build {
    pub id: String,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub user: Option<UserRef>,
    pub created_at: Timestamp,
}

impl Element for Build {}

/// An audit-trail archive. The list endpoint may leave out `url` (the official CLI reads it from
/// `GET /enterprise-accounts/{ea}/archives/{year}/{month}`), so it is optional here.
#[derive(Debug, Clone, Deserialize)]
pub struct Archive {
    pub year: serde_json::Value,
    pub month: serde_json::Value,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub checksum: Option<String>,
    #[serde(default)]
    pub size: Option<u64>,
    #[serde(default)]
    pub created_at: Option<Timestamp>,
}

impl Archive {
    /// `(year, month)` whether the API sent them as numbers or strings ("01".."12").
    pub fn period(&self) -> Option<(i32, u32)> {
        fn num(v: &serde_json::Value) -> Option<i64> {
            v.as_i64().or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
        }
        let year = i32::try_from(num(&self.year)?).ok()?;
        let month = u32::try_from(num(&self.month)?).ok().filter(|m| (1..=12).contains(m))?;
        Some((year, month))
    }
}

impl Element for Archive {
    fn missing_identity(&self) -> Option<&'static str> {
        self.period().is_none().then_some("no readable `year` and `month`: which month it holds is unknown")
    }
}

/// An Enterprise Audit Trail event. `data` is undocumented and kept as raw JSON.
#[derive(Debug, Clone, Deserialize)]
pub struct AuditEvent {
    pub id: String,
    pub created_at: Timestamp,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub action: Option<String>,
    #[serde(default)]
    pub actor: Option<UserRef>,
    #[serde(default)]
    pub app: Option<NamedRef>,
    #[serde(default)]
    pub owner: Option<UserRef>,
    #[serde(default)]
    pub enterprise_account: Option<NamedRef>,
    #[serde(default)]
    pub team: Option<NamedRef>,
    #[serde(default)]
    pub request: Option<AuditRequest>,
    #[serde(default)]
    pub data: Option<serde_json::Value>,
}

impl AuditEvent {
    /// `<type>.<action>`, with `unknown` for a part the event lacks.
    pub fn name(&self) -> String {
        format!("{}.{}", self.kind.as_deref().unwrap_or("unknown"), self.action.as_deref().unwrap_or("unknown"))
    }
}

impl Element for AuditEvent {}

#[derive(Debug, Clone, Deserialize)]
pub struct AuditRequest {
    #[serde(default)]
    pub ip_address: Option<String>,
}

/// An archive file: `{"entries": [...]}`, or a bare array in older exports (the official CLI's
/// recorded archive is a bare `[]`). Entries stay raw so each is read on its own.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum ArchiveFile {
    Wrapped { entries: Vec<serde_json::Value> },
    Bare(Vec<serde_json::Value>),
}

impl ArchiveFile {
    pub fn into_entries(self) -> Vec<serde_json::Value> {
        match self {
            ArchiveFile::Wrapped { entries } | ArchiveFile::Bare(entries) => entries,
        }
    }
}

/// An OAuth authorization, secrets dropped: see the module docs.
#[derive(Debug, Clone, Deserialize)]
pub struct Authorization {
    pub id: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub scope: Vec<String>,
    #[serde(default)]
    pub client: Option<OAuthClientRef>,
    #[serde(default)]
    pub user: Option<UserRef>,
    #[serde(default)]
    pub access_token: Option<TokenMeta>,
    /// Present when the client can mint new access tokens: then the authorization never lapses.
    #[serde(default)]
    pub refresh_token: Option<TokenMeta>,
    #[serde(default)]
    pub created_at: Option<Timestamp>,
    #[serde(default)]
    pub updated_at: Option<Timestamp>,
}

impl Element for Authorization {}

#[derive(Debug, Clone, Deserialize)]
pub struct OAuthClientRef {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
}

/// `access_token` without its `token`: only when it expires.
#[derive(Debug, Clone, Deserialize)]
pub struct TokenMeta {
    #[serde(default)]
    pub id: Option<String>,
    /// Seconds from `updated_at` (when the token was last issued) until it expires; null = never.
    #[serde(default)]
    pub expires_in: Option<i64>,
}

impl Authorization {
    /// When the authorization stops working, if it ever does: its access token's expiry, unless a
    /// refresh token can renew it.
    pub fn expires_at(&self) -> Option<Timestamp> {
        if self.refresh_token.is_some() {
            return None;
        }
        let seconds = self.access_token.as_ref()?.expires_in?;
        let issued = self.updated_at.or(self.created_at)?;
        issued.checked_add_signed(chrono::Duration::seconds(seconds))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorization_secrets_are_dropped_while_reading() {
        let json = r#"{"id":"a1","description":"ci","scope":["global"],
            "access_token":{"id":"t1","expires_in":3600,"token":"HRKU-SECRET-A"},
            "refresh_token":{"id":"r1","expires_in":null,"token":"SECRET-R"},
            "grant":{"code":"SECRET-G","expires_in":60,"id":"g1"},
            "created_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-02T00:00:00Z"}"#;
        let auth: Authorization = serde_json::from_str(json).expect("parses");
        let shown = format!("{auth:?}");
        for secret in ["HRKU-SECRET-A", "SECRET-R", "SECRET-G"] {
            assert!(!shown.contains(secret), "{secret} survived: {shown}");
        }
        assert_eq!(auth.expires_at(), None, "a refresh token makes it renewable");
        let without_refresh: Authorization = serde_json::from_str(
            &json.replace(r#""refresh_token":{"id":"r1","expires_in":null,"token":"SECRET-R"},"#, ""),
        )
        .expect("parses");
        assert_eq!(without_refresh.expires_at().map(|t| t.to_rfc3339()), Some("2026-01-02T01:00:00+00:00".into()));
    }

    #[test]
    fn permissions_read_as_objects_or_strings() {
        let m: EnterpriseMember = serde_json::from_str(
            r#"{"id":"m","user":{"id":"u","email":"a@b.c"},"permissions":[{"name":"view","description":"x"},"manage"]}"#,
        )
        .expect("parses");
        assert_eq!(m.permissions.0, vec!["view", "manage"]);
    }

    #[test]
    fn archive_period_accepts_strings_and_numbers() {
        let a: Archive =
            serde_json::from_str(r#"{"year":2026,"month":"09","url":"u","checksum":"c"}"#).expect("parses");
        assert_eq!(a.period(), Some((2026, 9)));
    }

    #[test]
    fn an_empty_identity_provider_reads_as_no_id_and_unknown_federation() {
        let ea: EnterpriseAccount =
            serde_json::from_str(r#"{"id":"e","name":"dingo","identity_provider":{}}"#).expect("parses");
        assert_eq!(ea.identity_provider.and_then(|i| i.id), None);
        let member = |idp: &str| -> EnterpriseMember {
            serde_json::from_str(&format!(r#"{{"user":{{"email":"a@b.c"}}{idp}}}"#)).expect("parses")
        };
        assert_eq!(member("").federated(), None, "absent: unknown");
        assert_eq!(member(r#","identity_provider":null"#).federated(), Some(false), "null: none");
        assert_eq!(member(r#","identity_provider":{}"#).federated(), None, "no id: unknown");
        assert_eq!(member(r#","identity_provider":{"id":"i"}"#).federated(), Some(true));
    }
}
