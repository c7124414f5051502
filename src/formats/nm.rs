//! `nm`: N:M structured sparsity at a fixed rate. Every row keeps n entries (position, value) in
//! each group of m columns; its beats go group by group (for g, for t, for j), and entry j of a
//! row tile's lanes rides in its beat (t, g*m + j), so a decoder knows each beat's width from O,
//! K, N, Q, n and m alone and keeps only the current tile's entries. The encoder works a strip
//! of groups at a time, each row's groups from its contiguous values (row-major reads); the
//! stream then lists, per group, row tile and entry index, the tile's entries in row order.

use super::{Failure, NmPattern, StreamParams, ValueRange};
use crate::bits::{mask, sign_extend, BitReader, BitWriter, Bits, Category, SizeBreakdown};
use crate::formats::{DecodeErrorKind, EncodeError};
use crate::matrix::QuantMatrix;

/// Bits of the header: n (4 bits), then log2 m (4 bits).
pub const HEADER_BITS: u32 = 8;

/// Columns of values a strip of groups covers (whole groups): bounds the entry buffer.
const STRIP_COLUMNS: usize = 64;

/// The group size m a stream's header names (its bits 4..8 are log2 m); None for a stream
/// shorter than the header.
pub fn header_group(bits: &bitvec::slice::BitSlice<u64, bitvec::order::Lsb0>) -> Option<usize> {
    use bitvec::field::BitField;
    (bits.len() >= HEADER_BITS as usize).then(|| 1usize << bits[4..8].load_le::<u32>())
}

/// The header's value for `pattern`.
pub fn header(pattern: NmPattern) -> u64 {
    u64::from(pattern.keep) | u64::from(pattern.position_bits()) << 4
}

/// Columns m_g and entries n_g of group `g`: the last group of a K that is not a multiple of m
/// is short.
#[inline]
fn group_shape(g: usize, cols: usize, keep: usize, group: usize) -> (usize, usize) {
    let mg = group.min(cols - g * group);
    (mg, keep.min(mg))
}

/// The positions a row keeps in a group of `mg` values with nonzero mask `nonzeros`: every
/// nonzero, then the lowest zero positions up to `ng` in all (as a mask). None when the group
/// has more than `ng` nonzeros.
#[inline]
fn kept_positions(nonzeros: u32, mg: usize, ng: usize) -> Option<u32> {
    let count = nonzeros.count_ones() as usize;
    if count > ng {
        return None;
    }
    let mut kept = nonzeros;
    let mut zeros = !nonzeros & mask(mg as u32) as u32;
    for _ in count..ng {
        kept |= zeros & zeros.wrapping_neg();
        zeros &= zeros - 1;
    }
    Some(kept)
}

/// `w` made n:m: in every group of each row only the n largest magnitudes stay (the lower column
/// on a tie), as N:M pruning does to floats; for benches and tests of the nm format on layers
/// pruned otherwise.
pub fn thin(w: &QuantMatrix, pattern: NmPattern) -> QuantMatrix {
    let (keep, group) = (pattern.keep as usize, pattern.group as usize);
    let mut out = w.clone();
    for row in out.data.chunks_exact_mut(w.cols.max(1)) {
        for values in row.chunks_mut(group) {
            let mut order: Vec<usize> = (0..values.len()).collect();
            order.sort_by_key(|&i| (std::cmp::Reverse(values[i].unsigned_abs()), i));
            for &i in order.iter().skip(keep) {
                values[i] = 0;
            }
        }
    }
    out
}

/// Whether every row of `w` has at most min(n, m_g) nonzeros in each group: the first group
/// that has more, as the encoder reports it.
pub fn check(w: &QuantMatrix, pattern: NmPattern) -> Result<(), EncodeError> {
    let (keep, group) = (pattern.keep as usize, pattern.group as usize);
    for (o, row) in w.data.chunks_exact(w.cols.max(1)).enumerate() {
        for (g, values) in row.chunks(group).enumerate() {
            let count = values.iter().filter(|&&v| v != 0).count();
            if count > keep.min(values.len()) {
                return Err(EncodeError::NotNm { row: o, group: g, count, pattern });
            }
        }
    }
    Ok(())
}

pub(crate) fn encode(w: &QuantMatrix, p: &StreamParams) -> Result<(Bits, SizeBreakdown, ValueRange), EncodeError> {
    let pattern = p.nm;
    let (keep, group) = (pattern.keep as usize, pattern.group as usize);
    let (rows, cols) = (w.rows, w.cols);
    let (q, pb) = (p.weight_bits, pattern.position_bits());
    let entry_bits = pb + q;
    let groups = cols.div_ceil(group);
    let entries_per_row =
        (cols / group) * keep + group_shape(groups - 1, cols, keep, group).1 * usize::from(cols % group != 0);
    let mut out = BitWriter::with_capacity(
        HEADER_BITS as usize + rows * entries_per_row * entry_bits as usize + p.bus_bits as usize,
    );
    out.push(header(pattern), HEADER_BITS, Category::Metadata);
    let qm = mask(q);
    let strip_groups = (STRIP_COLUMNS / group).max(1);
    // fields[(gi * keep + j) * rows + o]: entry j of row o in the strip's group gi, as written.
    let mut fields = vec![0u64; strip_groups * keep * rows];
    let (mut magnitudes, mut nonzeros) = (0u32, 0usize);
    for g0 in (0..groups).step_by(strip_groups) {
        let gs = strip_groups.min(groups - g0);
        for (o, row) in w.data.chunks_exact(cols).enumerate() {
            for gi in 0..gs {
                let g = g0 + gi;
                let (mg, ng) = group_shape(g, cols, keep, group);
                let values = &row[g * group..g * group + mg];
                let mut nz = 0u32;
                for (i, &v) in values.iter().enumerate() {
                    nz |= u32::from(v != 0) << i;
                    magnitudes |= (v ^ (v >> 31)) as u32;
                }
                let Some(mut kept) = kept_positions(nz, mg, ng) else {
                    return Err(EncodeError::NotNm { row: o, group: g, count: nz.count_ones() as usize, pattern });
                };
                nonzeros += nz.count_ones() as usize;
                for j in 0..ng {
                    let pos = kept.trailing_zeros();
                    kept &= kept - 1;
                    fields[(gi * keep + j) * rows + o] = u64::from(pos) | (values[pos as usize] as u64 & qm) << pb;
                }
            }
        }
        for gi in 0..gs {
            let ng = group_shape(g0 + gi, cols, keep, group).1;
            let strip = &fields[gi * keep * rows..(gi * keep + ng) * rows];
            out.packer().with_room(strip.len() * entry_bits as usize, |c| {
                // per row tile, entry j of its lanes for j < n_g
                for t0 in (0..rows).step_by(p.lanes) {
                    let t1 = rows.min(t0 + p.lanes);
                    for j in 0..ng {
                        for &f in &strip[j * rows + t0..j * rows + t1] {
                            c.put_clean(f, entry_bits);
                        }
                    }
                }
            });
        }
    }
    let entries = rows * entries_per_row;
    out.count(Category::Payload, (nonzeros * q as usize) as u64);
    out.count(Category::Metadata, (nonzeros * pb as usize) as u64);
    out.count(Category::Padding, ((entries - nonzeros) * entry_bits as usize) as u64);
    let (bits, sizes) = out.finish(p.bus_bits);
    Ok((bits, sizes, ValueRange { magnitudes }))
}

pub(crate) fn decode(
    r: &mut BitReader<'_>,
    rows: usize,
    cols: usize,
    p: &StreamParams,
) -> Result<QuantMatrix, Failure> {
    let q = p.weight_bits;
    let at = r.position();
    let h = r.read(HEADER_BITS)?;
    let (keep, pb) = ((h & 15) as u32, (h >> 4) as u32);
    if !(1..=4).contains(&pb) || keep == 0 || keep >= 1 << pb {
        return Err((at, DecodeErrorKind::BadNmHeader { keep, log2_group: pb }));
    }
    let (keep, group) = (keep as usize, 1usize << pb);
    let entry_bits = pb + q;
    let mut out = QuantMatrix::zeros(rows, cols, q);
    // Position of each row's previous entry in the current group.
    let mut prev = vec![0u32; rows];
    for g in 0..cols.div_ceil(group) {
        let (mg, ng) = group_shape(g, cols, keep, group);
        let base = g * group;
        for (j, t0) in (0..rows).step_by(p.lanes).flat_map(|t0| (0..ng).map(move |j| (j, t0))) {
            let t1 = rows.min(t0 + p.lanes);
            let fast = r.remaining() >= (t1 - t0) * entry_bits as usize;
            for (o, last) in prev.iter_mut().enumerate().take(t1).skip(t0) {
                let at = r.position();
                let (pos, raw) = if fast {
                    let f = r.unpacker().take(entry_bits);
                    ((f & mask(pb)) as u32, f >> pb)
                } else {
                    let pos = r.read(pb)? as u32;
                    check_position(at, pos, j, *last, mg)?;
                    (pos, r.read(q)?)
                };
                check_position(at, pos, j, *last, mg)?;
                *last = pos;
                out.data[o * cols + base + pos as usize] = sign_extend(raw, q);
            }
        }
    }
    Ok(out)
}

/// Entry j's position must be above the previous entry's (any for j = 0) and inside the group.
#[inline(always)]
fn check_position(at: u64, pos: u32, j: usize, prev: u32, mg: usize) -> Result<(), Failure> {
    let min = if j == 0 { 0 } else { prev + 1 };
    if pos < min || pos as usize >= mg {
        return Err((at, DecodeErrorKind::BadNmPosition { position: pos, min, group_cols: mg as u32 }));
    }
    Ok(())
}
