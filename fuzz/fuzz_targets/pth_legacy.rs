//! Fuzz target: `targets::pth_legacy` on arbitrary bytes (docs/fuzzing.md).
#![no_main]

#[path = "../src/targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::pth_legacy(data));
