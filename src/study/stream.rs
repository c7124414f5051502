//! The data that flows between stages: named symbol streams, each with a symbol width, and the
//! header a coder writes so that its output decodes back to the stream it was given.

use super::bitio::{BitReader, BitWriter};
use super::StudyError;
use crate::matrix::{wrap, QuantMatrix};

/// Bits charged per stream for framing (its length): a container carries several streams and a
/// decoder must know where each ends.
pub const FRAME_BITS: u64 = 32;

/// Widest symbol a stream may hold.
pub const MAX_WIDTH: u32 = 32;

/// One stream of fixed-width symbols.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stream {
    /// Where it came from, e.g. `w`, `w.mask`, `w.values.runs` (structure, not counted).
    pub name: String,
    /// Bits per symbol, 1..=32.
    pub width: u32,
    /// True when the stream is the layer's O x K shape, row-major (the tensor, a bitmap mask).
    pub shaped: bool,
    /// The symbols; a signed value is stored as its `width`-bit two's complement.
    pub symbols: Vec<u32>,
}

/// What every stage knows about the layer (the decoder knows it too: it is not counted).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ctx {
    /// O.
    pub rows: usize,
    /// K.
    pub cols: usize,
    /// Q of the layer tensor.
    pub bits: u32,
}

impl Stream {
    /// A stream of symbols.
    pub fn new(name: impl Into<String>, width: u32, shaped: bool, symbols: Vec<u32>) -> Self {
        Stream { name: name.into(), width, shaped, symbols }
    }

    /// The layer tensor as the first stage sees it: stream `w`, shaped, Q-bit two's complement.
    pub fn from_matrix(m: &QuantMatrix) -> Self {
        let mask = width_mask(m.bits);
        Stream::new("w", m.bits, true, m.data.iter().map(|&v| v as u32 & mask).collect())
    }

    /// The shaped stream as a matrix of signed `width`-bit values.
    pub fn to_matrix(&self, ctx: &Ctx) -> Result<QuantMatrix, StudyError> {
        if !self.shaped || self.symbols.len() != ctx.rows * ctx.cols {
            return Err(StudyError::corrupt(format!(
                "stream {} is not the {}x{} layer",
                self.name, ctx.rows, ctx.cols
            )));
        }
        Ok(QuantMatrix {
            rows: ctx.rows,
            cols: ctx.cols,
            bits: self.width,
            data: self.symbols.iter().map(|&s| signed(s, self.width)).collect(),
        })
    }

    /// A shaped stream from a matrix (values taken mod 2^bits).
    pub fn shaped_from(name: impl Into<String>, m: &QuantMatrix) -> Self {
        let mask = width_mask(m.bits);
        Stream::new(name, m.bits, true, m.data.iter().map(|&v| v as u32 & mask).collect())
    }

    /// Bits this stream costs: symbols times width, plus framing.
    pub fn bits(&self) -> u64 {
        self.symbols.len() as u64 * u64::from(self.width) + FRAME_BITS
    }

    /// The symbols in stream order for the sparse formats: column-major for a shaped stream,
    /// as stored otherwise.
    pub fn scan_order(&self, ctx: &Ctx) -> Vec<u32> {
        if self.shaped && ctx.rows > 0 && ctx.cols > 0 && self.symbols.len() == ctx.rows * ctx.cols {
            transpose(&self.symbols, ctx.rows, ctx.cols)
        } else {
            self.symbols.clone()
        }
    }

    /// Inverse of [`Stream::scan_order`].
    pub fn from_scan_order(name: String, width: u32, shaped: bool, scan: Vec<u32>, ctx: &Ctx) -> Self {
        if shaped && scan.len() == ctx.rows * ctx.cols && ctx.rows > 0 && ctx.cols > 0 {
            Stream::new(name, width, true, transpose(&scan, ctx.cols, ctx.rows))
        } else {
            Stream::new(name, width, shaped, scan)
        }
    }

    /// Checks width and that every symbol fits it.
    pub fn validate(&self) -> Result<(), StudyError> {
        if !(1..=MAX_WIDTH).contains(&self.width) {
            return Err(StudyError::corrupt(format!("stream {}: width {} not in 1..=32", self.name, self.width)));
        }
        let mask = width_mask(self.width);
        if self.symbols.iter().any(|&s| s & !mask != 0) {
            return Err(StudyError::corrupt(format!("stream {}: a symbol exceeds {} bits", self.name, self.width)));
        }
        Ok(())
    }
}

/// Transposes a row-major `rows` x `cols` array (cache-blocked).
pub fn transpose(data: &[u32], rows: usize, cols: usize) -> Vec<u32> {
    const B: usize = 32;
    let mut out = vec![0u32; data.len()];
    for r0 in (0..rows).step_by(B) {
        for c0 in (0..cols).step_by(B) {
            for r in r0..(r0 + B).min(rows) {
                let row = &data[r * cols..(r + 1) * cols];
                for c in c0..(c0 + B).min(cols) {
                    out[c * rows + r] = row[c];
                }
            }
        }
    }
    out
}

/// Total bits of a set of streams.
pub fn total_bits(streams: &[Stream]) -> u64 {
    streams.iter().map(Stream::bits).sum()
}

/// Mask of the low `width` bits (width 0..=32).
#[inline]
pub fn width_mask(width: u32) -> u32 {
    if width >= 32 {
        u32::MAX
    } else {
        (1u32 << width) - 1
    }
}

/// The signed value of a `width`-bit two's complement symbol.
#[inline]
pub fn signed(s: u32, width: u32) -> i32 {
    wrap(s as i32, width.max(1))
}

/// Bits to hold any value below `n` (at least 1).
pub fn index_bits(n: usize) -> u32 {
    (usize::BITS - n.saturating_sub(1).leading_zeros()).max(1)
}

/// What a coder must record to rebuild a stream: width, shaped flag and symbol count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Symbol width.
    pub width: u32,
    /// Whether it is the layer-shaped stream.
    pub shaped: bool,
    /// Symbol count.
    pub count: usize,
}

/// Bits of a written [`Header`]: 6 (width) + 1 (shaped) + 32 (count).
pub const HEADER_BITS: u32 = 39;

impl Header {
    /// The header of a stream.
    pub fn of(s: &Stream) -> Self {
        Header { width: s.width, shaped: s.shaped, count: s.symbols.len() }
    }

    /// Writes it.
    pub fn write(&self, w: &mut BitWriter) {
        w.put(u64::from(self.width), 6);
        w.put(u64::from(self.shaped), 1);
        w.put(self.count as u64, 32);
    }

    /// Reads it back.
    pub fn read(r: &mut BitReader<'_>) -> Result<Self, StudyError> {
        let width = r.get(6)? as u32;
        let shaped = r.get(1)? == 1;
        let count = r.get(32)? as usize;
        if !(1..=MAX_WIDTH).contains(&width) {
            return Err(StudyError::corrupt(format!("header width {width}")));
        }
        Ok(Header { width, shaped, count })
    }

    /// Writes it as a byte-aligned prefix (5 bytes).
    pub fn to_bytes(&self) -> [u8; 5] {
        let mut w = BitWriter::with_capacity(5);
        self.write(&mut w);
        let b = w.finish();
        [b[0], b[1], b[2], b[3], b[4]]
    }

    /// Reads a byte-aligned prefix; returns the header and the rest.
    pub fn from_bytes(bytes: &[u8]) -> Result<(Self, &[u8]), StudyError> {
        if bytes.len() < 5 {
            return Err(StudyError::corrupt("header truncated"));
        }
        let h = Header::read(&mut BitReader::new(&bytes[..5]))?;
        Ok((h, &bytes[5..]))
    }
}

/// A byte stream (width 8, unshaped) carrying a coder's output.
pub fn byte_stream(name: &str, bytes: Vec<u8>) -> Stream {
    Stream::new(name, 8, false, bytes.into_iter().map(u32::from).collect())
}

/// The bytes of a byte stream.
pub fn stream_bytes(s: &Stream) -> Result<Vec<u8>, StudyError> {
    if s.width != 8 {
        return Err(StudyError::corrupt(format!("stream {} is not a byte stream", s.name)));
    }
    Ok(s.symbols.iter().map(|&b| b as u8).collect())
}
