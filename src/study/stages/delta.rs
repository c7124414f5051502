//! `delta-k` and `delta-o`: the layer tensor differenced mod 2^Q between adjacent parameters,
//! along k (within a filter, as the delta-bitmap stream format does) or along o (across filters).

use super::{need_shaped, take_parts, Kind, Stage};
use crate::study::stream::{Ctx, Stream};
use crate::study::StudyError;
use crate::QuantMatrix;

/// Differencing axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delta {
    /// D[o][k] = W[o][k] - W[o][k-1], W[o][-1] = 0 (`QuantMatrix::delta_along_k`).
    AlongK,
    /// D[o][k] = W[o][k] - W[o-1][k], W[-1][k] = 0.
    AlongO,
}

fn transpose(m: &QuantMatrix) -> QuantMatrix {
    QuantMatrix { rows: m.cols, cols: m.rows, bits: m.bits, data: m.column_major() }
}

impl Stage for Delta {
    fn name(&self) -> String {
        match self {
            Delta::AlongK => "delta-k".into(),
            Delta::AlongO => "delta-o".into(),
        }
    }
    fn kind(&self) -> Kind {
        Kind::Transform
    }
    fn arity(&self) -> usize {
        1
    }
    fn encode(&self, s: &Stream, ctx: &Ctx) -> Result<Vec<Stream>, StudyError> {
        need_shaped(&self.name(), s, ctx)?;
        let m = s.to_matrix(ctx)?;
        let d = match self {
            Delta::AlongK => m.delta_along_k(),
            Delta::AlongO => transpose(&transpose(&m).delta_along_k()),
        };
        Ok(vec![Stream::shaped_from(s.name.clone(), &d)])
    }
    fn decode(&self, parts: Vec<Stream>, ctx: &Ctx) -> Result<Stream, StudyError> {
        let [d] = take_parts::<1>(&self.name(), parts)?;
        let m = d.to_matrix(ctx)?;
        let w = match self {
            Delta::AlongK => m.undelta_along_k(),
            Delta::AlongO => transpose(&transpose(&m).undelta_along_k()),
        };
        Ok(Stream::shaped_from(d.name, &w))
    }
}
