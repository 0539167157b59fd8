//! Real answers, replayed: the recorded corpus of `fixtures/heroku-recorded` (see its
//! `SOURCES.md`), and acme served with the quirks those recordings show. One odd object never
//! costs more than itself: the snapshot holds what the objects imply, and the manifest names
//! exactly what could not be read.
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use hkaudit::extract::{extract, ExtractOptions, Extracted};
use hkaudit::heroku::{Client, Token};
use hkaudit::sandbox::{load_replay, Faults, Fixture, Quirk};
use hkaudit::snapshot::TABLES;
use serde_json::{json, Value};

use crate::extract::{
    acme_sandbox, apps, assert_same_tables, clean_run, client_config, column_text, fixture_list, is_personal, read,
    rows, run_extract, strings, team_names, text, total,
};
use crate::support;

const RECORDED_TOKEN: &str = "HRKU-replay-PLANTED-SECRET-0002";
const SCHEMA_ID: &str = "01234567-89ab-cdef-0123-456789abcdef";

fn recorded_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/heroku-recorded")
}

fn quirk(template: &str, field: &str, value: Option<Value>) -> Quirk {
    Quirk { template: template.into(), field: field.into(), value }
}

/// Extract acme through `faults` and return it with the clean run's extract and the sandbox's
/// counts.
async fn acme_with(faults: Faults) -> (Extracted, Extracted, hkaudit::sandbox::Stats, [tempfile::TempDir; 2]) {
    let dirs = [tempfile::tempdir().expect("tempdir"), tempfile::tempdir().expect("tempdir")];
    let clean = clean_run(dirs[0].path()).await;
    let sandbox = acme_sandbox(faults).await;
    let x = run_extract(client_config(&sandbox), dirs[1].path()).await;
    let stats = sandbox.stats();
    (x, clean, stats, dirs)
}

fn tables_named_by_gaps(x: &Extracted) -> BTreeSet<String> {
    x.manifest.gaps.iter().flat_map(|g| g.tables.iter().cloned()).collect()
}

fn assert_other_tables_equal(x: &Extracted, clean: &Extracted, what: &str) {
    let named = tables_named_by_gaps(x);
    for table in TABLES {
        if !named.contains(*table) {
            assert_eq!(x.manifest.tables[*table], clean.manifest.tables[*table], "{what}: {table} (no gap names it)");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The five quirks of issue 10, on acme.

#[tokio::test(flavor = "multi_thread")]
async fn an_enterprise_account_whose_identity_provider_is_empty_costs_nothing() {
    // The official CLI's recorded enterprise account carries `identity_provider: {}`.
    let faults = Faults {
        quirks: vec![quirk("/enterprise-accounts", "identity_provider", Some(json!({})))],
        ..Faults::default()
    };
    let (x, clean, stats, _dirs) = acme_with(faults).await;
    assert!(stats.total.faults.quirk > 0, "the quirk was served");
    assert!(x.manifest.complete, "{:#?}", x.manifest.gaps);
    // acme's accounts have no identity provider: `{}` says no more, so nothing changes.
    assert_same_tables(&x, &clean, "identity_provider {}");
    assert_eq!(x.manifest.endpoints["GET /enterprise-accounts"].requests, 1, "read once, never retried");
}

#[tokio::test(flavor = "multi_thread")]
async fn archives_listed_without_a_url_are_read_from_their_detail_and_no_event_is_lost() {
    // The official CLI's recorded archive list has no `url`; only the per-month answer does.
    let faults = Faults { quirks: vec![quirk("/enterprise-accounts/{ea}/archives", "url", None)], ..Faults::default() };
    let (x, clean, _stats, _dirs) = acme_with(faults).await;
    assert!(x.manifest.complete, "{:#?}", x.manifest.gaps);
    assert_same_tables(&x, &clean, "archives without url");
    let downloads = clean.manifest.endpoints["GET archive download"].requests;
    assert!(downloads > 0);
    assert_eq!(
        x.manifest.endpoints["GET /enterprise-accounts/{ea}/archives/{year}/{month}"].requests, downloads,
        "one detail read per archive downloaded"
    );
    assert_eq!(
        x.manifest.endpoints["GET /enterprise-accounts/{ea}/events"].requests,
        clean.manifest.endpoints["GET /enterprise-accounts/{ea}/events"].requests,
        "the daily reads are the clean run's"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_malformed_200_on_one_endpoint_is_one_request_and_one_gap() {
    let faults = Faults { malformed_200: Some("/apps".into()), ..Faults::default() };
    let (x, clean, stats, _dirs) = acme_with(faults).await;
    assert_eq!(stats.total.faults.malformed_200, 1);
    assert_eq!(stats.endpoint("GET /apps").requests, 1, "not retried: asking again gets the same answer");
    assert_eq!(x.manifest.endpoints["GET /apps"].requests, 1);
    assert_eq!(x.manifest.endpoints["GET /apps"].retries, 0);
    assert_eq!(x.manifest.gaps.len(), 1, "{:#?}", x.manifest.gaps);
    let gap = &x.manifest.gaps[0];
    assert_eq!((gap.endpoint.as_str(), gap.path.as_str()), ("GET /apps", "/apps"));
    assert_eq!((gap.status, gap.error_id.as_deref()), (Some(200), Some("unexpected_body")));
    assert!(gap.message.contains("expected a JSON array") && gap.message.contains("`data`"), "{}", gap.message);
    assert_eq!(gap.tables, ["apps", "app_permissions", "activity"]);
    assert!(!x.manifest.complete);
    assert_other_tables_equal(&x, &clean, "malformed /apps");
    // What /apps alone contributes (personal apps) is what is missing; team apps are all there.
    let personal: BTreeSet<String> =
        apps().iter().filter(|a| is_personal(a)).map(|a| text(a, &["name"]).expect("name").to_owned()).collect();
    let names: BTreeSet<String> = strings(&read(&x, "apps"), "name").into_iter().collect();
    let clean_names: BTreeSet<String> = strings(&read(&clean, "apps"), "name").into_iter().collect();
    assert_eq!(clean_names.difference(&names).cloned().collect::<BTreeSet<_>>(), personal);
}

#[tokio::test(flavor = "multi_thread")]
async fn members_without_two_factor_or_federation_are_stored_as_unknown_never_false() {
    // Recorded `/teams/{team}/members` bodies omit both booleans; an enterprise member without
    // `identity_provider` says nothing about federation either.
    let faults = Faults {
        quirks: vec![
            quirk("/teams/{team}/members", "two_factor_authentication", None),
            quirk("/teams/{team}/members", "federated", None),
            quirk("/enterprise-accounts/{ea}/members", "identity_provider", None),
            quirk("/enterprise-accounts/{ea}/members", "two_factor_authentication", None),
        ],
        ..Faults::default()
    };
    let (x, clean, _stats, _dirs) = acme_with(faults).await;
    assert!(x.manifest.complete, "{:#?}", x.manifest.gaps);
    assert_eq!(rows(&x, "team_members"), rows(&clean, "team_members"), "no member is lost");
    assert_eq!(rows(&x, "enterprise_members"), rows(&clean, "enterprise_members"));
    for (table, column) in [
        ("team_members", "two_factor_authentication"),
        ("team_members", "federated"),
        ("enterprise_members", "two_factor_authentication"),
        ("enterprise_members", "federated"),
    ] {
        let values = column_text(&read(&x, table), column);
        assert!(!values.is_empty());
        assert!(values.iter().all(Option::is_none), "{table}.{column} is null (unknown) for every row: {values:?}");
    }
    // The clean run knows them: the nulls are the quirk's, not the extractor's.
    assert!(column_text(&read(&clean, "enterprise_members"), "federated").iter().all(Option::is_some));
}

/// `user.id` of every object in `rel`'s lists, keyed by the email the snapshot shows.
fn user_ids(items: &[Value], email: &[&str], id: &[&str]) -> BTreeSet<(String, String)> {
    items.iter().filter_map(|v| Some((text(v, email)?.to_lowercase(), text(v, id)?.to_owned()))).collect()
}

fn snapshot_ids(x: &Extracted, table: &str, email: &str) -> BTreeSet<(String, String)> {
    let df = read(x, table);
    column_text(&df, email)
        .into_iter()
        .zip(column_text(&df, "user_id"))
        .filter_map(|(e, id)| Some((e?.to_lowercase(), id?)))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_table_that_has_a_person_keeps_their_user_id() {
    let out = tempfile::tempdir().expect("tempdir");
    let x = clean_run(out.path()).await;
    let members: Vec<Value> =
        team_names().iter().flat_map(|t| fixture_list(&format!("teams/{t}/members.json"))).collect();
    assert_eq!(snapshot_ids(&x, "team_members", "email"), user_ids(&members, &["email"], &["user", "id"]));
    let ea_members: Vec<Value> = crate::extract::ea_names()
        .iter()
        .flat_map(|e| fixture_list(&format!("enterprise-accounts/{e}/members.json")))
        .collect();
    assert_eq!(
        snapshot_ids(&x, "enterprise_members", "email"),
        user_ids(&ea_members, &["user", "email"], &["user", "id"])
    );
    let invitations: Vec<Value> =
        team_names().iter().flat_map(|t| fixture_list(&format!("teams/{t}/invitations.json"))).collect();
    assert_eq!(
        snapshot_ids(&x, "team_invitations", "email"),
        user_ids(&invitations, &["user", "email"], &["user", "id"])
    );
    let collaborators: Vec<Value> = apps()
        .iter()
        .filter(|a| is_personal(a))
        .flat_map(|a| fixture_list(&format!("apps/{}/collaborators.json", text(a, &["name"]).expect("name"))))
        .collect();
    let from_collaborators = user_ids(&collaborators, &["user", "email"], &["user", "id"]);
    assert!(!from_collaborators.is_empty());
    assert!(from_collaborators.is_subset(&snapshot_ids(&x, "app_permissions", "email")), "personal collaborators");
    let auths = fixture_list("oauth-authorizations.json");
    let account = text(&fixture_list("accounts.json")[0], &["email"]).expect("email").to_owned();
    let own: Vec<Value> = auths.into_iter().filter(|a| text(a, &["user", "email"]) == Some(account.as_str())).collect();
    assert_eq!(snapshot_ids(&x, "authorizations", "user_email"), user_ids(&own, &["user", "email"], &["user", "id"]));
    // Activity names who acted by id too (releases and builds carry `user.id`).
    let activity = read(&x, "activity");
    let ids = column_text(&activity, "user_id");
    let emails = column_text(&activity, "user_email");
    assert!(
        ids.iter().zip(&emails).filter(|(_, e)| e.is_some()).all(|(i, _)| i.is_some()),
        "every actor with an email has an id"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_personal_app_collaborator_without_an_email_is_kept_by_user_id() {
    let faults = Faults {
        quirks: vec![quirk("/apps/{app}/collaborators", "user", Some(json!({"id": "u-no-email", "email": null})))],
        ..Faults::default()
    };
    let (x, _clean, _stats, _dirs) = acme_with(faults).await;
    assert!(x.manifest.complete, "kept, so nothing is missing: {:#?}", x.manifest.gaps);
    let df = read(&x, "app_permissions");
    let (ids, emails, sources) = (column_text(&df, "user_id"), column_text(&df, "email"), column_text(&df, "sources"));
    let apps_with_collaborators = apps()
        .iter()
        .filter(|a| is_personal(a))
        .filter(|a| !fixture_list(&format!("apps/{}/collaborators.json", text(a, &["name"]).expect("name"))).is_empty())
        .count();
    assert!(apps_with_collaborators > 0);
    let kept = (0..df.height())
        .filter(|i| ids[*i].as_deref() == Some("u-no-email"))
        .inspect(|i| {
            assert_eq!(emails[*i], None);
            assert!(sources[*i].as_deref().is_some_and(|s| s.contains("personal-collaborator")));
        })
        .count();
    assert_eq!(kept, apps_with_collaborators, "one row per personal app with collaborators");
}

// ---------------------------------------------------------------------------------------------
// The recorded corpus.

#[tokio::test(flavor = "multi_thread")]
async fn recorded_answers_give_the_snapshot_their_objects_imply_and_name_what_is_unreadable() {
    let dir = recorded_dir();
    let mut config = support::config(Fixture::load(&dir.join("org")).expect("the replay org loads"));
    config.faults.replay = load_replay(&dir).expect("replay.json loads");
    let sandbox = support::serve(config).await;
    let url = url::Url::parse(&sandbox.url()).expect("url");
    let mut cfg = client_config(&sandbox);
    cfg.base_url = url;
    cfg.token = Token::new(RECORDED_TOKEN);
    let out = tempfile::tempdir().expect("tempdir");
    let client = Client::new(cfg).expect("client");
    let mut opts = ExtractOptions::new(out.path());
    opts.as_of = Some("2018-07-01T12:00:00Z".parse().expect("time"));
    opts.snapshot_id = Some("recorded".into());
    let x = extract(&client, &opts).await.expect("extract runs to the end");

    // What the objects imply, table by table.
    assert_eq!(strings(&read(&x, "account"), "email"), ["username@example.com"]);
    let eas = read(&x, "enterprise_accounts");
    assert_eq!(strings(&eas, "name"), ["dingo"]);
    assert_eq!(column_text(&eas, "identity_provider_id"), [None], "identity_provider {{}} has no id");
    let em = read(&x, "enterprise_members");
    assert_eq!(strings(&em, "email"), ["roadrunner@runnersroost.com"]);
    assert_eq!(column_text(&em, "permissions"), [Some("view|billing".to_owned())]);
    assert_eq!(column_text(&em, "federated"), [Some("true".to_owned())]);
    assert_eq!(column_text(&em, "user_id"), [Some(SCHEMA_ID.to_owned())]);
    let teams = read(&x, "teams");
    assert_eq!(strings(&teams, "name"), ["Luzern"], "Lausanne shares Luzern's id");
    assert_eq!(column_text(&teams, "identity_provider_id"), [Some(SCHEMA_ID.to_owned())]);
    let tm = read(&x, "team_members");
    assert_eq!(strings(&tm, "email"), ["bob@heroku.com", "gandalf@heroku.com", "peter@heroku.com"]);
    assert_eq!(strings(&tm, "role"), ["viewer", "admin", "collaborator"]);
    assert!(column_text(&tm, "two_factor_authentication").iter().all(Option::is_none), "2FA unknown, not false");
    assert!(column_text(&tm, "federated").iter().all(Option::is_none), "federation unknown, not false");
    let inv = read(&x, "team_invitations");
    assert_eq!(strings(&inv, "email"), ["invited-user@mail.com"]);
    assert_eq!(strings(&inv, "invited_by_email"), ["gandalf@heroku.com"]);
    assert_eq!(column_text(&inv, "id"), [None]);
    assert_eq!(rows(&x, "apps"), 0);
    let auths = read(&x, "authorizations");
    assert_eq!(strings(&auths, "description"), ["b description", "awesome"]);
    assert_eq!(rows(&x, "audit_events"), 0, "the recorded archive is an empty bare array");

    // What could not be read, exactly.
    let mut named: Vec<(String, Option<String>, Option<String>)> =
        x.manifest.gaps.iter().map(|g| (g.endpoint.clone(), g.json_path.clone(), g.error_id.clone())).collect();
    named.sort();
    let unexpected = Some("unexpected_body".to_owned());
    let expected: Vec<(String, Option<String>, Option<String>)> = vec![
        ("GET /apps".into(), Some("$[0]".into()), unexpected.clone()),
        ("GET /apps".into(), Some("$[1]".into()), unexpected.clone()),
        ("GET /enterprise-accounts".into(), Some("$[1]".into()), unexpected.clone()),
        ("GET /teams".into(), None, Some("duplicate_id".into())),
        ("GET /teams".into(), Some("$[0]".into()), unexpected.clone()),
        ("GET /teams".into(), Some("$[1]".into()), unexpected.clone()),
        ("GET /teams".into(), Some("$[2]".into()), unexpected.clone()),
        ("GET /teams".into(), Some("$[3]".into()), unexpected),
    ];
    assert_eq!(named, expected, "{:#?}", x.manifest.gaps);
    assert!(!x.manifest.complete);
    for gap in &x.manifest.gaps {
        assert_eq!(gap.status, Some(200), "{gap:?}");
        assert!(!gap.tables.is_empty(), "{gap:?}");
    }
    let ea_gap = x.manifest.gaps.iter().find(|g| g.endpoint == "GET /enterprise-accounts").expect("gap");
    assert!(ea_gap.message.contains("heroku") && ea_gap.message.contains("`id`"), "names it: {}", ea_gap.message);
    assert!(ea_gap.tables.contains(&"teams".to_owned()), "an unread enterprise account hides teams");
    let dup = x.manifest.gaps.iter().find(|g| g.error_id.as_deref() == Some("duplicate_id")).expect("gap");
    assert!(dup.message.contains("Lausanne") && dup.message.contains("Luzern"), "{}", dup.message);

    // The archive listed without `url` was completed from its recorded detail and verified
    // against the recorded checksum; June's detail was never recorded, so its days were read
    // one by one, as were the days after the newest archive.
    let endpoint = |e: &str| x.manifest.endpoints.get(e).map(|s| s.requests).unwrap_or(0);
    assert_eq!(endpoint("GET /enterprise-accounts/{ea}/archives/{year}/{month}"), 2);
    assert_eq!(endpoint("GET archive download"), 1);
    assert_eq!(endpoint("GET /enterprise-accounts/{ea}/events"), 30 + 1, "June by day, and 1 July");
    assert_eq!(total(&x.manifest, |e| e.retries), 0, "nothing was worth retrying");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_recorded_401_is_one_error_that_says_where_the_token_came_from() {
    let dir = recorded_dir();
    let mut config = support::config(Fixture::load(&dir.join("org")).expect("the replay org loads"));
    let mut replay = load_replay(&dir).expect("replay.json loads");
    for route in replay.routes.iter_mut().filter(|r| r.path == "/account") {
        route.status = 401;
        route.body = std::fs::read(dir.join("hubot-deploy-heroku/account-401.json")).expect("recording").into();
    }
    config.faults.replay = replay;
    let sandbox = support::serve(config).await;
    let out = tempfile::tempdir().expect("tempdir");
    let cmd = crate::extract::hkaudit(&sandbox.url(), out.path(), RECORDED_TOKEN);
    let output = crate::extract::run_to_end(cmd).await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("401") && stderr.contains("HEROKU_API_KEY"), "{stderr}");
    assert!(!stderr.contains(RECORDED_TOKEN), "{stderr}");
}

// ---------------------------------------------------------------------------------------------
// Reads do not depend on unrelated reads.

#[tokio::test(flavor = "multi_thread")]
async fn an_unreadable_enterprise_list_names_teams_and_keeps_those_get_teams_returned() {
    let faults = Faults { malformed_200: Some("/enterprise-accounts".into()), ..Faults::default() };
    let (x, clean, _stats, _dirs) = acme_with(faults).await;
    assert_eq!(x.manifest.gaps.len(), 1, "{:#?}", x.manifest.gaps);
    let gap = &x.manifest.gaps[0];
    assert_eq!((gap.status, gap.error_id.as_deref()), (Some(200), Some("unexpected_body")));
    for table in ["enterprise_accounts", "enterprise_members", "audit_events", "teams", "team_members"] {
        assert!(gap.tables.iter().any(|t| t == table), "the gap names {table}: {:?}", gap.tables);
    }
    assert_eq!(rows(&x, "enterprise_accounts"), 0);
    // Every team `GET /teams` lists is still there, with all it holds.
    for table in ["teams", "team_members", "team_invitations", "identity_providers"] {
        assert_eq!(x.manifest.tables[table], clean.manifest.tables[table], "{table}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreadable_archive_list_still_reads_every_day_of_the_window() {
    let ea = fixture_list("enterprise-accounts.json")
        .into_iter()
        .find(|e| {
            e["permissions"].as_array().is_some_and(|p| p.iter().any(|p| p == "manage"))
                && !fixture_list(&format!("enterprise-accounts/{}/events.json", text(e, &["name"]).expect("name")))
                    .is_empty()
        })
        .expect("an enterprise account with an audit trail the caller may read");
    let path = format!("/enterprise-accounts/{}/archives", text(&ea, &["id"]).expect("id"));
    let faults = Faults { malformed_200: Some(path.clone()), ..Faults::default() };
    let (x, clean, _stats, _dirs) = acme_with(faults).await;
    assert_eq!(x.manifest.gaps.len(), 1, "{:#?}", x.manifest.gaps);
    assert_eq!(x.manifest.gaps[0].path, path);
    assert_eq!(x.manifest.gaps[0].enterprise_account_name.as_deref(), text(&ea, &["name"]));
    // The events endpoint works, so no event is lost: every day of the window was read.
    for table in ["audit_events", "activity"] {
        assert_eq!(x.manifest.tables[table], clean.manifest.tables[table], "{table}");
    }
    let days = x.manifest.activity_window.until.date_naive() - x.manifest.activity_window.since.date_naive();
    assert!(x.manifest.endpoints["GET /enterprise-accounts/{ea}/events"].requests > days.num_days() as u64);
}
