//! `delta+bitmap`: D[o][k] = (W[o][k] - W[o][k-1]) mod 2^Q along each filter (W[o][-1] = 0),
//! encoded exactly as `bitmap`; decoding keeps a running sum per row. The deltas are formed, and
//! summed back, strip by strip inside the bitmap coder: no delta matrix is built.

use super::{bitmap, Failure, StreamParams, ValueRange};
use crate::bits::{BitReader, Bits, SizeBreakdown};
use crate::matrix::QuantMatrix;

pub(crate) fn encode(w: &QuantMatrix, p: &StreamParams) -> (Bits, SizeBreakdown, ValueRange) {
    bitmap::encode_columns(w, p, true)
}

pub(crate) fn decode(
    r: &mut BitReader<'_>,
    rows: usize,
    cols: usize,
    p: &StreamParams,
) -> Result<QuantMatrix, Failure> {
    bitmap::decode_columns_as(r, rows, cols, p, true)
}
