//! PyTorch checkpoint reader: the zip format of torch >= 1.6 and the legacy pre-1.6 stream of
//! pickles. Owns finding the state dict inside the unpickled object, mapping torch storage types to
//! [`DType`], reading storages, and turning `_rebuild_tensor_v2` views (offset, size, stride) into
//! row-major f32 values. The pickle machine itself lives in `super::pickle`.

use super::{
    error::{LoadError, LoadErrorKind},
    pickle::{unpickle, ObjId, Object, Pickle},
    tensor::{DType, RawTensor},
};
use std::borrow::Cow;
use std::collections::{HashMap, HashSet, VecDeque};
use std::io::{Cursor, Read};
use std::path::Path;

/// Reads a PyTorch checkpoint (zip format of torch >= 1.6, or the legacy pre-1.6 pickle format).
pub fn load_pth(path: &Path) -> Result<Vec<RawTensor>, LoadError> {
    let bytes = std::fs::read(path).map_err(|e| LoadError::new(path, LoadErrorKind::Io(e)))?;
    load_pth_bytes(path, &bytes)
}

/// Same, from bytes already in memory (`path` is only used in error messages).
pub fn load_pth_bytes(path: &Path, bytes: &[u8]) -> Result<Vec<RawTensor>, LoadError> {
    read_checkpoint(bytes).map_err(|kind| LoadError::new(path, kind))
}

/// `torch.serialization.MAGIC_NUMBER`, as the minimal little-endian bytes LONG1 carries.
const LEGACY_MAGIC: u128 = 0x1950a86a20f9469cfc6c;
/// `torch.serialization.PROTOCOL_VERSION`.
const LEGACY_PROTOCOL_VERSION: i64 = 1001;
/// Rebuild calls (parameters wrapping tensors wrapping...) followed before giving up.
const MAX_REBUILD_NESTING: usize = 16;
/// Dict levels searched for the state dict inside a wrapping checkpoint dict.
const MAX_STATE_DICT_DEPTH: usize = 4;

fn read_checkpoint(bytes: &[u8]) -> Result<Vec<RawTensor>, LoadErrorKind> {
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        read_zip(bytes)
    } else if is_legacy(bytes) {
        read_legacy(bytes)
    } else {
        Err(LoadErrorKind::NotACheckpoint(
            "neither a zip archive (torch >= 1.6) nor a legacy torch file (no pickled magic number)".into(),
        ))
    }
}

fn is_legacy(bytes: &[u8]) -> bool {
    bytes.first() == Some(&0x80)
        && unpickle(bytes, 0).is_ok_and(
            |magic| matches!(magic.get(magic.root), Object::BigInt(le) if le_to_u128(le) == Some(LEGACY_MAGIC)),
        )
}

fn le_to_u128(le: &[u8]) -> Option<u128> {
    if le.len() > 16 {
        return None;
    }
    let mut buf = [0u8; 16];
    buf.get_mut(..le.len())?.copy_from_slice(le);
    Some(u128::from_le_bytes(buf))
}

// ---------------------------------------------------------------------------------------------
// Storages

/// Where a tensor's elements live, as named by a persistent id.
#[derive(Debug, Clone)]
struct StorageRef {
    key: String,
    dtype: DType,
    /// Elements the storage holds, as the pickle declares.
    numel: usize,
    /// Legacy views: the storage is `numel` elements starting here in the root storage `key`.
    view_offset: usize,
}

/// Parses `('storage', storage_type, key, location, numel[, view_metadata])`.
fn parse_storage_pid(p: &Pickle, pid: ObjId) -> Result<StorageRef, LoadErrorKind> {
    let bad =
        || LoadErrorKind::Malformed("storage persistent id is not ('storage', type, key, location, numel, ...)".into());
    let items = p.items(pid).ok_or_else(bad)?;
    let field = |i: usize| items.get(i).copied().ok_or_else(bad);
    if p.as_str(field(0)?) != Some("storage") {
        return Err(bad());
    }
    let dtype = storage_dtype(p, field(1)?)?;
    let key = storage_key(p, field(2)?).ok_or_else(bad)?;
    let numel = non_negative(p, field(4)?, "storage element count")?;
    let mut storage = StorageRef { key, dtype, numel, view_offset: 0 };
    if let Some(&view) = items.get(5) {
        if let Some(view_items) = p.items(view) {
            // (view_key, offset, view_size): a slice of the root storage, in elements.
            let offset = view_items.get(1).copied().ok_or_else(bad)?;
            let size = view_items.get(2).copied().ok_or_else(bad)?;
            storage.view_offset = non_negative(p, offset, "storage view offset")?;
            storage.numel = non_negative(p, size, "storage view size")?;
        }
    }
    Ok(storage)
}

fn storage_key(p: &Pickle, id: ObjId) -> Option<String> {
    match p.get(id) {
        Object::Str(s) => Some(s.clone()),
        Object::Int(v) => Some(v.to_string()),
        _ => None,
    }
}

fn non_negative(p: &Pickle, id: ObjId, what: &str) -> Result<usize, LoadErrorKind> {
    p.as_int(id)
        .and_then(|v| usize::try_from(v).ok())
        .ok_or_else(|| LoadErrorKind::Malformed(format!("{what} is not a non-negative integer")))
}

/// `torch.FloatStorage` and friends (also `torch.cuda.*`, `torch.storage.UntypedStorage`).
fn storage_dtype(p: &Pickle, id: ObjId) -> Result<DType, LoadErrorKind> {
    let (module, name) = p
        .as_global(id)
        .ok_or_else(|| LoadErrorKind::Malformed("storage type in a persistent id is not a class".into()))?;
    let dtype = if module == "torch" || module.starts_with("torch.") {
        match name {
            "FloatStorage" => Some(DType::F32),
            "HalfStorage" => Some(DType::F16),
            "BFloat16Storage" => Some(DType::BF16),
            "DoubleStorage" => Some(DType::F64),
            "LongStorage" => Some(DType::I64),
            "IntStorage" => Some(DType::I32),
            "ShortStorage" => Some(DType::I16),
            "CharStorage" => Some(DType::I8),
            // Untyped storages are bytes; `_rebuild_tensor_v3` says how to read them.
            "ByteStorage" | "UntypedStorage" => Some(DType::U8),
            "BoolStorage" => Some(DType::Bool),
            _ => None,
        }
    } else {
        None
    };
    dtype.ok_or_else(|| LoadErrorKind::UnsupportedDtype(format!("{module}.{name}")))
}

/// `torch.float16` and friends, as `_rebuild_tensor_v3` names the element type.
fn torch_dtype(p: &Pickle, id: ObjId) -> Result<DType, LoadErrorKind> {
    let (module, name) =
        p.as_global(id).ok_or_else(|| LoadErrorKind::Malformed("tensor dtype argument is not a torch dtype".into()))?;
    let dtype = match (module, name) {
        ("torch", "float32" | "float") => Some(DType::F32),
        ("torch", "float16" | "half") => Some(DType::F16),
        ("torch", "bfloat16") => Some(DType::BF16),
        ("torch", "float64" | "double") => Some(DType::F64),
        ("torch", "int64" | "long") => Some(DType::I64),
        ("torch", "int32" | "int") => Some(DType::I32),
        ("torch", "int16" | "short") => Some(DType::I16),
        ("torch", "int8") => Some(DType::I8),
        ("torch", "uint8") => Some(DType::U8),
        ("torch", "bool") => Some(DType::Bool),
        _ => None,
    };
    dtype.ok_or_else(|| LoadErrorKind::UnsupportedDtype(format!("{module}.{name}")))
}

fn element_size(dtype: DType) -> usize {
    (dtype.bits() / 8) as usize
}

/// Raw storage bytes by key, fetched on first use.
trait StorageSource {
    /// Bytes of storage `key`, at least `need` long (else a `Truncated` error).
    fn bytes(&mut self, key: &str, need: usize) -> Result<&[u8], LoadErrorKind>;
}

fn short_storage(key: &str, need: usize, have: usize) -> LoadErrorKind {
    LoadErrorKind::Truncated(format!("storage {key}: need {need} bytes, have {have}"))
}

// ---------------------------------------------------------------------------------------------
// Zip format (torch >= 1.6)

struct ZipStorages<'a> {
    archive: zip::ZipArchive<Cursor<&'a [u8]>>,
    /// Archive folder holding `data.pkl`, with its trailing slash (or empty).
    root: String,
    loaded: HashMap<String, Cow<'a, [u8]>>,
}

impl StorageSource for ZipStorages<'_> {
    fn bytes(&mut self, key: &str, need: usize) -> Result<&[u8], LoadErrorKind> {
        if !self.loaded.contains_key(key) {
            let name = format!("{}data/{key}", self.root);
            let data = read_entry(&mut self.archive, &name, need)?
                .ok_or_else(|| LoadErrorKind::Truncated(format!("storage {key}: no entry {name} in the archive")))?;
            self.loaded.insert(key.to_owned(), data);
        }
        let data = self.loaded.get(key).map(|d| &d[..]).unwrap_or_default();
        if data.len() < need {
            return Err(short_storage(key, need, data.len()));
        }
        Ok(data)
    }
}

/// At most `limit` bytes of entry `name`, or `None` if the archive has no such entry.
/// Stored entries (all that torch writes) are borrowed from the archive bytes; compressed ones are
/// inflated into a buffer preallocated no larger than the archive, so a lying size cannot force a
/// huge allocation.
fn read_entry<'a>(
    archive: &mut zip::ZipArchive<Cursor<&'a [u8]>>,
    name: &str,
    limit: usize,
) -> Result<Option<Cow<'a, [u8]>>, LoadErrorKind> {
    let bytes: &'a [u8] = archive.clone().into_inner().into_inner();
    let damaged = |e: &dyn std::fmt::Display| LoadErrorKind::Truncated(format!("zip entry {name}: {e}"));
    let entry = match archive.by_name(name) {
        Ok(entry) => entry,
        Err(zip::result::ZipError::FileNotFound) => return Ok(None),
        Err(e) => return Err(damaged(&e)),
    };
    let declared = usize::try_from(entry.size()).unwrap_or(usize::MAX);
    if entry.compression() == zip::CompressionMethod::Stored {
        // `by_name` has located the entry's data, so `data_start` is known.
        let start = usize::try_from(entry.data_start()).unwrap_or(usize::MAX);
        let len = declared.min(limit);
        let data = start
            .checked_add(len)
            .and_then(|end| bytes.get(start..end))
            .ok_or_else(|| damaged(&"data runs past the end of the file"))?;
        return Ok(Some(Cow::Borrowed(data)));
    }
    let mut data = Vec::with_capacity(declared.min(limit).min(bytes.len()));
    entry.take(limit as u64).read_to_end(&mut data).map_err(|e| damaged(&e))?;
    Ok(Some(Cow::Owned(data)))
}

fn read_zip(bytes: &[u8]) -> Result<Vec<RawTensor>, LoadErrorKind> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| LoadErrorKind::Truncated(format!("zip archive is damaged or cut short: {e}")))?;
    // The root folder is named after the file torch.save wrote (`archive/`, `weights/`, ...).
    let pkl_name = archive
        .file_names()
        .filter(|n| *n == "data.pkl" || n.ends_with("/data.pkl"))
        .min_by_key(|n| n.len())
        .map(str::to_owned)
        .ok_or_else(|| LoadErrorKind::NotACheckpoint("zip archive without a data.pkl entry".into()))?;
    let root = pkl_name.trim_end_matches("data.pkl").to_owned();

    let byteorder_name = format!("{root}byteorder");
    if let Some(order) = read_entry(&mut archive, &byteorder_name, 64)? {
        let order = String::from_utf8_lossy(&order).into_owned();
        match order.trim() {
            "little" => {}
            other => {
                return Err(LoadErrorKind::UnsupportedDtype(format!(
                    "storages in {other}-endian byte order ({byteorder_name})"
                )))
            }
        }
    }

    let pkl = read_entry(&mut archive, &pkl_name, bytes.len().saturating_mul(16))?.unwrap_or_default();
    let pickle = unpickle(&pkl, 0).map_err(|kind| in_file(kind, &pkl_name))?;
    let mut storages = ZipStorages { archive, root, loaded: HashMap::new() };
    let budget = bytes.len();
    collect_tensors(&pickle, &mut storages, budget)
}

/// Names the archive member a pickle error happened in.
fn in_file(kind: LoadErrorKind, file: &str) -> LoadErrorKind {
    match kind {
        LoadErrorKind::Malformed(m) => LoadErrorKind::Malformed(format!("{file}: {m}")),
        LoadErrorKind::Truncated(m) => LoadErrorKind::Truncated(format!("{file}: {m}")),
        other => other,
    }
}

// ---------------------------------------------------------------------------------------------
// Legacy format (torch < 1.6): magic, protocol version, sys_info, object, storage keys, storages.

struct LegacyStorages<'a> {
    data: HashMap<String, &'a [u8]>,
}

impl StorageSource for LegacyStorages<'_> {
    fn bytes(&mut self, key: &str, need: usize) -> Result<&[u8], LoadErrorKind> {
        let data = self
            .data
            .get(key)
            .copied()
            .ok_or_else(|| LoadErrorKind::Malformed(format!("storage {key} is not in the file's storage list")))?;
        if data.len() < need {
            return Err(short_storage(key, need, data.len()));
        }
        Ok(data)
    }
}

fn read_legacy(bytes: &[u8]) -> Result<Vec<RawTensor>, LoadErrorKind> {
    let magic = unpickle(bytes, 0)?;
    let version = unpickle(bytes, magic.end)?;
    match version.as_int(version.root) {
        Some(LEGACY_PROTOCOL_VERSION) => {}
        other => return Err(LoadErrorKind::Malformed(format!("unsupported legacy torch protocol version {other:?}"))),
    }
    let sys_info = unpickle(bytes, version.end)?;
    let little = sys_info.dict_get(sys_info.root, "little_endian").and_then(|id| sys_info.as_int(id));
    if little == Some(0) {
        return Err(LoadErrorKind::UnsupportedDtype(
            "storages in big-endian byte order (sys_info little_endian = False)".into(),
        ));
    }
    let object = unpickle(bytes, sys_info.end)?;
    let keys = unpickle(bytes, object.end)?;

    // Storage sizes on disk follow from their element types, known only from the persistent ids.
    let mut dtypes: HashMap<String, DType> = HashMap::new();
    for obj in object.objects() {
        if let Object::Persistent(pid) = obj {
            let is_storage = object
                .items(*pid)
                .and_then(|items| items.first())
                .is_some_and(|&tag| object.as_str(tag) == Some("storage"));
            if is_storage {
                let storage = parse_storage_pid(&object, *pid)?;
                dtypes.insert(storage.key, storage.dtype);
            }
        }
    }

    let key_ids = keys
        .items(keys.root)
        .ok_or_else(|| LoadErrorKind::Malformed("legacy storage key list is not a list".into()))?;
    let mut data = HashMap::new();
    let mut pos = keys.end;
    for &key_id in key_ids {
        let key = storage_key(&keys, key_id)
            .ok_or_else(|| LoadErrorKind::Malformed("legacy storage key is not a string".into()))?;
        let dtype = dtypes
            .get(&key)
            .copied()
            .ok_or_else(|| LoadErrorKind::Malformed(format!("storage {key} is listed but never used")))?;
        let header = pos
            .checked_add(8)
            .and_then(|end| bytes.get(pos..end))
            .and_then(|b| <[u8; 8]>::try_from(b).ok())
            .ok_or_else(|| LoadErrorKind::Truncated(format!("storage {key}: file ends before its size")))?;
        let count = i64::from_le_bytes(header);
        let need = usize::try_from(count)
            .ok()
            .and_then(|n| n.checked_mul(element_size(dtype)))
            .ok_or_else(|| LoadErrorKind::Malformed(format!("storage {key}: bad element count {count}")))?;
        let start = pos + 8;
        let have = bytes.len() - start;
        let end =
            start.checked_add(need).filter(|&end| end <= bytes.len()).ok_or_else(|| short_storage(&key, need, have))?;
        data.insert(key, bytes.get(start..end).unwrap_or_default());
        pos = end;
    }
    let budget = bytes.len();
    collect_tensors(&object, &mut LegacyStorages { data }, budget)
}

// ---------------------------------------------------------------------------------------------
// From the unpickled object to tensors

/// A strided view of a storage, as `_rebuild_tensor_v2` describes it.
#[derive(Debug)]
struct TensorView {
    storage: StorageRef,
    dtype: DType,
    offset: usize,
    shape: Vec<usize>,
    stride: Vec<usize>,
}

fn collect_tensors(
    p: &Pickle,
    storages: &mut impl StorageSource,
    file_len: usize,
) -> Result<Vec<RawTensor>, LoadErrorKind> {
    let state_dict = find_state_dict(p)?.ok_or(LoadErrorKind::NoWeights)?;
    let Object::Dict(entries) = p.get(state_dict) else {
        return Err(LoadErrorKind::NoWeights);
    };
    // Views sharing one storage (tied weights) may legitimately expand past the file size, but
    // not without bound: a lying shape must not allocate gigabytes.
    let mut budget = file_len.saturating_mul(4).saturating_add(1 << 16);
    let mut tensors = Vec::new();
    for &(key, value) in entries {
        let name = match p.get(key) {
            Object::Str(s) => s.clone(),
            Object::Int(v) => v.to_string(),
            _ => return Err(LoadErrorKind::Malformed("state dict key is not a string".into())),
        };
        let Some(view) = resolve_tensor(p, value, &name)? else {
            continue;
        };
        let values = gather(&view, storages, &name, &mut budget)?;
        tensors.push(RawTensor { name, shape: view.shape, dtype: view.dtype, values });
    }
    if tensors.is_empty() {
        return Err(LoadErrorKind::NoWeights);
    }
    Ok(tensors)
}

/// The top-level dict if it holds tensors, else the first dict of tensors found breadth-first
/// among its values (`{'state_dict': {...}, 'epoch': 3}`, `{'model': {...}}`).
fn find_state_dict(p: &Pickle) -> Result<Option<ObjId>, LoadErrorKind> {
    let mut queue = VecDeque::from([(p.root, 0usize)]);
    let mut seen = HashSet::new();
    while let Some((id, depth)) = queue.pop_front() {
        if !seen.insert(id) {
            continue;
        }
        let Object::Dict(entries) = p.get(id) else {
            continue;
        };
        for &(_, value) in entries {
            if resolve_tensor(p, value, "")?.is_some() {
                return Ok(Some(id));
            }
        }
        if depth < MAX_STATE_DICT_DEPTH {
            queue.extend(entries.iter().map(|&(_, value)| (value, depth + 1)));
        }
    }
    Ok(None)
}

/// A tensor view if `id` is a torch tensor rebuild call, `None` if it is something else.
fn resolve_tensor(p: &Pickle, id: ObjId, name: &str) -> Result<Option<TensorView>, LoadErrorKind> {
    let Object::Call { callable, args, .. } = p.get(id) else {
        return Ok(None);
    };
    let (mut callable, mut args) = (*callable, *args);
    for _ in 0..MAX_REBUILD_NESTING {
        let Some((module, function)) = p.as_global(callable) else {
            return Ok(None);
        };
        let arg = |i: usize| p.items(args).and_then(|items| items.get(i)).copied();
        let missing =
            || LoadErrorKind::Malformed(format!("tensor '{name}': {module}.{function} called with too few arguments"));
        match (module, function) {
            ("torch._utils", "_rebuild_tensor_v2" | "_rebuild_tensor" | "_rebuild_tensor_v3") => {
                let storage_id = arg(0).ok_or_else(missing)?;
                let Object::Persistent(pid) = p.get(storage_id) else {
                    return Err(LoadErrorKind::Malformed(format!(
                        "tensor '{name}': storage is not a persistent reference"
                    )));
                };
                let storage = parse_storage_pid(p, *pid)?;
                let dtype = if function == "_rebuild_tensor_v3" {
                    torch_dtype(p, arg(6).ok_or_else(missing)?)?
                } else {
                    storage.dtype
                };
                let offset = non_negative(p, arg(1).ok_or_else(missing)?, "storage offset")?;
                let shape = int_tuple(p, arg(2).ok_or_else(missing)?, name, "size")?;
                let stride = int_tuple(p, arg(3).ok_or_else(missing)?, name, "stride")?;
                if shape.len() != stride.len() {
                    return Err(LoadErrorKind::Malformed(format!(
                        "tensor '{name}': size has {} dimensions, stride {}",
                        shape.len(),
                        stride.len()
                    )));
                }
                return Ok(Some(TensorView { storage, dtype, offset, shape, stride }));
            }
            // nn.Parameter around a tensor.
            ("torch._utils", "_rebuild_parameter" | "_rebuild_parameter_with_state") => {
                let data = arg(0).ok_or_else(missing)?;
                let Object::Call { callable: c, args: a, .. } = p.get(data) else {
                    return Err(LoadErrorKind::Malformed(format!("tensor '{name}': parameter data is not a tensor")));
                };
                (callable, args) = (*c, *a);
            }
            // Tensor subclasses: `func(*args)` builds the plain tensor.
            ("torch._tensor" | "torch._utils", "_rebuild_from_type_v2" | "_rebuild_from_type") => {
                callable = arg(0).ok_or_else(missing)?;
                args = arg(2).ok_or_else(missing)?;
            }
            _ if module.starts_with("torch") && function.starts_with("_rebuild") => {
                return Err(LoadErrorKind::UnsupportedDtype(format!(
                    "tensor '{name}' stored via {module}.{function} (quantized, sparse or other special tensor)"
                )));
            }
            _ => return Ok(None),
        }
    }
    Err(LoadErrorKind::Malformed(format!("tensor '{name}': rebuild calls nested too deeply")))
}

/// A tuple of non-negative ints (also accepts `torch.Size((...))`).
fn int_tuple(p: &Pickle, id: ObjId, name: &str, what: &str) -> Result<Vec<usize>, LoadErrorKind> {
    let bad = || LoadErrorKind::Malformed(format!("tensor '{name}': {what} is not a tuple of non-negative ints"));
    let mut id = id;
    if let Object::Call { callable, args, .. } = p.get(id) {
        if p.as_global(*callable) != Some(("torch", "Size")) {
            return Err(bad());
        }
        id = p.items(*args).and_then(|a| a.first()).copied().ok_or_else(bad)?;
    }
    p.items(id)
        .ok_or_else(bad)?
        .iter()
        .map(|&d| p.as_int(d).and_then(|v| usize::try_from(v).ok()).ok_or_else(bad))
        .collect()
}

/// Reads the view's elements in row-major order as f32.
fn gather(
    view: &TensorView,
    storages: &mut impl StorageSource,
    name: &str,
    budget: &mut usize,
) -> Result<Vec<f32>, LoadErrorKind> {
    let too_big = || {
        LoadErrorKind::Malformed(format!(
            "tensor '{name}': shape {:?} holds more elements than the file can account for",
            view.shape
        ))
    };
    let numel = view.shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d)).ok_or_else(too_big)?;
    *budget = budget.checked_sub(numel).ok_or_else(too_big)?;

    let storage = &view.storage;
    let storage_elem = element_size(storage.dtype);
    let need = storage
        .view_offset
        .checked_add(storage.numel)
        .and_then(|n| n.checked_mul(storage_elem))
        .ok_or_else(|| LoadErrorKind::Malformed(format!("storage {}: size overflows", storage.key)))?;
    let root = storages.bytes(&storage.key, need)?;
    let start = storage.view_offset * storage_elem;
    let bytes = root.get(start..need).unwrap_or_default();
    if numel == 0 {
        return Ok(Vec::new());
    }

    // Highest element index the view touches must lie inside the storage.
    let elem = element_size(view.dtype);
    let capacity = bytes.len() / elem;
    let last =
        view.shape.iter().zip(&view.stride).try_fold(view.offset, |acc, (&size, &stride)| {
            (size - 1).checked_mul(stride).and_then(|s| acc.checked_add(s))
        });
    match last {
        Some(last) if last < capacity => {}
        _ => return Err(LoadErrorKind::Malformed(format!(
            "tensor '{name}': shape {:?}, stride {:?} and offset {} reach past the {capacity} elements of storage {}",
            view.shape, view.stride, view.offset, storage.key
        ))),
    }

    let mut values = Vec::with_capacity(numel);
    let Some((&inner_size, outer_shape)) = view.shape.split_last() else {
        // Zero-dimensional tensor: one element at the offset.
        convert_strided(view.dtype, bytes, view.offset, 1, 1, &mut values);
        return Ok(values);
    };
    let inner_stride = view.stride.last().copied().unwrap_or(1);
    let outer_strides = view.stride.get(..outer_shape.len()).unwrap_or_default();
    // Odometer over all but the last dimension; the last one is a (possibly strided) run.
    let mut index = vec![0usize; outer_shape.len()];
    let mut base = view.offset;
    loop {
        convert_strided(view.dtype, bytes, base, inner_size, inner_stride, &mut values);
        let mut dim = outer_shape.len();
        loop {
            let Some(d) = dim.checked_sub(1) else {
                return Ok(values);
            };
            dim = d;
            let (Some(i), Some(&size), Some(&stride)) = (index.get_mut(d), outer_shape.get(d), outer_strides.get(d))
            else {
                return Ok(values);
            };
            *i += 1;
            // Wrapping: a size-1 dimension may carry any stride; the sum is right modulo 2^64.
            base = base.wrapping_add(stride);
            if *i < size {
                break;
            }
            base = base.wrapping_sub(stride.wrapping_mul(size));
            *i = 0;
        }
    }
}

/// Appends `count` elements starting at element `start`, `stride` elements apart (all verified
/// to lie inside `bytes`), converted to f32.
fn convert_strided(dtype: DType, bytes: &[u8], start: usize, count: usize, stride: usize, out: &mut Vec<f32>) {
    if count == 0 {
        return;
    }
    if stride == 0 && count > 1 {
        // Expanded (broadcast) dimension: one stored element, repeated.
        convert_strided(dtype, bytes, start, 1, 1, out);
        if let Some(&value) = out.last() {
            out.extend(std::iter::repeat_n(value, count - 1));
        }
        return;
    }
    let elem = element_size(dtype);
    let step = if count == 1 { elem } else { stride * elem };
    let span = (count - 1) * step + elem;
    let Some(run) = bytes.get(start * elem..start * elem + span) else {
        return;
    };
    match dtype {
        DType::F32 => extend_le(out, run, step, f32::from_le_bytes),
        DType::F64 => extend_le(out, run, step, |b| f64::from_le_bytes(b) as f32),
        DType::F16 => extend_le(out, run, step, |b| half::f16::from_le_bytes(b).to_f32()),
        DType::BF16 => extend_le(out, run, step, |b| half::bf16::from_le_bytes(b).to_f32()),
        DType::I64 => extend_le(out, run, step, |b| i64::from_le_bytes(b) as f32),
        DType::I32 => extend_le(out, run, step, |b| i32::from_le_bytes(b) as f32),
        DType::I16 => extend_le(out, run, step, |b| f32::from(i16::from_le_bytes(b))),
        DType::I8 => extend_le(out, run, step, |b| f32::from(i8::from_le_bytes(b))),
        DType::U8 => extend_le(out, run, step, |b| f32::from(u8::from_le_bytes(b))),
        DType::Bool => extend_le(out, run, step, |b: [u8; 1]| f32::from(u8::from(b != [0]))),
    }
}

/// Converts the N-byte elements found every `step` bytes of `run` (which starts and ends on one).
fn extend_le<const N: usize>(out: &mut Vec<f32>, run: &[u8], step: usize, convert: impl Fn([u8; N]) -> f32) {
    // Every chunk holds at least N bytes, so the zero fallback is never taken.
    let element = |chunk: &[u8]| convert(chunk.get(..N).and_then(|c| c.try_into().ok()).unwrap_or([0; N]));
    if step == N {
        out.extend(run.chunks_exact(N).map(element));
    } else {
        out.extend(run.chunks(step).map(element));
    }
}
