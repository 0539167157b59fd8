//! Identity-provider exports as vendors, PowerShell and spreadsheets write them (fixtures/idp,
//! provenance in its SOURCES.md): every format and variant is read with the users and statuses
//! it holds, and gives the planted findings on acme; guests never widen the covered domains;
//! unreadable optional values are warnings, unusable files errors; and inputs are read safely
//! (regular files only, no ambiguous header columns) for analyze, plan and certify alike.
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use hkaudit::analyze::idp::{load_idp_export, IdpExport, IdpFormat, IdpStatus};
use hkaudit::analyze::{analyze_snapshot, AnalyzeOptions, FindingSet, TextEncoding};

use crate::snapshots_kit::*;

const RULE: &str = "idp-deprovisioned-member";

fn fixture(path: &str) -> PathBuf {
    repo().join("fixtures/idp").join(path)
}

fn read(path: &str) -> IdpExport {
    load_idp_export(&fixture(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn status(export: &IdpExport, email: &str) -> Option<IdpStatus> {
    export.user(email).map(|u| u.status)
}

/// acme analysed with this one IdP file, findings in a fresh folder.
fn analyze_with(files: &[PathBuf]) -> FindingSet {
    let dir = tempfile::tempdir().expect("tempdir");
    analyze_snapshot(&AnalyzeOptions {
        snapshot: acme_snapshot().to_owned(),
        idp: files.to_vec(),
        out: Some(dir.path().to_owned()),
        ..Default::default()
    })
    .unwrap_or_else(|e| panic!("{files:?}: {e}"))
    .findings
}

fn idp_lines(set: &FindingSet) -> Vec<String> {
    lines_of(set, RULE)
}

fn expected(subjects: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = subjects.iter().map(|s| format!("{RULE} {s}")).collect();
    v.sort();
    v
}

// ---------------------------------------------------------------------------------------------
// Okta: the acme workforce with sam.suspended SUSPENDED, dave.deprov and leo.left DEPROVISIONED
// (leo has no Heroku access left), quinn PASSWORD_EXPIRED, raj LOCKED_OUT, ian PROVISIONED.

fn assert_okta_people(e: &IdpExport) {
    assert_eq!(e.format.vendor().tag(), "okta");
    assert_eq!(status(e, "sam.suspended@acme.example"), Some(IdpStatus::Suspended));
    assert_eq!(status(e, "dave.deprov@acme.example"), Some(IdpStatus::Deprovisioned));
    assert_eq!(status(e, "leo.left@acme.example"), Some(IdpStatus::Deprovisioned));
    for active in ["quinn.payments", "raj.payments", "ian.invited3", "ada.active", "abby.absent"] {
        assert_eq!(status(e, &format!("{active}@acme.example")), Some(IdpStatus::Active), "{active}");
    }
    assert_eq!((e.summary.suspended, e.summary.deprovisioned), (1, 2));
    assert_eq!(e.domains().iter().collect::<Vec<_>>(), ["acme.example"]);
    assert_eq!(e.summary.warnings, 0, "{:?}", e.warnings());
}

const OKTA_FINDINGS: &[&str] = &["okta/dave.deprov@acme.example", "okta/sam.suspended@acme.example"];

#[test]
fn okta_password_health_report() {
    let path = "okta/password-health.csv";
    let e = read(path);
    assert_eq!(e.format, IdpFormat::OktaPasswordHealth);
    assert_okta_people(&e);
    assert_eq!((e.summary.rows, e.summary.users, e.summary.non_email_logins), (46, 46, 1));
    assert_eq!(status(&e, "svc-backup"), Some(IdpStatus::Active), "a non-email login is kept as a row");
    assert_eq!(idp_lines(&analyze_with(&[fixture(path)])), expected(OKTA_FINDINGS));
}

#[test]
fn okta_user_accounts_report_with_admin_console_status_labels() {
    let path = "okta/user-accounts.csv";
    let e = read(path);
    assert_eq!(e.format, IdpFormat::OktaUserAccounts);
    assert_okta_people(&e);
    assert_eq!(e.summary.users, 45);
    assert!(e.user("sam.suspended@acme.example").and_then(|u| u.status_changed_at).is_some());
    assert_eq!(idp_lines(&analyze_with(&[fixture(path)])), expected(OKTA_FINDINGS));
}

#[test]
fn okta_rockstar_browser_extension_export() {
    let path = "okta/rockstar-export-users.csv";
    let e = read(path);
    assert_eq!(e.format, IdpFormat::OktaRockstar);
    assert_okta_people(&e);
    assert_eq!(e.summary.users, 45);
    assert_eq!(idp_lines(&analyze_with(&[fixture(path)])), expected(OKTA_FINDINGS));
}

#[test]
fn okta_api_v1_users_json_as_returned() {
    let path = "okta/api-v1-users.json";
    let e = read(path);
    assert_eq!(e.format, IdpFormat::OktaApiJson);
    assert_eq!(e.summary.delimiter, "json");
    assert_okta_people(&e);
    assert_eq!(e.summary.users, 45);
    let sam = e.user("sam.suspended@acme.example").expect("sam");
    assert!(sam.last_login_at.is_some() && sam.status_changed_at.is_some());
    assert_eq!(idp_lines(&analyze_with(&[fixture(path)])), expected(OKTA_FINDINGS));
}

#[test]
fn okta_api_v1_users_flattened_to_csv() {
    let path = "okta/api-v1-users-flattened.csv";
    let e = read(path);
    assert_eq!(e.format, IdpFormat::OktaApiCsv);
    assert_okta_people(&e);
    assert_eq!(e.summary.users, 45);
    assert_eq!(idp_lines(&analyze_with(&[fixture(path)])), expected(OKTA_FINDINGS));
}

#[test]
fn okta_report_saved_by_excel_as_unicode_text() {
    // Excel's "Unicode Text": UTF-16LE with a BOM, tab-separated.
    let text = std::fs::read_to_string(fixture("okta/password-health.csv")).expect("fixture");
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend(text.replace(',', "\t").encode_utf16().flat_map(u16::to_le_bytes));
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("okta-unicode.txt");
    std::fs::write(&path, bytes).expect("write");
    let e = load_idp_export(&path).expect("reads");
    assert_eq!((e.summary.encoding, e.summary.delimiter.as_str()), (TextEncoding::Utf16LeBom, "tab"));
    assert_okta_people(&e);
    assert_eq!(e.users, read("okta/password-health.csv").users, "the same rows as the UTF-8 file");
    assert_eq!(idp_lines(&analyze_with(&[path])), expected(OKTA_FINDINGS));
}

// ---------------------------------------------------------------------------------------------
// Entra ID: erin.disabled disabled, leo.left absent; two guests, Nora (active, from
// contractor.example, the domain of Heroku member kim@contractor.example who was never in the
// tenant) and Xavier (xavier@freelance.example, disabled, on Heroku).

fn assert_entra_people(e: &IdpExport) {
    assert_eq!(e.format.vendor().tag(), "entra");
    assert_eq!(status(e, "erin.disabled@acme.example"), Some(IdpStatus::Suspended));
    assert_eq!(status(e, "ada.active@acme.example"), Some(IdpStatus::Active));
    assert_eq!(status(e, "leo.left@acme.example"), None);
    assert_eq!(status(e, "nora@contractor.example"), Some(IdpStatus::Active));
    assert_eq!(status(e, "xavier@freelance.example"), Some(IdpStatus::Suspended));
    assert!(e.user("xavier@freelance.example").is_some_and(|u| u.guest));
    assert_eq!((e.summary.users, e.summary.guests, e.summary.suspended), (46, 2, 2));
    // The guests' home domains are not covered: absence from this tenant says nothing of them.
    assert_eq!(e.domains().iter().collect::<Vec<_>>(), ["acme.example"]);
    assert_eq!(e.summary.warnings, 0, "{:?}", e.warnings());
}

/// Erin and the disabled guest Xavier are found; kim@contractor.example, never in the tenant,
/// is not reported absent (the false finding a guest from her domain used to cause).
fn assert_entra_findings(path: &Path) {
    let set = analyze_with(&[path.to_owned()]);
    let got = idp_lines(&set);
    assert!(!got.iter().any(|l| l.contains("kim@contractor.example")), "{got:?}");
    assert_eq!(got, expected(&["entra/erin.disabled@acme.example", "entra/xavier@freelance.example"]));
}

#[test]
fn entra_download_users_api_named_columns() {
    let path = "entra/download-users.csv";
    let e = read(path);
    assert_eq!(e.format, IdpFormat::EntraDownload);
    assert_entra_people(&e);
    assert_entra_findings(&fixture(path));
}

#[test]
fn entra_download_users_preview_with_list_view_labels() {
    let path = "entra/download-users-preview.csv";
    let e = read(path);
    assert_eq!((e.format, e.summary.encoding), (IdpFormat::EntraDownload, TextEncoding::Utf8Bom));
    assert_entra_people(&e);
    // The sign-in column holds the whole signInActivity object; its lastSignInDateTime is read.
    assert!(e.user("ada.active@acme.example").and_then(|u| u.last_login_at).is_some());
    assert_entra_findings(&fixture(path));
}

#[test]
fn entra_download_resaved_by_french_excel() {
    let path = "entra/download-users-excel-fr.csv";
    let e = read(path);
    assert_eq!((e.summary.delimiter.as_str(), e.summary.encoding), (";", TextEncoding::Utf8Bom));
    assert_entra_people(&e);
    assert_entra_findings(&fixture(path));
}

#[test]
fn entra_get_mguser_export_csv_powershell_7() {
    let path = "entra/get-mguser-ps7.csv";
    let e = read(path);
    assert_eq!(e.format, IdpFormat::EntraPowerShell);
    assert_eq!(e.summary.preamble, None);
    assert_entra_people(&e);
    assert_eq!(e.summary.date_order.as_deref(), Some("month-first"), "11/18/2026 11:52:00 PM");
    // Xavier's address is only inside his #EXT# user principal name here.
    assert!(e.user("xavier@freelance.example").is_some());
    assert_entra_findings(&fixture(path));
}

#[test]
fn entra_get_mguser_export_csv_powershell_51_with_type_line() {
    let path = "entra/get-mguser-ps51-type.csv";
    let e = read(path);
    assert_eq!(e.format, IdpFormat::EntraPowerShell);
    assert_eq!(
        e.summary.preamble.as_deref(),
        Some("#TYPE Selected.Microsoft.Graph.PowerShell.Models.MicrosoftGraphUser")
    );
    assert_eq!(e.summary.delimiter, ";");
    assert_entra_people(&e);
    assert_eq!(e.summary.date_order.as_deref(), Some("day-first"), "18.11.2026 23:52:00");
    let ada = e.user("ada.active@acme.example").and_then(|u| u.last_login_at).expect("read");
    assert_eq!(ada.to_rfc3339(), "2026-11-18T23:52:00+00:00");
    assert_entra_findings(&fixture(path));
}

#[test]
fn entra_get_mguser_export_csv_powershell_51_unicode_without_type_line() {
    let path = "entra/get-mguser-ps51-unicode.csv";
    let e = read(path);
    assert_eq!((e.format, e.summary.encoding), (IdpFormat::EntraPowerShell, TextEncoding::Utf16LeBom));
    assert_eq!(e.summary.preamble, None);
    assert_entra_people(&e);
    assert_eq!(e.summary.date_order.as_deref(), Some("day-first"), "18/11/2026 23:52:00");
    assert_entra_findings(&fixture(path));
}

#[test]
fn entra_get_mguser_convertto_json() {
    let path = "entra/get-mguser.json";
    let e = read(path);
    assert_eq!(e.format, IdpFormat::EntraJson);
    assert_entra_people(&e);
    assert_entra_findings(&fixture(path));
}

#[test]
fn entra_graph_users_json() {
    let path = "entra/graph-users.json";
    let e = read(path);
    assert_eq!(e.format, IdpFormat::EntraJson);
    assert_entra_people(&e);
    assert_entra_findings(&fixture(path));
}

#[test]
fn entra_guests_are_matched_but_never_cover_their_domain_even_among_other_exports() {
    // With Okta's export too, kim@contractor.example stays unflagged: no export covers her domain.
    let set = analyze_with(&[fixture("entra/download-users.csv"), fixture("okta/password-health.csv")]);
    let got = idp_lines(&set);
    assert!(!got.iter().any(|l| l.contains("contractor.example")), "{got:?}");
    assert!(got.contains(&format!("{RULE} entra/xavier@freelance.example")), "{got:?}");
    let xavier = finding(&set, RULE, "entra/xavier@freelance.example");
    assert_eq!(xavier.evidence["idp_status"], "suspended");
}

// ---------------------------------------------------------------------------------------------
// Google Workspace: gus.suspended suspended, abby.absent absent.

fn assert_google_people(e: &IdpExport) {
    assert_eq!(e.format.vendor().tag(), "google");
    assert_eq!(status(e, "gus.suspended@acme.example"), Some(IdpStatus::Suspended));
    assert_eq!(status(e, "abby.absent@acme.example"), None);
    assert_eq!(status(e, "ada.active@acme.example"), Some(IdpStatus::Active));
    assert_eq!(e.summary.users, 43);
    assert_eq!(e.domains().iter().collect::<Vec<_>>(), ["acme.example"]);
    assert_eq!(e.summary.warnings, 0, "{:?}", e.warnings());
}

const GOOGLE_FINDINGS: &[&str] = &["google/abby.absent@acme.example", "google/gus.suspended@acme.example"];

#[test]
fn google_download_users_current_layout() {
    let path = "google/download-users.csv";
    let e = read(path);
    assert_eq!(e.format, IdpFormat::GoogleDownload);
    assert_google_people(&e);
    assert_eq!(idp_lines(&analyze_with(&[fixture(path)])), expected(GOOGLE_FINDINGS));
}

#[test]
fn google_download_resaved_by_german_excel() {
    let path = "google/download-users-excel-de.csv";
    let e = read(path);
    assert_eq!((e.format, e.summary.delimiter.as_str()), (IdpFormat::GoogleDownload, ";"));
    assert_google_people(&e);
    assert_eq!(e.summary.date_order.as_deref(), Some("day-first"), "18.11.2026 23:52");
    let ada = e.user("ada.active@acme.example").and_then(|u| u.last_login_at).expect("read");
    assert_eq!(ada.to_rfc3339(), "2026-11-18T23:52:00+00:00");
    assert_eq!(idp_lines(&analyze_with(&[fixture(path)])), expected(GOOGLE_FINDINGS));
}

#[test]
fn google_gam_print_users_with_archived_and_aliases() {
    let path = "google/gam-print-users.csv";
    let e = read(path);
    assert_eq!(e.format, IdpFormat::GoogleGam);
    assert_google_people(&e);
    assert_eq!(status(&e, "dave.deprov@acme.example"), Some(IdpStatus::Deprovisioned), "archived");
    assert_eq!(e.user("mo.mueller@acme.example").and_then(|u| u.alias_of.as_deref()), Some("mo.multi@acme.example"));
    assert_eq!(e.user("ian.invited3@acme.example").map(|u| u.last_login_at), Some(None), "`Never`");
    let mut want = GOOGLE_FINDINGS.to_vec();
    want.push("google/dave.deprov@acme.example");
    assert_eq!(idp_lines(&analyze_with(&[fixture(path)])), expected(&want));
}

// ---------------------------------------------------------------------------------------------
// Through the binary: what was read is said, warnings are summarised, bad inputs are refused.

fn hkaudit() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hkaudit"));
    cmd.env_remove("HKAUDIT_LOG").env("NO_COLOR", "1");
    cmd
}

/// Runs `cmd`, failing the test instead of hanging if it does not finish in 60 s (a FIFO read
/// blocks forever).
fn run_bounded(mut cmd: Command) -> Output {
    use std::process::Stdio;
    let mut child = cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn");
    let start = Instant::now();
    loop {
        if child.try_wait().expect("wait").is_some() {
            return child.wait_with_output().expect("output");
        }
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("{cmd:?} did not finish: it is reading a FIFO or device");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn analyze_says_what_each_idp_file_held_and_findings_json_records_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = run_bounded({
        let mut c = hkaudit();
        c.arg("analyze")
            .arg(acme_snapshot())
            .arg("--idp")
            .arg(fixture("entra/get-mguser-ps51-type.csv"))
            .arg("--idp")
            .arg(fixture("okta/password-health.csv"))
            .arg("--out")
            .arg(dir.path());
        c
    });
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(13), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        stdout.lines().any(|l| l
            == "  idp entra:get-mguser-ps51-type.csv: Microsoft Entra ID Get-MgUser export from PowerShell Export-Csv (UTF-8, ';'): 46 users, switched off 2 (2 suspended, 0 deprovisioned), 2 guests, covers acme.example (derived from its members)"),
        "{stdout}"
    );
    assert!(
        stdout.lines().any(|l| l.starts_with("  idp okta:password-health.csv: Okta Password Health report (UTF-8, ','): 46 users, switched off 3 (1 suspended, 2 deprovisioned), 1 login that is not an email")),
        "{stdout}"
    );
    let raw: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("findings.json")).expect("findings")).expect("json");
    let entra = &raw["inputs"][0];
    assert_eq!(entra["name"], "entra:get-mguser-ps51-type.csv");
    assert_eq!(entra["kind"], "idp");
    let idp = &entra["idp"];
    assert_eq!(idp["format"], "entra-powershell");
    assert_eq!(idp["encoding"], "UTF-8");
    assert_eq!(idp["delimiter"], ";");
    assert_eq!(idp["preamble"], "#TYPE Selected.Microsoft.Graph.PowerShell.Models.MicrosoftGraphUser");
    assert_eq!(
        (idp["users"].as_u64(), idp["suspended"].as_u64(), idp["guests"].as_u64()),
        (Some(46), Some(2), Some(2))
    );
    assert_eq!(idp["domains"], serde_json::json!(["acme.example"]));
    assert_eq!(idp["domains_from"], "derived");
    assert_eq!(idp["warnings"], 0);
    assert_eq!(raw["inputs"][1]["idp"]["non_email_logins"], 1);
}

#[test]
fn configured_idp_domains_are_recorded_as_the_reason_for_coverage() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("hkaudit.toml");
    std::fs::write(&config, "idp_domains = [\"acme.example\", \"contractor.example\"]\n").expect("config");
    let set = {
        let out = dir.path().join("out");
        analyze_snapshot(&AnalyzeOptions {
            snapshot: acme_snapshot().to_owned(),
            idp: vec![fixture("entra/download-users.csv")],
            config: Some(config),
            out: Some(out),
            ..Default::default()
        })
        .expect("analyze")
        .findings
    };
    let idp = set.inputs[0].idp.as_ref().expect("idp summary");
    assert_eq!(
        (idp.domains_from.as_str(), idp.domains.clone()),
        ("idp_domains", vec!["acme.example".to_owned(), "contractor.example".to_owned()])
    );
    // Said explicitly, the tenant does cover contractor.example: kim is then absent from it.
    assert!(idp_lines(&set).contains(&format!("{RULE} entra/kim@contractor.example")), "{:?}", idp_lines(&set));
}

#[test]
fn unreadable_optional_values_are_warnings_summarised_on_stderr_and_in_findings_json() {
    let dir = tempfile::tempdir().expect("tempdir");
    let okta = std::fs::read_to_string(acme_inputs().join("okta-users.csv")).expect("okta");
    let line = okta.lines().position(|l| l.contains("2026-11-18T23:52:00.000Z")).expect("a login time") + 1;
    let bad = okta.replacen("2026-11-18T23:52:00.000Z", "yesterday", 1).replacen("2026-11-19T22:33:00.000Z", "soon", 1);
    let path = dir.path().join("okta-bad-dates.csv");
    std::fs::write(&path, bad).expect("write");
    let out = run_bounded({
        let mut c = hkaudit();
        c.arg("analyze").arg(acme_snapshot()).arg("--idp").arg(&path).arg("--out").arg(dir.path().join("out"));
        c
    });
    let stderr = String::from_utf8_lossy(&out.stderr);
    // The whole export is still read: sam and dave are still found.
    assert_eq!(out.status.code(), Some(13), "{stderr}");
    assert_eq!(
        stderr.trim(),
        format!("hkaudit: warning: 2 warnings in okta-bad-dates.csv, first at line {line}: column `Last Login`: cannot read the date `yesterday`: left unknown (accepted: ISO 8601 such as 2024-03-01T10:00:00Z or 2024-03-01 10:00:00, 2024/03/01 10:00:00 UTC, 18.11.2026 23:52, 18/11/2026 or 11/18/2026 with an optional time and AM/PM, or empty / `Never logged in`) (all of them are in findings.json's inputs)")
    );
    let set = hkaudit::analyze::read_findings(&dir.path().join("out")).expect("findings");
    assert_eq!(idp_lines(&set), expected(OKTA_FINDINGS));
    let idp = set.inputs[0].idp.as_ref().expect("summary");
    assert_eq!(idp.warnings, 2);
    assert_eq!(idp.warning_list[0].line, Some(line));
    assert_eq!(idp.warning_list[0].column.as_deref(), Some("Last Login"));
}

#[test]
fn idp_format_names_the_format_of_an_ambiguous_header() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("mixed.csv");
    std::fs::write(
        &path,
        "Login,Status,primaryEmail,suspended\nsam.suspended@acme.example,SUSPENDED,sam.suspended@acme.example,False\n",
    )
    .expect("write");
    let analyze = |extra: &[&str]| {
        let mut c = hkaudit();
        c.arg("analyze")
            .arg(acme_snapshot())
            .arg("--idp")
            .arg(&path)
            .args(extra)
            .arg("--out")
            .arg(dir.path().join("out"));
        run_bounded(c)
    };
    let refused = analyze(&[]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("fits more than one format") && stderr.contains("--idp-format mixed.csv=google-gam"),
        "{stderr}"
    );
    let read = analyze(&["--idp-format", "mixed.csv=okta-api-csv", "--json"]);
    assert_eq!(read.status.code(), Some(13), "{}", String::from_utf8_lossy(&read.stderr));
    let summary: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&read.stdout).lines().last().expect("json")).expect("json");
    assert_eq!(summary["inputs"][0]["idp"]["format"], "okta-api-csv");
    assert_eq!(summary["inputs"][0]["idp"]["format_given"], true);
    let wrong = analyze(&["--idp-format", "okta-lotus"]);
    assert_eq!(wrong.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("okta-password-health"), "the names are listed");
}

// ---------------------------------------------------------------------------------------------
// Safe, linear reading: regular files only, no ambiguous columns, for every input.

fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().expect("mkfifo runs");
    assert!(status.success(), "mkfifo {}", path.display());
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    names.sort();
    names
}

/// Exit 2, one error naming the file, and nothing new in `out`.
fn assert_refused_naming(out: &Output, file: &Path, needles: &[&str]) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(out.stdout.is_empty(), "{}", String::from_utf8_lossy(&out.stdout));
    assert!(stderr.starts_with("hkaudit: error: "), "{stderr}");
    assert!(stderr.contains(&file.display().to_string()), "the file is named: {stderr}");
    for n in needles {
        assert!(stderr.contains(n), "`{n}` in {stderr}");
    }
}

#[cfg(unix)]
#[test]
fn a_fifo_is_refused_at_once_for_every_input_and_nothing_is_written() {
    let dir = tempfile::tempdir().expect("tempdir");
    let snapshot = acme_copy(dir.path());
    let fifo = dir.path().join("export.csv");
    mkfifo(&fifo);
    let before = files_in(&snapshot);
    for flag in ["--idp", "--authorizations", "--config"] {
        let mut c = hkaudit();
        c.arg("analyze").arg(&snapshot).arg(flag).arg(&fifo);
        let out = run_bounded(c);
        assert_refused_naming(&out, &fifo, &["named pipe (FIFO)", "not a regular file"]);
        assert_eq!(files_in(&snapshot), before, "{flag}: nothing written");
    }
    let plan_dir = dir.path().join("plan");
    let mut c = hkaudit();
    c.arg("plan").arg(&snapshot).arg("--from-worksheet").arg(&fifo).arg("--out").arg(&plan_dir);
    assert_refused_naming(&run_bounded(c), &fifo, &["named pipe (FIFO)"]);
    assert!(!plan_dir.exists(), "plan wrote nothing");
    let closure = dir.path().join("closure");
    let mut c = hkaudit();
    c.arg("certify").arg("--worksheet").arg(&fifo).arg("--snapshot").arg(&snapshot).arg("--out").arg(&closure);
    assert_refused_naming(&run_bounded(c), &fifo, &["named pipe (FIFO)"]);
    assert!(!closure.exists(), "certify wrote nothing");
    let mut c = hkaudit();
    c.args(["snapshots", "prune", "--keep", "0"]).arg(dir.path()).arg("--worksheet").arg(&fifo);
    let out = run_bounded(c);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("named pipe (FIFO)"), "prune names the FIFO");
    assert!(snapshot.join("manifest.json").exists(), "prune removed nothing");
    let mut c = hkaudit();
    c.arg("analyze").arg(&snapshot).arg("--idp").arg("/dev/zero");
    assert_refused_naming(&run_bounded(c), Path::new("/dev/zero"), &["character device"]);
    assert_eq!(files_in(&snapshot), before);
}

#[test]
fn duplicated_header_columns_are_refused_naming_both_and_nothing_is_written() {
    let dir = tempfile::tempdir().expect("tempdir");
    let snapshot = acme_copy(dir.path());
    let before = files_in(&snapshot);
    let okta = std::fs::read_to_string(acme_inputs().join("okta-users.csv")).expect("okta");
    // A second Status column, all ACTIVE: it must not silently win.
    let mut second_status = String::new();
    for (i, line) in okta.lines().enumerate() {
        second_status.push_str(line);
        second_status.push_str(if i == 0 { ",Status\n" } else { ",ACTIVE\n" });
    }
    let login_twice = okta.replacen("User,Login,", "User,Login,Login,", 1);
    for (name, text, needle) in [
        ("second-status.csv", second_status, "`Status` (column 3) and `Status` (column 8)"),
        ("login-twice.csv", login_twice, "`Login` (column 2) and `Login` (column 3)"),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, text).expect("write");
        let mut c = hkaudit();
        c.arg("analyze").arg(&snapshot).arg("--idp").arg(&path);
        let out = run_bounded(c);
        assert_refused_naming(&out, &path, &[needle, &format!("{}:1:", path.display())]);
        assert_eq!(files_in(&snapshot), before, "{name}: nothing written");
    }

    // A worksheet with two decision columns (a reviewer added one): plan and certify refuse it.
    let worksheet = dir.path().join("certification.csv");
    std::fs::write(
        &worksheet,
        "snapshot_id,grant_type,enterprise_account,team,app,user_email,decision,Decision\n\
         acme-fixture,team-membership,acme,acme-web,,ron.removed@acme.example,Approve,Deny\n",
    )
    .expect("write");
    let plan_dir = dir.path().join("plan");
    let mut c = hkaudit();
    c.arg("plan").arg(&snapshot).arg("--from-worksheet").arg(&worksheet).arg("--out").arg(&plan_dir);
    assert_refused_naming(&run_bounded(c), &worksheet, &["`decision` (column 7) and `Decision` (column 8)"]);
    assert!(!plan_dir.exists(), "plan wrote nothing");
    let closure = dir.path().join("closure");
    let mut c = hkaudit();
    c.arg("certify").arg("--worksheet").arg(&worksheet).arg("--snapshot").arg(&snapshot).arg("--out").arg(&closure);
    assert_refused_naming(&run_bounded(c), &worksheet, &["more than one `decision` column"]);
    assert!(!closure.exists(), "certify wrote nothing");
}

#[test]
fn worksheet_line_numbers_are_right_after_a_type_line_and_crlf() {
    let dir = tempfile::tempdir().expect("tempdir");
    let worksheet = dir.path().join("certification.csv");
    // A worksheet re-exported through PowerShell: `#TYPE` first, CRLF, quoted; line 4 is bad.
    std::fs::write(
        &worksheet,
        "#TYPE System.Management.Automation.PSCustomObject\r\n\
         \"snapshot_id\",\"grant_type\",\"enterprise_account\",\"team\",\"app\",\"user_email\",\"decision\"\r\n\
         \"acme-fixture\",\"team-membership\",\"acme\",\"acme-web\",\"\",\"ron.removed@acme.example\",\"Approve\"\r\n\
         \"acme-fixture\",\"team-membership\",\"acme\",\"acme-web\",\"\",\"uma.web@acme.example\",\"Remove\"\r\n",
    )
    .expect("write");
    let err = hkaudit::history::read_worksheet(&worksheet).expect_err("unknown decision");
    let shown = err.to_string();
    assert!(shown.contains(&format!("{}:4:", worksheet.display())) && shown.contains("`Remove`"), "{shown}");
}

#[test]
fn the_risk_report_completeness_section_shows_each_idp_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let snapshot = acme_copy(dir.path());
    let analyzed = run_bounded({
        let mut c = hkaudit();
        c.arg("analyze").arg(&snapshot).arg("--idp").arg(fixture("entra/get-mguser-ps7.csv"));
        c
    });
    assert_eq!(analyzed.status.code(), Some(13), "{}", String::from_utf8_lossy(&analyzed.stderr));
    let out = dir.path().join("report");
    let reported = run_bounded({
        let mut c = hkaudit();
        c.arg("report").arg(&snapshot).args(["--format", "md,html", "--out"]).arg(&out);
        c
    });
    assert!(reported.status.success(), "{}", String::from_utf8_lossy(&reported.stderr));
    let risk = std::fs::read_to_string(out.join("risk.md")).expect("risk.md");
    let section = &risk[..risk.find("## Scope").expect("scope section")];
    assert!(section.contains("## Identity-provider exports read"), "{section}");
    assert!(
        section.contains("| entra:get-mguser-ps7.csv | Microsoft Entra ID Get-MgUser export from PowerShell Export-Csv | UTF-8 | 46 | 2 | 2 | acme.example (derived) | 0 |"),
        "{section}"
    );
    let html = std::fs::read_to_string(out.join("index.html")).expect("index.html");
    let completeness =
        &html[html.find("id=\"completeness\"").expect("section")..html.find("id=\"cost\"").unwrap_or(html.len())];
    assert!(completeness.contains("<h3>Identity-provider exports read</h3>"), "{completeness}");
    assert!(completeness.contains("<td>entra:get-mguser-ps7.csv</td>"), "{completeness}");
}
