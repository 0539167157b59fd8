//! Listing and pruning the snapshots in an output folder.
//!
//! Pruning deletes personal-data history, and an audit may have to show a reviewed snapshot
//! later, so it is conservative: it only ever removes folders directly inside the output folder
//! whose manifest parses as a snapshot this hkaudit reads; it never removes the newest snapshot,
//! the one `latest` points at, or one a worksheet references; everything else (no manifest, an
//! unreadable manifest, an extract's temporary folder, files, symlinks) is left alone and
//! reported.
use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::snapshot::{Snapshot, SnapshotError, LATEST};

const TMP_PREFIX: &str = ".tmp-";
/// A worksheet folder inside the output folder whose `*.csv` are always consulted.
pub const WORKSHEETS_DIR: &str = "worksheets";

#[derive(Debug, Clone, Serialize)]
pub struct SnapshotEntry {
    /// The folder name.
    pub folder: String,
    /// `snapshot_id` from the manifest (the folder name unless someone renamed it).
    pub id: String,
    pub path: PathBuf,
    pub taken_at: DateTime<Utc>,
    pub complete: bool,
    pub gaps: usize,
    pub findings: bool,
    pub size_bytes: u64,
    pub latest: bool,
}

/// Something in the output folder that is not a snapshot hkaudit may remove.
#[derive(Debug, Clone, Serialize)]
pub struct Other {
    pub name: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Listing {
    pub dir: PathBuf,
    /// Newest first (by `taken_at`, then id).
    pub snapshots: Vec<SnapshotEntry>,
    /// The folder `latest` points at, if it is a link into this folder.
    pub latest: Option<String>,
    pub others: Vec<Other>,
}

fn io(path: &Path, e: impl std::fmt::Display) -> SnapshotError {
    SnapshotError::io(path, e)
}

/// Bytes of the regular files under `path`, not following symlinks.
fn size_of(path: &Path) -> u64 {
    let Ok(meta) = fs::symlink_metadata(path) else { return 0 };
    if meta.is_dir() {
        fs::read_dir(path).map(|rd| rd.flatten().map(|e| size_of(&e.path())).sum()).unwrap_or(0)
    } else if meta.is_file() {
        meta.len()
    } else {
        0
    }
}

pub fn list(dir: &Path) -> Result<Listing, SnapshotError> {
    let entries = fs::read_dir(dir).map_err(|e| SnapshotError::file(dir, "cannot read the snapshots folder", e))?;
    let latest = fs::read_link(dir.join(LATEST)).ok().and_then(|t| {
        // `latest` is written as a bare folder name; anything else is not ours to interpret.
        let name = t.to_str()?.trim_end_matches('/').to_owned();
        (!name.contains('/')).then_some(name)
    });
    let mut snapshots = Vec::new();
    let mut others = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| SnapshotError::file(dir, "cannot read the snapshots folder", e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        let meta =
            fs::symlink_metadata(&path).map_err(|e| SnapshotError::file(&path, "cannot read its metadata", e))?;
        let other = |reason: &str| Other { name: name.clone(), reason: reason.to_owned() };
        if name == LATEST {
            continue;
        }
        if name.starts_with(TMP_PREFIX) {
            others.push(other("temporary folder of an extract (running, or abandoned: the next extract removes it)"));
            continue;
        }
        if meta.file_type().is_symlink() {
            others.push(other("a symlink, not a snapshot folder"));
            continue;
        }
        if !meta.is_dir() {
            others.push(other("a file, not a snapshot folder"));
            continue;
        }
        if !path.join("manifest.json").is_file() {
            others.push(other("no manifest.json: not a snapshot"));
            continue;
        }
        match Snapshot::open(&path) {
            Ok(s) => {
                let m = s.manifest();
                snapshots.push(SnapshotEntry {
                    folder: name.clone(),
                    id: m.snapshot_id.clone(),
                    taken_at: m.taken_at,
                    complete: m.complete,
                    gaps: m.gaps.len(),
                    findings: path.join(crate::analyze::FINDINGS_JSON).is_file(),
                    size_bytes: size_of(&path),
                    latest: latest.as_deref() == Some(name.as_str()),
                    path,
                });
            }
            Err(e) => others.push(other(&format!(
                "manifest.json does not parse as a snapshot this hkaudit reads: {}",
                crate::errors::chain(&e)
            ))),
        }
    }
    snapshots.sort_by(|a, b| b.taken_at.cmp(&a.taken_at).then_with(|| b.folder.cmp(&a.folder)));
    others.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Listing { dir: dir.to_owned(), snapshots, latest, others })
}

/// Snapshot ids in the `snapshot_id` column of a worksheet. Only that column is read, so a
/// worksheet with a typo in a decision still protects its snapshot.
pub fn worksheet_snapshot_ids(path: &Path) -> Result<BTreeSet<String>, SnapshotError> {
    // Read as `plan` and `certify` read worksheets: regular files only (a FIFO would block the
    // prune), UTF-8 or UTF-16, a `#TYPE` or `sep=` first line set aside.
    let text = crate::analyze::inputs::read_text(path)
        .map_err(|e| io(path, format!("cannot read the worksheet: {}. {}", e.problem(), e.fix())))?
        .text;
    let key = |h: &str| h.trim().to_lowercase().replace([' ', '-'], "_");
    let csv = crate::analyze::inputs::CsvText::new(path, &text);
    let mut reader = csv.reader(false);
    let col = reader
        .headers()
        .ok()
        .and_then(|headers| headers.iter().position(|h| key(h) == "snapshot_id"))
        .ok_or_else(|| io(path, "the worksheet has no snapshot_id column, so it cannot say which snapshots it needs: fix or move it, then prune again"))?;
    let mut ids = BTreeSet::new();
    for record in reader.records() {
        let record = record.map_err(|e| io(path, format!("cannot read the worksheet: {e}")))?;
        if let Some(v) = record.get(col) {
            let v = v.trim();
            if !v.is_empty() {
                ids.insert(v.to_owned());
            }
        }
    }
    Ok(ids)
}

#[derive(Debug, Clone, Default)]
pub struct PruneOptions {
    /// How many of the newest snapshots to keep; the newest is kept even with 0.
    pub keep: usize,
    /// Worksheets whose snapshots must stay, besides `DIR/worksheets/*.csv`.
    pub worksheets: Vec<PathBuf>,
    /// Snapshot ids (or folder names) that must stay, each with who needs it (`campaign …`):
    /// found by the caller, so this module need not know what a campaign is.
    pub protected: Vec<(String, String)>,
    pub dry_run: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Pruned {
    pub folder: String,
    pub id: String,
    pub size_bytes: u64,
    /// Why it was kept; empty for a removed snapshot.
    pub reasons: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PruneReport {
    pub dry_run: bool,
    pub removed: Vec<Pruned>,
    pub kept: Vec<Pruned>,
    pub left_alone: Vec<Other>,
    pub worksheets: Vec<PathBuf>,
}

pub fn prune(dir: &Path, opts: &PruneOptions) -> Result<PruneReport, SnapshotError> {
    let listing = list(dir)?;
    let mut worksheets = opts.worksheets.clone();
    let ws_dir = dir.join(WORKSHEETS_DIR);
    if ws_dir.is_dir() {
        let mut found: Vec<PathBuf> = fs::read_dir(&ws_dir)
            .map_err(|e| SnapshotError::file(&ws_dir, "cannot read the worksheets folder", e))?
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().and_then(|x| x.to_str()).is_some_and(|x| x.eq_ignore_ascii_case("csv")))
            .collect();
        found.sort();
        worksheets.extend(found);
    }
    // Every worksheet is read before anything is removed: one unreadable worksheet stops the prune.
    let mut referenced: BTreeSet<String> = BTreeSet::new();
    for w in &worksheets {
        referenced.extend(worksheet_snapshot_ids(w)?);
    }

    let mut report = PruneReport {
        dry_run: opts.dry_run,
        removed: Vec::new(),
        kept: Vec::new(),
        left_alone: listing.others.clone(),
        worksheets,
    };
    for (i, s) in listing.snapshots.iter().enumerate() {
        let mut reasons = Vec::new();
        if i == 0 {
            reasons.push("newest snapshot".to_owned());
        }
        if i < opts.keep && i > 0 {
            reasons.push(format!("among the newest {}", opts.keep));
        }
        if s.latest {
            reasons.push("`latest` points at it".to_owned());
        }
        if referenced.contains(&s.id) || referenced.contains(&s.folder) {
            reasons.push("referenced by a worksheet".to_owned());
        }
        for (id, by) in &opts.protected {
            let reason = format!("referenced by {by}");
            if (*id == s.id || *id == s.folder) && !reasons.contains(&reason) {
                reasons.push(reason);
            }
        }
        let entry = Pruned { folder: s.folder.clone(), id: s.id.clone(), size_bytes: s.size_bytes, reasons };
        if !entry.reasons.is_empty() {
            report.kept.push(entry);
            continue;
        }
        if !opts.dry_run {
            remove_snapshot(dir, &s.folder)?;
        }
        report.removed.push(entry);
    }
    Ok(report)
}

/// Renamed to a temporary name first, so a removal cut short never leaves a half-deleted folder
/// that looks like a snapshot (the next extract clears `.tmp-` folders of dead processes).
fn remove_snapshot(dir: &Path, folder: &str) -> Result<(), SnapshotError> {
    let from = dir.join(folder);
    let to = dir.join(format!("{TMP_PREFIX}pruned-{folder}-{}", std::process::id()));
    fs::rename(&from, &to).map_err(|e| SnapshotError::file(&from, "cannot move the snapshot aside to remove it", e))?;
    fs::remove_dir_all(&to).map_err(|e| SnapshotError::file(&to, "cannot remove the pruned snapshot", e))
}
