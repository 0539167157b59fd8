//! Writing the report files. Escaping is decided here, per format, for every value a template
//! prints: templates cannot forget it.
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use minijinja::{AutoEscape, Environment, Value};
use serde::Serialize;

use super::charts::{self, Chart};
use super::model::{CertRow, ReportModel, ROLES};
use super::ReportError;
use crate::fsutil;

/// Templates shipped in the binary (every file of `reports/` at build time).
const TEMPLATES: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/builtin_templates.rs"));

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Format {
    Html,
    Md,
    Csv,
    Json,
}

impl FromStr for Format {
    type Err = ReportError;
    fn from_str(s: &str) -> Result<Self, ReportError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "html" => Ok(Format::Html),
            "md" | "markdown" => Ok(Format::Md),
            "csv" => Ok(Format::Csv),
            "json" => Ok(Format::Json),
            other => Err(ReportError::UnknownFormat(other.to_owned())),
        }
    }
}

#[derive(Debug, Clone)]
pub struct ReportOptions {
    pub out_dir: PathBuf,
    pub formats: BTreeSet<Format>,
}

#[derive(Debug, Clone)]
pub struct Rendered {
    pub files: Vec<PathBuf>,
    /// `index.html`, when HTML was asked for.
    pub index: Option<PathBuf>,
}

/// A cell a spreadsheet would evaluate (`=`, `+`, `-`, `@`, tab, CR at the start) gets a leading
/// apostrophe, OWASP's advice for CSV injection: shown as text, never run.
pub fn neutralise_csv_cell(value: &str) -> String {
    match value.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{value}"),
        _ => value.to_owned(),
    }
}

/// Characters that change how the text around them reads without showing themselves:
/// bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069). A hostile
/// name could otherwise make a reviewer read another cell backwards; they become U+FFFD, as in
/// the charts.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// The one escaping function for HTML (`index.html`): `<`, `>`, `&`, `"`, `'`, `/` become entities,
/// bidirectional controls and control characters other than tab and newline become U+FFFD.
pub fn escape_html(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            '/' => out.push_str("&#x2f;"),
            '\t' | '\n' => out.push(c),
            c if c.is_control() || is_bidi_control(c) => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// The one escaping function for Markdown (`cost.md`, `risk.md`, `diff.md`, `closure.md`), for
/// a value inside a line or a table cell. Markdown renderers pass inline HTML through, so `<`,
/// `>` and `&` become entities; every character Markdown gives a meaning inside a line (`|` ends
/// a table cell; `\`, `` ` ``, `*`, `_`, `~`, `[`, `]`, `!`, `#` start code, emphasis,
/// strikethrough, links, images, headings) is backslash-escaped; a line break of any kind becomes
/// a space, so a value never starts a new line, ends a table row or opens a block; bidirectional
/// controls and other control characters become U+FFFD, as in HTML.
pub fn escape_markdown(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '|' | '\\' | '`' | '*' | '_' | '~' | '[' | ']' | '!' | '#' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' | '\t' | '\u{0B}' | '\u{0C}' | '\u{85}' | '\u{2028}' | '\u{2029}' => out.push(' '),
            c if c.is_control() || is_bidi_control(c) => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

fn environment() -> Result<Environment<'static>, ReportError> {
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
    for (name, source) in TEMPLATES {
        env.add_template(name, source)
            .map_err(|e| ReportError::Template { name: (*name).to_owned(), detail: e.to_string() })?;
    }
    Ok(env)
}

#[derive(Serialize)]
struct ChartView {
    name: &'static str,
    title: String,
    svg: String,
    png: String,
    svg_file: String,
}

struct Writer<'a> {
    out: &'a Path,
    files: Vec<PathBuf>,
}

impl Writer<'_> {
    fn write(&mut self, rel: &str, bytes: &[u8]) -> Result<PathBuf, ReportError> {
        let path = self.out.join(rel);
        if let Some(parent) = path.parent() {
            fsutil::create_private_dir_all(parent)
                .map_err(|e| ReportError::Write { path: parent.display().to_string(), detail: e.to_string() })?;
        }
        fsutil::write_private_atomic(&path, bytes)
            .map_err(|e| ReportError::Write { path: path.display().to_string(), detail: e.to_string() })?;
        self.files.push(path.clone());
        Ok(path)
    }
}

/// Render one embedded template (`reports/<name>`) with the escaping its extension calls for.
pub fn render_named(name: &str, ctx: &impl Serialize) -> Result<String, ReportError> {
    render_template(&environment()?, name, &Value::from_serialize(ctx))
}

fn render_template(env: &Environment<'_>, name: &str, ctx: &Value) -> Result<String, ReportError> {
    env.get_template(name)
        .and_then(|t| t.render(ctx))
        .map_err(|e| ReportError::Template { name: name.to_owned(), detail: format!("{e:#}") })
}

fn draw_charts(model: &ReportModel) -> Result<Vec<Chart>, ReportError> {
    // A team that was not read has no seats to draw: a zero bar would say it has none.
    let read_teams = || model.cost.teams.iter().filter(|t| t.not_read.is_none());
    let spend: Vec<charts::RoleSpend> = read_teams()
        .map(|t| charts::RoleSpend {
            team: t.team.clone(),
            admin_cents: t.role_cents.get(ROLES[0]).copied().unwrap_or(0),
            member_cents: t.role_cents.get(ROLES[1]).copied().unwrap_or(0),
            viewer_cents: t.role_cents.get(ROLES[2]).copied().unwrap_or(0),
            collaborator_cents: t.role_cents.get(ROLES[3]).copied().unwrap_or(0),
        })
        .collect();
    let activity: Vec<charts::SeatActivity> = read_teams()
        .map(|t| charts::SeatActivity {
            team: t.team.clone(),
            active: t.seats - t.inactive_seats,
            inactive: t.inactive_seats,
        })
        .collect();
    let rule_counts: Vec<charts::RuleCount> = model
        .risk
        .rules
        .iter()
        .map(|r| charts::RuleCount {
            rule_id: r.rule_id.clone(),
            severity: r.severity.as_str().to_owned(),
            count: r.findings,
        })
        .collect();
    let mut out = vec![
        charts::seat_spend_per_team(&spend)?,
        charts::active_vs_inactive(&activity)?,
        charts::findings_by_severity_and_rule(&rule_counts)?,
        charts::days_since_activity(&model.seat_days_inactive, i64::from(model.snapshot.window_days))?,
    ];
    if let Some(t) = &model.trends {
        out.extend(trend_charts(&t.data)?);
    }
    Ok(out)
}

fn trend_charts(t: &super::trends::Trends) -> Result<Vec<Chart>, ReportError> {
    let labels: Vec<String> = t.points.iter().map(|p| p.snapshot_id.clone()).collect();
    let teams: BTreeSet<&String> =
        t.points.iter().flat_map(|p| p.seats_by_team.keys().chain(p.not_read_teams.iter())).collect();
    let per_team = |f: &dyn Fn(&super::trends::TrendPoint, &str) -> Option<f64>| -> Vec<charts::TrendLine> {
        teams
            .iter()
            .map(|team| charts::TrendLine {
                label: (*team).clone(),
                values: t.points.iter().map(|p| f(p, team)).collect(),
            })
            .collect()
    };
    // A team a snapshot did not read is a break in its line, not a drop to zero; a team absent
    // because it did not exist yet is zero. The all-teams total is unknown where any team was unread.
    let unread = |p: &super::trends::TrendPoint, team: &str| p.not_read_teams.iter().any(|t| t == team);
    let seats =
        per_team(&|p, team| (!unread(p, team)).then(|| f64::from(p.seats_by_team.get(team).copied().unwrap_or(0))));
    let mut spend = per_team(&|p, team| {
        (!unread(p, team)).then(|| p.spend_by_team_cents.get(team).copied().unwrap_or(0) as f64 / 100.0)
    });
    spend.push(charts::TrendLine {
        label: "all teams".into(),
        values: t.points.iter().map(|p| p.not_read_teams.is_empty().then(|| p.spend_cents as f64 / 100.0)).collect(),
    });
    // Snapshots never analyzed have no findings to count: they are left out of that chart.
    let analyzed: Vec<&super::trends::TrendPoint> = t.points.iter().filter(|p| p.open_by_severity.is_some()).collect();
    let findings: Vec<charts::TrendLine> = crate::analyze::Severity::ALL
        .iter()
        .rev()
        .map(|s| charts::TrendLine {
            label: s.as_str().to_owned(),
            values: analyzed
                .iter()
                .map(|p| Some(p.open_by_severity.as_ref().and_then(|c| c.get(s.as_str())).copied().unwrap_or(0) as f64))
                .collect(),
        })
        .collect();
    let analyzed_labels: Vec<String> = analyzed.iter().map(|p| p.snapshot_id.clone()).collect();
    Ok(vec![
        charts::trend("trend-seats", "Seats per team over time", &labels, &seats, "seats", false)?,
        charts::trend("trend-spend", "Monthly seat spend over time", &labels, &spend, "per month", true)?,
        charts::trend(
            "trend-findings",
            "Open findings by severity over time",
            &analyzed_labels,
            &findings,
            "findings",
            false,
        )?,
    ])
}

pub fn render(model: &ReportModel, opts: &ReportOptions) -> Result<Rendered, ReportError> {
    let env = environment()?;
    let mut w = Writer { out: &opts.out_dir, files: Vec::new() };
    let wants = |f: Format| opts.formats.contains(&f);

    let mut chart_views = Vec::new();
    if wants(Format::Html) || wants(Format::Md) {
        for chart in draw_charts(model)? {
            let png = format!("charts/{}.png", chart.name);
            let svg_file = format!("charts/{}.svg", chart.name);
            w.write(&png, &chart.png)?;
            w.write(&svg_file, chart.svg.as_bytes())?;
            chart_views.push(ChartView {
                name: chart.name,
                title: chart.title.clone(),
                svg: chart.svg.clone(),
                png,
                svg_file,
            });
        }
    }
    let ctx = Value::from_serialize(serde_json::json!({
        "m": model,
        "charts": chart_views,
        "generator": concat!("hkaudit ", env!("CARGO_PKG_VERSION")),
    }));

    let mut index = None;
    if wants(Format::Html) {
        let html = render_template(&env, "index.html", &ctx)?;
        index = Some(w.write("index.html", html.as_bytes())?);
    }
    if wants(Format::Md) {
        w.write("cost.md", render_template(&env, "cost.md", &ctx)?.as_bytes())?;
        w.write("risk.md", render_template(&env, "risk.md", &ctx)?.as_bytes())?;
    }
    if wants(Format::Csv) {
        w.write("certification.csv", &certification_csv(&model.certification)?)?;
        w.write("findings.csv", &findings_csv(model)?)?;
    }
    if wants(Format::Json) {
        w.write("summary.json", &summary_json(model)?)?;
    }
    Ok(Rendered { files: w.files, index })
}

/// CSV with a header, CRLF line ends and every cell neutralised against formula injection.
pub fn csv_bytes(header: &[&str], rows: impl Iterator<Item = Vec<String>>) -> Result<Vec<u8>, ReportError> {
    let err = |e: &dyn std::fmt::Display| ReportError::Write { path: "csv".into(), detail: e.to_string() };
    let mut out = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(Vec::new());
    out.write_record(header).map_err(|e| err(&e))?;
    for row in rows {
        out.write_record(row.iter().map(|c| neutralise_csv_cell(c))).map_err(|e| err(&e))?;
    }
    out.into_inner().map_err(|e| err(&e))
}

pub fn certification_csv(rows: &[CertRow]) -> Result<Vec<u8>, ReportError> {
    csv_bytes(&CertRow::HEADER, rows.iter().map(|r| r.cells().iter().map(|c| (*c).to_owned()).collect()))
}

fn findings_csv(model: &ReportModel) -> Result<Vec<u8>, ReportError> {
    let header = [
        "severity",
        "rule_id",
        "title",
        "subject",
        "message",
        "evidence",
        "monthly_cost",
        "remediation",
        "fingerprint",
    ];
    let rows = model.risk.groups.iter().flat_map(|g| {
        g.rules.iter().flat_map(move |r| {
            r.findings.iter().map(move |f| {
                vec![
                    g.severity.clone(),
                    r.rule_id.clone(),
                    r.title.clone(),
                    f.subject.clone(),
                    f.message.clone(),
                    f.evidence.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; "),
                    f.cost.clone(),
                    r.remediation.clone(),
                    f.fingerprint.clone(),
                ]
            })
        })
    });
    csv_bytes(&header, rows)
}

fn summary_json(model: &ReportModel) -> Result<Vec<u8>, ReportError> {
    let c = &model.cost;
    let v = serde_json::json!({
        "format_version": 1,
        "snapshot": model.snapshot,
        "complete": model.snapshot.complete && model.snapshot.findings_complete,
        "gaps": model.gaps.len(),
        "scope": model.scope,
        "findings": {
            "total": model.risk.total,
            "by_severity": model.risk.by_severity.iter().cloned().collect::<std::collections::BTreeMap<_, _>>(),
            "by_rule": model.risk.rules.iter().map(|r| (r.rule_id.clone(), r.findings)).collect::<std::collections::BTreeMap<_, _>>(),
        },
        "cost": {
            "currency": "USD",
            "price_per_seat_cents": c.price_per_seat_cents,
            "minimum_per_team": c.minimum_per_team,
            "seats": c.seats,
            "billed_seats": c.billed_seats,
            "monthly_cents": c.monthly_cents,
            "annual_cents": c.annual_cents,
            "inactive_cents": c.inactive_cents,
            "viewer_cents": c.viewer_cents,
            "saving_cents": c.saving_cents,
            "excluded": c.excluded,
            "teams": c.teams.iter().map(|t| match &t.not_read {
                // Not read is unknown, not zero.
                Some(why) => serde_json::json!({
                    "team": t.team, "not_read": why, "seats": null, "billed_seats": null, "monthly_cents": null,
                    "inactive_seats": null, "saving_cents": null, "enterprise_priced": t.enterprise_priced,
                }),
                None => serde_json::json!({
                    "team": t.team, "seats": t.seats, "billed_seats": t.billed_seats, "monthly_cents": t.monthly_cents,
                    "inactive_seats": t.inactive_seats, "saving_cents": t.saving_cents, "enterprise_priced": t.enterprise_priced,
                }),
            }).collect::<Vec<_>>(),
            "enterprise": c.enterprise,
        },
        "certification_rows": model.certification.iter().filter(|r| r.grant_type != super::grants::NOT_READ).count(),
        "certification_not_read": model.certification_missing.iter().map(|s| &s.label).collect::<Vec<_>>(),
    });
    serde_json::to_vec_pretty(&v).map_err(|e| ReportError::Write { path: "summary.json".into(), detail: e.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_neutralised() {
        for hostile in ["=HYPERLINK(\"http://evil.example\")", "+1", "-2", "@SUM(A1)", "\tx", "\rx"] {
            assert!(neutralise_csv_cell(hostile).starts_with('\''), "{hostile:?}");
        }
        assert_eq!(neutralise_csv_cell("alice@acme.example"), "alice@acme.example");
    }

    #[test]
    fn markdown_escapes_html_and_table_breakers() {
        assert_eq!(escape_markdown("<script>alert(1)</script>|x"), "&lt;script&gt;alert(1)&lt;/script&gt;\\|x");
        assert_eq!(escape_markdown("a\nb\r\nc\u{2028}d"), "a b  c d", "no value starts a line");
        assert_eq!(escape_markdown("![x](y) ~~z~~ # h"), "\\!\\[x\\](y) \\~\\~z\\~\\~ \\# h");
        assert_eq!(escape_markdown("evil\u{202E}txt.exe\u{2066}"), "evil\u{FFFD}txt.exe\u{FFFD}");
    }

    #[test]
    fn html_escapes_markup_and_bidi_controls() {
        assert_eq!(escape_html("<img src=x onerror='a()'>&\""), "&lt;img src=x onerror=&#x27;a()&#x27;&gt;&amp;&quot;");
        for c in
            ['\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}']
        {
            assert_eq!(escape_html(&format!("a{c}b")), "a\u{FFFD}b", "U+{:04X}", c as u32);
        }
        assert_eq!(escape_html("\u{0}\u{1b}[31m"), "\u{FFFD}\u{FFFD}[31m");
    }

    #[test]
    fn formats_parse() {
        assert_eq!("HTML".parse::<Format>().ok(), Some(Format::Html));
        assert!("pdf".parse::<Format>().is_err());
    }
}
