//! The quantized weight matrix of one layer: O rows x K columns of signed Q-bit integers.

/// A layer's integer weights, row-major: `W[o][k] = data[o * cols + k]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuantMatrix {
    /// O: output channels (rows).
    pub rows: usize,
    /// K: inputs per output (columns), `I*KH*KW` for a convolution.
    pub cols: usize,
    /// Q: every value lies in [-(2^(Q-1)), 2^(Q-1) - 1].
    pub bits: u32,
    /// Values, row-major.
    pub data: Vec<i32>,
}

impl QuantMatrix {
    /// A zero matrix.
    pub fn zeros(rows: usize, cols: usize, bits: u32) -> Self {
        QuantMatrix { rows, cols, bits, data: vec![0; rows * cols] }
    }

    /// `W[o][k]`.
    #[inline]
    pub fn get(&self, o: usize, k: usize) -> i32 {
        self.data[o * self.cols + k]
    }

    /// Number of elements, O*K.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// True for a matrix with no elements.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Number of nonzero elements.
    pub fn nonzeros(&self) -> usize {
        self.data.iter().filter(|&&v| v != 0).count()
    }

    /// The matrix transposed to column-major order (`out[k * rows + o] = W[o][k]`): stream order
    /// walks columns, so encoders read this contiguously.
    pub fn column_major(&self) -> Vec<i32> {
        let (rows, cols) = (self.rows, self.cols);
        let mut out = vec![0; self.data.len()];
        if rows * cols != self.data.len() {
            // Not a whole matrix: transpose the whole rows there are, as before.
            for (o, row) in self.data.chunks_exact(cols.max(1)).enumerate() {
                for (k, &v) in row.iter().enumerate() {
                    out[k * rows + o] = v;
                }
            }
            return out;
        }
        // Tiles of 64 x 64 keep both the rows read and the columns written in cache.
        const TILE: usize = 64;
        for o0 in (0..rows).step_by(TILE) {
            let o1 = (o0 + TILE).min(rows);
            for k0 in (0..cols).step_by(TILE) {
                let k1 = (k0 + TILE).min(cols);
                for o in o0..o1 {
                    let row = &self.data[o * cols + k0..o * cols + k1];
                    for (k, &v) in (k0..k1).zip(row) {
                        out[k * rows + o] = v;
                    }
                }
            }
        }
        out
    }

    /// Smallest and largest representable value for `bits`.
    pub fn value_range(bits: u32) -> (i32, i32) {
        let half = 1i32 << (bits - 1);
        (-half, half - 1)
    }

    /// Delta along k, `D[o][k] = (W[o][k] - W[o][k-1]) mod 2^Q` as Q-bit two's complement, with
    /// `W[o][-1] = 0`.
    pub fn delta_along_k(&self) -> QuantMatrix {
        let mut out = self.clone();
        for row in out.data.chunks_exact_mut(self.cols.max(1)) {
            let mut prev = 0i32;
            for v in row.iter_mut() {
                let cur = *v;
                *v = wrap(cur.wrapping_sub(prev), self.bits);
                prev = cur;
            }
        }
        out
    }

    /// Inverse of [`QuantMatrix::delta_along_k`]: running sum along k, mod 2^Q.
    pub fn undelta_along_k(&self) -> QuantMatrix {
        let mut out = self.clone();
        for row in out.data.chunks_exact_mut(self.cols.max(1)) {
            let mut acc = 0i32;
            for v in row.iter_mut() {
                acc = wrap(acc.wrapping_add(*v), self.bits);
                *v = acc;
            }
        }
        out
    }
}

/// Reduces `v` mod 2^bits into Q-bit two's complement range.
#[inline]
pub fn wrap(v: i32, bits: u32) -> i32 {
    let shift = 32 - bits;
    (v << shift) >> shift
}
