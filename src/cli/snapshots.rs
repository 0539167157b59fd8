//! `hkaudit snapshots list|prune`: what is in a snapshots folder, and removing old snapshots
//! without ever touching the newest, one a worksheet references, or anything not a snapshot.
use std::path::PathBuf;

use hkaudit::history::retention::{self, PruneOptions};

use super::Outcome;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// List the snapshots in DIR, newest first: id, taken_at, complete, gaps, findings, size, latest.
    List(ListArgs),
    /// Remove all but the newest N snapshots. Never removes the newest snapshot, the one `latest`
    /// points at, one a campaign reviewed or was closed against (every campaign.json under DIR,
    /// and --campaign), one whose id is in the snapshot_id column of a worksheet or workbook
    /// (--worksheet, and every DIR/worksheets/*.csv), nor anything that is not a snapshot folder.
    Prune(PruneArgs),
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// The snapshots folder.
    #[arg(default_value = "snapshots")]
    pub dir: PathBuf,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct PruneArgs {
    /// The snapshots folder.
    #[arg(default_value = "snapshots")]
    pub dir: PathBuf,
    /// How many of the newest snapshots to keep (the newest is always kept, even with 0).
    #[arg(long, value_name = "N")]
    pub keep: usize,
    /// A worksheet (certification.csv, or a campaign workbook: xlsx, ods, xls) whose snapshots
    /// must be kept, wherever it is; repeatable.
    #[arg(long, value_name = "FILE")]
    pub worksheet: Vec<PathBuf>,
    /// A campaign folder (from `hkaudit review start`) whose snapshots must be kept, wherever it
    /// is; repeatable. Campaigns under DIR are found without it.
    #[arg(long, value_name = "DIR")]
    pub campaign: Vec<PathBuf>,
    /// Say what would be removed, remove nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Print the outcome as JSON.
    #[arg(long)]
    pub json: bool,
}

fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut v = bytes as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

pub fn run(cmd: Command) -> anyhow::Result<Outcome> {
    match cmd {
        Command::List(args) => {
            let listing = retention::list(&args.dir)?;
            if args.json {
                super::print_line(&serde_json::to_string_pretty(&listing)?)?;
                return Ok(Outcome(super::code::OK));
            }
            super::print_line(&format!(
                "{:<28} {:<20} {:<8} {:>4} {:<8} {:>10}  latest",
                "id", "taken_at", "complete", "gaps", "findings", "size"
            ))?;
            for s in &listing.snapshots {
                let id = if s.id == s.folder { s.id.clone() } else { format!("{} (folder {})", s.id, s.folder) };
                super::print_line(&format!(
                    "{:<28} {:<20} {:<8} {:>4} {:<8} {:>10}  {}",
                    id,
                    s.taken_at.format("%Y-%m-%dT%H:%M:%SZ"),
                    if s.complete { "yes" } else { "no" },
                    s.gaps,
                    if s.findings { "yes" } else { "no" },
                    human_size(s.size_bytes),
                    if s.latest { "latest" } else { "" }
                ))?;
            }
            for o in &listing.others {
                super::print_line(&format!("# not a snapshot, left alone: {} ({})", o.name, o.reason))?;
            }
        }
        Command::Prune(args) => {
            // Workbooks are read by the history stage; CSV worksheets by the pruner, as before.
            let (workbooks, worksheets): (Vec<PathBuf>, Vec<PathBuf>) =
                args.worksheet.into_iter().partition(|p| hkaudit::history::worksheet::is_workbook(p));
            let protected = hkaudit::history::review::referenced_snapshots(&args.dir, &args.campaign, &workbooks)?
                .into_iter()
                .map(|r| (r.snapshot_id, r.by))
                .collect();
            let report = retention::prune(
                &args.dir,
                &PruneOptions { keep: args.keep, worksheets, protected, dry_run: args.dry_run },
            )?;
            if args.json {
                super::print_line(&serde_json::to_string_pretty(&report)?)?;
                return Ok(Outcome(super::code::OK));
            }
            let verb = if report.dry_run { "would remove" } else { "removed" };
            for r in &report.removed {
                super::print_line(&format!(
                    "{verb} {} ({}): older than the newest {}",
                    r.folder,
                    human_size(r.size_bytes),
                    args.keep.max(1)
                ))?;
            }
            for k in &report.kept {
                super::print_line(&format!("kept {}: {}", k.folder, k.reasons.join(", ")))?;
            }
            for o in &report.left_alone {
                super::print_line(&format!("left alone {}: {}", o.name, o.reason))?;
            }
            if report.dry_run {
                super::print_line("dry run: nothing was removed")?;
            }
        }
    }
    Ok(Outcome(super::code::OK))
}
