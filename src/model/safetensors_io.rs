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

/// Reads every tensor of a safetensors file, in the order their data is stored.
pub fn load_safetensors_bytes(path: &Path, bytes: &[u8]) -> Result<Vec<RawTensor>, LoadError> {
    let st = SafeTensors::deserialize(bytes)
        .map_err(|e| LoadError::new(path, LoadErrorKind::Malformed(format!("safetensors: {e}"))))?;
    let base = bytes.as_ptr() as usize;
    let mut views: Vec<(String, TensorView<'_>)> = st.tensors();
    // The header is a JSON object (no order); the data offsets give the file's own order.
    views.sort_by(|a, b| {
        let offset = |v: &TensorView<'_>| v.data().as_ptr() as usize - base;
        offset(&a.1).cmp(&offset(&b.1)).then_with(|| a.0.cmp(&b.0))
    });
    views
        .into_iter()
        .map(|(name, view)| {
            let (dtype, values) = convert(view.dtype(), view.data()).ok_or_else(|| {
                LoadError::new(path, LoadErrorKind::UnsupportedDtype(format!("{:?} (tensor {name})", view.dtype())))
            })?;
            Ok(RawTensor { name, shape: view.shape().to_vec(), dtype, values })
        })
        .collect()
}

fn convert(dtype: Dtype, data: &[u8]) -> Option<(DType, Vec<f32>)> {
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
