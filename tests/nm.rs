//! The `nm` format's golden model beyond its worked example: typed errors at the offsets the
//! spec gives (header, positions out of order or past a short group, truncation), the encoder's
//! "not n:m" error, and the size it promises (fixed by O, K, N, Q, n and m alone).

use bitvec::prelude::*;
use weightstream::formats::{DecodeErrorKind, EncodeError, NmPattern};
use weightstream::{Format, QuantMatrix, StreamParams};

use crate::formats_examples::nm_matrix;
use crate::util::doc_params;

/// The example's stream with `width` bits at `at` replaced by `value`.
fn patched(at: usize, width: usize, value: u64) -> BitVec<u64, Lsb0> {
    let mut bits = Format::Nm.encode(&nm_matrix(), &doc_params()).unwrap().bits;
    bits[at..at + width].store_le(value);
    bits
}

fn decode_err(bits: &BitSlice<u64, Lsb0>) -> (u64, DecodeErrorKind) {
    let e = Format::Nm.decode("nm", bits, 5, 5, &doc_params()).unwrap_err();
    (e.offset, e.kind)
}

/// Stream bit of entry `e` (in stream order) of the example: the 8-bit header, then 6-bit
/// entries, group by group and row tile by row tile (N = 4): group 0's entry 0 of rows 0..4
/// (entries 0..3), their entry 1 (4..7), row 4's entries 0 and 1 (8, 9); then group 1's entry 0
/// of rows 0..4 (10..13) and of row 4 (14).
fn entry(e: usize) -> usize {
    8 + 6 * e
}

#[test]
fn bad_headers_are_refused_at_offset_0() {
    for (n, lg) in [(0u64, 2u64), (4, 2), (7, 2), (1, 0), (1, 5), (15, 15)] {
        let (offset, kind) = decode_err(&patched(0, 8, n | lg << 4));
        assert_eq!(offset, 0);
        assert_eq!(kind, DecodeErrorKind::BadNmHeader { keep: n as u32, log2_group: lg as u32 }, "n {n} log2 m {lg}");
    }
}

#[test]
fn a_position_not_above_the_previous_entry_is_refused_at_its_field() {
    // Row 0's entries in group 0 are at positions 1 and 3: entry 1 at position 1 repeats one.
    let (offset, kind) = decode_err(&patched(entry(4), 2, 1));
    assert_eq!(
        (offset, kind),
        (entry(4) as u64, DecodeErrorKind::BadNmPosition { position: 1, min: 2, group_cols: 4 })
    );
    // Row 3's entry 1 (position 3) moved below its entry 0 (position 2).
    let (offset, kind) = decode_err(&patched(entry(7), 2, 0));
    assert_eq!(
        (offset, kind),
        (entry(7) as u64, DecodeErrorKind::BadNmPosition { position: 0, min: 3, group_cols: 4 })
    );
}

#[test]
fn a_position_past_a_short_group_is_refused() {
    // Group 1 is column 4 alone: position 1 is past it.
    let (offset, kind) = decode_err(&patched(entry(10), 2, 1));
    assert_eq!(
        (offset, kind),
        (entry(10) as u64, DecodeErrorKind::BadNmPosition { position: 1, min: 0, group_cols: 1 })
    );
}

#[test]
fn a_stream_cut_inside_an_entry_is_truncated_at_that_field() {
    let full = Format::Nm.encode(&nm_matrix(), &doc_params()).unwrap().bits;
    // Cut inside entry 7's value, inside its position, and inside the header.
    for (cut, field, need) in [(entry(7) + 4, entry(7) + 2, 4), (entry(7) + 1, entry(7), 2), (5, 0, 8)] {
        let (offset, kind) = decode_err(&full[..cut]);
        assert_eq!(offset, field as u64, "cut at {cut}");
        assert_eq!(kind, DecodeErrorKind::Truncated { need, have: (cut - field) as u64 }, "cut at {cut}");
    }
}

#[test]
fn a_bit_after_the_last_entry_is_nonzero_fill() {
    let (offset, kind) = decode_err(&patched(entry(15) + 3, 1, 1));
    assert_eq!((offset, kind), ((entry(15) + 3) as u64, DecodeErrorKind::NonzeroFill));
}

#[test]
fn a_layer_that_is_not_n_m_is_named_not_failed() {
    // Row 2 gets a second and a third nonzero in group 0.
    let mut w = nm_matrix();
    w.data[2 * 5 + 1] = 1;
    w.data[2 * 5 + 3] = 1;
    let e = Format::Nm.encode(&w, &doc_params()).unwrap_err();
    assert_eq!(e, EncodeError::NotNm { row: 2, group: 0, count: 3, pattern: NmPattern::TWO_FOUR });
    assert!(e.not_applicable());
    assert_eq!(e.to_string(), "not 2:4: row 2 has 3 nonzeros in N:M group 0");
    // A value out of range is still reported first, as for every format.
    w.data[0] = 99;
    assert!(matches!(Format::Nm.encode(&w, &doc_params()), Err(EncodeError::ValueOutOfRange { .. })));
}

#[test]
fn the_stream_size_depends_on_the_shape_alone() {
    // Any 1:4 layer of 37 x 30 at N = 16, Q = 8: 8 + 37 * (7 * 1 + 1) * (2 + 8) bits.
    let p = StreamParams { nm: NmPattern { keep: 1, group: 4 }, ..StreamParams::default() };
    for fill in [0, 1, -128] {
        let mut w = QuantMatrix::zeros(37, 30, 8);
        for (i, v) in w.data.iter_mut().enumerate() {
            if i % 4 == 3 {
                *v = fill;
            }
        }
        let s = Format::Nm.encode(&w, &p).unwrap();
        assert_eq!(s.sizes.total_bits() - (s.bits.len() as u64 - (8 + 37 * 8 * 10)), 8 + 37 * 8 * 10, "fill {fill}");
        assert_eq!(s.bits.len(), (8 + 37 * 8 * 10usize).div_ceil(64) * 64);
        assert_eq!(s.decode("nm").unwrap(), w);
    }
}

#[test]
fn every_pattern_round_trips_a_dense_enough_layer() {
    for group in [2u32, 4, 8, 16] {
        for keep in 1..group {
            let p = StreamParams { nm: NmPattern { keep, group }, weight_bits: 5, ..StreamParams::default() };
            // Rows keep their first `keep` values of every group: the largest count allowed.
            let (rows, cols) = (19, 3 * group as usize + 1);
            let mut w = QuantMatrix::zeros(rows, cols, 5);
            for o in 0..rows {
                for k in 0..cols {
                    if (k % group as usize) < keep as usize {
                        w.data[o * cols + k] = ((o * 7 + k * 3) % 31) as i32 - 15 | 1;
                    }
                }
            }
            let s = Format::Nm.encode(&w, &p).unwrap();
            assert_eq!(s.decode("nm").unwrap(), w, "{keep}:{group}");
        }
    }
}
