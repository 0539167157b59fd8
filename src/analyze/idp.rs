//! Identity-provider user exports, the IdP side of the reconciliation (Heroku has no SCIM, so
//! "who has left" can only come from a file the customer downloads from their IdP).
//!
//! Three formats are recognised from their header row alone, whatever the column order and
//! whatever extra columns are present:
//!
//! | format | recognised by | email | status | last sign-in |
//! |---|---|---|---|---|
//! | Okta users report (Reports → Okta Password Health; also API-shaped CSVs) | `Login` | `Email` / `Primary email` / `profile.email`, else `Login` | `Status` | `Last Login` / `lastLogin` |
//! | Microsoft Entra ID "Download users" | `userPrincipalName` | `mail`, else `userPrincipalName` | `accountEnabled` | none in this file |
//! | Google Workspace Admin console users download | `Email Address [Required]` | that column | `Status [READ ONLY]` | `Last Sign In [READ ONLY]` |
//!
//! Column names are compared ignoring case, spaces, punctuation and bracketed suffixes such as
//! `[READ ONLY]`. Timestamps without a zone are taken as UTC (Okta's report and Google's download
//! both say their times are UTC).
//!
//! Aliases: Okta's `Login` (when it differs from the email), Entra's `userPrincipalName` (when it
//! differs from `mail`) and Google's `Work Secondary Email`, `Home Secondary Email` and any
//! column named like `Aliases` map to the same user. The standard Google download carries no
//! alias column, so mail aliases (`sales@`, old addresses) must be listed in the config.
//!
//! Covered domains: a Heroku user absent from an export counts as deprovisioned only if the
//! export covers their email domain. By default an export covers the domains of its users'
//! primary addresses (not of aliases, which are often personal mailboxes); `idp_domains` in the
//! config replaces that set.
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use polars::prelude::DataFrame;

use super::inputs::{email_domain, email_norm, file_name, line_of, read_utf8, InputError};
use crate::snapshot::TableBuilder;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdpFormat {
    Okta,
    Entra,
    Google,
}

impl IdpFormat {
    /// The prefix of `source` values.
    pub fn tag(self) -> &'static str {
        match self {
            IdpFormat::Okta => "okta",
            IdpFormat::Entra => "entra",
            IdpFormat::Google => "google",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            IdpFormat::Okta => "Okta users report",
            IdpFormat::Entra => "Microsoft Entra ID \"Download users\" file",
            IdpFormat::Google => "Google Workspace users download",
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
    pub email_norm: String,
    pub status: IdpStatus,
    pub status_changed_at: Option<DateTime<Utc>>,
    pub last_login_at: Option<DateTime<Utc>>,
    /// For an alias row, the primary address of the user it belongs to.
    pub alias_of: Option<String>,
    /// 1-based line of the row in the export.
    pub line: usize,
}

#[derive(Debug, Clone)]
pub struct IdpExport {
    pub path: PathBuf,
    pub format: IdpFormat,
    /// `<format>:<file name>`, e.g. `okta:users.csv`.
    pub source: String,
    /// One row per address (primary or alias), sorted by address, each address once.
    pub users: Vec<IdpUser>,
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
    }

    /// Whether absence from this export means something for `email`.
    pub fn covers(&self, email: &str) -> bool {
        email_domain(&email_norm(email)).is_some_and(|d| self.domains.contains(d))
    }

    pub fn user(&self, email: &str) -> Option<&IdpUser> {
        let wanted = email_norm(email);
        self.users.binary_search_by(|u| u.email_norm.as_str().cmp(&wanted)).ok().map(|i| &self.users[i])
    }
}

/// Reads one IdP export, detecting its format from the header row.
pub fn load_idp_export(path: &Path) -> Result<IdpExport, InputError> {
    let text = read_utf8(path)?;
    if text.trim().is_empty() {
        return Err(InputError::new(
            path,
            Some(1),
            "the file is empty",
            "download the users export from your identity provider again (Okta, Entra ID or Google Workspace) and pass that file",
        ));
    }
    let header_line = text.lines().next().unwrap_or_default();
    let delimiter = detect_delimiter(header_line);
    let mut reader =
        csv::ReaderBuilder::new().delimiter(delimiter).flexible(true).trim(csv::Trim::All).from_reader(text.as_bytes());
    let headers = reader.headers().map_err(|e| csv_error(path, &text, &e))?.clone();
    let layout = Layout::detect(path, &headers)?;
    let file = file_name(path);

    let mut by_email: BTreeMap<String, IdpUser> = BTreeMap::new();
    let mut primaries: Vec<IdpUser> = Vec::new();
    let mut aliases: Vec<IdpUser> = Vec::new();
    let mut lines = LineCounter { text: &text, offset: 0, line: 1 };
    for record in reader.records() {
        let record = record.map_err(|e| csv_error(path, &text, &e))?;
        if record.iter().all(|f| f.is_empty()) {
            continue;
        }
        let line = record.position().map(|p| lines.at(p.byte())).unwrap_or(0);
        let row = Row { path, line, record: &record, headers: &headers };
        let (primary, alias_list) = layout.read(&row)?;
        for alias in alias_list {
            if alias != primary.email_norm {
                aliases.push(IdpUser {
                    email_norm: alias,
                    alias_of: Some(primary.email_norm.clone()),
                    ..primary.clone()
                });
            }
        }
        primaries.push(primary);
    }

    let domains: BTreeSet<String> =
        primaries.iter().filter_map(|u| email_domain(&u.email_norm).map(str::to_owned)).collect();
    // An address listed twice (two accounts sharing an email) keeps its most alive state: one
    // working account is enough to still reach Heroku through SSO.
    for user in primaries {
        match by_email.get_mut(&user.email_norm) {
            Some(existing) if user.status < existing.status => *existing = user,
            Some(_) => {}
            None => {
                by_email.insert(user.email_norm.clone(), user);
            }
        }
    }
    // Aliases never override a primary address that another user owns.
    for alias in aliases {
        by_email.entry(alias.email_norm.clone()).or_insert(alias);
    }

    Ok(IdpExport {
        path: path.to_path_buf(),
        format: layout.format,
        source: format!("{}:{file}", layout.format.tag()),
        users: by_email.into_values().collect(),
        domains,
    })
}

/// Reads several exports; `idp_domains` (the config's) replaces each export's covered domains.
pub fn load_idp_exports(paths: &[PathBuf], idp_domains: Option<&[String]>) -> Result<Vec<IdpExport>, InputError> {
    paths
        .iter()
        .map(|path| {
            let mut export = load_idp_export(path)?;
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

/// European Excel saves "CSV" with semicolons; pick whichever separator the header uses most.
pub(crate) fn detect_delimiter(header: &str) -> u8 {
    let mut counts = [(b',', 0usize), (b';', 0), (b'\t', 0)];
    let mut quoted = false;
    for b in header.bytes() {
        if b == b'"' {
            quoted = !quoted;
        } else if !quoted {
            for (d, n) in counts.iter_mut() {
                if *d == b {
                    *n += 1;
                }
            }
        }
    }
    counts.iter().max_by_key(|(_, n)| *n).filter(|(_, n)| *n > 0).map(|(d, _)| *d).unwrap_or(b',')
}

pub(crate) fn csv_error(path: &Path, text: &str, e: &csv::Error) -> InputError {
    let line = e.position().map(|p| record_line(text, p.byte()));
    InputError::new(
        path,
        line,
        format!("cannot read this CSV row: {e}"),
        "check the quoting on that line, or export the file again",
    )
}

/// The line a record starts on. csv's own line counter and byte offsets both place a record that
/// follows a CRLF at the `\n` of the previous line, so skip the line breaks first.
pub(crate) fn record_line(text: &str, byte: u64) -> usize {
    let start = usize::try_from(byte).unwrap_or(usize::MAX).min(text.len());
    let skipped = text.as_bytes()[start..].iter().take_while(|b| matches!(b, b'\r' | b'\n')).count();
    line_of(text, start + skipped)
}

/// [`record_line`] for records read in order: counts the newlines since the previous record
/// only, instead of from the start of the file for every row (quadratic: a 200,000-user export
/// took minutes).
struct LineCounter<'t> {
    text: &'t str,
    offset: usize,
    line: usize,
}

impl LineCounter<'_> {
    fn at(&mut self, byte: u64) -> usize {
        let start = usize::try_from(byte).unwrap_or(usize::MAX).min(self.text.len());
        let skipped = self.text.as_bytes()[start..].iter().take_while(|b| matches!(b, b'\r' | b'\n')).count();
        let target = start + skipped;
        if target < self.offset {
            return record_line(self.text, byte);
        }
        self.line += self.text.as_bytes()[self.offset..target].iter().filter(|b| **b == b'\n').count();
        self.offset = target;
        self.line
    }
}

/// Header names compared without case, punctuation or a `[READ ONLY]`-style suffix.
fn column_key(header: &str) -> String {
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

/// A required or optional column: the header names it may have, and how to show it in errors.
struct Col {
    keys: &'static [&'static str],
    shown: &'static str,
}

const OKTA_LOGIN: Col = Col { keys: &["login", "profilelogin", "username", "oktausername"], shown: "Login" };
const OKTA_STATUS: Col = Col { keys: &["status", "oktauserstatus"], shown: "Status" };
const OKTA_EMAIL: Col = Col { keys: &["email", "primaryemail", "profileemail"], shown: "Email" };
const OKTA_LAST_LOGIN: Col = Col { keys: &["lastlogin"], shown: "Last Login" };
const OKTA_STATUS_CHANGED: Col = Col { keys: &["statuschanged", "statuschangedate"], shown: "statusChanged" };
const ENTRA_UPN: Col = Col { keys: &["userprincipalname"], shown: "userPrincipalName" };
const ENTRA_MAIL: Col = Col { keys: &["mail"], shown: "mail" };
const ENTRA_ENABLED: Col = Col { keys: &["accountenabled"], shown: "accountEnabled" };
const GOOGLE_EMAIL: Col = Col { keys: &["emailaddress"], shown: "Email Address [Required]" };
const GOOGLE_STATUS: Col = Col { keys: &["status"], shown: "Status [READ ONLY]" };
const GOOGLE_LAST_SIGN_IN: Col = Col { keys: &["lastsignin"], shown: "Last Sign In [READ ONLY]" };

/// Where each field of one format sits in this particular file.
struct Layout {
    format: IdpFormat,
    email: Option<usize>,
    login: Option<usize>,
    status: usize,
    status_changed: Option<usize>,
    last_login: Option<usize>,
    aliases: Vec<usize>,
}

impl Layout {
    fn detect(path: &Path, headers: &csv::StringRecord) -> Result<Self, InputError> {
        let keys: Vec<String> = headers.iter().map(column_key).collect();
        let find = |col: &Col| keys.iter().position(|k| col.keys.contains(&k.as_str()));
        let google_marked = headers.iter().any(|h| {
            let h = h.to_ascii_lowercase();
            h.contains("[required]") || h.contains("[read only]")
        });
        let (format, signature) = if let Some(i) = find(&ENTRA_UPN) {
            (IdpFormat::Entra, i)
        } else if let Some(i) = find(&GOOGLE_EMAIL).filter(|_| google_marked) {
            (IdpFormat::Google, i)
        } else if let Some(i) = find(&OKTA_LOGIN) {
            (IdpFormat::Okta, i)
        } else {
            return Err(InputError::new(
                path,
                Some(1),
                format!(
                    "could not recognise the format: expected the header of an Okta, Entra ID or Google Workspace users export, found columns {}",
                    quoted_list(headers.iter().take(8))
                ),
                "pass the file as downloaded: an Okta users report (has `Login` and `Status`), an Entra ID \"Download users\" file (has `userPrincipalName` and `accountEnabled`) or a Google Workspace users download (has `Email Address [Required]` and `Status [READ ONLY]`)",
            ));
        };
        let required: &[&Col] = match format {
            IdpFormat::Okta => &[&OKTA_LOGIN, &OKTA_STATUS],
            IdpFormat::Entra => &[&ENTRA_UPN, &ENTRA_ENABLED],
            IdpFormat::Google => &[&GOOGLE_EMAIL, &GOOGLE_STATUS],
        };
        let missing: Vec<&str> = required.iter().filter(|c| find(c).is_none()).map(|c| c.shown).collect();
        if !missing.is_empty() {
            return Err(InputError::new(
                path,
                Some(1),
                format!(
                    "this looks like a {} (it has a `{}` column) but lacks the required column{} {}",
                    format.describe(),
                    &headers[signature],
                    if missing.len() == 1 { "" } else { "s" },
                    quoted_list(missing.iter())
                ),
                "download the export again with all columns (do not remove columns in a spreadsheet before saving)",
            ));
        }
        let status_col = match format {
            IdpFormat::Okta => &OKTA_STATUS,
            IdpFormat::Entra => &ENTRA_ENABLED,
            IdpFormat::Google => &GOOGLE_STATUS,
        };
        let status = find(status_col).unwrap_or(signature);
        Ok(match format {
            IdpFormat::Okta => Layout {
                format,
                email: find(&OKTA_EMAIL),
                login: Some(signature),
                status,
                status_changed: find(&OKTA_STATUS_CHANGED),
                last_login: find(&OKTA_LAST_LOGIN),
                aliases: Vec::new(),
            },
            IdpFormat::Entra => Layout {
                format,
                email: find(&ENTRA_MAIL),
                login: Some(signature),
                status,
                status_changed: None,
                last_login: None,
                aliases: Vec::new(),
            },
            IdpFormat::Google => Layout {
                format,
                email: Some(signature),
                login: None,
                status,
                status_changed: None,
                last_login: find(&GOOGLE_LAST_SIGN_IN),
                aliases: keys
                    .iter()
                    .enumerate()
                    .filter(|(_, k)| {
                        matches!(k.as_str(), "worksecondaryemail" | "homesecondaryemail") || k.contains("alias")
                    })
                    .map(|(i, _)| i)
                    .collect(),
            },
        })
    }

    /// One data row → the user under their primary address, plus their other addresses.
    fn read(&self, row: &Row) -> Result<(IdpUser, Vec<String>), InputError> {
        let email = self.email.map(|i| row.get(i)).filter(|s| !s.is_empty());
        let login = self.login.map(|i| row.get(i)).filter(|s| !s.is_empty());
        let (primary_col, primary) = match (email, login) {
            (Some(e), _) => (self.email.unwrap_or_default(), e),
            (None, Some(l)) => (self.login.unwrap_or_default(), l),
            (None, None) => {
                let col = self.email.or(self.login).unwrap_or_default();
                return Err(row.error(col, "the email address is empty", "fill it in or delete the row"));
            }
        };
        let primary = row.email(primary_col, primary)?;
        let mut aliases = Vec::new();
        if let (Some(_), Some(l)) = (email, login) {
            // Entra guests' UPNs (`x_gmail.com#EXT#@tenant…`) are not addresses anyone signs in with.
            if l.contains('@') && !l.contains("#EXT#") {
                aliases.push(email_norm(l));
            }
        }
        for &i in &self.aliases {
            for alias in row.get(i).split([',', ';', ' ']).filter(|s| !s.trim().is_empty()) {
                aliases.push(row.email(i, alias)?);
            }
        }
        let user = IdpUser {
            email_norm: primary,
            status: self.status(row)?,
            status_changed_at: self.status_changed.map(|i| row.time(i)).transpose()?.flatten(),
            last_login_at: self.last_login.map(|i| row.time(i)).transpose()?.flatten(),
            alias_of: None,
            line: row.line,
        };
        Ok((user, aliases))
    }

    fn status(&self, row: &Row) -> Result<IdpStatus, InputError> {
        let raw = row.get(self.status);
        let word = raw.to_uppercase().replace([' ', '-'], "_");
        let status = match self.format {
            // LOCKED_OUT and PASSWORD_EXPIRED accounts still exist and are one password reset away
            // from signing in, and STAGED/PROVISIONED/RECOVERY ones can be activated by the user
            // alone: none of them is an offboarded person. The second names of each pair are the
            // Admin Console's labels for the same states.
            IdpFormat::Okta => match word.as_str() {
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
            // Deleted Entra users are simply absent; a disabled account is the "suspended" state.
            IdpFormat::Entra => match word.as_str() {
                "TRUE" | "YES" | "1" => Some(IdpStatus::Active),
                "FALSE" | "NO" | "0" => Some(IdpStatus::Suspended),
                _ => None,
            },
            // Archived users keep their data but can no longer sign in: an offboarded person.
            IdpFormat::Google => match word.as_str() {
                "ACTIVE" => Some(IdpStatus::Active),
                "SUSPENDED" => Some(IdpStatus::Suspended),
                "ARCHIVED" => Some(IdpStatus::Deprovisioned),
                _ => None,
            },
        };
        status.ok_or_else(|| {
            let allowed = match self.format {
                IdpFormat::Okta => {
                    "ACTIVE, PROVISIONED, RECOVERY, PASSWORD_EXPIRED, LOCKED_OUT, STAGED, SUSPENDED, DEPROVISIONED"
                }
                IdpFormat::Entra => "True, False",
                IdpFormat::Google => "Active, Suspended, Archived",
            };
            row.error(
                self.status,
                format!("unknown status `{raw}` in this {}", self.format.describe()),
                format!("use one of {allowed} (the values the export itself writes)"),
            )
        })
    }
}

struct Row<'a> {
    path: &'a Path,
    line: usize,
    record: &'a csv::StringRecord,
    headers: &'a csv::StringRecord,
}

impl Row<'_> {
    fn get(&self, i: usize) -> &str {
        self.record.get(i).unwrap_or_default()
    }

    fn error(&self, col: usize, problem: impl Into<String>, fix: impl Into<String>) -> InputError {
        let column = self.headers.get(col).unwrap_or("?");
        InputError::new(self.path, Some(self.line), format!("column `{column}`: {}", problem.into()), fix)
    }

    fn email(&self, col: usize, raw: &str) -> Result<String, InputError> {
        let norm = email_norm(raw);
        let ok = email_domain(&norm).is_some_and(|d| d.contains('.') || d == "localhost")
            && !norm.starts_with('@')
            && !norm.chars().any(char::is_whitespace);
        if ok {
            Ok(norm)
        } else {
            Err(self.error(
                col,
                format!("`{raw}` is not an email address"),
                "export users with their email address (for Okta, a report whose Login or Email column holds emails)",
            ))
        }
    }

    fn time(&self, col: usize) -> Result<Option<DateTime<Utc>>, InputError> {
        let raw = self.get(col);
        parse_time(raw).ok_or_else(|| {
            self.error(
                col,
                format!("cannot read the date `{raw}`"),
                format!("write it in one of the formats {ACCEPTED_TIMES}; re-export instead of saving from a spreadsheet, which rewrites dates in its locale"),
            )
        })
    }
}

const ACCEPTED_TIMES: &str =
    "2024-03-01T10:00:00Z (ISO 8601), 2024-03-01 10:00:00, 2024/03/01 10:00:00 UTC, 2024-03-01, or empty / `Never logged in`";

/// `Some(None)` for "no time" (empty, `Never logged in`), `None` when unreadable.
fn parse_time(raw: &str) -> Option<Option<DateTime<Utc>>> {
    let s = raw.trim();
    if s.is_empty() || matches!(s.to_ascii_lowercase().as_str(), "never" | "never logged in" | "-" | "n/a" | "null") {
        return Some(None);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(Some(t.with_timezone(&Utc)));
    }
    for fmt in ["%Y-%m-%d %H:%M:%S%.f %z", "%Y-%m-%dT%H:%M:%S%.f%z", "%Y/%m/%d %H:%M:%S%.f %z"] {
        if let Ok(t) = DateTime::parse_from_str(s, fmt) {
            return Some(Some(t.with_timezone(&Utc)));
        }
    }
    let naive =
        s.strip_suffix(" UTC").or_else(|| s.strip_suffix(" GMT")).or_else(|| s.strip_suffix('Z')).unwrap_or(s).trim();
    for fmt in
        ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f", "%Y/%m/%d %H:%M:%S%.f", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M"]
    {
        if let Ok(t) = NaiveDateTime::parse_from_str(naive, fmt) {
            return Some(Some(t.and_utc()));
        }
    }
    for fmt in ["%Y-%m-%d", "%Y/%m/%d"] {
        if let Ok(d) = NaiveDate::parse_from_str(naive, fmt) {
            return Some(d.and_hms_opt(0, 0, 0).map(|t| t.and_utc()));
        }
    }
    None
}

fn quoted_list<S: AsRef<str>>(items: impl Iterator<Item = S>) -> String {
    items.map(|s| format!("`{}`", s.as_ref())).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const OKTA_HEADER: &str = "User,Login,Status,Activation date,Authentication Source,Last Login,Last Password Change";
    const ENTRA_HEADER: &str = "userPrincipalName,displayName,surname,mail,givenName,objectId,userType,jobTitle,department,accountEnabled,usageLocation,streetAddress,state,country,physicalDeliveryOfficeName,city,postalCode,telephoneNumber,mobile,authenticationAlternativePhoneNumber,authenticationEmail,alternateEmailAddress,ageGroup,consentProvidedForMinor,legalAgeGroupClassification";
    const GOOGLE_HEADER: &str = "First Name [Required],Last Name [Required],Email Address [Required],Password [Required],Password Hash Function [UPLOAD ONLY],Org Unit Path [Required],New Primary Email [UPLOAD ONLY],Status [READ ONLY],Last Sign In [READ ONLY],Recovery Email,Home Secondary Email,Work Secondary Email,Recovery Phone [MUST BE IN THE E.164 FORMAT],Work Phone,Home Phone,Mobile Phone,Work Address,Home Address,Employee ID,Employee Type,Employee Title,Manager Email,Department,Cost Center,2sv Enrolled [READ ONLY],2sv Enforced [READ ONLY],Building ID,Floor Name,Floor Section,Email Usage [READ ONLY],Drive Usage [READ ONLY],Total Storage [READ ONLY],Change Password at Next Sign-In,New Status [UPLOAD ONLY]";

    fn write(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> PathBuf {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).expect("write test file");
        path
    }

    fn load(name: &str, text: &str) -> Result<IdpExport, InputError> {
        let dir = tempfile::tempdir().expect("tempdir");
        load_idp_export(&write(&dir, name, text.as_bytes()))
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

    #[test]
    fn line_counter_agrees_with_record_line() {
        let text = "a,b\n1,2\r\n\n3,\"x\ny\"\n4,5\n";
        let mut lines = LineCounter { text, offset: 0, line: 1 };
        for byte in [0u64, 4, 8, 10, 11, 17, 21] {
            assert_eq!(lines.at(byte), record_line(text, byte), "at byte {byte}");
        }
        assert_eq!(lines.at(4), record_line(text, 4), "going back falls back to a full count");
    }

    #[test]
    fn okta_report_parses_with_its_real_header_and_maps_every_status() {
        let export = load("okta.csv", &okta_file()).expect("parses");
        assert_eq!(export.format, IdpFormat::Okta);
        assert_eq!(export.source, "okta:okta.csv");
        let got: Vec<_> =
            (0..8).map(|i| status_of(&export, &format!("u{i}@acme.example")).unwrap_or("missing")).collect();
        assert_eq!(got, ["active", "active", "active", "active", "active", "active", "suspended", "deprovisioned"]);
        assert_eq!(export.user("u3@acme.example").and_then(|u| u.last_login_at), Some(utc(2024, 3, 1, 10, 3)));
        assert_eq!(export.domains().iter().collect::<Vec<_>>(), ["acme.example"]);
    }

    #[test]
    fn okta_api_shaped_export_reads_email_login_alias_and_status_changed() {
        let text = "id,status,statusChanged,lastLogin,login,email\n\
                    00u1,SUSPENDED,2024-02-01T08:00:00.000Z,,jdoe,Jane.Doe@Acme.example\n";
        let export = load("okta-api.csv", text).expect("parses");
        let user = export.user("jane.doe@acme.example").expect("found by email");
        assert_eq!(user.status, IdpStatus::Suspended);
        assert_eq!(user.status_changed_at, Some(utc(2024, 2, 1, 8, 0)));
        assert_eq!(user.last_login_at, None);
    }

    #[test]
    fn entra_download_parses_with_its_real_header_joins_on_mail_else_upn() {
        let filler = ",".repeat(15);
        let text = format!(
            "{ENTRA_HEADER}\n\
             ann@acme.onmicrosoft.com,Ann,A,Ann@Acme.example,Ann,id1,Member,,,True,US{filler}\n\
             bob@acme.example,Bob,B,,Bob,id2,Member,,,False,US{filler}\n"
        );
        let export = load("entra.csv", &text).expect("parses");
        assert_eq!(export.format, IdpFormat::Entra);
        assert_eq!(status_of(&export, "ann@acme.example"), Some("active"));
        assert_eq!(status_of(&export, "bob@acme.example"), Some("suspended"));
        // The UPN is an alias of the same person, but its domain is not one the export speaks for.
        assert_eq!(
            export.user("ann@acme.onmicrosoft.com").and_then(|u| u.alias_of.as_deref()),
            Some("ann@acme.example")
        );
        assert_eq!(export.domains().iter().collect::<Vec<_>>(), ["acme.example"]);
        assert_eq!(export.user("bob@acme.example").and_then(|u| u.last_login_at), None);
    }

    fn google_row(first: &str, email: &str, status: &str, last: &str, work_secondary: &str) -> String {
        let cols: [&str; 34] = [
            first,
            "X",
            email,
            "****",
            "",
            "/",
            "",
            status,
            last,
            "",
            "",
            work_secondary,
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "False",
            "False",
            "",
            "",
            "",
            "0.0",
            "0.0",
            "0.0",
            "False",
            "",
        ];
        cols.join(",")
    }

    #[test]
    fn google_download_parses_with_its_real_header_and_maps_every_status() {
        let text = [
            GOOGLE_HEADER.to_owned(),
            google_row("Cy", "cy@acme.example", "Active", "2024/03/01 10:00:00 UTC", ""),
            google_row("Di", "di@acme.example", "Suspended", "Never logged in", ""),
            google_row("Ed", "ed@acme.example", "Archived", "2023/12/24 08:30:00 UTC", ""),
        ]
        .join("\n");
        let export = load("google.csv", &text).expect("parses");
        assert_eq!(export.format, IdpFormat::Google);
        assert_eq!(status_of(&export, "cy@acme.example"), Some("active"));
        assert_eq!(status_of(&export, "di@acme.example"), Some("suspended"));
        assert_eq!(status_of(&export, "ed@acme.example"), Some("deprovisioned"));
        assert_eq!(export.user("cy@acme.example").and_then(|u| u.last_login_at), Some(utc(2024, 3, 1, 10, 0)));
        assert_eq!(export.user("di@acme.example").map(|u| u.last_login_at), Some(None));
    }

    #[test]
    fn google_secondary_email_is_an_alias_of_the_same_user() {
        let text = [
            GOOGLE_HEADER.to_owned(),
            google_row("Fay", "fay@acme.example", "Suspended", "", "Fay.Old@Acme-Legacy.example"),
        ]
        .join("\n");
        let export = load("google.csv", &text).expect("parses");
        let alias = export.user("fay.old@acme-legacy.example").expect("alias present");
        assert_eq!(alias.status, IdpStatus::Suspended);
        assert_eq!(alias.alias_of.as_deref(), Some("fay@acme.example"));
        assert!(!export.covers("someone@acme-legacy.example"), "aliases do not widen the covered domains");
    }

    #[test]
    fn emails_are_matched_regardless_of_letter_case_and_spaces() {
        let text = format!("{OKTA_HEADER}\nMo,\"  Mo.Smith@ACME.Example \",ACTIVE,,,,\n");
        let export = load("okta.csv", &text).expect("parses");
        assert_eq!(export.users[0].email_norm, "mo.smith@acme.example");
        assert_eq!(status_of(&export, "MO.SMITH@acme.example"), Some("active"));
        assert!(export.covers("Other@ACME.example"));
    }

    #[test]
    fn bom_crlf_semicolons_quotes_and_blank_trailing_lines_parse_like_plain() {
        let plain = load("plain.csv", &okta_file()).expect("plain parses");
        let crlf = okta_file().replace('\n', "\r\n");
        let mut bom = b"\xEF\xBB\xBF".to_vec();
        bom.extend_from_slice(crlf.as_bytes());
        bom.extend_from_slice(b"\r\n\r\n");
        let semicolons = okta_file().replace(',', ";").replace("User 1;", "\"User; the first\";");
        let reordered = {
            let mut text = String::from("Status,Extra,Login\n");
            for u in &plain.users {
                let word = match u.status {
                    IdpStatus::Active => "ACTIVE",
                    IdpStatus::Suspended => "SUSPENDED",
                    IdpStatus::Deprovisioned => "DEPROVISIONED",
                };
                text.push_str(&format!("{word},x,{}\n", u.email_norm));
            }
            text
        };
        let dir = tempfile::tempdir().expect("tempdir");
        for (name, bytes) in
            [("bom.csv", bom), ("semi.csv", semicolons.into_bytes()), ("reordered.csv", reordered.into_bytes())]
        {
            let other = load_idp_export(&write(&dir, name, &bytes)).unwrap_or_else(|e| panic!("{name}: {e}"));
            let pairs = |e: &IdpExport| e.users.iter().map(|u| (u.email_norm.clone(), u.status)).collect::<Vec<_>>();
            assert_eq!(pairs(&other), pairs(&plain), "{name}");
            if name != "reordered.csv" {
                assert_eq!(other.users, plain.users, "{name}");
            }
        }
        let crlf_only = load("crlf.csv", &crlf).expect("crlf parses");
        assert_eq!(crlf_only.users, plain.users);
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
            &["could not recognise the format", "Okta, Entra ID or Google Workspace", "`Login`"],
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
    fn unparsable_date_gives_line_column_value_and_accepted_formats() {
        let text = format!("{OKTA_HEADER}\nA,a@acme.example,ACTIVE,,,,\nB,b@acme.example,ACTIVE,,,03/01/2024 10:00,\n");
        let err = load("okta.csv", &text).expect_err("must fail");
        assert_error(&err, "okta.csv", 3, &["`Last Login`", "`03/01/2024 10:00`", "2024-03-01 10:00:00", "ISO 8601"]);
    }

    #[test]
    fn empty_file_is_an_error_that_says_what_to_pass() {
        let err = load("empty.csv", "\u{feff}\r\n\r\n").expect_err("must fail");
        assert_error(&err, "empty.csv", 1, &["empty", "Download the users export"]);
    }

    #[test]
    fn unknown_status_gives_line_value_and_allowed_values() {
        let text = format!("{OKTA_HEADER}\nA,a@acme.example,ACTIVE,,,,\nB,b@acme.example,ON_LEAVE,,,,\n");
        let err = load("okta.csv", &text).expect_err("must fail");
        assert_error(&err, "okta.csv", 3, &["`ON_LEAVE`", "DEPROVISIONED", "LOCKED_OUT"]);
    }

    #[test]
    fn a_login_that_is_not_an_email_is_refused_with_its_line() {
        let text = format!("{OKTA_HEADER}\nA,jdoe,ACTIVE,,,,\n");
        let err = load("okta.csv", &text).expect_err("must fail");
        assert_error(&err, "okta.csv", 2, &["`jdoe` is not an email address"]);
    }

    #[test]
    fn an_address_listed_twice_keeps_its_most_active_state() {
        let text = format!("{OKTA_HEADER}\nOld,sam@acme.example,DEPROVISIONED,,,,\nNew,Sam@acme.example,ACTIVE,,,,\n");
        let export = load("okta.csv", &text).expect("parses");
        assert_eq!(export.users.len(), 1);
        assert_eq!(export.users[0].status, IdpStatus::Active);
        assert_eq!(export.users[0].line, 3);
    }

    #[test]
    fn configured_idp_domains_replace_the_domains_found_in_the_export() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = write(&dir, "okta.csv", okta_file().as_bytes());
        let found = load_idp_exports(std::slice::from_ref(&path), None).expect("parses");
        assert!(found[0].covers("x@acme.example") && !found[0].covers("x@acme.io"));
        let configured = load_idp_exports(&[path], Some(&["acme.io".to_owned()])).expect("parses");
        assert!(configured[0].covers("x@ACME.io") && !configured[0].covers("x@acme.example"));
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
        let names: Vec<&str> = domains.get_column_names().iter().map(|n| n.as_str()).collect();
        assert_eq!(names, ["domain", "source"]);
        assert_eq!(domains.height(), 2);
    }
}
