//! The study's outputs: per model and setting, the 6 x 6 pair table (ratio vs dense), every
//! pipeline's size, ratio vs dense and vs CSC, throughput and failures, the order-0 entropy
//! bounds, and the verdict (claim (c) by the decoders' measured cost where given, see
//! [`super::verdict::DecoderCost`]); as terminal text, Markdown, CSV and JSON.

use std::fmt::Write as _;
use std::io::{self, Write};

use super::verdict::{delta_effects, differencing_summary, verdict_with, Claim, DecoderCost};
use super::{SettingResult, StudyResult, SIX};

fn ratio_cell(s: &SettingResult, name: &str) -> String {
    match s.get(name) {
        Some(p) if p.failures.is_empty() => format!("{:.2}", p.ratio),
        Some(p) if p.verified_layers > 0 => format!("{:.2}*", p.ratio),
        Some(_) => "fail".into(),
        None => "-".into(),
    }
}

fn heading(study: &StudyResult, s: &SettingResult) -> String {
    format!(
        "{} ({}), sparsity {:.2}, Q={}, {} quantization",
        study.model,
        study.provenance,
        s.sparsity,
        s.bits,
        match s.quantizer {
            super::Quantizer::Linear => "linear",
            super::Quantizer::Kmeans => "k-means",
        }
    )
}

fn summary_lines(s: &SettingResult) -> Vec<String> {
    let mbit = |b: f64| b / 1e6;
    vec![
        format!(
            "{} layers, {:.3} M weights, dense {:.3} Mbit (side info {:.1} kbit: scales or codebooks, in every size)",
            s.layers.len(),
            s.weights as f64 / 1e6,
            mbit(s.dense_bits as f64),
            s.side_bits as f64 / 1e3
        ),
        format!("density: W {:.3}, delta-k {:.3}, delta-o {:.3}", s.density, s.density_delta_k, s.density_delta_o),
        format!(
            "order-0 entropy bound: W {:.3} Mbit ({:.2}x), delta-k {:.3} Mbit ({:.2}x), delta-o {:.3} Mbit ({:.2}x)",
            mbit(s.entropy_bits),
            s.dense_bits as f64 / s.entropy_bits,
            mbit(s.entropy_delta_k_bits),
            s.dense_bits as f64 / s.entropy_delta_k_bits,
            mbit(s.entropy_delta_o_bits),
            s.dense_bits as f64 / s.entropy_delta_o_bits
        ),
    ]
}

/// Rows of the pair table: first stage down, second across; row 0 is each algorithm alone.
fn pair_rows(s: &SettingResult) -> Vec<(String, Vec<String>)> {
    let mut rows = vec![("(alone)".to_string(), SIX.iter().map(|b| ratio_cell(s, b)).collect())];
    for a in SIX {
        rows.push((a.to_string(), SIX.iter().map(|b| ratio_cell(s, &format!("{a}|{b}"))).collect()));
    }
    rows
}

fn status(p: &super::PipelineResult) -> String {
    if p.failures.is_empty() {
        format!("{} ok", p.verified_layers)
    } else {
        format!(
            "{} ok, {} failed: {}",
            p.verified_layers,
            p.failures.len(),
            p.failures.first().map(|f| format!("{}: {}", f.layer, f.error)).unwrap_or_default()
        )
    }
}

/// Every pipeline's cells, best ratio first: name, Mbit, x dense, x csc, encode and decode
/// Mweights/s, status. Both the terminal and the Markdown table render these.
fn pipeline_rows(s: &SettingResult) -> Vec<[String; 7]> {
    let mut ps: Vec<_> = s.pipelines.iter().collect();
    ps.sort_by(|a, b| b.ratio.total_cmp(&a.ratio));
    ps.into_iter()
        .map(|p| {
            [
                p.name.clone(),
                format!("{:.3}", p.bits as f64 / 1e6),
                format!("{:.2}", p.ratio),
                p.ratio_vs_csc.map(|r| format!("{r:.2}")).unwrap_or_else(|| "-".into()),
                format!("{:.1}", p.encode_mw_s),
                format!("{:.1}", p.decode_mw_s),
                status(p),
            ]
        })
        .collect()
}

/// The terminal report; claim (c) judged by `costs` where they cover a setting.
pub fn text(study: &StudyResult, costs: &[DecoderCost]) -> String {
    let mut o = String::new();
    for s in &study.settings {
        let _ = writeln!(o, "\n== {} ({:.1} s)", heading(study, s), s.seconds);
        for l in summary_lines(s) {
            let _ = writeln!(o, "   {l}");
        }
        let _ = writeln!(
            o,
            "\n   ratio vs dense, 36 ordered pairs (row: first stage, column: second; * = some layers failed)"
        );
        let _ = write!(o, "   {:<10}", "");
        for b in SIX {
            let _ = write!(o, "{b:>9}");
        }
        let _ = writeln!(o);
        for (a, cells) in pair_rows(s) {
            let _ = write!(o, "   {a:<10}");
            for c in cells {
                let _ = write!(o, "{c:>9}");
            }
            let _ = writeln!(o);
        }
        let _ = writeln!(
            o,
            "\n   {:<26}{:>10}{:>9}{:>8}{:>10}{:>10}  layers",
            "pipeline", "Mbit", "x dense", "x csc", "enc Mw/s", "dec Mw/s"
        );
        for [name, mbit, x, x_csc, enc, dec, st] in pipeline_rows(s) {
            let _ = writeln!(o, "   {name:<26}{mbit:>10}{x:>9}{x_csc:>8}{enc:>10}{dec:>10}  {st}");
        }
        if !s.speed_probe.is_empty() {
            let list: Vec<String> =
                s.speed_probe.iter().map(|p| format!("{} {:.0}/{:.0}", p.name, p.encode_mw_s, p.decode_mw_s)).collect();
            let layer = &s.speed_probe[0].layer;
            let _ = writeln!(o, "\n   speed alone on {layer}, one thread, enc/dec Mw/s: {}", list.join(", "));
        }
        let effects = delta_effects(s);
        if !effects.is_empty() {
            let list: Vec<String> = effects.iter().map(|(d, b, g)| format!("{d} {g:.2}x vs {b}")).collect();
            let _ = writeln!(o, "\n   differencing: {}", list.join("; "));
        }
    }
    let _ = writeln!(o, "\nVerdict on the study's claims ({}, {}):", study.model, study.provenance);
    for c in verdict_with(study, costs) {
        let _ = writeln!(o, "  ({}) {}: {}", c.id, c.claim, c.summary.to_uppercase());
        let _ = writeln!(o, "      rule: {}", c.rule);
        if let Some(note) = &c.note {
            let _ = writeln!(o, "      {note}");
        }
        for r in &c.rows {
            let mark = match r.holds {
                Some(true) => "yes",
                Some(false) => "NO ",
                None => "n/a",
            };
            let _ = writeln!(o, "      s={:.2} Q={:<2} {mark}  {}", r.sparsity, r.bits, r.detail);
        }
    }
    let _ = writeln!(o, "  Where differencing helps (each delta pipeline vs the same without delta):");
    for line in differencing_summary(study) {
        let _ = writeln!(o, "      {line}");
    }
    o
}

fn md_claims(o: &mut String, claims: &[Claim]) {
    let _ = writeln!(o, "## Verdict\n");
    for c in claims {
        let _ = writeln!(o, "### ({}) {}\n\n**{}.** Rule: {}.\n", c.id, c.claim, c.summary, c.rule);
        if let Some(note) = &c.note {
            let _ = writeln!(o, "Measure: {}.\n", note.replace('|', "\\|"));
        }
        let _ = writeln!(o, "| sparsity | Q | value | holds | measured |\n| --- | --- | --- | --- | --- |");
        for r in &c.rows {
            let _ = writeln!(
                o,
                "| {:.2} | {} | {} | {} | {} |",
                r.sparsity,
                r.bits,
                r.value.map(|v| format!("{v:.2}")).unwrap_or_else(|| "n/a".into()),
                match r.holds {
                    Some(true) => "yes",
                    Some(false) => "no",
                    None => "n/a",
                },
                r.detail.replace('|', "\\|")
            );
        }
        let _ = writeln!(o);
    }
}

/// The Markdown report; claim (c) judged by `costs` where they cover a setting.
pub fn markdown(study: &StudyResult, costs: &[DecoderCost]) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "# Compression study: {} ({})\n", study.model, study.provenance);
    let _ = writeln!(
        o,
        "Every size below is of streams that decoded back bit-exact on that layer. Ratios are dense bits / \
         pipeline bits over all layers (scales or k-means codebooks counted in both); `x csc` is CSC bits / \
         pipeline bits. Throughput is million weights per second (Mw/s) per worker thread, summed stage times; noisy on a shared machine.\n"
    );
    md_claims(&mut o, &verdict_with(study, costs));
    let _ = writeln!(o, "### Where differencing helps\n");
    for line in differencing_summary(study) {
        let _ = writeln!(o, "- {}", line.replace('|', "\\|"));
    }
    let _ = writeln!(o);
    for s in &study.settings {
        let _ = writeln!(o, "## {}\n", heading(study, s));
        for l in summary_lines(s) {
            let _ = writeln!(o, "- {l}");
        }
        let _ = writeln!(o, "\nRatio vs dense of the 36 ordered pairs (row: first stage, column: second):\n");
        let _ = writeln!(o, "| first \\ second | {} |", SIX.join(" | "));
        let _ = writeln!(o, "|{}", " --- |".repeat(SIX.len() + 1));
        for (a, cells) in pair_rows(s) {
            let _ = writeln!(o, "| {a} | {} |", cells.join(" | "));
        }
        let _ = writeln!(o, "\n| pipeline | Mbit | x dense | x csc | enc Mw/s | dec Mw/s | layers |\n| --- | --- | --- | --- | --- | --- | --- |");
        for [name, mbit, x, x_csc, enc, dec, st] in pipeline_rows(s) {
            let st = st.replace('|', "\\|");
            let _ = writeln!(o, "| `{name}` | {mbit} | {x} | {x_csc} | {enc} | {dec} | {st} |");
        }
        let effects = delta_effects(s);
        if !effects.is_empty() {
            let _ = writeln!(o, "\nDifferencing, each delta pipeline against the same pipeline without it:\n");
            for (d, b, g) in effects {
                let _ = writeln!(o, "- `{d}`: {g:.2}x vs `{b}`");
            }
        }
        let _ = writeln!(o);
    }
    o
}

/// CSV: one row per setting and pipeline.
pub fn write_csv(study: &StudyResult, out: impl Write) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record([
        "model",
        "provenance",
        "quantizer",
        "sparsity",
        "bits",
        "pipeline",
        "status",
        "verified_layers",
        "failed_layers",
        "bits_total",
        "dense_bits",
        "ratio_vs_dense",
        "ratio_vs_csc",
        "encode_mw_s",
        "decode_mw_s",
        "density",
        "density_delta_k",
        "entropy_bound_ratio",
        "first_error",
    ])?;
    for s in &study.settings {
        for p in &s.pipelines {
            w.write_record([
                study.model.clone(),
                study.provenance.clone(),
                format!("{:?}", s.quantizer).to_lowercase(),
                format!("{}", s.sparsity),
                s.bits.to_string(),
                p.name.clone(),
                if p.failures.is_empty() { "ok".into() } else { "failed".into() },
                p.verified_layers.to_string(),
                p.failures.len().to_string(),
                p.bits.to_string(),
                p.dense_bits.to_string(),
                format!("{:.4}", p.ratio),
                p.ratio_vs_csc.map(|r| format!("{r:.4}")).unwrap_or_default(),
                format!("{:.2}", p.encode_mw_s),
                format!("{:.2}", p.decode_mw_s),
                format!("{:.4}", s.density),
                format!("{:.4}", s.density_delta_k),
                format!("{:.4}", s.dense_bits as f64 / s.entropy_bits),
                p.failures.first().map(|f| format!("{}: {}", f.layer, f.error)).unwrap_or_default(),
            ])?;
        }
    }
    w.flush()
}

/// JSON: the whole study, the measure claim (c) used per setting (`decoder_cost`) and the verdict.
pub fn write_json(study: &StudyResult, costs: &[DecoderCost], out: impl Write) -> io::Result<()> {
    let v = serde_json::json!({
        "model": study.model,
        "provenance": study.provenance,
        "settings": study.settings,
        "decoder_cost": costs,
        "verdict": verdict_with(study, costs),
    });
    serde_json::to_writer_pretty(out, &v).map_err(io::Error::other)
}
