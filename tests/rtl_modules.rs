//! Module testbenches (src/modtb.rs): ws_word_fifo, ws_bit_aligner, ws_beat_sequencer,
//! ws_pe_array and the Huffman decoders' modules (ws_canon_unit, ws_sym_table_ff/_ram,
//! ws_beat_queue, ws_huffman_header, ws_lane_unit) and the nm decoder (ws_nm_decoder, its window
//! played by the bench) each verilated on its own (built on demand into the weightstream cache), every
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

#[test]
fn canon_unit_against_its_reference() {
    run_module(&ModelSource::Default, "ws_canon_unit", 1).unwrap();
}

#[test]
fn sym_tables_against_their_reference() {
    run_module(&ModelSource::Default, "ws_sym_table_ff", 1).unwrap();
    run_module(&ModelSource::Default, "ws_sym_table_ram", 1).unwrap();
}

#[test]
fn beat_queue_against_its_reference() {
    run_module(&ModelSource::Default, "ws_beat_queue", 1).unwrap();
}

#[test]
fn huffman_header_against_the_golden_table_reader() {
    run_module(&ModelSource::Default, "ws_huffman_header", 1).unwrap();
}

#[test]
fn lane_unit_against_its_reference() {
    run_module(&ModelSource::Default, "ws_lane_unit", 1).unwrap();
}

#[test]
fn nm_decoder_against_the_golden_decoder() {
    run_module(&ModelSource::Default, "ws_nm_decoder", 1).unwrap();
}
