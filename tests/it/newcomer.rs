//! What a newcomer types, run as they would type it: the README's sandbox walkthrough command by
//! command, and the one-shot `hkaudit run`, both through the real binary. Each must give exactly
//! the findings `fixtures/acme/README.md` documents, whatever today's date is.
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::snapshots_kit::{
    acme_authorization_files, acme_idp_files, acme_now_and_token, acme_signin_files, all_lines, readme_expected,
};

fn hkaudit(cwd: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hkaudit"));
    cmd.current_dir(cwd).env_remove("HKAUDIT_LOG").env_remove("HEROKU_API_KEY").env_remove("HKAUDIT_API_URL");
    cmd.env("NO_COLOR", "1").env("HOME", cwd);
    cmd
}

/// A sandbox started as a child process; killed when dropped.
struct Sandbox {
    child: Child,
    url: String,
}

impl Sandbox {
    fn spawn(mut cmd: Command) -> Sandbox {
        let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::null()).spawn().expect("sandbox starts");
        let stdout = child.stdout.take().expect("stdout");
        let mut first = String::new();
        BufReader::new(stdout).read_line(&mut first).expect("the sandbox prints its URL first");
        let url = first.trim().to_owned();
        assert!(url.starts_with("http://127.0.0.1:"), "first stdout line is the URL: {url:?}");
        Sandbox { child, url }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn findings_lines(snapshot: &Path) -> Vec<String> {
    let set = hkaudit::analyze::read_findings(snapshot).expect("findings.json reads");
    all_lines(&set)
}

/// The shell lines between the README's walkthrough markers, comments removed.
fn walkthrough_lines() -> Vec<String> {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).expect("README");
    let start = readme.find("<!-- walkthrough:begin -->").expect("walkthrough begin marker");
    let end = readme.find("<!-- walkthrough:end -->").expect("walkthrough end marker");
    readme[start..end]
        .lines()
        .skip(1)
        .map(|l| l.split(" # ").next().unwrap_or_default().trim())
        .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with("```"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_readme_walkthrough_as_written_gives_the_fixture_s_documented_findings() {
    let work = tempfile::tempdir().expect("tempdir");
    // The walkthrough's paths are relative to the clone.
    std::os::unix::fs::symlink(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures"), work.path().join("fixtures"))
        .expect("symlink fixtures");
    let lines = walkthrough_lines();
    assert!(lines.len() >= 5, "sandbox, export, extract, analyze, report: {lines:?}");

    let mut env: Vec<(String, String)> = Vec::new();
    let mut sandbox: Option<Sandbox> = None;
    let mut snapshot: Option<PathBuf> = None;
    for line in &lines {
        if let Some(assignment) = line.strip_prefix("export ") {
            let (k, v) = assignment.split_once('=').expect("export K=V");
            env.push((k.to_owned(), v.to_owned()));
            continue;
        }
        let url = sandbox.as_ref().map(|s| s.url.clone());
        let line = match &url {
            Some(url) => line.replace("http://127.0.0.1:PORT", url),
            None => line.clone(),
        };
        let words = shlex::split(&line).unwrap_or_else(|| panic!("not a shell line: {line}"));
        assert_eq!(words[0], "hkaudit", "every walkthrough command is hkaudit: {line}");
        let mut cmd = hkaudit(work.path());
        cmd.args(&words[1..]).envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        match words[1].as_str() {
            "sandbox" => sandbox = Some(Sandbox::spawn(cmd)),
            sub => {
                let out = cmd.output().expect("hkaudit runs");
                let code = out.status.code();
                let stderr = String::from_utf8_lossy(&out.stderr);
                // analyze exits with the highest severity's code (10-14) when findings fire.
                let ok = if sub == "analyze" { matches!(code, Some(0 | 10..=14)) } else { code == Some(0) };
                assert!(ok, "`{line}` exited {code:?}: {stderr}");
                if sub == "extract" {
                    let stdout = String::from_utf8_lossy(&out.stdout);
                    snapshot = Some(work.path().join(stdout.lines().last().expect("extract prints the path").trim()));
                }
            }
        }
    }
    let snapshot = snapshot.expect("the walkthrough extracts");
    assert_eq!(findings_lines(&snapshot), readme_expected(), "the walkthrough's findings are the documented ones");
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(snapshot.join("manifest.json")).expect("manifest")).expect("json");
    let (now, _) = acme_now_and_token();
    let until: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(manifest["activity_window"]["until"].clone()).expect("until");
    assert_eq!(until, now, "without --as-of the window ends at the API's clock, the fixture's `now`");
    assert!(snapshot.join("report/index.html").is_file(), "report wrote index.html");
}

fn input_args() -> Vec<std::ffi::OsString> {
    let mut args = Vec::new();
    for f in acme_idp_files() {
        args.extend(["--idp".into(), f.into_os_string()]);
    }
    for f in acme_authorization_files() {
        args.extend(["--authorizations".into(), f.into_os_string()]);
    }
    for f in acme_signin_files() {
        args.extend(["--signins".into(), f.into_os_string()]);
    }
    args
}

#[test]
fn run_end_to_end_gives_the_same_findings_as_extract_analyze_report_one_by_one() {
    let work = tempfile::tempdir().expect("tempdir");
    let (_, token) = acme_now_and_token();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/acme");
    let mut sandbox_cmd = hkaudit(work.path());
    sandbox_cmd.arg("sandbox").arg("--fixtures").arg(&fixtures);
    let sandbox = Sandbox::spawn(sandbox_cmd);

    let one_shot = hkaudit(work.path())
        .args(["run", "--api-url", &sandbox.url, "--out", "one-shot", "--no-cache"])
        .args(input_args())
        .env("HEROKU_API_KEY", &token)
        .output()
        .expect("run runs");
    let stdout = String::from_utf8_lossy(&one_shot.stdout);
    assert!(
        matches!(one_shot.status.code(), Some(10..=14)),
        "run exits with analyze's code: {:?} {}",
        one_shot.status.code(),
        String::from_utf8_lossy(&one_shot.stderr)
    );
    let index = PathBuf::from(stdout.lines().last().expect("run prints index.html last").trim());
    let index = if index.is_absolute() { index } else { work.path().join(index) };
    assert!(index.ends_with("report/index.html") && index.is_file(), "{}", index.display());
    let run_snapshot = work.path().join("one-shot/latest");

    let extract = hkaudit(work.path())
        .args(["extract", "--api-url", &sandbox.url, "--out", "stepwise", "--no-cache"])
        .env("HEROKU_API_KEY", &token)
        .output()
        .expect("extract runs");
    assert_eq!(extract.status.code(), Some(0), "{}", String::from_utf8_lossy(&extract.stderr));
    let analyze =
        hkaudit(work.path()).args(["analyze", "stepwise/latest"]).args(input_args()).output().expect("analyze runs");
    assert_eq!(analyze.status.code(), one_shot.status.code(), "same exit code as run");
    let report = hkaudit(work.path()).args(["report", "stepwise/latest"]).output().expect("report runs");
    assert_eq!(report.status.code(), Some(0), "{}", String::from_utf8_lossy(&report.stderr));

    let stepwise = findings_lines(&work.path().join("stepwise/latest"));
    assert_eq!(findings_lines(&run_snapshot), stepwise, "run and the three stages find the same");
    assert_eq!(stepwise, readme_expected());
    let fingerprints = |dir: &Path| -> Vec<String> {
        let mut v: Vec<String> = hkaudit::analyze::read_findings(dir)
            .expect("findings")
            .findings
            .iter()
            .map(|f| f.fingerprint.clone())
            .collect();
        v.sort();
        v
    };
    assert_eq!(fingerprints(&run_snapshot), fingerprints(&work.path().join("stepwise/latest")));
}
