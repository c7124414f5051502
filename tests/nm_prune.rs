//! N:M pruning: every group of every row keeps exactly its min(n, m_g) largest magnitudes, ties to
//! the lower column (against a brute-force restatement); convolutions are pruned channels-last,
//! depthwise ones along their kernel positions, and every path (whole layer, row blocks, lazy
//! report, shards) agrees; the squared magnitude kept equals a direct computation; bad patterns
//! are refused on the command line.

use std::path::Path;

use proptest::prelude::*;
use safetensors::tensor::{Dtype, TensorView};
use weightstream::formats::NmPattern;
use weightstream::model::{Layer, LazyModel, Model, ModelSpec};
use weightstream::prepare::{self, PrepareConfig};
use weightstream::quant::{prune_nm_row, ColumnOrder, Granularity, PruneMode, SquareSum};
use weightstream::report::{self, JsonReporter, Reporter};
use weightstream::StreamParams;

use crate::util::cli;

/// The definition, restated: in each group of a row (columns [g*m, min(K, g*m + m))), sort the
/// columns by magnitude, largest first, lower column first among equals; zero all but the first
/// min(n, m_g).
fn oracle(row: &[f32], n: usize, m: usize) -> Vec<f32> {
    let mut out = row.to_vec();
    let mut start = 0;
    while start < row.len() {
        let end = (start + m).min(row.len());
        let mut cols: Vec<usize> = (start..end).collect();
        cols.sort_by(|&a, &b| row[b].abs().total_cmp(&row[a].abs()).then(a.cmp(&b)));
        for &c in cols.iter().skip(n) {
            out[c] = 0.0;
        }
        start = end;
    }
    out
}

fn pattern() -> impl Strategy<Value = NmPattern> {
    prop::sample::select(vec![2u32, 4, 8, 16])
        .prop_flat_map(|group| (1..group).prop_map(move |keep| NmPattern { keep, group }))
}

/// Few magnitudes, both signs and both zeros: ties in most groups.
fn tied_row() -> impl Strategy<Value = Vec<f32>> {
    prop::collection::vec(prop::sample::select(vec![0.0f32, -0.0, 0.5, -0.5, 1.0, -1.0, 2.5, 1e-30]), 0..70)
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

proptest! {
    #[test]
    fn every_group_keeps_its_largest_ties_to_the_lower_column(row in tied_row(), p in pattern()) {
        let mut fast = row.clone();
        let zeroed = prune_nm_row(&mut fast, p);
        let slow = oracle(&row, p.keep as usize, p.group as usize);
        prop_assert_eq!(bits(&fast), bits(&slow));
        // Exactly what the groups do not keep is zeroed: K - sum of min(n, m_g).
        let kept: usize = row.chunks(p.group as usize).map(|g| g.len().min(p.keep as usize)).sum();
        prop_assert_eq!(zeroed, row.len() - kept);
    }

    #[test]
    fn random_matrices_prune_row_by_row(
        values in prop::collection::vec(-4.0f32..4.0, 1..400),
        cols in 1usize..40,
        p in pattern(),
    ) {
        // A layer of whole rows, K not a multiple of m most of the time.
        let rows = values.len() / cols;
        prop_assume!(rows > 0);
        let values = values[..rows * cols].to_vec();
        let layer = Layer { name: "l".into(), shape: vec![rows, cols], rows, cols, values: values.clone(), integer_bits: None };
        let cfg = PrepareConfig { prune: PruneMode::Nm, nm: p, ..PrepareConfig::default() };
        let plans = prepare::plan(std::slice::from_ref(&layer), &cfg).unwrap();
        let (got, _) = prepare::pruned_rows(&layer, &plans[0], 0, rows, 0).unwrap();
        let want: Vec<f32> = values.chunks(cols).flat_map(|r| oracle(r, p.keep as usize, p.group as usize)).collect();
        prop_assert_eq!(bits(&got), bits(&want));
    }

    #[test]
    fn square_sums_are_exact_in_any_split(values in prop::collection::vec(prop_oneof![-1e3f32..1e3, -1e-20f32..1e-20], 0..300), cut in 0usize..300) {
        let cut = cut.min(values.len());
        let mut parts = SquareSum::of(&values[cut..]);
        parts.add(&SquareSum::of(&values[..cut]));
        prop_assert_eq!(parts, SquareSum::of(&values));
        let naive: f64 = values.iter().map(|&v| f64::from(v) * f64::from(v)).sum();
        let exact = SquareSum::of(&values).to_f64();
        prop_assert!((exact - naive).abs() <= naive * 1e-12, "{} vs {}", exact, naive);
    }
}

#[test]
fn square_sums_of_known_values() {
    assert_eq!(SquareSum::of(&[3.0, -4.0]).to_f64(), 25.0);
    assert_eq!(SquareSum::of(&[]).to_f64(), 0.0);
    // The smallest subnormal's square, 2^-298, and f32::MAX's, near 2^256.
    assert_eq!(SquareSum::of(&[f32::from_bits(1)]).to_f64(), 2f64.powi(-298));
    let max = f64::from(f32::MAX);
    assert_eq!(SquareSum::of(&[f32::MAX, -f32::MAX]).to_f64(), 2.0 * max * max);
    // 1 + 2^-100 squared terms: exact sums keep what an f64 sum loses.
    let tiny = 2f32.powi(-60);
    let mut a = SquareSum::of(&[1.0]);
    a.add(&SquareSum::of(&[tiny]));
    let mut b = SquareSum::of(&[tiny]);
    b.add(&SquareSum::of(&[1.0]));
    assert_eq!(a, b);
    assert_ne!(a, SquareSum::of(&[1.0]));
}

/// A conv [2, 3, 2, 2] whose weight at stored column k of row o is o*12 + k + 1.
fn small_conv() -> Layer {
    Layer {
        name: "conv.weight".into(),
        shape: vec![2, 3, 2, 2],
        rows: 2,
        cols: 12,
        values: (1..=24).map(|v| v as f32).collect(),
        integer_bits: None,
    }
}

#[test]
fn conv_columns_go_channels_last() {
    let order = ColumnOrder::for_nm(&[2, 3, 2, 2]);
    assert_eq!(order, ColumnOrder::ChannelsLast { inputs: 3, positions: 4 });
    // Stored k = i*4 + (kh*2 + kw); channels-last k' = (kh*2 + kw)*3 + i.
    let mut row: Vec<f32> = (0..12).map(|k| k as f32).collect();
    order.apply(&mut row, 12);
    assert_eq!(row, [0.0, 4.0, 8.0, 1.0, 5.0, 9.0, 2.0, 6.0, 10.0, 3.0, 7.0, 11.0]);
    // By hand: i = 1, kh = 0, kw = 1 is stored column 5, channels-last column 4; i = 2,
    // kh = kw = 1 is 11 in both; i = 0, kh = 1, kw = 0 is stored 2, channels-last 6.
    assert_eq!((row[4], row[11], row[6]), (5.0, 11.0, 2.0));
    for (k, &stored) in row.iter().enumerate() {
        assert_eq!(order.stored_column(k), stored as usize);
    }
    // Linear, 1x1 and depthwise layers keep their order.
    // An empty tensor's kernel may be absurd: no overflow.
    for shape in [&[8, 12][..], &[8, 12, 1, 1], &[8, 1, 3, 3], &[8, 12, 3], &[0, 2, usize::MAX, 2]] {
        assert_eq!(ColumnOrder::for_nm(shape), ColumnOrder::Stored, "{shape:?}");
    }
}

#[test]
fn conv_is_pruned_channels_last() {
    let layer = small_conv();
    let cfg = PrepareConfig { prune: PruneMode::Nm, nm: NmPattern::TWO_FOUR, bits: 16, ..PrepareConfig::default() };
    let plans = prepare::plan(std::slice::from_ref(&layer), &cfg).unwrap();
    let (got, zeroed) = prepare::pruned_rows(&layer, &plans[0], 0, 2, 0).unwrap();
    // Row 0 channels-last is 1 5 9 2 | 6 10 3 7 | 11 4 8 12: each group keeps its two largest.
    #[rustfmt::skip]
    let want = [
        0.0, 5.0, 9.0, 0.0,   0.0, 10.0, 0.0, 7.0,   11.0, 0.0, 0.0, 12.0,
        0.0, 17.0, 21.0, 0.0, 0.0, 22.0, 0.0, 19.0,  23.0, 0.0, 0.0, 24.0,
    ];
    assert_eq!(got, want);
    assert_eq!(zeroed, 12);
    // The prepared matrix keeps that order: its nonzeros are where the floats kept are.
    let p = prepare::prepare_rows(&layer, &plans[0], &cfg, 0, 2, 0).unwrap();
    let mask: Vec<bool> = p.matrix.data.iter().map(|&v| v != 0).collect();
    assert_eq!(mask, want.iter().map(|&v| v != 0.0).collect::<Vec<_>>());
    assert_eq!(p.pruned, 12);
    // Per-layer scale from the largest kept weight, 24.
    assert_eq!(p.matrix.data[23], 32767);
}

#[test]
fn depthwise_groups_are_kernel_positions() {
    // [2, 1, 3, 3]: 9 kernel positions per row, groups 0..4, 4..8 and the short 8..9.
    let values: Vec<f32> = vec![
        1.0, -4.0, 3.0, 2.0, /**/ 5.0, 5.0, -5.0, 1.0, /**/ 0.5, // row 0
        0.0, 0.0, 0.0, 1.0, /**/ 2.0, 3.0, 1.0, 4.0, /**/ -7.0, // row 1
    ];
    let layer =
        Layer { name: "dw.weight".into(), shape: vec![2, 1, 3, 3], rows: 2, cols: 9, values, integer_bits: None };
    let cfg = PrepareConfig { prune: PruneMode::Nm, nm: NmPattern::TWO_FOUR, ..PrepareConfig::default() };
    let plans = prepare::plan(std::slice::from_ref(&layer), &cfg).unwrap();
    assert_eq!(plans[0].order, ColumnOrder::Stored);
    let (got, _) = prepare::pruned_rows(&layer, &plans[0], 0, 2, 0).unwrap();
    // Ties of 5, -5, 5: the lower positions win. The short group keeps its one weight.
    #[rustfmt::skip]
    assert_eq!(got, [
        0.0, -4.0, 3.0, 0.0, /**/ 5.0, 5.0, 0.0, 0.0, /**/ 0.5,
        0.0, 0.0, 0.0, 1.0, /**/ 0.0, 3.0, 0.0, 4.0, /**/ -7.0,
    ]);
    // 1:4 keeps one per group (the first zero of row 1's first group).
    let cfg = PrepareConfig { nm: NmPattern { keep: 1, group: 4 }, ..cfg };
    let plans = prepare::plan(std::slice::from_ref(&layer), &cfg).unwrap();
    let (got, _) = prepare::pruned_rows(&layer, &plans[0], 0, 2, 0).unwrap();
    #[rustfmt::skip]
    assert_eq!(got, [
        0.0, -4.0, 0.0, 0.0, /**/ 5.0, 0.0, 0.0, 0.0, /**/ 0.5,
        0.0, 0.0, 0.0, 1.0, /**/ 0.0, 0.0, 0.0, 4.0, /**/ -7.0,
    ]);
}

/// A checkpoint with a conv whose K is not a multiple of 4 (I = 6, 3x3), a depthwise conv, a
/// 1x1 conv and a linear layer; values from a hash, with ties and zeros.
fn mixed_checkpoint(path: &Path) {
    let shapes: [(&str, Vec<usize>); 4] = [
        ("conv.weight", vec![23, 6, 3, 3]),
        ("dw.weight", vec![17, 1, 3, 3]),
        ("pw.weight", vec![9, 10, 1, 1]),
        ("fc.weight", vec![13, 21]),
    ];
    let buffers: Vec<Vec<u8>> = shapes
        .iter()
        .enumerate()
        .map(|(l, (_, shape))| {
            let len: usize = shape.iter().product();
            (0..len)
                .flat_map(|i| {
                    let x = (i as u32).wrapping_mul(2_654_435_761).wrapping_add(l as u32 * 977) >> 27;
                    let v = if x % 5 == 0 { 0.0 } else { (x as f32 - 16.0) / 8.0 };
                    v.to_le_bytes()
                })
                .collect()
        })
        .collect();
    let views: Vec<(String, TensorView<'_>)> = shapes
        .iter()
        .zip(&buffers)
        .map(|((name, shape), buf)| (name.to_string(), TensorView::new(Dtype::F32, shape.clone(), buf).unwrap()))
        .collect();
    safetensors::serialize_to_file(views, &None, path).unwrap();
}

fn json(r: &report::Report) -> Vec<u8> {
    let mut out = Vec::new();
    JsonReporter.write(r, &mut out).unwrap();
    out
}

const PARAMS: StreamParams =
    StreamParams { lanes: 4, weight_bits: 4, bus_bits: 16, run_bits: 2, count_bits: 8, nm: NmPattern::TWO_FOUR };

#[test]
fn every_path_prunes_alike() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mixed.safetensors");
    mixed_checkpoint(&path);
    let spec = ModelSpec::Path(path);
    let model = Model::load(&spec).unwrap();
    let lazy = LazyModel::open(&spec).unwrap();
    let layers: Vec<_> = model.layers().collect();
    for nm in [NmPattern::TWO_FOUR, NmPattern { keep: 1, group: 4 }, NmPattern { keep: 3, group: 8 }] {
        for granularity in [Granularity::PerLayer, Granularity::PerChannel] {
            let cfg = PrepareConfig { prune: PruneMode::Nm, nm, bits: 4, granularity, ..PrepareConfig::default() };
            // The nm format at the pruning's pattern: every layer has its nm stream.
            let params = StreamParams { nm, ..PARAMS };
            let whole = prepare::prepare(&model, &cfg).unwrap();
            // Row blocks of 4 rows, each prepared on its own, make up the whole layer.
            let plans = prepare::plan(&layers, &cfg).unwrap();
            for ((layer, plan), w) in layers.iter().zip(&plans).zip(&whole) {
                let mut data = Vec::new();
                let mut squares = weightstream::quant::Squares::default();
                for first in (0..plan.rows).step_by(4) {
                    let part = prepare::prepare_rows(layer, plan, &cfg, first, 4.min(plan.rows - first), 0).unwrap();
                    data.extend(part.matrix.data);
                    squares.add(&part.squares);
                }
                assert_eq!(data, w.matrix.data, "{} {cfg:?}", w.name);
                assert_eq!(squares, w.squares, "{} {cfg:?}", w.name);
            }
            // The lazy report, block by block, is the loaded one byte for byte.
            for max_rows in [5, 1280] {
                let loaded = report::build(&model, &whole, &cfg, &params, max_rows, |_, _| Ok(Vec::new())).unwrap();
                let blocks = report::lazy::build(&lazy, &cfg, &params, max_rows, |_| {}, &|_| {}).unwrap();
                assert_eq!(json(&loaded), json(&blocks), "{cfg:?} max rows {max_rows}");
                // Pruned n:m along the order the matrix is in: the nm format takes every layer.
                for l in &loaded.layers {
                    let f = l.formats.iter().find(|f| f.format == weightstream::Format::Nm).unwrap();
                    assert!(f.applies(), "{} {cfg:?}: {:?}", l.name, f.not_applicable);
                }
            }
            // Shards merge into the unsharded report.
            let unsharded = report::lazy::build(&lazy, &cfg, &params, 5, |_| {}, &|_| {}).unwrap();
            let files: Vec<_> = (0..3)
                .map(|index| {
                    let shard = weightstream::shard::Shard { index, count: 3 };
                    let part = report::lazy::build_shard(&lazy, &cfg, &params, 5, shard, |_| {}, &|_| {}).unwrap();
                    let file = dir.path().join(format!("part-{index}.json"));
                    std::fs::write(&file, serde_json::to_vec(&part).unwrap()).unwrap();
                    file
                })
                .collect();
            assert_eq!(json(&unsharded), json(&report::lazy::merge(&files).unwrap()), "{cfg:?}");
        }
    }
}

#[test]
fn nm_layers_are_n_of_m_along_k() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mixed.safetensors");
    mixed_checkpoint(&path);
    let model = Model::load(&ModelSpec::Path(path)).unwrap();
    let cfg = PrepareConfig { prune: PruneMode::Nm, bits: 8, ..PrepareConfig::default() };
    for l in prepare::prepare(&model, &cfg).unwrap() {
        // Quantization may zero more, never revive: at most n nonzeros per group of the matrix.
        for row in l.matrix.data.chunks(l.matrix.cols) {
            for g in row.chunks(4) {
                assert!(g.iter().filter(|&&v| v != 0).count() <= 2, "{}: {row:?}", l.name);
            }
        }
        let groups: usize = l.matrix.rows * (l.matrix.cols).div_ceil(4);
        let kept: usize =
            l.matrix.rows * (0..l.matrix.cols).step_by(4).map(|s| (l.matrix.cols - s).min(4).min(2)).sum::<usize>();
        assert_eq!(l.pruned, l.matrix.len() - kept, "{} ({groups} groups)", l.name);
    }
}

#[test]
fn magnitude_kept_is_the_direct_ratio() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mixed.safetensors");
    mixed_checkpoint(&path);
    let model = Model::load(&ModelSpec::Path(path)).unwrap();
    let layers: Vec<_> = model.layers().collect();
    let configs = [
        PrepareConfig { sparsity: 0.5, bits: 4, ..PrepareConfig::default() },
        PrepareConfig { sparsity: 0.7, prune: PruneMode::Global, bits: 4, ..PrepareConfig::default() },
        PrepareConfig {
            prune: PruneMode::Nm,
            nm: NmPattern { keep: 1, group: 4 },
            bits: 4,
            ..PrepareConfig::default()
        },
        PrepareConfig { sparsity: 0.0, bits: 4, ..PrepareConfig::default() },
    ];
    for cfg in configs {
        let prepared = prepare::prepare(&model, &cfg).unwrap();
        let rep = report::build(&model, &prepared, &cfg, &PARAMS, 5, |_, _| Ok(Vec::new())).unwrap();
        let plans = prepare::plan(&layers, &cfg).unwrap();
        let (mut kept_all, mut all_all) = (0.0f64, 0.0f64);
        for ((layer, plan), stats) in layers.iter().zip(&plans).zip(&rep.layers) {
            let (pruned, _) = prepare::pruned_rows(layer, plan, 0, plan.rows, 0).unwrap();
            let sq = |v: &[f32]| v.iter().map(|&x| f64::from(x) * f64::from(x)).sum::<f64>();
            let (kept, all) = (sq(&pruned), sq(&layer.values));
            let direct = kept / all;
            assert!(
                (stats.magnitude_kept - direct).abs() < 1e-12,
                "{} {cfg:?}: {} vs {direct}",
                stats.name,
                stats.magnitude_kept
            );
            if cfg.sparsity == 0.0 && cfg.prune == PruneMode::PerLayer {
                assert_eq!(stats.magnitude_kept, 1.0);
            }
            kept_all += kept;
            all_all += all;
        }
        assert!((rep.totals.magnitude_kept - kept_all / all_all).abs() < 1e-12, "{cfg:?}");
        assert!(rep.totals.magnitude_kept > 0.0 && rep.totals.magnitude_kept <= 1.0);
    }
    // An already-quantized model prunes nothing: all of it is kept.
    let q = dir.path().join("q.safetensors");
    let prepared = prepare::prepare(&model, &PrepareConfig::default()).unwrap();
    let tensors: Vec<_> = prepared
        .iter()
        .map(|l| weightstream::model::safetensors_io::IntTensor {
            name: &l.name,
            rows: l.matrix.rows,
            cols: l.matrix.cols,
            values: &l.matrix.data,
        })
        .collect();
    weightstream::model::safetensors_io::write_i32_safetensors(&q, &tensors).unwrap();
    let quantized = Model::load(&ModelSpec::Path(q)).unwrap();
    let cfg = PrepareConfig { prune: PruneMode::Nm, ..PrepareConfig::default() };
    let again = prepare::prepare(&quantized, &cfg).unwrap();
    let rep = report::build(&quantized, &again, &cfg, &PARAMS_Q8, 5, |_, _| Ok(Vec::new())).unwrap();
    assert!(rep.layers.iter().all(|l| l.magnitude_kept == 1.0));
    assert_eq!(rep.totals.magnitude_kept, 1.0);
}

const PARAMS_Q8: StreamParams =
    StreamParams { lanes: 4, weight_bits: 8, bus_bits: 16, run_bits: 2, count_bits: 8, nm: NmPattern::TWO_FOUR };

#[test]
fn reporters_show_the_magnitude_kept() {
    let model = Model::load(&ModelSpec::parse("synthetic:resnet18").unwrap()).unwrap();
    let cfg = PrepareConfig { prune: PruneMode::Nm, sparsity: 0.5, bits: 8, ..PrepareConfig::default() };
    let layers: Vec<_> = prepare::prepare(&model, &cfg).unwrap().into_iter().take(3).collect();
    let rep = report::build(&model, &layers, &cfg, &PARAMS_Q8, 1280, |_, _| Ok(Vec::new())).unwrap();
    let render = |r: &dyn Reporter| {
        let mut out = Vec::new();
        r.write(&rep, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    };
    let table = render(&report::TableReporter);
    assert!(table.contains("kept w²") && table.contains("prune: N:M 2:4 (nm)"), "{table}");
    let want = format!("{:.3}", rep.totals.magnitude_kept);
    let total_line = table.lines().find(|l| l.starts_with("TOTAL")).unwrap();
    assert!(total_line.split_whitespace().any(|c| c == want), "{total_line} lacks {want}");
    let csv = render(&report::CsvReporter);
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let col = header.iter().position(|&h| h == "magnitude_kept").unwrap();
    let first: Vec<&str> = csv.lines().nth(1).unwrap().split(',').collect();
    assert_eq!(first[col].parse::<f64>().unwrap(), rep.layers[0].magnitude_kept);
    let json: serde_json::Value = serde_json::from_str(&render(&JsonReporter)).unwrap();
    assert_eq!(json["totals"]["magnitude_kept"].as_f64().unwrap(), rep.totals.magnitude_kept);
    assert_eq!(json["prepare"]["nm"]["group"], 4);
    assert!(render(&report::MarkdownReporter).contains("| kept w² |"));
}

#[test]
fn old_settings_read_as_two_four() {
    let old = r#"{"sparsity":0.7,"prune":"per-layer","bits":8,"granularity":"per-layer"}"#;
    let cfg: PrepareConfig = serde_json::from_str(old).unwrap();
    assert_eq!(cfg, PrepareConfig::default());
    assert_eq!(cfg.nm, NmPattern::TWO_FOUR);
}

#[test]
fn bad_patterns_and_sparsity_are_refused() {
    let run = |args: &[&str]| {
        let out = cli().args(args).env("RUST_BACKTRACE", "1").output().unwrap();
        assert!(!out.status.success(), "{args:?} succeeded");
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(!err.contains("panicked"), "{err}");
        err.lines().next().unwrap_or_default().to_string()
    };
    for (nm, why) in [("2:3", "m = 3"), ("4:4", "n = 4"), ("0:4", "n = 0"), ("x", "must be n:m"), ("2:32", "m = 32")] {
        for cmd in ["report", "layers", "sweep", "study"] {
            let mut args = vec![cmd, "--model", "synthetic:mobilenet_v2", "--nm", nm];
            if cmd != "layers" {
                args.extend(["--prune", "nm"]);
            }
            let first = run(&args);
            assert!(first.contains("--nm") && first.contains(why), "{cmd} --nm {nm}: {first}");
        }
    }
    let first = run(&["report", "--model", "synthetic:mobilenet_v2", "--prune", "nm", "--sparsity", "0.5"]);
    assert!(first.contains("--sparsity 0.5 with --prune nm"), "{first}");
    let first =
        run(&["sweep", "--model", "synthetic:mobilenet_v2", "--prune", "nm", "--nm", "1:4", "--sparsity", "0.7"]);
    assert!(first.contains("--sparsity with --prune nm") && first.contains("sparsity 0.75"), "{first}");
}

#[test]
fn layers_says_what_a_group_is() {
    let out = cli().args(["layers", "--model", "synthetic:mobilenet_v2", "--nm", "1:8"]).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let line = |name: &str| text.lines().find(|l| l.starts_with(name)).unwrap_or_default().to_string();
    assert!(text.contains("N:M groups (1:8)"), "{text}");
    assert!(line("features.0.0.weight ").contains("channels-last (I = 3: groups straddle kernel positions)"), "{text}");
    assert!(line("features.1.conv.0.0.weight ").contains("8 kernel positions (depthwise)"), "{text}");
    assert!(line("features.1.conv.1.weight ").contains("8 consecutive inputs"), "{text}");
    assert!(line("features.2.conv.0.0.weight ").contains("8 consecutive inputs"), "{text}");
    assert!(line("classifier.1.weight ").contains("8 consecutive inputs"), "{text}");
    let out = cli().args(["layers", "--model", "synthetic:resnet18"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let l = text.lines().find(|l| l.starts_with("layer1.0.conv1.weight ")).unwrap();
    assert!(l.contains("4 input channels at one kernel position"), "{l}");
}

#[test]
fn report_encodes_the_nm_format_at_the_pruning_pattern() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    let out = cli()
        .args(["report", "--model", "synthetic:resnet18", "--prune", "nm", "--nm", "1:4", "--quiet", "--json"])
        .arg(&json)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(v["stream"]["nm"]["keep"], 1);
    assert_eq!(v["prepare"]["sparsity"], 0.75);
    let nm = v["totals"]["formats"].as_array().unwrap().iter().find(|f| f["format"] == "nm").unwrap();
    assert!(nm["not_applicable"].is_null(), "{nm}");
    let kept = v["totals"]["magnitude_kept"].as_f64().unwrap();
    assert!(kept > 0.25 && kept < 1.0, "{kept}");
}
