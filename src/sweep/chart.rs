//! The sweep chart: bandwidth saved (y) against decoder front-end cells (x), one point per
//! (design point, sparsity, Q) and format, one marker shape and colour per format, Pareto points
//! ringed in black and each (sparsity, Q) group's front joined by a dashed step line labelled
//! with its sparsity. Drawn with [`crate::plot`] to PNG and SVG.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::SweepRow;
use crate::formats::Format;
use crate::plot::{self, Chart, ChartFiles, PlotError};

/// File stem of the chart.
pub const NAME: &str = "sweep";

struct SweepChart<'a> {
    rows: &'a [SweepRow],
    model: &'a str,
}

fn num(v: f64) -> String {
    if v.abs() >= 1000.0 || (v - v.round()).abs() < 1e-9 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

impl Chart for SweepChart<'_> {
    fn name(&self) -> &str {
        NAME
    }
    fn size(&self) -> (u32, u32) {
        (1400, 860)
    }
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        let name = self.name();
        let err = |e: DrawingAreaErrorKind<DB::ErrorType>| PlotError::draw(name, e);
        let pts: Vec<(&SweepRow, f64)> = self.rows.iter().filter_map(|r| r.cost.map(|c| (r, c.cells as f64))).collect();
        if pts.is_empty() {
            return Err(PlotError::Empty(name.into()));
        }
        let xmax = pts.iter().map(|p| p.1).fold(1.0f64, f64::max) * 1.08;
        let xmin = pts.iter().map(|p| p.1).fold(f64::INFINITY, f64::min) * 0.9;
        let ymax = pts.iter().map(|p| p.0.saved_pct).fold(10.0f64, f64::max);
        let ymin = pts.iter().map(|p| p.0.saved_pct).fold(0.0f64, f64::min);
        let pad = (ymax - ymin) * 0.08;
        let mut chart = ChartBuilder::on(area)
            .caption(
                format!("{}: bandwidth saved vs decoder front-end cells, per design point and sparsity", self.model),
                plot::title_style(),
            )
            .margin(12)
            .margin_right(40)
            .x_label_area_size(70)
            .y_label_area_size(100)
            .build_cartesian_2d(xmin..xmax, (ymin - pad)..(ymax + pad))
            .map_err(err)?;
        chart
            .configure_mesh()
            .label_style(plot::tick_style())
            .x_label_formatter(&|v: &f64| num(*v))
            .y_label_formatter(&|v: &f64| num(*v))
            .axis_desc_style(plot::axis_label_style())
            .x_desc("front-end cells (yosys generic synthesis at the design point)")
            .y_desc("bus words saved vs dense, whole model, %")
            .light_line_style(TRANSPARENT)
            .bold_line_style(RGBColor(225, 225, 225))
            .draw()
            .map_err(err)?;
        // Pareto fronts first (under the markers), one dashed step line per (sparsity, Q).
        let mut groups: Vec<(f64, u32)> = Vec::new();
        for (r, _) in &pts {
            if !groups.iter().any(|g| g.0.to_bits() == r.sparsity.to_bits() && g.1 == r.bits) {
                groups.push((r.sparsity, r.bits));
            }
        }
        let multi_q = groups.iter().any(|g| g.1 != groups[0].1);
        for (sp, q) in &groups {
            let mut front: Vec<(f64, f64)> = pts
                .iter()
                .filter(|(r, _)| r.pareto && r.sparsity.to_bits() == sp.to_bits() && r.bits == *q)
                .map(|(r, x)| (*x, r.saved_pct))
                .collect();
            front.sort_by(|a, b| a.0.total_cmp(&b.0));
            if front.is_empty() {
                continue;
            }
            let mut steps = Vec::new();
            for (i, &(x, y)) in front.iter().enumerate() {
                if i > 0 {
                    steps.push((x, front[i - 1].1));
                }
                steps.push((x, y));
            }
            let gray = RGBColor(90, 90, 90);
            chart.draw_series(DashedLineSeries::new(steps, 6, 4, gray.stroke_width(2))).map_err(err)?;
            let last = *front.last().unwrap_or(&front[0]);
            let label = if multi_q { format!("s={sp} Q={q}") } else { format!("s={sp}") };
            let style = plot::tick_style().pos(Pos::new(HPos::Left, VPos::Bottom));
            chart.draw_series(std::iter::once(Text::new(label, (last.0, last.1 + pad * 0.15), style))).map_err(err)?;
        }
        for f in Format::ALL {
            let series: Vec<(f64, f64)> =
                pts.iter().filter(|(r, _)| r.format == f).map(|(r, x)| (*x, r.saved_pct)).collect();
            if series.is_empty() {
                continue;
            }
            // Marker per format: dense circle, bitmap triangle, delta-bitmap square, CSC cross.
            let color = plot::format_color(f);
            macro_rules! series {
                ($mk:expr) => {
                    chart
                        .draw_series(series.iter().map(|&xy| $mk(xy, 7)))
                        .map_err(err)?
                        .label(f.name())
                        .legend(move |(x, y)| $mk((x + 8, y), 6))
                };
            }
            match f {
                Format::Dense => series!(|at, s: i32| Circle::new(at, s, color.filled())),
                Format::Bitmap => series!(|at, s: i32| TriangleMarker::new(at, s + 2, color.filled())),
                Format::DeltaBitmap => {
                    series!(|at, s: i32| EmptyElement::at(at) + Rectangle::new([(-s, -s), (s, s)], color.filled()))
                }
                Format::Csc => series!(|at, s: i32| Cross::new(at, s, color.stroke_width(3))),
                Format::BitmapHuffman => series!(|at, s: i32| TriangleMarker::new(at, s + 2, color.stroke_width(2))),
                Format::DeltaBitmapHuffman => series!(|at, s: i32| Circle::new(at, s, color.stroke_width(2))),
                Format::LaneHuffman => {
                    series!(
                        |at, s: i32| EmptyElement::at(at) + Rectangle::new([(-s, -s), (s, s)], color.stroke_width(2))
                    )
                }
                Format::DeltaLaneHuffman => series!(|at, s: i32| Cross::new(at, s, color.stroke_width(2))),
                Format::Nm => series!(
                    |at, s: i32| EmptyElement::at(at) + Rectangle::new([(-s, -s / 2), (s, s / 2)], color.filled())
                ),
            };
        }
        chart
            .draw_series(
                pts.iter()
                    .filter(|(r, _)| r.pareto)
                    .map(|(r, x)| Circle::new((*x, r.saved_pct), 12, BLACK.stroke_width(2))),
            )
            .map_err(err)?
            .label("Pareto front (ringed, dashed)")
            .legend(|(x, y)| Circle::new((x + 8, y), 8, BLACK.stroke_width(2)));
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .label_font(plot::legend_style())
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .draw()
            .map_err(err)
    }
}

/// Draws the chart to `<dir>/sweep.png` and `<dir>/sweep.svg`; rows without a cost are left out
/// (an error when none has one).
pub fn write_chart(rows: &[SweepRow], model: &str, dir: &Path) -> Result<ChartFiles, PlotError> {
    plot::render(&SweepChart { rows, model }, dir)
}
