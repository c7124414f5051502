//! The generated models: one struct per entry of build.rs's model table
//! whose RTL exists, plus the registry tables (`$OUT_DIR/models.rs`), and the
//! registry functions that search them and the models built on demand.
//! Depends on [`crate::model`] (the trait and FFI core); that module knows
//! nothing of this one.
//!
//! Each struct (e.g. `WsTopBitmapN16Q8B64`) has `new()`, typed
//! `set_<port>`/`get_<port>` accessors, `PORT_<NAME>` ids and implements
//! [`crate::Model`].

use crate::error::{Result, SimError};
use crate::model::{impl_model, MissingModel, Model, ModelInfo, Origin, RawModel, RawVtable, TraceFormat};
use crate::port::{PortDir, PortId, PortInfo, Storage};

include!(concat!(env!("OUT_DIR"), "/models.rs"));

/// Every model built into this binary (product tops and the self-test top).
pub fn models() -> &'static [ModelInfo] {
    &MODEL_INFOS
}

/// Models of build.rs's table that were not built, with the reason.
pub fn missing_models() -> &'static [MissingModel] {
    &MISSING_MODELS
}

/// Registry entry of model `name`.
pub fn model_info(name: &str) -> Option<&'static ModelInfo> {
    models().iter().find(|m| m.name == name).or_else(|| crate::dynamic::loaded().into_iter().find(|m| m.name == name))
}

/// The model of `top` whose parameters include all of `params`, e.g.
/// `find_model("ws_top_core", &[("FORMAT", 1), ("N", 16), ("Q", 8)])`.
/// Models built on demand in this process are searched after the linked-in ones.
pub fn find_model(top: &str, params: &[(&str, i64)]) -> Option<&'static ModelInfo> {
    let fits = |m: &ModelInfo| m.top == top && params.iter().all(|(k, v)| m.param(k) == Some(*v));
    models().iter().find(|m| fits(m)).or_else(|| crate::dynamic::loaded().into_iter().find(|m| fits(m)))
}

/// A new instance of model `name` (without tracing), or `None` if it was not built.
pub fn new_model(name: &str) -> Option<Box<dyn Model>> {
    model_info(name).map(ModelInfo::instantiate)
}

/// A new traced instance of model `name` (for waveforms), or `None`.
pub fn new_model_traced(name: &str) -> Option<Box<dyn Model>> {
    model_info(name).map(ModelInfo::instantiate_traced)
}

/// Like [`new_model`] but an error that says what was not built.
pub fn try_new_model(name: &str) -> Result<Box<dyn Model>> {
    new_model(name).ok_or_else(|| SimError::UnknownModel(name.to_string()))
}
