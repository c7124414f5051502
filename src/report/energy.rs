//! Energy and load-time estimates derived from a [`Report`]: the energy of moving each format's
//! bits on the wire out of DRAM and through an on-chip SRAM buffer (per-bit costs as parameters,
//! defaults from Horowitz, ISSCC 2014, 45 nm), and the time to load each layer at a given DRAM
//! bandwidth and decoder clock, with which of the two bounds it.
//!
//! The model, stated once: every bit of a format's stream (payload + metadata + padding, i.e.
//! whole bus words) is read once from DRAM and once from the SRAM buffer in front of the decoder.
//! Loading a layer takes max(DRAM time, decode time): DRAM time = bits / bandwidth; decode time =
//! co-simulated decode cycles with `--rtl`, else the ideal decoder's max(beats, words) cycles (one
//! beat to the PE array and at most one bus word accepted per cycle), divided by the format's own
//! clock: its front end's Fmax where `weightstream cost` measured it, else the clock the user set
//! (`--clock-mhz`, [`EnergyParams::clock_mhz`]). The clocks are the report's ([`super::rate`]).

use serde::Serialize;

use super::rate::{self, ClockSource};
use super::{LayerStats, Report};
use crate::formats::Format;

/// Where the default per-bit energies come from.
pub const ENERGY_SOURCE: &str = "M. Horowitz, \"Computing's energy problem (and what we can do about it)\", \
     ISSCC 2014, 45 nm: 640 pJ per 32-bit DRAM read (20 pJ/bit), 5 pJ per 32-bit read of a 32 KB SRAM \
     (0.156 pJ/bit)";

/// Default DRAM energy, pJ per bit: 640 pJ / 32 bits.
pub const DEFAULT_DRAM_PJ_PER_BIT: f64 = 640.0 / 32.0;
/// Default SRAM energy, pJ per bit: 5 pJ / 32 bits (32 KB SRAM).
pub const DEFAULT_SRAM_PJ_PER_BIT: f64 = 5.0 / 32.0;
/// Default decoder clock, MHz.
pub const DEFAULT_CLOCK_MHZ: f64 = 1000.0;
/// Default DRAM bandwidth, GB/s (10^9 bytes per second; DDR4-3200 on a 64-bit channel).
pub const DEFAULT_DRAM_GBPS: f64 = 25.6;

/// The parameters of the estimate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct EnergyParams {
    /// Energy of one bit read from DRAM, pJ.
    pub dram_pj_per_bit: f64,
    /// Energy of one bit read from the on-chip SRAM buffer, pJ.
    pub sram_pj_per_bit: f64,
    /// Decoder clock the user set, MHz: the clock of every format without a measured Fmax (the
    /// report's clocks say which formats run at it).
    pub clock_mhz: f64,
    /// DRAM bandwidth, GB/s (10^9 bytes/s).
    pub dram_gbps: f64,
}

impl Default for EnergyParams {
    fn default() -> Self {
        EnergyParams {
            dram_pj_per_bit: DEFAULT_DRAM_PJ_PER_BIT,
            sram_pj_per_bit: DEFAULT_SRAM_PJ_PER_BIT,
            clock_mhz: DEFAULT_CLOCK_MHZ,
            dram_gbps: DEFAULT_DRAM_GBPS,
        }
    }
}

/// Invalid estimate parameters.
#[derive(Debug, thiserror::Error)]
pub enum EnergyError {
    #[error("{name} must be a positive finite number, got {value}")]
    NotPositive { name: &'static str, value: f64 },
    #[error("{name} must be a finite number >= 0, got {value}")]
    Negative { name: &'static str, value: f64 },
}

impl EnergyParams {
    /// Checks every parameter is usable (energies >= 0, clock and bandwidth > 0).
    pub fn validate(&self) -> Result<(), EnergyError> {
        for (name, value) in [("DRAM pJ/bit", self.dram_pj_per_bit), ("SRAM pJ/bit", self.sram_pj_per_bit)] {
            if !value.is_finite() || value < 0.0 {
                return Err(EnergyError::Negative { name, value });
            }
        }
        for (name, value) in [("clock MHz", self.clock_mhz), ("DRAM GB/s", self.dram_gbps)] {
            if !value.is_finite() || value <= 0.0 {
                return Err(EnergyError::NotPositive { name, value });
            }
        }
        Ok(())
    }
}

/// What bounds a layer's load time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Bound {
    /// DRAM bandwidth (the wire).
    Dram,
    /// The decoder (cycles at the clock).
    Decoder,
}

impl Bound {
    /// "DRAM" or "decoder".
    pub fn label(self) -> &'static str {
        match self {
            Bound::Dram => "DRAM",
            Bound::Decoder => "decoder",
        }
    }
}

/// One layer in one format.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct FormatEnergy {
    /// The format.
    pub format: Format,
    /// False where the format does not apply to the layer (on the totals, to some layer): every
    /// figure is then 0 and means nothing.
    pub applies: bool,
    /// Bits on the wire (the report's total_bits).
    pub bits: u64,
    /// bits x DRAM pJ/bit.
    pub dram_pj: f64,
    /// bits x SRAM pJ/bit.
    pub sram_pj: f64,
    /// dram_pj + sram_pj.
    pub total_pj: f64,
    /// Energy saved against dense, percent of dense's.
    pub saved_pct: f64,
    /// bits / 8 / (GB/s x 10^9), seconds.
    pub dram_s: f64,
    /// Decoder cycles used for the decode time: RTL decode cycles, or max(beats, words).
    pub decode_cycles: u64,
    /// True when decode_cycles were co-simulated on the RTL.
    pub measured: bool,
    /// The format's decoder clock, MHz.
    pub clock_mhz: f64,
    /// Where it comes from: the front end's Fmax, or the user's --clock-mhz.
    pub clock_source: ClockSource,
    /// decode_cycles / clock, seconds.
    pub decode_s: f64,
    /// max(dram_s, decode_s).
    pub load_s: f64,
    /// Which bound the load time.
    pub bound: Bound,
    /// Dense load time / this format's (above 1: faster than dense).
    pub speedup_vs_dense: f64,
}

/// One layer (or the totals).
#[derive(Debug, Clone, Serialize)]
pub struct LayerEnergy {
    /// Layer name (`TOTAL` for the sums).
    pub name: String,
    /// In [`Format::ALL`] order.
    pub formats: Vec<FormatEnergy>,
}

/// The whole estimate.
#[derive(Debug, Clone, Serialize)]
pub struct EnergyReport {
    /// The parameters used.
    pub params: EnergyParams,
    /// Where the default energies come from.
    pub source: &'static str,
    /// Per layer, in the report's order.
    pub layers: Vec<LayerEnergy>,
    /// Sums over layers (load times add: layers load one after another).
    pub totals: LayerEnergy,
}

fn ratio(a: f64, b: f64) -> f64 {
    if b == 0.0 {
        0.0
    } else {
        a / b
    }
}

/// The clock a format is timed at: the measured Fmax the report carries, else the user's clock
/// of `p` (whatever default the report was built with).
fn format_clock_mhz(d: &rate::Delivered, p: &EnergyParams) -> f64 {
    match d.clock_source {
        ClockSource::Fmax => d.clock_mhz,
        ClockSource::User => p.clock_mhz,
    }
}

fn layer_energy(l: &LayerStats, p: &EnergyParams) -> LayerEnergy {
    let mut formats: Vec<FormatEnergy> = l
        .formats
        .iter()
        .map(|f| {
            let bits = f.total_bits;
            let dram_pj = bits as f64 * p.dram_pj_per_bit;
            let sram_pj = bits as f64 * p.sram_pj_per_bit;
            let (decode_cycles, source) = rate::decode_cycles(l, f);
            let measured = source == rate::CycleSource::Rtl;
            let clock_mhz = format_clock_mhz(&f.delivered, p);
            let dram_s = bits as f64 / 8.0 / (p.dram_gbps * 1e9);
            let decode_s = ratio(decode_cycles as f64, clock_mhz * 1e6);
            FormatEnergy {
                format: f.format,
                applies: f.applies(),
                bits,
                dram_pj,
                sram_pj,
                total_pj: dram_pj + sram_pj,
                saved_pct: 0.0,
                dram_s,
                decode_cycles,
                measured,
                clock_mhz,
                clock_source: f.delivered.clock_source,
                decode_s,
                load_s: dram_s.max(decode_s),
                bound: if dram_s >= decode_s { Bound::Dram } else { Bound::Decoder },
                speedup_vs_dense: 0.0,
            }
        })
        .collect();
    fill_relative(&mut formats);
    LayerEnergy { name: l.name.clone(), formats }
}

fn fill_relative(formats: &mut [FormatEnergy]) {
    if let Some(dense) = formats.iter().find(|f| f.format == Format::Dense).copied() {
        for f in formats.iter_mut() {
            f.saved_pct = 100.0 * (1.0 - ratio(f.total_pj, dense.total_pj));
            f.speedup_vs_dense = ratio(dense.load_s, f.load_s);
        }
    }
}

/// Estimates energy and load time of every layer and format of `report`.
pub fn estimate(report: &Report, params: &EnergyParams) -> Result<EnergyReport, EnergyError> {
    params.validate()?;
    let layers: Vec<LayerEnergy> = report.layers.iter().map(|l| layer_energy(l, params)).collect();
    let mut totals = LayerEnergy { name: "TOTAL".into(), formats: Vec::new() };
    for &format in Format::ALL.iter() {
        let clock = report.totals.formats.iter().find(|f| f.format == format).map(|f| f.delivered);
        let mut t = FormatEnergy {
            format,
            applies: true,
            bits: 0,
            dram_pj: 0.0,
            sram_pj: 0.0,
            total_pj: 0.0,
            saved_pct: 0.0,
            dram_s: 0.0,
            decode_cycles: 0,
            measured: !layers.is_empty(),
            clock_mhz: clock.map_or(params.clock_mhz, |c| format_clock_mhz(&c, params)),
            clock_source: clock.map_or(ClockSource::User, |c| c.clock_source),
            decode_s: 0.0,
            load_s: 0.0,
            bound: Bound::Dram,
            speedup_vs_dense: 0.0,
        };
        let (mut dram_bound_s, mut decoder_bound_s) = (0.0, 0.0);
        for l in &layers {
            let Some(f) = l.formats.iter().find(|f| f.format == format) else { continue };
            t.applies &= f.applies;
            t.bits += f.bits;
            t.dram_pj += f.dram_pj;
            t.sram_pj += f.sram_pj;
            t.total_pj += f.total_pj;
            t.dram_s += f.dram_s;
            t.decode_cycles += f.decode_cycles;
            t.measured &= f.measured;
            t.decode_s += f.decode_s;
            t.load_s += f.load_s;
            match f.bound {
                Bound::Dram => dram_bound_s += f.load_s,
                Bound::Decoder => decoder_bound_s += f.load_s,
            }
        }
        // The model's bound: the one that accounts for more of its load time.
        t.bound = if dram_bound_s >= decoder_bound_s { Bound::Dram } else { Bound::Decoder };
        if !t.applies {
            // Sums over some of the layers would read as the model's.
            t = FormatEnergy {
                applies: false,
                bits: 0,
                dram_pj: 0.0,
                sram_pj: 0.0,
                total_pj: 0.0,
                dram_s: 0.0,
                decode_cycles: 0,
                decode_s: 0.0,
                load_s: 0.0,
                ..t
            };
        }
        totals.formats.push(t);
    }
    fill_relative(&mut totals.formats);
    Ok(EnergyReport { params: *params, source: ENERGY_SOURCE, layers, totals })
}

/// Formats picojoules with a unit that keeps 3-4 significant digits (pJ, nJ, uJ, mJ).
pub fn human_energy(pj: f64) -> String {
    let (v, unit) = if pj >= 1e9 {
        (pj / 1e9, "mJ")
    } else if pj >= 1e6 {
        (pj / 1e6, "uJ")
    } else if pj >= 1e3 {
        (pj / 1e3, "nJ")
    } else {
        (pj, "pJ")
    };
    format!("{v:.3} {unit}")
}

/// Formats seconds as us with 3 decimals.
pub fn human_us(s: f64) -> String {
    format!("{:.3}", s * 1e6)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_horowitz() {
        let p = EnergyParams::default();
        assert_eq!(p.dram_pj_per_bit, 20.0);
        assert_eq!(p.sram_pj_per_bit, 0.15625);
        assert!(p.validate().is_ok());
        assert!(EnergyParams { clock_mhz: 0.0, ..p }.validate().is_err());
        assert!(EnergyParams { dram_pj_per_bit: f64::NAN, ..p }.validate().is_err());
    }

    #[test]
    fn units() {
        assert_eq!(human_energy(12.0), "12.000 pJ");
        assert_eq!(human_energy(2.5e6), "2.500 uJ");
        assert_eq!(human_us(1.5e-6), "1.500");
    }
}
