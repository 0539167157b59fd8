//! The official Heroku CLI (npm package `heroku`) against the sandbox: the strongest evidence
//! that the sandbox speaks the Platform API is that Heroku's own client reads it.
//!
//! The CLI is installed by `scripts/install-heroku-cli.sh` into `target/tools/heroku-cli` (once;
//! later runs reuse it). It is pointed at the sandbox with `HEROKU_HOST=http://127.0.0.1:PORT`
//! (`@heroku-cli/command` `vars.js` accepts an http URL whose host contains `127.0.0.1` or
//! `localhost`) and `HEROKU_API_KEY`. Without node/npm the test fails and says why, unless
//! `HKAUDIT_SKIP_HEROKU_CLI=1` is set.
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use hkaudit::sandbox::{self, Fixture, SandboxConfig};
use serde_json::Value;

use crate::conformance::acme_dir;

const SKIP_VAR: &str = "HKAUDIT_SKIP_HEROKU_CLI";
const TOKEN: &str = "HRKU-acme-PLANTED-SECRET-0001-do-not-leak";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn cli_path() -> PathBuf {
    root().join("target/tools/heroku-cli/node_modules/.bin/heroku")
}

fn works(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The CLI's path, installing it first if needed; `Err` says what is missing.
// The install time is reported on stderr, as test output.
#[allow(clippy::print_stderr)]
fn installed_cli() -> Result<PathBuf, String> {
    static CELL: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    CELL.get_or_init(|| {
        if !works("node") {
            return Err("`node` is not on PATH (Node.js >= 20 is needed)".into());
        }
        let cli = cli_path();
        if cli.exists() {
            return Ok(cli);
        }
        if !works("npm") {
            return Err("`npm` is not on PATH (needed once to install the Heroku CLI)".into());
        }
        let started = Instant::now();
        let output = Command::new("sh")
            .arg(root().join("scripts/install-heroku-cli.sh"))
            .output()
            .map_err(|e| format!("cannot run scripts/install-heroku-cli.sh: {e}"))?;
        if !output.status.success() || !cli.exists() {
            return Err(format!(
                "scripts/install-heroku-cli.sh failed ({}):\n{}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        eprintln!("installed the Heroku CLI in {:.1}s", started.elapsed().as_secs_f64());
        Ok(cli)
    })
    .clone()
}

/// Run `heroku <args>` against `url` in a clean environment and parse its JSON output.
fn heroku(cli: &Path, url: &str, home: &Path, args: &[&str]) -> Value {
    let mut child = Command::new(cli)
        .args(args)
        .env_clear()
        // node itself must be found; nothing else leaks in from the developer's environment.
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("XDG_CACHE_HOME", home.join(".cache"))
        .env("XDG_DATA_HOME", home.join(".local/share"))
        .env("HEROKU_HOST", url)
        // `GET /teams/...` also asks Particleboard about delinquency (errors ignored); keep
        // that request on the loopback too instead of particleboard.heroku.com.
        .env("HEROKU_PARTICLEBOARD_URL", url)
        .env("HEROKU_API_KEY", TOKEN)
        .env("HEROKU_SKIP_ANALYTICS", "1")
        .env("HEROKU_SKIP_NEW_VERSION_CHECK", "true")
        .env("DISABLE_TELEMETRY", "true")
        .env("NO_COLOR", "1")
        .current_dir(home)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", cli.display()));
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().expect("wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("heroku {} did not finish within 60s", args.join(" "));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let output = child.wait_with_output().expect("output");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "heroku {} failed ({}):\nstdout: {stdout}\nstderr: {stderr}",
        args.join(" "),
        output.status
    );
    assert!(!stdout.contains(TOKEN) && !stderr.contains(TOKEN), "heroku {} printed the token", args.join(" "));
    serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("heroku {}: stdout is not JSON ({e}):\n{stdout}\nstderr: {stderr}", args.join(" ")))
}

fn read(rel: &str) -> Vec<Value> {
    let path = acme_dir().join(rel);
    if !path.exists() {
        return Vec::new();
    }
    let text = std::fs::read_to_string(&path).expect("fixture file");
    serde_json::from_str::<Value>(&text).expect("JSON").as_array().expect("array").clone()
}

fn text(value: &Value, pointer: &str) -> String {
    value.pointer(pointer).and_then(Value::as_str).unwrap_or_else(|| panic!("{pointer} in {value}")).to_owned()
}

/// `(email, role)` of every member of `team` in the fixture.
fn fixture_members(team: &str) -> BTreeSet<(String, String)> {
    read(&format!("teams/{team}/members.json")).iter().map(|m| (text(m, "/email"), text(m, "/role"))).collect()
}

fn printed_members(printed: &Value) -> BTreeSet<(String, String)> {
    printed.as_array().expect("an array").iter().map(|m| (text(m, "/email"), text(m, "/role"))).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
// A skip must say why on stderr (HKAUDIT_SKIP_HEROKU_CLI=1).
#[allow(clippy::print_stderr)]
async fn the_official_heroku_cli_reads_the_sandbox() {
    if std::env::var(SKIP_VAR).as_deref() == Ok("1") {
        eprintln!("skipped: {SKIP_VAR}=1 (the official Heroku CLI was not run against the sandbox)");
        return;
    }
    let cli = tokio::task::spawn_blocking(installed_cli)
        .await
        .expect("install thread")
        .unwrap_or_else(|why| {
            panic!("the Heroku CLI is not available: {why}. Install Node.js >= 20 and npm, or set {SKIP_VAR}=1 to skip this test")
        });
    let fixture = Fixture::load(&acme_dir()).expect("fixtures/acme loads");
    let handle = sandbox::start(SandboxConfig::new(fixture)).await.expect("sandbox starts");
    let url = handle.url();
    let home = tempfile::tempdir().expect("temp HOME");
    let run = |args: &'static [&'static str]| {
        let (cli, url, home) = (cli.clone(), url.clone(), home.path().to_path_buf());
        tokio::task::spawn_blocking(move || heroku(&cli, &url, &home, args))
    };

    // heroku teams --json: every team of the fixture, as the API gave them.
    let teams = run(&["teams", "--json"]).await.expect("teams");
    let printed: BTreeSet<String> =
        teams.as_array().expect("teams: an array").iter().map(|t| text(t, "/name")).collect();
    let expected: BTreeSet<String> = read("teams.json").iter().map(|t| text(t, "/name")).collect();
    assert_eq!(printed, expected, "heroku teams");

    // heroku members: an enterprise team (members only) ...
    let members = run(&["members", "-t", "acme-web", "--json"]).await.expect("members");
    assert_eq!(printed_members(&members), fixture_members("acme-web"), "heroku members -t acme-web");
    assert!(
        members.as_array().expect("array").iter().all(|m| m["status"] == ""),
        "no pending invitations shown for an enterprise team: {members}"
    );
    // ... and a `type: team` team, for which the CLI first reads /teams/{team}/features.
    let labs = run(&["members", "-t", "acme-labs", "--json"]).await.expect("members");
    assert_eq!(printed_members(&labs), fixture_members("acme-labs"), "heroku members -t acme-labs");

    // heroku apps -t acme-web --json: the team's apps.
    let apps = run(&["apps", "-t", "acme-web", "--json"]).await.expect("apps");
    let printed: BTreeSet<String> = apps.as_array().expect("apps: an array").iter().map(|a| text(a, "/name")).collect();
    let expected: BTreeSet<String> =
        read("apps.json").iter().filter(|a| a["team"]["name"] == "acme-web").map(|a| text(a, "/name")).collect();
    assert!(!expected.is_empty());
    assert_eq!(printed, expected, "heroku apps -t acme-web");

    // heroku access -a acme-billing --json: explicit grants plus the team's admins (the CLI
    // merges /apps/{app}/collaborators with the admins of /teams/{team}/members).
    let access = run(&["access", "-a", "acme-billing", "--json"]).await.expect("access");
    let printed: BTreeSet<(String, String)> = access
        .as_array()
        .expect("access: an array")
        .iter()
        .map(|c| (text(c, "/user/email"), text(c, "/role")))
        .collect();
    let billing =
        read("apps.json").into_iter().find(|a| a["name"] == "acme-billing").expect("acme-billing in apps.json");
    let team = text(&billing, "/team/name");
    let mut expected: BTreeSet<(String, String)> = read("apps/acme-billing/collaborators.json")
        .iter()
        .filter(|c| c["role"] != "admin")
        .map(|c| (text(c, "/user/email"), text(c, "/role")))
        .collect();
    expected.extend(fixture_members(&team).into_iter().filter(|(_, role)| role == "admin"));
    assert!(expected.len() > 1);
    assert_eq!(printed, expected, "heroku access -a acme-billing");

    let stats = handle.stats();
    assert!(
        stats.endpoint("GET /teams/{team}/features").status.ok >= 1,
        "the CLI read /teams/acme-labs/features: {stats:?}"
    );
    handle.shutdown().await;
}
