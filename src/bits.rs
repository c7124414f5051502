//! The LSB-first bitstream every format writes into and reads from, with size accounting.
//!
//! A field of width w written at stream position p occupies stream bits p..p+w-1, field bit 0 at
//! p. Bus word j holds stream bits [j*B, (j+1)*B); word bit i is stream bit j*B + i.
//!
//! [`Packer`] and [`Unpacker`] are the one packer and reader of the crate (word at a time, no
//! per-bit loops); [`BitWriter`] adds size accounting, [`BitReader`] typed out-of-bits errors.

use std::borrow::Cow;

use bitvec::domain::Domain;
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

/// The crate's one LSB-first bit packer: fields go into a 64-bit accumulator that is stored a
/// whole word at a time. Stream bit p is bit p % 64 of word p / 64. The formats' [`BitWriter`]
/// and the study's `study::bitio` writer are thin layers over it.
#[derive(Debug, Default, Clone)]
pub struct Packer {
    /// Words `..used` are the stream's; the rest is zeroed room for [`Packer::with_room`].
    words: Vec<u64>,
    used: usize,
    acc: u64,
    fill: u32,
}

impl Packer {
    /// An empty stream with room for about `capacity_bits`.
    pub fn with_capacity(capacity_bits: usize) -> Self {
        Packer { words: Vec::with_capacity(capacity_bits / 64 + 1), used: 0, acc: 0, fill: 0 }
    }

    /// Appends the low `width` bits of `value` (width 0..=64); higher bits are ignored.
    #[inline]
    pub fn put(&mut self, value: u64, width: u32) {
        self.put_clean(value & mask(width), width);
    }

    /// Appends `value` as a `width`-bit field (width 0..=64); `value` must have no bit set at or
    /// above `width` (the hot paths mask once for many fields).
    #[inline(always)]
    pub fn put_clean(&mut self, value: u64, width: u32) {
        debug_assert!(width <= 64 && value & !mask(width) == 0, "field {value:#x} wider than {width}");
        self.acc |= value << self.fill;
        let fill = self.fill + width;
        if fill >= 64 {
            if self.used == self.words.len() {
                self.words.push(self.acc);
            } else {
                self.words[self.used] = self.acc;
            }
            self.used += 1;
            // The value's bits that did not fit; none when the word was empty (width 64).
            self.acc = value.checked_shr(64 - self.fill).unwrap_or(0);
            self.fill = fill - 64;
        } else {
            self.fill = fill;
        }
    }

    /// Runs `f` with a [`Cursor`] that appends up to `max_bits` bits to this stream. The cursor
    /// keeps the accumulator in registers and stores into memory reserved up front, so a hot loop
    /// has no reallocation and no aliased state; its stores stay bounds checked (writing more
    /// than `max_bits` panics).
    #[inline]
    pub fn with_room<R>(&mut self, max_bits: usize, f: impl FnOnce(&mut Cursor<'_>) -> R) -> R {
        let start = self.used;
        // One word more than the fields fill: the cursor stores one word past the last full one.
        // Room grows geometrically, so each word is zeroed about once.
        let need = start + max_bits / 64 + 2;
        if self.words.len() < need {
            self.words.resize(need.max(2 * self.words.len()), 0);
        }
        let mut c = Cursor { words: &mut self.words[start..], stored: 0, acc: self.acc, fill: self.fill };
        let r = f(&mut c);
        let (stored, acc, fill) = (c.stored, c.acc, c.fill);
        self.used = start + stored;
        self.acc = acc;
        self.fill = fill;
        r
    }

    /// Current length in bits.
    #[inline]
    pub fn len(&self) -> usize {
        self.used * 64 + self.fill as usize
    }

    /// True before anything was written.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The words (the last one zero-filled) and the length in bits.
    pub fn into_words(mut self) -> (Vec<u64>, usize) {
        let len = self.len();
        self.words.truncate(self.used);
        if self.fill > 0 {
            self.words.push(self.acc);
        }
        (self.words, len)
    }

    /// The stream as bytes, LSB-first (stream bit p = bit p % 8 of byte p / 8), the last byte
    /// zero-filled.
    pub fn into_bytes(self) -> Vec<u8> {
        let (words, len) = self.into_words();
        let mut out = Vec::with_capacity(words.len() * 8);
        for w in &words {
            out.extend_from_slice(&w.to_le_bytes());
        }
        out.truncate(len.div_ceil(8));
        out
    }

    /// The stream zero-filled to `len` bits (at least its length) as [`Bits`].
    pub fn into_bits(self, len: usize) -> Bits {
        debug_assert!(len >= self.len());
        let (mut words, _) = self.into_words();
        words.resize(len.div_ceil(64), 0);
        let mut bits = Bits::from_vec(words);
        bits.truncate(len);
        bits
    }
}

/// A [`Packer`] opened for a hot loop by [`Packer::with_room`].
#[derive(Debug)]
pub struct Cursor<'a> {
    words: &'a mut [u64],
    stored: usize,
    acc: u64,
    fill: u32,
}

impl Cursor<'_> {
    /// Appends `value` as a `width`-bit field (width 0..=64); `value` must have no bit set at or
    /// above `width`. Branch-free: the accumulator is stored every time and the store is kept
    /// only when the word is full.
    #[inline(always)]
    pub fn put_clean(&mut self, value: u64, width: u32) {
        debug_assert!(width <= 64 && value & !mask(width) == 0, "field {value:#x} wider than {width}");
        let joined = u128::from(self.acc) | u128::from(value) << self.fill;
        let fill = self.fill + width;
        self.words[self.stored] = joined as u64;
        // `fill` < 128: bit 6 says whether a word is complete.
        self.stored += (fill >> 6) as usize;
        self.acc = (joined >> (fill & 64)) as u64;
        self.fill = fill & 63;
    }

    /// The current bit position, counted from bit 0 of the word the cursor was opened in.
    #[inline]
    pub fn position(&self) -> usize {
        self.stored * 64 + self.fill as usize
    }

    /// ORs `value` (no bit at or above `width`, width 0..=64) into the already appended bits at
    /// [`Cursor::position`] `at`: fills in a field written as zeros before its value was known.
    #[inline]
    pub fn or_at(&mut self, at: usize, value: u64, width: u32) {
        debug_assert!(at + width as usize <= self.position() && value & !mask(width) == 0);
        let (i, o) = (at / 64, (at % 64) as u32);
        self.or_word(i, value << o);
        if o + width > 64 {
            self.or_word(i + 1, value >> (64 - o));
        }
    }

    #[inline]
    fn or_word(&mut self, i: usize, bits: u64) {
        if i < self.stored {
            self.words[i] |= bits;
        } else {
            self.acc |= bits;
        }
    }
}

/// Appends fields to a bitstream and counts their bits by category.
#[derive(Debug, Default)]
pub struct BitWriter {
    packer: Packer,
    sizes: SizeBreakdown,
}

impl BitWriter {
    /// An empty stream with room for about `capacity_bits`.
    pub fn with_capacity(capacity_bits: usize) -> Self {
        BitWriter { packer: Packer::with_capacity(capacity_bits), sizes: SizeBreakdown::default() }
    }

    /// Appends the low `width` bits of `value` (width 1..=64), LSB first.
    #[inline]
    pub fn push(&mut self, value: u64, width: u32, category: Category) {
        debug_assert!((1..=64).contains(&width));
        self.packer.put(value, width);
        self.count(category, u64::from(width));
    }

    /// Appends a signed value as `width`-bit two's complement.
    #[inline]
    pub fn push_signed(&mut self, value: i32, width: u32, category: Category) {
        self.push(value as u32 as u64 & mask(width), width, category);
    }

    /// The packer, for fields whose bits the caller counts itself with [`BitWriter::count`].
    #[inline]
    pub fn packer(&mut self) -> &mut Packer {
        &mut self.packer
    }

    /// Adds `bits` to a category's count.
    #[inline]
    pub fn count(&mut self, category: Category, bits: u64) {
        let counter = match category {
            Category::Payload => &mut self.sizes.payload_bits,
            Category::Metadata => &mut self.sizes.metadata_bits,
            Category::Padding => &mut self.sizes.padding_bits,
        };
        *counter += bits;
    }

    /// Current length in bits.
    pub fn len(&self) -> usize {
        self.packer.len()
    }

    /// True before anything was written.
    pub fn is_empty(&self) -> bool {
        self.packer.is_empty()
    }

    /// Zero-fills to a whole number of `bus_bits` words (counted as padding) and returns the
    /// stream with its size breakdown.
    pub fn finish(mut self, bus_bits: u32) -> (Bits, SizeBreakdown) {
        let b = bus_bits as usize;
        let len = self.packer.len();
        let padded = len.div_ceil(b) * b;
        self.sizes.padding_bits += (padded - len) as u64;
        (self.packer.into_bits(padded), self.sizes)
    }
}

/// Mask of the low `width` bits.
#[inline(always)]
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

/// The crate's one LSB-first bit reader: fields at any bit position, read with whole-word loads
/// (no per-bit loop). Reading past the end is the caller's to check ([`Unpacker::remaining`]);
/// [`Unpacker::peek`] sees zeros there. The formats' [`BitReader`] and the study's
/// `study::bitio` reader are thin layers over it.
#[derive(Debug, Clone)]
pub struct Unpacker<'a> {
    /// Whole words of the stream.
    body: Cow<'a, [u64]>,
    /// Stream bits `body.len() * 64 .. len`, higher bits zero.
    tail: u64,
    len: usize,
    pos: usize,
}

impl<'a> Unpacker<'a> {
    /// A reader at bit 0 of `bits`; borrows its words when it starts on a word boundary.
    pub fn from_bits(bits: &'a BitSlice<u64, Lsb0>) -> Self {
        let len = bits.len();
        match bits.domain() {
            Domain::Region { head: None, body, tail } => {
                Unpacker { body: Cow::Borrowed(body), tail: tail.map_or(0, |t| t.load_value()), len, pos: 0 }
            }
            Domain::Enclave(e) if e.head().into_inner() == 0 => {
                Unpacker { body: Cow::Borrowed(&[]), tail: e.load_value(), len, pos: 0 }
            }
            // A view that starts inside a word: copy it to whole words once.
            _ => {
                let mut words: Vec<u64> = bits.chunks(64).map(|c| c.load_le::<u64>()).collect();
                let tail = if len % 64 != 0 { words.pop().unwrap_or(0) } else { 0 };
                Unpacker { body: Cow::Owned(words), tail, len, pos: 0 }
            }
        }
    }

    /// A reader at bit 0 of bytes packed LSB-first (stream bit p = bit p % 8 of byte p / 8).
    pub fn from_bytes(bytes: &[u8]) -> Unpacker<'static> {
        let chunks = bytes.chunks_exact(8);
        let rest = chunks.remainder();
        let body: Vec<u64> = chunks.map(|c| u64::from_le_bytes(c.try_into().unwrap_or([0; 8]))).collect();
        let tail = rest.iter().rev().fold(0u64, |t, &b| t << 8 | u64::from(b));
        Unpacker { body: Cow::Owned(body), tail, len: bytes.len() * 8, pos: 0 }
    }

    #[inline(always)]
    fn word(&self, i: usize) -> u64 {
        match self.body.get(i) {
            Some(&w) => w,
            None if i == self.body.len() => self.tail,
            None => 0,
        }
    }

    /// Stream bit the next field starts at.
    #[inline]
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Length of the stream in bits.
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// True for an empty stream.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bits left after the current position.
    #[inline]
    pub fn remaining(&self) -> usize {
        self.len - self.pos
    }

    /// The `width` bits (0..=64) at the current position without consuming them; zeros past the
    /// end.
    #[inline(always)]
    pub fn peek(&self, width: u32) -> u64 {
        let i = self.pos / 64;
        let o = (self.pos % 64) as u32;
        // `<< 1 << (63 - o)` is `<< (64 - o)`, and 0 for o = 0.
        let v = self.word(i) >> o | self.word(i + 1) << 1 << (63 - o);
        v & mask(width)
    }

    /// Moves the position `width` bits on; the caller has checked they are there.
    #[inline(always)]
    pub fn skip(&mut self, width: u32) {
        debug_assert!(width as usize <= self.remaining());
        self.pos += width as usize;
    }

    /// Reads `width` bits (0..=64) the caller has checked are there.
    #[inline(always)]
    pub fn take(&mut self, width: u32) -> u64 {
        let v = self.peek(width);
        self.skip(width);
        v
    }

    /// Runs `f` with a [`Window`] that reads up to `max_bits` bits from the current position, and
    /// moves on by what it read; `None` (nothing read) unless those bits and one word more lie in
    /// the stream's whole words. The window keeps the position in a register and reads words
    /// with no end-of-stream case, so a hot loop has no per-field check and no store of the
    /// position; reading more than `max_bits` stays memory safe (bounds checked) but is a bug.
    #[inline]
    pub fn with_window<R>(&mut self, max_bits: usize, f: impl FnOnce(&mut Window<'_>) -> R) -> Option<R> {
        if self.pos + max_bits + 64 > self.body.len() * 64 {
            return None;
        }
        let mut w = Window { words: &self.body, pos: self.pos };
        let r = f(&mut w);
        debug_assert!(w.pos <= self.pos + max_bits, "window read past its {max_bits} bits");
        self.pos = w.pos;
        Some(r)
    }
}

/// Reads fields from whole words, opened by [`Unpacker::with_window`].
#[derive(Debug)]
pub struct Window<'a> {
    words: &'a [u64],
    pos: usize,
}

impl Window<'_> {
    /// Reads `width` bits (1..=64).
    #[inline(always)]
    pub fn take(&mut self, width: u32) -> u64 {
        let v = self.peek64();
        self.pos += width as usize;
        v & mask(width)
    }

    /// The next 64 bits, without moving on (at a position before the window's end); those past
    /// the fields the caller then takes are whatever follows in the stream.
    #[inline(always)]
    pub fn peek64(&self) -> u64 {
        let i = self.pos / 64;
        let o = (self.pos % 64) as u32;
        // As in `Unpacker::peek`: `<< 1 << (63 - o)` is `<< (64 - o)`, and 0 for o = 0.
        self.words[i] >> o | self.words[i + 1] << 1 << (63 - o)
    }

    /// Moves on by `width` bits.
    #[inline(always)]
    pub fn skip(&mut self, width: u32) {
        self.pos += width as usize;
    }

    /// Stream bit the next field starts at.
    #[inline(always)]
    pub fn position(&self) -> usize {
        self.pos
    }
}

/// Reads fields in order from a bitstream; reports the position of a field that is not there.
#[derive(Debug)]
pub struct BitReader<'a> {
    bits: &'a BitSlice<u64, Lsb0>,
    words: Unpacker<'a>,
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
        BitReader { bits, words: Unpacker::from_bits(bits) }
    }

    /// Stream bit the next field starts at.
    #[inline]
    pub fn position(&self) -> u64 {
        self.words.position() as u64
    }

    /// Bits left after the current position.
    #[inline]
    pub fn remaining(&self) -> usize {
        self.words.remaining()
    }

    /// Reads an unsigned field of `width` bits (1..=64).
    #[inline]
    pub fn read(&mut self, width: u32) -> Result<u64, OutOfBits> {
        if self.remaining() < width as usize {
            return Err(OutOfBits { offset: self.position(), need: width, have: self.remaining() as u64 });
        }
        Ok(self.words.take(width))
    }

    /// Reads a `width`-bit two's complement field.
    #[inline]
    pub fn read_signed(&mut self, width: u32) -> Result<i32, OutOfBits> {
        self.read(width).map(|raw| sign_extend(raw, width))
    }

    /// The word reader, for runs of fields whose room the caller has checked with
    /// [`BitReader::remaining`].
    #[inline]
    pub fn unpacker(&mut self) -> &mut Unpacker<'a> {
        &mut self.words
    }

    /// The unread rest of the stream.
    pub fn rest(&self) -> &'a BitSlice<u64, Lsb0> {
        &self.bits[self.words.position()..]
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
