//! Worksheet benchmark: a filled-in certification worksheet of 100,000 rows read back through
//! `hkaudit plan --from-worksheet` and `hkaudit certify`, timed with peak RSS (issue 12: reading a
//! worksheet was quadratic in its rows).
//!
//! The worksheet is real: a synthetic snapshot with enough grants (`common::synthetic`), analyzed
//! and reported by the release binary (`hkaudit report --format csv`), its `certification.csv`
//! cut to N rows and filled in as a reviewer would (every tenth row `Deny`, the rest `Approve`,
//! with a reviewer, a date and a justification), saved with a BOM, CRLF and `;` as a European
//! Excel does. `certify` checks it against the same snapshot, so every denied grant is "still
//! present" (exit 4) and every row is looked up.
//!
//! Run: `cargo bench --bench worksheet`; `-- --quick` (or `HKAUDIT_BENCH_QUICK=1`) for 2,000 rows.
//! Sizes: `HKAUDIT_BENCH_WORKSHEET_ROWS`, a comma-separated list (default `100000`). The
//! snapshot is kept in `target/bench-data/` and reused.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context};
use chrono::{TimeZone, Utc};
use common::synthetic::{generate, Sizes};
use serde_json::json;

/// Generate (or reuse) a snapshot with at least `rows` grants, with findings and its report.
fn snapshot_with_worksheet(rows: usize) -> anyhow::Result<(PathBuf, PathBuf)> {
    let people = (rows / 2).max(50);
    let sizes = Sizes { teams: 200, people, memberships: rows.max(people), activity: 10_000, apps: 500, idp_users: 0 };
    let data =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-data").join(format!("worksheet-{}", sizes.key()));
    let snapshot = data.join("snapshots/bench");
    let certification = data.join("report/certification.csv");
    if !certification.exists() {
        eprintln!("generating {} ...", data.display());
        std::fs::create_dir_all(&data)?;
        let as_of = Utc.with_ymd_and_hms(2026, 5, 1, 10, 0, 0).single().context("as-of")?;
        generate(&data, sizes, as_of)?;
        let analyze = Command::new(common::hkaudit()).arg("analyze").arg(&snapshot).output()?;
        if analyze.status.code() == Some(2) {
            bail!("analyze failed: {}", String::from_utf8_lossy(&analyze.stderr));
        }
        let report = Command::new(common::hkaudit())
            .arg("report")
            .arg(&snapshot)
            .args(["--format", "csv", "--out"])
            .arg(data.join("report"))
            .output()?;
        if !report.status.success() {
            bail!("report failed: {}", String::from_utf8_lossy(&report.stderr));
        }
    }
    Ok((snapshot, certification))
}

/// The first `rows` rows of `certification`, filled in, as `;`-separated CRLF text with a BOM.
fn fill_in(certification: &Path, rows: usize, out: &Path) -> anyhow::Result<usize> {
    let mut reader = csv::Reader::from_path(certification)?;
    let headers = reader.headers()?.clone();
    let col = |name: &str| headers.iter().position(|h| h == name).with_context(|| format!("no {name} column"));
    let (reviewer, decision, date, why) =
        (col("reviewer")?, col("decision")?, col("decision_date")?, col("justification")?);
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    {
        let mut writer =
            csv::WriterBuilder::new().delimiter(b';').terminator(csv::Terminator::CRLF).from_writer(&mut bytes);
        writer.write_record(&headers)?;
        let mut written = 0;
        for (i, record) in reader.records().enumerate() {
            if written == rows {
                break;
            }
            let mut cells: Vec<String> = record?.iter().map(str::to_owned).collect();
            cells[reviewer] = "Bench Reviewer".into();
            cells[decision] = if i % 10 == 0 { "Deny" } else { "Approve" }.into();
            cells[date] = "2026-05-02".into();
            cells[why] = if i % 10 == 0 { "left the company; see ticket 1234" } else { "needed" }.into();
            writer.write_record(&cells)?;
            written += 1;
        }
        writer.flush()?;
        drop(writer);
        if written < rows {
            bail!("the report has {written} grants, fewer than {rows}");
        }
    }
    std::fs::write(out, bytes)?;
    Ok(rows)
}

fn main() -> anyhow::Result<()> {
    let quick = common::quick();
    let sizes: Vec<usize> = std::env::var("HKAUDIT_BENCH_WORKSHEET_ROWS")
        .unwrap_or_else(|_| if quick { "2000" } else { "100000" }.to_owned())
        .split(',')
        .map(|s| s.trim().replace('_', "").parse::<usize>().context("HKAUDIT_BENCH_WORKSHEET_ROWS"))
        .collect::<Result<_, _>>()?;
    let machine = common::machine();
    println!("worksheet benchmark: rows {sizes:?}");
    println!("machine: {machine}");
    println!("binary: {}", common::hkaudit().display());
    let biggest = sizes.iter().copied().max().unwrap_or(0);
    let (snapshot, certification) = snapshot_with_worksheet(biggest)?;
    println!();
    println!("{:>8} {:<28} {:>8} {:>13} {:>5}", "rows", "command", "wall s", "peak RSS MiB", "exit");
    let mut results = Vec::new();
    for rows in sizes {
        let dir = tempfile::tempdir()?;
        let worksheet = dir.path().join("certification-reviewed.csv");
        fill_in(&certification, rows, &worksheet)?;
        let mut plan = Command::new(common::hkaudit());
        plan.arg("plan")
            .arg(&snapshot)
            .arg("--from-worksheet")
            .arg(&worksheet)
            .arg("--out")
            .arg(dir.path().join("plan"));
        let mut certify = Command::new(common::hkaudit());
        certify
            .arg("certify")
            .arg("--worksheet")
            .arg(&worksheet)
            .arg("--snapshot")
            .arg(&snapshot)
            .arg("--out")
            .arg(dir.path().join("closure"));
        for (name, cmd, ok) in [("plan --from-worksheet", plan, [0, 0]), ("certify", certify, [0, 4])] {
            let run = common::run_measured(cmd)?;
            let code = run.status.code().unwrap_or(-1);
            if !ok.contains(&code) {
                bail!("{name} exited {code}:\n{}", run.stderr);
            }
            println!("{rows:>8} {name:<28} {:>8.2} {:>13.1} {code:>5}", run.wall.as_secs_f64(), run.peak_rss_mib());
            results.push(json!({"rows": rows, "command": name, "wall_s": common::secs(run.wall), "peak_rss_mib": (run.peak_rss_mib() * 10.0).round() / 10.0, "exit": code}));
        }
    }
    let line = json!({
        "bench": "worksheet",
        "date": Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "machine": machine,
        "runs": results,
    });
    println!("JSON {line}");
    Ok(())
}
