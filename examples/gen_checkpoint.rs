//! Writes a large synthetic safetensors checkpoint for scale tests: `--shards` files of one
//! `rows x cols` f32 matrix each (seeded Laplacian values, written a chunk at a time, so the
//! generator itself needs little memory), plus `model.safetensors.index.json` when there is more
//! than one shard.
//!
//! ```text
//! cargo run --release --example gen_checkpoint -- /tmp/big.safetensors --rows 16384 --cols 16384
//! cargo run --release --example gen_checkpoint -- /tmp/big4 --rows 16384 --cols 16384 --shards 4
//! ```

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Parser;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

#[derive(Parser)]
struct Args {
    /// Output: the .safetensors file (one shard), or a new directory (several).
    out: PathBuf,
    /// Rows O of each matrix.
    #[arg(long, default_value_t = 16384)]
    rows: usize,
    /// Columns K of each matrix.
    #[arg(long, default_value_t = 16384)]
    cols: usize,
    /// Files, one matrix each.
    #[arg(long, default_value_t = 1)]
    shards: usize,
    /// Random seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

fn write_shard(path: &PathBuf, name: &str, rows: usize, cols: usize, seed: u64) -> Result<()> {
    if path.exists() {
        bail!("{}: exists; not overwriting", path.display());
    }
    let bytes = rows * cols * 4;
    let mut header = format!(r#"{{"{name}":{{"dtype":"F32","shape":[{rows},{cols}],"data_offsets":[0,{bytes}]}}}}"#);
    while header.len() % 8 != 0 {
        header.push(' ');
    }
    let mut w = BufWriter::with_capacity(1 << 20, File::create(path).with_context(|| path.display().to_string())?);
    w.write_all(&(header.len() as u64).to_le_bytes())?;
    w.write_all(header.as_bytes())?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut row = vec![0u8; cols * 4];
    for _ in 0..rows {
        for c in row.chunks_exact_mut(4) {
            // Laplacian, scale 0.02: what trained weights look like to magnitude pruning.
            let u: f32 = rng.random::<f32>() - 0.5;
            let v = -0.02 * u.signum() * (1.0 - 2.0 * u.abs()).max(f32::MIN_POSITIVE).ln();
            c.copy_from_slice(&v.to_le_bytes());
        }
        w.write_all(&row)?;
    }
    w.flush()?;
    Ok(())
}

fn main() -> Result<()> {
    let a = Args::parse();
    if a.shards <= 1 {
        return write_shard(&a.out, "weight", a.rows, a.cols, a.seed);
    }
    std::fs::create_dir(&a.out).with_context(|| format!("{}: creating the directory", a.out.display()))?;
    let mut map = Vec::new();
    for i in 0..a.shards {
        let file = format!("model-{:05}-of-{:05}.safetensors", i + 1, a.shards);
        let name = format!("layers.{i}.weight");
        write_shard(&a.out.join(&file), &name, a.rows, a.cols, a.seed + i as u64)?;
        map.push(format!(r#""{name}":"{file}""#));
    }
    let index = format!(r#"{{"metadata":{{}},"weight_map":{{{}}}}}"#, map.join(","));
    std::fs::write(a.out.join("model.safetensors.index.json"), index)?;
    Ok(())
}
