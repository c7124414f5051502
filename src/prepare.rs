//! From a loaded model to the integer layer matrices the formats encode: prune, then quantize,
//! with the settings the user chose. A model that is already quantized (the integer matrices
//! `--export-quantized` writes) passes through unchanged.

use serde::Serialize;

use crate::matrix::QuantMatrix;
use crate::model::Model;
use crate::quant::{self, Granularity, PruneMode, QuantError};

/// Pruning and quantization settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PrepareConfig {
    /// Target fraction of weights zeroed by pruning, 0..=1.
    pub sparsity: f64,
    /// Per-layer or global threshold.
    pub prune: PruneMode,
    /// Q, weight bits.
    pub bits: u32,
    /// Per-layer or per-channel scale.
    pub granularity: Granularity,
}

impl Default for PrepareConfig {
    fn default() -> Self {
        PrepareConfig { sparsity: 0.7, prune: PruneMode::PerLayer, bits: 8, granularity: Granularity::PerLayer }
    }
}

/// One layer ready to encode.
#[derive(Debug, Clone)]
pub struct PreparedLayer {
    /// Tensor name in the checkpoint.
    pub name: String,
    /// Original tensor shape.
    pub shape: Vec<usize>,
    /// The pruned, quantized O x K matrix.
    pub matrix: QuantMatrix,
    /// Quantization scales (one, or one per row).
    pub scales: Vec<f32>,
    /// Weights zeroed by pruning (quantization can zero more).
    pub pruned: usize,
}

/// Prunes and quantizes every weight layer of `model`.
pub fn prepare(model: &Model, cfg: &PrepareConfig) -> Result<Vec<PreparedLayer>, QuantError> {
    quant::check_sparsity(cfg.sparsity)?;
    if !(2..=16).contains(&cfg.bits) {
        return Err(QuantError::BadBits(cfg.bits));
    }
    let mut layers: Vec<_> = model.layers().collect();
    if model.is_quantized() {
        return layers.into_iter().map(|l| pass_through(l, cfg.bits)).collect();
    }
    for layer in &layers {
        quant::check_finite(&layer.name, &layer.values)?;
    }
    // `layers()` already copied the values; prune those copies in place.
    let mut values: Vec<Vec<f32>> = layers.iter_mut().map(|l| std::mem::take(&mut l.values)).collect();
    let pruned: Vec<usize> = match cfg.prune {
        PruneMode::PerLayer => values.iter_mut().map(|v| quant::prune_layer(v, cfg.sparsity)).collect(),
        PruneMode::Global => {
            quant::prune_global(&mut values, cfg.sparsity);
            values.iter().map(|v| v.iter().filter(|&&x| x == 0.0).count()).collect()
        }
    };
    layers
        .into_iter()
        .zip(values)
        .zip(pruned)
        .map(|((layer, vals), pruned)| {
            let (matrix, scales) = quant::quantize(&vals, layer.rows, layer.cols, cfg.bits, cfg.granularity)?;
            Ok(PreparedLayer { name: layer.name, shape: layer.shape, matrix, scales, pruned })
        })
        .collect()
}

/// An already-quantized layer (see [`crate::model::Layer::integer_bits`]) as it is: no pruning,
/// no re-quantization, encoded at `bits` if its values fit, scale 1.
fn pass_through(layer: crate::model::Layer, bits: u32) -> Result<PreparedLayer, QuantError> {
    let needed = layer.integer_bits.unwrap_or(32);
    if needed > bits {
        return Err(QuantError::IntegerLayerTooWide { layer: layer.name, needed, bits });
    }
    let data: Vec<i32> = layer.values.iter().map(|&v| v as i32).collect();
    let matrix = QuantMatrix { rows: layer.rows, cols: layer.cols, bits, data };
    Ok(PreparedLayer { name: layer.name, shape: layer.shape, matrix, scales: vec![1.0], pruned: 0 })
}
