//! `csc[:R]`: compressed sparse column with EIE relative indexing, entries built by
//! `formats::csc::column_entries` (the stream format's own logic: R-bit runs, filler entries for
//! gaps over 2^R - 1). Output: {counts: P-bit per column, runs: R-bit, values: w-bit}. A stream
//! that is not the layer is taken as one column; its counts stream is then [n, C] at 32 bits.

use super::{take_parts, Kind, Stage};
use crate::formats::csc::{column_entries, Entry};
use crate::study::stream::{Ctx, Stream};
use crate::study::StudyError;

/// CSC with `run_bits` R and `count_bits` P.
#[derive(Debug, Clone, Copy)]
pub struct Csc {
    /// R.
    pub run_bits: u32,
    /// P (for the layer; 32 for other streams).
    pub count_bits: u32,
}

/// Count width used when the input is not the layer.
pub(crate) const STREAM_COUNT_BITS: u32 = 32;

/// Encodes `lines` (columns for CSC, rows for CSR) of `len` symbols each.
pub(crate) fn encode_lines(
    stage: &str,
    s: &Stream,
    scan: &[u32],
    len: usize,
    run_bits: u32,
    count_bits: u32,
    unshaped_total: Option<usize>,
) -> Result<Vec<Stream>, StudyError> {
    let mut counts = Vec::new();
    let mut runs = Vec::new();
    let mut values = Vec::new();
    if let Some(n) = unshaped_total {
        counts.push(n as u32);
    }
    let mut entries: Vec<Entry> = Vec::new();
    let mut line = Vec::new();
    if len > 0 {
        for chunk in scan.chunks(len) {
            line.clear();
            line.extend(chunk.iter().map(|&v| v as i32));
            column_entries(&line, run_bits, &mut entries);
            if count_bits < 32 && entries.len() >> count_bits != 0 {
                return Err(StudyError::Unsupported(format!(
                    "{stage}: a line needs {} entries, more than a {count_bits}-bit count holds",
                    entries.len()
                )));
            }
            counts.push(entries.len() as u32);
            for e in &entries {
                runs.push(e.run);
                values.push(e.value as u32);
            }
        }
    }
    Ok(vec![
        Stream::new(format!("{}.counts", s.name), count_bits, false, counts),
        Stream::new(format!("{}.runs", s.name), run_bits, false, runs),
        Stream::new(format!("{}.values", s.name), s.width, false, values),
    ])
}

/// Decodes counts/runs/values into `lines` lines of `len`; returns the scan.
pub(crate) fn decode_lines(
    stage: &str,
    counts: &[u32],
    runs: &[u32],
    values: &[u32],
    lines: usize,
    len: usize,
) -> Result<Vec<u32>, StudyError> {
    if counts.len() != lines {
        return Err(StudyError::corrupt(format!("{stage}: {} counts for {lines} lines", counts.len())));
    }
    if runs.len() != values.len() {
        return Err(StudyError::corrupt(format!("{stage}: runs and values differ in length")));
    }
    let mut out = vec![0u32; lines * len];
    let mut e = 0usize;
    for (l, &c) in counts.iter().enumerate() {
        let line = &mut out[l * len..(l + 1) * len];
        let mut next = 0usize;
        for _ in 0..c {
            let (run, value) = match (runs.get(e), values.get(e)) {
                (Some(&r), Some(&v)) => (r as usize, v),
                _ => return Err(StudyError::corrupt(format!("{stage}: counts exceed entries"))),
            };
            e += 1;
            let row = next + run;
            if row >= len {
                return Err(StudyError::corrupt(format!("{stage}: entry runs past the line end")));
            }
            line[row] = value;
            next = row + 1;
        }
    }
    if e != runs.len() {
        return Err(StudyError::corrupt(format!("{stage}: entries left after the last line")));
    }
    Ok(out)
}

impl Stage for Csc {
    fn name(&self) -> String {
        if self.run_bits == 4 {
            "csc".into()
        } else {
            format!("csc:{}", self.run_bits)
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
            encode_lines("csc", s, &s.scan_order(ctx), ctx.rows, self.run_bits, self.count_bits, None)
        } else {
            let n = s.symbols.len();
            encode_lines("csc", s, &s.symbols, n, self.run_bits, STREAM_COUNT_BITS, Some(n))
        }
    }
    fn decode(&self, parts: Vec<Stream>, ctx: &Ctx) -> Result<Stream, StudyError> {
        let [counts, runs, values] = take_parts::<3>("csc", parts)?;
        let name = counts.name.strip_suffix(".counts").unwrap_or(&counts.name).to_string();
        if counts.width == self.count_bits {
            let scan = decode_lines("csc", &counts.symbols, &runs.symbols, &values.symbols, ctx.cols, ctx.rows)?;
            Ok(Stream::from_scan_order(name, values.width, true, scan, ctx))
        } else {
            let (&n, rest) = counts.symbols.split_first().ok_or_else(|| StudyError::corrupt("csc: no length"))?;
            let lines = usize::from(n != 0);
            let scan = decode_lines("csc", rest, &runs.symbols, &values.symbols, lines, n as usize)?;
            Ok(Stream::new(name, values.width, false, scan))
        }
    }
}
