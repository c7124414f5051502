//! Models built on demand: a top at parameters that are not linked in is verilated, compiled
//! into a shared library in a cache directory and loaded at run time through the same binding
//! ([`crate::Model`]) as the prebuilt models.
//!
//! A cache entry is keyed by the RTL's content (every `.v`/`.sv`/`.vh` of the RTL directory), the
//! top and its parameters, the Verilator version and how the library is compiled; it is built
//! under an exclusive file lock and published by rename, so two processes that want the same
//! model at once build it once and both load it. Every published entry (library and port table,
//! testbench, runtime objects) has a record of its files' sizes and SHA-256 (`crate::record`),
//! checked before it is loaded, linked or run: a damaged entry is rebuilt under the same lock (or
//! the build's error is returned), never mapped. Each library carries its own copy of the
//! Verilator runtime (compiled once per Verilator version into the cache, position independent)
//! and exports only its entry point, so it cannot clash with the runtime linked into the host.
//! The traced variant (for waveforms) is built the first time it is asked for.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs::{self, File};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

use crate::error::{Result, SimError};
use crate::gen::{gen_slow, gen_unity, parse_classes, parse_ports, Dir, VERILATOR_FLAGS};
use crate::model::{ModelInfo, Origin, TraceFormat, VtableFn};
use crate::port::{PortDir, PortInfo, Storage};
use crate::record;

/// Bump to invalidate cached libraries after a change to how they are built (2: entries carry a
/// record of their files).
const KEY_VERSION: u32 = 2;
/// The C++ wrapper every model is compiled with (cpp/wsv_model.h).
const WRAPPER_H: &str = include_str!("../cpp/wsv_model.h");
/// The runtime's replacement of Verilator's `vl_finish` & co.
const RUNTIME_CPP: &str = include_str!("../runtime/runtime.cpp");
/// C++ defines the runtime and models are compiled with (from the runtime crate's build).
const DEFINES: &str = env!("WSV_RUNTIME_DEFINES");
/// Waveform format of this build (`vcd` or `fst`).
const TRACE: &str = env!("WSV_RUNTIME_TRACE");
/// The entry point every on-demand library exports.
const ENTRY: &str = "wsv_dyn_vtable";

/// What to build: a top of an RTL directory at some parameters.
#[derive(Clone, Debug)]
pub struct BuildRequest {
    /// Registry name for the model (e.g. `ws_top_bitmap_n32_q6_b128_...`).
    pub name: String,
    /// Top module.
    pub top: String,
    /// Name of the parameter set, for [`ModelInfo::param_set`].
    pub param_set: String,
    /// Parameter overrides (`-G`).
    pub params: Vec<(String, i64)>,
    /// Directory with the top and every module it instantiates (and included headers).
    pub rtl_dir: PathBuf,
    /// Cache root; libraries go into `<cache>/models/`.
    pub cache_dir: PathBuf,
}

/// What happened while getting a model, for the caller to show.
#[derive(Clone, Debug)]
pub enum BuildEvent {
    /// A build starts (nothing usable was cached): model name and variant.
    Building { name: String, traced: bool },
    /// The Verilator runtime is being compiled into the cache (once per Verilator version).
    BuildingRuntime,
    /// Another process holds the build lock of this cache entry: waiting for it.
    Waiting { what: String },
    /// A build finished, in seconds.
    Built { name: String, traced: bool, seconds: f64 },
    /// The library came from the cache.
    Cached { name: String, traced: bool },
    /// A cache entry does not match the record made when it was published (`why`, a few words):
    /// it is rebuilt (a `Building` event follows).
    Damaged { name: String, traced: bool, why: String },
}

/// An on-demand model: its cache entry and the loaded variants.
#[derive(Debug)]
pub struct DynModel {
    req: BuildRequest,
    entry: PathBuf,
    key: String,
    fast: VtableFn,
    traced: Mutex<Option<VtableFn>>,
}

impl DynModel {
    /// The entry point of a variant, building the traced one on first use.
    pub(crate) fn vtable_fn(&self, traced: bool) -> Result<VtableFn> {
        if !traced {
            return Ok(self.fast);
        }
        let mut slot = self.traced.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(f) = *slot {
            return Ok(f);
        }
        let f = build_variant(&self.req, &self.entry, &self.key, true, &mut |_| {})?.0;
        *slot = Some(f);
        Ok(f)
    }

    /// The cache directory holding this model's libraries.
    pub fn cache_entry(&self) -> &Path {
        &self.entry
    }
}

fn registry() -> &'static Mutex<Vec<&'static ModelInfo>> {
    static LOADED: OnceLock<Mutex<Vec<&'static ModelInfo>>> = OnceLock::new();
    LOADED.get_or_init(|| Mutex::new(Vec::new()))
}

/// Models built on demand and loaded in this process.
pub(crate) fn loaded() -> Vec<&'static ModelInfo> {
    registry().lock().unwrap_or_else(|e| e.into_inner()).clone()
}

/// The model `req` asks for: already loaded, loaded from the cache, or built into it (the fast
/// variant; the traced one follows on first use). `progress` hears what takes time.
pub fn build_model(req: &BuildRequest, progress: &mut dyn FnMut(BuildEvent)) -> Result<&'static ModelInfo> {
    // Builds of different models may run at once (threads or processes); the same model is
    // built once: its cache entry's file lock serializes the builders, the later ones load it.
    if let Some(m) = loaded().into_iter().find(|m| m.name == req.name) {
        return Ok(m);
    }
    let key = cache_key(req)?;
    let entry = req.cache_dir.join("models").join(format!("{}-{key}", req.name));
    let (fast, ports) = build_variant(req, &entry, &key, false, progress)?;
    let leak = |s: &str| -> &'static str { Box::leak(s.to_string().into_boxed_str()) };
    let params: Vec<(&'static str, i64)> = req.params.iter().map(|(k, v)| (leak(k), *v)).collect();
    let dyn_model: &'static DynModel =
        Box::leak(Box::new(DynModel { req: req.clone(), entry, key, fast, traced: Mutex::new(None) }));
    let info: &'static ModelInfo = Box::leak(Box::new(ModelInfo {
        name: leak(&req.name),
        struct_name: "",
        top: leak(&req.top),
        param_set: leak(&req.param_set),
        params: Box::leak(params.into_boxed_slice()),
        ports: Box::leak(ports.into_boxed_slice()),
        test_only: false,
        trace_format: if TRACE == "fst" { TraceFormat::Fst } else { TraceFormat::Vcd },
        origin: Origin::Dynamic(dyn_model),
    }));
    let mut reg = registry().lock().unwrap_or_else(|e| e.into_inner());
    if let Some(m) = reg.iter().find(|m| m.name == req.name) {
        // Another thread loaded it meanwhile: keep one registry entry (this one is leaked).
        return Ok(m);
    }
    reg.push(info);
    Ok(info)
}

/// FNV-1a, 64 bits: a hash that is the same in every build of this crate (the cache outlives
/// the binary that filled it).
struct Fnv(u64);

impl Fnv {
    fn new() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
    fn bytes(&mut self, b: &[u8]) -> &mut Self {
        for &x in b.iter().chain(&(b.len() as u64).to_le_bytes()) {
            self.0 = (self.0 ^ u64::from(x)).wrapping_mul(0x0100_0000_01b3);
        }
        self
    }
}

/// The Verilator on PATH: (binary, `--version` line, include directory).
fn verilator() -> Result<(PathBuf, String, PathBuf)> {
    static FOUND: OnceLock<std::result::Result<(PathBuf, String, PathBuf), String>> = OnceLock::new();
    FOUND
        .get_or_init(|| {
            let path = std::env::var_os("PATH").unwrap_or_default();
            let bin = std::env::split_paths(&path)
                .map(|d| d.join("verilator"))
                .find(|p| p.is_file())
                .ok_or("verilator not found on PATH (apt-get install -y verilator)")?;
            let run = |args: &[&str]| -> std::result::Result<String, String> {
                let out = Command::new(&bin).args(args).output().map_err(|e| format!("cannot run verilator: {e}"))?;
                if !out.status.success() {
                    return Err(format!("verilator {} failed", args.join(" ")));
                }
                Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
            };
            let version = run(&["--version"])?;
            let root = PathBuf::from(run(&["--getenv", "VERILATOR_ROOT"])?);
            Ok((bin, version, root.join("include")))
        })
        .clone()
        .map_err(|e| SimError::Build(e.to_string()))
}

fn cxx() -> OsString {
    std::env::var_os("CXX").unwrap_or_else(|| "c++".into())
}

/// The RTL files of a directory that a model can depend on, by name.
fn rtl_sources(dir: &Path) -> Result<BTreeMap<String, Vec<u8>>> {
    let io = |e: std::io::Error| SimError::Build(format!("{}: {e}", dir.display()));
    let mut m = BTreeMap::new();
    for e in fs::read_dir(dir).map_err(io)? {
        let p = e.map_err(io)?.path();
        let name = p.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
        if [".v", ".sv", ".vh", ".svh"].iter().any(|x| name.ends_with(x)) {
            m.insert(name, fs::read(&p).map_err(io)?);
        }
    }
    Ok(m)
}

fn cache_key(req: &BuildRequest) -> Result<String> {
    let (_, version, include) = verilator()?;
    let mut h = Fnv::new();
    h.bytes(&KEY_VERSION.to_le_bytes()).bytes(req.top.as_bytes());
    for (k, v) in &req.params {
        h.bytes(k.as_bytes()).bytes(&v.to_le_bytes());
    }
    for (name, data) in rtl_sources(&req.rtl_dir)? {
        h.bytes(name.as_bytes()).bytes(&data);
    }
    h.bytes(version.as_bytes()).bytes(include.as_os_str().as_encoded_bytes());
    h.bytes(WRAPPER_H.as_bytes()).bytes(RUNTIME_CPP.as_bytes()).bytes(DEFINES.as_bytes()).bytes(TRACE.as_bytes());
    h.bytes(cxx().as_encoded_bytes());
    Ok(format!("{:016x}", h.0))
}

/// Holds an exclusive lock on `path` (created if needed) until dropped.
struct Lock(File);

impl Lock {
    /// Takes the lock, telling `progress` when another process holds it and this one waits.
    fn take(path: &Path, progress: &mut dyn FnMut(BuildEvent)) -> Result<Self> {
        let io = |e: std::io::Error| SimError::Build(format!("{}: {e}", path.display()));
        if let Some(d) = path.parent() {
            fs::create_dir_all(d).map_err(io)?;
        }
        let f = File::options().create(true).truncate(false).write(true).open(path).map_err(io)?;
        match f.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let what = path.file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_default();
                progress(BuildEvent::Waiting { what });
                f.lock().map_err(io)?;
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
        }
        Ok(Lock(f))
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}

/// Runs a command; on failure an error with its output's tail, the log kept in `log`.
fn run(cmd: &mut Command, what: &str, log: &Path) -> Result<()> {
    let out = cmd.output().map_err(|e| SimError::Build(format!("{what}: cannot start: {e}")))?;
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let _ = fs::OpenOptions::new().create(true).append(true).open(log).and_then(|mut f| f.write_all(text.as_bytes()));
    if out.status.success() {
        return Ok(());
    }
    let first = text.lines().find(|l| l.contains("rror")).unwrap_or_else(|| text.lines().next().unwrap_or(""));
    Err(SimError::Build(format!("{what} failed: {} (log: {})", first.trim(), log.display())))
}

/// Verilates the request's top (with its parameters, traced or not) into `stage` under the
/// class prefix `prefix`.
fn verilate(
    req: &BuildRequest,
    bin: &Path,
    prefix: &str,
    traced: bool,
    stage: &Path,
    what: &str,
    log: &Path,
) -> Result<()> {
    let top_file = ["v", "sv"]
        .iter()
        .map(|x| req.rtl_dir.join(format!("{}.{x}", req.top)))
        .find(|p| p.is_file())
        .ok_or_else(|| SimError::Build(format!("{}/{}.v not found", req.rtl_dir.display(), req.top)))?;
    let mut v = Command::new(bin);
    v.args(VERILATOR_FLAGS);
    if traced {
        v.arg(if TRACE == "fst" { "--trace-fst" } else { "--trace" });
    }
    v.arg("--prefix")
        .arg(prefix)
        .arg("--top-module")
        .arg(&req.top)
        .arg("--Mdir")
        .arg(stage)
        .arg("-y")
        .arg(&req.rtl_dir)
        .arg(format!("+incdir+{}", req.rtl_dir.display()))
        .arg("+libext+.v+.sv");
    for (k, val) in &req.params {
        v.arg(format!("-G{k}={val}"));
    }
    v.arg(&top_file);
    run(&mut v, what, log)
}

/// Compiles `(source, object, optimization)` units of a staged model in parallel, with the
/// Verilator include paths and defines every model is built with.
fn compile(
    units: Vec<(&str, &str, &str)>,
    include: &Path,
    stage: &Path,
    what: &(dyn Fn(&str) -> String + Sync),
    log: &Path,
) -> Result<()> {
    parallel(units, |(src, obj, opt)| {
        let mut c = Command::new(cxx());
        c.args(["-std=gnu++17", "-fPIC", opt, "-w", "-faligned-new"])
            .args(defines())
            .arg("-I")
            .arg(include)
            .arg("-I")
            .arg(include.join("vltstd"))
            .arg("-I")
            .arg(stage)
            .arg("-c")
            .arg(stage.join(src))
            .arg("-o")
            .arg(stage.join(obj));
        run(&mut c, &what(src), log)
    })
}

fn defines() -> Vec<String> {
    DEFINES.split(',').filter(|kv| kv.contains('=')).map(|kv| format!("-D{kv}")).collect()
}

/// The Verilator runtime as position-independent objects in the cache, compiled once per
/// Verilator version and compile settings.
fn runtime_objects(cache: &Path, progress: &mut dyn FnMut(BuildEvent)) -> Result<Vec<PathBuf>> {
    let (_, version, include) = verilator()?;
    let mut h = Fnv::new();
    h.bytes(&KEY_VERSION.to_le_bytes()).bytes(version.as_bytes()).bytes(include.as_os_str().as_encoded_bytes());
    h.bytes(RUNTIME_CPP.as_bytes()).bytes(DEFINES.as_bytes()).bytes(TRACE.as_bytes()).bytes(cxx().as_encoded_bytes());
    let dir = cache.join("models").join(format!("verilator-runtime-{:016x}", h.0));
    let trace_src = if TRACE == "fst" { "verilated_fst_c.cpp" } else { "verilated_vcd_c.cpp" };
    let srcs: Vec<PathBuf> = ["verilated.cpp", "verilated_threads.cpp", trace_src]
        .iter()
        .map(|f| include.join(f))
        .chain(std::iter::once(dir.join("runtime.cpp")))
        .collect();
    let names: Vec<String> = (0..srcs.len()).map(|i| format!("rt{i}.o")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let objs: Vec<PathBuf> = names.iter().map(|n| dir.join(n)).collect();
    let done = dir.join("objects.sha256");
    if record::check(&done, &dir, &names).is_ok() {
        return Ok(objs);
    }
    let _lock = Lock::take(&dir.with_extension("lock"), progress)?;
    match record::check(&done, &dir, &names) {
        Ok(()) => return Ok(objs),
        Err(why) if dir.exists() => {
            progress(BuildEvent::Damaged { name: "the Verilator runtime".into(), traced: false, why })
        }
        Err(_) => {}
    }
    progress(BuildEvent::BuildingRuntime);
    let io = |e: std::io::Error| SimError::Build(format!("{}: {e}", dir.display()));
    fs::create_dir_all(&dir).map_err(io)?;
    fs::write(dir.join("runtime.cpp"), RUNTIME_CPP).map_err(io)?;
    let log = dir.join("build.log");
    let jobs: Vec<(PathBuf, PathBuf)> = srcs.into_iter().zip(objs.iter().cloned()).collect();
    parallel(jobs, |(src, obj)| {
        let tmp = obj.with_extension(format!("o.tmp{}", std::process::id()));
        let mut c = Command::new(cxx());
        c.args(["-std=gnu++17", "-fPIC", "-O2", "-w", "-faligned-new", "-DVL_USER_FINISH"])
            .args(defines())
            .arg("-I")
            .arg(&include)
            .arg("-I")
            .arg(include.join("vltstd"))
            .arg("-c")
            .arg(&src)
            .arg("-o")
            .arg(&tmp);
        run(&mut c, &format!("compiling {}", src.display()), &log)?;
        fs::rename(&tmp, &obj).map_err(io)
    })?;
    record::write(&done, &dir, &names).map_err(io)?;
    Ok(objs)
}

/// Runs `f` over `items` on two threads (the machines this runs on have few cores, and
/// verilator and the compiler are single-threaded); the first error wins.
fn parallel<T: Send>(items: Vec<T>, f: impl Fn(T) -> Result<()> + Sync) -> Result<()> {
    let queue = Mutex::new(items);
    let first_err = Mutex::new(None);
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| loop {
                let Some(item) = queue.lock().unwrap_or_else(|e| e.into_inner()).pop() else { break };
                if let Err(e) = f(item) {
                    first_err.lock().unwrap_or_else(|e| e.into_inner()).get_or_insert(e);
                }
            });
        }
    });
    first_err.into_inner().unwrap_or_else(|e| e.into_inner()).map_or(Ok(()), Err)
}

/// Loads (building first if needed) one variant's library; returns its entry point and ports.
fn build_variant(
    req: &BuildRequest,
    entry: &Path,
    key: &str,
    traced: bool,
    progress: &mut dyn FnMut(BuildEvent),
) -> Result<(VtableFn, Vec<PortInfo>)> {
    let variant = if traced { "traced" } else { "fast" };
    let (lib_name, ports_name) = (format!("{variant}.so"), format!("{variant}.ports"));
    let files = [lib_name.as_str(), ports_name.as_str()];
    let lib = entry.join(&lib_name);
    let ports_file = entry.join(&ports_name);
    let record = entry.join(format!("{variant}.sha256"));
    let name = req.name.clone();
    // Nothing of the entry is mapped before its record vouches for it: a truncated library would
    // kill the process with SIGBUS when its pages are touched.
    match record::check(&record, entry, &files) {
        Ok(()) => progress(BuildEvent::Cached { name: name.clone(), traced }),
        Err(first_why) => {
            let damaged = lib.exists() || ports_file.exists() || record.exists();
            let mut rebuild = || -> Result<()> {
                let _lock = Lock::take(&entry.with_extension(format!("{variant}.lock")), progress)?;
                // Another process may have rebuilt it while this one waited for the lock.
                match record::check(&record, entry, &files) {
                    Ok(()) => progress(BuildEvent::Cached { name: name.clone(), traced }),
                    Err(why) => {
                        if damaged || lib.exists() || ports_file.exists() || record.exists() {
                            progress(BuildEvent::Damaged { name: name.clone(), traced, why });
                        }
                        let t = Instant::now();
                        let rt = runtime_objects(&req.cache_dir, progress)?;
                        progress(BuildEvent::Building { name: name.clone(), traced });
                        compile_variant(req, entry, key, traced, &rt, &lib, &ports_file)?;
                        record::write(&record, entry, &files)
                            .map_err(|e| SimError::Build(format!("{}: {e}", record.display())))?;
                        progress(BuildEvent::Built { name: name.clone(), traced, seconds: t.elapsed().as_secs_f64() });
                    }
                }
                Ok(())
            };
            rebuild().map_err(|e| match e {
                // Refused, not loaded: say why the entry was not used as well as why it was not rebuilt.
                SimError::Build(why) if damaged => SimError::Build(format!(
                    "{}: damaged ({first_why}) and not rebuilt: {why}",
                    entry.join(&lib_name).display()
                )),
                e => e,
            })?;
        }
    }
    let ports = read_ports(&ports_file)?;
    // SAFETY: the library is one we built from Verilator's output and our wrapper; its static
    // constructors only set up Verilator's runtime copy. It is never unloaded (leaked), so the
    // entry point stays valid for the life of the process.
    let f: VtableFn = unsafe {
        let l =
            libloading::Library::new(&lib).map_err(|e| SimError::Build(format!("loading {}: {e}", lib.display())))?;
        let sym = l
            .get::<VtableFn>(ENTRY.as_bytes())
            .map_err(|e| SimError::Build(format!("{}: no {ENTRY}: {e}", lib.display())))?;
        let f = *sym;
        std::mem::forget(l);
        f
    };
    Ok((f, ports))
}

/// Verilates and compiles one variant into `lib`, writing its port table to `ports_file`.
fn compile_variant(
    req: &BuildRequest,
    entry: &Path,
    key: &str,
    traced: bool,
    runtime: &[PathBuf],
    lib: &Path,
    ports_file: &Path,
) -> Result<()> {
    let (bin, _, include) = verilator()?;
    let io = |e: std::io::Error| SimError::Build(format!("{}: {e}", entry.display()));
    fs::create_dir_all(entry).map_err(io)?;
    let stage = entry.join(format!("{}-{}", if traced { "traced" } else { "fast" }, std::process::id()));
    let _ = fs::remove_dir_all(&stage);
    fs::create_dir_all(&stage).map_err(io)?;
    let log = stage.join("build.log");
    let prefix = if traced { "VwsvDynTr" } else { "VwsvDyn" };
    verilate(req, &bin, prefix, traced, &stage, &format!("verilator ({} at {key})", req.name), &log)?;
    let read = |f: &str| fs::read_to_string(stage.join(f)).map_err(io);
    let header = read(&format!("{prefix}.h"))?;
    let mut ports = parse_ports(&header).map_err(|e| SimError::Build(format!("{}: {e}", req.name)))?;
    if traced {
        // Both variants share one ModelInfo, so the traced one must number its ports as the
        // fast one does.
        let fast = read_ports(&entry.join("fast.ports"))?;
        let pos = |n: &str| fast.iter().position(|p| p.name == n);
        if ports.len() != fast.len() || ports.iter().any(|p| pos(&p.name).is_none()) {
            return Err(SimError::Build(format!("{}: traced and fast variants have different ports", req.name)));
        }
        ports.sort_by_key(|p| pos(&p.name));
    }
    let (fast, slow) = parse_classes(&read(&format!("{prefix}_classes.mk"))?);
    fs::write(stage.join("wsv_model.h"), WRAPPER_H).map_err(io)?;
    fs::write(stage.join("unity.cpp"), gen_unity(&req.name, ENTRY, prefix, traced, &ports, &fast)).map_err(io)?;
    fs::write(stage.join("slow.cpp"), gen_slow(&req.name, &slow)).map_err(io)?;
    // Only the entry point is exported: the library's Verilator runtime stays its own.
    fs::write(stage.join("exports.map"), format!("{{ global: {ENTRY}; local: *; }};\n")).map_err(io)?;
    let units = vec![("unity.cpp", "unity.o", "-O2"), ("slow.cpp", "slow.o", "-O0")];
    compile(units, &include, &stage, &|src| format!("compiling {} of {}", src, req.name), &log)?;
    let tmp_lib = stage.join("model.so");
    let mut link = Command::new(cxx());
    link.arg("-shared")
        .arg("-o")
        .arg(&tmp_lib)
        .arg(stage.join("unity.o"))
        .arg(stage.join("slow.o"))
        .args(runtime)
        .arg(format!("-Wl,--version-script={}", stage.join("exports.map").display()))
        .arg("-Wl,-Bsymbolic")
        .arg("-lpthread");
    if TRACE == "fst" {
        link.arg("-lz");
    }
    run(&mut link, &format!("linking {}", req.name), &log)?;
    write_ports(&stage.join("ports"), &ports).map_err(io)?;
    // Publish: ports first, the library last; the caller then writes the record, which says the
    // entry is complete. Renames replace files, so a process that has the old library mapped
    // keeps its pages.
    fs::rename(stage.join("ports"), ports_file).map_err(io)?;
    fs::rename(&tmp_lib, lib).map_err(io)?;
    let _ = fs::rename(&log, entry.join(format!("{}.log", if traced { "traced" } else { "fast" })));
    let _ = fs::remove_dir_all(&stage);
    Ok(())
}

fn write_ports(path: &Path, ports: &[crate::gen::Port]) -> std::io::Result<()> {
    let mut s = String::new();
    for p in ports {
        let d = match p.dir {
            Dir::Input => "in",
            Dir::Output => "out",
            Dir::InOut => "inout",
        };
        s += &format!("{} {d} {} {} {}\n", p.name, p.width, p.storage, p.words);
    }
    fs::write(path, s)
}

fn read_ports(path: &Path) -> Result<Vec<PortInfo>> {
    let bad = || SimError::Build(format!("{}: malformed port table (delete the directory to rebuild)", path.display()));
    let text = fs::read_to_string(path).map_err(|e| SimError::Build(format!("{}: {e}", path.display())))?;
    let mut out = Vec::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        let [name, dir, width, storage, words] = f[..] else { return Err(bad()) };
        let dir = match dir {
            "in" => PortDir::Input,
            "out" => PortDir::Output,
            "inout" => PortDir::InOut,
            _ => return Err(bad()),
        };
        let width: u32 = width.parse().map_err(|_| bad())?;
        let words: u32 = words.parse().map_err(|_| bad())?;
        let storage = match storage {
            "8" => Storage::U8,
            "16" => Storage::U16,
            "32" => Storage::U32,
            "64" => Storage::U64,
            "0" => Storage::Wide(words),
            _ => return Err(bad()),
        };
        out.push(PortInfo::new(Box::leak(name.to_string().into_boxed_str()), dir, width, storage));
    }
    if out.is_empty() {
        return Err(bad());
    }
    Ok(out)
}

/// A plain C++ testbench of a top: your `main` (C++ source) compiled and linked against the
/// top's Verilated model (`--prefix VwsvTb`; include `"VwsvTb.h"`), with the same Verilator
/// flags, compiler and options as the models the harness loads, and the same Verilator runtime.
/// The yardstick for the harness's own cost per cycle. Cached like the models (keyed by the
/// model's key and the source of `main`); returns the executable's path.
pub fn build_testbench(req: &BuildRequest, main_cpp: &str, progress: &mut dyn FnMut(BuildEvent)) -> Result<PathBuf> {
    let mut h = Fnv::new();
    h.bytes(cache_key(req)?.as_bytes()).bytes(main_cpp.as_bytes());
    let entry = req.cache_dir.join("testbenches").join(format!("{}-{:016x}", req.name, h.0));
    let exe = entry.join("tb");
    let record = entry.join("tb.sha256");
    let Err(first_why) = record::check(&record, &entry, &["tb"]) else {
        progress(BuildEvent::Cached { name: req.name.clone(), traced: false });
        return Ok(exe);
    };
    let damaged = exe.exists() || record.exists();
    publish_testbench(req, main_cpp, &entry, progress).map_err(|e| match e {
        // Refused, not run: say why the entry was not used as well as why it was not rebuilt.
        SimError::Build(why) if damaged => {
            SimError::Build(format!("{}: damaged ({first_why}) and not rebuilt: {why}", exe.display()))
        }
        e => e,
    })?;
    Ok(exe)
}

/// Builds the testbench into `entry` (`tb` and its record) under the entry's lock, unless another
/// process did while this one waited.
fn publish_testbench(
    req: &BuildRequest,
    main_cpp: &str,
    entry: &Path,
    progress: &mut dyn FnMut(BuildEvent),
) -> Result<()> {
    let exe = entry.join("tb");
    let record = entry.join("tb.sha256");
    let _lock = Lock::take(&entry.with_extension("lock"), progress)?;
    match record::check(&record, entry, &["tb"]) {
        Ok(()) => return Ok(()),
        Err(why) if exe.exists() || record.exists() => {
            progress(BuildEvent::Damaged { name: format!("{} (C++ testbench)", req.name), traced: false, why })
        }
        Err(_) => {}
    }
    let t = Instant::now();
    let rt = runtime_objects(&req.cache_dir, progress)?;
    progress(BuildEvent::Building { name: format!("{} (C++ testbench)", req.name), traced: false });
    let (bin, _, include) = verilator()?;
    let io = |e: std::io::Error| SimError::Build(format!("{}: {e}", entry.display()));
    let stage = entry.with_extension(format!("stage{}", std::process::id()));
    let _ = fs::remove_dir_all(&stage);
    fs::create_dir_all(&stage).map_err(io)?;
    let log = stage.join("build.log");
    let prefix = "VwsvTb";
    verilate(req, &bin, prefix, false, &stage, &format!("verilator ({} testbench)", req.name), &log)?;
    let (fast, slow) = parse_classes(&fs::read_to_string(stage.join(format!("{prefix}_classes.mk"))).map_err(io)?);
    let unity: String = fast.iter().map(|c| format!("#include \"{c}.cpp\"\n")).collect();
    fs::write(stage.join("unity.cpp"), unity).map_err(io)?;
    fs::write(stage.join("slow.cpp"), gen_slow(&req.name, &slow)).map_err(io)?;
    fs::write(stage.join("main.cpp"), main_cpp).map_err(io)?;
    // The flags the on-demand models are compiled with (-O2 for the model and main, -O0 for
    // the run-once code, as verilated.mk does).
    let units = vec![("unity.cpp", "unity.o", "-O2"), ("slow.cpp", "slow.o", "-O0"), ("main.cpp", "main.o", "-O2")];
    compile(units, &include, &stage, &|src| format!("compiling {} of the {} testbench", src, req.name), &log)?;
    let tmp = stage.join("tb");
    let mut link = Command::new(cxx());
    link.arg("-o").arg(&tmp).arg(stage.join("main.o")).arg(stage.join("unity.o")).arg(stage.join("slow.o")).args(&rt);
    link.arg("-lpthread");
    if TRACE == "fst" {
        link.arg("-lz");
    }
    run(&mut link, &format!("linking the {} testbench", req.name), &log)?;
    fs::create_dir_all(entry).map_err(io)?;
    fs::rename(&tmp, &exe).map_err(io)?;
    record::write(&record, entry, &["tb"]).map_err(io)?;
    let _ = fs::rename(&log, entry.join("build.log"));
    let _ = fs::remove_dir_all(&stage);
    progress(BuildEvent::Built {
        name: format!("{} (C++ testbench)", req.name),
        traced: false,
        seconds: t.elapsed().as_secs_f64(),
    });
    Ok(())
}
