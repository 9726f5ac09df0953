//! Locks: the full, resolved pin set of a release for one Python version, resolved as of the
//! release date so an old Airflow gets the libraries it shipped with.
//!
//! A lock is an input: `runtime-kit lock` writes `locks/<version>/python-X.Y.txt`, it is
//! committed, and `generate` copies it into each base build context as `constraints.txt`. The
//! resolver is [uv](https://docs.astral.sh/uv/) (`uv pip compile --exclude-newer DATE
//! --python-version X.Y`), which resolves for a Python that need not be installed.
//!
//! Packages served only by a vendor index (see `[indexes]` in the matrix) are left out of the
//! resolution and named in the lock's header: the build installs them from that index.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use jiff::ToSpan;

use crate::matrix::{Matrix, Release};
use crate::model::{PackageName, PackageVersion, PythonVersion, RuntimeVersion};

/// The directory locks live in, relative to the repository root.
pub const LOCKS_DIR: &str = "locks";

/// The platform every lock is resolved for (the images are x86_64 Debian).
pub const PLATFORM: &str = "x86_64-unknown-linux-gnu";

/// Where the lock of `version` for `python` lives under `root`.
pub fn lock_path(root: &Path, version: &RuntimeVersion, python: PythonVersion) -> PathBuf {
    root.join(LOCKS_DIR)
        .join(version.to_string())
        .join(format!("python-{python}.txt"))
}

/// A path under `locks/` that belongs to no release/Python pair of the matrix: left by a `cut`
/// killed before it wrote the matrix, by a release removed by hand, or by a killed write.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Orphan {
    /// The path, under `root`.
    pub path: PathBuf,
    /// Why it belongs to nothing.
    pub reason: String,
}

impl fmt::Display for Orphan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.reason)
    }
}

/// Every entry of `root/locks/` that no release of `matrix` owns: a directory not named after
/// a release, or a file in a release's directory other than `python-X.Y.txt` for one of the
/// release's Pythons. None when `locks/` does not exist.
pub fn orphans(root: &Path, matrix: &Matrix) -> std::io::Result<Vec<Orphan>> {
    let dir = root.join(LOCKS_DIR);
    let entries = match std::fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry?;
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let release = name
            .parse::<RuntimeVersion>()
            .ok()
            .and_then(|v| matrix.release(&v));
        let Some(release) = release else {
            out.push(Orphan {
                path,
                reason: format!(
                    "no release {name} in {}; remove it, or add the release",
                    matrix.path().display()
                ),
            });
            continue;
        };
        if !entry.file_type()?.is_dir() {
            out.push(Orphan {
                path,
                reason: "a file where a release's lock directory belongs".into(),
            });
            continue;
        }
        let expected: Vec<String> = release
            .pythons()
            .map(|p| format!("python-{p}.txt"))
            .collect();
        for file in std::fs::read_dir(&path)? {
            let file = file?;
            let file_name = file.file_name().to_string_lossy().into_owned();
            if !expected.contains(&file_name) {
                out.push(Orphan {
                    path: file.path(),
                    reason: format!(
                        "not the lock of a Python of {} (expected {})",
                        release.version,
                        expected.join(" or ")
                    ),
                });
            }
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

/// Reads the committed lock of `version` for `python`, if there is one.
pub fn read_lock(
    root: &Path,
    version: &RuntimeVersion,
    python: PythonVersion,
) -> std::io::Result<Option<String>> {
    match crate::fsutil::read_input_string(
        &lock_path(root, version, python),
        crate::fsutil::DEFAULT_INPUT_LIMIT,
    ) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// What to resolve for one release and Python.
#[derive(Clone, Debug)]
pub struct LockPlan {
    /// The release.
    pub version: RuntimeVersion,
    /// Its Airflow version, as text.
    pub airflow: String,
    /// The Python resolved for.
    pub python: PythonVersion,
    /// What the resolver is asked for and every lock of the plan must pin: Airflow first, then
    /// each public pin of the release.
    pub pins: Vec<(PackageName, PackageVersion)>,
    /// Pins left out because only a vendor index serves them: (package, index name).
    pub vendor: Vec<(PackageName, String)>,
    /// Resolution ignores uploads from this day on (the day after the release date, or after the
    /// day of the earliest trace of a release whose date is unknown).
    pub exclude_newer: jiff::civil::Date,
    /// The release date, or `None` where the record lacks it.
    pub date: Option<jiff::civil::Date>,
    /// The day resolution is as of: the release date, or the day of its earliest trace.
    pub as_of: jiff::civil::Date,
    /// Whether the release's package set is known.
    pub packages_known: bool,
}

impl LockPlan {
    /// The plan for `release` on `python`: Airflow and every public pin of the standard and
    /// slim sets. `None` for a release that cannot be locked: its Airflow version is not in the
    /// record, or neither its date nor a day it existed by is.
    pub fn new(matrix: &Matrix, release: &Release, python: PythonVersion) -> Option<LockPlan> {
        let airflow = release.airflow.as_ref()?;
        let as_of = release.known_by()?;
        let mut pins: Vec<(PackageName, PackageVersion)> = vec![(
            "apache-airflow".parse().expect("a valid package name"),
            airflow.as_package_version().clone(),
        )];
        let mut vendor = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        for (name, version) in release.packages.iter().chain(release.slim_packages.iter()) {
            if !seen.insert(name) {
                continue;
            }
            if matrix.is_vendor_package(release, name) {
                let index = matrix
                    .index_of(name)
                    .map(|i| i.name.clone())
                    .or_else(|| release.index.clone())
                    .unwrap_or_default();
                vendor.push((name.clone(), index));
            } else {
                pins.push((name.clone(), version.clone()));
            }
        }
        Some(LockPlan {
            version: release.version.clone(),
            airflow: airflow.to_string(),
            python,
            pins,
            vendor,
            exclude_newer: as_of.checked_add(1.day()).unwrap_or(as_of),
            date: release.date,
            as_of,
            packages_known: release.packages_known,
        })
    }

    /// The requirements passed to the resolver: `name==version` lines, Airflow first.
    pub fn requirements(&self) -> Vec<String> {
        self.pins.iter().map(|(n, v)| format!("{n}=={v}")).collect()
    }

    /// The pins of the plan that the lock `text` does not hold at their version: an empty list
    /// when the lock is the plan's. A lock is `name==version` lines (comments and blank lines
    /// aside), as `uv pip compile` writes them.
    pub fn mismatches(&self, text: &str) -> Vec<Mismatch> {
        let mut locked: std::collections::BTreeMap<PackageName, &str> = Default::default();
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or("").trim();
            let line = line.split(';').next().unwrap_or("").trim();
            if let Some((name, version)) = line.split_once("==")
                && let Ok(name) = name.trim().parse::<PackageName>()
            {
                locked.insert(name, version.trim());
            }
        }
        self.pins
            .iter()
            .filter_map(|(name, version)| {
                let found = locked.get(name).copied();
                let same =
                    found.is_some_and(|f| f.parse::<PackageVersion>().is_ok_and(|f| &f == version));
                (!same).then(|| Mismatch {
                    name: name.clone(),
                    expected: version.clone(),
                    found: found.map(str::to_string),
                })
            })
            .collect()
    }

    /// The header written above the resolved pins.
    pub fn header(&self, uv_version: &str) -> String {
        let when = match self.date {
            Some(d) => format!("released {d}"),
            None => format!(
                "release date not in the record; the release existed by {}",
                self.as_of
            ),
        };
        let mut h = format!(
            "# runtime-kit lock: Runtime {} (Airflow {}), Python {}.\n\
             # Resolved by {uv_version} for {PLATFORM} from uploads before {} ({when}).\n",
            self.version, self.airflow, self.python, self.exclude_newer
        );
        if !self.packages_known {
            h.push_str("# The release's package set is not in the public record: Airflow only.\n");
        }
        for (name, index) in &self.vendor {
            h.push_str(&format!(
                "# Not resolved here: {name} is served by the {index} index at build time.\n"
            ));
        }
        h.push_str(&format!(
            "# Regenerate with: runtime-kit lock {} --python {}\n",
            self.version, self.python
        ));
        h
    }
}

/// A pin a lock should hold at the release's version and does not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    /// The package.
    pub name: PackageName,
    /// The version the release pins.
    pub expected: PackageVersion,
    /// What the lock pins it at (`None`: not at all).
    pub found: Option<String>,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.found {
            Some(v) => write!(f, "{}=={} (the lock has {v})", self.name, self.expected),
            None => write!(f, "{}=={} (not in the lock)", self.name, self.expected),
        }
    }
}

/// The mismatches of a lock, listed for a message.
pub fn list_mismatches(mismatches: &[Mismatch]) -> String {
    mismatches
        .iter()
        .map(|m| m.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Why a lock could not be made.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// The resolver could not be started.
    #[error("cannot run uv ({uv}): {source}; install it (pip install uv) or pass --uv PATH")]
    Uv {
        /// The command tried.
        uv: String,
        /// Why it failed.
        source: std::io::Error,
    },
    /// The resolver ran and failed.
    #[error("uv could not resolve Runtime {version} for Python {python}:\n{output}")]
    Resolve {
        /// Release.
        version: RuntimeVersion,
        /// Python.
        python: PythonVersion,
        /// The resolver's explanation (its last lines).
        output: String,
    },
    /// The resolver's output does not pin the release's own versions.
    #[error(
        "uv's lock of Runtime {version} for Python {python} does not hold the release's pins: {}",
        list_mismatches(mismatches)
    )]
    Mismatch {
        /// Release.
        version: RuntimeVersion,
        /// Python.
        python: PythonVersion,
        /// What is missing or different.
        mismatches: Vec<Mismatch>,
    },
    /// Writing the lock failed.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The lock file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// The resolver: a `uv` executable.
#[derive(Clone, Debug)]
pub struct Resolver {
    uv: PathBuf,
}

impl fmt::Display for Resolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.uv.display())
    }
}

impl Resolver {
    /// Uses `uv` at `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Resolver { uv: path.into() }
    }

    /// Finds uv: `$RUNTIME_KIT_UV`, then `.venv/bin/uv` under `root`, then `uv` on `PATH`.
    pub fn discover(root: &Path) -> Self {
        if let Some(p) = std::env::var_os("RUNTIME_KIT_UV") {
            return Resolver::new(p);
        }
        let venv = root.join(".venv/bin/uv");
        if venv.is_file() {
            return Resolver::new(venv);
        }
        Resolver::new("uv")
    }

    /// `uv --version`, e.g. `uv 0.13.9`.
    pub fn version(&self) -> Result<String, LockError> {
        let out = Command::new(&self.uv)
            .arg("--version")
            .output()
            .map_err(|source| LockError::Uv {
                uv: self.to_string(),
                source,
            })?;
        let text = String::from_utf8_lossy(&out.stdout);
        let version = text
            .split_whitespace()
            .take(2)
            .collect::<Vec<_>>()
            .join(" ");
        // A lock header must name the resolver that made it: a uv that fails or prints
        // nothing is not one.
        let why = if !out.status.success() {
            format!(
                "`--version` exited with {}: {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            )
        } else if !version.starts_with("uv ") {
            format!(
                "`--version` printed {:?}, expected \"uv X.Y.Z\"",
                text.trim()
            )
        } else {
            return Ok(version);
        };
        Err(LockError::Uv {
            uv: self.to_string(),
            source: std::io::Error::other(why),
        })
    }

    /// Resolves `plan` and returns the lock file's text (header and pins).
    pub fn resolve(&self, plan: &LockPlan) -> Result<String, LockError> {
        let uv_version = self.version()?;
        let mut child = Command::new(&self.uv)
            .args([
                "pip",
                "compile",
                "-",
                "--quiet",
                "--no-header",
                "--no-annotate",
            ])
            // The python:X.Y images carry the newest patch release of X.Y; X.Y alone would mean
            // X.Y.0 to the resolver and fail on floors such as `requires-python >=3.8.1`.
            .args(["--python-version", &format!("{}.99", plan.python)])
            .args(["--python-platform", PLATFORM])
            .args(["--exclude-newer", &plan.exclude_newer.to_string()])
            .env("UV_NO_CONFIG", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|source| LockError::Uv {
                uv: self.to_string(),
                source,
            })?;
        let input = plan.requirements().join("\n") + "\n";
        if let Some(mut stdin) = child.stdin.take() {
            stdin
                .write_all(input.as_bytes())
                .map_err(|source| LockError::Uv {
                    uv: self.to_string(),
                    source,
                })?;
        }
        let out = child.wait_with_output().map_err(|source| LockError::Uv {
            uv: self.to_string(),
            source,
        })?;
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let tail: Vec<&str> = stderr.lines().rev().take(25).collect();
            let output = tail.into_iter().rev().collect::<Vec<_>>().join("\n");
            return Err(LockError::Resolve {
                version: plan.version.clone(),
                python: plan.python,
                output,
            });
        }
        let pins = String::from_utf8_lossy(&out.stdout);
        let mismatches = plan.mismatches(&pins);
        if !mismatches.is_empty() {
            return Err(LockError::Mismatch {
                version: plan.version.clone(),
                python: plan.python,
                mismatches,
            });
        }
        Ok(format!("{}{}", plan.header(&uv_version), pins))
    }
}

/// Writes a lock all-or-nothing.
pub fn write_lock(path: &Path, text: &str) -> Result<(), LockError> {
    crate::fsutil::write_atomic(path, text.as_bytes()).map_err(|source| LockError::Write {
        path: path.to_path_buf(),
        source,
    })
}
