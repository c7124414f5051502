//! weightstream-sim: the Rust binding to Verilator models of weightstream's
//! RTL tops. It knows pins and cycles, never stream formats.
//!
//! - [`models`]: one generated struct per built model (`WsTopBitmapN16Q8B64`,
//!   ...), each with its own `VerilatedContext`, typed port accessors, and the
//!   object-safe [`Model`] trait; [`models()`](fn@models)/[`new_model`]/[`find_model`]
//!   pick one at run time by name or parameters.
//! - [`Sim`]: clock, reset, cycle count, waveform on/off or in a window.
//! - [`Source`]/[`Sink`] with [`Pause`]: generic valid/ready stream endpoints.
//!
//! ```no_run
//! use weightstream_sim::{find_model, Pause, Sim, Sink, Source, StreamPorts, Agent};
//! let info = find_model("ws_top_bitmap", &[("N", 16), ("Q", 8)]).expect("built");
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
//! Models are built by build.rs from `../rtl` (tops whose file is missing
//! are skipped with a cargo warning; see [`missing_models`]).

mod error;
mod model;
pub mod models;
mod pause;
mod port;
mod sim;
mod stream;

// Links the Verilator runtime (compiled once in its own crate).
pub use weightstream_verilator_runtime::verilator_version;

pub use error::{Result, SimError};
pub use model::{
    find_model, missing_models, model_info, models, new_model, new_model_traced, try_new_model, MissingModel, Model,
    ModelInfo, TraceFormat,
};
pub use models::*;
pub use pause::{Pause, PauseGen};
pub use port::{PortDir, PortId, PortInfo};
pub use sim::{Agent, Reset, Sim, PERIOD};
pub use stream::{Sink, Source, StreamPorts};
