//! Clock-rate measurement: cycles/s of the self-test top (counter running)
//! and of every built ws_top_* model clocked idle after reset, for the fast
//! and the traced (not tracing) variant.
//! `cargo run --release -p weightstream-sim --example speed [cycles]`

use std::time::Instant;

use weightstream_sim::{models, Sim};

fn main() {
    let cycles: u64 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(2_000_000);
    println!("Verilator runtime {}", weightstream_sim::verilator_version());
    for (info, traced) in models().iter().flat_map(|i| [(i, false), (i, true)]) {
        let model = if traced { info.instantiate_traced() } else { info.instantiate() };
        let mut sim = Sim::new(model).expect("clk port");
        sim.reset(4);
        if let Some(en) = sim.model().port("en_i") {
            sim.set(en, 1).unwrap();
        }
        let t = Instant::now();
        sim.steps(cycles);
        let s = t.elapsed().as_secs_f64();
        let variant = if traced { "traced" } else { "fast" };
        println!(
            "{:<32} {variant:<6} {:>6.2} M cycles/s ({cycles} cycles in {s:.2} s)",
            info.name,
            cycles as f64 / s / 1e6
        );
    }
}
