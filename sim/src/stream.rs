//! Generic valid/ready stream endpoints, format-agnostic: a [`Source`]
//! feeds queued words into (data, valid, last) inputs, a [`Sink`] drives
//! ready and collects data on valid & ready. Both are [`Agent`]s for
//! [`crate::Sim::step_with`] and work on any [`Model`] by port id.
//!
//! Words are little-endian u32 slices of the data port's `words()` length,
//! stored flat so a long stream costs no allocation per word.

use std::collections::VecDeque;

use crate::error::{Result, SimError};
use crate::model::Model;
use crate::pause::{Pause, PauseGen};
use crate::port::PortId;
use crate::sim::Agent;

/// Checks `p` is an input (or output) of width `width` (any if `None`);
/// returns its word count.
fn check(m: &dyn Model, p: PortId, input: bool, width: Option<u32>) -> Result<usize> {
    let info = m.port_info(p)?;
    if input && !info.dir.is_input() {
        return Err(SimError::NotAnInput { model: m.info().name, port: info.name });
    }
    if let Some(w) = width {
        if info.width != w {
            return Err(SimError::PortWidth { model: m.info().name, port: info.name, width: info.width, expected: w });
        }
    }
    Ok(info.words())
}

/// Ports of a valid/ready stream as seen from the model.
#[derive(Clone, Copy, Debug)]
pub struct StreamPorts {
    pub data: PortId,
    pub valid: PortId,
    pub ready: PortId,
    pub last: Option<PortId>,
}

impl StreamPorts {
    /// Resolve ports by name.
    pub fn by_name(m: &dyn Model, data: &str, valid: &str, ready: &str, last: Option<&str>) -> Result<Self> {
        Ok(Self {
            data: m.port_id(data)?,
            valid: m.port_id(valid)?,
            ready: m.port_id(ready)?,
            last: last.map(|l| m.port_id(l)).transpose()?,
        })
    }
}

/// Drives a model's input stream from a queue of words.
///
/// AXI-style: once `valid` is raised for a word it stays raised, with the
/// same data, until the model takes it; the [`Pause`] only decides whether
/// the *next* word is offered this cycle (one decision per offer).
#[derive(Clone, Debug)]
pub struct Source {
    ports: StreamPorts,
    model: &'static str,
    data_name: &'static str,
    words: usize,
    /// Queued words, flat; the front word starts at `head`.
    queue: Vec<u32>,
    head: usize,
    lasts: VecDeque<bool>,
    pause: PauseGen,
    /// valid is high with the queue's front word on the data port.
    offering: bool,
    fired: u64,
    stalled: u64,
}

impl Source {
    /// `ports.data`, `.valid`, `.last` are model inputs, `.ready` an output;
    /// valid/ready/last must be 1 bit wide.
    pub fn new(m: &dyn Model, ports: StreamPorts, pause: Pause) -> Result<Self> {
        let words = check(m, ports.data, true, None)?;
        check(m, ports.valid, true, Some(1))?;
        check(m, ports.ready, false, Some(1))?;
        if let Some(l) = ports.last {
            check(m, l, true, Some(1))?;
        }
        Ok(Self {
            ports,
            model: m.info().name,
            data_name: m.port_info(ports.data)?.name,
            words,
            queue: Vec::new(),
            head: 0,
            lasts: VecDeque::new(),
            pause: pause.generator()?,
            offering: false,
            fired: 0,
            stalled: 0,
        })
    }

    /// u32 words per data word.
    pub fn word_len(&self) -> usize {
        self.words
    }

    /// Queue one word (exactly `word_len()` u32s) with its `last` flag.
    pub fn push(&mut self, word: &[u32], last: bool) -> Result<()> {
        if word.len() != self.words {
            return Err(SimError::WordCount {
                model: self.model,
                port: self.data_name,
                expected: self.words,
                got: word.len(),
            });
        }
        if self.head > 0 && self.head >= self.queue.len() / 2 {
            // Reclaim the consumed front (amortised O(1) per word).
            self.queue.drain(..self.head);
            self.head = 0;
        }
        self.queue.extend_from_slice(word);
        self.lasts.push_back(last);
        Ok(())
    }

    /// Queue one word of at most 64 bits.
    pub fn push_u64(&mut self, v: u64, last: bool) -> Result<()> {
        let mut w = [0u32; 2];
        w[0] = v as u32;
        w[1] = (v >> 32) as u32;
        if self.words <= 2 {
            self.push(&w[..self.words], last)
        } else {
            let mut full = vec![0u32; self.words];
            full[..2].copy_from_slice(&w);
            self.push(&full, last)
        }
    }

    /// Queue a frame: `last` is set on its final word only.
    pub fn push_frame<W: AsRef<[u32]>>(&mut self, words: impl IntoIterator<Item = W>) -> Result<()> {
        let mut it = words.into_iter().peekable();
        while let Some(w) = it.next() {
            let last = it.peek().is_none();
            self.push(w.as_ref(), last)?;
        }
        Ok(())
    }

    /// Words not yet accepted by the model (including one being offered).
    pub fn pending(&self) -> usize {
        self.lasts.len()
    }

    /// Nothing left to send.
    pub fn is_empty(&self) -> bool {
        self.lasts.is_empty()
    }

    /// Handshakes (words accepted by the model).
    pub fn fired(&self) -> u64 {
        self.fired
    }

    /// Cycles with valid high and ready low (back-pressure seen).
    pub fn stalled(&self) -> u64 {
        self.stalled
    }
}

impl Agent for Source {
    fn drive(&mut self, m: &mut dyn Model) -> Result<()> {
        if self.offering {
            return Ok(()); // hold valid and data until accepted
        }
        if !self.lasts.is_empty() && self.pause.next_go() {
            m.set(self.ports.data, &self.queue[self.head..self.head + self.words])?;
            if let Some(l) = self.ports.last {
                m.set_u64(l, self.lasts[0] as u64)?;
            }
            m.set_u64(self.ports.valid, 1)?;
            self.offering = true;
        } else {
            m.set_u64(self.ports.valid, 0)?;
            if let Some(l) = self.ports.last {
                m.set_u64(l, 0)?;
            }
        }
        Ok(())
    }

    fn sample(&mut self, m: &dyn Model) -> Result<()> {
        if self.offering {
            if m.get_u64(self.ports.ready)? != 0 {
                self.head += self.words;
                self.lasts.pop_front();
                self.offering = false;
                self.fired += 1;
            } else {
                self.stalled += 1;
            }
        }
        Ok(())
    }
}

/// Drains a model's output stream: drives ready per its [`Pause`] (one
/// decision per cycle) and records every word taken (valid & ready).
#[derive(Clone, Debug)]
pub struct Sink {
    ports: StreamPorts,
    words: usize,
    data: Vec<u32>,
    lasts: Vec<bool>,
    pause: PauseGen,
    ready: bool,
}

impl Sink {
    /// `ports.data`, `.valid`, `.last` are model outputs, `.ready` an input;
    /// valid/ready/last must be 1 bit wide.
    pub fn new(m: &dyn Model, ports: StreamPorts, pause: Pause) -> Result<Self> {
        let words = check(m, ports.data, false, None)?;
        check(m, ports.valid, false, Some(1))?;
        check(m, ports.ready, true, Some(1))?;
        if let Some(l) = ports.last {
            check(m, l, false, Some(1))?;
        }
        Ok(Self { ports, words, data: Vec::new(), lasts: Vec::new(), pause: pause.generator()?, ready: false })
    }

    /// u32 words per data word.
    pub fn word_len(&self) -> usize {
        self.words
    }

    /// Words received so far.
    pub fn len(&self) -> usize {
        self.lasts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lasts.is_empty()
    }

    /// Word `i` as `word_len()` u32s.
    pub fn word(&self, i: usize) -> Option<&[u32]> {
        self.data.get(i * self.words..(i + 1) * self.words)
    }

    /// All received words, in order.
    pub fn words(&self) -> impl Iterator<Item = &[u32]> + '_ {
        self.data.chunks_exact(self.words)
    }

    /// `last` flag of each received word (all false without a last port).
    pub fn lasts(&self) -> &[bool] {
        &self.lasts
    }

    /// Low 64 bits of each received word.
    pub fn words_u64(&self) -> Vec<u64> {
        self.words().map(|w| w[0] as u64 | (w.get(1).copied().unwrap_or(0) as u64) << 32).collect()
    }

    /// Take the received words, leaving the sink empty.
    pub fn take(&mut self) -> Vec<Vec<u32>> {
        let v = self.words().map(<[u32]>::to_vec).collect();
        self.data.clear();
        self.lasts.clear();
        v
    }
}

impl Agent for Sink {
    fn drive(&mut self, m: &mut dyn Model) -> Result<()> {
        self.ready = self.pause.next_go();
        m.set_u64(self.ports.ready, self.ready as u64)
    }

    fn sample(&mut self, m: &dyn Model) -> Result<()> {
        if self.ready && m.get_u64(self.ports.valid)? != 0 {
            let n = self.data.len();
            self.data.resize(n + self.words, 0);
            m.get(self.ports.data, &mut self.data[n..])?;
            let last = match self.ports.last {
                Some(l) => m.get_u64(l)? != 0,
                None => false,
            };
            self.lasts.push(last);
        }
        Ok(())
    }
}
