//! `hkaudit analyze`: run the audit rules over a snapshot.
use std::path::PathBuf;

use hkaudit::analyze::{analyze_snapshot, AnalyzeOptions, FindingSet, IdpFormatOverride, RuleStatus, Severity};

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

    /// Replace findings.json even when it was made with inputs (--idp, --authorizations files)
    /// this run is not given; without it, such a run stops and names what is missing.
    #[arg(long)]
    pub force: bool,
}

/// What `analyze` reads besides the snapshot, and its exit policy: shared with `run`.
#[derive(Debug, Clone, clap::Args)]
pub struct Inputs {
    /// Identity-provider user export (Okta reports, /api/v1/users JSON or CSV, rockstar export;
    /// Entra ID "Download users", Get-MgUser | Export-Csv or ConvertTo-Json; Google Workspace users
    /// download, GAM print users); the format is detected from its header. Repeatable.
    #[arg(long, value_name = "FILE")]
    pub idp: Vec<PathBuf>,

    /// The format of --idp files whose header is ambiguous: NAME for every --idp file, or
    /// FILE=NAME for one. Names: okta-password-health, okta-user-accounts, okta-rockstar,
    /// okta-api-csv, okta-api-json, entra-download, entra-powershell, entra-json,
    /// google-download, google-gam. Repeatable.
    #[arg(long, value_name = "[FILE=]NAME", value_parser = parse_idp_format)]
    pub idp_format: Vec<IdpFormatOverride>,

    /// Identity-provider sign-in log: Okta System Log (/api/v1/logs JSON or NDJSON, Admin console
    /// CSV), Entra ID sign-ins (portal Download CSV or JSON, Get-MgAuditLogSignIn | Export-Csv) or
    /// Google Workspace SAML log (Admin console CSV, Reports API JSON); the format is detected from
    /// its content. Its successful sign-ins to Heroku count as use for inactive-seat. Repeatable.
    #[arg(long, value_name = "FILE")]
    pub signins: Vec<PathBuf>,

    /// The name of the Heroku application in the --signins logs (compared ignoring case); replaces
    /// the default names Heroku, Heroku Enterprise, Heroku SSO, Heroku (SAML). Repeatable.
    #[arg(long, value_name = "NAME")]
    pub signin_app: Vec<String>,

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

fn parse_idp_format(s: &str) -> Result<IdpFormatOverride, String> {
    s.parse()
}

impl Inputs {
    pub fn options(&self, snapshot: PathBuf, out: Option<PathBuf>) -> AnalyzeOptions {
        AnalyzeOptions {
            snapshot,
            idp: self.idp.clone(),
            idp_formats: self.idp_format.clone(),
            authorizations: self.authorizations.clone(),
            signins: self.signins.clone(),
            signin_apps: self.signin_app.clone(),
            config: self.config.clone(),
            queries: self.queries.clone(),
            out,
            force: false,
        }
    }
}

/// `show_all` (`-v`) lists the rules that found nothing too.
pub fn run(args: Args, show_all: bool) -> anyhow::Result<Outcome> {
    let mut opts = args.inputs.options(args.snapshot.clone(), args.out.clone());
    opts.force = args.force;
    let analyzed = analyze_snapshot(&opts)?;
    warn_about_inputs(&analyzed.findings);
    if args.json {
        super::print_line(&serde_json::to_string(&summary_json(&analyzed.findings, &analyzed.out_dir))?)?;
    } else {
        print_summary(&analyzed.findings, show_all)?;
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
        "inputs": set.inputs,
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

/// On stderr, one line per IdP file or sign-in log with unreadable optional values: `N warnings in okta.csv,
/// first at line 45: …` (the whole list is in findings.json's `inputs`).
pub fn warn_about_inputs(set: &FindingSet) {
    for line in warning_lines(set) {
        super::term::warning(&line);
    }
}

pub fn warning_lines(set: &FindingSet) -> Vec<String> {
    set.inputs
        .iter()
        .filter_map(|i| {
            let (warnings, list) = match (&i.idp, &i.signins) {
                (Some(idp), _) => (idp.warnings, &idp.warning_list),
                (None, Some(log)) => (log.warnings, &log.warning_list),
                (None, None) => return None,
            };
            let first = list.first()?;
            let file = i
                .file
                .as_deref()
                .and_then(|f| std::path::Path::new(f).file_name())
                .map_or_else(|| i.name.clone(), |n| n.to_string_lossy().into_owned());
            let at = first.line.map(|l| format!(" at line {l}")).unwrap_or_default();
            let column = first.column.as_ref().map(|c| format!("column `{c}`: ")).unwrap_or_default();
            let plural = if warnings == 1 { "" } else { "s" };
            Some(format!(
                "{} warning{plural} in {file}, first{at}: {column}{} (all of them are in findings.json's inputs)",
                warnings, first.message
            ))
        })
        .collect()
}

/// One line per IdP export: what was read, so a reviewer sees the check ran on the file they meant.
pub fn input_lines(set: &FindingSet) -> Vec<String> {
    set.inputs
        .iter()
        .filter_map(|i| {
            let s = i.idp.as_ref()?;
            let mut parts = vec![format!("{} users", s.users)];
            parts.push(format!(
                "switched off {} ({} suspended, {} deprovisioned)",
                s.switched_off(),
                s.suspended,
                s.deprovisioned
            ));
            if s.guests > 0 {
                parts.push(format!("{} guest{}", s.guests, if s.guests == 1 { "" } else { "s" }));
            }
            match s.non_email_logins {
                0 => {}
                1 => parts.push("1 login that is not an email".to_owned()),
                n => parts.push(format!("{n} logins that are not emails")),
            }
            let from = if s.domains_from == "idp_domains" { "from idp_domains" } else { "derived from its members" };
            let domains = if s.domains.is_empty() { "none".to_owned() } else { s.domains.join(", ") };
            parts.push(format!("covers {domains} ({from})"));
            if s.warnings > 0 {
                parts.push(format!("{} warning{}", s.warnings, if s.warnings == 1 { "" } else { "s" }));
            }
            let given = if s.format_given { ", as --idp-format says" } else { "" };
            Some(format!(
                "  idp {}: {}{given} ({}, {}): {}",
                i.name,
                s.format_name,
                s.encoding.as_str(),
                if s.delimiter == "json" { "JSON".to_owned() } else { format!("'{}'", s.delimiter) },
                parts.join(", ")
            ))
        })
        .collect()
}

/// Print [`summary_lines`] to stdout, in colour where stdout takes it.
pub fn print_summary(set: &FindingSet, show_all: bool) -> anyhow::Result<()> {
    for line in summary_lines(set, show_all) {
        super::term::print_styled(&line)?;
    }
    Ok(())
}

/// One line per sign-in log: the period it covers, the Heroku applications kept and what was
/// left out, so a reviewer sees whether it can speak for the whole `inactive_days` period.
pub fn signin_lines(set: &FindingSet) -> Vec<String> {
    let day = |t: Option<chrono::DateTime<chrono::Utc>>| {
        t.map_or_else(|| "?".to_owned(), |t| t.format("%Y-%m-%d").to_string())
    };
    set.inputs
        .iter()
        .filter_map(|i| {
            let c = i.signins.as_ref()?;
            let apps = if c.apps.is_empty() { "no Heroku application found".to_owned() } else { c.apps.join(", ") };
            let mut line = format!(
                "  signins {}: {} ({}): {} to {} ({} days), {} Heroku sign-ins ({apps}), {} other rows ignored",
                i.name,
                c.format,
                c.encoding.as_str(),
                day(c.first),
                day(c.last),
                c.span_days(),
                c.rows,
                c.other_rows,
            );
            if c.warnings > 0 {
                line.push_str(&format!(", {} warning{}", c.warnings, if c.warnings == 1 { "" } else { "s" }));
            }
            Some(line)
        })
        .collect()
}

/// One screen: completeness first, then counts by severity, then what each IdP file held, then
/// one line per rule, the most severe and most frequent first. A rule that ran fully and found
/// nothing is left out unless `show_all`; one that could not judge everything never is. The
/// lines carry colour codes: print them through [`super::term::print_styled`].
pub fn summary_lines(set: &FindingSet, show_all: bool) -> Vec<String> {
    use super::term::{dim, paint, severity_style};
    let mut lines = Vec::new();
    if !set.complete {
        lines.push(paint(
            anstyle::AnsiColor::Yellow.on_default().bold(),
            "INCOMPLETE: some data was not read or a rule could not run; findings below are a lower bound.",
        ));
    }
    let counts = set.count_by_severity();
    let by_sev: Vec<String> = Severity::ALL
        .iter()
        .rev()
        .map(|s| {
            let n = counts.get(s).copied().unwrap_or(0);
            let text = format!("{n} {s}");
            if n == 0 {
                dim(&text)
            } else {
                paint(severity_style(*s), &text)
            }
        })
        .collect();
    lines.push(format!("snapshot {}: {} findings ({})", set.snapshot_id, set.findings.len(), by_sev.join(", ")));
    lines.extend(input_lines(set));
    lines.extend(signin_lines(set));
    let mut rules: Vec<&hkaudit::analyze::RuleResult> = set.rules.iter().collect();
    rules.sort_by(|a, b| b.severity.cmp(&a.severity).then(b.findings.cmp(&a.findings)).then(a.rule_id.cmp(&b.rule_id)));
    let quiet =
        |r: &hkaudit::analyze::RuleResult| r.findings == 0 && matches!(r.status, RuleStatus::Ok | RuleStatus::Disabled);
    let hidden = rules.iter().filter(|r| quiet(r)).count();
    for r in rules.into_iter().filter(|r| show_all || !quiet(r)) {
        let status = match r.status {
            RuleStatus::Ok => String::new(),
            RuleStatus::Partial => format!("  [partial: {}]", not_judged(r)),
            RuleStatus::Skipped => format!("  [skipped: {}]", not_judged(r)),
            RuleStatus::Disabled => "  [disabled]".to_owned(),
            RuleStatus::Error => format!("  [error: {}]", r.error.as_deref().unwrap_or("")),
        };
        let ignored = if r.ignored > 0 { format!(" ({} ignored)", r.ignored) } else { String::new() };
        // Padded before painting: escape codes would count as width.
        let severity = format!("{:<8}", r.severity.as_str());
        let severity = if r.findings == 0 { dim(&severity) } else { paint(severity_style(r.severity), &severity) };
        lines.push(format!("  {severity} {:<34} {:>4}{ignored}{status}", r.rule_id, r.findings));
    }
    if hidden > 0 {
        let plural = if hidden == 1 { "" } else { "s" };
        lines.push(dim(&format!("  ({hidden} rule{plural} found nothing; -v lists them)")));
    }
    lines
}
