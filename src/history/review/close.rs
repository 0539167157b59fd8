//! Closing a campaign against a newer snapshot: every denied grant checked, every approval listed
//! with its reviewer, date and justification, every grant given since listed as not reviewed,
//! and an evidence pack an auditor can check (`review verify`).
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::campaign::{sha256_file, Campaign};
use super::evidence::{self, EVIDENCE_DIR};
use super::status::{status_of, State, Status};
use crate::history::certify::{close as close_rows, ClosureReport, Decided, Reviewed};
use crate::history::worksheet::Decision;
use crate::history::{closure_csv, closure_markdown, HistoryError};
use crate::snapshot::Snapshot;

pub const CLOSURE_JSON: &str = "closure.json";

#[derive(Debug, Clone)]
pub struct CloseOptions {
    pub dir: PathBuf,
    /// The newer snapshot the decisions are checked against.
    pub snapshot: PathBuf,
    /// The reviewed snapshot [default: where the campaign found it, else its id beside `snapshot`].
    pub original: Option<PathBuf>,
    /// Who accepts closing with rows undecided; without it such a campaign is not closed.
    pub accept_undecided: Option<String>,
    pub now: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Closed {
    pub closure: ClosureReport,
    pub evidence: PathBuf,
    /// SHA-256 of the evidence pack's `SHA256SUMS`: record it where the pack cannot change it.
    pub digest: String,
    pub files: Vec<PathBuf>,
}

#[derive(Debug, Clone, Serialize)]
#[allow(clippy::large_enum_variant)]
pub enum Outcome {
    /// Rows are undecided and nobody accepted that: nothing was written.
    Refused(Status),
    Closed(Closed),
}

fn find_original(campaign: &Campaign, newer: &Snapshot, given: Option<&Path>) -> Result<Snapshot, HistoryError> {
    let mut tried = Vec::new();
    let candidates: Vec<PathBuf> = match given {
        Some(p) => vec![p.to_owned()],
        None => {
            let mut v = vec![campaign.snapshot.path.clone()];
            if let Some(parent) = newer.dir().parent() {
                v.push(parent.join(&campaign.snapshot.id));
            }
            v
        }
    };
    for dir in candidates {
        if !dir.join("manifest.json").is_file() {
            tried.push(dir.display().to_string());
            continue;
        }
        let s = Snapshot::open(&dir)?;
        if s.manifest().snapshot_id != campaign.snapshot.id {
            if given.is_some() {
                return Err(HistoryError::input(
                    dir.display().to_string(),
                    None,
                    format!(
                        "this is snapshot {}, but campaign {} reviewed snapshot {}",
                        s.manifest().snapshot_id,
                        campaign.id,
                        campaign.snapshot.id
                    ),
                ));
            }
            tried.push(dir.display().to_string());
            continue;
        }
        let sha = sha256_file(&dir.join("manifest.json"))?;
        if sha != campaign.snapshot.manifest_sha256 {
            return Err(HistoryError::input(dir.join("manifest.json").display().to_string(), None, format!(
                    "its SHA-256 is {sha}, but campaign {} recorded {} when it started: the reviewed snapshot changed since, so the closure cannot rest on it",
                    campaign.id, campaign.snapshot.manifest_sha256
                )));
        }
        return Ok(s);
    }
    Err(HistoryError::input(
        campaign.snapshot.path.display().to_string(),
        None,
        format!(
            "the reviewed snapshot {} was not found (looked in {}): pass it with --original",
            campaign.snapshot.id,
            tried.join(", ")
        ),
    ))
}

fn decided_rows(campaign: &Campaign, status: &Status) -> Vec<Decided> {
    campaign
        .items
        .iter()
        .zip(&status.items)
        .map(|(item, s)| {
            let (decision, why_open) = match s.state {
                State::Approved => (Decision::Approve, String::new()),
                State::Denied => (Decision::Deny, String::new()),
                State::DontKnow => (Decision::DontKnow, "reviewer did not know".to_owned()),
                State::Undecided if s.entry.is_none() => {
                    (Decision::NotReviewed, format!("no decision came back from {}", item.reviewer))
                }
                State::Undecided => (Decision::NotReviewed, "decision left empty".to_owned()),
                State::Invalid => (Decision::NotReviewed, format!("invalid: {}", s.problems.join("; "))),
            };
            let e = s.entry.as_ref().filter(|_| decision.is_decided() || decision == Decision::DontKnow);
            Decided {
                line: e.map(|e| e.line).unwrap_or(0),
                source: e.map(|e| e.source.clone()).unwrap_or_default(),
                key: item.key.clone(),
                decision,
                reviewer: e.map(|e| e.reviewer.clone()).unwrap_or_else(|| item.reviewer.clone()),
                decision_date: e.map(|e| e.decision_date.clone()).unwrap_or_default(),
                justification: e.map(|e| e.justification.clone()).unwrap_or_default(),
                why_open,
            }
        })
        .collect()
}

/// Close the campaign in `opts.dir`. Refused (nothing written) while rows are undecided, unless
/// `accept_undecided` names who accepts that. Writes `closure.md`, `closure.csv`, `closure.json`
/// and `evidence/` into the campaign folder; an earlier evidence pack is kept as
/// `evidence-<its closing time>/`.
pub fn close(opts: &CloseOptions) -> Result<Outcome, HistoryError> {
    let campaign = Campaign::load(&opts.dir)?;
    let status = status_of(&campaign, &opts.dir, opts.now.date_naive())?;
    if let Some(by) = &opts.accept_undecided {
        if by.trim().is_empty() {
            return Err(HistoryError::input(
                "--accept-undecided",
                None,
                "name who accepts the undecided rows (e.g. --accept-undecided dana.director@acme.example)".into(),
            ));
        }
    }
    if !status.complete && opts.accept_undecided.is_none() {
        return Ok(Outcome::Refused(status));
    }
    let newer = Snapshot::open(&opts.snapshot)?;
    if newer.manifest().snapshot_id == campaign.snapshot.id {
        return Err(HistoryError::input(opts.snapshot.display().to_string(), None, format!(
                "this is the reviewed snapshot {} itself: close against a snapshot extracted after the decisions were carried out",
                campaign.snapshot.id
            )));
    }
    let original = find_original(&campaign, &newer, opts.original.as_deref())?;
    let reviewed = Reviewed::of(&original)?;
    let rows = decided_rows(&campaign, &status);
    let mut warnings: Vec<String> = status.problems.iter().map(|p| format!("{}: {}", p.source, p.problem)).collect();
    if !campaign.not_read.is_empty() {
        warnings.push(format!(
            "the reviewed snapshot did not read {} scope{}, so nothing there was reviewed: {}",
            campaign.not_read.len(),
            if campaign.not_read.len() == 1 { "" } else { "s" },
            campaign.not_read.join("; ")
        ));
    }
    let mut closure = close_rows(
        opts.dir.display().to_string(),
        Some(campaign.id.clone()),
        &rows,
        &newer,
        Some(&reviewed),
        warnings,
        opts.now,
    )?;
    if let Some(by) = &opts.accept_undecided {
        closure.accept_undecided(by, opts.now);
    }

    let md = closure_markdown(&closure)?.into_bytes();
    let csv = closure_csv(&closure)?;
    let json = serde_json::to_vec_pretty(&closure)
        .map_err(|source| HistoryError::Json { path: CLOSURE_JSON.into(), source })?;
    let outputs = [("closure.md", md), ("closure.csv", csv), (CLOSURE_JSON, json)];
    let pack = evidence::Pack {
        campaign_dir: &opts.dir,
        returned: status.files.iter().map(|f| (f.path.clone(), f.sha256.clone())).collect(),
        review_manifest: original.dir().join("manifest.json"),
        review_id: campaign.snapshot.id.clone(),
        close_manifest: newer.dir().join("manifest.json"),
        close_id: newer.manifest().snapshot_id.clone(),
        outputs: &outputs,
    };
    let (evidence_dir, digest) = evidence::write(&pack, opts.now)?;
    let mut files = Vec::new();
    for (name, bytes) in &outputs {
        let p = opts.dir.join(name);
        crate::fsutil::write_private_atomic(&p, bytes).map_err(|e| HistoryError::write(&p, "cannot write", e))?;
        files.push(p);
    }
    Ok(Outcome::Closed(Closed { closure, evidence: evidence_dir, digest, files }))
}

/// The snapshots a campaign's closures were checked against, from every evidence pack in it.
pub fn closed_against(dir: &Path) -> Result<Vec<String>, HistoryError> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return Ok(out) };
    let mut names: Vec<String> = entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n == EVIDENCE_DIR || n.starts_with(&format!("{EVIDENCE_DIR}-")))
        .collect();
    names.sort();
    for n in names {
        let p = dir.join(&n).join(CLOSURE_JSON);
        let Ok(text) = std::fs::read_to_string(&p) else { continue };
        let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
            HistoryError::input(p.display().to_string(), Some(e.line()), format!("closure.json does not parse: {e}"))
        })?;
        if let Some(id) = v["snapshot_id"].as_str() {
            out.push(id.to_owned());
        }
    }
    Ok(out)
}
