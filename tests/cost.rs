//! `weightstream cost`: rtl/ws_front_end.v lints clean at every FORMAT and both built-in sets and
//! compiles under Icarus; the front end of every format synthesizes at n8_q4_b32 with no latch
//! and plausible numbers; a second call comes from the cache, identical and quick (also through
//! the CLI, with --csv); an illegal design point is a one-line error. Synthesis is kept small (n8
//! front ends, no place and route: about 30 s on 2 cores); skipped with a reason without yosys.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use weightstream::cost::{self, CostError, CostOptions, CostRequest, Fpga, Unit};
use weightstream::rtl::facts;
use weightstream::Format;

use crate::util::cli;

fn rtl() -> &'static str {
    concat!(env!("CARGO_MANIFEST_DIR"), "/rtl")
}

fn have(tool: &str, arg: &str) -> bool {
    Command::new(tool).arg(arg).output().is_ok_and(|o| o.status.success())
}

#[test]
fn front_end_lints_at_every_format_and_set_and_compiles_under_icarus() {
    let file = format!("{}/{}.v", rtl(), facts().front_end);
    for set in facts().set_names() {
        let p = facts().set(set).unwrap();
        for f in &facts().formats {
            let mut g: Vec<String> = p.params().iter().map(|(n, v)| format!("-G{n}={v}")).collect();
            g.push(format!("-GFORMAT={}", f.code));
            let out = Command::new("verilator")
                .args([
                    "--lint-only",
                    "-Wall",
                    &format!("-I{}", rtl()),
                    "-y",
                    rtl(),
                    "--top-module",
                    &facts().front_end,
                ])
                .args(&g)
                .arg(&file)
                .output()
                .expect("verilator runs (scripts/setup installs it)");
            let text = String::from_utf8_lossy(&out.stderr);
            assert!(out.status.success() && !text.contains("%Warning"), "{set} {}: {text}", f.name);
            let mut ic = Command::new("iverilog");
            ic.args(["-g2012", &format!("-I{}", rtl()), "-y", rtl(), "-o", "/dev/null"]);
            for (n, v) in p.params() {
                ic.arg(format!("-P{}.{n}={v}", facts().front_end));
            }
            let out = ic
                .arg(format!("-P{}.FORMAT={}", facts().front_end, f.code))
                .arg(&file)
                .output()
                .expect("iverilog runs (scripts/setup installs it)");
            assert!(out.status.success(), "iverilog {set} {}: {}", f.name, String::from_utf8_lossy(&out.stderr));
        }
    }
}

#[test]
fn front_ends_synthesize_at_n8_then_come_from_the_cache() {
    if !have("yosys", "-V") {
        eprintln!("skipped: yosys is not installed (scripts/setup installs it)");
        return;
    }
    let cache = tempfile::tempdir().unwrap();
    let opts = CostOptions { cache_dir: cache.path().join("cost"), fpga: false, jobs: 2, ..Default::default() };
    let point = facts().set("n8_q4_b32").unwrap();
    let reqs: Vec<CostRequest> =
        Format::ALL.iter().map(|&format| CostRequest { unit: Unit::FrontEnd, format, point }).collect();
    let t = Instant::now();
    let first: Vec<_> = cost::cost_all(&reqs, &opts, &|_| {}).into_iter().map(|r| r.unwrap()).collect();
    eprintln!("n8 front ends synthesized in {:.1} s", t.elapsed().as_secs_f64());
    for r in &first {
        let c = &r.cost;
        assert!(!r.from_cache, "{}", c.format);
        assert_eq!(c.module, facts().front_end);
        assert_eq!(c.point, "n8_q4_b32");
        assert!(c.cells > 100 && c.flip_flops > 50 && c.logic_levels > 5, "{c:?}");
        assert!(c.cells_by_kind.values().sum::<u64>() == c.cells, "{}: kinds add up to the total", c.format);
        assert!(c.cells_by_kind.keys().all(|k| !k.to_lowercase().contains("latch")), "{}: a latch", c.format);
        assert!(c.flip_flops < c.cells);
        assert!(!c.path_from.is_empty() && !c.path_to.is_empty());
        assert!(matches!(c.fpga, Fpga::Skipped { .. }));
        for log in ["yosys.log", "stat.txt", "ltp.txt", "result.json"] {
            assert!(r.dir.join(log).is_file(), "{}: {log} kept", c.format);
        }
    }
    // The formats differ where they must: only delta-bitmap keeps a per-row state memory, and the
    // CSC decoder (N+1 candidate entries, prefix sums) is deeper than dense.
    let by = |f: Format| &first.iter().find(|r| r.cost.format == f.name()).unwrap().cost;
    assert!(by(Format::DeltaBitmap).memory_bits > 0 && by(Format::Dense).memory_bits == 0);
    assert!(by(Format::Csc).logic_levels > by(Format::Dense).logic_levels);
    assert!(by(Format::Bitmap).cells > by(Format::Dense).cells);

    // Second call: the cache, identical, quick.
    let t = Instant::now();
    let second: Vec<_> = cost::cost_all(&reqs, &opts, &|_| {}).into_iter().map(|r| r.unwrap()).collect();
    assert!(t.elapsed().as_secs_f64() < 2.0, "cache hits took {:?}", t.elapsed());
    for (a, b) in first.iter().zip(&second) {
        assert!(b.from_cache);
        assert_eq!(a.cost, b.cost);
    }
    assert_eq!(cost::cached(&reqs[3], &opts).unwrap().cost, first[3].cost);
    // A front end does not depend on QA / ACC: another PE array width is the same entry.
    let mut wide = reqs[1];
    wide.point.acc_bits = 48;
    assert_eq!(cost::cached(&wide, &opts).unwrap().cost, first[1].cost);

    // The CLI reads the same cache (WEIGHTSTREAM_CACHE) and writes the CSV.
    let csv = cache.path().join("cost.csv");
    let out = cli()
        .env("WEIGHTSTREAM_CACHE", cache.path())
        .args(["cost", "--rtl-config", "n8_q4_b32", "--no-fpga", "--csv"])
        .arg(&csv)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let table = String::from_utf8_lossy(&out.stdout);
    assert_eq!(table.lines().filter(|l| l.ends_with(" cache")).count(), Format::ALL.len(), "{table}");
    let text = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(text.lines().count(), Format::ALL.len() + 1);
    let dense = text.lines().find(|l| l.contains(",dense,")).unwrap();
    assert!(dense.starts_with(&format!("n8_q4_b32,front-end,ws_front_end,dense,{},", by(Format::Dense).cells)));
}

#[test]
fn an_illegal_design_point_is_a_one_line_error() {
    let opts = CostOptions { cache_dir: Path::new("/nonexistent").into(), ..Default::default() };
    let mut point = facts().set("n8_q4_b32").unwrap();
    point.lanes = 0;
    let err = cost::cost(&CostRequest { unit: Unit::FrontEnd, format: Format::Csc, point }, &opts).unwrap_err();
    assert!(matches!(err, CostError::BadPoint(_)), "{err:?}");
    let out = cli().args(["cost", "--lanes", "0"]).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("--lanes 0"), "{err}");
    let out = cli().args(["cost", "--format", "huffman"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.trim().lines().count() == 1 && err.contains("huffman"), "{err}");
}
