//! Checkpoints opened lazily: every tensor's name, shape and dtype is known at open, its values
//! are read on demand, a range of elements at a time. Safetensors files are memory-mapped and read
//! in place (pages dropped again after each range, so resident memory stays about one range);
//! multi-file checkpoints (`model.safetensors.index.json` and its shards) open as one model.
//! PyTorch checkpoints and synthetic models are held in memory as read.

use std::collections::{BTreeMap, HashSet};
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use memmap2::{Mmap, UncheckedAdvice};

use super::error::{LoadError, LoadErrorKind};
use super::tensor::{DType, RawTensor};
use super::{pth, safetensors_io, Model, Provenance};

/// Where a tensor's values are.
#[derive(Debug, Clone)]
enum Data {
    /// Read already (PyTorch, synthetic), as f32.
    Values(Arc<Vec<f32>>),
    /// Little-endian elements of `dtype` at bytes [start, end) of a mapped safetensors file.
    Mapped { map: Arc<Mmap>, path: Arc<PathBuf>, start: usize, end: usize, dtype: safetensors::Dtype },
}

/// One tensor of a lazily opened checkpoint.
#[derive(Debug, Clone)]
pub struct LazyTensor {
    /// Name as stored in the checkpoint.
    pub name: String,
    /// Shape, outermost dimension first.
    pub shape: Vec<usize>,
    /// Element type of the stored data.
    pub dtype: DType,
    data: Data,
}

impl LazyTensor {
    /// A tensor whose values are in memory.
    pub fn in_memory(t: RawTensor) -> LazyTensor {
        LazyTensor { name: t.name, shape: t.shape, dtype: t.dtype, data: Data::Values(Arc::new(t.values)) }
    }

    /// Number of elements the shape describes.
    pub fn numel(&self) -> usize {
        self.shape.iter().product()
    }

    /// Elements [first, first + len) in row-major order, converted to f32.
    pub fn read(&self, first: usize, len: usize) -> Result<Vec<f32>, LoadError> {
        let range_err = |path: &Path| {
            LoadError::new(
                path,
                LoadErrorKind::Malformed(format!(
                    "tensor '{}': elements [{first}, {}) lie outside its {} elements",
                    self.name,
                    first.saturating_add(len),
                    self.numel()
                )),
            )
        };
        match &self.data {
            Data::Values(v) => first
                .checked_add(len)
                .and_then(|end| v.get(first..end))
                .map(<[f32]>::to_vec)
                .ok_or_else(|| range_err(Path::new(&self.name))),
            Data::Mapped { map, path, start, end, dtype } => {
                let size = dtype.size();
                let lo = first.checked_mul(size).and_then(|b| b.checked_add(*start));
                let hi = first.checked_add(len).and_then(|e| e.checked_mul(size)).and_then(|b| b.checked_add(*start));
                let (lo, hi) = match (lo, hi) {
                    (Some(lo), Some(hi)) if hi <= *end => (lo, hi),
                    _ => return Err(range_err(path)),
                };
                let (_, values) = safetensors_io::convert(*dtype, &map[lo..hi]).ok_or_else(|| {
                    LoadError::new(
                        path.as_path(),
                        LoadErrorKind::UnsupportedDtype(format!("{dtype:?} (tensor {})", self.name)),
                    )
                })?;
                release(map, lo, hi);
                Ok(values)
            }
        }
    }

    /// Every element, converted to f32.
    pub fn read_all(&self) -> Result<Vec<f32>, LoadError> {
        self.read(0, self.numel())
    }

    /// The tensor with its values read.
    pub fn materialize(&self) -> Result<RawTensor, LoadError> {
        Ok(RawTensor {
            name: self.name.clone(),
            shape: self.shape.clone(),
            dtype: self.dtype,
            values: self.read_all()?,
        })
    }
}

/// Drops the pages wholly inside bytes [lo, hi) of the map from this process: they were read
/// once, and the next range should not find them still counted as resident.
fn release(map: &Mmap, lo: usize, hi: usize) {
    const PAGE: usize = 4096;
    let first = lo.div_ceil(PAGE) * PAGE;
    let last = hi / PAGE * PAGE;
    if last > first {
        // SAFETY: the map is a read-only shared mapping of a file, so MADV_DONTNEED only drops
        // resident pages: the next access reads the same bytes from the file again. No slice of
        // these pages outlives this call (`convert` copied the values out).
        // An error only means the pages stay resident; nothing depends on it.
        let _ = unsafe { map.unchecked_advise_range(UncheckedAdvice::DontNeed, first, last - first) };
    }
}

/// A checkpoint opened lazily: its tensors in checkpoint order, values not yet read.
#[derive(Debug, Clone)]
pub struct LazyModel {
    /// Short name (`mobilenet_v2`, a file stem, `synthetic:resnet18`).
    pub name: String,
    /// The file it was read from, or the synthetic spec.
    pub source: String,
    /// Trained, untrained, synthetic or unknown.
    pub provenance: Provenance,
    /// All tensors, in checkpoint order.
    pub tensors: Vec<LazyTensor>,
}

impl LazyModel {
    /// Every tensor read into memory.
    pub fn materialize(&self) -> Result<Model, LoadError> {
        Ok(Model {
            name: self.name.clone(),
            source: self.source.clone(),
            provenance: self.provenance,
            tensors: self.tensors.iter().map(LazyTensor::materialize).collect::<Result<_, _>>()?,
        })
    }
}

/// The first bytes of a file (at most `n`).
fn head(path: &Path, n: usize) -> Result<Vec<u8>, LoadError> {
    let file = File::open(path).map_err(|e| LoadError::new(path, LoadErrorKind::Io(e)))?;
    let mut buf = Vec::with_capacity(n);
    file.take(n as u64).read_to_end(&mut buf).map_err(|e| LoadError::new(path, LoadErrorKind::Io(e)))?;
    Ok(buf)
}

/// True for a path naming a multi-file safetensors index (`*.safetensors.index.json`).
pub fn is_index(path: &Path) -> bool {
    path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.ends_with(".safetensors.index.json"))
}

/// Opens a checkpoint file (or a safetensors index, or a directory holding
/// `model.safetensors.index.json`), choosing the reader by its first bytes.
pub fn open_file(path: &Path) -> Result<Vec<LazyTensor>, LoadError> {
    if path.is_dir() {
        let index = path.join("model.safetensors.index.json");
        if index.is_file() {
            return open_index(&index);
        }
        return Err(LoadError::new(
            path,
            LoadErrorKind::NotACheckpoint("a directory without model.safetensors.index.json".into()),
        ));
    }
    if is_index(path) {
        return open_index(path);
    }
    let first = head(path, 16)?;
    let pytorch = first.starts_with(b"PK\x03\x04") || first.first() == Some(&0x80);
    let tensors = match open_safetensors(path, &first)? {
        Some(tensors) => tensors,
        None if pytorch => {
            let bytes = std::fs::read(path).map_err(|e| LoadError::new(path, LoadErrorKind::Io(e)))?;
            pth::load_pth_bytes(path, &bytes)?.into_iter().map(LazyTensor::in_memory).collect()
        }
        None if first.is_empty() => {
            return Err(LoadError::new(path, LoadErrorKind::NotACheckpoint("empty file".into())));
        }
        None => {
            return Err(LoadError::new(
                path,
                LoadErrorKind::NotACheckpoint("neither safetensors, a PyTorch zip nor a PyTorch pickle".into()),
            ))
        }
    };
    if tensors.is_empty() {
        return Err(LoadError::new(path, LoadErrorKind::NoWeights));
    }
    Ok(tensors)
}

/// Whether the first bytes may start a safetensors file (a header length, then `{`); checked
/// against the file's length once mapped.
fn looks_mapped(first: &[u8]) -> bool {
    first.len() > 8 && first[8] == b'{'
}

/// Maps a safetensors file and lists its tensors in data order; `None` when the file is not
/// safetensors (its first bytes are not a header length followed by `{`, or the length does not
/// fit the file).
fn open_safetensors(path: &Path, first: &[u8]) -> Result<Option<Vec<LazyTensor>>, LoadError> {
    // A PyTorch zip never passes; a legacy pickle's first 8 bytes read as an exabyte.
    if !looks_mapped(first) {
        return Ok(None);
    }
    let file = File::open(path).map_err(|e| LoadError::new(path, LoadErrorKind::Io(e)))?;
    // SAFETY: the map is read-only. Another process truncating the file while it is mapped would
    // fault a later read; a checkpoint being read is not expected to change under us.
    let map = unsafe { Mmap::map(&file) }.map_err(|e| LoadError::new(path, LoadErrorKind::Io(e)))?;
    if !safetensors_io::looks_like_safetensors(&map) {
        return Ok(None);
    }
    let layout = safetensors_io::layout(path, &map)?;
    let map = Arc::new(map);
    let shared_path = Arc::new(path.to_path_buf());
    layout
        .into_iter()
        .map(|t| {
            let dtype = safetensors_io::dtype_of(t.dtype).ok_or_else(|| {
                LoadError::new(path, LoadErrorKind::UnsupportedDtype(format!("{:?} (tensor {})", t.dtype, t.name)))
            })?;
            Ok(LazyTensor {
                name: t.name,
                shape: t.shape,
                dtype,
                data: Data::Mapped {
                    map: Arc::clone(&map),
                    path: Arc::clone(&shared_path),
                    start: t.start,
                    end: t.end,
                    dtype: t.dtype,
                },
            })
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// The part of an index file we read.
#[derive(serde::Deserialize)]
struct Index {
    weight_map: BTreeMap<String, String>,
}

/// Opens a multi-file safetensors checkpoint from its index: the shards it names, each from the
/// index's own directory, as one model (shards in name order, each in data order). Every tensor
/// the index maps must be in the shard it names, and no tensor may be in two shards.
fn open_index(index: &Path) -> Result<Vec<LazyTensor>, LoadError> {
    let malformed = |msg: String| LoadError::new(index, LoadErrorKind::Malformed(format!("safetensors index: {msg}")));
    let text = std::fs::read(index).map_err(|e| LoadError::new(index, LoadErrorKind::Io(e)))?;
    let parsed: Index = serde_json::from_slice(&text).map_err(|e| malformed(e.to_string()))?;
    let dir = index.parent().unwrap_or(Path::new("."));
    let mut shards: Vec<&str> = parsed.weight_map.values().map(String::as_str).collect();
    shards.sort_unstable();
    shards.dedup();
    if shards.is_empty() {
        return Err(malformed("weight_map names no shard".into()));
    }
    let mut tensors = Vec::new();
    let mut seen = HashSet::new();
    for shard in shards {
        // Only files beside the index: a shard name is a file name, not a path.
        if shard.is_empty() || shard.contains('/') || shard.contains('\\') || shard == "." || shard == ".." {
            return Err(malformed(format!("shard '{shard}' is not a file name beside the index")));
        }
        let path = dir.join(shard);
        let first = head(&path, 16)?;
        let Some(shard_tensors) = open_safetensors(&path, &first)? else {
            return Err(LoadError::new(&path, LoadErrorKind::NotACheckpoint("not a safetensors shard".into())));
        };
        for t in shard_tensors {
            match parsed.weight_map.get(&t.name) {
                Some(s) if s == shard => {}
                Some(s) => {
                    return Err(malformed(format!("tensor '{}' is in {shard}, the index says {s}", t.name)));
                }
                None => return Err(malformed(format!("tensor '{}' of {shard} is not in the index", t.name))),
            }
            if !seen.insert(t.name.clone()) {
                return Err(malformed(format!("tensor '{}' is in two shards", t.name)));
            }
            tensors.push(t);
        }
    }
    if let Some(missing) = parsed.weight_map.keys().find(|n| !seen.contains(*n)) {
        return Err(malformed(format!("tensor '{missing}' is not in its shard {}", parsed.weight_map[missing])));
    }
    if tensors.is_empty() {
        return Err(LoadError::new(index, LoadErrorKind::NoWeights));
    }
    Ok(tensors)
}
