//! A quarter later: two acme snapshots with the organisation changed in between, compared with
//! `diff` and used to close a certification with `certify`.
use std::path::{Path, PathBuf};

use chrono::Duration;
use hkaudit::analyze::Config;
use hkaudit::history::{self, SnapshotDiff};
use hkaudit::sandbox::Fixture;

use crate::acme;

/// The organisation after the review: ivan.idle removed from acme-platform, vic.viewer promoted
/// to member, dave.deprov's live token revoked (his export no longer lists it, and the audit
/// identity's CLI login is revoked on the API), and a new invitation to acme-data for hana.hr
/// (active in every IdP export, not on Heroku before).
pub struct TwoSnapshots {
    pub dir: tempfile::TempDir,
    pub old: PathBuf,
    pub new: PathBuf,
}

pub const DAVE_LIVE_TOKEN: &str = "1c3501e1-449d-508c-9bb6-952253d6e4bc";

fn inputs_without_daves_live_token(dir: &Path) -> PathBuf {
    let inputs = dir.join("inputs-later");
    std::fs::create_dir_all(&inputs).expect("mkdir");
    for entry in std::fs::read_dir(acme::acme_dir().join("inputs")).expect("inputs").flatten() {
        let p = entry.path();
        let target = inputs.join(p.file_name().expect("name"));
        if p.file_name().and_then(|n| n.to_str()) == Some("heroku-authorizations-dave.deprov.json") {
            let mut v: Vec<serde_json::Value> = serde_json::from_str(&std::fs::read_to_string(&p).expect("read")).expect("json");
            let before = v.len();
            v.retain(|a| a["id"] != DAVE_LIVE_TOKEN);
            assert_eq!(v.len(), before - 1, "dave's export holds the live token");
            std::fs::write(&target, serde_json::to_vec_pretty(&v).expect("json")).expect("write");
        } else {
            std::fs::copy(&p, &target).expect("copy");
        }
    }
    inputs
}

pub async fn two_snapshots() -> TwoSnapshots {
    let dir = tempfile::tempdir().expect("tempdir");
    let snapshots = dir.path().join("snapshots");
    let old = acme::extract_fixture(Fixture::load(&acme::acme_dir()).expect("acme"), &snapshots, "2026q4").await;
    acme::analyze_acme(&old);

    let mut later = Fixture::load(&acme::acme_dir()).expect("acme");
    assert!(later.remove_team_member("acme-platform", "ivan.idle@acme.example"));
    assert!(later.set_member_role("acme-payments", "vic.viewer@acme.example", "member"));
    let cli_login = {
        let text = std::fs::read_to_string(acme::acme_dir().join("oauth-authorizations.json")).expect("read");
        let v: Vec<serde_json::Value> = serde_json::from_str(&text).expect("json");
        v.iter().find(|a| a["description"].as_str().is_some_and(|d| d.contains("CLI login"))).and_then(|a| a["id"].as_str()).expect("the CLI login authorization").to_owned()
    };
    assert!(later.remove_authorization(&cli_login));
    let now = later.now();
    assert!(later.add_invitation("acme-data", "hana.hr@acme.example", "member", now - Duration::days(1)));
    let new = acme::extract_fixture(later, &snapshots, "2027q1").await;
    acme::analyze_with_inputs(&new, &inputs_without_daves_live_token(dir.path()));
    TwoSnapshots { dir, old, new }
}

fn lines(d: &SnapshotDiff) -> Vec<String> {
    let mut out = Vec::new();
    for g in &d.joiners {
        out.push(format!("joiner {} {}/{} {}", g.key.grant_type, g.key.team, g.key.app, g.key.email));
    }
    for g in &d.leavers {
        out.push(format!("leaver {} {}/{} {}", g.key.grant_type, g.key.team, g.key.app, g.key.email));
    }
    for c in &d.role_changes {
        out.push(format!("role {} {} {} -> {}", c.key.team, c.key.email, c.old, c.new));
    }
    for c in &d.permission_changes {
        out.push(format!("permissions {} {}/{} {} -> {}", c.key.email, c.key.team, c.key.app, c.old, c.new));
    }
    for g in &d.unknown {
        out.push(format!("unknown {} {}", g.key.grant_type, g.key.email));
    }
    let f = d.findings.as_ref().expect("both snapshots were analyzed");
    for x in &f.new {
        out.push(format!("new finding {} {}", x.rule_id, x.subject));
    }
    for x in &f.resolved {
        out.push(format!("resolved finding {} {}", x.rule_id, x.subject));
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn diff_shows_exactly_what_changed_in_the_quarter() {
    let s = two_snapshots().await;
    let d = history::diff(&s.old, &s.new, &Config::default()).expect("diff");
    assert_eq!(
        lines(&d),
        vec![
            "joiner team-invitation acme-data/ hana.hr@acme.example",
            "leaver team-membership acme-platform/ ivan.idle@acme.example",
            "role acme-payments vic.viewer@acme.example viewer -> member",
            format!("resolved finding orphaned-authorization {DAVE_LIVE_TOKEN} / dave.deprov@acme.example").as_str(),
            "resolved finding inactive-seat acme-platform / ivan.idle@acme.example",
        ]
    );
    let f = d.findings.as_ref().expect("findings");
    assert_eq!(f.persisting.len(), 21 - 2);
    assert!(f.not_rechecked.is_empty());
    // One seat fewer in acme-platform: 13 → 12 seats, $130.00 → $120.00; total $440.00 → $430.00.
    assert_eq!((d.cost.old_seats, d.cost.new_seats, d.cost.old_monthly_cents, d.cost.new_monthly_cents, d.cost.delta_cents), (43, 42, 44_000, 43_000, -1_000));
    let platform = d.cost.teams.iter().find(|t| t.team == "acme-platform").expect("platform");
    assert_eq!((platform.old_seats, platform.new_seats, platform.delta_cents), (13, 12, -1_000));
    assert!(d.warnings.is_empty(), "{:?}", d.warnings);
}

#[tokio::test(flavor = "multi_thread")]
async fn diff_renders_as_markdown_json_and_csv() {
    let s = two_snapshots().await;
    let d = history::diff(&s.old, &s.new, &Config::default()).expect("diff");
    let md = history::diff_markdown(&d).expect("md");
    assert!(md.contains("| monthly spend | $440.00 → $430.00 (-$10.00) |"), "{md}");
    assert!(md.contains("| team-membership | acme | acme-platform |  | ivan.idle@acme.example | member | view |"), "{md}");
    let json: serde_json::Value = serde_json::to_value(&d).expect("json");
    assert_eq!(json["leavers"][0]["key"]["email"], "ivan.idle@acme.example");
    let csv = String::from_utf8(history::diff_csv(&d).expect("csv")).expect("utf8");
    assert!(csv.lines().any(|l| l.starts_with("leaver,team-membership,acme,acme-platform,,ivan.idle@acme.example,member,")), "{csv}");
    let _ = &s.dir;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_team_not_read_in_the_new_snapshot_has_no_leavers_only_unknowns() {
    let dir = tempfile::tempdir().expect("tempdir");
    let snapshots = dir.path().join("snapshots");
    let old = acme::extract_fixture(Fixture::load(&acme::acme_dir()).expect("acme"), &snapshots, "before").await;
    let new = acme::extract_acme_with_faults(&snapshots, "after", hkaudit::sandbox::Faults { forbid_team: vec!["acme-web".into()], ..Default::default() }).await;
    let d = history::diff(&old, &new, &Config::default()).expect("diff");
    assert!(d.leavers.iter().all(|g| g.key.team != "acme-web"), "acme-web was not read, so nobody left it: {:?}", d.leavers);
    assert!(d.leavers.is_empty(), "{:?}", d.leavers);
    assert_eq!(d.unknown.iter().filter(|g| g.key.team == "acme-web" && g.key.grant_type == "team-membership").count(), 10);
    assert!(d.warnings.iter().any(|w| w.contains("incomplete")), "{:?}", d.warnings);
}

#[tokio::test(flavor = "multi_thread")]
async fn report_history_shows_the_trend_across_snapshots() {
    let s = two_snapshots().await;
    let trends = hkaudit::report::trends::load_trends(s.old.parent().expect("snapshots dir"), &Config::default()).expect("trends");
    let ids: Vec<&str> = trends.points.iter().map(|p| p.snapshot_id.as_str()).collect();
    assert_eq!(ids, vec!["2026q4", "2027q1"]);
    assert_eq!(trends.points.iter().map(|p| p.spend_cents).collect::<Vec<_>>(), vec![44_000, 43_000]);
    assert_eq!(trends.points[1].seats_by_team["acme-platform"], 12);
    assert_eq!(trends.points[0].open_by_severity.as_ref().expect("analyzed")["high"], 10);
    assert_eq!(trends.points[1].open_by_severity.as_ref().expect("analyzed")["high"], 9);
    // Both snapshots are "as of" the fixture's now, so the two resolutions took no time.
    assert_eq!((trends.resolved, trends.mean_days_to_resolve), (2, Some(0.0)));
}

#[tokio::test(flavor = "multi_thread")]
async fn report_with_history_draws_the_trend_charts() {
    let s = two_snapshots().await;
    let snapshots = s.old.parent().expect("snapshots dir").to_owned();
    let out = s.dir.path().join("report");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_hkaudit"))
        .args(["report", "--history"])
        .arg(&snapshots)
        .arg("--out")
        .arg(&out)
        .arg(&s.new)
        .status()
        .expect("hkaudit runs");
    assert!(status.success());
    let html = std::fs::read_to_string(out.join("index.html")).expect("index");
    assert!(html.contains("<section id=\"trends\">"));
    assert!(html.contains("<td>2026q4</td>") && html.contains("<td>2027q1</td>"));
    assert!(html.contains("$440.00") && html.contains("$430.00"));
    for name in ["trend-seats", "trend-spend", "trend-findings"] {
        assert!(html.contains(&format!("id=\"chart-{name}\"")), "{name} missing from index.html");
        let png = std::fs::read(out.join(format!("charts/{name}.png"))).expect("png");
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    }
}
