//! Axes: the category axis of the bar and column charts, and the tick labels of value axes.
use plotters::coord::ranged1d::{KeyPointHint, NoDefaultFormatting, ValueFormatter};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::Ranged;

use crate::analyze::money;

/// `$1,234` for whole dollars; axis ticks are whole dollars because the axis never ends below $5.
pub(super) fn dollars_tick(v: f64) -> String {
    money((v * 100.0).round() as i64).trim_end_matches(".00").to_string()
}

pub(super) fn count_tick(v: f64) -> String {
    // Ticks are whole numbers because a count axis never ends below 5; a fraction would be a
    // meaningless "2.5 seats".
    if v.fract() == 0.0 {
        format!("{v}")
    } else {
        String::new()
    }
}

/// A category axis for `n` bars: bar `i` is centred on `i`, one unit wide, with one tick and
/// label per bar and no minor ticks. plotters' segmented integer axis adds an empty slot after
/// the last bar and misplaces a lone bar, and its `with_key_points` axis cannot carry a label
/// formatter, hence this small axis of our own.
#[derive(Clone)]
pub(super) struct Rows {
    n: usize,
    span: RangedCoordf64,
}

pub(super) fn rows_axis(n: usize) -> Rows {
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
pub(super) fn row_of(v: f64, n: usize) -> Option<usize> {
    let i = v.round();
    (i >= 0.0 && i < n as f64 && (v - i).abs() < 1e-6).then_some(i as usize)
}
