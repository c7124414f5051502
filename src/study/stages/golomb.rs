//! `rice` and `expgolomb`: universal codes for small unsigned symbols (run lengths, zigzagged
//! differences). Each stream gets the parameter k that minimises its size (5 bits in the output).
//! Signed values should go through `zigzag` first.

use super::{take_parts, Kind, Stage};
use crate::study::bitio::{BitReader, BitWriter};
use crate::study::stream::{byte_stream, stream_bytes, width_mask, Ctx, Header, Stream};
use crate::study::StudyError;

/// Which code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Golomb {
    /// Rice(k): v >> k in unary, then the low k bits.
    Rice,
    /// Exp-Golomb order k.
    ExpGolomb,
}

fn bit_len(x: u64) -> u32 {
    64 - x.leading_zeros()
}

impl Golomb {
    fn cost(self, v: u32, k: u32) -> u64 {
        match self {
            Golomb::Rice => (u64::from(v) >> k) + 1 + u64::from(k),
            Golomb::ExpGolomb => {
                let n = bit_len(u64::from(v) + (1u64 << k));
                u64::from(2 * n - 1 - k)
            }
        }
    }

    fn best_k(self, symbols: &[u32], width: u32) -> u32 {
        (0..=width.min(31)).min_by_key(|&k| symbols.iter().map(|&v| self.cost(v, k)).sum::<u64>()).unwrap_or(0)
    }

    /// Encodes one stream.
    pub fn encode_stream(self, s: &Stream) -> Vec<u8> {
        let k = self.best_k(&s.symbols, s.width);
        let mut w = BitWriter::with_capacity(s.symbols.len() + 16);
        Header::of(s).write(&mut w);
        w.put(u64::from(k), 5);
        for &v in &s.symbols {
            match self {
                Golomb::Rice => {
                    w.put_ones(u64::from(v) >> k);
                    w.put(0, 1);
                    w.put(u64::from(v), k);
                }
                Golomb::ExpGolomb => {
                    let x = u64::from(v) + (1u64 << k);
                    let m = bit_len(x) - 1 - k;
                    w.put_ones(u64::from(m));
                    w.put(0, 1);
                    w.put_wide(x, m + k);
                }
            }
        }
        w.finish()
    }

    /// Decodes bytes [`Golomb::encode_stream`] wrote.
    pub fn decode_stream(self, name: String, bytes: &[u8]) -> Result<Stream, StudyError> {
        let mut r = BitReader::new(bytes);
        let h = Header::read(&mut r)?;
        let k = r.get(5)? as u32;
        if (h.count as u64) > r.remaining() {
            return Err(StudyError::corrupt("golomb: symbol count exceeds the data"));
        }
        let mut out = Vec::with_capacity(h.count);
        for _ in 0..h.count {
            let q = r.get_unary()?;
            let v = match self {
                Golomb::Rice => (q << k) | r.get(k)?,
                Golomb::ExpGolomb => {
                    if q + u64::from(k) > 40 {
                        return Err(StudyError::corrupt("exp-golomb: prefix too long"));
                    }
                    let bits = (q + u64::from(k)) as u32;
                    ((1u64 << bits) | r.get_wide(bits)?) - (1u64 << k)
                }
            };
            if v > u64::from(width_mask(h.width)) {
                return Err(StudyError::corrupt("golomb: symbol exceeds its width"));
            }
            out.push(v as u32);
        }
        Ok(Stream::new(name, h.width, h.shaped, out))
    }
}

impl Stage for Golomb {
    fn name(&self) -> String {
        match self {
            Golomb::Rice => "rice".into(),
            Golomb::ExpGolomb => "expgolomb".into(),
        }
    }
    fn kind(&self) -> Kind {
        Kind::Entropy
    }
    fn arity(&self) -> usize {
        1
    }
    fn encode(&self, s: &Stream, _: &Ctx) -> Result<Vec<Stream>, StudyError> {
        Ok(vec![byte_stream(&s.name, self.encode_stream(s))])
    }
    fn decode(&self, parts: Vec<Stream>, _: &Ctx) -> Result<Stream, StudyError> {
        let [b] = take_parts::<1>(&self.name(), parts)?;
        self.decode_stream(b.name.clone(), &stream_bytes(&b)?)
    }
}
