//! Long form of the hostile-stream sweep, the soak, and the fast kill suite of scripts/mutate-rtl.
//!
//! ```sh
//! cargo run --release --example hostile_rtl -- --streams 10000 --soak-beats 1000000
//! cargo run --release --example hostile_rtl -- --kill --rtl-dir /tmp/mut/rtl --cache /tmp/mut/cache --tag m3 --modules ws_bit_aligner
//! ```
//!
//! Sweep: `--streams N` hostile streams per top (every format) at every set of `--sets` (default both
//! built-in sets), seed `--seed`. Soak: `--soak-beats B` beats per format (at n16_q8_b64 and
//! n8_q4_b32) of real streams under seeded random gaps. Exits 1 on any failure.
//!
//! Kill mode (`--kill`): builds every model on demand from `--rtl-dir` into `--cache` (never the
//! linked-in models), runs the module benches named by `--modules` (comma list; `all`) and then
//! the tops at n8_q4_b32 (`--formats`, default all) with a short hostile sweep and soak; stops at
//! the first failure. Exit 0 = survived, 1 = killed, 2 = did not elaborate (a build failed).

use std::path::PathBuf;
use std::process::ExitCode;

use weightstream::hostile::{self, ModelSource};
use weightstream::modtb;
use weightstream::rtl::facts;
use weightstream::Format;

fn arg<T: std::str::FromStr>(args: &[String], name: &str, default: T) -> T {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(|v| v.parse().unwrap_or_else(|_| panic!("bad value for {name}")))
        .unwrap_or(default)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--kill") {
        return kill(&args);
    }
    let streams: u64 = arg(&args, "--streams", 10_000);
    let soak_beats: u64 = arg(&args, "--soak-beats", 1_000_000);
    let seed: u64 = arg(&args, "--seed", 1);
    let sets: String = arg(&args, "--sets", "n16_q8_b64,n8_q4_b32".to_string());
    // comma list of format names (default every format)
    let only: String = arg(&args, "--formats", String::new());
    let formats: Vec<Format> = if only.is_empty() {
        Format::ALL.to_vec()
    } else {
        only.split(',').map(|f| f.parse().unwrap_or_else(|e| panic!("{e}"))).collect()
    };
    let mut bad = false;
    for set in sets.split(',') {
        let d = facts().set(set).unwrap_or_else(|| panic!("no set {set}"));
        for &f in &formats {
            let s = match hostile::sweep(&ModelSource::Default, f, &d, seed, streams) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("{set} {f}: {e}");
                    return ExitCode::from(2);
                }
            };
            println!(
                "sweep {set:<11} {f:<12} streams {:>6}  done {:>5} ({:>5} nonzero)  rtl limit {:>4}  errors[1..9] {:?}  hangs {}  beats after error {}  y after error {}  worst cycles/bound {:.3}  worst cycles-(W+T+O+K+2G) {}  failures {}  {:.1} s",
                s.streams,
                s.done,
                s.done_nonzero,
                s.rtl_limited,
                &s.errors[1..],
                s.hangs,
                s.beats_after_error,
                s.y_after_error,
                s.worst_bound_use,
                s.worst_slack,
                s.failures.len(),
                s.seconds
            );
            for l in &s.failures {
                println!("  FAIL {l}");
            }
            bad |= !s.failures.is_empty() || s.hangs > 0;
        }
    }
    if soak_beats > 0 {
        for set in sets.split(',') {
            let d = facts().set(set).unwrap();
            for &f in &formats {
                let s = hostile::soak(&ModelSource::Default, f, &d, seed, soak_beats).expect("soak runs");
                println!(
                    "soak  {set:<11} {f:<12} runs {:>5}  beats {:>8}  lost {}  duplicated {}  wrong {}  {:.1} s",
                    s.runs, s.beats, s.lost, s.duplicated, s.wrong, s.seconds
                );
                for l in &s.failures {
                    println!("  FAIL {l}");
                }
                bad |= s.lost + s.duplicated + s.wrong > 0;
            }
        }
    }
    if bad {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn kill(args: &[String]) -> ExitCode {
    let rtl_dir: PathBuf = arg(args, "--rtl-dir", PathBuf::from("rtl"));
    let cache_dir: PathBuf = arg(args, "--cache", std::env::temp_dir().join("ws-mutate-cache"));
    let tag: String = arg(args, "--tag", "mut".to_string());
    let modules: String = arg(args, "--modules", "all".to_string());
    let formats: String = arg(args, "--formats", "dense,bitmap,delta-bitmap,csc".to_string());
    let streams: u64 = arg(args, "--streams", 150);
    // n8 first (cheap); a mutant that survives it is tried at n16 too (wider fields, other carries).
    // and at a point that is not built in (odd widths: hostile::odd_point), named "odd".
    let sets: String = arg(args, "--sets", "n8_q4_b32,n16_q8_b64,odd".to_string());
    let src = ModelSource::Dir { rtl_dir, cache_dir, tag };
    let say = |what: &str, r: Result<(), String>| -> Option<ExitCode> {
        match r {
            Ok(()) => None,
            Err(e) if e.starts_with("building") => {
                println!("NOT-ELABORATING {what}: {}", e.lines().next().unwrap_or(""));
                Some(ExitCode::from(2))
            }
            Err(e) => {
                println!("KILLED by {what}: {}", e.lines().next().unwrap_or(""));
                Some(ExitCode::from(1))
            }
        }
    };
    for m in modtb::MODULES {
        if modules == "all" || modules.split(',').any(|x| x == m) {
            if let Some(c) = say(m, modtb::run_module(&src, m, 1)) {
                return c;
            }
        }
    }
    for set in sets.split(',').filter(|s| !s.is_empty()) {
        let Some(d) = (if set == "odd" { Some(hostile::odd_point()) } else { facts().set(set) }) else {
            println!("NOT-ELABORATING: no built-in set {set}");
            return ExitCode::from(2);
        };
        for f in formats.split(',').filter(|s| !s.is_empty()) {
            let f: Format = f.parse().unwrap();
            let r = hostile::sweep(&src, f, &d, 11, streams).and_then(|s| match s.failures.first() {
                None if s.hangs == 0 => Ok(()),
                None => Err(format!("{} hangs", s.hangs)),
                Some(l) => Err(l.clone()),
            });
            if let Some(c) = say(&format!("hostile {f} {set}"), r) {
                return c;
            }
            let r = hostile::soak(&src, f, &d, 5, 3000).and_then(|s| match s.failures.first() {
                None => Ok(()),
                Some(l) => Err(l.clone()),
            });
            if let Some(c) = say(&format!("soak {f} {set}"), r) {
                return c;
            }
            let r = hostile::stall_probe(&src, f, &d).map(|_| ());
            if let Some(c) = say(&format!("stall probe {f} {set}"), r) {
                return c;
            }
        }
    }
    println!("SURVIVED");
    ExitCode::SUCCESS
}
