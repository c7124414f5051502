//! Errors raised while reading checkpoints: always naming the file and what is wrong with it.

use std::path::PathBuf;

/// Why a checkpoint could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LoadErrorKind {
    #[error("cannot read file: {0}")]
    Io(#[from] std::io::Error),
    #[error("not a checkpoint: {0}")]
    NotACheckpoint(String),
    #[error("truncated: {0}")]
    Truncated(String),
    #[error("unsupported dtype {0}")]
    UnsupportedDtype(String),
    #[error("no weight tensors (rank 2 or 4) in the checkpoint")]
    NoWeights,
    #[error("malformed: {0}")]
    Malformed(String),
    #[error(
        "unknown model {0:?} (expected a path, mobilenet_v2, resnet18-fixture or synthetic:mobilenet_v2|resnet18)"
    )]
    UnknownModel(String),
}

/// A checkpoint that could not be read, with the file it came from.
#[derive(Debug, thiserror::Error)]
#[error("{}: {kind}", path.display())]
pub struct LoadError {
    /// The file (or model spec) that failed.
    pub path: PathBuf,
    /// What went wrong.
    pub kind: LoadErrorKind,
}

impl LoadError {
    pub fn new(path: impl Into<PathBuf>, kind: LoadErrorKind) -> Self {
        LoadError { path: path.into(), kind }
    }
}
