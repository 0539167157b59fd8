//! `hkaudit review start|status|close|verify`: the quarterly access review as a campaign, a
//! workbook per reviewer, progress, and a closure with an evidence pack.
use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::{NaiveDate, Utc};
use hkaudit::history::review::{self, CloseOptions, Outcome as CloseOutcome, ReviewInput, StartOptions, Status};
use hkaudit::report::CertRow;

use super::Outcome;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Start a campaign over an analyzed snapshot: assign every grant to one reviewer and write
    /// each reviewer a workbook (.xlsx and .csv) into a new campaign folder.
    Start(StartArgs),
    /// Read the workbooks that came back (DIR/returned/) and say, per reviewer and team, how many
    /// rows are decided, undecided or invalid, and whether the campaign is overdue.
    #[command(after_help = STATUS_EXIT_CODES)]
    Status(StatusArgs),
    /// Check the decisions against a newer snapshot and write closure.md, closure.csv and the
    /// evidence pack (DIR/evidence/). Refused while rows are undecided, unless --accept-undecided.
    #[command(after_help = CLOSE_EXIT_CODES)]
    Close(CloseArgs),
    /// Check a closed campaign's evidence pack: every file has the SHA-256 its SHA256SUMS lists.
    #[command(after_help = VERIFY_EXIT_CODES)]
    Verify(VerifyArgs),
}

#[derive(Debug, clap::Args)]
pub struct StartArgs {
    /// An analyzed snapshot folder (`hkaudit analyze` ran on it), or `snapshots/latest`.
    pub snapshot: PathBuf,
    /// Reviewers per team, app or Enterprise Account, overriding the defaults: a CSV with
    /// columns scope,name,reviewer (scope: team, app, enterprise-account), or a TOML file with
    /// tables [team], [app], [enterprise-account] mapping names to an email or a list of emails.
    #[arg(long, value_name = "FILE")]
    pub reviewers: Option<PathBuf>,
    /// The due date, YYYY-MM-DD [default: 30 days from today].
    #[arg(long, value_name = "DATE")]
    pub due: Option<NaiveDate>,
    /// The campaign folder to create [default: SNAPSHOTS/campaigns/<campaign id>, beside the snapshot].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// hkaudit.toml: `[review] fallback_reviewer`, service accounts (who never review), seat price.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Folder holding findings.json, when `analyze --out` put it elsewhere [default: SNAPSHOT].
    #[arg(long, value_name = "DIR")]
    pub findings: Option<PathBuf>,
    /// Print campaign.json instead of the summary.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    /// The campaign folder (holds campaign.json).
    pub dir: PathBuf,
    /// Print the status as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct CloseArgs {
    /// The campaign folder (holds campaign.json).
    pub dir: PathBuf,
    /// The newer snapshot to check the decisions against (e.g. `snapshots/latest`).
    #[arg(long, value_name = "DIR")]
    pub snapshot: PathBuf,
    /// The reviewed snapshot [default: where the campaign found it, else its id beside --snapshot].
    #[arg(long, value_name = "DIR")]
    pub original: Option<PathBuf>,
    /// Close even though rows are undecided, recording NAME as who accepted that.
    #[arg(long, value_name = "NAME")]
    pub accept_undecided: Option<String>,
    /// Print the closure as JSON instead of the summary.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// The campaign folder, or its evidence folder.
    pub dir: PathBuf,
    /// The SHA-256 of SHA256SUMS that `review close` printed, to check the pack against.
    #[arg(long, value_name = "HEX")]
    pub digest: Option<String>,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

pub const STATUS_EXIT_CODES: &str = "\
Exit codes:
  0    every row is decided (Approve or Deny, with the justification it needs)
  2    error: no campaign there, or a campaign.json that does not parse
  5    the campaign is not complete: rows undecided, Don't know or invalid";

pub const CLOSE_EXIT_CODES: &str = "\
Exit codes:
  0    closed: every denied grant is gone (or could not be checked: see the unknown rows)
  2    error: a bad campaign, snapshot or workbook folder
  4    closed, but a denied grant is still present in the newer snapshot
  5    not closed: rows are undecided (nothing written); finish them, or pass --accept-undecided NAME";

pub const VERIFY_EXIT_CODES: &str = "\
Exit codes:
  0    the evidence pack is intact
  2    error: no evidence pack there
  6    the pack does not verify: a file changed, is missing or was added";

pub fn run(cmd: Command) -> anyhow::Result<Outcome> {
    match cmd {
        Command::Start(args) => start(args),
        Command::Status(args) => status(args),
        Command::Close(args) => close(args),
        Command::Verify(args) => verify(args),
    }
}

/// The certification rows of an analyzed snapshot, as a campaign reviews them.
pub fn review_input(
    snapshot: &Path,
    findings: Option<&Path>,
    config: &hkaudit::analyze::Config,
) -> anyhow::Result<ReviewInput> {
    let model = hkaudit::report::load_model(snapshot, findings, config).with_context(|| {
        format!("cannot read {} and its findings (run `hkaudit analyze` on it first)", snapshot.display())
    })?;
    let rows: Vec<Vec<String>> =
        model.certification.iter().map(|r| r.cells().iter().map(|c| (*c).to_owned()).collect()).collect();
    Ok(ReviewInput::from_table(&CertRow::HEADER, rows)?)
}

fn start(args: StartArgs) -> anyhow::Result<Outcome> {
    let config = super::report::load_config(args.config.as_deref())?;
    let input = review_input(&args.snapshot, args.findings.as_deref(), &config)?;
    let started = review::start(
        &input,
        &config,
        &StartOptions {
            snapshot_dir: args.snapshot.clone(),
            out: args.out.clone(),
            due: args.due,
            reviewers: args.reviewers.clone(),
            now: Utc::now(),
        },
    )?;
    let c = &started.campaign;
    if args.json {
        super::print_line(&serde_json::to_string_pretty(c)?)?;
        return Ok(Outcome(super::code::OK));
    }
    super::print_line(&format!(
        "campaign {} for snapshot {}: {} grants for {} reviewers, due {}",
        c.id,
        c.snapshot.id,
        c.items.len(),
        c.reviewers.len(),
        c.due
    ))?;
    for r in &c.reviewers {
        super::print_line(&format!(
            "  {}: {} row{} ({}) in {}",
            r.email,
            r.rows,
            if r.rows == 1 { "" } else { "s" },
            r.groups.join(", "),
            started.dir.join(&r.xlsx).display()
        ))?;
    }
    let fallback = started.fallback_rows();
    match (&c.fallback_reviewer, fallback) {
        (_, 0) => super::print_line("no row went to the fallback reviewer")?,
        (Some(f), n) => {
            super::print_line(&format!("{n} row{} went to the fallback reviewer {f}:", if n == 1 { "" } else { "s" }))?;
            for (why, k) in &started.fallback {
                super::print_line(&format!("  {k}: {why}"))?;
            }
        }
        (None, _) => {}
    }
    for scope in &c.not_read {
        super::print_line(&format!("not reviewed (the snapshot did not read it): {scope}"))?;
    }
    super::print_line(&format!(
        "send each reviewer their workbook; put what comes back in {}",
        started.dir.join(review::RETURNED_DIR).display()
    ))?;
    super::print_line(&started.dir.display().to_string())?;
    Ok(Outcome(super::code::OK))
}

fn counts_line(c: &review::Counts) -> String {
    format!("{:>5} {:>8} {:>10} {:>10} {:>8} {:>9}", c.rows, c.decided, c.undecided, c.dont_know, c.invalid, c.approved)
}

fn print_status(s: &Status) -> anyhow::Result<()> {
    let due = if s.overdue {
        format!("due {} (overdue by {} days)", s.due, (s.today - s.due).num_days())
    } else {
        format!("due {}", s.due)
    };
    super::print_line(&format!(
        "campaign {} (snapshot {}), {due}: {} of {} rows decided{}",
        s.campaign,
        s.snapshot_id,
        s.counts.decided,
        s.counts.rows,
        if s.complete { ", complete" } else { "" }
    ))?;
    super::print_line(&format!(
        "{:<36} {:<28} {:>5} {:>8} {:>10} {:>10} {:>8} {:>9}",
        "reviewer", "team", "rows", "decided", "undecided", "don't know", "invalid", "approved"
    ))?;
    for r in &s.reviewers {
        let flag = if r.overdue { "  OVERDUE" } else { "" };
        let one = r.groups.len() == 1;
        for g in &r.groups {
            let f = if one { flag } else { "" };
            super::print_line(&format!("{:<36} {:<28} {}{f}", r.reviewer, g.group, counts_line(&g.counts)))?;
        }
        if !one {
            super::print_line(&format!("{:<36} {:<28} {}{flag}", r.reviewer, "(all)", counts_line(&r.counts)))?;
        }
    }
    for f in &s.files {
        match &f.error {
            Some(e) => super::print_line(&format!("returned {}: not read: {e}", f.path))?,
            None => super::print_line(&format!("returned {}: {} rows", f.path, f.rows))?,
        }
    }
    for i in s.items.iter().filter(|i| !i.problems.is_empty()) {
        super::print_line(&format!("invalid {} ({}): {}", i.key.display(), i.reviewer, i.problems.join("; ")))?;
    }
    for p in &s.problems {
        super::print_line(&format!("problem {}: {}", p.source, p.problem))?;
    }
    Ok(())
}

fn status(args: StatusArgs) -> anyhow::Result<Outcome> {
    let s = review::status(&args.dir, Utc::now().date_naive())?;
    if args.json {
        super::print_line(&serde_json::to_string_pretty(&s)?)?;
    } else {
        print_status(&s)?;
    }
    Ok(Outcome(if s.complete { super::code::OK } else { super::code::REVIEW_INCOMPLETE }))
}

fn close(args: CloseArgs) -> anyhow::Result<Outcome> {
    let outcome = review::close(&CloseOptions {
        dir: args.dir.clone(),
        snapshot: args.snapshot.clone(),
        original: args.original.clone(),
        accept_undecided: args.accept_undecided.clone(),
        now: Utc::now(),
    })?;
    match outcome {
        CloseOutcome::Refused(s) => {
            refuse(&format!(
                "campaign {} is not closed: {} of {} rows have no valid decision ({} undecided, {} don't know, {} invalid). Run `hkaudit review status {}` to see them; finish them, or close anyway with --accept-undecided NAME, which records NAME in the closure",
                s.campaign,
                s.counts.open(),
                s.counts.rows,
                s.counts.undecided,
                s.counts.dont_know,
                s.counts.invalid,
                args.dir.display()
            ));
            Ok(Outcome(super::code::REVIEW_INCOMPLETE))
        }
        CloseOutcome::Closed(closed) => {
            let c = &closed.closure;
            if args.json {
                super::print_line(&serde_json::to_string_pretty(&closed)?)?;
            } else {
                let summary: Vec<String> = c.counts.iter().map(|(k, v)| format!("{v} {k}")).collect();
                super::print_line(&format!(
                    "campaign {} checked against snapshot {}: {}",
                    c.campaign.as_deref().unwrap_or_default(),
                    c.snapshot_id,
                    summary.join(", ")
                ))?;
                if let Some(a) = &c.accepted_undecided {
                    super::print_line(&format!("{} undecided rows accepted by {}", a.rows, a.by))?;
                }
                for f in &closed.files {
                    super::print_line(&f.display().to_string())?;
                }
                super::print_line(&format!(
                    "evidence pack {}: record this SHA-256 of its SHA256SUMS with the campaign: {}",
                    closed.evidence.display(),
                    closed.digest
                ))?;
            }
            Ok(Outcome(if c.has_open_denials() { super::code::DENIAL_NOT_DONE } else { super::code::OK }))
        }
    }
}

/// The reason a command produced nothing, on stderr (stdout stays for what was written), in the
/// one `hkaudit: error:` style.
pub fn refuse(message: &str) {
    super::term::error(&hkaudit::redact::redact(message));
}

fn verify(args: VerifyArgs) -> anyhow::Result<Outcome> {
    let v = review::verify(&args.dir, args.digest.as_deref())?;
    if args.json {
        super::print_line(&serde_json::to_string_pretty(&v)?)?;
    } else {
        for p in &v.problems {
            super::print_line(&format!("FAILED {p}"))?;
        }
        super::print_line(&format!(
            "{} {}: {} files, SHA256SUMS {}",
            if v.ok { "verified" } else { "NOT verified" },
            v.dir.display(),
            v.files,
            v.digest
        ))?;
    }
    Ok(Outcome(if v.ok { super::code::OK } else { super::code::EVIDENCE_FAILED }))
}
