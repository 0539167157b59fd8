//! From a [`Plot`] to bytes: the bundled fonts, both backends, and the PNG encoder.
use std::sync::OnceLock;

use plotters::backend::{BitMapBackend, RGBPixel, SVGBackend};
use plotters::prelude::*;

use super::plot::Plot;
use super::{Chart, ChartError};

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

fn draw_error<E: std::error::Error + Send + Sync + 'static>(
    chart: &'static str,
    format: &'static str,
) -> impl FnOnce(DrawingAreaErrorKind<E>) -> ChartError {
    move |e| ChartError::Draw { chart, format, source: Box::new(e) }
}

/// Draws `plot` on both backends and encodes the PNG.
pub(super) fn render(plot: &Plot) -> Result<Chart, ChartError> {
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
            .map_err(|e| ChartError::Draw { chart: plot.name, format: "PNG", source: Box::new(e) })?;
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
