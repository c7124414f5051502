//! The report: its numbers equal the streams', totals are sums, files in every format agree and
//! are byte-identical across runs; emitted streams and exported matrices read back.

use weightstream::model::{Model, ModelSpec};
use weightstream::prepare::{prepare, PrepareConfig};
use weightstream::report::rate::{self, ClockSource, Clocks, CycleSource};
use weightstream::report::{self, CsvReporter, JsonReporter, MarkdownReporter, Reporter, TableReporter};
use weightstream::rtl::DesignPoint;
use weightstream::{Format, StreamParams};

fn synthetic_report() -> (report::Report, Vec<weightstream::prepare::PreparedLayer>) {
    let model = Model::load(&ModelSpec::parse("synthetic:mobilenet_v2").unwrap()).unwrap();
    let cfg = PrepareConfig::default();
    let layers = prepare(&model, &cfg).unwrap();
    let r = report::build(&model, &layers, &cfg, &StreamParams::default(), DesignPoint::default().max_rows, |_, _| {
        Ok(Vec::new())
    })
    .unwrap();
    (r, layers)
}

#[test]
fn numbers_equal_the_streams() {
    let (r, layers) = synthetic_report();
    assert_eq!(r.layers.len(), 53);
    for (stats, layer) in r.layers.iter().zip(&layers) {
        assert_eq!(stats.nonzeros as usize, layer.matrix.nonzeros());
        assert_eq!(stats.blocks, 1, "no MobileNetV2 layer exceeds MAX_O = 1280: {}", stats.name);
        for f in &stats.formats {
            let s = match f.format.encode(&layer.matrix, &r.stream) {
                // nm on a layer that is not 2:4 (every layer here): n/a with the encoder's
                // reason, every size 0.
                Err(e) if e.not_applicable() => {
                    assert_eq!(f.not_applicable.as_deref(), Some(e.to_string().as_str()), "{}", stats.name);
                    assert_eq!((f.total_bits, f.bus_words, f.saved_pct), (0, 0, 0.0));
                    continue;
                }
                s => s.unwrap(),
            };
            assert!(f.applies(), "{} {}", stats.name, f.format);
            assert_eq!(f.total_bits, s.bits.len() as u64, "{} {}", stats.name, f.format);
            assert_eq!(f.bus_words, s.bus_words() as u64);
            assert_eq!(f.payload_bits + f.metadata_bits + f.padding_bits, f.total_bits);
        }
    }
    for (i, format) in Format::ALL.iter().enumerate() {
        let sum: u64 = r.layers.iter().map(|l| l.formats[i].bus_words).sum();
        assert_eq!(r.totals.formats[i].bus_words, sum, "{format}");
    }
    let nm = r.totals.formats.iter().find(|f| f.format == Format::Nm).unwrap();
    assert_eq!(nm.not_applicable.as_deref(), Some("53 of 53 layers not n:m"));
    let dense = r.totals.formats[0].bus_words as f64;
    let bitmap = &r.totals.formats[1];
    assert!((bitmap.saved_pct - 100.0 * (1.0 - bitmap.bus_words as f64 / dense)).abs() < 1e-9);
    assert_eq!(r.parameters, 3_504_872);
}

#[test]
fn csv_and_json_carry_the_same_numbers() {
    let (r, _) = synthetic_report();
    let mut json = Vec::new();
    JsonReporter.write(&r, &mut json).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(v["layers"][3]["formats"][3]["bus_words"].as_u64().unwrap(), r.layers[3].formats[3].bus_words);
    assert_eq!(v["totals"]["weights"].as_u64().unwrap(), r.totals.weights);

    let mut csv_bytes = Vec::new();
    CsvReporter.write(&r, &mut csv_bytes).unwrap();
    let mut rd = csv::Reader::from_reader(&csv_bytes[..]);
    let headers = rd.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let records: Vec<csv::StringRecord> = rd.records().map(|x| x.unwrap()).collect();
    assert_eq!(records.len(), (r.layers.len() + 1) * Format::ALL.len());
    for (i, rec) in records.iter().enumerate() {
        let layer = r.layers.get(i / Format::ALL.len()).unwrap_or(&r.totals);
        let f = &layer.formats[i % Format::ALL.len()];
        assert_eq!(&rec[col("layer")], layer.name);
        assert_eq!(&rec[col("format")], f.format.name());
        assert_eq!(rec[col("total_bits")].parse::<u64>().unwrap(), f.total_bits);
        assert_eq!(rec[col("bus_words")].parse::<u64>().unwrap(), f.bus_words);
    }
}

#[test]
fn cli_outputs_are_byte_identical_across_runs() {
    let dir = tempfile::tempdir().unwrap();
    let run = |tag: &str| {
        let out = crate::util::cli()
            .args(["report", "--model", "synthetic:resnet18", "--sparsity", "0.5", "--bits", "4"])
            .arg("--csv")
            .arg(dir.path().join(format!("{tag}.csv")))
            .arg("--json")
            .arg(dir.path().join(format!("{tag}.json")))
            .arg("--markdown")
            .arg(dir.path().join(format!("{tag}.md")))
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        out.stdout
    };
    let (a, b) = (run("a"), run("b"));
    assert_eq!(a, b);
    assert!(String::from_utf8_lossy(&a).contains("TOTAL"));
    for ext in ["csv", "json", "md"] {
        let fa = std::fs::read(dir.path().join(format!("a.{ext}"))).unwrap();
        let fb = std::fs::read(dir.path().join(format!("b.{ext}"))).unwrap();
        assert!(!fa.is_empty());
        assert_eq!(fa, fb, "{ext} differs between runs");
    }
}

#[test]
fn emitted_streams_and_exported_matrices_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let streams = dir.path().join("streams");
    let exported = dir.path().join("q.safetensors");
    let out = crate::util::cli()
        .args(["report", "--quiet", "--model", "synthetic:mobilenet_v2", "--bus-bits", "32", "--emit-streams"])
        .arg(&streams)
        .arg("--export-quantized")
        .arg(&exported)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stdout.is_empty(), "--quiet prints nothing");

    let checked = weightstream::emit::check_dir(&streams.join("manifest.json")).unwrap();
    // Every format but nm (these layers are not 2:4: no stream).
    assert_eq!(checked.len(), 53 * (Format::ALL.len() - 1));
    assert!(!std::fs::read_dir(&streams).unwrap().any(|e| e.unwrap().file_name().to_string_lossy().contains(".nm.")));

    // .hex and .bin hold the same words.
    let manifest: weightstream::emit::Manifest =
        serde_json::from_str(&std::fs::read_to_string(streams.join("manifest.json")).unwrap()).unwrap();
    let e = &manifest.streams[5];
    let bin = std::fs::read(streams.join(&e.bin)).unwrap();
    let hex = std::fs::read_to_string(streams.join(&e.hex)).unwrap();
    let lines: Vec<&str> = hex.lines().collect();
    assert_eq!(lines.len() as u64, e.words);
    for (j, line) in lines.iter().enumerate() {
        let word = u32::from_str_radix(line, 16).unwrap();
        assert_eq!(word.to_le_bytes(), bin[j * 4..j * 4 + 4], "word {j}");
    }

    // The exported I32 matrices are exactly what was encoded.
    let model = Model::load(&ModelSpec::parse("synthetic:mobilenet_v2").unwrap()).unwrap();
    let layers = prepare(&model, &PrepareConfig::default()).unwrap();
    let back = weightstream::model::load_file(&exported).unwrap();
    assert_eq!(back.len(), layers.len());
    for l in &layers {
        let t = back.iter().find(|t| t.name == l.name).unwrap();
        assert_eq!(t.shape, [l.matrix.rows, l.matrix.cols]);
        assert_eq!(t.dtype, weightstream::model::DType::I32);
        assert!(t.values.iter().zip(&l.matrix.data).all(|(a, &b)| *a == b as f32));
    }

    // A corrupted stream is reported with its file, layer and offset.
    let victim = manifest.streams.iter().find(|s| s.format == "csc").unwrap();
    let path = streams.join(&victim.bin);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[0] = 0xff;
    bytes[1] = 0xff; // count 65535 > O
    std::fs::write(&path, &bytes).unwrap();
    let out = crate::util::cli().arg("check").arg(&streams).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&victim.bin) && err.contains(&victim.layer) && err.contains("bit offset 0"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

/// Every layer's and the totals' delivered rate is clock x beats/cycle x N, at the default clock
/// until Fmax values are applied; the table, Markdown and CSV show it beside the words saved with
/// the clock each format used.
#[test]
fn delivered_rate_is_clock_times_beats_per_cycle_times_lanes() {
    let (mut r, _) = synthetic_report();
    let lanes = r.stream.lanes as f64;
    let check = |r: &report::Report, clock: &dyn Fn(Format) -> (f64, ClockSource)| {
        for l in &r.layers {
            for f in &l.formats {
                let d = f.delivered;
                assert_eq!((d.clock_mhz, d.clock_source), clock(f.format), "{} {}", l.name, f.format);
                assert_eq!((d.cycles, d.cycles_source), (l.beats.max(f.bus_words), CycleSource::Ideal));
                let expect = d.clock_mhz * 1e6 * l.beats as f64 / d.cycles as f64 * lanes;
                assert!((d.weights_per_s - expect).abs() <= 1e-9 * expect, "{} {}", l.name, f.format);
                assert!(d.beats_per_cycle <= 1.0);
            }
        }
        for (i, t) in r.totals.formats.iter().enumerate() {
            let cycles: u64 = r.layers.iter().map(|l| l.formats[i].delivered.cycles).sum();
            assert_eq!(t.delivered.cycles, cycles);
            let expect = t.delivered.clock_mhz * 1e6 * r.totals.beats as f64 / cycles as f64 * lanes;
            assert!((t.delivered.weights_per_s - expect).abs() <= 1e-9 * expect, "{}", t.format);
        }
    };
    check(&r, &|_| (1000.0, ClockSource::User));

    rate::apply(&mut r, &Clocks::with_fmax(250.0, &[(Format::Bitmap, 48.1)]));
    check(&r, &|f| if f == Format::Bitmap { (48.1, ClockSource::Fmax) } else { (250.0, ClockSource::User) });

    let bitmap = &r.totals.formats[1];
    assert_eq!(bitmap.format, Format::Bitmap);
    let mut table = Vec::new();
    TableReporter.write(&r, &mut table).unwrap();
    let table = String::from_utf8(table).unwrap();
    assert!(table.contains("Delivered to the PE array (all layers):"), "{table}");
    let line = table
        .lines()
        .skip_while(|l| !l.starts_with("Delivered to the PE array"))
        .find(|l| l.split_whitespace().next() == Some("bitmap"))
        .unwrap();
    let cells: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(
        cells,
        [
            "bitmap".to_string(),
            bitmap.bus_words.to_string(),
            format!("{:.1}", bitmap.saved_pct),
            "48.1".into(),
            "Fmax".into(),
            bitmap.delivered.cycles.to_string(),
            "ideal".into(),
            format!("{:.3}", bitmap.delivered.beats_per_cycle),
            format!("{:.1}", bitmap.delivered.weights_per_s / 1e6),
        ]
    );
    assert!(table.contains("Careful: some formats are timed at a measured Fmax"), "{table}");

    let mut md = Vec::new();
    MarkdownReporter.write(&r, &mut md).unwrap();
    let md = String::from_utf8(md).unwrap();
    assert!(md.contains("## Delivered weights per second (all layers)"));
    assert!(
        md.contains(&format!(
            "| csc | {} | {:.1} | 250 | --clock-mhz |",
            r.totals.formats[3].bus_words, r.totals.formats[3].saved_pct
        )),
        "{md}"
    );

    let mut csv_bytes = Vec::new();
    CsvReporter.write(&r, &mut csv_bytes).unwrap();
    let mut rd = csv::Reader::from_reader(&csv_bytes[..]);
    let headers = rd.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    for (i, rec) in rd.records().map(|x| x.unwrap()).enumerate() {
        let layer = r.layers.get(i / Format::ALL.len()).unwrap_or(&r.totals);
        let d = layer.formats[i % Format::ALL.len()].delivered;
        assert_eq!(rec[col("clock_mhz")].parse::<f64>().unwrap(), d.clock_mhz);
        assert_eq!(&rec[col("clock_source")], if d.clock_source == ClockSource::Fmax { "fmax" } else { "user" });
        assert_eq!(rec[col("decode_cycles")].parse::<u64>().unwrap(), d.cycles);
        assert_eq!(&rec[col("cycles_source")], "ideal");
        assert_eq!(rec[col("delivered_weights_per_s")].parse::<f64>().unwrap(), d.weights_per_s);
    }
    let mut json = Vec::new();
    JsonReporter.write(&r, &mut json).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(v["totals"]["formats"][1]["delivered"]["clock_source"], "fmax");
    assert_eq!(
        v["totals"]["formats"][1]["delivered"]["weights_per_s"].as_f64().unwrap(),
        bitmap.delivered.weights_per_s
    );
}
