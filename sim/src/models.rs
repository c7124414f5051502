//! The generated models: one struct per entry of build.rs's model table
//! whose RTL exists, plus the registry tables (`$OUT_DIR/models.rs`).
//!
//! Each struct (e.g. `WsTopBitmapN16Q8B64`) has `new()`, typed
//! `set_<port>`/`get_<port>` accessors, `PORT_<NAME>` ids and implements
//! [`crate::Model`].

use crate::model::{impl_model, MissingModel, ModelInfo, Origin, RawModel, RawVtable, TraceFormat};
use crate::port::{PortDir, PortId, PortInfo, Storage};

include!(concat!(env!("OUT_DIR"), "/models.rs"));
