//! Arguments every subcommand shares (model, pruning/quantization, stream parameters) and the
//! model loading they start from.

use anyhow::Result;
use clap::Args;

use choices::{GranularityArg, PruneArg};
use weightstream::formats::NmPattern;
use weightstream::model::{Model, ModelSpec};
use weightstream::prepare::PrepareConfig;
use weightstream::quant::PruneMode;
use weightstream::rtl::DesignPoint;

#[derive(Args)]
pub struct ModelArgs {
    /// A .safetensors / .pth file, mobilenet_v2, resnet18-fixture, or synthetic:mobilenet_v2|resnet18.
    #[arg(long, default_value = "mobilenet_v2")]
    pub model: String,
}

#[derive(Args)]
pub struct PrepareArgs {
    /// Fraction of weights pruned by magnitude, 0..1 [default: 0.7]. Not with --prune nm (an
    /// error there: N:M pruning's sparsity is 1 - n/m).
    #[arg(long)]
    pub sparsity: Option<f64>,
    /// Prune each layer to the sparsity, one global threshold, or N:M (see --nm).
    #[arg(long, value_enum, default_value_t = PruneArg::PerLayer)]
    pub prune: PruneArg,
    /// N:M pattern, n < m <= 16, m a power of two: --prune nm keeps the n largest magnitudes of
    /// every m consecutive columns of a row (a convolution's columns channels-last).
    #[arg(long, default_value_t = NmPattern::default())]
    pub nm: NmPattern,
    /// Q: weight bits, 2..16 [default: 8, or the --rtl-config set's Q].
    #[arg(long)]
    pub bits: Option<u32>,
    /// Quantization scale per layer or per output channel.
    #[arg(long, value_enum, default_value_t = GranularityArg::PerLayer)]
    pub granularity: GranularityArg,
}

/// The design point: stream parameters and PE array. Each flag overrides the `--rtl-config` set
/// (default n16_q8_b64); a flag that contradicts an explicitly named set is an error.
#[derive(Args, Clone, Default)]
pub struct DesignArgs {
    /// Built-in RTL parameter set (n16_q8_b64, n8_q4_b32); the flags below override it.
    #[arg(long)]
    pub rtl_config: Option<String>,
    /// N: PE lanes (weights per beat) [default: 16].
    #[arg(long)]
    pub lanes: Option<usize>,
    /// B: bus word bits, a multiple of 8 [default: 64].
    #[arg(long)]
    pub bus_bits: Option<u32>,
    /// R: CSC run bits [default: 4].
    #[arg(long)]
    pub run_bits: Option<u32>,
    /// P: CSC count bits [default: 16].
    #[arg(long)]
    pub count_bits: Option<u32>,
    /// QA: activation bits of the PE array [default: 8].
    #[arg(long)]
    pub act_bits: Option<u32>,
    /// ACC: accumulator and output bits of the PE array [default: 32].
    #[arg(long)]
    pub acc_bits: Option<u32>,
    /// MAX_O: rows the PE array holds; a layer with more rows runs as row blocks [default: 1280].
    #[arg(long)]
    pub max_rows: Option<usize>,
}

impl PrepareArgs {
    /// The pruning and quantization settings; Q from `--bits`, else `default_bits`. Under
    /// `--prune nm` the sparsity recorded is the nominal 1 - n/m, and `--sparsity` is an error.
    pub fn config_with_bits(&self, default_bits: u32) -> Result<PrepareConfig> {
        let prune = self.prune.into();
        let sparsity = match (prune, self.sparsity) {
            (PruneMode::Nm, Some(s)) => anyhow::bail!(
                "--sparsity {s} with --prune nm: N:M pruning keeps n of every m weights (--nm {} is sparsity {}); \
                 drop --sparsity",
                self.nm,
                nominal_sparsity(self.nm)
            ),
            (PruneMode::Nm, None) => nominal_sparsity(self.nm),
            (_, s) => s.unwrap_or(DEFAULT_SPARSITY),
        };
        Ok(PrepareConfig {
            sparsity,
            prune,
            bits: self.bits.unwrap_or(default_bits),
            granularity: self.granularity.into(),
            nm: self.nm,
        })
    }
}

/// The sparsity list of `sweep` and `study`: the values given, else `default`; under `--prune nm`
/// the nominal 1 - n/m alone, and giving `--sparsity` is an error.
pub fn sparsity_list(prune: PruneArg, nm: NmPattern, given: &[f64], default: &[f64]) -> Result<Vec<f64>> {
    match (prune, given.is_empty()) {
        (PruneArg::Nm, false) => anyhow::bail!(
            "--sparsity with --prune nm: N:M pruning keeps n of every m weights (--nm {nm} is sparsity {}); drop \
             --sparsity",
            nominal_sparsity(nm)
        ),
        (PruneArg::Nm, true) => Ok(vec![nominal_sparsity(nm)]),
        (_, true) => Ok(default.to_vec()),
        (_, false) => Ok(given.to_vec()),
    }
}

/// `--sparsity` when not given.
pub const DEFAULT_SPARSITY: f64 = 0.7;

/// 1 - n/m: the sparsity of N:M pruning on a K that is a multiple of m (the sparsity a report
/// records under --prune nm).
pub fn nominal_sparsity(p: NmPattern) -> f64 {
    1.0 - f64::from(p.keep) / f64::from(p.group.max(1))
}

impl DesignArgs {
    /// The design point: the named set (or n16_q8_b64) with every given flag applied; `bits` is
    /// `--bits` (Q). Errors name the flag and the set it contradicts, or the range it leaves.
    pub fn point(&self, bits: Option<u32>) -> Result<DesignPoint> {
        let facts = weightstream::rtl::facts();
        let base_name = self.rtl_config.as_deref().unwrap_or("n16_q8_b64");
        let Some(mut p) = facts.set(base_name) else {
            anyhow::bail!(
                "--rtl-config {base_name}: no such built-in set (built in: {})",
                facts.set_names().join(", ")
            );
        };
        let mut clash = Vec::new();
        let mut apply = |flag: &str, given: Option<u64>, field: &mut u64| {
            if let Some(v) = given {
                if self.rtl_config.is_some() && v != *field {
                    clash.push(format!("--{flag} {v} contradicts --rtl-config {base_name} ({flag} {field})"));
                }
                *field = v;
            }
        };
        let mut vals = [
            p.lanes as u64,
            u64::from(p.weight_bits),
            u64::from(p.bus_bits),
            u64::from(p.run_bits),
            u64::from(p.count_bits),
            u64::from(p.act_bits),
            u64::from(p.acc_bits),
            p.max_rows as u64,
        ];
        let given = [
            self.lanes.map(|v| v as u64),
            bits.map(u64::from),
            self.bus_bits.map(u64::from),
            self.run_bits.map(u64::from),
            self.count_bits.map(u64::from),
            self.act_bits.map(u64::from),
            self.acc_bits.map(u64::from),
            self.max_rows.map(|v| v as u64),
        ];
        let flags = ["lanes", "bits", "bus-bits", "run-bits", "count-bits", "act-bits", "acc-bits", "max-rows"];
        for ((flag, g), v) in flags.iter().zip(given).zip(vals.iter_mut()) {
            apply(flag, g, v);
        }
        if let Some(first) = clash.first() {
            anyhow::bail!("{first}");
        }
        let too_big = |flag: &str, v: u64| anyhow::anyhow!("--{flag} {v}: out of range");
        p = DesignPoint {
            lanes: usize::try_from(vals[0]).map_err(|_| too_big("lanes", vals[0]))?,
            weight_bits: u32::try_from(vals[1]).map_err(|_| too_big("bits", vals[1]))?,
            bus_bits: u32::try_from(vals[2]).map_err(|_| too_big("bus-bits", vals[2]))?,
            run_bits: u32::try_from(vals[3]).map_err(|_| too_big("run-bits", vals[3]))?,
            count_bits: u32::try_from(vals[4]).map_err(|_| too_big("count-bits", vals[4]))?,
            act_bits: u32::try_from(vals[5]).map_err(|_| too_big("act-bits", vals[5]))?,
            acc_bits: u32::try_from(vals[6]).map_err(|_| too_big("acc-bits", vals[6]))?,
            max_rows: usize::try_from(vals[7]).map_err(|_| too_big("max-rows", vals[7]))?,
        };
        p.validate()?;
        Ok(p)
    }
}

pub fn load(args: &ModelArgs) -> Result<Model> {
    let spec = ModelSpec::parse(&args.model)?;
    Ok(Model::load(&spec)?)
}

/// Opens the model `--model` names lazily: metadata now, values on demand.
pub fn open(args: &ModelArgs) -> Result<weightstream::model::LazyModel> {
    let spec = ModelSpec::parse(&args.model)?;
    Ok(weightstream::model::LazyModel::open(&spec)?)
}

pub mod check;
pub mod choices;
#[cfg(feature = "rtl")]
pub mod cosim;
pub mod cost;
pub mod diff;
pub mod merge;
pub mod report;
pub mod study;
pub mod sweep;
