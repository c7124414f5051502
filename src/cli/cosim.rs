//! `weightstream cosim`: every selected layer through the RTL tops, checked against the golden
//! model, with cycles, words and efficiency per layer; a progress bar on stderr when it is a
//! terminal (off with `--quiet`).

use std::io::{self, Write};
use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use super::{load, DesignArgs, ModelArgs, PrepareArgs};
use weightstream::prepare::{prepare, PreparedLayer};

#[derive(Args)]
pub struct CosimArgs {
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
    #[command(flatten)]
    design: DesignArgs,
    /// Input gaps / output backpressure: full (throughput), pattern ([1,1,1,0]) or random.
    #[arg(long, value_enum, default_value_t = super::choices::TrafficArg::Full)]
    traffic: super::choices::TrafficArg,
    /// Seed of activations and random traffic.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Where mismatch waveforms are written.
    #[arg(long, default_value = "target/cosim-waves")]
    wave_dir: PathBuf,
    /// Also write every run as JSON.
    #[arg(long)]
    json: Option<PathBuf>,
    /// No progress bar (the table is still printed).
    #[arg(long)]
    quiet: bool,
    /// Runs (layer x format) simulated at once, one model instance each [default: rayon's,
    /// RAYON_NUM_THREADS or the cores available].
    #[arg(long)]
    jobs: Option<usize>,
}

pub fn run_cosim(args: &CosimArgs) -> Result<()> {
    use weightstream::cosim::{self, CosimOptions};
    use weightstream::Format;
    let design = args.design.point(args.prepare.bits)?;
    let formats: Vec<Format> = if args.format == "all" {
        Format::ALL.to_vec()
    } else {
        vec![args.format.parse().map_err(anyhow::Error::msg)?]
    };
    let model_file = super::report::model_path(&args.model.model);
    let mut paths = weightstream::outputs::Paths::default();
    if let Some(m) = &model_file {
        paths = paths.input("--model", m);
    }
    paths.file("--json", args.json.as_deref()).dir("--wave-dir", Some(&args.wave_dir)).check()?;
    let model = load(&args.model)?;
    let cfg = args.prepare.config_with_bits(design.weight_bits);
    if let Some(bad) = args.layers.iter().find(|s| s.trim().is_empty()) {
        anyhow::bail!("--layers {:?}: an empty layer pattern would match every layer", bad);
    }
    let layers: Vec<PreparedLayer> = prepare(&model, &cfg)?
        .into_iter()
        .filter(|l| args.layers.is_empty() || args.layers.iter().any(|s| l.name.contains(s.as_str())))
        .collect();
    anyhow::ensure!(!layers.is_empty(), "no layer of {} matches {:?}", model.name, args.layers);
    cosim::prepare_models(&formats, &design, false)?;
    let opts = CosimOptions { traffic: args.traffic.into(), seed: args.seed, wave_dir: args.wave_dir.clone() };
    let started = std::time::Instant::now();
    let mut runs = Vec::new();
    let mut out = io::stdout().lock();
    writeln!(
        out,
        "cosim {} ({}) on RTL {} ({design}), sparsity {}, traffic {:?}",
        model.name,
        model.provenance.label(),
        design.name(),
        cfg.sparsity,
        weightstream::cosim::Traffic::from(args.traffic)
    )?;
    writeln!(
        out,
        "{:<30} {:<12} {:>6} {:>8} {:>8} {:>5} {:>9} {:>8} {:>6} {:>8} {:>8} {:>7}",
        "layer",
        "format",
        "blocks",
        "beats ok",
        "y ok",
        "mism",
        "cycles",
        "words",
        "eff",
        "starved",
        "stalled",
        "saved%"
    )?;
    let mut failed = 0;
    let bar = super::report::progress(layers.len(), args.quiet, "cosim");
    // Every (layer, format) run is one job on rayon's pool (one model instance each), largest
    // layers first; lines are printed in layer and format order as soon as every earlier run is
    // done, so the output does not depend on the number of threads.
    let pairs: Vec<(usize, Format)> = (0..layers.len()).flat_map(|i| formats.iter().map(move |&f| (i, f))).collect();
    let mut slots: Vec<Option<Result<cosim::LayerRun, cosim::CosimError>>> = (0..pairs.len()).map(|_| None).collect();
    let mut want = 0;
    let mut dense_words = None;
    let mut failure: Option<anyhow::Error> = None;
    cosim::run_parallel(
        pairs.len(),
        args.jobs,
        |k| {
            let m = &layers[pairs[k].0].matrix;
            (m.rows * m.cols) as u64
        },
        |k| {
            let (i, format) = pairs[k];
            cosim::run_matrix(&layers[i].name, &layers[i].matrix, format, &design, &opts)
        },
        |k, r| {
            slots[k] = Some(r);
            while let Some(run) = slots.get_mut(want).and_then(Option::take) {
                let (i, _) = pairs[want];
                let layer = &layers[i];
                if want % formats.len() == 0 {
                    bar.set_message(layer.name.clone());
                    dense_words = None;
                }
                want += 1;
                // Stop at the first run that could not be simulated at all; runs under way
                // finish and the rest is dropped.
                let run = match run {
                    Ok(run) => run,
                    Err(e) => {
                        failure = Some(e.into());
                        return false;
                    }
                };
                if run.format == Format::Dense {
                    dense_words = Some(run.words);
                }
                let saved = match dense_words {
                    Some(d) if d > 0 => format!("{:.1}", run.rtl_measure(Some(d)).saved_pct),
                    _ => "-".into(),
                };
                let written = bar.suspend(|| -> io::Result<()> {
                    writeln!(
                        out,
                        "{:<30} {:<12} {:>6} {:>8} {:>8} {:>5} {:>9} {:>8} {:>6.3} {:>8} {:>8} {:>7}",
                        layer.name,
                        run.format.name(),
                        run.blocks,
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
                    }
                    out.flush()
                });
                if let Err(e) = written {
                    failure = Some(e.into());
                    return false;
                }
                if run.mismatch_line().is_some() {
                    failed += 1;
                }
                runs.push(run);
                if want % formats.len() == 0 {
                    bar.inc(1);
                }
            }
            true
        },
    )?;
    let printed: Result<()> = failure.map_or(Ok(()), Err);
    printed?;
    bar.finish_and_clear();
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
        weightstream::outputs::write_bytes(path, (json + "\n").as_bytes())?;
    }
    anyhow::ensure!(failed == 0, "{failed} of {} runs mismatched the golden model", runs.len());
    Ok(())
}
