//! Trusting a proxy's certificate authority inside a build, without changing the Dockerfile.
//!
//! Behind a TLS-intercepting proxy, `pip` and `apt-get` in `RUN` steps reject the proxy's
//! certificates: pip uses its own bundle and apt the image's. `--ca-bundle PATH` bind-mounts, for
//! the build only, the bundle and two configuration files that point pip and apt at it:
//!
//! | in the build                                  | content                                           |
//! |-----------------------------------------------|---------------------------------------------------|
//! | `/run/runtime-kit/ca.crt`                     | the bundle                                        |
//! | `/etc/xdg/pip/pip.conf`                       | `[global]` `cert = /run/runtime-kit/ca.crt`       |
//! | `/etc/apt/apt.conf.d/99runtime-kit-ca`        | `Acquire::https::CAInfo "/run/runtime-kit/ca.crt";` |
//!
//! pip merges `/etc/xdg/pip/pip.conf` with the image's own `/etc/pip.conf` (which holds the
//! Airflow constraint), so both apply. Nothing is mounted over a path the image writes
//! (`/etc/pip.conf`, `/etc/ssl/certs/ca-certificates.crt`). buildah leaves each mount point
//! behind as an empty file; an empty pip or apt configuration file sets nothing.

use std::path::{Path, PathBuf};

use super::BuildError;

/// Where the bundle is mounted inside the build.
pub const CA_TARGET: &str = "/run/runtime-kit/ca.crt";
/// Where the pip configuration naming it is mounted.
pub const PIP_CONF_TARGET: &str = "/etc/xdg/pip/pip.conf";
/// Where the apt configuration naming it is mounted.
pub const APT_CONF_TARGET: &str = "/etc/apt/apt.conf.d/99runtime-kit-ca";

/// A read-only bind mount into every `RUN` step of a build.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mount {
    /// Absolute path on the host.
    pub host: PathBuf,
    /// Path inside the build.
    pub target: &'static str,
}

impl Mount {
    /// The builder's `--volume` value, `HOST:TARGET:ro`.
    pub fn volume_arg(&self) -> String {
        format!("{}:{}:ro", self.host.display(), self.target)
    }
}

/// A CA bundle (PEM) to trust inside builds, and the configuration files that point pip and
/// apt at it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaBundle {
    bundle: PathBuf,
    config_dir: PathBuf,
}

impl CaBundle {
    /// Checks that `bundle` is a readable PEM file; the configuration files will live in
    /// `config_dir`. Both paths are made absolute (bind mounts need absolute paths).
    pub fn new(bundle: impl AsRef<Path>, config_dir: impl AsRef<Path>) -> Result<Self, BuildError> {
        let bundle = absolute(bundle.as_ref())?;
        let text = std::fs::read(&bundle)
            .map_err(|e| BuildError::ca_bundle(&bundle, format!("cannot read it: {e}")))?;
        if !text
            .windows(b"-----BEGIN CERTIFICATE-----".len())
            .any(|w| w == b"-----BEGIN CERTIFICATE-----")
        {
            return Err(BuildError::ca_bundle(
                &bundle,
                "it holds no PEM certificate (expected \"-----BEGIN CERTIFICATE-----\")".into(),
            ));
        }
        Ok(CaBundle {
            bundle,
            config_dir: absolute(config_dir.as_ref())?,
        })
    }

    /// The bundle on the host.
    pub fn bundle(&self) -> &Path {
        &self.bundle
    }

    /// The pip configuration file's text.
    pub fn pip_conf() -> String {
        format!(
            "# Written by runtime-kit build --ca-bundle: trust the build's CA bundle.\n[global]\ncert = {CA_TARGET}\n"
        )
    }

    /// The apt configuration file's text.
    pub fn apt_conf() -> String {
        format!(
            "// Written by runtime-kit build --ca-bundle: trust the build's CA bundle.\nAcquire::https::CAInfo \"{CA_TARGET}\";\n"
        )
    }

    /// The mounts a build needs (the configuration files are those [`CaBundle::write_config`]
    /// writes).
    pub fn mounts(&self) -> Vec<Mount> {
        vec![
            Mount {
                host: self.bundle.clone(),
                target: CA_TARGET,
            },
            Mount {
                host: self.config_dir.join("pip.conf"),
                target: PIP_CONF_TARGET,
            },
            Mount {
                host: self.config_dir.join("apt.conf"),
                target: APT_CONF_TARGET,
            },
        ]
    }

    /// Writes the pip and apt configuration files into the configuration directory.
    pub fn write_config(&self) -> Result<(), BuildError> {
        std::fs::create_dir_all(&self.config_dir)
            .map_err(|e| BuildError::io("create", &self.config_dir, e))?;
        for (name, text) in [
            ("pip.conf", Self::pip_conf()),
            ("apt.conf", Self::apt_conf()),
        ] {
            let path = self.config_dir.join(name);
            std::fs::write(&path, text).map_err(|e| BuildError::io("write", &path, e))?;
        }
        Ok(())
    }
}

pub(crate) fn absolute(path: &Path) -> Result<PathBuf, BuildError> {
    std::path::absolute(path).map_err(|e| BuildError::io("resolve", path, e))
}
