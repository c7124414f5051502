//! Delivered weights per second: how fast each format's decoder feeds the PE array at the design
//! point, to be read beside the bus words it saves (a format that saves more words but whose
//! decoder cannot keep up loads a layer slower, not faster).
//!
//! The model, stated once:
//!
//!     delivered weights/s = clock x beats/cycle x N
//!
//! - **clock**: the format's own clock. Where `weightstream cost` has placed the format's front end
//!   (bit aligner + decoder + beat sequencer, registered at its edges) on the iCE40 HX8K, its
//!   Fmax after routing ([`ClockSource::Fmax`]); otherwise the clock the user set (`--clock-mhz`,
//!   [`ClockSource::User`]). The front end, not the whole top, because it is what differs between
//!   formats: the top's Fmax is bounded by the PE array's multiply-accumulate, the same for every
//!   format, and at n16 no top fits the HX8K.
//! - **beats/cycle**: beats / decode cycles, where the cycles are co-simulated on the RTL with
//!   `--rtl` ([`CycleSource::Rtl`]) or else the ideal decoder's max(beats, words) per layer (one
//!   beat to the PE array and at most one bus word accepted per cycle, [`CycleSource::Ideal`]).
//! - **N**: lanes, weights per beat (padding lanes of a layer's last row tile included).
//!
//! Every [`super::FormatStats`] carries its [`Delivered`]; [`apply`] (re)computes them for a set
//! of [`Clocks`]. The energy and load-time estimate ([`super::energy`]) times each format at the
//! same clock.

use serde::Serialize;

use super::{FormatStats, LayerStats, Report};
use crate::cost::{Cost, Fpga, Unit};
use crate::formats::Format;

/// Where a format's clock comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClockSource {
    /// Fmax of the format's front end on the iCE40 HX8K (nextpnr-ice40, seed 1), from `weightstream cost`.
    Fmax,
    /// The clock the user set (`--clock-mhz`): no placed front end of this format is known.
    #[default]
    User,
}

impl ClockSource {
    /// A short label for tables: `Fmax` or `--clock-mhz`.
    pub fn label(self) -> &'static str {
        match self {
            ClockSource::Fmax => "Fmax",
            ClockSource::User => "--clock-mhz",
        }
    }

    /// Words for prose: what the clock is.
    pub fn describe(self) -> &'static str {
        match self {
            ClockSource::Fmax => "its front end's Fmax on the iCE40 HX8K",
            ClockSource::User => "the --clock-mhz clock (no Fmax measured)",
        }
    }
}

/// Where the decode cycles come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CycleSource {
    /// Co-simulated on the RTL (`--rtl`).
    Rtl,
    /// The ideal decoder: max(beats, words) per layer.
    #[default]
    Ideal,
}

impl CycleSource {
    /// `RTL` or `ideal`.
    pub fn label(self) -> &'static str {
        match self {
            CycleSource::Rtl => "RTL",
            CycleSource::Ideal => "ideal",
        }
    }
}

/// One format's clock.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FormatClock {
    /// The format.
    pub format: Format,
    /// MHz.
    pub mhz: f64,
    /// Where it comes from.
    pub source: ClockSource,
}

/// The clocks of every format: measured Fmax where known, the user's clock for the rest.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Clocks {
    /// The clock the user set, MHz: used for every format without a measured Fmax.
    pub user_mhz: f64,
    /// Front-end Fmax per format, MHz, where placed.
    pub fmax_mhz: Vec<(Format, f64)>,
}

impl Clocks {
    /// Every format at the user's clock.
    pub fn user(mhz: f64) -> Clocks {
        Clocks { user_mhz: mhz, fmax_mhz: Vec::new() }
    }

    /// The front-end Fmax of every format `costs` has placed (front-end results only; a front end
    /// that does not fit or was not placed has none), the user's clock for the rest.
    pub fn from_costs(costs: &[Cost], user_mhz: f64) -> Clocks {
        let fmax_mhz = costs
            .iter()
            .filter(|c| c.unit == Unit::FrontEnd)
            .filter_map(|c| {
                let format: Format = c.format.parse().ok()?;
                match c.fpga {
                    Fpga::Placed { fmax_mhz, .. } if fmax_mhz.is_finite() && fmax_mhz > 0.0 => Some((format, fmax_mhz)),
                    _ => None,
                }
            })
            .collect();
        Clocks { user_mhz, fmax_mhz }
    }

    /// Explicit Fmax values (tests, other callers), the user's clock for the rest.
    pub fn with_fmax(user_mhz: f64, fmax_mhz: &[(Format, f64)]) -> Clocks {
        Clocks { user_mhz, fmax_mhz: fmax_mhz.to_vec() }
    }

    /// The clock of `format`.
    pub fn clock(&self, format: Format) -> FormatClock {
        match self.fmax_mhz.iter().find(|(f, _)| *f == format) {
            Some(&(_, mhz)) => FormatClock { format, mhz, source: ClockSource::Fmax },
            None => FormatClock { format, mhz: self.user_mhz, source: ClockSource::User },
        }
    }

    /// Every format of [`Format::ALL`], in order.
    pub fn all(&self) -> Vec<FormatClock> {
        Format::ALL.iter().map(|&f| self.clock(f)).collect()
    }
}

/// What one format's decoder delivers to the PE array on a layer (or the whole model).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Delivered {
    /// The decoder's clock, MHz.
    pub clock_mhz: f64,
    /// Where the clock comes from: `fmax` (front end on the iCE40 HX8K) or `user` (--clock-mhz).
    pub clock_source: ClockSource,
    /// Decode cycles: co-simulated (`rtl`) or max(beats, words) (`ideal`).
    pub cycles: u64,
    /// Where the cycles come from.
    pub cycles_source: CycleSource,
    /// Beats / cycles (1 at most for the ideal decoder; dense at Q x N > B needs several words a beat).
    pub beats_per_cycle: f64,
    /// clock x beats/cycle x N: weights per second into the PE array.
    pub weights_per_s: f64,
}

impl Delivered {
    /// Millions of weights per second.
    pub fn mw_s(&self) -> f64 {
        self.weights_per_s / 1e6
    }
}

fn ratio(a: f64, b: f64) -> f64 {
    if b == 0.0 {
        0.0
    } else {
        a / b
    }
}

/// The decode cycles of a format on a layer: co-simulated when measured, else max(beats, words).
pub fn decode_cycles(l: &LayerStats, f: &FormatStats) -> (u64, CycleSource) {
    match f.rtl {
        Some(m) => (m.cycles, CycleSource::Rtl),
        None => (l.beats.max(f.bus_words), CycleSource::Ideal),
    }
}

fn delivered(beats: u64, cycles: u64, source: CycleSource, lanes: usize, clock: FormatClock) -> Delivered {
    let beats_per_cycle = ratio(beats as f64, cycles as f64);
    Delivered {
        clock_mhz: clock.mhz,
        clock_source: clock.source,
        cycles,
        cycles_source: source,
        beats_per_cycle,
        weights_per_s: clock.mhz * 1e6 * beats_per_cycle * lanes as f64,
    }
}

/// Fills every layer's and the totals' [`Delivered`] of every format at `clocks`. The totals'
/// cycles are the sum of the layers' (so the model's rate is total beats over total cycles).
pub fn apply(report: &mut Report, clocks: &Clocks) {
    let lanes = report.stream.lanes;
    for l in &mut report.layers {
        let beats = l.beats;
        for i in 0..l.formats.len() {
            let (cycles, source) = decode_cycles(l, &l.formats[i]);
            let clock = clocks.clock(l.formats[i].format);
            l.formats[i].delivered = delivered(beats, cycles, source, lanes, clock);
        }
    }
    let t = &mut report.totals;
    for f in &mut t.formats {
        let mut cycles = 0;
        let mut source = CycleSource::Rtl;
        let mut any = false;
        for l in &report.layers {
            if let Some(lf) = l.formats.iter().find(|x| x.format == f.format) {
                cycles += lf.delivered.cycles;
                any = true;
                if lf.delivered.cycles_source == CycleSource::Ideal {
                    source = CycleSource::Ideal;
                }
            }
        }
        if !any {
            source = CycleSource::Ideal;
        }
        f.delivered = delivered(t.beats, cycles, source, lanes, clocks.clock(f.format));
    }
}

/// Whether the formats' clocks are of different kinds (some measured Fmax, some the user's):
/// their rates then compare a measured clock with an assumed one.
pub fn mixed_clocks(report: &Report) -> bool {
    let mut sources = report.totals.formats.iter().map(|f| f.delivered.clock_source);
    let first = sources.next();
    sources.any(|s| Some(s) != first)
}

/// "48.1 MHz (Fmax)" / "1000 MHz (--clock-mhz)".
pub fn clock_label(d: &Delivered) -> String {
    format!("{} MHz ({})", fmt_mhz(d.clock_mhz), d.clock_source.label())
}

/// MHz with one decimal, or none for whole numbers (1000, 500).
pub fn fmt_mhz(mhz: f64) -> String {
    if (mhz - mhz.round()).abs() < 1e-9 {
        format!("{mhz:.0}")
    } else {
        format!("{mhz:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fmax_where_known_user_clock_elsewhere() {
        let c = Clocks::with_fmax(500.0, &[(Format::Bitmap, 48.1)]);
        assert_eq!(
            c.clock(Format::Bitmap),
            FormatClock { format: Format::Bitmap, mhz: 48.1, source: ClockSource::Fmax }
        );
        assert_eq!(c.clock(Format::Csc).source, ClockSource::User);
        assert_eq!(c.clock(Format::Csc).mhz, 500.0);
        assert_eq!(c.all().len(), Format::ALL.len());
    }

    #[test]
    fn rate_is_clock_times_beats_per_cycle_times_lanes() {
        let clock = FormatClock { format: Format::Bitmap, mhz: 50.0, source: ClockSource::Fmax };
        let d = delivered(100, 200, CycleSource::Rtl, 16, clock);
        assert_eq!(d.beats_per_cycle, 0.5);
        assert_eq!(d.weights_per_s, 50e6 * 0.5 * 16.0);
        assert_eq!(d.mw_s(), 400.0);
        assert_eq!(delivered(0, 0, CycleSource::Ideal, 16, clock).weights_per_s, 0.0);
        assert_eq!(fmt_mhz(1000.0), "1000");
        assert_eq!(fmt_mhz(48.14), "48.1");
    }
}
