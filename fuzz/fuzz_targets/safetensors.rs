//! Fuzz target: `targets::safetensors` on arbitrary bytes (docs/fuzzing.md).
#![no_main]

#[path = "../src/targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::safetensors(data));
