//! weightstream: what compressed weight streams really save, and a golden model the RTL is held to.
//!
//! Data flows one way: [`model`] (load a checkpoint) → [`quant`] (prune, quantize) → [`formats`]
//! (encode bit-exact streams, decode them back) → [`pe`] (the golden PE array: beats and y = W a)
//! → [`report`] (sizes per layer and format). [`emit`] writes streams for other tools and the RTL.
//! [`blocks`] splits a layer taller than the PE array (O > MAX_O) into independent row blocks;
//! [`shard`] splits a run into shares for several machines and merges their partial outputs.

pub mod bits;
pub mod blocks;
pub mod canonical;
#[cfg(feature = "rtl")]
pub mod cosim;
pub mod cost;
pub mod diff;
pub mod emit;
pub mod entropy;
pub mod formats;
#[cfg(feature = "rtl")]
pub mod hostile;
pub mod matrix;
pub mod model;
#[cfg(feature = "rtl")]
pub mod modtb;
pub mod outputs;
pub mod pe;
pub mod plot;
pub mod prepare;
pub mod quant;
pub mod report;
pub mod rtl;
pub mod rtl_files;
pub mod shard;
pub mod study;
pub mod sweep;

pub use formats::{Format, StreamParams};
pub use matrix::QuantMatrix;
