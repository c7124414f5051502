//! Co-simulation of the four RTL tops against the golden model: every beat and every y compared,
//! corner cases crossed with traffic patterns at both built parameter sets, malformed streams
//! ending in the right error (never a hang), real MobileNetV2 layers, the throughput target, a
//! deliberate mismatch that must produce a waveform, and lint/portability of every RTL file.

use std::process::Command;

use weightstream::cosim::{self, built_configs, CosimOptions, Expected, RtlError, Traffic};
use weightstream::formats::{nm, NmPattern};
use weightstream::rtl::DesignPoint;
use weightstream::{Format, QuantMatrix};

/// Both parameter sets must be built: a missing one is a failure, not a skip.
fn configs() -> Vec<(&'static str, DesignPoint)> {
    let c = built_configs();
    let names: Vec<_> = c.iter().map(|(n, _)| *n).collect();
    assert!(names.contains(&"n16_q8_b64") && names.contains(&"n8_q4_b32"), "built: {names:?}");
    for (n, d) in &c {
        let m = cosim::model_for(Format::Bitmap, d, &mut |_| panic!("{n} is built in, not built on demand")).unwrap();
        assert!(!m.is_dynamic(), "{n}");
    }
    c
}

fn set(name: &str) -> DesignPoint {
    configs().into_iter().find(|(n, _)| *n == name).unwrap().1
}

/// Cycles a format may take beyond 1.05 * max(beats, words): the pipeline's latency. CSC's
/// decoder parses a group of N entries ahead of the beats and checks its rows before the beats
/// can use it (two more stages, and a tile may wait for the whole next group): measured worst
/// 13.9 cycles over 1.05 x on MobileNetV2 per row block at n8_q4_b32 (features.14.conv.1.0) and 11.2
/// at n16_q8_b64 (features.9.conv.1.0, the compact structure).
fn latency(format: Format) -> f64 {
    match format {
        Format::Csc => 16.0,
        _ => 8.0,
    }
}

/// The throughput target of a run: (bound, allowance) with cycles <= 1.05 * bound + allowance.
/// The bound is max(beats, words), or for the bitmap-huffman decoders, whose loop takes a beat
/// in the cycles of its greedy walk (up to S codes per cycle, as many as end in the window;
/// `huffman::loop_cycles`), max(those cycles, words); their allowance adds the header's fields,
/// loaded one per cycle.
/// The lane-huffman decoders' bound is max(their cycle model, words), the model being
/// `lane_huffman::loop_cycles`: per beat its chunks R at a time (at least a cycle) and a cycle
/// more at a lane's first code; their allowance adds the header's cycles.
fn target(format: Format, run: &cosim::LayerRun, w: &QuantMatrix, p: &DesignPoint) -> (f64, f64) {
    let delta = match format {
        Format::BitmapHuffman => false,
        Format::DeltaBitmapHuffman => true,
        Format::LaneHuffman | Format::DeltaLaneHuffman => {
            assert!(w.rows <= p.max_rows, "one row block");
            let f = &weightstream::rtl::facts().lane_huffman;
            let (header, cycles) = weightstream::formats::lane_huffman::loop_cycles(
                w,
                &p.stream(),
                format == Format::DeltaLaneHuffman,
                f.chunks_per_cycle(p.lanes),
                f.counts_per_cycle,
                f.symbols_per_cycle(p.lanes, p.weight_bits),
            );
            return (cycles.max(run.words) as f64, latency(format) + header as f64);
        }
        _ => return (run.beats.max(run.words) as f64, latency(format)),
    };
    assert!(w.rows <= p.max_rows, "one row block");
    let h = &weightstream::rtl::facts().huffman;
    let (fields, cycles) =
        weightstream::formats::huffman::loop_cycles(w, &p.stream(), delta, h.units(p.lanes), h.code_window_bits);
    (cycles.max(run.words) as f64, latency(format) + fields as f64)
}

fn opts(traffic: Traffic, seed: u64) -> CosimOptions {
    CosimOptions { traffic, seed, wave_dir: std::env::temp_dir().join("weightstream-test-waves") }
}

/// Runs `w` through every top under every traffic pattern and demands a clean, complete match.
fn all_tops_match(name: &str, w: &QuantMatrix, p: &DesignPoint) {
    for format in Format::ALL {
        if not_nm(format, w, p) {
            continue;
        }
        for (i, traffic) in Traffic::ALL.into_iter().enumerate() {
            let run = cosim::run_matrix(name, w, format, p, &opts(traffic, 7 + i as u64)).unwrap();
            assert_eq!(run.mismatches, 0, "{name} {format} {traffic:?}: {}", run.mismatch_line().unwrap_or_default());
            assert_eq!(run.beats_verified, run.beats_expected, "{name} {format}");
            assert_eq!(run.y_verified, w.rows as u64, "{name} {format}");
            assert_eq!(run.error, None);
        }
    }
}

/// An `nm` run of a layer that is not n:m (default 2:4): the encoder refuses it (n/a), skipped.
fn not_nm(format: Format, w: &QuantMatrix, p: &DesignPoint) -> bool {
    format == Format::Nm && matches!(format.encode(w, &p.stream()), Err(e) if e.not_applicable())
}

/// The layer a format's run takes: `w`, or for nm `w` made 2:4 (an unstructured layer is not
/// n:m, and nm would have nothing to run).
fn for_format(format: Format, w: &QuantMatrix) -> std::borrow::Cow<'_, QuantMatrix> {
    if format == Format::Nm {
        std::borrow::Cow::Owned(nm::thin(w, NmPattern::TWO_FOUR))
    } else {
        std::borrow::Cow::Borrowed(w)
    }
}

/// MobileNetV2 made 2:4 and 1:4 (every layer, `nm::thin`) through the nm top at both sets: no
/// mismatch, and per layer cycles <= 1.02 x max(beats, words) + 16 per row block (the runs over
/// it are listed; with WS_NM_VERBOSE=1 every layer).
#[test]
fn nm_mobilenet_pruned_within_the_target() {
    use weightstream::formats::NmPattern;
    use weightstream::model::{Model, ModelSpec, MOBILENET_V2_FILE};
    use weightstream::prepare::{prepare, PrepareConfig};
    let path = crate::util::cached_model(MOBILENET_V2_FILE);
    let model = Model::load(&ModelSpec::Path(path)).unwrap();
    let mut over = Vec::new();
    for (set_name, p) in configs() {
        let cfg = PrepareConfig { bits: p.weight_bits, ..PrepareConfig::default() };
        let layers = prepare(&model, &cfg).unwrap();
        for (n, m) in [(2usize, 4usize), (1, 4)] {
            let mut sp = p.stream();
            sp.nm = NmPattern { keep: n as u32, group: m as u32 };
            let (mut cyc, mut bound, mut worst) = (0u64, 0u64, 0.0f64);
            for layer in &layers {
                let w = nm::thin(&layer.matrix, NmPattern { keep: n as u32, group: m as u32 });
                let stream = weightstream::blocks::encode_blocks(Format::Nm, &w, &sp, p.max_rows).unwrap();
                let a = weightstream::pe::random_activations(w.cols, p.act_bits, 5);
                let run = cosim::run_blocked(&layer.name, &stream, &w, &a, &p, &opts(Traffic::Full, 5)).unwrap();
                assert_eq!(run.mismatches, 0, "{set_name} {n}:{m} {}", run.mismatch_line().unwrap_or_default());
                assert_eq!(run.error, None);
                let b = run.beats.max(run.words);
                let nb = stream.blocks.len();
                let limit = 1.02 * b as f64 + 16.0 * nb as f64;
                let line = format!(
                    "{set_name} {n}:{m} {} ({}x{}, {nb} block(s)): {} cycles, beats {} words {}; \
                     1.02 x max(beats, words) + 16 per block = {limit:.1}",
                    layer.name, w.rows, w.cols, run.cycles, run.beats, run.words
                );
                if std::env::var_os("WS_NM_VERBOSE").is_some() {
                    eprintln!("{line}");
                }
                if run.cycles as f64 > limit {
                    over.push(line);
                }
                cyc += run.cycles;
                bound += b;
                worst = worst.max(run.cycles as f64 / b as f64);
            }
            eprintln!(
                "nm {set_name} {n}:{m}: {} layers, cycles {cyc} / max(beats, words) {bound} = {:.4} (worst layer {worst:.4})",
                layers.len(),
                cyc as f64 / bound as f64
            );
        }
    }
    assert!(over.is_empty(), "over the target:\n{}", over.join("\n"));
}

/// A deterministic pseudo-random layer of the given density.
fn random_layer(rows: usize, cols: usize, q: u32, density: f64, seed: u64) -> QuantMatrix {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let (lo, hi) = QuantMatrix::value_range(q);
    let mut w = QuantMatrix::zeros(rows, cols, q);
    for v in w.data.iter_mut() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        if (x % 1000) as f64 / 1000.0 < density {
            let span = (hi - lo + 1) as u64;
            *v = lo + ((x >> 20) % span) as i32;
        }
    }
    w
}

#[test]
fn corner_cases_every_top_every_traffic() {
    for (set, p) in configs() {
        let q = p.weight_bits;
        let n = p.lanes;
        let (lo, hi) = QuantMatrix::value_range(q);
        let span = 1usize << p.run_bits;
        let mut cases: Vec<(String, QuantMatrix)> = Vec::new();
        // An all-zero column between dense ones, and an all-nonzero beat.
        let mut w = random_layer(2 * n, 3, q, 1.0, 1);
        for o in 0..2 * n {
            w.data[o * 3 + 1] = 0;
            if w.data[o * 3] == 0 {
                w.data[o * 3] = 1;
            }
        }
        cases.push(("zero column, full beats".into(), w));
        cases.push(("O < N".into(), random_layer(n / 2 + 1, 5, q, 0.5, 2)));
        cases.push(("O not a multiple of N".into(), random_layer(2 * n + 3, 4, q, 0.4, 3)));
        cases.push(("K = 1".into(), random_layer(3 * n, 1, q, 0.6, 4)));
        cases.push(("O = 1".into(), random_layer(1, 9, q, 0.7, 5)));
        // Runs of 2^R - 1, 2^R and 3 * 2^R zeros, and a nonzero on the last row after a gap that
        // needs fillers right up to the column end.
        let rows = (span - 1) + 1 + span + 1 + 3 * span + 1 + 2 * span + 1;
        let mut w = QuantMatrix::zeros(rows, 3, q);
        for k in 0..3 {
            let mut row = 0;
            for gap in [span - 1, span, 3 * span, 2 * span] {
                row += gap;
                w.data[row * 3 + k] = if k == 1 { lo } else { hi - k as i32 };
                row += 1;
            }
            assert_eq!(row, rows);
        }
        cases.push(("runs and fillers".into(), w));
        // Delta wrap-around: differences of -2^(Q-1) and beyond along k.
        let mut w = QuantMatrix::zeros(n + 1, 6, q);
        for o in 0..n + 1 {
            let row = [hi, lo, hi, 0, lo, lo + 1];
            for (k, &v) in row.iter().enumerate() {
                w.data[o * 6 + k] = if (o + k) % 3 == 0 { 0 } else { v };
            }
        }
        cases.push(("delta wrap-around".into(), w));
        for (name, w) in &cases {
            all_tops_match(&format!("{set}: {name}"), w, &p);
        }
    }
}

#[test]
fn seeded_random_layers() {
    for (set, p) in configs() {
        let max_o = p.max_rows;
        for seed in 0..6u64 {
            let rows = 1 + (seed as usize * 37) % max_o.min(200);
            let cols = 1 + (seed as usize * 11) % 23;
            let density = [0.0, 0.05, 0.3, 0.5, 0.9, 1.0][seed as usize];
            let w = random_layer(rows, cols, p.weight_bits, density, seed + 100);
            for format in Format::ALL {
                let w = &*for_format(format, &w);
                let run = cosim::run_matrix("random", &w, format, &p, &opts(Traffic::Random, seed)).unwrap();
                assert_eq!(
                    run.mismatches,
                    0,
                    "{set} seed {seed} {format}: {}",
                    run.mismatch_line().unwrap_or_default()
                );
                assert_eq!(run.beats_verified, run.beats_expected);
            }
        }
    }
}

/// Runs a malformed stream; the RTL must flag `want`, fire only a prefix of the good beats and
/// output no y.
fn expect_error_at(
    name: &str,
    stream: &weightstream::formats::EncodedStream,
    w: &QuantMatrix,
    want: RtlError,
    d: &DesignPoint,
) {
    let a = weightstream::pe::random_activations(w.cols, d.act_bits, 3);
    let mut exp: Expected = cosim::expected(stream.format, w, &a, d);
    exp.error = Some(want);
    for traffic in Traffic::ALL {
        let run = cosim::run_layer(name, None, stream, &a, &exp, d, &opts(traffic, 5)).unwrap();
        assert_eq!(run.error, Some(want), "{name} {traffic:?}: {}", run.mismatch_line().unwrap_or_default());
        assert_eq!(run.mismatches, 0, "{name} {traffic:?}: {}", run.mismatch_line().unwrap_or_default());
        assert!(run.y_verified == 0);
    }
}

#[test]
fn malformed_streams_end_in_the_right_error() {
    for (set, p) in configs() {
        let w = random_layer(2 * p.lanes + 3, 5, p.weight_bits, 0.5, 9);
        let b = p.bus_bits as usize;
        for format in Format::ALL {
            let w = &*for_format(format, &w);
            let good = format.encode(&w, &p.stream()).unwrap();
            let mut cut = good.clone();
            cut.bits.truncate(cut.bits.len() - b);
            expect_error_at(&format!("{set} {format} truncated"), &cut, &w, RtlError::Truncated, &p);
            let mut extra = good.clone();
            extra.bits.resize(extra.bits.len() + b, false);
            expect_error_at(&format!("{set} {format} extra word"), &extra, &w, RtlError::TrailingData, &p);
            // A 1 in the last word's fill (when it has fill bits: the software decoder agrees).
            let mut fill = good.clone();
            let last = fill.bits.len() - 1;
            fill.bits.set(last, true);
            if matches!(
                format.decode("x", &fill.bits, w.rows, w.cols, &p.stream()).map_err(|e| e.kind),
                Err(weightstream::formats::DecodeErrorKind::NonzeroFill)
            ) {
                expect_error_at(&format!("{set} {format} dirty fill"), &fill, &w, RtlError::TrailingData, &p);
            }
        }
        // CSC-specific: a count larger than O, and a run past the column end.
        let csc = Format::Csc.encode(&w, &p.stream()).unwrap();
        let mut big = csc.clone();
        let pc = p.count_bits as usize;
        bitvec::field::BitField::store_le(&mut big.bits[0..pc], w.rows as u64 + 1);
        expect_error_at(&format!("{set} csc count > O"), &big, &w, RtlError::CountExceedsRows, &p);
        // A one-column layer whose only entry overshoots the column end.
        let w1 = QuantMatrix { rows: 3, cols: 1, bits: p.weight_bits, data: vec![0, 0, 1] };
        let mut s1 = Format::Csc.encode(&w1, &p.stream()).unwrap();
        let r = p.run_bits as usize;
        bitvec::field::BitField::store_le(&mut s1.bits[pc..pc + r], 3u64); // row 3 >= O = 3
        expect_error_at(&format!("{set} csc run past end"), &s1, &w1, RtlError::RunPastColumnEnd, &p);
    }
}

#[test]
fn bad_configuration_is_flagged() {
    for (set, p) in configs() {
        let max_o = p.max_rows;
        let w = QuantMatrix::zeros(1, 1, p.weight_bits);
        let mut s = Format::Dense.encode(&w, &p.stream()).unwrap();
        s.rows = max_o + 1;
        let exp = Expected { beats: vec![], y: vec![], error: Some(RtlError::BadConfig) };
        let run =
            cosim::run_layer(&format!("{set} O > MAX_O"), None, &s, &[0], &exp, &p, &opts(Traffic::Full, 1)).unwrap();
        assert_eq!(run.error, Some(RtlError::BadConfig), "{}", run.mismatch_line().unwrap_or_default());
    }
}

#[test]
fn throughput_target_holds() {
    for (set, p) in configs() {
        let max_o = p.max_rows;
        for (rows, cols, density) in [(max_o, 8, 0.3), (64, 40, 0.5), (100, 9, 0.1), (32, 27, 1.0)] {
            let w = random_layer(rows, cols, p.weight_bits, density, 77);
            for format in Format::ALL {
                let w = &*for_format(format, &w);
                let run = cosim::run_matrix("throughput", &w, format, &p, &opts(Traffic::Full, 1)).unwrap();
                assert_eq!(run.mismatches, 0);
                let (bound, allowance) = target(format, &run, &w, &p);
                assert!(
                    run.cycles as f64 <= 1.05 * bound + allowance,
                    "{set} {format} {rows}x{cols} d={density}: {} cycles for {} beats, {} words",
                    run.cycles,
                    run.beats,
                    run.words
                );
                assert_eq!(run.starved, 0, "input always valid");
            }
        }
    }
}

/// A depthwise-like layer (O = 576, K = 9) whose rows come in whole dense groups of 16..64
/// consecutive rows (every weight nonzero) between stretches of rows at 5 % density: the bit
/// demand per beat is bursty (runs of full tiles needing more than two bus words each, then nearly
/// empty tiles), as in MobileNetV2's features.14.conv.1. The word FIFO must bank the sparse
/// stretches' words for the dense runs.
#[test]
fn bursty_depthwise_throughput() {
    let (set, p) = ("n16_q8_b64", set("n16_q8_b64"));
    let (rows, cols) = (576, 9);
    let q = p.weight_bits;
    let (lo, hi) = QuantMatrix::value_range(q);
    let mut w = random_layer(rows, cols, q, 0.05, 21);
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut o = (next() % 48) as usize;
    let mut dense_rows = 0;
    while o < rows {
        let group = 16 * (1 + (next() % 4) as usize); // 16, 32, 48 or 64 rows
        for r in o..(o + group).min(rows) {
            for k in 0..cols {
                let v = lo + (next() % (hi - lo + 1) as u64) as i32;
                w.data[r * cols + k] = if v == 0 { 1 } else { v };
            }
            dense_rows += 1;
        }
        o += group + 48 + (next() % 128) as usize;
    }
    assert!(dense_rows >= rows / 6, "{dense_rows} dense rows");
    for format in Format::ALL {
        let w = &*for_format(format, &w);
        let run = cosim::run_matrix("bursty depthwise", &w, format, &p, &opts(Traffic::Full, 1)).unwrap();
        assert_eq!(run.mismatches, 0, "{}", run.mismatch_line().unwrap_or_default());
        assert_eq!(run.beats_verified, run.beats_expected);
        assert_eq!(run.y_verified, rows as u64);
        let (bound, allowance) = target(format, &run, &w, &p);
        assert!(
            run.cycles as f64 <= 1.05 * bound + allowance,
            "{set} {format} bursty {rows}x{cols}: {} cycles for {} beats, {} words",
            run.cycles,
            run.beats,
            run.words
        );
        assert_eq!(run.starved, 0, "input always valid");
    }
}

#[test]
fn real_mobilenet_layers() {
    use weightstream::model::{Model, ModelSpec, MOBILENET_V2_FILE};
    use weightstream::prepare::{prepare, PrepareConfig};
    let path = crate::util::cached_model(MOBILENET_V2_FILE);
    let model = Model::load(&ModelSpec::Path(path)).unwrap();
    let layers = prepare(&model, &PrepareConfig::default()).unwrap();
    let p = set("n16_q8_b64");
    let pick = [
        "features.0.0.weight",         // 3x3 conv, 32 x 27
        "features.2.conv.0.0.weight",  // 1x1, 96 x 16
        "features.2.conv.1.0.weight",  // depthwise 3x3, 96 x 9
        "features.17.conv.1.0.weight", // depthwise, 960 x 9
        "classifier.1.weight",         // linear, 1000 x 1280
    ];
    for name in pick {
        let layer = layers.iter().find(|l| l.name == name).unwrap();
        for format in Format::ALL {
            if not_nm(format, &layer.matrix, &p) {
                continue;
            }
            let traffic = if name.starts_with("classifier") { Traffic::Full } else { Traffic::Random };
            let run = cosim::run_matrix(name, &layer.matrix, format, &p, &opts(traffic, 3)).unwrap();
            assert_eq!(run.mismatches, 0, "{}", run.mismatch_line().unwrap_or_default());
            assert_eq!(run.beats_verified, run.beats_expected);
            assert_eq!(run.y_verified, layer.matrix.rows as u64);
            let sw = format.encode(&layer.matrix, &p.stream()).unwrap();
            assert_eq!(run.words, sw.bus_words() as u64, "RTL words equal the golden stream's");
        }
    }
}

#[test]
fn a_mismatch_names_cycle_beat_lane_and_writes_a_waveform() {
    let p = set("n8_q4_b32");
    let w = random_layer(20, 6, p.weight_bits, 0.6, 11);
    let stream = Format::Bitmap.encode(&w, &p.stream()).unwrap();
    let a = weightstream::pe::random_activations(w.cols, p.act_bits, 1);
    let mut exp = cosim::expected(Format::Bitmap, &w, &a, &p);
    // Corrupt the golden beat 4, lane 2: the RTL is right, so the scoreboard must object there.
    exp.beats[4 * p.lanes + 2] ^= 1;
    let dir = tempfile::tempdir().unwrap();
    let o = CosimOptions { traffic: Traffic::Pattern, seed: 1, wave_dir: dir.path().to_path_buf() };
    let run = cosim::run_layer("injected", None, &stream, &a, &exp, &p, &o).unwrap();
    assert!(run.mismatches >= 1);
    let first = run.first_mismatch.as_ref().unwrap();
    assert_eq!((first.beat, first.lane), (Some(4), Some(2)));
    let wave = first.wave.as_ref().expect("waveform written");
    let vcd = std::fs::read_to_string(wave).unwrap();
    assert!(vcd.contains("mon_beat_data_o") && vcd.contains("$enddefinitions"), "VCD has the signals");
    let line = run.mismatch_line().unwrap();
    assert!(line.contains("injected") && line.contains("beat 4") && line.contains("lane 2"), "{line}");
    assert!(line.contains(&wave.display().to_string()));
}

/// Every RTL file lints clean; the tops (`ws_top_core`, and the front end when it exists) at
/// both built-in sets and every FORMAT of the facts table, each also compiled by Icarus.
#[test]
fn rtl_lints_clean_and_compiles_under_icarus() {
    let facts = weightstream::rtl::facts();
    let rtl = concat!(env!("CARGO_MANIFEST_DIR"), "/rtl");
    let mut files: Vec<_> = std::fs::read_dir(rtl)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "v"))
        .collect();
    files.sort();
    assert!(files.len() >= 9, "{files:?}");
    let tops = [facts.top.as_str(), facts.front_end.as_str()];
    for f in &files {
        let top = f.file_stem().unwrap().to_str().unwrap();
        let mut variants: Vec<Vec<String>> = vec![vec![]];
        if tops.contains(&top) {
            variants = facts
                .sets
                .iter()
                .flat_map(|s| {
                    let d = facts.set(&s.name).unwrap();
                    facts.formats.iter().map(move |fm| {
                        let mut g = vec![format!("-GFORMAT={}", fm.code)];
                        g.extend(d.params().iter().map(|(k, v)| format!("-G{k}={v}")));
                        g
                    })
                })
                .collect();
        }
        for g in &variants {
            let out = Command::new("verilator")
                .args(["--lint-only", "-Wall", "-y", rtl, &format!("+incdir+{rtl}"), "--top-module", top])
                .args(g)
                .arg(f)
                .output()
                .expect("verilator runs (scripts/setup installs it)");
            let text = String::from_utf8_lossy(&out.stderr);
            assert!(out.status.success() && !text.contains("%Warning"), "{top} {g:?}: {text}");
        }
        if tops.contains(&top) {
            for fm in &facts.formats {
                let out = Command::new("iverilog")
                    .args(["-g2012", "-y", rtl, "-I", rtl, "-o", "/dev/null"])
                    .arg(format!("-P{top}.FORMAT={}", fm.code))
                    .arg(f)
                    .output()
                    .expect("iverilog runs (scripts/setup installs it)");
                assert!(out.status.success(), "iverilog {top} {}: {}", fm.name, String::from_utf8_lossy(&out.stderr));
            }
        }
    }
}

/// The Verilog header is what the facts table says (regenerate with `weightstream rtl-header >
/// rtl/ws_defs.vh`), and the Rust error enum names the table's codes.
#[test]
fn rtl_header_and_error_codes_come_from_the_table() {
    let on_disk = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/rtl/ws_defs.vh")).unwrap();
    assert_eq!(on_disk, weightstream::rtl::verilog_header(), "rtl/ws_defs.vh is stale: weightstream rtl-header");
    let facts = weightstream::rtl::facts();
    assert_eq!(facts.errors.len(), RtlError::NAMED.len());
    for e in RtlError::NAMED {
        let row = facts.errors.iter().find(|x| x.name == e.name()).unwrap();
        assert_eq!(RtlError::from_code(row.code), Some(e));
        assert!(on_disk.contains(&format!("4'd{}", row.code)));
    }
    assert_eq!(RtlError::from_code(0), None);
    assert_eq!(RtlError::from_code(10), Some(RtlError::Other(10)));
    for f in Format::ALL {
        assert!(on_disk.contains(&format!(
            "`define WS_FMT_{} {}",
            f.name().replace('-', "_").to_uppercase(),
            facts.format_code(f)
        )));
    }
}

/// Layers taller than the PE array run as row blocks in the RTL: O = MAX_O (one block),
/// MAX_O + 1 and 2 * MAX_O + 3 (two and three blocks), every format, under random traffic;
/// every block's beats and y are checked, and the words are the blocks' golden words.
#[test]
fn row_blocks_run_through_the_rtl() {
    let d = set("n8_q4_b32");
    let m = d.max_rows;
    for (rows, blocks) in [(m, 1), (m + 1, 2), (2 * m + 3, 3)] {
        let w = random_layer(rows, 5, d.weight_bits, 0.4, rows as u64);
        for format in Format::ALL {
            let w = &*for_format(format, &w);
            let run = cosim::run_matrix("tall", &w, format, &d, &opts(Traffic::Random, 3)).unwrap();
            assert_eq!(run.mismatches, 0, "O={rows} {format}: {}", run.mismatch_line().unwrap_or_default());
            assert_eq!(run.blocks, blocks, "O={rows} {format}");
            assert_eq!(run.y_verified, rows as u64, "O={rows} {format}");
            assert_eq!(run.beats_verified, run.beats_expected);
            let golden = weightstream::blocks::encode_blocks(format, &w, &d.stream(), m).unwrap();
            assert_eq!(golden.blocks.len(), blocks);
            assert_eq!(run.words, golden.bus_words() as u64, "O={rows} {format}: RTL words = blocks' words");
            assert_eq!(run.beats, golden.beats() as u64);
        }
    }
}

/// A design point that is not built in is verilated and compiled on demand (into the cache),
/// then checked like the built-in ones: 5 lanes, 6-bit weights, 24-bit bus, 3-bit runs, 5-bit
/// activations, 11-bit accumulators (y wraps), 24 rows per block.
#[test]
fn a_design_point_that_is_not_built_in() {
    let d = weightstream::hostile::odd_point();
    assert_eq!(d.builtin_name(), None);
    let w = random_layer(2 * d.max_rows + 7, 120, d.weight_bits, 0.5, 5);
    let a = weightstream::pe::random_activations(w.cols, d.act_bits, 1);
    let y = weightstream::pe::matvec_acc(&w, &a, d.acc_bits);
    for format in Format::ALL {
        let w = &*for_format(format, &w);
        let m = cosim::model_for(format, &d, &mut |_| {}).unwrap();
        assert!(m.is_dynamic(), "{format}");
        assert_eq!(m.param("N"), Some(5));
        for traffic in [Traffic::Full, Traffic::Random] {
            let run = cosim::run_matrix("design point", w, format, &d, &opts(traffic, 9)).unwrap();
            assert_eq!(run.mismatches, 0, "{format}: {}", run.mismatch_line().unwrap_or_default());
            assert_eq!(run.blocks, 3);
            assert_eq!(run.y_verified, w.rows as u64);
        }
    }
    // The scoreboard would see a wrong y: the golden y really needs the 11-bit wrap.
    let wide = weightstream::pe::matvec_acc(&w, &a, 32);
    assert_ne!(y, wide, "the test layer overflows 11 bits somewhere");
}

/// A flag that contradicts the named set is an error naming both; an empty layer pattern is an
/// error, not "every layer".
#[test]
fn cosim_flags_that_contradict_the_set_are_errors() {
    let out = crate::util::cli()
        .args(["cosim", "--model", "synthetic:mobilenet_v2", "--rtl-config", "n8_q4_b32", "--bits", "8"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--bits 8") && err.contains("--rtl-config n8_q4_b32"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    let out = crate::util::cli().args(["cosim", "--model", "synthetic:mobilenet_v2", "--layers", ""]).output().unwrap();
    assert!(!out.status.success());
    let out =
        crate::util::cli().args(["cosim", "--model", "synthetic:mobilenet_v2", "--lanes", "65"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("--lanes 65"), "{err}");
}

#[test]
fn report_rtl_columns_equal_the_golden_streams() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    let out = crate::util::cli()
        .args(["report", "--rtl", "--quiet", "--model", "synthetic:mobilenet_v2", "--sparsity", "0.9", "--json"])
        .arg(&json)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let layers = v["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 53);
    for l in layers {
        for f in l["formats"].as_array().unwrap() {
            if f.get("not_applicable").is_some() {
                // nm on a layer that is not 2:4: not run.
                assert_eq!(f["format"], "nm");
                continue;
            }
            let rtl = &f["rtl"];
            assert_eq!(rtl["mismatches"].as_u64(), Some(0), "{}", l["name"]);
            assert_eq!(rtl["words"], f["bus_words"], "{} {}: RTL words = golden words", l["name"], f["format"]);
            assert!(rtl["cycles"].as_u64().unwrap() >= l["beats"].as_u64().unwrap());
        }
    }
}

#[test]
fn whole_mobilenet_every_format_verified_within_the_throughput_target() {
    use weightstream::model::{Model, ModelSpec, MOBILENET_V2_FILE};
    use weightstream::prepare::{prepare, PrepareConfig};
    let path = crate::util::cached_model(MOBILENET_V2_FILE);
    let model = Model::load(&ModelSpec::Path(path)).unwrap();
    let layers = prepare(&model, &PrepareConfig::default()).unwrap();
    let p = set("n16_q8_b64");
    let mut runs = 0;
    for layer in &layers {
        for format in Format::ALL {
            if not_nm(format, &layer.matrix, &p) {
                continue;
            }
            let run = cosim::run_matrix(&layer.name, &layer.matrix, format, &p, &opts(Traffic::Full, 1)).unwrap();
            assert_eq!(run.mismatches, 0, "{}", run.mismatch_line().unwrap_or_default());
            assert_eq!(run.beats_verified, run.beats_expected);
            assert_eq!(run.y_verified, layer.matrix.rows as u64);
            let (bound, allowance) = target(format, &run, &layer.matrix, &p);
            assert!(
                run.cycles as f64 <= 1.05 * bound + allowance,
                "{} {format}: {} cycles for {} beats, {} words",
                layer.name,
                run.cycles,
                run.beats,
                run.words
            );
            if matches!(format, Format::LaneHuffman | Format::DeltaLaneHuffman) {
                // The entropy decoders at bus rate: within 1.10 x max(beats, words) and the
                // pipeline's latency, header included where it fits (printed where it does
                // not), else plus the header's cycles: the symbol tables take 2 a cycle at Q = 8
                // (block RAM, one write port a lane), which small layers with many symbols feel.
                let bus = run.beats.max(run.words) as f64;
                let f = &weightstream::rtl::facts().lane_huffman;
                let (header, _) = weightstream::formats::lane_huffman::loop_cycles(
                    &layer.matrix,
                    &p.stream(),
                    format == Format::DeltaLaneHuffman,
                    f.chunks_per_cycle(p.lanes),
                    f.counts_per_cycle,
                    f.symbols_per_cycle(p.lanes, p.weight_bits),
                );
                if run.cycles as f64 > 1.10 * bus + 16.0 {
                    eprintln!(
                        "{} {format}: {} cycles, over 1.10 x max({}, {}) + 16 (header {header} cycles)",
                        layer.name, run.cycles, run.beats, run.words
                    );
                }
                assert!(
                    run.cycles as f64 <= 1.10 * bus + 16.0 + header as f64,
                    "{} {format}: {} cycles, over 1.10 x max({}, {}) + 16 + the header's {header}",
                    layer.name,
                    run.cycles,
                    run.beats,
                    run.words
                );
            }
            runs += 1;
        }
    }
    // nm applies to no layer of the unpruned model
    assert_eq!(runs, 53 * (Format::ALL.len() - 1));
}

/// Two processes that need the same on-demand model at once build it once and both run it: the
/// second waits on the cache entry's lock (and says so) instead of building over the first.
#[test]
fn two_runs_at_once_share_an_on_demand_build() {
    let cache = tempfile::tempdir().unwrap();
    let run = || {
        crate::util::cli()
            .env("WEIGHTSTREAM_CACHE", cache.path())
            .args(["cosim", "--model", "synthetic:mobilenet_v2", "--format", "dense", "--layers", "features.0.0"])
            .args(["--lanes", "3", "--bus-bits", "16", "--bits", "3", "--quiet"])
            .spawn()
            .unwrap()
    };
    let (a, b) = (run(), run());
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert!(a.status.success() && b.status.success());
    let models = cache.path().join("models");
    let entries: Vec<String> = std::fs::read_dir(&models)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with("ws_top_dense_n3_q3_b16") && !n.ends_with(".lock"))
        .collect();
    assert_eq!(entries.len(), 1, "{entries:?}");
    let files: Vec<String> = std::fs::read_dir(models.join(&entries[0]))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    assert!(files.contains(&"fast.so".to_string()) && files.contains(&"fast.ports".to_string()), "{files:?}");
    assert!(files.iter().all(|f| !f.starts_with("fast-")), "no staging directory left: {files:?}");
}

/// Layers simulated on several workers print and record exactly what one worker does, in layer
/// order (only the wall-clock seconds differ).
#[test]
fn cosim_on_two_workers_equals_one() {
    let dir = tempfile::tempdir().unwrap();
    let run = |jobs: &str| {
        let json = dir.path().join(format!("j{jobs}.json"));
        let out = crate::util::cli()
            .args(["cosim", "--model", "synthetic:mobilenet_v2", "--layers", "features.1.,features.2.,classifier"])
            .args(["--rtl-config", "n8_q4_b32", "--traffic", "random", "--quiet", "--jobs", jobs, "--json"])
            .arg(&json)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let table: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| !l.contains(" cycles in "))
            .map(String::from)
            .collect();
        let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
        for r in v.as_array_mut().unwrap() {
            r.as_object_mut().unwrap().remove("seconds");
        }
        (table, v)
    };
    let (t1, j1) = run("1");
    let (t2, j2) = run("2");
    assert!(t1.len() > 10, "{t1:?}");
    assert_eq!(t1, t2);
    assert_eq!(j1, j2);
}

/// No latch anywhere in a top (PE array included), at both built-in sets and every FORMAT:
/// yosys `proc` and an assertion that it inferred none (seconds; the synthesis of `cost` is
/// not needed for this).
#[test]
fn no_latch_in_any_top() {
    let facts = weightstream::rtl::facts();
    let rtl = concat!(env!("CARGO_MANIFEST_DIR"), "/rtl");
    for s in &facts.sets {
        let d = facts.set(&s.name).unwrap();
        for f in &facts.formats {
            let mut chparams = format!("-chparam FORMAT {}", f.code);
            for (k, v) in d.params() {
                chparams += &format!(" -chparam {k} {v}");
            }
            let script = format!(
                "read_verilog -I{rtl} {rtl}/ws_*.v; hierarchy -top {} {chparams}; proc; \
                 select -assert-none t:$dlatch t:$dlatchsr t:$_DLATCH_* t:$_DLATCHSR_*",
                facts.top
            );
            let out = Command::new("yosys")
                .args(["-q", "-p", &script])
                .current_dir(std::env::temp_dir())
                .output()
                .expect("yosys runs (scripts/setup installs it)");
            assert!(
                out.status.success(),
                "{} {}: {}{}",
                s.name,
                f.name,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

/// `cosim --shard I/N` runs a share of the (layer, format) runs; merged, the table and the JSON
/// are the unsharded run's (but for the timing fields).
#[test]
fn sharded_cosim_merges_to_the_unsharded_run() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let base = ["cosim", "--model", "synthetic:mobilenet_v2", "--layers", "features.1.,features.16.conv.2", "--quiet"];
    let run = |extra: &[&str]| {
        let out = crate::util::cli().args(base).args(extra).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let whole = run(&["--json", d.join("whole.json").to_str().unwrap()]);
    for i in 0..3 {
        run(&["--shard", &format!("{i}/3"), "--json", d.join(format!("p{i}.json")).to_str().unwrap()]);
    }
    let out = crate::util::cli()
        .args(["merge", "--json", d.join("merged.json").to_str().unwrap()])
        .args((0..3).rev().map(|i| d.join(format!("p{i}.json"))))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let merged = String::from_utf8(out.stdout).unwrap();
    let body = |s: &str| s.lines().filter(|l| !l.contains(" cycles in ")).map(str::to_string).collect::<Vec<_>>();
    assert_eq!(body(&whole), body(&merged));
    assert!(body(&whole).len() >= 2 + 4 * 2, "{whole}");
    let runs = |f: &str| {
        let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(d.join(f)).unwrap()).unwrap();
        v.as_array_mut().unwrap().iter_mut().for_each(|r| {
            r.as_object_mut().unwrap().remove("seconds");
        });
        v
    };
    assert_eq!(runs("whole.json"), runs("merged.json"));
}

/// The lane-huffman decoders follow their cycle rule (`lane_huffman::loop_cycles`, rtl/README.md):
/// on every MobileNetV2 layer at both built-in sets, the decode cycles exceed max(the rule's
/// header and beat cycles, words) by the start-up and the pipeline only (words arrive one per
/// cycle at first; the rule assumes the window always holds what a cycle takes, and it leaves out
/// the cycle a second lane at its first code in one cycle's take costs). Measured: 4 ..= 16 at
/// n16_q8_b64, 4 ..= 6 at n8_q4_b32.
#[test]
fn lane_huffman_cycles_follow_the_cycle_rule() {
    use weightstream::model::{Model, ModelSpec, MOBILENET_V2_FILE};
    use weightstream::prepare::{prepare, PrepareConfig};
    let path = crate::util::cached_model(MOBILENET_V2_FILE);
    let model = Model::load(&ModelSpec::Path(path)).unwrap();
    let f = &weightstream::rtl::facts().lane_huffman;
    for (set, p) in configs() {
        let layers = prepare(&model, &PrepareConfig { bits: p.weight_bits, ..PrepareConfig::default() }).unwrap();
        let (mut lo, mut hi) = (i64::MAX, i64::MIN);
        for layer in &layers {
            for format in [Format::LaneHuffman, Format::DeltaLaneHuffman] {
                let run = cosim::run_matrix(&layer.name, &layer.matrix, format, &p, &opts(Traffic::Full, 1)).unwrap();
                assert_eq!(run.mismatches, 0, "{}", run.mismatch_line().unwrap_or_default());
                let blocks = weightstream::blocks::row_blocks(&layer.matrix, p.max_rows).unwrap();
                let mut rule = 0;
                for b in &blocks {
                    let (header, beats) = weightstream::formats::lane_huffman::loop_cycles(
                        &b.matrix,
                        &p.stream(),
                        format == Format::DeltaLaneHuffman,
                        f.chunks_per_cycle(p.lanes),
                        f.counts_per_cycle,
                        f.symbols_per_cycle(p.lanes, p.weight_bits),
                    );
                    rule += header + beats;
                }
                // the bus gives a word a cycle: the rule's cycles or the words, whichever is more
                let extra = (run.cycles as i64 - rule.max(run.words) as i64) / blocks.len() as i64;
                lo = lo.min(extra);
                hi = hi.max(extra);
            }
        }
        println!("{set}: decode cycles - max(rule's cycles, words) per row block: {lo} ..= {hi}");
        assert!(lo >= 0 && hi <= 20, "{set}: {lo} ..= {hi}");
    }
}
