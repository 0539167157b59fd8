//! Reading a filled-in certification worksheet: `certification.csv` from `hkaudit report`, or a
//! campaign workbook from `hkaudit review start` (`.xlsx`, or `.ods`/`.xls` when a reviewer saved
//! it so, or its `.csv`), after reviewers have written their decisions into it. Shared by
//! `plan --from-worksheet`, `certify` and `review status|close`.
//!
//! Worksheets come back from spreadsheets, so the reader is tolerant of what spreadsheets do (a
//! byte-order mark, CRLF, semicolons, quoted cells, reordered or extra columns, extra sheets, the
//! apostrophe the report put in front of formula-like cells, a date typed into a date cell) and
//! strict about what changes meaning: a decision word it does not know is an error with its
//! line, never a guess.
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::spreadsheet::{self, Grid};
use super::HistoryError;
use crate::analyze::inputs::{ambiguous_columns, email_norm, read_utf8, CsvText};
use crate::analyze::InputError;
use crate::snapshot::grants::{GrantKey, GRANT_TYPES, NOT_READ};

/// What a reviewer decided for one grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Decision {
    Approve,
    Deny,
    DontKnow,
    NotReviewed,
}

impl Decision {
    /// The words as the worksheet writes them, for messages.
    pub const WORDS: [&'static str; 4] = ["Approve", "Deny", "Don't know", "Not reviewed"];
    /// The words the workbook's drop-down offers.
    pub const CHOICES: [&'static str; 3] = ["Approve", "Deny", "Don't know"];

    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Approve => "Approve",
            Decision::Deny => "Deny",
            Decision::DontKnow => "Don't know",
            Decision::NotReviewed => "Not reviewed",
        }
    }

    /// Case-insensitive; `Keep` and `Revoke` (the words reviewers reach for, and the ones older
    /// worksheets recommended) are `Approve` and `Deny`; `Dont know` and the typographic
    /// `Don’t know` (spreadsheets' autocorrect) are `Don't know`; an empty cell is `Not reviewed`.
    pub fn parse(word: &str) -> Option<Self> {
        let w = word.trim().replace('\u{2019}', "'").to_lowercase();
        let w = w.split_whitespace().collect::<Vec<_>>().join(" ");
        match w.as_str() {
            "approve" | "keep" => Some(Decision::Approve),
            "deny" | "revoke" => Some(Decision::Deny),
            "don't know" | "dont know" => Some(Decision::DontKnow),
            "not reviewed" | "" => Some(Decision::NotReviewed),
            _ => None,
        }
    }

    /// Approve or Deny: a decision that closes the row.
    pub fn is_decided(self) -> bool {
        matches!(self, Decision::Approve | Decision::Deny)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WorksheetRow {
    /// 1-based line of the row in the file, or row number in its sheet (the header is line 1).
    pub line: usize,
    /// The sheet the row is on, for a workbook.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sheet: Option<String>,
    /// The file it came from, when rows of several files are put together (a campaign's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    pub key: GrantKey,
    pub snapshot_id: String,
    pub decision: Decision,
    pub reviewer: String,
    pub decision_date: String,
    pub justification: String,
}

impl WorksheetRow {
    /// `line 12` for a CSV, `sheet acme-web, row 12` for a workbook.
    pub fn place(&self) -> String {
        place(self.sheet.as_deref(), self.line)
    }
}

pub(crate) fn place(sheet: Option<&str>, line: usize) -> String {
    match sheet {
        Some(s) => format!("sheet {s}, row {line}"),
        None => format!("line {line}"),
    }
}

/// A row that names a grant but cannot be taken as a decision (an unknown word, say): the
/// campaign counts it as invalid instead of stopping at it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowIssue {
    pub line: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sheet: Option<String>,
    /// The grant, when the row names one.
    pub key: Option<GrantKey>,
    pub problem: String,
    pub fix: String,
}

/// One readable table of a worksheet file: the CSV, or one sheet of a workbook.
#[derive(Debug, Clone, Default)]
pub struct SheetRows {
    pub sheet: Option<String>,
    pub rows: Vec<WorksheetRow>,
    pub issues: Vec<RowIssue>,
}

/// Everything read from one worksheet file.
#[derive(Debug, Clone, Default)]
pub struct ReadBack {
    pub path: PathBuf,
    pub sheets: Vec<SheetRows>,
    /// Sheets with no `decision` column (a reviewer's own notes, the instructions): not read.
    pub skipped_sheets: Vec<String>,
}

impl ReadBack {
    pub fn rows(&self) -> impl Iterator<Item = &WorksheetRow> {
        self.sheets.iter().flat_map(|s| s.rows.iter())
    }

    pub fn issues(&self) -> impl Iterator<Item = &RowIssue> {
        self.sheets.iter().flat_map(|s| s.issues.iter())
    }
}

/// Columns a worksheet must have to say which grant a decision is about.
const REQUIRED: [&str; 7] =
    ["snapshot_id", "grant_type", "enterprise_account", "team", "app", "user_email", "decision"];
const OPTIONAL: [&str; 3] = ["reviewer", "decision_date", "justification"];

/// Header names compared trimmed, case-insensitively, with spaces or dashes for underscores.
pub(crate) fn column_key(header: &str) -> String {
    header.trim().to_lowercase().replace([' ', '-'], "_")
}

/// Undo the apostrophe `report` puts before a cell a spreadsheet would evaluate, so a team or app
/// whose name starts with `-` is read back as its real name.
fn cell(raw: &str) -> String {
    let t = raw.trim();
    match t.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => rest.to_owned(),
        _ => t.to_owned(),
    }
}

/// Whether a file is a spreadsheet workbook rather than text, by its name or its first bytes.
pub fn is_workbook(path: &Path) -> bool {
    let by_name = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| spreadsheet::EXTENSIONS.iter().any(|x| x.eq_ignore_ascii_case(e)));
    by_name || spreadsheet::looks_like_workbook(path)
}

/// Each readable grid with its sheet's name (none for a CSV), and the sheets left out.
type Grids = (Vec<(Option<String>, Grid)>, Vec<String>);

/// The grids of a worksheet file: one for a CSV, one per sheet of a workbook (with its name).
fn grids(path: &Path) -> Result<Grids, HistoryError> {
    if is_workbook(path) {
        let book = spreadsheet::read(path)?;
        let mut out = Vec::new();
        let mut skipped = Vec::new();
        for sheet in book {
            let has_decision = sheet.grid.headers.iter().any(|h| column_key(h) == "decision");
            if has_decision {
                out.push((Some(sheet.name), sheet.grid));
            } else {
                skipped.push(sheet.name);
            }
        }
        if out.is_empty() {
            return Err(InputError::new(
                path,
                None,
                "no sheet of this workbook has a `decision` column",
                "return the workbook `hkaudit review start` wrote, with the reviewer's decisions in its `decision` column",
            )
            .into());
        }
        return Ok((out, skipped));
    }
    let text = read_utf8(path)?;
    if text.trim().is_empty() {
        return Err(InputError::new(
            path,
            Some(1),
            "the worksheet is empty",
            "pass the certification.csv written by `hkaudit report`, with the reviewers' decisions filled in",
        )
        .into());
    }
    let csv = CsvText::new(path, &text);
    let mut reader = csv.reader(false);
    let headers: Vec<String> = csv.headers(&mut reader)?.iter().map(str::to_owned).collect();
    let mut rows = Vec::new();
    for record in csv.records(&mut reader) {
        let (line, record) = record?;
        rows.push((line, record.iter().map(str::to_owned).collect()));
    }
    Ok((vec![(None, Grid { header_line: csv.header_line(), headers, rows })], Vec::new()))
}

/// The ids in a worksheet's `snapshot_id` column, whatever its decisions say (a typo in one must
/// not let `snapshots prune` remove the snapshot the worksheet needs).
pub fn snapshot_ids(path: &Path) -> Result<std::collections::BTreeSet<String>, HistoryError> {
    let (grids, _) = grids(path)?;
    let mut ids = std::collections::BTreeSet::new();
    for (sheet, grid) in &grids {
        let Some(col) = grid.headers.iter().position(|h| column_key(h) == "snapshot_id") else {
            return Err(InputError::new(
                path,
                Some(grid.header_line),
                format!(
                    "{}has no snapshot_id column, so it cannot say which snapshots it needs",
                    sheet.as_ref().map(|s| format!("sheet {s} ")).unwrap_or_default()
                ),
                "fix or move it, then prune again",
            )
            .into());
        };
        ids.extend(
            grid.rows.iter().filter_map(|(_, r)| r.get(col)).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()),
        );
    }
    Ok(ids)
}

/// Read a worksheet, stopping at the first row that is not a decision hkaudit can take: what
/// `plan` and `certify --worksheet` need.
pub fn read_worksheet(path: &Path) -> Result<Vec<WorksheetRow>, HistoryError> {
    let back = read_back(path)?;
    if let Some(issue) = back.issues().min_by_key(|i| (i.sheet.clone(), i.line)) {
        let at = match &issue.sheet {
            Some(s) => PathBuf::from(format!("{} (sheet {s})", path.display())),
            None => path.to_owned(),
        };
        return Err(InputError::new(&at, Some(issue.line), issue.problem.clone(), issue.fix.clone()).into());
    }
    Ok(back.sheets.into_iter().flat_map(|s| s.rows).collect())
}

/// Read a worksheet, keeping every row that names a grant but holds no usable decision as an
/// issue instead of failing: what a campaign's status counts. A file without the columns that
/// name a grant is still an error.
pub fn read_back(path: &Path) -> Result<ReadBack, HistoryError> {
    let (grids, skipped_sheets) = grids(path)?;
    let mut sheets = Vec::new();
    for (sheet, grid) in grids {
        let at = match &sheet {
            Some(s) => PathBuf::from(format!("{} (sheet {s})", path.display())),
            None => path.to_owned(),
        };
        sheets.push(read_grid(&at, sheet, &grid)?);
    }
    Ok(ReadBack { path: path.to_owned(), sheets, skipped_sheets })
}

fn read_grid(path: &Path, sheet: Option<String>, grid: &Grid) -> Result<SheetRows, HistoryError> {
    let keys: Vec<String> = grid.headers.iter().map(|h| column_key(h)).collect();
    let header_record = csv::StringRecord::from(grid.headers.clone());
    // A second `decision` column (or two spellings of one) must not silently win.
    let find = |name: &str| -> Result<Option<usize>, InputError> {
        let hits: Vec<usize> = keys.iter().enumerate().filter(|(_, k)| *k == name).map(|(i, _)| i).collect();
        match hits.as_slice() {
            [] => Ok(None),
            [one] => Ok(Some(*one)),
            many => Err(ambiguous_columns(path, grid.header_line, &header_record, &format!("`{name}`"), many)),
        }
    };
    let mut columns = Vec::with_capacity(REQUIRED.len());
    for c in REQUIRED {
        columns.push(find(c)?);
    }
    let missing: Vec<&str> = REQUIRED.iter().zip(&columns).filter(|(_, i)| i.is_none()).map(|(c, _)| *c).collect();
    if !missing.is_empty() {
        return Err(InputError::new(
            path,
            Some(grid.header_line),
            format!("the worksheet has no {} column{}", missing.join(", "), if missing.len() > 1 { "s" } else { "" }),
            format!("keep the header row as hkaudit wrote it; a worksheet needs {}", REQUIRED.join(", ")),
        )
        .into());
    }
    let [snapshot_id, grant_type, ea, team, app, email, decision] =
        [0, 1, 2, 3, 4, 5, 6].map(|i| columns[i].unwrap_or(usize::MAX));
    let mut optional = [None; 3];
    for (slot, c) in optional.iter_mut().zip(OPTIONAL) {
        *slot = find(c)?;
    }
    let [reviewer, decision_date, justification] = optional;

    let mut out = SheetRows { sheet: sheet.clone(), ..Default::default() };
    for (line, record) in &grid.rows {
        let line = *line;
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let get = |i: usize| record.get(i).map(|c| cell(c)).unwrap_or_default();
        let opt = |i: Option<usize>| i.map(get).unwrap_or_default();
        let issue = |key: Option<GrantKey>, problem: String, fix: String| RowIssue {
            line,
            sheet: sheet.clone(),
            key,
            problem,
            fix,
        };
        let word = get(decision);
        let parsed = Decision::parse(&word);
        let kind = get(grant_type);
        // `report` marks each scope it could not read with a row that names no grant.
        if kind == NOT_READ {
            if parsed != Some(Decision::NotReviewed) {
                out.issues.push(issue(
                    None,
                    format!(
                        "this row marks a scope that was not read (team `{}`), not a grant: it takes no decision",
                        get(team)
                    ),
                    "leave its decision empty; certify that scope's grants from a snapshot that reads it".into(),
                ));
            }
            continue;
        }
        if !GRANT_TYPES.contains(&kind.as_str()) {
            out.issues.push(issue(
                None,
                format!("grant_type `{kind}` is not a grant type hkaudit writes"),
                format!("use one of {}, as in the worksheet hkaudit wrote", GRANT_TYPES.join(", ")),
            ));
            continue;
        }
        let user = get(email);
        if user.is_empty() {
            out.issues.push(issue(
                None,
                "user_email is empty".into(),
                "keep the user_email of every row as hkaudit wrote it".into(),
            ));
            continue;
        }
        let key = GrantKey {
            grant_type: kind,
            enterprise_account: get(ea),
            team: get(team),
            app: get(app),
            email: email_norm(&user),
        };
        let Some(parsed) = parsed else {
            out.issues.push(issue(
                Some(key),
                format!("decision `{word}` is not a decision hkaudit knows"),
                format!(
                    "write one of {} (Keep and Revoke are read as Approve and Deny; leave it empty for Not reviewed)",
                    Decision::WORDS.join(", ")
                ),
            ));
            continue;
        };
        out.rows.push(WorksheetRow {
            line,
            sheet: sheet.clone(),
            source: None,
            key,
            snapshot_id: get(snapshot_id),
            decision: parsed,
            reviewer: opt(reviewer),
            decision_date: spreadsheet::date_text(&opt(decision_date)),
            justification: opt(justification),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const HEADER: &str = "review_period,snapshot_id,snapshot_time,enterprise_account,team,app,grant_type,role,permissions,user_email,recommended_decision,recommendation_reason,reviewer,decision,decision_date,justification";

    fn write(bytes: &[u8]) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("certification.csv");
        std::fs::write(&path, bytes).unwrap();
        (dir, path)
    }

    fn err(bytes: &[u8]) -> String {
        let (_d, p) = write(bytes);
        read_worksheet(&p).unwrap_err().to_string()
    }

    #[test]
    fn decisions_parse_in_every_spelling() {
        for (w, d) in [
            ("Approve", Decision::Approve),
            ("DENY", Decision::Deny),
            ("Keep", Decision::Approve),
            ("revoke", Decision::Deny),
            ("don't know", Decision::DontKnow),
            ("Dont know", Decision::DontKnow),
            ("Don\u{2019}t  Know", Decision::DontKnow),
            ("Not reviewed", Decision::NotReviewed),
            ("", Decision::NotReviewed),
            ("  ", Decision::NotReviewed),
        ] {
            assert_eq!(Decision::parse(w), Some(d), "{w:?}");
        }
        assert_eq!(Decision::parse("Yes"), None);
        assert_eq!(Decision::parse("Denied"), None);
    }

    #[test]
    fn bom_crlf_quotes_reordered_columns_and_neutralised_cells_read_like_plain() {
        let plain = format!("{HEADER}\n2026-Q4,s1,t,acme,acme-web,,team-membership,member,view,Ron.Removed@acme.example,revoke,r,Carol,Deny,2026-11-21,\"left, in October\"\n");
        let mut bom = b"\xEF\xBB\xBF".to_vec();
        bom.extend_from_slice(plain.replace('\n', "\r\n").as_bytes());
        bom.extend_from_slice(b"\r\n");
        let reordered = "Decision;User_Email;grant_type;team;app;enterprise_account;snapshot_id;justification;reviewer;decision_date\nDeny;Ron.Removed@acme.example;team-membership;acme-web;;acme;s1;left, in October;Carol;2026-11-21\n";
        let mut seen = Vec::new();
        for bytes in [plain.into_bytes(), bom, reordered.as_bytes().to_vec()] {
            let (_d, p) = write(&bytes);
            let rows = read_worksheet(&p).unwrap();
            assert_eq!(rows.len(), 1);
            let r = &rows[0];
            assert_eq!(
                (
                    r.line,
                    r.decision,
                    r.key.email.as_str(),
                    r.key.team.as_str(),
                    r.justification.as_str(),
                    r.reviewer.as_str()
                ),
                (2, Decision::Deny, "ron.removed@acme.example", "acme-web", "left, in October", "Carol")
            );
            seen.push(r.key.clone());
        }
        assert!(seen.windows(2).all(|w| w[0] == w[1]));
        let (_d, p) = write(
            format!("{HEADER}\n2026-Q4,s1,t,,'-odd-team,'=HYPERLINK(1),app-permission,,,x@y.example,,,,Deny,,\n")
                .as_bytes(),
        );
        let r = &read_worksheet(&p).unwrap()[0];
        assert_eq!((r.key.team.as_str(), r.key.app.as_str()), ("-odd-team", "=HYPERLINK(1)"));
    }

    #[test]
    fn unknown_decision_gives_line_value_and_allowed_words() {
        let e = err(format!("{HEADER}\n2026-Q4,s1,t,acme,acme-web,,team-membership,member,view,a@acme.example,,,,Deny,,\n\n2026-Q4,s1,t,acme,acme-web,,team-membership,member,view,b@acme.example,,,,Revoke it,,\n").as_bytes());
        assert!(e.contains("certification.csv:4:"), "{e}");
        for needle in ["Revoke it", "Approve", "Deny", "Don't know", "Not reviewed"] {
            assert!(e.contains(needle), "{needle} in {e}");
        }
    }

    #[test]
    fn missing_columns_are_named() {
        let e = err(b"snapshot_id,team,app,decision\ns1,t,,Deny\n");
        for needle in ["grant_type", "enterprise_account", "user_email", ":1:"] {
            assert!(e.contains(needle), "{needle} in {e}");
        }
        assert!(!e.contains("no snapshot_id"), "{e}");
    }

    #[test]
    fn empty_and_non_utf8_files_are_refused() {
        assert!(err(b"").contains("empty"));
        assert!(err(b"  \r\n").contains("empty"));
        let mut bytes = format!("{HEADER}\n").into_bytes();
        bytes.extend_from_slice(
            b"2026-Q4,s1,t,acme,acme-web,,team-membership,member,view,caf\xE9@acme.example,,,,Deny,,\n",
        );
        let e = err(&bytes);
        assert!(e.contains(":2:") && e.contains("UTF-8"), "{e}");
    }

    #[test]
    fn unknown_grant_type_is_refused_with_its_line() {
        let e = err(format!("{HEADER}\n2026-Q4,s1,t,acme,acme-web,,team-seat,member,view,a@acme.example,,,,Deny,,\n")
            .as_bytes());
        assert!(e.contains(":2:") && e.contains("team-seat") && e.contains("team-membership"), "{e}");
    }
}
