//! Command-line interface: one file per subcommand, dispatched by one `match`.
//!
//! This is the binary edge: errors are `anyhow` here and nowhere else. Subcommands return an
//! [`Outcome`]; `main` turns it into the documented exit code.
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod analyze;
mod certify;
mod demo;
mod diff;
mod extract;
mod plan;
mod report;
mod review;
mod run;
mod sandbox;
mod snapshots;
mod term;

/// Exit codes, documented in `--help`. Kept in one place so tests and docs agree.
pub mod code {
    pub const OK: u8 = 0;
    /// Bad input, an API or I/O failure: nothing half-written was left behind.
    pub const ERROR: u8 = 2;
    /// `extract` wrote a snapshot, but the manifest lists gaps (`complete: false`).
    pub const INCOMPLETE: u8 = 3;
    /// `certify`, `review close`: a grant a reviewer denied is still there.
    pub const DENIAL_NOT_DONE: u8 = 4;
    /// `review status`: rows are not decided; `review close`, `certify`: not closed for that.
    pub const REVIEW_INCOMPLETE: u8 = 5;
    /// `review verify`: the evidence pack does not verify.
    pub const EVIDENCE_FAILED: u8 = 6;
    /// Stopped by Ctrl-C or SIGTERM (the sandbox's normal way to end).
    pub const INTERRUPTED: u8 = 130;
}

const EXIT_CODES: &str = "\
Exit codes:
  0    success
  2    error: bad input, API or I/O failure (nothing half-written is left behind)
  3    extract: the snapshot was written but is incomplete (gaps listed in manifest.json),
       including a run stopped by --max-requests;
       analyze: no finding at or above --fail-on, but data was missing
  4    certify, review close: a denied grant is still present in the newer snapshot
  5    review status: rows undecided; review close, certify: not closed, rows undecided
  6    review verify: the evidence pack does not verify
  10-14 analyze: highest finding at or above --fail-on (info, low, medium, high, critical)
  130  sandbox: stopped by Ctrl-C or SIGTERM";

#[derive(Debug, Parser)]
#[command(name = "hkaudit", version, about = "Audit who can reach what on Heroku, and what that access costs", after_help = EXIT_CODES)]
pub struct Cli {
    /// More log output on stderr (-v info, -vv debug, -vvv trace). Tokens are never logged.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Snapshot a Heroku organisation into Parquet tables and a manifest.
    Extract(extract::Args),
    /// Run the audit rules over a snapshot and write findings.
    #[command(after_help = analyze::EXIT_CODES)]
    Analyze(analyze::Args),
    /// Render cost, risk and access-certification reports for a snapshot.
    Report(report::Args),
    /// Extract, analyze and report in one go.
    Run(run::Args),
    /// Compare two snapshots.
    Diff(diff::Args),
    /// Quarterly access review as a campaign: start, status, close, verify.
    #[command(subcommand)]
    Review(review::Command),
    /// Alias of `review close DIR`; with --worksheet, closes a filled-in certification.csv instead.
    #[command(after_help = certify::EXIT_CODES)]
    Certify(certify::Args),
    /// Write the heroku commands and API calls that would fix findings or denied grants (runs nothing).
    #[command(after_help = plan::AFTER_HELP)]
    Plan(plan::Args),
    /// List snapshots, or prune old ones (never the newest, nor one a campaign or worksheet references).
    #[command(subcommand)]
    Snapshots(snapshots::Command),
    /// Run the whole pipeline against the built-in sandbox and fixture organisation: no token needed.
    Demo(demo::Args),
    /// Serve a fixture organisation over a loopback imitation of the Heroku Platform API.
    Sandbox(Box<sandbox::Args>),
}

/// What a subcommand asks `main` to exit with, when it did not fail outright.
pub struct Outcome(pub u8);

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose);
    let result = match cli.command {
        Command::Extract(args) => extract::run(args),
        Command::Analyze(args) => analyze::run(args, cli.verbose > 0),
        Command::Report(args) => report::run(args),
        Command::Run(args) => run::run(args, cli.verbose > 0),
        Command::Diff(args) => diff::run(args),
        Command::Review(cmd) => review::run(cmd),
        Command::Certify(args) => certify::run(args),
        Command::Plan(args) => plan::run(args),
        Command::Snapshots(cmd) => snapshots::run(cmd),
        Command::Demo(args) => demo::run(args, cli.verbose > 0),
        Command::Sandbox(args) => sandbox::run(*args),
    };
    match result {
        Ok(Outcome(code)) => ExitCode::from(code),
        Err(err) => {
            if is_broken_pipe(&err) {
                return ExitCode::from(code::OK);
            }
            // `{:#}` prints the whole context chain on one line, without a backtrace.
            term::error(&hkaudit::redact::redact(&format!("{err:#}")));
            ExitCode::from(code::ERROR)
        }
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn init_logging(verbose: u8) {
    use tracing_subscriber::EnvFilter;
    let level = match verbose {
        0 => "warn",
        1 => "hkaudit=info,warn",
        2 => "hkaudit=debug,info",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_env("HKAUDIT_LOG").unwrap_or_else(|_| EnvFilter::new(level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        // Every log line passes the one redaction step on its way out.
        .with_writer(hkaudit::redact::RedactingStderr)
        .with_ansi(term::stderr_has_colour())
        .event_format(term::OneStyle(tracing_subscriber::fmt::format()))
        .init();
}

/// Write one line to stdout: the machine-readable channel (paths, URLs, JSON).
pub fn print_line(line: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}")?;
    out.flush()?;
    Ok(())
}

/// The async runtime for subcommands that talk HTTP.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread().enable_all().build()?)
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// clap's own consistency check of every subcommand and flag (duplicate ids or groups,
    /// conflicting defaults): it is what panics at parse time in a debug build.
    #[test]
    fn every_command_clap_can_build_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
