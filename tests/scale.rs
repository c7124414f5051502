//! Scale: pruning by histogram selects exactly what a full sort selects (ties included), a layer
//! prepared row block by row block equals the layer prepared whole, the lazily built report
//! equals the loaded one byte for byte, and multi-file safetensors checkpoints open as one model
//! (and refuse indexes that point elsewhere or disagree with their shards).

use std::collections::HashMap;
use std::path::Path;

use proptest::prelude::*;
use safetensors::tensor::{Dtype, TensorView};
use weightstream::model::{LazyModel, LoadErrorKind, Model, ModelSpec};
use weightstream::prepare::{self, PrepareConfig};
use weightstream::quant::{prune_count, prune_global, prune_layer, Granularity, PruneMode};
use weightstream::report::{self, JsonReporter, Reporter};
use weightstream::StreamParams;

/// The definition, by full sort: zero the `count` smallest by (|w|, position).
fn oracle(layers: &mut [Vec<f32>], count: usize) {
    let mut keys: Vec<(f32, usize, usize)> = Vec::new();
    for (l, v) in layers.iter().enumerate() {
        keys.extend(v.iter().enumerate().map(|(i, x)| (x.abs(), l, i)));
    }
    keys.sort_by(|a, b| a.0.total_cmp(&b.0).then((a.1, a.2).cmp(&(b.1, b.2))));
    for &(_, l, i) in &keys[..count] {
        layers[l][i] = 0.0;
    }
}

/// Few distinct magnitudes, both signs and both zeros: ties everywhere.
fn tied_values() -> impl Strategy<Value = Vec<f32>> {
    prop::collection::vec(prop::sample::select(vec![0.0f32, -0.0, 0.5, -0.5, 1.0, -1.0, 2.5, 1e-30, -1e30]), 0..200)
}

proptest! {
    #[test]
    fn histogram_pruning_is_the_sort(values in tied_values(), s in 0.0f64..=1.0) {
        let mut fast = values.clone();
        let zeroed = prune_layer(&mut fast, s);
        let mut slow = vec![values.clone()];
        oracle(&mut slow, prune_count(s, values.len()));
        prop_assert_eq!(zeroed, prune_count(s, values.len()));
        prop_assert_eq!(fast.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), slow[0].iter().map(|v| v.to_bits()).collect::<Vec<_>>());
    }

    #[test]
    fn global_histogram_pruning_is_the_sort(a in tied_values(), b in tied_values(), s in 0.0f64..=1.0) {
        let mut fast = vec![a.clone(), b.clone()];
        prune_global(&mut fast, s);
        let mut slow = vec![a.clone(), b.clone()];
        oracle(&mut slow, prune_count(s, a.len() + b.len()));
        prop_assert_eq!(fast, slow);
    }
}

/// A model of two float matrices with many ties, as a safetensors file.
fn tied_checkpoint(path: &Path, rows: usize, cols: usize) {
    let mut tensors = Vec::new();
    let mut buffers = Vec::new();
    for (l, seed) in [(0usize, 7u32), (1, 11)] {
        let values: Vec<f32> = (0..rows * cols)
            .map(|i| {
                let x = (i as u32).wrapping_mul(2_654_435_761).wrapping_add(seed) >> 27;
                // 32 levels, a third of them exact zeros.
                if x % 3 == 0 {
                    0.0
                } else {
                    (x as f32 - 16.0) / 8.0
                }
            })
            .collect();
        buffers.push((format!("layer{l}.weight"), values.iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<u8>>()));
    }
    for (name, buf) in &buffers {
        tensors.push((name.clone(), TensorView::new(Dtype::F32, vec![rows, cols], buf).unwrap()));
    }
    safetensors::serialize_to_file(tensors, &None, path).unwrap();
}

fn json(r: &report::Report) -> Vec<u8> {
    let mut out = Vec::new();
    JsonReporter.write(r, &mut out).unwrap();
    out
}

#[test]
fn lazy_report_equals_the_loaded_one_block_by_block() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tied.safetensors");
    tied_checkpoint(&path, 37, 23);
    let spec = ModelSpec::Path(path);
    let model = Model::load(&spec).unwrap();
    let lazy = LazyModel::open(&spec).unwrap();
    let params =
        StreamParams { lanes: 4, weight_bits: 4, bus_bits: 16, run_bits: 2, count_bits: 8, ..StreamParams::default() };
    let mut checked = 0;
    for prune in [PruneMode::PerLayer, PruneMode::Global] {
        for granularity in [Granularity::PerLayer, Granularity::PerChannel] {
            // 0.2 cuts inside the zeros, 0.5 and 0.9 inside other tied levels.
            for sparsity in [0.0, 0.2, 0.5, 0.9, 1.0] {
                let cfg = PrepareConfig { sparsity, prune, bits: 4, granularity, ..PrepareConfig::default() };
                let layers = prepare::prepare(&model, &cfg).unwrap();
                // max rows 5: 8 row blocks per layer, each prepared on its own.
                for max_rows in [5, 1280] {
                    let whole = report::build(&model, &layers, &cfg, &params, max_rows, |_, _| Ok(Vec::new())).unwrap();
                    let blocks = report::lazy::build(&lazy, &cfg, &params, max_rows, |_| {}, &|_| {}).unwrap();
                    assert_eq!(json(&whole), json(&blocks), "{cfg:?} max rows {max_rows}");
                    checked += 1;
                }
            }
        }
    }
    assert_eq!(checked, 40);
}

#[test]
fn row_blocks_prepare_like_the_whole_layer() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tied.safetensors");
    tied_checkpoint(&path, 19, 7);
    let model = Model::load(&ModelSpec::Path(path)).unwrap();
    let layers: Vec<_> = model.layers().collect();
    for prune in [PruneMode::PerLayer, PruneMode::Global] {
        for granularity in [Granularity::PerLayer, Granularity::PerChannel] {
            let cfg = PrepareConfig { sparsity: 0.2, prune, bits: 5, granularity, ..PrepareConfig::default() };
            let whole = prepare::prepare(&model, &cfg).unwrap();
            let plans = prepare::plan(&layers, &cfg).unwrap();
            for ((layer, plan), w) in layers.iter().zip(&plans).zip(&whole) {
                let mut data = Vec::new();
                for first in (0..plan.rows).step_by(4) {
                    let rows = 4.min(plan.rows - first);
                    let ties = prepare::ties_before_row(layer, plan, first).unwrap();
                    data.extend(prepare::prepare_rows(layer, plan, &cfg, first, rows, ties).unwrap().matrix.data);
                }
                assert_eq!(data, w.matrix.data, "{} {cfg:?}", w.name);
            }
        }
    }
}

/// Writes `shards` as safetensors files and an index naming them; returns the index path.
fn sharded(dir: &Path, shards: &[(&str, &[(&str, usize, usize)])], map: &[(&str, &str)]) -> std::path::PathBuf {
    for (file, tensors) in shards {
        let bufs: Vec<(String, Vec<usize>, Vec<u8>)> = tensors
            .iter()
            .enumerate()
            .map(|(i, &(name, r, c))| {
                let v: Vec<u8> = (0..r * c).flat_map(|j| ((j + i) as f32 * 0.25 - 3.0).to_le_bytes()).collect();
                (name.to_string(), vec![r, c], v)
            })
            .collect();
        let views: Vec<(String, TensorView<'_>)> =
            bufs.iter().map(|(n, s, b)| (n.clone(), TensorView::new(Dtype::F32, s.clone(), b).unwrap())).collect();
        safetensors::serialize_to_file(views, &None, &dir.join(file)).unwrap();
    }
    let map: HashMap<&str, &str> = map.iter().copied().collect();
    let index = dir.join("model.safetensors.index.json");
    std::fs::write(&index, serde_json::json!({ "metadata": {}, "weight_map": map }).to_string()).unwrap();
    index
}

#[test]
fn multi_file_checkpoint_opens_as_one_model() {
    let dir = tempfile::tempdir().unwrap();
    let index = sharded(
        dir.path(),
        &[("m-1.safetensors", &[("a.weight", 4, 3), ("a.bias", 4, 1)]), ("m-2.safetensors", &[("b.weight", 2, 5)])],
        &[("a.weight", "m-1.safetensors"), ("a.bias", "m-1.safetensors"), ("b.weight", "m-2.safetensors")],
    );
    for spec in [ModelSpec::Path(index.clone()), ModelSpec::Path(dir.path().to_path_buf())] {
        let model = Model::load(&spec).unwrap();
        let names: Vec<_> = model.tensors.iter().map(|t| t.name.as_str()).collect();
        // Shards in name order, each in its own data order (the writer put the bias first).
        assert_eq!(names, ["a.bias", "a.weight", "b.weight"]);
        assert_eq!(model.layers().count(), 3);
        assert_eq!(model.tensors[2].values[0], -3.0);
    }
    assert_eq!(LazyModel::open(&ModelSpec::Path(index)).unwrap().name, "model");
}

#[test]
fn bad_indexes_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let one: &[(&str, &[(&str, usize, usize)])] = &[("m-1.safetensors", &[("a.weight", 2, 2)])];
    let cases: [(&[(&str, &str)], &str); 4] = [
        (&[("a.weight", "../m-1.safetensors")], "is not a file name beside the index"),
        (&[("a.weight", "m-1.safetensors"), ("z.weight", "m-1.safetensors")], "'z.weight' is not in its shard"),
        (&[("a.weight", "m-9.safetensors")], "m-9.safetensors"),
        (&[], "names no shard"),
    ];
    for (map, want) in cases {
        let index = sharded(dir.path(), one, map);
        let e = Model::load(&ModelSpec::Path(index)).unwrap_err();
        assert!(e.to_string().contains(want), "{e} lacks {want:?}");
        assert!(e.to_string().contains("model.safetensors.index.json") || want == "m-9.safetensors", "{e}");
    }
    std::fs::write(dir.path().join("model.safetensors.index.json"), b"{not json").unwrap();
    let e = Model::load(&ModelSpec::Path(dir.path().join("model.safetensors.index.json"))).unwrap_err();
    assert!(matches!(e.kind, LoadErrorKind::Malformed(_)), "{e}");
}

#[test]
fn reads_stay_inside_a_tensor() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tied.safetensors");
    tied_checkpoint(&path, 3, 4);
    let lazy = LazyModel::open(&ModelSpec::Path(path)).unwrap();
    let t = &lazy.tensors[0];
    assert_eq!(t.read(0, 12).unwrap().len(), 12);
    assert!(t.read(10, 3).is_err());
    assert!(t.read(usize::MAX, 2).is_err());
}

#[test]
fn merged_shards_equal_the_unsharded_report() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tied.safetensors");
    tied_checkpoint(&path, 37, 23);
    let lazy = LazyModel::open(&ModelSpec::Path(path)).unwrap();
    let params =
        StreamParams { lanes: 4, weight_bits: 4, bus_bits: 16, run_bits: 2, count_bits: 8, ..StreamParams::default() };
    for prune in [PruneMode::PerLayer, PruneMode::Global] {
        let cfg = PrepareConfig {
            sparsity: 0.2,
            prune,
            bits: 4,
            granularity: Granularity::PerLayer,
            ..PrepareConfig::default()
        };
        let whole = report::lazy::build(&lazy, &cfg, &params, 5, |_| {}, &|_| {}).unwrap();
        for count in [1, 3, 7, 20] {
            let mut files = Vec::new();
            for index in (0..count).rev() {
                let shard = weightstream::shard::Shard { index, count };
                let part = report::lazy::build_shard(&lazy, &cfg, &params, 5, shard, |_| {}, &|_| {}).unwrap();
                let file = dir.path().join(format!("part-{count}-{index}.json"));
                std::fs::write(&file, serde_json::to_vec(&part).unwrap()).unwrap();
                files.push(file);
            }
            let merged = report::lazy::merge(&files).unwrap();
            assert_eq!(json(&whole), json(&merged), "{prune:?}, {count} shards");
            // A missing shard, or one of another run, is refused.
            if count > 1 {
                let e = report::lazy::merge(&files[1..]).unwrap_err().to_string();
                assert!(e.contains("shards missing"), "{e}");
            }
        }
    }
    let other = PrepareConfig { sparsity: 0.3, bits: 4, ..PrepareConfig::default() };
    let a = report::lazy::build_shard(&lazy, &other, &params, 5, "0/2".parse().unwrap(), |_| {}, &|_| {}).unwrap();
    let cfg = PrepareConfig { sparsity: 0.2, ..other };
    let b = report::lazy::build_shard(&lazy, &cfg, &params, 5, "1/2".parse().unwrap(), |_| {}, &|_| {}).unwrap();
    let (fa, fb) = (dir.path().join("a.json"), dir.path().join("b.json"));
    std::fs::write(&fa, serde_json::to_vec(&a).unwrap()).unwrap();
    std::fs::write(&fb, serde_json::to_vec(&b).unwrap()).unwrap();
    let e = report::lazy::merge(&[fa, fb]).unwrap_err().to_string();
    assert!(e.contains("another run") && e.contains("settings"), "{e}");
    for bad in ["2/2", "1", "a/b", "0/0"] {
        assert!(bad.parse::<weightstream::shard::Shard>().is_err(), "{bad}");
    }
}
