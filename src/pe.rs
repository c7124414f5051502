//! The golden PE array: the dense N-lane beats in stream order that every decoder must produce,
//! and y = W a accumulated in wrapping 32-bit two's complement.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::formats::StreamParams;
use crate::matrix::QuantMatrix;

/// The beats of a layer in stream order, N lanes each (lanes past O are 0): beat i occupies
/// `out[i*N .. (i+1)*N]`, beat (t, k) is number `k * ceil(O/N) + t`.
pub fn beats(w: &QuantMatrix, p: &StreamParams) -> Vec<i32> {
    let tiles = p.tiles(w.rows);
    let mut out = vec![0i32; w.cols * tiles * p.lanes];
    for o in 0..w.rows {
        let (t, l) = (o / p.lanes, o % p.lanes);
        for k in 0..w.cols {
            out[(k * tiles + t) * p.lanes + l] = w.get(o, k);
        }
    }
    out
}

/// y = W a, each row accumulated in wrapping 32-bit two's complement, as the PE array does.
pub fn matvec(w: &QuantMatrix, a: &[i32]) -> Vec<i32> {
    assert_eq!(a.len(), w.cols, "activation vector length must equal K");
    w.data
        .chunks_exact(w.cols)
        .map(|row| row.iter().zip(a).fold(0i32, |acc, (&x, &y)| acc.wrapping_add(x.wrapping_mul(y))))
        .collect()
}

/// y = W a with each row accumulated in wrapping `acc_bits`-bit two's complement (4..=64), the
/// way a PE array with ACC-bit accumulators computes it; values sign-extended to i64.
pub fn matvec_acc(w: &QuantMatrix, a: &[i32], acc_bits: u32) -> Vec<i64> {
    assert_eq!(a.len(), w.cols, "activation vector length must equal K");
    assert!((1..=64).contains(&acc_bits), "accumulator bits must be 1..=64");
    let shift = 64 - acc_bits;
    w.data
        .chunks_exact(w.cols.max(1))
        .take(w.rows)
        .map(|row| {
            let sum = row.iter().zip(a).fold(0i64, |acc, (&x, &y)| acc.wrapping_add(i64::from(x) * i64::from(y)));
            (sum << shift) >> shift
        })
        .collect()
}

/// A seeded random signed activation vector of `bits`-bit values, full range.
pub fn random_activations(len: usize, bits: u32, seed: u64) -> Vec<i32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (lo, hi) = QuantMatrix::value_range(bits);
    (0..len).map(|_| rng.random_range(lo..=hi)).collect()
}
