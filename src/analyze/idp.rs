//! Identity-provider user exports, the IdP side of the reconciliation (Heroku has no SCIM, so
//! "who has left" can only come from a file the customer downloads from their IdP).
//!
//! Formats are recognised from the header row (for JSON, the keys of the user objects) alone,
//! whatever the column order and whatever extra columns are present; `--idp-format NAME` names
//! the format of a file whose header fits none or several. Provenance of each format: the
//! fixtures in `fixtures/idp/` and their `SOURCES.md`.
//!
//! | format | written by | recognised by | email | status |
//! |---|---|---|---|---|
//! | `okta-password-health` | Okta Reports → Okta Password Health | `User`, `Login`, `Status` + `Activation date` / `Authentication Source` / `Last Password Change` | `Login` | `Status` |
//! | `okta-user-accounts` | Okta Reports → User Accounts (the admin console's people report) | `Okta username` or `Okta user status` | `Primary email`, else `Okta username` | `Okta user status` |
//! | `okta-rockstar` | the rockstar browser extension's "Export Users" | `User Id` and `Username` | `Primary email`, else `Username` | `Status` |
//! | `okta-api-csv` | `/api/v1/users` flattened to CSV (`profile.login`, …) | a login column and `Status` | `profile.email`, else `profile.login` | `status` |
//! | `okta-api-json` | `/api/v1/users` as returned | objects with `profile.login` | `profile.email`, else `profile.login` | `status` |
//! | `entra-download` | Entra admin center "Download users" (old and new column names) | `userPrincipalName` / `User principal name` | `mail`, else the UPN | `accountEnabled` |
//! | `entra-powershell` | `Get-MgUser … \| Export-Csv` (PowerShell 5.1 with or without `#TYPE`, 7) | as above, with `Id` or a `#TYPE` line | `Mail`, else the UPN | `AccountEnabled` |
//! | `entra-json` | `Get-MgUser … \| ConvertTo-Json`, or Graph's `/users` (`{"value": [...]}`) | objects with `userPrincipalName` | `mail`, else the UPN | `accountEnabled` |
//! | `google-download` | Google Admin console "Download users" | a `[Required]` or `[READ ONLY]` column and `Email Address` | `Email Address [Required]` | `Status [READ ONLY]` |
//! | `google-gam` | GAM `print users` | `primaryEmail` and `suspended` / `archived` | `primaryEmail` | `suspended`, `archived` |
//!
//! Column names are compared ignoring case, spaces, punctuation and bracketed suffixes such as
//! `[READ ONLY]`; a header with two columns that read as the same field (`Login,Login`, or
//! `Status` and `Status [READ ONLY]`) is refused rather than read with one of them picked.
//!
//! What a row needs: an identity (an email or a login) and a status. Without one of those the
//! row is an error with its line: hkaudit never guesses a status. Everything else (dates, names,
//! an alias) is optional: a value that cannot be read becomes unknown plus a warning (file, line,
//! column), so one odd cell never stops the check for everyone else. A login that is not an email
//! (Okta allows `svc-backup`) is kept as a row that matches no Heroku account.
//!
//! Values as spreadsheets and PowerShell write them: booleans in the languages of the common
//! Excel locales (`WAHR`/`FALSCH`, `VRAI`/`FAUX`, …), dates in ISO, US (`11/18/2026 11:52 PM`)
//! or day-first (`18.11.2026 23:52`, `18/11/2026`) order. A date like `03/04/2026` is read in the
//! order the file's other dates settle (one with a day above 12 says which); when none does, it is
//! left unknown, never guessed. Timestamps without a zone are taken as UTC.
//!
//! Entra guests (`userType` Guest, or a `#EXT#` user principal name) are users of another
//! organisation: their identity is `mail`, else `alternateEmailAddress`, else the address encoded
//! in the `#EXT#` UPN (`kim_contractor.example#EXT#@tenant.onmicrosoft.com`), and they never add
//! their home domain to the domains the export covers.
//!
//! Aliases: Okta's `Login` (when it differs from the email), Entra's `userPrincipalName` (when it
//! differs from `mail`), Google's `Work Secondary Email`, `Home Secondary Email` and any column
//! named like `Aliases` (GAM's `aliases.0`, …) map to the same user. The standard Google download
//! carries no alias column, so mail aliases (`sales@`, old addresses) must be listed in the config.
//!
//! Covered domains: a Heroku user absent from an export counts as deprovisioned only if the
//! export covers their email domain. By default an export covers the domains of its own members'
//! primary addresses (not of aliases, which are often personal mailboxes, nor of guests);
//! `idp_domains` in the config replaces that set.
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use polars::prelude::DataFrame;

use super::inputs::{
    ambiguous_columns, email_domain, email_norm, file_name, read_text, CsvText, IdpInputSummary, InputError,
    InputRecord, InputWarning, TextEncoding,
};
use crate::snapshot::TableBuilder;

/// Which identity provider an export comes from: the prefix of `source` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum IdpVendor {
    Okta,
    Entra,
    Google,
}

impl IdpVendor {
    pub fn tag(self) -> &'static str {
        match self {
            IdpVendor::Okta => "okta",
            IdpVendor::Entra => "entra",
            IdpVendor::Google => "google",
        }
    }
}

/// The shape of one export: who writes it, and how it is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum IdpFormat {
    OktaPasswordHealth,
    OktaUserAccounts,
    OktaRockstar,
    OktaApiCsv,
    OktaApiJson,
    EntraDownload,
    EntraPowerShell,
    EntraJson,
    GoogleDownload,
    GoogleGam,
}

impl IdpFormat {
    pub const ALL: [IdpFormat; 10] = [
        IdpFormat::OktaPasswordHealth,
        IdpFormat::OktaUserAccounts,
        IdpFormat::OktaRockstar,
        IdpFormat::OktaApiCsv,
        IdpFormat::OktaApiJson,
        IdpFormat::EntraDownload,
        IdpFormat::EntraPowerShell,
        IdpFormat::EntraJson,
        IdpFormat::GoogleDownload,
        IdpFormat::GoogleGam,
    ];

    /// The name `--idp-format` takes and `findings.json` records.
    pub fn name(self) -> &'static str {
        match self {
            IdpFormat::OktaPasswordHealth => "okta-password-health",
            IdpFormat::OktaUserAccounts => "okta-user-accounts",
            IdpFormat::OktaRockstar => "okta-rockstar",
            IdpFormat::OktaApiCsv => "okta-api-csv",
            IdpFormat::OktaApiJson => "okta-api-json",
            IdpFormat::EntraDownload => "entra-download",
            IdpFormat::EntraPowerShell => "entra-powershell",
            IdpFormat::EntraJson => "entra-json",
            IdpFormat::GoogleDownload => "google-download",
            IdpFormat::GoogleGam => "google-gam",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            IdpFormat::OktaPasswordHealth => "Okta Password Health report",
            IdpFormat::OktaUserAccounts => "Okta User Accounts report",
            IdpFormat::OktaRockstar => "Okta users export of the rockstar browser extension",
            IdpFormat::OktaApiCsv => "Okta /api/v1/users flattened to CSV",
            IdpFormat::OktaApiJson => "Okta /api/v1/users JSON",
            IdpFormat::EntraDownload => "Microsoft Entra ID \"Download users\" file",
            IdpFormat::EntraPowerShell => "Microsoft Entra ID Get-MgUser export from PowerShell Export-Csv",
            IdpFormat::EntraJson => "Microsoft Entra ID users JSON (Get-MgUser with ConvertTo-Json, or Graph /users)",
            IdpFormat::GoogleDownload => "Google Workspace users download",
            IdpFormat::GoogleGam => "Google Workspace GAM print users output",
        }
    }

    pub fn vendor(self) -> IdpVendor {
        match self {
            IdpFormat::OktaPasswordHealth
            | IdpFormat::OktaUserAccounts
            | IdpFormat::OktaRockstar
            | IdpFormat::OktaApiCsv
            | IdpFormat::OktaApiJson => IdpVendor::Okta,
            IdpFormat::EntraDownload | IdpFormat::EntraPowerShell | IdpFormat::EntraJson => IdpVendor::Entra,
            IdpFormat::GoogleDownload | IdpFormat::GoogleGam => IdpVendor::Google,
        }
    }

    fn is_json(self) -> bool {
        matches!(self, IdpFormat::OktaApiJson | IdpFormat::EntraJson)
    }

    /// The comma-separated list of names, for messages.
    pub fn names() -> String {
        IdpFormat::ALL.iter().map(|f| f.name()).collect::<Vec<_>>().join(", ")
    }
}

impl FromStr for IdpFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let want = s.trim().to_ascii_lowercase();
        IdpFormat::ALL
            .into_iter()
            .find(|f| f.name() == want)
            .ok_or_else(|| format!("unknown IdP format `{s}`: use one of {}", IdpFormat::names()))
    }
}

/// `--idp-format NAME` (every `--idp` file) or `--idp-format FILE=NAME` (the file given as FILE,
/// or with that file name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdpFormatOverride {
    pub file: Option<String>,
    pub format: IdpFormat,
}

impl FromStr for IdpFormatOverride {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.rsplit_once('=') {
            Some((file, name)) if !file.is_empty() => {
                Ok(IdpFormatOverride { file: Some(file.to_owned()), format: name.parse()? })
            }
            _ => Ok(IdpFormatOverride { file: None, format: s.parse()? }),
        }
    }
}

impl IdpFormatOverride {
    fn applies_to(&self, path: &Path) -> bool {
        match &self.file {
            None => true,
            Some(f) => Path::new(f) == path || path.file_name().is_some_and(|n| n.to_string_lossy() == f.as_str()),
        }
    }
}

/// A user's state in the IdP, reduced to what matters for Heroku access.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum IdpStatus {
    Active,
    Suspended,
    Deprovisioned,
}

impl IdpStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            IdpStatus::Active => "active",
            IdpStatus::Suspended => "suspended",
            IdpStatus::Deprovisioned => "deprovisioned",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdpUser {
    /// The normalised email, or for a login that is not one, the login as written (lower case).
    pub email_norm: String,
    pub status: IdpStatus,
    pub status_changed_at: Option<DateTime<Utc>>,
    pub last_login_at: Option<DateTime<Utc>>,
    /// For an alias row, the primary address of the user it belongs to.
    pub alias_of: Option<String>,
    /// An Entra guest: a user of another organisation.
    pub guest: bool,
    /// 1-based line of the row in the export.
    pub line: usize,
}

#[derive(Debug, Clone)]
pub struct IdpExport {
    pub path: PathBuf,
    pub format: IdpFormat,
    /// `<vendor>:<file name>`, e.g. `okta:users.csv`.
    pub source: String,
    /// One row per address (primary or alias), sorted by address, each address once.
    pub users: Vec<IdpUser>,
    /// What was read, as `findings.json` and the summary report it.
    pub summary: IdpInputSummary,
    domains: BTreeSet<String>,
}

impl IdpExport {
    /// The email domains this export speaks for.
    pub fn domains(&self) -> &BTreeSet<String> {
        &self.domains
    }

    /// Replaces the covered domains (the config's `idp_domains`).
    pub fn set_domains<S: AsRef<str>>(&mut self, domains: impl IntoIterator<Item = S>) {
        self.domains = domains.into_iter().map(|d| d.as_ref().trim().trim_start_matches('@').to_lowercase()).collect();
        self.summary.domains = self.domains.iter().cloned().collect();
        self.summary.domains_from = "idp_domains".to_owned();
    }

    /// Whether absence from this export means something for `email`.
    pub fn covers(&self, email: &str) -> bool {
        email_domain(&email_norm(email)).is_some_and(|d| self.domains.contains(d))
    }

    pub fn user(&self, email: &str) -> Option<&IdpUser> {
        let wanted = email_norm(email);
        self.users.binary_search_by(|u| u.email_norm.as_str().cmp(&wanted)).ok().map(|i| &self.users[i])
    }

    pub fn warnings(&self) -> &[InputWarning] {
        &self.summary.warning_list
    }

    /// This export as an entry of `findings.json`'s `inputs`.
    pub fn input_record(&self) -> InputRecord {
        InputRecord {
            name: self.source.clone(),
            kind: "idp".to_owned(),
            file: Some(self.path.display().to_string()),
            idp: Some(self.summary.clone()),
            signins: None,
        }
    }
}

/// Reads one IdP export, detecting its format from the header row.
pub fn load_idp_export(path: &Path) -> Result<IdpExport, InputError> {
    load_idp_export_as(path, None)
}

/// Reads one IdP export; `format` (from `--idp-format`) skips the detection.
pub fn load_idp_export_as(path: &Path, format: Option<IdpFormat>) -> Result<IdpExport, InputError> {
    let decoded = read_text(path)?;
    let text = decoded.text.as_str();
    if text.trim().is_empty() {
        return Err(empty(path));
    }
    let looks_json = matches!(text.trim_start().as_bytes().first(), Some(b'[' | b'{'));
    match format {
        Some(f) if f.is_json() && !looks_json => {
            return Err(InputError::new(
                path,
                Some(1),
                format!("--idp-format {} names a JSON format, but this file is not JSON", f.name()),
                "name the CSV format of this file instead, or pass the JSON export",
            ))
        }
        Some(f) if !f.is_json() && looks_json => {
            return Err(InputError::new(
                path,
                Some(1),
                format!("--idp-format {} names a CSV format, but this file is JSON", f.name()),
                format!("name a JSON format ({}) or leave --idp-format out", json_formats()),
            ))
        }
        _ => {}
    }
    let mut reader = if looks_json {
        let table = json_table(path, text)?;
        let layout = Layout::detect(path, 1, &table.headers, format, None, true)?;
        let mut reader = Reader::new(path, layout, decoded.encoding, "json".to_owned(), None, format.is_some());
        for (line, record) in &table.rows {
            reader.ingest(*line, record)?;
        }
        reader
    } else {
        let csv = CsvText::new(path, text);
        if csv.is_blank() {
            return Err(empty(path));
        }
        let mut rdr = csv.reader(true);
        let headers = csv.headers(&mut rdr)?;
        let layout = Layout::detect(path, csv.header_line(), &headers, format, csv.preamble.as_deref(), false)?;
        let delimiter = match csv.delimiter {
            b'\t' => "tab".to_owned(),
            d => (d as char).to_string(),
        };
        let mut reader = Reader::new(path, layout, decoded.encoding, delimiter, csv.preamble.clone(), format.is_some());
        for record in csv.records(&mut rdr) {
            let (line, record) = record?;
            reader.ingest(line, &record)?;
        }
        reader
    };
    reader.finish_dates();
    Ok(reader.into_export())
}

fn empty(path: &Path) -> InputError {
    InputError::new(
        path,
        Some(1),
        "the file is empty",
        "download the users export from your identity provider again (Okta, Entra ID or Google Workspace) and pass that file",
    )
}

fn json_formats() -> String {
    IdpFormat::ALL.iter().filter(|f| f.is_json()).map(|f| f.name()).collect::<Vec<_>>().join(", ")
}

/// Reads several exports; `idp_domains` (the config's) replaces each export's covered domains.
pub fn load_idp_exports(paths: &[PathBuf], idp_domains: Option<&[String]>) -> Result<Vec<IdpExport>, InputError> {
    load_idp_exports_with(paths, idp_domains, &[])
}

/// [`load_idp_exports`] with `--idp-format` overrides: one naming a file wins over one for all.
pub fn load_idp_exports_with(
    paths: &[PathBuf],
    idp_domains: Option<&[String]>,
    overrides: &[IdpFormatOverride],
) -> Result<Vec<IdpExport>, InputError> {
    for o in overrides {
        if let Some(file) = &o.file {
            if !paths.iter().any(|p| o.applies_to(p)) {
                return Err(InputError::new(
                    Path::new(file),
                    None,
                    format!("--idp-format names `{file}`, which is not one of the --idp files"),
                    "give the file as passed to --idp (or its file name), or leave the file out to apply the format to every --idp file",
                ));
            }
        }
    }
    paths
        .iter()
        .map(|path| {
            let chosen = overrides
                .iter()
                .find(|o| o.file.is_some() && o.applies_to(path))
                .or_else(|| overrides.iter().find(|o| o.file.is_none()))
                .map(|o| o.format);
            let mut export = load_idp_export_as(path, chosen)?;
            if let Some(domains) = idp_domains {
                export.set_domains(domains);
            }
            Ok(export)
        })
        .collect()
}

/// `idp_users(email_norm, status, status_changed_at, last_login_at, source)`.
pub fn idp_users_frame(exports: &[IdpExport]) -> Result<DataFrame, InputError> {
    let rows: Vec<(&IdpUser, &str)> =
        exports.iter().flat_map(|e| e.users.iter().map(move |u| (u, e.source.as_str()))).collect();
    TableBuilder::new()
        .str("email_norm", rows.iter().map(|(u, _)| Some(&u.email_norm)))
        .str("status", rows.iter().map(|(u, _)| Some(u.status.as_str())))
        .time("status_changed_at", rows.iter().map(|(u, _)| u.status_changed_at))
        .time("last_login_at", rows.iter().map(|(u, _)| u.last_login_at))
        .str("source", rows.iter().map(|(_, s)| Some(*s)))
        .build("idp_users")
        .map_err(|e| InputError::table("idp_users", e))
}

/// `idp_domains(domain, source)`: which email domains each export speaks for.
pub fn idp_domains_frame(exports: &[IdpExport]) -> Result<DataFrame, InputError> {
    let rows: Vec<(&String, &str)> =
        exports.iter().flat_map(|e| e.domains.iter().map(move |d| (d, e.source.as_str()))).collect();
    TableBuilder::new()
        .str("domain", rows.iter().map(|(d, _)| Some(*d)))
        .str("source", rows.iter().map(|(_, s)| Some(*s)))
        .build("idp_domains")
        .map_err(|e| InputError::table("idp_domains", e))
}

// ---------------------------------------------------------------------------------------------
// JSON exports, as rows of flattened keys.

struct JsonTable {
    headers: csv::StringRecord,
    rows: Vec<(usize, csv::StringRecord)>,
}

/// The user objects of a JSON export (an array, Graph's `{"value": [...]}`, or one object)
/// flattened to `a.b` keys, with the line each object starts on.
fn json_table(path: &Path, text: &str) -> Result<JsonTable, InputError> {
    let not_users = |line: usize, what: &str| {
        InputError::new(
            path,
            Some(line),
            format!("this JSON is not a list of users: {what}"),
            "pass the JSON as the API or PowerShell wrote it: an array of user objects, or Graph's object with `value` holding one",
        )
    };
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        let full = e.to_string();
        let detail = full.strip_suffix(&format!(" at line {} column {}", e.line(), e.column())).unwrap_or(&full);
        InputError::new(
            path,
            Some(e.line().max(1)),
            format!("malformed JSON at column {}: {detail}", e.column()),
            "export the users again; the file may have been cut short",
        )
    })?;
    let (users, wrapper): (Vec<&serde_json::Value>, Option<&str>) = match &value {
        serde_json::Value::Array(items) => (items.iter().collect(), None),
        serde_json::Value::Object(map) => match map.get("value").map(|v| ("value", v)) {
            Some((key, serde_json::Value::Array(items))) => (items.iter().collect(), Some(key)),
            Some((key, _)) => return Err(not_users(1, &format!("`{key}` is not an array"))),
            None => (vec![&value], None),
        },
        _ => return Err(not_users(1, "it is neither an array nor an object")),
    };
    let single = matches!(value, serde_json::Value::Object(_)) && wrapper.is_none();
    let starts = if single { vec![1] } else { element_lines(text, wrapper) };
    let mut index: BTreeMap<String, usize> = BTreeMap::new();
    let mut names: Vec<String> = Vec::new();
    let mut flat_rows: Vec<(usize, Vec<(usize, String)>)> = Vec::with_capacity(users.len());
    for (i, user) in users.iter().enumerate() {
        let line = starts.get(i).copied().unwrap_or(1);
        let serde_json::Value::Object(_) = user else {
            return Err(not_users(line, &format!("item {} is not an object", i + 1)));
        };
        let mut cells = Vec::new();
        flatten(user, &mut String::new(), &mut |key, value| {
            let col = *index.entry(key.to_owned()).or_insert_with(|| {
                names.push(key.to_owned());
                names.len() - 1
            });
            cells.push((col, value));
        });
        flat_rows.push((line, cells));
    }
    let width = names.len();
    let rows = flat_rows
        .into_iter()
        .map(|(line, cells)| {
            let mut row = vec![String::new(); width];
            for (col, value) in cells {
                row[col] = value;
            }
            (line, csv::StringRecord::from(row))
        })
        .collect();
    Ok(JsonTable { headers: csv::StringRecord::from(names), rows })
}

/// Scalars as text under their dotted path; arrays of scalars joined with spaces (aliases);
/// arrays of objects left out (nothing hkaudit reads lives there).
fn flatten(value: &serde_json::Value, prefix: &mut String, out: &mut dyn FnMut(&str, String)) {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let len = prefix.len();
                if !prefix.is_empty() {
                    prefix.push('.');
                }
                prefix.push_str(k);
                flatten(v, prefix, out);
                prefix.truncate(len);
            }
        }
        Value::Array(items) => {
            if items.iter().all(|v| !v.is_object() && !v.is_array()) {
                let joined: Vec<String> = items.iter().map(scalar).collect();
                out(prefix.as_str(), joined.join(" "));
            }
        }
        v => out(prefix.as_str(), scalar(v)),
    }
}

fn scalar(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The line each element of the users array starts on, in one pass over the text: the top-level
/// array, or the array under `wrapper` in the top-level object.
fn element_lines(text: &str, wrapper: Option<&str>) -> Vec<usize> {
    let bytes = text.as_bytes();
    let mut lines = Vec::new();
    let mut line = 1;
    let mut depth = 0usize;
    let mut target: Option<usize> = if wrapper.is_none() { Some(1) } else { None };
    let mut last_key: Option<(usize, usize)> = None;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => line += 1,
            b'"' => {
                let start = i + 1;
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    if bytes[i] == b'\\' {
                        i += 1;
                    } else if bytes[i] == b'\n' {
                        line += 1;
                    }
                    i += 1;
                }
                if depth == 1 {
                    last_key = Some((start, i));
                }
            }
            b'{' | b'[' => {
                if target == Some(depth) && depth > 0 {
                    lines.push(line);
                }
                depth += 1;
                if bytes[i] == b'[' && depth == 2 && target.is_none() {
                    let key = last_key.map(|(s, e)| &text[s..e.min(text.len())]);
                    if key.is_some() && key == wrapper {
                        target = Some(2);
                    }
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    lines
}

// ---------------------------------------------------------------------------------------------
// Where each field of a format sits in one file.

/// Header names compared without case, punctuation or a `[READ ONLY]`-style suffix.
pub(crate) fn column_key(header: &str) -> String {
    let mut out = String::new();
    let mut depth = 0usize;
    for c in header.chars() {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            c if depth == 0 && c.is_alphanumeric() => out.extend(c.to_lowercase()),
            _ => {}
        }
    }
    out
}

/// A field: the header names it may have, and how to show it in messages.
struct Field {
    keys: &'static [&'static str],
    shown: &'static str,
}

const OKTA_LOGIN: Field = Field { keys: &["login", "profilelogin", "username", "oktausername"], shown: "Login" };
const OKTA_EMAIL: Field = Field { keys: &["email", "primaryemail", "profileemail"], shown: "Email" };
const OKTA_STATUS: Field = Field { keys: &["status", "oktauserstatus"], shown: "Status" };
const OKTA_STATUS_CHANGED: Field =
    Field { keys: &["statuschanged", "statuschangedate", "statuschangeddate"], shown: "statusChanged" };
const OKTA_LAST_LOGIN: Field = Field { keys: &["lastlogin", "lastlogindate"], shown: "Last Login" };
const ENTRA_UPN: Field = Field { keys: &["userprincipalname"], shown: "userPrincipalName" };
const ENTRA_MAIL: Field = Field { keys: &["mail"], shown: "mail" };
const ENTRA_ENABLED: Field = Field { keys: &["accountenabled"], shown: "accountEnabled" };
const ENTRA_USER_TYPE: Field = Field { keys: &["usertype"], shown: "userType" };
const ENTRA_ALTERNATE: Field = Field { keys: &["alternateemailaddress", "othermails"], shown: "alternateEmailAddress" };
const ENTRA_LAST_SIGN_IN: Field = Field {
    keys: &[
        "lastsignindatetime",
        "signinactivitylastsignindatetime",
        "lastinteractivesignindate",
        "lastinteractivesignindatetime",
        "lastsignin",
    ],
    shown: "lastSignInDateTime",
};
const GOOGLE_EMAIL: Field = Field { keys: &["emailaddress", "primaryemail"], shown: "Email Address [Required]" };
const GOOGLE_STATUS: Field = Field { keys: &["status"], shown: "Status [READ ONLY]" };
const GOOGLE_SUSPENDED: Field = Field { keys: &["suspended"], shown: "suspended" };
const GOOGLE_ARCHIVED: Field = Field { keys: &["archived"], shown: "archived" };
const GOOGLE_LAST_SIGN_IN: Field = Field { keys: &["lastsignin", "lastlogintime"], shown: "Last Sign In [READ ONLY]" };

/// How a row's status is read.
#[derive(Debug, Clone, Copy)]
enum StatusFrom {
    /// A status word (Okta, the Google download).
    Word(usize),
    /// Entra's `accountEnabled` boolean.
    Enabled(usize),
    /// GAM: `suspended`, and `archived` when present.
    Flags { suspended: usize, archived: Option<usize> },
}

#[derive(Debug)]
struct Layout {
    format: IdpFormat,
    email: Option<usize>,
    login: Option<usize>,
    status: StatusFrom,
    user_type: Option<usize>,
    alternate: Option<usize>,
    status_changed: Option<usize>,
    last_login: Option<usize>,
    aliases: Vec<usize>,
    /// Header names, for messages.
    headers: Vec<String>,
}

impl Layout {
    fn detect(
        path: &Path,
        header_line: usize,
        headers: &csv::StringRecord,
        given: Option<IdpFormat>,
        preamble: Option<&str>,
        json: bool,
    ) -> Result<Self, InputError> {
        let keys: Vec<String> = headers.iter().map(column_key).collect();
        // Every column a field could be read from; two of them is an ambiguity, never a choice.
        let find = |field: &Field| -> Result<Option<usize>, InputError> {
            let hits: Vec<usize> =
                keys.iter().enumerate().filter(|(_, k)| field.keys.contains(&k.as_str())).map(|(i, _)| i).collect();
            match hits.as_slice() {
                [] => Ok(None),
                [one] => Ok(Some(*one)),
                many => Err(ambiguous_columns(path, header_line, headers, &format!("`{}`", field.shown), many)),
            }
        };
        let has = |k: &str| keys.iter().any(|x| x == k);
        let format = match given {
            Some(f) => f,
            None => detect_format(path, header_line, headers, &keys, preamble, json)?,
        };
        let vendor = format.vendor();
        let missing = |fields: &[&Field]| -> Vec<&'static str> {
            fields.iter().filter(|f| !f.keys.iter().any(|k| has(k))).map(|f| f.shown).collect()
        };
        let required_missing: Vec<&str> = match vendor {
            IdpVendor::Okta => {
                let mut m = missing(&[&OKTA_STATUS]);
                if !OKTA_LOGIN.keys.iter().chain(OKTA_EMAIL.keys).any(|k| has(k)) {
                    m.insert(0, OKTA_LOGIN.shown);
                }
                m
            }
            IdpVendor::Entra => missing(&[&ENTRA_UPN, &ENTRA_ENABLED]),
            IdpVendor::Google => {
                let mut m = missing(&[&GOOGLE_EMAIL]);
                let flags = format == IdpFormat::GoogleGam;
                if flags && !has("suspended") {
                    m.push(GOOGLE_SUSPENDED.shown);
                } else if !flags && !has("status") {
                    m.push(GOOGLE_STATUS.shown);
                }
                m
            }
        };
        if !required_missing.is_empty() {
            let how = if given.is_some() { "--idp-format says this is" } else { "this looks like" };
            return Err(InputError::new(
                path,
                Some(header_line),
                format!(
                    "{how} the {} but it lacks the required column{} {}",
                    format.describe(),
                    if required_missing.len() == 1 { "" } else { "s" },
                    quoted_list(required_missing.iter())
                ),
                "download the export again with all columns (do not remove columns in a spreadsheet before saving)",
            ));
        }
        let names = headers.iter().map(str::to_owned).collect();
        let layout = match vendor {
            IdpVendor::Okta => Layout {
                format,
                email: find(&OKTA_EMAIL)?,
                login: find(&OKTA_LOGIN)?,
                status: StatusFrom::Word(find(&OKTA_STATUS)?.unwrap_or_default()),
                user_type: None,
                alternate: None,
                status_changed: find(&OKTA_STATUS_CHANGED)?,
                last_login: find(&OKTA_LAST_LOGIN)?,
                aliases: Vec::new(),
                headers: names,
            },
            IdpVendor::Entra => Layout {
                format,
                email: find(&ENTRA_MAIL)?,
                login: find(&ENTRA_UPN)?,
                status: StatusFrom::Enabled(find(&ENTRA_ENABLED)?.unwrap_or_default()),
                user_type: find(&ENTRA_USER_TYPE)?,
                alternate: find(&ENTRA_ALTERNATE)?,
                status_changed: None,
                last_login: find(&ENTRA_LAST_SIGN_IN)?,
                aliases: Vec::new(),
                headers: names,
            },
            IdpVendor::Google => {
                let status = match format {
                    IdpFormat::GoogleGam => StatusFrom::Flags {
                        suspended: find(&GOOGLE_SUSPENDED)?.unwrap_or_default(),
                        archived: find(&GOOGLE_ARCHIVED)?,
                    },
                    _ => StatusFrom::Word(find(&GOOGLE_STATUS)?.unwrap_or_default()),
                };
                Layout {
                    format,
                    email: find(&GOOGLE_EMAIL)?,
                    login: None,
                    status,
                    user_type: None,
                    alternate: None,
                    status_changed: None,
                    last_login: find(&GOOGLE_LAST_SIGN_IN)?,
                    aliases: keys
                        .iter()
                        .enumerate()
                        .filter(|(_, k)| {
                            matches!(k.as_str(), "worksecondaryemail" | "homesecondaryemail") || k.contains("alias")
                        })
                        .map(|(i, _)| i)
                        .collect(),
                    headers: names,
                }
            }
        };
        Ok(layout)
    }

    fn column(&self, i: usize) -> &str {
        self.headers.get(i).map(String::as_str).unwrap_or("?")
    }
}

/// The format a header belongs to, or an error naming what was expected (or the candidates,
/// when it fits several).
fn detect_format(
    path: &Path,
    header_line: usize,
    headers: &csv::StringRecord,
    keys: &[String],
    preamble: Option<&str>,
    json: bool,
) -> Result<IdpFormat, InputError> {
    let has = |k: &str| keys.iter().any(|x| x == k);
    let any = |ks: &[&str]| ks.iter().any(|k| has(k));
    let google_marked = headers.iter().any(|h| {
        let h = h.to_ascii_lowercase();
        h.contains("[required]") || h.contains("[read only]")
    });
    let mut candidates: Vec<IdpFormat> = Vec::new();
    if json {
        if any(&["profilelogin", "profileemail"]) {
            candidates.push(IdpFormat::OktaApiJson);
        }
        if has("userprincipalname") {
            candidates.push(IdpFormat::EntraJson);
        }
    } else {
        if has("userprincipalname") {
            // PowerShell writes the .NET property names (`Id`, PascalCase); the portal `objectId`
            // and camelCase or its list view's labels.
            let powershell = preamble.is_some_and(|p| p.starts_with("#TYPE"))
                || (has("id") && !has("objectid"))
                || headers.iter().any(|h| h.trim() == "UserPrincipalName");
            candidates.push(if powershell { IdpFormat::EntraPowerShell } else { IdpFormat::EntraDownload });
        }
        if google_marked && has("emailaddress") {
            candidates.push(IdpFormat::GoogleDownload);
        } else if has("primaryemail") && any(&["suspended", "archived"]) {
            candidates.push(IdpFormat::GoogleGam);
        }
        let okta_login = any(OKTA_LOGIN.keys);
        if any(&["oktausername", "oktauserstatus"]) {
            candidates.push(IdpFormat::OktaUserAccounts);
        } else if has("userid") && has("username") {
            candidates.push(IdpFormat::OktaRockstar);
        } else if has("user") && any(&["activationdate", "authenticationsource", "lastpasswordchange"]) {
            // The Password Health report's own columns: recognised even when `Login` or `Status`
            // was deleted, so the error names what is missing.
            candidates.push(IdpFormat::OktaPasswordHealth);
        } else if okta_login && has("status") && !google_marked {
            candidates.push(IdpFormat::OktaApiCsv);
        } else if has("login") && !google_marked && candidates.is_empty() {
            // `Login` with no status column: an Okta report missing its `Status`.
            candidates.push(IdpFormat::OktaPasswordHealth);
        }
    }
    match candidates.as_slice() {
        [one] => Ok(*one),
        [] => Err(InputError::new(
            path,
            Some(header_line),
            format!(
                "could not recognise the format: expected the header of an Okta, Entra ID or Google Workspace users export, found columns {}",
                quoted_list(headers.iter().take(8))
            ),
            format!(
                "pass the file as downloaded: an Okta report or export (has `Login` or `Username`, and `Status`), an Entra ID users file (has `userPrincipalName` and `accountEnabled`) or a Google Workspace users download or GAM output (has `Email Address [Required]` or `primaryEmail`); if it is one of those with renamed columns, name its format with --idp-format ({})",
                IdpFormat::names()
            ),
        )),
        many => Err(InputError::new(
            path,
            Some(header_line),
            format!(
                "the header fits more than one format ({}), so hkaudit will not pick one",
                many.iter().map(|f| format!("{} = {}", f.name(), f.describe())).collect::<Vec<_>>().join("; ")
            ),
            format!("name the format with --idp-format, e.g. --idp-format {}={}", file_name(path), many[0].name()),
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// Rows.

/// At most this many warnings are kept with their text; all are counted.
const WARNINGS_KEPT: usize = 100;

/// A date that needs the file's day/month order to be read.
struct PendingDate {
    user: usize,
    field: DateField,
    line: usize,
    column: usize,
    raw: String,
    day_first: NaiveDateTime,
    month_first: NaiveDateTime,
}

#[derive(Clone, Copy)]
enum DateField {
    StatusChanged,
    LastLogin,
}

/// The primary identity of a row.
enum Identity {
    Email(String),
    /// A login (or an unreadable address) that is not an email: kept, matches nothing.
    Other(String),
}

struct Reader<'p> {
    path: &'p Path,
    layout: Layout,
    encoding: TextEncoding,
    delimiter: String,
    preamble: Option<String>,
    format_given: bool,
    rows: usize,
    guests: usize,
    non_email: usize,
    primaries: Vec<IdpUser>,
    aliases: Vec<(String, usize)>,
    domains: BTreeSet<String>,
    pending: Vec<PendingDate>,
    day_first_seen: usize,
    month_first_seen: usize,
    ambiguous_seen: usize,
    warnings: Vec<InputWarning>,
    warning_count: usize,
}

impl<'p> Reader<'p> {
    fn new(
        path: &'p Path,
        layout: Layout,
        encoding: TextEncoding,
        delimiter: String,
        preamble: Option<String>,
        format_given: bool,
    ) -> Self {
        Self {
            path,
            layout,
            encoding,
            delimiter,
            preamble,
            format_given,
            rows: 0,
            guests: 0,
            non_email: 0,
            primaries: Vec::new(),
            aliases: Vec::new(),
            domains: BTreeSet::new(),
            pending: Vec::new(),
            day_first_seen: 0,
            month_first_seen: 0,
            ambiguous_seen: 0,
            warnings: Vec::new(),
            warning_count: 0,
        }
    }

    fn warn(&mut self, line: usize, column: Option<usize>, message: String) {
        self.warning_count += 1;
        if self.warnings.len() < WARNINGS_KEPT {
            let column = column.map(|c| self.layout.column(c).to_owned());
            self.warnings.push(InputWarning { line: Some(line), column, message });
        }
    }

    fn error(&self, line: usize, col: usize, problem: impl Into<String>, fix: impl Into<String>) -> InputError {
        InputError::new(self.path, Some(line), format!("column `{}`: {}", self.layout.column(col), problem.into()), fix)
    }

    /// One data row → the user under their primary identity, plus their other addresses.
    fn ingest(&mut self, line: usize, record: &csv::StringRecord) -> Result<(), InputError> {
        if record.iter().all(|f| f.trim().is_empty()) {
            return Ok(());
        }
        self.rows += 1;
        let get = |i: Option<usize>| i.and_then(|i| record.get(i)).map(str::trim).unwrap_or_default();
        let status = self.status(line, record)?;
        let (identity, mut others, guest) = match self.layout.format.vendor() {
            IdpVendor::Entra => self.entra_identity(line, record)?,
            _ => {
                let (identity, others) = self.plain_identity(line, get(self.layout.email), get(self.layout.login))?;
                (identity, others, false)
            }
        };
        let alias_cols = std::mem::take(&mut self.layout.aliases);
        for &i in &alias_cols {
            for alias in get(Some(i)).split([',', ';', ' ']).filter(|s| !s.trim().is_empty()) {
                match valid_email(alias) {
                    Some(a) => others.push(a),
                    None => {
                        self.warn(line, Some(i), format!("`{alias}` is not an email address; this alias is ignored"))
                    }
                }
            }
        }
        self.layout.aliases = alias_cols;
        let primary = match identity {
            Identity::Email(e) => {
                if !guest {
                    if let Some(d) = email_domain(&e) {
                        if !self.domains.contains(d) {
                            self.domains.insert(d.to_owned());
                        }
                    }
                }
                e
            }
            Identity::Other(login) => {
                self.non_email += 1;
                login.to_lowercase()
            }
        };
        if guest {
            self.guests += 1;
        }
        let index = self.primaries.len();
        let status_changed = self.date(line, self.layout.status_changed, record, index, DateField::StatusChanged);
        let last_login = self.date(line, self.layout.last_login, record, index, DateField::LastLogin);
        for alias in others {
            if alias != primary {
                self.aliases.push((alias, index));
            }
        }
        self.primaries.push(IdpUser {
            email_norm: primary,
            status,
            status_changed_at: status_changed,
            last_login_at: last_login,
            alias_of: None,
            guest,
            line,
        });
        Ok(())
    }

    /// Okta and Google: the email, else the login; the other one is an alias.
    fn plain_identity(&mut self, line: usize, email: &str, login: &str) -> Result<(Identity, Vec<String>), InputError> {
        let email_ok = valid_email(email);
        // Most exports write the same address as login and email: read it once.
        let login_ok = if email_ok.is_some() && login.eq_ignore_ascii_case(email) { None } else { valid_email(login) };
        match (email_ok, login_ok) {
            (Some(e), l) => Ok((Identity::Email(e), l.into_iter().collect())),
            (None, Some(l)) => {
                if !email.is_empty() {
                    self.warn(
                        line,
                        self.layout.email,
                        format!("`{email}` is not an email address; the login `{login}` is used instead"),
                    );
                }
                Ok((Identity::Email(l), Vec::new()))
            }
            (None, None) if !login.is_empty() => Ok((Identity::Other(login.to_owned()), Vec::new())),
            (None, None) if !email.is_empty() => {
                self.warn(
                    line,
                    self.layout.email,
                    format!("`{email}` is not an email address: the row is kept but matches no Heroku account"),
                );
                Ok((Identity::Other(email.to_owned()), Vec::new()))
            }
            (None, None) => {
                let col = self.layout.email.or(self.layout.login).unwrap_or_default();
                Err(self.error(
                    line,
                    col,
                    "the row has no email address and no login",
                    "fill one in or delete the row (every user needs one to be matched)",
                ))
            }
        }
    }

    /// Entra: members by `mail`, else the UPN; guests by `mail`, else `alternateEmailAddress`,
    /// else the address inside their `#EXT#` UPN.
    fn entra_identity(
        &mut self,
        line: usize,
        record: &csv::StringRecord,
    ) -> Result<(Identity, Vec<String>, bool), InputError> {
        let get = |i: Option<usize>| i.and_then(|i| record.get(i)).map(str::trim).unwrap_or_default();
        let upn = get(self.layout.login);
        let mail = get(self.layout.email);
        let ext = find_ext(upn);
        let guest = get(self.layout.user_type).eq_ignore_ascii_case("guest") || ext.is_some();
        if !guest {
            let (identity, mut others) = self.plain_identity(line, mail, upn)?;
            // A member's UPN is a second sign-in address of the same person, when it is one.
            others.retain(|a| !a.contains("#ext#"));
            return Ok((identity, others, false));
        }
        let alternates: Vec<String> =
            get(self.layout.alternate).split([';', ',', ' ']).filter_map(valid_email).collect();
        let decoded = ext.and_then(|at| decode_ext_upn(&upn[..at]));
        let mut addresses: Vec<String> = Vec::new();
        if let Some(m) = valid_email(mail) {
            addresses.push(m);
        } else if !mail.is_empty() {
            self.warn(
                line,
                self.layout.email,
                format!("`{mail}` is not an email address; the guest's other addresses are used"),
            );
        }
        addresses.extend(alternates);
        addresses.extend(decoded);
        if ext.is_none() {
            addresses.extend(valid_email(upn));
        }
        let mut unique: Vec<String> = Vec::new();
        for a in addresses {
            if !unique.contains(&a) {
                unique.push(a);
            }
        }
        let mut it = unique.into_iter();
        match it.next() {
            Some(first) => Ok((Identity::Email(first), it.collect(), true)),
            None if !upn.is_empty() => {
                self.warn(
                    line,
                    self.layout.login,
                    format!("no address for this guest (mail, alternateEmailAddress and the user principal name `{upn}` give none): the row is kept but matches no Heroku account"),
                );
                Ok((Identity::Other(upn.to_owned()), Vec::new(), true))
            }
            None => Err(self.error(
                line,
                self.layout.login.unwrap_or_default(),
                "the row has no user principal name and no address",
                "fill one in or delete the row (every user needs one to be matched)",
            )),
        }
    }

    fn status(&self, line: usize, record: &csv::StringRecord) -> Result<IdpStatus, InputError> {
        let get = |i: usize| record.get(i).map(str::trim).unwrap_or_default();
        match self.layout.status {
            StatusFrom::Word(col) => {
                let raw = get(col);
                // Exports write the API's own words (`ACTIVE`): no copy needed for those.
                let word: std::borrow::Cow<str> = if raw.bytes().all(|b| b.is_ascii_uppercase() || b == b'_') {
                    raw.into()
                } else {
                    raw.to_uppercase().replace([' ', '-'], "_").into()
                };
                let status = match self.layout.format.vendor() {
                    // LOCKED_OUT and PASSWORD_EXPIRED accounts still exist and are one password
                    // reset away from signing in, and STAGED/PROVISIONED/RECOVERY ones can be
                    // activated by the user alone: none of them is an offboarded person. The
                    // second names of each pair are the Admin Console's labels for the same states.
                    IdpVendor::Okta => match word.as_ref() {
                        "ACTIVE"
                        | "PROVISIONED"
                        | "PENDING_USER_ACTION"
                        | "RECOVERY"
                        | "PASSWORD_RESET"
                        | "PASSWORD_EXPIRED"
                        | "LOCKED_OUT"
                        | "STAGED" => Some(IdpStatus::Active),
                        "SUSPENDED" => Some(IdpStatus::Suspended),
                        "DEPROVISIONED" | "DEACTIVATED" => Some(IdpStatus::Deprovisioned),
                        _ => None,
                    },
                    // Archived users keep their data but can no longer sign in: an offboarded person.
                    _ => match word.as_ref() {
                        "ACTIVE" => Some(IdpStatus::Active),
                        "SUSPENDED" => Some(IdpStatus::Suspended),
                        "ARCHIVED" => Some(IdpStatus::Deprovisioned),
                        _ => None,
                    },
                };
                status.ok_or_else(|| {
                    let allowed = match self.layout.format.vendor() {
                        IdpVendor::Okta => {
                            "ACTIVE, PROVISIONED, RECOVERY, PASSWORD_EXPIRED, LOCKED_OUT, STAGED, SUSPENDED, DEPROVISIONED"
                        }
                        _ => "Active, Suspended, Archived",
                    };
                    self.error(
                        line,
                        col,
                        format!("unknown status `{raw}` in this {}", self.layout.format.describe()),
                        format!("use one of {allowed} (the values the export itself writes); hkaudit never guesses a status"),
                    )
                })
            }
            // Deleted Entra users are simply absent; a disabled account is the "suspended" state.
            StatusFrom::Enabled(col) => match self.flag(line, col, get(col))? {
                true => Ok(IdpStatus::Active),
                false => Ok(IdpStatus::Suspended),
            },
            StatusFrom::Flags { suspended, archived } => {
                let archived = match archived {
                    Some(col) if !get(col).is_empty() => self.flag(line, col, get(col))?,
                    _ => false,
                };
                let suspended = self.flag(line, suspended, get(suspended))?;
                Ok(if archived {
                    IdpStatus::Deprovisioned
                } else if suspended {
                    IdpStatus::Suspended
                } else {
                    IdpStatus::Active
                })
            }
        }
    }

    fn flag(&self, line: usize, col: usize, raw: &str) -> Result<bool, InputError> {
        parse_bool(raw).ok_or_else(|| {
            self.error(
                line,
                col,
                format!("`{raw}` is not a true/false value"),
                "write True or False (or the spreadsheet's own words for them, such as WAHR/FALSCH or VRAI/FAUX); hkaudit never guesses a status",
            )
        })
    }

    fn date(
        &mut self,
        line: usize,
        col: Option<usize>,
        record: &csv::StringRecord,
        user: usize,
        field: DateField,
    ) -> Option<DateTime<Utc>> {
        let col = col?;
        let cell = record.get(col).map(str::trim).unwrap_or_default();
        // Entra's new download writes a sign-in column as the whole `signInActivity` object.
        let inner = if cell.starts_with('{') { sign_in_of_object(cell) } else { None };
        let raw = inner.as_deref().unwrap_or(cell);
        match parse_date(raw) {
            DateParse::Never => None,
            DateParse::At(t, order) => {
                match order {
                    Some(Order::DayFirst) => self.day_first_seen += 1,
                    Some(Order::MonthFirst) => self.month_first_seen += 1,
                    None => {}
                }
                Some(t)
            }
            DateParse::Ambiguous { day_first, month_first } => {
                self.ambiguous_seen += 1;
                self.pending.push(PendingDate {
                    user,
                    field,
                    line,
                    column: col,
                    raw: raw.to_owned(),
                    day_first,
                    month_first,
                });
                None
            }
            DateParse::Unreadable => {
                self.warn(
                    line,
                    Some(col),
                    format!("cannot read the date `{raw}`: left unknown (accepted: {ACCEPTED_TIMES})"),
                );
                None
            }
        }
    }

    /// Dates like `03/04/2026` in the order the file's other dates settle; unknown when none does.
    fn finish_dates(&mut self) {
        let order = match (self.day_first_seen > 0, self.month_first_seen > 0) {
            (true, false) => Some(Order::DayFirst),
            (false, true) => Some(Order::MonthFirst),
            _ => None,
        };
        let conflicting = self.day_first_seen > 0 && self.month_first_seen > 0;
        let pending = std::mem::take(&mut self.pending);
        for p in pending {
            let value = match order {
                Some(Order::DayFirst) => p.day_first,
                Some(Order::MonthFirst) => p.month_first,
                None => {
                    let why = if conflicting {
                        "the file's other dates disagree on the order"
                    } else {
                        "no other date in the file settles the order"
                    };
                    self.warn(
                        p.line,
                        Some(p.column),
                        format!("the date `{}` could be day/month or month/day and {why}: left unknown", p.raw),
                    );
                    continue;
                }
            };
            let user = &mut self.primaries[p.user];
            match p.field {
                DateField::StatusChanged => user.status_changed_at = Some(value.and_utc()),
                DateField::LastLogin => user.last_login_at = Some(value.and_utc()),
            }
        }
    }

    fn date_order(&self) -> Option<String> {
        if self.day_first_seen + self.month_first_seen + self.ambiguous_seen == 0 {
            return None;
        }
        Some(
            match (self.day_first_seen > 0, self.month_first_seen > 0) {
                (true, false) => "day-first",
                (false, true) => "month-first",
                (true, true) => "conflicting",
                (false, false) => "undetermined",
            }
            .to_owned(),
        )
    }

    fn into_export(self) -> IdpExport {
        let date_order = self.date_order();
        let Reader {
            path,
            layout,
            encoding,
            delimiter,
            preamble,
            format_given,
            rows,
            guests,
            non_email,
            primaries,
            aliases,
            domains,
            warnings,
            warning_count,
            ..
        } = self;
        let format = layout.format;
        let file = file_name(path);
        let mut by_email: BTreeMap<String, IdpUser> = BTreeMap::new();
        let alias_users: Vec<IdpUser> = aliases
            .into_iter()
            .map(|(alias, i)| IdpUser {
                email_norm: alias,
                alias_of: Some(primaries[i].email_norm.clone()),
                ..primaries[i].clone()
            })
            .collect();
        // An address listed twice (two accounts sharing an email) keeps its most alive state: one
        // working account is enough to still reach Heroku through SSO.
        let mut distinct = 0;
        let mut counts = [0usize; 3];
        for user in primaries {
            match by_email.get_mut(&user.email_norm) {
                Some(existing) if user.status < existing.status => *existing = user,
                Some(_) => {}
                None => {
                    distinct += 1;
                    by_email.insert(user.email_norm.clone(), user);
                }
            }
        }
        for u in by_email.values() {
            counts[u.status as usize] += 1;
        }
        // Aliases never override a primary address that another user owns.
        for alias in alias_users {
            by_email.entry(alias.email_norm.clone()).or_insert(alias);
        }
        let summary = IdpInputSummary {
            format: format.name().to_owned(),
            format_name: format.describe().to_owned(),
            format_given,
            encoding,
            delimiter,
            preamble,
            rows,
            users: distinct,
            active: counts[IdpStatus::Active as usize],
            suspended: counts[IdpStatus::Suspended as usize],
            deprovisioned: counts[IdpStatus::Deprovisioned as usize],
            guests,
            non_email_logins: non_email,
            domains: domains.iter().cloned().collect(),
            domains_from: "derived".to_owned(),
            date_order,
            warnings: warning_count,
            warning_list: warnings,
        };
        IdpExport {
            path: path.to_path_buf(),
            format,
            source: format!("{}:{file}", format.vendor().tag()),
            users: by_email.into_values().collect(),
            summary,
            domains,
        }
    }
}

/// `lastSignInDateTime` out of a `signInActivity` object written as JSON.
fn sign_in_of_object(cell: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(cell).ok()?;
    let map = value.as_object()?;
    map.iter().find(|(k, _)| k.eq_ignore_ascii_case("lastSignInDateTime")).map(|(_, v)| scalar(v))
}

/// The normalised address, if `raw` is one.
fn valid_email(raw: &str) -> Option<String> {
    let norm = email_norm(raw);
    let ok = email_domain(&norm).is_some_and(|d| d.contains('.') || d == "localhost")
        && !norm.starts_with('@')
        && norm.matches('@').count() == 1
        && !norm.contains('#')
        && !norm.chars().any(char::is_whitespace);
    ok.then_some(norm)
}

/// Byte offset of `#EXT#` in a guest's user principal name.
fn find_ext(upn: &str) -> Option<usize> {
    upn.to_ascii_uppercase().find("#EXT#")
}

/// `kim_contractor.example` (the part of a guest UPN before `#EXT#`) → `kim@contractor.example`:
/// Entra replaces the home address's `@` with `_`, and a domain cannot hold one, so the last `_`
/// is the `@`.
fn decode_ext_upn(local: &str) -> Option<String> {
    let (name, domain) = local.rsplit_once('_')?;
    valid_email(&format!("{name}@{domain}"))
}

/// True/false in English and in the languages of the common Excel locales (German, French,
/// Spanish, Portuguese, Italian, Dutch, Swedish, Danish, Norwegian, Finnish, Polish, Russian,
/// Turkish, Czech, Hungarian), as their Excel writes them when it re-saves a file; and `1`/`0`,
/// `yes`/`no`.
pub fn parse_bool(raw: &str) -> Option<bool> {
    let w = raw.trim().to_uppercase();
    const TRUE: &[&str] = &[
        "TRUE",
        "YES",
        "1",
        "WAHR",
        "VRAI",
        "VERDADERO",
        "VERDADEIRO",
        "VERO",
        "WAAR",
        "SANT",
        "SAND",
        "SANN",
        "TOSI",
        "PRAWDA",
        "ИСТИНА",
        "DOĞRU",
        "PRAVDA",
        "IGAZ",
    ];
    const FALSE: &[&str] = &[
        "FALSE", "NO", "0", "FALSCH", "FAUX", "FALSO", "ONWAAR", "FALSKT", "FALSK", "USANN", "EPÄTOSI", "FAŁSZ",
        "ЛОЖЬ", "YANLIŞ", "NEPRAVDA", "HAMIS",
    ];
    if TRUE.contains(&w.as_str()) {
        Some(true)
    } else if FALSE.contains(&w.as_str()) {
        Some(false)
    } else {
        None
    }
}

// ---------------------------------------------------------------------------------------------
// Dates.

const ACCEPTED_TIMES: &str = "ISO 8601 such as 2024-03-01T10:00:00Z or 2024-03-01 10:00:00, 2024/03/01 10:00:00 UTC, 18.11.2026 23:52, 18/11/2026 or 11/18/2026 with an optional time and AM/PM, or empty / `Never logged in`";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Order {
    DayFirst,
    MonthFirst,
}

#[derive(Debug, PartialEq)]
enum DateParse {
    /// Empty, or a marker for "never".
    Never,
    /// Read; with the day/month order it shows, when it shows one.
    At(DateTime<Utc>, Option<Order>),
    /// Both orders give a valid date.
    Ambiguous {
        day_first: NaiveDateTime,
        month_first: NaiveDateTime,
    },
    Unreadable,
}

fn parse_date(raw: &str) -> DateParse {
    let s = raw.trim();
    let Some(first) = s.bytes().next() else { return DateParse::Never };
    let never = if first.is_ascii_digit() {
        // The Directory API's "never signed in".
        s.starts_with("1970-01-01T00:00:00")
    } else {
        ["never", "never logged in", "-", "n/a", "null", "none"].iter().any(|w| s.eq_ignore_ascii_case(w))
    };
    if never {
        return DateParse::Never;
    }
    if let Some(t) = parse_iso(s) {
        return DateParse::At(t, None);
    }
    parse_numeric(s).unwrap_or(DateParse::Unreadable)
}

pub(crate) fn parse_iso(s: &str) -> Option<DateTime<Utc>> {
    if !s.as_bytes().first().is_some_and(u8::is_ascii_digit)
        || s.len() < 10
        || !s.as_bytes()[..4].iter().all(u8::is_ascii_digit)
    {
        return None;
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    for fmt in ["%Y-%m-%d %H:%M:%S%.f %z", "%Y-%m-%dT%H:%M:%S%.f%z", "%Y/%m/%d %H:%M:%S%.f %z"] {
        if let Ok(t) = DateTime::parse_from_str(s, fmt) {
            return Some(t.with_timezone(&Utc));
        }
    }
    let naive =
        s.strip_suffix(" UTC").or_else(|| s.strip_suffix(" GMT")).or_else(|| s.strip_suffix('Z')).unwrap_or(s).trim();
    for fmt in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y/%m/%d %H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
        "%Y/%m/%d %H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(naive, fmt) {
            return Some(t.and_utc());
        }
    }
    for fmt in ["%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d"] {
        if let Ok(d) = NaiveDate::parse_from_str(naive, fmt) {
            return d.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
        }
    }
    None
}

/// `D.M.YYYY`, `D/M/YYYY`, `M/D/YYYY`, `D-M-YYYY` with an optional `H:MM[:SS[.f]]`, `AM`/`PM`
/// and ` UTC`.
fn parse_numeric(s: &str) -> Option<DateParse> {
    let (date, time) = match s.find([' ', 'T']) {
        Some(i) => (&s[..i], s[i + 1..].trim()),
        None => (s, ""),
    };
    let sep = date.chars().find(|c| matches!(c, '.' | '/' | '-'))?;
    let parts: Vec<&str> = date.trim_end_matches('.').split(sep).collect();
    let [a, b, y] = parts.as_slice() else { return None };
    if !(y.len() == 4
        && [a, b, y].iter().all(|p| !p.is_empty() && p.len() <= 4 && p.bytes().all(|c| c.is_ascii_digit())))
    {
        return None;
    }
    let (a, b, y): (u32, u32, i32) = (a.parse().ok()?, b.parse().ok()?, y.parse().ok()?);
    let time = parse_time_of_day(time)?;
    let make = |day: u32, month: u32| NaiveDate::from_ymd_opt(y, month, day).map(|d| d.and_time(time));
    let day_first = make(a, b);
    let month_first = make(b, a);
    Some(match (day_first, month_first) {
        // A dotted date is always day-first (German, Russian, Polish, Finnish, … Excel).
        (Some(d), _) if sep == '.' => DateParse::At(d.and_utc(), Some(Order::DayFirst)),
        (None, _) if sep == '.' => DateParse::Unreadable,
        (Some(d), Some(m)) if d == m => DateParse::At(d.and_utc(), None),
        (Some(d), Some(m)) => DateParse::Ambiguous { day_first: d, month_first: m },
        (Some(d), None) => DateParse::At(d.and_utc(), Some(Order::DayFirst)),
        (None, Some(m)) => DateParse::At(m.and_utc(), Some(Order::MonthFirst)),
        (None, None) => DateParse::Unreadable,
    })
}

fn parse_time_of_day(t: &str) -> Option<NaiveTime> {
    let t =
        t.strip_suffix(" UTC").or_else(|| t.strip_suffix(" GMT")).or_else(|| t.strip_suffix('Z')).unwrap_or(t).trim();
    if t.is_empty() {
        return NaiveTime::from_hms_opt(0, 0, 0);
    }
    let upper = t.to_ascii_uppercase();
    let (clock, meridiem) = match upper.strip_suffix("PM").or_else(|| upper.strip_suffix("P.M.")) {
        Some(c) => (c.trim().to_owned(), Some(true)),
        None => match upper.strip_suffix("AM").or_else(|| upper.strip_suffix("A.M.")) {
            Some(c) => (c.trim().to_owned(), Some(false)),
            None => (upper, None),
        },
    };
    let mut fields = clock.split(':');
    let h: u32 = fields.next()?.trim().parse().ok()?;
    let m: u32 = fields.next()?.trim().parse().ok()?;
    let (sec, nanos) = match fields.next() {
        Some(s) => {
            let (whole, frac) = s.split_once([',', '.']).unwrap_or((s, ""));
            let nanos = if frac.is_empty() {
                0
            } else {
                let digits: String = frac.chars().take(9).collect();
                digits.parse::<u32>().ok()? * 10u32.pow(9 - digits.len() as u32)
            };
            (whole.trim().parse().ok()?, nanos)
        }
        None => (0, 0),
    };
    if fields.next().is_some() {
        return None;
    }
    let h = match meridiem {
        Some(pm) if (1..=12).contains(&h) => (h % 12) + if pm { 12 } else { 0 },
        Some(_) => return None,
        None => h,
    };
    NaiveTime::from_hms_nano_opt(h, m, sec, nanos)
}

fn quoted_list<S: AsRef<str>>(items: impl Iterator<Item = S>) -> String {
    items.map(|s| format!("`{}`", s.as_ref())).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const OKTA_HEADER: &str = "User,Login,Status,Activation date,Authentication Source,Last Login,Last Password Change";

    fn write(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> PathBuf {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).expect("write test file");
        path
    }

    fn load(name: &str, text: &str) -> Result<IdpExport, InputError> {
        let dir = tempfile::tempdir().expect("tempdir");
        load_idp_export(&write(&dir, name, text.as_bytes()))
    }

    fn load_as(name: &str, text: &str, format: IdpFormat) -> Result<IdpExport, InputError> {
        let dir = tempfile::tempdir().expect("tempdir");
        load_idp_export_as(&write(&dir, name, text.as_bytes()), Some(format))
    }

    fn status_of(export: &IdpExport, email: &str) -> Option<&'static str> {
        export.user(email).map(|u| u.status.as_str())
    }

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).single().expect("valid time")
    }

    fn okta_file() -> String {
        let statuses = [
            "ACTIVE",
            "PROVISIONED",
            "RECOVERY",
            "PASSWORD_EXPIRED",
            "LOCKED_OUT",
            "STAGED",
            "SUSPENDED",
            "DEPROVISIONED",
        ];
        let mut text = format!("{OKTA_HEADER}\n");
        for (i, s) in statuses.iter().enumerate() {
            text.push_str(&format!(
                "User {i},u{i}@acme.example,{s},2023-01-01 09:00:00,OKTA,2024-03-01 10:0{i}:00,2023-06-01T00:00:00.000Z\n"
            ));
        }
        text
    }

    fn assert_error(err: &InputError, file: &str, line: usize, needles: &[&str]) {
        let shown = err.to_string();
        assert!(shown.contains(file), "no file name in: {shown}");
        assert_eq!(err.line(), Some(line), "{shown}");
        assert!(shown.contains(&format!(":{line}:")), "no line in: {shown}");
        for needle in needles {
            assert!(shown.contains(needle), "`{needle}` missing from: {shown}");
        }
    }

    #[test]
    fn okta_report_maps_every_status_and_reads_iso_dates() {
        let export = load("okta.csv", &okta_file()).expect("parses");
        assert_eq!(export.format, IdpFormat::OktaPasswordHealth);
        assert_eq!(export.source, "okta:okta.csv");
        let got: Vec<_> =
            (0..8).map(|i| status_of(&export, &format!("u{i}@acme.example")).unwrap_or("missing")).collect();
        assert_eq!(got, ["active", "active", "active", "active", "active", "active", "suspended", "deprovisioned"]);
        assert_eq!(export.user("u3@acme.example").and_then(|u| u.last_login_at), Some(utc(2024, 3, 1, 10, 3)));
        assert_eq!(export.domains().iter().collect::<Vec<_>>(), ["acme.example"]);
        let s = &export.summary;
        assert_eq!((s.rows, s.users, s.active, s.suspended, s.deprovisioned), (8, 8, 6, 1, 1));
        assert_eq!((s.warnings, s.date_order.as_deref(), s.domains_from.as_str()), (0, None, "derived"));
    }

    #[test]
    fn okta_api_shaped_export_reads_email_login_alias_and_status_changed() {
        let text = "id,status,statusChanged,lastLogin,login,email\n\
                    00u1,SUSPENDED,2024-02-01T08:00:00.000Z,,jdoe,Jane.Doe@Acme.example\n";
        let export = load("okta-api.csv", text).expect("parses");
        assert_eq!(export.format, IdpFormat::OktaApiCsv);
        let user = export.user("jane.doe@acme.example").expect("found by email");
        assert_eq!(user.status, IdpStatus::Suspended);
        assert_eq!(user.status_changed_at, Some(utc(2024, 2, 1, 8, 0)));
        assert_eq!(user.last_login_at, None);
    }

    #[test]
    fn a_login_that_is_not_an_email_is_kept_as_a_row_that_matches_nothing() {
        let text = format!("{OKTA_HEADER}\nBackup,svc-backup,SUSPENDED,,,,\nAda,ada@acme.example,ACTIVE,,,,\n");
        let export = load("okta.csv", &text).expect("a non-email login does not stop the file");
        assert_eq!(export.summary.non_email_logins, 1);
        assert_eq!(status_of(&export, "svc-backup"), Some("suspended"), "kept under its login");
        assert_eq!(status_of(&export, "ada@acme.example"), Some("active"));
        assert_eq!(export.domains().iter().collect::<Vec<_>>(), ["acme.example"], "a login has no domain");
    }

    #[test]
    fn a_row_with_neither_email_nor_login_is_an_error_with_its_line() {
        let text = format!("{OKTA_HEADER}\nAda,ada@acme.example,ACTIVE,,,,\nNobody,,ACTIVE,,,,\n");
        let err = load("okta.csv", &text).expect_err("no identity");
        assert_error(&err, "okta.csv", 3, &["no email address and no login"]);
    }

    #[test]
    fn unknown_status_gives_line_value_and_allowed_values_never_a_guess() {
        let text = format!("{OKTA_HEADER}\nA,a@acme.example,ACTIVE,,,,\nB,b@acme.example,ON_LEAVE,,,,\n");
        let err = load("okta.csv", &text).expect_err("must fail");
        assert_error(&err, "okta.csv", 3, &["`ON_LEAVE`", "DEPROVISIONED", "LOCKED_OUT", "never guesses"]);
        let text = "userPrincipalName,mail,accountEnabled\na@acme.example,,Maybe\n";
        let err = load("entra.csv", text).expect_err("must fail");
        assert_error(&err, "entra.csv", 2, &["`Maybe` is not a true/false value"]);
    }

    #[test]
    fn an_unreadable_optional_date_is_unknown_plus_one_warning_and_the_rest_is_read() {
        let text = format!(
            "{OKTA_HEADER}\nA,a@acme.example,SUSPENDED,,,yesterday,\nB,b@acme.example,DEPROVISIONED,,,2024-03-01T10:00:00Z,\n"
        );
        let export = load("okta.csv", &text).expect("a bad date does not stop the file");
        assert_eq!(
            export.user("a@acme.example").map(|u| (u.status, u.last_login_at)),
            Some((IdpStatus::Suspended, None))
        );
        assert_eq!(export.user("b@acme.example").and_then(|u| u.last_login_at), Some(utc(2024, 3, 1, 10, 0)));
        assert_eq!(export.summary.warnings, 1);
        let w = &export.warnings()[0];
        assert_eq!((w.line, w.column.as_deref()), (Some(2), Some("Last Login")));
        assert!(w.message.contains("`yesterday`") && w.message.contains("left unknown"), "{w}");
    }

    #[test]
    fn dates_in_every_order_and_the_ambiguous_ones_left_unknown() {
        let day = |s: &str| match parse_date(s) {
            DateParse::At(t, _) => Some(t),
            _ => None,
        };
        assert_eq!(day("2026-11-18T23:52:00.000Z"), Some(utc(2026, 11, 18, 23, 52)));
        assert_eq!(day("2026/11/18 23:52:00"), Some(utc(2026, 11, 18, 23, 52)));
        assert_eq!(day("2024-02-23T11:29:00-08:00"), Some(utc(2024, 2, 23, 19, 29)));
        assert_eq!(day("18.11.2026 23:52"), Some(utc(2026, 11, 18, 23, 52)), "German Excel");
        assert_eq!(day("3.4.2026"), Some(utc(2026, 4, 3, 0, 0)), "a dotted date is day-first");
        assert_eq!(day("11/18/2026 11:52:00 PM"), Some(utc(2026, 11, 18, 23, 52)), "en-US PowerShell");
        assert_eq!(day("18/11/2026 23:52:00"), Some(utc(2026, 11, 18, 23, 52)), "en-GB PowerShell");
        assert_eq!(day("4/4/2026 12:05:00 AM"), Some(utc(2026, 4, 4, 0, 5)), "same either way");
        assert!(matches!(parse_date("03/04/2026"), DateParse::Ambiguous { .. }));
        assert_eq!(parse_date("Never logged in"), DateParse::Never);
        assert_eq!(parse_date("1970-01-01T00:00:00.000Z"), DateParse::Never, "the Directory API's never");
        assert_eq!(parse_date("31.02.2026"), DateParse::Unreadable);
        assert_eq!(parse_date("13/13/2026"), DateParse::Unreadable);

        // The file's other dates settle the order of 03/04/2026 ...
        let header = "id,status,statusChanged,lastLogin,login";
        let settled =
            format!("{header}\n1,ACTIVE,,03/04/2026 10:00,a@acme.example\n2,ACTIVE,,11/18/2026 10:00,b@acme.example\n");
        let export = load("us.csv", &settled).expect("parses");
        assert_eq!(export.user("a@acme.example").and_then(|u| u.last_login_at), Some(utc(2026, 3, 4, 10, 0)));
        assert_eq!((export.summary.date_order.as_deref(), export.summary.warnings), (Some("month-first"), 0));
        let settled = settled.replace("11/18/2026", "18/11/2026");
        let export = load("gb.csv", &settled).expect("parses");
        assert_eq!(export.user("a@acme.example").and_then(|u| u.last_login_at), Some(utc(2026, 4, 3, 10, 0)));
        assert_eq!(export.summary.date_order.as_deref(), Some("day-first"));
        // ... and when nothing settles it, it is unknown, never guessed.
        let open = format!("{header}\n1,ACTIVE,,03/04/2026,a@acme.example\n2,ACTIVE,,05/06/2026,b@acme.example\n");
        let export = load("open.csv", &open).expect("parses");
        assert_eq!(export.user("a@acme.example").and_then(|u| u.last_login_at), None);
        assert_eq!((export.summary.date_order.as_deref(), export.summary.warnings), (Some("undetermined"), 2));
        assert!(export.warnings()[0].message.contains("no other date in the file settles the order"));
        let both = format!("{header}\n1,ACTIVE,,03/04/2026,a@acme.example\n2,ACTIVE,,18/11/2026,b@acme.example\n3,ACTIVE,,11/18/2026,c@acme.example\n");
        let export = load("both.csv", &both).expect("parses");
        assert_eq!(export.user("a@acme.example").and_then(|u| u.last_login_at), None);
        assert_eq!(export.user("b@acme.example").and_then(|u| u.last_login_at), Some(utc(2026, 11, 18, 0, 0)));
        assert_eq!(export.summary.date_order.as_deref(), Some("conflicting"));
    }

    #[test]
    fn booleans_in_the_languages_of_the_common_excel_locales() {
        let pairs = [
            ("TRUE", "FALSE"),
            ("WAHR", "FALSCH"),
            ("VRAI", "FAUX"),
            ("VERDADERO", "FALSO"),
            ("VERDADEIRO", "FALSO"),
            ("VERO", "FALSO"),
            ("WAAR", "ONWAAR"),
            ("SANT", "FALSKT"),
            ("SAND", "FALSK"),
            ("SANN", "USANN"),
            ("TOSI", "EPÄTOSI"),
            ("PRAWDA", "FAŁSZ"),
            ("ИСТИНА", "ЛОЖЬ"),
            ("DOĞRU", "YANLIŞ"),
            ("PRAVDA", "NEPRAVDA"),
            ("IGAZ", "HAMIS"),
        ];
        for (t, f) in pairs {
            assert_eq!(parse_bool(t), Some(true), "{t}");
            assert_eq!(parse_bool(f), Some(false), "{f}");
            assert_eq!(parse_bool(&t.to_lowercase()), Some(true), "{t} in lower case");
            assert_eq!(parse_bool(&f.to_lowercase()), Some(false), "{f} in lower case");
        }
        assert_eq!(parse_bool("True"), Some(true));
        assert_eq!(parse_bool("maybe"), None);
        assert_eq!(parse_bool(""), None);
    }

    #[test]
    fn guests_are_identified_by_mail_else_alternate_else_ext_upn_and_never_widen_domains() {
        let text = "userPrincipalName,mail,userType,accountEnabled,alternateEmailAddress\n\
                    ann@acme.example,Ann@Acme.example,Member,True,\n\
                    nora_contractor.example#EXT#@t.onmicrosoft.com,nora@contractor.example,Guest,True,\n\
                    xav_freelance.example#EXT#@t.onmicrosoft.com,,Guest,False,xavier@freelance.example\n\
                    kit_partner.example#EXT#@t.onmicrosoft.com,,Guest,False,\n";
        let export = load("entra.csv", text).expect("parses");
        assert_eq!(export.format, IdpFormat::EntraDownload);
        assert_eq!(status_of(&export, "nora@contractor.example"), Some("active"));
        assert_eq!(status_of(&export, "xavier@freelance.example"), Some("suspended"), "by alternateEmailAddress");
        assert_eq!(status_of(&export, "kit@partner.example"), Some("suspended"), "by the #EXT# UPN");
        assert!(export.user("xavier@freelance.example").is_some_and(|u| u.guest));
        assert_eq!(export.domains().iter().collect::<Vec<_>>(), ["acme.example"], "guests add no domain");
        assert_eq!((export.summary.guests, export.summary.users), (3, 4));
        assert_eq!(decode_ext_upn("first_last_home.example"), Some("first_last@home.example".to_owned()));
        assert_eq!(decode_ext_upn("nodomain"), None);
    }

    #[test]
    fn entra_members_join_on_mail_else_upn_and_the_upn_is_an_alias() {
        let text = "userPrincipalName,displayName,mail,objectId,userType,accountEnabled\n\
                    ann@acme.onmicrosoft.com,Ann,Ann@Acme.example,id1,Member,True\n\
                    bob@acme.example,Bob,,id2,Member,False\n";
        let export = load("entra.csv", text).expect("parses");
        assert_eq!(status_of(&export, "ann@acme.example"), Some("active"));
        assert_eq!(status_of(&export, "bob@acme.example"), Some("suspended"));
        assert_eq!(
            export.user("ann@acme.onmicrosoft.com").and_then(|u| u.alias_of.as_deref()),
            Some("ann@acme.example")
        );
        assert_eq!(export.domains().iter().collect::<Vec<_>>(), ["acme.example"]);
    }

    #[test]
    fn google_download_gam_and_aliases() {
        let text = "First Name [Required],Last Name [Required],Email Address [Required],Status [READ ONLY],Last Sign In [READ ONLY],Work Secondary Email\n\
                    Cy,X,cy@acme.example,Active,2024/03/01 10:00:00,\n\
                    Di,X,di@acme.example,Suspended,Never logged in,Di.Old@Acme-Legacy.example\n\
                    Ed,X,ed@acme.example,Archived,2023/12/24 08:30:00,\n";
        let export = load("google.csv", text).expect("parses");
        assert_eq!(export.format, IdpFormat::GoogleDownload);
        assert_eq!(status_of(&export, "ed@acme.example"), Some("deprovisioned"));
        assert_eq!(export.user("cy@acme.example").and_then(|u| u.last_login_at), Some(utc(2024, 3, 1, 10, 0)));
        let alias = export.user("di.old@acme-legacy.example").expect("alias present");
        assert_eq!((alias.status, alias.alias_of.as_deref()), (IdpStatus::Suspended, Some("di@acme.example")));
        assert!(!export.covers("someone@acme-legacy.example"), "aliases do not widen the covered domains");

        let gam = "primaryEmail,suspended,archived,lastLoginTime,aliases.0\n\
                   a@acme.example,False,False,2015-08-14T13:04:37.000Z,al@acme.example\n\
                   b@acme.example,True,False,Never,\n\
                   c@acme.example,False,True,,\n";
        let export = load("gam.csv", gam).expect("parses");
        assert_eq!(export.format, IdpFormat::GoogleGam);
        let got: Vec<_> =
            ["a", "b", "c", "al"].iter().map(|u| status_of(&export, &format!("{u}@acme.example"))).collect();
        assert_eq!(got, [Some("active"), Some("suspended"), Some("deprovisioned"), Some("active")]);
        let err = load("gam.csv", &gam.replace("True,False,Never", "Ja,False,Never")).expect_err("status unreadable");
        assert_error(&err, "gam.csv", 3, &["column `suspended`", "`Ja` is not a true/false value"]);
    }

    #[test]
    fn duplicated_or_ambiguous_header_columns_are_refused_naming_both() {
        let err = load("okta.csv", "Login,Status,Login\na@acme.example,ACTIVE,b@acme.example\n").expect_err("dup");
        assert_error(&err, "okta.csv", 1, &["`Login` (column 1) and `Login` (column 3)", "Keep only one"]);
        let text = "First Name [Required],Email Address [Required],Status [READ ONLY],Status\nA,a@acme.example,Suspended,Active\n";
        let err = load("google.csv", text).expect_err("second status");
        assert_error(&err, "google.csv", 1, &["`Status [READ ONLY]` (column 3) and `Status` (column 4)"]);
        let err = load("okta.csv", "Username,Login,Status\na,a@acme.example,ACTIVE\n").expect_err("two logins");
        assert_error(&err, "okta.csv", 1, &["`Username` (column 1) and `Login` (column 2)"]);
    }

    #[test]
    fn a_header_that_fits_two_formats_asks_for_idp_format_and_the_override_reads_it() {
        let text = "Login,Status,primaryEmail,suspended\na@acme.example,SUSPENDED,a@acme.example,False\n";
        let err = load("mixed.csv", text).expect_err("ambiguous");
        assert_error(
            &err,
            "mixed.csv",
            1,
            &["fits more than one format", "okta-api-csv", "google-gam", "--idp-format"],
        );
        let okta = load_as("mixed.csv", text, IdpFormat::OktaApiCsv).expect("as Okta");
        assert_eq!(status_of(&okta, "a@acme.example"), Some("suspended"));
        assert!(okta.summary.format_given);
        let google = load_as("mixed.csv", text, IdpFormat::GoogleGam).expect("as GAM");
        assert_eq!(status_of(&google, "a@acme.example"), Some("active"));
        let err = load_as("mixed.csv", text, IdpFormat::OktaApiJson).expect_err("not JSON");
        assert_error(&err, "mixed.csv", 1, &["names a JSON format"]);
        // A generic header no detection would accept, named explicitly.
        let plain =
            load_as("plain.csv", "Email,Status\nz@acme.example,DEPROVISIONED\n", IdpFormat::OktaApiCsv).expect("reads");
        assert_eq!(status_of(&plain, "z@acme.example"), Some("deprovisioned"));
    }

    #[test]
    fn overrides_parse_and_apply_by_path_or_file_name() {
        let all: IdpFormatOverride = "google-gam".parse().expect("name");
        assert_eq!(all, IdpFormatOverride { file: None, format: IdpFormat::GoogleGam });
        let one: IdpFormatOverride = "exports/a=b.csv=okta-api-csv".parse().expect("file=name");
        assert_eq!(one.file.as_deref(), Some("exports/a=b.csv"));
        assert!(one.applies_to(Path::new("exports/a=b.csv")) && !one.applies_to(Path::new("other/a=b.csv")));
        let bare: IdpFormatOverride = "a.csv=okta-api-csv".parse().expect("file=name");
        assert!(bare.applies_to(Path::new("any/dir/a.csv")), "a bare file name matches in any folder");
        assert!("nope".parse::<IdpFormatOverride>().expect_err("unknown").contains("okta-password-health"));
        let dir = tempfile::tempdir().expect("tempdir");
        let path = write(&dir, "x.csv", b"Email,Status\nz@acme.example,SUSPENDED\n");
        let other: IdpFormatOverride = "y.csv=okta-api-csv".parse().expect("parse");
        let err = load_idp_exports_with(std::slice::from_ref(&path), None, &[other]).expect_err("unknown file");
        assert!(err.to_string().contains("not one of the --idp files"), "{err}");
        let named: IdpFormatOverride = "x.csv=okta-api-csv".parse().expect("parse");
        let read = load_idp_exports_with(&[path], None, &[named]).expect("reads");
        assert_eq!(read[0].format, IdpFormat::OktaApiCsv);
    }

    #[test]
    fn json_objects_are_read_with_the_line_each_starts_on() {
        let text = "[\n  {\n    \"status\": \"ACTIVE\",\n    \"profile\": {\"login\": \"a@acme.example\", \"email\": \"a@acme.example\"}\n  },\n  {\n    \"status\": \"TEA_BREAK\",\n    \"profile\": {\"login\": \"b@acme.example\"}\n  }\n]\n";
        let err = load("okta.json", text).expect_err("bad status");
        assert_error(&err, "okta.json", 6, &["`TEA_BREAK`"]);
        assert_eq!(element_lines(text, None), [2, 6]);
        let graph = "{\"@odata.context\": \"x\", \"value\": [\n {\"userPrincipalName\": \"a@acme.example\", \"accountEnabled\": false,\n  \"identities\": [{\"issuer\": \"x\"}]},\n {\"userPrincipalName\": \"b@acme.example\", \"accountEnabled\": true}\n]}";
        assert_eq!(element_lines(graph, Some("value")), [2, 4]);
        let export = load("graph.json", graph).expect("parses");
        assert_eq!(export.format, IdpFormat::EntraJson);
        assert_eq!(status_of(&export, "a@acme.example"), Some("suspended"));
        let err = load("bad.json", "[{\"status\": \"ACTIVE\",").expect_err("cut short");
        assert_error(&err, "bad.json", 1, &["malformed JSON"]);
    }

    #[test]
    fn missing_required_column_names_it_and_the_detected_format() {
        let err =
            load("entra.csv", "userPrincipalName,displayName,mail\nann@acme.example,Ann,\n").expect_err("must fail");
        assert_error(&err, "entra.csv", 1, &["Entra ID", "`accountEnabled`", "Download the export again"]);
    }

    #[test]
    fn unrecognised_header_says_which_formats_are_expected() {
        let err = load("people.csv", "name,mail address\nann,ann@acme.example\n").expect_err("must fail");
        assert_error(
            &err,
            "people.csv",
            1,
            &["could not recognise the format", "Okta, Entra ID or Google Workspace", "`Login`", "--idp-format"],
        );
    }

    #[test]
    fn non_utf8_bytes_give_the_line_and_ask_for_utf8() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut bytes = format!("{OKTA_HEADER}\nA,a@acme.example,ACTIVE,,,,\n").into_bytes();
        bytes.extend_from_slice(b"Andr\xE9,andre@acme.example,ACTIVE,,,,\n");
        let err = load_idp_export(&write(&dir, "latin1.csv", &bytes)).expect_err("must fail");
        assert_error(&err, "latin1.csv", 3, &["not valid UTF-8", "Re-export it as UTF-8"]);
    }

    #[test]
    fn empty_file_is_an_error_that_says_what_to_pass() {
        let err = load("empty.csv", "\u{feff}\r\n\r\n").expect_err("must fail");
        assert_error(&err, "empty.csv", 1, &["empty", "Download the users export"]);
    }

    #[test]
    fn an_address_listed_twice_keeps_its_most_active_state() {
        let text = format!("{OKTA_HEADER}\nOld,sam@acme.example,DEPROVISIONED,,,,\nNew,Sam@acme.example,ACTIVE,,,,\n");
        let export = load("okta.csv", &text).expect("parses");
        assert_eq!(export.users.len(), 1);
        assert_eq!(export.users[0].status, IdpStatus::Active);
        assert_eq!(export.users[0].line, 3);
        assert_eq!((export.summary.rows, export.summary.users), (2, 1));
    }

    #[test]
    fn configured_idp_domains_replace_the_domains_found_in_the_export() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = write(&dir, "okta.csv", okta_file().as_bytes());
        let found = load_idp_exports(std::slice::from_ref(&path), None).expect("parses");
        assert!(found[0].covers("x@acme.example") && !found[0].covers("x@acme.io"));
        let configured = load_idp_exports(&[path], Some(&["acme.io".to_owned()])).expect("parses");
        assert!(configured[0].covers("x@ACME.io") && !configured[0].covers("x@acme.example"));
        assert_eq!(configured[0].summary.domains_from, "idp_domains");
        assert_eq!(configured[0].summary.domains, ["acme.io"]);
    }

    #[test]
    fn frames_have_the_documented_columns_and_utc_times() {
        let mut export = load("okta.csv", &okta_file()).expect("parses");
        let users = idp_users_frame(std::slice::from_ref(&export)).expect("frame");
        let names: Vec<&str> = users.get_column_names().iter().map(|n| n.as_str()).collect();
        assert_eq!(names, ["email_norm", "status", "status_changed_at", "last_login_at", "source"]);
        assert_eq!(users.height(), 8);
        assert_eq!(
            users.column("last_login_at").map(|c| c.dtype().clone()).ok(),
            Some(polars::prelude::DataType::Datetime(
                polars::prelude::TimeUnit::Milliseconds,
                Some(polars::prelude::TimeZone::UTC)
            ))
        );
        export.set_domains(["@Acme.example", "acme.io"]);
        let domains = idp_domains_frame(&[export]).expect("frame");
        assert_eq!(domains.height(), 2);
    }
}
