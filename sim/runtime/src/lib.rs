//! The Verilator 5 runtime library (verilated.cpp, verilated_threads.cpp and
//! the VCD or FST writer) compiled once, so that editing RTL only rebuilds the
//! models in `weightstream-sim`, never this.
//!
//! This crate has no API of its own beyond a version probe; its job is to put
//! the runtime's symbols into the link and to pass the Verilator root, trace
//! format and C++ defines to `weightstream-sim`'s build script (`links`
//! metadata).

use std::ffi::CStr;
use std::os::raw::c_char;

extern "C" {
    fn wsv_verilator_version() -> *const c_char;
}

/// Version string of the Verilator runtime linked in (e.g. `"5.006 2023-01-22"`).
pub fn verilator_version() -> &'static str {
    // SAFETY: returns a pointer to a static NUL-terminated string owned by the runtime.
    unsafe { CStr::from_ptr(wsv_verilator_version()) }.to_str().unwrap_or("?")
}

/// Trace format the runtime (and so every model) was built for.
pub const TRACE_FST: bool = cfg!(feature = "fst");

#[cfg(test)]
mod tests {
    #[test]
    fn version_is_5() {
        assert!(super::verilator_version().starts_with('5'), "{}", super::verilator_version());
    }
}
