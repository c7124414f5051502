//! The golden PE array: the dense N-lane beats in stream order that every decoder must produce,
//! and y = W a accumulated in wrapping 32-bit two's complement.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::formats::StreamParams;
use crate::matrix::QuantMatrix;

/// The beats of a layer in column order, N lanes each (lanes past O are 0): beat i occupies
/// `out[i*N .. (i+1)*N]`, beat (t, k) is number `k * ceil(O/N) + t`. Every format but nm.
pub fn beats(w: &QuantMatrix, p: &StreamParams) -> Vec<i32> {
    beats_in(w, p, BeatOrder::Columns)
}

/// The order in which a format's beats reach the PE array (docs/stream-formats.md, "Stream
/// order").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BeatOrder {
    /// Column by column: for k, for t.
    Columns,
    /// Group by group of `m` columns: for g, for t, for j < m_g (beat (t, g*m + j)); nm's.
    Groups(usize),
}

/// The beats of a layer in `order`, N lanes each (lanes past O are 0).
pub fn beats_in(w: &QuantMatrix, p: &StreamParams, order: BeatOrder) -> Vec<i32> {
    let (tiles, n) = (p.tiles(w.rows), p.lanes);
    let mut out = vec![0i32; w.cols * tiles * n];
    // beat number of (t, k)
    let index = |t: usize, k: usize| match order {
        BeatOrder::Columns => k * tiles + t,
        BeatOrder::Groups(m) => {
            let g0 = k / m * m;
            g0 * tiles + t * m.min(w.cols - g0) + (k - g0)
        }
    };
    for o in 0..w.rows {
        let (t, l) = (o / n, o % n);
        for k in 0..w.cols {
            out[index(t, k) * n + l] = w.get(o, k);
        }
    }
    out
}

/// The side band of a beat at the PE array: its row tile, first (the first column of its tile:
/// k == 0), end of group (the last beat of its column, or of its group in group order: the PE
/// array moves to the next activations), its column within the group (0 in column order), last
/// beat of the layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BeatSide {
    pub tile: usize,
    pub first: bool,
    pub end_of_group: bool,
    pub col: usize,
    pub last: bool,
    /// The tile's last column of the group (every beat in column order).
    pub last_col: bool,
    /// The beat's group is the layer's last (its column is in column order).
    pub last_group: bool,
}

/// The side band of every beat of a layer of `tiles` row tiles and `cols` columns in `order`.
pub fn beat_sides(tiles: usize, cols: usize, order: BeatOrder) -> Vec<BeatSide> {
    let m = match order {
        BeatOrder::Columns => 1,
        BeatOrder::Groups(m) => m,
    };
    let mut out = Vec::with_capacity(tiles * cols);
    for g0 in (0..cols).step_by(m) {
        let mg = m.min(cols - g0);
        for tile in 0..tiles {
            for col in 0..mg {
                let (last_col, last_group) = (col + 1 == mg, g0 + mg == cols);
                let end_of_group = tile + 1 == tiles && last_col;
                let last = end_of_group && last_group;
                out.push(BeatSide { tile, first: g0 == 0 && col == 0, end_of_group, col, last, last_col, last_group });
            }
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
