//! `hkaudit run`: extract, analyze and report in one go.

use hkaudit::analyze::analyze_snapshot;

use super::{code, Outcome};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub extract: super::extract::Args,

    #[command(flatten)]
    pub analyze: super::analyze::Inputs,

    /// Report formats, comma-separated (html, md, csv, json).
    #[arg(long, value_name = "LIST", default_value = "html,md,csv,json")]
    pub format: String,
}

/// `show_all` (`-v`): the summary lists the rules that found nothing too.
pub fn run(args: Args, show_all: bool) -> anyhow::Result<Outcome> {
    let extracted = super::extract::extract_with_discovered_token(&args.extract)?;
    super::term::note(&super::extract::summary_line(&extracted));
    let analyzed = analyze_snapshot(&args.analyze.options(extracted.path.clone(), None))?;
    super::analyze::warn_about_inputs(&analyzed.findings);
    super::analyze::print_summary(&analyzed.findings, show_all)?;
    let rendered = super::report::execute(&super::report::Args {
        snapshot: extracted.path.clone(),
        out: None,
        format: args.format,
        config: args.analyze.config.clone(),
        findings: None,
        history: None,
    })?;
    if let Some(index) = rendered.index.as_ref().or(rendered.files.last()) {
        super::print_line(&index.display().to_string())?;
    }
    let code = super::analyze::exit_code(&analyzed.findings, args.analyze.fail_on);
    // An incomplete snapshot is worth an exit code even when the findings are clean.
    Ok(Outcome(if code == code::OK && !extracted.manifest.complete { code::INCOMPLETE } else { code }))
}
