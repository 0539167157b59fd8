//! Embeds every `queries/*.sql` rule and `reports/*` template in the binary, so hkaudit runs from
//! any folder and a new rule file needs no code change.
use std::fmt::Write;
use std::path::Path;

fn embed(dir: &str, ext: Option<&str>, out_name: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    println!("cargo:rerun-if-changed={dir}");
    let mut entries: Vec<_> = std::fs::read_dir(&root)
        .map(|rd| rd.flatten().map(|e| e.path()).filter(|p| p.is_file()).collect())
        .unwrap_or_default();
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

fn main() {
    embed("queries", Some("sql"), "builtin_rules.rs");
    embed("reports", None, "builtin_templates.rs");
}
