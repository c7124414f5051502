//! For which S (codes decoded per cycle) the bitmap-huffman decoders keep up with the bus: per
//! sparsity, MobileNetV2's sum over layers of the decoder loop's cycles (header fields + each
//! beat's greedy walk, `huffman::loop_cycles`) against max(beats, words) of the stream, with the
//! built window (N + code_window_bits of rtl/ws_rtl.toml) and with a window that holds S codes
//! of the longest length (N + S*H).
//!
//! `cargo run --release --example huffman_units [-- --rtl-config n8_q4_b32]`

use weightstream::formats::huffman::loop_cycles;
use weightstream::model::{Model, ModelSpec};
use weightstream::prepare::{prepare, PrepareConfig};
use weightstream::rtl::facts;
use weightstream::Format;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let set = args.iter().position(|a| a == "--rtl-config").and_then(|i| args.get(i + 1)).map_or("n16_q8_b64", |s| s);
    let point = facts().set(set).ok_or_else(|| format!("unknown set {set}"))?;
    let p = point.stream();
    let model = Model::load(&ModelSpec::MobileNetV2)?;
    println!("{set}: cycles of the decoder loop / max(beats, words), MobileNetV2 (all layers summed)");
    let h = &facts().huffman;
    println!("sparsity  format                 window    beats    words     S=1    S=2    S=4    S=8   S=16");
    for sparsity in [0.5, 0.7, 0.9] {
        let cfg = PrepareConfig { sparsity, bits: p.weight_bits, ..PrepareConfig::default() };
        let layers = prepare(&model, &cfg)?;
        for ((format, delta), built) in [(Format::BitmapHuffman, false), (Format::DeltaBitmapHuffman, true)]
            .into_iter()
            .flat_map(|f| [(f, true), (f, false)])
        {
            let (mut beats, mut words) = (0u64, 0u64);
            let mut ratios = Vec::new();
            for s in [1usize, 2, 4, 8, 16] {
                let (mut need, mut bound) = (0u64, 0u64);
                for l in &layers {
                    for block in weightstream::blocks::row_blocks(&l.matrix, point.max_rows)? {
                        let block = &block.matrix;
                        let st = format.encode(block, &p)?;
                        let units = s.min(p.lanes);
                        let bits = if built { h.code_window_bits } else { units * h.max_code_len as usize };
                        let (fields, cycles) = loop_cycles(block, &p, delta, units, bits);
                        let b = p.beats(block.rows, block.cols) as u64;
                        let w = st.bus_words() as u64;
                        need += fields + cycles.max(w);
                        bound += b.max(w);
                        if s == 1 {
                            beats += b;
                            words += w;
                        }
                    }
                }
                ratios.push(need as f64 / bound as f64);
            }
            let r: Vec<String> = ratios.iter().map(|r| format!("{r:6.3}")).collect();
            let window = if built { format!("N+{}", h.code_window_bits) } else { "N+S*H".to_string() };
            println!("{sparsity:8.1}  {:<22} {window:>6} {beats:8} {words:8}  {}", format.name(), r.join(" "));
        }
    }
    Ok(())
}
