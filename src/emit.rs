//! Streams on disk: per layer and format a `.bin` (little-endian bus words) and a `.hex` (one
//! B-bit word per line, lowercase, most significant digit first, for `$readmemh`), plus a
//! versioned `manifest.json` describing them (docs/manifest.md); and checking them back. A layer
//! of several row blocks (O > MAX_O) gets one file pair per block, `<layer>.b<i>.<format>.bin`,
//! and one manifest entry per block.
//!
//! Every entry carries the SHA-256 of its two files and of its own fields, and every figure
//! [`check_dir`] can recompute (sizes, bus words, bits by category, rows, cols, blocks). Checking
//! treats the directory as untrusted input: only plain files named like the ones written here,
//! inside the directory, are opened (no symlinks, devices or FIFOs), sizes are checked against
//! the manifest before anything is read, and nothing is allocated beyond what the files' sizes
//! allow. Writing never replaces a non-empty directory's contents by surprise (see
//! [`crate::outputs`]) and keeps file names unique for any set of layer names.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::{self, Read};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::bits::{from_le_bytes, to_le_bytes, word_hex};
use crate::blocks::{block_name, BlockedStream};
use crate::formats::{DecodeError, Format, StreamParams};
use crate::outputs::{self, OutputError};

/// The manifest format this version writes and reads.
pub const MANIFEST_VERSION: u32 = 2;
/// Largest `manifest.json` [`check_dir`] reads.
pub const MAX_MANIFEST_BYTES: u64 = 64 << 20;
/// Largest rows of one stream: a row block has at most MAX_O rows, and MAX_O is at most 65535.
pub const MAX_STREAM_ROWS: usize = 65535;

/// `check` decodes at most 2^22 values plus 64 per stream bit into memory (4 bytes each).
pub const CHECK_VALUES_FLOOR: u128 = 1 << 22;
/// See [`CHECK_VALUES_FLOOR`].
pub const CHECK_VALUES_PER_BIT: u128 = 64;
/// Longest sanitized layer name kept in a file name (longer ones are cut and get a hash).
const MAX_STEM: usize = 96;

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
    pub block: usize,
    /// Row blocks of the layer.
    pub blocks: usize,
    /// First layer row of this stream: the rows of the blocks before it.
    pub row_offset: usize,
    /// Format name.
    pub format: String,
    /// N, Q, B, R, P.
    pub lanes: usize,
    pub weight_bits: u32,
    pub bus_bits: u32,
    pub run_bits: u32,
    pub count_bits: u32,
    /// Bits on the wire (whole words): words * B.
    pub bits: u64,
    /// Payload / metadata / padding split of `bits`.
    pub payload_bits: u64,
    pub metadata_bits: u64,
    pub padding_bits: u64,
    /// Bus words.
    pub words: u64,
    /// File names, in the manifest's directory.
    pub bin: String,
    pub hex: String,
    /// File sizes: words * B / 8, and words * (B / 4 + 1).
    pub bin_bytes: u64,
    pub hex_bytes: u64,
    /// SHA-256 of the files, lowercase hex.
    pub bin_sha256: String,
    pub hex_sha256: String,
    /// SHA-256 of this entry serialized as compact JSON with `entry_sha256` empty.
    pub entry_sha256: String,
}

/// `manifest.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Manifest {
    /// [`MANIFEST_VERSION`].
    pub version: u32,
    /// Tool and version that wrote it.
    pub tool: String,
    /// Model name.
    pub model: String,
    /// Every stream written.
    pub streams: Vec<StreamEntry>,
}

/// SHA-256 as lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// The SHA-256 an entry's `entry_sha256` holds.
pub fn entry_digest(e: &StreamEntry) -> String {
    let mut c = e.clone();
    c.entry_sha256.clear();
    sha256_hex(&serde_json::to_vec(&c).unwrap_or_default())
}

/// Writes streams into a directory as they are produced, then the manifest.
pub struct StreamEmitter {
    dir: PathBuf,
    manifest: Manifest,
    /// File names taken so far, lowercased (case-insensitive filesystems).
    taken: HashSet<String>,
}

/// A file name safe on every filesystem for a layer name: characters other than ASCII letters,
/// digits, `.`, `_` and `-` become `_`.
fn file_stem(layer: &str) -> String {
    layer.chars().map(|c| if c.is_ascii_alphanumeric() || c == '.' || c == '_' || c == '-' { c } else { '_' }).collect()
}

/// The file names `--force` may remove from a stream directory: those its `manifest.json`
/// lists (plain names only) and the manifest itself; nothing when there is no readable manifest.
pub fn owned_files(dir: &Path) -> Vec<String> {
    let Ok(bytes) = read_plain(dir, "manifest.json", None, MAX_MANIFEST_BYTES) else {
        return Vec::new();
    };
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return Vec::new();
    };
    let Some(streams) = v.get("streams").and_then(|s| s.as_array()) else {
        return Vec::new();
    };
    let mut out: Vec<String> = streams
        .iter()
        .flat_map(|e| ["bin", "hex"].map(|k| e.get(k).and_then(|n| n.as_str()).map(String::from)))
        .flatten()
        .filter(|n| plain_name(n))
        .collect();
    out.push("manifest.json".into());
    out
}

/// A name [`StreamEmitter`] could have written: ASCII letters, digits, `.`, `_`, `-`, not `.`/`..`.
fn plain_name(n: &str) -> bool {
    !n.is_empty()
        && n != "."
        && n != ".."
        && n.len() <= 255
        && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_' || c == '-')
}

impl StreamEmitter {
    /// Creates the directory; refuses one that is not empty (see [`StreamEmitter::create`]).
    pub fn new(dir: &Path, model: &str) -> Result<Self, OutputError> {
        Self::create(dir, model, false)
    }

    /// Creates the directory. One that is not empty is refused unless `force`, and then only the
    /// files its old manifest lists (and the manifest) are removed first.
    pub fn create(dir: &Path, model: &str, force: bool) -> Result<Self, OutputError> {
        outputs::prepare_dir("--emit-streams", dir, force, &owned_files(dir))?;
        Ok(StreamEmitter {
            dir: dir.to_path_buf(),
            manifest: Manifest {
                version: MANIFEST_VERSION,
                tool: format!("weightstream {}", env!("CARGO_PKG_VERSION")),
                model: model.to_string(),
                streams: Vec::new(),
            },
            taken: HashSet::new(),
        })
    }

    /// The file stems (without `.bin`/`.hex`) of a layer's streams: the sanitized name, and when
    /// that is too long or any of its names is taken by another layer, a short hash of the exact
    /// layer name added (and a counter on the unlikely collision of that).
    fn stems(&mut self, layer: &str, streams: &[BlockedStream]) -> Vec<String> {
        let base = file_stem(layer);
        let hash = &sha256_hex(layer.as_bytes())[..8];
        let names = |stem: &str| -> Vec<String> {
            streams
                .iter()
                .flat_map(|bs| {
                    let n = bs.blocks.len();
                    bs.blocks.iter().enumerate().map(move |(i, s)| match n {
                        1 => format!("{stem}.{}", s.format.name()),
                        _ => format!("{stem}.b{i}.{}", s.format.name()),
                    })
                })
                .collect()
        };
        let free = |v: &[String], taken: &HashSet<String>| {
            let mut seen = HashSet::new();
            v.iter().all(|s| {
                let l = s.to_lowercase();
                !taken.contains(&format!("{l}.bin")) && seen.insert(l)
            })
        };
        let cut: String = base.chars().take(MAX_STEM).collect();
        let mut candidates = Vec::new();
        if base.len() <= MAX_STEM {
            candidates.push(base.clone());
        }
        candidates.push(format!("{cut}-{hash}"));
        let mut chosen = None;
        for c in candidates {
            let v = names(&c);
            if free(&v, &self.taken) {
                chosen = Some(v);
                break;
            }
        }
        let v = chosen.unwrap_or_else(|| {
            (1..).map(|n| names(&format!("{cut}-{hash}-{n}"))).find(|v| free(v, &self.taken)).unwrap_or_default()
        });
        for s in &v {
            let l = s.to_lowercase();
            self.taken.insert(format!("{l}.bin"));
        }
        v
    }

    /// Writes one layer's streams, one file pair per format and row block, each file atomically.
    pub fn write_layer(&mut self, layer: &str, streams: &[BlockedStream]) -> Result<(), OutputError> {
        let stems = self.stems(layer, streams);
        let all = streams.iter().flat_map(|bs| bs.blocks.iter().enumerate().map(move |b| (bs, b)));
        for ((bs, (block, s)), stem) in all.zip(stems) {
            let blocks = bs.blocks.len();
            let (bin, hex) = (format!("{stem}.bin"), format!("{stem}.hex"));
            let bin_data = to_le_bytes(&s.bits);
            let mut hex_data = String::with_capacity(s.bus_words() * (s.params.bus_bits as usize / 4 + 1));
            for j in 0..s.bus_words() {
                hex_data.push_str(&word_hex(s.word(j)));
                hex_data.push('\n');
            }
            outputs::write_bytes(&self.dir.join(&bin), &bin_data)?;
            outputs::write_bytes(&self.dir.join(&hex), hex_data.as_bytes())?;
            let p = &s.params;
            let mut entry = StreamEntry {
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
                bin_bytes: bin_data.len() as u64,
                hex_bytes: hex_data.len() as u64,
                bin_sha256: sha256_hex(&bin_data),
                hex_sha256: sha256_hex(hex_data.as_bytes()),
                entry_sha256: String::new(),
            };
            entry.entry_sha256 = entry_digest(&entry);
            self.manifest.streams.push(entry);
        }
        Ok(())
    }

    /// Writes `manifest.json` (atomically, last) and returns its path.
    pub fn finish(self) -> Result<PathBuf, OutputError> {
        let path = self.dir.join("manifest.json");
        let json = serde_json::to_string_pretty(&self.manifest).unwrap_or_default();
        outputs::write_bytes(&path, (json + "\n").as_bytes())?;
        Ok(path)
    }
}

/// Why an emitted stream directory failed its check. Every message is one line naming the file
/// (and, for stream files, the layer, block and format); nothing read from a file is echoed
/// except layer names, escaped.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// The manifest itself: unreadable, too big, not JSON, wrong version, no streams.
    #[error("{}: {reason}", path.display())]
    Manifest { path: PathBuf, reason: String },
    /// An entry or its file is inconsistent (fields, names, sizes, checksums).
    #[error("{}: {what}: {reason}", path.display())]
    Entry { path: PathBuf, what: String, reason: String },
    /// A stream file differs from what it should hold, at a known place.
    #[error("{}: {what}: bit offset {bit} (file byte {byte}): {reason}", path.display())]
    Corrupt { path: PathBuf, what: String, bit: u64, byte: u64, reason: String },
    /// The stream does not decode.
    #[error("{}: {error}", path.display())]
    Decode { path: PathBuf, error: DecodeError },
}

/// Result of checking one emitted stream.
#[derive(Debug, Clone, Serialize)]
pub struct CheckedStream {
    pub layer: String,
    pub block: usize,
    pub format: String,
    pub words: u64,
    pub nonzeros: usize,
}

/// Escapes control characters and cuts very long names, so a message stays one line.
fn shown(s: &str) -> String {
    let mut out: String = s.chars().take(200).flat_map(|c| c.escape_debug()).collect();
    if s.chars().count() > 200 {
        out.push_str("...");
    }
    out
}

/// How messages name an entry: `layer L [block i] (format)`.
fn what(e: &StreamEntry) -> String {
    format!("layer {} ({})", shown(&block_name(&e.layer, e.block, e.blocks)), shown(&e.format))
}

/// Reads `name` inside `dir` as an untrusted file: only a plain name, only a regular file (no
/// symlink, device, FIFO or socket; opened with O_NOFOLLOW | O_NONBLOCK and checked again
/// through the open descriptor), of exactly `expected` bytes when given, at most `max`. Errors
/// are reasons; they never give the size of a file that has other hard links.
fn read_plain(dir: &Path, name: &str, expected: Option<u64>, max: u64) -> Result<Vec<u8>, String> {
    if !plain_name(name) {
        return Err(format!(
            "{:?}: not a plain file name inside the directory (only letters, digits, '.', '_', '-')",
            shown(name)
        ));
    }
    let path = dir.join(name);
    let before = fs::symlink_metadata(&path).map_err(|e| format!("cannot read: {}", io_reason(&e)))?;
    let kind = |m: &fs::Metadata| {
        let t = m.file_type();
        if t.is_symlink() {
            "a symbolic link"
        } else if t.is_dir() {
            "a directory"
        } else {
            "a device, FIFO or socket"
        }
    };
    if !before.is_file() {
        return Err(format!("is {}, not a plain file (refused)", kind(&before)));
    }
    let mut file = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(&path)
        .map_err(|e| format!("cannot open: {}", io_reason(&e)))?;
    let meta = file.metadata().map_err(|e| format!("cannot read: {}", io_reason(&e)))?;
    if !meta.is_file() || meta.dev() != before.dev() || meta.ino() != before.ino() {
        return Err("changed while being opened (refused)".into());
    }
    let len = meta.len();
    let size = |len: u64| if meta.nlink() > 1 { "a hard-linked file".to_string() } else { format!("{len} bytes") };
    if let Some(want) = expected {
        if len != want {
            let at = if meta.nlink() > 1 { String::new() } else { format!(", differs from byte {}", len.min(want)) };
            return Err(format!("is {}, the manifest says {want} bytes{at}", size(len)));
        }
    }
    if len > max {
        return Err(format!("is {}, more than the {max} bytes allowed", size(len)));
    }
    let mut buf = Vec::with_capacity(len as usize);
    (&mut file).take(len + 1).read_to_end(&mut buf).map_err(|e| format!("cannot read: {}", io_reason(&e)))?;
    if buf.len() as u64 != len {
        return Err("changed size while being read".into());
    }
    Ok(buf)
}

/// An I/O error's reason without its OS-specific wrapping.
fn io_reason(e: &io::Error) -> String {
    match e.raw_os_error() {
        Some(code) if code == libc::ELOOP => "is a symbolic link (refused)".into(),
        _ => e.kind().to_string(),
    }
}

/// What a manifest entry promises, checked for consistency before any file is read.
struct Checked {
    format: Format,
    params: StreamParams,
}

fn entry_fields(dir: &Path, e: &StreamEntry) -> Result<Checked, CheckError> {
    let err = |reason: String| CheckError::Entry { path: dir.join("manifest.json"), what: what(e), reason };
    let format: Format = e.format.parse().map_err(|_| err(format!("unknown format {:?}", shown(&e.format))))?;
    let params = StreamParams {
        lanes: e.lanes,
        weight_bits: e.weight_bits,
        bus_bits: e.bus_bits,
        run_bits: e.run_bits,
        count_bits: e.count_bits,
        nm: Default::default(),
    };
    params.validate().map_err(|x| err(x.to_string()))?;
    for (key, name, ext) in [("bin", &e.bin, ".bin"), ("hex", &e.hex, ".hex")] {
        if !plain_name(name) || !name.ends_with(ext) {
            return Err(err(format!(
                "{key} {:?}: not a plain file name inside the directory ending {ext} (only letters, digits, '.', '_', '-')",
                shown(name)
            )));
        }
    }
    if e.bin == e.hex {
        return Err(err("bin and hex name the same file".into()));
    }
    if e.rows == 0 || e.cols == 0 {
        return Err(err(format!("bad shape {} x {}", e.rows, e.cols)));
    }
    if e.rows > MAX_STREAM_ROWS {
        return Err(err(format!("{} rows: more than a stream (row block, MAX_O) holds ({MAX_STREAM_ROWS})", e.rows)));
    }
    if e.blocks == 0 || e.block >= e.blocks {
        return Err(err(format!("block {} of {}", e.block, e.blocks)));
    }
    let b = u64::from(e.bus_bits);
    if e.words.checked_mul(b) != Some(e.bits) {
        return Err(err(format!("bits {} is not words {} x bus bits {b}", e.bits, e.words)));
    }
    let parts = e.payload_bits.checked_add(e.metadata_bits).and_then(|s| s.checked_add(e.padding_bits));
    if parts != Some(e.bits) {
        return Err(err(format!(
            "payload {} + metadata {} + padding {} bits is not bits {}",
            e.payload_bits, e.metadata_bits, e.padding_bits, e.bits
        )));
    }
    if e.bin_bytes != e.bits / 8 {
        return Err(err(format!("bin_bytes {} is not bits / 8 = {}", e.bin_bytes, e.bits / 8)));
    }
    let hex_bytes = e.words.checked_mul(b / 4 + 1);
    if hex_bytes != Some(e.hex_bytes) {
        return Err(err(format!("hex_bytes {} is not words x (B/4 + 1)", e.hex_bytes)));
    }
    let elements = e.rows.checked_mul(e.cols).ok_or_else(|| err(format!("{} x {} overflows", e.rows, e.cols)))?;
    // The fewest bits a stream of this shape can have: dense Q per element, bitmap formats a
    // mask bit per element, CSC a P-bit count per column.
    let min_bits = match format {
        Format::Dense => (elements as u128) * u128::from(e.weight_bits),
        Format::Bitmap | Format::DeltaBitmap => elements as u128,
        // The header's longest-length field, then a mask bit per element.
        Format::BitmapHuffman | Format::DeltaBitmapHuffman | Format::LaneHuffman | Format::DeltaLaneHuffman => {
            elements as u128 + u128::from(crate::formats::huffman::LMAX_BITS)
        }
        Format::Csc => (e.cols as u128) * u128::from(e.count_bits),
        // The header (how many entries follow depends on the n:m it gives).
        Format::Nm => u128::from(crate::formats::nm::HEADER_BITS),
    };
    if min_bits > u128::from(e.bits) {
        return Err(err(format!(
            "{} x {} cannot be encoded in {} bits of {format} (at least {min_bits})",
            e.rows, e.cols, e.bits
        )));
    }
    // Decoding materializes rows x cols values: bound them by the stream's size before anything is
    // allocated. Only CSC can describe more values than it has bits (an empty column is one
    // P-bit count however tall it is); a real layer stays far below 64 values per stream bit.
    let limit = CHECK_VALUES_FLOOR + CHECK_VALUES_PER_BIT * u128::from(e.bits);
    if elements as u128 > limit {
        return Err(err(format!(
            "{} x {} = {elements} values from {} stream bits: more than check decodes in memory \
             (2^22 + 64 per stream bit = {limit})",
            e.rows, e.cols, e.bits
        )));
    }
    for (key, h) in [("bin_sha256", &e.bin_sha256), ("hex_sha256", &e.hex_sha256), ("entry_sha256", &e.entry_sha256)] {
        if h.len() != 64 || !h.bytes().all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c)) {
            return Err(err(format!("{key} is not 64 lowercase hex digits")));
        }
    }
    Ok(Checked { format, params })
}

/// Checks one stream whose files' bytes are given (as [`check_dir`] reads them): the entry's
/// fields; the sizes; the `.hex` parsed (lowercase digits, one word a line) and compared word
/// for word with the `.bin`, the first difference blamed on the file whose SHA-256 does not
/// match; the checksums; decoding; re-encoding the decoded matrix and comparing it bit for bit
/// with the `.bin` and its sizes by category with the manifest; the entry's own SHA-256.
pub fn check_stream(dir: &Path, e: &StreamEntry, bin: &[u8], hex: &[u8]) -> Result<CheckedStream, CheckError> {
    let c = entry_fields(dir, e)?;
    let (bin_path, hex_path) = (dir.join(&e.bin), dir.join(&e.hex));
    let entry = |path: &Path, reason: String| CheckError::Entry { path: path.to_path_buf(), what: what(e), reason };
    if bin.len() as u64 != e.bin_bytes {
        return Err(entry(&bin_path, format!("{} bytes, the manifest says {}", bin.len(), e.bin_bytes)));
    }
    if hex.len() as u64 != e.hex_bytes {
        return Err(entry(&hex_path, format!("{} bytes, the manifest says {}", hex.len(), e.hex_bytes)));
    }
    let bin_ok = sha256_hex(bin) == e.bin_sha256;
    let hex_ok = sha256_hex(hex) == e.hex_sha256;
    let corrupt = |path: &Path, bit: u64, byte: u64, reason: String| CheckError::Corrupt {
        path: path.to_path_buf(),
        what: what(e),
        bit,
        byte,
        reason,
    };
    let b = e.bus_bits as usize;
    let digits = b / 4;
    let line = digits + 1;
    for j in 0..e.words as usize {
        let text = &hex[j * line..(j + 1) * line];
        let word = &bin[j * b / 8..(j + 1) * b / 8];
        for (d, &ch) in text[..digits].iter().enumerate() {
            let nib = (digits - 1 - d) as u64; // nibble index within the word, from its bit 0
            let bit_of = |k: u64| (j * b) as u64 + nib * 4 + k;
            let hex_byte = (j * line + d) as u64;
            let value = match ch {
                b'0'..=b'9' => ch - b'0',
                b'a'..=b'f' => ch - b'a' + 10,
                _ => {
                    return Err(corrupt(
                        &hex_path,
                        bit_of(0),
                        hex_byte,
                        format!(
                            "{:?} is not a lowercase hex digit (word {j})",
                            char::from(ch).escape_debug().to_string()
                        ),
                    ))
                }
            };
            let from_bin = (word[nib as usize / 2] >> (4 * (nib % 2))) & 0xf;
            if value != from_bin {
                let k = u64::from((value ^ from_bin).trailing_zeros());
                let bit = bit_of(k);
                return Err(match (bin_ok, hex_ok) {
                    (false, true) => corrupt(
                        &bin_path,
                        bit,
                        bit / 8,
                        format!(
                            "differs from {} word {j} (which matches its SHA-256); the .bin does not{}",
                            e.hex,
                            decode_note(e, &c, bin)
                        ),
                    ),
                    (true, false) => corrupt(
                        &hex_path,
                        bit,
                        hex_byte,
                        format!("word {j} differs from {} (which matches its SHA-256); the .hex does not", e.bin),
                    ),
                    _ => corrupt(
                        &bin_path,
                        bit,
                        bit / 8,
                        format!(
                            "differs from {} word {j} (byte {hex_byte}) and neither file matches its SHA-256",
                            e.hex
                        ),
                    ),
                });
            }
        }
        if text[digits] != b'\n' {
            let byte = (j * line + digits) as u64;
            return Err(corrupt(&hex_path, ((j + 1) * b) as u64, byte, format!("expected a line end after word {j}")));
        }
    }
    if !bin_ok || !hex_ok {
        let (path, key) = if bin_ok { (&hex_path, "hex_sha256") } else { (&bin_path, "bin_sha256") };
        return Err(entry(
            path,
            format!(
                "contents do not match {key} in the manifest (the .bin and .hex agree: both changed, or the checksum)"
            ),
        ));
    }
    let bits = from_le_bytes(bin);
    let w = c
        .format
        .decode(&block_name(&e.layer, e.block, e.blocks), &bits, e.rows, e.cols, &c.params)
        .map_err(|error| CheckError::Decode { path: bin_path.clone(), error })?;
    let again = c.format.encode(&w, &c.params).map_err(|x| entry(&bin_path, format!("does not re-encode: {x}")))?;
    if let Some(i) = (0..bits.len().max(again.bits.len())).find(|&i| bits.get(i) != again.bits.get(i)) {
        return Err(corrupt(
            &bin_path,
            i as u64,
            i as u64 / 8,
            format!(
                "decodes as {} x {}, but re-encodes differently ({} bits): not the stream of the matrix it decodes to",
                e.rows,
                e.cols,
                again.bits.len()
            ),
        ));
    }
    let s = &again.sizes;
    if (s.payload_bits, s.metadata_bits, s.padding_bits) != (e.payload_bits, e.metadata_bits, e.padding_bits) {
        return Err(entry(
            &dir.join("manifest.json"),
            format!(
                "manifest says payload/metadata/padding {}/{}/{} bits, the stream has {}/{}/{}",
                e.payload_bits, e.metadata_bits, e.padding_bits, s.payload_bits, s.metadata_bits, s.padding_bits
            ),
        ));
    }
    if entry_digest(e) != e.entry_sha256 {
        return Err(entry(
            &dir.join("manifest.json"),
            "the entry's fields do not match its entry_sha256 (edited after writing)".into(),
        ));
    }
    Ok(CheckedStream {
        layer: e.layer.clone(),
        block: e.block,
        format: e.format.clone(),
        words: e.words,
        nonzeros: w.nonzeros(),
    })
}

/// What decoding a `.bin` known to be corrupt gives, for the error message: where it fails, or
/// that it still decodes (to other weights).
fn decode_note(e: &StreamEntry, c: &Checked, bin: &[u8]) -> String {
    let bits = from_le_bytes(bin);
    match c.format.decode(&e.layer, &bits, e.rows, e.cols, &c.params) {
        Ok(_) => "; as is it still decodes, to other weights".into(),
        Err(x) => format!("; as is its decoding fails at bit offset {}: {}", x.offset, x.kind),
    }
}

/// Reads and parses a manifest: size-bounded, a plain file, version [`MANIFEST_VERSION`], at
/// least one stream. JSON errors give their line and column, never the file's text.
pub fn read_manifest(manifest_path: &Path) -> Result<Manifest, CheckError> {
    let fail = |reason: String| CheckError::Manifest { path: manifest_path.to_path_buf(), reason };
    let dir = manifest_path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = manifest_path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let bytes = read_plain(dir, &name, None, MAX_MANIFEST_BYTES).map_err(fail)?;
    let where_ = |e: &serde_json::Error| format!("line {} column {}", e.line(), e.column());
    let value: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|e| fail(format!("not a weightstream manifest: not JSON ({})", where_(&e))))?;
    match value.get("version") {
        None => {
            return Err(fail(
                "no \"version\": an unversioned manifest from before checksums, which cannot be verified; \
                 re-emit it (weightstream report --emit-streams DIR --force)"
                    .into(),
            ))
        }
        Some(v) if v.as_u64() != Some(u64::from(MANIFEST_VERSION)) => {
            let v = v.as_u64().map_or("not a number".to_string(), |v| v.to_string());
            return Err(fail(format!("version {v}: this weightstream reads version {MANIFEST_VERSION}")));
        }
        Some(_) => {}
    }
    let manifest: Manifest = serde_json::from_slice(&bytes).map_err(|e| {
        let msg = e.to_string();
        let reason = match msg.split_once(" at line") {
            Some((m, _)) if m.starts_with("missing field") => m.to_string(),
            _ => "a field has the wrong type or value".into(),
        };
        fail(format!("not a weightstream manifest: {reason} ({})", where_(&e)))
    })?;
    if manifest.streams.is_empty() {
        return Err(fail("lists no streams".into()));
    }
    Ok(manifest)
}

/// Checks every stream a manifest lists (each row block on its own; see [`check_stream`]),
/// after checking the entries against each other (distinct files; per layer and format, blocks
/// 0..n in order with row offsets adding up). The first problem is an error naming the file, the
/// layer (and block), the offset where known, and the reason.
pub fn check_dir(manifest_path: &Path) -> Result<Vec<CheckedStream>, CheckError> {
    let manifest = read_manifest(manifest_path)?;
    let dir = manifest_path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut files: HashMap<String, usize> = HashMap::new();
    let mut next: HashMap<(&str, &str), (usize, usize, usize)> = HashMap::new();
    for (i, e) in manifest.streams.iter().enumerate() {
        let err = |reason: String| CheckError::Entry { path: manifest_path.to_path_buf(), what: what(e), reason };
        entry_fields(dir, e)?;
        for name in [&e.bin, &e.hex] {
            if let Some(j) = files.insert(name.to_lowercase(), i) {
                return Err(err(format!("{:?} is also stream {j}'s file", shown(name))));
            }
        }
        let (block, row, blocks) =
            next.get(&(e.layer.as_str(), e.format.as_str())).copied().unwrap_or((0, 0, e.blocks));
        if (e.block, e.row_offset, e.blocks) != (block, row, blocks) {
            return Err(err(format!(
                "block {} of {} at row {}: expected block {block} of {blocks} at row {row}",
                e.block, e.blocks, e.row_offset
            )));
        }
        next.insert((e.layer.as_str(), e.format.as_str()), (block + 1, row + e.rows, blocks));
    }
    if let Some(((layer, format), (n, _, blocks))) = next.iter().find(|(_, (n, _, blocks))| n != blocks) {
        return Err(CheckError::Manifest {
            path: manifest_path.to_path_buf(),
            reason: format!("layer {} ({}): {n} of its {blocks} row blocks listed", shown(layer), shown(format)),
        });
    }
    let mut out = Vec::with_capacity(manifest.streams.len());
    for e in &manifest.streams {
        let read = |name: &str, len: u64| {
            read_plain(dir, name, Some(len), len).map_err(|reason| CheckError::Entry {
                path: dir.join(name),
                what: what(e),
                reason,
            })
        };
        let bin = read(&e.bin, e.bin_bytes)?;
        let hex = read(&e.hex, e.hex_bytes)?;
        out.push(check_stream(dir, e, &bin, &hex)?);
    }
    Ok(out)
}
