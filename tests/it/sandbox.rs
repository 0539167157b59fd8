//! The sandbox over real loopback HTTP: paging, errors, rate limit, caching, audit trail and
//! every fault mode, as a client of the Heroku Platform API would meet them.
use std::io::{BufRead, Read};
use std::time::{Duration, Instant};

use hkaudit::sandbox::{Burst, Fixture, RateLimitConfig, SandboxError, SyntheticParams, SYNTHETIC_TOKEN};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::support::*;

fn emails(items: &[Value]) -> Vec<String> {
    items.iter().map(|m| m["email"].as_str().expect("email").to_string()).collect()
}

fn strings(items: &[Value], field: &str) -> Vec<String> {
    items.iter().map(|m| m[field].to_string().trim_matches('"').to_string()).collect()
}

#[tokio::test]
async fn pages_cover_every_item_once_at_every_boundary() {
    let sandbox = serve_standard().await;
    let url = sandbox.url();
    for n in SIZES {
        let expected: Vec<String> = (0..n).map(|i| format!("m{i:05}@acme.test")).collect();
        let path = format!("/teams/n{n}/members");
        let mut ranges: Vec<(Option<String>, usize)> = vec![(None, 200)];
        for max in [199, 200, 1000, 5000] {
            ranges.push((Some(format!("email ..; max={max}")), max.min(1000)));
        }
        if n <= 201 {
            ranges.push((Some("email ..; max=1".to_string()), 1));
        }
        for (range, max) in ranges {
            let (items, statuses) = collect(&url, &path, range.as_deref()).await;
            let got = emails(&items);
            if range.is_some() {
                assert_eq!(got, expected, "n={n} range={range:?}");
            } else {
                // The default order is by id, which runs against the emails here.
                let mut reversed = expected.clone();
                reversed.reverse();
                assert_eq!(got, reversed, "n={n} default order is by id");
            }
            assert_eq!(statuses.len(), n.div_ceil(max).max(1), "n={n} range={range:?} page count");
            assert!(statuses[..statuses.len() - 1].iter().all(|s| *s == 206));
        }
    }
}

#[tokio::test]
async fn page_headers_describe_the_page() {
    let sandbox = serve_standard().await;
    let first = get(&sandbox.url(), "/teams/n201/members", Some("email ..; max=100")).await;
    assert_eq!(first.status().as_u16(), 206);
    assert_eq!(header(&first, "content-range").as_deref(), Some("email m00000@acme.test..m00099@acme.test; max=100"));
    assert_eq!(header(&first, "next-range").as_deref(), Some("email ]m00099@acme.test..; max=100"));
    assert_eq!(header(&first, "accept-ranges").as_deref(), Some("email, id"));
    let last = get(&sandbox.url(), "/teams/n201/members", Some("email ]m00199@acme.test..; max=100")).await;
    assert_eq!(last.status().as_u16(), 200);
    assert_eq!(header(&last, "next-range"), None);
    assert_eq!(emails(&last.json::<Vec<Value>>().await.expect("json")), vec!["m00200@acme.test"]);
    let empty = get(&sandbox.url(), "/teams/n0/members", None).await;
    assert_eq!(empty.status().as_u16(), 200);
    assert_eq!(empty.json::<Vec<Value>>().await.expect("json"), Vec::<Value>::new());
}

#[tokio::test]
async fn descending_order_and_bounds() {
    let sandbox = serve_standard().await;
    let url = sandbox.url();
    let (items, statuses) = collect(&url, "/teams/n201/members", Some("email ..; max=50, order=desc")).await;
    let mut expected: Vec<String> = (0..201).map(|i| format!("m{i:05}@acme.test")).collect();
    expected.reverse();
    assert_eq!(emails(&items), expected);
    assert_eq!(statuses.len(), 5);
    let page = get(&url, "/teams/n201/members", Some("email ..; max=50, order=desc")).await;
    assert_eq!(header(&page, "next-range").as_deref(), Some("email ]m00151@acme.test..; max=50, order=desc"));

    let exclusive = get(&url, "/teams/n201/members", Some("email ]m00100@acme.test..; max=3")).await;
    assert_eq!(
        emails(&exclusive.json::<Vec<Value>>().await.expect("json")),
        ["m00101@acme.test", "m00102@acme.test", "m00103@acme.test"]
    );
    let inclusive = get(&url, "/teams/n201/members", Some("email m00100@acme.test..m00101@acme.test")).await;
    assert_eq!(emails(&inclusive.json::<Vec<Value>>().await.expect("json")), ["m00100@acme.test", "m00101@acme.test"]);
    let trailing = get(&url, "/teams/n201/members", Some("email ..; max=2;")).await;
    assert_eq!(trailing.status().as_u16(), 206, "a trailing `;` is tolerated");
}

#[tokio::test]
async fn sorts_by_name_version_and_build_start() {
    let sandbox = serve_standard().await;
    let url = sandbox.url();
    let (apps, _) = collect(&url, "/apps", Some("name ..")).await;
    assert_eq!(strings(&apps, "name"), ["api", "solo", "web", "zeta"]);
    let (apps, _) = collect(&url, "/apps", None).await;
    assert_eq!(strings(&apps, "id"), ["a-1", "a-2", "a-3", "a-4"]);
    let (apps, _) = collect(&url, "/apps", Some("updated_at ..; order=desc")).await;
    assert_eq!(strings(&apps, "name"), ["api", "web", "solo", "zeta"]);

    let (releases, statuses) = collect(&url, "/apps/web/releases", Some("version ..; max=5, order=desc")).await;
    assert_eq!(strings(&releases, "version"), ["12", "11", "10", "9", "8", "7", "6", "5", "4", "3", "2", "1"]);
    assert_eq!(statuses, [206, 206, 200]);
    let after_nine = get(&url, "/apps/web/releases", Some("version ]9..")).await;
    assert_eq!(strings(&after_nine.json::<Vec<Value>>().await.expect("json"), "version"), ["10", "11", "12"]);

    let (builds, _) = collect(&url, "/apps/web/builds", Some("started_at ..")).await;
    assert_eq!(strings(&builds, "id"), ["b-2", "b-3", "b-1"]);
    let (teams, _) = collect(&url, "/teams", Some("name ..; max=3")).await;
    assert_eq!(teams.len(), 9);
}

#[tokio::test]
async fn bad_ranges_answer_400() {
    let sandbox = serve_standard().await;
    for range in ["email", "email ..; max=abc", "email ..; order=sideways", "name ..", "version ]x..", ".."] {
        let path = if range.starts_with("version") { "/apps/web/releases" } else { "/teams/n1/members" };
        let response = get(&sandbox.url(), path, Some(range)).await;
        assert_eq!(response.status().as_u16(), 400, "{range:?}");
        let body: Value = response.json().await.expect("json");
        assert_eq!(body["id"], "bad_request");
        assert_eq!(body["message"], "Invalid `Range` header. Please use format like `id ..; max=10, order=desc`");
    }
}

#[tokio::test]
async fn requests_need_the_heroku_accept_header_and_a_token() {
    let sandbox = serve_standard().await;
    let url = sandbox.url();
    let c = client();
    let no_accept = c.get(format!("{url}/account")).bearer_auth(TOKEN).send().await.expect("sent");
    assert_eq!(error_id(no_accept, 406).await, "not_acceptable");
    let json_only = c
        .get(format!("{url}/account"))
        .bearer_auth(TOKEN)
        .header("Accept", "application/json")
        .send()
        .await
        .expect("sent");
    assert_eq!(error_id(json_only, 406).await, "not_acceptable");
    let variant = "application/vnd.heroku+json; version=3.team-invitations";
    let elsewhere =
        c.get(format!("{url}/account")).bearer_auth(TOKEN).header("Accept", variant).send().await.expect("sent");
    assert_eq!(error_id(elsewhere, 406).await, "not_acceptable");
    let invitations = c
        .get(format!("{url}/teams/core/invitations"))
        .bearer_auth(TOKEN)
        .header("Accept", variant)
        .send()
        .await
        .expect("sent");
    assert_eq!(invitations.status().as_u16(), 200);
    assert_eq!(strings(&invitations.json::<Vec<Value>>().await.expect("json"), "id"), ["inv-1"]);

    let no_token = c.get(format!("{url}/account")).header("Accept", ACCEPT).send().await.expect("sent");
    assert_eq!(error_id(no_token, 401).await, "unauthorized");
    let wrong =
        c.get(format!("{url}/account")).header("Accept", ACCEPT).bearer_auth("nope").send().await.expect("sent");
    assert_eq!(error_id(wrong, 401).await, "unauthorized");

    let me = get(&url, "/account", None).await;
    assert_eq!(me.status().as_u16(), 200);
    assert!(header(&me, "etag").is_some() && header(&me, "request-id").is_some());
    assert_eq!(me.json::<Value>().await.expect("json")["email"], ADMIN);
    let other =
        c.get(format!("{url}/account")).header("Accept", ACCEPT).bearer_auth(OTHER_TOKEN).send().await.expect("sent");
    assert_eq!(other.json::<Value>().await.expect("json")["email"], OTHER);
}

#[tokio::test]
async fn unknown_paths_missing_objects_and_writes_are_refused() {
    let sandbox = serve_standard().await;
    let url = sandbox.url();
    for path in ["/nope", "/teams/core/secrets", "/apps/web/config-vars"] {
        assert_eq!(error_id(get(&url, path, None).await, 404).await, "not_found", "{path}");
    }
    for path in [
        "/teams/ghost",
        "/apps/ghost",
        "/apps/ghost/releases",
        "/enterprise-accounts/ghost",
        "/teams/apps/solo/collaborators",
    ] {
        assert_eq!(error_id(get(&url, path, None).await, 404).await, "not_found", "{path}");
    }
    let c = client();
    for method in ["POST", "PUT", "PATCH", "DELETE"] {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let response = c
            .request(method.clone(), format!("{url}/teams/core/members"))
            .header("Accept", ACCEPT)
            .bearer_auth(TOKEN)
            .json(&json!({"email": "x@acme.test", "role": "admin"}))
            .send()
            .await
            .expect("sent");
        assert_eq!(header(&response, "allow").as_deref(), Some("GET, HEAD"));
        assert_eq!(error_id(response, 405).await, "method_not_allowed", "{method}");
    }
    let members = collect(&url, "/teams/core/members", None).await.0;
    assert_eq!(members.len(), 2, "nothing was written");
}

#[tokio::test]
async fn forbidden_where_heroku_forbids() {
    let sandbox = serve_standard().await;
    let url = sandbox.url();
    for path in ["/teams/viewers/members", "/teams/viewers/invitations"] {
        assert_eq!(error_id(get(&url, path, None).await, 403).await, "forbidden", "{path}");
    }
    assert_eq!(get(&url, "/teams/viewers/apps", None).await.status().as_u16(), 200);
    for path in [
        "/enterprise-accounts/viewonly-ea/archives",
        "/enterprise-accounts/ea-2/archives/2026/04",
        "/enterprise-accounts/viewonly-ea/events?day=2026-05-14",
    ] {
        assert_eq!(error_id(get(&url, path, None).await, 403).await, "forbidden", "{path}");
    }
    assert_eq!(get(&url, "/enterprise-accounts/viewonly-ea", None).await.status().as_u16(), 200);
}

#[tokio::test]
async fn rate_limit_drains_refills_and_is_shared_by_an_accounts_tokens() {
    let mut config = config(Org::standard().fixture());
    config.rate_limit = RateLimitConfig {
        capacity: 3,
        // One token a second: slow enough that draining three is not undone by a slow machine.
        refill_per_minute: 60.0,
    };
    let sandbox = serve(config).await;
    let url = sandbox.url();
    let c = client();
    let call = |token: &'static str, path: &'static str| {
        c.get(format!("{url}{path}")).header("Accept", ACCEPT).bearer_auth(token).send()
    };
    let mut remaining = Vec::new();
    for token in [TOKEN, TOKEN_2, TOKEN] {
        let response = call(token, "/teams").await.expect("sent");
        assert_eq!(response.status().as_u16(), 200);
        remaining.push(header(&response, "ratelimit-remaining").expect("header"));
    }
    assert_eq!(remaining, ["2", "1", "0"]);
    let limited = call(TOKEN_2, "/teams").await.expect("sent");
    assert_eq!(header(&limited, "ratelimit-remaining").as_deref(), Some("0"));
    assert_eq!(limited.status().as_u16(), 429);
    let body: Value = limited.json().await.expect("json");
    assert_eq!(
        body,
        json!({"id": "rate_limit",
        "message": "Your account reached the API rate limit\nPlease wait a few minutes before making new requests",
        "url": "https://devcenter.heroku.com/articles/platform-api-reference#rate-limits"})
    );
    // Another account has its own pool.
    assert_eq!(call(OTHER_TOKEN, "/teams").await.expect("sent").status().as_u16(), 200);
    // The rate-limit endpoint is free, however often it is asked.
    for _ in 0..3 {
        let free = call(TOKEN, "/account/rate-limits").await.expect("sent");
        assert_eq!(free.status().as_u16(), 200);
        assert_eq!(free.json::<Value>().await.expect("json"), json!({"remaining": 0}));
    }
    tokio::time::sleep(Duration::from_millis(1300)).await;
    let refilled = call(TOKEN, "/account/rate-limits").await.expect("sent");
    let remaining = refilled.json::<Value>().await.expect("json")["remaining"].as_u64().expect("number");
    assert!((1..=3).contains(&remaining), "refilled to {remaining}");
    assert_eq!(call(TOKEN, "/teams").await.expect("sent").status().as_u16(), 200);
}

#[tokio::test]
async fn etags_differ_per_page_and_304_still_costs() {
    let sandbox = serve_standard().await;
    let url = sandbox.url();
    let first = get(&url, "/teams/n201/members", Some("email ..; max=100")).await;
    let etag = header(&first, "etag").expect("etag on 206");
    let second = get(&url, "/teams/n201/members", Some("email ]m00099@acme.test..; max=100")).await;
    assert_ne!(header(&second, "etag").expect("etag"), etag);
    let before: u32 = header(&second, "ratelimit-remaining").expect("remaining").parse().expect("number");

    let cached = client()
        .get(format!("{url}/teams/n201/members"))
        .header("Accept", ACCEPT)
        .header("Range", "email ..; max=100")
        .header("If-None-Match", &etag)
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("sent");
    assert_eq!(cached.status().as_u16(), 304);
    assert_eq!(header(&cached, "etag").as_deref(), Some(etag.as_str()));
    assert_eq!(header(&cached, "next-range"), header(&first, "next-range"), "a cached client can keep paging");
    let after: u32 = header(&cached, "ratelimit-remaining").expect("remaining").parse().expect("number");
    assert_eq!(after, before - 1, "a 304 costs a token");
    assert!(cached.bytes().await.expect("body").is_empty());

    let stale = client()
        .get(format!("{url}/teams"))
        .header("Accept", ACCEPT)
        .header("If-None-Match", "\"stale\"")
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("sent");
    assert_eq!(stale.status().as_u16(), 200);
}

#[tokio::test]
async fn archives_download_and_verify() {
    let sandbox = serve_standard().await;
    let url = sandbox.url();
    let response = get(&url, "/enterprise-accounts/acme-ea/archives", None).await;
    assert_eq!(response.status().as_u16(), 200);
    let archives: Vec<Value> = response.json().await.expect("json");
    let months: Vec<(i64, String, String)> = archives
        .iter()
        .map(|a| {
            (
                a["year"].as_i64().expect("year"),
                a["month"].as_str().expect("month").to_string(),
                a["created_at"].as_str().expect("created").to_string(),
            )
        })
        .collect();
    assert_eq!(
        months,
        [
            (2026, "03".into(), "2026-04-01T00:00:00Z".into()),
            (2026, "04".into(), "2026-05-01T00:00:00Z".into()),
            (2026, "05".into(), "2026-05-15T00:00:00Z".into()),
        ]
    );
    let expected = [vec!["ev-mar"], vec!["ev-apr-1", "ev-apr-2"], vec!["ev-may-1"]];
    for (archive, expected) in archives.iter().zip(expected) {
        // No Accept header and no token: real archive URLs are pre-signed.
        let download = client().get(archive["url"].as_str().expect("url")).send().await.expect("sent");
        assert_eq!(download.status().as_u16(), 200);
        let gzip = download.bytes().await.expect("bytes");
        assert_eq!(hex::encode(Sha256::digest(&gzip)), archive["checksum"].as_str().expect("checksum"));
        assert_eq!(gzip.len() as u64, archive["size"].as_u64().expect("size"));
        let mut text = String::new();
        flate2::read::GzDecoder::new(&gzip[..]).read_to_string(&mut text).expect("gunzip");
        let body: Value = serde_json::from_str(&text).expect("json");
        let mut ids = strings(body["entries"].as_array().expect("entries"), "id");
        ids.sort();
        assert_eq!(ids, expected);
    }
    let april = get(&url, "/enterprise-accounts/ea-1/archives/2026/04", None).await;
    assert_eq!(april.json::<Value>().await.expect("json"), archives[1]);
    assert_eq!(get(&url, "/enterprise-accounts/acme-ea/archives/2026/02", None).await.status().as_u16(), 404);
}

#[tokio::test]
async fn events_by_day() {
    let sandbox = serve_standard().await;
    let url = sandbox.url();
    let (april_30, _) = collect(&url, "/enterprise-accounts/acme-ea/events?day=2026-04-30", None).await;
    assert_eq!(strings(&april_30, "id"), ["ev-apr-2"]);
    let (today, _) = collect(&url, "/enterprise-accounts/acme-ea/events?day=2026-05-15", None).await;
    assert_eq!(strings(&today, "id"), ["ev-today"]);
    let (none, _) = collect(&url, "/enterprise-accounts/acme-ea/events?day=2026-01-01", None).await;
    assert!(none.is_empty());
    let missing = get(&url, "/enterprise-accounts/acme-ea/events", None).await;
    assert_eq!(error_id(missing, 422).await, "invalid_params");
}

#[tokio::test]
async fn derived_and_filtered_lists() {
    let sandbox = serve_standard().await;
    let url = sandbox.url();
    let (entities, _) = collect(&url, "/teams/core/permissions", None).await;
    assert_eq!(
        entities,
        vec![
            json!({"id": "a-1", "name": "api", "team_id": "t-core", "type": "app",
               "users": [{"id": "bob@acme.test", "email": "bob@acme.test", "permissions": ["view"]}]}),
            json!({"id": "a-3", "name": "web", "team_id": "t-core", "type": "app",
               "users": [{"id": "bob@acme.test", "email": "bob@acme.test", "permissions": ["view", "deploy"]},
                         {"id": ADMIN, "email": ADMIN, "permissions": ["view", "deploy", "operate", "manage"]}]}),
        ]
    );
    let names: Vec<Value> = get(&url, "/teams/permissions", None).await.json().await.expect("json");
    assert_eq!(strings(&names, "name"), ["view", "deploy", "operate", "manage"]);
    let (team_apps, _) = collect(&url, "/teams/core/apps", None).await;
    assert_eq!(strings(&team_apps, "name"), ["api", "web"]);
    let (ea_teams, _) = collect(&url, "/enterprise-accounts/acme-ea/teams", None).await;
    assert_eq!(strings(&ea_teams, "name"), ["core", "viewers"]);
    let (ea_members, _) = collect(&url, "/enterprise-accounts/acme-ea/members", None).await;
    assert_eq!(ea_members.len(), 1);
    let (mine, _) = collect(&url, "/oauth/authorizations", None).await;
    assert_eq!(strings(&mine, "id"), ["oa-1", "oa-2"], "only the caller's own");
    let (collaborators, _) = collect(&url, "/teams/apps/web/collaborators", None).await;
    assert_eq!(strings(&collaborators, "id"), ["c-1", "c-2"]);
    assert_eq!(collect(&url, "/apps/web/collaborators", None).await.0, collaborators);
    let (idps, _) = collect(&url, "/teams/core/identity-providers", None).await;
    assert_eq!(strings(&idps, "id"), ["idp-1"]);
    let (eas, _) = collect(&url, "/enterprise-accounts", None).await;
    assert_eq!(eas.len(), 2);
    let (empty, _) = collect(&url, "/apps/solo/releases", None).await;
    assert!(empty.is_empty(), "a missing file is an empty list");
}

/// `GET /teams/{team}/features`: from `teams/<team>/features.json`, else an empty list (the
/// official CLI reads it before `heroku members` on a `type: team` team).
#[tokio::test]
async fn team_features_are_served_or_empty() {
    let org = Org::standard();
    let feature = json!({"id": "f-1", "name": "team-invite-acceptance", "enabled": false});
    org.write("teams/core/features.json", &json!([feature]));
    let sandbox = serve(config(org.fixture())).await;
    let url = sandbox.url();
    assert_eq!(collect(&url, "/teams/core/features", None).await.0, [feature]);
    assert!(collect(&url, "/teams/t-viewers/features", None).await.0.is_empty());
    assert_eq!(error_id(get(&url, "/teams/nope/features", None).await, 404).await, "not_found");
}

#[tokio::test]
async fn objects_are_served_exactly_as_written() {
    let org = Org::standard();
    let on_disk: Vec<Value> =
        serde_json::from_slice(&std::fs::read(org.path().join("apps.json")).expect("read")).expect("json");
    let sandbox = serve(config(org.fixture())).await;
    let served: Value = get(&sandbox.url(), "/apps/web", None).await.json().await.expect("json");
    assert_eq!(served, on_disk[0]);
    let by_id: Value = get(&sandbox.url(), "/apps/a-3", None).await.json().await.expect("json");
    assert_eq!(by_id, served);
}

#[tokio::test]
async fn mutations_change_the_next_run() {
    let mut fixture = Org::standard().fixture();
    assert!(fixture.remove_team_member("core", "bob@acme.test"));
    assert!(!fixture.remove_team_member("core", "ghost@acme.test"));
    assert!(fixture.set_member_role("n1", "m00000@acme.test", "admin"));
    assert!(fixture.remove_authorization("oa-1"));
    let at = fixture.now();
    assert!(fixture.add_invitation("core", "late@acme.test", "member", at));
    assert!(!fixture.add_invitation("ghost", "late@acme.test", "member", at));
    let sandbox = serve(config(fixture)).await;
    let url = sandbox.url();
    assert_eq!(emails(&collect(&url, "/teams/core/members", None).await.0), [ADMIN]);
    assert_eq!(collect(&url, "/teams/n1/members", None).await.0[0]["role"], "admin");
    assert_eq!(strings(&collect(&url, "/oauth/authorizations", None).await.0, "id"), ["oa-2"]);
    let invitations = collect(&url, "/teams/core/invitations", None).await.0;
    let late = invitations.iter().find(|i| i["user"]["email"] == "late@acme.test").expect("new invitation");
    assert_eq!(late["created_at"], "2026-05-15T12:00:00Z");
    assert_eq!(late["invited_by"]["email"], ADMIN);
}

#[tokio::test]
async fn load_errors_name_the_file_and_the_problem() {
    let missing = Fixture::load(std::path::Path::new("/no/such/fixture")).expect_err("missing folder");
    assert!(matches!(missing, SandboxError::MissingFixture(_)));

    let org = Org::standard();
    std::fs::write(org.path().join("teams.json"), "[{\"id\": \"t\", ").expect("write");
    let text = Fixture::load(org.path()).expect_err("bad json").to_string();
    assert!(text.contains("teams.json") && text.contains("not valid JSON"), "{text}");

    let org = Org::standard();
    org.write("teams/typo/members.json", &json!([]));
    let text = Fixture::load(org.path()).expect_err("unknown team").to_string();
    assert!(text.contains("typo") && text.contains("teams.json"), "{text}");

    let org = Org::standard();
    org.write("sandbox.json", &json!({"now": NOW, "tokens": [{"token": "t", "account": "ghost@acme.test"}]}));
    let text = Fixture::load(org.path()).expect_err("unknown account").to_string();
    assert!(text.contains("sandbox.json") && text.contains("ghost@acme.test"), "{text}");

    let org = Org::standard();
    org.write("apps.json", &json!([{"name": "no-id"}]));
    let text = Fixture::load(org.path()).expect_err("no id").to_string();
    assert!(text.contains("apps.json") && text.contains("item 0") && text.contains("`id`"), "{text}");
}

#[tokio::test]
async fn stats_count_per_template() {
    let sandbox = serve_standard().await;
    let url = sandbox.url();
    collect(&url, "/teams/n201/members", None).await;
    get(&url, "/teams/core/members", None).await;
    get(&url, "/teams/viewers/members", None).await;
    get(&url, "/apps/web", None).await;
    get(&url, "/nowhere", None).await;
    let stats = sandbox.stats();
    let members = stats.endpoint("GET /teams/{team}/members");
    assert_eq!(members.requests, 4);
    assert_eq!((members.status.partial, members.status.ok, members.status.client_error), (1, 2, 1));
    assert_eq!(stats.endpoint("GET /apps/{app}").requests, 1);
    assert_eq!(stats.endpoint("GET (unknown)").status.client_error, 1);
    assert_eq!(stats.total.requests, 6);
    let line = serde_json::to_string(&stats).expect("serializes");
    assert!(line.contains("\"GET /teams/{team}/members\"") && line.contains("\"206\":1"), "{line}");
}

#[tokio::test]
async fn dropping_the_handle_stops_the_server() {
    let sandbox = serve_standard().await;
    let url = sandbox.url();
    assert_eq!(get(&url, "/teams", None).await.status().as_u16(), 200);
    drop(sandbox);
    // The abort lands at the runtime's next turn; give it a few.
    let dropped = Instant::now();
    loop {
        let fresh = client_with_timeout(Duration::from_secs(2));
        let attempt = fresh.get(format!("{url}/teams")).header("Accept", ACCEPT).bearer_auth(TOKEN).send().await;
        match attempt {
            Err(err) => {
                assert!(err.is_connect(), "{err}");
                break;
            }
            Ok(_) => assert!(dropped.elapsed() < Duration::from_secs(2), "still listening after drop"),
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

// ---- faults ----

fn with_faults(f: impl FnOnce(&mut hkaudit::sandbox::Faults)) -> hkaudit::sandbox::SandboxConfig {
    let mut config = config(Org::standard().fixture());
    f(&mut config.faults);
    config
}

#[tokio::test]
async fn latency_is_added() {
    let sandbox = serve(with_faults(|f| f.latency = Duration::from_millis(150))).await;
    let started = Instant::now();
    assert_eq!(get(&sandbox.url(), "/teams", None).await.status().as_u16(), 200);
    assert!(started.elapsed() >= Duration::from_millis(150));
    assert_eq!(sandbox.stats().total.faults.latency, 1);
}

#[tokio::test]
async fn server_errors_are_heroku_shaped_and_spare_rate_limits() {
    let sandbox = serve(with_faults(|f| f.error_rate = 1.0)).await;
    let url = sandbox.url();
    let mut seen = Vec::new();
    for i in 0..12 {
        let response = get(&url, &format!("/apps?i={i}"), None).await;
        let status = response.status().as_u16();
        assert!(status == 500 || status == 503, "{status}");
        seen.push(status);
        error_id(response, status).await;
    }
    assert!(seen.contains(&500) && seen.contains(&503), "{seen:?}");
    assert_eq!(get(&url, "/account/rate-limits", None).await.status().as_u16(), 200);
    assert_eq!(sandbox.stats().total.faults.error, 12);
}

async fn outcomes(seed: u64, error_rate: f64) -> Vec<u16> {
    let mut config = with_faults(|f| f.error_rate = error_rate);
    config.seed = seed;
    let sandbox = serve(config).await;
    let mut out = Vec::new();
    // The same requests again and again: retries of one request are distinct draws.
    for round in 0..4 {
        for path in ["/teams", "/apps", "/teams/core/members", "/apps/web/releases"] {
            let range = (round % 2 == 1).then_some("id ..; max=10");
            out.push(get(&sandbox.url(), path, range).await.status().as_u16());
        }
    }
    out
}

#[tokio::test]
async fn faults_are_deterministic_for_a_seed() {
    let (a, b) = tokio::join!(outcomes(7, 0.4), outcomes(7, 0.4));
    assert_eq!(a, b, "same seed, same outcomes");
    assert!(a.iter().any(|s| *s >= 500) && a.iter().any(|s| *s < 300), "{a:?}");
    let mut others = Vec::new();
    for seed in 8..12 {
        others.push(outcomes(seed, 0.4).await);
    }
    assert!(others.iter().any(|o| *o != a), "other seeds give other outcomes");

    // A retry of a failing request eventually succeeds.
    let sandbox = serve(with_faults(|f| f.error_rate = 0.5)).await;
    let mut attempts = 0;
    loop {
        attempts += 1;
        if get(&sandbox.url(), "/teams", None).await.status().is_success() {
            break;
        }
        assert!(attempts < 40, "retries never succeed");
    }
}

#[tokio::test]
async fn burst_429_follows_its_period() {
    let sandbox = serve(with_faults(|f| f.burst_429 = Some(Burst { every: 5, len: 2 }))).await;
    let mut statuses = Vec::new();
    for _ in 0..10 {
        let response = get(&sandbox.url(), "/teams", None).await;
        statuses.push(response.status().as_u16());
        if response.status().as_u16() == 429 {
            assert_eq!(response.json::<Value>().await.expect("json")["id"], "rate_limit");
        }
    }
    assert_eq!(statuses, [200, 200, 200, 429, 429, 200, 200, 200, 429, 429]);
    assert_eq!(get(&sandbox.url(), "/account/rate-limits", None).await.status().as_u16(), 200);
    assert_eq!(sandbox.stats().total.faults.burst_429, 4);
}

#[tokio::test]
async fn resets_are_connection_errors() {
    let sandbox = serve(with_faults(|f| f.reset_rate = 1.0)).await;
    let url = sandbox.url();
    let result = client().get(format!("{url}/teams")).header("Accept", ACCEPT).bearer_auth(TOKEN).send().await;
    let err = result.expect_err("the connection is dropped");
    assert!(!err.is_status() && !err.is_timeout(), "{err}");
    assert_eq!(get(&url, "/account/rate-limits", None).await.status().as_u16(), 200);
    assert!(sandbox.stats().total.faults.reset >= 1);
}

#[tokio::test]
async fn truncated_bodies_have_a_matching_length() {
    let sandbox = serve(with_faults(|f| f.truncate_rate = 1.0)).await;
    let url = sandbox.url();
    let response = get(&url, "/teams", None).await;
    assert_eq!(response.status().as_u16(), 200);
    let length: usize = header(&response, "content-length").expect("length").parse().expect("number");
    let body = response.bytes().await.expect("the cut body arrives whole");
    assert_eq!(body.len(), length);
    assert!(serde_json::from_slice::<Value>(&body).is_err(), "the JSON is cut");
    let free: Value = get(&url, "/account/rate-limits", None).await.json().await.expect("rate-limits is never cut");
    assert!(free["remaining"].is_number());
}

#[tokio::test]
async fn stalls_hold_until_the_client_gives_up_and_do_not_block_shutdown() {
    let sandbox = serve(with_faults(|f| f.stall_rate = 1.0)).await;
    let url = sandbox.url();
    let impatient = client_with_timeout(Duration::from_millis(300));
    let started = Instant::now();
    let err = impatient
        .get(format!("{url}/teams"))
        .header("Accept", ACCEPT)
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect_err("never answered");
    assert!(err.is_timeout(), "{err}");
    assert!(started.elapsed() >= Duration::from_millis(300));
    // A second stalled request still in flight while the sandbox stops.
    let pending = tokio::spawn(async move {
        client().get(format!("{url}/apps")).header("Accept", ACCEPT).bearer_auth(TOKEN).send().await
    });
    let waiting = Instant::now();
    while sandbox.stats().total.faults.stall < 2 {
        assert!(waiting.elapsed() < Duration::from_secs(5), "second request never arrived");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::timeout(Duration::from_secs(3), sandbox.shutdown()).await.expect("shutdown is not held up");
    let outcome = tokio::time::timeout(Duration::from_secs(3), pending).await.expect("client released").expect("task");
    assert!(outcome.is_err(), "the stalled request ends in an error, not a response");
}

#[tokio::test]
async fn deleted_app_is_listed_but_gone() {
    let sandbox = serve(with_faults(|f| f.delete_app = Some("web".into()))).await;
    let url = sandbox.url();
    assert!(strings(&collect(&url, "/apps", None).await.0, "name").contains(&"web".to_string()));
    assert!(strings(&collect(&url, "/teams/core/apps", None).await.0, "name").contains(&"web".to_string()));
    for path in [
        "/apps/web",
        "/apps/a-3",
        "/apps/web/releases",
        "/apps/web/builds",
        "/apps/web/collaborators",
        "/teams/apps/web/collaborators",
    ] {
        assert_eq!(error_id(get(&url, path, None).await, 404).await, "not_found", "{path}");
    }
    assert_eq!(get(&url, "/apps/api", None).await.status().as_u16(), 200);
    assert_eq!(sandbox.stats().total.faults.delete_app, 6);
}

#[tokio::test]
async fn pagination_loop_repeats_next_range() {
    let sandbox = serve(with_faults(|f| f.pagination_loop = Some("/teams/n1/members".into()))).await;
    let url = sandbox.url();
    let first = get(&url, "/teams/n1/members", None).await;
    assert_eq!(first.status().as_u16(), 206);
    let next = header(&first, "next-range").expect("next-range");
    let second = get(&url, "/teams/n1/members", Some(&next)).await;
    assert_eq!(second.status().as_u16(), 206);
    assert_eq!(header(&second, "next-range"), Some(next));
    let (_, statuses) = collect(&url, "/teams/n0/members", None).await;
    assert_eq!(statuses, [200], "other paths page normally");
}

#[tokio::test]
async fn forbidden_team_hides_its_sub_resources() {
    let sandbox = serve(with_faults(|f| f.forbid_team = vec!["core".into()])).await;
    let url = sandbox.url();
    for path in [
        "/teams/core/members",
        "/teams/core/invitations",
        "/teams/core/permissions",
        "/teams/core/apps",
        "/teams/t-core/identity-providers",
    ] {
        assert_eq!(error_id(get(&url, path, None).await, 403).await, "forbidden", "{path}");
    }
    assert_eq!(get(&url, "/teams/core", None).await.status().as_u16(), 200);
    assert_eq!(get(&url, "/teams/n1/members", None).await.status().as_u16(), 200);
}

// ---- synthetic organisation ----

#[tokio::test]
async fn synthetic_org_is_big_realistic_and_reproducible() {
    let params: SyntheticParams = "teams=100,members=10000,apps=5000,seed=1".parse().expect("params");
    let started = Instant::now();
    let fixture = Fixture::synthetic(&params);
    let took = started.elapsed();
    // About 3 s in a debug build, a fraction of that in release; this bound catches a blow-up.
    assert!(took < Duration::from_secs(20), "synthetic took {took:?}");
    assert_eq!(fixture.teams().len(), 100);
    let team_apps = fixture.apps().iter().filter(|a| !a["team"].is_null()).count();
    assert_eq!(team_apps, 5000);
    assert!(fixture.apps().len() > 5000, "plus a few personal apps");
    let cutoff = fixture.now() - chrono::Duration::days(180);
    let idle = fixture
        .apps()
        .iter()
        .filter(|a| {
            chrono::DateTime::parse_from_rfc3339(a["released_at"].as_str().expect("released_at")).expect("time")
                < cutoff
        })
        .count();
    assert!(idle * 2 > fixture.apps().len(), "most apps are idle: {idle}");
    let sizes: Vec<usize> =
        fixture.teams().iter().map(|t| fixture.team_members(t["name"].as_str().expect("name")).len()).collect();
    let (largest, smallest) = (sizes.iter().max().expect("max"), sizes.iter().min().expect("min"));
    assert!(*largest > 10 * *smallest, "team sizes are skewed: {largest} vs {smallest}");
    let people: std::collections::HashSet<&str> = fixture
        .teams()
        .iter()
        .flat_map(|t| fixture.team_members(t["name"].as_str().expect("name")))
        .map(|m| m["email"].as_str().expect("email"))
        .collect();
    assert!(people.len() > 9000, "members are spread over teams: {}", people.len());
    for team in fixture.teams() {
        let mine = fixture
            .team_members(team["name"].as_str().expect("name"))
            .iter()
            .find(|m| m["email"] == "auditor@synthetic.example");
        assert_eq!(mine.expect("the auditor is in every team")["role"], team["role"], "the caller's role agrees");
    }

    let sandbox = serve(config(fixture)).await;
    let url = sandbox.url();
    let c = client();
    let fetch = |path: String, range: &'static str| {
        c.get(format!("{url}{path}"))
            .header("Accept", ACCEPT)
            .header("Range", range)
            .bearer_auth(SYNTHETIC_TOKEN)
            .send()
    };
    let recent = fetch("/apps".into(), "updated_at ..; max=10, order=desc").await.expect("sent");
    assert_eq!(recent.status().as_u16(), 206);
    let mut busiest = 0;
    for app in recent.json::<Vec<Value>>().await.expect("json") {
        let path = format!("/apps/{}/releases", app["name"].as_str().expect("name"));
        let releases = fetch(path, "version ..; max=1000").await.expect("sent");
        busiest = busiest.max(releases.json::<Vec<Value>>().await.expect("json").len());
    }
    assert!(busiest >= 100, "the most recently updated apps include very active ones: {busiest}");
    let archives = fetch("/enterprise-accounts/synthetic/archives".into(), "id ..").await.expect("sent");
    assert!(archives.json::<Vec<Value>>().await.expect("json").len() >= 3);
}

#[tokio::test]
async fn synthetic_is_deterministic_for_a_seed() {
    let params = SyntheticParams { teams: 10, members: 300, apps: 200, seed: 5 };
    let (a, b) = (Fixture::synthetic(&params), Fixture::synthetic(&params));
    assert_eq!(a.apps(), b.apps());
    assert_eq!(a.teams(), b.teams());
    assert_eq!(a.team_members("team-000"), b.team_members("team-000"));
    let other = Fixture::synthetic(&SyntheticParams { seed: 6, ..params });
    assert_ne!(other.apps(), a.apps());
}

// ---- CLI ----

#[tokio::test]
async fn cli_prints_the_url_first_and_serves() {
    let org = Org::standard();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_hkaudit"))
        .args(["sandbox", "--port", "0", "--fixtures"])
        .arg(org.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn hkaudit");
    let stdout = child.stdout.take().expect("stdout");
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        std::io::BufReader::new(stdout).read_line(&mut line).expect("read");
        line
    })
    .await
    .expect("reader");
    let url = line.trim().to_string();
    assert!(url.starts_with("http://127.0.0.1:") && !url.ends_with('/'), "{url:?}");
    let response = get(&url, "/account/rate-limits", None).await;
    let body: Value = response.json().await.expect("json");
    child.kill().expect("kill");
    child.wait().expect("wait");
    assert_eq!(body, json!({"remaining": 4500}));
}

#[tokio::test]
async fn cli_refuses_a_missing_fixture_folder() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_hkaudit"))
        .args(["sandbox", "--fixtures", "/no/such/folder"])
        .output()
        .expect("run hkaudit");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("/no/such/folder") && stderr.contains("does not exist"), "{stderr}");
    assert!(output.stdout.is_empty());
}

#[tokio::test]
async fn synthetic_handles_tiny_sizes() {
    let fixture = Fixture::synthetic(&SyntheticParams { teams: 0, members: 0, apps: 0, seed: 3 });
    assert_eq!(fixture.teams().len(), 1);
    assert_eq!(fixture.apps().len(), 3, "only the personal apps");
    assert_eq!(fixture.tokens()[0].token, SYNTHETIC_TOKEN);
    assert!("teams=0".parse::<SyntheticParams>().is_err());
    assert!("teams=2,colour=blue".parse::<SyntheticParams>().is_err());
    assert_eq!("apps=7".parse::<SyntheticParams>().expect("partial spec").apps, 7);
}

#[tokio::test]
async fn cli_prints_stats_as_one_json_line_when_stopped() {
    let org = Org::standard();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_hkaudit"))
        .args(["sandbox", "--stats", "--error-rate", "0", "--latency", "1ms", "--fixtures"])
        .arg(org.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn hkaudit");
    let mut stdout = std::io::BufReader::new(child.stdout.take().expect("stdout"));
    let (url, mut stdout) = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        stdout.read_line(&mut line).expect("read");
        (line.trim().to_string(), stdout)
    })
    .await
    .expect("reader");
    assert_eq!(get(&url, "/teams", None).await.status().as_u16(), 200);
    let term = std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill");
    assert!(term.success());
    let status = child.wait().expect("wait");
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).expect("read stats");
    assert_eq!(status.code(), Some(130));
    let lines: Vec<&str> = rest.lines().collect();
    assert_eq!(lines.len(), 1, "{rest:?}");
    let stats: Value = serde_json::from_str(lines[0]).expect("stats are JSON");
    assert_eq!(stats["total"]["requests"], 1);
    assert_eq!(stats["endpoints"]["GET /teams"]["status"]["200"], 1);
    assert_eq!(stats["endpoints"]["GET /teams"]["faults"]["latency"], 1);
}

#[tokio::test]
async fn debug_output_never_shows_tokens_or_secrets() {
    let fixture = Org::standard().fixture();
    let text = format!("{fixture:?} {:?}", config(fixture.clone()));
    assert!(!text.contains(TOKEN) && !text.contains("secret-1"), "{text}");
    assert!(text.contains(ADMIN), "Debug still says whose tokens they are");
    let sandbox = serve(config(fixture)).await;
    assert!(format!("{sandbox:?}").contains(&sandbox.url()));
}

// ---- shape faults and replay ----

#[tokio::test]
async fn a_malformed_200_wraps_the_list_and_only_on_its_path() {
    let sandbox = serve(with_faults(|f| f.malformed_200 = Some("/apps".into()))).await;
    let url = sandbox.url();
    let response = get(&url, "/apps", None).await;
    assert_eq!(response.status().as_u16(), 200);
    let body: Value = response.json().await.expect("JSON");
    assert!(body["data"].as_array().is_some_and(|a| !a.is_empty()), "an envelope around the list: {body}");
    let teams: Value = get(&url, "/teams", None).await.json().await.expect("JSON");
    assert!(teams.is_array(), "other paths are untouched");
    assert_eq!(sandbox.stats().total.faults.malformed_200, 1);
}

#[tokio::test]
async fn a_missing_next_range_is_a_206_with_half_the_list() {
    let sandbox = serve(with_faults(|f| f.missing_next_range = Some("/teams/n200/members".into()))).await;
    let response = get(&sandbox.url(), "/teams/n200/members", None).await;
    assert_eq!(response.status().as_u16(), 206);
    assert_eq!(header(&response, "next-range"), None);
    let page: Vec<Value> = response.json().await.expect("a list");
    assert_eq!(page.len(), 100);
}

#[tokio::test]
async fn quirks_remove_or_set_a_field_of_every_object() {
    let sandbox = serve(with_faults(|f| {
        f.quirks = vec![
            hkaudit::sandbox::Quirk {
                template: "/teams/{team}/members".into(),
                field: "two_factor_authentication".into(),
                value: None,
            },
            hkaudit::sandbox::Quirk {
                template: "/teams/{team}/members".into(),
                field: "identity_provider".into(),
                value: Some(json!({})),
            },
        ]
    }))
    .await;
    let members: Vec<Value> = get(&sandbox.url(), "/teams/core/members", None).await.json().await.expect("a list");
    assert!(!members.is_empty());
    for m in &members {
        assert!(m.get("two_factor_authentication").is_none(), "{m}");
        assert_eq!(m["identity_provider"], json!({}));
        assert!(m["email"].is_string(), "the rest is as written: {m}");
    }
}

#[tokio::test]
async fn a_quirk_on_a_template_the_sandbox_does_not_serve_stops_it_from_starting() {
    // A concrete path where a template belongs would otherwise never match, silently.
    let config = with_faults(|f| {
        f.quirks = vec![hkaudit::sandbox::Quirk {
            template: "/teams/core/members".into(),
            field: "federated".into(),
            value: None,
        }]
    });
    let err = hkaudit::sandbox::start(config).await.expect_err("an unknown template is refused").to_string();
    assert!(err.contains("`/teams/core/members` is not a route template"), "{err}");
    assert!(err.contains("`/teams/{team}/members`"), "the message shows what a template looks like: {err}");
}

#[tokio::test]
async fn html_pages_wrong_content_types_and_mid_body_resets() {
    let sandbox = serve(with_faults(|f| f.html_200_rate = 1.0)).await;
    let response = get(&sandbox.url(), "/teams", None).await;
    assert_eq!(response.status().as_u16(), 200);
    assert!(header(&response, "content-type").is_some_and(|c| c.starts_with("text/html")));
    assert!(response.text().await.expect("text").starts_with("<!DOCTYPE html>"));

    let sandbox = serve(with_faults(|f| f.wrong_content_type = true)).await;
    let response = get(&sandbox.url(), "/teams", None).await;
    assert!(header(&response, "content-type").is_some_and(|c| c.starts_with("text/html")));
    let teams: Value = response.json().await.expect("still JSON");
    assert!(teams.is_array());

    let sandbox = serve(with_faults(|f| f.reset_mid_body_rate = 1.0)).await;
    let sent =
        client().get(format!("{}/teams", sandbox.url())).header("Accept", ACCEPT).bearer_auth(TOKEN).send().await;
    // Headers may or may not reach the client before the connection dies; the body never does.
    let whole = match sent {
        Ok(response) => response.bytes().await.is_ok(),
        Err(_) => false,
    };
    assert!(!whole, "the body is cut off");
    assert_eq!(sandbox.stats().total.faults.reset_mid_body, 1);
}

#[tokio::test]
async fn deny_after_and_retry_after() {
    let sandbox = serve(with_faults(|f| {
        f.deny_after = Some(hkaudit::sandbox::DenyAfter { after: 1, status: 404 });
        f.burst_429 = Some(hkaudit::sandbox::Burst { every: 3, len: 1 });
        f.retry_after_secs = Some(7);
    }))
    .await;
    let url = sandbox.url();
    assert_eq!(get(&url, "/teams/core/members", None).await.status().as_u16(), 200, "before: served");
    assert_eq!(error_id(get(&url, "/teams/core/members", None).await, 404).await, "not_found", "after: denied");
    let limited = get(&url, "/teams", None).await;
    assert_eq!(limited.status().as_u16(), 429);
    assert_eq!(header(&limited, "retry-after").as_deref(), Some("7"));
    assert_eq!(get(&url, "/teams", None).await.status().as_u16(), 200, "org-level reads are not denied");
}

#[tokio::test]
async fn replay_serves_recorded_answers_verbatim_before_the_fixture() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/heroku-recorded");
    let replay = hkaudit::sandbox::load_replay(&dir).expect("replay.json loads");
    let mut config = config(Fixture::load(&dir.join("org")).expect("org"));
    config.faults.replay = replay;
    let sandbox = serve(config).await;
    let url = sandbox.url();
    let token = "HRKU-replay-PLANTED-SECRET-0002";
    let fetch = |path: &str| client().get(format!("{url}{path}")).header("Accept", ACCEPT).bearer_auth(token).send();
    let body = fetch("/teams").await.expect("answered").bytes().await.expect("body");
    assert_eq!(&body[..], &std::fs::read(dir.join("heroku-cli/teams.json")).expect("recording")[..], "byte for byte");
    let eas: Value = fetch("/enterprise-accounts").await.expect("answered").json().await.expect("JSON");
    assert_eq!(eas.as_array().map(Vec::len), Some(2), "items: the recorded objects as a list");
    let detail: Value = fetch("/enterprise-accounts/01234567-89ab-cdef-0123-456789abcdef/archives/2018/05")
        .await
        .expect("answered")
        .json()
        .await
        .expect("JSON");
    let link = detail["url"].as_str().expect("url");
    assert!(link.starts_with(&url), "the recorded host is rewritten to the sandbox: {link}");
    // The download is pre-signed: no token, no Accept.
    let gz = client().get(link).send().await.expect("answered");
    assert_eq!(gz.status().as_u16(), 200);
    assert_eq!(sandbox.stats().total.faults.replay, 4);
    // What nothing recorded falls through to the fixture.
    let idps = fetch("/teams/Luzern/identity-providers").await.expect("answered");
    assert_eq!(idps.status().as_u16(), 200);
}
