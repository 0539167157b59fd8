//! A loopback HTTP server that behaves like the Heroku Platform API over a fixture organisation.
//!
//! Why it exists: the extractor must be proven against pagination edges, rate limits, caching and
//! the failures a real network produces, and nobody can (or may) make a real Heroku organisation
//! misbehave on demand. The sandbox serves the objects of a fixture folder (`docs/fixtures.md`)
//! exactly as written, derives only what Heroku itself derives, and injects faults
//! deterministically from a seed so a failing run can be replayed.
//!
//! Production code never depends on this module: the extractor only sees a base URL. The server
//! is built on hyper directly (not axum routing) because some faults — a reset connection, a
//! response that never comes — have to act below the level of a well-formed HTTP response.
//!
//! Layout: [`Fixture`] loading and indexes (`fixture.rs`), the generator for benchmarks
//! (`synthetic.rs`), Range parsing and paging (`range.rs`), the per-account token bucket
//! (`ratelimit.rs`), fault decisions (`faults.rs`), counters (`stats.rs`), the routes, parsed once
//! per request into one enum (`route.rs`), and the hyper service (`server.rs`).
use std::path::PathBuf;
use std::time::Duration;

mod demo;
mod faults;
mod fixture;
mod range;
mod ratelimit;
mod replay;
mod route;
mod server;
mod stats;
mod synthetic;

pub use demo::{demo_fixture_len, write_demo_fixture};
pub use fixture::{Fixture, Token};
pub use replay::{load_replay, ReplaySet};
pub use server::{start, SandboxHandle};
pub use stats::{EndpointStats, FaultCounts, Stats, StatusCounts};
pub use synthetic::{SyntheticParams, SYNTHETIC_TOKEN};

/// Everything that can go wrong loading a fixture or starting the server.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("fixture folder {} does not exist", .0.display())]
    MissingFixture(PathBuf),
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} is not valid JSON: {source}", path.display())]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("{}: {reason}", path.display())]
    Invalid { path: PathBuf, reason: String },
    #[error("cannot listen on 127.0.0.1:{port}: {source}")]
    Bind {
        port: u16,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid sandbox configuration: {0}")]
    Config(String),
}

/// How the sandbox runs: which organisation, where, and how badly it behaves.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    pub fixture: Fixture,
    /// 0 lets the OS pick a free port; read it back with [`SandboxHandle::url`].
    pub port: u16,
    /// Seeds fault decisions, request ids and archive entry order.
    pub seed: u64,
    pub rate_limit: RateLimitConfig,
    pub faults: Faults,
}

impl SandboxConfig {
    /// A well-behaved sandbox over `fixture` on a free port, with Heroku's rate limit.
    pub fn new(fixture: Fixture) -> SandboxConfig {
        SandboxConfig { fixture, port: 0, seed: 0, rate_limit: RateLimitConfig::default(), faults: Faults::default() }
    }
}

/// A token bucket per account, as Heroku documents it (all of an account's tokens share one pool).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimitConfig {
    pub capacity: u32,
    pub refill_per_minute: f64,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        RateLimitConfig { capacity: 4500, refill_per_minute: 75.0 }
    }
}

/// `every` requests end with `len` consecutive 429s (requests `every-len .. every` of each window).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Burst {
    pub every: u32,
    pub len: u32,
}

/// A recorded answer served verbatim at one path (the replay corpus, `fixtures/heroku-recorded`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replay {
    /// Path, with the query when it matters (`/enterprise-accounts/x/events?day=2026-05-01`).
    pub path: String,
    pub status: u16,
    pub content_type: String,
    pub body: bytes::Bytes,
}

/// A change to the shape of what one endpoint serves, modelled on a quirk seen in real answers:
/// `field` of every object in the answer is removed (`value: None`) or set to `value`.
#[derive(Debug, Clone, PartialEq)]
pub struct Quirk {
    /// Route template as the sandbox counts it, e.g. `/teams/{team}/members`.
    pub template: String,
    pub field: String,
    pub value: Option<serde_json::Value>,
}

/// After `after` requests, every read under a team or app answers `status` (403 `forbidden` or
/// 404 `not_found`): a token losing its access in the middle of a crawl.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DenyAfter {
    pub after: u64,
    pub status: u16,
}

/// Injected misbehaviour; every field is off by default.
///
/// Rates are shares in `0.0..=1.0` decided per request by hashing the seed, method, path and
/// query, `Range` header and how many times that exact request was seen before, so the outcome
/// does not depend on concurrency and a retry of the same request may succeed. Transient faults
/// (error, 429 burst, reset, truncate, stall) never hit `/account/rate-limits`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Faults {
    /// Added before every response.
    pub latency: Duration,
    /// Share of requests answered 500 or 503 with a Heroku-shaped body.
    pub error_rate: f64,
    /// Periodic 429 `rate_limit` bursts, counted over all requests (order-dependent by design).
    pub burst_429: Option<Burst>,
    /// Share of requests whose connection is closed without any response.
    pub reset_rate: f64,
    /// Share of 2xx responses whose JSON body is cut in half (Content-Length matches the cut).
    pub truncate_rate: f64,
    /// Share of requests that never get an answer (until the client gives up or the sandbox stops).
    pub stall_rate: f64,
    /// App (name or id) still listed everywhere, but its detail and sub-resources answer 404.
    pub delete_app: Option<String>,
    /// Path (e.g. `/teams/acme/members`) whose every page answers 206 with the same `Next-Range`.
    pub pagination_loop: Option<String>,
    /// Teams (name or id) whose members, invitations, permissions, apps and identity providers
    /// answer 403 `forbidden`.
    pub forbid_team: Vec<String>,
    /// `Retry-After` (seconds) sent with every 429 (Heroku documents none; a proxy may send one).
    pub retry_after_secs: Option<u64>,
    /// Share of 2xx responses whose connection drops halfway through the body (headers and the
    /// full `Content-Length` already sent).
    pub reset_mid_body_rate: f64,
    /// Share of requests answered 200 with an HTML error page (a proxy or load balancer's).
    pub html_200_rate: f64,
    /// Label every JSON answer `text/html` instead of `application/json` (the body is unchanged).
    pub wrong_content_type: bool,
    /// Path whose 200 answers are well-formed JSON of the wrong shape: the list wrapped in an
    /// envelope, `{"data": [...]}`.
    pub malformed_200: Option<String>,
    /// Path whose first page answers 206 Partial Content with half of the list and no
    /// `Next-Range`.
    pub missing_next_range: Option<String>,
    /// See [`DenyAfter`].
    pub deny_after: Option<DenyAfter>,
    /// Shape changes per endpoint, as real answers have them.
    pub quirks: Vec<Quirk>,
    /// Recorded answers served instead of the fixture's at their paths ([`load_replay`]).
    pub replay: ReplaySet,
}
