//! Lists the RTL sources (every `rtl/*.v`, `*.sv`, `*.vh`, `*.svh` and `rtl/ws_rtl.toml`) into
//! `$OUT_DIR/rtl_files.rs` as `include_bytes!`, so that the binary carries the RTL it was built
//! from (src/rtl_files.rs) and an installed copy needs no source tree.

use std::env;
use std::fs;
use std::path::PathBuf;

fn main() {
    let dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR")).join("rtl");
    let out = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    // A directory: cargo reruns this when any file in it changes (a file added or removed);
    // include_bytes! already tracks the contents of the files listed.
    println!("cargo:rerun-if-changed={}", dir.display());
    println!("cargo:rerun-if-changed=build.rs");
    let entries = fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let mut names: Vec<String> = entries
        .map(|e| e.unwrap_or_else(|e| panic!("{}: {e}", dir.display())))
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n == "ws_rtl.toml" || [".v", ".sv", ".vh", ".svh"].iter().any(|x| n.ends_with(x)))
        .collect();
    names.sort();
    let mut s = String::from("/// (file name, content) of every RTL source, sorted by name.\n");
    s += "const FILES: &[(&str, &[u8])] = &[\n";
    for n in &names {
        s += &format!("    ({n:?}, include_bytes!({:?})),\n", dir.join(n).to_string_lossy());
    }
    s += "];\n";
    let path = out.join("rtl_files.rs");
    fs::write(&path, s).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}
