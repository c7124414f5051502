//! `csr[:R]`: compressed sparse row, the CSC entry logic applied to rows (along k) instead of
//! columns. Output: {counts: P-bit per row, runs: R-bit, values: w-bit}; other streams as CSC.

use super::csc::{decode_lines, encode_lines, STREAM_COUNT_BITS};
use super::{take_parts, Kind, Stage};
use crate::study::stream::{Ctx, Stream};
use crate::study::StudyError;

/// CSR with `run_bits` R and `count_bits` P.
#[derive(Debug, Clone, Copy)]
pub struct Csr {
    /// R.
    pub run_bits: u32,
    /// P (for the layer; 32 for other streams).
    pub count_bits: u32,
}

impl Stage for Csr {
    fn name(&self) -> String {
        if self.run_bits == 4 {
            "csr".into()
        } else {
            format!("csr:{}", self.run_bits)
        }
    }
    fn kind(&self) -> Kind {
        Kind::Sparse
    }
    fn arity(&self) -> usize {
        3
    }
    fn encode(&self, s: &Stream, ctx: &Ctx) -> Result<Vec<Stream>, StudyError> {
        if s.shaped && s.symbols.len() == ctx.rows * ctx.cols {
            encode_lines("csr", s, &s.symbols, ctx.cols, self.run_bits, self.count_bits, None)
        } else {
            let n = s.symbols.len();
            encode_lines("csr", s, &s.symbols, n, self.run_bits, STREAM_COUNT_BITS, Some(n))
        }
    }
    fn decode(&self, parts: Vec<Stream>, ctx: &Ctx) -> Result<Stream, StudyError> {
        let [counts, runs, values] = take_parts::<3>("csr", parts)?;
        let name = counts.name.strip_suffix(".counts").unwrap_or(&counts.name).to_string();
        if counts.width == self.count_bits {
            let data = decode_lines("csr", &counts.symbols, &runs.symbols, &values.symbols, ctx.rows, ctx.cols)?;
            Ok(Stream::new(name, values.width, true, data))
        } else {
            let (&n, rest) = counts.symbols.split_first().ok_or_else(|| StudyError::corrupt("csr: no length"))?;
            let lines = usize::from(n != 0);
            let data = decode_lines("csr", rest, &runs.symbols, &values.symbols, lines, n as usize)?;
            Ok(Stream::new(name, values.width, false, data))
        }
    }
}
