//! `bitmap`: per beat with L real lanes, L mask bits (bit l set iff lane l is nonzero), then the
//! nonzero lanes' Q-bit values in increasing lane order (NVDLA-style weight compression).
//! The encoder builds each mask as an integer and appends every lane's value with width Q or 0
//! (no branch per lane); the decoder takes four lanes at a time, each 4-bit piece of the mask
//! saying through a table where their values sit (no branch per lane or per value either).

use super::{decode_columns, for_each_column, Failure, StreamParams, ValueRange};
use crate::bits::{mask, BitReader, BitWriter, Bits, Category, Cursor, SizeBreakdown, Window};
use crate::matrix::QuantMatrix;

pub(crate) fn encode(w: &QuantMatrix, p: &StreamParams) -> (Bits, SizeBreakdown, ValueRange) {
    encode_columns(w, p, false)
}

/// Encodes `w`, or its delta along k when `delta` (delta-bitmap).
pub(crate) fn encode_columns(w: &QuantMatrix, p: &StreamParams, delta: bool) -> (Bits, SizeBreakdown, ValueRange) {
    let q = p.weight_bits;
    let m = mask(q);
    let beats = p.beats(w.rows, w.cols);
    // An upper bound: every lane's mask bit and value.
    let mut out = BitWriter::with_capacity(w.len() * (q as usize + 1) + beats + p.bus_bits as usize);
    let lanes = p.lanes;
    let Ok(range) = for_each_column(w, delta, |_, column| {
        out.packer().with_room(column.len() * (q as usize + 1), |c| {
            for beat in column.chunks(lanes) {
                put_beat(c, beat, q, m);
            }
        });
        Ok::<(), std::convert::Infallible>(())
    });
    // One mask bit per element; every other bit is a nonzero's value.
    let metadata = w.len() as u64;
    let payload = out.len() as u64 - metadata;
    out.count(Category::Metadata, metadata);
    out.count(Category::Payload, payload);
    let (bits, sizes) = out.finish(p.bus_bits);
    (bits, sizes, range)
}

/// Appends one beat: its mask, then its nonzero lanes' values, found from the mask's set bits
/// (no branch per lane to mispredict).
#[inline(always)]
fn put_beat(c: &mut Cursor<'_>, beat: &[i32], q: u32, m: u64) {
    if beat.len() <= 64 {
        let bits = nonzero_mask(beat);
        c.put_clean(bits, beat.len() as u32);
        put_values(c, beat, bits, q, m);
        return;
    }
    // N <= 256 lanes: at most four 64-bit mask fields.
    let mut masks = [0u64; 4];
    for (chunk, bits) in beat.chunks(64).zip(masks.iter_mut()) {
        *bits = nonzero_mask(chunk);
        c.put_clean(*bits, chunk.len() as u32);
    }
    for (chunk, &bits) in beat.chunks(64).zip(masks.iter()) {
        put_values(c, chunk, bits, q, m);
    }
}

/// Appends the values of `lanes` (at most 64) whose bit is set in `bits`. Values gather in a
/// local word (Q <= 16: at least four fit) that goes to the cursor when the next value would not
/// fit, so most values cost a shift and an OR.
#[inline(always)]
fn put_values(c: &mut Cursor<'_>, lanes: &[i32], mut bits: u64, q: u32, m: u64) {
    let (mut group, mut filled) = (0u64, 0u32);
    while bits != 0 {
        let l = bits.trailing_zeros() as usize;
        bits &= bits - 1;
        if filled + q > 64 {
            c.put_clean(group, filled);
            (group, filled) = (0, 0);
        }
        group |= (lanes[l] as u64 & m) << filled;
        filled += q;
    }
    c.put_clean(group, filled);
}

/// Bit i set iff `values[i]` is nonzero (at most 64 values).
#[inline(always)]
pub(crate) fn nonzero_mask(values: &[i32]) -> u64 {
    let mut blocks = values.chunks_exact(16);
    let mut bits = 0u64;
    let mut at = 0;
    for block in &mut blocks {
        bits |= u64::from(nonzero_mask16(block.try_into().expect("16 values"))) << at;
        at += 16;
    }
    for (i, &v) in blocks.remainder().iter().enumerate() {
        bits |= u64::from(v != 0) << (at + i);
    }
    bits
}

/// [`nonzero_mask`] of 16 values, in a shape compilers turn into compare + movemask.
#[inline(always)]
fn nonzero_mask16(values: &[i32; 16]) -> u16 {
    let mut bits = 0u16;
    for (i, &v) in values.iter().enumerate() {
        bits |= u16::from(v != 0) << i;
    }
    bits
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
    let (q, n) = (p.weight_bits, p.lanes);
    let mut masks = vec![0u64; n.div_ceil(64)];
    let quads = Quads::new(q);
    decode_columns(rows, cols, q, undelta, |_, column| {
        // A column is at most a mask bit and a value per lane: read it in a window when the
        // stream holds that much, else field by field with the end-of-stream checks.
        let whole = r.unpacker().with_window(column.len() * (q as usize + 1), |w| {
            for lanes in column.chunks_mut(n) {
                if lanes.len() <= 64 {
                    let m = w.take(lanes.len() as u32);
                    take_values(w, lanes, m, q, &quads);
                } else {
                    let masks = &mut masks[..lanes.len().div_ceil(64)];
                    for (chunk, m) in masks.iter_mut().enumerate() {
                        *m = w.take((lanes.len() - chunk * 64).min(64) as u32);
                    }
                    for (lanes, &m) in lanes.chunks_mut(64).zip(masks.iter()) {
                        take_values(w, lanes, m, q, &quads);
                    }
                }
            }
        });
        if whole.is_some() {
            return Ok(());
        }
        for lanes in column.chunks_mut(n) {
            let masks = &mut masks[..lanes.len().div_ceil(64)];
            for (chunk, m) in masks.iter_mut().enumerate() {
                let width = (lanes.len() - chunk * 64).min(64) as u32;
                *m = r.read(width)?;
            }
            for (l, v) in lanes.iter_mut().enumerate() {
                *v = if masks[l / 64] >> (l % 64) & 1 == 1 { r.read_signed(q)? } else { 0 };
            }
        }
        Ok(())
    })
}

/// Where the values of four lanes sit in the stream, for each 4-bit piece of a beat's mask:
/// Q <= 16, so the values of four lanes lie in the next 64 bits.
struct Quads {
    /// A set lane's value's offset in those bits; an unset lane's points just past the piece's
    /// values, where `keep` leaves zeros.
    offset: [[u32; 4]; 16],
    /// The bits of the piece's values.
    keep: [u64; 16],
    /// Their number.
    bits: [u32; 16],
}

impl Quads {
    fn new(q: u32) -> Quads {
        let mut quads = Quads { offset: [[0; 4]; 16], keep: [0; 16], bits: [0; 16] };
        for piece in 0..16u32 {
            let bits = piece.count_ones() * q;
            let mut before = 0;
            for l in 0..4 {
                let set = piece >> l & 1 == 1;
                quads.offset[piece as usize][l] = if set { before * q } else { bits };
                before += u32::from(set);
            }
            quads.bits[piece as usize] = bits;
            quads.keep[piece as usize] = mask(bits);
        }
        quads
    }
}

/// Reads the values of the lanes (at most 64) whose bit is set in `bits` and zeroes the others,
/// four lanes at a time without a branch per lane or per value.
#[inline(always)]
fn take_values(w: &mut Window<'_>, lanes: &mut [i32], bits: u64, q: u32, quads: &Quads) {
    let mut chunks = lanes.chunks_exact_mut(4);
    let mut piece = bits;
    for quad in &mut chunks {
        take_quad(w, quad, piece as usize & 15, q, quads);
        piece >>= 4;
    }
    let rest = chunks.into_remainder();
    // Not on an empty rest: after a beat whose lanes are all set, the next 64 bits may end
    // past the window.
    if !rest.is_empty() {
        take_quad(w, rest, piece as usize & 15, q, quads);
    }
}

/// [`take_values`] of up to four lanes, `piece` their mask bits.
#[inline(always)]
fn take_quad(w: &mut Window<'_>, lanes: &mut [i32], piece: usize, q: u32, quads: &Quads) {
    let v = w.peek64() & quads.keep[piece];
    let offset = &quads.offset[piece];
    let (m, sign) = (mask(q), 1u64 << (q - 1));
    for (l, x) in lanes.iter_mut().enumerate() {
        // Sign extension of the Q-bit field: flip the sign bit, subtract it.
        *x = ((v >> offset[l] & m ^ sign).wrapping_sub(sign)) as i32;
    }
    w.skip(quads.bits[piece]);
}
