//! `hkaudit diff`: what changed between two snapshots.
use std::path::PathBuf;

use anyhow::Context;
use hkaudit::history;

use super::Outcome;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The earlier snapshot folder.
    pub old: PathBuf,
    /// The later snapshot folder (or `snapshots/latest`).
    pub new: PathBuf,

    /// Formats, comma-separated: md, json, csv. With one format and no --out, it is printed.
    #[arg(long, value_name = "LIST", default_value = "md")]
    pub format: String,

    /// Write diff.md / diff.json / diff.csv into this folder instead of printing.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    /// hkaudit.toml, for the seat price used in the spend delta.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let formats: Vec<String> =
        args.format.split(',').map(|s| s.trim().to_ascii_lowercase()).filter(|s| !s.is_empty()).collect();
    if let Some(bad) = formats.iter().find(|f| !["md", "json", "csv"].contains(&f.as_str())) {
        anyhow::bail!("--format {bad}: unknown format; use md, json or csv (comma-separated)");
    }
    if formats.is_empty() {
        anyhow::bail!("--format is empty: name at least one of md, json, csv");
    }
    if formats.len() > 1 && args.out.is_none() {
        anyhow::bail!("several formats need --out DIR to write them into");
    }
    let config = super::report::load_config(args.config.as_deref())?;
    let d = history::diff(&args.old, &args.new, &config)?;
    let render = |f: &str| -> anyhow::Result<Vec<u8>> {
        Ok(match f {
            "md" => history::diff_markdown(&d)?.into_bytes(),
            "json" => serde_json::to_vec_pretty(&d)?,
            _ => history::diff_csv(&d)?,
        })
    };
    match &args.out {
        None => {
            use std::io::Write;
            let bytes = render(&formats[0])?;
            let mut out = std::io::stdout().lock();
            out.write_all(&bytes)?;
            out.flush()?;
        }
        Some(dir) => {
            hkaudit::fsutil::create_private_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
            for f in &formats {
                let path = dir.join(format!("diff.{f}"));
                hkaudit::fsutil::write_private_atomic(&path, &render(f)?)
                    .with_context(|| format!("cannot write {}", path.display()))?;
                super::print_line(&path.display().to_string())?;
            }
        }
    }
    Ok(Outcome(super::code::OK))
}
