//! Co-simulation speed: beats verified per second through each RTL top on a real-sized layer
//! (MobileNetV2's classifier, 1000 x 1280, from the cache, else the synthetic layout), and the
//! whole model in all four formats. Speed targets live here, not in timed tests.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use weightstream::cosim::{self, CosimOptions};
use weightstream::model::{Model, ModelSpec};
use weightstream::prepare::{prepare, PrepareConfig};
use weightstream::rtl::DesignPoint;
use weightstream::Format;

fn bench(c: &mut Criterion) {
    let model = Model::load(&ModelSpec::MobileNetV2)
        .or_else(|_| Model::load(&ModelSpec::parse("synthetic:mobilenet_v2").expect("spec")))
        .expect("model");
    let layers = prepare(&model, &PrepareConfig::default()).expect("prepare");
    let params = DesignPoint::default();
    let opts = CosimOptions::default();
    let classifier = layers.last().expect("layers");
    let mut group = c.benchmark_group(format!("cosim {}", model.name));
    group.sample_size(10);
    for format in Format::ALL {
        let run = cosim::run_matrix(&classifier.name, &classifier.matrix, format, &params, &opts).expect("run");
        group.throughput(Throughput::Elements(run.total_cycles));
        group.bench_function(format!("{format} classifier (elements = cycles)"), |b| {
            b.iter(|| {
                cosim::run_matrix(&classifier.name, &classifier.matrix, format, &params, &opts).expect("run").mismatches
            })
        });
    }
    group.throughput(Throughput::Elements(layers.len() as u64 * 4));
    group.bench_function("whole model, all formats (elements = layer runs)", |b| {
        b.iter(|| {
            let mut mismatches = 0;
            for l in &layers {
                for format in Format::ALL {
                    mismatches +=
                        cosim::run_matrix(&l.name, &l.matrix, format, &params, &opts).expect("run").mismatches;
                }
            }
            assert_eq!(mismatches, 0);
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
