//! `hkaudit analyze`: run the audit rules over a snapshot.
use std::path::PathBuf;

use hkaudit::analyze::{analyze_snapshot, AnalyzeOptions, FindingSet, RuleStatus, Severity};

use super::{code, Outcome};

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// A snapshot folder, or `snapshots/latest`.
    pub snapshot: PathBuf,

    #[command(flatten)]
    pub inputs: Inputs,

    /// Write findings.json and findings.parquet here instead of into the snapshot folder.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    /// Print the findings summary as JSON.
    #[arg(long)]
    pub json: bool,
}

/// What `analyze` reads besides the snapshot, and its exit policy: shared with `run`.
#[derive(Debug, Clone, clap::Args)]
pub struct Inputs {
    /// Identity-provider user export (Okta users report, Entra ID "Download users", Google
    /// Workspace users CSV); the format is detected from its header. Repeatable.
    #[arg(long, value_name = "FILE")]
    pub idp: Vec<PathBuf>,

    /// A user's `heroku authorizations --json` output (one file per user). Repeatable.
    #[arg(long, value_name = "FILE")]
    pub authorizations: Vec<PathBuf>,

    /// hkaudit.toml: domains, thresholds, seat price, service accounts, per-rule settings.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Run the rules in this folder instead of the built-in ones.
    #[arg(long, value_name = "DIR")]
    pub queries: Option<PathBuf>,

    /// Exit with the highest severity's code when a finding is at or above this severity.
    #[arg(long, value_name = "SEVERITY", default_value = "info", value_parser = parse_severity)]
    pub fail_on: Severity,
}

pub const EXIT_CODES: &str = "\
Exit codes:
  0    no finding at or above --fail-on, and the snapshot was complete
  2    error: a bad input file, snapshot or rule file (nothing was written), or a rule's query
       failed (findings were written; the summary names the rule)
  3    no finding at or above --fail-on, but the snapshot or a rule was incomplete
  10   highest finding at or above --fail-on is info
  11   ... low
  12   ... medium
  13   ... high
  14   ... critical";

fn parse_severity(s: &str) -> Result<Severity, String> {
    s.parse()
}

impl Inputs {
    pub fn options(&self, snapshot: PathBuf, out: Option<PathBuf>) -> AnalyzeOptions {
        AnalyzeOptions {
            snapshot,
            idp: self.idp.clone(),
            authorizations: self.authorizations.clone(),
            config: self.config.clone(),
            queries: self.queries.clone(),
            out,
        }
    }
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let analyzed = analyze_snapshot(&args.inputs.options(args.snapshot.clone(), args.out.clone()))?;
    if args.json {
        super::print_line(&serde_json::to_string(&summary_json(&analyzed.findings, &analyzed.out_dir))?)?;
    } else {
        for line in summary_lines(&analyzed.findings) {
            super::print_line(&line)?;
        }
        super::print_line(&format!(
            "findings written to {}",
            analyzed.out_dir.join(hkaudit::analyze::FINDINGS_JSON).display()
        ))?;
    }
    Ok(Outcome(exit_code(&analyzed.findings, args.inputs.fail_on)))
}

pub fn exit_code(set: &FindingSet, fail_on: Severity) -> u8 {
    // A rule that failed is a broken rule file, not a clean result.
    if set.rules.iter().any(|r| r.status == RuleStatus::Error) {
        return code::ERROR;
    }
    match set.highest_severity().filter(|s| *s >= fail_on) {
        Some(s) => s.exit_code(),
        None if !set.complete => code::INCOMPLETE,
        None => code::OK,
    }
}

fn summary_json(set: &FindingSet, out: &std::path::Path) -> serde_json::Value {
    serde_json::json!({
        "snapshot_id": set.snapshot_id,
        "complete": set.complete,
        "findings": set.findings.len(),
        "by_severity": set.count_by_severity().into_iter().map(|(k, v)| (k.as_str().to_owned(), v)).collect::<std::collections::BTreeMap<_, _>>(),
        "rules": set.rules,
        "out": out,
    })
}

/// What a rule could not judge, by name: `not read: team acme-payments; 2FA unknown for 3
/// members of team acme-web`, or why it did not run at all.
fn not_judged(r: &hkaudit::analyze::RuleResult) -> String {
    let mut parts = Vec::new();
    let places: Vec<String> = r.skipped.iter().filter(|s| s.scope != "all").map(|s| s.label()).collect();
    if !places.is_empty() {
        parts.push(format!("not read: {}", places.join(", ")));
    }
    parts.extend(r.skipped.iter().filter(|s| s.scope == "all").map(|s| s.reason.clone()));
    parts.extend(r.unknown.iter().map(|u| u.line()));
    parts.join("; ")
}

/// One screen: completeness first, then counts by severity, then one line per rule.
pub fn summary_lines(set: &FindingSet) -> Vec<String> {
    let mut lines = Vec::new();
    if !set.complete {
        lines.push(
            "INCOMPLETE: some data was not read or a rule could not run; findings below are a lower bound.".to_owned(),
        );
    }
    let counts = set.count_by_severity();
    let by_sev: Vec<String> =
        Severity::ALL.iter().rev().map(|s| format!("{} {}", counts.get(s).copied().unwrap_or(0), s)).collect();
    lines.push(format!("snapshot {}: {} findings ({})", set.snapshot_id, set.findings.len(), by_sev.join(", ")));
    for r in &set.rules {
        let status = match r.status {
            RuleStatus::Ok => String::new(),
            RuleStatus::Partial => format!("  [partial: {}]", not_judged(r)),
            RuleStatus::Skipped => format!("  [skipped: {}]", not_judged(r)),
            RuleStatus::Disabled => "  [disabled]".to_owned(),
            RuleStatus::Error => format!("  [error: {}]", r.error.as_deref().unwrap_or("")),
        };
        let ignored = if r.ignored > 0 { format!(" ({} ignored)", r.ignored) } else { String::new() };
        lines.push(format!("  {:<8} {:<34} {:>4}{ignored}{status}", r.severity.as_str(), r.rule_id, r.findings));
    }
    lines
}
