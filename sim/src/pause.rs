//! Back-pressure and bubble patterns for stream sources and sinks: `Pause`
//! describes when a side goes or pauses, `PauseGen` yields the decisions,
//! deterministically (seeded splitmix64 for the random kind).

use crate::error::{Result, SimError};

/// When a stream endpoint is willing to transfer.
#[derive(Clone, Debug, PartialEq)]
pub enum Pause {
    /// Always go.
    None,
    /// `true` = go, `false` = pause, cycled: `[true, true, true, false]`
    /// goes three decisions out of four. Must not be empty.
    Pattern(Vec<bool>),
    /// Pause with probability `p_pause` (0.0..=1.0) per decision, from a
    /// generator seeded with `seed`: the same seed gives the same sequence.
    Random { seed: u64, p_pause: f64 },
}

impl Pause {
    /// A pattern from a string of `1` (go) and `0` (pause), e.g. `"1110"`;
    /// `_` and spaces are ignored.
    pub fn pattern(s: &str) -> Result<Pause> {
        let v = s
            .chars()
            .filter(|c| !matches!(c, '_' | ' '))
            .map(|c| match c {
                '1' => Ok(true),
                '0' => Ok(false),
                _ => Err(SimError::InvalidPause(format!("pattern {s:?}: only '0' and '1' allowed"))),
            })
            .collect::<Result<Vec<_>>>()?;
        let p = Pause::Pattern(v);
        p.validate()?;
        Ok(p)
    }

    /// Checks that the pause can generate decisions.
    pub fn validate(&self) -> Result<()> {
        match self {
            Pause::None => Ok(()),
            Pause::Pattern(v) if v.is_empty() => Err(SimError::InvalidPause("empty pattern".into())),
            Pause::Pattern(_) => Ok(()),
            Pause::Random { p_pause, .. } if !(0.0..=1.0).contains(p_pause) => {
                Err(SimError::InvalidPause(format!("p_pause {p_pause} not in 0.0..=1.0")))
            }
            Pause::Random { .. } => Ok(()),
        }
    }

    /// The decision sequence, from its start.
    pub fn generator(&self) -> Result<PauseGen> {
        self.validate()?;
        Ok(PauseGen {
            kind: match self {
                Pause::None => Kind::Always,
                Pause::Pattern(v) => Kind::Pattern(v.clone(), 0),
                Pause::Random { seed, p_pause } => Kind::Random(SplitMix64(*seed), *p_pause),
            },
        })
    }
}

/// An endless sequence of go/pause decisions; also an `Iterator<Item = bool>`.
#[derive(Clone, Debug)]
pub struct PauseGen {
    kind: Kind,
}

#[derive(Clone, Debug)]
enum Kind {
    Always,
    Pattern(Vec<bool>, usize),
    Random(SplitMix64, f64),
}

impl PauseGen {
    /// Next decision: `true` = go.
    #[inline]
    pub fn next_go(&mut self) -> bool {
        match &mut self.kind {
            Kind::Always => true,
            Kind::Pattern(v, i) => {
                let go = v[*i];
                *i = (*i + 1) % v.len();
                go
            }
            Kind::Random(rng, p) => rng.next_f64() >= *p,
        }
    }
}

impl Iterator for PauseGen {
    type Item = bool;
    fn next(&mut self) -> Option<bool> {
        Some(self.next_go())
    }
}

/// splitmix64 (Steele, Lea, Flood 2014): tiny, fast, good enough for
/// test stimulus, and stable forever (no crate version can change it).
#[derive(Clone, Debug)]
struct SplitMix64(u64);

impl SplitMix64 {
    #[inline]
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    #[inline]
    fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix_reference_values() {
        // First outputs for seed 1234567 from the reference C implementation.
        let mut r = SplitMix64(1234567);
        assert_eq!(r.next_u64(), 6457827717110365317);
        assert_eq!(r.next_u64(), 3203168211198807973);
    }

    #[test]
    fn pattern_cycles() {
        let g = Pause::pattern("1110").unwrap().generator().unwrap();
        let v: Vec<bool> = g.take(8).collect();
        assert_eq!(v, [true, true, true, false, true, true, true, false]);
    }

    #[test]
    fn random_is_deterministic_per_seed() {
        let a: Vec<bool> = Pause::Random { seed: 7, p_pause: 0.3 }.generator().unwrap().take(1000).collect();
        let b: Vec<bool> = Pause::Random { seed: 7, p_pause: 0.3 }.generator().unwrap().take(1000).collect();
        let c: Vec<bool> = Pause::Random { seed: 8, p_pause: 0.3 }.generator().unwrap().take(1000).collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
        let pauses = a.iter().filter(|g| !**g).count();
        assert!((230..370).contains(&pauses), "{pauses} pauses of 1000 at p=0.3");
    }

    #[test]
    fn extremes_and_errors() {
        let all = |p: Pause| p.generator().unwrap().take(100).collect::<Vec<_>>();
        assert!(all(Pause::None).iter().all(|g| *g));
        assert!(all(Pause::Random { seed: 1, p_pause: 0.0 }).iter().all(|g| *g));
        assert!(all(Pause::Random { seed: 1, p_pause: 1.0 }).iter().all(|g| !*g));
        assert!(Pause::Pattern(vec![]).generator().is_err());
        assert!(Pause::Random { seed: 1, p_pause: f64::NAN }.validate().is_err());
        assert!(Pause::Random { seed: 1, p_pause: 1.5 }.validate().is_err());
        assert!(Pause::pattern("10x").is_err());
    }
}
