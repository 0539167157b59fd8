//! `analyze`: turn a snapshot (plus identity-provider and authorization exports) into findings.
//!
//! Rules are SQL files ([`rule`]); the engine ([`engine`]) registers every snapshot table once
//! under its name, runs each rule with polars, and applies the manifest's gaps so that a rule
//! whose data was not read reports `skipped`/`partial` instead of passing or firing. Inputs that
//! do not come from the snapshot: [`idp`] (identity-provider exports), [`tokens`] (`heroku
//! authorizations --json` exports) and [`config`] (`hkaudit.toml`), with the error type they share
//! in [`inputs`].
pub mod config;
pub mod cost;
pub mod engine;
pub mod finding;
mod findings_json;
pub mod idp;
pub mod inputs;
pub mod remedy;
pub mod rule;
pub mod signins;
pub mod tokens;
mod write;

pub use config::{load_config, money, Config};
pub use engine::{run, Inputs};
pub use finding::{
    Certify, Confidence, Finding, FindingSet, Fix, RuleResult, RuleStatus, SavingReason, Severity, SkippedScope,
    Subject, UnknownValues,
};
pub use findings_json::input_record;
pub use idp::{IdpFormat, IdpFormatOverride};
pub use inputs::{IdpInputSummary, InputError, InputRecord, InputWarning, TextEncoding};
pub use rule::{builtin_rules, load_rules, Rule};
pub use write::{
    read_findings, write_findings, FINDINGS_JSON, FINDINGS_PARQUET, IDP_DOMAINS_PARQUET, IDP_USERS_PARQUET,
    SIGNINS_PARQUET,
};

use crate::snapshot::SnapshotError;

#[derive(Debug, thiserror::Error)]
pub enum AnalyzeError {
    /// A query over the registered tables failed.
    #[error("{table}: the query failed")]
    Query {
        table: String,
        #[source]
        source: polars::prelude::PolarsError,
    },

    #[error(transparent)]
    Snapshot(#[from] SnapshotError),

    /// A rule file, a rules folder, findings.json or an input file is not what it must be.
    #[error(transparent)]
    BadInput(#[from] InputError),

    #[error("{}: cannot write findings", path.display())]
    Output {
        path: std::path::PathBuf,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl AnalyzeError {
    pub(crate) fn query(table: &str, source: polars::prelude::PolarsError) -> Self {
        AnalyzeError::Query { table: table.to_owned(), source }
    }

    pub(crate) fn output(path: &std::path::Path, source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        AnalyzeError::Output { path: path.to_owned(), source: source.into() }
    }
}

/// What `hkaudit analyze` is given.
#[derive(Debug, Clone, Default)]
pub struct AnalyzeOptions {
    /// A snapshot folder, or an output folder's `latest`.
    pub snapshot: std::path::PathBuf,
    pub idp: Vec<std::path::PathBuf>,
    /// `--idp-format`: the format of IdP files whose header is ambiguous.
    pub idp_formats: Vec<IdpFormatOverride>,
    pub authorizations: Vec<std::path::PathBuf>,
    /// `--signins`: identity-provider sign-in logs.
    pub signins: Vec<std::path::PathBuf>,
    /// `--signin-app`: the application names taken for Heroku in them (else [`signins::DEFAULT_APPS`]).
    pub signin_apps: Vec<String>,
    pub config: Option<std::path::PathBuf>,
    /// Rules folder instead of the built-in rules.
    pub queries: Option<std::path::PathBuf>,
    /// Where findings go; the snapshot folder by default.
    pub out: Option<std::path::PathBuf>,
    /// Replace findings.json even when it was made with inputs this run is not given.
    pub force: bool,
}

/// Findings that rest on IdP or token evidence must not be replaced, unnoticed, by a run that
/// lacks it (its findings would silently lose every IdP-based row). An unreadable findings.json
/// protects nothing: it is replaced as before.
fn refuse_to_drop_inputs(out_dir: &std::path::Path, given: &[InputRecord]) -> Result<(), AnalyzeError> {
    let path = out_dir.join(FINDINGS_JSON);
    if !path.exists() {
        return Ok(());
    }
    let Ok(previous) = read_findings(out_dir) else {
        return Ok(());
    };
    let missing: Vec<String> = previous
        .inputs
        .iter()
        .filter(|p| !given.iter().any(|g| g.kind == p.kind && g.name == p.name))
        .map(|p| {
            let file = p.file.as_deref().unwrap_or(&p.name);
            match p.kind.as_str() {
                "idp" => format!("--idp {file}"),
                "authorizations" => format!("--authorizations {file}"),
                "signins" => format!("--signins {file}"),
                other => format!("{other} {file}"),
            }
        })
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(InputError::new(
        &path,
        None,
        format!("these findings were made with inputs this run lacks: {}", missing.join(", ")),
        "give those inputs again, or add --force to replace the findings without them (nothing was written)",
    )
    .into())
}

/// The outcome of [`analyze_snapshot`]: the findings and where they were written.
#[derive(Debug)]
pub struct Analyzed {
    pub findings: FindingSet,
    pub out_dir: std::path::PathBuf,
    pub config: Config,
}

/// Read and validate every input, run the rules, write `findings.json` and `findings.parquet`.
/// Nothing is written unless every input is valid and every rule file parses.
pub fn analyze_snapshot(opts: &AnalyzeOptions) -> Result<Analyzed, AnalyzeError> {
    let snapshot = crate::snapshot::Snapshot::open(&opts.snapshot)?;
    let rules = match &opts.queries {
        Some(dir) => load_rules(dir)?,
        None => builtin_rules()?,
    };
    let ids: Vec<&str> = rules.iter().map(|r| r.id.as_str()).collect();
    let config = load_config(opts.config.as_deref(), &ids)?;

    let mut inputs = Inputs::default();
    if !opts.idp.is_empty() {
        let exports = idp::load_idp_exports_with(&opts.idp, config.idp_domains.as_deref(), &opts.idp_formats)?;
        inputs.idp_users = Some(idp::idp_users_frame(&exports)?);
        inputs.idp_domains = Some(idp::idp_domains_frame(&exports)?);
        inputs.names.extend(exports.iter().map(idp::IdpExport::input_record));
    }
    if !opts.signins.is_empty() {
        let logs = signins::load_signin_logs(&opts.signins, &opts.signin_apps)?;
        inputs.signins = Some(signins::signins_frame(&logs)?);
        inputs.signin_logs = Some(signins::signin_logs_frame(&logs)?);
        inputs.names.extend(logs.iter().map(signins::SigninLog::input_record));
    }
    if !opts.authorizations.is_empty() {
        let mut rows = Vec::new();
        for path in &opts.authorizations {
            rows.extend(tokens::load_authorization_export(path)?);
        }
        inputs.authorizations = Some(tokens::authorizations_frame(&rows)?);
        inputs.names.extend(opts.authorizations.iter().map(|p| InputRecord {
            name: format!("export:{}", p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()),
            kind: "authorizations".to_owned(),
            file: Some(p.display().to_string()),
            idp: None,
            signins: None,
        }));
    }
    // Without `org_domains`, the organisation is the audit identity's own domain.
    inputs.org_domains = match &config.org_domains {
        Some(domains) => domains.iter().map(|d| d.trim().to_lowercase()).collect(),
        None => snapshot
            .manifest()
            .account_email
            .as_deref()
            .and_then(|e| inputs::email_domain(&inputs::email_norm(e)).map(str::to_owned))
            .into_iter()
            .collect(),
    };

    let out_dir = opts.out.clone().unwrap_or_else(|| snapshot.dir().to_owned());
    if !opts.force {
        refuse_to_drop_inputs(&out_dir, &inputs.names)?;
    }
    let started = std::time::Instant::now();
    let findings = run(&snapshot, &inputs, &config, &rules)?;
    tracing::info!(elapsed = ?started.elapsed(), findings = findings.findings.len(), "rules ran");
    let started = std::time::Instant::now();
    write_findings(&findings, &out_dir)?;
    tracing::info!(elapsed = ?started.elapsed(), "findings written");
    // Stale IdP and sign-in rows from an earlier run with other exports must not outlive it.
    for (file, frame) in [
        (IDP_USERS_PARQUET, &inputs.idp_users),
        (IDP_DOMAINS_PARQUET, &inputs.idp_domains),
        (SIGNINS_PARQUET, &inputs.signins),
    ] {
        match frame {
            Some(df) => write::write_frame(&out_dir, file, &mut df.clone())?,
            None => {
                let _ = std::fs::remove_file(out_dir.join(file));
            }
        }
    }
    Ok(Analyzed { findings, out_dir, config })
}
