//! Output files that never destroy anything by surprise, shared by every command that writes
//! files (`report`, `diff`, `study`, `cosim`, `cost`, `sweep`).
//!
//! - [`check_paths`]: no output may be one of the command's inputs (same file: same device and
//!   inode when it exists, else the same canonical path; a symlink to an input counts), nor another
//!   output of the same command, nor lie inside an output directory of the same command.
//! - [`prepare_dir`]: an output directory (`--emit-streams`, `--out`) that is not empty is refused
//!   unless `--force`; with it, only the files the previous run listed as its own (its manifest)
//!   are removed, never anything else.
//! - [`write_atomic`] / [`with_temp`]: a file is written under a temporary name in its own
//!   directory and renamed over the target, so an interrupted run leaves the old file or the new
//!   one, never half of either (interruption of the process; no fsync, so not a power cut).

use std::fs;
use std::io::{self, BufWriter, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Why an output could not be written.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// An output path names one of the inputs.
    #[error("{flag} {}: is the same file as the input {input_flag} {}; refusing to overwrite an input", path.display(), input.display())]
    IsInput { flag: String, path: PathBuf, input_flag: String, input: PathBuf },
    /// Two outputs name the same file or directory.
    #[error("{flag} {} and {other_flag} {}: the same path; give each output its own", path.display(), other.display())]
    SameOutput { flag: String, path: PathBuf, other_flag: String, other: PathBuf },
    /// A path lies inside an output directory the command fills.
    #[error("{flag} {}: lies inside the output directory {dir_flag} {}; choose a path outside it", path.display(), dir.display())]
    InsideOutputDir { flag: String, path: PathBuf, dir_flag: String, dir: PathBuf },
    /// An output directory holds files and `--force` was not given.
    #[error("{flag} {}: directory is not empty ({entries} entries); pass --force to replace the files a previous run wrote there (nothing else is removed)", path.display())]
    NotEmpty { flag: String, path: PathBuf, entries: usize },
    /// An output directory's path is something else.
    #[error("{flag} {}: exists and is not a directory", path.display())]
    NotADirectory { flag: String, path: PathBuf },
    /// The filesystem refused.
    #[error("{}: cannot {what}: {cause}", path.display())]
    Io { path: PathBuf, what: &'static str, cause: io::Error },
}

fn io_err<'a>(path: &'a Path, what: &'static str) -> impl FnOnce(io::Error) -> OutputError + 'a {
    move |cause| OutputError::Io { path: path.to_path_buf(), what, cause }
}

/// Where a path points: the file itself when it exists (device and inode, symlinks followed),
/// and its canonical path (the canonical parent plus the name when it does not exist yet).
#[derive(Debug, Clone)]
struct Ident {
    inode: Option<(u64, u64)>,
    path: PathBuf,
}

impl Ident {
    fn of(path: &Path) -> Ident {
        let inode = fs::metadata(path).ok().map(|m| (m.dev(), m.ino()));
        Ident { inode, path: canonical(path) }
    }

    fn same(&self, other: &Ident) -> bool {
        match (self.inode, other.inode) {
            (Some(a), Some(b)) => a == b,
            _ => self.path == other.path,
        }
    }

    fn inside(&self, dir: &Ident) -> bool {
        self.path != dir.path && self.path.starts_with(&dir.path)
    }
}

/// The canonical form of a path that may not exist yet: the longest existing ancestor
/// canonicalized, the rest appended with `.` and `..` resolved lexically.
fn canonical(path: &Path) -> PathBuf {
    let abs =
        if path.is_absolute() { path.to_path_buf() } else { std::env::current_dir().unwrap_or_default().join(path) };
    let mut lexical = PathBuf::new();
    for c in abs.components() {
        match c {
            Component::ParentDir => {
                lexical.pop();
            }
            Component::CurDir => {}
            c => lexical.push(c),
        }
    }
    if let Ok(p) = fs::canonicalize(&abs) {
        return p;
    }
    let mut rest = Vec::new();
    let mut base = lexical.as_path();
    loop {
        if let Ok(p) = fs::canonicalize(base) {
            let mut out = p;
            out.extend(rest.iter().rev());
            return out;
        }
        match (base.parent(), base.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                base = parent;
            }
            _ => return lexical,
        }
    }
}

/// A command's paths by role: `(flag, path)` pairs.
#[derive(Debug, Default, Clone)]
pub struct Paths<'a> {
    /// Files the command reads.
    pub inputs: Vec<(&'a str, &'a Path)>,
    /// Files it writes.
    pub files: Vec<(&'a str, &'a Path)>,
    /// Directories it fills.
    pub dirs: Vec<(&'a str, &'a Path)>,
}

impl<'a> Paths<'a> {
    /// Adds an input.
    pub fn input(mut self, flag: &'a str, path: &'a Path) -> Self {
        self.inputs.push((flag, path));
        self
    }
    /// Adds an output file, when given.
    pub fn file(mut self, flag: &'a str, path: Option<&'a Path>) -> Self {
        self.files.extend(path.map(|p| (flag, p)));
        self
    }
    /// Adds an output directory, when given.
    pub fn dir(mut self, flag: &'a str, path: Option<&'a Path>) -> Self {
        self.dirs.extend(path.map(|p| (flag, p)));
        self
    }
    /// [`check_paths`] on these.
    pub fn check(&self) -> Result<(), OutputError> {
        check_paths(&self.inputs, &self.files, &self.dirs)
    }
}

/// Refuses an output that is an input, the same as another output, or inside an output
/// directory (an input inside one too). Run it before reading or writing anything.
pub fn check_paths(
    inputs: &[(&str, &Path)],
    files: &[(&str, &Path)],
    dirs: &[(&str, &Path)],
) -> Result<(), OutputError> {
    let ins: Vec<Ident> = inputs.iter().map(|(_, p)| Ident::of(p)).collect();
    let outs: Vec<(&str, &Path, Ident)> = files.iter().chain(dirs).map(|&(f, p)| (f, p, Ident::of(p))).collect();
    for (i, (flag, path, id)) in outs.iter().enumerate() {
        for ((input_flag, input), iid) in inputs.iter().zip(&ins) {
            if id.same(iid) {
                return Err(OutputError::IsInput {
                    flag: flag.to_string(),
                    path: path.to_path_buf(),
                    input_flag: input_flag.to_string(),
                    input: input.to_path_buf(),
                });
            }
        }
        for (other_flag, other, oid) in &outs[..i] {
            if id.same(oid) {
                return Err(OutputError::SameOutput {
                    flag: other_flag.to_string(),
                    path: other.to_path_buf(),
                    other_flag: flag.to_string(),
                    other: path.to_path_buf(),
                });
            }
        }
    }
    let mut all: Vec<(&str, &Path, &Ident)> = inputs.iter().zip(&ins).map(|(&(f, p), id)| (f, p, id)).collect();
    all.extend(outs.iter().map(|(f, p, id)| (*f, *p, id)));
    for (flag, path, id) in all {
        for (dir_flag, dir, did) in &outs[files.len()..] {
            if id.inside(did) {
                return Err(OutputError::InsideOutputDir {
                    flag: flag.to_string(),
                    path: path.to_path_buf(),
                    dir_flag: dir_flag.to_string(),
                    dir: dir.to_path_buf(),
                });
            }
        }
    }
    Ok(())
}

/// Makes `dir` ready to be filled: created when missing; when it holds anything, refused unless
/// `force`, and then the files `owned` lists (paths relative to `dir`, from the previous run's
/// manifest) are removed and nothing else. Names that are not plain relative paths inside the
/// directory are skipped; a symlink is removed itself, never followed. Returns what was removed.
pub fn prepare_dir(flag: &str, dir: &Path, force: bool, owned: &[String]) -> Result<Vec<PathBuf>, OutputError> {
    match fs::symlink_metadata(dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            fs::create_dir_all(dir).map_err(io_err(dir, "create the directory"))?;
            return Ok(Vec::new());
        }
        Err(e) => return Err(io_err(dir, "read the directory")(e)),
        Ok(_) if !fs::metadata(dir).is_ok_and(|m| m.is_dir()) => {
            return Err(OutputError::NotADirectory { flag: flag.to_string(), path: dir.to_path_buf() })
        }
        Ok(_) => {}
    }
    let entries = fs::read_dir(dir).map_err(io_err(dir, "read the directory"))?.count();
    if entries == 0 {
        return Ok(Vec::new());
    }
    if !force {
        return Err(OutputError::NotEmpty { flag: flag.to_string(), path: dir.to_path_buf(), entries });
    }
    let mut removed = Vec::new();
    for name in owned {
        let rel = Path::new(name);
        if name.is_empty() || !rel.components().all(|c| matches!(c, Component::Normal(_))) {
            continue;
        }
        let path = dir.join(rel);
        match fs::symlink_metadata(&path) {
            Ok(m) if m.is_file() || m.file_type().is_symlink() => {
                fs::remove_file(&path).map_err(io_err(&path, "remove"))?;
                removed.push(path);
            }
            _ => {}
        }
    }
    Ok(removed)
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A fresh temporary name next to `path` (same directory, so the rename is atomic).
pub fn temp_path(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "out".into());
    let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    path.with_file_name(format!(".{name}.{}.{n}.tmp", std::process::id()))
}

/// Runs `write` on a temporary path next to `path` (created empty first, so a missing or
/// read-only directory is reported as such), then renames it over `path`; on any failure the
/// temporary file is removed and `path` is untouched. `write`'s error is mapped by `wrap`.
pub fn with_temp<E>(
    path: &Path,
    write: impl FnOnce(&Path) -> Result<(), E>,
    wrap: impl FnOnce(E) -> OutputError,
) -> Result<(), OutputError> {
    if fs::metadata(path).is_ok_and(|m| m.is_dir()) {
        return Err(io_err(path, "write")(io::Error::new(io::ErrorKind::IsADirectory, "is a directory")));
    }
    let tmp = temp_path(path);
    fs::OpenOptions::new().write(true).create_new(true).open(&tmp).map_err(io_err(path, "create"))?;
    let result =
        write(&tmp).map_err(wrap).and_then(|()| fs::rename(&tmp, path).map_err(io_err(path, "rename into place")));
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Writes `path` atomically through a buffered writer (see [`with_temp`]).
pub fn write_atomic(path: &Path, write: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> Result<(), OutputError> {
    with_temp(
        path,
        |tmp| {
            let mut w = BufWriter::new(fs::OpenOptions::new().write(true).truncate(true).open(tmp)?);
            write(&mut w)?;
            w.flush()
        },
        io_err(path, "write"),
    )
}

/// Writes `bytes` to `path` atomically.
pub fn write_bytes(path: &Path, bytes: &[u8]) -> Result<(), OutputError> {
    write_atomic(path, |w| w.write_all(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_file_by_inode_and_path() {
        let d = tempfile::tempdir().unwrap();
        let a = d.path().join("a.json");
        fs::write(&a, "{}").unwrap();
        let link = d.path().join("link.json");
        std::os::unix::fs::symlink(&a, &link).unwrap();
        let dotted = d.path().join("x/../a.json");
        assert!(matches!(check_paths(&[("A", &a)], &[("--json", &link)], &[]), Err(OutputError::IsInput { .. })));
        assert!(matches!(check_paths(&[("A", &a)], &[("--json", &dotted)], &[]), Err(OutputError::IsInput { .. })));
        let n = d.path().join("new.csv");
        let n2 = d.path().join("./new.csv");
        assert!(matches!(
            check_paths(&[], &[("--csv", &n), ("--json", &n2)], &[]),
            Err(OutputError::SameOutput { .. })
        ));
        let inside = d.path().join("out/report.json");
        let out = d.path().join("out");
        assert!(matches!(
            check_paths(&[], &[("--json", &inside)], &[("--out", &out)]),
            Err(OutputError::InsideOutputDir { .. })
        ));
        assert!(check_paths(&[("A", &a)], &[("--json", &n)], &[("--out", &out)]).is_ok());
    }

    #[test]
    fn atomic_write_replaces_whole() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("f.txt");
        fs::write(&p, "old").unwrap();
        let e = write_atomic(&p, |w| {
            w.write_all(b"half")?;
            Err(io::Error::other("interrupted"))
        });
        assert!(e.is_err());
        assert_eq!(fs::read_to_string(&p).unwrap(), "old");
        write_bytes(&p, b"new").unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "new");
        assert_eq!(fs::read_dir(d.path()).unwrap().count(), 1, "no temporary files left");
    }
}
