//! The per-cycle fast path: ports resolved once to pointers into the model's own port fields,
//! then read and written with a plain load or store — no dynamic dispatch, no bounds check, no
//! `Result` per access. The checked [`Model`] API stays for setup and rare use.
//!
//! ```no_run
//! # use weightstream_sim::{find_model, Sim};
//! let info = find_model("ws_top_core", &[("FORMAT", 1)]).expect("built");
//! let mut sim = Sim::new(info.instantiate())?;
//! sim.reset(2);
//! let (done, start) = (sim.model().port_id("done_o")?, sim.model().port_id("start_i")?);
//! let cycles = sim.hot(|c| -> weightstream_sim::Result<u64> {
//!     let (done, start) = (c.bit(done)?, c.bit_in(start)?);
//!     c.set(start, true);
//!     c.step();
//!     c.set(start, false);
//!     while !c.get(done) && c.cycle() < 1000 {
//!         c.step();
//!     }
//!     Ok(c.cycle())
//! })??;
//! # Ok::<(), weightstream_sim::SimError>(())
//! ```
//!
//! # Why this is sound
//!
//! A handle ([`Bit`], [`BitIn`], [`Wire`], [`WireIn`]) is a raw pointer into one C++ model. It is
//! valid while that model lives, stays where it is, and runs no `eval` concurrently. Handles are
//! made and used only inside [`Sim::hot`], through its [`Cycles`], which holds the `Sim`
//! mutably borrowed (so the model lives and nothing else touches it) and offers no way to move
//! the model out of the `Sim`. Each call of `hot` brands its handles with a fresh lifetime
//! `'id`: invariant and higher-ranked, it can neither leave the closure nor match the `'id` of
//! another call, so a handle cannot be used after its scope or with another model. Reads take
//! `&Cycles` and `eval` takes `&mut Cycles`: no read overlaps an evaluation. The pointers come
//! from the model's [`crate::Model::raw_model`], which only this crate's models implement (the
//! method is sealed): their C++ model is owned by them for their whole life, so no call made
//! through the model (an [`Agent`] given `&mut dyn Model`, say) can replace it under a handle.
//!
//! ```compile_fail
//! # use weightstream_sim::{Sim, WsSimSelftest, Bit};
//! let mut sim = Sim::new(Box::new(WsSimSelftest::new())).unwrap();
//! let mut leaked = None;
//! sim.hot(|c| leaked = Some(c.bit(WsSimSelftest::PORT_EN_I).unwrap())).unwrap(); // 'id escapes
//! ```

use std::ffi::c_void;
use std::marker::PhantomData;

use crate::error::{Result, SimError};
use crate::model::{Model, Sealed};
use crate::port::{PortId, PortInfo, Storage};
use crate::sim::{Agent, Sim};

/// Invariant lifetime: ties a handle to one [`Sim::hot`] call.
type Brand<'id> = PhantomData<fn(&'id ()) -> &'id ()>;

/// A 1-bit port (Verilator `CData`), readable.
#[derive(Clone, Copy, Debug)]
pub struct Bit<'id> {
    p: *const u8,
    _brand: Brand<'id>,
}

/// A 1-bit input port, readable and writable.
#[derive(Clone, Copy, Debug)]
pub struct BitIn<'id> {
    p: *mut u8,
    _brand: Brand<'id>,
}

/// A port of any width, readable.
#[derive(Clone, Copy, Debug)]
pub struct Wire<'id> {
    p: *mut c_void,
    storage: Storage,
    /// Valid bits of the low 64.
    mask: u64,
    /// u32 words of a value (`ceil(width / 32)`).
    words: usize,
    /// Valid bits of the top word.
    top_mask: u32,
    _brand: Brand<'id>,
}

/// An input port of any width, readable and writable.
#[derive(Clone, Copy, Debug)]
pub struct WireIn<'id>(Wire<'id>);

impl Wire<'_> {
    /// u32 words of a value of this port.
    pub fn words(&self) -> usize {
        self.words
    }
}

impl WireIn<'_> {
    /// u32 words of a value of this port.
    pub fn words(&self) -> usize {
        self.0.words
    }
}

/// The fast path of one [`Sim`]: resolve port handles, read and write them, step the clock.
/// Made by [`Sim::hot`] (see the module docs).
pub struct Cycles<'id, 's, M: Model + ?Sized> {
    sim: &'s mut Sim<M>,
    _brand: Brand<'id>,
}

impl<M: Model + ?Sized> Sim<M> {
    /// Runs `f` with this simulation's fast path ([`Cycles`]): port handles resolved once and
    /// accessed without dispatch or checks. Fails if the model is not a Verilated model of this
    /// crate (a foreign [`Model`] implementation has no port storage to point into).
    pub fn hot<R>(&mut self, f: impl for<'id> FnOnce(&mut Cycles<'id, '_, M>) -> R) -> Result<R> {
        if self.model().raw_model(Sealed).is_none() {
            return Err(SimError::NoPortStorage { model: self.model().info().name });
        }
        let mut c = Cycles { sim: self, _brand: PhantomData };
        Ok(f(&mut c))
    }
}

impl<'id, M: Model + ?Sized> Cycles<'id, '_, M> {
    /// Port `p`'s description and storage, checked: `input` (drivable), `width` (if given).
    fn resolve(&self, p: PortId, input: bool, width: Option<u32>) -> Result<(&'static PortInfo, *mut c_void)> {
        let m = self.sim.model();
        let name = m.info().name;
        let info = m.port_info(p)?;
        if input && !info.dir.is_input() {
            return Err(SimError::NotAnInput { model: name, port: info.name });
        }
        if let Some(w) = width {
            if info.width != w {
                return Err(SimError::PortWidth { model: name, port: info.name, width: info.width, expected: w });
            }
        }
        let raw = m.raw_model(Sealed).ok_or(SimError::NoPortStorage { model: name })?;
        let ptr = raw.port_ptr(p.index()).ok_or(SimError::BadPortId {
            model: name,
            index: p.index(),
            count: m.info().ports.len(),
        })?;
        Ok((info, ptr))
    }

    fn bit_ptr(&self, p: PortId, input: bool) -> Result<*mut u8> {
        let (info, ptr) = self.resolve(p, input, Some(1))?;
        // Verilator stores every port of 1..=8 bits as CData.
        if info.storage != Storage::U8 {
            return Err(SimError::PortWidth {
                model: self.sim.model().info().name,
                port: info.name,
                width: 1,
                expected: 1,
            });
        }
        Ok(ptr as *mut u8)
    }

    fn wire_of(&self, p: PortId, input: bool) -> Result<Wire<'id>> {
        let (info, ptr) = self.resolve(p, input, None)?;
        let words = info.words();
        Ok(Wire {
            p: ptr,
            storage: info.storage,
            mask: info.mask64(),
            words,
            top_mask: info.word_mask(words - 1),
            _brand: PhantomData,
        })
    }

    /// Handle of 1-bit port `p` (an input or an output).
    pub fn bit(&self, p: PortId) -> Result<Bit<'id>> {
        Ok(Bit { p: self.bit_ptr(p, false)?, _brand: PhantomData })
    }

    /// Handle of 1-bit input `p`.
    pub fn bit_in(&self, p: PortId) -> Result<BitIn<'id>> {
        Ok(BitIn { p: self.bit_ptr(p, true)?, _brand: PhantomData })
    }

    /// Handle of port `p`, any width.
    pub fn wire(&self, p: PortId) -> Result<Wire<'id>> {
        self.wire_of(p, false)
    }

    /// Handle of input `p`, any width.
    pub fn wire_in(&self, p: PortId) -> Result<WireIn<'id>> {
        Ok(WireIn(self.wire_of(p, true)?))
    }

    /// Value of a 1-bit port.
    #[inline]
    pub fn get(&self, b: Bit<'id>) -> bool {
        // SAFETY: `b` points at a CData port field of this Sim's model (same brand), which lives
        // and is not being evaluated (we hold the Sim; eval needs &mut self).
        unsafe { *b.p & 1 != 0 }
    }

    /// Value of a 1-bit input (as last driven).
    #[inline]
    pub fn get_in(&self, b: BitIn<'id>) -> bool {
        // SAFETY: as in `get`.
        unsafe { *b.p & 1 != 0 }
    }

    /// Drive a 1-bit input.
    #[inline]
    pub fn set(&mut self, b: BitIn<'id>, v: bool) {
        // SAFETY: as in `get`; the port is an input (checked when resolved), a CData field the
        // model reads at its next eval.
        unsafe { *b.p = v as u8 }
    }

    /// Low 64 bits of a port.
    #[inline]
    pub fn get_u64(&self, w: Wire<'id>) -> u64 {
        // SAFETY: `w.p` points at this model's field of the type `w.storage` says (same brand,
        // resolved from the port table); no eval runs (see `get`). A wide port has >= 2 words.
        let v = unsafe {
            match w.storage {
                Storage::U8 => *(w.p as *const u8) as u64,
                Storage::U16 => *(w.p as *const u16) as u64,
                Storage::U32 => *(w.p as *const u32) as u64,
                Storage::U64 => *(w.p as *const u64),
                Storage::Wide(_) => {
                    let p = w.p as *const u32;
                    *p as u64 | (*p.add(1) as u64) << 32
                }
            }
        };
        v & w.mask
    }

    /// Low 64 bits of an input (as last driven).
    #[inline]
    pub fn get_in_u64(&self, w: WireIn<'id>) -> u64 {
        self.get_u64(w.0)
    }

    /// Reads a port's value into `out`, little-endian u32 words (`w.words()` of them; a
    /// shorter `out` gets the low words, a longer one keeps its extra words).
    #[inline]
    pub fn get_words(&self, w: Wire<'id>, out: &mut [u32]) {
        match w.storage {
            Storage::Wide(_) => {
                // SAFETY: a VlWide field of `w.words` u32 words of this model (see `get_u64`).
                let src = unsafe { std::slice::from_raw_parts(w.p as *const u32, w.words) };
                for (o, &s) in out.iter_mut().zip(src) {
                    *o = s;
                }
                if let Some(o) = out.get_mut(w.words - 1) {
                    *o &= w.top_mask;
                }
            }
            _ => {
                let v = self.get_u64(w);
                for (i, o) in out.iter_mut().take(w.words).enumerate() {
                    *o = (v >> (32 * i)) as u32;
                }
            }
        }
    }

    /// Drive an input with the low 64 bits `v` (bits above its width are dropped; upper words
    /// of a wide port are zeroed).
    #[inline]
    pub fn set_u64(&mut self, w: WireIn<'id>, v: u64) {
        let w = w.0;
        let v = v & w.mask;
        // SAFETY: as in `get_u64`; the port is an input (checked when resolved).
        unsafe {
            match w.storage {
                Storage::U8 => *(w.p as *mut u8) = v as u8,
                Storage::U16 => *(w.p as *mut u16) = v as u16,
                Storage::U32 => *(w.p as *mut u32) = v as u32,
                Storage::U64 => *(w.p as *mut u64) = v,
                Storage::Wide(_) => {
                    let dst = std::slice::from_raw_parts_mut(w.p as *mut u32, w.words);
                    dst.fill(0);
                    dst[0] = v as u32;
                    dst[1] = (v >> 32) as u32;
                }
            }
        }
    }

    /// Drive an input with little-endian u32 words (`w.words()` of them; missing words are
    /// zero, extra ones and bits above the width are dropped).
    #[inline]
    pub fn set_words(&mut self, w: WireIn<'id>, v: &[u32]) {
        let wire = w.0;
        match wire.storage {
            Storage::Wide(_) => {
                // SAFETY: as in `set_u64`.
                let dst = unsafe { std::slice::from_raw_parts_mut(wire.p as *mut u32, wire.words) };
                let n = v.len().min(wire.words);
                dst[..n].copy_from_slice(&v[..n]);
                dst[n..].fill(0);
                dst[wire.words - 1] &= wire.top_mask;
            }
            _ => {
                let lo = v.first().copied().unwrap_or(0) as u64;
                let hi = v.get(1).copied().unwrap_or(0) as u64;
                self.set_u64(w, lo | hi << 32);
            }
        }
    }

    /// First half of a cycle (see [`Sim::fall`]).
    #[inline]
    pub fn fall(&mut self) {
        self.sim.fall()
    }

    /// Second half of a cycle (see [`Sim::rise`]).
    #[inline]
    pub fn rise(&mut self) {
        self.sim.rise()
    }

    /// One clock cycle.
    #[inline]
    pub fn step(&mut self) {
        self.sim.step()
    }

    /// One cycle with agents (see [`Sim::step_with`]).
    pub fn step_with(&mut self, agents: &mut [&mut dyn Agent]) -> Result<()> {
        self.sim.step_with(agents)
    }

    /// Rising edges so far.
    #[inline]
    pub fn cycle(&self) -> u64 {
        self.sim.cycle()
    }

    /// The model, for the checked API.
    pub fn model(&self) -> &M {
        self.sim.model()
    }

    /// The simulation (read only: waveform state, cycle).
    pub fn sim(&self) -> &Sim<M> {
        self.sim
    }
}
