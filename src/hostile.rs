//! Hostile streams into the RTL tops: random and mutated word streams (random length and bytes,
//! truncated, extended, bit-flipped and cross-format real streams, all-zero streams; for the nm
//! top also bad headers, bad positions and streams cut right after one, its real streams being
//! n:m layers of random patterns) driven into a top under seeded input gaps and output
//! backpressure, each checked against the golden software decoder ([`Format::decode`]) and a
//! stated cycle bound; plus a long soak of real streams that counts lost and duplicated beats.
//!
//! # What every hostile run must satisfy
//!
//! - **Ends.** `done_o` or `error_o` within
//!   `BOUND = 16 + W + T + O + K + 2*G` cycles of `start_i`, where W = words of the stream, T =
//!   beats of the configured layer (K * ceil(O/N)), O and K the configured shape, G = cycles in
//!   which the environment held something back (the word source had a word and kept valid low,
//!   the activation source had an activation and kept valid low, or the y sink kept ready low
//!   while y was valid). Derivation (rtl/README.md, "Errors"): in every decode-phase cycle
//!   that is not a gap a word is accepted or a beat fires, except for a constant start-up
//!   (first beat at the PE array in cycle 5 to 7: FIFO, funnel, a mask load, two or three
//!   pipeline stages) and the few cycles from the last beat the PE array took to done or error; an activation gap can cost one more cycle (the activation moves from the input to
//!   the current register); the y phase takes O cycles plus the sink's gaps.
//! - **Silence after an error.** From the cycle `error_o` is high on (and for 24 cycles after
//!   the run ends): no beat fires, no y is valid, no word and no activation is accepted.
//! - **The golden decoder decides.** With `sw = Format::decode(stream, O, K)` of the top's
//!   format: `sw` Ok(W) <=> RTL done, and then the fired beats equal `pe::beats(W)` exactly and
//!   y equals `pe::matvec_acc(W, a)`. `sw` Err(kind) => RTL error with the code of
//!   [`expected_code`]: Truncated -> 1, CountExceedsRows -> 2, RunPastColumnEnd -> 3,
//!   TrailingData and NonzeroFill -> 4, the Huffman header errors -> 6, InvalidCode -> 7,
//!   BadNmHeader -> 8, BadNmPosition -> 9; an `nm` header with n above the decoder's keep or
//!   log2 m above its max_log2_group is 8 whatever the golden decoder says ([`rtl_limit`]) (a bad configuration, O = 0 / O > MAX_O / K = 0, is 5
//!   before any stream check); no y comes out, and for a stream derived from a real one by
//!   truncation or extension the fired beats are a prefix of the real stream's beats.

use std::time::Instant;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use weightstream_sim::{build_model, BuildRequest, Model, ModelInfo, Pause, Sim, SimError, Sink, Source, StreamPorts};

use crate::bits::{sign_extend, word_limbs, Bits};
use crate::cosim::Pins;
use crate::formats::{DecodeErrorKind, Format, NmPattern};
use crate::matrix::QuantMatrix;
use crate::pe;
use crate::rtl::{facts, DesignPoint};

/// Cycles the run continues after done or error, watching for anything that must not happen.
pub const AFTER_END: u64 = 24;

/// Where the models come from: the ones linked in / the normal cache ([`crate::cosim::model_for`]),
/// or built on demand from another RTL directory (mutation testing) into another cache.
#[derive(Debug, Clone)]
pub enum ModelSource {
    /// `cosim::model_for`: built-in sets linked in, other points from the weightstream cache.
    Default,
    /// Always build from `rtl_dir` into `cache_dir`, model names suffixed with `tag`.
    Dir { rtl_dir: std::path::PathBuf, cache_dir: std::path::PathBuf, tag: String },
}

impl ModelSource {
    /// The top of `format` at `design`.
    pub fn top(&self, format: Format, design: &DesignPoint) -> Result<&'static ModelInfo, String> {
        match self {
            ModelSource::Default => crate::cosim::model_for(format, design, &mut |_| {}).map_err(|e| e.to_string()),
            ModelSource::Dir { .. } => {
                let mut params = vec![("FORMAT".to_string(), i64::from(facts().format_code(format)))];
                params.extend(design.params().into_iter().map(|(k, v)| (k.to_string(), v)));
                self.module(
                    &facts().top,
                    &format!("ws_top_{}_{}", format.name().replace('-', "_"), design.name()),
                    params,
                )
            }
        }
    }

    /// Any module of the RTL directory at `params`, registered as `name` (plus the tag).
    pub fn module(&self, top: &str, name: &str, params: Vec<(String, i64)>) -> Result<&'static ModelInfo, String> {
        let (rtl_dir, cache_dir, tag) = match self {
            ModelSource::Default => {
                (crate::cosim::rtl_dir().map_err(|e| e.to_string())?, crate::model::cache_dir(), String::new())
            }
            ModelSource::Dir { rtl_dir, cache_dir, tag } => (rtl_dir.clone(), cache_dir.clone(), format!("_{tag}")),
        };
        let req = BuildRequest {
            name: format!("{name}{tag}"),
            top: top.to_string(),
            param_set: name.to_string(),
            params,
            rtl_dir,
            cache_dir,
        };
        build_model(&req, &mut |_| {}).map_err(|e| format!("building {name}: {e}"))
    }
}

/// The seeded traffic of one run.
#[derive(Debug, Clone)]
pub struct Gaps {
    pub words: Pause,
    pub acts: Pause,
    pub y: Pause,
}

impl Gaps {
    /// Random gaps with probabilities chosen from `seed` (0 to 0.6 each side).
    pub fn random(seed: u64) -> Gaps {
        let mut r = ChaCha8Rng::seed_from_u64(seed ^ 0x6761_7073);
        let mut p = || [0.0, 0.1, 0.3, 0.6][r.random_range(0..4)];
        let (pw, pa, py) = (p(), p(), p());
        Gaps {
            words: Pause::Random { seed: seed ^ 1, p_pause: pw },
            acts: Pause::Random { seed: seed ^ 2, p_pause: pa },
            y: Pause::Random { seed: seed ^ 3, p_pause: py },
        }
    }
}

/// What came out of one run of a stream through a top.
#[derive(Debug, Clone, Default)]
pub struct Observed {
    /// Fired beats, N lanes each, flattened.
    pub beats: Vec<i32>,
    /// Output y values, sign-extended.
    pub y: Vec<i64>,
    pub done: bool,
    /// Error code, when error_o was high.
    pub error: Option<u32>,
    /// Cycles from start_i to the first cycle done or error was seen.
    pub cycles: u64,
    /// The stated bound for this run.
    pub bound: u64,
    /// No done and no error within the bound.
    pub hung: bool,
    /// Beats fired in or after the cycle error_o was first high.
    pub beats_after_error: u64,
    /// y handshakes (or y valid) in or after the cycle error_o was first high.
    pub y_after_error: u64,
    /// Words or activations accepted after the error.
    pub inputs_after_error: u64,
    /// Words the top accepted.
    pub words_accepted: u64,
    /// Gap cycles (G in the bound).
    pub gaps: u64,
    /// Counter port cnt_beats_o at the end.
    pub cnt_beats: u64,
    /// Counter ports at the end: decode cycles, words, starved and stalled cycles.
    pub cnt_cycles: u64,
    pub cnt_words: u64,
    pub cnt_starved: u64,
    pub cnt_stalled: u64,
    /// Cycles before the end with words still to send and s_w_valid_i low (a top can only be
    /// starved in such a cycle, or right after the last word).
    pub word_gaps: u64,
    /// Cycles before the end with activations still to send and s_act_valid_i low.
    pub act_gaps: u64,
    /// What was not idle in the cycles between reset and the first start_i (done, error, a
    /// ready, a beat or a y), if anything: a top must do nothing until it is started.
    pub not_idle_after_reset: Option<String>,
}

/// A design point that is not built in, with narrow fields where the built-in sets have none:
/// 5 lanes, 6-bit weights, a 24-bit bus, 3-bit runs, 9-bit counts, 5-bit activations, 11-bit
/// accumulators and 24 rows per block. Unlike both built-in sets, the CSC decoder's row sums here
/// are wider than a row index (ROW_MAX = 71 needs 7 bits, MAX_O = 24 needs 5), so extensions
/// between the two widths matter.
pub fn odd_point() -> DesignPoint {
    DesignPoint {
        lanes: 5,
        weight_bits: 6,
        bus_bits: 24,
        run_bits: 3,
        count_bits: 9,
        act_bits: 5,
        acc_bits: 11,
        max_rows: 24,
    }
}

/// Cycles between reset and start in which a top must be idle.
const IDLE_AFTER_RESET: u64 = 3;

/// Runs `words` (each B bits as 32-bit limbs; `last` on the final one) through a fresh instance
/// of the top `info` configured for O = `rows`, K = `cols`, with activations `acts`, under
/// `gaps`. Observes every cycle until done/error (or the bound) and [`AFTER_END`] cycles more.
#[allow(clippy::too_many_arguments)]
pub fn run_words(
    info: &'static ModelInfo,
    format: Format,
    design: &DesignPoint,
    words: &[Vec<u32>],
    rows: usize,
    cols: usize,
    acts: &[i32],
    gaps: &Gaps,
) -> Result<Observed, SimError> {
    let mut sim = Sim::new(info.instantiate())?;
    run_words_on(&mut sim, true, format, design, words, rows, cols, acts, gaps)
}

/// Like [`run_words`] on an instance that may have run layers before (`fresh`: reset it first
/// and check it idles): a new layer must start clean whatever the last one left behind (done,
/// an error with bits still buffered).
#[allow(clippy::too_many_arguments)]
pub fn run_words_on(
    sim: &mut Sim,
    fresh: bool,
    format: Format,
    design: &DesignPoint,
    words: &[Vec<u32>],
    rows: usize,
    cols: usize,
    acts: &[i32],
    gaps: &Gaps,
) -> Result<Observed, SimError> {
    let m = sim.model();
    let pins = Pins::resolve(m)?;
    let mut src_w = Source::new(
        m,
        StreamPorts::by_name(m, "s_w_data_i", "s_w_valid_i", "s_w_ready_o", Some("s_w_last_i"))?,
        gaps.words.clone(),
    )?;
    let mut src_a = Source::new(
        m,
        StreamPorts::by_name(m, "s_act_data_i", "s_act_valid_i", "s_act_ready_o", None)?,
        gaps.acts.clone(),
    )?;
    let mut sink = Sink::new(
        m,
        StreamPorts::by_name(m, "m_y_data_o", "m_y_valid_o", "m_y_ready_i", Some("m_y_last_o"))?,
        gaps.y.clone(),
    )?;
    for (j, w) in words.iter().enumerate() {
        src_w.push(w, j + 1 == words.len())?;
    }
    for &a in acts {
        src_a.push_u64(u64::from(a as u32) & crate::bits::mask(design.act_bits), false)?;
    }
    let n = design.lanes;
    let q = design.weight_bits;
    let t_beats = cols * design.stream().tiles(rows.max(1));
    let mut obs = Observed::default();
    // The bitmap-huffman decoders take a beat in up to ceil(N / c) cycles, c the fewest codes a
    // cycle takes (S, or what the window holds of the longest codes), and load their header a
    // field per cycle first (at most 1 + H fields and a Q-bit symbol per field after them). The
    // lane-huffman decoders: below.
    let (per_beat, header) = match format {
        Format::BitmapHuffman | Format::DeltaBitmapHuffman => {
            let h = &crate::rtl::facts().huffman;
            let symbols = (words.len() as u64 * u64::from(design.bus_bits) / u64::from(q)).min(1 << q);
            (n.div_ceil(h.worst_codes_per_cycle(n)) as u64, 1 + u64::from(h.max_code_len) + symbols)
        }
        // The lane-huffman decoders take a beat's chunks R at a time (at most one a lane), a cycle
        // more at a first code and for a mask loaded alone; at its first code a lane takes two,
        // and a second such lane in a cycle ends that cycle's take: at most one cycle more per
        // lane (N in a stream, in the header's share). The header in blocks of counts and symbols.
        Format::LaneHuffman | Format::DeltaLaneHuffman => {
            let f = &crate::rtl::facts().lane_huffman;
            let r = f.chunks_per_cycle(n) as u64;
            let symbols = (words.len() as u64 * u64::from(design.bus_bits) / u64::from(q)).min(1 << q);
            let header = 2
                + u64::from(crate::formats::huffman::MAX_CODE_LEN).div_ceil(f.counts_per_cycle as u64)
                + symbols.div_ceil(f.symbols_per_cycle(n, q) as u64)
                + n as u64;
            ((n as u64).div_ceil(r) + 2, header)
        }
        _ => (1, 0),
    };
    let base = 16 + words.len() as u64 + t_beats as u64 * per_beat + header + rows as u64 + cols as u64;
    let mut limbs = vec![0u32; (n * q as usize).div_ceil(32)];
    let acc = design.acc_bits;

    if fresh {
        sim.reset(2);
    } else {
        // What the last run left on the input pins (a word still offered) is not this layer's.
        sim.set(pins.w_valid, 0)?;
        sim.set(pins.a_valid, 0)?;
    }
    // Between reset and the first start the top is idle: no status, no readies, no output.
    for c in 0..if fresh { IDLE_AFTER_RESET } else { 0 } {
        let m = sim.model();
        let busy = [
            ("done_o", pins.done),
            ("error_o", pins.error),
            ("s_w_ready_o", pins.w_ready),
            ("s_act_ready_o", pins.a_ready),
            ("mon_beat_fire_o", pins.beat_fire),
            ("m_y_valid_o", pins.y_valid),
        ];
        for (name, pin) in busy {
            if obs.not_idle_after_reset.is_none() && m.get_u64(pin)? != 0 {
                obs.not_idle_after_reset = Some(format!("{name} high {c} cycles after reset, before any start"));
            }
        }
        sim.step();
    }
    sim.set(pins.rows, rows as u64)?;
    sim.set(pins.cols, cols as u64)?;
    sim.set(pins.start, 1)?;
    sim.step();
    sim.set(pins.start, 0)?;
    let mut cycles = 0u64;
    let mut ended_at: Option<u64> = None;
    let mut error_seen = false;
    loop {
        let m = sim.model();
        let ended = m.get_u64(pins.done)? == 1 || m.get_u64(pins.error)? == 1;
        if ended && ended_at.is_none() {
            ended_at = Some(cycles);
            obs.cycles = cycles;
        }
        if let Some(e) = ended_at {
            if cycles >= e + AFTER_END {
                break;
            }
        } else if cycles >= base + 2 * obs.gaps {
            obs.hung = true;
            obs.cycles = cycles;
            break;
        }
        let w_pending = !src_w.is_empty();
        let a_pending = !src_a.is_empty();
        let w_fired = src_w.fired();
        let a_fired = src_a.fired();
        let y_before = sink.len();
        // Drive, settle, sample (beats and y observed with the settled outputs), rise.
        let mut fire = false;
        let mut yv = false;
        struct Peek<'a> {
            pins: &'a Pins,
            fire: &'a mut bool,
            yv: &'a mut bool,
            err: &'a mut bool,
            limbs: &'a mut Vec<u32>,
        }
        impl weightstream_sim::Agent for Peek<'_> {
            fn drive(&mut self, _m: &mut dyn Model) -> Result<(), SimError> {
                Ok(())
            }
            fn sample(&mut self, m: &dyn Model) -> Result<(), SimError> {
                *self.fire = m.get_u64(self.pins.beat_fire)? == 1;
                if *self.fire {
                    m.get(self.pins.beat_data, self.limbs)?;
                }
                *self.yv = m.get_u64(self.pins.y_valid)? == 1;
                *self.err = m.get_u64(self.pins.error)? == 1;
                Ok(())
            }
        }
        let mut err_now = false;
        let mut peek = Peek { pins: &pins, fire: &mut fire, yv: &mut yv, err: &mut err_now, limbs: &mut limbs };
        sim.step_with(&mut [&mut src_w, &mut src_a, &mut sink, &mut peek])?;
        let m = sim.model();
        // Gap accounting from what was driven this cycle (inputs hold their values).
        let y_ready = m.get_u64(pins.y_ready)? == 1;
        if ended_at.is_none() {
            if w_pending && m.get_u64(pins.w_valid)? == 0 {
                obs.gaps += 1;
                obs.word_gaps += 1;
            }
            if a_pending && m.get_u64(pins.a_valid)? == 0 {
                obs.gaps += 1;
                obs.act_gaps += 1;
            }
            if yv && !y_ready {
                obs.gaps += 1;
            }
        }
        if err_now {
            error_seen = true;
        }
        if fire {
            if error_seen {
                obs.beats_after_error += 1;
            }
            for l in 0..n {
                let bit = l * q as usize;
                let lo = u64::from(limbs[bit / 32]);
                let hi = limbs.get(bit / 32 + 1).map_or(0, |&h| u64::from(h));
                obs.beats.push(sign_extend(((hi << 32 | lo) >> (bit % 32)) & crate::bits::mask(q), q));
            }
        }
        if error_seen && (yv || sink.len() > y_before) {
            obs.y_after_error += 1;
        }
        if error_seen && (src_w.fired() > w_fired || src_a.fired() > a_fired) {
            obs.inputs_after_error += 1;
        }
        let _ = (m.get_u64(pins.w_ready)?, m.get_u64(pins.a_ready)?);
        cycles += 1;
    }
    let m = sim.model();
    obs.bound = base + 2 * obs.gaps;
    obs.done = m.get_u64(pins.done)? == 1;
    obs.error = (m.get_u64(pins.error)? == 1).then(|| m.get_u64(pins.error_code)).transpose()?.map(|c| c as u32);
    [obs.cnt_cycles, obs.cnt_words, obs.cnt_beats, obs.cnt_starved, obs.cnt_stalled] = pins.counters(m)?;
    obs.words_accepted = src_w.fired();
    let shift = 64 - acc;
    obs.y = sink.words_u64().into_iter().map(|v| ((v << shift) as i64) >> shift).collect();
    Ok(obs)
}

/// The performance counters against what the harness saw: words as accepted; decode cycles at
/// least one per fired beat and at most the cycles to the end; starved cycles only where the
/// source held words back (plus the cycles right after the last word); stalled within the
/// decode cycles.
///
/// The nm decoder (as of the RTL these tests run) counts starved cycles after its final word too:
/// a beat cut by the end of the stream waits for room in its pipeline (the PE array not taking
/// beats) before its positions are checked and the cut is called truncated, and it raises starve_o
/// meanwhile, though no word can come (rtl/README.md: "starved by the source"). Until that is
/// fixed in ws_nm_decoder, an nm top's starved cycles may exceed the word gaps by its stalled
/// cycles too.
fn counters_plausible(format: Format, obs: &Observed, lanes: usize) -> Result<(), String> {
    let beats = (obs.beats.len() / lanes) as u64;
    let cut_wait = if format == Format::Nm { obs.cnt_stalled } else { 0 };
    if obs.cnt_words != obs.words_accepted {
        return Err(format!("cnt_words_o {} but {} words accepted", obs.cnt_words, obs.words_accepted));
    }
    if obs.cnt_cycles < beats || obs.cnt_cycles > obs.cycles + 1 {
        return Err(format!("cnt_cycles_o {} for {} beats in {} cycles", obs.cnt_cycles, beats, obs.cycles));
    }
    if obs.cnt_starved > obs.word_gaps + 4 + cut_wait || obs.cnt_starved > obs.cnt_cycles {
        return Err(format!(
            "cnt_starved_o {} with {} word gaps in {} decode cycles",
            obs.cnt_starved, obs.word_gaps, obs.cnt_cycles
        ));
    }
    if obs.cnt_stalled > obs.cnt_cycles {
        return Err(format!("cnt_stalled_o {} in {} decode cycles", obs.cnt_stalled, obs.cnt_cycles));
    }
    Ok(())
}

/// The RTL error code a golden decoder error must produce.
pub fn expected_code(kind: &DecodeErrorKind) -> Option<u32> {
    use crate::rtl::RtlError as E;
    Some(match kind {
        DecodeErrorKind::Truncated { .. } => E::Truncated.code(),
        DecodeErrorKind::CountExceedsRows { .. } => E::CountExceedsRows.code(),
        DecodeErrorKind::RunPastColumnEnd { .. } => E::RunPastColumnEnd.code(),
        DecodeErrorKind::TrailingData { .. }
        | DecodeErrorKind::NonzeroFill
        | DecodeErrorKind::NonzeroLaneFill { .. } => E::TrailingData.code(),
        DecodeErrorKind::BadShape { .. } | DecodeErrorKind::BadParams(_) => E::BadConfig.code(),
        DecodeErrorKind::CodeTooLong { .. }
        | DecodeErrorKind::CodeOversubscribed { .. }
        | DecodeErrorKind::CodeIncomplete
        | DecodeErrorKind::TooManyCodes { .. } => E::BadCode.code(),
        DecodeErrorKind::InvalidCode => E::InvalidCode.code(),
        DecodeErrorKind::BadNmHeader { .. } => E::BadNmHeader.code(),
        DecodeErrorKind::BadNmPosition { .. } => E::BadNmPosition.code(),
    })
}

/// The error a stream gets from the RTL on a limit of its design point that the golden decoder
/// does not have, before any other stream check: an `nm` header (the first field) that the format
/// allows but whose n is above the decoder's keep or whose log2 m is above its max_log2_group
/// (rtl/ws_rtl.toml `[nm]`) is bad-nm-header.
pub fn rtl_limit(format: Format, bits: &Bits) -> Option<u32> {
    if format != Format::Nm || bits.len() < 8 {
        return None;
    }
    let field = |at: usize| (0..4).fold(0u32, |v, i| v | u32::from(bits[at + i]) << i);
    facts().nm.rtl_limit(field(0), field(4)).then(|| crate::rtl::RtlError::BadNmHeader.code())
}

/// How a hostile stream was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// A real stream, unchanged (the sanity case).
    Real,
    /// Random bytes, random length.
    RandomBytes,
    /// Random sparse bits (mostly zero), random length.
    SparseBits,
    /// All-zero words, random length.
    Zeros,
    /// A real stream cut to fewer words (the new last word flagged).
    TruncatedWords,
    /// A real stream with its bits cut inside the stream (the rest of that word zeroed).
    TruncatedBits,
    /// A real stream followed by 1..3 extra words (zero or random).
    Extended,
    /// A real stream with 1..3 bits flipped.
    BitFlips,
    /// A nonzero bit in the last word's fill.
    FillBit,
    /// A real stream of another format.
    CrossFormat,
    /// A real stream with a bad configuration (O = 0, O > MAX_O, K = 0).
    BadConfig,
    /// nm only: a real stream with a bad header: n = 0, n >= m, log2 m = 0 or above 4, or a legal
    /// n above the decoder's keep (the RTL's limit, [`rtl_limit`]).
    NmBadHeader,
    /// nm only: a real stream with one entry's position out of order (not above the previous
    /// entry's) or past a short last group.
    NmBadPosition,
    /// nm only: [`Kind::NmBadPosition`], then the stream cut at the first word boundary after the
    /// bad entry's position field (mostly inside the bad entry's beat): the bad position in front
    /// of the cut is the error, not the cut.
    NmBadPositionCut,
}

impl Kind {
    pub const ALL: [Kind; 11] = [
        Kind::Real,
        Kind::RandomBytes,
        Kind::SparseBits,
        Kind::Zeros,
        Kind::TruncatedWords,
        Kind::TruncatedBits,
        Kind::Extended,
        Kind::BitFlips,
        Kind::FillBit,
        Kind::CrossFormat,
        Kind::BadConfig,
    ];

    /// The kinds of the nm top: every kind, and the nm-specific ones.
    pub const NM: [Kind; 14] = [
        Kind::Real,
        Kind::RandomBytes,
        Kind::SparseBits,
        Kind::Zeros,
        Kind::TruncatedWords,
        Kind::TruncatedBits,
        Kind::Extended,
        Kind::BitFlips,
        Kind::FillBit,
        Kind::CrossFormat,
        Kind::BadConfig,
        Kind::NmBadHeader,
        Kind::NmBadPosition,
        Kind::NmBadPositionCut,
    ];

    /// The kinds a sweep of `format`'s top draws from.
    pub fn of(format: Format) -> &'static [Kind] {
        if format == Format::Nm {
            &Kind::NM
        } else {
            &Kind::ALL
        }
    }
}

/// One hostile case: the stream, the configuration, and (for a truncated or extended real
/// stream) the beats its fired beats must be a prefix of.
#[derive(Debug, Clone)]
pub struct Case {
    pub kind: Kind,
    pub bits: Bits,
    pub rows: usize,
    pub cols: usize,
    pub prefix_of: Option<Vec<i32>>,
}

/// A random layer of a random small shape (at most 3 tiles + a few rows, 1..=6 columns).
fn random_matrix(r: &mut ChaCha8Rng, design: &DesignPoint) -> QuantMatrix {
    let n = design.lanes;
    let rows = r.random_range(1..=(3 * n + 3).min(design.max_rows));
    let cols = r.random_range(1..=6);
    let density = [0.0, 0.1, 0.5, 0.9, 1.0][r.random_range(0..5)];
    let (lo, hi) = QuantMatrix::value_range(design.weight_bits);
    let mut w = QuantMatrix::zeros(rows, cols, design.weight_bits);
    for v in w.data.iter_mut() {
        if r.random_bool(density) {
            *v = r.random_range(lo..=hi);
        }
    }
    w
}

/// An n:m pattern for a real nm stream of a hostile case: within the decoder's limits (n up to
/// its keep, log2 m up to its max_log2_group), one in ten beyond them where the format allows
/// ([`rtl_limit`]).
fn nm_pattern(r: &mut ChaCha8Rng) -> NmPattern {
    if r.random_bool(0.1) {
        if let Some(p) = nm_pattern_beyond(r) {
            return p;
        }
    }
    let inside = nm_patterns_within_limits();
    inside[r.random_range(0..inside.len())]
}

/// A pattern the format allows and the decoder does not (n above keep or log2 m above
/// max_log2_group), if the decoder has such a limit.
fn nm_pattern_beyond(r: &mut ChaCha8Rng) -> Option<NmPattern> {
    let nm = &facts().nm;
    let beyond: Vec<NmPattern> = (1..=4u32)
        .flat_map(|lm| (1..(1u32 << lm)).map(move |keep| NmPattern { keep, group: 1 << lm }))
        .filter(|p| p.keep > nm.keep || p.position_bits() > nm.max_log2_group)
        .collect();
    (!beyond.is_empty()).then(|| beyond[r.random_range(0..beyond.len())])
}

/// The n:m patterns within the decoder's limits (n up to keep, log2 m up to max_log2_group).
pub fn nm_patterns_within_limits() -> Vec<NmPattern> {
    let nm = &facts().nm;
    (1..=nm.max_log2_group.min(4))
        .flat_map(|lm| (1..(1u32 << lm).min(nm.keep + 1)).map(move |keep| NmPattern { keep, group: 1 << lm }))
        .collect()
}

/// The layout of an nm stream of O = `rows`, K = `cols` with header (n, log2 m): the bit offset
/// of every group's first entry, the group's m_g and n_g; None for a header the format rejects.
fn nm_layout(bits: &Bits, rows: usize, cols: usize, q: u32) -> Option<(u32, usize, Vec<(usize, usize, usize)>)> {
    let field = |at: usize| (0..4).fold(0u32, |v, i| v | u32::from(bits[at + i]) << i);
    let (n, lm) = (field(0) as usize, field(4));
    if !(1..=4).contains(&lm) || n == 0 || n >= 1 << lm {
        return None;
    }
    let (m, eb) = (1usize << lm, lm as usize + q as usize);
    let mut at = crate::formats::nm::HEADER_BITS as usize;
    let mut groups = Vec::new();
    for g in 0..cols.div_ceil(m) {
        let mg = m.min(cols - g * m);
        let ng = n.min(mg);
        groups.push((at, mg, ng));
        at += ng * rows * eb;
    }
    Some((lm, eb, groups))
}

/// Makes one entry of the nm stream `bits` (O = `rows`, K = `cols`, `lanes` per row tile) bad: a position not above
/// the previous entry's of its row and group, or past a short group's m_g. Returns the bit
/// offset just past the bad position field, or None when the stream has no such entry (every
/// group full and n = 1) or its header is bad.
fn nm_bad_position(
    r: &mut ChaCha8Rng,
    bits: &mut Bits,
    (rows, cols, lanes): (usize, usize, usize),
    q: u32,
) -> Option<usize> {
    let (lm, eb, groups) = nm_layout(bits, rows, cols, q)?;
    let m = 1usize << lm;
    // (group, entry j) where a bad position exists: j > 0, or a short group
    let spots: Vec<(usize, usize)> = groups
        .iter()
        .enumerate()
        .flat_map(|(g, &(_, mg, ng))| (0..ng).filter(move |&j| j > 0 || mg < m).map(move |j| (g, j)))
        .collect();
    if spots.is_empty() {
        return None;
    }
    let (g, j) = spots[r.random_range(0..spots.len())];
    let (start, mg, ng) = groups[g];
    let o = r.random_range(0..rows);
    // group order: per row tile (ng entries of its L lanes each), entry j of lane l
    let (t, l) = (o / lanes, o % lanes);
    let tile_lanes = lanes.min(rows - t * lanes);
    let pos_at = |j: usize| start + (t * lanes * ng + j * tile_lanes + l) * eb;
    let read = |bits: &Bits, at: usize| (0..lm as usize).fold(0usize, |v, i| v | usize::from(bits[at + i]) << i);
    let bad = if mg < m && (j == 0 || r.random_bool(0.5)) {
        r.random_range(mg..m)
    } else {
        r.random_range(0..=read(bits, pos_at(j - 1)))
    };
    let at = pos_at(j);
    for i in 0..lm as usize {
        bits.set(at + i, bad >> i & 1 == 1);
    }
    Some(at + lm as usize)
}

/// The hostile case number `i` for the top of `format` at `design` (deterministic in `seed`).
pub fn make_case(format: Format, design: &DesignPoint, seed: u64, i: u64) -> Case {
    let mut r = ChaCha8Rng::seed_from_u64(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ i ^ ((format as u64) << 56));
    let kinds = Kind::of(format);
    let kind = kinds[r.random_range(0..kinds.len())];
    let mut p = design.stream();
    let b = p.bus_bits as usize;
    let mut w = random_matrix(&mut r, design);
    let src_format = if kind == Kind::CrossFormat {
        let others: Vec<Format> = Format::ALL.into_iter().filter(|&f| f != format).collect();
        others[r.random_range(0..others.len())]
    } else {
        format
    };
    // An nm stream's layer is n:m: the random layer thinned to a random pattern, up to 3 groups
    // wide (a side generator: the other formats' cases stay as they were).
    let mut rn = ChaCha8Rng::seed_from_u64(seed ^ i.wrapping_mul(0x6e6d) ^ 0x6e6d_6e6d);
    if src_format == Format::Nm {
        p.nm = nm_pattern(&mut rn);
        if rn.random_bool(0.5) {
            let cols = rn.random_range(1..=(3 * p.nm.group as usize + 1).min(24));
            let mut wide = QuantMatrix::zeros(w.rows, cols, w.bits);
            for v in wide.data.iter_mut() {
                *v = w.data[rn.random_range(0..w.data.len())];
            }
            w = wide;
        }
        w = crate::formats::nm::thin(&w, p.nm);
    }
    let (rows, cols) = (w.rows, w.cols);
    // A CSC column count that overflows P bits cannot be encoded: fall back to a zero layer.
    let (w, real) = match src_format.encode(&w, &p) {
        Ok(s) => (w, s),
        Err(_) => {
            let z = QuantMatrix::zeros(rows, cols, p.weight_bits);
            let s = src_format.encode(&z, &p).expect("small layers encode");
            (z, s)
        }
    };
    let good_beats = src_format.beats(&w, &p);
    let mut bits = real.bits.clone();
    let mut prefix_of = None;
    let (mut rows_cfg, mut cols_cfg) = (rows, cols);
    let random_words = |r: &mut ChaCha8Rng, sparse: bool| -> Bits {
        let nw = r.random_range(1..=24usize);
        let mut v = Bits::repeat(false, nw * b);
        for i in 0..nw * b {
            let one = if sparse { r.random_bool(0.03) } else { r.random_bool(0.5) };
            v.set(i, one);
        }
        v
    };
    match kind {
        Kind::Real | Kind::CrossFormat => {}
        Kind::RandomBytes => bits = random_words(&mut r, false),
        Kind::SparseBits => bits = random_words(&mut r, true),
        Kind::Zeros => {
            let nw = r.random_range(1..=(real.bus_words() + 2));
            bits = Bits::repeat(false, nw * b);
        }
        Kind::TruncatedWords => {
            let nw = real.bus_words();
            if nw > 1 {
                bits.truncate(r.random_range(1..nw) * b);
                prefix_of = Some(good_beats);
            } else {
                // A one-word stream is cut by zeroing its tail: the zeros are fields of their own
                // (a decoder that finds its error only after the last beat, as lane-huffman's
                // nonzero lane fill, decodes beats from them), so its beats past the cut need not
                // be the real stream's.
                bits.truncate(b);
                let cut = r.random_range(0..b);
                bits[cut..].fill(false);
            }
        }
        Kind::TruncatedBits => {
            // Half the Huffman streams are cut inside their header (lmax, counts, symbols), whose
            // fields the decoders load several at a time: a group cut short must end in an error.
            // The nm streams too: inside the header (8 bits) or the first entries.
            let header = matches!(
                format,
                Format::BitmapHuffman
                    | Format::DeltaBitmapHuffman
                    | Format::LaneHuffman
                    | Format::DeltaLaneHuffman
                    | Format::Nm
            ) && src_format == format;
            let span = if !header {
                bits.len()
            } else if format == Format::Nm {
                (crate::formats::nm::HEADER_BITS as usize + 2 * (4 + p.weight_bits as usize)).min(bits.len())
            } else {
                let q = p.weight_bits as usize;
                (5 + q * (crate::formats::huffman::MAX_CODE_LEN as usize + 4)).min(bits.len())
            };
            let cut =
                if header && r.random_bool(0.5) { r.random_range(0..span) } else { r.random_range(0..bits.len()) };
            let end = cut.div_ceil(b).max(1) * b;
            bits.truncate(end);
            // The beat holding the cut reads zeros now: only the golden decoder can judge it.
            bits[cut..].fill(false);
        }
        Kind::Extended => {
            let extra = r.random_range(1..=3usize);
            let zero = r.random_bool(0.5);
            for _ in 0..extra * b {
                bits.push(!zero && r.random_bool(0.5));
            }
            prefix_of = Some(good_beats);
        }
        Kind::BitFlips => {
            for _ in 0..r.random_range(1..=3) {
                let at = r.random_range(0..bits.len());
                let v = bits[at];
                bits.set(at, !v);
            }
        }
        Kind::FillBit => {
            // A one after the stream's last one: in the last word's fill, or in trailing zero
            // fields (the golden decoder decides which).
            let from = bits.last_one().map_or(0, |i| i + 1);
            let lo = from.max(bits.len() - b);
            let at = if lo < bits.len() { r.random_range(lo..bits.len()) } else { bits.len() - 1 };
            let v = bits[at];
            let inside = lo < bits.len();
            bits.set(at, !v || inside);
        }
        Kind::BadConfig => match r.random_range(0..3) {
            0 => rows_cfg = 0,
            1 => rows_cfg = (design.max_rows + 1).min(65535),
            _ => cols_cfg = 0,
        },
        Kind::NmBadHeader => {
            let keep = facts().nm.keep;
            // Mostly one thing wrong: an n the decoder keeps, and n = m at the edge.
            let small = |rn: &mut ChaCha8Rng| {
                if rn.random_bool(0.5) {
                    rn.random_range(1..=keep)
                } else {
                    rn.random_range(0..16)
                }
            };
            let (n, lm) = match rn.random_range(0..5) {
                // n = 0
                0 => (0, rn.random_range(1..=4u32)),
                // n >= m
                1 => {
                    let lm = rn.random_range(1..=3u32);
                    (if rn.random_bool(0.5) { 1 << lm } else { rn.random_range(1 << lm..16) }, lm)
                }
                // log2 m = 0
                2 => (small(&mut rn), 0),
                // log2 m above 4
                3 => (small(&mut rn), rn.random_range(5..16)),
                // legal, beyond the RTL's limits (n above keep, m above its largest)
                _ => nm_pattern_beyond(&mut rn).map_or((0, 2), |p| (p.keep, p.position_bits())),
            };
            for i in 0..4 {
                bits.set(i, n >> i & 1 == 1);
                bits.set(4 + i, lm >> i & 1 == 1);
            }
            // Nothing fires on a bad header.
            prefix_of = Some(Vec::new());
        }
        Kind::NmBadPosition | Kind::NmBadPositionCut => {
            if let Some(end) = nm_bad_position(&mut rn, &mut bits, (rows, cols, p.lanes), p.weight_bits) {
                if kind == Kind::NmBadPositionCut {
                    bits.truncate(end.div_ceil(b) * b);
                }
                // The beats in front of the bad entry's are the real stream's.
                prefix_of = Some(good_beats);
            }
        }
    }
    Case { kind, bits, rows: rows_cfg, cols: cols_cfg, prefix_of }
}

/// The bus words of a bit stream (a whole number of words) as limbs.
pub fn limbs_of(bits: &Bits, bus_bits: u32) -> Vec<Vec<u32>> {
    bits.chunks(bus_bits as usize).map(word_limbs).collect()
}

/// Checks one run against the golden decoder and the rules in the module doc; `Err` says what
/// is wrong.
pub fn check(format: Format, design: &DesignPoint, case: &Case, acts: &[i32], obs: &Observed) -> Result<(), String> {
    let p = design.stream();
    if let Some(what) = &obs.not_idle_after_reset {
        return Err(what.clone());
    }
    if obs.hung {
        return Err(format!("no done or error within the bound of {} cycles (hang)", obs.bound));
    }
    if obs.beats_after_error > 0 || obs.y_after_error > 0 || obs.inputs_after_error > 0 {
        return Err(format!(
            "after the error: {} beats, {} y, {} inputs accepted",
            obs.beats_after_error, obs.y_after_error, obs.inputs_after_error
        ));
    }
    if obs.done && obs.error.is_some() {
        return Err("done and error together".into());
    }
    if obs.cnt_beats as usize * p.lanes != obs.beats.len() {
        return Err(format!("cnt_beats_o {} but {} beats fired", obs.cnt_beats, obs.beats.len() / p.lanes));
    }
    counters_plausible(format, obs, p.lanes)?;
    let bad_config = case.rows == 0 || case.rows > design.max_rows || case.cols == 0;
    if bad_config {
        return match (obs.error, obs.beats.is_empty() && obs.y.is_empty() && obs.words_accepted == 0) {
            (Some(5), true) => Ok(()),
            (e, quiet) => Err(format!("bad configuration: error {e:?}, nothing done: {quiet}")),
        };
    }
    if let Some(want) = rtl_limit(format, &case.bits) {
        return match (obs.done, obs.error, obs.beats.is_empty() && obs.y.is_empty()) {
            (false, Some(c), true) if c == want => Ok(()),
            (d, e, quiet) => Err(format!("nm header beyond keep: error {e:?} (want {want}), done {d}, quiet {quiet}")),
        };
    }
    match format.decode("hostile", &case.bits, case.rows, case.cols, &p) {
        Ok(w) => {
            if !obs.done || obs.error.is_some() {
                return Err(format!("golden decodes, RTL error {:?} (done {})", obs.error, obs.done));
            }
            let want = format.stream_beats(&w, &p, &case.bits);
            if obs.beats != want {
                let i = obs.beats.chunks(p.lanes).zip(want.chunks(p.lanes)).position(|(a, b)| a != b);
                return Err(format!(
                    "beats differ: {} fired, {} golden, first difference at beat {i:?}",
                    obs.beats.len() / p.lanes,
                    want.len() / p.lanes
                ));
            }
            let y = pe::matvec_acc(&w, acts, design.acc_bits);
            if obs.y != y {
                return Err(format!("y differs: {} out, {} golden", obs.y.len(), y.len()));
            }
            Ok(())
        }
        Err(e) => {
            let want = expected_code(&e.kind);
            if obs.done || obs.error != want {
                return Err(format!("golden: {e}; RTL error {:?} (want {want:?}), done {}", obs.error, obs.done));
            }
            if !obs.y.is_empty() {
                return Err(format!("{} y out of a malformed stream", obs.y.len()));
            }
            if let Some(good) = &case.prefix_of {
                if obs.beats.len() > good.len() || obs.beats[..] != good[..obs.beats.len()] {
                    return Err("fired beats are not a prefix of the real stream's beats".into());
                }
            }
            Ok(())
        }
    }
}

/// Totals of a sweep.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub streams: u64,
    pub done: u64,
    /// Streams that decoded with a nonzero beat (real data, not an all-zero layer).
    pub done_nonzero: u64,
    /// Streams the RTL's own limit decides ([`rtl_limit`]: an nm header with n above keep).
    pub rtl_limited: u64,
    /// Cases per kind (indexed as [`Kind::NM`]).
    pub kinds: [u64; 14],
    pub errors: [u64; 10],
    pub hangs: u64,
    pub beats_after_error: u64,
    pub y_after_error: u64,
    /// Largest cycles / bound seen.
    pub worst_bound_use: f64,
    /// Largest (cycles - (W + T + O + K + 2G)), the constant part actually used.
    pub worst_slack: i64,
    pub failures: Vec<String>,
    pub seconds: f64,
}

/// Runs `count` hostile cases into the top of `format` at `design`. Stops collecting failure
/// lines after 20.
pub fn sweep(
    source: &ModelSource,
    format: Format,
    design: &DesignPoint,
    seed: u64,
    count: u64,
) -> Result<Summary, String> {
    let t = Instant::now();
    let info = source.top(format, design)?;
    let mut s = Summary::default();
    // One instance for all the cases, as a top runs layer after layer: each case starts where
    // the last one ended (done, an error with bits still buffered, a hang dropped by start_i).
    let mut sim = Sim::new(info.instantiate()).map_err(|e| e.to_string())?;
    for i in 0..count {
        let case = make_case(format, design, seed, i);
        let acts = pe::random_activations(case.cols, design.act_bits, seed ^ i);
        let gaps = Gaps::random(seed.wrapping_add(i.wrapping_mul(7919)));
        let words = limbs_of(&case.bits, design.bus_bits);
        let obs = run_words_on(&mut sim, i == 0, format, design, &words, case.rows, case.cols, &acts, &gaps)
            .map_err(|e| e.to_string())?;
        s.streams += 1;
        if obs.hung {
            s.hangs += 1;
        }
        if obs.done {
            s.done += 1;
            s.done_nonzero += u64::from(obs.beats.iter().any(|&v| v != 0));
        }
        s.rtl_limited += u64::from(rtl_limit(format, &case.bits).is_some());
        s.kinds[Kind::NM.iter().position(|&k| k == case.kind).expect("every kind is in NM")] += 1;
        if let Some(c) = obs.error {
            s.errors[(c as usize).min(9)] += 1;
        }
        s.beats_after_error += obs.beats_after_error;
        s.y_after_error += obs.y_after_error;
        if !obs.hung {
            s.worst_bound_use = s.worst_bound_use.max(obs.cycles as f64 / obs.bound as f64);
            s.worst_slack = s.worst_slack.max(obs.cycles as i64 - (obs.bound as i64 - 16));
        }
        if let Err(e) = check(format, design, &case, &acts, &obs) {
            if s.failures.len() < 20 {
                s.failures.push(format!(
                    "{format} {} seed {seed} case {i} ({:?}, O={} K={} words={}): {e}",
                    design.name(),
                    case.kind,
                    case.rows,
                    case.cols,
                    words.len()
                ));
            } else if s.failures.len() == 20 {
                s.failures.push("...".into());
            }
        }
    }
    s.seconds = t.elapsed().as_secs_f64();
    Ok(s)
}

/// Result of a soak: real streams back to back, every beat checked.
#[derive(Debug, Clone, Default)]
pub struct Soak {
    pub runs: u64,
    pub beats: u64,
    /// Beats expected but not fired.
    pub lost: u64,
    /// Beats fired beyond the expected count.
    pub duplicated: u64,
    /// Beats fired in the right number but with wrong lanes, and wrong y.
    pub wrong: u64,
    /// Starved and stalled cycles the counters reported, and the word gaps the source made.
    pub starved: u64,
    pub stalled: u64,
    pub word_gaps: u64,
    pub act_gaps: u64,
    pub failures: Vec<String>,
    pub seconds: f64,
}

/// Real streams of large layers (O = MAX_O capped at 4 * 64 rows... up to MAX_O) through the top of
/// `format` under seeded random gaps until at least `min_beats` beats have fired.
pub fn soak(
    source: &ModelSource,
    format: Format,
    design: &DesignPoint,
    seed: u64,
    min_beats: u64,
) -> Result<Soak, String> {
    let t = Instant::now();
    let info = source.top(format, design)?;
    let p = design.stream();
    let mut s = Soak::default();
    let mut r = ChaCha8Rng::seed_from_u64(seed ^ 0x736f_616b);
    while s.beats < min_beats {
        let rows = r.random_range(1..=design.max_rows);
        let cols = r.random_range(1..=64usize);
        let density = [0.05, 0.3, 0.7, 1.0][r.random_range(0..4)];
        let (lo, hi) = QuantMatrix::value_range(design.weight_bits);
        let mut w = QuantMatrix::zeros(rows, cols, design.weight_bits);
        for v in w.data.iter_mut() {
            if r.random_bool(density) {
                *v = r.random_range(lo..=hi);
            }
        }
        // nm: the layer made n:m, encoded at that n:m
        let mut sp = p;
        if format == Format::Nm {
            let patterns = nm_patterns_within_limits();
            sp.nm = patterns[r.random_range(0..patterns.len())];
            w = crate::formats::nm::thin(&w, sp.nm);
        }
        let Ok(stream) = format.encode(&w, &sp) else { continue };
        let acts = pe::random_activations(cols, design.act_bits, r.random());
        let gaps = Gaps::random(r.random());
        let words = limbs_of(&stream.bits, design.bus_bits);
        let obs = run_words(info, format, design, &words, rows, cols, &acts, &gaps).map_err(|e| e.to_string())?;
        let want = format.beats(&w, &sp);
        let (got_n, want_n) = (obs.beats.len() / p.lanes, want.len() / p.lanes);
        s.runs += 1;
        s.beats += got_n as u64;
        s.lost += want_n.saturating_sub(got_n) as u64;
        s.duplicated += got_n.saturating_sub(want_n) as u64;
        let wrong_beats = obs.beats.chunks(p.lanes).zip(want.chunks(p.lanes)).filter(|(a, b)| a != b).count() as u64;
        let y = pe::matvec_acc(&w, &acts, design.acc_bits);
        s.wrong += wrong_beats + u64::from(obs.y != y);
        s.starved += obs.cnt_starved;
        s.stalled += obs.cnt_stalled;
        s.word_gaps += obs.word_gaps;
        s.act_gaps += obs.act_gaps;
        if let Err(e) = counters_plausible(format, &obs, p.lanes) {
            if s.failures.len() < 10 {
                s.failures.push(format!("{format} {} soak run {}: {e}", design.name(), s.runs));
            }
        }
        if (!obs.done || got_n != want_n || wrong_beats > 0 || obs.y != y) && s.failures.len() < 10 {
            s.failures.push(format!(
                "{format} {} soak run {} (O={rows} K={cols}): done {} error {:?}, {got_n} of {want_n} beats, {wrong_beats} wrong, y ok {}",
                design.name(),
                s.runs,
                obs.done,
                obs.error,
                obs.y == y
            ));
        }
    }
    // Over a whole soak under random word gaps the starved counter must have counted something
    // (stalls are not certain here; stall_probe makes them certain).
    if s.word_gaps > 100 && s.starved == 0 {
        s.failures.push(format!("{format} {}: cnt_starved_o stayed 0 over {} word gaps", design.name(), s.word_gaps));
    }
    s.seconds = t.elapsed().as_secs_f64();
    Ok(s)
}

/// The stalled counter where stalls are certain: one row tile of all-nonzero weights (every beat
/// is one full tile, K beats) with activations offered one cycle in four and words and y never
/// held back. The PE array needs a[k] for the beats of column k, so most beats wait for their
/// activation: the counter must say at least K / 2, and the starved counter 0 (words always
/// offered). Returns the two counters.
pub fn stall_probe(source: &ModelSource, format: Format, design: &DesignPoint) -> Result<(u64, u64), String> {
    let info = source.top(format, design)?;
    let p = design.stream();
    let (rows, cols) = (design.lanes.min(design.max_rows), 64usize);
    let (_, hi) = QuantMatrix::value_range(design.weight_bits);
    let mut w = QuantMatrix::zeros(rows, cols, design.weight_bits);
    w.data.iter_mut().for_each(|v| *v = hi);
    if format == Format::Nm {
        // every column still a beat per tile; half of them carry entries
        w = crate::formats::nm::thin(&w, p.nm);
    }
    let stream = format.encode(&w, &p).map_err(|e| e.to_string())?;
    let acts = pe::random_activations(cols, design.act_bits, 1);
    // One activation in four cycles, or in 4 * ceil(N / S) for a decoder taking ceil(N / S)
    // cycles per full beat.
    let slow = match format {
        Format::BitmapHuffman | Format::DeltaBitmapHuffman => {
            rows.div_ceil(crate::rtl::facts().huffman.worst_codes_per_cycle(design.lanes))
        }
        // Every lane refills in the same beat (their codes are alike): ceil(N / R) cycles.
        Format::LaneHuffman | Format::DeltaLaneHuffman => {
            rows.div_ceil(crate::rtl::facts().lane_huffman.chunks_per_cycle(design.lanes))
        }
        _ => 1,
    };
    let mut pattern = vec![false; 4 * slow];
    pattern[0] = true;
    let gaps = Gaps { words: Pause::None, acts: Pause::Pattern(pattern), y: Pause::None };
    let words = limbs_of(&stream.bits, design.bus_bits);
    let obs = run_words(info, format, design, &words, rows, cols, &acts, &gaps).map_err(|e| e.to_string())?;
    if !obs.done {
        return Err(format!("{format} stall probe: not done (error {:?})", obs.error));
    }
    if obs.cnt_stalled < cols as u64 / 2 || obs.cnt_starved != 0 {
        return Err(format!(
            "{format} {} stall probe: cnt_stalled_o {} (at least {} expected), cnt_starved_o {} (0 expected)",
            design.name(),
            obs.cnt_stalled,
            cols / 2,
            obs.cnt_starved
        ));
    }
    Ok((obs.cnt_stalled, obs.cnt_starved))
}
