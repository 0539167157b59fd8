//! `hkaudit plan`: write the `heroku` commands (plan.sh) and Platform API calls (plan.json) that
//! would fix chosen findings, or the grants a worksheet denies. Nothing is executed.
use std::path::PathBuf;

use anyhow::Context;
use hkaudit::history;

use super::Outcome;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The snapshot folder (or `snapshots/latest`); its findings.json unless --from-worksheet.
    pub snapshot: PathBuf,

    /// Plan the removal of the grants whose `decision` is Deny in this filled-in certification.csv,
    /// instead of fixing findings.
    #[arg(long, value_name = "FILE", conflicts_with = "rules")]
    pub from_worksheet: Option<PathBuf>,

    /// Plan the removal of the grants a review campaign's reviewers denied (the decided Deny rows
    /// of the workbooks in DIR/returned/), instead of fixing findings.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["rules", "from_worksheet"])]
    pub from_campaign: Option<PathBuf>,

    /// Rules whose findings to fix, comma-separated. Default: every rule whose header declares a
    /// `fix:` other than `manual` (README: Rules). Rules with no safe automatic fix (2FA, single
    /// admin, SSO bypass, ...) give a comment with the remediation, no command.
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub rules: Option<Vec<String>>,

    /// Folder to write plan.sh and plan.json into. Default: SNAPSHOT/plan.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

pub const AFTER_HELP: &str = "\
plan.sh never runs by accident: it exits at once unless HKAUDIT_PLAN_REVIEWED=yes. Review every
step (each names the finding or worksheet row it comes from), delete what you do not want, then run
  HKAUDIT_PLAN_REVIEWED=yes sh plan.sh";

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let inputs = history::load_inputs(&args.snapshot)?;
    let plan = match (&args.from_worksheet, &args.from_campaign) {
        (_, Some(dir)) => {
            let campaign = history::review::Campaign::load(dir)?;
            if campaign.snapshot.id != inputs.snapshot_id {
                anyhow::bail!(
                    "campaign {} reviewed snapshot {}, not {}: plan from the snapshot it reviewed",
                    campaign.id,
                    campaign.snapshot.id,
                    inputs.snapshot_id
                );
            }
            let status = history::review::status::status_of(&campaign, dir, chrono::Utc::now().date_naive())?;
            if !status.complete {
                super::term::warning(&format!(
                    "campaign {} is not complete ({} of {} rows open): only the denials decided so far are planned",
                    campaign.id,
                    status.counts.open(),
                    status.counts.rows
                ));
            }
            history::plan_worksheet(
                &inputs,
                &format!("campaign {}", campaign.id),
                &status.denied_rows(&campaign.snapshot.id),
            )
        }
        (Some(file), None) => {
            let rows = history::read_worksheet(file)?;
            let name = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| file.display().to_string());
            history::plan_worksheet(&inputs, &name, &rows)
        }
        (None, None) => {
            let rules: Option<Vec<String>> =
                args.rules.map(|r| r.into_iter().map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect());
            history::plan_findings(&inputs, rules.as_deref())?
        }
    };
    for w in &plan.warnings {
        super::term::warning(&hkaudit::redact::redact(w));
    }
    let dir = args.out.unwrap_or_else(|| args.snapshot.join("plan"));
    hkaudit::fsutil::create_private_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for (name, bytes) in [("plan.sh", plan.script().into_bytes()), ("plan.json", plan.api_json()?.into_bytes())] {
        let path = dir.join(name);
        hkaudit::fsutil::write_private_atomic(&path, &bytes)
            .with_context(|| format!("cannot write {}", path.display()))?;
        super::print_line(&path.display().to_string())?;
    }
    Ok(Outcome(super::code::OK))
}
