//! The `weightstream` command line: parses flags, runs the library, prints one-line errors.

mod cli;

use std::io;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "weightstream", version, about = "What compressed weight streams save, measured on the wire")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Per-layer bandwidth of every stream format (every stream decoded back bit-exact first).
    Report(cli::report::ReportArgs),
    /// Lists a model's tensors: which become layer matrices (O x K) and which stay dense, and what
    /// a group of N:M pruning (--nm) is in each layer.
    Layers(cli::check::LayersArgs),
    /// Runs every selected layer through the RTL decoders + PE array (Verilator) and checks every
    /// beat and output against the golden model; measures cycles and words on the wire.
    #[cfg(feature = "rtl")]
    Cosim(cli::cosim::CosimArgs),
    /// Per-layer deltas of two report.json files: bus words, saved %, RTL cycles when both have them.
    Diff(cli::diff::DiffArgs),
    /// The compression study: codec pipelines (36 pairs of six algorithms, delta variants,
    /// external codecs) on every layer, verified round trips, entropy bounds, verdict.
    Study(cli::study::StudyArgs),
    /// What each decoder costs in hardware at a design point: yosys cells, flip-flops, memory
    /// bits, logic levels, and iCE40 HX8K LCs / BRAM / Fmax (nextpnr-ice40), per format.
    Cost(cli::cost::CostArgs),
    /// Design-space sweep: comma lists of N, B, R, P, MAX_O, QA, ACC, sparsity and Q; per point
    /// and format the model's bus words, saved %, front-end cost, Pareto front, chart.
    Sweep(cli::sweep::SweepArgs),
    /// Combines the partial files of a sharded run (`report`, `sweep`, `cosim` or `study` with
    /// `--shard I/N`) into the output of the unsharded run.
    Merge(cli::merge::MergeArgs),
    /// Decodes every stream of an --emit-streams directory and reports the first malformed one.
    Check {
        /// The directory or its manifest.json.
        path: PathBuf,
    },
    /// Prints rtl/ws_defs.vh, the Verilog header generated from the RTL facts table
    /// rtl/ws_rtl.toml (FORMAT codes, error codes, parameter ranges).
    RtlHeader,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Report(args) => cli::report::run_report(args),
        Command::Layers(args) => cli::check::run_layers(args),
        Command::Check { path } => cli::check::run_check(path),
        Command::Diff(args) => cli::diff::run_diff(args),
        Command::Merge(args) => cli::merge::run_merge(args),
        Command::Cost(args) => cli::cost::run_cost(args),
        Command::Study(args) => cli::study::run_study(args),
        Command::Sweep(args) => cli::sweep::run_sweep(args),
        Command::RtlHeader => {
            print!("{}", weightstream::rtl::verilog_header());
            Ok(())
        }
        #[cfg(feature = "rtl")]
        Command::Cosim(args) => cli::cosim::run_cosim(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // A closed pipe (e.g. `| head`) is not an error worth a message.
            if e.downcast_ref::<io::Error>().is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe) {
                return ExitCode::SUCCESS;
            }
            eprintln!("weightstream: error: {}", one_line(&e));
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes on one line, each said once: many errors of the library already
/// spell out their source in their own message (`{path}: {source}`), and anyhow's `{:#}` would
/// repeat it.
fn one_line(e: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line += ": ";
        }
        line += &text;
    }
    line.replace('\n', " ")
}
