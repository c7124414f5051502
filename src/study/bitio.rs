//! Fast LSB-first bit packing for the study's stages: a 64-bit accumulator writer and reader over
//! bytes, and packing of fixed-width symbol streams into bytes (stream bit p = byte p/8, bit p%8).

use super::StudyError;

/// Appends fields LSB-first into bytes.
#[derive(Debug, Default)]
pub struct BitWriter {
    out: Vec<u8>,
    acc: u64,
    fill: u32,
}

impl BitWriter {
    /// An empty writer with room for about `bytes`.
    pub fn with_capacity(bytes: usize) -> Self {
        BitWriter { out: Vec::with_capacity(bytes), acc: 0, fill: 0 }
    }

    /// Appends the low `width` bits of `value` (width 0..=32).
    #[inline]
    pub fn put(&mut self, value: u64, width: u32) {
        debug_assert!(width <= 32);
        if width == 0 {
            return;
        }
        self.acc |= (value & ((1u64 << width) - 1)) << self.fill;
        self.fill += width;
        while self.fill >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.fill -= 8;
        }
    }

    /// Appends up to 64 bits.
    pub fn put_wide(&mut self, value: u64, width: u32) {
        if width > 32 {
            self.put(value & 0xffff_ffff, 32);
            self.put(value >> 32, width - 32);
        } else {
            self.put(value, width);
        }
    }

    /// Appends `n` one bits.
    pub fn put_ones(&mut self, mut n: u64) {
        while n >= 32 {
            self.put(0xffff_ffff, 32);
            n -= 32;
        }
        self.put((1u64 << n) - 1, n as u32);
    }

    /// Bits written so far.
    pub fn bit_len(&self) -> u64 {
        self.out.len() as u64 * 8 + u64::from(self.fill)
    }

    /// The bytes, the last one zero-filled.
    pub fn finish(mut self) -> Vec<u8> {
        if self.fill > 0 {
            self.out.push(self.acc as u8);
        }
        self.out
    }
}

/// Reads fields LSB-first from bytes; reading past the end is an error (peeking pads zeros).
#[derive(Debug)]
pub struct BitReader<'a> {
    data: &'a [u8],
    next: usize,
    acc: u64,
    fill: u32,
    /// Bits consumed.
    pos: u64,
}

impl<'a> BitReader<'a> {
    /// A reader at bit 0.
    pub fn new(data: &'a [u8]) -> Self {
        BitReader { data, next: 0, acc: 0, fill: 0, pos: 0 }
    }

    #[inline]
    fn refill(&mut self) {
        while self.fill <= 56 {
            let byte = self.data.get(self.next).copied().unwrap_or(0);
            self.next += 1;
            self.acc |= u64::from(byte) << self.fill;
            self.fill += 8;
        }
    }

    /// Bits consumed so far.
    pub fn bit_pos(&self) -> u64 {
        self.pos
    }

    /// Bits left in the data.
    pub fn remaining(&self) -> u64 {
        (self.data.len() as u64 * 8).saturating_sub(self.pos)
    }

    /// The next `width` bits (0..=32) without consuming them, zeros past the end.
    #[inline]
    pub fn peek(&mut self, width: u32) -> u64 {
        if self.fill < width {
            self.refill();
        }
        self.acc & ((1u64 << width) - 1)
    }

    /// Consumes `width` bits already peeked.
    #[inline]
    pub fn consume(&mut self, width: u32) -> Result<(), StudyError> {
        if u64::from(width) > self.remaining() {
            return Err(StudyError::corrupt("bitstream truncated"));
        }
        if self.fill < width {
            self.refill();
        }
        self.acc >>= width;
        self.fill -= width;
        self.pos += u64::from(width);
        Ok(())
    }

    /// Reads `width` bits (0..=32).
    #[inline]
    pub fn get(&mut self, width: u32) -> Result<u64, StudyError> {
        let v = self.peek(width);
        self.consume(width)?;
        Ok(v)
    }

    /// Reads up to 64 bits.
    pub fn get_wide(&mut self, width: u32) -> Result<u64, StudyError> {
        if width > 32 {
            let lo = self.get(32)?;
            let hi = self.get(width - 32)?;
            Ok(lo | hi << 32)
        } else {
            self.get(width)
        }
    }

    /// Counts and consumes one bits up to the first zero (consumed too).
    pub fn get_unary(&mut self) -> Result<u64, StudyError> {
        let mut n = 0u64;
        loop {
            let w = self.peek(32);
            let ones = (!w as u32).trailing_zeros();
            if ones < 32 {
                self.consume(ones + 1)?;
                return Ok(n + u64::from(ones));
            }
            self.consume(32)?;
            n += 32;
        }
    }
}

/// Packs `width`-bit symbols LSB-first into bytes.
pub fn pack(symbols: &[u32], width: u32) -> Vec<u8> {
    let mut w = BitWriter::with_capacity((symbols.len() * width as usize).div_ceil(8));
    for &s in symbols {
        w.put(u64::from(s), width);
    }
    w.finish()
}

/// Unpacks `count` `width`-bit symbols.
pub fn unpack(bytes: &[u8], width: u32, count: usize) -> Result<Vec<u32>, StudyError> {
    if (count as u64) * u64::from(width) > bytes.len() as u64 * 8 {
        return Err(StudyError::corrupt("packed stream shorter than its symbol count"));
    }
    let mut r = BitReader::new(bytes);
    (0..count).map(|_| r.get(width).map(|v| v as u32)).collect()
}
