//! `report`: what three readers need, from a snapshot and its findings. Finance reads the cost
//! report, security reviewers the risk report, managers the access-certification worksheet.
//!
//! The [`model`] is built once; templates in `reports/` (embedded at build time) decide layout
//! only; [`render`] writes each format. Every value is escaped for its format: HTML-escaped in
//! HTML, Markdown-escaped in Markdown, CSV cells that a spreadsheet would run as a formula are
//! neutralised. Files are created readable by their owner only.
pub mod act_on;
pub mod certification;
pub mod charts;
pub mod cost;
pub mod model;
pub mod palette;
pub mod people;
mod render;
pub mod risk;
pub mod trends;

pub use certification::CertRow;
pub use cost::{CostReport, TeamCost};
pub use model::ReportModel;
pub use render::{certification_csv, render, seat_spend_rows, summary, Format, Rendered, ReportOptions};

use std::path::Path;

use crate::analyze::{read_findings, Config, IDP_DOMAINS_PARQUET, IDP_USERS_PARQUET, SIGNINS_PARQUET};
use crate::snapshot::Snapshot;

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Snapshot(#[from] crate::snapshot::SnapshotError),
    #[error(transparent)]
    Findings(#[from] crate::analyze::AnalyzeError),
    /// Findings of another snapshot, an unknown `--format`, a `--history` folder that cannot be read.
    #[error(transparent)]
    BadInput(#[from] crate::analyze::InputError),
    /// A Parquet file analyze wrote beside the findings cannot be read.
    #[error("{}", path.display())]
    Parquet {
        path: std::path::PathBuf,
        #[source]
        source: polars::prelude::PolarsError,
    },
    #[error(transparent)]
    Output(#[from] crate::output::OutputError),
    #[error(transparent)]
    Chart(#[from] charts::ChartError),
    #[error("{}: cannot write", path.display())]
    Write {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Read the snapshot and its findings (and the IdP rows analyze kept) and build the model.
pub fn load_model(
    snapshot_dir: &Path,
    findings_dir: Option<&Path>,
    config: &Config,
) -> Result<ReportModel, ReportError> {
    let snapshot = Snapshot::open(snapshot_dir)?;
    let fdir = findings_dir.map(Path::to_path_buf).unwrap_or_else(|| snapshot.dir().to_owned());
    let findings = read_findings(&fdir)?;
    if findings.snapshot_id != snapshot.manifest().snapshot_id {
        return Err(crate::analyze::InputError::new(
            &fdir,
            None,
            format!("the findings are of snapshot {}, not {}", findings.snapshot_id, snapshot.manifest().snapshot_id),
            "run `hkaudit analyze` on this snapshot",
        )
        .into());
    }
    let idp = read_idp(&fdir)?;
    let sign_ins = read_sign_ins(&fdir)?;
    model::build(&snapshot, &findings, config, idp, sign_ins)
}

fn read_parquet(p: &Path) -> Result<polars::prelude::DataFrame, ReportError> {
    use polars::prelude::*;
    let parquet = |source| ReportError::Parquet { path: p.to_owned(), source };
    let f = std::fs::File::open(p).map_err(|e| parquet(e.into()))?;
    ParquetReader::new(f).finish().map_err(parquet)
}

/// The successful Heroku sign-ins analyze kept (`signins.parquet`): (email, when, identity
/// provider). None without `--signins` logs.
fn read_sign_ins(dir: &Path) -> Result<Vec<(String, chrono::DateTime<chrono::Utc>, String)>, ReportError> {
    let path = dir.join(SIGNINS_PARQUET);
    if !path.exists() {
        return Ok(Vec::new());
    }
    let s = crate::snapshot::rows::Rows::new("signins", read_parquet(&path)?);
    let rows =
        s.string("email_norm")?.into_iter().zip(s.time("at")?).zip(s.string("source")?).zip(s.string("outcome")?);
    Ok(rows
        .filter(|(_, outcome)| outcome == "success")
        .filter_map(|(((email, at), source), _)| {
            // `okta-signins:<file>`: the vendor is what the evidence names (`sso sign-in via okta`).
            let idp = source.split_once("-signins:").map_or(source.as_str(), |(v, _)| v).to_owned();
            Some((email, at?, idp))
        })
        .collect())
}

fn read_idp(dir: &Path) -> Result<Option<people::IdpView>, ReportError> {
    let users = dir.join(IDP_USERS_PARQUET);
    if !users.exists() {
        return Ok(None);
    }
    let read = read_parquet;
    let u = crate::snapshot::rows::Rows::new("idp_users", read(&users)?);
    let mut status: std::collections::BTreeMap<String, String> = Default::default();
    let mut listed: std::collections::BTreeMap<String, std::collections::BTreeSet<String>> = Default::default();
    for (e, source) in u.string("email_norm")?.into_iter().zip(u.string("source")?) {
        listed.entry(source).or_default().insert(e);
    }
    for (e, s) in u.string("email_norm")?.into_iter().zip(u.string("status")?) {
        // Across several exports, the most severe status is the one a reviewer must see.
        let keep = status.get(&e).is_none_or(|old| people::idp_rank(&s) > people::idp_rank(old));
        if keep {
            status.insert(e, s);
        }
    }
    let domains_path = dir.join(IDP_DOMAINS_PARQUET);
    let mut covers: std::collections::BTreeMap<String, std::collections::BTreeSet<String>> = Default::default();
    if domains_path.exists() {
        let d = crate::snapshot::rows::Rows::new("idp_domains", read(&domains_path)?);
        for (domain, source) in d.string("domain")?.into_iter().zip(d.string("source")?) {
            covers.entry(source).or_default().insert(domain);
        }
    }
    let domains = covers.values().flatten().cloned().collect();
    Ok(Some(people::IdpView { status, domains, listed, covers }))
}
