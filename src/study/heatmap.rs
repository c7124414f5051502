//! The heatmap of the 36 ordered pairs (first stage down, second across, plus each algorithm
//! alone on top), coloured by ratio vs dense, one chart per model and setting, drawn through
//! `crate::plot` (compiled-in font, PNG and SVG).

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{SettingResult, StudyResult, SIX};
use crate::plot::{self, Chart, ChartFiles, PlotError};

/// One setting's pair heatmap.
pub struct PairHeatmap {
    name: String,
    title: String,
    /// Rows: "(alone)" then each first stage; cells: ratio (None if not fully verified).
    cells: Vec<(String, Vec<Option<f64>>)>,
}

impl PairHeatmap {
    /// The heatmap of a setting.
    pub fn new(study: &StudyResult, s: &SettingResult) -> Self {
        let model: String = study.model.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
        let name = format!("pairs-{model}-s{:.2}-q{}-{:?}", s.sparsity, s.bits, s.quantizer).to_lowercase();
        let title =
            format!("{} ({}): ratio vs dense, sparsity {:.2}, Q={}", study.model, study.provenance, s.sparsity, s.bits);
        let mut cells = vec![("(alone)".to_string(), SIX.iter().map(|b| s.ratio(b)).collect())];
        for a in SIX {
            cells.push((a.to_string(), SIX.iter().map(|b| s.ratio(&format!("{a}|{b}"))).collect()));
        }
        PairHeatmap { name, title, cells }
    }
}

impl Chart for PairHeatmap {
    fn name(&self) -> &str {
        &self.name
    }
    fn size(&self) -> (u32, u32) {
        (900, 720)
    }
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        let err = |e| PlotError::draw(&self.name, e);
        let values: Vec<f64> = self.cells.iter().flat_map(|(_, r)| r.iter().flatten().copied()).collect();
        if values.is_empty() {
            return Err(PlotError::Empty(self.name.clone()));
        }
        let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let (x0, y0, cw, ch) = (160i32, 110i32, 118i32, 78i32);
        let centre = Pos::new(HPos::Center, VPos::Center);
        area.draw(&Text::new(self.title.clone(), (20, 20), plot::title_style())).map_err(|e| err(e.to_string()))?;
        area.draw(&Text::new("second stage →", (x0 + 3 * cw - 60, 55), plot::axis_label_style()))
            .map_err(|e| err(e.to_string()))?;
        area.draw(&Text::new("first stage ↓", (20, 75), plot::axis_label_style())).map_err(|e| err(e.to_string()))?;
        for (j, b) in SIX.iter().enumerate() {
            let pos = (x0 + j as i32 * cw + cw / 2, y0 - 18);
            area.draw(&Text::new(b.to_string(), pos, plot::tick_style().pos(centre)))
                .map_err(|e| err(e.to_string()))?;
        }
        for (i, (a, row)) in self.cells.iter().enumerate() {
            let y = y0 + i as i32 * ch;
            area.draw(&Text::new(a.clone(), (20, y + ch / 2 - 7), plot::tick_style()))
                .map_err(|e| err(e.to_string()))?;
            for (j, v) in row.iter().enumerate() {
                let x = x0 + j as i32 * cw;
                let (fill, label) = match v {
                    Some(v) => {
                        let t = if hi > lo { (v - lo) / (hi - lo) } else { 0.5 };
                        (plot::heat_color(t), format!("{v:.2}x"))
                    }
                    None => (RGBColor(220, 220, 220), "failed".to_string()),
                };
                area.draw(&Rectangle::new([(x + 1, y + 1), (x + cw - 1, y + ch - 1)], fill.filled()))
                    .map_err(|e| err(e.to_string()))?;
                let t = v.map(|v| if hi > lo { (v - lo) / (hi - lo) } else { 0.5 }).unwrap_or(1.0);
                let colour = if t < 0.6 { WHITE } else { BLACK };
                let style = plot::tick_style().pos(centre).color(&colour);
                area.draw(&Text::new(label, (x + cw / 2, y + ch / 2), style)).map_err(|e| err(e.to_string()))?;
            }
        }
        let foot = format!(
            "colour: ratio from {lo:.2}x (dark) to {hi:.2}x (light); top row: each algorithm alone; every cell verified bit-exact"
        );
        area.draw(&Text::new(foot, (20, y0 + 7 * ch + 20), plot::tick_style())).map_err(|e| err(e.to_string()))?;
        Ok(())
    }
}

/// Writes one heatmap per setting into `dir`.
pub fn write_heatmaps(study: &StudyResult, dir: &Path) -> Result<Vec<ChartFiles>, PlotError> {
    study.settings.iter().map(|s| plot::render(&PairHeatmap::new(study, s), dir)).collect()
}
