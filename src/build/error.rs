//! Why a build could not be planned or failed.

use std::fmt;
use std::path::{Path, PathBuf};

use super::Step;

/// Why a build could not be planned, prepared or run. When a builder step failed,
/// [`BuildError::failed_step`] names it and [`BuildError::log`] is the full builder output.
#[derive(Debug, thiserror::Error)]
#[error("{kind}")]
pub struct BuildError {
    kind: Box<ErrorKind>,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
enum ErrorKind {
    #[error("Runtime {version} is not a release in {matrix}")]
    UnknownRelease { version: String, matrix: PathBuf },
    #[error(
        "Runtime {version} has no build contexts: {matrix} records its Airflow version as unknown (the public record lacks it)"
    )]
    NotBuildable { version: String, matrix: PathBuf },
    #[error(
        "Runtime {version} was not published for Python {python}; expected one of: {available}"
    )]
    NoSuchPython {
        version: String,
        python: String,
        available: String,
    },
    #[error(
        "no build context for {tag}: expected a Dockerfile in {}; generate the contexts with `runtime-kit generate`",
        dir.display()
    )]
    MissingContext { tag: String, dir: PathBuf },
    #[error(
        "--base-image names one image, but this build starts from Python {pythons}; pick one with --python"
    )]
    AmbiguousBaseImage { pythons: String },
    #[error(
        "--base-image only applies to base images; ONBUILD images are built FROM the release's own -base tags"
    )]
    BaseImageWithoutBase,
    #[error(
        "invalid image reference {reference:?}: {why}; expected e.g. \"localhost/runtime:5.0.13-base\""
    )]
    BadReference { reference: String, why: String },
    #[error("CA bundle {}: {why}", path.display())]
    CaBundle { path: PathBuf, why: String },
    #[error("the {builder} builder cannot {what}")]
    Unsupported { builder: String, what: String },
    #[error("cannot run {program}: {source}{}", spawn_hint(source))]
    Spawn {
        program: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot {verb} {}: {source}", path.display())]
    Io {
        verb: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}", StepFailure(self))]
    StepFailed {
        image: String,
        reference: String,
        step: Option<Step>,
        status: String,
        output: Vec<String>,
        log: PathBuf,
    },
}

fn spawn_hint(e: &std::io::Error) -> &'static str {
    if e.kind() == std::io::ErrorKind::NotFound {
        " (is it installed and on PATH? buildah on Debian: apt-get install buildah uidmap; see docs/build.md)"
    } else {
        ""
    }
}

/// Display of [`ErrorKind::StepFailed`]: the step, its own last output lines, the log.
struct StepFailure<'a>(&'a ErrorKind);

impl fmt::Display for StepFailure<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ErrorKind::StepFailed {
            image,
            reference,
            step,
            status,
            output,
            log,
        } = self.0
        else {
            return Ok(());
        };
        match step {
            Some(step) => write!(
                f,
                "building {image} ({reference}) failed at STEP {}{}: {} ({status})",
                step.number,
                step.total.map(|t| format!("/{t}")).unwrap_or_default(),
                step.short_instruction(160),
            )?,
            None => write!(
                f,
                "building {image} ({reference}) failed before its first step ({status})"
            )?,
        }
        if !output.is_empty() {
            write!(f, "\n  last output of that step:")?;
            for line in output {
                write!(f, "\n  | {line}")?;
            }
        }
        write!(f, "\n  full builder output: {}", log.display())
    }
}

impl BuildError {
    fn new(kind: ErrorKind) -> Self {
        BuildError {
            kind: Box::new(kind),
        }
    }

    pub(crate) fn unknown_release(version: String, matrix: &Path) -> Self {
        Self::new(ErrorKind::UnknownRelease {
            version,
            matrix: matrix.to_path_buf(),
        })
    }

    pub(crate) fn not_buildable(version: String, matrix: &Path) -> Self {
        Self::new(ErrorKind::NotBuildable {
            version,
            matrix: matrix.to_path_buf(),
        })
    }

    pub(crate) fn no_such_python(version: String, python: String, available: String) -> Self {
        Self::new(ErrorKind::NoSuchPython {
            version,
            python,
            available,
        })
    }

    pub(crate) fn missing_context(tag: String, dir: PathBuf) -> Self {
        Self::new(ErrorKind::MissingContext { tag, dir })
    }

    pub(crate) fn ambiguous_base_image(pythons: String) -> Self {
        Self::new(ErrorKind::AmbiguousBaseImage { pythons })
    }

    pub(crate) fn base_image_without_base() -> Self {
        Self::new(ErrorKind::BaseImageWithoutBase)
    }

    pub(crate) fn bad_reference(reference: String, why: String) -> Self {
        Self::new(ErrorKind::BadReference { reference, why })
    }

    pub(crate) fn ca_bundle(path: &Path, why: String) -> Self {
        Self::new(ErrorKind::CaBundle {
            path: path.to_path_buf(),
            why,
        })
    }

    pub(crate) fn unsupported(builder: impl fmt::Display, what: &str) -> Self {
        Self::new(ErrorKind::Unsupported {
            builder: builder.to_string(),
            what: what.to_string(),
        })
    }

    pub(crate) fn spawn(program: &Path, source: std::io::Error) -> Self {
        Self::new(ErrorKind::Spawn {
            program: program.display().to_string(),
            source,
        })
    }

    pub(crate) fn io(verb: &'static str, path: &Path, source: std::io::Error) -> Self {
        Self::new(ErrorKind::Io {
            verb,
            path: path.to_path_buf(),
            source,
        })
    }

    pub(crate) fn step_failed(
        image: &str,
        reference: &str,
        step: Option<Step>,
        status: String,
        output: Vec<String>,
        log: &Path,
    ) -> Self {
        Self::new(ErrorKind::StepFailed {
            image: image.to_string(),
            reference: reference.to_string(),
            step,
            status,
            output,
            log: log.to_path_buf(),
        })
    }

    /// The step that failed, when the builder ran and reported one.
    pub fn failed_step(&self) -> Option<&Step> {
        match &*self.kind {
            ErrorKind::StepFailed { step, .. } => step.as_ref(),
            _ => None,
        }
    }

    /// The last lines the failed step printed (the builder's own error lines left out).
    pub fn step_output(&self) -> &[String] {
        match &*self.kind {
            ErrorKind::StepFailed { output, .. } => output,
            _ => &[],
        }
    }

    /// The log file holding the builder's full output, when a build ran.
    pub fn log(&self) -> Option<&Path> {
        match &*self.kind {
            ErrorKind::StepFailed { log, .. } => Some(log),
            _ => None,
        }
    }

    /// Whether the builder program could not be started (not installed, not executable).
    pub fn is_builder_missing(&self) -> bool {
        matches!(&*self.kind, ErrorKind::Spawn { .. })
    }
}
