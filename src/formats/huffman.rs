//! `bitmap-huffman` and `delta-bitmap-huffman`: the bitmap format (of W, or of its delta along k)
//! with every nonzero value as a canonical, length-limited Huffman code. A layer's stream opens
//! with its code: the longest length, the number of codes of each length, and the symbols in
//! canonical order. Lengths come from [`crate::canonical::code_lengths`], the coder the study's
//! `huffman` stage uses, so both spend the same bits on the same values.

use super::{decode_columns, for_each_column, DecodeErrorKind, EncodeError, Failure, StreamParams, ValueRange};
use crate::bits::{mask, BitReader, BitWriter, Bits, Category, SizeBreakdown};
use crate::canonical::{canonical, code_lengths, reverse_bits};
use crate::matrix::QuantMatrix;

/// H: the longest code the encoder writes and a decoder accepts (the RTL decoder's parameter H).
pub const MAX_CODE_LEN: u32 = 12;

/// Bits of the header's longest-length field.
pub const LMAX_BITS: u32 = 5;

/// A layer's code: per length 1..=lmax the number of codes, and the symbols (Q-bit patterns) in
/// canonical order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeTable {
    /// Longest code length (0: no codes).
    pub lmax: u32,
    /// `counts[l - 1]`: codes of length l.
    pub counts: Vec<u64>,
    /// Symbols in canonical order, as Q-bit patterns.
    pub symbols: Vec<u32>,
}

impl CodeTable {
    /// The length-limited Huffman code of the nonzero values' histogram (`hist[pattern]`, the
    /// zero pattern ignored).
    pub fn from_histogram(hist: &[u64], max_len: u32) -> Result<CodeTable, crate::canonical::TooManySymbols> {
        let present: Vec<(u32, u64)> =
            hist.iter().enumerate().skip(1).filter(|&(_, &n)| n > 0).map(|(s, &n)| (s as u32, n)).collect();
        let counts: Vec<u64> = present.iter().map(|&(_, n)| n).collect();
        let lengths = code_lengths(&counts, max_len)?;
        let pairs: Vec<(u32, u32)> = present.iter().zip(&lengths).map(|(&(s, _), &l)| (s, l)).collect();
        let codes = canonical(&pairs);
        let lmax = codes.last().map_or(0, |c| c.1);
        let mut per_len = vec![0u64; lmax as usize];
        for &(_, l, _) in &codes {
            per_len[l as usize - 1] += 1;
        }
        Ok(CodeTable { lmax, counts: per_len, symbols: codes.iter().map(|c| c.0).collect() })
    }

    /// Header bits: the longest length, a Q-bit count per length, a Q-bit symbol each.
    pub fn header_bits(&self, q: u32) -> u64 {
        u64::from(LMAX_BITS) + u64::from(q) * (u64::from(self.lmax) + self.symbols.len() as u64)
    }

    /// Per Q-bit pattern: its code as a stream field (most significant code bit first) and the
    /// code's length; (0, 0) for a pattern without a code.
    pub fn fields(&self, q: u32) -> Vec<(u64, u32)> {
        let mut lut = vec![(0u64, 0u32); 1 << q];
        for (s, l, code) in self.codes() {
            lut[s as usize] = (reverse_bits(code, l), l);
        }
        lut
    }

    /// Every lmax-bit stream field (first bit in bit 0) to (value, code length): the code it
    /// begins with; length 0 where no code begins so.
    pub fn decode_lut(&self, q: u32) -> Vec<(i32, u32)> {
        let mut lut = vec![(0i32, 0u32); 1 << self.lmax];
        for (s, l, code) in self.codes() {
            let value = crate::bits::sign_extend(u64::from(s), q);
            let field = reverse_bits(code, l) as usize;
            for rest in 0..1usize << (self.lmax - l) {
                lut[field | rest << l] = (value, l);
            }
        }
        lut
    }

    /// `(symbol, length, code)` in canonical order, codes MSB-first.
    pub fn codes(&self) -> Vec<(u32, u32, u64)> {
        let mut out = Vec::with_capacity(self.symbols.len());
        let mut it = self.symbols.iter();
        let mut code = 0u64;
        for (i, &n) in self.counts.iter().enumerate() {
            for _ in 0..n {
                if let Some(&s) = it.next() {
                    out.push((s, i as u32 + 1, code));
                }
                code += 1;
            }
            code <<= 1;
        }
        out
    }
}

/// The histogram of a layer's Q-bit patterns (of W, or of its delta along k when `delta`),
/// zero included, and the range of W's values. Order does not matter to a histogram: it reads
/// W row by row as stored (the delta runs along a row), into four interleaved counts so that
/// runs of one pattern (zeros, mostly) do not wait on each other's increments.
pub(crate) fn histogram(w: &QuantMatrix, q: u32, delta: bool) -> (Vec<u64>, ValueRange) {
    if delta {
        histogram_rows::<true>(w, q)
    } else {
        histogram_rows::<false>(w, q)
    }
}

fn histogram_rows<const DELTA: bool>(w: &QuantMatrix, q: u32) -> (Vec<u64>, ValueRange) {
    const WAYS: usize = 4;
    let m = mask(q) as usize;
    let size = 1usize << q;
    let mut counts: [Vec<u32>; WAYS] = std::array::from_fn(|_| vec![0u32; size]);
    let mut hist = vec![0u64; size];
    let mut magnitudes = 0u32;
    // u32 counts: flushed into `hist` before any of them can overflow.
    let rows_per_flush = (u32::MAX as usize / w.cols.max(1)).max(1);
    for rows in w.data.chunks(w.cols.max(1) * rows_per_flush) {
        for row in rows.chunks(w.cols.max(1)) {
            let mut prev = 0i32;
            let mut quads = row.chunks_exact(WAYS);
            for quad in &mut quads {
                for (count, &v) in counts.iter_mut().zip(quad) {
                    magnitudes |= (v ^ (v >> 31)) as u32;
                    let x = if DELTA { v.wrapping_sub(prev) } else { v };
                    prev = v;
                    count[x as usize & m] += 1;
                }
            }
            for &v in quads.remainder() {
                magnitudes |= (v ^ (v >> 31)) as u32;
                let x = if DELTA { v.wrapping_sub(prev) } else { v };
                prev = v;
                counts[0][x as usize & m] += 1;
            }
        }
        for count in &mut counts {
            for (h, c) in hist.iter_mut().zip(count.iter_mut()) {
                *h += u64::from(*c);
                *c = 0;
            }
        }
    }
    (hist, ValueRange { magnitudes })
}

/// What the RTL decoder's loop spends on a layer (one row block) with `units` decode units and
/// `code_bits` window bits for codes after a beat's mask (the window is N + code_bits): the
/// header's fields, one per cycle (lmax, a count per length, the symbols), and per beat the
/// cycles of its greedy walk: a cycle takes the mask (first cycle only) and then codes in lane
/// order while fewer than `units` are taken and the next one ends within the window; at least
/// one cycle per beat. Returns (header fields, beat cycles).
pub fn loop_cycles(w: &QuantMatrix, p: &StreamParams, delta: bool, units: usize, code_bits: usize) -> (u64, u64) {
    let m = mask(p.weight_bits);
    let (hist, _) = histogram(w, p.weight_bits, delta);
    let Ok(table) = CodeTable::from_histogram(&hist, MAX_CODE_LEN) else {
        return (0, 0);
    };
    let fields = 1 + u64::from(table.lmax) + table.symbols.len() as u64;
    let lut = table.fields(p.weight_bits);
    let window = p.lanes + code_bits;
    let mut cycles = 0u64;
    for_each_column(w, delta, |_, column| {
        for beat in column.chunks(p.lanes) {
            let (mut n, mut used) = (0usize, beat.len());
            cycles += 1;
            for &v in beat.iter().filter(|&&v| v != 0) {
                let l = lut[(v as u64 & m) as usize].1 as usize;
                if n == units || used + l > window {
                    cycles += 1;
                    (n, used) = (0, 0);
                }
                n += 1;
                used += l;
            }
        }
        Ok::<(), std::convert::Infallible>(())
    })
    .unwrap_or_else(|e| match e {});
    (fields, cycles)
}

pub(crate) fn encode(
    w: &QuantMatrix,
    p: &StreamParams,
    delta: bool,
) -> Result<(Bits, SizeBreakdown, ValueRange), EncodeError> {
    let q = p.weight_bits;
    let m = mask(q);
    // Pass 1: the nonzero values' histogram (values out of range are reported by the caller,
    // from the range this pass returns, before the code is looked at).
    let (hist, range) = histogram(w, q, delta);
    if !range.fits(q) {
        return Ok((Bits::new(), SizeBreakdown::default(), range));
    }
    let table = CodeTable::from_histogram(&hist, MAX_CODE_LEN)
        .map_err(|e| EncodeError::TooManySymbols { symbols: e.symbols, max_len: e.max_len })?;
    // Per pattern: the code as a stream field (MSB first) and its length.
    let lut = table.fields(q);
    let beats = p.beats(w.rows, w.cols);
    let mut out = BitWriter::with_capacity(w.len() * (MAX_CODE_LEN as usize + 1) + beats + p.bus_bits as usize);
    out.push(u64::from(table.lmax), LMAX_BITS, Category::Metadata);
    for &n in &table.counts {
        out.push(n, q, Category::Metadata);
    }
    for &s in &table.symbols {
        out.push(u64::from(s), q, Category::Metadata);
    }
    let header = out.len() as u64;
    let lanes = p.lanes;
    let mut code_bits = 0u64;
    for_each_column(w, delta, |_, column| {
        out.packer().with_room(column.len() * (MAX_CODE_LEN as usize + 1), |c| {
            for beat in column.chunks(lanes) {
                for chunk in beat.chunks(64) {
                    c.put_clean(super::bitmap::nonzero_mask(chunk), chunk.len() as u32);
                }
                for &v in beat.iter().filter(|&&v| v != 0) {
                    let (code, len) = lut[(v as u64 & m) as usize];
                    c.put_clean(code, len);
                    code_bits += u64::from(len);
                }
            }
        });
        Ok::<(), std::convert::Infallible>(())
    })
    .unwrap_or_else(|e| match e {});
    // The header is counted already; a mask bit per element; the codes are the payload.
    out.count(Category::Metadata, w.len() as u64);
    out.count(Category::Payload, code_bits);
    debug_assert_eq!(out.len() as u64, header + w.len() as u64 + code_bits);
    let (bits, sizes) = out.finish(p.bus_bits);
    Ok((bits, sizes, range))
}

/// Reads and checks a layer's code table.
pub fn read_table(r: &mut BitReader<'_>, q: u32) -> Result<CodeTable, Failure> {
    let at = r.position();
    let lmax = r.read(LMAX_BITS)? as u32;
    if lmax > MAX_CODE_LEN {
        return Err((at, DecodeErrorKind::CodeTooLong { len: lmax, limit: MAX_CODE_LEN }));
    }
    let mut counts = Vec::with_capacity(lmax as usize);
    // The first code of length l, and the codes up to l (both < 2^(l+1) while the code is not
    // over-subscribed).
    let (mut first, mut total) = (0u64, 0u64);
    for l in 1..=lmax {
        let at = r.position();
        let n = r.read(q)?;
        let limit = first + n;
        if limit > 1u64 << l {
            return Err((at, DecodeErrorKind::CodeOversubscribed { len: l }));
        }
        total += n;
        if total > 1u64 << q {
            return Err((at, DecodeErrorKind::TooManyCodes { codes: total, limit: 1u64 << q }));
        }
        counts.push(n);
        if l == lmax && limit != 1u64 << l && !(lmax == 1 && n == 1) {
            return Err((at, DecodeErrorKind::CodeIncomplete));
        }
        first = limit << 1;
    }
    let mut symbols = Vec::with_capacity(total as usize);
    for _ in 0..total {
        symbols.push(r.read(q)? as u32);
    }
    Ok(CodeTable { lmax, counts, symbols })
}

pub(crate) fn decode(
    r: &mut BitReader<'_>,
    rows: usize,
    cols: usize,
    p: &StreamParams,
    undelta: bool,
) -> Result<QuantMatrix, Failure> {
    let (q, n) = (p.weight_bits, p.lanes);
    let table = read_table(r, q)?;
    let lmax = table.lmax;
    let lut = table.decode_lut(q);
    let mut masks = vec![0u64; n.div_ceil(64)];
    decode_columns(rows, cols, q, undelta, |_, column| {
        for lanes in column.chunks_mut(n) {
            let masks = &mut masks[..lanes.len().div_ceil(64)];
            for (chunk, m) in masks.iter_mut().enumerate() {
                let width = (lanes.len() - chunk * 64).min(64) as u32;
                *m = r.read(width)?;
            }
            for (l, v) in lanes.iter_mut().enumerate() {
                *v = if masks[l / 64] >> (l % 64) & 1 == 1 { read_code(r, &lut, lmax)? } else { 0 };
            }
        }
        Ok(())
    })
}

/// Reads one code (most significant bit first) as a sequential reader would, bit by bit: the
/// stream ending before a code is complete is truncation; lmax bits that begin no code are an
/// invalid code.
#[inline]
fn read_code(r: &mut BitReader<'_>, lut: &[(i32, u32)], lmax: u32) -> Result<i32, Failure> {
    let at = r.position();
    let have = r.remaining() as u64;
    let (value, len) = lut[r.unpacker().peek(lmax) as usize];
    if len == 0 && have >= u64::from(lmax) {
        return Err((at, DecodeErrorKind::InvalidCode));
    }
    let need = if len == 0 { lmax } else { len };
    if have < u64::from(need) {
        return Err((at, DecodeErrorKind::Truncated { need, have }));
    }
    r.unpacker().skip(len);
    Ok(value)
}
