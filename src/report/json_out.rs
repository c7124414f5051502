//! The report as JSON (serde): every field of [`Report`](super::Report).

use std::io::{self, Write};

use super::{Report, Reporter};

/// Pretty-printed JSON.
pub struct JsonReporter;

impl Reporter for JsonReporter {
    fn write(&self, r: &Report, out: &mut dyn Write) -> io::Result<()> {
        serde_json::to_writer_pretty(&mut *out, r).map_err(io::Error::other)?;
        writeln!(out)
    }
}
