//! The report templates (`reports/`, embedded at build time) and the escaping each format gets.
use minijinja::{AutoEscape, Environment, Value};
use serde::Serialize;

use super::escape::{escape_html, escape_markdown, html_code_spans, markdown_code, markdown_code_spans};
use super::OutputError;

/// Templates shipped in the binary (every file of `reports/` at build time).
const TEMPLATES: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/builtin_templates.rs"));

/// The templates of `reports/`, each escaped as its extension says (`.html`, `.svg`: HTML; `.md`:
/// Markdown; anything else: not at all).
pub fn environment() -> Result<Environment<'static>, OutputError> {
    let mut env = Environment::new();
    // A template's escaping is fixed when it is added: the callback comes first.
    env.set_auto_escape_callback(|name| {
        if name.ends_with(".html") || name.ends_with(".svg") {
            AutoEscape::Html
        } else if name.ends_with(".md") {
            AutoEscape::Custom("markdown")
        } else {
            AutoEscape::None
        }
    });
    // Every value a template prints goes through its format's one escaping function.
    env.set_formatter(|out, state, value| {
        let escape: fn(&str) -> String = match state.auto_escape() {
            _ if value.is_safe() => return minijinja::escape_formatter(out, state, value),
            AutoEscape::Custom("markdown") => escape_markdown,
            AutoEscape::Html => escape_html,
            _ => return minijinja::escape_formatter(out, state, value),
        };
        let text = if value.is_none() || value.is_undefined() { String::new() } else { value.to_string() };
        out.write_str(&escape(&text))
            .map_err(|e| minijinja::Error::new(minijinja::ErrorKind::WriteFailure, e.to_string()))
    });
    // `code_spans`: remediation text, its `code` spans rendered (HTML) or kept (Markdown), the
    // rest escaped for the template's format.
    env.add_filter("code_spans", |state: &minijinja::State, value: String| -> Value {
        match state.auto_escape() {
            AutoEscape::Html => Value::from_safe_string(html_code_spans(&value)),
            AutoEscape::Custom("markdown") => Value::from_safe_string(markdown_code_spans(&value)),
            _ => Value::from(value),
        }
    });
    // `code`: a value (a command) shown as code in either format.
    env.add_filter("code", |state: &minijinja::State, value: String| -> Value {
        match state.auto_escape() {
            AutoEscape::Html => Value::from_safe_string(format!("<code>{}</code>", escape_html(&value))),
            AutoEscape::Custom("markdown") => Value::from_safe_string(markdown_code(&value)),
            _ => Value::from(value),
        }
    });
    for (name, source) in TEMPLATES {
        env.add_template(name, source).map_err(|source| OutputError::Template { name: (*name).to_owned(), source })?;
    }
    Ok(env)
}

/// Render one embedded template (`reports/<name>`) with the escaping its extension calls for.
pub fn render_named(name: &str, ctx: &impl Serialize) -> Result<String, OutputError> {
    render_template(&environment()?, name, &Value::from_serialize(ctx))
}

pub fn render_template(env: &Environment<'_>, name: &str, ctx: &Value) -> Result<String, OutputError> {
    env.get_template(name)
        .and_then(|t| t.render(ctx))
        .map_err(|source| OutputError::Template { name: name.to_owned(), source })
}
