//! Streams on disk: per layer and format a `.bin` (little-endian bus words) and a `.hex` (one
//! B-bit word per line, most significant digit first, for `$readmemh`), plus `manifest.json`
//! describing them; and reading them back to check them. A layer of several row blocks (O > MAX_O)
//! gets one file pair per block, `<layer>.b<i>.<format>.bin`, and one manifest entry per block.

use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::bits::{from_le_bytes, to_le_bytes, word_hex};
use crate::blocks::{block_name, BlockedStream};
use crate::formats::{DecodeError, Format, StreamParams};

/// One stream file pair in the manifest: a layer, or one row block of it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct StreamEntry {
    /// Layer name.
    pub layer: String,
    /// Rows of this stream: O, or the block's rows.
    pub rows: usize,
    /// K.
    pub cols: usize,
    /// Row block number i (0 for a layer of one block).
    #[serde(default)]
    pub block: usize,
    /// Row blocks of the layer.
    #[serde(default = "one")]
    pub blocks: usize,
    /// First layer row of this stream: i * MAX_O.
    #[serde(default)]
    pub row_offset: usize,
    /// Format name.
    pub format: String,
    /// N, Q, B, R, P.
    pub lanes: usize,
    pub weight_bits: u32,
    pub bus_bits: u32,
    pub run_bits: u32,
    pub count_bits: u32,
    /// Bits on the wire (whole words).
    pub bits: u64,
    /// Payload / metadata / padding split of `bits`.
    pub payload_bits: u64,
    pub metadata_bits: u64,
    pub padding_bits: u64,
    /// Bus words.
    pub words: u64,
    /// File names, relative to the manifest.
    pub bin: String,
    pub hex: String,
}

fn one() -> usize {
    1
}

/// `manifest.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Manifest {
    /// Tool and version that wrote it.
    pub tool: String,
    /// Model name.
    pub model: String,
    /// Every stream written.
    pub streams: Vec<StreamEntry>,
}

/// Writes streams into a directory as they are produced, then the manifest.
pub struct StreamEmitter {
    dir: PathBuf,
    manifest: Manifest,
}

/// A file name safe on every filesystem for a layer name.
fn file_stem(layer: &str) -> String {
    layer.chars().map(|c| if c.is_ascii_alphanumeric() || c == '.' || c == '_' || c == '-' { c } else { '_' }).collect()
}

impl StreamEmitter {
    /// Creates the directory.
    pub fn new(dir: &Path, model: &str) -> io::Result<Self> {
        fs::create_dir_all(dir)?;
        Ok(StreamEmitter {
            dir: dir.to_path_buf(),
            manifest: Manifest {
                tool: format!("weightstream {}", env!("CARGO_PKG_VERSION")),
                model: model.to_string(),
                streams: Vec::new(),
            },
        })
    }

    /// Writes one layer's streams, one file pair per format and row block.
    pub fn write_layer(&mut self, layer: &str, streams: &[BlockedStream]) -> io::Result<()> {
        for (bs, (block, s)) in streams.iter().flat_map(|bs| bs.blocks.iter().enumerate().map(move |b| (bs, b))) {
            let blocks = bs.blocks.len();
            let stem = match blocks {
                1 => format!("{}.{}", file_stem(layer), s.format.name()),
                _ => format!("{}.b{block}.{}", file_stem(layer), s.format.name()),
            };
            let (bin, hex) = (format!("{stem}.bin"), format!("{stem}.hex"));
            fs::write(self.dir.join(&bin), to_le_bytes(&s.bits))?;
            let mut h = BufWriter::new(fs::File::create(self.dir.join(&hex))?);
            for j in 0..s.bus_words() {
                writeln!(h, "{}", word_hex(s.word(j)))?;
            }
            h.flush()?;
            let p = &s.params;
            self.manifest.streams.push(StreamEntry {
                layer: layer.to_string(),
                rows: s.rows,
                cols: s.cols,
                block,
                blocks,
                row_offset: bs.row_offset(block),
                format: s.format.name().to_string(),
                lanes: p.lanes,
                weight_bits: p.weight_bits,
                bus_bits: p.bus_bits,
                run_bits: p.run_bits,
                count_bits: p.count_bits,
                bits: s.sizes.total_bits(),
                payload_bits: s.sizes.payload_bits,
                metadata_bits: s.sizes.metadata_bits,
                padding_bits: s.sizes.padding_bits,
                words: s.bus_words() as u64,
                bin,
                hex,
            });
        }
        Ok(())
    }

    /// Writes `manifest.json` and returns its path.
    pub fn finish(self) -> io::Result<PathBuf> {
        let path = self.dir.join("manifest.json");
        let json = serde_json::to_string_pretty(&self.manifest).map_err(io::Error::other)?;
        fs::write(&path, json + "\n")?;
        Ok(path)
    }
}

/// Why an emitted stream directory failed its check.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("{}: not a weightstream manifest: {source}", path.display())]
    Manifest { path: PathBuf, source: serde_json::Error },
    #[error("{}: {reason}", path.display())]
    Entry { path: PathBuf, reason: String },
    #[error("{}: {source}", path.display())]
    Decode { path: PathBuf, source: DecodeError },
}

/// Result of decoding one emitted stream.
#[derive(Debug, Clone, Serialize)]
pub struct CheckedStream {
    pub layer: String,
    pub block: usize,
    pub format: String,
    pub words: u64,
    pub nonzeros: usize,
}

/// Decodes every stream a manifest lists (the `.bin` files, each row block on its own), checking
/// word counts; the first malformed one is an error naming the file, layer (and block), bit offset
/// and reason.
pub fn check_dir(manifest_path: &Path) -> Result<Vec<CheckedStream>, CheckError> {
    let io_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| CheckError::Io { path, source }
    };
    let text = fs::read_to_string(manifest_path).map_err(io_err(manifest_path))?;
    let manifest: Manifest = serde_json::from_str(&text)
        .map_err(|source| CheckError::Manifest { path: manifest_path.to_path_buf(), source })?;
    let dir = manifest_path.parent().unwrap_or(Path::new("."));
    let mut out = Vec::new();
    for e in &manifest.streams {
        let path = dir.join(&e.bin);
        let entry_err = |reason: String| CheckError::Entry { path: path.clone(), reason };
        let format: Format = e.format.parse().map_err(entry_err)?;
        let params = StreamParams {
            lanes: e.lanes,
            weight_bits: e.weight_bits,
            bus_bits: e.bus_bits,
            run_bits: e.run_bits,
            count_bits: e.count_bits,
        };
        let bytes = fs::read(&path).map_err(io_err(&path))?;
        if bytes.len() as u64 * 8 != e.words * u64::from(e.bus_bits) {
            return Err(entry_err(format!(
                "{} bytes, manifest says {} words of {} bits",
                bytes.len(),
                e.words,
                e.bus_bits
            )));
        }
        let bits = from_le_bytes(&bytes);
        let w = format
            .decode(&block_name(&e.layer, e.block, e.blocks), &bits, e.rows, e.cols, &params)
            .map_err(|source| CheckError::Decode { path: path.clone(), source })?;
        out.push(CheckedStream {
            layer: e.layer.clone(),
            block: e.block,
            format: e.format.clone(),
            words: e.words,
            nonzeros: w.nonzeros(),
        });
    }
    Ok(out)
}
