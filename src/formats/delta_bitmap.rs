//! `delta+bitmap`: D[o][k] = (W[o][k] - W[o][k-1]) mod 2^Q along each filter (W[o][-1] = 0),
//! encoded exactly as `bitmap`; decoding keeps a running sum per row.

use super::{bitmap, Failure, StreamParams};
use crate::bits::{BitReader, Bits, SizeBreakdown};
use crate::matrix::QuantMatrix;

pub(crate) fn encode(w: &QuantMatrix, p: &StreamParams) -> (Bits, SizeBreakdown) {
    bitmap::encode(&w.delta_along_k(), p)
}

pub(crate) fn decode(
    r: &mut BitReader<'_>,
    rows: usize,
    cols: usize,
    p: &StreamParams,
) -> Result<QuantMatrix, Failure> {
    Ok(bitmap::decode(r, rows, cols, p)?.undelta_along_k())
}
