//! `weightstream study`: the compression study on one or more models: every pipeline on every
//! layer at every (sparsity, bits) setting, verified round trips, tables, entropy bounds,
//! throughput, the verdict on the original study's claims, and CSV / JSON / Markdown / heatmaps.
//! Claim (c) (bitmap's cost against entropy coding) is judged by the decoders' hardware cost at
//! the design point (`--rtl-config` and the design flags, Q from each setting) where `weightstream
//! cost` has it (`--cost` synthesizes what is missing), else by the golden codecs' speed.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::Args;

use super::choices::{GranularityArg, PruneArg, QuantizerArg};
use super::DesignArgs;
use weightstream::cost::{self, CostOptions, CostRequest, Unit};
use weightstream::model::{Model, ModelSpec};
use weightstream::outputs;
use weightstream::study::external::ExternalCodec;
use weightstream::study::pipeline::Pipeline;
use weightstream::study::stages::STAGE_NAMES;
use weightstream::study::verdict::{self, DecoderCost};
use weightstream::study::{self, report, StudyConfig, StudyResult};

#[derive(Args)]
pub struct StudyArgs {
    /// Models, comma-separated: mobilenet_v2 (trained), resnet18-fixture (untrained layout),
    /// synthetic:mobilenet_v2|resnet18, or .safetensors / .pth files.
    #[arg(long, value_delimiter = ',', default_value = "mobilenet_v2")]
    model: Vec<String>,
    /// Pruning sparsities, comma-separated [default: 0.5,0.7,0.9]; not with --prune nm.
    #[arg(long, value_delimiter = ',')]
    sparsity: Vec<f64>,
    /// Weight bits Q, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "8,4")]
    bits: Vec<u32>,
    /// Linear quantization or k-means weight sharing (codebook counted).
    #[arg(long, value_enum, default_value_t = QuantizerArg::Linear)]
    quantizer: QuantizerArg,
    /// Prune each layer to the sparsity, one global threshold, or N:M (see --nm).
    #[arg(long, value_enum, default_value_t = PruneArg::PerLayer)]
    prune: PruneArg,
    /// N:M pattern of --prune nm (n < m <= 16, m a power of two).
    #[arg(long, default_value_t = weightstream::formats::NmPattern::default())]
    nm: weightstream::formats::NmPattern,
    /// Linear quantization scale per layer or per output channel.
    #[arg(long, value_enum, default_value_t = GranularityArg::PerLayer)]
    granularity: GranularityArg,
    /// Pipelines, comma-separated, stages joined by | (e.g. "delta-k|bitmap|huffman"); the word
    /// `default` stands for the six algorithms, their 36 pairs and the delta variants.
    #[arg(long, value_delimiter = ',', default_value = "default")]
    pipelines: Vec<String>,
    /// External codec NAME=ENCODE_CMD::DECODE_CMD (repeatable): raw layer (LE i32) on stdin,
    /// WS_ROWS/WS_COLS/WS_BITS in the environment. Runs alone as pipeline NAME, and may be
    /// used in pipelines.
    #[arg(long)]
    codec: Vec<String>,
    /// Time limit per external command run, seconds.
    #[arg(long, default_value_t = 30.0)]
    codec_timeout: f64,
    /// Most bytes an external encoder may write per layer (default: 4 x the layer's dense size
    /// + 64 KiB); more fails the layer and the codec is killed.
    #[arg(long)]
    codec_max_bytes: Option<u64>,
    /// Worker threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Only the first N weight layers of each model (quick looks).
    #[arg(long)]
    max_layers: Option<usize>,
    /// Write the results as CSV (one row per model, setting and pipeline).
    #[arg(long)]
    csv: Option<PathBuf>,
    /// Write the results and verdict as JSON.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Write the report and verdict as Markdown.
    #[arg(long)]
    markdown: Option<PathBuf>,
    /// Write everything (study.md, study.csv, study.json, pair heatmaps as PNG and SVG) here.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Print nothing but the verdict to the terminal.
    #[arg(long)]
    quiet: bool,
    /// Let --out write into a directory that is not empty (its study.* files and heatmaps are
    /// replaced; nothing is removed).
    #[arg(long)]
    force: bool,
    /// Run only shard I of N of the settings (sparsity x Q, j mod N = I; `slurm`: the job
    /// array task's share) of one model and write a partial file to --json; `weightstream
    /// merge` writes the whole study (its timing fields are each shard's own).
    #[arg(long, value_name = "I/N")]
    shard: Option<weightstream::shard::Shard>,
    /// The hardware claim (c) is judged on: the decoders' front ends at this design point, Q from
    /// each setting (the `weightstream cost` cache; see --cost).
    #[command(flatten)]
    design: DesignArgs,
    /// Synthesize the bitmap and entropy-coded front ends at every setting's design point that the
    /// cost cache lacks (yosys + nextpnr-ice40: minutes each), so that claim (c) is judged by
    /// hardware cost. Without it, settings with no cached figures are judged by the golden
    /// codecs' speed.
    #[arg(long)]
    cost: bool,
}

/// A study and the measure claim (c) was judged by at each of its settings.
struct Judged {
    result: StudyResult,
    costs: Vec<DecoderCost>,
}

fn write_all(studies: &[Judged], csv: Option<&Path>, json: Option<&Path>, md: Option<&Path>) -> Result<()> {
    if let Some(p) = csv {
        // One CSV with every model: the header once.
        let mut buf = Vec::new();
        for (i, s) in studies.iter().enumerate() {
            let mut one = Vec::new();
            report::write_csv(&s.result, &mut one)?;
            let text = String::from_utf8_lossy(&one);
            let body = if i == 0 { &text[..] } else { text.split_once('\n').map(|x| x.1).unwrap_or("") };
            buf.extend_from_slice(body.as_bytes());
        }
        outputs::write_bytes(p, &buf)?;
    }
    if let Some(p) = json {
        let mut all = Vec::new();
        for s in studies {
            let mut one = Vec::new();
            report::write_json(&s.result, &s.costs, &mut one)?;
            all.push(serde_json::from_slice::<serde_json::Value>(&one)?);
        }
        let v = if all.len() == 1 { all.remove(0) } else { serde_json::json!({ "studies": all }) };
        outputs::write_bytes(p, &serde_json::to_vec_pretty(&v)?)?;
    }
    if let Some(p) = md {
        let text: String = studies.iter().map(|s| report::markdown(&s.result, &s.costs)).collect::<Vec<_>>().join("\n");
        outputs::write_bytes(p, text.as_bytes())?;
    }
    Ok(())
}

/// Claim (c)'s measure at one setting of `model`: the bitmap and entropy-coded front ends at the
/// design point with Q = `bits` (cached, or synthesized with --cost), and the golden codecs'
/// speed on the setting's layers.
fn decoder_cost(args: &StudyArgs, model: &Model, cfg: &StudyConfig, sparsity: f64, bits: u32) -> Result<DecoderCost> {
    let (layers, _) = study::prepare(model, sparsity, bits, cfg)?;
    let mut point = args.design.point(None)?;
    point.weight_bits = bits;
    let mut failed = Vec::new();
    let costs = match point.validate() {
        Err(e) => {
            let mut c = verdict::decoder_cost(sparsity, bits, &layers, &point, &[]);
            c.no_hardware = Some(format!("design point with Q={bits}: {e}"));
            return Ok(c);
        }
        Ok(()) => {
            let formats: Vec<_> =
                std::iter::once(weightstream::Format::Bitmap).chain(verdict::entropy_formats()).collect();
            let reqs: Vec<CostRequest> =
                formats.iter().map(|&format| CostRequest { unit: Unit::FrontEnd, format, point }).collect();
            let opts = CostOptions::default();
            if args.cost {
                // A synthesis that fails leaves its format without figures (the study is not lost).
                let mut costs = Vec::new();
                for r in cost::cost_all(&reqs, &opts, &|line| eprintln!("{line}")) {
                    match r {
                        Ok(r) => costs.push(r.cost),
                        Err(e) => failed.push(e.to_string()),
                    }
                }
                costs
            } else {
                reqs.iter().filter_map(|r| cost::cached(r, &opts)).map(|r| r.cost).collect()
            }
        }
    };
    let mut c = verdict::decoder_cost(sparsity, bits, &layers, &point, &costs);
    if c.hardware.is_none() && !failed.is_empty() {
        c.no_hardware = Some(failed.join("; "));
    }
    match (&c.hardware, &c.no_hardware) {
        (Some(h), _) => eprintln!("study: claim (c) at sparsity {sparsity:.2} Q={bits}: hardware cost at {}", h.point),
        (None, why) => eprintln!(
            "study: claim (c) at sparsity {sparsity:.2} Q={bits}: golden codec speed ({}; `--cost` synthesizes)",
            why.as_deref().unwrap_or("no hardware figures")
        ),
    }
    Ok(c)
}

pub fn run_study(args: &StudyArgs) -> Result<()> {
    if args.bits.is_empty() {
        bail!("--bits needs at least one value");
    }
    let sparsities = super::sparsity_list(args.prune, args.nm, &args.sparsity, &[0.5, 0.7, 0.9])?;
    if !(args.codec_timeout > 0.0 && args.codec_timeout.is_finite()) {
        bail!("--codec-timeout must be a positive number of seconds");
    }
    let model_files: Vec<PathBuf> = args.model.iter().filter_map(|m| super::report::model_path(m)).collect();
    let mut paths = outputs::Paths::default();
    for m in &model_files {
        paths = paths.input("--model", m);
    }
    paths
        .file("--csv", args.csv.as_deref())
        .file("--json", args.json.as_deref())
        .file("--markdown", args.markdown.as_deref())
        .dir("--out", args.out.as_deref())
        .check()?;
    if let Some(dir) = &args.out {
        outputs::prepare_dir("--out", dir, args.force, &[])?;
    }
    let timeout = Duration::from_secs_f64(args.codec_timeout);
    let codecs: Vec<ExternalCodec> = args
        .codec
        .iter()
        .map(|c| ExternalCodec::parse(c, timeout).map(|c| c.with_max_bytes(args.codec_max_bytes)))
        .collect::<Result<_, _>>()?;
    let mut specs: Vec<String> = Vec::new();
    for p in &args.pipelines {
        if p == "default" {
            specs.extend(study::default_pipelines());
        } else {
            specs.push(p.clone());
        }
    }
    specs.extend(codecs.iter().map(|c| c.name.clone()));
    let mut pipelines: Vec<Pipeline> = Vec::new();
    for s in &specs {
        let p = Pipeline::parse(s, &codecs).with_context(|| format!("stages: {STAGE_NAMES}"))?;
        if !pipelines.iter().any(|q| q.name == p.name) {
            pipelines.push(p);
        }
    }
    let threads = args.threads.unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1));
    let cfg = StudyConfig {
        sparsities,
        bits: args.bits.clone(),
        quantizer: args.quantizer.into(),
        prune: args.prune.into(),
        nm: args.nm,
        granularity: args.granularity.into(),
        pipelines,
        threads,
        max_layers: args.max_layers,
    };
    let start = Instant::now();
    if let Some(shard) = args.shard {
        return run_study_shard(args, &cfg, shard);
    }
    let mut studies = Vec::new();
    for name in &args.model {
        let model = Model::load(&ModelSpec::parse(name)?)?;
        eprintln!(
            "study: {} ({}): {} pipelines x {} settings, {} threads",
            model.name,
            model.provenance.label(),
            cfg.pipelines.len(),
            cfg.sparsities.len() * cfg.bits.len(),
            threads
        );
        let result = study::run_study(&model, &cfg, |s| {
            let failed = s.pipelines.iter().filter(|p| !p.failures.is_empty()).count();
            eprintln!(
                "study: sparsity {:.2} Q={}: {} layers in {:.1} s{}",
                s.sparsity,
                s.bits,
                s.layers.len(),
                s.seconds,
                if failed > 0 { format!(", {failed} pipelines failed on some layers") } else { String::new() }
            );
        })?;
        let costs = result
            .settings
            .iter()
            .map(|s| decoder_cost(args, &model, &cfg, s.sparsity, s.bits))
            .collect::<Result<Vec<_>>>()?;
        let judged = Judged { result, costs };
        print_study(&judged, args.quiet)?;
        studies.push(judged);
    }
    let to = StudyOutputs {
        csv: args.csv.as_deref(),
        json: args.json.as_deref(),
        markdown: args.markdown.as_deref(),
        out: args.out.as_deref(),
    };
    write_outputs(&studies, &to)?;
    eprintln!("study: done in {:.1} s", start.elapsed().as_secs_f64());
    Ok(())
}

fn print_study(study: &Judged, quiet: bool) -> Result<()> {
    let text = report::text(&study.result, &study.costs);
    let mut stdout = std::io::stdout().lock();
    if quiet {
        let verdict = text.split_once("\nVerdict").map(|(_, v)| format!("Verdict{v}")).unwrap_or_default();
        stdout.write_all(verdict.as_bytes())?;
    } else {
        stdout.write_all(text.as_bytes())?;
    }
    stdout.flush()?;
    Ok(())
}

/// Where a finished study goes.
pub struct StudyOutputs<'a> {
    pub csv: Option<&'a Path>,
    pub json: Option<&'a Path>,
    pub markdown: Option<&'a Path>,
    pub out: Option<&'a Path>,
}

fn write_outputs(studies: &[Judged], to: &StudyOutputs<'_>) -> Result<()> {
    write_all(studies, to.csv, to.json, to.markdown)?;
    if let Some(dir) = to.out {
        write_all(studies, Some(&dir.join("study.csv")), Some(&dir.join("study.json")), Some(&dir.join("study.md")))?;
        for s in studies {
            study::heatmap::write_heatmaps(&s.result, dir).with_context(|| format!("{}: heatmaps", dir.display()))?;
        }
        eprintln!("study: wrote {}", dir.display());
    }
    Ok(())
}

/// What every shard of one study agrees on.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StudyRun {
    model: String,
    provenance: String,
    settings: usize,
    /// The configuration as the shard saw it (pipelines, sparsities, bits, quantizer, ...).
    config: String,
}

/// One setting of a sharded study with the measure claim (c) is judged by there.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct StudyItem {
    setting: study::SettingResult,
    decoder_cost: DecoderCost,
}

/// The command name partial study files carry.
pub const COMMAND: &str = "study";

/// `study --shard I/N`: this shard's settings of one model, written to --json as a partial.
fn run_study_shard(args: &StudyArgs, cfg: &StudyConfig, shard: weightstream::shard::Shard) -> Result<()> {
    let Some(json) = &args.json else {
        anyhow::bail!("--shard {shard}: name the partial file with --json (merge writes the other outputs)");
    };
    if args.csv.is_some() || args.markdown.is_some() || args.out.is_some() {
        anyhow::bail!(
            "--shard {shard}: --csv, --markdown and --out need the whole study; give them to `weightstream merge`"
        );
    }
    let [name] = args.model.as_slice() else {
        anyhow::bail!("--shard {shard}: one --model per sharded study");
    };
    let model = Model::load(&ModelSpec::parse(name)?)?;
    let settings = study::run_study_shard(&model, cfg, shard, |s| {
        eprintln!(
            "study shard {shard}: sparsity {:.2} Q={}: {} layers in {:.1} s",
            s.sparsity,
            s.bits,
            s.layers.len(),
            s.seconds
        );
    })?;
    let mut items = Vec::with_capacity(settings.len());
    for (j, setting) in settings {
        let decoder_cost = decoder_cost(args, &model, cfg, setting.sparsity, setting.bits)?;
        items.push((j, StudyItem { setting, decoder_cost }));
    }
    let run = StudyRun {
        model: model.name.clone(),
        provenance: model.provenance.label().to_string(),
        settings: cfg.sparsities.len() * cfg.bits.len(),
        config: format!(
            "{:?} {}{}",
            (&cfg.sparsities, &cfg.bits, cfg.quantizer, cfg.prune, cfg.granularity, &cfg.pipelines, cfg.max_layers),
            args.design.point(None).map(|p| p.name()).unwrap_or_default(),
            // The pattern only where it is used: other runs' settings read as before.
            if cfg.prune == weightstream::quant::PruneMode::Nm { format!(" nm {}", cfg.nm) } else { String::new() }
        ),
    };
    let part = weightstream::shard::Partial::new(COMMAND, shard, run, items);
    outputs::write_atomic(json, |w| {
        serde_json::to_writer(&mut *w, &part).map_err(std::io::Error::other)?;
        writeln!(w)
    })?;
    eprintln!("study shard {shard}: {} settings -> {}", part.items.len(), json.display());
    Ok(())
}

/// Merges the partial files of one sharded study and writes it like the unsharded run.
pub fn merge_study(partials: &[PathBuf], quiet: bool, to: &StudyOutputs<'_>) -> Result<()> {
    let (run, items): (StudyRun, Vec<(usize, StudyItem)>) = weightstream::shard::merge(COMMAND, partials)?;
    anyhow::ensure!(items.len() == run.settings, "merged study has {} of its {} settings", items.len(), run.settings);
    let (settings, costs): (Vec<_>, Vec<_>) = items.into_iter().map(|(_, i)| (i.setting, i.decoder_cost)).unzip();
    let judged = Judged { result: StudyResult { model: run.model, provenance: run.provenance, settings }, costs };
    print_study(&judged, quiet)?;
    write_outputs(std::slice::from_ref(&judged), to)
}
