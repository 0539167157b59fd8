//! Reading a filled-in certification worksheet (`certification.csv` from `hkaudit report`, after
//! reviewers have written their decisions into it). Shared by `plan --from-worksheet` and
//! `certify`.
//!
//! Worksheets come back from spreadsheets, so the reader is tolerant of what spreadsheets do (a
//! byte-order mark, CRLF, semicolons, quoted cells, reordered or extra columns, the apostrophe
//! the report put in front of formula-like cells) and strict about what changes meaning: a
//! decision word it does not know is an error with its line, never a guess.
use std::path::Path;

use serde::Serialize;

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

    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Approve => "Approve",
            Decision::Deny => "Deny",
            Decision::DontKnow => "Don't know",
            Decision::NotReviewed => "Not reviewed",
        }
    }

    /// Case-insensitive; `Dont know` and the typographic `Don’t know` (spreadsheets' autocorrect)
    /// are `Don't know`; an empty cell is `Not reviewed`.
    pub fn parse(word: &str) -> Option<Self> {
        let w = word.trim().replace('\u{2019}', "'").to_lowercase();
        let w = w.split_whitespace().collect::<Vec<_>>().join(" ");
        match w.as_str() {
            "approve" => Some(Decision::Approve),
            "deny" => Some(Decision::Deny),
            "don't know" | "dont know" => Some(Decision::DontKnow),
            "not reviewed" | "" => Some(Decision::NotReviewed),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WorksheetRow {
    /// 1-based line of the row in the file (the header is line 1).
    pub line: usize,
    pub key: GrantKey,
    pub snapshot_id: String,
    pub decision: Decision,
    pub reviewer: String,
    pub decision_date: String,
    pub justification: String,
}

/// Columns a worksheet must have to say which grant a decision is about.
const REQUIRED: [&str; 7] =
    ["snapshot_id", "grant_type", "enterprise_account", "team", "app", "user_email", "decision"];
const OPTIONAL: [&str; 3] = ["reviewer", "decision_date", "justification"];

/// Header names compared trimmed, case-insensitively, with spaces or dashes for underscores.
fn column_key(header: &str) -> String {
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

pub fn read_worksheet(path: &Path) -> Result<Vec<WorksheetRow>, HistoryError> {
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
    let headers = csv.headers(&mut reader)?;
    let keys: Vec<String> = headers.iter().map(column_key).collect();
    // A second `decision` column (or two spellings of one) must not silently win.
    let find = |name: &str| -> Result<Option<usize>, InputError> {
        let hits: Vec<usize> = keys.iter().enumerate().filter(|(_, k)| *k == name).map(|(i, _)| i).collect();
        match hits.as_slice() {
            [] => Ok(None),
            [one] => Ok(Some(*one)),
            many => Err(ambiguous_columns(path, csv.header_line(), &headers, &format!("`{name}`"), many)),
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
            Some(csv.header_line()),
            format!("the worksheet has no {} column{}", missing.join(", "), if missing.len() > 1 { "s" } else { "" }),
            format!("keep the header row of certification.csv; a worksheet needs {}", REQUIRED.join(", ")),
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

    let mut rows = Vec::new();
    for record in csv.records(&mut reader) {
        let (line, record) = record?;
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let get = |i: usize| record.get(i).map(cell).unwrap_or_default();
        let opt = |i: Option<usize>| i.map(get).unwrap_or_default();
        let word = get(decision);
        let Some(parsed) = Decision::parse(&word) else {
            return Err(InputError::new(
                path,
                Some(line),
                format!("decision `{word}` is not a decision hkaudit knows"),
                format!("write one of {} (or leave it empty for Not reviewed)", Decision::WORDS.join(", ")),
            )
            .into());
        };
        let kind = get(grant_type);
        // `report` marks each scope it could not read with a row that names no grant.
        if kind == NOT_READ {
            if parsed != Decision::NotReviewed {
                return Err(InputError::new(
                    path,
                    Some(line),
                    format!(
                        "this row marks a scope that was not read (team `{}`), not a grant: it takes no decision",
                        get(team)
                    ),
                    "leave its decision empty; certify that scope's grants from a snapshot that reads it",
                )
                .into());
            }
            continue;
        }
        if !GRANT_TYPES.contains(&kind.as_str()) {
            return Err(InputError::new(
                path,
                Some(line),
                format!("grant_type `{kind}` is not a grant type hkaudit writes"),
                format!("use one of {}, as in the worksheet `hkaudit report` wrote", GRANT_TYPES.join(", ")),
            )
            .into());
        }
        let user = get(email);
        if user.is_empty() {
            return Err(InputError::new(
                path,
                Some(line),
                "user_email is empty",
                "keep the user_email of every row as `hkaudit report` wrote it",
            )
            .into());
        }
        rows.push(WorksheetRow {
            line,
            key: GrantKey {
                grant_type: kind,
                enterprise_account: get(ea),
                team: get(team),
                app: get(app),
                email: email_norm(&user),
            },
            snapshot_id: get(snapshot_id),
            decision: parsed,
            reviewer: opt(reviewer),
            decision_date: opt(decision_date),
            justification: opt(justification),
        });
    }
    Ok(rows)
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
