//! Encode + decode throughput of every format on a whole MobileNetV2 (the real one when the cache
//! has it, else the synthetic layout): the speed target lives here, not in a timed test.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use weightstream::model::{Model, ModelSpec};
use weightstream::prepare::{prepare, PrepareConfig};
use weightstream::{Format, StreamParams};

fn bench(c: &mut Criterion) {
    let model = Model::load(&ModelSpec::MobileNetV2)
        .or_else(|_| Model::load(&ModelSpec::parse("synthetic:mobilenet_v2").expect("spec")))
        .expect("model");
    let layers = prepare(&model, &PrepareConfig::default()).expect("prepare");
    let params = StreamParams::default();
    let weights: u64 = layers.iter().map(|l| l.matrix.len() as u64).sum();
    let mut group = c.benchmark_group(format!("{} whole model", model.name));
    group.throughput(Throughput::Elements(weights));
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(3));
    for format in Format::ALL {
        group.bench_function(format!("{format} encode"), |b| {
            b.iter(|| {
                layers.iter().map(|l| format.encode(&l.matrix, &params).expect("encode").bits.len()).sum::<usize>()
            })
        });
        let streams: Vec<_> = layers.iter().map(|l| format.encode(&l.matrix, &params).expect("encode")).collect();
        group.bench_function(format!("{format} decode"), |b| {
            b.iter(|| streams.iter().map(|s| s.decode("bench").expect("decode").len()).sum::<usize>())
        });
    }
    group.bench_function("all formats encode+decode", |b| {
        b.iter(|| {
            let mut n = 0;
            for l in &layers {
                for format in Format::ALL {
                    n += format.encode(&l.matrix, &params).expect("encode").decode("bench").expect("decode").len();
                }
            }
            n
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
