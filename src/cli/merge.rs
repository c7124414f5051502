//! `weightstream merge`: the partial files of a sharded run (`--shard I/N`) combined into exactly
//! the output the unsharded run writes.

use std::io;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;

use weightstream::outputs;
use weightstream::report::{self, CsvReporter, JsonReporter, MarkdownReporter, Reporter, TableReporter};

#[derive(Args)]
pub struct MergeArgs {
    /// The partial files, one per shard, in any order.
    #[arg(required = true)]
    partials: Vec<PathBuf>,
    /// Write the merged report as JSON.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Write the merged report as CSV.
    #[arg(long)]
    csv: Option<PathBuf>,
    /// Write the merged report as Markdown.
    #[arg(long)]
    markdown: Option<PathBuf>,
    /// A merged sweep: write sweep.csv, sweep.json, sweep.txt and the chart here.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Print nothing to the terminal (files are still written).
    #[arg(long)]
    quiet: bool,
}

/// The command a partial file was written by.
fn command_of(path: &std::path::Path) -> Result<String> {
    #[derive(serde::Deserialize)]
    struct Head {
        command: String,
    }
    let file = std::fs::File::open(path).with_context(|| format!("{}: cannot read", path.display()))?;
    let head: Head = serde_json::from_reader(io::BufReader::new(file))
        .with_context(|| format!("{}: not a weightstream partial file", path.display()))?;
    Ok(head.command)
}

pub fn run_merge(args: &MergeArgs) -> Result<()> {
    let mut paths = outputs::Paths::default();
    for p in &args.partials {
        paths = paths.input("partial", p);
    }
    paths
        .file("--json", args.json.as_deref())
        .file("--csv", args.csv.as_deref())
        .file("--markdown", args.markdown.as_deref())
        .dir("--out", args.out.as_deref())
        .check()?;
    let command = command_of(&args.partials[0])?;
    if command == super::study::COMMAND {
        let to = super::study::StudyOutputs {
            csv: args.csv.as_deref(),
            json: args.json.as_deref(),
            markdown: args.markdown.as_deref(),
            out: args.out.as_deref(),
        };
        return super::study::merge_study(&args.partials, args.quiet, &to);
    }
    #[cfg(feature = "rtl")]
    if command == super::cosim::COMMAND {
        if args.csv.is_some() || args.markdown.is_some() || args.out.is_some() {
            anyhow::bail!("a merged co-simulation writes --json and the table only");
        }
        return super::cosim::merge_cosim(&args.partials, args.json.as_deref());
    }
    if command == super::sweep::COMMAND {
        let to = super::sweep::SweepOutputs {
            csv: args.csv.as_deref(),
            json: args.json.as_deref(),
            out: args.out.as_deref(),
        };
        if args.markdown.is_some() {
            anyhow::bail!("--markdown: a sweep has no Markdown output");
        }
        return super::sweep::merge_sweep(&args.partials, &to);
    }
    if args.out.is_some() {
        anyhow::bail!("--out: a merged report writes --json, --csv and --markdown (the bundle needs `report --out`)");
    }
    let mut merged = report::lazy::merge(&args.partials)?;
    // The clocks the unsharded `report` would use (cached Fmax, else the default clock).
    super::report::apply_cached_clocks(&mut merged, weightstream::report::energy::DEFAULT_CLOCK_MHZ);
    if !args.quiet {
        TableReporter.write(&merged, &mut io::stdout().lock())?;
    }
    for (path, reporter) in
        [(&args.json, &JsonReporter as &dyn Reporter), (&args.csv, &CsvReporter), (&args.markdown, &MarkdownReporter)]
    {
        if let Some(path) = path {
            super::report::write_file(path, reporter, &merged)?;
        }
    }
    Ok(())
}
