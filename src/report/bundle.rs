//! The report bundle (`weightstream report --out DIR`): one directory a hardware designer can hand
//! around. It holds `index.html` (static: no scripts, nothing fetched, images referenced
//! relatively), `report.md` with the same content, `layers.csv` and `report.json` (exactly the
//! `--csv` / `--json` outputs), `energy.csv` (energy and load time per layer and format), the
//! charts as PNG and SVG under `charts/`, `command.txt` (the exact command line) and
//! `manifest.json` (command, parameters, tool version, energy source, file list).
//!
//! With `report --cost` ([`write_bundle_with_cost`]) the bundle also has the decoders' hardware
//! cost (front end per format: cells, flip-flops, logic levels, Fmax; see [`crate::cost`]) and
//! the chart of bandwidth saved against front-end area; without, it says how to add them.
//! Nothing is synthesized here. Every format is timed at its own clock ([`super::rate`]): its
//! front end's Fmax where the costs have it, the user's `--clock-mhz` otherwise; the summary, the
//! load times, the "best format" line and the chart of bandwidth saved against delivered weights
//! per second all use these clocks and say which each format got.
//!
//! The HTML and Markdown are rendered from one list of [`Block`]s so they cannot disagree.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::charts::{self, AreaPoint, WrittenChart};
use super::energy::{self, EnergyParams, EnergyReport};
use super::rate::{self, Clocks, FormatClock};
use super::table::{breakdown_grid, delivered_note, layer_grid, preamble, remainder_line, rtl_grid, Grid};
use super::{CsvReporter, JsonReporter, Report, Reporter};
use crate::cost::{self, Cost, CostOptions, CostRequest, Fpga, Unit};
use crate::formats::Format;
use crate::plot::{self, PlotError};
use crate::rtl::DesignPoint;

/// What the bundle is built from besides the report.
#[derive(Debug, Clone)]
pub struct BundleOptions {
    /// The command line that produced the report (argv, program first).
    pub command: Vec<String>,
    /// Energy and timing parameters.
    pub energy: EnergyParams,
}

/// What was written.
#[derive(Debug, Clone)]
pub struct BundleSummary {
    /// Every file, relative to the bundle directory, in writing order.
    pub files: Vec<PathBuf>,
    /// The charts.
    pub charts: Vec<WrittenChart>,
    /// The energy and load-time estimate that went into the bundle.
    pub energy: EnergyReport,
}

/// The bundle could not be written.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("{path}")]
    Io { path: PathBuf, source: io::Error },
    #[error(transparent)]
    Plot(#[from] PlotError),
    #[error(transparent)]
    Energy(#[from] energy::EnergyError),
    #[error("report has no layers")]
    Empty,
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> BundleError + '_ {
    move |source| BundleError::Io { path: path.to_path_buf(), source }
}

/// One piece of the document.
pub(crate) enum Block {
    /// A heading of level 1..3.
    Heading(u8, String),
    /// A paragraph of plain text.
    Para(String),
    /// A bulleted list.
    List(Vec<String>),
    /// Preformatted text (the command line).
    Code(String),
    /// A table.
    Table(Grid),
    /// A chart: PNG and SVG paths relative to the bundle, title, caption.
    Chart { png: String, svg: String, title: String, caption: String, width: u32 },
}

/// Quotes one argument for a POSIX shell when it needs it.
pub fn shell_quote(arg: &str) -> String {
    if !arg.is_empty() && arg.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c)) {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', "'\\''"))
    }
}

/// The command line as one shell-pasteable string.
pub fn command_line(argv: &[String]) -> String {
    argv.iter().map(|a| shell_quote(a)).collect::<Vec<_>>().join(" ")
}

fn uj(pj: f64) -> String {
    format!("{:.3}", pj / 1e6)
}

fn summary_grid(r: &Report, e: &EnergyReport) -> Grid {
    let rtl = r.totals.formats.iter().any(|f| f.rtl.is_some());
    let mut header: Vec<String> = [
        "format",
        "bus words",
        "saved%",
        "x dense",
        "clock MHz",
        "clock from",
        "beats/cycle",
        "M weights/s",
        "DRAM+SRAM energy uJ",
        "energy saved%",
        "DRAM time us",
        "decode time us",
        "load time us",
        "bound",
        "speedup",
    ]
    .map(String::from)
    .to_vec();
    if rtl {
        header.extend(["RTL cycles", "RTL eff"].map(String::from));
    }
    let rows = r
        .totals
        .formats
        .iter()
        .zip(&e.totals.formats)
        .map(|(f, en)| {
            if !f.applies() {
                let mut row = vec![f.format.name().to_string()];
                row.resize(header.len(), super::table::NOT_APPLICABLE.to_string());
                return row;
            }
            let mut row = vec![
                f.format.name().to_string(),
                f.bus_words.to_string(),
                format!("{:.1}", f.saved_pct),
                format!("{:.2}", f.ratio_vs_dense),
                rate::fmt_mhz(f.delivered.clock_mhz),
                f.delivered.clock_source.label().to_string(),
                format!("{:.3} {}", f.delivered.beats_per_cycle, f.delivered.cycles_source.label()),
                format!("{:.1}", f.delivered.mw_s()),
                uj(en.total_pj),
                format!("{:.1}", en.saved_pct),
                energy::human_us(en.dram_s),
                energy::human_us(en.decode_s),
                energy::human_us(en.load_s),
                en.bound.label().to_string(),
                format!("{:.2}", en.speedup_vs_dense),
            ];
            if rtl {
                match f.rtl {
                    Some(m) => row.extend([m.cycles.to_string(), format!("{:.3}", m.efficiency)]),
                    None => row.extend(["-".to_string(), "-".to_string()]),
                }
            }
            row
        })
        .collect();
    Grid { header, rows }
}

fn energy_grid(e: &EnergyReport, labels: &[String]) -> Grid {
    let mut header = vec!["label".to_string(), "layer".to_string()];
    for f in Format::ALL {
        header.push(format!("{f} nJ"));
    }
    for f in Format::ALL {
        header.push(format!("{f} us"));
    }
    let total_label = "TOTAL".to_string();
    let rows = e
        .layers
        .iter()
        .zip(labels)
        .chain(std::iter::once((&e.totals, &total_label)))
        .map(|(l, label)| {
            let mut row = vec![label.clone(), l.name.clone()];
            let na = super::table::NOT_APPLICABLE.to_string();
            row.extend(
                l.formats.iter().map(|f| if f.applies { format!("{:.1}", f.total_pj / 1e3) } else { na.clone() }),
            );
            row.extend(l.formats.iter().map(|f| {
                if !f.applies {
                    return na.clone();
                }
                let b = match f.bound {
                    energy::Bound::Dram => "D",
                    energy::Bound::Decoder => "C",
                };
                format!("{} {b}", energy::human_us(f.load_s))
            }));
            row
        })
        .collect();
    Grid { header, rows }
}

/// The report's design point as far as the front end is concerned (QA and ACC do not change it).
pub fn front_end_point(r: &Report) -> DesignPoint {
    DesignPoint {
        lanes: r.stream.lanes,
        weight_bits: r.stream.weight_bits,
        bus_bits: r.stream.bus_bits,
        run_bits: r.stream.run_bits,
        count_bits: r.stream.count_bits,
        act_bits: 8,
        acc_bits: 32,
        max_rows: r.max_rows,
    }
}

/// Front-end costs of every format at the report's design point, from the `weightstream cost`
/// cache (formats without a cached result are left out).
pub fn cached_front_end_costs(r: &Report) -> Vec<Cost> {
    let point = front_end_point(r);
    let opts = CostOptions::default();
    Format::ALL
        .iter()
        .filter_map(|&format| cost::cached(&CostRequest { unit: Unit::FrontEnd, format, point }, &opts))
        .map(|run| run.cost)
        .collect()
}

/// The command that fills the cache for the report's design point.
fn cost_command(r: &Report) -> String {
    let p = front_end_point(r);
    format!(
        "weightstream cost --lanes {} --bits {} --bus-bits {} --run-bits {} --count-bits {} --max-rows {}",
        p.lanes, p.weight_bits, p.bus_bits, p.run_bits, p.count_bits, p.max_rows
    )
}

fn cost_grid(r: &Report, costs: &[Cost]) -> Grid {
    let header = ["format", "front-end cells", "flip-flops", "logic levels", "HX8K LCs", "Fmax MHz", "saved%"]
        .map(String::from)
        .to_vec();
    let rows = costs
        .iter()
        .map(|c| {
            let saved = r.totals.formats.iter().find(|f| f.format.name() == c.format).map(|f| f.saved_pct);
            let (lcs, fmax) = match &c.fpga {
                Fpga::Placed { lcs, fmax_mhz, .. } => (lcs.to_string(), format!("{fmax_mhz:.1}")),
                Fpga::DoesNotFit { lcs, .. } => (lcs.map_or("-".into(), |l| l.to_string()), "does not fit".to_string()),
                Fpga::Skipped { .. } => ("-".into(), "-".into()),
            };
            vec![
                c.format.clone(),
                c.cells.to_string(),
                c.flip_flops.to_string(),
                c.logic_levels.to_string(),
                lcs,
                fmax,
                saved.map_or("-".into(), |s| format!("{s:.1}")),
            ]
        })
        .collect();
    Grid { header, rows }
}

fn cost_blocks(r: &Report, costs: &[Cost], chart: Option<&WrittenChart>) -> Vec<Block> {
    let mut doc = vec![Block::Heading(2, "Decoder hardware cost (front end)".into())];
    if costs.is_empty() {
        doc.push(Block::Para(format!(
            "Not in this bundle. Add `--cost` to `report --out`: it takes the front-end costs of this design \
             point from the `weightstream cost` cache, or synthesizes them (yosys and nextpnr-ice40 per format: \
             about 2 minutes at n8_q4_b32 and 4 to 5 minutes at n16_q8_b64 on 2 cores; `{}` fills the cache \
             beforehand).",
            cost_command(r)
        )));
        return doc;
    }
    let c0 = &costs[0];
    doc.push(Block::Para(format!(
        "The front end of each format (bit aligner + decoder with its beat sequencer, registered at every input \
         and output; no word FIFO, no PE array) at {}: yosys generic synthesis (cells incl. flip-flops; logic \
         levels = longest register-to-register path in 2-input gates) and place and route on an iCE40 HX8K \
         (nextpnr-ice40, seed 1; Fmax after routing; it is the clock the summary times each placed format at). \
         saved% = bus words saved against dense over the whole model. Tools: {}. From the `weightstream cost` cache; `weightstream cost --what both` adds the whole \
         top.",
        c0.point, c0.tools
    )));
    doc.push(Block::Table(cost_grid(r, costs)));
    if let Some(c) = chart {
        doc.push(chart_block(c));
    }
    doc
}

fn chart_block(c: &WrittenChart) -> Block {
    Block::Chart {
        png: format!("charts/{}.png", c.name),
        svg: format!("charts/{}.svg", c.name),
        title: c.title.clone(),
        caption: c.caption.clone(),
        width: c.size.0,
    }
}

/// Every format's clock: "dense 78.3 MHz (Fmax), ..., csc 1000 MHz (--clock-mhz)".
fn clock_list(e: &EnergyReport) -> String {
    e.totals
        .formats
        .iter()
        .map(|f| format!("{} {} MHz ({})", f.format, rate::fmt_mhz(f.clock_mhz), f.clock_source.label()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The compressed formats the best one is chosen from: those whose front end has a measured Fmax
/// when any has one (a format timed at an assumed clock would win on the assumption), else all.
fn candidates(e: &EnergyReport) -> Vec<Format> {
    let compressed = e.totals.formats.iter().filter(|f| f.format != Format::Dense);
    let measured: Vec<Format> =
        compressed.clone().filter(|f| f.clock_source == rate::ClockSource::Fmax).map(|f| f.format).collect();
    if measured.is_empty() {
        compressed.map(|f| f.format).collect()
    } else {
        measured
    }
}

/// Load times within this fraction of the shortest count as equal for the best format.
pub const BEST_LOAD_TOLERANCE: f64 = 0.01;

/// The best format of the estimate `e` of report `r`: the compressed format with the shortest
/// model load time, each decoder at its own clock, among those with a measured Fmax when any has
/// one; load times within 1% of the shortest ([`BEST_LOAD_TOLERANCE`]) count as equal, and of
/// those the one with the fewest bus words wins. None without a compressed format.
pub fn best_format(r: &Report, e: &EnergyReport) -> Option<Format> {
    let candidates = candidates(e);
    let timed: Vec<(Format, f64, u64)> = r
        .totals
        .formats
        .iter()
        .zip(&e.totals.formats)
        .filter(|(f, _)| candidates.contains(&f.format) && f.applies())
        .map(|(f, en)| (f.format, en.load_s, f.bus_words))
        .collect();
    let shortest = timed.iter().map(|t| t.1).fold(f64::INFINITY, f64::min);
    timed
        .iter()
        .filter(|t| t.1 <= shortest * (1.0 + BEST_LOAD_TOLERANCE))
        .min_by(|a, b| a.2.cmp(&b.2).then(a.1.total_cmp(&b.1)))
        .map(|t| t.0)
}

fn faster(speedup: f64) -> String {
    if speedup >= 1.0 {
        format!("{speedup:.2}x faster than dense")
    } else if speedup > 0.0 {
        format!("{:.2}x slower than dense", 1.0 / speedup)
    } else {
        "in no measurable time".into()
    }
}

/// The summary's opening paragraphs: the best format by load time at each decoder's clock, the
/// format that saves the most words when it is another, and the clock each format was timed at.
fn summary_blocks(r: &Report, e: &EnergyReport) -> Vec<Block> {
    let p = &e.params;
    let mut out = Vec::new();
    let find = |format: Format| r.totals.formats.iter().zip(&e.totals.formats).find(|(f, _)| f.format == format);
    let dense_pj = e.totals.formats.iter().find(|f| f.format == Format::Dense).map_or(0.0, |f| f.total_pj);
    let Some((f, en)) = best_format(r, e).and_then(find) else {
        return out;
    };
    let d = &f.delivered;
    out.push(Block::Para(format!(
        "{} layers, {} weights, density {:.1}% (after delta {:.1}%). Best format (shortest load time, each decoder at \
         its own clock; within 1% of it, fewest words): {} saves {:.1}% of the bus words against dense ({:.2}x smaller), {:.1}% of the DRAM+SRAM \
         energy ({} uJ vs {} uJ dense), delivers {:.1} M weights/s to the PE array ({} x {:.3} beats/cycle ({}) x \
         {} lanes) and loads {} at {} GB/s ({}-bound).",
        r.layers.len(),
        r.totals.weights,
        100.0 * r.totals.density,
        100.0 * r.totals.delta_density,
        f.format,
        f.saved_pct,
        f.ratio_vs_dense,
        en.saved_pct,
        uj(en.total_pj),
        uj(dense_pj),
        d.mw_s(),
        rate::clock_label(d),
        d.beats_per_cycle,
        d.cycles_source.label(),
        r.stream.lanes,
        faster(en.speedup_vs_dense),
        p.dram_gbps,
        en.bound.label(),
    )));
    let most = r
        .totals
        .formats
        .iter()
        .filter(|f| f.format != Format::Dense && f.applies())
        .max_by(|a, b| a.saved_pct.total_cmp(&b.saved_pct).then(b.bus_words.cmp(&a.bus_words)));
    if let Some((m, men)) = most.filter(|m| m.format != f.format).and_then(|m| find(m.format)) {
        let md = &m.delivered;
        out.push(Block::Para(format!(
            "{} saves the most words ({:.1}%), but its decoder delivers {:.1} M weights/s ({} x {:.3} beats/cycle \
             ({})): it loads {} ({:.2}x the load time of {}).",
            m.format,
            m.saved_pct,
            md.mw_s(),
            rate::clock_label(md),
            md.beats_per_cycle,
            md.cycles_source.label(),
            faster(men.speedup_vs_dense),
            if en.load_s > 0.0 { men.load_s / en.load_s } else { 0.0 },
            f.format,
        )));
    }
    let mut clocks = format!("Clocks: {}.", clock_list(e));
    if rate::mixed_clocks(r) {
        clocks.push_str(
            " Some formats are timed at a measured Fmax and others at the clock you set: compare those with care \
             (`weightstream cost` at this design point, or `report --cost`, measures the rest).",
        );
        let candidates = candidates(e);
        let assumed: Vec<&str> = r
            .totals
            .formats
            .iter()
            .filter(|f| f.format != Format::Dense && !candidates.contains(&f.format))
            .map(|f| f.format.name())
            .collect();
        if !assumed.is_empty() {
            clocks.push_str(&format!(
                " The compressed formats without a measured Fmax ({}) are timed at the {} MHz you set and left out \
                 of the choice of the best format.",
                assumed.join(", "),
                rate::fmt_mhz(p.clock_mhz)
            ));
        }
    }
    out.push(Block::Para(clocks));
    out
}

/// The document: every heading, paragraph, table and chart, in order.
pub(crate) fn document(
    r: &Report,
    e: &EnergyReport,
    charts: &[WrittenChart],
    argv: &[String],
    files: &[String],
    costs: &[Cost],
) -> Vec<Block> {
    let full: Vec<String> = r.layers.iter().map(|l| l.name.clone()).collect();
    let labels = plot::abbreviate_all(&full);
    let p = &e.params;
    let mut doc = vec![Block::Heading(1, format!("Weight stream bandwidth: {}", r.model))];
    doc.push(Block::List(preamble(r)));
    doc.push(Block::Para("Produced by:".into()));
    doc.push(Block::Code(command_line(argv)));

    doc.push(Block::Heading(2, "Summary (all layers)".into()));
    doc.extend(summary_blocks(r, e));
    doc.push(Block::Table(summary_grid(r, e)));
    let measured = r.totals.formats.iter().any(|f| f.rtl.is_some());
    doc.push(Block::Para(format!(
        "Energy: every bit on the wire (payload + metadata + padding, whole bus words) read once from DRAM at {} \
         pJ/bit and once from the on-chip SRAM buffer at {} pJ/bit. Default costs: {}. Load time per layer = \
         max(DRAM time = bits / {} GB/s, decode time = {} / the format's clock); the bound is whichever is larger, \
         and the model's times are sums over layers. A format's clock is its front end's Fmax on the iCE40 HX8K \
         where `weightstream cost` measured it (clock from = Fmax), else the {} MHz you set with --clock-mhz \
         (clock from = --clock-mhz).",
        p.dram_pj_per_bit,
        p.sram_pj_per_bit,
        energy::ENERGY_SOURCE,
        p.dram_gbps,
        if measured { "co-simulated RTL decode cycles" } else { "max(beats, words) cycles (ideal decoder)" },
        rate::fmt_mhz(p.clock_mhz),
    )));
    doc.push(Block::Para(delivered_note(r)));
    if let Some(c) = charts.iter().find(|c| c.name == "delivered") {
        doc.push(chart_block(c));
    }

    doc.push(Block::Heading(2, "Charts".into()));
    for c in charts.iter().filter(|c| c.name != "area" && c.name != "delivered") {
        doc.push(chart_block(c));
    }

    doc.push(Block::Heading(2, "Per layer".into()));
    doc.push(Block::Para(
        "label = the layer's name on the charts' x axes (f = features, c = conv, cls = classifier, .weight dropped)."
            .into(),
    ));
    let mut grid = layer_grid(r);
    grid.header.insert(0, "label".into());
    for (i, row) in grid.rows.iter_mut().enumerate() {
        row.insert(0, labels.get(i).cloned().unwrap_or_default());
    }
    doc.push(Block::Table(grid));
    if let Some(g) = rtl_grid(r) {
        doc.push(Block::Heading(2, "RTL co-simulation".into()));
        doc.push(Block::Table(g));
    }
    doc.extend(cost_blocks(r, costs, charts.iter().find(|c| c.name == "area")));
    doc.push(Block::Heading(2, "Energy and load time per layer".into()));
    doc.push(Block::Para(format!(
        "nJ = DRAM + SRAM energy of the format's bits; us = load time, D = DRAM-bound ({} GB/s), C = decoder-bound \
         (clocks: {}).",
        p.dram_gbps,
        clock_list(e)
    )));
    doc.push(Block::Table(energy_grid(e, &labels)));
    doc.push(Block::Heading(2, "Where the bits go (all layers)".into()));
    doc.push(Block::Table(breakdown_grid(r)));
    doc.push(Block::Para(remainder_line(r)));
    doc.push(Block::Para(
        "Legend: density = nonzero fraction of W; kept w² = share of the float weights' sum of w² that pruning \
         keeps (a cheap proxy, not accuracy); d.delta = of D (difference along k); H = order-0 entropy bound in \
         bits per weight; words = B-bit bus words on the wire; x = dense bits / format bits; saved% = bus words \
         saved against dense. Every size comes from a stream that decoded back bit-exact."
            .into(),
    ));
    doc.push(Block::Heading(2, "Files".into()));
    doc.push(Block::List(files.to_vec()));
    doc
}

fn md_cell(s: &str) -> String {
    s.replace('|', "\\|")
}

/// Renders the document as GitHub-flavoured Markdown.
pub(crate) fn to_markdown(doc: &[Block]) -> String {
    let mut out = String::new();
    for b in doc {
        match b {
            Block::Heading(level, text) => {
                out.push_str(&format!("{} {text}\n\n", "#".repeat(*level as usize)));
            }
            Block::Para(text) => out.push_str(&format!("{text}\n\n")),
            Block::List(items) => {
                for i in items {
                    out.push_str(&format!("- {i}\n"));
                }
                out.push('\n');
            }
            Block::Code(text) => out.push_str(&format!("```sh\n{text}\n```\n\n")),
            Block::Table(g) => {
                out.push_str(&format!("| {} |\n", g.header.iter().map(|h| md_cell(h)).collect::<Vec<_>>().join(" | ")));
                let align: Vec<&str> =
                    (0..g.header.len()).map(|i| if i < 2 && !is_numeric_col(g, i) { ":--" } else { "--:" }).collect();
                out.push_str(&format!("| {} |\n", align.join(" | ")));
                for row in &g.rows {
                    out.push_str(&format!("| {} |\n", row.iter().map(|c| md_cell(c)).collect::<Vec<_>>().join(" | ")));
                }
                out.push('\n');
            }
            Block::Chart { png, svg, title, caption, .. } => {
                out.push_str(&format!("### {title}\n\n![{title}]({png})\n\n{caption} (SVG: [{svg}]({svg}))\n\n"));
            }
        }
    }
    out
}

fn is_numeric_col(g: &Grid, i: usize) -> bool {
    g.rows.iter().all(|r| r.get(i).is_some_and(|c| c.trim().parse::<f64>().is_ok() || c == "-"))
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

const CSS: &str = "body{font-family:'DejaVu Sans',Verdana,sans-serif;margin:24px auto;max-width:1600px;\
color:#222;padding:0 16px}h1{font-size:26px}h2{font-size:21px;border-bottom:1px solid #ccc;padding-bottom:4px;\
margin-top:32px}h3{font-size:17px}table{border-collapse:collapse;font-size:13px;margin:8px 0}\
th,td{border:1px solid #ddd;padding:3px 7px}th{background:#f3f3f3}td.n{text-align:right;\
font-variant-numeric:tabular-nums}tr:nth-child(even) td{background:#fafafa}pre{background:#f6f6f6;\
padding:8px;overflow-x:auto;white-space:pre-wrap;word-break:break-all}figure{margin:12px 0 28px 0}\
figure img{max-width:100%;height:auto;border:1px solid #eee}figcaption{font-size:14px;color:#444;\
max-width:1100px}.scroll{overflow-x:auto}";

/// Renders the document as a static HTML page (inline CSS, no scripts, relative image links).
pub(crate) fn to_html(doc: &[Block]) -> String {
    let title = doc
        .iter()
        .find_map(|b| if let Block::Heading(1, t) = b { Some(t.clone()) } else { None })
        .unwrap_or_else(|| "weightstream report".into());
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>{CSS}</style>\n\
         </head>\n<body>\n",
        esc(&title)
    );
    for b in doc {
        match b {
            Block::Heading(level, text) => out.push_str(&format!("<h{level}>{}</h{level}>\n", esc(text))),
            Block::Para(text) => out.push_str(&format!("<p>{}</p>\n", esc(text))),
            Block::List(items) => {
                out.push_str("<ul>\n");
                for i in items {
                    out.push_str(&format!("<li>{}</li>\n", esc(i)));
                }
                out.push_str("</ul>\n");
            }
            Block::Code(text) => out.push_str(&format!("<pre>{}</pre>\n", esc(text))),
            Block::Table(g) => {
                out.push_str("<div class=\"scroll\"><table>\n<tr>");
                for h in &g.header {
                    out.push_str(&format!("<th>{}</th>", esc(h)));
                }
                out.push_str("</tr>\n");
                let numeric: Vec<bool> = (0..g.header.len()).map(|i| is_numeric_col(g, i)).collect();
                for row in &g.rows {
                    out.push_str("<tr>");
                    for (i, c) in row.iter().enumerate() {
                        let class = if numeric.get(i).copied().unwrap_or(false) { " class=\"n\"" } else { "" };
                        out.push_str(&format!("<td{class}>{}</td>", esc(c)));
                    }
                    out.push_str("</tr>\n");
                }
                out.push_str("</table></div>\n");
            }
            Block::Chart { png, svg, title, caption, width } => {
                out.push_str(&format!(
                    "<figure>\n<h3>{t}</h3>\n<a href=\"{svg}\"><img src=\"{png}\" alt=\"{t}\" width=\"{width}\"></a>\n\
                     <figcaption>{c} <a href=\"{png}\">PNG</a> · <a href=\"{svg}\">SVG</a></figcaption>\n</figure>\n",
                    t = esc(title),
                    c = esc(caption),
                    svg = esc(svg),
                    png = esc(png),
                ));
            }
        }
    }
    out.push_str("</body>\n</html>\n");
    out
}

#[derive(Serialize)]
struct EnergyRow<'a> {
    layer: &'a str,
    format: &'static str,
    bits: u64,
    dram_pj: f64,
    sram_pj: f64,
    total_pj: f64,
    energy_saved_pct: f64,
    dram_us: f64,
    decode_cycles: u64,
    decode_cycles_measured: bool,
    clock_mhz: f64,
    clock_source: &'static str,
    decode_us: f64,
    load_us: f64,
    bound: &'static str,
    speedup_vs_dense: f64,
}

/// Writes energy and load time per layer and format (totals last) as CSV.
pub fn write_energy_csv(e: &EnergyReport, out: &mut dyn Write) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    for l in e.layers.iter().chain(std::iter::once(&e.totals)) {
        for f in &l.formats {
            w.serialize(EnergyRow {
                layer: &l.name,
                format: f.format.name(),
                bits: f.bits,
                dram_pj: f.dram_pj,
                sram_pj: f.sram_pj,
                total_pj: f.total_pj,
                energy_saved_pct: f.saved_pct,
                dram_us: f.dram_s * 1e6,
                decode_cycles: f.decode_cycles,
                decode_cycles_measured: f.measured,
                clock_mhz: f.clock_mhz,
                clock_source: match f.clock_source {
                    rate::ClockSource::Fmax => "fmax",
                    rate::ClockSource::User => "user",
                },
                decode_us: f.decode_s * 1e6,
                load_us: f.load_s * 1e6,
                bound: f.bound.label(),
                speedup_vs_dense: f.speedup_vs_dense,
            })
            .map_err(io::Error::other)?;
        }
    }
    w.flush()
}

#[derive(Serialize)]
struct Manifest<'a> {
    tool: &'a str,
    command: &'a [String],
    command_line: String,
    model: &'a str,
    source: &'a str,
    provenance: &'a str,
    prepare: &'a super::super::prepare::PrepareConfig,
    stream: &'a crate::formats::StreamParams,
    energy: &'a EnergyParams,
    energy_source: &'static str,
    /// The clock each format was timed at (front-end Fmax, or the user's --clock-mhz).
    clocks: Vec<FormatClock>,
    rtl: bool,
    /// Front-end hardware cost per format (from the `weightstream cost` cache), empty when absent.
    cost: &'a [Cost],
    files: &'a [String],
}

/// Writes one file of the bundle atomically (a temporary name, then renamed).
fn write_with(path: &Path, f: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> Result<(), BundleError> {
    crate::outputs::write_atomic(path, f).map_err(|e| match e {
        crate::outputs::OutputError::Io { cause, .. } => BundleError::Io { path: path.to_path_buf(), source: cause },
        e => BundleError::Io { path: path.to_path_buf(), source: io::Error::other(e.to_string()) },
    })
}

/// The files a bundle directory's `manifest.json` lists as its own (relative paths), and the
/// manifest: what `report --out DIR --force` may remove. Nothing when there is no readable one.
pub fn owned_files(dir: &Path) -> Vec<String> {
    let path = dir.join("manifest.json");
    let plain = fs::symlink_metadata(&path).is_ok_and(|m| m.is_file() && m.len() <= 64 << 20);
    let Some(v) = plain
        .then(|| fs::read(&path).ok())
        .flatten()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
    else {
        return Vec::new();
    };
    let Some(files) = v.get("files").and_then(|f| f.as_array()) else {
        return Vec::new();
    };
    let mut out: Vec<String> = files.iter().filter_map(|f| f.as_str().map(String::from)).collect();
    out.push("manifest.json".into());
    out
}

/// Writes the whole bundle into `dir` (created if missing; existing files of the same names are
/// replaced, each atomically: the caller refuses a non-empty directory first, see
/// [`crate::outputs::prepare_dir`] and [`owned_files`]), without the decoders' hardware cost (the bundle says how to add it).
pub fn write_bundle(report: &Report, dir: &Path, opts: &BundleOptions) -> Result<BundleSummary, BundleError> {
    write_bundle_with_cost(report, dir, opts, &[])
}

/// [`write_bundle`] with the front-end cost of the formats (`report --cost`; from
/// [`cached_front_end_costs`] or [`crate::cost::cost_all`]): a cost table and the chart of
/// bandwidth saved against decoder area.
pub fn write_bundle_with_cost(
    report: &Report,
    dir: &Path,
    opts: &BundleOptions,
    costs: &[Cost],
) -> Result<BundleSummary, BundleError> {
    if report.layers.is_empty() {
        return Err(BundleError::Empty);
    }
    opts.energy.validate()?;
    // Every format at its own clock: the front end's Fmax where the costs have it, the user's
    // clock otherwise (whatever clocks the caller's report carried).
    let clocks = Clocks::from_costs(costs, opts.energy.clock_mhz);
    let mut clocked = report.clone();
    rate::apply(&mut clocked, &clocks);
    let report = &clocked;
    let energy = energy::estimate(report, &opts.energy)?;
    let chart_dir = dir.join("charts");
    fs::create_dir_all(&chart_dir).map_err(io_err(&chart_dir))?;
    let mut charts = charts::write_all(report, &energy, &chart_dir)?;
    charts.push(charts::write_delivered_chart(report, &chart_dir)?);
    if !costs.is_empty() {
        let points: Vec<AreaPoint> = costs
            .iter()
            .filter_map(|c| {
                let format: Format = c.format.parse().ok()?;
                let saved = report.totals.formats.iter().find(|f| f.format == format && f.applies())?.saved_pct;
                Some(AreaPoint { format, cells: c.cells, saved_pct: saved, fmax_mhz: c.fpga.fmax_mhz() })
            })
            .collect();
        charts.push(charts::write_area_chart(&points, &costs[0].point, &chart_dir)?);
    }

    let mut files: Vec<String> =
        ["index.html", "report.md", "layers.csv", "report.json", "energy.csv", "command.txt", "manifest.json"]
            .map(String::from)
            .to_vec();
    for c in &charts {
        files.push(format!("charts/{}.png", c.name));
        files.push(format!("charts/{}.svg", c.name));
    }

    write_with(&dir.join("layers.csv"), |w| CsvReporter.write(report, w))?;
    write_with(&dir.join("report.json"), |w| JsonReporter.write(report, w))?;
    write_with(&dir.join("energy.csv"), |w| write_energy_csv(&energy, w))?;
    let cmd = command_line(&opts.command);
    write_with(&dir.join("command.txt"), |w| writeln!(w, "{cmd}"))?;
    let manifest = Manifest {
        tool: &report.tool,
        command: &opts.command,
        command_line: cmd.clone(),
        model: &report.model,
        source: &report.source,
        provenance: &report.provenance,
        prepare: &report.prepare,
        stream: &report.stream,
        energy: &opts.energy,
        energy_source: energy::ENERGY_SOURCE,
        clocks: clocks.all(),
        rtl: report.totals.formats.iter().any(|f| f.rtl.is_some()),
        cost: costs,
        files: &files,
    };
    write_with(&dir.join("manifest.json"), |w| {
        serde_json::to_writer_pretty(&mut *w, &manifest).map_err(io::Error::other)?;
        writeln!(w)
    })?;
    let doc = document(report, &energy, &charts, &opts.command, &files, costs);
    let md = to_markdown(&doc);
    write_with(&dir.join("report.md"), |w| w.write_all(md.as_bytes()))?;
    let html = to_html(&doc);
    write_with(&dir.join("index.html"), |w| w.write_all(html.as_bytes()))?;
    Ok(BundleSummary { files: files.into_iter().map(PathBuf::from).collect(), charts, energy })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(shell_quote("--out"), "--out");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
        assert_eq!(shell_quote(""), "''");
    }

    #[test]
    fn html_escapes_and_has_no_scripts() {
        let doc = vec![
            Block::Heading(1, "a <b>".into()),
            Block::Table(Grid { header: vec!["x".into()], rows: vec![vec!["1".into()]] }),
        ];
        let html = to_html(&doc);
        assert!(html.contains("a &lt;b&gt;"));
        assert!(!html.contains("<script"));
        assert!(html.contains("<td class=\"n\">1</td>"));
    }
}
