//! `deflate[:LEVEL]`, `zstd[:LEVEL]`, `lz4`: general-purpose byte compressors from flate2, zstd
//! and lz4_flex as references (not ours). Each stream's symbols are packed LSB-first into bytes
//! and compressed, behind a 5-byte header (width, shaped, count) that is counted.

use std::io::{Read, Write};

use super::{take_parts, Kind, Stage};
use crate::study::bitio::{pack, unpack};
use crate::study::stream::{byte_stream, stream_bytes, Ctx, Header, Stream};
use crate::study::StudyError;

/// Which compressor, with its level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteComp {
    /// DEFLATE (raw, no zlib/gzip wrapper), level 0..9.
    Deflate(u32),
    /// Zstandard, level 1..22.
    Zstd(u32),
    /// LZ4 block format.
    Lz4,
}

fn io_err(stage: &str, e: impl std::fmt::Display) -> StudyError {
    StudyError::corrupt(format!("{stage}: {e}"))
}

impl ByteComp {
    /// Compresses packed bytes.
    pub fn compress(self, data: &[u8]) -> Result<Vec<u8>, StudyError> {
        match self {
            ByteComp::Deflate(level) => {
                let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::new(level));
                e.write_all(data).map_err(|e| io_err("deflate", e))?;
                e.finish().map_err(|e| io_err("deflate", e))
            }
            ByteComp::Zstd(level) => zstd::bulk::compress(data, level as i32).map_err(|e| io_err("zstd", e)),
            ByteComp::Lz4 => Ok(lz4_flex::block::compress(data)),
        }
    }

    /// Decompresses to `len` bytes.
    pub fn decompress(self, data: &[u8], len: usize) -> Result<Vec<u8>, StudyError> {
        let out = match self {
            ByteComp::Deflate(_) => {
                let mut out = Vec::with_capacity(len);
                flate2::read::DeflateDecoder::new(data)
                    .take(len as u64 + 1)
                    .read_to_end(&mut out)
                    .map_err(|e| io_err("deflate", e))?;
                out
            }
            ByteComp::Zstd(_) => zstd::bulk::decompress(data, len.max(1)).map_err(|e| io_err("zstd", e))?,
            ByteComp::Lz4 => lz4_flex::block::decompress(data, len).map_err(|e| io_err("lz4", e))?,
        };
        if out.len() != len {
            return Err(StudyError::corrupt("byte compressor: wrong decompressed length"));
        }
        Ok(out)
    }
}

impl Stage for ByteComp {
    fn name(&self) -> String {
        match self {
            ByteComp::Deflate(9) => "deflate".into(),
            ByteComp::Deflate(l) => format!("deflate:{l}"),
            ByteComp::Zstd(9) => "zstd".into(),
            ByteComp::Zstd(l) => format!("zstd:{l}"),
            ByteComp::Lz4 => "lz4".into(),
        }
    }
    fn kind(&self) -> Kind {
        Kind::General
    }
    fn arity(&self) -> usize {
        1
    }
    fn encode(&self, s: &Stream, _: &Ctx) -> Result<Vec<Stream>, StudyError> {
        let mut out = Header::of(s).to_bytes().to_vec();
        out.extend(self.compress(&pack(&s.symbols, s.width))?);
        Ok(vec![byte_stream(&s.name, out)])
    }
    fn decode(&self, parts: Vec<Stream>, _: &Ctx) -> Result<Stream, StudyError> {
        let [b] = take_parts::<1>(&self.name(), parts)?;
        let bytes = stream_bytes(&b)?;
        let (h, body) = Header::from_bytes(&bytes)?;
        let len = (h.count as u64 * u64::from(h.width)).div_ceil(8);
        if len > 1 << 32 {
            return Err(StudyError::corrupt("byte compressor: implausible length"));
        }
        let packed = self.decompress(body, len as usize)?;
        Ok(Stream::new(b.name, h.width, h.shaped, unpack(&packed, h.width, h.count)?))
    }
}
