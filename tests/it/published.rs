//! The published formats (`findings.json`, `summary.json`): each has a JSON Schema in `docs/`
//! generated from its type, the schema files are current, and what hkaudit writes for acme
//! validates against them.
//!
//! After changing a type in `src/published/`, regenerate the files with
//! `HKAUDIT_UPDATE_SCHEMAS=1 cargo test --test it published::` and review the diff: a removed or
//! renamed field breaks readers and needs a new format version.
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use hkaudit::report::{self, Format, ReportOptions};
use serde_json::Value;

use crate::acme;

fn docs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("docs")
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

/// `"<instance path>: <message>"` for every way `value` breaks the committed schema `name`.
fn errors(name: &str, value: &Value) -> Vec<String> {
    let schema = read_json(&docs().join(name));
    let validator =
        jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("docs/{name} is not a valid JSON Schema: {e}"));
    validator.iter_errors(value).map(|e| format!("{}: {e}", e.instance_path())).collect()
}

#[test]
fn the_schema_files_in_docs_are_generated_from_the_published_types() {
    let update = std::env::var_os("HKAUDIT_UPDATE_SCHEMAS").is_some();
    for (name, text) in hkaudit::published::schema_files() {
        let path = docs().join(name);
        if update {
            std::fs::write(&path, &text).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == text,
            "docs/{name} is not the schema of its type in src/published/: regenerate it with \
             HKAUDIT_UPDATE_SCHEMAS=1 cargo test --test it published:: and review the diff"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn acme_findings_and_summary_validate_against_their_schemas() {
    let dir = tempfile::tempdir().expect("tempdir");
    let snapshot = acme::extract_acme(&dir.path().join("snapshots")).await;
    acme::analyze_acme(&snapshot);
    let model = report::load_model(&snapshot, None, &hkaudit::analyze::Config::default()).expect("model");
    let out = snapshot.join("report");
    let formats: BTreeSet<Format> = [Format::Json].into_iter().collect();
    report::render(&model, &ReportOptions { out_dir: out.clone(), formats }).expect("render");

    let findings = read_json(&snapshot.join("findings.json"));
    assert_eq!(errors("findings.schema.json", &findings), Vec::<String>::new());
    assert!(findings["findings"].as_array().is_some_and(|f| !f.is_empty()), "acme has findings to check");
    let summary = read_json(&out.join("summary.json"));
    assert_eq!(errors("summary.schema.json", &summary), Vec::<String>::new());

    // The schemas say something: a value of the wrong kind, an unknown word or a missing field is
    // refused, each at its place.
    let mut bad = findings.clone();
    bad["findings"][0]["severity"] = Value::from("severe");
    bad["findings"][1]["fix"] = Value::from("delete-user");
    bad["rules"][0].as_object_mut().expect("a rule").remove("rule_id");
    let found = errors("findings.schema.json", &bad);
    for place in ["/findings/0/severity", "/findings/1/fix", "/rules/0"] {
        assert!(found.iter().any(|e| e.starts_with(&format!("{place}: "))), "{place} not refused: {found:?}");
    }
    let mut bad = summary.clone();
    bad["cost"]["monthly_cents"] = Value::from("$10.00");
    let found = errors("summary.schema.json", &bad);
    assert!(found.iter().any(|e| e.starts_with("/cost/monthly_cents: ")), "{found:?}");
}

/// findings.json written before inputs were described (names only) and before the rules'
/// consequences existed still validates and reads, as `manual`, `review`, no seat.
#[tokio::test(flavor = "multi_thread")]
async fn an_older_findings_json_still_validates_and_reads() {
    let dir = tempfile::tempdir().expect("tempdir");
    let snapshot = acme::extract_acme(&dir.path().join("snapshots")).await;
    acme::analyze_acme(&snapshot);
    let mut old = read_json(&snapshot.join("findings.json"));
    old["inputs"] = serde_json::json!(["okta:okta-users.csv", "export:heroku-authorizations-dave.deprov.json"]);
    for list in ["rules", "findings"] {
        for entry in old[list].as_array_mut().expect("a list") {
            let entry = entry.as_object_mut().expect("an object");
            for field in ["fix", "certify", "frees_seat"] {
                entry.remove(field);
            }
        }
    }
    assert_eq!(errors("findings.schema.json", &old), Vec::<String>::new());
    std::fs::write(snapshot.join("findings.json"), serde_json::to_vec_pretty(&old).expect("json")).expect("write");
    let set = hkaudit::analyze::read_findings(&snapshot).expect("an older findings.json reads");
    assert_eq!(set.inputs[1].kind, "authorizations");
    assert!(set.findings.iter().all(|f| f.fix == hkaudit::analyze::Fix::Manual && !f.frees_seat));
}
