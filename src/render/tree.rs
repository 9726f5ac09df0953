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
    /// A temporary or backup file (`.<name>.tmp-<pid>-<n>`, `.<name>.bak-<pid>-<n>`) that a
    /// killed run left behind: drift for `--check`, removed by the next write.
    Leftover,
}

impl std::fmt::Display for ChangeKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ChangeKind::Missing => "missing",
            ChangeKind::Stale => "stale",
            ChangeKind::Extra => "extra",
            ChangeKind::Unowned => "unowned",
            ChangeKind::Leftover => "leftover",
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

/// Why the tree could not be read or written.
///
/// The previous tree is intact (byte for byte, modes and times included) unless
/// [`TreeError::left`] says otherwise: that lists what a failed rollback could not undo.
#[derive(Debug)]
pub struct TreeError {
    action: &'static str,
    path: PathBuf,
    source: io::Error,
    left: Vec<String>,
}

impl TreeError {
    /// What the rollback after the failure could not undo, one line per path: empty when the
    /// previous tree is intact.
    pub fn left(&self) -> &[String] {
        &self.left
    }
}

impl std::fmt::Display for TreeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.action,
            self.path.display(),
            self.source
        )?;
        if self.left.is_empty() {
            return Ok(());
        }
        write!(
            f,
            "; undoing the write failed too, so the tree is partly new: {}",
            self.left.join("; ")
        )
    }
}

impl std::error::Error for TreeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

fn err<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> TreeError + 'a {
    move |source| TreeError {
        action,
        path: path.to_path_buf(),
        source,
        left: Vec::new(),
    }
}

/// A step of [`Tree::write_with`], named to the failure-injection hook.
#[doc(hidden)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteStep {
    /// Writing the new contents of a file to a temporary sibling.
    Stage,
    /// Hard-linking a file about to be replaced to a backup sibling.
    Backup,
    /// Renaming a staged file over its target.
    Replace,
    /// Moving an extra file aside (to a backup sibling, deleted once all is done).
    Remove,
}

/// The changes of one write, undoable until [`Transaction::commit`].
///
/// Staged files and backups are siblings of their targets, so every step is a rename (or a
/// hard link) on one filesystem; undoing renames the backups back.
#[derive(Default)]
struct Transaction {
    /// Staged temporary files not yet renamed into place.
    staged: Vec<PathBuf>,
    /// Hard-linked backups of files about to be replaced or moved aside: (backup, original).
    backups: Vec<(PathBuf, PathBuf)>,
    /// Files that did not exist before and were renamed into place.
    created: Vec<PathBuf>,
    /// Originals already replaced or moved aside, whose backup must come back on undo.
    touched: Vec<(PathBuf, PathBuf)>,
    /// Directories created for new files (removed on undo when empty).
    new_dirs: Vec<PathBuf>,
}

impl Transaction {
    /// Puts everything back; returns what could not be put back.
    fn roll_back(self, out: &Path) -> Vec<String> {
        let mut left = Vec::new();
        for (backup, original) in self.touched.iter().rev() {
            if let Err(e) = fs::rename(backup, original) {
                left.push(format!(
                    "{} is the new file, the old one is at {} ({e})",
                    original.display(),
                    backup.display()
                ));
            }
        }
        for path in &self.created {
            if let Err(e) = fs::remove_file(path) {
                left.push(format!("{} was written and stays ({e})", path.display()));
            }
            remove_empty_parents(out, path);
        }
        let touched: BTreeSet<&PathBuf> = self.touched.iter().map(|(b, _)| b).collect();
        for (backup, _) in &self.backups {
            if !touched.contains(backup) {
                let _ = fs::remove_file(backup);
            }
        }
        for tmp in &self.staged {
            let _ = fs::remove_file(tmp);
        }
        for dir in self.new_dirs.iter().rev() {
            let _ = fs::remove_dir(dir);
        }
        left
    }

    /// Drops the backups: the new tree stays.
    fn commit(self) {
        for (backup, _) in &self.backups {
            let _ = fs::remove_file(backup);
        }
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
            if self.files.contains_key(&rel) || previous.contains(&rel) {
                continue;
            }
            let kind = if fsutil::is_leftover_name(&name) {
                ChangeKind::Leftover
            } else {
                ChangeKind::Unowned
            };
            changes.push(Change { kind, path: rel });
        }
        changes.sort();
        changes.dedup();
        Ok(changes)
    }

    /// Makes `out` hold this tree: writes missing and stale files, removes extra ones and the
    /// temporary files of killed runs. All-or-nothing: every new file is staged first, every
    /// file replaced or removed is backed up by a hard link, and a failure at any step puts the
    /// previous tree back (a failed undo is reported in [`TreeError::left`]). Concurrent runs
    /// on the same directory wait for each other. Returns what changed (unowned files are
    /// reported, never touched).
    pub fn write(&self, out: &Path) -> Result<Vec<Change>, TreeError> {
        self.write_with(out, &mut |_, _| Ok(()))
    }

    /// [`Tree::write`] with a hook called before each step on each file; an error from it
    /// aborts the write as a real I/O error at that step would. For failure-injection tests.
    #[doc(hidden)]
    pub fn write_with(
        &self,
        out: &Path,
        hook: &mut dyn FnMut(WriteStep, &Path) -> io::Result<()>,
    ) -> Result<Vec<Change>, TreeError> {
        fs::create_dir_all(out).map_err(err("cannot create", out))?;
        // Serialise concurrent runs: an exclusive lock on the output directory itself.
        let guard = fs::File::open(out).map_err(err("cannot open", out))?;
        guard.lock().map_err(err("cannot lock", out))?;

        let changes = self.diff(out)?;
        let mut tx = Transaction::default();
        match self.apply(out, &changes, &mut tx, hook) {
            Ok(()) => tx.commit(),
            Err(mut e) => {
                e.left = tx.roll_back(out);
                return Err(e);
            }
        }
        for change in &changes {
            match change.kind {
                ChangeKind::Extra => remove_empty_parents(out, &out.join(&change.path)),
                // Garbage of a killed run, not part of any tree: best effort.
                ChangeKind::Leftover => {
                    let _ = fs::remove_file(out.join(&change.path));
                }
                _ => {}
            }
        }
        drop(guard);
        Ok(changes)
    }

    fn apply(
        &self,
        out: &Path,
        changes: &[Change],
        tx: &mut Transaction,
        hook: &mut dyn FnMut(WriteStep, &Path) -> io::Result<()>,
    ) -> Result<(), TreeError> {
        let writes: Vec<&Change> = changes
            .iter()
            .filter(|c| matches!(c.kind, ChangeKind::Missing | ChangeKind::Stale))
            .collect();
        // 1. Stage every new file beside its target.
        let mut staged = Vec::new();
        for change in &writes {
            let file = &self.files[&change.path];
            let target = out.join(&file.path);
            hook(WriteStep::Stage, &target).map_err(err("cannot write", &target))?;
            if let Some(dir) = target.parent() {
                let mut missing: Vec<PathBuf> = dir
                    .ancestors()
                    .take_while(|d| d.starts_with(out) && *d != out && !d.exists())
                    .map(Path::to_path_buf)
                    .collect();
                missing.reverse();
                tx.new_dirs.extend(missing);
            }
            let tmp = fsutil::stage(&target, file.contents.as_bytes())
                .map_err(err("cannot write", &target))?;
            tx.staged.push(tmp.clone());
            fs::set_permissions(&tmp, fs::Permissions::from_mode(file.mode()))
                .map_err(err("cannot set the mode of", &target))?;
            staged.push((tmp, target, change.kind));
        }
        // 2. Back up, by a hard link, every file that will be replaced or removed.
        let extras: Vec<PathBuf> = changes
            .iter()
            .filter(|c| c.kind == ChangeKind::Extra)
            .map(|c| out.join(&c.path))
            .collect();
        let mut backup_of = BTreeMap::new();
        let replaced = staged
            .iter()
            .filter(|(_, _, kind)| *kind == ChangeKind::Stale)
            .map(|(_, target, _)| target);
        for original in replaced.chain(&extras) {
            // A stale target may be missing its regular file (a FIFO, a directory in its
            // place): there is nothing to keep then, and the rename below fails or replaces it.
            if !fs::symlink_metadata(original).is_ok_and(|m| m.is_file()) {
                continue;
            }
            hook(WriteStep::Backup, original).map_err(err("cannot back up", original))?;
            let backup = fsutil::backup_path(original);
            fs::hard_link(original, &backup).map_err(err("cannot back up", original))?;
            tx.backups.push((backup.clone(), original.clone()));
            backup_of.insert(original.clone(), backup);
        }
        // 3. Rename the staged files into place.
        for (tmp, target, _) in staged {
            hook(WriteStep::Replace, &target).map_err(err("cannot replace", &target))?;
            fs::rename(&tmp, &target).map_err(err("cannot replace", &target))?;
            tx.staged.retain(|t| *t != tmp);
            match backup_of.get(&target) {
                Some(backup) => tx.touched.push((backup.clone(), target)),
                None => tx.created.push(target),
            }
        }
        // 4. Remove the extra files (their backups bring them back on undo).
        for path in extras {
            hook(WriteStep::Remove, &path).map_err(err("cannot remove", &path))?;
            fs::remove_file(&path).map_err(err("cannot remove", &path))?;
            if let Some(backup) = backup_of.get(&path) {
                tx.touched.push((backup.clone(), path));
            }
        }
        Ok(())
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
