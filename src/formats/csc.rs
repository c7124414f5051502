//! `csc`: compressed sparse column with EIE relative indexing. Per column a P-bit entry count,
//! then entries of (R-bit run, Q-bit value): skip `run` zero rows, the next row holds `value`.
//! Gaps longer than 2^R - 1 are bridged by filler entries (run 2^R - 1, value 0), each taking a
//! row of its own, as in EIE. The encoder counts a column's entries in one branch-free pass and
//! writes them in a second; the decoder reads run and value as one field.

use super::bitmap::nonzero_mask;
use super::{decode_columns, for_each_column, DecodeErrorKind, EncodeError, Failure, StreamParams, ValueRange};
use crate::bits::{mask, sign_extend, BitReader, BitWriter, Bits, Category, Cursor, SizeBreakdown};
use crate::matrix::QuantMatrix;

/// One CSC entry as it appears in the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// Zero rows skipped before this entry's row.
    pub run: u32,
    /// The row's value (0 for a filler).
    pub value: i32,
    /// True for a filler entry (bridges a long gap, carries no nonzero).
    pub filler: bool,
}

/// The entries of one column in stream order, fillers included.
pub fn column_entries(column: &[i32], run_bits: u32, out: &mut Vec<Entry>) {
    out.clear();
    let max_run = (1u32 << run_bits) - 1;
    let mut gap = 0u32;
    for &v in column {
        if v == 0 {
            gap += 1;
            continue;
        }
        while gap > max_run {
            out.push(Entry { run: max_run, value: 0, filler: true });
            gap -= max_run + 1;
        }
        out.push(Entry { run: gap, value: v, filler: false });
        gap = 0;
    }
}

pub(crate) fn encode(w: &QuantMatrix, p: &StreamParams) -> Result<(Bits, SizeBreakdown, ValueRange), EncodeError> {
    let (q, r, count_bits) = (p.weight_bits, p.run_bits, p.count_bits);
    let mq = mask(q);
    let entry_bits = q + r;
    // A capacity guess (half the elements as entries) instead of a pass to count nonzeros.
    let mut out = BitWriter::with_capacity(w.len() / 2 * entry_bits as usize + w.cols * count_bits as usize);
    let (mut real, mut fillers) = (0u64, 0u64);
    let range = for_each_column(w, false, |k, column| {
        // Every entry takes a row of its own, so a column has at most O entries.
        let room = count_bits as usize + column.len() * entry_bits as usize;
        let (real_k, fillers_k) = out.packer().with_room(room, |c| {
            // The count comes first but is known last: written as zeros, filled in after.
            let at = c.position();
            c.put_clean(0, count_bits);
            let (real_k, fillers_k) = put_column(c, column, r, mq, entry_bits);
            let count = real_k + fillers_k;
            if count >> count_bits == 0 {
                c.or_at(at, count, count_bits);
            }
            (real_k, fillers_k)
        });
        let count = real_k + fillers_k;
        if count >> count_bits != 0 {
            return Err(EncodeError::CountOverflow { col: k, count: count as usize, bits: count_bits });
        }
        real += real_k;
        fillers += fillers_k;
        Ok(())
    })?;
    let (q, r) = (u64::from(q), u64::from(r));
    out.count(Category::Metadata, w.cols as u64 * u64::from(count_bits) + real * r);
    out.count(Category::Payload, real * q);
    out.count(Category::Padding, fillers * (r + q));
    let (bits, sizes) = out.finish(p.bus_bits);
    Ok((bits, sizes, range))
}

/// Appends a column's entries (after its count) and returns its (real, filler) entry counts.
/// Nonzero rows are found from 64-row masks, so there is no branch per row to mispredict.
#[inline(always)]
fn put_column(c: &mut Cursor<'_>, column: &[i32], r: u32, mq: u64, entry_bits: u32) -> (u64, u64) {
    let max_run = (1u64 << r) - 1;
    let (mut real, mut fillers, mut next_row) = (0u64, 0u64, 0u64);
    for (i, chunk) in column.chunks(64).enumerate() {
        let mut bits = nonzero_mask(chunk);
        while bits != 0 {
            let l = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            let row = (i * 64 + l) as u64;
            let mut gap = row - next_row;
            if gap > max_run {
                let n = gap >> r;
                for _ in 0..n {
                    c.put_clean(max_run, entry_bits);
                }
                fillers += n;
                gap &= max_run;
            }
            c.put_clean(gap | (chunk[l] as u64 & mq) << r, entry_bits);
            real += 1;
            next_row = row + 1;
        }
    }
    (real, fillers)
}

pub(crate) fn decode(
    r: &mut BitReader<'_>,
    rows: usize,
    cols: usize,
    p: &StreamParams,
) -> Result<QuantMatrix, Failure> {
    let (q, run_bits) = (p.weight_bits, p.run_bits);
    let entry_bits = q + run_bits;
    decode_columns(rows, cols, q, false, |k, column| {
        // Only the entries' rows are written below.
        column.fill(0);
        let count_at = r.position();
        let count = r.read(p.count_bits)?;
        if count > rows as u64 {
            return Err((count_at, DecodeErrorKind::CountExceedsRows { col: k, count, rows }));
        }
        let mut next_row = 0u64;
        for entry in 0..count {
            let entry_at = r.position();
            let (run, value) = if r.remaining() >= entry_bits as usize {
                let field = r.unpacker().take(entry_bits);
                (field & mask(run_bits), sign_extend(field >> run_bits, q))
            } else {
                (r.read(run_bits)?, r.read_signed(q)?)
            };
            let row = next_row + run;
            if row >= rows as u64 {
                return Err((entry_at, DecodeErrorKind::RunPastColumnEnd { col: k, entry, row, rows }));
            }
            column[row as usize] = value;
            next_row = row + 1;
        }
        Ok(())
    })
}
