//! Encode and decode throughput of every study stage (src/study/stages) on the largest layer of
//! MobileNetV2 (the real one when the cache has it, else the synthetic layout), pruned to 0.7 and
//! quantized to 8 bits. Rice and Exp-Golomb get the zigzagged tensor, as in a pipeline.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use weightstream::model::{Model, ModelSpec};
use weightstream::prepare::{prepare, PrepareConfig};
use weightstream::study::stages::{parse_stage, STAGES};
use weightstream::study::stream::{Ctx, Stream};

/// Every built-in stage, plus Huffman with a hardware-friendly length limit.
fn stage_specs() -> Vec<&'static str> {
    let mut specs = STAGES.to_vec();
    specs.push("huffman:12");
    specs
}

fn bench(c: &mut Criterion) {
    let model = Model::load(&ModelSpec::MobileNetV2)
        .or_else(|_| Model::load(&ModelSpec::parse("synthetic:mobilenet_v2").expect("spec")))
        .expect("model");
    let layers = prepare(&model, &PrepareConfig::default()).expect("prepare");
    let layer = layers.iter().max_by_key(|l| l.matrix.len()).expect("a layer");
    let m = &layer.matrix;
    let ctx = Ctx { rows: m.rows, cols: m.cols, bits: m.bits };
    let tensor = Stream::from_matrix(m);
    let zig = parse_stage("zigzag").expect("zigzag").encode(&tensor, &ctx).expect("zigzag").remove(0);
    let mut group = c.benchmark_group(format!("{} {} ({}x{})", model.name, layer.name, m.rows, m.cols));
    group.throughput(Throughput::Elements(m.len() as u64));
    group.sample_size(10);
    for name in stage_specs() {
        let stage = parse_stage(name).expect("stage");
        let input = if name == "rice" || name == "expgolomb" { &zig } else { &tensor };
        group.bench_function(format!("{name} encode"), |b| b.iter(|| stage.encode(input, &ctx).expect("encode")));
        let out = stage.encode(input, &ctx).expect("encode");
        group.bench_function(format!("{name} decode"), |b| b.iter(|| stage.decode(out.clone(), &ctx).expect("decode")));
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
