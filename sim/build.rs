//! Builds one Verilator model per entry of the model table below and
//! generates their Rust bindings (`$OUT_DIR/models.rs`, included by
//! src/models.rs).
//!
//! Per model: `verilator --cc` into a staging dir, read the ports from the
//! generated header, write two unity C++ files — the fast-path classes plus
//! the extern "C" wrapper of cpp/wsv_model.h (-O2, even in debug builds),
//! and the run-once slow-path classes (-O0, as verilated.mk does) — and
//! compile them with `cc` into `libwsv_<model>.a` / `libwsv_<model>_slow.a`.
//! Libraries are cached by content in `<target dir>/weightstream-sim-models`,
//! shared by every profile, so a model whose generated sources did not change
//! is not recompiled and editing one top's RTL recompiles only its models.
//! Models are built on a small thread pool (verilator and g++ are
//! single-threaded per model).
//! The Verilator runtime itself is compiled once by weightstream-verilator-runtime,
//! which hands us its settings through `links` metadata (DEP_WSVERILATED_*).

use std::collections::BTreeMap;
use std::env;
use std::fmt::Write as _;
use std::fs;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::Instant;

#[path = "src/gen.rs"]
mod gen;
use gen::{gen_slow, gen_unity, parse_classes, parse_ports, Dir, Port, VERILATOR_FLAGS};

/// The RTL facts table (`rtl/ws_rtl.toml`): which top, which FORMAT values, which built-in sets.
/// Only what the build needs is read; the meaning of formats stays with the library.
#[derive(serde::Deserialize)]
struct Table {
    top: String,
    formats: Vec<TableFormat>,
    sets: Vec<toml::Table>,
}

#[derive(serde::Deserialize)]
struct TableFormat {
    name: String,
    code: i64,
}

/// The crate's own self-test top (tests/rtl), always built: it is tiny.
const SELFTEST_TOP: &str = "ws_sim_selftest";

/// Bump to invalidate cached model libraries after a change to how they are compiled.
const COMPILE_KEY_VERSION: u32 = 1;

/// Cached library sets kept per model (older ones are deleted).
const CACHE_KEEP: usize = 3;

const NOT_FOUND: &str = "weightstream-sim: verilator not found on PATH; install it \
(apt-get install -y verilator) or build weightstream with --no-default-features";

struct Spec {
    /// Registry name and C symbol stem, e.g. `ws_top_bitmap_n16_q8_b64`.
    inst: String,
    /// Rust struct name, e.g. `WsTopBitmapN16Q8B64`.
    struct_name: String,
    top: String,
    param_set: String,
    params: Vec<(String, i64)>,
    /// Directory holding `<top>.v` and the modules it instantiates.
    rtl_dir: PathBuf,
    test_only: bool,
}

struct Built {
    ports: Vec<Port>,
    warnings: Vec<String>,
    verilate_s: f64,
    /// None if every library came from the cache.
    compile_s: Option<f64>,
    /// Untraced and traced.
    variants: Vec<Variant>,
}

/// One Verilated variant of a model (stem `<model>` or `<model>_tr`).
struct Variant {
    stem: String,
    gen: PathBuf,
    /// Cache directory for its libraries.
    entry: PathBuf,
    units: Vec<Unit>,
    cached: bool,
    failed: bool,
}

/// One C++ translation unit -> static library.
struct Unit {
    file: String,
    opt: u32,
    lib: String,
    size: u64,
}

struct Ctx {
    verilator: PathBuf,
    include: PathBuf,
    defines: Vec<(String, String)>,
    trace_flag: &'static str,
    out_dir: PathBuf,
    lib_dir: PathBuf,
    /// Content-addressed model libraries shared by all profiles of one target dir.
    cache_dir: PathBuf,
    cpp_dir: PathBuf,
    extra_args: Vec<String>,
}

fn fail(msg: &str) -> ! {
    eprintln!("{msg}");
    std::process::exit(1);
}

fn camel(s: &str) -> String {
    s.split('_')
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            let first = c.next().unwrap().to_ascii_uppercase();
            std::iter::once(first).chain(c).collect::<String>()
        })
        .collect()
}

fn find_top_file(dir: &Path, top: &str) -> Option<PathBuf> {
    ["v", "sv"].iter().map(|ext| dir.join(format!("{top}.{ext}"))).find(|p| p.is_file())
}

fn main() {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let out_dir = PathBuf::from(env::var("OUT_DIR").unwrap());
    let rtl_dir =
        env::var_os("WEIGHTSTREAM_RTL_DIR").map(PathBuf::from).unwrap_or_else(|| manifest.join("..").join("rtl"));
    let selftest_dir = manifest.join("tests").join("rtl");

    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=cpp");
    println!("cargo:rerun-if-changed={}", rtl_dir.display());
    println!("cargo:rerun-if-changed={}", selftest_dir.display());
    for v in [
        "WEIGHTSTREAM_RTL_DIR",
        "WEIGHTSTREAM_SIM_MODELS",
        "WEIGHTSTREAM_SIM_VERILATOR_ARGS",
        "WEIGHTSTREAM_SIM_TIMINGS",
        "WEIGHTSTREAM_SIM_CACHE",
    ] {
        println!("cargo:rerun-if-env-changed={v}");
    }

    // Settings of the runtime we link against (see runtime/build.rs).
    let dep = |k: &str| env::var(format!("DEP_WSVERILATED_{k}")).ok();
    let verilator = dep("VERILATOR").map(PathBuf::from).unwrap_or_else(|| fail(NOT_FOUND));
    if !verilator.is_file() {
        fail(NOT_FOUND);
    }
    let include = PathBuf::from(dep("INCLUDE").expect("runtime metadata: include"));
    let trace = dep("TRACE").unwrap_or_else(|| "vcd".into());
    // For models built at run time (src/dynamic.rs): compiled the way the runtime is.
    println!("cargo:rustc-env=WSV_RUNTIME_DEFINES={}", dep("DEFINES").unwrap_or_default());
    println!("cargo:rustc-env=WSV_RUNTIME_TRACE={trace}");
    let defines = dep("DEFINES")
        .unwrap_or_default()
        .split(',')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();

    // Optional filter for fast iteration: comma list of model names or tops.
    let filter: Option<Vec<String>> = env::var("WEIGHTSTREAM_SIM_MODELS")
        .ok()
        .filter(|s| !s.trim().is_empty())
        .map(|s| s.split(',').map(|x| x.trim().to_string()).collect());

    let mut specs = vec![Spec {
        inst: SELFTEST_TOP.to_string(),
        struct_name: camel(SELFTEST_TOP),
        top: SELFTEST_TOP.to_string(),
        param_set: String::new(),
        params: vec![],
        rtl_dir: selftest_dir,
        test_only: true,
    }];
    // Every format of the table at every built-in set: `ws_top_core` with FORMAT = its code,
    // registered as `ws_top_<format>_<set>`.
    let table_path = rtl_dir.join("ws_rtl.toml");
    println!("cargo:rerun-if-changed={}", table_path.display());
    let table: Table = fs::read_to_string(&table_path)
        .map_err(|e| e.to_string())
        .and_then(|t| toml::from_str(&t).map_err(|e| e.to_string()))
        .unwrap_or_else(|e| fail(&format!("weightstream-sim: {}: {e}", table_path.display())));
    for f in &table.formats {
        for set in &table.sets {
            let set_name = set
                .get("name")
                .and_then(|v| v.as_str())
                .unwrap_or_else(|| fail(&format!("weightstream-sim: {}: a set without a name", table_path.display())));
            let mut params = vec![("FORMAT".to_string(), f.code)];
            for (k, v) in set.iter().filter(|(k, _)| *k != "name") {
                let v = v.as_integer().unwrap_or_else(|| {
                    fail(&format!("weightstream-sim: {}: set {set_name}: {k} is not an integer", table_path.display()))
                });
                params.push((k.clone(), v));
            }
            let inst = format!("ws_top_{}_{set_name}", f.name.replace('-', "_"));
            specs.push(Spec {
                struct_name: camel(&inst),
                inst,
                top: table.top.clone(),
                param_set: set_name.to_string(),
                params,
                rtl_dir: rtl_dir.clone(),
                test_only: false,
            });
        }
    }

    // Decide what to build; everything else is reported as missing.
    let mut todo = Vec::new();
    let mut missing = Vec::new();
    for (i, s) in specs.iter().enumerate() {
        let wanted = s.test_only || filter.as_ref().is_none_or(|f| f.iter().any(|x| *x == s.inst || *x == s.top));
        if !wanted {
            missing.push((i, "excluded by WEIGHTSTREAM_SIM_MODELS".to_string()));
        } else if let Some(file) = find_top_file(&s.rtl_dir, &s.top) {
            todo.push((i, file));
        } else {
            let why = format!("{}/{}.v not found", s.rtl_dir.display(), s.top);
            println!("cargo:warning=weightstream-sim: {why}; model {} not built", s.inst);
            missing.push((i, why));
        }
    }

    let ctx = Ctx {
        verilator,
        include,
        defines,
        trace_flag: if trace == "fst" { "--trace-fst" } else { "--trace" },
        lib_dir: out_dir.join("lib"),
        cache_dir: cache_dir(&out_dir),
        cpp_dir: manifest.join("cpp"),
        out_dir: out_dir.clone(),
        extra_args: env::var("WEIGHTSTREAM_SIM_VERILATOR_ARGS")
            .map(|s| s.split_whitespace().map(String::from).collect())
            .unwrap_or_default(),
    };
    fs::create_dir_all(&ctx.lib_dir).unwrap();
    fs::create_dir_all(&ctx.cache_dir).unwrap();

    // Two phases on a small pool (verilator and g++ are single-threaded):
    // verilate every model (fast, and decides what is cached), then compile
    // all missing translation units, largest first, so that e.g. the four
    // units of a single edited top keep both cores busy.
    let t0 = Instant::now();
    let jobs: usize = env::var("NUM_JOBS").ok().and_then(|j| j.parse().ok()).unwrap_or(2).max(1);
    let prepared = pool(todo.clone(), jobs, |(i, file)| (i, prepare_model(&ctx, &specs[i], &file)));
    let errors: Vec<&str> = prepared.iter().filter_map(|(_, r)| r.as_ref().err().map(String::as_str)).collect();
    if !errors.is_empty() {
        fail(&errors.join("\n\n"));
    }
    let mut results: BTreeMap<usize, Built> = prepared.into_iter().map(|(i, r)| (i, r.unwrap())).collect();

    let mut units: Vec<(usize, usize, usize, u64)> = Vec::new(); // (model, variant, unit, size)
    for (i, b) in &results {
        for (v, var) in b.variants.iter().enumerate().filter(|(_, v)| !v.cached) {
            for (u, unit) in var.units.iter().enumerate() {
                units.push((*i, v, u, unit.size));
            }
        }
    }
    units.sort_by_key(|u| std::cmp::Reverse(u.3));
    let compiled = pool(units, jobs, |(i, v, u, _)| {
        let t = Instant::now();
        let r = compile(&ctx, &results[&i].variants[v], u);
        (i, v, r.map(|()| t.elapsed().as_secs_f64()))
    });
    let mut errors = Vec::new();
    for (i, v, r) in compiled {
        match r {
            Ok(secs) => *results.get_mut(&i).unwrap().compile_s.get_or_insert(0.0) += secs,
            Err(e) => {
                results.get_mut(&i).unwrap().variants[v].failed = true;
                errors.push(e);
            }
        }
    }
    if !errors.is_empty() {
        fail(&errors.join("\n\n"));
    }
    for b in results.values() {
        for v in b.variants.iter().filter(|v| !v.cached) {
            store(&ctx, v);
        }
    }

    // Lint warnings: once each across models (they mostly share modules).
    let mut seen = std::collections::BTreeSet::new();
    let mut timings = String::new();
    for (i, b) in &results {
        for w in &b.warnings {
            if seen.insert(w.clone()) && seen.len() <= 20 {
                println!("cargo:warning={w}");
            }
        }
        let _ = writeln!(
            timings,
            "{:<32} verilate {:>6.2}s  compile {}",
            specs[*i].inst,
            b.verilate_s,
            b.compile_s.map_or("cached".to_string(), |s| format!("{s:>6.2}s"))
        );
    }
    let _ = writeln!(timings, "total {:.2}s on {jobs} threads", t0.elapsed().as_secs_f64());
    fs::write(out_dir.join("build-times.txt"), &timings).unwrap();
    if env::var_os("WEIGHTSTREAM_SIM_TIMINGS").is_some() {
        for l in timings.lines() {
            println!("cargo:warning={l}");
        }
    }

    println!("cargo:rustc-link-search=native={}", ctx.lib_dir.display());
    for i in results.keys() {
        for stem in [specs[*i].inst.clone(), format!("{}_tr", specs[*i].inst)] {
            println!("cargo:rustc-link-lib=static=wsv_{stem}");
            println!("cargo:rustc-link-lib=static=wsv_{stem}_slow");
        }
    }

    let built: Vec<(usize, &Built)> = results.iter().map(|(i, b)| (*i, b)).collect();
    let rs = gen_rust(&specs, &built, &missing, &trace);
    write_if_changed(&out_dir.join("models.rs"), rs.as_bytes());
}

/// `<target dir>/weightstream-sim-models`: OUT_DIR is
/// `<target>[/<triple>]/<profile>/build/<pkg>-<hash>/out`, and differs per
/// profile (dev, test, release, check), while the C++ is compiled the same way
/// in all of them; sharing the libraries saves a full model rebuild per profile.
fn cache_dir(out_dir: &Path) -> PathBuf {
    if let Some(d) = env::var_os("WEIGHTSTREAM_SIM_CACHE") {
        return PathBuf::from(d);
    }
    out_dir.ancestors().nth(4).map(|t| t.join("weightstream-sim-models")).unwrap_or_else(|| out_dir.join("cache"))
}

fn write_if_changed(path: &Path, data: &[u8]) {
    if fs::read(path).ok().as_deref() != Some(data) {
        fs::write(path, data).unwrap();
    }
}

/// Runs `f` over `items` on `n` threads; results in input order.
fn pool<T: Send, R: Send>(items: Vec<T>, n: usize, f: impl Fn(T) -> R + Sync) -> Vec<R> {
    let count = items.len();
    let queue = Mutex::new(items.into_iter().enumerate().collect::<std::collections::VecDeque<_>>());
    let out = Mutex::new(Vec::with_capacity(count));
    std::thread::scope(|sc| {
        for _ in 0..n.min(count) {
            sc.spawn(|| loop {
                let Some((k, item)) = queue.lock().unwrap().pop_front() else { break };
                let r = f(item);
                out.lock().unwrap().push((k, r));
            });
        }
    });
    let mut out = out.into_inner().unwrap();
    out.sort_by_key(|(k, _)| *k);
    out.into_iter().map(|(_, r)| r).collect()
}

/// Verilates both variants of a model: with tracing (for waveform runs) and
/// without (Verilator keeps every signal for tracing, costing up to ~1.5x
/// speed). The traced one goes first: its trace declarations give the port
/// order both variants share.
fn prepare_model(ctx: &Ctx, s: &Spec, top_file: &Path) -> Result<Built, String> {
    let (ports, warnings, tr, t1) = prepare_variant(ctx, s, top_file, true, None)?;
    let order: Vec<&str> = ports.iter().map(|p| p.name.as_str()).collect();
    let (_, _, fast, t2) = prepare_variant(ctx, s, top_file, false, Some(&order))?;
    Ok(Built { ports, warnings, verilate_s: t1 + t2, compile_s: None, variants: vec![fast, tr] })
}

/// Runs verilator for one variant, writes its unity files and, if its
/// libraries are cached, copies them into place. `order`: port order to
/// follow (else the trace declarations').
fn prepare_variant(
    ctx: &Ctx,
    s: &Spec,
    top_file: &Path,
    traced: bool,
    order: Option<&[&str]>,
) -> Result<(Vec<Port>, Vec<String>, Variant, f64), String> {
    let stem = if traced { format!("{}_tr", s.inst) } else { s.inst.clone() };
    let dir = ctx.out_dir.join("models").join(&stem);
    let stage = dir.join("stage");
    let gen = dir.join("gen");
    let _ = fs::remove_dir_all(&stage);
    fs::create_dir_all(&stage).map_err(|e| e.to_string())?;

    let prefix = format!("V{}{}", s.struct_name, if traced { "Tr" } else { "" });
    let t = Instant::now();
    let mut cmd = Command::new(&ctx.verilator);
    cmd.args(VERILATOR_FLAGS);
    if traced {
        cmd.arg(ctx.trace_flag);
    }
    cmd.arg("--prefix")
        .arg(&prefix)
        .arg("--top-module")
        .arg(&s.top)
        .arg("--Mdir")
        .arg(&stage)
        .arg("-y")
        .arg(&s.rtl_dir)
        .arg(format!("+incdir+{}", s.rtl_dir.display()))
        .arg("+libext+.v+.sv")
        .args(&ctx.extra_args);
    for (k, v) in &s.params {
        cmd.arg(format!("-G{k}={v}"));
    }
    cmd.arg(top_file);
    let out = cmd.output().map_err(|e| format!("weightstream-sim: cannot run verilator: {e}"))?;
    let verilate_s = t.elapsed().as_secs_f64();
    let log = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let _ = fs::write(dir.join("verilator.log"), &log);
    if !out.status.success() {
        return Err(format!(
            "weightstream-sim: verilator failed on {} (model {}):\n{}",
            top_file.display(),
            s.inst,
            log.trim_end()
        ));
    }
    let warnings =
        log.lines().filter(|l| l.starts_with("%Warning")).map(|l| format!("verilator ({}): {l}", s.top)).collect();

    let header = fs::read_to_string(stage.join(format!("{prefix}.h"))).map_err(|e| e.to_string())?;
    let mut ports = parse_ports(&header).map_err(|e| format!("weightstream-sim: {}: {e}", s.inst))?;
    match order {
        Some(order) => {
            let pos = |n: &str| order.iter().position(|o| *o == n);
            if ports.len() != order.len() || ports.iter().any(|p| pos(&p.name).is_none()) {
                return Err(format!("weightstream-sim: {}: traced and untraced ports differ", s.inst));
            }
            ports.sort_by_key(|p| pos(&p.name));
        }
        None => order_ports(&stage, &mut ports),
    }
    let classes = fs::read_to_string(stage.join(format!("{prefix}_classes.mk"))).map_err(|e| e.to_string())?;
    let (fast, slow) = parse_classes(&classes);
    if fast.is_empty() {
        return Err(format!("weightstream-sim: {}: no classes in {prefix}_classes.mk", s.inst));
    }
    let unity_name = format!("wsv_{stem}.cpp");
    let slow_name = format!("wsv_{stem}__slow.cpp");
    fs::write(
        stage.join(&unity_name),
        gen_unity(&s.inst, &format!("wsv_{stem}_vtable"), &prefix, traced, &ports, &fast),
    )
    .map_err(|e| e.to_string())?;
    fs::write(stage.join(&slow_name), gen_slow(&s.inst, &slow)).map_err(|e| e.to_string())?;

    // Content key: the generated sources plus everything else that shapes
    // the objects (defines, shared wrapper header, compiler and its flags).
    let wrapper_h = fs::read(ctx.cpp_dir.join("wsv_model.h")).map_err(|e| e.to_string())?;
    let srcs = sources(&stage).ok_or("cannot read generated sources")?;
    let mut h = std::collections::hash_map::DefaultHasher::new();
    srcs.hash(&mut h);
    (&ctx.defines, &wrapper_h, COMPILE_KEY_VERSION).hash(&mut h);
    for v in ["TARGET", "CXX", "CXXFLAGS", "CRATE_CC_NO_DEFAULTS"] {
        env::var(v).ok().hash(&mut h);
    }
    let entry = ctx.cache_dir.join(format!("{stem}-{:016x}", h.finish()));
    // Size of what each unit includes: a proxy for its compile time.
    let size_of = |classes: &[String]| -> u64 {
        classes.iter().filter_map(|c| srcs.get(&format!("{c}.cpp"))).map(|b| b.len() as u64).sum()
    };
    let units = vec![
        // -O2 even in debug builds: at -O0 a model runs ~10x slower.
        Unit { file: unity_name, opt: 2, lib: format!("wsv_{stem}"), size: size_of(&fast) },
        Unit { file: slow_name, opt: 0, lib: format!("wsv_{stem}_slow"), size: size_of(&slow) / 3 },
    ];

    let _ = fs::remove_dir_all(&gen);
    fs::rename(&stage, &gen).map_err(|e| e.to_string())?;
    let lib_file = |u: &Unit| format!("lib{}.a", u.lib);
    let cached = units.iter().all(|u| entry.join(lib_file(u)).is_file())
        && units.iter().all(|u| fs::copy(entry.join(lib_file(u)), ctx.lib_dir.join(lib_file(u))).is_ok());
    Ok((ports, warnings, Variant { stem, gen, entry, units, cached, failed: false }, verilate_s))
}

/// Puts a variant's libraries into the shared cache (best effort: a failure
/// only costs a recompile later) and keeps the few newest entries per variant.
fn store(ctx: &Ctx, v: &Variant) {
    if v.failed {
        return;
    }
    let tmp = v.entry.with_extension(format!("tmp{}", std::process::id()));
    let _ = fs::remove_dir_all(&tmp);
    let ok = fs::create_dir_all(&tmp).is_ok()
        && v.units.iter().all(|u| {
            let l = format!("lib{}.a", u.lib);
            fs::copy(ctx.lib_dir.join(&l), tmp.join(&l)).is_ok()
        })
        && fs::rename(&tmp, &v.entry).is_ok();
    if !ok {
        let _ = fs::remove_dir_all(&tmp);
        return;
    }
    let prefix = format!("{}-", v.stem);
    let mut old: Vec<(std::time::SystemTime, PathBuf)> = fs::read_dir(&ctx.cache_dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| {
            let n = e.file_name().to_string_lossy().to_string();
            // `stem-<16 hex>` exactly, so `x` never matches `x_tr-...`
            n.strip_prefix(&prefix).is_some_and(|h| h.len() == 16 && h.bytes().all(|b| b.is_ascii_hexdigit()))
        })
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .collect();
    old.sort();
    let n = old.len().saturating_sub(CACHE_KEEP);
    for (_, p) in old.into_iter().take(n) {
        let _ = fs::remove_dir_all(p);
    }
}

fn compile(ctx: &Ctx, v: &Variant, unit: usize) -> Result<(), String> {
    let u = &v.units[unit];
    let mut b = cc::Build::new();
    b.cpp(true)
        .std("gnu++17")
        .include(&ctx.include)
        .include(ctx.include.join("vltstd"))
        .include(&v.gen)
        .include(&ctx.cpp_dir)
        .opt_level(u.opt)
        .debug(false)
        .warnings(false)
        .flag("-w")
        .flag("-faligned-new")
        .cargo_metadata(false)
        .emit_rerun_if_env_changed(false)
        .out_dir(&ctx.lib_dir)
        .file(v.gen.join(&u.file));
    for (k, val) in &ctx.defines {
        b.define(k, Some(val.as_str()));
    }
    b.try_compile(&u.lib).map_err(|e| format!("weightstream-sim: compiling {} failed: {e}", u.file))
}

/// The generated sources of a model dir (.cpp/.h/.mk; .d/.dat carry
/// timestamps and file lists, not code), by name.
fn sources(dir: &Path) -> Option<BTreeMap<String, Vec<u8>>> {
    let mut m = BTreeMap::new();
    for e in fs::read_dir(dir).ok()? {
        let p = e.ok()?.path();
        let name = p.file_name()?.to_string_lossy().to_string();
        if name.ends_with(".cpp") || name.ends_with(".h") || name.ends_with(".mk") {
            m.insert(name, fs::read(&p).ok()?);
        }
    }
    Some(m)
}

/// The header lists ports grouped by C type; put them in Verilog declaration
/// order instead, which the trace declarations follow (TOP scope first).
fn order_ports(gen: &Path, ports: &mut [Port]) {
    let mut decls = String::new();
    let mut files: Vec<PathBuf> = fs::read_dir(gen)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().contains("__Trace__") && p.to_string_lossy().ends_with("__Slow.cpp"))
        .collect();
    files.sort();
    for f in files {
        decls += &fs::read_to_string(f).unwrap_or_default();
    }
    ports.sort_by_key(|p| decls.find(&format!(",\"{}\",", p.name)).unwrap_or(usize::MAX));
}

fn gen_rust(specs: &[Spec], built: &[(usize, &Built)], missing: &[(usize, String)], trace: &str) -> String {
    let mut r = String::new();
    let w = &mut r;
    let _ = writeln!(w, "// @generated by weightstream-sim/build.rs: do not edit.\n");
    let trace_fmt = if trace == "fst" { "TraceFormat::Fst" } else { "TraceFormat::Vcd" };
    let _ = writeln!(w, "extern \"C\" {{");
    for (i, _) in built {
        let _ = writeln!(w, "    fn wsv_{}_vtable() -> *const RawVtable;", specs[*i].inst);
        let _ = writeln!(w, "    fn wsv_{}_tr_vtable() -> *const RawVtable;", specs[*i].inst);
    }
    let _ = writeln!(w, "}}\n");

    for (k, (i, b)) in built.iter().enumerate() {
        let s = &specs[*i];
        let up = s.inst.to_uppercase();
        let _ = writeln!(w, "static PORTS_{up}: [PortInfo; {}] = [", b.ports.len());
        for p in &b.ports {
            let dir = match p.dir {
                Dir::Input => "PortDir::Input",
                Dir::Output => "PortDir::Output",
                Dir::InOut => "PortDir::InOut",
            };
            let st = match p.storage {
                8 => "Storage::U8".to_string(),
                16 => "Storage::U16".to_string(),
                32 => "Storage::U32".to_string(),
                64 => "Storage::U64".to_string(),
                _ => format!("Storage::Wide({})", p.words),
            };
            let _ = writeln!(w, "    PortInfo::new({:?}, {dir}, {}, {st}),", p.name, p.width);
        }
        let _ = writeln!(w, "];\n");

        let params: Vec<String> = s.params.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let name = &s.struct_name;
        let _ = writeln!(
            w,
            "/// Verilated model of `{}`{}.",
            s.top,
            if params.is_empty() { String::new() } else { format!(" with {}", params.join(" ")) }
        );
        let _ = writeln!(w, "///\n/// Registry name `{}`. Ports:", s.inst);
        for p in &b.ports {
            let d = match p.dir {
                Dir::Input => "in",
                Dir::Output => "out",
                Dir::InOut => "inout",
            };
            let _ = writeln!(w, "/// - `{}`: {d} {} bit{}", p.name, p.width, if p.width == 1 { "" } else { "s" });
        }
        let _ = writeln!(w, "pub struct {name} {{\n    raw: RawModel,\n}}\n");
        let _ = writeln!(w, "impl {name} {{");
        let _ = writeln!(w, "    /// This model's registry entry.");
        let _ = writeln!(w, "    pub fn info() -> &'static ModelInfo {{\n        &MODEL_INFOS[{k}]\n    }}\n");
        let _ = writeln!(w, "    /// A fresh model with its own `VerilatedContext` (one thread), built");
        let _ = writeln!(w, "    /// without tracing for speed: use [`Self::new_traced`] to write waveforms.");
        let _ = writeln!(
            w,
            "    pub fn new() -> Self {{\n        Self {{ raw: RawModel::new(Self::info(), false) }}\n    }}\n"
        );
        let _ = writeln!(w, "    /// Like [`Self::new`] but the variant built with tracing (~1.5x slower).");
        let _ = writeln!(
            w,
            "    pub fn new_traced() -> Self {{\n        Self {{ raw: RawModel::new(Self::info(), true) }}\n    }}\n"
        );
        for (pi, p) in b.ports.iter().enumerate() {
            let _ = writeln!(w, "    /// Port id of `{}`.", p.name);
            let _ = writeln!(w, "    pub const PORT_{}: PortId = PortId::new({pi});", p.name.to_uppercase());
        }
        for (pi, p) in b.ports.iter().enumerate() {
            let n = &p.name;
            let wide = p.width > 64;
            let words = p.words;
            if p.dir != Dir::Output {
                if wide {
                    let _ = writeln!(
                        w,
                        "    /// Drive `{n}` ({} bits, little-endian u32 words; bits above the width are ignored).",
                        p.width
                    );
                    let _ = writeln!(w, "    #[inline]\n    pub fn set_{n}(&mut self, v: &[u32; {words}]) {{\n        self.raw.write_words({pi}, v)\n    }}");
                } else {
                    let _ = writeln!(
                        w,
                        "    /// Drive `{n}` ({} bit{}; bits above the width are ignored).",
                        p.width,
                        if p.width == 1 { "" } else { "s" }
                    );
                    let _ = writeln!(w, "    #[inline]\n    pub fn set_{n}(&mut self, v: u64) {{\n        self.raw.write_u64({pi}, v)\n    }}");
                }
            }
            if wide {
                let _ = writeln!(w, "    /// Current value of `{n}` (little-endian u32 words).");
                let _ = writeln!(w, "    #[inline]\n    pub fn get_{n}(&self) -> [u32; {words}] {{\n        let mut o = [0u32; {words}];\n        self.raw.read_words({pi}, &mut o);\n        o\n    }}");
            } else {
                let _ = writeln!(w, "    /// Current value of `{n}`.");
                let _ = writeln!(
                    w,
                    "    #[inline]\n    pub fn get_{n}(&self) -> u64 {{\n        self.raw.read_u64({pi})\n    }}"
                );
            }
        }
        let _ = writeln!(w, "}}\n");
        let _ =
            writeln!(w, "impl Default for {name} {{\n    fn default() -> Self {{\n        Self::new()\n    }}\n}}\n");
        let _ = writeln!(w, "impl_model!({name});\n");
    }

    let _ = writeln!(w, "pub(crate) static MODEL_INFOS: [ModelInfo; {}] = [", built.len());
    for (i, _) in built {
        let s = &specs[*i];
        let params: Vec<String> = s.params.iter().map(|(k, v)| format!("({k:?}, {v})")).collect();
        let _ = writeln!(
            w,
            "    ModelInfo {{ name: {:?}, struct_name: {:?}, top: {:?}, param_set: {:?}, params: &[{}], \
             ports: &PORTS_{}, test_only: {}, trace_format: {trace_fmt}, origin: Origin::Static {{ \
             vtable: wsv_{}_vtable, vtable_traced: wsv_{}_tr_vtable }} }},",
            s.inst,
            s.struct_name,
            s.top,
            s.param_set,
            params.join(", "),
            s.inst.to_uppercase(),
            s.test_only,
            s.inst,
            s.inst
        );
    }
    let _ = writeln!(w, "];\n");
    let _ = writeln!(w, "pub(crate) static MISSING_MODELS: [MissingModel; {}] = [", missing.len());
    for (i, why) in missing {
        let s = &specs[*i];
        let _ = writeln!(
            w,
            "    MissingModel {{ name: {:?}, top: {:?}, param_set: {:?}, reason: {:?} }},",
            s.inst, s.top, s.param_set, why
        );
    }
    let _ = writeln!(w, "];");
    r
}
