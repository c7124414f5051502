//! Co-simulation: runs a layer's encoded stream through the RTL top of its format (a Verilator
//! model, through `weightstream-sim`), and checks every beat entering the PE array and every
//! output y against the golden model, under input gaps and output backpressure. On the first
//! mismatch it re-runs the same (deterministic) simulation with a waveform of the cycles around
//! it and reports the path, cycle, layer, beat and lane.
//!
//! A layer with more rows than the PE array holds (O > MAX_O) runs as row blocks (see
//! [`crate::blocks`]), one start of the top per block, and its run sums the blocks'.
//!
//! This module maps formats to tops and streams to pins; the harness crate knows only pins. The
//! top, its FORMAT codes and parameters come from the RTL facts table ([`crate::rtl`]); a design
//! point that is not built in is verilated and compiled on demand into the weightstream cache.

use std::path::{Path, PathBuf};
use std::time::Instant;

use bitvec::field::BitField;
use serde::Serialize;
use weightstream_sim::{
    build_model, find_model, BuildEvent, BuildRequest, Model, ModelInfo, Pause, PortId, Sim, SimError,
};

use crate::bits::{sign_extend, word_limbs};
use crate::blocks::{self, BlockedStream};
use crate::formats::{EncodedStream, Format};
use crate::matrix::QuantMatrix;
use crate::pe;
pub use crate::rtl::RtlError;
use crate::rtl::{facts, DesignPoint};
/// Cycles before the first mismatch that its waveform shows.
const WAVE_BEFORE: u64 = 48;
/// Cycles after it.
const WAVE_AFTER: u64 = 12;

/// Which traffic pattern drives the stream inputs and the outputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Traffic {
    /// Inputs always valid, outputs always ready: the throughput measurement.
    Full,
    /// Inputs go three cycles in four, outputs ready three in four.
    Pattern,
    /// Seeded random gaps on inputs and backpressure on outputs (30% each).
    Random,
}

impl Traffic {
    /// All patterns, for tests that cross them.
    pub const ALL: [Traffic; 3] = [Traffic::Full, Traffic::Pattern, Traffic::Random];

    fn pauses(self, seed: u64) -> (Pause, Pause, Pause) {
        match self {
            Traffic::Full => (Pause::None, Pause::None, Pause::None),
            Traffic::Pattern => {
                let p = Pause::Pattern(vec![true, true, true, false]);
                (p.clone(), p.clone(), p)
            }
            Traffic::Random => (
                Pause::Random { seed, p_pause: 0.3 },
                Pause::Random { seed: seed ^ 0xa5a5, p_pause: 0.3 },
                Pause::Random { seed: seed ^ 0x5a5a, p_pause: 0.3 },
            ),
        }
    }
}

/// Options of a co-simulation run.
#[derive(Debug, Clone)]
pub struct CosimOptions {
    /// Input gaps and output backpressure.
    pub traffic: Traffic,
    /// Seed of random traffic and of the activations.
    pub seed: u64,
    /// Where mismatch waveforms go.
    pub wave_dir: PathBuf,
}

impl Default for CosimOptions {
    fn default() -> Self {
        CosimOptions { traffic: Traffic::Full, seed: 1, wave_dir: PathBuf::from("target/cosim-waves") }
    }
}

/// What the RTL must produce for one run.
#[derive(Debug, Clone)]
pub struct Expected {
    /// Golden beats, N lanes each, in stream order.
    pub beats: Vec<i32>,
    /// Golden y = W a, accumulated in wrapping ACC bits (sign-extended).
    pub y: Vec<i64>,
    /// For a malformed stream: the error the RTL must flag (its beats must then be a prefix of
    /// `beats`, and no y may come out).
    pub error: Option<RtlError>,
}

/// The first thing that went wrong in a run, with where to look.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Mismatch {
    /// Row block of the layer (0 when the layer is one block).
    pub block: usize,
    /// Clock cycle (rising edges since the model was created).
    pub cycle: u64,
    /// Beat number in stream order, for a beat mismatch.
    pub beat: Option<u64>,
    /// Lane, for a beat mismatch.
    pub lane: Option<usize>,
    /// What differed.
    pub what: String,
    /// Waveform of the cycles around it.
    pub wave: Option<PathBuf>,
}

/// Measured result of one layer through one RTL top.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct LayerRun {
    /// Layer name.
    pub layer: String,
    /// Format (and top) simulated.
    pub format: Format,
    /// Registry name of the Verilator model.
    pub model: String,
    /// Row blocks the layer ran as (ceil(O / MAX_O)); every count below sums them.
    pub blocks: usize,
    /// Beats the golden model expects.
    pub beats_expected: u64,
    /// Beats compared equal, lane by lane.
    pub beats_verified: u64,
    /// Outputs y compared equal.
    pub y_verified: u64,
    /// Beats, outputs and end-of-run checks that failed.
    pub mismatches: u64,
    /// Decode-phase cycles (start to last beat), from the RTL's counter.
    pub cycles: u64,
    /// Bus words the RTL accepted.
    pub words: u64,
    /// Beats the RTL fired into the PE array.
    pub beats: u64,
    /// Decode cycles starved by the input.
    pub starved: u64,
    /// Decode cycles stalled by the PE array.
    pub stalled: u64,
    /// Cycles from start to done (or error), outputs included.
    pub total_cycles: u64,
    /// max(beats, words) / cycles: 1.0 is one beat or one word every cycle.
    pub efficiency: f64,
    /// Error the RTL flagged, if any.
    pub error: Option<RtlError>,
    /// The first mismatch, if any.
    pub first_mismatch: Option<Mismatch>,
    /// Wall-clock seconds of the simulation.
    pub seconds: f64,
}

/// Co-simulation could not run.
#[derive(Debug, thiserror::Error)]
pub enum CosimError {
    #[error("{0}")]
    Design(#[from] crate::rtl::DesignPointError),
    #[error("no RTL model for {format} at {design}: {source}")]
    Build { format: Format, design: String, source: SimError },
    #[error(transparent)]
    Rtl(#[from] crate::rtl::RtlDirError),
    #[error("layer {layer}: O = {rows} exceeds the model's MAX_O = {max}")]
    TooManyRows { layer: String, rows: usize, max: i64 },
    #[error("simulator: {0}")]
    Sim(#[from] SimError),
    #[error("layer {layer}: {source}")]
    Encode { layer: String, source: crate::blocks::BlockError },
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("RTL mismatch: {0}")]
    Mismatch(String),
    #[error("parallel co-simulation: {0}")]
    Pool(String),
    #[error("layer {layer}: {format} does not apply: {reason}")]
    NotApplicable { layer: String, format: Format, reason: String },
}

impl CosimError {
    /// True when the format does not apply to the layer (nm on a layer that is not n:m): nothing
    /// was simulated, and nothing is wrong.
    pub fn not_applicable(&self) -> bool {
        matches!(self, CosimError::NotApplicable { .. })
    }
}

pub use crate::rtl::rtl_dir;

/// The top's parameters for a format at a design point, FORMAT first.
fn top_params(format: Format, design: &DesignPoint) -> Vec<(&'static str, i64)> {
    let mut params = vec![("FORMAT", i64::from(facts().format_code(format)))];
    params.extend(design.params());
    params
}

/// Registry name of the model of a format at a design point, e.g. `ws_top_bitmap_n16_q8_b64`.
pub fn model_name(format: Format, design: &DesignPoint) -> String {
    format!("ws_top_{}_{}", format.name().replace('-', "_"), design.name())
}

/// The model for a format at a design point: linked in (a built-in set), already built, or
/// built now into the cache (`events` hears what is built and how long it took).
pub fn model_for(
    format: Format,
    design: &DesignPoint,
    events: &mut dyn FnMut(BuildEvent),
) -> Result<&'static ModelInfo, CosimError> {
    design.validate()?;
    let top = &facts().top;
    let params = top_params(format, design);
    if let Some(m) = find_model(top, &params) {
        return Ok(m);
    }
    let req = BuildRequest {
        name: model_name(format, design),
        top: top.clone(),
        param_set: design.name(),
        params: params.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
        rtl_dir: rtl_dir()?,
        cache_dir: crate::model::cache_dir(),
    };
    build_model(&req, events).map_err(|source| CosimError::Build { format, design: design.to_string(), source })
}

/// What [`weightstream_sim::build_testbench`] needs to build a plain C++ testbench of the top of
/// `format` at `design` (the bench's yardstick for the harness's cost per cycle).
pub fn testbench_request(format: Format, design: &DesignPoint) -> Result<BuildRequest, CosimError> {
    Ok(BuildRequest {
        name: model_name(format, design),
        top: facts().top.clone(),
        param_set: design.name(),
        params: top_params(format, design).iter().map(|(k, v)| (k.to_string(), *v)).collect(),
        rtl_dir: rtl_dir()?,
        cache_dir: crate::model::cache_dir(),
    })
}

/// Golden beats (`lanes` values of `q` bits each) packed as the beat monitor port shows them:
/// little-endian u32 limbs, `ceil(lanes * q / 32)` per beat, lane 0 in the low bits.
pub fn packed_beats(beats: &[i32], lanes: usize, q: u32) -> Vec<u32> {
    let limbs = (lanes * q as usize).div_ceil(32);
    let n = beats.len() / lanes.max(1);
    let mut out = vec![0u32; n * limbs];
    for (b, chunk) in beats.chunks_exact(lanes).enumerate() {
        let row = &mut out[b * limbs..(b + 1) * limbs];
        for (l, &v) in chunk.iter().enumerate() {
            let bit = l * q as usize;
            let raw = (v as u32 as u64) & crate::bits::mask(q);
            let shifted = raw << (bit % 32);
            row[bit / 32] |= shifted as u32;
            if let Some(hi) = row.get_mut(bit / 32 + 1) {
                *hi |= (shifted >> 32) as u32;
            }
        }
    }
    out
}

/// Makes sure every format's model exists at `design` before a run, printing to stderr what is
/// being built and how long it took (nothing when all are linked in or cached). Two models are
/// built at a time.
pub fn prepare_models(formats: &[Format], design: &DesignPoint, quiet: bool) -> Result<(), CosimError> {
    let say = |e: BuildEvent| {
        if quiet {
            return;
        }
        match e {
            BuildEvent::BuildingRuntime => eprintln!("rtl: compiling the Verilator runtime into the cache (once)"),
            BuildEvent::Building { name, traced } => eprintln!(
                "rtl: building {name} ({}{design}): verilating and compiling",
                if traced { "traced, " } else { "" }
            ),
            BuildEvent::Built { name, seconds, .. } => eprintln!("rtl: built {name} in {seconds:.1} s"),
            BuildEvent::Waiting { what } => eprintln!("rtl: waiting for {what}, which another run is building"),
            BuildEvent::Damaged { name, why, .. } => eprintln!("rtl: cached {name} is damaged ({why}): rebuilding"),
            BuildEvent::Cached { .. } => {}
        }
    };
    let next = std::sync::atomic::AtomicUsize::new(0);
    let first_err = std::sync::Mutex::new(None);
    std::thread::scope(|s| {
        for _ in 0..2.min(formats.len()) {
            s.spawn(|| {
                while let Some(&f) = formats.get(next.fetch_add(1, std::sync::atomic::Ordering::SeqCst)) {
                    if let Err(e) = model_for(f, design, &mut |e| say(e)) {
                        first_err.lock().unwrap_or_else(|p| p.into_inner()).get_or_insert(e);
                    }
                }
            });
        }
    });
    first_err.into_inner().unwrap_or_else(|p| p.into_inner()).map_or(Ok(()), Err)
}

/// The built-in parameter sets (the models linked into this binary), by name.
pub fn built_configs() -> Vec<(&'static str, DesignPoint)> {
    facts().sets.iter().filter_map(|s| Some((s.name.as_str(), facts().set(&s.name)?))).collect()
}

/// The golden expectation for a well-formed `format` stream of `w` with activations `a` (its
/// beats in the format's beat order).
pub fn expected(format: Format, w: &QuantMatrix, a: &[i32], design: &DesignPoint) -> Expected {
    let beats = format.beats(w, &design.stream());
    Expected { beats, y: pe::matvec_acc(w, a, design.acc_bits), error: None }
}

/// Port ids of a top, resolved once (the co-simulation and the hostile-stream runs share them).
pub(crate) struct Pins {
    pub(crate) start: PortId,
    pub(crate) rows: PortId,
    pub(crate) cols: PortId,
    pub(crate) beat_fire: PortId,
    pub(crate) beat_data: PortId,
    pub(crate) y_valid: PortId,
    pub(crate) y_ready: PortId,
    pub(crate) y_data: PortId,
    pub(crate) done: PortId,
    pub(crate) error: PortId,
    pub(crate) error_code: PortId,
    pub(crate) w_valid: PortId,
    pub(crate) w_ready: PortId,
    pub(crate) a_valid: PortId,
    pub(crate) a_ready: PortId,
    /// cnt_cycles_o, cnt_words_o, cnt_beats_o, cnt_starved_o, cnt_stalled_o.
    pub(crate) cnt: [PortId; 5],
}

impl Pins {
    pub(crate) fn resolve(m: &dyn Model) -> Result<Self, SimError> {
        Ok(Pins {
            start: m.port_id("start_i")?,
            rows: m.port_id("cfg_rows_i")?,
            cols: m.port_id("cfg_cols_i")?,
            beat_fire: m.port_id("mon_beat_fire_o")?,
            beat_data: m.port_id("mon_beat_data_o")?,
            y_valid: m.port_id("m_y_valid_o")?,
            y_ready: m.port_id("m_y_ready_i")?,
            y_data: m.port_id("m_y_data_o")?,
            done: m.port_id("done_o")?,
            error: m.port_id("error_o")?,
            error_code: m.port_id("error_code_o")?,
            w_valid: m.port_id("s_w_valid_i")?,
            w_ready: m.port_id("s_w_ready_o")?,
            a_valid: m.port_id("s_act_valid_i")?,
            a_ready: m.port_id("s_act_ready_o")?,
            cnt: [
                m.port_id("cnt_cycles_o")?,
                m.port_id("cnt_words_o")?,
                m.port_id("cnt_beats_o")?,
                m.port_id("cnt_starved_o")?,
                m.port_id("cnt_stalled_o")?,
            ],
        })
    }

    /// The five counters' values, in the order of `cnt`.
    pub(crate) fn counters(&self, m: &dyn Model) -> Result<[u64; 5], SimError> {
        let mut out = [0; 5];
        for (o, &c) in out.iter_mut().zip(&self.cnt) {
            *o = m.get_u64(c)?;
        }
        Ok(out)
    }
}

/// Compares every beat entering the PE array and every y leaving it, as they happen.
struct Scoreboard<'a> {
    expected: &'a Expected,
    /// `expected.beats` packed as the beat monitor shows them ([`packed_beats`]).
    golden: Vec<u32>,
    lanes: usize,
    q: u32,
    cycle: u64,
    beats_seen: u64,
    beats_ok: u64,
    y_seen: u64,
    y_ok: u64,
    errors_seen: bool,
    mismatches: u64,
    first: Option<Mismatch>,
    /// The beat monitor's value this cycle.
    limbs: Vec<u32>,
    /// ACC: width of y on the pins.
    acc_bits: u32,
}

impl Scoreboard<'_> {
    fn fail(&mut self, beat: Option<u64>, lane: Option<usize>, what: String) {
        self.mismatches += 1;
        if self.first.is_none() {
            self.first = Some(Mismatch { block: 0, cycle: self.cycle, beat, lane, what, wave: None });
        }
    }

    /// The beat in `self.limbs` fired: compare it with the next golden beat.
    #[inline]
    fn check_beat(&mut self) {
        let i = self.beats_seen;
        self.beats_seen += 1;
        if self.errors_seen {
            self.fail(Some(i), None, format!("beat {i} fired after the error flag"));
            return;
        }
        let k = (self.lanes * self.q as usize).div_ceil(32);
        match self.golden.get(i as usize * k..(i as usize + 1) * k) {
            Some(want) if want == self.limbs.as_slice() => self.beats_ok += 1,
            // Differs somewhere (or bits above the lanes are set): find the lane.
            Some(_) => self.check_lanes(i),
            None => {
                let n = self.expected.beats.len() / self.lanes;
                self.fail(Some(i), None, format!("beat {i} is one more than the {n} expected"));
            }
        }
    }

    /// Lane by lane comparison of beat `i`: reports the first differing lane.
    fn check_lanes(&mut self, i: u64) {
        let n = self.lanes;
        let golden = &self.expected.beats[i as usize * n..(i as usize + 1) * n];
        let q = self.q as usize;
        for (l, &want) in golden.iter().enumerate() {
            let bit = l * q;
            // A lane may straddle two 32-bit limbs.
            let lo = u64::from(self.limbs[bit / 32]);
            let hi = self.limbs.get(bit / 32 + 1).map_or(0, |&h| u64::from(h));
            let raw = ((hi << 32 | lo) >> (bit % 32)) & crate::bits::mask(self.q);
            let got = sign_extend(raw, self.q);
            if got != want {
                self.fail(Some(i), Some(l), format!("beat {i} lane {l}: RTL {got}, golden {want}"));
                return;
            }
        }
        self.beats_ok += 1;
    }

    /// Output y[j] = `got` came out.
    #[inline]
    fn check_y(&mut self, got: i64) {
        let j = self.y_seen;
        self.y_seen += 1;
        match self.expected.y.get(j as usize) {
            _ if self.expected.error.is_some() => {
                self.fail(None, None, format!("y[{j}] = {got} came out of a malformed stream"))
            }
            Some(&want) if want == got => self.y_ok += 1,
            Some(&want) => self.fail(None, None, format!("y[{j}]: RTL {got}, golden {want}")),
            None => self.fail(None, None, format!("y[{j}] is one more than O = {}", self.expected.y.len())),
        }
    }
}

/// How the cycle loop ended.
struct LoopEnd {
    hung: bool,
    /// Words and activations the RTL accepted.
    words_sent: usize,
    acts_sent: usize,
}

/// One run of a layer through a model; `wave` records a window of cycles to a file.
///
/// The cycle loop runs on the harness's fast path ([`Sim::hot`]): every port it touches is
/// resolved once to a pointer into the model, then read and written without dispatch. Per
/// cycle, as the stream agents of `weightstream-sim` do: the weight and activation sources
/// offer their next word when their pause says go (and hold it, valid high, until taken); the
/// output side drives ready per its pause; then the clock falls, the handshakes, the fired beat
/// and any y are checked, and the clock rises.
#[allow(clippy::too_many_arguments)]
fn simulate(
    info: &'static ModelInfo,
    layer: &str,
    stream: &EncodedStream,
    activations: &[i32],
    expected: &Expected,
    design: &DesignPoint,
    opts: &CosimOptions,
    wave: Option<(&Path, std::ops::Range<u64>)>,
) -> Result<LayerRun, CosimError> {
    let started = Instant::now();
    let format = stream.format;
    let model = if wave.is_some() { info.try_instantiate_traced()? } else { info.instantiate() };
    let mut sim = Sim::new(model)?;
    if let Some((path, window)) = &wave {
        sim.trace_window(path.to_path_buf(), window.clone())?;
    }
    let pins = Pins::resolve(sim.model())?;
    let p = &stream.params;
    let (pause_w, pause_a, pause_y) = opts.traffic.pauses(opts.seed);
    let (mut go_w, mut go_a, mut go_y) = (pause_w.generator()?, pause_a.generator()?, pause_y.generator()?);
    let m = sim.model();
    let (w_data, w_last, a_data) = (m.port_id("s_w_data_i")?, m.port_id("s_w_last_i")?, m.port_id("s_act_data_i")?);
    let w_len = m.port_info(w_data)?.words();
    let n_words = stream.bus_words();
    let bus = p.bus_bits as usize;
    let mut words = Vec::with_capacity(n_words * w_len);
    if bus % 32 == 0 && w_len == bus / 32 {
        // Whole limbs: the stream's bits, 32 at a time, are the words' limbs in order.
        words.extend(stream.bits[..n_words * bus].chunks_exact(32).map(|c| c.load_le::<u32>()));
    } else {
        for j in 0..n_words {
            let mut limbs = word_limbs(stream.word(j));
            limbs.resize(w_len, 0);
            words.extend_from_slice(&limbs);
        }
    }
    let acts: Vec<u64> =
        activations.iter().map(|&a| u64::from(a as u32) & crate::bits::mask(design.act_bits)).collect();
    let limbs = vec![0u32; m.port_info(pins.beat_data)?.words()];
    let mut board = Scoreboard {
        expected,
        golden: packed_beats(&expected.beats, p.lanes, p.weight_bits),
        lanes: p.lanes,
        q: p.weight_bits,
        cycle: 0,
        beats_seen: 0,
        beats_ok: 0,
        y_seen: 0,
        y_ok: 0,
        errors_seen: false,
        mismatches: 0,
        first: None,
        limbs,
        acc_bits: design.acc_bits,
    };

    sim.reset(2);
    sim.set(pins.rows, stream.rows as u64)?;
    sim.set(pins.cols, stream.cols as u64)?;
    sim.set(pins.start, 1)?;
    sim.step();
    sim.set(pins.start, 0)?;
    let start_cycle = sim.cycle();
    // Generous bound: a hang is reported as a mismatch, never waited out.
    let budget = 64 + 8 * (n_words + expected.beats.len() / p.lanes + stream.rows + stream.cols) as u64;
    let end = sim.hot(|c| -> Result<LoopEnd, SimError> {
        let (done, error) = (c.bit(pins.done)?, c.bit(pins.error)?);
        let (w_data, w_valid, w_last, w_ready) =
            (c.wire_in(w_data)?, c.bit_in(pins.w_valid)?, c.bit_in(w_last)?, c.bit(pins.w_ready)?);
        let (a_data, a_valid, a_ready) = (c.wire_in(a_data)?, c.bit_in(pins.a_valid)?, c.bit(pins.a_ready)?);
        let (y_valid, y_ready, y_data) = (c.bit(pins.y_valid)?, c.bit_in(pins.y_ready)?, c.wire(pins.y_data)?);
        let (fire, beat) = (c.bit(pins.beat_fire)?, c.wire(pins.beat_data)?);
        let shift = 64 - board.acc_bits;
        let (mut wi, mut ai) = (0usize, 0usize);
        let (mut w_offer, mut a_offer) = (false, false);
        let mut chunks = words.chunks_exact(w_len.max(1));
        let mut hung = true;
        while c.cycle() - start_cycle < budget {
            if c.get(done) || c.get(error) {
                hung = false;
                break;
            }
            board.cycle = c.cycle();
            // Drive: a source offers its next word when its pause says go and holds it until
            // the RTL takes it; the output side is ready when its pause says so.
            if !w_offer {
                if wi < n_words && go_w.next_go() {
                    c.set_words(w_data, chunks.next().unwrap_or_default());
                    c.set(w_last, wi + 1 == n_words);
                    c.set(w_valid, true);
                    w_offer = true;
                } else {
                    c.set(w_valid, false);
                    c.set(w_last, false);
                }
            }
            if !a_offer {
                if let Some(&a) = acts.get(ai).filter(|_| go_a.next_go()) {
                    c.set_u64(a_data, a);
                    c.set(a_valid, true);
                    a_offer = true;
                } else {
                    c.set(a_valid, false);
                }
            }
            c.set(y_ready, go_y.next_go());
            c.fall();
            // Sample the settled outputs: what happens at the coming rising edge.
            if w_offer && c.get(w_ready) {
                wi += 1;
                w_offer = false;
            }
            if a_offer && c.get(a_ready) {
                ai += 1;
                a_offer = false;
            }
            if c.get(fire) {
                c.get_words(beat, &mut board.limbs);
                board.check_beat();
            }
            if c.get(y_valid) && c.get_in(y_ready) {
                board.check_y(((c.get_u64(y_data) << shift) as i64) >> shift);
            }
            if c.get(error) {
                board.errors_seen = true;
            }
            c.rise();
        }
        Ok(LoopEnd { hung, words_sent: wi, acts_sent: ai })
    })??;
    let m = sim.model();
    let cnt = pins.counters(m)?;
    let error =
        RtlError::from_code(m.get_u64(pins.error_code)? as u32).filter(|_| m.get_u64(pins.error).ok() == Some(1));
    let total_cycles = sim.cycle() - start_cycle;
    board.cycle = sim.cycle();

    // End-of-run checks: what the RTL left undone or did twice.
    if end.hung {
        board.fail(None, None, format!("no done or error within {budget} cycles (hang)"));
    } else {
        match (expected.error, error) {
            (None, None) => {
                if board.beats_seen as usize * p.lanes != expected.beats.len() {
                    let want = expected.beats.len() / p.lanes;
                    board.fail(None, None, format!("{} beats fired, {want} expected", board.beats_seen));
                }
                if board.y_seen as usize != expected.y.len() {
                    board.fail(None, None, format!("{} outputs, O = {} expected", board.y_seen, expected.y.len()));
                }
                if end.words_sent != n_words || end.acts_sent != acts.len() {
                    board.fail(
                        None,
                        None,
                        format!(
                            "{} words and {} activations left unconsumed",
                            n_words - end.words_sent,
                            acts.len() - end.acts_sent
                        ),
                    );
                }
                if cnt[1] != n_words as u64 || cnt[2] != board.beats_seen {
                    board.fail(
                        None,
                        None,
                        format!(
                            "counters say {} words, {} beats; {} words sent, {} beats seen",
                            cnt[1], cnt[2], n_words, board.beats_seen
                        ),
                    );
                }
            }
            (want, got) if want != got => board.fail(None, None, format!("error flag {got:?}, expected {want:?}")),
            _ => {}
        }
    }
    let useful = cnt[1].max(cnt[2]);
    Ok(LayerRun {
        layer: layer.to_string(),
        format,
        model: info.name.to_string(),
        blocks: 1,
        beats_expected: (expected.beats.len() / p.lanes) as u64,
        beats_verified: board.beats_ok,
        y_verified: board.y_ok,
        mismatches: board.mismatches,
        cycles: cnt[0],
        words: cnt[1],
        beats: cnt[2],
        starved: cnt[3],
        stalled: cnt[4],
        total_cycles,
        efficiency: if cnt[0] == 0 { 0.0 } else { useful as f64 / cnt[0] as f64 },
        error,
        first_mismatch: board.first,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// A file name for a layer's (block's) waveform.
fn wave_path(dir: &Path, layer: &str, block: Option<usize>, format: Format, model: &str) -> PathBuf {
    let stem: String =
        layer.chars().map(|c| if c.is_ascii_alphanumeric() || c == '.' || c == '-' { c } else { '_' }).collect();
    let block = block.map_or(String::new(), |b| format!(".block{b}"));
    dir.join(format!("{stem}{block}.{}.{model}.vcd", format.name()))
}

/// Runs one stream (a layer, or one row block of it: `block`) through the RTL top of its
/// format at `design` and checks it against `expected`. On a mismatch, re-runs with a waveform
/// of the cycles around the first one.
pub fn run_layer(
    layer: &str,
    block: Option<usize>,
    stream: &EncodedStream,
    activations: &[i32],
    expected: &Expected,
    design: &DesignPoint,
    opts: &CosimOptions,
) -> Result<LayerRun, CosimError> {
    let info = model_for(stream.format, design, &mut |_| {})?;
    if stream.rows > design.max_rows && expected.error.is_none() {
        return Err(CosimError::TooManyRows {
            layer: layer.to_string(),
            rows: stream.rows,
            max: design.max_rows as i64,
        });
    }
    let mut run = simulate(info, layer, stream, activations, expected, design, opts, None)?;
    if let Some(first) = run.first_mismatch.as_mut() {
        first.block = block.unwrap_or(0);
    }
    if let Some(first) = &run.first_mismatch {
        std::fs::create_dir_all(&opts.wave_dir)
            .map_err(|source| CosimError::Io { path: opts.wave_dir.clone(), source })?;
        let path = wave_path(&opts.wave_dir, layer, block, stream.format, info.name);
        let window = first.cycle.saturating_sub(WAVE_BEFORE)..first.cycle + WAVE_AFTER;
        let traced = simulate(info, layer, stream, activations, expected, design, opts, Some((&path, window)))?;
        let written = path.exists().then_some(path);
        if let Some(f) = run.first_mismatch.as_mut() {
            f.wave = written;
        }
        debug_assert_eq!(traced.mismatches, run.mismatches, "re-run is deterministic");
    }
    Ok(run)
}

/// Runs every row block of a layer's stream through the RTL, each block its own start of the
/// top checked against its own golden beats and y (activations `a`, the layer's K values), and
/// sums the blocks into one run of the layer.
pub fn run_blocked(
    layer: &str,
    stream: &BlockedStream,
    w: &QuantMatrix,
    a: &[i32],
    design: &DesignPoint,
    opts: &CosimOptions,
) -> Result<LayerRun, CosimError> {
    if let Some(reason) = &stream.not_applicable {
        return Err(CosimError::NotApplicable {
            layer: layer.to_string(),
            format: stream.format,
            reason: reason.clone(),
        });
    }
    let parts = blocks::row_blocks(w, design.max_rows)
        .map_err(|source| CosimError::Encode { layer: layer.to_string(), source })?;
    let n = stream.blocks.len();
    let mut total: Option<LayerRun> = None;
    for (i, (s, part)) in stream.blocks.iter().zip(&parts).enumerate() {
        // beats in the order of the block's own parameters (nm: its m)
        let beats = s.format.beats(&part.matrix, &s.params);
        let exp = Expected { beats, y: pe::matvec_acc(&part.matrix, a, design.acc_bits), error: None };
        let run = run_layer(layer, (n > 1).then_some(i), s, a, &exp, design, opts)?;
        total = Some(match total {
            None => run,
            Some(t) => t.merge(run),
        });
    }
    let mut run = total.ok_or_else(|| CosimError::TooManyRows { layer: layer.to_string(), rows: 0, max: 0 })?;
    run.blocks = n;
    Ok(run)
}

/// Encodes `w` in `format` (as row blocks of at most MAX_O rows), runs it through the RTL at
/// `design` with seeded activations, checks every block.
pub fn run_matrix(
    layer: &str,
    w: &QuantMatrix,
    format: Format,
    design: &DesignPoint,
    opts: &CosimOptions,
) -> Result<LayerRun, CosimError> {
    run_matrix_as(layer, w, format, design, &design.stream(), opts)
}

/// [`run_matrix`] with the stream parameters given (the design point's, with another N:M
/// pattern for `nm`); a format that does not apply is [`CosimError::NotApplicable`].
pub fn run_matrix_as(
    layer: &str,
    w: &QuantMatrix,
    format: Format,
    design: &DesignPoint,
    params: &crate::formats::StreamParams,
    opts: &CosimOptions,
) -> Result<LayerRun, CosimError> {
    let stream = blocks::encode_blocks(format, w, params, design.max_rows)
        .map_err(|source| CosimError::Encode { layer: layer.to_string(), source })?;
    let a = pe::random_activations(w.cols, design.act_bits, opts.seed);
    run_blocked(layer, &stream, w, &a, design, opts)
}

/// Runs jobs `0..n` on a rayon pool, largest `cost` first (so that the big ones do not finish
/// last, alone), and hands each result with its index to `done`, on the calling thread, as they
/// complete. `done` returning `false` stops jobs that have not started yet. `threads`: a pool of
/// that many threads, else rayon's global pool (`RAYON_NUM_THREADS`, default one per core).
/// Each co-simulation job creates its own model instance (its own `VerilatedContext`), so jobs
/// share nothing.
pub fn run_parallel<T: Send>(
    n: usize,
    threads: Option<usize>,
    cost: impl Fn(usize) -> u64,
    job: impl Fn(usize) -> T + Sync,
    mut done: impl FnMut(usize, T) -> bool,
) -> Result<(), CosimError> {
    use rayon::iter::{ParallelBridge, ParallelIterator};
    use std::sync::atomic::{AtomicBool, Ordering};
    let pool = match threads {
        Some(t) => Some(
            rayon::ThreadPoolBuilder::new()
                .num_threads(t.max(1))
                .build()
                .map_err(|e| CosimError::Pool(e.to_string()))?,
        ),
        None => None,
    };
    let mut order: Vec<usize> = (0..n).collect();
    // Stable: equal costs keep their order.
    order.sort_by_key(|&k| std::cmp::Reverse(cost(k)));
    let stop = AtomicBool::new(false);
    let (tx, rx) = std::sync::mpsc::channel::<(usize, T)>();
    std::thread::scope(|scope| {
        let (stop, job, pool) = (&stop, &job, &pool);
        scope.spawn(move || {
            // par_bridge hands the jobs out in `order`, one at a time, to whichever thread is free.
            let work = move || {
                order.into_iter().par_bridge().for_each_with(tx, |tx, k| {
                    if !stop.load(Ordering::SeqCst) {
                        let _ = tx.send((k, job(k)));
                    }
                })
            };
            match pool {
                Some(p) => p.install(work),
                None => work(),
            }
        });
        for (k, r) in rx {
            if !done(k, r) {
                stop.store(true, Ordering::SeqCst);
                break;
            }
        }
    });
    Ok(())
}

/// Co-simulates a layer's streams (one per format, every row block) at `design` and returns
/// the report's RTL measurements, in the streams' order; saved % is against the dense stream's
/// measured words (0 when there is no dense stream). A mismatch is an error naming it. The
/// streams run in parallel (rayon's global pool); the result is the sequential one.
pub fn measure_layer(
    layer: &str,
    w: &QuantMatrix,
    streams: &[BlockedStream],
    design: &DesignPoint,
    opts: &CosimOptions,
) -> Result<Vec<crate::report::RtlMeasure>, CosimError> {
    let mut all = measure_layers(&[(layer, w, streams)], design, opts)?;
    Ok(all.pop().unwrap_or_default())
}

/// [`measure_layer`] for many layers at once, every (layer, stream) pair in parallel on rayon's
/// global pool, largest first: the measurements of each layer, in the input order, identical
/// to calling `measure_layer` on each in turn (the first error in that order is returned).
pub fn measure_layers(
    layers: &[(&str, &QuantMatrix, &[BlockedStream])],
    design: &DesignPoint,
    opts: &CosimOptions,
) -> Result<Vec<Vec<crate::report::RtlMeasure>>, CosimError> {
    let acts: Vec<Vec<i32>> =
        layers.iter().map(|(_, w, _)| pe::random_activations(w.cols, design.act_bits, opts.seed)).collect();
    let pairs: Vec<(usize, usize)> =
        layers.iter().enumerate().flat_map(|(i, (_, _, s))| (0..s.len()).map(move |j| (i, j))).collect();
    let mut slots: Vec<Option<Result<LayerRun, CosimError>>> = (0..pairs.len()).map(|_| None).collect();
    run_parallel(
        pairs.len(),
        None,
        |k| {
            let w = layers[pairs[k].0].1;
            (w.rows * w.cols) as u64
        },
        |k| {
            let (i, j) = pairs[k];
            let (name, w, streams) = layers[i];
            run_blocked(name, &streams[j], w, &acts[i], design, opts)
        },
        |k, r| {
            slots[k] = Some(r);
            true
        },
    )?;
    let mut slots = slots.into_iter();
    let mut out = Vec::with_capacity(layers.len());
    for (_, _, streams) in layers {
        // None: the format does not apply to the layer (its measure stays 0, the report n/a).
        let mut runs = Vec::with_capacity(streams.len());
        for _ in 0..streams.len() {
            let run = match slots.next().flatten().ok_or_else(|| CosimError::Pool("a job did not run".into()))? {
                Err(e) if e.not_applicable() => None,
                run => Some(run?),
            };
            if let Some(line) = run.as_ref().and_then(LayerRun::mismatch_line) {
                return Err(CosimError::Mismatch(line));
            }
            runs.push(run);
        }
        let dense = runs.iter().flatten().find(|r| r.format == Format::Dense).map(|r| r.words);
        out.push(runs.iter().map(|run| run.as_ref().map_or_else(Default::default, |r| r.rtl_measure(dense))).collect());
    }
    Ok(out)
}

impl LayerRun {
    /// What the report shows of this run; saved % against the dense top's measured words
    /// (0 without them).
    pub fn rtl_measure(&self, dense_words: Option<u64>) -> crate::report::RtlMeasure {
        crate::report::RtlMeasure {
            cycles: self.cycles,
            words: self.words,
            efficiency: self.efficiency,
            starved: self.starved,
            stalled: self.stalled,
            mismatches: self.mismatches,
            saved_pct: dense_words.map_or(0.0, |d| crate::report::saved_pct(self.words, d)),
        }
    }

    /// This run followed by the next row block's: counts add up, the first error and the first
    /// mismatch are kept.
    fn merge(mut self, next: LayerRun) -> LayerRun {
        self.beats_expected += next.beats_expected;
        self.beats_verified += next.beats_verified;
        self.y_verified += next.y_verified;
        self.mismatches += next.mismatches;
        self.cycles += next.cycles;
        self.words += next.words;
        self.beats += next.beats;
        self.starved += next.starved;
        self.stalled += next.stalled;
        self.total_cycles += next.total_cycles;
        self.efficiency = if self.cycles == 0 { 0.0 } else { self.words.max(self.beats) as f64 / self.cycles as f64 };
        self.error = self.error.or(next.error);
        self.first_mismatch = self.first_mismatch.or(next.first_mismatch);
        self.seconds += next.seconds;
        self
    }

    /// A one-line account of the first mismatch, for terminals and error messages.
    pub fn mismatch_line(&self) -> Option<String> {
        self.first_mismatch.as_ref().map(|f| {
            let block = if self.blocks > 1 { format!(" block {}", f.block) } else { String::new() };
            let mut s =
                format!("layer {}{block} ({}, {}): cycle {}: {}", self.layer, self.format, self.model, f.cycle, f.what);
            if let Some(b) = f.beat {
                s += &format!(" [beat {b}");
                if let Some(l) = f.lane {
                    s += &format!(", lane {l}");
                }
                s += "]";
            }
            match &f.wave {
                Some(p) => s += &format!("; waveform {}", p.display()),
                None => s += "; no waveform written",
            }
            s
        })
    }
}

#[cfg(test)]
mod tests {
    use super::run_parallel;

    #[test]
    fn run_parallel_hands_every_result_over_once() {
        for threads in [Some(1), Some(2), None] {
            let mut seen = vec![0; 50];
            run_parallel(
                50,
                threads,
                |k| (k % 7) as u64,
                |k| k * 2,
                |k, v| {
                    assert_eq!(v, k * 2);
                    seen[k] += 1;
                    true
                },
            )
            .unwrap();
            assert!(seen.iter().all(|&n| n == 1), "{threads:?}: {seen:?}");
        }
    }

    #[test]
    fn run_parallel_stops_when_told() {
        let mut count = 0;
        run_parallel(
            1000,
            Some(2),
            |_| 0,
            |k| k,
            |_, _| {
                count += 1;
                count < 3
            },
        )
        .unwrap();
        assert_eq!(count, 3, "nothing is handed over after `done` said stop");
    }
}
