//! k-means weight sharing (Deep Compression style): after pruning, a layer's nonzero weights
//! share at most 2^Q - 1 values (plus the pruned zero). Negative and positive weights are
//! clustered separately, 2^(Q-1) and 2^(Q-1) - 1 centroids, so that the cluster index is a Q-bit
//! signed integer whose sign and order follow the weight's (0 stays "pruned"). Initialisation is
//! linear over each side's range (deterministic, as Deep Compression recommends); Lloyd
//! iterations run on the sorted weights with prefix sums. The codebook (fp32 per centroid) is
//! what [`codebook_bits`] counts.

use crate::matrix::QuantMatrix;

/// Lloyd iterations at most.
const ITERATIONS: usize = 30;

/// Bits of one layer's codebook: (2^Q - 1) fp32 centroids.
pub fn codebook_bits(bits: u32) -> u64 {
    ((1u64 << bits) - 1) * 32
}

/// 1-D k-means of sorted `xs` with `k` centroids, linear init over [min, max]. Returns the
/// centroids ascending (empty clusters keep their initial value).
fn kmeans_sorted(xs: &[f64], k: usize) -> Vec<f64> {
    if xs.is_empty() || k == 0 {
        return Vec::new();
    }
    let (lo, hi) = (xs[0], xs[xs.len() - 1]);
    let mut c: Vec<f64> =
        (0..k).map(|i| if k == 1 { (lo + hi) / 2.0 } else { lo + (hi - lo) * i as f64 / (k - 1) as f64 }).collect();
    let mut prefix = Vec::with_capacity(xs.len() + 1);
    prefix.push(0.0);
    for &x in xs {
        prefix.push(prefix[prefix.len() - 1] + x);
    }
    for _ in 0..ITERATIONS {
        let mut start = 0usize;
        let mut moved = false;
        let old = c.clone();
        for j in 0..k {
            let end =
                if j + 1 < k { xs.partition_point(|&x| x <= (old[j] + old[j + 1]) / 2.0).max(start) } else { xs.len() };
            if end > start {
                let mean = (prefix[end] - prefix[start]) / (end - start) as f64;
                if (mean - c[j]).abs() > 1e-12 * (1.0 + mean.abs()) {
                    moved = true;
                }
                c[j] = mean;
            }
            start = end;
        }
        c.sort_by(f64::total_cmp);
        if !moved {
            break;
        }
    }
    c
}

fn nearest(c: &[f64], x: f64) -> usize {
    let i = c.partition_point(|&v| v < x);
    if i == 0 {
        0
    } else if i >= c.len() {
        c.len() - 1
    } else if (x - c[i - 1]).abs() <= (c[i] - x).abs() {
        i - 1
    } else {
        i
    }
}

/// Quantizes a pruned row-major layer by weight sharing: returns the index matrix (Q-bit signed,
/// 0 = pruned weight) and the codebook (index -> value) as (index, centroid) pairs.
pub fn quantize(values: &[f32], rows: usize, cols: usize, bits: u32) -> (QuantMatrix, Vec<(i32, f32)>) {
    let half = 1usize << (bits - 1);
    let mut neg: Vec<f64> = values.iter().filter(|&&v| v < 0.0).map(|&v| f64::from(v)).collect();
    let mut pos: Vec<f64> = values.iter().filter(|&&v| v > 0.0).map(|&v| f64::from(v)).collect();
    neg.sort_by(f64::total_cmp);
    pos.sort_by(f64::total_cmp);
    let cn = kmeans_sorted(&neg, half);
    let cp = kmeans_sorted(&pos, half - 1);
    let data = values
        .iter()
        .map(|&v| {
            let x = f64::from(v);
            if v < 0.0 {
                // Most negative centroid gets -2^(Q-1); the one nearest zero gets -1.
                nearest(&cn, x) as i32 - cn.len() as i32
            } else if v > 0.0 {
                nearest(&cp, x) as i32 + 1
            } else {
                0
            }
        })
        .collect();
    let mut book: Vec<(i32, f32)> =
        cn.iter().enumerate().map(|(i, &c)| (i as i32 - cn.len() as i32, c as f32)).collect();
    book.extend(cp.iter().enumerate().map(|(i, &c)| (i as i32 + 1, c as f32)));
    (QuantMatrix { rows, cols, bits, data }, book)
}
