//! `Sim`: clocks a model, applies reset, counts cycles and owns the
//! waveform switch (on/off at any cycle, or armed for a window of cycles).
//!
//! One cycle is two evaluations:
//! 1. *fall*: `clk = 0`, eval. Inputs set since the last rising edge are
//!    now visible to combinational logic, so outputs (e.g. a `ready` that
//!    depends on `valid`) are settled and can be sampled.
//! 2. *rise*: `clk = 1`, eval. Flops capture; the cycle counter advances.
//!
//! Inputs are therefore applied before the rising edge they should be seen
//! by. [`Agent`]s (stream [`crate::Source`]/[`crate::Sink`], or your own)
//! plug into this: `drive` before the fall, `sample` between fall and rise.
//! Waveform time is `PERIOD * cycle` at the fall and `+ PERIOD / 2` at the rise.
//! Waveforms need a traced model instance; models are built in both variants
//! because tracing support slows every cycle down, traced or not.

use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::error::{Result, SimError};
use crate::model::{Model, RawHandle, Sealed};
use crate::port::{PortId, Storage};

/// Waveform time units per clock cycle.
pub const PERIOD: u64 = 10;

/// Something that drives and observes ports once per cycle.
pub trait Agent {
    /// Set inputs for the coming rising edge (called before the fall).
    fn drive(&mut self, m: &mut dyn Model) -> Result<()>;
    /// Observe settled outputs just before the rising edge; a handshake
    /// seen here happens at that edge.
    fn sample(&mut self, m: &dyn Model) -> Result<()>;
}

/// Reset port and polarity.
#[derive(Clone, Copy, Debug)]
pub struct Reset {
    pub port: PortId,
    pub active_low: bool,
}

/// Drives a model cycle by cycle. Generic over the model so typed accessors
/// stay reachable (`Sim<WsTopBitmapN16Q8B64>`); `Sim` alone is `Sim<dyn Model>`.
pub struct Sim<M: Model + ?Sized = dyn Model> {
    model: Box<M>,
    clk: PortId,
    reset: Option<Reset>,
    cycle: u64,
    /// Dump into the open waveform (false = paused).
    dumping: bool,
    /// Armed window: open at `range.start`, close at `range.end`.
    window: Option<(PathBuf, Range<u64>)>,
    /// Path of the open or most recently closed waveform.
    last_trace: Option<PathBuf>,
    /// The clock without the `Model` trait: the model's C++ handle and its clock field, or
    /// `None` for a model that is not a Verilated one of this crate.
    fast: Option<FastClock>,
    /// `fast` must be resolved again before use: `model_mut` handed out `&mut M`, through which a
    /// sized model can be swapped for another.
    stale: bool,
}

/// See [`Sim::fast`](Sim): valid while the model it was resolved from is the one in the `Sim`.
#[derive(Clone, Copy)]
struct FastClock {
    raw: RawHandle,
    clk: *mut u8,
}

// SAFETY: FastClock points into the model the Sim owns (which is Send) and is only used
// through &mut Sim, so it moves between threads together with that model.
unsafe impl Send for FastClock {}

fn fast_clock<M: Model + ?Sized>(model: &M, clk: PortId) -> Option<FastClock> {
    let raw = model.raw_model(Sealed)?;
    let port = model.ports().get(clk.index())?;
    if port.storage != Storage::U8 || !port.dir.is_input() {
        return None;
    }
    Some(FastClock { raw: raw.handle(), clk: raw.port_ptr(clk.index())? as *mut u8 })
}

impl<M: Model + ?Sized> Sim<M> {
    /// Clock `clk`, active-high reset `rst` if the model has one.
    pub fn new(model: Box<M>) -> Result<Self> {
        let clk = model.port_id("clk")?;
        let reset = model.port("rst").map(|port| Reset { port, active_low: false });
        Self::with_ports(model, clk, reset)
    }

    /// Explicit clock and (optional) reset ports.
    pub fn with_ports(mut model: Box<M>, clk: PortId, reset: Option<Reset>) -> Result<Self> {
        model.set_u64(clk, 0)?;
        if let Some(r) = reset {
            model.set_u64(r.port, r.active_low as u64)?;
        }
        // Settle initial blocks and combinational outputs before the first cycle.
        model.set_time(0);
        model.eval();
        let fast = fast_clock(&*model, clk);
        Ok(Self { model, clk, reset, cycle: 0, dumping: false, window: None, last_trace: None, fast, stale: false })
    }

    pub fn model(&self) -> &M {
        &self.model
    }

    pub fn model_mut(&mut self) -> &mut M {
        self.stale = true;
        &mut self.model
    }

    /// Rising edges so far (reset cycles included).
    pub fn cycle(&self) -> u64 {
        self.cycle
    }

    /// Set an input by id (shorthand for `model_mut().set_u64`).
    pub fn set(&mut self, p: PortId, v: u64) -> Result<()> {
        self.model.set_u64(p, v)
    }

    /// Read a port by id (shorthand for `model().get_u64`).
    pub fn get(&self, p: PortId) -> Result<u64> {
        self.model.get_u64(p)
    }

    /// First half of a cycle: `clk = 0`, eval; outputs are then settled
    /// for the inputs set so far.
    pub fn fall(&mut self) {
        self.window_open();
        let t = PERIOD * self.cycle;
        self.edge(false, t);
        if self.dumping {
            self.model.trace_dump(t);
        }
    }

    /// Second half: `clk = 1`, eval (flops capture), cycle += 1.
    pub fn rise(&mut self) {
        let t = PERIOD * self.cycle + PERIOD / 2;
        self.edge(true, t);
        if self.dumping {
            self.model.trace_dump(t);
        }
        self.cycle += 1;
        self.window_close();
    }

    /// Sets the clock to `clk`, the time to `t`, and evaluates.
    #[inline]
    fn edge(&mut self, clk: bool, t: u64) {
        if self.stale {
            self.fast = fast_clock(&*self.model, self.clk);
            self.stale = false;
        }
        match self.fast {
            // SAFETY: `f` was resolved from the model this Sim owns now (re-resolved after any
            // `model_mut`), whose C++ object lives as long as the Sim holds it; `clk` points at
            // its CData clock input; &mut self: nothing else accesses the model meanwhile.
            Some(f) => unsafe {
                *f.clk = clk as u8;
                (f.raw.vt.set_time)(f.raw.h.as_ptr(), t);
                (f.raw.vt.eval)(f.raw.h.as_ptr());
            },
            None => {
                // clk is a valid input: checked in the constructor.
                let _ = self.model.set_u64(self.clk, clk as u64);
                self.model.set_time(t);
                self.model.eval();
            }
        }
    }

    /// One clock cycle.
    pub fn step(&mut self) {
        self.fall();
        self.rise();
    }

    /// `n` clock cycles.
    pub fn steps(&mut self, n: u64) {
        for _ in 0..n {
            self.step();
        }
    }

    /// One cycle with agents: all `drive`, fall, all `sample`, rise.
    pub fn step_with(&mut self, agents: &mut [&mut dyn Agent]) -> Result<()> {
        for a in agents.iter_mut() {
            a.drive(self.model.as_dyn_mut())?;
        }
        self.fall();
        for a in agents.iter_mut() {
            a.sample(self.model.as_dyn())?;
        }
        self.rise();
        Ok(())
    }

    /// Step with `agents` until `done(model)` holds (checked before each
    /// cycle); returns the cycles run, or `Timeout` after `max_cycles`.
    pub fn run_until(
        &mut self,
        agents: &mut [&mut dyn Agent],
        max_cycles: u64,
        mut done: impl FnMut(&M) -> bool,
    ) -> Result<u64> {
        for n in 0..max_cycles {
            if done(&self.model) {
                return Ok(n);
            }
            self.step_with(agents)?;
        }
        if done(&self.model) {
            return Ok(max_cycles);
        }
        Err(SimError::Timeout { model: self.model.info().name, cycles: max_cycles })
    }

    /// Hold reset for `cycles` cycles, then release it (other inputs are
    /// left as they are). No-op on the reset if the model has none.
    pub fn reset(&mut self, cycles: u64) {
        if let Some(r) = self.reset {
            let _ = self.model.set_u64(r.port, !r.active_low as u64);
            self.steps(cycles);
            let _ = self.model.set_u64(r.port, r.active_low as u64);
            // Settle outputs that depend on reset combinationally (no clock edge).
            self.model.eval();
        } else {
            self.steps(cycles);
        }
    }

    /// Start a waveform at `path` now (closing any open one); the first dump
    /// is at the next fall. The extension must match the build's format
    /// ([`crate::ModelInfo::trace_format`]), and the model must be a traced
    /// instance (`new_traced()`, [`crate::ModelInfo::instantiate_traced`]).
    pub fn trace_start(&mut self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        self.model.trace_open(path)?;
        self.dumping = true;
        self.last_trace = Some(path.to_path_buf());
        Ok(())
    }

    /// Stop dumping but keep the waveform open (a gap in time follows).
    pub fn trace_pause(&mut self) {
        self.dumping = false;
    }

    /// Resume dumping into the open waveform.
    pub fn trace_resume(&mut self) {
        self.dumping = self.model.trace_path().is_some();
    }

    /// Whether the current cycles are being recorded.
    pub fn tracing(&self) -> bool {
        self.dumping
    }

    /// Flush and close the waveform; returns its path.
    pub fn trace_stop(&mut self) -> Option<PathBuf> {
        self.dumping = false;
        self.model.trace_close()
    }

    /// Record only cycles `cycles` (e.g. `failing - 50 .. failing + 10`) to
    /// `path`: the window takes over tracing; the waveform opens when the cycle counter reaches
    /// `cycles.start` and is closed after cycle `cycles.end - 1`. Made for
    /// re-running a deterministic simulation around a failure.
    pub fn trace_window(&mut self, path: impl Into<PathBuf>, cycles: Range<u64>) -> Result<()> {
        let path = path.into();
        // Fail now, not silently at cycles.start: check format and writability.
        crate::model::check_trace_path(self.model.info(), self.model.traceable(), &path)?;
        self.window = Some((path, cycles));
        self.window_open();
        Ok(())
    }

    fn window_open(&mut self) {
        if let Some((path, r)) = &self.window {
            if r.contains(&self.cycle) && self.model.trace_path().is_none() {
                let path = path.clone();
                // Checked writable in trace_window; a late failure leaves the
                // window closed, and trace_path() tells.
                if self.trace_start(&path).is_err() {
                    self.window = None;
                }
            }
        }
    }

    fn window_close(&mut self) {
        if let Some((_, r)) = &self.window {
            if self.cycle >= r.end {
                self.window = None;
                self.trace_stop();
            }
        }
    }

    /// Path of the open waveform, or of the last one closed.
    pub fn trace_path(&self) -> Option<&Path> {
        self.last_trace.as_deref()
    }
}

impl<M: Model + ?Sized> Drop for Sim<M> {
    /// Waveforms are always complete: flush and close.
    fn drop(&mut self) {
        self.trace_stop();
    }
}
