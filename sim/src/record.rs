//! Records of published cache entries: the size and SHA-256 of every file an entry is made of,
//! written when the entry is published and checked before any of it is loaded, linked or run.
//! A file damaged outside weightstream (truncated, altered) then shows up as a mismatch, which
//! the caller answers by rebuilding, instead of as a SIGBUS when the truncated library is mapped.

use std::fs::{self, File};
use std::io;
use std::path::Path;

use sha2::{Digest, Sha256};

/// First line of every record (bump when the format changes).
const HEADER: &str = "weightstream cache record 1";

/// Size and SHA-256 (hex) of a file.
fn digest(path: &Path) -> io::Result<(u64, String)> {
    let mut f = File::open(path)?;
    let mut h = Sha256::new();
    let size = io::copy(&mut f, &mut h)?;
    let hex = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
    Ok((size, hex))
}

/// Writes `record` listing `files` (names in `dir`) with their size and SHA-256. Written to a
/// temporary name and renamed, so a reader sees the whole record or none; write it last, when
/// every file it lists is in place.
pub(crate) fn write(record: &Path, dir: &Path, files: &[&str]) -> io::Result<()> {
    let mut text = format!("{HEADER}\n");
    for name in files {
        let (size, hex) = digest(&dir.join(name))?;
        text += &format!("{hex} {size} {name}\n");
    }
    let tmp = record.with_extension(format!("tmp{}", std::process::id()));
    fs::write(&tmp, text)?;
    fs::rename(&tmp, record)
}

/// Checks that `record` lists every one of `files` (names in `dir`) and that each has the size
/// and SHA-256 recorded: `Err` says what differs, in a few words.
pub(crate) fn check(record: &Path, dir: &Path, files: &[&str]) -> Result<(), String> {
    let text = match fs::read_to_string(record) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err("no record of its files".into()),
        Err(e) => return Err(format!("{}: {e}", record.display())),
    };
    let mut lines = text.lines();
    if lines.next() != Some(HEADER) {
        return Err(format!("{}: not a cache record", record.display()));
    }
    let mut listed = Vec::new();
    for line in lines {
        let mut f = line.splitn(3, ' ');
        let (Some(hex), Some(size), Some(name)) = (f.next(), f.next(), f.next()) else {
            return Err(format!("{}: malformed line `{line}`", record.display()));
        };
        let size: u64 = size.parse().map_err(|_| format!("{}: malformed line `{line}`", record.display()))?;
        // Only plain names of this entry: a record never points outside its directory.
        if name.contains('/') || name == ".." {
            return Err(format!("{}: malformed line `{line}`", record.display()));
        }
        let path = dir.join(name);
        let on_disk = fs::metadata(&path).map_err(|e| format!("{name}: {e}"))?.len();
        if on_disk != size {
            return Err(format!("{name} is {on_disk} bytes, recorded {size}"));
        }
        let (_, got) = digest(&path).map_err(|e| format!("{name}: {e}"))?;
        if got != hex {
            return Err(format!("{name} does not have the recorded SHA-256"));
        }
        listed.push(name);
    }
    match files.iter().find(|f| !listed.contains(f)) {
        Some(missing) => Err(format!("{}: {missing} is not recorded", record.display())),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("wsv-record-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn a_record_catches_truncation_alteration_and_absence() {
        let d = scratch("catch");
        fs::write(d.join("a.so"), vec![7u8; 1000]).unwrap();
        fs::write(d.join("a.ports"), "x in 1 8 1\n").unwrap();
        let rec = d.join("a.sha256");
        assert!(check(&rec, &d, &["a.so"]).unwrap_err().contains("no record"));
        write(&rec, &d, &["a.so", "a.ports"]).unwrap();
        check(&rec, &d, &["a.so", "a.ports"]).unwrap();
        assert!(check(&rec, &d, &["a.so", "b.so"]).unwrap_err().contains("b.so is not recorded"));

        let mut bytes = vec![7u8; 1000];
        bytes[500] = 8;
        fs::write(d.join("a.so"), &bytes).unwrap();
        assert!(check(&rec, &d, &["a.so"]).unwrap_err().contains("SHA-256"));
        fs::write(d.join("a.so"), &bytes[..400]).unwrap();
        assert_eq!(check(&rec, &d, &["a.so"]).unwrap_err(), "a.so is 400 bytes, recorded 1000");
        fs::remove_file(d.join("a.so")).unwrap();
        assert!(check(&rec, &d, &["a.so"]).unwrap_err().starts_with("a.so: "));

        fs::write(&rec, "garbage\n").unwrap();
        assert!(check(&rec, &d, &["a.so"]).unwrap_err().contains("not a cache record"));
        fs::write(&rec, format!("{HEADER}\n00 12 ../x\n")).unwrap();
        assert!(check(&rec, &d, &["a.so"]).unwrap_err().contains("malformed"));
        let _ = fs::remove_dir_all(&d);
    }
}
