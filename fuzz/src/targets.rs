//! Fuzz target bodies, shared by the cargo-fuzz targets (`fuzz/fuzz_targets/*.rs`) and the
//! corpus replay in the main crate's tests (`tests/hostile_checkpoints.rs`): each takes arbitrary
//! bytes and must return without panicking, hanging or allocating without bound. Also builds
//! the tiny checkpoints the seed corpus and the hostile-checkpoint tests start from.
#![allow(dead_code)]

use std::io::{Cursor, Write};
use std::path::Path;

use bitvec::prelude::*;
use weightstream::formats::{Format, StreamParams};
use weightstream::matrix::QuantMatrix;
use weightstream::model::{pth, safetensors_io};

/// The safetensors loader on arbitrary bytes.
pub fn safetensors(data: &[u8]) {
    let _ = safetensors_io::load_safetensors_bytes(Path::new("fuzz.safetensors"), data);
}

/// The PyTorch zip loader (torch >= 1.6) on arbitrary bytes, always given a zip signature.
pub fn pth_zip(data: &[u8]) {
    if data.starts_with(b"PK") {
        let _ = pth::load_pth_bytes(Path::new("fuzz.pth"), data);
    } else {
        let mut file = b"PK\x03\x04".to_vec();
        file.extend_from_slice(data);
        let _ = pth::load_pth_bytes(Path::new("fuzz.pth"), &file);
    }
}

/// The legacy (pickle stream) PyTorch loader on arbitrary bytes, always given the pickle start.
pub fn pth_legacy(data: &[u8]) {
    if data.first() == Some(&0x80) {
        let _ = pth::load_pth_bytes(Path::new("fuzz.pth"), data);
    } else {
        let mut file = vec![0x80];
        file.extend_from_slice(data);
        let _ = pth::load_pth_bytes(Path::new("fuzz.pth"), &file);
    }
}

/// Stream parameters and shape from the first bytes (small, in range or just outside it), the
/// rest as the bus words of a stream; every format decodes it.
pub fn decode(data: &[u8]) {
    let [a, b, c, d, e, f, g, rest @ ..] = data else {
        return;
    };
    let rows = usize::from(*a % 40);
    let cols = usize::from(*b % 40);
    let p = StreamParams {
        lanes: usize::from(*c % 34),
        weight_bits: u32::from(*d % 18),
        bus_bits: [8u32, 16, 24, 32, 64, 128, 12, 0][usize::from(*e % 8)],
        run_bits: u32::from(*f % 18),
        count_bits: u32::from(*g % 18),
        ..StreamParams::default()
    };
    let mut bits = BitVec::<u64, Lsb0>::from_vec(words(rest));
    bits.truncate(rest.len() * 8);
    for format in Format::ALL {
        let _ = format.decode("fuzz", &bits, rows, cols, &p);
    }
}

fn words(bytes: &[u8]) -> Vec<u64> {
    bytes
        .chunks(8)
        .map(|c| {
            let mut w = [0u8; 8];
            w[..c.len()].copy_from_slice(c);
            u64::from_le_bytes(w)
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Seeds: tiny valid inputs built with the library (and the zip crate), never downloaded.

/// f32 values as little-endian bytes.
pub fn f32_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// A protocol-2 pickle of `OrderedDict(name -> _rebuild_tensor_v2(FloatStorage key, 0, shape,
/// contiguous stride))` for each `(name, storage key, storage elements, shape)`; `legacy` adds the
/// pre-1.6 trailing view field.
pub fn state_dict_pickle(tensors: &[(&str, &str, usize, &[usize])], legacy: bool) -> Vec<u8> {
    fn int(out: &mut Vec<u8>, v: usize) {
        match (u8::try_from(v), u16::try_from(v), i32::try_from(v)) {
            (Ok(b), _, _) => out.extend([b'K', b]),
            (_, Ok(m), _) => {
                out.push(b'M');
                out.extend(m.to_le_bytes());
            }
            (_, _, Ok(j)) => {
                out.push(b'J');
                out.extend(j.to_le_bytes());
            }
            _ => {
                out.extend([0x8a, 8]);
                out.extend((v as u64).to_le_bytes());
            }
        }
    }
    fn text(out: &mut Vec<u8>, s: &str) {
        out.push(b'X');
        out.extend((s.len() as u32).to_le_bytes());
        out.extend(s.as_bytes());
    }
    let ordered_dict = b"ccollections\nOrderedDict\n)R";
    let mut out = vec![0x80, 2];
    out.extend(ordered_dict);
    out.push(b'(');
    for &(name, key, numel, shape) in tensors {
        text(&mut out, name);
        out.extend(b"ctorch._utils\n_rebuild_tensor_v2\n(");
        out.push(b'(');
        text(&mut out, "storage");
        out.extend(b"ctorch\nFloatStorage\n");
        text(&mut out, key);
        text(&mut out, "cpu");
        int(&mut out, numel);
        if legacy {
            out.push(b'N');
        }
        out.extend(b"tQ");
        int(&mut out, 0);
        out.push(b'(');
        for &d in shape {
            int(&mut out, d);
        }
        out.extend(b"t(");
        let mut stride = 1;
        let mut strides = Vec::new();
        for &d in shape.iter().rev() {
            strides.push(stride);
            stride *= d.max(1);
        }
        for s in strides.iter().rev() {
            int(&mut out, *s);
        }
        out.extend(b"t\x89");
        out.extend(ordered_dict);
        out.extend(b"tR");
    }
    out.extend(b"u.");
    out
}

/// A torch >= 1.6 zip checkpoint: `archive/data.pkl`, `archive/byteorder`, `archive/data/KEY`
/// for each storage, stored (`deflate: false`, as torch writes) or deflated.
pub fn zip_pth(pkl: &[u8], storages: &[(&str, Vec<u8>)], deflate: bool) -> Vec<u8> {
    let method = if deflate { zip::CompressionMethod::Deflated } else { zip::CompressionMethod::Stored };
    let options = zip::write::SimpleFileOptions::default().compression_method(method).large_file(false);
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let mut put = |name: &str, data: &[u8]| {
        zip.start_file(name, options).expect("zip entry");
        zip.write_all(data).expect("zip write");
    };
    put("archive/data.pkl", pkl);
    put("archive/byteorder", b"little");
    for (key, data) in storages {
        put(&format!("archive/data/{key}"), data);
    }
    put("archive/version", b"3\n");
    zip.finish().expect("zip finish").into_inner()
}

/// A legacy (torch < 1.6) checkpoint: magic, protocol version, sys_info, the object pickle, the
/// storage keys, then each storage as (i64 element count, raw bytes).
pub fn legacy_pth(pkl: &[u8], storages: &[(&str, i64, Vec<u8>)]) -> Vec<u8> {
    let mut out = vec![0x80, 2, 0x8a, 10];
    out.extend_from_slice(&0x1950a86a20f9469cfc6c_u128.to_le_bytes()[..10]);
    out.push(b'.');
    out.extend([0x80, 2, b'M', 0xe9, 0x03, b'.']); // 1001
    out.extend([0x80, 2, b'}', b'(']);
    out.extend(b"X\x0d\x00\x00\x00little_endian\x88u.");
    out.extend_from_slice(pkl);
    out.extend([0x80, 2, b']', b'(']);
    for (key, _, _) in storages {
        out.push(b'X');
        out.extend((key.len() as u32).to_le_bytes());
        out.extend(key.as_bytes());
    }
    out.extend(b"e.");
    for (_, count, data) in storages {
        out.extend_from_slice(&count.to_le_bytes());
        out.extend_from_slice(data);
    }
    out
}

/// A safetensors file of f32 tensors `(name, shape, values)`.
pub fn safetensors_file(tensors: &[(&str, Vec<usize>, Vec<f32>)]) -> Vec<u8> {
    use safetensors::tensor::{Dtype, TensorView};
    let buffers: Vec<Vec<u8>> = tensors.iter().map(|t| f32_bytes(&t.2)).collect();
    let views: Vec<(String, TensorView<'_>)> = tensors
        .iter()
        .zip(&buffers)
        .map(|(t, b)| (t.0.to_string(), TensorView::new(Dtype::F32, t.1.clone(), b).expect("view")))
        .collect();
    safetensors::serialize(views, &None).expect("serialize")
}

/// Decoder seeds: a small matrix encoded in every format, as this target's input layout.
pub fn decode_seeds() -> Vec<Vec<u8>> {
    let m = QuantMatrix { rows: 5, cols: 7, bits: 4, data: (0..35).map(|i| [0, 0, 3, -2, 0, 7, -8][i % 7]).collect() };
    let p =
        StreamParams { lanes: 4, weight_bits: 4, bus_bits: 32, run_bits: 3, count_bits: 6, ..StreamParams::default() };
    Format::ALL
        .iter()
        .map(|f| {
            let s = f.encode(&m, &p).expect("encode");
            let mut input = vec![5, 7, 4, 4, 3, 3, 6];
            let bytes: Vec<u8> = s.bits.as_raw_slice().iter().flat_map(|w| w.to_le_bytes()).collect();
            input.extend_from_slice(&bytes[..s.bits.len() / 8]);
            input
        })
        .collect()
}
