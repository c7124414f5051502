//! `weightstream merge`: the partial files of a sharded run (`--shard I/N`) combined into exactly
//! the output the unsharded run writes.

use std::io;
use std::path::PathBuf;

use anyhow::Result;
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
    /// Print nothing to the terminal (files are still written).
    #[arg(long)]
    quiet: bool,
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
        .check()?;
    let merged = report::lazy::merge(&args.partials)?;
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
