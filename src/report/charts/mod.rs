//! Charts for the report: each drawn once as SVG and once as PNG, in memory.
//!
//! Text is drawn with the DejaVu Sans font compiled into the binary (the `dejavu` crate through
//! plotters' `ab_glyph` feature), so a chart renders the same on a machine with no system fonts.
//! The SVG backend measures text with that font too, so it is registered before any drawing.
//!
//! Layout rule, so that labels never overlap:
//! - every chart is [`WIDTH`] pixels wide;
//! - the three per-team / per-rule charts are horizontal bars, one row of [`ROW_PX`] pixels per
//!   bar, labels on the left; the height is `HEADER_PX + 15 + ROW_PX * rows + 50`, never less
//!   than [`MIN_HEIGHT`]. At most [`MAX_ROWS`] rows are drawn; the smallest rows beyond that are
//!   folded into one "other (N teams)" row, so a chart stays under about 1,300 pixels tall;
//! - labels longer than [`MAX_LABEL_CHARS`] characters are cut with an ellipsis;
//! - the histogram has a handful of buckets and is always `WIDTH` × `MIN_HEIGHT`;
//! - an empty input gives a `WIDTH` × `MIN_HEIGHT` chart that says "no data".
//!
//! Output is a pure function of the input: rows are sorted with a total order, nothing reads the
//! clock, and the SVG backend writes no timestamps.
//!
//! The chart functions are here; [`plot`] lays a chart out and draws it on a backend, [`axis`]
//! holds the category axis and tick labels, [`encode`] the fonts, both backends and the PNG
//! encoder.
mod axis;
mod encode;
mod plot;

use std::collections::BTreeMap;
use std::fmt;

use plotters::style::RGBColor;

use crate::analyze::money;
use crate::analyze::Severity;
use encode::render;
use plot::{Axis, Body, Columns, Lines, Plot};

/// Width of every chart, in pixels.
pub const WIDTH: u32 = 900;
/// Height of the histogram and of empty charts, and the least height of the bar charts.
pub const MIN_HEIGHT: u32 = 420;
/// Height of one bar of a horizontal bar chart: 14.5 px text plus room to breathe.
pub const ROW_PX: u32 = 28;
/// Bars drawn before the rest are folded into one "other" bar.
pub const MAX_ROWS: usize = 40;
/// Longest label drawn before it is cut with an ellipsis; long team names would otherwise
/// squeeze the plot.
pub const MAX_LABEL_CHARS: usize = 36;

/// Title line plus legend line.
const HEADER_PX: u32 = 70;
/// Room under the plot for the value axis labels and its description.
const AXIS_PX: u32 = 50;
/// plotters writes a font of N "points" as `font-size` N / 1.24 px (its backends' text scale), so
/// 18 is 14.5 px in the 900 px chart: 11 px or more wherever the page shows the chart at least
/// 683 px wide (the report's 1280 px layout shows it at 900 px; a portrait A4 print at about 700).
const LABEL_FONT_PX: f64 = 18.0;
const TITLE_FONT_PX: f64 = 22.0;

/// One rendered chart.
#[derive(Clone, PartialEq, Eq)]
pub struct Chart {
    /// File stem, e.g. `seat-spend`; callers add `.svg` / `.png`.
    pub name: &'static str,
    pub title: String,
    pub svg: String,
    pub png: Vec<u8>,
    pub width: u32,
    pub height: u32,
}

// By hand: the derived Debug would print kilobytes of SVG and PNG.
impl fmt::Debug for Chart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Chart")
            .field("name", &self.name)
            .field("title", &self.title)
            .field("width", &self.width)
            .field("height", &self.height)
            .field("svg_bytes", &self.svg.len())
            .field("png_bytes", &self.png.len())
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    #[error("chart fonts: the bundled DejaVu font could not be registered: {0}")]
    Font(String),
    #[error("chart `{chart}`: invalid input: {reason}")]
    InvalidInput { chart: &'static str, reason: String },
    #[error("chart `{chart}`: drawing the {format} failed")]
    Draw {
        chart: &'static str,
        format: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("chart `{chart}`: PNG encoding failed")]
    Encode {
        chart: &'static str,
        #[source]
        source: png::EncodingError,
    },
}

/// Monthly seat spend of one team, split by the role of the seat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleSpend {
    pub team: String,
    pub admin_cents: i64,
    pub member_cents: i64,
    pub viewer_cents: i64,
    pub collaborator_cents: i64,
    /// What the billed minimum adds over the seats held: the bar is the bill, not the seats.
    pub minimum_cents: i64,
}

/// Seats of one team that were / were not active in the activity window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeatActivity {
    pub team: String,
    pub active: u32,
    pub inactive: u32,
}

/// How many findings one rule raised at one severity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleCount {
    pub rule_id: String,
    /// `info`, `low`, `medium`, `high` or `critical` (case-insensitive).
    pub severity: String,
    pub count: usize,
}

// Okabe–Ito colours: distinguishable with the common colour-vision deficiencies.
const ADMIN: RGBColor = RGBColor(213, 94, 0); // vermillion: the most privileged role stands out
const MEMBER: RGBColor = RGBColor(0, 114, 178); // blue
const VIEWER: RGBColor = RGBColor(86, 180, 233); // sky blue
const COLLABORATOR: RGBColor = RGBColor(204, 121, 167); // reddish purple
const MINIMUM: RGBColor = RGBColor(190, 190, 190); // grey: billed, but no one's seat
const ACTIVE: RGBColor = RGBColor(0, 158, 115); // bluish green
const INACTIVE: RGBColor = RGBColor(230, 159, 0); // orange: the seats to look at
const IN_WINDOW: RGBColor = RGBColor(0, 114, 178);
const NONE_IN_WINDOW: RGBColor = RGBColor(150, 150, 150);
const BAR_EDGE: RGBColor = RGBColor(60, 60, 60);
const GRID: RGBColor = RGBColor(225, 225, 225);
const TEXT: RGBColor = RGBColor(30, 30, 30);

/// A severity's colour: the report's one palette ([`super::palette`]), as the badges use it.
fn severity_colour(s: Severity) -> RGBColor {
    let (r, g, b) = super::palette::severity_rgb(s);
    RGBColor(r, g, b)
}

/// Stacked horizontal bars of team seat spend, one colour per role; the axis is in dollars.
///
/// Teams are sorted by total spend, largest first (ties by name); rows with the same team name are
/// added together. Negative amounts are refused: they cannot be stacked honestly.
pub fn seat_spend_per_team(rows: &[RoleSpend]) -> Result<Chart, ChartError> {
    const NAME: &str = "seat-spend";
    let title = "Seat spend per team, by role, as billed (per month)".to_string();
    let teams = seat_spend_bars(rows)?;
    let total = |v: &[i64; 5]| v.iter().fold(0i64, |a, b| a.saturating_add(*b));
    let mut bars: Vec<Bar> = teams
        .iter()
        .map(|(team, v)| Bar::new(team, v.iter().map(|c| *c as f64 / 100.0).collect(), money(total(v))))
        .collect();
    fold_tail(&mut bars, "teams", |values| money((values.iter().sum::<f64>() * 100.0).round() as i64));
    let series = vec![
        Series { name: "admin", colour: ADMIN },
        Series { name: "member", colour: MEMBER },
        Series { name: "viewer", colour: VIEWER },
        Series { name: "collaborator", colour: COLLABORATOR },
        Series { name: "billed minimum", colour: MINIMUM },
    ];
    render(&Plot::hbars(NAME, title, series, bars, Axis::Dollars, "Seat spend (USD per month)"))
}

/// The seat-spend chart's data: per team (same names added together), cents for admin, member,
/// viewer, collaborator and the billed minimum, the largest bill first. Each row's sum is the
/// label its bar carries.
pub fn seat_spend_bars(rows: &[RoleSpend]) -> Result<Vec<(String, [i64; 5])>, ChartError> {
    let mut by_team: BTreeMap<&str, [i64; 5]> = BTreeMap::new();
    for r in rows {
        let parts = [r.admin_cents, r.member_cents, r.viewer_cents, r.collaborator_cents, r.minimum_cents];
        if let Some(c) = parts.iter().find(|c| **c < 0) {
            return Err(ChartError::InvalidInput {
                chart: "seat-spend",
                reason: format!("team {:?} has a negative spend of {c} cents", r.team),
            });
        }
        let sum = by_team.entry(r.team.as_str()).or_default();
        for (s, p) in sum.iter_mut().zip(parts) {
            *s = s.saturating_add(p);
        }
    }
    let mut teams: Vec<(String, [i64; 5])> = by_team.into_iter().map(|(t, v)| (t.to_owned(), v)).collect();
    let total = |v: &[i64; 5]| v.iter().fold(0i64, |a, b| a.saturating_add(*b));
    // Stable sort over the name-ordered map: ties keep name order.
    teams.sort_by_key(|(_, v)| std::cmp::Reverse(total(v)));
    Ok(teams)
}

/// Stacked horizontal bars of active and inactive seats per team.
///
/// Teams are sorted by inactive seats, most first, then by seat count and name; rows with the
/// same team name are added together.
pub fn active_vs_inactive(rows: &[SeatActivity]) -> Result<Chart, ChartError> {
    const NAME: &str = "active-vs-inactive";
    let title = "Active and inactive seats per team".to_string();
    let mut by_team: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for r in rows {
        let e = by_team.entry(r.team.as_str()).or_default();
        e.0 += u64::from(r.active);
        e.1 += u64::from(r.inactive);
    }
    let mut teams: Vec<(&str, (u64, u64))> = by_team.into_iter().collect();
    teams.sort_by_key(|(_, (a, i))| (std::cmp::Reverse(*i), std::cmp::Reverse(a + i)));
    let mut bars: Vec<Bar> = teams
        .iter()
        .map(|(team, (a, i))| Bar::new(team, vec![*a as f64, *i as f64], activity_label(*a as f64, *i as f64)))
        .collect();
    fold_tail(&mut bars, "teams", |v| activity_label(v[0], v[1]));
    let series = vec![Series { name: "active", colour: ACTIVE }, Series { name: "inactive", colour: INACTIVE }];
    render(&Plot::hbars(NAME, title, series, bars, Axis::Count, "Seats"))
}

fn activity_label(active: f64, inactive: f64) -> String {
    format!("{inactive} of {} inactive", active + inactive)
}

/// Horizontal bars of findings per rule, coloured (and stacked, if a rule raised several) by
/// severity, with a legend of the severities present.
///
/// Rules are sorted by their highest severity, then by finding count, then by id.
pub fn findings_by_severity_and_rule(rows: &[RuleCount]) -> Result<Chart, ChartError> {
    const NAME: &str = "findings-by-rule";
    let title = "Findings by rule and severity".to_string();
    // Legend and stacking order: most severe first.
    let order: Vec<Severity> = Severity::ALL.into_iter().rev().collect();
    let mut by_rule: BTreeMap<&str, [usize; 5]> = BTreeMap::new();
    for r in rows {
        let sev = Severity::parse(&r.severity).ok_or_else(|| ChartError::InvalidInput {
            chart: NAME,
            reason: format!("rule {:?} has unknown severity {:?}", r.rule_id, r.severity),
        })?;
        let idx = order.iter().position(|s| *s == sev).unwrap_or_default();
        let counts = by_rule.entry(r.rule_id.as_str()).or_default();
        counts[idx] = counts[idx].saturating_add(r.count);
    }
    let present: Vec<usize> = (0..order.len()).filter(|i| by_rule.values().any(|c| c[*i] > 0)).collect();
    let mut rules: Vec<(&str, [usize; 5])> = by_rule.into_iter().collect();
    // Index of the first non-zero count is the highest severity (order is most severe first).
    let worst = |c: &[usize; 5]| c.iter().position(|n| *n > 0).unwrap_or(c.len());
    rules.sort_by_key(|(_, c)| (worst(c), std::cmp::Reverse(c.iter().sum::<usize>())));
    let mut bars: Vec<Bar> = rules
        .iter()
        .map(|(rule, c)| {
            let total: usize = c.iter().sum();
            Bar::new(rule, present.iter().map(|i| c[*i] as f64).collect(), total.to_string())
        })
        .collect();
    fold_tail(&mut bars, "rules", |v| format!("{}", v.iter().sum::<f64>()));
    let series =
        present.iter().map(|i| Series { name: order[*i].as_str(), colour: severity_colour(order[*i]) }).collect();
    render(&Plot::hbars(NAME, title, series, bars, Axis::Count, "Findings"))
}

/// Histogram of days since each seat's last activity.
///
/// Buckets: 0–30, 31–60, 61–90 and 91–180 days, each kept only if it starts inside the window,
/// the last one cut at `window_days`, then "none in N d" for `None` and for anything older than
/// the window. A negative day count (an activity timestamp slightly in the future, from clock
/// skew) counts as 0 days.
pub fn days_since_activity(days: &[Option<i64>], window_days: i64) -> Result<Chart, ChartError> {
    const NAME: &str = "days-since-activity";
    let title = format!("Days since last activity ({window_days}-day window)");
    if window_days < 1 {
        return Err(ChartError::InvalidInput {
            chart: NAME,
            reason: format!("the activity window must be at least 1 day, not {window_days}"),
        });
    }
    let mut uppers: Vec<i64> = [30, 60, 90, 180].into_iter().filter(|u| *u < window_days).collect();
    uppers.push(window_days);
    let mut buckets: Vec<(String, usize, RGBColor)> = Vec::new();
    let mut lower = 0;
    for u in &uppers {
        buckets.push((format!("{lower}–{u} d"), 0, IN_WINDOW));
        lower = u + 1;
    }
    buckets.push((format!("none in {window_days} d"), 0, NONE_IN_WINDOW));
    for d in days {
        let idx = match d {
            Some(d) => uppers.iter().position(|u| (*d).max(0) <= *u).unwrap_or(uppers.len()),
            None => uppers.len(),
        };
        buckets[idx].1 += 1;
    }
    let body = if days.is_empty() {
        Body::Empty
    } else {
        Body::Columns(Columns { buckets, x_desc: "Days since last activity", y_desc: "Seats" })
    };
    render(&Plot { name: NAME, title, width: WIDTH, height: MIN_HEIGHT, body })
}

/// One named, coloured part of a stacked bar.
struct Series {
    name: &'static str,
    colour: RGBColor,
}

/// One horizontal bar: its label, a value per series, and the text drawn after it.
struct Bar {
    label: String,
    values: Vec<f64>,
    total_label: String,
}

impl Bar {
    fn new(label: &str, values: Vec<f64>, total_label: String) -> Self {
        Bar { label: display_label(label), values, total_label }
    }
}

/// Keeps the first `MAX_ROWS - 1` bars and adds the rest up into one "other" bar, so the chart's
/// height stays bounded. Bars are already sorted most important first.
fn fold_tail(bars: &mut Vec<Bar>, noun: &str, total_label: impl Fn(&[f64]) -> String) {
    if bars.len() <= MAX_ROWS {
        return;
    }
    let rest = bars.split_off(MAX_ROWS - 1);
    let width = rest.first().map_or(0, |b| b.values.len());
    let mut values = vec![0.0; width];
    for b in &rest {
        for (v, x) in values.iter_mut().zip(&b.values) {
            *v += x;
        }
    }
    let label = format!("other ({} {noun})", rest.len());
    bars.push(Bar { label, total_label: total_label(&values), values });
}

/// Makes a caller's label safe and short to draw. The SVG backend escapes `<>&"'` itself, but
/// XML 1.0 cannot hold most control characters at all, so those become U+FFFD; bidirectional
/// overrides go too, so a hostile name cannot make other text read backwards.
fn display_label(raw: &str) -> String {
    let clean: String = raw
        .chars()
        .map(|c| match c {
            c if c.is_control() => '\u{FFFD}',
            '\u{FFFE}' | '\u{FFFF}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => '\u{FFFD}',
            c => c,
        })
        .collect();
    let clean = clean.trim();
    if clean.is_empty() {
        return "(unnamed)".to_string();
    }
    if clean.chars().count() <= MAX_LABEL_CHARS {
        return clean.to_string();
    }
    let mut cut: String = clean.chars().take(MAX_LABEL_CHARS - 1).collect();
    cut.push('…');
    cut
}

/// One series of a trend chart: a value per snapshot, in snapshot order; `None` where that
/// snapshot could not know it.
#[derive(Debug, Clone, PartialEq)]
pub struct TrendLine {
    pub label: String,
    pub values: Vec<Option<f64>>,
    /// A series of one severity is drawn in that severity's colour; others take the next
    /// colour of the line palette.
    pub severity: Option<Severity>,
}

/// Height of one legend entry of a trend chart.
const LEGEND_ROW_PX: u32 = 24;

/// A line chart over snapshots (`x_labels`, oldest first: their as-of dates): seats or spend per
/// team, open findings per severity. Amounts in `dollars` are whole dollars (the caller divides
/// cents by 100). The legend is a column right of the plot, one row per series, so it never
/// covers a point; the chart grows taller when the legend needs it.
pub fn trend(
    name: &'static str,
    title: &str,
    x_labels: &[String],
    lines: &[TrendLine],
    y_desc: &'static str,
    dollars: bool,
) -> Result<Chart, ChartError> {
    if let Some(bad) = lines
        .iter()
        .find(|l| l.values.len() != x_labels.len() || l.values.iter().flatten().any(|v| !v.is_finite() || *v < 0.0))
    {
        return Err(ChartError::InvalidInput {
            chart: name,
            reason: format!("series {} needs one finite, non-negative value (or none) per snapshot", bad.label),
        });
    }
    let body = if x_labels.is_empty() || lines.is_empty() {
        Body::Empty
    } else {
        Body::Lines(Lines { x_labels: x_labels.to_vec(), lines: lines.to_vec(), y_desc, dollars })
    };
    let legend = u32::try_from(lines.len()).unwrap_or(u32::MAX).min(MAX_ROWS as u32);
    let height = (HEADER_PX + 10 + LEGEND_ROW_PX * legend + AXIS_PX).max(MIN_HEIGHT);
    render(&Plot { name, title: title.to_owned(), width: WIDTH, height, body })
}

#[cfg(test)]
mod tests {
    use super::axis::{count_tick, dollars_tick};
    use super::*;

    #[test]
    fn an_unknown_trend_value_breaks_the_line_instead_of_drawing_zero() {
        let labels: Vec<String> = ["q1", "q2", "q3"].iter().map(|s| (*s).to_owned()).collect();
        let line = |values| vec![TrendLine { label: "acme-payments".into(), values, severity: None }];
        let whole =
            trend("t", "t", &labels, &line(vec![Some(7.0), Some(7.0), Some(8.0)]), "seats", false).expect("chart");
        let gap = trend("t", "t", &labels, &line(vec![Some(7.0), None, Some(8.0)]), "seats", false).expect("chart");
        let polylines = |c: &Chart| c.svg.matches("<polyline").count();
        assert_eq!(polylines(&gap), polylines(&whole) + 1, "one segment each side of the unknown value");
        assert_eq!(
            gap.svg.matches("<circle").count() + 1,
            whole.svg.matches("<circle").count(),
            "no marker where unknown"
        );
    }

    fn dates() -> Vec<String> {
        ["2026-01-05", "2026-02-05", "2026-03-05"].iter().map(|s| (*s).to_owned()).collect()
    }

    /// The x of each `<text>` whose content is `label`.
    fn text_xs(svg: &str, label: &str) -> Vec<f64> {
        svg.split("<text")
            .skip(1)
            .filter(|t| t.split_once('>').is_some_and(|(_, rest)| rest.trim_start().starts_with(label)))
            .filter_map(|t| t.split("x=\"").nth(1)?.split('"').next()?.parse().ok())
            .collect()
    }

    #[test]
    fn a_trend_legend_is_a_column_right_of_the_plot_and_the_axis_shows_the_dates() {
        let lines: Vec<TrendLine> = ["acme-payments", "acme-web"]
            .iter()
            .map(|t| TrendLine { label: (*t).into(), values: vec![Some(1.0), Some(9.0), Some(4.0)], severity: None })
            .collect();
        let chart = trend("t", "t", &dates(), &lines, "seats", false).expect("chart");
        let legend_left = f64::from(WIDTH - 240);
        for team in ["acme-payments", "acme-web"] {
            let xs = text_xs(&chart.svg, team);
            assert!(!xs.is_empty() && xs.iter().all(|x| *x >= legend_left), "{team} legend at {xs:?}");
        }
        // Every point of every line lies left of the legend column.
        let points: Vec<f64> = chart
            .svg
            .split("<circle")
            .skip(1)
            .filter_map(|c| c.split("cx=\"").nth(1)?.split('"').next()?.parse().ok())
            .collect();
        assert!(points.len() >= 6, "{points:?}");
        assert!(points.iter().filter(|x| **x < legend_left).count() >= 6, "points in the plot: {points:?}");
        let texts = svg_texts(&chart.svg);
        for d in dates() {
            assert!(texts.contains(&d), "{d} on the x axis: {texts:?}");
        }
        assert!(texts.iter().any(|t| t == "as of (UTC)"), "{texts:?}");
    }

    /// The report shows a chart at its drawn width (900 px) at 1280 px, and prints it about 700 px
    /// wide: every text must still be 11 px or more scaled down to 683 px.
    #[test]
    fn every_text_is_at_least_11_px_when_the_chart_is_shown_683_px_wide() {
        let lines = vec![TrendLine { label: "acme-web".into(), values: vec![Some(1.0); 3], severity: None }];
        let mut charts = all_charts();
        charts.push(trend("t", "t", &dates(), &lines, "seats", false).expect("chart"));
        for chart in charts {
            let sizes: Vec<f64> =
                chart.svg.split("font-size=\"").skip(1).filter_map(|t| t.split('"').next()?.parse().ok()).collect();
            assert!(!sizes.is_empty(), "{}", chart.name);
            for px in sizes {
                let shown = px * 683.0 / f64::from(chart.width);
                assert!(shown >= 11.0, "{}: a {px:.1} px text shows at {shown:.1} px", chart.name);
            }
        }
    }

    #[test]
    fn a_severity_series_is_drawn_in_that_severitys_report_colour() {
        let lines: Vec<TrendLine> = [Severity::High, Severity::Low]
            .iter()
            .map(|s| TrendLine {
                label: s.as_str().into(),
                values: vec![Some(1.0), Some(2.0), Some(3.0)],
                severity: Some(*s),
            })
            .collect();
        let svg = trend("t", "t", &dates(), &lines, "findings", false).expect("chart").svg.to_ascii_lowercase();
        for s in [Severity::High, Severity::Low] {
            let hex = super::super::palette::severity_hex(s);
            assert!(svg.contains(&format!("stroke=\"{hex}\"")), "{s} line in {hex}");
        }
        let bars = findings_by_severity_and_rule(&rule_rows()).expect("chart").svg.to_ascii_lowercase();
        assert!(bars.contains(&super::super::palette::severity_hex(Severity::Critical)), "the bar chart too");
    }

    #[test]
    fn many_trend_series_make_the_chart_taller_instead_of_crowding_the_legend() {
        let lines: Vec<TrendLine> = (0..30)
            .map(|i| TrendLine { label: format!("team-{i:02}"), values: vec![Some(1.0); 3], severity: None })
            .collect();
        let chart = trend("t", "t", &dates(), &lines, "seats", false).expect("chart");
        assert!(chart.height > MIN_HEIGHT, "{}", chart.height);
        assert_eq!(png_size(&chart.png), (WIDTH, chart.height));
        let texts = svg_texts(&chart.svg);
        assert!(texts.iter().any(|t| t == "team-29"), "every series is named");
    }
    use quick_xml::events::Event;
    use quick_xml::Reader;

    fn spend(team: &str, admin: i64, member: i64, viewer: i64, collaborator: i64) -> RoleSpend {
        RoleSpend {
            team: team.to_string(),
            admin_cents: admin,
            member_cents: member,
            viewer_cents: viewer,
            collaborator_cents: collaborator,
            minimum_cents: 0,
        }
    }

    fn activity(team: &str, active: u32, inactive: u32) -> SeatActivity {
        SeatActivity { team: team.to_string(), active, inactive }
    }

    fn rule(rule_id: &str, severity: &str, count: usize) -> RuleCount {
        RuleCount { rule_id: rule_id.to_string(), severity: severity.to_string(), count }
    }

    const HOSTILE: &str = "<script>alert(1)</script>";
    const FORMULA: &str = "=HYPERLINK(\"http://x\",\"y\")";

    fn spend_rows() -> Vec<RoleSpend> {
        vec![
            spend("platform", 3_000, 12_000, 2_000, 1_000),
            spend("payments-and-billing-infrastructure-europe-west", 1_000, 40_000, 0, 5_000),
            spend("data", 0, 8_000, 6_000, 0),
            spend(HOSTILE, 1_000, 1_000, 0, 0),
            spend(FORMULA, 0, 0, 1_000, 0),
            spend("big-spender", 1_250_000, 9_870_000, 120_000, 0),
        ]
    }

    fn activity_rows() -> Vec<SeatActivity> {
        vec![
            activity("platform", 14, 3),
            activity("payments-and-billing-infrastructure-europe-west", 40, 12),
            activity("data", 5, 0),
            activity(HOSTILE, 1, 1),
            activity("design", 0, 4),
        ]
    }

    fn rule_rows() -> Vec<RuleCount> {
        vec![
            rule("stale-admin", "critical", 3),
            rule("orphaned-authorization", "high", 7),
            rule("inactive-seat", "medium", 19),
            rule("unused-collaborator", "low", 4),
            rule("shared-account", "high", 2),
            rule("shared-account", "medium", 5),
            rule("idp-mismatch", "info", 11),
            rule(HOSTILE, "Low", 1),
        ]
    }

    fn day_rows() -> Vec<Option<i64>> {
        vec![Some(0), Some(3), Some(29), Some(31), Some(45), Some(75), Some(120), Some(-2), None, None, None, Some(400)]
    }

    fn all_charts() -> Vec<Chart> {
        vec![
            seat_spend_per_team(&spend_rows()).expect("seat spend"),
            active_vs_inactive(&activity_rows()).expect("activity"),
            findings_by_severity_and_rule(&rule_rows()).expect("findings"),
            days_since_activity(&day_rows(), 90).expect("days"),
        ]
    }

    fn png_size(bytes: &[u8]) -> (u32, u32) {
        let mut reader = png::Decoder::new(std::io::Cursor::new(bytes)).read_info().expect("PNG header decodes");
        let mut pixels = vec![0; reader.output_buffer_size()];
        reader.next_frame(&mut pixels).expect("PNG pixels decode");
        (reader.info().width, reader.info().height)
    }

    /// Checks that `svg` is well-formed XML (matched tags, one root, valid attributes, no
    /// unknown entities) and returns the text of its `<text>` elements, unescaped.
    fn svg_texts(svg: &str) -> Vec<String> {
        let mut reader = Reader::from_str(svg);
        let (mut depth, mut roots, mut in_text) = (0usize, 0usize, false);
        let mut texts = Vec::new();
        let mut current = String::new();
        loop {
            match reader.read_event().expect("SVG is well-formed XML") {
                Event::Start(e) => {
                    if depth == 0 {
                        roots += 1;
                    }
                    depth += 1;
                    for a in e.attributes() {
                        a.expect("attribute is well-formed");
                    }
                    assert_ne!(e.name().as_ref(), b"script", "no script element");
                    in_text = e.name().as_ref() == b"text";
                    current.clear();
                }
                Event::Empty(e) => {
                    for a in e.attributes() {
                        a.expect("attribute is well-formed");
                    }
                    assert_ne!(e.name().as_ref(), b"script", "no script element");
                }
                Event::End(e) => {
                    depth = depth.checked_sub(1).expect("no stray end tag");
                    if e.name().as_ref() == b"text" {
                        texts.push(current.trim().to_string());
                        in_text = false;
                    }
                }
                Event::Text(t) => {
                    let s = t.decode().expect("UTF-8 text");
                    assert!(
                        s.chars().all(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r')),
                        "no control characters in XML text: {s:?}"
                    );
                    if in_text {
                        current.push_str(&s);
                    }
                }
                Event::GeneralRef(r) => {
                    let name = r.decode().expect("UTF-8 entity");
                    let c = match name.as_ref() {
                        "lt" => '<',
                        "gt" => '>',
                        "amp" => '&',
                        "quot" => '"',
                        "apos" => '\'',
                        other => panic!("undeclared entity &{other};"),
                    };
                    if in_text {
                        current.push(c);
                    }
                }
                Event::Eof => break,
                _ => {}
            }
        }
        assert_eq!(depth, 0, "every element is closed");
        assert_eq!(roots, 1, "exactly one root element");
        texts
    }

    #[test]
    fn every_chart_has_a_png_and_an_svg_of_its_stated_size() {
        for chart in all_charts() {
            assert_eq!(png_size(&chart.png), (chart.width, chart.height), "{}", chart.name);
            assert_eq!(chart.width, WIDTH);
            assert!(chart.height >= MIN_HEIGHT);
            assert!(
                chart.svg.contains(&format!("width=\"{}\" height=\"{}\"", chart.width, chart.height)),
                "{}",
                chart.name
            );
            let texts = svg_texts(&chart.svg);
            assert!(texts.contains(&chart.title), "{}: title in {texts:?}", chart.name);
        }
    }

    #[test]
    fn labels_are_text_and_hostile_labels_are_escaped() {
        for chart in all_charts().into_iter().take(3) {
            let texts = svg_texts(&chart.svg);
            assert!(texts.iter().any(|t| t == HOSTILE), "{}: hostile label drawn as text", chart.name);
            assert!(!chart.svg.to_ascii_lowercase().contains("<script"), "{}", chart.name);
            assert!(chart.svg.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{}", chart.name);
        }
        let spend = svg_texts(&seat_spend_per_team(&spend_rows()).expect("chart").svg);
        for label in ["platform", "data", FORMULA, "big-spender", "$112,400.00", "admin", "collaborator"] {
            assert!(spend.iter().any(|t| t == label), "{label} in {spend:?}");
        }
        // Long names are cut, not dropped.
        assert!(spend.iter().any(|t| t.starts_with("payments-and-billing-infrastructure") && t.ends_with('…')));
        assert!(spend.iter().any(|t| t == "$100,000"), "dollar ticks in {spend:?}");
        let findings = svg_texts(&findings_by_severity_and_rule(&rule_rows()).expect("chart").svg);
        for label in ["stale-admin", "shared-account", "idp-mismatch", "critical", "info", "7"] {
            assert!(findings.iter().any(|t| t == label), "{label} in {findings:?}");
        }
        let days = svg_texts(&days_since_activity(&day_rows(), 90).expect("chart").svg);
        for label in ["0–30 d", "31–60 d", "61–90 d", "none in 90 d"] {
            assert!(days.iter().any(|t| t == label), "{label} in {days:?}");
        }
        assert!(!days.iter().any(|t| t == "91–180 d"), "no bucket beyond the window");
    }

    #[test]
    fn control_characters_and_bidi_overrides_never_reach_the_svg() {
        let rows = [activity("evil\u{0}\u{1b}[31m\u{202E}team\nname", 1, 2)];
        let chart = active_vs_inactive(&rows).expect("chart");
        let texts = svg_texts(&chart.svg);
        assert!(texts.iter().any(|t| t == "evil\u{FFFD}\u{FFFD}[31m\u{FFFD}team\u{FFFD}name"), "{texts:?}");
    }

    #[test]
    fn empty_inputs_say_no_data() {
        let charts = [
            seat_spend_per_team(&[]).expect("seat spend"),
            active_vs_inactive(&[]).expect("activity"),
            findings_by_severity_and_rule(&[]).expect("findings"),
            days_since_activity(&[], 90).expect("days"),
        ];
        for chart in charts {
            assert_eq!((chart.width, chart.height), (WIDTH, MIN_HEIGHT));
            assert_eq!(png_size(&chart.png), (WIDTH, MIN_HEIGHT));
            assert!(svg_texts(&chart.svg).iter().any(|t| t == "no data"), "{}", chart.name);
        }
    }

    #[test]
    fn same_input_gives_identical_bytes() {
        let (a, b) = (all_charts(), all_charts());
        for (x, y) in a.iter().zip(&b) {
            assert!(x == y, "{} differs between two renders", x.name);
        }
    }

    #[test]
    fn height_grows_with_rows_and_is_capped() {
        let few: Vec<_> = (0..3).map(|i| activity(&format!("team-{i}"), 1, 1)).collect();
        assert_eq!(active_vs_inactive(&few).expect("chart").height, MIN_HEIGHT);
        let many: Vec<_> = (0..100).map(|i| activity(&format!("team-{i:03}"), 1, i)).collect();
        let chart = active_vs_inactive(&many).expect("chart");
        let rows = MAX_ROWS as u32;
        assert_eq!(chart.height, HEADER_PX + 15 + ROW_PX * rows + AXIS_PX);
        assert_eq!(png_size(&chart.png), (WIDTH, chart.height));
        let texts = svg_texts(&chart.svg);
        assert!(texts.iter().any(|t| t == "other (61 teams)"), "{texts:?}");
        // Most inactive first: team-099 has 99 inactive seats.
        assert!(texts.iter().any(|t| t == "team-099"));
        assert!(!texts.iter().any(|t| t == "team-000"));
    }

    #[test]
    fn bad_input_names_the_chart_and_the_reason() {
        let err = seat_spend_per_team(&[spend("t", -1, 0, 0, 0)]).expect_err("negative spend");
        assert!(err.to_string().contains("seat-spend") && err.to_string().contains("negative"), "{err}");
        let err = findings_by_severity_and_rule(&[rule("r", "urgent", 1)]).expect_err("unknown severity");
        assert!(err.to_string().contains("findings-by-rule") && err.to_string().contains("urgent"), "{err}");
        let err = days_since_activity(&[Some(1)], 0).expect_err("empty window");
        assert!(err.to_string().contains("days-since-activity"), "{err}");
    }

    #[test]
    fn buckets_follow_the_window() {
        let texts = svg_texts(&days_since_activity(&[Some(200), Some(365), Some(366), None], 365).expect("chart").svg);
        for label in ["91–180 d", "181–365 d", "none in 365 d"] {
            assert!(texts.iter().any(|t| t == label), "{label} in {texts:?}");
        }
        let texts = svg_texts(&days_since_activity(&[Some(10)], 45).expect("chart").svg);
        assert!(texts.iter().any(|t| t == "31–45 d"), "{texts:?}");
    }

    #[test]
    fn money_ticks_are_whole_dollars() {
        assert_eq!(dollars_tick(1234.0), "$1,234");
        assert_eq!(dollars_tick(0.0), "$0");
        assert_eq!(count_tick(2.5), "");
        assert_eq!(display_label(&"x".repeat(50)).chars().count(), MAX_LABEL_CHARS);
        assert_eq!(display_label("  "), "(unnamed)");
    }

    /// Writes the sample charts for a person to look at:
    /// `cargo test --lib report::charts -- --ignored write_samples`.
    #[test]
    #[ignore]
    fn write_samples() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/chart-samples");
        std::fs::create_dir_all(&dir).expect("sample dir");
        let many: Vec<_> = (0..60).map(|i| activity(&format!("team-{i:03}"), i % 7, i % 5)).collect();
        let mut charts = all_charts();
        charts.push(Chart { name: "many-teams", ..active_vs_inactive(&many).expect("chart") });
        charts.push(Chart { name: "empty", ..seat_spend_per_team(&[]).expect("chart") });
        for c in charts {
            std::fs::write(dir.join(format!("{}.png", c.name)), &c.png).expect("write png");
            std::fs::write(dir.join(format!("{}.svg", c.name)), &c.svg).expect("write svg");
        }
    }
}
