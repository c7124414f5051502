//! Comparing two `report.json` files (`weightstream diff A B`): per layer, matched by name, and
//! per format the bus words, bandwidth saved and, when both reports were co-simulated, RTL decode
//! cycles of A and B and their deltas; layers only in one report are listed, differing settings
//! (pruning, quantization, stream parameters, model) are named. Reads only the fields it
//! compares, so reports written by other versions of the tool still compare.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Why two reports could not be compared.
#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    #[error("{path}: cannot read")]
    Read { path: PathBuf, source: io::Error },
    #[error("{path}: not a weightstream report.json: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{path}: layer {layer} lists format {format} twice")]
    DuplicateFormat { path: PathBuf, layer: String, format: String },
    #[error("{path}: layer {layer} has no dense entry to compare savings against")]
    NoDense { path: PathBuf, layer: String },
    #[error("the reports have no layer in common ({a} has {na} layers, {b} has {nb})")]
    NoCommonLayers { a: PathBuf, na: usize, b: PathBuf, nb: usize },
    #[error("layer {layer}: formats differ ({a_formats} vs {b_formats})")]
    FormatMismatch { layer: String, a_formats: String, b_formats: String },
}

#[derive(Debug, Clone, Deserialize)]
struct FileRtl {
    cycles: u64,
}

#[derive(Debug, Clone, Deserialize)]
struct FileFormat {
    format: String,
    bus_words: u64,
    saved_pct: f64,
    #[serde(default)]
    rtl: Option<FileRtl>,
}

#[derive(Debug, Clone, Deserialize)]
struct FileLayer {
    name: String,
    formats: Vec<FileFormat>,
}

#[derive(Debug, Clone, Deserialize)]
struct FileReport {
    #[serde(default)]
    tool: String,
    model: String,
    #[serde(default)]
    prepare: serde_json::Value,
    #[serde(default)]
    stream: serde_json::Value,
    layers: Vec<FileLayer>,
}

/// A report.json as far as the diff needs it.
#[derive(Debug, Clone)]
pub struct LoadedReport {
    /// Where it came from.
    pub path: PathBuf,
    report: FileReport,
}

impl LoadedReport {
    /// Model name.
    pub fn model(&self) -> &str {
        &self.report.model
    }
    /// Layer count.
    pub fn layer_count(&self) -> usize {
        self.report.layers.len()
    }
}

/// Reads and checks one report.json.
pub fn load(path: &Path) -> Result<LoadedReport, DiffError> {
    let text = std::fs::read_to_string(path).map_err(|source| DiffError::Read { path: path.into(), source })?;
    let report: FileReport =
        serde_json::from_str(&text).map_err(|e| DiffError::Parse { path: path.into(), message: e.to_string() })?;
    if report.layers.is_empty() {
        return Err(DiffError::Parse { path: path.into(), message: "no layers".into() });
    }
    for l in &report.layers {
        for (i, f) in l.formats.iter().enumerate() {
            if l.formats[..i].iter().any(|g| g.format == f.format) {
                return Err(DiffError::DuplicateFormat {
                    path: path.into(),
                    layer: l.name.clone(),
                    format: f.format.clone(),
                });
            }
        }
        if !l.formats.iter().any(|f| f.format == "dense") {
            return Err(DiffError::NoDense { path: path.into(), layer: l.name.clone() });
        }
    }
    Ok(LoadedReport { path: path.into(), report })
}

/// One format of one layer in A and B.
#[derive(Debug, Clone, Serialize)]
pub struct FormatDiff {
    /// Format name.
    pub format: String,
    /// Bus words in A.
    pub words_a: u64,
    /// Bus words in B.
    pub words_b: u64,
    /// words_b - words_a.
    pub words_delta: i64,
    /// Bandwidth saved against dense in A, percent.
    pub saved_a: f64,
    /// In B.
    pub saved_b: f64,
    /// saved_b - saved_a, percentage points.
    pub saved_delta_pp: f64,
    /// RTL decode cycles in A and B, when both have them.
    pub cycles: Option<(u64, u64)>,
}

impl FormatDiff {
    /// Relative change of words, percent of A (0 when A is 0).
    pub fn words_delta_pct(&self) -> f64 {
        if self.words_a == 0 {
            0.0
        } else {
            100.0 * (self.words_b as f64 - self.words_a as f64) / self.words_a as f64
        }
    }
}

/// One layer present in both reports.
#[derive(Debug, Clone, Serialize)]
pub struct LayerDiff {
    /// Layer name (`TOTAL` for the sums over common layers).
    pub name: String,
    /// Per format, in A's order.
    pub formats: Vec<FormatDiff>,
}

/// The comparison.
#[derive(Debug, Clone, Serialize)]
pub struct ReportDiff {
    /// A's path.
    pub a: PathBuf,
    /// B's path.
    pub b: PathBuf,
    /// Settings that differ, as "key: a -> b".
    pub settings: Vec<String>,
    /// Layers in both, in A's order.
    pub layers: Vec<LayerDiff>,
    /// Sums over the common layers (saved % recomputed from the sums).
    pub totals: LayerDiff,
    /// Layers only in A.
    pub only_a: Vec<String>,
    /// Layers only in B.
    pub only_b: Vec<String>,
}

fn flatten(prefix: &str, v: &serde_json::Value, out: &mut BTreeMap<String, String>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, v) in m {
                flatten(&format!("{prefix}.{k}"), v, out);
            }
        }
        serde_json::Value::Null => {}
        other => {
            out.insert(prefix.to_string(), other.to_string());
        }
    }
}

fn settings(r: &FileReport) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    m.insert("model".into(), r.model.clone());
    m.insert("tool".into(), r.tool.clone());
    flatten("prepare", &r.prepare, &mut m);
    flatten("stream", &r.stream, &mut m);
    m
}

fn format_names(l: &FileLayer) -> Vec<&str> {
    let mut v: Vec<&str> = l.formats.iter().map(|f| f.format.as_str()).collect();
    v.sort_unstable();
    v
}

/// Compares A against B.
pub fn diff(a: &LoadedReport, b: &LoadedReport) -> Result<ReportDiff, DiffError> {
    let (sa, sb) = (settings(&a.report), settings(&b.report));
    let mut changed = Vec::new();
    for key in sa.keys().chain(sb.keys().filter(|k| !sa.contains_key(*k))) {
        let (va, vb) = (sa.get(key), sb.get(key));
        if va != vb {
            let show = |v: Option<&String>| v.cloned().unwrap_or_else(|| "(absent)".into());
            changed.push(format!("{key}: {} -> {}", show(va), show(vb)));
        }
    }
    let by_name_b: BTreeMap<&str, &FileLayer> = b.report.layers.iter().map(|l| (l.name.as_str(), l)).collect();
    let names_a: std::collections::BTreeSet<&str> = a.report.layers.iter().map(|l| l.name.as_str()).collect();
    let mut layers = Vec::new();
    let mut only_a = Vec::new();
    for la in &a.report.layers {
        let Some(lb) = by_name_b.get(la.name.as_str()) else {
            only_a.push(la.name.clone());
            continue;
        };
        if format_names(la) != format_names(lb) {
            return Err(DiffError::FormatMismatch {
                layer: la.name.clone(),
                a_formats: format_names(la).join(","),
                b_formats: format_names(lb).join(","),
            });
        }
        let formats = la
            .formats
            .iter()
            .filter_map(|fa| {
                let fb = lb.formats.iter().find(|f| f.format == fa.format)?;
                Some(FormatDiff {
                    format: fa.format.clone(),
                    words_a: fa.bus_words,
                    words_b: fb.bus_words,
                    words_delta: delta(fa.bus_words, fb.bus_words),
                    saved_a: fa.saved_pct,
                    saved_b: fb.saved_pct,
                    saved_delta_pp: fb.saved_pct - fa.saved_pct,
                    cycles: fa.rtl.as_ref().zip(fb.rtl.as_ref()).map(|(x, y)| (x.cycles, y.cycles)),
                })
            })
            .collect();
        layers.push(LayerDiff { name: la.name.clone(), formats });
    }
    let only_b: Vec<String> =
        b.report.layers.iter().filter(|l| !names_a.contains(l.name.as_str())).map(|l| l.name.clone()).collect();
    if layers.is_empty() {
        return Err(DiffError::NoCommonLayers {
            a: a.path.clone(),
            na: a.report.layers.len(),
            b: b.path.clone(),
            nb: b.report.layers.len(),
        });
    }
    let totals = totals(&layers);
    Ok(ReportDiff { a: a.path.clone(), b: b.path.clone(), settings: changed, layers, totals, only_a, only_b })
}

/// b - a, saturated to the i64 range (word counts near 2^64 do not wrap).
fn delta(a: u64, b: u64) -> i64 {
    (i128::from(b) - i128::from(a)).clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

fn totals(layers: &[LayerDiff]) -> LayerDiff {
    let mut formats: Vec<FormatDiff> = layers[0]
        .formats
        .iter()
        .map(|f| FormatDiff {
            format: f.format.clone(),
            words_a: 0,
            words_b: 0,
            words_delta: 0,
            saved_a: 0.0,
            saved_b: 0.0,
            saved_delta_pp: 0.0,
            cycles: Some((0, 0)),
        })
        .collect();
    for l in layers {
        for t in &mut formats {
            if let Some(f) = l.formats.iter().find(|f| f.format == t.format) {
                t.words_a = t.words_a.saturating_add(f.words_a);
                t.words_b = t.words_b.saturating_add(f.words_b);
                t.cycles = t.cycles.zip(f.cycles).map(|((a, b), (x, y))| (a.saturating_add(x), b.saturating_add(y)));
            }
        }
    }
    let dense = formats.iter().find(|f| f.format == "dense").map(|f| (f.words_a, f.words_b));
    for t in &mut formats {
        t.words_delta = delta(t.words_a, t.words_b);
        if let Some((da, db)) = dense {
            let saved = |w: u64, d: u64| if d == 0 { 0.0 } else { 100.0 * (1.0 - w as f64 / d as f64) };
            t.saved_a = saved(t.words_a, da);
            t.saved_b = saved(t.words_b, db);
            t.saved_delta_pp = t.saved_b - t.saved_a;
        }
    }
    LayerDiff { name: "TOTAL".into(), formats }
}

/// Writes the comparison as an aligned text table.
pub fn write_text(d: &ReportDiff, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "A: {}\nB: {}", d.a.display(), d.b.display())?;
    if d.settings.is_empty() {
        writeln!(out, "settings: identical")?;
    } else {
        writeln!(out, "settings that differ: {}", d.settings.join("; "))?;
    }
    let rtl = d.layers.iter().any(|l| l.formats.iter().any(|f| f.cycles.is_some()));
    let name_w = d.layers.iter().map(|l| l.name.len()).max().unwrap_or(5).max(5);
    let fw = crate::formats::Format::name_width();
    write!(
        out,
        "{:<name_w$} {:<fw$} {:>9} {:>9} {:>9} {:>8} {:>8} {:>8} {:>8}",
        "layer", "format", "words A", "words B", "d.words", "d.words%", "saved%A", "saved%B", "d.pp"
    )?;
    if rtl {
        write!(out, " {:>9} {:>9} {:>9}", "cycles A", "cycles B", "d.cycles")?;
    }
    writeln!(out)?;
    for l in d.layers.iter().chain(std::iter::once(&d.totals)) {
        for f in &l.formats {
            write!(
                out,
                "{:<name_w$} {:<fw$} {:>9} {:>9} {:>+9} {:>+8.1} {:>8.1} {:>8.1} {:>+8.1}",
                l.name,
                f.format,
                f.words_a,
                f.words_b,
                f.words_delta,
                f.words_delta_pct(),
                f.saved_a,
                f.saved_b,
                f.saved_delta_pp
            )?;
            if rtl {
                match f.cycles {
                    Some((a, b)) => write!(out, " {:>9} {:>9} {:>+9}", a, b, i128::from(b) - i128::from(a))?,
                    None => write!(out, " {:>9} {:>9} {:>9}", "-", "-", "-")?,
                }
            }
            writeln!(out)?;
        }
    }
    if !d.only_a.is_empty() {
        writeln!(out, "only in A ({}): {}", d.only_a.len(), d.only_a.join(", "))?;
    }
    if !d.only_b.is_empty() {
        writeln!(out, "only in B ({}): {}", d.only_b.len(), d.only_b.join(", "))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(json: &str) -> LoadedReport {
        LoadedReport { path: "x.json".into(), report: serde_json::from_str(json).unwrap() }
    }

    const A: &str = r#"{"model":"m","prepare":{"sparsity":0.5},"layers":[
        {"name":"a","formats":[{"format":"dense","bus_words":100,"saved_pct":0.0},
                               {"format":"csc","bus_words":60,"saved_pct":40.0}]},
        {"name":"only_a","formats":[{"format":"dense","bus_words":1,"saved_pct":0.0}]}]}"#;
    const B: &str = r#"{"model":"m","prepare":{"sparsity":0.9},"layers":[
        {"name":"a","formats":[{"format":"dense","bus_words":100,"saved_pct":0.0},
                               {"format":"csc","bus_words":20,"saved_pct":80.0}]},
        {"name":"only_b","formats":[{"format":"dense","bus_words":1,"saved_pct":0.0}]}]}"#;

    #[test]
    fn deltas_and_unmatched_layers() {
        let d = diff(&report(A), &report(B)).unwrap();
        assert_eq!(d.layers.len(), 1);
        let csc = &d.layers[0].formats[1];
        assert_eq!((csc.words_a, csc.words_b, csc.words_delta), (60, 20, -40));
        assert_eq!(csc.saved_delta_pp, 40.0);
        assert_eq!(d.only_a, vec!["only_a"]);
        assert_eq!(d.only_b, vec!["only_b"]);
        assert_eq!(d.settings, vec!["prepare.sparsity: 0.5 -> 0.9"]);
        assert_eq!(d.totals.formats[1].saved_b, 80.0);
    }

    #[test]
    fn huge_word_counts_do_not_wrap() {
        let max = u64::MAX.to_string();
        let a = A.replace("\"bus_words\":100", &format!("\"bus_words\":{max}"));
        let b = B.replace("\"bus_words\":20", "\"bus_words\":0");
        let d = diff(&report(&a), &report(&b)).unwrap();
        assert_eq!(d.layers[0].formats[0].words_delta, i64::MIN);
        assert_eq!(d.layers[0].formats[1].words_delta, -60);
        assert_eq!(delta(0, u64::MAX), i64::MAX);
        assert!(d.layers[0].formats[0].words_delta_pct() <= 0.0);
    }

    #[test]
    fn format_mismatch_is_an_error() {
        let b = B.replace("\"csc\"", "\"bitmap\"");
        assert!(matches!(diff(&report(A), &report(&b)), Err(DiffError::FormatMismatch { .. })));
    }
}
