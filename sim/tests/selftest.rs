//! Tests of the harness on its own tiny top (tests/rtl/ws_sim_selftest.v):
//! port round-trips of every storage class, clocking, the stream helpers
//! under every pause kind, model isolation, waveforms, and error paths.
//! Plus checks on whichever product models (ws_top_*) are built.

use std::path::PathBuf;

use weightstream_sim::{
    find_model, models, new_model, Model, Pause, PortDir, Sim, SimError, Sink, Source, StreamPorts, TraceFormat,
    WsSimSelftest,
};

fn sim() -> Sim<WsSimSelftest> {
    let mut s = Sim::new(Box::new(WsSimSelftest::new())).unwrap();
    s.reset(2);
    s
}

/// Like `sim()` but the variant that can write waveforms.
fn sim_traced() -> Sim<WsSimSelftest> {
    let mut s = Sim::new(Box::new(WsSimSelftest::new_traced())).unwrap();
    s.reset(2);
    s
}

/// Waveform path with the extension of the build's format (VCD, or FST with `--features fst`).
fn wave(stem: &str) -> PathBuf {
    tmp(&format!("{stem}.{}", WsSimSelftest::info().trace_format.extension()))
}

fn is_vcd() -> bool {
    WsSimSelftest::info().trace_format == TraceFormat::Vcd
}

/// Dump times in a VCD (`#<time>` lines).
fn vcd_times(p: &PathBuf) -> Vec<u64> {
    std::fs::read_to_string(p)
        .unwrap()
        .lines()
        .filter_map(|l| l.strip_prefix('#'))
        .map(|t| t.parse().unwrap())
        .collect()
}

/// Scratch file under the target dir (kept for inspection, overwritten next run).
fn tmp(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("weightstream-sim");
    std::fs::create_dir_all(&d).unwrap();
    d.join(name)
}

/// xorshift for test data (independent of the crate's PRNG).
fn data(n: usize, seed: u64) -> Vec<[u32; 4]> {
    let mut x = seed | 1;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x as u32
    };
    (0..n)
        .map(|_| [next(), next(), next(), next() & 0xF]) // 100 bits
        .collect()
}

#[test]
fn narrow_ports_round_trip() {
    let mut m = WsSimSelftest::new();
    m.set_b_i(0x55);
    m.set_h_i(0x1abc);
    m.set_w_i(0xdead_beef);
    m.set_q_i(0x1234_5678_9abc);
    m.eval();
    assert_eq!(m.get_b_i(), 0x55);
    assert_eq!(m.get_b_o(), !0x55u64 & 0x7f);
    assert_eq!(m.get_h_o(), 0x1abd);
    assert_eq!(m.get_w_o(), 0xdead_beef ^ 0xa5a5_5a5a);
    assert_eq!(m.get_q_o(), 0x1234_5678_9abd);
    // Bits above the width are dropped, as a Verilog assignment would.
    m.set_b_i(0xff);
    m.set_q_i(u64::MAX);
    m.eval();
    assert_eq!(m.get_b_i(), 0x7f);
    assert_eq!(m.get_q_o(), 0); // 48-bit wrap
}

#[test]
fn wide_port_round_trip() {
    let mut m = WsSimSelftest::new();
    let v = [0x0123_4567, 0x89ab_cdef, 0xdead_beef, 0xf]; // 100 bits
    m.set_wide_i(&v);
    m.eval();
    assert_eq!(m.get_wide_i(), v);
    assert_eq!(m.get_wide_o(), [!v[0], !v[1], !v[2], !v[3] & 0xf], "top word masked to 100 - 96 = 4 bits");
    // Through the dyn interface, by id.
    let d: &mut dyn Model = &mut m;
    let wi = d.port_id("wide_i").unwrap();
    let wo = d.port_id("wide_o").unwrap();
    assert_eq!(d.port_info(wi).unwrap().words(), 4);
    d.set(wi, &[1, 2, 3, 0xffff_ffff]).unwrap();
    d.eval();
    let mut out = [0u32; 4];
    d.get(wi, &mut out).unwrap();
    assert_eq!(out, [1, 2, 3, 0xf]);
    d.get(wo, &mut out).unwrap();
    assert_eq!(out, [!1, !2, !3, 0]);
    d.set_u64(wi, 0xffff_ffff_0000_0001).unwrap(); // upper words zeroed
    d.eval();
    d.get(wi, &mut out).unwrap();
    assert_eq!(out, [1, 0xffff_ffff, 0, 0]);
    assert_eq!(d.get_u64(wi).unwrap(), 0xffff_ffff_0000_0001);
}

#[test]
fn port_table_matches_rtl() {
    let m = WsSimSelftest::new();
    let p = |n: &str| m.port_info(m.port_id(n).unwrap()).unwrap().clone();
    assert_eq!((p("clk").width, p("clk").dir), (1, PortDir::Input));
    assert_eq!((p("count_o").width, p("count_o").dir), (32, PortDir::Output));
    assert_eq!(p("q_i").width, 48);
    assert_eq!(p("wide_o").width, 100);
    assert_eq!(p("level_o").width, 3);
    assert_eq!(WsSimSelftest::PORT_CLK, m.port_id("clk").unwrap());
    assert_eq!(m.name(), "ws_sim_selftest");
    assert!(m.info().test_only);
}

#[test]
fn counter_counts_cycles() {
    let mut s = sim();
    assert_eq!(s.cycle(), 2);
    assert_eq!(s.model().get_count_o(), 0);
    s.model_mut().set_en_i(1);
    s.steps(1000);
    assert_eq!(s.model().get_count_o(), 1000);
    s.model_mut().set_en_i(0);
    s.steps(10);
    assert_eq!(s.model().get_count_o(), 1000);
    assert_eq!(s.cycle(), 1012);
    s.reset(1);
    assert_eq!(s.model().get_count_o(), 0);
}

#[test]
fn fifo_passes_stream_under_every_pause() {
    let kinds = [
        Pause::None,
        Pause::Pattern(vec![true, true, true, false]),
        Pause::pattern("1001").unwrap(),
        Pause::Random { seed: 1, p_pause: 0.3 },
        Pause::Random { seed: 2, p_pause: 0.8 },
    ];
    let n = 300;
    let want = data(n, 42);
    for sp in &kinds {
        for kp in &kinds {
            let (got, lasts, _cycles, left, fired) = fifo(sp.clone(), kp.clone(), n);
            assert_eq!(left, 0, "source not drained ({sp:?} / {kp:?})");
            assert_eq!(fired, n as u64);
            assert_eq!(got.len(), n, "{sp:?} / {kp:?}");
            for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                assert_eq!(g.as_slice(), w.as_slice(), "word {i} ({sp:?} / {kp:?})");
                assert_eq!(lasts[i], i % 7 == 6, "last of word {i}");
            }
        }
    }
}

/// Runs `n` words through the FIFO; returns (words, lasts, cycles, left in
/// source, source handshakes). Stops once the sink has everything and the
/// FIFO is empty.
fn fifo(src_pause: Pause, sink_pause: Pause, n: usize) -> (Vec<Vec<u32>>, Vec<bool>, u64, usize, u64) {
    let mut s = sim();
    let m = s.model().as_dyn();
    let inp = StreamPorts::by_name(m, "s_data_i", "s_valid_i", "s_ready_o", Some("s_last_i")).unwrap();
    let out = StreamPorts::by_name(m, "m_data_o", "m_valid_o", "m_ready_i", Some("m_last_o")).unwrap();
    let mut src = Source::new(m, inp, src_pause).unwrap();
    let mut sink = Sink::new(m, out, sink_pause).unwrap();
    for (i, w) in data(n, 42).iter().enumerate() {
        src.push(w, i % 7 == 6).unwrap();
    }
    let mut cycles = 0;
    while sink.len() < n {
        s.step_with(&mut [&mut src, &mut sink]).unwrap();
        cycles += 1;
        assert!(cycles < 100 * n as u64, "stuck");
    }
    // Nothing extra arrives, and the FIFO is empty.
    s.steps(5);
    s.step_with(&mut [&mut src, &mut sink]).unwrap();
    assert_eq!(sink.len(), n);
    assert_eq!(s.model().get_level_o(), 0);
    assert_eq!(s.model().get_m_valid_o(), 0);
    let lasts = sink.lasts().to_vec();
    let left = src.pending();
    let fired = src.fired();
    (sink.take(), lasts, cycles, left, fired)
}

#[test]
fn stream_timing_is_deterministic_per_seed() {
    let run =
        |seed| fifo(Pause::Random { seed, p_pause: 0.4 }, Pause::Random { seed: seed + 100, p_pause: 0.4 }, 200).2;
    assert_eq!(run(5), run(5));
    assert_ne!(run(5), run(6), "different seeds should (almost surely) differ in timing");
    // Full throughput without pauses: one word per cycle plus pipeline fill.
    let c = fifo(Pause::None, Pause::None, 200).2;
    assert!(c <= 202, "{c} cycles for 200 words");
}

#[test]
fn source_accepts_pushes_while_running() {
    let mut s = sim();
    let m = s.model().as_dyn();
    let inp = StreamPorts::by_name(m, "s_data_i", "s_valid_i", "s_ready_o", None).unwrap();
    let out = StreamPorts::by_name(m, "m_data_o", "m_valid_o", "m_ready_i", None).unwrap();
    let mut src = Source::new(m, inp, Pause::pattern("110").unwrap()).unwrap();
    let mut sink = Sink::new(m, out, Pause::Random { seed: 3, p_pause: 0.5 }).unwrap();
    let want = data(1000, 9);
    let mut next = 0;
    while sink.len() < want.len() {
        // Trickle words in, a few at a time, as a producer would.
        while next < want.len() && src.pending() < 3 {
            src.push(&want[next], false).unwrap();
            next += 1;
        }
        s.step_with(&mut [&mut src, &mut sink]).unwrap();
        assert!(s.cycle() < 20_000, "stuck");
    }
    assert!(src.is_empty());
    assert!(sink.words().zip(&want).all(|(g, w)| g == w.as_slice()));
    assert_eq!(sink.words_u64()[0], want[0][0] as u64 | (want[0][1] as u64) << 32);
}

#[test]
fn source_holds_valid_until_accepted() {
    let mut s = sim();
    let m = s.model().as_dyn();
    let inp = StreamPorts::by_name(m, "s_data_i", "s_valid_i", "s_ready_o", Some("s_last_i")).unwrap();
    let out = StreamPorts::by_name(m, "m_data_o", "m_valid_o", "m_ready_i", None).unwrap();
    let mut src = Source::new(m, inp, Pause::Pattern(vec![true, false])).unwrap();
    // Sink never ready: the 4-deep FIFO fills, then the source must stall.
    let mut sink = Sink::new(m, out, Pause::Random { seed: 0, p_pause: 1.0 }).unwrap();
    for w in data(10, 1) {
        src.push(&w, false).unwrap();
    }
    for _ in 0..40 {
        s.step_with(&mut [&mut src, &mut sink]).unwrap();
    }
    assert_eq!(src.fired(), 4);
    assert_eq!(s.model().get_s_valid_i(), 1, "valid held while stalled");
    assert!(src.stalled() > 10);
    assert_eq!(sink.len(), 0);
}

#[test]
fn traced_and_fast_variants_agree() {
    // Same stimulus, same outputs, cycle by cycle, on every port.
    let mut a = sim();
    let mut b = sim_traced();
    b.trace_start(wave("agree")).unwrap();
    let ins = [("en_i", 1u64), ("b_i", 0x2a), ("h_i", 0x123), ("w_i", 7), ("q_i", 1 << 40)];
    for (n, v) in ins {
        let id = a.model().port_id(n).unwrap();
        a.set(id, v).unwrap();
        b.set(id, v).unwrap();
    }
    for c in 0..50u32 {
        a.model_mut().set_wide_i(&[c, !c, c * 3, c]);
        b.model_mut().set_wide_i(&[c, !c, c * 3, c]);
        a.step();
        b.step();
        for p in a.model().ports() {
            let id = a.model().port_id(p.name).unwrap();
            let mut x = vec![0u32; p.words()];
            let mut y = vec![0u32; p.words()];
            a.model().get(id, &mut x).unwrap();
            b.model().get(id, &mut y).unwrap();
            assert_eq!(x, y, "{} at cycle {c}", p.name);
        }
    }
}

#[test]
fn two_models_do_not_interfere() {
    let mut a = sim();
    let mut b = sim();
    a.model_mut().set_en_i(1);
    b.model_mut().set_en_i(1);
    for i in 0..500 {
        a.step();
        if i % 2 == 0 {
            b.step();
        }
    }
    assert_eq!(a.model().get_count_o(), 500);
    assert_eq!(b.model().get_count_o(), 250);
    // And on two threads at once (models are Send).
    let h: Vec<_> = (1..=2u64)
        .map(|k| {
            std::thread::spawn(move || {
                let mut s = sim();
                s.model_mut().set_en_i(1);
                s.steps(10_000 * k);
                s.model().get_count_o()
            })
        })
        .collect();
    let r: Vec<u64> = h.into_iter().map(|t| t.join().unwrap()).collect();
    assert_eq!(r, [10_000, 20_000]);
}

#[test]
fn finish_and_stop_do_not_abort() {
    let mut s = sim();
    assert!(!s.model().finished());
    s.model_mut().set_finish_i(1);
    s.steps(3); // Verilator's stock runtime exit()s on the 2nd $finish
    s.model_mut().set_finish_i(0);
    assert!(s.model().finished());
    assert!(!s.model().stopped());
    let mut t = sim();
    t.model_mut().set_stop_i(1);
    t.steps(2);
    assert!(t.model().stopped());
    // Another model is unaffected: flags are per context.
    assert!(!sim().model().finished());
}

#[test]
fn vcd_contains_signals_and_window() {
    let path = wave("full");
    let mut s = sim_traced();
    s.trace_start(&path).unwrap();
    s.model_mut().set_en_i(1);
    s.steps(20);
    assert_eq!(s.trace_stop().as_deref(), Some(path.as_path()));
    assert_eq!(s.trace_path(), Some(path.as_path()));
    if !is_vcd() {
        // FST is binary: check it was written (its signal table is compressed).
        assert!(std::fs::metadata(&path).unwrap().len() > 100);
        return;
    }
    let vcd = std::fs::read_to_string(&path).unwrap();
    for name in ["count_o", "wide_i", "m_ready_i", "ws_sim_selftest", "$enddefinitions"] {
        assert!(vcd.contains(name), "{name} missing from VCD");
    }
    let times = vcd_times(&path);
    assert_eq!(times.first(), Some(&20)); // cycle 2 (after reset), fall
    assert_eq!(times.len(), 40);
}

#[test]
fn trace_window_pause_and_reopen() {
    // A window of cycles, as for re-running around a failure.
    let wpath = wave("window");
    let mut s = sim_traced();
    s.model_mut().set_en_i(1);
    s.trace_window(&wpath, 50..60).unwrap();
    s.steps(100);
    assert!(!s.tracing());
    assert_eq!(s.trace_path(), Some(wpath.as_path()));

    // Pause/resume inside one file, and reopening a new file on the same model.
    let p1 = wave("a");
    let p2 = wave("b");
    let mut s = sim_traced();
    s.trace_start(&p1).unwrap();
    s.steps(2);
    s.trace_pause();
    s.steps(5);
    s.trace_resume();
    s.steps(1);
    s.trace_start(&p2).unwrap(); // closes a
    s.steps(1);
    drop(s); // closes b
    if is_vcd() {
        let times = vcd_times(&wpath);
        assert_eq!(times.first(), Some(&500));
        assert_eq!(times.last(), Some(&595));
        assert_eq!(times.len(), 20);
        assert_eq!(vcd_times(&p1).len(), 6);
        assert_eq!(vcd_times(&p2).len(), 2);
    } else {
        for p in [&wpath, &p1, &p2] {
            assert!(std::fs::metadata(p).unwrap().len() > 100, "{p:?}");
        }
    }
}

#[test]
fn waveform_closed_on_drop_mid_run() {
    let path = wave("drop");
    {
        let mut m = WsSimSelftest::new_traced();
        m.trace_open(&path).unwrap();
        for t in 0..100 {
            m.set_clk(t & 1);
            m.eval();
            m.trace_dump(t);
        }
    }
    if is_vcd() {
        assert_eq!(vcd_times(&path).last(), Some(&99), "last dump flushed on drop");
    } else {
        assert!(std::fs::metadata(&path).unwrap().len() > 100);
    }
}

#[test]
fn misuse_is_an_error() {
    let mut m = WsSimSelftest::new_traced();
    let count = m.port_id("count_o").unwrap();
    let wide = m.port_id("wide_i").unwrap();
    assert!(matches!(m.port_id("nope"), Err(SimError::NoSuchPort { .. })));
    assert!(matches!(m.set_u64(count, 1), Err(SimError::NotAnInput { .. })));
    assert!(matches!(m.set(wide, &[1, 2]), Err(SimError::WordCount { expected: 4, got: 2, .. })));
    let mut out = [0u32; 1];
    assert!(matches!(m.get(wide, &mut out), Err(SimError::WordCount { .. })));
    let bogus = weightstream_sim::PortId::new(999);
    assert!(matches!(m.get_u64(bogus), Err(SimError::BadPortId { .. })));
    let wrong = if is_vcd() { "x.fst" } else { "x.vcd" };
    assert!(matches!(m.trace_open(&tmp(wrong)), Err(SimError::TraceFormat { .. })));
    let bad_dir = std::path::Path::new("/proc/nope").join(wave("x").file_name().unwrap());
    assert!(matches!(m.trace_open(&bad_dir), Err(SimError::TraceIo { .. })));
    // The fast variant has no tracing.
    assert!(matches!(WsSimSelftest::new().trace_open(&wave("y")), Err(SimError::NotTraced { .. })));
    let mut untraced = Sim::new(Box::new(WsSimSelftest::new())).unwrap();
    assert!(matches!(untraced.trace_start(wave("z")), Err(SimError::NotTraced { .. })));
    assert!(matches!(untraced.trace_window(wave("z"), 0..1), Err(SimError::NotTraced { .. })));
    let d = m.as_dyn();
    let ports = StreamPorts::by_name(d, "s_data_i", "s_valid_i", "s_ready_o", None).unwrap();
    // Sink on an input stream: data must be an output... ready must be an input.
    assert!(Sink::new(d, ports, Pause::None).is_err());
    let bad = StreamPorts { valid: wide, ..ports };
    assert!(matches!(Source::new(d, bad, Pause::None), Err(SimError::PortWidth { .. })));
    assert!(Source::new(d, ports, Pause::Pattern(vec![])).is_err());
    let mut src = Source::new(d, ports, Pause::None).unwrap();
    assert!(src.push(&[1], false).is_err());
    assert!(weightstream_sim::try_new_model("no_such_model").is_err());
    assert!(new_model("no_such_model").is_none());
}

#[test]
fn registry_lists_and_builds_models() {
    let all = models();
    assert!(all.iter().any(|m| m.name == "ws_sim_selftest" && m.test_only));
    for info in all {
        for (m, traced) in [(info.instantiate(), false), (info.instantiate_traced(), true)] {
            assert_eq!(m.name(), info.name);
            assert_eq!(m.ports().len(), info.ports.len());
            assert_eq!(m.traceable(), traced);
        }
    }
    for miss in weightstream_sim::missing_models() {
        eprintln!("not built: {} ({})", miss.name, miss.reason);
    }
}

/// The common port list of every ws_top_* model that is built.
#[test]
fn product_models_share_the_port_list() {
    let expect: &[(&str, PortDir, Option<u32>)] = &[
        ("clk", PortDir::Input, Some(1)),
        ("rst", PortDir::Input, Some(1)),
        ("start_i", PortDir::Input, Some(1)),
        ("cfg_rows_i", PortDir::Input, Some(16)),
        ("cfg_cols_i", PortDir::Input, Some(32)),
        ("s_w_data_i", PortDir::Input, None), // B
        ("s_w_valid_i", PortDir::Input, Some(1)),
        ("s_w_last_i", PortDir::Input, Some(1)),
        ("s_w_ready_o", PortDir::Output, Some(1)),
        ("s_act_data_i", PortDir::Input, None), // QA
        ("s_act_valid_i", PortDir::Input, Some(1)),
        ("s_act_ready_o", PortDir::Output, Some(1)),
        ("m_y_data_o", PortDir::Output, Some(32)),
        ("m_y_valid_o", PortDir::Output, Some(1)),
        ("m_y_last_o", PortDir::Output, Some(1)),
        ("m_y_ready_i", PortDir::Input, Some(1)),
        ("mon_beat_data_o", PortDir::Output, None), // N*Q
        ("mon_beat_fire_o", PortDir::Output, Some(1)),
        ("busy_o", PortDir::Output, Some(1)),
        ("done_o", PortDir::Output, Some(1)),
        ("error_o", PortDir::Output, Some(1)),
        ("error_code_o", PortDir::Output, Some(4)),
        ("cnt_cycles_o", PortDir::Output, Some(32)),
        ("cnt_words_o", PortDir::Output, Some(32)),
        ("cnt_beats_o", PortDir::Output, Some(32)),
        ("cnt_starved_o", PortDir::Output, Some(32)),
        ("cnt_stalled_o", PortDir::Output, Some(32)),
    ];
    for info in models().iter().filter(|m| !m.test_only) {
        let p = |n: &str| &info.ports[info.port(n).unwrap_or_else(|| panic!("{}: no {n}", info.name)).index()];
        for (n, dir, w) in expect {
            assert_eq!(p(n).dir, *dir, "{} {n}", info.name);
            if let Some(w) = w {
                assert_eq!(p(n).width, *w, "{} {n}", info.name);
            }
        }
        let par = |k| info.param(k).unwrap() as u32;
        assert_eq!(p("s_w_data_i").width, par("B"));
        assert_eq!(p("s_act_data_i").width, par("QA"));
        assert_eq!(p("mon_beat_data_o").width, par("N") * par("Q"));
        assert_eq!(info.ports.len(), expect.len(), "{}: extra ports", info.name);
    }
}

#[test]
fn bitmap_top_idles_cleanly_after_reset() {
    // The product tops are always built (a missing one is a failure): ws_top_core, FORMAT 1.
    let info = find_model("ws_top_core", &[("FORMAT", 1), ("N", 16), ("Q", 8)]).expect("ws_top_core bitmap n16 built");
    let mut s = Sim::new(info.instantiate()).unwrap();
    s.reset(4);
    s.steps(100);
    let m = s.model();
    let g = |n: &str| m.get_u64(m.port_id(n).unwrap()).unwrap();
    assert_eq!(g("error_o"), 0);
    assert_eq!(g("m_y_valid_o"), 0);
    assert_eq!(g("done_o"), 0);
    let mut wide = [0u32; 4];
    m.get(m.port_id("mon_beat_data_o").unwrap(), &mut wide).unwrap();
}

#[test]
fn hot_path_reads_and_writes_like_the_checked_api() {
    let mut s = sim();
    let m = s.model();
    let ids: Vec<_> = ["en_i", "b_i", "h_i", "w_i", "q_i", "wide_i", "b_o", "h_o", "w_o", "q_o", "wide_o", "count_o"]
        .iter()
        .map(|n| m.port_id(n).unwrap())
        .collect();
    s.hot(|c| {
        let en = c.bit_in(ids[0]).unwrap();
        let ins: Vec<_> = ids[1..6].iter().map(|&p| c.wire_in(p).unwrap()).collect();
        let outs: Vec<_> = ids[6..11].iter().map(|&p| c.wire(p).unwrap()).collect();
        let count = c.wire(ids[11]).unwrap();
        c.set_u64(ins[0], 0xff); // 7 bits: masked
        c.set_u64(ins[1], 0x1abc);
        c.set_u64(ins[2], 0xdead_beef);
        c.set_u64(ins[3], 0x1234_5678_9abc);
        c.set_words(ins[4], &[0x0123_4567, 0x89ab_cdef, 0xdead_beef, 0xffff_ffff]);
        c.set(en, true);
        c.step();
        assert_eq!(c.get_in_u64(ins[0]), 0x7f);
        assert_eq!(c.model().get_b_i(), 0x7f, "the checked API sees what the fast path wrote");
        assert_eq!(c.get_u64(outs[0]), 0);
        assert_eq!(c.get_u64(outs[1]), 0x1abd);
        assert_eq!(c.get_u64(outs[2]), 0xdead_beef ^ 0xa5a5_5a5a);
        assert_eq!(c.get_u64(outs[3]), 0x1234_5678_9abd);
        let mut w = [0u32; 4];
        c.get_words(outs[4], &mut w);
        assert_eq!(w, [!0x0123_4567, !0x89ab_cdef, !0xdead_beef, 0], "top word masked to 4 bits");
        assert_eq!(c.model().get_wide_o(), w);
        c.set_u64(ins[4], 0xffff_ffff_0000_0001); // upper words zeroed
        c.step();
        c.get_words(outs[4], &mut w);
        assert_eq!(w, [!1, 0, !0, 0xf]);
        assert_eq!(c.get_u64(count), c.model().get_count_o());
        assert!(c.get_in(en));
        for _ in 0..98 {
            c.step();
        }
        assert_eq!(c.get_u64(count), 100);
        assert_eq!(c.cycle(), 102);
    })
    .unwrap();
    assert_eq!(s.model().get_count_o(), 100);
}

#[test]
fn hot_path_checks_ports_when_resolving() {
    let mut s = sim();
    let m = s.model();
    let (b_i, count_o, s_ready_o) =
        (m.port_id("b_i").unwrap(), m.port_id("count_o").unwrap(), m.port_id("s_ready_o").unwrap());
    s.hot(|c| {
        assert!(matches!(c.bit(b_i), Err(SimError::PortWidth { width: 7, expected: 1, .. })));
        assert!(matches!(c.bit_in(s_ready_o), Err(SimError::NotAnInput { .. })));
        assert!(matches!(c.wire_in(count_o), Err(SimError::NotAnInput { .. })));
        let bad = weightstream_sim::PortId::new(999);
        assert!(matches!(c.wire(bad), Err(SimError::BadPortId { index: 999, .. })));
        assert!(c.bit(s_ready_o).is_ok());
    })
    .unwrap();
}

#[test]
fn hot_fifo_matches_the_agents() {
    // The same stream through the fast path and through Source/Sink: same words, same cycles.
    let words = data(300, 42);
    let (agent_words, _, agent_cycles, _, _) =
        fifo(Pause::Random { seed: 3, p_pause: 0.3 }, Pause::Random { seed: 4, p_pause: 0.3 }, 300);
    let mut s = sim();
    let m = s.model();
    let ids: Vec<_> = ["s_data_i", "s_valid_i", "s_last_i", "s_ready_o", "m_data_o", "m_valid_o", "m_ready_i"]
        .iter()
        .map(|n| m.port_id(n).unwrap())
        .collect();
    let start = s.cycle();
    let got = s
        .hot(|c| {
            let (data, valid, last, ready) = (
                c.wire_in(ids[0]).unwrap(),
                c.bit_in(ids[1]).unwrap(),
                c.bit_in(ids[2]).unwrap(),
                c.bit(ids[3]).unwrap(),
            );
            let (m_data, m_valid, m_ready) =
                (c.wire(ids[4]).unwrap(), c.bit(ids[5]).unwrap(), c.bit_in(ids[6]).unwrap());
            let mut go_in = Pause::Random { seed: 3, p_pause: 0.3 }.generator().unwrap();
            let mut go_out = Pause::Random { seed: 4, p_pause: 0.3 }.generator().unwrap();
            let (mut next, mut offering, mut out) = (0, false, Vec::new());
            while out.len() < words.len() && c.cycle() < 100_000 {
                if !offering {
                    if next < words.len() && go_in.next_go() {
                        c.set_words(data, &words[next]);
                        c.set(last, next + 1 == words.len());
                        c.set(valid, true);
                        offering = true;
                    } else {
                        c.set(valid, false);
                        c.set(last, false);
                    }
                }
                let r = go_out.next_go();
                c.set(m_ready, r);
                c.fall();
                if offering && c.get(ready) {
                    next += 1;
                    offering = false;
                }
                if r && c.get(m_valid) {
                    let mut w = vec![0u32; 4];
                    c.get_words(m_data, &mut w);
                    out.push(w);
                }
                c.rise();
            }
            (out, c.cycle() - start)
        })
        .unwrap();
    assert_eq!(got.0, words.iter().map(|w| w.to_vec()).collect::<Vec<_>>());
    assert_eq!(got.0, agent_words);
    assert_eq!(got.1, agent_cycles, "same cycle count as Source/Sink");
}

#[test]
fn clock_follows_a_model_swapped_through_model_mut() {
    // The Sim's fast clock points into its model; after model_mut it is resolved again.
    let mut a = sim();
    let mut other = Box::new(WsSimSelftest::new());
    other.set_en_i(1);
    a.model_mut().set_en_i(1);
    a.steps(10);
    std::mem::swap(a.model_mut(), &mut *other);
    drop(other); // the model the clock pointed at is gone
    a.steps(5);
    assert_eq!(a.model().get_count_o(), 5, "the swapped-in model is the one clocked");
}
