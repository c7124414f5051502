//! Row blocks: the PE array holds at most MAX_O rows, so a layer with O > MAX_O runs as
//! ceil(O / MAX_O) independent row blocks. This module owns splitting a [`QuantMatrix`] into its
//! blocks, encoding a layer block by block ([`BlockedStream`]: one stream per block, each encoded
//! exactly as if the block were a layer of its own and padded to whole bus words), the sums over
//! the blocks (sizes, bus words, beats) and the golden PE expectation per block (beats and y; the
//! layer's y is the blocks' y concatenated). docs/stream-formats.md ("Row blocks") specifies it.

use std::borrow::Cow;

use crate::bits::SizeBreakdown;
use crate::formats::{DecodeError, EncodeError, EncodedStream, Format, StreamParams};
use crate::matrix::QuantMatrix;
use crate::pe;

/// Why a layer could not be split into row blocks or encoded as row blocks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlockError {
    /// MAX_O must be at least one row.
    #[error("max rows per block (MAX_O) must be at least 1, got {0}")]
    ZeroMaxRows(usize),
    /// The matrix's data does not have O x K elements, so it cannot be split into rows.
    #[error("matrix has {len} elements, not rows x cols = {rows} x {cols}")]
    BadShape { rows: usize, cols: usize, len: usize },
    /// A block failed to encode; a value's row is given in the layer's rows, not the block's, so
    /// the error is the one encoding the whole layer reports.
    #[error(transparent)]
    Encode(#[from] EncodeError),
}

/// Rows [row_offset, row_offset + matrix.rows) of a layer, all K columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowBlock<'a> {
    /// Block number i, 0-based.
    pub index: usize,
    /// First row of the layer in this block: i * MAX_O.
    pub row_offset: usize,
    /// The block's rows as a matrix of its own; borrowed (no copy) when the layer is one block.
    pub matrix: Cow<'a, QuantMatrix>,
}

impl RowBlock<'_> {
    /// Rows in this block: min(MAX_O, O - i * MAX_O).
    pub fn rows(&self) -> usize {
        self.matrix.rows
    }
}

/// Checks MAX_O >= 1.
pub fn check_max_rows(max_rows: usize) -> Result<(), BlockError> {
    if max_rows == 0 {
        return Err(BlockError::ZeroMaxRows(max_rows));
    }
    Ok(())
}

/// Number of row blocks of a layer with `rows` rows: ceil(O / MAX_O), and 1 for O = 0 (a layer
/// that fits is one block, the layer itself).
pub fn block_count(rows: usize, max_rows: usize) -> Result<usize, BlockError> {
    check_max_rows(max_rows)?;
    Ok(rows.div_ceil(max_rows).max(1))
}

/// Splits `w` into row blocks of at most `max_rows` rows: block i holds rows
/// [i * max_rows, min(O, (i + 1) * max_rows)). With O <= max_rows the one block borrows `w`.
pub fn row_blocks(w: &QuantMatrix, max_rows: usize) -> Result<Vec<RowBlock<'_>>, BlockError> {
    check_max_rows(max_rows)?;
    if w.rows <= max_rows {
        return Ok(vec![RowBlock { index: 0, row_offset: 0, matrix: Cow::Borrowed(w) }]);
    }
    if w.data.len() != w.rows * w.cols {
        return Err(BlockError::BadShape { rows: w.rows, cols: w.cols, len: w.data.len() });
    }
    Ok((0..w.rows.div_ceil(max_rows))
        .map(|index| {
            let row_offset = index * max_rows;
            let rows = max_rows.min(w.rows - row_offset);
            let data = w.data[row_offset * w.cols..(row_offset + rows) * w.cols].to_vec();
            RowBlock { index, row_offset, matrix: Cow::Owned(QuantMatrix { rows, cols: w.cols, bits: w.bits, data }) }
        })
        .collect())
}

/// One layer in one format as row blocks: one independent stream per block.
#[derive(Debug, Clone)]
pub struct BlockedStream {
    /// The format every block is in.
    pub format: Format,
    /// O of the whole layer.
    pub rows: usize,
    /// K of the layer (every block has all K columns).
    pub cols: usize,
    /// MAX_O the layer was split with.
    pub max_rows: usize,
    /// Block i's stream (rows [i * max_rows, ...)), encoded as if the block were a layer; none
    /// when the format does not apply.
    pub blocks: Vec<EncodedStream>,
    /// Why the format does not apply to the layer (an `nm` stream of a layer that is not n:m):
    /// then there are no blocks, and the report says "n/a".
    pub not_applicable: Option<String>,
}

impl BlockedStream {
    /// Encodes already split row blocks (from [`row_blocks`] of one layer) in `format`.
    pub fn encode(
        format: Format,
        blocks: &[RowBlock<'_>],
        params: &StreamParams,
        max_rows: usize,
    ) -> Result<BlockedStream, BlockError> {
        check_max_rows(max_rows)?;
        let rows = blocks.iter().map(RowBlock::rows).sum();
        let cols = blocks.first().map_or(0, |b| b.matrix.cols);
        let mut streams = Vec::with_capacity(blocks.len());
        let mut not_applicable = None;
        // Every block is encoded even after one the format does not apply to, so that a bad
        // value in a later block is the error, as encoding the layer whole reports it.
        for b in blocks {
            match format.encode(&b.matrix, params) {
                Ok(s) => streams.push(s),
                Err(e) if e.not_applicable() => {
                    not_applicable.get_or_insert_with(|| layer_rows(e, b.row_offset).to_string());
                }
                Err(e) => return Err(layer_rows(e, b.row_offset)),
            }
        }
        if not_applicable.is_some() {
            streams.clear();
        }
        Ok(BlockedStream { format, rows, cols, max_rows, blocks: streams, not_applicable })
    }

    /// True when the format applies to the layer (it has streams).
    pub fn applies(&self) -> bool {
        self.not_applicable.is_none()
    }

    /// First layer row of block `i`.
    pub fn row_offset(&self, i: usize) -> usize {
        i * self.max_rows
    }

    /// Bits by category, summed over the blocks.
    pub fn sizes(&self) -> SizeBreakdown {
        self.blocks.iter().fold(SizeBreakdown::default(), |acc, s| SizeBreakdown {
            payload_bits: acc.payload_bits + s.sizes.payload_bits,
            metadata_bits: acc.metadata_bits + s.sizes.metadata_bits,
            padding_bits: acc.padding_bits + s.sizes.padding_bits,
        })
    }

    /// Bits on the wire, summed over the blocks (each a whole number of bus words).
    pub fn total_bits(&self) -> u64 {
        self.blocks.iter().map(|s| s.bits.len() as u64).sum()
    }

    /// Bus words on the wire, summed over the blocks.
    pub fn bus_words(&self) -> usize {
        self.blocks.iter().map(EncodedStream::bus_words).sum()
    }

    /// Beats the PE array consumes, summed over the blocks: sum of K * ceil(O_i / N).
    pub fn beats(&self) -> usize {
        self.blocks.iter().map(|s| s.params.beats(s.rows, s.cols)).sum()
    }

    /// Decodes every block and stacks their rows back into the O x K layer. Errors name the
    /// block (see [`block_name`]).
    pub fn decode(&self, layer: &str) -> Result<QuantMatrix, DecodeError> {
        let n = self.blocks.len();
        let mut data = Vec::with_capacity(self.rows * self.cols);
        let mut bits = 0;
        for (i, s) in self.blocks.iter().enumerate() {
            let w = s.decode(&block_name(layer, i, n))?;
            bits = w.bits;
            data.extend_from_slice(&w.data);
        }
        Ok(QuantMatrix { rows: self.rows, cols: self.cols, bits, data })
    }
}

/// Encodes `w` in `format` as row blocks of at most `max_rows` rows.
pub fn encode_blocks(
    format: Format,
    w: &QuantMatrix,
    params: &StreamParams,
    max_rows: usize,
) -> Result<BlockedStream, BlockError> {
    BlockedStream::encode(format, &row_blocks(w, max_rows)?, params, max_rows)
}

/// An encode error of a block in the layer's rows.
fn layer_rows(e: EncodeError, row_offset: usize) -> BlockError {
    match e {
        EncodeError::ValueOutOfRange { row, col, value, bits } => {
            EncodeError::ValueOutOfRange { row: row + row_offset, col, value, bits }.into()
        }
        EncodeError::NotNm { row, group, count, pattern } => {
            EncodeError::NotNm { row: row + row_offset, group, count, pattern }.into()
        }
        e => e.into(),
    }
}

/// How errors and files name block `i` of `n` of a layer: the layer's name when it is one block,
/// else `<layer> block <i>`.
pub fn block_name(layer: &str, i: usize, n: usize) -> Cow<'_, str> {
    if n <= 1 {
        Cow::Borrowed(layer)
    } else {
        Cow::Owned(format!("{layer} block {i}"))
    }
}

/// What the PE array must see and produce for one row block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockGolden {
    /// First layer row of the block.
    pub row_offset: usize,
    /// Rows in the block.
    pub rows: usize,
    /// The block's beats in stream order ([`pe::beats`] of the block).
    pub beats: Vec<i32>,
    /// y of the block's rows ([`pe::matvec`] of the block).
    pub y: Vec<i32>,
}

/// The golden expectation per row block of `w` for activations `a` (length K).
pub fn golden(
    w: &QuantMatrix,
    a: &[i32],
    params: &StreamParams,
    max_rows: usize,
) -> Result<Vec<BlockGolden>, BlockError> {
    Ok(row_blocks(w, max_rows)?
        .iter()
        .map(|b| BlockGolden {
            row_offset: b.row_offset,
            rows: b.rows(),
            beats: pe::beats(&b.matrix, params),
            y: pe::matvec(&b.matrix, a),
        })
        .collect())
}

/// The layer's y: the blocks' y in block order.
pub fn concat_y(blocks: &[BlockGolden]) -> Vec<i32> {
    blocks.iter().flat_map(|b| b.y.iter().copied()).collect()
}
