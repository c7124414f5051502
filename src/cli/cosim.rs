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
    /// all, or one of dense, bitmap, delta-bitmap, csc, bitmap-huffman, delta-bitmap-huffman,
    /// lane-huffman, delta-lane-huffman, nm.
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
    /// Run only shard I of N of the (layer, format) runs (run j with j mod N = I; `slurm`: the
    /// job array task's share) and write a partial file to --json; `weightstream merge` prints
    /// the table and writes the JSON of the whole run.
    #[arg(long, value_name = "I/N")]
    shard: Option<weightstream::shard::Shard>,
}

/// What every shard of one co-simulation agrees on: the header line, the layers and formats.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CosimRun {
    header: String,
    layers: Vec<String>,
    formats: Vec<weightstream::Format>,
    /// The (layer, format) pairs not run because the format does not apply (nm on a layer that
    /// is not n:m), with the reason.
    #[serde(default)]
    not_applicable: Vec<(usize, weightstream::Format, String)>,
}

impl CosimRun {
    /// The (layer, format) runs in order: every layer with every format that applies to it.
    fn pairs(&self) -> Vec<(usize, weightstream::Format)> {
        let skipped =
            |i: usize, f: weightstream::Format| self.not_applicable.iter().any(|(j, g, _)| (*j, *g) == (i, f));
        (0..self.layers.len())
            .flat_map(|i| self.formats.iter().map(move |&f| (i, f)))
            .filter(|&(i, f)| !skipped(i, f))
            .collect()
    }

    /// A line per format that did not apply to some layers.
    fn not_applicable_lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        for &f in &self.formats {
            let skipped: Vec<_> = self.not_applicable.iter().filter(|(_, g, _)| *g == f).collect();
            if let Some((i, _, reason)) = skipped.first() {
                out.push(format!(
                    "{f}: n/a on {} of {} layers, not run (first: {}: {reason})",
                    skipped.len(),
                    self.layers.len(),
                    self.layers[*i]
                ));
            }
        }
        out
    }
}

/// The command name partial cosim files carry.
pub const COMMAND: &str = "cosim";

const COLUMNS: [&str; 12] =
    ["layer", "format", "blocks", "beats ok", "y ok", "mism", "cycles", "words", "eff", "starved", "stalled", "saved%"];

/// Widths of the table's text columns: the run's longest layer name (at least 30) and the longest
/// format name, so that every line has its columns at the same offsets.
#[derive(Clone, Copy)]
struct Widths {
    layer: usize,
    format: usize,
}

impl CosimRun {
    fn widths(&self) -> Widths {
        let layer = self.layers.iter().map(|l| l.chars().count()).max().unwrap_or(0).max(30);
        Widths { layer, format: weightstream::Format::name_width() }
    }
}

fn columns_line(w: Widths) -> String {
    let c = COLUMNS;
    let (lw, fw) = (w.layer, w.format);
    format!(
        "{:<lw$} {:<fw$} {:>6} {:>8} {:>8} {:>5} {:>9} {:>8} {:>6} {:>8} {:>8} {:>7}",
        c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9], c[10], c[11]
    )
}

/// A run's table line (and its mismatch line); saved % against the layer's dense run.
fn run_lines(run: &weightstream::cosim::LayerRun, dense_words: Option<u64>, w: Widths) -> String {
    let saved = match dense_words {
        Some(d) if d > 0 => format!("{:.1}", run.rtl_measure(Some(d)).saved_pct),
        _ => "-".into(),
    };
    let (lw, fw) = (w.layer, w.format);
    let mut s = format!(
        "{:<lw$} {:<fw$} {:>6} {:>8} {:>8} {:>5} {:>9} {:>8} {:>6.3} {:>8} {:>8} {:>7}",
        run.layer,
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
    );
    if let Some(line) = run.mismatch_line() {
        s.push_str(&format!("\n  MISMATCH {line}"));
    }
    s
}

fn summary_line(runs: &[weightstream::cosim::LayerRun], failed: usize, secs: f64) -> String {
    let cycles: u64 = runs.iter().map(|r| r.total_cycles).sum();
    let beats: u64 = runs.iter().map(|r| r.beats_verified).sum();
    format!(
        "{} runs, {} beats and {} outputs verified, {} with mismatches; {} cycles in {:.2} s ({:.2} M cycles/s)",
        runs.len(),
        beats,
        runs.iter().map(|r| r.y_verified).sum::<u64>(),
        failed,
        cycles,
        secs,
        cycles as f64 / secs / 1e6
    )
}

fn write_runs_json(path: &std::path::Path, runs: &[weightstream::cosim::LayerRun]) -> Result<()> {
    let json = serde_json::to_string_pretty(runs)?;
    weightstream::outputs::write_bytes(path, (json + "\n").as_bytes())?;
    Ok(())
}

/// Merges the partial files of a sharded co-simulation: the table and summary of the whole run,
/// and its JSON (`seconds` are each run's own).
pub fn merge_cosim(partials: &[PathBuf], json: Option<&std::path::Path>) -> Result<()> {
    let (run, items): (CosimRun, Vec<(usize, weightstream::cosim::LayerRun)>) =
        weightstream::shard::merge(COMMAND, partials)?;
    let total = run.pairs().len();
    anyhow::ensure!(items.len() == total, "merged co-simulation has {} of its {total} runs", items.len());
    let mut out = io::stdout().lock();
    writeln!(out, "{}", run.header)?;
    writeln!(out, "{}", columns_line(run.widths()))?;
    let runs: Vec<weightstream::cosim::LayerRun> = items.into_iter().map(|(_, r)| r).collect();
    let mut dense_words = None;
    let mut failed = 0;
    let pairs = run.pairs();
    for (k, r) in runs.iter().enumerate() {
        if k == 0 || pairs[k].0 != pairs[k - 1].0 {
            dense_words = None;
        }
        if r.format == weightstream::Format::Dense {
            dense_words = Some(r.words);
        }
        writeln!(out, "{}", run_lines(r, dense_words, run.widths()))?;
        failed += usize::from(r.mismatch_line().is_some());
    }
    for line in run.not_applicable_lines() {
        writeln!(out, "{line}")?;
    }
    let secs: f64 = runs.iter().map(|r| r.seconds).sum();
    writeln!(out, "{} (simulated seconds summed over the shards)", summary_line(&runs, failed, secs))?;
    if let Some(path) = json {
        write_runs_json(path, &runs)?;
    }
    anyhow::ensure!(failed == 0, "{failed} of {} runs mismatched the golden model", runs.len());
    Ok(())
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
    let cfg = args.prepare.config_with_bits(design.weight_bits)?;
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
    let header = format!(
        "cosim {} ({}) on RTL {} ({design}), sparsity {}, traffic {:?}",
        model.name,
        model.provenance.label(),
        design.name(),
        cfg.sparsity,
        weightstream::cosim::Traffic::from(args.traffic)
    );
    // --nm is the nm format's pattern as well as N:M pruning's.
    let params = weightstream::StreamParams { nm: cfg.nm, ..design.stream() };
    // Formats that do not apply to a layer (nm on a layer that is not n:m) are not run.
    let not_applicable = layers
        .iter()
        .enumerate()
        .flat_map(|(i, l)| formats.iter().filter_map(move |&f| Some((i, f, f.not_applicable(&l.matrix, &params)?))))
        .collect();
    let settings = CosimRun {
        header: header.clone(),
        layers: layers.iter().map(|l| l.name.clone()).collect(),
        formats: formats.clone(),
        not_applicable,
    };
    let pairs = settings.pairs();
    anyhow::ensure!(!pairs.is_empty(), "nothing to co-simulate: {}", settings.not_applicable_lines().join("; "));
    if let Some(shard) = args.shard {
        let Some(json) = &args.json else {
            anyhow::bail!("--shard {shard}: name the partial file with --json");
        };
        let mine: Vec<usize> = (0..pairs.len()).filter(|&k| shard.owns(k)).collect();
        let mut slots: Vec<Option<Result<cosim::LayerRun, cosim::CosimError>>> =
            (0..mine.len()).map(|_| None).collect();
        cosim::run_parallel(
            mine.len(),
            args.jobs,
            |j| {
                let m = &layers[pairs[mine[j]].0].matrix;
                (m.rows * m.cols) as u64
            },
            |j| {
                let (i, format) = pairs[mine[j]];
                cosim::run_matrix_as(&layers[i].name, &layers[i].matrix, format, &design, &params, &opts)
            },
            |j, r| {
                slots[j] = Some(r);
                true
            },
        )?;
        let mut items = Vec::with_capacity(mine.len());
        for (j, slot) in slots.into_iter().enumerate() {
            let run = slot.ok_or_else(|| anyhow::anyhow!("run {} did not finish", mine[j]))??;
            items.push((mine[j], run));
        }
        let part = weightstream::shard::Partial::new(COMMAND, shard, settings, items);
        weightstream::outputs::write_atomic(json, |w| {
            serde_json::to_writer(&mut *w, &part).map_err(io::Error::other)?;
            writeln!(w)
        })?;
        eprintln!("cosim shard {shard}: {} runs -> {}", part.items.len(), json.display());
        return Ok(());
    }
    let mut out = io::stdout().lock();
    writeln!(out, "{header}")?;
    let widths = settings.widths();
    writeln!(out, "{}", columns_line(widths))?;
    let mut failed = 0;
    let bar = super::report::progress(layers.len(), args.quiet, "cosim");
    // Every (layer, format) run is one job on rayon's pool (one model instance each), largest
    // layers first; lines are printed in layer and format order as soon as every earlier run is
    // done, so the output does not depend on the number of threads.
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
            cosim::run_matrix_as(&layers[i].name, &layers[i].matrix, format, &design, &params, &opts)
        },
        |k, r| {
            slots[k] = Some(r);
            while let Some(run) = slots.get_mut(want).and_then(Option::take) {
                let (i, _) = pairs[want];
                let layer = &layers[i];
                let first_of_layer = want == 0 || pairs[want - 1].0 != i;
                if first_of_layer {
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
                let written = bar.suspend(|| -> io::Result<()> {
                    writeln!(out, "{}", run_lines(&run, dense_words, widths))?;
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
                if want == pairs.len() || pairs[want].0 != i {
                    bar.inc(1);
                }
            }
            true
        },
    )?;
    let printed: Result<()> = failure.map_or(Ok(()), Err);
    printed?;
    bar.finish_and_clear();
    for line in settings.not_applicable_lines() {
        writeln!(out, "{line}")?;
    }
    writeln!(out, "{}", summary_line(&runs, failed, started.elapsed().as_secs_f64()))?;
    if let Some(path) = &args.json {
        write_runs_json(path, &runs)?;
    }
    anyhow::ensure!(failed == 0, "{failed} of {} runs mismatched the golden model", runs.len());
    Ok(())
}
