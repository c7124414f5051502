//! Models in: reading checkpoints (safetensors, PyTorch zip and legacy formats) or generating
//! synthetic ones, and turning their tensors into the layer matrices the formats encode.

pub mod error;
pub mod lazy;
mod pickle;
pub mod pth;
pub mod safetensors_io;
pub mod synthetic;
pub mod tensor;

use std::path::{Path, PathBuf};

use serde::Serialize;

pub use error::{LoadError, LoadErrorKind};
pub use lazy::{LazyModel, LazyTensor};
pub use tensor::{DType, RawTensor};

/// File name of the default model in the cache (torchvision's ImageNet MobileNetV2).
pub const MOBILENET_V2_FILE: &str = "mobilenet_v2-b0353104.pth";
/// File name of the ResNet18 layout fixture in the cache (untrained weights).
pub const RESNET18_FIXTURE_FILE: &str = "resnet18-fixture-untrained.pth";

/// Where a model comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelSpec {
    /// A checkpoint file: `.safetensors` or PyTorch `.pth`/`.pt`.
    Path(PathBuf),
    /// torchvision MobileNetV2, ImageNet-trained, from the cache `scripts/setup` fills.
    MobileNetV2,
    /// ResNet18 layout with a 10-class head and untrained weights, from the cache.
    ResNet18Fixture,
    /// A deterministic synthetic model with real layer shapes.
    Synthetic(synthetic::Architecture),
}

impl ModelSpec {
    /// Parses `PATH | mobilenet_v2 | resnet18-fixture | synthetic:NAME`.
    pub fn parse(s: &str) -> Result<ModelSpec, LoadError> {
        match s {
            "mobilenet_v2" => Ok(ModelSpec::MobileNetV2),
            "resnet18-fixture" => Ok(ModelSpec::ResNet18Fixture),
            _ => {
                if let Some(name) = s.strip_prefix("synthetic:") {
                    synthetic::Architecture::from_name(name)
                        .map(ModelSpec::Synthetic)
                        .ok_or_else(|| LoadError::new(s, LoadErrorKind::UnknownModel(s.to_string())))
                } else {
                    Ok(ModelSpec::Path(PathBuf::from(s)))
                }
            }
        }
    }
}

/// Whether a model's weights are trained, which matters for what its numbers mean.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Provenance {
    /// Trained weights (the default MobileNetV2).
    Trained,
    /// Default-initialised weights: layout only, numbers are not representative.
    Untrained,
    /// Generated here from a seeded Laplacian: layout only.
    Synthetic,
    /// A user's checkpoint; we cannot tell.
    User,
}

impl Provenance {
    /// Label shown next to the model name.
    pub fn label(self) -> &'static str {
        match self {
            Provenance::Trained => "trained",
            Provenance::Untrained => "untrained",
            Provenance::Synthetic => "synthetic",
            Provenance::User => "user checkpoint",
        }
    }
}

/// A loaded model: its tensors in checkpoint order.
#[derive(Debug, Clone)]
pub struct Model {
    /// Short name (`mobilenet_v2`, a file stem, `synthetic:resnet18`).
    pub name: String,
    /// The file it was read from, or the synthetic spec.
    pub source: String,
    /// Trained, untrained, synthetic or unknown.
    pub provenance: Provenance,
    /// All tensors, in checkpoint order.
    pub tensors: Vec<RawTensor>,
}

/// One weight layer as a matrix: O rows x K columns of floats in PyTorch memory order.
#[derive(Debug, Clone)]
pub struct Layer {
    /// Tensor name in the checkpoint.
    pub name: String,
    /// Original tensor shape (OIHW for a convolution).
    pub shape: Vec<usize>,
    /// O: the first dimension.
    pub rows: usize,
    /// K: the product of the others, k = (i*KH + kh)*KW + kw.
    pub cols: usize,
    /// Row-major values.
    pub values: Vec<f32>,
    /// `Some(Q)` for a layer that is already quantized (an I32 matrix of a file written by
    /// `--export-quantized`): the values are integers and Q is the fewest two's-complement bits
    /// that hold them all. `prepare` takes such layers as they are.
    pub integer_bits: Option<u32>,
}

/// The tensors that are not compressed (biases, batch-norm), sent dense.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Remainder {
    /// How many tensors.
    pub tensors: usize,
    /// How many values.
    pub values: u64,
    /// Their size in bits at the checkpoint's own dtype.
    pub bits: u64,
}

/// Directory the fetched checkpoints live in: `$WEIGHTSTREAM_CACHE`, else
/// `$HOME/.cache/weightstream`.
pub fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("WEIGHTSTREAM_CACHE") {
        return PathBuf::from(dir);
    }
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("."));
    home.join(".cache").join("weightstream")
}

/// Tensor names that are buffers, not parameters (excluded from the parameter count).
fn is_buffer(name: &str) -> bool {
    name.ends_with("running_mean") || name.ends_with("running_var") || name.ends_with("num_batches_tracked")
}

impl LazyModel {
    /// Opens the model a spec names: tensor names, shapes and dtypes, values read on demand.
    pub fn open(spec: &ModelSpec) -> Result<LazyModel, LoadError> {
        match spec {
            ModelSpec::Path(path) => {
                let tensors = lazy::open_file(path)?;
                let stem = if path.is_dir() { path.file_name() } else { path.file_stem() };
                let mut name = stem.map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
                if lazy::is_index(path) {
                    name = name.trim_end_matches(".safetensors.index").to_string();
                }
                LazyModel::checked(name, path.display().to_string(), Provenance::User, tensors, path)
            }
            ModelSpec::MobileNetV2 => Self::open_cached("mobilenet_v2", MOBILENET_V2_FILE, Provenance::Trained),
            ModelSpec::ResNet18Fixture => {
                Self::open_cached("resnet18-fixture", RESNET18_FIXTURE_FILE, Provenance::Untrained)
            }
            ModelSpec::Synthetic(arch) => Ok(LazyModel {
                name: format!("synthetic:{}", arch.name()),
                source: format!("synthetic:{} (seeded Laplacian)", arch.name()),
                provenance: Provenance::Synthetic,
                tensors: synthetic::generate(*arch).into_iter().map(LazyTensor::in_memory).collect(),
            }),
        }
    }

    fn open_cached(name: &str, file: &str, provenance: Provenance) -> Result<LazyModel, LoadError> {
        let path = cache_dir().join(file);
        if !path.exists() {
            return Err(LoadError::new(
                &path,
                LoadErrorKind::NotACheckpoint(format!("{name} is not in the cache; run scripts/setup to fetch it")),
            ));
        }
        let tensors = lazy::open_file(&path)?;
        LazyModel::checked(name.to_string(), path.display().to_string(), provenance, tensors, &path)
    }

    fn checked(
        name: String,
        source: String,
        provenance: Provenance,
        tensors: Vec<LazyTensor>,
        path: &Path,
    ) -> Result<LazyModel, LoadError> {
        let model = LazyModel { name, source, provenance, tensors };
        if !model.meta().any(|m| is_weight(m) || is_quantized_weight(m)) {
            return Err(LoadError::new(path, LoadErrorKind::NoWeights));
        }
        Ok(model)
    }

    fn meta(&self) -> impl Iterator<Item = TensorMeta<'_>> + Clone + '_ {
        self.tensors.iter().map(|t| (t.name.as_str(), t.dtype, t.shape.as_slice()))
    }

    /// True for a model of already-quantized layers (see [`Model::is_quantized`]).
    pub fn is_quantized(&self) -> bool {
        is_quantized_model(self.meta())
    }

    /// The weight layers' tensors (see [`Model::layers`]), values not read.
    pub fn weight_tensors(&self) -> impl Iterator<Item = &LazyTensor> + '_ {
        let quantized = self.is_quantized();
        self.tensors.iter().filter(move |t| is_layer(quantized, (t.name.as_str(), t.dtype, t.shape.as_slice())))
    }

    /// The float tensors sent uncompressed (see [`Model::remainder`]).
    pub fn remainder(&self) -> Remainder {
        remainder_of(self.meta())
    }

    /// Parameters as PyTorch counts them (see [`Model::parameter_count`]).
    pub fn parameter_count(&self) -> u64 {
        parameter_count_of(self.meta())
    }
}

/// What the tensor filters look at: name, dtype, shape.
type TensorMeta<'a> = (&'a str, DType, &'a [usize]);

impl Model {
    /// Loads the model a spec names, every tensor read.
    pub fn load(spec: &ModelSpec) -> Result<Model, LoadError> {
        LazyModel::open(spec)?.materialize()
    }

    fn meta(&self) -> impl Iterator<Item = TensorMeta<'_>> + Clone + '_ {
        self.tensors.iter().map(|t| (t.name.as_str(), t.dtype, t.shape.as_slice()))
    }

    /// True for a model of already-quantized layers: no float weights, and I32 matrices (what
    /// `report --export-quantized` writes).
    pub fn is_quantized(&self) -> bool {
        is_quantized_model(self.meta())
    }

    /// The weight layers: float tensors of rank 2 or more (linear O x I; conv OIHW as O x I*KH*KW),
    /// or in a quantized model its I32 matrices, with [`Layer::integer_bits`] set.
    pub fn layers(&self) -> impl Iterator<Item = Layer> + '_ {
        let quantized = self.is_quantized();
        self.tensors.iter().filter(move |t| is_layer(quantized, (t.name.as_str(), t.dtype, t.shape.as_slice()))).map(
            move |t| Layer {
                name: t.name.clone(),
                shape: t.shape.clone(),
                rows: t.shape[0],
                cols: t.shape[1..].iter().product(),
                values: t.values.clone(),
                integer_bits: quantized.then(|| integer_bits(&t.values)),
            },
        )
    }

    /// The float tensors sent uncompressed (rank 0 and 1: biases, batch-norm parameters and
    /// statistics).
    pub fn remainder(&self) -> Remainder {
        remainder_of(self.meta())
    }

    /// Parameters as PyTorch counts them: every tensor but the batch-norm buffers.
    pub fn parameter_count(&self) -> u64 {
        parameter_count_of(self.meta())
    }
}

fn numel(shape: &[usize]) -> usize {
    shape.iter().product()
}

fn is_weight((_, dtype, shape): TensorMeta<'_>) -> bool {
    dtype.is_float() && shape.len() >= 2 && numel(shape) > 0
}

fn is_quantized_weight((_, dtype, shape): TensorMeta<'_>) -> bool {
    dtype == DType::I32 && shape.len() == 2 && numel(shape) > 0
}

/// A layer of the model: its float weights, or in a quantized model its I32 matrices.
fn is_layer(quantized: bool, m: TensorMeta<'_>) -> bool {
    if quantized {
        is_quantized_weight(m)
    } else {
        is_weight(m)
    }
}

fn is_quantized_model<'a>(mut meta: impl Iterator<Item = TensorMeta<'a>> + Clone) -> bool {
    !meta.clone().any(is_weight) && meta.any(is_quantized_weight)
}

fn remainder_of<'a>(meta: impl Iterator<Item = TensorMeta<'a>>) -> Remainder {
    meta.filter(|&m| !is_weight(m) && m.1.is_float()).fold(Remainder::default(), |r, (_, dtype, shape)| Remainder {
        tensors: r.tensors + 1,
        values: r.values + numel(shape) as u64,
        bits: r.bits + numel(shape) as u64 * u64::from(dtype.bits()),
    })
}

fn parameter_count_of<'a>(meta: impl Iterator<Item = TensorMeta<'a>>) -> u64 {
    meta.filter(|(name, _, _)| !is_buffer(name)).map(|(_, _, shape)| numel(shape) as u64).sum()
}

/// Fewest two's-complement bits (at least 2) holding every value: Q with all values in
/// [-2^(Q-1), 2^(Q-1) - 1].
pub fn integer_bits(values: &[f32]) -> u32 {
    let (lo, hi) = values.iter().fold((0f64, 0f64), |(lo, hi), &v| (lo.min(f64::from(v)), hi.max(f64::from(v))));
    (2..64).find(|&q| -(2f64.powi(q - 1)) <= lo && hi < 2f64.powi(q - 1)).unwrap_or(64) as u32
}

/// Reads a checkpoint file (or safetensors index), every tensor, choosing the reader by its first
/// bytes.
pub fn load_file(path: &Path) -> Result<Vec<RawTensor>, LoadError> {
    lazy::open_file(path)?.iter().map(LazyTensor::materialize).collect()
}
