//! Hostile streams into every RTL top at both built-in sets (src/hostile.rs states the rules):
//! random, zero, truncated, extended, bit-flipped, fill-bit, cross-format and bad-configuration
//! streams under seeded random gaps and backpressure must each end in done or an error within
//! BOUND = 16 + W + T + O + K + 2G cycles, show nothing after an error, and agree with the golden
//! decoder: software Ok <=> RTL done with identical beats and y; software error kind => the
//! mapped RTL code (Truncated 1, CountExceedsRows 2, RunPastColumnEnd 3, TrailingData and
//! NonzeroFill 4; bad configuration 5; the Huffman header 6, InvalidCode 7; BadNmHeader 8,
//! BadNmPosition 9, and 8 for an nm header whose n is above the decoder's keep). The nm top's real
//! streams are n:m layers of random patterns, and it also gets bad headers, bad positions and
//! streams cut right after a bad position. The long form (10,000 streams per top, 10^6-beat soak):
//! `cargo run --release --example hostile_rtl -- --streams 10000 --soak-beats 1000000`.

use weightstream::cosim::built_configs;
use weightstream::hostile::{self, Case, Gaps, Kind, ModelSource};
use weightstream::rtl::DesignPoint;
use weightstream::{pe, Format, QuantMatrix};
use weightstream_sim::Pause;

fn sets() -> Vec<(&'static str, DesignPoint)> {
    let c = built_configs();
    assert_eq!(c.len(), 2, "both built-in sets");
    c
}

#[test]
fn hostile_streams_end_right_in_every_top() {
    for (set, d) in sets() {
        for f in Format::ALL {
            let s = hostile::sweep(&ModelSource::Default, f, &d, 2024, 400).unwrap();
            assert!(s.failures.is_empty(), "{set} {f}:\n{}", s.failures.join("\n"));
            assert_eq!((s.hangs, s.beats_after_error, s.y_after_error), (0, 0, 0), "{set} {f}");
            // Not vacuous: streams that decode, truncated and trailing ones, CSC's own errors.
            assert!(s.done >= 40, "{set} {f}: only {} streams decoded", s.done);
            assert!(s.errors[1] >= 20 && s.errors[4] >= 20 && s.errors[5] >= 10, "{set} {f}: {:?}", s.errors);
            if f == Format::Csc {
                assert!(s.errors[2] > 0 && s.errors[3] > 0, "{set} csc: {:?}", s.errors);
            }
            if f == Format::Nm {
                nm_not_vacuous(set, &s);
            }
            assert!(s.worst_bound_use < 1.0, "{set} {f}");
        }
    }
}

/// The same at a point that is not built in (built on demand), where the CSC decoder's row sums
/// are wider than a row index: every kind of stream, every format.
#[test]
fn hostile_streams_at_a_point_that_is_not_built_in() {
    let d = hostile::odd_point();
    assert_eq!(d.builtin_name(), None);
    for f in Format::ALL {
        let s = hostile::sweep(&ModelSource::Default, f, &d, 77, 300).unwrap();
        assert!(s.failures.is_empty(), "{f}:\n{}", s.failures.join("\n"));
        assert_eq!((s.hangs, s.beats_after_error, s.y_after_error), (0, 0, 0), "{f}");
        assert!(s.done >= 20 && s.errors[1] >= 10 && s.errors[4] >= 10, "{f}: {} done, {:?}", s.done, s.errors);
        if f == Format::Csc {
            assert!(s.errors[2] > 0 && s.errors[3] > 0, "csc: {:?}", s.errors);
        }
        if f == Format::Nm {
            nm_not_vacuous("odd", &s);
        }
    }
}

/// The nm sweep decoded real n:m data (not only all-zero layers), and its own errors happened:
/// bad headers (8, also from the RTL's keep limit) and bad positions (9).
fn nm_not_vacuous(set: &str, s: &hostile::Summary) {
    assert!(s.done_nonzero >= 20, "{set} nm: {} of {} decoded streams had a nonzero beat", s.done_nonzero, s.done);
    assert!(
        s.errors[8] >= 40 && s.errors[9] >= 20 && s.rtl_limited >= 5,
        "{set} nm: {:?}, {} at the keep limit",
        s.errors,
        s.rtl_limited
    );
    let nm_kinds = &s.kinds[Kind::ALL.len()..];
    assert!(nm_kinds.iter().all(|&c| c >= 5), "{set} nm: cases per nm kind {nm_kinds:?}");
}

#[test]
fn short_soak_loses_and_duplicates_no_beat() {
    for (set, d) in sets() {
        for f in Format::ALL {
            let s = hostile::soak(&ModelSource::Default, f, &d, 3, 20_000).unwrap();
            assert!(s.beats >= 20_000);
            assert_eq!((s.lost, s.duplicated, s.wrong), (0, 0, 0), "{set} {f}: {:?}", s.failures);
            // The soak also holds the counters to what the harness saw, and the starved counter
            // must have counted under random word gaps.
            assert!(s.failures.is_empty(), "{set} {f}: {:?}", s.failures);
            assert!(
                s.word_gaps > 0 && s.starved > 0,
                "{set} {f}: {} starved over {} word gaps",
                s.starved,
                s.word_gaps
            );
        }
    }
}

/// cnt_stalled_o where stalls are certain (activations one cycle in four): at least K / 2, and
/// cnt_starved_o 0 with words always offered, in every top.
#[test]
fn counters_count_certain_stalls_and_no_starving() {
    for (set, d) in sets() {
        for f in Format::ALL {
            let (stalled, starved) = hostile::stall_probe(&ModelSource::Default, f, &d).unwrap();
            assert!(stalled >= 32 && starved == 0, "{set} {f}: stalled {stalled}, starved {starved}");
        }
    }
}

/// The past survivor: `cnt_q < B_CNT` -> `<=` in the aligner's tail check. A stream whose last
/// field ends on a word boundary, followed by one all-zero word, is trailing data (4).
#[test]
fn one_all_zero_word_after_a_word_aligned_end_is_trailing_data() {
    for (set, d) in sets() {
        let p = d.stream();
        // Dense: N*Q bits per beat is a whole number of words at both sets.
        let mut w = QuantMatrix::zeros(2 * p.lanes, 3, p.weight_bits);
        for (i, v) in w.data.iter_mut().enumerate() {
            *v = (i % 5) as i32 - 2;
        }
        let real = Format::Dense.encode(&w, &p).unwrap();
        assert_eq!(real.bits.len() as u64, real.sizes.payload_bits + real.sizes.padding_bits);
        assert_eq!((p.lanes * p.weight_bits as usize * 2 * 3) % p.bus_bits as usize, 0, "{set}: word aligned");
        let mut bits = real.bits.clone();
        bits.resize(bits.len() + p.bus_bits as usize, false);
        let case = Case { kind: Kind::Extended, bits, rows: w.rows, cols: w.cols, prefix_of: Some(pe::beats(&w, &p)) };
        let info = ModelSource::Default.top(Format::Dense, &d).unwrap();
        let acts = pe::random_activations(w.cols, d.act_bits, 1);
        for gaps in [Gaps { words: Pause::None, acts: Pause::None, y: Pause::None }, Gaps::random(5), Gaps::random(6)] {
            let words = hostile::limbs_of(&case.bits, d.bus_bits);
            let obs = hostile::run_words(info, Format::Dense, &d, &words, case.rows, case.cols, &acts, &gaps).unwrap();
            assert_eq!(obs.error, Some(4), "{set}: {obs:?}");
            assert!(obs.y.is_empty() && !obs.done);
            hostile::check(Format::Dense, &d, &case, &acts, &obs).unwrap();
        }
    }
}

/// The checker is not a tautology: a real stream passes, and the same observation with one
/// beat changed, one more y, or a beat after an error does not.
#[test]
fn the_checker_rejects_wrong_observations() {
    let (_, d) = sets()[0];
    let p = d.stream();
    let w = QuantMatrix { rows: 5, cols: 2, bits: p.weight_bits, data: vec![1, 0, -3, 2, 0, 0, 7, 1, 0, -1] };
    let real = Format::Bitmap.encode(&w, &p).unwrap();
    let case = Case { kind: Kind::Real, bits: real.bits.clone(), rows: 5, cols: 2, prefix_of: None };
    let info = ModelSource::Default.top(Format::Bitmap, &d).unwrap();
    let acts = vec![3, -2];
    let obs = hostile::run_words(
        info,
        Format::Bitmap,
        &d,
        &hostile::limbs_of(&case.bits, d.bus_bits),
        5,
        2,
        &acts,
        &Gaps::random(1),
    )
    .unwrap();
    hostile::check(Format::Bitmap, &d, &case, &acts, &obs).unwrap();
    let mut bad = obs.clone();
    bad.beats[3] += 1;
    assert!(hostile::check(Format::Bitmap, &d, &case, &acts, &bad).is_err());
    let mut bad = obs.clone();
    bad.y.push(0);
    assert!(hostile::check(Format::Bitmap, &d, &case, &acts, &bad).is_err());
    let mut bad = obs.clone();
    bad.beats_after_error = 1;
    assert!(hostile::check(Format::Bitmap, &d, &case, &acts, &bad).is_err());
    let mut bad = obs;
    bad.hung = true;
    assert!(hostile::check(Format::Bitmap, &d, &case, &acts, &bad).is_err());
}

/// The nm checks can fail: on real cases of the sweep (a bad header, a bad position, a legal
/// header above the decoder's keep) the RTL passes, and the same observation with another error
/// code, or a changed beat in front of a bad position, does not. The golden decoder's nm errors map
/// to 8 and 9.
#[test]
fn the_checker_rejects_wrong_nm_codes() {
    use weightstream::formats::DecodeErrorKind;
    assert_eq!(hostile::expected_code(&DecodeErrorKind::BadNmHeader { keep: 0, log2_group: 2 }), Some(8));
    assert_eq!(hostile::expected_code(&DecodeErrorKind::BadNmPosition { position: 1, min: 2, group_cols: 4 }), Some(9));
    let (set, d) = sets()[1];
    let info = ModelSource::Default.top(Format::Nm, &d).unwrap();
    let golden = |c: &Case| Format::Nm.decode("t", &c.bits, c.rows, c.cols, &d.stream()).map_err(|e| e.kind);
    // (what, is it the case, the codes that must be rejected)
    type Pick = (&'static str, fn(&Case, &Result<weightstream::QuantMatrix, DecodeErrorKind>) -> bool, [u32; 2]);
    let picks: [Pick; 3] = [
        (
            "bad header",
            |c, g| c.kind == Kind::NmBadHeader && matches!(g, Err(DecodeErrorKind::BadNmHeader { .. })),
            [9, 1],
        ),
        (
            "bad position",
            |c, g| {
                let within_keep = hostile::rtl_limit(Format::Nm, &c.bits).is_none();
                matches!(g, Err(DecodeErrorKind::BadNmPosition { .. })) && c.prefix_of.is_some() && within_keep
            },
            [8, 1],
        ),
        (
            "n above keep",
            |c, g| c.kind == Kind::Real && g.is_ok() && hostile::rtl_limit(Format::Nm, &c.bits).is_some(),
            [9, 1],
        ),
    ];
    for (what, pick, wrong) in picks {
        let (i, case) = (0..2000u64)
            .map(|i| (i, hostile::make_case(Format::Nm, &d, 99, i)))
            .find(|(_, c)| pick(c, &golden(c)))
            .unwrap_or_else(|| panic!("{set}: no {what} case in 2000"));
        let acts = pe::random_activations(case.cols, d.act_bits, i);
        let words = hostile::limbs_of(&case.bits, d.bus_bits);
        let obs =
            hostile::run_words(info, Format::Nm, &d, &words, case.rows, case.cols, &acts, &Gaps::random(i)).unwrap();
        hostile::check(Format::Nm, &d, &case, &acts, &obs).unwrap_or_else(|e| panic!("{set} {what} case {i}: {e}"));
        for code in wrong {
            let mut bad = obs.clone();
            bad.error = Some(code);
            assert!(hostile::check(Format::Nm, &d, &case, &acts, &bad).is_err(), "{what}: code {code} accepted");
        }
        let mut bad = obs.clone();
        (bad.done, bad.error) = (true, None);
        assert!(hostile::check(Format::Nm, &d, &case, &acts, &bad).is_err(), "{what}: done accepted");
        if !obs.beats.is_empty() {
            let mut bad = obs.clone();
            bad.beats[0] ^= 1;
            assert!(hostile::check(Format::Nm, &d, &case, &acts, &bad).is_err(), "{what}: a changed beat accepted");
        }
    }
}
