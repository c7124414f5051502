//! `bitmap`: per beat with L real lanes, L mask bits (bit l set iff lane l is nonzero), then the
//! nonzero lanes' Q-bit values in increasing lane order (NVDLA-style weight compression).

use super::dense::from_column_major;
use super::{for_each_beat, Failure, StreamParams};
use crate::bits::{BitReader, BitWriter, Bits, Category, SizeBreakdown};
use crate::matrix::QuantMatrix;

pub(crate) fn encode(w: &QuantMatrix, p: &StreamParams) -> (Bits, SizeBreakdown) {
    let q = p.weight_bits;
    let nnz = w.nonzeros();
    let beats = p.beats(w.rows, w.cols);
    let mut out = BitWriter::with_capacity(nnz * q as usize + w.len() + beats + p.bus_bits as usize);
    for_each_beat(&w.column_major(), w.rows, w.cols, p, |_, _, lanes| {
        // The mask can be wider than one 64-bit field when N > 64.
        for chunk in lanes.chunks(64) {
            let mask = chunk.iter().enumerate().fold(0u64, |m, (l, &v)| m | (u64::from(v != 0) << l));
            out.push(mask, chunk.len() as u32, Category::Metadata);
        }
        for &v in lanes.iter().filter(|&&v| v != 0) {
            out.push_signed(v, q, Category::Payload);
        }
    });
    out.finish(p.bus_bits)
}

pub(crate) fn decode(
    r: &mut BitReader<'_>,
    rows: usize,
    cols: usize,
    p: &StreamParams,
) -> Result<QuantMatrix, Failure> {
    let mut colmajor = vec![0i32; rows * cols];
    let mut masks = Vec::with_capacity(p.lanes.div_ceil(64));
    for column in colmajor.chunks_exact_mut(rows) {
        for lanes in column.chunks_mut(p.lanes) {
            masks.clear();
            for chunk in 0..lanes.len().div_ceil(64) {
                let width = (lanes.len() - chunk * 64).min(64) as u32;
                masks.push(r.read(width)?);
            }
            for (l, v) in lanes.iter_mut().enumerate() {
                if masks[l / 64] >> (l % 64) & 1 == 1 {
                    *v = r.read_signed(p.weight_bits)?;
                }
            }
        }
    }
    Ok(from_column_major(&colmajor, rows, cols, p.weight_bits))
}
