//! `weightstream diff A.json B.json`: per-layer deltas of two report.json files (bus words,
//! bandwidth saved, RTL cycles when both have them).

use std::io::{self, Write};
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;

use weightstream::diff;

#[derive(Args)]
pub struct DiffArgs {
    /// The first report.json (A, the baseline).
    a: PathBuf,
    /// The second report.json (B); deltas are B - A.
    b: PathBuf,
    /// Also write the comparison as JSON.
    #[arg(long)]
    json: Option<PathBuf>,
}

pub fn run_diff(args: &DiffArgs) -> Result<()> {
    let a = diff::load(&args.a)?;
    let b = diff::load(&args.b)?;
    let d = diff::diff(&a, &b)?;
    let mut out = io::stdout().lock();
    diff::write_text(&d, &mut out)?;
    out.flush()?;
    if let Some(path) = &args.json {
        let json = serde_json::to_string_pretty(&d)?;
        std::fs::write(path, json + "\n").with_context(|| format!("{}: cannot write", path.display()))?;
    }
    Ok(())
}
