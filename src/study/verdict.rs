//! The verdict: each claim (a)-(f) of the original study, the number measured for it at every
//! setting, the rule that decides whether it holds, and where differencing helps and where not.
//!
//! Claim (c) is about cost, and "cost" is judged by the best measure the project has for a setting
//! ([`DecoderCost`], gathered by [`decoder_cost`]): the decoders' hardware cost where `weightstream
//! cost` figures exist at the setting's design point (front-end iCE40 LCs per million weights per
//! second delivered: Fmax x beats/cycle x N), else the golden stream codecs' measured speed
//! (`src/formats`, one thread), else (a study judged without either, e.g. by a library caller) the
//! software speed of the study's own stages. Each row says which measure it used and its numbers.

use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::{SettingResult, StudyResult};
use crate::blocks::{self, BlockedStream};
use crate::cost::{Cost, Fpga, Unit};
use crate::formats::{Format, StreamParams};
use crate::matrix::QuantMatrix;
use crate::rtl::DesignPoint;

/// One setting's measurement for a claim.
#[derive(Debug, Clone, Serialize)]
pub struct ClaimRow {
    /// Sparsity.
    pub sparsity: f64,
    /// Q.
    pub bits: u32,
    /// The headline number (a ratio or gain), if measured.
    pub value: Option<f64>,
    /// What was compared, in words and numbers.
    pub detail: String,
    /// Whether the claim holds at this setting (None: not measured).
    pub holds: Option<bool>,
}

/// One claim.
#[derive(Debug, Clone, Serialize)]
pub struct Claim {
    /// a..f.
    pub id: char,
    /// The claim as the study stated it.
    pub claim: &'static str,
    /// The rule applied to the measurement.
    pub rule: &'static str,
    /// Per setting.
    pub rows: Vec<ClaimRow>,
    /// holds / does not hold / holds at k of n settings / not measured.
    pub summary: String,
    /// How the claim was measured where that differs by setting (claim (c): which cost measure).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// One decoder's hardware figures at a design point (`weightstream cost`, front end on the iCE40
/// HX8K) and the rate it delivers on a setting's layers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecoderHardware {
    /// The stream format.
    pub format: Format,
    /// Logic cells of its front end on the HX8K.
    pub lcs: u64,
    /// Block RAMs of its front end.
    pub brams: u64,
    /// Fmax after routing, MHz.
    pub fmax_mhz: f64,
    /// Beats of the setting's layers (row blocks counted).
    pub beats: u64,
    /// Decode cycles: the ideal decoder's max(beats, words) per layer, summed.
    pub cycles: u64,
    /// N.
    pub lanes: usize,
    /// Fmax x beats/cycle x N, weights per second.
    pub weights_per_s: f64,
    /// LCs per million weights per second delivered: the cost of the decoder's throughput.
    pub lcs_per_mw_s: f64,
}

/// The hardware measure of one setting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HardwareCost {
    /// The design point's name (`n16_q8_b64`, or spelled out).
    pub point: String,
    /// bitmap first, then the entropy-coded formats that have figures.
    pub decoders: Vec<DecoderHardware>,
}

/// A golden codec's measured speed on a setting's layers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GoldenSpeed {
    /// The stream format.
    pub format: Format,
    /// Weights per pass (every layer of the setting).
    pub weights: u64,
    /// Encode, million weights per second (best pass, one thread, wall time).
    pub encode_mw_s: f64,
    /// Decode, million weights per second (best pass).
    pub decode_mw_s: f64,
}

impl GoldenSpeed {
    /// Encode then decode, million weights per second.
    pub fn round_trip_mw_s(&self) -> f64 {
        1.0 / (1.0 / self.encode_mw_s + 1.0 / self.decode_mw_s)
    }
}

/// What claim (c) is judged by at one setting: the hardware measure when there is one, the
/// golden codecs' speed otherwise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecoderCost {
    /// Sparsity of the setting.
    pub sparsity: f64,
    /// Q of the setting.
    pub bits: u32,
    /// Hardware figures, when `weightstream cost` has them at the setting's design point.
    pub hardware: Option<HardwareCost>,
    /// Why there are none, when there are none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_hardware: Option<String>,
    /// The golden codecs' speed (bitmap, then the entropy-coded formats).
    pub golden: Vec<GoldenSpeed>,
}

/// The formats claim (c) weighs against bitmap: the entropy-coded stream formats without
/// differencing (`bitmap-huffman`, and any later `*huffman` format not starting with `delta`).
pub fn entropy_formats() -> Vec<Format> {
    Format::ALL.iter().copied().filter(|f| f.name().ends_with("huffman") && !f.name().starts_with("delta")).collect()
}

/// Beats and ideal decode cycles (max(beats, words) per layer) of `format` on `layers` at `point`.
fn ideal_cycles(layers: &[(String, QuantMatrix)], format: Format, point: &DesignPoint) -> Result<(u64, u64), String> {
    let params = point.stream();
    let (mut beats, mut cycles) = (0u64, 0u64);
    for (name, m) in layers {
        let row_blocks = blocks::row_blocks(m, point.max_rows).map_err(|e| format!("{name}: {e}"))?;
        let s =
            BlockedStream::encode(format, &row_blocks, &params, point.max_rows).map_err(|e| format!("{name}: {e}"))?;
        let (b, w) = (s.beats() as u64, s.bus_words() as u64);
        beats += b;
        cycles += b.max(w);
    }
    Ok((beats, cycles))
}

/// The hardware measure of a setting's `layers` at `point` from front-end `costs` (placed on the
/// HX8K): bitmap and every entropy-coded format with figures. An error says what is missing.
pub fn hardware_cost(
    layers: &[(String, QuantMatrix)],
    point: &DesignPoint,
    costs: &[Cost],
) -> Result<HardwareCost, String> {
    let placed = |format: Format| -> Result<(u64, u64, f64), String> {
        let c = costs
            .iter()
            .find(|c| c.unit == Unit::FrontEnd && c.format == format.name())
            .ok_or_else(|| format!("no `weightstream cost` result for the {format} front end at {}", point.name()))?;
        match &c.fpga {
            Fpga::Placed { lcs, brams, fmax_mhz, .. } if *fmax_mhz > 0.0 => Ok((*lcs, *brams, *fmax_mhz)),
            other => Err(format!(
                "the {format} front end at {} has no Fmax: {}",
                point.name(),
                crate::cost::fpga_summary(other)
            )),
        }
    };
    let mut decoders = Vec::new();
    let mut missing = Vec::new();
    for (i, format) in std::iter::once(Format::Bitmap).chain(entropy_formats()).enumerate() {
        let (lcs, brams, fmax_mhz) = match placed(format) {
            Ok(x) => x,
            Err(e) if i == 0 => return Err(e),
            Err(e) => {
                missing.push(e);
                continue;
            }
        };
        let (beats, cycles) = ideal_cycles(layers, format, point)?;
        let weights_per_s =
            if cycles == 0 { 0.0 } else { fmax_mhz * 1e6 * beats as f64 / cycles as f64 * point.lanes as f64 };
        let lcs_per_mw_s = if weights_per_s > 0.0 { lcs as f64 / (weights_per_s / 1e6) } else { f64::INFINITY };
        decoders.push(DecoderHardware {
            format,
            lcs,
            brams,
            fmax_mhz,
            beats,
            cycles,
            lanes: point.lanes,
            weights_per_s,
            lcs_per_mw_s,
        });
    }
    if decoders.len() < 2 {
        return Err(missing.join("; "));
    }
    Ok(HardwareCost { point: point.name(), decoders })
}

/// Passes of [`golden_speed`]; the fastest counts.
const GOLDEN_PASSES: usize = 3;

/// The golden codecs' speed on a setting's `layers`: bitmap and every entropy-coded format,
/// encode and decode of every layer, one thread, best of 3 passes (wall time).
pub fn golden_speed(layers: &[(String, QuantMatrix)], params: &StreamParams) -> Vec<GoldenSpeed> {
    let weights: u64 = layers.iter().map(|(_, m)| m.len() as u64).sum();
    let mut out = Vec::new();
    for format in std::iter::once(Format::Bitmap).chain(entropy_formats()) {
        let (mut enc, mut dec) = (f64::INFINITY, f64::INFINITY);
        'passes: for _ in 0..GOLDEN_PASSES {
            let t0 = Instant::now();
            let mut streams = Vec::with_capacity(layers.len());
            for (_, m) in layers {
                match format.encode(m, params) {
                    Ok(s) => streams.push(s),
                    Err(_) => break 'passes,
                }
            }
            let e = t0.elapsed().as_secs_f64();
            let t1 = Instant::now();
            for (s, (name, _)) in streams.iter().zip(layers) {
                if s.decode(name).is_err() {
                    break 'passes;
                }
            }
            enc = enc.min(e);
            dec = dec.min(t1.elapsed().as_secs_f64());
        }
        if enc.is_finite() && enc > 0.0 && dec > 0.0 {
            let mw = weights as f64 / 1e6;
            out.push(GoldenSpeed { format, weights, encode_mw_s: mw / enc, decode_mw_s: mw / dec });
        }
    }
    out
}

/// Gathers claim (c)'s measure for one setting: the hardware cost from `costs` at `point` (its Q
/// the setting's) when they have it, and the golden codecs' speed in every case.
pub fn decoder_cost(
    sparsity: f64,
    bits: u32,
    layers: &[(String, QuantMatrix)],
    point: &DesignPoint,
    costs: &[Cost],
) -> DecoderCost {
    let (hardware, no_hardware) = match hardware_cost(layers, point, costs) {
        Ok(h) => (Some(h), None),
        Err(e) => (None, Some(e)),
    };
    DecoderCost { sparsity, bits, hardware, no_hardware, golden: golden_speed(layers, &point.stream()) }
}

const ENTROPY: [&str; 2] = ["huffman", "rans"];
const NON_ENTROPY: [&str; 4] = ["bitmap", "csc", "rle", "zstd"];

fn best<'a>(s: &SettingResult, names: &[&'a str]) -> Option<(&'a str, f64)> {
    names.iter().filter_map(|&n| s.ratio(n).map(|r| (n, r))).max_by(|a, b| a.1.total_cmp(&b.1))
}

/// Encode+decode speed of an algorithm alone, from the single-threaded probe.
fn round_trip_speed(s: &SettingResult, name: &str) -> Option<f64> {
    s.speed_probe.iter().find(|p| p.name == name).map(|p| p.round_trip_mw_s())
}

fn gain(s: &SettingResult, a: &str, b: &str) -> Option<f64> {
    Some(s.ratio(a)? / s.ratio(b)?)
}

fn vs_csc(s: &SettingResult, name: &str) -> Option<f64> {
    s.get(name).filter(|p| p.failures.is_empty()).and_then(|p| p.ratio_vs_csc)
}

fn row(s: &SettingResult, value: Option<f64>, detail: String, holds: Option<bool>) -> ClaimRow {
    ClaimRow { sparsity: s.sparsity, bits: s.bits, value, detail, holds }
}

fn summary(rows: &[ClaimRow]) -> String {
    let measured: Vec<bool> = rows.iter().filter_map(|r| r.holds).collect();
    let yes = measured.iter().filter(|&&h| h).count();
    match (measured.len(), yes) {
        (0, _) => "not measured".into(),
        (n, y) if y == n => format!("holds (all {n} settings)"),
        (n, 0) => format!("does not hold (0 of {n} settings)"),
        (n, y) => format!("holds at {y} of {n} settings"),
    }
}

fn fmt(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.2}")).unwrap_or_else(|| "n/a".into())
}

/// Evaluates every claim on every setting of a study, claim (c) by the study's own stage speeds
/// (see [`verdict_with`]).
pub fn verdict(study: &StudyResult) -> Vec<Claim> {
    verdict_with(study, &[])
}

/// Claim (c) at one setting: by the hardware measure, else the golden codecs' speed, else the
/// study stages' speed (the row says which, with its numbers).
fn claim_c_row(s: &SettingResult, evidence: Option<&DecoderCost>) -> ClaimRow {
    let (Some(rb), Some(rh)) = (s.ratio("bitmap"), s.ratio("huffman")) else {
        return row(s, None, "needs bitmap and huffman".into(), None);
    };
    let ratio = format!("bitmap {rb:.2}x vs huffman {rh:.2}x ({:.0}% of it)", 100.0 * rb / rh);
    let good_ratio = rb / rh >= 0.8;
    if let Some(h) = evidence.and_then(|e| e.hardware.as_ref()) {
        if let (Some(b), Some(e)) = (
            h.decoders.iter().find(|d| d.format == Format::Bitmap),
            h.decoders
                .iter()
                .filter(|d| d.format != Format::Bitmap)
                .min_by(|a, b| a.lcs_per_mw_s.total_cmp(&b.lcs_per_mw_s)),
        ) {
            let x = e.lcs_per_mw_s / b.lcs_per_mw_s;
            let fig = |d: &DecoderHardware| {
                let bram = if d.brams > 0 { format!(" + {} BRAM", d.brams) } else { String::new() };
                format!(
                    "{} {} LCs{bram} at {:.1} MHz x {:.3} beats/cycle x {} = {:.0} M w/s ({:.1} LCs per M w/s)",
                    d.format,
                    d.lcs,
                    d.fmax_mhz,
                    if d.cycles == 0 { 0.0 } else { d.beats as f64 / d.cycles as f64 },
                    d.lanes,
                    d.weights_per_s / 1e6,
                    d.lcs_per_mw_s
                )
            };
            return row(
                s,
                Some(rb / rh),
                format!(
                    "{ratio}; cost measured in hardware at {} (front end, iCE40 HX8K, `weightstream cost`; beats/cycle \
                     of the ideal max(beats, words) model, which favours the entropy decoder): {} vs {}: {:.1}x the \
                     cost per delivered weight, {:.1}x the rate",
                    h.point,
                    fig(b),
                    fig(e),
                    x,
                    if e.weights_per_s > 0.0 { b.weights_per_s / e.weights_per_s } else { f64::INFINITY },
                ),
                Some(good_ratio && x >= 2.0),
            );
        }
    }
    if let Some(ev) = evidence {
        let b = ev.golden.iter().find(|g| g.format == Format::Bitmap);
        let e = ev
            .golden
            .iter()
            .filter(|g| g.format != Format::Bitmap)
            .max_by(|a, b| a.round_trip_mw_s().total_cmp(&b.round_trip_mw_s()));
        if let (Some(b), Some(e)) = (b, e) {
            let x = b.round_trip_mw_s() / e.round_trip_mw_s();
            let why = ev.no_hardware.as_deref().map(|w| format!(" (no hardware figures: {w})")).unwrap_or_default();
            return row(
                s,
                Some(rb / rh),
                format!(
                    "{ratio}; cost measured as the golden codecs' speed{why}: bitmap enc/dec {:.0}/{:.0} M w/s vs {} \
                     {:.0}/{:.0}, encode+decode {:.1}x as fast (every layer, one thread, best of 3)",
                    b.encode_mw_s, b.decode_mw_s, e.format, e.encode_mw_s, e.decode_mw_s, x
                ),
                Some(good_ratio && x >= 2.0),
            );
        }
    }
    match (round_trip_speed(s, "bitmap"), round_trip_speed(s, "huffman")) {
        (Some(tb), Some(th)) => row(
            s,
            Some(rb / rh),
            format!(
                "{ratio}; cost measured as the study stages' software speed (no hardware or golden codec figures): \
                 round trip {tb:.0} vs {th:.0} Mw/s ({:.1}x as fast, largest layer, one thread)",
                tb / th
            ),
            Some(good_ratio && tb / th >= 2.0),
        ),
        _ => row(s, None, format!("{ratio}; no cost measured"), None),
    }
}

/// Which measure claim (c) used, over the settings.
fn claim_c_note(settings: &[SettingResult], costs: &[DecoderCost]) -> String {
    let mut hw = Vec::new();
    let mut golden = Vec::new();
    let mut stages = Vec::new();
    for s in settings {
        let tag = format!("s={:.2} Q={}", s.sparsity, s.bits);
        match costs.iter().find(|c| c.bits == s.bits && (c.sparsity - s.sparsity).abs() < 1e-12) {
            Some(c) if c.hardware.is_some() => hw.push(tag),
            Some(c) if c.golden.len() >= 2 => golden.push(tag),
            _ => stages.push(tag),
        }
    }
    let mut parts = Vec::new();
    if !hw.is_empty() {
        parts.push(format!("hardware cost (LCs per delivered M weights/s) at {}", hw.join(", ")));
    }
    if !golden.is_empty() {
        parts.push(format!("the golden codecs' speed at {}", golden.join(", ")));
    }
    if !stages.is_empty() {
        parts.push(format!("the study stages' software speed at {}", stages.join(", ")));
    }
    format!("cost judged by {}", parts.join("; "))
}

/// Evaluates every claim on every setting of a study; claim (c) by `costs` where they cover a
/// setting ([`decoder_cost`]).
pub fn verdict_with(study: &StudyResult, costs: &[DecoderCost]) -> Vec<Claim> {
    let settings = &study.settings;
    let mut claims = Vec::new();
    let mut push = |id, claim, rule, rows: Vec<ClaimRow>| {
        let summary = summary(&rows);
        claims.push(Claim { id, claim, rule, rows, summary, note: None });
    };

    let rows = settings
        .iter()
        .map(|s| match (best(s, &ENTROPY), best(s, &NON_ENTROPY)) {
            (Some((e, re)), Some((o, ro))) => row(
                s,
                Some(re / ro),
                format!("best entropy coder {e} {re:.2}x vs best other {o} {ro:.2}x"),
                Some(re >= ro),
            ),
            _ => row(s, None, "needs huffman/rans and bitmap/csc/rle/zstd".into(), None),
        })
        .collect();
    push(
        'a',
        "entropy coding compresses best under fine-grained pruning",
        "best of huffman, rans (alone) >= best of bitmap, csc, rle, zstd (alone)",
        rows,
    );

    let rows = settings
        .iter()
        .map(|s| {
            let pairs = ["huffman|huffman", "huffman|rans", "rans|huffman", "rans|rans"];
            match (best(s, &pairs), best(s, &ENTROPY)) {
                (Some((p, rp)), Some((e, re))) => {
                    row(s, Some(rp / re), format!("best stacked {p} {rp:.2}x vs {e} {re:.2}x"), Some(rp / re < 1.05))
                }
                _ => row(s, None, "needs the entropy pairs".into(), None),
            }
        })
        .collect();
    push('b', "stacking two entropy codes barely helps", "best entropy|entropy pair gains < 1.05x over one", rows);

    let rows: Vec<ClaimRow> = settings
        .iter()
        .map(|s| {
            let evidence = costs.iter().find(|c| c.bits == s.bits && (c.sparsity - s.sparsity).abs() < 1e-12);
            claim_c_row(s, evidence)
        })
        .collect();
    let note = claim_c_note(settings, costs);
    push(
        'c',
        "bitmap gets a good ratio at far lower cost than entropy coding",
        "bitmap ratio >= 80% of huffman's, and its decoder at most half the cost of the cheapest entropy-coded one: \
         hardware (front end on the iCE40 HX8K, `weightstream cost`) LCs per M weights/s delivered (Fmax x \
         beats/cycle x N) where measured at the setting's design point; else the golden stream codecs' encode+decode \
         >= 2x as fast (one thread, every layer, best of 3); else the study stages' encode+decode >= 2x as fast \
         (largest layer, one thread, best of 5)",
        rows,
    );
    let rows = settings
        .iter()
        .map(|s| {
            let gb = gain(s, "delta-k|bitmap", "bitmap");
            let gh = gain(s, "delta-k|huffman", "huffman");
            let variants = [
                ("delta-o|bitmap", "bitmap"),
                ("delta-o|huffman", "huffman"),
                ("delta-nz", "bitmap"),
                ("delta-nz|huffman", "huffman"),
            ]
            .iter()
            .filter_map(|(v, b)| gain(s, v, b).map(|g| format!("{v} {g:.2}x")))
            .collect::<Vec<_>>()
            .join(", ");
            let detail = format!(
                "density {:.3} -> {:.3} (delta-k), {:.3} (delta-o); gain delta-k|bitmap {}x, delta-k|huffman {}x; {}",
                s.density,
                s.density_delta_k,
                s.density_delta_o,
                fmt(gb),
                fmt(gh),
                if variants.is_empty() { "other variants not run".into() } else { variants }
            );
            match (gb, gh) {
                (Some(gb), Some(gh)) => {
                    row(s, Some(gb.min(gh)), detail, Some(s.density_delta_k < s.density && gb.min(gh) >= 1.3))
                }
                _ => row(s, None, detail, None),
            }
        })
        .collect();
    push(
        'd',
        "differencing adjacent parameters raises sparsity and improves the ratio by 1.3x or more",
        "delta along k lowers density, and delta-k|bitmap / bitmap and delta-k|huffman / huffman are both >= 1.3",
        rows,
    );

    let rows = settings
        .iter()
        .map(|s| match vs_csc(s, "delta-k|bitmap") {
            Some(v) => row(s, Some(v), format!("delta-k|bitmap is {v:.2}x smaller than csc"), Some(v >= 1.5)),
            None => row(s, None, "needs delta-k|bitmap and csc".into(), None),
        })
        .collect();
    push('e', "versus CSC, delta+bitmap gains 1.5x or more", "csc bits / delta-k|bitmap bits >= 1.5", rows);

    let rows = settings
        .iter()
        .map(|s| match vs_csc(s, "delta-k|huffman") {
            Some(v) => row(s, Some(v), format!("delta-k|huffman is {v:.2}x smaller than csc"), Some(v >= 1.7)),
            None => row(s, None, "needs delta-k|huffman and csc".into(), None),
        })
        .collect();
    push('f', "versus CSC, delta+Huffman gains 1.7x or more", "csc bits / delta-k|huffman bits >= 1.7", rows);
    if let Some(c) = claims.iter_mut().find(|c| c.id == 'c') {
        c.note = Some(note);
    }
    claims
}

/// Where differencing helps: per setting, every delta pipeline against the same pipeline
/// without the delta stage, best first.
pub fn delta_effects(s: &SettingResult) -> Vec<(String, String, f64)> {
    let mut out = Vec::new();
    for p in &s.pipelines {
        let base = if let Some(rest) = p.name.strip_prefix("delta-k|").or_else(|| p.name.strip_prefix("delta-o|")) {
            rest.to_string()
        } else if p.name == "delta-nz" {
            "bitmap".into()
        } else if let Some(rest) = p.name.strip_prefix("delta-nz|") {
            format!("bitmap|{rest}")
        } else {
            continue;
        };
        if let Some(g) = gain(s, &p.name, &base) {
            out.push((p.name.clone(), base, g));
        }
    }
    out.sort_by(|a, b| b.2.total_cmp(&a.2));
    out
}

/// Where differencing helps and where not: per setting, the delta pipelines that beat the same
/// pipeline without the delta (gain > 1.005), else the best one and by how much it loses.
pub fn differencing_summary(study: &StudyResult) -> Vec<String> {
    study
        .settings
        .iter()
        .map(|s| {
            let effects = delta_effects(s);
            let helps: Vec<String> =
                effects.iter().filter(|e| e.2 > 1.005).map(|(d, b, g)| format!("{d} {g:.2}x vs {b}")).collect();
            let head = format!("s={:.2} Q={}: ", s.sparsity, s.bits);
            if !helps.is_empty() {
                format!("{head}helps: {}", helps.join(", "))
            } else if let Some((d, b, g)) = effects.first() {
                format!("{head}helps nowhere; best is {d} at {g:.2}x of {b}")
            } else {
                format!("{head}no delta pipelines run")
            }
        })
        .collect()
}
