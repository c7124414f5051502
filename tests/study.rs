//! The compression study: every stage's round trip (property tests on random shapes, densities
//! and bits), pipelines, the Huffman length limit, external codecs (working, wrong, hanging),
//! and the `study` command end to end on a small synthetic model.

use std::time::Duration;

use proptest::prelude::*;
use weightstream::study::external::ExternalCodec;
use weightstream::study::pipeline::{apply, run_layer, Pipeline};
use weightstream::study::stages::huffman::{self, Huffman};
use weightstream::study::stages::{parse_stage, STAGES};
use weightstream::study::stream::{Ctx, Stream};
use weightstream::QuantMatrix;

use crate::util::cli;

/// Every built-in stage, then variants with arguments (short runs and a tight length limit).
fn stage_specs() -> Vec<&'static str> {
    let mut specs = STAGES.to_vec();
    specs.extend(["csc:2", "rle:2", "huffman:9"]);
    specs
}

fn matrix_strategy() -> impl Strategy<Value = QuantMatrix> {
    (1usize..24, 1usize..40, 2u32..=16, 0.0f64..1.0, any::<u64>()).prop_map(|(rows, cols, bits, density, seed)| {
        let (lo, hi) = QuantMatrix::value_range(bits);
        let mut x = seed | 1;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let data = (0..rows * cols)
            .map(|_| {
                if (next() % 10_000) as f64 / 10_000.0 < density {
                    // Mostly small values, sometimes the extremes.
                    match next() % 8 {
                        0 => lo,
                        1 => hi,
                        _ => ((next() % 7) as i32 - 3).clamp(lo, hi),
                    }
                } else {
                    0
                }
            })
            .collect();
        QuantMatrix { rows, cols, bits, data }
    })
}

fn ctx(m: &QuantMatrix) -> Ctx {
    Ctx { rows: m.rows, cols: m.cols, bits: m.bits }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Every stage on the layer tensor decodes back bit-exact (`apply` checks it), and
    /// its decode is checked here once more independently.
    #[test]
    fn every_stage_round_trips_on_the_tensor(m in matrix_strategy()) {
        let input = vec![Stream::from_matrix(&m)];
        for name in stage_specs() {
            let stage = parse_stage(name).unwrap();
            let (out, _, _) = apply(stage.as_ref(), &input, &ctx(&m)).unwrap_or_else(|e| panic!("{name}: {e}"));
            let back: Vec<Stream> = out.chunks(stage.arity()).map(|c| stage.decode(c.to_vec(), &ctx(&m)).unwrap()).collect();
            prop_assert_eq!(&back, &input, "{}", name);
        }
    }

    /// Every stage also round-trips on the streams other stages produce (all 2-stage chains
    /// that make sense: transforms need the tensor).
    #[test]
    fn stages_round_trip_on_streams(m in matrix_strategy(), first in 4usize..stage_specs().len(), second in 3usize..stage_specs().len()) {
        let (c, specs) = (ctx(&m), stage_specs());
        let a = parse_stage(specs[first]).unwrap();
        let (mid, _, _) = apply(a.as_ref(), &[Stream::from_matrix(&m)], &c).unwrap();
        let b = parse_stage(specs[second]).unwrap();
        let (out, _, _) = apply(b.as_ref(), &mid, &c).unwrap_or_else(|e| panic!("{}|{}: {e}", specs[first], specs[second]));
        prop_assert_eq!(out.len(), mid.len() * b.arity());
    }

    /// Huffman with a length limit L: every length <= L, the stream decodes, and it is never
    /// smaller than the unlimited code; the table's bits are in the size.
    #[test]
    fn huffman_length_limit(seed in any::<u64>(), limit in 4u32..10) {
        // Geometric-ish counts over up to 16 symbols force long unlimited codes.
        let mut symbols = Vec::new();
        let mut x = seed | 1;
        for s in 0..16u32 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let count = (1u64 << (s / 2 + 1)) + (x >> 60);
            symbols.extend(std::iter::repeat_n(s, count as usize));
        }
        let s = Stream::new("w", 5, false, symbols);
        let limited = huffman::table(&s.symbols, 5, limit).unwrap();
        prop_assert!(limited.iter().all(|&(_, l)| l <= limit));
        let kraft: f64 = limited.iter().map(|&(_, l)| (-(l as f64)).exp2()).sum();
        prop_assert!(kraft <= 1.0 + 1e-12);
        let c = Ctx { rows: 1, cols: 1, bits: 5 };
        let (lim, _, _) = apply(&Huffman { max_len: limit }, std::slice::from_ref(&s), &c).unwrap();
        let (unl, _, _) = apply(&Huffman { max_len: huffman::MAX_LEN }, std::slice::from_ref(&s), &c).unwrap();
        prop_assert!(lim[0].symbols.len() >= unl[0].symbols.len());
        // The coded size exceeds the code bits alone by the header and table.
        let code_bits: u64 = {
            let lens: std::collections::HashMap<u32, u32> = limited.iter().copied().collect();
            s.symbols.iter().map(|v| u64::from(lens[v])).sum()
        };
        prop_assert!(lim[0].symbols.len() as u64 * 8 >= code_bits + 39 + 32 + 1 + limited.len() as u64 * 6);
    }
}

#[test]
fn huffman_limit_too_small_for_the_alphabet_is_an_error() {
    let s = Stream::new("w", 4, false, (0..16).collect());
    let c = Ctx { rows: 1, cols: 16, bits: 4 };
    assert!(apply(&Huffman { max_len: 3 }, &[s], &c).is_err());
}

#[test]
fn bitmap_stage_matches_the_stream_format_size() {
    let m = QuantMatrix { rows: 5, cols: 2, bits: 4, data: vec![3, 3, 0, 0, -2, 0, 0, 5, 7, -8] };
    let streams = Pipeline::parse("bitmap", &[]).unwrap().run(&m).unwrap();
    // docs/stream-formats.md: bitmap is 34 bits before fill: 10 mask + 6 values x 4.
    assert_eq!(streams[0].symbols.len() + streams[1].symbols.len() * 4, 34);
}

#[test]
fn csc_stage_reuses_the_format_entries() {
    // The "csc with fillers" example: O = 10, K = 1, R = 2: runs [3, 3, 1], values [0, 0, 6].
    let mut data = vec![0; 10];
    data[9] = 6;
    let m = QuantMatrix { rows: 10, cols: 1, bits: 4, data };
    let s = Pipeline::parse("csc:2", &[]).unwrap().run(&m).unwrap();
    assert_eq!(s[0].symbols, vec![3]);
    assert_eq!(s[1].symbols, vec![3, 3, 1]);
    assert_eq!(s[2].symbols, vec![0, 0, 6]);
}

#[test]
fn bad_pipelines_are_errors() {
    assert!(Pipeline::parse("bitmap|nope", &[]).is_err());
    assert!(Pipeline::parse("huffman:0", &[]).is_err());
    assert!(Pipeline::parse("", &[]).is_err());
    // A transform after a sparse format fails on the layer, it does not panic.
    let m = QuantMatrix { rows: 2, cols: 2, bits: 4, data: vec![1, 0, 0, 2] };
    let runs = run_layer(&[Pipeline::parse("bitmap|delta-k", &[]).unwrap()], &m);
    assert!(runs[0].result.is_err());
}

fn codec(spec: &str, timeout_ms: u64) -> ExternalCodec {
    ExternalCodec::parse(spec, Duration::from_millis(timeout_ms)).unwrap()
}

fn layer() -> QuantMatrix {
    QuantMatrix {
        rows: 8,
        cols: 12,
        bits: 8,
        data: (0..96).map(|i| if i % 3 == 0 { (i % 11) - 5 } else { 0 }).collect(),
    }
}

#[test]
fn external_identity_and_gzip_codecs_round_trip() {
    let ids = codec("id=cat::cat", 10_000);
    let gz = codec("gz=gzip -c::gzip -dc", 10_000);
    let env = codec("env=test \"$WS_ROWS\" = 8 && test \"$WS_COLS\" = 12 && test \"$WS_BITS\" = 8 && cat::cat", 10_000);
    let pipes: Vec<Pipeline> = ["id", "gz", "env", "delta-k|gz"]
        .iter()
        .map(|p| Pipeline::parse(p, &[ids.clone(), gz.clone(), env.clone()]).unwrap())
        .collect();
    let runs = run_layer(&pipes, &layer());
    assert_eq!(runs[0].result.as_ref().unwrap(), &(96 * 4 * 8 + 32));
    for r in &runs {
        assert!(r.result.is_ok(), "{:?}", r.result);
    }
}

#[test]
fn external_codec_failures_are_reported_and_the_run_goes_on() {
    let wrong = codec("wrong=cat::head -c 8", 10_000);
    let flip = codec("flip=cat::tr 'A' 'B'", 10_000);
    let crash = codec("crash=exit 3::cat", 10_000);
    let hang = codec("hang=sleep 30::cat", 300);
    let all = [wrong.clone(), flip.clone(), crash.clone(), hang.clone()];
    let pipes: Vec<Pipeline> =
        ["wrong", "crash", "hang", "bitmap"].iter().map(|p| Pipeline::parse(p, &all).unwrap()).collect();
    let t = std::time::Instant::now();
    let runs = run_layer(&pipes, &layer());
    assert!(t.elapsed() < Duration::from_secs(10), "the hanging codec was not killed in time");
    assert!(runs[0].result.as_ref().unwrap_err().contains("decoder wrote 8 bytes"));
    assert!(runs[1].result.as_ref().unwrap_err().contains("exited"));
    assert!(runs[2].result.as_ref().unwrap_err().contains("timed out"));
    assert!(runs[3].result.is_ok());
    // A decoder that changes a value: the round trip catches it (65 = 'A' appears in the layer).
    let m = QuantMatrix { rows: 1, cols: 2, bits: 8, data: vec![65, 0] };
    let r = run_layer(&[Pipeline::parse("flip", &all).unwrap()], &m);
    assert!(r[0].result.as_ref().unwrap_err().contains("mismatch"), "{:?}", r[0].result);
}

#[test]
fn study_cli_runs_on_a_synthetic_model_with_a_failing_codec() {
    let dir = tempfile::tempdir().unwrap();
    let md = dir.path().join("study.md");
    let csv = dir.path().join("study.csv");
    let json = dir.path().join("study.json");
    let out = cli()
        .args(["study", "--model", "synthetic:mobilenet_v2", "--sparsity", "0.9", "--bits", "4", "--max-layers", "6"])
        .args(["--codec", "gz=gzip -c::gzip -dc", "--codec", "bad=cat::head -c 3"])
        .arg("--markdown")
        .arg(&md)
        .arg("--csv")
        .arg(&csv)
        .arg("--json")
        .arg(&json)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("Verdict"), "{stdout}");
    assert!(stdout.contains("bad"), "{stdout}");
    let md = std::fs::read_to_string(&md).unwrap();
    assert!(md.contains("(d)") && md.contains("huffman|huffman"));
    let csv = std::fs::read_to_string(&csv).unwrap();
    assert!(csv.lines().any(|l| l.contains("bad") && l.contains("failed")), "{csv}");
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert!(json["settings"][0]["pipelines"].as_array().unwrap().len() > 36);
}

/// A stage whose decoder is wrong: the pipeline must report a mismatch, never a size.
struct Lossy;

impl weightstream::study::stages::Stage for Lossy {
    fn name(&self) -> String {
        "lossy".into()
    }
    fn kind(&self) -> weightstream::study::stages::Kind {
        weightstream::study::stages::Kind::General
    }
    fn arity(&self) -> usize {
        1
    }
    fn encode(&self, s: &Stream, _: &Ctx) -> Result<Vec<Stream>, weightstream::study::StudyError> {
        // Drops the low bit of every symbol: smaller entropy, not lossless.
        Ok(vec![Stream::new(s.name.clone(), s.width, s.shaped, s.symbols.iter().map(|v| v & !1).collect())])
    }
    fn decode(&self, parts: Vec<Stream>, _: &Ctx) -> Result<Stream, weightstream::study::StudyError> {
        Ok(parts.into_iter().next().unwrap())
    }
}

#[test]
fn a_lossy_stage_gets_no_size() {
    let p = Pipeline { name: "lossy".into(), stages: vec![std::sync::Arc::new(Lossy)] };
    let runs = run_layer(&[p], &layer());
    let err = runs[0].result.as_ref().unwrap_err();
    assert!(err.contains("round trip mismatch"), "{err}");
}

#[test]
fn kmeans_shares_at_most_2_pow_q_values_and_keeps_signs() {
    use weightstream::study::kmeans;
    let values: Vec<f32> =
        (0..400).map(|i| ((i * 37 % 101) as f32 - 50.0) / 10.0 * if i % 5 == 0 { 0.0 } else { 1.0 }).collect();
    for bits in [2u32, 3, 4, 8] {
        let (m, book) = kmeans::quantize(&values, 20, 20, bits);
        let (lo, hi) = QuantMatrix::value_range(bits);
        assert!(book.len() < 1 << bits);
        for (q, &v) in m.data.iter().zip(&values) {
            assert!((lo..=hi).contains(q));
            let sign = if v > 0.0 {
                1
            } else if v < 0.0 {
                -1
            } else {
                0
            };
            assert_eq!(q.signum(), sign, "{v} -> {q}");
            // The shared value is the nearest centroid on the weight's side.
            if *q != 0 {
                let c = book.iter().find(|(i, _)| i == q).unwrap().1;
                let best = book
                    .iter()
                    .filter(|(i, _)| i.signum() == q.signum())
                    .map(|(_, c)| (c - v).abs())
                    .fold(f32::MAX, f32::min);
                assert!((c - v).abs() <= best + 1e-5);
            }
        }
        // Deterministic.
        assert_eq!(kmeans::quantize(&values, 20, 20, bits).0, m);
    }
}

#[test]
fn study_out_dir_has_tables_and_heatmaps_and_kmeans_counts_the_codebook() {
    let dir = tempfile::tempdir().unwrap();
    let out = cli()
        .args(["study", "--model", "synthetic:resnet18", "--sparsity", "0.7", "--bits", "4", "--max-layers", "3"])
        .args([
            "--quantizer",
            "kmeans",
            "--pipelines",
            "bitmap,csc,huffman,huffman:6,delta-k|bitmap",
            "--quiet",
            "--out",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for f in [
        "study.md",
        "study.csv",
        "study.json",
        "pairs-synthetic_resnet18-s0.70-q4-kmeans.png",
        "pairs-synthetic_resnet18-s0.70-q4-kmeans.svg",
    ] {
        let p = dir.path().join(f);
        assert!(p.metadata().map(|m| m.len() > 100).unwrap_or(false), "{f} missing or empty");
    }
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("study.json")).unwrap()).unwrap();
    let s = &json["settings"][0];
    // Three layers, each with a 15-entry fp32 codebook.
    assert_eq!(s["side_bits"].as_u64().unwrap(), 3 * 15 * 32);
    let limited = s["pipelines"].as_array().unwrap().iter().find(|p| p["name"] == "huffman:6").unwrap();
    let full = s["pipelines"].as_array().unwrap().iter().find(|p| p["name"] == "huffman").unwrap();
    assert!(limited["bits"].as_u64().unwrap() >= full["bits"].as_u64().unwrap());
}

/// `study --shard I/N` runs a share of the settings; merged, the study is the unsharded one but
/// for its timing fields (seconds, MB/s, the speed probe).
#[test]
fn sharded_study_merges_to_the_unsharded_one() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let base = [
        "study",
        "--model",
        "synthetic:mobilenet_v2",
        "--sparsity",
        "0.5,0.9",
        "--bits",
        "4,8",
        "--max-layers",
        "6",
        "--pipelines",
        "bitmap|huffman,csc",
        "--quiet",
    ];
    let run = |extra: &[&str]| {
        let out = crate::util::cli().args(base).args(extra).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    };
    run(&["--json", d.join("whole.json").to_str().unwrap()]);
    for i in 0..3 {
        run(&["--shard", &format!("{i}/3"), "--json", d.join(format!("p{i}.json")).to_str().unwrap()]);
    }
    let out = crate::util::cli()
        .args(["merge", "--quiet", "--json", d.join("merged.json").to_str().unwrap()])
        .args((0..3).map(|i| d.join(format!("p{i}.json"))))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    fn strip(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(m) => {
                for k in ["seconds", "encode_mw_s", "decode_mw_s", "speed_probe"] {
                    m.remove(k);
                }
                m.values_mut().for_each(strip);
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let read = |f: &str| {
        let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(d.join(f)).unwrap()).unwrap();
        strip(&mut v);
        v
    };
    let whole = read("whole.json");
    assert_eq!(whole["settings"].as_array().unwrap().len(), 4);
    assert_eq!(whole["settings"], read("merged.json")["settings"]);
}

// ---- The verdict on claim (c): cost judged by the decoders' hardware where figures exist. ----

mod claim_c {
    use weightstream::cost::{self, Cost, CostOptions, CostRequest, Fpga, Unit};
    use weightstream::model::{Model, ModelSpec};
    use weightstream::rtl::DesignPoint;
    use weightstream::study::pipeline::Pipeline;
    use weightstream::study::verdict::{self, DecoderCost, GoldenSpeed};
    use weightstream::study::{self, StudyConfig, StudyResult};
    use weightstream::Format;

    use crate::util::cli;

    fn front_end(format: Format, lcs: u64, brams: u64, fmax_mhz: f64) -> Cost {
        Cost {
            unit: Unit::FrontEnd,
            module: "ws_front_end".into(),
            format: format.name().into(),
            point: "n16_q8_b64".into(),
            params: Vec::new(),
            cells: 2 * lcs,
            cells_by_kind: Default::default(),
            flip_flops: 500,
            memory_bits: 0,
            logic_levels: 30,
            path_from: String::new(),
            path_to: String::new(),
            synth_seconds: 0.0,
            fpga: Fpga::Placed { lcs, brams, ios: 16, fmax_mhz, seconds: 0.0 },
            tools: "test".into(),
            key: String::new(),
        }
    }

    fn small_study() -> (Model, StudyConfig, StudyResult) {
        let model = Model::load(&ModelSpec::parse("synthetic:mobilenet_v2").unwrap()).unwrap();
        let cfg = StudyConfig {
            sparsities: vec![0.9],
            bits: vec![8],
            quantizer: study::Quantizer::Linear,
            prune: weightstream::quant::PruneMode::PerLayer,
            nm: weightstream::formats::NmPattern::default(),
            granularity: weightstream::quant::Granularity::PerLayer,
            pipelines: ["bitmap", "huffman"].iter().map(|p| Pipeline::parse(p, &[]).unwrap()).collect(),
            threads: 2,
            max_layers: Some(6),
        };
        let result = study::run_study(&model, &cfg, |_| {}).unwrap();
        (model, cfg, result)
    }

    fn claim_c(claims: &[verdict::Claim]) -> &verdict::Claim {
        claims.iter().find(|c| c.id == 'c').unwrap()
    }

    #[test]
    fn hardware_figures_decide_claim_c_and_the_row_says_so() {
        let (model, cfg, result) = small_study();
        let (layers, _) = study::prepare(&model, 0.9, 8, &cfg).unwrap();
        let point = DesignPoint::default();
        let costs = [front_end(Format::Bitmap, 6473, 0, 48.1), front_end(Format::BitmapHuffman, 5899, 4, 8.2)];
        let hw = verdict::hardware_cost(&layers, &point, &costs).unwrap();
        assert_eq!(hw.point, "n16_q8_b64");
        // Delivered rate by hand: Fmax x beats / max(beats, words) per layer x N.
        let params = point.stream();
        for (format, fmax) in [(Format::Bitmap, 48.1), (Format::BitmapHuffman, 8.2)] {
            let (mut beats, mut cycles) = (0u64, 0u64);
            for (_, m) in &layers {
                let s = format.encode(m, &params).unwrap();
                let b = params.beats(m.rows, m.cols) as u64;
                beats += b;
                cycles += b.max(s.bus_words() as u64);
            }
            let d = hw.decoders.iter().find(|d| d.format == format).unwrap();
            assert_eq!((d.beats, d.cycles), (beats, cycles), "{format}");
            let rate = fmax * 1e6 * beats as f64 / cycles as f64 * 16.0;
            assert!((d.weights_per_s - rate).abs() <= 1e-9 * rate, "{format}");
            assert!((d.lcs_per_mw_s - d.lcs as f64 / (rate / 1e6)).abs() < 1e-9);
        }

        let ratio = result.settings[0].ratio("bitmap").unwrap() / result.settings[0].ratio("huffman").unwrap();
        let judged = |hardware, golden: Vec<GoldenSpeed>| {
            let c = DecoderCost { sparsity: 0.9, bits: 8, hardware, no_hardware: None, golden };
            claim_c(&verdict::verdict_with(&result, &[c])).clone()
        };
        let c = judged(Some(hw.clone()), Vec::new());
        let row = &c.rows[0];
        assert!(row.detail.contains("cost measured in hardware at n16_q8_b64"), "{}", row.detail);
        assert!(row.detail.contains("bitmap 6473 LCs at 48.1 MHz"), "{}", row.detail);
        assert!(row.detail.contains("bitmap-huffman 5899 LCs + 4 BRAM at 8.2 MHz"), "{}", row.detail);
        let (b, h) = (&hw.decoders[0], &hw.decoders[1]);
        let x = h.lcs_per_mw_s / b.lcs_per_mw_s;
        assert!(row.detail.contains(&format!("{x:.1}x the cost per delivered weight")), "{}", row.detail);
        assert_eq!(row.holds, Some(ratio >= 0.8 && x >= 2.0));
        assert_eq!(
            c.note.as_deref(),
            Some("cost judged by hardware cost (LCs per delivered M weights/s) at s=0.90 Q=8")
        );

        // A bitmap decoder ten times as large costs more per delivered weight: the claim fails.
        let mut big = hw.clone();
        big.decoders[0].lcs *= 10;
        big.decoders[0].lcs_per_mw_s *= 10.0;
        let x = big.decoders[1].lcs_per_mw_s / big.decoders[0].lcs_per_mw_s;
        assert!(x < 2.0);
        assert_eq!(judged(Some(big), Vec::new()).rows[0].holds, Some(false));

        // Without hardware figures, the golden codecs' speed; without either, the study's stages.
        let golden = vec![
            GoldenSpeed { format: Format::Bitmap, weights: 1, encode_mw_s: 400.0, decode_mw_s: 600.0 },
            GoldenSpeed { format: Format::BitmapHuffman, weights: 1, encode_mw_s: 100.0, decode_mw_s: 150.0 },
        ];
        let c = judged(None, golden);
        assert!(c.rows[0].detail.contains("golden codecs' speed"), "{}", c.rows[0].detail);
        assert!(
            c.rows[0].detail.contains("bitmap enc/dec 400/600 M w/s vs bitmap-huffman 100/150"),
            "{}",
            c.rows[0].detail
        );
        assert_eq!(c.rows[0].holds, Some(ratio >= 0.8));
        let c = claim_c(&verdict::verdict(&result)).clone();
        assert!(c.rows[0].detail.contains("study stages' software speed"), "{}", c.rows[0].detail);

        // No figures for the entropy decoder: no hardware measure, and the reason names it.
        let e = verdict::hardware_cost(&layers, &point, &costs[..1]).unwrap_err();
        assert!(e.contains("bitmap-huffman"), "{e}");
    }

    /// `weightstream study` states claim (c) from the hardware cost it finds in the cost cache (two
    /// planted entries, nothing synthesized), and from the golden codecs where there is none.
    #[test]
    fn study_cli_judges_claim_c_by_cached_hardware_cost() {
        let cache = tempfile::tempdir().unwrap();
        let point = DesignPoint::default();
        let opts = CostOptions::default();
        let tools = cost::tools();
        for c in [front_end(Format::Bitmap, 6473, 0, 48.1), front_end(Format::BitmapHuffman, 5899, 4, 8.2)] {
            let req = CostRequest { unit: Unit::FrontEnd, format: c.format.parse().unwrap(), point }.canonical();
            let dir = cache.path().join("cost").join(cost::cache_key(&req, &opts, &tools).unwrap());
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("result.json"), serde_json::to_vec(&c).unwrap()).unwrap();
        }
        let json = cache.path().join("study.json");
        let out = cli()
            .env("WEIGHTSTREAM_CACHE", cache.path())
            .args(["study", "--model", "synthetic:mobilenet_v2", "--max-layers", "4", "--sparsity", "0.9"])
            .args(["--bits", "8,4", "--pipelines", "bitmap,huffman", "--quiet", "--json"])
            .arg(&json)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
        let line = |q: &str| {
            stdout
                .lines()
                .find(|l| l.contains(&format!("s=0.90 Q={q}")) && l.contains("cost measured"))
                .unwrap()
                .to_string()
        };
        assert!(line("8 ").contains("cost measured in hardware at n16_q8_b64"), "{stdout}");
        assert!(
            line("4 ").contains("golden codecs' speed (no hardware figures: no `weightstream cost` result"),
            "{stdout}"
        );
        assert!(stdout.contains("cost judged by hardware cost (LCs per delivered M weights/s) at s=0.90 Q=8; the golden codecs' speed at s=0.90 Q=4"), "{stdout}");
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
        assert_eq!(v["decoder_cost"][0]["hardware"]["point"], "n16_q8_b64");
        assert_eq!(v["decoder_cost"][0]["hardware"]["decoders"][1]["format"], "bitmap-huffman");
        assert!(v["decoder_cost"][1]["hardware"].is_null());
        assert!(v["decoder_cost"][1]["golden"].as_array().unwrap().len() >= 2);
    }
}
