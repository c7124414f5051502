//! Co-simulation speed: beats verified per second through each RTL top on a real-sized layer
//! (MobileNetV2's classifier, 1000 x 1280, from the cache, else the synthetic layout), and the
//! whole model in all four formats. Speed targets live here, not in timed tests.
//!
//! The harness is measured against a plain C++ testbench of the same top (`cosim_tb.cpp`,
//! built by `weightstream_sim::build_testbench` with the harness's Verilator flags and compiler
//! options) running the same stimulus with the same checks: the bench writes the classifier's
//! bus words, activations and golden beats and y to a temporary file, runs both side by side
//! (alternating, so that a machine whose speed drifts moves both alike) and prints the harness's
//! cycles/s, the testbench's and their ratio, for bitmap and csc; criterion then times each.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use weightstream::bits::word_limbs;
use weightstream::blocks;
use weightstream::cosim::{self, CosimOptions, Expected};
use weightstream::formats::{nm, EncodedStream};
use weightstream::model::{Model, ModelSpec};
use weightstream::prepare::{prepare, PrepareConfig};
use weightstream::rtl::DesignPoint;
use weightstream::{Format, QuantMatrix};

/// The C++ testbench's main (see its header for the stimulus format).
const TB_MAIN: &str = include_str!("cosim_tb.cpp");

/// One layer's stimulus and golden results, as both the harness and the C++ testbench get them.
struct Case {
    name: String,
    stream: EncodedStream,
    acts: Vec<i32>,
    expected: Expected,
}

impl Case {
    fn new(name: &str, w: &weightstream::matrix::QuantMatrix, format: Format, design: &DesignPoint) -> Case {
        let mut blocked = blocks::encode_blocks(format, w, &design.stream(), design.max_rows).expect("encode");
        assert_eq!(blocked.blocks.len(), 1, "the bench layer fits the PE array in one block");
        let acts = weightstream::pe::random_activations(w.cols, design.act_bits, 1);
        let expected = cosim::expected(format, w, &acts, design);
        Case { name: name.to_string(), stream: blocked.blocks.remove(0), acts, expected }
    }

    fn harness(&self, design: &DesignPoint, opts: &CosimOptions) -> cosim::LayerRun {
        let run = cosim::run_layer(&self.name, None, &self.stream, &self.acts, &self.expected, design, opts)
            .expect("harness run");
        assert_eq!(run.mismatches, 0, "{:?}", run.mismatch_line());
        run
    }

    /// Writes the stimulus file of cosim_tb.cpp.
    fn write_stimulus(&self, path: &Path, design: &DesignPoint) {
        let p = &self.stream.params;
        let n_words = self.stream.bus_words();
        let wlimbs = (p.bus_bits as usize).div_ceil(32);
        let n_beats = self.expected.beats.len() / p.lanes;
        let blimbs = (p.lanes * p.weight_bits as usize).div_ceil(32);
        let budget = 64 + 8 * (n_words + n_beats + self.stream.rows + self.stream.cols) as u64;
        let mut out: Vec<u8> = Vec::new();
        let mut u32s = |v: &[u32]| v.iter().for_each(|x| out.extend_from_slice(&x.to_le_bytes()));
        u32s(&[
            0x4254_5357,
            self.stream.rows as u32,
            self.stream.cols as u32,
            n_words as u32,
            wlimbs as u32,
            self.acts.len() as u32,
            n_beats as u32,
            blimbs as u32,
            self.expected.y.len() as u32,
            design.acc_bits,
            budget as u32,
        ]);
        for j in 0..n_words {
            u32s(&word_limbs(self.stream.word(j)));
        }
        let act_mask = weightstream::bits::mask(design.act_bits) as u32;
        u32s(&self.acts.iter().map(|&a| a as u32 & act_mask).collect::<Vec<_>>());
        u32s(&cosim::packed_beats(&self.expected.beats, p.lanes, p.weight_bits));
        for y in &self.expected.y {
            out.extend_from_slice(&y.to_le_bytes());
        }
        std::fs::write(path, out).expect("write stimulus");
    }
}

/// Runs the C++ testbench `iters` times on a fresh model each: (cycles, time) summed.
fn run_tb(tb: &Path, stimulus: &Path, iters: u64) -> (u64, Duration) {
    let out = Command::new(tb).arg(stimulus).arg(iters.to_string()).output().expect("run the C++ testbench");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "C++ testbench failed: {text} {}", String::from_utf8_lossy(&out.stderr));
    let f: Vec<&str> = text.split_whitespace().collect();
    let field = |k: &str| -> u64 {
        let i = f.iter().position(|x| *x == k).unwrap_or_else(|| panic!("no {k} in {text:?}"));
        f[i + 1].parse().expect("number")
    };
    assert_eq!(field("bad"), 0, "the C++ testbench saw mismatches: {text}");
    (field("cycles"), Duration::from_nanos(field("ns")))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn bench(c: &mut Criterion) {
    let model = Model::load(&ModelSpec::MobileNetV2)
        .or_else(|_| Model::load(&ModelSpec::parse("synthetic:mobilenet_v2").expect("spec")))
        .expect("model");
    let layers = prepare(&model, &PrepareConfig::default()).expect("prepare");
    let params = DesignPoint::default();
    let opts = CosimOptions::default();
    let classifier = layers.last().expect("layers");

    // The harness against the C++ testbench, side by side.
    let dir = tempfile::tempdir().expect("temp dir");
    let mut group = c.benchmark_group(format!("harness vs C++ testbench, {}", model.name));
    group.sample_size(10);
    for format in [Format::Bitmap, Format::Csc] {
        let case = Case::new(&classifier.name, &classifier.matrix, format, &params);
        let stimulus: PathBuf = dir.path().join(format!("{format}.stim"));
        case.write_stimulus(&stimulus, &params);
        let tb = weightstream_sim::build_testbench(
            &cosim::testbench_request(format, &params).expect("the RTL"),
            TB_MAIN,
            &mut |e| eprintln!("tb: {e:?}"),
        )
        .expect("build the C++ testbench");
        let cycles = case.harness(&params, &opts).total_cycles;
        let (tb_cycles, _) = run_tb(&tb, &stimulus, 1);
        assert_eq!(tb_cycles, cycles, "the C++ testbench runs as many cycles as the harness");
        let (mut ours, mut theirs, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..7 {
            let t = Instant::now();
            for _ in 0..3 {
                case.harness(&params, &opts);
            }
            let h = 3.0 * cycles as f64 / t.elapsed().as_secs_f64();
            let (n, d) = run_tb(&tb, &stimulus, 3);
            let t = n as f64 / d.as_secs_f64();
            ours.push(h);
            theirs.push(t);
            ratios.push(t / h);
        }
        eprintln!(
            "{format} {}: harness {:.3} M cycles/s, C++ testbench {:.3} M cycles/s, ratio (tb / harness) {:.3} \
             (medians of 7 alternating rounds of 3 runs; {cycles} cycles a run)",
            classifier.name,
            median(ours) / 1e6,
            median(theirs) / 1e6,
            median(ratios)
        );
        group.throughput(Throughput::Elements(cycles));
        group.bench_function(format!("{format} classifier, harness (elements = cycles)"), |b| {
            b.iter(|| case.harness(&params, &opts).mismatches)
        });
        group.bench_function(format!("{format} classifier, C++ testbench (elements = cycles)"), |b| {
            b.iter_custom(|iters| run_tb(&tb, &stimulus, iters).1)
        });
    }
    group.finish();

    let mut group = c.benchmark_group(format!("cosim {}", model.name));
    group.sample_size(10);
    // nm runs on the layers made 2:4 (the unstructured ones are not n:m).
    let pattern = params.stream().nm;
    let matrix = |format: Format, m: &QuantMatrix| -> QuantMatrix {
        if format == Format::Nm {
            nm::thin(m, pattern)
        } else {
            m.clone()
        }
    };
    for format in Format::ALL {
        let m = matrix(format, &classifier.matrix);
        let run = cosim::run_matrix(&classifier.name, &m, format, &params, &opts).expect("run");
        group.throughput(Throughput::Elements(run.total_cycles));
        group.bench_function(format!("{format} classifier (elements = cycles)"), |b| {
            b.iter(|| cosim::run_matrix(&classifier.name, &m, format, &params, &opts).expect("run").mismatches)
        });
    }
    let thinned: Vec<_> = layers.iter().map(|l| matrix(Format::Nm, &l.matrix)).collect();
    group.throughput(Throughput::Elements(layers.len() as u64 * 4));
    group.bench_function("whole model, all formats (elements = layer runs)", |b| {
        b.iter(|| {
            let mut mismatches = 0;
            for (l, nm_matrix) in layers.iter().zip(&thinned) {
                for format in Format::ALL {
                    let m = if format == Format::Nm { nm_matrix } else { &l.matrix };
                    mismatches += cosim::run_matrix(&l.name, m, format, &params, &opts).expect("run").mismatches;
                }
            }
            assert_eq!(mismatches, 0);
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
