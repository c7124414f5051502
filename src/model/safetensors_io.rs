//! Reading `.safetensors` checkpoints (through the `safetensors` crate) and writing the quantized
//! integer matrices back out as `.safetensors`.

use std::path::Path;

use safetensors::tensor::{Dtype, TensorView};
use safetensors::SafeTensors;

use super::error::{LoadError, LoadErrorKind};
use super::tensor::{DType, RawTensor};

/// True if the bytes start like a safetensors file: a little-endian u64 header length that fits,
/// followed by a JSON object.
pub fn looks_like_safetensors(bytes: &[u8]) -> bool {
    let Some(len) = bytes.get(..8).map(|b| u64::from_le_bytes(b.try_into().unwrap_or([0; 8]))) else {
        return false;
    };
    len > 0 && len <= (bytes.len() as u64).saturating_sub(8) && bytes.get(8) == Some(&b'{')
}

/// Where one tensor of a safetensors file is: name, dtype, shape, data bytes [start, end) of
/// the file.
pub struct TensorLayout {
    pub name: String,
    pub dtype: Dtype,
    pub shape: Vec<usize>,
    pub start: usize,
    pub end: usize,
}

/// The tensors of a safetensors file (its whole bytes, possibly mapped, not read), in the order
/// their data is stored. The header is checked here first (the `safetensors` crate keeps the last
/// of two equal names silently): duplicate names, and each tensor's data offsets against its
/// shape, dtype and the file length. No tensor data is touched.
pub fn layout(path: &Path, bytes: &[u8]) -> Result<Vec<TensorLayout>, LoadError> {
    check_header(bytes).map_err(|msg| LoadError::new(path, LoadErrorKind::Malformed(format!("safetensors: {msg}"))))?;
    let st = SafeTensors::deserialize(bytes)
        .map_err(|e| LoadError::new(path, LoadErrorKind::Malformed(format!("safetensors: {e}"))))?;
    let base = bytes.as_ptr() as usize;
    let mut views: Vec<(String, TensorView<'_>)> = st.tensors();
    let offset = |v: &TensorView<'_>| v.data().as_ptr() as usize - base;
    // The header is a JSON object (no order); the data offsets give the file's own order.
    views.sort_by(|a, b| offset(&a.1).cmp(&offset(&b.1)).then_with(|| a.0.cmp(&b.0)));
    Ok(views
        .into_iter()
        .map(|(name, view)| {
            let start = offset(&view);
            TensorLayout {
                name,
                dtype: view.dtype(),
                shape: view.shape().to_vec(),
                start,
                end: start + view.data().len(),
            }
        })
        .collect())
}

/// Reads every tensor of a safetensors file held in memory, in the order their data is stored
/// (see [`layout`]).
pub fn load_safetensors_bytes(path: &Path, bytes: &[u8]) -> Result<Vec<RawTensor>, LoadError> {
    layout(path, bytes)?
        .into_iter()
        .map(|t| {
            let (dtype, values) = convert(t.dtype, &bytes[t.start..t.end]).ok_or_else(|| {
                LoadError::new(path, LoadErrorKind::UnsupportedDtype(format!("{:?} (tensor {})", t.dtype, t.name)))
            })?;
            Ok(RawTensor { name: t.name, shape: t.shape, dtype, values })
        })
        .collect()
}

/// Our dtype for a safetensors dtype we can read.
pub fn dtype_of(dtype: Dtype) -> Option<DType> {
    Some(match dtype {
        Dtype::F32 => DType::F32,
        Dtype::F64 => DType::F64,
        Dtype::F16 => DType::F16,
        Dtype::BF16 => DType::BF16,
        Dtype::I8 => DType::I8,
        Dtype::U8 => DType::U8,
        Dtype::BOOL => DType::Bool,
        Dtype::I16 => DType::I16,
        Dtype::I32 => DType::I32,
        Dtype::I64 => DType::I64,
        _ => return None,
    })
}

/// One header entry as written, before the crate's own parsing.
#[derive(serde::Deserialize)]
struct HeaderEntry {
    dtype: String,
    shape: Vec<u64>,
    data_offsets: (u64, u64),
}

/// The header's entries in file order, duplicates kept (a JSON object read as a list of pairs).
struct HeaderEntries(Vec<(String, serde_json::Value)>);

impl<'de> serde::Deserialize<'de> for HeaderEntries {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = HeaderEntries;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<HeaderEntries, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry::<String, serde_json::Value>()? {
                    entries.push(entry);
                }
                Ok(HeaderEntries(entries))
            }
        }
        d.deserialize_map(Visit)
    }
}

/// Bytes per element of a safetensors dtype name, for the ones whose size is whole bytes.
fn dtype_size(name: &str) -> Option<u64> {
    Some(match name {
        "BOOL" | "U8" | "I8" | "F8_E5M2" | "F8_E4M3" => 1,
        "I16" | "U16" | "F16" | "BF16" => 2,
        "I32" | "U32" | "F32" => 4,
        "I64" | "U64" | "F64" => 8,
        _ => return None,
    })
}

/// Duplicate names and data offsets that do not fit the shape or the file, as one-line messages
/// naming the tensor.
fn check_header(bytes: &[u8]) -> Result<(), String> {
    let len = bytes.get(..8).and_then(|b| <[u8; 8]>::try_from(b).ok()).map(u64::from_le_bytes);
    let len = len.ok_or("file shorter than its 8-byte header length")?;
    let header = usize::try_from(len)
        .ok()
        .and_then(|n| bytes.get(8..n.checked_add(8)?))
        .ok_or_else(|| format!("header length {len} runs past the end of the file ({} bytes)", bytes.len()))?;
    let data_len = (bytes.len() - 8 - header.len()) as u64;
    let HeaderEntries(entries) =
        serde_json::from_slice(header).map_err(|e| format!("header is not a JSON object: {e}"))?;
    let mut seen = std::collections::HashSet::new();
    for (name, value) in entries {
        if !seen.insert(name.clone()) {
            return Err(format!("tensor '{name}' appears twice in the header"));
        }
        if name == "__metadata__" {
            continue;
        }
        let entry: HeaderEntry = serde_json::from_value(value).map_err(|e| format!("tensor '{name}': {e}"))?;
        let (begin, end) = entry.data_offsets;
        if begin > end || end > data_len {
            return Err(format!(
                "tensor '{name}': data offsets [{begin}, {end}] lie outside the {data_len} data bytes of the file"
            ));
        }
        let Some(size) = dtype_size(&entry.dtype) else {
            continue; // sub-byte dtypes: the crate checks them, and `convert` refuses them.
        };
        let need = entry.shape.iter().try_fold(size, |acc, &d| acc.checked_mul(d));
        if need != Some(end - begin) {
            return Err(format!(
                "tensor '{name}': shape {:?} of {} needs {} bytes, its data offsets span {}",
                entry.shape,
                entry.dtype,
                need.map_or_else(|| "more than 2^64".to_string(), |n| n.to_string()),
                end - begin
            ));
        }
    }
    Ok(())
}

/// Little-endian elements of `dtype` converted to f32 (integers by value).
pub(crate) fn convert(dtype: Dtype, data: &[u8]) -> Option<(DType, Vec<f32>)> {
    fn each<const W: usize>(data: &[u8], f: impl Fn([u8; W]) -> f32) -> Vec<f32> {
        data.chunks_exact(W).map(|c| f(c.try_into().unwrap_or([0; W]))).collect()
    }
    Some(match dtype {
        Dtype::F32 => (DType::F32, each::<4>(data, f32::from_le_bytes)),
        Dtype::F64 => (DType::F64, each::<8>(data, |b| f64::from_le_bytes(b) as f32)),
        Dtype::F16 => (DType::F16, each::<2>(data, |b| half::f16::from_le_bytes(b).to_f32())),
        Dtype::BF16 => (DType::BF16, each::<2>(data, |b| half::bf16::from_le_bytes(b).to_f32())),
        Dtype::I8 => (DType::I8, each::<1>(data, |b| f32::from(b[0] as i8))),
        Dtype::U8 => (DType::U8, each::<1>(data, |b| f32::from(b[0]))),
        Dtype::BOOL => (DType::Bool, each::<1>(data, |b| f32::from(b[0]))),
        Dtype::I16 => (DType::I16, each::<2>(data, |b| f32::from(i16::from_le_bytes(b)))),
        Dtype::I32 => (DType::I32, each::<4>(data, |b| i32::from_le_bytes(b) as f32)),
        Dtype::I64 => (DType::I64, each::<8>(data, |b| i64::from_le_bytes(b) as f32)),
        _ => return None,
    })
}

/// One integer matrix to export: name, shape [O, K], values row-major.
pub struct IntTensor<'a> {
    pub name: &'a str,
    pub rows: usize,
    pub cols: usize,
    pub values: &'a [i32],
}

/// Writes integer matrices as I32 safetensors (shape [O, K]).
pub fn write_i32_safetensors(path: &Path, tensors: &[IntTensor<'_>]) -> Result<(), std::io::Error> {
    let buffers: Vec<Vec<u8>> =
        tensors.iter().map(|t| t.values.iter().flat_map(|v| v.to_le_bytes()).collect()).collect();
    let mut views = Vec::with_capacity(tensors.len());
    for (t, buf) in tensors.iter().zip(&buffers) {
        let view = TensorView::new(Dtype::I32, vec![t.rows, t.cols], buf)
            .map_err(|e| std::io::Error::other(format!("tensor {}: {e}", t.name)))?;
        views.push((t.name.to_string(), view));
    }
    safetensors::serialize_to_file(views, &None, path).map_err(|e| std::io::Error::other(e.to_string()))
}
