//! The worked examples of docs/stream-formats.md, bit for bit, and a check that the document
//! still shows the same words.

use weightstream::bits::SizeBreakdown;
use weightstream::formats::csc::{column_entries, Entry};
use weightstream::Format;

use crate::util::{doc_params, hex_words, matrix};

fn doc_matrix() -> weightstream::QuantMatrix {
    matrix(&[&[3, 3], &[0, 0], &[-2, 0], &[0, 5], &[7, -8]], 4)
}

fn sizes(payload: u64, metadata: u64, padding: u64) -> SizeBreakdown {
    SizeBreakdown { payload_bits: payload, metadata_bits: metadata, padding_bits: padding }
}

fn check(format: Format, w: &weightstream::QuantMatrix, words: &[&str], expect: SizeBreakdown) {
    let s = format.encode(w, &doc_params()).unwrap();
    assert_eq!(hex_words(&s), words, "{format} words");
    assert_eq!(s.sizes, expect, "{format} size breakdown");
    assert_eq!(s.sizes.total_bits(), s.bits.len() as u64);
    assert_eq!(s.decode("example").unwrap(), *w, "{format} decodes back");
    // The document shows the same words.
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/stream-formats.md")).unwrap();
    assert!(doc.contains(&words.join("\n")), "docs/stream-formats.md lacks the {format} words {words:?}");
}

#[test]
fn dense_example() {
    check(Format::Dense, &doc_matrix(), &["0e03", "0037", "0085"], sizes(24, 0, 24));
}

#[test]
fn bitmap_example() {
    check(Format::Bitmap, &doc_matrix(), &["fe35", "2a72", "0002"], sizes(24, 10, 14));
}

#[test]
fn delta_bitmap_example() {
    check(Format::DeltaBitmap, &doc_matrix(), &["fe35", "6a58", "0000"], sizes(24, 10, 14));
}

#[test]
fn bitmap_huffman_example() {
    check(Format::BitmapHuffman, &doc_matrix(), &["4603", "bd06", "e8ae", "1593"], sizes(14, 47, 3));
}

#[test]
fn delta_bitmap_huffman_example() {
    check(Format::DeltaBitmapHuffman, &doc_matrix(), &["8403", "43ce", "6aa6", "fb86", "0001"], sizes(16, 51, 13));
}

#[test]
fn lane_huffman_example() {
    check(Format::LaneHuffman, &doc_matrix(), &["4603", "bd06", "38ae", "0022", "00e6", "0004"], sizes(14, 47, 35));
}

#[test]
fn delta_lane_huffman_example() {
    check(
        Format::DeltaLaneHuffman,
        &doc_matrix(),
        &["8403", "43ce", "6aa6", "2c04", "1f20", "0040"],
        sizes(16, 51, 29),
    );
}

/// The nm example's own layer: 2:4 with a short last group (K = 5).
pub(crate) fn nm_matrix() -> weightstream::QuantMatrix {
    matrix(&[&[0, 3, 0, -1, 2], &[0, 0, 0, 0, 0], &[5, 0, 0, 0, 0], &[0, 0, -8, 7, -3], &[4, 0, 0, 6, 0]], 4)
}

#[test]
fn nm_example() {
    check(Format::Nm, &nm_matrix(), &["0d22", "8940", "107f", "d07c", "0086", "0d00", "0000"], sizes(36, 26, 50));
}

#[test]
fn csc_example() {
    check(Format::Csc, &doc_matrix(), &["e4c3", "30dd", "0816"], sizes(24, 20, 4));
}

#[test]
fn csc_filler_example() {
    let mut rows: Vec<&[i32]> = vec![&[0]; 9];
    rows.push(&[6]);
    check(Format::Csc, &matrix(&rows, 4), &["0c33", "0019"], sizes(4, 6, 22));
}

#[test]
fn eie_paper_example() {
    let mut column = vec![0i32; 23];
    column[2] = 1;
    column[3] = 2;
    column[22] = 3;
    let mut entries = Vec::new();
    column_entries(&column, 4, &mut entries);
    let runs: Vec<u32> = entries.iter().map(|e: &Entry| e.run).collect();
    let values: Vec<i32> = entries.iter().map(|e| e.value).collect();
    assert_eq!(runs, [2, 0, 15, 2]);
    assert_eq!(values, [1, 2, 0, 3]);
    assert_eq!(entries.iter().filter(|e| e.filler).count(), 1);
}

#[test]
fn beats_follow_stream_order() {
    let beats = weightstream::pe::beats(&doc_matrix(), &doc_params());
    assert_eq!(beats, [3, 0, -2, 0, 7, 0, 0, 0, 3, 0, 0, 5, -8, 0, 0, 0]);
}

/// nm's beats go group by group (docs/stream-formats.md, the nm example's beats).
#[test]
fn nm_beats_follow_group_order() {
    let beats = Format::Nm.beats(&nm_matrix(), &doc_params());
    #[rustfmt::skip]
    let want = [0, 0, 5, 0, 3, 0, 0, 0, 0, 0, 0, -8, -1, 0, 0, 7, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 6, 0, 0, 0,
        2, 0, 0, -3, 0, 0, 0, 0];
    assert_eq!(beats, want);
}

#[test]
fn matvec_wraps_at_32_bits() {
    let w = weightstream::QuantMatrix { rows: 1, cols: 2, bits: 16, data: vec![-32768, -32768] };
    // 2 * (-32768 * -32768) = 2^31 wraps to -2^31.
    assert_eq!(weightstream::pe::matvec(&w, &[-32768, -32768]), [i32::MIN]);
}

#[test]
fn row_blocks_example() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/stream-formats.md")).unwrap();
    let w = doc_matrix();
    let csc = weightstream::blocks::encode_blocks(Format::Csc, &w, &doc_params(), 3).unwrap();
    let words: Vec<Vec<String>> = csc.blocks.iter().map(hex_words).collect();
    assert_eq!(words, [["e4c2", "00c1"], ["09d1", "0205"]]);
    for block in &words {
        assert!(doc.contains(&block.join("\n")), "docs/stream-formats.md lacks the row block words {block:?}");
    }
    assert_eq!((csc.blocks[0].rows, csc.blocks[1].rows), (3, 2));
    assert_eq!(csc.sizes(), sizes(24, 28, 12));
    assert_eq!(csc.bus_words(), 4);
    assert_eq!(csc.decode("example").unwrap(), w);
    for format in [Format::Dense, Format::Bitmap, Format::DeltaBitmap] {
        let b = weightstream::blocks::encode_blocks(format, &w, &doc_params(), 3).unwrap();
        assert_eq!(b.bus_words(), 3, "{format}");
    }
}
