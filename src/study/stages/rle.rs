//! `rle[:R]`: zero run-length coding in stream order (column-major for the layer): entries of
//! (R-bit run of zeros, w-bit value); a run longer than 2^R - 1 is split by a zero-valued entry;
//! zeros after the last nonzero are implied by the length. Output: {len, runs, values}; `len` is
//! empty and 1 bit wide for the layer (its length is O*K), one 32-bit n otherwise.

use super::{take_parts, Kind, Stage};
use crate::study::stream::{Ctx, Stream};
use crate::study::StudyError;

/// Zero run-length coding with `run_bits` R.
#[derive(Debug, Clone, Copy)]
pub struct Rle {
    /// R.
    pub run_bits: u32,
}

impl Stage for Rle {
    fn name(&self) -> String {
        if self.run_bits == 4 {
            "rle".into()
        } else {
            format!("rle:{}", self.run_bits)
        }
    }
    fn kind(&self) -> Kind {
        Kind::Sparse
    }
    fn arity(&self) -> usize {
        3
    }
    fn encode(&self, s: &Stream, ctx: &Ctx) -> Result<Vec<Stream>, StudyError> {
        let layer = s.shaped && s.symbols.len() == ctx.rows * ctx.cols;
        let scan = s.scan_order(ctx);
        let max_run = (1u32 << self.run_bits) - 1;
        let (mut runs, mut values) = (Vec::new(), Vec::new());
        let mut gap = 0u32;
        for &v in &scan {
            if v == 0 {
                gap += 1;
                continue;
            }
            while gap > max_run {
                runs.push(max_run);
                values.push(0);
                gap -= max_run + 1;
            }
            runs.push(gap);
            values.push(v);
            gap = 0;
        }
        // The layer's length is O*K (an empty 1-bit marker stream); any other stream's is sent.
        let (len_width, len) = if layer { (1, Vec::new()) } else { (32, vec![scan.len() as u32]) };
        let n = &s.name;
        Ok(vec![
            Stream::new(format!("{n}.len"), len_width, false, len),
            Stream::new(format!("{n}.runs"), self.run_bits, false, runs),
            Stream::new(format!("{n}.values"), s.width, false, values),
        ])
    }
    fn decode(&self, parts: Vec<Stream>, ctx: &Ctx) -> Result<Stream, StudyError> {
        let [len, runs, values] = take_parts::<3>("rle", parts)?;
        let layer = len.width == 1;
        let n = if layer {
            ctx.rows * ctx.cols
        } else {
            *len.symbols.first().ok_or_else(|| StudyError::corrupt("rle: no length"))? as usize
        };
        if runs.symbols.len() != values.symbols.len() {
            return Err(StudyError::corrupt("rle: runs and values differ in length"));
        }
        let mut scan = vec![0u32; n];
        let mut pos = 0usize;
        for (&r, &v) in runs.symbols.iter().zip(&values.symbols) {
            pos += r as usize;
            *scan.get_mut(pos).ok_or_else(|| StudyError::corrupt("rle: runs past the end"))? = v;
            pos += 1;
        }
        let name = values.name.strip_suffix(".values").unwrap_or(&values.name).to_string();
        Ok(Stream::from_scan_order(name, values.width, layer, scan, ctx))
    }
}
