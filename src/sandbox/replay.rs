//! Recorded answers, served verbatim: the replay corpus (`fixtures/heroku-recorded`,
//! `docs/fixtures.md`). A `replay.json` names, per path, the recorded body to serve:
//!
//! ```json
//! {"rewrite_hosts": ["https://heroku-audit-trail-production.s3.amazonaws.com"],
//!  "routes": [
//!    {"path": "/account", "file": "hubot-deploy-heroku/account.json"},
//!    {"path": "/enterprise-accounts", "items": ["heroku-cli/ea-dingo.json", "heroku-cli/ea-heroku.json"]},
//!    {"path": "/aY5d996MH3MdNSiFKNv5oQTz", "file": "heroku-cli/archive.json.gz", "content_type": "application/gzip", "presigned": true}
//!  ]}
//! ```
//!
//! `file` is served byte for byte; `items` serves a JSON array of the named recorded objects (a
//! list endpoint answered with objects recorded one by one). `rewrite_hosts` are replaced with
//! the sandbox's own URL in every body, so a recorded download link points back at the sandbox
//! instead of the network; `presigned` routes, like real storage links, need no token or Accept.
use std::path::{Path, PathBuf};

use bytes::Bytes;
use serde::Deserialize;
use serde_json::Value;

use super::{Replay, SandboxError};

/// What a `replay.json` serves, with the host rewrites that apply to its bodies.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplaySet {
    pub routes: Vec<Replay>,
    /// Recorded hosts replaced with the sandbox's URL when served.
    pub rewrite_hosts: Vec<String>,
    /// Paths served without a token or Accept header (pre-signed download links).
    pub presigned: Vec<String>,
}

#[derive(Deserialize)]
struct File {
    #[serde(default)]
    rewrite_hosts: Vec<String>,
    routes: Vec<Route>,
}

#[derive(Deserialize)]
struct Route {
    path: String,
    #[serde(default = "ok")]
    status: u16,
    #[serde(default)]
    file: Option<PathBuf>,
    #[serde(default)]
    items: Vec<PathBuf>,
    #[serde(default)]
    content_type: Option<String>,
    #[serde(default)]
    presigned: bool,
}

fn ok() -> u16 {
    200
}

/// Read `dir/replay.json` and every file it names. Errors name the file.
pub fn load_replay(dir: &Path) -> Result<ReplaySet, SandboxError> {
    let index = dir.join("replay.json");
    let read = |path: &Path| std::fs::read(path).map_err(|source| SandboxError::Read { path: path.to_owned(), source });
    let file: File =
        serde_json::from_slice(&read(&index)?).map_err(|source| SandboxError::Json { path: index.clone(), source })?;
    let mut set = ReplaySet { rewrite_hosts: file.rewrite_hosts, ..ReplaySet::default() };
    for route in file.routes {
        let body = match (&route.file, route.items.is_empty()) {
            (Some(f), true) => Bytes::from(read(&dir.join(f))?),
            (None, false) => {
                let mut items = Vec::with_capacity(route.items.len());
                for f in &route.items {
                    let path = dir.join(f);
                    let value: Value =
                        serde_json::from_slice(&read(&path)?).map_err(|source| SandboxError::Json { path, source })?;
                    items.push(value);
                }
                Bytes::from(serde_json::to_vec(&Value::Array(items)).unwrap_or_default())
            }
            _ => {
                return Err(SandboxError::Invalid {
                    path: index,
                    reason: format!("route {} needs exactly one of `file` or `items`", route.path),
                })
            }
        };
        if route.presigned {
            set.presigned.push(route.path.clone());
        }
        set.routes.push(Replay {
            path: route.path,
            status: route.status,
            content_type: route.content_type.unwrap_or_else(|| "application/json; charset=utf-8".to_owned()),
            body,
        });
    }
    Ok(set)
}
