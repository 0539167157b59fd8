//! The Heroku Platform API as hkaudit reads it: a read-only client with Heroku's pagination,
//! rate limiting, ETags and error bodies handled in one place, and the models of the resources
//! the audit needs.
//!
//! Nothing here knows about snapshots or the sandbox: the client talks to whatever base URL it is
//! given, so the sandbox and the real API exercise the same code path.
mod auth;
mod cache;
mod client;
pub mod decode;
mod error;
pub mod models;
mod range;

pub use auth::{discover_token, Token, TokenSource};
pub use cache::EtagCache;
pub use client::{Client, ClientConfig, EndpointStats, Listed, RateLimitBudget, Stats};
pub use error::ApiError;
pub use range::{ContentRange, RangeSpec};

/// The Platform API's production base URL.
pub const DEFAULT_API_URL: &str = "https://api.heroku.com";
/// Every request names API version 3; Heroku answers 406 otherwise.
pub const ACCEPT_V3: &str = "application/vnd.heroku+json; version=3";
/// Team invitations are served under a variant of version 3.
pub const ACCEPT_TEAM_INVITATIONS: &str = "application/vnd.heroku+json; version=3.team-invitations";
