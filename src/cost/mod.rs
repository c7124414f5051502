//! What each decoder costs in hardware at a design point: yosys synthesis of the front end
//! (`ws_front_end`: aligner + the format's decoder, registered at its edges) or of the whole top
//! (`ws_top_core`: FIFO, aligner, decoder, PE array), per format.
//!
//! Per unit: cells by kind, flip-flops, memory bits (before memory mapping), the longest
//! register-to-register path in two-input gate levels (yosys `ltp` after `abc -g`), and, where
//! nextpnr-ice40 is installed, logic cells, block RAMs and Fmax on an iCE40 HX8K (ct256), or why it
//! does not fit. The flows are in [`script`], the report parsers in [`parse`].
//!
//! Results are cached under `<cache>/cost/<key>/` (`result.json` next to the tools' logs), keyed
//! by a hash of the RTL files' contents, the parameters, the module, the flow and the tool
//! versions. An entry is built in a temporary directory and renamed into place, so two runs at
//! once never see half an entry.

pub mod parse;
pub mod script;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::formats::Format;
use crate::rtl::{facts, DesignPoint, DesignPointError};

/// Bumped when the flow or the result's shape changes (invalidates every cache entry).
const FLOW_VERSION: &str = "cost-flow-1";

/// The iCE40 device the FPGA flow places on.
pub const DEVICE: &str = "iCE40 HX8K (ct256)";
/// Its logic cells.
pub const DEVICE_LCS: u64 = 7680;
/// Its 4-kbit block RAMs.
pub const DEVICE_BRAMS: u64 = 32;

/// Logic cells per generic yosys cell, lower end of what was measured here (0.50 for the n16 CSC
/// front end, 0.65 for the n8 bitmap one): used to skip place and route of designs far too big.
const LC_PER_CELL_LOW: f64 = 0.45;

/// What is synthesized.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Unit {
    /// The front end alone (`front_end` of rtl/ws_rtl.toml).
    FrontEnd,
    /// The whole top (`top` of rtl/ws_rtl.toml), with word FIFO and PE array.
    Top,
}

impl Unit {
    /// The Verilog module, from the facts table.
    pub fn module(self) -> &'static str {
        match self {
            Unit::FrontEnd => &facts().front_end,
            Unit::Top => &facts().top,
        }
    }

    /// Short name (`front-end`, `top`).
    pub fn name(self) -> &'static str {
        match self {
            Unit::FrontEnd => "front-end",
            Unit::Top => "top",
        }
    }
}

/// One synthesis to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CostRequest {
    /// Front end or whole top.
    pub unit: Unit,
    /// The format (FORMAT parameter).
    pub format: Format,
    /// The parameters.
    pub point: DesignPoint,
}

/// How to run.
#[derive(Debug, Clone)]
pub struct CostOptions {
    /// Where the RTL is read from (None: [`rtl_dir`], the RTL this binary carries unless
    /// `$WEIGHTSTREAM_RTL_DIR` says otherwise).
    pub rtl_dir: Option<PathBuf>,
    /// Where results are cached (`<dir>/<key>/`).
    pub cache_dir: PathBuf,
    /// Run nextpnr-ice40 where it is installed and the design may fit.
    pub fpga: bool,
    /// Synthesis jobs at once.
    pub jobs: usize,
    /// Reuse cached results.
    pub use_cache: bool,
    /// Longest any one tool may run before it is killed.
    pub tool_timeout: Duration,
}

impl Default for CostOptions {
    fn default() -> Self {
        CostOptions {
            rtl_dir: None,
            cache_dir: crate::model::cache_dir().join("cost"),
            fpga: true,
            jobs: 2,
            use_cache: true,
            tool_timeout: Duration::from_secs(30 * 60),
        }
    }
}

pub use crate::rtl::rtl_dir;

impl CostOptions {
    /// The RTL directory to read: the one set, else [`rtl_dir`].
    pub fn rtl(&self) -> Result<PathBuf, CostError> {
        match &self.rtl_dir {
            Some(d) => Ok(d.clone()),
            None => Ok(rtl_dir()?),
        }
    }
}

/// The FPGA result of a unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum Fpga {
    /// Placed and routed.
    Placed {
        /// Logic cells used.
        lcs: u64,
        /// Block RAMs used.
        brams: u64,
        /// I/O cells used (after the output fold).
        ios: u64,
        /// Fmax after routing, MHz.
        fmax_mhz: f64,
        /// Seconds for synth_ice40 + nextpnr.
        seconds: f64,
    },
    /// Does not fit the device.
    DoesNotFit {
        /// Why, e.g. "needs 10,072 LCs, HX8K has 7,680".
        reason: String,
        /// Logic cells it needs, when known.
        lcs: Option<u64>,
        /// Seconds spent finding out.
        seconds: f64,
    },
    /// Not attempted.
    Skipped {
        /// Why.
        reason: String,
    },
}

impl Fpga {
    /// Fmax in MHz when placed.
    pub fn fmax_mhz(&self) -> Option<f64> {
        match self {
            Fpga::Placed { fmax_mhz, .. } => Some(*fmax_mhz),
            _ => None,
        }
    }
}

/// The cost of one unit at one design point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cost {
    /// Front end or top.
    pub unit: Unit,
    /// Verilog module.
    pub module: String,
    /// Format name.
    pub format: String,
    /// Design point name (`n16_q8_b64` or spelled out).
    pub point: String,
    /// Verilog parameters, FORMAT first.
    pub params: Vec<(String, i64)>,
    /// Cells after generic `synth` (flip-flops included, one per bit).
    pub cells: u64,
    /// Cells by kind.
    pub cells_by_kind: BTreeMap<String, u64>,
    /// Flip-flops (bits).
    pub flip_flops: u64,
    /// Memory bits before memory mapping (arrays yosys infers as memories: FIFO, accumulators).
    pub memory_bits: u64,
    /// Longest register-to-register path in two-input gate levels.
    pub logic_levels: u32,
    /// Where it starts (a register).
    pub path_from: String,
    /// Where it ends (a register).
    pub path_to: String,
    /// Seconds of the generic synthesis.
    pub synth_seconds: f64,
    /// The iCE40 result.
    pub fpga: Fpga,
    /// Tool versions used.
    pub tools: String,
    /// The cache key.
    pub key: String,
}

/// A cost with where it came from.
#[derive(Debug, Clone)]
pub struct CostRun {
    /// The result.
    pub cost: Cost,
    /// Read from the cache (nothing synthesized).
    pub from_cache: bool,
    /// Wall seconds of this call.
    pub seconds: f64,
    /// The cache entry (result.json and the logs).
    pub dir: PathBuf,
}

impl CostRequest {
    /// The request as synthesized: QA and ACC size only the PE array, so a front end is always
    /// synthesized (and cached) at QA = 8, ACC = 32 whatever the design point says.
    pub fn canonical(&self) -> CostRequest {
        let mut r = *self;
        if r.unit == Unit::FrontEnd {
            r.point.act_bits = 8;
            r.point.acc_bits = 32;
        }
        r
    }
}

/// What can go wrong.
#[derive(Debug, thiserror::Error)]
pub enum CostError {
    /// yosys is not on PATH.
    #[error("yosys is not installed (scripts/setup installs it from Debian)")]
    YosysMissing,
    /// The design point is illegal.
    #[error("{0}")]
    BadPoint(#[from] DesignPointError),
    /// A latch was inferred.
    #[error("{module} {format}: a latch was inferred (log: {})", log.display())]
    Latch { module: String, format: String, log: PathBuf },
    /// yosys failed.
    #[error("yosys failed on {module} {format}: {first_error} (log: {})", log.display())]
    YosysFailed { module: String, format: String, first_error: String, log: PathBuf },
    /// nextpnr failed for another reason than the design not fitting.
    #[error("nextpnr-ice40 failed on {module} {format}: {first_error} (log: {})", log.display())]
    NextpnrFailed { module: String, format: String, first_error: String, log: PathBuf },
    /// A tool ran past the timeout.
    #[error("{tool} on {module} {format} ran over {seconds} s and was killed (log: {})", log.display())]
    Timeout { tool: String, module: String, format: String, seconds: u64, log: PathBuf },
    /// A report did not have the expected shape.
    #[error("cannot parse {what} in {}", path.display())]
    Parse { what: String, path: PathBuf },
    /// File system.
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    /// The RTL this binary carries could not be written out.
    #[error(transparent)]
    Rtl(#[from] crate::rtl::RtlDirError),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> CostError + '_ {
    move |source| CostError::Io { path: path.to_path_buf(), source }
}

/// Versions of yosys and nextpnr-ice40 (None: not installed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tools {
    /// `yosys -V`.
    pub yosys: Option<String>,
    /// `nextpnr-ice40 --version`.
    pub nextpnr: Option<String>,
}

/// Looks the tools up on PATH.
pub fn tools() -> Tools {
    let version = |cmd: &str, arg: &str| {
        let out = Command::new(cmd).arg(arg).stdin(Stdio::null()).output().ok()?;
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        out.status.success().then(|| text.lines().next().unwrap_or("").trim().to_string())
    };
    Tools { yosys: version("yosys", "-V"), nextpnr: version("nextpnr-ice40", "--version") }
}

/// The parameters of a request, FORMAT first.
pub fn params(req: &CostRequest) -> Vec<(String, i64)> {
    let mut v = vec![("FORMAT".to_string(), i64::from(facts().format_code(req.format)))];
    v.extend(req.point.params().into_iter().map(|(n, x)| (n.to_string(), x)));
    v
}

/// 64-bit FNV-1a, stable across builds (the cache key must not change with the compiler).
fn fnv(h: &mut u64, bytes: &[u8]) {
    for b in bytes {
        *h ^= u64::from(*b);
        *h = h.wrapping_mul(0x0100_0000_01b3);
    }
    // separator, so that ("ab", "c") and ("a", "bc") differ
    *h ^= 0xff;
    *h = h.wrapping_mul(0x0100_0000_01b3);
}

/// The cache key of a request: RTL contents (every `.v` / `.vh` of the RTL directory), module,
/// parameters, flow, tool versions, and whether the FPGA flow runs.
pub fn cache_key(req: &CostRequest, opts: &CostOptions, tools: &Tools) -> Result<String, CostError> {
    let rtl_dir = opts.rtl()?;
    let mut files: Vec<PathBuf> = fs::read_dir(&rtl_dir)
        .map_err(io(&rtl_dir))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "v" || x == "vh"))
        .collect();
    files.sort();
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    let mut h2 = 0x6c62_272e_07bb_0142u64;
    let mut feed = |b: &[u8]| {
        fnv(&mut h, b);
        fnv(&mut h2, b);
        h2 = h2.rotate_left(7);
    };
    feed(FLOW_VERSION.as_bytes());
    feed(req.unit.module().as_bytes());
    for (n, v) in params(req) {
        feed(format!("{n}={v}").as_bytes());
    }
    feed(tools.yosys.as_deref().unwrap_or("-").as_bytes());
    let fpga = opts.fpga && tools.nextpnr.is_some();
    feed(if fpga { tools.nextpnr.as_deref().unwrap_or("-").as_bytes() } else { b"no-fpga" });
    for f in &files {
        feed(f.file_name().map(|n| n.as_encoded_bytes()).unwrap_or_default());
        feed(&fs::read(f).map_err(io(f))?);
    }
    Ok(format!("{}-{}-{}-{:016x}{:08x}", req.unit.name(), req.format.name(), req.point.name(), h, h2 as u32))
}

/// Costs of every request, up to `opts.jobs` at once, in request order. `progress` gets one line
/// per finished request (and per started synthesis).
pub fn cost_all(
    reqs: &[CostRequest],
    opts: &CostOptions,
    progress: &(dyn Fn(&str) + Sync),
) -> Vec<Result<CostRun, CostError>> {
    let tools = tools();
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<CostRun, CostError>>>> = Mutex::new(reqs.iter().map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..opts.jobs.clamp(1, reqs.len().max(1)) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(req) = reqs.get(i) else { break };
                let r = cost_with(req, opts, &tools, progress);
                results.lock().unwrap()[i] = Some(r);
            });
        }
    });
    results.into_inner().unwrap().into_iter().map(|r| r.expect("every request ran")).collect()
}

/// The cached cost of a request, if any (nothing is synthesized): looked up with and without the
/// FPGA flow, the FPGA one first.
pub fn cached(req: &CostRequest, opts: &CostOptions) -> Option<CostRun> {
    let t0 = Instant::now();
    let req = &req.canonical();
    req.point.validate().ok()?;
    let tools = tools();
    let mut first = opts.clone();
    first.fpga = true;
    let mut second = opts.clone();
    second.fpga = false;
    [first, second].iter().find_map(|o| {
        let dir = o.cache_dir.join(cache_key(req, o, &tools).ok()?);
        let cost = read_entry(&dir)?;
        Some(CostRun { cost, from_cache: true, seconds: t0.elapsed().as_secs_f64(), dir })
    })
}

/// The cost of one request (cached).
pub fn cost(req: &CostRequest, opts: &CostOptions) -> Result<CostRun, CostError> {
    cost_with(req, opts, &tools(), &|_| {})
}

fn cost_with(
    req: &CostRequest,
    opts: &CostOptions,
    tools: &Tools,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<CostRun, CostError> {
    let t0 = Instant::now();
    req.point.validate()?;
    let req = &req.canonical();
    if tools.yosys.is_none() {
        return Err(CostError::YosysMissing);
    }
    let key = cache_key(req, opts, tools)?;
    let dir = opts.cache_dir.join(&key);
    let what = format!("{} {} {}", req.unit.name(), req.format.name(), req.point.name());
    if opts.use_cache {
        if let Some(cost) = read_entry(&dir) {
            return Ok(CostRun { cost, from_cache: true, seconds: t0.elapsed().as_secs_f64(), dir });
        }
    }
    fs::create_dir_all(&opts.cache_dir).map_err(io(&opts.cache_dir))?;
    let tmp = opts.cache_dir.join(format!(".tmp-{key}-{}-{}", std::process::id(), unique()));
    fs::create_dir_all(&tmp).map_err(io(&tmp))?;
    progress(&format!("cost: synthesizing {what} ..."));
    let result = run_flows(req, opts, tools, &key, &tmp, &dir, progress);
    let cost = match result {
        Ok(c) => c,
        Err(e) => {
            // keep the logs of a failure where the error message points (the final directory)
            let failed = opts.cache_dir.join(format!("failed-{key}"));
            let _ = fs::remove_dir_all(&failed);
            let _ = fs::rename(&tmp, &failed);
            return Err(relocate(e, &tmp, &failed));
        }
    };
    // the netlist is large and only nextpnr needs it
    let _ = fs::remove_file(tmp.join("ice40.json"));
    let json = serde_json::to_vec_pretty(&cost).expect("a cost serializes");
    let res = tmp.join("result.json");
    fs::write(&res, json).map_err(io(&res))?;
    if fs::rename(&tmp, &dir).is_err() {
        // another run finished the same entry first: keep theirs
        let _ = fs::remove_dir_all(&tmp);
        if read_entry(&dir).is_none() {
            return Err(CostError::Parse { what: "result.json".into(), path: dir.join("result.json") });
        }
    }
    Ok(CostRun { cost, from_cache: false, seconds: t0.elapsed().as_secs_f64(), dir })
}

fn unique() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0)
}

fn read_entry(dir: &Path) -> Option<Cost> {
    serde_json::from_slice(&fs::read(dir.join("result.json")).ok()?).ok()
}

/// Rewrites log paths of an error from the temporary directory to where the logs were kept.
fn relocate(e: CostError, from: &Path, to: &Path) -> CostError {
    let fix = |p: PathBuf| p.strip_prefix(from).map(|r| to.join(r)).unwrap_or(p);
    match e {
        CostError::Latch { module, format, log } => CostError::Latch { module, format, log: fix(log) },
        CostError::YosysFailed { module, format, first_error, log } => {
            CostError::YosysFailed { module, format, first_error, log: fix(log) }
        }
        CostError::NextpnrFailed { module, format, first_error, log } => {
            CostError::NextpnrFailed { module, format, first_error, log: fix(log) }
        }
        CostError::Timeout { tool, module, format, seconds, log } => {
            CostError::Timeout { tool, module, format, seconds, log: fix(log) }
        }
        CostError::Parse { what, path } => CostError::Parse { what, path: fix(path) },
        e => e,
    }
}

/// Runs a tool in `dir` with stdout and stderr to `log`; Ok(success) or a timeout.
fn run_tool(cmd: &mut Command, dir: &Path, log: &Path, timeout: Duration) -> Result<Option<bool>, CostError> {
    let f = fs::File::create(log).map_err(io(log))?;
    let f2 = f.try_clone().map_err(io(log))?;
    let mut child =
        cmd.current_dir(dir).stdin(Stdio::null()).stdout(f).stderr(f2).spawn().map_err(io(Path::new("yosys")))?;
    let start = Instant::now();
    loop {
        match child.try_wait().map_err(io(log))? {
            Some(st) => return Ok(Some(st.success())),
            None if start.elapsed() > timeout => {
                let _ = child.kill();
                let _ = child.wait();
                return Ok(None);
            }
            None => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}

fn first_error(log: &Path) -> String {
    let text = fs::read_to_string(log).unwrap_or_default();
    text.lines()
        .find(|l| l.starts_with("ERROR:") || l.contains("ERROR:"))
        .map(|l| l.trim().trim_start_matches("ERROR:").trim().to_string())
        .unwrap_or_else(|| "no ERROR line in the log".into())
}

fn yosys(req: &CostRequest, opts: &CostOptions, dir: &Path, script: &str, name: &str) -> Result<(), CostError> {
    let ys = dir.join(format!("{name}.ys"));
    fs::write(&ys, script).map_err(io(&ys))?;
    let log = dir.join(format!("{name}.log"));
    let (module, format) = (req.unit.module().to_string(), req.format.name().to_string());
    match run_tool(Command::new("yosys").args(["-q", "-s"]).arg(&ys), dir, &log, opts.tool_timeout)? {
        Some(true) => Ok(()),
        Some(false) => {
            let first_error = first_error(&log);
            if first_error.contains("select -assert-none")
                || first_error.contains("DLATCH")
                || first_error.contains("dlatch")
            {
                Err(CostError::Latch { module, format, log })
            } else {
                Err(CostError::YosysFailed { module, format, first_error, log })
            }
        }
        None => {
            Err(CostError::Timeout { tool: "yosys".into(), module, format, seconds: opts.tool_timeout.as_secs(), log })
        }
    }
}

fn read(path: PathBuf) -> Result<String, CostError> {
    fs::read_to_string(&path).map_err(io(&path))
}

fn run_flows(
    req: &CostRequest,
    opts: &CostOptions,
    tools: &Tools,
    key: &str,
    tmp: &Path,
    final_dir: &Path,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<Cost, CostError> {
    let rtl_dir = opts.rtl()?;
    let rtl = rtl_dir.canonicalize().map_err(io(&rtl_dir))?;
    let rtl = rtl.to_string_lossy().to_string();
    let module = req.unit.module();
    let params = params(req);
    let parse_err = |what: &str, file: &str| CostError::Parse { what: what.into(), path: final_dir.join(file) };

    let t = Instant::now();
    yosys(req, opts, tmp, &script::generic(&rtl, module, &params), "yosys")?;
    let synth_seconds = t.elapsed().as_secs_f64();
    let mem = parse::stat(&read(tmp.join("mem.txt"))?).ok_or_else(|| parse_err("memory bits", "mem.txt"))?;
    let st = parse::stat(&read(tmp.join("stat.txt"))?).ok_or_else(|| parse_err("cell counts", "stat.txt"))?;
    let (levels, from, to) = parse::ltp(&read(tmp.join("ltp.txt"))?).ok_or_else(|| parse_err("ltp path", "ltp.txt"))?;
    let what = format!("{} {} {}", req.unit.name(), req.format.name(), req.point.name());
    progress(&format!("cost: {what}: {} cells, {} levels (yosys {synth_seconds:.0} s)", st.cells, levels));

    let fpga = if !opts.fpga {
        Fpga::Skipped { reason: "not asked (--no-fpga)".into() }
    } else if tools.nextpnr.is_none() {
        Fpga::Skipped { reason: "nextpnr-ice40 not installed".into() }
    } else if lc_estimate(st.cells, mem.memory_bits) > 1.5 * DEVICE_LCS as f64 {
        Fpga::Skipped {
            reason: format!(
                "far over the device: {} generic cells ({} of them memory bits as flip-flops), >= ~{} LCs; HX8K has {}",
                thousands(st.cells),
                thousands(mem.memory_bits),
                thousands(lc_estimate(st.cells, mem.memory_bits) as u64),
                thousands(DEVICE_LCS)
            ),
        }
    } else {
        let f = fpga_flow(req, opts, tmp, module, &params)?;
        progress(&format!("cost: {what}: {}", fpga_summary(&f)));
        f
    };
    let flip_flops = parse::flip_flops(&st.by_kind);
    let tools_s = match (&tools.yosys, opts.fpga, &tools.nextpnr) {
        (Some(y), true, Some(n)) => format!("{y}; {n}"),
        (y, _, _) => y.clone().unwrap_or_default(),
    };
    Ok(Cost {
        unit: req.unit,
        module: module.to_string(),
        format: req.format.name().to_string(),
        point: req.point.name(),
        params,
        cells: st.cells,
        cells_by_kind: st.by_kind,
        flip_flops,
        memory_bits: mem.memory_bits,
        logic_levels: levels,
        path_from: from,
        path_to: to,
        synth_seconds,
        fpga,
        tools: tools_s,
        key: key.to_string(),
    })
}

fn fpga_flow(
    req: &CostRequest,
    opts: &CostOptions,
    dir: &Path,
    module: &str,
    params: &[(String, i64)],
) -> Result<Fpga, CostError> {
    let t = Instant::now();
    let rtl_dir = opts.rtl()?;
    let rtl = rtl_dir.canonicalize().map_err(io(&rtl_dir))?;
    let pins = dir.join("pins.v");
    fs::write(&pins, script::wrapper(req.unit, module, params)).map_err(io(&pins))?;
    yosys(req, opts, dir, &script::ice40(&rtl.to_string_lossy(), params), "ice40")?;
    let log = dir.join("nextpnr.log");
    let mut cmd = Command::new("nextpnr-ice40");
    cmd.args(["--hx8k", "--package", "ct256", "--json", "ice40.json", "--freq", "50", "--seed", "1"]);
    cmd.arg("--timing-allow-fail");
    let (m, f) = (module.to_string(), req.format.name().to_string());
    let ok = match run_tool(&mut cmd, dir, &log, opts.tool_timeout)? {
        Some(ok) => ok,
        None => {
            return Err(CostError::Timeout {
                tool: "nextpnr-ice40".into(),
                module: m,
                format: f,
                seconds: opts.tool_timeout.as_secs(),
                log,
            })
        }
    };
    let p = parse::nextpnr(&read(log.clone())?);
    let seconds = t.elapsed().as_secs_f64();
    let over = |u: Option<(u64, u64)>| u.filter(|(a, b)| a > b);
    if let Some((lcs, cap)) = over(p.lcs) {
        let reason = format!("needs {} LCs, HX8K has {}", thousands(lcs), thousands(cap));
        return Ok(Fpga::DoesNotFit { reason, lcs: Some(lcs), seconds });
    }
    if let Some((n, cap)) = over(p.brams) {
        let reason = format!("needs {n} block RAMs, HX8K has {cap}");
        return Ok(Fpga::DoesNotFit { reason, lcs: p.lcs.map(|x| x.0), seconds });
    }
    if let Some((n, cap)) = over(p.ios) {
        let reason = format!("needs {n} I/O, HX8K ct256 has {cap}");
        return Ok(Fpga::DoesNotFit { reason, lcs: p.lcs.map(|x| x.0), seconds });
    }
    match (ok, p.lcs, p.fmax_mhz) {
        (true, Some((lcs, _)), Some(fmax_mhz)) => Ok(Fpga::Placed {
            lcs,
            brams: p.brams.map_or(0, |b| b.0),
            ios: p.ios.map_or(0, |b| b.0),
            fmax_mhz,
            seconds,
        }),
        (true, _, _) => Err(CostError::Parse { what: "nextpnr utilisation and Fmax".into(), path: log }),
        (false, _, _) => {
            if let Some(e) = p.error.as_deref().filter(|e| e.contains("Unable to place")) {
                let reason = format!("does not place: {}", e.trim_start_matches("ERROR:").trim());
                return Ok(Fpga::DoesNotFit { reason, lcs: p.lcs.map(|x| x.0), seconds });
            }
            Err(CostError::NextpnrFailed {
                module: m,
                format: f,
                first_error: p.error.unwrap_or_else(|| "no ERROR line in the log".into()),
                log,
            })
        }
    }
}

/// A low estimate of the iCE40 logic cells of a generic netlist: memories, which generic `synth`
/// maps to a flip-flop and about one read-mux cell per bit, may go to block RAM instead.
fn lc_estimate(cells: u64, memory_bits: u64) -> f64 {
    cells.saturating_sub(2 * memory_bits) as f64 * LC_PER_CELL_LOW
}

/// `12345` as `12,345`.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// One line on the FPGA result: `2,290 LCs, 0 BRAM, 24.0 MHz` or why not.
pub fn fpga_summary(f: &Fpga) -> String {
    match f {
        Fpga::Placed { lcs, brams, fmax_mhz, .. } => {
            format!("{} LCs, {brams} BRAM, {fmax_mhz:.1} MHz", thousands(*lcs))
        }
        Fpga::DoesNotFit { reason, .. } => format!("does not fit: {reason}"),
        Fpga::Skipped { reason } => format!("not placed: {reason}"),
    }
}
