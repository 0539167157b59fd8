//! Certification closure: for every grant a reviewer denied, is it gone in a newer snapshot?
//! Heroku removes nothing on its own (no SCIM, no cascading removal), so a decision is only done
//! when a later snapshot proves it.
use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use super::worksheet::{read_worksheet, Decision, WorksheetRow};
use super::HistoryError;
use crate::analyze::InputError;
use crate::snapshot::grants::{load_grants, GrantKey, Unread};
use crate::snapshot::rows::Rows;
use crate::snapshot::Snapshot;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Closure {
    /// Denied, and the grant is gone in the newer snapshot.
    Done,
    /// Denied, and the grant is still there: the decision was not carried out.
    StillPresent,
    /// Denied, but the newer snapshot did not read that scope: nobody can tell yet.
    Unknown,
    /// Approved: nothing to do (reported so the closure covers every row).
    Kept,
    /// Don't know, or not reviewed: the certification is not finished for this grant.
    NotReviewed,
}

impl Closure {
    pub fn as_str(self) -> &'static str {
        match self {
            Closure::Done => "done",
            Closure::StillPresent => "still present",
            Closure::Unknown => "unknown (not read)",
            Closure::Kept => "kept",
            Closure::NotReviewed => "not reviewed",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ClosureRow {
    pub line: usize,
    pub key: GrantKey,
    pub decision: String,
    pub reviewer: String,
    pub decision_date: String,
    pub justification: String,
    pub closure: Closure,
    pub note: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ClosureReport {
    pub worksheet: String,
    pub worksheet_snapshot_ids: Vec<String>,
    pub snapshot_id: String,
    pub snapshot_as_of: String,
    pub counts: BTreeMap<String, usize>,
    pub rows: Vec<ClosureRow>,
    pub warnings: Vec<String>,
}

impl ClosureReport {
    /// True when a denied grant is still there: `certify` then exits non-zero.
    pub fn has_open_denials(&self) -> bool {
        self.rows.iter().any(|r| r.closure == Closure::StillPresent)
    }
}

/// Check `worksheet` against the newer `snapshot_dir`. Every row must name a grant of the
/// snapshot the worksheet was made from (`original`, else the folder of that id beside
/// `snapshot_dir`), or a typo would silently count as "done".
pub fn certify(worksheet: &Path, snapshot_dir: &Path, original: Option<&Path>) -> Result<ClosureReport, HistoryError> {
    let rows = read_worksheet(worksheet)?;
    let snapshot = Snapshot::open(snapshot_dir)?;
    let current: std::collections::BTreeSet<GrantKey> = load_grants(&snapshot)?.into_iter().map(|g| g.key).collect();
    let path = worksheet.display().to_string();
    let mut warnings = Vec::new();

    let mut ids: Vec<String> = rows.iter().map(|r| r.snapshot_id.clone()).filter(|s| !s.is_empty()).collect();
    ids.sort();
    ids.dedup();
    let original_dir = match original {
        Some(dir) => Some(dir.to_owned()),
        None => match ids.as_slice() {
            [id] => snapshot.dir().parent().map(|p| p.join(id)).filter(|p| p.join("manifest.json").exists()),
            _ => None,
        },
    };
    match original_dir {
        Some(dir) => {
            let orig = Snapshot::open(&dir)?;
            let known: std::collections::BTreeSet<GrantKey> = load_grants(&orig)?.into_iter().map(|g| g.key).collect();
            if let Some(r) = rows.iter().find(|r| !known.contains(&r.key)) {
                return Err(InputError::new(
                    Path::new(&path),
                    Some(r.line),
                    format!("{} matches no grant of snapshot {}", r.key.display(), orig.manifest().snapshot_id),
                    "keep the grant columns as `hkaudit report` wrote them",
                )
                .into());
            }
        }
        None => warnings.push(format!(
            "the worksheet's snapshot ({}) was not found beside {}: rows were not checked against it, so a mistyped denied row would read as done; pass --original",
            if ids.is_empty() { "no snapshot_id".to_owned() } else { ids.join(", ") },
            snapshot_dir.display()
        )),
    }

    let unread = Unread::of(&snapshot)?;
    let listed: std::collections::BTreeSet<String> = team_names(&snapshot)?.into_iter().collect();
    let new_id = snapshot.manifest().snapshot_id.clone();
    if !unread.scopes().is_empty() {
        let scopes: Vec<&str> = unread.scopes().iter().map(|u| u.label.as_str()).collect();
        warnings.push(format!(
            "snapshot {new_id} did not read {}: a denied grant there is unknown, not done",
            scopes.join(", ")
        ));
    }
    let out: Vec<ClosureRow> = rows.iter().map(|r| closure_row(r, &current, &unread, &listed, &new_id)).collect();
    let mut counts = BTreeMap::new();
    for r in &out {
        *counts.entry(r.closure.as_str().to_owned()).or_insert(0) += 1;
    }
    Ok(ClosureReport {
        worksheet: worksheet.display().to_string(),
        worksheet_snapshot_ids: ids,
        snapshot_id: snapshot.manifest().snapshot_id.clone(),
        snapshot_as_of: snapshot.manifest().as_of.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        counts,
        rows: out,
        warnings,
    })
}

fn team_names(snapshot: &Snapshot) -> Result<Vec<String>, HistoryError> {
    let teams = Rows::new("teams", snapshot.read("teams")?);
    Ok(teams.str("name")?.into_iter().flatten().collect())
}

fn closure_row(
    r: &WorksheetRow,
    current: &std::collections::BTreeSet<GrantKey>,
    unread: &Unread,
    listed: &std::collections::BTreeSet<String>,
    snapshot_id: &str,
) -> ClosureRow {
    let (closure, note) = match r.decision {
        Decision::Deny => match (current.contains(&r.key), unread.covers(&r.key, listed)) {
            (true, _) => (Closure::StillPresent, "denied, but the grant is still there".to_owned()),
            (false, Some(scope)) => (Closure::Unknown, format!("snapshot {snapshot_id}: {}", scope.reason)),
            (false, None) => (Closure::Done, "denied and removed".to_owned()),
        },
        Decision::Approve => (Closure::Kept, String::new()),
        Decision::DontKnow => (Closure::NotReviewed, "reviewer did not know".to_owned()),
        Decision::NotReviewed => (Closure::NotReviewed, String::new()),
    };
    ClosureRow {
        line: r.line,
        key: r.key.clone(),
        decision: r.decision.as_str().to_owned(),
        reviewer: r.reviewer.clone(),
        decision_date: r.decision_date.clone(),
        justification: r.justification.clone(),
        closure,
        note,
    }
}

/// The closure as CSV, one row per worksheet row.
pub fn closure_csv(c: &ClosureReport) -> Result<Vec<u8>, HistoryError> {
    let header = [
        "line",
        "closure",
        "decision",
        "grant_type",
        "enterprise_account",
        "team",
        "app",
        "user_email",
        "reviewer",
        "decision_date",
        "justification",
        "note",
    ];
    let rows = c.rows.iter().map(|r| {
        vec![
            r.line.to_string(),
            r.closure.as_str().to_owned(),
            r.decision.clone(),
            r.key.grant_type.clone(),
            r.key.enterprise_account.clone(),
            r.key.team.clone(),
            r.key.app.clone(),
            r.key.email.clone(),
            r.reviewer.clone(),
            r.decision_date.clone(),
            r.justification.clone(),
            r.note.clone(),
        ]
    });
    Ok(crate::output::csv_bytes(&header, rows)?)
}

/// The closure as Markdown (template `reports/closure.md`).
pub fn closure_markdown(c: &ClosureReport) -> Result<String, HistoryError> {
    Ok(crate::output::render_named("closure.md", &serde_json::json!({ "c": c, "open": c.has_open_denials() }))?)
}
