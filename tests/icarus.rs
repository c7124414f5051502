//! Functional simulation of the RTL tops under Icarus Verilog (the portability check beyond
//! "it compiles"): small layers encoded by the golden model run through tests/rtl/tb_ws_top.v,
//! which checks every beat and every y itself and prints one PASS or FAIL line. The dense, bitmap,
//! delta-bitmap, CSC and nm tops are compiled once per parameter set and run with and without
//! random traffic (nm: the same layers made 2:4, and 1:2 and the decoder's widest n:m with short
//! last groups; an m beyond the decoder, a bad header and a bad position must end in the top's
//! codes 8, 8 and 9). A corrupted expectation must make the testbench fail, and with full traffic
//! Icarus and Verilator must agree on the cycle count for every top. Missing `iverilog`/`vvp` is
//! a failure, not a skip (scripts/setup installs them).

use std::path::{Path, PathBuf};
use std::process::Command;

use bitvec::prelude::*;
use weightstream::bits::word_hex;
use weightstream::formats::EncodedStream;
use weightstream::formats::NmPattern;
use weightstream::rtl::{facts, DesignPoint};
use weightstream::{pe, Format, QuantMatrix, StreamParams};

/// A parameter set of the tops, from the RTL facts table.
#[derive(Clone)]
struct Set {
    name: &'static str,
    d: DesignPoint,
    p: StreamParams,
    max_o: usize,
}

fn builtin(name: &'static str) -> Set {
    let d = facts().set(name).unwrap_or_else(|| panic!("{name} is in rtl/ws_rtl.toml"));
    Set { name, d, p: d.stream(), max_o: d.max_rows }
}

fn n16_q8_b64() -> Set {
    builtin("n16_q8_b64")
}

fn n8_q4_b32() -> Set {
    builtin("n8_q4_b32")
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The testbench compiled for one top and parameter set, in a temporary directory.
struct Bench {
    dir: tempfile::TempDir,
    exe: PathBuf,
    label: String,
}

fn fmt_index(format: Format) -> usize {
    Format::ALL.iter().position(|&f| f == format).unwrap()
}

/// The FORMAT code of ws_top_core for a format.
fn fmt_code(format: Format) -> usize {
    facts().format_code(format) as usize
}

/// `iverilog -g2012 -y rtl -o <tmp>/sim tests/rtl/tb_ws_top.v` with the parameters of `set`.
fn compile(format: Format, set: &Set) -> Bench {
    let dir = tempfile::tempdir().unwrap();
    let exe = dir.path().join("sim");
    let mut params = vec![("FMT".to_string(), fmt_code(format))];
    params.extend(set.d.params().into_iter().map(|(k, v)| (k.to_string(), v as usize)));
    let out = Command::new("iverilog")
        .current_dir(root())
        .args(["-g2012", "-y", "rtl", "-I", "rtl", "-o"])
        .arg(&exe)
        .args(params.iter().map(|(k, v)| format!("-Ptb_ws_top.{k}={v}")))
        .arg("tests/rtl/tb_ws_top.v")
        .output()
        .expect("iverilog runs (scripts/setup installs it)");
    let label = format!("{format} {}", set.name);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && exe.exists(), "iverilog {label}: {stderr}");
    assert!(!stderr.to_lowercase().contains("warning"), "iverilog {label} warns: {stderr}");
    Bench { dir, exe, label }
}

/// `value` as a `bits`-bit two's complement field in hex, most significant digit first.
fn hex_field(value: i64, bits: usize) -> String {
    let mut v: BitVec<u64, Lsb0> = BitVec::repeat(false, bits);
    v.store_le::<u64>(value as u64 & weightstream::bits::mask(bits as u32));
    word_hex(&v)
}

/// One run's inputs: the stream, the golden beats and y, the activations.
struct Case {
    name: String,
    stream: EncodedStream,
    beats: Vec<i32>,
    acts: Vec<i32>,
    y: Vec<i64>,
    /// QA and ACC of the top.
    act_bits: u32,
    acc_bits: u32,
}

impl Case {
    /// `w` encoded at the set's stream parameters; for nm, `w` made 2:4 first ([`nm_layer`]).
    fn new(name: &str, w: &QuantMatrix, format: Format, d: &DesignPoint, act_seed: u64) -> Case {
        let p = d.stream();
        if format == Format::Nm {
            return Case::with(name, &weightstream::formats::nm::thin(w, p.nm), format, d, &p, act_seed);
        }
        Case::with(name, w, format, d, &p, act_seed)
    }

    /// `w` encoded at `p`.
    fn with(name: &str, w: &QuantMatrix, format: Format, d: &DesignPoint, p: &StreamParams, act_seed: u64) -> Case {
        let stream = format.encode(w, p).unwrap();
        let acts = pe::random_activations(w.cols, d.act_bits, act_seed);
        let y = pe::matvec_acc(w, &acts, d.acc_bits);
        Case {
            name: name.to_string(),
            stream,
            beats: format.beats(w, p),
            y,
            acts,
            act_bits: d.act_bits,
            acc_bits: d.acc_bits,
        }
    }

    fn n_beats(&self) -> usize {
        self.beats.len() / self.stream.params.lanes
    }

    /// Writes the four .hex files into `dir` and returns the plusargs naming them and the counts.
    fn plusargs(&self, dir: &Path) -> Vec<String> {
        let p = &self.stream.params;
        let (n, q) = (p.lanes, p.weight_bits as usize);
        let words: Vec<String> = (0..self.stream.bus_words()).map(|j| word_hex(self.stream.word(j))).collect();
        let beats: Vec<String> = self
            .beats
            .chunks_exact(n)
            .map(|beat| {
                let mut v: BitVec<u64, Lsb0> = BitVec::repeat(false, n * q);
                for (l, &x) in beat.iter().enumerate() {
                    v[l * q..(l + 1) * q].store_le::<u64>(x as u64 & weightstream::bits::mask(q as u32));
                }
                word_hex(&v)
            })
            .collect();
        let acts: Vec<String> = self.acts.iter().map(|&a| hex_field(i64::from(a), self.act_bits as usize)).collect();
        let y: Vec<String> = self.y.iter().map(|&y| hex_field(y, self.acc_bits as usize)).collect();
        let mut args = Vec::new();
        for (key, lines) in [("words_hex", words), ("beats_hex", beats), ("acts_hex", acts), ("y_hex", y)] {
            let path = dir.join(format!("{key}.hex"));
            std::fs::write(&path, lines.join("\n") + "\n").unwrap();
            args.push(format!("+{key}={}", path.display()));
        }
        args.push(format!("+n_words={}", self.stream.bus_words()));
        args.push(format!("+n_beats={}", self.n_beats()));
        args.push(format!("+O={}", self.stream.rows));
        args.push(format!("+K={}", self.stream.cols));
        args
    }
}

impl Bench {
    /// Runs `case` with traffic `seed`; returns the testbench's one PASS/FAIL line.
    fn run(&self, case: &Case, seed: u64) -> String {
        let work = self.dir.path().join(format!("run{seed}"));
        std::fs::create_dir_all(&work).unwrap();
        let out = Command::new("vvp")
            .arg("-n")
            .arg(&self.exe)
            .args(case.plusargs(&work))
            .arg(format!("+seed={seed}"))
            .output()
            .expect("vvp runs (scripts/setup installs it)");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let what = format!("{} {} seed {seed}", self.label, case.name);
        assert!(out.status.success(), "vvp {what}: {stdout}{}", String::from_utf8_lossy(&out.stderr));
        assert!(!stdout.to_lowercase().contains("warning"), "vvp {what} warns: {stdout}");
        let verdicts: Vec<&str> = stdout.lines().filter(|l| l.starts_with("PASS") || l.starts_with("FAIL")).collect();
        assert_eq!(verdicts.len(), 1, "{what}: one PASS or FAIL line expected: {stdout}");
        verdicts[0].to_string()
    }

    /// Runs `case` and demands PASS with the golden beat and y counts.
    fn pass(&self, case: &Case, seed: u64) {
        let line = self.run(case, seed);
        let what = format!("{} {} seed {seed}", self.label, case.name);
        let field = |key: &str| -> usize {
            let tok = line.split_whitespace().find_map(|t| t.strip_prefix(key)).unwrap_or_else(|| panic!("{line}"));
            tok.parse().unwrap_or_else(|_| panic!("{what}: {line}"))
        };
        assert!(line.starts_with("PASS "), "{what}: {line}");
        assert_eq!(field("beats="), case.n_beats(), "{what}: {line}");
        assert_eq!(field("y="), case.y.len(), "{what}: {line}");
        assert!(field("cycles=") >= case.n_beats(), "{what}: {line}");
    }
}

/// A deterministic xorshift64 sequence.
fn xorshift(seed: u64) -> impl FnMut() -> u64 {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    }
}

/// 37 x 11 (O not a multiple of N) at 40 % nonzeros, with mixed columns: column 3 all zero,
/// column 7 all nonzero, column 9 a single nonzero on the last row (CSC fillers up to the column
/// end), and the extreme values -2^(Q-1) and 2^(Q-1)-1 (delta wrap-around along k).
fn mixed_layer(q: u32, seed: u64) -> QuantMatrix {
    let (rows, cols) = (37, 11);
    let (lo, hi) = QuantMatrix::value_range(q);
    let mut next = xorshift(seed);
    let mut w = QuantMatrix::zeros(rows, cols, q);
    let mut nonzero = || loop {
        let v = lo + ((next() >> 20) % (hi - lo + 1) as u64) as i32;
        if v != 0 {
            return v;
        }
    };
    for o in 0..rows {
        for k in 0..cols {
            w.data[o * cols + k] = match k {
                3 => 0,
                7 => nonzero(),
                9 => i32::from(o == rows - 1) * lo,
                _ if o % 5 == 0 => [lo, hi][(o + k) % 2],
                _ if (o * 7 + k * 13) % 10 < 4 => nonzero(),
                _ => 0,
            };
        }
    }
    w
}

/// A layer of `rows` x `cols` at `density`, values over the full range.
fn random_layer(rows: usize, cols: usize, q: u32, density: f64, seed: u64) -> QuantMatrix {
    let (lo, hi) = QuantMatrix::value_range(q);
    let mut next = xorshift(seed);
    let mut w = QuantMatrix::zeros(rows, cols, q);
    for v in w.data.iter_mut() {
        if ((next() % 1000) as f64) < density * 1000.0 {
            let x = lo + ((next() >> 20) % (hi - lo + 1) as u64) as i32;
            *v = if x == 0 { hi } else { x };
        }
    }
    w
}

/// Zero runs of 2^R - 1, 2^R, 3 * 2^R and 2 * 2^R rows before a nonzero, the last on the last
/// row: CSC runs at the field limit and fillers right up to the column end.
fn runs_layer(q: u32, run_bits: u32) -> QuantMatrix {
    let span = 1usize << run_bits;
    let (lo, hi) = QuantMatrix::value_range(q);
    let gaps = [span - 1, span, 3 * span, 2 * span];
    let rows = gaps.iter().sum::<usize>() + gaps.len();
    let mut w = QuantMatrix::zeros(rows, 3, q);
    for k in 0..3 {
        let mut row = 0;
        for gap in gaps {
            row += gap;
            w.data[row * 3 + k] = if k == 1 { lo } else { hi - k as i32 };
            row += 1;
        }
    }
    w
}

/// Compiles one top at one parameter set once, then runs on it: the mixed layer without and
/// with random traffic, and with random traffic a layer smaller than a tile, whole full tiles (O
/// a multiple of N, every weight nonzero), CSC runs and fillers, and O = MAX_O.
fn format_at(format: Format, set: Set) {
    let bench = compile(format, &set);
    let p = &set.p;
    let (q, n) = (p.weight_bits, p.lanes);
    let salt = 1 + fmt_index(format) as u64 + 10 * n as u64;
    let mixed = mixed_layer(q, salt);
    // The layer really is what the test claims.
    let density = mixed.nonzeros() as f64 / mixed.len() as f64;
    assert!((0.3..0.6).contains(&density), "density {density}");
    let mixed = Case::new("mixed 37x11", &mixed, format, &set.d, salt);
    bench.pass(&mixed, 0);
    bench.pass(&mixed, 0x5eed + salt);
    let others = [
        ("O < N", random_layer(n / 2 + 1, 3, q, 0.75, salt)),
        ("full tiles", random_layer(2 * n, 4, q, 1.0, salt)),
        ("runs and fillers", runs_layer(q, p.run_bits)),
        ("O = MAX_O", random_layer(set.max_o, 2, q, 0.3, salt)),
    ];
    for (i, (name, w)) in others.iter().enumerate() {
        let case = Case::new(name, w, format, &set.d, salt + 1 + i as u64);
        bench.pass(&case, 0x7a11 + salt + i as u64);
    }
    if format == Format::Nm {
        nm_patterns_and_errors(&bench, &set, salt);
    }
}

/// The nm top beyond 2:4: 1:2 over K = 11 and n:m at the decoder's largest m over K = 37 (short
/// last groups), every group's entries up to n; a header with m above the decoder's largest (its
/// limit, error 8); then the mixed layer's stream with its header's n = 0 (error 8) and with row
/// 0's second entry of group 0 at position 0, not above the first's (error 9).
fn nm_patterns_and_errors(bench: &Bench, set: &Set, salt: u64) {
    let q = set.p.weight_bits;
    let f = &facts().nm;
    let widest = NmPattern { keep: f.keep.min((1 << f.max_log2_group) - 1), group: 1 << f.max_log2_group };
    for (i, (nm, cols)) in [(NmPattern { keep: 1, group: 2 }, 11), (widest, 37)].into_iter().enumerate() {
        let w = weightstream::formats::nm::thin(&random_layer(2 * set.p.lanes + 3, cols, q, 0.6, salt + i as u64), nm);
        let p = StreamParams { nm, ..set.p };
        let case = Case::with(&format!("{nm} K={cols}"), &w, Format::Nm, &set.d, &p, salt + i as u64);
        bench.pass(&case, 0x6e6d + salt + i as u64);
    }
    if f.max_log2_group < 4 {
        let nm = NmPattern { keep: 1, group: 2 << f.max_log2_group };
        let w = weightstream::formats::nm::thin(&random_layer(set.p.lanes, 9, q, 0.6, salt), nm);
        let case = Case::with(
            &format!("{nm} beyond the decoder"),
            &w,
            Format::Nm,
            &set.d,
            &StreamParams { nm, ..set.p },
            salt,
        );
        let line = bench.run(&case, 5);
        assert!(line.starts_with("FAIL error_o_set(code=8) "), "{}: {line}", bench.label);
    }
    let mixed = Case::new("mixed 37x11", &mixed_layer(q, salt), Format::Nm, &set.d, salt);
    let mut bad_header = Case::new("n = 0", &mixed_layer(q, salt), Format::Nm, &set.d, salt);
    bad_header.stream.bits[..4].fill(false);
    let line = bench.run(&bad_header, 5);
    assert!(line.starts_with("FAIL error_o_set(code=8) "), "{}: {line}", bench.label);
    let mut bad_position = mixed;
    let entry = (set.p.nm.position_bits() + q) as usize;
    // row 0's entry 1 of group 0 follows entry 0 of tile 0's lanes
    let at = weightstream::formats::nm::HEADER_BITS as usize + bad_position.stream.rows.min(set.p.lanes) * entry;
    bad_position.stream.bits[at..at + set.p.nm.position_bits() as usize].fill(false);
    let line = bench.run(&bad_position, 5);
    assert!(line.starts_with("FAIL error_o_set(code=9) "), "{}: {line}", bench.label);
}

#[test]
fn dense_n16_q8_b64() {
    format_at(Format::Dense, n16_q8_b64());
}

#[test]
fn bitmap_n16_q8_b64() {
    format_at(Format::Bitmap, n16_q8_b64());
}

#[test]
fn delta_bitmap_n16_q8_b64() {
    format_at(Format::DeltaBitmap, n16_q8_b64());
}

#[test]
fn csc_n16_q8_b64() {
    format_at(Format::Csc, n16_q8_b64());
}

#[test]
fn nm_n16_q8_b64() {
    format_at(Format::Nm, n16_q8_b64());
}

#[test]
fn nm_n8_q4_b32() {
    format_at(Format::Nm, n8_q4_b32());
}

#[test]
fn dense_n8_q4_b32() {
    format_at(Format::Dense, n8_q4_b32());
}

#[test]
fn bitmap_n8_q4_b32() {
    format_at(Format::Bitmap, n8_q4_b32());
}

#[test]
fn delta_bitmap_n8_q4_b32() {
    format_at(Format::DeltaBitmap, n8_q4_b32());
}

#[test]
fn csc_n8_q4_b32() {
    format_at(Format::Csc, n8_q4_b32());
}

/// The testbench must object to a wrong expectation, naming the beat and lane (and a wrong y),
/// so the tests above can fail.
#[test]
fn corrupted_expectation_makes_the_testbench_fail() {
    let set = n8_q4_b32();
    let p = &set.p;
    let bench = compile(Format::Bitmap, &set);
    let w = mixed_layer(p.weight_bits, 42);
    let good = Case::new("mixed 37x11", &w, Format::Bitmap, &set.d, 42);
    bench.pass(&good, 3);

    let mut bad_beat = Case::new("corrupt beat 4 lane 2", &w, Format::Bitmap, &set.d, 42);
    bad_beat.beats[4 * p.lanes + 2] ^= 1;
    let line = bench.run(&bad_beat, 3);
    assert!(line.starts_with("FAIL beat_data("), "{line}");
    assert!(line.ends_with(" beat=4 lane=2"), "{line}");

    let mut bad_y = Case::new("corrupt y[36]", &w, Format::Bitmap, &set.d, 42);
    bad_y.y[36] = bad_y.y[36].wrapping_add(1);
    let line = bench.run(&bad_y, 0);
    assert!(line.starts_with("FAIL y_data(index=36,"), "{line}");

    // A stream with one word too many: the top flags trailing data, the testbench reports it.
    let mut extra = Case::new("extra word", &w, Format::Bitmap, &set.d, 42);
    extra.stream.bits.resize(extra.stream.bits.len() + p.bus_bits as usize, false);
    let line = bench.run(&extra, 3);
    assert!(line.starts_with("FAIL error_o_set(code=4) "), "{line}");
}

/// Icarus and Verilator must agree cycle for cycle: with full traffic, done_o is first high in
/// cycle c (start_i in cycle 0) under Icarus, and the co-simulation counts c - 1 rising edges after
/// the start edge before it sees done_o, for every top.
#[cfg(feature = "rtl")]
#[test]
fn cycle_counts_equal_verilator() {
    use weightstream::cosim::{self, CosimOptions, Traffic};
    for (set, format) in [n16_q8_b64(), n8_q4_b32()].into_iter().flat_map(|s| Format::ALL.map(|f| (s.clone(), f))) {
        let p = &set.p;
        let mixed = mixed_layer(p.weight_bits, 7);
        // nm: the mixed layer made 2:4 (the layer Case::new encodes)
        let w = if format == Format::Nm { weightstream::formats::nm::thin(&mixed, p.nm) } else { mixed };
        let bench = compile(format, &set);
        let case = Case::new("mixed 37x11", &w, format, &set.d, 1);
        let line = bench.run(&case, 0);
        let wave_dir = std::env::temp_dir().join("weightstream-test-waves");
        let opts = CosimOptions { traffic: Traffic::Full, seed: 1, wave_dir };
        let exp = cosim::expected(format, &w, &case.acts, &set.d);
        let run = cosim::run_layer("mixed", None, &case.stream, &case.acts, &exp, &set.d, &opts).unwrap();
        assert_eq!(run.mismatches, 0, "{}", run.mismatch_line().unwrap_or_default());
        let want = format!(" cycles={}", run.total_cycles + 1);
        assert!(line.ends_with(&want), "{format}: Icarus {line}, Verilator {run:?}");
    }
}
