//! Order-0 entropy: the lower bound, in bits, that any coder treating values as independent
//! symbols from the layer's own histogram can reach.

use std::collections::HashMap;

/// Shannon entropy of the values' histogram times their count, in bits.
pub fn order0_bits(values: &[i32]) -> f64 {
    let mut counts: HashMap<i32, u64> = HashMap::new();
    for &v in values {
        *counts.entry(v).or_insert(0) += 1;
    }
    order0_bits_of_counts(counts.into_values().collect())
}

/// [`order0_bits`] from the histogram's counts (in any order): the same bits for the same
/// histogram, however it was gathered.
pub fn order0_bits_of_counts(mut counts: Vec<u64>) -> f64 {
    let n: u64 = counts.iter().sum();
    if n == 0 {
        return 0.0;
    }
    let n = n as f64;
    // Sort counts so the floating-point sum is the same on every run.
    counts.sort_unstable();
    counts
        .iter()
        .map(|&k| {
            let k = k as f64;
            -k * (k / n).log2()
        })
        .sum()
}
