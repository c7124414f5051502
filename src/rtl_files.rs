//! The RTL this binary was built from, carried in it (every `rtl/*.v`, `*.sv`, `*.vh`, `*.svh`
//! and `rtl/ws_rtl.toml`, listed by build.rs) and written out when a tool needs files (Verilator
//! for on-demand models, yosys for `cost`) into a folder of the cache named by its content,
//! `<cache>/rtl/<digest>/`. An installed copy thus needs no source tree, nothing is written into
//! the user's files, and the RTL of on-demand models is the one the built-in models came from.

use std::collections::BTreeSet;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

include!(concat!(env!("OUT_DIR"), "/rtl_files.rs"));

/// (file name, content) of every RTL source carried, sorted by name.
pub fn files() -> &'static [(&'static str, &'static [u8])] {
    FILES
}

/// The folder name: SHA-256 over every file's name and content (length-prefixed), 128 bits in hex.
pub fn digest() -> String {
    let mut h = Sha256::new();
    for (name, data) in FILES {
        for part in [name.as_bytes(), data] {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part);
        }
    }
    h.finalize()[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// The carried RTL could not be written out.
#[derive(Debug, thiserror::Error)]
#[error("writing the RTL this binary carries to {}: {error}", path.display())]
pub struct WriteError {
    /// The file or folder that failed.
    pub path: PathBuf,
    /// Why.
    pub error: io::Error,
}

/// Whether `dir` holds exactly the carried files, byte for byte.
fn holds_exactly(dir: &Path) -> bool {
    let Ok(entries) = fs::read_dir(dir) else { return false };
    let names: BTreeSet<String> =
        entries.filter_map(|e| Some(e.ok()?.file_name().to_string_lossy().to_string())).collect();
    names.len() == FILES.len()
        && FILES.iter().all(|(name, data)| names.contains(*name) && fs::read(dir.join(name)).is_ok_and(|d| d == *data))
}

/// The folder `<cache>/rtl/<digest>/` holding exactly the carried files: used as it is when it
/// does, else written (to a temporary folder, then renamed into place, so that runs at once never
/// see half a folder); a copy damaged outside weightstream is moved aside and replaced.
pub fn written_to(cache: &Path) -> Result<PathBuf, WriteError> {
    let digest = digest();
    let root = cache.join("rtl");
    let dir = root.join(&digest);
    if holds_exactly(&dir) {
        return Ok(dir);
    }
    let err = |path: &Path| {
        let path = path.to_path_buf();
        move |error| WriteError { path, error }
    };
    fs::create_dir_all(&root).map_err(err(&root))?;
    let pid = std::process::id();
    let tmp = root.join(format!(".{digest}.tmp{pid}"));
    let _ = fs::remove_dir_all(&tmp);
    fs::create_dir(&tmp).map_err(err(&tmp))?;
    for (name, data) in FILES {
        let p = tmp.join(name);
        fs::write(&p, data).map_err(err(&p))?;
    }
    for attempt in 0..3 {
        match fs::rename(&tmp, &dir) {
            Ok(()) => return Ok(dir),
            Err(e) if !dir.exists() => {
                let _ = fs::remove_dir_all(&tmp);
                return Err(err(&dir)(e));
            }
            Err(_) if holds_exactly(&dir) => {
                // Another run published it first.
                let _ = fs::remove_dir_all(&tmp);
                return Ok(dir);
            }
            Err(_) => {
                // A damaged copy: aside (another run may be doing the same), then ours in place.
                let aside = root.join(format!(".{digest}.damaged{pid}-{attempt}"));
                if fs::rename(&dir, &aside).is_ok() {
                    let _ = fs::remove_dir_all(&aside);
                }
            }
        }
    }
    let _ = fs::remove_dir_all(&tmp);
    Err(err(&dir)(io::Error::other("another process keeps replacing it")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_carried_rtl_is_the_source_tree_s_and_is_written_once_and_repaired() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("rtl");
        assert!(FILES.iter().any(|(n, _)| *n == "ws_top_core.v") && FILES.iter().any(|(n, _)| *n == "ws_rtl.toml"));
        for (name, data) in FILES {
            assert_eq!(&fs::read(src.join(name)).unwrap(), data, "{name}");
        }
        let cache = std::env::temp_dir().join(format!("ws-rtl-files-{}", std::process::id()));
        let _ = fs::remove_dir_all(&cache);
        let dir = written_to(&cache).unwrap();
        assert_eq!(dir, cache.join("rtl").join(digest()));
        assert!(holds_exactly(&dir));
        // Altered, truncated or extra files are replaced by the carried ones.
        fs::write(dir.join("ws_top_core.v"), "module broken;").unwrap();
        fs::write(dir.join("extra.v"), "module extra; endmodule").unwrap();
        assert_eq!(written_to(&cache).unwrap(), dir);
        assert!(holds_exactly(&dir));
        let left: Vec<_> = fs::read_dir(cache.join("rtl")).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(left.len(), 1, "no temporary or damaged folder left: {left:?}");
        let _ = fs::remove_dir_all(&cache);
    }
}
