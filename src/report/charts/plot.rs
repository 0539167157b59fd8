//! The plotting layer: a chart's layout as data ([`Plot`]: header, legend and one body: bars,
//! columns, lines or "no data") and its drawing on any plotters backend, so the SVG and the PNG
//! are drawn by the same code.
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::axis::{count_tick, dollars_tick, row_of, rows_axis};
use super::{
    display_label, severity_colour, Bar, Series, TrendLine, AXIS_PX, BAR_EDGE, GRID, HEADER_PX, IN_WINDOW,
    LABEL_FONT_PX, LEGEND_ROW_PX, MAX_ROWS, MIN_HEIGHT, NONE_IN_WINDOW, ROW_PX, TEXT, TITLE_FONT_PX, WIDTH,
};

#[derive(Clone, Copy)]
pub(super) enum Axis {
    Dollars,
    Count,
}

pub(super) struct HBars {
    pub(super) series: Vec<Series>,
    pub(super) bars: Vec<Bar>,
    pub(super) axis: Axis,
    pub(super) axis_desc: &'static str,
}

pub(super) struct Columns {
    pub(super) buckets: Vec<(String, usize, RGBColor)>,
    pub(super) x_desc: &'static str,
    pub(super) y_desc: &'static str,
}

/// Values over a sequence of snapshots, one line per series.
pub(super) struct Lines {
    pub(super) x_labels: Vec<String>,
    pub(super) lines: Vec<TrendLine>,
    pub(super) y_desc: &'static str,
    pub(super) dollars: bool,
}

pub(super) enum Body {
    Empty,
    HBars(HBars),
    Columns(Columns),
    Lines(Lines),
}

pub(super) struct Plot {
    pub(super) name: &'static str,
    pub(super) title: String,
    pub(super) width: u32,
    pub(super) height: u32,
    pub(super) body: Body,
}

impl Plot {
    pub(super) fn hbars(
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

    pub(super) fn draw<DB: DrawingBackend>(
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

/// Width of the legend column right of a trend chart's plot.
const LEGEND_PX: u32 = 240;
/// Longest series name in that column; longer ones are cut with an ellipsis.
const LEGEND_LABEL_CHARS: usize = 22;

fn line_colour(i: usize, line: &TrendLine) -> RGBColor {
    line.severity.map_or(LINE_PALETTE[i % LINE_PALETTE.len()], severity_colour)
}

/// One swatch and name per series, top to bottom, in a column of its own: outside the plot, so
/// no point hides under it. Past [`MAX_ROWS`] series the rest are counted in one row.
fn draw_line_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    lines: &[TrendLine],
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let style = label_style();
    let row = LEGEND_ROW_PX as i32;
    let shown = if lines.len() > MAX_ROWS { MAX_ROWS - 1 } else { lines.len() };
    for (i, line) in lines.iter().enumerate().take(shown) {
        let y = 14 + row * i as i32;
        area.draw(&Rectangle::new([(8, y - 2), (30, y + 2)], line_colour(i, line).filled()))?;
        area.draw(&Circle::new((19, y), 4, line_colour(i, line).filled()))?;
        let mut name = display_label(&line.label);
        if name.chars().count() > LEGEND_LABEL_CHARS {
            name = name.chars().take(LEGEND_LABEL_CHARS - 1).chain(['…']).collect();
        }
        area.draw_text(&name, &style.pos(Pos::new(HPos::Left, VPos::Center)), (38, y))?;
    }
    if lines.len() > shown {
        let y = 14 + row * shown as i32;
        let more = format!("… {} more", lines.len() - shown);
        area.draw_text(&more, &style.pos(Pos::new(HPos::Left, VPos::Center)), (38, y))?;
    }
    Ok(())
}

fn draw_lines<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    l: &Lines,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let (w, _) = area.dim_in_pixel();
    let (area, legend) = area.split_horizontally(w.saturating_sub(LEGEND_PX));
    draw_line_legend(&legend, &l.lines)?;
    let area = &area;
    let style = label_style();
    let n = l.x_labels.len();
    let max = l.lines.iter().flat_map(|s| s.values.iter().flatten().copied()).fold(0f64, f64::max);
    let y_max = (max * 1.15).max(if l.dollars { 10.0 } else { 5.0 });
    let x_max = (n.max(2) - 1) as f64;
    let mut chart = ChartBuilder::on(area)
        .margin_left(12)
        .margin_right(16)
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
        .x_desc("as of (UTC)")
        .y_desc(l.y_desc)
        .axis_style(BAR_EDGE)
        .draw()?;
    for (i, line) in l.lines.iter().enumerate() {
        let colour = line_colour(i, line);
        // An unknown value (a team that snapshot could not read) breaks the line: each run of
        // known values is its own segment, so nothing is drawn as if it were zero.
        let points: Vec<Option<(f64, f64)>> =
            line.values.iter().enumerate().map(|(x, y)| y.map(|y| (x as f64, y))).collect();
        let mut segments = points.split(Option::is_none).filter(|run| !run.is_empty());
        let first: Vec<(f64, f64)> =
            segments.next().map(|run| run.iter().flatten().copied().collect()).unwrap_or_default();
        chart.draw_series(LineSeries::new(first, colour.stroke_width(2)))?;
        for run in segments {
            chart.draw_series(LineSeries::new(run.iter().flatten().copied(), colour.stroke_width(2)))?;
        }
        chart.draw_series(points.iter().flatten().map(|p| Circle::new(*p, 3, colour.filled())))?;
    }
    Ok(())
}
