//! The stream formats (the contract with the RTL): parameters, the encoded stream, size
//! accounting, and encode/decode dispatch. One submodule per format; docs/stream-formats.md is
//! the specification, with worked examples the tests assert.

pub mod bitmap;
pub mod csc;
pub mod delta_bitmap;
pub mod dense;
pub mod huffman;
pub mod lane_huffman;
pub mod nm;

use std::fmt;
use std::str::FromStr;

use bitvec::prelude::*;
use serde::Serialize;

use crate::bits::{BitReader, Bits, OutOfBits, SizeBreakdown};
use crate::matrix::{wrap, QuantMatrix};

/// A weight stream format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// Every element as Q bits: the baseline.
    Dense,
    /// Per beat a lane mask, then the nonzero values.
    Bitmap,
    /// Differences along k, encoded as bitmap.
    DeltaBitmap,
    /// Compressed sparse column with EIE relative indexing.
    Csc,
    /// Bitmap with the nonzero values as canonical Huffman codes (the layer's code first).
    BitmapHuffman,
    /// Delta along k, then bitmap-huffman.
    DeltaBitmapHuffman,
    /// Bitmap-huffman's code and masks with each lane's codes in its own sub-stream, interleaved
    /// as refill chunks: one decoder per lane.
    LaneHuffman,
    /// Delta along k, then lane-huffman.
    DeltaLaneHuffman,
    /// N:M structured sparsity at a fixed rate: per row and group of m columns, n (position,
    /// value) entries, each group's entry j in its j-th column of beats.
    Nm,
}

impl Format {
    /// All formats, dense first.
    pub const ALL: [Format; 9] = [
        Format::Dense,
        Format::Bitmap,
        Format::DeltaBitmap,
        Format::Csc,
        Format::BitmapHuffman,
        Format::DeltaBitmapHuffman,
        Format::LaneHuffman,
        Format::DeltaLaneHuffman,
        Format::Nm,
    ];

    /// The order of its beats at the PE array: nm's go group by group (m = `p.nm.group`).
    pub fn beat_order(self, p: &StreamParams) -> crate::pe::BeatOrder {
        match self {
            Format::Nm => crate::pe::BeatOrder::Groups(p.nm.group as usize),
            _ => crate::pe::BeatOrder::Columns,
        }
    }

    /// The golden beats of `w` in this format's beat order.
    pub fn beats(self, w: &QuantMatrix, p: &StreamParams) -> Vec<i32> {
        crate::pe::beats_in(w, p, self.beat_order(p))
    }

    /// The golden beats of `w` decoded from `bits`, in the order the stream sets: for nm its
    /// header's m (which a hostile stream may have changed), else as [`Format::beats`].
    pub fn stream_beats(self, w: &QuantMatrix, p: &StreamParams, bits: &BitSlice<u64, Lsb0>) -> Vec<i32> {
        match (self, nm::header_group(bits)) {
            (Format::Nm, Some(m)) => crate::pe::beats_in(w, p, crate::pe::BeatOrder::Groups(m)),
            _ => self.beats(w, p),
        }
    }

    /// Short name used on the command line, in files and reports.
    pub fn name(self) -> &'static str {
        match self {
            Format::Dense => "dense",
            Format::Bitmap => "bitmap",
            Format::DeltaBitmap => "delta-bitmap",
            Format::Csc => "csc",
            Format::BitmapHuffman => "bitmap-huffman",
            Format::DeltaBitmapHuffman => "delta-bitmap-huffman",
            Format::LaneHuffman => "lane-huffman",
            Format::DeltaLaneHuffman => "delta-lane-huffman",
            Format::Nm => "nm",
        }
    }

    /// The longest [`Self::name`]: the width of a format column in the terminal tables.
    pub fn name_width() -> usize {
        Self::ALL.iter().map(|f| f.name().len()).max().unwrap_or(0)
    }

    /// Encodes `w` in this format.
    pub fn encode(self, w: &QuantMatrix, p: &StreamParams) -> Result<EncodedStream, EncodeError> {
        p.validate()?;
        check_shape(w)?;
        // The encoders see every value anyway and return their range; the matrix is searched
        // for the offending value only when that range (or an encoder) says something is wrong,
        // so a value out of range is reported before any other error, as if checked first.
        let encoded = match self {
            Format::Dense => Ok(dense::encode(w, p)),
            Format::Bitmap => Ok(bitmap::encode(w, p)),
            Format::DeltaBitmap => Ok(delta_bitmap::encode(w, p)),
            Format::Csc => csc::encode(w, p),
            Format::BitmapHuffman => huffman::encode(w, p, false),
            Format::DeltaBitmapHuffman => huffman::encode(w, p, true),
            Format::LaneHuffman => lane_huffman::encode(w, p, false),
            Format::DeltaLaneHuffman => lane_huffman::encode(w, p, true),
            Format::Nm => nm::encode(w, p),
        };
        let (bits, sizes) = match encoded {
            Ok((bits, sizes, range)) if range.fits(p.weight_bits) => (bits, sizes),
            Ok((bits, sizes, _)) => {
                check_values(w, p)?;
                (bits, sizes)
            }
            Err(e) => {
                check_values(w, p)?;
                return Err(e);
            }
        };
        Ok(EncodedStream { format: self, rows: w.rows, cols: w.cols, params: *p, bits, sizes })
    }

    /// Why this format does not apply to `w` (nm on a matrix that is not n:m), without encoding
    /// it: the encoder's [`EncodeError::not_applicable`] error as text; None when it applies.
    pub fn not_applicable(self, w: &QuantMatrix, p: &StreamParams) -> Option<String> {
        match self {
            Format::Nm => nm::check(w, p.nm).err().map(|e| e.to_string()),
            _ => None,
        }
    }

    /// Decodes a stream of whole bus words back to the O x K matrix. `layer` names the layer in
    /// errors.
    pub fn decode(
        self,
        layer: &str,
        bits: &BitSlice<u64, Lsb0>,
        rows: usize,
        cols: usize,
        p: &StreamParams,
    ) -> Result<QuantMatrix, DecodeError> {
        let fail =
            |offset: u64, kind: DecodeErrorKind| DecodeError { layer: layer.to_string(), format: self, offset, kind };
        p.validate().map_err(|e| fail(0, DecodeErrorKind::BadParams(e.to_string())))?;
        if rows == 0 || cols == 0 {
            return Err(fail(0, DecodeErrorKind::BadShape { rows, cols }));
        }
        let mut r = BitReader::new(bits);
        let w = match self {
            Format::Dense => dense::decode(&mut r, rows, cols, p),
            Format::Bitmap => bitmap::decode(&mut r, rows, cols, p),
            Format::DeltaBitmap => delta_bitmap::decode(&mut r, rows, cols, p),
            Format::Csc => csc::decode(&mut r, rows, cols, p),
            Format::BitmapHuffman => huffman::decode(&mut r, rows, cols, p, false),
            Format::DeltaBitmapHuffman => huffman::decode(&mut r, rows, cols, p, true),
            Format::LaneHuffman => lane_huffman::decode(&mut r, rows, cols, p, false),
            Format::DeltaLaneHuffman => lane_huffman::decode(&mut r, rows, cols, p, true),
            Format::Nm => nm::decode(&mut r, rows, cols, p),
        }
        .map_err(|(offset, kind)| fail(offset, kind))?;
        check_tail(&r, p).map_err(|(offset, kind)| fail(offset, kind))?;
        Ok(w)
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // pad, not write_str: `{:<w$}` in a table must line up.
        f.pad(self.name())
    }
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Format::ALL
            .into_iter()
            .find(|f| f.name() == s || (s == "delta+bitmap" && *f == Format::DeltaBitmap))
            .ok_or_else(|| {
                let names: Vec<&str> = Format::ALL.iter().map(|f| f.name()).collect();
                format!("unknown format {s:?} ({})", names.join(", "))
            })
    }
}

/// An N:M pattern: at most `keep` nonzeros in every group of `group` consecutive columns of a
/// row (`--nm keep:group`; 1 <= keep < group <= 16, group a power of two). The `nm` format's
/// pattern and N:M pruning's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
pub struct NmPattern {
    /// n: values kept per group.
    pub keep: u32,
    /// m: columns per group.
    pub group: u32,
}

impl NmPattern {
    /// 2:4, sparse tensor cores' pattern.
    pub const TWO_FOUR: NmPattern = NmPattern { keep: 2, group: 4 };

    /// Checks 1 <= n < m <= 16, m a power of two.
    pub fn validate(&self) -> Result<(), String> {
        if !(2..=16).contains(&self.group) || !self.group.is_power_of_two() {
            return Err(format!("N:M group m = {} must be 2, 4, 8 or 16", self.group));
        }
        if !(1..self.group).contains(&self.keep) {
            return Err(format!("N:M keep n = {} must be 1..{}", self.keep, self.group - 1));
        }
        Ok(())
    }

    /// log2 m: bits of a position within a group.
    pub fn position_bits(&self) -> u32 {
        self.group.trailing_zeros()
    }
}

impl Default for NmPattern {
    fn default() -> Self {
        NmPattern::TWO_FOUR
    }
}

impl fmt::Display for NmPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.keep, self.group)
    }
}

impl FromStr for NmPattern {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("N:M pattern {s:?} must be n:m, e.g. 2:4");
        let (n, m) = s.split_once(':').ok_or_else(bad)?;
        let p = NmPattern { keep: n.trim().parse().map_err(|_| bad())?, group: m.trim().parse().map_err(|_| bad())? };
        p.validate()?;
        Ok(p)
    }
}

/// Stream parameters shared by encoder, decoder and RTL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct StreamParams {
    /// N: lanes of the PE array, weights per beat.
    pub lanes: usize,
    /// Q: bits per weight value.
    pub weight_bits: u32,
    /// B: bits per bus word.
    pub bus_bits: u32,
    /// R: bits of a CSC run field.
    pub run_bits: u32,
    /// P: bits of a CSC per-column entry count.
    pub count_bits: u32,
    /// n:m of the `nm` format (its encoder's; a decoder reads it from the stream's header).
    #[serde(default)]
    pub nm: NmPattern,
}

impl Default for StreamParams {
    fn default() -> Self {
        StreamParams { lanes: 16, weight_bits: 8, bus_bits: 64, run_bits: 4, count_bits: 16, nm: NmPattern::TWO_FOUR }
    }
}

impl StreamParams {
    /// Checks every parameter's range.
    pub fn validate(&self) -> Result<(), EncodeError> {
        let bad = |what: &str| Err(EncodeError::BadParams(what.to_string()));
        if !(1..=256).contains(&self.lanes) {
            return bad("lanes N must be 1..=256");
        }
        if !(2..=16).contains(&self.weight_bits) {
            return bad("weight bits Q must be 2..=16");
        }
        if !(8..=1024).contains(&self.bus_bits) || self.bus_bits % 8 != 0 {
            return bad("bus bits B must be a multiple of 8 in 8..=1024");
        }
        if !(1..=16).contains(&self.run_bits) {
            return bad("CSC run bits R must be 1..=16");
        }
        if !(1..=32).contains(&self.count_bits) {
            return bad("CSC count bits P must be 1..=32");
        }
        self.nm.validate().map_err(EncodeError::BadParams)?;
        Ok(())
    }

    /// Row tiles per column: ceil(O / N).
    pub fn tiles(&self, rows: usize) -> usize {
        rows.div_ceil(self.lanes)
    }

    /// Beats in a layer's stream: K * ceil(O / N).
    pub fn beats(&self, rows: usize, cols: usize) -> usize {
        cols * self.tiles(rows)
    }

    /// Real lanes in row tile `t`: min(N, O - t*N).
    #[inline]
    pub fn real_lanes(&self, rows: usize, t: usize) -> usize {
        (rows - t * self.lanes).min(self.lanes)
    }
}

/// One layer encoded in one format: the stream (whole bus words) and what its bits are.
#[derive(Debug, Clone)]
pub struct EncodedStream {
    /// The format it is in.
    pub format: Format,
    /// O of the layer.
    pub rows: usize,
    /// K of the layer.
    pub cols: usize,
    /// Parameters it was encoded with.
    pub params: StreamParams,
    /// The stream, zero-filled to whole bus words.
    pub bits: Bits,
    /// Its bits by category; `sizes.total_bits() == bits.len()`.
    pub sizes: SizeBreakdown,
}

impl EncodedStream {
    /// Bus words on the wire.
    pub fn bus_words(&self) -> usize {
        self.bits.len() / self.params.bus_bits as usize
    }

    /// Bus word `j` as a bit slice of B bits.
    pub fn word(&self, j: usize) -> &BitSlice<u64, Lsb0> {
        let b = self.params.bus_bits as usize;
        &self.bits[j * b..(j + 1) * b]
    }

    /// Decodes this stream (a round trip check).
    pub fn decode(&self, layer: &str) -> Result<QuantMatrix, DecodeError> {
        self.format.decode(layer, &self.bits, self.rows, self.cols, &self.params)
    }
}

/// Why a layer could not be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    #[error("bad stream parameters: {0}")]
    BadParams(String),
    #[error("value {value} at row {row}, column {col} does not fit in {bits} bits")]
    ValueOutOfRange { row: usize, col: usize, value: i32, bits: u32 },
    #[error("matrix has {len} elements, not rows x cols = {rows} x {cols}")]
    BadShape { rows: usize, cols: usize, len: usize },
    #[error("column {col} needs {count} CSC entries, more than a {bits}-bit count holds")]
    CountOverflow { col: usize, count: usize, bits: u32 },
    #[error("{symbols} distinct nonzero values need Huffman codes longer than {max_len} bits")]
    TooManySymbols { symbols: usize, max_len: u32 },
    #[error("not {pattern}: row {row} has {count} nonzeros in N:M group {group}")]
    NotNm { row: usize, group: usize, count: usize, pattern: NmPattern },
}

impl EncodeError {
    /// True when the format does not apply to the layer (an `nm` stream of a layer that is not
    /// n:m): the report says "n/a" rather than failing.
    pub fn not_applicable(&self) -> bool {
        matches!(self, EncodeError::NotNm { .. })
    }
}

/// A malformed stream: the layer, the stream bit where decoding stopped, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("layer {layer} ({format}): bit offset {offset}: {kind}")]
pub struct DecodeError {
    /// Layer name.
    pub layer: String,
    /// Format being decoded.
    pub format: Format,
    /// Stream bit at which the problem was found.
    pub offset: u64,
    /// What is wrong.
    pub kind: DecodeErrorKind,
}

/// The ways a stream can be malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeErrorKind {
    #[error("truncated: a {need}-bit field needs {need} bits, {have} left")]
    Truncated { need: u32, have: u64 },
    #[error("CSC column {col} count {count} exceeds {rows} rows")]
    CountExceedsRows { col: usize, count: u64, rows: usize },
    #[error("CSC column {col}: entry {entry} runs past the column end (row {row} of {rows})")]
    RunPastColumnEnd { col: usize, entry: u64, row: u64, rows: usize },
    #[error("trailing data: {bits} bits after the last field, more than the last word's fill")]
    TrailingData { bits: u64 },
    #[error("nonzero fill bits after the last field")]
    NonzeroFill,
    #[error("lane {lane}: nonzero fill in the bits it took and never decoded")]
    NonzeroLaneFill { lane: usize },
    #[error("bad shape {rows} x {cols}")]
    BadShape { rows: usize, cols: usize },
    #[error("Huffman code lengths up to {len} bits, above the limit of {limit}")]
    CodeTooLong { len: u32, limit: u32 },
    #[error("Huffman code over-subscribed at length {len} (more codes than the lengths allow)")]
    CodeOversubscribed { len: u32 },
    #[error("Huffman code incomplete (the lengths leave codes unused)")]
    CodeIncomplete,
    #[error("Huffman table of {codes} codes, more than the {limit} values of Q bits")]
    TooManyCodes { codes: u64, limit: u64 },
    #[error("invalid Huffman code (no code of the table starts with these bits)")]
    InvalidCode,
    #[error("bad stream parameters: {0}")]
    BadParams(String),
    #[error("bad N:M header: n = {keep}, log2 m = {log2_group} (needs 1 <= n < m, log2 m 1..4)")]
    BadNmHeader { keep: u32, log2_group: u32 },
    #[error("N:M position {position} outside {min}..{group_cols} (above the previous entry's, inside the group)")]
    BadNmPosition { position: u32, min: u32, group_cols: u32 },
}

impl From<OutOfBits> for (u64, DecodeErrorKind) {
    fn from(e: OutOfBits) -> Self {
        (e.offset, DecodeErrorKind::Truncated { need: e.need, have: e.have })
    }
}

/// What submodule decoders return on failure: the stream offset and the reason.
pub(crate) type Failure = (u64, DecodeErrorKind);

fn check_shape(w: &QuantMatrix) -> Result<(), EncodeError> {
    if w.data.len() != w.rows * w.cols || w.rows == 0 || w.cols == 0 {
        return Err(EncodeError::BadShape { rows: w.rows, cols: w.cols, len: w.data.len() });
    }
    Ok(())
}

/// The first value (row-major) outside the Q-bit range, as an error.
fn check_values(w: &QuantMatrix, p: &StreamParams) -> Result<(), EncodeError> {
    let (lo, hi) = QuantMatrix::value_range(p.weight_bits);
    if let Some(i) = w.data.iter().position(|&v| v < lo || v > hi) {
        return Err(EncodeError::ValueOutOfRange {
            row: i / w.cols,
            col: i % w.cols,
            value: w.data[i],
            bits: p.weight_bits,
        });
    }
    Ok(())
}

/// What an encoder saw of the values' range: the OR over all values v of `v ^ (v >> 31)` (v for
/// v >= 0, -v - 1 below), which is below 2^(Q-1) iff every value fits in Q-bit two's complement.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ValueRange {
    pub(crate) magnitudes: u32,
}

impl ValueRange {
    /// True when every value fits in `bits`-bit two's complement.
    fn fits(self, bits: u32) -> bool {
        self.magnitudes >> (bits - 1) == 0
    }
}

/// After the last field only the last word's zero fill may remain.
fn check_tail(r: &BitReader<'_>, p: &StreamParams) -> Result<(), Failure> {
    let rest = r.rest();
    if rest.len() >= p.bus_bits as usize {
        return Err((r.position(), DecodeErrorKind::TrailingData { bits: rest.len() as u64 }));
    }
    if let Some(i) = rest.first_one() {
        return Err((r.position() + i as u64, DecodeErrorKind::NonzeroFill));
    }
    Ok(())
}

/// Columns per strip: encoders transpose the row-major matrix a strip of this many columns at a
/// time, so no whole column-major copy is made; 64 columns are 256 contiguous bytes of a row,
/// which the hardware prefetchers stream well.
const STRIP: usize = 64;

/// Columns per strip when decoders transpose their result back: fewer columns to gather from
/// suits the strided reads there.
const DECODE_STRIP: usize = 16;

/// Calls `f(k, column)` for every column k in stream order with `column[o] = W[o][k]`, or, when
/// `delta`, with `D[o][k] = wrap(W[o][k] - W[o][k-1], w.bits)` (`W[o][-1] = 0`, exactly
/// [`QuantMatrix::delta_along_k`]). Stops at the first error `f` returns; else returns the range
/// of W's values.
pub(crate) fn for_each_column<E>(
    w: &QuantMatrix,
    delta: bool,
    mut f: impl FnMut(usize, &[i32]) -> Result<(), E>,
) -> Result<ValueRange, E> {
    let (rows, cols) = (w.rows, w.cols);
    let stride = strip_stride(rows);
    let mut strip = vec![0i32; STRIP.min(cols) * stride];
    // The column before the strip (W[o][-1] = 0 for the first): deltas are taken a whole
    // column at a time after the transpose, which vectorizes, not inside the strided scatter.
    let mut prev = if delta { vec![0i32; rows] } else { Vec::new() };
    let mut magnitudes = 0u32;
    for k0 in (0..cols).step_by(STRIP) {
        let s = STRIP.min(cols - k0);
        let row = |o: usize| &w.data[o * cols + k0..o * cols + k0 + s];
        // Eight rows at a time: each column gets eight contiguous values per store run.
        let blocked = rows - rows % ROW_BLOCK;
        for o in (0..blocked).step_by(ROW_BLOCK) {
            let block: [&[i32]; ROW_BLOCK] = std::array::from_fn(|i| row(o + i));
            if s == STRIP {
                let block = block.map(|r| <&[i32; STRIP]>::try_from(r).expect("strip"));
                transpose_block(&block, &mut strip[o..], stride);
            } else {
                transpose_block(&block, &mut strip[o..], stride);
            }
        }
        for o in blocked..rows {
            for (j, &v) in row(o).iter().enumerate() {
                strip[j * stride + o] = v;
            }
        }
        for o in 0..rows {
            magnitudes |= row(o).iter().fold(0u32, |m, &v| m | (v ^ (v >> 31)) as u32);
        }
        for (j, column) in strip.chunks_exact_mut(stride).take(s).enumerate() {
            let column = &mut column[..rows];
            if delta {
                // prev becomes this column, the column becomes its delta.
                for (d, p) in column.iter_mut().zip(prev.iter_mut()) {
                    let v = *d;
                    *d = wrap(v.wrapping_sub(*p), w.bits);
                    *p = v;
                }
            }
            f(k0 + j, column)?;
        }
    }
    Ok(ValueRange { magnitudes })
}

/// The distance between a strip's columns: `rows` rounded up to whole 64-byte lines, plus one
/// line when that is an even number of lines. A stride of an odd number of lines spreads a row's
/// stores (or loads) over every L1 set; with `rows` = 1280 (5120 bytes) they would fall into 4
/// sets and evict each other.
fn strip_stride(rows: usize) -> usize {
    let lines = rows.div_ceil(16);
    16 * (lines | 1)
}

/// Rows per block of the encoders' transpose.
const ROW_BLOCK: usize = 8;

/// Writes the strip's columns of `ROW_BLOCK` rows: `dst[j * stride + i] = rows[i][j]`. Generic
/// over the row type so that whole strips (`[i32; STRIP]`) compile without bounds checks.
#[inline(always)]
fn transpose_block<R: AsRef<[i32]>>(rows: &[R; ROW_BLOCK], dst: &mut [i32], stride: usize) {
    let s = rows[0].as_ref().len();
    for (j, column) in dst.chunks_mut(stride).take(s).enumerate() {
        let column: &mut [i32; ROW_BLOCK] = (&mut column[..ROW_BLOCK]).try_into().expect("block");
        for (d, r) in column.iter_mut().zip(rows) {
            *d = r.as_ref()[j];
        }
    }
}

/// Gathers one row's strip of values from `src[j * stride]`.
#[inline(always)]
fn gather_row(dst: &mut [i32], src: &[i32], stride: usize) {
    for (j, d) in dst.iter_mut().enumerate() {
        *d = src[j * stride];
    }
}

/// Builds the row-major O x K result of a decoder that fills columns in stream order: calls
/// `f(k, column)` for every column k, which must write every element of `column` (it holds an
/// earlier strip's values, not zeros), then stores it as column k of the result, or, when
/// `undelta`, stores the running sum along k mod 2^bits (exactly
/// [`QuantMatrix::undelta_along_k`]). Stops at the first failure `f` returns.
pub(crate) fn decode_columns(
    rows: usize,
    cols: usize,
    bits: u32,
    undelta: bool,
    mut f: impl FnMut(usize, &mut [i32]) -> Result<(), Failure>,
) -> Result<QuantMatrix, Failure> {
    let mut out = QuantMatrix::zeros(rows, cols, bits);
    let stride = strip_stride(rows);
    let mut strip = vec![0i32; DECODE_STRIP.min(cols) * stride];
    let mut sums = if undelta { vec![0i32; rows] } else { Vec::new() };
    for k0 in (0..cols).step_by(DECODE_STRIP) {
        let s = DECODE_STRIP.min(cols - k0);
        for (j, column) in strip.chunks_exact_mut(stride).take(s).enumerate() {
            f(k0 + j, &mut column[..rows])?;
        }
        if undelta {
            // Running sums down the strip's columns, a whole column at a time (vectorizable).
            for column in strip.chunks_exact_mut(stride).take(s) {
                for (d, acc) in column[..rows].iter_mut().zip(sums.iter_mut()) {
                    *acc = wrap(acc.wrapping_add(*d), bits);
                    *d = *acc;
                }
            }
        }
        for (o, row) in out.data.chunks_exact_mut(cols).enumerate() {
            if s == DECODE_STRIP {
                let dst: &mut [i32; DECODE_STRIP] = (&mut row[k0..k0 + DECODE_STRIP]).try_into().expect("strip");
                gather_row(dst, &strip[o..], stride);
            } else {
                gather_row(&mut row[k0..k0 + s], &strip[o..], stride);
            }
        }
    }
    Ok(out)
}
