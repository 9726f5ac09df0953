//! The generated tree: compare it with what is on disk, and replace the generated files
//! all-or-nothing.
//!
//! Ownership is recorded in a manifest (`dockerfiles/.runtime-kit-manifest`), itself part of the
//! tree: `generate` only ever removes files the previous run listed there, and never touches any
//! other file.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::fsutil;

/// The manifest of generated files, relative to the output directory.
pub const MANIFEST: &str = ".runtime-kit-manifest";

/// One generated file: its path relative to the output directory, text and mode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GeneratedFile {
    /// Path relative to the output directory.
    pub path: PathBuf,
    /// Contents.
    pub contents: String,
    /// Whether the file is executable (mode 755 rather than 644).
    pub executable: bool,
}

impl GeneratedFile {
    /// A regular (non-executable) file.
    pub fn new(path: PathBuf, contents: String) -> Self {
        GeneratedFile {
            path,
            contents,
            executable: false,
        }
    }

    /// The same file, executable.
    pub fn executable(mut self) -> Self {
        self.executable = true;
        self
    }

    fn mode(&self) -> u32 {
        if self.executable { 0o755 } else { 0o644 }
    }
}

/// What differs between the rendered tree and the disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    /// Rendered, not on disk.
    Missing,
    /// On disk with other contents or mode.
    Stale,
    /// Generated earlier (in the manifest), no longer rendered.
    Extra,
    /// Under the output directory, but not a generated file: in a build context it would be
    /// sent to the builder. Never removed: delete it by hand.
    Unowned,
}

impl std::fmt::Display for ChangeKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ChangeKind::Missing => "missing",
            ChangeKind::Stale => "stale",
            ChangeKind::Extra => "extra",
            ChangeKind::Unowned => "unowned",
        })
    }
}

/// One difference.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Change {
    /// What kind.
    pub kind: ChangeKind,
    /// Path relative to the output directory.
    pub path: PathBuf,
}

/// Why the tree could not be read or written. The previous tree is intact in every case.
#[derive(Debug, thiserror::Error)]
#[error("{action} {path}: {source}")]
pub struct TreeError {
    action: &'static str,
    path: PathBuf,
    #[source]
    source: io::Error,
}

fn err<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> TreeError + 'a {
    move |source| TreeError {
        action,
        path: path.to_path_buf(),
        source,
    }
}

/// A rendered tree of generated files, manifest included.
#[derive(Clone, Debug)]
pub struct Tree {
    files: BTreeMap<PathBuf, GeneratedFile>,
}

impl Tree {
    /// The tree of `files`, plus the manifest listing them.
    pub fn new(files: Vec<GeneratedFile>) -> Tree {
        let mut map: BTreeMap<PathBuf, GeneratedFile> =
            files.into_iter().map(|f| (f.path.clone(), f)).collect();
        let mut manifest = String::from(
            "# Files written by `runtime-kit generate`; it removes only files listed here.\n",
        );
        for path in map.keys() {
            manifest.push_str(&path.to_string_lossy());
            manifest.push('\n');
        }
        map.insert(
            PathBuf::from(MANIFEST),
            GeneratedFile::new(PathBuf::from(MANIFEST), manifest),
        );
        Tree { files: map }
    }

    /// Every file, by path.
    pub fn files(&self) -> impl Iterator<Item = &GeneratedFile> {
        self.files.values()
    }

    /// The file at `path` (relative to the output directory).
    pub fn get(&self, path: &Path) -> Option<&GeneratedFile> {
        self.files.get(path)
    }

    /// Number of files, manifest included.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// True when the tree has no files but the manifest.
    pub fn is_empty(&self) -> bool {
        self.files.len() <= 1
    }

    /// Every difference between this tree and `out`, without writing anything.
    pub fn diff(&self, out: &Path) -> Result<Vec<Change>, TreeError> {
        let mut changes = Vec::new();
        for file in self.files.values() {
            let path = out.join(&file.path);
            // A generated file is small: anything larger, or not a regular file (a FIFO put in
            // its place would block a plain read), is not what generate wrote.
            let limit = (file.contents.len() as u64).max(1);
            match fsutil::read_input(&path, limit) {
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData
                    ) =>
                {
                    changes.push(Change {
                        kind: ChangeKind::Stale,
                        path: file.path.clone(),
                    })
                }
                Ok(bytes) => {
                    let mode = fs::metadata(&path)
                        .map_err(err("cannot read", &path))?
                        .permissions()
                        .mode()
                        & 0o777;
                    if bytes != file.contents.as_bytes() || (mode & 0o111 != 0) != file.executable {
                        changes.push(Change {
                            kind: ChangeKind::Stale,
                            path: file.path.clone(),
                        });
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => changes.push(Change {
                    kind: ChangeKind::Missing,
                    path: file.path.clone(),
                }),
                Err(e) => return Err(err("cannot read", &path)(e)),
            }
        }
        let previous = previous_manifest(out)?;
        for path in &previous {
            if !self.files.contains_key(path) && out.join(path).exists() {
                changes.push(Change {
                    kind: ChangeKind::Extra,
                    path: path.clone(),
                });
            }
        }
        // Anything else under the output directory was not written by generate: it would be
        // sent to a builder, or is left over, and the tree is not a fresh generation.
        let previous: BTreeSet<&PathBuf> = previous.iter().collect();
        for rel in files_under(out)? {
            let name = rel
                .file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default();
            let temp = name.starts_with('.') && name.contains(".tmp-");
            if !self.files.contains_key(&rel) && !previous.contains(&rel) && !temp {
                changes.push(Change {
                    kind: ChangeKind::Unowned,
                    path: rel,
                });
            }
        }
        changes.sort();
        changes.dedup();
        Ok(changes)
    }

    /// Makes `out` hold this tree: writes missing and stale files, removes extra ones, all
    /// staged first so that a failure leaves the previous tree intact. Concurrent runs on the
    /// same directory wait for each other. Returns what changed (unowned files are reported,
    /// never touched).
    pub fn write(&self, out: &Path) -> Result<Vec<Change>, TreeError> {
        self.write_with(out, &mut |_| Ok(()))
    }

    /// [`Tree::write`] with a hook called before each file is staged; an error from it aborts
    /// the write as a real I/O error would. For failure-injection tests.
    #[doc(hidden)]
    pub fn write_with(
        &self,
        out: &Path,
        before_stage: &mut dyn FnMut(&Path) -> io::Result<()>,
    ) -> Result<Vec<Change>, TreeError> {
        fs::create_dir_all(out).map_err(err("cannot create", out))?;
        // Serialise concurrent runs: an exclusive lock on the output directory itself.
        let guard = fs::File::open(out).map_err(err("cannot open", out))?;
        guard.lock().map_err(err("cannot lock", out))?;

        let changes = self.diff(out)?;
        let mut staged: Vec<(PathBuf, PathBuf)> = Vec::new();
        let stage_all = |staged: &mut Vec<(PathBuf, PathBuf)>,
                         hook: &mut dyn FnMut(&Path) -> io::Result<()>|
         -> Result<(), TreeError> {
            for change in &changes {
                if !matches!(change.kind, ChangeKind::Missing | ChangeKind::Stale) {
                    continue;
                }
                let file = &self.files[&change.path];
                let target = out.join(&file.path);
                hook(&target).map_err(err("cannot write", &target))?;
                let tmp = fsutil::stage(&target, file.contents.as_bytes())
                    .map_err(err("cannot write", &target))?;
                staged.push((tmp.clone(), target.clone()));
                fs::set_permissions(&tmp, fs::Permissions::from_mode(file.mode()))
                    .map_err(err("cannot set the mode of", &target))?;
            }
            Ok(())
        };
        if let Err(e) = stage_all(&mut staged, before_stage) {
            for (tmp, _) in &staged {
                let _ = fs::remove_file(tmp);
            }
            return Err(e);
        }
        for (i, (tmp, target)) in staged.iter().enumerate() {
            if let Err(e) = fs::rename(tmp, target) {
                for (tmp, _) in &staged[i..] {
                    let _ = fs::remove_file(tmp);
                }
                return Err(err("cannot replace", target)(e));
            }
        }
        for change in &changes {
            if change.kind == ChangeKind::Extra {
                let path = out.join(&change.path);
                fs::remove_file(&path).map_err(err("cannot remove", &path))?;
                remove_empty_parents(out, &path);
            }
        }
        drop(guard);
        Ok(changes)
    }
}

/// Every file (or link, or other non-directory) under `out`, relative to it; none when `out`
/// does not exist.
fn files_under(out: &Path) -> Result<Vec<PathBuf>, TreeError> {
    let mut files = Vec::new();
    let mut dirs = vec![PathBuf::new()];
    while let Some(rel) = dirs.pop() {
        let full = out.join(&rel);
        let entries = match fs::read_dir(&full) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound && rel.as_os_str().is_empty() => {
                return Ok(files);
            }
            Err(e) => return Err(err("cannot list", &full)(e)),
        };
        for entry in entries {
            let entry = entry.map_err(err("cannot list", &full))?;
            let path = rel.join(entry.file_name());
            let kind = entry.file_type().map_err(err("cannot list", &full))?;
            if kind.is_dir() {
                dirs.push(path);
            } else {
                files.push(path);
            }
        }
    }
    Ok(files)
}

fn previous_manifest(out: &Path) -> Result<Vec<PathBuf>, TreeError> {
    let path = out.join(MANIFEST);
    match fsutil::read_input_string(&path, fsutil::DEFAULT_INPUT_LIMIT) {
        Ok(text) => Ok(text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .map(PathBuf::from)
            // Only relative paths inside the tree: a hand-edited manifest cannot point outside.
            .filter(|p| {
                p.components()
                    .all(|c| matches!(c, std::path::Component::Normal(_)))
            })
            .collect()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(err("cannot read", &path)(e)),
    }
}

fn remove_empty_parents(out: &Path, file: &Path) {
    let mut dir = file.parent();
    while let Some(d) = dir {
        if d == out || !d.starts_with(out) || fs::remove_dir(d).is_err() {
            break;
        }
        dir = d.parent();
    }
}
