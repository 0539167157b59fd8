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
//! (`ratelimit.rs`), fault decisions (`faults.rs`), counters (`stats.rs`), and the hyper service
//! with its routing (`server.rs`).
use std::path::PathBuf;
use std::time::Duration;

mod demo;
mod faults;
mod fixture;
mod range;
mod ratelimit;
mod server;
mod stats;
mod synthetic;

pub use demo::{demo_fixture_len, write_demo_fixture};
pub use fixture::{Fixture, Token};
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
}
