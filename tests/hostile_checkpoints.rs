//! Hostile inputs: checkpoints that lie about their sizes (a zip bomb, storages bigger than the
//! file), damaged zip entries (CRC), duplicate or out-of-file safetensors entries, the exported
//! integer model read back, external codecs that flood stdout or detach from their session, and
//! the fuzz seed corpus replayed through the fuzz targets' bodies.

use std::io::{Cursor, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use weightstream::model::{load_file, pth, safetensors_io, LoadErrorKind};
use weightstream::study::external::{ExternalCodec, RUN_TOKEN_VAR};
use weightstream::study::pipeline::{run_layer, Pipeline};
use weightstream::QuantMatrix;

use crate::util::cli;

#[path = "../fuzz/src/targets.rs"]
mod targets;

fn load_pth(bytes: &[u8]) -> Result<Vec<weightstream::model::RawTensor>, String> {
    pth::load_pth_bytes(Path::new("hostile.pth"), bytes).map_err(|e| e.to_string())
}

fn load_st(bytes: &[u8]) -> Result<Vec<weightstream::model::RawTensor>, String> {
    safetensors_io::load_safetensors_bytes(Path::new("hostile.safetensors"), bytes).map_err(|e| e.to_string())
}

/// A zip .pth whose only storage is `inflated` zero bytes, deflated, behind a 1-element tensor.
fn zip_bomb(inflated: usize) -> Vec<u8> {
    let numel = inflated / 4;
    let pkl = targets::state_dict_pickle(&[("conv1.weight", "0", numel, &[1, 1])], false);
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let deflated = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(9));
    zip.start_file("archive/data.pkl", deflated).unwrap();
    zip.write_all(&pkl).unwrap();
    zip.start_file("archive/data/0", deflated).unwrap();
    let block = vec![0u8; 1 << 20];
    for _ in 0..inflated >> 20 {
        zip.write_all(&block).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

#[test]
fn zip_bomb_is_refused_before_inflating() {
    let bomb = zip_bomb(256 << 20);
    assert!(bomb.len() < 1 << 20, "{} bytes", bomb.len());
    let err = load_pth(&bomb).unwrap_err();
    assert!(err.contains("archive/data/0") && err.contains("zip bomb"), "{err}");
    assert!(!err.contains('\n'));

    // The same through the CLI with 300 MB of address space: an attempt to inflate would abort
    // with an allocation failure instead of this one-line error.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bomb.pth");
    std::fs::write(&path, &bomb).unwrap();
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 300000 && exec \"$0\" layers --model \"$1\"")
        .arg(env!("CARGO_BIN_EXE_weightstream"))
        .arg(&path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("bomb.pth") && stderr.contains("zip bomb"), "{stderr}");
}

#[test]
fn flipped_byte_in_a_zip_entry_is_a_crc_error() {
    let w = targets::f32_bytes(&[0.5, -0.25, 1.0, 2.0, 0.125, -3.0]);
    let pkl = targets::state_dict_pickle(&[("conv1.weight", "0", 6, &[2, 3])], false);
    for deflate in [false, true] {
        let good = targets::zip_pth(&pkl, &[("0", w.clone())], deflate);
        assert_eq!(load_pth(&good).unwrap()[0].values[1], -0.25);
        let mut bad = good.clone();
        let at = if deflate {
            // Inside the deflated storage: just past its local header and name.
            let name = bad.windows(14).position(|x| x == b"archive/data/0").unwrap();
            name + 14 + 2
        } else {
            // The exponent byte of -0.25.
            bad.windows(w.len()).position(|x| x == w.as_slice()).unwrap() + 7
        };
        bad[at] ^= 0x10;
        let err = load_pth(&bad).unwrap_err();
        assert!(err.starts_with("hostile.pth: "), "{err}");
        assert!(err.contains("archive/data/0") && (err.contains("CRC") || err.contains("checksum")), "{err}");
    }
}

/// A safetensors file with a hand-written header (entries in order, duplicates kept).
fn raw_safetensors(header: &str, data: &[u8]) -> Vec<u8> {
    let mut out = (header.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(data);
    out
}

#[test]
fn duplicate_and_out_of_file_safetensors_entries_are_errors() {
    let data = targets::f32_bytes(&[1.0, 2.0, 3.0, 4.0]);
    let ok = raw_safetensors(
        r#"{"a":{"dtype":"F32","shape":[1,2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1,2],"data_offsets":[8,16]}}"#,
        &data,
    );
    assert_eq!(load_st(&ok).unwrap().len(), 2);

    let dup = raw_safetensors(
        r#"{"a":{"dtype":"F32","shape":[1,2],"data_offsets":[0,8]},"a":{"dtype":"F32","shape":[1,2],"data_offsets":[8,16]}}"#,
        &data,
    );
    let err = load_st(&dup).unwrap_err();
    assert_eq!(err, "hostile.safetensors: malformed: safetensors: tensor 'a' appears twice in the header");

    let past = raw_safetensors(
        r#"{"a":{"dtype":"F32","shape":[1,2],"data_offsets":[0,8]},"w":{"dtype":"F32","shape":[1,1000000],"data_offsets":[8,4000008]}}"#,
        &data,
    );
    let err = load_st(&past).unwrap_err();
    assert!(err.contains("tensor 'w'") && err.contains("outside the 16 data bytes"), "{err}");

    let lying =
        raw_safetensors(r#"{"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,16]}}"#, &data);
    let err = load_st(&lying).unwrap_err();
    assert!(err.contains("tensor 'w'") && err.contains("needs more than 2^64 bytes"), "{err}");

    // Through the file loader too: the path leads the message.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dup.safetensors");
    std::fs::write(&path, &dup).unwrap();
    let err = load_file(&path).unwrap_err();
    assert!(matches!(err.kind, LoadErrorKind::Malformed(_)));
    assert!(err.to_string().starts_with(&path.display().to_string()), "{err}");
}

#[test]
fn duplicate_state_dict_names_and_legacy_size_lies_are_errors() {
    let w = targets::f32_bytes(&[1.0, 2.0, 3.0, 4.0]);
    let pkl = targets::state_dict_pickle(&[("w", "0", 4, &[2, 2]), ("w", "0", 4, &[2, 2])], false);
    let err = load_pth(&targets::zip_pth(&pkl, &[("0", w.clone())], false)).unwrap_err();
    assert!(err.contains("tensor 'w' appears twice"), "{err}");

    let pkl = targets::state_dict_pickle(&[("w", "0", 4, &[2, 2])], true);
    assert!(load_pth(&targets::legacy_pth(&pkl, &[("0", 4, w.clone())])).is_ok());
    // The storage header claims more elements than the file holds.
    for count in [5, 1 << 40, i64::MAX, -1] {
        let err = load_pth(&targets::legacy_pth(&pkl, &[("0", count, w.clone())])).unwrap_err();
        assert!(err.contains("storage 0"), "{count}: {err}");
        assert!(!err.contains('\n'));
    }
    // The pickle claims a storage bigger than the one stored.
    let big = targets::state_dict_pickle(&[("w", "0", 1 << 30, &[2, 2])], true);
    let err = load_pth(&targets::legacy_pth(&big, &[("0", 4, w.clone())])).unwrap_err();
    assert!(err.contains("tensor 'w'") && err.contains("storage 0"), "{err}");
    // And in a zip: the storage entry is shorter than the pickle says.
    let big = targets::state_dict_pickle(&[("w", "0", 1 << 30, &[2, 2])], false);
    let err = load_pth(&targets::zip_pth(&big, &[("0", w)], false)).unwrap_err();
    assert_eq!(err, "hostile.pth: truncated: tensor 'w': storage 0: need 4294967296 bytes, have 16");
}

fn report_json(model: &Path, dir: &Path, tag: &str, extra: &[&str]) -> serde_json::Value {
    let json = dir.join(format!("{tag}.json"));
    let out = cli()
        .args(["report", "--quiet", "--bits", "6", "--sparsity", "0.6", "--model"])
        .arg(model)
        .arg("--json")
        .arg(&json)
        .args(extra)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap()
}

#[test]
fn exported_quantized_model_loads_back_with_identical_words() {
    let dir = tempfile::tempdir().unwrap();
    let values = |n: usize, seed: u32| -> Vec<f32> {
        (0..n)
            .map(|i| ((i as u32).wrapping_mul(2_654_435_761).wrapping_add(seed) % 2001) as f32 / 1000.0 - 1.0)
            .collect()
    };
    let model = dir.path().join("m.safetensors");
    let file = targets::safetensors_file(&[
        ("conv1.weight", vec![16, 3, 3, 3], values(16 * 27, 1)),
        ("conv1.bias", vec![16], values(16, 2)),
        ("layer.conv.weight", vec![40, 16, 3, 3], values(40 * 144, 3)),
        ("fc.weight", vec![10, 40], values(400, 4)),
    ]);
    std::fs::write(&model, file).unwrap();
    let exported = dir.path().join("q.safetensors");
    let original = report_json(&model, dir.path(), "a", &["--export-quantized", exported.to_str().unwrap()]);
    let back = report_json(&exported, dir.path(), "b", &[]);
    let layers = |v: &serde_json::Value| -> Vec<(String, Vec<u64>)> {
        let mut l: Vec<_> = v["layers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| {
                let words = l["formats"].as_array().unwrap().iter().map(|f| f["bus_words"].as_u64().unwrap());
                (l["name"].as_str().unwrap().to_string(), words.collect())
            })
            .collect();
        l.sort();
        l
    };
    assert_eq!(layers(&original).len(), 3);
    assert_eq!(layers(&original), layers(&back));

    // Too wide for the bits asked: an error naming the layer, no silent re-quantization.
    let out = cli().args(["report", "--quiet", "--bits", "4", "--model"]).arg(&exported).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("already quantized to 6-bit") && stderr.contains("--bits 4"), "{stderr}");
}

/// Live processes carrying a codec run token of this test process.
fn leftover_codec_processes() -> Vec<String> {
    let needle = format!("{RUN_TOKEN_VAR}={}-", std::process::id());
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else { continue };
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        if stat.rsplit_once(')').is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')) {
            continue;
        }
        let env = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
        if env.split(|&b| b == 0).any(|v| v.starts_with(needle.as_bytes())) {
            found.push(stat);
        }
    }
    found
}

#[test]
fn codecs_that_flood_stdout_or_detach_are_stopped() {
    let m = QuantMatrix { rows: 4, cols: 8, bits: 8, data: (0..32).map(|i| i % 5 - 2).collect() };
    let codec = |spec: &str, ms: u64| {
        ExternalCodec::parse(spec, Duration::from_millis(ms)).unwrap().with_max_bytes(Some(1_000_000))
    };
    let flood = codec("flood=cat /dev/zero::cat", 20_000);
    let detach = codec("detach=setsid sleep 40 & cat::cat", 1_500);
    let hang = codec("hang=setsid sleep 40 & sleep 40::cat", 700);
    let all = [flood, detach, hang];
    let start = Instant::now();
    let runs = run_layer(&["flood", "detach", "hang", "bitmap"].map(|p| Pipeline::parse(p, &all).unwrap()), &m);
    let elapsed = start.elapsed();
    assert!(elapsed < Duration::from_secs(15), "took {elapsed:?}");
    let err = runs[0].result.as_ref().unwrap_err();
    assert!(err.contains("more than 1000000 bytes") && err.contains("killed"), "{err}");
    // The detached sleeper is killed when its command exits; the round trip itself is fine.
    assert!(runs[1].result.is_ok(), "{:?}", runs[1].result);
    assert!(runs[2].result.as_ref().unwrap_err().contains("timed out"), "{:?}", runs[2].result);
    assert!(runs[3].result.is_ok());
    let left = leftover_codec_processes();
    assert!(left.is_empty(), "codec processes left running: {left:?}");
}

#[test]
fn fuzz_seed_corpus_replays_cleanly() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    let targets: [(&str, fn(&[u8])); 4] = [
        ("safetensors", targets::safetensors),
        ("pth_zip", targets::pth_zip),
        ("pth_legacy", targets::pth_legacy),
        ("decode", targets::decode),
    ];
    let mut files = 0;
    for (name, run) in targets {
        for entry in std::fs::read_dir(root.join(name)).unwrap().flatten() {
            let bytes = std::fs::read(entry.path()).unwrap();
            run(&bytes);
            // And a few cheap mutations of each: every prefix length class, one flipped bit.
            for cut in [bytes.len() / 3, bytes.len() / 2, bytes.len().saturating_sub(1)] {
                run(&bytes[..cut]);
            }
            for at in (0..bytes.len()).step_by(bytes.len() / 64 + 1) {
                let mut m = bytes.clone();
                m[at] ^= 0x04;
                run(&m);
            }
            files += 1;
        }
    }
    assert!(files >= 8, "{files} corpus files");
    // The seeds are valid inputs, not just survivable ones.
    let zip = std::fs::read(root.join("pth_zip/stored")).unwrap();
    assert_eq!(load_pth(&zip).unwrap().len(), 2);
    let legacy = std::fs::read(root.join("pth_legacy/two_tensors")).unwrap();
    assert_eq!(load_pth(&legacy).unwrap().len(), 2);
}

/// Writes the fuzz seed corpus (`fuzz/corpus/TARGET/*`): tiny valid inputs built with the
/// library, a few KB in all. `scripts/fuzz --make-corpus` runs it.
#[test]
#[ignore = "writes fuzz/corpus; run by scripts/fuzz --make-corpus"]
fn write_fuzz_corpus() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    let put = |target: &str, name: &str, bytes: &[u8]| {
        let dir = root.join(target);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(name), bytes).unwrap();
    };
    let w: Vec<f32> = (0..12).map(|i| (i as f32 - 5.5) * 0.25).collect();
    let bias = [0.5, -1.0, 2.0];
    let st = targets::safetensors_file(&[("fc.weight", vec![3, 4], w.clone()), ("fc.bias", vec![3], bias.to_vec())]);
    put("safetensors", "two_tensors", &st);
    put("safetensors", "conv", &targets::safetensors_file(&[("conv.weight", vec![2, 1, 2, 3], w.clone())]));

    let pkl = targets::state_dict_pickle(&[("fc.weight", "0", 12, &[3, 4]), ("fc.bias", "1", 3, &[3])], false);
    let storages = [("0", targets::f32_bytes(&w)), ("1", targets::f32_bytes(&bias))];
    put("pth_zip", "stored", &targets::zip_pth(&pkl, &storages, false));
    put("pth_zip", "deflated", &targets::zip_pth(&pkl, &storages, true));

    let pkl = targets::state_dict_pickle(&[("fc.weight", "0", 12, &[3, 4]), ("fc.bias", "1", 3, &[3])], true);
    let storages = [("0", 12, targets::f32_bytes(&w)), ("1", 3, targets::f32_bytes(&bias))];
    put("pth_legacy", "two_tensors", &targets::legacy_pth(&pkl, &storages));

    for (seed, format) in targets::decode_seeds().iter().zip(["dense", "bitmap", "delta_bitmap", "csc"]) {
        put("decode", format, seed);
    }
}

#[test]
fn safetensors_with_a_128_byte_header_is_not_taken_for_a_pickle() {
    // Found while building the fuzz seeds: the header length's first byte is 0x80, the pickle
    // protocol opcode, and the file was sent to the legacy .pth reader.
    let file =
        targets::safetensors_file(&[("fc.weight", vec![3, 4], vec![0.5; 12]), ("fc.bias", vec![3], vec![1.0; 3])]);
    assert_eq!(file[0], 0x80);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h128.safetensors");
    std::fs::write(&path, &file).unwrap();
    assert_eq!(load_file(&path).unwrap().len(), 2);
}
