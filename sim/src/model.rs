//! The `Model` trait every generated model implements and the FFI core they
//! share (`RawModel`: handle, port pointers, waveform state). The registry of
//! built models is in [`crate::models`], which depends on this module (never
//! the other way round).
//!
//! Port values are read and written directly in the model's memory through
//! pointers fetched once at construction, so a per-cycle `set`/`get` costs a
//! bounds check and a store, no FFI call and no allocation; through a
//! `dyn Model`, also a dynamic call and a `Result`. Loops that want none of
//! that use [`crate::Sim::hot`] (module `hot`), which hands out the pointers
//! themselves, safely scoped.

use std::ffi::{c_void, CString};
use std::os::raw::{c_char, c_int};
use std::path::{Path, PathBuf};
use std::ptr::NonNull;

use crate::error::{Result, SimError};
use crate::port::{PortId, PortInfo, Storage};

/// Waveform format the models were built for (one per build: a Verilated
/// model's trace code is specific to VCD or FST).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TraceFormat {
    Vcd,
    Fst,
}

impl TraceFormat {
    /// File extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            TraceFormat::Vcd => "vcd",
            TraceFormat::Fst => "fst",
        }
    }
}

mod sealed {
    /// Argument of [`super::Model::raw_model`]: public, so the trait can name it, but in a
    /// private module, so no other crate can name it and override that method.
    #[derive(Clone, Copy)]
    pub struct Sealed;
}
pub(crate) use sealed::Sealed;

/// Registry entry of a built model: what it is and how to make one.
#[derive(Debug)]
pub struct ModelInfo {
    /// Registry name, e.g. `ws_top_bitmap_n16_q8_b64`.
    pub name: &'static str,
    /// Name of the generated Rust struct, e.g. `WsTopBitmapN16Q8B64`.
    pub struct_name: &'static str,
    /// Verilog top module.
    pub top: &'static str,
    /// Name of the parameter set (`n16_q8_b64`; empty for the self-test top).
    pub param_set: &'static str,
    /// Parameter overrides (`-G`) as (name, value).
    pub params: &'static [(&'static str, i64)],
    pub ports: &'static [PortInfo],
    /// True for the crate's own self-test top, not part of the product RTL.
    pub test_only: bool,
    pub trace_format: TraceFormat,
    /// Where its code lives: linked in, or a library built on demand.
    pub(crate) origin: Origin,
}

/// The C function returning a model variant's table of entry points.
pub(crate) type VtableFn = unsafe extern "C" fn() -> *const RawVtable;

/// Where a model's code lives.
#[derive(Debug)]
pub(crate) enum Origin {
    /// Prebuilt by build.rs and linked into this binary: both variants.
    Static { vtable: VtableFn, vtable_traced: VtableFn },
    /// Built on demand into the cache and loaded at run time (the traced variant is built the
    /// first time it is asked for).
    Dynamic(&'static crate::dynamic::DynModel),
}

impl ModelInfo {
    /// Value of parameter `name`, if overridden for this model.
    pub fn param(&self, name: &str) -> Option<i64> {
        self.params.iter().find(|(k, _)| *k == name).map(|(_, v)| *v)
    }

    /// A new instance of this model, built without tracing (fastest).
    pub fn instantiate(&'static self) -> Box<dyn Model> {
        Box::new(AnyModel { raw: RawModel::new(self, false) })
    }

    /// A new instance of the variant built with tracing (~1.5x slower), for runs that write
    /// waveforms. Panics if that variant of an on-demand model cannot be built: use
    /// [`ModelInfo::try_instantiate_traced`] to get the error.
    pub fn instantiate_traced(&'static self) -> Box<dyn Model> {
        self.try_instantiate_traced().unwrap_or_else(|e| panic!("{e}"))
    }

    /// Like [`ModelInfo::instantiate_traced`], but building an on-demand model's traced
    /// variant (the first time) may fail, with an error.
    pub fn try_instantiate_traced(&'static self) -> Result<Box<dyn Model>> {
        Ok(Box::new(AnyModel { raw: RawModel::try_new(self, true)? }))
    }

    /// True for a model built on demand (not linked into this binary).
    pub fn is_dynamic(&self) -> bool {
        matches!(self.origin, Origin::Dynamic(_))
    }

    /// The entry points of a variant (building an on-demand traced variant if needed).
    fn raw_vtable(&'static self, traced: bool) -> Result<&'static RawVtable> {
        let f = match (&self.origin, traced) {
            (Origin::Static { vtable, .. }, false) => *vtable,
            (Origin::Static { vtable_traced, .. }, true) => *vtable_traced,
            (Origin::Dynamic(d), false) => d.vtable_fn(false)?,
            (Origin::Dynamic(d), true) => d.vtable_fn(true)?,
        };
        // SAFETY: the function returns a pointer to a static table in loaded code that is
        // never unloaded.
        Ok(unsafe { &*f() })
    }

    /// Id of port `name`.
    pub fn port(&self, name: &str) -> Option<PortId> {
        self.ports.iter().position(|p| p.name == name).map(|i| PortId::new(i as u16))
    }
}

/// A model of the table in build.rs that was not built, and why
/// (typically: its RTL file does not exist yet).
#[derive(Clone, Debug)]
pub struct MissingModel {
    pub name: &'static str,
    pub top: &'static str,
    pub param_set: &'static str,
    pub reason: &'static str,
}

/// Common interface of all generated models, object safe so that callers can
/// pick a model at run time (`Box<dyn Model>`, see [`new_model`]).
///
/// Values are little-endian u32 words (`PortInfo::words()` of them), or a
/// `u64` for the low 64 bits. Bits above a port's width are ignored when
/// driving and zero when reading.
pub trait Model: Send {
    /// Registry entry (name, top, parameters, ports).
    fn info(&self) -> &'static ModelInfo;

    /// Registry name, e.g. `ws_top_bitmap_n16_q8_b64`.
    fn name(&self) -> &str {
        self.info().name
    }

    fn ports(&self) -> &[PortInfo] {
        self.info().ports
    }

    /// Id of port `name`; resolve once, then use the id every cycle.
    fn port(&self, name: &str) -> Option<PortId> {
        self.info().port(name)
    }

    /// Like [`Model::port`] but an error naming the model and port.
    fn port_id(&self, name: &str) -> Result<PortId> {
        self.port(name).ok_or_else(|| SimError::NoSuchPort { model: self.info().name, name: name.to_string() })
    }

    /// Description of port `p`.
    fn port_info(&self, p: PortId) -> Result<&'static PortInfo> {
        let info = self.info();
        info.ports.get(p.index()).ok_or(SimError::BadPortId {
            model: info.name,
            index: p.index(),
            count: info.ports.len(),
        })
    }

    /// Drive input `p` with `v` (exactly `words()` words).
    fn set(&mut self, p: PortId, v: &[u32]) -> Result<()>;
    /// Drive input `p` with the low 64 bits `v` (upper words of wide ports are zeroed).
    fn set_u64(&mut self, p: PortId, v: u64) -> Result<()>;
    /// Read port `p` into `out` (exactly `words()` words).
    fn get(&self, p: PortId, out: &mut [u32]) -> Result<()>;
    /// Low 64 bits of port `p`.
    fn get_u64(&self, p: PortId) -> Result<u64>;

    /// Evaluate the model (propagate inputs; clock edges happen when `clk` changes).
    fn eval(&mut self);
    /// Set the simulation time seen by `$time` in the RTL.
    fn set_time(&mut self, t: u64);

    /// Whether this instance can write waveforms (made by `new_traced()` /
    /// [`ModelInfo::instantiate_traced`]).
    fn traceable(&self) -> bool;
    /// Start writing a waveform to `path` (closing any open one). The format
    /// is [`ModelInfo::trace_format`]; the path's extension must match it.
    /// Needs a traced instance ([`Model::traceable`]).
    fn trace_open(&mut self, path: &Path) -> Result<()>;
    /// Record all signals at `time` (monotonic). No-op without an open waveform.
    fn trace_dump(&mut self, time: u64);
    fn trace_flush(&mut self);
    /// Flush and close the waveform; returns its path. Also done on drop.
    fn trace_close(&mut self) -> Option<PathBuf>;
    /// Path of the open waveform.
    fn trace_path(&self) -> Option<&Path>;

    /// The RTL executed `$finish` (or `$stop`).
    fn finished(&self) -> bool;
    /// The RTL executed `$stop`/`$fatal` or hit a runtime error.
    fn stopped(&self) -> bool;

    /// The Verilated model behind this one, for the fast path ([`crate::Sim::hot`], and
    /// [`crate::Sim`]'s clock): `None` for a model that is not one of this crate's. Sealed (its
    /// argument is a type no other crate can name): the fast path relies on the model
    /// returned being owned by `self` for its whole life, which only this crate's models promise.
    #[doc(hidden)]
    fn raw_model(&self, _: Sealed) -> Option<&RawModel> {
        None
    }

    /// Upcast, so helpers taking `&mut dyn Model` work with concrete models.
    fn as_dyn_mut(&mut self) -> &mut dyn Model;
    fn as_dyn(&self) -> &dyn Model;
}

/// Checks that the instance can trace, that `path` has the extension of the build's waveform format and
/// can be written (creating its directory and an empty file): Verilator
/// itself reports an unwritable path only as "not open".
pub(crate) fn check_trace_path(info: &ModelInfo, traced: bool, path: &Path) -> Result<()> {
    if !traced {
        return Err(SimError::NotTraced { model: info.name });
    }
    let fmt = info.trace_format;
    let is_fst = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("fst"));
    if is_fst != (fmt == TraceFormat::Fst) {
        return Err(SimError::TraceFormat { path: path.to_path_buf(), built: fmt.extension() });
    }
    let io = |source| SimError::TraceIo { path: path.to_path_buf(), source };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    std::fs::File::create(path).map_err(io)?;
    Ok(())
}

/// Mirror of `WsvVtable` in cpp/wsv_model.h.
#[doc(hidden)]
#[repr(C)]
pub struct RawVtable {
    pub(crate) create: unsafe extern "C" fn() -> *mut c_void,
    pub(crate) destroy: unsafe extern "C" fn(*mut c_void),
    pub(crate) eval: unsafe extern "C" fn(*mut c_void),
    pub(crate) port_ptr: unsafe extern "C" fn(*mut c_void, u32) -> *mut c_void,
    pub(crate) set_time: unsafe extern "C" fn(*mut c_void, u64),
    pub(crate) trace_open: unsafe extern "C" fn(*mut c_void, *const c_char) -> c_int,
    pub(crate) trace_dump: unsafe extern "C" fn(*mut c_void, u64),
    pub(crate) trace_flush: unsafe extern "C" fn(*mut c_void),
    pub(crate) trace_close: unsafe extern "C" fn(*mut c_void),
    pub(crate) status: unsafe extern "C" fn(*mut c_void) -> u32,
}

/// A C++ model's handle and entry points, copied out of its [`RawModel`] so that a clock can
/// call them without going through the [`Model`] trait. Only valid while that model lives.
#[derive(Clone, Copy)]
pub(crate) struct RawHandle {
    pub(crate) h: NonNull<c_void>,
    pub(crate) vt: &'static RawVtable,
}

/// Owns one C++ model (and its context and waveform writer); shared core of
/// the generated structs.
#[doc(hidden)]
pub struct RawModel {
    h: NonNull<c_void>,
    vt: &'static RawVtable,
    info: &'static ModelInfo,
    /// Storage of port i, as returned by the C++ side (stable for the model's life).
    ptrs: Box<[*mut c_void]>,
    traced: bool,
    trace_path: Option<PathBuf>,
}

// SAFETY: the C++ model has its own VerilatedContext with one thread and no
// thread affinity (the wrapper rebinds Verilated::threadContextp on every
// eval); all access goes through &mut self / &self, so moving it between
// threads is sound. It is not Sync: &self reads race with nothing only
// because eval needs &mut self, and we keep it that way.
unsafe impl Send for RawModel {}

impl RawModel {
    /// `traced`: use the variant verilated with tracing.
    pub fn new(info: &'static ModelInfo, traced: bool) -> Self {
        Self::try_new(info, traced).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Like [`RawModel::new`], with the error of an on-demand variant that cannot be built.
    pub fn try_new(info: &'static ModelInfo, traced: bool) -> Result<Self> {
        let vt = info.raw_vtable(traced)?;
        // SAFETY: create() returns an owned handle or null (allocation failure).
        let h = NonNull::new(unsafe { (vt.create)() })
            .unwrap_or_else(|| panic!("weightstream-sim: creating model {} failed", info.name));
        let ptrs: Box<[*mut c_void]> = (0..info.ports.len())
            .map(|i| {
                // SAFETY: i < number of ports the C++ switch knows (same table).
                let p = unsafe { (vt.port_ptr)(h.as_ptr(), i as u32) };
                assert!(!p.is_null(), "port {i} of {} has no storage", info.name);
                p
            })
            .collect();
        Ok(Self { h, vt, info, ptrs, traced, trace_path: None })
    }

    #[inline]
    pub fn info(&self) -> &'static ModelInfo {
        self.info
    }

    /// Write the low 64 bits; `i` must be a valid port index.
    #[inline]
    pub fn write_u64(&mut self, i: usize, v: u64) {
        let port = &self.info.ports[i];
        let v = v & port.mask64();
        let p = self.ptrs[i];
        // SAFETY: p points at this port's storage, of the type `storage` says;
        // no C++ code runs concurrently (&mut self).
        unsafe {
            match port.storage {
                Storage::U8 => *(p as *mut u8) = v as u8,
                Storage::U16 => *(p as *mut u16) = v as u16,
                Storage::U32 => *(p as *mut u32) = v as u32,
                Storage::U64 => *(p as *mut u64) = v,
                Storage::Wide(n) => {
                    let w = std::slice::from_raw_parts_mut(p as *mut u32, n as usize);
                    w.fill(0);
                    w[0] = v as u32;
                    w[1] = (v >> 32) as u32;
                }
            }
        }
    }

    /// Low 64 bits; `i` must be a valid port index.
    #[inline]
    pub fn read_u64(&self, i: usize) -> u64 {
        let port = &self.info.ports[i];
        let p = self.ptrs[i];
        // SAFETY: as in write_u64.
        let v = unsafe {
            match port.storage {
                Storage::U8 => *(p as *const u8) as u64,
                Storage::U16 => *(p as *const u16) as u64,
                Storage::U32 => *(p as *const u32) as u64,
                Storage::U64 => *(p as *const u64),
                Storage::Wide(_) => {
                    let w = p as *const u32;
                    (*w as u64) | ((*w.add(1) as u64) << 32)
                }
            }
        };
        v & port.mask64()
    }

    /// Write `v.len() == words()` words; `i` must be a valid port index.
    #[inline]
    pub fn write_words(&mut self, i: usize, v: &[u32]) {
        let port = &self.info.ports[i];
        match port.storage {
            Storage::Wide(n) => {
                debug_assert_eq!(v.len(), n as usize);
                let p = self.ptrs[i] as *mut u32;
                for (k, &x) in v.iter().enumerate().take(n as usize) {
                    // SAFETY: k < n words of this port's VlWide storage.
                    unsafe { *p.add(k) = x & port.word_mask(k) };
                }
            }
            _ => {
                let lo = v.first().copied().unwrap_or(0) as u64;
                let hi = v.get(1).copied().unwrap_or(0) as u64;
                self.write_u64(i, lo | (hi << 32));
            }
        }
    }

    /// Read `out.len() == words()` words; `i` must be a valid port index.
    #[inline]
    pub fn read_words(&self, i: usize, out: &mut [u32]) {
        let port = &self.info.ports[i];
        match port.storage {
            Storage::Wide(n) => {
                let p = self.ptrs[i] as *const u32;
                for (k, o) in out.iter_mut().enumerate().take(n as usize) {
                    // SAFETY: k < n words of this port's VlWide storage.
                    *o = unsafe { *p.add(k) } & port.word_mask(k);
                }
            }
            _ => {
                let v = self.read_u64(i);
                if let Some(o) = out.get_mut(0) {
                    *o = v as u32;
                }
                if let Some(o) = out.get_mut(1) {
                    *o = (v >> 32) as u32;
                }
            }
        }
    }

    #[inline]
    fn checked(&self, p: PortId, words: Option<usize>, drive: bool) -> Result<&'static PortInfo> {
        let info = self.info;
        let port = info.ports.get(p.index()).ok_or(SimError::BadPortId {
            model: info.name,
            index: p.index(),
            count: info.ports.len(),
        })?;
        if drive && !port.dir.is_input() {
            return Err(SimError::NotAnInput { model: info.name, port: port.name });
        }
        if let Some(n) = words {
            if n != port.words() {
                return Err(SimError::WordCount { model: info.name, port: port.name, expected: port.words(), got: n });
            }
        }
        Ok(port)
    }

    pub fn set(&mut self, p: PortId, v: &[u32]) -> Result<()> {
        self.checked(p, Some(v.len()), true)?;
        self.write_words(p.index(), v);
        Ok(())
    }

    pub fn set_u64(&mut self, p: PortId, v: u64) -> Result<()> {
        self.checked(p, None, true)?;
        self.write_u64(p.index(), v);
        Ok(())
    }

    pub fn get(&self, p: PortId, out: &mut [u32]) -> Result<()> {
        self.checked(p, Some(out.len()), false)?;
        self.read_words(p.index(), out);
        Ok(())
    }

    pub fn get_u64(&self, p: PortId) -> Result<u64> {
        self.checked(p, None, false)?;
        Ok(self.read_u64(p.index()))
    }

    #[inline]
    pub fn eval(&mut self) {
        // SAFETY: valid handle, exclusive access.
        unsafe { (self.vt.eval)(self.h.as_ptr()) }
    }

    /// Storage of port `i` (a field of the C++ model, valid for the model's life), if `i` is a
    /// port index.
    #[inline]
    pub fn port_ptr(&self, i: usize) -> Option<*mut c_void> {
        self.ptrs.get(i).copied()
    }

    /// The C++ handle and entry points, for [`crate::Sim`]'s clock.
    #[inline]
    pub(crate) fn handle(&self) -> RawHandle {
        RawHandle { h: self.h, vt: self.vt }
    }

    #[inline]
    pub fn set_time(&mut self, t: u64) {
        // SAFETY: valid handle, exclusive access.
        unsafe { (self.vt.set_time)(self.h.as_ptr(), t) }
    }

    pub fn traceable(&self) -> bool {
        self.traced
    }

    pub fn trace_open(&mut self, path: &Path) -> Result<()> {
        // Close first: the new path may be the one currently being written.
        self.trace_close();
        check_trace_path(self.info, self.traced, path)?;
        let io = |source| SimError::TraceIo { path: path.to_path_buf(), source };
        let c = CString::new(path.as_os_str().as_encoded_bytes())
            .map_err(|_| io(std::io::Error::other("path contains NUL")))?;
        // SAFETY: valid handle; c outlives the call (Verilator copies the name).
        if unsafe { (self.vt.trace_open)(self.h.as_ptr(), c.as_ptr()) } != 0 {
            return Err(io(std::io::Error::other("Verilator could not open the file")));
        }
        self.trace_path = Some(path.to_path_buf());
        Ok(())
    }

    #[inline]
    pub fn trace_dump(&mut self, time: u64) {
        if self.trace_path.is_some() {
            // SAFETY: valid handle, exclusive access.
            unsafe { (self.vt.trace_dump)(self.h.as_ptr(), time) }
        }
    }

    pub fn trace_flush(&mut self) {
        // SAFETY: valid handle; no-op without a waveform.
        unsafe { (self.vt.trace_flush)(self.h.as_ptr()) }
    }

    pub fn trace_close(&mut self) -> Option<PathBuf> {
        // SAFETY: valid handle; no-op without a waveform.
        unsafe { (self.vt.trace_close)(self.h.as_ptr()) };
        self.trace_path.take()
    }

    pub fn trace_path(&self) -> Option<&Path> {
        self.trace_path.as_deref()
    }

    fn status(&self) -> u32 {
        // SAFETY: valid handle; reads two flags.
        unsafe { (self.vt.status)(self.h.as_ptr()) }
    }

    pub fn finished(&self) -> bool {
        self.status() & 1 != 0
    }

    pub fn stopped(&self) -> bool {
        self.status() & 2 != 0
    }
}

impl Drop for RawModel {
    fn drop(&mut self) {
        // SAFETY: we own the handle; destroy closes the waveform, runs final
        // blocks and frees model and context.
        unsafe { (self.vt.destroy)(self.h.as_ptr()) }
    }
}

/// Implements [`Model`] for a generated struct `{ raw: RawModel }`, plus
/// inherent `eval`/`trace_*` so the struct works without importing the trait.
macro_rules! impl_model {
    ($t:ty) => {
        $crate::model::impl_model!(@trait $t);
        impl $t {
            /// Evaluate the model (see [`Model::eval`]).
            #[inline]
            pub fn eval(&mut self) {
                self.raw.eval()
            }
            /// Start a waveform (see [`Model::trace_open`]); needs `new_traced()`.
            pub fn trace_open(&mut self, path: &::std::path::Path) -> $crate::Result<()> {
                self.raw.trace_open(path)
            }
            /// Record all signals at `time` (see [`Model::trace_dump`]).
            #[inline]
            pub fn trace_dump(&mut self, time: u64) {
                self.raw.trace_dump(time)
            }
            /// Flush the waveform to disk.
            pub fn trace_flush(&mut self) {
                self.raw.trace_flush()
            }
            /// Flush and close the waveform; returns its path (also done on drop).
            pub fn trace_close(&mut self) -> Option<::std::path::PathBuf> {
                self.raw.trace_close()
            }
        }
    };
    (@trait $t:ty) => {
        impl $crate::Model for $t {
            #[inline]
            fn info(&self) -> &'static $crate::ModelInfo {
                self.raw.info()
            }
            #[inline]
            fn set(&mut self, p: $crate::PortId, v: &[u32]) -> $crate::Result<()> {
                self.raw.set(p, v)
            }
            #[inline]
            fn set_u64(&mut self, p: $crate::PortId, v: u64) -> $crate::Result<()> {
                self.raw.set_u64(p, v)
            }
            #[inline]
            fn get(&self, p: $crate::PortId, out: &mut [u32]) -> $crate::Result<()> {
                self.raw.get(p, out)
            }
            #[inline]
            fn get_u64(&self, p: $crate::PortId) -> $crate::Result<u64> {
                self.raw.get_u64(p)
            }
            #[inline]
            fn eval(&mut self) {
                self.raw.eval()
            }
            #[inline]
            fn set_time(&mut self, t: u64) {
                self.raw.set_time(t)
            }
            fn traceable(&self) -> bool {
                self.raw.traceable()
            }
            fn trace_open(&mut self, path: &::std::path::Path) -> $crate::Result<()> {
                self.raw.trace_open(path)
            }
            #[inline]
            fn trace_dump(&mut self, time: u64) {
                self.raw.trace_dump(time)
            }
            fn trace_flush(&mut self) {
                self.raw.trace_flush()
            }
            fn trace_close(&mut self) -> Option<::std::path::PathBuf> {
                self.raw.trace_close()
            }
            fn trace_path(&self) -> Option<&::std::path::Path> {
                self.raw.trace_path()
            }
            fn finished(&self) -> bool {
                self.raw.finished()
            }
            fn stopped(&self) -> bool {
                self.raw.stopped()
            }
            #[inline]
            fn raw_model(&self, _: $crate::model::Sealed) -> Option<&$crate::model::RawModel> {
                Some(&self.raw)
            }
            fn as_dyn_mut(&mut self) -> &mut dyn $crate::Model {
                self
            }
            fn as_dyn(&self) -> &dyn $crate::Model {
                self
            }
        }
    };
}
pub(crate) use impl_model;

/// A model behind the generic interface only (what [`ModelInfo::instantiate`] returns).
struct AnyModel {
    raw: RawModel,
}

impl_model!(@trait AnyModel);
