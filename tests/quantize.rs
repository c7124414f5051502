//! Pruning counts are exact, quantized values stay in range, and the scales are the documented
//! ones.

use proptest::prelude::*;
use weightstream::model::{Model, ModelSpec};
use weightstream::prepare::{prepare, PrepareConfig};
use weightstream::quant::{prune_count, prune_global, prune_layer, quantize, Granularity, PruneMode};

#[test]
fn prune_breaks_ties_by_index() {
    let mut v = vec![1.0, -1.0, 1.0, 0.5, 2.0];
    assert_eq!(prune_layer(&mut v, 0.6), 3);
    // 0.5 first, then the 1.0 ties at indices 0 and 1.
    assert_eq!(v, [0.0, 0.0, 1.0, 0.0, 2.0]);
}

#[test]
fn prune_count_is_the_decimal_floor() {
    assert_eq!(prune_count(0.29, 100), 29);
    assert_eq!(prune_count(0.7, 10), 7);
    assert_eq!(prune_count(1.0, 5), 5);
    assert_eq!(prune_count(0.0, 5), 0);
}

#[test]
fn global_pruning_uses_one_threshold() {
    let mut layers = vec![vec![0.1, 0.2, 0.3], vec![0.05, 5.0, 6.0, 7.0]];
    assert_eq!(prune_global(&mut layers, 0.5), 3);
    assert_eq!(layers, [vec![0.0, 0.0, 0.3], vec![0.0, 5.0, 6.0, 7.0]]);
}

#[test]
fn quantize_scale_and_rounding() {
    let (w, scales) = quantize(&[1.0, -0.5, 0.25, -1.0], 2, 2, 3, Granularity::PerLayer).unwrap();
    // Q = 3: range [-3, 3], scale 1/3; 0.25*3 = 0.75 rounds to 1, -0.5*3 = -1.5 to -2.
    assert_eq!(w.data, [3, -2, 1, -3]);
    assert!((scales[0] - 1.0 / 3.0).abs() < 1e-7);
    let (w, scales) = quantize(&[1.0, 0.5, 0.0, 4.0], 2, 2, 8, Granularity::PerChannel).unwrap();
    assert_eq!(w.data, [127, 64, 0, 127]);
    assert_eq!(scales.len(), 2);
    assert!(quantize(&[1.0], 1, 1, 17, Granularity::PerLayer).is_err());
}

proptest! {
    #[test]
    fn prune_then_quantize_in_range(values in prop::collection::vec(-10.0f32..10.0, 1..300), s in 0.0f64..=1.0, q in 2u32..=16) {
        let mut v = values.clone();
        let pruned = prune_layer(&mut v, s);
        prop_assert_eq!(pruned, prune_count(s, values.len()));
        prop_assert!(v.iter().filter(|&&x| x == 0.0).count() >= pruned);
        let (w, _) = quantize(&v, 1, v.len(), q, Granularity::PerLayer).unwrap();
        let lim = (1 << (q - 1)) - 1;
        prop_assert!(w.data.iter().all(|&x| (-lim..=lim).contains(&x)));
        // Pruned weights stay zero; the largest magnitude maps to the range end.
        for (a, b) in v.iter().zip(&w.data) {
            if *a == 0.0 { prop_assert_eq!(*b, 0); }
        }
        if v.iter().any(|&x| x != 0.0) {
            prop_assert_eq!(w.data.iter().map(|x| x.abs()).max().unwrap(), lim);
        }
    }
}

#[test]
fn prepare_reaches_target_sparsity_on_every_layer() {
    let model = Model::load(&ModelSpec::parse("synthetic:mobilenet_v2").unwrap()).unwrap();
    let cfg = PrepareConfig {
        sparsity: 0.9,
        prune: PruneMode::PerLayer,
        bits: 4,
        granularity: Granularity::PerChannel,
        ..PrepareConfig::default()
    };
    for l in prepare(&model, &cfg).unwrap() {
        assert_eq!(l.pruned, prune_count(0.9, l.matrix.len()), "{}", l.name);
        assert!(l.matrix.nonzeros() <= l.matrix.len() - l.pruned);
        assert_eq!(l.scales.len(), l.matrix.rows);
    }
}

#[test]
fn non_finite_weights_are_an_error() {
    let mut model = Model::load(&ModelSpec::parse("synthetic:mobilenet_v2").unwrap()).unwrap();
    model.tensors[0].values[5] = f32::NAN;
    let e = prepare(&model, &PrepareConfig::default()).unwrap_err();
    assert!(e.to_string().contains("features.0.0.weight") && e.to_string().contains("weight 5"), "{e}");
}

proptest! {
    /// The quantizer's fast rounding is `round` (half away from zero) then clamp, on any value,
    /// halves and near-halves included.
    #[test]
    fn quantize_rounds_like_round(v in prop::collection::vec(prop_oneof![-10.0f32..10.0, (-40i32..40).prop_map(|h| h as f32 * 0.125)], 1..64), q in 2u32..=16) {
        let (w, scales) = quantize(&v, 1, v.len(), q, Granularity::PerLayer).unwrap();
        let qmax = f64::from((1i32 << (q - 1)) - 1);
        let scale = f64::from(v.iter().fold(0.0f32, |m, x| m.max(x.abs()))) / qmax;
        prop_assert!((scales[0] as f64 - scale).abs() <= scale * 1e-6);
        for (x, got) in v.iter().zip(&w.data) {
            let want = if scale > 0.0 { (f64::from(*x) / scale).round().clamp(-qmax, qmax) as i32 } else { 0 };
            prop_assert_eq!(*got, want);
        }
    }
}
