//! `weightstream sweep`: the design-space sweep CLI: parses the comma lists, validates every
//! point before running anything, measures, costs, co-simulates (`--rtl`), prints the table and
//! Pareto points, writes CSV / JSON / chart.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::Args;

use super::choices::{GranularityArg, PruneArg};
use super::{load, ModelArgs};
use weightstream::cost::CostOptions;
use weightstream::formats::NmPattern;
use weightstream::shard::Shard;
use weightstream::sweep::{self, parse_list, SweepJson, SweepSpec};

#[derive(Args)]
pub struct SweepArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// N: PE lanes, comma-separated.
    #[arg(long, default_value = "16")]
    lanes: Vec<String>,
    /// B: bus word bits, comma-separated.
    #[arg(long, default_value = "64")]
    bus_bits: Vec<String>,
    /// R: CSC run bits, comma-separated.
    #[arg(long, default_value = "4")]
    run_bits: Vec<String>,
    /// P: CSC count bits, comma-separated.
    #[arg(long, default_value = "16")]
    count_bits: Vec<String>,
    /// MAX_O: rows the PE array holds, comma-separated.
    #[arg(long, default_value = "1280")]
    max_rows: Vec<String>,
    /// QA: activation bits, comma-separated.
    #[arg(long, default_value = "8")]
    act_bits: Vec<String>,
    /// ACC: accumulator bits, comma-separated.
    #[arg(long, default_value = "32")]
    acc_bits: Vec<String>,
    /// Pruning sparsities, comma-separated [default: 0.5,0.7,0.9]; not with --prune nm.
    #[arg(long)]
    sparsity: Vec<String>,
    /// Q: weight bits, comma-separated.
    #[arg(long, default_value = "8")]
    bits: Vec<String>,
    /// Prune each layer to the sparsity, one global threshold, or N:M (see --nm).
    #[arg(long, value_enum, default_value_t = PruneArg::PerLayer)]
    prune: PruneArg,
    /// N:M pattern of --prune nm (n < m <= 16, m a power of two).
    #[arg(long, default_value_t = NmPattern::default())]
    nm: NmPattern,
    /// Quantization scale per layer or per output channel.
    #[arg(long, value_enum, default_value_t = GranularityArg::PerLayer)]
    granularity: GranularityArg,
    /// Skip the decoder cost (no synthesis; no chart, no Pareto front).
    #[arg(long)]
    no_cost: bool,
    /// Take front-end costs from the cost cache only (synthesize nothing; front ends not cached
    /// stay without a cost).
    #[arg(long)]
    cost_cache_only: bool,
    /// Skip place and route (nextpnr-ice40): no Fmax.
    #[arg(long)]
    no_fpga: bool,
    /// Synthesis jobs at once.
    #[arg(long, default_value_t = 2)]
    jobs: usize,
    /// Also co-simulate every layer of every point and format through the RTL (non-built-in
    /// points are verilated on demand): cycles and mismatches; any mismatch exits non-zero.
    /// With --shard, each shard co-simulates (and verilates for) only its own settings.
    #[cfg(feature = "rtl")]
    #[arg(long)]
    rtl: bool,
    /// Write the rows as CSV.
    #[arg(long)]
    csv: Option<PathBuf>,
    /// Write the rows as JSON.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Write sweep.csv, sweep.json, sweep.txt and the chart (sweep.png, sweep.svg) here.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Do only shard I of N of the settings ((sparsity, Q, point) j with j mod N = I; `slurm`:
    /// the job array task's share) and write a partial file to --json; `weightstream merge`
    /// combines the N partials (costs, Pareto front, outputs) into exactly the unsharded sweep.
    #[arg(long, value_name = "I/N")]
    shard: Option<Shard>,
}

/// What every shard of one sweep agrees on.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SweepRun {
    model: String,
    source: String,
    provenance: String,
    spec: SweepSpec,
    rtl: bool,
    no_cost: bool,
    cost_cache_only: bool,
    no_fpga: bool,
    jobs: usize,
}

/// The command name partial sweep files carry.
pub const COMMAND: &str = "sweep";

/// Where a finished sweep goes.
pub struct SweepOutputs<'a> {
    pub csv: Option<&'a Path>,
    pub json: Option<&'a Path>,
    pub out: Option<&'a Path>,
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (fs::canonicalize(a), fs::canonicalize(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

impl SweepArgs {
    fn spec(&self) -> Result<SweepSpec> {
        Ok(SweepSpec {
            lanes: parse_list("lanes", "a whole number", &self.lanes)?,
            bus_bits: parse_list("bus-bits", "a whole number", &self.bus_bits)?,
            run_bits: parse_list("run-bits", "a whole number", &self.run_bits)?,
            count_bits: parse_list("count-bits", "a whole number", &self.count_bits)?,
            max_rows: parse_list("max-rows", "a whole number", &self.max_rows)?,
            act_bits: parse_list("act-bits", "a whole number", &self.act_bits)?,
            acc_bits: parse_list("acc-bits", "a whole number", &self.acc_bits)?,
            sparsities: {
                let given: Vec<f64> = if self.sparsity.is_empty() {
                    Vec::new()
                } else {
                    parse_list("sparsity", "a number", &self.sparsity)?
                };
                super::sparsity_list(self.prune, self.nm, &given, &[0.5, 0.7, 0.9])?
            },
            bits: parse_list("bits", "a whole number", &self.bits)?,
            prune: self.prune.into(),
            nm: self.nm,
            granularity: self.granularity.into(),
        })
    }

    #[cfg(feature = "rtl")]
    fn rtl(&self) -> bool {
        self.rtl
    }

    #[cfg(not(feature = "rtl"))]
    fn rtl(&self) -> bool {
        false
    }
}

/// Measures `shard`'s settings with every layer of every format co-simulated, after making sure
/// the models of its points exist (only those: a shard verilates nothing it does not run).
#[cfg(feature = "rtl")]
fn measure_rtl(
    model: &weightstream::model::Model,
    spec: &SweepSpec,
    points: &[weightstream::rtl::DesignPoint],
    progress: &mut dyn FnMut(&str),
    shard: Shard,
) -> Result<Vec<(usize, Vec<sweep::SweepRow>)>> {
    use weightstream::cosim::{self, CosimOptions};
    use weightstream::report::BuildError;
    use weightstream::Format;
    for p in sweep::shard_points(spec, points, shard) {
        cosim::prepare_models(&Format::ALL, p, false).with_context(|| format!("RTL models at {}", p.name()))?;
    }
    let opts = CosimOptions::default();
    let mut run = |point: &weightstream::rtl::DesignPoint, layer: &weightstream::prepare::PreparedLayer| {
        Format::ALL
            .iter()
            .map(|&f| {
                let r = match cosim::run_matrix(&layer.name, &layer.matrix, f, point, &opts) {
                    // nm on a layer that is not n:m: the report line is n/a, nothing to measure.
                    Err(e) if e.not_applicable() => return Ok(Default::default()),
                    r => r.map_err(|e| BuildError::Rtl(e.to_string()))?,
                };
                if let Some(line) = r.mismatch_line() {
                    eprintln!("sweep: MISMATCH at {}: {line}", point.name());
                }
                Ok(r.rtl_measure(None))
            })
            .collect::<Result<Vec<_>, BuildError>>()
    };
    Ok(sweep::measure_shard(model, spec, points, Some(&mut run), progress, shard)?)
}

#[cfg(not(feature = "rtl"))]
fn measure_rtl(
    _: &weightstream::model::Model,
    _: &SweepSpec,
    _: &[weightstream::rtl::DesignPoint],
    _: &mut dyn FnMut(&str),
    _: Shard,
) -> Result<Vec<(usize, Vec<sweep::SweepRow>)>> {
    bail!("--rtl needs the rtl feature")
}

/// `shard`'s settings measured, co-simulated when `--rtl`.
fn measure_settings(
    args: &SweepArgs,
    model: &weightstream::model::Model,
    spec: &SweepSpec,
    points: &[weightstream::rtl::DesignPoint],
    shard: Shard,
) -> Result<Vec<(usize, Vec<sweep::SweepRow>)>> {
    let mut progress = |line: &str| eprintln!("{line}");
    if args.rtl() {
        measure_rtl(model, spec, points, &mut progress, shard)
    } else {
        Ok(sweep::measure_shard(model, spec, points, None, &mut progress, shard)?)
    }
}

/// Any RTL mismatch in the rows, as the error the run exits with (after its files are written).
fn check_mismatches<'a>(rows: impl IntoIterator<Item = &'a sweep::SweepRow>) -> Result<()> {
    let mismatches: u64 = rows.into_iter().filter_map(|r| r.rtl_mismatches).sum();
    if mismatches > 0 {
        bail!("{mismatches} RTL mismatches (outputs written; see the lines above)");
    }
    Ok(())
}

/// Costs, Pareto front, table and files of a measured sweep (or of a merged sharded one).
pub fn finish_sweep(
    run: &SweepRun,
    points: &[weightstream::rtl::DesignPoint],
    rows: &mut [sweep::SweepRow],
    to: &SweepOutputs<'_>,
) -> Result<()> {
    if !run.no_cost {
        let t1 = Instant::now();
        let opts = CostOptions { fpga: !run.no_fpga, jobs: run.jobs.max(1), ..Default::default() };
        let (cached, synthesized) =
            sweep::attach_costs(rows, points, &opts, run.cost_cache_only, &|line: &str| eprintln!("{line}"))?;
        eprintln!(
            "sweep: front-end costs: {cached} cached, {synthesized} synthesized in {:.1} s",
            t1.elapsed().as_secs_f64()
        );
        sweep::mark_pareto(rows);
    }
    let table = sweep::table(rows);
    let pareto = sweep::pareto_text(rows);
    print!("{table}");
    if !pareto.is_empty() {
        println!();
        print!("{pareto}");
    }
    let csv = sweep::csv(rows);
    let json = serde_json::to_string_pretty(&SweepJson::of(&run.model, &run.source, &run.provenance, &run.spec, rows))?;
    let write = |p: &Path, text: &str| fs::write(p, text).with_context(|| format!("{}: cannot write", p.display()));
    if let Some(p) = to.csv {
        write(p, &csv)?;
    }
    if let Some(p) = to.json {
        write(p, &json)?;
    }
    if let Some(d) = to.out {
        fs::create_dir_all(d).with_context(|| format!("{}: cannot create", d.display()))?;
        write(&d.join("sweep.csv"), &csv)?;
        write(&d.join("sweep.json"), &json)?;
        write(&d.join("sweep.txt"), &format!("{table}\n{pareto}"))?;
        if rows.iter().any(|r| r.cost.is_some()) {
            let files = sweep::chart::write_chart(rows, &run.model, d)?;
            eprintln!("sweep: chart {} and {}", files.png.display(), files.svg.display());
        }
        eprintln!("sweep: wrote {}", d.display());
    }
    Ok(())
}

/// `sweep --shard I/N`: this shard's settings measured, written as a partial file to --json.
fn run_sweep_shard(
    args: &SweepArgs,
    model: &weightstream::model::Model,
    spec: &SweepSpec,
    points: &[weightstream::rtl::DesignPoint],
    shard: Shard,
) -> Result<()> {
    let Some(json) = &args.json else {
        bail!("--shard {shard}: name the partial file with --json (merge writes the other outputs)");
    };
    if args.csv.is_some() || args.out.is_some() {
        bail!("--shard {shard}: --csv and --out need the whole sweep; give them to `weightstream merge` instead");
    }
    let items = measure_settings(args, model, spec, points, shard)?;
    let run = SweepRun {
        model: model.name.clone(),
        source: model.source.clone(),
        provenance: model.provenance.label().to_string(),
        spec: spec.clone(),
        rtl: args.rtl(),
        no_cost: args.no_cost,
        cost_cache_only: args.cost_cache_only,
        no_fpga: args.no_fpga,
        jobs: args.jobs,
    };
    let part = weightstream::shard::Partial::new(COMMAND, shard, run, items);
    weightstream::outputs::write_atomic(json, |w| {
        serde_json::to_writer(&mut *w, &part).map_err(std::io::Error::other)?;
        writeln!(w)
    })?;
    eprintln!("sweep shard {shard}: {} settings -> {}", part.items.len(), json.display());
    check_mismatches(part.items.iter().flat_map(|(_, rows)| rows))
}

/// Merges the partial files of one sharded sweep and finishes it like the unsharded run.
pub fn merge_sweep(partials: &[PathBuf], to: &SweepOutputs<'_>) -> Result<()> {
    let (run, items): (SweepRun, Vec<(usize, Vec<sweep::SweepRow>)>) = weightstream::shard::merge(COMMAND, partials)?;
    let points = run.spec.points()?;
    let settings: usize = run.spec.sparsity_values().len() * points.len();
    if items.len() != settings {
        bail!("merged sweep has {} of its {settings} settings", items.len());
    }
    let mut rows: Vec<sweep::SweepRow> = items.into_iter().flat_map(|(_, rows)| rows).collect();
    finish_sweep(&run, &points, &mut rows, to)?;
    check_mismatches(&rows)
}

pub fn run_sweep(args: &SweepArgs) -> Result<()> {
    let t0 = Instant::now();
    let spec = args.spec()?;
    let points = spec.points()?;
    let model_path = Path::new(&args.model.model);
    let outputs: Vec<PathBuf> = args
        .csv
        .iter()
        .chain(&args.json)
        .cloned()
        .chain(
            args.out
                .iter()
                .flat_map(|d| ["sweep.csv", "sweep.json", "sweep.txt", "sweep.png", "sweep.svg"].map(|f| d.join(f))),
        )
        .collect();
    for o in &outputs {
        if same_file(o, model_path) {
            bail!("{}: output path is the model file; refusing to overwrite it", o.display());
        }
    }
    if let Some(d) = &args.out {
        if same_file(d, model_path) {
            bail!("{}: --out is the model file", d.display());
        }
    }
    let model_file = super::report::model_path(&args.model.model);
    let mut paths = weightstream::outputs::Paths::default();
    if let Some(m) = &model_file {
        paths = paths.input("--model", m);
    }
    paths
        .file("--csv", args.csv.as_deref())
        .file("--json", args.json.as_deref())
        .dir("--out", args.out.as_deref())
        .check()?;
    let model = load(&args.model)?;
    if let Some(shard) = args.shard {
        return run_sweep_shard(args, &model, &spec, &points, shard);
    }
    let settings = spec.sparsity_values().len() * points.len();
    eprintln!(
        "sweep: {} ({}): {} design points x {} sparsities = {} points, {} formats each",
        model.name,
        model.provenance.label(),
        points.len(),
        spec.sparsity_values().len(),
        settings,
        weightstream::Format::ALL.len()
    );
    let mut rows: Vec<sweep::SweepRow> =
        measure_settings(args, &model, &spec, &points, Shard::WHOLE)?.into_iter().flat_map(|(_, rows)| rows).collect();
    let t_measure = t0.elapsed().as_secs_f64();
    let run = SweepRun {
        model: model.name.clone(),
        source: model.source.clone(),
        provenance: model.provenance.label().to_string(),
        spec: spec.clone(),
        rtl: args.rtl(),
        no_cost: args.no_cost,
        cost_cache_only: args.cost_cache_only,
        no_fpga: args.no_fpga,
        jobs: args.jobs,
    };
    let outputs = SweepOutputs { csv: args.csv.as_deref(), json: args.json.as_deref(), out: args.out.as_deref() };
    finish_sweep(&run, &points, &mut rows, &outputs)?;
    eprintln!(
        "sweep: done in {:.1} s (bandwidth{} {:.1} s)",
        t0.elapsed().as_secs_f64(),
        if args.rtl() { " + RTL" } else { "" },
        t_measure
    );
    check_mismatches(&rows)
}
