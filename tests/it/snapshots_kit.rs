//! A harness for analysis tests: small snapshots written the way `extract` writes them (every
//! table present with its full schema, rows given as JSON objects), analysed with the real
//! `analyze_snapshot`, plus the acme fixture extracted once through the in-process sandbox.
#![allow(dead_code)]
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use chrono::{DateTime, Duration, Utc};
use hkaudit::analyze::{analyze_snapshot, AnalyzeOptions, Finding, FindingSet, RuleStatus};
use hkaudit::snapshot::schema::{self, ColumnDef, ColumnType, TableDef};
use hkaudit::snapshot::{ActivityWindow, Gap, Manifest, SnapshotWriter, TableBuilder, FORMAT_VERSION, TABLES};
use serde_json::{json, Value};

/// The instant every kit snapshot is taken at (the acme fixture's `now`).
pub const AS_OF: &str = "2026-11-20T12:00:00Z";
pub const KIT_SNAPSHOT_ID: &str = "kit";
pub const ACME_SNAPSHOT_ID: &str = "acme-fixture";

pub fn as_of() -> DateTime<Utc> {
    AS_OF.parse().expect("AS_OF is RFC 3339")
}

/// `as_of` minus a number of days, RFC 3339.
pub fn days_ago(days: i64) -> String {
    (as_of() - Duration::days(days)).to_rfc3339()
}

/// A table's definition (`src/snapshot/schema.rs`); an unknown table panics.
pub fn table_def(table: &str) -> &'static TableDef {
    schema::table(table).unwrap_or_else(|| panic!("no table {table}"))
}

/// A small organisation, table by table. Unset columns are null; `x_norm` is derived from `x`
/// the way `extract` derives it (trimmed, lower-cased) unless a row sets it.
#[derive(Clone)]
pub struct Kit {
    rows: BTreeMap<&'static str, Vec<Value>>,
    gaps: Vec<Gap>,
    pub account_email: Option<String>,
    pub window_days: u32,
    /// The folder name and manifest id (`kit` unless a test needs two snapshots side by side).
    pub snapshot_id: String,
}

impl Default for Kit {
    fn default() -> Self {
        Kit::new()
    }
}

impl Kit {
    /// Every table empty; the audit identity is `audit@acme.example`; 180 days of activity.
    pub fn new() -> Kit {
        Kit {
            rows: BTreeMap::new(),
            gaps: Vec::new(),
            account_email: Some("audit@acme.example".into()),
            window_days: 180,
            snapshot_id: KIT_SNAPSHOT_ID.into(),
        }
    }

    /// Add a row; an unknown column panics, so a typo cannot silently become a null.
    pub fn row(mut self, table: &str, row: Value) -> Kit {
        let def = table_def(table);
        let obj = row.as_object().unwrap_or_else(|| panic!("{table} row is not an object: {row}"));
        for key in obj.keys() {
            assert!(def.column(key).is_some(), "{table} has no column {key}");
        }
        self.rows.entry(def.name).or_default().push(row);
        self
    }

    pub fn gap(mut self, gap: Gap) -> Kit {
        self.gaps.push(gap);
        self
    }

    /// A team of the enterprise account `acme` (`ea-acme`) or, with `ea = false`, a standalone one.
    pub fn team(self, name: &str, ea: bool) -> Kit {
        let (ea_id, ea_name) = if ea { (json!("ea-acme"), json!("acme")) } else { (Value::Null, Value::Null) };
        self.row("teams", json!({"id": team_id(name), "name": name, "type": if ea {"enterprise"} else {"team"}, "enterprise_account_id": ea_id, "enterprise_account_name": ea_name, "caller_role": "admin", "default": false, "created_at": days_ago(1000)}))
    }

    /// A team with some columns overridden.
    pub fn team_with(self, name: &str, ea: bool, overrides: Value) -> Kit {
        let mut kit = self.team(name, ea);
        let rows = kit.rows.get_mut("teams").expect("teams");
        if let Some(last) = rows.last_mut() {
            merge(last, overrides);
        }
        kit
    }

    /// A team member who joined 400 days ago, with 2FA on, not federated.
    pub fn member(self, team: &str, email: &str, role: &str) -> Kit {
        self.member_with(team, email, role, json!({}))
    }

    /// A member with some columns overridden.
    pub fn member_with(self, team: &str, email: &str, role: &str, overrides: Value) -> Kit {
        let mut row = json!({"team_id": team_id(team), "team_name": team, "member_id": format!("m-{team}-{email}"), "user_id": format!("u-{}", email.to_lowercase()),
                             "email": email, "role": role, "federated": false, "two_factor_authentication": true, "created_at": days_ago(400), "updated_at": days_ago(400)});
        merge(&mut row, overrides);
        self.row("team_members", row)
    }

    pub fn ea_member(self, email: &str, permissions: &[&str]) -> Kit {
        self.row("enterprise_members", json!({"enterprise_account_id": "ea-acme", "enterprise_account_name": "acme", "member_id": format!("eam-{email}"), "user_id": format!("u-{}", email.to_lowercase()),
                                              "email": email, "permissions": permissions, "two_factor_authentication": true, "federated": false}))
    }

    /// A release by `email` at `at`.
    pub fn activity(self, email: &str, at: &str) -> Kit {
        let n = self.rows.get("activity").map_or(0, Vec::len);
        self.row("activity", json!({"id": format!("act-{n}"), "kind": "release", "action": "release.succeeded", "user_email": email, "app_id": "app-1", "app_name": "app-1", "at": at}))
    }

    pub fn invitation(self, team: &str, email: &str, created_at: &str) -> Kit {
        let n = self.rows.get("team_invitations").map_or(0, Vec::len);
        self.row("team_invitations", json!({"id": format!("inv-{n}"), "team_id": team_id(team), "team_name": team, "email": email, "role": "member", "invited_by_email": "admin@acme.example", "created_at": created_at, "updated_at": created_at}))
    }

    /// Write the snapshot into `dir` (`dir/kit`), as `extract` would.
    pub fn write_to(&self, dir: &Path) -> PathBuf {
        let mut writer = SnapshotWriter::begin(dir, &self.snapshot_id).expect("begin snapshot");
        for table in TABLES {
            let rows = self.rows.get(table).cloned().unwrap_or_default();
            let mut df = frame(table, &rows);
            writer.write_table(table, &mut df).expect("write table");
        }
        let as_of = as_of();
        let manifest = Manifest {
            format_version: FORMAT_VERSION,
            snapshot_id: self.snapshot_id.clone(),
            taken_at: as_of,
            as_of,
            api_url: "http://127.0.0.1:1".into(),
            account_email: self.account_email.clone(),
            hkaudit_version: "test".into(),
            activity_window: ActivityWindow {
                days: self.window_days,
                since: as_of - Duration::days(i64::from(self.window_days)),
                until: as_of,
            },
            complete: self.gaps.is_empty(),
            tables: writer.tables().clone(),
            endpoints: BTreeMap::new(),
            rate_limit: None,
            gaps: self.gaps.clone(),
        };
        writer.finish(&manifest).expect("finish snapshot")
    }

    /// Write the snapshot and analyse it with the built-in rules.
    pub fn analyze(&self, inputs: &Extra) -> FindingSet {
        let dir = tempfile::tempdir().expect("tempdir");
        let snapshot = self.write_to(dir.path());
        inputs.analyze(dir.path(), &snapshot).expect("analysis succeeds")
    }
}

/// The inputs beside a snapshot: IdP exports, authorization exports and hkaudit.toml, as text.
#[derive(Default, Clone)]
pub struct Extra {
    pub idp: Vec<(String, String)>,
    pub authorizations: Vec<(String, String)>,
    /// `--signins` logs, and the `--signin-app` names.
    pub signins: Vec<(String, String)>,
    pub signin_apps: Vec<String>,
    pub config: Option<String>,
}

impl Extra {
    pub fn none() -> Extra {
        Extra::default()
    }

    pub fn config(text: &str) -> Extra {
        Extra { config: Some(text.to_owned()), ..Extra::default() }
    }

    pub fn idp(mut self, file: &str, text: &str) -> Extra {
        self.idp.push((file.to_owned(), text.to_owned()));
        self
    }

    pub fn authorizations(mut self, file: &str, json: &Value) -> Extra {
        self.authorizations.push((file.to_owned(), serde_json::to_string_pretty(json).expect("json")));
        self
    }

    pub fn signins(mut self, file: &str, text: &str) -> Extra {
        self.signins.push((file.to_owned(), text.to_owned()));
        self
    }

    pub fn with_config(mut self, text: &str) -> Extra {
        self.config = Some(text.to_owned());
        self
    }

    /// Write the input files into `dir/inputs` and run `analyze_snapshot` (findings go to `dir/out`).
    pub fn analyze(&self, dir: &Path, snapshot: &Path) -> Result<FindingSet, hkaudit::analyze::AnalyzeError> {
        let inputs = dir.join("inputs");
        std::fs::create_dir_all(&inputs).expect("mkdir inputs");
        let write = |name: &str, text: &str| {
            let p = inputs.join(name);
            std::fs::write(&p, text).expect("write input");
            p
        };
        let opts = AnalyzeOptions {
            snapshot: snapshot.to_owned(),
            idp: self.idp.iter().map(|(n, t)| write(n, t)).collect(),
            idp_formats: Vec::new(),
            authorizations: self.authorizations.iter().map(|(n, t)| write(n, t)).collect(),
            signins: self.signins.iter().map(|(n, t)| write(n, t)).collect(),
            signin_apps: self.signin_apps.clone(),
            config: self.config.as_deref().map(|t| write("hkaudit.toml", t)),
            queries: None,
            out: Some(dir.join("out")),
            force: false,
        };
        analyze_snapshot(&opts).map(|a| a.findings)
    }
}

pub fn team_id(name: &str) -> String {
    format!("t-{name}")
}

fn merge(row: &mut Value, overrides: Value) {
    if let (Some(row), Value::Object(o)) = (row.as_object_mut(), overrides) {
        row.extend(o);
    }
}

/// One table's rows as a frame with the table's full schema.
pub fn frame(table: &str, rows: &[Value]) -> polars::prelude::DataFrame {
    let mut b = TableBuilder::new();
    for ColumnDef { name: col, ty, .. } in table_def(table).columns {
        let get = |r: &Value| -> Value {
            match r.get(*col) {
                Some(v) => v.clone(),
                // `x_norm` follows `x` unless given.
                None => match col.strip_suffix("_norm").and_then(|base| r.get(base)) {
                    Some(Value::String(s)) => Value::String(s.trim().to_lowercase()),
                    _ => Value::Null,
                },
            }
        };
        let values: Vec<Value> = rows.iter().map(get).collect();
        b = match ty {
            ColumnType::Str => b.str(col, values.iter().map(|v| v.as_str().map(str::to_owned))),
            ColumnType::Bool => b.bool(col, values.iter().map(Value::as_bool)),
            ColumnType::F64 => b.f64(col, values.iter().map(Value::as_f64)),
            ColumnType::Time => b.time(
                col,
                values.iter().map(|v| {
                    v.as_str().map(|s| s.parse::<DateTime<Utc>>().unwrap_or_else(|e| panic!("{table}.{col}: {s}: {e}")))
                }),
            ),
            ColumnType::List => b.list(
                col,
                values.iter().map(|v| {
                    v.as_array()
                        .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect())
                        .unwrap_or_default()
                }),
            ),
        };
    }
    b.build(table).expect("frame builds")
}

/// A gap on one team's members (a 403), as `extract` records it.
pub fn team_gap(team: &str, tables: &[&str]) -> Gap {
    Gap {
        endpoint: "GET /teams/{team}/members".into(),
        path: format!("/teams/{team}/members"),
        tables: tables.iter().map(|t| (*t).to_owned()).collect(),
        enterprise_account_id: None,
        team_id: Some(team_id(team)),
        team_name: Some(team.into()),
        app_id: None,
        app_name: None,
        status: Some(403),
        error_id: Some("forbidden".into()),
        message: "You do not have access to the team".into(),
        ..Gap::default()
    }
}

/// A finding in the acme README's form: `rule-id subject`, the subject's parts joined with `/`,
/// emails lower-cased. An authorization is written after its owner (`email/id`); every other
/// item (the identity provider) before the person.
pub fn readme_line(f: &Finding) -> String {
    let s = &f.subject;
    let email = s.email.as_ref().map(|e| e.to_lowercase());
    let mut parts: Vec<String> = [&s.enterprise_account, &s.team, &s.app].into_iter().flatten().cloned().collect();
    if f.rule_id == "orphaned-authorization" {
        parts.extend(email);
        parts.extend(s.item.clone());
    } else {
        parts.extend(s.item.clone());
        parts.extend(email);
    }
    format!("{} {}", f.rule_id, parts.join("/"))
}

/// The findings of one rule, in README form, sorted.
pub fn lines_of(set: &FindingSet, rule: &str) -> Vec<String> {
    let mut v: Vec<String> = set.findings.iter().filter(|f| f.rule_id == rule).map(readme_line).collect();
    v.sort();
    v
}

/// Every finding in README form, sorted.
pub fn all_lines(set: &FindingSet) -> Vec<String> {
    let mut v: Vec<String> = set.findings.iter().map(readme_line).collect();
    v.sort();
    v
}

pub fn status_of(set: &FindingSet, rule: &str) -> RuleStatus {
    set.rules.iter().find(|r| r.rule_id == rule).unwrap_or_else(|| panic!("no rule {rule}")).status
}

pub fn finding<'a>(set: &'a FindingSet, rule: &str, subject_line: &str) -> &'a Finding {
    set.findings
        .iter()
        .find(|f| f.rule_id == rule && readme_line(f) == format!("{rule} {subject_line}"))
        .unwrap_or_else(|| panic!("no finding `{rule} {subject_line}` in {:#?}", all_lines(set)))
}

// ---------------------------------------------------------------------------------------------
// The acme fixture.

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn acme_dir() -> PathBuf {
    repo().join("fixtures/acme")
}

pub fn acme_inputs() -> PathBuf {
    acme_dir().join("inputs")
}

/// The three IdP exports and two authorization exports of acme.
pub fn acme_idp_files() -> Vec<PathBuf> {
    ["okta-users.csv", "entra-users.csv", "google-workspace-users.csv"].iter().map(|f| acme_inputs().join(f)).collect()
}

/// acme's sign-in logs: Okta's (111 days, the only one with Heroku), Entra's (30 days), Google's.
pub fn acme_signin_files() -> Vec<PathBuf> {
    ["okta-system-log.json", "entra-signins-30d.csv", "google-saml-log.csv"]
        .iter()
        .map(|f| acme_inputs().join("signins").join(f))
        .collect()
}

pub fn acme_authorization_files() -> Vec<PathBuf> {
    ["heroku-authorizations-dave.deprov.json", "heroku-authorizations-rita.removed.json"]
        .iter()
        .map(|f| acme_inputs().join(f))
        .collect()
}

/// The expected findings, parsed from the README's fenced block at test time.
pub fn readme_expected() -> Vec<String> {
    let text = std::fs::read_to_string(acme_dir().join("README.md")).expect("README");
    let start = text.find("<!-- expected-findings:begin -->").expect("begin marker");
    let end = text.find("<!-- expected-findings:end -->").expect("end marker");
    let mut lines: Vec<String> = text[start..end]
        .lines()
        .skip(1)
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("```"))
        .map(str::to_owned)
        .collect();
    lines.sort();
    lines
}

/// The sandbox's `now` and token, from `fixtures/acme/sandbox.json`.
pub fn acme_now_and_token() -> (DateTime<Utc>, String) {
    let v: Value =
        serde_json::from_slice(&std::fs::read(acme_dir().join("sandbox.json")).expect("sandbox.json")).expect("json");
    let now = v["now"].as_str().expect("now").parse().expect("now is RFC 3339");
    (now, v["tokens"][0]["token"].as_str().expect("token").to_owned())
}

/// Extract acme through the in-process sandbox into `out` (snapshot id `acme-fixture`), with
/// the given teams answering 403.
pub fn extract_acme(out: &Path, forbid_team: &[&str]) -> PathBuf {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    rt.block_on(async {
        let fixture = hkaudit::sandbox::Fixture::load(&acme_dir()).expect("acme loads");
        let mut config = crate::support::config(fixture);
        config.faults.forbid_team = forbid_team.iter().map(|t| (*t).to_owned()).collect();
        let sandbox = hkaudit::sandbox::start(config).await.expect("sandbox starts");
        let (now, token) = acme_now_and_token();
        let base = url::Url::parse(&sandbox.url()).expect("url");
        let mut cfg = hkaudit::heroku::ClientConfig::new(base, hkaudit::heroku::Token::new(token));
        cfg.max_retries = 0;
        let client = hkaudit::heroku::Client::new(cfg).expect("client");
        let mut opts = hkaudit::extract::ExtractOptions::new(out);
        opts.as_of = Some(now);
        opts.snapshot_id = Some(ACME_SNAPSHOT_ID.into());
        let extracted = hkaudit::extract::extract(&client, &opts).await.expect("extract");
        drop(sandbox);
        extracted.path
    })
}

/// The complete acme snapshot, extracted once per test run; never written into (copy it first
/// with [`acme_copy`] when a test writes findings next to it).
pub fn acme_snapshot() -> &'static Path {
    static SNAPSHOT: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, path) = SNAPSHOT.get_or_init(|| {
        // A static is never dropped: remove what earlier runs (their process gone) left behind.
        let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
        for entry in std::fs::read_dir(tmp).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let pid = name.strip_prefix("acme-").and_then(|r| r.split('-').next()).and_then(|p| p.parse::<u32>().ok());
            if pid.is_some_and(|p| p != std::process::id() && !Path::new(&format!("/proc/{p}")).exists()) {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
        let dir =
            tempfile::Builder::new().prefix(&format!("acme-{}-", std::process::id())).tempdir_in(tmp).expect("tempdir");
        let path = extract_acme(dir.path(), &[]);
        (dir, path)
    });
    path
}

/// A private copy of the acme snapshot: `dir/acme-fixture`.
pub fn acme_copy(dir: &Path) -> PathBuf {
    let target = dir.join(ACME_SNAPSHOT_ID);
    std::fs::create_dir_all(&target).expect("mkdir");
    for entry in std::fs::read_dir(acme_snapshot()).expect("read snapshot") {
        let entry = entry.expect("entry");
        std::fs::copy(entry.path(), target.join(entry.file_name())).expect("copy");
    }
    target
}
