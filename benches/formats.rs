//! Encode + decode throughput of every format on a whole MobileNetV2 (the real one when the cache
//! has it, else the synthetic layout): the speed target lives here, not in a timed test.
//!
//! Time is the benchmark thread's CPU time (`CLOCK_THREAD_CPUTIME_ID`), so the throughput is
//! weights per second of one core even on a machine shared with other work; `WS_BENCH_WALL=1`
//! measures wall-clock time instead.

use std::time::Duration;

use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use criterion::{Criterion, Throughput};
use weightstream::formats::nm;
use weightstream::model::{Model, ModelSpec};
use weightstream::prepare::{prepare, PrepareConfig};
use weightstream::{Format, QuantMatrix, StreamParams};

fn bench<M: Measurement>(c: &mut Criterion<M>) {
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
    // nm runs on the layers made 2:4 (the unstructured ones are not n:m).
    let nm_layers: Vec<_> = layers.iter().map(|l| nm::thin(&l.matrix, params.nm)).collect();
    let matrices = |format: Format| -> Vec<&QuantMatrix> {
        if format == Format::Nm {
            nm_layers.iter().collect()
        } else {
            layers.iter().map(|l| &l.matrix).collect()
        }
    };
    for format in Format::ALL {
        let ms = matrices(format);
        group.bench_function(format!("{format} encode"), |b| {
            b.iter(|| ms.iter().map(|m| format.encode(m, &params).expect("encode").bits.len()).sum::<usize>())
        });
        let streams: Vec<_> = ms.iter().map(|m| format.encode(m, &params).expect("encode")).collect();
        group.bench_function(format!("{format} decode"), |b| {
            b.iter(|| streams.iter().map(|s| s.decode("bench").expect("decode").len()).sum::<usize>())
        });
    }
    group.bench_function("all formats encode+decode", |b| {
        b.iter(|| {
            let mut n = 0;
            for format in Format::ALL {
                for m in matrices(format) {
                    n += format.encode(m, &params).expect("encode").decode("bench").expect("decode").len();
                }
            }
            n
        })
    });
    group.finish();
}

/// The calling thread's CPU time.
struct ThreadCpuTime;

fn thread_cpu_now() -> Duration {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec for the duration of the call.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

impl Measurement for ThreadCpuTime {
    type Intermediate = Duration;
    type Value = Duration;
    fn start(&self) -> Duration {
        thread_cpu_now()
    }
    fn end(&self, start: Duration) -> Duration {
        thread_cpu_now().saturating_sub(start)
    }
    fn add(&self, a: &Duration, b: &Duration) -> Duration {
        *a + *b
    }
    fn zero(&self) -> Duration {
        Duration::ZERO
    }
    fn to_f64(&self, v: &Duration) -> f64 {
        v.as_nanos() as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        // Values are nanoseconds, as wall-clock ones are.
        WallTime.formatter()
    }
}

fn main() {
    if std::env::var_os("WS_BENCH_WALL").is_some() {
        let mut c = Criterion::default().configure_from_args();
        bench(&mut c);
        c.final_summary();
    } else {
        let mut c = Criterion::default().with_measurement(ThreadCpuTime).configure_from_args();
        bench(&mut c);
        c.final_summary();
    }
}
