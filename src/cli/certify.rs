//! `hkaudit certify`: prove that what reviewers denied was actually removed. With a campaign
//! folder it is `hkaudit review close`; with `--worksheet` it closes one filled-in
//! certification.csv (or workbook), as before campaigns existed.
use std::path::PathBuf;

use anyhow::Context;
use chrono::Utc;
use hkaudit::history;

use super::Outcome;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A campaign folder from `hkaudit review start`: the same as `hkaudit review close CAMPAIGN`.
    #[arg(value_name = "CAMPAIGN", conflicts_with_all = ["worksheet", "out"], required_unless_present = "worksheet")]
    pub campaign: Option<PathBuf>,

    /// The certification.csv a reviewer filled in (as a spreadsheet saved it is fine, or a workbook).
    #[arg(long, value_name = "FILE")]
    pub worksheet: Option<PathBuf>,

    /// The newer snapshot to check the decisions against (e.g. `snapshots/latest`).
    #[arg(long, value_name = "DIR")]
    pub snapshot: PathBuf,

    /// The snapshot the worksheet was made from [default: the folder of its snapshot_id beside --snapshot].
    #[arg(long, value_name = "DIR")]
    pub original: Option<PathBuf>,

    /// Write closure.csv and closure.md here [default: print the Markdown] (--worksheet only).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    /// Close even though rows are undecided, recording NAME as who accepted that.
    #[arg(long, value_name = "NAME")]
    pub accept_undecided: Option<String>,

    /// Print the closure as JSON instead of Markdown.
    #[arg(long)]
    pub json: bool,
}

pub const EXIT_CODES: &str = "\
Exit codes:
  0    every denied grant is gone (or could not be checked: see the unknown rows)
  2    error: a bad worksheet (unknown decision, missing column, a row matching no grant) or snapshot
  4    a denied grant is still present in the newer snapshot
  5    not closed: rows are undecided (Don't know, or no decision); pass --accept-undecided NAME to close anyway";

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let Some(worksheet) = &args.worksheet else {
        let dir = args.campaign.clone().context("name a campaign folder, or pass --worksheet")?;
        return super::review::run(super::review::Command::Close(super::review::CloseArgs {
            dir,
            snapshot: args.snapshot,
            original: args.original,
            accept_undecided: args.accept_undecided,
            json: args.json,
        }));
    };
    let mut closure = history::certify(worksheet, &args.snapshot, args.original.as_deref())?;
    if closure.undecided > 0 {
        match args.accept_undecided.as_deref().map(str::trim) {
            Some(by) if !by.is_empty() => closure.accept_undecided(by, Utc::now()),
            _ => {
                super::review::refuse(&format!(
                    "{} is not closed: {} of {} rows have no decision (Don't know, or empty). Decide them, or pass --accept-undecided NAME to close anyway, which records NAME in the closure",
                    worksheet.display(),
                    closure.undecided,
                    closure.rows.iter().filter(|r| r.closure != history::Closure::NewSince).count()
                ));
                return Ok(Outcome(super::code::REVIEW_INCOMPLETE));
            }
        }
    }
    match &args.out {
        Some(dir) => {
            hkaudit::fsutil::create_private_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
            for (name, bytes) in [
                ("closure.csv", history::closure_csv(&closure)?),
                ("closure.md", history::closure_markdown(&closure)?.into_bytes()),
            ] {
                let path = dir.join(name);
                hkaudit::fsutil::write_private_atomic(&path, &bytes)
                    .with_context(|| format!("cannot write {}", path.display()))?;
                super::print_line(&path.display().to_string())?;
            }
        }
        None if args.json => super::print_line(&serde_json::to_string_pretty(&closure)?)?,
        None => {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            out.write_all(history::closure_markdown(&closure)?.as_bytes())?;
            out.flush()?;
        }
    }
    Ok(Outcome(if closure.has_open_denials() { super::code::DENIAL_NOT_DONE } else { super::code::OK }))
}
