//! Arguments every subcommand shares (model, pruning/quantization, stream parameters) and the
//! model loading they start from.

use anyhow::Result;
use clap::Args;

use weightstream::model::{Model, ModelSpec};
use weightstream::prepare::PrepareConfig;
use weightstream::quant::{Granularity, PruneMode};
use weightstream::StreamParams;

#[derive(Args)]
pub struct ModelArgs {
    /// A .safetensors / .pth file, mobilenet_v2, resnet18-fixture, or synthetic:mobilenet_v2|resnet18.
    #[arg(long, default_value = "mobilenet_v2")]
    pub model: String,
}

#[derive(Args)]
pub struct PrepareArgs {
    /// Fraction of weights pruned by magnitude, 0..1.
    #[arg(long, default_value_t = 0.7)]
    pub sparsity: f64,
    /// Prune each layer to the sparsity, or one global threshold.
    #[arg(long, value_enum, default_value_t = PruneMode::PerLayer)]
    pub prune: PruneMode,
    /// Q: weight bits, 2..16.
    #[arg(long, default_value_t = 8)]
    pub bits: u32,
    /// Quantization scale per layer or per output channel.
    #[arg(long, value_enum, default_value_t = Granularity::PerLayer)]
    pub granularity: Granularity,
}

#[derive(Args)]
pub struct StreamArgs {
    /// N: PE lanes (weights per beat).
    #[arg(long, default_value_t = 16)]
    pub lanes: usize,
    /// B: bus word bits (multiple of 8).
    #[arg(long, default_value_t = 64)]
    pub bus_bits: u32,
    /// R: CSC run bits.
    #[arg(long, default_value_t = 4)]
    pub run_bits: u32,
    /// P: CSC count bits.
    #[arg(long, default_value_t = 16)]
    pub count_bits: u32,
}

impl PrepareArgs {
    pub fn config(&self) -> PrepareConfig {
        PrepareConfig { sparsity: self.sparsity, prune: self.prune, bits: self.bits, granularity: self.granularity }
    }
}

impl StreamArgs {
    pub fn params(&self, weight_bits: u32) -> StreamParams {
        StreamParams {
            lanes: self.lanes,
            weight_bits,
            bus_bits: self.bus_bits,
            run_bits: self.run_bits,
            count_bits: self.count_bits,
        }
    }
}

pub fn load(args: &ModelArgs) -> Result<Model> {
    let spec = ModelSpec::parse(&args.model)?;
    Ok(Model::load(&spec)?)
}

pub mod check;
pub mod cost;
#[cfg(feature = "rtl")]
pub mod cosim;
pub mod diff;
pub mod report;
pub mod study;
