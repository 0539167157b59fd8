//! `hkaudit snapshots list|prune`: keep semantics, and everything prune must never remove.
use std::path::{Path, PathBuf};

use hkaudit::history::retention::{list, prune, PruneOptions};
use hkaudit::snapshot::Snapshot;

/// A snapshot folder with only a manifest: retention reads nothing else.
fn fake(dir: &Path, id: &str, day: u32) -> PathBuf {
    let path = dir.join(id);
    std::fs::create_dir_all(&path).expect("mkdir");
    let t = format!("2026-11-{day:02}T12:00:00Z");
    let manifest = serde_json::json!({
        "format_version": 1, "snapshot_id": id, "taken_at": t, "as_of": t, "api_url": "http://127.0.0.1:1",
        "account_email": null, "hkaudit_version": "0.1.0",
        "activity_window": {"days": 180, "since": t, "until": t},
        "complete": day.is_multiple_of(2), "tables": {}, "endpoints": {}, "gaps": [],
    });
    std::fs::write(path.join("manifest.json"), serde_json::to_vec(&manifest).expect("json")).expect("write");
    std::fs::write(path.join("teams.parquet"), vec![0u8; 100 * day as usize]).expect("write");
    path
}

fn point_latest(dir: &Path, id: &str) {
    let link = dir.join("latest");
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(id, &link).expect("symlink");
}

/// s01..s05 (s05 newest, `latest`), plus things that are not snapshots.
fn folder() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tempdir");
    let d = tmp.path();
    for day in 1..=5 {
        fake(d, &format!("s{day:02}"), day);
    }
    point_latest(d, "s05");
    std::fs::create_dir_all(d.join("notes")).expect("mkdir");
    std::fs::write(d.join("notes/keep.txt"), "mine").expect("write");
    std::fs::create_dir_all(d.join(".tmp-s06-999999")).expect("mkdir");
    std::fs::write(d.join(".tmp-s06-999999/manifest.json"), "{}").expect("write");
    std::fs::create_dir_all(d.join("broken")).expect("mkdir");
    std::fs::write(d.join("broken/manifest.json"), "{not json").expect("write");
    std::fs::write(d.join("README.txt"), "hello").expect("write");
    tmp
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> =
        std::fs::read_dir(dir).expect("read").flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    v.sort();
    v
}

#[test]
fn list_shows_snapshots_newest_first_and_what_is_not_one() {
    let tmp = folder();
    std::fs::write(tmp.path().join("s03/findings.json"), "{}").expect("write");
    let l = list(tmp.path()).expect("list");
    let ids: Vec<&str> = l.snapshots.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["s05", "s04", "s03", "s02", "s01"]);
    assert_eq!(l.latest.as_deref(), Some("s05"));
    assert!(l.snapshots[0].latest && !l.snapshots[1].latest);
    assert_eq!((l.snapshots[1].complete, l.snapshots[0].complete), (true, false));
    assert!(l.snapshots[2].findings && !l.snapshots[1].findings);
    assert!(l.snapshots[0].size_bytes >= 500);
    let others: Vec<&str> = l.others.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(others, [".tmp-s06-999999", "README.txt", "broken", "notes"]);
}

#[test]
fn prune_keeps_the_newest_n_and_leaves_everything_else_alone() {
    let tmp = folder();
    let before = names(tmp.path());
    let dry = prune(tmp.path(), &PruneOptions { keep: 2, dry_run: true, ..Default::default() }).expect("dry run");
    assert_eq!(dry.removed.iter().map(|r| r.folder.as_str()).collect::<Vec<_>>(), ["s03", "s02", "s01"]);
    assert_eq!(names(tmp.path()), before, "--dry-run deletes nothing");

    let r = prune(tmp.path(), &PruneOptions { keep: 2, ..Default::default() }).expect("prune");
    assert_eq!(r.removed.len(), 3);
    assert_eq!(names(tmp.path()), [".tmp-s06-999999", "README.txt", "broken", "latest", "notes", "s04", "s05"]);
    assert_eq!(std::fs::read_to_string(tmp.path().join("notes/keep.txt")).expect("untouched"), "mine");
    assert_eq!(r.left_alone.len(), 4);
    let latest = Snapshot::open(&tmp.path().join("latest")).expect("latest still opens");
    assert_eq!(latest.manifest().snapshot_id, "s05");
}

#[test]
fn newest_and_latest_survive_keep_zero() {
    let tmp = folder();
    // `latest` pointing at an older snapshot keeps that one too, so the link never dangles.
    point_latest(tmp.path(), "s02");
    let r = prune(tmp.path(), &PruneOptions { keep: 0, ..Default::default() }).expect("prune");
    let kept: Vec<(&str, String)> = r.kept.iter().map(|k| (k.folder.as_str(), k.reasons.join(", "))).collect();
    assert_eq!(kept, [("s05", "newest snapshot".to_owned()), ("s02", "`latest` points at it".to_owned())]);
    assert!(Snapshot::open(&tmp.path().join("latest")).is_ok());
    assert!(!tmp.path().join("s01").exists() && !tmp.path().join("s04").exists());
}

#[test]
fn worksheet_referenced_snapshots_are_protected() {
    let tmp = folder();
    let ws = tmp.path().join("given.csv");
    // BOM, semicolons, reordered columns: as a spreadsheet saves it.
    std::fs::write(&ws, "\u{feff}decision;Snapshot_ID;user_email\nDeny;s01;a@e.example\n").expect("write");
    std::fs::create_dir_all(tmp.path().join("worksheets")).expect("mkdir");
    std::fs::write(tmp.path().join("worksheets/q3.csv"), "snapshot_id,decision\r\ns03,Approve\r\n").expect("write");
    let r = prune(tmp.path(), &PruneOptions { keep: 1, worksheets: vec![ws.clone()], ..Default::default() })
        .expect("prune");
    assert_eq!(r.removed.iter().map(|x| x.folder.as_str()).collect::<Vec<_>>(), ["s04", "s02"]);
    for id in ["s01", "s03", "s05"] {
        assert!(tmp.path().join(id).join("manifest.json").exists(), "{id} kept");
    }
    assert!(r.kept.iter().any(|k| k.folder == "s01" && k.reasons == ["referenced by a worksheet"]));

    // A worksheet that cannot say which snapshots it needs stops the prune before any removal.
    std::fs::write(tmp.path().join("worksheets/bad.csv"), "team,decision\nx,Deny\n").expect("write");
    let before = names(tmp.path());
    let err = prune(tmp.path(), &PruneOptions { keep: 1, ..Default::default() }).expect_err("refused");
    assert!(err.to_string().contains("bad.csv") && err.to_string().contains("snapshot_id"), "{err}");
    assert_eq!(names(tmp.path()), before);
}

#[test]
fn cli_lists_and_prunes() {
    let tmp = folder();
    let bin = env!("CARGO_BIN_EXE_hkaudit");
    let out =
        std::process::Command::new(bin).args(["snapshots", "list", "--json"]).arg(tmp.path()).output().expect("run");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["snapshots"][0]["id"], "s05");
    let out = std::process::Command::new(bin)
        .args(["snapshots", "prune", "--keep", "1", "--dry-run"])
        .arg(tmp.path())
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success()
            && text.contains("would remove s04")
            && text.contains("kept s05: newest snapshot")
            && text.contains("left alone notes"),
        "{text}"
    );
    assert!(tmp.path().join("s01").exists());
}
