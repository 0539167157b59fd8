//! The quarterly access review as a campaign, on acme: who reviews what, the workbooks as a
//! reviewer sees and returns them, progress, the closure against the next quarter's snapshot and
//! its evidence pack, and retention.
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use calamine::{open_workbook_auto, Data, Reader};
use chrono::{NaiveDate, TimeZone, Utc};
use hkaudit::analyze::Config;
use hkaudit::history::review::{self, Campaign, ReviewInput, StartOptions, State};
use hkaudit::history::Closure;
use hkaudit::report::CertRow;
use hkaudit::snapshot::grants::GrantKey;

use crate::history::{two_snapshots, TwoSnapshots};

const FALLBACK: &str = "security@acme.example";
const BIN: &str = env!("CARGO_BIN_EXE_hkaudit");

fn due() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 15).expect("date")
}

fn config() -> Config {
    let mut c = Config::default();
    c.review.fallback_reviewer = Some(FALLBACK.into());
    c
}

fn review_input(snapshot: &Path, config: &Config) -> ReviewInput {
    let model = hkaudit::report::load_model(snapshot, None, config).expect("model");
    let rows: Vec<Vec<String>> =
        model.certification.iter().map(|r| r.cells().iter().map(|c| (*c).to_owned()).collect()).collect();
    ReviewInput::from_table(&CertRow::HEADER, rows).expect("input")
}

/// The 2026q4 snapshot under review in `snapshots/campaigns/2026-Q4`, due 2026-12-15.
struct Quarter {
    s: TwoSnapshots,
    dir: PathBuf,
    campaign: Campaign,
}

async fn quarter() -> Quarter {
    let s = two_snapshots().await;
    let dir = s.old.parent().expect("snapshots").join("campaigns").join("2026-Q4");
    let started = review::start(
        &review_input(&s.old, &config()),
        &config(),
        &StartOptions {
            snapshot_dir: s.old.clone(),
            out: Some(dir.clone()),
            due: Some(due()),
            reviewers: None,
            now: Utc.with_ymd_and_hms(2026, 11, 20, 13, 0, 0).single().expect("time"),
        },
    )
    .expect("start");
    Quarter { s, dir, campaign: started.campaign }
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(BIN).args(args).output().expect("hkaudit runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn p(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn key_of(header: &[String], row: &[String]) -> GrantKey {
    let get = |name: &str| row[header.iter().position(|h| h == name).expect(name)].clone();
    GrantKey {
        grant_type: get("grant_type"),
        enterprise_account: get("enterprise_account"),
        team: get("team"),
        app: get("app"),
        email: get("user_email").to_lowercase(),
    }
}

fn cell_text(d: &Data) -> String {
    match d {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Float(f) => format!("{f}"),
        Data::Int(i) => i.to_string(),
        other => format!("{other}"),
    }
}

/// Every sheet of a workbook as text rows (header first), by sheet name.
fn sheets(path: &Path) -> Vec<(String, Vec<Vec<String>>)> {
    let mut book = open_workbook_auto(path).expect("workbook opens");
    let names = book.sheet_names().to_vec();
    names
        .into_iter()
        .map(|n| {
            let range = book.worksheet_range(&n).expect("sheet");
            let rows = range.rows().map(|r| r.iter().map(cell_text).collect()).collect();
            (n, rows)
        })
        .collect()
}

/// What a reviewer writes: `(decision, justification)` per grant, `None` to leave it.
type Decide<'a> = &'a dyn Fn(&GrantKey) -> Option<(&'static str, &'static str)>;

/// A reviewer's work: the sent workbook read with calamine, decisions written into it, saved as
/// a new .xlsx the way a spreadsheet writes one (numbers as numbers, the date as a date cell).
fn fill_xlsx(sent: &Path, returned: &Path, decide: Decide<'_>) -> usize {
    let mut book = rust_xlsxwriter::Workbook::new();
    let mut decided = 0;
    let date = rust_xlsxwriter::ExcelDateTime::from_ymd(2026, 12, 1).expect("date");
    let date_format = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
    for (name, rows) in sheets(sent) {
        let ws = book.add_worksheet();
        ws.set_name(&name).expect("name");
        let header = rows.first().cloned().unwrap_or_default();
        let col = |n: &str| header.iter().position(|h| h == n);
        for (r, row) in rows.iter().enumerate() {
            let mut row = row.clone();
            let mut dated = false;
            if r > 0 && col("decision").is_some() {
                if let Some((d, j)) = decide(&key_of(&header, &row)) {
                    row[col("decision").expect("decision")] = d.into();
                    row[col("justification").expect("justification")] = j.into();
                    dated = true;
                    decided += 1;
                }
            }
            for (c, v) in row.iter().enumerate() {
                let (r, c) = (r as u32, c as u16);
                if dated && Some(c as usize) == col("decision_date") {
                    ws.write_datetime_with_format(r, c, &date, &date_format).expect("date");
                } else if let Ok(n) = v.parse::<f64>() {
                    ws.write_number(r, c, n).expect("number");
                } else if !v.is_empty() {
                    ws.write_string(r, c, v).expect("string");
                }
            }
        }
    }
    std::fs::create_dir_all(returned.parent().expect("parent")).expect("mkdir");
    book.save(returned).expect("save");
    decided
}

/// The same for the reviewer who prefers the CSV.
fn fill_csv(sent: &Path, returned: &Path, decide: Decide<'_>) -> usize {
    let mut reader = csv::Reader::from_path(sent).expect("csv");
    let header: Vec<String> = reader.headers().expect("header").iter().map(str::to_owned).collect();
    let col = |n: &str| header.iter().position(|h| h == n).expect(n);
    let mut w = csv::Writer::from_path(returned).expect("write");
    w.write_record(&header).expect("header");
    let mut decided = 0;
    for r in reader.records() {
        let mut row: Vec<String> = r.expect("row").iter().map(str::to_owned).collect();
        if let Some((d, j)) = decide(&key_of(&header, &row)) {
            row[col("decision")] = d.into();
            row[col("justification")] = j.into();
            row[col("decision_date")] = "2026-12-02".into();
            decided += 1;
        }
        w.write_record(&row).expect("row");
    }
    w.flush().expect("flush");
    decided
}

fn items_of<'c>(c: &'c Campaign, reviewer: &str) -> Vec<&'c review::Item> {
    c.items.iter().filter(|i| i.reviewer == reviewer).collect()
}

fn item<'c>(c: &'c Campaign, grant: &str, scope: &str, email: &str) -> &'c review::Item {
    c.items
        .iter()
        .find(|i| {
            i.key.grant_type == grant
                && [&i.key.team, &i.key.app, &i.key.enterprise_account].contains(&&scope.to_owned())
                && i.key.email == email
        })
        .unwrap_or_else(|| panic!("{grant} {scope} {email}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn review_start_puts_every_acme_grant_in_exactly_one_workbook_and_nobody_reviews_their_own() {
    let q = quarter().await;
    let c = &q.campaign;
    let grants = hkaudit::snapshot::grants::load_grants(&hkaudit::snapshot::Snapshot::open(&q.s.old).expect("open"))
        .expect("grants");
    let all: BTreeSet<&GrantKey> = grants.iter().map(|g| &g.key).collect();
    let items: BTreeSet<&GrantKey> = c.items.iter().map(|i| &i.key).collect();
    assert_eq!(items, all, "the campaign reviews every grant of the snapshot");
    assert_eq!(c.items.len(), all.len(), "each grant once");

    // Each workbook holds exactly its reviewer's rows, and the workbooks together hold every grant once.
    let mut seen: BTreeMap<GrantKey, String> = BTreeMap::new();
    for r in &c.reviewers {
        let back = hkaudit::history::read_back(&q.dir.join(&r.xlsx)).expect("xlsx reads back");
        let keys: Vec<GrantKey> = back.rows().map(|row| row.key.clone()).collect();
        assert_eq!(keys.len(), r.rows);
        let mine: BTreeSet<GrantKey> = items_of(c, &r.email).iter().map(|i| i.key.clone()).collect();
        assert_eq!(keys.iter().cloned().collect::<BTreeSet<_>>(), mine, "{}", r.email);
        for k in keys {
            assert!(seen.insert(k.clone(), r.email.clone()).is_none(), "{} in two workbooks", k.display());
        }
        assert!(back.rows().all(|row| row.reviewer == r.email), "the reviewer column names them");
        let csv = hkaudit::history::read_back(&q.dir.join(&r.csv)).expect("csv reads back");
        assert_eq!(csv.rows().map(|row| row.key.clone()).collect::<BTreeSet<_>>(), mine, "the CSV holds the same");
    }
    assert_eq!(seen.len(), all.len());

    // Nobody reviews their own access, under any email of their user id.
    let by_email: BTreeMap<&str, Option<&str>> =
        grants.iter().map(|g| (g.key.email.as_str(), g.user_id.as_deref())).collect();
    for i in &c.items {
        assert_ne!(i.reviewer, i.key.email, "{} reviews their own {}", i.reviewer, i.key.display());
        if let (Some(h), Some(Some(r))) = (&i.holder_id, by_email.get(i.reviewer.as_str())) {
            assert_ne!(h.as_str(), *r, "{} reviews their own {} under another email", i.reviewer, i.key.display());
        }
    }
    // The audit identity is an admin of every team, yet reviews nothing: it is not a person.
    assert!(c.reviewer("audit-bot@acme.example").is_none());

    // The defaults: the first admin of a team, the next one for the first's own row; the
    // account's managers for its membership; a personal app's owner for its collaborators.
    assert_eq!(
        item(c, "team-membership", "acme-platform", "ivan.idle@acme.example").reviewer,
        "carol.cto@acme.example"
    );
    assert_eq!(
        item(c, "team-membership", "acme-platform", "carol.cto@acme.example").reviewer,
        "pat.platform@acme.example"
    );
    assert_eq!(
        item(c, "team-invitation", "acme-web", "ivy.invited40@acme.example").reviewer,
        "alan.no2fa@acme.example"
    );
    assert_eq!(item(c, "team-membership", "acme-web", "alan.no2fa@acme.example").reviewer, "wendy.web@acme.example");
    assert_eq!(
        item(c, "app-permission", "acme-billing", "quinn.payments@acme.example").reviewer,
        "priya.payments@acme.example"
    );
    assert_eq!(item(c, "enterprise-membership", "acme", "dave.deprov@acme.example").reviewer, "carol.cto@acme.example");
    assert_eq!(item(c, "enterprise-membership", "acme", "carol.cto@acme.example").reviewer, "eve.eadmin@acme.example");
    let paul = item(c, "personal-app-collaborator", "olga-scratch", "paul.pcollab@acme.example");
    assert_eq!(
        (paul.reviewer.as_str(), paul.basis.as_str()),
        ("olga.ops@acme.example", "owner of personal app olga-scratch")
    );
    // acme-labs' only admin is the audit identity and it belongs to no account: the fallback.
    let labs: Vec<&review::Item> = c.items.iter().filter(|i| i.key.team == "acme-labs").collect();
    assert_eq!(labs.len(), 4);
    assert!(labs.iter().all(|i| i.reviewer == FALLBACK && i.basis.starts_with("fallback reviewer: team acme-labs")));
    assert_eq!(c.reviewer(FALLBACK).expect("fallback reviewer").fallback_rows, 4);
    assert_eq!(c.items.iter().filter(|i| i.basis.starts_with("fallback")).count(), 4);
}

#[tokio::test(flavor = "multi_thread")]
async fn review_start_on_the_command_line_says_how_many_rows_went_to_the_fallback() {
    let s = two_snapshots().await;
    let toml = s.dir.path().join("hkaudit.toml");
    std::fs::write(&toml, format!("[review]\nfallback_reviewer = \"{FALLBACK}\"\n")).expect("write");
    let (code, out, err) = run(&["review", "start", p(&s.old), "--due", "2026-12-15", "--config", p(&toml)]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("4 rows went to the fallback reviewer security@acme.example:"), "{out}");
    assert!(out.contains("  4: team acme-labs has no admin who can review this grant"), "{out}");
    // By default the campaign lands beside the snapshot, where `snapshots prune` finds it.
    let dir = s.old.parent().expect("snapshots").join("campaigns/2026-Q4-2026q4");
    assert_eq!(out.lines().last(), Some(p(&dir)), "{out}");
    assert!(dir.join("campaign.json").is_file() && dir.join("returned").is_dir());
    // Never over an existing campaign: its returned workbooks would be lost.
    let (code, _, err) = run(&["review", "start", p(&s.old), "--config", p(&toml)]);
    assert_eq!(code, 2);
    assert!(err.contains("already there"), "{err}");

    // Without a fallback reviewer, the grants nobody can review are an error that says what to do.
    let (code, _, err) = run(&["review", "start", p(&s.old), "--out", p(&s.dir.path().join("c2"))]);
    assert_eq!(code, 2);
    assert!(err.contains("4 grants cannot be assigned") && err.contains("fallback_reviewer"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reviewers_file_overrides_the_defaults_in_csv_and_toml() {
    let s = two_snapshots().await;
    let csv = s.dir.path().join("reviewers.csv");
    std::fs::write(
        &csv,
        "scope,name,reviewer\nteam,acme-labs,lars.labs@acme.example\nteam,acme-labs,lena.labs@acme.example\napp,olga-scratch,omar.ops@acme.example\n",
    )
    .expect("write");
    let toml = s.dir.path().join("reviewers.toml");
    std::fs::write(
        &toml,
        "[team]\nacme-labs = [\"lars.labs@acme.example\", \"lena.labs@acme.example\"]\n[app]\nolga-scratch = \"omar.ops@acme.example\"\n",
    )
    .expect("write");
    let mut assigned = Vec::new();
    for (n, file) in [&csv, &toml].into_iter().enumerate() {
        let started = review::start(
            &review_input(&s.old, &Config::default()),
            &Config::default(),
            &StartOptions {
                snapshot_dir: s.old.clone(),
                out: Some(s.dir.path().join(format!("c{n}"))),
                due: Some(due()),
                reviewers: Some(file.clone()),
                now: Utc::now(),
            },
        )
        .expect("start without a fallback: the file covers acme-labs");
        assert_eq!(started.fallback_rows(), 0);
        let c = started.campaign;
        assert_eq!(
            item(&c, "team-membership", "acme-labs", "xavier@freelance.example").reviewer,
            "lars.labs@acme.example"
        );
        // lars's own row goes to the next reviewer named for the team.
        assert_eq!(
            item(&c, "team-membership", "acme-labs", "lars.labs@acme.example").reviewer,
            "lena.labs@acme.example"
        );
        assert!(item(&c, "team-membership", "acme-labs", "lars.labs@acme.example")
            .basis
            .contains("named for team acme-labs"));
        assert_eq!(
            item(&c, "personal-app-collaborator", "olga-scratch", "paul.pcollab@acme.example").reviewer,
            "omar.ops@acme.example"
        );
        assigned.push(c.items.iter().map(|i| (i.key.clone(), i.reviewer.clone())).collect::<Vec<_>>());
    }
    assert_eq!(assigned[0], assigned[1], "CSV and TOML say the same");

    // A team that does not exist is a typo, not a silent default.
    std::fs::write(&csv, "scope,name,reviewer\nteam,acme-lab,lars.labs@acme.example\n").expect("write");
    let (code, _, err) =
        run(&["review", "start", p(&s.old), "--reviewers", p(&csv), "--out", p(&s.dir.path().join("c3"))]);
    assert_eq!(code, 2);
    assert!(err.contains("reviewers.csv:2:") && err.contains("team `acme-lab` is not in the review snapshot"), "{err}");
}

/// Text of one part of an .xlsx (a zip of XML files).
fn xlsx_part(path: &Path, part: &str) -> String {
    let file = std::fs::File::open(path).expect("open");
    let mut zip = zip::ZipArchive::new(file).expect("zip");
    let mut entry = zip.by_name(part).expect(part);
    let mut text = String::new();
    std::io::Read::read_to_string(&mut entry, &mut text).expect("read");
    text
}

#[tokio::test(flavor = "multi_thread")]
async fn a_workbook_has_a_sheet_per_team_a_frozen_header_filters_and_the_decision_drop_down() {
    let q = quarter().await;
    let carol = q.campaign.reviewer("carol.cto@acme.example").expect("carol reviews");
    // Her own team and account, plus the own rows of the only other admins of acme-data and
    // acme-payments, which go up to the account's first manager.
    assert_eq!(carol.groups, ["acme-data", "acme-payments", "acme-platform", "enterprise account acme"]);
    for (team, only) in [("acme-data", "dan.data@acme.example"), ("acme-payments", "priya.payments@acme.example")] {
        let mine: Vec<&str> = items_of(&q.campaign, &carol.email)
            .into_iter()
            .filter(|i| i.key.team == team)
            .map(|i| i.key.email.as_str())
            .collect();
        assert_eq!(mine, [only], "{team}");
        assert_eq!(
            item(&q.campaign, "team-membership", team, only).basis,
            format!("manager of enterprise account acme (no other reviewer of the grant's own scope)")
        );
    }
    let path = q.dir.join(&carol.xlsx);
    let names: Vec<String> = sheets(&path).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["acme-data", "acme-payments", "acme-platform", "enterprise account acme", "About this review"]);
    let book = xlsx_part(&path, "xl/workbook.xml");
    assert!(book.contains("name=\"acme-platform\""), "{book}");

    let sheet = xlsx_part(&path, "xl/worksheets/sheet3.xml");
    assert!(
        sheet.contains("<pane ySplit=\"1\" topLeftCell=\"A2\" activePane=\"bottomLeft\" state=\"frozen\"/>"),
        "{sheet}"
    );
    assert!(sheet.contains("<autoFilter ref=\"A1:"), "{sheet}");
    assert!(sheet.contains("type=\"list\""), "{sheet}");
    assert!(sheet.contains("<formula1>\"Approve,Deny,Don't know\"</formula1>"), "{sheet}");
    assert!(!sheet.contains("<f>"), "no cell holds a formula");

    let (_, rows) = &sheets(&path)[2];
    let header = &rows[0];
    let at = |n: &str| header.iter().position(|h| h == n).expect(n);
    // The recommendation sits beside the decision, in the decision column's words.
    assert_eq!(at("recommendation_reason") + 1, at("decision"));
    assert_eq!(at("decision") + 1, at("justification"));
    let ivan = rows.iter().find(|r| r[at("user_email")] == "ivan.idle@acme.example").expect("ivan");
    assert_eq!(ivan[at("recommended_decision")], "Deny");
    assert_eq!(ivan[at("justification_required")], "for Approve and Deny");
    let omar = rows.iter().find(|r| r[at("user_email")] == "omar.ops@acme.example").expect("omar");
    assert_eq!(
        (omar[at("recommended_decision")].as_str(), omar[at("justification_required")].as_str()),
        ("Approve", "for Deny")
    );
    for r in &rows[1..] {
        assert!(["Approve", "Deny"].contains(&r[at("recommended_decision")].as_str()), "{r:?}");
    }
    // Only carol's scope: nobody of another team is on her sheets.
    assert!(rows[1..].iter().all(|r| r[at("team")] == "acme-platform"));
    // days_inactive is a number where it is one, and empty where there is none (never text).
    let mut book = open_workbook_auto(&path).expect("open");
    let range = book.worksheet_range("acme-platform").expect("sheet");
    let cells: Vec<&Data> = range.rows().skip(1).map(|r| &r[at("days_inactive")]).collect();
    assert!(cells.iter().any(|d| matches!(d, Data::Float(_))), "{cells:?}");
    assert!(cells.iter().all(|d| matches!(d, Data::Float(_) | Data::Empty) || d.to_string().is_empty()), "{cells:?}");
    assert!(cells.iter().any(|d| !matches!(d, Data::Float(_))), "ivan.idle has no number: {cells:?}");
}

#[test]
fn formula_looking_names_stay_text_in_the_workbook() {
    use crate::snapshots_kit as kit;
    let dir = tempfile::tempdir().expect("tempdir");
    let team = "=HYPERLINK(\"http://evil.example\",\"click\")";
    let emails = ["+cmd@acme.example", "@sum@acme.example", "-2+3@acme.example"];
    let mut k = kit::Kit::new().team(team, false).member(team, "boss@acme.example", "admin");
    for e in emails {
        k = k.member(team, e, "member").activity(e, &kit::days_ago(1));
    }
    k = k.activity("boss@acme.example", &kit::days_ago(1));
    k.snapshot_id = "hostile".into();
    let snapshot = k.write_to(dir.path());
    hkaudit::analyze::analyze_snapshot(&hkaudit::analyze::AnalyzeOptions {
        snapshot: snapshot.clone(),
        ..Default::default()
    })
    .expect("analyze");
    let mut config = Config::default();
    config.review.fallback_reviewer = Some(FALLBACK.into());
    let started = review::start(
        &review_input(&snapshot, &config),
        &config,
        &StartOptions {
            snapshot_dir: snapshot.clone(),
            out: Some(dir.path().join("c")),
            due: Some(due()),
            reviewers: None,
            now: Utc::now(),
        },
    )
    .expect("start");
    let boss = started.campaign.reviewer("boss@acme.example").expect("the admin reviews");
    let path = started.dir.join(&boss.xlsx);
    let mut book = open_workbook_auto(&path).expect("open");
    let name = book.sheet_names()[0].clone();
    let formulas = book.worksheet_formula(&name).expect("formulas");
    assert_eq!(formulas.used_cells().count(), 0, "no cell is a formula");
    let range = book.worksheet_range(&name).expect("sheet");
    let texts: Vec<&Data> = range.rows().skip(1).flat_map(|r| r.iter()).collect();
    assert!(texts.contains(&&Data::String(team.into())), "the team's name is a text cell as it is");
    for e in emails {
        assert!(texts.contains(&&Data::String(e.into())), "{e} is a text cell");
    }
    assert!(!xlsx_part(&path, "xl/worksheets/sheet1.xml").contains("<f>"));
    // The CSV neutralises them; reading it back gives the names as they are.
    let csv = std::fs::read_to_string(started.dir.join(&boss.csv)).expect("csv");
    assert!(csv.contains("'=HYPERLINK") && csv.contains("'+cmd@acme.example"), "{csv}");
    let back = hkaudit::history::read_back(&started.dir.join(&boss.csv)).expect("csv back");
    assert!(back.rows().all(|r| r.key.team == team));
    let back = hkaudit::history::read_back(&path).expect("xlsx back");
    assert_eq!(back.rows().filter(|r| emails.contains(&r.key.email.as_str())).count(), 3);
}

/// The reviewers' answers on acme, as the tests fill them in.
fn acme_decisions(k: &GrantKey) -> Option<(&'static str, &'static str)> {
    match (k.grant_type.as_str(), k.team.as_str(), k.email.as_str()) {
        ("team-membership", "acme-platform", "ivan.idle@acme.example") => Some(("Deny", "inactive since May")),
        ("team-membership", "acme-platform", "bo.d91@acme.example") => Some(("Revoke", "left the platform team")),
        ("team-membership", "acme-platform", "ada.active@acme.example") => Some(("Approve", "")),
        ("team-membership", "acme-platform", "omar.ops@acme.example") => Some(("Keep", "")),
        ("team-membership", "acme-platform", "rita.removed@acme.example") => Some(("Deny", "")),
        ("team-membership", "acme-platform", "paul.pcollab@acme.example") => Some(("Maybe", "")),
        ("team-membership", "acme-platform", "vera.viewer@acme.example") => Some(("Don't know", "")),
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn decisions_filled_into_the_workbooks_are_read_back_and_counted() {
    let q = quarter().await;
    let c = &q.campaign;
    let carol = c.reviewer("carol.cto@acme.example").expect("carol");
    assert_eq!(fill_xlsx(&q.dir.join(&carol.xlsx), &q.dir.join("returned/carol.xlsx"), &acme_decisions), 7);
    // olga prefers the CSV; she approves paul's collaboration on her app, with a reason (it has a finding).
    let olga = c.reviewer("olga.ops@acme.example").expect("olga");
    let n = fill_csv(&q.dir.join(&olga.csv), &q.dir.join("returned/olga.csv"), &|k| {
        (k.app == "olga-scratch").then_some(("Approve", "pairs with me on it"))
    });
    assert_eq!(n, 1);

    let st = review::status(&q.dir, due()).expect("status");
    let carol_st = st.reviewers.iter().find(|r| r.reviewer == carol.email).expect("carol");
    let platform = carol_st.groups.iter().find(|g| g.group == "acme-platform").expect("platform");
    // ivan Deny+reason, bo Revoke+reason, ada Approve (no finding), omar Keep: 4 decided;
    // rita Deny without a reason, paul's unknown word: 2 invalid; vera: Don't know.
    assert_eq!(
        (
            platform.counts.decided,
            platform.counts.approved,
            platform.counts.denied,
            platform.counts.invalid,
            platform.counts.dont_know
        ),
        (4, 2, 2, 2, 1)
    );
    assert_eq!(platform.counts.undecided, platform.counts.rows - 7);
    let ea = carol_st.groups.iter().find(|g| g.group == "enterprise account acme").expect("ea");
    assert_eq!(ea.counts.undecided, ea.counts.rows, "nothing decided there yet");
    assert_eq!(carol_st.returned, ["returned/carol.xlsx"]);
    let olga_st = st.reviewers.iter().find(|r| r.reviewer == olga.email).expect("olga");
    assert_eq!((olga_st.counts.rows, olga_st.counts.decided), (1, 1));
    assert!(!olga_st.overdue && !st.overdue, "not overdue on the due date");
    assert!(!st.complete);
    assert_eq!(st.counts.decided, 5);

    let state = |email: &str| {
        st.items.iter().find(|i| i.key.team == "acme-platform" && i.key.email == email).expect(email).clone()
    };
    assert_eq!(state("bo.d91@acme.example").state, State::Denied, "Revoke is Deny");
    assert_eq!(state("omar.ops@acme.example").state, State::Approved, "Keep is Approve");
    let ivan = state("ivan.idle@acme.example");
    assert_eq!(
        ivan.entry.as_ref().map(|e| e.decision_date.as_str()),
        Some("2026-12-01"),
        "a date cell reads as a date"
    );
    assert!(state("rita.removed@acme.example").problems[0].ends_with("a Deny needs a justification"));
    assert!(state("paul.pcollab@acme.example").problems[0].contains("decision `Maybe` is not a decision hkaudit knows"));
    // Approving a flagged row needs a reason: ada has none, so no reason is needed; sam has one.
    assert_eq!(state("ada.active@acme.example").state, State::Approved);

    // A day after the due date the open reviewers are overdue; the command line says so and fails.
    let st = review::status(&q.dir, due().succ_opt().expect("day")).expect("status");
    assert!(st.overdue);
    assert!(st.reviewers.iter().find(|r| r.reviewer == carol.email).expect("carol").overdue);
    assert!(!st.reviewers.iter().find(|r| r.reviewer == olga.email).expect("olga").overdue, "olga is done");
    let (code, out, _) = run(&["review", "status", p(&q.dir), "--json"]);
    assert_eq!(code, 5, "incomplete");
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["counts"]["decided"], 5);
    assert_eq!(v["complete"], false);
    let invalid: Vec<&str> = v["invalid"]
        .as_array()
        .expect("invalid rows")
        .iter()
        .map(|i| i["key"]["email"].as_str().expect("email"))
        .collect();
    assert_eq!(invalid, ["paul.pcollab@acme.example", "rita.removed@acme.example"]);
    let (code, out, _) = run(&["review", "status", p(&q.dir)]);
    assert_eq!(code, 5);
    assert!(
        out.contains("5 of ") && out.contains("carol.cto@acme.example") && out.contains("Deny needs a justification"),
        "{out}"
    );
}

/// Every reviewer decides every row: Deny for ivan and rita (with reasons), Approve for the rest
/// (with a reason where the row has a finding).
fn decide_all(q: &Quarter) {
    for r in &q.campaign.reviewers {
        let flagged: BTreeSet<GrantKey> =
            q.campaign.items.iter().filter(|i| i.flagged && i.reviewer == r.email).map(|i| i.key.clone()).collect();
        let decide = move |k: &GrantKey| -> Option<(&'static str, &'static str)> {
            match (k.grant_type.as_str(), k.team.as_str(), k.email.as_str()) {
                ("team-membership", "acme-platform", "ivan.idle@acme.example") => Some(("Deny", "inactive since May")),
                ("team-membership", "acme-data", "rita.removed@acme.example") => Some(("Deny", "left the company")),
                _ if flagged.contains(k) => Some(("Approve", "still needed: reviewed with the team")),
                _ => Some(("Approve", "")),
            }
        };
        let name = r.email.split('@').next().expect("name");
        fill_xlsx(&q.dir.join(&r.xlsx), &q.dir.join(format!("returned/{name}.xlsx")), &decide);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn review_close_refuses_while_rows_are_undecided() {
    let q = quarter().await;
    let carol = q.campaign.reviewer("carol.cto@acme.example").expect("carol");
    fill_xlsx(&q.dir.join(&carol.xlsx), &q.dir.join("returned/carol.xlsx"), &acme_decisions);
    let before: Vec<_> = std::fs::read_dir(&q.dir).expect("dir").flatten().map(|e| e.file_name()).collect();
    let (code, out, err) = run(&["review", "close", p(&q.dir), "--snapshot", p(&q.s.new)]);
    assert_eq!(code, 5, "{out}{err}");
    assert!(err.contains("is not closed") && err.contains("--accept-undecided"), "{err}");
    assert!(err.starts_with("hkaudit: error: "), "one style for errors: {err}");
    let after: Vec<_> = std::fs::read_dir(&q.dir).expect("dir").flatten().map(|e| e.file_name()).collect();
    assert_eq!(before, after, "nothing written");
    // The alias refuses alike.
    let (code, _, _) = run(&["certify", p(&q.dir), "--snapshot", p(&q.s.new)]);
    assert_eq!(code, 5);
}

#[tokio::test(flavor = "multi_thread")]
async fn review_close_lists_approvals_denials_and_access_granted_since() {
    let q = quarter().await;
    decide_all(&q);
    let st = review::status(&q.dir, due()).expect("status");
    assert!(st.complete, "{:?}", st.problems);
    // The denials become a plan, each step naming the workbook row it carries out.
    let plan_dir = q.s.dir.path().join("plan");
    let (code, _, err) = run(&["plan", p(&q.s.old), "--from-campaign", p(&q.dir), "--out", p(&plan_dir)]);
    assert_eq!(code, 0, "{err}");
    let script = std::fs::read_to_string(plan_dir.join("plan.sh")).expect("plan.sh");
    assert!(script.contains("heroku members:remove ivan.idle@acme.example --team=acme-platform\n"), "{script}");
    assert!(script.contains("heroku members:remove rita.removed@acme.example --team=acme-data\n"), "{script}");
    assert!(
        script.contains("#   worksheet returned/carol.cto.xlsx (sheet acme-platform) line ")
            && script.contains(": Deny by carol.cto@acme.example on 2026-12-01: inactive since May"),
        "{script}"
    );
    assert_eq!(script.matches("heroku members:remove").count(), 2, "only the denials: {script}");
    let (code, out, err) = run(&["review", "close", p(&q.dir), "--snapshot", p(&q.s.new), "--json"]);
    assert_eq!(code, 4, "rita's denial was not carried out: {err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    let c: hkaudit::history::ClosureReport = serde_json::from_value(v["closure"].clone()).expect("closure");
    let by = |cl: Closure| -> Vec<String> {
        c.rows
            .iter()
            .filter(|r| r.closure == cl)
            .map(|r| format!("{} {} {}", r.key.grant_type, r.key.team, r.key.email))
            .collect()
    };
    assert_eq!(by(Closure::Done), ["team-membership acme-platform ivan.idle@acme.example"]);
    assert_eq!(by(Closure::StillPresent), ["team-membership acme-data rita.removed@acme.example"]);
    // hana's invitation is new; vic's promotion from viewer to member was not reviewed either.
    assert_eq!(
        by(Closure::NewSince),
        ["team-invitation acme-data hana.hr@acme.example", "team-membership acme-payments vic.viewer@acme.example"]
    );
    assert_eq!(by(Closure::Kept).len(), q.campaign.items.len() - 2);
    let vic = c
        .rows
        .iter()
        .find(|r| r.closure == Closure::NewSince && r.key.email == "vic.viewer@acme.example")
        .expect("vic");
    assert_eq!(vic.note, "role viewer → member since snapshot 2026q4: the new role was not reviewed");
    assert!(by(Closure::NotReviewed).is_empty());
    assert_eq!(c.undecided, 0);
    // Every approval carries its reviewer, date, justification and the file it came from.
    let sam = c
        .rows
        .iter()
        .find(|r| {
            r.closure == Closure::Kept && r.key.email == "sam.suspended@acme.example" && r.key.team == "acme-platform"
        })
        .expect("sam");
    assert_eq!(
        (sam.reviewer.as_str(), sam.decision_date.as_str(), sam.justification.as_str()),
        ("carol.cto@acme.example", "2026-12-01", "still needed: reviewed with the team")
    );
    assert!(sam.source.starts_with("returned/carol.cto.xlsx, sheet acme-platform, row "), "{}", sam.source);

    let md = std::fs::read_to_string(q.dir.join("closure.md")).expect("closure.md");
    assert!(md.contains("## Approvals"), "{md}");
    assert!(md.contains("| sam.suspended@acme.example | carol.cto@acme.example | 2026-12-01 | still needed: reviewed with the team |"), "{md}");
    assert!(md.contains("## Not reviewed: new since"), "{md}");
    assert!(
        md.contains(
            "| team-invitation | acme-data |  | hana.hr@acme.example | role member; granted after snapshot 2026q4"
        ),
        "{md}"
    );
    assert!(md.contains("**Not closed: some denied grants are still present.**"), "{md}");
    let csv = std::fs::read_to_string(q.dir.join("closure.csv")).expect("closure.csv");
    assert!(csv.lines().any(|l| l.contains("not reviewed: new since") && l.contains("hana.hr@acme.example")), "{csv}");
}

#[tokio::test(flavor = "multi_thread")]
async fn accepting_undecided_rows_records_who_accepted() {
    let q = quarter().await;
    let carol = q.campaign.reviewer("carol.cto@acme.example").expect("carol");
    fill_xlsx(&q.dir.join(&carol.xlsx), &q.dir.join("returned/carol.xlsx"), &acme_decisions);
    let (code, _, err) = run(&[
        "review",
        "close",
        p(&q.dir),
        "--snapshot",
        p(&q.s.new),
        "--accept-undecided",
        "dana.director@acme.example",
    ]);
    assert_eq!(code, 4, "bo's Revoke was not carried out: {err}");
    let c: hkaudit::history::ClosureReport =
        serde_json::from_str(&std::fs::read_to_string(q.dir.join("closure.json")).expect("json")).expect("closure");
    let a = c.accepted_undecided.as_ref().expect("acceptance recorded");
    assert_eq!(a.by, "dana.director@acme.example");
    assert_eq!(a.rows, q.campaign.items.len() - 4, "ivan, bo, ada and omar are decided");
    let rita = c
        .rows
        .iter()
        .find(|r| r.key.email == "rita.removed@acme.example" && r.key.team == "acme-platform")
        .expect("rita");
    assert_eq!(rita.closure, Closure::NotReviewed);
    assert!(rita.note.starts_with("invalid: ") && rita.note.ends_with("a Deny needs a justification"), "{}", rita.note);
    let md = std::fs::read_to_string(q.dir.join("closure.md")).expect("md");
    assert!(
        md.contains(&format!(
            "> **Accepted undecided:** {} reviewed rows without a decision, accepted by dana.director@acme.example at ",
            a.rows
        )),
        "{md}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_evidence_pack_verifies_and_a_tampered_file_fails() {
    let q = quarter().await;
    decide_all(&q);
    let (code, out, err) = run(&["review", "close", p(&q.dir), "--snapshot", p(&q.s.new)]);
    assert_eq!(code, 4, "{err}");
    let digest = out.lines().last().and_then(|l| l.rsplit(' ').next()).expect("digest").to_owned();
    assert_eq!(digest.len(), 64, "{out}");
    let pack = q.dir.join("evidence");
    let mut files: Vec<String> = std::fs::read_to_string(pack.join("SHA256SUMS"))
        .expect("sums")
        .lines()
        .map(|l| l.split_once("  ").expect("line").1.to_owned())
        .collect();
    files.sort();
    let mut want: Vec<String> = q
        .campaign
        .reviewers
        .iter()
        .map(|r| format!("returned/{}.xlsx", r.email.split('@').next().expect("name")))
        .collect();
    want.extend(
        [
            "VERSION",
            "campaign.json",
            "closure.csv",
            "closure.json",
            "closure.md",
            "manifests/close-2027q1.json",
            "manifests/review-2026q4.json",
        ]
        .map(String::from),
    );
    want.sort();
    assert_eq!(files, want);
    assert_eq!(
        std::fs::read_to_string(pack.join("VERSION")).expect("version"),
        format!("hkaudit {}\n", env!("CARGO_PKG_VERSION"))
    );
    let (code, out, _) = run(&["review", "verify", p(&q.dir), "--digest", &digest]);
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("verified "), "{out}");

    // A changed decision in the pack's copy of a workbook is caught.
    let carol = pack.join("returned/carol.cto.xlsx");
    let mut bytes = std::fs::read(&carol).expect("read");
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&carol, &bytes).expect("write");
    let (code, out, _) = run(&["review", "verify", p(&q.dir)]);
    assert_eq!(code, 6, "{out}");
    assert!(out.contains("FAILED returned/carol.cto.xlsx: changed since the pack was made"), "{out}");
    bytes[last] ^= 1;
    std::fs::write(&carol, &bytes).expect("restore");
    // So is a file slipped in, and a pack whose SHA256SUMS was rewritten to match.
    std::fs::write(pack.join("returned/extra.csv"), "x").expect("write");
    let (code, out, _) = run(&["review", "verify", p(&pack)]);
    assert_eq!(code, 6);
    assert!(out.contains("returned/extra.csv: not listed in SHA256SUMS"), "{out}");
    std::fs::remove_file(pack.join("returned/extra.csv")).expect("rm");
    let sums = std::fs::read_to_string(pack.join("SHA256SUMS")).expect("sums");
    std::fs::write(pack.join("SHA256SUMS"), sums.replace("campaign.json", "campaign.json\n")).expect("write");
    let (code, out, _) = run(&["review", "verify", p(&pack), "--digest", &digest]);
    assert_eq!(code, 6);
    assert!(out.contains("not the ") && out.contains("recorded at closing"), "{out}");
}

#[tokio::test(flavor = "multi_thread")]
async fn closing_again_keeps_the_earlier_evidence_pack() {
    let q = quarter().await;
    decide_all(&q);
    let (code, _, _) = run(&["review", "close", p(&q.dir), "--snapshot", p(&q.s.new)]);
    assert_eq!(code, 4);
    let (code, _, _) = run(&["certify", p(&q.dir), "--snapshot", p(&q.s.new)]);
    assert_eq!(code, 4, "certify DIR is review close DIR");
    let packs: Vec<String> = std::fs::read_dir(&q.dir)
        .expect("dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("evidence"))
        .collect();
    assert_eq!(packs.len(), 2, "{packs:?}");
    for pack in packs {
        let (code, out, _) = run(&["review", "verify", p(&q.dir.join(&pack))]);
        assert_eq!(code, 0, "{pack}: {out}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn snapshots_prune_keeps_every_snapshot_a_campaign_references() {
    let q = quarter().await;
    let snapshots = q.s.old.parent().expect("snapshots").to_owned();
    // The campaign under the snapshots folder keeps 2026q4 (older than the newest, so prunable).
    let (code, out, err) = run(&["snapshots", "prune", "--keep", "1", "--dry-run", p(&snapshots)]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("kept 2026q4: referenced by campaign 2026-Q4-2026q4"), "{out}");
    assert!(!out.contains("would remove"), "{out}");

    // Moved elsewhere, it is found through --campaign; a returned workbook given as --worksheet works too.
    let away = q.s.dir.path().join("reviews/2026-Q4");
    std::fs::create_dir_all(away.parent().expect("parent")).expect("mkdir");
    std::fs::rename(&q.dir, &away).expect("move");
    let (_, out, _) = run(&["snapshots", "prune", "--keep", "1", "--dry-run", p(&snapshots)]);
    assert!(out.contains("would remove 2026q4"), "without the campaign nothing protects it: {out}");
    let (_, out, _) = run(&["snapshots", "prune", "--keep", "1", "--dry-run", p(&snapshots), "--campaign", p(&away)]);
    assert!(out.contains("kept 2026q4: referenced by campaign"), "{out}");
    let workbook = away.join(&q.campaign.reviewers[0].xlsx);
    let (_, out, _) =
        run(&["snapshots", "prune", "--keep", "1", "--dry-run", p(&snapshots), "--worksheet", p(&workbook)]);
    assert!(out.contains("kept 2026q4: referenced by workbook"), "{out}");

    // Closed, the campaign keeps the snapshot it was closed against too.
    let (code, _, err) = run(&["review", "close", p(&away), "--snapshot", p(&q.s.new), "--accept-undecided", "dana"]);
    assert_eq!(code, 0, "{err}");
    let refs = review::referenced_snapshots(&snapshots, std::slice::from_ref(&away), &[]).expect("refs");
    let ids: BTreeSet<&str> = refs.iter().map(|r| r.snapshot_id.as_str()).collect();
    assert_eq!(ids, BTreeSet::from(["2026q4", "2027q1"]));
    // A real prune with the campaign given removes nothing it needs.
    let (code, _, err) = run(&["snapshots", "prune", "--keep", "0", p(&snapshots), "--campaign", p(&away)]);
    assert_eq!(code, 0, "{err}");
    assert!(q.s.old.join("manifest.json").is_file() && q.s.new.join("manifest.json").is_file());
}

/// LibreOffice, as a reviewer's spreadsheet: CI installs it (`.ci/run`); elsewhere the test
/// says it skipped.
fn soffice() -> Option<&'static str> {
    let found = ["soffice", "libreoffice"]
        .into_iter()
        .find(|b| std::process::Command::new(b).arg("--version").output().is_ok_and(|o| o.status.success()));
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have LibreOffice: .ci/run installs Debian's `libreoffice-calc-nogui`"
        );
        #[allow(clippy::print_stderr)]
        {
            eprintln!("SKIPPED: no LibreOffice on this machine (apt-get install libreoffice-calc-nogui to run the re-save check)");
        }
    }
    found
}

fn libreoffice_convert(soffice: &str, file: &Path, to: &str, out_dir: &Path, profile: &Path) {
    let out = std::process::Command::new(soffice)
        .arg(format!("-env:UserInstallation=file://{}", profile.display()))
        .args(["--headless", "--norestore", "--convert-to", to, "--outdir"])
        .arg(out_dir)
        .arg(file)
        .output()
        .expect("soffice runs");
    assert!(
        out.status.success(),
        "soffice: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_workbook_resaved_by_libreoffice_reads_the_same() {
    let Some(soffice) = soffice() else { return };
    let q = quarter().await;
    let carol = q.campaign.reviewer("carol.cto@acme.example").expect("carol");
    let filled = q.s.dir.path().join("filled/carol.xlsx");
    fill_xlsx(&q.dir.join(&carol.xlsx), &filled, &acme_decisions);
    let before = review::status(&q.dir, due()).expect("status");
    assert_eq!(before.counts.decided, 0);
    std::fs::create_dir_all(q.dir.join("returned")).expect("mkdir");
    std::fs::copy(&filled, q.dir.join("returned/carol.xlsx")).expect("copy");
    let want = review::status(&q.dir, due()).expect("status");
    let summary = |s: &review::Status| {
        s.items
            .iter()
            .map(|i| {
                (i.key.clone(), i.state, i.entry.as_ref().map(|e| (e.decision_date.clone(), e.justification.clone())))
            })
            .collect::<Vec<_>>()
    };
    std::fs::remove_file(q.dir.join("returned/carol.xlsx")).expect("rm");

    // Saved by LibreOffice as .ods and as .xlsx, each read back alone gives the same decisions.
    let profile = q.s.dir.path().join("lo-profile");
    let converted = q.s.dir.path().join("lo");
    for to in ["ods", "xlsx"] {
        let out = converted.join(to);
        std::fs::create_dir_all(&out).expect("mkdir");
        libreoffice_convert(soffice, &filled, to, &out, &profile);
        let file = out.join(format!("carol.{to}"));
        assert!(file.is_file(), "LibreOffice wrote {}", file.display());
        let target = q.dir.join(format!("returned/carol.{to}"));
        std::fs::copy(&file, &target).expect("copy");
        let got = review::status(&q.dir, due()).expect("status");
        assert_eq!(summary(&got), summary(&want), "{to}");
        assert_eq!(got.counts, want.counts, "{to}");
        std::fs::remove_file(&target).expect("rm");
    }
    // The sent workbook itself, re-saved untouched, still reads as carol's rows.
    libreoffice_convert(soffice, &q.dir.join(&carol.xlsx), "ods", &converted, &profile);
    let back = hkaudit::history::read_back(
        &converted.join(Path::new(&carol.xlsx).with_extension("ods").file_name().expect("name")),
    )
    .expect("ods");
    assert_eq!(back.rows().count(), carol.rows);
}

/// The README's quarter, between its markers: each command with the output lines it shows.
fn readme_quarter() -> Vec<(String, Vec<String>)> {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).expect("README");
    let start = readme.find("<!-- quarter:begin -->").expect("quarter begin marker");
    let end = readme.find("<!-- quarter:end -->").expect("quarter end marker");
    let mut steps: Vec<(String, Vec<String>)> = Vec::new();
    for line in readme[start..end].lines().skip(1) {
        if let Some(shown) = line.strip_prefix("#   ") {
            steps.last_mut().expect("output follows a command").1.push(shown.trim().to_owned());
        } else if !line.starts_with('#') && !line.starts_with("```") && !line.trim().is_empty() {
            steps.push((line.split(" # ").next().unwrap_or_default().trim().to_owned(), Vec::new()));
        }
    }
    steps
}

/// Every line the README shows must be in what the command printed: `...` stands for lines left
/// out, and a line ending in `…` for one cut short (`3f1c…`: a digest, whatever it is).
fn assert_shown(command: &str, shown: &[String], stdout: &str) {
    for want in shown.iter().filter(|w| *w != "...") {
        let found = match want.strip_suffix('…') {
            Some(prefix) => {
                let prefix = prefix.trim_end_matches(|c: char| c.is_ascii_hexdigit());
                stdout.lines().any(|l| l.trim().starts_with(prefix))
            }
            None => stdout.lines().any(|l| l.trim() == want),
        };
        assert!(found, "`{command}`: the README shows {want:?}, but it printed:\n{stdout}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_readme_quarter_runs_as_written() {
    let work = tempfile::tempdir().expect("tempdir");
    let w = work.path();
    std::fs::write(w.join("hkaudit.toml"), format!("[review]\nfallback_reviewer = \"{FALLBACK}\"\n")).expect("toml");
    std::fs::copy(crate::acme::acme_dir().join("inputs/okta-users.csv"), w.join("okta-users.csv")).expect("okta");
    let steps = readme_quarter();
    assert!(steps.len() >= 10, "{steps:?}");
    let mut vars: BTreeMap<String, String> = BTreeMap::new();
    let mut extracts = 0;
    let mut digest = String::new();
    let mut campaign = PathBuf::new();
    for (line, shown) in &steps {
        let mut line = line.clone();
        for (k, v) in &vars {
            line = line.replace(&format!("${k}"), v);
        }
        line = line.replace("3f1c…", &digest);
        if let Some((k, v)) = line.split_once('=').filter(|(k, _)| k.chars().all(|c| c.is_ascii_uppercase())) {
            vars.insert(k.to_owned(), v.to_owned());
            continue;
        }
        let words = shlex::split(&line).unwrap_or_else(|| panic!("not a shell line: {line}"));
        if words[0].starts_with("HKAUDIT_PLAN_REVIEWED=") {
            // What the script would do to the organisation: the next snapshot has the grants removed.
            let script = std::fs::read_to_string(w.join(&words[2])).expect("the plan the README runs");
            assert!(script.contains("heroku members:remove ivan.idle@acme.example --team=acme-platform\n"), "{script}");
            assert!(script.contains("heroku members:remove rita.removed@acme.example --team=acme-data\n"), "{script}");
            continue;
        }
        assert_eq!(words[0], "hkaudit", "{line}");
        if words[1] == "extract" {
            // The sandbox's clock is the fixture's, so both extracts are the README's quarter.
            let mut fixture = hkaudit::sandbox::Fixture::load(&crate::acme::acme_dir()).expect("acme");
            let id = if extracts == 0 {
                "20261120T120000Z"
            } else {
                assert!(fixture.remove_team_member("acme-platform", "ivan.idle@acme.example"));
                assert!(fixture.remove_team_member("acme-data", "rita.removed@acme.example"));
                "20270220T120000Z"
            };
            crate::acme::extract_fixture(fixture, &w.join("snapshots"), id).await;
            extracts += 1;
            continue;
        }
        if words[1..3] == ["review", "status"] {
            // The reviewers send their workbooks back.
            let q = Quarter {
                s: TwoSnapshots { dir: tempfile::tempdir().expect("tmp"), old: PathBuf::new(), new: PathBuf::new() },
                dir: campaign.clone(),
                campaign: Campaign::load(&campaign).expect("campaign"),
            };
            decide_all(&q);
        }
        let out = std::process::Command::new(BIN).args(&words[1..]).current_dir(w).output().expect("hkaudit runs");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let code = out.status.code();
        let ok = if words[1] == "analyze" { matches!(code, Some(0 | 10..=14)) } else { code == Some(0) };
        assert!(ok, "`{line}` exited {code:?}: {}{stdout}", String::from_utf8_lossy(&out.stderr));
        assert_shown(&line, shown, &stdout);
        if words[1..3] == ["review", "start"] {
            campaign = w.join(stdout.lines().last().expect("the campaign folder"));
        }
        if words[1..3] == ["review", "close"] {
            digest = stdout.lines().last().and_then(|l| l.rsplit(' ').next()).expect("digest").to_owned();
        }
    }
    assert_eq!(extracts, 2);
    assert!(!digest.is_empty(), "the README closes the campaign");
    for id in ["20261120T120000Z", "20270220T120000Z"] {
        assert!(w.join("snapshots").join(id).join("manifest.json").is_file(), "prune kept {id}");
    }
}
