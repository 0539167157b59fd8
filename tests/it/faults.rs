//! The fault matrix: every fault the sandbox can inject, against acme, with one verdict. Either
//! the snapshot equals a clean run's, or every row it lacks is covered by a gap that names its
//! table and scope (by name), the manifest says `complete: false` and the CLI exits 3. Either
//! way, nothing in the output folder looks like a snapshot unless it is whole, and `latest`
//! points at a whole one. Waits and timeouts are shortened through the client's config, so the
//! whole matrix takes seconds. (Kill -9 at several points is
//! `extract::a_run_killed_at_any_point_leaves_no_snapshot_that_is_not_one`.)
use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use hkaudit::extract::Extracted;
use hkaudit::heroku::ClientConfig;
use hkaudit::sandbox::{Burst, DenyAfter, Faults, Replay};
use hkaudit::snapshot::{Snapshot, TABLES};

use crate::extract::{
    acme_sandbox, assert_same_tables, clean_run, client_config, column_text, read, row_texts, run_extract, sha256_hex,
    team_id, total, ACME_TOKEN, SECRET_MARK,
};

/// How a mode must end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// Transient: retried until the snapshot is the clean run's.
    Clean,
    /// Permanent: gaps, and these error ids among them.
    Gaps(&'static [&'static str]),
    /// Either, depending on how the seeded faults fall; the matrix checks both the same way.
    Either,
}

async fn run_mode(name: &str, faults: Faults, adjust: impl FnOnce(&mut ClientConfig), verdict: Verdict) -> Extracted {
    let (clean_dir, out) = (tempfile::tempdir().expect("tempdir"), tempfile::tempdir().expect("tempdir"));
    let clean = clean_run(clean_dir.path()).await;
    let sandbox = acme_sandbox(faults).await;
    let mut cfg = client_config(&sandbox);
    adjust(&mut cfg);
    let x = run_extract(cfg, out.path()).await;
    assert_verdict(name, &x, &clean, verdict);
    assert_whole(out.path(), name);
    x
}

fn assert_verdict(name: &str, x: &Extracted, clean: &Extracted, verdict: Verdict) {
    let m = &x.manifest;
    for gap in &m.gaps {
        assert!(gap.status.is_some() || gap.error_id.is_some(), "{name}: a gap says why: {gap:?}");
        assert!(!gap.tables.is_empty(), "{name}: a gap names its tables: {gap:?}");
        assert!(gap.team_id.is_none() || gap.team_name.is_some(), "{name}: the team by name: {gap:?}");
        assert!(gap.app_id.is_none() || gap.app_name.is_some(), "{name}: the app by name: {gap:?}");
        assert!(
            gap.enterprise_account_id.is_none() || gap.enterprise_account_name.is_some(),
            "{name}: the enterprise account by name: {gap:?}"
        );
        assert!(!gap.message.contains(SECRET_MARK), "{name}: {gap:?}");
        // The message reads on its own: it names the scope by name.
        if let Some(team) = &gap.team_name {
            assert!(gap.message.contains(&format!("team {team}")), "{name}: {}", gap.message);
        }
        if let Some(app) = &gap.app_name {
            assert!(gap.message.contains(&format!("app {app}")), "{name}: {}", gap.message);
        }
    }
    match verdict {
        Verdict::Clean => assert!(m.complete, "{name}: transient faults leave no gap: {:#?}", m.gaps),
        Verdict::Gaps(ids) => {
            assert!(!m.complete, "{name}: the fault costs data");
            let seen: BTreeSet<&str> = m.gaps.iter().filter_map(|g| g.error_id.as_deref()).collect();
            for id in ids {
                assert!(seen.contains(id), "{name}: a gap with error id {id}: {:#?}", m.gaps);
            }
        }
        Verdict::Either => {}
    }
    if m.complete {
        assert!(m.gaps.is_empty());
        assert_same_tables(x, clean, name);
    } else {
        assert_missing_rows_are_covered(name, x, clean);
    }
}

/// Every row of the clean run that this run lacks lies in a scope a gap on its table names: the
/// row's team or app, its enterprise account, or the whole organisation (a gap without scope).
/// And no row appears that the clean run does not have.
fn assert_missing_rows_are_covered(name: &str, x: &Extracted, clean: &Extracted) {
    for table in TABLES {
        let (got, want) = (read(x, table), read(clean, table));
        let got_rows: BTreeSet<String> = row_texts(&got).into_iter().collect();
        let want_rows = row_texts(&want);
        let column = |df: &polars::prelude::DataFrame, c: &str| {
            df.get_column_names().iter().any(|n| n.as_str() == c).then(|| column_text(df, c))
        };
        let (teams, apps, eas) =
            (column(&want, "team_id"), column(&want, "app_id"), column(&want, "enterprise_account_id"));
        let gaps: Vec<_> = x.manifest.gaps.iter().filter(|g| g.tables.iter().any(|t| t == table)).collect();
        for (i, row) in want_rows.iter().enumerate() {
            if got_rows.contains(row) {
                continue;
            }
            let at = |c: &Option<Vec<Option<String>>>| c.as_ref().and_then(|v| v[i].clone());
            let (team, app, ea) = (at(&teams), at(&apps), at(&eas));
            let covered = gaps.iter().any(|g| {
                let unscoped = g.team_id.is_none() && g.app_id.is_none() && g.enterprise_account_id.is_none();
                unscoped
                    || (g.team_id.is_some() && g.app_id.is_none() && g.team_id == team)
                    || (g.app_id.is_some() && g.app_id == app)
                    || (g.enterprise_account_id.is_some() && g.enterprise_account_id == ea)
            });
            // An app whose activity was not read is still listed, marked not scanned.
            let rescanned = *table == "apps";
            assert!(
                covered || rescanned,
                "{name}: {table} lost a row no gap covers: {row}\ngaps: {:#?}",
                x.manifest.gaps
            );
        }
        if *table != "apps" {
            let want_set: BTreeSet<&String> = want_rows.iter().collect();
            for row in &got_rows {
                assert!(want_set.contains(row), "{name}: {table} has a row the clean run does not: {row}");
            }
        }
    }
}

/// Nothing that looks like a snapshot unless whole (every table's bytes match the manifest), and
/// `latest` points at one of those.
fn assert_whole(out: &Path, name: &str) {
    let mut whole = Vec::new();
    for entry in std::fs::read_dir(out).expect("out").flatten() {
        let file = entry.file_name().to_string_lossy().into_owned();
        if file.starts_with(".tmp-") || file == ".cache" || file == "latest" {
            continue;
        }
        let snapshot = Snapshot::open(&entry.path()).unwrap_or_else(|e| panic!("{name}: {file} is not whole: {e}"));
        for info in snapshot.manifest().tables.values() {
            let bytes = std::fs::read(entry.path().join(&info.file)).expect("table file");
            assert_eq!(sha256_hex(&bytes), info.sha256, "{name}: {file}/{}", info.file);
        }
        whole.push(std::fs::canonicalize(entry.path()).expect("canonical"));
    }
    let latest = std::fs::canonicalize(out.join("latest")).expect("latest resolves");
    assert!(whole.contains(&latest), "{name}: latest points at a whole snapshot");
}

/// After a 429 the client paces requests at the pool's refill rate until the pool shows up again:
/// a fast refill keeps that to milliseconds here.
fn fast_refill(cfg: &mut ClientConfig) {
    cfg.refill_per_minute = 60_000.0;
}

fn short_timeout(cfg: &mut ClientConfig) {
    cfg.timeout = Duration::from_millis(800);
}

// ---------------------------------------------------------------------------------------------
// Transient faults: the clean run's snapshot.

#[tokio::test(flavor = "multi_thread")]
async fn matrix_429_storm_without_retry_after() {
    let faults = Faults { burst_429: Some(Burst { every: 20, len: 4 }), ..Faults::default() };
    let x = run_mode("429 storm", faults, fast_refill, Verdict::Clean).await;
    assert!(total(&x.manifest, |e| e.rate_limited) > 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn matrix_429_storm_with_retry_after() {
    let faults =
        Faults { burst_429: Some(Burst { every: 20, len: 4 }), retry_after_secs: Some(0), ..Faults::default() };
    // A long own wait proves the server's Retry-After is the one honoured.
    let x = run_mode(
        "429 storm, Retry-After: 0",
        faults,
        |c| {
            fast_refill(c);
            c.rate_limit_wait = Duration::from_secs(60);
        },
        Verdict::Clean,
    )
    .await;
    assert!(total(&x.manifest, |e| e.rate_limited) > 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn matrix_5xx_bursts() {
    run_mode("5xx", Faults { error_rate: 0.3, ..Faults::default() }, |_| {}, Verdict::Clean).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn matrix_resets_before_and_mid_body() {
    let faults = Faults { reset_rate: 0.1, reset_mid_body_rate: 0.15, ..Faults::default() };
    run_mode("resets", faults, |_| {}, Verdict::Clean).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn matrix_truncated_bodies() {
    run_mode("truncated", Faults { truncate_rate: 0.3, ..Faults::default() }, |_| {}, Verdict::Clean).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn matrix_stalls() {
    run_mode("stalls", Faults { stall_rate: 0.05, ..Faults::default() }, short_timeout, Verdict::Clean).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn matrix_wrong_content_type() {
    run_mode("wrong content type", Faults { wrong_content_type: true, ..Faults::default() }, |_| {}, Verdict::Clean)
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn matrix_html_error_pages_with_status_200() {
    // Retried once each: a page that comes twice in a row is a gap, which the matrix accepts.
    let x = run_mode("HTML 200", Faults { html_200_rate: 0.1, ..Faults::default() }, |_| {}, Verdict::Either).await;
    assert!(total(&x.manifest, |e| e.retries) > 0, "the pages were retried");
    for gap in &x.manifest.gaps {
        assert_eq!((gap.status, gap.error_id.as_deref()), (Some(200), Some("unexpected_body")), "{gap:?}");
        assert!(gap.message.contains("HTML"), "{}", gap.message);
    }
}

// ---------------------------------------------------------------------------------------------
// Permanent faults: gaps that cover exactly what is missing.

#[tokio::test(flavor = "multi_thread")]
async fn matrix_pagination_loop() {
    let path = format!("/teams/{}/members", team_id("acme-platform"));
    run_mode(
        "pagination loop",
        Faults { pagination_loop: Some(path), ..Faults::default() },
        |_| {},
        Verdict::Gaps(&["pagination_loop"]),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn matrix_206_without_next_range() {
    let team = "acme-platform";
    let path = format!("/teams/{}/members", team_id(team));
    let x = run_mode(
        "206 without Next-Range",
        Faults { missing_next_range: Some(path.clone()), ..Faults::default() },
        |_| {},
        Verdict::Gaps(&["missing_next_range"]),
    )
    .await;
    assert_eq!(x.manifest.gaps.len(), 1, "{:#?}", x.manifest.gaps);
    let gap = &x.manifest.gaps[0];
    assert_eq!((gap.path.as_str(), gap.status, gap.team_name.as_deref()), (path.as_str(), Some(206), Some(team)));
    assert_eq!(gap.tables, ["team_members", "app_permissions"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn matrix_forbidden_mid_crawl() {
    let faults = Faults { deny_after: Some(DenyAfter { after: 20, status: 403 }), ..Faults::default() };
    run_mode("403 mid-crawl", faults, |_| {}, Verdict::Gaps(&["forbidden"])).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn matrix_not_found_mid_crawl() {
    let faults = Faults { deny_after: Some(DenyAfter { after: 30, status: 404 }), ..Faults::default() };
    run_mode("404 mid-crawl", faults, |_| {}, Verdict::Gaps(&["not_found"])).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn matrix_a_malformed_200_on_one_endpoint() {
    let path = format!("/teams/{}/members", team_id("acme-data"));
    let x = run_mode(
        "malformed 200",
        Faults { malformed_200: Some(path), ..Faults::default() },
        |_| {},
        Verdict::Gaps(&["unexpected_body"]),
    )
    .await;
    assert_eq!(x.manifest.gaps.len(), 1);
    assert_eq!(x.manifest.gaps[0].team_name.as_deref(), Some("acme-data"));
}

// ---------------------------------------------------------------------------------------------
// The CLI: exit 3 with gaps, 0 without; a planted secret in no file, log or stream.

async fn cli_extract(faults: Faults, verbose: &str) -> (std::process::Output, tempfile::TempDir) {
    let sandbox = acme_sandbox(faults).await;
    let out = tempfile::tempdir().expect("tempdir");
    let mut cmd = crate::extract::hkaudit(&sandbox.url(), out.path(), ACME_TOKEN);
    cmd.arg(verbose);
    let output = crate::extract::run_to_end(cmd).await;
    drop(sandbox);
    (output, out)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_cli_exits_3_when_a_fault_costs_data_and_0_when_it_does_not() {
    let (gapped, out) =
        cli_extract(Faults { deny_after: Some(DenyAfter { after: 25, status: 403 }), ..Faults::default() }, "-v").await;
    let stderr = String::from_utf8_lossy(&gapped.stderr);
    assert_eq!(gapped.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("incomplete"), "{stderr}");
    // Warnings name the scope by name first, the id second.
    let warning = stderr
        .lines()
        .find(|l| l.contains("GET /teams/{team}/") && l.contains("recorded as a gap"))
        .expect("a warning");
    assert!(warning.contains("team acme-") && warning.contains("(id "), "{warning}");
    assert_whole(out.path(), "exit 3");
    let (clean, out) = cli_extract(Faults { error_rate: 0.2, ..Faults::default() }, "-v").await;
    assert_eq!(clean.status.code(), Some(0), "{}", String::from_utf8_lossy(&clean.stderr));
    assert_whole(out.path(), "exit 0");
}

/// Every file under `dir`, as bytes.
fn all_bytes(dir: &Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    crate::extract::files_under(dir).into_iter().map(|p| (p.clone(), std::fs::read(&p).expect("read"))).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn planted_secrets_reach_no_manifest_log_stream_or_file() {
    use hkaudit::sandbox::Quirk;
    let secret = "HRKU-shape-PLANTED-SECRET-0003";
    // A token string where the `access_token` object belongs, and an error body echoing the
    // request's Authorization header (with the run's own token).
    let echo = serde_json::json!({"id": "bad_request", "message": format!("Invalid header Authorization: Bearer {ACME_TOKEN}")});
    let invitations = format!("/teams/{}/invitations", "acme-data");
    let faults = Faults {
        quirks: vec![Quirk {
            template: "/oauth/authorizations".into(),
            field: "access_token".into(),
            value: Some(secret.into()),
        }],
        replay: hkaudit::sandbox::ReplaySet {
            routes: vec![Replay {
                path: invitations,
                status: 400,
                content_type: "application/json".into(),
                body: serde_json::to_vec(&echo).expect("json").into(),
            }],
            ..Default::default()
        },
        ..Faults::default()
    };
    let (output, out) = cli_extract(faults, "-vvv").await;
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert_eq!(output.status.code(), Some(3), "the unreadable field and the 400 are gaps: {stderr}");
    assert!(stderr.lines().count() > 20, "-vvv logs the run");
    let manifest = std::fs::read_to_string(out.path().join("latest/manifest.json")).expect("manifest");
    assert!(manifest.contains("access_token"), "the gap names the field: {manifest}");
    assert!(manifest.contains("bad_request"), "the 400 is a gap: {manifest}");
    for (what, text) in [("stdout", stdout.as_ref()), ("stderr", stderr.as_ref()), ("manifest", manifest.as_str())] {
        assert!(
            !text.contains(secret) && !text.contains(ACME_TOKEN) && !text.contains(SECRET_MARK),
            "{what} holds a secret"
        );
    }
    for (path, bytes) in all_bytes(out.path()) {
        assert!(
            !bytes.windows(SECRET_MARK.len()).any(|w| w == SECRET_MARK.as_bytes()),
            "{} holds a secret",
            path.display()
        );
    }
    let snapshot = Snapshot::open(&out.path().join("latest")).expect("latest");
    for table in TABLES {
        for row in row_texts(&snapshot.read(table).expect("table")) {
            assert!(!row.contains(SECRET_MARK), "{table}: {row}");
        }
    }

    // The same shape in an export given to `analyze --authorizations`: refused, never quoted.
    let export = out.path().join("export.json");
    std::fs::write(&export, format!(r#"[{{"id":"a1","access_token":"{secret}","user":{{"email":"dev@acme.test"}}}}]"#))
        .expect("write");
    let findings = out.path().join("findings");
    let analyzed = std::process::Command::new(env!("CARGO_BIN_EXE_hkaudit"))
        .arg("-vvv")
        .arg("analyze")
        .arg(out.path().join("latest"))
        .arg("--authorizations")
        .arg(&export)
        .arg("--out")
        .arg(&findings)
        .env_remove("HKAUDIT_LOG")
        .output()
        .expect("hkaudit analyze runs");
    let stderr = String::from_utf8_lossy(&analyzed.stderr);
    assert_eq!(analyzed.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("export.json") && stderr.contains("access_token"), "names the file and field: {stderr}");
    assert!(!stderr.contains(secret) && !String::from_utf8_lossy(&analyzed.stdout).contains(secret), "{stderr}");
    if findings.exists() {
        for (path, bytes) in all_bytes(&findings) {
            assert!(!bytes.windows(secret.len()).any(|w| w == secret.as_bytes()), "{}", path.display());
        }
    }
}
