//! `hkaudit demo`: the whole pipeline against the built-in sandbox and the acme organisation,
//! with no token and no network beyond loopback.
use std::path::{Path, PathBuf};

use anyhow::Context;
use hkaudit::analyze::{analyze_snapshot, AnalyzeOptions};
use hkaudit::heroku::Token;
use hkaudit::sandbox::{self, Fixture, SandboxConfig};

use super::Outcome;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Folder for everything the demo writes: the organisation's inputs, snapshots, findings.
    #[arg(long, value_name = "DIR", default_value = "hkaudit-demo")]
    pub out: PathBuf,

    /// Serve this fixture organisation instead of the built-in acme one.
    #[arg(long, value_name = "DIR")]
    pub fixtures: Option<PathBuf>,
}

/// `show_all` (`-v`): the summary lists the rules that found nothing too.
pub fn run(args: Args, show_all: bool) -> anyhow::Result<Outcome> {
    let fixture_dir = match &args.fixtures {
        Some(dir) => dir.clone(),
        None => {
            let dir = args.out.join("fixture");
            sandbox::write_demo_fixture(&dir)
                .with_context(|| format!("cannot write the demo organisation into {}", dir.display()))?;
            dir
        }
    };
    let fixture = Fixture::load(&fixture_dir)?;
    let now = fixture.now();
    let token =
        fixture.tokens().first().map(|t| t.token.clone()).context("the fixture has no token in sandbox.json")?;
    let snapshots = args.out.join("snapshots");

    let extracted = super::runtime()?.block_on(async {
        let handle = sandbox::start(SandboxConfig::new(fixture)).await?;
        let extract_args = super::extract::Args {
            api_url: handle.url(),
            out: snapshots.clone(),
            activity_days: 180,
            concurrency: 8,
            cache: None,
            no_cache: true,
            token_file: None,
            as_of: Some(now),
            timeout: 30,
            max_retries: 3,
            // The sandbox's own pool: nobody else spends it.
            reserve: 0,
            max_requests: None,
            json: false,
        };
        let result = super::extract::execute(&extract_args, Token::new(token), true).await;
        handle.shutdown().await;
        result
    })?;

    super::term::note(&super::extract::summary_line(&extracted));
    let inputs = fixture_dir.join("inputs");
    let analyzed = analyze_snapshot(&AnalyzeOptions {
        snapshot: extracted.path.clone(),
        idp: files_with_extension(&inputs, "csv")?,
        authorizations: files_with_extension(&inputs, "json")?,
        // The sign-in logs live in their own folder: their extensions say nothing about their kind.
        signins: all_files(&inputs.join("signins"))?,
        ..Default::default()
    })?;
    super::analyze::print_summary(&analyzed.findings, show_all)?;
    let rendered = super::report::execute(&super::report::Args {
        snapshot: extracted.path.clone(),
        out: None,
        format: "html,md,csv,json".into(),
        config: None,
        findings: None,
        history: None,
    })?;
    let index = rendered.index.context("the demo report has no index.html")?;
    super::print_line(&format!("snapshot: {}", extracted.path.display()))?;
    super::print_line(&format!("reports:  {}", index.parent().map(|p| p.display().to_string()).unwrap_or_default()))?;
    // The last line is the page to open, so `xdg-open "$(hkaudit demo | tail -1)"` works.
    super::print_line(&std::fs::canonicalize(&index).unwrap_or(index).display().to_string())?;
    Ok(Outcome(super::code::OK))
}

fn files_with_extension(dir: &Path, ext: &str) -> anyhow::Result<Vec<PathBuf>> {
    Ok(all_files(dir)?.into_iter().filter(|p| p.extension().is_some_and(|x| x == ext)).collect())
}

fn all_files(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    if !dir.exists() {
        return Ok(Vec::new());
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot list {}", dir.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    Ok(files)
}
