//! Design-space sweeps: the cross product of design-point parameters (N, B, R, P, MAX_O, QA,
//! ACC), sparsities and weight bits Q, and per point and format the model's bus words (summed
//! over row blocks, from [`crate::report::build`]), bandwidth saved against dense, the decoder
//! front end's hardware cost at the point (from [`crate::cost`], deduplicated and cached) and,
//! with co-simulation, RTL cycles and mismatches. Also the Pareto front (max saved, min cells)
//! and the CSV / JSON / text renderings. The chart lives in [`chart`].

pub mod chart;

use std::fmt::Write as _;

use serde::Serialize;

use crate::cost::{self, CostError, CostOptions, CostRequest, Unit};
use crate::formats::{Format, NmPattern};
use crate::model::Model;
use crate::prepare::{self, PrepareConfig};
use crate::quant::{Granularity, PruneMode, QuantError};
use crate::report::{self, BuildError, RtlMeasure};
use crate::rtl::{DesignPoint, DesignPointError};
use crate::shard::Shard;

/// Why a sweep could not run.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// A list flag has no values.
    #[error("--{0}: needs at least one value")]
    EmptyList(&'static str),
    /// A list value is not a number of the right kind.
    #[error("--{flag}: {value:?} is not {what}")]
    BadValue { flag: &'static str, value: String, what: &'static str },
    /// A sparsity outside 0..1.
    #[error("--sparsity {0}: must be in 0..1")]
    BadSparsity(f64),
    /// A design point of the cross product is outside the RTL's ranges.
    #[error("{0}")]
    Point(#[from] DesignPointError),
    /// Pruning / quantization failed.
    #[error("sparsity {sparsity} Q={bits}: {source}")]
    Prepare { sparsity: f64, bits: u32, source: QuantError },
    /// Encoding, verifying or co-simulating a point failed.
    #[error("{point} sparsity {sparsity}: {source}")]
    Build { point: String, sparsity: f64, source: Box<BuildError> },
    /// Synthesis of a front end failed.
    #[error("cost of {format} front end at {point}: {source}")]
    Cost { format: Format, point: String, source: Box<CostError> },
}

/// Parses a comma list of values (`"8,16, 32"`) for flag `flag`; empty items are errors.
pub fn parse_list<T: std::str::FromStr>(
    flag: &'static str,
    what: &'static str,
    items: &[String],
) -> Result<Vec<T>, SweepError> {
    let mut out = Vec::new();
    for item in items {
        for v in item.split(',') {
            let v = v.trim();
            out.push(v.parse().map_err(|_| SweepError::BadValue { flag, value: v.to_string(), what })?);
        }
    }
    if out.is_empty() {
        return Err(SweepError::EmptyList(flag));
    }
    Ok(out)
}

/// What to sweep: every list is one axis of the cross product.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct SweepSpec {
    /// N values.
    pub lanes: Vec<usize>,
    /// B values.
    pub bus_bits: Vec<u32>,
    /// R values.
    pub run_bits: Vec<u32>,
    /// P values.
    pub count_bits: Vec<u32>,
    /// MAX_O values.
    pub max_rows: Vec<usize>,
    /// QA values.
    pub act_bits: Vec<u32>,
    /// ACC values.
    pub acc_bits: Vec<u32>,
    /// Sparsities.
    pub sparsities: Vec<f64>,
    /// Q values.
    pub bits: Vec<u32>,
    /// Pruning mode.
    pub prune: PruneMode,
    /// The pattern of N:M pruning (2:4 when absent: files written before it).
    #[serde(default)]
    pub nm: NmPattern,
    /// Quantization granularity.
    pub granularity: Granularity,
}

impl Default for SweepSpec {
    fn default() -> Self {
        let d = DesignPoint::default();
        SweepSpec {
            lanes: vec![d.lanes],
            bus_bits: vec![d.bus_bits],
            run_bits: vec![d.run_bits],
            count_bits: vec![d.count_bits],
            max_rows: vec![d.max_rows],
            act_bits: vec![d.act_bits],
            acc_bits: vec![d.acc_bits],
            sparsities: vec![0.7],
            bits: vec![d.weight_bits],
            prune: PruneMode::PerLayer,
            nm: NmPattern::default(),
            granularity: Granularity::PerLayer,
        }
    }
}

fn dedup<T: PartialEq + Copy>(v: &[T]) -> Vec<T> {
    let mut out: Vec<T> = Vec::new();
    for &x in v {
        if !out.contains(&x) {
            out.push(x);
        }
    }
    out
}

impl SweepSpec {
    /// Every design point of the cross product (Q from `bits`), each validated, in the order
    /// Q, N, B, R, P, MAX_O, QA, ACC (the last varies fastest). The first invalid one is the error.
    pub fn points(&self) -> Result<Vec<DesignPoint>, SweepError> {
        let lists: [(&'static str, usize); 9] = [
            ("lanes", self.lanes.len()),
            ("bus-bits", self.bus_bits.len()),
            ("run-bits", self.run_bits.len()),
            ("count-bits", self.count_bits.len()),
            ("max-rows", self.max_rows.len()),
            ("act-bits", self.act_bits.len()),
            ("acc-bits", self.acc_bits.len()),
            ("sparsity", self.sparsities.len()),
            ("bits", self.bits.len()),
        ];
        if let Some((flag, _)) = lists.iter().find(|(_, n)| *n == 0) {
            return Err(SweepError::EmptyList(flag));
        }
        if let Some(&s) = self.sparsities.iter().find(|s| !(0.0..1.0).contains(*s)) {
            return Err(SweepError::BadSparsity(s));
        }
        let mut out = Vec::new();
        for &q in &dedup(&self.bits) {
            for &n in &dedup(&self.lanes) {
                for &b in &dedup(&self.bus_bits) {
                    for &r in &dedup(&self.run_bits) {
                        for &p in &dedup(&self.count_bits) {
                            for &o in &dedup(&self.max_rows) {
                                for &qa in &dedup(&self.act_bits) {
                                    for &acc in &dedup(&self.acc_bits) {
                                        let point = DesignPoint {
                                            lanes: n,
                                            weight_bits: q,
                                            bus_bits: b,
                                            run_bits: r,
                                            count_bits: p,
                                            act_bits: qa,
                                            acc_bits: acc,
                                            max_rows: o,
                                        };
                                        point.validate()?;
                                        out.push(point);
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        Ok(out)
    }

    /// The sparsities, duplicates dropped, in the given order.
    pub fn sparsity_values(&self) -> Vec<f64> {
        let mut out: Vec<f64> = Vec::new();
        for &s in &self.sparsities {
            if !out.iter().any(|x| x.to_bits() == s.to_bits()) {
                out.push(s);
            }
        }
        out
    }
}

/// The decoder front end's cost at a point (None fields: not synthesized or not placed).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct FrontEndCost {
    /// yosys generic cells.
    pub cells: u64,
    /// Flip-flops (bits).
    pub flip_flops: u64,
    /// Two-input gate levels of the longest register-to-register path.
    pub logic_levels: u32,
    /// Fmax on the iCE40 HX8K when placed.
    pub fmax_mhz: Option<f64>,
}

/// One row of a sweep: a design point at a sparsity, one format, over the whole model.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct SweepRow {
    /// Model name.
    pub model: String,
    /// Pruning sparsity.
    pub sparsity: f64,
    /// Q.
    pub bits: u32,
    /// N.
    pub lanes: usize,
    /// B.
    pub bus_bits: u32,
    /// R.
    pub run_bits: u32,
    /// P.
    pub count_bits: u32,
    /// QA.
    pub act_bits: u32,
    /// ACC.
    pub acc_bits: u32,
    /// MAX_O.
    pub max_rows: usize,
    /// The design point's name (`n16_q8_b64` or spelled out).
    pub point: String,
    /// The format.
    pub format: Format,
    /// Bus words over the model (row blocks counted).
    pub words: u64,
    /// Dense bus words over the model at the same point.
    pub dense_words: u64,
    /// Words saved against dense, percent.
    pub saved_pct: f64,
    /// Row blocks over the model.
    pub blocks: usize,
    /// Front-end cost, when synthesized.
    pub cost: Option<FrontEndCost>,
    /// RTL decode cycles over the model, when co-simulated.
    pub rtl_cycles: Option<u64>,
    /// RTL mismatches over the model, when co-simulated (must be 0).
    pub rtl_mismatches: Option<u64>,
    /// On the Pareto front (max saved, min cells) of its sparsity and Q.
    pub pareto: bool,
}

/// Per-layer RTL measurement hook of [`measure`]: the point and the layer, the measurements per
/// format in [`Format::ALL`] order.
pub type RtlHook<'a> = &'a mut dyn FnMut(&DesignPoint, &prepare::PreparedLayer) -> Result<Vec<RtlMeasure>, BuildError>;

/// Measures bandwidth (and, when `rtl` is given, RTL cycles) of every point at every sparsity.
/// Each (sparsity, Q) is pruned and quantized once; each point is one [`report::build`]. `rtl`
/// is called per layer with the point (see [`report::build`]'s `on_layer`); `progress` hears one
/// line per point.
pub fn measure(
    model: &Model,
    spec: &SweepSpec,
    points: &[DesignPoint],
    rtl: Option<RtlHook<'_>>,
    progress: &mut dyn FnMut(&str),
) -> Result<Vec<SweepRow>, SweepError> {
    Ok(measure_shard(model, spec, points, rtl, progress, Shard::WHOLE)?
        .into_iter()
        .flat_map(|(_, rows)| rows)
        .collect())
}

/// One setting of a sweep: a design point at a sparsity (Q is the point's).
#[derive(Debug, Clone, Copy)]
struct Setting<'a> {
    sparsity: f64,
    bits: u32,
    point: &'a DesignPoint,
}

/// The sweep's settings in [`measure`]'s order (setting j of a sharded sweep): sparsity-major,
/// then Q in the order of `--bits`, then the points at that Q in their order.
fn settings<'a>(spec: &SweepSpec, points: &'a [DesignPoint]) -> Vec<Setting<'a>> {
    let mut out = Vec::new();
    for &sparsity in &spec.sparsity_values() {
        for &bits in &dedup(&spec.bits) {
            out.extend(points.iter().filter(|p| p.weight_bits == bits).map(|point| Setting { sparsity, bits, point }));
        }
    }
    out
}

/// The design points whose settings `shard` measures, each once, in the order it first meets
/// them: what a co-simulated shard needs models for.
pub fn shard_points<'a>(spec: &SweepSpec, points: &'a [DesignPoint], shard: Shard) -> Vec<&'a DesignPoint> {
    let mut out: Vec<&DesignPoint> = Vec::new();
    for (j, s) in settings(spec, points).into_iter().enumerate() {
        if shard.owns(j) && !out.contains(&s.point) {
            out.push(s.point);
        }
    }
    out
}

/// [`measure`] of one shard's share: the (sparsity, Q, point) settings j, in [`measure`]'s order,
/// with j mod N = I; each with its j and its rows (one per format).
pub fn measure_shard(
    model: &Model,
    spec: &SweepSpec,
    points: &[DesignPoint],
    mut rtl: Option<RtlHook<'_>>,
    progress: &mut dyn FnMut(&str),
    shard: Shard,
) -> Result<Vec<(usize, Vec<SweepRow>)>, SweepError> {
    let mut items = Vec::new();
    let mine: Vec<(usize, Setting<'_>)> =
        settings(spec, points).into_iter().enumerate().filter(|(j, _)| shard.owns(*j)).collect();
    // Each (sparsity, Q) is a run of consecutive settings: prepared once.
    for run in mine.chunk_by(|(_, a), (_, b)| a.sparsity.to_bits() == b.sparsity.to_bits() && a.bits == b.bits) {
        let (sparsity, q) = (run[0].1.sparsity, run[0].1.bits);
        let cfg = PrepareConfig { sparsity, prune: spec.prune, bits: q, granularity: spec.granularity, nm: spec.nm };
        let layers =
            prepare::prepare(model, &cfg).map_err(|source| SweepError::Prepare { sparsity, bits: q, source })?;
        for &(k, Setting { point, .. }) in run {
            let mut rows = Vec::new();
            let t0 = std::time::Instant::now();
            // --nm is the nm format's pattern as well as N:M pruning's.
            let params = crate::formats::StreamParams { nm: spec.nm, ..point.stream() };
            let rep = report::build(model, &layers, &cfg, &params, point.max_rows, |layer, _| match rtl {
                Some(ref mut f) => f(point, layer),
                None => Ok(Vec::new()),
            })
            .map_err(|e| SweepError::Build { point: point.name(), sparsity, source: Box::new(e) })?;
            let t = &rep.totals;
            let dense_words = t.formats.iter().find(|f| f.format == Format::Dense).map_or(0, |f| f.bus_words);
            // A format that does not apply to some layer (nm on a model that is not n:m) has no
            // row at this setting: its model total would be of part of the model.
            for f in t.formats.iter().filter(|f| f.applies()) {
                rows.push(SweepRow {
                    model: model.name.clone(),
                    sparsity,
                    bits: q,
                    lanes: point.lanes,
                    bus_bits: point.bus_bits,
                    run_bits: point.run_bits,
                    count_bits: point.count_bits,
                    act_bits: point.act_bits,
                    acc_bits: point.acc_bits,
                    max_rows: point.max_rows,
                    point: point.name(),
                    format: f.format,
                    words: f.bus_words,
                    dense_words,
                    saved_pct: f.saved_pct,
                    blocks: t.blocks,
                    cost: None,
                    rtl_cycles: f.rtl.map(|m| m.cycles),
                    rtl_mismatches: f.rtl.map(|m| m.mismatches),
                    pareto: false,
                });
            }
            progress(&format!(
                "sweep: sparsity {sparsity} {} ({}): {} layers in {:.1} s",
                point.name(),
                point,
                rep.layers.len(),
                t0.elapsed().as_secs_f64()
            ));
            items.push((k, rows));
        }
    }
    Ok(items)
}

/// The front-end cost requests of the points, one per format and distinct synthesized
/// parameter set (QA and ACC do not size the front end, so points differing only there, and
/// every sparsity, share one request).
pub fn cost_requests(points: &[DesignPoint]) -> Vec<CostRequest> {
    let mut out: Vec<CostRequest> = Vec::new();
    for &point in points {
        for &format in &Format::ALL {
            let r = CostRequest { unit: Unit::FrontEnd, format, point }.canonical();
            if !out.contains(&r) {
                out.push(r);
            }
        }
    }
    out
}

/// Synthesizes (or reads from the cache) every distinct front end the rows need and fills
/// their `cost`; with `cache_only`, nothing is synthesized and front ends not in the cache stay
/// without a cost. Returns how many came from the cache and how many were synthesized.
pub fn attach_costs(
    rows: &mut [SweepRow],
    points: &[DesignPoint],
    opts: &CostOptions,
    cache_only: bool,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<(usize, usize), SweepError> {
    let reqs = cost_requests(points);
    let results: Vec<Option<Result<cost::CostRun, CostError>>> = if cache_only {
        reqs.iter().map(|r| cost::cached(r, opts).map(Ok)).collect()
    } else {
        cost::cost_all(&reqs, opts, progress).into_iter().map(Some).collect()
    };
    let mut costs = Vec::new();
    let (mut cached, mut synthesized) = (0, 0);
    for (req, r) in reqs.iter().zip(results) {
        let Some(r) = r else { continue };
        let run =
            r.map_err(|e| SweepError::Cost { format: req.format, point: req.point.name(), source: Box::new(e) })?;
        if run.from_cache {
            cached += 1;
        } else {
            synthesized += 1;
        }
        let c = &run.cost;
        costs.push((
            *req,
            FrontEndCost {
                cells: c.cells,
                flip_flops: c.flip_flops,
                logic_levels: c.logic_levels,
                fmax_mhz: c.fpga.fmax_mhz(),
            },
        ));
    }
    for row in rows.iter_mut() {
        let point = row_point(row);
        let want = CostRequest { unit: Unit::FrontEnd, format: row.format, point }.canonical();
        row.cost = costs.iter().find(|(r, _)| *r == want).map(|(_, c)| *c);
    }
    Ok((cached, synthesized))
}

/// The design point of a row.
pub fn row_point(row: &SweepRow) -> DesignPoint {
    DesignPoint {
        lanes: row.lanes,
        weight_bits: row.bits,
        bus_bits: row.bus_bits,
        run_bits: row.run_bits,
        count_bits: row.count_bits,
        act_bits: row.act_bits,
        acc_bits: row.acc_bits,
        max_rows: row.max_rows,
    }
}

/// Pareto front of (cost, value) pairs, minimizing cost and maximizing value: `true` where no
/// other pair is at most as costly and at least as valuable with one of the two strictly better.
/// Equal pairs are both on the front; non-finite pairs never are.
pub fn pareto_front(pairs: &[(f64, f64)]) -> Vec<bool> {
    pairs
        .iter()
        .map(|&(c, v)| {
            c.is_finite() && v.is_finite() && !pairs.iter().any(|&(c2, v2)| c2 <= c && v2 >= v && (c2 < c || v2 > v))
        })
        .collect()
}

/// Marks each costed row on the Pareto front (min cells, max saved %) of its (sparsity, Q)
/// group; rows without a cost are never on it.
pub fn mark_pareto(rows: &mut [SweepRow]) {
    let mut groups: Vec<(u64, u32)> = Vec::new();
    for r in rows.iter() {
        let k = (r.sparsity.to_bits(), r.bits);
        if !groups.contains(&k) {
            groups.push(k);
        }
    }
    for (s, q) in groups {
        let idx: Vec<usize> = (0..rows.len())
            .filter(|&i| rows[i].sparsity.to_bits() == s && rows[i].bits == q && rows[i].cost.is_some())
            .collect();
        let pairs: Vec<(f64, f64)> =
            idx.iter().map(|&i| (rows[i].cost.map_or(f64::NAN, |c| c.cells as f64), rows[i].saved_pct)).collect();
        let front = pareto_front(&pairs);
        for (&i, on) in idx.iter().zip(front) {
            rows[i].pareto = on;
        }
    }
}

/// CSV header.
pub const CSV_HEADER: &str = "model,sparsity,bits,N,B,R,P,QA,ACC,MAX_O,point,format,words,dense_words,saved_pct,\
                              blocks,cells,flip_flops,logic_levels,fmax_mhz,rtl_cycles,rtl_mismatches,pareto";

fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or(String::new(), |x| x.to_string())
}

/// The rows as CSV, one line per point and format.
pub fn csv(rows: &[SweepRow]) -> String {
    let mut s = String::from(CSV_HEADER);
    s.push('\n');
    for r in rows {
        let c = r.cost;
        let _ = writeln!(
            s,
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{:.3},{},{},{},{},{},{},{},{}",
            r.model,
            r.sparsity,
            r.bits,
            r.lanes,
            r.bus_bits,
            r.run_bits,
            r.count_bits,
            r.act_bits,
            r.acc_bits,
            r.max_rows,
            r.point,
            r.format,
            r.words,
            r.dense_words,
            r.saved_pct,
            r.blocks,
            opt(c.map(|c| c.cells)),
            opt(c.map(|c| c.flip_flops)),
            opt(c.map(|c| c.logic_levels)),
            opt(c.and_then(|c| c.fmax_mhz).map(|f| format!("{f:.1}"))),
            opt(r.rtl_cycles),
            opt(r.rtl_mismatches),
            r.pareto
        );
    }
    s
}

/// The rows as a terminal table.
pub fn table(rows: &[SweepRow]) -> String {
    let rtl = rows.iter().any(|r| r.rtl_cycles.is_some());
    let fw = Format::name_width();
    let mut s = format!(
        "{:>5} {:>2} {:>3} {:>4} {:>2} {:>3} {:>6} {:<fw$} {:>10} {:>7} {:>6} {:>7} {:>6} {:>4} {:>6}",
        "spars",
        "Q",
        "N",
        "B",
        "R",
        "P",
        "MAX_O",
        "format",
        "words",
        "saved%",
        "blocks",
        "cells",
        "FFs",
        "lvls",
        "Fmax"
    );
    if rtl {
        s += &format!(" {:>11} {:>5}", "rtl_cycles", "mism");
    }
    s += "  pareto\n";
    for r in rows {
        let c = r.cost;
        s += &format!(
            "{:>5} {:>2} {:>3} {:>4} {:>2} {:>3} {:>6} {:<fw$} {:>10} {:>7.2} {:>6} {:>7} {:>6} {:>4} {:>6}",
            r.sparsity,
            r.bits,
            r.lanes,
            r.bus_bits,
            r.run_bits,
            r.count_bits,
            r.max_rows,
            r.format.name(),
            r.words,
            r.saved_pct,
            r.blocks,
            c.map_or("-".into(), |c| c.cells.to_string()),
            c.map_or("-".into(), |c| c.flip_flops.to_string()),
            c.map_or("-".into(), |c| c.logic_levels.to_string()),
            c.and_then(|c| c.fmax_mhz).map_or("-".into(), |f| format!("{f:.1}")),
        );
        if rtl {
            s += &format!(" {:>11} {:>5}", opt(r.rtl_cycles), opt(r.rtl_mismatches));
        }
        s += if r.pareto { "  *\n" } else { "\n" };
    }
    s
}

/// The Pareto points per (sparsity, Q), cheapest first, as text.
pub fn pareto_text(rows: &[SweepRow]) -> String {
    let fw = Format::name_width();
    let mut groups: Vec<(f64, u32)> = Vec::new();
    for r in rows.iter().filter(|r| r.pareto) {
        if !groups.iter().any(|g| g.0.to_bits() == r.sparsity.to_bits() && g.1 == r.bits) {
            groups.push((r.sparsity, r.bits));
        }
    }
    let mut s = String::new();
    for (sp, q) in groups {
        let mut front: Vec<&SweepRow> =
            rows.iter().filter(|r| r.pareto && r.sparsity.to_bits() == sp.to_bits() && r.bits == q).collect();
        front.sort_by_key(|r| r.cost.map_or(0, |c| c.cells));
        let _ = writeln!(s, "Pareto front, sparsity {sp} Q={q} (min front-end cells, max saved %):");
        for r in front {
            let c = r.cost.unwrap_or_default();
            let _ = writeln!(
                s,
                "  {:<fw$} N={:<2} B={:<3} MAX_O={:<5} {:>6} cells {:>3} levels {:>8}  saved {:>6.2}%  ({} words)",
                r.format.name(),
                r.lanes,
                r.bus_bits,
                r.max_rows,
                c.cells,
                c.logic_levels,
                c.fmax_mhz.map_or("no Fmax".to_string(), |f| format!("{f:.1} MHz")),
                r.saved_pct,
                r.words
            );
        }
    }
    s
}

/// The sweep as JSON: what was swept and the rows.
#[derive(Debug, Serialize)]
pub struct SweepJson<'a> {
    /// `weightstream <version>`.
    pub tool: String,
    /// Model name.
    pub model: &'a str,
    /// Where it came from.
    pub source: &'a str,
    /// trained / untrained / synthetic / user checkpoint.
    pub provenance: &'a str,
    /// Pruning mode.
    pub prune: PruneMode,
    /// Quantization granularity.
    pub granularity: Granularity,
    /// One per point and format.
    pub rows: &'a [SweepRow],
}

impl<'a> SweepJson<'a> {
    /// The JSON document of a sweep of `model`.
    pub fn new(model: &'a Model, spec: &SweepSpec, rows: &'a [SweepRow]) -> Self {
        SweepJson::of(&model.name, &model.source, model.provenance.label(), spec, rows)
    }

    /// The JSON document of a sweep of the model named so (a merged sharded sweep's).
    pub fn of(model: &'a str, source: &'a str, provenance: &'a str, spec: &SweepSpec, rows: &'a [SweepRow]) -> Self {
        SweepJson {
            tool: format!("weightstream {}", env!("CARGO_PKG_VERSION")),
            model,
            source,
            provenance,
            prune: spec.prune,
            granularity: spec.granularity,
            rows,
        }
    }
}
