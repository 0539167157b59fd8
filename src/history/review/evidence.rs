//! The evidence pack of a closed campaign, `evidence/`: the workbooks as they came back, the
//! campaign, both snapshots' manifests (which hold the SHA-256 of every table), the closure,
//! hkaudit's version, and `SHA256SUMS` over all of them in the format `sha256sum -c` checks.
//!
//! A pack proves itself only against a digest kept elsewhere: whoever can rewrite a file can
//! rewrite `SHA256SUMS` too. `review close` prints the SHA-256 of `SHA256SUMS` for the
//! campaign's ticket, and `review verify --digest` checks it.
use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::campaign::{sha256_hex, Campaign, CAMPAIGN_JSON};
use crate::history::HistoryError;

pub const EVIDENCE_DIR: &str = "evidence";
pub const SUMS: &str = "SHA256SUMS";
pub const VERSION_FILE: &str = "VERSION";
const MANIFESTS: &str = "manifests";

pub(crate) struct Pack<'a> {
    pub campaign_dir: &'a Path,
    /// Returned files relative to the campaign folder, with the SHA-256 they were read with.
    pub returned: Vec<(String, String)>,
    pub review_manifest: PathBuf,
    pub review_id: String,
    pub close_manifest: PathBuf,
    pub close_id: String,
    pub outputs: &'a [(&'a str, Vec<u8>)],
}

fn read(path: &Path) -> Result<Vec<u8>, HistoryError> {
    std::fs::read(path).map_err(|e| HistoryError::input(path.display().to_string(), None, format!("cannot read: {e}")))
}

/// A file name safe to put in a pack: the snapshot id as it is, unless it would climb out.
fn safe_name(id: &str) -> String {
    id.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') { c } else { '_' }).collect()
}

/// Write the pack into `campaign_dir/evidence/` (through a temporary folder and a rename); an
/// existing pack is moved to `evidence-<its time>/` first, never overwritten. Returns the pack's
/// folder and the SHA-256 of its `SHA256SUMS`.
pub(crate) fn write(pack: &Pack<'_>, now: DateTime<Utc>) -> Result<(PathBuf, String), HistoryError> {
    let dir = pack.campaign_dir;
    let tmp = dir.join(format!(".tmp-{EVIDENCE_DIR}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    files.push((CAMPAIGN_JSON.into(), read(&dir.join(CAMPAIGN_JSON))?));
    for (rel, sha) in &pack.returned {
        let bytes = read(&dir.join(rel))?;
        if &sha256_hex(&bytes) != sha {
            return Err(HistoryError::input(
                dir.join(rel).display().to_string(),
                None,
                "the file changed while the campaign was being closed: close it again".into(),
            ));
        }
        files.push((rel.clone(), bytes));
    }
    files.push((format!("{MANIFESTS}/review-{}.json", safe_name(&pack.review_id)), read(&pack.review_manifest)?));
    files.push((format!("{MANIFESTS}/close-{}.json", safe_name(&pack.close_id)), read(&pack.close_manifest)?));
    for (name, bytes) in pack.outputs {
        files.push(((*name).to_owned(), bytes.clone()));
    }
    files.push((VERSION_FILE.into(), format!("hkaudit {}\n", env!("CARGO_PKG_VERSION")).into_bytes()));
    files.sort_by(|a, b| a.0.cmp(&b.0));
    let mut sums = String::new();
    for (rel, bytes) in &files {
        sums.push_str(&format!("{}  {rel}\n", sha256_hex(bytes)));
    }
    let digest = sha256_hex(sums.as_bytes());
    let result = (|| -> Result<(), HistoryError> {
        for (rel, bytes) in &files {
            let p = tmp.join(rel);
            if let Some(parent) = p.parent() {
                crate::fsutil::create_private_dir_all(parent)
                    .map_err(|e| HistoryError::write(parent, "cannot write", e))?;
            }
            crate::fsutil::write_private_atomic(&p, bytes).map_err(|e| HistoryError::write(&p, "cannot write", e))?;
        }
        let p = tmp.join(SUMS);
        crate::fsutil::write_private_atomic(&p, sums.as_bytes())
            .map_err(|e| HistoryError::write(&p, "cannot write", e))?;
        let target = dir.join(EVIDENCE_DIR);
        if target.exists() {
            let when = previous_time(&target).unwrap_or(now).format("%Y%m%dT%H%M%SZ").to_string();
            let mut old = dir.join(format!("{EVIDENCE_DIR}-{when}"));
            let mut n = 2;
            while old.exists() {
                old = dir.join(format!("{EVIDENCE_DIR}-{when}-{n}"));
                n += 1;
            }
            std::fs::rename(&target, &old)
                .map_err(|e| HistoryError::write(&target, "cannot keep the earlier pack", e))?;
        }
        std::fs::rename(&tmp, &target).map_err(|e| HistoryError::write(&target, "cannot write", e))
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e);
    }
    Ok((dir.join(EVIDENCE_DIR), digest))
}

fn previous_time(pack: &Path) -> Option<DateTime<Utc>> {
    let text = std::fs::read_to_string(pack.join(super::close::CLOSURE_JSON)).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v["closed_at"].as_str()?.parse().ok()
}

#[derive(Debug, Clone, Serialize)]
pub struct Verified {
    pub dir: PathBuf,
    pub ok: bool,
    /// Files listed in SHA256SUMS.
    pub files: usize,
    /// SHA-256 of SHA256SUMS.
    pub digest: String,
    pub problems: Vec<String>,
}

fn list_files(root: &Path, rel: &Path, out: &mut Vec<String>, problems: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(root.join(rel)) else { return };
    for e in entries.flatten() {
        let r = rel.join(e.file_name());
        match e.file_type() {
            Ok(t) if t.is_dir() => list_files(root, &r, out, problems),
            Ok(t) if t.is_file() => out.push(r.to_string_lossy().replace('\\', "/")),
            _ => problems.push(format!("{}: not a regular file", r.display())),
        }
    }
}

/// Check the evidence pack in `dir` (a campaign folder, or the pack itself): every file listed
/// in SHA256SUMS has its SHA-256, nothing is missing or added, the required members are there,
/// and the reviewed snapshot's manifest is the one the campaign recorded. With `digest`, also
/// that SHA256SUMS is the one recorded at closing.
pub fn verify(dir: &Path, digest: Option<&str>) -> Result<Verified, HistoryError> {
    let pack = if dir.join(SUMS).is_file() { dir.to_owned() } else { dir.join(EVIDENCE_DIR) };
    let sums_path = pack.join(SUMS);
    let sums = std::fs::read(&sums_path).map_err(|e| {
        HistoryError::input(
            sums_path.display().to_string(),
            None,
            format!("cannot read: {e}. Pass a campaign closed by `hkaudit review close`, or its evidence folder"),
        )
    })?;
    let mut v = Verified { dir: pack.clone(), ok: false, files: 0, digest: sha256_hex(&sums), problems: Vec::new() };
    if let Some(want) = digest {
        if !want.trim().eq_ignore_ascii_case(&v.digest) {
            v.problems.push(format!("{SUMS} has SHA-256 {}, not the {} recorded at closing", v.digest, want.trim()));
        }
    }
    let text = String::from_utf8_lossy(&sums);
    let mut listed = BTreeSet::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let Some((hash, name)) = line.split_once(' ') else {
            v.problems.push(format!("{SUMS}:{}: not `<sha256>  <file>`", n + 1));
            continue;
        };
        let name = name.trim_start_matches([' ', '*']);
        let climbs = Path::new(name).components().any(|c| !matches!(c, Component::Normal(_)));
        if hash.len() != 64 || !hash.chars().all(|c| c.is_ascii_hexdigit()) || name.is_empty() || climbs {
            v.problems.push(format!("{SUMS}:{}: not `<sha256>  <file>` inside the pack", n + 1));
            continue;
        }
        listed.insert(name.to_owned());
        v.files += 1;
        match std::fs::read(pack.join(name)) {
            Ok(bytes) if sha256_hex(&bytes).eq_ignore_ascii_case(hash) => {}
            Ok(_) => v.problems.push(format!("{name}: changed since the pack was made (its SHA-256 differs)")),
            Err(_) => v.problems.push(format!("{name}: missing")),
        }
    }
    let mut present = Vec::new();
    list_files(&pack, Path::new(""), &mut present, &mut v.problems);
    for f in present {
        if f != SUMS && !listed.contains(&f) {
            v.problems.push(format!("{f}: not listed in {SUMS} (added after the pack was made)"));
        }
    }
    for required in [CAMPAIGN_JSON, "closure.md", "closure.csv", super::close::CLOSURE_JSON, VERSION_FILE] {
        if !listed.contains(required) {
            v.problems.push(format!("{required}: not in the pack"));
        }
    }
    let review: Vec<&String> = listed.iter().filter(|f| f.starts_with(&format!("{MANIFESTS}/review-"))).collect();
    let closing: Vec<&String> = listed.iter().filter(|f| f.starts_with(&format!("{MANIFESTS}/close-"))).collect();
    if review.len() != 1 || closing.len() != 1 {
        v.problems.push("the pack must hold exactly one reviewed and one closing snapshot manifest".into());
    }
    if let (Some(r), true) = (review.first(), listed.contains(CAMPAIGN_JSON)) {
        if let (Ok(c), Ok(m)) = (Campaign::load(&pack), std::fs::read(pack.join(r))) {
            if sha256_hex(&m) != c.snapshot.manifest_sha256 {
                v.problems.push(format!(
                    "{r}: not the manifest campaign {} recorded when it started (SHA-256 {})",
                    c.id, c.snapshot.manifest_sha256
                ));
            }
        }
    }
    v.ok = v.problems.is_empty();
    Ok(v)
}
