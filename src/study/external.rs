//! External codecs (`--codec NAME=ENCODE_CMD::DECODE_CMD`), run under the study's input/output
//! rule: the encoder reads the raw layer (little-endian i32, row-major O x K) on stdin with
//! WS_ROWS, WS_COLS and WS_BITS in its environment and writes its compressed bytes to stdout;
//! the decoder gets those bytes on stdin and must write the raw layer back. Commands run under
//! `sh -c` in their own process group; one that exceeds the time limit is killed (the group).
//! The framework measures the bytes and verifies the round trip like any stage's.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
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
        Ok(ExternalCodec { name: name.to_string(), encode_cmd: enc.to_string(), decode_cmd: dec.to_string(), timeout })
    }

    fn run(&self, cmd: &str, input: Vec<u8>, ctx: &Ctx, bits: u32) -> Result<Vec<u8>, StudyError> {
        let fail = |msg: String| StudyError::External { codec: self.name.clone(), msg };
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg(cmd)
            .env("WS_ROWS", ctx.rows.to_string())
            .env("WS_COLS", ctx.cols.to_string())
            .env("WS_BITS", bits.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        #[cfg(unix)]
        {
            use std::os::unix::process::CommandExt;
            command.process_group(0);
        }
        let mut child = command.spawn().map_err(|e| fail(format!("cannot start {cmd:?}: {e}")))?;
        let pid = child.id();
        let mut stdin = child.stdin.take();
        let writer = thread::spawn(move || {
            if let Some(s) = stdin.as_mut() {
                let _ = s.write_all(&input);
            }
            drop(stdin);
        });
        let mut stdout = child.stdout.take();
        let reader = thread::spawn(move || {
            let mut out = Vec::new();
            if let Some(s) = stdout.as_mut() {
                let _ = s.read_to_end(&mut out);
            }
            out
        });
        let mut stderr = child.stderr.take();
        let err_reader = thread::spawn(move || {
            let mut out = Vec::new();
            if let Some(s) = stderr.as_mut() {
                let _ = s.take(4096).read_to_end(&mut out);
            }
            out
        });
        let start = Instant::now();
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break Some(status),
                Ok(None) if start.elapsed() >= self.timeout => break None,
                Ok(None) => thread::sleep(Duration::from_millis(2)),
                Err(e) => return Err(fail(format!("wait failed: {e}"))),
            }
        };
        let Some(status) = status else {
            kill_group(pid);
            let _ = child.kill();
            let _ = child.wait();
            let _ = writer.join();
            let _ = reader.join();
            let _ = err_reader.join();
            return Err(fail(format!("{cmd:?} timed out after {:.1} s and was killed", self.timeout.as_secs_f64())));
        };
        // Descendants may still hold the pipes open; the group goes with the command.
        kill_group(pid);
        let _ = writer.join();
        let out = reader.join().unwrap_or_default();
        let err = err_reader.join().unwrap_or_default();
        if !status.success() {
            let msg = String::from_utf8_lossy(&err);
            return Err(fail(format!("{cmd:?} exited with {status}: {}", msg.trim())));
        }
        Ok(out)
    }
}

/// Ends the process group we created for a command (by its id, nothing else).
fn kill_group(pid: u32) {
    #[cfg(unix)]
    {
        let _ = Command::new("kill")
            .arg("-KILL")
            .arg("--")
            .arg(format!("-{pid}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
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
        let out = self.run(&self.encode_cmd, raw, ctx, s.width)?;
        Ok(vec![byte_stream(&s.name, out)])
    }
    fn decode(&self, parts: Vec<Stream>, ctx: &Ctx) -> Result<Stream, StudyError> {
        let [b] = take_parts::<1>(&self.name, parts)?;
        let width = ctx.bits;
        let raw = self.run(&self.decode_cmd, stream_bytes(&b)?, ctx, width)?;
        let n = ctx.rows * ctx.cols;
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
