//! Byte identity of the golden model across rewrites of its bit packer: SHA-256 digests of
//! (a) every format's stream, sizes and decode result for thousands of seeded random layers and
//! parameters, with decodes of corrupted, truncated, extended and misaligned copies of each
//! stream (so error kinds and offsets are pinned too), (b) the study's bit I/O on random field
//! sequences, and (c) MobileNetV2's streams at several parameter sets (when the model is cached).
//! The digests were recorded with the bitvec-based packer the fast one replaced.

use bitvec::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sha2::{Digest, Sha256};
use weightstream::bits::to_le_bytes;
use weightstream::blocks::encode_blocks;
use weightstream::formats::EncodedStream;
use weightstream::study::bitio;
use weightstream::{Format, QuantMatrix, StreamParams};

/// The formats the digests were recorded with (the bitmap-huffman formats came later; their
/// examples, properties and the study cross-check pin them).
const PINNED: [Format; 4] = [Format::Dense, Format::Bitmap, Format::DeltaBitmap, Format::Csc];

fn hex(d: impl AsRef<[u8]>) -> String {
    d.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

fn hash_stream(h: &mut Sha256, s: &EncodedStream) {
    h.update((s.bits.len() as u64).to_le_bytes());
    h.update(to_le_bytes(&s.bits));
    h.update(format!("{:?}", s.sizes));
}

fn random_case(rng: &mut ChaCha8Rng) -> (QuantMatrix, StreamParams) {
    let q = rng.random_range(2u32..=16);
    let lanes: usize = match rng.random_range(0..4) {
        0 => rng.random_range(1..=8),
        1 => rng.random_range(9..=64),
        2 => 16,
        _ => rng.random_range(65..=200),
    };
    let rows: usize = match rng.random_range(0..3) {
        0 => rng.random_range(1..=lanes.max(2)),
        1 => rng.random_range(1..=300),
        _ => rng.random_range(1..=40),
    };
    let cols = rng.random_range(1..=40);
    let bus_bits = 8 * rng.random_range(1u32..=128);
    let run_bits = rng.random_range(1u32..=16);
    let min_p = usize::BITS - rows.leading_zeros();
    let count_bits = rng.random_range(min_p..=32);
    let density = [0.0, 0.02, 0.1, 0.3, 0.5, 0.9, 1.0][rng.random_range(0..7)];
    let half = 1i32 << (q - 1);
    let data = (0..rows * cols)
        .map(|_| {
            if rng.random_bool(density) {
                match rng.random_range(0..6) {
                    0 => -half,
                    1 => half - 1,
                    _ => rng.random_range(-half..half),
                }
            } else {
                0
            }
        })
        .collect();
    // The matrix's own `bits` need not be Q (delta wraps with it).
    let bits = if rng.random_bool(0.8) { q } else { rng.random_range(2u32..=16) };
    (
        QuantMatrix { rows, cols, bits, data },
        StreamParams { lanes, weight_bits: q, bus_bits, run_bits, count_bits, ..StreamParams::default() },
    )
}

fn hash_decode(h: &mut Sha256, format: Format, bits: &BitSlice<u64, Lsb0>, rows: usize, cols: usize, p: &StreamParams) {
    h.update(format!("{:?}", format.decode("x", bits, rows, cols, p)));
}

#[test]
fn formats_identity_random_layers() {
    let mut rng = ChaCha8Rng::seed_from_u64(0x5eed_0010);
    let mut h = Sha256::new();
    for _ in 0..1500 {
        let (w, p) = random_case(&mut rng);
        for format in PINNED {
            let s = match format.encode(&w, &p) {
                Ok(s) => s,
                Err(e) => {
                    h.update(format!("{e:?}"));
                    continue;
                }
            };
            hash_stream(&mut h, &s);
            hash_decode(&mut h, format, &s.bits, w.rows, w.cols, &p);
            let n = s.bits.len();
            // Truncated anywhere.
            let cut = rng.random_range(0..n.max(1));
            hash_decode(&mut h, format, &s.bits[..cut], w.rows, w.cols, &p);
            // A flipped bit.
            let mut flipped = s.bits.clone();
            let i = rng.random_range(0..n);
            let bit = flipped[i];
            flipped.set(i, !bit);
            hash_decode(&mut h, format, &flipped, w.rows, w.cols, &p);
            // Random garbage of the same length.
            let mut junk = s.bits.clone();
            for mut b in junk.iter_mut() {
                *b = rng.random_bool(0.5);
            }
            hash_decode(&mut h, format, &junk, w.rows, w.cols, &p);
            // Extra bits, zero or not.
            let mut longer = s.bits.clone();
            let extra = rng.random_range(1..=2 * p.bus_bits as usize);
            let one = rng.random_bool(0.5);
            for j in 0..extra {
                longer.push(one && j == extra - 1);
            }
            hash_decode(&mut h, format, &longer, w.rows, w.cols, &p);
            // A misaligned view of the same bits.
            let shift = rng.random_range(1..64);
            let mut padded: BitVec<u64, Lsb0> = BitVec::repeat(true, shift);
            padded.extend_from_bitslice(&s.bits);
            hash_decode(&mut h, format, &padded[shift..], w.rows, w.cols, &p);
            // Wrong shape.
            hash_decode(&mut h, format, &s.bits, w.rows + 1, w.cols, &p);
        }
    }
    assert_eq!(hex(h.finalize()), "4a75b49f8f08fc0c9c0079e347b50de77dd7b488bf5eb2da115ef2854dc80546");
}

#[test]
fn formats_identity_study_bitio() {
    let mut rng = ChaCha8Rng::seed_from_u64(0x5eed_0011);
    let mut h = Sha256::new();
    for _ in 0..300 {
        let mut w = bitio::BitWriter::with_capacity(rng.random_range(0..64));
        let mut fields = Vec::new();
        for _ in 0..rng.random_range(0..200) {
            match rng.random_range(0..3) {
                0 => {
                    let width = rng.random_range(0..=32);
                    let v: u64 = rng.random();
                    w.put(v, width);
                    fields.push((0, width));
                }
                1 => {
                    let width = rng.random_range(0..=64);
                    let v: u64 = rng.random();
                    w.put_wide(v & if width == 64 { u64::MAX } else { (1u64 << width) - 1 }, width);
                    fields.push((1, width));
                }
                _ => {
                    let n = rng.random_range(0..100u64);
                    w.put_ones(n);
                    w.put(0, 1);
                    fields.push((2, 0));
                }
            }
        }
        h.update(w.bit_len().to_le_bytes());
        let bytes = w.finish();
        h.update(&bytes);
        // Read back, with a reader over possibly truncated bytes.
        let keep = if rng.random_bool(0.3) { rng.random_range(0..=bytes.len()) } else { bytes.len() };
        let mut r = bitio::BitReader::new(&bytes[..keep]);
        for &(kind, width) in &fields {
            let got = match kind {
                0 => r.get(width),
                1 => r.get_wide(width),
                _ => r.get_unary(),
            };
            h.update(format!("{got:?} {} {}", r.bit_pos(), r.remaining()));
            if got.is_err() {
                break;
            }
        }
        h.update(format!("{}", r.peek(rng.random_range(0..=32))));
        let width = rng.random_range(1..=32);
        let symbols: Vec<u32> = (0..rng.random_range(0..100))
            .map(|_| rng.random::<u32>() & if width == 32 { u32::MAX } else { (1 << width) - 1 })
            .collect();
        let packed = bitio::pack(&symbols, width);
        h.update(&packed);
        h.update(format!("{:?}", bitio::unpack(&packed, width, symbols.len())));
        h.update(format!("{:?}", bitio::unpack(&packed, width, symbols.len() + 9)));
    }
    assert_eq!(hex(h.finalize()), "0df57dfe16b0e278a8a03d61cd7f1b6f45dbfc3a051151ab0a76858051c1ccc6");
}

#[test]
fn formats_identity_mobilenet_v2() {
    use weightstream::model::{Model, ModelSpec};
    use weightstream::prepare::{prepare, PrepareConfig};
    let Ok(model) = Model::load(&ModelSpec::MobileNetV2) else {
        eprintln!("MobileNetV2 not cached: skipped");
        return;
    };
    let settings: [(u32, f64, StreamParams, usize); 5] = [
        (8, 0.7, StreamParams::default(), 1 << 20),
        (8, 0.7, StreamParams::default(), 200),
        (
            4,
            0.5,
            StreamParams {
                lanes: 32,
                weight_bits: 4,
                bus_bits: 128,
                run_bits: 3,
                count_bits: 12,
                ..StreamParams::default()
            },
            256,
        ),
        (
            6,
            0.9,
            StreamParams {
                lanes: 8,
                weight_bits: 6,
                bus_bits: 24,
                run_bits: 5,
                count_bits: 11,
                ..StreamParams::default()
            },
            1 << 20,
        ),
        (
            16,
            0.3,
            StreamParams {
                lanes: 100,
                weight_bits: 16,
                bus_bits: 1024,
                run_bits: 2,
                count_bits: 16,
                ..StreamParams::default()
            },
            1 << 20,
        ),
    ];
    let mut digests = Vec::new();
    for (bits, sparsity, params, max_rows) in settings {
        let layers = prepare(&model, &PrepareConfig { bits, sparsity, ..PrepareConfig::default() }).expect("prepare");
        let mut h = Sha256::new();
        for l in &layers {
            for format in PINNED {
                let b = encode_blocks(format, &l.matrix, &params, max_rows).expect("encode");
                for s in &b.blocks {
                    hash_stream(&mut h, s);
                }
                assert_eq!(b.decode(&l.name).expect("decode"), l.matrix, "{} {format}", l.name);
            }
        }
        digests.push(hex(h.finalize()));
    }
    let recorded = [
        "f15ed1ea0adc324258c23ca5aee1f2d172275f2a9eed34f2cd1c691899e8adcf",
        "72592cd8189176cd965a70b848818bdf905d88ae6aff7cc4499b9c775157ec53",
        "1fc636528a30c9286e2f2bf6ea40372e38d00acb7ebae3206252b89623cfa51c",
        "be54b18242fb35b1339ad537fda08675e349ffdc66585cd8699ddc8984f78885",
        "282a4cb42c2b2b94bbe6e2e98cfcd696070103dca44eecd3ecc46de71705e5b6",
    ];
    assert_eq!(digests, recorded);
}

/// Encode errors: a value out of range is reported (first in row-major order) before a CSC count
/// overflow, whichever column each is in, exactly as when the range was checked first.
#[test]
fn formats_identity_encode_error_precedence() {
    use weightstream::formats::csc::column_entries;
    use weightstream::formats::EncodeError;
    let mut rng = ChaCha8Rng::seed_from_u64(0x5eed_0012);
    for _ in 0..400 {
        let (mut w, mut p) = random_case(&mut rng);
        p.count_bits = rng.random_range(1..=4);
        let half = 1i32 << (p.weight_bits - 1);
        let bad: Vec<usize> = (0..rng.random_range(0..3)).map(|_| rng.random_range(0..w.data.len())).collect();
        for &i in &bad {
            w.data[i] =
                if rng.random_bool(0.5) { half + rng.random_range(0..5) } else { -half - 1 - rng.random_range(0..5) };
        }
        let first_bad = w.data.iter().position(|&v| v < -half || v >= half);
        let cm = w.column_major();
        let mut entries = Vec::new();
        let overflow = cm.chunks_exact(w.rows).enumerate().find_map(|(k, column)| {
            column_entries(column, p.run_bits, &mut entries);
            (entries.len() >> p.count_bits != 0).then_some((k, entries.len()))
        });
        for format in PINNED {
            let got = format.encode(&w, &p).map(|s| s.bits.len());
            match (first_bad, overflow) {
                (Some(i), _) => assert_eq!(
                    got,
                    Err(EncodeError::ValueOutOfRange {
                        row: i / w.cols,
                        col: i % w.cols,
                        value: w.data[i],
                        bits: p.weight_bits
                    }),
                    "{format}"
                ),
                (None, Some((col, count))) if format == Format::Csc => {
                    assert_eq!(got, Err(EncodeError::CountOverflow { col, count, bits: p.count_bits }))
                }
                _ => assert!(got.is_ok(), "{format}: {got:?}"),
            }
        }
    }
}
