//! The report straight from a lazily opened checkpoint: every weight layer is planned in a few
//! chunked passes (finite, pruning cut, scale), then prepared, encoded, verified and measured one
//! row block at a time, the blocks spread over the cores (rayon). Peak memory is about one row
//! block per worker, not the model; the numbers are exactly those of [`super::build`] on the
//! loaded model (the same planning code, the same per-block sums).

use std::borrow::Cow;

use rayon::prelude::*;

use super::{assemble, encode_verified, BuildError, ModelFacts, Partial, Report, ReportError};
use crate::blocks;
use crate::formats::StreamParams;
use crate::model::{LazyModel, LazyTensor};
use crate::prepare::{self, LayerPlan, LayerRows, PrepareConfig};
use crate::quant::QuantError;

/// A tensor of a lazy model as a layer whose rows are read on demand.
struct Rows<'a>(&'a LazyTensor);

impl LayerRows for Rows<'_> {
    type Error = BuildError;
    fn name(&self) -> &str {
        &self.0.name
    }
    fn shape(&self) -> &[usize] {
        &self.0.shape
    }
    fn read(&self, first: usize, len: usize) -> Result<Cow<'_, [f32]>, BuildError> {
        Ok(Cow::Owned(self.0.read(first, len)?))
    }
}

impl From<QuantError> for BuildError {
    fn from(e: QuantError) -> Self {
        BuildError::Prepare(e)
    }
}

/// One unit of work: rows [first_row, first_row + rows) of layer `layer`, a row block.
struct Unit {
    layer: usize,
    first_row: usize,
    rows: usize,
    ties_before: u64,
}

/// Builds the report of a lazily opened model (see the module doc). `on_start` hears how many row
/// blocks there are; `on_block` is called (from any worker) with the layer's name as each is done.
pub fn build(
    model: &LazyModel,
    cfg: &PrepareConfig,
    params: &StreamParams,
    max_rows: usize,
    on_start: impl FnOnce(usize),
    on_block: &(dyn Fn(&str) + Sync),
) -> Result<Report, BuildError> {
    blocks::check_max_rows(max_rows).map_err(ReportError::MaxRows)?;
    if model.is_quantized() {
        // Integer matrices pass through whole (their width is found from all values).
        let loaded = model.materialize()?;
        let layers = prepare::prepare(&loaded, cfg)?;
        on_start(layers.len());
        return super::build(&loaded, &layers, cfg, params, max_rows, |l, _| {
            on_block(&l.name);
            Ok(Vec::new())
        });
    }
    let layers: Vec<Rows<'_>> = model.weight_tensors().map(Rows).collect();
    let plans = prepare::plan(&layers, cfg)?;
    let units = units(&layers, &plans, max_rows)?;
    on_start(units.len());
    let partials: Vec<Partial> = units
        .par_iter()
        .map(|u| {
            let (layer, plan) = (&layers[u.layer], &plans[u.layer]);
            let part = prepare::prepare_rows(layer, plan, cfg, u.first_row, u.rows, u.ties_before)?;
            let streams = encode_verified(&part, params, max_rows).map_err(|e| match e {
                ReportError::RoundTrip { layer, format, row, col } => {
                    ReportError::RoundTrip { layer, format, row: row + u.first_row, col }
                }
                e => e,
            })?;
            let partial = Partial::measure(&part.matrix, &streams, params);
            on_block(&layer.0.name);
            Ok(partial)
        })
        .collect::<Result<_, BuildError>>()?;
    let mut stats = Vec::with_capacity(layers.len());
    let mut next = partials.into_iter().zip(&units).peekable();
    for (i, layer) in layers.iter().enumerate() {
        let mut sum = Partial::default();
        while let Some((p, _)) = next.next_if(|(_, u)| u.layer == i) {
            sum.add(p);
        }
        stats.push(sum.finish(&layer.0.name, &layer.0.shape));
    }
    Ok(assemble(
        ModelFacts {
            name: &model.name,
            source: &model.source,
            provenance: model.provenance,
            parameters: model.parameter_count(),
            remainder: model.remainder(),
        },
        cfg,
        params,
        max_rows,
        stats,
    ))
}

/// Every layer's row blocks in order, with the pruning ties before each (counted only where
/// a tie's position decides whether it is zeroed).
fn units(layers: &[Rows<'_>], plans: &[LayerPlan], max_rows: usize) -> Result<Vec<Unit>, BuildError> {
    let mut units = Vec::new();
    for (i, (layer, plan)) in layers.iter().zip(plans).enumerate() {
        let n = blocks::block_count(plan.rows, max_rows).map_err(ReportError::MaxRows)?;
        let mut ties = 0;
        for b in 0..n {
            let first_row = b * max_rows;
            let rows = max_rows.min(plan.rows - first_row);
            units.push(Unit { layer: i, first_row, rows, ties_before: ties });
            if plan.cut.position_matters() && b + 1 < n {
                ties += plan.cut.count_ties(&layer.read(first_row * plan.cols, rows * plan.cols)?);
            }
        }
    }
    Ok(units)
}
