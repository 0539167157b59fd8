//! `extract` against the sandbox serving the fixture organisation `fixtures/acme`, over real
//! loopback HTTP: the snapshot equals the fixture table by table, is byte-stable, survives every
//! transient fault unchanged, turns every permanent one into a named gap, never leaves a
//! half-written snapshot when killed, never writes a secret, costs exactly the planned requests,
//! and re-extracts almost for free with the ETag cache.
//!
//! Every expectation is computed from the fixture's JSON files, and `as_of` is the fixture's fixed
//! now, so nothing depends on the wall clock.
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use chrono::{DateTime, Datelike, Utc};
use hkaudit::extract::{extract, ExtractOptions, Extracted};
use hkaudit::heroku::{Client, ClientConfig, EtagCache, Token};
use hkaudit::sandbox::{Burst, Faults, Fixture, RateLimitConfig, SandboxConfig, SandboxHandle};
use hkaudit::snapshot::{Manifest, Snapshot, TABLES};
use polars::prelude::*;
use serde_json::Value;

use crate::support;

/// The token `fixtures/acme/sandbox.json` accepts: it must never appear in any output.
pub const ACME_TOKEN: &str = "HRKU-acme-PLANTED-SECRET-0001-do-not-leak";
/// Every secret of the fixture contains this.
pub const SECRET_MARK: &str = "PLANTED-SECRET";
const PERMISSIONS: [&str; 4] = ["view", "deploy", "operate", "manage"];

// ---------------------------------------------------------------------------------------------
// The fixture, read directly from its files.

pub fn acme_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/acme")
}

pub fn fixture_json(rel: &str) -> Value {
    let path = acme_dir().join(rel);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A list file; a missing per-team or per-app file is an empty list, as the sandbox serves it.
pub fn fixture_list(rel: &str) -> Vec<Value> {
    if !acme_dir().join(rel).exists() {
        return Vec::new();
    }
    fixture_json(rel).as_array().unwrap_or_else(|| panic!("{rel} is an array")).clone()
}

pub fn text<'v>(value: &'v Value, path: &[&str]) -> Option<&'v str> {
    path.iter().try_fold(value, |v, key| v.get(key))?.as_str()
}

pub fn time(value: &Value, key: &str) -> Option<DateTime<Utc>> {
    text(value, &[key]).map(|t| t.parse().unwrap_or_else(|e| panic!("{key} = {t}: {e}")))
}

pub fn acme_now() -> DateTime<Utc> {
    time(&fixture_json("sandbox.json"), "now").expect("sandbox.json has now")
}

/// The 180-day activity window ending at the fixture's now.
pub fn window() -> (DateTime<Utc>, DateTime<Utc>) {
    let now = acme_now();
    (now - chrono::Duration::days(180), now)
}

pub fn in_window(at: DateTime<Utc>) -> bool {
    let (since, until) = window();
    at >= since && at <= until
}

pub fn ids(items: &[Value]) -> BTreeSet<String> {
    items.iter().map(|v| text(v, &["id"]).expect("id").to_owned()).collect()
}

pub fn team_names() -> Vec<String> {
    fixture_list("teams.json").iter().map(|t| text(t, &["name"]).expect("team name").to_owned()).collect()
}

pub fn team_id(name: &str) -> String {
    fixture_list("teams.json")
        .iter()
        .find(|t| text(t, &["name"]) == Some(name))
        .and_then(|t| text(t, &["id"]))
        .unwrap_or_else(|| panic!("team {name} in teams.json"))
        .to_owned()
}

pub fn apps() -> Vec<Value> {
    fixture_list("apps.json")
}

pub fn is_personal(app: &Value) -> bool {
    app.get("team").is_none_or(Value::is_null)
}

pub fn app_name(app: &Value) -> &str {
    text(app, &["name"]).expect("app name")
}

/// Apps whose last release or update falls inside the window: the only ones whose releases and
/// builds are read.
pub fn touched_apps() -> Vec<Value> {
    let (since, _) = window();
    apps()
        .into_iter()
        .filter(|a| {
            [time(a, "released_at"), time(a, "updated_at")].into_iter().flatten().max().is_none_or(|t| t >= since)
        })
        .collect()
}

pub fn ea_names() -> Vec<String> {
    fixture_list("enterprise-accounts.json").iter().map(|e| text(e, &["name"]).expect("ea name").to_owned()).collect()
}

pub fn events_in_window() -> Vec<Value> {
    ea_names()
        .iter()
        .flat_map(|ea| fixture_list(&format!("enterprise-accounts/{ea}/events.json")))
        .filter(|e| in_window(time(e, "created_at").expect("event created_at")))
        .collect()
}

pub fn norm(email: &str) -> String {
    email.trim().to_lowercase()
}

// ---------------------------------------------------------------------------------------------
// Running extracts.

pub async fn acme_sandbox(faults: Faults) -> SandboxHandle {
    let mut config = support::config(Fixture::load(&acme_dir()).expect("fixtures/acme loads"));
    config.faults = faults;
    support::serve(config).await
}

pub async fn sandbox_with(configure: impl FnOnce(&mut SandboxConfig)) -> SandboxHandle {
    let mut config = support::config(Fixture::load(&acme_dir()).expect("fixtures/acme loads"));
    configure(&mut config);
    support::serve(config).await
}

/// Short waits so faults cost milliseconds, not the production client's seconds.
pub fn client_config(sandbox: &SandboxHandle) -> ClientConfig {
    let url = url::Url::parse(&sandbox.url()).expect("sandbox URL");
    let mut cfg = ClientConfig::new(url, Token::new(ACME_TOKEN));
    cfg.timeout = Duration::from_secs(2);
    cfg.connect_timeout = Duration::from_secs(2);
    cfg.backoff_min = Duration::from_millis(5);
    cfg.backoff_max = Duration::from_millis(50);
    cfg.max_retries = 8;
    cfg.rate_limit_wait = Duration::from_millis(50);
    cfg.max_rate_limit_retries = 10;
    cfg
}

pub async fn run_extract(cfg: ClientConfig, out: &Path) -> Extracted {
    let client = Client::new(cfg).expect("client");
    let mut opts = ExtractOptions::new(out);
    opts.as_of = Some(acme_now());
    opts.snapshot_id = Some("acme".into());
    extract(&client, &opts).await.expect("extract runs to the end")
}

/// A clean extract of acme from its own well-behaved sandbox, no cache.
pub async fn clean_run(out: &Path) -> Extracted {
    let sandbox = acme_sandbox(Faults::default()).await;
    let extracted = run_extract(client_config(&sandbox), out).await;
    assert!(extracted.manifest.complete, "a clean run is complete: {:?}", extracted.manifest.gaps);
    extracted
}

pub fn table_bytes(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    TABLES
        .iter()
        .map(|t| {
            let path = dir.join(format!("{t}.parquet"));
            ((*t).to_owned(), std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        })
        .collect()
}

pub fn assert_same_tables(actual: &Extracted, expected: &Extracted, what: &str) {
    let (a, e) = (table_bytes(&actual.path), table_bytes(&expected.path));
    for table in TABLES {
        assert!(a[*table] == e[*table], "{what}: table {table} differs from the clean run's bytes");
    }
    assert_eq!(actual.manifest.tables, expected.manifest.tables, "{what}: manifest tables (rows, sha256)");
}

pub fn read(extracted: &Extracted, table: &str) -> DataFrame {
    Snapshot::open(&extracted.path).expect("snapshot opens").read(table).expect("table reads")
}

pub fn rows(extracted: &Extracted, table: &str) -> u64 {
    extracted.manifest.tables[table].rows
}

/// A column as text, whatever its type: lists joined with `|`, timestamps as epoch millis.
pub fn column_text(df: &DataFrame, name: &str) -> Vec<Option<String>> {
    let series = df.column(name).unwrap_or_else(|e| panic!("column {name}: {e}")).as_materialized_series().clone();
    match series.dtype() {
        DataType::List(_) => {
            let list = series.list().expect("list column");
            (0..list.len())
                .map(|i| {
                    list.get_as_series(i).map(|s| {
                        s.str()
                            .expect("list of strings")
                            .iter()
                            .map(|v| v.unwrap_or("<null>").to_owned())
                            .collect::<Vec<_>>()
                            .join("|")
                    })
                })
                .collect()
        }
        DataType::Datetime(_, _) => {
            let naive = series.cast(&DataType::Datetime(TimeUnit::Milliseconds, None)).expect("naive");
            let ms = naive.cast(&DataType::Int64).expect("millis");
            ms.i64().expect("i64").iter().map(|v| v.map(|v| v.to_string())).collect()
        }
        _ => {
            let s = series.cast(&DataType::String).expect("as string");
            s.str().expect("str").iter().map(|v| v.map(str::to_owned)).collect()
        }
    }
}

pub fn strings(df: &DataFrame, name: &str) -> Vec<String> {
    column_text(df, name).into_iter().map(|v| v.unwrap_or_else(|| panic!("{name} has a null"))).collect()
}

/// Every row of a table as one line of text (columns in order), for comparing row sets.
pub fn row_texts(df: &DataFrame) -> Vec<String> {
    let columns: Vec<Vec<Option<String>>> = df.get_column_names().iter().map(|c| column_text(df, c.as_str())).collect();
    (0..df.height())
        .map(|i| {
            columns.iter().map(|c| c[i].clone().unwrap_or_else(|| "<null>".into())).collect::<Vec<_>>().join(" ; ")
        })
        .collect()
}

pub fn list_of(df: &DataFrame, column: &str, row: usize) -> Vec<String> {
    column_text(df, column)[row]
        .clone()
        .map(|s| if s.is_empty() { Vec::new() } else { s.split('|').map(str::to_owned).collect() })
        .unwrap_or_default()
}

pub fn total<F: Fn(&hkaudit::heroku::EndpointStats) -> u64>(m: &Manifest, f: F) -> u64 {
    m.endpoints.values().map(f).sum()
}

// ---------------------------------------------------------------------------------------------
// 1. The snapshot equals the fixture organisation.

#[tokio::test(flavor = "multi_thread")]
async fn every_table_matches_the_fixture_organisation_row_for_row() {
    let out = tempfile::tempdir().expect("tempdir");
    let x = clean_run(out.path()).await;

    // account: the token's owner, one row.
    let token_owner = text(&fixture_json("sandbox.json")["tokens"][0], &["account"]).expect("token account").to_owned();
    assert_eq!(strings(&read(&x, "account"), "email"), vec![token_owner.clone()]);
    assert_eq!(x.manifest.account_email.as_deref(), Some(token_owner.as_str()));

    // enterprise accounts and their members.
    let eas = read(&x, "enterprise_accounts");
    assert_eq!(
        strings(&eas, "id").into_iter().collect::<BTreeSet<_>>(),
        ids(&fixture_list("enterprise-accounts.json"))
    );
    let ea_members: Vec<Value> =
        ea_names().iter().flat_map(|ea| fixture_list(&format!("enterprise-accounts/{ea}/members.json"))).collect();
    let em = read(&x, "enterprise_members");
    assert_eq!(em.height(), ea_members.len(), "enterprise_members rows");
    assert_eq!(strings(&em, "member_id").into_iter().collect::<BTreeSet<_>>(), ids(&ea_members));

    // teams, members, invitations, identity providers.
    let teams = read(&x, "teams");
    assert_eq!(strings(&teams, "id").into_iter().collect::<BTreeSet<_>>(), ids(&fixture_list("teams.json")));
    let mut expected_members = BTreeSet::new();
    let mut expected_invitations = BTreeSet::new();
    let mut expected_idps = BTreeSet::new();
    for team in team_names() {
        for m in fixture_list(&format!("teams/{team}/members.json")) {
            expected_members.insert(format!("{team} {}", text(&m, &["id"]).expect("member id")));
        }
        expected_invitations.extend(ids(&fixture_list(&format!("teams/{team}/invitations.json"))));
        expected_idps.extend(ids(&fixture_list(&format!("teams/{team}/identity-providers.json"))));
    }
    let tm = read(&x, "team_members");
    let got_members: Vec<String> =
        strings(&tm, "team_name").iter().zip(strings(&tm, "member_id")).map(|(t, m)| format!("{t} {m}")).collect();
    assert_eq!(got_members.len(), expected_members.len(), "team_members rows = sum of the members files");
    assert_eq!(got_members.into_iter().collect::<BTreeSet<_>>(), expected_members);
    assert_eq!(strings(&read(&x, "team_invitations"), "id").into_iter().collect::<BTreeSet<_>>(), expected_invitations);
    assert_eq!(rows(&x, "team_invitations") as usize, expected_invitations.len());
    assert_eq!(strings(&read(&x, "identity_providers"), "id").into_iter().collect::<BTreeSet<_>>(), expected_idps);
    assert_eq!(rows(&x, "identity_providers") as usize, expected_idps.len());

    // apps: team and personal; team_id null exactly for personal apps.
    let app_table = read(&x, "apps");
    assert_eq!(app_table.height(), apps().len());
    assert_eq!(strings(&app_table, "id").into_iter().collect::<BTreeSet<_>>(), ids(&apps()));
    let names = strings(&app_table, "name");
    let team_ids = column_text(&app_table, "team_id");
    let personal = strings(&app_table, "personal");
    let scanned = strings(&app_table, "activity_scanned");
    let touched: BTreeSet<String> = touched_apps().iter().map(|a| app_name(a).to_owned()).collect();
    for app in apps() {
        let i = names.iter().position(|n| n == app_name(&app)).expect("app row");
        assert_eq!(team_ids[i].as_deref(), text(&app, &["team", "id"]), "{} team_id", app_name(&app));
        assert_eq!(personal[i], is_personal(&app).to_string(), "{} personal", app_name(&app));
        assert_eq!(scanned[i], touched.contains(app_name(&app)).to_string(), "{} activity_scanned", app_name(&app));
    }

    // audit events inside the window; activity = releases and builds inside the window of the
    // touched apps, plus audit events with an actor.
    let events = events_in_window();
    assert_eq!(strings(&read(&x, "audit_events"), "id").into_iter().collect::<BTreeSet<_>>(), ids(&events));
    assert_eq!(rows(&x, "audit_events") as usize, events.len());
    let mut expected_activity: Vec<String> = Vec::new();
    for app in touched_apps() {
        for (kind, file) in [("release", "releases"), ("build", "builds")] {
            for item in fixture_list(&format!("apps/{}/{file}.json", app_name(&app))) {
                if in_window(time(&item, "created_at").expect("created_at")) {
                    expected_activity.push(format!("{kind} {}", text(&item, &["id"]).expect("id")));
                }
            }
        }
    }
    for e in events.iter().filter(|e| e.get("actor").is_some_and(|a| !a.is_null())) {
        expected_activity.push(format!("audit {}", text(e, &["id"]).expect("id")));
    }
    expected_activity.sort();
    let activity = read(&x, "activity");
    let mut got_activity: Vec<String> =
        strings(&activity, "kind").iter().zip(strings(&activity, "id")).map(|(k, i)| format!("{k} {i}")).collect();
    got_activity.sort();
    assert_eq!(got_activity, expected_activity, "activity rows");

    // authorizations: the caller's own, from the API, without a secret.
    let auths = read(&x, "authorizations");
    let expected_auths: Vec<Value> = fixture_list("oauth-authorizations.json")
        .into_iter()
        .filter(|a| text(a, &["user", "email"]) == Some(token_owner.as_str()))
        .collect();
    assert_eq!(auths.height(), 2);
    assert_eq!(strings(&auths, "id").into_iter().collect::<BTreeSet<_>>(), ids(&expected_auths));
    assert!(strings(&auths, "source").iter().all(|s| s == "api"));
    for table in TABLES {
        for row in row_texts(&read(&x, table)) {
            assert!(!row.contains(SECRET_MARK), "{table} holds a secret: {row}");
        }
    }
    assert_eq!(x.manifest.tables.keys().map(String::as_str).collect::<BTreeSet<_>>(), TABLES.iter().copied().collect());
}

/// One row per user × app holding a direct grant, derived from the fixture the way
/// `docs/snapshot.md` defines it; access a team role implies is not repeated per app.
#[tokio::test(flavor = "multi_thread")]
async fn app_permissions_are_the_direct_grants_collaborators_and_owners() {
    let out = tempfile::tempdir().expect("tempdir");
    let x = clean_run(out.path()).await;

    type Grant = (BTreeSet<String>, BTreeSet<String>);
    let mut expected: BTreeMap<(String, String), Grant> = BTreeMap::new();
    let mut add = |app: &str, email: &str, perms: Vec<String>, source: String| {
        let g = expected.entry((app.to_owned(), norm(email))).or_default();
        g.0.extend(perms);
        g.1.insert(source);
    };
    let all: Vec<String> = PERMISSIONS.iter().map(|p| (*p).to_owned()).collect();
    let names_of = |c: &Value| -> Vec<String> {
        c.get("permissions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|p| text(p, &["name"]).map(str::to_owned))
            .collect()
    };
    for app in apps() {
        let source = if is_personal(&app) { "personal-collaborator" } else { "explicit" };
        for c in fixture_list(&format!("apps/{}/collaborators.json", app_name(&app))) {
            // A personal app has no permission model: a collaborator listed without permissions
            // can do all but delete or transfer it (docs/snapshot.md).
            let perms = match names_of(&c) {
                p if p.is_empty() && is_personal(&app) => ["view", "deploy", "operate"].map(str::to_owned).to_vec(),
                p => p,
            };
            add(app_name(&app), text(&c, &["user", "email"]).expect("email"), perms, source.to_owned());
        }
        if is_personal(&app) {
            add(app_name(&app), text(&app, &["owner", "email"]).expect("owner"), all.clone(), "owner".to_owned());
        }
    }

    let table = read(&x, "app_permissions");
    let apps_col = strings(&table, "app_name");
    let emails = strings(&table, "email_norm");
    let mut got: BTreeMap<(String, String), Grant> = BTreeMap::new();
    for i in 0..table.height() {
        let perms = list_of(&table, "permissions", i);
        let mut ordered: Vec<String> = perms.clone();
        ordered.sort_by_key(|p| PERMISSIONS.iter().position(|k| k == p));
        assert_eq!(perms, ordered, "permissions are listed in Heroku's order");
        let key = (apps_col[i].clone(), emails[i].clone());
        assert!(
            got.insert(key.clone(), (perms.into_iter().collect(), list_of(&table, "sources", i).into_iter().collect()))
                .is_none(),
            "one row per user × app: {key:?}"
        );
    }
    assert_eq!(got, expected);

    // The planted rows, spelled out.
    let row = |app: &str, email: &str| -> usize {
        (0..table.height())
            .find(|i| apps_col[*i] == app && emails[*i] == email)
            .unwrap_or_else(|| panic!("no row {app} × {email}"))
    };
    let quinn = row("acme-billing", "quinn.payments@acme.example");
    assert_eq!(list_of(&table, "permissions", quinn), all);
    assert!(list_of(&table, "sources", quinn).contains(&"explicit".to_owned()));
    let abby: Vec<usize> = (0..table.height()).filter(|i| emails[*i] == "abby.absent@acme.example").collect();
    assert_eq!(abby.len(), 1, "abby (team role collaborator) reaches only the app granted to her");
    assert_eq!(apps_col[abby[0]], "acme-storefront");
    assert_eq!(list_of(&table, "permissions", abby[0]), vec!["view", "deploy"]);
    assert!(
        !emails.iter().any(|e| e == "vera.viewer@acme.example"),
        "a viewer's implied view access is not repeated per app"
    );
    assert!(list_of(&table, "sources", quinn).iter().all(|s| !s.starts_with("team-role")));
    let paul = row("olga-scratch", "paul.pcollab@acme.example");
    assert_eq!(list_of(&table, "sources", paul), vec!["personal-collaborator"]);
    assert_eq!(list_of(&table, "permissions", paul), vec!["view", "deploy", "operate"]);
    let olga = row("olga-scratch", "olga.ops@acme.example");
    assert_eq!(
        (list_of(&table, "permissions", olga), list_of(&table, "sources", olga)),
        (all.clone(), vec!["owner".to_owned()])
    );
    let team_col = column_text(&table, "team_id");
    assert_eq!(team_col[paul], None, "personal apps have no team");
}

#[tokio::test(flavor = "multi_thread")]
async fn columns_have_the_documented_types_and_emails_are_normalised() {
    let out = tempfile::tempdir().expect("tempdir");
    let x = clean_run(out.path()).await;
    let utc_ms = DataType::Datetime(TimeUnit::Milliseconds, Some(TimeZone::UTC));
    let list = DataType::List(Box::new(DataType::String));
    let lists = [
        ("enterprise_accounts", "caller_permissions"),
        ("enterprise_members", "permissions"),
        ("app_permissions", "permissions"),
        ("app_permissions", "sources"),
        ("authorizations", "scopes"),
    ];
    let mut timestamps = 0;
    for table in TABLES {
        let df = read(&x, table);
        assert_eq!(
            x.manifest.tables[*table].columns,
            df.get_column_names().iter().map(|c| c.to_string()).collect::<Vec<_>>()
        );
        for column in df.columns() {
            let name = column.name().as_str();
            if name.ends_with("_at") || name == "at" || name == "last_login" {
                timestamps += 1;
                assert_eq!(column.dtype(), &utc_ms, "{table}.{name} is datetime[ms, UTC]");
            }
            if lists.contains(&(*table, name)) {
                assert_eq!(column.dtype(), &list, "{table}.{name} is a list of strings");
            }
            // Every email column `x` has a sibling `x_norm`, trimmed and lower-cased.
            if let Some(original) = name.strip_suffix("_norm") {
                let originals = column_text(&df, original);
                let normed = column_text(&df, name);
                for (o, n) in originals.iter().zip(&normed) {
                    assert_eq!(n, &o.as_deref().map(norm), "{table}.{name}");
                }
            }
        }
    }
    assert!(timestamps >= 20, "timestamp columns were checked");
    let tm = read(&x, "team_members");
    let i =
        strings(&tm, "email").iter().position(|e| e == "Sam.Suspended@acme.example").expect("Sam as Heroku writes him");
    assert_eq!(strings(&tm, "email_norm")[i], "sam.suspended@acme.example");
}

// ---------------------------------------------------------------------------------------------
// 2. Byte-stable.

#[tokio::test(flavor = "multi_thread")]
async fn two_extracts_with_the_same_as_of_are_byte_identical() {
    let (a, b) = (tempfile::tempdir().expect("tempdir"), tempfile::tempdir().expect("tempdir"));
    // One sandbox for both, so even `api_url` is the same.
    let sandbox = acme_sandbox(Faults::default()).await;
    let first = run_extract(client_config(&sandbox), a.path()).await;
    let second = run_extract(client_config(&sandbox), b.path()).await;
    assert!(first.manifest.complete);
    assert_same_tables(&second, &first, "second extract");
    for table in TABLES {
        let digest = sha256_hex(&table_bytes(&second.path)[*table]);
        assert_eq!(digest, first.manifest.tables[*table].sha256, "{table}: manifest sha256 is the file's");
    }
    // Manifests agree on everything but the id, the wall-clock time of the run and how low the
    // pool fell (both runs spend the one sandbox account's pool, the second from where the
    // first left it).
    let mut m2 = second.manifest.clone();
    m2.snapshot_id = first.manifest.snapshot_id.clone();
    m2.taken_at = first.manifest.taken_at;
    let (b1, b2) = (first.manifest.rate_limit.as_ref().expect("budget"), m2.rate_limit.as_mut().expect("budget"));
    assert!(b2.lowest_remaining < b1.lowest_remaining, "{b2:?} after {b1:?}");
    b2.lowest_remaining = b1.lowest_remaining;
    assert_eq!(m2, first.manifest);
    assert_ne!(second.path, first.path);
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

// ---------------------------------------------------------------------------------------------
// 3. Faults: transient ones change nothing; permanent ones become gaps.

/// Extract acme through `faults` with `cfg` adjusted, and check the result equals a clean run.
async fn survives_transient(
    faults: Faults,
    adjust: impl FnOnce(&mut ClientConfig),
) -> (Extracted, hkaudit::sandbox::Stats) {
    let (clean_out, out) = (tempfile::tempdir().expect("tempdir"), tempfile::tempdir().expect("tempdir"));
    let clean = clean_run(clean_out.path()).await;
    let sandbox = acme_sandbox(faults).await;
    let mut cfg = client_config(&sandbox);
    adjust(&mut cfg);
    let x = run_extract(cfg, out.path()).await;
    assert!(x.manifest.complete, "transient faults leave no gap: {:#?}", x.manifest.gaps);
    assert!(x.manifest.gaps.is_empty());
    assert_same_tables(&x, &clean, "run with transient faults");
    let stats = sandbox.stats();
    drop(out);
    (x, stats)
}

#[tokio::test(flavor = "multi_thread")]
async fn server_errors_are_retried_until_the_tables_equal_a_clean_run() {
    let (x, stats) = survives_transient(Faults { error_rate: 0.25, ..Faults::default() }, |_| {}).await;
    assert!(stats.total.faults.error > 0, "the sandbox did answer 5xx");
    assert_eq!(total(&x.manifest, |e| e.retries), stats.total.faults.error, "one retry per 5xx");
}

#[tokio::test(flavor = "multi_thread")]
async fn reset_connections_are_retried_until_the_tables_equal_a_clean_run() {
    let (x, stats) = survives_transient(Faults { reset_rate: 0.2, ..Faults::default() }, |_| {}).await;
    assert!(stats.total.faults.reset > 0, "the sandbox did reset connections");
    assert_eq!(total(&x.manifest, |e| e.retries), stats.total.faults.reset, "one retry per reset");
}

#[tokio::test(flavor = "multi_thread")]
async fn truncated_bodies_are_retried_until_the_tables_equal_a_clean_run() {
    let (x, stats) = survives_transient(Faults { truncate_rate: 0.25, ..Faults::default() }, |_| {}).await;
    assert!(stats.total.faults.truncate > 0, "the sandbox did cut bodies");
    assert!(
        stats.endpoint("GET /__sandbox/archives/{ea}/{file}").faults.truncate > 0,
        "an archive download was cut too"
    );
    assert_eq!(total(&x.manifest, |e| e.retries), stats.total.faults.truncate, "one retry per cut body");
}

#[tokio::test(flavor = "multi_thread")]
async fn bursts_of_429_are_waited_out_and_counted() {
    let burst = Faults { burst_429: Some(Burst { every: 15, len: 3 }), ..Faults::default() };
    let (x, stats) = survives_transient(burst, |_| {}).await;
    let limited = stats.total.status.rate_limited;
    assert!(limited > 0, "the sandbox did answer 429");
    assert_eq!(total(&x.manifest, |e| e.rate_limited), limited, "every 429 is counted");
    assert_eq!(total(&x.manifest, |e| e.retries), limited, "every 429 is retried once it is waited out");
}

#[tokio::test(flavor = "multi_thread")]
async fn stalled_requests_time_out_and_are_retried() {
    let stall = Faults { stall_rate: 0.05, ..Faults::default() };
    let (x, stats) = survives_transient(stall, |cfg| cfg.timeout = Duration::from_millis(1000)).await;
    assert!(stats.total.faults.stall > 0, "the sandbox did stall requests");
    // A stalled request can only end by the client's timeout, and each one is retried (a slow
    // machine could add a timeout of its own, never remove one).
    assert!(total(&x.manifest, |e| e.retries) >= stats.total.faults.stall);
}

#[tokio::test(flavor = "multi_thread")]
async fn latency_changes_nothing() {
    let (x, stats) =
        survives_transient(Faults { latency: Duration::from_millis(15), ..Faults::default() }, |_| {}).await;
    assert!(stats.total.faults.latency > 0);
    assert_eq!(total(&x.manifest, |e| e.retries), 0);
}

/// "Never fewer rows silently": every table with fewer rows than the clean run is named in a gap.
pub fn assert_every_shortfall_is_a_gap(x: &Extracted, clean: &Extracted) {
    let named: BTreeSet<&str> = x.manifest.gaps.iter().flat_map(|g| g.tables.iter().map(String::as_str)).collect();
    for table in TABLES {
        if rows(x, table) < rows(clean, table) {
            assert!(
                named.contains(table),
                "{table} lost rows ({} < {}) without a gap naming it",
                rows(x, table),
                rows(clean, table)
            );
        }
    }
    assert!(!x.manifest.complete);
}

/// Rows of `table` whose `column` is not `except` (or is null), as text.
pub fn rows_outside(x: &Extracted, table: &str, column: &str, except: &str) -> Vec<String> {
    let df = read(x, table);
    let keys = column_text(&df, column);
    row_texts(&df).into_iter().zip(keys).filter(|(_, k)| k.as_deref() != Some(except)).map(|(r, _)| r).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_forbidden_team_becomes_a_gap_not_an_empty_team() {
    let forbidden = "acme-payments";
    let forbidden_id = team_id(forbidden);
    let (clean_out, out) = (tempfile::tempdir().expect("tempdir"), tempfile::tempdir().expect("tempdir"));
    let clean = clean_run(clean_out.path()).await;
    let sandbox = acme_sandbox(Faults { forbid_team: vec![forbidden.into()], ..Faults::default() }).await;
    let x = run_extract(client_config(&sandbox), out.path()).await;

    assert!(!x.manifest.complete);
    let gaps = &x.manifest.gaps;
    assert!(!gaps.is_empty());
    for gap in gaps {
        assert_eq!((gap.status, gap.error_id.as_deref()), (Some(403), Some("forbidden")), "{gap:?}");
        assert_eq!(
            (gap.team_id.as_deref(), gap.team_name.as_deref()),
            (Some(forbidden_id.as_str()), Some(forbidden)),
            "{gap:?}"
        );
        assert!(!gap.tables.is_empty());
    }
    let endpoints: BTreeSet<&str> = gaps.iter().map(|g| g.endpoint.as_str()).collect();
    let expected: BTreeSet<&str> = ["members", "invitations", "identity-providers", "apps", "permissions"]
        .iter()
        .map(|r| match *r {
            "members" => "GET /teams/{team}/members",
            "invitations" => "GET /teams/{team}/invitations",
            "identity-providers" => "GET /teams/{team}/identity-providers",
            "apps" => "GET /teams/{team}/apps",
            _ => "GET /teams/{team}/permissions",
        })
        .collect();
    assert_eq!(endpoints, expected, "one gap per forbidden team read");
    // Each gap names the tables it leaves short.
    for (endpoint, tables) in [
        ("GET /teams/{team}/members", &["team_members", "app_permissions"][..]),
        ("GET /teams/{team}/invitations", &["team_invitations"]),
        ("GET /teams/{team}/identity-providers", &["identity_providers"]),
        ("GET /teams/{team}/apps", &["apps", "app_permissions", "activity"]),
        ("GET /teams/{team}/permissions", &["app_permissions"]),
    ] {
        let gap = gaps.iter().find(|g| g.endpoint == endpoint).expect("gap");
        assert_eq!(gap.tables, tables.iter().map(|t| (*t).to_owned()).collect::<Vec<_>>(), "{endpoint}");
    }

    // The team is still listed: a gap, not an empty team.
    assert!(strings(&read(&x, "teams"), "name").contains(&forbidden.to_owned()));
    assert!(!strings(&read(&x, "team_members"), "team_name").contains(&forbidden.to_owned()));
    assert_every_shortfall_is_a_gap(&x, &clean);
    assert!(rows(&x, "team_members") < rows(&clean, "team_members"));

    // Every other team's rows are exactly the clean run's.
    for (table, column) in [
        ("team_members", "team_id"),
        ("team_invitations", "team_id"),
        ("identity_providers", "team_id"),
        ("app_permissions", "team_id"),
        ("apps", "team_id"),
        ("activity", "team_id"),
    ] {
        assert_eq!(
            rows_outside(&x, table, column, &forbidden_id),
            rows_outside(&clean, table, column, &forbidden_id),
            "{table} outside {forbidden}"
        );
    }
    for table in ["account", "enterprise_accounts", "enterprise_members", "teams", "audit_events", "authorizations"] {
        assert_eq!(x.manifest.tables[table], clean.manifest.tables[table], "{table} does not depend on the team");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deleted_app_becomes_a_not_found_gap_for_that_app() {
    let deleted = "acme-billing";
    let app = apps().into_iter().find(|a| app_name(a) == deleted).expect("app");
    let app_id = text(&app, &["id"]).expect("id").to_owned();
    let (clean_out, out) = (tempfile::tempdir().expect("tempdir"), tempfile::tempdir().expect("tempdir"));
    let clean = clean_run(clean_out.path()).await;
    let sandbox = acme_sandbox(Faults { delete_app: Some(deleted.into()), ..Faults::default() }).await;
    let x = run_extract(client_config(&sandbox), out.path()).await;

    let gaps = &x.manifest.gaps;
    let endpoints: BTreeSet<&str> = gaps.iter().map(|g| g.endpoint.as_str()).collect();
    assert_eq!(endpoints, ["GET /apps/{app}/builds", "GET /apps/{app}/releases"].into_iter().collect());
    for gap in gaps {
        assert_eq!((gap.status, gap.error_id.as_deref()), (Some(404), Some("not_found")), "{gap:?}");
        assert_eq!((gap.app_id.as_deref(), gap.app_name.as_deref()), (Some(app_id.as_str()), Some(deleted)));
        assert_eq!(gap.tables, vec!["activity".to_owned()]);
    }
    assert_every_shortfall_is_a_gap(&x, &clean);
    // Its releases and builds are missing; audit-trail events about it come from the audit trail.
    let activity_of = |e: &Extracted, kinds: &[&str]| {
        let df = read(e, "activity");
        column_text(&df, "app_name")
            .iter()
            .zip(strings(&df, "kind"))
            .filter(|(n, k)| n.as_deref() == Some(deleted) && kinds.contains(&k.as_str()))
            .count()
    };
    assert!(activity_of(&clean, &["release", "build"]) > 0, "the clean run has releases and builds of {deleted}");
    assert_eq!(activity_of(&x, &["release", "build"]), 0);
    assert_eq!(activity_of(&x, &["audit"]), activity_of(&clean, &["audit"]));
    assert_eq!(rows_outside(&x, "activity", "app_id", &app_id), rows_outside(&clean, "activity", "app_id", &app_id));
    // The app itself is still listed, marked as not scanned.
    let apps_table = read(&x, "apps");
    let i = strings(&apps_table, "name").iter().position(|n| n == deleted).expect("still listed");
    assert_eq!(strings(&apps_table, "activity_scanned")[i], "false");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pagination_loop_becomes_a_gap_instead_of_looping() {
    let team = "acme-platform";
    let path = format!("/teams/{}/members", team_id(team));
    let (clean_out, out) = (tempfile::tempdir().expect("tempdir"), tempfile::tempdir().expect("tempdir"));
    let clean = clean_run(clean_out.path()).await;
    let sandbox = acme_sandbox(Faults { pagination_loop: Some(path.clone()), ..Faults::default() }).await;
    let x = run_extract(client_config(&sandbox), out.path()).await;

    assert_eq!(x.manifest.gaps.len(), 1, "{:#?}", x.manifest.gaps);
    let gap = &x.manifest.gaps[0];
    assert_eq!((gap.endpoint.as_str(), gap.path.as_str()), ("GET /teams/{team}/members", path.as_str()));
    assert_eq!(gap.error_id.as_deref(), Some("pagination_loop"));
    assert_eq!(gap.team_name.as_deref(), Some(team));
    assert_every_shortfall_is_a_gap(&x, &clean);
    // The loop was noticed at once, not after pages of the same items.
    let stats = sandbox.stats().endpoint("GET /teams/{team}/members");
    assert!(stats.faults.pagination_loop <= 2, "{stats:?}");
    assert_eq!(stats.requests, team_names().len() as u64 - 1 + stats.faults.pagination_loop);
}

// ---------------------------------------------------------------------------------------------
// 6. Request counts: exactly the plan.

/// The requests the crawl plan makes for acme, per endpoint template as the client names them.
pub fn planned_requests() -> BTreeMap<String, u64> {
    let mut plan: BTreeMap<String, u64> = BTreeMap::new();
    let mut add = |k: &str, n: u64| *plan.entry(k.to_owned()).or_default() += n;
    let (since, until) = window();
    add("GET /account", 1);
    add("GET /account/rate-limits", 1);
    add("GET /enterprise-accounts", 1);
    for ea in ea_names() {
        add("GET /enterprise-accounts/{ea}/members", 1);
        add("GET /enterprise-accounts/{ea}/teams", 1);
        add("GET /enterprise-accounts/{ea}/archives", 1);
        // The sandbox archives every month from the earliest event's to now's; the current one
        // covers events up to midnight of today, so only today is read day by day.
        let events = fixture_list(&format!("enterprise-accounts/{ea}/events.json"));
        let earliest = events.iter().filter_map(|e| time(e, "created_at")).min().expect("events");
        let mut month = (earliest.year(), earliest.month());
        let mut downloads = 0;
        while month <= (until.year(), until.month()) {
            let start = chrono::NaiveDate::from_ymd_opt(month.0, month.1, 1)
                .expect("date")
                .and_hms_opt(0, 0, 0)
                .expect("time")
                .and_utc();
            let next = if month.1 == 12 { (month.0 + 1, 1) } else { (month.0, month.1 + 1) };
            let end = chrono::NaiveDate::from_ymd_opt(next.0, next.1, 1)
                .expect("date")
                .and_hms_opt(0, 0, 0)
                .expect("time")
                .and_utc();
            if start <= until && end > since {
                downloads += 1;
            }
            month = next;
        }
        add("GET archive download", downloads);
        // The newest archive is now's month's, which covers up to midnight of now's day: the
        // days from there to now are read one call each.
        let covered_until = until.date_naive().and_hms_opt(0, 0, 0).expect("midnight").and_utc();
        add(
            "GET /enterprise-accounts/{ea}/events",
            (until.date_naive() - covered_until.date_naive()).num_days() as u64 + 1,
        );
    }
    add("GET /teams", 1);
    let teams = team_names().len() as u64;
    for r in ["members", "invitations", "identity-providers", "apps", "permissions"] {
        add(&format!("GET /teams/{{team}}/{r}"), teams);
    }
    add("GET /apps", 1);
    add("GET /apps/{app}/collaborators", apps().iter().filter(|a| is_personal(a)).count() as u64);
    let touched = touched_apps().len() as u64;
    add("GET /apps/{app}/releases", touched);
    add("GET /apps/{app}/builds", touched);
    add("GET /oauth/authorizations", 1);
    plan
}

#[tokio::test(flavor = "multi_thread")]
async fn the_crawl_makes_exactly_the_planned_requests() {
    let out = tempfile::tempdir().expect("tempdir");
    let sandbox = acme_sandbox(Faults::default()).await;
    let x = run_extract(client_config(&sandbox), out.path()).await;
    let plan = planned_requests();
    let planned_total: u64 = plan.values().sum();

    let from_manifest: BTreeMap<String, u64> =
        x.manifest.endpoints.iter().map(|(k, v)| (k.clone(), v.requests)).collect();
    assert_eq!(from_manifest, plan, "manifest endpoints");
    let stats = sandbox.stats();
    let from_sandbox: BTreeMap<String, u64> = stats
        .endpoints
        .iter()
        .map(|(k, v)| {
            (
                if k == "GET /__sandbox/archives/{ea}/{file}" { "GET archive download".to_owned() } else { k.clone() },
                v.requests,
            )
        })
        .collect();
    assert_eq!(from_sandbox, plan, "what the sandbox saw");
    assert_eq!(stats.total.requests, planned_total);
    // Team apps' collaborators come from one permissions call per team, never per app.
    assert_eq!(stats.endpoint("GET /teams/apps/{app}/collaborators").requests, 0);
    assert_eq!(
        stats.endpoint("GET /apps/{app}/collaborators").requests,
        apps().iter().filter(|a| is_personal(a)).count() as u64
    );
}

// ---------------------------------------------------------------------------------------------
// 7. ETag cache.

pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())).flatten() {
            let kind = entry.file_type().expect("file type");
            if kind.is_dir() {
                stack.push(entry.path());
            } else if kind.is_file() {
                out.push(entry.path());
            }
        }
    }
    out
}

pub fn assert_no_secret_in_files(dir: &Path) {
    let files = files_under(dir);
    assert!(!files.is_empty(), "{} holds files", dir.display());
    for file in files {
        let bytes = std::fs::read(&file).expect("read");
        assert!(
            !bytes.windows(SECRET_MARK.len()).any(|w| w == SECRET_MARK.as_bytes()),
            "{} holds a secret",
            file.display()
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_extract_with_the_cache_transfers_almost_nothing_and_writes_the_same_tables() {
    let (cache, a, b) = (
        tempfile::tempdir().expect("tempdir"),
        tempfile::tempdir().expect("tempdir"),
        tempfile::tempdir().expect("tempdir"),
    );
    let sandbox = acme_sandbox(Faults::default()).await;
    let cached = |s: &SandboxHandle| {
        let mut cfg = client_config(s);
        cfg.cache = Some(EtagCache::open(cache.path()).expect("cache"));
        cfg
    };
    let first = run_extract(cached(&sandbox), a.path()).await;
    let cached_pages = files_under(cache.path()).len() as u64;
    assert!(cached_pages > 0);
    let second = run_extract(cached(&sandbox), b.path()).await;

    let m1 = &first.manifest;
    let m2 = &second.manifest;
    assert_eq!(total(m2, |e| e.requests), total(m1, |e| e.requests), "the same requests, answered 304");
    assert_eq!(total(m1, |e| e.not_modified), 0);
    assert_eq!(total(m2, |e| e.not_modified), cached_pages, "every cached page came back 304");
    assert_eq!(sandbox.stats().total.status.not_modified, cached_pages);
    let (bytes1, bytes2) = (total(m1, |e| e.bytes), total(m2, |e| e.bytes));
    assert!(bytes2 * 10 < bytes1, "second run received {bytes2} bytes, first {bytes1}");
    assert_eq!(m2.endpoints["GET /oauth/authorizations"].not_modified, 0, "authorizations are never cached");
    assert_same_tables(&second, &first, "cached re-extract");
    assert_no_secret_in_files(cache.path());
}

// ---------------------------------------------------------------------------------------------
// 8. Rate limit.

#[tokio::test(flavor = "multi_thread")]
async fn a_small_rate_limit_pool_slows_the_run_down_instead_of_failing_it() {
    let (clean_out, out) = (tempfile::tempdir().expect("tempdir"), tempfile::tempdir().expect("tempdir"));
    let clean = clean_run(clean_out.path()).await;
    // 20 calls in the pool, refilled at 20 a second: the 88 requests of the plan cannot all fit.
    let sandbox = sandbox_with(|c| c.rate_limit = RateLimitConfig { capacity: 20, refill_per_minute: 1200.0 }).await;
    let mut cfg = client_config(&sandbox);
    cfg.slow_down_below = 5;
    // The client believes the pool refills faster than it does, so it does meet 429s.
    cfg.refill_per_minute = 6000.0;
    let x = run_extract(cfg, out.path()).await;
    assert!(x.manifest.complete, "{:#?}", x.manifest.gaps);
    assert_same_tables(&x, &clean, "rate-limited run");
    let limited = sandbox.stats().total.status.rate_limited;
    assert!(limited > 0, "the pool ran dry at least once");
    assert_eq!(total(&x.manifest, |e| e.rate_limited), limited, "the manifest counts every 429");
}

/// Requests the sandbox answered that spend the pool (`/account/rate-limits` and the
/// pre-signed archive downloads are free).
fn spending_requests(sandbox: &SandboxHandle) -> u64 {
    let stats = sandbox.stats();
    let free = ["GET /account/rate-limits", "GET /__sandbox/archives/{ea}/{file}"];
    stats.total.requests - free.iter().map(|t| stats.endpoint(t).requests).sum::<u64>()
}

#[tokio::test(flavor = "multi_thread")]
async fn at_the_reserve_the_run_waits_for_the_pool_to_refill_and_never_spends_the_owners_share() {
    let (clean_out, out) = (tempfile::tempdir().expect("tempdir"), tempfile::tempdir().expect("tempdir"));
    let clean = clean_run(clean_out.path()).await;
    // 60 calls in the pool, refilled at 50 a second, 40 of them the owner's: the 88 requests
    // of the plan fit only by waiting for the refill.
    let sandbox = sandbox_with(|c| c.rate_limit = RateLimitConfig { capacity: 60, refill_per_minute: 3000.0 }).await;
    let mut cfg = client_config(&sandbox);
    cfg.reserve = 40;
    cfg.refill_per_minute = 3000.0;
    cfg.slow_down_below = 0;
    cfg.concurrency = 4;
    let x = run_extract(cfg, out.path()).await;
    assert!(x.manifest.complete, "{:#?}", x.manifest.gaps);
    assert_same_tables(&x, &clean, "run held at the reserve");
    let budget = x.manifest.rate_limit.clone().expect("the manifest records the budget");
    assert_eq!(budget.reserve, 40);
    assert_eq!(budget.spent, spending_requests(&sandbox), "every request that spent the pool is counted");
    assert!(budget.waits > 0 && budget.waited_seconds > 0.0, "{budget:?}");
    let lowest = budget.lowest_remaining.expect("the sandbox sends RateLimit-Remaining");
    // A remaining count read while other answers are in flight can be a few requests stale.
    assert!(lowest + 4 >= 40, "the pool fell to {lowest}, below the reserve of 40");
    assert_eq!(sandbox.stats().total.status.rate_limited, 0, "waiting at the reserve never meets a 429");
}

#[tokio::test(flavor = "multi_thread")]
async fn max_requests_stops_the_run_cleanly_and_what_was_not_read_becomes_gaps() {
    let out = tempfile::tempdir().expect("tempdir");
    let sandbox = acme_sandbox(Faults::default()).await;
    let mut cfg = client_config(&sandbox);
    cfg.max_requests = Some(30);
    let x = run_extract(cfg, out.path()).await;
    assert!(!x.manifest.complete);
    assert_eq!(spending_requests(&sandbox), 30, "not one request past the budget");
    let budget = x.manifest.rate_limit.clone().expect("budget");
    assert!(budget.stopped_at_max_requests);
    assert_eq!(budget.spent, 30);
    let unread: Vec<_> = x.manifest.gaps.iter().filter(|g| g.error_id.as_deref() == Some("max_requests")).collect();
    assert!(!unread.is_empty(), "{:#?}", x.manifest.gaps);
    assert!(unread.iter().all(|g| g.message.contains("--max-requests 30")), "{unread:#?}");
    assert!(unread.iter().all(|g| !g.tables.is_empty()), "each gap names the tables it leaves short");
}

#[tokio::test(flavor = "multi_thread")]
async fn max_requests_exits_3_from_the_binary() {
    let out = tempfile::tempdir().expect("tempdir");
    let sandbox = acme_sandbox(Faults::default()).await;
    let mut cmd = hkaudit(&sandbox.url(), out.path(), ACME_TOKEN);
    cmd.args(["--max-requests", "10"]);
    let output = run_to_end(cmd).await;
    assert_eq!(output.status.code(), Some(3), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(spending_requests(&sandbox), 10);
}

// ---------------------------------------------------------------------------------------------
// 4. and 5. The real binary: kill -9, secrets in output, a rejected token.

pub fn hkaudit(url: &str, out: &Path, token: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hkaudit"));
    cmd.args(["extract", "--api-url", url, "--out"])
        .arg(out)
        .args(["--as-of", &acme_now().to_rfc3339(), "--timeout", "5", "--max-retries", "3"])
        .env("HEROKU_API_KEY", token)
        .env_remove("HKAUDIT_API_URL")
        .env_remove("HKAUDIT_LOG")
        .env_remove("HKAUDIT_TEST_PAUSE_BEFORE_RENAME_MS");
    cmd
}

pub async fn run_to_end(mut cmd: Command) -> std::process::Output {
    tokio::task::spawn_blocking(move || cmd.output().expect("hkaudit runs")).await.expect("join")
}

pub fn temporaries(out: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(out)
        .map(|rd| {
            rd.flatten().filter(|e| e.file_name().to_string_lossy().starts_with(".tmp-")).map(|e| e.path()).collect()
        })
        .unwrap_or_default()
}

/// Nothing in `out` looks like a snapshot unless it is one: every folder other than `.tmp-*` and
/// `.cache` has a manifest, and `latest` is absent or points at a complete snapshot.
pub fn assert_no_half_snapshot(out: &Path, when: &str) {
    let Ok(entries) = std::fs::read_dir(out) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        if name.starts_with(".tmp-") || name == ".cache" {
            continue;
        }
        if name == "latest" {
            let target = std::fs::read_link(&path).unwrap_or_else(|e| panic!("{when}: latest is a symlink: {e}"));
            let snapshot = Snapshot::open(&out.join(target))
                .unwrap_or_else(|e| panic!("{when}: latest points at a snapshot: {e}"));
            assert!(snapshot.manifest().complete, "{when}: latest points at a complete snapshot");
            continue;
        }
        assert!(path.is_dir(), "{when}: unexpected file {name}");
        let snapshot =
            Snapshot::open(&path).unwrap_or_else(|e| panic!("{when}: {name} looks like a snapshot but is not: {e}"));
        for (table, info) in &snapshot.manifest().tables {
            assert_eq!(
                sha256_hex(&std::fs::read(path.join(&info.file)).expect("table file")),
                info.sha256,
                "{when}: {name}/{table}"
            );
        }
    }
}

/// Where a run is killed.
#[derive(Debug, Clone, Copy)]
enum KillPoint {
    /// After the sandbox has answered this many requests: mid-crawl.
    AfterRequests(u64),
    /// As soon as the temporary snapshot folder exists: while tables are written.
    TemporaryFolderAppears,
    /// Tables and manifest written, not renamed yet.
    BeforeRename,
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_killed_at_any_point_leaves_no_snapshot_that_is_not_one() {
    // Latency makes the crawl last long enough to be killed in the middle of it.
    let sandbox = acme_sandbox(Faults { latency: Duration::from_millis(20), ..Faults::default() }).await;
    let out = tempfile::tempdir().expect("tempdir");
    let points = [
        KillPoint::AfterRequests(1),
        KillPoint::AfterRequests(40),
        KillPoint::TemporaryFolderAppears,
        KillPoint::BeforeRename,
    ];
    let mut finished = 0;
    for point in points {
        let before = sandbox.stats().total.requests;
        let mut cmd = hkaudit(&sandbox.url(), out.path(), ACME_TOKEN);
        cmd.stdout(Stdio::null()).stderr(Stdio::null());
        if !matches!(point, KillPoint::AfterRequests(_)) {
            // Holds the finished snapshot before its rename, so the kill lands before it.
            cmd.env("HKAUDIT_TEST_PAUSE_BEFORE_RENAME_MS", "30000");
        }
        let mut child = cmd.spawn().expect("spawn hkaudit");
        let mut waited = 0;
        loop {
            let reached = match point {
                KillPoint::AfterRequests(n) => sandbox.stats().total.requests >= before + n,
                KillPoint::TemporaryFolderAppears => temporaries(out.path()).iter().any(|t| t.is_dir()),
                KillPoint::BeforeRename => temporaries(out.path()).iter().any(|t| t.join("manifest.json").exists()),
            };
            if reached {
                break;
            }
            assert!(child.try_wait().expect("try_wait").is_none(), "{point:?}: hkaudit ended before the kill point");
            waited += 1;
            assert!(waited < 6000, "{point:?} never reached");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        child.kill().expect("SIGKILL"); // std sends SIGKILL on Unix.
        let status = tokio::task::spawn_blocking(move || child.wait()).await.expect("join").expect("wait");
        assert!(!status.success(), "{point:?}: killed, not finished");
        assert_no_half_snapshot(out.path(), &format!("after a kill at {point:?}"));
        if matches!(point, KillPoint::BeforeRename) {
            assert!(!temporaries(out.path()).is_empty(), "the killed run left its temporary folder");
        }

        // A normal run afterwards succeeds and removes what the dead one abandoned.
        let output = run_to_end(hkaudit(&sandbox.url(), out.path(), ACME_TOKEN)).await;
        assert_eq!(output.status.code(), Some(0), "{point:?}: {}", String::from_utf8_lossy(&output.stderr));
        finished += 1;
        let path = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
        assert!(Snapshot::open(&path).expect("the new snapshot").manifest().complete);
        assert_eq!(
            std::fs::canonicalize(out.path().join("latest")).expect("latest"),
            std::fs::canonicalize(&path).expect("path")
        );
        assert!(
            temporaries(out.path()).is_empty(),
            "{point:?}: abandoned temporaries are removed: {:?}",
            temporaries(out.path())
        );
        assert_no_half_snapshot(out.path(), &format!("after the run that followed {point:?}"));
    }
    let snapshots = std::fs::read_dir(out.path())
        .expect("out")
        .flatten()
        .filter(|e| e.path().join("manifest.json").exists() && e.file_name() != "latest")
        .count();
    assert_eq!(snapshots, finished, "one snapshot per finished run, none from the killed ones");
}

#[tokio::test(flavor = "multi_thread")]
async fn no_secret_reaches_the_snapshot_the_cache_or_the_verbose_log() {
    let sandbox = acme_sandbox(Faults::default()).await;
    let out = tempfile::tempdir().expect("tempdir");
    let mut cmd = hkaudit(&sandbox.url(), out.path(), ACME_TOKEN);
    cmd.arg("-vv");
    let output = run_to_end(cmd).await;
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(stderr.lines().count() > 10, "-vv logs the run");
    for line in stdout.lines().chain(stderr.lines()) {
        assert!(!line.contains(SECRET_MARK), "a secret in the output: {line}");
    }
    // The default cache is OUT/.cache; it and the snapshot are files under OUT.
    assert!(out.path().join(".cache").is_dir(), "the default cache was used");
    assert_no_secret_in_files(out.path());
    assert_no_secret_in_files(&out.path().join(".cache"));
    // Parquet compresses, so a byte search is not enough: read every cell too.
    let snapshot = Snapshot::open(&out.path().join("latest")).expect("latest");
    for table in TABLES {
        let df = snapshot.read(table).expect("table");
        for row in row_texts(&df) {
            assert!(!row.contains(SECRET_MARK), "{table}: {row}");
        }
    }
}

/// stdout stays the snapshot's path, for scripts; people get one line on stderr saying what was
/// read, and its counts are the snapshot's.
#[tokio::test(flavor = "multi_thread")]
async fn extract_ends_with_one_line_of_what_it_read() {
    let sandbox = acme_sandbox(Faults::default()).await;
    let out = tempfile::tempdir().expect("tempdir");
    let output = run_to_end(hkaudit(&sandbox.url(), out.path(), ACME_TOKEN)).await;
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let snapshot = Snapshot::open(&out.path().join("latest")).expect("latest");
    let m = snapshot.manifest();
    assert!(stdout.trim().ends_with(&m.snapshot_id) && stdout.lines().count() == 1, "the path alone: {stdout}");
    let rows = |t: &str| m.tables[t].rows;
    let members = snapshot
        .read("team_members")
        .expect("team_members")
        .column("email_norm")
        .expect("email_norm")
        .n_unique()
        .expect("unique");
    let requests: u64 = m.endpoints.values().map(|e| e.requests).sum();
    let expected = format!(
        "snapshot {}: {} teams, {members} members, {} apps, {requests} requests, 0 gaps, ",
        m.snapshot_id,
        rows("teams"),
        rows("apps")
    );
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line: {stderr}");
    assert!(lines[0].starts_with(&expected), "{:?} starts with {expected:?}", lines[0]);
    assert!(lines[0].ends_with(" s"), "and the time taken: {}", lines[0]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rejected_token_is_one_clear_error_that_does_not_echo_it() {
    let sandbox = acme_sandbox(Faults::default()).await;
    let out = tempfile::tempdir().expect("tempdir");
    let wrong = "HRKU-wrong-PLANTED-SECRET-9999-rejected";
    let output = run_to_end(hkaudit(&sandbox.url(), out.path(), wrong)).await;
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert_eq!(output.status.code(), Some(2), "stderr: {stderr}");
    let errors: Vec<&str> = stderr.lines().filter(|l| l.contains("error")).collect();
    assert_eq!(errors.len(), 1, "one error line: {stderr}");
    assert!(errors[0].contains("401") && errors[0].contains("rejected the token"), "names the cause: {}", errors[0]);
    assert!(errors[0].contains("HEROKU_API_KEY"), "says where the token came from: {}", errors[0]);
    for text in [&stdout, &stderr] {
        assert!(!text.contains(wrong) && !text.contains(SECRET_MARK), "the token is echoed: {text}");
    }
    assert!(stdout.trim().is_empty());
    assert!(!out.path().join("latest").exists(), "nothing that looks like a snapshot");
    assert_no_half_snapshot(out.path(), "after a rejected token");
    assert_eq!(sandbox.stats().total.requests, 1, "the run stopped at the first 401");
}
