//! Cutting a new release: the next version by policy, a new `[[release]]` entry written into the
//! matrix without disturbing anything else in the file, and marking releases yanked.
//!
//! The new entry continues the newest release of its series: same Python, variants, Debian
//! release and packages, with the requested Airflow version and package pins. The edited text is
//! validated as a whole before anything is written, so an invalid cut changes nothing.

use std::fmt;
use std::str::FromStr;

use jiff::civil::Date;

use std::path::{Path, PathBuf};

use crate::fsutil;
use crate::lock::{LockError, write_lock};
use crate::matrix::edit::MatrixDocument;
use crate::matrix::text_style::TextStyle;
use crate::matrix::{Channel, Matrix, Release};
use crate::model::{
    AirflowVersion, PackageName, PackageSet, PackageVersion, ParseError, PythonVersion,
    RuntimeVersion, SeriesKey,
};
use crate::policy::release::{
    Change as PolicyChange, Next, NextError, check_era, default_base, next_version,
};
use crate::render::tree::TreeError;
use crate::render::{self, Change, RenderError, Templates};

/// A `NAME==VERSION` pin given on the command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pin {
    /// Package name (PEP 503 normalised).
    pub name: PackageName,
    /// Exact version (normalised PEP 440).
    pub version: PackageVersion,
}

impl FromStr for Pin {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, ParseError> {
        const EXPECTED: &str = "a pin like \"apache-airflow-providers-amazon==8.27.0\"";
        let (name, version) = s
            .split_once("==")
            .ok_or_else(|| ParseError::new(s, EXPECTED, "it has no \"==\""))?;
        let name = name
            .parse()
            .map_err(|e: ParseError| ParseError::new(s, EXPECTED, &e.to_string()))?;
        let version = version
            .parse()
            .map_err(|e: ParseError| ParseError::new(s, EXPECTED, &e.to_string()))?;
        Ok(Pin { name, version })
    }
}

impl fmt::Display for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}=={}", self.name, self.version)
    }
}

/// What to cut.
#[derive(Clone, Debug)]
pub struct CutRequest {
    /// Airflow version of the new release.
    pub airflow: AirflowVersion,
    /// New pins of packages the base release already has.
    pub packages: Vec<Pin>,
    /// Packages the base release does not have.
    pub new_packages: Vec<Pin>,
    /// Another default Python.
    pub python: Option<PythonVersion>,
    /// A backwards-incompatible change.
    pub breaking: bool,
    /// Release date.
    pub date: Date,
    /// The release to continue (default: the newest release).
    pub from: Option<RuntimeVersion>,
    /// The channel of the new release's series, when the cut starts a series (a new major);
    /// stable when not given.
    pub channel: Option<Channel>,
}

/// Why a cut was refused. Nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum CutError {
    /// The policy cannot produce a version (downgrade, taken major, ...).
    #[error(transparent)]
    Next(#[from] NextError),
    /// `--package` names a package the base release does not pin.
    #[error(
        "{name} is not a package of {base}; pin it with --new-package if it is new, or check its spelling"
    )]
    UnknownPackage {
        /// The package.
        name: PackageName,
        /// The base release.
        base: RuntimeVersion,
    },
    /// `--new-package` names a package the base release already pins.
    #[error("{name} is already a package of {base} (at {version}); use --package to move its pin")]
    KnownPackage {
        /// The package.
        name: PackageName,
        /// The base release.
        base: RuntimeVersion,
        /// Its current pin.
        version: PackageVersion,
    },
    /// `--package apache-airflow==...`: Airflow is the release's `--airflow`.
    #[error("apache-airflow is not a package pin of a release; give its version with --airflow")]
    AirflowPin,
    /// The same package twice.
    #[error("{0} is given twice")]
    Duplicate(PackageName),
    /// The base release's package set is not known, nor that of any earlier release of its
    /// series, and no pins were given.
    #[error(
        "the package set of {0} is not in the public record, nor that of an earlier release of its series, so there is none to carry forward; give the new release's pins with --new-package NAME==VERSION"
    )]
    UnknownBase(RuntimeVersion),
    /// The computed version is already recorded.
    #[error("{0} already exists in the matrix")]
    Exists(RuntimeVersion),
    /// The date is before the base release's date.
    #[error("the release date {date} is before {base}'s date {base_date}")]
    Date {
        /// Requested date.
        date: Date,
        /// Base release.
        base: RuntimeVersion,
        /// Its date.
        base_date: Date,
    },
    /// `--channel` was given for a series that already exists (its channel is in the matrix).
    #[error(
        "{version} continues series {series}, whose channel is already {channel}; a channel is given only for a release that starts a series"
    )]
    ChannelOfExisting {
        /// The new version.
        version: RuntimeVersion,
        /// Its series.
        series: SeriesKey,
        /// The series' channel.
        channel: Channel,
    },
    /// The edited matrix did not validate (the message lists every problem).
    #[error("the new entry would make the matrix invalid:\n{0}")]
    Invalid(String),
}

/// A cut, computed and validated but not written.
#[derive(Clone, Debug)]
pub struct Cut {
    /// The version, the release it continues and the rule that decided it.
    pub next: Next,
    /// The release whose package set was carried forward, when it is not the base (whose set
    /// the public record lacks).
    pub packages_from: Option<RuntimeVersion>,
    /// The new matrix text.
    pub text: String,
    /// The new matrix, validated.
    pub matrix: Matrix,
    /// 1-based line of the matrix where the new entry starts.
    pub line: usize,
}

impl Cut {
    /// The new release.
    pub fn release(&self) -> &Release {
        self.matrix
            .release(&self.next.version)
            .expect("a cut contains its release")
    }
}

/// Computes the cut of `request` on `matrix`: version, new entry and new text. Writes nothing.
pub fn cut(matrix: &Matrix, request: &CutRequest) -> Result<Cut, CutError> {
    let base_version = match &request.from {
        Some(v) => v.clone(),
        None => default_base(matrix, Some(&request.airflow))
            .map(|r| r.version.clone())
            .ok_or(NextError::Empty)?,
    };
    let base = matrix
        .release(&base_version)
        .ok_or_else(|| NextError::Unknown(base_version.clone()))?;
    check_era(matrix, base, &request.airflow)?;
    // The packages carried forward: the base's, or where the record lacks them, those of the
    // newest release of its series whose set is known (the cut says so); with none, the new
    // release's set is exactly its --new-package pins.
    let content: Option<&Release> = if base.packages_known {
        Some(base)
    } else {
        matrix
            .releases_in(base.version.series())
            .rev()
            .find(|r| r.packages_known && r.version < base.version)
    };
    if content.is_none() && request.new_packages.is_empty() {
        return Err(CutError::UnknownBase(base.version.clone()));
    }
    let empty = PackageSet::new();
    let carried = content.map_or(&empty, |c| &c.packages);
    let carried_slim = content.map_or(&empty, |c| &c.slim_packages);
    let mut seen = std::collections::BTreeSet::new();
    for pin in request.packages.iter().chain(&request.new_packages) {
        if !seen.insert(&pin.name) {
            return Err(CutError::Duplicate(pin.name.clone()));
        }
    }
    for pin in request.packages.iter().chain(&request.new_packages) {
        if pin.name.as_str() == "apache-airflow" {
            return Err(CutError::AirflowPin);
        }
    }
    for pin in &request.packages {
        if !carried.contains(&pin.name) && !carried_slim.contains(&pin.name) {
            return Err(CutError::UnknownPackage {
                name: pin.name.clone(),
                base: base.version.clone(),
            });
        }
    }
    for pin in &request.new_packages {
        if let Some(v) = carried.get(&pin.name) {
            return Err(CutError::KnownPackage {
                name: pin.name.clone(),
                base: base.version.clone(),
                version: v.clone(),
            });
        }
    }
    if let Some(base_date) = base.date
        && request.date < base_date
    {
        return Err(CutError::Date {
            date: request.date,
            base: base.version.clone(),
            base_date,
        });
    }
    let changed: Vec<(&PackageName, &PackageVersion)> = request
        .packages
        .iter()
        .chain(&request.new_packages)
        .filter(|p| carried.get(&p.name) != Some(&p.version))
        .map(|p| (&p.name, &p.version))
        .collect();
    let python_changed = request.python.is_some_and(|p| p != base.python);
    let change = PolicyChange {
        airflow: Some(&request.airflow),
        packages: changed,
        breaking: request.breaking || python_changed,
        relative_to: Some(carried),
    };
    let next = next_version(matrix, Some(&base.version), &change)?;
    if matrix.release(&next.version).is_some() {
        return Err(CutError::Exists(next.version));
    }

    let mut packages = carried.clone();
    let mut slim_packages = carried_slim.clone();
    for pin in request.packages.iter().chain(&request.new_packages) {
        if carried_slim.contains(&pin.name) {
            slim_packages.insert(pin.name.clone(), pin.version.clone());
        }
        if carried.contains(&pin.name) || request.new_packages.contains(pin) {
            packages.insert(pin.name.clone(), pin.version.clone());
        }
    }
    let python = request.python.unwrap_or(base.python);
    let series = matrix.series_of(next.version.series());
    if let (Some(s), Some(_)) = (series, request.channel) {
        return Err(CutError::ChannelOfExisting {
            version: next.version,
            series: s.key,
            channel: s.channel,
        });
    }
    // A release that starts a series brings its table: channel, the release's Python as the
    // series default, and what the base's series gives its releases (images, Debian, registry,
    // index); its lifecycle dates are computed from the policy until published ones are recorded.
    let base_series = matrix.series_of(base.version.series());
    let series_block = series.is_none().then(|| {
        let mut block = format!(
            "{}\nchannel = {}\npython = {}\n",
            next.version.series().table_header(),
            quoted(&request.channel.unwrap_or(Channel::Stable).to_string()),
            quoted(&python.to_string())
        );
        if let Some(bs) = base_series {
            if let Some(variants) = &bs.python_variants {
                let mut variants = variants.clone();
                if python != base.python && !variants.contains(&base.python) {
                    variants.push(base.python);
                }
                variants.retain(|p| *p != python);
                variants.sort();
                block.push_str(&format!("python-variants = {}\n", python_list(&variants)));
            }
            if let Some(slim) = bs.slim {
                block.push_str(&format!("slim = {slim}\n"));
            }
            if let Some(d) = bs.debian {
                block.push_str(&format!("debian = {}\n", quoted(d.codename())));
            }
            if let Some(r) = &bs.repository {
                block.push_str(&format!("repository = {}\n", quoted(r)));
            }
            if let Some(i) = &bs.index {
                block.push_str(&format!("index = {}\n", quoted(i)));
            }
        }
        block
    });
    // What the new release's series gives it, so the entry says only what differs.
    let inherited = |s: Option<&crate::matrix::Series>| Inherited {
        python: s.and_then(|s| s.python),
        python_variants: s.and_then(|s| s.python_variants.clone()),
        slim: s.and_then(|s| s.slim).unwrap_or(false),
        debian: s.and_then(|s| s.debian).unwrap_or(matrix.defaults().debian),
        index: s.and_then(|s| s.index.clone()),
    };
    let from_series = match series {
        Some(s) => inherited(Some(s)),
        None => {
            let mut i = inherited(base_series);
            i.python = Some(python);
            i
        }
    };
    // The base's Python images continue; with a new default Python, the old default becomes a
    // variant and the new one is no longer one.
    let mut python_variants: Vec<PythonVersion> = base.python_variants.clone();
    if python != base.python && !base.python_variants.is_empty() {
        python_variants.push(base.python);
    }
    python_variants.retain(|p| *p != python);
    python_variants.sort();
    python_variants.dedup();
    let series_variants = from_series.python_variants.clone().map(|mut v| {
        v.retain(|p| *p != python);
        v.sort();
        v
    });
    let block = entry_text(&EntryFields {
        python_variants: (Some(&python_variants) != series_variants.as_ref()
            && !(python_variants.is_empty() && series_variants.is_none()))
        .then_some(python_variants.as_slice()),
        version: &next.version,
        airflow: &request.airflow,
        date: request.date,
        python: (Some(python) != from_series.python).then_some(python),
        slim: (base.slim != from_series.slim).then_some(base.slim),
        debian: (base.debian != from_series.debian).then_some(base.debian),
        index: (base.index != from_series.index)
            .then(|| base.index.clone())
            .flatten(),
        base,
        packages: &packages,
        slim_packages: &slim_packages,
    });

    let original = matrix.text();
    let style = TextStyle::of(original);
    let newline = style.line_endings("\n");
    let block = style.line_endings(&block);
    let offset = insertion_offset(matrix, &next.version);
    let mut text = String::with_capacity(original.len() + block.len() + 80);
    let mut copied = 0;
    if let Some(series_block) = &series_block {
        // After the last series table (or at the end when there is none, which cannot
        // validate anyway: the base release has a series).
        let at = series_insertion_offset(original)
            .unwrap_or(original.len())
            .min(offset);
        text.push_str(&original[..at]);
        text.push_str(&newline);
        text.push_str(&style.line_endings(series_block));
        copied = at;
    }
    text.push_str(&original[copied..offset]);
    let needs_newline = offset > 0 && !original[..offset].ends_with('\n');
    if needs_newline {
        text.push_str(&newline);
    }
    let line = text.matches('\n').count() + 2;
    text.push_str(&newline);
    text.push_str(&block);
    text.push_str(&original[offset..]);
    let new_matrix = Matrix::from_str_named(&text, matrix.path())
        .map_err(|e| CutError::Invalid(e.to_string()))?;
    Ok(Cut {
        packages_from: content
            .filter(|c| c.version != base.version)
            .map(|c| c.version.clone()),
        next,
        text,
        matrix: new_matrix,
        line,
    })
}

/// What a series gives its releases.
struct Inherited {
    python: Option<PythonVersion>,
    python_variants: Option<Vec<PythonVersion>>,
    slim: bool,
    debian: crate::model::DebianRelease,
    index: Option<String>,
}

struct EntryFields<'a> {
    version: &'a RuntimeVersion,
    airflow: &'a AirflowVersion,
    date: Date,
    python: Option<PythonVersion>,
    /// Written when they differ from the series'.
    python_variants: Option<&'a [PythonVersion]>,
    slim: Option<bool>,
    debian: Option<crate::model::DebianRelease>,
    index: Option<String>,
    base: &'a Release,
    packages: &'a PackageSet,
    slim_packages: &'a PackageSet,
}

fn quoted(s: &str) -> String {
    toml_edit::Value::from(s).to_string().trim().to_string()
}

fn python_list(pythons: &[PythonVersion]) -> String {
    let list: Vec<String> = pythons.iter().map(|p| quoted(&p.to_string())).collect();
    format!("[{}]", list.join(", "))
}

/// The `[[release]]` block of a new release, in the matrix's layout.
fn entry_text(f: &EntryFields<'_>) -> String {
    let mut out = String::from("[[release]]\n");
    out.push_str(&format!("version = {}\n", quoted(&f.version.to_string())));
    out.push_str(&format!("airflow = {}\n", quoted(&f.airflow.to_string())));
    out.push_str(&format!("date = {}\n", f.date));
    if let Some(p) = f.python {
        out.push_str(&format!("python = {}\n", quoted(&p.to_string())));
    }
    if let Some(variants) = f.python_variants {
        out.push_str(&format!("python-variants = {}\n", python_list(variants)));
    }
    if let Some(slim) = f.slim {
        out.push_str(&format!("slim = {slim}\n"));
    }
    if let Some(d) = f.debian {
        out.push_str(&format!("debian = {}\n", quoted(d.codename())));
    }
    if let Some(index) = &f.index {
        out.push_str(&format!("index = {}\n", quoted(index)));
    }
    let table = |out: &mut String, name: &str, set: &PackageSet| {
        out.push_str(&format!("[release.{name}]\n"));
        for (n, v) in set.iter() {
            out.push_str(&format!(
                "{} = {}\n",
                quoted(n.as_str()),
                quoted(&v.to_string())
            ));
        }
    };
    table(&mut out, "packages", f.packages);
    if f.base.slim {
        table(&mut out, "slim-packages", f.slim_packages);
    }
    out
}

/// Where a new release's block goes: after the block of the newest release below it, before any
/// comment that introduces the next release (so section banners stay with what they introduce).
fn insertion_offset(matrix: &Matrix, version: &RuntimeVersion) -> usize {
    let text = matrix.text();
    let successor = matrix
        .releases()
        .iter()
        .find(|r| &r.version > version)
        .map(|r| r.version.to_string());
    let Some(successor) = successor else {
        return text.len();
    };
    // Line starts of every `[[release]]` header, and the version each introduces.
    let lines: Vec<(usize, &str)> = line_starts(text);
    let mut header_line = None;
    for (i, (_, line)) in lines.iter().enumerate() {
        if line.trim_start().starts_with("[[release]]") {
            let introduces = lines[i + 1..]
                .iter()
                .map(|(_, l)| l.trim())
                .find(|l| l.starts_with("version"))
                .and_then(|l| l.split('"').nth(1));
            if introduces == Some(successor.as_str()) {
                header_line = Some(i);
                break;
            }
        }
    }
    let Some(mut i) = header_line else {
        return text.len();
    };
    // Walk up over the comments and blank lines that precede the successor's header.
    while i > 0 {
        let l = lines[i - 1].1.trim();
        if l.is_empty() || l.starts_with('#') {
            i -= 1;
        } else {
            break;
        }
    }
    lines[i].0
}

/// Where a new `[series.*]` table goes: after the last one's keys, before the blank lines and
/// comments that introduce what follows it.
fn series_insertion_offset(text: &str) -> Option<usize> {
    let lines = line_starts(text);
    let last = lines
        .iter()
        .rposition(|(_, l)| l.trim_start().starts_with("[series."))?;
    let mut end = lines[last + 1..]
        .iter()
        .position(|(_, l)| l.trim_start().starts_with('['))
        .map_or(lines.len(), |i| last + 1 + i);
    while end > last + 1 {
        let l = lines[end - 1].1.trim();
        if l.is_empty() || l.starts_with('#') {
            end -= 1;
        } else {
            break;
        }
    }
    Some(lines.get(end).map_or(text.len(), |(start, _)| *start))
}

fn line_starts(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = 0;
    for line in text.split_inclusive('\n') {
        out.push((start, line));
        start += line.len();
    }
    out
}

/// Why a computed cut could not be written. What had been written was restored (the matrix,
/// `locks/` and `dockerfiles/` are as they were), except in [`WriteError::Undo`], which says
/// what is left.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// A lock could not be written.
    #[error(transparent)]
    Lock(#[from] LockError),
    /// The build contexts could not be rendered.
    #[error(transparent)]
    Render(#[from] RenderError),
    /// The build contexts could not be written.
    #[error(transparent)]
    Tree(#[from] TreeError),
    /// The matrix could not be written.
    #[error("cannot write {path}: {source}")]
    Matrix {
        /// The matrix file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A step failed, and undoing the steps before it failed too.
    #[error("{cause}; undoing the cut failed too, so it is half done: {}", left.join("; "))]
    Undo {
        /// The failure that started the undo.
        cause: Box<WriteError>,
        /// What could not be put back, one entry per path.
        left: Vec<String>,
    },
}

/// A step of [`write_with`], named to its failure-injection hook.
#[doc(hidden)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CutStep {
    /// Writing a lock.
    WriteLock,
    /// Writing the matrix.
    WriteMatrix,
    /// Putting a lock back (or removing a new one).
    UndoLock,
    /// Writing the build contexts of the previous matrix back.
    UndoTree,
}

/// Writes a computed cut under the repository `root`: its `locks` (path and text), the
/// regenerated build contexts, and last the matrix. A failure at any step undoes the steps
/// before it, so a failed cut leaves the matrix, `locks/` and `dockerfiles/` as they were; when
/// the undo fails too, the error is [`WriteError::Undo`], naming what is left.
/// `before` is the matrix the cut was computed from. Returns what changed in `dockerfiles/`.
pub fn write(
    cut: &Cut,
    before: &Matrix,
    templates: &Templates,
    root: &Path,
    locks: &[(PathBuf, String)],
) -> Result<Vec<Change>, WriteError> {
    write_with(cut, before, templates, root, locks, &mut |_, _| Ok(()))
}

/// [`write`] with a hook called before each step; an error from it fails that step as a real
/// I/O error would. For failure-injection tests.
#[doc(hidden)]
pub fn write_with(
    cut: &Cut,
    before: &Matrix,
    templates: &Templates,
    root: &Path,
    locks: &[(PathBuf, String)],
    hook: &mut dyn FnMut(CutStep, &Path) -> std::io::Result<()>,
) -> Result<Vec<Change>, WriteError> {
    let out = root.join(render::OUT_DIR);
    let mut written = Restore::default();
    let result = (|| {
        for (path, text) in locks {
            written.save(path).map_err(|source| LockError::Write {
                path: path.clone(),
                source,
            })?;
            hook(CutStep::WriteLock, path).map_err(|source| LockError::Write {
                path: path.clone(),
                source,
            })?;
            write_lock(path, text)?;
        }
        let tree = render::render_all(templates, &cut.matrix, root)?;
        // The tree write is all-or-nothing itself (tested on its own): only a success needs
        // undoing.
        let changes = tree.write(&out)?;
        written.tree = true;
        hook(CutStep::WriteMatrix, before.path())
            .and_then(|()| {
                fsutil::replace_if_unchanged(
                    before.path(),
                    before.text().as_bytes(),
                    cut.text.as_bytes(),
                )
            })
            .map_err(|source| WriteError::Matrix {
                path: before.path().to_path_buf(),
                source,
            })?;
        Ok(changes)
    })();
    result.map_err(|cause| {
        let left = written.undo(templates, before, root, &out, hook);
        if left.is_empty() {
            cause
        } else {
            WriteError::Undo {
                cause: Box::new(cause),
                left,
            }
        }
    })
}

/// What [`write`] has written so far, to put back when a later step fails.
#[derive(Default)]
struct Restore {
    /// Lock files and what they held before (`None`: they did not exist).
    locks: Vec<(PathBuf, Option<Vec<u8>>)>,
    /// The tree was rewritten.
    tree: bool,
}

impl Restore {
    fn save(&mut self, path: &Path) -> std::io::Result<()> {
        let previous = match std::fs::read(path) {
            Ok(bytes) => Some(bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(e),
        };
        self.locks.push((path.to_path_buf(), previous));
        Ok(())
    }

    /// Puts back everything written; returns what could not be put back (empty: all was).
    /// Every step is tried, whatever failed before it.
    fn undo(
        self,
        templates: &Templates,
        before: &Matrix,
        root: &Path,
        out: &Path,
        hook: &mut dyn FnMut(CutStep, &Path) -> std::io::Result<()>,
    ) -> Vec<String> {
        let mut left = Vec::new();
        for (path, previous) in self.locks.iter().rev() {
            let undone = hook(CutStep::UndoLock, path).and_then(|()| match previous {
                Some(bytes) => fsutil::write_atomic(path, bytes),
                None => match std::fs::remove_file(path) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
                    _ => {
                        if let Some(dir) = path.parent() {
                            // Only when empty: other locks of the release stay.
                            let _ = std::fs::remove_dir(dir);
                        }
                        Ok(())
                    }
                },
            });
            if let Err(e) = undone {
                left.push(match previous {
                    Some(_) => format!(
                        "{} holds the new lock, the old one could not be put back ({e})",
                        path.display()
                    ),
                    None => format!(
                        "{} is the new lock of a release the matrix does not hold; remove it ({e})",
                        path.display()
                    ),
                });
            }
        }
        if self.tree {
            let restored = hook(CutStep::UndoTree, out)
                .map_err(|e| e.to_string())
                .and_then(|()| {
                    render::render_all(templates, before, root).map_err(|e| e.to_string())
                })
                .and_then(|tree| tree.write(out).map(|_| ()).map_err(|e| e.to_string()));
            if let Err(e) = restored {
                left.push(format!(
                    "{} holds the build contexts of the cut; run `runtime-kit generate` to bring back the previous ones ({e})",
                    out.display()
                ));
            }
        }
        left
    }
}

/// Marks `version` yanked with `reason` in the document (comments and layout kept). The caller
/// saves it; saving re-validates.
pub fn yank(
    doc: &mut MatrixDocument,
    version: &RuntimeVersion,
    reason: &str,
) -> Result<(), crate::matrix::edit::EditError> {
    let table = doc.release_mut(version)?;
    table.insert("yanked", toml_edit::value(true));
    table.insert("yanked-reason", toml_edit::value(reason));
    Ok(())
}
