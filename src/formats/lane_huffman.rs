//! `lane-huffman` and `delta-lane-huffman`: bitmap-huffman's code and masks, with each lane's
//! codes in a sub-stream of its own, interleaved in the one stream as [`CHUNK_BITS`]-bit refill
//! chunks. A decoder keeps a small buffer per lane and takes a lane's next chunk, right after the
//! beat's mask, whenever a coded lane holds fewer than T = 2 * lmax bits; so every chunk's place
//! follows from the masks and the lanes' counts, never from another lane's code lengths, and N
//! decoders (one per lane) resolve a beat's codes at once. docs/stream-formats.md specifies it.

use super::huffman::{histogram, read_table, CodeTable, MAX_CODE_LEN};
use super::{decode_columns, for_each_column, DecodeErrorKind, EncodeError, Failure, StreamParams, ValueRange};
use crate::bits::{mask, BitReader, BitWriter, Bits, Category, Packer, SizeBreakdown};
use crate::canonical::reverse_bits;
use crate::matrix::QuantMatrix;

/// C: bits of a refill chunk (at least [`MAX_CODE_LEN`], so that one chunk tops a lane up).
pub const CHUNK_BITS: u32 = 12;

const _: () = assert!(CHUNK_BITS >= MAX_CODE_LEN);

/// T: a coded lane holding fewer bits than this takes chunks before its code.
pub fn threshold(lmax: u32) -> u32 {
    2 * lmax
}

/// One lane's sub-stream while it is written: its codes, in order, MSB first each.
#[derive(Default)]
struct SubStream {
    bits: Packer,
    /// Chunks handed out so far.
    taken: usize,
}

impl SubStream {
    /// The next chunk: sub-stream bits [taken * C, taken * C + C), zeros past its end.
    fn next_chunk(&mut self, words: &[u64]) -> u64 {
        let at = self.taken * CHUNK_BITS as usize;
        self.taken += 1;
        let (i, o) = (at / 64, (at % 64) as u32);
        let lo = words.get(i).copied().unwrap_or(0) >> o;
        let hi = if o + CHUNK_BITS > 64 { words.get(i + 1).copied().unwrap_or(0) << (64 - o) } else { 0 };
        (lo | hi) & mask(CHUNK_BITS)
    }
}

pub(crate) fn encode(
    w: &QuantMatrix,
    p: &StreamParams,
    delta: bool,
) -> Result<(Bits, SizeBreakdown, ValueRange), EncodeError> {
    let (q, n) = (p.weight_bits, p.lanes);
    let m = mask(q);
    let (hist, range) = histogram(w, q, delta);
    if !range.fits(q) {
        return Ok((Bits::new(), SizeBreakdown::default(), range));
    }
    let table = CodeTable::from_histogram(&hist, MAX_CODE_LEN)
        .map_err(|e| EncodeError::TooManySymbols { symbols: e.symbols, max_len: e.max_len })?;
    let lut = table.fields(q);
    // Pass 1: each lane's sub-stream; the masks and the code lengths in stream order, for pass 2.
    let mut lanes: Vec<SubStream> = (0..n).map(|_| SubStream::default()).collect();
    let mut lengths: Vec<u8> = Vec::with_capacity(hist.iter().skip(1).sum::<u64>() as usize);
    let mut code_bits = 0u64;
    for_each_column(w, delta, |_, column| {
        for beat in column.chunks(n) {
            for (l, &v) in beat.iter().enumerate() {
                if v != 0 {
                    let (code, len) = lut[(v as u64 & m) as usize];
                    lanes[l].bits.put_clean(code, len);
                    lengths.push(len as u8);
                    code_bits += u64::from(len);
                }
            }
        }
        Ok::<(), std::convert::Infallible>(())
    })
    .unwrap_or_else(|e| match e {});
    let words: Vec<Vec<u64>> = lanes.iter_mut().map(|s| std::mem::take(&mut s.bits).into_words().0).collect();
    // Pass 2: the stream, as a decoder takes it.
    let t = threshold(table.lmax);
    let beats = p.beats(w.rows, w.cols);
    let mut out = BitWriter::with_capacity(w.len() + code_bits as usize + 2 * n * CHUNK_BITS as usize + beats);
    out.push(u64::from(table.lmax), super::huffman::LMAX_BITS, Category::Metadata);
    for &c in &table.counts {
        out.push(c, q, Category::Metadata);
    }
    for &s in &table.symbols {
        out.push(u64::from(s), q, Category::Metadata);
    }
    let mut count = vec![0u32; n];
    let mut next_len = lengths.iter();
    let mut chunks = 0u64;
    for_each_column(w, delta, |_, column| {
        out.packer().with_room(column.len() + 2 * column.len() * CHUNK_BITS as usize, |c| {
            for beat in column.chunks(n) {
                for piece in beat.chunks(64) {
                    c.put_clean(super::bitmap::nonzero_mask(piece), piece.len() as u32);
                }
                for (l, &v) in beat.iter().enumerate() {
                    if v == 0 {
                        continue;
                    }
                    while count[l] < t {
                        c.put_clean(lanes[l].next_chunk(&words[l]), CHUNK_BITS);
                        count[l] += CHUNK_BITS;
                        chunks += 1;
                    }
                    count[l] -= u32::from(*next_len.next().unwrap_or(&0));
                }
            }
        });
        Ok::<(), std::convert::Infallible>(())
    })
    .unwrap_or_else(|e| match e {});
    // Header counted already; a mask bit per element; the codes are the payload, the rest of the
    // chunks padding.
    out.count(Category::Metadata, w.len() as u64);
    out.count(Category::Payload, code_bits);
    out.count(Category::Padding, chunks * u64::from(CHUNK_BITS) - code_bits);
    let (bits, sizes) = out.finish(p.bus_bits);
    Ok((bits, sizes, range))
}

/// A lane while it is decoded: the bits taken and not decoded (bit 0 next), their count, the
/// chunks taken, and where the last four began in the stream (for error offsets).
#[derive(Debug, Clone, Copy, Default)]
struct Lane {
    buf: u64,
    count: u32,
    taken: u64,
    at: [u64; 4],
}

impl Lane {
    /// The stream offset of the lane's untaken bit `i` (0: its next code's first bit).
    fn offset(&self, i: u32) -> u64 {
        let bit = self.taken * u64::from(CHUNK_BITS) - u64::from(self.count) + u64::from(i);
        let chunk = bit / u64::from(CHUNK_BITS);
        self.at[(chunk % 4) as usize] + bit % u64::from(CHUNK_BITS)
    }
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
    let t = threshold(lmax);
    // Every lmax-bit front of a lane's buffer to (value, code length); length 0: no code.
    let mut lut = vec![(0i32, 0u32); 1 << lmax];
    for (s, l, code) in table.codes() {
        let value = crate::bits::sign_extend(u64::from(s), q);
        let field = reverse_bits(code, l) as usize;
        for rest in 0..1usize << (lmax - l) {
            lut[field | rest << l] = (value, l);
        }
    }
    let front = mask(lmax);
    let mut lanes = vec![Lane::default(); n];
    let mut masks = vec![0u64; n.div_ceil(64)];
    let w = decode_columns(rows, cols, q, undelta, |_, column| {
        for values in column.chunks_mut(n) {
            let masks = &mut masks[..values.len().div_ceil(64)];
            for (piece, m) in masks.iter_mut().enumerate() {
                *m = r.read((values.len() - piece * 64).min(64) as u32)?;
            }
            // The chunks of the coded lanes, in lane order.
            for (piece, &m) in masks.iter().enumerate() {
                let mut set = m;
                while set != 0 {
                    let lane = &mut lanes[piece * 64 + set.trailing_zeros() as usize];
                    set &= set - 1;
                    while lane.count < t {
                        let at = r.position();
                        lane.buf |= r.read(CHUNK_BITS)? << lane.count;
                        lane.at[(lane.taken % 4) as usize] = at;
                        lane.taken += 1;
                        lane.count += CHUNK_BITS;
                    }
                }
            }
            // Then each coded lane's code from the front of its buffer (it holds >= lmax bits).
            for (l, v) in values.iter_mut().enumerate() {
                if masks[l / 64] >> (l % 64) & 1 == 0 {
                    *v = 0;
                    continue;
                }
                let lane = &mut lanes[l];
                let (value, len) = lut[(lane.buf & front) as usize];
                if len == 0 {
                    let at = if lmax == 0 { r.position() } else { lane.offset(0) };
                    return Err((at, DecodeErrorKind::InvalidCode));
                }
                lane.buf >>= len;
                lane.count -= len;
                *v = value;
            }
        }
        Ok(())
    })?;
    // The bits the lanes took and never decoded are fill: zero.
    for (l, lane) in lanes.iter().enumerate() {
        if lane.buf != 0 {
            return Err((lane.offset(lane.buf.trailing_zeros()), DecodeErrorKind::NonzeroLaneFill { lane: l }));
        }
    }
    Ok(w)
}
