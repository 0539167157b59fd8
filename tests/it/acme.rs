//! The acme organisation through the whole pipeline, in-process and over real loopback HTTP,
//! with a fixed snapshot id and `as_of` so every output is reproducible.
#![allow(dead_code)]
use std::path::{Path, PathBuf};

use hkaudit::analyze::{analyze_snapshot, AnalyzeOptions, Analyzed};
use hkaudit::extract::{extract, ExtractOptions};
use hkaudit::heroku::{Client, ClientConfig, Token};
use hkaudit::sandbox::{self, Fixture, SandboxConfig};

pub const SNAPSHOT_ID: &str = "acme-test";

pub fn acme_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/acme")
}

pub fn acme_token() -> String {
    let text = std::fs::read_to_string(acme_dir().join("sandbox.json")).expect("sandbox.json");
    let v: serde_json::Value = serde_json::from_str(&text).expect("json");
    v["tokens"][0]["token"].as_str().expect("token").to_owned()
}

/// Extract acme into `out` (a snapshots folder) and return the snapshot folder.
pub async fn extract_acme(out: &Path) -> PathBuf {
    extract_fixture(Fixture::load(&acme_dir()).expect("acme loads"), out, SNAPSHOT_ID).await
}

/// Extract any fixture (acme changed by a test, say) as snapshot `id`.
pub async fn extract_fixture(fixture: Fixture, out: &Path, id: &str) -> PathBuf {
    extract_with(SandboxConfig::new(fixture), out, id).await
}

/// Extract acme from a sandbox injecting `faults`.
pub async fn extract_acme_with_faults(out: &Path, id: &str, faults: hkaudit::sandbox::Faults) -> PathBuf {
    let mut config = SandboxConfig::new(Fixture::load(&acme_dir()).expect("acme loads"));
    config.faults = faults;
    extract_with(config, out, id).await
}

async fn extract_with(config: SandboxConfig, out: &Path, id: &str) -> PathBuf {
    let now = config.fixture.now();
    let handle = sandbox::start(config).await.expect("sandbox starts");
    let url = url::Url::parse(&handle.url()).expect("url");
    let client = Client::new(ClientConfig::new(url, Token::new(acme_token()))).expect("client");
    let mut opts = ExtractOptions::new(out);
    opts.as_of = Some(now);
    opts.snapshot_id = Some(id.to_owned());
    let extracted = extract(&client, &opts).await.expect("extract");
    handle.shutdown().await;
    extracted.path
}

/// Analyze a snapshot with every acme input (three IdP exports, two authorization exports).
pub fn analyze_acme(snapshot: &Path) -> Analyzed {
    analyze_with_inputs(snapshot, &acme_dir().join("inputs"))
}

/// Analyze with the IdP exports (`*.csv`), authorization exports (`*.json`) and sign-in logs
/// (`signins/*`) of `inputs`.
pub fn analyze_with_inputs(snapshot: &Path, inputs: &Path) -> Analyzed {
    let mut idp = Vec::new();
    let mut auths = Vec::new();
    for entry in std::fs::read_dir(inputs).expect("inputs").flatten() {
        let p = entry.path();
        match p.extension().and_then(|e| e.to_str()) {
            Some("csv") => idp.push(p),
            Some("json") => auths.push(p),
            _ => {}
        }
    }
    idp.sort();
    auths.sort();
    let mut signins: Vec<PathBuf> = match std::fs::read_dir(inputs.join("signins")) {
        Ok(entries) => entries.flatten().map(|e| e.path()).collect(),
        Err(_) => Vec::new(),
    };
    signins.sort();
    analyze_snapshot(&AnalyzeOptions {
        snapshot: snapshot.to_owned(),
        idp,
        authorizations: auths,
        signins,
        ..Default::default()
    })
    .expect("analyze")
}
