//! Writing a snapshot atomically.
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use polars::prelude::*;
use sha2::{Digest, Sha256};

use super::{schema, Manifest, SnapshotError, TableInfo};
use crate::fsutil;

/// Name of the pointer to the newest snapshot inside the output folder (a symlink).
pub const LATEST: &str = "latest";
const TMP_PREFIX: &str = ".tmp-";

pub struct SnapshotWriter {
    out_dir: PathBuf,
    id: String,
    tmp: PathBuf,
    tables: std::collections::BTreeMap<String, TableInfo>,
    finished: bool,
}

impl SnapshotWriter {
    /// Start a snapshot `id` under `out_dir`, in a temporary folder nothing reads.
    pub fn begin(out_dir: &Path, id: &str) -> Result<Self, SnapshotError> {
        fsutil::create_private_dir_all(out_dir)
            .map_err(|e| SnapshotError::file(out_dir, "cannot create the output folder", e))?;
        remove_abandoned_temporaries(out_dir);
        if out_dir.join(id).exists() {
            return Err(SnapshotError::Io {
                path: out_dir.join(id).display().to_string(),
                detail: "a snapshot with this id already exists".into(),
            });
        }
        let tmp = out_dir.join(format!("{TMP_PREFIX}{id}-{}", std::process::id()));
        fsutil::create_private_dir_all(&tmp).map_err(|e| SnapshotError::file(&tmp, "", e))?;
        Ok(SnapshotWriter {
            out_dir: out_dir.to_owned(),
            id: id.to_owned(),
            tmp,
            tables: Default::default(),
            finished: false,
        })
    }

    /// The folder being written (for tests that kill a run mid-way).
    pub fn temporary_dir(&self) -> &Path {
        &self.tmp
    }

    /// Write one table; a frame that differs from the table's definition (columns, their order
    /// or types) is refused, whoever built it.
    pub fn write_table(&mut self, name: &str, df: &mut DataFrame) -> Result<(), SnapshotError> {
        schema::table(name).ok_or_else(|| SnapshotError::UnknownTable { table: name.to_owned() })?.check(df)?;
        let file = format!("{name}.parquet");
        let path = self.tmp.join(&file);
        let handle = fsutil::create_private_file(&path).map_err(|e| SnapshotError::file(&path, "", e))?;
        ParquetWriter::new(handle)
            .finish(df)
            .map_err(|source| SnapshotError::Table { table: name.to_owned(), source })?;
        let info = TableInfo {
            file,
            rows: df.height() as u64,
            columns: df.get_column_names().iter().map(|c| c.to_string()).collect(),
            sha256: sha256_file(&path)?,
        };
        self.tables.insert(name.to_owned(), info);
        Ok(())
    }

    pub fn tables(&self) -> &std::collections::BTreeMap<String, TableInfo> {
        &self.tables
    }

    /// Write the manifest, rename the folder into place, then move `latest`.
    pub fn finish(mut self, manifest: &Manifest) -> Result<PathBuf, SnapshotError> {
        // A table left out would read as empty, and empty is not the same as not read.
        if let Some(table) = schema::TABLES.iter().find(|t| !manifest.tables.contains_key(**t)) {
            return Err(SnapshotError::MissingTable { table: (*table).to_owned() });
        }
        let bytes = serde_json::to_vec_pretty(manifest)
            .map_err(|e| SnapshotError::file(&self.tmp, "cannot write the manifest", e.into()))?;
        let manifest_path = self.tmp.join("manifest.json");
        fsutil::write_private_atomic(&manifest_path, &bytes).map_err(|e| SnapshotError::file(&manifest_path, "", e))?;
        sync_dir(&self.tmp);
        pause_before_rename_for_tests();
        let target = self.out_dir.join(&self.id);
        fs::rename(&self.tmp, &target)
            .map_err(|e| SnapshotError::file(&target, "cannot move the finished snapshot into place", e))?;
        sync_dir(&self.out_dir);
        self.finished = true;
        point_latest(&self.out_dir, &self.id)?;
        Ok(target)
    }
}

impl Drop for SnapshotWriter {
    fn drop(&mut self) {
        if !self.finished {
            let _ = fs::remove_dir_all(&self.tmp);
        }
    }
}

/// Test hook, not an interface: when `HKAUDIT_TEST_PAUSE_BEFORE_RENAME_MS` is set, a finished
/// snapshot (tables and manifest written) waits that long in its temporary folder before the
/// rename, so the kill -9 tests in `tests/it/extract.rs` can kill at exactly that instant. Read
/// only here; unset, it costs one environment lookup.
fn pause_before_rename_for_tests() {
    let millis = std::env::var("HKAUDIT_TEST_PAUSE_BEFORE_RENAME_MS").ok().and_then(|v| v.trim().parse::<u64>().ok());
    if let Some(millis) = millis {
        std::thread::sleep(std::time::Duration::from_millis(millis));
    }
}

fn sha256_file(path: &Path) -> Result<String, SnapshotError> {
    let mut file = fs::File::open(path).map_err(|e| SnapshotError::file(path, "", e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = file.read(&mut buf).map_err(|e| SnapshotError::file(path, "", e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

fn sync_dir(dir: &Path) {
    // Best effort: makes the rename durable on filesystems that need it.
    if let Ok(handle) = fs::File::open(dir) {
        let _ = handle.sync_all();
    }
}

/// `latest` is a relative symlink, replaced atomically (a new link renamed over the old one), so
/// `snapshots/latest/teams.parquet` works for any tool.
fn point_latest(out_dir: &Path, id: &str) -> Result<(), SnapshotError> {
    let link = out_dir.join(LATEST);
    let tmp = out_dir.join(format!("{TMP_PREFIX}latest-{}", std::process::id()));
    let _ = fs::remove_file(&tmp);
    #[cfg(unix)]
    std::os::unix::fs::symlink(id, &tmp).map_err(|e| SnapshotError::file(&tmp, "", e))?;
    #[cfg(not(unix))]
    fs::write(&tmp, id).map_err(|e| SnapshotError::file(&tmp, "", e))?;
    fs::rename(&tmp, &link).map_err(|e| SnapshotError::file(&link, "", e))
}

/// Temporary folders of runs that died (their process is gone) are removed; those of a run still
/// going are left alone.
fn remove_abandoned_temporaries(out_dir: &Path) {
    let Ok(entries) = fs::read_dir(out_dir) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix(TMP_PREFIX) else { continue };
        let pid = rest.rsplit('-').next().and_then(|p| p.parse::<u32>().ok());
        let alive = pid.is_some_and(|p| p == std::process::id() || Path::new(&format!("/proc/{p}")).exists());
        if !alive {
            let path = entry.path();
            let _ = if path.is_dir() { fs::remove_dir_all(&path) } else { fs::remove_file(&path) };
        }
    }
}
