//! Row blocks (O > MAX_O): a layer splits into ceil(O / MAX_O) blocks of all K columns, each block
//! encoded exactly as the sub-matrix alone, decoded back per block, sizes and beats summed, y
//! concatenated; and the report counts the sums and says how many blocks each layer took.

use std::borrow::Cow;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use weightstream::blocks::{self, BlockError, BlockedStream};
use weightstream::formats::{EncodeError, NmPattern};
use weightstream::model::{DType, Model, Provenance, RawTensor};
use weightstream::prepare::{prepare, PrepareConfig};
use weightstream::report::{self, CsvReporter, JsonReporter, Reporter, TableReporter};
use weightstream::{pe, Format, QuantMatrix, StreamParams};

/// Small parameters so blocks have several row tiles, a partial last tile, CSC fillers (R = 2)
/// and runs that would cross a block boundary.
fn params() -> StreamParams {
    StreamParams { lanes: 4, weight_bits: 4, bus_bits: 16, run_bits: 2, count_bits: 4, ..StreamParams::default() }
}

/// A seeded sparse O x K matrix of Q-bit values (about 60% zeros, long zero runs in some rows).
fn sparse(rows: usize, cols: usize, bits: u32, seed: u64) -> QuantMatrix {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (lo, hi) = QuantMatrix::value_range(bits);
    let mut data: Vec<i32> =
        (0..rows * cols).map(|_| if rng.random_bool(0.4) { rng.random_range(lo..=hi) } else { 0 }).collect();
    // Thinned to 2:4 (the first two nonzeros of every group of four columns stay), so that every
    // format, nm too, applies.
    for row in data.chunks_mut(cols) {
        for group in row.chunks_mut(4) {
            let mut kept = 0;
            for v in group.iter_mut().filter(|v| **v != 0) {
                if kept == 2 {
                    *v = 0;
                }
                kept += usize::from(kept < 2);
            }
        }
    }
    QuantMatrix { rows, cols, bits, data }
}

/// Rows [first, first + n) of `w`, built element by element (not by the code under test).
fn sub(w: &QuantMatrix, first: usize, n: usize) -> QuantMatrix {
    let mut data = Vec::new();
    for o in first..first + n {
        for k in 0..w.cols {
            data.push(w.get(o, k));
        }
    }
    QuantMatrix { rows: n, cols: w.cols, bits: w.bits, data }
}

/// Expected rows per block for O and MAX_O, written out.
fn expected_rows(o: usize, max: usize) -> Vec<usize> {
    let mut left = o;
    let mut out = Vec::new();
    while left > 0 {
        out.push(left.min(max));
        left -= left.min(max);
    }
    out
}

/// MAX_O 7 is not a multiple of N = 4 (each block ends in a partial tile); 8 is.
const MAX_OS: [usize; 2] = [7, 8];
const COLS: usize = 9;

fn shapes(max: usize) -> [(usize, usize); 3] {
    [(max, 1), (max + 1, 2), (2 * max + 3, 3)]
}

#[test]
fn blocks_split_rows_and_fit_is_one_borrowed_block() {
    for max in MAX_OS {
        for (o, n_blocks) in shapes(max) {
            let w = sparse(o, COLS, 4, o as u64);
            let b = blocks::row_blocks(&w, max).unwrap();
            assert_eq!(b.len(), n_blocks, "O {o} MAX_O {max}");
            assert_eq!(blocks::block_count(o, max).unwrap(), n_blocks);
            let rows: Vec<usize> = b.iter().map(|x| x.rows()).collect();
            assert_eq!(rows, expected_rows(o, max));
            for (i, x) in b.iter().enumerate() {
                assert_eq!(x.index, i);
                assert_eq!(x.row_offset, i * max);
                assert_eq!(*x.matrix, sub(&w, i * max, rows[i]), "block {i} of O {o}");
            }
            if o <= max {
                assert!(matches!(b[0].matrix, Cow::Borrowed(m) if std::ptr::eq(m, &w)), "one block is the layer");
            }
        }
    }
}

#[test]
fn each_block_is_its_sub_matrix_encoded_alone_and_decodes_back() {
    let p = params();
    for max in MAX_OS {
        for (o, n_blocks) in shapes(max) {
            let w = sparse(o, COLS, 4, 100 + o as u64);
            let rows = expected_rows(o, max);
            for format in Format::ALL {
                let bs = blocks::encode_blocks(format, &w, &p, max).unwrap();
                let what = format!("{format} O {o} MAX_O {max}");
                assert_eq!(bs.blocks.len(), n_blocks, "{what}");
                assert_eq!((bs.rows, bs.cols, bs.max_rows, bs.format), (o, COLS, max, format));
                let (mut words, mut bits, mut payload, mut metadata, mut padding) = (0, 0, 0, 0, 0);
                for (i, s) in bs.blocks.iter().enumerate() {
                    let alone = format.encode(&sub(&w, i * max, rows[i]), &p).unwrap();
                    assert_eq!(s.bits, alone.bits, "{what} block {i} stream");
                    assert_eq!(s.sizes, alone.sizes, "{what} block {i} sizes");
                    assert_eq!((s.rows, s.cols), (rows[i], COLS));
                    assert_eq!(bs.row_offset(i), i * max);
                    assert_eq!(s.decode("x").unwrap(), sub(&w, i * max, rows[i]), "{what} block {i} decode");
                    words += alone.bus_words();
                    bits += alone.bits.len() as u64;
                    payload += alone.sizes.payload_bits;
                    metadata += alone.sizes.metadata_bits;
                    padding += alone.sizes.padding_bits;
                }
                assert_eq!(bs.bus_words(), words, "{what} words summed");
                assert_eq!(bs.total_bits(), bits);
                let sizes = bs.sizes();
                assert_eq!((sizes.payload_bits, sizes.metadata_bits, sizes.padding_bits), (payload, metadata, padding));
                assert_eq!(sizes.total_bits(), bits);
                assert_eq!(bs.decode("x").unwrap(), w, "{what} whole layer back from its blocks");
                if n_blocks == 1 {
                    let whole = format.encode(&w, &p).unwrap();
                    assert_eq!(bs.blocks[0].bits, whole.bits, "{what}: one block is the layer's stream");
                }
            }
            // Dense words by formula: every block padded to whole words on its own.
            let dense = blocks::encode_blocks(Format::Dense, &w, &p, max).unwrap();
            let by_formula: usize = rows.iter().map(|r| (r * COLS * 4).div_ceil(16)).sum();
            assert_eq!(dense.bus_words(), by_formula, "dense O {o} MAX_O {max}");
        }
    }
}

#[test]
fn blocks_cost_their_own_padding_and_counts() {
    // O = 2*MAX_O + 3 with MAX_O = 7, K = 9, Q = 4, B = 16: dense blocks of 252, 252 and 108 bits
    // each fill their own last word: 16 + 16 + 7 words.
    let p = params();
    let w = sparse(17, COLS, 4, 5);
    let dense = blocks::encode_blocks(Format::Dense, &w, &p, 7).unwrap();
    assert_eq!(dense.bus_words(), 16 + 16 + 7);
    // CSC writes one count per column and block: two more blocks x 9 columns x P = 4 bits of
    // counts; real entries (one run each) are the same nonzeros either way.
    let csc = blocks::encode_blocks(Format::Csc, &w, &p, 7).unwrap();
    let whole = Format::Csc.encode(&w, &p).unwrap();
    assert_eq!(csc.sizes().metadata_bits, whole.sizes.metadata_bits + 2 * 9 * 4);
    assert_eq!(csc.sizes().payload_bits, whole.sizes.payload_bits);
}

#[test]
fn golden_beats_and_y_per_block() {
    let p = params();
    for max in MAX_OS {
        for (o, n_blocks) in shapes(max) {
            let w = sparse(o, COLS, 4, 200 + o as u64);
            let a = pe::random_activations(COLS, 8, 7);
            let rows = expected_rows(o, max);
            let g = blocks::golden(&w, &a, &p, max).unwrap();
            assert_eq!(g.len(), n_blocks);
            let mut beats = 0;
            for (i, b) in g.iter().enumerate() {
                let m = sub(&w, i * max, rows[i]);
                assert_eq!((b.row_offset, b.rows), (i * max, rows[i]));
                assert_eq!(b.beats, pe::beats(&m, &p), "block {i} beats");
                assert_eq!(b.beats.len(), COLS * rows[i].div_ceil(4) * 4, "K * ceil(O_i / N) beats of N lanes");
                assert_eq!(b.y, pe::matvec(&m, &a));
                beats += COLS * rows[i].div_ceil(4);
            }
            assert_eq!(blocks::concat_y(&g), pe::matvec(&w, &a), "y of O {o} MAX_O {max}");
            for format in Format::ALL {
                assert_eq!(blocks::encode_blocks(format, &w, &p, max).unwrap().beats(), beats, "{format} beats");
            }
            if (max, o) == (7, 8) {
                // Blocks of 7 + 1 rows take 2 + 1 tiles per column where the layer whole takes 2.
                assert_eq!(beats, COLS * 3);
                assert_eq!(p.beats(o, COLS), COLS * 2);
            }
        }
    }
}

#[test]
fn zero_max_rows_and_bad_values_are_typed_errors() {
    let p = params();
    let w = sparse(17, COLS, 4, 9);
    assert_eq!(blocks::row_blocks(&w, 0).unwrap_err(), BlockError::ZeroMaxRows(0));
    assert_eq!(blocks::block_count(17, 0).unwrap_err(), BlockError::ZeroMaxRows(0));
    assert!(matches!(blocks::encode_blocks(Format::Csc, &w, &p, 0), Err(BlockError::ZeroMaxRows(0))));
    assert!(matches!(blocks::golden(&w, &[0; COLS], &p, 0), Err(BlockError::ZeroMaxRows(0))));
    // A value out of range in block 2 is reported at its row of the layer, as encoding the
    // layer whole reports it.
    let mut bad = w.clone();
    bad.data[15 * COLS + 4] = 8;
    for format in Format::ALL {
        let e = blocks::encode_blocks(format, &bad, &p, 7).unwrap_err();
        assert_eq!(e, BlockError::Encode(EncodeError::ValueOutOfRange { row: 15, col: 4, value: 8, bits: 4 }));
        assert_eq!(e, BlockError::Encode(format.encode(&bad, &p).unwrap_err()));
    }
    let short = QuantMatrix { rows: 17, cols: COLS, bits: 4, data: vec![0; 5] };
    assert_eq!(blocks::row_blocks(&short, 7).unwrap_err(), BlockError::BadShape { rows: 17, cols: COLS, len: 5 });
}

#[test]
fn a_corrupt_block_names_its_block() {
    let p = params();
    let w = sparse(17, COLS, 4, 11);
    let mut bs: BlockedStream = blocks::encode_blocks(Format::Csc, &w, &p, 7).unwrap();
    let last = bs.blocks[1].bits.len() - 1;
    bs.blocks[1].bits.set(last, true);
    let e = bs.decode("conv").unwrap_err();
    assert_eq!(e.layer, "conv block 1");
}

/// A hand-made model: `big` has 2*MAX_O + 3 rows, `small` fits, plus a bias.
fn model(max: usize, cols: usize) -> Model {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let mut tensor = |name: &str, shape: Vec<usize>| {
        let n: usize = shape.iter().product();
        RawTensor {
            name: name.into(),
            shape,
            dtype: DType::F32,
            values: (0..n).map(|_| rng.random_range(-1.0f32..1.0)).collect(),
        }
    };
    Model {
        name: "blocks".into(),
        source: "test".into(),
        provenance: Provenance::Synthetic,
        tensors: vec![
            tensor("big.weight", vec![2 * max + 3, cols]),
            tensor("big.bias", vec![2 * max + 3]),
            tensor("small.weight", vec![max - 5, cols]),
        ],
    }
}

#[test]
fn report_sums_words_over_blocks() {
    // MAX_O = 37, K = 5, Q = 8, B = 64: dense blocks of 37, 37, 3 rows take 24 + 24 + 2 = 50 words,
    // the layer as one stream would take 49: the report must show 50.
    let (max, cols) = (37, 5);
    let m = model(max, cols);
    let cfg = PrepareConfig::default();
    let layers = prepare(&m, &cfg).unwrap();
    // nm at 7:8: with K = 5 < 8 a row keeps all five columns, so every format applies.
    let p = StreamParams { nm: NmPattern { keep: 7, group: 8 }, ..StreamParams::default() };
    let mut seen = Vec::new();
    let r = report::build(&m, &layers, &cfg, &p, max, |layer, streams| {
        seen.push((layer.name.clone(), streams.iter().map(|s| s.blocks.len()).collect::<Vec<_>>()));
        Ok(Vec::new())
    })
    .unwrap();
    assert_eq!(
        seen,
        [
            ("big.weight".to_string(), vec![3; Format::ALL.len()]),
            ("small.weight".to_string(), vec![1; Format::ALL.len()])
        ]
    );
    assert_eq!(r.max_rows, max);
    let (big, small) = (&r.layers[0], &r.layers[1]);
    assert_eq!((big.rows, big.blocks, small.blocks, r.totals.blocks), (77, 3, 1, 4));
    assert_eq!(big.formats[0].bus_words, 50);
    assert_eq!(Format::Dense.encode(&layers[0].matrix, &p).unwrap().bus_words(), 49);
    let w = &layers[0].matrix;
    for (i, f) in big.formats.iter().enumerate() {
        let alone: Vec<_> =
            [(0, 37), (37, 37), (74, 3)].iter().map(|&(o, n)| f.format.encode(&sub(w, o, n), &p).unwrap()).collect();
        let words: usize = alone.iter().map(|s| s.bus_words()).sum();
        let bits: u64 = alone.iter().map(|s| s.bits.len() as u64).sum();
        let metadata: u64 = alone.iter().map(|s| s.sizes.metadata_bits).sum();
        assert_eq!(f.bus_words, words as u64, "{}", f.format);
        assert_eq!((f.total_bits, f.metadata_bits), (bits, metadata), "{}", f.format);
        let saved = 100.0 * (1.0 - words as f64 / 50.0);
        assert!((f.saved_pct - saved).abs() < 1e-9, "{}: {} vs {saved}", f.format, f.saved_pct);
        assert_eq!(r.totals.formats[i].bus_words, f.bus_words + small.formats[i].bus_words);
    }
    // 3 blocks of K * ceil(O_i / 16) beats: 5 * (3 + 3 + 1).
    assert_eq!(big.beats, 35);
    // small fits: its numbers are the layer's own stream's.
    for f in &small.formats {
        assert_eq!(f.bus_words, f.format.encode(&layers[1].matrix, &p).unwrap().bus_words() as u64);
    }

    let render = |reporter: &dyn Reporter| {
        let mut out = Vec::new();
        reporter.write(&r, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    };
    let table = render(&TableReporter);
    assert!(table.contains("MAX_O=37 rows per block"), "{table}");
    let big_line = table.lines().find(|l| l.starts_with("big.weight")).unwrap();
    let cells: Vec<&str> = big_line.split_whitespace().collect();
    assert_eq!(&cells[1..5], ["77", "x", "5", "3"], "{big_line}");
    assert_eq!(cells[11], "50", "dense words: {big_line}");

    let json: serde_json::Value = serde_json::from_str(&render(&JsonReporter)).unwrap();
    assert_eq!(json["max_rows"], 37);
    assert_eq!(json["layers"][0]["blocks"], 3);
    assert_eq!(json["layers"][1]["blocks"], 1);
    assert_eq!(json["layers"][0]["formats"][0]["bus_words"], 50);

    let csv = render(&CsvReporter);
    let mut rd = csv::Reader::from_reader(csv.as_bytes());
    let headers = rd.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let recs: Vec<csv::StringRecord> = rd.records().map(|x| x.unwrap()).collect();
    assert_eq!(&recs[0][col("blocks")], "3");
    assert_eq!(&recs[0][col("bus_words")], "50");
    let nf = Format::ALL.len();
    assert_eq!(&recs[nf][col("blocks")], "1");
    assert_eq!(&recs[2 * nf][col("layer")], "TOTAL");
    assert_eq!(&recs[2 * nf][col("blocks")], "4");
}

#[test]
fn report_rejects_zero_max_rows() {
    let m = model(37, 5);
    let cfg = PrepareConfig::default();
    let layers = prepare(&m, &cfg).unwrap();
    let e = report::build(&m, &layers, &cfg, &StreamParams::default(), 0, |_, _| Ok(Vec::new())).unwrap_err();
    assert!(e.to_string().contains("MAX_O"), "{e}");
}

#[test]
fn cli_emits_and_checks_one_stream_per_block() {
    let dir = tempfile::tempdir().unwrap();
    let streams = dir.path().join("streams");
    let out = crate::util::cli()
        .args(["report", "--quiet", "--model", "synthetic:mobilenet_v2", "--max-rows", "500", "--emit-streams"])
        .arg(&streams)
        .arg("--json")
        .arg(dir.path().join("r.json"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("r.json")).unwrap()).unwrap();
    let manifest: weightstream::emit::Manifest =
        serde_json::from_str(&std::fs::read_to_string(streams.join("manifest.json")).unwrap()).unwrap();
    // A format that does not apply to a layer (nm: these layers are not 2:4) writes no stream.
    let applies = |l: &serde_json::Value, format: Format| {
        let f = l["formats"].as_array().unwrap().iter().find(|f| f["format"] == format.name()).unwrap();
        f.get("not_applicable").is_none()
    };
    let layers = json["layers"].as_array().unwrap();
    assert!(layers.iter().all(|l| !applies(l, Format::Nm) && applies(l, Format::Csc)));
    let applying = Format::ALL.len() - 1;
    // The classifier, 1000 x 1280: blocks of 500 and 500 rows.
    let cls: Vec<_> = manifest.streams.iter().filter(|e| e.layer == "classifier.1.weight").collect();
    assert_eq!(cls.len(), 2 * applying);
    let csc: Vec<_> = cls.iter().filter(|e| e.format == "csc").collect();
    assert_eq!(
        csc.iter().map(|e| (e.block, e.blocks, e.row_offset, e.rows, e.bin.as_str())).collect::<Vec<_>>(),
        [(0, 2, 0, 500, "classifier.1.weight.b0.csc.bin"), (1, 2, 500, 500, "classifier.1.weight.b1.csc.bin")]
    );
    let layer = json["layers"].as_array().unwrap().iter().find(|l| l["name"] == "classifier.1.weight").unwrap();
    assert_eq!(layer["blocks"], 2);
    assert_eq!(layer["formats"][3]["bus_words"].as_u64().unwrap(), csc.iter().map(|e| e.words).sum::<u64>());
    // Every layer's entries: blocks as the report says, rows tiling O.
    let total_entries: u64 =
        json["layers"].as_array().unwrap().iter().map(|l| applying as u64 * l["blocks"].as_u64().unwrap()).sum();
    assert_eq!(manifest.streams.len() as u64, total_entries);
    for l in layers {
        for format in Format::ALL.into_iter().filter(|&f| applies(l, f)) {
            let mut next = 0;
            for e in manifest.streams.iter().filter(|e| e.layer == l["name"] && e.format == format.name()) {
                assert_eq!((e.row_offset, e.blocks as u64), (next, l["blocks"].as_u64().unwrap()), "{}", e.bin);
                next += e.rows;
            }
            assert_eq!(next as u64, l["rows"].as_u64().unwrap(), "{} {format}", l["name"]);
        }
    }
    assert!(total_entries > 53 * 4, "some MobileNetV2 layers exceed 500 rows");
    let checked = weightstream::emit::check_dir(&streams.join("manifest.json")).unwrap();
    assert_eq!(checked.len() as u64, total_entries);

    // A corrupted block is reported with its file and block.
    let path = streams.join(csc[1].bin.as_str());
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[0] = 0xff;
    bytes[1] = 0xff; // count 65535 > 500 rows
    std::fs::write(&path, &bytes).unwrap();
    let out = crate::util::cli().arg("check").arg(&streams).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("classifier.1.weight.b1.csc.bin") && err.contains("classifier.1.weight block 1"), "{err}");
}
