//! What both benchmarks share: running the real `hkaudit` binary as a child process and measuring
//! its wall time and peak resident set size, quick-mode detection, and a description of the
//! machine for the printed report.
//!
//! Peak RSS is the child's `VmHWM` (high-water mark) from `/proc/<pid>/status`, polled every
//! ~10 ms until it exits (the crate forbids `unsafe`, so no `wait4` rusage). Because `VmHWM` is a
//! high-water mark, polling only misses growth in the last few milliseconds before exit.
#![allow(dead_code)]

pub mod synthetic;

use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

/// The release `hkaudit` binary under `cargo bench` (the debug one under `cargo test --bench`).
pub fn hkaudit() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_hkaudit"))
}

/// `--quick` on the command line or `HKAUDIT_BENCH_QUICK=1`: small sizes, for a smoke run.
pub fn quick() -> bool {
    std::env::args().any(|a| a == "--quick")
        || std::env::var("HKAUDIT_BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// A size from the environment, else the default.
pub fn env_usize(name: &str, default: usize) -> anyhow::Result<usize> {
    match std::env::var(name) {
        Ok(v) => v.trim().replace('_', "").parse().with_context(|| format!("{name}={v}: not a number")),
        Err(_) => Ok(default),
    }
}

pub struct Measured {
    pub wall: Duration,
    /// Peak resident set size of the child, KiB (`VmHWM`); 0 when it could not be read.
    pub peak_rss_kib: u64,
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Measured {
    pub fn peak_rss_mib(&self) -> f64 {
        self.peak_rss_kib as f64 / 1024.0
    }
}

fn drain(mut pipe: impl Read + Send + 'static) -> JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// `VmHWM` of a running process, in KiB.
pub fn vm_hwm_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Run `cmd` to completion, timing it and polling its peak RSS. stdout and stderr are captured.
pub fn run_measured(mut cmd: Command) -> anyhow::Result<Measured> {
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let start = Instant::now();
    let mut child = cmd.spawn().with_context(|| format!("starting {cmd:?}"))?;
    let out = drain(child.stdout.take().context("child stdout")?);
    let err = drain(child.stderr.take().context("child stderr")?);
    let pid = child.id();
    let mut peak = 0;
    let status = loop {
        if let Some(kib) = vm_hwm_kib(pid) {
            peak = peak.max(kib);
        }
        if let Some(status) = child.try_wait()? {
            break status;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let wall = start.elapsed();
    Ok(Measured {
        wall,
        peak_rss_kib: peak,
        status,
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    })
}

/// A long-running child (the sandbox) that is stopped with SIGTERM when done.
pub struct Server {
    pub child: Child,
    pub url: String,
    stdout: Option<std::io::BufReader<std::process::ChildStdout>>,
}

impl Server {
    /// Start `cmd` and read its first stdout line (the sandbox prints its URL first).
    pub fn start(mut cmd: Command) -> anyhow::Result<Server> {
        use std::io::BufRead;
        cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::inherit());
        let mut child = cmd.spawn().with_context(|| format!("starting {cmd:?}"))?;
        let mut reader = std::io::BufReader::new(child.stdout.take().context("sandbox stdout")?);
        let mut url = String::new();
        reader.read_line(&mut url)?;
        let url = url.trim().to_owned();
        if !url.starts_with("http") {
            let _ = child.kill();
            let _ = child.wait();
            bail!("the sandbox did not print its URL (got {url:?})");
        }
        Ok(Server { child, url, stdout: Some(reader) })
    }

    /// SIGTERM (through `kill`, as `unsafe` is forbidden), then whatever it printed after the URL.
    pub fn stop(mut self) -> anyhow::Result<String> {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().map(|s| s.success()).unwrap_or(false);
        if !sent {
            let _ = self.child.kill();
        }
        let mut rest = String::new();
        if let Some(mut reader) = self.stdout.take() {
            let _ = reader.read_to_string(&mut rest);
        }
        let _ = self.child.wait();
        Ok(rest)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// `2 cores (nproc), 23.4 GiB RAM, <cpu model>` for the report.
pub fn machine() -> serde_json::Value {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_kib: u64 = meminfo
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, m)| m.trim().to_owned())
        .unwrap_or_default();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    serde_json::json!({
        "cores": cores,
        "mem_gib": (mem_kib as f64 / 1024.0 / 1024.0 * 10.0).round() / 10.0,
        "cpu": model,
        "loadavg_at_start": load.split_whitespace().take(3).collect::<Vec<_>>().join(" "),
        "profile": if cfg!(debug_assertions) { "debug" } else { "release" },
    })
}

/// Seconds with millisecond precision, for tables and JSON.
pub fn secs(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0).round() / 1000.0
}
