//! The command line's spelling of library choices (pruning mode, scale granularity, quantizer,
//! co-simulation traffic):
//! clap's value enums live here, beside the parsers, and convert into the library's own types,
//! which know nothing of the command line.

use clap::ValueEnum;
use weightstream::quant::{Granularity, PruneMode};
use weightstream::study::Quantizer;

/// How the pruning threshold is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PruneArg {
    /// Every layer loses exactly floor(s * len) weights.
    PerLayer,
    /// One threshold for the whole model: floor(s * total) weights, smallest first.
    Global,
    /// N:M structured (--nm): the n largest of every m consecutive weights of a row (a
    /// convolution's taken channels-last); --sparsity is not used.
    Nm,
}

impl From<PruneArg> for PruneMode {
    fn from(a: PruneArg) -> Self {
        match a {
            PruneArg::PerLayer => PruneMode::PerLayer,
            PruneArg::Global => PruneMode::Global,
            PruneArg::Nm => PruneMode::Nm,
        }
    }
}

/// Where the quantization scale is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GranularityArg {
    /// One scale per layer: max|w| / (2^(Q-1) - 1).
    PerLayer,
    /// One scale per output channel (row).
    PerChannel,
}

impl From<GranularityArg> for Granularity {
    fn from(a: GranularityArg) -> Self {
        match a {
            GranularityArg::PerLayer => Granularity::PerLayer,
            GranularityArg::PerChannel => Granularity::PerChannel,
        }
    }
}

/// How float weights become integers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum QuantizerArg {
    /// Symmetric linear (uniform) quantization, one fp32 scale per layer (or per row).
    Linear,
    /// k-means weight sharing, 2^Q - 1 shared values plus zero, codebook counted.
    Kmeans,
}

impl From<QuantizerArg> for Quantizer {
    fn from(a: QuantizerArg) -> Self {
        match a {
            QuantizerArg::Linear => Quantizer::Linear,
            QuantizerArg::Kmeans => Quantizer::Kmeans,
        }
    }
}

/// Input gaps and output backpressure of a co-simulation.
#[cfg(feature = "rtl")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TrafficArg {
    /// Inputs always valid, outputs always ready: the throughput measurement.
    Full,
    /// Inputs go three cycles in four, outputs ready three in four.
    Pattern,
    /// Seeded random gaps on inputs and backpressure on outputs (30% each).
    Random,
}

#[cfg(feature = "rtl")]
impl From<TrafficArg> for weightstream::cosim::Traffic {
    fn from(a: TrafficArg) -> Self {
        match a {
            TrafficArg::Full => weightstream::cosim::Traffic::Full,
            TrafficArg::Pattern => weightstream::cosim::Traffic::Pattern,
            TrafficArg::Random => weightstream::cosim::Traffic::Random,
        }
    }
}
