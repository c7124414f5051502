//! The on-demand build cache and an installed binary: a cached model or testbench damaged outside
//! weightstream (truncated, altered) is rebuilt, or refused with one line and a failing exit
//! status, never mapped (a truncated library killed `cosim` with SIGBUS); a copy of the binary
//! with the source tree out of reach co-simulates a design point that is not built in, from the
//! RTL it carries; an error prints each cause once. Each test builds tiny tops into its own
//! temporary cache (about 10-20 s on 2 cores).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use weightstream_sim::{build_testbench, BuildEvent, BuildRequest};

use crate::util::cli;

/// `cosim` of one small layer through the dense top at a point that is not built in.
fn cosim_tiny(cache: &Path) -> Output {
    cli()
        .env("WEIGHTSTREAM_CACHE", cache)
        .env_remove("WEIGHTSTREAM_RTL_DIR")
        .args(["cosim", "--model", "synthetic:mobilenet_v2", "--format", "dense", "--layers", "features.0.0"])
        .args(["--lanes", "3", "--bus-bits", "16", "--bits", "3", "--quiet"])
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).to_string()
}

/// The one cache entry of the dense model at N=3 Q=3 B=16.
fn entry(cache: &Path) -> PathBuf {
    let models = cache.join("models");
    let found: Vec<PathBuf> = fs::read_dir(&models)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir() && p.file_name().unwrap().to_string_lossy().starts_with("ws_top_dense_n3_q3_b16"))
        .collect();
    assert_eq!(found.len(), 1, "{found:?}");
    found[0].clone()
}

/// Recorded size of `file` in the entry's record.
fn recorded_size(record: &Path, file: &str) -> u64 {
    let t = fs::read_to_string(record).unwrap();
    let line = t.lines().find(|l| l.ends_with(&format!(" {file}"))).unwrap_or_else(|| panic!("{t}"));
    line.split(' ').nth(1).unwrap().parse().unwrap()
}

#[test]
fn a_damaged_cached_model_is_rebuilt_or_refused_in_one_line() {
    let cache = tempfile::tempdir().unwrap();
    let ok = |out: &Output, what: &str| {
        assert!(out.status.success(), "{what}: {:?}\n{}", out.status, text(&out.stderr));
        assert!(text(&out.stdout).contains("0 with mismatches"), "{what}: {}", text(&out.stdout));
    };
    ok(&cosim_tiny(cache.path()), "first build");
    let e = entry(cache.path());
    let (lib, record) = (e.join("fast.so"), e.join("fast.sha256"));
    let size = recorded_size(&record, "fast.so");
    assert_eq!(fs::metadata(&lib).unwrap().len(), size);

    // Truncated (the SIGBUS of old): rebuilt, and said so.
    let f = fs::OpenOptions::new().write(true).open(&lib).unwrap();
    f.set_len(size / 3).unwrap();
    drop(f);
    let out = cosim_tiny(cache.path());
    ok(&out, "truncated");
    let err = text(&out.stderr);
    assert!(err.contains(&format!("is damaged (fast.so is {} bytes, recorded {size}): rebuilding", size / 3)), "{err}");
    assert_eq!(fs::metadata(&lib).unwrap().len(), recorded_size(&record, "fast.so"));

    // Altered in place, same size: the SHA-256 sees it.
    let mut bytes = fs::read(&lib).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x5a;
    fs::write(&lib, &bytes).unwrap();
    let out = cosim_tiny(cache.path());
    ok(&out, "altered");
    assert!(text(&out.stderr).contains("fast.so does not have the recorded SHA-256"), "{}", text(&out.stderr));

    // Damaged and impossible to rebuild (its lock cannot be taken): refused in one line, a
    // failing exit status, no signal, nothing mapped.
    fs::write(&lib, b"not a library").unwrap();
    let lock = e.with_extension("fast.lock");
    let _ = fs::remove_file(&lock);
    fs::create_dir(&lock).unwrap();
    let out = cosim_tiny(cache.path());
    assert_eq!(out.status.code(), Some(1), "{:?}", out.status);
    let err = text(&out.stderr);
    let lines: Vec<&str> = err.lines().filter(|l| !l.starts_with("rtl: ")).collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(lines[0].starts_with("weightstream: error: ") && lines[0].contains("fast.so: damaged"), "{err}");
    assert!(lines[0].contains("not rebuilt") && lines[0].contains("Is a directory"), "{err}");
}

/// The C++ testbench of the harness's own tiny top, rebuilt when damaged, refused when it cannot be.
#[test]
fn a_damaged_cached_testbench_is_rebuilt_or_refused() {
    let cache = tempfile::tempdir().unwrap();
    let req = BuildRequest {
        name: "ws_sim_selftest_tb".into(),
        top: "ws_sim_selftest".into(),
        param_set: String::new(),
        params: vec![],
        rtl_dir: Path::new(env!("CARGO_MANIFEST_DIR")).join("sim/tests/rtl"),
        cache_dir: cache.path().to_path_buf(),
    };
    let main = "#include \"VwsvTb.h\"\nint main() { VwsvTb* m = new VwsvTb; m->eval(); delete m; return 0; }\n";
    let mut events = Vec::new();
    let tb = build_testbench(&req, main, &mut |e| events.push(e)).unwrap();
    assert!(Command::new(&tb).status().unwrap().success());
    fs::write(&tb, b"#!/bin/sh\nexit 3\n").unwrap();
    let mut events = Vec::new();
    let again = build_testbench(&req, main, &mut |e| events.push(e)).unwrap();
    assert_eq!(again, tb);
    assert!(
        events.iter().any(|e| matches!(e, BuildEvent::Damaged { why, .. } if why.contains("tb is 17 bytes"))),
        "{events:?}"
    );
    assert!(Command::new(&tb).status().unwrap().success(), "the rebuilt testbench runs");

    fs::write(&tb, b"").unwrap();
    let lock = tb.parent().unwrap().with_extension("lock");
    let _ = fs::remove_file(&lock);
    fs::create_dir(&lock).unwrap();
    let err = build_testbench(&req, main, &mut |_| {}).unwrap_err().to_string();
    assert!(!err.contains('\n') && err.contains("tb: damaged (tb is 0 bytes") && err.contains("not rebuilt"), "{err}");
}

/// A copy of the binary elsewhere, run from elsewhere with the source tree's rtl/ hidden (a
/// tmpfs mounted over it in a private mount namespace, where `unshare` allows), co-simulates
/// N=7 B=24 Q=5 (not built in) from the RTL it carries, written out into its cache.
#[test]
fn an_installed_copy_cosimulates_a_point_that_is_not_built_in() {
    let tmp = tempfile::tempdir().unwrap();
    let (bin_dir, cwd, cache) = (tmp.path().join("bin"), tmp.path().join("elsewhere"), tmp.path().join("cache"));
    fs::create_dir_all(&bin_dir).unwrap();
    fs::create_dir_all(&cwd).unwrap();
    let bin = bin_dir.join("weightstream");
    fs::copy(env!("CARGO_BIN_EXE_weightstream"), &bin).unwrap();
    let src_rtl = Path::new(env!("CARGO_MANIFEST_DIR")).join("rtl");
    let hide = Command::new("unshare").args(["-rm", "true"]).output().is_ok_and(|o| o.status.success());
    if !hide {
        eprintln!("unshare -rm is not allowed here: the source tree stays visible (the binary does not read it)");
    }
    let run_copy = |args: &[&str]| {
        let mut cmd = if hide {
            let mut c = Command::new("unshare");
            c.args(["-rm", "sh", "-c", r#"mount -t tmpfs none "$1" && [ -z "$(ls -A "$1")" ] && shift && exec "$@""#]);
            c.arg("sh").arg(&src_rtl).arg(&bin);
            c
        } else {
            Command::new(&bin)
        };
        cmd.args(args).current_dir(&cwd).env("WEIGHTSTREAM_CACHE", &cache).env_remove("WEIGHTSTREAM_RTL_DIR");
        cmd.output().unwrap()
    };
    let out = run_copy(&[
        "cosim",
        "--model",
        "synthetic:mobilenet_v2",
        "--format",
        "dense",
        "--layers",
        "features.0.0",
        "--lanes",
        "7",
        "--bus-bits",
        "24",
        "--bits",
        "5",
        "--quiet",
    ]);
    assert!(out.status.success(), "{:?}\n{}{}", out.status, text(&out.stdout), text(&out.stderr));
    let summary = "1 runs, 135 beats and 32 outputs verified, 0 with mismatches";
    assert!(text(&out.stdout).contains(summary), "{}", text(&out.stdout));
    // Built from the carried RTL, written into the cache: the source tree's, byte for byte.
    let written: Vec<PathBuf> = fs::read_dir(cache.join("rtl")).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(written.len(), 1, "{written:?}");
    for f in ["ws_top_core.v", "ws_defs.vh", "ws_rtl.toml"] {
        assert_eq!(fs::read(written[0].join(f)).unwrap(), fs::read(src_rtl.join(f)).unwrap(), "{f}");
    }
    assert!(fs::read_dir(cache.join("models")).unwrap().any(|e| e.unwrap().path().join("fast.sha256").is_file()));
    // `cost` synthesizes from the same carried RTL (yosys, a few seconds at N=2).
    if Command::new("yosys").arg("-V").output().is_ok_and(|o| o.status.success()) {
        let out = run_copy(&[
            "cost",
            "--format",
            "dense",
            "--lanes",
            "2",
            "--bits",
            "4",
            "--bus-bits",
            "8",
            "--max-rows",
            "16",
            "--no-fpga",
        ]);
        let out2 = (text(&out.stdout), text(&out.stderr));
        assert!(out.status.success(), "{:?}\n{}{}", out.status, out2.0, out2.1);
        assert!(out2.0.lines().any(|l| l.starts_with("front-end ") && l.contains(" dense ")), "{}", out2.0);
    } else {
        eprintln!("yosys is not installed: `cost` from the installed copy is not checked");
    }
    assert!(fs::read_dir(&cwd).unwrap().next().is_none(), "nothing written where it ran");

    // $WEIGHTSTREAM_RTL_DIR still overrides, and a failure prints each cause once.
    let out = Command::new(&bin)
        .args(["cosim", "--model", "synthetic:mobilenet_v2", "--format", "dense", "--layers", "features.0.0"])
        .args(["--lanes", "7", "--bus-bits", "24", "--bits", "5", "--quiet"])
        .current_dir(&cwd)
        .env("WEIGHTSTREAM_CACHE", &cache)
        .env("WEIGHTSTREAM_RTL_DIR", tmp.path().join("no-rtl-here"))
        .output()
        .unwrap();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert_eq!(err.matches("No such file or directory").count(), 1, "{err}");
    assert_eq!(err.matches("building a model on demand").count(), 1, "{err}");
}
