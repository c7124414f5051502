//! Hostile stream directories and outputs that would destroy inputs: `check` refuses paths out of
//! its directory, symlinks, devices and FIFOs, impossible shapes and sizes, edited manifests, and
//! catches every single-bit flip of every `.bin` and `.hex` (naming the layer and the offset);
//! commands refuse to overwrite their inputs, each other's outputs, and non-empty directories
//! without `--force`, and `--force` removes only what the previous run owned.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use weightstream::blocks::encode_blocks;
use weightstream::emit::{check_dir, check_stream, read_manifest, StreamEmitter};
use weightstream::{Format, QuantMatrix, StreamParams};

use crate::util::cli;

/// A small deterministic float checkpoint: layers whose names collide once sanitized.
fn tiny_model(dir: &Path) -> PathBuf {
    crate::util::tiny_safetensors(dir, &[("a/b.weight", vec![20, 3, 3]), ("a_b.weight", vec![24, 7])], 12345)
}

/// Runs the CLI; returns (success, stderr).
fn run(args: &[&str]) -> (bool, String) {
    let out = cli().args(args).output().unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// The CLI fails with one line naming every `needles`, and no panic.
fn fails(args: &[&str], needles: &[&str]) -> String {
    let (ok, err) = run(args);
    assert!(!ok, "{args:?} succeeded");
    assert_eq!(err.lines().count(), 1, "{args:?}: not one line: {err}");
    assert!(!err.contains("panicked") && !err.contains("RUST_BACKTRACE"), "{err}");
    for n in needles {
        assert!(err.contains(n), "{args:?}: {err:?} does not name {n:?}");
    }
    err
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `report --emit-streams` of the tiny model (row blocks of 16) into `dir/streams`.
fn emit_cli(dir: &Path) -> PathBuf {
    let model = tiny_model(dir);
    let streams = dir.join("streams");
    let (ok, err) =
        run(&["report", "--quiet", "--model", s(&model), "--max-rows", "16", "--emit-streams", s(&streams)]);
    assert!(ok, "{err}");
    streams
}

/// Edits the manifest as JSON.
fn edit(streams: &Path, f: impl FnOnce(&mut Value)) {
    let path = streams.join("manifest.json");
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    f(&mut v);
    std::fs::write(&path, serde_json::to_string_pretty(&v).unwrap()).unwrap();
}

/// A fresh emitted directory, the manifest edited by `f`, then `check` fails naming `needles`.
fn check_fails_after(f: impl FnOnce(&Path, &mut Value), needles: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let streams = emit_cli(dir.path());
    let path = streams.join("manifest.json");
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    f(&streams, &mut v);
    std::fs::write(&path, serde_json::to_string_pretty(&v).unwrap()).unwrap();
    fails(&["check", s(&streams)], needles)
}

#[test]
fn check_refuses_paths_out_of_the_directory() {
    let dir = tempfile::tempdir().unwrap();
    let streams = emit_cli(dir.path());
    assert!(run(&["check", s(&streams)]).0);
    let secret = dir.path().join("secret.bin");
    std::fs::write(&secret, vec![7u8; 4096]).unwrap();
    let original = read_manifest(&streams.join("manifest.json")).unwrap().streams[0].bin.clone();
    for bad in ["../secret.bin", "/etc/passwd", "sub/x.bin", "", ".."] {
        edit(&streams, |v| v["streams"][0]["bin"] = bad.into());
        let err = fails(&["check", s(&streams)], &["a/b.weight", "not a plain file name"]);
        assert!(!err.contains("4096"), "{err}");
        edit(&streams, |v| v["streams"][0]["bin"] = original.as_str().into());
    }
    assert!(run(&["check", s(&streams)]).0);
}

#[test]
fn check_refuses_symlinks_devices_and_fifos() {
    let dir = tempfile::tempdir().unwrap();
    let streams = emit_cli(dir.path());
    let m = read_manifest(&streams.join("manifest.json")).unwrap();
    let e = &m.streams[0];
    let victim = streams.join(&e.bin);
    let saved = std::fs::read(&victim).unwrap();
    // A symlink to a file outside, of exactly the right size: refused, its size never shown.
    let outside = dir.path().join("outside.bin");
    std::fs::write(&outside, &saved).unwrap();
    std::fs::remove_file(&victim).unwrap();
    std::os::unix::fs::symlink(&outside, &victim).unwrap();
    fails(&["check", s(&streams)], &[&e.bin, &e.layer, "symbolic link"]);
    // /dev/zero through a symlink: refused without reading.
    std::fs::remove_file(&victim).unwrap();
    std::os::unix::fs::symlink("/dev/zero", &victim).unwrap();
    fails(&["check", s(&streams)], &[&e.bin, "symbolic link"]);
    // A FIFO: refused at once, no hang.
    std::fs::remove_file(&victim).unwrap();
    assert!(Command::new("mkfifo").arg(&victim).status().unwrap().success());
    let mut child = cli().arg("check").arg(&streams).stderr(Stdio::piped()).spawn().unwrap();
    let t0 = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if t0.elapsed() > Duration::from_secs(20) {
            child.kill().unwrap();
            panic!("check hangs on a FIFO");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("FIFO") && err.contains(&e.bin) && err.lines().count() == 1, "{err}");
    // A symlinked manifest is refused too.
    std::fs::remove_file(&victim).unwrap();
    std::fs::write(&victim, &saved).unwrap();
    assert!(run(&["check", s(&streams)]).0);
    let real = dir.path().join("m.json");
    std::fs::rename(streams.join("manifest.json"), &real).unwrap();
    std::os::unix::fs::symlink(&real, streams.join("manifest.json")).unwrap();
    fails(&["check", s(&streams)], &["manifest.json", "symbolic link"]);
}

#[test]
fn check_refuses_impossible_shapes_before_allocating() {
    // rows = 2^30 used to abort allocating 16 GiB.
    check_fails_after(|_, v| v["streams"][0]["rows"] = (1u64 << 30).into(), &["a/b.weight", "rows"]);
    // Many columns: more than the stream's bits can hold.
    check_fails_after(|_, v| v["streams"][0]["cols"] = (1u64 << 40).into(), &["a/b.weight", "cannot be encoded"]);
    // rows x cols wraps.
    check_fails_after(
        |_, v| {
            v["streams"][0]["rows"] = 65535.into();
            v["streams"][0]["cols"] = (u64::MAX / 1000).into();
        },
        &["a/b.weight", "overflows"],
    );
    // CSC can describe a tall empty layer in a few bits (one P-bit count a column): 65535 rows
    // and one column per stream bit would decode into far more memory than the file is worth.
    check_fails_after(
        |_, v| {
            let e = v["streams"].as_array_mut().unwrap().iter_mut().find(|e| e["format"] == "csc").unwrap();
            let bits = e["bits"].as_u64().unwrap();
            e["rows"] = 65535.into();
            e["count_bits"] = 1.into();
            e["cols"] = bits.into();
        },
        &["csc", "values from", "more than check decodes in memory"],
    );
}

#[test]
fn check_refuses_wrong_figures_and_edited_entries() {
    let e = check_fails_after(
        |_, v| {
            let w = v["streams"][1]["words"].as_u64().unwrap();
            v["streams"][1]["words"] = (w + 1).into();
        },
        &["a/b.weight", "words"],
    );
    assert!(e.contains("manifest.json"), "{e}");
    check_fails_after(
        |_, v| {
            let b = v["streams"][2]["bits"].as_u64().unwrap();
            v["streams"][2]["bits"] = (b - 8).into();
        },
        &["bits"],
    );
    // Words, bits and file sizes changed together: the file is shorter than the manifest says.
    check_fails_after(
        |_, v| {
            let e = &mut v["streams"][3];
            let (w, b) = (e["words"].as_u64().unwrap(), e["bus_bits"].as_u64().unwrap());
            e["words"] = (w + 1).into();
            e["bits"] = ((w + 1) * b).into();
            e["padding_bits"] = (e["padding_bits"].as_u64().unwrap() + b).into();
            e["bin_bytes"] = ((w + 1) * b / 8).into();
            e["hex_bytes"] = ((w + 1) * (b / 4 + 1)).into();
        },
        &["a/b.weight", "the manifest says"],
    );
    // Payload / metadata split moved: the re-encoded stream's sizes differ.
    check_fails_after(
        |_, v| {
            let e = &mut v["streams"][5];
            e["payload_bits"] = (e["payload_bits"].as_u64().unwrap() - 1).into();
            e["metadata_bits"] = (e["metadata_bits"].as_u64().unwrap() + 1).into();
        },
        &["payload/metadata/padding"],
    );
    check_fails_after(|_, v| v["streams"] = Value::Array(vec![]), &["manifest.json", "no streams"]);
    check_fails_after(|_, v| v.as_object_mut().unwrap().remove("version").map(|_| ()).unwrap(), &["version"]);
    check_fails_after(|_, v| v["version"] = 3.into(), &["version 3"]);
    let e = check_fails_after(|_, v| v.as_object_mut().unwrap().remove("streams").map(|_| ()).unwrap(), &["streams"]);
    assert_eq!(e.matches("missing field").count(), 1, "cause printed once: {e}");
    // Swapped rows and cols, on every entry in turn: caught each time.
    let dir = tempfile::tempdir().unwrap();
    let streams = emit_cli(dir.path());
    let n = read_manifest(&streams.join("manifest.json")).unwrap().streams.len();
    let text = std::fs::read_to_string(streams.join("manifest.json")).unwrap();
    for i in 0..n {
        std::fs::write(streams.join("manifest.json"), &text).unwrap();
        edit(&streams, |v| {
            let e = &mut v["streams"][i];
            let (r, c) = (e["rows"].clone(), e["cols"].clone());
            e["rows"] = c;
            e["cols"] = r;
        });
        assert!(check_dir(&streams.join("manifest.json")).is_err(), "swapped rows/cols of entry {i} passed");
    }
    fails(&["check", s(&streams)], &["a_b.weight"]);
}

#[test]
fn hex_corruption_is_caught_with_its_offset() {
    let dir = tempfile::tempdir().unwrap();
    let streams = emit_cli(dir.path());
    let m = read_manifest(&streams.join("manifest.json")).unwrap();
    let e = &m.streams[1];
    let path = streams.join(&e.hex);
    let mut hex = std::fs::read(&path).unwrap();
    hex[5] = if hex[5] == b'7' { b'8' } else { b'7' };
    std::fs::write(&path, &hex).unwrap();
    fails(&["check", s(&streams)], &[&e.hex, &e.layer, "file byte 5"]);
    hex[5] = b'G';
    std::fs::write(&path, &hex).unwrap();
    fails(&["check", s(&streams)], &[&e.hex, "file byte 5", "not a lowercase hex digit"]);
}

/// Every bit of every `.bin` and `.hex` of a small emission in all four formats, flipped one at a
/// time: each flip is an error naming the layer, the file and the place.
#[test]
fn every_single_bit_flip_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let streams = dir.path().join("s");
    let p =
        StreamParams { lanes: 4, weight_bits: 4, bus_bits: 16, run_bits: 2, count_bits: 4, ..StreamParams::default() };
    let mut seed = 7u32;
    let mut layer = |rows: usize, cols: usize| {
        let data = (0..rows * cols)
            .map(|_| {
                seed = seed.wrapping_mul(1103515245).wrapping_add(12345);
                let v = ((seed >> 16) % 15) as i32 - 7;
                if (seed >> 8) % 3 == 0 {
                    v
                } else {
                    0
                }
            })
            .collect();
        QuantMatrix { rows, cols, bits: 4, data }
    };
    let layers = [("conv/1.weight", layer(9, 60)), ("conv_1.weight", layer(6, 70))];
    let mut em = StreamEmitter::new(&streams, "flips").unwrap();
    for (name, w) in &layers {
        let bs: Vec<_> = Format::ALL.iter().map(|&f| encode_blocks(f, w, &p, 5).unwrap()).collect();
        em.write_layer(name, &bs).unwrap();
    }
    em.finish().unwrap();
    let m = read_manifest(&streams.join("manifest.json")).unwrap();
    assert_eq!(check_dir(&streams.join("manifest.json")).unwrap().len(), m.streams.len());
    let (mut flips, mut caught, mut total_bytes) = (0u64, 0u64, 0usize);
    for e in &m.streams {
        let bin = std::fs::read(streams.join(&e.bin)).unwrap();
        let hex = std::fs::read(streams.join(&e.hex)).unwrap();
        total_bytes += bin.len() + hex.len();
        let block = if e.blocks > 1 { format!("{} block {}", e.layer, e.block) } else { e.layer.clone() };
        for i in 0..bin.len() * 8 {
            let mut b = bin.clone();
            b[i / 8] ^= 1 << (i % 8);
            let err = check_stream(&streams, e, &b, &hex).expect_err("a .bin flip passed").to_string();
            flips += 1;
            assert!(
                err.contains(&e.bin) && err.contains(&block) && err.contains(&format!("bit offset {i} ")),
                "bin flip {i}: {err}"
            );
            caught += 1;
        }
        for i in 0..hex.len() * 8 {
            let mut h = hex.clone();
            h[i / 8] ^= 1 << (i % 8);
            let err = check_stream(&streams, e, &bin, &h).expect_err("a .hex flip passed").to_string();
            flips += 1;
            assert!(
                err.contains(&e.hex) && err.contains(&block) && err.contains(&format!("file byte {})", i / 8)),
                "hex flip {i}: {err}"
            );
            caught += 1;
        }
    }
    eprintln!("bit flips: {caught} of {flips} caught in {} streams, {total_bytes} bytes", m.streams.len());
    assert_eq!(caught, flips);
    assert!(flips > 10_000);
    // Once through the CLI, on disk.
    let e = &m.streams[3];
    let mut bin = std::fs::read(streams.join(&e.bin)).unwrap();
    bin[1] ^= 0x10;
    std::fs::write(streams.join(&e.bin), &bin).unwrap();
    fails(&["check", s(&streams)], &[&e.bin, &e.layer, "bit offset 12 "]);
}

#[test]
fn colliding_layer_names_get_distinct_files() {
    let dir = tempfile::tempdir().unwrap();
    let streams = emit_cli(dir.path());
    let m = read_manifest(&streams.join("manifest.json")).unwrap();
    let mut names: Vec<String> = m.streams.iter().flat_map(|e| [e.bin.to_lowercase(), e.hex.to_lowercase()]).collect();
    let n = names.len();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), n, "file names collide");
    assert!(m.streams.iter().any(|e| e.layer == "a/b.weight") && m.streams.iter().any(|e| e.layer == "a_b.weight"));
    assert_eq!(check_dir(&streams.join("manifest.json")).unwrap().len(), n / 2);
}

#[test]
fn outputs_never_overwrite_inputs_or_each_other() {
    let dir = tempfile::tempdir().unwrap();
    let model = tiny_model(dir.path());
    let before = std::fs::read(&model).unwrap();
    let m = s(&model);
    fails(&["report", "--quiet", "--model", m, "--json", m], &["--json", "input", "--model"]);
    let link = dir.path().join("link.json");
    std::os::unix::fs::symlink(&model, &link).unwrap();
    fails(&["report", "--quiet", "--model", m, "--csv", s(&link)], &["--csv", "input"]);
    fails(&["report", "--quiet", "--model", m, "--export-quantized", m], &["--export-quantized", "input"]);
    assert_eq!(std::fs::read(&model).unwrap(), before, "the checkpoint is intact");
    let x = dir.path().join("x.out");
    let x2 = dir.path().join("sub/../x.out");
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    fails(&["report", "--quiet", "--model", m, "--json", s(&x), "--csv", s(&x2)], &["--json", "--csv", "same path"]);
    let out = dir.path().join("bundle");
    fails(
        &["report", "--quiet", "--model", m, "--out", s(&out), "--json", s(&out.join("report.json"))],
        &["inside the output directory"],
    );
    assert!(!x.exists());
    // diff A A --json A.
    let a = dir.path().join("a.json");
    assert!(run(&["report", "--quiet", "--model", m, "--json", s(&a)]).0);
    let a_text = std::fs::read(&a).unwrap();
    fails(&["diff", s(&a), s(&a), "--json", s(&a)], &["--json", "input"]);
    assert_eq!(std::fs::read(&a).unwrap(), a_text);
    assert!(run(&["diff", s(&a), s(&a), "--json", s(&x)]).0);
    // study --csv = --json.
    fails(
        &["study", "--model", m, "--csv", s(&x), "--json", s(&x), "--pipelines", "bitmap"],
        &["--csv", "--json", "same path"],
    );
    // --export-quantized into a missing directory: one line, no debug dump.
    let e = fails(
        &["report", "--quiet", "--model", m, "--export-quantized", s(&dir.path().join("nowhere/q.safetensors"))],
        &["nowhere", "cannot create"],
    );
    assert!(!e.contains("Os {") && !e.contains("kind:"), "{e}");
}

#[test]
fn non_empty_directories_need_force_and_force_removes_only_owned_files() {
    let dir = tempfile::tempdir().unwrap();
    let streams = emit_cli(dir.path());
    let model = dir.path().join("tiny.safetensors");
    let m = s(&model);
    let emit = |extra: &[&str]| {
        let mut args = vec!["report", "--quiet", "--model", m, "--emit-streams", s(&streams)];
        args.extend_from_slice(extra);
        run(&args)
    };
    let manifest_before = std::fs::read(streams.join("manifest.json")).unwrap();
    let (ok, err) = emit(&["--max-rows", "16"]);
    assert!(!ok && err.contains("--force") && err.contains("not empty"), "{err}");
    assert_eq!(std::fs::read(streams.join("manifest.json")).unwrap(), manifest_before);
    // A file of the user's and a stale stream of the old run (a layer gone since).
    std::fs::write(streams.join("notes.txt"), "mine").unwrap();
    let old = read_manifest(&streams.join("manifest.json")).unwrap();
    edit(&streams, |v| {
        let mut e = v["streams"][0].clone();
        e["bin"] = "gone.dense.bin".into();
        e["hex"] = "gone.dense.hex".into();
        v["streams"].as_array_mut().unwrap().push(e);
    });
    std::fs::write(streams.join("gone.dense.bin"), "stale").unwrap();
    std::fs::write(streams.join("gone.dense.hex"), "stale").unwrap();
    let (ok, err) = emit(&["--max-rows", "8", "--force"]);
    assert!(ok, "{err}");
    assert!(!streams.join("gone.dense.bin").exists() && !streams.join("gone.dense.hex").exists());
    assert_eq!(std::fs::read_to_string(streams.join("notes.txt")).unwrap(), "mine");
    let new = read_manifest(&streams.join("manifest.json")).unwrap();
    assert!(new.streams.len() > old.streams.len(), "more blocks at MAX_O 8");
    // Only the new run's files (and the user's) remain: no stale block files of the old run.
    let mut left: Vec<String> =
        std::fs::read_dir(&streams).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    left.sort();
    let mut want: Vec<String> = new.streams.iter().flat_map(|e| [e.bin.clone(), e.hex.clone()]).collect();
    want.extend(["manifest.json".to_string(), "notes.txt".to_string()]);
    want.sort();
    assert_eq!(left, want);
    assert!(run(&["check", s(&streams)]).0);
    // --out too.
    let out = dir.path().join("bundle");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("keep.txt"), "mine").unwrap();
    let (ok, err) = run(&["report", "--quiet", "--model", m, "--out", s(&out)]);
    assert!(!ok && err.contains("--out") && err.contains("--force"), "{err}");
    let (ok, err) = run(&["report", "--quiet", "--model", m, "--out", s(&out), "--force"]);
    assert!(ok, "{err}");
    assert!(out.join("index.html").exists() && out.join("keep.txt").exists());
}
