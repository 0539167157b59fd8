//! Analyze benchmark: generate a large snapshot directly as Parquet (no API), plus an Okta-shaped
//! IdP export, then time the real `hkaudit analyze` binary on it and report wall time and peak RSS.
//!
//! Run: `cargo bench --bench analyze` (1,000,000 team memberships, 10,000,000 activity rows),
//! `cargo bench --bench analyze -- --quick` (seconds). `-- --per-rule` (or
//! `HKAUDIT_BENCH_PER_RULE=1`) also times each rule of `queries/` alone (`--queries` with a
//! folder holding only that rule); `-- --generate-only` only writes the data; `-- --idp-only`
//! runs only the IdP-reading part (the export read alone, and analyze of a 10-person snapshot
//! with it). Sizes: `HKAUDIT_BENCH_TEAMS` (1000), `HKAUDIT_BENCH_PEOPLE`
//! (200000), `HKAUDIT_BENCH_MEMBERSHIPS` (1000000), `HKAUDIT_BENCH_ACTIVITY` (10000000),
//! `HKAUDIT_BENCH_APPS` (5000), `HKAUDIT_BENCH_IDP_USERS` (200000), `HKAUDIT_BENCH_SIGNINS`
//! (5000000: the sign-in log of a large tenant's 90 days, an Entra ID portal CSV written here,
//! analyzed with `--signins` in a second run; 0 skips it). The generated data is kept in
//! `target/bench-data/` and reused by later runs of the same sizes (`HKAUDIT_BENCH_REGENERATE=1`
//! to rebuild it); generation time is printed but is not the measured figure.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::Context;
use chrono::{TimeZone, Utc};
use common::synthetic::{generate, Sizes};
use serde_json::{json, Value};

fn analyze_cmd(snapshot: &Path, idp: &Path, out: &Path, queries: Option<&Path>) -> Command {
    let mut cmd = Command::new(common::hkaudit());
    cmd.arg("analyze")
        .arg(snapshot)
        .args(["--fail-on", "critical", "--json"])
        .arg("--idp")
        .arg(idp)
        .arg("--out")
        .arg(out);
    if let Some(q) = queries {
        cmd.arg("--queries").arg(q);
    }
    cmd
}

/// The IdP-reading part: the export read by the library alone (best of 3, in this process), and
/// `hkaudit analyze` of a 10-person snapshot with only that export, so reading it is nearly all
/// the run does.
fn idp_reading(data: &Path, idp: &Path, as_of: chrono::DateTime<Utc>) -> anyhow::Result<Value> {
    let tiny = data.join("tiny");
    let snapshot = tiny.join("snapshots/latest");
    if !snapshot.join("manifest.json").exists() {
        std::fs::create_dir_all(&tiny)?;
        let sizes = Sizes { teams: 2, people: 10, memberships: 10, activity: 10, apps: 2, idp_users: 0 };
        generate(&tiny, sizes, as_of)?;
    }
    let best_of_3 = |path: &Path| -> anyhow::Result<(f64, usize)> {
        let mut best = f64::INFINITY;
        let mut users = 0;
        for _ in 0..3 {
            let start = Instant::now();
            let export = hkaudit::analyze::idp::load_idp_export(path).map_err(|e| anyhow::anyhow!("{e}"))?;
            best = best.min(start.elapsed().as_secs_f64());
            users = export.users.len();
        }
        Ok((best, users))
    };
    let (best, users) = best_of_3(idp)?;
    // The same export as Windows PowerShell's `-Encoding Unicode` writes it: UTF-16LE with a BOM.
    let utf16 = data.join("okta-users-utf16.csv");
    if !utf16.exists() {
        let text = std::fs::read_to_string(idp)?;
        let mut bytes = vec![0xFF, 0xFE];
        bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        std::fs::write(&utf16, bytes)?;
    }
    let (best_utf16, _) = best_of_3(&utf16)?;
    let out = tempfile::tempdir()?;
    eprintln!("analyze: a 10-person snapshot with the IdP export ...");
    let run = common::run_measured(analyze_cmd(&snapshot, idp, out.path(), None))?;
    check(&run)?;
    println!();
    println!("{:<48} {:>8} {:>13} {:>9}", "IdP reading", "wall s", "peak RSS MiB", "users");
    println!("{:<48} {:>8.3} {:>13} {:>9}", "load_idp_export (library, best of 3)", best, "-", users);
    println!("{:<48} {:>8.3} {:>13} {:>9}", "  the same file in UTF-16LE", best_utf16, "-", users);
    println!(
        "{:<48} {:>8.3} {:>13.1} {:>9}",
        "hkaudit analyze (10-person snapshot, --idp)",
        run.wall.as_secs_f64(),
        run.peak_rss_mib(),
        users
    );
    Ok(json!({
        "users": users,
        "export_mib": (std::fs::metadata(idp)?.len() as f64 / 1048576.0 * 10.0).round() / 10.0,
        "library_read_s": (best * 1000.0).round() / 1000.0,
        "library_read_utf16_s": (best_utf16 * 1000.0).round() / 1000.0,
        "analyze_wall_s": common::secs(run.wall),
        "analyze_peak_rss_mib": (run.peak_rss_mib() * 10.0).round() / 10.0,
    }))
}

/// `hkaudit analyze` with the same snapshot and IdP export plus an Entra ID sign-in log of
/// `HKAUDIT_BENCH_SIGNINS` rows (generated once, kept beside the snapshot): the log is read,
/// turned into the `signins` table and joined by `inactive-seat`.
fn signins_run(
    data: &Path,
    snapshot: &Path,
    idp: &Path,
    sizes: Sizes,
    as_of: chrono::DateTime<Utc>,
    default_rows: usize,
) -> anyhow::Result<Value> {
    let rows = common::env_usize("HKAUDIT_BENCH_SIGNINS", default_rows)?;
    if rows == 0 {
        return Ok(Value::Null);
    }
    let log = data.join(format!("entra-signins-{rows}.csv"));
    if !log.exists() {
        let start = Instant::now();
        eprintln!("generating {} ...", log.display());
        common::synthetic::write_entra_signins(&log, sizes, rows, as_of)?;
        println!("generated the sign-in log in {:.1} s", start.elapsed().as_secs_f64());
    }
    let mib = std::fs::metadata(&log)?.len() as f64 / 1048576.0;
    let out = tempfile::tempdir()?;
    eprintln!("analyze: all rules, with the sign-in log ...");
    let mut cmd = analyze_cmd(snapshot, idp, out.path(), None);
    cmd.arg("--signins").arg(&log);
    let run = common::run_measured(cmd)?;
    let summary = check(&run)?;
    let seats = summary["rules"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["rule_id"] == "inactive-seat"))
        .map(|r| r["findings"].clone())
        .unwrap_or(Value::Null);
    println!(
        "{:<40} {:>8.2} {:>13.1} {:>9}",
        format!("  + --signins ({rows} rows, {mib:.0} MiB)"),
        run.wall.as_secs_f64(),
        run.peak_rss_mib(),
        summary["findings"].as_u64().unwrap_or(0)
    );
    Ok(json!({
        "rows": rows,
        "log_mib": (mib * 10.0).round() / 10.0,
        "wall_s": common::secs(run.wall),
        "peak_rss_mib": (run.peak_rss_mib() * 10.0).round() / 10.0,
        "findings": summary["findings"],
        "inactive_seat_findings": seats,
        "targets": {"wall_under_10s": run.wall.as_secs_f64() < 10.0, "peak_rss_under_2gb": run.peak_rss_mib() * 1048576.0 < 2e9},
    }))
}

fn check(run: &common::Measured) -> anyhow::Result<Value> {
    // 0, 3 or 10..=14 (findings at or above --fail-on); 2 is an error.
    let code = run.status.code().unwrap_or(-1);
    if !(code == 0 || code == 3 || (10..=14).contains(&code)) {
        anyhow::bail!("analyze exited {}:\n{}", run.status, run.stderr);
    }
    Ok(serde_json::from_str(run.stdout.lines().last().unwrap_or("{}"))?)
}

fn main() -> anyhow::Result<()> {
    let quick = common::quick();
    let per_rule =
        std::env::args().any(|a| a == "--per-rule") || std::env::var("HKAUDIT_BENCH_PER_RULE").is_ok_and(|v| v == "1");
    let q = |full: usize, small: usize| if quick { small } else { full };
    let sizes = Sizes {
        teams: common::env_usize("HKAUDIT_BENCH_TEAMS", q(1_000, 20))?,
        people: common::env_usize("HKAUDIT_BENCH_PEOPLE", q(200_000, 2_000))?,
        memberships: common::env_usize("HKAUDIT_BENCH_MEMBERSHIPS", q(1_000_000, 10_000))?,
        activity: common::env_usize("HKAUDIT_BENCH_ACTIVITY", q(10_000_000, 100_000))?,
        apps: common::env_usize("HKAUDIT_BENCH_APPS", q(5_000, 200))?,
        idp_users: common::env_usize("HKAUDIT_BENCH_IDP_USERS", q(200_000, 2_000))?,
    };
    anyhow::ensure!(
        sizes.people > 0 && sizes.teams > 0 && sizes.memberships >= sizes.people,
        "need people, teams and at least one membership per person"
    );
    let as_of = Utc.with_ymd_and_hms(2026, 5, 1, 10, 0, 0).single().context("as-of")?;
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-data").join(format!("analyze-{}", sizes.key()));
    let snapshot = data.join("snapshots/latest");
    let idp = data.join("okta-users.csv");
    let regenerate = std::env::var("HKAUDIT_BENCH_REGENERATE").is_ok_and(|v| v == "1");
    let machine = common::machine();
    println!("analyze benchmark: {sizes:?}");
    println!("machine: {machine}");
    println!("binary: {}", common::hkaudit().display());
    if std::env::args().any(|a| a == "--idp-only") {
        if regenerate || !idp.exists() {
            std::fs::create_dir_all(&data)?;
            common::synthetic::write_okta_export(&idp, sizes)?;
        }
        let idp_part = idp_reading(&data, &idp, as_of)?;
        println!(
            "JSON {}",
            json!({"bench": "analyze-idp", "date": Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true), "machine": machine, "idp_reading": idp_part})
        );
        return Ok(());
    }
    let generated = if regenerate || !snapshot.join("manifest.json").exists() || !idp.exists() {
        let start = Instant::now();
        eprintln!("generating {} ...", data.display());
        std::fs::create_dir_all(&data)?;
        generate(&data, sizes, as_of)?;
        let took = start.elapsed();
        println!("generated the snapshot in {:.1} s", took.as_secs_f64());
        true
    } else {
        println!("reusing the snapshot in {}", data.display());
        false
    };
    if std::env::args().any(|a| a == "--generate-only") {
        return Ok(());
    }
    let manifest: Value = serde_json::from_slice(&std::fs::read(snapshot.join("manifest.json"))?)?;
    let rows: BTreeMap<String, u64> = manifest["tables"]
        .as_object()
        .map(|o| o.iter().map(|(k, v)| (k.clone(), v["rows"].as_u64().unwrap_or(0))).collect())
        .unwrap_or_default();
    let bytes: u64 = std::fs::read_dir(data.join("snapshots/bench"))?
        .flatten()
        .filter_map(|e| e.metadata().ok())
        .map(|m| m.len())
        .sum();
    println!("rows: {}", json!(rows));
    println!(
        "snapshot size: {:.1} MiB; IdP export {:.1} MiB",
        bytes as f64 / 1048576.0,
        std::fs::metadata(&idp)?.len() as f64 / 1048576.0
    );

    let idp_part = idp_reading(&data, &idp, as_of)?;

    let out = tempfile::tempdir()?;
    eprintln!("analyze: all rules ...");
    let run = common::run_measured(analyze_cmd(&snapshot, &idp, out.path(), None))?;
    let summary = check(&run)?;
    let wall = run.wall.as_secs_f64();
    let rss = run.peak_rss_mib();
    println!();
    println!("{:<40} {:>8} {:>13} {:>9}", "run", "wall s", "peak RSS MiB", "findings");
    println!(
        "{:<40} {:>8.2} {:>13.1} {:>9}",
        "hkaudit analyze (all rules, --idp)",
        wall,
        rss,
        summary["findings"].as_u64().unwrap_or(0)
    );
    let signins_part = signins_run(&data, &snapshot, &idp, sizes, as_of, q(5_000_000, 50_000))?;
    let mut rules_timed = Vec::new();
    if per_rule {
        let queries = Path::new(env!("CARGO_MANIFEST_DIR")).join("queries");
        let mut files: Vec<PathBuf> = std::fs::read_dir(&queries)?
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "sql"))
            .collect();
        files.sort();
        for file in files {
            let one = tempfile::tempdir()?;
            let name = file.file_name().context("rule file name")?;
            std::fs::copy(&file, one.path().join(name))?;
            let out = tempfile::tempdir()?;
            let run = common::run_measured(analyze_cmd(&snapshot, &idp, out.path(), Some(one.path())))?;
            let rule = name.to_string_lossy().trim_end_matches(".sql").to_owned();
            let findings = check(&run).map(|s| s["findings"].as_u64().unwrap_or(0));
            match findings {
                Ok(f) => println!(
                    "{:<40} {:>8.2} {:>13.1} {:>9}",
                    format!("  only {rule}"),
                    run.wall.as_secs_f64(),
                    run.peak_rss_mib(),
                    f
                ),
                Err(e) => println!("  only {rule}: failed: {e}"),
            }
            rules_timed.push(json!({"rule": rule, "wall_s": common::secs(run.wall), "peak_rss_mib": (run.peak_rss_mib() * 10.0).round() / 10.0}));
        }
    }
    let by_rule: BTreeMap<String, Value> = summary["rules"]
        .as_array()
        .map(|rules| {
            rules
                .iter()
                .map(|r| {
                    (
                        r["rule_id"].as_str().unwrap_or("?").to_owned(),
                        json!({"status": r["status"], "findings": r["findings"]}),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    println!();
    println!("findings by rule: {}", json!(by_rule));
    let targets = json!({"wall_under_10s": wall < 10.0, "peak_rss_under_2gb": rss * 1048576.0 < 2e9});
    println!("targets (< 10 s, < 2 GB): {targets}");
    let line = json!({
        "bench": "analyze",
        "date": Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "sizes": {"teams": sizes.teams, "people": sizes.people, "memberships": sizes.memberships, "activity": sizes.activity, "apps": sizes.apps, "idp_users": sizes.idp_users},
        "rows": rows,
        "snapshot_mib": (bytes as f64 / 1048576.0 * 10.0).round() / 10.0,
        "generated_now": generated,
        "machine": machine,
        "wall_s": common::secs(run.wall),
        "peak_rss_mib": (rss * 10.0).round() / 10.0,
        "findings": summary["findings"],
        "by_severity": summary["by_severity"],
        "rules": by_rule,
        "per_rule": rules_timed,
        "idp_reading": idp_part,
        "signins": signins_part,
        "targets": targets,
    });
    println!("JSON {line}");
    Ok(())
}
