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
        if p.is_dir() {
            // The sign-in logs' folder, as it is.
            std::fs::create_dir_all(&target).expect("mkdir");
            for log in std::fs::read_dir(&p).expect("signins").flatten() {
                std::fs::copy(log.path(), target.join(log.file_name())).expect("copy");
            }
        } else if p.file_name().and_then(|n| n.to_str()) == Some("heroku-authorizations-dave.deprov.json") {
            let mut v: Vec<serde_json::Value> =
                serde_json::from_str(&std::fs::read_to_string(&p).expect("read")).expect("json");
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
        v.iter()
            .find(|a| a["description"].as_str().is_some_and(|d| d.contains("CLI login")))
            .and_then(|a| a["id"].as_str())
            .expect("the CLI login authorization")
            .to_owned()
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
    assert_eq!(f.persisting.len(), 22 - 2);
    assert!(f.not_rechecked.is_empty());
    // One seat fewer in acme-platform: 13 → 12 seats, $130.00 → $120.00; total $450.00 → $440.00
    // (abby.absent's collaborator role in acme-web is no seat).
    assert_eq!(
        (d.cost.old_seats, d.cost.new_seats, d.cost.old_monthly_cents, d.cost.new_monthly_cents, d.cost.delta_cents),
        (44, 43, 45_000, 44_000, -1_000)
    );
    let platform = d.cost.teams.iter().find(|t| t.team == "acme-platform").expect("platform");
    assert_eq!((platform.old_seats, platform.new_seats, platform.delta_cents), (13, 12, -1_000));
    assert!(d.warnings.is_empty(), "{:?}", d.warnings);
}

#[tokio::test(flavor = "multi_thread")]
async fn diff_renders_as_markdown_json_and_csv() {
    let s = two_snapshots().await;
    let d = history::diff(&s.old, &s.new, &Config::default()).expect("diff");
    let md = history::diff_markdown(&d).expect("md");
    assert!(md.contains("| monthly spend | $450.00 → $440.00 (-$10.00) |"), "{md}");
    assert!(
        md.contains("| team-membership | acme | acme-platform |  | ivan.idle@acme.example | member | view |"),
        "{md}"
    );
    let json: serde_json::Value = serde_json::to_value(&d).expect("json");
    assert_eq!(json["leavers"][0]["key"]["email"], "ivan.idle@acme.example");
    let csv = String::from_utf8(history::diff_csv(&d).expect("csv")).expect("utf8");
    assert!(
        csv.lines().any(|l| l.starts_with("leaver,team-membership,acme,acme-platform,,ivan.idle@acme.example,member,")),
        "{csv}"
    );
    let _ = &s.dir;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_team_not_read_in_the_new_snapshot_has_no_leavers_only_unknowns() {
    let dir = tempfile::tempdir().expect("tempdir");
    let snapshots = dir.path().join("snapshots");
    let old = acme::extract_fixture(Fixture::load(&acme::acme_dir()).expect("acme"), &snapshots, "before").await;
    let new = acme::extract_acme_with_faults(
        &snapshots,
        "after",
        hkaudit::sandbox::Faults { forbid_team: vec!["acme-web".into()], ..Default::default() },
    )
    .await;
    let d = history::diff(&old, &new, &Config::default()).expect("diff");
    assert!(
        d.leavers.iter().all(|g| g.key.team != "acme-web"),
        "acme-web was not read, so nobody left it: {:?}",
        d.leavers
    );
    assert!(d.leavers.is_empty(), "{:?}", d.leavers);
    assert_eq!(
        d.unknown.iter().filter(|g| g.key.team == "acme-web" && g.key.grant_type == "team-membership").count(),
        10
    );
    assert!(d.warnings.iter().any(|w| w.contains("incomplete")), "{:?}", d.warnings);
}

#[tokio::test(flavor = "multi_thread")]
async fn report_history_shows_the_trend_across_snapshots() {
    let s = two_snapshots().await;
    let trends = hkaudit::report::trends::load_trends(s.old.parent().expect("snapshots dir"), &Config::default())
        .expect("trends");
    let ids: Vec<&str> = trends.points.iter().map(|p| p.snapshot_id.as_str()).collect();
    assert_eq!(ids, vec!["2026q4", "2027q1"]);
    assert_eq!(trends.points.iter().map(|p| p.spend_cents).collect::<Vec<_>>(), vec![45_000, 44_000]);
    assert_eq!(trends.points[1].seats_by_team["acme-platform"], 12);
    assert_eq!(trends.points[0].open_by_severity.as_ref().expect("analyzed")["high"], 10);
    assert_eq!(trends.points[1].open_by_severity.as_ref().expect("analyzed")["high"], 9);
    // Both snapshots are "as of" the fixture's now, so the two resolutions took no time.
    assert_eq!((trends.resolved, trends.mean_days_to_resolve), (2, Some(0.0)));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_team_a_snapshot_could_not_read_is_a_gap_in_the_trend_not_a_drop_to_zero() {
    let dir = tempfile::tempdir().expect("tempdir");
    let snapshots = dir.path().join("snapshots");
    acme::extract_fixture(Fixture::load(&acme::acme_dir()).expect("acme"), &snapshots, "2026q4").await;
    acme::extract_acme_with_faults(
        &snapshots,
        "2027q1",
        hkaudit::sandbox::Faults { forbid_team: vec!["acme-payments".into()], ..Default::default() },
    )
    .await;
    let trends = hkaudit::report::trends::load_trends(&snapshots, &Config::default()).expect("trends");
    let [full, partial] = &trends.points[..] else { panic!("two points: {:?}", trends.points) };
    assert!(full.not_read_teams.is_empty());
    assert_eq!(full.seats_by_team["acme-payments"], 9);
    assert_eq!(partial.not_read_teams, vec!["acme-payments".to_owned()]);
    assert!(!partial.seats_by_team.contains_key("acme-payments"), "no count for an unread team");

    let view = hkaudit::report::trends::TrendsView::new(trends);
    assert_eq!(view.rows[0].seats, "44");
    assert_eq!(view.rows[1].seats, "35 (not read: acme-payments)");
    assert_eq!(view.rows[1].spend, "$360.00 (not read: acme-payments)");
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
        .output()
        .expect("hkaudit runs");
    assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));
    let html = std::fs::read_to_string(out.join("index.html")).expect("index");
    assert!(html.contains("<section id=\"trends\">"));
    assert!(html.contains("<td>2026q4</td>") && html.contains("<td>2027q1</td>"));
    assert!(html.contains("$450.00") && html.contains("$440.00"));
    for name in ["trend-seats", "trend-spend", "trend-findings"] {
        assert!(html.contains(&format!("id=\"chart-{name}\"")), "{name} missing from index.html");
        let png = std::fs::read(out.join(format!("charts/{name}.png"))).expect("png");
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    }
}

/// The reviewer's worksheet for the old snapshot, as `hkaudit report` wrote it, with decisions
/// filled in by `decide(grant_type, team, email) -> decision word`.
fn filled_worksheet(
    s: &TwoSnapshots,
    decide: impl Fn(&str, &str, &str) -> &'static str,
) -> (Vec<String>, Vec<Vec<String>>) {
    let config = Config::default();
    let model = hkaudit::report::load_model(&s.old, None, &config).expect("model");
    let out = s.dir.path().join("old-report");
    hkaudit::report::render(
        &model,
        &hkaudit::report::ReportOptions {
            out_dir: out.clone(),
            formats: [hkaudit::report::Format::Csv].into_iter().collect(),
        },
    )
    .expect("render");
    let mut reader = csv::Reader::from_path(out.join("certification.csv")).expect("csv");
    let header: Vec<String> = reader.headers().expect("header").iter().map(str::to_owned).collect();
    let col = |name: &str| header.iter().position(|h| h == name).expect("column");
    let (grant, team, email, decision, reviewer) =
        (col("grant_type"), col("team"), col("user_email"), col("decision"), col("reviewer"));
    let rows = reader
        .records()
        .map(|r| {
            let mut row: Vec<String> = r.expect("record").iter().map(str::to_owned).collect();
            row[decision] = decide(&row[grant], &row[team], &row[email].to_lowercase()).to_owned();
            if !row[decision].is_empty() {
                row[reviewer] = "dana.director@acme.example".into();
            }
            row
        })
        .collect();
    (header, rows)
}

fn decisions(grant: &str, team: &str, email: &str) -> &'static str {
    match (grant, team, email) {
        ("team-membership", "acme-platform", "ivan.idle@acme.example") => "Deny",
        ("team-membership", "acme-data", "rita.removed@acme.example") => "deny",
        ("team-membership", "acme-platform", "ada.active@acme.example") => "Approve",
        ("team-membership", "acme-payments", "vic.viewer@acme.example") => "Don\u{2019}t know",
        _ => "",
    }
}

fn write_csv(path: &Path, header: &[String], rows: &[Vec<String>]) {
    let mut w = csv::Writer::from_path(path).expect("csv");
    w.write_record(header).expect("header");
    for r in rows {
        w.write_record(r).expect("row");
    }
    w.flush().expect("flush");
}

fn certify_cli(worksheet: &Path, snapshot: &Path, extra: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hkaudit"))
        .arg("certify")
        .arg("--worksheet")
        .arg(worksheet)
        .arg("--snapshot")
        .arg(snapshot)
        .arg("--json")
        .args(extra)
        .output()
        .expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn certification_closure_proves_what_was_removed_and_flags_what_was_not() {
    let s = two_snapshots().await;
    let (header, rows) = filled_worksheet(&s, decisions);
    let worksheet = s.dir.path().join("filled.csv");
    write_csv(&worksheet, &header, &rows);

    let closure = history::certify(&worksheet, &s.new, None).expect("certify");
    assert!(closure.warnings.is_empty(), "the old snapshot sits beside the new one: {:?}", closure.warnings);
    let by = |c: history::Closure| -> Vec<String> {
        closure
            .rows
            .iter()
            .filter(|r| r.closure == c)
            .map(|r| format!("{} {} {}", r.key.grant_type, r.key.team, r.key.email))
            .collect()
    };
    assert_eq!(by(history::Closure::Done), vec!["team-membership acme-platform ivan.idle@acme.example"]);
    assert_eq!(by(history::Closure::StillPresent), vec!["team-membership acme-data rita.removed@acme.example"]);
    assert_eq!(by(history::Closure::Kept), vec!["team-membership acme-platform ada.active@acme.example"]);
    assert!(by(history::Closure::Unknown).is_empty());
    assert_eq!(by(history::Closure::NotReviewed).len(), rows.len() - 3, "vic's Don't know and every empty decision");
    assert!(closure.has_open_denials());
    assert_eq!(closure.undecided, rows.len() - 3);
    // What was given since the worksheet's snapshot is listed, not silently left out.
    let new: Vec<String> = by(history::Closure::NewSince);
    assert_eq!(
        new,
        ["team-invitation acme-data hana.hr@acme.example", "team-membership acme-payments vic.viewer@acme.example"]
    );

    // A review with undecided rows is not closed unless someone accepts that, by name.
    let (code, stdout, stderr) = certify_cli(&worksheet, &s.new, &[]);
    assert_eq!((code, stdout.as_str()), (5, ""), "undecided rows refuse the closure");
    assert!(stderr.contains(&format!("{} of {} rows have no decision", rows.len() - 3, rows.len())), "{stderr}");
    let (code, stdout, _) = certify_cli(&worksheet, &s.new, &["--accept-undecided", "dana.director@acme.example"]);
    assert_eq!(code, 4, "a denied grant that persists fails the run");
    let json: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(json["counts"]["done"], 1);
    assert_eq!(json["counts"]["still present"], 1);
    assert_eq!(json["accepted_undecided"]["by"], "dana.director@acme.example");

    let md = history::closure_markdown(&closure).expect("md");
    assert!(md.contains(&format!("**Not closed: {} reviewed rows have no decision.**", rows.len() - 3)), "{md}");
    let mut accepted = closure.clone();
    accepted.accept_undecided("dana.director@acme.example", chrono::Utc::now());
    let md = history::closure_markdown(&accepted).expect("md");
    assert!(md.contains("**Not closed: some denied grants are still present.**"));
    assert!(md.contains("## Still present"));
    assert!(md.contains("> **Accepted undecided:** "), "{md}");
    // Approvals are listed with who approved them.
    assert!(
        md.contains("## Approvals") && md.contains("| ada.active@acme.example | dana.director@acme.example |"),
        "{md}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_worksheet_saved_back_by_a_spreadsheet_reads_the_same() {
    let s = two_snapshots().await;
    let (header, rows) = filled_worksheet(&s, decisions);
    let plain = s.dir.path().join("plain.csv");
    write_csv(&plain, &header, &rows);
    // Excel in a European locale: BOM, semicolons, CRLF, every cell quoted, columns reordered.
    let mut order: Vec<usize> = (0..header.len()).collect();
    order.reverse();
    let quote = |c: &str| format!("\"{}\"", c.replace('"', "\"\""));
    let line = |cells: &[String]| order.iter().map(|i| quote(&cells[*i])).collect::<Vec<_>>().join(";");
    let mut text = String::from("\u{feff}");
    text.push_str(&line(&header));
    text.push_str("\r\n");
    for r in &rows {
        text.push_str(&line(r));
        text.push_str("\r\n");
    }
    let excel = s.dir.path().join("excel.csv");
    std::fs::write(&excel, text).expect("write");
    let a = history::certify(&plain, &s.new, None).expect("plain");
    let b = history::certify(&excel, &s.new, None).expect("excel");
    let summary =
        |c: &history::ClosureReport| c.rows.iter().map(|r| (r.key.clone(), r.closure, r.line)).collect::<Vec<_>>();
    assert_eq!(summary(&a), summary(&b));
    assert_eq!(a.counts, b.counts);
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_worksheets_give_line_numbered_errors() {
    let s = two_snapshots().await;
    let (header, rows) = filled_worksheet(&s, decisions);
    let dir = s.dir.path();
    let decision = header.iter().position(|h| h == "decision").expect("decision");
    let email = header.iter().position(|h| h == "user_email").expect("email");

    let mut unknown_word = rows.clone();
    unknown_word[4][decision] = "Maybe".into();
    let p = dir.join("unknown-word.csv");
    write_csv(&p, &header, &unknown_word);
    let (code, _, err) = certify_cli(&p, &s.new, &[]);
    assert_eq!(code, 2);
    assert!(
        err.contains("unknown-word.csv:6:")
            && err.contains("Maybe")
            && err.contains("Approve, Deny, Don't know, Not reviewed"),
        "{err}"
    );

    let mut no_such_grant = rows.clone();
    no_such_grant[2][email] = "nobody@acme.example".into();
    let p = dir.join("no-such-grant.csv");
    write_csv(&p, &header, &no_such_grant);
    let (code, _, err) = certify_cli(&p, &s.new, &[]);
    assert_eq!(code, 2);
    assert!(err.contains("no-such-grant.csv:4:") && err.contains("matches no grant of snapshot 2026q4"), "{err}");

    let trimmed: Vec<String> = header.iter().filter(|h| *h != "decision").cloned().collect();
    let trimmed_rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.iter().enumerate().filter(|(i, _)| *i != decision).map(|(_, c)| c.clone()).collect())
        .collect();
    let p = dir.join("missing-column.csv");
    write_csv(&p, &trimmed, &trimmed_rows);
    let (code, _, err) = certify_cli(&p, &s.new, &[]);
    assert_eq!(code, 2);
    assert!(err.contains("missing-column.csv:1:") && err.contains("decision"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// A team one snapshot did not read: named, left out of every comparison, never a change.

/// acme before (complete, analyzed) and after, with acme-web answering 403 and nothing else changed.
async fn with_web_forbidden_later() -> TwoSnapshots {
    let dir = tempfile::tempdir().expect("tempdir");
    let snapshots = dir.path().join("snapshots");
    let old = acme::extract_fixture(Fixture::load(&acme::acme_dir()).expect("acme"), &snapshots, "before").await;
    acme::analyze_acme(&old);
    let new = acme::extract_acme_with_faults(
        &snapshots,
        "after",
        hkaudit::sandbox::Faults { forbid_team: vec!["acme-web".into()], ..Default::default() },
    )
    .await;
    acme::analyze_acme(&new);
    TwoSnapshots { dir, old, new }
}

fn web_team_id(snapshot: &Path) -> String {
    let s = hkaudit::snapshot::Snapshot::open(snapshot).expect("open");
    s.manifest().gaps.iter().find_map(|g| g.team_id.clone()).expect("a team gap")
}

#[tokio::test(flavor = "multi_thread")]
async fn diff_names_the_unread_team_and_leaves_it_out_of_seats_and_spend() {
    let s = with_web_forbidden_later().await;
    let id = web_team_id(&s.new);
    let d = history::diff(&s.old, &s.new, &Config::default()).expect("diff");
    // Said by name, the id only after it.
    assert!(
        d.warnings
            .iter()
            .any(|w| w.contains("NEW snapshot after is incomplete") && w.contains("team acme-web not read")),
        "{:?}",
        d.warnings
    );
    let named: Vec<&String> = d.not_read.iter().filter(|n| n.starts_with("NEW: team acme-web not read: ")).collect();
    assert_eq!(named.len(), 1, "{:?}", d.not_read);
    assert!(named[0].find("acme-web") < named[0].find(&id), "{}", named[0]);
    // Nothing changed but what was not read: no spend moved.
    let web = d.cost.teams.iter().find(|t| t.team == "acme-web").expect("acme-web");
    assert_eq!((web.not_read.as_deref(), web.delta_cents), (Some("not read in NEW"), 0));
    assert_eq!((d.cost.old_seats, d.cost.new_seats, d.cost.delta_cents), (35, 35, 0), "acme-web's 10 seats left out");
    assert_eq!(d.cost.excluded_note, "excluding acme-web (not read in NEW)");
    let md = history::diff_markdown(&d).expect("md");
    assert!(md.contains("| seats (excluding acme-web (not read in NEW)) | 35 → 35 |"), "{md}");
    assert!(
        md.contains("| monthly spend (excluding acme-web (not read in NEW)) | $360.00 → $360.00 ($0.00) |"),
        "{md}"
    );
    assert!(md.contains("| acme-web | not read in NEW | not read in NEW | |"), "{md}");
    assert!(md.contains("- NEW: team acme-web not read: "), "{md}");
    // Its findings were not judged again, so none of them reads as resolved.
    let f = d.findings.as_ref().expect("both analyzed");
    assert!(f.resolved.iter().all(|r| !r.subject.starts_with("acme-web")), "{:?}", f.resolved);
    assert!(f.not_rechecked.iter().any(|r| r.subject.starts_with("acme-web /")), "{:?}", f.not_rechecked);
}

#[tokio::test(flavor = "multi_thread")]
async fn certify_names_the_unread_team_for_a_denied_grant_it_cannot_check() {
    let s = with_web_forbidden_later().await;
    let id = web_team_id(&s.new);
    let (header, rows) = filled_worksheet(&s, |grant, team, email| match (grant, team, email) {
        ("team-membership", "acme-web", "ron.removed@acme.example") => "Deny",
        _ => "",
    });
    let worksheet = s.dir.path().join("filled.csv");
    write_csv(&worksheet, &header, &rows);
    let closure = history::certify(&worksheet, &s.new, None).expect("certify");
    let ron = closure.rows.iter().find(|r| r.decision == "Deny").expect("the denied row");
    assert_eq!(ron.closure, history::Closure::Unknown, "not read is not done");
    assert!(ron.note.starts_with("snapshot after: team acme-web not read: "), "{}", ron.note);
    assert!(ron.note.find("acme-web") < ron.note.find(&id), "{}", ron.note);
    assert!(closure.warnings.iter().any(|w| w.contains("did not read team acme-web")), "{:?}", closure.warnings);
    let md = history::closure_markdown(&closure).expect("md");
    assert!(md.contains("team acme-web not read"), "{md}");
    assert!(!closure.has_open_denials());
}
