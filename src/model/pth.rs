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

/// `torch.serialization.MAGIC_NUMBER`: 80 bits, so the pickle carries it as a [`Object::BigInt`].
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
    /// The whole archive, which stored entries are borrowed from.
    file: &'a [u8],
    /// Archive folder holding `data.pkl`, with its trailing slash (or empty).
    root: String,
    loaded: HashMap<String, Cow<'a, [u8]>>,
    /// Bytes compressed entries may still inflate to, in all.
    inflate_budget: u64,
}

impl StorageSource for ZipStorages<'_> {
    fn bytes(&mut self, key: &str, need: usize) -> Result<&[u8], LoadErrorKind> {
        if !self.loaded.contains_key(key) {
            let name = format!("{}data/{key}", self.root);
            let data = read_entry(&mut self.archive, self.file, &name, &mut self.inflate_budget)?
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

/// Most bytes a deflated entry may inflate to per compressed byte. Torch stores its entries
/// uncompressed; a re-zipped checkpoint of pruned weights compresses far less than this, while a
/// zip bomb (deflate reaches about 1000:1) is refused before anything is allocated.
pub const MAX_COMPRESSION_RATIO: u64 = 64;

/// Entry `name` in full, its CRC-32 verified, or `None` if the archive has no such entry.
/// Stored entries (all that torch writes) are borrowed from the archive bytes; compressed ones are
/// inflated, but only after their declared size has passed the compression-ratio bound and the
/// archive-wide `budget` of inflated bytes (which also bounds entries that overlap), and never
/// past the declared size, so a lying header cannot force a large allocation.
fn read_entry<'a>(
    archive: &mut zip::ZipArchive<Cursor<&'a [u8]>>,
    bytes: &'a [u8],
    name: &str,
    budget: &mut u64,
) -> Result<Option<Cow<'a, [u8]>>, LoadErrorKind> {
    let entry = match archive.by_name(name) {
        Ok(entry) => entry,
        Err(zip::result::ZipError::FileNotFound) => return Ok(None),
        Err(e) => return Err(zip_error(&format!("zip entry {name}"), e)),
    };
    let damaged = |e: &dyn std::fmt::Display| LoadErrorKind::Truncated(format!("zip entry {name}: {e}"));
    let declared = entry.size();
    let expected_crc = entry.crc32();
    let data: Cow<'a, [u8]> = if entry.compression() == zip::CompressionMethod::Stored {
        // `by_name` has located the entry's data, so `data_start` is known.
        let data = usize::try_from(entry.data_start())
            .ok()
            .zip(usize::try_from(declared).ok())
            .and_then(|(start, len)| bytes.get(start..start.checked_add(len)?))
            .ok_or_else(|| damaged(&format_args!("{declared} bytes run past the end of the file")))?;
        Cow::Borrowed(data)
    } else {
        let compressed = entry.compressed_size();
        let bound = compressed.saturating_mul(MAX_COMPRESSION_RATIO).max(4096);
        if declared > bound {
            return Err(LoadErrorKind::Malformed(format!(
                "zip entry {name}: declares {declared} bytes inflated from {compressed} (more than \
                 {MAX_COMPRESSION_RATIO}:1, a zip bomb?)"
            )));
        }
        if declared > *budget {
            return Err(LoadErrorKind::Malformed(format!(
                "zip entry {name}: declares {declared} bytes, more than the archive's entries may \
                 inflate to in all ({MAX_COMPRESSION_RATIO} x its size)"
            )));
        }
        *budget -= declared;
        let len = usize::try_from(declared).map_err(|_| damaged(&"declared size does not fit in memory"))?;
        let mut data = Vec::with_capacity(len);
        // One byte more than declared: a stream longer than its header says is damage. Reading
        // to the end also lets the zip crate check the CRC; it is checked below regardless.
        entry.take(declared.saturating_add(1)).read_to_end(&mut data).map_err(|e| damaged(&e))?;
        if data.len() as u64 != declared {
            return Err(damaged(&format_args!("inflates to {} bytes, its header says {declared}", data.len())));
        }
        Cow::Owned(data)
    };
    let actual_crc = crc32fast::hash(&data);
    if actual_crc != expected_crc {
        return Err(LoadErrorKind::Malformed(format!(
            "zip entry {name}: CRC-32 mismatch (header {expected_crc:08x}, data {actual_crc:08x}): the file is damaged"
        )));
    }
    Ok(Some(data))
}

/// Damage (most often a file cut short) is `Truncated`; zip features torch never uses are `Malformed`.
fn zip_error(context: &str, e: zip::result::ZipError) -> LoadErrorKind {
    use zip::result::ZipError;
    match e {
        ZipError::UnsupportedArchive(_) | ZipError::InvalidPassword => {
            LoadErrorKind::Malformed(format!("{context}: {e}"))
        }
        _ => LoadErrorKind::Truncated(format!("{context} is damaged or cut short: {e}")),
    }
}

fn read_zip(bytes: &[u8]) -> Result<Vec<RawTensor>, LoadErrorKind> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| zip_error("zip archive", e))?;
    // The root folder is named after the file torch.save wrote (`archive/`, `weights/`, ...).
    let pkl_name = archive
        .file_names()
        .filter(|n| *n == "data.pkl" || n.ends_with("/data.pkl"))
        .min_by_key(|n| n.len())
        .map(str::to_owned)
        .ok_or_else(|| LoadErrorKind::NotACheckpoint("zip archive without a data.pkl entry".into()))?;
    let root = pkl_name.strip_suffix("data.pkl").unwrap_or_default().to_owned();

    let mut inflate_budget = (bytes.len() as u64).saturating_mul(MAX_COMPRESSION_RATIO);
    let byteorder_name = format!("{root}byteorder");
    if let Some(order) = read_entry(&mut archive, bytes, &byteorder_name, &mut inflate_budget)? {
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

    let pkl = read_entry(&mut archive, bytes, &pkl_name, &mut inflate_budget)?.unwrap_or_default();
    let pickle = unpickle(&pkl, 0).map_err(|kind| in_file(kind, &pkl_name))?;
    let mut storages = ZipStorages { archive, file: bytes, root, loaded: HashMap::new(), inflate_budget };
    collect_tensors(&pickle, &mut storages, bytes.len())
}

/// Names the tensor whose storage could not be read.
fn in_tensor(kind: LoadErrorKind, name: &str) -> LoadErrorKind {
    match kind {
        LoadErrorKind::Malformed(m) => LoadErrorKind::Malformed(format!("tensor '{name}': {m}")),
        LoadErrorKind::Truncated(m) => LoadErrorKind::Truncated(format!("tensor '{name}': {m}")),
        other => other,
    }
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
    collect_tensors(&object, &mut LegacyStorages { data }, bytes.len())
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
    let mut names = HashSet::new();
    for &(key, value) in entries {
        let name = match p.get(key) {
            Object::Str(s) => s.clone(),
            Object::Int(v) => v.to_string(),
            _ => return Err(LoadErrorKind::Malformed("state dict key is not a string".into())),
        };
        if !names.insert(name.clone()) {
            return Err(LoadErrorKind::Malformed(format!("tensor '{name}' appears twice in the state dict")));
        }
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
        for &(key, value) in entries {
            if resolve_tensor(p, value, p.as_str(key).unwrap_or("?"))?.is_some() {
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
            // A call we do not know that is handed a storage would build a tensor we could not
            // read: an error, not a silently missing tensor (e.g. a damaged rebuild name).
            _ if p
                .items(args)
                .is_some_and(|items| items.iter().any(|&i| matches!(p.get(i), Object::Persistent(_)))) =>
            {
                return Err(LoadErrorKind::Malformed(format!(
                    "tensor '{name}': built by {module}.{function} from a storage, which is not a tensor rebuild call"
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
    let root = storages.bytes(&storage.key, need).map_err(|kind| in_tensor(kind, name))?;
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
    if !matches!(last, Some(last) if last < capacity) {
        let (shape, stride, offset, key) = (&view.shape, &view.stride, view.offset, &storage.key);
        return Err(LoadErrorKind::Malformed(format!(
            "tensor '{name}': shape {shape:?}, stride {stride:?} and offset {offset} reach past the \
             {capacity} elements of storage {key}"
        )));
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
    let step = if count == 1 { Some(elem) } else { stride.checked_mul(elem) };
    // Callers have checked the bounds; checked arithmetic keeps this safe on its own too.
    let located = step.and_then(|step| {
        let span = (count - 1).checked_mul(step)?.checked_add(elem)?;
        let begin = start.checked_mul(elem)?;
        Some((step, bytes.get(begin..begin.checked_add(span)?)?))
    });
    let Some((step, run)) = located else {
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

#[cfg(test)]
mod tests {
    use super::super::pickle::writer::PickleWriter;
    use super::*;
    use std::io::Write;

    /// One `_rebuild_tensor_v2` call to write into a test pickle.
    struct Spec<'a> {
        name: &'a str,
        storage_type: &'a str,
        key: &'a str,
        storage_numel: i64,
        offset: i64,
        shape: &'a [i64],
        stride: &'a [i64],
    }

    fn spec<'a>(name: &'a str, storage_type: &'a str, key: &'a str, shape: &'a [i64]) -> Spec<'a> {
        Spec { name, storage_type, key, storage_numel: shape.iter().product(), offset: 0, shape, stride: &[] }
    }

    fn contiguous_strides(shape: &[i64]) -> Vec<i64> {
        let mut strides = vec![1; shape.len()];
        for d in (0..shape.len().saturating_sub(1)).rev() {
            strides[d] = strides[d + 1] * shape[d + 1];
        }
        strides
    }

    /// Pushes `_rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict())`.
    fn write_tensor(w: &mut PickleWriter, s: &Spec, legacy: bool) {
        let strides = if s.stride.is_empty() { contiguous_strides(s.shape) } else { s.stride.to_vec() };
        w.global("torch._utils", "_rebuild_tensor_v2").mark();
        w.mark().str("storage").global("torch", s.storage_type).str(s.key).str("cpu").int(s.storage_numel);
        if legacy {
            w.none();
        }
        w.tuple().raw(b"Q").int(s.offset).mark();
        for &d in s.shape {
            w.int(d);
        }
        w.tuple().mark();
        for &d in &strides {
            w.int(d);
        }
        w.tuple().raw(&[0x89]).ordered_dict().tuple().reduce();
    }

    /// Pushes an OrderedDict of the tensors, as `torch.save(model.state_dict())` writes it.
    fn write_state_dict(w: &mut PickleWriter, specs: &[Spec], legacy: bool) {
        w.ordered_dict().mark();
        for s in specs {
            w.str(s.name);
            write_tensor(w, s, legacy);
        }
        w.raw(b"u");
    }

    fn state_dict_pickle(specs: &[Spec], legacy: bool) -> Vec<u8> {
        let mut w = PickleWriter::new();
        write_state_dict(&mut w, specs, legacy);
        w.finish()
    }

    fn zip_file(root: &str, pkl: &[u8], storages: &[(&str, Vec<u8>)], byteorder: &str) -> Vec<u8> {
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let stored = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
        zip.start_file(format!("{root}/data.pkl"), stored).unwrap();
        zip.write_all(pkl).unwrap();
        if !byteorder.is_empty() {
            zip.start_file(format!("{root}/byteorder"), stored).unwrap();
            zip.write_all(byteorder.as_bytes()).unwrap();
        }
        for (key, data) in storages {
            zip.start_file(format!("{root}/data/{key}"), stored).unwrap();
            zip.write_all(data).unwrap();
        }
        zip.start_file(format!("{root}/version"), stored).unwrap();
        zip.write_all(b"3\n").unwrap();
        zip.finish().unwrap().into_inner()
    }

    /// A legacy file: magic, version, sys_info, the object pickle, keys, then the storages
    /// (each `(key, element count, raw bytes)`).
    fn legacy_file(pkl: &[u8], storages: &[(&str, i64, Vec<u8>)]) -> Vec<u8> {
        let mut out = vec![0x80, 2, 0x8a, 10];
        out.extend_from_slice(&LEGACY_MAGIC.to_le_bytes()[..10]);
        out.push(b'.');
        out.extend(PickleWriter::new().int(1001).finish());
        let mut sys_info = PickleWriter::new();
        sys_info.raw(b"}").mark().str("protocol_version").int(1001).str("little_endian").raw(&[0x88]).raw(b"u");
        out.extend(sys_info.finish());
        out.extend_from_slice(pkl);
        let mut keys = PickleWriter::new();
        keys.raw(b"]").mark();
        for (key, _, _) in storages {
            keys.str(key);
        }
        out.extend(keys.raw(b"e").finish());
        for (_, count, data) in storages {
            out.extend_from_slice(&count.to_le_bytes());
            out.extend_from_slice(data);
        }
        out
    }

    fn f32_bytes(values: &[f32]) -> Vec<u8> {
        values.iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    fn load(bytes: &[u8]) -> Result<Vec<RawTensor>, LoadErrorKind> {
        load_pth_bytes(Path::new("test.pth"), bytes).map_err(|e| {
            assert_eq!(e.path, Path::new("test.pth"));
            e.kind
        })
    }

    fn by_name<'t>(tensors: &'t [RawTensor], name: &str) -> &'t RawTensor {
        tensors.iter().find(|t| t.name == name).unwrap()
    }

    #[test]
    fn legacy_file_with_f32_and_long_storages() {
        let specs = [
            spec("conv.weight", "FloatStorage", "140", &[2, 3]),
            spec("bn.num_batches_tracked", "LongStorage", "7", &[]),
        ];
        let pkl = state_dict_pickle(&specs, true);
        // Storages come in the order of the key list, not of the state dict.
        let file = legacy_file(
            &pkl,
            &[("7", 1, 12345i64.to_le_bytes().to_vec()), ("140", 6, f32_bytes(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.5]))],
        );
        let tensors = load(&file).unwrap();
        assert_eq!(tensors.len(), 2);
        assert_eq!(tensors[0].name, "conv.weight");
        assert_eq!(tensors[0].shape, vec![2, 3]);
        assert_eq!(tensors[0].dtype, DType::F32);
        assert_eq!(tensors[0].values, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.5]);
        assert_eq!(tensors[1].name, "bn.num_batches_tracked");
        assert_eq!(tensors[1].shape, Vec::<usize>::new());
        assert_eq!(tensors[1].dtype, DType::I64);
        assert_eq!(tensors[1].values, vec![12345.0]);
    }

    #[test]
    fn zip_file_with_half_bfloat_and_double_storages() {
        let specs = [
            spec("a", "HalfStorage", "0", &[3]),
            spec("b", "BFloat16Storage", "1", &[2]),
            spec("c", "DoubleStorage", "2", &[2]),
        ];
        let halves: Vec<u8> =
            [1.5f32, -2.0, 65504.0].iter().flat_map(|&v| half::f16::from_f32(v).to_le_bytes()).collect();
        let bfloats: Vec<u8> = [3.0f32, -0.5].iter().flat_map(|&v| half::bf16::from_f32(v).to_le_bytes()).collect();
        let doubles: Vec<u8> = [0.25f64, 1e300].iter().flat_map(|v| v.to_le_bytes()).collect();
        let file = zip_file(
            "archive",
            &state_dict_pickle(&specs, false),
            &[("0", halves), ("1", bfloats), ("2", doubles)],
            "little",
        );
        let tensors = load(&file).unwrap();
        let names: Vec<_> = tensors.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "c"]);
        assert_eq!(tensors[0].dtype, DType::F16);
        assert_eq!(tensors[0].values, vec![1.5, -2.0, 65504.0]);
        assert_eq!(tensors[1].dtype, DType::BF16);
        assert_eq!(tensors[1].values, vec![3.0, -0.5]);
        assert_eq!(tensors[2].dtype, DType::F64);
        assert_eq!(tensors[2].values, vec![0.25, f32::INFINITY]);
    }

    #[test]
    fn integer_storages_convert_by_value() {
        let specs = [
            spec("i32", "IntStorage", "0", &[2]),
            spec("i16", "ShortStorage", "1", &[2]),
            spec("i8", "CharStorage", "2", &[2]),
            spec("u8", "ByteStorage", "3", &[2]),
            spec("bool", "BoolStorage", "4", &[2]),
        ];
        let storages = [
            ("0", [-70000i32, 9].iter().flat_map(|v| v.to_le_bytes()).collect()),
            ("1", [-300i16, 300].iter().flat_map(|v| v.to_le_bytes()).collect()),
            ("2", vec![0x80, 0x7f]),
            ("3", vec![0xff, 0]),
            ("4", vec![1, 0]),
        ];
        let file = zip_file("w", &state_dict_pickle(&specs, false), &storages, "little");
        let tensors = load(&file).unwrap();
        let values: Vec<_> = tensors.iter().map(|t| t.values.clone()).collect();
        assert_eq!(
            values,
            vec![vec![-70000.0, 9.0], vec![-300.0, 300.0], vec![-128.0, 127.0], vec![255.0, 0.0], vec![1.0, 0.0],]
        );
        let dtypes: Vec<_> = tensors.iter().map(|t| t.dtype).collect();
        assert_eq!(dtypes, [DType::I32, DType::I16, DType::I8, DType::U8, DType::Bool]);
    }

    #[test]
    fn transposed_view_offset_and_shared_storage() {
        // Storage holds [0, 1, ..., 7]; "t" is the transpose of the 2x3 matrix starting at
        // element 2, "row" a strided slice, "bcast" an expanded (stride 0) dimension.
        let storage = f32_bytes(&[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]);
        let specs = [
            Spec { offset: 2, stride: &[1, 3], storage_numel: 8, ..spec("t", "FloatStorage", "0", &[3, 2]) },
            Spec { offset: 1, stride: &[2], storage_numel: 8, ..spec("row", "FloatStorage", "0", &[4]) },
            Spec { offset: 7, stride: &[0, 0, 1], storage_numel: 8, ..spec("bcast", "FloatStorage", "0", &[2, 2, 1]) },
            Spec { storage_numel: 8, ..spec("empty", "FloatStorage", "0", &[0, 5]) },
        ];
        for legacy in [false, true] {
            let pkl = state_dict_pickle(&specs, legacy);
            let file = if legacy {
                legacy_file(&pkl, &[("0", 8, storage.clone())])
            } else {
                zip_file("archive", &pkl, &[("0", storage.clone())], "")
            };
            let tensors = load(&file).unwrap();
            let t = by_name(&tensors, "t");
            assert_eq!(t.shape, vec![3, 2]);
            assert_eq!(t.values, vec![2.0, 5.0, 3.0, 6.0, 4.0, 7.0]);
            assert_eq!(by_name(&tensors, "row").values, vec![1.0, 3.0, 5.0, 7.0]);
            assert_eq!(by_name(&tensors, "bcast").values, vec![7.0; 4]);
            assert_eq!(by_name(&tensors, "empty").values, Vec::<f32>::new());
            assert_eq!(by_name(&tensors, "empty").shape, vec![0, 5]);
        }
    }

    #[test]
    fn legacy_storage_views_slice_their_root_storage() {
        let mut w = PickleWriter::new();
        w.ordered_dict().mark().str("v");
        w.global("torch._utils", "_rebuild_tensor_v2").mark();
        w.mark()
            .str("storage")
            .global("torch", "FloatStorage")
            .str("root")
            .str("cpu")
            .int(6)
            .mark()
            .str("view")
            .int(4)
            .int(2)
            .tuple()
            .tuple()
            .raw(b"Q");
        w.int(0).mark().int(2).tuple().mark().int(1).tuple();
        w.raw(&[0x89]).ordered_dict().tuple().reduce().raw(b"u");
        let file = legacy_file(&w.finish(), &[("root", 6, f32_bytes(&[0.0, 1.0, 2.0, 3.0, 4.0, 5.0]))]);
        let tensors = load(&file).unwrap();
        assert_eq!(tensors[0].values, vec![4.0, 5.0]);
    }

    #[test]
    fn parameters_and_v3_untyped_storages_are_tensors() {
        let mut w = PickleWriter::new();
        w.ordered_dict().mark();
        // nn.Parameter(tensor), as torch.save(model) would write it.
        w.str("p").global("torch._utils", "_rebuild_parameter").mark();
        write_tensor(&mut w, &spec("", "FloatStorage", "0", &[2]), false);
        w.raw(&[0x88]).ordered_dict().tuple().reduce();
        // _rebuild_tensor_v3 over an untyped (byte) storage, dtype given separately.
        w.str("u").global("torch._utils", "_rebuild_tensor_v3").mark();
        w.mark().str("storage").global("torch", "UntypedStorage").str("1").str("cpu").int(4).tuple().raw(b"Q");
        w.int(0).mark().int(2).tuple().mark().int(1).tuple();
        w.raw(&[0x89]).ordered_dict().global("torch", "float16").tuple().reduce();
        w.raw(b"u");
        let halves: Vec<u8> = [0.5f32, 8.0].iter().flat_map(|&v| half::f16::from_f32(v).to_le_bytes()).collect();
        let file = zip_file("archive", &w.finish(), &[("0", f32_bytes(&[1.0, 2.0])), ("1", halves)], "little");
        let tensors = load(&file).unwrap();
        assert_eq!(tensors[0].name, "p");
        assert_eq!(tensors[0].values, vec![1.0, 2.0]);
        assert_eq!(tensors[1].dtype, DType::F16);
        assert_eq!(tensors[1].values, vec![0.5, 8.0]);
    }

    #[test]
    fn root_folder_name_is_whatever_holds_data_pkl() {
        let pkl = state_dict_pickle(&[spec("x", "FloatStorage", "0", &[1])], false);
        for root in ["archive", "weights", "resnet18-fixture-untrained"] {
            let file = zip_file(root, &pkl, &[("0", f32_bytes(&[4.0]))], "little");
            assert_eq!(load(&file).unwrap()[0].values, vec![4.0]);
        }
    }

    #[test]
    fn deflated_entries_are_inflated() {
        let pkl = state_dict_pickle(&[spec("x", "FloatStorage", "0", &[3])], false);
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let deflated = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        zip.start_file("a/data.pkl", deflated).unwrap();
        zip.write_all(&pkl).unwrap();
        zip.start_file("a/data/0", deflated).unwrap();
        zip.write_all(&f32_bytes(&[1.0, 2.0, 3.0])).unwrap();
        let file = zip.finish().unwrap().into_inner();
        assert_eq!(load(&file).unwrap()[0].values, vec![1.0, 2.0, 3.0]);
    }

    #[test]
    fn wrapped_state_dicts_are_found_and_other_values_skipped() {
        let specs = [spec("fc.weight", "FloatStorage", "0", &[1, 2])];
        let storage = [("0", f32_bytes(&[1.0, 2.0]))];
        // {'epoch': 3, 'arch': 'x', 'optimizer': {'lr': 0.1}, 'state_dict': OrderedDict(...)}
        let mut w = PickleWriter::new();
        w.raw(b"}").mark().str("epoch").int(3).str("arch").str("x");
        w.str("optimizer").raw(b"}").mark().str("lr").raw(b"G");
        w.raw(&0.1f64.to_be_bytes()).raw(b"u");
        w.str("state_dict");
        write_state_dict(&mut w, &specs, false);
        w.raw(b"u");
        let tensors = load(&zip_file("archive", &w.finish(), &storage, "little")).unwrap();
        assert_eq!(tensors.len(), 1);
        assert_eq!(tensors[0].name, "fc.weight");

        // {'model': {...}} with an int, a string and an opaque object inside the state dict.
        let mut w = PickleWriter::new();
        w.raw(b"}").mark().str("model").raw(b"}").mark();
        w.str("version").int(2).str("note").str("hi");
        w.str("args").global("argparse", "Namespace").empty_tuple().reduce();
        w.str("fc.weight");
        write_tensor(&mut w, &specs[0], false);
        w.raw(b"u").raw(b"u");
        let tensors = load(&zip_file("archive", &w.finish(), &storage, "little")).unwrap();
        assert_eq!(tensors.len(), 1);
        assert_eq!(tensors[0].values, vec![1.0, 2.0]);
    }

    #[test]
    fn checkpoint_without_tensors_has_no_weights() {
        let mut w = PickleWriter::new();
        w.raw(b"}").mark().str("epoch").int(3).raw(b"u");
        let err = load(&zip_file("archive", &w.finish(), &[], "little")).unwrap_err();
        assert!(matches!(err, LoadErrorKind::NoWeights), "{err:?}");
        let err = load(&legacy_file(&PickleWriter::new().int(5).finish(), &[])).unwrap_err();
        assert!(matches!(err, LoadErrorKind::NoWeights), "{err:?}");
    }

    #[test]
    fn short_storages_are_truncated() {
        let pkl = state_dict_pickle(&[spec("w", "FloatStorage", "3", &[1024])], false);
        let file = zip_file("archive", &pkl, &[("3", vec![0; 100])], "little");
        let err = load(&file).unwrap_err();
        assert_eq!(err.to_string(), "truncated: tensor 'w': storage 3: need 4096 bytes, have 100");
        let file = zip_file("archive", &pkl, &[], "little");
        assert!(matches!(load(&file), Err(LoadErrorKind::Truncated(_))));

        let pkl = state_dict_pickle(&[spec("w", "FloatStorage", "3", &[4])], true);
        let mut file = legacy_file(&pkl, &[("3", 4, f32_bytes(&[1.0, 2.0, 3.0, 4.0]))]);
        file.truncate(file.len() - 6);
        let err = load(&file).unwrap_err();
        assert_eq!(err.to_string(), "truncated: storage 3: need 16 bytes, have 10");
    }

    #[test]
    fn cut_zip_archives_are_truncated() {
        let pkl = state_dict_pickle(&[spec("w", "FloatStorage", "0", &[64])], false);
        let file = zip_file("archive", &pkl, &[("0", vec![0; 256])], "little");
        let err = load(&file[..file.len() / 2]).unwrap_err();
        assert!(matches!(err, LoadErrorKind::Truncated(_)), "{err:?}");
    }

    #[test]
    fn lies_about_sizes_are_errors_not_allocations() {
        // A storage claiming 2^60 elements.
        let huge = Spec { storage_numel: 1 << 60, ..spec("w", "FloatStorage", "0", &[4]) };
        let file = zip_file("archive", &state_dict_pickle(&[huge], false), &[("0", vec![0; 16])], "little");
        assert!(matches!(load(&file), Err(LoadErrorKind::Malformed(_) | LoadErrorKind::Truncated(_))));
        // A broadcast view of 2^40 elements over one stored element.
        let expanded =
            Spec { storage_numel: 1, stride: &[0, 0], ..spec("w", "FloatStorage", "0", &[1 << 20, 1 << 20]) };
        let file = zip_file("archive", &state_dict_pickle(&[expanded], false), &[("0", vec![0; 4])], "little");
        let err = load(&file).unwrap_err();
        assert!(err.to_string().contains("more elements than the file"), "{err}");
        // A view reaching past the end of its storage.
        let past = Spec { offset: 3, ..spec("w", "FloatStorage", "0", &[2]) };
        let file = zip_file("archive", &state_dict_pickle(&[past], false), &[("0", vec![0; 8])], "little");
        let err = load(&file).unwrap_err();
        assert!(err.to_string().contains("reach past"), "{err}");
        // Legacy storage header claiming more elements than the file holds.
        let pkl = state_dict_pickle(&[spec("w", "FloatStorage", "0", &[2])], true);
        let file = legacy_file(&pkl, &[("0", i64::MAX / 2, vec![0; 8])]);
        assert!(load(&file).is_err());
    }

    #[test]
    fn garbage_is_not_a_checkpoint() {
        for bytes in [&b""[..], b"hello world", &[0x80, 2, b'K', 1, b'.'], &[0x80]] {
            let err = load(bytes).unwrap_err();
            assert!(matches!(err, LoadErrorKind::NotACheckpoint(_)), "{err:?}");
        }
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        zip.start_file("readme.txt", zip::write::SimpleFileOptions::default()).unwrap();
        let file = zip.finish().unwrap().into_inner();
        assert!(matches!(load(&file), Err(LoadErrorKind::NotACheckpoint(_))));
    }

    #[test]
    fn unknown_opcode_names_byte_and_member() {
        let mut pkl = state_dict_pickle(&[spec("w", "FloatStorage", "0", &[1])], false);
        let at = pkl.len() - 1;
        pkl.insert(at, 0xf0);
        let file = zip_file("archive", &pkl, &[("0", vec![0; 4])], "little");
        let err = load(&file).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("malformed: archive/data.pkl: unsupported pickle opcode 0xf0 at byte {at}")
        );
    }

    #[test]
    fn unknown_storage_types_and_byte_orders_are_unsupported() {
        let pkl = state_dict_pickle(&[spec("w", "ComplexFloatStorage", "0", &[1])], false);
        let file = zip_file("archive", &pkl, &[("0", vec![0; 8])], "little");
        let err = load(&file).unwrap_err();
        assert_eq!(err.to_string(), "unsupported dtype torch.ComplexFloatStorage");

        let pkl = state_dict_pickle(&[spec("w", "FloatStorage", "0", &[1])], false);
        let file = zip_file("archive", &pkl, &[("0", vec![0; 4])], "big");
        let err = load(&file).unwrap_err();
        assert!(matches!(err, LoadErrorKind::UnsupportedDtype(_)), "{err:?}");
        assert!(err.to_string().contains("big-endian"), "{err}");

        let pkl = state_dict_pickle(&[spec("w", "FloatStorage", "0", &[1])], true);
        let mut file = legacy_file(&pkl, &[("0", 1, vec![0; 4])]);
        let flag = file.windows(13).position(|w| w == b"little_endian").unwrap() + 13;
        assert_eq!(file[flag], 0x88);
        file[flag] = 0x89;
        let err = load(&file).unwrap_err();
        assert!(err.to_string().contains("big-endian"), "{err}");

        let mut w = PickleWriter::new();
        w.ordered_dict().mark().str("q");
        w.global("torch._utils", "_rebuild_qtensor").empty_tuple().reduce();
        w.raw(b"u");
        let file = zip_file("archive", &w.finish(), &[], "little");
        let err = load(&file).unwrap_err();
        assert!(err.to_string().contains("_rebuild_qtensor"), "{err}");
    }

    #[test]
    fn an_unknown_call_on_a_storage_is_an_error_not_a_missing_tensor() {
        // One damaged byte in the rebuild function's name.
        let mut w = PickleWriter::new();
        w.ordered_dict().mark().str("w");
        w.global("torch._utils", "_reBuild_tensor_v2").mark();
        w.mark().str("storage").global("torch", "FloatStorage").str("0").str("cpu").int(1).tuple().raw(b"Q");
        w.int(0).mark().int(1).tuple().mark().int(1).tuple().raw(&[0x89]).ordered_dict().tuple().reduce();
        w.raw(b"u");
        let file = zip_file("archive", &w.finish(), &[("0", f32_bytes(&[1.0]))], "little");
        let err = load(&file).unwrap_err();
        assert!(err.to_string().contains("torch._utils._reBuild_tensor_v2 from a storage"), "{err}");
    }

    #[test]
    fn opaque_globals_fail_only_where_a_tensor_is_needed() {
        let mut w = PickleWriter::new();
        w.ordered_dict().mark().str("w");
        w.global("torch._utils", "_rebuild_tensor_v2").mark();
        w.global("numpy", "ndarray").int(0).mark().int(1).tuple().mark().int(1).tuple();
        w.tuple().reduce().raw(b"u");
        let file = zip_file("archive", &w.finish(), &[], "little");
        let err = load(&file).unwrap_err();
        assert!(err.to_string().contains("not a persistent reference"), "{err}");
    }

    #[test]
    fn damaged_files_never_panic() {
        let specs = [
            spec("a", "FloatStorage", "0", &[2, 2]),
            Spec { stride: &[1, 2], ..spec("b", "FloatStorage", "0", &[2, 2]) },
        ];
        let storage = f32_bytes(&[1.0, 2.0, 3.0, 4.0]);
        let files = [
            zip_file("archive", &state_dict_pickle(&specs, false), &[("0", storage.clone())], "little"),
            legacy_file(&state_dict_pickle(&specs, true), &[("0", 4, storage)]),
        ];
        for good in &files {
            assert_eq!(load(good).unwrap().len(), 2);
            for len in (0..good.len()).step_by(7) {
                let _ = load(&good[..len]);
            }
            let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
            for _ in 0..3000 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let mut mutated = good.clone();
                let at = (seed as usize) % mutated.len();
                mutated[at] = (seed >> 40) as u8;
                let _ = load(&mutated);
            }
        }
    }
}
