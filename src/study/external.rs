//! External codecs (`--codec NAME=ENCODE_CMD::DECODE_CMD`), run under the study's input/output
//! rule: the encoder reads the raw layer (little-endian i32, row-major O x K) on stdin with
//! WS_ROWS, WS_COLS and WS_BITS in its environment and writes its compressed bytes to stdout;
//! the decoder gets those bytes on stdin and must write the raw layer back. Commands run under
//! `sh -c` in their own process group, with a per-run token in their environment
//! ([`RUN_TOKEN_VAR`]); when a command exits, exceeds the time limit or writes more than its cap
//! (`--codec-max-bytes` for encoders, the layer's raw size for decoders), every process of the run
//! is killed: the group, and whatever /proc shows carrying the token or descending from one that
//! does, which catches children that detached with `setsid`. (A child that both clears its
//! environment and leaves the session escapes; codecs are the user's own programs, not a sandbox.)
//! The framework measures the bytes and verifies the round trip like any stage's.

use std::collections::{HashMap, HashSet};
use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use super::stages::{need_shaped, take_parts, Kind, Stage};
use super::stream::{byte_stream, signed, stream_bytes, width_mask, Ctx, Stream};
use super::StudyError;

/// One external codec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalCodec {
    /// Its name in pipelines and tables.
    pub name: String,
    /// Shell command that compresses.
    pub encode_cmd: String,
    /// Shell command that decompresses.
    pub decode_cmd: String,
    /// Wall-clock limit per command run.
    pub timeout: Duration,
    /// Most bytes an encoder run may write (`--codec-max-bytes`); `None`: [`default_max_bytes`].
    /// A decoder may write no more than the layer's raw size.
    pub max_bytes: Option<u64>,
}

impl ExternalCodec {
    /// Parses `NAME=ENCODE_CMD::DECODE_CMD`.
    pub fn parse(spec: &str, timeout: Duration) -> Result<Self, StudyError> {
        let bad = || StudyError::BadPipeline(format!("--codec {spec:?}: expected NAME=ENCODE_CMD::DECODE_CMD"));
        let (name, cmds) = spec.split_once('=').ok_or_else(bad)?;
        let (enc, dec) = cmds.split_once("::").ok_or_else(bad)?;
        let name = name.trim();
        if name.is_empty() || name.contains(['|', ':', ',']) || enc.trim().is_empty() || dec.trim().is_empty() {
            return Err(bad());
        }
        Ok(ExternalCodec {
            name: name.to_string(),
            encode_cmd: enc.to_string(),
            decode_cmd: dec.to_string(),
            timeout,
            max_bytes: None,
        })
    }

    /// Caps what one encoder run may write to stdout (`--codec-max-bytes`); `None` is the
    /// default, [`default_max_bytes`].
    pub fn with_max_bytes(mut self, max_bytes: Option<u64>) -> Self {
        self.max_bytes = max_bytes;
        self
    }

    fn run(&self, cmd: &str, input: Vec<u8>, ctx: &Ctx, bits: u32, limit: u64) -> Result<Vec<u8>, StudyError> {
        let fail = |msg: String| StudyError::External { codec: self.name.clone(), msg };
        let token = format!("{}-{}", std::process::id(), RUNS.fetch_add(1, Ordering::Relaxed));
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg(cmd)
            .env("WS_ROWS", ctx.rows.to_string())
            .env("WS_COLS", ctx.cols.to_string())
            .env("WS_BITS", bits.to_string())
            .env(RUN_TOKEN_VAR, &token)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        #[cfg(unix)]
        {
            use std::os::unix::process::CommandExt;
            command.process_group(0);
        }
        let mut child = command.spawn().map_err(|e| fail(format!("cannot start {cmd:?}: {e}")))?;
        let leash = Leash { pid: child.id(), token };
        let mut stdin = child.stdin.take();
        let writer = thread::spawn(move || {
            if let Some(s) = stdin.as_mut() {
                let _ = s.write_all(&input);
            }
            drop(stdin);
        });
        let overflow = Arc::new(AtomicBool::new(false));
        let mut stdout = child.stdout.take();
        let reader = {
            let overflow = Arc::clone(&overflow);
            thread::spawn(move || {
                let mut out = Vec::new();
                if let Some(s) = stdout.as_mut() {
                    // One byte past the cap tells "too much" from "exactly the cap".
                    let _ = s.take(limit.saturating_add(1)).read_to_end(&mut out);
                }
                if out.len() as u64 > limit {
                    overflow.store(true, Ordering::Relaxed);
                }
                out
            })
        };
        let mut stderr = child.stderr.take();
        let err_reader = thread::spawn(move || {
            let mut out = Vec::new();
            if let Some(s) = stderr.as_mut() {
                let _ = s.take(4096).read_to_end(&mut out);
                // Drain the rest so the command never blocks on a full stderr pipe.
                let _ = std::io::copy(s, &mut std::io::sink());
            }
            out
        });
        let start = Instant::now();
        let mut status = None;
        let mut swept = false;
        let ending = loop {
            if status.is_none() {
                match child.try_wait() {
                    Ok(s) => status = s,
                    Err(e) => {
                        leash.kill_all();
                        let _ = child.wait();
                        return Err(fail(format!("wait failed: {e}")));
                    }
                }
            }
            if overflow.load(Ordering::Relaxed) {
                break Ending::Overflow;
            }
            if status.is_some() && !swept {
                // The command is done; whatever it left behind (detached or not) holding the
                // pipes open ends with it.
                leash.kill_all();
                swept = true;
            }
            if status.is_some() && reader.is_finished() && err_reader.is_finished() {
                break Ending::Exited;
            }
            if start.elapsed() >= self.timeout {
                break Ending::TimedOut;
            }
            thread::sleep(Duration::from_millis(2));
        };
        leash.kill_all();
        let status = match status {
            Some(s) => Some(s),
            None => {
                let _ = child.kill();
                child.wait().ok()
            }
        };
        let _ = writer.join();
        let out = reader.join().unwrap_or_default();
        let err = err_reader.join().unwrap_or_default();
        match ending {
            Ending::TimedOut => {
                Err(fail(format!("{cmd:?} timed out after {:.1} s and was killed", self.timeout.as_secs_f64())))
            }
            Ending::Overflow => Err(fail(format!(
                "{cmd:?} wrote more than {limit} bytes to stdout (the cap, --codec-max-bytes) and was killed"
            ))),
            Ending::Exited => match status {
                Some(status) if status.success() => Ok(out),
                Some(status) => {
                    let msg = String::from_utf8_lossy(&err);
                    Err(fail(format!("{cmd:?} exited with {status}: {}", msg.trim())))
                }
                None => Err(fail(format!("{cmd:?}: exit status lost"))),
            },
        }
    }
}

/// Default cap on an encoder's output: 4 x the layer's dense size (O x K x Q bits) + 64 KiB.
pub fn default_max_bytes(rows: usize, cols: usize, bits: u32) -> u64 {
    let dense = (rows as u64).saturating_mul(cols as u64).saturating_mul(u64::from(bits)).div_ceil(8);
    dense.saturating_mul(4).saturating_add(64 << 10)
}

/// How a command run ended.
enum Ending {
    Exited,
    TimedOut,
    Overflow,
}

/// Environment variable carrying each command run's unique token: inherited by everything the
/// command starts, including children that leave its process group or session (`setsid`).
pub const RUN_TOKEN_VAR: &str = "WS_CODEC_RUN";

/// Tokens handed out so far in this process.
static RUNS: AtomicU64 = AtomicU64::new(0);

/// A command run's processes: its process group (led by `pid`) and, found in /proc, every
/// process carrying its token in its environment and every descendant of either.
struct Leash {
    pid: u32,
    token: String,
}

impl Leash {
    /// SIGKILLs the group, then sweeps /proc until no process of this run is left (a few rounds,
    /// for processes forked while the sweep ran).
    fn kill_all(&self) {
        #[cfg(unix)]
        {
            if let Ok(pgid) = libc::pid_t::try_from(self.pid) {
                // SAFETY: kill(2) with a negative pid signals only the process group we created.
                unsafe { libc::kill(-pgid, libc::SIGKILL) };
            }
            for _ in 0..8 {
                let found = self.find();
                if found.is_empty() {
                    break;
                }
                for pid in found {
                    // SAFETY: kill(2) on a process id just read from /proc as one of this run's.
                    unsafe { libc::kill(pid, libc::SIGKILL) };
                }
            }
        }
    }

    /// Live processes of this run (zombies excluded: they hold nothing open).
    #[cfg(unix)]
    fn find(&self) -> Vec<libc::pid_t> {
        let Ok(dir) = std::fs::read_dir("/proc") else {
            return Vec::new();
        };
        let needle = format!("{RUN_TOKEN_VAR}={}", self.token).into_bytes();
        let mut parents = HashMap::new();
        let mut marked = HashSet::new();
        let root = libc::pid_t::try_from(self.pid).unwrap_or(0);
        for entry in dir.flatten() {
            let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<libc::pid_t>().ok()) else {
                continue;
            };
            let Some((state, ppid)) = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok().and_then(|s| {
                // pid (comm) state ppid ...: comm may hold spaces and parentheses.
                let mut fields = s.get(s.rfind(')')? + 1..)?.split_whitespace();
                Some((fields.next()?.to_string(), fields.next()?.parse::<libc::pid_t>().ok()?))
            }) else {
                continue;
            };
            if state == "Z" || state == "X" {
                continue;
            }
            parents.insert(pid, ppid);
            let tagged = std::fs::read(format!("/proc/{pid}/environ"))
                .is_ok_and(|env| env.split(|&b| b == 0).any(|var| var == needle.as_slice()));
            if pid == root || tagged {
                marked.insert(pid);
            }
        }
        let own = libc::pid_t::try_from(std::process::id()).unwrap_or(0);
        parents
            .keys()
            .copied()
            .filter(|&pid| {
                let mut at = pid;
                for _ in 0..64 {
                    if marked.contains(&at) {
                        return pid != own;
                    }
                    match parents.get(&at) {
                        Some(&up) if up > 1 && up != at => at = up,
                        _ => return false,
                    }
                }
                false
            })
            .collect()
    }
}

impl Stage for ExternalCodec {
    fn name(&self) -> String {
        self.name.clone()
    }
    fn kind(&self) -> Kind {
        Kind::External
    }
    fn arity(&self) -> usize {
        1
    }
    fn encode(&self, s: &Stream, ctx: &Ctx) -> Result<Vec<Stream>, StudyError> {
        need_shaped(&self.name, s, ctx)?;
        let raw: Vec<u8> = s.symbols.iter().flat_map(|&v| signed(v, s.width).to_le_bytes()).collect();
        let limit = self.max_bytes.unwrap_or_else(|| default_max_bytes(ctx.rows, ctx.cols, s.width));
        let out = self.run(&self.encode_cmd, raw, ctx, s.width, limit)?;
        Ok(vec![byte_stream(&s.name, out)])
    }
    fn decode(&self, parts: Vec<Stream>, ctx: &Ctx) -> Result<Stream, StudyError> {
        let [b] = take_parts::<1>(&self.name, parts)?;
        let width = ctx.bits;
        let n = ctx.rows * ctx.cols;
        let raw = self.run(&self.decode_cmd, stream_bytes(&b)?, ctx, width, n as u64 * 4)?;
        let wrong = |msg: String| StudyError::External { codec: self.name.clone(), msg };
        if raw.len() != n * 4 {
            return Err(wrong(format!("decoder wrote {} bytes, the layer is {} bytes", raw.len(), n * 4)));
        }
        let mask = width_mask(width);
        let symbols = raw
            .chunks_exact(4)
            .map(|c| {
                let v = i32::from_le_bytes([c[0], c[1], c[2], c[3]]);
                if signed(v as u32 & mask, width) == v {
                    Ok(v as u32 & mask)
                } else {
                    Err(wrong(format!("decoder wrote {v}, outside {width}-bit range")))
                }
            })
            .collect::<Result<Vec<u32>, _>>()?;
        Ok(Stream::new(b.name, width, true, symbols))
    }
}
