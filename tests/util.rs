//! Helpers shared by the test modules.

use std::path::PathBuf;

use weightstream::bits::word_hex;
use weightstream::formats::EncodedStream;
use weightstream::{QuantMatrix, StreamParams};

/// A matrix from rows written out.
pub fn matrix(rows: &[&[i32]], bits: u32) -> QuantMatrix {
    let cols = rows[0].len();
    QuantMatrix { rows: rows.len(), cols, bits, data: rows.iter().flat_map(|r| r.iter().copied()).collect() }
}

/// The stream's words as the `.hex` file has them.
pub fn hex_words(s: &EncodedStream) -> Vec<String> {
    (0..s.bus_words()).map(|j| word_hex(s.word(j))).collect()
}

/// A stream of whole 16-bit words (the documents' B): `fields` (value, width) packed LSB-first,
/// zero-filled.
pub fn stream(fields: &[(u64, usize)]) -> bitvec::vec::BitVec<u64, bitvec::order::Lsb0> {
    let mut bits = bitvec::vec::BitVec::<u64, bitvec::order::Lsb0>::new();
    for &(v, w) in fields {
        for i in 0..w {
            bits.push(v >> i & 1 == 1);
        }
    }
    while bits.len() % 16 != 0 {
        bits.push(false);
    }
    bits
}

/// The parameters of the worked examples in docs/stream-formats.md.
pub fn doc_params() -> StreamParams {
    StreamParams { lanes: 4, weight_bits: 4, bus_bits: 16, run_bits: 2, count_bits: 4, ..StreamParams::default() }
}

/// A checkpoint fetched by scripts/setup; the tests that use it fail (never skip) without it.
pub fn cached_model(file: &str) -> PathBuf {
    let path = weightstream::model::cache_dir().join(file);
    assert!(path.exists(), "{} is missing: run scripts/setup (it fetches the models)", path.display());
    path
}

/// The built CLI binary.
pub fn cli() -> std::process::Command {
    std::process::Command::new(env!("CARGO_BIN_EXE_weightstream"))
}

/// A small deterministic float checkpoint in `dir` (`tiny.safetensors`): the layers `shapes`
/// (name, shape), values uniform in [-0.5, 0.5) from a linear congruential generator at `seed`.
pub fn tiny_safetensors(dir: &std::path::Path, shapes: &[(&str, Vec<usize>)], mut seed: u64) -> PathBuf {
    use safetensors::tensor::{Dtype, TensorView};
    let mut next = || {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((seed >> 33) as f32 / (1u64 << 31) as f32) - 0.5
    };
    let bufs: Vec<(String, Vec<usize>, Vec<u8>)> = shapes
        .iter()
        .map(|(n, s)| {
            let len: usize = s.iter().product();
            (n.to_string(), s.clone(), (0..len).flat_map(|_| next().to_le_bytes()).collect())
        })
        .collect();
    let views: Vec<(String, TensorView<'_>)> =
        bufs.iter().map(|(n, s, b)| (n.clone(), TensorView::new(Dtype::F32, s.clone(), b).unwrap())).collect();
    let path = dir.join("tiny.safetensors");
    safetensors::serialize_to_file(views, &None, &path).unwrap();
    path
}
