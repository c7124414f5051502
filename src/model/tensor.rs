//! Tensors as they come out of a checkpoint file: name, shape, storage dtype, values widened to f32.

use std::fmt;

/// Storage element type of a tensor in a checkpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum DType {
    F16,
    BF16,
    F32,
    F64,
    I8,
    I16,
    I32,
    I64,
    U8,
    Bool,
}

impl DType {
    /// Bits one element occupies in the checkpoint's storage.
    pub fn bits(self) -> u32 {
        match self {
            DType::F16 | DType::BF16 | DType::I16 => 16,
            DType::F32 | DType::I32 => 32,
            DType::F64 | DType::I64 => 64,
            DType::I8 | DType::U8 | DType::Bool => 8,
        }
    }

    /// Floating-point storages carry weights; integer ones are bookkeeping (e.g. `num_batches_tracked`).
    pub fn is_float(self) -> bool {
        matches!(self, DType::F16 | DType::BF16 | DType::F32 | DType::F64)
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            DType::F16 => "f16",
            DType::BF16 => "bf16",
            DType::F32 => "f32",
            DType::F64 => "f64",
            DType::I8 => "i8",
            DType::I16 => "i16",
            DType::I32 => "i32",
            DType::I64 => "i64",
            DType::U8 => "u8",
            DType::Bool => "bool",
        };
        f.write_str(s)
    }
}

/// One named tensor read from a checkpoint, in row-major (C) order.
#[derive(Debug, Clone, PartialEq)]
pub struct RawTensor {
    /// Name as stored in the checkpoint (e.g. `features.0.0.weight`).
    pub name: String,
    /// Shape, outermost dimension first.
    pub shape: Vec<usize>,
    /// Element type of the stored data.
    pub dtype: DType,
    /// Values in row-major order, converted to f32 (integers converted by value).
    pub values: Vec<f32>,
}

impl RawTensor {
    /// Number of elements the shape describes.
    pub fn numel(&self) -> usize {
        self.shape.iter().product()
    }
}
