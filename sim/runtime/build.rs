//! Compiles the Verilator 5 runtime once and publishes, through `links`
//! metadata, what weightstream-sim's build script needs to compile models
//! that match it: the Verilator binary and root, the trace format, and the
//! C++ defines. The compiled library is cached in
//! `<target dir>/weightstream-sim-models/` and shared by all profiles.

use std::env;
use std::fs;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;

const NOT_FOUND: &str = "weightstream-sim: verilator not found on PATH; install it \
(apt-get install -y verilator) or build weightstream with --no-default-features";

/// Stop the build with one readable message (no panic backtrace noise).
fn fail(msg: &str) -> ! {
    eprintln!("{msg}");
    std::process::exit(1);
}

fn find_on_path(exe: &str) -> Option<PathBuf> {
    let path = env::var_os("PATH")?;
    env::split_paths(&path).map(|d| d.join(exe)).find(|p| p.is_file())
}

fn run(cmd: &Path, args: &[&str]) -> String {
    match Command::new(cmd).args(args).output() {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).trim().to_string(),
        Ok(o) => fail(&format!(
            "weightstream-sim: `{} {}` failed: {}",
            cmd.display(),
            args.join(" "),
            String::from_utf8_lossy(&o.stderr).trim()
        )),
        Err(e) => fail(&format!("weightstream-sim: cannot run {}: {e}", cmd.display())),
    }
}

fn compile(include: &Path, defines: &[(&str, &str)], fst: bool) {
    let mut b = cc::Build::new();
    b.cpp(true)
        .std("gnu++17")
        .include(include)
        .include(include.join("vltstd"))
        // Optimise even in debug builds: the runtime sits in every eval.
        .opt_level(2)
        .debug(false)
        .warnings(false)
        .flag("-w")
        .flag_if_supported("-faligned-new")
        .cargo_metadata(false)
        // Our vl_finish (runtime.cpp) replaces the one that exit()s the process.
        .define("VL_USER_FINISH", None)
        .file(include.join("verilated.cpp"))
        .file(include.join("verilated_threads.cpp"))
        .file("runtime.cpp");
    for (k, v) in defines {
        b.define(k, Some(*v));
    }
    if fst {
        b.file(include.join("verilated_fst_c.cpp"));
    } else {
        b.file(include.join("verilated_vcd_c.cpp"));
    }
    b.compile("wsv_verilated");
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=runtime.cpp");
    println!("cargo:rerun-if-env-changed=VERILATOR_ROOT");

    let verilator = find_on_path("verilator").unwrap_or_else(|| fail(NOT_FOUND));
    // "Verilator 5.006 2023-01-22 rev (Debian 5.006-3)"
    let version = run(&verilator, &["--version"]);
    let number = version.split_whitespace().nth(1).unwrap_or("");
    if !number.starts_with("5.") {
        fail(&format!("weightstream-sim: needs Verilator 5.x (tested with 5.006), found `{version}`"));
    }
    let root = PathBuf::from(run(&verilator, &["--getenv", "VERILATOR_ROOT"]));
    let include = root.join("include");
    if !include.join("verilated.cpp").is_file() {
        fail(&format!("weightstream-sim: Verilator runtime sources not found in {}", include.display()));
    }

    // Rebuild after a Verilator upgrade (cargo cannot see it otherwise).
    println!("cargo:rerun-if-changed={}", verilator.display());
    println!("cargo:rerun-if-changed={}", include.join("verilated.cpp").display());

    let fst = env::var_os("CARGO_FEATURE_FST").is_some();
    // The same defines verilated.mk passes; models are compiled with these too.
    let defines: &[(&str, &str)] = &[
        ("VM_COVERAGE", "0"),
        ("VM_SC", "0"),
        ("VM_TRACE", "1"),
        ("VM_TRACE_VCD", if fst { "0" } else { "1" }),
        ("VM_TRACE_FST", if fst { "1" } else { "0" }),
    ];

    // The runtime compiles the same way in every profile (dev, test,
    // release), but each profile has its own OUT_DIR: share the library
    // through a content-keyed cache in the target dir.
    let out_dir = PathBuf::from(env::var("OUT_DIR").unwrap());
    let lib = "libwsv_verilated.a";
    let mut key = std::collections::hash_map::DefaultHasher::new();
    (&version, &include, &defines, include_str!("runtime.cpp"), include_str!("build.rs")).hash(&mut key);
    for v in ["TARGET", "CXX", "CXXFLAGS", "CRATE_CC_NO_DEFAULTS"] {
        env::var(v).ok().hash(&mut key);
    }
    let cache = out_dir.ancestors().nth(4).map(|t| t.join("weightstream-sim-models"));
    let entry = cache.as_ref().map(|c| c.join(format!("verilated-runtime-{:016x}", key.finish())));
    let hit = entry.as_ref().is_some_and(|e| fs::copy(e.join(lib), out_dir.join(lib)).is_ok());
    if !hit {
        compile(&include, defines, fst);
        if let Some(e) = &entry {
            // Best effort: a failure only costs a recompile later.
            let tmp = e.with_extension(format!("tmp{}", std::process::id()));
            let ok = fs::create_dir_all(&tmp).is_ok()
                && fs::copy(out_dir.join(lib), tmp.join(lib)).is_ok()
                && fs::rename(&tmp, e).is_ok();
            if !ok {
                let _ = fs::remove_dir_all(&tmp);
            }
        }
    }
    println!("cargo:rustc-link-search=native={}", out_dir.display());
    println!("cargo:rustc-link-lib=static=wsv_verilated");
    println!("cargo:rustc-link-lib=stdc++");
    if fst {
        // FST writer: zlib for compression, pthread for its writer thread.
        println!("cargo:rustc-link-lib=z");
    }
    println!("cargo:rustc-link-lib=pthread");

    let defs: Vec<String> = defines.iter().map(|(k, v)| format!("{k}={v}")).collect();
    println!("cargo:verilator={}", verilator.display());
    println!("cargo:version={number}");
    println!("cargo:root={}", root.display());
    println!("cargo:include={}", include.display());
    println!("cargo:trace={}", if fst { "fst" } else { "vcd" });
    println!("cargo:defines={}", defs.join(","));
}
