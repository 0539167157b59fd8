//! Writing files people read, for every stage that writes them (report, diff, certify): the one
//! escaping function per format, CSV that spreadsheets cannot turn into formulas, and the embedded
//! templates with each format's escaping fixed. It uses no other module of hkaudit, so any stage
//! may use it.
mod csv;
mod escape;
mod templates;

pub use csv::csv_bytes;
pub use escape::{escape_html, escape_markdown, neutralise_csv_cell};
pub use templates::{environment, render_named, render_template};

#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("template {name}")]
    Template {
        name: String,
        #[source]
        source: minijinja::Error,
    },
    #[error("cannot write CSV")]
    Csv(#[source] ::csv::Error),
}
