//! Magnitude pruning (per layer, global, N:M) and symmetric linear quantization: float layers in,
//! the integer matrices every format encodes out; also the channels-last column order of N:M
//! pruning and the exact sums of squares behind the "squared magnitude kept" proxy.

use serde::Serialize;

use crate::formats::NmPattern;
use crate::matrix::QuantMatrix;

/// How the pruning threshold is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PruneMode {
    /// Every layer loses exactly floor(s * len) weights.
    PerLayer,
    /// One threshold for the whole model: floor(s * total) weights, smallest first.
    Global,
    /// N:M structured: in every group of m consecutive columns of a row, the n largest
    /// magnitudes are kept (ties to the lower column), the rest zeroed; a short last group of
    /// m_g < m columns keeps min(n, m_g). A convolution's columns are taken channels-last first
    /// ([`ColumnOrder`]). The sparsity is not used.
    Nm,
}

/// Where the quantization scale is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Granularity {
    /// One scale per layer: max|w| / (2^(Q-1) - 1).
    PerLayer,
    /// One scale per output channel (row).
    PerChannel,
}

/// Errors of pruning and quantization.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum QuantError {
    #[error("sparsity {0} is not in [0, 1]")]
    BadSparsity(f64),
    #[error("quantization bits {0} not in 2..=16")]
    BadBits(u32),
    #[error("{0}")]
    BadPattern(String),
    #[error("layer {layer}: weight {index} is not finite ({value})")]
    NonFinite { layer: String, index: usize, value: f32 },
    #[error("layer {layer} is already quantized to {needed}-bit integers; --bits {bits} cannot hold them")]
    IntegerLayerTooWide { layer: String, needed: u32, bits: u32 },
}

/// How many of `len` weights sparsity `s` prunes: floor(s * len). The tiny epsilon keeps
/// products like 0.29 * 100 (28.999999999999996 in binary) at their decimal value.
pub fn prune_count(sparsity: f64, len: usize) -> usize {
    ((sparsity * len as f64 + 1e-9).floor() as usize).min(len)
}

/// Checks a sparsity value.
pub fn check_sparsity(sparsity: f64) -> Result<(), QuantError> {
    if (0.0..=1.0).contains(&sparsity) {
        Ok(())
    } else {
        Err(QuantError::BadSparsity(sparsity))
    }
}

/// Checks that every weight is finite.
pub fn check_finite(layer: &str, values: &[f32]) -> Result<(), QuantError> {
    match values.iter().position(|v| !v.is_finite()) {
        Some(index) => Err(QuantError::NonFinite { layer: layer.to_string(), index, value: values[index] }),
        None => Ok(()),
    }
}

/// Sort key of a weight for pruning: the bits of |w|. For finite values it orders like
/// `|w|.total_cmp`, so "smallest magnitude first" is "smallest key first".
#[inline]
pub fn prune_key(v: f32) -> u32 {
    v.abs().to_bits()
}

/// Which weights magnitude pruning zeroes, found without sorting: every weight whose key is below
/// `threshold`, and the first `ties` weights (in position order) whose key equals it. Zeroing
/// the `count` smallest weights by (|w|, position) is exactly this.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PruneCut {
    /// Key ([`prune_key`]) of the `count`-th smallest weight.
    pub threshold: u32,
    /// How many weights with key == threshold are zeroed, first positions first.
    pub ties: u64,
    /// How many weights have key == threshold in all (when `ties` is all of them, position does
    /// not matter).
    pub tied: u64,
}

impl PruneCut {
    /// The cut that zeroes nothing.
    pub const NONE: PruneCut = PruneCut { threshold: 0, ties: 0, tied: 0 };

    /// Finds the cut zeroing the `count` smallest of the weights `tally` walks, in O(n): two
    /// passes of a 2^16-bin histogram, on the key's high and then its low half. `tally(count,
    /// hist)` must apply `count(chunk, h)` to every weight, chunk by chunk, adding every `h`
    /// into `hist` (in any order, on any threads; it is called twice).
    pub fn find<E>(count: u64, mut tally: impl FnMut(&TallyFn<'_>, &mut [u64]) -> Result<(), E>) -> Result<Self, E> {
        if count == 0 {
            return Ok(PruneCut::NONE);
        }
        let mut hist = vec![0u64; 1 << 16];
        tally(
            &|chunk: &[f32], h: &mut [u64]| {
                for &v in chunk {
                    h[(prune_key(v) >> 16) as usize] += 1;
                }
            },
            &mut hist,
        )?;
        let (high, below) = select_bin(&hist, count);
        hist.iter_mut().for_each(|h| *h = 0);
        tally(
            &|chunk: &[f32], h: &mut [u64]| {
                for &v in chunk {
                    let key = prune_key(v);
                    if key >> 16 == high {
                        h[(key & 0xffff) as usize] += 1;
                    }
                }
            },
            &mut hist,
        )?;
        let (low, below_low) = select_bin(&hist, count - below);
        Ok(PruneCut { threshold: high << 16 | low, ties: count - below - below_low, tied: hist[low as usize] })
    }

    /// True when where a weight lies decides whether a tie is zeroed (some ties are kept).
    pub fn position_matters(&self) -> bool {
        self.ties > 0 && self.ties < self.tied
    }

    /// Zeroes what the cut zeroes in `values`, the next weights in position order after
    /// `*ties_seen` ties already walked past (updated). Returns how many it zeroed.
    pub fn apply(&self, values: &mut [f32], ties_seen: &mut u64) -> usize {
        if self.ties == 0 {
            return 0;
        }
        let mut zeroed = 0;
        for v in values.iter_mut() {
            if self.zeroes(*v, ties_seen) {
                *v = 0.0;
                zeroed += 1;
            }
        }
        zeroed
    }

    /// What [`PruneCut::apply`] would leave of `values` without changing them: the largest
    /// magnitude kept, and the ties walked past (`*ties_seen` updated).
    pub fn kept_max(&self, values: &[f32], ties_seen: &mut u64) -> f32 {
        values.iter().fold(0.0f32, |m, &v| if self.zeroes(v, ties_seen) { m } else { m.max(v.abs()) })
    }

    #[inline]
    fn zeroes(&self, v: f32, ties_seen: &mut u64) -> bool {
        let key = prune_key(v);
        if key < self.threshold {
            return true;
        }
        if key == self.threshold && self.ties > 0 {
            let zero = *ties_seen < self.ties;
            *ties_seen += 1;
            return zero;
        }
        false
    }

    /// How many weights of `values` have the cut's key (to start [`PruneCut::apply`] mid-way).
    pub fn count_ties(&self, values: &[f32]) -> u64 {
        values.iter().filter(|&&v| prune_key(v) == self.threshold).count() as u64
    }
}

/// Counts a chunk of weights into a 2^16-bin histogram (see [`PruneCut::find`]).
pub type TallyFn<'a> = dyn Fn(&[f32], &mut [u64]) + Sync + 'a;

/// The bin holding the `count`-th smallest element (1-based) of a histogram, and how many
/// elements lie in the bins below it.
fn select_bin(hist: &[u64], count: u64) -> (u32, u64) {
    let mut below = 0u64;
    for (bin, &h) in hist.iter().enumerate() {
        if below + h >= count {
            return (bin as u32, below);
        }
        below += h;
    }
    // Unreachable for count <= the number of elements; the last bin is the honest answer.
    (hist.len() as u32 - 1, below - hist.last().copied().unwrap_or(0))
}

/// Zeroes exactly floor(s * len) weights of smallest magnitude, ties broken by lower index first.
/// Returns how many were zeroed.
pub fn prune_layer(values: &mut [f32], sparsity: f64) -> usize {
    let count = prune_count(sparsity, values.len());
    let cut = PruneCut::find::<std::convert::Infallible>(count as u64, |f, h| {
        f(values, h);
        Ok(())
    });
    let Ok(cut) = cut;
    cut.apply(values, &mut 0);
    count
}

/// Global magnitude pruning: zeroes exactly floor(s * total) weights across all layers, smallest
/// magnitude first, ties broken by (layer, index).
pub fn prune_global(layers: &mut [Vec<f32>], sparsity: f64) -> usize {
    let total: usize = layers.iter().map(Vec::len).sum();
    let count = prune_count(sparsity, total);
    let cut = PruneCut::find::<std::convert::Infallible>(count as u64, |f, h| {
        layers.iter().for_each(|l| f(l, h));
        Ok(())
    });
    let Ok(cut) = cut;
    let mut seen = 0;
    for l in layers.iter_mut() {
        cut.apply(l, &mut seen);
    }
    count
}

/// Symmetric linear quantization of a row-major O x K layer to signed `bits`-bit integers in
/// [-(2^(Q-1) - 1), 2^(Q-1) - 1]: q = round(w / scale), scale = max|w| / (2^(Q-1) - 1), rounding
/// half away from zero. Returns the matrix and the scales (one, or one per row).
pub fn quantize(
    values: &[f32],
    rows: usize,
    cols: usize,
    bits: u32,
    granularity: Granularity,
) -> Result<(QuantMatrix, Vec<f32>), QuantError> {
    if !(2..=16).contains(&bits) {
        return Err(QuantError::BadBits(bits));
    }
    let scales: Vec<f64> = match granularity {
        Granularity::PerLayer => vec![scale_of(max_abs(values), bits)],
        Granularity::PerChannel => values.chunks(cols.max(1)).map(|row| scale_of(max_abs(row), bits)).collect(),
    };
    Ok(quantize_with_scales(values, rows, cols, bits, &scales))
}

/// `x.round().clamp(-qmax, qmax) as i32` (rounding half away from zero) without the libm call
/// `round` is on baseline x86-64: truncate, then step away from zero when the dropped fraction is
/// at least one half. Exact: |x| <= qmax (1 + 2^-52) < 2^15, so `x - trunc(x)` has no rounding.
#[inline]
fn round_clamped(x: f64, qmax: f64) -> i32 {
    if !(x.abs() < 2147483647.0) {
        return x.round().clamp(-qmax, qmax) as i32;
    }
    let t = x as i64;
    let frac = x - t as f64;
    let r = if frac >= 0.5 {
        t + 1
    } else if frac <= -0.5 {
        t - 1
    } else {
        t
    };
    r.clamp(-(qmax as i64), qmax as i64) as i32
}

/// Largest |w| of `values` (0 for none).
pub fn max_abs(values: &[f32]) -> f32 {
    values.iter().fold(0.0f32, |m, v| m.max(v.abs()))
}

/// The scale [`quantize`] uses for a largest magnitude `max`: max / (2^(Q-1) - 1).
pub fn scale_of(max: f32, bits: u32) -> f64 {
    f64::from(max) / f64::from((1i32 << (bits - 1)) - 1)
}

/// [`quantize`] with the scales given (one, or one per row of `values`), for rows of a layer
/// whose scale was taken from the whole layer. `bits` must be in 2..=16.
pub fn quantize_with_scales(
    values: &[f32],
    rows: usize,
    cols: usize,
    bits: u32,
    scales: &[f64],
) -> (QuantMatrix, Vec<f32>) {
    let qmax = f64::from((1i32 << (bits - 1)) - 1);
    let mut data = Vec::with_capacity(values.len());
    let row_len = if scales.len() == 1 { values.len().max(1) } else { cols.max(1) };
    for (row, &scale) in values.chunks(row_len).zip(scales.iter().cycle()) {
        if scale > 0.0 {
            data.extend(row.iter().map(|&v| round_clamped(f64::from(v) / scale, qmax)));
        } else {
            data.extend(std::iter::repeat_n(0, row.len()));
        }
    }
    (QuantMatrix { rows, cols, bits, data }, scales.iter().map(|&s| s as f32).collect())
}

/// Zeroes all but the `keep` largest magnitudes of every group of `group` consecutive values of
/// one row (a short last group of m_g values keeps min(n, m_g)), ties kept at the lower index.
/// Returns how many it zeroed (zeros already there count when they fall outside the kept).
pub fn prune_nm_row(row: &mut [f32], pattern: NmPattern) -> usize {
    let (n, m) = (pattern.keep as usize, pattern.group.max(1) as usize);
    let mut zeroed = 0;
    for g in row.chunks_mut(m) {
        if g.len() <= n {
            continue;
        }
        // A weight is kept when fewer than n weights of its group beat it: larger magnitude, or
        // equal magnitude at a lower index. m <= 16, so counting is cheaper than sorting.
        let mut small = [0u32; 16];
        let heap: Vec<u32>;
        let keys: &[u32] = if g.len() <= small.len() {
            for (k, v) in small.iter_mut().zip(g.iter()) {
                *k = prune_key(*v);
            }
            &small[..g.len()]
        } else {
            heap = g.iter().map(|&v| prune_key(v)).collect();
            &heap
        };
        for (j, (&kj, v)) in keys.iter().zip(g.iter_mut()).enumerate() {
            let beaten_by = keys.iter().enumerate().filter(|&(i, &ki)| ki > kj || (ki == kj && i < j)).count();
            if beaten_by >= n {
                *v = 0.0;
                zeroed += 1;
            }
        }
    }
    zeroed
}

/// The order of a layer's matrix columns. PyTorch stores a convolution [O, I, KH, KW] with
/// column k = i*S + s (S = KH*KW kernel positions, s = kh*KW + kw); N:M pruning takes it
/// channels-last, k' = s*I + i, so that a group of m consecutive columns is m input channels at
/// one kernel position, as the implicit GEMM of sparse tensor cores reads them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnOrder {
    /// Columns as stored (linear layers, 1x1 convolutions, every layer outside N:M pruning).
    Stored,
    /// Channels-last: `inputs` I channels at each of `positions` S > 1 kernel positions.
    ChannelsLast { inputs: usize, positions: usize },
}

impl ColumnOrder {
    /// The order N:M pruning uses for a tensor of `shape`: channels-last for a 4-D convolution
    /// with more than one kernel position, stored otherwise (a depthwise convolution, I = 1,
    /// comes out the same either way).
    pub fn for_nm(shape: &[usize]) -> ColumnOrder {
        match *shape {
            // Checked: an empty tensor's other dimensions may be anything.
            [_, inputs, kh, kw] if inputs > 1 => match kh.checked_mul(kw) {
                Some(positions) if positions > 1 => ColumnOrder::ChannelsLast { inputs, positions },
                _ => ColumnOrder::Stored,
            },
            _ => ColumnOrder::Stored,
        }
    }

    /// Rewrites whole rows (row-major, `cols` = I*S each) from stored order into this order.
    pub fn apply(&self, values: &mut [f32], cols: usize) {
        let ColumnOrder::ChannelsLast { inputs, positions } = *self else {
            return;
        };
        if cols == 0 || inputs.checked_mul(positions) != Some(cols) {
            return;
        }
        let mut row = vec![0.0f32; cols];
        for r in values.chunks_exact_mut(cols) {
            for (i, chan) in r.chunks_exact(positions).enumerate() {
                for (s, &v) in chan.iter().enumerate() {
                    row[s * inputs + i] = v;
                }
            }
            r.copy_from_slice(&row);
        }
    }

    /// The stored column of this order's column `k` (for readers of the permuted matrix).
    pub fn stored_column(&self, k: usize) -> usize {
        match *self {
            ColumnOrder::Stored => k,
            ColumnOrder::ChannelsLast { inputs, positions } => (k % inputs) * positions + k / inputs,
        }
    }
}

/// Limbs of a [`SquareSum`]: 32 bits of weight each, from 2^-298 (the square of the smallest
/// f32 subnormal, 2^-149) up; 20 limbs reach 2^342, room for 2^86 squares of f32::MAX.
const SQUARE_LIMBS: usize = 20;
/// The exponent of limb 0.
const SQUARE_LSB: i32 = -298;

/// An exact sum of squares of f32 values. The square of an f32 is exact in 48 bits, so the sum is
/// kept as a fixed-point integer (32-bit limbs from 2^-298): adding is associative, and a layer's
/// sum is the same bits whether it was added whole, by row blocks or by shards, in any order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct SquareSum {
    /// Normalized limbs, least significant first, each below 2^32.
    limbs: [u64; SQUARE_LIMBS],
}

impl Default for SquareSum {
    fn default() -> Self {
        SquareSum { limbs: [0; SQUARE_LIMBS] }
    }
}

impl SquareSum {
    /// The sum of the squares of `values` (finite; a non-finite value counts as zero).
    pub fn of(values: &[f32]) -> SquareSum {
        let mut sum = SquareSum::default();
        // Each term is below 2^80 in its limb: 2^40 terms fit a u128 limb before carrying.
        for chunk in values.chunks(1 << 40) {
            let mut wide = [0u128; SQUARE_LIMBS];
            for &v in chunk {
                let bits = v.to_bits() & 0x7fff_ffff;
                let exp = (bits >> 23) as i32;
                if exp == 0xff {
                    continue;
                }
                let frac = u128::from(bits & 0x7f_ffff);
                // v = mant * 2^e exactly.
                let (mant, e) = if exp == 0 { (frac, -149) } else { (frac | 1 << 23, exp - 150) };
                if mant == 0 {
                    continue;
                }
                let at = (2 * e - SQUARE_LSB) as usize;
                wide[at / 32] += (mant * mant) << (at % 32);
            }
            let mut carry = 0u128;
            for (limb, w) in sum.limbs.iter_mut().zip(wide) {
                let t = u128::from(*limb) + w + carry;
                *limb = (t & 0xffff_ffff) as u64;
                carry = t >> 32;
            }
        }
        sum
    }

    /// Adds another sum (exactly).
    pub fn add(&mut self, other: &SquareSum) {
        let mut carry = 0u64;
        for (a, b) in self.limbs.iter_mut().zip(other.limbs) {
            let t = *a + b + carry;
            *a = t & 0xffff_ffff;
            carry = t >> 32;
        }
    }

    /// The sum as an f64 (from its top 96 bits, rounded to nearest).
    pub fn to_f64(&self) -> f64 {
        let Some(top) = self.limbs.iter().rposition(|&l| l != 0) else {
            return 0.0;
        };
        let low = top.saturating_sub(2);
        let mut acc = 0u128;
        for &l in self.limbs[low..=top].iter().rev() {
            acc = acc << 32 | u128::from(l);
        }
        // 2^(32 low - 298), between 2^-298 and 2^246: a normal f64, built exactly.
        let scale = f64::from_bits(((1023 + 32 * low as i32 + SQUARE_LSB) as u64) << 52);
        acc as f64 * scale
    }
}

/// The squared magnitude of a layer (or of a row block) before and after pruning, exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, serde::Deserialize)]
pub struct Squares {
    /// Sum of w^2 over the weights pruning keeps (float weights, before quantization).
    pub kept: SquareSum,
    /// Sum of w^2 over all the weights.
    pub all: SquareSum,
}

impl Squares {
    /// Adds another part of the same layer (or another layer, for totals).
    pub fn add(&mut self, other: &Squares) {
        self.kept.add(&other.kept);
        self.all.add(&other.all);
    }

    /// kept / all: the fraction of the squared magnitude pruning keeps; 1 when there is none to
    /// lose (all weights zero, or none). A cheap proxy for what pruning costs, not accuracy.
    pub fn fraction(&self) -> f64 {
        let all = self.all.to_f64();
        if all == 0.0 {
            1.0
        } else {
            self.kept.to_f64() / all
        }
    }
}
