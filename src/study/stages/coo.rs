//! `coo`: coordinate list. For the layer: {rows: ceil(log2 O)-bit, cols: ceil(log2 K)-bit,
//! values: w-bit} per nonzero in column-major order. For any other stream of n symbols:
//! {len: one 32-bit n, idx: 32-bit positions, values}.

use super::{take_parts, Kind, Stage};
use crate::study::stream::{index_bits, Ctx, Stream};
use crate::study::StudyError;

/// Coordinate list.
#[derive(Debug, Clone, Copy)]
pub struct Coo;

impl Stage for Coo {
    fn name(&self) -> String {
        "coo".into()
    }
    fn kind(&self) -> Kind {
        Kind::Sparse
    }
    fn arity(&self) -> usize {
        3
    }
    fn encode(&self, s: &Stream, ctx: &Ctx) -> Result<Vec<Stream>, StudyError> {
        let (mut a, mut b, mut values) = (Vec::new(), Vec::new(), Vec::new());
        let n = &s.name;
        if s.shaped && s.symbols.len() == ctx.rows * ctx.cols {
            for (i, &v) in s.scan_order(ctx).iter().enumerate() {
                if v != 0 {
                    a.push((i % ctx.rows) as u32);
                    b.push((i / ctx.rows) as u32);
                    values.push(v);
                }
            }
            Ok(vec![
                Stream::new(format!("{n}.rows"), index_bits(ctx.rows).min(31), false, a),
                Stream::new(format!("{n}.cols"), index_bits(ctx.cols), false, b),
                Stream::new(format!("{n}.values"), s.width, false, values),
            ])
        } else {
            a.push(s.symbols.len() as u32);
            for (i, &v) in s.symbols.iter().enumerate() {
                if v != 0 {
                    b.push(i as u32);
                    values.push(v);
                }
            }
            Ok(vec![
                Stream::new(format!("{n}.len"), 32, false, a),
                Stream::new(format!("{n}.idx"), 32, false, b),
                Stream::new(format!("{n}.values"), s.width, false, values),
            ])
        }
    }
    fn decode(&self, parts: Vec<Stream>, ctx: &Ctx) -> Result<Stream, StudyError> {
        let [a, b, values] = take_parts::<3>("coo", parts)?;
        // The layer's row indices are at most 31 bits wide; the other layout's `len` is 32.
        let layer = a.width < 32;
        let name = values.name.strip_suffix(".values").unwrap_or(&values.name).to_string();
        let bad = || StudyError::corrupt("coo: index out of range or streams differ in length");
        if b.symbols.len() != values.symbols.len() {
            return Err(bad());
        }
        if layer {
            if a.symbols.len() != values.symbols.len() {
                return Err(bad());
            }
            let mut out = vec![0u32; ctx.rows * ctx.cols];
            for ((&o, &k), &v) in a.symbols.iter().zip(&b.symbols).zip(&values.symbols) {
                let (o, k) = (o as usize, k as usize);
                if o >= ctx.rows || k >= ctx.cols {
                    return Err(bad());
                }
                out[o * ctx.cols + k] = v;
            }
            Ok(Stream::new(name, values.width, true, out))
        } else {
            let n = *a.symbols.first().ok_or_else(bad)? as usize;
            let mut out = vec![0u32; n];
            for (&i, &v) in b.symbols.iter().zip(&values.symbols) {
                *out.get_mut(i as usize).ok_or_else(bad)? = v;
            }
            Ok(Stream::new(name, values.width, false, out))
        }
    }
}
