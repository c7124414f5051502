//! Order-0 entropy: the lower bound, in bits, that any coder treating values as independent
//! symbols from the layer's own histogram can reach.

use std::collections::HashMap;

/// Shannon entropy of the values' histogram times their count, in bits.
pub fn order0_bits(values: &[i32]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let mut counts: HashMap<i32, u64> = HashMap::new();
    for &v in values {
        *counts.entry(v).or_insert(0) += 1;
    }
    let n = values.len() as f64;
    // Sort counts so the floating-point sum is the same on every run.
    let mut c: Vec<u64> = counts.into_values().collect();
    c.sort_unstable();
    c.iter()
        .map(|&k| {
            let k = k as f64;
            -k * (k / n).log2()
        })
        .sum()
}
