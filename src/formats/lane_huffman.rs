//! `lane-huffman` and `delta-lane-huffman`: bitmap-huffman's code and masks, with each lane's
//! codes in a sub-stream of its own, interleaved in the one stream as [`CHUNK_BITS`]-bit refill
//! chunks. A decoder keeps a small buffer per lane and takes a lane's next chunk, right after the
//! beat's mask, whenever a coded lane holds fewer than T = 2 * lmax bits; so every chunk's place
//! follows from the masks and the lanes' counts, never from another lane's code lengths, and N
//! decoders (one per lane) resolve a beat's codes at once. docs/stream-formats.md specifies it.

use super::huffman::{histogram, read_table, CodeTable, MAX_CODE_LEN};
use super::{decode_columns, for_each_column, DecodeErrorKind, EncodeError, Failure, StreamParams, ValueRange};
use crate::bits::{mask, BitReader, BitWriter, Bits, Category, SizeBreakdown, Window};
use crate::matrix::QuantMatrix;

/// C: bits of a refill chunk (at least [`MAX_CODE_LEN`], so that one chunk tops a lane up).
pub const CHUNK_BITS: u32 = 12;

const _: () = assert!(CHUNK_BITS >= MAX_CODE_LEN);

/// T: a coded lane holding fewer bits than this takes chunks before its code.
pub fn threshold(lmax: u32) -> u32 {
    2 * lmax
}

/// A lane while it is written: its code bits held until the chunk they start in is full, and
/// which chunks (by their number in the stream) are its.
#[derive(Debug, Clone, Copy, Default)]
struct LaneOut {
    /// Bits reserved and not yet written: the decoder's count.
    count: u32,
    /// Code bits held (`pending`'s low `held` bits), fewer than a chunk between codes.
    held: u32,
    pending: u64,
    /// Chunks taken, and the index (of the lane's) of the chunk `pending` belongs in.
    taken: usize,
    chunk: usize,
    /// The stream numbers of the lane's chunks `taken - 4 .. taken` (by index mod 4; a lane holds
    /// fewer than 3 chunks of unwritten bits, so the one `pending` belongs in is among them).
    number: [usize; 4],
}

/// The stream's chunks while it is written: where each begins (its mask-and-chunk stream
/// position) and its value, filled in once its lane's codes complete it.
struct Chunks {
    at: Vec<usize>,
    value: Vec<u16>,
    len: usize,
}

impl Chunks {
    /// Room for `most` chunks and a spare slot for the branch-free writes past the last one.
    fn with_room(most: usize) -> Self {
        Chunks { at: vec![0; most + 1], value: vec![0; most + 1], len: 0 }
    }

    /// Lane `lane` takes a chunk at stream position `at` when `take` (branch-free: a 0-bit field
    /// and a slot that the next chunk overwrites otherwise).
    #[inline(always)]
    fn take(&mut self, lane: &mut LaneOut, c: &mut crate::bits::Cursor<'_>, take: bool) {
        self.at[self.len] = c.position();
        lane.number[lane.taken % 4] = self.len;
        c.put_clean(0, CHUNK_BITS * u32::from(take));
        self.len += usize::from(take);
        lane.taken += usize::from(take);
        lane.count += CHUNK_BITS * u32::from(take);
    }

    /// Lane `lane`'s next code (`len` bits, first bit in bit 0) into its chunks: the chunk it
    /// starts in is rewritten with what the lane holds (branch-free; the final value is written
    /// when the chunk is complete).
    #[inline(always)]
    fn put(&mut self, lane: &mut LaneOut, code: u64, len: u32) {
        lane.pending |= code << lane.held;
        lane.held += len;
        lane.count -= len;
        self.value[lane.number[lane.chunk % 4]] = (lane.pending & mask(CHUNK_BITS)) as u16;
        let full = lane.held >= CHUNK_BITS;
        let shift = CHUNK_BITS * u32::from(full);
        lane.pending >>= shift;
        lane.held -= shift;
        lane.chunk += usize::from(full);
    }
}

pub(crate) fn encode(
    w: &QuantMatrix,
    p: &StreamParams,
    delta: bool,
) -> Result<(Bits, SizeBreakdown, ValueRange), EncodeError> {
    let (q, n) = (p.weight_bits, p.lanes);
    let m_q = mask(q);
    let (hist, range) = histogram(w, q, delta);
    if !range.fits(q) {
        return Ok((Bits::new(), SizeBreakdown::default(), range));
    }
    let table = CodeTable::from_histogram(&hist, MAX_CODE_LEN)
        .map_err(|e| EncodeError::TooManySymbols { symbols: e.symbols, max_len: e.max_len })?;
    let lut = table.fields(q);
    let t = u64::from(threshold(table.lmax));
    let c_bits = u64::from(CHUNK_BITS);
    let nonzeros: u64 = hist.iter().skip(1).sum();
    // A mask bit per element; a chunk per code, and a second at each lane's first code.
    let room = w.len() + CHUNK_BITS as usize * (nonzeros as usize + n);
    let mut out = BitWriter::with_capacity(room + 64 * (table.symbols.len() + 16));
    out.push(u64::from(table.lmax), super::huffman::LMAX_BITS, Category::Metadata);
    for &c in &table.counts {
        out.push(c, q, Category::Metadata);
    }
    for &s in &table.symbols {
        out.push(u64::from(s), q, Category::Metadata);
    }
    // One pass, in stream order: each beat's mask, then for each coded lane the chunks it takes
    // (reserved as zeros), then its code, written into the lane's reserved chunks.
    let mut lanes = vec![LaneOut::default(); n];
    let mut chunks = Chunks::with_room(nonzeros as usize + n);
    let mut code_bits = 0u64;
    let t = t as u32;
    out.packer().with_room(room, |c| {
        for_each_column(w, delta, |_, column| {
            for beat in column.chunks(n) {
                for (p0, piece) in beat.chunks(64).enumerate() {
                    let m = super::bitmap::nonzero_mask(piece);
                    c.put_clean(m, piece.len() as u32);
                    let lanes = &mut lanes[p0 * 64..];
                    let mut set = m;
                    while set != 0 {
                        let l = set.trailing_zeros() as usize;
                        set &= set - 1;
                        let lane = &mut lanes[l];
                        // At most two chunks (T <= 2C), the second only at a lane's first code.
                        chunks.take(lane, c, lane.count < t);
                        if lane.count < t {
                            chunks.take(lane, c, true);
                        }
                        let (code, len) = lut[(piece[l] as u64 & m_q) as usize];
                        chunks.put(lane, code, len);
                        code_bits += u64::from(len);
                    }
                }
            }
            Ok::<(), std::convert::Infallible>(())
        })
        .unwrap_or_else(|e| match e {});
        // What the lanes hold past their last complete chunk, then the chunks' values into the
        // places reserved for them, in stream order.
        for lane in lanes.iter().filter(|l| l.held > 0) {
            chunks.value[lane.number[lane.chunk % 4]] = lane.pending as u16;
        }
        for (&at, &value) in chunks.at[..chunks.len].iter().zip(&chunks.value) {
            c.or_at(at, u64::from(value), CHUNK_BITS);
        }
    });
    let chunk_bits = chunks.len as u64 * c_bits;
    // Header counted already; a mask bit per element; the codes are the payload, the rest of the
    // chunks padding.
    out.count(Category::Metadata, w.len() as u64);
    out.count(Category::Payload, code_bits);
    out.count(Category::Padding, chunk_bits - code_bits);
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

/// Where a beat's fields come from: the checked reader, or a window the caller has sized.
trait Fields {
    fn take(&mut self, width: u32) -> Result<u64, Failure>;
    fn position(&self) -> u64;
}

impl Fields for BitReader<'_> {
    #[inline(always)]
    fn take(&mut self, width: u32) -> Result<u64, Failure> {
        Ok(self.read(width)?)
    }
    #[inline(always)]
    fn position(&self) -> u64 {
        BitReader::position(self)
    }
}

impl Fields for Window<'_> {
    #[inline(always)]
    fn take(&mut self, width: u32) -> Result<u64, Failure> {
        Ok(Window::take(self, width))
    }
    #[inline(always)]
    fn position(&self) -> u64 {
        Window::position(self) as u64
    }
}

/// The layer's code as a decoder uses it.
struct Decoder {
    /// Every lmax-bit front of a lane's buffer to (value, code length); length 0: no code.
    lut: Vec<(i32, u32)>,
    lmax: u32,
    /// T.
    threshold: u32,
}

impl Decoder {
    /// [`Decoder::beat`] from a window the caller sized for the beat: no field can be cut, so
    /// each coded lane's chunk (taken branch-free, a second one only at its first code) and its
    /// code go together, lane by lane; invalid codes are still found in lane order.
    #[inline(always)]
    fn beat_in_window(
        &self,
        win: &mut Window<'_>,
        lanes: &mut [Lane],
        values: &mut [i32],
        masks: &mut [u64],
    ) -> Result<(), Failure> {
        let front = mask(self.lmax);
        let masks = &mut masks[..values.len().div_ceil(64)];
        for (piece, m) in masks.iter_mut().enumerate() {
            *m = win.take((values.len() - piece * 64).min(64) as u32);
        }
        values.fill(0);
        for (piece, &m) in masks.iter().enumerate() {
            let mut set = m;
            while set != 0 {
                let l = piece * 64 + set.trailing_zeros() as usize;
                set &= set - 1;
                let lane = &mut lanes[l];
                let take = lane.count < self.threshold;
                lane.at[(lane.taken % 4) as usize] = win.position() as u64;
                lane.buf |= (win.peek64() & mask(CHUNK_BITS) & 0u64.wrapping_sub(u64::from(take))) << lane.count;
                win.skip(CHUNK_BITS * u32::from(take));
                lane.taken += u64::from(take);
                lane.count += CHUNK_BITS * u32::from(take);
                if lane.count < self.threshold {
                    lane.at[(lane.taken % 4) as usize] = win.position() as u64;
                    lane.buf |= win.take(CHUNK_BITS) << lane.count;
                    lane.taken += 1;
                    lane.count += CHUNK_BITS;
                }
                let (value, len) = self.lut[(lane.buf & front) as usize];
                if len == 0 {
                    // The offset is the lane's own (its chunks are in); with lmax = 0 no lane
                    // takes chunks, and it is where the mask ends, as field by field.
                    let at = if self.lmax == 0 { win.position() as u64 } else { lane.offset(0) };
                    return Err((at, DecodeErrorKind::InvalidCode));
                }
                lane.buf >>= len;
                lane.count -= len;
                values[l] = value;
            }
        }
        Ok(())
    }

    /// Decodes one beat (`values`, its L lanes) from `f`: the mask, the coded lanes' chunks in
    /// lane order, then their codes in lane order.
    #[inline(always)]
    fn beat<F: Fields>(
        &self,
        f: &mut F,
        lanes: &mut [Lane],
        values: &mut [i32],
        masks: &mut [u64],
    ) -> Result<(), Failure> {
        let masks = &mut masks[..values.len().div_ceil(64)];
        for (piece, m) in masks.iter_mut().enumerate() {
            *m = f.take((values.len() - piece * 64).min(64) as u32)?;
        }
        for (piece, &m) in masks.iter().enumerate() {
            let mut set = m;
            while set != 0 {
                let lane = &mut lanes[piece * 64 + set.trailing_zeros() as usize];
                set &= set - 1;
                while lane.count < self.threshold {
                    let at = f.position();
                    lane.buf |= f.take(CHUNK_BITS)? << lane.count;
                    lane.at[(lane.taken % 4) as usize] = at;
                    lane.taken += 1;
                    lane.count += CHUNK_BITS;
                }
            }
        }
        values.fill(0);
        let front = mask(self.lmax);
        for (piece, &m) in masks.iter().enumerate() {
            let mut set = m;
            while set != 0 {
                let l = piece * 64 + set.trailing_zeros() as usize;
                set &= set - 1;
                let lane = &mut lanes[l];
                let (value, len) = self.lut[(lane.buf & front) as usize];
                if len == 0 {
                    let at = if self.lmax == 0 { f.position() } else { lane.offset(0) };
                    return Err((at, DecodeErrorKind::InvalidCode));
                }
                lane.buf >>= len;
                lane.count -= len;
                values[l] = value;
            }
        }
        Ok(())
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
    let lut = table.decode_lut(q);
    let dec = Decoder { lut, lmax, threshold: threshold(lmax) };
    let mut lanes = vec![Lane::default(); n];
    let mut masks = vec![0u64; n.div_ceil(64)];
    let w = decode_columns(rows, cols, q, undelta, |_, column| {
        // A column is at most a mask bit and a chunk per element, and a second chunk per lane
        // (its first code): read it in a window when the stream holds that much, else field by
        // field with the end-of-stream checks.
        let most = column.len() * (1 + CHUNK_BITS as usize) + n * CHUNK_BITS as usize;
        let whole = r.unpacker().with_window(most, |win| {
            for values in column.chunks_mut(n) {
                dec.beat_in_window(win, &mut lanes, values, &mut masks)?;
            }
            Ok(())
        });
        match whole {
            Some(done) => done,
            None => {
                for values in column.chunks_mut(n) {
                    dec.beat(r, &mut lanes, values, &mut masks)?;
                }
                Ok(())
            }
        }
    })?;
    // The bits the lanes took and never decoded are fill: zero.
    for (l, lane) in lanes.iter().enumerate() {
        if lane.buf != 0 {
            return Err((lane.offset(lane.buf.trailing_zeros()), DecodeErrorKind::NonzeroLaneFill { lane: l }));
        }
    }
    Ok(w)
}

/// What the RTL decoder spends on a layer (one row block), for its throughput target: the
/// header's cycles (lmax; the counts, `counts_per_cycle` at a time; the symbols,
/// `symbols_per_cycle` at a time; the first mask alone) and the beats' cycles: a beat takes its
/// chunks `chunks_per_cycle` at a time, at least one cycle, and one more when a coded lane is at
/// its first code (its buffer is empty until its chunks are in). Returns (header, beats).
pub fn loop_cycles(
    w: &QuantMatrix,
    p: &StreamParams,
    delta: bool,
    chunks_per_cycle: usize,
    counts_per_cycle: usize,
    symbols_per_cycle: usize,
) -> (u64, u64) {
    let (q, n) = (p.weight_bits, p.lanes);
    let m = mask(q);
    let (hist, _) = histogram(w, q, delta);
    let Ok(table) = CodeTable::from_histogram(&hist, MAX_CODE_LEN) else {
        return (0, 0);
    };
    let header = 1
        + (table.lmax as usize).div_ceil(counts_per_cycle.max(1)) as u64
        + table.symbols.len().div_ceil(symbols_per_cycle.max(1)) as u64
        + 1;
    let lut = table.fields(q);
    let t = threshold(table.lmax);
    let mut count = vec![0u32; n];
    let mut cycles = 0u64;
    for_each_column(w, delta, |_, column| {
        for beat in column.chunks(n) {
            let (mut chunks, mut first) = (0usize, false);
            for (l, &v) in beat.iter().enumerate() {
                if v == 0 {
                    continue;
                }
                first |= count[l] == 0;
                while count[l] < t {
                    count[l] += CHUNK_BITS;
                    chunks += 1;
                }
                count[l] -= lut[(v as u64 & m) as usize].1;
            }
            cycles += chunks.div_ceil(chunks_per_cycle.max(1)).max(1) as u64 + u64::from(first);
        }
        Ok::<(), std::convert::Infallible>(())
    })
    .unwrap_or_else(|e| match e {});
    (header, cycles)
}
