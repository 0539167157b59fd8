//! `hkaudit plan`: the acme plan as golden files, the worksheet mode over acme's own worksheet,
//! and hostile names through a real shell (syntax check, then a dry run with a stub `heroku`).
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use hkaudit::analyze::{Confidence, Finding, FindingSet, Severity, Subject};
use hkaudit::history::plan::{Action, Invitation, REVIEWED_VAR};
use hkaudit::history::{load_inputs, plan_findings, plan_worksheet, read_worksheet, Plan, PlanInputs};
use hkaudit::snapshot::grants::{Grant, GrantKey};

use crate::acme;

async fn acme_analyzed() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let snapshot = acme::extract_acme(&dir.path().join("snapshots")).await;
    acme::analyze_acme(&snapshot);
    (dir, snapshot)
}

fn sh(args: &[&str], script: &Path, env: &[(&str, &str)], cwd: &Path) -> std::process::Output {
    let mut c = Command::new("sh");
    c.args(args).arg(script).current_dir(cwd).env_remove(REVIEWED_VAR);
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("sh runs")
}

#[tokio::test(flavor = "multi_thread")]
async fn acme_plan_is_golden_and_valid_shell() {
    let (dir, snapshot) = acme_analyzed().await;
    let inputs = load_inputs(&snapshot).expect("inputs");
    let plan = plan_findings(&inputs, None).expect("plan");
    let script = plan.script();
    insta::assert_snapshot!("acme_plan_sh", script);
    insta::assert_snapshot!("acme_plan_json", plan.api_json().expect("json"));

    // Every default rule's acme finding has its fix (README: expected findings).
    for line in [
        "heroku members:remove bo.d91@acme.example --team=acme-platform",
        "heroku members:remove ivan.idle@acme.example --team=acme-platform",
        "heroku members:remove rita.removed@acme.example --team=acme-data",
        "heroku members:remove rita.removed@acme.example --team=acme-platform",
        "heroku members:remove ron.removed@acme.example --team=acme-web",
        "heroku members:remove sam.suspended@acme.example --team=acme-platform",
        "heroku enterprises:members-remove sam.suspended@acme.example --enterprise-account=acme",
        "heroku enterprises:members-remove dave.deprov@acme.example --enterprise-account=acme",
        "heroku members:remove erin.disabled@acme.example --team=acme-data",
        "heroku members:remove gus.suspended@acme.example --team=acme-web",
        "heroku access:remove abby.absent@acme.example --app=acme-storefront",
        "heroku members:remove ivy.invited40@acme.example --team=acme-web",
        "heroku access:remove paul.pcollab@acme.example --app=olga-scratch",
        "heroku access:remove paul.pcollab@acme.example --app=tara-notebook",
        "  heroku authorizations:revoke 1c3501e1-449d-508c-9bb6-952253d6e4bc",
    ] {
        assert!(script.lines().any(|l| l == line), "missing `{line}` in\n{script}");
    }
    for absent in ["sid.bypass", "alan.no2fa", "kim@contractor.example", "PLANTED-SECRET"] {
        assert!(!script.contains(absent), "{absent} must not be in the default plan");
    }
    let path = dir.path().join("plan.sh");
    std::fs::write(&path, &script).expect("write");
    let check = sh(&["-n"], &path, &[], dir.path());
    assert!(check.status.success(), "sh -n: {}", String::from_utf8_lossy(&check.stderr));
    // Unreviewed, it refuses and runs nothing.
    let refused = sh(&[], &path, &[], dir.path());
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("review this plan"));

    // --rules narrows, and a rule with no automatic fix is a comment with its remediation.
    let only = plan_findings(&inputs, Some(&["sso-bypass".to_owned(), "stale-invitation".to_owned()])).expect("plan");
    let text = only.script();
    assert_eq!(only.steps.len(), 2, "{text}");
    assert!(
        text.contains("finding sso-bypass acme-payments / sid.bypass@acme.example")
            && text.contains("# step 2: by hand:"),
        "{text}"
    );
    assert!(!text.lines().any(|l| l.starts_with("heroku") && l.contains("sid.bypass")));
    let err = plan_findings(&inputs, Some(&["no-such-rule".to_owned()])).expect_err("unknown rule");
    assert!(err.to_string().contains("no-such-rule") && err.to_string().contains("inactive-seat"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn worksheet_denials_become_commands_with_their_row() {
    let (dir, snapshot) = acme_analyzed().await;
    let model = hkaudit::report::load_model(&snapshot, None, &hkaudit::analyze::Config::default()).expect("model");
    let csv = String::from_utf8(hkaudit::report::certification_csv(&model.certification).expect("csv")).expect("utf8");
    let mut lines: Vec<String> = csv.split("\r\n").map(str::to_owned).collect();
    let mut decide = |needles: &[&str], tail: &str| {
        let i = lines
            .iter()
            .position(|l| needles.iter().all(|n| l.contains(n)))
            .unwrap_or_else(|| panic!("{needles:?} not in the worksheet"));
        let l = lines[i].clone();
        assert!(l.ends_with(",,,,"), "{l}");
        lines[i] = format!("{}{tail}", &l[..l.len() - 4]);
        lines[i].clone()
    };
    decide(
        &["ron.removed@acme.example", ",acme-web,,team-membership,"],
        ",Carol,Deny,2026-11-21,\"left; $(id)\nin October\"",
    );
    let abby_row = decide(&["abby.absent@acme.example", ",acme-storefront,app-permission,"], ",Wendy,deny,2026-11-22,");
    decide(&["paul.pcollab@acme.example", ",olga-scratch,personal-app-collaborator,"], ",Olga,Don\u{2019}t know,,");
    let text = lines.join("\r\n");
    let abby = 1 + text[..text.find(&abby_row).expect("row")].matches('\n').count();
    let path = dir.path().join("certification.csv");
    std::fs::write(&path, &text).expect("write");

    let rows = read_worksheet(&path).expect("worksheet");
    let inputs = load_inputs(&snapshot).expect("inputs");
    let plan = plan_worksheet(&inputs, "certification.csv", &rows);
    let script = plan.script();
    assert_eq!(plan.steps.len(), 2, "{script}");
    assert!(script.contains("heroku access:remove abby.absent@acme.example --app=acme-storefront\n"), "{script}");
    assert!(
        script.contains(&format!(
            "worksheet certification.csv line {abby}: Deny by Wendy on 2026-11-22: (no justification)"
        )),
        "{script}"
    );
    let ron_line = rows.iter().find(|r| r.justification.contains("October")).map(|r| r.line).expect("ron row");
    assert!(script.contains("heroku members:remove ron.removed@acme.example --team=acme-web\n"), "{script}");
    assert!(
        script.contains(&format!("line {ron_line}: Deny by Carol on 2026-11-21: left; $(id)\\nin October")),
        "{script}"
    );
    assert!(!script.contains("olga-scratch"), "Don't know is not a denial");
    let json: serde_json::Value = serde_json::from_str(&plan.api_json().expect("json")).expect("valid json");
    assert_eq!(json[0]["path"], "/teams/apps/acme-storefront/collaborators/abby.absent@acme.example");
    assert_eq!(json[0]["worksheet_rows"][0]["reviewer"], "Wendy");
}

/// A finding of a built-in rule, with what the rule's header says acting on it means.
fn finding(rule: &str, subject: Subject) -> Finding {
    let rules = hkaudit::analyze::builtin_rules().expect("built-in rules");
    let header = rules.iter().find(|r| r.id == rule).unwrap_or_else(|| panic!("no built-in rule {rule}"));
    Finding {
        rule_id: rule.into(),
        severity: Severity::High,
        confidence: Confidence::High,
        title: "t".into(),
        fingerprint: Finding::fingerprint_of(rule, &subject),
        subject,
        message: "message with a\nnewline and \u{202E}bidi".into(),
        evidence: BTreeMap::new(),
        // Never a real `rm -rf ~`: if escaping ever broke, this test must not wipe anything.
        remediation: "fix it\nrm -f keep.txt".into(),
        fix: header.fix,
        certify: header.certify,
        frees_seat: header.frees_seat,
        saving_reason: header.saving_reason,
        monthly_cost_cents: None,
    }
}

fn grant(kind: &str, ea: &str, team: &str, app: &str, email: &str) -> Grant {
    Grant {
        key: GrantKey {
            grant_type: kind.into(),
            enterprise_account: ea.into(),
            team: team.into(),
            app: app.into(),
            email: email.into(),
        },
        email: email.into(),
        role: String::new(),
        permissions: vec![],
        federated: None,
        two_factor: None,
        user_id: None,
    }
}

/// Names that would run commands if pasted into a shell unquoted, or end a comment.
fn hostile_plan(marker: &Path) -> Plan {
    let m = marker.display();
    let team = format!("t'; touch {m}; echo '");
    let team_nl = format!("acme\ntouch {m}");
    let email = format!("a'b; rm -f keep.txt $(touch {m}) `touch {m}`@e.example");
    let app = "=HYPERLINK(\"http://evil.example\",\"click\")".to_owned();
    let ea = format!("ea`touch {m}`");
    let owner = format!("o$(touch {m})\n@e.example");
    let sub = |team: Option<&str>, app: Option<&str>, email: &str, item: Option<&str>| Subject {
        enterprise_account: None,
        team: team.map(str::to_owned),
        app: app.map(str::to_owned),
        email: Some(email.to_owned()),
        item: item.map(str::to_owned),
    };
    let findings = vec![
        finding("inactive-seat", sub(Some(&team), None, &email, None)),
        finding("enterprise-removal-not-cascaded", sub(Some(&team_nl), None, "x\"y\\z%s@e.example", None)),
        finding("personal-app-collaborator", sub(None, Some(&app), "p@e.example", None)),
        finding("stale-invitation", sub(Some(&team), None, "inv@e.example", None)),
        finding("orphaned-authorization", sub(None, None, &owner, Some(&format!("id'; touch {m}; '")))),
        finding("idp-deprovisioned-member", sub(None, None, "d@e.example", Some("okta"))),
        // Would be read as an option: must not become a command.
        finding("inactive-seat", sub(Some("t"), None, "--team=other", None)),
        finding("sso-bypass", sub(Some(&team), None, &email, None)),
    ];
    let inputs = PlanInputs {
        snapshot_id: format!("snap\n$(touch {m})"),
        as_of: "2026-11-20T12:00:00Z".into(),
        complete: false,
        grants: vec![
            grant("enterprise-membership", &ea, "", "", "d@e.example"),
            grant("app-permission", "", &team, &app, "d@e.example"),
            grant("team-membership", "", &team_nl, "", "d@e.example"),
        ],
        invitations: vec![Invitation {
            id: format!("inv$(touch {m})"),
            team: team.clone(),
            email: "inv@e.example".into(),
        }],
        findings: Some(FindingSet {
            format_version: 1,
            snapshot_id: "other".into(),
            as_of: chrono::Utc::now(),
            complete: true,
            inputs: vec![],
            rules: vec![],
            findings,
        }),
    };
    let set = inputs.findings.as_ref().expect("findings");
    let mut rules = hkaudit::history::plan::default_rules(set);
    assert_eq!(rules.len(), 6, "every rule with a fix has a finding here: {rules:?}");
    rules.push("sso-bypass".into());
    plan_findings(&inputs, Some(&rules)).expect("plan")
}

#[test]
fn hostile_names_stay_single_arguments_and_run_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Relative, so an injection would create it in the script's folder even where a value is
    // lower-cased (emails are).
    let marker = dir.path().join("pwned");
    let plan = hostile_plan(Path::new("pwned"));
    let keep = dir.path().join("keep.txt");
    std::fs::write(&keep, "still here").expect("write");
    let script = plan.script();
    assert!(script.contains("NOT WRITTEN AS A COMMAND: `--team=other` begins with `-`"), "{script}");
    // Comments stay comments: every line is a comment, blank, or one the generator wrote.
    for line in script.lines() {
        let ok = line.is_empty()
            || line.starts_with('#')
            || line.starts_with("heroku ")
            || line.starts_with("  ")
            || ["set -eu", "fi", "else", "exit 0"].contains(&line)
            || line.starts_with("if [ ");
        let inside_quotes = line.starts_with("touch ") || line.starts_with("@e.example") || line.starts_with("$(touch"); // continuation of a quoted argument holding a newline
        assert!(ok || inside_quotes, "unexpected line {line:?} in\n{script}");
    }
    let path = dir.path().join("plan.sh");
    std::fs::write(&path, &script).expect("write");
    let check = sh(&["-n"], &path, &[], dir.path());
    assert!(check.status.success(), "sh -n: {}\n{script}", String::from_utf8_lossy(&check.stderr));

    // Dry run: a `heroku` function prints each argument framed, one per line, and `auth:whoami`
    // answers as the authorization's owner so that branch runs too.
    let owner = plan.steps.iter().find_map(|s| match &s.action {
        Action::RevokeAuthorization { owner, .. } => Some(owner.clone()),
        _ => None,
    });
    let owner = owner.expect("an authorization step");
    let stub = "heroku() {\n  if [ \"$1\" = auth:whoami ]; then printf '%s' \"$PLAN_OWNER\"; return 0; fi\n  for a in \"$@\"; do printf 'ARG[%s]\\n' \"$a\"; done\n  echo END\n}\n";
    let dry = dir.path().join("dry.sh");
    std::fs::write(&dry, format!("{stub}{script}")).expect("write");
    let out = sh(&[], &dry, &[(REVIEWED_VAR, "yes"), ("PLAN_OWNER", &owner)], dir.path());
    assert!(out.status.success(), "dry run failed: {}", String::from_utf8_lossy(&out.stderr));
    let mut expected = String::new();
    for step in &plan.steps {
        if let (Ok(Some(_)), Some(argv)) = (step.action.command(), step.action.argv()) {
            for a in argv {
                expected.push_str(&format!("ARG[{a}]\n"));
            }
            expected.push_str("END\n");
        }
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout, expected);
    assert!(stdout.contains("ARG[--team=t'; touch pwned; echo ']\n"));
    assert!(stdout.contains("ARG[a'b; rm -f keep.txt $(touch pwned) `touch pwned`@e.example]\n"));
    assert!(stdout.contains("ARG[--app==HYPERLINK(\"http://evil.example\",\"click\")]\n"));
    assert!(stdout.contains("ARG[x\"y\\z%s@e.example]\n"));
    assert!(stdout.contains("ARG[authorizations:revoke]"), "the owner branch ran");
    assert_eq!(expected.matches("END\n").count(), 8, "{expected}");
    assert!(!marker.exists(), "an injected command ran");

    // As anyone else, the authorization step is skipped with a message, not a failure.
    let other = sh(&[], &dry, &[(REVIEWED_VAR, "yes"), ("PLAN_OWNER", "admin@e.example")], dir.path());
    assert!(other.status.success());
    assert!(String::from_utf8_lossy(&other.stderr).contains("skipped: authorization"));
    assert!(!String::from_utf8_lossy(&other.stdout).contains("authorizations:revoke"));
    assert!(!marker.exists(), "an injected command ran");
    assert!(keep.exists(), "an injected rm ran");

    // plan.json carries the values intact.
    let json: serde_json::Value = serde_json::from_str(&plan.api_json().expect("json")).expect("valid json");
    let paths: Vec<&str> = json.as_array().expect("array").iter().filter_map(|e| e["path"].as_str()).collect();
    assert!(
        paths.iter().all(|p| p.starts_with('/') && !p.contains(' ') && !p.contains('\n') && !p.contains('\'')),
        "{paths:?}"
    );
    assert!(json.as_array().expect("array").iter().any(|e| e["run_as"] == owner.as_str()));
}

/// The IdP rule gathers a person's access under every email of their Heroku user id; the plan
/// removes all of it, not only what is listed under the email the IdP knows.
#[test]
fn a_deprovisioned_persons_grants_under_another_email_are_removed_too() {
    use crate::snapshots_kit::Kit;
    let kit = Kit::new()
        .team("web", true)
        .member_with("web", "dora@acme.example", "member", serde_json::json!({"user_id": "u-dora"}))
        .row("enterprise_members", serde_json::json!({"enterprise_account_id": "ea-acme", "enterprise_account_name": "acme", "member_id": "eam-dora", "user_id": "u-dora",
             "email": "dora.deprov@acme.example", "permissions": ["view"], "two_factor_authentication": true, "federated": false}));
    let dir = tempfile::tempdir().expect("tempdir");
    let snapshot = kit.write_to(dir.path());
    let okta = "User,Login,Status,Activation date,Authentication Source,Last Login,Last Password Change\nDora,dora.deprov@acme.example,DEPROVISIONED,2025-01-01T00:00:00.000Z,OKTA,,\n";
    let inputs_dir = dir.path().join("in");
    std::fs::create_dir_all(&inputs_dir).expect("mkdir");
    std::fs::write(inputs_dir.join("okta.csv"), okta).expect("write");
    let opts = hkaudit::analyze::AnalyzeOptions {
        snapshot: snapshot.clone(),
        idp: vec![inputs_dir.join("okta.csv")],
        ..Default::default()
    };
    let set = hkaudit::analyze::analyze_snapshot(&opts).expect("analyze").findings;
    assert_eq!(
        crate::snapshots_kit::lines_of(&set, "idp-deprovisioned-member"),
        vec!["idp-deprovisioned-member okta/dora.deprov@acme.example".to_owned()]
    );
    let inputs = load_inputs(&snapshot).expect("inputs");
    let plan = plan_findings(&inputs, Some(&["idp-deprovisioned-member".to_owned()])).expect("plan");
    let script = plan.script();
    assert!(script.contains("heroku members:remove dora@acme.example --team=web\n"), "{script}");
    assert!(
        script.contains("heroku enterprises:members-remove dora.deprov@acme.example --enterprise-account=acme\n"),
        "{script}"
    );
    // The worksheet recommends revoking both, too.
    let model = hkaudit::report::load_model(&snapshot, None, &hkaudit::analyze::Config::default()).expect("model");
    for r in &model.certification {
        assert_eq!(r.recommended_decision, "Deny", "{r:?}");
        assert!(r.flags.contains("idp-deprovisioned-member"), "{r:?}");
        assert_eq!(r.idp_status, "deprovisioned", "the person's status, under whichever email: {r:?}");
    }
    assert_eq!(model.certification.len(), 2);
}

/// A rule of one's own whose header declares what acting on it means (`--queries DIR`).
fn contractor_seat_rule(fix: &str, frees_seat: bool) -> String {
    format!(
        "-- title: Seat held by a contractor\n-- severity: medium\n-- fix: {fix}\n-- certify: revoke\n\
         -- frees-seat: {frees_seat}\n-- confidence: high\n\
         -- description: A team seat held by someone outside the organisation's email domains.\n\
         -- remediation: End the contractor's seat when their contract ends.\n-- tables: team_members\n\
         -- gap_scope: team\n\
         SELECT team_id, team_name, email, 'Seat held by a contractor' AS message\nFROM team_members\n\
         WHERE SPLIT_PART(email_norm, '@', 2) NOT IN (SELECT domain FROM org_domains)\n"
    )
}

/// Analyze acme with only `rule` in a `--queries` folder; the findings go to their own folder.
fn analyze_with_rule(dir: &Path, snapshot: &Path, name: &str, rule: &str) -> PathBuf {
    let queries = dir.join(name).join("queries");
    std::fs::create_dir_all(&queries).expect("mkdir");
    std::fs::write(queries.join("contractor-seat.sql"), rule).expect("write rule");
    let out = dir.join(name).join("findings");
    hkaudit::analyze::analyze_snapshot(&hkaudit::analyze::AnalyzeOptions {
        snapshot: snapshot.to_owned(),
        queries: Some(queries),
        out: Some(out.clone()),
        ..Default::default()
    })
    .expect("analyze");
    out
}

/// The saving the cost report must show for a team: billed seats now, minus billed seats once
/// the seats its findings free are gone, at the seat price.
fn expected_saving(t: &hkaudit::report::TeamCost, config: &hkaudit::analyze::Config) -> i64 {
    let min = config.seats.minimum_per_team;
    i64::from(t.seats.max(min) - (t.seats - t.freed_seats).max(min)) * config.seats.price_per_month_cents
}

#[tokio::test(flavor = "multi_thread")]
async fn a_custom_rule_is_planned_certified_and_costed_from_its_header_like_a_built_in_one() {
    let (dir, snapshot) = acme_analyzed().await;
    // No per-team minimum, so that every freed seat is a saving.
    let mut config = hkaudit::analyze::Config::default();
    config.seats.minimum_per_team = 0;
    let contractors = [("acme-web", "kim@contractor.example"), ("acme-labs", "xavier@freelance.example")];

    let findings =
        analyze_with_rule(dir.path(), &snapshot, "custom", &contractor_seat_rule("remove-team-member", true));
    let mut inputs = load_inputs(&snapshot).expect("inputs");
    inputs.findings = Some(hkaudit::analyze::read_findings(&findings).expect("findings"));
    let script = plan_findings(&inputs, None).expect("plan").script();
    assert!(script.contains("# From: findings.json, rules contractor-seat\n"), "a default rule: {script}");
    for (team, email) in contractors {
        assert!(script.lines().any(|l| l == format!("heroku members:remove {email} --team={team}")), "{script}");
    }

    let model = hkaudit::report::load_model(&snapshot, Some(&findings), &config).expect("model");
    for (team, email) in contractors {
        let t = model.cost.teams.iter().find(|t| t.team == team).expect("team");
        assert_eq!(t.freed_seats, 1, "{team}: the contractor's seat is freed");
        assert_eq!(t.saving_cents, config.seats.price_per_month_cents, "{team}");
        let row = model
            .certification
            .iter()
            .find(|r| r.user_email == email && r.grant_type == "team-membership")
            .expect("worksheet row");
        assert_eq!(row.recommended_decision, "Deny", "certify: revoke recommends Deny");
        assert!(row.recommendation_reason.contains("contractor-seat: Seat held by a contractor"), "{row:?}");
    }
    assert_eq!(model.cost.saving_cents, 2 * config.seats.price_per_month_cents);

    // The built-in rule with the same header is costed the same way, by the same rule of thumb.
    let builtin = hkaudit::report::load_model(&snapshot, None, &config).expect("model");
    assert!(builtin.cost.saving_cents > 0, "acme has inactive seats");
    for t in builtin.cost.teams.iter().chain(&model.cost.teams) {
        assert_eq!(t.saving_cents, expected_saving(t, &config), "{}", t.team);
    }

    // The same rule declaring no fix and no seat: a step by hand, no saving, still a revoke.
    let findings = analyze_with_rule(dir.path(), &snapshot, "manual", &contractor_seat_rule("manual", false));
    inputs.findings = Some(hkaudit::analyze::read_findings(&findings).expect("findings"));
    let plan = plan_findings(&inputs, None).expect("plan");
    assert!(plan.steps.is_empty(), "no rule with a fix, so no default rule: {}", plan.script());
    let script = plan_findings(&inputs, Some(&["contractor-seat".to_owned()])).expect("plan").script();
    assert!(!script.lines().any(|l| l.starts_with("heroku ")), "{script}");
    assert!(script.contains("by hand: End the contractor's seat when their contract ends."), "{script}");
    let model = hkaudit::report::load_model(&snapshot, Some(&findings), &config).expect("model");
    assert_eq!(model.cost.saving_cents, 0);
    assert!(model
        .certification
        .iter()
        .any(|r| r.user_email == "kim@contractor.example" && r.recommended_decision == "Deny"));
}

/// `plan` warns the way every hkaudit message does (`hkaudit: warning: …`), not with a
/// timestamped tracing `WARN` line.
#[test]
fn plan_warns_about_an_incomplete_snapshot_in_the_hkaudit_style() {
    let dir = tempfile::tempdir().expect("tempdir");
    let snapshot = crate::snapshots_kit::extract_acme(dir.path(), &["acme-labs"]);
    hkaudit::analyze::analyze_snapshot(&hkaudit::analyze::AnalyzeOptions {
        snapshot: snapshot.clone(),
        ..Default::default()
    })
    .expect("analyze");
    let out = Command::new(env!("CARGO_BIN_EXE_hkaudit"))
        .env_remove("HKAUDIT_LOG")
        .env("NO_COLOR", "1")
        .arg("plan")
        .arg(&snapshot)
        .arg("--out")
        .arg(dir.path().join("plan"))
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(
        lines[0].starts_with("hkaudit: warning: snapshot acme-fixture is incomplete"),
        "the hkaudit style: {}",
        lines[0]
    );
    assert!(!stderr.contains("WARN"), "no tracing line: {stderr}");
}
