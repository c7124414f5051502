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
        let scan = s.scan_order(ctx);
        let mask: Vec<u32> = scan.iter().map(|&v| u32::from(v != 0)).collect();
        let values: Vec<u32> = scan.into_iter().filter(|&v| v != 0).collect();
        let mask = Stream::from_scan_order(format!("{}.mask", s.name), 1, s.shaped, mask, ctx);
        Ok(vec![mask, Stream::new(format!("{}.values", s.name), s.width, false, values)])
    }
    fn decode(&self, parts: Vec<Stream>, ctx: &Ctx) -> Result<Stream, StudyError> {
        let [mask, values] = take_parts::<2>("bitmap", parts)?;
        let scan_mask = mask.scan_order(ctx);
        let mut it = values.symbols.iter();
        let mut scan = Vec::with_capacity(scan_mask.len());
        for &m in &scan_mask {
            scan.push(if m != 0 {
                *it.next().ok_or_else(|| StudyError::corrupt("bitmap: fewer values than mask bits"))?
            } else {
                0
            });
        }
        if it.next().is_some() {
            return Err(StudyError::corrupt("bitmap: more values than mask bits"));
        }
        let name = mask.name.strip_suffix(".mask").unwrap_or(&mask.name).to_string();
        Ok(Stream::from_scan_order(name, values.width, mask.shaped, scan, ctx))
    }
}
