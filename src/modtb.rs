//! Module testbenches (verilog-axis style) for the word FIFO, the bit aligner, the beat
//! sequencer and the PE array, and for the Huffman decoders' modules ([`huffman`]: canonical
//! decode unit, header loader, lane unit, symbol tables, beat queue): each module is verilated on
//! its own ([`ModelSource::module`]),
//! driven cycle by cycle with every crossing of input idle patterns {none, fixed, seeded random}
//! and output backpressure patterns {none, fixed, seeded random}, and compared every cycle with a
//! Rust reference model of the module; at the end what came out must equal what went in (or the
//! golden result) exactly, and nothing may be left inside.

use std::collections::VecDeque;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use weightstream_sim::{Model, ModelInfo, Pause, PauseGen, PortId, Sim};

use crate::hostile::ModelSource;
use crate::matrix::QuantMatrix;
use crate::pe;

mod huffman;
mod nm;

pub use nm::random_nm;

/// The modules with a bench.
pub const MODULES: [&str; 11] = [
    "ws_word_fifo",
    "ws_bit_aligner",
    "ws_beat_sequencer",
    "ws_pe_array",
    "ws_canon_unit",
    "ws_sym_table_ff",
    "ws_sym_table_ram",
    "ws_beat_queue",
    "ws_huffman_header",
    "ws_lane_unit",
    "ws_nm_decoder",
];

/// An idle / backpressure pattern of a crossing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pat {
    None,
    Fixed,
    Random(u64),
}

impl Pat {
    /// The three kinds, random seeded from `seed`.
    pub fn all(seed: u64) -> [Pat; 3] {
        [Pat::None, Pat::Fixed, Pat::Random(seed)]
    }

    fn gen(self, salt: u64) -> PauseGen {
        match self {
            Pat::None => Pause::None,
            Pat::Fixed => Pause::pattern("1101001").expect("pattern"),
            Pat::Random(s) => Pause::Random { seed: s ^ salt, p_pause: 0.4 },
        }
        .generator()
        .expect("valid pause")
    }
}

type R<T> = Result<T, String>;

fn e<E: std::fmt::Display>(x: E) -> String {
    x.to_string()
}

fn port(m: &dyn Model, name: &str) -> R<PortId> {
    m.port_id(name).map_err(e)
}

fn get_bits(m: &dyn Model, p: PortId, width: usize) -> R<Vec<bool>> {
    let mut limbs = vec![0u32; width.div_ceil(32)];
    m.get(p, &mut limbs).map_err(e)?;
    Ok((0..width).map(|i| limbs[i / 32] >> (i % 32) & 1 == 1).collect())
}

fn set_bits(m: &mut dyn Model, p: PortId, bits: &[bool]) -> R<()> {
    let mut limbs = vec![0u32; bits.len().div_ceil(32)];
    for (i, &b) in bits.iter().enumerate() {
        limbs[i / 32] |= u32::from(b) << (i % 32);
    }
    m.set(p, &limbs).map_err(e)
}

fn get(m: &dyn Model, p: PortId) -> R<u64> {
    m.get_u64(p).map_err(e)
}

fn set(m: &mut dyn Model, p: PortId, v: u64) -> R<()> {
    m.set_u64(p, v).map_err(e)
}

/// Runs every crossing of the bench of `module` at its parameter variants.
pub fn run_module(src: &ModelSource, module: &str, seed: u64) -> R<()> {
    match module {
        "ws_word_fifo" => {
            for (b, depth, m) in [(32, 4, 3), (32, 16, 3), (16, 8, 1), (64, 128, 4)] {
                let info = src.module(
                    module,
                    &format!("ws_word_fifo_b{b}_d{depth}_m{m}"),
                    vec![("B".into(), b as i64), ("DEPTH".into(), depth as i64), ("M".into(), m as i64)],
                )?;
                cross(seed, |i, o, s| fifo(info, b, depth, m, i, o, s))?;
            }
            Ok(())
        }
        "ws_bit_aligner" => {
            // (B, WIN, K candidate lengths offered per cycle)
            for (b, win, kc) in [(32usize, 40usize, 1usize), (64, 208, 3), (8, 16, 2), (24, 35, 1)] {
                let m = win.div_ceil(b);
                let info = src.module(
                    module,
                    &format!("ws_bit_aligner_b{b}_w{win}_m{m}_k{kc}"),
                    vec![
                        ("B".into(), b as i64),
                        ("WIN".into(), win as i64),
                        ("M".into(), m as i64),
                        ("K".into(), kc as i64),
                    ],
                )?;
                cross(seed, |i, o, s| aligner(info, b, win, m, kc, i, o, s))?;
            }
            Ok(())
        }
        "ws_beat_sequencer" => {
            // GROUPED 1: the group walk (nm's order) given by the bench
            for (n, max_o, grouped) in [(4, 22, 0), (16, 1280, 0), (1, 5, 0), (3, 14, 1)] {
                let info = src.module(
                    module,
                    &format!("ws_beat_sequencer_n{n}_o{max_o}_g{grouped}"),
                    vec![("N".into(), n as i64), ("MAX_O".into(), max_o as i64), ("GROUPED".into(), grouped)],
                )?;
                cross(seed, |i, o, s| sequencer(info, (n, max_o, grouped == 1), i, o, s))?;
            }
            Ok(())
        }
        "ws_pe_array" => {
            // AG 4: beats in group order (nm's), m of 2 or 4 per layer
            for (n, q, qa, acc, max_o, ag) in [(4, 4, 8, 13, 22, 1), (16, 8, 8, 32, 1280, 1), (3, 4, 5, 12, 20, 4)] {
                let info = src.module(
                    module,
                    &format!("ws_pe_array_n{n}_q{q}_a{qa}_c{acc}_o{max_o}_g{ag}"),
                    vec![
                        ("N".into(), n as i64),
                        ("Q".into(), q as i64),
                        ("QA".into(), qa as i64),
                        ("ACC".into(), acc as i64),
                        ("MAX_O".into(), max_o as i64),
                        ("AG".into(), ag as i64),
                    ],
                )?;
                cross(seed, |i, o, s| pe_array(info, (n, q, qa, acc, max_o, ag), i, o, s))?;
            }
            Ok(())
        }
        "ws_canon_unit" => {
            for h in [12usize, 5] {
                let info = src.module(module, &format!("ws_canon_unit_h{h}"), vec![("H".into(), h as i64)])?;
                huffman::canon_unit(info, h, seed)?;
            }
            Ok(())
        }
        "ws_sym_table_ff" | "ws_sym_table_ram" => {
            let points: &[(usize, usize, usize)] = if module == "ws_sym_table_ff" {
                &[(8, 4, 14), (3, 3, 2), (5, 5, 5)]
            } else {
                &[(16, 8, 2), (5, 6, 2), (2, 9, 1)]
            };
            for &(n, q, spc) in points {
                let info = src.module(
                    module,
                    &format!("{module}_n{n}_q{q}_s{spc}"),
                    vec![("N".into(), n as i64), ("Q".into(), q as i64), ("SPC".into(), spc as i64)],
                )?;
                cross(seed, |i, o, s| huffman::sym_table(info, n, q, spc, i, o, s))?;
            }
            Ok(())
        }
        "ws_beat_queue" => {
            for (n, q, max_o, delta) in
                [(8usize, 4usize, 256usize, false), (8, 4, 256, true), (5, 6, 24, true), (16, 8, 1280, false)]
            {
                let info = src.module(
                    module,
                    &format!("ws_beat_queue_n{n}_q{q}_o{max_o}_d{}", u8::from(delta)),
                    vec![
                        ("N".into(), n as i64),
                        ("Q".into(), q as i64),
                        ("MAX_O".into(), max_o as i64),
                        ("DELTA".into(), i64::from(delta)),
                    ],
                )?;
                cross(seed, |i, o, s| huffman::beat_queue(info, n, q, max_o, 4, delta, i, o, s))?;
            }
            Ok(())
        }
        "ws_huffman_header" => {
            // (Q, counts per cycle, symbols per cycle, window): the n8 and n16 lane decoders',
            // the bitmap-huffman decoder's (one field per cycle), an odd one
            for (q, cpc, spc, win) in [(4usize, 4usize, 14usize, 56usize), (8, 4, 2, 112), (8, 1, 1, 40), (6, 3, 2, 40)]
            {
                let cnt_w = (usize::BITS - (2 * win).leading_zeros()) as usize;
                let cw = (usize::BITS - win.leading_zeros()) as usize;
                let info = src.module(
                    module,
                    &format!("ws_huffman_header_q{q}_c{cpc}_s{spc}_w{win}"),
                    vec![
                        ("Q".into(), q as i64),
                        ("CPC".into(), cpc as i64),
                        ("SPC".into(), spc as i64),
                        ("WIN".into(), win as i64),
                        ("CNT_W".into(), cnt_w as i64),
                        ("CW".into(), cw as i64),
                    ],
                )?;
                cross(seed, |i, _, s| huffman::huffman_header(info, q, spc, win, cnt_w, i, s))?;
            }
            Ok(())
        }
        "ws_nm_decoder" => {
            // (N, Q, B, MAX_O): the worked example's lanes, the n8 set's, an odd one, n16
            let keep = crate::rtl::facts().nm.keep;
            for pt in [(4usize, 4u32, 16usize, 22usize), (8, 4, 32, 40), (5, 6, 24, 24), (16, 8, 64, 48)] {
                let (n, q, b, max_o) = pt;
                let info = src.module(
                    module,
                    &format!(
                        "ws_nm_decoder_n{n}_q{q}_b{b}_o{max_o}_k{keep}_lm{}",
                        crate::rtl::facts().nm.max_log2_group
                    ),
                    vec![
                        ("N".into(), n as i64),
                        ("Q".into(), i64::from(q)),
                        ("B".into(), b as i64),
                        ("MAX_O".into(), max_o as i64),
                        ("KEEP".into(), i64::from(keep)),
                        ("MAXLM".into(), i64::from(crate::rtl::facts().nm.max_log2_group)),
                    ],
                )?;
                cross(seed, |i, o, s| nm::nm_decoder(info, pt, keep, i, o, s))?;
            }
            Ok(())
        }
        "ws_lane_unit" => {
            let info = src.module(module, "ws_lane_unit_h12_c12", vec![])?;
            cross(seed, |i, o, s| huffman::lane_unit(info, i, o, s))
        }
        _ => Err(format!("no bench for {module}")),
    }
}

/// Every (input idle, output backpressure) crossing.
fn cross(seed: u64, mut f: impl FnMut(Pat, Pat, u64) -> R<()>) -> R<()> {
    for (a, i) in Pat::all(seed).into_iter().enumerate() {
        for (b, o) in Pat::all(seed ^ 0x55).into_iter().enumerate() {
            let s = seed.wrapping_mul(31).wrapping_add((a * 3 + b) as u64);
            f(i, o, s).map_err(|x| format!("input {i:?}, output {o:?}: {x}"))?;
        }
    }
    Ok(())
}

/// A FIFO word with its last flag.
type FWord = (Vec<bool>, bool);

/// Reference of ws_word_fifo, exact to the cycle: the words held where the RTL holds them (the
/// banks, the banks' read registers "in flight", the head queue of 3M slots), moved by the RTL's
/// rules at each clock edge, all decided from the state before the edge:
/// - k = min(M, banked, 3M - head - in flight) banked words are read and go in flight;
/// - the words in flight enter the head queue behind what the pop leaves;
/// - a written word goes straight to the head queue (after those) when nothing is banked or in
///   flight and the head queue is not full, else to the banks.
///
/// So a word is visible at the head 1 cycle after its write through the bypass, 3 through the
/// banks. Ready = no last seen and fewer than DEPTH held anywhere; the head presents the first
/// min(head, M) words of the head queue.
struct FifoRef {
    m: usize,
    depth: usize,
    bank: VecDeque<FWord>,
    infl: Vec<FWord>,
    head: VecDeque<FWord>,
    seen: bool,
}

impl FifoRef {
    fn new(m: usize, depth: usize) -> FifoRef {
        FifoRef { m, depth, bank: VecDeque::new(), infl: Vec::new(), head: VecDeque::new(), seen: false }
    }

    fn held(&self) -> usize {
        self.bank.len() + self.infl.len() + self.head.len()
    }

    fn ready(&self) -> bool {
        !self.seen && self.held() < self.depth
    }

    fn present(&self) -> usize {
        self.head.len().min(self.m)
    }

    /// One clock edge: `pop` head words taken (returned), `push` written (the caller checked
    /// ready), `clear` empties everything and drops the write.
    fn clock(&mut self, pop: usize, push: Option<FWord>, clear: bool) -> Vec<FWord> {
        if clear {
            *self = FifoRef::new(self.m, self.depth);
            return Vec::new();
        }
        let hq = 3 * self.m;
        let k = self.m.min(self.bank.len()).min(hq - self.head.len() - self.infl.len());
        let bypass = self.bank.is_empty() && self.infl.is_empty() && self.head.len() < hq;
        let popped: Vec<FWord> = self.head.drain(..pop).collect();
        self.head.extend(self.infl.drain(..));
        self.infl = self.bank.drain(..k).collect();
        if let Some(w) = push {
            self.seen |= w.1;
            if bypass {
                self.head.push_back(w);
            } else {
                self.bank.push_back(w);
            }
        }
        assert!(self.head.len() <= hq && self.held() <= self.depth, "reference over capacity");
        popped
    }
}

/// Word FIFO: words with random data (last on the final one) offered AXI-style under the input
/// pattern; the reader pops 0..=present words per cycle under the output pattern. Every cycle:
/// ready, the head words (valid, data, last) and empty equal the reference's ([`FifoRef`]). A
/// first layer is dropped by clear_i (with a write offered in that cycle) once reads are in
/// flight (or at cycle 60 if the banks are never used); the second runs to its end: what came
/// out must be exactly the words written, then the FIFO is empty and not ready, and clear_i
/// makes it ready again.
fn fifo(info: &'static ModelInfo, b: usize, depth: usize, mw: usize, pin: Pat, pout: Pat, seed: u64) -> R<()> {
    let mut sim = Sim::new(info.instantiate()).map_err(e)?;
    let m = sim.model();
    let (clear, en, sd, sv, sl, sr) = (
        port(m, "clear_i")?,
        port(m, "en_i")?,
        port(m, "s_data_i")?,
        port(m, "s_valid_i")?,
        port(m, "s_last_i")?,
        port(m, "s_ready_o")?,
    );
    let (md, mv, ml, mp, em) =
        (port(m, "m_data_o")?, port(m, "m_valid_o")?, port(m, "m_last_o")?, port(m, "m_pop_i")?, port(m, "empty_o")?);
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    let n_words = if depth > 8 { 400 } else { 150 };
    let mut gin = pin.gen(1);
    let mut gout = pout.gen(2);
    let mut rf = FifoRef::new(mw, depth);
    let (mut saw_full, mut saw_banked, mut saw_full_head) = (false, false, false);
    sim.reset(2);
    let mm = sim.model_mut().as_dyn_mut();
    set(mm, clear, 0)?;
    set(mm, en, 1)?;
    let limit = 40 * n_words as u64 + 1000;
    let mut cyc = 0u64;
    for layer in 0..2 {
        let words: Vec<Vec<bool>> = (0..n_words).map(|_| (0..b).map(|_| r.random_bool(0.5)).collect()).collect();
        let mut next = 0usize;
        let mut offering = false;
        let mut out: Vec<Vec<bool>> = Vec::new();
        let start = cyc;
        loop {
            if cyc - start >= limit {
                return Err(format!("layer {layer}: timeout, {} words out of {n_words}", out.len()));
            }
            if layer == 1 && out.len() == n_words && rf.held() == 0 {
                break;
            }
            let drop = layer == 0 && cyc - start >= 20 && (!rf.infl.is_empty() || cyc - start >= 60);
            let mm = sim.model_mut().as_dyn_mut();
            if !offering && next < n_words && gin.next_go() {
                offering = true;
            }
            set(mm, sv, offering as u64)?;
            set_bits(mm, sd, if offering { &words[next] } else { &words[0] })?;
            set(mm, sl, (offering && next + 1 == n_words) as u64)?;
            set(mm, clear, drop as u64)?;
            // The reader's pop count: all present (none), a fixed cycle 0,0,..,M (fixed), random.
            let present = rf.present();
            let pop = match pout {
                Pat::None => present,
                Pat::Fixed => {
                    if gout.next_go() && cyc % 8 == 7 {
                        present
                    } else {
                        0
                    }
                }
                Pat::Random(_) => {
                    if gout.next_go() {
                        r.random_range(0..=present)
                    } else {
                        0
                    }
                }
            };
            set(mm, mp, pop as u64)?;
            sim.fall();
            let m = sim.model();
            let want_ready = rf.ready();
            saw_full |= rf.held() == depth;
            saw_banked |= !rf.infl.is_empty();
            saw_full_head |= present == mw && rf.infl.len() == mw;
            let held = rf.held();
            if (get(m, sr)? == 1) != want_ready {
                return Err(format!("cycle {cyc}: s_ready_o {} with {held} held, last seen {}", get(m, sr)?, rf.seen));
            }
            if (get(m, em)? == 1) != (held == 0) {
                return Err(format!("cycle {cyc}: empty_o wrong with {held} held"));
            }
            let v = get(m, mv)?;
            let want_v = (1u64 << present) - 1;
            if v != want_v {
                return Err(format!(
                    "cycle {cyc}: m_valid_o {v:b}, want {want_v:b} (head {}, in flight {}, banked {})",
                    rf.head.len(),
                    rf.infl.len(),
                    rf.bank.len()
                ));
            }
            let data = get_bits(m, md, mw * b)?;
            let lasts = get(m, ml)?;
            for (j, (w, l)) in rf.head.iter().take(present).enumerate() {
                if data[j * b..(j + 1) * b] != w[..] || (lasts >> j & 1 == 1) != *l {
                    return Err(format!("cycle {cyc}: head word {j} differs from the reference"));
                }
            }
            let push = offering && want_ready && !drop;
            let word = push.then(|| (words[next].clone(), next + 1 == n_words));
            sim.rise();
            cyc += 1;
            out.extend(rf.clock(pop, word, drop).into_iter().map(|w| w.0));
            if drop {
                break;
            }
            if push {
                next += 1;
                offering = false;
            }
        }
        if layer == 1 && out != words {
            return Err(format!("{} words out of {n_words}, or different", out.len()));
        }
    }
    if get(sim.model(), em)? != 1 || get(sim.model(), sr)? != 0 || get(sim.model(), mv)? != 0 {
        return Err("something left after the last word, or ready after it".into());
    }
    // (the banks are only used once the 3M-word head queue is full)
    if pout == Pat::Fixed && !(saw_full && (saw_banked || depth <= 3 * mw)) {
        return Err("the fixed backpressure never filled the FIFO through the banks (bench too weak)".into());
    }
    if pin == Pat::None && pout == Pat::Fixed && depth > 3 * mw && !saw_full_head {
        return Err("never M head words with M more in flight (bench too weak)".into());
    }
    // clear_i empties it and forgets the last word: ready again.
    let mm = sim.model_mut().as_dyn_mut();
    set(mm, mp, 0)?;
    set(mm, sv, 0)?;
    set(mm, clear, 1)?;
    sim.step();
    set(sim.model_mut().as_dyn_mut(), clear, 0)?;
    sim.fall();
    if get(sim.model(), sr)? != 1 || get(sim.model(), em)? != 1 || get(sim.model(), mv)? != 0 {
        return Err("after clear_i: not empty and ready".into());
    }
    Ok(())
}

/// Bit aligner: a stream of random words ending in two all-zero words comes from a FIFO model
/// (words arrive under the input pattern); the decoder offers K candidate lengths, picks the one
/// it consumes (0..=min(count, WIN) bits) under the output pattern; the other candidates, and all
/// of them in a cycle without a pick, are random and must not move anything. Every cycle: count, window (the bits below the count), pop count, win_last and
/// win_tail_ok equal the reference funnel (C = ceil((WIN + B - 1) / B) + M word slots, a bit
/// pointer below B, words taken by the slots free before this cycle's consume); at the end the
/// consumed bits are the stream.
#[allow(clippy::too_many_arguments)]
fn aligner(
    info: &'static ModelInfo,
    b: usize,
    win: usize,
    mw: usize,
    kc: usize,
    pin: Pat,
    pout: Pat,
    seed: u64,
) -> R<()> {
    // bits of one candidate length
    let cw = (usize::BITS - win.leading_zeros()) as usize;
    // the funnel's word slots: a window from anywhere in slot 0, plus the words of one take
    let slots = (win + 2 * b - 2) / b + mw;
    let mut sim = Sim::new(info.instantiate()).map_err(e)?;
    let m = sim.model();
    let (clear, en, sd, sv, sl, sp) = (
        port(m, "clear_i")?,
        port(m, "en_i")?,
        port(m, "s_data_i")?,
        port(m, "s_valid_i")?,
        port(m, "s_last_i")?,
        port(m, "s_pop_o")?,
    );
    let (wd, wc, wl, wt, wcons) = (
        port(m, "win_data_o")?,
        port(m, "win_count_o")?,
        port(m, "win_last_o")?,
        port(m, "win_tail_ok_o")?,
        port(m, "win_need_i")?,
    );
    let wfire = port(m, "win_pick_i")?;
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    let n_words = 60;
    let mut words: Vec<Vec<bool>> = (0..n_words - 2).map(|_| (0..b).map(|_| r.random_bool(0.5)).collect()).collect();
    words.push(vec![false; b]);
    words.push(vec![false; b]);
    let stream: Vec<bool> = words.concat();
    let mut gin = pin.gen(3);
    let mut gout = pout.gen(4);
    let mut fifo: VecDeque<usize> = VecDeque::new(); // word indices
    let mut arrived = 0usize;
    let mut buf: VecDeque<bool> = VecDeque::new();
    let mut last = false;
    let mut consumed: Vec<bool> = Vec::new();
    let mut did_trick = false;
    let mut tail_hit = [false; 2]; // tail_ok seen true with count == B-? / count == B seen false
    let mut ptr = 0usize; // bit pointer into the oldest slot
    sim.reset(2);
    let mm = sim.model_mut().as_dyn_mut();
    set(mm, clear, 0)?;
    set(mm, en, 1)?;
    for cyc in 0..40_000u64 {
        if consumed.len() == stream.len() {
            break;
        }
        // The FIFO model: at most one word arrives per cycle (input pattern), up to 8 held.
        let present = fifo.len().min(mw);
        let mut head = vec![false; mw * b];
        let mut lastv = 0u64;
        for (j, &w) in fifo.iter().take(present).enumerate() {
            head[j * b..(j + 1) * b].copy_from_slice(&words[w]);
            lastv |= u64::from(w + 1 == n_words) << j;
        }
        let cnt = buf.len();
        let most = cnt.min(win);
        let tail_trick = last && fifo.is_empty() && cnt > b && cnt - b <= win;
        let consume = if tail_trick && !did_trick {
            did_trick = true;
            cnt - b // leave exactly one whole (all-zero) word in the buffer
        } else {
            match pout {
                Pat::None => most,
                _ if !gout.next_go() => 0,
                Pat::Fixed => most.min([1, win, b, 7][(cyc % 4) as usize]),
                Pat::Random(_) => r.random_range(0..=most),
            }
        };
        let mm = sim.model_mut().as_dyn_mut();
        set_bits(mm, sd, &head)?;
        set(mm, sv, (1u64 << present) - 1)?;
        set(mm, sl, lastv)?;
        // the decoder offers kc candidate lengths and picks the one consumed (if any); the
        // others, and all of them in a cycle without a pick, must not move anything
        let fires = consume > 0 || r.random_bool(0.5);
        let pick = r.random_range(0..kc);
        let mut needs = vec![false; kc * cw];
        for c in 0..kc {
            let len = if fires && c == pick { consume } else { r.random_range(0..=win) };
            for (i, bit) in needs[c * cw..(c + 1) * cw].iter_mut().enumerate() {
                *bit = (len >> i) & 1 == 1;
            }
        }
        set_bits(mm, wcons, &needs)?;
        set(mm, wfire, if fires { 1u64 << pick } else { 0 })?;
        sim.fall();
        let m = sim.model();
        // slots valid before this cycle: the pointer's slot and those behind it
        let valid = (ptr + cnt).div_ceil(b);
        let mut take = 0;
        while take < present && valid + take < slots {
            take += 1;
        }
        let got_cnt = get(m, wc)? as usize;
        if got_cnt != cnt {
            return Err(format!("cycle {cyc}: win_count_o {got_cnt}, reference {cnt}"));
        }
        let window = get_bits(m, wd, win)?;
        // bits above the count are stale slot contents: don't care
        for (i, &bit) in window.iter().enumerate().take(cnt) {
            let want = buf[i];
            if bit != want {
                return Err(format!("cycle {cyc}: window bit {i} is {bit}, reference {want} (count {cnt})"));
            }
        }
        if get(m, sp)? as usize != take {
            return Err(format!("cycle {cyc}: s_pop_o {}, reference {take}", get(m, sp)?));
        }
        if (get(m, wl)? == 1) != last {
            return Err(format!("cycle {cyc}: win_last_o wrong"));
        }
        let tail = last && fifo.is_empty() && cnt < b && !buf.iter().any(|&x| x);
        if last && fifo.is_empty() && cnt == b {
            tail_hit[1] = true;
        }
        if (get(m, wt)? == 1) != tail {
            return Err(format!("cycle {cyc}: win_tail_ok_o {}, reference {tail} (count {cnt}, B {b})", get(m, wt)?));
        }
        tail_hit[0] |= tail;
        sim.rise();
        consumed.extend(buf.drain(..consume));
        ptr = (ptr + consume) % b;
        for _ in 0..take {
            let w = fifo.pop_front().expect("present");
            buf.extend(words[w].iter().copied());
            last |= w + 1 == n_words;
        }
        if arrived < n_words && fifo.len() < 8 && gin.next_go() {
            fifo.push_back(arrived);
            arrived += 1;
        }
    }
    if consumed != stream {
        return Err(format!("{} bits consumed of {}, or different", consumed.len(), stream.len()));
    }
    // Nothing left: count 0, the final word taken, only (no) padding left: tail ok.
    let mm = sim.model_mut().as_dyn_mut();
    set(mm, sv, 0)?;
    set(mm, wcons, 0)?;
    set(mm, wfire, 0)?;
    sim.fall();
    let m = sim.model();
    tail_hit[0] |= get(m, wt)? == 1 && get(m, wc)? == 0 && get(m, wl)? == 1;
    if !buf.is_empty() || !fifo.is_empty() || !tail_hit[0] || !tail_hit[1] {
        return Err(format!("left: {} bits, {} words; tail states reached: {tail_hit:?}", buf.len(), fifo.len()));
    }
    Ok(())
}

/// One layer the sequencer bench runs: shape and what goes wrong.
#[derive(Debug, Clone, Copy)]
enum Scenario {
    Clean,
    Trailing,
    /// win_last rises before beat j, whose bits then never come.
    Truncated(usize),
    /// The decoder flags code c on beat j.
    Format(usize, u32),
    BadConfig,
    /// start_i again before beat j (the layer is dropped).
    Restart(usize),
}

/// Beat sequencer: layers back to back, each fired beat's geometry (tile, rbase, rows left, lanes,
/// the next beat's lanes, first, eoc, last) against the list of (t, k) in stream order, status
/// every cycle against the reference state machine.
fn sequencer(
    info: &'static ModelInfo,
    (n, max_o, grouped): (usize, usize, bool),
    pin: Pat,
    pout: Pat,
    seed: u64,
) -> R<()> {
    let mut sim = Sim::new(info.instantiate()).map_err(e)?;
    let m = sim.model();
    let names = [
        "start_i",
        "cfg_rows_i",
        "cfg_cols_i",
        "grp_col0_i",
        "grp_lcol_i",
        "grp_last_i",
        "fire_i",
        "wait_i",
        "err_i",
        "err_code_i",
        "win_last_i",
        "win_tail_ok_i",
        "running_o",
        "rows_o",
        "tile_o",
        "rbase_o",
        "lanes_o",
        "rleft_o",
        "lanes_nx_o",
        "first_o",
        "eoc_o",
        "last_o",
        "done_o",
        "error_o",
        "error_code_o",
    ];
    let p: Vec<PortId> = names.iter().map(|s| port(m, s)).collect::<R<_>>()?;
    let [start, rows_i, cols_i, gcol0, glcol, glast, fire, wait, err, errc, wlast, wtail, running, rows_o, tile, rbase, lanes, rleft, lanes_nx, first, eoc, lasto, done, error, code] =
        p[..]
    else {
        unreachable!()
    };
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    let mut gin = pin.gen(5);
    let mut gout = pout.gen(6);
    sim.reset(2);
    let mut cyc = 0u64;
    for layer in 0..14 {
        let rows = if layer == 0 { max_o } else { r.random_range(1..=max_o.min(3 * n + 2)) };
        let cols = r.random_range(1..=if grouped { 9 } else { 4usize });
        let tiles = rows.div_ceil(n);
        let total = tiles * cols;
        // grouped: m of 1, 2 or 4 per layer, the walk's flags driven as a decoder does; in
        // column order they are random (unused)
        let order = if grouped { pe::BeatOrder::Groups(1 << r.random_range(0..3)) } else { pe::BeatOrder::Columns };
        let sides = pe::beat_sides(tiles, cols, order);
        let sc = match layer % 7 {
            0 | 1 => Scenario::Clean,
            2 => Scenario::Trailing,
            3 => Scenario::Truncated(r.random_range(0..total)),
            4 => Scenario::Format(r.random_range(0..total), [2, 3][r.random_range(0..2)]),
            5 => Scenario::BadConfig,
            _ => Scenario::Restart(r.random_range(0..total)),
        };
        let (cfg_rows, cfg_cols) = match sc {
            Scenario::BadConfig => [(0, cols), (max_o + 1, cols), (rows, 0)][r.random_range(0..3)],
            _ => (rows, cols),
        };
        let mm = sim.model_mut().as_dyn_mut();
        set(mm, rows_i, cfg_rows as u64)?;
        set(mm, cols_i, cfg_cols as u64)?;
        set(mm, start, 1)?;
        for x in [fire, wait, err, wlast, wtail] {
            set(mm, x, 0)?;
        }
        sim.step();
        cyc += 1;
        set(sim.model_mut().as_dyn_mut(), start, 0)?;
        let want_err = |m: &dyn Model, c: u64| -> R<()> {
            if get(m, error)? != 1 || get(m, code)? != c || get(m, done)? != 0 || get(m, running)? != 0 {
                return Err(format!(
                    "layer {layer} {sc:?}: want error {c}, got error {} code {}",
                    get(m, error)?,
                    get(m, code)?
                ));
            }
            Ok(())
        };
        if let Scenario::BadConfig = sc {
            sim.fall();
            want_err(sim.model(), 5)?;
            sim.rise();
            continue;
        }
        let mut beat = 0usize;
        let mut win_last = false;
        let mut ended = false;
        for _ in 0..20 * total + 50 {
            let mm = sim.model_mut().as_dyn_mut();
            for x in [fire, wait, err] {
                set(mm, x, 0)?;
            }
            let side = sides[beat.min(total - 1)];
            let walk = if grouped {
                [side.col == 0, side.last_col, side.last_group]
            } else {
                [r.random_bool(0.5), r.random_bool(0.5), r.random_bool(0.5)]
            };
            for (x, v) in [gcol0, glcol, glast].into_iter().zip(walk) {
                set(mm, x, u64::from(v))?;
            }
            sim.fall();
            let m = sim.model();
            // start_i clears the status: no error, no code (a stale code of the layer before
            // is a bug even while error_o is low), not done.
            if (get(m, error)?, get(m, code)?, get(m, done)?) != (0, 0, 0) {
                return Err(format!("layer {layer} {sc:?}: status before its time (beat {beat})"));
            }
            if get(m, running)? != 1 {
                return Err(format!("layer {layer}: not running at beat {beat} of {total}"));
            }
            let t = side.tile;
            let l = n.min(rows - t * n);
            let want = [
                t as u64,
                (t * n) as u64,
                l as u64,
                side.first as u64,
                side.end_of_group as u64,
                (beat + 1 == total) as u64,
            ];
            let got = [get(m, tile)?, get(m, rbase)?, get(m, lanes)?, get(m, first)?, get(m, eoc)?, get(m, lasto)?];
            if got != want || get(m, rows_o)? != rows as u64 {
                return Err(format!("layer {layer} (O={rows} K={cols}) beat {beat}: (t, rbase, L, first, eoc, last) {got:?}, want {want:?}"));
            }
            // rows from the tile on, and the lanes of the beat after this one (none after the last)
            let want_left = (rows - t * n) as u64;
            let want_nx = (beat + 1 < total).then(|| n.min(rows - ((t + 1) % tiles) * n) as u64);
            let (got_left, got_nx) = (get(m, rleft)?, get(m, lanes_nx)?);
            if got_left != want_left || want_nx.is_some_and(|w| w != got_nx) {
                return Err(format!(
                    "layer {layer} (O={rows} K={cols}) beat {beat}: rows left {got_left} (want {want_left}), next lanes {got_nx} (want {want_nx:?})"
                ));
            }
            // This cycle: the decoder fires, waits for bits (input idle) or the PE array is
            // not ready (output backpressure).
            let idle_in = !gin.next_go();
            let idle_out = !gout.next_go();
            let mm = sim.model_mut().as_dyn_mut();
            let mut stop: Option<u64> = None;
            match sc {
                Scenario::Truncated(j) if beat == j => {
                    win_last = true;
                    set(mm, wlast, 1)?;
                    set(mm, wait, 1)?;
                    stop = Some(1);
                }
                Scenario::Format(j, c) if beat == j && !idle_in => {
                    set(mm, err, 1)?;
                    set(mm, errc, u64::from(c))?;
                    stop = Some(u64::from(c));
                }
                Scenario::Restart(j) if beat == j => break,
                _ if idle_in => set(mm, wait, 1)?,
                _ if idle_out => {}
                _ => set(mm, fire, 1)?,
            }
            let fired = !idle_in && !idle_out && stop.is_none();
            set(mm, wlast, win_last as u64)?;
            sim.fall();
            sim.rise();
            cyc += 1;
            if let Some(c) = stop {
                sim.fall();
                want_err(sim.model(), c)?;
                sim.rise();
                ended = true;
                break;
            }
            if fired {
                beat += 1;
                if beat == total {
                    // The check cycle: tail ok or not.
                    let tail_ok = !matches!(sc, Scenario::Trailing);
                    let mm = sim.model_mut().as_dyn_mut();
                    set(mm, wtail, tail_ok as u64)?;
                    set(mm, fire, 0)?;
                    set(mm, wait, 0)?;
                    sim.fall();
                    let m = sim.model();
                    if get(m, running)? != 0 || get(m, done)? != 0 || get(m, error)? != 0 {
                        return Err(format!("layer {layer}: check cycle status wrong"));
                    }
                    sim.rise();
                    set(sim.model_mut().as_dyn_mut(), wtail, 0)?;
                    // Nothing left: the status holds for a few cycles, nothing runs.
                    for _ in 0..3 {
                        sim.fall();
                        let m = sim.model();
                        if tail_ok {
                            if get(m, done)? != 1 || get(m, error)? != 0 || get(m, running)? != 0 {
                                return Err(format!("layer {layer}: not done after the last beat and a good tail"));
                            }
                        } else {
                            want_err(m, 4)?;
                        }
                        sim.rise();
                    }
                    ended = true;
                    break;
                }
            }
        }
        if !ended && !matches!(sc, Scenario::Restart(_)) {
            return Err(format!("layer {layer} {sc:?}: did not end ({beat} of {total} beats)"));
        }
    }
    let _ = cyc;
    Ok(())
}

/// PE array: beats (with tile, first, eoc, last) and activations offered AXI-style under the
/// input pattern (independent seeds), y taken under the output pattern; out_en_i rises the cycle
/// after the last beat fired (as the decoder's done does). The y stream equals y = W a in
/// wrapping ACC bits, last on y[O-1]; then done, not busy, and nothing is accepted or output.
/// A layer aborted mid-way outputs nothing.
fn pe_array(
    info: &'static ModelInfo,
    (n, q, qa, acc, max_o, ag): (usize, u32, u32, u32, usize, usize),
    pin: Pat,
    pout: Pat,
    seed: u64,
) -> R<()> {
    let mut sim = Sim::new(info.instantiate()).map_err(e)?;
    let m = sim.model();
    let names = [
        "start_i",
        "cfg_rows_i",
        "cfg_cols_i",
        "abort_i",
        "out_en_i",
        "s_beat_data_i",
        "s_beat_tile_i",
        "s_beat_first_i",
        "s_beat_eoc_i",
        "s_beat_col_i",
        "s_beat_last_i",
        "s_beat_valid_i",
        "s_beat_ready_o",
        "s_act_data_i",
        "s_act_valid_i",
        "s_act_ready_o",
        "m_y_data_o",
        "m_y_valid_o",
        "m_y_last_o",
        "m_y_ready_i",
        "busy_o",
        "done_o",
    ];
    let p: Vec<PortId> = names.iter().map(|s| port(m, s)).collect::<R<_>>()?;
    let [start, rows_i, cols_i, abort, out_en, bd, bt, bf, be, bc, bl, bv, br, ad, av, ar, yd, yv, yl, yr, busy, done] =
        p[..]
    else {
        unreachable!()
    };
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    sim.reset(2);
    for layer in 0..4 {
        let rows = if layer == 0 { max_o.min(64) } else { r.random_range(1..=max_o.min(3 * n + 3)) };
        let cols = if layer == 1 { 1 } else { r.random_range(1..=40usize) };
        let aborted = layer == 3;
        let (lo, hi) = QuantMatrix::value_range(q);
        let mut w = QuantMatrix::zeros(rows, cols, q);
        for v in w.data.iter_mut() {
            if r.random_bool(0.7) {
                *v = r.random_range(lo..=hi);
            }
        }
        let acts = pe::random_activations(cols, qa, r.random());
        let want_y = pe::matvec_acc(&w, &acts, acc);
        let sp = crate::formats::StreamParams { lanes: n, weight_bits: q, ..Default::default() };
        // AG > 1: group order, m = 2..AG
        let order = if ag > 1 {
            pe::BeatOrder::Groups(1 << r.random_range(1..=ag.trailing_zeros()))
        } else {
            pe::BeatOrder::Columns
        };
        let beats = pe::beats_in(&w, &sp, order);
        let tiles = rows.div_ceil(n);
        let total = tiles * cols;
        let sides = pe::beat_sides(tiles, cols, order);
        let abort_at = r.random_range(0..total);
        let mut gb = pin.gen(7 + layer);
        let mut ga = pin.gen(8 + layer);
        let mut gy = pout.gen(9 + layer);
        let mm = sim.model_mut().as_dyn_mut();
        set(mm, rows_i, rows as u64)?;
        set(mm, cols_i, cols as u64)?;
        set(mm, start, 1)?;
        for x in [abort, out_en, bv, av, yr] {
            set(mm, x, 0)?;
        }
        sim.step();
        set(sim.model_mut().as_dyn_mut(), start, 0)?;
        let (mut nb, mut na) = (0usize, 0usize);
        let (mut boff, mut aoff) = (false, false);
        let mut ys: Vec<i64> = Vec::new();
        let mut last_fired_at: Option<u64> = None;
        let mut finished = false;
        let mut after = 0;
        for cyc in 0..(40 * (total + cols + rows) as u64 + 200) {
            let mm = sim.model_mut().as_dyn_mut();
            if !boff && nb < total && gb.next_go() {
                boff = true;
            }
            if !aoff && na < cols && ga.next_go() {
                aoff = true;
            }
            let i = nb.min(total - 1);
            let side = sides[i];
            let data: Vec<bool> = (0..n * q as usize)
                .map(|b| (beats[i * n + b / q as usize] as u32 >> (b % q as usize)) & 1 == 1)
                .collect();
            set_bits(mm, bd, &data)?;
            set(mm, bt, side.tile as u64)?;
            set(mm, bf, side.first as u64)?;
            set(mm, be, side.end_of_group as u64)?;
            set(mm, bc, side.col as u64)?;
            set(mm, bl, (nb + 1 == total) as u64)?;
            set(mm, bv, boff as u64)?;
            set(mm, ad, u64::from(acts[na.min(cols - 1)] as u32) & crate::bits::mask(qa))?;
            set(mm, av, aoff as u64)?;
            let yready = gy.next_go();
            set(mm, yr, yready as u64)?;
            set(mm, out_en, last_fired_at.is_some_and(|c| cyc > c) as u64)?;
            let do_abort = aborted && nb == abort_at;
            set(mm, abort, do_abort as u64)?;
            sim.fall();
            let m = sim.model();
            let bfire = boff && get(m, br)? == 1;
            let afire = aoff && get(m, ar)? == 1;
            let yfire = get(m, yv)? == 1 && yready;
            if finished {
                // nothing may be accepted or output any more
                if bfire || afire || get(m, yv)? == 1 || get(m, busy)? == 1 {
                    return Err(format!("layer {layer}: activity after the end (cycle {cyc})"));
                }
            }
            if yfire {
                let shift = 64 - acc;
                let v = ((get(m, yd)? << shift) as i64) >> shift;
                let j = ys.len();
                if (get(m, yl)? == 1) != (j + 1 == rows) {
                    return Err(format!("layer {layer}: m_y_last_o wrong at y[{j}] of {rows}"));
                }
                ys.push(v);
            }
            sim.rise();
            if do_abort {
                // The layer ends now: from the next cycle nothing is busy or output.
                last_fired_at = Some(u64::MAX);
                sim.fall();
                let m = sim.model();
                if get(m, busy)? == 1 || get(m, yv)? == 1 || get(m, done)? == 1 {
                    return Err(format!("layer {layer}: still busy after abort_i"));
                }
                sim.rise();
                finished = true;
            }
            if bfire && !do_abort {
                if nb + 1 == total {
                    last_fired_at = Some(cyc);
                }
                nb += 1;
                boff = false;
            }
            if afire {
                na += 1;
                aoff = false;
            }
            if !finished && ys.len() == rows {
                sim.fall();
                if get(sim.model(), done)? != 1 {
                    return Err(format!("layer {layer}: done_o low after y[O-1]"));
                }
                sim.rise();
                finished = true;
            }
            if finished {
                after += 1;
                if after > 12 {
                    break;
                }
            }
        }
        if aborted {
            if !ys.is_empty() {
                return Err(format!("layer {layer}: {} y out of an aborted layer", ys.len()));
            }
            continue;
        }
        if ys != want_y {
            let i = ys.iter().zip(&want_y).position(|(a, b)| a != b);
            return Err(format!("layer {layer} (O={rows} K={cols}): {} y of {rows}, first difference {i:?}", ys.len()));
        }
        if nb != total || na != cols {
            return Err(format!("layer {layer}: {nb} of {total} beats, {na} of {cols} activations taken"));
        }
    }
    Ok(())
}
