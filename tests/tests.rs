//! The one integration-test binary: topic modules share `util`.

mod blocks;
mod bundle;
#[cfg(feature = "rtl")]
mod cache;
mod cli;
#[cfg(feature = "rtl")]
mod cosim;
mod cost;
mod formats_examples;
mod formats_identity;
mod formats_props;
mod hostile_checkpoints;
mod hostile_files;
#[cfg(feature = "rtl")]
mod hostile_rtl;
mod huffman;
mod icarus;
mod lane_huffman;
mod loaders;
mod malformed;
mod nm;
mod nm_prune;
mod quantize;
mod report;
#[cfg(feature = "rtl")]
mod rtl_modules;
mod scale;
mod study;
mod sweep;
#[cfg(feature = "rtl")]
mod tables;
mod util;
