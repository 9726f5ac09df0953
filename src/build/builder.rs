//! The container builder: buildah or docker, and the exact command line of one build.

use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::str::FromStr;

use super::{BuildError, ImageBuild, Mount};

/// Which program builds the images.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BuilderKind {
    /// `buildah bud`: daemonless, runs as root or rootless; needs no Docker engine.
    #[default]
    Buildah,
    /// `docker build` against a Docker engine.
    Docker,
}

impl fmt::Display for BuilderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BuilderKind::Buildah => "buildah",
            BuilderKind::Docker => "docker",
        })
    }
}

impl FromStr for BuilderKind {
    type Err = crate::model::ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "buildah" => Ok(BuilderKind::Buildah),
            "docker" => Ok(BuilderKind::Docker),
            _ => Err(crate::model::ParseError::new(
                s,
                "\"buildah\" or \"docker\"",
                "it is not a supported builder",
            )),
        }
    }
}

/// A configured builder. Every build is tagged in the Docker image format (OCI images drop
/// `ONBUILD`), and buildah caches layers like docker does unless told otherwise.
///
/// ```
/// use std::path::PathBuf;
/// use runtime_kit::build::{Builder, BuilderKind, ImageBuild};
///
/// let builder = Builder::new(BuilderKind::Buildah)
///     .storage_driver(Some("vfs".into()))
///     .isolation(Some("chroot".into()));
/// let image = ImageBuild::new("5.0.13-base", "localhost/runtime:5.0.13-base", "dockerfiles/5.0.13/base")
///     .build_arg("BASE_IMAGE", "localhost/python:3.9-slim-bullseye");
/// assert_eq!(
///     builder.command_line(&image, &[]),
///     "buildah --storage-driver vfs bud --format docker --isolation chroot --layers \
///      --tag localhost/runtime:5.0.13-base \
///      --build-arg BASE_IMAGE=localhost/python:3.9-slim-bullseye dockerfiles/5.0.13/base"
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Builder {
    kind: BuilderKind,
    program: PathBuf,
    storage_driver: Option<String>,
    isolation: Option<String>,
    layers: bool,
    no_cache: bool,
    env: Vec<(String, String)>,
}

impl Builder {
    /// The builder of `kind`, run as the program of that name from `PATH`.
    pub fn new(kind: BuilderKind) -> Self {
        Builder {
            kind,
            program: PathBuf::from(kind.to_string()),
            storage_driver: None,
            isolation: None,
            layers: true,
            no_cache: false,
            env: Vec::new(),
        }
    }

    /// Runs `program` instead of the one on `PATH`.
    pub fn program(mut self, program: impl Into<PathBuf>) -> Self {
        self.program = program.into();
        self
    }

    /// buildah's storage driver (`--storage-driver`: `overlay`, `vfs`, ...); `None` leaves
    /// buildah's own choice (its `STORAGE_DRIVER` variable, then storage.conf).
    pub fn storage_driver(mut self, driver: Option<String>) -> Self {
        self.storage_driver = driver;
        self
    }

    /// buildah's isolation of `RUN` steps (`--isolation`: `oci`, `rootless`, `chroot`); `None`
    /// leaves buildah's own choice (its `BUILDAH_ISOLATION` variable).
    pub fn isolation(mut self, isolation: Option<String>) -> Self {
        self.isolation = isolation;
        self
    }

    /// Whether buildah commits and reuses a layer per step (`--layers`, the default here, as
    /// docker does). With the `vfs` driver every layer is a full copy of the image.
    pub fn layers(mut self, layers: bool) -> Self {
        self.layers = layers;
        self
    }

    /// Build every step afresh, reusing no cached layer (`--no-cache`).
    pub fn no_cache(mut self, no_cache: bool) -> Self {
        self.no_cache = no_cache;
        self
    }

    /// Sets an environment variable of the builder process, e.g. `CONTAINERS_STORAGE_CONF`
    /// (buildah's storage configuration) or `DOCKER_HOST`.
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Which builder this is.
    pub fn kind(&self) -> BuilderKind {
        self.kind
    }

    /// The program run.
    pub fn program_path(&self) -> &Path {
        &self.program
    }

    /// The storage driver passed to buildah, if any.
    pub fn storage_driver_name(&self) -> Option<&str> {
        self.storage_driver.as_deref()
    }

    /// The isolation passed to buildah, if any.
    pub fn isolation_name(&self) -> Option<&str> {
        self.isolation.as_deref()
    }

    /// Refuses settings this builder cannot honour: buildah's storage and isolation options,
    /// or mounts, with docker (`docker build` cannot mount files into `RUN` steps without a
    /// change to the Dockerfile).
    pub fn check_settings(&self, mounts: &[Mount]) -> Result<(), BuildError> {
        if self.kind == BuilderKind::Docker {
            if self.storage_driver.is_some() {
                return Err(BuildError::unsupported(
                    self.kind,
                    "take a storage driver (buildah only)",
                ));
            }
            if self.isolation.is_some() {
                return Err(BuildError::unsupported(
                    self.kind,
                    "take an isolation (buildah only)",
                ));
            }
            if !self.layers {
                return Err(BuildError::unsupported(
                    self.kind,
                    "build without layers (buildah only)",
                ));
            }
            if !mounts.is_empty() {
                return Err(BuildError::unsupported(
                    self.kind,
                    "mount a CA bundle into RUN steps without a change to the Dockerfile; \
                     use --builder buildah",
                ));
            }
        }
        Ok(())
    }

    /// Environment variables set for the builder process (shown in dry runs).
    pub fn environment(&self) -> Vec<(String, String)> {
        let mut env = Vec::new();
        if self.kind == BuilderKind::Docker {
            // BuildKit's plain progress names each step on its own line; the classic builder
            // ignores the variable.
            env.push(("BUILDKIT_PROGRESS".to_string(), "plain".to_string()));
        }
        env.extend(self.env.iter().cloned());
        env
    }

    /// The arguments after the program name for building `image` with `mounts`.
    pub fn args(&self, image: &ImageBuild, mounts: &[Mount]) -> Vec<OsString> {
        let mut args: Vec<OsString> = Vec::new();
        let mut push = |s: &str| args.push(OsString::from(s));
        match self.kind {
            BuilderKind::Buildah => {
                if let Some(driver) = &self.storage_driver {
                    push("--storage-driver");
                    push(driver);
                }
                push("bud");
                // ONBUILD only survives in the Docker image format.
                push("--format");
                push("docker");
                if let Some(isolation) = &self.isolation {
                    push("--isolation");
                    push(isolation);
                }
                if self.layers {
                    push("--layers");
                }
            }
            BuilderKind::Docker => push("build"),
        }
        if self.no_cache {
            push("--no-cache");
        }
        push("--tag");
        push(&image.reference);
        for (k, v) in &image.build_args {
            push("--build-arg");
            push(&format!("{k}={v}"));
        }
        for m in mounts {
            push("--volume");
            push(&m.volume_arg());
        }
        args.push(image.context.clone().into_os_string());
        args
    }

    /// The process that builds `image`.
    pub fn command(&self, image: &ImageBuild, mounts: &[Mount]) -> Command {
        let mut cmd = Command::new(&self.program);
        cmd.args(self.args(image, mounts));
        for (k, v) in self.environment() {
            cmd.env(k, v);
        }
        cmd
    }

    /// The exact command line, quoted for a POSIX shell (environment assignments first).
    pub fn command_line(&self, image: &ImageBuild, mounts: &[Mount]) -> String {
        let mut words: Vec<String> = self
            .environment()
            .into_iter()
            .map(|(k, v)| format!("{k}={}", shell_quote(&v)))
            .collect();
        words.push(shell_quote(&self.program.to_string_lossy()));
        words.extend(
            self.args(image, mounts)
                .iter()
                .map(|a| shell_quote(&a.to_string_lossy())),
        );
        words.join(" ")
    }

    /// `<program> --version`, checking the builder can be run at all.
    pub fn version(&self) -> Result<String, BuildError> {
        let out = Command::new(&self.program)
            .envs(self.environment())
            .arg("--version")
            .output()
            .map_err(|e| BuildError::spawn(&self.program, e))?;
        let text = String::from_utf8_lossy(&out.stdout);
        let version = text.lines().next().unwrap_or_default().trim().to_string();
        let why = if !out.status.success() {
            format!(
                "`--version` exited with {}: {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            )
        } else if version.is_empty() {
            "`--version` printed nothing".to_string()
        } else {
            return Ok(version);
        };
        Err(BuildError::spawn(&self.program, std::io::Error::other(why)))
    }
}

/// Quotes `word` for a POSIX shell when it needs it.
///
/// ```
/// use runtime_kit::build::shell_quote;
/// assert_eq!(shell_quote("dockerfiles/5.0.13/base"), "dockerfiles/5.0.13/base");
/// assert_eq!(shell_quote("a b"), "'a b'");
/// assert_eq!(shell_quote("it's"), r"'it'\''s'");
/// assert_eq!(shell_quote(""), "''");
/// ```
pub fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-./:=@%+,".contains(&b));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}
