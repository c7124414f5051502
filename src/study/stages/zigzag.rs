//! `zigzag`: maps each w-bit two's complement symbol s to (s << 1) ^ (s >> (w-1)) in w bits, so
//! small magnitudes become small unsigned codes (what Rice and Exp-Golomb need). Shape is kept.

use super::{take_parts, Kind, Stage};
use crate::study::stream::{signed, width_mask, Ctx, Stream};
use crate::study::StudyError;

/// Zigzag mapping.
#[derive(Debug, Clone, Copy)]
pub struct ZigZag;

/// Zigzag of a `width`-bit symbol.
pub fn zig(s: u32, width: u32) -> u32 {
    let v = signed(s, width);
    ((v.wrapping_shl(1)) ^ (v >> 31)) as u32 & width_mask(width)
}

/// Inverse of [`zig`].
pub fn unzig(z: u32, width: u32) -> u32 {
    ((z >> 1) ^ (z & 1).wrapping_neg()) & width_mask(width)
}

impl Stage for ZigZag {
    fn name(&self) -> String {
        "zigzag".into()
    }
    fn kind(&self) -> Kind {
        Kind::Transform
    }
    fn arity(&self) -> usize {
        1
    }
    fn encode(&self, s: &Stream, _: &Ctx) -> Result<Vec<Stream>, StudyError> {
        let symbols = s.symbols.iter().map(|&v| zig(v, s.width)).collect();
        Ok(vec![Stream::new(s.name.clone(), s.width, s.shaped, symbols)])
    }
    fn decode(&self, parts: Vec<Stream>, _: &Ctx) -> Result<Stream, StudyError> {
        let [s] = take_parts::<1>("zigzag", parts)?;
        let symbols = s.symbols.iter().map(|&v| unzig(v, s.width)).collect();
        Ok(Stream::new(s.name, s.width, s.shaped, symbols))
    }
}
