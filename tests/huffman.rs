//! The bitmap-huffman formats: every header error and the invalid code, with the offset each
//! names; and, per layer of the real MobileNetV2, that the format's size is the study's Huffman
//! coding of the same values plus only what the format spells out (its header, the masks, the
//! last word's fill).

use bitvec::prelude::*;
use weightstream::formats::huffman::{read_table, CodeTable, LMAX_BITS, MAX_CODE_LEN};
use weightstream::formats::DecodeErrorKind;
use weightstream::model::{Model, ModelSpec};
use weightstream::prepare::{prepare, PrepareConfig};
use weightstream::study::stages::huffman::table as study_table;
use weightstream::{Format, StreamParams};

use crate::util::{doc_params, matrix};

const BOTH: [Format; 2] = [Format::BitmapHuffman, Format::DeltaBitmapHuffman];

/// A stream of whole 16-bit words: `fields` (value, width) packed LSB-first, zero-filled.
fn stream(fields: &[(u64, usize)]) -> BitVec<u64, Lsb0> {
    let mut bits = BitVec::<u64, Lsb0>::new();
    for &(v, w) in fields {
        for i in 0..w {
            bits.push(v >> i & 1 == 1);
        }
    }
    while bits.len() % 16 != 0 {
        bits.push(false);
    }
    bits
}

fn decode_err(bits: &BitSlice<u64, Lsb0>, rows: usize, cols: usize) -> weightstream::formats::DecodeError {
    Format::BitmapHuffman.decode("layer.h", bits, rows, cols, &doc_params()).unwrap_err()
}

#[test]
fn header_errors_name_their_field() {
    // lmax above H.
    let e = decode_err(&stream(&[(13, 5)]), 5, 2);
    assert_eq!(e.kind, DecodeErrorKind::CodeTooLong { len: 13, limit: MAX_CODE_LEN });
    assert_eq!(e.offset, 0);
    // Three codes of length 1.
    let e = decode_err(&stream(&[(2, 5), (3, 4)]), 5, 2);
    assert_eq!(e.kind, DecodeErrorKind::CodeOversubscribed { len: 1 });
    assert_eq!(e.offset, 5);
    // One code of length 1, one of length 2: a quarter of the code space unused.
    let e = decode_err(&stream(&[(2, 5), (1, 4), (1, 4)]), 5, 2);
    assert_eq!(e.kind, DecodeErrorKind::CodeIncomplete);
    assert_eq!(e.offset, 9);
    // lmax 1 with no code at all is incomplete too.
    let e = decode_err(&stream(&[(1, 5), (0, 4)]), 5, 2);
    assert_eq!(e.kind, DecodeErrorKind::CodeIncomplete);
    // 15 codes of length 4 and 2 of length 5 are a complete code, but of 17 symbols: more than
    // the 2^Q = 16 values of Q = 4 bits.
    let e = decode_err(&stream(&[(5, 5), (0, 4), (0, 4), (0, 4), (15, 4), (2, 4)]), 5, 2);
    assert_eq!(e.kind, DecodeErrorKind::TooManyCodes { codes: 17, limit: 16 });
    assert_eq!(e.offset, 21);
    // A header cut short is truncation, at the field it cuts.
    let e = decode_err(&stream(&[(3, 5), (0, 4), (3, 4)])[..12], 5, 2);
    assert_eq!(e.kind, DecodeErrorKind::Truncated { need: 4, have: 3 });
    assert_eq!(e.offset, 9);
}

#[test]
fn invalid_and_cut_codes() {
    // One symbol (7), code "0": a "1" is invalid. O = 1, K = 2: mask 1, code 0 | mask 1, code 1.
    let one = [(1, 5), (1, 4), (7, 4)];
    let good = stream(&[one[0], one[1], one[2], (1, 1), (0, 1), (1, 1), (0, 1)]);
    let w = Format::BitmapHuffman.decode("l", &good, 1, 2, &doc_params()).unwrap();
    assert_eq!(w.data, [7, 7]);
    let bad = stream(&[one[0], one[1], one[2], (1, 1), (0, 1), (1, 1), (1, 1)]);
    let e = decode_err(&bad, 1, 2);
    assert_eq!(e.kind, DecodeErrorKind::InvalidCode);
    assert_eq!(e.offset, 16);
    // No codes (lmax 0) and a set mask bit: invalid at once.
    let e = decode_err(&stream(&[(0, 5), (1, 1)]), 1, 2);
    assert_eq!(e.kind, DecodeErrorKind::InvalidCode);
    assert_eq!(e.offset, 6);
    // A code cut by the stream's end: the doc example's last code (01 for -8, bits 59..61) with
    // the stream cut after its first bit (no whole words: the golden decoder reads any length).
    let s = Format::BitmapHuffman.encode(&doc_matrix(), &doc_params()).unwrap();
    let e = decode_err(&s.bits[..60], 5, 2);
    assert_eq!(e.kind, DecodeErrorKind::Truncated { need: 2, have: 1 });
    assert_eq!(e.offset, 59);
}

fn doc_matrix() -> weightstream::QuantMatrix {
    matrix(&[&[3, 3], &[0, 0], &[-2, 0], &[0, 5], &[7, -8]], 4)
}

#[test]
fn header_round_trips_through_the_reader() {
    let mut hist = vec![0u64; 16];
    for (s, n) in [(1, 40), (2, 3), (5, 9), (9, 1), (15, 22)] {
        hist[s] = n;
    }
    let t = CodeTable::from_histogram(&hist, MAX_CODE_LEN).unwrap();
    let mut fields = vec![(u64::from(t.lmax), LMAX_BITS as usize)];
    fields.extend(t.counts.iter().map(|&n| (n, 4)));
    fields.extend(t.symbols.iter().map(|&s| (u64::from(s), 4)));
    let bits = stream(&fields);
    let mut r = weightstream::bits::BitReader::new(&bits);
    assert_eq!(read_table(&mut r, 4).unwrap(), t);
    assert_eq!(r.position(), t.header_bits(4));
}

/// The Q-bit patterns of a layer's nonzero values (of W, or of D along k) in stream order.
fn nonzero_symbols(w: &weightstream::QuantMatrix, p: &StreamParams, delta: bool) -> Vec<u32> {
    let m = if delta { w.delta_along_k() } else { w.clone() };
    weightstream::pe::beats(&m, p)
        .into_iter()
        .filter(|&v| v != 0)
        .map(|v| (v as u32) & ((1 << p.weight_bits) - 1))
        .collect()
}

#[test]
fn format_is_the_study_huffman_plus_header_masks_and_fill() {
    let model = Model::load(&ModelSpec::parse("mobilenet_v2").unwrap()).unwrap();
    let p = StreamParams::default();
    let mut checked = 0;
    for sparsity in [0.5, 0.7, 0.9] {
        let cfg = PrepareConfig { sparsity, ..PrepareConfig::default() };
        let layers = prepare(&model, &cfg).unwrap();
        eprintln!("sparsity {sparsity}: layer, format, study huffman:12 code bits, header, masks, fill = stream bits");
        for layer in &layers {
            let w = &layer.matrix;
            for (format, delta) in [(Format::BitmapHuffman, false), (Format::DeltaBitmapHuffman, true)] {
                let s = format.encode(w, &p).unwrap();
                let symbols = nonzero_symbols(w, &p, delta);
                // The study's coder on the same symbols: its table's lengths times the counts.
                let pairs = study_table(&symbols, p.weight_bits, MAX_CODE_LEN).unwrap();
                let len_of = |sym: u32| pairs.iter().find(|&&(s, _)| s == sym).map(|&(_, l)| u64::from(l)).unwrap();
                let study_bits: u64 = symbols.iter().map(|&sym| len_of(sym)).sum();
                let header = u64::from(LMAX_BITS)
                    + u64::from(p.weight_bits)
                        * (u64::from(pairs.iter().map(|p| p.1).max().unwrap_or(0)) + pairs.len() as u64);
                let masks = w.len() as u64;
                let fill = s.bits.len() as u64 - (study_bits + header + masks);
                assert_eq!(s.sizes.payload_bits, study_bits, "{} {format}", layer.name);
                assert_eq!(s.sizes.metadata_bits, header + masks, "{} {format}", layer.name);
                assert!(fill < u64::from(p.bus_bits), "{} {format}: fill {fill}", layer.name);
                assert_eq!(s.sizes.padding_bits, fill, "{} {format}", layer.name);
                assert_eq!(s.decode(&layer.name).unwrap(), *w, "{} {format} round trip", layer.name);
                eprintln!("  {} {format}: {study_bits} + {header} + {masks} + {fill} = {}", layer.name, s.bits.len());
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 3 * 2 * 53, "every layer of MobileNetV2 at three sparsities, both formats");
}

#[test]
fn doc_examples_decode_and_reencode() {
    for format in BOTH {
        let s = format.encode(&doc_matrix(), &doc_params()).unwrap();
        assert_eq!(s.decode("x").unwrap(), doc_matrix());
        // Any single flipped bit is caught or decodes to something else, never a panic.
        for i in 0..s.bits.len() {
            let mut bits = s.bits.clone();
            let b = !bits[i];
            bits.set(i, b);
            if let Ok(w) = format.decode("x", &bits, 5, 2, &doc_params()) {
                assert_ne!(w, doc_matrix(), "{format}: flipping bit {i} changed nothing");
            }
        }
    }
}
