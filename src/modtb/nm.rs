//! The bench of ws_nm_decoder on its own: the aligner's window played by the bench (the next WIN
//! stream bits from a bit pointer, the bits arrived so far in B-bit words under the input idle
//! pattern, the final-word and tail flags as the aligner raises them), the beats taken under the
//! output backpressure pattern. Per case a random n:m matrix (n up to the decoder's keep, m 2 to
//! 2^max_log2_group, now and then above it, short last groups, one or several row tiles) encoded by the golden model, sometimes with
//! bits flipped, cut or appended; the golden decoder decides: its beats exactly, in order, with
//! their side band, then done; or the error code [`crate::hostile::expected_code`] names. Every
//! cycle: a take never exceeds the bits there are; nothing leaves after an error.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use weightstream_sim::{ModelInfo, PortId, Sim};

use super::{e, get, get_bits, port, set, set_bits, Pat, R};
use crate::bits::Bits;
use crate::formats::{Format, NmPattern, StreamParams};
use crate::hostile::{expected_code, rtl_limit};
use crate::matrix::QuantMatrix;

/// A random matrix with at most `nm.keep` nonzeros in every group of `nm.group` columns of a row.
pub fn random_nm(r: &mut ChaCha8Rng, rows: usize, cols: usize, q: u32, nm: NmPattern) -> QuantMatrix {
    let (n, m) = (nm.keep as usize, nm.group as usize);
    let lim = 1i32 << (q - 1);
    let mut data = vec![0i32; rows * cols];
    for o in 0..rows {
        for g0 in (0..cols).step_by(m) {
            let mg = m.min(cols - g0);
            let want = r.random_range(0..=n.min(mg));
            let mut cols_g: Vec<usize> = (0..mg).collect();
            for i in 0..want {
                let j = r.random_range(i..mg);
                cols_g.swap(i, j);
                let v = loop {
                    let v = r.random_range(-lim..lim);
                    if v != 0 {
                        break v;
                    }
                };
                data[o * cols + g0 + cols_g[i]] = v;
            }
        }
    }
    QuantMatrix { rows, cols, bits: q, data }
}

/// The decoder's own header limits (`NmFact::rtl_limit`: n above keep, log2 m above
/// max_log2_group): bad-nm-header where the golden decoder reads on.
fn nm_limit(bits: &Bits) -> Option<u32> {
    if bits.len() < 8 {
        return None;
    }
    let field = |at: usize| (0..4).fold(0u32, |v, i| v | u32::from(bits[at + i]) << i);
    crate::rtl::facts().nm.rtl_limit(field(0), field(4)).then(|| crate::rtl::RtlError::BadNmHeader.code())
}

/// One parameter point of the bench: lanes, weight bits, bus bits, MAX_O.
pub(super) fn nm_decoder(
    info: &'static ModelInfo,
    (n, q, b, max_o): (usize, u32, usize, usize),
    keep: u32,
    pin: Pat,
    pout: Pat,
    seed: u64,
) -> R<()> {
    let win = crate::rtl::facts().nm.window_bits(n, q);
    let cnt_w = (usize::BITS - (2 * win + 3 * b).leading_zeros()) as usize;
    let mut sim = Sim::new(info.instantiate()).map_err(e)?;
    let m = sim.model();
    let names = [
        "start_i",
        "cfg_rows_i",
        "cfg_cols_i",
        "win_data_i",
        "win_count_i",
        "win_last_i",
        "win_tail_ok_i",
        "win_need_o",
        "win_pick_o",
        "m_beat_data_o",
        "m_beat_tile_o",
        "m_beat_first_o",
        "m_beat_eoc_o",
        "m_beat_col_o",
        "m_beat_last_o",
        "m_beat_valid_o",
        "m_beat_ready_i",
        "done_o",
        "error_o",
        "error_code_o",
    ];
    let p: Vec<PortId> = names.iter().map(|s| port(m, s)).collect::<R<_>>()?;
    let [start, rows_i, cols_i, wd, wc, wl, wt, need, pick, bd, btile, bfirst, beoc, bcol, blast, bvalid, bready, done, err, code] =
        p[..]
    else {
        unreachable!()
    };
    let mut r = ChaCha8Rng::seed_from_u64(seed ^ 0x6e6d);
    let mut gin = pin.gen(41);
    let mut gout = pout.gen(43);
    sim.reset(2);
    for case in 0..40 {
        // log2 m up to the decoder's limit, now and then one above it (bad-nm-header)
        let maxlm = crate::rtl::facts().nm.max_log2_group;
        let lm = if maxlm < 4 && case % 10 == 9 { maxlm + 1 } else { r.random_range(1..=maxlm) };
        let nk = r.random_range(1..=keep.min((1 << lm) - 1));
        let nm = NmPattern { keep: nk, group: 1 << lm };
        let rows = r.random_range(1..=max_o);
        let cols = r.random_range(1..=24);
        let w = random_nm(&mut r, rows, cols, q, nm);
        let sp = StreamParams { lanes: n, weight_bits: q, bus_bits: b as u32, nm, ..Default::default() };
        let enc = Format::Nm.encode(&w, &sp).map_err(e)?;
        let mut bits: Bits = enc.bits.clone();
        // malformed variants: bits flipped, cut to fewer words, a word appended
        match case % 8 {
            3 => {
                for _ in 0..r.random_range(1..=2) {
                    let i = r.random_range(0..bits.len());
                    let v = !bits[i];
                    bits.set(i, v);
                }
            }
            5 if bits.len() > b => {
                let words = bits.len() / b;
                bits.truncate(r.random_range(1..words) * b);
            }
            6 => {
                for _ in 0..b {
                    bits.push(r.random_bool(0.3));
                }
            }
            _ => {}
        }
        let golden = Format::Nm.decode("bench", &bits, rows, cols, &sp);
        let limit = rtl_limit(Format::Nm, &bits).or_else(|| nm_limit(&bits));
        // the beats to see: the golden decoder's exactly; before an error a prefix of the
        // encoded matrix's for a cut or extended stream, anything for flipped bits
        let cut = case % 8 == 5 || case % 8 == 6;
        let want_beats: Vec<Vec<i32>> = match (&golden, limit) {
            (Ok(wd), None) => Format::Nm.stream_beats(wd, &sp, &bits).chunks(n).map(<[i32]>::to_vec).collect(),
            _ if cut => Format::Nm.beats(&w, &sp).chunks(n).map(<[i32]>::to_vec).collect(),
            _ => Vec::new(),
        };
        let exact = golden.is_ok() && limit.is_none();
        let t_count = rows.div_ceil(n);
        // the side band of every beat in group order, m the stream's header's when it decodes
        let m_s = match crate::formats::nm::header_group(&bits) {
            Some(m) if exact => m,
            _ => nm.group as usize,
        };
        let sides = crate::pe::beat_sides(t_count, cols, crate::pe::BeatOrder::Groups(m_s));
        let mm = sim.model_mut().as_dyn_mut();
        set(mm, start, 1)?;
        set(mm, rows_i, rows as u64)?;
        set(mm, cols_i, cols as u64)?;
        set(mm, bready, 0)?;
        set(mm, wc, 0)?;
        set(mm, wl, 0)?;
        set(mm, wt, 0)?;
        sim.step();
        set(sim.model_mut().as_dyn_mut(), start, 0)?;
        let (mut arrived, mut taken, mut fired) = (0usize, 0usize, 0usize);
        let cap = win + b;
        let mut ended: Option<Result<(), u32>> = None;
        // cycles run after done or error: the pipeline drains (after done until its beats are
        // out), nothing leaves after an error
        let mut after = 0;
        for cyc in 0..(40 + 4 * (bits.len() / b + want_beats.len().max(cols * t_count))) {
            if gin.next_go() {
                arrived = (arrived + b).min(bits.len());
            }
            let held = arrived - taken;
            let last = arrived == bits.len() && held <= cap;
            let tail_ok = last && held < b && (taken..arrived).all(|i| !bits[i]);
            let window: Vec<bool> =
                (0..win).map(|i| if taken + i < arrived { bits[taken + i] } else { r.random_bool(0.5) }).collect();
            let ready = gout.next_go();
            let mm = sim.model_mut().as_dyn_mut();
            set_bits(mm, wd, &window)?;
            set(mm, wc, held.min(cap).min((1 << cnt_w) - 1) as u64)?;
            set(mm, wl, u64::from(last))?;
            set(mm, wt, u64::from(tail_ok))?;
            set(mm, bready, u64::from(ready))?;
            sim.fall();
            let m = sim.model();
            if ended.is_none() {
                if get(m, done)? == 1 {
                    ended = Some(Ok(()));
                } else if get(m, err)? == 1 {
                    ended = Some(Err(get(m, code)? as u32));
                }
            }
            if get(m, bvalid)? == 1 && ready {
                if matches!(ended, Some(Err(_))) {
                    return Err(format!("case {case} cycle {cyc}: a beat after the error"));
                }
                if exact || cut {
                    let got = get_bits(m, bd, n * q as usize)?;
                    let want =
                        want_beats.get(fired).ok_or_else(|| format!("case {case}: beat {fired} beyond the layer"))?;
                    for (l, &v) in want.iter().enumerate() {
                        let g = (0..q as usize).fold(0i64, |a, i| a | i64::from(got[l * q as usize + i]) << i);
                        let g = if g >> (q - 1) & 1 == 1 { g - (1 << q) } else { g };
                        if g != i64::from(v) {
                            return Err(format!(
                                "case {case} ({rows}x{cols} {nk}:{}): beat {fired} lane {l}: {g}, want {v}",
                                nm.group
                            ));
                        }
                    }
                    let side = (get(m, btile)?, get(m, bfirst)?, get(m, beoc)?, get(m, bcol)?, get(m, blast)?);
                    let w = sides[fired];
                    let want_side =
                        (w.tile as u64, u64::from(w.first), u64::from(w.end_of_group), w.col as u64, u64::from(w.last));
                    if side != want_side {
                        return Err(format!("case {case}: beat {fired} side band {side:?}, want {want_side:?}"));
                    }
                }
                fired += 1;
            }
            if get(m, pick)? == 1 {
                let k = get(m, need)? as usize;
                if k > held.min(cap) {
                    return Err(format!("case {case} cycle {cyc}: takes {k} of {held} bits"));
                }
                taken += k;
            }
            sim.rise();
            if ended.is_some() {
                after += 1;
                // after done the beats still in the pipeline leave under the output pattern
                let drained = !matches!(ended, Some(Ok(()))) || fired >= want_beats.len();
                if after > 6 && (drained || after > 200) {
                    break;
                }
            }
        }
        match (&golden, ended) {
            (_, Some(Err(c))) if limit == Some(c) => {}
            (Ok(_), Some(Ok(()))) if limit.is_none() && fired == want_beats.len() => {}
            (Err(ge), Some(Err(c))) if expected_code(&ge.kind) == Some(c) => {}
            (g, x) => {
                return Err(format!(
                    "case {case} ({rows}x{cols} {nk}:{}, {} bits): golden {:?}, module {x:?} after {fired} beats",
                    nm.group,
                    bits.len(),
                    g.as_ref().map(|_| ()).map_err(|e| e.kind.clone())
                ))
            }
        }
    }
    Ok(())
}
