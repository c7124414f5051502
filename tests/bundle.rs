//! The report bundle (`report --out`): every file is there, the CSV and JSON carry exactly the
//! library's numbers, PNGs decode to the chart's size, SVGs carry layer names and axis labels, the
//! HTML is static and self-contained, energy = bits x pJ/bit; and `weightstream diff` on two real
//! reports.

use std::io::Read;
use std::path::Path;

use weightstream::cost::{Cost, Fpga, Unit};
use weightstream::model::{Model, ModelSpec};
use weightstream::prepare::{prepare, PrepareConfig};
use weightstream::report::bundle::{write_bundle_with_cost, BundleOptions};
use weightstream::report::energy::{self, EnergyParams};
use weightstream::report::rate::{self, Clocks};
use weightstream::report::{self, CsvReporter, JsonReporter, Reporter};
use weightstream::rtl::DesignPoint;
use weightstream::{Format, StreamParams};

use crate::util::cli;

fn synthetic_report(sparsity: f64) -> report::Report {
    let model = Model::load(&ModelSpec::parse("synthetic:mobilenet_v2").unwrap()).unwrap();
    let cfg = PrepareConfig { sparsity, ..PrepareConfig::default() };
    let layers = prepare(&model, &cfg).unwrap();
    report::build(&model, &layers, &cfg, &StreamParams::default(), DesignPoint::default().max_rows, |_, _| {
        Ok(Vec::new())
    })
    .unwrap()
}

fn render(r: &report::Report, reporter: &dyn Reporter) -> Vec<u8> {
    let mut out = Vec::new();
    reporter.write(r, &mut out).unwrap();
    out
}

/// Decodes a PNG far enough to prove it is whole: signature, IHDR, every chunk in bounds, IDAT
/// inflates to exactly height x (1 + width x bytes per pixel). Returns (width, height).
fn decode_png(path: &Path) -> (u32, u32) {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{}: not a PNG", path.display());
    let mut pos = 8;
    let (mut w, mut h, mut bpp) = (0u32, 0u32, 0usize);
    let mut idat = Vec::new();
    let mut ended = false;
    while pos + 8 <= bytes.len() {
        let len = u32::from_be_bytes(bytes[pos..pos + 4].try_into().unwrap()) as usize;
        let kind = &bytes[pos + 4..pos + 8];
        assert!(pos + 12 + len <= bytes.len(), "{}: chunk past the end", path.display());
        let data = &bytes[pos + 8..pos + 8 + len];
        match kind {
            b"IHDR" => {
                w = u32::from_be_bytes(data[0..4].try_into().unwrap());
                h = u32::from_be_bytes(data[4..8].try_into().unwrap());
                assert_eq!(data[8], 8, "bit depth");
                bpp = match data[9] {
                    2 => 3,
                    6 => 4,
                    t => panic!("{}: colour type {t}", path.display()),
                };
            }
            b"IDAT" => idat.extend_from_slice(data),
            b"IEND" => ended = true,
            _ => {}
        }
        pos += 12 + len;
    }
    assert!(ended, "{}: no IEND", path.display());
    let mut raw = Vec::new();
    flate2::read::ZlibDecoder::new(&idat[..]).read_to_end(&mut raw).unwrap();
    assert_eq!(raw.len(), h as usize * (1 + w as usize * bpp), "{}: pixel data size", path.display());
    (w, h)
}

/// The text of every `<text>` element of an SVG, trimmed.
fn svg_texts(svg: &str) -> Vec<String> {
    svg.split("<text")
        .skip(1)
        .filter_map(|t| {
            let body = &t[t.find('>')? + 1..];
            Some(body[..body.find("</text>")?].trim().to_string())
        })
        .collect()
}

#[test]
fn bundle_has_every_file_and_the_librarys_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("bundle");
    // An empty cache: the bundle then has no decoder-cost section (it appears when `weightstream
    // cost` has left the costs of this design point in the cache).
    let empty_cache = tempfile::tempdir().unwrap();
    let status = cli()
        .env("WEIGHTSTREAM_CACHE", empty_cache.path())
        .args(["report", "--model", "synthetic:mobilenet_v2", "--quiet", "--out"])
        .arg(&out)
        .args(["--dram-pj-per-bit", "10", "--sram-pj-per-bit", "0.5", "--clock-mhz", "500", "--dram-gbps", "12.8"])
        .status()
        .unwrap();
    assert!(status.success());

    // Every file, as the manifest lists them.
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    let files: Vec<&str> = manifest["files"].as_array().unwrap().iter().map(|f| f.as_str().unwrap()).collect();
    for f in [
        "index.html",
        "report.md",
        "layers.csv",
        "report.json",
        "energy.csv",
        "command.txt",
        "manifest.json",
        "charts/bits.png",
        "charts/bits.svg",
        "charts/saved.png",
        "charts/saved.svg",
        "charts/density.png",
        "charts/density.svg",
        "charts/energy.png",
        "charts/energy.svg",
        "charts/delivered.png",
        "charts/delivered.svg",
    ] {
        assert!(files.contains(&f), "manifest misses {f}");
    }
    for f in &files {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    assert!(!out.join("charts/rtl_cycles.png").exists(), "RTL chart without --rtl");
    assert_eq!(manifest["tool"], format!("weightstream {}", env!("CARGO_PKG_VERSION")));
    assert_eq!(manifest["energy"]["dram_pj_per_bit"], 10.0);
    assert_eq!(manifest["prepare"]["sparsity"], 0.7);
    let command = std::fs::read_to_string(out.join("command.txt")).unwrap();
    assert!(command.contains(" report --model synthetic:mobilenet_v2 --quiet --out "), "{command}");

    // CSV and JSON: byte for byte what the library writes for the same report, every format at
    // the --clock-mhz clock (no Fmax in an empty cache).
    let mut r = synthetic_report(0.7);
    rate::apply(&mut r, &Clocks::user(500.0));
    assert_eq!(std::fs::read(out.join("layers.csv")).unwrap(), render(&r, &CsvReporter));
    assert_eq!(std::fs::read(out.join("report.json")).unwrap(), render(&r, &JsonReporter));
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(json["layers"][5]["formats"][3]["bus_words"].as_u64().unwrap(), r.layers[5].formats[3].bus_words);

    // Energy by hand for one layer: bits x pJ/bit, load time = max(bits / bandwidth, cycles / clock).
    let l = &r.layers[7];
    let csc = &l.formats[3];
    let mut rd = csv::Reader::from_path(out.join("energy.csv")).unwrap();
    let headers = rd.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let rec = rd
        .records()
        .map(|x| x.unwrap())
        .find(|rec| rec[col("layer")] == l.name && &rec[col("format")] == "csc")
        .unwrap();
    let num = |name: &str| rec[col(name)].parse::<f64>().unwrap();
    let bits = csc.total_bits as f64;
    assert_eq!(num("bits"), bits);
    assert!((num("dram_pj") - bits * 10.0).abs() < 1e-6);
    assert!((num("sram_pj") - bits * 0.5).abs() < 1e-6);
    assert!((num("total_pj") - bits * 10.5).abs() < 1e-6);
    let dram_us = bits / 8.0 / 12.8e9 * 1e6;
    let decode_us = l.beats.max(csc.bus_words) as f64 / 500e6 * 1e6;
    assert!((num("dram_us") - dram_us).abs() < 1e-9);
    assert!((num("decode_us") - decode_us).abs() < 1e-9);
    assert!((num("load_us") - dram_us.max(decode_us)).abs() < 1e-9);
    assert_eq!(&rec[col("bound")], if dram_us >= decode_us { "DRAM" } else { "decoder" });
    assert_eq!((num("clock_mhz"), &rec[col("clock_source")]), (500.0, "user"));
    // The library agrees, with the Horowitz defaults.
    let e = energy::estimate(&r, &EnergyParams::default()).unwrap();
    assert_eq!(e.layers[7].formats[3].dram_pj, bits * 20.0);
    assert_eq!(e.layers[7].formats[3].sram_pj, bits * 0.15625);

    // Charts: PNGs decode to their drawn size; SVGs carry layer names and axis labels.
    for name in ["bits", "saved", "density", "energy"] {
        let (w, h) = decode_png(&out.join(format!("charts/{name}.png")));
        assert!(w >= 53 * 30 && h >= 500, "{name}: {w}x{h}");
        let svg = std::fs::read_to_string(out.join(format!("charts/{name}.svg"))).unwrap();
        assert!(svg.starts_with("<svg"), "{name}");
        assert!(svg.contains(&format!("width=\"{w}\"")), "{name}: SVG and PNG sizes differ");
        let texts = svg_texts(&svg);
        for label in ["f0.0", "f3.c1.0", "f18.0", "cls1"] {
            assert!(texts.iter().any(|t| t == label), "{name}.svg lacks {label}");
        }
        assert!(texts.iter().any(|t| t.starts_with("layer (abbreviated")), "{name}.svg lacks the x label");
    }
    // The delivered-rate chart: one point per format, each legend entry with its clock.
    let (w, h) = decode_png(&out.join("charts/delivered.png"));
    assert!(w >= 1000 && h >= 500, "delivered: {w}x{h}");
    let delivered_svg = svg_texts(&std::fs::read_to_string(out.join("charts/delivered.svg")).unwrap());
    for f in Format::ALL {
        let t = &r.totals.formats.iter().find(|x| x.format == f).unwrap();
        if !t.applies() {
            // A format that does not apply to every layer has no model total to plot.
            assert!(!delivered_svg.iter().any(|x| x.starts_with(&format!("{f}: "))), "delivered.svg plots n/a {f}");
            continue;
        }
        let entry = format!("{f}: {:.1}% saved, {:.0} M w/s = 500 MHz (--clock-mhz)", t.saved_pct, t.delivered.mw_s());
        assert!(delivered_svg.iter().any(|x| x.starts_with(&entry)), "delivered.svg lacks {entry}");
    }
    assert!(delivered_svg.iter().any(|t| t == "bus words saved vs dense, whole model, %"));
    let bits_svg = svg_texts(&std::fs::read_to_string(out.join("charts/bits.svg")).unwrap());
    assert!(bits_svg.iter().any(|t| t == "kbit") && bits_svg.iter().any(|t| t == "% of dense bits"));
    let saved_svg = svg_texts(&std::fs::read_to_string(out.join("charts/saved.svg")).unwrap());
    assert!(saved_svg.iter().any(|t| t == "bus words saved vs dense, %"));
    let total = format!("csc model total {:.1}%", r.totals.formats[3].saved_pct);
    assert!(saved_svg.contains(&total), "{total}");

    // HTML: static, nothing from outside, every image there; Markdown has the same sections.
    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(!html.to_lowercase().contains("<script"));
    assert!(!html.contains("http://") && !html.contains("https://") && !html.contains("src=\"/"));
    let srcs: Vec<&str> = html.split("src=\"").skip(1).map(|s| &s[..s.find('"').unwrap()]).collect();
    assert_eq!(srcs.len(), 5);
    for s in &srcs {
        assert!(out.join(s).is_file(), "{s}");
    }
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    for section in ["Summary (all layers)", "Charts", "Per layer", "Energy and load time per layer", "Files"] {
        assert!(html.contains(&format!(">{section}<")) && md.contains(&format!("## {section}")), "{section}");
    }
    assert!(html.contains("Horowitz") && md.contains("Horowitz"));
    // No Fmax known: every figure says it used the clock the user set.
    assert!(md.contains("Clocks: dense 500 MHz (--clock-mhz), bitmap 500 MHz (--clock-mhz)"), "{md}");
    assert!(md.contains("![Bandwidth saved vs delivered weights per second](charts/delivered.png)"));
    assert_eq!(manifest["clocks"][1]["source"], "user");
    assert_eq!(manifest["clocks"][1]["mhz"], 500.0);
    assert!(md.contains("![Where the bits go](charts/bits.png)"));
}

#[cfg(feature = "rtl")]
#[test]
fn rtl_bundle_has_cycle_charts() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("b");
    let status = cli()
        .args(["report", "--model", "synthetic:resnet18", "--sparsity", "0.8", "--rtl", "--quiet", "--out"])
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success());
    for name in ["rtl_cycles", "rtl_stalls"] {
        decode_png(&out.join(format!("charts/{name}.png")));
        let svg = std::fs::read_to_string(out.join(format!("charts/{name}.svg"))).unwrap();
        assert!(svg.contains("cycles"), "{name}");
    }
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    let rtl = &json["layers"][0]["formats"][1]["rtl"];
    assert!(rtl["cycles"].as_u64().unwrap() > 0);
    // Decode time in energy.csv is the measured cycles.
    let energy = std::fs::read_to_string(out.join("energy.csv")).unwrap();
    let line = energy.lines().nth(2).unwrap();
    assert!(line.contains(&format!(",{},true,", rtl["cycles"])), "{line}");
}

fn write_json(r: &report::Report, path: &Path) {
    std::fs::write(path, render(r, &JsonReporter)).unwrap();
}

#[test]
fn diff_of_two_sparsities() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.json"), dir.path().join("b.json"));
    let (ra, rb) = (synthetic_report(0.5), synthetic_report(0.9));
    write_json(&ra, &a);
    write_json(&rb, &b);
    let out = cli().arg("diff").arg(&a).arg(&b).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("settings that differ: prepare.sparsity: 0.5 -> 0.9"), "{text}");
    for (i, la) in ra.layers.iter().enumerate() {
        let lb = &rb.layers[i];
        for (fa, fb) in la.formats.iter().zip(&lb.formats) {
            let line = text
                .lines()
                .find(|l| {
                    let mut w = l.split_whitespace();
                    w.next() == Some(la.name.as_str()) && w.next() == Some(fa.format.name())
                })
                .unwrap_or_else(|| panic!("no line for {} {}", la.name, fa.format));
            let cells: Vec<&str> = line.split_whitespace().collect();
            assert_eq!(cells[2].parse::<u64>().unwrap(), fa.bus_words, "{line}");
            assert_eq!(cells[3].parse::<u64>().unwrap(), fb.bus_words, "{line}");
            assert_eq!(cells[4].parse::<i64>().unwrap(), fb.bus_words as i64 - fa.bus_words as i64, "{line}");
            let pp: f64 = cells[8].parse().unwrap();
            assert!((pp - (fb.saved_pct - fa.saved_pct)).abs() < 0.051, "{line}");
        }
    }
    // Sparser means fewer compressed words everywhere, the same dense words.
    let total_csc = text.lines().find(|l| l.starts_with("TOTAL") && l.contains(" csc ")).unwrap();
    assert!(total_csc.split_whitespace().nth(4).unwrap().starts_with('-'), "{total_csc}");
    let total_dense = text.lines().find(|l| l.starts_with("TOTAL") && l.contains(" dense ")).unwrap();
    assert_eq!(total_dense.split_whitespace().nth(4), Some("+0"), "{total_dense}");
    assert!(!text.contains("only in"));
}

#[test]
fn diff_fails_with_one_line_on_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.json");
    std::fs::write(
        &good,
        r#"{"model":"m","layers":[{"name":"x","formats":[{"format":"dense","bus_words":4,"saved_pct":0.0}]}]}"#,
    )
    .unwrap();
    let garbage = dir.path().join("garbage.json");
    std::fs::write(&garbage, "not json at all\n").unwrap();
    let other = dir.path().join("other.json");
    std::fs::write(
        &other,
        r#"{"model":"m","layers":[{"name":"y","formats":[{"format":"dense","bus_words":4,"saved_pct":0.0}]}]}"#,
    )
    .unwrap();
    let missing = dir.path().join("missing.json");
    for (b, expect) in
        [(&garbage, "not a weightstream report.json"), (&missing, "cannot read"), (&other, "no layer in common")]
    {
        let out = cli().arg("diff").arg(&good).arg(b).output().unwrap();
        assert!(!out.status.success());
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.starts_with("weightstream: error:") && err.contains(expect), "{err}");
        assert!(out.stdout.is_empty());
    }
}

fn front_end_cost(format: Format, fpga: Fpga) -> Cost {
    Cost {
        unit: Unit::FrontEnd,
        module: "ws_front_end".into(),
        format: format.name().into(),
        point: "n16_q8_b64".into(),
        params: Vec::new(),
        cells: 1000,
        cells_by_kind: Default::default(),
        flip_flops: 100,
        memory_bits: 0,
        logic_levels: 20,
        path_from: String::new(),
        path_to: String::new(),
        synth_seconds: 0.0,
        fpga,
        tools: "test".into(),
        key: String::new(),
    }
}

fn placed(fmax_mhz: f64) -> Fpga {
    Fpga::Placed { lcs: 5000, brams: 0, ios: 16, fmax_mhz, seconds: 0.0 }
}

/// The summary's best format is the one that loads fastest with each decoder at its own clock: the
/// format that saves the most words loses when its decoder is slow. A synthetic cost table (no
/// synthesis): the most-saving format at 8 MHz, every other one at 48 MHz, one not placed.
#[test]
fn best_format_uses_each_decoders_clock() {
    let r = synthetic_report(0.7);
    let opts = BundleOptions { command: vec!["weightstream".into()], energy: EnergyParams::default() };
    let most = r
        .totals
        .formats
        .iter()
        .filter(|f| f.format != Format::Dense && f.applies())
        .max_by(|a, b| a.saved_pct.total_cmp(&b.saved_pct))
        .unwrap()
        .format;
    let unplaced = Format::ALL.iter().copied().find(|&f| f != Format::Dense && f != most).unwrap();
    let costs: Vec<Cost> = Format::ALL
        .iter()
        .map(|&f| {
            let fpga = if f == most {
                placed(8.0)
            } else if f == unplaced {
                Fpga::DoesNotFit { reason: "needs 9,000 LCs, HX8K has 7,680".into(), lcs: Some(9000), seconds: 0.0 }
            } else {
                placed(48.0)
            };
            front_end_cost(f, fpga)
        })
        .collect();

    // Load time by hand: per layer max(DRAM time, max(beats, words) / the format's clock).
    let load = |f: Format, mhz: f64| -> f64 {
        r.layers
            .iter()
            .map(|l| {
                let x = l.formats.iter().find(|x| x.format == f).unwrap();
                let dram = x.total_bits as f64 / 8.0 / (energy::DEFAULT_DRAM_GBPS * 1e9);
                dram.max(l.beats.max(x.bus_words) as f64 / (mhz * 1e6))
            })
            .sum()
    };
    let words = |f: Format| r.totals.formats.iter().find(|x| x.format == f).unwrap().bus_words;
    // The shortest load time, and within 1% of it the fewest words.
    let fastest = |clock: &dyn Fn(Format) -> f64, skip: Option<Format>| {
        // Compressed formats that apply to every layer (nm does not: the layers are not 2:4).
        let applies = |f: Format| r.totals.formats.iter().find(|x| x.format == f).unwrap().applies();
        let formats: Vec<Format> =
            Format::ALL.iter().copied().filter(|&f| f != Format::Dense && Some(f) != skip && applies(f)).collect();
        let shortest = formats.iter().map(|&f| load(f, clock(f))).fold(f64::INFINITY, f64::min);
        formats.into_iter().filter(|&f| load(f, clock(f)) <= shortest * 1.01).min_by_key(|&f| words(f)).unwrap()
    };
    // At one clock for all, the ideal decoders mostly take beats cycles: the words decide, and the
    // format saving the most is best.
    let same = tempfile::tempdir().unwrap();
    let summary = write_bundle_with_cost(&r, same.path(), &opts, &[]).unwrap();
    let one = |_: Format| energy::DEFAULT_CLOCK_MHZ;
    assert_eq!(weightstream::report::bundle::best_format(&r, &summary.energy), Some(fastest(&one, None)));
    assert_eq!(fastest(&one, None), most);

    let dir = tempfile::tempdir().unwrap();
    let summary = write_bundle_with_cost(&r, dir.path(), &opts, &costs).unwrap();
    let e = &summary.energy;
    let clock = |f: Format| {
        if f == most {
            8.0
        } else if f == unplaced {
            energy::DEFAULT_CLOCK_MHZ
        } else {
            48.0
        }
    };
    let nm = e.totals.formats.iter().find(|t| t.format == Format::Nm).unwrap();
    assert!(!nm.applies && nm.load_s == 0.0 && nm.bits == 0, "nm applies to no layer: no model figures");
    for t in e.totals.formats.iter().filter(|t| t.applies) {
        let by_hand = load(t.format, clock(t.format));
        assert!((t.load_s - by_hand).abs() <= 1e-9 * by_hand, "{}", t.format);
        assert_eq!(t.clock_mhz, clock(t.format), "{}", t.format);
    }
    // The expected best: the fastest load among the compressed formats with a measured Fmax (the
    // unplaced one runs at the assumed 1000 MHz and is left out of the choice).
    let expect = fastest(&clock, Some(unplaced));
    let best = weightstream::report::bundle::best_format(&r, e).unwrap();
    assert_eq!(best, expect);
    assert_ne!(best, most, "the slow decoder must not be best");
    let md = std::fs::read_to_string(dir.path().join("report.md")).unwrap();
    assert!(
        md.contains(&format!("Best format (shortest load time, each decoder at its own clock; within 1% of it, fewest words): {best} saves")),
        "{md}"
    );
    assert!(md.contains(&format!("{most} saves the most words")), "{md}");
    assert!(md.contains(&format!("{most} 8 MHz (Fmax)")), "{md}");
    assert!(md.contains(&format!("{unplaced} 1000 MHz (--clock-mhz)")), "{md}");
    assert!(md.contains("compare those with care"), "{md}");
    assert!(md.contains(&format!("without a measured Fmax ({unplaced}) are timed at the 1000 MHz")), "{md}");

    // The report inside the bundle carries the clocks, and the rates follow from them.
    let csv = std::fs::read_to_string(dir.path().join("layers.csv")).unwrap();
    let mut rd = csv::Reader::from_reader(csv.as_bytes());
    let headers = rd.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let total = rd
        .records()
        .map(|x| x.unwrap())
        .find(|rec| &rec[col("layer")] == "TOTAL" && rec[col("format")] == *most.name())
        .unwrap();
    assert_eq!(&total[col("clock_source")], "fmax");
    assert_eq!(total[col("clock_mhz")].parse::<f64>().unwrap(), 8.0);
    assert_eq!(&total[col("cycles_source")], "ideal");
    let t = r.totals.formats.iter().find(|x| x.format == most).unwrap();
    let cycles: u64 = r
        .layers
        .iter()
        .map(|l| {
            let x = l.formats.iter().find(|x| x.format == most).unwrap();
            l.beats.max(x.bus_words)
        })
        .sum();
    assert_eq!(total[col("decode_cycles")].parse::<u64>().unwrap(), cycles);
    let rate = total[col("delivered_weights_per_s")].parse::<f64>().unwrap();
    let expect_rate = 8e6 * r.totals.beats as f64 / cycles as f64 * 16.0;
    assert!((rate - expect_rate).abs() < 1e-6 * expect_rate, "{rate} vs {expect_rate}");
    assert!(t.bus_words > 0);
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("report.json")).unwrap()).unwrap();
    let i = Format::ALL.iter().position(|&f| f == most).unwrap();
    assert_eq!(json["totals"]["formats"][i]["delivered"]["clock_source"], "fmax");
    assert_eq!(json["totals"]["formats"][0]["delivered"]["clock_mhz"], 48.0);
    // The chart is there, whole.
    let (w, h) = decode_png(&dir.path().join("charts/delivered.png"));
    assert!(w > 0 && h > 0);
    assert!(std::fs::metadata(dir.path().join("charts/delivered.svg")).unwrap().len() > 1000);
}
