//! `hkaudit extract`: snapshot a Heroku organisation.
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use hkaudit::extract::{self, ExtractOptions, Extracted};
use hkaudit::heroku::{discover_token, Client, ClientConfig, EtagCache, Token, DEFAULT_API_URL};

use super::{code, Outcome};

#[derive(Debug, Clone, clap::Args)]
// `run` flattens these flags beside its own `Args`: two groups both named `Args` make clap panic
// (debug builds check it), and nothing here needs the group.
#[group(skip)]
pub struct Args {
    /// Platform API base URL (a sandbox's URL to try hkaudit without an account).
    #[arg(long, value_name = "URL", default_value = DEFAULT_API_URL, env = "HKAUDIT_API_URL")]
    pub api_url: String,

    /// Folder that holds snapshots; each run writes OUT/<snapshot-id>/ and moves OUT/latest.
    #[arg(long, value_name = "DIR", default_value = "snapshots")]
    pub out: PathBuf,

    /// Days of activity (releases, builds, audit trail) to read, ending at --as-of.
    #[arg(long, value_name = "N", default_value_t = 180)]
    pub activity_days: u32,

    /// Requests in flight at once.
    #[arg(long, value_name = "N", default_value_t = 8)]
    pub concurrency: usize,

    /// ETag cache of list pages, so a re-extract of an unchanged org transfers almost nothing
    /// [default: OUT/.cache].
    #[arg(long, value_name = "DIR")]
    pub cache: Option<PathBuf>,

    /// Do not read or write the ETag cache.
    #[arg(long, conflicts_with = "cache")]
    pub no_cache: bool,

    /// File holding the API token, used when HEROKU_API_KEY is not set (then ~/.netrc is tried).
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,

    /// End the activity window at this instant (RFC 3339) instead of the API's clock (its `Date`
    /// header): for reproducible runs.
    #[arg(long, value_name = "TIME")]
    pub as_of: Option<DateTime<Utc>>,

    /// Per-request timeout in seconds: a stalled server cannot hang the run.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    pub timeout: u64,

    /// Retries for connection errors, timeouts, 408 and 5xx before a read becomes a gap.
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub max_retries: usize,

    /// Leave this many of the account's rate-limit pool (4,500, refilled at 75 a minute) to the
    /// token's owner: when `RateLimit-Remaining` falls to N, wait for the pool to refill instead
    /// of spending it. The default, 500, is one ninth of the pool (about 7 minutes of refill);
    /// 0 spends the whole pool.
    #[arg(long, value_name = "N", default_value_t = 500)]
    pub reserve: u32,

    /// Send at most N requests that spend the rate-limit pool; what is left unread becomes gaps
    /// in the manifest and the run exits 3.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_requests: Option<u64>,

    /// Print a JSON summary (path, id, complete, gaps) instead of the bare path.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let extracted = extract_with_discovered_token(&args)?;
    report(&args, &extracted)
}

/// Find the token as the Heroku CLI does (for the `--api-url` host) and extract: shared by
/// `extract` and `run`.
pub fn extract_with_discovered_token(args: &Args) -> anyhow::Result<Extracted> {
    let url = url::Url::parse(&args.api_url).with_context(|| format!("--api-url {}: not a URL", args.api_url))?;
    let host = url.host_str().unwrap_or("api.heroku.com").to_owned();
    let netrc = std::env::var_os("HOME").map(|h| Path::new(&h).join(".netrc"));
    let (token, source) =
        discover_token(std::env::var("HEROKU_API_KEY").ok(), args.token_file.as_deref(), netrc.as_deref(), &host)?;
    tracing::info!(%source, "using the API token from {source}");
    let verbose = tracing::enabled!(tracing::Level::INFO);
    super::runtime()?.block_on(execute(args, token, verbose))
}

/// Print the outcome and choose the exit code: 3 when the snapshot has gaps.
pub fn report(args: &Args, extracted: &Extracted) -> anyhow::Result<Outcome> {
    let m = &extracted.manifest;
    if !m.complete {
        super::term::warning(&format!(
            "snapshot {} is incomplete: {} read(s) failed; manifest.json lists them under `gaps`",
            m.snapshot_id,
            m.gaps.len()
        ));
    }
    // On stderr: stdout stays the snapshot's path (or JSON) for scripts.
    super::term::note(&summary_line(extracted));
    if args.json {
        let summary = serde_json::json!({
            "path": extracted.path,
            "snapshot_id": m.snapshot_id,
            "complete": m.complete,
            "gaps": m.gaps.len(),
            "requests": m.endpoints.values().map(|e| e.requests).sum::<u64>(),
        });
        super::print_line(&summary.to_string())?;
    } else {
        super::print_line(&extracted.path.display().to_string())?;
    }
    Ok(Outcome(if m.complete { code::OK } else { code::INCOMPLETE }))
}

/// `snapshot ID: 5 teams, 23 members, 14 apps, 120 requests, 0 gaps, 1.4 s`.
pub fn summary_line(extracted: &Extracted) -> String {
    let m = &extracted.manifest;
    let c = &extracted.counts;
    let n = |count: usize, one: &str, many: &str| format!("{count} {}", if count == 1 { one } else { many });
    let requests: u64 = m.endpoints.values().map(|e| e.requests).sum();
    format!(
        "snapshot {}: {}, {}, {}, {}, {}, {:.1} s",
        m.snapshot_id,
        n(c.teams, "team", "teams"),
        n(c.members, "member", "members"),
        n(c.apps, "app", "apps"),
        n(usize::try_from(requests).unwrap_or(usize::MAX), "request", "requests"),
        n(m.gaps.len(), "gap", "gaps"),
        c.elapsed.as_secs_f64()
    )
}

pub async fn execute(args: &Args, token: Token, quiet_progress: bool) -> anyhow::Result<Extracted> {
    let base = url::Url::parse(&args.api_url).with_context(|| format!("--api-url {}: not a URL", args.api_url))?;
    let mut cfg = ClientConfig::new(base, token);
    cfg.concurrency = args.concurrency.max(1);
    cfg.timeout = Duration::from_secs(args.timeout.max(1));
    cfg.max_retries = args.max_retries;
    cfg.reserve = args.reserve;
    cfg.max_requests = args.max_requests;
    if !args.no_cache {
        let dir = args.cache.clone().unwrap_or_else(|| args.out.join(".cache"));
        cfg.cache = Some(EtagCache::open(dir)?);
    }
    let progress = progress_bar(quiet_progress);
    cfg.progress = Some(progress.clone());
    let client = Client::new(cfg)?;
    let mut opts = ExtractOptions::new(&args.out);
    opts.activity_days = args.activity_days;
    opts.as_of = args.as_of;
    opts.progress = progress;
    let out = args.out.display().to_string();
    let interrupted = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    tokio::select! {
        result = extract::extract(&client, &opts) => result.with_context(|| format!("extract into {out} failed; nothing was written there")),
        () = interrupted => anyhow::bail!("interrupted; no snapshot was written"),
    }
}

/// A bar on a terminal; nothing in a pipe or when logs are on (they would interleave).
fn progress_bar(quiet: bool) -> indicatif::ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    // The crawl sets the style of each phase (listing, then counting to a known total).
    let bar = indicatif::ProgressBar::new(0);
    if let Ok(style) = indicatif::ProgressStyle::with_template(extract::PROGRESS_LISTING) {
        bar.set_style(style);
    }
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}
