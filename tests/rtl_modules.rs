//! Module testbenches (src/modtb.rs): ws_word_fifo, ws_bit_aligner, ws_beat_sequencer and
//! ws_pe_array each verilated on its own (built on demand into the weightstream cache), every
//! crossing of input idle {none, fixed, seeded random} x output backpressure {none, fixed,
//! seeded random}, compared cycle by cycle with a Rust reference model, then "nothing left".

use weightstream::hostile::ModelSource;
use weightstream::modtb::run_module;

#[test]
fn word_fifo_against_its_reference() {
    run_module(&ModelSource::Default, "ws_word_fifo", 1).unwrap();
}

#[test]
fn bit_aligner_against_its_reference() {
    run_module(&ModelSource::Default, "ws_bit_aligner", 1).unwrap();
}

#[test]
fn beat_sequencer_against_its_reference() {
    run_module(&ModelSource::Default, "ws_beat_sequencer", 1).unwrap();
}

#[test]
fn pe_array_against_its_reference() {
    run_module(&ModelSource::Default, "ws_pe_array", 1).unwrap();
}
