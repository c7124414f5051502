//! `weightstream layers` and `weightstream check`: what a model holds, and whether emitted
//! streams decode.

use std::io::{self, Write};
use std::path::Path;

use anyhow::Result;

use super::{load, ModelArgs};
use weightstream::emit::check_dir;

pub fn run_layers(args: &ModelArgs) -> Result<()> {
    let model = load(args)?;
    let stdout = io::stdout();
    let mut out = stdout.lock();
    writeln!(out, "{} ({}), {} parameters", model.name, model.provenance.label(), model.parameter_count())?;
    for t in &model.tensors {
        let shape: Vec<String> = t.shape.iter().map(|d| d.to_string()).collect();
        let role = if t.dtype.is_float() && t.shape.len() >= 2 {
            format!("layer {} x {}", t.shape[0], t.shape[1..].iter().product::<usize>())
        } else if t.dtype.is_float() {
            "dense remainder".to_string()
        } else {
            "integer (ignored)".to_string()
        };
        writeln!(out, "{:<48} {:>16} {:>5}  {}", t.name, shape.join("x"), t.dtype.to_string(), role)?;
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
