//! `csc`: compressed sparse column with EIE relative indexing. Per column a P-bit entry count,
//! then entries of (R-bit run, Q-bit value): skip `run` zero rows, the next row holds `value`.
//! Gaps longer than 2^R - 1 are bridged by filler entries (run 2^R - 1, value 0), each taking a
//! row of its own, as in EIE.

use super::dense::from_column_major;
use super::{DecodeErrorKind, EncodeError, Failure, StreamParams};
use crate::bits::{BitReader, BitWriter, Bits, Category, SizeBreakdown};
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

pub(crate) fn encode(w: &QuantMatrix, p: &StreamParams) -> Result<(Bits, SizeBreakdown), EncodeError> {
    let (q, r) = (p.weight_bits, p.run_bits);
    let colmajor = w.column_major();
    let mut out = BitWriter::with_capacity(w.nonzeros() * (q + r) as usize + w.cols * p.count_bits as usize);
    let mut entries = Vec::new();
    for (k, column) in colmajor.chunks_exact(w.rows).enumerate() {
        column_entries(column, r, &mut entries);
        let count = entries.len();
        if p.count_bits < 64 && (count as u64) >> p.count_bits != 0 {
            return Err(EncodeError::CountOverflow { col: k, count, bits: p.count_bits });
        }
        out.push(count as u64, p.count_bits, Category::Metadata);
        for e in &entries {
            if e.filler {
                out.push(u64::from(e.run), r, Category::Padding);
                out.push_signed(e.value, q, Category::Padding);
            } else {
                out.push(u64::from(e.run), r, Category::Metadata);
                out.push_signed(e.value, q, Category::Payload);
            }
        }
    }
    Ok(out.finish(p.bus_bits))
}

pub(crate) fn decode(
    r: &mut BitReader<'_>,
    rows: usize,
    cols: usize,
    p: &StreamParams,
) -> Result<QuantMatrix, Failure> {
    let mut colmajor = vec![0i32; rows * cols];
    for (k, column) in colmajor.chunks_exact_mut(rows).enumerate() {
        let count_at = r.position();
        let count = r.read(p.count_bits)?;
        if count > rows as u64 {
            return Err((count_at, DecodeErrorKind::CountExceedsRows { col: k, count, rows }));
        }
        let mut next_row = 0u64;
        for entry in 0..count {
            let entry_at = r.position();
            let run = r.read(p.run_bits)?;
            let value = r.read_signed(p.weight_bits)?;
            let row = next_row + run;
            if row >= rows as u64 {
                return Err((entry_at, DecodeErrorKind::RunPastColumnEnd { col: k, entry, row, rows }));
            }
            column[row as usize] = value;
            next_row = row + 1;
        }
    }
    Ok(from_column_major(&colmajor, rows, cols, p.weight_bits))
}
