//! Magnitude pruning and symmetric linear quantization: float layers in, the integer matrices
//! every format encodes out.

use serde::Serialize;

use crate::matrix::QuantMatrix;

/// How the pruning threshold is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum PruneMode {
    /// Every layer loses exactly floor(s * len) weights.
    PerLayer,
    /// One threshold for the whole model: floor(s * total) weights, smallest first.
    Global,
}

/// Where the quantization scale is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Granularity {
    /// One scale per layer: max|w| / (2^(Q-1) - 1).
    PerLayer,
    /// One scale per output channel (row).
    PerChannel,
}

/// Errors of pruning and quantization.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum QuantError {
    #[error("sparsity {0} is not in [0, 1]")]
    BadSparsity(f64),
    #[error("quantization bits {0} not in 2..=16")]
    BadBits(u32),
    #[error("layer {layer}: weight {index} is not finite ({value})")]
    NonFinite { layer: String, index: usize, value: f32 },
    #[error("layer {layer} is already quantized to {needed}-bit integers; --bits {bits} cannot hold them")]
    IntegerLayerTooWide { layer: String, needed: u32, bits: u32 },
}

/// How many of `len` weights sparsity `s` prunes: floor(s * len). The tiny epsilon keeps
/// products like 0.29 * 100 (28.999999999999996 in binary) at their decimal value.
pub fn prune_count(sparsity: f64, len: usize) -> usize {
    ((sparsity * len as f64 + 1e-9).floor() as usize).min(len)
}

/// Checks a sparsity value.
pub fn check_sparsity(sparsity: f64) -> Result<(), QuantError> {
    if (0.0..=1.0).contains(&sparsity) {
        Ok(())
    } else {
        Err(QuantError::BadSparsity(sparsity))
    }
}

/// Checks that every weight is finite.
pub fn check_finite(layer: &str, values: &[f32]) -> Result<(), QuantError> {
    match values.iter().position(|v| !v.is_finite()) {
        Some(index) => Err(QuantError::NonFinite { layer: layer.to_string(), index, value: values[index] }),
        None => Ok(()),
    }
}

/// Zeroes exactly floor(s * len) weights of smallest magnitude, ties broken by lower index first.
/// Returns how many were zeroed.
pub fn prune_layer(values: &mut [f32], sparsity: f64) -> usize {
    let count = prune_count(sparsity, values.len());
    if count == 0 {
        return 0;
    }
    let mut order: Vec<u32> = (0..values.len() as u32).collect();
    let key = |&i: &u32| (values[i as usize].abs(), i);
    let cmp = |a: &u32, b: &u32| {
        let (ma, ia) = key(a);
        let (mb, ib) = key(b);
        ma.total_cmp(&mb).then(ia.cmp(&ib))
    };
    if count < order.len() {
        order.select_nth_unstable_by(count - 1, cmp);
    }
    for &i in &order[..count] {
        values[i as usize] = 0.0;
    }
    count
}

/// Global magnitude pruning: zeroes exactly floor(s * total) weights across all layers, smallest
/// magnitude first, ties broken by (layer, index).
pub fn prune_global(layers: &mut [Vec<f32>], sparsity: f64) -> usize {
    let total: usize = layers.iter().map(Vec::len).sum();
    let count = prune_count(sparsity, total);
    if count == 0 {
        return 0;
    }
    let mut keys: Vec<(f32, u32, u32)> = Vec::with_capacity(total);
    for (l, values) in layers.iter().enumerate() {
        keys.extend(values.iter().enumerate().map(|(i, v)| (v.abs(), l as u32, i as u32)));
    }
    let cmp = |a: &(f32, u32, u32), b: &(f32, u32, u32)| a.0.total_cmp(&b.0).then((a.1, a.2).cmp(&(b.1, b.2)));
    if count < keys.len() {
        keys.select_nth_unstable_by(count - 1, cmp);
    }
    for &(_, l, i) in &keys[..count] {
        layers[l as usize][i as usize] = 0.0;
    }
    count
}

/// Symmetric linear quantization of a row-major O x K layer to signed `bits`-bit integers in
/// [-(2^(Q-1) - 1), 2^(Q-1) - 1]: q = round(w / scale), scale = max|w| / (2^(Q-1) - 1), rounding
/// half away from zero. Returns the matrix and the scales (one, or one per row).
pub fn quantize(
    values: &[f32],
    rows: usize,
    cols: usize,
    bits: u32,
    granularity: Granularity,
) -> Result<(QuantMatrix, Vec<f32>), QuantError> {
    if !(2..=16).contains(&bits) {
        return Err(QuantError::BadBits(bits));
    }
    let qmax = f64::from((1i32 << (bits - 1)) - 1);
    let scale_of = |vals: &[f32]| {
        let max = vals.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        f64::from(max) / qmax
    };
    let scales: Vec<f64> = match granularity {
        Granularity::PerLayer => vec![scale_of(values)],
        Granularity::PerChannel => values.chunks(cols.max(1)).map(scale_of).collect(),
    };
    let mut data = Vec::with_capacity(values.len());
    for (i, &v) in values.iter().enumerate() {
        let scale = scales[if scales.len() == 1 { 0 } else { i / cols }];
        let q = if scale > 0.0 { (f64::from(v) / scale).round().clamp(-qmax, qmax) } else { 0.0 };
        data.push(q as i32);
    }
    Ok((QuantMatrix { rows, cols, bits, data }, scales.iter().map(|&s| s as f32).collect()))
}
