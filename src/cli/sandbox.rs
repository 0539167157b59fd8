//! `hkaudit sandbox`: serve a fixture organisation over a loopback imitation of the Heroku
//! Platform API, for demos, manual exploration and benchmarks. The base URL is the first stdout
//! line so scripts can read it before anything else.
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use hkaudit::sandbox::{
    self, Burst, DenyAfter, Faults, Fixture, Quirk, RateLimitConfig, SandboxConfig, SyntheticParams,
};

use super::{code, print_line, Outcome};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Fixture folder to serve (format: docs/fixtures.md).
    #[arg(long, default_value = "fixtures/acme")]
    fixtures: PathBuf,
    /// Generate an organisation instead of reading --fixtures, e.g. teams=100,members=10000,apps=5000,seed=1.
    #[arg(long, value_name = "SPEC")]
    synthetic: Option<SyntheticParams>,
    /// Port on 127.0.0.1; 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Seed for fault decisions, request ids and archive order.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Rate-limit pool per account.
    #[arg(long, default_value_t = 4500)]
    rate_limit_capacity: u32,
    /// Rate-limit refill, tokens per minute.
    #[arg(long, default_value_t = 75.0)]
    rate_limit_refill_per_minute: f64,
    /// Added to every response, e.g. 50ms or 1.5s.
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    latency: Option<Duration>,
    /// Share (0..1) of requests answered 500 or 503.
    #[arg(long, default_value_t = 0.0)]
    error_rate: f64,
    /// Each window of EVERY requests ends with LEN consecutive 429s.
    #[arg(long, value_parser = parse_burst, value_name = "EVERY:LEN")]
    burst_429: Option<Burst>,
    /// Share of requests whose connection is closed without a response.
    #[arg(long, default_value_t = 0.0)]
    reset_rate: f64,
    /// Share of 2xx responses whose body is cut short.
    #[arg(long, default_value_t = 0.0)]
    truncate_rate: f64,
    /// Share of requests that never get an answer.
    #[arg(long, default_value_t = 0.0)]
    stall_rate: f64,
    /// App (name or id) listed everywhere but 404 on its detail and sub-resources.
    #[arg(long, value_name = "NAME")]
    delete_app: Option<String>,
    /// Path whose pages always answer 206 with the same Next-Range, e.g. /teams/acme/members.
    #[arg(long, value_name = "PATH")]
    pagination_loop: Option<String>,
    /// Team (name or id) whose members, invitations, permissions, apps and identity providers answer 403.
    #[arg(long, value_name = "NAME")]
    forbid_team: Vec<String>,
    /// Send `Retry-After: SECS` with every 429.
    #[arg(long, value_name = "SECS")]
    retry_after: Option<u64>,
    /// Share of 2xx responses whose connection drops halfway through the body.
    #[arg(long, default_value_t = 0.0)]
    reset_mid_body_rate: f64,
    /// Share of requests answered 200 with an HTML error page.
    #[arg(long, default_value_t = 0.0)]
    html_200_rate: f64,
    /// Label every JSON answer text/html (bodies unchanged).
    #[arg(long)]
    wrong_content_type: bool,
    /// Path whose 200 answers wrap the list in {"data": [...]}, e.g. /apps.
    #[arg(long, value_name = "PATH")]
    malformed_200: Option<String>,
    /// Path whose first page is a 206 with half the list and no Next-Range.
    #[arg(long, value_name = "PATH")]
    missing_next_range: Option<String>,
    /// After N requests, every read under a team or app answers STATUS (403 or 404).
    #[arg(long, value_parser = parse_deny_after, value_name = "N:STATUS")]
    deny_after: Option<DenyAfter>,
    /// Change what an endpoint serves as real answers do: TEMPLATE:FIELD removes FIELD from every
    /// object, TEMPLATE:FIELD=JSON sets it, e.g. '/teams/{team}/members:two_factor_authentication'.
    #[arg(long, value_parser = parse_quirk, value_name = "TEMPLATE:FIELD[=JSON]")]
    quirk: Vec<Quirk>,
    /// Serve recorded answers from DIR/replay.json before the fixture's (docs/fixtures.md).
    #[arg(long, value_name = "DIR")]
    replay: Option<PathBuf>,
    /// At exit, print request counts per endpoint as one JSON line on stdout.
    #[arg(long)]
    stats: bool,
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, scale) = if let Some(n) = text.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1.0)
    } else {
        (text, 0.001)
    };
    let value: f64 = number.trim().parse().map_err(|_| format!("expected e.g. 50ms or 1.5s, got {text:?}"))?;
    Duration::try_from_secs_f64(value * scale).map_err(|e| format!("{text:?}: {e}"))
}

fn parse_burst(text: &str) -> Result<Burst, String> {
    let bad = || format!("expected EVERY:LEN with 0 < LEN <= EVERY, got {text:?}");
    let (every, len) = text.split_once(':').ok_or_else(bad)?;
    let every: u32 = every.trim().parse().map_err(|_| bad())?;
    let len: u32 = len.trim().parse().map_err(|_| bad())?;
    if every == 0 || len == 0 || len > every {
        return Err(bad());
    }
    Ok(Burst { every, len })
}

fn parse_deny_after(text: &str) -> Result<DenyAfter, String> {
    let bad = || format!("expected N:STATUS with STATUS 403 or 404, got {text:?}");
    let (after, status) = text.split_once(':').ok_or_else(bad)?;
    let after: u64 = after.trim().parse().map_err(|_| bad())?;
    let status: u16 = status.trim().parse().map_err(|_| bad())?;
    if !matches!(status, 403 | 404) {
        return Err(bad());
    }
    Ok(DenyAfter { after, status })
}

fn parse_quirk(text: &str) -> Result<Quirk, String> {
    let bad = |why: &str| format!("expected TEMPLATE:FIELD[=JSON], got {text:?}: {why}");
    let (head, value) = match text.split_once('=') {
        Some((head, json)) => (head, Some(serde_json::from_str(json).map_err(|e| bad(&e.to_string()))?)),
        None => (text, None),
    };
    let (template, field) = head.rsplit_once(':').ok_or_else(|| bad("no `:`"))?;
    if template.is_empty() || field.is_empty() {
        return Err(bad("empty template or field"));
    }
    Ok(Quirk { template: template.to_owned(), field: field.to_owned(), value })
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let fixture = match &args.synthetic {
        Some(params) => Fixture::synthetic(params),
        None => {
            if !args.fixtures.is_dir() {
                anyhow::bail!(
                    "fixture folder {} does not exist: pass --fixtures DIR (or --synthetic SPEC)",
                    args.fixtures.display()
                );
            }
            Fixture::load(&args.fixtures).context("loading the fixture organisation")?
        }
    };
    let config = SandboxConfig {
        fixture,
        port: args.port,
        seed: args.seed,
        rate_limit: RateLimitConfig {
            capacity: args.rate_limit_capacity,
            refill_per_minute: args.rate_limit_refill_per_minute,
        },
        faults: Faults {
            latency: args.latency.unwrap_or_default(),
            error_rate: args.error_rate,
            burst_429: args.burst_429,
            reset_rate: args.reset_rate,
            truncate_rate: args.truncate_rate,
            stall_rate: args.stall_rate,
            delete_app: args.delete_app,
            pagination_loop: args.pagination_loop,
            forbid_team: args.forbid_team,
            html_200_rate: args.html_200_rate,
            retry_after_secs: args.retry_after,
            reset_mid_body_rate: args.reset_mid_body_rate,
            wrong_content_type: args.wrong_content_type,
            malformed_200: args.malformed_200,
            missing_next_range: args.missing_next_range,
            deny_after: args.deny_after,
            quirks: args.quirk,
            replay: match &args.replay {
                Some(dir) => sandbox::load_replay(dir).context("loading the replay set")?,
                None => Default::default(),
            },
        },
    };
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async {
        let handle = sandbox::start(config).await?;
        // Listen for signals before telling anyone the URL: a caller may stop us right after.
        let stop = stop_signal()?;
        print_line(&handle.url())?;
        stop.await;
        let stats = handle.stats();
        handle.shutdown().await;
        if args.stats {
            print_line(&serde_json::to_string(&stats)?)?;
        }
        // The only way a server ends is being interrupted; the exit-code table says 130.
        Ok(Outcome(code::INTERRUPTED))
    })
}

/// Ctrl-C, or SIGTERM on Unix (what `kill` and process supervisors send). The handlers are
/// registered when this returns, not when the future is first polled.
#[cfg(unix)]
fn stop_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut interrupt = signal(SignalKind::interrupt()).context("listening for Ctrl-C")?;
    let mut terminate = signal(SignalKind::terminate()).context("listening for SIGTERM")?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
    })
}

#[cfg(not(unix))]
fn stop_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    Ok(async {
        // Without a handler there is no way to stop but being killed, which is what this means.
        let _ = tokio::signal::ctrl_c().await;
    })
}
