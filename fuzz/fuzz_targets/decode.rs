//! Fuzz target: `targets::decode` on arbitrary bytes (docs/fuzzing.md).
#![no_main]

#[path = "../src/targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::decode(data));
