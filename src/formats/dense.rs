//! `dense`: every element in stream order as a Q-bit value. The baseline every saving is
//! measured against. Stream order walks columns and every element is written, so the stream is
//! the column-major matrix packed at Q bits; with Q dividing 64 whole words are built at once.

use std::convert::Infallible;

use super::{decode_columns, for_each_column, Failure, StreamParams, ValueRange};
use crate::bits::{mask, sign_extend, BitReader, BitWriter, Bits, Category, Cursor, SizeBreakdown};
use crate::matrix::QuantMatrix;

pub(crate) fn encode(w: &QuantMatrix, p: &StreamParams) -> (Bits, SizeBreakdown, ValueRange) {
    let q = p.weight_bits;
    let mut out = BitWriter::with_capacity(w.len() * q as usize + p.bus_bits as usize);
    let mut nonzeros = 0usize;
    let Ok(range) = for_each_column(w, false, |_, column| {
        nonzeros += column.iter().filter(|&&v| v != 0).count();
        out.packer().with_room(column.len() * q as usize, |c| match q {
            2 => pack_words::<2>(c, column),
            4 => pack_words::<4>(c, column),
            8 => pack_words::<8>(c, column),
            16 => pack_words::<16>(c, column),
            _ => pack_fields(c, column, q),
        });
        Ok::<(), Infallible>(())
    });
    out.count(Category::Payload, (nonzeros * q as usize) as u64);
    out.count(Category::Padding, ((w.len() - nonzeros) * q as usize) as u64);
    let (bits, sizes) = out.finish(p.bus_bits);
    (bits, sizes, range)
}

/// Packs values at Q bits (Q dividing 64): 64 / Q of them to a word.
#[inline]
fn pack_words<const Q: u32>(packer: &mut Cursor<'_>, values: &[i32]) {
    let per_word = (64 / Q) as usize;
    let mut words = values.chunks_exact(per_word);
    for chunk in &mut words {
        let word = chunk.iter().enumerate().fold(0u64, |acc, (i, &v)| acc | (v as u64 & mask(Q)) << (i as u32 * Q));
        packer.put_clean(word, 64);
    }
    pack_fields(packer, words.remainder(), Q);
}

/// Packs values at `q` bits one field at a time.
#[inline]
fn pack_fields(packer: &mut Cursor<'_>, values: &[i32], q: u32) {
    let m = mask(q);
    for &v in values {
        packer.put_clean(v as u64 & m, q);
    }
}

pub(crate) fn decode(
    r: &mut BitReader<'_>,
    rows: usize,
    cols: usize,
    p: &StreamParams,
) -> Result<QuantMatrix, Failure> {
    let q = p.weight_bits;
    decode_columns(rows, cols, q, false, |_, column| {
        if r.remaining() >= column.len() * q as usize {
            let words = r.unpacker();
            for v in column.iter_mut() {
                *v = sign_extend(words.take(q), q);
            }
        } else {
            for v in column.iter_mut() {
                *v = r.read_signed(q)?;
            }
        }
        Ok(())
    })
}
