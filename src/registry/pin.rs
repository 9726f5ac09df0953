//! `pin-base`: resolve the base images' tags to digests and record them in `[base-images]`, so
//! `generate` writes `FROM python:3.9-slim-bullseye@sha256:…`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::{ClientOptions, Credentials, RegistryClient, RegistryError, Repository};
use crate::matrix::Matrix;
use crate::matrix::edit::{Change, MatrixDocument, Saved};
use crate::model::Digest;

/// The base image of every base (non-ONBUILD) image of `matrix`: `python:<X.Y>-slim-<debian>`
/// for each Python and Debian release a release is built on, as `generate` writes them.
///
/// ```
/// # use runtime_kit::matrix::Matrix;
/// let m = Matrix::from_str_named(r#"
/// schema = 1
/// [series.9]
/// channel = "stable"
/// python = "3.11"
/// [[release]]
/// version = "9.0.0"
/// airflow = "2.7.0"
/// date = 2023-08-18
/// python-variants = ["3.10"]
/// unknown = ["packages"]
/// "#, "m.toml").unwrap();
/// assert_eq!(runtime_kit::registry::pin::base_images(&m),
///            ["python:3.10-slim-bullseye", "python:3.11-slim-bullseye"]);
/// ```
pub fn base_images(matrix: &Matrix) -> Vec<String> {
    // In version order (3.8 before 3.10), not text order.
    let set: BTreeSet<_> = matrix
        .releases()
        .iter()
        .flat_map(|r| r.pythons().map(move |p| (r.debian, p)))
        .collect();
    set.into_iter()
        .map(|(debian, p)| format!("python:{p}-slim-{debian}"))
        .collect()
}

/// Where an image reference such as `python:3.9-slim-bullseye` lives: its repository (Docker
/// Hub's `docker.io/library/python`, or the same path on `mirror`) and its tag.
pub fn locate(image: &str, mirror: Option<&str>) -> Result<(Repository, String), RegistryError> {
    let reference: oci_client::Reference = image.parse().map_err(|e| {
        RegistryError::invalid_repository(
            image,
            "an image reference like \"python:3.9-slim-bullseye\"",
            &format!("{e}"),
        )
    })?;
    let tag = reference.tag().unwrap_or("latest").to_string();
    let host = mirror.unwrap_or(reference.registry());
    Ok((Repository::new(host, reference.repository())?, tag))
}

/// A base image and the digest its tag resolves to.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BasePin {
    /// The image reference, e.g. `python:3.9-slim-bullseye`.
    pub image: String,
    /// Where it was resolved, e.g. `docker.io/library/python:3.9-slim-bullseye`.
    pub resolved_at: String,
    /// The digest of the manifest (the index, for a multi-platform image) its tag points at.
    pub digest: Digest,
    /// The digest the matrix pins now.
    pub pinned: Option<Digest>,
}

impl BasePin {
    /// True when the matrix already pins this digest.
    pub fn is_current(&self) -> bool {
        self.pinned.as_ref() == Some(&self.digest)
    }
}

/// [`Credentials::discover`] on a blocking thread: it reads Docker's `config.json`.
async fn discover_off_thread(
    host: &str,
    use_env: bool,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Credentials, RegistryError> {
    let vars: std::collections::HashMap<&'static str, String> = [
        crate::registry::auth::ENV_USERNAME,
        crate::registry::auth::ENV_PASSWORD,
        "DOCKER_CONFIG",
        "HOME",
    ]
    .into_iter()
    .filter_map(|k| env(k).map(|v| (k, v)))
    .collect();
    let host = host.to_string();
    tokio::task::spawn_blocking(move || {
        Credentials::discover(&host, use_env, |k| vars.get(k).cloned())
    })
    .await
    .unwrap_or_else(|e| {
        Err(RegistryError::credentials(format!(
            "reading them failed: {e}"
        )))
    })
}

/// Resolves each of `images` to the digest its tag points at now. `mirror` (`HOST[:PORT]`)
/// replaces every image's registry, keeping its path (`library/python`), as a registry mirror
/// does. Credentials come from Docker's `config.json` for each registry, and from the
/// environment for the mirror only (`env` reads a variable).
pub async fn resolve(
    matrix: &Matrix,
    images: &[String],
    mirror: Option<&str>,
    options: &ClientOptions,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Vec<BasePin>, RegistryError> {
    let mut by_repo: BTreeMap<Repository, Vec<(String, String)>> = BTreeMap::new();
    for image in images {
        let (repo, tag) = locate(image, mirror)?;
        by_repo.entry(repo).or_default().push((image.clone(), tag));
    }
    let mut pins = Vec::new();
    for (repo, wanted) in by_repo {
        let credentials = discover_off_thread(repo.host(), mirror.is_some(), &env).await?;
        let client = RegistryClient::connect(repo.clone(), credentials, options.clone()).await?;
        for (image, tag) in wanted {
            let digest = client.digest(&tag).await?.ok_or_else(|| {
                RegistryError::message(format!(
                    "base image {image}: {repo}:{tag} does not exist; nothing was written"
                ))
            })?;
            pins.push(BasePin {
                pinned: matrix.base_image_digests().get(&image).cloned(),
                resolved_at: format!("{repo}:{tag}"),
                image,
                digest,
            });
        }
    }
    Ok(pins)
}

/// Writes `pins` into the `[base-images]` table of the matrix at `path`, keeping its comments
/// and layout; the edited matrix is validated before the file is replaced all-or-nothing.
pub fn write(path: &Path, pins: &[BasePin]) -> Result<(Vec<Change>, Saved), RegistryError> {
    let mut doc = MatrixDocument::open(path)?;
    let mut changes = Vec::new();
    for pin in pins {
        changes.push(doc.set_base_image_digest(&pin.image, &pin.digest)?);
    }
    let (_, saved) = doc.save()?;
    Ok((changes, saved))
}
