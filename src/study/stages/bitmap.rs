//! `bitmap`: one mask bit per element in stream order (column-major for the layer, as the bitmap
//! stream format sends beats), then the nonzero symbols. Output: {mask: 1-bit, values: w-bit};
//! the mask keeps the layer shape. Same bits as `src/formats/bitmap.rs` minus word fill.

use super::{take_parts, Kind, Stage};
use crate::study::stream::{Ctx, Stream};
use crate::study::StudyError;

/// Bitmap sparse format.
#[derive(Debug, Clone, Copy)]
pub struct Bitmap;

impl Stage for Bitmap {
    fn name(&self) -> String {
        "bitmap".into()
    }
    fn kind(&self) -> Kind {
        Kind::Sparse
    }
    fn arity(&self) -> usize {
        2
    }
    fn encode(&self, s: &Stream, ctx: &Ctx) -> Result<Vec<Stream>, StudyError> {
        let layer = s.shaped && s.symbols.len() == ctx.rows * ctx.cols;
        // The mask keeps the input's own layout (row-major for the layer); values go in stream
        // order (column-major for the layer).
        let mask: Vec<u32> = s.symbols.iter().map(|&v| u32::from(v != 0)).collect();
        let mut values = Vec::with_capacity(s.symbols.len() / 2);
        if layer {
            for k in 0..ctx.cols {
                values.extend(s.symbols[k..].iter().step_by(ctx.cols).filter(|&&v| v != 0));
            }
        } else {
            values.extend(s.symbols.iter().filter(|&&v| v != 0));
        }
        let mask = Stream::new(format!("{}.mask", s.name), 1, s.shaped, mask);
        Ok(vec![mask, Stream::new(format!("{}.values", s.name), s.width, false, values)])
    }
    fn decode(&self, parts: Vec<Stream>, ctx: &Ctx) -> Result<Stream, StudyError> {
        let [mask, values] = take_parts::<2>("bitmap", parts)?;
        let layer = mask.shaped && mask.symbols.len() == ctx.rows * ctx.cols;
        let short = || StudyError::corrupt("bitmap: fewer values than mask bits");
        let mut it = values.symbols.iter();
        let mut out = vec![0u32; mask.symbols.len()];
        if layer {
            for k in 0..ctx.cols {
                for i in (k..out.len()).step_by(ctx.cols) {
                    if mask.symbols[i] != 0 {
                        out[i] = *it.next().ok_or_else(short)?;
                    }
                }
            }
        } else {
            for (o, &m) in out.iter_mut().zip(&mask.symbols) {
                if m != 0 {
                    *o = *it.next().ok_or_else(short)?;
                }
            }
        }
        if it.next().is_some() {
            return Err(StudyError::corrupt("bitmap: more values than mask bits"));
        }
        if values.symbols.contains(&0) {
            return Err(StudyError::corrupt("bitmap: a zero among the nonzero values"));
        }
        let name = mask.name.strip_suffix(".mask").unwrap_or(&mask.name).to_string();
        Ok(Stream::new(name, values.width, mask.shaped, out))
    }
}
