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
use crate::published::{
    CostSummaryV1, EnterpriseCostV1, FindingCountsV1, ScopeV1, SnapshotInfoV1, SummaryV1, TeamCostV1,
};

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
            other => Err(crate::analyze::InputError::option(
                "--format",
                format!("unknown format `{other}`"),
                "use html, md, csv, json (comma-separated)",
            )
            .into()),
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
                .map_err(|source| ReportError::Write { path: parent.to_owned(), source })?;
        }
        fsutil::write_private_atomic(&path, bytes)
            .map_err(|source| ReportError::Write { path: path.clone(), source })?;
        self.files.push(path.clone());
        Ok(path)
    }
}

/// What the seat-spend chart draws: each read team's bill, by role and billed minimum.
pub fn seat_spend_rows(model: &ReportModel) -> Vec<charts::RoleSpend> {
    // A team that was not read has no seats to draw: a zero bar would say it has none.
    model
        .cost
        .teams
        .iter()
        .filter(|t| t.not_read.is_none())
        .map(|t| charts::RoleSpend {
            team: t.team.clone(),
            admin_cents: t.role_cents.get(ROLES[0]).copied().unwrap_or(0),
            member_cents: t.role_cents.get(ROLES[1]).copied().unwrap_or(0),
            viewer_cents: t.role_cents.get(ROLES[2]).copied().unwrap_or(0),
            collaborator_cents: t.role_cents.get(ROLES[3]).copied().unwrap_or(0),
            minimum_cents: t.minimum_cents,
        })
        .collect()
}

fn draw_charts(model: &ReportModel) -> Result<Vec<Chart>, ReportError> {
    let read_teams = || model.cost.teams.iter().filter(|t| t.not_read.is_none());
    let spend = seat_spend_rows(model);
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

/// The x axis label of each point: its as-of date, which is what a reader plots against; with
/// the time too when two points fall on one day, so no two labels read the same.
fn as_of_labels(points: &[&super::trends::TrendPoint]) -> Vec<String> {
    let days: Vec<chrono::NaiveDate> = points.iter().map(|p| p.as_of.date_naive()).collect();
    let shared = |d: &chrono::NaiveDate| days.iter().filter(|x| *x == d).count() > 1;
    points
        .iter()
        .zip(&days)
        .map(|(p, d)| if shared(d) { p.as_of.format("%Y-%m-%d %H:%M").to_string() } else { d.to_string() })
        .collect()
}

fn trend_charts(t: &super::trends::Trends) -> Result<Vec<Chart>, ReportError> {
    let labels = as_of_labels(&t.points.iter().collect::<Vec<_>>());
    let teams: BTreeSet<&String> =
        t.points.iter().flat_map(|p| p.seats_by_team.keys().chain(p.not_read_teams.iter())).collect();
    let per_team = |f: &dyn Fn(&super::trends::TrendPoint, &str) -> Option<f64>| -> Vec<charts::TrendLine> {
        teams
            .iter()
            .map(|team| charts::TrendLine {
                label: (*team).clone(),
                values: t.points.iter().map(|p| f(p, team)).collect(),
                severity: None,
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
        severity: None,
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
            severity: Some(*s),
        })
        .collect();
    let analyzed_labels = as_of_labels(&analyzed);
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
    // Serialised straight into template values: going through one serde_json value first copied
    // the whole model twice, the report's largest cost on a big organisation.
    let ctx = minijinja::context! {
        m => Value::from_serialize(model),
        charts => Value::from_serialize(&chart_views),
        severity_css => super::palette::severity_css(),
        generator => concat!("hkaudit ", env!("CARGO_PKG_VERSION")),
    };

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
        w.write("people.csv", &people_csv(model)?)?;
    }
    if wants(Format::Json) {
        w.write("summary.json", &summary_json(model)?)?;
    }
    Ok(Rendered { files: w.files, index })
}

pub fn certification_csv(rows: &[CertRow]) -> Result<Vec<u8>, ReportError> {
    Ok(csv_bytes(&CertRow::HEADER, rows.iter().map(|r| r.cells().iter().map(|c| (*c).to_owned()).collect()))?)
}

/// `people.csv`: one row per person with a finding, in the order of "People to act on".
pub fn people_csv(model: &ReportModel) -> Result<Vec<u8>, ReportError> {
    use super::act_on::PersonToAct;
    Ok(csv_bytes(&PersonToAct::HEADER, model.people.iter().map(PersonToAct::cells))?)
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

/// `summary.json` as its published type ([`crate::published::SummaryV1`]).
pub fn summary(model: &ReportModel) -> SummaryV1 {
    let c = &model.cost;
    let s = &model.snapshot;
    SummaryV1 {
        format_version: 1,
        snapshot: SnapshotInfoV1 {
            id: s.id.clone(),
            taken_at: s.taken_at.clone(),
            as_of: s.as_of.clone(),
            api_url: s.api_url.clone(),
            account_email: s.account_email.clone(),
            complete: s.complete,
            findings_complete: s.findings_complete,
            window_days: s.window_days,
            window_since: s.window_since.clone(),
            review_period: s.review_period.clone(),
        },
        complete: s.complete && s.findings_complete,
        gaps: model.gaps.len(),
        scope: ScopeV1 {
            enterprise_accounts: model.scope.enterprise_accounts.clone(),
            teams: model.scope.teams,
            apps: model.scope.apps,
            people: model.scope.people,
            inputs: model.scope.inputs.clone(),
            idp_files: model.scope.idp_files.iter().map(crate::analyze::input_record).collect(),
        },
        findings: FindingCountsV1 {
            total: model.risk.total,
            by_severity: model.risk.by_severity.iter().cloned().collect(),
            by_rule: model.risk.rules.iter().map(|r| (r.rule_id.clone(), r.findings)).collect(),
        },
        cost: CostSummaryV1 {
            currency: "USD".into(),
            price_per_seat_cents: c.price_per_seat_cents,
            minimum_per_team: c.minimum_per_team,
            seats: c.seats,
            billed_seats: c.billed_seats,
            monthly_cents: c.monthly_cents,
            annual_cents: c.annual_cents,
            inactive_cents: c.inactive_cents,
            viewer_cents: c.viewer_cents,
            saving_cents: c.saving_cents,
            excluded: c.excluded.clone(),
            teams: c
                .teams
                .iter()
                .map(|t| {
                    // Not read is unknown, not zero.
                    let read = t.not_read.is_none();
                    TeamCostV1 {
                        team: t.team.clone(),
                        not_read: t.not_read.clone(),
                        seats: read.then_some(t.seats),
                        billed_seats: read.then_some(t.billed_seats),
                        monthly_cents: read.then_some(t.monthly_cents),
                        inactive_seats: read.then_some(t.inactive_seats),
                        saving_cents: read.then_some(t.saving_cents),
                        enterprise_priced: t.enterprise_priced,
                    }
                })
                .collect(),
            enterprise: c
                .enterprise
                .iter()
                .map(|e| EnterpriseCostV1 {
                    enterprise_account: e.enterprise_account.clone(),
                    not_read: e.not_read.clone(),
                    unique_users: e.unique_users,
                    price: e.price.clone(),
                    monthly_cents: e.monthly_cents,
                    monthly: e.monthly.clone(),
                    inactive_users: e.inactive_users,
                    saving_cents: e.saving_cents,
                    saving: e.saving.clone(),
                })
                .collect(),
        },
        certification_rows: model
            .certification
            .iter()
            .filter(|r| r.grant_type != crate::snapshot::grants::NOT_READ)
            .count(),
        certification_not_read: model.certification_missing.iter().map(|s| s.label.clone()).collect(),
    }
}

fn summary_json(model: &ReportModel) -> Result<Vec<u8>, ReportError> {
    let err = |e: serde_json::Error| ReportError::Write { path: "summary.json".into(), source: e.into() };
    // Through a JSON value, whose keys are sorted: summary.json has always listed them so.
    let value = serde_json::to_value(summary(model)).map_err(err)?;
    serde_json::to_vec_pretty(&value).map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(id: &str, as_of: &str) -> super::super::trends::TrendPoint {
        super::super::trends::TrendPoint {
            snapshot_id: id.into(),
            as_of: as_of.parse().expect("RFC 3339"),
            complete: true,
            seats_by_team: Default::default(),
            spend_by_team_cents: Default::default(),
            spend_cents: 0,
            not_read_teams: vec![],
            open_by_severity: None,
        }
    }

    #[test]
    fn trend_points_are_labelled_by_their_as_of_date_with_the_time_only_where_a_day_repeats() {
        let points = [
            point("20260105T101010Z", "2026-01-05T09:00:00Z"),
            point("20260301T080000Z", "2026-03-01T08:00:00Z"),
            point("20260301T170000Z", "2026-03-01T17:30:00Z"),
        ];
        let labels = as_of_labels(&points.iter().collect::<Vec<_>>());
        assert_eq!(labels, ["2026-01-05", "2026-03-01 08:00", "2026-03-01 17:30"]);
    }

    #[test]
    fn formats_parse() {
        assert_eq!("HTML".parse::<Format>().ok(), Some(Format::Html));
        assert!("pdf".parse::<Format>().is_err());
    }
}
