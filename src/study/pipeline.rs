//! Pipelines: chains of stages written `delta-k|bitmap|huffman`, run on one layer with every
//! stage's decode checked bit-exact against that stage's input before any size is reported.
//! Prefixes shared by several pipelines (`bitmap` in `bitmap|huffman` and `bitmap|zstd`) are
//! encoded, decoded and verified once per layer: a chain verified stage by stage decodes back to
//! the layer, so sharing them loses no checking.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

use super::external::ExternalCodec;
use super::stages::{parse_stage, Stage};
use super::stream::{total_bits, Ctx, Stream};
use super::StudyError;
use crate::matrix::QuantMatrix;

/// A chain of stages.
#[derive(Clone)]
pub struct Pipeline {
    /// Canonical name: stage names joined by `|`.
    pub name: String,
    /// The stages, first applied first.
    pub stages: Vec<Arc<dyn Stage>>,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name)
    }
}

impl Pipeline {
    /// Parses `stage|stage|...`; names of `externals` are stages too.
    pub fn parse(spec: &str, externals: &[ExternalCodec]) -> Result<Pipeline, StudyError> {
        let mut stages: Vec<Arc<dyn Stage>> = Vec::new();
        for part in spec.split('|').map(str::trim) {
            if part.is_empty() {
                return Err(StudyError::BadPipeline(format!("{spec:?}: empty stage")));
            }
            match externals.iter().find(|c| c.name == part) {
                Some(c) => stages.push(Arc::new(c.clone())),
                None => stages.push(Arc::from(parse_stage(part)?)),
            }
        }
        let name = stages.iter().map(|s| s.name()).collect::<Vec<_>>().join("|");
        Ok(Pipeline { name, stages })
    }

    /// Encodes `m`, decodes it back, checks it, and returns the encoded streams.
    pub fn run(&self, m: &QuantMatrix) -> Result<Vec<Stream>, StudyError> {
        let ctx = Ctx { rows: m.rows, cols: m.cols, bits: m.bits };
        let mut data = vec![Stream::from_matrix(m)];
        for stage in &self.stages {
            let (next, _, _) = apply(stage.as_ref(), &data, &ctx)?;
            data = next;
        }
        Ok(data)
    }
}

/// Encodes every stream with `stage`, decodes the result and checks it equals `input`.
/// Returns the encoded streams and the encode and decode times in ns.
pub fn apply(stage: &dyn Stage, input: &[Stream], ctx: &Ctx) -> Result<(Vec<Stream>, u64, u64), StudyError> {
    let t0 = Instant::now();
    let mut out = Vec::with_capacity(input.len() * stage.arity());
    for s in input {
        let parts = stage.encode(s, ctx)?;
        if parts.len() != stage.arity() {
            return Err(StudyError::corrupt(format!("{}: produced {} streams", stage.name(), parts.len())));
        }
        out.extend(parts);
    }
    let enc = t0.elapsed().as_nanos() as u64;
    for s in &out {
        s.validate()?;
        if s.shaped && s.symbols.len() != ctx.rows * ctx.cols {
            return Err(StudyError::corrupt(format!(
                "{}: stream {} is marked as the layer but is not",
                stage.name(),
                s.name
            )));
        }
    }
    let t1 = Instant::now();
    let mut back = Vec::with_capacity(input.len());
    for chunk in out.chunks(stage.arity()) {
        back.push(stage.decode(chunk.to_vec(), ctx)?);
    }
    let dec = t1.elapsed().as_nanos() as u64;
    if back.len() != input.len() {
        return Err(StudyError::Mismatch { stage: stage.name(), detail: "stream count differs".into() });
    }
    for (a, b) in input.iter().zip(&back) {
        if a != b {
            let detail = if a.width != b.width || a.shaped != b.shaped || a.symbols.len() != b.symbols.len() {
                format!("stream {}: width/shape/length differ", a.name)
            } else {
                let i = a.symbols.iter().zip(&b.symbols).position(|(x, y)| x != y).unwrap_or(0);
                format!("stream {}: symbol {i} decoded differently", a.name)
            };
            return Err(StudyError::Mismatch { stage: stage.name(), detail });
        }
    }
    Ok((out, enc, dec))
}

/// One pipeline on one layer: its verified size and times, or why it failed.
#[derive(Debug, Clone)]
pub struct LayerRun {
    /// Bits of the encoded streams (framing and tables included), once verified.
    pub result: Result<u64, String>,
    /// Encode time, ns (all stages).
    pub encode_ns: u64,
    /// Decode time, ns (all stages).
    pub decode_ns: u64,
}

/// Runs every pipeline on one layer, sharing verified prefixes.
pub fn run_layer(pipelines: &[Pipeline], m: &QuantMatrix) -> Vec<LayerRun> {
    let ctx = Ctx { rows: m.rows, cols: m.cols, bits: m.bits };
    let names: Vec<Vec<String>> = pipelines.iter().map(|p| p.stages.iter().map(|s| s.name()).collect()).collect();
    // Proper prefixes worth keeping.
    let mut keep: HashSet<String> = HashSet::new();
    for n in &names {
        for i in 1..n.len() {
            keep.insert(n[..i].join("|"));
        }
    }
    type Node = Result<(Arc<Vec<Stream>>, u64, u64), String>;
    let mut cache: HashMap<String, Node> = HashMap::new();
    let root = Arc::new(vec![Stream::from_matrix(m)]);
    pipelines
        .iter()
        .zip(&names)
        .map(|(p, n)| {
            let mut cur: Node = Ok((root.clone(), 0, 0));
            let mut start = 0;
            // Longest cached prefix.
            for i in (1..n.len()).rev() {
                if let Some(node) = cache.get(&n[..i].join("|")) {
                    cur = node.clone();
                    start = i;
                    break;
                }
            }
            for i in start..p.stages.len() {
                cur = match cur {
                    Ok((data, e, d)) => match apply(p.stages[i].as_ref(), &data, &ctx) {
                        Ok((out, e2, d2)) => Ok((Arc::new(out), e + e2, d + d2)),
                        Err(err) => Err(format!("{}: {err}", p.stages[i].name())),
                    },
                    Err(msg) => Err(msg),
                };
                let key = n[..=i].join("|");
                if keep.contains(&key) && !cache.contains_key(&key) {
                    cache.insert(key, cur.clone());
                }
            }
            match cur {
                Ok((data, e, d)) => LayerRun { result: Ok(total_bits(&data)), encode_ns: e, decode_ns: d },
                Err(msg) => LayerRun { result: Err(msg), encode_ns: 0, decode_ns: 0 },
            }
        })
        .collect()
}
