//! Canonical, length-limited Huffman codes: optimal code lengths from symbol counts (Huffman's,
//! or package-merge's where the length limit binds), and the canonical code of each length.
//! Shared by the study's `huffman` stage and the `bitmap-huffman` and `lane-huffman` stream
//! formats, so that all spend exactly the same bits on the same symbols.

use std::ops::Add;

/// More distinct symbols than codes of at most `max_len` bits can tell apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{symbols} symbols need codes longer than {max_len} bits")]
pub struct TooManySymbols {
    /// Distinct symbols.
    pub symbols: usize,
    /// The length limit.
    pub max_len: u32,
}

/// Optimal code lengths for `counts` (one per symbol, parallel to it), each in 1..=`max_len`
/// (1..=32), forming a complete code (Kraft sum exactly 1): no prefix code whose lengths are all
/// at most `max_len` spends fewer bits, sum(count * length), on these counts.
///
/// - When plain Huffman's lengths fit the limit they are the answer (they are optimal); they are
///   built by repeatedly merging the two lightest nodes, the lower-indexed first on equal
///   weights (leaves are nodes 0..n, each merged node numbered after them in order of creation).
/// - When the limit binds, the lengths come from package-merge (Larmore and Hirschberg 1990):
///   symbols are ranked by count, and among equal counts the higher index ranks lighter; on each
///   of `max_len` levels the ranked symbols are merged with the pairs ("packages") of the level
///   below, a symbol before a package of equal weight, and a symbol's length is the number of
///   levels whose chosen items include it. Lengths therefore never increase with the count, and
///   among equal counts the lower index never gets the longer code. O(n * L) time, O(n) words
///   plus 2n * L bits of memory.
///
/// A single symbol gets length 1. More than 2^max_len symbols is an error.
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
    // Weights are sums of counts: u64 when the counts' total fits (always, for counts of symbols
    // held in memory), else u128, so that no sum overflows.
    if counts.iter().try_fold(0u64, |sum, &c| sum.checked_add(c)).is_some() {
        Ok(limited::<u64>(counts, max_len))
    } else {
        Ok(limited::<u128>(counts, max_len))
    }
}

/// A node's weight: a count, or a sum of counts.
trait Weight: Copy + Ord + Add<Output = Self> + From<u64> {}

impl<W: Copy + Ord + Add<Output = W> + From<u64>> Weight for W {}

/// [`code_lengths`] for 2 <= n <= 2^max_len counts whose sums fit in `W`.
fn limited<W: Weight>(counts: &[u64], max_len: u32) -> Vec<u32> {
    // Symbols by count, equal counts by index.
    let mut order: Vec<usize> = (0..counts.len()).collect();
    order.sort_unstable_by_key(|&i| (counts[i], i));
    let lengths = huffman_lengths::<W>(counts, &order);
    if lengths.iter().all(|&l| l <= max_len) {
        return lengths;
    }
    // Package-merge's ranking: equal counts by descending index.
    for run in order.chunk_by_mut(|&a, &b| counts[a] == counts[b]) {
        run.reverse();
    }
    package_merge::<W>(counts, &order, max_len)
}

/// Plain (unlimited) Huffman code lengths for n >= 2 counts, `order` the symbols by (count,
/// index). Merges the two lightest nodes, the lower node index first on equal weights (leaves
/// are nodes 0..n, merged nodes n, n + 1, ... in order of creation). As merged weights never
/// decrease, the leaves in `order` and the merged nodes in order of creation are two queues each
/// sorted by (weight, node index), and the lightest node is the lighter of their fronts (the leaf
/// on equal weights, its index being lower): no heap is needed.
fn huffman_lengths<W: Weight>(counts: &[u64], order: &[usize]) -> Vec<u32> {
    let n = counts.len();
    let mut parent = vec![0usize; 2 * n - 1];
    let mut merged: Vec<W> = Vec::with_capacity(n - 1);
    let (mut leaf, mut next) = (0, 0);
    for node in n..2 * n - 1 {
        let mut weight = None;
        for _ in 0..2 {
            let take_leaf = leaf < n && (next == merged.len() || W::from(counts[order[leaf]]) <= merged[next]);
            let (w, child) = if take_leaf {
                leaf += 1;
                (W::from(counts[order[leaf - 1]]), order[leaf - 1])
            } else {
                next += 1;
                (merged[next - 1], n + next - 1)
            };
            parent[child] = node;
            weight = Some(weight.map_or(w, |v: W| v + w));
        }
        merged.extend(weight);
    }
    let root = 2 * n - 2;
    let mut depth = vec![0u32; 2 * n - 1];
    for i in (0..root).rev() {
        depth[i] = depth[parent[i]] + 1;
    }
    depth.truncate(n);
    depth
}

/// Optimal lengths limited to `max_len` for 2 <= n <= 2^max_len counts, by package-merge; `rank`
/// the symbols lightest first (by count, equal counts by descending index).
///
/// Level 1 holds the code's top bit, level L its deepest. The list of level L is the n symbols
/// ranked lightest first; the list of level l - 1 merges the ranked symbols with the packages of
/// level l's list (items 2k and 2k + 1 summed, in order), a symbol before a package of equal
/// weight. Level 1's lightest 2n - 2 items are chosen; a package chosen on level l chooses the
/// two items of level l + 1 it sums, so level l + 1 chooses a prefix of its list, twice as long
/// as the number of packages chosen on level l. The symbols chosen on a level are a prefix of the
/// ranking, and a symbol's length is the number of levels that choose it. No list needs more
/// than 2n - 2 items (only those can be chosen), and no level deeper than n - 1 (no code of n
/// symbols needs a longer length), so only which of each list's items are packages is kept:
/// 2n * L bits.
fn package_merge<W: Weight>(counts: &[u64], rank: &[usize], max_len: u32) -> Vec<u32> {
    let n = counts.len();
    let levels = (max_len as usize).min(n - 1);
    let cap = 2 * n - 2;
    let leaf: Vec<W> = rank.iter().map(|&i| W::from(counts[i])).collect();
    let words = cap.div_ceil(64);
    // is_package[(l - 1) * words ..][k]: item k of level l's list is a package.
    let mut is_package = vec![0u64; levels * words];
    let mut list: Vec<W> = leaf[..n.min(cap)].to_vec();
    let mut next: Vec<W> = Vec::with_capacity(cap);
    for level in (1..levels).rev() {
        // Level `level`'s list from level `level + 1`'s (`list`).
        let flags = &mut is_package[(level - 1) * words..level * words];
        next.clear();
        let packages = list.len() / 2;
        let (mut i, mut k) = (0, 0);
        while next.len() < cap && (i < n || k < packages) {
            if k < packages && (i == n || list[2 * k] + list[2 * k + 1] < leaf[i]) {
                flags[next.len() / 64] |= 1 << (next.len() % 64);
                next.push(list[2 * k] + list[2 * k + 1]);
                k += 1;
            } else {
                next.push(leaf[i]);
                i += 1;
            }
        }
        std::mem::swap(&mut list, &mut next);
    }
    // Choose from level 1 down: `chosen` items of each level's list; its symbols are the first
    // (chosen - packages) of the ranking.
    let mut deeper = vec![0u32; n + 1];
    let mut chosen = cap;
    for level in 1..=levels {
        let flags = &is_package[(level - 1) * words..level * words];
        let whole = chosen / 64;
        let mut packages: usize = flags[..whole].iter().map(|w| w.count_ones() as usize).sum();
        if chosen % 64 != 0 {
            packages += (flags[whole] & ((1u64 << (chosen % 64)) - 1)).count_ones() as usize;
        }
        // Every symbol ranked before chosen - packages gains a bit on this level.
        deeper[chosen - packages] += 1;
        chosen = 2 * packages;
    }
    // A symbol's length: the levels choosing it, i.e. those whose prefix reaches past its rank.
    let mut lengths = vec![0u32; n];
    let mut len = 0u32;
    for r in (0..n).rev() {
        len += deeper[r + 1];
        lengths[rank[r]] = len;
    }
    lengths
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
    fn package_merge_where_the_limit_binds() {
        // Huffman: 4, 4, 3, 2, 1 (too long for 3); the optimal limited code costs 519 bits.
        assert_eq!(code_lengths(&[1, 2, 55, 100, 100], 32), Ok(vec![4, 4, 3, 2, 1]));
        assert_eq!(code_lengths(&[1, 2, 55, 100, 100], 3), Ok(vec![3, 3, 2, 2, 2]));
        // Equal counts: the lower index never gets the longer code (Huffman: 4, 4, 3, 3, 3, 1).
        assert_eq!(code_lengths(&[2, 2, 2, 2, 2, 100], 3), Ok(vec![2, 3, 3, 3, 3, 2]));
        assert_eq!(package_merge::<u64>(&[5, 5, 5, 5, 5], &[4, 3, 2, 1, 0], 3), [2, 2, 2, 3, 3]);
        // 2^L symbols: all of length L.
        assert_eq!(code_lengths(&[1, 2, 4, 8, 16, 32, 64, 128], 3), Ok(vec![3; 8]));
    }

    #[test]
    fn canonical_codes_count_up_by_length() {
        let codes = canonical(&[(9, 2), (3, 1), (5, 3), (1, 3)]);
        assert_eq!(codes, vec![(3, 1, 0b0), (9, 2, 0b10), (1, 3, 0b110), (5, 3, 0b111)]);
        assert_eq!(reverse_bits(0b110, 3), 0b011);
    }
}
