//! Every malformed-stream error kind, with the layer and bit offset it names.

use bitvec::prelude::*;
use weightstream::formats::DecodeErrorKind;
use weightstream::Format;

use crate::util::{doc_params, matrix};

fn doc_stream(format: Format) -> weightstream::formats::EncodedStream {
    let w = matrix(&[&[3, 3], &[0, 0], &[-2, 0], &[0, 5], &[7, -8]], 4);
    format.encode(&w, &doc_params()).unwrap()
}

fn decode(format: Format, bits: &BitSlice<u64, Lsb0>, rows: usize) -> weightstream::formats::DecodeError {
    format.decode("layer.x", bits, rows, 2, &doc_params()).unwrap_err()
}

#[test]
fn truncated_stream_names_layer_and_offset() {
    for format in Format::ALL {
        let s = doc_stream(format);
        let cut = &s.bits[..16]; // one word of three
        let e = decode(format, cut, 5);
        assert!(matches!(e.kind, DecodeErrorKind::Truncated { .. }), "{format}: {e}");
        assert_eq!(e.layer, "layer.x");
        assert!(e.offset <= 16, "{format}: offset {}", e.offset);
        assert!(e.to_string().starts_with("layer layer.x ("), "{e}");
    }
}

#[test]
fn csc_value_bits_missing() {
    let s = doc_stream(Format::Csc);
    // Stream bits 0..40 hold everything but the last value's 4 bits (40..44).
    let e = decode(Format::Csc, &s.bits[..42], 5);
    assert_eq!(e.kind, DecodeErrorKind::Truncated { need: 4, have: 2 });
    assert_eq!(e.offset, 40);
}

#[test]
fn csc_count_exceeds_rows() {
    let mut s = doc_stream(Format::Csc);
    s.bits[0..4].store_le(6u8); // column 0 claims 6 entries in 5 rows
    let e = decode(Format::Csc, &s.bits, 5);
    assert_eq!(e.kind, DecodeErrorKind::CountExceedsRows { col: 0, count: 6, rows: 5 });
    assert_eq!(e.offset, 0);
}

#[test]
fn csc_run_past_column_end() {
    let mut s = doc_stream(Format::Csc);
    // Column 1's last entry (bits 38..44) gets run 3: row 4 + 3 = 7 >= 5.
    s.bits[38..40].store_le(3u8);
    let e = decode(Format::Csc, &s.bits, 5);
    assert_eq!(e.kind, DecodeErrorKind::RunPastColumnEnd { col: 1, entry: 2, row: 7, rows: 5 });
    assert_eq!(e.offset, 38);
}

#[test]
fn trailing_word_is_rejected() {
    for format in Format::ALL {
        let mut bits = doc_stream(format).bits;
        bits.extend_from_bitslice(bits![u64, Lsb0; 0; 16]);
        let e = decode(format, &bits, 5);
        assert!(matches!(e.kind, DecodeErrorKind::TrailingData { .. }), "{format}: {e}");
    }
}

#[test]
fn nonzero_fill_is_rejected() {
    for format in Format::ALL {
        let mut bits = doc_stream(format).bits;
        let last = bits.len() - 1;
        bits.set(last, true);
        let e = decode(format, &bits, 5);
        assert_eq!(e.kind, DecodeErrorKind::NonzeroFill, "{format}");
        assert_eq!(e.offset, last as u64);
    }
}

#[test]
fn wrong_shape_and_params_are_errors() {
    let s = doc_stream(Format::Bitmap);
    let e = Format::Bitmap.decode("l", &s.bits, 0, 2, &doc_params()).unwrap_err();
    assert!(matches!(e.kind, DecodeErrorKind::BadShape { .. }));
    let mut p = doc_params();
    p.weight_bits = 1;
    let e = Format::Bitmap.decode("l", &s.bits, 5, 2, &p).unwrap_err();
    assert!(matches!(e.kind, DecodeErrorKind::BadParams(_)));
}

#[test]
fn garbage_never_panics() {
    // Random bytes into every decoder: an error or a matrix, never a panic.
    let mut x = 0x1234_5678_9abc_def0u64;
    for len in [0usize, 1, 2, 7, 8, 31, 64] {
        let mut bits = BitVec::<u64, Lsb0>::new();
        for _ in 0..len * 16 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            bits.push(x & 1 == 1);
        }
        for format in Format::ALL {
            let _ = format.decode("garbage", &bits, 37, 5, &doc_params());
        }
    }
}

#[test]
fn encoder_rejects_values_out_of_range_and_count_overflow() {
    let w = matrix(&[&[8]], 4);
    assert!(Format::Dense.encode(&w, &doc_params()).is_err());
    // 20 nonzero rows need a count of 20, more than P = 4 bits hold.
    let w = matrix(&[&[1i32][..]; 20], 4);
    let e = Format::Csc.encode(&w, &doc_params()).unwrap_err();
    assert!(e.to_string().contains("count"), "{e}");
}
