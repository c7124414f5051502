//! The terminal tables of `cosim` and `report --rtl` line up: every line of a table has its
//! columns at the same offsets, whatever the length of the format names (delta-bitmap-huffman)
//! and of the layer names.

use std::path::{Path, PathBuf};

use crate::util::cli;

/// A layer name longer than the layer column's usual 30 characters.
const LONG: &str = "classifier.a_rather_long_layer_name.weight";

/// A float checkpoint of two small layers, one with a long name.
fn tiny_model(dir: &Path) -> PathBuf {
    crate::util::tiny_safetensors(dir, &[("features.0.weight", vec![20, 3, 3, 3]), (LONG, vec![24, 7])], 777)
}

/// (start, end) byte offsets of the whitespace-separated tokens of a line.
fn tokens(line: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in line.char_indices().chain(std::iter::once((line.len(), ' '))) {
        match (c.is_whitespace(), start) {
            (false, None) => start = Some(i),
            (true, Some(s)) => {
                out.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    out
}

/// Every row has as many cells as the others (cells without spaces), each column starts (text,
/// left-aligned) or ends (numbers, right-aligned) at one offset in every row, and the header has
/// a cell starting or ending there too (its cells may hold spaces).
fn assert_aligned(header: &str, rows: &[&str]) {
    assert!(rows.len() >= 2, "a table of {} rows", rows.len());
    let cells: Vec<Vec<(usize, usize)>> = rows.iter().map(|r| tokens(r)).collect();
    let n = cells[0].len();
    for (r, c) in rows.iter().zip(&cells) {
        assert_eq!(c.len(), n, "cells of\n{r}\nand\n{}", rows[0]);
    }
    let head = tokens(header);
    for i in 0..n {
        let starts = cells.iter().all(|c| c[i].0 == cells[0][i].0);
        let ends = cells.iter().all(|c| c[i].1 == cells[0][i].1);
        assert!(starts || ends, "column {i} is not aligned:\n{header}\n{}", rows.join("\n"));
        let in_header = head.iter().any(|h| (starts && h.0 == cells[0][i].0) || (ends && h.1 == cells[0][i].1));
        assert!(in_header, "column {i} is not under its header:\n{header}\n{}", rows.join("\n"));
    }
}

/// `cosim --format all` on built-in models: every format name, from nm to delta-bitmap-huffman,
/// and a layer name over 30 characters.
#[test]
fn cosim_table_columns_line_up() {
    let dir = tempfile::tempdir().unwrap();
    let model = tiny_model(dir.path());
    let out = cli().args(["cosim", "--quiet", "--format", "all", "--model"]).arg(&model).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<&str> = stdout.lines().collect();
    let header = lines.iter().find(|l| l.starts_with("layer ")).expect("the columns line");
    let rows: Vec<&str> =
        lines.iter().copied().filter(|l| l.starts_with("features.0.weight ") || l.starts_with(LONG)).collect();
    assert!(rows.iter().any(|r| r.contains(" delta-bitmap-huffman ")), "{stdout}");
    assert!(rows.len() >= 2 * 8, "{stdout}");
    assert_aligned(header, &rows);
}

/// `report --rtl`: the RTL co-simulation table (and the per-layer table before it, whose rows
/// have the same cells when the shape column is left out).
#[test]
fn report_rtl_table_columns_line_up() {
    let dir = tempfile::tempdir().unwrap();
    let model = tiny_model(dir.path());
    let out = cli().args(["report", "--rtl", "--model"]).arg(&model).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<&str> = stdout.lines().collect();
    let at = lines.iter().position(|l| l.starts_with("RTL co-simulation")).expect("the RTL table");
    let header = lines[at + 1];
    assert!(lines[at + 2].starts_with("----"), "{stdout}");
    let rows: Vec<&str> = lines[at + 3..].iter().copied().take_while(|l| !l.is_empty()).collect();
    assert_eq!(rows.len(), 3, "two layers and the totals:\n{stdout}");
    assert!(header.contains("delta-bitmap-huffman cycles"), "{header}");
    assert_aligned(header, &rows);
}

/// The check itself: the table as `cosim` printed it before (a 12-character format column) fails.
#[test]
fn the_alignment_check_sees_a_shifted_column() {
    let line = |w: usize, layer: &str, format: &str, value: &str| format!("{layer:<5} {format:<w$} {value:>5}");
    let header = line(20, "layer", "format", "value");
    let good = [line(20, "a", "dense", "1"), line(20, "bb", "delta-bitmap-huffman", "22")];
    assert_aligned(&header, &good.iter().map(String::as_str).collect::<Vec<_>>());
    let old = [line(12, "a", "dense", "1"), line(12, "bb", "delta-bitmap-huffman", "22")];
    let old: Vec<&str> = old.iter().map(String::as_str).collect();
    assert!(std::panic::catch_unwind(|| assert_aligned(&header, &old)).is_err());
}
