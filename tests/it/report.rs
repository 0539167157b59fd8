//! The report stage over acme: numbers finance can check by hand, outputs safe to open and
//! share, and golden files for the Markdown and CSV a reviewer reads.
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use hkaudit::analyze::{load_config, Config};
use hkaudit::report::{self, Format, ReportOptions};

use crate::acme;

struct Acme {
    _dir: tempfile::TempDir,
    snapshot: PathBuf,
}

async fn acme_analyzed() -> Acme {
    let dir = tempfile::tempdir().expect("tempdir");
    let snapshot = acme::extract_acme(&dir.path().join("snapshots")).await;
    acme::analyze_acme(&snapshot);
    Acme { _dir: dir, snapshot }
}

fn all_formats() -> BTreeSet<Format> {
    [Format::Html, Format::Md, Format::Csv, Format::Json].into_iter().collect()
}

fn render(snapshot: &Path, config: &Config) -> (report::ReportModel, PathBuf) {
    let model = report::load_model(snapshot, None, config).expect("model");
    let out = snapshot.join("report");
    report::render(&model, &ReportOptions { out_dir: out.clone(), formats: all_formats() }).expect("render");
    (model, out)
}

fn config_from(text: &str) -> Config {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("hkaudit.toml");
    std::fs::write(&path, text).expect("write config");
    load_config(Some(&path), &[]).expect("config")
}

/// The sandbox listens on a random port; everything else in the outputs is fixed.
fn scrub(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("http://127.0.0.1:") {
        out.push_str(&rest[..i]);
        out.push_str("http://127.0.0.1:PORT");
        rest = rest[i + "http://127.0.0.1:".len()..].trim_start_matches(|c: char| c.is_ascii_digit());
    }
    out.push_str(rest);
    out
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Teams pricing by hand, from the acme README's team table (seats are admins, members and
/// viewers; abby.absent's team role `collaborator` holds none by default):
///   acme-platform 13, acme-payments 9, acme-data 9, acme-web 9 → billed as they are;
///   acme-labs 4 → billed 5 (the 5-seat minimum).
///   13 + 9 + 9 + 9 + 5 = 45 billed seats × $10.00 = $450.00 a month, $5,400.00 a year.
///   Seats freed by acting, each once: left (enterprise-removal-not-cascaded) rita.removed in
///   acme-platform and acme-data, ron.removed in acme-web: 3 × $10.00; deprovisioned
///   (idp-deprovisioned-member) Sam.Suspended in acme-platform, gus.suspended in acme-web:
///   2 × $10.00 (dave.deprov and erin.disabled hold no seat, abby.absent a collaborator's);
///   inactive ivan.idle and bo.d91 in acme-platform, ines.idle in acme-payments: 3 × $10.00
///   (wes.watcher, who signs in every week, is not one of them). No team falls to its minimum,
///   so the saving is 8 × $10.00 = $80.00 a month.
///   Viewers: vera.viewer (acme-platform), vic.viewer and wes.watcher (acme-payments): $30.00.
#[tokio::test(flavor = "multi_thread")]
async fn acme_costs_are_exact_to_the_cent() {
    let acme = acme_analyzed().await;
    let (model, out) = render(&acme.snapshot, &Config::default());
    let c = &model.cost;
    let per_team: Vec<(&str, u32, u32, i64)> =
        c.teams.iter().map(|t| (t.team.as_str(), t.seats, t.billed_seats, t.monthly_cents)).collect();
    assert_eq!(
        per_team,
        vec![
            ("acme-data", 9, 9, 9_000),
            ("acme-labs", 4, 5, 5_000),
            ("acme-payments", 9, 9, 9_000),
            ("acme-platform", 13, 13, 13_000),
            ("acme-web", 9, 9, 9_000)
        ]
    );
    assert_eq!((c.seats, c.billed_seats), (44, 45));
    assert_eq!((c.monthly_cents, c.annual_cents), (45_000, 540_000));
    assert_eq!((c.monthly.as_str(), c.annual.as_str()), ("$450.00", "$5,400.00"));
    assert_eq!((c.inactive_cents, c.saving_cents, c.viewer_cents, c.freed_seats), (3_000, 8_000, 3_000, 8));
    let by_reason: Vec<(&str, u32, i64)> =
        c.saving_by_reason.iter().map(|r| (r.reason.as_str(), r.seats, r.cents)).collect();
    assert_eq!(by_reason, vec![("left", 3, 3_000), ("deprovisioned", 2, 2_000), ("inactive", 3, 3_000)]);
    let platform = c.teams.iter().find(|t| t.team == "acme-platform").expect("platform");
    assert_eq!((platform.inactive_seats, platform.freed_seats, platform.viewers, platform.admins), (2, 4, 1, 3));
    let web = c.teams.iter().find(|t| t.team == "acme-web").expect("web");
    assert_eq!(
        (web.collaborators, web.role_cents["collaborator"]),
        (1, 0),
        "abby.absent's collaborator role is no seat"
    );
    // Every finding about someone holding a seat carries what the seat costs.
    let cost_of = |subject: &str| -> String {
        let f = model
            .risk
            .groups
            .iter()
            .flat_map(|g| &g.rules)
            .flat_map(|r| &r.findings)
            .find(|f| f.subject.to_lowercase().ends_with(subject));
        f.map(|f| f.cost.clone()).unwrap_or_else(|| panic!("no finding {subject}"))
    };
    assert_eq!(cost_of("acme-data / rita.removed@acme.example"), "$10.00");
    assert_eq!(cost_of("okta / sam.suspended@acme.example"), "$10.00");
    assert_eq!(cost_of("acme-web / alan.no2fa@acme.example"), "$10.00");
    assert_eq!(cost_of("okta / dave.deprov@acme.example"), "", "dave.deprov holds no team seat");
    let md = read(&out.join("cost.md"));
    assert!(md.contains("Pricing model: **per seat with a billed minimum of 5 per team**"), "{md}");
    assert!(md.contains("Pricing: each seat costs $10.00 a month with at least 5 seats billed per team; admins, members and viewers each hold a seat and team collaborators do not."), "{md}");
    assert!(md.contains("| of which left (3 seats) | $30.00 | $360.00 |"), "{md}");
}

/// The seat-spend chart draws the bill, minimum included: acme-labs' bar is $50.00 (4 seats and
/// one seat's worth of minimum), and the bars add up to the table's total to the cent.
#[tokio::test(flavor = "multi_thread")]
async fn the_seat_spend_chart_and_the_cost_table_agree_to_the_cent() {
    let acme = acme_analyzed().await;
    for config in [Config::default(), config_from("[seats]\nmodel = \"free-up-to\"\nfree_up_to = 7\n")] {
        let (model, out) = render(&acme.snapshot, &config);
        let bars = hkaudit::report::charts::seat_spend_bars(&report::seat_spend_rows(&model)).expect("bars");
        let chart: Vec<(String, i64)> = bars.iter().map(|(t, v)| (t.clone(), v.iter().sum())).collect();
        let mut table: Vec<(String, i64)> =
            model.cost.teams.iter().map(|t| (t.team.clone(), t.monthly_cents)).collect();
        table.sort_by_key(|(t, c)| (std::cmp::Reverse(*c), t.clone()));
        assert_eq!(chart, table);
        assert_eq!(chart.iter().map(|(_, c)| c).sum::<i64>(), model.cost.monthly_cents);
        let svg = read(&out.join("charts/seat-spend.svg"));
        for t in &model.cost.teams {
            assert!(svg.contains(&t.monthly), "the chart labels {} with {}", t.team, t.monthly);
        }
    }
    let (model, _) = render(&acme.snapshot, &Config::default());
    let labs = model.cost.teams.iter().find(|t| t.team == "acme-labs").expect("labs");
    assert_eq!((labs.monthly_cents, labs.minimum_cents), (5_000, 1_000));
}

/// The other pricing models over acme. Free up to 7: acme-labs (4) pays nothing, the other
/// four pay every seat: 13 + 9 + 9 + 9 = 40 × $10.00. No seat charge: $0.00.
/// Billing collaborators adds abby.absent's seat to acme-web.
#[tokio::test(flavor = "multi_thread")]
async fn each_pricing_model_bills_acme_as_its_source_describes() {
    let acme = acme_analyzed().await;
    let (model, out) = render(&acme.snapshot, &config_from("[seats]\nmodel = \"free-up-to\"\nfree_up_to = 7\n"));
    let c = &model.cost;
    assert_eq!((c.monthly_cents, c.billed_seats), (40_000, 40));
    // acme-web's two seats freed leave 7: the team becomes free, saving all 9 seats.
    let web = c.teams.iter().find(|t| t.team == "acme-web").expect("web");
    assert_eq!(web.saving_cents, 9_000);
    assert!(read(&out.join("cost.md")).contains("free up to 7 members per team, then per seat"));
    let (model, _) = render(&acme.snapshot, &config_from("[seats]\nmodel = \"none\"\n"));
    assert_eq!((model.cost.monthly_cents, model.cost.saving_cents), (0, 0));
    assert!(model.cost.assumptions.contains("team seats cost nothing"), "{}", model.cost.assumptions);
    let (model, _) = render(&acme.snapshot, &config_from("[seats]\nbill_collaborators = true\n"));
    assert_eq!(model.cost.monthly_cents, 46_000);
}

/// The 5-seat minimum decides the saving: acme-labs' 4 seats bill as 5 whatever is removed.
/// With Enterprise pricing at $25.00 per unique user, the four acme teams (40 seats) hold 34
/// unique people (audit-bot is in all four, mo.multi, hank.multi and rita.removed in two):
/// 34 × $25.00 = $850.00, plus acme-labs at Teams pricing, 5 × $10.00 = $50.00: $900.00 a month.
/// The account's member list holds 35, counted beside. Every seat of ivan.idle, bo.d91,
/// ines.idle, rita.removed (both), ron.removed, Sam.Suspended and gus.suspended is freed: 7 × $25.00.
#[tokio::test(flavor = "multi_thread")]
async fn enterprise_pricing_is_per_unique_user() {
    let acme = acme_analyzed().await;
    let config = config_from("[enterprise]\nprice_per_unique_user_per_month = \"25.00\"\n");
    let (model, out) = render(&acme.snapshot, &config);
    let c = &model.cost;
    assert_eq!(c.enterprise.len(), 1);
    let e = &c.enterprise[0];
    assert_eq!((e.unique_users, e.account_members, e.monthly_cents, e.saving_cents), (34, 35, 85_000, 17_500));
    assert_eq!(c.monthly_cents, 90_000);
    assert_eq!(c.saving_cents, 17_500);
    assert_eq!(c.saving_by_reason.iter().map(|r| r.cents).sum::<i64>(), c.saving_cents);
    assert!(read(&out.join("cost.md")).contains("| acme | 34 | $25.00 | $850.00 | 7 | $175.00 | 35 |"));
}

/// Contract licences: 34 people use a licence against 40 bought (6 unused); 40 × $300.00 a year
/// is $12,000.00, $1,000.00 a month, plus acme-labs' $50.00. Seven people free their licence:
/// 7 × $300.00 / 12 = $175.00 a month at renewal.
#[tokio::test(flavor = "multi_thread")]
async fn enterprise_licences_count_people_holding_a_seat_against_licences_bought() {
    let acme = acme_analyzed().await;
    let config = config_from("[enterprise]\nlicences_purchased = 40\nprice_per_licence_per_year = \"300.00\"\n");
    let (model, out) = render(&acme.snapshot, &config);
    let l = model.cost.licences.as_ref().expect("licences");
    assert_eq!((l.purchased, l.used, l.unused, l.over_used, l.freed), (40, 34, 6, 0, 7));
    assert_eq!((l.monthly_cents, l.saving_cents), (100_000, 17_500));
    assert_eq!(model.cost.monthly_cents, 105_000);
    assert_eq!(model.cost.saving_by_reason.iter().map(|r| r.cents).sum::<i64>(), model.cost.saving_cents);
    let md = read(&out.join("cost.md"));
    assert!(md.contains("| 40 | 34 | 6 | 0 | $300.00 | $12,000.00 | $1,000.00 | 7 | $175.00 |"), "{md}");
    let over = config_from("[enterprise]\nlicences_purchased = 30\nprice_per_licence_per_year = \"300.00\"\n");
    let (model, _) = render(&acme.snapshot, &over);
    let l = model.cost.licences.as_ref().expect("licences");
    assert_eq!((l.unused, l.over_used), (0, 4));
}

/// The sign-in logs move money: without them wes.watcher, a viewer who never deploys, is a fourth
/// inactive seat; his weekly Heroku sign-ins take his $10.00 out of the saving (the leavers' and
/// the deprovisioned people's seats stay in it either way).
#[tokio::test(flavor = "multi_thread")]
async fn sign_in_logs_take_a_reading_viewer_out_of_the_saving() {
    let dir = tempfile::tempdir().expect("tempdir");
    let snapshot = kit::acme_copy(dir.path());
    let opts = hkaudit::analyze::AnalyzeOptions {
        snapshot: snapshot.clone(),
        idp: kit::acme_idp_files(),
        authorizations: kit::acme_authorization_files(),
        ..Default::default()
    };
    hkaudit::analyze::analyze_snapshot(&opts).expect("analyze without sign-in logs");
    let without = report::load_model(&snapshot, None, &Config::default()).expect("model").cost;
    hkaudit::analyze::analyze_snapshot(&hkaudit::analyze::AnalyzeOptions { signins: kit::acme_signin_files(), ..opts })
        .expect("analyze with them");
    let with = report::load_model(&snapshot, None, &Config::default()).expect("model").cost;
    assert_eq!((without.inactive_cents, without.saving_cents), (4_000, 9_000));
    assert_eq!((with.inactive_cents, with.saving_cents), (3_000, 8_000), "wes.watcher's seat is in use");
    assert_eq!(without.monthly_cents, with.monthly_cents, "the bill itself does not change");
}

#[tokio::test(flavor = "multi_thread")]
async fn markdown_and_csv_match_the_golden_files() {
    let acme = acme_analyzed().await;
    let (_, out) = render(&acme.snapshot, &Config::default());
    insta::assert_snapshot!("acme_cost_md", scrub(&read(&out.join("cost.md"))));
    insta::assert_snapshot!("acme_risk_md", scrub(&read(&out.join("risk.md"))));
    insta::assert_snapshot!("acme_certification_csv", scrub(&read(&out.join("certification.csv"))));
    insta::assert_snapshot!("acme_findings_csv", scrub(&read(&out.join("findings.csv"))));
}

/// The "People to act on" section of a Markdown or HTML report: from its heading to the next one.
fn people_section(text: &str, heading: &str, next: &str) -> String {
    let start = text.find(heading).unwrap_or_else(|| panic!("no {heading} in {text}"));
    let rest = &text[start..];
    let end = rest[heading.len()..].find(next).map_or(rest.len(), |i| i + heading.len());
    rest[..end].to_owned()
}

/// Everyone with a finding, the worst first, as acme's README documents the order; people.csv
/// and risk.md's section are golden, and index.html lists the same people in the same order at
/// the top of the page.
#[tokio::test(flavor = "multi_thread")]
async fn people_to_act_on_come_first_in_the_documented_order() {
    let acme = acme_analyzed().await;
    let (model, out) = render(&acme.snapshot, &Config::default());
    let order: Vec<String> = model.people.iter().map(|p| p.email.to_lowercase()).collect();
    let documented = documented_people_order();
    assert_eq!(order, documented, "the order fixtures/acme/README.md documents");
    let rita = model.people.iter().find(|p| p.email.starts_with("rita")).expect("rita");
    assert_eq!(rita.grants, vec!["team acme-data (member)", "team acme-platform (member)"]);
    assert_eq!((rita.seats_freed, rita.monthly.as_str()), (2, "$20.00"));
    let commands: Vec<&str> = rita.steps.iter().filter_map(|s| s.command.as_deref()).collect();
    assert_eq!(
        commands,
        vec![
            "heroku members:remove rita.removed@acme.example --team=acme-data",
            "heroku members:remove rita.removed@acme.example --team=acme-platform"
        ]
    );
    let dave = model.people.iter().find(|p| p.email.starts_with("dave")).expect("dave");
    assert_eq!(dave.tokens, vec!["OAuth authorization 1c3501e1-449d-508c-9bb6-952253d6e4bc"]);

    insta::assert_snapshot!("acme_people_csv", scrub(&read(&out.join("people.csv"))));
    let md = read(&out.join("risk.md"));
    insta::assert_snapshot!("acme_risk_md_people", people_section(&md, "## People to act on", "\n## "));
    let html = read(&out.join("index.html"));
    let section = people_section(&html, "<section id=\"people\"", "</section>");
    assert!(html.find("<section id=\"people\"") < html.find("<section id=\"completeness\">"), "people come first");
    let mut at = 0;
    for email in &documented {
        let i = section[at..].find(email.as_str()).unwrap_or_else(|| panic!("{email} not after position {at}"));
        at += i;
    }
    assert_eq!(section.matches("<tr class=\"person\"").count(), documented.len());
    assert!(section.contains("<code>heroku members:remove rita.removed@acme.example --team=acme-data</code>"));
}

/// The ranked list in fixtures/acme/README.md, "People to act on".
fn documented_people_order() -> Vec<String> {
    let readme = read(&Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/acme/README.md"));
    let begin = readme.find("<!-- people-order:begin -->").expect("people-order block");
    let end = readme.find("<!-- people-order:end -->").expect("people-order end");
    readme[begin..end]
        .lines()
        .filter_map(|l| l.split_once(". `").and_then(|(n, rest)| n.trim().parse::<usize>().ok().map(|_| rest)))
        .map(|rest| rest.split('`').next().unwrap_or_default().to_lowercase())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn index_html_is_complete_self_contained_and_escaped() {
    let acme = acme_analyzed().await;
    let (model, out) = render(&acme.snapshot, &Config::default());
    let html = read(&out.join("index.html"));
    for id in ["completeness", "cost", "risk", "certification", "rules"] {
        assert!(html.contains(&format!("<section id=\"{id}\"")), "section {id} missing");
    }
    for rule in &model.risk.rules {
        assert!(
            html.contains(&format!("id=\"rule-{}\"", rule.rule_id)),
            "rule {} has no description anchor",
            rule.rule_id
        );
    }
    // Every finding exactly once.
    let findings = hkaudit::analyze::read_findings(&acme.snapshot).expect("findings");
    assert_eq!(html.matches("<tr class=\"finding\"").count(), findings.findings.len());
    for f in &findings.findings {
        assert_eq!(html.matches(&format!("data-fingerprint=\"{}\"", f.fingerprint)).count(), 1, "{}", f.fingerprint);
    }
    // The fixture's hostile strings render as text.
    assert!(!html.to_lowercase().contains("<script"), "an unescaped <script reached the page");
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;"),
        "the planted <script> description should show, escaped"
    );
    // Nothing is loaded from anywhere: no scripts, stylesheets or images by URL.
    for needle in ["<link", " src=\"http", "url(http", "@import"] {
        assert!(!html.contains(needle), "external asset: {needle}");
    }
    assert!(html.contains("<svg"), "charts are inlined as SVG");
}

#[tokio::test(flavor = "multi_thread")]
async fn csv_cells_never_start_like_a_formula() {
    let acme = acme_analyzed().await;
    let (_, out) = render(&acme.snapshot, &Config::default());
    for file in ["certification.csv", "findings.csv"] {
        let mut reader = csv::Reader::from_path(out.join(file)).expect("csv");
        let mut cells = 0;
        for record in reader.records() {
            for cell in &record.expect("record") {
                cells += 1;
                assert!(!cell.starts_with(['=', '+', '-', '@', '\t', '\r']), "{file}: formula-like cell {cell:?}");
            }
        }
        assert!(cells > 100, "{file} is suspiciously small");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn certification_has_a_row_per_grant_with_a_recommendation() {
    let acme = acme_analyzed().await;
    let (model, out) = render(&acme.snapshot, &Config::default());
    let mut reader = csv::Reader::from_path(out.join("certification.csv")).expect("csv");
    let header: Vec<String> = reader.headers().expect("header").iter().map(str::to_owned).collect();
    assert_eq!(header, hkaudit::report::CertRow::HEADER.to_vec());
    // 45 team seats + 35 enterprise memberships + explicit app grants (quinn on acme-billing,
    // abby on acme-storefront) + personal-app collaborators (paul on olga-scratch and tara-notebook)
    // + 3 pending invitations (ian, erin, ivy).
    assert_eq!(model.certification.len(), 45 + 35 + 2 + 2 + 3);
    let ivy = model
        .certification
        .iter()
        .find(|r| r.grant_type == "team-invitation" && r.user_email.starts_with("ivy"))
        .expect("ivy's invitation");
    assert_eq!((ivy.recommended_decision.as_str(), ivy.flags.as_str()), ("Deny", "stale-invitation"));
    let row = |team: &str, email: &str| {
        model
            .certification
            .iter()
            .find(|r| r.team == team && r.user_email.eq_ignore_ascii_case(email) && r.grant_type == "team-membership")
            .expect("row")
            .clone()
    };
    let ivan = row("acme-platform", "ivan.idle@acme.example");
    assert_eq!(
        (ivan.recommended_decision.as_str(), ivan.flags.as_str(), ivan.monthly_cost.as_str()),
        ("Deny", "inactive-seat", "$10.00")
    );
    let sam = row("acme-platform", "sam.suspended@acme.example");
    assert_eq!((sam.recommended_decision.as_str(), sam.idp_status.as_str()), ("Deny", "suspended"));
    let ada = row("acme-platform", "ada.active@acme.example");
    assert_eq!(
        (ada.recommended_decision.as_str(), ada.idp_status.as_str(), ada.days_inactive.as_str()),
        ("Approve", "active", "10")
    );
    assert_eq!(ada.activity_basis, "window");
    // nina.new joined 30 days ago and has done nothing yet: measured from joining, not ">180".
    let nina = row("acme-data", "nina.new@acme.example");
    assert_eq!((nina.days_inactive.as_str(), nina.activity_basis.as_str()), ("30", "since_joined"));
    // ivan.idle joined long ago and did nothing in the window: no number to give.
    assert_eq!((ivan.days_inactive.as_str(), ivan.activity_basis.as_str()), ("", "none_in_window"));
    // abby.absent is active in Okta and Entra but absent from Google, which covers her domain.
    let abby = row("acme-web", "abby.absent@acme.example");
    assert_eq!(abby.idp_status, "absent");
    assert_eq!(row("acme-data", "mo.multi@acme.example").name, "Mo Müller");
    for r in &model.certification {
        assert!(r.days_inactive.is_empty() || r.days_inactive.parse::<u32>().is_ok(), "{r:?}");
    }
    for r in &model.certification {
        assert!(
            r.reviewer.is_empty() && r.decision.is_empty() && r.decision_date.is_empty() && r.justification.is_empty()
        );
        assert_eq!(r.review_period, "2026-Q4");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn outputs_are_private_and_hold_no_secret() {
    use std::os::unix::fs::PermissionsExt;
    let acme = acme_analyzed().await;
    let (_, out) = render(&acme.snapshot, &Config::default());
    let mut seen = 0;
    let mut stack = vec![acme.snapshot.clone()];
    while let Some(dir) = stack.pop() {
        assert_eq!(std::fs::metadata(&dir).expect("meta").permissions().mode() & 0o777, 0o700, "{}", dir.display());
        for entry in std::fs::read_dir(&dir).expect("dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            seen += 1;
            assert_eq!(
                std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777,
                0o600,
                "{}",
                path.display()
            );
            let bytes = std::fs::read(&path).expect("read");
            assert!(
                !String::from_utf8_lossy(&bytes).contains("PLANTED-SECRET"),
                "a planted secret leaked into {}",
                path.display()
            );
        }
    }
    assert!(seen > 20, "expected the snapshot, findings and report files, saw {seen}");
    assert!(out.join("summary.json").exists());
}

/// A program the browser tests need (Chromium, poppler's pdftotext): CI installs them
/// (`.ci/run`); elsewhere a test is skipped with a notice when one is absent, unless `CI` is set,
/// where its absence fails the test.
fn tool(names: &[&'static str], version: &str, package: &str) -> Option<&'static str> {
    let found = names
        .iter()
        .copied()
        .find(|b| std::process::Command::new(b).arg(version).output().is_ok_and(|o| o.status.success()));
    if found.is_none() {
        assert!(std::env::var_os("CI").is_none(), "CI must have {}: .ci/run installs Debian's `{package}`", names[0]);
        #[allow(clippy::print_stderr)]
        {
            eprintln!("SKIPPED: no {} on this machine (apt-get install {package} to run the check)", names[0]);
        }
    }
    found
}

fn chromium() -> Option<&'static str> {
    tool(&["chromium", "chromium-browser", "google-chrome"], "--version", "chromium")
}

/// Headless Chromium with a throwaway profile and nothing reaching the network.
fn headless(chromium: &str, profile: &Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(chromium);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ])
    .arg(format!("--user-data-dir={}", profile.display()));
    cmd
}

/// Headless Chromium opens the page and reports no console message (errors, CSP violations,
/// failed loads all show there).
#[tokio::test(flavor = "multi_thread")]
async fn index_html_renders_in_headless_chromium_without_console_messages() {
    let Some(chromium) = chromium() else { return };
    let acme = acme_analyzed().await;
    let (_, out) = render(&acme.snapshot, &Config::default());
    let profile = tempfile::tempdir().expect("profile");
    let page = format!("file://{}", out.join("index.html").display());
    let output = headless(chromium, profile.path())
        .args(["--enable-logging=stderr", "--v=0", "--dump-dom"])
        .arg(&page)
        .output()
        .expect("chromium runs");
    assert!(output.status.success(), "chromium failed: {}", String::from_utf8_lossy(&output.stderr));
    let dom = String::from_utf8_lossy(&output.stdout);
    for id in ["completeness", "cost", "risk", "certification", "rules"] {
        assert!(dom.contains(&format!("id=\"{id}\"")), "rendered page lacks section {id}");
    }
    let console: Vec<&str> =
        std::str::from_utf8(&output.stderr).unwrap_or("").lines().filter(|l| l.contains(":CONSOLE")).collect();
    assert!(console.is_empty(), "console messages: {console:#?}");
}

/// The `<th>` texts of the certification section of index.html, in order, once each.
fn certification_headers(html: &str) -> Vec<String> {
    let start = html.find("<section id=\"certification\"").expect("certification section");
    let section = &html[start..start + html[start..].find("</section>").expect("section end")];
    let mut headers: Vec<String> = Vec::new();
    for cell in section.split("<th").skip(1).filter(|c| c.starts_with(['>', ' '])) {
        let Some((_, rest)) = cell.split_once('>') else { continue };
        let text = rest.split("</th>").next().unwrap_or_default().replace("&amp;", "&").trim().to_owned();
        if !text.is_empty() && !headers.contains(&text) {
            headers.push(text);
        }
    }
    headers
}

/// Printed to PDF from Chromium (as a certifier would), the certification tables are on landscape
/// pages, and every one of those pages holds every column header (the header row repeats on each
/// page) and the last column's values: none of the columns is cut off.
#[tokio::test(flavor = "multi_thread")]
async fn index_html_prints_every_certification_column_on_landscape_pages() {
    let Some(chromium) = chromium() else { return };
    let Some(pdftotext) = tool(&["pdftotext"], "-v", "poppler-utils") else { return };
    let acme = acme_analyzed().await;
    let (model, out) = render(&acme.snapshot, &Config::default());
    let profile = tempfile::tempdir().expect("profile");
    let pdf = out.join("index.pdf");
    let output = headless(chromium, profile.path())
        .arg("--no-pdf-header-footer")
        .arg(format!("--print-to-pdf={}", pdf.display()))
        .arg(format!("file://{}", out.join("index.html").display()))
        .output()
        .expect("chromium runs");
    assert!(output.status.success() && pdf.exists(), "chromium failed: {}", String::from_utf8_lossy(&output.stderr));

    let info =
        std::process::Command::new("pdfinfo").args(["-f", "1", "-l", "9999"]).arg(&pdf).output().expect("pdfinfo");
    let info = String::from_utf8_lossy(&info.stdout);
    // "Page    3 size: 841.92 x 594.96 pts (A4)"
    let sizes: Vec<(f64, f64)> = info
        .lines()
        .filter(|l| l.starts_with("Page") && l.contains(" size: "))
        .filter_map(|l| {
            let mut w = l.split(" size: ").nth(1)?.split_whitespace();
            Some((w.next()?.parse().ok()?, w.nth(1)?.parse().ok()?))
        })
        .collect();
    assert!(sizes.len() > 3, "{info}");
    let page_text = |n: usize| {
        let out = std::process::Command::new(pdftotext)
            .args(["-f", &n.to_string(), "-l", &n.to_string()])
            .arg(&pdf)
            .arg("-")
            .output()
            .expect("pdftotext runs");
        String::from_utf8_lossy(&out.stdout).split_whitespace().collect::<Vec<_>>().join(" ")
    };
    let texts: Vec<String> = (1..=sizes.len()).map(page_text).collect();
    let first =
        texts.iter().position(|t| t.contains("Access certification")).expect("the certification section prints");
    let landscape: Vec<usize> = (0..sizes.len()).filter(|i| sizes[*i].0 > sizes[*i].1).collect();
    assert!(landscape.contains(&first), "the certification section starts on a landscape page: {sizes:?}");
    assert!(sizes.iter().any(|(w, h)| w < h), "the rest of the report stays portrait: {sizes:?}");

    let headers = certification_headers(&read(&out.join("index.html")));
    assert!(headers.len() >= 10, "{headers:?}");
    let last = headers.last().expect("a last column").clone();
    // A page holding certification rows: the sections after it (trends, rules) are portrait.
    let cert_pages: Vec<usize> = landscape.iter().copied().filter(|i| *i >= first).collect();
    for i in &cert_pages {
        for h in &headers {
            // A header may wrap onto two lines, and pdftotext may interleave those with others.
            for word in h.split_whitespace() {
                assert!(texts[*i].contains(word), "page {}: header `{h}` is cut off:\n{}", i + 1, texts[*i]);
            }
        }
    }
    let printed: String = cert_pages.iter().map(|i| texts[*i].as_str()).collect::<Vec<_>>().join(" ");
    let rows: Vec<&hkaudit::report::CertRow> =
        model.certification.iter().filter(|r| r.grant_type != hkaudit::snapshot::grants::NOT_READ).collect();
    assert!(rows.len() > 20, "acme has many grants");
    for decision in ["Approve", "Deny"] {
        let expected = rows.iter().filter(|r| r.recommended_decision == decision).count();
        assert!(expected > 0, "acme has {decision} rows");
        assert!(
            printed.matches(decision).count() >= expected,
            "the `{last}` column's {expected} {decision} values are on the pages"
        );
    }
    // And the reasons beside them: every row's, ignoring where the lines wrap.
    let squeezed: String = printed.chars().filter(|c| !c.is_whitespace()).collect();
    for r in &rows {
        let reason: String = r.recommendation_reason.chars().filter(|c| !c.is_whitespace()).take(20).collect();
        assert!(squeezed.contains(&reason), "{}'s reason `{reason}` is printed", r.user_email);
    }
}

/// At 1280 px, as a reader's browser shows it: no table is wider than its column, the page has
/// no horizontal scroll, and every chart text is at least 11 px tall as drawn. Measured in the
/// page by a script in a wrapper page (the report itself runs none), through an iframe.
#[tokio::test(flavor = "multi_thread")]
async fn at_1280_px_every_table_fits_and_chart_labels_are_at_least_11_px() {
    let Some(chromium) = chromium() else { return };
    let acme = acme_analyzed().await;
    let (_, out) = render(&acme.snapshot, &Config::default());
    let wrapper = out.join("measure.html");
    let script = r#"<!DOCTYPE html><html><body style="margin:0"><iframe id="f" src="index.html" style="width:1280px;height:900px;border:0"></iframe><pre id="out"></pre>
<script>
document.getElementById('f').onload = function () {
  const d = this.contentDocument, out = [];
  out.push('page ' + d.documentElement.scrollWidth + ' ' + d.documentElement.clientWidth);
  d.querySelectorAll('table').forEach(function (t, i) {
    out.push('table ' + i + ' ' + Math.round(t.getBoundingClientRect().right) + ' ' + Math.round(t.parentElement.getBoundingClientRect().right));
  });
  d.querySelectorAll('figure.chart svg').forEach(function (svg) {
    const scale = svg.getBoundingClientRect().width / svg.width.baseVal.value;
    svg.querySelectorAll('text').forEach(function (t) {
      out.push('text ' + (parseFloat(getComputedStyle(t).fontSize) * scale).toFixed(2) + ' ' + t.textContent.trim());
    });
  });
  document.getElementById('out').textContent = out.join('\n');
};
</script></body></html>"#;
    std::fs::write(&wrapper, script).expect("write wrapper");
    let profile = tempfile::tempdir().expect("profile");
    let output = headless(chromium, profile.path())
        .args(["--allow-file-access-from-files", "--virtual-time-budget=5000", "--window-size=1280,900", "--dump-dom"])
        .arg(format!("file://{}", wrapper.display()))
        .output()
        .expect("chromium runs");
    let dom = String::from_utf8_lossy(&output.stdout);
    // The script's own text is in the dump too: read only what it wrote.
    let written = dom.split("<pre id=\"out\">").nth(1).and_then(|r| r.split("</pre>").next()).unwrap_or_default();
    let lines: Vec<&str> = written.lines().collect();
    let page = lines.iter().find_map(|l| l.strip_prefix("page ")).expect("the page was measured");
    let (scroll, client) = page.split_once(' ').expect("two widths");
    assert_eq!(scroll.trim(), client.trim(), "no horizontal scroll at 1280 px");
    let tables: Vec<&&str> = lines.iter().filter(|l| l.starts_with("table ")).collect();
    assert!(tables.len() > 10, "{dom}");
    for t in tables {
        let w: Vec<i64> = t.split_whitespace().skip(2).filter_map(|x| x.parse().ok()).collect();
        assert!(w[0] <= w[1], "{t}: the table's right edge is past its column's");
    }
    let texts: Vec<(f64, &str)> = lines
        .iter()
        .filter_map(|l| l.strip_prefix("text "))
        .filter_map(|l| {
            let (px, label) = l.split_once(' ').unwrap_or((l, ""));
            Some((px.parse().ok()?, label))
        })
        .collect();
    assert!(texts.len() > 30, "chart texts measured: {dom}");
    for (px, label) in texts {
        assert!(px >= 11.0, "chart text `{label}` shows at {px} px");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_chart_is_a_decodable_png_and_a_well_formed_svg() {
    let acme = acme_analyzed().await;
    let (_, out) = render(&acme.snapshot, &Config::default());
    let names = ["seat-spend", "active-vs-inactive", "findings-by-rule", "days-since-activity"];
    for name in names {
        let png = std::fs::File::open(out.join(format!("charts/{name}.png"))).expect("png");
        let mut reader = png::Decoder::new(std::io::BufReader::new(png)).read_info().expect("decodes");
        let (width, height) = (reader.info().width, reader.info().height);
        let mut pixels = vec![0; reader.output_buffer_size()];
        reader.next_frame(&mut pixels).expect("frame");
        assert_eq!(width, 900, "{name}");
        assert!(height >= 420, "{name}: {height}");
        assert!(pixels.iter().any(|b| *b < 128), "{name}: the image is blank");

        let svg = read(&out.join(format!("charts/{name}.svg")));
        let mut xml = quick_xml::Reader::from_str(&svg);
        let mut elements = 0;
        loop {
            match xml.read_event() {
                Ok(quick_xml::events::Event::Eof) => break,
                Ok(quick_xml::events::Event::Start(_) | quick_xml::events::Event::Empty(_)) => elements += 1,
                Ok(_) => {}
                Err(e) => panic!("{name}.svg is not well-formed XML at {}: {e}", xml.buffer_position()),
            }
        }
        assert!(elements > 10, "{name}.svg has only {elements} elements");
        assert!(svg.contains(&format!("width=\"{width}\"")), "{name}: SVG and PNG sizes differ");
    }
    // The acme team names label the per-team charts.
    assert!(read(&out.join("charts/seat-spend.svg")).contains("acme-platform"));
}

// ---------------------------------------------------------------------------------------------
// Unread is unknown everywhere a reader looks.

use crate::snapshots_kit as kit;

/// acme extracted with `team` answering 403, analyzed with every input, rendered in every format.
fn acme_with_forbidden(team: &str) -> (tempfile::TempDir, PathBuf, report::ReportModel, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let snapshot = kit::extract_acme(dir.path(), &[team]);
    let opts = hkaudit::analyze::AnalyzeOptions {
        snapshot: snapshot.clone(),
        idp: kit::acme_idp_files(),
        authorizations: kit::acme_authorization_files(),
        signins: kit::acme_signin_files(),
        ..Default::default()
    };
    hkaudit::analyze::analyze_snapshot(&opts).expect("analyze");
    let (model, out) = render(&snapshot, &Config::default());
    (dir, snapshot, model, out)
}

fn team_id_of(snapshot: &Path, team: &str) -> String {
    let s = hkaudit::snapshot::Snapshot::open(snapshot).expect("open");
    s.manifest()
        .gaps
        .iter()
        .find(|g| g.team_name.as_deref() == Some(team))
        .and_then(|g| g.team_id.clone())
        .expect("gap")
}

/// Acme's cost without acme-payments (7 seats, $70.00): 13 + 9 + 9 + 5 (labs' minimum) = 36
/// billed seats, $360.00 a month (abby.absent's collaborator role in acme-web is no seat). Inactive seats are acme-platform's, $20.00.
#[test]
fn an_unread_team_costs_not_read_and_is_left_out_of_every_total() {
    let (_dir, snapshot, model, out) = acme_with_forbidden("acme-payments");
    let c = &model.cost;
    let payments = c.teams.iter().find(|t| t.team == "acme-payments").expect("the team is still listed");
    let why = payments.not_read.as_deref().expect("marked not read");
    assert!(why.starts_with("team acme-payments not read: "), "{why}");
    assert_eq!((payments.seats, payments.monthly_cents, payments.inactive_cents), (0, 0, 0), "no count from it");
    assert_eq!((c.seats, c.billed_seats, c.monthly.as_str(), c.inactive.as_str()), (35, 36, "$360.00", "$20.00"));
    assert_eq!(c.excluded, vec!["acme-payments".to_owned()]);
    assert_eq!(c.excluded_note, "excluding acme-payments (not read)");

    let md = read(&out.join("cost.md"));
    let row = md.lines().find(|l| l.starts_with("| acme-payments |")).expect("the team's row");
    assert_eq!(row.matches("not read").count(), 12, "every count and amount is `not read`: {row}");
    assert!(!row.contains('$') && !row.contains("| 0 |"), "{row}");
    let total = md.lines().find(|l| l.starts_with("| **total**")).expect("total row");
    assert!(
        total.starts_with("| **total** (excluding acme-payments (not read)) |") && total.contains("$360.00"),
        "{total}"
    );
    assert!(md.contains("| Spend (excluding acme-payments (not read)) | $360.00 |"), "{md}");
    // The reason names the team first; its id comes only after.
    let id = team_id_of(&snapshot, "acme-payments");
    let line = md.lines().find(|l| l.starts_with("- team acme-payments not read:")).expect("the reason");
    assert!(line.find("acme-payments") < line.find(&id), "{line}");

    let html = read(&out.join("index.html"));
    assert!(html.contains("<td colspan=\"12\" title=\"team acme-payments not read:"), "the HTML row says not read");
    assert!(html.contains("total (excluding acme-payments (not read))"));

    let summary: serde_json::Value = serde_json::from_str(&read(&out.join("summary.json"))).expect("json");
    let teams = summary["cost"]["teams"].as_array().expect("teams");
    let p = teams.iter().find(|t| t["team"] == "acme-payments").expect("team");
    assert!(p["seats"].is_null() && p["monthly_cents"].is_null() && p["not_read"].is_string(), "{p}");
    assert_eq!(summary["cost"]["monthly_cents"], 36_000);
    assert_eq!(summary["cost"]["excluded"], serde_json::json!(["acme-payments"]));
}

#[test]
fn an_unread_team_has_no_certification_rows_and_the_worksheet_says_it_is_missing() {
    let (dir, snapshot, model, out) = acme_with_forbidden("acme-payments");
    let clean = report::load_model(
        &{
            let copy = kit::acme_copy(dir.path());
            let opts = hkaudit::analyze::AnalyzeOptions {
                snapshot: copy.clone(),
                idp: kit::acme_idp_files(),
                authorizations: kit::acme_authorization_files(),
                signins: kit::acme_signin_files(),
                ..Default::default()
            };
            hkaudit::analyze::analyze_snapshot(&opts).expect("analyze");
            copy
        },
        None,
        &Config::default(),
    )
    .expect("clean model");
    let key = |r: &hkaudit::report::CertRow| {
        format!("{} {} {} {} {} {}", r.grant_type, r.enterprise_account, r.team, r.app, r.user_email, r.role)
    };
    let payments_apps = ["acme-payments-api", "acme-payments-staging", "acme-billing", "acme-ledger"];
    let in_payments =
        |r: &hkaudit::report::CertRow| r.team == "acme-payments" || payments_apps.contains(&r.app.as_str());
    // Every other grant is there, exactly as in a clean run; none of acme-payments' is.
    let rows: Vec<String> = model.certification.iter().filter(|r| r.grant_type != "not-read").map(key).collect();
    let expected: Vec<String> = clean.certification.iter().filter(|r| !in_payments(r)).map(key).collect();
    assert_eq!(rows, expected);
    // One row says the team is missing, and why, by name.
    let markers: Vec<&hkaudit::report::CertRow> =
        model.certification.iter().filter(|r| r.grant_type == "not-read").collect();
    assert_eq!(markers.len(), 1, "{markers:?}");
    // acme-payments' people are all enterprise members too: still 43 people, and the marker row is nobody.
    assert_eq!(model.scope.people, 43);
    let m = markers[0];
    assert_eq!((m.team.as_str(), m.enterprise_account.as_str(), m.user_email.as_str()), ("acme-payments", "acme", ""));
    assert!(m.recommendation_reason.starts_with("team acme-payments not read: "), "{}", m.recommendation_reason);
    assert!(m.recommendation_reason.contains("no grant here can be certified from this snapshot"));
    let csv = read(&out.join("certification.csv"));
    assert_eq!(csv.lines().filter(|l| l.contains(",acme-payments,")).count(), 1, "only the marker row");
    let html = read(&out.join("index.html"));
    assert!(html.contains("Not in the worksheet"), "the HTML certification view names what is missing");

    // The worksheet still reads: the marker row is no grant and takes no decision.
    let rows = hkaudit::history::read_worksheet(&out.join("certification.csv")).expect("worksheet reads");
    assert_eq!(rows.len(), model.certification.len() - 1);
    let marker_line = csv.lines().position(|l| l.contains(",not-read,")).expect("marker") + 1;
    let mut lines: Vec<String> = csv.lines().map(str::to_owned).collect();
    // reviewer, decision, decision_date, justification: empty, Deny, empty, empty.
    let cells = lines[marker_line - 1].strip_suffix(",,,,").expect("four empty review cells").to_owned();
    lines[marker_line - 1] = format!("{cells},,Deny,,");
    let filled = dir.path().join("filled.csv");
    std::fs::write(&filled, lines.join("\r\n") + "\r\n").expect("write");
    let err =
        hkaudit::history::read_worksheet(&filled).expect_err("a decision on the marker row is refused").to_string();
    assert!(err.contains(&format!("filled.csv:{marker_line}:")) && err.contains("not read"), "{err}");
    let _ = snapshot;
}

#[test]
fn risk_report_names_unread_scopes_and_what_each_rule_could_not_judge() {
    let (_dir, snapshot, model, out) = acme_with_forbidden("acme-payments");
    let id = team_id_of(&snapshot, "acme-payments");
    let md = read(&out.join("risk.md"));
    let gap_rows: Vec<&str> =
        md.lines().filter(|l| l.starts_with("| team acme-payments | GET /teams/{team}/")).collect();
    assert_eq!(gap_rows.len(), 5, "{md}");
    for row in &gap_rows {
        assert!(row.ends_with(&format!("| team id {id} |")), "the id comes last, as a detail: {row}");
    }
    // No line of the report shows the id without the team's name before it.
    for line in md.lines().filter(|l| l.contains(&id)) {
        assert!(line.find("acme-payments") < line.find(&id), "{line}");
    }
    for r in &model.risk.rules_not_ok {
        assert_eq!(r.not_judged, vec!["team acme-payments".to_owned()], "{}", r.rule_id);
        assert!(md.contains(&format!("| {} | partial | team acme-payments |", r.rule_id)), "{}", r.rule_id);
    }
    let html = read(&out.join("index.html"));
    assert!(
        html.contains("<td>team acme-payments</td><td><code>GET &#x2f;teams&#x2f;{team}&#x2f;members</code></td>"),
        "HTML gaps by name"
    );
}

#[test]
fn unknown_two_factor_is_a_line_in_the_completeness_section() {
    let null = serde_json::json!({"two_factor_authentication": null});
    let k = kit::Kit::new()
        .team("web", true)
        .member_with("web", "alice@acme.example", "admin", null.clone())
        .member("web", "bob@acme.example", "admin")
        .member_with("web", "carl@acme.example", "member", null.clone())
        .team("data", true)
        .member_with("data", "dana@acme.example", "viewer", null)
        .member("data", "erik@acme.example", "admin");
    let dir = tempfile::tempdir().expect("tempdir");
    let snapshot = k.write_to(dir.path());
    let opts = hkaudit::analyze::AnalyzeOptions { snapshot: snapshot.clone(), ..Default::default() };
    hkaudit::analyze::analyze_snapshot(&opts).expect("analyze");
    let (model, out) = render(&snapshot, &Config::default());
    assert_eq!(
        model.risk.unknown,
        vec!["2FA unknown for 3 members of teams data, web (not judged by admin-without-2fa, member-without-2fa)"
            .to_owned()]
    );
    let md = read(&out.join("risk.md"));
    assert!(md.contains("> **INCOMPLETE**"), "unknown values make the report incomplete");
    let section = &md[md.find("## Unknown values").expect("section")..md.find("## Scope").expect("scope")];
    assert!(
        section.contains(
            "- 2FA unknown for 3 members of teams data, web (not judged by admin-without-2fa, member-without-2fa)"
        ),
        "{section}"
    );
    assert!(md.contains("| admin-without-2fa | partial | 2FA unknown for 1 member of team web |"), "{md}");
    let html = read(&out.join("index.html"));
    assert!(html.contains("<li>2FA unknown for 3 members of teams data, web"), "HTML too");
    // The worksheet says unknown rather than leaving the cell blank.
    let alice = model.certification.iter().find(|r| r.user_email == "alice@acme.example").expect("row");
    assert_eq!(alice.two_factor, "unknown");
}

// ---------------------------------------------------------------------------------------------
// Hostile names: every text output escapes for its own format.

const EVIL_TEAM: &str = "evil</title><img src=x onerror=alert(1)>";
const BROKEN_TEAM: &str = "two\nlines | and a cell";
const RTL_TEAM: &str = "rtl\u{202E}gnp.exe\u{2066}x\u{2069}";
const EVIL_APP: &str = "app`code`*em*_u_~~s~~[link](http://evil.example)![img](x)";
const EVIL_EMAIL: &str = "<script>alert(1)</script>@acme.example";

/// An organisation whose every name is hostile, with a finding of most rules on it. `old` lacks
/// one member of the evil team, so a diff has a joiner.
fn hostile_kit(id: &str, old: bool) -> kit::Kit {
    let off = serde_json::json!({"two_factor_authentication": false});
    let mut k = kit::Kit::new()
        .team(EVIL_TEAM, true)
        .member_with(EVIL_TEAM, EVIL_EMAIL, "admin", off)
        .member(EVIL_TEAM, "admin2@acme.example", "admin")
        .team(BROKEN_TEAM, true)
        .member(BROKEN_TEAM, "solo|admin@acme.example", "admin")
        .member(BROKEN_TEAM, "idle#1@acme.example", "member")
        .team(RTL_TEAM, false)
        .member(RTL_TEAM, "rtl\u{202E}moc.elpmaxe@acme.example", "admin")
        .member(RTL_TEAM, "rtl-admin@acme.example", "admin")
        .invitation(RTL_TEAM, "[x](http://evil.example)@acme.example", &kit::days_ago(40))
        .ea_member(EVIL_EMAIL, &["view", "manage"])
        .ea_member("admin2@acme.example", &["view"])
        .row("apps", serde_json::json!({"id": "app-evil", "name": EVIL_APP, "personal": true, "owner_email": "owner@acme.example", "locked": false, "activity_scanned": true}))
        .row("app_permissions", serde_json::json!({"app_id": "app-evil", "app_name": EVIL_APP, "email": "pal@acme.example", "permissions": [], "sources": ["personal-collaborator"]}))
        .activity(EVIL_EMAIL, &kit::days_ago(1))
        .activity("admin2@acme.example", &kit::days_ago(1))
        .activity("solo|admin@acme.example", &kit::days_ago(1))
        .activity("rtl-admin@acme.example", &kit::days_ago(1));
    if !old {
        k = k
            .member(EVIL_TEAM, "new\u{202D}joiner@acme.example", "member")
            .activity("new\u{202D}joiner@acme.example", &kit::days_ago(1));
    }
    k.snapshot_id = id.to_owned();
    k
}

/// Write the kit into `dir`, analyze it in place and render every format.
fn hostile_snapshot(dir: &Path, id: &str, old: bool) -> (PathBuf, PathBuf) {
    let snapshot = hostile_kit(id, old).write_to(dir);
    let opts = hkaudit::analyze::AnalyzeOptions { snapshot: snapshot.clone(), ..Default::default() };
    hkaudit::analyze::analyze_snapshot(&opts).expect("analyze");
    let (_, out) = render(&snapshot, &Config::default());
    (snapshot, out)
}

fn is_bidi(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Pipes that end a table cell: those not escaped with a backslash.
fn cell_pipes(line: &str) -> usize {
    let mut n = 0;
    let mut escaped = false;
    for c in line.chars() {
        match c {
            '\\' if !escaped => escaped = true,
            '|' if !escaped => n += 1,
            _ => escaped = false,
        }
        if c != '\\' {
            escaped = false;
        }
    }
    n
}

/// What a Markdown viewer would act on must not come from a value: no raw HTML from the names,
/// no bidi control, no link or image syntax, and no value that ends a table row or starts a line.
fn assert_markdown_is_inert(name: &str, md: &str) {
    for raw in ["<img", "</title", "<script", "<b>", "[link](", "[x](", "![img]"] {
        assert!(!md.contains(raw), "{name}: {raw:?} reached the file unescaped:\n{md}");
    }
    assert!(!md.chars().any(is_bidi), "{name}: a bidirectional control reached the file");
    assert!(!md.lines().any(|l| l.starts_with("lines")), "{name}: a newline in a name started a line");
    // Every table keeps one cell count from its header to its last row.
    let mut table: Vec<&str> = Vec::new();
    for line in md.lines().chain(std::iter::once("")) {
        if line.starts_with('|') {
            table.push(line);
            continue;
        }
        if let Some(header) = table.first() {
            let n = cell_pipes(header);
            for row in &table {
                assert_eq!(
                    cell_pipes(row),
                    n,
                    "{name}: a row with another cell count than its header:\n{header}\n{row}"
                );
            }
        }
        table.clear();
    }
}

/// The temporary folder is the only thing that differs between runs.
fn scrub_dir(text: &str, dir: &Path) -> String {
    text.replace(&dir.display().to_string(), "DIR")
}

#[test]
fn hostile_names_are_inert_in_cost_and_risk_markdown() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_, out) = hostile_snapshot(dir.path(), "new", false);
    let cost = read(&out.join("cost.md"));
    let risk = read(&out.join("risk.md"));
    assert_markdown_is_inert("cost.md", &cost);
    assert_markdown_is_inert("risk.md", &risk);
    // The names are shown, escaped, not dropped.
    assert!(cost.contains("evil&lt;/title&gt;&lt;img src=x onerror=alert(1)&gt;"), "{cost}");
    assert!(cost.contains("two lines \\| and a cell"), "{cost}");
    assert!(
        risk.contains("app\\`code\\`\\*em\\*\\_u\\_\\~\\~s\\~\\~\\[link\\](http://evil.example)\\!\\[img\\](x)"),
        "{risk}"
    );
    insta::assert_snapshot!("hostile_cost_md", cost);
    insta::assert_snapshot!("hostile_risk_md", risk);
}

#[test]
fn hostile_names_are_inert_in_diff_and_closure_markdown() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (old, old_out) = hostile_snapshot(dir.path(), "old", true);
    let (new, _) = hostile_snapshot(dir.path(), "new", false);
    let d = hkaudit::history::diff(&old, &new, &Config::default()).expect("diff");
    assert_eq!(d.joiners.len(), 1, "{:?}", d.joiners);
    let diff = hkaudit::history::diff_markdown(&d).expect("diff.md");
    assert_markdown_is_inert("diff.md", &diff);
    insta::assert_snapshot!("hostile_diff_md", diff);

    // A reviewer denies the evil team's hostile admin (still there) and approves the rest.
    let mut reader = csv::Reader::from_path(old_out.join("certification.csv")).expect("csv");
    let header = reader.headers().expect("header").clone();
    let at = |name: &str| header.iter().position(|h| h == name).expect("column");
    let mut writer = csv::Writer::from_path(dir.path().join("filled.csv")).expect("write");
    writer.write_record(&header).expect("header");
    for record in reader.records() {
        let mut row: Vec<String> = record.expect("row").iter().map(str::to_owned).collect();
        if row[at("grant_type")] != "not-read" {
            let deny = row[at("user_email")] == EVIL_EMAIL && row[at("grant_type")] == "team-membership";
            row[at("reviewer")] = "Carol".into();
            row[at("decision")] = if deny { "Deny" } else { "Approve" }.into();
            row[at("decision_date")] = "2026-11-21".into();
            if deny {
                row[at("justification")] = "left; see <b>ticket</b> | #12\nsecond line".into();
            }
        }
        writer.write_record(&row).expect("row");
    }
    writer.flush().expect("flush");
    let worksheet = dir.path().join("filled.csv");
    let closure = hkaudit::history::certify(&worksheet, &new, Some(&old)).expect("certify");
    assert!(closure.has_open_denials());
    let md = hkaudit::history::closure_markdown(&closure).expect("closure.md");
    assert_markdown_is_inert("closure.md", &md);
    assert!(md.contains("left; see &lt;b&gt;ticket&lt;/b&gt; \\| \\#12 second line"), "{md}");
    insta::assert_snapshot!("hostile_closure_md", scrub_dir(&md, dir.path()));
}

#[test]
fn hostile_names_are_inert_in_html() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_, out) = hostile_snapshot(dir.path(), "new", false);
    let html = read(&out.join("index.html"));
    assert!(!html.chars().any(is_bidi), "a bidirectional control reached index.html");
    assert!(html.contains("rtl\u{FFFD}gnp.exe\u{FFFD}x\u{FFFD}"), "the name shows, its controls neutralised");
    assert!(!html.contains("<img") && !html.to_lowercase().contains("<script") && !html.contains("</title><img"));
    assert!(html.contains("evil&lt;&#x2f;title&gt;&lt;img src=x onerror=alert(1)&gt;"));
    // The worksheet keeps names exactly (certify matches grants by them); only the views neutralise.
    assert!(read(&out.join("certification.csv")).contains(RTL_TEAM));
}

/// The binary edge prints an error once, with every cause: a broken manifest.json is told with
/// the JSON parser's own words, which the library keeps as the error's source, not as a copy.
#[test]
fn an_error_is_printed_once_with_its_cause() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("manifest.json"), "{\"format_version\": 1,").expect("write");
    let out =
        std::process::Command::new(env!("CARGO_BIN_EXE_hkaudit")).arg("report").arg(dir.path()).output().expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let manifest = std::fs::canonicalize(dir.path()).expect("canonical").join("manifest.json");
    assert_eq!(
        stderr.trim_end(),
        format!(
            "hkaudit: error: {}: manifest.json is not valid: EOF while parsing a value at line 1 column 21",
            manifest.display()
        )
    );
}
