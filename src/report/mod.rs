//! The bandwidth report: per layer and format the bits on the wire (payload, metadata, padding),
//! bus words, ratio against dense and bandwidth saved, plus density and entropy bounds. Sizes
//! only: every size comes from a stream whose decode round-tripped bit-exact. A layer taller than
//! the PE array (O > MAX_O) is encoded as row blocks ([`crate::blocks`]) and every count is the
//! sum over its blocks, what the hardware fetches. Reporters (table, CSV, JSON, Markdown) render
//! one [`Report`] behind the [`Reporter`] trait.

pub mod bundle;
pub mod charts;
mod csv_out;
pub mod energy;
mod json_out;
pub mod lazy;
mod markdown;
pub mod rate;
mod table;

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;

pub use csv_out::CsvReporter;
pub use json_out::JsonReporter;
pub use markdown::MarkdownReporter;
pub use table::TableReporter;

use crate::blocks::{self, BlockError, BlockedStream};
use crate::entropy;
use crate::formats::{DecodeError, Format, StreamParams};
use crate::matrix::QuantMatrix;
use crate::model::{Model, Remainder};
use crate::prepare::{PrepareConfig, PreparedLayer};
use crate::quant::Squares;

/// Renders a report in one output format.
pub trait Reporter {
    /// Writes the whole report.
    fn write(&self, report: &Report, out: &mut dyn Write) -> io::Result<()>;
}

/// Sizes of one layer in one format, summed over the layer's row blocks.
#[derive(Debug, Clone, Serialize)]
pub struct FormatStats {
    /// The format.
    pub format: Format,
    /// Bits of real nonzero values.
    pub payload_bits: u64,
    /// Bits of masks, runs, counts.
    pub metadata_bits: u64,
    /// Filler entries, zero values written out, last-word fill.
    pub padding_bits: u64,
    /// Bits on the wire: payload + metadata + padding = bus_words * B.
    pub total_bits: u64,
    /// Bus words on the wire.
    pub bus_words: u64,
    /// Dense bits / this format's bits (above 1 means smaller than dense).
    pub ratio_vs_dense: f64,
    /// Bandwidth saved against dense, percent of dense's bus words (negative: the format costs more).
    pub saved_pct: f64,
    /// Measured on the RTL (`report --rtl`), absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rtl: Option<RtlMeasure>,
    /// Weights per second the format's decoder delivers to the PE array: its clock (front-end
    /// Fmax where `weightstream cost` measured it, else --clock-mhz) x beats/cycle (RTL or ideal)
    /// x N ([`rate`]).
    pub delivered: rate::Delivered,
    /// Why the format does not apply (an `nm` stream of a layer that is not n:m; on the totals
    /// line, how many layers): every size is then 0 and the reporters print "n/a".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_applicable: Option<String>,
}

impl FormatStats {
    /// True when the format applies (its sizes mean something).
    pub fn applies(&self) -> bool {
        self.not_applicable.is_none()
    }
}

/// What the RTL decoder of this format did with the layer's stream (co-simulated, every beat and
/// output checked against the golden model).
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct RtlMeasure {
    /// Decode-phase cycles.
    pub cycles: u64,
    /// Bus words the RTL accepted.
    pub words: u64,
    /// max(beats, words) / cycles.
    pub efficiency: f64,
    /// Cycles the decoder waited for input.
    pub starved: u64,
    /// Cycles a beat waited for the PE array.
    pub stalled: u64,
    /// Beats and outputs that differed from the golden model (must be 0).
    pub mismatches: u64,
    /// Bus words saved against the dense top's measured words, percent.
    pub saved_pct: f64,
}

/// One layer's line of the report.
#[derive(Debug, Clone, Serialize)]
pub struct LayerStats {
    /// Tensor name.
    pub name: String,
    /// Original tensor shape.
    pub shape: Vec<usize>,
    /// O.
    pub rows: usize,
    /// K.
    pub cols: usize,
    /// Row blocks the layer runs as: ceil(O / MAX_O) (1 when it fits; the sum on the totals line).
    pub blocks: usize,
    /// O * K.
    pub weights: u64,
    /// Nonzero quantized weights.
    pub nonzeros: u64,
    /// nonzeros / weights.
    pub density: f64,
    /// Squared magnitude kept: the fraction of the float weights' sum of w^2 that pruning keeps
    /// (before quantization; 1 when nothing is pruned). A cheap proxy, not accuracy.
    pub magnitude_kept: f64,
    /// The exact sums behind `magnitude_kept` (what the totals line adds up).
    #[serde(skip)]
    pub squares: Squares,
    /// Nonzeros of D, the difference along k.
    pub delta_nonzeros: u64,
    /// delta_nonzeros / weights.
    pub delta_density: f64,
    /// Order-0 entropy bound of W, in bits for the whole layer.
    pub entropy_bits: f64,
    /// Order-0 entropy bound of D, in bits for the whole layer.
    pub delta_entropy_bits: f64,
    /// Beats the PE array consumes, summed over the row blocks: K * ceil(O_i / N) per block.
    pub beats: u64,
    /// One entry per format, in [`Format::ALL`] order.
    pub formats: Vec<FormatStats>,
}

/// A full report: what was measured and with which settings.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// `weightstream <version>`.
    pub tool: String,
    /// Model name.
    pub model: String,
    /// File or spec the model came from.
    pub source: String,
    /// trained / untrained / synthetic / user checkpoint.
    pub provenance: String,
    /// Parameters as PyTorch counts them.
    pub parameters: u64,
    /// Pruning and quantization.
    pub prepare: PrepareConfig,
    /// Stream parameters.
    pub stream: StreamParams,
    /// MAX_O: rows the PE array holds; taller layers run as row blocks.
    pub max_rows: usize,
    /// Per layer.
    pub layers: Vec<LayerStats>,
    /// Sums over all layers (density from the sums).
    pub totals: LayerStats,
    /// Tensors sent dense and uncompressed (biases, batch-norm).
    pub remainder: Remainder,
}

/// Errors while building a report.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("layer {layer}: {source}")]
    Encode { layer: String, source: BlockError },
    #[error(transparent)]
    MaxRows(BlockError),
    #[error(transparent)]
    Decode(#[from] DecodeError),
    #[error(
        "layer {layer} ({format}): decoded stream differs from the input matrix (first at row {row}, column {col})"
    )]
    RoundTrip { layer: String, format: Format, row: usize, col: usize },
}

/// Encodes a layer in every format as row blocks of at most `max_rows` rows and checks that
/// each block's stream decodes bit-exact to the block.
pub fn encode_verified(
    layer: &PreparedLayer,
    params: &StreamParams,
    max_rows: usize,
) -> Result<Vec<BlockedStream>, ReportError> {
    let encode_err = |source| ReportError::Encode { layer: layer.name.clone(), source };
    let row_blocks = blocks::row_blocks(&layer.matrix, max_rows).map_err(encode_err)?;
    Format::ALL
        .iter()
        .map(|&format| {
            let stream = BlockedStream::encode(format, &row_blocks, params, max_rows).map_err(encode_err)?;
            // A format that does not apply has no blocks to check.
            for (b, s) in row_blocks.iter().zip(&stream.blocks) {
                let back = s.decode(&blocks::block_name(&layer.name, b.index, row_blocks.len()))?;
                if let Some(i) = back.data.iter().zip(&b.matrix.data).position(|(x, y)| x != y) {
                    return Err(ReportError::RoundTrip {
                        layer: layer.name.clone(),
                        format,
                        row: b.row_offset + i / b.matrix.cols,
                        col: i % b.matrix.cols,
                    });
                }
            }
            Ok(stream)
        })
        .collect()
}

/// Measures one layer from its verified streams (one per format, each as row blocks): every
/// count is the sum over the blocks.
pub fn layer_stats(layer: &PreparedLayer, streams: &[BlockedStream], params: &StreamParams) -> LayerStats {
    let mut part = Partial::measure(&layer.matrix, streams, params);
    part.squares = layer.squares;
    part.finish(&layer.name, &layer.shape)
}

/// What a layer, or one row block of it, adds to the layer's line: sums, and the value histograms
/// the entropy bounds come from. Partials of a layer's blocks add up to the layer's (in any order).
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
pub struct Partial {
    rows: usize,
    cols: usize,
    blocks: usize,
    weights: u64,
    nonzeros: u64,
    delta_nonzeros: u64,
    beats: u64,
    /// Per format, in stream order.
    formats: Vec<FormatSums>,
    counts: BTreeMap<i32, u64>,
    delta_counts: BTreeMap<i32, u64>,
    /// Squared magnitude before and after pruning (set from the prepared layer or block).
    #[serde(default)]
    squares: Squares,
}

/// One format's sums in a [`Partial`].
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
struct FormatSums {
    format: Format,
    payload_bits: u64,
    metadata_bits: u64,
    padding_bits: u64,
    total_bits: u64,
    bus_words: u64,
    /// Why the format does not apply to this part (none: it does).
    #[serde(default)]
    not_applicable: Option<String>,
}

impl Partial {
    /// Measures a matrix (a layer, or a row block as a layer of its own) from its verified streams.
    pub fn measure(w: &QuantMatrix, streams: &[BlockedStream], params: &StreamParams) -> Partial {
        let d = w.delta_along_k();
        // Values are Q <= 16-bit: count them in an array, keep the nonzero bins.
        let histogram = |data: &[i32]| {
            let mut dense = vec![0u64; 1 << 16];
            let mut h = BTreeMap::new();
            for &v in data {
                match usize::try_from(v + (1 << 15)).ok().and_then(|i| dense.get_mut(i)) {
                    Some(c) => *c += 1,
                    None => *h.entry(v).or_insert(0u64) += 1,
                }
            }
            for (i, &c) in dense.iter().enumerate() {
                if c > 0 {
                    h.insert(i as i32 - (1 << 15), c);
                }
            }
            h
        };
        let (blocks, beats) =
            streams.first().map_or((1, params.beats(w.rows, w.cols)), |s| (s.blocks.len(), s.beats()));
        Partial {
            rows: w.rows,
            cols: w.cols,
            blocks,
            weights: w.len() as u64,
            nonzeros: w.nonzeros() as u64,
            delta_nonzeros: d.nonzeros() as u64,
            beats: beats as u64,
            formats: streams
                .iter()
                .map(|s| {
                    let sizes = s.sizes();
                    FormatSums {
                        format: s.format,
                        payload_bits: sizes.payload_bits,
                        metadata_bits: sizes.metadata_bits,
                        padding_bits: sizes.padding_bits,
                        total_bits: s.total_bits(),
                        bus_words: s.bus_words() as u64,
                        not_applicable: s.not_applicable.clone(),
                    }
                })
                .collect(),
            counts: histogram(&w.data),
            delta_counts: histogram(&d.data),
            squares: Squares::default(),
        }
    }

    /// Adds the next row block of the same layer.
    pub fn add(&mut self, other: Partial) {
        // The empty partial (no block yet) takes the first block as it is.
        if self.blocks == 0 {
            *self = other;
            return;
        }
        self.rows += other.rows;
        self.blocks += other.blocks;
        self.weights += other.weights;
        self.nonzeros += other.nonzeros;
        self.delta_nonzeros += other.delta_nonzeros;
        self.beats += other.beats;
        for (mine, theirs) in self.formats.iter_mut().zip(other.formats) {
            mine.payload_bits += theirs.payload_bits;
            mine.metadata_bits += theirs.metadata_bits;
            mine.padding_bits += theirs.padding_bits;
            mine.total_bits += theirs.total_bits;
            mine.bus_words += theirs.bus_words;
            // The layer is n/a when any of its blocks is: the first block's reason.
            if mine.not_applicable.is_none() {
                mine.not_applicable = theirs.not_applicable;
            }
        }
        for (v, c) in other.counts {
            *self.counts.entry(v).or_insert(0) += c;
        }
        for (v, c) in other.delta_counts {
            *self.delta_counts.entry(v).or_insert(0) += c;
        }
        self.squares.add(&other.squares);
    }

    /// The layer's line.
    pub fn finish(self, name: &str, shape: &[usize]) -> LayerStats {
        let formats = self
            .formats
            .iter()
            .map(|f| FormatStats {
                format: f.format,
                payload_bits: f.payload_bits,
                metadata_bits: f.metadata_bits,
                padding_bits: f.padding_bits,
                total_bits: f.total_bits,
                bus_words: f.bus_words,
                ratio_vs_dense: 0.0,
                saved_pct: 0.0,
                rtl: None,
                delivered: rate::Delivered::default(),
                not_applicable: f.not_applicable.clone(),
            })
            .collect();
        let mut stats = LayerStats {
            name: name.to_string(),
            shape: shape.to_vec(),
            rows: self.rows,
            cols: self.cols,
            blocks: self.blocks,
            weights: self.weights,
            nonzeros: self.nonzeros,
            density: ratio(self.nonzeros as f64, self.weights as f64),
            magnitude_kept: self.squares.fraction(),
            squares: self.squares,
            delta_nonzeros: self.delta_nonzeros,
            delta_density: ratio(self.delta_nonzeros as f64, self.weights as f64),
            entropy_bits: entropy::order0_bits_of_counts(self.counts.into_values().collect()),
            delta_entropy_bits: entropy::order0_bits_of_counts(self.delta_counts.into_values().collect()),
            beats: self.beats,
            formats,
        };
        fill_ratios(&mut stats);
        stats
    }
}

fn ratio(a: f64, b: f64) -> f64 {
    if b == 0.0 {
        0.0
    } else {
        a / b
    }
}

/// Bandwidth saved against dense, in percent of dense's bus words: the one definition every
/// report, co-simulation and sweep line uses (0 when dense has no words).
pub fn saved_pct(words: u64, dense_words: u64) -> f64 {
    100.0 * (1.0 - ratio(words as f64, dense_words as f64))
}

/// Fills ratio and saved % of every format from its bits against the dense entry (0 where the
/// format does not apply).
fn fill_ratios(stats: &mut LayerStats) {
    let dense = stats.formats.iter().find(|f| f.format == Format::Dense).map(|f| (f.total_bits, f.bus_words));
    if let Some((dense_bits, dense_words)) = dense {
        for f in stats.formats.iter_mut().filter(|f| f.applies()) {
            f.ratio_vs_dense = ratio(dense_bits as f64, f.total_bits as f64);
            f.saved_pct = saved_pct(f.bus_words, dense_words);
        }
    }
}

/// Sums layers into the totals line.
pub fn totals(layers: &[LayerStats]) -> LayerStats {
    let mut t = LayerStats {
        name: "TOTAL".into(),
        shape: vec![],
        rows: 0,
        cols: 0,
        blocks: 0,
        weights: 0,
        nonzeros: 0,
        density: 0.0,
        magnitude_kept: 1.0,
        squares: Squares::default(),
        delta_nonzeros: 0,
        delta_density: 0.0,
        entropy_bits: 0.0,
        delta_entropy_bits: 0.0,
        beats: 0,
        formats: Format::ALL
            .iter()
            .map(|&format| FormatStats {
                format,
                payload_bits: 0,
                metadata_bits: 0,
                padding_bits: 0,
                total_bits: 0,
                bus_words: 0,
                ratio_vs_dense: 0.0,
                saved_pct: 0.0,
                rtl: None,
                delivered: rate::Delivered::default(),
                not_applicable: None,
            })
            .collect(),
    };
    // Per format, the layers it does not apply to (the totals line is then n/a too).
    let mut not_applicable = vec![0usize; t.formats.len()];
    for l in layers {
        t.blocks += l.blocks;
        t.weights += l.weights;
        t.nonzeros += l.nonzeros;
        t.delta_nonzeros += l.delta_nonzeros;
        t.entropy_bits += l.entropy_bits;
        t.delta_entropy_bits += l.delta_entropy_bits;
        t.beats += l.beats;
        t.squares.add(&l.squares);
        for f in &l.formats {
            if let Some(i) = t.formats.iter().position(|x| x.format == f.format) {
                let tf = &mut t.formats[i];
                if !f.applies() {
                    not_applicable[i] += 1;
                }
                tf.payload_bits += f.payload_bits;
                tf.metadata_bits += f.metadata_bits;
                tf.padding_bits += f.padding_bits;
                tf.total_bits += f.total_bits;
                tf.bus_words += f.bus_words;
                if let Some(m) = f.rtl {
                    let t = tf.rtl.get_or_insert_with(RtlMeasure::default);
                    t.cycles += m.cycles;
                    t.words += m.words;
                    t.starved += m.starved;
                    t.stalled += m.stalled;
                    t.mismatches += m.mismatches;
                }
            }
        }
    }
    for (f, &n) in t.formats.iter_mut().zip(&not_applicable) {
        if n > 0 {
            let what = if f.format == Format::Nm { "not n:m" } else { "not applicable" };
            f.not_applicable = Some(format!("{n} of {} layers {what}", layers.len()));
            (f.payload_bits, f.metadata_bits, f.padding_bits, f.total_bits, f.bus_words) = (0, 0, 0, 0, 0);
        }
    }
    let dense_words = t.formats.iter().find(|f| f.format == Format::Dense).and_then(|f| f.rtl).map(|m| m.words);
    for f in &mut t.formats {
        if let Some(m) = f.rtl.as_mut() {
            m.efficiency = ratio(m.words.max(t.beats) as f64, m.cycles as f64);
            m.saved_pct = dense_words.map_or(0.0, |d| saved_pct(m.words, d));
        }
    }
    t.density = ratio(t.nonzeros as f64, t.weights as f64);
    t.magnitude_kept = t.squares.fraction();
    t.delta_density = ratio(t.delta_nonzeros as f64, t.weights as f64);
    fill_ratios(&mut t);
    t
}

/// Builds the report: encodes every layer in every format as row blocks of at most `max_rows`
/// (MAX_O) rows, verifies each block's round trip, measures. `on_layer` is called with each
/// layer's streams, one [`BlockedStream`] per format in [`Format::ALL`] order (for
/// `--emit-streams`, progress, and RTL co-simulation, whose measurements, each summed over the
/// blocks, it returns in format order, or none).
pub fn build(
    model: &Model,
    layers: &[PreparedLayer],
    prepare: &PrepareConfig,
    params: &StreamParams,
    max_rows: usize,
    mut on_layer: impl FnMut(&PreparedLayer, &[BlockedStream]) -> Result<Vec<RtlMeasure>, BuildError>,
) -> Result<Report, BuildError> {
    blocks::check_max_rows(max_rows).map_err(ReportError::MaxRows)?;
    let mut stats = Vec::with_capacity(layers.len());
    for layer in layers {
        let streams = encode_verified(layer, params, max_rows)?;
        let rtl = on_layer(layer, &streams)?;
        let mut s = layer_stats(layer, &streams, params);
        for (f, m) in s.formats.iter_mut().zip(rtl) {
            f.rtl = Some(m);
        }
        stats.push(s);
    }
    Ok(assemble(
        ModelFacts {
            name: &model.name,
            source: &model.source,
            provenance: model.provenance,
            parameters: model.parameter_count(),
            remainder: model.remainder(),
        },
        prepare,
        params,
        max_rows,
        stats,
    ))
}

/// What the report says of the model itself.
pub(crate) struct ModelFacts<'a> {
    pub name: &'a str,
    pub source: &'a str,
    pub provenance: crate::model::Provenance,
    pub parameters: u64,
    pub remainder: Remainder,
}

/// The report from its layers' lines.
pub(crate) fn assemble(
    model: ModelFacts<'_>,
    prepare: &PrepareConfig,
    params: &StreamParams,
    max_rows: usize,
    stats: Vec<LayerStats>,
) -> Report {
    let totals = totals(&stats);
    let mut report = Report {
        tool: format!("weightstream {}", env!("CARGO_PKG_VERSION")),
        model: model.name.to_string(),
        source: model.source.to_string(),
        provenance: model.provenance.label().to_string(),
        parameters: model.parameters,
        prepare: *prepare,
        stream: *params,
        max_rows,
        layers: stats,
        totals,
        remainder: model.remainder,
    };
    // Every format at the default clock until the caller knows better (rate::apply with the
    // measured Fmax and the user's clock).
    rate::apply(&mut report, &rate::Clocks::user(energy::DEFAULT_CLOCK_MHZ));
    report
}

/// A report could not be built: a layer failed, or a stream could not be written.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Layer(#[from] ReportError),
    #[error("writing streams: {0}")]
    Io(io::Error),
    #[error("{0}")]
    Rtl(String),
    #[error(transparent)]
    Load(#[from] crate::model::LoadError),
    #[error(transparent)]
    Prepare(crate::quant::QuantError),
}

/// Formats a bit count as kbit with one decimal, for tables.
pub(crate) fn kbit(bits: u64) -> String {
    format!("{:.1}", bits as f64 / 1000.0)
}

/// Entropy bound in bits per weight.
pub(crate) fn per_weight(bits: f64, weights: u64) -> f64 {
    ratio(bits, weights as f64)
}
