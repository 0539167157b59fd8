//! What the terminal shows: one `hkaudit: warning:` / `hkaudit: error:` style for every message,
//! whether it comes from a subcommand or from a library's `tracing::warn!`, and colour only where
//! it helps. Colour follows anstream's rules (the ones clap's help already follows): on a
//! terminal, never in a pipe or with `NO_COLOR`, always with `CLICOLOR_FORCE`.
use std::fmt::Write as _;
use std::io::Write as _;

use anstyle::{AnsiColor, Style};
use hkaudit::analyze::Severity;

const ERROR: Style = AnsiColor::Red.on_default().bold();
const WARNING: Style = AnsiColor::Yellow.on_default().bold();
const NOTE: Style = Style::new().dimmed();

/// The colour a severity reads in: the same order of alarm as the report's palette.
pub fn severity_style(s: Severity) -> Style {
    match s {
        Severity::Critical => AnsiColor::Magenta.on_default().bold(),
        Severity::High => AnsiColor::Red.on_default().bold(),
        Severity::Medium => AnsiColor::Yellow.on_default(),
        Severity::Low => AnsiColor::Cyan.on_default(),
        Severity::Info => NOTE,
    }
}

/// `text` in `style`, for lines that go out through [`print_styled`] or [`warning`]: the escape
/// codes are stripped there when colour is off.
pub fn paint(style: Style, text: &str) -> String {
    let mut s = String::with_capacity(text.len() + 12);
    let _ = write!(s, "{style}{text}{style:#}");
    s
}

pub fn dim(text: &str) -> String {
    paint(NOTE, text)
}

/// One line to stdout, with colour when stdout takes it.
pub fn print_styled(line: &str) -> anyhow::Result<()> {
    let mut out = anstream::stdout().lock();
    writeln!(out, "{line}")?;
    out.flush()?;
    Ok(())
}

/// A plain line of information on stderr, for people (stdout is for what scripts read).
pub fn note(message: &str) {
    let mut err = anstream::stderr().lock();
    let _ = writeln!(err, "{message}");
}

/// `hkaudit: warning: …` on stderr.
pub fn warning(message: &str) {
    let mut err = anstream::stderr().lock();
    let _ = writeln!(err, "{}", line("warning", WARNING, message));
}

/// `hkaudit: error: …` on stderr.
pub fn error(message: &str) {
    let mut err = anstream::stderr().lock();
    let _ = writeln!(err, "{}", line("error", ERROR, message));
}

fn line(kind: &str, style: Style, message: &str) -> String {
    format!("hkaudit: {}: {message}", paint(style, kind))
}

/// Whether stderr takes colour: the tracing subscriber writes there through its own writer.
pub fn stderr_has_colour() -> bool {
    anstream::AutoStream::choice(&std::io::stderr()) != anstream::ColorChoice::Never
}

/// Warnings and errors logged with `tracing` print as `hkaudit: warning: message` like every
/// other message (their scope, e.g. the team a crawl step was reading, before the message);
/// `-v` and finer levels keep tracing's timestamped lines, which are for debugging.
pub struct OneStyle<F>(pub F);

impl<S, N, F> tracing_subscriber::fmt::FormatEvent<S, N> for OneStyle<F>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    N: for<'w> tracing_subscriber::fmt::FormatFields<'w> + 'static,
    F: tracing_subscriber::fmt::FormatEvent<S, N>,
{
    fn format_event(
        &self,
        ctx: &tracing_subscriber::fmt::FmtContext<'_, S, N>,
        mut writer: tracing_subscriber::fmt::format::Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> std::fmt::Result {
        let level = *event.metadata().level();
        let (kind, style) = match level {
            tracing::Level::ERROR => ("error", ERROR),
            tracing::Level::WARN => ("warning", WARNING),
            _ => return self.0.format_event(ctx, writer, event),
        };
        if writer.has_ansi_escapes() {
            write!(writer, "hkaudit: {style}{kind}:{style:#} ")?;
        } else {
            write!(writer, "hkaudit: {kind}: ")?;
        }
        if let Some(scope) = ctx.event_scope() {
            for span in scope.from_root() {
                write!(writer, "{}", span.name())?;
                let ext = span.extensions();
                if let Some(fields) = ext.get::<tracing_subscriber::fmt::FormattedFields<N>>() {
                    if !fields.is_empty() {
                        write!(writer, "{{{fields}}}")?;
                    }
                }
                writer.write_str(": ")?;
            }
        }
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_painted_word_is_wrapped_in_its_escape_codes_and_a_reset() {
        let s = paint(ERROR, "error");
        assert!(s.starts_with("\u{1b}["), "{s:?}");
        assert!(s.contains("error"));
        assert!(s.ends_with("\u{1b}[0m"), "{s:?}");
    }

    /// What a subscriber with [`OneStyle`] writes: collected for the test to read.
    #[derive(Clone, Default)]
    struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().map_err(|_| std::io::Error::other("poisoned"))?.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_library_warning_prints_like_every_other_hkaudit_message_with_its_scope() {
        let out = Captured::default();
        let writer = out.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .with_max_level(tracing::Level::INFO)
            .event_format(OneStyle(tracing_subscriber::fmt::format()))
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("team", name = "acme-web");
            let _in = span.enter();
            tracing::warn!("team listed twice; recorded as a gap");
            tracing::error!(status = 500, "read failed");
            tracing::info!("a debugging line");
        });
        let text = String::from_utf8(out.0.lock().expect("lock").clone()).expect("utf-8");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "hkaudit: warning: team{name=\"acme-web\"}: team listed twice; recorded as a gap");
        assert_eq!(lines[1], "hkaudit: error: team{name=\"acme-web\"}: read failed status=500");
        assert!(!lines[2].starts_with("hkaudit:") && lines[2].contains("INFO"), "info keeps tracing's format: {text}");
    }

    #[test]
    fn every_severity_has_a_style_and_the_alarming_ones_are_bold() {
        for s in Severity::ALL {
            assert_ne!(severity_style(s), Style::new(), "{s}");
        }
        assert!(severity_style(Severity::High).get_effects().contains(anstyle::Effects::BOLD));
        assert!(!severity_style(Severity::Low).get_effects().contains(anstyle::Effects::BOLD));
    }
}
