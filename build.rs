//! Embeds every `queries/*.sql` rule and `reports/*` template in the binary, so hkaudit runs from
//! any folder and a new rule file needs no code change.
use std::fmt::Write;
use std::path::Path;

fn embed(dir: &str, ext: Option<&str>, out_name: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    println!("cargo:rerun-if-changed={dir}");
    // A missing folder would silently ship a binary with no rules or templates: fail the build.
    let mut entries: Vec<_> = match std::fs::read_dir(&root) {
        Ok(rd) => rd.flatten().map(|e| e.path()).filter(|p| p.is_file()).collect(),
        Err(e) => panic!("cannot read {}: {e}", root.display()),
    };
    entries.retain(|p| ext.is_none_or(|x| p.extension().and_then(|e| e.to_str()) == Some(x)));
    entries.sort();
    let mut code = String::from("&[\n");
    for path in entries {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
        println!("cargo:rerun-if-changed={}", path.display());
        let _ = writeln!(code, "    ({name:?}, include_str!({:?})),", path.display().to_string());
    }
    code.push_str("]\n");
    let out = Path::new(&std::env::var("OUT_DIR").unwrap_or_default()).join(out_name);
    if let Err(e) = std::fs::write(&out, code) {
        panic!("cannot write {}: {e}", out.display());
    }
}

/// Every file of the demo organisation, with its path relative to `fixtures/acme`, so
/// `hkaudit demo` needs no checkout. Generator scripts are not part of the organisation.
fn embed_tree(dir: &str, out_name: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    println!("cargo:rerun-if-changed={dir}");
    let mut files = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else { continue };
        for entry in rd.flatten() {
            let path = entry.path();
            if path.is_dir() {
                if path.file_name().and_then(|n| n.to_str()) != Some("tools") {
                    println!("cargo:rerun-if-changed={}", path.display());
                    stack.push(path);
                }
            } else if matches!(path.extension().and_then(|e| e.to_str()), Some("json" | "csv" | "md")) {
                files.push(path);
            }
        }
    }
    files.sort();
    let mut code = String::from("&[\n");
    for path in files {
        let rel = path.strip_prefix(&root).map(|p| p.display().to_string()).unwrap_or_default();
        println!("cargo:rerun-if-changed={}", path.display());
        let _ = writeln!(code, "    ({rel:?}, include_bytes!({:?})),", path.display().to_string());
    }
    code.push_str("]\n");
    let out = Path::new(&std::env::var("OUT_DIR").unwrap_or_default()).join(out_name);
    if let Err(e) = std::fs::write(&out, code) {
        panic!("cannot write {}: {e}", out.display());
    }
}

fn main() {
    embed("queries", Some("sql"), "builtin_rules.rs");
    embed("reports", None, "builtin_templates.rs");
    embed_tree("fixtures/acme", "demo_fixture.rs");
}
