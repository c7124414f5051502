//! `weightstream cost`: what each decoder costs in hardware at a design point (yosys cells,
//! flip-flops, memory bits, logic levels; iCE40 HX8K LCs, BRAM and Fmax where nextpnr-ice40 is
//! installed), per format, for the front end and optionally the whole top. Results are cached.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Result;
use clap::{Args, ValueEnum};

use super::DesignArgs;
use weightstream::cost::{self, CostOptions, CostRequest, CostRun, Fpga, Unit};
use weightstream::Format;

/// Which units to synthesize.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum What {
    /// The front end (aligner + decoder, registered at its edges): seconds to a minute each.
    FrontEnd,
    /// The whole top (word FIFO, aligner, decoder, PE array): minutes each at n16.
    Top,
    /// Both.
    Both,
}

#[derive(Args)]
pub struct CostArgs {
    #[command(flatten)]
    design: DesignArgs,
    /// Q: weight bits [default: the --rtl-config set's].
    #[arg(long)]
    bits: Option<u32>,
    /// Formats, comma-separated (any of the cosim formats: dense, bitmap, delta-bitmap, csc,
    /// bitmap-huffman, delta-bitmap-huffman, lane-huffman, delta-lane-huffman, nm) or all.
    #[arg(long, value_delimiter = ',', default_value = "all")]
    format: Vec<String>,
    /// What to synthesize: the front end (default), the whole top (slow: minutes per format at
    /// n16, and too big for the HX8K), or both.
    #[arg(long, value_enum, default_value_t = What::FrontEnd)]
    what: What,
    /// Shorthand for --what both.
    #[arg(long)]
    whole_top: bool,
    /// Skip place and route (nextpnr-ice40) even where it is installed.
    #[arg(long)]
    no_fpga: bool,
    /// Synthesize again even when the cache has the result.
    #[arg(long)]
    no_cache: bool,
    /// Synthesis jobs at once.
    #[arg(long, default_value_t = 2)]
    jobs: usize,
    /// Also write the results as JSON.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Also write the results as CSV (one row per unit and format).
    #[arg(long)]
    csv: Option<PathBuf>,
}

/// The formats named by `--format`.
pub fn parse_formats(list: &[String]) -> Result<Vec<Format>> {
    if list.iter().any(|f| f == "all") {
        return Ok(Format::ALL.to_vec());
    }
    let mut v = Vec::new();
    for f in list {
        let f: Format = f.parse().map_err(|e: String| anyhow::anyhow!("--format: {e}"))?;
        if !v.contains(&f) {
            v.push(f);
        }
    }
    Ok(v)
}

pub fn run_cost(args: &CostArgs) -> Result<()> {
    weightstream::outputs::Paths::default()
        .file("--json", args.json.as_deref())
        .file("--csv", args.csv.as_deref())
        .check()?;
    let point = args.design.point(args.bits)?;
    let formats = parse_formats(&args.format)?;
    let what = if args.whole_top { What::Both } else { args.what };
    let units: &[Unit] = match what {
        What::FrontEnd => &[Unit::FrontEnd],
        What::Top => &[Unit::Top],
        What::Both => &[Unit::FrontEnd, Unit::Top],
    };
    let reqs: Vec<CostRequest> =
        units.iter().flat_map(|&unit| formats.iter().map(move |&format| CostRequest { unit, format, point })).collect();
    let opts =
        CostOptions { fpga: !args.no_fpga, jobs: args.jobs.max(1), use_cache: !args.no_cache, ..Default::default() };
    let t0 = Instant::now();
    eprintln!(
        "cost: {} at {} ({point}), {} job(s); cache {}",
        what_name(what),
        point.name(),
        opts.jobs,
        opts.cache_dir.display()
    );
    let results = cost::cost_all(&reqs, &opts, &|line| eprintln!("{line}"));
    let mut runs = Vec::new();
    for r in results {
        runs.push(r?);
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    write!(out, "{}", table(&runs, &point.name()))?;
    writeln!(out, "wall time {:.1} s", t0.elapsed().as_secs_f64())?;
    if let Some(path) = &args.json {
        let v: Vec<_> = runs
            .iter()
            .map(
                |r| serde_json::json!({"cost": r.cost, "from_cache": r.from_cache, "seconds": r.seconds, "dir": r.dir}),
            )
            .collect();
        let text = serde_json::to_string_pretty(&serde_json::json!({"point": point, "results": v}))?;
        weightstream::outputs::write_bytes(path, text.as_bytes())?;
    }
    if let Some(path) = &args.csv {
        weightstream::outputs::write_bytes(path, csv(&runs).as_bytes())?;
    }
    Ok(())
}

fn what_name(w: What) -> &'static str {
    match w {
        What::FrontEnd => "front ends",
        What::Top => "whole tops",
        What::Both => "front ends and whole tops",
    }
}

/// The terminal table: one row per unit and format.
pub fn table(runs: &[CostRun], point: &str) -> String {
    let mut s = format!("hardware cost at {point} (yosys generic synth; iCE40 HX8K ct256 via nextpnr, seed 1)\n");
    let fw = weightstream::Format::name_width();
    s += &format!(
        "{:<10} {:<fw$} {:>8} {:>7} {:>8} {:>7} {:>7} {:>5} {:>8}  {:<10} {}\n",
        "unit", "format", "cells", "FFs", "mem bits", "levels", "LCs", "BRAM", "Fmax MHz", "time", "source"
    );
    for r in runs {
        let c = &r.cost;
        let (lcs, bram, fmax) = match &c.fpga {
            Fpga::Placed { lcs, brams, fmax_mhz, .. } => {
                (cost::thousands(*lcs), brams.to_string(), format!("{fmax_mhz:.1}"))
            }
            Fpga::DoesNotFit { lcs, .. } => (lcs.map_or("-".into(), cost::thousands), "-".into(), "no fit".into()),
            Fpga::Skipped { .. } => ("-".into(), "-".into(), "-".into()),
        };
        let fpga_s = match &c.fpga {
            Fpga::Placed { seconds, .. } | Fpga::DoesNotFit { seconds, .. } => *seconds,
            Fpga::Skipped { .. } => 0.0,
        };
        let time = format!("{:.0}+{:.0} s", c.synth_seconds, fpga_s);
        let source = if r.from_cache { "cache".to_string() } else { format!("synthesized ({:.0} s)", r.seconds) };
        s += &format!(
            "{:<10} {:<fw$} {:>8} {:>7} {:>8} {:>7} {:>7} {:>5} {:>8}  {:<10} {}\n",
            c.unit.name(),
            c.format,
            cost::thousands(c.cells),
            cost::thousands(c.flip_flops),
            cost::thousands(c.memory_bits),
            c.logic_levels,
            lcs,
            bram,
            fmax,
            time,
            source
        );
    }
    let notes: Vec<String> = runs
        .iter()
        .filter(|r| !matches!(r.cost.fpga, Fpga::Placed { .. }))
        .map(|r| format!("  {} {}: {}", r.cost.unit.name(), r.cost.format, cost::fpga_summary(&r.cost.fpga)))
        .collect();
    if !notes.is_empty() {
        s += "not placed:\n";
        s += &notes.join("\n");
        s += "\n";
    }
    s += "levels: longest register-to-register path in 2-input gates (abc -g AND,NAND,OR,NOR,XOR,XNOR,MUX; ltp);\n";
    s += "time: yosys generic + (synth_ice40 + nextpnr) seconds when synthesized; logs in the cache entry\n";
    s
}

/// CSV: one row per unit and format.
pub fn csv(runs: &[CostRun]) -> String {
    let mut s = String::from(
        "point,unit,module,format,cells,flip_flops,memory_bits,logic_levels,fpga,lcs,brams,fmax_mhz,fpga_note,synth_seconds,from_cache\n",
    );
    for r in runs {
        let c = &r.cost;
        let (status, lcs, brams, fmax, note) = match &c.fpga {
            Fpga::Placed { lcs, brams, fmax_mhz, .. } => {
                ("placed", lcs.to_string(), brams.to_string(), format!("{fmax_mhz:.2}"), String::new())
            }
            Fpga::DoesNotFit { reason, lcs, .. } => (
                "does-not-fit",
                lcs.map(|l| l.to_string()).unwrap_or_default(),
                String::new(),
                String::new(),
                reason.clone(),
            ),
            Fpga::Skipped { reason } => ("skipped", String::new(), String::new(), String::new(), reason.clone()),
        };
        s += &format!(
            "{},{},{},{},{},{},{},{},{},{},{},{},\"{}\",{:.1},{}\n",
            c.point,
            c.unit.name(),
            c.module,
            c.format,
            c.cells,
            c.flip_flops,
            c.memory_bits,
            c.logic_levels,
            status,
            lcs,
            brams,
            fmax,
            note.replace('"', "'"),
            c.synth_seconds,
            r.from_cache
        );
    }
    s
}

/// The front-end costs of every format at `point` for `report --cost`: from the cache, or
/// synthesized (2 jobs; progress on stderr unless `quiet`).
pub fn front_end_costs(point: &weightstream::rtl::DesignPoint, quiet: bool) -> Result<Vec<cost::Cost>> {
    let reqs: Vec<CostRequest> =
        Format::ALL.iter().map(|&format| CostRequest { unit: Unit::FrontEnd, format, point: *point }).collect();
    let t0 = Instant::now();
    let progress = |line: &str| {
        if !quiet {
            eprintln!("{line}");
        }
    };
    let mut costs = Vec::new();
    for r in cost::cost_all(&reqs, &CostOptions::default(), &progress) {
        costs.push(r?.cost);
    }
    if !quiet {
        eprintln!(
            "cost: front ends of {} formats at {} in {:.1} s",
            costs.len(),
            point.name(),
            t0.elapsed().as_secs_f64()
        );
    }
    Ok(costs)
}
