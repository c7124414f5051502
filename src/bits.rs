//! The LSB-first bitstream every format writes into and reads from, with size accounting.
//!
//! A field of width w written at stream position p occupies stream bits p..p+w-1, field bit 0 at
//! p. Bus word j holds stream bits [j*B, (j+1)*B); word bit i is stream bit j*B + i.

use bitvec::prelude::*;
use serde::Serialize;

/// The bit storage all streams use: stream bit p is index p.
pub type Bits = BitVec<u64, Lsb0>;

/// What a field's bits are spent on, for the size breakdown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    /// Values of real nonzero weights.
    Payload,
    /// Masks, runs, counts: the bits that say where the values go.
    Metadata,
    /// Bits that carry no nonzero value and no position: filler entries, zero values written out,
    /// the zero fill of the last bus word.
    Padding,
}

/// Bits of one encoded stream by category.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SizeBreakdown {
    /// Bits holding values of real nonzero weights.
    pub payload_bits: u64,
    /// Bits of masks, runs and counts.
    pub metadata_bits: u64,
    /// Filler entries, zero values written out, and the last word's zero fill.
    pub padding_bits: u64,
}

impl SizeBreakdown {
    /// Sum of the three categories: the bits on the wire, a whole number of bus words.
    pub fn total_bits(&self) -> u64 {
        self.payload_bits + self.metadata_bits + self.padding_bits
    }
}

/// Appends fields to a bitstream and counts their bits by category.
#[derive(Debug, Default)]
pub struct BitWriter {
    bits: Bits,
    sizes: SizeBreakdown,
}

impl BitWriter {
    /// An empty stream with room for about `capacity_bits`.
    pub fn with_capacity(capacity_bits: usize) -> Self {
        BitWriter { bits: Bits::with_capacity(capacity_bits), sizes: SizeBreakdown::default() }
    }

    /// Appends the low `width` bits of `value` (width 1..=64), LSB first.
    #[inline]
    pub fn push(&mut self, value: u64, width: u32, category: Category) {
        debug_assert!((1..=64).contains(&width));
        let p = self.bits.len();
        self.bits.resize(p + width as usize, false);
        self.bits[p..].store_le::<u64>(value);
        let counter = match category {
            Category::Payload => &mut self.sizes.payload_bits,
            Category::Metadata => &mut self.sizes.metadata_bits,
            Category::Padding => &mut self.sizes.padding_bits,
        };
        *counter += u64::from(width);
    }

    /// Appends a signed value as `width`-bit two's complement.
    #[inline]
    pub fn push_signed(&mut self, value: i32, width: u32, category: Category) {
        self.push(value as u32 as u64 & mask(width), width, category);
    }

    /// Current length in bits.
    pub fn len(&self) -> usize {
        self.bits.len()
    }

    /// True before anything was written.
    pub fn is_empty(&self) -> bool {
        self.bits.is_empty()
    }

    /// Zero-fills to a whole number of `bus_bits` words (counted as padding) and returns the
    /// stream with its size breakdown.
    pub fn finish(mut self, bus_bits: u32) -> (Bits, SizeBreakdown) {
        let b = bus_bits as usize;
        let padded = self.bits.len().div_ceil(b) * b;
        self.sizes.padding_bits += (padded - self.bits.len()) as u64;
        self.bits.resize(padded, false);
        (self.bits, self.sizes)
    }
}

/// Mask of the low `width` bits.
#[inline]
pub fn mask(width: u32) -> u64 {
    if width >= 64 {
        u64::MAX
    } else {
        (1u64 << width) - 1
    }
}

/// Sign-extends the low `width` bits of `raw`.
#[inline]
pub fn sign_extend(raw: u64, width: u32) -> i32 {
    let shift = 64 - width;
    ((raw << shift) as i64 >> shift) as i32
}

/// Reads fields in order from a bitstream; reports the position of a field that is not there.
#[derive(Debug)]
pub struct BitReader<'a> {
    bits: &'a BitSlice<u64, Lsb0>,
    pos: usize,
}

/// A field that runs past the end of the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutOfBits {
    /// Stream bit where the field starts.
    pub offset: u64,
    /// Width of the field.
    pub need: u32,
    /// Bits left from `offset` to the end.
    pub have: u64,
}

impl<'a> BitReader<'a> {
    /// A reader at stream bit 0.
    pub fn new(bits: &'a BitSlice<u64, Lsb0>) -> Self {
        BitReader { bits, pos: 0 }
    }

    /// Stream bit the next field starts at.
    pub fn position(&self) -> u64 {
        self.pos as u64
    }

    /// Bits left after the current position.
    pub fn remaining(&self) -> usize {
        self.bits.len() - self.pos
    }

    /// Reads an unsigned field of `width` bits (1..=64).
    #[inline]
    pub fn read(&mut self, width: u32) -> Result<u64, OutOfBits> {
        let w = width as usize;
        if self.remaining() < w {
            return Err(OutOfBits { offset: self.pos as u64, need: width, have: self.remaining() as u64 });
        }
        let v = self.bits[self.pos..self.pos + w].load_le::<u64>();
        self.pos += w;
        Ok(v)
    }

    /// Reads a `width`-bit two's complement field.
    #[inline]
    pub fn read_signed(&mut self, width: u32) -> Result<i32, OutOfBits> {
        self.read(width).map(|raw| sign_extend(raw, width))
    }

    /// The unread rest of the stream.
    pub fn rest(&self) -> &'a BitSlice<u64, Lsb0> {
        &self.bits[self.pos..]
    }
}

/// Splits a stream into `bus_bits`-wide words, each as little-endian bytes (B is a multiple of 8).
pub fn to_le_bytes(bits: &BitSlice<u64, Lsb0>) -> Vec<u8> {
    let mut out = Vec::with_capacity(bits.len().div_ceil(8));
    for chunk in bits.chunks(8) {
        out.push(chunk.load_le::<u8>());
    }
    out
}

/// The inverse of [`to_le_bytes`]: the stream a `.bin` file holds.
pub fn from_le_bytes(bytes: &[u8]) -> Bits {
    let mut bits = Bits::with_capacity(bytes.len() * 8);
    bits.extend_from_bitslice(bytes.view_bits::<Lsb0>());
    bits
}

/// One bus word as hex digits, most significant first (`$readmemh` order).
pub fn word_hex(word: &BitSlice<u64, Lsb0>) -> String {
    let digits = word.len().div_ceil(4);
    let mut s = String::with_capacity(digits);
    for d in (0..digits).rev() {
        let lo = d * 4;
        let hi = (lo + 4).min(word.len());
        let nibble = word[lo..hi].load_le::<u8>();
        s.push(char::from_digit(u32::from(nibble), 16).unwrap_or('0'));
    }
    s
}

/// One bus word as 32-bit little-endian limbs (limb 0 = word bits 0..32), the layout Verilator
/// uses for wide ports.
pub fn word_limbs(word: &BitSlice<u64, Lsb0>) -> Vec<u32> {
    word.chunks(32).map(|c| c.load_le::<u32>()).collect()
}
