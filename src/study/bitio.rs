//! The study's LSB-first bit I/O over bytes (stream bit p = byte p/8, bit p%8): thin layers over
//! the crate's one packer and reader ([`crate::bits::Packer`], [`crate::bits::Unpacker`]) with
//! the study's error type, and packing of fixed-width symbol streams into bytes.

use super::StudyError;
use crate::bits::{Packer, Unpacker};

/// Appends fields LSB-first into bytes.
#[derive(Debug, Default)]
pub struct BitWriter {
    packer: Packer,
}

impl BitWriter {
    /// An empty writer with room for about `bytes`.
    pub fn with_capacity(bytes: usize) -> Self {
        BitWriter { packer: Packer::with_capacity(bytes * 8) }
    }

    /// Appends the low `width` bits of `value` (width 0..=32).
    #[inline]
    pub fn put(&mut self, value: u64, width: u32) {
        debug_assert!(width <= 32);
        self.packer.put(value, width);
    }

    /// Appends up to 64 bits.
    #[inline]
    pub fn put_wide(&mut self, value: u64, width: u32) {
        self.packer.put(value, width);
    }

    /// Appends `n` one bits.
    pub fn put_ones(&mut self, mut n: u64) {
        while n >= 64 {
            self.packer.put_clean(u64::MAX, 64);
            n -= 64;
        }
        self.packer.put(u64::MAX, n as u32);
    }

    /// Bits written so far.
    pub fn bit_len(&self) -> u64 {
        self.packer.len() as u64
    }

    /// The bytes, the last one zero-filled.
    pub fn finish(self) -> Vec<u8> {
        self.packer.into_bytes()
    }
}

/// Reads fields LSB-first from bytes; reading past the end is an error (peeking pads zeros).
#[derive(Debug)]
pub struct BitReader<'a> {
    words: Unpacker<'a>,
}

impl<'a> BitReader<'a> {
    /// A reader at bit 0.
    pub fn new(data: &'a [u8]) -> Self {
        BitReader { words: Unpacker::from_bytes(data) }
    }

    /// Bits consumed so far.
    pub fn bit_pos(&self) -> u64 {
        self.words.position() as u64
    }

    /// Bits left in the data.
    pub fn remaining(&self) -> u64 {
        self.words.remaining() as u64
    }

    /// The next `width` bits (0..=32) without consuming them, zeros past the end.
    #[inline]
    pub fn peek(&mut self, width: u32) -> u64 {
        debug_assert!(width <= 32);
        self.words.peek(width)
    }

    /// Consumes `width` bits already peeked.
    #[inline]
    pub fn consume(&mut self, width: u32) -> Result<(), StudyError> {
        if width as usize > self.words.remaining() {
            return Err(StudyError::corrupt("bitstream truncated"));
        }
        self.words.skip(width);
        Ok(())
    }

    /// Reads `width` bits (0..=32).
    #[inline]
    pub fn get(&mut self, width: u32) -> Result<u64, StudyError> {
        let v = self.peek(width);
        self.consume(width)?;
        Ok(v)
    }

    /// Reads up to 64 bits (as two reads when over 32: a failed high half leaves the low half
    /// consumed).
    #[inline]
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
            // 32 at a time: where a failed read leaves the position is part of the behaviour.
            let ones = (!self.words.peek(32) as u32).trailing_zeros();
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
    let mut w = Packer::with_capacity(symbols.len() * width as usize);
    for &s in symbols {
        w.put(u64::from(s), width);
    }
    w.into_bytes()
}

/// Unpacks `count` `width`-bit symbols.
pub fn unpack(bytes: &[u8], width: u32, count: usize) -> Result<Vec<u32>, StudyError> {
    if (count as u64) * u64::from(width) > bytes.len() as u64 * 8 {
        return Err(StudyError::corrupt("packed stream shorter than its symbol count"));
    }
    let mut r = Unpacker::from_bytes(bytes);
    Ok((0..count).map(|_| r.take(width) as u32).collect())
}
