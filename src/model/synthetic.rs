//! Deterministic synthetic models: the real layer shapes and names of torchvision's MobileNetV2
//! and ResNet18 (ImageNet heads), Laplacian weights from a fixed seed, so tests never need a
//! download.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::tensor::{DType, RawTensor};

/// Seed of every synthetic model; each tensor mixes in its index.
const SEED: u64 = 0x5eed_0f3e_1647_54aa;

/// The layouts the generator knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Architecture {
    MobileNetV2,
    ResNet18,
}

impl Architecture {
    /// Parses `mobilenet_v2` or `resnet18`.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "mobilenet_v2" => Some(Architecture::MobileNetV2),
            "resnet18" => Some(Architecture::ResNet18),
            _ => None,
        }
    }

    /// The name `from_name` takes.
    pub fn name(self) -> &'static str {
        match self {
            Architecture::MobileNetV2 => "mobilenet_v2",
            Architecture::ResNet18 => "resnet18",
        }
    }
}

/// Names and shapes of every tensor, in torchvision's state-dict order.
pub fn layout(arch: Architecture) -> Vec<(String, Vec<usize>)> {
    let mut out = Vec::new();
    match arch {
        Architecture::MobileNetV2 => mobilenet_v2(&mut out),
        Architecture::ResNet18 => resnet18(&mut out),
    }
    out
}

/// Generates the model's tensors.
pub fn generate(arch: Architecture) -> Vec<RawTensor> {
    layout(arch)
        .into_iter()
        .enumerate()
        .map(|(i, (name, shape))| {
            let mut rng = ChaCha8Rng::seed_from_u64(SEED ^ (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
            let numel: usize = shape.iter().product();
            let values = if name.ends_with("num_batches_tracked") {
                vec![0.0; numel]
            } else if name.ends_with("running_var") {
                vec![1.0; numel]
            } else if name.ends_with("running_mean") || name.ends_with("bias") {
                vec![0.0; numel]
            } else if shape.len() == 1 {
                vec![1.0; numel]
            } else {
                // Laplacian with the He-style scale of the layer's fan-in.
                let fan_in: usize = shape[1..].iter().product();
                let b = (1.0 / fan_in as f64).sqrt();
                (0..numel).map(|_| laplace(&mut rng, b) as f32).collect()
            };
            let dtype = if name.ends_with("num_batches_tracked") { DType::I64 } else { DType::F32 };
            RawTensor { name, shape, dtype, values }
        })
        .collect()
}

fn laplace(rng: &mut impl Rng, b: f64) -> f64 {
    let u: f64 = rng.random::<f64>() - 0.5;
    -b * u.signum() * (1.0 - 2.0 * u.abs()).max(f64::MIN_POSITIVE).ln()
}

fn batch_norm(out: &mut Vec<(String, Vec<usize>)>, prefix: &str, c: usize) {
    for (suffix, shape) in [
        ("weight", vec![c]),
        ("bias", vec![c]),
        ("running_mean", vec![c]),
        ("running_var", vec![c]),
        ("num_batches_tracked", vec![]),
    ] {
        out.push((format!("{prefix}.{suffix}"), shape));
    }
}

fn conv(out: &mut Vec<(String, Vec<usize>)>, name: &str, o: usize, i: usize, k: usize) {
    out.push((format!("{name}.weight"), vec![o, i, k, k]));
}

fn mobilenet_v2(out: &mut Vec<(String, Vec<usize>)>) {
    conv(out, "features.0.0", 32, 3, 3);
    batch_norm(out, "features.0.1", 32);
    // (expansion t, output channels c, repeats n), as in the MobileNetV2 paper's table 2.
    let settings = [(1, 16, 1), (6, 24, 2), (6, 32, 3), (6, 64, 4), (6, 96, 3), (6, 160, 3), (6, 320, 1)];
    let mut input = 32;
    let mut index = 1;
    for (t, c, n) in settings {
        for _ in 0..n {
            let hidden = input * t;
            let p = format!("features.{index}.conv");
            let mut part = 0;
            if t != 1 {
                conv(out, &format!("{p}.0.0"), hidden, input, 1);
                batch_norm(out, &format!("{p}.0.1"), hidden);
                part = 1;
            }
            out.push((format!("{p}.{part}.0.weight"), vec![hidden, 1, 3, 3]));
            batch_norm(out, &format!("{p}.{part}.1"), hidden);
            conv(out, &format!("{p}.{}", part + 1), c, hidden, 1);
            batch_norm(out, &format!("{p}.{}", part + 2), c);
            input = c;
            index += 1;
        }
    }
    conv(out, "features.18.0", 1280, 320, 1);
    batch_norm(out, "features.18.1", 1280);
    out.push(("classifier.1.weight".into(), vec![1000, 1280]));
    out.push(("classifier.1.bias".into(), vec![1000]));
}

fn resnet18(out: &mut Vec<(String, Vec<usize>)>) {
    conv(out, "conv1", 64, 3, 7);
    batch_norm(out, "bn1", 64);
    let mut input = 64;
    for (stage, planes) in [64, 128, 256, 512].into_iter().enumerate() {
        for block in 0..2 {
            let p = format!("layer{}.{block}", stage + 1);
            conv(out, &format!("{p}.conv1"), planes, input, 3);
            batch_norm(out, &format!("{p}.bn1"), planes);
            conv(out, &format!("{p}.conv2"), planes, planes, 3);
            batch_norm(out, &format!("{p}.bn2"), planes);
            if block == 0 && input != planes {
                conv(out, &format!("{p}.downsample.0"), planes, input, 1);
                batch_norm(out, &format!("{p}.downsample.1"), planes);
            }
            input = planes;
        }
    }
    out.push(("fc.weight".into(), vec![1000, 512]));
    out.push(("fc.bias".into(), vec![1000]));
}
