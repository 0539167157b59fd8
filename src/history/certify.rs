//! Certification closure: for every grant a reviewer denied, is it gone in a newer snapshot?
//! Heroku removes nothing on its own (no SCIM, no cascading removal), so a decision is only done
//! when a later snapshot proves it. The closure also lists every approval (what an auditor
//! samples) and every grant given since the reviewed snapshot, which nobody has reviewed yet.
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::worksheet::{read_worksheet, Decision};
use super::HistoryError;
use crate::analyze::InputError;
use crate::snapshot::grants::{load_grants, Grant, GrantKey, Unread};
use crate::snapshot::rows::Rows;
use crate::snapshot::Snapshot;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
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
    /// In the newer snapshot but not in the reviewed one: granted since, nobody reviewed it.
    NewSince,
}

impl Closure {
    pub fn as_str(self) -> &'static str {
        match self {
            Closure::Done => "done",
            Closure::StillPresent => "still present",
            Closure::Unknown => "unknown (not read)",
            Closure::Kept => "kept",
            Closure::NotReviewed => "not reviewed",
            Closure::NewSince => "not reviewed: new since",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClosureRow {
    /// The row's line (CSV) or row number (workbook sheet); 0 when no row holds it.
    pub line: usize,
    /// Where the decision was read (`returned/carol.xlsx, sheet acme-web, row 4`), for a campaign.
    #[serde(default)]
    pub source: String,
    pub key: GrantKey,
    pub decision: String,
    pub reviewer: String,
    pub decision_date: String,
    pub justification: String,
    pub closure: Closure,
    pub note: String,
}

/// Who closed a review with rows still undecided, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acceptance {
    pub by: String,
    pub at: DateTime<Utc>,
    pub rows: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClosureReport {
    /// The worksheet checked, or the campaign folder.
    pub worksheet: String,
    /// The campaign's id, when a campaign was closed.
    #[serde(default)]
    pub campaign: Option<String>,
    pub worksheet_snapshot_ids: Vec<String>,
    pub snapshot_id: String,
    pub snapshot_as_of: String,
    pub closed_at: DateTime<Utc>,
    pub counts: BTreeMap<String, usize>,
    pub rows: Vec<ClosureRow>,
    pub warnings: Vec<String>,
    /// Reviewed rows without a decision (Don't know, empty, invalid); grants new since are not counted.
    pub undecided: usize,
    pub accepted_undecided: Option<Acceptance>,
    pub hkaudit_version: String,
}

impl ClosureReport {
    /// True when a denied grant is still there: `certify` then exits non-zero.
    pub fn has_open_denials(&self) -> bool {
        self.rows.iter().any(|r| r.closure == Closure::StillPresent)
    }

    /// Every reviewed row has a decision, or someone accepted the ones that have none.
    pub fn is_complete(&self) -> bool {
        self.undecided == 0 || self.accepted_undecided.is_some()
    }

    pub fn approvals(&self) -> impl Iterator<Item = &ClosureRow> {
        self.rows.iter().filter(|r| r.closure == Closure::Kept)
    }

    /// Record that `by` accepts closing with the undecided rows as they are.
    pub fn accept_undecided(&mut self, by: &str, at: DateTime<Utc>) {
        if self.undecided > 0 {
            self.accepted_undecided = Some(Acceptance { by: by.trim().to_owned(), at, rows: self.undecided });
        }
    }
}

/// One reviewed row going into a closure.
#[derive(Debug, Clone)]
pub(crate) struct Decided {
    pub line: usize,
    pub source: String,
    pub key: GrantKey,
    pub decision: Decision,
    pub reviewer: String,
    pub decision_date: String,
    pub justification: String,
    /// Why a row without a decision has none (`no workbook came back`, the invalid reason).
    pub why_open: String,
}

/// What the closure needs of the reviewed snapshot: its grants, and what it did not read.
pub(crate) struct Reviewed {
    pub id: String,
    /// Each grant with the role and permissions it had when reviewed.
    pub grants: BTreeMap<GrantKey, (String, Vec<String>)>,
    pub unread: Unread,
    pub listed: BTreeSet<String>,
}

impl Reviewed {
    pub fn of(snapshot: &Snapshot) -> Result<Reviewed, HistoryError> {
        Ok(Reviewed {
            id: snapshot.manifest().snapshot_id.clone(),
            grants: load_grants(snapshot)?.into_iter().map(|g| (g.key, (g.role, g.permissions))).collect(),
            unread: Unread::of(snapshot)?,
            listed: team_names(snapshot)?.into_iter().collect(),
        })
    }

    pub fn contains(&self, key: &GrantKey) -> bool {
        self.grants.contains_key(key)
    }
}

/// How much a team role can do, to tell a promotion from a demotion.
fn role_rank(role: &str) -> u8 {
    match role {
        "collaborator" => 1,
        "viewer" => 2,
        "member" => 3,
        "admin" => 4,
        "owner" => 5,
        _ => 0,
    }
}

/// What a grant gained since it was reviewed (a higher role, a permission), if anything: that
/// part nobody reviewed.
fn gained(old: &(String, Vec<String>), new: &Grant, old_id: &str) -> Option<String> {
    let (role, perms) = old;
    if role != &new.role && role_rank(&new.role) > role_rank(role) {
        return Some(format!("role {role} → {} since snapshot {old_id}: the new role was not reviewed", new.role));
    }
    let added: Vec<&str> = new.permissions.iter().filter(|p| !perms.contains(p)).map(String::as_str).collect();
    (!added.is_empty()).then(|| format!("permissions {} added since snapshot {old_id}: not reviewed", added.join(", ")))
}

/// The closure of `rows` against `newer`; grants of `newer` absent from `reviewed` are listed
/// as new since.
pub(crate) fn close(
    source: String,
    campaign: Option<String>,
    rows: &[Decided],
    newer: &Snapshot,
    reviewed: Option<&Reviewed>,
    mut warnings: Vec<String>,
    at: DateTime<Utc>,
) -> Result<ClosureReport, HistoryError> {
    let current_grants: Vec<Grant> = load_grants(newer)?;
    let current: BTreeSet<GrantKey> = current_grants.iter().map(|g| g.key.clone()).collect();
    let unread = Unread::of(newer)?;
    let listed: BTreeSet<String> = team_names(newer)?.into_iter().collect();
    let new_id = newer.manifest().snapshot_id.clone();
    if !unread.scopes().is_empty() {
        let scopes: Vec<&str> = unread.scopes().iter().map(|u| u.label.as_str()).collect();
        warnings.push(format!(
            "snapshot {new_id} did not read {}: a denied grant there is unknown, not done",
            scopes.join(", ")
        ));
    }
    let mut out: Vec<ClosureRow> = rows.iter().map(|r| closure_row(r, &current, &unread, &listed, &new_id)).collect();
    let undecided = out.iter().filter(|r| r.closure == Closure::NotReviewed).count();
    let mut ids: Vec<String> = Vec::new();
    if let Some(old) = reviewed {
        ids.push(old.id.clone());
        for g in &current_grants {
            let note = match old.grants.get(&g.key) {
                Some(before) => match gained(before, g, &old.id) {
                    Some(note) => note,
                    None => continue,
                },
                None => {
                    let note = match old.unread.covers(&g.key, &old.listed) {
                        Some(scope) => format!("snapshot {} did not read it ({}): never reviewed", old.id, scope.label),
                        None => format!("granted after snapshot {}: review it in the next campaign", old.id),
                    };
                    if g.role.is_empty() {
                        note
                    } else {
                        format!("role {}; {note}", g.role)
                    }
                }
            };
            out.push(ClosureRow {
                line: 0,
                source: String::new(),
                key: g.key.clone(),
                decision: String::new(),
                reviewer: String::new(),
                decision_date: String::new(),
                justification: String::new(),
                closure: Closure::NewSince,
                note,
            });
        }
    }
    let mut counts = BTreeMap::new();
    for r in &out {
        *counts.entry(r.closure.as_str().to_owned()).or_insert(0) += 1;
    }
    Ok(ClosureReport {
        worksheet: source,
        campaign,
        worksheet_snapshot_ids: ids,
        snapshot_id: new_id,
        snapshot_as_of: newer.manifest().as_of.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        closed_at: at,
        counts,
        rows: out,
        warnings,
        undecided,
        accepted_undecided: None,
        hkaudit_version: env!("CARGO_PKG_VERSION").to_owned(),
    })
}

/// Check `worksheet` against the newer `snapshot_dir`. Every row must name a grant of the
/// snapshot the worksheet was made from (`original`, else the folder of that id beside
/// `snapshot_dir`), or a typo would silently count as "done".
pub fn certify(worksheet: &Path, snapshot_dir: &Path, original: Option<&Path>) -> Result<ClosureReport, HistoryError> {
    let rows = read_worksheet(worksheet)?;
    let snapshot = Snapshot::open(snapshot_dir)?;
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
    let reviewed = match original_dir {
        Some(dir) => {
            let orig = Snapshot::open(&dir)?;
            let reviewed = Reviewed::of(&orig)?;
            if let Some(r) = rows.iter().find(|r| !reviewed.contains(&r.key)) {
                return Err(InputError::new(
                    Path::new(&path),
                    Some(r.line),
                    format!("{} matches no grant of snapshot {}", r.key.display(), orig.manifest().snapshot_id),
                    "keep the grant columns as `hkaudit report` wrote them",
                )
                .into());
            }
            Some(reviewed)
        }
        None => {
            warnings.push(format!(
                "the worksheet's snapshot ({}) was not found beside {}: rows were not checked against it, so a mistyped denied row would read as done, and grants given since are not listed; pass --original",
                if ids.is_empty() { "no snapshot_id".to_owned() } else { ids.join(", ") },
                snapshot_dir.display()
            ));
            None
        }
    };
    let decided: Vec<Decided> = rows
        .iter()
        .map(|r| Decided {
            line: r.line,
            source: match &r.sheet {
                Some(_) => format!("{}, {}", path, r.place()),
                None => String::new(),
            },
            key: r.key.clone(),
            decision: r.decision,
            reviewer: r.reviewer.clone(),
            decision_date: r.decision_date.clone(),
            justification: r.justification.clone(),
            why_open: match r.decision {
                Decision::DontKnow => "reviewer did not know".into(),
                _ => String::new(),
            },
        })
        .collect();
    let mut report = close(path, None, &decided, &snapshot, reviewed.as_ref(), warnings, Utc::now())?;
    if reviewed.is_none() {
        report.worksheet_snapshot_ids = ids;
    }
    Ok(report)
}

pub(crate) fn team_names(snapshot: &Snapshot) -> Result<Vec<String>, HistoryError> {
    let teams = Rows::new("teams", snapshot.read("teams")?);
    Ok(teams.str("name")?.into_iter().flatten().collect())
}

fn closure_row(
    r: &Decided,
    current: &BTreeSet<GrantKey>,
    unread: &Unread,
    listed: &BTreeSet<String>,
    snapshot_id: &str,
) -> ClosureRow {
    let (closure, note) = match r.decision {
        Decision::Deny => match (current.contains(&r.key), unread.covers(&r.key, listed)) {
            (true, _) => (Closure::StillPresent, "denied, but the grant is still there".to_owned()),
            (false, Some(scope)) => (Closure::Unknown, format!("snapshot {snapshot_id}: {}", scope.reason)),
            (false, None) => (Closure::Done, "denied and removed".to_owned()),
        },
        Decision::Approve => (
            Closure::Kept,
            if current.contains(&r.key) || unread.covers(&r.key, listed).is_some() {
                String::new()
            } else {
                format!("approved; no longer in snapshot {snapshot_id}")
            },
        ),
        Decision::DontKnow | Decision::NotReviewed => (Closure::NotReviewed, r.why_open.clone()),
    };
    ClosureRow {
        line: r.line,
        source: r.source.clone(),
        key: r.key.clone(),
        decision: r.decision.as_str().to_owned(),
        reviewer: r.reviewer.clone(),
        decision_date: r.decision_date.clone(),
        justification: r.justification.clone(),
        closure,
        note,
    }
}

/// The closure as CSV, one row per worksheet row, then one per grant new since.
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
        "source",
    ];
    let rows = c.rows.iter().map(|r| {
        vec![
            if r.line == 0 { String::new() } else { r.line.to_string() },
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
            r.source.clone(),
        ]
    });
    Ok(crate::output::csv_bytes(&header, rows)?)
}

/// The closure as Markdown (template `reports/closure.md`).
pub fn closure_markdown(c: &ClosureReport) -> Result<String, HistoryError> {
    Ok(crate::output::render_named(
        "closure.md",
        &serde_json::json!({
            "c": c,
            "open": c.has_open_denials(),
            "complete": c.is_complete(),
            "closed_at": c.closed_at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            "accepted_at": c.accepted_undecided.as_ref().map(|a| a.at.format("%Y-%m-%dT%H:%M:%SZ").to_string()),
        }),
    )?)
}
