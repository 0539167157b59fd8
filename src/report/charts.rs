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
use std::collections::BTreeMap;
use std::fmt;
use std::sync::OnceLock;

use plotters::backend::{BitMapBackend, RGBPixel, SVGBackend};
use plotters::coord::ranged1d::{KeyPointHint, NoDefaultFormatting, ValueFormatter};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::analyze::config::money;
use crate::analyze::finding::Severity;

/// Width of every chart, in pixels.
pub const WIDTH: u32 = 900;
/// Height of the histogram and of empty charts, and the least height of the bar charts.
pub const MIN_HEIGHT: u32 = 420;
/// Height of one bar of a horizontal bar chart: 14 px text plus room to breathe.
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
const LABEL_FONT_PX: f64 = 14.0;
const TITLE_FONT_PX: f64 = 20.0;

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
    #[error("chart `{chart}`: drawing the {format} failed: {message}")]
    Draw { chart: &'static str, format: &'static str, message: String },
    #[error("chart `{chart}`: PNG encoding failed: {source}")]
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
const ACTIVE: RGBColor = RGBColor(0, 158, 115); // bluish green
const INACTIVE: RGBColor = RGBColor(230, 159, 0); // orange: the seats to look at
const IN_WINDOW: RGBColor = RGBColor(0, 114, 178);
const NONE_IN_WINDOW: RGBColor = RGBColor(150, 150, 150);
const BAR_EDGE: RGBColor = RGBColor(60, 60, 60);
const GRID: RGBColor = RGBColor(225, 225, 225);
const TEXT: RGBColor = RGBColor(30, 30, 30);

/// Severity colours run from dark red to grey with falling lightness contrast, so their order
/// reads even without hue (a sequential ramp, as ColorBrewer's OrRd).
fn severity_colour(s: Severity) -> RGBColor {
    match s {
        Severity::Critical => RGBColor(127, 0, 0),
        Severity::High => RGBColor(215, 48, 31),
        Severity::Medium => RGBColor(252, 141, 89),
        Severity::Low => RGBColor(253, 212, 158),
        Severity::Info => RGBColor(170, 170, 170),
    }
}

/// Stacked horizontal bars of team seat spend, one colour per role; the axis is in dollars.
///
/// Teams are sorted by total spend, largest first (ties by name); rows with the same team name are
/// added together. Negative amounts are refused: they cannot be stacked honestly.
pub fn seat_spend_per_team(rows: &[RoleSpend]) -> Result<Chart, ChartError> {
    const NAME: &str = "seat-spend";
    let title = "Seat spend per team, by role (per month)".to_string();
    let mut by_team: BTreeMap<&str, [i64; 4]> = BTreeMap::new();
    for r in rows {
        let parts = [r.admin_cents, r.member_cents, r.viewer_cents, r.collaborator_cents];
        if let Some(c) = parts.iter().find(|c| **c < 0) {
            return Err(ChartError::InvalidInput {
                chart: NAME,
                reason: format!("team {:?} has a negative spend of {c} cents", r.team),
            });
        }
        let sum = by_team.entry(r.team.as_str()).or_default();
        for (s, p) in sum.iter_mut().zip(parts) {
            *s = s.saturating_add(p);
        }
    }
    let mut teams: Vec<(&str, [i64; 4])> = by_team.into_iter().collect();
    let total = |v: &[i64; 4]| v.iter().fold(0i64, |a, b| a.saturating_add(*b));
    // Stable sort over the name-ordered map: ties keep name order.
    teams.sort_by_key(|(_, v)| std::cmp::Reverse(total(v)));
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
    ];
    render(&Plot::hbars(NAME, title, series, bars, Axis::Dollars, "Seat spend (USD per month)"))
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

/// `$1,234` for whole dollars; axis ticks are whole dollars because the axis never ends below $5.
fn dollars_tick(v: f64) -> String {
    money((v * 100.0).round() as i64).trim_end_matches(".00").to_string()
}

fn count_tick(v: f64) -> String {
    // Ticks are whole numbers because a count axis never ends below 5; a fraction would be a
    // meaningless "2.5 seats".
    if v.fract() == 0.0 {
        format!("{v}")
    } else {
        String::new()
    }
}

#[derive(Clone, Copy)]
enum Axis {
    Dollars,
    Count,
}

struct HBars {
    series: Vec<Series>,
    bars: Vec<Bar>,
    axis: Axis,
    axis_desc: &'static str,
}

struct Columns {
    buckets: Vec<(String, usize, RGBColor)>,
    x_desc: &'static str,
    y_desc: &'static str,
}

/// Values over a sequence of snapshots, one line per series.
struct Lines {
    x_labels: Vec<String>,
    lines: Vec<TrendLine>,
    y_desc: &'static str,
    dollars: bool,
}

enum Body {
    Empty,
    HBars(HBars),
    Columns(Columns),
    Lines(Lines),
}

struct Plot {
    name: &'static str,
    title: String,
    width: u32,
    height: u32,
    body: Body,
}

impl Plot {
    fn hbars(
        name: &'static str,
        title: String,
        series: Vec<Series>,
        bars: Vec<Bar>,
        axis: Axis,
        axis_desc: &'static str,
    ) -> Self {
        if bars.is_empty() {
            return Plot { name, title, width: WIDTH, height: MIN_HEIGHT, body: Body::Empty };
        }
        // `bars` is at most MAX_ROWS long, so this cannot overflow.
        let height = (HEADER_PX + 15 + ROW_PX * bars.len() as u32 + AXIS_PX).max(MIN_HEIGHT);
        Plot { name, title, width: WIDTH, height, body: Body::HBars(HBars { series, bars, axis, axis_desc }) }
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        root.fill(&WHITE)?;
        let (header, body) = root.split_vertically(HEADER_PX);
        header.draw_text(
            &self.title,
            &("sans-serif", TITLE_FONT_PX, FontStyle::Bold).into_font().color(&TEXT),
            (12, 12),
        )?;
        match &self.body {
            Body::Empty => draw_empty(&body),
            Body::HBars(h) => {
                draw_legend(&header, &h.series)?;
                draw_hbars(&body, h)
            }
            Body::Columns(c) => {
                let key = [
                    Series { name: "last active in the window", colour: IN_WINDOW },
                    Series { name: "no activity in the window", colour: NONE_IN_WINDOW },
                ];
                draw_legend(&header, &key)?;
                draw_columns(&body, c)
            }
            Body::Lines(l) => draw_lines(&body, l),
        }
    }
}

fn label_style() -> TextStyle<'static> {
    ("sans-serif", LABEL_FONT_PX).into_font().color(&TEXT)
}

fn draw_empty<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let (w, h) = area.dim_in_pixel();
    area.draw(&Rectangle::new([(12, 0), (w as i32 - 12, h as i32 - 12)], GRID.stroke_width(1)))?;
    let style = ("sans-serif", TITLE_FONT_PX).into_font().color(&RGBColor(110, 110, 110));
    area.draw_text("no data", &style.pos(Pos::new(HPos::Center, VPos::Center)), (w as i32 / 2, (h as i32 - 12) / 2))
}

/// A row of colour swatches with their names under the title.
fn draw_legend<DB: DrawingBackend>(
    header: &DrawingArea<DB, Shift>,
    series: &[Series],
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let style = label_style();
    let (y, swatch) = (44, 14);
    let mut x = 12;
    for s in series {
        header.draw(&Rectangle::new([(x, y), (x + swatch, y + swatch)], s.colour.filled()))?;
        header.draw(&Rectangle::new([(x, y), (x + swatch, y + swatch)], BAR_EDGE.stroke_width(1)))?;
        header.draw_text(s.name, &style.pos(Pos::new(HPos::Left, VPos::Center)), (x + swatch + 6, y + swatch / 2))?;
        let (tw, _) = header.estimate_text_size(s.name, &style)?;
        x += swatch + 6 + tw as i32 + 24;
    }
    Ok(())
}

fn draw_hbars<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    h: &HBars,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let style = label_style();
    let n = h.bars.len();
    let mut label_w = 0;
    let mut total_w = 0;
    for b in &h.bars {
        label_w = label_w.max(area.estimate_text_size(&b.label, &style)?.0);
        total_w = total_w.max(area.estimate_text_size(&b.total_label, &style)?.0);
    }
    // Ticks, gap and the axis line beside the labels.
    let label_area = (label_w + 16).clamp(60, 360);
    let (margin_l, margin_r) = (12, 24);
    let plot_w = f64::from(area.dim_in_pixel().0.saturating_sub(label_area + margin_l + margin_r)).max(1.0);
    let max_total = h.bars.iter().map(|b| b.values.iter().sum::<f64>()).fold(0.0, f64::max);
    // Stretch the axis so the text after the longest bar fits inside the plot; a 5-unit floor
    // keeps tick labels whole (no "$0.50", no "2.5 seats").
    let room = (plot_w - f64::from(total_w) - 12.0).max(plot_w / 2.0);
    let x_max = (max_total * plot_w / room).max(5.0);

    let mut chart = ChartBuilder::on(area)
        .margin_left(margin_l)
        .margin_right(margin_r)
        .margin_top(10)
        .x_label_area_size(AXIS_PX - 5)
        .y_label_area_size(label_area)
        .build_cartesian_2d(0f64..x_max, rows_axis(n))?;
    // Row 0 is drawn at the top, but the y axis grows upwards.
    let centre = |row: usize| (n - 1 - row) as f64;
    let label_of = |v: &f64| row_of(*v, n).map(|slot| h.bars[n - 1 - slot].label.clone()).unwrap_or_default();
    let tick = |v: &f64| match h.axis {
        Axis::Dollars => dollars_tick(*v),
        Axis::Count => count_tick(*v),
    };
    chart
        .configure_mesh()
        .disable_y_mesh()
        .bold_line_style(GRID)
        .light_line_style(TRANSPARENT)
        .y_labels(n + 1)
        .y_label_formatter(&label_of)
        .x_labels(7)
        .x_label_formatter(&tick)
        .label_style(style.clone())
        .axis_desc_style(style.clone())
        .x_desc(h.axis_desc)
        .axis_style(BAR_EDGE)
        .draw()?;

    for (row, bar) in h.bars.iter().enumerate() {
        let y = centre(row);
        let mut x0 = 0.0;
        for (v, s) in bar.values.iter().zip(&h.series) {
            if *v <= 0.0 {
                continue;
            }
            let corners = [(x0, y - 0.5), (x0 + v, y + 0.5)];
            let mut fill = Rectangle::new(corners, s.colour.filled());
            fill.set_margin(5, 5, 0, 0);
            let mut edge = Rectangle::new(corners, BAR_EDGE.stroke_width(1));
            edge.set_margin(5, 5, 0, 0);
            chart.draw_series([fill, edge])?;
            x0 += v;
        }
        let at = (x0, y);
        chart.draw_series(std::iter::once(
            EmptyElement::at(at)
                + Text::new(bar.total_label.clone(), (6, 0), style.pos(Pos::new(HPos::Left, VPos::Center))),
        ))?;
    }
    Ok(())
}

fn draw_columns<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    c: &Columns,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let style = label_style();
    let k = c.buckets.len();
    let max = c.buckets.iter().map(|b| b.1).max().unwrap_or(0) as f64;
    // Headroom for the count written above the tallest column; 5 keeps ticks whole.
    let y_max = (max * 1.12).max(5.0);
    let mut chart = ChartBuilder::on(area)
        .margin_left(12)
        .margin_right(24)
        .margin_top(10)
        .x_label_area_size(AXIS_PX)
        .y_label_area_size(60)
        .build_cartesian_2d(rows_axis(k), 0f64..y_max)?;
    let label_of = |v: &f64| row_of(*v, k).map(|i| c.buckets[i].0.clone()).unwrap_or_default();
    let tick = |v: &f64| count_tick(*v);
    chart
        .configure_mesh()
        .disable_x_mesh()
        .bold_line_style(GRID)
        .light_line_style(TRANSPARENT)
        .x_labels(k + 1)
        .x_label_formatter(&label_of)
        .y_labels(6)
        .y_label_formatter(&tick)
        .label_style(style.clone())
        .axis_desc_style(style.clone())
        .x_desc(c.x_desc)
        .y_desc(c.y_desc)
        .axis_style(BAR_EDGE)
        .draw()?;
    for (i, (_, count, colour)) in c.buckets.iter().enumerate() {
        let (x, v) = (i as f64, *count as f64);
        if *count > 0 {
            let corners = [(x - 0.5, 0.0), (x + 0.5, v)];
            let mut fill = Rectangle::new(corners, colour.filled());
            fill.set_margin(0, 0, 12, 12);
            let mut edge = Rectangle::new(corners, BAR_EDGE.stroke_width(1));
            edge.set_margin(0, 0, 12, 12);
            chart.draw_series([fill, edge])?;
        }
        chart.draw_series(std::iter::once(
            EmptyElement::at((x, v))
                + Text::new(count.to_string(), (0, -6), style.pos(Pos::new(HPos::Center, VPos::Bottom))),
        ))?;
    }
    Ok(())
}

/// Colours for trend lines, cycled: Okabe–Ito first, then darker shades.
const LINE_PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(90, 90, 90),
    RGBColor(150, 30, 30),
];

fn draw_lines<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    l: &Lines,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let style = label_style();
    let n = l.x_labels.len();
    let max = l.lines.iter().flat_map(|s| s.values.iter().flatten().copied()).fold(0f64, f64::max);
    let y_max = (max * 1.15).max(if l.dollars { 10.0 } else { 5.0 });
    let x_max = (n.max(2) - 1) as f64;
    let mut chart = ChartBuilder::on(area)
        .margin_left(12)
        .margin_right(36)
        .margin_top(10)
        .x_label_area_size(AXIS_PX)
        .y_label_area_size(80)
        .build_cartesian_2d(-0.2f64..x_max + 0.2, 0f64..y_max)?;
    let label_of = |v: &f64| {
        let i = v.round();
        if (v - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < n {
            display_label(&l.x_labels[i as usize])
        } else {
            String::new()
        }
    };
    let tick = |v: &f64| if l.dollars { dollars_tick(*v) } else { count_tick(*v) };
    chart
        .configure_mesh()
        .disable_x_mesh()
        .bold_line_style(GRID)
        .light_line_style(TRANSPARENT)
        .x_labels(n.clamp(2, 12))
        .x_label_formatter(&label_of)
        .y_labels(6)
        .y_label_formatter(&tick)
        .label_style(style.clone())
        .axis_desc_style(style.clone())
        .x_desc("snapshot")
        .y_desc(l.y_desc)
        .axis_style(BAR_EDGE)
        .draw()?;
    for (i, line) in l.lines.iter().enumerate() {
        let colour = LINE_PALETTE[i % LINE_PALETTE.len()];
        // An unknown value (a team that snapshot could not read) breaks the line: each run of
        // known values is its own segment, so nothing is drawn as if it were zero.
        let points: Vec<Option<(f64, f64)>> =
            line.values.iter().enumerate().map(|(x, y)| y.map(|y| (x as f64, y))).collect();
        let mut segments = points.split(Option::is_none).filter(|run| !run.is_empty());
        let first: Vec<(f64, f64)> =
            segments.next().map(|run| run.iter().flatten().copied().collect()).unwrap_or_default();
        chart
            .draw_series(LineSeries::new(first, colour.stroke_width(2)))?
            .label(display_label(&line.label))
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], colour.filled()));
        for run in segments {
            chart.draw_series(LineSeries::new(run.iter().flatten().copied(), colour.stroke_width(2)))?;
        }
        chart.draw_series(points.iter().flatten().map(|p| Circle::new(*p, 3, colour.filled())))?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(GRID)
        .label_font(style)
        .draw()?;
    Ok(())
}

/// One series of a trend chart: a value per snapshot, in snapshot order; `None` where that
/// snapshot could not know it.
#[derive(Debug, Clone, PartialEq)]
pub struct TrendLine {
    pub label: String,
    pub values: Vec<Option<f64>>,
}

/// A line chart over snapshots (`x_labels`, oldest first): seats or spend per team, open findings
/// per severity. Amounts in `dollars` are whole dollars (the caller divides cents by 100).
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
    render(&Plot { name, title: title.to_owned(), width: WIDTH, height: MIN_HEIGHT, body })
}

/// A category axis for `n` bars: bar `i` is centred on `i`, one unit wide, with one tick and
/// label per bar and no minor ticks. plotters' segmented integer axis adds an empty slot after
/// the last bar and misplaces a lone bar, and its `with_key_points` axis cannot carry a label
/// formatter, hence this small axis of our own.
#[derive(Clone)]
struct Rows {
    n: usize,
    span: RangedCoordf64,
}

fn rows_axis(n: usize) -> Rows {
    Rows { n, span: (-0.5..n as f64 - 0.5).into() }
}

impl Ranged for Rows {
    type FormatOption = NoDefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.span.map(value, limit)
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            (0..self.n).map(|i| i as f64).collect()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.span.range()
    }
}

impl ValueFormatter<f64> for Rows {
    // Every mesh using this axis sets its own label formatter; this is only the fallback.
    fn format(_value: &f64) -> String {
        String::new()
    }
}

/// The bar a tick value stands for, if any.
fn row_of(v: f64, n: usize) -> Option<usize> {
    let i = v.round();
    (i >= 0.0 && i < n as f64 && (v - i).abs() < 1e-6).then_some(i as usize)
}

/// Registers DejaVu Sans once per process; plotters keeps fonts in a global table.
fn fonts() -> Result<(), ChartError> {
    static REGISTERED: OnceLock<Result<(), String>> = OnceLock::new();
    REGISTERED
        .get_or_init(|| {
            for (style, bytes) in
                [(FontStyle::Normal, dejavu::sans::regular()), (FontStyle::Bold, dejavu::sans::bold())]
            {
                plotters::style::register_font("sans-serif", style, bytes)
                    .map_err(|_| format!("DejaVu Sans {} is not a valid font", style.as_str()))?;
            }
            Ok(())
        })
        .clone()
        .map_err(ChartError::Font)
}

fn draw_error<E: std::error::Error + Send + Sync>(
    chart: &'static str,
    format: &'static str,
) -> impl FnOnce(DrawingAreaErrorKind<E>) -> ChartError {
    move |e| ChartError::Draw { chart, format, message: e.to_string() }
}

/// Draws `plot` on both backends and encodes the PNG.
fn render(plot: &Plot) -> Result<Chart, ChartError> {
    fonts()?;
    let (w, h) = (plot.width, plot.height);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
        plot.draw(&root).map_err(draw_error(plot.name, "SVG"))?;
        root.present().map_err(draw_error(plot.name, "SVG"))?;
    }
    // RGB, three bytes a pixel; sizes are bounded by the layout rule, far from overflow.
    let mut rgb = vec![0u8; w as usize * h as usize * 3];
    {
        let backend = BitMapBackend::<RGBPixel>::with_buffer_and_format(&mut rgb, (w, h))
            .map_err(|e| ChartError::Draw { chart: plot.name, format: "PNG", message: e.to_string() })?;
        let root = backend.into_drawing_area();
        plot.draw(&root).map_err(draw_error(plot.name, "PNG"))?;
        root.present().map_err(draw_error(plot.name, "PNG"))?;
    }
    let png = encode_png(&rgb, w, h).map_err(|source| ChartError::Encode { chart: plot.name, source })?;
    Ok(Chart { name: plot.name, title: plot.title.clone(), svg, png, width: w, height: h })
}

fn encode_png(rgb: &[u8], w: u32, h: u32) -> Result<Vec<u8>, png::EncodingError> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, w, h);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    // Flat-colour charts compress well; the report is written once and read many times.
    encoder.set_compression(png::Compression::Best);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(rgb)?;
    writer.finish()?;
    Ok(out)
}

#[cfg(test)]
mod tests {

    #[test]
    fn an_unknown_trend_value_breaks_the_line_instead_of_drawing_zero() {
        let labels: Vec<String> = ["q1", "q2", "q3"].iter().map(|s| (*s).to_owned()).collect();
        let line = |values| vec![TrendLine { label: "acme-payments".into(), values }];
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
    use super::*;
    use quick_xml::events::Event;
    use quick_xml::Reader;

    fn spend(team: &str, admin: i64, member: i64, viewer: i64, collaborator: i64) -> RoleSpend {
        RoleSpend {
            team: team.to_string(),
            admin_cents: admin,
            member_cents: member,
            viewer_cents: viewer,
            collaborator_cents: collaborator,
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
