//! Extract benchmark: crawl a synthetic organisation served by `hkaudit sandbox` with the real
//! `hkaudit extract` binary, at several concurrencies, and report requests made against a naive
//! per-app plan, wall time against the latency-bound ideal, and peak RSS.
//!
//! Run: `cargo bench --bench extract` (full size), `cargo bench --bench extract -- --quick`
//! (seconds). Sizes: `HKAUDIT_BENCH_SYNTHETIC` (default `teams=100,members=10000,apps=5000,seed=1`),
//! `HKAUDIT_BENCH_LATENCY_MS` (50), `HKAUDIT_BENCH_CONCURRENCY` (`1,8,32`).
//!
//! Naive plan = the org-level calls the extract made (account, rate limits, enterprise accounts,
//! their members/teams/audit trail, `/teams`, `/apps`, OAuth authorizations)
//! + the per-team calls it made except `GET /teams/{team}/permissions` (members, invitations,
//!   identity providers, apps: the naive plan needs them as well)
//! + for every app, `GET /apps/{app}/collaborators`, `/releases` and `/builds`, each paged at
//!   1000: `max(1, ceil(n / 1000))` requests for a list of `n` items (full history: a naive crawl
//!   does not stop at the activity window).
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod common;

use std::collections::BTreeMap;
use std::process::Command;
use std::time::Duration;

use anyhow::Context;
use hkaudit::sandbox::{Fixture, SyntheticParams, SYNTHETIC_TOKEN};
use serde_json::{json, Value};

const PAGE: usize = 1000;

fn pages(n: usize) -> u64 {
    n.div_ceil(PAGE).max(1) as u64
}

struct Naive {
    total: u64,
    shared: u64,
    per_app: u64,
    apps: usize,
}

/// The naive plan, from what the extract made (org-level and team calls) and the fixture's lists.
fn naive_plan(endpoints: &BTreeMap<String, u64>, fixture: &Fixture) -> Naive {
    let shared: u64 = endpoints
        .iter()
        .filter(|(e, _)| !e.starts_with("GET /apps/{app}/") && e.as_str() != "GET /teams/{team}/permissions")
        .map(|(_, n)| n)
        .sum();
    let mut per_app = 0;
    for app in fixture.apps() {
        let name = app["name"].as_str().unwrap_or_default();
        let (collaborators, releases, builds) = fixture.app_list_sizes(name);
        per_app += pages(collaborators) + pages(releases) + pages(builds);
    }
    Naive { total: shared + per_app, shared, per_app, apps: fixture.apps().len() }
}

fn main() -> anyhow::Result<()> {
    let quick = common::quick();
    let spec = std::env::var("HKAUDIT_BENCH_SYNTHETIC").unwrap_or_else(|_| {
        if quick { "teams=5,members=200,apps=100,seed=1" } else { "teams=100,members=10000,apps=5000,seed=1" }
            .to_owned()
    });
    let params: SyntheticParams = spec.parse().map_err(|e| anyhow::anyhow!("HKAUDIT_BENCH_SYNTHETIC: {e}"))?;
    let latency_ms = common::env_usize("HKAUDIT_BENCH_LATENCY_MS", if quick { 5 } else { 50 })?;
    let concurrencies: Vec<usize> = std::env::var("HKAUDIT_BENCH_CONCURRENCY")
        .unwrap_or_else(|_| if quick { "1,8".into() } else { "1,8,32".into() })
        .split(',')
        .map(|c| c.trim().parse().with_context(|| format!("HKAUDIT_BENCH_CONCURRENCY: {c:?}")))
        .collect::<Result<_, _>>()?;

    // The same generator the sandbox runs, so the naive plan counts the lists it serves; its
    // fixed `now` is the `--as-of` that makes the activity window match the generated history.
    let fixture = Fixture::synthetic(&params);
    let as_of = fixture.now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let machine = common::machine();
    println!("extract benchmark: synthetic {spec}, latency {latency_ms} ms, as-of {as_of}");
    println!("machine: {machine}");
    println!("binary: {}", common::hkaudit().display());
    println!();

    let work = tempfile::tempdir()?;
    let mut results = Vec::new();
    for &concurrency in &concurrencies {
        let mut sandbox = Command::new(common::hkaudit());
        sandbox.args(["sandbox", "--synthetic", &spec, "--latency", &format!("{latency_ms}ms")]);
        // A pool big enough that the rate limiter never paces or throttles: this measures the
        // crawl plan and latency, not Heroku's 4,500/hour budget.
        sandbox.args(["--rate-limit-capacity", "100000000", "--stats"]);
        let server = common::Server::start(sandbox)?;

        let out = work.path().join(format!("c{concurrency}"));
        let mut extract = Command::new(common::hkaudit());
        extract
            .args(["extract", "--api-url", &server.url, "--no-cache", "--as-of", &as_of])
            .args(["--concurrency", &concurrency.to_string()])
            .arg("--out")
            .arg(&out)
            .env("HEROKU_API_KEY", SYNTHETIC_TOKEN)
            .env_remove("HKAUDIT_API_URL");
        eprintln!("extract: concurrency {concurrency} ...");
        let run = common::run_measured(extract)?;
        let server_stats = server.stop()?;
        // 0 = complete, 3 = complete but with gaps (the synthetic org has a few 403 teams).
        if !matches!(run.status.code(), Some(0 | 3)) {
            anyhow::bail!("extract failed ({}):\n{}", run.status, run.stderr);
        }
        let manifest: Value = serde_json::from_slice(&std::fs::read(out.join("latest/manifest.json"))?)?;
        let endpoints: BTreeMap<String, u64> = manifest["endpoints"]
            .as_object()
            .context("manifest endpoints")?
            .iter()
            .map(|(k, v)| (k.clone(), v["requests"].as_u64().unwrap_or(0)))
            .collect();
        let requests: u64 = endpoints.values().sum();
        let retries: u64 = manifest["endpoints"]
            .as_object()
            .map_or(0, |o| o.values().map(|v| v["retries"].as_u64().unwrap_or(0)).sum());
        let served = server_stats
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find_map(|v| v["total"]["requests"].as_u64());
        let naive = naive_plan(&endpoints, &fixture);
        let ideal = Duration::from_secs_f64(requests as f64 * latency_ms as f64 / 1000.0 / concurrency as f64);
        let rows: BTreeMap<String, u64> = manifest["tables"]
            .as_object()
            .map(|o| o.iter().map(|(k, v)| (k.clone(), v["rows"].as_u64().unwrap_or(0))).collect())
            .unwrap_or_default();
        results.push(json!({
            "concurrency": concurrency,
            "requests": requests,
            "requests_served": served,
            "retries": retries,
            "naive_requests": naive.total,
            "naive_shared": naive.shared,
            "naive_per_app": naive.per_app,
            "apps": naive.apps,
            "reduction": (naive.total as f64 / requests as f64 * 100.0).round() / 100.0,
            "wall_s": common::secs(run.wall),
            "ideal_s": common::secs(ideal),
            "wall_over_ideal": (run.wall.as_secs_f64() / ideal.as_secs_f64() * 100.0).round() / 100.0,
            "peak_rss_mib": (run.peak_rss_mib() * 10.0).round() / 10.0,
            "complete": manifest["complete"],
            "gaps": manifest["gaps"].as_array().map_or(0, Vec::len),
            "endpoints": endpoints,
            "rows": rows,
        }));
    }

    let first = results.first().cloned().unwrap_or_default();
    println!(
        "naive plan = org-level and per-team calls made (minus GET /teams/{{team}}/permissions) = {}",
        first["naive_shared"]
    );
    println!(
        "           + per app: collaborators + releases + builds, each max(1, ceil(n/{PAGE})) pages = {} over {} apps",
        first["naive_per_app"], first["apps"]
    );
    println!("           = {}", first["naive_requests"]);
    println!("ideal wall = requests x {latency_ms} ms / concurrency");
    println!();
    println!(
        "{:>11} {:>9} {:>9} {:>9} {:>10} {:>10} {:>10} {:>13}",
        "concurrency", "requests", "naive", "naive/req", "wall s", "ideal s", "wall/ideal", "peak RSS MiB"
    );
    for r in &results {
        println!(
            "{:>11} {:>9} {:>9} {:>8.1}x {:>10.2} {:>10.2} {:>10.2} {:>13.1}",
            r["concurrency"].as_u64().unwrap_or(0),
            r["requests"].as_u64().unwrap_or(0),
            r["naive_requests"].as_u64().unwrap_or(0),
            r["reduction"].as_f64().unwrap_or(0.0),
            r["wall_s"].as_f64().unwrap_or(0.0),
            r["ideal_s"].as_f64().unwrap_or(0.0),
            r["wall_over_ideal"].as_f64().unwrap_or(0.0),
            r["peak_rss_mib"].as_f64().unwrap_or(0.0),
        );
    }
    if let Some(endpoints) = first["endpoints"].as_object() {
        println!();
        println!("requests per endpoint (concurrency {}):", first["concurrency"]);
        for (e, n) in endpoints {
            println!("  {n:>7}  {e}");
        }
        println!("rows: {}", first["rows"]);
    }
    let targets = json!({
        "reduction_at_least_10x": results.iter().all(|r| r["reduction"].as_f64().unwrap_or(0.0) >= 10.0),
        "wall_within_1_5x_ideal": results.iter().map(|r| (r["concurrency"].to_string(), r["wall_over_ideal"].as_f64().unwrap_or(f64::MAX) <= 1.5)).collect::<BTreeMap<_, _>>(),
    });
    println!("targets: {targets}");
    let incremental = incremental(&spec, latency_ms, &as_of, work.path())?;
    let line = json!({
        "bench": "extract",
        "date": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "synthetic": spec,
        "latency_ms": latency_ms,
        "as_of": as_of,
        "machine": machine,
        "results": results,
        "targets": targets,
        "incremental": incremental,
    });
    println!("JSON {line}");
    Ok(())
}

/// What a second extract of an unchanged organisation costs: two runs with one ETag cache
/// against one sandbox (concurrency 8), the second's requests, bytes received, 304s and the
/// rate-limit tokens it spent (the sandbox charges a 304 a token, as Heroku is assumed to).
fn incremental(spec: &str, latency_ms: usize, as_of: &str, work: &std::path::Path) -> anyhow::Result<Value> {
    let mut sandbox = Command::new(common::hkaudit());
    sandbox.args(["sandbox", "--synthetic", spec, "--latency", &format!("{latency_ms}ms")]);
    sandbox.args(["--rate-limit-capacity", "100000000"]);
    let server = common::Server::start(sandbox)?;
    let out = work.join("incremental");
    let mut runs = Vec::new();
    for run in ["first", "second"] {
        let mut extract = Command::new(common::hkaudit());
        extract
            .args(["extract", "--api-url", &server.url, "--as-of", as_of, "--concurrency", "8"])
            .arg("--out")
            .arg(&out)
            .arg("--cache")
            .arg(work.join("incremental-cache"))
            .env("HEROKU_API_KEY", SYNTHETIC_TOKEN)
            .env_remove("HKAUDIT_API_URL");
        eprintln!("extract: incremental, {run} run ...");
        let measured = common::run_measured(extract)?;
        if !matches!(measured.status.code(), Some(0 | 3)) {
            anyhow::bail!("extract failed ({}):\n{}", measured.status, measured.stderr);
        }
        let manifest: Value = serde_json::from_slice(&std::fs::read(out.join("latest/manifest.json"))?)?;
        let sum = |field: &str| -> u64 {
            manifest["endpoints"].as_object().map_or(0, |o| o.values().map(|v| v[field].as_u64().unwrap_or(0)).sum())
        };
        runs.push(json!({
            "run": run,
            "requests": sum("requests"),
            "not_modified": sum("not_modified"),
            "bytes": sum("bytes"),
            "tokens_spent": manifest["rate_limit"]["spent"],
            "wall_s": common::secs(measured.wall),
        }));
    }
    server.stop()?;
    println!();
    println!("incremental (ETag cache, concurrency 8): unchanged organisation, run twice");
    println!("{:>7} {:>9} {:>9} {:>12} {:>13} {:>8}", "run", "requests", "304s", "bytes", "tokens spent", "wall s");
    for r in &runs {
        println!(
            "{:>7} {:>9} {:>9} {:>12} {:>13} {:>8.2}",
            r["run"].as_str().unwrap_or(""),
            r["requests"].as_u64().unwrap_or(0),
            r["not_modified"].as_u64().unwrap_or(0),
            r["bytes"].as_u64().unwrap_or(0),
            r["tokens_spent"].as_u64().unwrap_or(0),
            r["wall_s"].as_f64().unwrap_or(0.0),
        );
    }
    Ok(json!(runs))
}
