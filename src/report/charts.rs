//! The report's charts, each drawn with [`crate::plot`] to PNG and SVG: where the bits go per
//! layer (payload / metadata / padding per format next to dense), bandwidth saved per layer with
//! the model total, density and density after delta per layer, and with `--rtl` decode cycles
//! against the bus and lane bounds (decoder efficiency) and stall/starve cycles.
//!
//! Also, when the decoders' hardware cost is known, bandwidth saved against front-end area, one
//! point per format ([`write_area_chart`]); and always bandwidth saved against the weights per
//! second each decoder delivers at its clock ([`write_delivered_chart`]), one point per format.
//!
//! Layers are categories on the x axis, labelled with abbreviated names written vertically
//! ([`crate::plot::abbreviate_all`]; the bundle's layer table is the key); the width grows with
//! the layer count so 50+ layers stay legible.

use std::path::Path;

use std::ops::Range;

use plotters::coord::combinators::IntoLogRange;
use plotters::coord::ranged1d::{AsRangedCoord, DefaultFormatting, KeyPointHint, Ranged, ValueFormatter};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::energy::EnergyReport;
use super::Report;
use crate::formats::Format;
use crate::plot::{self, Chart, ChartFiles, PlotError};

/// Pixels per layer on the x axis.
const PX_PER_LAYER: u32 = 30;
/// Height of one panel.
const PANEL_H: u32 = 620;

/// One chart written by [`write_all`].
#[derive(Debug, Clone)]
pub struct WrittenChart {
    /// File stem (`bits`, `saved`, ...).
    pub name: String,
    /// Title, for captions.
    pub title: String,
    /// What it shows, one paragraph.
    pub caption: String,
    /// The files.
    pub files: ChartFiles,
    /// Pixel size.
    pub size: (u32, u32),
}

/// Layer `l`'s line of `format` where the format applies to it (charts leave n/a out).
fn applied(l: &super::LayerStats, format: Format) -> Option<&super::FormatStats> {
    l.formats.iter().find(|f| f.format == format && f.applies())
}

/// The formats' names in [`Format::ALL`] order, joined by `sep`.
fn format_order(sep: &str) -> String {
    Format::ALL.iter().map(|f| f.name()).collect::<Vec<_>>().join(sep)
}

fn width(n: usize) -> u32 {
    (170 + PX_PER_LAYER * n as u32).max(1100)
}

fn lighten(c: RGBColor, f: f64) -> RGBColor {
    let l = |v: u8| (v as f64 + (255.0 - v as f64) * f).round() as u8;
    RGBColor(l(c.0), l(c.1), l(c.2))
}

fn darken(c: RGBColor, f: f64) -> RGBColor {
    let d = |v: u8| (v as f64 * (1.0 - f)).round() as u8;
    RGBColor(d(c.0), d(c.1), d(c.2))
}

/// Layers as categories 0..n on a continuous axis: one tick (and label) per layer.
struct LayerX {
    inner: RangedCoordf64,
    n: usize,
}

impl Ranged for LayerX {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;
    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.inner.map(value, limit)
    }
    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() || hint.max_num_points() == 0 {
            Vec::new()
        } else {
            (0..self.n).map(|i| i as f64).collect()
        }
    }
    fn range(&self) -> Range<f64> {
        self.inner.range()
    }
}

fn layer_x(n: usize) -> LayerX {
    LayerX { inner: (-0.5f64..(n as f64 - 0.5)).into(), n }
}

/// Builds a chart with layers on x and draws its mesh.
fn layer_chart<'a, DB, Y>(
    area: &'a DrawingArea<DB, Shift>,
    chart_name: &str,
    title: &str,
    names: &[String],
    y: Y,
    y_desc: &str,
) -> Result<ChartContext<'a, DB, Cartesian2d<LayerX, Y::CoordDescType>>, PlotError>
where
    DB: DrawingBackend,
    Y: AsRangedCoord<Value = f64>,
    Y::CoordDescType: ValueFormatter<f64>,
{
    let mut chart = ChartBuilder::on(area)
        .caption(title, plot::title_style())
        .margin(12)
        .margin_right(24)
        .x_label_area_size(118)
        .y_label_area_size(100)
        .build_cartesian_2d(layer_x(names.len()), y)
        .map_err(|e| PlotError::draw(chart_name, e))?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .label_style(plot::tick_style())
        .y_label_formatter(&|v: &f64| fmt_num(*v))
        .axis_desc_style(plot::axis_label_style())
        .x_desc("layer (abbreviated: f = features, c = conv, cls = classifier; key in the layer table)")
        .y_desc(y_desc)
        .light_line_style(TRANSPARENT)
        .bold_line_style(RGBColor(225, 225, 225))
        .draw()
        .map_err(|e| PlotError::draw(chart_name, e))?;
    // Layer names, written bottom to top, ending just below the axis at each layer's centre
    // (plotters' own rotated tick labels are centred on the tick and would cross into the plot).
    let base = area.get_base_pixel();
    let bottom = chart.plotting_area().get_pixel_range().1.end;
    let style = plot::tick_style().transform(FontTransform::Rotate270).pos(Pos::new(HPos::Right, VPos::Center));
    for (i, label) in names.iter().enumerate() {
        let (px, _) = chart.backend_coord(&(i as f64, 1.0));
        area.draw_text(label, &style, (px - base.0, bottom + 6 - base.1))
            .map_err(|e| PlotError::draw(chart_name, e))?;
    }
    Ok(chart)
}

/// Tick numbers: integers without decimals, others with up to 3 significant decimals.
fn fmt_num(v: f64) -> String {
    if v == 0.0 {
        "0".into()
    } else if (v - v.round()).abs() < 1e-9 {
        format!("{v:.0}")
    } else if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

fn draw_legend<'a, DB: DrawingBackend + 'a, X: Ranged, Y: Ranged>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
    chart_name: &str,
    pos: SeriesLabelPosition,
) -> Result<(), PlotError> {
    chart
        .configure_series_labels()
        .position(pos)
        .label_font(plot::legend_style())
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()
        .map_err(|e| PlotError::draw(chart_name, e))
}

fn bar_err<E: std::fmt::Display>(name: &str) -> impl Fn(E) -> PlotError + '_ {
    move |e| PlotError::draw(name, e)
}

/// Stacked payload / metadata / padding bars, one per format, per layer; two panels: kbit, and
/// percent of the layer's dense bits.
struct BitsChart<'a> {
    report: &'a Report,
    names: &'a [String],
}

impl Chart for BitsChart<'_> {
    fn name(&self) -> &str {
        "bits"
    }
    fn size(&self) -> (u32, u32) {
        (width(self.names.len()), 2 * PANEL_H)
    }
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        let name = self.name();
        let panels = area.split_evenly((2, 1));
        let nf = Format::ALL.len() as f64;
        let bar_w = 0.8 / nf;
        let bits_title = format!("Bits on the wire per layer: {}", format_order(" | "));
        for (p, panel) in panels.iter().enumerate() {
            let relative = p == 1;
            let value = |l: &super::LayerStats, bits: u64| {
                if relative {
                    let dense = l.formats.first().map_or(0, |f| f.total_bits);
                    if dense == 0 {
                        0.0
                    } else {
                        100.0 * bits as f64 / dense as f64
                    }
                } else {
                    bits as f64 / 1000.0
                }
            };
            let ymax = self
                .report
                .layers
                .iter()
                .flat_map(|l| l.formats.iter().map(move |f| value(l, f.total_bits)))
                .fold(0.0f64, f64::max)
                .max(1e-9)
                * 1.08;
            let (title, desc) = if relative {
                ("Bits on the wire per layer, percent of the layer's dense bits", "% of dense bits")
            } else {
                (bits_title.as_str(), "kbit")
            };
            let mut chart = layer_chart(panel, name, title, self.names, RangedCoordf64::from(0f64..ymax), desc)?;
            for (fi, &format) in Format::ALL.iter().enumerate() {
                let color = plot::format_color(format);
                let meta_color = lighten(color, 0.55);
                let mut payload = Vec::new();
                let mut meta = Vec::new();
                let mut pad = Vec::new();
                for (li, l) in self.report.layers.iter().enumerate() {
                    let Some(f) = applied(l, format) else { continue };
                    let x0 = li as f64 - 0.4 + fi as f64 * bar_w;
                    let x1 = x0 + bar_w * 0.92;
                    let y1 = value(l, f.payload_bits);
                    let y2 = value(l, f.payload_bits + f.metadata_bits);
                    let y3 = value(l, f.total_bits);
                    payload.push(Rectangle::new([(x0, 0.0), (x1, y1)], color.filled()));
                    meta.push(Rectangle::new([(x0, y1), (x1, y2)], meta_color.filled()));
                    pad.push(Rectangle::new([(x0, y2), (x1, y3)], plot::PADDING_COLOR.filled()));
                }
                chart
                    .draw_series(payload)
                    .map_err(bar_err(name))?
                    .label(format!("{format}: payload (solid), metadata (light)"))
                    .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 14, y + 6)], color.filled()));
                chart.draw_series(meta).map_err(bar_err(name))?;
                let series = chart.draw_series(pad).map_err(bar_err(name))?;
                if fi == Format::ALL.len() - 1 {
                    series
                        .label("padding, all formats (gray)")
                        .legend(|(x, y)| Rectangle::new([(x, y - 6), (x + 14, y + 6)], plot::PADDING_COLOR.filled()));
                }
            }
            if !relative {
                draw_legend(&mut chart, name, SeriesLabelPosition::UpperLeft)?;
            }
        }
        Ok(())
    }
}

/// Bandwidth saved per layer (bus words against dense), grouped bars per compressed format, with
/// each format's model total as a horizontal line.
struct SavedChart<'a> {
    report: &'a Report,
    names: &'a [String],
}

impl Chart for SavedChart<'_> {
    fn name(&self) -> &str {
        "saved"
    }
    fn size(&self) -> (u32, u32) {
        (width(self.names.len()), PANEL_H + 60)
    }
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        let name = self.name();
        let formats: Vec<Format> = Format::ALL.iter().copied().filter(|&f| f != Format::Dense).collect();
        let all = self.report.layers.iter().flat_map(|l| l.formats.iter()).filter(|f| f.format != Format::Dense);
        let (lo, hi) = all.fold((0.0f64, 0.0f64), |(lo, hi), f| (lo.min(f.saved_pct), hi.max(f.saved_pct)));
        let lo = (lo - 5.0).min(0.0);
        let hi = hi.max(10.0);
        // Head room above the bars for the legend.
        let y = lo..hi + (hi - lo) * 0.5;
        let mut chart = layer_chart(
            area,
            name,
            "Bandwidth saved per layer (bus words vs dense); lines: model total",
            self.names,
            RangedCoordf64::from(y),
            "bus words saved vs dense, %",
        )?;
        let n = self.names.len() as f64;
        let bar_w = 0.8 / formats.len() as f64;
        for (fi, &format) in formats.iter().enumerate() {
            let color = plot::format_color(format);
            let bars = lighten(color, 0.25);
            let rects: Vec<_> = self
                .report
                .layers
                .iter()
                .enumerate()
                .filter_map(|(li, l)| {
                    let f = applied(l, format)?;
                    let x0 = li as f64 - 0.4 + fi as f64 * bar_w;
                    Some(Rectangle::new([(x0, 0.0), (x0 + bar_w * 0.92, f.saved_pct)], bars.filled()))
                })
                .collect();
            chart
                .draw_series(rects)
                .map_err(bar_err(name))?
                .label(format!("{format} per layer"))
                .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 14, y + 6)], bars.filled()));
            if let Some(t) = self.report.totals.formats.iter().find(|f| f.format == format && f.applies()) {
                let total = t.saved_pct;
                let line = darken(color, 0.15);
                chart
                    .draw_series(DashedLineSeries::new(
                        vec![(-0.5, total), (n - 0.5, total)],
                        10,
                        6,
                        line.stroke_width(3),
                    ))
                    .map_err(bar_err(name))?
                    .label(format!("{format} model total {total:.1}%"))
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], line.stroke_width(3)));
            }
        }
        chart
            .draw_series(LineSeries::new(vec![(-0.5, 0.0), (n - 0.5, 0.0)], BLACK.stroke_width(1)))
            .map_err(bar_err(name))?;
        draw_legend(&mut chart, name, SeriesLabelPosition::UpperLeft)
    }
}

/// Reads one number of a layer.
type LayerValue = fn(&super::LayerStats) -> f64;

/// Density of W and of D (difference along k) per layer, with the model's as lines.
struct DensityChart<'a> {
    report: &'a Report,
    names: &'a [String],
}

impl Chart for DensityChart<'_> {
    fn name(&self) -> &str {
        "density"
    }
    fn size(&self) -> (u32, u32) {
        (width(self.names.len()), PANEL_H)
    }
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        let name = self.name();
        let r = self.report;
        let ymax = r.layers.iter().map(|l| l.density.max(l.delta_density)).fold(0.0f64, f64::max);
        let ymax = (ymax * 100.0).max(5.0) * 1.45;
        let mut chart = layer_chart(
            area,
            name,
            "Density per layer: nonzero fraction of W, and of D = W differenced along k",
            self.names,
            RangedCoordf64::from(0f64..ymax),
            "nonzero weights, %",
        )?;
        let n = self.names.len() as f64;
        let series: [(&str, RGBColor, LayerValue); 2] = [
            ("density of W", plot::series_color(0), |l| l.density),
            ("density of D (after delta)", plot::series_color(2), |l| l.delta_density),
        ];
        for (si, (label, color, get)) in series.into_iter().enumerate() {
            let rects: Vec<_> = r
                .layers
                .iter()
                .enumerate()
                .map(|(li, l)| {
                    let x0 = li as f64 - 0.4 + si as f64 * 0.4;
                    Rectangle::new([(x0, 0.0), (x0 + 0.37, 100.0 * get(l))], color.filled())
                })
                .collect();
            chart
                .draw_series(rects)
                .map_err(bar_err(name))?
                .label(format!("{label} per layer"))
                .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 14, y + 6)], color.filled()));
            let total = 100.0 * get(&r.totals);
            let line = darken(color, 0.3);
            chart
                .draw_series(DashedLineSeries::new(vec![(-0.5, total), (n - 0.5, total)], 10, 6, line.stroke_width(2)))
                .map_err(bar_err(name))?
                .label(format!("{label}, model {total:.1}%"))
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], line.stroke_width(2)));
        }
        draw_legend(&mut chart, name, SeriesLabelPosition::UpperLeft)
    }
}

/// RTL decode cycles per layer and format against the bus bound (words) and the lane bound
/// (beats), log scale; second panel: efficiency = max(beats, words) / cycles.
struct CyclesChart<'a> {
    report: &'a Report,
    names: &'a [String],
}

impl Chart for CyclesChart<'_> {
    fn name(&self) -> &str {
        "rtl_cycles"
    }
    fn size(&self) -> (u32, u32) {
        (width(self.names.len()), 2 * PANEL_H)
    }
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        let name = self.name();
        let r = self.report;
        let panels = area.split_evenly((2, 1));
        let nf = Format::ALL.len() as f64;
        let bar_w = 0.8 / nf;
        let ymax = r
            .layers
            .iter()
            .flat_map(|l| l.formats.iter().map(move |f| f.rtl.map_or(0, |m| m.cycles).max(f.bus_words).max(l.beats)))
            .max()
            .unwrap_or(1)
            .max(10) as f64
            * 2.0;
        let mut chart = layer_chart(
            &panels[0],
            name,
            "RTL decode cycles per layer (bars) vs bus bound = words (black tick) and lane bound = beats (gray line)",
            self.names,
            (1f64..ymax).log_scale(),
            "cycles (log scale)",
        )?;
        for (fi, &format) in Format::ALL.iter().enumerate() {
            let color = plot::format_color(format);
            let mut bars = Vec::new();
            let mut words = Vec::new();
            for (li, l) in r.layers.iter().enumerate() {
                let Some(f) = applied(l, format) else { continue };
                let x0 = li as f64 - 0.4 + fi as f64 * bar_w;
                let x1 = x0 + bar_w * 0.92;
                if let Some(m) = f.rtl {
                    bars.push(Rectangle::new([(x0, 1.0), (x1, m.cycles.max(1) as f64)], color.filled()));
                }
                let w = f.bus_words.max(1) as f64;
                words.push(PathElement::new(vec![(x0, w), (x1, w)], BLACK.stroke_width(2)));
            }
            chart
                .draw_series(bars)
                .map_err(bar_err(name))?
                .label(format!("{format} cycles"))
                .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 14, y + 6)], color.filled()));
            let s = chart.draw_series(words).map_err(bar_err(name))?;
            if fi == 0 {
                s.label("bus bound: words (1 word/cycle)")
                    .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 14, y)], BLACK.stroke_width(2)));
            }
        }
        let beats_color = RGBColor(90, 90, 90);
        chart
            .draw_series(r.layers.iter().enumerate().map(|(li, l)| {
                let b = l.beats.max(1) as f64;
                PathElement::new(vec![(li as f64 - 0.45, b), (li as f64 + 0.45, b)], beats_color.stroke_width(1))
            }))
            .map_err(bar_err(name))?
            .label("lane bound: beats (1 beat/cycle)")
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 14, y)], beats_color.stroke_width(1)));
        draw_legend(&mut chart, name, SeriesLabelPosition::UpperLeft)?;

        let min_eff = r
            .layers
            .iter()
            .flat_map(|l| l.formats.iter().filter_map(|f| f.rtl.map(|m| m.efficiency)))
            .fold(1.0f64, f64::min);
        let lo = ((min_eff - 0.05) * 20.0).floor().clamp(0.0, 19.0) / 20.0;
        let mut chart = layer_chart(
            &panels[1],
            name,
            "Decoder efficiency per layer: max(beats, words) / cycles (1 = at the bound)",
            self.names,
            RangedCoordf64::from(lo..1.0 + (1.0 - lo) * 0.25),
            "efficiency",
        )?;
        for &format in Format::ALL.iter() {
            let color = plot::format_color(format);
            let pts: Vec<(f64, f64)> = r
                .layers
                .iter()
                .enumerate()
                .filter_map(|(li, l)| {
                    let f = applied(l, format)?;
                    f.rtl.map(|m| (li as f64, m.efficiency))
                })
                .collect();
            chart
                .draw_series(LineSeries::new(pts.clone(), color.stroke_width(2)))
                .map_err(bar_err(name))?
                .label(format!("{format}"))
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
            chart.draw_series(pts.into_iter().map(|p| Circle::new(p, 4, color.filled()))).map_err(bar_err(name))?;
        }
        draw_legend(&mut chart, name, SeriesLabelPosition::LowerLeft)
    }
}

/// RTL cycles above the bound max(beats, words) per layer and format, stacked: starved (decoder
/// waited for input), stalled (a beat waited for the PE array), and the rest (pipeline fill and
/// drain).
struct StallsChart<'a> {
    report: &'a Report,
    names: &'a [String],
}

/// (starved, stalled, other) cycles above the bound.
fn overhead(l: &super::LayerStats, f: &super::FormatStats) -> Option<(u64, u64, u64)> {
    let m = f.rtl?;
    let bound = l.beats.max(m.words);
    let other = m.cycles.saturating_sub(bound).saturating_sub(m.starved + m.stalled);
    Some((m.starved, m.stalled, other))
}

impl Chart for StallsChart<'_> {
    fn name(&self) -> &str {
        "rtl_stalls"
    }
    fn size(&self) -> (u32, u32) {
        (width(self.names.len()), PANEL_H)
    }
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        let name = self.name();
        let r = self.report;
        let nf = Format::ALL.len() as f64;
        let bar_w = 0.8 / nf;
        let ymax = r
            .layers
            .iter()
            .flat_map(|l| l.formats.iter().filter_map(move |f| overhead(l, f).map(|(a, b, c)| a + b + c)))
            .max()
            .unwrap_or(0)
            .max(1) as f64
            * 1.6;
        let mut chart = layer_chart(
            area,
            name,
            "RTL cycles above the bound max(beats, words): starved (light) + stalled (dark) + fill/drain (mid)",
            self.names,
            RangedCoordf64::from(0f64..ymax),
            "cycles above the bound",
        )?;
        for (fi, &format) in Format::ALL.iter().enumerate() {
            let color = plot::format_color(format);
            let light = lighten(color, 0.6);
            let dark = darken(color, 0.45);
            let mut starved = Vec::new();
            let mut stalled = Vec::new();
            let mut other = Vec::new();
            for (li, l) in r.layers.iter().enumerate() {
                let Some((a, b, c)) = applied(l, format).and_then(|f| overhead(l, f)) else {
                    continue;
                };
                let x0 = li as f64 - 0.4 + fi as f64 * bar_w;
                let x1 = x0 + bar_w * 0.92;
                let (a, b, c) = (a as f64, b as f64, c as f64);
                starved.push(Rectangle::new([(x0, 0.0), (x1, a)], light.filled()));
                stalled.push(Rectangle::new([(x0, a), (x1, a + b)], dark.filled()));
                other.push(Rectangle::new([(x0, a + b), (x1, a + b + c)], color.filled()));
            }
            let total = |pick: fn((u64, u64, u64)) -> u64| -> u64 {
                r.layers.iter().filter_map(|l| applied(l, format).and_then(|f| overhead(l, f))).map(pick).sum()
            };
            let (ts, tt, to) = (total(|t| t.0), total(|t| t.1), total(|t| t.2));
            chart
                .draw_series(starved)
                .map_err(bar_err(name))?
                .label(format!("{format}: starved {ts}, stalled {tt}, fill/drain {to} cycles in all"))
                .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 14, y + 6)], color.filled()));
            chart.draw_series(stalled).map_err(bar_err(name))?;
            chart.draw_series(other).map_err(bar_err(name))?;
        }
        draw_legend(&mut chart, name, SeriesLabelPosition::UpperRight)
    }
}

/// Energy per layer of moving each format's bits (DRAM + SRAM), log scale.
struct EnergyChart<'a> {
    energy: &'a EnergyReport,
    names: &'a [String],
}

impl Chart for EnergyChart<'_> {
    fn name(&self) -> &str {
        "energy"
    }
    fn size(&self) -> (u32, u32) {
        (width(self.names.len()), PANEL_H)
    }
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        let name = self.name();
        let e = self.energy;
        let nf = Format::ALL.len() as f64;
        let bar_w = 0.8 / nf;
        let nj = |pj: f64| pj / 1000.0;
        let ymax = e.layers.iter().flat_map(|l| l.formats.iter().map(|f| nj(f.total_pj))).fold(1.0f64, f64::max) * 2.0;
        let ymin = e
            .layers
            .iter()
            .flat_map(|l| l.formats.iter().map(|f| nj(f.total_pj)))
            .filter(|v| *v > 0.0)
            .fold(f64::INFINITY, f64::min);
        let ymin = if ymin.is_finite() { (ymin / 2.0).min(ymax / 10.0) } else { 0.01 };
        let mut chart = layer_chart(
            area,
            name,
            &format!(
                "Energy to load each layer's stream: DRAM {} pJ/bit + SRAM {} pJ/bit",
                e.params.dram_pj_per_bit, e.params.sram_pj_per_bit
            ),
            self.names,
            (ymin..ymax).log_scale(),
            "energy, nJ (log scale)",
        )?;
        for (fi, &format) in Format::ALL.iter().enumerate() {
            let color = plot::format_color(format);
            let bars: Vec<_> = e
                .layers
                .iter()
                .enumerate()
                .filter_map(|(li, l)| {
                    let f = l.formats.iter().find(|f| f.format == format && f.applies)?;
                    let x0 = li as f64 - 0.4 + fi as f64 * bar_w;
                    Some(Rectangle::new([(x0, ymin), (x0 + bar_w * 0.92, nj(f.total_pj).max(ymin))], color.filled()))
                })
                .collect();
            let total = e.totals.formats.iter().find(|f| f.format == format && f.applies).map_or(0.0, |f| f.total_pj);
            chart
                .draw_series(bars)
                .map_err(bar_err(name))?
                .label(format!("{format} (model {})", super::energy::human_energy(total)))
                .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 14, y + 6)], color.filled()));
        }
        draw_legend(&mut chart, name, SeriesLabelPosition::UpperLeft)
    }
}

/// Draws every chart of the report into `dir` (PNG and SVG each); the RTL charts only when the
/// report has RTL measurements.
pub fn write_all(report: &Report, energy: &EnergyReport, dir: &Path) -> Result<Vec<WrittenChart>, PlotError> {
    if report.layers.is_empty() {
        return Err(PlotError::Empty("report".into()));
    }
    let full: Vec<String> = report.layers.iter().map(|l| l.name.clone()).collect();
    let names = plot::abbreviate_all(&full);
    let names = names.as_slice();
    let mut out = Vec::new();
    let mut add = |chart: &dyn ChartDyn, title: &str, caption: &str| -> Result<(), PlotError> {
        let files = chart.render_dyn(dir)?;
        out.push(WrittenChart {
            name: chart.name_dyn().to_string(),
            title: title.to_string(),
            caption: caption.to_string(),
            files,
            size: chart.size_dyn(),
        });
        Ok(())
    };
    add(
        &BitsChart { report, names },
        "Where the bits go",
        &format!(
            "Per layer, one bar per format in the order {}; each bar stacks payload (nonzero values, solid), \
             metadata (masks, runs, counts, code tables, light) and padding (zeros written out, CSC fillers, \
             last-word fill, gray). Top: kbit; bottom: percent of the layer's dense bits, so small layers stay \
             visible.",
            format_order(", ")
        ),
    )?;
    add(
        &SavedChart { report, names },
        "Bandwidth saved",
        "Bus words saved against dense, per layer and compressed format; dashed lines are each format's \
         model total (all layers' words). Below zero the format costs more than dense.",
    )?;
    add(
        &DensityChart { report, names },
        "Density",
        "Nonzero fraction of the quantized W per layer, and of D = W differenced along k (what delta-bitmap \
         encodes); dashed lines: the model's.",
    )?;
    add(
        &EnergyChart { energy, names },
        "Energy",
        "Energy of moving each format's bits on the wire out of DRAM and through the SRAM buffer, per layer \
         (log scale); the legend gives the model totals.",
    )?;
    if report.totals.formats.iter().any(|f| f.rtl.is_some()) {
        add(
            &CyclesChart { report, names },
            "RTL decode cycles and efficiency",
            "Top: co-simulated decode cycles per layer and format (log scale), against the bus bound (words: \
             the decoder accepts one bus word per cycle, black tick) and the lane bound (beats: the PE array \
             takes one beat per cycle, gray line). Bottom: efficiency = max(beats, words) / cycles; 1 means \
             the decoder runs at its bound.",
        )?;
        add(
            &StallsChart { report, names },
            "RTL cycles above the bound",
            "Decode cycles beyond max(beats, words), per layer and format, stacked: starved (the decoder waited \
             for a bus word, light), stalled (a beat waited for the PE array, dark) and the rest, pipeline fill \
             and drain (mid). With full traffic only fill/drain remains: a few cycles per layer.",
        )?;
    }
    Ok(out)
}

/// One format's point on the area chart: front-end cells and the model-total saving.
#[derive(Debug, Clone)]
pub struct AreaPoint {
    /// The format.
    pub format: Format,
    /// Front-end cells (yosys generic synthesis).
    pub cells: u64,
    /// Bus words saved against dense over the whole model, percent.
    pub saved_pct: f64,
    /// Fmax on the iCE40 HX8K, when placed.
    pub fmax_mhz: Option<f64>,
}

/// Bandwidth saved against decoder area, one point per format.
struct AreaChart<'a> {
    points: &'a [AreaPoint],
    point_name: &'a str,
}

impl Chart for AreaChart<'_> {
    fn name(&self) -> &str {
        "area"
    }
    fn size(&self) -> (u32, u32) {
        (1100, PANEL_H)
    }
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        let name = self.name();
        let xmax = self.points.iter().map(|p| p.cells as f64).fold(1.0f64, f64::max) * 1.2;
        let ys = self.points.iter().map(|p| p.saved_pct);
        let ymax = ys.clone().fold(10.0f64, f64::max);
        let ymin = ys.fold(0.0f64, f64::min);
        let pad = (ymax - ymin) * 0.12;
        let mut chart = ChartBuilder::on(area)
            .caption(format!("Bandwidth saved vs decoder area (front end at {})", self.point_name), plot::title_style())
            .margin(12)
            .margin_right(40)
            .x_label_area_size(70)
            .y_label_area_size(100)
            .build_cartesian_2d(0.0..xmax, (ymin - pad)..(ymax + pad))
            .map_err(|e| PlotError::draw(name, e))?;
        chart
            .configure_mesh()
            .label_style(plot::tick_style())
            .x_label_formatter(&|v: &f64| fmt_num(*v))
            .y_label_formatter(&|v: &f64| fmt_num(*v))
            .axis_desc_style(plot::axis_label_style())
            .x_desc("front-end cells (aligner + decoder, yosys generic synthesis)")
            .y_desc("bus words saved vs dense, whole model, %")
            .light_line_style(TRANSPARENT)
            .bold_line_style(RGBColor(225, 225, 225))
            .draw()
            .map_err(|e| PlotError::draw(name, e))?;
        for p in self.points {
            let color = plot::format_color(p.format);
            let fmax = p.fmax_mhz.map_or(String::new(), |f| format!(", {f:.1} MHz"));
            let label = format!("{}: {} cells, {:.1}%{fmax}", p.format, p.cells, p.saved_pct);
            let xy = (p.cells as f64, p.saved_pct);
            chart
                .draw_series(std::iter::once(Circle::new(xy, 9, color.filled())))
                .map_err(bar_err(name))?
                .label(label)
                .legend(move |(x, y)| Circle::new((x + 7, y), 6, color.filled()));
            let style = plot::tick_style().pos(Pos::new(HPos::Left, VPos::Bottom));
            chart
                .draw_series(std::iter::once(Text::new(p.format.name().to_string(), xy, style)))
                .map_err(bar_err(name))?;
        }
        draw_legend(&mut chart, name, SeriesLabelPosition::LowerRight)
    }
}

/// Draws the "bandwidth saved vs decoder area" chart into `dir` (PNG and SVG).
pub fn write_area_chart(points: &[AreaPoint], point_name: &str, dir: &Path) -> Result<WrittenChart, PlotError> {
    if points.is_empty() {
        return Err(PlotError::Empty("cost".into()));
    }
    let chart = AreaChart { points, point_name };
    let files = plot::render(&chart, dir)?;
    Ok(WrittenChart {
        name: chart.name().to_string(),
        title: "Bandwidth saved vs decoder area".into(),
        caption: "One point per format: x = cells of its front end (bit aligner + decoder with its beat \
                  sequencer, registered at its edges; yosys generic synthesis at the report's design point), y = \
                  bus words saved against dense over the whole model. Up and to the left is better; the legend \
                  adds Fmax on an iCE40 HX8K where it was placed."
            .into(),
        files,
        size: chart.size(),
    })
}

/// Bandwidth saved (x) against delivered weights per second (y), one point per format: "saves
/// more" and "keeps up" read together. Log y when the rates span more than 30x (an assumed clock
/// beside measured ones does that).
struct DeliveredChart<'a> {
    report: &'a Report,
}

impl DeliveredChart<'_> {
    fn draw_on<DB, Y>(&self, area: &DrawingArea<DB, Shift>, y: Y, log: bool) -> Result<(), PlotError>
    where
        DB: DrawingBackend,
        Y: AsRangedCoord<Value = f64>,
        Y::CoordDescType: ValueFormatter<f64>,
    {
        let name = "delivered";
        let formats = &self.report.totals.formats;
        let (lo, hi) = formats.iter().fold((0.0f64, 10.0f64), |(lo, hi), f| (lo.min(f.saved_pct), hi.max(f.saved_pct)));
        let pad = (hi - lo) * 0.1;
        let point = self.report.stream;
        let mut chart = ChartBuilder::on(area)
            .caption(
                format!(
                    "Bandwidth saved vs delivered weights/s (N={} Q={} B={}; each decoder at its clock)",
                    point.lanes, point.weight_bits, point.bus_bits
                ),
                plot::title_style(),
            )
            .margin(12)
            .margin_right(40)
            .x_label_area_size(70)
            .y_label_area_size(110)
            .build_cartesian_2d((lo - pad)..(hi + pad * 2.5), y)
            .map_err(|e| PlotError::draw(name, e))?;
        chart
            .configure_mesh()
            .label_style(plot::tick_style())
            .x_label_formatter(&|v: &f64| fmt_num(*v))
            .y_label_formatter(&|v: &f64| fmt_num(*v))
            .axis_desc_style(plot::axis_label_style())
            .x_desc("bus words saved vs dense, whole model, %")
            .y_desc(if log { "M weights/s into the PE array (log scale)" } else { "M weights/s into the PE array" })
            .light_line_style(TRANSPARENT)
            .bold_line_style(RGBColor(225, 225, 225))
            .draw()
            .map_err(|e| PlotError::draw(name, e))?;
        for f in formats.iter().filter(|f| f.applies()) {
            let d = &f.delivered;
            let color = plot::format_color(f.format);
            let label = format!(
                "{}: {:.1}% saved, {:.0} M w/s = {} MHz ({}) x {:.2} beats/cycle ({}) x {}",
                f.format,
                f.saved_pct,
                d.mw_s(),
                super::rate::fmt_mhz(d.clock_mhz),
                d.clock_source.label(),
                d.beats_per_cycle,
                d.cycles_source.label(),
                point.lanes
            );
            let xy = (f.saved_pct, d.mw_s());
            chart
                .draw_series(std::iter::once(Circle::new(xy, 9, color.filled())))
                .map_err(bar_err(name))?
                .label(label)
                .legend(move |(x, y)| Circle::new((x + 7, y), 6, color.filled()));
            let style = plot::tick_style().pos(Pos::new(HPos::Left, VPos::Bottom));
            chart
                .draw_series(std::iter::once(Text::new(format!("  {}", f.format), xy, style)))
                .map_err(bar_err(name))?;
        }
        draw_legend(&mut chart, name, SeriesLabelPosition::UpperLeft)
    }
}

impl Chart for DeliveredChart<'_> {
    fn name(&self) -> &str {
        "delivered"
    }
    fn size(&self) -> (u32, u32) {
        (1400, PANEL_H + 180)
    }
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        let rates: Vec<f64> = self.report.totals.formats.iter().map(|f| f.delivered.mw_s()).collect();
        let max = rates.iter().copied().fold(0.0f64, f64::max).max(1e-3);
        let min = rates.iter().copied().filter(|v| *v > 0.0).fold(f64::INFINITY, f64::min);
        if min.is_finite() && max / min > 30.0 {
            // Head room above the highest point for the legend.
            self.draw_on(area, ((min / 2.0)..(max * 40.0)).log_scale(), true)
        } else {
            self.draw_on(area, RangedCoordf64::from(0.0..max * 1.9), false)
        }
    }
}

/// Draws the "bandwidth saved vs delivered weights/s" chart of `report` (its clocks, see
/// [`super::rate`]) into `dir` (PNG and SVG).
pub fn write_delivered_chart(report: &Report, dir: &Path) -> Result<WrittenChart, PlotError> {
    if report.totals.formats.is_empty() {
        return Err(PlotError::Empty("delivered".into()));
    }
    let chart = DeliveredChart { report };
    let files = plot::render(&chart, dir)?;
    Ok(WrittenChart {
        name: chart.name().to_string(),
        title: "Bandwidth saved vs delivered weights per second".into(),
        caption: "One point per format: x = bus words saved against dense over the whole model, y = weights per \
                  second its decoder delivers to the PE array = clock x beats/cycle x N. The clock is the format's \
                  front-end Fmax on the iCE40 HX8K where `weightstream cost` measured it (Fmax), else the clock \
                  you set (--clock-mhz); beats/cycle are co-simulated (RTL) or the ideal max(beats, words) model \
                  (ideal). The legend says which, per format. Up and to the right is better: a format far right but \
                  low saves words its decoder cannot use."
            .into(),
        files,
        size: chart.size(),
    })
}

/// Object-safe view of [`Chart`] (its draw is generic), for the list in [`write_all`].
trait ChartDyn {
    fn render_dyn(&self, dir: &Path) -> Result<ChartFiles, PlotError>;
    fn name_dyn(&self) -> &str;
    fn size_dyn(&self) -> (u32, u32);
}

impl<C: Chart> ChartDyn for C {
    fn render_dyn(&self, dir: &Path) -> Result<ChartFiles, PlotError> {
        plot::render(self, dir)
    }
    fn name_dyn(&self) -> &str {
        self.name()
    }
    fn size_dyn(&self) -> (u32, u32) {
        self.size()
    }
}
