//! The crate's error type: misuse of ports, pauses and waveforms, and
//! simulations that did not finish in time.

use std::path::PathBuf;

/// Everything that can go wrong in the harness (the RTL's own failures show
/// up as values, or as [`crate::Model::stopped`]).
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("model {model}: no port named `{name}`")]
    NoSuchPort { model: &'static str, name: String },
    #[error("model {model}: port id {index} out of range ({count} ports)")]
    BadPortId { model: &'static str, index: usize, count: usize },
    #[error("model {model}: port `{port}` is an output and cannot be driven")]
    NotAnInput { model: &'static str, port: &'static str },
    #[error("model {model}: port `{port}` takes {expected} u32 word(s), got {got}")]
    WordCount { model: &'static str, port: &'static str, expected: usize, got: usize },
    #[error("model {model}: port `{port}` is {width} bits wide, expected {expected}")]
    PortWidth { model: &'static str, port: &'static str, width: u32, expected: u32 },
    #[error("model {model}: this instance has no tracing; create it with new_traced() / instantiate_traced()")]
    NotTraced { model: &'static str },
    #[error("invalid pause: {0}")]
    InvalidPause(String),
    #[error("no model named `{0}` was built (see weightstream_sim::missing_models())")]
    UnknownModel(String),
    #[error("cannot write waveform {path}: {source}")]
    TraceIo {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "waveform {path}: models are built for {built} tracing \
         (FST needs the `fst` feature and a .fst path; VCD the default build)"
    )]
    TraceFormat { path: PathBuf, built: &'static str },
    #[error("building a model on demand: {0}")]
    Build(String),
    #[error("model {model}: not a Verilated model of this crate, its ports cannot be accessed directly")]
    NoPortStorage { model: &'static str },
    #[error("model {model}: condition not met after {cycles} cycles")]
    Timeout { model: &'static str, cycles: u64 },
}

/// `Result` with [`SimError`] as the default error.
pub type Result<T, E = SimError> = std::result::Result<T, E>;
