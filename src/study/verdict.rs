//! The verdict: each claim (a)-(f) of the original study, the number measured for it at every
//! setting, the rule that decides whether it holds, and where differencing helps and where not.

use serde::Serialize;

use super::{SettingResult, StudyResult};

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

/// Evaluates every claim on every setting of a study.
pub fn verdict(study: &StudyResult) -> Vec<Claim> {
    let settings = &study.settings;
    let mut claims = Vec::new();
    let mut push = |id, claim, rule, rows: Vec<ClaimRow>| {
        let summary = summary(&rows);
        claims.push(Claim { id, claim, rule, rows, summary });
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

    let rows = settings
        .iter()
        .map(|s| match (s.ratio("bitmap"), s.ratio("huffman"), round_trip_speed(s, "bitmap"), round_trip_speed(s, "huffman")) {
            (Some(rb), Some(rh), Some(tb), Some(th)) => row(
                s,
                Some(rb / rh),
                format!(
                    "bitmap {rb:.2}x vs huffman {rh:.2}x ({:.0}% of it); round trip {tb:.0} vs {th:.0} Mw/s ({:.1}x as fast, largest layer, one thread)",
                    100.0 * rb / rh,
                    tb / th
                ),
                Some(rb / rh >= 0.8 && tb / th >= 2.0),
            ),
            _ => row(s, None, "needs bitmap and huffman".into(), None),
        })
        .collect();
    push(
        'c',
        "bitmap gets a good ratio at far lower cost than entropy coding",
        "bitmap ratio >= 80% of huffman's and its encode+decode >= 2x as fast (best of 5 single-threaded runs on the largest layer)",
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
