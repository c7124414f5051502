//! `weightstream diff A.json B.json`: per-layer deltas of two report.json files (bus words,
//! bandwidth saved, RTL cycles when both have them).

use std::io::{self, Write};
use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use weightstream::diff;
use weightstream::outputs;

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
    outputs::Paths::default().input("A", &args.a).input("B", &args.b).file("--json", args.json.as_deref()).check()?;
    let a = diff::load(&args.a)?;
    let b = diff::load(&args.b)?;
    let d = diff::diff(&a, &b)?;
    let mut out = io::stdout().lock();
    diff::write_text(&d, &mut out)?;
    out.flush()?;
    if let Some(path) = &args.json {
        let json = serde_json::to_string_pretty(&d)?;
        outputs::write_bytes(path, (json + "\n").as_bytes())?;
    }
    Ok(())
}
