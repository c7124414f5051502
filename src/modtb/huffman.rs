//! Benches of the Huffman decoders' modules: the canonical decode unit, the header loader, the
//! lane-huffman lane unit, the two symbol tables and the beat queue, each against a Rust reference
//! of what it must do, every cycle, under the idle / backpressure crossings of [`super::cross`].

use std::collections::VecDeque;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use weightstream_sim::{Model, ModelInfo, PortId, Sim};

use super::{e, get, get_bits, port, set, set_bits, Pat, R};
use crate::bits::{BitReader, Bits};
use crate::formats::huffman::read_table;
use crate::formats::DecodeErrorKind;

/// A random prefix code with lengths up to `max_len`, as counts per length 1..=lmax (lmax its
/// longest): leaves of a random binary tree, split until there are 1..=`max_codes` of them
/// (one leaf: the one-code code, length 1); complete unless `complete` is false (then one leaf
/// of several is dropped).
fn random_counts(r: &mut ChaCha8Rng, max_len: usize, complete: bool, max_codes: u64) -> Vec<u64> {
    let target = r.random_range(1..=max_codes.min(1 << max_len.min(9)).max(1)) as usize;
    if target == 1 {
        return vec![1];
    }
    let mut leaves = vec![0usize];
    while leaves.len() < target {
        let open: Vec<usize> = (0..leaves.len()).filter(|&i| leaves[i] < max_len).collect();
        if open.is_empty() {
            break;
        }
        // mostly the deepest leaves: skewed codes, as real ones are
        let i = if r.random_bool(0.6) {
            *open.iter().max_by_key(|&&i| leaves[i]).unwrap()
        } else {
            open[r.random_range(0..open.len())]
        };
        let d = leaves[i] + 1;
        leaves[i] = d;
        leaves.push(d);
    }
    if !complete && leaves.len() > 1 {
        let i = r.random_range(0..leaves.len());
        leaves.remove(i);
    }
    let lmax = *leaves.iter().max().unwrap();
    let mut counts = vec![0u64; lmax];
    for d in leaves {
        counts[d - 1] += 1;
    }
    counts
}

/// limit(l) = first(l) + count(l) per length.
fn limits(counts: &[u64]) -> Vec<u64> {
    let mut first = 0u64;
    counts
        .iter()
        .map(|&n| {
            let lim = first + n;
            first = lim << 1;
            lim
        })
        .collect()
}

/// The limits packed as ws_canon_unit takes them: length l's l + 1 bits at (l-1)(l+2)/2.
fn pack_limits(lim: &[u64], h: usize) -> Vec<bool> {
    let mut v = vec![false; h * (h + 3) / 2];
    for (i, &x) in lim.iter().enumerate() {
        let l = i + 1;
        for b in 0..=l {
            v[(l - 1) * (l + 2) / 2 + b] = x >> b & 1 == 1;
        }
    }
    v
}

/// The length of the code `x` begins (x[0] its first bit), 0 for none: the least l <= lmax with
/// v_l < limit(l).
fn code_len(x: &[bool], lim: &[u64]) -> usize {
    let mut v = 0u64;
    for (i, &lm) in lim.iter().enumerate() {
        v = v << 1 | u64::from(x[i]);
        if v < lm {
            return i + 1;
        }
    }
    0
}

fn thermometer(n: usize, width: usize) -> Vec<bool> {
    (0..width).map(|i| i < n).collect()
}

/// ws_canon_unit (combinational): random code tables and random code bits; every length's hit,
/// the one-hot length and found against [`code_len`].
pub(super) fn canon_unit(info: &'static ModelInfo, h: usize, seed: u64) -> R<()> {
    let mut mb = info.instantiate();
    let m: &mut dyn Model = mb.as_dyn_mut();
    let (x, lim, en) = (port(m, "x_i")?, port(m, "lim_i")?, port(m, "len_en_i")?);
    let (hit, len_oh, found) = (port(m, "hit_o")?, port(m, "len_oh_o")?, port(m, "found_o")?);
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    for table in 0..200 {
        let counts = random_counts(&mut r, h, table % 4 != 0, 1 << h);
        let lmax = counts.len();
        let lims = limits(&counts);
        set_bits(m, lim, &pack_limits(&lims, h))?;
        set_bits(m, en, &thermometer(lmax, h))?;
        for _ in 0..64 {
            let bits: Vec<bool> = (0..h).map(|_| r.random_bool(0.5)).collect();
            set_bits(m, x, &bits)?;
            m.eval();
            let len = code_len(&bits, &lims);
            let mut v = 0u64;
            let want_hit: Vec<bool> = (0..h)
                .map(|i| {
                    v = v << 1 | u64::from(bits[i]);
                    i < lmax && v < lims[i]
                })
                .collect();
            let want_oh: Vec<bool> = (0..h).map(|i| len == i + 1).collect();
            if get_bits(m, hit, h)? != want_hit
                || get_bits(m, len_oh, h)? != want_oh
                || get(m, found)? != u64::from(len > 0)
            {
                return Err(format!("table {table} counts {counts:?} bits {bits:?}: want length {len}"));
            }
        }
    }
    Ok(())
}

/// ws_sym_table_ff and ws_sym_table_ram (one interface): a table written a block of SPC symbols
/// per cycle (under the input pattern), then read on every port with random indices (held under
/// the output pattern): each read's symbol one cycle after its index; then half the blocks
/// rewritten and read again.
pub(super) fn sym_table(
    info: &'static ModelInfo,
    n: usize,
    q: usize,
    spc: usize,
    pin: Pat,
    pout: Pat,
    seed: u64,
) -> R<()> {
    let mut sim = Sim::new(info.instantiate()).map_err(e)?;
    let m = sim.model();
    let (we, widx, wdata, ridx, rdata) =
        (port(m, "we_i")?, port(m, "widx_i")?, port(m, "wdata_i")?, port(m, "ridx_i")?, port(m, "rdata_o")?);
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    let entries = 1usize << q;
    let mut gin = pin.gen(11);
    let mut gout = pout.gen(12);
    let mut table = vec![0u64; entries];
    for round in 0..2 {
        // write: every block (round 0), every other block (round 1)
        let blocks: Vec<usize> = (0..entries.div_ceil(spc)).filter(|b| round == 0 || b % 2 == 1).collect();
        let mut i = 0;
        while i < blocks.len() {
            let go = gin.next_go();
            let mm = sim.model_mut().as_dyn_mut();
            set(mm, we, u64::from(go))?;
            let base = blocks[i] * spc;
            set(mm, widx, (base % entries) as u64)?;
            let mut data = vec![false; spc * q];
            for s in 0..spc {
                let v: u64 = r.random_range(0..1u64 << q);
                if go && base + s < entries {
                    table[base + s] = v;
                }
                for b in 0..q {
                    data[s * q + b] = v >> b & 1 == 1;
                }
            }
            set_bits(mm, wdata, &data)?;
            sim.step();
            if go {
                i += 1;
            }
        }
        set(sim.model_mut().as_dyn_mut(), we, 0)?;
        // read
        let mut idx = vec![0usize; n];
        for cyc in 0..400 {
            if cyc == 0 || gout.next_go() {
                idx = (0..n).map(|_| r.random_range(0..entries)).collect();
            }
            let mut bits = vec![false; n * q];
            for (p, &x) in idx.iter().enumerate() {
                for b in 0..q {
                    bits[p * q + b] = x >> b & 1 == 1;
                }
            }
            set_bits(sim.model_mut().as_dyn_mut(), ridx, &bits)?;
            sim.step();
            let got = get_bits(sim.model(), rdata, n * q)?;
            for (p, &x) in idx.iter().enumerate() {
                let v = (0..q).fold(0u64, |v, b| v | u64::from(got[p * q + b]) << b);
                if v != table[x] {
                    return Err(format!("round {round} cycle {cyc}: port {p} index {x}: {v}, want {}", table[x]));
                }
            }
        }
    }
    Ok(())
}

/// One beat record of the queue: lanes, tile, first, eoc, last.
type QBeat = (Vec<u64>, usize, bool, bool, bool);

/// ws_beat_queue: a decoder's loop fires beats while credit_o (input pattern), pushes each two
/// cycles later (the U and V stages), the sink takes them under the output pattern. What comes
/// out is the beats pushed, in order (DELTA = 1: their running sum along k per row), never more
/// than QD fired and not out (QD + 2 with the delta stage's two registers); a flush drops everything (the credit
/// comes back) and a hold (an error, then its flush) keeps every beat in.
#[allow(clippy::too_many_arguments)]
pub(super) fn beat_queue(
    info: &'static ModelInfo,
    n: usize,
    q: usize,
    max_o: usize,
    qd: usize,
    delta: bool,
    pin: Pat,
    pout: Pat,
    seed: u64,
) -> R<()> {
    let mut sim = Sim::new(info.instantiate()).map_err(e)?;
    let m = sim.model();
    let names = [
        "flush_i",
        "hold_i",
        "fire_i",
        "credit_o",
        "push_i",
        "s_data_i",
        "s_tile_i",
        "s_first_i",
        "s_eoc_i",
        "s_last_i",
        "m_data_o",
        "m_tile_o",
        "m_first_o",
        "m_eoc_o",
        "m_last_o",
        "m_valid_o",
        "m_ready_i",
        "busy_o",
    ];
    let p: Vec<PortId> = names.iter().map(|s| port(m, s)).collect::<R<_>>()?;
    let [flush, hold, fire, credit, push, sd, st, sf, se, sl, md, mt, mf, me, ml, mv, mr, busy] = p[..] else {
        unreachable!()
    };
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    let mut gin = pin.gen(21);
    let mut gout = pout.gen(22);
    let mask = (1u64 << q) - 1;
    sim.reset(2);
    for layer in 0..4 {
        let rows = r.random_range(1..=max_o.min(3 * n + 2));
        let cols = r.random_range(1..=5usize);
        let tiles = rows.div_ceil(n);
        let beats: Vec<QBeat> = (0..cols)
            .flat_map(|k| (0..tiles).map(move |t| (k, t)))
            .map(|(k, t)| {
                let lanes = (rows - t * n).min(n);
                let d = (0..n).map(|l| if l < lanes { r.random_range(0..=mask) } else { 0 }).collect();
                (d, t, k == 0, t + 1 == tiles, k + 1 == cols && t + 1 == tiles)
            })
            .collect();
        // what must come out: the beats, or their running sum per row tile
        let mut want: VecDeque<QBeat> = VecDeque::new();
        let mut prev = vec![vec![0u64; n]; tiles];
        for b in &beats {
            let mut o = b.clone();
            if delta {
                for (l, v) in o.0.iter_mut().enumerate() {
                    let base = if b.2 { 0 } else { prev[b.1][l] };
                    *v = (base + *v) & mask;
                }
                prev[b.1] = o.0.clone();
            }
            want.push_back(o);
        }
        // layer 1: an error (hold, then the flush it brings); layer 2: a start (a flush alone)
        let flushed = layer == 1 || layer == 2;
        let (mut fired, mut out, mut pipe) = (0usize, 0usize, VecDeque::from(vec![None::<usize>; 2]));
        for cyc in 0..20 * beats.len() + 100 {
            let hold_now = layer == 1 && (6..10).contains(&cyc);
            let flush_now = flushed && cyc == if layer == 1 { 10 } else { 3 * beats.len().min(6) + 1 };
            let mm = sim.model_mut().as_dyn_mut();
            set(mm, hold, u64::from(hold_now))?;
            set(mm, flush, u64::from(flush_now))?;
            let ready = gout.next_go();
            set(mm, mr, u64::from(ready))?;
            // the push of a beat fired two cycles ago
            let pushed = pipe.pop_front().flatten();
            set(mm, push, u64::from(pushed.is_some()))?;
            if let Some(i) = pushed {
                let b = &beats[i];
                let mut bits = vec![false; n * q];
                for l in 0..n {
                    for x in 0..q {
                        bits[l * q + x] = b.0[l] >> x & 1 == 1;
                    }
                }
                set_bits(mm, sd, &bits)?;
                set(mm, st, b.1 as u64)?;
                set(mm, sf, u64::from(b.2))?;
                set(mm, se, u64::from(b.3))?;
                set(mm, sl, u64::from(b.4))?;
            }
            sim.fall();
            let m = sim.model();
            let can = get(m, credit)? == 1;
            // the credit counts the beats fired and not out of the queue: with DELTA one more may
            // be in the delta stage after it
            let held = fired - out;
            let wrong = if delta { held > qd + 2 || (held < qd && !can) } else { (held > qd - 1) == can };
            if wrong {
                return Err(format!("layer {layer} cycle {cyc}: credit {can} with {} fired, not out", fired - out));
            }
            let go = can && fired < beats.len() && gin.next_go() && !flush_now;
            set(sim.model_mut().as_dyn_mut(), fire, u64::from(go))?;
            let m = sim.model();
            let valid = get(m, mv)? == 1;
            if valid && hold_now {
                return Err(format!("layer {layer} cycle {cyc}: a beat out while held"));
            }
            if valid && ready && !flush_now {
                let w = want.pop_front().ok_or("a beat too many")?;
                let got = get_bits(m, md, n * q)?;
                let d: Vec<u64> = (0..n).map(|l| (0..q).fold(0, |v, x| v | u64::from(got[l * q + x]) << x)).collect();
                let side = (get(m, mt)? as usize, get(m, mf)? == 1, get(m, me)? == 1, get(m, ml)? == 1);
                if d != w.0 || side != (w.1, w.2, w.3, w.4) {
                    return Err(format!("layer {layer} beat {out}: {d:?} {side:?}, want {:?}", w));
                }
                out += 1;
            }
            sim.rise();
            pipe.push_back(if go { Some(fired) } else { None });
            if go {
                fired += 1;
            }
            if flush_now {
                // everything held is dropped; the layer ends here
                break;
            }
            if out == beats.len() {
                break;
            }
        }
        if flushed {
            sim.step();
            if get(sim.model(), mv)? == 1 || get(sim.model(), busy)? == 1 || get(sim.model(), credit)? == 0 {
                return Err(format!("layer {layer}: not empty after the flush"));
            }
        } else if out != beats.len() {
            return Err(format!("layer {layer}: {out} of {} beats out", beats.len()));
        }
        // nothing left
        sim.steps(4);
        if get(sim.model(), mv)? == 1 || get(sim.model(), busy)? == 1 {
            return Err(format!("layer {layer}: a beat left in the queue"));
        }
    }
    Ok(())
}

/// ws_huffman_header: streams of a random header (complete codes, a one-code code, and headers
/// made bad: lmax > H, over-subscribed, incomplete, too many codes; or cut inside) and random bits
/// after it, arriving B bits per cycle under the input pattern into a window of WIN bits whose
/// bits past the count are garbage; the fields taken as the module says (need_o when take_o).
/// Against the golden `read_table`: a good header ends in done_o with the bits taken exactly the
/// header's, lmax, the lengths, the limits and offsets of every length and the symbols written
/// (index and data) as the table; a bad one in err_o, and a cut one in wait_o once the last bit
/// is in, with neither done_o nor the other before it.
#[allow(clippy::too_many_arguments)]
pub(super) fn huffman_header(
    info: &'static ModelInfo,
    q: usize,
    spc: usize,
    win: usize,
    cnt_w: usize,
    pin: Pat,
    seed: u64,
) -> R<()> {
    const H: usize = 12;
    let cw = (usize::BITS - win.leading_zeros()) as usize;
    let mut sim = Sim::new(info.instantiate()).map_err(e)?;
    let m = sim.model();
    let names = [
        "start_i",
        "en_i",
        "win_data_i",
        "win_count_i",
        "win_last_i",
        "need_o",
        "take_o",
        "stall_o",
        "wait_o",
        "err_o",
        "done_o",
        "lmax_o",
        "len_en_o",
        "lim_o",
        "off_o",
        "sym_we_o",
        "sym_idx_o",
        "sym_data_o",
    ];
    let p: Vec<PortId> = names.iter().map(|s| port(m, s)).collect::<R<_>>()?;
    let [start, en, wd, wc, wl, need, take, stall, wait, err, done, lmax_o, len_en, lim_o, off_o, swe, sidx, sdata] =
        p[..]
    else {
        unreachable!()
    };
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    let mut gin = pin.gen(31);
    let qm = (1u64 << q) - 1;
    sim.reset(2);
    for case in 0..60 {
        // the header's fields
        let mut counts = random_counts(&mut r, H, true, if case % 11 == 5 { 1 << H } else { 1 << q });
        if case % 7 == 3 {
            // lmax > H
            let l = r.random_range(H + 1..32);
            counts.resize(l, 0);
        }
        let lmax_field = counts.len();
        if case % 5 == 1 {
            // over-subscribed or incomplete: one count off by one
            let i = r.random_range(0..counts.len());
            counts[i] = if r.random_bool(0.5) { counts[i] + 1 } else { counts[i].saturating_sub(1) };
        }
        let mut bits = Bits::new();
        let mut put = |v: u64, w: usize| {
            for b in 0..w {
                bits.push(v >> b & 1 == 1);
            }
        };
        put(lmax_field as u64, 5);
        for &c in counts.iter().take(lmax_field) {
            put(c & qm, q);
        }
        let syms: u64 = counts.iter().take(lmax_field).map(|&c| c & qm).sum();
        for _ in 0..syms.min(1 << q) {
            put(r.random_range(0..=qm), q);
        }
        let header_bits = bits.len();
        let cut = case % 6 == 2 && header_bits > 1;
        if cut {
            bits.truncate(r.random_range(0..header_bits));
        } else {
            for _ in 0..64 {
                bits.push(r.random_bool(0.5));
            }
        }
        let golden = read_table(&mut BitReader::new(&bits), q as u32);
        // the run
        let mm = sim.model_mut().as_dyn_mut();
        set(mm, start, 1)?;
        set(mm, en, 0)?;
        sim.step();
        let mm = sim.model_mut().as_dyn_mut();
        set(mm, start, 0)?;
        set(mm, en, 1)?;
        let (mut arrived, mut taken) = (0usize, 0usize);
        let mut written: Vec<Option<u64>> = vec![None; 1 << q];
        let mut ended = None;
        for cyc in 0..4000 {
            if gin.next_go() {
                arrived = (arrived + 32).min(bits.len());
            }
            let last = arrived == bits.len();
            let mut window = vec![false; win];
            for (i, w) in window.iter_mut().enumerate() {
                *w = if taken + i < arrived { bits[taken + i] } else { r.random_bool(0.5) };
            }
            let mm = sim.model_mut().as_dyn_mut();
            set_bits(mm, wd, &window)?;
            // the count as the aligner's: at most what its funnel holds
            set(mm, wc, (arrived - taken).min(2 * win).min((1 << cnt_w) - 1) as u64)?;
            set(mm, wl, u64::from(last))?;
            sim.fall();
            let m = sim.model();
            let (t, w, x, d) = (get(m, take)? == 1, get(m, wait)? == 1, get(m, err)? == 1, get(m, done)? == 1);
            if w && (t || x || get(m, stall)? == 0) {
                return Err(format!("case {case} cycle {cyc}: wait with take {t}, err {x} or no stall"));
            }
            if d {
                ended = Some("done");
            } else if x {
                ended = Some("error");
            } else if w && last {
                ended = Some("cut");
            }
            if t {
                let k = get(m, need)? as usize;
                if k > arrived - taken || k > win || k >= 1 << cw {
                    return Err(format!("case {case} cycle {cyc}: takes {k} of {} bits", arrived - taken));
                }
                if get(m, swe)? == 1 {
                    let idx = get(m, sidx)? as usize;
                    let data = get_bits(m, sdata, spc * q)?;
                    for s in 0..spc {
                        if idx + s < 1 << q {
                            written[idx + s] = Some((0..q).fold(0, |v, b| v | u64::from(data[s * q + b]) << b));
                        }
                    }
                }
                taken += k;
            }
            sim.rise();
            if ended.is_some() {
                break;
            }
        }
        let m = sim.model();
        match (&golden, ended) {
            (Ok(tab), Some("done")) => {
                if taken != header_bits {
                    return Err(format!("case {case}: took {taken} bits, the header has {header_bits}"));
                }
                let lm = tab.lmax as usize;
                if get(m, lmax_o)? != lm as u64 || get_bits(m, len_en, H)? != thermometer(lm, H) {
                    return Err(format!("case {case}: lmax {} / lengths, want {lm}", get(m, lmax_o)?));
                }
                let lims = limits(&tab.counts);
                let got_lim = get_bits(m, lim_o, H * (H + 3) / 2)?;
                let want_lim = pack_limits(&lims, H);
                let got_off = get_bits(m, off_o, H * q)?;
                let mut base = 0u64;
                for l in 1..=lm {
                    let span = (l - 1) * (l + 2) / 2..(l - 1) * (l + 2) / 2 + l + 1;
                    if got_lim[span.clone()] != want_lim[span] {
                        return Err(format!("case {case}: limit of length {l}"));
                    }
                    let first = if l == 1 { 0 } else { lims[l - 2] << 1 };
                    let off = base.wrapping_sub(first) & qm;
                    let got = (0..q).fold(0u64, |v, b| v | u64::from(got_off[(l - 1) * q + b]) << b);
                    if got != off {
                        return Err(format!("case {case}: offset of length {l}: {got}, want {off}"));
                    }
                    base += tab.counts[l - 1];
                }
                for (i, &s) in tab.symbols.iter().enumerate() {
                    if written[i] != Some(u64::from(s)) {
                        return Err(format!("case {case}: symbol {i}: {:?}, want {s}", written[i]));
                    }
                }
            }
            (Err((_, DecodeErrorKind::Truncated { .. })), Some("cut")) => {}
            (Err((_, k)), Some("error")) if !matches!(k, DecodeErrorKind::Truncated { .. }) => {}
            (g, x) => {
                return Err(format!("case {case}: golden {:?}, module {x:?}", g.as_ref().map(|t| t.lmax)));
            }
        }
    }
    Ok(())
}

/// ws_lane_unit: a lane's sub-stream (random codes of a random canonical code, zeros to whole
/// chunks, sometimes a 1 in the fill) taken as the decoder takes it: two chunks at the first code
/// when T > C (or split over two cycles), then the code in the cycle after; later codes each
/// with the chunk their count asks for (c < T) in the same cycle; idle cycles under the input
/// pattern, codes spaced under the output pattern. Every cycle: the next H bits, the length and
/// found of the code they begin (when the lane holds lmax bits), c < T, c + C < T, c == 0, and
/// whether the bits held are all zero, against a bit queue.
pub(super) fn lane_unit(info: &'static ModelInfo, pin: Pat, pout: Pat, seed: u64) -> R<()> {
    const H: usize = 12;
    const C: usize = 12;
    let mut sim = Sim::new(info.instantiate()).map_err(e)?;
    let m = sim.model();
    let names = [
        "clear_i", "lim_i", "len_en_i", "thr_i", "two_i", "tk1_i", "tk2_i", "chunk_i", "chunk2_i", "dec_i", "front_o",
        "len_o", "found_o", "rf_o", "rf2_o", "first_o", "zero_o",
    ];
    let p: Vec<PortId> = names.iter().map(|s| port(m, s)).collect::<R<_>>()?;
    let [clear, lim, len_en, thr, two, tk1, tk2, ch1, ch2, dec, front, len_o, found, rf, rf2, first, zero] = p[..]
    else {
        unreachable!()
    };
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    let mut gin = pin.gen(41);
    let mut gout = pout.gen(42);
    sim.reset(2);
    for layer in 0..24 {
        let counts = random_counts(&mut r, H, true, 1 << H);
        let lmax = counts.len();
        let lims = limits(&counts);
        let t = 2 * lmax;
        // the codes: (value MSB first, length) of random symbols
        let mut codes: Vec<(u64, usize)> = Vec::new();
        let mut first_v = 0u64;
        for (i, &n) in counts.iter().enumerate() {
            for j in 0..n {
                codes.push((first_v + j, i + 1));
            }
            first_v = (first_v + n) << 1;
        }
        let ncodes = r.random_range(1..=40);
        let mut sub: Vec<bool> = Vec::new();
        let mut lens = Vec::new();
        for _ in 0..ncodes {
            let (v, l) = codes[r.random_range(0..codes.len())];
            sub.extend((0..l).map(|b| v >> (l - 1 - b) & 1 == 1));
            lens.push(l);
        }
        let chunks = sub.len().div_ceil(C) + 2;
        sub.resize(chunks * C, false);
        let bad_fill = layer % 5 == 4;
        if bad_fill {
            let at = sub.len() - 1 - r.random_range(0..C);
            sub[at] = true;
        }
        let mm = sim.model_mut().as_dyn_mut();
        set(mm, clear, 1)?;
        set_bits(mm, lim, &pack_limits(&lims, H))?;
        set_bits(mm, len_en, &thermometer(lmax, H))?;
        set(mm, thr, t as u64)?;
        set(mm, two, u64::from(t > C))?;
        for x in [tk1, tk2, dec] {
            set(mm, x, 0)?;
        }
        sim.step();
        set(sim.model_mut().as_dyn_mut(), clear, 0)?;
        // an empty lane's count follows T from the cycle after the clear (in the decoder T is
        // known from the header's lmax on, long before a lane's first chunk)
        sim.step();
        // the lane's bits (front first), the chunks taken, the codes decoded
        let mut held: VecDeque<bool> = VecDeque::new();
        let (mut next_chunk, mut decoded) = (0usize, 0usize);
        let mut guard = 0;
        while decoded < ncodes || guard < 3 {
            if decoded == ncodes {
                guard += 1;
            }
            let c = held.len();
            // the action: a first code's chunks, or a code (with its chunk)
            let active = decoded < ncodes && gin.next_go();
            let (mut take, mut take2, mut code) = (0, false, false);
            if active {
                if c == 0 {
                    take = 1;
                    take2 = t > C && r.random_bool(0.7);
                } else if c >= lmax && gout.next_go() {
                    code = true;
                    take = usize::from(c < t);
                } else if c < t && c < lmax {
                    take = 1;
                }
            }
            let mm = sim.model_mut().as_dyn_mut();
            let chunk = |k: usize| -> Vec<bool> { sub[k * C..(k + 1) * C].to_vec() };
            set(mm, tk1, u64::from(take == 1 && next_chunk < chunks))?;
            set(mm, tk2, u64::from(take2 && next_chunk + 1 < chunks))?;
            set_bits(mm, ch1, &chunk(next_chunk.min(chunks - 1)))?;
            set_bits(mm, ch2, &chunk((next_chunk + 1).min(chunks - 1)))?;
            set(mm, dec, u64::from(code))?;
            sim.fall();
            let m = sim.model();
            let want_zero = held.iter().all(|b| !b);
            let flags = (get(m, rf)? == 1, get(m, rf2)? == 1, get(m, first)? == 1, get(m, zero)? == 1);
            if flags != (c < t, c + C < t, c == 0, want_zero) {
                return Err(format!("layer {layer} lmax {lmax}: count {c}: rf, rf2, first, zero {flags:?}"));
            }
            let got = get_bits(m, front, H)?;
            if (0..c.min(H)).any(|i| got[i] != held[i]) {
                return Err(format!(
                    "layer {layer}: the next bits {got:?}, held {:?}",
                    held.iter().take(H).collect::<Vec<_>>()
                ));
            }
            if c >= lmax {
                let x: Vec<bool> = (0..H).map(|i| if i < c { held[i] } else { got[i] }).collect();
                let l = code_len(&x, &lims);
                if get(m, len_o)? != l as u64 || get(m, found)? != u64::from(l > 0) {
                    return Err(format!("layer {layer}: length {}, want {l}", get(m, len_o)?));
                }
                if code && l != lens[decoded] {
                    return Err(format!("layer {layer}: code {decoded} of length {}, decoded {l}", lens[decoded]));
                }
            }
            sim.rise();
            // the reference moves
            if code {
                for _ in 0..lens[decoded] {
                    held.pop_front();
                }
                decoded += 1;
            }
            for k in 0..(usize::from(take == 1) + usize::from(take2)) {
                if next_chunk < chunks {
                    held.extend(sub[next_chunk * C..(next_chunk + 1) * C].iter());
                    next_chunk += 1;
                }
                let _ = k;
            }
        }
        // the rest of the sub-stream: all of it (the fill's 1 when there is one)
        while next_chunk < chunks && held.len() < t {
            let mm = sim.model_mut().as_dyn_mut();
            set(mm, tk1, 1)?;
            set(mm, tk2, 0)?;
            set(mm, dec, 0)?;
            set_bits(mm, ch1, &sub[next_chunk * C..(next_chunk + 1) * C])?;
            sim.step();
            held.extend(sub[next_chunk * C..(next_chunk + 1) * C].iter());
            next_chunk += 1;
        }
        let mm = sim.model_mut().as_dyn_mut();
        set(mm, tk1, 0)?;
        sim.fall();
        let zero_now = get(sim.model(), zero)? == 1;
        if zero_now != held.iter().all(|b| !b) {
            return Err(format!(
                "layer {layer}: zero_o {zero_now} with {} bits held (fill bad: {bad_fill})",
                held.len()
            ));
        }
        sim.rise();
    }
    Ok(())
}
