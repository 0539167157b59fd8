//! A folder of list pages keyed by URL, `Range` and `Accept`, replayed on `304 Not Modified`.
//!
//! Heroku once served one ETag for every page of a list, so the key includes the `Range`.
//! Pages that carry secrets (OAuth authorizations) are never cached: the client marks them so.
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::ApiError;

#[derive(Debug, Clone)]
pub struct EtagCache {
    dir: PathBuf,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct CachedPage {
    pub etag: String,
    pub status: u16,
    pub next_range: Option<String>,
    pub body: String,
}

impl EtagCache {
    /// Open (creating if needed, owner-only) a cache folder.
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self, ApiError> {
        let dir = dir.into();
        crate::fsutil::create_private_dir_all(&dir).map_err(|source| ApiError::Cache {
            path: dir.display().to_string(),
            action: "cannot create the cache folder",
            source,
        })?;
        Ok(EtagCache { dir })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, url: &str, range: Option<&str>, accept: &str) -> PathBuf {
        let mut hasher = Sha256::new();
        for part in [url, range.unwrap_or(""), accept] {
            hasher.update(part.as_bytes());
            hasher.update([0u8]);
        }
        self.dir.join(format!("{}.json", hex::encode(hasher.finalize())))
    }

    /// A cached page, if any. An unreadable entry is treated as absent: the cache is an
    /// optimisation, and the request simply goes out without `If-None-Match`.
    pub(crate) fn get(&self, url: &str, range: Option<&str>, accept: &str) -> Option<CachedPage> {
        let text = std::fs::read(self.path(url, range, accept)).ok()?;
        serde_json::from_slice(&text).ok()
    }

    pub(crate) fn put(&self, url: &str, range: Option<&str>, accept: &str, page: &CachedPage) -> Result<(), ApiError> {
        let path = self.path(url, range, accept);
        let bytes = serde_json::to_vec(page).map_err(|e| ApiError::Cache {
            path: path.display().to_string(),
            action: "cannot encode the page",
            source: e.into(),
        })?;
        crate::fsutil::write_private_atomic(&path, &bytes).map_err(|source| ApiError::Cache {
            path: path.display().to_string(),
            action: "cannot write the page",
            source,
        })
    }
}
