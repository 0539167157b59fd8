//! `manifest.json`: what a snapshot holds and, as importantly, what it does not.
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::heroku::{EndpointStats, RateLimitBudget};

/// Bumped when a table or column changes meaning; readers refuse versions they do not know.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format_version: u32,
    pub snapshot_id: String,
    /// When the extract finished (wall clock).
    pub taken_at: DateTime<Utc>,
    /// The instant the activity window is measured from (`--as-of`, else the start of the run).
    pub as_of: DateTime<Utc>,
    pub api_url: String,
    pub account_email: Option<String>,
    pub hkaudit_version: String,
    pub activity_window: ActivityWindow,
    /// False when any read failed for good: see `gaps`.
    pub complete: bool,
    pub tables: BTreeMap<String, TableInfo>,
    pub endpoints: BTreeMap<String, EndpointStats>,
    /// What the run spent of the rate-limit pool, its reserve and its waits (absent in
    /// snapshots from before `--reserve`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<RateLimitBudget>,
    pub gaps: Vec<Gap>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityWindow {
    pub days: u32,
    pub since: DateTime<Utc>,
    pub until: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableInfo {
    pub file: String,
    pub rows: u64,
    pub columns: Vec<String>,
    pub sha256: String,
}

/// A read that failed for good, or an object of an answer that could not be read. Its scope
/// (enterprise account, team, app, by id and name) and the tables it left incomplete let the
/// analysis skip exactly what was not read instead of treating it as empty.
///
/// Every gap has a `status` or an `error_id` (usually both), so it always says why it is there.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gap {
    /// Endpoint template, e.g. `GET /teams/{team}/members`.
    pub endpoint: String,
    /// The request path that failed.
    pub path: String,
    /// Tables that lack rows because of this gap.
    pub tables: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enterprise_account_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enterprise_account_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_name: Option<String>,
    /// Where in the answer the unreadable object is (`$[3]`, `$[3].user`), when the answer was
    /// read but one of its objects was not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json_path: Option<String>,
    /// HTTP status, when the API answered.
    pub status: Option<u16>,
    /// Heroku's error id (`forbidden`, `not_found`, ...) or hkaudit's (`pagination_loop`,
    /// `missing_next_range`, `unexpected_body`, `checksum_mismatch`, `timeout`,
    /// `connection_failed`, `server_error`).
    pub error_id: Option<String>,
    pub message: String,
}
