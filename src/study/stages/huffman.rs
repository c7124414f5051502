//! `huffman[:L]`: canonical Huffman per stream, each with its own table (as Deep Compression
//! codes weights and indices separately), optionally limited to code lengths <= L (hardware
//! decoders need bounded lengths; where the limit binds, the optimal limited code by
//! package-merge, [`crate::canonical::code_lengths`]). The table is in the output and counted: either a length for
//! every symbol of the 2^w alphabet or (symbol, length) pairs for the present ones, whichever is
//! smaller. Codes are written bit-reversed into the LSB-first stream so a decoder can look up
//! several bits at once.

use std::collections::HashMap;

use super::{take_parts, Kind, Stage};
use crate::canonical::{canonical, reverse_bits};
use crate::study::bitio::{BitReader, BitWriter};
use crate::study::stream::{byte_stream, stream_bytes, Ctx, Header, Stream};
use crate::study::StudyError;

/// Longest code any table may hold (the "unlimited" coder is capped here too).
pub const MAX_LEN: u32 = 32;
const LEN_BITS: u32 = 6;
const FAST_BITS: u32 = 11;

/// Canonical Huffman with lengths <= `max_len`.
#[derive(Debug, Clone, Copy)]
pub struct Huffman {
    /// L.
    pub max_len: u32,
}

/// Symbol histogram, sorted by symbol.
pub fn histogram(symbols: &[u32], width: u32) -> Vec<(u32, u64)> {
    if width <= 16 {
        let mut c = vec![0u64; 1 << width];
        for &s in symbols {
            c[s as usize] += 1;
        }
        c.into_iter().enumerate().filter(|&(_, n)| n > 0).map(|(s, n)| (s as u32, n)).collect()
    } else {
        let mut m: HashMap<u32, u64> = HashMap::new();
        for &s in symbols {
            *m.entry(s).or_insert(0) += 1;
        }
        let mut v: Vec<(u32, u64)> = m.into_iter().collect();
        v.sort_unstable();
        v
    }
}

/// Optimal code lengths for `counts` (parallel to it), at most `max_len`; an error when 2^L
/// symbols do not suffice.
pub fn code_lengths(counts: &[u64], max_len: u32) -> Result<Vec<u32>, StudyError> {
    crate::canonical::code_lengths(counts, max_len)
        .map_err(|e| StudyError::Unsupported(format!("huffman:{max_len}: {} symbols need longer codes", e.symbols)))
}

/// Writes the table: count, mode bit, then dense lengths or (symbol, length) pairs.
fn write_table(w: &mut BitWriter, pairs: &[(u32, u32)], width: u32) {
    w.put(pairs.len() as u64, 32);
    let dense_bits = if width <= 20 { (1u64 << width) * u64::from(LEN_BITS) } else { u64::MAX };
    let sparse_bits = pairs.len() as u64 * u64::from(width + LEN_BITS);
    if dense_bits < sparse_bits {
        w.put(1, 1);
        let mut it = pairs.iter().peekable();
        for s in 0..1u32 << width {
            let len = match it.peek() {
                Some(&&(sym, len)) if sym == s => {
                    it.next();
                    len
                }
                _ => 0,
            };
            w.put(u64::from(len), LEN_BITS);
        }
    } else {
        w.put(0, 1);
        for &(s, len) in pairs {
            w.put(u64::from(s), width);
            w.put(u64::from(len), LEN_BITS);
        }
    }
}

fn read_table(r: &mut BitReader<'_>, width: u32) -> Result<Vec<(u32, u32)>, StudyError> {
    let n = r.get(32)? as usize;
    let dense = r.get(1)? == 1;
    let mut pairs = Vec::with_capacity(n.min(1 << 20));
    if dense {
        if width > 20 {
            return Err(StudyError::corrupt("huffman: dense table for a wide alphabet"));
        }
        for s in 0..1u32 << width {
            let len = r.get(LEN_BITS)? as u32;
            if len > 0 {
                pairs.push((s, len));
            }
        }
        if pairs.len() != n {
            return Err(StudyError::corrupt("huffman: table count mismatch"));
        }
    } else {
        for _ in 0..n {
            let s = r.get(width)? as u32;
            let len = r.get(LEN_BITS)? as u32;
            pairs.push((s, len));
        }
    }
    if pairs.iter().any(|&(_, l)| l == 0 || l > MAX_LEN) {
        return Err(StudyError::corrupt("huffman: bad code length"));
    }
    let kraft: f64 = pairs.iter().map(|&(_, l)| (-(l as f64)).exp2()).sum();
    if kraft > 1.0 + 1e-9 {
        return Err(StudyError::corrupt("huffman: code lengths violate the Kraft inequality"));
    }
    Ok(pairs)
}

/// The code table of a stream: `(symbol, length)` sorted by symbol.
pub fn table(symbols: &[u32], width: u32, max_len: u32) -> Result<Vec<(u32, u32)>, StudyError> {
    let hist = histogram(symbols, width);
    let counts: Vec<u64> = hist.iter().map(|&(_, c)| c).collect();
    let lengths = code_lengths(&counts, max_len)?;
    Ok(hist.iter().zip(lengths).map(|(&(s, _), l)| (s, l)).collect())
}

/// Encodes one stream: header, table, codes. Returns the bytes.
pub fn encode_stream(s: &Stream, max_len: u32) -> Result<Vec<u8>, StudyError> {
    let pairs = table(&s.symbols, s.width, max_len)?;
    let mut w = BitWriter::with_capacity(s.symbols.len() * s.width as usize / 8 + 64);
    Header::of(s).write(&mut w);
    write_table(&mut w, &pairs, s.width);
    let codes = canonical(&pairs);
    if s.width <= 16 {
        let mut lut = vec![(0u64, 0u32); 1 << s.width];
        for &(sym, len, code) in &codes {
            lut[sym as usize] = (reverse_bits(code, len), len);
        }
        for &sym in &s.symbols {
            let (c, l) = lut[sym as usize];
            w.put_wide(c, l);
        }
    } else {
        let lut: HashMap<u32, (u64, u32)> = codes.iter().map(|&(s, l, c)| (s, (reverse_bits(c, l), l))).collect();
        for sym in &s.symbols {
            let (c, l) = lut.get(sym).copied().unwrap_or((0, 0));
            w.put_wide(c, l);
        }
    }
    Ok(w.finish())
}

/// Decodes bytes [`encode_stream`] wrote.
pub fn decode_stream(name: String, bytes: &[u8]) -> Result<Stream, StudyError> {
    let mut r = BitReader::new(bytes);
    let h = Header::read(&mut r)?;
    let pairs = read_table(&mut r, h.width)?;
    if h.count > 0 && pairs.is_empty() {
        return Err(StudyError::corrupt("huffman: empty table for a non-empty stream"));
    }
    if (h.count as u64) > r.remaining() {
        return Err(StudyError::corrupt("huffman: symbol count exceeds the data"));
    }
    let codes = canonical(&pairs);
    // Fast table over FAST_BITS reversed bits; longer codes decode canonically bit by bit.
    let mut fast = vec![(0u32, 0u32); 1 << FAST_BITS];
    for &(sym, len, code) in &codes {
        if len <= FAST_BITS {
            let rev = reverse_bits(code, len) as usize;
            let mut i = rev;
            while i < 1 << FAST_BITS {
                fast[i] = (sym, len);
                i += 1 << len;
            }
        }
    }
    let max_len = codes.last().map(|c| c.1).unwrap_or(0);
    let mut first = vec![0u64; max_len as usize + 2];
    let mut count = vec![0u64; max_len as usize + 2];
    let mut offset = vec![0usize; max_len as usize + 2];
    for (i, &(_, len, code)) in codes.iter().enumerate() {
        let l = len as usize;
        if count[l] == 0 {
            first[l] = code;
            offset[l] = i;
        }
        count[l] += 1;
    }
    let mut out = Vec::with_capacity(h.count);
    for _ in 0..h.count {
        let peek = r.peek(FAST_BITS) as usize;
        let (sym, len) = fast[peek];
        if len > 0 {
            r.consume(len)?;
            out.push(sym);
            continue;
        }
        let mut code = 0u64;
        let mut found = None;
        for l in 1..=max_len as usize {
            code = code << 1 | r.get(1)?;
            if count[l] > 0 && code >= first[l] && code - first[l] < count[l] {
                found = Some(codes[offset[l] + (code - first[l]) as usize].0);
                break;
            }
        }
        out.push(found.ok_or_else(|| StudyError::corrupt("huffman: invalid code"))?);
    }
    Ok(Stream::new(name, h.width, h.shaped, out))
}

impl Stage for Huffman {
    fn name(&self) -> String {
        if self.max_len == MAX_LEN {
            "huffman".into()
        } else {
            format!("huffman:{}", self.max_len)
        }
    }
    fn kind(&self) -> Kind {
        Kind::Entropy
    }
    fn arity(&self) -> usize {
        1
    }
    fn encode(&self, s: &Stream, _: &Ctx) -> Result<Vec<Stream>, StudyError> {
        Ok(vec![byte_stream(&s.name, encode_stream(s, self.max_len)?)])
    }
    fn decode(&self, parts: Vec<Stream>, _: &Ctx) -> Result<Stream, StudyError> {
        let [b] = take_parts::<1>("huffman", parts)?;
        decode_stream(b.name.clone(), &stream_bytes(&b)?)
    }
}
