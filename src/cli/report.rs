//! `weightstream report`: the per-layer bandwidth report, its files, emitted streams, exported
//! matrices, the `--out` bundle (charts, HTML, energy and load time) and, with `--rtl`,
//! co-simulated measurements; also the progress bar shared with `cosim`.

use std::io::{self, IsTerminal};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use super::{load, DesignArgs, ModelArgs, PrepareArgs};
use weightstream::emit::StreamEmitter;
use weightstream::model::safetensors_io::{write_i32_safetensors, IntTensor};
use weightstream::outputs;
use weightstream::prepare::{prepare, PreparedLayer};
use weightstream::report::bundle::{owned_files as owned_bundle_files, write_bundle_with_cost, BundleOptions};
use weightstream::report::energy::{self, EnergyParams};
use weightstream::report::rate;
use weightstream::report::{self, CsvReporter, JsonReporter, MarkdownReporter, Reporter, TableReporter};

#[derive(Args)]
pub struct ReportArgs {
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    prepare: PrepareArgs,
    #[command(flatten)]
    design: DesignArgs,
    /// Also write the report as CSV (one row per layer and format).
    #[arg(long)]
    csv: Option<PathBuf>,
    /// Also write the report as JSON.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Also write the report as Markdown.
    #[arg(long)]
    markdown: Option<PathBuf>,
    /// Write every layer's streams (.bin, .hex) and manifest.json into this directory.
    #[arg(long)]
    emit_streams: Option<PathBuf>,
    /// Write every layer's quantized integer matrix (I32, [O, K]) to this .safetensors file.
    #[arg(long)]
    export_quantized: Option<PathBuf>,
    /// Write a self-contained bundle into this directory: index.html, report.md, layers.csv,
    /// report.json, energy.csv, charts (PNG and SVG), command.txt, manifest.json.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Decoder clock in MHz for every format whose front-end Fmax `weightstream cost` has not
    /// measured at this design point (those run at their Fmax): delivered weights/s and load times.
    #[arg(long, default_value_t = energy::DEFAULT_CLOCK_MHZ)]
    clock_mhz: f64,
    /// DRAM bandwidth in GB/s (10^9 bytes/s), for load times.
    #[arg(long, default_value_t = energy::DEFAULT_DRAM_GBPS)]
    dram_gbps: f64,
    /// DRAM read energy, pJ per bit (default: Horowitz ISSCC 2014, 45 nm, 640 pJ / 32 bits).
    #[arg(long, default_value_t = energy::DEFAULT_DRAM_PJ_PER_BIT)]
    dram_pj_per_bit: f64,
    /// SRAM read energy, pJ per bit (default: Horowitz ISSCC 2014, 32 KB SRAM, 5 pJ / 32 bits).
    #[arg(long, default_value_t = energy::DEFAULT_SRAM_PJ_PER_BIT)]
    sram_pj_per_bit: f64,
    /// Print nothing to the terminal (files are still written); no progress bar.
    #[arg(long)]
    quiet: bool,
    /// Synthesize what is missing of the decoders' hardware cost (front end per format: cells,
    /// flip-flops, logic levels, iCE40 Fmax; yosys + nextpnr-ice40: minutes): each format is then
    /// timed at its Fmax, and --out adds the cost table and the bandwidth-saved-vs-area chart.
    /// Without it, whatever `weightstream cost` at this design point left in the cache is used.
    #[arg(long)]
    cost: bool,
    /// Let --emit-streams and --out write into a directory that is not empty: the files the
    /// previous run listed in its manifest are removed first (nothing else).
    #[arg(long)]
    force: bool,
    /// Also run every layer through the RTL tops (co-simulation): cycles, efficiency, words
    /// measured on the wire. Needs stream parameters of a built RTL set (the defaults are).
    #[cfg(feature = "rtl")]
    #[arg(long)]
    rtl: bool,
    /// Do only shard I of N of the work (row blocks j with j mod N = I; `slurm`: the job array
    /// task's share) and write a partial file to --json; `weightstream merge` combines the N
    /// partials into exactly the unsharded report.
    #[arg(long, value_name = "I/N")]
    shard: Option<weightstream::shard::Shard>,
}

impl ReportArgs {
    /// `--rtl`, false in a build without co-simulation.
    fn rtl(&self) -> bool {
        #[cfg(feature = "rtl")]
        return self.rtl;
        #[cfg(not(feature = "rtl"))]
        false
    }
}

pub(crate) fn write_file(path: &Path, reporter: &dyn Reporter, report: &report::Report) -> Result<()> {
    Ok(outputs::write_atomic(path, |w| reporter.write(report, w))?)
}

fn export_quantized(path: &Path, layers: &[PreparedLayer]) -> Result<()> {
    let tensors: Vec<IntTensor<'_>> = layers
        .iter()
        .map(|l| IntTensor { name: &l.name, rows: l.matrix.rows, cols: l.matrix.cols, values: &l.matrix.data })
        .collect();
    // The safetensors writer's errors may carry a debug dump of the OS error: keep its kind.
    let one_line = |e: io::Error| {
        let msg = e.to_string();
        let cause =
            if msg.contains('{') || msg.contains('\n') { io::Error::new(e.kind(), e.kind().to_string()) } else { e };
        outputs::OutputError::Io { path: path.to_path_buf(), what: "write the safetensors file", cause }
    };
    Ok(outputs::with_temp(path, |tmp| write_i32_safetensors(tmp, &tensors), one_line)?)
}

/// The model's file, when `--model` names one.
pub fn model_path(model: &str) -> Option<PathBuf> {
    match weightstream::model::ModelSpec::parse(model) {
        Ok(weightstream::model::ModelSpec::Path(p)) => Some(p),
        _ => Path::new(model).exists().then(|| PathBuf::from(model)),
    }
}

/// A progress bar on stderr, hidden when `quiet` or when stderr is not a terminal.
pub fn progress(len: usize, quiet: bool, what: &str) -> ProgressBar {
    if quiet || !io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let style =
        ProgressStyle::with_template("{prefix} [{bar:40}] {pos}/{len} layers, {elapsed} (eta {eta}) {wide_msg}")
            .map(|s| s.progress_chars("=> "))
            .unwrap_or_else(|_| ProgressStyle::default_bar());
    ProgressBar::new(len as u64).with_style(style).with_prefix(what.to_string())
}

pub fn run_report(args: &ReportArgs) -> Result<()> {
    if let Some(shard) = args.shard {
        return run_report_shard(args, shard);
    }
    let energy_params = EnergyParams {
        dram_pj_per_bit: args.dram_pj_per_bit,
        sram_pj_per_bit: args.sram_pj_per_bit,
        clock_mhz: args.clock_mhz,
        dram_gbps: args.dram_gbps,
    };
    energy_params.validate()?;
    let model_file = model_path(&args.model.model);
    let mut paths = outputs::Paths::default();
    if let Some(m) = &model_file {
        paths = paths.input("--model", m);
    }
    paths
        .file("--csv", args.csv.as_deref())
        .file("--json", args.json.as_deref())
        .file("--markdown", args.markdown.as_deref())
        .file("--export-quantized", args.export_quantized.as_deref())
        .dir("--emit-streams", args.emit_streams.as_deref())
        .dir("--out", args.out.as_deref())
        .check()?;
    if let Some(dir) = &args.out {
        outputs::prepare_dir("--out", dir, args.force, &owned_bundle_files(dir))?;
    }
    let design = args.design.point(args.prepare.bits)?;
    let cfg = args.prepare.config_with_bits(design.weight_bits)?;
    // --nm is the nm format's pattern as well as N:M pruning's.
    let params = weightstream::StreamParams { nm: cfg.nm, ..design.stream() };
    params.validate()?;
    let rtl = args.rtl();
    // Streams, exported matrices and co-simulation need whole layers; the plain report is built a
    // row block at a time from the lazily opened checkpoint, in bounded memory.
    let whole_layers = rtl || args.emit_streams.is_some() || args.export_quantized.is_some();
    let report = if whole_layers {
        report_whole_layers(args, &cfg, &params, &design)?
    } else {
        let model = super::open(&args.model)?;
        let bar = progress(0, args.quiet, "report");
        let report =
            report::lazy::build(&model, &cfg, &params, design.max_rows, |n| bar.set_length(n as u64), &|name| {
                bar.set_message(name.to_string());
                bar.inc(1);
            });
        bar.finish_and_clear();
        report?
    };
    // Each format at its front end's Fmax where known (synthesized on --cost; otherwise whatever
    // `weightstream cost` already left in the cache), the user's clock for the rest.
    let costs = if args.cost {
        super::cost::front_end_costs(&design, args.quiet)?
    } else {
        weightstream::report::bundle::cached_front_end_costs(&report)
    };
    let mut report = report;
    rate::apply(&mut report, &rate::Clocks::from_costs(&costs, args.clock_mhz));
    if !args.quiet {
        let stdout = io::stdout();
        let mut out = stdout.lock();
        TableReporter.write(&report, &mut out)?;
    }
    for (path, reporter) in
        [(&args.csv, &CsvReporter as &dyn Reporter), (&args.json, &JsonReporter), (&args.markdown, &MarkdownReporter)]
    {
        if let Some(path) = path {
            write_file(path, reporter, &report)?;
        }
    }
    if let Some(dir) = &args.out {
        let started = std::time::Instant::now();
        let opts = BundleOptions { command: std::env::args().collect(), energy: energy_params };
        let summary = write_bundle_with_cost(&report, dir, &opts, &costs)
            .with_context(|| format!("{}: writing the bundle", dir.display()))?;
        if !args.quiet {
            eprintln!(
                "bundle: {} files in {} ({} charts, PNG + SVG) in {:.2} s; open {}",
                summary.files.len(),
                dir.display(),
                summary.charts.len(),
                started.elapsed().as_secs_f64(),
                dir.join("index.html").display()
            );
        }
    }
    Ok(())
}

/// Times every format of `report` at its front end's Fmax where `weightstream cost` has cached
/// it at the report's design point, at `user_mhz` otherwise: what `report` does, for `merge`.
pub fn apply_cached_clocks(report: &mut report::Report, user_mhz: f64) {
    let costs = weightstream::report::bundle::cached_front_end_costs(report);
    rate::apply(report, &rate::Clocks::from_costs(&costs, user_mhz));
}

/// `report --shard I/N`: this shard's partial, written to --json.
fn run_report_shard(args: &ReportArgs, shard: weightstream::shard::Shard) -> Result<()> {
    let rtl = args.rtl();
    let Some(json) = &args.json else {
        anyhow::bail!("--shard {shard}: name the partial file with --json (merge writes the other outputs)");
    };
    let whole_only = [
        ("--csv", args.csv.is_some()),
        ("--markdown", args.markdown.is_some()),
        ("--out", args.out.is_some()),
        ("--emit-streams", args.emit_streams.is_some()),
        ("--export-quantized", args.export_quantized.is_some()),
        ("--rtl", rtl),
    ];
    if let Some((flag, _)) = whole_only.iter().find(|(_, on)| *on) {
        anyhow::bail!("--shard {shard}: {flag} needs the whole run; give it to `weightstream merge` instead");
    }
    let model_file = model_path(&args.model.model);
    let mut paths = outputs::Paths::default();
    if let Some(m) = &model_file {
        paths = paths.input("--model", m);
    }
    paths.file("--json", Some(json.as_path())).check()?;
    let design = args.design.point(args.prepare.bits)?;
    let cfg = args.prepare.config_with_bits(design.weight_bits)?;
    // --nm is the nm format's pattern as well as N:M pruning's.
    let params = weightstream::StreamParams { nm: cfg.nm, ..design.stream() };
    params.validate()?;
    let model = super::open(&args.model)?;
    let bar = progress(0, args.quiet, &format!("report shard {shard}"));
    let part = report::lazy::build_shard(
        &model,
        &cfg,
        &params,
        design.max_rows,
        shard,
        |n| bar.set_length(n as u64),
        &|name| {
            bar.set_message(name.to_string());
            bar.inc(1);
        },
    );
    bar.finish_and_clear();
    let part = part?;
    outputs::write_atomic(json, |w| {
        serde_json::to_writer(&mut *w, &part).map_err(io::Error::other)?;
        writeln!(w)
    })?;
    if !args.quiet {
        eprintln!("shard {shard}: {} row blocks -> {}", part.items.len(), json.display());
    }
    Ok(())
}

/// The report from whole layers, loaded: for --emit-streams, --export-quantized and --rtl.
fn report_whole_layers(
    args: &ReportArgs,
    cfg: &weightstream::prepare::PrepareConfig,
    params: &weightstream::formats::StreamParams,
    design: &weightstream::rtl::DesignPoint,
) -> Result<report::Report> {
    let model = load(&args.model)?;
    let layers = prepare(&model, cfg)?;
    if let Some(path) = &args.export_quantized {
        export_quantized(path, &layers)?;
    }
    let mut emitter = match &args.emit_streams {
        Some(dir) => Some(StreamEmitter::create(dir, &model.name, args.force)?),
        None => None,
    };
    let rtl = args.rtl();
    #[cfg(feature = "rtl")]
    if rtl {
        weightstream::cosim::prepare_models(&weightstream::Format::ALL, design, args.quiet)?;
    }
    let bar = progress(layers.len(), args.quiet, if rtl { "report + RTL" } else { "report" });
    let report = report::build(&model, &layers, cfg, params, design.max_rows, |layer, streams| {
        bar.set_message(layer.name.clone());
        if let Some(e) = emitter.as_mut() {
            e.write_layer(&layer.name, streams).map_err(|e| report::BuildError::Io(io::Error::other(e.to_string())))?;
        }
        let measured = if rtl { rtl_measure(layer, streams, design)? } else { Vec::new() };
        bar.inc(1);
        Ok(measured)
    });
    bar.finish_and_clear();
    let report = report?;
    if let Some(e) = emitter {
        e.finish()?;
    }
    Ok(report)
}

/// Co-simulates a layer's streams (every row block) on the RTL tops at the design point.
#[cfg(feature = "rtl")]
fn rtl_measure(
    layer: &PreparedLayer,
    streams: &[weightstream::blocks::BlockedStream],
    design: &weightstream::rtl::DesignPoint,
) -> Result<Vec<report::RtlMeasure>, report::BuildError> {
    let opts = weightstream::cosim::CosimOptions::default();
    weightstream::cosim::measure_layer(&layer.name, &layer.matrix, streams, design, &opts)
        .map_err(|e| report::BuildError::Rtl(e.to_string()))
}

#[cfg(not(feature = "rtl"))]
fn rtl_measure(
    _: &PreparedLayer,
    _: &[weightstream::blocks::BlockedStream],
    _: &weightstream::rtl::DesignPoint,
) -> Result<Vec<report::RtlMeasure>, report::BuildError> {
    Ok(Vec::new())
}
