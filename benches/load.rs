//! Loading and preparing, in weights per second: MobileNetV2 from its PyTorch file (the cache's,
//! else skipped with a note), a generated 64 Mi-weight f32 safetensors matrix opened lazily and
//! read a row block at a time, and the prepare step (finite check, histogram pruning cut,
//! quantization) on that matrix. The 1 GiB end-to-end figure is a documented command
//! (docs/report.md, "Large checkpoints"), not a bench.

use std::io::Write;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use weightstream::model::{LazyModel, Model, ModelSpec};
use weightstream::prepare::{self, PrepareConfig};

const ROWS: usize = 8192;
const COLS: usize = 8192;

/// A rows x cols f32 matrix as a safetensors file (values from a fixed LCG).
fn matrix_file(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("m.safetensors");
    let mut header =
        format!(r#"{{"w":{{"dtype":"F32","shape":[{ROWS},{COLS}],"data_offsets":[0,{}]}}}}"#, ROWS * COLS * 4);
    while header.len() % 8 != 0 {
        header.push(' ');
    }
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).expect("create"));
    f.write_all(&(header.len() as u64).to_le_bytes()).expect("write");
    f.write_all(header.as_bytes()).expect("write");
    let mut x = 1u64;
    let mut row = Vec::with_capacity(COLS * 4);
    for _ in 0..ROWS {
        row.clear();
        for _ in 0..COLS {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            row.extend_from_slice(&(((x >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 0.1).to_le_bytes());
        }
        f.write_all(&row).expect("write");
    }
    f.flush().expect("flush");
    path
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("load");
    group.sample_size(10);
    match Model::load(&ModelSpec::MobileNetV2) {
        Ok(m) => {
            group.throughput(Throughput::Elements(m.tensors.iter().map(|t| t.numel() as u64).sum()));
            group.bench_function("mobilenet_v2 .pth, every tensor (elements = weights)", |b| {
                b.iter(|| Model::load(&ModelSpec::MobileNetV2).expect("load").tensors.len())
            });
        }
        Err(e) => eprintln!("load bench: MobileNetV2 skipped ({e})"),
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let path = matrix_file(dir.path());
    let spec = ModelSpec::Path(path);
    group.throughput(Throughput::Elements((ROWS * COLS) as u64));
    group.bench_function("8192x8192 f32 safetensors, lazily, 1280 rows at a time", |b| {
        b.iter(|| {
            let m = LazyModel::open(&spec).expect("open");
            let t = &m.tensors[0];
            let mut sum = 0usize;
            for first in (0..ROWS).step_by(1280) {
                let rows = 1280.min(ROWS - first);
                sum += t.read(first * COLS, rows * COLS).expect("read").len();
            }
            sum
        })
    });
    let loaded = Model::load(&spec).expect("load");
    let layers: Vec<_> = loaded.layers().collect();
    let cfg = PrepareConfig::default();
    group.bench_function("prepare 8192x8192: plan (finite, cut, scale) + quantize", |b| {
        b.iter(|| {
            let plans = prepare::plan(&layers, &cfg).expect("plan");
            prepare::prepare_rows(&layers[0], &plans[0], &cfg, 0, ROWS, 0).expect("prepare").pruned
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
