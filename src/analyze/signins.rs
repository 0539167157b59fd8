//! Sign-in logs from the identity provider: the one place that sees each SAML sign-in to Heroku,
//! which Heroku itself reports for nobody but the caller.
//!
//! | format | written by | recognised by |
//! |---|---|---|
//! | `okta-log-json` | `GET /api/v1/logs` (array, or NDJSON as saved page by page) | objects with `eventType` and `published` |
//! | `okta-log-csv` | Admin console → Reports → System Log → Download CSV | `eventType`, `published`, `actor.alternateId` |
//! | `entra-signins-csv` | Entra admin center → Sign-in logs → Download → CSV (interactive) | `Date (UTC)`, `Username`, `Application`, `Status` |
//! | `entra-signins-json` | the same download as JSON, or Graph `/auditLogs/signIns` | objects with `createdDateTime`, `userPrincipalName`, `appDisplayName` |
//! | `entra-powershell` | `Get-MgAuditLogSignIn \| Export-Csv` (with or without `#TYPE`) | `CreatedDateTime`, `UserPrincipalName`, `AppDisplayName` |
//! | `google-saml-csv` | Admin console → Reporting → SAML log events → Download (CSV) | `Event`, `Application name`, `Actor`, `Date` |
//! | `google-saml-json` | Reports API `activities.list?applicationName=saml` | objects with `id.time`, `actor.email`, `events` |
//!
//! Only sign-ins to the Heroku application are kept; other applications' rows and events that
//! are not sign-ins are counted, never read as Heroku use. The outcome is `success`, `failure`
//! or `unknown` (PowerShell's `Export-Csv` writes the `Status` object as its type name): only
//! `success` is evidence of use. A row without a user or a readable time is an error with its line.
//! The file's coverage is the span from its first to its last event of any application, since an
//! export of a period lists every application's sign-ins in it.
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDateTime, Utc};
use polars::prelude::DataFrame;
use serde_json::Value;

use super::idp::{column_key, parse_iso};
pub use super::inputs::SigninCoverage;
use super::inputs::{
    email_norm, file_name, line_of, read_text, CsvText, InputError, InputRecord, InputWarning, TextEncoding,
};
use crate::snapshot::TableBuilder;

/// The application names taken for Heroku when `--signin-app` names none (compared ignoring case).
pub const DEFAULT_APPS: &[&str] = &["heroku", "heroku enterprise", "heroku sso", "heroku (saml)"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigninFormat {
    OktaJson,
    OktaCsv,
    EntraCsv,
    EntraJson,
    EntraPowershell,
    GoogleCsv,
    GoogleJson,
}

impl SigninFormat {
    pub fn name(self) -> &'static str {
        match self {
            SigninFormat::OktaJson => "okta-log-json",
            SigninFormat::OktaCsv => "okta-log-csv",
            SigninFormat::EntraCsv => "entra-signins-csv",
            SigninFormat::EntraJson => "entra-signins-json",
            SigninFormat::EntraPowershell => "entra-powershell",
            SigninFormat::GoogleCsv => "google-saml-csv",
            SigninFormat::GoogleJson => "google-saml-json",
        }
    }

    /// The `via` of evidence: `okta`, `entra`, `google`.
    pub fn vendor(self) -> &'static str {
        match self {
            SigninFormat::OktaJson | SigninFormat::OktaCsv => "okta",
            SigninFormat::EntraCsv | SigninFormat::EntraJson | SigninFormat::EntraPowershell => "entra",
            SigninFormat::GoogleCsv | SigninFormat::GoogleJson => "google",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    Failure,
    Unknown,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
            Outcome::Unknown => "unknown",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignIn {
    pub email_norm: String,
    pub at: DateTime<Utc>,
    pub app: String,
    pub outcome: Outcome,
}

#[derive(Debug, Clone)]
pub struct SigninLog {
    pub path: PathBuf,
    pub format: SigninFormat,
    /// `<vendor>-signins:<file name>`.
    pub source: String,
    pub signins: Vec<SignIn>,
    pub coverage: SigninCoverage,
}

impl SigninLog {
    /// This log as an entry of `findings.json`'s `inputs`.
    pub fn input_record(&self) -> InputRecord {
        InputRecord {
            name: self.source.clone(),
            kind: "signins".to_owned(),
            file: Some(self.path.display().to_string()),
            idp: None,
            signins: Some(self.coverage.clone()),
        }
    }
}

/// Which application names count as Heroku: the `--signin-app` names, else [`DEFAULT_APPS`].
#[derive(Debug, Clone)]
pub struct AppMatcher(Vec<String>);

impl AppMatcher {
    pub fn new<S: AsRef<str>>(names: &[S]) -> Self {
        if names.is_empty() {
            Self(DEFAULT_APPS.iter().map(|s| (*s).to_owned()).collect())
        } else {
            Self(names.iter().map(|s| s.as_ref().trim().to_lowercase()).collect())
        }
    }

    pub fn is_heroku(&self, app: &str) -> bool {
        let app = app.trim().to_lowercase();
        self.0.contains(&app)
    }
}

const WARNINGS_KEPT: usize = 100;

struct Collector<'a> {
    apps: &'a AppMatcher,
    signins: Vec<SignIn>,
    first: Option<DateTime<Utc>>,
    last: Option<DateTime<Utc>>,
    kept_apps: BTreeSet<String>,
    other_rows: usize,
    warnings: usize,
    warning_list: Vec<InputWarning>,
}

impl<'a> Collector<'a> {
    fn new(apps: &'a AppMatcher) -> Self {
        Self {
            apps,
            signins: Vec::new(),
            first: None,
            last: None,
            kept_apps: BTreeSet::new(),
            other_rows: 0,
            warnings: 0,
            warning_list: Vec::new(),
        }
    }

    fn seen(&mut self, at: DateTime<Utc>) {
        self.first = Some(self.first.map_or(at, |f| f.min(at)));
        self.last = Some(self.last.map_or(at, |l| l.max(at)));
    }

    /// One event: `sign_in` says whether it is a sign-in to an application at all.
    fn event(&mut self, at: DateTime<Utc>, user: &str, app: Option<&str>, sign_in: bool, outcome: Outcome) {
        self.seen(at);
        match app {
            Some(app) if sign_in && self.apps.is_heroku(app) => {
                if !self.kept_apps.contains(app) {
                    self.kept_apps.insert(app.to_owned());
                }
                self.signins.push(SignIn { email_norm: email_norm(user), at, app: app.to_owned(), outcome });
            }
            _ => self.other_rows += 1,
        }
    }

    fn warn(&mut self, line: Option<usize>, column: Option<&str>, message: String) {
        self.warnings += 1;
        if self.warning_list.len() < WARNINGS_KEPT {
            self.warning_list.push(InputWarning { line, column: column.map(str::to_owned), message });
        }
    }

    fn finish(self, path: &Path, format: SigninFormat, encoding: TextEncoding) -> SigninLog {
        let coverage = SigninCoverage {
            format: format.name().to_owned(),
            encoding,
            first: self.first,
            last: self.last,
            apps: self.kept_apps.into_iter().collect(),
            rows: self.signins.len(),
            other_rows: self.other_rows,
            warnings: self.warnings,
            warning_list: self.warning_list,
        };
        SigninLog {
            path: path.to_path_buf(),
            format,
            source: format!("{}-signins:{}", format.vendor(), file_name(path)),
            signins: self.signins,
            coverage,
        }
    }
}

/// Reads one sign-in log, its format recognised from its content.
pub fn load_signin_log(path: &Path, apps: &AppMatcher) -> Result<SigninLog, InputError> {
    let decoded = read_text(path)?;
    let text = decoded.text.as_str();
    let trimmed = text.trim_start();
    if trimmed.is_empty() {
        return Err(InputError::new(
            path,
            None,
            "the sign-in log is empty",
            "export the log again, for a period with sign-ins",
        ));
    }
    let mut c = Collector::new(apps);
    let format = if trimmed.starts_with('[') || trimmed.starts_with('{') {
        read_json(path, text, &mut c)?
    } else {
        read_csv(path, text, &mut c)?
    };
    Ok(c.finish(path, format, decoded.encoding))
}

pub fn load_signin_logs<S: AsRef<str>>(paths: &[PathBuf], apps: &[S]) -> Result<Vec<SigninLog>, InputError> {
    let apps = AppMatcher::new(apps);
    paths.iter().map(|p| load_signin_log(p, &apps)).collect()
}

/// `signins(email_norm, at, source, app, outcome)`.
pub fn signins_frame(logs: &[SigninLog]) -> Result<DataFrame, InputError> {
    let rows = || logs.iter().flat_map(|l| l.signins.iter().map(move |s| (s, l.source.as_str())));
    TableBuilder::new()
        .str("email_norm", rows().map(|(s, _)| Some(&s.email_norm)))
        .time("at", rows().map(|(s, _)| Some(s.at)))
        .str("source", rows().map(|(_, src)| Some(src)))
        .str("app", rows().map(|(s, _)| Some(&s.app)))
        .str("outcome", rows().map(|(s, _)| Some(s.outcome.as_str())))
        .build("signins")
        .map_err(|e| InputError::table("signins", e))
}

/// `signin_logs(source, idp, first_at, last_at, heroku_rows)`: one row per log, the period it
/// speaks for. `idp` is the vendor tag `idp_users.source` starts with (`okta`, `entra`, `google`),
/// so a rule can ask whether the identity provider whose log this is knows a person;
/// `heroku_rows` counts its sign-ins to Heroku (a log without any says nothing about Heroku: the
/// application is not behind that identity provider, or `--signin-app` names it otherwise).
pub fn signin_logs_frame(logs: &[SigninLog]) -> Result<DataFrame, InputError> {
    TableBuilder::new()
        .str("source", logs.iter().map(|l| Some(l.source.as_str())))
        .str("idp", logs.iter().map(|l| Some(l.format.vendor())))
        .time("first_at", logs.iter().map(|l| l.coverage.first))
        .time("last_at", logs.iter().map(|l| l.coverage.last))
        .i64("heroku_rows", logs.iter().map(|l| Some(i64::try_from(l.coverage.rows).unwrap_or(i64::MAX))))
        .build("signin_logs")
        .map_err(|e| InputError::table("signin_logs", e))
}

const FORMATS: &str = "an Okta System Log (`/api/v1/logs` JSON or the Admin console CSV), Entra ID sign-in logs \
    (portal Download CSV/JSON, `Get-MgAuditLogSignIn | Export-Csv`) or a Google Workspace SAML log (Admin console CSV, \
    Reports API JSON)";

fn unrecognised(path: &Path, line: Option<usize>, what: &str) -> InputError {
    InputError::new(
        path,
        line,
        format!("{what} is not a sign-in log hkaudit knows"),
        format!("give {FORMATS}; see the README's \"Sign-in logs\" section"),
    )
}

fn parse_time(raw: &str) -> Option<DateTime<Utc>> {
    let s = raw.trim();
    if let Some(t) = parse_iso(s) {
        return Some(t);
    }
    // PowerShell writes DateTime in the invariant or en-US form; a day-first date is not guessed.
    for fmt in ["%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %H:%M:%S"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(t.and_utc());
        }
    }
    None
}

fn bad_time(path: &Path, line: usize, column: &str, raw: &str) -> InputError {
    InputError::new(
        path,
        Some(line),
        format!("`{column}` `{raw}` is not a time hkaudit can read"),
        "export the log with ISO 8601 times (UTC), or fix that row",
    )
}

fn no_user(path: &Path, line: usize, column: &str) -> InputError {
    InputError::new(path, Some(line), format!("the row has no `{column}`"), "export the log again with the user column")
}

// ---------------------------------------------------------------------------------------------
// JSON.

fn read_json(path: &Path, text: &str, c: &mut Collector<'_>) -> Result<SigninFormat, InputError> {
    let items: Vec<(usize, Value)> = match serde_json::from_str::<Value>(text) {
        Ok(Value::Array(items)) => items.into_iter().map(|v| (0, v)).collect(),
        Ok(Value::Object(mut o)) => match o.remove("items").or_else(|| o.remove("value")) {
            Some(Value::Array(items)) => items.into_iter().map(|v| (0, v)).collect(),
            _ => vec![(1, Value::Object(o))],
        },
        Ok(_) => return Err(unrecognised(path, None, "the JSON")),
        Err(whole) => {
            // NDJSON: one event per line, as a paging loop appends them.
            let mut items = Vec::new();
            for (i, line) in text.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                let v = serde_json::from_str::<Value>(line).map_err(|e| {
                    let (line_no, e) = if i == 0 { (whole.line(), whole.to_string()) } else { (i + 1, e.to_string()) };
                    InputError::new(path, Some(line_no), format!("cannot read this JSON: {e}"), "export the log again")
                })?;
                items.push((i + 1, v));
            }
            items
        }
    };
    let Some((_, first)) = items.first() else {
        return Err(InputError::new(path, None, "the sign-in log lists no events", "export a period with sign-ins"));
    };
    let format = if first.get("eventType").is_some() && first.get("published").is_some() {
        SigninFormat::OktaJson
    } else if first.get("createdDateTime").is_some() && first.get("userPrincipalName").is_some() {
        SigninFormat::EntraJson
    } else if first.pointer("/id/time").is_some() && first.get("events").is_some() {
        SigninFormat::GoogleJson
    } else {
        return Err(unrecognised(path, None, "the JSON"));
    };
    // Lines are found for errors only, from the event's unique id, to keep the happy path cheap.
    let line = |n: usize, v: &Value| -> usize {
        if n > 0 {
            return n;
        }
        let id = v.get("uuid").or_else(|| v.get("id")).map(|id| id.to_string()).unwrap_or_default();
        text.find(&id).filter(|_| !id.is_empty()).map_or(1, |o| line_of(text, o))
    };
    let s = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
    for (n, v) in &items {
        match format {
            SigninFormat::OktaJson => {
                let raw = s(v.get("published")).unwrap_or_default();
                let at = parse_time(&raw).ok_or_else(|| bad_time(path, line(*n, v), "published", &raw))?;
                let user = s(v.pointer("/actor/alternateId"))
                    .ok_or_else(|| no_user(path, line(*n, v), "actor.alternateId"))?;
                let sso = v.get("eventType").and_then(Value::as_str) == Some("user.authentication.sso");
                let app = v
                    .get("target")
                    .and_then(Value::as_array)
                    .and_then(|ts| ts.iter().find(|t| t.get("type").and_then(Value::as_str) == Some("AppInstance")));
                let app = app.and_then(|t| s(t.get("displayName")).or_else(|| s(t.get("alternateId"))));
                let outcome = match v.pointer("/outcome/result").and_then(Value::as_str) {
                    Some("SUCCESS") => Outcome::Success,
                    Some(_) => Outcome::Failure,
                    None => Outcome::Unknown,
                };
                c.event(at, &user, app.as_deref(), sso, outcome);
            }
            SigninFormat::EntraJson => {
                let raw = s(v.get("createdDateTime")).unwrap_or_default();
                let at = parse_time(&raw).ok_or_else(|| bad_time(path, line(*n, v), "createdDateTime", &raw))?;
                let user =
                    s(v.get("userPrincipalName")).ok_or_else(|| no_user(path, line(*n, v), "userPrincipalName"))?;
                let outcome = match v.pointer("/status/errorCode").and_then(Value::as_i64) {
                    Some(0) => Outcome::Success,
                    Some(_) => Outcome::Failure,
                    None => Outcome::Unknown,
                };
                c.event(at, &user, s(v.get("appDisplayName")).as_deref(), true, outcome);
            }
            _ => {
                let raw = s(v.pointer("/id/time")).unwrap_or_default();
                let at = parse_time(&raw).ok_or_else(|| bad_time(path, line(*n, v), "id.time", &raw))?;
                let user = s(v.pointer("/actor/email")).ok_or_else(|| no_user(path, line(*n, v), "actor.email"))?;
                let events = v.get("events").and_then(Value::as_array).cloned().unwrap_or_default();
                for e in &events {
                    let name = e.get("name").and_then(Value::as_str).unwrap_or_default();
                    let app = e.get("parameters").and_then(Value::as_array).and_then(|ps| {
                        ps.iter()
                            .find(|p| p.get("name").and_then(Value::as_str) == Some("application_name"))
                            .and_then(|p| s(p.get("value")))
                    });
                    let outcome = match name {
                        "login_success" => Outcome::Success,
                        "login_failure" => Outcome::Failure,
                        _ => Outcome::Unknown,
                    };
                    c.event(at, &user, app.as_deref(), name.starts_with("login_"), outcome);
                }
            }
        }
    }
    Ok(format)
}

// ---------------------------------------------------------------------------------------------
// CSV.

fn read_csv(path: &Path, text: &str, c: &mut Collector<'_>) -> Result<SigninFormat, InputError> {
    let csv = CsvText::new(path, text);
    let mut reader = csv.reader(true);
    let headers = csv.headers(&mut reader)?;
    let keys: Vec<String> = headers.iter().map(column_key).collect();
    let col = |names: &[&str]| names.iter().find_map(|n| keys.iter().position(|k| k == n));
    let format = if col(&["eventtype"]).is_some() && col(&["published"]).is_some() {
        SigninFormat::OktaCsv
    } else if col(&["dateutc"]).is_some() && col(&["username"]).is_some() && col(&["application"]).is_some() {
        SigninFormat::EntraCsv
    } else if col(&["createddatetime"]).is_some() && col(&["userprincipalname"]).is_some() {
        SigninFormat::EntraPowershell
    } else if col(&["applicationname"]).is_some() && col(&["actor"]).is_some() && col(&["event", "eventname"]).is_some()
    {
        SigninFormat::GoogleCsv
    } else {
        return Err(unrecognised(path, Some(csv.header_line()), "a file with this header"));
    };
    let need = |names: &[&str], shown: &str| {
        col(names).ok_or_else(|| {
            InputError::new(
                path,
                Some(csv.header_line()),
                format!("the header has no `{shown}` column"),
                "export the log again with its default columns",
            )
        })
    };
    let (time_col, user_col, time_name, user_name) = match format {
        SigninFormat::OktaCsv => (
            need(&["published"], "published")?,
            need(&["actoralternateid"], "actor.alternateId")?,
            "published",
            "actor.alternateId",
        ),
        SigninFormat::EntraCsv => {
            (need(&["dateutc"], "Date (UTC)")?, need(&["username"], "Username")?, "Date (UTC)", "Username")
        }
        SigninFormat::EntraPowershell => (
            need(&["createddatetime"], "CreatedDateTime")?,
            need(&["userprincipalname"], "UserPrincipalName")?,
            "CreatedDateTime",
            "UserPrincipalName",
        ),
        _ => (need(&["date"], "Date")?, need(&["actor"], "Actor")?, "Date", "Actor"),
    };
    let event_col = col(&["eventtype", "event", "eventname"]);
    let app_col = match format {
        SigninFormat::OktaCsv => None,
        SigninFormat::EntraCsv => col(&["application"]),
        SigninFormat::EntraPowershell => col(&["appdisplayname"]),
        _ => col(&["applicationname"]),
    };
    let status_col = match format {
        SigninFormat::OktaCsv => col(&["outcomeresult"]),
        SigninFormat::EntraCsv => col(&["status"]),
        SigninFormat::EntraPowershell => col(&["statuserrorcode", "errorcode"]).or_else(|| col(&["status"])),
        _ => None,
    };
    // Okta's CSV flattens the target list: `target0.type`, `target0.displayName`, ….
    let okta_targets: Vec<(usize, Option<usize>)> = (0..8)
        .filter_map(|i| {
            let ty = col(&[format!("target{i}type").as_str()])?;
            Some((
                ty,
                col(&[format!("target{i}displayname").as_str()])
                    .or_else(|| col(&[format!("target{i}alternateid").as_str()])),
            ))
        })
        .collect();
    let mut unknown_status_warned = false;
    for record in csv.records(&mut reader) {
        let (line, r) = record?;
        if r.iter().all(|f| f.is_empty()) {
            continue;
        }
        let get = |i: Option<usize>| i.and_then(|i| r.get(i)).unwrap_or("");
        let raw = get(Some(time_col));
        let at = parse_time(raw).ok_or_else(|| bad_time(path, line, time_name, raw))?;
        let user = get(Some(user_col));
        if user.is_empty() {
            return Err(no_user(path, line, user_name));
        }
        let status = get(status_col);
        let (sign_in, app, outcome) = match format {
            SigninFormat::OktaCsv => {
                let app = okta_targets.iter().find(|(ty, _)| get(Some(*ty)) == "AppInstance").map(|(_, n)| get(*n));
                let outcome = match status {
                    "SUCCESS" => Outcome::Success,
                    "" => Outcome::Unknown,
                    _ => Outcome::Failure,
                };
                (get(event_col) == "user.authentication.sso", app, outcome)
            }
            SigninFormat::EntraCsv => {
                let outcome = match status.to_lowercase().as_str() {
                    "success" => Outcome::Success,
                    "failure" | "interrupted" => Outcome::Failure,
                    _ => Outcome::Unknown,
                };
                (true, Some(get(app_col)), outcome)
            }
            SigninFormat::EntraPowershell => {
                let outcome = match status.trim() {
                    "0" => Outcome::Success,
                    s if s.parse::<i64>().is_ok() => Outcome::Failure,
                    _ => {
                        if !unknown_status_warned {
                            unknown_status_warned = true;
                            c.warn(
                                Some(line),
                                Some("Status"),
                                format!(
                                    "`{status}` says nothing about success (Export-Csv writes the object's type); \
                                     these sign-ins are kept as `unknown` and clear nobody. Add \
                                     `@{{n='ErrorCode';e={{$_.Status.ErrorCode}}}}` to the Select-Object"
                                ),
                            );
                        }
                        Outcome::Unknown
                    }
                };
                (true, Some(get(app_col)), outcome)
            }
            _ => {
                let ev = get(event_col).to_lowercase();
                let outcome = if ev.contains("success") || ev == "login_success" {
                    Outcome::Success
                } else if ev.contains("fail") {
                    Outcome::Failure
                } else {
                    Outcome::Unknown
                };
                (ev.contains("login"), Some(get(app_col)), outcome)
            }
        };
        c.event(at, user, app.filter(|a| !a.is_empty()), sign_in, outcome);
    }
    Ok(format)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn fixture(name: &str) -> SigninLog {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/idp/signins").join(name);
        load_signin_log(&path, &AppMatcher::new::<&str>(&[])).unwrap()
    }

    /// Every fixture holds the same events: Ada's successful Heroku sign-in, Vic's sign-in to
    /// another application, Vic's failed Heroku sign-in.
    fn assert_common(log: &SigninLog, format: SigninFormat, ada_outcome: Outcome) {
        assert_eq!(log.format, format, "{}", log.path.display());
        let ada: Vec<_> = log.signins.iter().filter(|s| s.email_norm == "ada.active@acme.example").collect();
        assert_eq!(ada.len(), 1, "{:?}", log.signins);
        assert_eq!(ada[0].at.to_rfc3339(), "2026-11-18T09:12:00+00:00");
        assert_eq!(ada[0].app, "Heroku");
        assert_eq!(ada[0].outcome, ada_outcome);
        assert!(
            log.signins.iter().all(|s| s.app == "Heroku"),
            "another application's sign-in was kept: {:?}",
            log.signins
        );
        assert_eq!(log.coverage.apps, vec!["Heroku".to_owned()]);
        assert!(log.coverage.other_rows >= 1);
        assert_eq!(log.coverage.last.unwrap().to_rfc3339(), "2026-11-20T08:00:00+00:00");
    }

    #[test]
    fn okta_api_json_array_and_ndjson() {
        for name in ["okta-api-v1-logs.json", "okta-api-v1-logs.ndjson"] {
            let log = fixture(name);
            assert_common(&log, SigninFormat::OktaJson, Outcome::Success);
            assert_eq!(log.coverage.other_rows, 2, "Slack and the Okta session start");
            assert!(log
                .signins
                .iter()
                .any(|s| s.email_norm == "vic.viewer@acme.example" && s.outcome == Outcome::Failure));
            assert_eq!(log.coverage.first.unwrap().to_rfc3339(), "2026-08-25T07:30:00+00:00");
            assert!(log.source.starts_with("okta-signins:"));
        }
    }

    /// A real recorded System Log (Elastic's Okta integration test data, fixtures/idp/SOURCES.md):
    /// a sign-out, a sign-in to Okta and a policy evaluation, none of them a sign-in to an
    /// application. Read as what it is, it says nothing about Heroku but still has its period.
    #[test]
    fn okta_recorded_ndjson_without_app_sign_ins_keeps_its_period_and_no_row() {
        let log = fixture("okta-elastic-system-events.ndjson");
        assert_eq!(log.format, SigninFormat::OktaJson);
        assert!(log.signins.is_empty(), "{:?}", log.signins);
        assert_eq!((log.coverage.rows, log.coverage.other_rows), (0, 3));
        assert!(log.coverage.apps.is_empty());
        assert_eq!(log.coverage.first.unwrap().to_rfc3339(), "2020-02-14T20:18:57.718+00:00");
        assert_eq!(log.coverage.last.unwrap().to_rfc3339(), "2020-02-14T22:18:51.843+00:00");
    }

    #[test]
    fn okta_admin_console_csv() {
        let log = fixture("okta-system-log.csv");
        assert_common(&log, SigninFormat::OktaCsv, Outcome::Success);
        assert_eq!(log.coverage.other_rows, 2);
    }

    #[test]
    fn entra_portal_csv_and_json() {
        assert_common(&fixture("entra-signins-download.csv"), SigninFormat::EntraCsv, Outcome::Success);
        assert_common(&fixture("entra-signins-download.json"), SigninFormat::EntraJson, Outcome::Success);
    }

    #[test]
    fn entra_powershell_export_csv_keeps_an_unreadable_status_unknown_and_warns() {
        let log = fixture("get-mgauditlogsignin-ps51.csv");
        assert_eq!(log.format, SigninFormat::EntraPowershell);
        assert_eq!(log.signins.len(), 1);
        assert_eq!(log.signins[0].outcome, Outcome::Unknown);
        assert_eq!(log.signins[0].at.to_rfc3339(), "2026-11-18T09:12:00+00:00");
        assert_eq!(log.coverage.warnings, 1, "{:?}", log.coverage.warning_list);
        assert_eq!(log.coverage.other_rows, 1);
    }

    #[test]
    fn google_admin_csv_and_reports_api_json() {
        assert_common(&fixture("google-admin-saml-log.csv"), SigninFormat::GoogleCsv, Outcome::Success);
        assert_common(&fixture("google-reports-saml.json"), SigninFormat::GoogleJson, Outcome::Success);
    }

    #[test]
    fn signin_app_names_replace_the_default() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/idp/signins/okta-api-v1-logs.json");
        let log = load_signin_log(&path, &AppMatcher::new(&["slack"])).unwrap();
        assert_eq!(log.signins.len(), 1);
        assert_eq!(log.signins[0].app, "Slack");
    }

    #[test]
    fn utf16_and_semicolons_are_read_like_the_users_exports() {
        let dir = tempfile::tempdir().unwrap();
        let src = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/idp/signins/entra-signins-download.csv"),
        )
        .unwrap();
        let semi = src.replace(",Berlin", "").replace(", Berlin, DE", "").replace(',', ";");
        let mut bytes = vec![0xFF, 0xFE];
        bytes.extend(semi.encode_utf16().flat_map(u16::to_le_bytes));
        let path = dir.path().join("signins.csv");
        std::fs::write(&path, bytes).unwrap();
        let log = load_signin_log(&path, &AppMatcher::new::<&str>(&[])).unwrap();
        assert_eq!(log.coverage.encoding, TextEncoding::Utf16LeBom);
        assert_common(&log, SigninFormat::EntraCsv, Outcome::Success);
    }

    #[test]
    fn a_users_export_is_not_taken_for_a_sign_in_log() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/idp/okta/password-health.csv");
        let e = load_signin_log(&path, &AppMatcher::new::<&str>(&[])).unwrap_err();
        assert!(e.problem().contains("not a sign-in log"), "{e}");
    }

    #[test]
    fn a_bad_time_is_an_error_with_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.csv");
        std::fs::write(&path, "Date (UTC),Username,Application,Status\n2026-11-18T09:12:00Z,a@x.example,Heroku,Success\nyesterday,b@x.example,Heroku,Success\n").unwrap();
        let e = load_signin_log(&path, &AppMatcher::new::<&str>(&[])).unwrap_err();
        assert_eq!(e.line(), Some(3), "{e}");
    }

    #[test]
    fn the_signins_table_has_its_columns() {
        let df = signins_frame(&[fixture("okta-api-v1-logs.json")]).unwrap();
        let names: Vec<String> = df.get_column_names().iter().map(|s| s.to_string()).collect();
        assert_eq!(names, ["email_norm", "at", "source", "app", "outcome"]);
        assert_eq!(df.height(), 2);
    }
}
