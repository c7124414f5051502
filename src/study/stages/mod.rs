//! The lossless stages a pipeline chains, and the names they are written with. A stage maps
//! each input stream to a fixed number (`arity`) of output streams and back; transforms keep the
//! layer tensor a tensor, sparse formats split it into index and value streams, entropy coders
//! and byte compressors turn each stream into one byte stream carrying its own header and table.

pub mod bitmap;
pub mod bytecomp;
pub mod coo;
pub mod csc;
pub mod csr;
pub mod delta;
pub mod delta_nz;
pub mod golomb;
pub mod huffman;
pub mod rans;
pub mod rle;
pub mod zigzag;

use super::stream::{Ctx, Stream};
use super::StudyError;

/// Which family a stage belongs to (for the docs, the verdict and the tables).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Tensor in, tensor out (delta, zigzag).
    Transform,
    /// Index + value streams (bitmap, CSC, CSR, COO, RLE).
    Sparse,
    /// Entropy coder (Huffman, rANS, Rice, Exp-Golomb).
    Entropy,
    /// General-purpose byte compressor (deflate, zstd, lz4).
    General,
    /// An external program.
    External,
}

/// One lossless stage.
pub trait Stage: Send + Sync {
    /// Its name as written in a pipeline.
    fn name(&self) -> String;
    /// Its family.
    fn kind(&self) -> Kind;
    /// Output streams per input stream.
    fn arity(&self) -> usize;
    /// Encodes one stream into `arity` streams.
    fn encode(&self, s: &Stream, ctx: &Ctx) -> Result<Vec<Stream>, StudyError>;
    /// Decodes `arity` streams back into the one they came from.
    fn decode(&self, parts: Vec<Stream>, ctx: &Ctx) -> Result<Stream, StudyError>;
}

/// Every built-in stage by name, in the order transforms, sparse formats, entropy coders, byte
/// compressors; tests and benchmarks iterate this list, so a new stage is covered once listed.
pub const STAGES: [&str; 16] = [
    "delta-k",
    "delta-o",
    "delta-nz",
    "zigzag",
    "bitmap",
    "csc",
    "csr",
    "coo",
    "rle",
    "huffman",
    "rans",
    "rice",
    "expgolomb",
    "deflate",
    "zstd",
    "lz4",
];

/// Stage names and what they take, for `--help` and errors.
pub const STAGE_NAMES: &str = "delta-k, delta-o, delta-nz, zigzag, bitmap, csc[:R], csr[:R], coo, rle[:R], \
huffman[:L], rans, rice, expgolomb, deflate[:LEVEL], zstd[:LEVEL], lz4, or an external --codec NAME";

/// Builds the stage `spec` names (`name` or `name:arg`). External codecs are looked up by the
/// pipeline, not here.
pub fn parse_stage(spec: &str) -> Result<Box<dyn Stage>, StudyError> {
    let (name, arg) = match spec.split_once(':') {
        Some((n, a)) => (n, Some(a)),
        None => (spec, None),
    };
    let num = |default: u32, lo: u32, hi: u32| -> Result<u32, StudyError> {
        match arg {
            None => Ok(default),
            Some(a) => match a.parse::<u32>() {
                Ok(v) if (lo..=hi).contains(&v) => Ok(v),
                _ => Err(StudyError::BadPipeline(format!("{spec}: argument must be {lo}..={hi}"))),
            },
        }
    };
    let no_arg = || match arg {
        None => Ok(()),
        Some(_) => Err(StudyError::BadPipeline(format!("{spec}: {name} takes no argument"))),
    };
    Ok(match name {
        "delta-k" => no_arg().map(|_| Box::new(delta::Delta::AlongK) as Box<dyn Stage>)?,
        "delta-o" => no_arg().map(|_| Box::new(delta::Delta::AlongO) as Box<dyn Stage>)?,
        "delta-nz" => no_arg().map(|_| Box::new(delta_nz::DeltaNz) as Box<dyn Stage>)?,
        "zigzag" => no_arg().map(|_| Box::new(zigzag::ZigZag) as Box<dyn Stage>)?,
        "bitmap" => no_arg().map(|_| Box::new(bitmap::Bitmap) as Box<dyn Stage>)?,
        "csc" => Box::new(csc::Csc { run_bits: num(4, 1, 16)?, count_bits: 16 }),
        "csr" => Box::new(csr::Csr { run_bits: num(4, 1, 16)?, count_bits: 16 }),
        "coo" => no_arg().map(|_| Box::new(coo::Coo) as Box<dyn Stage>)?,
        "rle" => Box::new(rle::Rle { run_bits: num(4, 1, 16)? }),
        "huffman" => Box::new(huffman::Huffman { max_len: num(huffman::MAX_LEN, 1, huffman::MAX_LEN)? }),
        "rans" => no_arg().map(|_| Box::new(rans::Rans) as Box<dyn Stage>)?,
        "rice" => no_arg().map(|_| Box::new(golomb::Golomb::Rice) as Box<dyn Stage>)?,
        "expgolomb" => no_arg().map(|_| Box::new(golomb::Golomb::ExpGolomb) as Box<dyn Stage>)?,
        "deflate" => Box::new(bytecomp::ByteComp::Deflate(num(9, 0, 9)?)),
        "zstd" => Box::new(bytecomp::ByteComp::Zstd(num(9, 1, 22)?)),
        "lz4" => no_arg().map(|_| Box::new(bytecomp::ByteComp::Lz4) as Box<dyn Stage>)?,
        _ => return Err(StudyError::BadPipeline(format!("unknown stage {spec:?} (stages: {STAGE_NAMES})"))),
    })
}

/// Requires the layer-shaped stream (transforms act on the tensor only).
pub(crate) fn need_shaped(stage: &str, s: &Stream, ctx: &Ctx) -> Result<(), StudyError> {
    if s.shaped && s.symbols.len() == ctx.rows * ctx.cols {
        Ok(())
    } else {
        Err(StudyError::Unsupported(format!("{stage} acts on the layer tensor; stream {} is not it", s.name)))
    }
}

/// Takes exactly `n` parts.
pub(crate) fn take_parts<const N: usize>(stage: &str, parts: Vec<Stream>) -> Result<[Stream; N], StudyError> {
    parts.try_into().map_err(|_| StudyError::corrupt(format!("{stage}: wrong number of streams")))
}
