//! Property tests: every format round-trips bit-exact over random shapes, densities and
//! parameters, and its size accounting matches independent formulas and the stream's length.

use proptest::prelude::*;
use weightstream::bits::BitReader;
use weightstream::formats::csc::column_entries;
use weightstream::formats::huffman::{read_table, LMAX_BITS, MAX_CODE_LEN};
use weightstream::formats::{EncodeError, NmPattern};
use weightstream::{Format, QuantMatrix, StreamParams};

/// A random layer and parameters: O not a multiple of N and O < N included, values over the
/// full Q-bit range (so -2^(Q-1) appears), any density.
fn layer_and_params() -> impl Strategy<Value = (QuantMatrix, StreamParams)> {
    (1usize..40, 1usize..12, 1usize..20, 2u32..=16, prop::sample::select(vec![8u32, 16, 24, 32, 64, 128]), 1u32..=5)
        .prop_flat_map(|(rows, cols, lanes, q, b, r)| {
            let min_p = usize::BITS - rows.leading_zeros();
            let half = 1i32 << (q - 1);
            let value = prop_oneof![
                3 => Just(0),
                1 => Just(-half),
                1 => Just(half - 1),
                4 => -half..half,
            ];
            (prop::collection::vec(value, rows * cols), min_p..=16u32, 0.0f64..=1.0, 1u32..=4, 1u32..16).prop_map(
                move |(mut data, p, keep, log2_group, nm_keep)| {
                    // Thin the matrix to roughly `keep` density, deterministically.
                    for (i, v) in data.iter_mut().enumerate() {
                        if ((i * 2654435761) % 1000) as f64 >= keep * 1000.0 {
                            *v = 0;
                        }
                    }
                    let group = 1u32 << log2_group;
                    let nm = NmPattern { keep: 1 + (nm_keep - 1) % (group - 1), group };
                    let params = StreamParams { lanes, weight_bits: q, bus_bits: b, run_bits: r, count_bits: p, nm };
                    (QuantMatrix { rows, cols, bits: q, data }, params)
                },
            )
        })
}

/// A random layer thinned to its parameters' n:m: in every row's group of m columns (the last
/// one short) only the first n_g nonzeros from a rotating start survive.
fn nm_layer_and_params() -> impl Strategy<Value = (QuantMatrix, StreamParams)> {
    layer_and_params().prop_map(|(mut w, p)| {
        let (n, m) = (p.nm.keep as usize, p.nm.group as usize);
        let cols = w.cols;
        for (o, row) in w.data.chunks_exact_mut(cols).enumerate() {
            for (g, group) in row.chunks_mut(m).enumerate() {
                let (len, mut left) = (group.len(), n.min(group.len()));
                for i in 0..len {
                    let v = &mut group[(i + o + g) % len];
                    if *v != 0 {
                        if left == 0 {
                            *v = 0;
                        } else {
                            left -= 1;
                        }
                    }
                }
            }
        }
        (w, p)
    })
}

/// Whether every row of `w` has at most min(n, m_g) nonzeros in each group (restated from the
/// spec), and the entries of its nm stream.
fn nm_entries(w: &QuantMatrix, nm: NmPattern) -> Option<u64> {
    let (n, m) = (nm.keep as usize, nm.group as usize);
    let mut entries = 0;
    for o in 0..w.rows {
        for g0 in (0..w.cols).step_by(m) {
            let mg = m.min(w.cols - g0);
            let nz = (g0..g0 + mg).filter(|&k| w.get(o, k) != 0).count();
            if nz > n.min(mg) {
                return None;
            }
            entries += n.min(mg) as u64;
        }
    }
    Some(entries)
}

/// Layers whose columns hold zero runs of exactly 2^R - 1, 2^R and 3 * 2^R before a nonzero,
/// and runs reaching the column end.
fn run_edge_layer() -> impl Strategy<Value = (QuantMatrix, StreamParams)> {
    (1u32..=4, 1usize..6, 3u32..=8, 0usize..3).prop_map(|(r, cols, q, tail)| {
        let span = 1usize << r;
        let gaps = [span - 1, span, 3 * span];
        let rows = gaps.iter().map(|g| g + 1).sum::<usize>() + tail;
        let mut w = QuantMatrix::zeros(rows, cols, q);
        for k in 0..cols {
            let mut row = 0;
            for (i, g) in gaps.iter().enumerate() {
                row += g;
                // Rotate which gap gets the extreme value so every column differs.
                w.data[row * cols + k] = if (i + k) % 3 == 0 { -(1 << (q - 1)) } else { 1 + i as i32 };
                row += 1;
            }
        }
        (
            w,
            StreamParams {
                lanes: 4,
                weight_bits: q,
                bus_bits: 32,
                run_bits: r,
                count_bits: 8,
                ..StreamParams::default()
            },
        )
    })
}

fn expected_csc_entries(w: &QuantMatrix, r: u32) -> (u64, u64) {
    let cm = w.column_major();
    let (mut real, mut fillers) = (0u64, 0u64);
    let mut entries = Vec::new();
    for column in cm.chunks(w.rows) {
        column_entries(column, r, &mut entries);
        fillers += entries.iter().filter(|e| e.filler).count() as u64;
        real += entries.iter().filter(|e| !e.filler).count() as u64;
    }
    (real, fillers)
}

fn check_all(w: &QuantMatrix, p: &StreamParams) -> Result<(), TestCaseError> {
    let q = u64::from(p.weight_bits);
    let b = u64::from(p.bus_bits);
    let elements = w.len() as u64;
    let nnz = w.nonzeros() as u64;
    let beats = p.beats(w.rows, w.cols) as u64;
    for format in Format::ALL {
        let huffman = matches!(
            format,
            Format::BitmapHuffman | Format::DeltaBitmapHuffman | Format::LaneHuffman | Format::DeltaLaneHuffman
        );
        let delta = matches!(format, Format::DeltaBitmapHuffman | Format::DeltaLaneHuffman);
        let coded = if delta { w.delta_along_k() } else { w.clone() };
        let mut distinct: Vec<i32> = coded.data.iter().copied().filter(|&v| v != 0).collect();
        distinct.sort_unstable();
        distinct.dedup();
        let s = match format.encode(w, p) {
            Err(EncodeError::TooManySymbols { symbols, .. }) if huffman => {
                prop_assert_eq!(symbols, distinct.len());
                prop_assert!(symbols > 1 << MAX_CODE_LEN);
                continue;
            }
            Err(EncodeError::NotNm { row, group, count, pattern }) if format == Format::Nm => {
                prop_assert_eq!(pattern, p.nm);
                prop_assert!(
                    nm_entries(w, p.nm).is_none(),
                    "{}: not n:m at row {} group {} ({})",
                    format,
                    row,
                    group,
                    count
                );
                let m = p.nm.group as usize;
                let k0 = group * m;
                let nz = (k0..w.cols.min(k0 + m)).filter(|&k| w.get(row, k) != 0).count();
                prop_assert_eq!(nz, count);
                prop_assert!(count > (p.nm.keep as usize).min(w.cols - k0));
                continue;
            }
            r => r.unwrap(),
        };
        let back = s.decode("prop").unwrap();
        prop_assert_eq!(&back, w, "{} round trip", format);
        prop_assert_eq!(s.sizes.total_bits(), s.bits.len() as u64);
        prop_assert_eq!(s.bits.len() as u64 % b, 0);
        // Independent formulas for the bits each format writes before the last word's fill.
        let (payload, metadata, padding_fields) = match format {
            Format::Dense => (nnz * q, 0, (elements - nnz) * q),
            Format::Bitmap => (nnz * q, elements, 0),
            Format::DeltaBitmap => (w.delta_along_k().nonzeros() as u64 * q, elements, 0),
            Format::Csc => {
                let (real, fillers) = expected_csc_entries(w, p.run_bits);
                prop_assert_eq!(real, nnz);
                let r = u64::from(p.run_bits);
                (nnz * q, w.cols as u64 * u64::from(p.count_bits) + real * r, fillers * (r + q))
            }
            Format::BitmapHuffman | Format::DeltaBitmapHuffman => {
                // Codes of 1..=H bits each; the header holds lmax, a count per length up to lmax
                // and every distinct nonzero value once.
                let nz = coded.nonzeros() as u64;
                let header = s.sizes.metadata_bits - elements - u64::from(LMAX_BITS) - q * distinct.len() as u64;
                prop_assert_eq!(header % q, 0);
                let lmax = header / q;
                prop_assert!(lmax <= u64::from(MAX_CODE_LEN) && (lmax == 0) == (nz == 0), "lmax {}", lmax);
                prop_assert!(s.sizes.payload_bits >= nz && s.sizes.payload_bits <= nz * lmax);
                (s.sizes.payload_bits, s.sizes.metadata_bits, 0)
            }
            Format::LaneHuffman | Format::DeltaLaneHuffman => {
                // The same code, header and masks as bitmap-huffman; the chunks carry every code
                // bit, and besides them what the lanes hold at the end (the spec's refill rule,
                // restated: a coded lane below T = 2 lmax takes 12-bit chunks, then decodes).
                let serial = if delta { Format::DeltaBitmapHuffman } else { Format::BitmapHuffman };
                let s0 = serial.encode(w, p).unwrap();
                let table = read_table(&mut BitReader::new(&s0.bits), p.weight_bits).unwrap();
                let lengths = table.fields(p.weight_bits);
                let t = 2 * table.lmax;
                let n = p.lanes;
                let mut count = vec![0u32; n];
                let mut chunk_bits = 0u64;
                for k in 0..w.cols {
                    for o in 0..w.rows {
                        let v = coded.get(o, k);
                        if v != 0 {
                            let l = o % n;
                            while count[l] < t {
                                count[l] += 12;
                                chunk_bits += 12;
                            }
                            count[l] -= lengths[(v as u64 & ((1u64 << q) - 1)) as usize].1;
                        }
                    }
                }
                let residue: u64 = count.iter().map(|&c| u64::from(c)).sum();
                prop_assert_eq!(chunk_bits, s0.sizes.payload_bits + residue);
                prop_assert!(count.iter().all(|&c| c < t + 12));
                (s0.sizes.payload_bits, s0.sizes.metadata_bits, residue)
            }
            Format::Nm => {
                // A 8-bit header, then n_g entries of log2 m + Q bits per row and group.
                let entries = nm_entries(w, p.nm).expect("encoded, so n:m");
                let pb = u64::from(p.nm.group.trailing_zeros());
                (nnz * q, 8 + nnz * pb, (entries - nnz) * (pb + q))
            }
        };
        let written = payload + metadata + padding_fields;
        prop_assert_eq!(s.sizes.payload_bits, payload, "{} payload", format);
        prop_assert_eq!(s.sizes.metadata_bits, metadata, "{} metadata", format);
        prop_assert_eq!(s.sizes.padding_bits - padding_fields, s.bits.len() as u64 - written, "{} fill", format);
        prop_assert_eq!(s.bus_words() as u64, written.div_ceil(b), "{} words", format);
        prop_assert!(beats > 0);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn every_format_round_trips((w, p) in layer_and_params()) {
        check_all(&w, &p)?;
    }

    #[test]
    fn nm_layers_round_trip((w, p) in nm_layer_and_params()) {
        prop_assert!(nm_entries(&w, p.nm).is_some());
        check_all(&w, &p)?;
    }

    #[test]
    fn csc_run_edges_round_trip((w, p) in run_edge_layer()) {
        check_all(&w, &p)?;
        // The 2^R-gap needs exactly one filler, the 3*2^R-gap three: per column four.
        let (_, fillers) = expected_csc_entries(&w, p.run_bits);
        prop_assert_eq!(fillers, 4 * w.cols as u64);
    }

    #[test]
    fn delta_is_invertible_mod_2q((w, _) in layer_and_params()) {
        prop_assert_eq!(w.delta_along_k().undelta_along_k(), w);
    }

    #[test]
    fn beats_hold_every_element_once((w, p) in layer_and_params()) {
        let beats = weightstream::pe::beats(&w, &p);
        prop_assert_eq!(beats.len(), p.beats(w.rows, w.cols) * p.lanes);
        let tiles = p.tiles(w.rows);
        for o in 0..w.rows {
            for k in 0..w.cols {
                prop_assert_eq!(beats[(k * tiles + o / p.lanes) * p.lanes + o % p.lanes], w.get(o, k));
            }
        }
        // Lanes past O are zero.
        let real: i64 = beats.iter().map(|&v| i64::from(v != 0)).sum();
        prop_assert_eq!(real as usize, w.nonzeros());
    }
}
