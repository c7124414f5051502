//! Sharded runs: `--shard I/N` does a deterministic share of a command's work (item j belongs to
//! shard j mod N) and writes a partial file; [`merge`] takes the N partials back and checks they
//! are one run's shards (same command, same settings, every shard once) before the command
//! combines their items into exactly the output of the unsharded run. Spreading the shards over
//! machines is a Slurm job array's business (docs/cluster.md).

use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::{de::DeserializeOwned, Deserialize, Serialize};

/// Which share of the work a run does: shard `index` of `count` (0-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// I: this shard, 0..count.
    pub index: usize,
    /// N: how many shards the work is split into.
    pub count: usize,
}

impl Shard {
    /// The whole work as one shard.
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };

    /// Whether item `j` of the work (in the command's own order) is this shard's.
    pub fn owns(&self, j: usize) -> bool {
        j % self.count == self.index
    }

    /// The shard a Slurm array task is: `SLURM_ARRAY_TASK_ID` of `SLURM_ARRAY_TASK_COUNT`.
    pub fn from_slurm() -> Option<Shard> {
        let get = |k: &str| std::env::var(k).ok()?.parse::<usize>().ok();
        let (index, count) = (get("SLURM_ARRAY_TASK_ID")?, get("SLURM_ARRAY_TASK_COUNT")?);
        (index < count).then_some(Shard { index, count })
    }
}

impl FromStr for Shard {
    type Err = String;
    /// `I/N` with 0 <= I < N, or `slurm` for the array task's own share.
    fn from_str(s: &str) -> Result<Shard, String> {
        if s == "slurm" {
            return Shard::from_slurm().ok_or_else(|| {
                "--shard slurm: SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT are not both set (not a job array task?)"
                    .to_string()
            });
        }
        let (i, n) = s.split_once('/').ok_or_else(|| format!("shard {s:?}: expected I/N, e.g. 0/4"))?;
        let parse = |x: &str| x.trim().parse::<usize>().map_err(|_| format!("shard {s:?}: {x:?} is not a number"));
        let (index, count) = (parse(i)?, parse(n)?);
        if count == 0 || index >= count {
            return Err(format!("shard {s:?}: need 0 <= I < N"));
        }
        Ok(Shard { index, count })
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// What a partial file holds: the command, its shard, the settings every shard must agree on,
/// and this shard's items.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Partial<S, I> {
    /// Marks a partial file and its layout version.
    pub weightstream_partial: u32,
    /// The command that wrote it (`report`, `cosim`, `sweep`).
    pub command: String,
    /// Which shard.
    pub shard: Shard,
    /// Settings and whole-run facts; equal in every shard of a run.
    pub settings: S,
    /// This shard's items, each with its position in the whole run.
    pub items: Vec<(usize, I)>,
}

/// Layout version of partial files.
pub const PARTIAL_VERSION: u32 = 1;

impl<S: Serialize + PartialEq, I> Partial<S, I> {
    /// A partial of `command` for `shard`.
    pub fn new(command: &str, shard: Shard, settings: S, items: Vec<(usize, I)>) -> Self {
        Partial { weightstream_partial: PARTIAL_VERSION, command: command.to_string(), shard, settings, items }
    }
}

/// Why partial files do not make one run.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("{path}: cannot read: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: not a weightstream partial file of `{command}`: {reason}")]
    NotAPartial { path: PathBuf, command: String, reason: String },
    #[error("no partial files given")]
    Empty,
    #[error("{path}: shard {shard} of another run ({what} differs from {first})")]
    Mismatch { path: PathBuf, shard: Shard, what: &'static str, first: PathBuf },
    #[error("{path}: shard {shard} given twice (also {other})")]
    Duplicate { path: PathBuf, shard: Shard, other: PathBuf },
    #[error("shards missing: {missing} of {count} (given: {given})")]
    Missing { missing: String, count: usize, given: usize },
    #[error("{path}: item {item} is not shard {shard}'s, or appears twice")]
    BadItem { path: PathBuf, item: usize, shard: Shard },
    #[error("items missing after merging: {0}")]
    Incomplete(String),
}

/// Reads the partial files of one run of `command` and checks they are all its N shards, each
/// once, with equal settings and each item in its own shard. Returns the settings and every item
/// in whole-run order.
pub fn merge<S, I>(command: &str, paths: &[PathBuf]) -> Result<(S, Vec<(usize, I)>), MergeError>
where
    S: DeserializeOwned + PartialEq,
    I: DeserializeOwned,
{
    let mut parts: Vec<(PathBuf, Partial<S, I>)> = Vec::new();
    for path in paths {
        let part = read::<S, I>(command, path)?;
        if let Some((first, p)) = parts.first() {
            let what = if p.shard.count != part.shard.count {
                Some("the shard count")
            } else if p.settings != part.settings {
                Some("the settings")
            } else {
                None
            };
            if let Some(what) = what {
                return Err(MergeError::Mismatch { path: path.clone(), shard: part.shard, what, first: first.clone() });
            }
        }
        if let Some((other, _)) = parts.iter().find(|(_, p)| p.shard == part.shard) {
            return Err(MergeError::Duplicate { path: path.clone(), shard: part.shard, other: other.clone() });
        }
        parts.push((path.clone(), part));
    }
    let count = parts.first().ok_or(MergeError::Empty)?.1.shard.count;
    if parts.len() != count {
        let missing: Vec<String> = (0..count)
            .filter(|i| !parts.iter().any(|(_, p)| p.shard.index == *i))
            .map(|i| format!("{i}/{count}"))
            .collect();
        return Err(MergeError::Missing { missing: missing.join(", "), count, given: parts.len() });
    }
    let mut settings = None;
    let mut items = Vec::new();
    for (path, part) in parts {
        for (j, _) in &part.items {
            if !part.shard.owns(*j) {
                return Err(MergeError::BadItem { path, item: *j, shard: part.shard });
            }
        }
        items.extend(part.items);
        settings.get_or_insert(part.settings);
    }
    items.sort_by_key(|(j, _)| *j);
    if let Some(w) = items.windows(2).find(|w| w[0].0 == w[1].0) {
        return Err(MergeError::Incomplete(format!("item {} twice", w[0].0)));
    }
    let settings = settings.ok_or(MergeError::Empty)?;
    Ok((settings, items))
}

fn read<S: DeserializeOwned, I: DeserializeOwned>(command: &str, path: &Path) -> Result<Partial<S, I>, MergeError> {
    let not =
        |reason: String| MergeError::NotAPartial { path: path.to_path_buf(), command: command.to_string(), reason };
    let file = std::fs::File::open(path).map_err(|source| MergeError::Io { path: path.to_path_buf(), source })?;
    let head: serde_json::Value =
        serde_json::from_reader(std::io::BufReader::new(file)).map_err(|e| not(e.to_string()))?;
    match head.get("weightstream_partial").and_then(serde_json::Value::as_u64) {
        Some(v) if v == u64::from(PARTIAL_VERSION) => {}
        Some(v) => return Err(not(format!("layout version {v}, this build reads {PARTIAL_VERSION}"))),
        None => return Err(not("no weightstream_partial field".into())),
    }
    match head.get("command").and_then(serde_json::Value::as_str) {
        Some(c) if c == command => {}
        Some(c) => return Err(not(format!("written by `{c}`"))),
        None => return Err(not("no command field".into())),
    }
    serde_json::from_value(head).map_err(|e| not(e.to_string()))
}
