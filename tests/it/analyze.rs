//! The analysis, proven: acme's findings are exactly the planted ones, every rule fires for its
//! positive cases and only those, every rule file is complete and runs, an incomplete snapshot
//! never turns "not read" into a finding, and bad inputs stop the run with one clear error.
use crate::snapshots_kit::*;

#[test]
fn acme_findings_are_exactly_the_planted_situations() {
    let set = acme_findings();
    let expected = readme_expected();
    assert_eq!(expected.len(), 22, "the README lists 22 findings");
    assert_eq!(all_lines(&set), expected);
}

/// acme analysed with every input, findings written to a fresh folder.
fn acme_findings() -> hkaudit::analyze::FindingSet {
    let dir = tempfile::tempdir().expect("tempdir");
    let opts = hkaudit::analyze::AnalyzeOptions {
        snapshot: acme_snapshot().to_owned(),
        idp: acme_idp_files(),
        authorizations: acme_authorization_files(),
        signins: acme_signin_files(),
        out: Some(dir.path().to_owned()),
        ..Default::default()
    };
    hkaudit::analyze::analyze_snapshot(&opts).expect("acme analyses").findings
}

/// One block per finding: severity, rule and subject, the message, then the evidence.
fn readable(set: &hkaudit::analyze::FindingSet) -> String {
    let mut out = format!("snapshot {} complete={} findings={}\n", set.snapshot_id, set.complete, set.findings.len());
    for f in &set.findings {
        out.push_str(&format!("\n{:<8} {}\n         {}\n", f.severity.as_str(), readme_line(f), f.message));
        out.push_str(&format!("         confidence: {:?}\n", f.confidence));
        if let Some(cents) = f.monthly_cost_cents {
            out.push_str(&format!("         cost/month: {}\n", hkaudit::analyze::money(cents)));
        }
        for (k, v) in &f.evidence {
            out.push_str(&format!("         {k}: {v}\n"));
        }
    }
    out
}

#[test]
fn acme_findings_read_well_in_review() {
    let set = acme_findings();
    assert!(set.complete, "acme is read completely: {:?}", set.rules);
    assert!(set.rules.iter().all(|r| r.status == hkaudit::analyze::RuleStatus::Ok), "{:?}", set.rules);
    insta::assert_snapshot!("acme_findings", readable(&set));
}

// ---------------------------------------------------------------------------------------------
// One test per rule: small snapshots, positive and negative rows side by side.

use hkaudit::analyze::{FindingSet, RuleStatus, Severity};
use serde_json::json;

/// Each rule and the test that shows it firing for its positive rows and only those. The meta
/// check below compares this list with `queries/*.sql`, so a new rule without a test fails.
const RULE_TESTS: &[(&str, &str)] = &[
    ("admin-without-2fa", "two_factor_rules_split_admins_from_everyone_else"),
    ("enterprise-admin-not-team-admin", "enterprise_manager_fires_unless_admin_of_one_of_its_teams"),
    ("enterprise-removal-not-cascaded", "enterprise_removal_fires_with_and_without_the_destroy_event"),
    ("external-member", "external_member_uses_org_domains_case_insensitively"),
    ("idp-deprovisioned-member", "idp_okta_statuses_map_to_deprovisioned_or_not"),
    ("inactive-seat", "inactive_seat_fires_after_more_than_90_days_and_not_at_90"),
    ("member-without-2fa", "two_factor_rules_split_admins_from_everyone_else"),
    ("no-admin-team", "team_admin_counts_single_and_none"),
    ("orphaned-authorization", "orphaned_authorization_live_expired_and_renewable"),
    ("personal-app-collaborator", "personal_app_collaborator_not_owner_nor_team_app"),
    ("single-admin-team", "team_admin_counts_single_and_none"),
    ("sso-bypass", "sso_bypass_in_teams_with_an_identity_provider_only"),
    ("stale-invitation", "stale_invitation_after_more_than_14_days"),
];

const A: &str = "acme.example";

fn e(local: &str) -> String {
    format!("{local}@{A}")
}

fn run(kit: &Kit) -> FindingSet {
    kit.analyze(&Extra::none())
}

fn lines(rule: &str, subjects: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = subjects.iter().map(|s| format!("{rule} {s}")).collect();
    v.sort();
    v
}

#[test]
fn inactive_seat_fires_after_more_than_90_days_and_not_at_90() {
    let kit = Kit::new()
        .team("web", true)
        .member("web", &e("d89"), "member")
        .activity(&e("d89"), &days_ago(89))
        .member("web", &e("d90"), "member")
        .activity(&e("d90"), &days_ago(90))
        .member("web", &e("d91"), "member")
        .activity(&e("d91"), &days_ago(91))
        // Joined recently, no activity at all: not inactive yet.
        .member_with("web", &e("new30"), "member", json!({"created_at": days_ago(30)}))
        .member_with("web", &e("joined90"), "member", json!({"created_at": days_ago(90)}))
        .member_with("web", &e("joined91"), "member", json!({"created_at": days_ago(91)}))
        // Joined long ago, nothing in the whole window.
        .member("web", &e("never"), "member")
        // Letter case differs between the member list and the activity: still the same person.
        .member("web", "Bea.Case@Acme.Example", "member")
        .activity("BEA.CASE@acme.example", &days_ago(10))
        // A viewer is a paid seat; a collaborator is not.
        .member("web", &e("viewer"), "viewer")
        .member("web", &e("collab"), "collaborator")
        .member("web", &e("admin"), "admin")
        .activity(&e("admin"), &days_ago(1));
    let set = run(&kit);
    assert_eq!(status_of(&set, "inactive-seat"), RuleStatus::Ok);
    assert_eq!(
        lines_of(&set, "inactive-seat"),
        lines(
            "inactive-seat",
            &["web/d91@acme.example", "web/joined91@acme.example", "web/never@acme.example", "web/viewer@acme.example"]
        )
    );
    let d91 = finding(&set, "inactive-seat", "web/d91@acme.example");
    assert_eq!(d91.evidence["days_inactive"], "91");
    assert_eq!(d91.monthly_cost_cents, Some(1_000), "a seat costs the default $10");
    assert!(d91.message.contains("more than 90 days"), "{}", d91.message);
    let never = finding(&set, "inactive-seat", "web/never@acme.example");
    assert!(never.message.contains("whole activity window"), "{}", never.message);
    assert!(!never.evidence.contains_key("last_activity"));
}

#[test]
fn inactive_seat_is_skipped_when_the_window_is_shorter_than_inactive_days() {
    let mut kit = Kit::new().team("web", true).member("web", &e("never"), "member");
    kit.window_days = 60;
    let set = run(&kit);
    let result = set.rules.iter().find(|r| r.rule_id == "inactive-seat").expect("rule");
    assert_eq!(result.status, RuleStatus::Skipped);
    assert!(result.skipped[0].reason.contains("--activity-days 90"), "{:?}", result.skipped);
    assert!(lines_of(&set, "inactive-seat").is_empty());
    assert!(!set.complete, "a skipped rule makes the findings a lower bound");
}

/// An Okta System Log (`/api/v1/logs` JSON) that starts `span_days` before the snapshot and ends
/// two hours before it (session starts at both ends), with `(email, days ago, app, result)`
/// `user.authentication.sso` events between.
fn okta_log(span_days: i64, events: &[(&str, i64, &str, &str)]) -> String {
    let session = |at: String| {
        json!({"eventType": "user.session.start", "published": at, "actor": {"alternateId": "someone@acme.example"},
               "outcome": {"result": "SUCCESS"}, "uuid": format!("s-{at}")})
    };
    let mut items = vec![session(days_ago(span_days))];
    for (i, (email, days, app, result)) in events.iter().enumerate() {
        items.push(json!({
            "eventType": "user.authentication.sso", "published": days_ago(*days), "uuid": format!("e-{i}"),
            "actor": {"alternateId": email}, "outcome": {"result": result},
            "target": [{"type": "AppInstance", "displayName": app}, {"type": "AppUser", "alternateId": email}],
        }));
    }
    items.push(session((as_of() - chrono::Duration::hours(2)).to_rfc3339()));
    serde_json::to_string_pretty(&items).expect("json")
}

fn federated() -> serde_json::Value {
    json!({"federated": true})
}

/// The sign-in-log cases of `inactive-seat` side by side: a viewer who signs in weekly is no
/// longer inactive; a federated member the covering log knows, with no sign-in, is condemned with
/// high confidence; an old sign-in is named as the last signal; someone who does not sign in
/// through SSO stays medium whatever the log says.
#[test]
fn inactive_seat_reads_heroku_sign_ins_and_is_sure_only_where_a_log_covers_the_member() {
    let kit = Kit::new()
        .team("pay", true)
        .member_with("pay", &e("reader"), "viewer", federated())
        .member_with("pay", &e("idle"), "member", federated())
        .member_with("pay", &e("old"), "member", federated())
        .member("pay", &e("password"), "member");
    let weekly: Vec<(String, i64)> = (0..14).map(|w| (e("reader"), 3 + 7 * w)).collect();
    let mut events: Vec<(&str, i64, &str, &str)> =
        weekly.iter().map(|(who, days)| (who.as_str(), *days, "Heroku", "SUCCESS")).collect();
    let (idle, old, password) = (e("idle"), e("old"), e("password"));
    events.push((&idle, 10, "Heroku", "FAILURE"));
    events.push((&old, 120, "Heroku", "SUCCESS"));
    events.push((&password, 5, "Heroku", "FAILURE"));
    let set = kit.analyze(&Extra::none().signins("okta-logs.json", &okta_log(150, &events)));
    assert_eq!(
        lines_of(&set, "inactive-seat"),
        lines("inactive-seat", &["pay/idle@acme.example", "pay/old@acme.example", "pay/password@acme.example"]),
        "the weekly reader is not inactive"
    );
    let idle = finding(&set, "inactive-seat", "pay/idle@acme.example");
    assert_eq!(idle.confidence, hkaudit::analyze::Confidence::High, "{}", idle.message);
    assert!(idle.message.contains("the okta sign-in log covers the whole period"), "{}", idle.message);
    assert!(!idle.evidence.contains_key("last_signal"), "a failed sign-in is no signal: {:?}", idle.evidence);
    let old = finding(&set, "inactive-seat", "pay/old@acme.example");
    assert_eq!(old.confidence, hkaudit::analyze::Confidence::High);
    assert_eq!(old.evidence["last_signal"], format!("sso sign-in via okta {}", &days_ago(120)[..19]) + "Z");
    assert_eq!(old.evidence["days_inactive"], "120");
    let password = finding(&set, "inactive-seat", "pay/password@acme.example");
    assert_eq!(password.confidence, hkaudit::analyze::Confidence::Medium);
    assert!(password.message.contains("does not report them as signing in through SSO"), "{}", password.message);
}

#[test]
fn a_sign_in_to_another_application_never_clears_a_seat() {
    let kit = Kit::new().team("pay", true).member_with("pay", &e("slacker"), "member", federated());
    let slack = okta_log(150, &[(&e("slacker"), 1, "Slack", "SUCCESS"), (&e("slacker"), 2, "Slack", "SUCCESS")]);
    let set = kit.analyze(&Extra::none().signins("okta-logs.json", &slack));
    assert_eq!(lines_of(&set, "inactive-seat"), lines("inactive-seat", &["pay/slacker@acme.example"]));
    let f = finding(&set, "inactive-seat", "pay/slacker@acme.example");
    assert!(!f.evidence.contains_key("last_signal"), "{:?}", f.evidence);
    // The log has no Heroku sign-in at all, so it says nothing about this member either way.
    assert_eq!(f.confidence, hkaudit::analyze::Confidence::Medium, "{}", f.message);
    // Naming Slack as the Heroku application would clear them: the names decide, nothing else.
    let mut named = Extra::none().signins("okta-logs.json", &slack);
    named.signin_apps = vec!["Slack".into()];
    assert!(lines_of(&kit.analyze(&named), "inactive-seat").is_empty());
}

#[test]
fn a_sign_in_log_shorter_than_inactive_days_clears_but_never_condemns() {
    let kit = Kit::new().team("pay", true).member_with("pay", &e("reader"), "viewer", federated()).member_with(
        "pay",
        &e("idle"),
        "member",
        federated(),
    );
    let short = okta_log(30, &[(&e("reader"), 5, "Heroku", "SUCCESS"), (&e("idle"), 6, "Heroku", "FAILURE")]);
    let set = kit.analyze(&Extra::none().signins("okta-logs.json", &short));
    assert_eq!(
        lines_of(&set, "inactive-seat"),
        lines("inactive-seat", &["pay/idle@acme.example"]),
        "the reader is cleared"
    );
    let idle = finding(&set, "inactive-seat", "pay/idle@acme.example");
    assert_eq!(idle.confidence, hkaudit::analyze::Confidence::Medium);
    assert!(idle.message.contains("cover fewer than the last 90 days"), "{}", idle.message);
    // A log that ended a week ago does not speak for the last week either.
    let stale = okta_log(150, &[(&e("idle"), 6, "Heroku", "FAILURE")])
        .replace(&(as_of() - chrono::Duration::hours(2)).to_rfc3339(), &days_ago(7));
    let set = kit.analyze(&Extra::none().signins("okta-logs.json", &stale));
    assert_eq!(
        finding(&set, "inactive-seat", "pay/idle@acme.example").confidence,
        hkaudit::analyze::Confidence::Medium
    );
}

#[test]
fn the_idp_users_exports_last_login_is_context_and_clears_no_seat() {
    let kit = Kit::new().team("pay", true).member_with("pay", &e("idle"), "member", federated());
    let okta = format!(
        "User,Login,Status,Activation date,Authentication Source,Last Login,Last Password Change\n\
         Ida Idle,{},ACTIVE,2025-01-01T00:00:00.000Z,OKTA,{},2025-01-01T00:00:00.000Z\n",
        e("idle"),
        days_ago(1)
    );
    let set = kit.analyze(&Extra::none().idp("okta.csv", &okta));
    let f = finding(&set, "inactive-seat", "pay/idle@acme.example");
    assert!(f.evidence["idp_last_login"].starts_with("okta "), "{:?}", f.evidence);
    assert!(f.evidence["idp_last_login"].contains("not to Heroku"), "{:?}", f.evidence);
    assert_eq!(f.confidence, hkaudit::analyze::Confidence::Medium);
    assert!(f.message.contains("no sign-in log covers this member: only deploy activity was seen"), "{}", f.message);
    // With a covering log that has Heroku in it, the users export is what says Okta knows them.
    let log = okta_log(150, &[(&e("someone"), 3, "Heroku", "SUCCESS")]);
    let set = kit.analyze(&Extra::none().idp("okta.csv", &okta).signins("okta-logs.json", &log));
    assert_eq!(finding(&set, "inactive-seat", "pay/idle@acme.example").confidence, hkaudit::analyze::Confidence::High);
}

#[test]
fn inactive_seat_exempts_service_accounts() {
    let kit = Kit::new()
        .team("web", true)
        .member("web", "Deploy@Bots.Acme.Example", "member")
        .member("web", &e("ci-bot"), "member")
        .member("web", &e("human"), "member");
    let config = "service_accounts = [\"*@bots.acme.example\", \"ci-bot@acme.example\"]\n";
    let set = kit.analyze(&Extra::config(config));
    assert_eq!(lines_of(&set, "inactive-seat"), lines("inactive-seat", &["web/human@acme.example"]));
    // Without the allow-list all three fire.
    assert_eq!(lines_of(&run(&kit), "inactive-seat").len(), 3);
}

#[test]
fn config_ignore_needs_a_reason_and_stops_on_its_expiry_day() {
    let kit = Kit::new()
        .team("web", true)
        .member("web", &e("breakglass"), "member")
        .member("web", &e("old-ignore"), "member")
        .member("web", &e("idle"), "member");
    // as_of is 2026-11-20: an ignore expiring that day no longer applies, one expiring the next day does.
    let config = r#"
[[rules.inactive-seat.ignore]]
subject = "BreakGlass@acme.example"
reason = "break-glass account, reviewed quarterly"
expires = "2026-11-21"

[[rules.inactive-seat.ignore]]
subject = "web / old-ignore@acme.example"
reason = "was needed for the migration"
expires = "2026-11-20"
"#;
    let set = kit.analyze(&Extra::config(config));
    assert_eq!(
        lines_of(&set, "inactive-seat"),
        lines("inactive-seat", &["web/idle@acme.example", "web/old-ignore@acme.example"])
    );
    let result = set.rules.iter().find(|r| r.rule_id == "inactive-seat").expect("rule");
    assert_eq!((result.findings, result.ignored), (2, 1));
    assert_eq!(result.status, RuleStatus::Ok);
}

#[test]
fn config_severity_override_and_disabled_rule() {
    let kit = Kit::new()
        .team("web", true)
        .member_with("web", &e("no2fa"), "member", json!({"two_factor_authentication": false}))
        .member("web", &e("idle"), "member");
    let config = "[rules.inactive-seat]\nseverity = \"HIGH\"\n\n[rules.member-without-2fa]\nenabled = false\n";
    // With an IdP export every rule can run, so only the switched-off one is not `ok`.
    let export = okta(&[(&e("no2fa"), "ACTIVE"), (&e("idle"), "ACTIVE")]);
    let set = kit.analyze(&Extra::config(config).idp("okta.csv", &export));
    let idle = finding(&set, "inactive-seat", "web/idle@acme.example");
    assert_eq!(idle.severity, Severity::High);
    let result = set.rules.iter().find(|r| r.rule_id == "inactive-seat").expect("rule");
    assert_eq!(result.severity, Severity::High);
    assert_eq!(status_of(&set, "member-without-2fa"), RuleStatus::Disabled);
    assert!(lines_of(&set, "member-without-2fa").is_empty());
    assert!(set.complete, "a rule switched off on purpose leaves the findings complete");
    // The same snapshot without the config: default severity, rule on.
    let plain = run(&kit);
    assert_eq!(finding(&plain, "inactive-seat", "web/idle@acme.example").severity, Severity::Medium);
    assert_eq!(lines_of(&plain, "member-without-2fa"), lines("member-without-2fa", &["web/no2fa@acme.example"]));
}

fn destroy_event(target: &str, days: i64) -> serde_json::Value {
    json!({"id": format!("ev-{target}"), "enterprise_account_id": "ea-acme", "enterprise_account_name": "acme", "created_at": days_ago(days),
           "type": "enterprise_account_membership", "action": "destroy", "name": "enterprise_account_membership.destroy",
           "actor_email": e("carol"), "target_email": target})
}

#[test]
fn enterprise_removal_fires_with_and_without_the_destroy_event() {
    let kit = Kit::new()
        .team("web", true)
        .team("labs", false)
        .member("web", &e("kept"), "member")
        .ea_member("KEPT@acme.example", &["view"])
        .member("web", &e("gone"), "member")
        .row("audit_events", destroy_event("Gone@Acme.Example", 20))
        .member("web", &e("ron"), "member")
        // A standalone team's members need no enterprise membership.
        .member("labs", &e("lab"), "member");
    let set = run(&kit);
    assert_eq!(
        lines_of(&set, "enterprise-removal-not-cascaded"),
        lines("enterprise-removal-not-cascaded", &["web/gone@acme.example", "web/ron@acme.example"])
    );
    let gone = finding(&set, "enterprise-removal-not-cascaded", "web/gone@acme.example");
    assert_eq!(
        gone.evidence.get("removed_from_enterprise_at").map(String::as_str),
        Some((as_of() - chrono::Duration::days(20)).format("%Y-%m-%dT%H:%M:%SZ").to_string().as_str())
    );
    assert!(gone.message.starts_with("Removed from enterprise account acme"), "{}", gone.message);
    let ron = finding(&set, "enterprise-removal-not-cascaded", "web/ron@acme.example");
    assert!(!ron.evidence.contains_key("removed_from_enterprise_at"), "{:?}", ron.evidence);
    assert!(ron.message.contains("but not of the account itself"), "{}", ron.message);
}

const OKTA_HEADER: &str = "User,Login,Status,Activation date,Authentication Source,Last Login,Last Password Change";

fn okta(rows: &[(&str, &str)]) -> String {
    let mut s = format!("{OKTA_HEADER}\n");
    for (login, status) in rows {
        s.push_str(&format!("Someone,{login},{status},2025-01-01T00:00:00.000Z,OKTA,,\n"));
    }
    s
}

#[test]
fn idp_okta_statuses_map_to_deprovisioned_or_not() {
    let statuses =
        ["ACTIVE", "PROVISIONED", "PASSWORD_EXPIRED", "LOCKED_OUT", "STAGED", "RECOVERY", "SUSPENDED", "DEPROVISIONED"];
    let mut kit = Kit::new().team("web", true);
    let mut rows: Vec<(String, &str)> = Vec::new();
    for s in statuses {
        let who = e(&s.to_lowercase().replace('_', "-"));
        kit = kit.member("web", &who, "member");
        rows.push((who, s));
    }
    // Access other than a team seat counts too: enterprise membership, an invitation, an app grant.
    kit = kit
        .ea_member(&e("ea-only"), &["view"])
        .invitation("web", &e("invitee"), &days_ago(3))
        .row("app_permissions", json!({"app_id": "app-1", "app_name": "shop", "team_id": "t-web", "team_name": "web", "email": e("granted"), "permissions": ["view"], "sources": ["explicit"]}))
        // Letter case differs both ways between Heroku and Okta.
        .member("web", "Sam.Suspended@acme.example", "member");
    rows.extend([
        (e("ea-only"), "DEPROVISIONED"),
        (e("invitee"), "SUSPENDED"),
        (e("granted"), "SUSPENDED"),
        ("sam.suspended@ACME.example".into(), "SUSPENDED"),
        (e("left"), "DEPROVISIONED"),
    ]);
    let rows: Vec<(&str, &str)> = rows.iter().map(|(a, b)| (a.as_str(), *b)).collect();
    let set = kit.analyze(&Extra::none().idp("okta.csv", &okta(&rows)));
    assert_eq!(status_of(&set, "idp-deprovisioned-member"), RuleStatus::Ok);
    assert_eq!(
        lines_of(&set, "idp-deprovisioned-member"),
        lines(
            "idp-deprovisioned-member",
            &[
                "okta/deprovisioned@acme.example",
                "okta/suspended@acme.example",
                "okta/ea-only@acme.example",
                "okta/invitee@acme.example",
                "okta/granted@acme.example",
                "okta/sam.suspended@acme.example"
            ]
        ),
        "left@ is deprovisioned but holds no access: no finding"
    );
    let granted = finding(&set, "idp-deprovisioned-member", "okta/granted@acme.example");
    assert_eq!(granted.evidence["access"], "collaborator on app shop");
    assert_eq!(granted.evidence["idp_export"], "okta:okta.csv");
}

#[test]
fn idp_entra_disabled_accounts_joined_on_mail_else_upn() {
    let csv = "userPrincipalName,displayName,mail,accountEnabled\n\
               on@acme.example,On,on@acme.example,True\n\
               off@acme.example,Off,off@acme.example,False\n\
               c.upn@acme.example,C,C.Mail@Acme.Example,False\n\
               NoMail@acme.example,D,,False\n";
    let kit = Kit::new()
        .team("web", true)
        .member("web", &e("on"), "member")
        .member("web", &e("off"), "member")
        .member("web", &e("c.mail"), "member")
        .member("web", &e("nomail"), "member");
    let set = kit.analyze(&Extra::none().idp("entra.csv", csv));
    assert_eq!(
        lines_of(&set, "idp-deprovisioned-member"),
        lines(
            "idp-deprovisioned-member",
            &["entra/off@acme.example", "entra/c.mail@acme.example", "entra/nomail@acme.example"]
        )
    );
}

#[test]
fn idp_google_suspended_and_archived_fire() {
    let csv = "First Name [Required],Last Name [Required],Email Address [Required],Status [READ ONLY],Last Sign In [READ ONLY]\n\
               A,A,active@acme.example,Active,2026/11/18 23:52:00\n\
               G,G,GUS@acme.example,Suspended,Never logged in\n\
               R,R,archived@acme.example,Archived,2026/01/02 03:04:05\n";
    let kit = Kit::new()
        .team("web", true)
        .member("web", &e("active"), "member")
        .member("web", &e("gus"), "member")
        .member("web", &e("archived"), "member");
    let set = kit.analyze(&Extra::none().idp("google.csv", csv));
    assert_eq!(
        lines_of(&set, "idp-deprovisioned-member"),
        lines("idp-deprovisioned-member", &["google/gus@acme.example", "google/archived@acme.example"])
    );
    assert_eq!(
        finding(&set, "idp-deprovisioned-member", "google/archived@acme.example").evidence["idp_status"],
        "deprovisioned"
    );
}

#[test]
fn idp_absence_counts_only_in_a_covered_domain() {
    let kit = Kit::new()
        .team("web", true)
        .member("web", &e("listed"), "member")
        .member("web", &e("absent"), "member")
        .member("web", "kim@contractor.example", "member");
    let export = okta(&[(&e("listed"), "ACTIVE")]);
    let set = kit.analyze(&Extra::none().idp("okta.csv", &export));
    assert_eq!(
        lines_of(&set, "idp-deprovisioned-member"),
        lines("idp-deprovisioned-member", &["okta/absent@acme.example"])
    );
    assert_eq!(finding(&set, "idp-deprovisioned-member", "okta/absent@acme.example").evidence["idp_status"], "absent");
    // Once the config says the export covers contractor.example too, kim's absence counts.
    let set = kit.analyze(
        &Extra::none()
            .idp("okta.csv", &export)
            .with_config("idp_domains = [\"acme.example\", \"Contractor.Example\"]\n"),
    );
    assert_eq!(
        lines_of(&set, "idp-deprovisioned-member"),
        lines("idp-deprovisioned-member", &["okta/absent@acme.example", "okta/kim@contractor.example"])
    );
}

#[test]
fn idp_rule_is_skipped_without_an_export() {
    let kit = Kit::new().team("web", true).member("web", &e("someone"), "member");
    let set = run(&kit);
    let result = set.rules.iter().find(|r| r.rule_id == "idp-deprovisioned-member").expect("rule");
    assert_eq!(result.status, RuleStatus::Skipped);
    assert!(result.skipped[0].reason.contains("--idp"), "{:?}", result.skipped);
}

/// One entry of `heroku authorizations --json`.
fn authorization(id: &str, email: &str, expires_in: Option<i64>, updated_at: &str, refresh: bool) -> serde_json::Value {
    json!({
        "access_token": {"expires_in": expires_in, "id": format!("tok-{id}"), "token": "PLANTED-SECRET-access"},
        "client": {"id": "cli-1", "name": "Heroku CLI", "redirect_uri": "https://cli-auth.heroku.com/auth/cli/callback"},
        "created_at": days_ago(300),
        "description": format!("login {id}"),
        "grant": null,
        "id": id,
        "refresh_token": if refresh { json!({"expires_in": null, "id": format!("ref-{id}"), "token": "PLANTED-SECRET-refresh"}) } else { json!(null) },
        "scope": ["global"],
        "session": null,
        "updated_at": updated_at,
        "user": {"email": email, "full_name": "Someone", "id": format!("u-{}", email.to_lowercase())}
    })
}

#[test]
fn orphaned_authorization_live_expired_and_renewable() {
    let eight_hours = Some(8 * 3600);
    let exactly_expired = (as_of() - chrono::Duration::hours(8)).to_rfc3339();
    let still_valid = (as_of() - chrono::Duration::hours(7)).to_rfc3339();
    let gone = json!([
        authorization("gone-live", &e("gone"), None, &days_ago(6), false),
        authorization("gone-expired", &e("gone"), eight_hours, &days_ago(120), false),
        authorization("gone-edge", &e("gone"), eight_hours, &exactly_expired, false),
        authorization("gone-soon", &e("gone"), eight_hours, &still_valid, false),
        authorization("gone-refresh", &e("gone"), eight_hours, &days_ago(120), true),
    ]);
    let stay = json!([authorization("stay-live", "Stay@ACME.example", None, &days_ago(1), false)]);
    let deprov = json!([authorization("deprov-live", &e("deprov"), None, &days_ago(1), false)]);
    let kit = Kit::new().team("web", true).member("web", &e("stay"), "member").ea_member(&e("deprov"), &["view"]);
    let extra = Extra::none()
        .authorizations("gone.json", &gone)
        .authorizations("stay.json", &stay)
        .authorizations("deprov.json", &deprov)
        .idp("okta.csv", &okta(&[(&e("stay"), "ACTIVE"), (&e("deprov"), "DEPROVISIONED"), (&e("gone"), "ACTIVE")]));
    let set = kit.analyze(&extra);
    assert_eq!(status_of(&set, "orphaned-authorization"), RuleStatus::Ok);
    assert_eq!(
        lines_of(&set, "orphaned-authorization"),
        lines(
            "orphaned-authorization",
            &[
                "gone@acme.example/gone-live",
                "gone@acme.example/gone-soon",
                "gone@acme.example/gone-refresh",
                "deprov@acme.example/deprov-live"
            ]
        )
    );
    let live = finding(&set, "orphaned-authorization", "gone@acme.example/gone-live");
    assert!(live.message.contains("holds no team or enterprise membership"), "{}", live.message);
    let deprov = finding(&set, "orphaned-authorization", "deprov@acme.example/deprov-live");
    assert!(deprov.message.contains("deprovisioned in okta"), "{}", deprov.message);
    assert_eq!(deprov.evidence["source"], "export:deprov.json");
    // Secrets never reach a finding.
    let json = serde_json::to_string(&set).expect("json");
    assert!(!json.contains("PLANTED-SECRET"));
}

#[test]
fn team_admin_counts_single_and_none() {
    let kit = Kit::new()
        .team("solo", true)
        .member("solo", &e("only-admin"), "admin")
        .member("solo", &e("m1"), "member")
        .team("duo", true)
        .member("duo", &e("a1"), "admin")
        .member("duo", &e("a2"), "admin")
        .team("headless", false)
        .member("headless", &e("m2"), "member")
        .member("headless", &e("m3"), "viewer");
    let set = run(&kit);
    assert_eq!(lines_of(&set, "single-admin-team"), lines("single-admin-team", &["solo"]));
    assert_eq!(finding(&set, "single-admin-team", "solo").evidence["sole_admin"], e("only-admin"));
    assert_eq!(lines_of(&set, "no-admin-team"), lines("no-admin-team", &["headless"]));
    assert_eq!(finding(&set, "no-admin-team", "headless").evidence["members"], "2");
}

#[test]
fn two_factor_rules_split_admins_from_everyone_else() {
    let off = json!({"two_factor_authentication": false});
    let kit = Kit::new()
        .team("web", true)
        .member_with("web", &e("admin-off"), "admin", off.clone())
        .member("web", &e("admin-on"), "admin")
        .member_with("web", &e("member-off"), "member", off.clone())
        .member_with("web", &e("viewer-off"), "viewer", off.clone())
        .member_with("web", &e("collab-off"), "collaborator", off.clone())
        .member("web", &e("member-on"), "member");
    let set = run(&kit);
    assert_eq!(lines_of(&set, "admin-without-2fa"), lines("admin-without-2fa", &["web/admin-off@acme.example"]));
    assert_eq!(
        lines_of(&set, "member-without-2fa"),
        lines(
            "member-without-2fa",
            &["web/member-off@acme.example", "web/viewer-off@acme.example", "web/collab-off@acme.example"]
        )
    );
}

#[test]
fn sso_bypass_in_teams_with_an_identity_provider_only() {
    let fed = json!({"federated": true});
    let kit = Kit::new()
        .team_with("sso-team", true, json!({"identity_provider_id": "idp-1"}))
        .member_with("sso-team", &e("fed"), "member", fed.clone())
        .member("sso-team", &e("password"), "member")
        .team("sso-listed", true)
        .row("identity_providers", json!({"id": "idp-2", "team_id": team_id("sso-listed"), "team_name": "sso-listed", "entity_id": "https://idp.example"}))
        .member("sso-listed", &e("password2"), "viewer")
        .member_with("sso-listed", &e("fed2"), "admin", fed)
        .team("plain", true)
        .member("plain", &e("password3"), "member");
    let set = run(&kit);
    assert_eq!(
        lines_of(&set, "sso-bypass"),
        lines("sso-bypass", &["sso-team/password@acme.example", "sso-listed/password2@acme.example"])
    );
}

#[test]
fn stale_invitation_after_more_than_14_days() {
    let kit = Kit::new()
        .team("web", true)
        .invitation("web", &e("i13"), &days_ago(13))
        .invitation("web", &e("i14"), &days_ago(14))
        .invitation("web", &e("i15"), &days_ago(15))
        .invitation("web", &e("i40"), &days_ago(40));
    let set = run(&kit);
    assert_eq!(
        lines_of(&set, "stale-invitation"),
        lines("stale-invitation", &["web/i15@acme.example", "web/i40@acme.example"])
    );
    assert_eq!(finding(&set, "stale-invitation", "web/i40@acme.example").evidence["days_pending"], "40");
    // The threshold follows the config.
    let set = kit.analyze(&Extra::config("invite_stale_days = 30\n"));
    assert_eq!(lines_of(&set, "stale-invitation"), lines("stale-invitation", &["web/i40@acme.example"]));
}

#[test]
fn external_member_uses_org_domains_case_insensitively() {
    let kit = Kit::new()
        .team("web", true)
        .member("web", &e("staff"), "member")
        .member("web", "Boss@ACME.Example", "admin")
        .member("web", "kim@contractor.example", "member");
    let set = run(&kit);
    assert_eq!(
        lines_of(&set, "external-member"),
        lines("external-member", &["web/kim@contractor.example"]),
        "org domain = the audit identity's"
    );
    let set = kit.analyze(&Extra::config("org_domains = [\"acme.example\", \"Contractor.Example\"]\n"));
    assert!(lines_of(&set, "external-member").is_empty());
}

#[test]
fn personal_app_collaborator_not_owner_nor_team_app() {
    let kit = Kit::new()
        .team("web", true)
        .row("apps", json!({"id": "app-solo", "name": "solo", "personal": true, "owner_email": e("owner"), "locked": false, "activity_scanned": true}))
        .row("apps", json!({"id": "app-api", "name": "api", "team_id": team_id("web"), "team_name": "web", "personal": false, "owner_email": "web@herokumanager.com", "locked": false, "activity_scanned": true}))
        .row("app_permissions", json!({"app_id": "app-solo", "app_name": "solo", "email": e("owner"), "permissions": ["view", "deploy", "operate", "manage"], "sources": ["owner"]}))
        .row("app_permissions", json!({"app_id": "app-solo", "app_name": "solo", "email": e("pal"), "permissions": [], "sources": ["personal-collaborator"]}))
        .row("app_permissions", json!({"app_id": "app-api", "app_name": "api", "team_id": team_id("web"), "team_name": "web", "email": e("teamy"), "permissions": ["view", "deploy"], "sources": ["explicit"]}));
    let set = run(&kit);
    assert_eq!(
        lines_of(&set, "personal-app-collaborator"),
        lines("personal-app-collaborator", &["solo/pal@acme.example"])
    );
    assert_eq!(finding(&set, "personal-app-collaborator", "solo/pal@acme.example").evidence["app_owner"], e("owner"));
}

#[test]
fn enterprise_manager_fires_unless_admin_of_one_of_its_teams() {
    let kit = Kit::new()
        .team("web", true)
        .team("labs", false)
        .ea_member(&e("boss"), &["view", "manage"])
        .member("web", "Boss@Acme.Example", "admin")
        .ea_member(&e("mgr"), &["view", "manage"])
        .member("web", &e("mgr"), "member")
        .ea_member(&e("lab"), &["manage"])
        .member("labs", &e("lab"), "admin")
        .ea_member(&e("viewer"), &["view"]);
    let set = run(&kit);
    assert_eq!(
        lines_of(&set, "enterprise-admin-not-team-admin"),
        lines("enterprise-admin-not-team-admin", &["acme/mgr@acme.example", "acme/lab@acme.example"]),
        "admin of a standalone team is no admin of the account's teams"
    );
}

// ---------------------------------------------------------------------------------------------
// Unknown stays unknown: a null flag is neither a pass nor a finding.

fn result<'a>(set: &'a FindingSet, rule: &str) -> &'a hkaudit::analyze::RuleResult {
    set.rules.iter().find(|r| r.rule_id == rule).unwrap_or_else(|| panic!("no rule {rule}"))
}

#[test]
fn two_factor_unknown_is_reported_as_unknown_not_passed() {
    // Real `/teams/{team}/members` bodies omit `two_factor_authentication`: the snapshot holds null.
    let (null, off) = (json!({"two_factor_authentication": null}), json!({"two_factor_authentication": false}));
    let kit = Kit::new()
        .team("web", true)
        .member_with("web", &e("admin-unknown"), "admin", null.clone())
        .member("web", &e("admin-on"), "admin")
        .member_with("web", &e("member-unknown"), "member", null.clone())
        .member_with("web", &e("member-off"), "member", off)
        .team("data", true)
        .member_with("data", &e("viewer-unknown"), "viewer", null.clone())
        .member("data", &e("admin-on2"), "admin");
    let set = run(&kit);
    assert!(!set.complete, "unknown values make the findings a lower bound");
    let admins = result(&set, "admin-without-2fa");
    assert_eq!(admins.status, RuleStatus::Partial);
    assert!(lines_of(&set, "admin-without-2fa").is_empty(), "unknown is not a finding either");
    assert_eq!(
        admins.unknown,
        vec![hkaudit::analyze::UnknownValues { what: "2FA".into(), count: 1, teams: vec!["web".into()] }]
    );
    assert_eq!(admins.unknown[0].line(), "2FA unknown for 1 member of team web");
    let members = result(&set, "member-without-2fa");
    assert_eq!(members.status, RuleStatus::Partial);
    assert_eq!(lines_of(&set, "member-without-2fa"), lines("member-without-2fa", &["web/member-off@acme.example"]));
    assert_eq!(members.unknown[0].line(), "2FA unknown for 2 members of teams data, web");

    // Every flag known: ok again.
    let known = Kit::new().team("web", true).member("web", &e("a"), "admin").member("web", &e("b"), "admin");
    let set = run(&known);
    assert_eq!(status_of(&set, "admin-without-2fa"), RuleStatus::Ok);
    assert!(result(&set, "admin-without-2fa").unknown.is_empty());
}

#[test]
fn federation_unknown_in_a_team_with_single_sign_on_is_unknown() {
    let kit = Kit::new()
        .team_with("sso-team", true, json!({"identity_provider_id": "idp-1"}))
        .member_with("sso-team", &e("fed"), "admin", json!({"federated": true}))
        .member_with("sso-team", &e("who-knows"), "member", json!({"federated": null}))
        .member("sso-team", &e("password"), "member")
        .team("plain", true)
        .member_with("plain", &e("no-sso-needed"), "member", json!({"federated": null}));
    let set = run(&kit);
    assert_eq!(lines_of(&set, "sso-bypass"), lines("sso-bypass", &["sso-team/password@acme.example"]));
    let r = result(&set, "sso-bypass");
    assert_eq!(r.status, RuleStatus::Partial);
    assert_eq!(
        r.unknown.iter().map(|u| u.line()).collect::<Vec<_>>(),
        ["SSO federation unknown for 1 member of team sso-team"]
    );
}

// ---------------------------------------------------------------------------------------------
// People are matched by user id where both sides have one, by email otherwise.

/// An enterprise member with its own user id (the kit derives ids from emails).
fn ea_member_as(email: &str, user_id: Option<&str>, permissions: &[&str]) -> serde_json::Value {
    json!({"enterprise_account_id": "ea-acme", "enterprise_account_name": "acme", "member_id": format!("eam-{email}"), "user_id": user_id,
           "email": email, "permissions": permissions, "two_factor_authentication": true, "federated": false})
}

#[test]
fn enterprise_removal_matches_people_by_user_id_before_email() {
    let kit = Kit::new()
        .team("web", true)
        // Same user, the team shows an alias: not removed from the account.
        .member_with("web", &e("ann"), "member", json!({"user_id": "u-ann"}))
        .row("enterprise_members", ea_member_as(&e("ann.smith"), Some("u-ann"), &["view"]))
        // Same email, two different users: the team's user is not the account's.
        .member_with("web", &e("bob"), "member", json!({"user_id": "u-bob-new"}))
        .row("enterprise_members", ea_member_as(&e("bob"), Some("u-bob-old"), &["view"]))
        // One side without a user id: matched by email (case aside).
        .member_with("web", "Cy@ACME.example", "member", json!({"user_id": null}))
        .row("enterprise_members", ea_member_as(&e("cy"), Some("u-cy"), &["view"]));
    let set = run(&kit);
    assert_eq!(
        lines_of(&set, "enterprise-removal-not-cascaded"),
        lines("enterprise-removal-not-cascaded", &["web/bob@acme.example"])
    );
}

#[test]
fn enterprise_manager_is_matched_to_team_admins_by_user_id() {
    let kit = Kit::new()
        .team("web", true)
        .row("enterprise_members", ea_member_as(&e("ann.smith"), Some("u-ann"), &["view", "manage"]))
        .member_with("web", &e("ann"), "admin", json!({"user_id": "u-ann"}))
        .row("enterprise_members", ea_member_as(&e("bob"), Some("u-bob-old"), &["manage"]))
        .member_with("web", &e("bob"), "admin", json!({"user_id": "u-bob-new"}));
    let set = run(&kit);
    assert_eq!(
        lines_of(&set, "enterprise-admin-not-team-admin"),
        lines("enterprise-admin-not-team-admin", &["acme/bob@acme.example"])
    );
}

#[test]
fn idp_rule_gathers_a_persons_access_under_every_email_of_their_user_id() {
    let kit = Kit::new()
        .team("web", true)
        .member_with("web", &e("ann"), "member", json!({"user_id": "u-ann"}))
        .row("enterprise_members", ea_member_as(&e("ann.smith"), Some("u-ann"), &["view"]))
        .member_with("web", &e("dora"), "member", json!({"user_id": "u-dora"}))
        .row("enterprise_members", ea_member_as(&e("dora.deprov"), Some("u-dora"), &["view"]));
    // Okta lists Ann under her primary email only, active; Dora under hers, deprovisioned.
    let extra =
        Extra::none().idp("okta.csv", &okta(&[(&e("ann.smith"), "ACTIVE"), (&e("dora.deprov"), "DEPROVISIONED")]));
    let set = kit.analyze(&extra);
    // Ann's alias is not "absent from Okta": she is there under the email Heroku also shows for her.
    assert_eq!(
        lines_of(&set, "idp-deprovisioned-member"),
        lines("idp-deprovisioned-member", &["okta/dora.deprov@acme.example"])
    );
    let dora = finding(&set, "idp-deprovisioned-member", "okta/dora.deprov@acme.example");
    assert_eq!(dora.evidence["access"], "enterprise account acme; team web (member)", "access under both emails");
}

#[test]
fn orphaned_authorization_owner_is_matched_by_user_id() {
    let kit = Kit::new()
        .team("web", true)
        .member_with("web", &e("ann.smith"), "member", json!({"user_id": "u-ann"}))
        .member_with("web", &e("bob"), "member", json!({"user_id": "u-bob-old"}));
    let mut ann = authorization("ann-live", &e("ann"), None, &days_ago(1), false);
    ann["user"]["id"] = json!("u-ann");
    let mut bob = authorization("bob-live", &e("bob"), None, &days_ago(1), false);
    bob["user"]["id"] = json!("u-bob-new");
    let extra = Extra::none().authorizations("ann.json", &json!([ann])).authorizations("bob.json", &json!([bob]));
    let set = kit.analyze(&extra);
    // Ann's token carries an alias but her user id is a member's; Bob's email is a member's, his id is not.
    assert_eq!(
        lines_of(&set, "orphaned-authorization"),
        lines("orphaned-authorization", &["bob@acme.example/bob-live"])
    );
}

// ---------------------------------------------------------------------------------------------
// Every rule file: complete header, sound id, runs clean on an empty snapshot, has a test.

fn rule_files() -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = std::fs::read_dir(repo().join("queries"))
        .expect("queries/")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "sql"))
        .map(|p| {
            (
                p.file_stem().and_then(|s| s.to_str()).expect("utf-8 name").to_owned(),
                std::fs::read_to_string(&p).expect("read rule"),
            )
        })
        .collect();
    files.sort();
    files
}

#[test]
fn every_rule_file_has_a_complete_header_and_a_sound_id() {
    let files = rule_files();
    assert!(files.len() >= 13, "{} rule files", files.len());
    for (stem, text) in &files {
        let kebab = !stem.is_empty()
            && !stem.starts_with('-')
            && !stem.ends_with('-')
            && !stem.contains("--")
            && stem.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        assert!(kebab, "{stem}.sql: the id must be kebab-case");
        // The header as written, field by field, independent of the parser under test.
        for field in ["title", "severity", "confidence", "description", "remediation", "tables"] {
            let line = text
                .lines()
                .take_while(|l| l.starts_with("--"))
                .find(|l| l.trim_start_matches("--").trim().starts_with(&format!("{field}:")));
            let value = line.map(|l| l.split_once(':').map_or("", |(_, v)| v.trim())).unwrap_or("");
            assert!(!value.is_empty(), "{stem}.sql lacks `-- {field}: ...`");
        }
        let rule =
            hkaudit::analyze::Rule::parse(stem, text, &format!("queries/{stem}.sql")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(rule.id, *stem, "id = file stem");
        assert!(
            !rule.title.is_empty()
                && !rule.description.is_empty()
                && !rule.remediation.is_empty()
                && !rule.tables.is_empty()
        );
        // Every `${param}` in the SQL is declared, and every declared one is used.
        let mut used: Vec<String> =
            text.split("${").skip(1).filter_map(|s| s.split_once('}').map(|(p, _)| p.to_owned())).collect();
        used.sort();
        used.dedup();
        let mut declared = rule.params.clone();
        declared.sort();
        assert_eq!(used, declared, "{stem}.sql: parameters used vs declared in `-- params:`");
        for p in &declared {
            assert!(hkaudit::analyze::rule::PARAMS.contains(&p.as_str()), "{stem}.sql: unknown parameter {p}");
        }
    }
    // The binary ships exactly these files, ids unique.
    let builtin: Vec<String> =
        hkaudit::analyze::builtin_rules().expect("built-in rules parse").into_iter().map(|r| r.id).collect();
    let stems: Vec<String> = files.iter().map(|(s, _)| s.clone()).collect();
    assert_eq!(builtin, stems);
    let mut unique = stems.clone();
    unique.dedup();
    assert_eq!(unique, stems, "rule ids are unique");
}

#[test]
fn every_rule_runs_clean_on_an_empty_snapshot() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = Kit::new().write_to(dir.path());
    let snapshot = hkaudit::snapshot::Snapshot::open(&path).expect("open");
    let empty_idp = hkaudit::snapshot::TableBuilder::new()
        .str::<&str>("email_norm", [])
        .str::<&str>("status", [])
        .time("status_changed_at", [])
        .time("last_login_at", [])
        .str::<&str>("source", [])
        .build("idp_users")
        .expect("frame");
    let empty_domains = hkaudit::snapshot::TableBuilder::new()
        .str::<&str>("domain", [])
        .str::<&str>("source", [])
        .build("idp_domains")
        .expect("frame");
    let inputs = hkaudit::analyze::Inputs {
        idp_users: Some(empty_idp),
        idp_domains: Some(empty_domains),
        org_domains: vec![A.into()],
        ..Default::default()
    };
    let rules = hkaudit::analyze::load_rules(&repo().join("queries")).expect("rules load from the folder");
    let set = hkaudit::analyze::run(&snapshot, &inputs, &hkaudit::analyze::Config::default(), &rules).expect("runs");
    assert_eq!(set.rules.len(), rule_files().len());
    for r in &set.rules {
        assert_eq!((r.status, r.findings, r.error.as_deref()), (RuleStatus::Ok, 0, None), "{}", r.rule_id);
    }
    assert!(set.findings.is_empty() && set.complete);
}

/// The gaps `extract` records for a team the token may not read (one per team endpoint).
fn forbidden_team_gaps(team: &str) -> Vec<hkaudit::snapshot::Gap> {
    [
        ("members", &["team_members", "app_permissions"][..]),
        ("invitations", &["team_invitations"]),
        ("identity-providers", &["identity_providers"]),
        ("apps", &["apps", "app_permissions", "activity"]),
        ("permissions", &["app_permissions"]),
    ]
    .iter()
    .map(|(resource, tables)| hkaudit::snapshot::Gap {
        endpoint: format!("GET /teams/{{team}}/{resource}"),
        path: format!("/teams/{}/{resource}", team_id(team)),
        ..team_gap(team, tables)
    })
    .collect()
}

#[test]
fn every_rule_judges_the_readable_teams_when_one_team_is_forbidden() {
    let off = json!({"two_factor_authentication": false});
    let mut kit = Kit::new();
    for team in ["seen", "unread"] {
        kit = kit
            .team(team, true)
            .member_with(team, &e(&format!("{team}-admin")), "admin", off.clone())
            .member(team, &e(&format!("{team}-member")), "member")
            .invitation(team, &e(&format!("{team}-invitee")), &days_ago(40));
    }
    let mut kit = kit
        .team("labs", false)
        .member("labs", &e("labs-admin"), "admin")
        .ea_member(&e("boss"), &["view", "manage"])
        .row("apps", json!({"id": "app-solo", "name": "solo", "personal": true, "owner_email": e("owner"), "locked": false, "activity_scanned": true}))
        .row("app_permissions", json!({"app_id": "app-solo", "app_name": "solo", "email": e("pal"), "permissions": [], "sources": ["personal-collaborator"]}));
    for gap in forbidden_team_gaps("unread") {
        kit = kit.gap(gap);
    }
    let extra = Extra::none()
        .idp("okta.csv", &okta(&[(&e("seen-member"), "SUSPENDED"), (&e("seen-admin"), "ACTIVE")]))
        .authorizations("gone.json", &json!([authorization("gone-live", &e("gone"), None, &days_ago(1), false)]));
    let set = kit.analyze(&extra);
    let rules = hkaudit::analyze::builtin_rules().expect("rules");
    assert_eq!(set.rules.len(), rules.len());
    for rule in &rules {
        let r = result(&set, &rule.id);
        match &rule.gap_scope {
            hkaudit::analyze::rule::GapScope::Global(reason) => {
                assert!(!reason.trim().is_empty(), "{}: a global rule says why", rule.id);
            }
            _ => {
                assert!(
                    matches!(r.status, RuleStatus::Ok | RuleStatus::Partial),
                    "{}: one forbidden team must not stop the rule: {r:?}",
                    rule.id
                );
                assert!(r.skipped.iter().all(|s| s.scope == "team:unread"), "{}: {:?}", rule.id, r.skipped);
            }
        }
    }
    // Nothing is said about the team that was not read, and the readable team is judged.
    assert!(set.findings.iter().all(|f| f.subject.team.as_deref() != Some("unread")), "{:#?}", all_lines(&set));
    for (rule, subject) in [
        ("admin-without-2fa", "seen/seen-admin@acme.example"),
        ("stale-invitation", "seen/seen-invitee@acme.example"),
        ("inactive-seat", "seen/seen-member@acme.example"),
        ("idp-deprovisioned-member", "okta/seen-member@acme.example"),
        ("orphaned-authorization", "gone@acme.example/gone-live"),
        ("enterprise-admin-not-team-admin", "acme/boss@acme.example"),
        ("single-admin-team", "labs"),
        ("personal-app-collaborator", "solo/pal@acme.example"),
    ] {
        finding(&set, rule, subject);
    }
}

#[test]
fn every_rule_has_a_fixture_case() {
    let stems: std::collections::BTreeSet<String> = rule_files().into_iter().map(|(s, _)| s).collect();
    // A dedicated test per rule, listed in RULE_TESTS.
    let tested: std::collections::BTreeSet<String> = RULE_TESTS.iter().map(|(r, _)| (*r).to_owned()).collect();
    assert_eq!(tested, stems, "RULE_TESTS and queries/*.sql disagree");
    let source = include_str!("analyze.rs");
    for (rule, test) in RULE_TESTS {
        let start =
            source.find(&format!("#[test]\nfn {test}()")).unwrap_or_else(|| panic!("{rule}: no test named {test}"));
        let body = &source[start..];
        let body = &body[..body.find("\n}\n").unwrap_or(body.len())];
        assert!(
            body.contains(&format!("lines_of(&set, \"{rule}\")")),
            "{rule}: {test} never checks the rule's findings"
        );
    }
    // And in acme: every rule is planted there, except the one Heroku makes impossible.
    let mut planted: std::collections::BTreeSet<String> =
        readme_expected().iter().map(|l| l.split_once(' ').expect("rule subject").0.to_owned()).collect();
    assert!(!planted.contains("no-admin-team"));
    planted.insert("no-admin-team".into());
    assert_eq!(planted, stems, "the acme README's expected block covers every rule but no-admin-team");
}

// ---------------------------------------------------------------------------------------------
// An incomplete snapshot: "not read" never becomes a finding.

fn hkaudit_bin() -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_hkaudit"));
    cmd.env_remove("HKAUDIT_LOG").env("NO_COLOR", "1");
    cmd
}

fn path_args(flag: &str, paths: &[std::path::PathBuf]) -> Vec<std::ffi::OsString> {
    paths.iter().flat_map(|p| [std::ffi::OsString::from(flag), p.clone().into_os_string()]).collect()
}

/// Extract acme with one team answering 403 and analyze it as a user would: every rule judges
/// the four other teams, the forbidden team's findings are absent and the team is listed as not
/// judged, and findings about people who may also be in that team say so.
fn assert_forbidden_team_is_cut_out(team: &str, qualified_extra: &[&str]) {
    let dir = tempfile::tempdir().expect("tempdir");
    let snapshot = extract_acme(dir.path(), &[team]);
    let team_id = hkaudit::snapshot::Snapshot::open(&snapshot).expect("open").manifest().gaps[0]
        .team_id
        .clone()
        .expect("a team gap");
    let out = hkaudit_bin()
        .arg("analyze")
        .arg(&snapshot)
        .args(path_args("--idp", &acme_idp_files()))
        .args(path_args("--signins", &acme_signin_files()))
        .args(path_args("--authorizations", &acme_authorization_files()))
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stdout.starts_with("INCOMPLETE"), "the summary starts with INCOMPLETE:\n{stdout}\n{stderr}");
    let set = hkaudit::analyze::read_findings(&snapshot).expect("findings.json written");
    assert!(!set.complete);
    let raw: serde_json::Value =
        serde_json::from_slice(&std::fs::read(snapshot.join("findings.json")).expect("read")).expect("json");
    assert_eq!(raw["complete"], json!(false));

    // The findings of the readable teams are the planted ones, exactly; the forbidden team's are absent.
    let mut expected: Vec<String> = readme_expected()
        .into_iter()
        .filter(|l| !l.contains(&format!(" {team}/")) && !l.ends_with(&format!(" {team}")))
        .chain(qualified_extra.iter().map(|l| (*l).to_owned()))
        .collect();
    expected.sort();
    assert_eq!(all_lines(&set), expected, "forbidden {team}");
    assert!(set.findings.iter().all(|f| f.subject.team.as_deref() != Some(team)));

    // Every rule ran and lists the forbidden team as not judged, by name first, id second.
    for r in &set.rules {
        assert_eq!(r.status, RuleStatus::Partial, "{}: every rule reads one of the team's tables: {r:?}", r.rule_id);
        let s = r
            .skipped
            .iter()
            .find(|s| s.scope == format!("team:{team}"))
            .unwrap_or_else(|| panic!("{}: {:?}", r.rule_id, r.skipped));
        assert!(s.reason.starts_with(&format!("team {team} not read: ")), "{}: {}", r.rule_id, s.reason);
        assert!(s.reason.contains("HTTP 403 forbidden"), "{}: {}", r.rule_id, s.reason);
        let (name_at, id_at) = (s.reason.find(team), s.reason.find(&team_id));
        assert!(id_at.is_some() && name_at < id_at, "{}: the id only after the name: {}", r.rule_id, s.reason);
        assert_eq!(s.id.as_deref(), Some(team_id.as_str()));
    }
    // People are judged over what was read; the findings say they may also be in the unread team.
    let qualified = format!("also possibly in team {team}: not read");
    for f in set.findings.iter().filter(|f| {
        ["idp-deprovisioned-member", "orphaned-authorization", "enterprise-admin-not-team-admin", "inactive-seat"]
            .contains(&f.rule_id.as_str())
    }) {
        assert!(f.message.ends_with(&format!("({qualified})")), "{}: {}", readme_line(f), f.message);
        assert_eq!(f.evidence.get("not_read").map(String::as_str), Some(format!("team {team}").as_str()));
    }
    // A team's own findings elsewhere are not qualified by a team they do not depend on.
    for f in set
        .findings
        .iter()
        .filter(|f| ["admin-without-2fa", "external-member", "stale-invitation"].contains(&f.rule_id.as_str()))
    {
        assert!(
            !f.message.contains("not read") && !f.evidence.contains_key("not_read"),
            "{}: {}",
            readme_line(f),
            f.message
        );
    }
    // The summary names the team, never its id alone.
    assert!(stdout.contains(&format!("team {team}")), "{stdout}");
    assert!(!stdout.contains(&team_id), "{stdout}");
    // High findings remain in the readable teams, so the exit code is theirs.
    assert_eq!(out.status.code(), Some(13), "{stdout}");
}

#[test]
fn forbidden_team_is_cut_out_and_every_other_team_judged() {
    // acme-payments: the four readable teams keep every planted finding.
    assert_forbidden_team_is_cut_out("acme-payments", &[]);
}

#[test]
fn forbidden_team_keeps_people_found_elsewhere() {
    // acme-platform holds sam.suspended, rita.removed and the two inactive seats: Sam is still
    // found through the enterprise account, Rita through acme-data; only acme-platform's own
    // findings go. Carol manages the enterprise account and administers acme-platform alone:
    // with that team unread she reads as administering none, and her finding says why it may be
    // wrong rather than being hidden.
    assert_forbidden_team_is_cut_out("acme-platform", &["enterprise-admin-not-team-admin acme/carol.cto@acme.example"]);
}

#[test]
fn a_team_gap_withholds_that_teams_findings_only() {
    let off = json!({"two_factor_authentication": false});
    let kit = Kit::new()
        .team("seen", true)
        .member_with("seen", &e("a"), "admin", off.clone())
        .member("seen", &e("b"), "admin")
        .team("unread", true)
        // A row of the unread team (as if one page arrived before the 403): it must not count.
        .member_with("unread", &e("c"), "admin", off)
        .row("apps", json!({"id": "app-solo", "name": "solo", "personal": true, "owner_email": e("owner"), "locked": false, "activity_scanned": true}))
        .row("app_permissions", json!({"app_id": "app-solo", "app_name": "solo", "email": e("pal"), "permissions": [], "sources": ["personal-collaborator"]}))
        .gap(team_gap("unread", &["team_members", "app_permissions"]));
    let set = run(&kit);
    assert!(!set.complete);
    assert_eq!(lines_of(&set, "admin-without-2fa"), lines("admin-without-2fa", &["seen/a@acme.example"]));
    assert_eq!(status_of(&set, "admin-without-2fa"), RuleStatus::Partial);
    // No admin was read for `unread`, which is not the same as having none.
    assert!(
        lines_of(&set, "no-admin-team").is_empty() && lines_of(&set, "single-admin-team").is_empty(),
        "{:?}",
        all_lines(&set)
    );
    // A personal app's collaborators are not read through any team: a team's gap hides none of them.
    assert_eq!(
        lines_of(&set, "personal-app-collaborator"),
        lines("personal-app-collaborator", &["solo/pal@acme.example"])
    );
    assert_eq!(status_of(&set, "personal-app-collaborator"), RuleStatus::Partial);
    // Activity is anyone's: the seats of the readable team are judged, the unread team's are not.
    assert_eq!(status_of(&set, "inactive-seat"), RuleStatus::Partial);
    assert_eq!(
        lines_of(&set, "inactive-seat"),
        lines("inactive-seat", &["seen/a@acme.example", "seen/b@acme.example"])
    );

    // A gap on a personal app's collaborators withholds that app's findings, and only those.
    let app_gap = hkaudit::snapshot::Gap {
        team_id: None,
        team_name: None,
        app_id: Some("app-solo".into()),
        app_name: Some("solo".into()),
        endpoint: "GET /apps/{app}/collaborators".into(),
        path: "/apps/app-solo/collaborators".into(),
        tables: vec!["app_permissions".into()],
        ..team_gap("unread", &[])
    };
    let kit = kit
        .row("apps", json!({"id": "app-duo", "name": "duo", "personal": true, "owner_email": e("owner"), "locked": false, "activity_scanned": true}))
        .row("app_permissions", json!({"app_id": "app-duo", "app_name": "duo", "email": e("pal"), "permissions": [], "sources": ["personal-collaborator"]}));
    let set = run(&kit.gap(app_gap));
    assert_eq!(status_of(&set, "personal-app-collaborator"), RuleStatus::Partial);
    assert_eq!(
        lines_of(&set, "personal-app-collaborator"),
        lines("personal-app-collaborator", &["duo/pal@acme.example"])
    );
    let result = set.rules.iter().find(|r| r.rule_id == "personal-app-collaborator").expect("rule");
    let solo = result.skipped.iter().find(|s| s.scope == "app:solo").expect("solo is listed as not judged");
    assert!(solo.reason.starts_with("app solo not read: GET /apps/{app}/collaborators: HTTP 403"), "{}", solo.reason);
}

// ---------------------------------------------------------------------------------------------
// Bad input files: one clear error, exit 2, nothing written.

struct Refusal {
    /// What the case is, for failure messages.
    case: &'static str,
    flag: &'static str,
    file: &'static str,
    bytes: Vec<u8>,
    line: Option<usize>,
    /// Words of the fix the message must give.
    fix: &'static str,
}

fn okta_acme() -> String {
    std::fs::read_to_string(acme_inputs().join("okta-users.csv")).expect("okta export")
}

fn findings_files(snapshot: &std::path::Path) -> Vec<Option<(Vec<u8>, std::time::SystemTime)>> {
    [hkaudit::analyze::FINDINGS_JSON, hkaudit::analyze::FINDINGS_PARQUET]
        .iter()
        .map(|f| {
            let p = snapshot.join(f);
            std::fs::read(&p).ok().map(|b| (b, std::fs::metadata(&p).and_then(|m| m.modified()).expect("mtime")))
        })
        .collect()
}

/// Run `hkaudit analyze SNAPSHOT FLAG FILE` and check the refusal: exit 2, one `hkaudit: error:`
/// line naming the file, the line and the fix, and the findings files as they were before.
fn assert_refused(snapshot: &std::path::Path, inputs: &std::path::Path, r: &Refusal) {
    let path = inputs.join(r.file);
    std::fs::write(&path, &r.bytes).expect("write bad input");
    let before = findings_files(snapshot);
    let out = hkaudit_bin().arg("analyze").arg(snapshot).arg(r.flag).arg(&path).output().expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let case = r.case;
    assert_eq!(out.status.code(), Some(2), "{case}: exit code; stderr: {stderr}");
    assert!(out.stdout.is_empty(), "{case}: no summary on stdout: {}", String::from_utf8_lossy(&out.stdout));
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{case}: one line on stderr:\n{stderr}");
    let line = lines[0];
    assert!(line.starts_with("hkaudit: error: "), "{case}: {line}");
    let at = match r.line {
        Some(n) => format!("{}:{n}: ", path.display()),
        None => format!("{}: ", path.display()),
    };
    assert!(line.contains(&at), "{case}: `{line}` should point at `{at}`");
    assert!(line.contains(r.fix), "{case}: `{line}` should say what to do: `{}`", r.fix);
    assert_eq!(
        findings_files(snapshot),
        before,
        "{case}: findings.json / findings.parquet must not be written or changed"
    );
}

fn refusals() -> Vec<Refusal> {
    let okta = okta_acme();
    let mut non_utf8 = okta.clone().into_bytes();
    // The start of line 3 (the export ends its lines with CRLF, as Okta's does).
    let third_line = okta.match_indices('\n').nth(1).expect("three lines").0 + 1;
    non_utf8.splice(third_line..third_line, [b'X', 0xFF, 0xFE, b'Y']);
    let dave = std::fs::read_to_string(acme_inputs().join("heroku-authorizations-dave.deprov.json")).expect("export");
    let truncated: String = dave.lines().take(20).collect::<Vec<_>>().join("\n");
    vec![
        Refusal {
            case: "idp: no Status column",
            flag: "--idp",
            file: "okta-no-status.csv",
            bytes: b"User,Login,Activation date\nAda,ada@acme.example,2025-01-01T00:00:00.000Z\n".to_vec(),
            line: Some(1),
            fix: "Download the export again with all columns",
        },
        Refusal {
            case: "idp: not an export at all",
            flag: "--idp",
            file: "people.csv",
            bytes: b"name,mail\nAda,ada@acme.example\n".to_vec(),
            line: Some(1),
            fix: "Pass the file as downloaded",
        },
        Refusal {
            case: "idp: non-UTF-8 bytes",
            flag: "--idp",
            file: "okta-latin1.csv",
            bytes: non_utf8,
            line: Some(3),
            fix: "Re-export it as UTF-8",
        },
        Refusal {
            case: "idp: binary file",
            flag: "--idp",
            file: "okta.png",
            // The PNG signature holds two line feeds before its first NUL byte.
            bytes: b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10".to_vec(),
            line: Some(3),
            fix: "Pass the CSV or JSON export itself",
        },
        Refusal {
            case: "idp: a spreadsheet workbook",
            flag: "--idp",
            file: "okta.xlsx",
            bytes: b"PK\x03\x04\x14\x00\x06\x00\x08\x00".to_vec(),
            line: Some(1),
            fix: "save it as \"CSV UTF-8\"",
        },
        Refusal {
            case: "idp: no header row",
            flag: "--idp",
            file: "okta-no-header.csv",
            bytes: okta.lines().skip(1).collect::<Vec<_>>().join("\n").into_bytes(),
            line: Some(1),
            fix: "Pass the file as downloaded",
        },
        Refusal {
            case: "idp: no email column",
            flag: "--idp",
            file: "okta-no-login.csv",
            bytes: b"User,Status,Activation date,Authentication Source,Last Login,Last Password Change\nAda Adams,ACTIVE,,OKTA,,\n"
                .to_vec(),
            line: Some(1),
            fix: "Download the export again with all columns",
        },
        Refusal {
            case: "idp: empty file",
            flag: "--idp",
            file: "empty.csv",
            bytes: Vec::new(),
            line: Some(1),
            fix: "Download the users export from your identity provider again",
        },
        Refusal {
            case: "idp: unknown status",
            flag: "--idp",
            file: "okta-odd-status.csv",
            bytes: okta.replacen(",ACTIVE,", ",ON_VACATION,", 1).into_bytes(),
            line: Some(2),
            fix: "Use one of ACTIVE",
        },
        Refusal {
            case: "signins: a time that is not one",
            flag: "--signins",
            file: "entra-signins.csv",
            bytes: b"Date (UTC),Username,Application,Status\n2026-11-18T09:12:00Z,ada@acme.example,Heroku,Success\nyesterday,vic@acme.example,Heroku,Success\n".to_vec(),
            line: Some(3),
            fix: "Export the log with ISO 8601 times (UTC)",
        },
        Refusal {
            case: "signins: a users export is not a sign-in log",
            flag: "--signins",
            file: "okta-users.csv",
            bytes: okta.clone().into_bytes(),
            line: Some(1),
            fix: "Give an Okta System Log",
        },
        Refusal {
            case: "signins: a broken NDJSON line",
            flag: "--signins",
            file: "okta-logs.ndjson",
            bytes: b"{\"eventType\":\"user.authentication.sso\",\"published\":\"2026-11-18T09:12:00.000Z\",\"actor\":{\"alternateId\":\"ada@acme.example\"}}\n{\"eventType\": \n".to_vec(),
            line: Some(2),
            fix: "Export the log again",
        },
        Refusal {
            case: "signins: a row without its user",
            flag: "--signins",
            file: "entra-no-user.csv",
            bytes: b"Date (UTC),Username,Application,Status\n2026-11-18T09:12:00Z,,Heroku,Success\n".to_vec(),
            line: Some(2),
            fix: "Export the log again with the user column",
        },
        Refusal {
            case: "authorizations: truncated JSON",
            flag: "--authorizations",
            file: "auth-truncated.json",
            bytes: truncated.into_bytes(),
            line: Some(20),
            fix: "heroku authorizations --json",
        },
        Refusal {
            case: "authorizations: not the array",
            flag: "--authorizations",
            file: "auth-object.json",
            bytes: br#"{"id": "x"}"#.to_vec(),
            line: Some(1),
            fix: "heroku authorizations --json",
        },
        Refusal {
            case: "authorizations: empty file",
            flag: "--authorizations",
            file: "auth-empty.json",
            bytes: Vec::new(),
            line: Some(1),
            fix: "heroku authorizations --json",
        },
        Refusal {
            case: "config: unknown key",
            flag: "--config",
            file: "unknown-key.toml",
            bytes: b"org_domains = [\"acme.example\"]\ninactve_days = 60\n".to_vec(),
            line: Some(2),
            fix: "Remove it or correct its spelling",
        },
        Refusal {
            case: "config: bad severity",
            flag: "--config",
            file: "bad-severity.toml",
            bytes: b"[rules.inactive-seat]\nseverity = \"severe\"\n".to_vec(),
            line: Some(2),
            fix: "Use one of info, low, medium, high, critical",
        },
        Refusal {
            case: "config: ignore without reason",
            flag: "--config",
            file: "no-reason.toml",
            bytes: b"[[rules.inactive-seat.ignore]]\nsubject = \"ivan.idle@acme.example\"\n".to_vec(),
            line: Some(2),
            fix: "Add reason = ",
        },
        Refusal {
            case: "config: misspelt rule id",
            flag: "--config",
            file: "typo.toml",
            bytes: b"\n[rules.inactive-seats]\nenabled = false\n".to_vec(),
            line: Some(2),
            fix: "Did you mean `inactive-seat`?",
        },
    ]
}

#[test]
fn bad_input_files_are_refused_with_file_line_and_fix_and_nothing_is_written() {
    let dir = tempfile::tempdir().expect("tempdir");
    let snapshot = acme_copy(dir.path());
    let inputs = dir.path().join("inputs");
    std::fs::create_dir_all(&inputs).expect("mkdir");
    for r in refusals() {
        assert_refused(&snapshot, &inputs, &r);
        assert_eq!(findings_files(&snapshot), vec![None, None], "{}: nothing created", r.case);
    }
}

#[test]
fn bad_input_files_leave_earlier_findings_untouched() {
    let dir = tempfile::tempdir().expect("tempdir");
    let snapshot = acme_copy(dir.path());
    let inputs = dir.path().join("inputs");
    std::fs::create_dir_all(&inputs).expect("mkdir");
    let good = hkaudit_bin().arg("analyze").arg(&snapshot).output().expect("runs");
    assert_ne!(good.status.code(), Some(2), "{}", String::from_utf8_lossy(&good.stderr));
    assert!(findings_files(&snapshot).iter().all(Option::is_some));
    for r in refusals() {
        // assert_refused compares bytes and mtimes before and after.
        assert_refused(&snapshot, &inputs, &r);
    }
}

#[test]
fn bom_and_semicolons_are_tolerated_and_read_the_same_rows() {
    let dir = tempfile::tempdir().expect("tempdir");
    let okta = okta_acme();
    assert!(!okta.contains(';') && !okta.contains('"'), "the fixture converts to semicolons by a plain replace");
    let variants = [
        ("plain.csv", okta.clone().into_bytes()),
        ("bom.csv", [b"\xEF\xBB\xBF".as_slice(), okta.as_bytes()].concat()),
        ("semicolons.csv", okta.replace(',', ";").into_bytes()),
    ];
    let mut read = Vec::new();
    for (name, bytes) in &variants {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).expect("write");
        let export = hkaudit::analyze::idp::load_idp_export(&p).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(export.users.len(), okta.lines().count() - 1, "{name}: one user per row");
        read.push((export.domains().clone(), export.users));
    }
    assert_eq!(read[1], read[0], "a BOM changes nothing");
    assert_eq!(read[2], read[0], "semicolons change nothing");
    // And through the binary: the same findings.
    let snapshot = acme_copy(dir.path());
    let mut outputs = Vec::new();
    for (name, _) in &variants {
        let out_dir = dir.path().join(format!("out-{name}"));
        let out = hkaudit_bin()
            .arg("analyze")
            .arg(&snapshot)
            .arg("--idp")
            .arg(dir.path().join(name))
            .arg("--out")
            .arg(&out_dir)
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(13), "{name}: {}", String::from_utf8_lossy(&out.stderr));
        outputs.push(all_lines(&hkaudit::analyze::read_findings(&out_dir).expect("findings")));
    }
    assert_eq!(outputs[1], outputs[0]);
    assert_eq!(outputs[2], outputs[0]);
}

// ---------------------------------------------------------------------------------------------
// Exit codes and the summary.

fn analyze_acme(extra: &[&str]) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = hkaudit_bin()
        .arg("analyze")
        .arg(acme_snapshot())
        .args(path_args("--idp", &acme_idp_files()))
        .args(path_args("--signins", &acme_signin_files()))
        .args(path_args("--authorizations", &acme_authorization_files()))
        .arg("--out")
        .arg(dir.path())
        .args(extra)
        .output()
        .expect("runs");
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
    (out.status.code(), String::from_utf8(out.stdout).expect("utf-8"))
}

#[test]
fn exit_code_follows_fail_on_and_the_summary_counts_by_severity_and_rule() {
    let (code, summary) = analyze_acme(&["--fail-on", "high"]);
    assert_eq!(code, Some(13), "acme's highest finding is high:\n{summary}");
    let first = summary.lines().next().expect("a summary");
    assert!(!first.starts_with("INCOMPLETE"), "{summary}");
    assert_eq!(first, "snapshot acme-fixture: 22 findings (0 critical, 10 high, 8 medium, 3 low, 1 info)");
    for (rule, n) in [
        ("inactive-seat", 3),
        ("idp-deprovisioned-member", 5),
        ("enterprise-removal-not-cascaded", 3),
        ("orphaned-authorization", 1),
    ] {
        assert!(
            summary
                .lines()
                .any(|l| l.split_whitespace().nth(1) == Some(rule)
                    && l.split_whitespace().nth(2) == Some(&n.to_string())),
            "{rule} {n} in\n{summary}"
        );
    }
    assert!(!summary.contains("no-admin-team"), "a rule that found nothing is hidden:\n{summary}");
    assert_eq!(analyze_acme(&["--fail-on", "critical"]).0, Some(0), "complete and nothing critical");
    assert_eq!(analyze_acme(&["--fail-on", "medium"]).0, Some(13), "the highest severity decides the code");
    assert_eq!(analyze_acme(&[]).0, Some(13), "--fail-on defaults to info");
}

#[test]
fn exit_code_is_3_for_an_incomplete_snapshot_without_a_finding_at_fail_on() {
    let dir = tempfile::tempdir().expect("tempdir");
    let snapshot = extract_acme(dir.path(), &["acme-labs"]);
    let out = hkaudit_bin()
        .arg("analyze")
        .arg(&snapshot)
        .args(path_args("--idp", &acme_idp_files()))
        .args(path_args("--signins", &acme_signin_files()))
        .args(["--fail-on", "critical"])
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{stdout}");
    assert!(stdout.starts_with("INCOMPLETE"), "{stdout}");
    assert!(stdout.contains("[partial: not read: team acme-labs"), "{stdout}");
}

// ---------------------------------------------------------------------------------------------
// The terminal summary: order, hidden zero rows, colour.

/// The rule lines of a summary: (severity, rule, count).
fn rule_rows(summary: &str) -> Vec<(String, String, usize)> {
    summary
        .lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            let (sev, rule, n) = (w.next()?, w.next()?, w.next()?);
            hkaudit::analyze::Severity::parse(sev)?;
            Some((sev.to_owned(), rule.to_owned(), n.parse().ok()?))
        })
        .collect()
}

#[test]
fn the_summary_lists_the_most_severe_and_most_frequent_first_and_hides_empty_rules_unless_verbose() {
    let (_, summary) = analyze_acme(&[]);
    let rows = rule_rows(&summary);
    assert!(rows.len() > 5, "{summary}");
    let key = |(sev, _, n): &(String, String, usize)| {
        (std::cmp::Reverse(hkaudit::analyze::Severity::parse(sev).expect("severity")), std::cmp::Reverse(*n))
    };
    assert!(rows.windows(2).all(|w| key(&w[0]) <= key(&w[1])), "by severity, then count:\n{summary}");
    assert_eq!(rows[0].1, "idp-deprovisioned-member", "acme's most frequent high finding leads:\n{summary}");
    assert!(rows.iter().all(|r| r.2 > 0), "no zero rows by default:\n{summary}");
    assert!(summary.contains("1 rule found nothing; -v lists them"), "{summary}");

    // `-v` also turns on info logs, so stderr is not checked here.
    let dir = tempfile::tempdir().expect("tempdir");
    let out = hkaudit_bin()
        .args(["-v", "analyze"])
        .arg(acme_snapshot())
        .args(path_args("--idp", &acme_idp_files()))
        .arg("--out")
        .arg(dir.path())
        .output()
        .expect("runs");
    let verbose = String::from_utf8_lossy(&out.stdout);
    let rows = rule_rows(&verbose);
    assert!(rows.iter().any(|r| r.1 == "no-admin-team" && r.2 == 0), "-v lists the empty rule:\n{verbose}");
    assert!(rows.windows(2).all(|w| key(&w[0]) <= key(&w[1])), "still in order:\n{verbose}");
}

#[test]
fn the_summary_is_coloured_when_forced_and_plain_in_a_pipe_or_with_no_color() {
    let run = |env: &[(&str, &str)]| {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut cmd = hkaudit_bin();
        cmd.env_remove("NO_COLOR").env_remove("CLICOLOR_FORCE").env_remove("CLICOLOR");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd
            .arg("analyze")
            .arg(acme_snapshot())
            .args(path_args("--idp", &acme_idp_files()))
            .arg("--out")
            .arg(dir.path())
            .output()
            .expect("runs");
        String::from_utf8(out.stdout).expect("utf-8")
    };
    let coloured = run(&[("CLICOLOR_FORCE", "1")]);
    // Bold red `high` on the severity column of a high rule.
    assert!(coloured.contains("\u{1b}[1m\u{1b}[31mhigh"), "forced colour:\n{coloured:?}");
    let plain = run(&[]);
    assert!(!plain.contains('\u{1b}'), "a pipe gets no escape codes:\n{plain:?}");
    let no_color = run(&[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]);
    assert!(!no_color.contains('\u{1b}'), "NO_COLOR wins:\n{no_color:?}");
    // Colour aside, the text is the same.
    let strip = |s: &str| {
        let mut out = String::new();
        let mut chars = s.chars();
        while let Some(c) = chars.next() {
            if c == '\u{1b}' {
                chars.by_ref().find(|c| c.is_ascii_alphabetic());
            } else {
                out.push(c);
            }
        }
        out
    };
    let without_path =
        |s: &str| s.lines().filter(|l| !l.starts_with("findings written")).collect::<Vec<_>>().join("\n");
    assert_eq!(without_path(&strip(&coloured)), without_path(&plain));
}

/// `hkaudit analyze` of acme into `out` with the given extra arguments, as a user runs it twice.
fn analyze_acme_into(out: &std::path::Path, extra: &[std::ffi::OsString]) -> std::process::Output {
    hkaudit_bin().arg("analyze").arg(acme_snapshot()).arg("--out").arg(out).args(extra).output().expect("runs")
}

#[test]
fn analyze_refuses_to_replace_findings_made_with_inputs_it_lacks_unless_forced() {
    let dir = tempfile::tempdir().expect("tempdir");
    let analyze = |extra: &[std::ffi::OsString]| analyze_acme_into(dir.path(), extra);
    let mut all = path_args("--idp", &acme_idp_files());
    all.extend(path_args("--authorizations", &acme_authorization_files()));
    assert_eq!(analyze(&all).status.code(), Some(13), "acme analyses");
    let findings = dir.path().join(hkaudit::analyze::FINDINGS_JSON);
    let before = std::fs::read(&findings).expect("findings.json");

    // The same IdP exports, without the token exports: refused, naming each missing file.
    let out = analyze(&path_args("--idp", &acme_idp_files()));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.starts_with("hkaudit: error: "), "{stderr}");
    for f in acme_authorization_files() {
        assert!(stderr.contains(&format!("--authorizations {}", f.display())), "names {}: {stderr}", f.display());
    }
    assert!(!stderr.contains("--idp "), "the IdP files were given: {stderr}");
    assert!(stderr.contains("--force"), "says how to go on: {stderr}");
    assert!(out.stdout.is_empty(), "no summary: {}", String::from_utf8_lossy(&out.stdout));
    assert_eq!(std::fs::read(&findings).expect("findings.json"), before, "nothing overwritten");

    // The same inputs again are fine; --force replaces without them.
    assert_eq!(analyze(&all).status.code(), Some(13));
    let forced = analyze(&[std::ffi::OsString::from("--force")]);
    assert_ne!(forced.status.code(), Some(2), "{}", String::from_utf8_lossy(&forced.stderr));
    let after = hkaudit::analyze::read_findings(dir.path()).expect("findings");
    assert!(after.inputs.is_empty(), "the forced run's findings, made with no inputs");
}

// acme's sign-in logs (fixtures/acme/README.md, "Sign-in logs").

fn acme_with(signins: Vec<std::path::PathBuf>) -> hkaudit::analyze::FindingSet {
    let dir = tempfile::tempdir().expect("tempdir");
    let opts = hkaudit::analyze::AnalyzeOptions {
        snapshot: acme_snapshot().to_owned(),
        idp: acme_idp_files(),
        authorizations: acme_authorization_files(),
        signins,
        out: Some(dir.path().to_owned()),
        ..Default::default()
    };
    hkaudit::analyze::analyze_snapshot(&opts).expect("acme analyses").findings
}

#[test]
fn acme_sign_in_logs_clear_the_weekly_viewer_and_make_the_idle_member_certain() {
    use hkaudit::analyze::Confidence::{High, Medium};
    let without = acme_with(Vec::new());
    assert_eq!(
        lines_of(&without, "inactive-seat"),
        lines(
            "inactive-seat",
            &[
                "acme-payments/ines.idle@acme.example",
                "acme-payments/wes.watcher@acme.example",
                "acme-platform/bo.d91@acme.example",
                "acme-platform/ivan.idle@acme.example"
            ]
        ),
        "without the logs the viewer who only signs in looks inactive"
    );
    assert!(without.findings.iter().filter(|f| f.rule_id == "inactive-seat").all(|f| f.confidence == Medium
        && f.message.ends_with("no sign-in log covers this member: only deploy activity was seen")));

    let with = acme_findings();
    let ines = finding(&with, "inactive-seat", "acme-payments/ines.idle@acme.example");
    assert_eq!(ines.confidence, High, "{}", ines.message);
    assert!(!ines.evidence.contains_key("last_signal"), "Slack sign-ins and a failed Heroku one are no signal");
    for who in ["acme-platform/bo.d91@acme.example", "acme-platform/ivan.idle@acme.example"] {
        let f = finding(&with, "inactive-seat", who);
        assert_eq!(f.confidence, Medium, "{who} is not federated");
    }
    assert!(!lines_of(&with, "inactive-seat").iter().any(|l| l.contains("wes.watcher")));
    let okta = with.inputs.iter().find(|i| i.name == "okta-signins:okta-system-log.json").expect("okta log listed");
    let c = okta.signins.as_ref().expect("coverage");
    assert_eq!((c.span_days(), c.apps.clone()), (111, vec!["Heroku".to_owned()]));
}

#[test]
fn acme_entra_log_of_30_days_condemns_nobody() {
    let entra = acme_inputs().join("signins/entra-signins-30d.csv");
    let set = acme_with(vec![entra]);
    let seats: Vec<&hkaudit::analyze::Finding> = set.findings.iter().filter(|f| f.rule_id == "inactive-seat").collect();
    assert_eq!(seats.len(), 4, "nobody is cleared either: the log has no Heroku sign-in");
    for f in seats {
        assert_eq!(f.confidence, hkaudit::analyze::Confidence::Medium, "{}", f.message);
        assert!(f.message.contains("cover fewer than the last 90 days"), "{}", f.message);
    }
    let c = set.inputs.iter().find_map(|i| i.signins.as_ref()).expect("coverage");
    assert_eq!((c.span_days(), c.rows), (30, 0));
}

#[test]
fn demo_reads_acme_sign_in_logs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = hkaudit_bin().arg("demo").arg("--out").arg(dir.path()).output().expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.lines().next().is_some_and(|l| l.contains(": 22 findings")), "{stdout}");
    for log in ["okta-system-log.json", "entra-signins-30d.csv", "google-saml-log.csv"] {
        assert!(stdout.lines().any(|l| l.starts_with("  signins ") && l.contains(log)), "{log} in\n{stdout}");
    }
    let snapshot = stdout.lines().find_map(|l| l.strip_prefix("snapshot: ")).expect("the snapshot line");
    assert!(std::path::Path::new(snapshot).join("signins.parquet").is_file(), "signins.parquet beside the findings");
}

#[test]
fn analyze_refuses_to_drop_a_sign_in_log_the_findings_were_made_with() {
    let dir = tempfile::tempdir().expect("tempdir");
    let analyze = |extra: &[std::ffi::OsString]| analyze_acme_into(dir.path(), extra);
    let mut with_logs = path_args("--idp", &acme_idp_files());
    with_logs.extend(path_args("--signins", &acme_signin_files()));
    assert_ne!(analyze(&with_logs).status.code(), Some(2), "acme analyses with its sign-in logs");
    let before = std::fs::read(dir.path().join(hkaudit::analyze::FINDINGS_JSON)).expect("findings.json");

    let out = analyze(&path_args("--idp", &acme_idp_files()));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    for f in acme_signin_files() {
        assert!(stderr.contains(&format!("--signins {}", f.display())), "names {}: {stderr}", f.display());
    }
    assert_eq!(std::fs::read(dir.path().join(hkaudit::analyze::FINDINGS_JSON)).expect("findings.json"), before);
}
