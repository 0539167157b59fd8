//! `extract`: read everything the audit needs from the Platform API and write one snapshot.
//!
//! The crawl ([`crawl`]) decides what to read and records every read that failed for good as a
//! gap; [`tables`] turns what was read into typed tables; the snapshot writer makes the result
//! appear atomically. A 401 ends the run; any other failure becomes a gap and the manifest says
//! `complete: false`.
mod crawl;
pub mod tables;

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

pub use crawl::{window, Window, LISTING as PROGRESS_LISTING};

use crate::heroku::{ApiError, Client};
use crate::snapshot::{ActivityWindow, Manifest, SnapshotError, SnapshotWriter, FORMAT_VERSION};

#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error(transparent)]
    Snapshot(#[from] SnapshotError),
}

#[derive(Debug, Clone)]
pub struct ExtractOptions {
    /// Folder that holds snapshots (`snapshots` by default); the snapshot goes in `<out>/<id>/`.
    pub out_dir: PathBuf,
    pub activity_days: u32,
    /// The instant the activity window ends at. `None`: the API's own clock (the `Date` of its
    /// first answer), else the local clock.
    pub as_of: Option<DateTime<Utc>>,
    /// The snapshot id; by default the UTC time of the run, which sorts.
    pub snapshot_id: Option<String>,
    pub progress: indicatif::ProgressBar,
}

impl ExtractOptions {
    pub fn new(out_dir: impl Into<PathBuf>) -> Self {
        ExtractOptions {
            out_dir: out_dir.into(),
            activity_days: 180,
            as_of: None,
            snapshot_id: None,
            progress: indicatif::ProgressBar::hidden(),
        }
    }
}

#[derive(Debug)]
pub struct Extracted {
    pub path: PathBuf,
    pub manifest: Manifest,
    /// What was read, for the one-line summary at the end of a run.
    pub counts: Counts,
}

/// Sizes of what a crawl read, beside the manifest's row counts (which count memberships, not
/// people).
#[derive(Debug, Clone, Default)]
pub struct Counts {
    pub teams: usize,
    /// Distinct people (by email) in any team's member list.
    pub members: usize,
    pub apps: usize,
    pub elapsed: std::time::Duration,
}

/// A sortable id from the wall clock, made unique within `out_dir`.
pub fn new_snapshot_id(out_dir: &Path, now: DateTime<Utc>) -> String {
    let base = now.format("%Y%m%dT%H%M%SZ").to_string();
    let mut id = base.clone();
    let mut n = 1;
    while out_dir.join(&id).exists() {
        n += 1;
        id = format!("{base}-{n}");
    }
    id
}

pub async fn extract(client: &Client, opts: &ExtractOptions) -> Result<Extracted, ExtractError> {
    let started = std::time::Instant::now();
    let crawl = crawl::crawl(client, opts.as_of, opts.activity_days, opts.progress.clone()).await?;
    let win = crawl.window;

    let id = opts.snapshot_id.clone().unwrap_or_else(|| new_snapshot_id(&opts.out_dir, Utc::now()));
    let mut writer = SnapshotWriter::begin(&opts.out_dir, &id)?;
    let built = tables::build(&crawl)?;
    crawl::phase(&opts.progress, "writing snapshot", built.len() as u64);
    for (name, mut df) in built {
        opts.progress.set_message(name.to_string());
        writer.write_table(name, &mut df)?;
        opts.progress.inc(1);
    }
    let members: std::collections::BTreeSet<String> =
        crawl.team_members.iter().filter_map(|(_, m)| m.email().map(|e| e.to_lowercase())).collect();
    let counts = Counts {
        teams: crawl.teams.len(),
        members: members.len(),
        apps: crawl.apps.len(),
        elapsed: std::time::Duration::ZERO,
    };
    let mut gaps = crawl.gaps;
    gaps.sort_by(|a, b| (&a.endpoint, &a.path).cmp(&(&b.endpoint, &b.path)));
    let manifest = Manifest {
        format_version: FORMAT_VERSION,
        snapshot_id: id,
        taken_at: Utc::now(),
        as_of: win.until,
        api_url: client.base_url().as_str().trim_end_matches('/').to_owned(),
        account_email: crawl.account.as_ref().map(|a| a.email.clone()),
        hkaudit_version: env!("CARGO_PKG_VERSION").to_owned(),
        activity_window: ActivityWindow { days: opts.activity_days, since: win.since, until: win.until },
        complete: gaps.is_empty(),
        tables: writer.tables().clone(),
        endpoints: client.stats(),
        rate_limit: Some(client.budget()),
        gaps,
    };
    let path = writer.finish(&manifest)?;
    opts.progress.finish_and_clear();
    Ok(Extracted { path, manifest, counts: Counts { elapsed: started.elapsed(), ..counts } })
}
