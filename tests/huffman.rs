//! The bitmap-huffman formats: every header error and the invalid code, with the offset each
//! names; and, per layer of the real MobileNetV2, that the format's size is the study's Huffman
//! coding of the same values plus only what the format spells out (its header, the masks, the
//! last word's fill). And the code lengths both use (`canonical::code_lengths`): complete and
//! limited, optimal against an exhaustive search, plain Huffman's wherever those fit, and never
//! worse than the zlib-style folding they replaced (kept here as the reference).

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use bitvec::prelude::*;
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use weightstream::canonical::{code_lengths, TooManySymbols};
use weightstream::formats::huffman::{read_table, CodeTable, LMAX_BITS, MAX_CODE_LEN};
use weightstream::formats::DecodeErrorKind;
use weightstream::model::{Model, ModelSpec};
use weightstream::prepare::{prepare, PrepareConfig};
use weightstream::study::stages::huffman::table as study_table;
use weightstream::{Format, StreamParams};

use crate::util::{doc_params, matrix, stream};

const BOTH: [Format; 2] = [Format::BitmapHuffman, Format::DeltaBitmapHuffman];

fn decode_err(bits: &BitSlice<u64, Lsb0>, rows: usize, cols: usize) -> weightstream::formats::DecodeError {
    Format::BitmapHuffman.decode("layer.h", bits, rows, cols, &doc_params()).unwrap_err()
}

#[test]
fn header_errors_name_their_field() {
    // lmax above H.
    let e = decode_err(&stream(&[(13, 5)]), 5, 2);
    assert_eq!(e.kind, DecodeErrorKind::CodeTooLong { len: 13, limit: MAX_CODE_LEN });
    assert_eq!(e.offset, 0);
    // Three codes of length 1.
    let e = decode_err(&stream(&[(2, 5), (3, 4)]), 5, 2);
    assert_eq!(e.kind, DecodeErrorKind::CodeOversubscribed { len: 1 });
    assert_eq!(e.offset, 5);
    // One code of length 1, one of length 2: a quarter of the code space unused.
    let e = decode_err(&stream(&[(2, 5), (1, 4), (1, 4)]), 5, 2);
    assert_eq!(e.kind, DecodeErrorKind::CodeIncomplete);
    assert_eq!(e.offset, 9);
    // lmax 1 with no code at all is incomplete too.
    let e = decode_err(&stream(&[(1, 5), (0, 4)]), 5, 2);
    assert_eq!(e.kind, DecodeErrorKind::CodeIncomplete);
    // 15 codes of length 4 and 2 of length 5 are a complete code, but of 17 symbols: more than
    // the 2^Q = 16 values of Q = 4 bits.
    let e = decode_err(&stream(&[(5, 5), (0, 4), (0, 4), (0, 4), (15, 4), (2, 4)]), 5, 2);
    assert_eq!(e.kind, DecodeErrorKind::TooManyCodes { codes: 17, limit: 16 });
    assert_eq!(e.offset, 21);
    // A header cut short is truncation, at the field it cuts.
    let e = decode_err(&stream(&[(3, 5), (0, 4), (3, 4)])[..12], 5, 2);
    assert_eq!(e.kind, DecodeErrorKind::Truncated { need: 4, have: 3 });
    assert_eq!(e.offset, 9);
}

#[test]
fn invalid_and_cut_codes() {
    // One symbol (7), code "0": a "1" is invalid. O = 1, K = 2: mask 1, code 0 | mask 1, code 1.
    let one = [(1, 5), (1, 4), (7, 4)];
    let good = stream(&[one[0], one[1], one[2], (1, 1), (0, 1), (1, 1), (0, 1)]);
    let w = Format::BitmapHuffman.decode("l", &good, 1, 2, &doc_params()).unwrap();
    assert_eq!(w.data, [7, 7]);
    let bad = stream(&[one[0], one[1], one[2], (1, 1), (0, 1), (1, 1), (1, 1)]);
    let e = decode_err(&bad, 1, 2);
    assert_eq!(e.kind, DecodeErrorKind::InvalidCode);
    assert_eq!(e.offset, 16);
    // No codes (lmax 0) and a set mask bit: invalid at once.
    let e = decode_err(&stream(&[(0, 5), (1, 1)]), 1, 2);
    assert_eq!(e.kind, DecodeErrorKind::InvalidCode);
    assert_eq!(e.offset, 6);
    // A code cut by the stream's end: the doc example's last code (01 for -8, bits 59..61) with
    // the stream cut after its first bit (no whole words: the golden decoder reads any length).
    let s = Format::BitmapHuffman.encode(&doc_matrix(), &doc_params()).unwrap();
    let e = decode_err(&s.bits[..60], 5, 2);
    assert_eq!(e.kind, DecodeErrorKind::Truncated { need: 2, have: 1 });
    assert_eq!(e.offset, 59);
}

fn doc_matrix() -> weightstream::QuantMatrix {
    matrix(&[&[3, 3], &[0, 0], &[-2, 0], &[0, 5], &[7, -8]], 4)
}

#[test]
fn header_round_trips_through_the_reader() {
    let mut hist = vec![0u64; 16];
    for (s, n) in [(1, 40), (2, 3), (5, 9), (9, 1), (15, 22)] {
        hist[s] = n;
    }
    let t = CodeTable::from_histogram(&hist, MAX_CODE_LEN).unwrap();
    let mut fields = vec![(u64::from(t.lmax), LMAX_BITS as usize)];
    fields.extend(t.counts.iter().map(|&n| (n, 4)));
    fields.extend(t.symbols.iter().map(|&s| (u64::from(s), 4)));
    let bits = stream(&fields);
    let mut r = weightstream::bits::BitReader::new(&bits);
    assert_eq!(read_table(&mut r, 4).unwrap(), t);
    assert_eq!(r.position(), t.header_bits(4));
}

/// The Q-bit patterns of a layer's nonzero values (of W, or of D along k) in stream order.
fn nonzero_symbols(w: &weightstream::QuantMatrix, p: &StreamParams, delta: bool) -> Vec<u32> {
    let m = if delta { w.delta_along_k() } else { w.clone() };
    weightstream::pe::beats(&m, p)
        .into_iter()
        .filter(|&v| v != 0)
        .map(|v| (v as u32) & ((1 << p.weight_bits) - 1))
        .collect()
}

#[test]
fn format_is_the_study_huffman_plus_header_masks_and_fill() {
    let model = Model::load(&ModelSpec::parse("mobilenet_v2").unwrap()).unwrap();
    let p = StreamParams::default();
    let mut checked = 0;
    for sparsity in [0.5, 0.7, 0.9] {
        let cfg = PrepareConfig { sparsity, ..PrepareConfig::default() };
        let layers = prepare(&model, &cfg).unwrap();
        eprintln!("sparsity {sparsity}: layer, format, study huffman:12 code bits, header, masks, fill = stream bits");
        for layer in &layers {
            let w = &layer.matrix;
            for (format, delta) in [(Format::BitmapHuffman, false), (Format::DeltaBitmapHuffman, true)] {
                let s = format.encode(w, &p).unwrap();
                let symbols = nonzero_symbols(w, &p, delta);
                // The study's coder on the same symbols: its table's lengths times the counts.
                let pairs = study_table(&symbols, p.weight_bits, MAX_CODE_LEN).unwrap();
                let len_of = |sym: u32| pairs.iter().find(|&&(s, _)| s == sym).map(|&(_, l)| u64::from(l)).unwrap();
                let study_bits: u64 = symbols.iter().map(|&sym| len_of(sym)).sum();
                let header = u64::from(LMAX_BITS)
                    + u64::from(p.weight_bits)
                        * (u64::from(pairs.iter().map(|p| p.1).max().unwrap_or(0)) + pairs.len() as u64);
                let masks = w.len() as u64;
                let fill = s.bits.len() as u64 - (study_bits + header + masks);
                assert_eq!(s.sizes.payload_bits, study_bits, "{} {format}", layer.name);
                assert_eq!(s.sizes.metadata_bits, header + masks, "{} {format}", layer.name);
                assert!(fill < u64::from(p.bus_bits), "{} {format}: fill {fill}", layer.name);
                assert_eq!(s.sizes.padding_bits, fill, "{} {format}", layer.name);
                assert_eq!(s.decode(&layer.name).unwrap(), *w, "{} {format} round trip", layer.name);
                eprintln!("  {} {format}: {study_bits} + {header} + {masks} + {fill} = {}", layer.name, s.bits.len());
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 3 * 2 * 53, "every layer of MobileNetV2 at three sparsities, both formats");
}

#[test]
fn doc_examples_decode_and_reencode() {
    for format in BOTH {
        let s = format.encode(&doc_matrix(), &doc_params()).unwrap();
        assert_eq!(s.decode("x").unwrap(), doc_matrix());
        // Any single flipped bit is caught or decodes to something else, never a panic.
        for i in 0..s.bits.len() {
            let mut bits = s.bits.clone();
            let b = !bits[i];
            bits.set(i, b);
            if let Ok(w) = format.decode("x", &bits, 5, 2, &doc_params()) {
                assert_ne!(w, doc_matrix(), "{format}: flipping bit {i} changed nothing");
            }
        }
    }
}

/// The code lengths before package-merge: plain Huffman (ties to the lower node index), and where
/// the limit binds, zlib/miniz's folding (every longer code to length L, the Kraft sum repaired
/// by moving leaves down from shorter lengths, lengths to symbols by count, ties to the lower
/// index). Kept verbatim as the reference the new lengths must equal or beat.
fn old_code_lengths(counts: &[u64], max_len: u32) -> Vec<u32> {
    let n = counts.len();
    if n == 1 {
        return vec![1];
    }
    let mut parent = vec![0usize; 2 * n - 1];
    let mut heap: BinaryHeap<Reverse<(u64, usize)>> =
        counts.iter().enumerate().map(|(i, &c)| Reverse((c, i))).collect();
    let mut next = n;
    while heap.len() > 1 {
        let Reverse((ca, a)) = heap.pop().unwrap();
        let Reverse((cb, b)) = heap.pop().unwrap();
        parent[a] = next;
        parent[b] = next;
        heap.push(Reverse((ca + cb, next)));
        next += 1;
    }
    let root = next - 1;
    let mut depth = vec![0u32; 2 * n - 1];
    for i in (0..root).rev() {
        depth[i] = depth[parent[i]] + 1;
    }
    let mut lengths: Vec<u32> = depth[..n].to_vec();
    if *lengths.iter().max().unwrap() <= max_len {
        return lengths;
    }
    let l = max_len as usize;
    let mut num = vec![0u64; l + 1];
    for &len in &lengths {
        num[(len as usize).min(l)] += 1;
    }
    let mut total: u64 = (1..=l).map(|i| num[i] << (l - i)).sum();
    while total > 1u64 << l {
        num[l] -= 1;
        for i in (1..l).rev() {
            if num[i] != 0 {
                num[i] -= 1;
                num[i + 1] += 2;
                break;
            }
        }
        total -= 1;
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&i| (Reverse(counts[i]), i));
    let mut it = order.into_iter();
    for (len, &k) in num.iter().enumerate().skip(1) {
        for _ in 0..k {
            if let Some(i) = it.next() {
                lengths[i] = len as u32;
            }
        }
    }
    lengths
}

/// The unlimited Huffman code's longest length (the old coder's first step).
fn huffman_longest(counts: &[u64]) -> u32 {
    *old_code_lengths(counts, u32::MAX).iter().max().unwrap()
}

fn cost(counts: &[u64], lengths: &[u32]) -> u128 {
    counts.iter().zip(lengths).map(|(&c, &l)| u128::from(c) * u128::from(l)).sum()
}

/// Every length in 1..=max_len and the Kraft sum exactly 1, counted exactly in units of 2^-64.
fn assert_complete_and_limited(counts: &[u64], max_len: u32, lengths: &[u32]) {
    assert_eq!(lengths.len(), counts.len());
    assert!(lengths.iter().all(|&l| (1..=max_len).contains(&l)), "{counts:?} L {max_len}: {lengths:?}");
    if counts.len() > 1 {
        let kraft: u128 = lengths.iter().map(|&l| 1u128 << (64 - l)).sum();
        assert_eq!(kraft, 1u128 << 64, "{counts:?} L {max_len}: {lengths:?} not complete");
    }
}

/// The cheapest total over every length vector in 1..=max_len^n with Kraft sum <= 1.
fn exhaustive_best(counts: &[u64], max_len: u32) -> u128 {
    fn go(counts: &[u64], max_len: u32, kraft: u64, spent: u128, best: &mut u128) {
        let Some((&c, rest)) = counts.split_first() else {
            *best = (*best).min(spent);
            return;
        };
        for l in 1..=max_len {
            let k = kraft + (1u64 << (max_len - l));
            if k <= 1u64 << max_len {
                go(rest, max_len, k, spent + u128::from(c) * u128::from(l), best);
            }
        }
    }
    let mut best = u128::MAX;
    go(counts, max_len, 0, 0, &mut best);
    best
}

/// Bits needed to give n symbols distinct codes: ceil(log2 n).
fn min_len(n: usize) -> u32 {
    usize::BITS - (n - 1).leading_zeros()
}

/// Skewed counts: 2^e plus up to as much again, e in 0..max_exp, so that plain Huffman's
/// lengths often exceed a limit.
fn skewed(rng: &mut ChaCha8Rng, n: usize, max_exp: u32) -> Vec<u64> {
    (0..n)
        .map(|_| {
            let e = rng.random_range(0..max_exp);
            (1u64 << e) + rng.random_range(0..=1u64 << e)
        })
        .collect()
}

#[test]
fn lengths_are_optimal_against_exhaustive_search() {
    let mut rng = ChaCha8Rng::seed_from_u64(20);
    let mut bound = 0;
    for case in 0..3000 {
        let n = rng.random_range(2..=8usize);
        let max_len = rng.random_range(min_len(n).max(1)..=if n <= 6 { 6 } else { 5 });
        let counts =
            if case % 4 == 0 { (0..n).map(|_| rng.random_range(1..=4)).collect() } else { skewed(&mut rng, n, 16) };
        let lengths = code_lengths(&counts, max_len).unwrap();
        assert_complete_and_limited(&counts, max_len, &lengths);
        assert_eq!(cost(&counts, &lengths), exhaustive_best(&counts, max_len), "{counts:?} L {max_len}: {lengths:?}");
        bound += usize::from(huffman_longest(&counts) > max_len);
    }
    // Package-merge, not Huffman, answered a good share of them.
    assert!(bound > 600, "the limit bound in only {bound} of 3000 cases");
}

#[test]
fn folding_was_strictly_worse_here() {
    // Huffman's lengths 4, 4, 3, 2, 1 are too long for L = 3. Folding made 3, 3, 3, 2, 3 -> 3, 3,
    // 3, 1, 3 (574 bits: the second 100 pays 3 bits); the optimal code is 3, 3, 2, 2, 2 (519).
    let counts = [1, 2, 55, 100, 100];
    let old = old_code_lengths(&counts, 3);
    let new = code_lengths(&counts, 3).unwrap();
    assert_eq!(old, [3, 3, 3, 1, 3]);
    assert_eq!(new, [3, 3, 2, 2, 2]);
    assert_eq!(cost(&counts, &old) - cost(&counts, &new), 574 - 519);
    // Over many skewed histograms where the limit binds: never worse, and often strictly better.
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let (mut bound, mut better) = (0, 0);
    for _ in 0..2000 {
        let n = rng.random_range(2..=300usize);
        let max_len = rng.random_range(min_len(n).max(1)..=16);
        let counts = skewed(&mut rng, n, 24);
        if huffman_longest(&counts) <= max_len {
            continue;
        }
        bound += 1;
        let old = cost(&counts, &old_code_lengths(&counts, max_len));
        let new = cost(&counts, &code_lengths(&counts, max_len).unwrap());
        assert!(new <= old, "{counts:?} L {max_len}: {new} > {old}");
        better += usize::from(new < old);
    }
    assert!(bound > 500 && better > bound / 4, "bound {bound}, strictly better {better}");
}

#[test]
fn edge_cases_keep_their_answers() {
    assert_eq!(code_lengths(&[], 12), Ok(vec![]));
    assert_eq!(code_lengths(&[9], 1), Ok(vec![1]));
    assert_eq!(code_lengths(&[9, 1], 1), Ok(vec![1, 1]));
    assert_eq!(code_lengths(&[1; 5], 2), Err(TooManySymbols { symbols: 5, max_len: 2 }));
    // Exactly 2^L symbols, however skewed: all of length L.
    let counts: Vec<u64> = (0..16).map(|i| 1 << (2 * i)).collect();
    assert_eq!(code_lengths(&counts, 4), Ok(vec![4; 16]));
    // Zero counts are symbols too.
    let lengths = code_lengths(&[0, 0, 0, 1 << 40, 5], 3).unwrap();
    assert_complete_and_limited(&[0, 0, 0, 1 << 40, 5], 3, &lengths);
    // Counts whose sums pass u64::MAX: no weight overflows (a wrapped sum would put two of
    // these four at length 3), nor in package-merge.
    let huge = u64::MAX / 5 * 3;
    assert_eq!(code_lengths(&[huge; 4], 32), Ok(vec![2; 4]));
    let counts = [huge, huge, huge, 1, 1, 1];
    assert_eq!(code_lengths(&counts, 32), Ok(vec![2, 2, 2, 4, 4, 3]));
    let lengths = code_lengths(&counts, 3).unwrap();
    assert_eq!(lengths, [2, 2, 3, 3, 3, 3]);
    assert_eq!(cost(&counts, &lengths), exhaustive_best(&counts, 3));
}

#[test]
fn a_large_alphabet_is_fast_and_complete() {
    // 2^16 symbols with Zipf-like counts, limited to 17 and to 20 bits: package-merge on 65536
    // symbols must stay O(n * L).
    let n = 1 << 16;
    let counts: Vec<u64> = (0..n as u64).map(|i| 1 + (1u64 << 40) / (i * i + 1)).collect();
    let start = std::time::Instant::now();
    for max_len in [16, 17, 20] {
        assert!(huffman_longest(&counts) > max_len);
        let lengths = code_lengths(&counts, max_len).unwrap();
        assert_complete_and_limited(&counts, max_len, &lengths);
        assert!(cost(&counts, &lengths) <= cost(&counts, &old_code_lengths(&counts, max_len)));
    }
    assert!(start.elapsed().as_secs() < 20, "{:?}", start.elapsed());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

    /// Any histogram, any feasible limit: lengths in 1..=L, Kraft sum exactly 1, lengths never
    /// longer for a larger count, never worse than folding, and plain Huffman's exactly when they
    /// fit (every existing stream keeps its code).
    #[test]
    fn lengths_complete_limited_and_huffman_where_it_fits(
        exps in prop::collection::vec((0u32..40, any::<u64>()), 2..400),
        slack in 0u32..12,
    ) {
        let counts: Vec<u64> = exps.iter().map(|&(e, m)| (1u64 << e) + m % (1u64 << e)).collect();
        let max_len = min_len(counts.len()).max(1) + slack;
        let lengths = code_lengths(&counts, max_len).unwrap();
        assert_complete_and_limited(&counts, max_len, &lengths);
        for i in 0..counts.len() {
            for j in 0..counts.len() {
                if counts[i] > counts[j] {
                    prop_assert!(lengths[i] <= lengths[j], "{:?}", (counts[i], lengths[i], counts[j], lengths[j]));
                }
            }
        }
        let old = old_code_lengths(&counts, max_len);
        if huffman_longest(&counts) <= max_len {
            prop_assert_eq!(&lengths, &old);
        } else {
            prop_assert!(cost(&counts, &lengths) <= cost(&counts, &old));
            // Ties: among equal counts the lower index never gets the longer code.
            for i in 0..counts.len() {
                for j in i + 1..counts.len() {
                    if counts[i] == counts[j] {
                        prop_assert!(lengths[i] <= lengths[j]);
                    }
                }
            }
        }
    }

    /// Small counts, zeros among them: ties everywhere. They land where the heap-based Huffman
    /// put them whenever its lengths fit, and otherwise the lower index never gets the longer
    /// code of two equal counts.
    #[test]
    fn ties_land_where_they_did(counts in prop::collection::vec(0u64..6, 2..300), slack in 0u32..6) {
        let max_len = min_len(counts.len()).max(1) + slack;
        let lengths = code_lengths(&counts, max_len).unwrap();
        assert_complete_and_limited(&counts, max_len, &lengths);
        let old = old_code_lengths(&counts, max_len);
        if huffman_longest(&counts) <= max_len {
            prop_assert_eq!(&lengths, &old);
        } else {
            prop_assert!(cost(&counts, &lengths) <= cost(&counts, &old));
            for c in 0..6 {
                let of_c: Vec<u32> = (0..counts.len()).filter(|&i| counts[i] == c).map(|i| lengths[i]).collect();
                prop_assert!(of_c.is_sorted(), "count {}: lengths {:?}", c, of_c);
            }
        }
    }
}
