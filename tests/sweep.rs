//! `weightstream sweep`: its words agree with `report` run separately at every point (row blocks
//! included), the Pareto marking on a hand-made example, one-line errors for bad list values.

use weightstream::formats::Format;
use weightstream::sweep::{mark_pareto, pareto_front, FrontEndCost, SweepRow};

use crate::util::cli;

const MODEL: &str = "synthetic:mobilenet_v2";

/// Starts the CLI with a whitespace-separated argument line.
fn spawn(line: &str) -> std::process::Child {
    cli()
        .args(line.split_whitespace())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

fn wait_ok(child: std::process::Child, what: &str) {
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{what}: {}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn sweep_words_equal_report_at_every_point() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let points = [("8", "0.5"), ("8", "0.9"), ("16", "0.5"), ("16", "0.9")];
    // MAX_O = 100 splits every layer taller than 100 rows into row blocks. `report` runs alone
    // at each point, all at once with the sweep.
    let common = format!("--model {MODEL} --bus-bits 32 --max-rows 100");
    let sweep = spawn(&format!("sweep {common} --lanes 8,16 --sparsity 0.5,0.9 --no-cost --csv {d}/sweep.csv"));
    let reports: Vec<_> = points
        .iter()
        .map(|(n, s)| spawn(&format!("report {common} --lanes {n} --sparsity {s} --quiet --json {d}/r{n}_{s}.json")))
        .collect();
    wait_ok(sweep, "sweep");
    for (r, p) in reports.into_iter().zip(&points) {
        wait_ok(r, &format!("report at {p:?}"));
    }
    let text = std::fs::read_to_string(dir.path().join("sweep.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap_or_else(|| panic!("no column {name}"));
    let rows: Vec<Vec<String>> = lines.map(|l| l.split(',').map(str::to_string).collect()).collect();
    // Every format but nm, which applies to no layer here (not 2:4): no row.
    assert_eq!(rows.len(), points.len() * (Format::ALL.len() - 1), "{text}");
    let mut checked = 0;
    for (lanes, sparsity) in points {
        let json = dir.path().join(format!("r{lanes}_{sparsity}.json"));
        let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
        let totals = &v["totals"];
        let blocks = totals["blocks"].as_u64().unwrap();
        assert!(blocks > v["layers"].as_array().unwrap().len() as u64, "MAX_O 100 makes row blocks");
        let dense = totals["formats"][0]["bus_words"].as_u64().unwrap();
        for f in totals["formats"].as_array().unwrap() {
            let format = f["format"].as_str().unwrap();
            if f.get("not_applicable").is_some() {
                assert!(!rows.iter().any(|r| r[col("format")] == format), "a sweep row for n/a {format}");
                continue;
            }
            let row = rows
                .iter()
                .find(|r| r[col("N")] == lanes && r[col("sparsity")] == sparsity && r[col("format")] == format)
                .unwrap_or_else(|| panic!("no sweep row N={lanes} s={sparsity} {format}"));
            assert_eq!(row[col("words")], f["bus_words"].as_u64().unwrap().to_string(), "{format} N={lanes}");
            assert_eq!(row[col("dense_words")], dense.to_string());
            assert_eq!(row[col("blocks")], blocks.to_string());
            assert_eq!(row[col("saved_pct")], format!("{:.3}", f["saved_pct"].as_f64().unwrap()));
            assert_eq!(row[col("MAX_O")], "100");
            assert_eq!(row[col("cells")], "", "--no-cost leaves the cost empty");
            checked += 1;
        }
    }
    assert_eq!(checked, rows.len());
}

#[test]
fn pareto_front_on_a_hand_made_example() {
    let pairs = [
        (100.0, 10.0), // front
        (200.0, 30.0), // front
        (150.0, 5.0),  // dominated by (100, 10)
        (200.0, 20.0), // dominated by (200, 30): same cost, saves less
        (300.0, 30.0), // dominated by (200, 30): same saving, costs more
        (50.0, -5.0),  // front: the cheapest
        (100.0, 10.0), // equal to the first: both stay
        (f64::NAN, 99.0),
        (400.0, 31.0), // front: saves the most
    ];
    assert_eq!(pareto_front(&pairs), [true, true, false, false, false, true, true, false, true]);
    assert_eq!(pareto_front(&[]), Vec::<bool>::new());

    // Grouped per sparsity: the 0.9 rows save more but do not push the 0.5 rows off their front;
    // a row without a cost is never on it.
    let row = |sparsity: f64, format: Format, cells: Option<u64>, saved_pct: f64| SweepRow {
        model: "m".into(),
        sparsity,
        bits: 8,
        lanes: 8,
        bus_bits: 32,
        run_bits: 4,
        count_bits: 16,
        act_bits: 8,
        acc_bits: 32,
        max_rows: 1280,
        point: "p".into(),
        format,
        words: 0,
        dense_words: 0,
        saved_pct,
        blocks: 1,
        cost: cells.map(|cells| FrontEndCost { cells, flip_flops: 0, logic_levels: 0, fmax_mhz: None }),
        rtl_cycles: None,
        rtl_mismatches: None,
        pareto: false,
    };
    let mut rows = vec![
        row(0.5, Format::Dense, Some(100), 0.0),
        row(0.5, Format::Bitmap, Some(200), 30.0),
        row(0.5, Format::Csc, Some(300), 20.0),
        row(0.9, Format::Dense, Some(100), 0.0),
        row(0.9, Format::Bitmap, Some(200), 70.0),
        row(0.9, Format::Csc, Some(300), 80.0),
        row(0.9, Format::DeltaBitmap, None, 95.0),
    ];
    mark_pareto(&mut rows);
    let marks: Vec<bool> = rows.iter().map(|r| r.pareto).collect();
    assert_eq!(marks, [true, true, false, true, true, true, false]);
}

#[test]
fn bad_values_give_one_line_errors() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.pth");
    std::fs::write(&model, b"not a model").unwrap();
    let model_s = model.to_string_lossy().into_owned();
    let cases: [(&[&str], &[&str]); 6] = [
        (&["--lanes", "8,x"], &["--lanes", "\"x\""]),
        (&["--lanes", "8,0"], &["--lanes 0"]),
        (&["--bus-bits", "32,12"], &["--bus-bits 12"]),
        (&["--sparsity", "0.5,1.5"], &["--sparsity 1.5"]),
        (&["--max-rows", "100,"], &["--max-rows", "\"\""]),
        (&["--model", &model_s, "--csv", &model_s], &["m.pth", "refusing to overwrite"]),
    ];
    for (args, needles) in cases {
        let mut all = vec!["sweep", "--no-cost"];
        if !args.contains(&"--model") {
            all.extend(["--model", MODEL]);
        }
        all.extend_from_slice(args);
        let out = cli().args(&all).env("RUST_BACKTRACE", "1").output().unwrap();
        assert!(!out.status.success(), "{all:?} succeeded");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{all:?}: not one line: {err}");
        for n in needles {
            assert!(err.contains(n), "{all:?}: {err:?} lacks {n:?}");
        }
    }
    assert_eq!(std::fs::read(&model).unwrap(), b"not a model", "the model file is untouched");
}

#[test]
fn sharded_sweep_merges_to_the_unsharded_one() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let args = format!("sweep --model {MODEL} --lanes 8,16 --bus-bits 32 --sparsity 0.5,0.9 --bits 4,8 --no-cost");
    let mut runs = vec![spawn(&format!("{args} --json {d}/whole.json --csv {d}/whole.csv"))];
    for i in 0..3 {
        runs.push(spawn(&format!("{args} --shard {i}/3 --json {d}/part{i}.json")));
    }
    for (i, r) in runs.into_iter().enumerate() {
        wait_ok(r, &format!("run {i}"));
    }
    wait_ok(
        spawn(&format!(
            "merge {d}/part2.json {d}/part0.json {d}/part1.json --json {d}/merged.json --csv {d}/merged.csv"
        )),
        "merge",
    );
    for f in ["json", "csv"] {
        let whole = std::fs::read(format!("{d}/whole.{f}")).unwrap();
        assert_eq!(whole, std::fs::read(format!("{d}/merged.{f}")).unwrap(), "{f}");
        assert!(whole.len() > 1000);
    }
    // Two shards of three do not make a sweep.
    let out = cli().args(["merge", &format!("{d}/part0.json"), &format!("{d}/part1.json")]).output().unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("shards missing: 2/3"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `sweep --rtl --shard I/N`: each shard co-simulates its own settings only, and merging the
/// partials gives the unsharded co-simulated sweep byte for byte, at 1 and at 3 shards (3 shards
/// of 2 settings: one is empty). The point is the built-in n16_q8_b64, so nothing is verilated.
#[cfg(feature = "rtl")]
#[test]
fn sharded_rtl_sweep_merges_to_the_unsharded_one() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let args = format!("sweep --model {MODEL} --sparsity 0.5,0.9 --no-cost");
    let mut runs = vec![
        spawn(&format!("{args} --rtl --json {d}/whole.json --csv {d}/whole.csv")),
        spawn(&format!("{args} --rtl --shard 0/1 --json {d}/one.json")),
        // Not co-simulated: a shard of another run.
        spawn(&format!("{args} --shard 1/3 --json {d}/plain1.json")),
    ];
    for i in 0..3 {
        runs.push(spawn(&format!("{args} --rtl --shard {i}/3 --json {d}/part{i}.json")));
    }
    for (i, r) in runs.into_iter().enumerate() {
        wait_ok(r, &format!("run {i}"));
    }
    let merge = |partials: &[&str], to: &str| {
        let files: Vec<String> = partials.iter().map(|p| format!("{d}/{p}.json")).collect();
        cli()
            .arg("merge")
            .args(&files)
            .args(["--json", &format!("{d}/{to}.json"), "--csv", &format!("{d}/{to}.csv")])
            .output()
            .unwrap()
    };
    for (partials, to) in [(&["one"][..], "merged1"), (&["part2", "part0", "part1"][..], "merged3")] {
        let out = merge(partials, to);
        assert!(out.status.success(), "merge {partials:?}: {}", String::from_utf8_lossy(&out.stderr));
        for f in ["json", "csv"] {
            let whole = std::fs::read_to_string(format!("{d}/whole.{f}")).unwrap();
            assert_eq!(whole, std::fs::read_to_string(format!("{d}/{to}.{f}")).unwrap(), "{to}.{f}");
        }
    }
    // The RTL ran: every row has cycles and no mismatch.
    let whole: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{d}/whole.json")).unwrap()).unwrap();
    let rows = whole["rows"].as_array().unwrap();
    // Every format but nm, which applies to no layer of the unstructured pruning: no row.
    assert_eq!(rows.len(), 2 * (Format::ALL.len() - 1));
    assert!(rows.iter().all(|r| r["format"] != "nm"));
    for r in rows {
        assert!(r["rtl_cycles"].as_u64().unwrap() > 0, "{r}");
        assert_eq!(r["rtl_mismatches"].as_u64(), Some(0), "{r}");
    }
    // Shard i of 3 measured setting i only (the sparsity-major order), co-simulated.
    for i in 0..3usize {
        let part: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(format!("{d}/part{i}.json")).unwrap()).unwrap();
        let items = part["items"].as_array().unwrap();
        let settings: Vec<u64> = items.iter().map(|it| it[0].as_u64().unwrap()).collect();
        assert_eq!(settings, if i < 2 { vec![i as u64] } else { vec![] }, "shard {i}/3");
        for it in items {
            assert!(it[1].as_array().unwrap().iter().all(|r| r["rtl_cycles"].as_u64().is_some()), "shard {i}/3");
        }
    }
    // A shard missing, and a shard that was not co-simulated, are refused.
    for (partials, needle) in
        [(&["part0", "part1"][..], "shards missing: 2/3"), (&["part0", "plain1", "part2"][..], "of another run")]
    {
        let out = merge(partials, "bad");
        assert!(!out.status.success(), "merge {partials:?} succeeded");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "merge {partials:?}: {err}");
    }
}
