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

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let token_args = &args.extract;
    let url = url::Url::parse(&token_args.api_url).map_err(|e| anyhow::anyhow!("--api-url {}: {e}", token_args.api_url))?;
    let host = url.host_str().unwrap_or("api.heroku.com").to_owned();
    let netrc = std::env::var_os("HOME").map(|h| std::path::Path::new(&h).join(".netrc"));
    let (token, _) = hkaudit::heroku::discover_token(std::env::var("HEROKU_API_KEY").ok(), token_args.token_file.as_deref(), netrc.as_deref(), &host)?;
    let verbose = tracing::enabled!(tracing::Level::INFO);
    let extracted = super::runtime()?.block_on(super::extract::execute(&args.extract, token, verbose))?;
    let analyzed = analyze_snapshot(&args.analyze.options(extracted.path.clone(), None))?;
    for line in super::analyze::summary_lines(&analyzed.findings) {
        super::print_line(&line)?;
    }
    let rendered = super::report::execute(&super::report::Args { snapshot: extracted.path.clone(), out: None, format: args.format, config: args.analyze.config.clone(), findings: None, history: None })?;
    if let Some(index) = rendered.index.as_ref().or(rendered.files.last()) {
        super::print_line(&index.display().to_string())?;
    }
    let code = super::analyze::exit_code(&analyzed.findings, args.analyze.fail_on);
    // An incomplete snapshot is worth an exit code even when the findings are clean.
    Ok(Outcome(if code == code::OK && !extracted.manifest.complete { code::INCOMPLETE } else { code }))
}
