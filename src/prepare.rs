//! From a loaded model to the integer layer matrices the formats encode: prune, then quantize,
//! with the settings the user chose. Under N:M pruning a convolution's columns are put
//! channels-last first ([`ColumnOrder`]) and the prepared matrix keeps that order. Every prepared
//! layer (or row block) carries the exact squared magnitude pruning kept ([`Squares`]). A model
//! that is already quantized (the integer matrices `--export-quantized` writes) passes through
//! unchanged.

use std::borrow::Cow;

use serde::Serialize;

use crate::formats::NmPattern;
use crate::matrix::QuantMatrix;
use crate::model::Model;
use crate::quant::{self, ColumnOrder, Granularity, PruneCut, PruneMode, QuantError, SquareSum, Squares};

/// Pruning and quantization settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize)]
pub struct PrepareConfig {
    /// Target fraction of weights zeroed by pruning, 0..=1. Not used under N:M pruning (the
    /// command line records the nominal 1 - n/m there).
    pub sparsity: f64,
    /// Per-layer or global threshold.
    pub prune: PruneMode,
    /// Q, weight bits.
    pub bits: u32,
    /// Per-layer or per-channel scale.
    pub granularity: Granularity,
    /// The pattern of N:M pruning (`prune` = nm); 2:4 when absent (files written before it).
    #[serde(default)]
    pub nm: NmPattern,
}

impl Default for PrepareConfig {
    fn default() -> Self {
        PrepareConfig {
            sparsity: 0.7,
            prune: PruneMode::PerLayer,
            bits: 8,
            granularity: Granularity::PerLayer,
            nm: NmPattern::default(),
        }
    }
}

/// One layer ready to encode.
#[derive(Debug, Clone)]
pub struct PreparedLayer {
    /// Tensor name in the checkpoint.
    pub name: String,
    /// Original tensor shape.
    pub shape: Vec<usize>,
    /// The pruned, quantized O x K matrix (columns channels-last for a convolution under N:M
    /// pruning, see [`ColumnOrder::for_nm`]).
    pub matrix: QuantMatrix,
    /// Quantization scales (one, or one per row).
    pub scales: Vec<f32>,
    /// Weights zeroed by pruning (quantization can zero more).
    pub pruned: usize,
    /// Squared magnitude of the float weights, all and kept by pruning (exact: the parts of a
    /// layer add up to the whole layer's bits).
    pub squares: Squares,
}

/// Prunes and quantizes every weight layer of `model`.
pub fn prepare(model: &Model, cfg: &PrepareConfig) -> Result<Vec<PreparedLayer>, QuantError> {
    check_config(cfg)?;
    let layers: Vec<_> = model.layers().collect();
    if model.is_quantized() {
        return layers.into_iter().map(|l| pass_through(l, cfg.bits)).collect();
    }
    let plans = plan(&layers, cfg)?;
    layers.iter().zip(&plans).map(|(l, p)| prepare_rows(l, p, cfg, 0, p.rows, 0)).collect()
}

/// Checks sparsity, Q and (under N:M pruning) the pattern.
pub fn check_config(cfg: &PrepareConfig) -> Result<(), QuantError> {
    quant::check_sparsity(cfg.sparsity)?;
    if !(2..=16).contains(&cfg.bits) {
        return Err(QuantError::BadBits(cfg.bits));
    }
    if cfg.prune == PruneMode::Nm {
        cfg.nm.validate().map_err(QuantError::BadPattern)?;
    }
    Ok(())
}

/// A float weight layer whose rows can be read on demand: a layer in memory, or a tensor of a
/// lazily opened checkpoint. Errors of reading convert into the caller's error type.
pub trait LayerRows: Sync {
    /// Error of a read (or of pruning and quantization).
    type Error: From<QuantError> + Send;
    /// Tensor name.
    fn name(&self) -> &str;
    /// Tensor shape: O first, K the product of the rest.
    fn shape(&self) -> &[usize];
    /// Elements [first, first + len), row-major.
    fn read(&self, first: usize, len: usize) -> Result<Cow<'_, [f32]>, Self::Error>;

    /// O.
    fn rows(&self) -> usize {
        self.shape().first().copied().unwrap_or(0)
    }
    /// K.
    fn cols(&self) -> usize {
        self.shape().iter().skip(1).product()
    }
    /// Calls `f(first, chunk)` over the whole tensor in chunks of whole rows, at most
    /// [`CHUNK_ELEMENTS`] elements (one row when a row is larger).
    fn for_each_chunk(&self, f: &mut dyn FnMut(usize, &[f32])) -> Result<(), Self::Error> {
        let cols = self.cols().max(1);
        let step = chunk_rows(cols);
        let rows = self.rows();
        let mut row = 0;
        while row < rows {
            let n = step.min(rows - row);
            let chunk = self.read(row * cols, n * cols)?;
            f(row * cols, &chunk);
            row += n;
        }
        Ok(())
    }
}

/// Elements per read when a layer is walked whole (64 MiB of f32).
pub const CHUNK_ELEMENTS: usize = 16 << 20;

/// Rows per chunk of a layer with `cols` columns: whole rows, at most [`CHUNK_ELEMENTS`] (one
/// row when a row is larger).
fn chunk_rows(cols: usize) -> usize {
    (CHUNK_ELEMENTS / cols.max(1)).max(1)
}

impl LayerRows for crate::model::Layer {
    type Error = QuantError;
    fn name(&self) -> &str {
        &self.name
    }
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn read(&self, first: usize, len: usize) -> Result<Cow<'_, [f32]>, QuantError> {
        Ok(Cow::Borrowed(&self.values[first..first + len]))
    }
}

/// What pruning and quantization need to know of a whole layer before any of its rows is
/// prepared: found in a few passes over the layer, in O(n), none of them holding more than a
/// chunk of it.
#[derive(Debug, Clone)]
pub struct LayerPlan {
    /// O.
    pub rows: usize,
    /// K.
    pub cols: usize,
    /// Which weights pruning zeroes (per layer, or one cut for the whole model).
    pub cut: PruneCut,
    /// Ties of the cut in the layers before this one (global pruning).
    pub ties_before: u64,
    /// Largest |w| left after pruning (sets the per-layer scale).
    pub kept_max: f32,
    /// The pattern under N:M pruning (then `cut` zeroes nothing).
    pub nm: Option<NmPattern>,
    /// The order of the prepared matrix's columns: channels-last for a convolution under N:M
    /// pruning, stored otherwise.
    pub order: ColumnOrder,
}

/// Plans every layer: checks the weights are finite, finds the pruning cut (one per layer or one
/// for all) and the largest magnitude pruning keeps.
pub fn plan<S: LayerRows>(layers: &[S], cfg: &PrepareConfig) -> Result<Vec<LayerPlan>, S::Error> {
    check_config(cfg)?;
    let nm = (cfg.prune == PruneMode::Nm).then_some(cfg.nm);
    let mut max = Vec::with_capacity(layers.len());
    for layer in layers {
        let order = column_order(layer, cfg);
        let cols = layer.cols();
        // Per chunk, in parallel: the first non-finite weight and the largest magnitude (under
        // N:M pruning, the largest it keeps).
        let parts = par_chunks(layer, |first, chunk| {
            let bad = chunk.iter().position(|v| !v.is_finite()).map(|i| (first + i, chunk[i]));
            let max = match nm {
                Some(p) if bad.is_none() => {
                    let mut rows = chunk.to_vec();
                    quant::max_abs(nm_prune(&mut rows, cols, order, p).0)
                }
                _ => quant::max_abs(chunk),
            };
            (bad, max)
        })?;
        if let Some((index, value)) = parts.iter().find_map(|p| p.0) {
            return Err(QuantError::NonFinite { layer: layer.name().to_string(), index, value }.into());
        }
        max.push(parts.iter().fold(0.0f32, |m, p| m.max(p.1)));
    }
    // Histogram passes over chunks in parallel, one histogram per chunk, summed.
    let tally = |ls: &[S], f: &quant::TallyFn<'_>, hist: &mut [u64]| -> Result<(), S::Error> {
        for l in ls {
            for h in par_chunks(l, |_, chunk| {
                let mut h = vec![0u64; hist.len()];
                f(chunk, &mut h);
                h
            })? {
                hist.iter_mut().zip(h).for_each(|(a, b)| *a += b);
            }
        }
        Ok(())
    };
    let base = |l: &S, cut: PruneCut, ties_before: u64, kept_max: f32| LayerPlan {
        rows: l.rows(),
        cols: l.cols(),
        cut,
        ties_before,
        kept_max,
        nm,
        order: column_order(l, cfg),
    };
    match cfg.prune {
        PruneMode::Nm => Ok(layers.iter().zip(max).map(|(l, m)| base(l, PruneCut::NONE, 0, m)).collect()),
        PruneMode::PerLayer => layers
            .iter()
            .zip(max)
            .map(|(l, m)| {
                let len = l.rows() * l.cols();
                let count = quant::prune_count(cfg.sparsity, len) as u64;
                let cut = PruneCut::find(count, |f, h| tally(std::slice::from_ref(l), f, h))?;
                // The cut keeps the largest weight unless it zeroes all of them.
                let kept_max = if count == len as u64 { 0.0 } else { m };
                Ok(base(l, cut, 0, kept_max))
            })
            .collect(),
        PruneMode::Global => {
            let total: usize = layers.iter().map(|l| l.rows() * l.cols()).sum();
            let count = quant::prune_count(cfg.sparsity, total) as u64;
            let cut = PruneCut::find(count, |f, h| tally(layers, f, h))?;
            let mut seen = 0;
            layers
                .iter()
                .map(|l| {
                    let ties_before = seen;
                    let mut kept_max = 0.0f32;
                    l.for_each_chunk(&mut |_, chunk| kept_max = kept_max.max(cut.kept_max(chunk, &mut seen)))?;
                    Ok(base(l, cut, ties_before, kept_max))
                })
                .collect()
        }
    }
}

/// The column order of a layer's prepared matrix under `cfg`.
fn column_order<S: LayerRows>(layer: &S, cfg: &PrepareConfig) -> ColumnOrder {
    match cfg.prune {
        PruneMode::Nm => ColumnOrder::for_nm(layer.shape()),
        PruneMode::PerLayer | PruneMode::Global => ColumnOrder::Stored,
    }
}

/// Whole rows of `cols` stored-order values put in `order`, then N:M pruned row by row; returns
/// them and how many weights pruning zeroed.
fn nm_prune(values: &mut [f32], cols: usize, order: ColumnOrder, pattern: NmPattern) -> (&[f32], usize) {
    order.apply(values, cols);
    let zeroed = values.chunks_mut(cols.max(1)).map(|row| quant::prune_nm_row(row, pattern)).sum();
    (values, zeroed)
}

/// `f(first, chunk)` over the layer's chunks of whole rows (as [`LayerRows::for_each_chunk`]),
/// the chunks on rayon's pool; the results in chunk order.
fn par_chunks<S: LayerRows, T: Send>(layer: &S, f: impl Fn(usize, &[f32]) -> T + Sync) -> Result<Vec<T>, S::Error> {
    use rayon::prelude::*;
    let cols = layer.cols().max(1);
    let step = chunk_rows(cols);
    let rows = layer.rows();
    let starts: Vec<usize> = (0..rows).step_by(step).collect();
    starts
        .par_iter()
        .map(|&row| {
            let n = step.min(rows - row);
            let chunk = layer.read(row * cols, n * cols)?;
            Ok(f(row * cols, &chunk))
        })
        .collect()
}

/// Ties of the plan's cut in rows [0, first_row) of the layer: where a block starting at
/// `first_row` picks up (0 when position does not matter).
pub fn ties_before_row<S: LayerRows>(layer: &S, plan: &LayerPlan, first_row: usize) -> Result<u64, S::Error> {
    if !plan.cut.position_matters() || first_row == 0 {
        return Ok(0);
    }
    let cols = plan.cols.max(1);
    let step = chunk_rows(cols);
    let mut ties = 0;
    let mut row = 0;
    while row < first_row {
        let n = step.min(first_row - row);
        ties += plan.cut.count_ties(&layer.read(row * plan.cols, n * plan.cols)?);
        row += n;
    }
    Ok(ties)
}

/// Rows [first_row, first_row + rows) of a planned layer, pruned (floats, columns in the plan's
/// order; for quantizers other than the linear one), and how many weights pruning zeroed in them.
pub fn pruned_rows<S: LayerRows>(
    layer: &S,
    plan: &LayerPlan,
    first_row: usize,
    rows: usize,
    ties_before: u64,
) -> Result<(Vec<f32>, usize), S::Error> {
    pruned_rows_squares(layer, plan, first_row, rows, ties_before).map(|(v, zeroed, _)| (v, zeroed))
}

/// [`pruned_rows`], and the squared magnitude of the rows before and after pruning.
fn pruned_rows_squares<S: LayerRows>(
    layer: &S,
    plan: &LayerPlan,
    first_row: usize,
    rows: usize,
    ties_before: u64,
) -> Result<(Vec<f32>, usize, Squares), S::Error> {
    let mut values = layer.read(first_row * plan.cols, rows * plan.cols)?.into_owned();
    let all = SquareSum::of(&values);
    let zeroed = match plan.nm {
        Some(p) => nm_prune(&mut values, plan.cols, plan.order, p).1,
        None => {
            let mut seen = plan.ties_before + ties_before;
            plan.cut.apply(&mut values, &mut seen)
        }
    };
    let squares = Squares { kept: SquareSum::of(&values), all };
    Ok((values, zeroed, squares))
}

/// Prunes and quantizes rows [first_row, first_row + rows) of a planned layer (all of it, or a
/// row block of a large one) into a layer of its own; `ties_before` is
/// [`ties_before_row`]`(first_row)`. [`PreparedLayer::pruned`] counts this part's rows.
pub fn prepare_rows<S: LayerRows>(
    layer: &S,
    plan: &LayerPlan,
    cfg: &PrepareConfig,
    first_row: usize,
    rows: usize,
    ties_before: u64,
) -> Result<PreparedLayer, S::Error> {
    let (values, zeroed, squares) = pruned_rows_squares(layer, plan, first_row, rows, ties_before)?;
    let pruned = match cfg.prune {
        PruneMode::PerLayer | PruneMode::Nm => zeroed,
        // Global pruning has always counted the layer's zeros after pruning.
        PruneMode::Global => values.iter().filter(|&&x| x == 0.0).count(),
    };
    let scales: Vec<f64> = match cfg.granularity {
        Granularity::PerLayer => vec![quant::scale_of(plan.kept_max, cfg.bits)],
        Granularity::PerChannel => {
            values.chunks(plan.cols.max(1)).map(|row| quant::scale_of(quant::max_abs(row), cfg.bits)).collect()
        }
    };
    let (matrix, scales) = quant::quantize_with_scales(&values, rows, plan.cols, cfg.bits, &scales);
    Ok(PreparedLayer { name: layer.name().to_string(), shape: layer.shape().to_vec(), matrix, scales, pruned, squares })
}

/// An already-quantized layer (see [`crate::model::Layer::integer_bits`]) as it is: no pruning,
/// no re-quantization (nor reordering), encoded at `bits` if its values fit, scale 1; all of
/// its squared magnitude is kept.
pub fn pass_through(layer: crate::model::Layer, bits: u32) -> Result<PreparedLayer, QuantError> {
    let needed = layer.integer_bits.unwrap_or(32);
    if needed > bits {
        return Err(QuantError::IntegerLayerTooWide { layer: layer.name, needed, bits });
    }
    let data: Vec<i32> = layer.values.iter().map(|&v| v as i32).collect();
    let all = SquareSum::of(&layer.values);
    let matrix = QuantMatrix { rows: layer.rows, cols: layer.cols, bits, data };
    let squares = Squares { kept: all, all };
    Ok(PreparedLayer { name: layer.name, shape: layer.shape, matrix, scales: vec![1.0], pruned: 0, squares })
}
