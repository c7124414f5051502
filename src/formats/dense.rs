//! `dense`: every element in stream order as a Q-bit value. The baseline every saving is
//! measured against.

use super::{for_each_beat, Failure, StreamParams};
use crate::bits::{BitReader, BitWriter, Bits, Category, SizeBreakdown};
use crate::matrix::QuantMatrix;

pub(crate) fn encode(w: &QuantMatrix, p: &StreamParams) -> (Bits, SizeBreakdown) {
    let q = p.weight_bits;
    let mut out = BitWriter::with_capacity(w.len() * q as usize + p.bus_bits as usize);
    for_each_beat(&w.column_major(), w.rows, w.cols, p, |_, _, lanes| {
        for &v in lanes {
            let category = if v != 0 { Category::Payload } else { Category::Padding };
            out.push_signed(v, q, category);
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
    for v in colmajor.iter_mut() {
        *v = r.read_signed(p.weight_bits)?;
    }
    Ok(from_column_major(&colmajor, rows, cols, p.weight_bits))
}

/// Builds the row-major matrix from column-major values.
pub(crate) fn from_column_major(colmajor: &[i32], rows: usize, cols: usize, bits: u32) -> QuantMatrix {
    let mut w = QuantMatrix::zeros(rows, cols, bits);
    for (k, column) in colmajor.chunks_exact(rows).enumerate() {
        for (o, &v) in column.iter().enumerate() {
            w.data[o * cols + k] = v;
        }
    }
    w
}
