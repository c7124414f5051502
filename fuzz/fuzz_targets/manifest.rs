//! Fuzz target: `weightstream check`'s reader (`emit::check_dir`) on an arbitrary stream
//! directory. The input is `manifest.json`, a NUL, the `.bin`'s length (u16 LE), the `.bin`, the
//! `.hex`, written to a fresh temporary directory under the names the manifest's first stream
//! gives (if it parses and they are plain names; else `s.bin`, `s.hex`) (docs/fuzzing.md). Only
//! `check_dir(&Path)` is used, and its result only dropped, so the target survives changes to the
//! manifest format.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let (manifest, rest) = match data.iter().position(|&b| b == 0) {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[][..]),
    };
    let (bin, hex) = match rest {
        [lo, hi, files @ ..] => files.split_at(usize::from(u16::from_le_bytes([*lo, *hi])).min(files.len())),
        _ => (rest, &[][..]),
    };
    let Ok(dir) = tempfile::tempdir() else {
        return;
    };
    let path = dir.path().join("manifest.json");
    let first: Option<serde_json::Value> =
        serde_json::from_slice::<serde_json::Value>(manifest).ok().and_then(|v| v.get("streams")?.get(0).cloned());
    let name = |key: &str, default: &'static str| -> String {
        let plain = |n: &&str| {
            !n.is_empty() && !n.contains(['/', '\\', '\0']) && *n != "." && *n != ".." && *n != "manifest.json"
        };
        first.as_ref().and_then(|e| e.get(key)?.as_str()).filter(plain).unwrap_or(default).to_string()
    };
    let (bin_name, hex_name) = (name("bin", "s.bin"), name("hex", "s.hex"));
    let hex_name = if hex_name == bin_name { "s.hex".to_string() } else { hex_name };
    for (name, bytes) in [("manifest.json", manifest), (bin_name.as_str(), bin), (hex_name.as_str(), hex)] {
        if std::fs::write(dir.path().join(name), bytes).is_err() {
            return;
        }
    }
    let _ = weightstream::emit::check_dir(&path);
});
