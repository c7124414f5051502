//! `bitmap`: per beat with L real lanes, L mask bits (bit l set iff lane l is nonzero), then the
//! nonzero lanes' Q-bit values in increasing lane order (NVDLA-style weight compression).
//! The encoder builds each mask as an integer and appends every lane's value with width Q or 0
//! (no branch per lane); the decoder visits only the mask's set bits.

use super::{decode_columns, for_each_column, Failure, StreamParams};
use crate::bits::{mask, sign_extend, BitReader, BitWriter, Bits, Category, Cursor, SizeBreakdown};
use crate::matrix::QuantMatrix;

pub(crate) fn encode(w: &QuantMatrix, p: &StreamParams) -> (Bits, SizeBreakdown) {
    encode_columns(w, p, false)
}

/// Encodes `w`, or its delta along k when `delta` (delta-bitmap).
pub(crate) fn encode_columns(w: &QuantMatrix, p: &StreamParams, delta: bool) -> (Bits, SizeBreakdown) {
    let q = p.weight_bits;
    let m = mask(q);
    let beats = p.beats(w.rows, w.cols);
    // An upper bound: every lane's mask bit and value.
    let mut out = BitWriter::with_capacity(w.len() * (q as usize + 1) + beats + p.bus_bits as usize);
    let mut nonzeros = 0u64;
    let lanes = p.lanes;
    let _ = for_each_column(w, delta, |_, column| {
        nonzeros += out.packer().with_room(column.len() * (q as usize + 1), |c| {
            column.chunks(lanes).map(|beat| put_beat(c, beat, q, m)).sum::<u64>()
        });
        Ok::<(), std::convert::Infallible>(())
    });
    out.count(Category::Metadata, w.len() as u64);
    out.count(Category::Payload, nonzeros * u64::from(q));
    out.finish(p.bus_bits)
}

/// Appends one beat (its mask, then its nonzero lanes' values) and returns its nonzero count.
/// Values are found from the mask's set bits, so there is no branch per lane to mispredict.
#[inline(always)]
fn put_beat(c: &mut Cursor<'_>, beat: &[i32], q: u32, m: u64) -> u64 {
    // N <= 256 lanes: at most four 64-bit mask fields.
    let mut masks = [0u64; 4];
    let mut nonzeros = 0u64;
    for (chunk, bits) in beat.chunks(64).zip(masks.iter_mut()) {
        *bits = nonzero_mask(chunk);
        nonzeros += u64::from(bits.count_ones());
        c.put_clean(*bits, chunk.len() as u32);
    }
    for (chunk, &bits) in beat.chunks(64).zip(masks.iter()) {
        let mut bits = bits;
        while bits != 0 {
            let l = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            c.put_clean(chunk[l] as u64 & m, q);
        }
    }
    nonzeros
}

/// Bit i set iff `values[i]` is nonzero (at most 64 values).
#[inline(always)]
pub(crate) fn nonzero_mask(values: &[i32]) -> u64 {
    values.iter().enumerate().fold(0u64, |acc, (i, &v)| acc | u64::from(v != 0) << i)
}

pub(crate) fn decode(
    r: &mut BitReader<'_>,
    rows: usize,
    cols: usize,
    p: &StreamParams,
) -> Result<QuantMatrix, Failure> {
    decode_columns_as(r, rows, cols, p, false)
}

/// Decodes a bitmap stream, and runs the sum along k when `undelta` (delta-bitmap).
pub(crate) fn decode_columns_as(
    r: &mut BitReader<'_>,
    rows: usize,
    cols: usize,
    p: &StreamParams,
    undelta: bool,
) -> Result<QuantMatrix, Failure> {
    let q = p.weight_bits;
    let mut masks = vec![0u64; p.lanes.div_ceil(64)];
    decode_columns(rows, cols, q, undelta, |_, column| {
        for lanes in column.chunks_mut(p.lanes) {
            let masks = &mut masks[..lanes.len().div_ceil(64)];
            let mut set = 0usize;
            for (chunk, m) in masks.iter_mut().enumerate() {
                let width = (lanes.len() - chunk * 64).min(64) as u32;
                *m = r.read(width)?;
                set += m.count_ones() as usize;
            }
            if r.remaining() >= set * q as usize {
                let words = r.unpacker();
                for (chunk, &m) in masks.iter().enumerate() {
                    let mut m = m;
                    while m != 0 {
                        let l = m.trailing_zeros() as usize;
                        m &= m - 1;
                        lanes[chunk * 64 + l] = sign_extend(words.take(q), q);
                    }
                }
            } else {
                for (l, v) in lanes.iter_mut().enumerate() {
                    if masks[l / 64] >> (l % 64) & 1 == 1 {
                        *v = r.read_signed(q)?;
                    }
                }
            }
        }
        Ok(())
    })
}
