//! Facts about the RTL, read from the one table `rtl/ws_rtl.toml`: the formats with their FORMAT
//! codes and decoder modules, the top's parameters with their legal ranges and command-line flags,
//! the error codes, and the built-in parameter sets. Also the design point (one value per
//! parameter) that co-simulation, `cost` and `sweep` run at, and the Verilog header
//! `rtl/ws_defs.vh` generated from the table.

use std::fmt;
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

use crate::formats::{Format, StreamParams};

/// The table, compiled in.
pub const TABLE_TOML: &str = include_str!("../rtl/ws_rtl.toml");

/// Where the RTL is read from by on-demand simulator builds and synthesis:
/// `$WEIGHTSTREAM_RTL_DIR`, else the RTL this binary carries, written out into the cache
/// (`<cache>/rtl/<digest>/`, [`crate::rtl_files`]). Never the source tree the binary was built
/// from: an installed copy works without it, and the built-in models, this table and on-demand
/// models all come from one RTL.
pub fn rtl_dir() -> Result<std::path::PathBuf, RtlDirError> {
    if let Some(d) = std::env::var_os("WEIGHTSTREAM_RTL_DIR") {
        return Ok(d.into());
    }
    // Checked and written once per process and cache (every on-demand model asks).
    static DONE: std::sync::Mutex<Option<(std::path::PathBuf, std::path::PathBuf)>> = std::sync::Mutex::new(None);
    let cache = crate::model::cache_dir();
    let mut done = DONE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, dir)) = done.as_ref().filter(|(c, _)| *c == cache) {
        return Ok(dir.clone());
    }
    let dir = crate::rtl_files::written_to(&cache)?;
    *done = Some((cache, dir.clone()));
    Ok(dir)
}

/// The RTL directory could not be made ready.
pub type RtlDirError = crate::rtl_files::WriteError;

/// The parsed table.
#[derive(Debug, Clone, Deserialize)]
pub struct RtlFacts {
    /// The top module every format is built from.
    pub top: String,
    /// The front end alone (aligner + decoder + sequencer), for synthesis cost.
    pub front_end: String,
    /// Formats, FORMAT code, decoder module.
    pub formats: Vec<FormatFact>,
    /// Parameters and their legal ranges.
    pub params: Vec<ParamFact>,
    /// Error codes.
    pub errors: Vec<ErrorFact>,
    /// Built-in parameter sets.
    pub sets: Vec<SetFact>,
    /// The bitmap-huffman decoder's fixed parameters.
    pub huffman: HuffmanFact,
    /// The lane-huffman decoder's fixed parameters.
    pub lane_huffman: LaneHuffmanFact,
    /// The nm decoder's fixed parameters.
    pub nm: NmFact,
}

/// The nm (N:M) decoder's fixed parameters.
#[derive(Debug, Clone, Deserialize)]
pub struct NmFact {
    /// The most entries per group (n) the decoder keeps: a header with a larger n is
    /// [`RtlError::BadNmHeader`] although the format allows it.
    pub keep: u32,
    /// The largest log2 m the decoder accepts (1..=4): a header with a larger one is
    /// [`RtlError::BadNmHeader`] although the format allows m up to 16. Positions are stored in
    /// this many bits.
    pub max_log2_group: u32,
}

impl NmFact {
    /// Position bits stored per entry (m up to 2^max_log2_group).
    pub fn pos_bits(&self) -> u32 {
        self.max_log2_group
    }

    /// The decoder's window bits at `lanes` lanes and `q`-bit weights: a beat of entries with
    /// [`Self::pos_bits`]-bit positions, at least the 8-bit header.
    pub fn window_bits(&self, lanes: usize, q: u32) -> usize {
        (lanes * (self.pos_bits() + q) as usize).max(8)
    }

    /// A header the format allows (1 <= n < m = 2^log2_m, log2 m in 1..=4) but the decoder
    /// rejects as [`RtlError::BadNmHeader`]: n above keep, or log2 m above max_log2_group.
    pub fn rtl_limit(&self, n: u32, log2_m: u32) -> bool {
        let legal = (1..=4).contains(&log2_m) && n >= 1 && n < 1 << log2_m;
        legal && (n > self.keep || log2_m > self.max_log2_group)
    }
}

/// The lane-huffman decoder's fixed parameters.
#[derive(Debug, Clone, Deserialize)]
pub struct LaneHuffmanFact {
    /// C: bits of a refill chunk (the format's; at least H).
    pub chunk_bits: u32,
    /// R = ceil(N / this): chunks taken per cycle.
    pub lanes_per_chunk: usize,
    /// Header counts taken per cycle at most.
    pub counts_per_cycle: usize,
    /// Word bits of a block-RAM symbol table.
    pub table_word_bits: u32,
    /// The largest symbol table (2^Q * Q bits) kept in flip-flops.
    pub ff_table_max_bits: u64,
}

impl LaneHuffmanFact {
    /// R at `lanes` lanes: chunks taken per cycle.
    pub fn chunks_per_cycle(&self, lanes: usize) -> usize {
        lanes.div_ceil(self.lanes_per_chunk)
    }

    /// The decoder's window bits at `lanes` lanes and `q`-bit weights: R chunks and a mask, or
    /// the header counts of a cycle.
    pub fn window_bits(&self, lanes: usize, q: u32) -> usize {
        (self.chunk_bits as usize * self.chunks_per_cycle(lanes) + lanes).max(self.counts_per_cycle * q as usize)
    }

    /// Whether the symbol table is flip-flops at `q`-bit weights (else a block RAM per lane).
    pub fn ff_table(&self, q: u32) -> bool {
        (1u64 << q) * u64::from(q) <= self.ff_table_max_bits
    }

    /// Header symbols loaded per cycle at `lanes` lanes and `q`-bit weights: as many as the
    /// window holds into a flip-flop table (at most 2^Q), else the symbols of a RAM word (a power
    /// of two, at most 8 and 2^(Q-1)).
    pub fn symbols_per_cycle(&self, lanes: usize, q: u32) -> usize {
        if self.ff_table(q) {
            (self.window_bits(lanes, q) / q as usize).min(1 << q)
        } else {
            let per_word = (self.table_word_bits / q).clamp(1, 8) as usize;
            let pow2 = 1usize << per_word.ilog2();
            pow2.min(1 << (q - 1))
        }
    }
}

/// The bitmap-huffman decoder's fixed parameters.
#[derive(Debug, Clone, Deserialize)]
pub struct HuffmanFact {
    /// H: the longest code accepted.
    pub max_code_len: u32,
    /// S = min(N, this): codes decoded per cycle.
    pub codes_per_cycle: usize,
    /// Window bits for codes after a beat's mask (the window is N + this).
    pub code_window_bits: usize,
}

impl HuffmanFact {
    /// S at `lanes` lanes.
    pub fn units(&self, lanes: usize) -> usize {
        lanes.min(self.codes_per_cycle)
    }

    /// The fewest codes a cycle takes while a beat has codes left: S, or as many codes of the
    /// longest length as the window holds (at least one).
    pub fn worst_codes_per_cycle(&self, lanes: usize) -> usize {
        self.units(lanes).min((self.code_window_bits / self.max_code_len as usize).max(1))
    }
}

/// One format of the table.
#[derive(Debug, Clone, Deserialize)]
pub struct FormatFact {
    /// Command-line name (`Format::name`).
    pub name: String,
    /// Value of the top's FORMAT parameter.
    pub code: u32,
    /// Decoder module.
    pub decoder: String,
}

/// One parameter of the top.
#[derive(Debug, Clone, Deserialize)]
pub struct ParamFact {
    /// Verilog parameter name.
    pub name: String,
    /// Command-line flag (without `--`).
    pub flag: String,
    /// Smallest legal value.
    pub min: i64,
    /// Largest legal value.
    pub max: i64,
    /// What it is.
    pub doc: String,
}

/// One error code.
#[derive(Debug, Clone, Deserialize)]
pub struct ErrorFact {
    /// Value of `error_code_o`.
    pub code: u32,
    /// Kebab-case name (`RtlError`'s serde name).
    pub name: String,
    /// When it is raised.
    pub doc: String,
}

/// One built-in parameter set.
#[derive(Debug, Clone, Deserialize)]
pub struct SetFact {
    /// Set name (`--rtl-config`).
    pub name: String,
    #[serde(rename = "N")]
    n: i64,
    #[serde(rename = "Q")]
    q: i64,
    #[serde(rename = "B")]
    b: i64,
    #[serde(rename = "R")]
    r: i64,
    #[serde(rename = "P")]
    p: i64,
    #[serde(rename = "QA")]
    qa: i64,
    #[serde(rename = "ACC")]
    acc: i64,
    #[serde(rename = "MAX_O")]
    max_o: i64,
}

/// The table (parsed once; a malformed table is a build defect, caught by the tests).
pub fn facts() -> &'static RtlFacts {
    static FACTS: LazyLock<RtlFacts> =
        LazyLock::new(|| toml::from_str(TABLE_TOML).expect("rtl/ws_rtl.toml is malformed"));
    &FACTS
}

impl RtlFacts {
    /// The FORMAT code of a format.
    pub fn format_code(&self, f: Format) -> u32 {
        self.format(f).code
    }

    /// The table's entry of a format.
    pub fn format(&self, f: Format) -> &FormatFact {
        self.formats.iter().find(|x| x.name == f.name()).expect("every Format is in rtl/ws_rtl.toml")
    }

    /// The entry of parameter `name`.
    pub fn param(&self, name: &str) -> Option<&ParamFact> {
        self.params.iter().find(|p| p.name == name)
    }

    /// A built-in set by name.
    pub fn set(&self, name: &str) -> Option<DesignPoint> {
        self.sets.iter().find(|s| s.name == name).map(SetFact::point)
    }

    /// Names of the built-in sets.
    pub fn set_names(&self) -> Vec<&str> {
        self.sets.iter().map(|s| s.name.as_str()).collect()
    }
}

impl SetFact {
    fn point(&self) -> DesignPoint {
        DesignPoint {
            lanes: self.n as usize,
            weight_bits: self.q as u32,
            bus_bits: self.b as u32,
            run_bits: self.r as u32,
            count_bits: self.p as u32,
            act_bits: self.qa as u32,
            acc_bits: self.acc as u32,
            max_rows: self.max_o as usize,
        }
    }
}

/// The RTL's error codes (`error_code_o`); the names and codes are those of rtl/ws_rtl.toml
/// (a test holds the two together).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RtlError {
    /// 1: the last word was consumed before the layer was complete.
    Truncated,
    /// 2: a CSC count exceeds O.
    CountExceedsRows,
    /// 3: a CSC entry lands past the column end.
    RunPastColumnEnd,
    /// 4: words after the end, or nonzero fill.
    TrailingData,
    /// 5: O or K out of range for the model.
    BadConfig,
    /// 6: a Huffman code table that is not a complete code within the limits.
    BadCode,
    /// 7: bits that begin no code of the table.
    InvalidCode,
    /// 8: an nm header with n = 0, n >= m, log2 m outside 1..4, or n above the decoder's keep.
    BadNmHeader,
    /// 9: an nm entry's position not above the previous entry's of its row, or not below m_g.
    BadNmPosition,
    /// A code the table does not name.
    Other(u32),
}

impl RtlError {
    /// Every named error, in code order.
    pub const NAMED: [RtlError; 9] = [
        RtlError::Truncated,
        RtlError::CountExceedsRows,
        RtlError::RunPastColumnEnd,
        RtlError::TrailingData,
        RtlError::BadConfig,
        RtlError::BadCode,
        RtlError::InvalidCode,
        RtlError::BadNmHeader,
        RtlError::BadNmPosition,
    ];

    /// Its kebab-case name, as in the table.
    pub fn name(self) -> &'static str {
        match self {
            RtlError::Truncated => "truncated",
            RtlError::CountExceedsRows => "count-exceeds-rows",
            RtlError::RunPastColumnEnd => "run-past-column-end",
            RtlError::TrailingData => "trailing-data",
            RtlError::BadConfig => "bad-config",
            RtlError::BadCode => "bad-code",
            RtlError::InvalidCode => "invalid-code",
            RtlError::BadNmHeader => "bad-nm-header",
            RtlError::BadNmPosition => "bad-nm-position",
            RtlError::Other(_) => "other",
        }
    }

    /// The code on `error_code_o`, from the table.
    pub fn code(self) -> u32 {
        match self {
            RtlError::Other(c) => c,
            e => facts().errors.iter().find(|x| x.name == e.name()).map(|x| x.code).expect("named in the table"),
        }
    }

    /// The error of a code (None for 0).
    pub fn from_code(code: u32) -> Option<Self> {
        if code == 0 {
            return None;
        }
        Some(Self::NAMED.into_iter().find(|e| e.code() == code).unwrap_or(RtlError::Other(code)))
    }
}

impl fmt::Display for RtlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RtlError::Other(c) => write!(f, "code {c}"),
            e => write!(f, "{} ({})", e.name(), e.code()),
        }
    }
}

/// One value per parameter of the top: the hardware a run is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct DesignPoint {
    /// N: lanes.
    pub lanes: usize,
    /// Q: weight bits.
    pub weight_bits: u32,
    /// B: bus word bits.
    pub bus_bits: u32,
    /// R: CSC run bits.
    pub run_bits: u32,
    /// P: CSC count bits.
    pub count_bits: u32,
    /// QA: activation bits.
    pub act_bits: u32,
    /// ACC: accumulator and output bits.
    pub acc_bits: u32,
    /// MAX_O: rows of one run of the PE array.
    pub max_rows: usize,
}

/// A design point outside the table's ranges.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DesignPointError(pub String);

impl Default for DesignPoint {
    fn default() -> Self {
        facts().set("n16_q8_b64").expect("built-in set n16_q8_b64")
    }
}

impl DesignPoint {
    /// Parameter values by Verilog name, in table order.
    pub fn params(&self) -> Vec<(&'static str, i64)> {
        vec![
            ("N", self.lanes as i64),
            ("Q", i64::from(self.weight_bits)),
            ("B", i64::from(self.bus_bits)),
            ("R", i64::from(self.run_bits)),
            ("P", i64::from(self.count_bits)),
            ("QA", i64::from(self.act_bits)),
            ("ACC", i64::from(self.acc_bits)),
            ("MAX_O", self.max_rows as i64),
        ]
    }

    /// The stream parameters (what the golden encoder needs).
    pub fn stream(&self) -> StreamParams {
        StreamParams {
            lanes: self.lanes,
            weight_bits: self.weight_bits,
            bus_bits: self.bus_bits,
            run_bits: self.run_bits,
            count_bits: self.count_bits,
            nm: Default::default(),
        }
    }

    /// Checks every value against the table's range (and ACC >= Q + QA, B a multiple of 8).
    pub fn validate(&self) -> Result<(), DesignPointError> {
        let t = facts();
        for (name, v) in self.params() {
            let p = t.param(name).expect("every parameter is in the table");
            if v < p.min || v > p.max {
                return Err(DesignPointError(format!(
                    "--{} {v}: {} ({name}) must be {}..={}",
                    p.flag, p.doc, p.min, p.max
                )));
            }
        }
        if self.bus_bits % 8 != 0 {
            return Err(DesignPointError(format!("--bus-bits {}: bus bits B must be a multiple of 8", self.bus_bits)));
        }
        if self.acc_bits < self.weight_bits + self.act_bits {
            return Err(DesignPointError(format!(
                "--acc-bits {}: must be at least --bits + --act-bits = {}",
                self.acc_bits,
                self.weight_bits + self.act_bits
            )));
        }
        Ok(())
    }

    /// The built-in set this point is, if any.
    pub fn builtin_name(&self) -> Option<&'static str> {
        facts().sets.iter().find(|s| s.point() == *self).map(|s| s.name.as_str())
    }

    /// A name that identifies the point: the built-in set's, else every value spelled out
    /// (`n32_q6_b128_r4_p16_a8_c32_o1280`).
    pub fn name(&self) -> String {
        match self.builtin_name() {
            Some(n) => n.to_string(),
            None => format!(
                "n{}_q{}_b{}_r{}_p{}_a{}_c{}_o{}",
                self.lanes,
                self.weight_bits,
                self.bus_bits,
                self.run_bits,
                self.count_bits,
                self.act_bits,
                self.acc_bits,
                self.max_rows
            ),
        }
    }
}

impl fmt::Display for DesignPoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "N={} Q={} B={} R={} P={} QA={} ACC={} MAX_O={}",
            self.lanes,
            self.weight_bits,
            self.bus_bits,
            self.run_bits,
            self.count_bits,
            self.act_bits,
            self.acc_bits,
            self.max_rows
        )
    }
}

/// The Verilog header every RTL module includes (`rtl/ws_defs.vh`), generated from the table:
/// FORMAT codes, error codes and parameter ranges as macros.
pub fn verilog_header() -> String {
    let t = facts();
    let mut s = String::new();
    s += "// @generated from rtl/ws_rtl.toml by `weightstream rtl-header`: do not edit.\n";
    s += "// FORMAT codes, error codes and parameter ranges of the weightstream RTL.\n\n";
    s += "`ifndef WS_DEFS_VH\n`define WS_DEFS_VH\n\n";
    s += "// FORMAT codes\n";
    for f in &t.formats {
        s += &format!("`define WS_FMT_{} {}\n", macro_name(&f.name), f.code);
    }
    s += &format!("`define WS_FMT_MIN {}\n", t.formats.iter().map(|f| f.code).min().unwrap_or(0));
    s += &format!("`define WS_FMT_MAX {}\n", t.formats.iter().map(|f| f.code).max().unwrap_or(0));
    s += "\n// error codes on error_code_o (0: none)\n";
    s += "`define WS_ERR_NONE 4'd0\n";
    for e in &t.errors {
        s += &format!("`define WS_ERR_{} 4'd{}\n", macro_name(&e.name), e.code);
    }
    s += "\n// bitmap-huffman decoder: longest code H, codes per cycle S = min(N, WS_HUF_S), window N + WS_HUF_W\n";
    s += &format!(
        "`define WS_HUF_H {}\n`define WS_HUF_S {}\n`define WS_HUF_W {}\n",
        t.huffman.max_code_len, t.huffman.codes_per_cycle, t.huffman.code_window_bits
    );
    let lh = &t.lane_huffman;
    s += "\n// lane-huffman decoder: chunk bits C, chunks per cycle R = ceil(N / WS_LHUF_LPC), header counts per\n";
    s += "// cycle, block-RAM symbol table word bits, the largest flip-flop symbol table (2^Q * Q bits)\n";
    s += &format!(
        "`define WS_LHUF_C {}\n`define WS_LHUF_LPC {}\n`define WS_LHUF_CPC {}\n`define WS_LHUF_TWB {}\n`define WS_LHUF_FFT {}\n",
        lh.chunk_bits, lh.lanes_per_chunk, lh.counts_per_cycle, lh.table_word_bits, lh.ff_table_max_bits
    );
    s += "\n// nm decoder: the most entries per group kept and the largest log2 m (a header above either is\n";
    s += "// bad-nm-header)\n";
    s += &format!("`define WS_NM_KEEP {}\n`define WS_NM_MAXLM {}\n", t.nm.keep, t.nm.max_log2_group);
    s += "\n// parameter ranges (inclusive)\n";
    for p in &t.params {
        s += &format!("`define WS_{}_MIN {}\n`define WS_{}_MAX {}\n", p.name, p.min, p.name, p.max);
    }
    s += "\n`endif  // WS_DEFS_VH\n";
    s
}

fn macro_name(kebab: &str) -> String {
    kebab.replace('-', "_").to_ascii_uppercase()
}
