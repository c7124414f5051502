//! weightstream-sim: the Rust binding to Verilator models of weightstream's
//! RTL tops. It knows pins and cycles, never stream formats.
//!
//! - [`models`](mod@models): one generated struct per built model (`WsTopBitmapN16Q8B64`,
//!   ...), each with its own `VerilatedContext`, typed port accessors, and the
//!   object-safe [`Model`] trait; [`models()`](fn@models)/[`new_model`]/[`find_model`]
//!   pick one at run time by name or parameters.
//! - [`Sim`]: clock, reset, cycle count, waveform on/off or in a window; [`Sim::hot`] the
//!   per-cycle fast path (ports resolved once to pointers into the model, module `hot`).
//! - [`Source`]/[`Sink`] with [`Pause`]: generic valid/ready stream endpoints.
//!
//! ```no_run
//! use weightstream_sim::{find_model, Pause, Sim, Sink, Source, StreamPorts, Agent};
//! let info = find_model("ws_top_core", &[("FORMAT", 1), ("N", 16), ("Q", 8)]).expect("built");
//! let mut sim = Sim::new(info.instantiate())?;
//! sim.reset(4);
//! let m = sim.model();
//! let w = StreamPorts::by_name(m, "s_w_data_i", "s_w_valid_i", "s_w_ready_o", Some("s_w_last_i"))?;
//! let mut src = Source::new(m, w, Pause::Pattern(vec![true, true, false]))?;
//! src.push_frame([[1u32, 2], [3, 4]])?;
//! let y = StreamPorts::by_name(m, "m_y_data_o", "m_y_valid_o", "m_y_ready_i", Some("m_y_last_o"))?;
//! let mut sink = Sink::new(m, y, Pause::Random { seed: 1, p_pause: 0.25 })?;
//! let done = m.port_id("done_o")?; // resolve names once, use ids per cycle
//! sim.run_until(&mut [&mut src, &mut sink], 10_000, |m| m.get_u64(done).is_ok_and(|v| v == 1))?;
//! println!("{} outputs in {} cycles", sink.len(), sim.cycle());
//! # Ok::<(), weightstream_sim::SimError>(())
//! ```
//!
//! # Models and variants
//!
//! build.rs reads the RTL facts table `../rtl/ws_rtl.toml` and builds its top (`ws_top_core`)
//! once per format (`-GFORMAT=<code>`) and built-in parameter set, registered as
//! `ws_top_<format>_<set>` (e.g. `ws_top_bitmap_n16_q8_b64`), plus the crate's self-test top.
//! Any other parameters are built on demand at run time ([`build_model`], module
//! [`dynamic`]): verilated and compiled into a cache directory the caller names, keyed by the
//! RTL's content, the parameters and the Verilator version, and loaded through the same
//! [`Model`] interface.
//! Each model is built twice: `new()` / [`ModelInfo::instantiate`] give the
//! fast variant, `new_traced()` / [`ModelInfo::instantiate_traced`] the one
//! that can write waveforms (Verilator's tracing support slows every cycle
//! by 5-40% even when not tracing). Waveforms are VCD, or FST with the
//! `fst` feature (a Verilated model supports one format).
//!
//! # Build
//!
//! Needs `verilator` 5.x on PATH. Generated files live in
//! `$OUT_DIR/models/<model>[_tr]/gen/` (Verilator output, `wsv_<model>.cpp`
//! unity file + wrapper, `wsv_<model>__slow.cpp`, `verilator.log`),
//! `$OUT_DIR/models.rs` (the Rust bindings) and `$OUT_DIR/build-times.txt`;
//! compiled libraries are cached by content in
//! `<target dir>/weightstream-sim-models/`, shared by all profiles.
//! Environment: `WEIGHTSTREAM_RTL_DIR` (RTL location), `WEIGHTSTREAM_SIM_MODELS`
//! (comma list of models or tops to build, for quick iterations),
//! `WEIGHTSTREAM_SIM_VERILATOR_ARGS` (extra verilator flags),
//! `WEIGHTSTREAM_SIM_TIMINGS=1` (print build times as cargo warnings),
//! `WEIGHTSTREAM_SIM_CACHE` (library cache directory).

pub mod dynamic;
mod error;
mod gen;
mod hot;
mod model;
pub mod models;
mod pause;
mod port;
mod record;
mod sim;
mod stream;

// Links the Verilator runtime (compiled once in its own crate).
pub use weightstream_verilator_runtime::verilator_version;

pub use dynamic::{build_model, build_testbench, BuildEvent, BuildRequest};
pub use error::{Result, SimError};
pub use hot::{Bit, BitIn, Cycles, Wire, WireIn};
pub use model::{MissingModel, Model, ModelInfo, TraceFormat};
pub use models::*;
pub use pause::{Pause, PauseGen};
pub use port::{PortDir, PortId, PortInfo};
pub use sim::{Agent, Reset, Sim, PERIOD};
pub use stream::{Sink, Source, StreamPorts};
