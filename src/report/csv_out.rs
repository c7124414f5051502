//! The report as CSV: one row per (layer, format), layer columns repeated, totals last; sizes are
//! sums over the layer's row blocks (`blocks` column). The last columns are the decoder's
//! delivered rate ([`super::rate`]): clock (MHz, `fmax` or `user`), decode cycles (`rtl` or
//! `ideal`), beats per cycle and weights per second.

use std::io::{self, Write};

use serde::Serialize;

use super::rate::{ClockSource, CycleSource};
use super::{LayerStats, Report, Reporter};

/// Long-form CSV, one row per layer and format.
pub struct CsvReporter;

#[derive(Serialize)]
struct Row<'a> {
    layer: &'a str,
    shape: String,
    rows: usize,
    cols: usize,
    blocks: usize,
    weights: u64,
    nonzeros: u64,
    density: f64,
    magnitude_kept: f64,
    delta_nonzeros: u64,
    delta_density: f64,
    entropy_bits: f64,
    delta_entropy_bits: f64,
    beats: u64,
    format: &'static str,
    payload_bits: u64,
    metadata_bits: u64,
    padding_bits: u64,
    total_bits: u64,
    bus_words: u64,
    ratio_vs_dense: f64,
    saved_pct: f64,
    clock_mhz: f64,
    clock_source: &'static str,
    decode_cycles: u64,
    cycles_source: &'static str,
    beats_per_cycle: f64,
    delivered_weights_per_s: f64,
    /// Why the format does not apply (its sizes are then 0); empty where it does.
    not_applicable: &'a str,
}

fn rows(l: &LayerStats) -> impl Iterator<Item = Row<'_>> {
    l.formats.iter().map(move |f| Row {
        layer: &l.name,
        shape: l.shape.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("x"),
        rows: l.rows,
        cols: l.cols,
        blocks: l.blocks,
        weights: l.weights,
        nonzeros: l.nonzeros,
        density: l.density,
        magnitude_kept: l.magnitude_kept,
        delta_nonzeros: l.delta_nonzeros,
        delta_density: l.delta_density,
        entropy_bits: l.entropy_bits,
        delta_entropy_bits: l.delta_entropy_bits,
        beats: l.beats,
        format: f.format.name(),
        payload_bits: f.payload_bits,
        metadata_bits: f.metadata_bits,
        padding_bits: f.padding_bits,
        total_bits: f.total_bits,
        bus_words: f.bus_words,
        ratio_vs_dense: f.ratio_vs_dense,
        saved_pct: f.saved_pct,
        clock_mhz: f.delivered.clock_mhz,
        clock_source: match f.delivered.clock_source {
            ClockSource::Fmax => "fmax",
            ClockSource::User => "user",
        },
        decode_cycles: f.delivered.cycles,
        cycles_source: match f.delivered.cycles_source {
            CycleSource::Rtl => "rtl",
            CycleSource::Ideal => "ideal",
        },
        beats_per_cycle: f.delivered.beats_per_cycle,
        delivered_weights_per_s: f.delivered.weights_per_s,
        not_applicable: f.not_applicable.as_deref().unwrap_or(""),
    })
}

impl Reporter for CsvReporter {
    fn write(&self, r: &Report, out: &mut dyn Write) -> io::Result<()> {
        let mut w = csv::Writer::from_writer(out);
        for l in r.layers.iter().chain(std::iter::once(&r.totals)) {
            for row in rows(l) {
                w.serialize(row).map_err(io::Error::other)?;
            }
        }
        w.flush()
    }
}
