//! `hkaudit report`: cost, risk and access-certification reports for a snapshot.
use std::collections::BTreeSet;
use std::path::PathBuf;

use anyhow::Context;
use hkaudit::report::{self, Format, Rendered, ReportOptions};

use super::Outcome;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// A snapshot folder (with findings from `hkaudit analyze`), or `snapshots/latest`.
    pub snapshot: PathBuf,

    /// Where to write the reports [default: SNAPSHOT/report].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    /// Formats to write, comma-separated: html (index.html), md (cost.md, risk.md),
    /// csv (certification.csv, findings.csv), json (summary.json).
    #[arg(long, value_name = "LIST", default_value = "html,md,csv,json")]
    pub format: String,

    /// hkaudit.toml, for the seat price, the per-team minimum and Enterprise pricing.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Folder holding findings.json, when `analyze --out` put it elsewhere [default: SNAPSHOT].
    #[arg(long, value_name = "DIR")]
    pub findings: Option<PathBuf>,

    /// Add trends across every snapshot in this folder (e.g. `snapshots`).
    #[arg(long, value_name = "DIR")]
    pub history: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let rendered = execute(&args)?;
    for f in &rendered.files {
        tracing::info!(file = %f.display(), "written");
    }
    let last = rendered.index.clone().or_else(|| rendered.files.last().cloned()).context("no report was written")?;
    super::print_line(&last.display().to_string())?;
    Ok(Outcome(super::code::OK))
}

/// The config, validated as `analyze` validates it (rule ids against the built-in rules), though
/// only prices are used here.
pub fn load_config(path: Option<&std::path::Path>) -> anyhow::Result<hkaudit::analyze::Config> {
    let rule_ids: Vec<String> = hkaudit::analyze::builtin_rules()?.into_iter().map(|r| r.id).collect();
    let ids: Vec<&str> = rule_ids.iter().map(String::as_str).collect();
    Ok(hkaudit::analyze::load_config(path, &ids)?)
}

pub fn execute(args: &Args) -> anyhow::Result<Rendered> {
    let formats: BTreeSet<Format> =
        args.format.split(',').filter(|s| !s.trim().is_empty()).map(str::parse).collect::<Result<_, _>>()?;
    if formats.is_empty() {
        anyhow::bail!("--format is empty: name at least one of html, md, csv, json");
    }
    let config = load_config(args.config.as_deref())?;
    let mut model = report::load_model(&args.snapshot, args.findings.as_deref(), &config)?;
    if let Some(dir) = &args.history {
        model.trends = Some(report::trends::TrendsView::new(report::trends::load_trends(dir, &config)?));
    }
    let out = args.out.clone().unwrap_or_else(|| args.snapshot.join("report"));
    Ok(report::render(&model, &ReportOptions { out_dir: out, formats })?)
}
