//! The report straight from a lazily opened checkpoint: every weight layer is planned in a few
//! chunked passes (finite, pruning cut, scale), then prepared, encoded, verified and measured one
//! row block at a time, the blocks spread over the cores (rayon). Peak memory is about one row
//! block per worker, not the model; the numbers are exactly those of [`super::build`] on the
//! loaded model (the same planning code, the same per-block sums).

use std::borrow::Cow;
use std::path::PathBuf;

use rayon::prelude::*;

use super::{assemble, encode_verified, BuildError, ModelFacts, Partial, Report, ReportError};
use crate::blocks::{self, BlockError};
use crate::formats::EncodeError;
use crate::formats::StreamParams;
use crate::model::{integer_bits, Layer, LazyModel, LazyTensor, Provenance, Remainder};
use crate::prepare::{self, LayerPlan, LayerRows, PrepareConfig};
use crate::quant::QuantError;
use crate::shard::{self, MergeError, Shard};

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

/// One unit of work: rows [first_row, first_row + rows) of layer `layer`, a row block (or a
/// whole layer of an already-quantized model).
struct Unit {
    layer: usize,
    first_row: usize,
    rows: usize,
    ties_before: u64,
}

/// What every shard of one report run agrees on: the model's facts, the settings, the layers.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ReportRun {
    name: String,
    source: String,
    provenance: Provenance,
    parameters: u64,
    remainder: Remainder,
    prepare: PrepareConfig,
    stream: StreamParams,
    max_rows: usize,
    /// Every weight layer: name, shape, units of work.
    layers: Vec<(String, Vec<usize>, usize)>,
}

/// A shard's share of a report: per unit of work (in whole-run order), its layer and what it
/// adds to that layer's line.
pub type ReportPartial = shard::Partial<ReportRun, (usize, Partial)>;

/// The command name partial report files carry.
pub const COMMAND: &str = "report";

/// Builds the report of a lazily opened model (see the module doc). `on_start` hears how many
/// units of work (row blocks) there are; `on_block` is called (from any worker) with the layer's
/// name as each is done.
pub fn build(
    model: &LazyModel,
    cfg: &PrepareConfig,
    params: &StreamParams,
    max_rows: usize,
    on_start: impl FnOnce(usize),
    on_block: &(dyn Fn(&str) + Sync),
) -> Result<Report, BuildError> {
    let part = build_shard(model, cfg, params, max_rows, Shard::WHOLE, on_start, on_block)?;
    Ok(finish(part.settings, part.items))
}

/// Builds one shard's share of the report: the units of work j with j mod N = I, in parallel.
/// Every shard plans the whole model (global pruning needs all of it), which is a few passes.
pub fn build_shard(
    model: &LazyModel,
    cfg: &PrepareConfig,
    params: &StreamParams,
    max_rows: usize,
    shard: Shard,
    on_start: impl FnOnce(usize),
    on_block: &(dyn Fn(&str) + Sync),
) -> Result<ReportPartial, BuildError> {
    blocks::check_max_rows(max_rows).map_err(ReportError::MaxRows)?;
    let quantized = model.is_quantized();
    let layers: Vec<Rows<'_>> = model.weight_tensors().map(Rows).collect();
    let (plans, units) = if quantized {
        prepare::check_config(cfg)?;
        let units = layers
            .iter()
            .enumerate()
            .map(|(i, l)| Unit { layer: i, first_row: 0, rows: l.rows(), ties_before: 0 })
            .collect();
        (Vec::new(), units)
    } else {
        let plans = prepare::plan(&layers, cfg)?;
        let units = units(&layers, &plans, max_rows, shard)?;
        (plans, units)
    };
    let settings = ReportRun {
        name: model.name.clone(),
        source: model.source.clone(),
        provenance: model.provenance,
        parameters: model.parameter_count(),
        remainder: model.remainder(),
        prepare: *cfg,
        stream: *params,
        max_rows,
        layers: layers
            .iter()
            .enumerate()
            .map(|(i, l)| (l.0.name.clone(), l.0.shape.clone(), units.iter().filter(|u| u.layer == i).count()))
            .collect(),
    };
    let mine: Vec<(usize, &Unit)> = units.iter().enumerate().filter(|(j, _)| shard.owns(*j)).collect();
    on_start(mine.len());
    let items = mine
        .par_iter()
        .map(|&(j, u)| {
            let layer = &layers[u.layer];
            let part = if quantized {
                let values = layer.0.read_all()?;
                let bits = integer_bits(&values);
                let whole = Layer {
                    name: layer.0.name.clone(),
                    shape: layer.0.shape.clone(),
                    rows: layer.rows(),
                    cols: layer.cols(),
                    values,
                    integer_bits: Some(bits),
                };
                prepare::pass_through(whole, cfg.bits)?
            } else {
                prepare::prepare_rows(layer, &plans[u.layer], cfg, u.first_row, u.rows, u.ties_before)?
            };
            // Rows in errors are the layer's, not the block's.
            let streams = encode_verified(&part, params, max_rows).map_err(|e| match e {
                ReportError::RoundTrip { layer, format, row, col } => {
                    ReportError::RoundTrip { layer, format, row: row + u.first_row, col }
                }
                ReportError::Encode {
                    layer,
                    source: BlockError::Encode(EncodeError::ValueOutOfRange { row, col, value, bits }),
                } => ReportError::Encode {
                    layer,
                    source: BlockError::Encode(EncodeError::ValueOutOfRange {
                        row: row + u.first_row,
                        col,
                        value,
                        bits,
                    }),
                },
                e => e,
            })?;
            let mut partial = Partial::measure(&part.matrix, &streams, params);
            partial.squares = part.squares;
            on_block(&layer.0.name);
            Ok((j, (u.layer, partial)))
        })
        .collect::<Result<_, BuildError>>()?;
    Ok(ReportPartial::new(COMMAND, shard, settings, items))
}

/// The report from every unit's partial, in whole-run order.
fn finish(run: ReportRun, items: Vec<(usize, (usize, Partial))>) -> Report {
    let mut sums: Vec<Partial> = vec![Partial::default(); run.layers.len()];
    for (_, (layer, p)) in items {
        if let Some(sum) = sums.get_mut(layer) {
            sum.add(p);
        }
    }
    let stats = sums.into_iter().zip(&run.layers).map(|(sum, (name, shape, _))| sum.finish(name, shape)).collect();
    assemble(
        ModelFacts {
            name: &run.name,
            source: &run.source,
            provenance: run.provenance,
            parameters: run.parameters,
            remainder: run.remainder,
        },
        &run.prepare,
        &run.stream,
        run.max_rows,
        stats,
    )
}

/// Merges the partial files of one sharded report run into the report the unsharded run gives.
pub fn merge(paths: &[PathBuf]) -> Result<Report, MergeError> {
    let (run, items): (ReportRun, Vec<(usize, (usize, Partial))>) = shard::merge(COMMAND, paths)?;
    let units: usize = run.layers.iter().map(|l| l.2).sum();
    if items.len() != units || items.iter().any(|(_, (layer, _))| *layer >= run.layers.len()) {
        return Err(MergeError::Incomplete(format!("{} of {units} row blocks", items.len())));
    }
    Ok(finish(run, items))
}

/// Every layer's row blocks in order, with the pruning ties before each (counted only where a
/// tie's position decides whether it is zeroed, and only up to this shard's last block).
fn units(layers: &[Rows<'_>], plans: &[LayerPlan], max_rows: usize, shard: Shard) -> Result<Vec<Unit>, BuildError> {
    let mut units = Vec::new();
    for (i, (layer, plan)) in layers.iter().zip(plans).enumerate() {
        let n = blocks::block_count(plan.rows, max_rows).map_err(ReportError::MaxRows)?;
        let last_mine = (0..n).rev().find(|b| shard.owns(units.len() + b));
        let mut ties = 0;
        for b in 0..n {
            let first_row = b * max_rows;
            let rows = max_rows.min(plan.rows - first_row);
            units.push(Unit { layer: i, first_row, rows, ties_before: ties });
            if plan.cut.position_matters() && last_mine.is_some_and(|last| b < last) {
                ties += plan.cut.count_ties(&layer.read(first_row * plan.cols, rows * plan.cols)?);
            }
        }
    }
    Ok(units)
}
