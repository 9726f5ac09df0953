//! Rendering build contexts: a typed, fully resolved context per image, handlebars templates in
//! strict mode with HTML escaping off, and the tree of files under `dockerfiles/`.
//!
//! Every value a template prints comes from a typed value of the matrix ([`crate::model`]), whose
//! parser admits no whitespace, quote or shell metacharacter, so no matrix content can add an
//! instruction the template did not write.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use handlebars::Handlebars;
use serde::Serialize;

use crate::lock;
use crate::matrix::{Matrix, Release};
use crate::model::{ImageTag, Variant};

pub mod tree;

pub use tree::{Change, ChangeKind, GeneratedFile, Tree, TreeError, WriteStep};

/// The directory build contexts are generated into, relative to the repository root.
pub const OUT_DIR: &str = "dockerfiles";

/// Airflow's home inside the images.
pub const AIRFLOW_HOME: &str = "/usr/local/airflow";

/// The unprivileged user images run as.
pub const USER_NAME: &str = "astro";

/// Its user id.
pub const USER_UID: u32 = 50000;

const CONSTRAINTS_PATH: &str = "/usr/local/share/runtime/constraints.txt";
const AIRFLOW_CONSTRAINT_PATH: &str = "/usr/local/share/runtime/airflow-constraint.txt";

/// The embedded templates: (name, text). `--templates DIR` overrides any of them by file name
/// (`DIR/base.Dockerfile.hbs`, `DIR/partials/labels.hbs`, ...).
pub const TEMPLATES: &[(&str, &str)] = &[
    (
        "base.Dockerfile",
        include_str!("../../templates/base.Dockerfile.hbs"),
    ),
    (
        "onbuild.Dockerfile",
        include_str!("../../templates/onbuild.Dockerfile.hbs"),
    ),
    (
        "entrypoint.sh",
        include_str!("../../templates/entrypoint.sh.hbs"),
    ),
    ("pip.conf", include_str!("../../templates/pip.conf.hbs")),
];

/// The embedded partials: (name, text).
pub const PARTIALS: &[(&str, &str)] = &[
    (
        "header",
        include_str!("../../templates/partials/header.hbs"),
    ),
    (
        "labels",
        include_str!("../../templates/partials/labels.hbs"),
    ),
    (
        "build-packages",
        include_str!("../../templates/partials/build-packages.hbs"),
    ),
    (
        "onbuild-requirements",
        include_str!("../../templates/partials/onbuild-requirements.hbs"),
    ),
];

/// Why rendering failed.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// A template did not compile.
    #[error("template {name}: {source}")]
    Template {
        /// Template name.
        name: String,
        /// The handlebars error.
        #[source]
        source: Box<handlebars::TemplateError>,
    },
    /// A template referred to a value the context does not have (strict mode), or failed.
    #[error("rendering {template} for {tag}: {source}")]
    Render {
        /// Template name.
        template: String,
        /// Image tag being rendered.
        tag: String,
        /// The handlebars error.
        #[source]
        source: Box<handlebars::RenderError>,
    },
    /// A committed lock does not pin the release's own versions (hand-edited, or made for
    /// another matrix entry).
    #[error(
        "{path} does not hold the release's pins: {}; regenerate it with `runtime-kit lock {version} --python {python}`",
        crate::lock::list_mismatches(mismatches)
    )]
    Lock {
        /// The lock file.
        path: PathBuf,
        /// Its release.
        version: crate::model::RuntimeVersion,
        /// Its Python.
        python: crate::model::PythonVersion,
        /// What is missing or different.
        mismatches: Vec<lock::Mismatch>,
    },
    /// A template override has a name no template has (a misspelling would silently not apply).
    #[error("{path} overrides no template; expected one of: {known}")]
    UnknownTemplate {
        /// The file.
        path: PathBuf,
        /// The names an override may have.
        known: String,
    },
    /// A template override or lock could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// The templates, compiled once.
pub struct Templates {
    hb: Handlebars<'static>,
}

impl Templates {
    /// The embedded templates, each overridden by a file of the same name in `dir` if given.
    /// `dir` must be a directory, and every `.hbs` file in it (or in its `partials/`) must be
    /// the name of a template: a misspelt override is an error, not silently unused.
    pub fn load(dir: Option<&Path>) -> Result<Templates, RenderError> {
        let mut hb = Handlebars::new();
        hb.set_strict_mode(true);
        hb.register_escape_fn(handlebars::no_escape);
        let known: Vec<String> = TEMPLATES
            .iter()
            .map(|(n, _)| format!("{n}.hbs"))
            .chain(PARTIALS.iter().map(|(n, _)| format!("partials/{n}.hbs")))
            .collect();
        if let Some(d) = dir {
            check_overrides(d, &known)?;
        }
        // The text of `rel` and the name errors give it: the override's path, or the embedded
        // template's name.
        let read = |rel: &str, embedded: &'static str| -> Result<(String, String), RenderError> {
            let Some(d) = dir else {
                return Ok((embedded.to_string(), rel.to_string()));
            };
            let path = d.join(rel);
            match crate::fsutil::read_input_string(&path, crate::fsutil::DEFAULT_INPUT_LIMIT) {
                Ok(t) => Ok((t, path.display().to_string())),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    Ok((embedded.to_string(), rel.to_string()))
                }
                Err(source) => Err(RenderError::Read { path, source }),
            }
        };
        for (name, text) in TEMPLATES {
            let (text, shown) = read(&format!("{name}.hbs"), text)?;
            hb.register_template_string(name, text)
                .map_err(|e| RenderError::Template {
                    name: shown,
                    source: Box::new(e),
                })?;
        }
        for (name, text) in PARTIALS {
            let (text, shown) = read(&format!("partials/{name}.hbs"), text)?;
            hb.register_partial(name, text)
                .map_err(|e| RenderError::Template {
                    name: shown,
                    source: Box::new(e),
                })?;
        }
        Ok(Templates { hb })
    }

    fn render<T: Serialize>(
        &self,
        name: &str,
        tag: &ImageTag,
        ctx: &T,
    ) -> Result<String, RenderError> {
        self.hb.render(name, ctx).map_err(|e| RenderError::Render {
            template: name.to_string(),
            tag: tag.to_string(),
            source: Box::new(e),
        })
    }
}

/// The user images run as, for templates.
#[derive(Clone, Debug, Serialize)]
pub struct UserContext {
    /// User name.
    pub name: &'static str,
    /// User id.
    pub uid: u32,
}

/// A package index URL, for templates.
#[derive(Clone, Debug, Serialize)]
pub struct IndexContext {
    /// Index name in the matrix.
    pub name: String,
    /// Its URL.
    pub url: String,
}

/// A package a build installs from a vendor's index only, for templates.
#[derive(Clone, Debug, Serialize)]
pub struct VendorContext {
    /// `name==version`.
    pub requirement: String,
    /// The index that serves it.
    pub url: String,
}

/// Everything a template may print for one image: typed values rendered to text, nothing
/// optional that a template could misspell into empty output (strict mode rejects unknown keys).
#[derive(Clone, Debug, Serialize)]
pub struct ImageContext {
    /// The image tag, e.g. `5.0.6-base`.
    pub tag: String,
    /// Runtime version.
    pub version: String,
    /// Airflow version.
    pub airflow: String,
    /// Whether the image carries Airflow 3 or later (`X.Y-Z` Runtimes): the api-server and
    /// dag-processor commands, the ONBUILD order of the Airflow-3 images, their labels.
    pub airflow3: bool,
    /// Python `X.Y`.
    pub python: String,
    /// Debian code name.
    pub debian: String,
    /// `base` or `onbuild`.
    pub variant: &'static str,
    /// Default of the `BASE_IMAGE` build argument.
    pub base_image: String,
    /// The repository the release is published to.
    pub repository: String,
    /// `org.opencontainers.image.title`.
    pub title: String,
    /// `org.opencontainers.image.description`.
    pub description: String,
    /// `org.opencontainers.image.source`, when the matrix gives one.
    pub source: Option<String>,
    /// `pip install` arguments: `apache-airflow==X` then every pin of the image that the public
    /// index serves.
    pub requirements: Vec<String>,
    /// Pins only a vendor index serves, installed in a step of their own that a build which
    /// cannot reach that index skips (`--build-arg RUNTIME_VENDOR_PACKAGES=skip`).
    pub vendor: Vec<VendorContext>,
    /// The URLs of the indexes `vendor` comes from, each index once.
    pub vendor_indexes: Vec<String>,
    /// Every package index the release needs besides PyPI.
    pub indexes: Vec<IndexContext>,
    /// For an Airflow 3 image whose line names an index (`index` of its series): the index
    /// Astronomer's own images install Airflow from as vendor builds (`X.Y.Z+astro.N`); these
    /// images install the public release instead, and say so.
    pub airflow_vendor_index: Option<String>,
    /// Whether the package set is known.
    pub packages_known: bool,
    /// Airflow's home.
    pub airflow_home: &'static str,
    /// Where the lock lives in the image.
    pub constraints_path: &'static str,
    /// Where the global Airflow constraint lives in the image.
    pub airflow_constraint_path: &'static str,
    /// Where a build that skipped the vendor packages lists them, in the image.
    pub vendor_skipped_path: &'static str,
    /// The user images run as.
    pub user: UserContext,
}

/// Where a build that skipped the vendor-only packages lists them, inside the image.
pub const VENDOR_SKIPPED_PATH: &str = "/usr/local/share/runtime/vendor-packages-skipped.txt";

impl ImageContext {
    /// The context of `variant` of `release`; `None` for a release whose Airflow version is not
    /// in the public record (no image of it can be described).
    pub fn new(matrix: &Matrix, release: &Release, variant: Variant) -> Option<ImageContext> {
        let airflow = release.airflow.as_ref()?;
        let tag = ImageTag::new(release.version.clone(), variant);
        let python = release.python_of(&variant);
        let base_image = if variant.base {
            let reference = format!("python:{python}-slim-{}", release.debian);
            match matrix.base_image_digests().get(&reference) {
                Some(d) => format!("{reference}@{d}"),
                None => reference,
            }
        } else {
            format!(
                "{}:{}",
                release.repository,
                ImageTag::new(release.version.clone(), variant.as_base())
            )
        };
        let kind = match (variant.slim, variant.base) {
            (true, true) => "slim image without ONBUILD instructions",
            (true, false) => "slim image with ONBUILD instructions for a project",
            (false, true) => "image without ONBUILD instructions",
            (false, false) => "image with ONBUILD instructions for a project",
        };
        let mut requirements = vec![format!("apache-airflow=={airflow}")];
        let mut vendor = Vec::new();
        // The indexes the vendor pins come from, each once by name (as `[indexes]` lists them).
        let mut vendor_index_names: Vec<&str> = Vec::new();
        let mut vendor_indexes: Vec<String> = Vec::new();
        for (n, v) in release.packages_of(&variant).iter() {
            if matrix.is_vendor_package(release, n) {
                let index = matrix
                    .index_of(n)
                    .or_else(|| release.index.as_deref().and_then(|i| matrix.index(i)));
                let url = index.map(|i| i.url.clone()).unwrap_or_default();
                if let Some(i) = index
                    && !vendor_index_names.contains(&i.name.as_str())
                {
                    vendor_index_names.push(&i.name);
                    vendor_indexes.push(i.url.clone());
                }
                vendor.push(VendorContext {
                    requirement: format!("{n}=={v}"),
                    url,
                });
            } else {
                requirements.push(format!("{n}=={v}"));
            }
        }
        let indexes = matrix
            .indexes_for(release)
            .into_iter()
            .map(|i| IndexContext {
                name: i.name.clone(),
                url: i.url.clone(),
            })
            .collect();
        Some(ImageContext {
            tag: tag.to_string(),
            version: release.version.to_string(),
            airflow: airflow.to_string(),
            airflow3: airflow.major() >= 3,
            python: python.to_string(),
            debian: release.debian.to_string(),
            variant: if variant.base { "base" } else { "onbuild" },
            base_image,
            repository: release.repository.clone(),
            title: format!("Runtime {tag}"),
            description: format!(
                "Apache Airflow {airflow} on Python {python} (Debian {}), {kind}",
                release.debian
            ),
            source: matrix.defaults().source.clone(),
            requirements,
            vendor,
            vendor_indexes,
            indexes,
            airflow_vendor_index: (airflow.major() >= 3)
                .then(|| release.index.as_deref().and_then(|i| matrix.index(i)))
                .flatten()
                .map(|i| i.url.clone()),
            packages_known: release.packages_known,
            airflow_home: AIRFLOW_HOME,
            constraints_path: CONSTRAINTS_PATH,
            airflow_constraint_path: AIRFLOW_CONSTRAINT_PATH,
            vendor_skipped_path: VENDOR_SKIPPED_PATH,
            user: UserContext {
                name: USER_NAME,
                uid: USER_UID,
            },
        })
    }
}

/// What a base image's labels and global constraint say beyond the matrix: the versions of
/// Airflow's own distributions (`apache-airflow-core`, `apache-airflow-task-sdk` for Airflow 3)
/// as the release's lock resolved them.
#[derive(Clone, Debug, Default, Serialize)]
pub struct LockFacts {
    /// `apache-airflow-task-sdk` from the lock, when it pins one.
    pub task_sdk: Option<String>,
    /// `apache-airflow-core` from the lock, when it pins one.
    pub core: Option<String>,
}

impl LockFacts {
    /// Reads the pins of `apache-airflow-core` and `apache-airflow-task-sdk` from lock text.
    pub fn of(lock: &str) -> LockFacts {
        let mut facts = LockFacts::default();
        for line in lock.lines() {
            let line = line.split(['#', ';']).next().unwrap_or("").trim();
            if let Some((name, version)) = line.split_once("==") {
                let version = version.trim();
                if !crate::model::is_safe_token(version) {
                    continue;
                }
                match name.trim() {
                    "apache-airflow-task-sdk" => facts.task_sdk = Some(version.to_string()),
                    "apache-airflow-core" => facts.core = Some(version.to_string()),
                    _ => {}
                }
            }
        }
        facts
    }
}

/// The context a template renders: the image's, and what its Python's lock adds (`lock.*`).
#[derive(Clone, Debug, Serialize)]
pub struct TemplateContext<'a> {
    /// The image.
    #[serde(flatten)]
    pub image: &'a ImageContext,
    /// What the lock of the image's Python says.
    pub lock: &'a LockFacts,
}

/// The directory of an image's build context, relative to [`OUT_DIR`]:
/// `<version>/<suffix without dash>`, `<version>/onbuild` for the default tag.
pub fn context_dir(tag: &ImageTag) -> PathBuf {
    let suffix = tag.variant.suffix();
    let leaf = suffix.strip_prefix('-').unwrap_or("onbuild");
    PathBuf::from(tag.version.to_string()).join(leaf)
}

/// The image tag a context directory (relative to [`OUT_DIR`]) builds, if it is one.
pub fn tag_of_context_dir(dir: &Path) -> Option<ImageTag> {
    let mut parts = dir.iter().map(|p| p.to_str());
    let (Some(Some(version)), Some(Some(leaf)), None) = (parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    let text = if leaf == "onbuild" {
        version.to_string()
    } else {
        format!("{version}-{leaf}")
    };
    let tag: ImageTag = text.parse().ok()?;
    (context_dir(&tag) == dir).then_some(tag)
}

/// Renders every file of every image of `release`. `locks` is the repository root holding
/// `locks/`; a missing lock falls back to the release's own pins (and the files say so). A release
/// whose Airflow version is not in the public record has no build contexts (an empty list).
pub fn render_release(
    templates: &Templates,
    matrix: &Matrix,
    release: &Release,
    locks: &Path,
) -> Result<Vec<GeneratedFile>, RenderError> {
    let Some(airflow) = &release.airflow else {
        return Ok(Vec::new());
    };
    let mut files = Vec::new();
    let mut lock_cache: BTreeMap<String, (String, LockFacts)> = BTreeMap::new();
    for variant in release.variants() {
        let tag = ImageTag::new(release.version.clone(), variant);
        let dir = context_dir(&tag);
        let ctx =
            ImageContext::new(matrix, release, variant).expect("the Airflow version is known");
        let python = release.python_of(&variant);
        let key = python.to_string();
        if !lock_cache.contains_key(&key) {
            let path = lock::lock_path(locks, &release.version, python);
            let text = match lock::read_lock(locks, &release.version, python) {
                Ok(Some(text)) => {
                    let mismatches = lock::LockPlan::new(matrix, release, python)
                        .map(|plan| plan.mismatches(&text))
                        .unwrap_or_default();
                    if !mismatches.is_empty() {
                        return Err(RenderError::Lock {
                            path,
                            version: release.version.clone(),
                            python,
                            mismatches,
                        });
                    }
                    text
                }
                Ok(None) => unlocked_constraints(release, airflow, python),
                Err(source) => return Err(RenderError::Read { path, source }),
            };
            let facts = LockFacts::of(&text);
            lock_cache.insert(key.clone(), (text, facts));
        }
        let (lock_text, facts) = &lock_cache[&key];
        let full = TemplateContext {
            image: &ctx,
            lock: facts,
        };
        if !variant.base {
            files.push(GeneratedFile::new(
                dir.join("Dockerfile"),
                templates.render("onbuild.Dockerfile", &tag, &full)?,
            ));
            continue;
        }
        files.push(GeneratedFile::new(
            dir.join("Dockerfile"),
            templates.render("base.Dockerfile", &tag, &full)?,
        ));
        files.push(GeneratedFile::new(
            dir.join("constraints.txt"),
            lock_text.clone(),
        ));
        // The global constraint: Airflow, and for Airflow 3 its core and task SDK as locked.
        let mut constraint = format!("apache-airflow=={airflow}\n");
        if let Some(core) = &facts.core {
            constraint.push_str(&format!("apache-airflow-core=={core}\n"));
        }
        if let Some(sdk) = &facts.task_sdk {
            constraint.push_str(&format!("apache-airflow-task-sdk=={sdk}\n"));
        }
        files.push(GeneratedFile::new(
            dir.join("airflow-constraint.txt"),
            constraint,
        ));
        files.push(GeneratedFile::new(
            dir.join("pip.conf"),
            templates.render("pip.conf", &tag, &full)?,
        ));
        files.push(
            GeneratedFile::new(
                dir.join("entrypoint.sh"),
                templates.render("entrypoint.sh", &tag, &full)?,
            )
            .executable(),
        );
    }
    Ok(files)
}

/// Refuses a template directory that is not one, or holds a `.hbs` file no template is named.
fn check_overrides(dir: &Path, known: &[String]) -> Result<(), RenderError> {
    let read_dir = |d: &Path| {
        std::fs::read_dir(d).map_err(|source| RenderError::Read {
            path: d.to_path_buf(),
            source,
        })
    };
    let mut found = Vec::new();
    for entry in read_dir(dir)? {
        let entry = entry.map_err(|source| RenderError::Read {
            path: dir.to_path_buf(),
            source,
        })?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name == "partials" && entry.path().is_dir() {
            for p in read_dir(&entry.path())? {
                let p = p.map_err(|source| RenderError::Read {
                    path: entry.path(),
                    source,
                })?;
                found.push(format!("partials/{}", p.file_name().to_string_lossy()));
            }
        } else {
            found.push(name);
        }
    }
    found.sort();
    for rel in found {
        if rel.ends_with(".hbs") && !known.contains(&rel) {
            return Err(RenderError::UnknownTemplate {
                path: dir.join(&rel),
                known: known.join(", "),
            });
        }
    }
    Ok(())
}

/// Constraints for a release without a committed lock: its own pins only.
fn unlocked_constraints(
    release: &Release,
    airflow: &crate::model::AirflowVersion,
    python: crate::model::PythonVersion,
) -> String {
    let mut text = format!(
        "# runtime-kit: no lock for Runtime {} on Python {python}; these are the release's own\n\
         # pins only, so transitive dependencies are not held. Make one with:\n\
         # runtime-kit lock {} --python {python}\n\
         apache-airflow=={airflow}\n",
        release.version, release.version
    );
    for (n, v) in release.packages.iter() {
        text.push_str(&format!("{n}=={v}\n"));
    }
    text
}

/// Renders the whole tree (every release) in memory.
pub fn render_all(
    templates: &Templates,
    matrix: &Matrix,
    locks: &Path,
) -> Result<Tree, RenderError> {
    let mut files = Vec::new();
    for release in matrix.releases() {
        files.extend(render_release(templates, matrix, release, locks)?);
    }
    Ok(Tree::new(files))
}
