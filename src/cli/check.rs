//! `weightstream layers` and `weightstream check`: what a model holds (and how N:M pruning groups
//! each layer's columns), and whether emitted streams decode.

use std::io::{self, Write};
use std::path::Path;

use anyhow::Result;
use clap::Args;

use super::{load, ModelArgs};
use weightstream::emit::check_dir;
use weightstream::formats::NmPattern;
use weightstream::quant::ColumnOrder;

#[derive(Args)]
pub struct LayersArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// The N:M pattern whose groups the last column describes (as `--prune nm --nm` forms them).
    #[arg(long, default_value_t = NmPattern::default())]
    nm: NmPattern,
}

/// What a group of m consecutive columns is in a layer of `shape` under N:M pruning.
pub fn nm_groups(shape: &[usize], m: u32) -> String {
    match (ColumnOrder::for_nm(shape), shape) {
        (ColumnOrder::ChannelsLast { inputs, .. }, _) if inputs % m as usize == 0 => {
            format!("{m} input channels at one kernel position")
        }
        (ColumnOrder::ChannelsLast { inputs, .. }, _) => {
            format!("{m} columns channels-last (I = {inputs}: groups straddle kernel positions)")
        }
        (ColumnOrder::Stored, [_, 1, kh, kw]) if kh.checked_mul(*kw).is_some_and(|p| p > 1) => {
            format!("{m} kernel positions (depthwise)")
        }
        (ColumnOrder::Stored, _) => format!("{m} consecutive inputs"),
    }
}

pub fn run_layers(args: &LayersArgs) -> Result<()> {
    let model = load(&args.model)?;
    let stdout = io::stdout();
    let mut out = stdout.lock();
    writeln!(out, "{} ({}), {} parameters", model.name, model.provenance.label(), model.parameter_count())?;
    let rows: Vec<[String; 5]> = model
        .tensors
        .iter()
        .map(|t| {
            let shape: Vec<String> = t.shape.iter().map(|d| d.to_string()).collect();
            let layer = t.dtype.is_float() && t.shape.len() >= 2;
            let role = if layer {
                format!("layer {} x {}", t.shape[0], t.shape[1..].iter().product::<usize>())
            } else if t.dtype.is_float() {
                "dense remainder".to_string()
            } else {
                "integer (ignored)".to_string()
            };
            let groups = if layer { nm_groups(&t.shape, args.nm.group) } else { String::new() };
            [t.name.clone(), shape.join("x"), t.dtype.to_string(), role, groups]
        })
        .collect();
    let header = ["tensor", "shape", "dtype", "role", &format!("N:M groups ({})", args.nm)].map(String::from);
    // Columns as wide as their longest cell.
    let mut width = [0usize; 5];
    for row in std::iter::once(&header).chain(&rows) {
        for (w, cell) in width.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    for row in std::iter::once(&header).chain(&rows) {
        let line = format!(
            "{:<w0$}  {:>w1$}  {:>w2$}  {:<w3$}  {}",
            row[0],
            row[1],
            row[2],
            row[3],
            row[4],
            w0 = width[0],
            w1 = width[1],
            w2 = width[2],
            w3 = width[3]
        );
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

pub fn run_check(path: &Path) -> Result<()> {
    let manifest = if path.is_dir() { path.join("manifest.json") } else { path.to_path_buf() };
    let checked = check_dir(&manifest)?;
    println!(
        "{}: {} streams verified (SHA-256 of .bin and .hex, .hex = .bin word for word, decoded and re-encoded bit-exact, sizes as listed)",
        manifest.display(),
        checked.len()
    );
    Ok(())
}
