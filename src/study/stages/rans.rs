//! `rans`: a byte-renormalising rANS coder (32-bit state, ryg_rans style) per stream, with the
//! stream's own frequency table quantised to 2^S (S = 12.. 16, grown with the alphabet). The
//! table (symbols and frequencies) is in the output and counted. Hand-written: it is ours.

use std::collections::HashMap;

use super::huffman::histogram;
use super::{take_parts, Kind, Stage};
use crate::study::bitio::{BitReader, BitWriter};
use crate::study::stream::{byte_stream, stream_bytes, Ctx, Header, Stream};
use crate::study::StudyError;

const RANS_L: u32 = 1 << 23;

/// rANS coder.
#[derive(Debug, Clone, Copy)]
pub struct Rans;

/// Frequencies summing to 2^scale, each >= 1, close to `counts` in proportion.
fn normalise(counts: &[u64], scale: u32) -> Vec<u32> {
    let total: u64 = counts.iter().sum();
    let target = 1u64 << scale;
    let mut f: Vec<u64> =
        counts.iter().map(|&c| ((c as u128 * target as u128 / total as u128) as u64).max(1)).collect();
    let mut sum: u64 = f.iter().sum();
    let mut order: Vec<usize> = (0..f.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(counts[i]));
    // Give the remainder to, or take the excess from, the most frequent symbols first.
    while sum < target {
        for &i in &order {
            if sum == target {
                break;
            }
            f[i] += 1;
            sum += 1;
        }
    }
    while sum > target {
        let mut changed = false;
        for &i in &order {
            if sum == target {
                break;
            }
            if f[i] > 1 {
                f[i] -= 1;
                sum -= 1;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    f.into_iter().map(|x| x as u32).collect()
}

fn scale_for(n: usize) -> Result<u32, StudyError> {
    let need = (usize::BITS - n.leading_zeros()) + 1;
    let s = need.max(12);
    if s > 16 {
        return Err(StudyError::Unsupported(format!("rans: {n} distinct symbols exceed a 16-bit frequency scale")));
    }
    Ok(s)
}

/// Encodes one stream: header, scale, table, final state, renormalisation bytes.
pub fn encode_stream(s: &Stream) -> Result<Vec<u8>, StudyError> {
    let hist = histogram(&s.symbols, s.width);
    let scale = scale_for(hist.len())?;
    let counts: Vec<u64> = hist.iter().map(|&(_, c)| c).collect();
    let freqs = if hist.is_empty() { Vec::new() } else { normalise(&counts, scale) };
    let mut w = BitWriter::with_capacity(64 + hist.len() * 4);
    Header::of(s).write(&mut w);
    w.put(u64::from(scale), 5);
    w.put(hist.len() as u64, 32);
    let dense =
        s.width <= 16 && (1u64 << s.width) * u64::from(scale + 1) < hist.len() as u64 * u64::from(s.width + scale);
    w.put(u64::from(dense), 1);
    if dense {
        let mut it = hist.iter().zip(&freqs).peekable();
        for sym in 0..1u32 << s.width {
            let f = match it.peek() {
                Some(&(&(x, _), &f)) if x == sym => {
                    it.next();
                    f
                }
                _ => 0,
            };
            w.put(u64::from(f), scale + 1);
        }
    } else {
        for (&(x, _), &f) in hist.iter().zip(&freqs) {
            w.put(u64::from(x), s.width);
            w.put(u64::from(f - 1), scale);
        }
    }
    let mut table = w.finish();
    // Cumulative starts per symbol.
    let mut start = Vec::with_capacity(freqs.len());
    let mut acc = 0u32;
    for &f in &freqs {
        start.push(acc);
        acc += f;
    }
    let index: Box<dyn Fn(u32) -> usize> = if s.width <= 16 {
        let mut lut = vec![0usize; 1 << s.width];
        for (i, &(x, _)) in hist.iter().enumerate() {
            lut[x as usize] = i;
        }
        Box::new(move |x| lut[x as usize])
    } else {
        let m: HashMap<u32, usize> = hist.iter().enumerate().map(|(i, &(x, _))| (x, i)).collect();
        Box::new(move |x| m.get(&x).copied().unwrap_or(0))
    };
    let mut rev = Vec::with_capacity(s.symbols.len() / 2 + 8);
    let mut x = RANS_L;
    for &sym in s.symbols.iter().rev() {
        let i = index(sym);
        let (f, st) = (freqs[i], start[i]);
        let x_max = ((RANS_L >> scale) << 8) * f;
        while x >= x_max {
            rev.push(x as u8);
            x >>= 8;
        }
        x = ((x / f) << scale) + (x % f) + st;
    }
    rev.extend_from_slice(&x.to_be_bytes());
    rev.reverse();
    table.extend_from_slice(&rev);
    Ok(table)
}

/// Decodes bytes [`encode_stream`] wrote.
pub fn decode_stream(name: String, bytes: &[u8]) -> Result<Stream, StudyError> {
    let mut r = BitReader::new(bytes);
    let h = Header::read(&mut r)?;
    let scale = r.get(5)? as u32;
    if !(12..=16).contains(&scale) {
        return Err(StudyError::corrupt("rans: bad scale"));
    }
    let n = r.get(32)? as usize;
    let dense = r.get(1)? == 1;
    let mut syms = Vec::with_capacity(n.min(1 << 16));
    let mut freqs = Vec::with_capacity(n.min(1 << 16));
    if dense {
        if h.width > 16 {
            return Err(StudyError::corrupt("rans: dense table for a wide alphabet"));
        }
        for sym in 0..1u32 << h.width {
            let f = r.get(scale + 1)? as u32;
            if f > 0 {
                syms.push(sym);
                freqs.push(f);
            }
        }
    } else {
        for _ in 0..n {
            syms.push(r.get(h.width)? as u32);
            freqs.push(r.get(scale)? as u32 + 1);
        }
    }
    let table_bits = r.bit_pos();
    let mut pos = table_bits.div_ceil(8) as usize;
    if h.count == 0 {
        return Ok(Stream::new(name, h.width, h.shaped, Vec::new()));
    }
    if freqs.iter().map(|&f| u64::from(f)).sum::<u64>() != 1u64 << scale {
        return Err(StudyError::corrupt("rans: frequencies do not sum to the scale"));
    }
    let mut slot = vec![0u16; 1 << scale];
    let mut start = Vec::with_capacity(freqs.len());
    let mut acc = 0usize;
    for (i, &f) in freqs.iter().enumerate() {
        start.push(acc as u32);
        slot[acc..acc + f as usize].fill(i as u16);
        acc += f as usize;
    }
    let byte = |pos: &mut usize| -> Result<u32, StudyError> {
        let b = bytes.get(*pos).copied().ok_or_else(|| StudyError::corrupt("rans: truncated"))?;
        *pos += 1;
        Ok(u32::from(b))
    };
    let mut x = 0u32;
    for i in 0..4 {
        x |= byte(&mut pos)? << (8 * i);
    }
    let mask = (1u32 << scale) - 1;
    let mut out = Vec::with_capacity(h.count);
    for _ in 0..h.count {
        let i = slot[(x & mask) as usize] as usize;
        out.push(syms[i]);
        x = freqs[i].wrapping_mul(x >> scale).wrapping_add(x & mask).wrapping_sub(start[i]);
        while x < RANS_L {
            x = x << 8 | byte(&mut pos)?;
        }
    }
    if pos != bytes.len() {
        return Err(StudyError::corrupt("rans: trailing bytes"));
    }
    Ok(Stream::new(name, h.width, h.shaped, out))
}

impl Stage for Rans {
    fn name(&self) -> String {
        "rans".into()
    }
    fn kind(&self) -> Kind {
        Kind::Entropy
    }
    fn arity(&self) -> usize {
        1
    }
    fn encode(&self, s: &Stream, _: &Ctx) -> Result<Vec<Stream>, StudyError> {
        Ok(vec![byte_stream(&s.name, encode_stream(s)?)])
    }
    fn decode(&self, parts: Vec<Stream>, _: &Ctx) -> Result<Stream, StudyError> {
        let [b] = take_parts::<1>("rans", parts)?;
        decode_stream(b.name.clone(), &stream_bytes(&b)?)
    }
}
