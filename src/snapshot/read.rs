//! Opening a snapshot for the stages after `extract`.
use std::path::{Path, PathBuf};

use polars::prelude::*;

use super::{Manifest, SnapshotError, FORMAT_VERSION, TABLES};

#[derive(Debug, Clone)]
pub struct Snapshot {
    dir: PathBuf,
    manifest: Manifest,
}

impl Snapshot {
    /// Open a snapshot folder, or an output folder's `latest`, and check its manifest.
    pub fn open(path: &Path) -> Result<Self, SnapshotError> {
        let dir = std::fs::canonicalize(path).map_err(|e| SnapshotError::file(path, "cannot open the snapshot", e))?;
        let manifest_path = dir.join("manifest.json");
        let bytes = match std::fs::read(&manifest_path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(SnapshotError::NotASnapshot { path: path.display().to_string() })
            }
            Err(e) => return Err(SnapshotError::file(&manifest_path, "", e)),
        };
        let raw: serde_json::Value = serde_json::from_slice(&bytes)
            .map_err(|source| SnapshotError::BadManifest { path: manifest_path.display().to_string(), source })?;
        let found = raw.get("format_version").and_then(|v| v.as_u64()).unwrap_or(0);
        if found != u64::from(FORMAT_VERSION) {
            return Err(SnapshotError::UnknownFormat { path: path.display().to_string(), found: found as u32 });
        }
        let manifest: Manifest = serde_json::from_value(raw)
            .map_err(|source| SnapshotError::BadManifest { path: manifest_path.display().to_string(), source })?;
        Ok(Snapshot { dir, manifest })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    pub fn table_path(&self, table: &str) -> PathBuf {
        self.dir.join(format!("{table}.parquet"))
    }

    /// A lazy scan of one table.
    pub fn scan(&self, table: &str) -> Result<LazyFrame, SnapshotError> {
        if !TABLES.contains(&table) {
            return Err(SnapshotError::UnknownTable { table: table.to_owned() });
        }
        let path = self.table_path(table);
        let parquet = |source| SnapshotError::Parquet { path: path.clone(), source };
        let pl_path = PlRefPath::try_from_path(&path).map_err(parquet)?;
        LazyFrame::scan_parquet(pl_path, ScanArgsParquet::default()).map_err(parquet)
    }

    /// Read a whole table.
    pub fn read(&self, table: &str) -> Result<DataFrame, SnapshotError> {
        self.scan(table)?.collect().map_err(|source| SnapshotError::Table { table: table.to_owned(), source })
    }
}
