//! Shared helpers: small fixture organisations written to a temp folder (so `Fixture::load` is
//! exercised too), a sandbox on a free port, and a loopback HTTP client speaking Heroku's dialect.
#![allow(dead_code)]
use std::path::Path;
use std::time::Duration;

use hkaudit::sandbox::{self, Fixture, RateLimitConfig, SandboxConfig, SandboxHandle};
use serde_json::{json, Value};

pub const TOKEN: &str = "tok-admin";
/// A second token of the same account: it shares the rate-limit pool.
pub const TOKEN_2: &str = "tok-admin-2";
pub const OTHER_TOKEN: &str = "tok-other";
pub const ADMIN: &str = "admin@acme.test";
pub const OTHER: &str = "other@acme.test";
pub const NOW: &str = "2026-05-15T12:00:00Z";
pub const ACCEPT: &str = "application/vnd.heroku+json; version=3";
/// Teams `n<COUNT>` with exactly COUNT members each, for page-boundary tests.
pub const SIZES: [usize; 7] = [0, 1, 199, 200, 201, 1000, 1001];

/// A fixture folder on disk, removed when dropped.
pub struct Org {
    pub dir: tempfile::TempDir,
}

impl Org {
    pub fn empty() -> Org {
        let org = Org { dir: tempfile::tempdir().expect("tempdir") };
        org.write(
            "sandbox.json",
            &json!({"now": NOW, "tokens": [
                {"token": TOKEN, "account": ADMIN},
                {"token": TOKEN_2, "account": ADMIN},
                {"token": OTHER_TOKEN, "account": OTHER},
            ]}),
        );
        org.write(
            "accounts.json",
            &json!([
                {"id": "acc-admin", "email": ADMIN, "name": "Ada Admin", "last_login": "2026-05-15T08:00:00Z"},
                {"id": "acc-other", "email": OTHER, "name": "Otto Other", "last_login": null},
            ]),
        );
        org
    }

    /// The organisation most tests use: one enterprise account with an audit trail, an admin
    /// team with apps, a team where the caller is only a member, and the page-boundary teams.
    pub fn standard() -> Org {
        let org = Org::empty();
        let ea = json!({"id": "ea-1", "name": "acme-ea"});
        org.write(
            "enterprise-accounts.json",
            &json!([
                {"id": "ea-1", "name": "acme-ea", "permissions": ["view", "manage"], "trial": false},
                {"id": "ea-2", "name": "viewonly-ea", "permissions": ["view"], "trial": false},
            ]),
        );
        org.write(
            "enterprise-accounts/acme-ea/members.json",
            &json!([{"id": "eam-1", "enterprise_account": ea, "user": {"id": "acc-admin", "email": ADMIN},
                     "permissions": [{"name": "manage", "description": "m"}]}]),
        );
        let event = |id: &str, at: &str| {
            json!({"id": id, "created_at": at, "type": "team_membership", "action": "create",
            "actor": {"id": "acc-admin", "email": ADMIN}, "enterprise_account": ea, "data": {}})
        };
        org.write(
            "enterprise-accounts/acme-ea/events.json",
            &json!([
                event("ev-mar", "2026-03-10T10:00:00Z"),
                event("ev-apr-1", "2026-04-02T10:00:00Z"),
                event("ev-apr-2", "2026-04-30T23:59:59Z"),
                event("ev-may-1", "2026-05-14T10:00:00Z"),
                event("ev-today", "2026-05-15T09:00:00Z"),
            ]),
        );
        let mut teams =
            vec![team("t-core", "core", "admin", Some(&ea)), team("t-viewers", "viewers", "member", Some(&ea))];
        for n in SIZES {
            teams.push(team(&format!("t-n{n}"), &format!("n{n}"), "admin", None));
            org.write(&format!("teams/n{n}/members.json"), &Value::Array((0..n).map(numbered_member).collect()));
        }
        org.write("teams.json", &Value::Array(teams));
        org.write(
            "teams/core/members.json",
            &json!([member("m-admin", ADMIN, "admin"), member("m-bob", "bob@acme.test", "collaborator")]),
        );
        org.write(
            "teams/core/invitations.json",
            &json!([{"id": "inv-1", "user": {"id": "u-new", "email": "new@acme.test", "name": null},
                     "team": {"id": "t-core", "name": "core"}, "role": "member",
                     "created_at": "2026-05-10T00:00:00Z", "updated_at": "2026-05-10T00:00:00Z"}]),
        );
        org.write(
            "teams/core/identity-providers.json",
            &json!([{"id": "idp-1", "entity_id": "https://idp.acme.test", "owner": {"id": "t-core", "name": "core", "type": "team"}}]),
        );
        org.write(
            "apps.json",
            &json!([
                app("a-3", "web", Some("core"), "2026-05-01T00:00:00Z"),
                app("a-1", "api", Some("core"), "2026-05-03T00:00:00Z"),
                app("a-2", "solo", None, "2025-01-01T00:00:00Z"),
                app("a-4", "zeta", Some("viewers"), "2024-01-01T00:00:00Z"),
            ]),
        );
        org.write(
            "apps/web/collaborators.json",
            &json!([
                collaborator("c-1", "web", "bob@acme.test", &["view", "deploy"]),
                collaborator("c-2", "web", ADMIN, &["view", "deploy", "operate", "manage"])
            ]),
        );
        org.write("apps/api/collaborators.json", &json!([collaborator("c-3", "api", "bob@acme.test", &["view"])]));
        // Ids run against version order, so sorting by version must not be an accident of ids.
        org.write(
            "apps/web/releases.json",
            &Value::Array(
                (1..=12)
                    .map(|v| {
                        json!({"id": format!("rel-{:02}", 20 - v), "version": v,
                "created_at": format!("2026-04-{v:02}T00:00:00Z"), "status": "succeeded"})
                    })
                    .collect(),
            ),
        );
        org.write(
            "apps/web/builds.json",
            &json!([
                {"id": "b-1", "created_at": "2026-04-03T00:00:00Z", "status": "succeeded"},
                {"id": "b-2", "created_at": "2026-04-01T00:00:00Z", "status": "failed"},
                {"id": "b-3", "created_at": "2026-04-02T00:00:00Z", "status": "succeeded"},
            ]),
        );
        org.write(
            "oauth-authorizations.json",
            &json!([
                {"id": "oa-1", "description": "laptop", "user": {"id": "acc-admin", "email": ADMIN}, "access_token": {"token": "secret-1"}},
                {"id": "oa-2", "description": "ci", "user": {"id": "acc-admin", "email": ADMIN}, "access_token": {"token": "secret-2"}},
                {"id": "oa-3", "description": "not mine", "user": {"id": "acc-other", "email": OTHER}, "access_token": {"token": "secret-3"}},
            ]),
        );
        org
    }

    pub fn write(&self, rel: &str, value: &Value) {
        let path = self.dir.path().join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, serde_json::to_vec_pretty(value).expect("json")).expect("write");
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn fixture(&self) -> Fixture {
        Fixture::load(self.dir.path()).expect("fixture loads")
    }
}

pub fn team(id: &str, name: &str, role: &str, ea: Option<&Value>) -> Value {
    json!({"id": id, "name": name, "role": role, "type": "enterprise", "enterprise_account": ea, "default": false})
}

pub fn member(id: &str, email: &str, role: &str) -> Value {
    json!({"id": id, "email": email, "role": role, "federated": false, "two_factor_authentication": true,
           "identity_provider": null, "user": {"id": id, "email": email, "name": null},
           "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"})
}

/// Member `i`: emails sort by `i`, ids sort the other way round.
pub fn numbered_member(i: usize) -> Value {
    member(&format!("id-{:05}", 99_999 - i), &format!("m{i:05}@acme.test"), "member")
}

pub fn app(id: &str, name: &str, team: Option<&str>, updated_at: &str) -> Value {
    let team = team.map(|t| json!({"id": format!("t-{t}"), "name": t}));
    json!({"id": id, "name": name, "team": team, "owner": {"id": "o", "email": "o@acme.test"},
           "created_at": "2024-01-01T00:00:00Z", "updated_at": updated_at, "released_at": updated_at})
}

pub fn collaborator(id: &str, app: &str, email: &str, permissions: &[&str]) -> Value {
    let permissions: Vec<Value> = permissions.iter().map(|p| json!({"name": p, "description": p})).collect();
    json!({"id": id, "app": {"id": app, "name": app}, "user": {"id": email, "email": email, "federated": false},
           "role": "collaborator", "permissions": permissions})
}

/// A config with a generous rate limit, so only the tests about it ever meet it.
pub fn config(fixture: Fixture) -> SandboxConfig {
    let mut config = SandboxConfig::new(fixture);
    config.rate_limit = RateLimitConfig { capacity: 1_000_000, refill_per_minute: 0.0 };
    config
}

pub async fn serve(config: SandboxConfig) -> SandboxHandle {
    sandbox::start(config).await.expect("sandbox starts")
}

pub async fn serve_standard() -> SandboxHandle {
    serve(config(Org::standard().fixture())).await
}

/// A plain-HTTP loopback client, one per test thread: building one loads the system's root
/// certificates, which costs more than the requests themselves. (Each `#[tokio::test]` runs on
/// its own thread and runtime, and a client's pool must not outlive its runtime.)
pub fn client() -> reqwest::Client {
    thread_local! {
        static CLIENT: reqwest::Client = client_with_timeout(Duration::from_secs(20));
    }
    CLIENT.with(Clone::clone)
}

pub fn client_with_timeout(timeout: Duration) -> reqwest::Client {
    // No proxy: a machine-wide HTTP_PROXY must not swallow loopback requests.
    reqwest::Client::builder().no_proxy().tls_built_in_root_certs(false).timeout(timeout).build().expect("client")
}

/// GET with Heroku's Accept header and the admin token.
pub async fn get(base: &str, path: &str, range: Option<&str>) -> reqwest::Response {
    let mut request = client().get(format!("{base}{path}")).header("Accept", ACCEPT).bearer_auth(TOKEN);
    if let Some(range) = range {
        request = request.header("Range", range);
    }
    request.send().await.expect("request answered")
}

pub fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    response.headers().get(name).map(|v| v.to_str().expect("ascii header").to_string())
}

/// Follow `Next-Range` to the end: every item and the status of every page.
pub async fn collect(base: &str, path: &str, range: Option<&str>) -> (Vec<Value>, Vec<u16>) {
    let mut range = range.map(str::to_string);
    let mut items = Vec::new();
    let mut statuses = Vec::new();
    loop {
        let response = get(base, path, range.as_deref()).await;
        let status = response.status().as_u16();
        let next = header(&response, "next-range");
        statuses.push(status);
        let page: Vec<Value> = response.json().await.expect("a JSON array");
        items.extend(page);
        match next {
            Some(next) => {
                assert_eq!(status, 206, "a page with Next-Range is partial");
                range = Some(next);
            }
            None => {
                assert_eq!(status, 200, "the last page is 200");
                return (items, statuses);
            }
        }
        assert!(statuses.len() < 3000, "pagination does not end");
    }
}

/// Assert a Heroku error body and return its id.
pub async fn error_id(response: reqwest::Response, status: u16) -> String {
    assert_eq!(response.status().as_u16(), status);
    assert!(response.headers().contains_key("request-id"));
    let body: Value = response.json().await.expect("error body is JSON");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "message in {body}");
    assert!(body["url"].as_str().is_some(), "url in {body}");
    body["id"].as_str().expect("id").to_string()
}
