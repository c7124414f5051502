//! The aligned terminal table, and the rows it shares with the Markdown reporter.

use std::io::{self, Write};

use super::{kbit, per_weight, FormatStats, LayerStats, Report, Reporter};
use crate::formats::Format;

/// Aligned plain-text tables for the terminal.
pub struct TableReporter;

/// A table: header cells and rows of cells; the first column is text, the rest numbers.
pub(crate) struct Grid {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// The header lines every rendering starts with.
pub(crate) fn preamble(r: &Report) -> Vec<String> {
    let s = &r.stream;
    let p = &r.prepare;
    let prune = match p.prune {
        crate::quant::PruneMode::Nm => format!("N:M {} (nm)", p.nm),
        _ => format!("sparsity {} ({})", p.sparsity, kebab(&p.prune)),
    };
    vec![
        format!("model: {} ({}), {} parameters, source {}", r.model, r.provenance, r.parameters, r.source),
        format!(
            "prune: {}, quantize: Q={} ({} scale); stream: N={} lanes, B={} bit bus, CSC R={} P={}, \
             MAX_O={} rows per block",
            prune,
            p.bits,
            kebab(&p.granularity),
            s.lanes,
            s.bus_bits,
            s.run_bits,
            s.count_bits,
            r.max_rows
        ),
        format!("{}", r.tool),
    ]
}

/// A setting's name as the command line spells it (`per-layer`), via its serde name.
fn kebab(v: &impl serde::Serialize) -> String {
    serde_json::to_value(v).ok().and_then(|j| j.as_str().map(String::from)).unwrap_or_default()
}

/// Per layer: shape, row blocks, density, entropy bounds, and per format bus words, ratio and saving
/// (summed over the row blocks).
pub(crate) fn layer_grid(r: &Report) -> Grid {
    let mut header: Vec<String> =
        ["layer", "O x K", "blocks", "weights", "density", "kept w²", "d.delta", "H(W) b/w", "H(D) b/w"]
            .map(String::from)
            .to_vec();
    for f in Format::ALL {
        // Short names keep the terminal table within ~170 columns; CSV/JSON carry full names.
        let short = if f == Format::DeltaBitmap { "delta" } else { f.name() };
        header.push(format!("{short} words"));
        if f != Format::Dense {
            header.push("x".to_string());
            header.push("saved%".to_string());
        }
    }
    let line = |l: &LayerStats| {
        let mut row = vec![
            l.name.clone(),
            if l.rows > 0 { format!("{} x {}", l.rows, l.cols) } else { String::new() },
            l.blocks.to_string(),
            l.weights.to_string(),
            format!("{:.3}", l.density),
            format!("{:.3}", l.magnitude_kept),
            format!("{:.3}", l.delta_density),
            format!("{:.2}", per_weight(l.entropy_bits, l.weights)),
            format!("{:.2}", per_weight(l.delta_entropy_bits, l.weights)),
        ];
        for f in &l.formats {
            row.push(cell(f, f.bus_words.to_string()));
            if f.format != Format::Dense {
                row.push(cell(f, format!("{:.2}", f.ratio_vs_dense)));
                row.push(cell(f, format!("{:.1}", f.saved_pct)));
            }
        }
        row
    };
    let mut rows: Vec<Vec<String>> = r.layers.iter().map(line).collect();
    rows.push(line(&r.totals));
    Grid { header, rows }
}

/// `value`, or "n/a" where the format does not apply.
pub(crate) fn cell(f: &FormatStats, value: String) -> String {
    if f.applies() {
        value
    } else {
        NOT_APPLICABLE.to_string()
    }
}

/// What a cell of a format that does not apply to the layer says.
pub(crate) const NOT_APPLICABLE: &str = "n/a";

/// With `--rtl`: per layer and format the measured cycles and efficiency, and words saved on the
/// wire against the dense top.
pub(crate) fn rtl_grid(r: &Report) -> Option<Grid> {
    r.totals.formats.iter().any(|f| f.rtl.is_some()).then(|| {
        let mut header = vec!["layer".to_string(), "beats".to_string()];
        for f in Format::ALL {
            let short = if f == Format::DeltaBitmap { "delta" } else { f.name() };
            header.push(format!("{short} cycles"));
            header.push("eff".into());
            if f != Format::Dense {
                header.push("rtl saved%".into());
            }
        }
        header.push("mismatches".into());
        let line = |l: &LayerStats| {
            let mut row = vec![l.name.clone(), l.beats.to_string()];
            let mut mism = 0;
            for f in &l.formats {
                let m = f.rtl.unwrap_or_default();
                mism += m.mismatches;
                row.push(cell(f, m.cycles.to_string()));
                row.push(cell(f, format!("{:.3}", m.efficiency)));
                if f.format != Format::Dense {
                    row.push(cell(f, format!("{:.1}", m.saved_pct)));
                }
            }
            row.push(mism.to_string());
            row
        };
        let mut rows: Vec<Vec<String>> = r.layers.iter().map(line).collect();
        rows.push(line(&r.totals));
        Grid { header, rows }
    })
}

/// Model totals per format: where the bits go.
pub(crate) fn breakdown_grid(r: &Report) -> Grid {
    let header =
        ["format", "payload kbit", "metadata kbit", "padding kbit", "total kbit", "bus words", "x dense", "saved%"]
            .map(String::from)
            .to_vec();
    let mut rows: Vec<Vec<String>> = r
        .totals
        .formats
        .iter()
        .map(|f| {
            vec![
                f.format.to_string(),
                cell(f, kbit(f.payload_bits)),
                cell(f, kbit(f.metadata_bits)),
                cell(f, kbit(f.padding_bits)),
                cell(f, kbit(f.total_bits)),
                cell(f, f.bus_words.to_string()),
                cell(f, format!("{:.2}", f.ratio_vs_dense)),
                cell(f, format!("{:.1}", f.saved_pct)),
            ]
        })
        .collect();
    let t = &r.totals;
    rows.push(vec![
        "entropy bound W".into(),
        String::new(),
        String::new(),
        String::new(),
        kbit(t.entropy_bits.ceil() as u64),
        String::new(),
        format!("{:.2}", super::ratio(t.formats[0].total_bits as f64, t.entropy_bits)),
        String::new(),
    ]);
    rows.push(vec![
        "entropy bound D".into(),
        String::new(),
        String::new(),
        String::new(),
        kbit(t.delta_entropy_bits.ceil() as u64),
        String::new(),
        format!("{:.2}", super::ratio(t.formats[0].total_bits as f64, t.delta_entropy_bits)),
        String::new(),
    ]);
    Grid { header, rows }
}

/// Model totals per format: the words each saves beside the weights per second its decoder
/// delivers to the PE array, with the clock and cycles the rate used.
pub(crate) fn delivered_grid(r: &Report) -> Grid {
    let header = [
        "format",
        "bus words",
        "saved%",
        "clock MHz",
        "clock from",
        "decode cycles",
        "cycles from",
        "beats/cycle",
        "M weights/s",
    ]
    .map(String::from)
    .to_vec();
    let rows = r
        .totals
        .formats
        .iter()
        .map(|f| {
            let d = &f.delivered;
            vec![
                f.format.to_string(),
                cell(f, f.bus_words.to_string()),
                cell(f, format!("{:.1}", f.saved_pct)),
                super::rate::fmt_mhz(d.clock_mhz),
                d.clock_source.label().to_string(),
                cell(f, d.cycles.to_string()),
                d.cycles_source.label().to_string(),
                cell(f, format!("{:.3}", d.beats_per_cycle)),
                cell(f, format!("{:.1}", d.mw_s())),
            ]
        })
        .collect();
    Grid { header, rows }
}

/// What the delivered-rate columns mean, with this report's N and clocks.
pub(crate) fn delivered_note(r: &Report) -> String {
    let mut s = format!(
        "delivered weights/s = clock x beats/cycle x N (N = {}). clock from: Fmax = the format's front end (aligner + \
         decoder + beat sequencer) placed on the iCE40 HX8K by `weightstream cost`; --clock-mhz = the clock you set, \
         no Fmax known for that format. cycles from: RTL = co-simulated (--rtl); ideal = max(beats, words) per layer, \
         a decoder that never waits (without --rtl).",
        r.stream.lanes
    );
    if super::rate::mixed_clocks(r) {
        s.push_str(" Careful: some formats are timed at a measured Fmax, others at the clock you set.");
    }
    s
}

/// A line per format that does not apply to some layers: how many, and the first layer's reason.
pub(crate) fn not_applicable_lines(r: &Report) -> Vec<String> {
    r.totals
        .formats
        .iter()
        .filter_map(|t| {
            let why = t.not_applicable.as_ref()?;
            let first = r.layers.iter().find_map(|l| {
                l.formats.iter().find(|f| f.format == t.format)?.not_applicable.as_ref().map(|w| (&l.name, w))
            });
            Some(match first {
                Some((layer, reason)) => format!("{}: n/a: {why} (first: {layer}: {reason})", t.format),
                None => format!("{}: n/a: {why}", t.format),
            })
        })
        .collect()
}

/// The dense remainder line.
pub(crate) fn remainder_line(r: &Report) -> String {
    let m = &r.remainder;
    format!(
        "dense remainder (not compressed: biases, batch-norm): {} tensors, {} values, {} kbit at their stored dtype",
        m.tensors,
        m.values,
        kbit(m.bits)
    )
}

pub(crate) fn write_aligned(g: &Grid, out: &mut dyn Write) -> io::Result<()> {
    let cols = g.header.len();
    let mut width = vec![0usize; cols];
    for row in std::iter::once(&g.header).chain(&g.rows) {
        for (i, cell) in row.iter().enumerate() {
            width[i] = width[i].max(cell.chars().count());
        }
    }
    let render = |row: &Vec<String>| {
        let cells: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(i, c)| if i == 0 { format!("{c:<w$}", w = width[i]) } else { format!("{c:>w$}", w = width[i]) })
            .collect();
        cells.join("  ").trim_end().to_string()
    };
    writeln!(out, "{}", render(&g.header))?;
    writeln!(out, "{}", "-".repeat(width.iter().sum::<usize>() + 2 * (cols - 1)))?;
    for row in &g.rows {
        writeln!(out, "{}", render(row))?;
    }
    Ok(())
}

impl Reporter for TableReporter {
    fn write(&self, r: &Report, out: &mut dyn Write) -> io::Result<()> {
        for line in preamble(r) {
            writeln!(out, "{line}")?;
        }
        writeln!(out)?;
        write_aligned(&layer_grid(r), out)?;
        writeln!(out)?;
        if let Some(g) = rtl_grid(r) {
            writeln!(out, "RTL co-simulation (every beat and output checked against the golden model):")?;
            write_aligned(&g, out)?;
            writeln!(out)?;
        }
        write_aligned(&breakdown_grid(r), out)?;
        for line in not_applicable_lines(r) {
            writeln!(out, "{line}")?;
        }
        writeln!(out)?;
        writeln!(out, "Delivered to the PE array (all layers):")?;
        write_aligned(&delivered_grid(r), out)?;
        writeln!(out, "{}", delivered_note(r))?;
        writeln!(out)?;
        writeln!(out, "{}", remainder_line(r))
    }
}
