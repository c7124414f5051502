//! The `weightstream` command line: parses flags, runs the library, prints one-line errors.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};

use weightstream::emit::{check_dir, StreamEmitter};
use weightstream::model::safetensors_io::{write_i32_safetensors, IntTensor};
use weightstream::model::{Model, ModelSpec};
use weightstream::prepare::{prepare, PrepareConfig, PreparedLayer};
use weightstream::quant::{Granularity, PruneMode};
use weightstream::report::{self, CsvReporter, JsonReporter, MarkdownReporter, Reporter, TableReporter};
use weightstream::StreamParams;

#[derive(Parser)]
#[command(name = "weightstream", version, about = "What compressed weight streams save, measured on the wire")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Per-layer bandwidth of every stream format (every stream decoded back bit-exact first).
    Report(ReportArgs),
    /// Lists a model's tensors: which become layer matrices (O x K) and which stay dense.
    Layers(ModelArgs),
    /// Runs every selected layer through the RTL decoders + PE array (Verilator) and checks every
    /// beat and output against the golden model; measures cycles and words on the wire.
    #[cfg(feature = "rtl")]
    Cosim(CosimArgs),
    /// Decodes every stream of an --emit-streams directory and reports the first malformed one.
    Check {
        /// The directory or its manifest.json.
        path: PathBuf,
    },
}

#[derive(Args)]
struct ModelArgs {
    /// A .safetensors / .pth file, mobilenet_v2, resnet18-fixture, or synthetic:mobilenet_v2|resnet18.
    #[arg(long, default_value = "mobilenet_v2")]
    model: String,
}

#[derive(Args)]
struct PrepareArgs {
    /// Fraction of weights pruned by magnitude, 0..1.
    #[arg(long, default_value_t = 0.7)]
    sparsity: f64,
    /// Prune each layer to the sparsity, or one global threshold.
    #[arg(long, value_enum, default_value_t = PruneMode::PerLayer)]
    prune: PruneMode,
    /// Q: weight bits, 2..16.
    #[arg(long, default_value_t = 8)]
    bits: u32,
    /// Quantization scale per layer or per output channel.
    #[arg(long, value_enum, default_value_t = Granularity::PerLayer)]
    granularity: Granularity,
}

#[derive(Args)]
struct StreamArgs {
    /// N: PE lanes (weights per beat).
    #[arg(long, default_value_t = 16)]
    lanes: usize,
    /// B: bus word bits (multiple of 8).
    #[arg(long, default_value_t = 64)]
    bus_bits: u32,
    /// R: CSC run bits.
    #[arg(long, default_value_t = 4)]
    run_bits: u32,
    /// P: CSC count bits.
    #[arg(long, default_value_t = 16)]
    count_bits: u32,
}

#[derive(Args)]
struct ReportArgs {
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    prepare: PrepareArgs,
    #[command(flatten)]
    stream: StreamArgs,
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
    /// Print nothing to the terminal (files are still written).
    #[arg(long)]
    quiet: bool,
    /// Also run every layer through the RTL tops (co-simulation): cycles, efficiency, words
    /// measured on the wire. Needs stream parameters of a built RTL set (the defaults are).
    #[cfg(feature = "rtl")]
    #[arg(long)]
    rtl: bool,
}

#[cfg(feature = "rtl")]
#[derive(Args)]
struct CosimArgs {
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    prepare: PrepareArgs,
    /// all, or one of dense, bitmap, delta-bitmap, csc.
    #[arg(long, default_value = "all")]
    format: String,
    /// Only layers whose name contains one of these (comma-separated); default all.
    #[arg(long, value_delimiter = ',')]
    layers: Vec<String>,
    /// Built RTL parameter set (n16_q8_b64: N=16 Q=8 B=64; n8_q4_b32: N=8 Q=4 B=32); sets N, Q, B, R, P.
    #[arg(long, default_value = "n16_q8_b64")]
    rtl_config: String,
    /// Input gaps / output backpressure: full (throughput), pattern ([1,1,1,0]) or random.
    #[arg(long, value_enum, default_value_t = weightstream::cosim::Traffic::Full)]
    traffic: weightstream::cosim::Traffic,
    /// Seed of activations and random traffic.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Where mismatch waveforms are written.
    #[arg(long, default_value = "target/cosim-waves")]
    wave_dir: PathBuf,
    /// Also write every run as JSON.
    #[arg(long)]
    json: Option<PathBuf>,
}

impl PrepareArgs {
    fn config(&self) -> PrepareConfig {
        PrepareConfig { sparsity: self.sparsity, prune: self.prune, bits: self.bits, granularity: self.granularity }
    }
}

impl StreamArgs {
    fn params(&self, weight_bits: u32) -> StreamParams {
        StreamParams {
            lanes: self.lanes,
            weight_bits,
            bus_bits: self.bus_bits,
            run_bits: self.run_bits,
            count_bits: self.count_bits,
        }
    }
}

fn load(args: &ModelArgs) -> Result<Model> {
    let spec = ModelSpec::parse(&args.model)?;
    Ok(Model::load(&spec)?)
}

fn write_file(path: &Path, reporter: &dyn Reporter, report: &report::Report) -> Result<()> {
    let file = File::create(path).with_context(|| format!("{}: cannot create", path.display()))?;
    let mut out = BufWriter::new(file);
    reporter
        .write(report, &mut out)
        .and_then(|_| out.flush())
        .with_context(|| format!("{}: write failed", path.display()))
}

fn export_quantized(path: &Path, layers: &[PreparedLayer]) -> Result<()> {
    let tensors: Vec<IntTensor<'_>> = layers
        .iter()
        .map(|l| IntTensor { name: &l.name, rows: l.matrix.rows, cols: l.matrix.cols, values: &l.matrix.data })
        .collect();
    write_i32_safetensors(path, &tensors).with_context(|| format!("{}: cannot write", path.display()))
}

fn run_report(args: &ReportArgs) -> Result<()> {
    let model = load(&args.model)?;
    let cfg = args.prepare.config();
    let params = args.stream.params(cfg.bits);
    params.validate()?;
    let layers = prepare(&model, &cfg)?;
    if let Some(path) = &args.export_quantized {
        export_quantized(path, &layers)?;
    }
    let mut emitter = match &args.emit_streams {
        Some(dir) => {
            Some(StreamEmitter::new(dir, &model.name).with_context(|| format!("{}: cannot create", dir.display()))?)
        }
        None => None,
    };
    #[cfg(feature = "rtl")]
    let rtl = args.rtl;
    #[cfg(not(feature = "rtl"))]
    let rtl = false;
    let report = report::build(&model, &layers, &cfg, &params, |layer, streams| {
        if let Some(e) = emitter.as_mut() {
            e.write_layer(&layer.name, streams).map_err(report::BuildError::Io)?;
        }
        if rtl {
            return rtl_measure(layer, streams);
        }
        Ok(Vec::new())
    })?;
    if let Some(e) = emitter {
        e.finish().context("writing manifest.json")?;
    }
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
    Ok(())
}

/// Co-simulates a layer's streams on the RTL tops and returns their measurements.
#[cfg(feature = "rtl")]
fn rtl_measure(
    layer: &PreparedLayer,
    streams: &[weightstream::formats::EncodedStream],
) -> Result<Vec<report::RtlMeasure>, report::BuildError> {
    use weightstream::cosim::{self, CosimOptions};
    let opts = CosimOptions::default();
    let a = weightstream::pe::random_activations(layer.matrix.cols, cosim::ACT_BITS, opts.seed);
    let mut out: Vec<report::RtlMeasure> = Vec::with_capacity(streams.len());
    for s in streams {
        let exp = cosim::expected(&layer.matrix, &a, &s.params);
        let run =
            cosim::run_layer(&layer.name, s, &a, &exp, &opts).map_err(|e| report::BuildError::Rtl(e.to_string()))?;
        if let Some(line) = run.mismatch_line() {
            return Err(report::BuildError::Rtl(format!("RTL mismatch: {line}")));
        }
        let dense_words = out.first().map_or(run.words, |d| d.words);
        out.push(report::RtlMeasure {
            cycles: run.cycles,
            words: run.words,
            efficiency: run.efficiency,
            starved: run.starved,
            stalled: run.stalled,
            mismatches: run.mismatches,
            saved_pct: 100.0 * (1.0 - run.words as f64 / dense_words.max(1) as f64),
        });
    }
    Ok(out)
}

#[cfg(not(feature = "rtl"))]
fn rtl_measure(
    _: &PreparedLayer,
    _: &[weightstream::formats::EncodedStream],
) -> Result<Vec<report::RtlMeasure>, report::BuildError> {
    Ok(Vec::new())
}

fn run_layers(args: &ModelArgs) -> Result<()> {
    let model = load(args)?;
    let stdout = io::stdout();
    let mut out = stdout.lock();
    writeln!(out, "{} ({}), {} parameters", model.name, model.provenance.label(), model.parameter_count())?;
    for t in &model.tensors {
        let shape: Vec<String> = t.shape.iter().map(|d| d.to_string()).collect();
        let role = if t.dtype.is_float() && t.shape.len() >= 2 {
            format!("layer {} x {}", t.shape[0], t.shape[1..].iter().product::<usize>())
        } else if t.dtype.is_float() {
            "dense remainder".to_string()
        } else {
            "integer (ignored)".to_string()
        };
        writeln!(out, "{:<48} {:>16} {:>5}  {}", t.name, shape.join("x"), t.dtype.to_string(), role)?;
    }
    Ok(())
}

fn run_check(path: &Path) -> Result<()> {
    let manifest = if path.is_dir() { path.join("manifest.json") } else { path.to_path_buf() };
    let checked = check_dir(&manifest)?;
    println!("{}: {} streams decoded, all well-formed", manifest.display(), checked.len());
    Ok(())
}

#[cfg(feature = "rtl")]
fn run_cosim(args: &CosimArgs) -> Result<()> {
    use weightstream::cosim::{self, CosimOptions};
    use weightstream::Format;
    let configs = cosim::built_configs();
    let Some((_, params, _)) = configs.iter().find(|(n, _, _)| *n == args.rtl_config) else {
        let names: Vec<_> = configs.iter().map(|(n, _, _)| *n).collect();
        anyhow::bail!("no RTL parameter set {:?} (built: {})", args.rtl_config, names.join(", "));
    };
    let formats: Vec<Format> = if args.format == "all" {
        Format::ALL.to_vec()
    } else {
        vec![args.format.parse().map_err(anyhow::Error::msg)?]
    };
    let model = load(&args.model)?;
    let mut cfg = args.prepare.config();
    cfg.bits = params.weight_bits;
    let layers: Vec<PreparedLayer> = prepare(&model, &cfg)?
        .into_iter()
        .filter(|l| args.layers.is_empty() || args.layers.iter().any(|s| l.name.contains(s.as_str())))
        .collect();
    anyhow::ensure!(!layers.is_empty(), "no layer of {} matches {:?}", model.name, args.layers);
    let opts = CosimOptions { traffic: args.traffic, seed: args.seed, wave_dir: args.wave_dir.clone() };
    let started = std::time::Instant::now();
    let mut runs = Vec::new();
    let mut out = io::stdout().lock();
    writeln!(
        out,
        "cosim {} ({}) on RTL {} (N={} Q={} B={}), sparsity {}, traffic {:?}",
        model.name,
        model.provenance.label(),
        args.rtl_config,
        params.lanes,
        params.weight_bits,
        params.bus_bits,
        cfg.sparsity,
        args.traffic
    )?;
    writeln!(
        out,
        "{:<30} {:<12} {:>8} {:>8} {:>5} {:>9} {:>8} {:>6} {:>8} {:>8} {:>7}",
        "layer", "format", "beats ok", "y ok", "mism", "cycles", "words", "eff", "starved", "stalled", "saved%"
    )?;
    let mut failed = 0;
    for layer in &layers {
        let mut dense_words = None;
        for &format in &formats {
            let run = cosim::run_matrix(&layer.name, &layer.matrix, format, params, &opts)?;
            if format == Format::Dense {
                dense_words = Some(run.words);
            }
            let saved = match dense_words {
                Some(d) if d > 0 => format!("{:.1}", 100.0 * (1.0 - run.words as f64 / d as f64)),
                _ => "-".into(),
            };
            writeln!(
                out,
                "{:<30} {:<12} {:>8} {:>8} {:>5} {:>9} {:>8} {:>6.3} {:>8} {:>8} {:>7}",
                layer.name,
                format.name(),
                run.beats_verified,
                run.y_verified,
                run.mismatches,
                run.cycles,
                run.words,
                run.efficiency,
                run.starved,
                run.stalled,
                saved
            )?;
            if let Some(line) = run.mismatch_line() {
                writeln!(out, "  MISMATCH {line}")?;
                failed += 1;
            }
            runs.push(run);
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let cycles: u64 = runs.iter().map(|r| r.total_cycles).sum();
    let beats: u64 = runs.iter().map(|r| r.beats_verified).sum();
    writeln!(
        out,
        "{} runs, {} beats and {} outputs verified, {} with mismatches; {} cycles in {:.2} s ({:.2} M cycles/s)",
        runs.len(),
        beats,
        runs.iter().map(|r| r.y_verified).sum::<u64>(),
        failed,
        cycles,
        secs,
        cycles as f64 / secs / 1e6
    )?;
    if let Some(path) = &args.json {
        let json = serde_json::to_string_pretty(&runs)?;
        std::fs::write(path, json + "\n").with_context(|| format!("{}: cannot write", path.display()))?;
    }
    anyhow::ensure!(failed == 0, "{failed} of {} runs mismatched the golden model", runs.len());
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Report(args) => run_report(args),
        Command::Layers(args) => run_layers(args),
        Command::Check { path } => run_check(path),
        #[cfg(feature = "rtl")]
        Command::Cosim(args) => run_cosim(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // A closed pipe (e.g. `| head`) is not an error worth a message.
            if e.downcast_ref::<io::Error>().is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe) {
                return ExitCode::SUCCESS;
            }
            eprintln!("weightstream: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
