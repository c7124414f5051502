//! The compression study: extensible lossless codec pipelines run on pruned and quantized
//! layers, every size backed by a verified round trip, the 6 x 6 ordered pairs of six
//! algorithms plus differencing variants, order-0 entropy bounds, throughput, and a verdict on
//! the claims of the study this project grew out of. `docs/study.md` documents the design.
//!
//! Data between stages is a set of named symbol streams ([`stream::Stream`]); stages live in
//! [`stages`], chains in [`pipeline`], external programs in [`external`], k-means weight sharing
//! in [`kmeans`], the claims in [`verdict`], tables and files in [`report`], charts in
//! [`heatmap`].

pub mod bitio;
pub mod external;
pub mod heatmap;
pub mod kmeans;
pub mod pipeline;
pub mod report;
pub mod stages;
pub mod stream;
pub mod verdict;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use serde::Serialize;

use crate::entropy::order0_bits;
use crate::matrix::QuantMatrix;
use crate::model::Model;
use crate::prepare::PrepareConfig;
use crate::quant::{Granularity, PruneMode, QuantError};
use pipeline::{run_layer, Pipeline};

/// Errors of the study.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StudyError {
    /// A pipeline or stage spec that does not parse.
    #[error("bad pipeline: {0}")]
    BadPipeline(String),
    /// A stage that cannot handle this input (e.g. delta after a sparse format).
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// Data a decoder cannot read.
    #[error("corrupt stream: {0}")]
    Corrupt(String),
    /// A decode that did not reproduce the stage's input.
    #[error("{stage}: round trip mismatch: {detail}")]
    Mismatch { stage: String, detail: String },
    /// An external codec that crashed, hung or wrote garbage.
    #[error("external codec {codec}: {msg}")]
    External { codec: String, msg: String },
    /// Pruning or quantization settings.
    #[error(transparent)]
    Quant(#[from] QuantError),
}

impl StudyError {
    pub(crate) fn corrupt(msg: impl Into<String>) -> Self {
        StudyError::Corrupt(msg.into())
    }
}

/// The six algorithms whose 36 ordered pairs the study runs by default.
pub const SIX: [&str; 6] = ["bitmap", "csc", "rle", "huffman", "rans", "zstd"];

/// Differencing variants run beside the pairs by default.
pub const DELTA_VARIANTS: [&str; 12] = [
    "delta-k",
    "delta-k|bitmap",
    "delta-k|csc",
    "delta-k|huffman",
    "delta-k|rans",
    "delta-k|zstd",
    "delta-o|bitmap",
    "delta-o|huffman",
    "delta-nz",
    "delta-nz|huffman",
    "delta-nz|rans",
    "delta-k|zigzag|expgolomb",
];

/// The default pipeline list: the six alone, the 36 pairs, the delta variants.
pub fn default_pipelines() -> Vec<String> {
    let mut out: Vec<String> = SIX.iter().map(|s| s.to_string()).collect();
    for a in SIX {
        for b in SIX {
            out.push(format!("{a}|{b}"));
        }
    }
    out.extend(DELTA_VARIANTS.iter().map(|s| s.to_string()));
    out
}

/// How float weights become integers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Quantizer {
    /// Symmetric linear (uniform) quantization, one fp32 scale per layer (or per row).
    Linear,
    /// k-means weight sharing, 2^Q - 1 shared values plus zero, codebook counted.
    Kmeans,
}

/// What to run.
#[derive(Debug, Clone)]
pub struct StudyConfig {
    /// Pruning sparsities.
    pub sparsities: Vec<f64>,
    /// Weight bits Q.
    pub bits: Vec<u32>,
    /// Linear or k-means.
    pub quantizer: Quantizer,
    /// Per-layer or global pruning threshold, or N:M.
    pub prune: PruneMode,
    /// The pattern of N:M pruning.
    pub nm: crate::formats::NmPattern,
    /// Linear quantization scale granularity.
    pub granularity: Granularity,
    /// Pipelines to run.
    pub pipelines: Vec<Pipeline>,
    /// Worker threads (layers run in parallel).
    pub threads: usize,
    /// Only the first N weight layers (None: all).
    pub max_layers: Option<usize>,
}

/// A layer that failed in a pipeline.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct LayerFailure {
    /// Layer name.
    pub layer: String,
    /// Why.
    pub error: String,
}

/// One pipeline at one setting, summed over the layers it verified on.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct PipelineResult {
    /// Pipeline name.
    pub name: String,
    /// Encoded bits of the verified layers, side information (scales/codebooks) included.
    pub bits: u64,
    /// Dense bits of the same layers, side information included.
    pub dense_bits: u64,
    /// Layers whose round trip verified.
    pub verified_layers: usize,
    /// Layers that failed.
    pub failures: Vec<LayerFailure>,
    /// dense_bits / bits.
    pub ratio: f64,
    /// CSC bits / bits over layers both verified (None without a CSC run).
    pub ratio_vs_csc: Option<f64>,
    /// Encode throughput, million weights per second.
    pub encode_mw_s: f64,
    /// Decode throughput, million weights per second.
    pub decode_mw_s: f64,
    /// Bits per layer (None where it failed), in layer order.
    pub layer_bits: Vec<Option<u64>>,
}

/// One (sparsity, bits) setting.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct SettingResult {
    /// Pruning sparsity.
    pub sparsity: f64,
    /// Q.
    pub bits: u32,
    /// Quantizer used.
    pub quantizer: Quantizer,
    /// Layer names in order.
    pub layers: Vec<String>,
    /// Weights in all layers.
    pub weights: u64,
    /// Dense bits of all layers: weights * Q + side bits.
    pub dense_bits: u64,
    /// Side information per layer (fp32 scale(s), or the k-means codebook), in every size.
    pub side_bits: u64,
    /// Nonzero fraction of W.
    pub density: f64,
    /// Nonzero fraction of W differenced along k.
    pub density_delta_k: f64,
    /// Nonzero fraction of W differenced along o.
    pub density_delta_o: f64,
    /// Order-0 entropy of W (per layer, summed), bits, plus side bits.
    pub entropy_bits: f64,
    /// Order-0 entropy of W differenced along k, plus side bits.
    pub entropy_delta_k_bits: f64,
    /// Order-0 entropy of W differenced along o, plus side bits.
    pub entropy_delta_o_bits: f64,
    /// Every pipeline.
    pub pipelines: Vec<PipelineResult>,
    /// Single-threaded round-trip speed of the six algorithms alone on the largest layer (best
    /// of several runs): steadier than the per-pipeline sums for comparing cost.
    pub speed_probe: Vec<SpeedProbe>,
    /// Wall time of the setting, s.
    pub seconds: f64,
}

/// One algorithm's measured speed on one layer.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct SpeedProbe {
    /// Pipeline name.
    pub name: String,
    /// Layer it ran on.
    pub layer: String,
    /// Encode, million weights per second (best of the runs).
    pub encode_mw_s: f64,
    /// Decode, million weights per second (best of the runs).
    pub decode_mw_s: f64,
}

impl SpeedProbe {
    /// Encode then decode, million weights per second.
    pub fn round_trip_mw_s(&self) -> f64 {
        1.0 / (1.0 / self.encode_mw_s + 1.0 / self.decode_mw_s)
    }
}

/// Runs of each probe; the fastest counts.
const PROBE_RUNS: usize = 5;

fn speed_probe(pipelines: &[Pipeline], name: &str, m: &QuantMatrix) -> Vec<SpeedProbe> {
    let ctx = stream::Ctx { rows: m.rows, cols: m.cols, bits: m.bits };
    let input = vec![stream::Stream::from_matrix(m)];
    let mut out = Vec::new();
    for p in pipelines.iter().filter(|p| SIX.contains(&p.name.as_str())) {
        let (mut enc, mut dec) = (u64::MAX, u64::MAX);
        for _ in 0..PROBE_RUNS {
            match pipeline::apply(p.stages[0].as_ref(), &input, &ctx) {
                Ok((_, e, d)) => {
                    enc = enc.min(e.max(1));
                    dec = dec.min(d.max(1));
                }
                Err(_) => break,
            }
        }
        if enc != u64::MAX {
            let mw = m.len() as f64 / 1e6;
            out.push(SpeedProbe {
                name: p.name.clone(),
                layer: name.to_string(),
                encode_mw_s: mw / (enc as f64 * 1e-9),
                decode_mw_s: mw / (dec as f64 * 1e-9),
            });
        }
    }
    out
}

impl SettingResult {
    /// The named pipeline's result.
    pub fn get(&self, name: &str) -> Option<&PipelineResult> {
        self.pipelines.iter().find(|p| p.name == name)
    }

    /// Ratio of a pipeline that verified on every layer.
    pub fn ratio(&self, name: &str) -> Option<f64> {
        self.get(name).filter(|p| p.failures.is_empty()).map(|p| p.ratio)
    }
}

/// The whole study of one model.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct StudyResult {
    /// Model name.
    pub model: String,
    /// trained / untrained / synthetic / user checkpoint.
    pub provenance: String,
    /// Every setting.
    pub settings: Vec<SettingResult>,
}

/// Prunes and quantizes every layer of `model` (the first `max_layers`, which are all global
/// pruning sees) with the report's own planning ([`crate::prepare`]), then the study's quantizer;
/// returns (name, matrix) and side bits.
pub fn prepare(
    model: &Model,
    sparsity: f64,
    bits: u32,
    cfg: &StudyConfig,
) -> Result<(Vec<(String, QuantMatrix)>, u64), StudyError> {
    let pcfg = PrepareConfig { sparsity, prune: cfg.prune, bits, granularity: cfg.granularity, nm: cfg.nm };
    let layers: Vec<_> = model.layers().take(cfg.max_layers.unwrap_or(usize::MAX)).collect();
    let plans = crate::prepare::plan(&layers, &pcfg)?;
    let mut side = 0u64;
    let mut out = Vec::with_capacity(layers.len());
    for (l, plan) in layers.iter().zip(&plans) {
        let m = match cfg.quantizer {
            Quantizer::Linear => {
                let p = crate::prepare::prepare_rows(l, plan, &pcfg, 0, plan.rows, 0)?;
                side += p.scales.len() as u64 * 32;
                p.matrix
            }
            Quantizer::Kmeans => {
                let (v, _) = crate::prepare::pruned_rows(l, plan, 0, plan.rows, 0)?;
                side += kmeans::codebook_bits(bits);
                kmeans::quantize(&v, l.rows, l.cols, bits).0
            }
        };
        out.push((l.name.clone(), m));
    }
    Ok((out, side))
}

fn density(ms: &[&QuantMatrix]) -> f64 {
    let n: usize = ms.iter().map(|m| m.len()).sum();
    let nz: usize = ms.iter().map(|m| m.nonzeros()).sum();
    if n == 0 {
        0.0
    } else {
        nz as f64 / n as f64
    }
}

fn delta_o(m: &QuantMatrix) -> QuantMatrix {
    let t = QuantMatrix { rows: m.cols, cols: m.rows, bits: m.bits, data: m.column_major() };
    let d = t.delta_along_k();
    QuantMatrix { rows: m.rows, cols: m.cols, bits: m.bits, data: d.column_major() }
}

/// Runs every pipeline on every layer at one setting.
pub fn run_setting(model: &Model, sparsity: f64, bits: u32, cfg: &StudyConfig) -> Result<SettingResult, StudyError> {
    let start = Instant::now();
    let (layers, side) = prepare(model, sparsity, bits, cfg)?;
    let side_per_layer: Vec<u64> = {
        // Side bits per layer, in the same way prepare counted them.
        layers
            .iter()
            .map(|(_, m)| match (cfg.quantizer, cfg.granularity) {
                (Quantizer::Kmeans, _) => kmeans::codebook_bits(bits),
                (Quantizer::Linear, Granularity::PerLayer) => 32,
                (Quantizer::Linear, Granularity::PerChannel) => m.rows as u64 * 32,
            })
            .collect()
    };
    let n = layers.len();
    let results: Mutex<Vec<Option<Vec<pipeline::LayerRun>>>> = Mutex::new(vec![None; n]);
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(layers[i].1.len()));
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..cfg.threads.max(1) {
            scope.spawn(|| loop {
                let j = next.fetch_add(1, Ordering::Relaxed);
                let Some(&i) = order.get(j) else { break };
                let runs = run_layer(&cfg.pipelines, &layers[i].1);
                if let Ok(mut r) = results.lock() {
                    r[i] = Some(runs);
                }
            });
        }
    });
    let results: Vec<Vec<pipeline::LayerRun>> =
        results.into_inner().unwrap_or_default().into_iter().map(Option::unwrap_or_default).collect();
    let matrices: Vec<&QuantMatrix> = layers.iter().map(|(_, m)| m).collect();
    let dk: Vec<QuantMatrix> = matrices.iter().map(|m| m.delta_along_k()).collect();
    let dox: Vec<QuantMatrix> = matrices.iter().map(|m| delta_o(m)).collect();
    let weights: u64 = matrices.iter().map(|m| m.len() as u64).sum();
    let dense_layer: Vec<u64> =
        matrices.iter().zip(&side_per_layer).map(|(m, s)| m.len() as u64 * u64::from(bits) + s).collect();
    let h = |ms: &[&QuantMatrix]| ms.iter().map(|m| order0_bits(&m.data)).sum::<f64>() + side as f64;
    let csc_idx = cfg.pipelines.iter().position(|p| p.name == "csc");
    let mut pipelines = Vec::with_capacity(cfg.pipelines.len());
    for (pi, p) in cfg.pipelines.iter().enumerate() {
        let mut r = PipelineResult {
            name: p.name.clone(),
            bits: 0,
            dense_bits: 0,
            verified_layers: 0,
            failures: Vec::new(),
            ratio: 0.0,
            ratio_vs_csc: None,
            encode_mw_s: 0.0,
            decode_mw_s: 0.0,
            layer_bits: Vec::with_capacity(n),
        };
        let (mut enc, mut dec, mut weights_run) = (0u64, 0u64, 0u64);
        let (mut csc_bits, mut own_bits) = (0u64, 0u64);
        for (li, runs) in results.iter().enumerate() {
            let Some(run) = runs.get(pi) else {
                r.failures.push(LayerFailure { layer: layers[li].0.clone(), error: "not run".into() });
                r.layer_bits.push(None);
                continue;
            };
            match &run.result {
                Ok(b) => {
                    let total = b + side_per_layer[li];
                    r.bits += total;
                    r.dense_bits += dense_layer[li];
                    r.verified_layers += 1;
                    enc += run.encode_ns;
                    dec += run.decode_ns;
                    weights_run += matrices[li].len() as u64;
                    r.layer_bits.push(Some(total));
                    if let Some(Ok(c)) = csc_idx.and_then(|c| runs.get(c)).map(|x| &x.result) {
                        csc_bits += c + side_per_layer[li];
                        own_bits += total;
                    }
                }
                Err(e) => {
                    r.failures.push(LayerFailure { layer: layers[li].0.clone(), error: e.clone() });
                    r.layer_bits.push(None);
                }
            }
        }
        if r.bits > 0 {
            r.ratio = r.dense_bits as f64 / r.bits as f64;
        }
        if csc_idx.is_some() && own_bits > 0 {
            r.ratio_vs_csc = Some(csc_bits as f64 / own_bits as f64);
        }
        let mw = weights_run as f64 / 1e6;
        r.encode_mw_s = if enc > 0 { mw / (enc as f64 * 1e-9) } else { 0.0 };
        r.decode_mw_s = if dec > 0 { mw / (dec as f64 * 1e-9) } else { 0.0 };
        pipelines.push(r);
    }
    let speed = match layers.iter().max_by_key(|(_, m)| m.len()) {
        Some((name, m)) => speed_probe(&cfg.pipelines, name, m),
        None => Vec::new(),
    };
    let dkr: Vec<&QuantMatrix> = dk.iter().collect();
    let dor: Vec<&QuantMatrix> = dox.iter().collect();
    Ok(SettingResult {
        sparsity,
        bits,
        quantizer: cfg.quantizer,
        layers: layers.iter().map(|(n, _)| n.clone()).collect(),
        weights,
        dense_bits: dense_layer.iter().sum(),
        side_bits: side,
        density: density(&matrices),
        density_delta_k: density(&dkr),
        density_delta_o: density(&dor),
        entropy_bits: h(&matrices),
        entropy_delta_k_bits: h(&dkr),
        entropy_delta_o_bits: h(&dor),
        pipelines,
        speed_probe: speed,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// Runs every setting; `progress` hears about each finished one.
pub fn run_study(
    model: &Model,
    cfg: &StudyConfig,
    progress: impl FnMut(&SettingResult),
) -> Result<StudyResult, StudyError> {
    let settings = run_study_shard(model, cfg, crate::shard::Shard::WHOLE, progress)?;
    Ok(StudyResult {
        model: model.name.clone(),
        provenance: model.provenance.label().to_string(),
        settings: settings.into_iter().map(|(_, s)| s).collect(),
    })
}

/// [`run_study`]'s settings j (sparsity-major, in the config's order) with j mod N = I, each with
/// its j.
pub fn run_study_shard(
    model: &Model,
    cfg: &StudyConfig,
    shard: crate::shard::Shard,
    mut progress: impl FnMut(&SettingResult),
) -> Result<Vec<(usize, SettingResult)>, StudyError> {
    let mut settings = Vec::new();
    let all = cfg.sparsities.iter().flat_map(|&s| cfg.bits.iter().map(move |&b| (s, b)));
    for (j, (s, b)) in all.enumerate().filter(|(j, _)| shard.owns(*j)) {
        let r = run_setting(model, s, b, cfg)?;
        progress(&r);
        settings.push((j, r));
    }
    Ok(settings)
}
