//! Writing the report files. Escaping is decided here, per format, for every value a template
//! prints: templates cannot forget it.
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use minijinja::Value;
use serde::Serialize;

use super::certification::CertRow;
use super::charts::{self, Chart};
use super::model::ReportModel;
use super::ReportError;
use crate::analyze::cost::ROLES;
use crate::fsutil;
use crate::output::{csv_bytes, environment, render_template};

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
    let teams: BTreeSet<&String> = t.points.iter().flat_map(|p| p.seats_by_team.keys()).collect();
    let per_team = |f: &dyn Fn(&super::trends::TrendPoint, &str) -> f64| -> Vec<charts::TrendLine> {
        teams
            .iter()
            .map(|team| charts::TrendLine {
                label: (*team).clone(),
                values: t.points.iter().map(|p| f(p, team)).collect(),
            })
            .collect()
    };
    let seats = per_team(&|p, team| f64::from(p.seats_by_team.get(team).copied().unwrap_or(0)));
    let mut spend = per_team(&|p, team| p.spend_by_team_cents.get(team).copied().unwrap_or(0) as f64 / 100.0);
    spend.push(charts::TrendLine {
        label: "all teams".into(),
        values: t.points.iter().map(|p| p.spend_cents as f64 / 100.0).collect(),
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
                .map(|p| p.open_by_severity.as_ref().and_then(|c| c.get(s.as_str())).copied().unwrap_or(0) as f64)
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

pub fn certification_csv(rows: &[CertRow]) -> Result<Vec<u8>, ReportError> {
    Ok(csv_bytes(&CertRow::HEADER, rows.iter().map(|r| r.cells().iter().map(|c| (*c).to_owned()).collect()))?)
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
    Ok(csv_bytes(&header, rows)?)
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
        "certification_rows": model.certification.iter().filter(|r| r.grant_type != crate::snapshot::grants::NOT_READ).count(),
        "certification_not_read": model.certification_missing.iter().map(|s| &s.label).collect::<Vec<_>>(),
    });
    serde_json::to_vec_pretty(&v).map_err(|e| ReportError::Write { path: "summary.json".into(), detail: e.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_parse() {
        assert_eq!("HTML".parse::<Format>().ok(), Some(Format::Html));
        assert!("pdf".parse::<Format>().is_err());
    }
}
