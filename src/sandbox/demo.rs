//! The demo organisation (`fixtures/acme`), embedded in the binary so `hkaudit demo` runs from
//! any folder with no checkout.
use std::path::Path;

const FILES: &[(&str, &[u8])] = include!(concat!(env!("OUT_DIR"), "/demo_fixture.rs"));

/// Write the acme fixture (JSON the sandbox serves, and `inputs/` for `analyze`) into `dir`.
pub fn write_demo_fixture(dir: &Path) -> std::io::Result<()> {
    for (rel, bytes) in FILES {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            crate::fsutil::create_private_dir_all(parent)?;
        }
        crate::fsutil::write_private_atomic(&path, bytes)?;
    }
    Ok(())
}

/// How many files the embedded organisation holds (a build that embedded nothing is a bug).
pub fn demo_fixture_len() -> usize {
    FILES.len()
}
