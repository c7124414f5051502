//! Loaders on the real checkpoints (legacy pickle and zip), the synthetic layouts, safetensors,
//! and every kind of bad input.

use std::path::Path;

use safetensors::tensor::{Dtype, TensorView};
use weightstream::model::synthetic::{layout, Architecture};
use weightstream::model::{
    load_file, LoadErrorKind, Model, ModelSpec, Provenance, MOBILENET_V2_FILE, RESNET18_FIXTURE_FILE,
};

use crate::util::cached_model;

fn shapes(model: &Model) -> Vec<(String, Vec<usize>)> {
    model.tensors.iter().map(|t| (t.name.clone(), t.shape.clone())).collect()
}

#[test]
fn mobilenet_v2_legacy_pickle() {
    let path = cached_model(MOBILENET_V2_FILE);
    let model = Model::load(&ModelSpec::Path(path)).unwrap();
    assert_eq!(model.parameter_count(), 3_504_872);
    let layers: Vec<_> = model.layers().collect();
    assert_eq!(layers.len(), 53);
    let first = &layers[0];
    assert_eq!((first.name.as_str(), first.rows, first.cols), ("features.0.0.weight", 32, 27));
    assert_eq!(first.shape, [32, 3, 3, 3]);
    let dw = layers.iter().find(|l| l.name == "features.1.conv.0.0.weight").unwrap();
    assert_eq!((dw.rows, dw.cols), (32, 9), "depthwise taken as stored");
    let fc = layers.last().unwrap();
    assert_eq!((fc.name.as_str(), fc.rows, fc.cols), ("classifier.1.weight", 1000, 1280));
    // Trained weights: not all equal, finite, small.
    assert!(first.values.iter().all(|v| v.is_finite() && v.abs() < 10.0));
    assert!(first.values.iter().any(|&v| v != first.values[0]));
    // The synthetic generator reproduces the real layout exactly.
    assert_eq!(shapes(&model), layout(Architecture::MobileNetV2));
}

#[test]
fn resnet18_fixture_zip() {
    let path = cached_model(RESNET18_FIXTURE_FILE);
    let model = Model::load(&ModelSpec::Path(path)).unwrap();
    assert_eq!(model.parameter_count(), 11_181_642);
    let layers: Vec<_> = model.layers().collect();
    assert_eq!(layers.len(), 21);
    assert_eq!((layers[0].name.as_str(), layers[0].rows, layers[0].cols), ("backbone.conv1.weight", 64, 147));
    let fc = layers.last().unwrap();
    assert_eq!((fc.rows, fc.cols), (10, 512));
    // Same layout as torchvision's ResNet18 but for the prefix and the 10-class head.
    let ours: Vec<_> = shapes(&model)
        .into_iter()
        .map(|(n, s)| (n.trim_start_matches("backbone.").to_string(), s))
        .filter(|(n, _)| !n.starts_with("fc."))
        .collect();
    let reference: Vec<_> = layout(Architecture::ResNet18).into_iter().filter(|(n, _)| !n.starts_with("fc.")).collect();
    assert_eq!(ours, reference);
    let fixture = Model::load(&ModelSpec::ResNet18Fixture);
    if let Ok(m) = fixture {
        assert_eq!(m.provenance, Provenance::Untrained);
    }
}

#[test]
fn synthetic_models_are_deterministic_and_real_sized() {
    let a = Model::load(&ModelSpec::parse("synthetic:resnet18").unwrap()).unwrap();
    let b = Model::load(&ModelSpec::parse("synthetic:resnet18").unwrap()).unwrap();
    assert_eq!(a.parameter_count(), 11_689_512, "torchvision resnet18");
    assert_eq!(a.tensors, b.tensors);
    let m = Model::load(&ModelSpec::parse("synthetic:mobilenet_v2").unwrap()).unwrap();
    assert_eq!(m.parameter_count(), 3_504_872);
    assert_eq!(m.provenance, Provenance::Synthetic);
    assert!(ModelSpec::parse("synthetic:vgg").is_err());
}

fn write_safetensors(path: &Path, tensors: Vec<(&str, Dtype, Vec<usize>, Vec<u8>)>) {
    let views: Vec<(String, TensorView<'_>)> =
        tensors.iter().map(|(n, d, s, b)| (n.to_string(), TensorView::new(*d, s.clone(), b).unwrap())).collect();
    safetensors::serialize_to_file(views, &None, path).unwrap();
}

#[test]
fn safetensors_all_float_dtypes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.safetensors");
    let vals = [0.5f32, -1.25, 2.0, 0.0, 3.5, -0.75];
    let f32b: Vec<u8> = vals.iter().flat_map(|v| v.to_le_bytes()).collect();
    let f64b: Vec<u8> = vals.iter().flat_map(|v| f64::from(*v).to_le_bytes()).collect();
    let f16b: Vec<u8> = vals.iter().flat_map(|v| half::f16::from_f32(*v).to_le_bytes()).collect();
    let bf16b: Vec<u8> = vals.iter().flat_map(|v| half::bf16::from_f32(*v).to_le_bytes()).collect();
    write_safetensors(
        &path,
        vec![
            ("a.weight", Dtype::F32, vec![2, 3], f32b),
            ("b.weight", Dtype::F64, vec![3, 2], f64b),
            ("c.weight", Dtype::F16, vec![1, 1, 2, 3], f16b),
            ("d.weight", Dtype::BF16, vec![6, 1], bf16b),
            ("d.bias", Dtype::F32, vec![1], 1.0f32.to_le_bytes().to_vec()),
        ],
    );
    let model = Model::load(&ModelSpec::Path(path)).unwrap();
    let layers: Vec<_> = model.layers().collect();
    assert_eq!(layers.len(), 4);
    for l in &layers {
        assert_eq!(l.values, vals, "{}", l.name);
    }
    let c = layers.iter().find(|l| l.name == "c.weight").unwrap();
    assert_eq!((c.rows, c.cols), (1, 6), "rank 4 [1,1,2,3] is 1 x 6");
    assert_eq!(model.remainder().values, 1);
}

#[test]
fn bad_inputs_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.pth");
    let e = load_file(&missing).unwrap_err();
    assert!(matches!(e.kind, LoadErrorKind::Io(_)));
    assert!(e.to_string().contains("nope.pth"), "{e}");

    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "hello, not a checkpoint").unwrap();
    assert!(matches!(load_file(&text).unwrap_err().kind, LoadErrorKind::NotACheckpoint(_)));

    let empty = dir.path().join("empty.pth");
    std::fs::write(&empty, b"").unwrap();
    assert!(matches!(load_file(&empty).unwrap_err().kind, LoadErrorKind::NotACheckpoint(_)));

    let unknown = dir.path().join("u16.safetensors");
    write_safetensors(&unknown, vec![("w", Dtype::U16, vec![2, 2], vec![0; 8])]);
    let e = load_file(&unknown).unwrap_err();
    assert!(matches!(e.kind, LoadErrorKind::UnsupportedDtype(_)), "{e}");

    let no_weights = dir.path().join("bias.safetensors");
    write_safetensors(&no_weights, vec![("b", Dtype::F32, vec![2], vec![0; 8])]);
    let e = Model::load(&ModelSpec::Path(no_weights)).unwrap_err();
    assert!(matches!(e.kind, LoadErrorKind::NoWeights), "{e}");
}

#[test]
fn truncated_zip_checkpoint() {
    let bytes = std::fs::read(cached_model(RESNET18_FIXTURE_FILE)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for cut in [bytes.len() / 2, bytes.len() - 100, 30] {
        let path = dir.path().join(format!("cut{cut}.pth"));
        std::fs::write(&path, &bytes[..cut]).unwrap();
        let e = load_file(&path).unwrap_err();
        assert!(e.to_string().contains(&format!("cut{cut}.pth")), "{e}");
    }
}

#[test]
fn truncated_legacy_checkpoint() {
    let bytes = std::fs::read(cached_model(MOBILENET_V2_FILE)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for cut in [bytes.len() / 2, bytes.len() - 1, 100, 3] {
        let path = dir.path().join("cut.pth");
        std::fs::write(&path, &bytes[..cut]).unwrap();
        assert!(load_file(&path).is_err(), "cut at {cut} loaded");
    }
}
