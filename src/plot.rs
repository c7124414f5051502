//! Chart plumbing shared by every plot weightstream draws (report bundle, compression study):
//! the compiled-in DejaVu font registered once with plotters' ab_glyph text renderer (no system
//! font libraries), one colour per stream format and a palette for other series, common text
//! styles, layer-name abbreviation for crowded axes, and rendering one chart to both PNG and SVG.
//!
//! A chart implements [`Chart`] once, generic over the plotters backend, and [`render`] draws it
//! to `<dir>/<stem>.png` and `<dir>/<stem>.svg`.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::{register_font, FontStyle, RGBColor};

use crate::formats::Format;

/// Font family name every chart uses; registered by [`ensure_font`].
pub const FONT: &str = "sans-serif";

/// Errors while drawing or writing a chart.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// The compiled-in font could not be parsed (never expected).
    #[error("registering the chart font failed")]
    Font,
    /// The plotting backend failed (drawing or writing the file).
    #[error("drawing chart {chart}: {message}")]
    Draw { chart: String, message: String },
    /// Nothing to draw (no layers, no values).
    #[error("chart {0}: no data")]
    Empty(String),
}

impl PlotError {
    /// Wraps a backend error for the chart `chart`.
    pub fn draw(chart: &str, e: impl std::fmt::Display) -> Self {
        PlotError::Draw { chart: chart.to_string(), message: e.to_string() }
    }
}

/// Registers DejaVu Sans (regular, bold, oblique) as [`FONT`] exactly once per process. Every
/// chart function calls this before drawing; it is cheap after the first call.
pub fn ensure_font() -> Result<(), PlotError> {
    static DONE: OnceLock<bool> = OnceLock::new();
    let ok = *DONE.get_or_init(|| {
        register_font(FONT, FontStyle::Normal, dejavu::sans::regular()).is_ok()
            && register_font(FONT, FontStyle::Bold, dejavu::sans::bold()).is_ok()
            && register_font(FONT, FontStyle::Oblique, dejavu::sans::oblique()).is_ok()
            && register_font(FONT, FontStyle::Italic, dejavu::sans::oblique()).is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err(PlotError::Font)
    }
}

/// The colour of a stream format, the same in every chart (a format added later must be given
/// one here: the match is exhaustive).
pub fn format_color(format: Format) -> RGBColor {
    match format {
        Format::Dense => RGBColor(110, 110, 110),
        Format::Bitmap => RGBColor(31, 119, 180),
        Format::DeltaBitmap => RGBColor(44, 160, 44),
        Format::Csc => RGBColor(214, 39, 40),
        Format::BitmapHuffman => RGBColor(148, 103, 189),
        Format::DeltaBitmapHuffman => RGBColor(140, 86, 75),
        Format::LaneHuffman => RGBColor(227, 119, 194),
        Format::DeltaLaneHuffman => RGBColor(188, 189, 34),
        Format::Nm => RGBColor(23, 190, 207),
    }
}

/// Colours of the bit categories in stacked bars: payload, metadata, padding.
pub const PAYLOAD_COLOR: RGBColor = RGBColor(31, 119, 180);
/// Metadata (masks, runs, counts).
pub const METADATA_COLOR: RGBColor = RGBColor(255, 127, 14);
/// Padding (fillers, zeros written out, last-word fill).
pub const PADDING_COLOR: RGBColor = RGBColor(199, 199, 199);

/// A categorical palette (Tableau 10) for series that are not formats.
pub const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// The i-th palette colour (wraps around).
pub fn series_color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// A sequential colour for `v` in 0..=1 (viridis), for heatmaps; out-of-range values clamp.
pub fn heat_color(v: f64) -> RGBColor {
    use plotters::style::colors::colormaps::{ColorMap, ViridisRGB};
    let v = if v.is_finite() { v.clamp(0.0, 1.0) } else { 0.0 };
    ViridisRGB.get_color(v)
}

/// Chart title text style. Sizes are plotters sizes (the em is size / 1.24 pixels), chosen to stay
/// legible when a 1600-2000 px chart is shown scaled to a page.
pub fn title_style() -> TextStyle<'static> {
    (FONT, 27).into_font().style(FontStyle::Bold).into()
}

/// Axis description (label) text style.
pub fn axis_label_style() -> TextStyle<'static> {
    (FONT, 21).into()
}

/// Tick label text style.
pub fn tick_style() -> TextStyle<'static> {
    (FONT, 18).into()
}

/// Legend text style.
pub fn legend_style() -> TextStyle<'static> {
    (FONT, 18).into()
}

/// Tick label style for category names written vertically (bottom to top), for many layers.
pub fn rotated_tick_style() -> TextStyle<'static> {
    (FONT, 17).into_font().transform(FontTransform::Rotate270).into()
}

/// A short, readable layer name for crowded axes: drops a trailing `.weight`, and shortens
/// common PyTorch prefixes (`features.` → `f`, `conv.` → `c`, `classifier.` → `cls`,
/// `layer` → `L`, `downsample.` → `ds`). Distinct names stay distinct for the models we ship;
/// [`abbreviate_all`] guarantees it for any list.
pub fn abbreviate(name: &str) -> String {
    let base = name.strip_suffix(".weight").unwrap_or(name);
    base.replace("features.", "f")
        .replace("classifier.", "cls")
        .replace("downsample.", "ds")
        .replace("conv.", "c")
        .replace("layer", "L")
}

/// Abbreviates every name with [`abbreviate`]; where two abbreviations collide (or one is
/// empty) the full name is kept, so the key stays unambiguous.
pub fn abbreviate_all(names: &[String]) -> Vec<String> {
    let short: Vec<String> = names.iter().map(|n| abbreviate(n)).collect();
    short
        .iter()
        .zip(names)
        .map(
            |(s, full)| {
                if s.is_empty() || short.iter().filter(|o| *o == s).count() > 1 {
                    full.clone()
                } else {
                    s.clone()
                }
            },
        )
        .collect()
}

/// A chart that can be drawn on any plotters backend.
pub trait Chart {
    /// File stem and name in errors.
    fn name(&self) -> &str;
    /// Pixel size (width, height).
    fn size(&self) -> (u32, u32);
    /// Draws the whole chart on `area` (already filled white).
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<(), PlotError>;
}

/// The files one chart was written to.
#[derive(Debug, Clone)]
pub struct ChartFiles {
    /// `<dir>/<name>.png`.
    pub png: PathBuf,
    /// `<dir>/<name>.svg`.
    pub svg: PathBuf,
}

/// Draws `chart` to `<dir>/<name>.png` and `<dir>/<name>.svg` (the directory must exist).
pub fn render(chart: &impl Chart, dir: &Path) -> Result<ChartFiles, PlotError> {
    ensure_font()?;
    let name = chart.name();
    let size = chart.size();
    let png = dir.join(format!("{name}.png"));
    let svg = dir.join(format!("{name}.svg"));
    {
        let area = BitMapBackend::new(&png, size).into_drawing_area();
        area.fill(&WHITE).map_err(|e| PlotError::draw(name, e))?;
        chart.draw(&area)?;
        area.present().map_err(|e| PlotError::draw(name, e))?;
    }
    {
        let area = SVGBackend::new(&svg, size).into_drawing_area();
        area.fill(&WHITE).map_err(|e| PlotError::draw(name, e))?;
        chart.draw(&area)?;
        area.present().map_err(|e| PlotError::draw(name, e))?;
    }
    Ok(ChartFiles { png, svg })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn font_registers_twice() {
        assert!(ensure_font().is_ok());
        assert!(ensure_font().is_ok());
    }

    #[test]
    fn abbreviations() {
        assert_eq!(abbreviate("features.3.conv.1.0.weight"), "f3.c1.0");
        assert_eq!(abbreviate("classifier.1.weight"), "cls1");
        assert_eq!(abbreviate("layer1.0.downsample.0.weight"), "L1.0.ds0");
        let names = vec!["a.weight".to_string(), "a".to_string(), "b.weight".to_string()];
        assert_eq!(abbreviate_all(&names), vec!["a.weight", "a", "b"]);
    }

    #[test]
    fn every_format_has_a_colour_of_its_own() {
        let colours: Vec<RGBColor> = Format::ALL.iter().map(|&f| format_color(f)).collect();
        for (i, a) in colours.iter().enumerate() {
            for b in &colours[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }

    #[test]
    fn heat_colors_clamp() {
        assert_eq!(heat_color(-1.0), heat_color(0.0));
        assert_eq!(heat_color(f64::NAN), heat_color(0.0));
        assert_ne!(heat_color(0.0), heat_color(1.0));
    }
}
