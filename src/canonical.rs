//! Canonical, length-limited Huffman codes: code lengths from symbol counts, and the canonical
//! code of each length. Shared by the study's `huffman` stage and the `bitmap-huffman` stream
//! formats, so that both spend exactly the same bits on the same symbols.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// More distinct symbols than codes of at most `max_len` bits can tell apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{symbols} symbols need codes longer than {max_len} bits")]
pub struct TooManySymbols {
    /// Distinct symbols.
    pub symbols: usize,
    /// The length limit.
    pub max_len: u32,
}

/// Huffman code lengths for `counts` (one per symbol, parallel to it), each at most `max_len`
/// (1..=32). A single symbol gets length 1. Deterministic: ties go to the lower index.
pub fn code_lengths(counts: &[u64], max_len: u32) -> Result<Vec<u32>, TooManySymbols> {
    let n = counts.len();
    if n == 0 {
        return Ok(Vec::new());
    }
    if max_len < 32 && n > 1usize << max_len {
        return Err(TooManySymbols { symbols: n, max_len });
    }
    if n == 1 {
        return Ok(vec![1]);
    }
    // Plain Huffman: nodes 0..n are leaves, parents after.
    let mut parent = vec![0usize; 2 * n - 1];
    let mut heap: BinaryHeap<Reverse<(u64, usize)>> =
        counts.iter().enumerate().map(|(i, &c)| Reverse((c, i))).collect();
    let mut next = n;
    while heap.len() > 1 {
        let Reverse((ca, a)) = heap.pop().unwrap_or(Reverse((0, 0)));
        let Reverse((cb, b)) = heap.pop().unwrap_or(Reverse((0, 0)));
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
    let longest = *lengths.iter().max().unwrap_or(&0);
    if longest <= max_len {
        return Ok(lengths);
    }
    // Length limiting (as zlib/miniz do): fold every longer code into length L, then repair the
    // Kraft sum by moving leaves down from shorter lengths; lengths go to symbols by frequency.
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
    Ok(lengths)
}

/// Canonical codes for `(symbol, length)` pairs: `(symbol, length, code)` in canonical order
/// (by length, then symbol), codes as MSB-first values. The first code of the shortest length
/// is 0; each next code is the previous plus one, shifted left by the length's increase.
pub fn canonical(pairs: &[(u32, u32)]) -> Vec<(u32, u32, u64)> {
    let mut sorted: Vec<(u32, u32)> = pairs.iter().map(|&(s, l)| (l, s)).collect();
    sorted.sort_unstable();
    let mut code = 0u64;
    let mut prev_len = 0u32;
    let mut out = Vec::with_capacity(sorted.len());
    for (len, sym) in sorted {
        code <<= len - prev_len;
        out.push((sym, len, code));
        code += 1;
        prev_len = len;
    }
    out
}

/// `code`'s low `len` bits in reverse order: the field that puts the code's most significant
/// bit first into an LSB-first stream.
pub fn reverse_bits(code: u64, len: u32) -> u64 {
    if len == 0 {
        0
    } else {
        code.reverse_bits() >> (64 - len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_are_limited_and_complete() {
        let counts: Vec<u64> = (0..40).map(|i| 1u64 << (i % 20)).collect();
        for max_len in [6, 8, 12, 32] {
            let lengths = code_lengths(&counts, max_len).unwrap();
            assert!(lengths.iter().all(|&l| (1..=max_len).contains(&l)));
            let kraft: u64 = lengths.iter().map(|&l| 1u64 << (32 - l)).sum();
            assert_eq!(kraft, 1u64 << 32, "max_len {max_len}");
        }
        assert_eq!(code_lengths(&counts, 5), Err(TooManySymbols { symbols: 40, max_len: 5 }));
        assert_eq!(code_lengths(&[7], 12), Ok(vec![1]));
    }

    #[test]
    fn canonical_codes_count_up_by_length() {
        let codes = canonical(&[(9, 2), (3, 1), (5, 3), (1, 3)]);
        assert_eq!(codes, vec![(3, 1, 0b0), (9, 2, 0b10), (1, 3, 0b110), (5, 3, 0b111)]);
        assert_eq!(reverse_bits(0b110, 3), 0b011);
    }
}
