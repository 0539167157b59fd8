//! Report benchmark: `hkaudit report` over 10,000 findings and 100 teams (issue target < 2 s).
//!
//! The snapshot comes from the real pipeline: the sandbox's synthetic organisation
//! (`teams=100,members=10000,apps=1000`) extracted with the release binary; the findings are then
//! generated (10,000 by default, spread over the rules, severities, teams and members of that
//! snapshot) and written with hkaudit's own `write_findings`, so the report reads exactly what
//! `analyze` would write. Prints the wall time of `hkaudit report` (best and median of 5 runs),
//! its peak RSS, and the size of what it wrote. Never asserts a time.
//!
//! Run: `cargo bench --bench report`; `-- --quick` (or `HKAUDIT_BENCH_QUICK=1`) for a smoke run.
//! Sizes: `HKAUDIT_BENCH_FINDINGS` (10000), `HKAUDIT_BENCH_SYNTHETIC`
//! (`teams=100,members=10000,apps=1000,seed=1`).
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use hkaudit::analyze::{write_findings, Confidence, Finding, FindingSet, RuleResult, RuleStatus, Severity, Subject};
use hkaudit::snapshot::Snapshot;

const BIN: &str = env!("CARGO_BIN_EXE_hkaudit");

fn quick() -> bool {
    std::env::args().any(|a| a == "--quick") || std::env::var_os("HKAUDIT_BENCH_QUICK").is_some()
}

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

/// Peak resident memory of a child, from its `VmHWM`, polled until it exits.
fn run_measured(cmd: &mut Command) -> anyhow::Result<(Duration, u64, std::process::ExitStatus)> {
    let start = Instant::now();
    let mut child = cmd.stdout(Stdio::null()).stderr(Stdio::piped()).spawn().context("spawn hkaudit")?;
    let status_path = format!("/proc/{}/status", child.id());
    let mut peak_kib = 0u64;
    loop {
        if let Ok(text) = std::fs::read_to_string(&status_path) {
            if let Some(v) = text
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
            {
                peak_kib = peak_kib.max(v);
            }
        }
        if let Some(status) = child.try_wait()? {
            return Ok((start.elapsed(), peak_kib, status));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn dir_size(dir: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                total += e.metadata().map(|m| m.len()).unwrap_or(0);
            }
        }
    }
    total
}

/// Extract the synthetic organisation from a sandbox child process.
fn extract_synthetic(spec: &str, out: &Path) -> anyhow::Result<PathBuf> {
    let mut sandbox = Command::new(BIN)
        .args(["sandbox", "--synthetic", spec, "--rate-limit-capacity", "100000000"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let mut first = String::new();
    BufReader::new(sandbox.stdout.take().context("sandbox stdout")?).read_line(&mut first)?;
    let url = first.trim().to_owned();
    let as_of = hkaudit::sandbox::Fixture::synthetic(&spec.parse().map_err(|e| anyhow::anyhow!("{e}"))?).now();
    let result = Command::new(BIN)
        .args(["extract", "--no-cache", "--concurrency", "16", "--api-url", &url, "--as-of", &as_of.to_rfc3339()])
        .arg("--out")
        .arg(out)
        .env("HEROKU_API_KEY", hkaudit::sandbox::SYNTHETIC_TOKEN)
        .output();
    let _ = sandbox.kill();
    let _ = sandbox.wait();
    let output = result?;
    if !output.status.success() && output.status.code() != Some(3) {
        bail!("extract failed: {}", String::from_utf8_lossy(&output.stderr));
    }
    Ok(PathBuf::from(String::from_utf8_lossy(&output.stdout).lines().last().context("extract printed no path")?.trim()))
}

fn synthetic_findings(snapshot: &Snapshot, n: usize) -> anyhow::Result<FindingSet> {
    let members = snapshot.read("team_members")?;
    let teams: Vec<String> =
        members.column("team_name")?.str()?.iter().map(|v| v.unwrap_or_default().to_owned()).collect();
    let emails: Vec<String> =
        members.column("email")?.str()?.iter().map(|v| v.unwrap_or_default().to_owned()).collect();
    if teams.is_empty() {
        bail!("the synthetic snapshot has no team members");
    }
    let rules = [
        ("inactive-seat", Severity::Medium),
        ("enterprise-removal-not-cascaded", Severity::High),
        ("idp-deprovisioned-member", Severity::High),
        ("member-without-2fa", Severity::Medium),
        ("external-member", Severity::Medium),
        ("stale-invitation", Severity::Low),
        ("enterprise-admin-not-team-admin", Severity::Info),
    ];
    // What each rule's findings mean downstream comes from the built-in rules' headers, as analyze
    // would carry it.
    let builtin = hkaudit::analyze::builtin_rules()?;
    let header = |id: &str| builtin.iter().find(|r| r.id == id).map(|r| (r.fix, r.certify, r.frees_seat));
    let header = |id: &str| header(id).ok_or_else(|| anyhow::anyhow!("no built-in rule {id}"));
    let findings: Vec<Finding> = (0..n)
        .map(|i| {
            let (rule, severity) = rules[i % rules.len()];
            let (fix, certify, frees_seat) = header(rule)?;
            let m = (i * 7919) % teams.len();
            let subject = Subject {
                team: Some(teams[m].clone()),
                email: Some(emails[m].clone()),
                item: Some(format!("{}", i / teams.len())),
                ..Default::default()
            };
            Ok(Finding {
                rule_id: rule.to_owned(),
                severity,
                confidence: Confidence::High,
                title: format!("{rule} title"),
                fingerprint: Finding::fingerprint_of(rule, &subject),
                subject,
                message: format!("synthetic finding {i} with a message of realistic length for the report"),
                evidence: [
                    ("role".to_owned(), "member".to_owned()),
                    ("last_activity".to_owned(), "2026-01-01T00:00:00Z".to_owned()),
                ]
                .into_iter()
                .collect(),
                remediation: "Remove the member (`heroku members:remove EMAIL --team TEAM`).".to_owned(),
                fix,
                certify,
                frees_seat,
                saving_reason: None,
                monthly_cost_cents: frees_seat.then_some(1000),
            })
        })
        .collect::<anyhow::Result<_>>()?;
    let rules = rules
        .iter()
        .map(|(id, sev)| {
            let (fix, certify, frees_seat) = header(id)?;
            Ok(RuleResult {
                rule_id: (*id).to_owned(),
                title: format!("{id} title"),
                description: "A description.".into(),
                remediation: "A remediation.".into(),
                fix,
                certify,
                frees_seat,
                severity: *sev,
                status: RuleStatus::Ok,
                findings: findings.iter().filter(|f| f.rule_id == *id).count(),
                ignored: 0,
                skipped: vec![],
                unknown: vec![],
                error: None,
            })
        })
        .collect::<anyhow::Result<_>>()?;
    Ok(FindingSet {
        format_version: FindingSet::FORMAT_VERSION,
        snapshot_id: snapshot.manifest().snapshot_id.clone(),
        as_of: snapshot.manifest().as_of,
        complete: true,
        inputs: vec![],
        rules,
        findings,
    })
}

fn main() -> anyhow::Result<()> {
    let quick = quick();
    let spec = env_or(
        "HKAUDIT_BENCH_SYNTHETIC",
        if quick { "teams=10,members=300,apps=50,seed=1" } else { "teams=100,members=10000,apps=1000,seed=1" },
    );
    let n: usize = env_or("HKAUDIT_BENCH_FINDINGS", if quick { "500" } else { "10000" })
        .parse()
        .context("HKAUDIT_BENCH_FINDINGS")?;
    let work = tempfile::tempdir()?;
    let t = Instant::now();
    let snapshot_dir = extract_synthetic(&spec, &work.path().join("snapshots"))?;
    let snapshot = Snapshot::open(&snapshot_dir)?;
    let set = synthetic_findings(&snapshot, n)?;
    write_findings(&set, snapshot.dir())?;
    let teams = snapshot.manifest().tables.get("teams").map(|t| t.rows).unwrap_or(0);
    let members = snapshot.manifest().tables.get("team_members").map(|t| t.rows).unwrap_or(0);
    eprintln!("prepared {spec} ({teams} teams, {members} memberships) and {n} findings in {:.1?}", t.elapsed());

    let runs = if quick { 2 } else { 5 };
    let mut times = Vec::new();
    let mut peak = 0;
    let mut size = 0;
    for i in 0..runs {
        let out = work.path().join(format!("report-{i}"));
        let (wall, rss, status) =
            run_measured(Command::new(BIN).arg("report").arg(&snapshot_dir).arg("--out").arg(&out))?;
        if !status.success() {
            bail!("hkaudit report failed with {status}");
        }
        times.push(wall);
        peak = peak.max(rss);
        size = dir_size(&out);
    }
    times.sort();
    let (best, median) = (times[0], times[times.len() / 2]);
    println!("report bench: {n} findings, {teams} teams, {members} memberships");
    println!(
        "  wall time   best {:.3} s, median {:.3} s over {runs} runs (target < 2 s)",
        best.as_secs_f64(),
        median.as_secs_f64()
    );
    println!("  peak RSS    {:.1} MiB", peak as f64 / 1024.0);
    println!("  output      {:.2} MiB", size as f64 / (1024.0 * 1024.0));
    println!(
        "JSON {}",
        serde_json::json!({"bench": "report", "findings": n, "teams": teams, "memberships": members, "best_s": best.as_secs_f64(), "median_s": median.as_secs_f64(), "peak_rss_kib": peak, "output_bytes": size})
    );
    Ok(())
}
