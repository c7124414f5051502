//! `delta-nz`: bitmap whose mask is the layer's own (untouched) and whose values are the
//! differences between consecutive nonzeros of a row along k, so differencing cannot create
//! nonzeros. Output: {mask: 1-bit, shaped; values: Q-bit, column-major order}.

use super::{need_shaped, take_parts, Kind, Stage};
use crate::study::stream::{signed, width_mask, Ctx, Stream};
use crate::study::StudyError;

/// Delta of the nonzero values only.
#[derive(Debug, Clone, Copy)]
pub struct DeltaNz;

impl Stage for DeltaNz {
    fn name(&self) -> String {
        "delta-nz".into()
    }
    fn kind(&self) -> Kind {
        Kind::Transform
    }
    fn arity(&self) -> usize {
        2
    }
    fn encode(&self, s: &Stream, ctx: &Ctx) -> Result<Vec<Stream>, StudyError> {
        need_shaped("delta-nz", s, ctx)?;
        let (rows, cols, w) = (ctx.rows, ctx.cols, s.width);
        let mask_w = width_mask(w);
        let mut prev = vec![0i32; rows];
        let mut mask = vec![0u32; rows * cols];
        let mut values = Vec::new();
        for k in 0..cols {
            for (o, p) in prev.iter_mut().enumerate() {
                let v = s.symbols[o * cols + k];
                if v != 0 {
                    mask[o * cols + k] = 1;
                    let cur = signed(v, w);
                    values.push(cur.wrapping_sub(*p) as u32 & mask_w);
                    *p = cur;
                }
            }
        }
        Ok(vec![
            Stream::new(format!("{}.mask", s.name), 1, true, mask),
            Stream::new(format!("{}.values", s.name), w, false, values),
        ])
    }
    fn decode(&self, parts: Vec<Stream>, ctx: &Ctx) -> Result<Stream, StudyError> {
        let [mask, values] = take_parts::<2>("delta-nz", parts)?;
        need_shaped("delta-nz", &mask, ctx)?;
        let (rows, cols, w) = (ctx.rows, ctx.cols, values.width);
        let mask_w = width_mask(w);
        let mut prev = vec![0i32; rows];
        let mut out = vec![0u32; rows * cols];
        let mut it = values.symbols.iter();
        for k in 0..cols {
            for (o, p) in prev.iter_mut().enumerate() {
                if mask.symbols[o * cols + k] != 0 {
                    let d = *it.next().ok_or_else(|| StudyError::corrupt("delta-nz: fewer values than mask bits"))?;
                    let cur = crate::matrix::wrap(p.wrapping_add(signed(d, w)), w);
                    *p = cur;
                    out[o * cols + k] = cur as u32 & mask_w;
                }
            }
        }
        if it.next().is_some() {
            return Err(StudyError::corrupt("delta-nz: more values than mask bits"));
        }
        let name = mask.name.strip_suffix(".mask").unwrap_or(&mask.name).to_string();
        Ok(Stream::new(name, w, true, out))
    }
}
