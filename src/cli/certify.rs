//! `hkaudit certify`: prove that what reviewers denied was actually removed.
use std::path::PathBuf;

use anyhow::Context;
use hkaudit::history;

use super::Outcome;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The certification.csv a reviewer filled in (as a spreadsheet saved it is fine).
    #[arg(long, value_name = "FILE")]
    pub worksheet: PathBuf,

    /// The newer snapshot to check the decisions against (e.g. `snapshots/latest`).
    #[arg(long, value_name = "DIR")]
    pub snapshot: PathBuf,

    /// The snapshot the worksheet was made from [default: the folder of its snapshot_id beside --snapshot].
    #[arg(long, value_name = "DIR")]
    pub original: Option<PathBuf>,

    /// Write closure.csv and closure.md here [default: print the Markdown].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    /// Print the closure as JSON instead of Markdown.
    #[arg(long)]
    pub json: bool,
}

pub const EXIT_CODES: &str = "\
Exit codes:
  0    every denied grant is gone (or could not be checked: see the unknown rows)
  2    error: a bad worksheet (unknown decision, missing column, a row matching no grant) or snapshot
  4    a denied grant is still present in the newer snapshot";

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let closure = history::certify(&args.worksheet, &args.snapshot, args.original.as_deref())?;
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
