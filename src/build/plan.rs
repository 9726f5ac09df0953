//! Which images of a release to build, from which context, with which tag and build arguments,
//! in which order.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use oci_spec::distribution::Reference;

use crate::matrix::{Matrix, Release};
use crate::model::{ImageTag, PythonVersion, RuntimeVersion, Variant};
use crate::render;

use super::BuildError;

/// The build argument naming the image a generated Dockerfile starts `FROM`.
pub const BASE_IMAGE_ARG: &str = "BASE_IMAGE";

/// The build argument that skips the packages only a vendor index serves (`skip`).
pub const VENDOR_PACKAGES_ARG: &str = "RUNTIME_VENDOR_PACKAGES";

/// Which kind of image to build: the `-base` images, the default (ONBUILD) images, or both.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum VariantFilter {
    /// Images without ONBUILD instructions (`*-base` tags).
    Base,
    /// Images with ONBUILD instructions; each is built `FROM` its base tag, which must exist.
    Onbuild,
    /// Both, each base before the ONBUILD image built from it.
    #[default]
    All,
}

impl VariantFilter {
    fn admits(self, variant: &Variant) -> bool {
        match self {
            VariantFilter::Base => variant.base,
            VariantFilter::Onbuild => !variant.base,
            VariantFilter::All => true,
        }
    }
}

impl FromStr for VariantFilter {
    type Err = crate::model::ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "base" => Ok(VariantFilter::Base),
            "onbuild" => Ok(VariantFilter::Onbuild),
            "all" => Ok(VariantFilter::All),
            _ => Err(crate::model::ParseError::new(
                s,
                "\"base\", \"onbuild\" or \"all\"",
                "it is not a variant kind",
            )),
        }
    }
}

impl fmt::Display for VariantFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            VariantFilter::Base => "base",
            VariantFilter::Onbuild => "onbuild",
            VariantFilter::All => "all",
        })
    }
}

/// What to build of a release.
#[derive(Clone, Debug)]
pub struct PlanOptions {
    /// Base images, ONBUILD images or both.
    pub variants: VariantFilter,
    /// Only the images of this Python (default: every Python the release was published for).
    pub python: Option<PythonVersion>,
    /// Passed as `--build-arg BASE_IMAGE=...` to the base builds (default: the Dockerfile's
    /// own `python:X.Y-slim-<debian>`).
    pub base_image: Option<String>,
    /// The repository images are tagged in (default: the release's repository).
    pub tag_prefix: Option<String>,
    /// The directory holding the generated contexts (`dockerfiles/`).
    pub contexts: PathBuf,
    /// Build the base images without the packages only a vendor index serves
    /// (`--build-arg RUNTIME_VENDOR_PACKAGES=skip`), for a builder that cannot reach it: the
    /// images then lack them, and list them in a file of their own.
    pub skip_vendor_packages: bool,
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions {
            variants: VariantFilter::All,
            python: None,
            base_image: None,
            tag_prefix: None,
            contexts: PathBuf::from(render::OUT_DIR),
            skip_vendor_packages: false,
        }
    }
}

/// One image build: a context directory, the reference to tag, and build arguments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageBuild {
    /// Short name for progress and messages (the image tag, e.g. `5.0.13-base`); also names
    /// the log file.
    pub name: String,
    /// The full reference tagged, e.g. `quay.io/astronomer/astro-runtime:5.0.13-base`.
    pub reference: String,
    /// The build context (holding the `Dockerfile`).
    pub context: PathBuf,
    /// `--build-arg` pairs, in order.
    pub build_args: Vec<(String, String)>,
}

impl ImageBuild {
    /// A build of `context` tagged `reference`, named `name`, without build arguments.
    pub fn new(
        name: impl Into<String>,
        reference: impl Into<String>,
        context: impl Into<PathBuf>,
    ) -> Self {
        ImageBuild {
            name: name.into(),
            reference: reference.into(),
            context: context.into(),
            build_args: Vec::new(),
        }
    }

    /// Adds `--build-arg KEY=VALUE`.
    pub fn build_arg(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.build_args.push((key.into(), value.into()));
        self
    }
}

/// A release's image builds in dependency order (each base before the ONBUILD image that
/// starts `FROM` it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuildPlan {
    /// The release.
    pub version: RuntimeVersion,
    /// The builds, in order, each with the exact tag it produces.
    pub images: Vec<(ImageTag, ImageBuild)>,
}

impl BuildPlan {
    /// Plans the builds of `version` as `options` select. Every selected image needs its
    /// generated context (`<contexts>/<version>/<variant>/Dockerfile`).
    ///
    /// ```
    /// use runtime_kit::build::{BuildPlan, PlanOptions};
    /// use runtime_kit::matrix::Matrix;
    /// # let dir = tempfile::tempdir().unwrap();
    /// # for leaf in ["base", "onbuild"] {
    /// #     std::fs::create_dir_all(dir.path().join("5.0.13").join(leaf)).unwrap();
    /// #     std::fs::write(dir.path().join("5.0.13").join(leaf).join("Dockerfile"), "FROM x\n").unwrap();
    /// # }
    /// let matrix = Matrix::from_str_named(r#"
    /// schema = 1
    /// [defaults]
    /// debian = "bullseye"
    /// [series.5]
    /// channel = "stable"
    /// python = "3.9"
    /// [[release]]
    /// version = "5.0.13"
    /// airflow = "2.3.4"
    /// date = 2022-12-12
    /// unknown = ["packages"]
    /// "#, "example.toml").unwrap();
    /// let options = PlanOptions {
    ///     tag_prefix: Some("localhost/runtime".into()),
    ///     contexts: dir.path().to_path_buf(),
    ///     ..PlanOptions::default()
    /// };
    /// let plan = BuildPlan::new(&matrix, &"5.0.13".parse().unwrap(), &options).unwrap();
    /// let refs: Vec<_> = plan.images.iter().map(|(_, b)| b.reference.as_str()).collect();
    /// assert_eq!(refs, ["localhost/runtime:5.0.13-base", "localhost/runtime:5.0.13"]);
    /// assert_eq!(
    ///     plan.images[1].1.build_args,
    ///     [("BASE_IMAGE".to_string(), "localhost/runtime:5.0.13-base".to_string())]
    /// );
    /// ```
    pub fn new(
        matrix: &Matrix,
        version: &RuntimeVersion,
        options: &PlanOptions,
    ) -> Result<BuildPlan, BuildError> {
        let release = matrix
            .release(version)
            .ok_or_else(|| BuildError::unknown_release(version.to_string(), matrix.path()))?;
        if release.airflow.is_none() {
            return Err(BuildError::not_buildable(
                version.to_string(),
                matrix.path(),
            ));
        }
        // The same parser as the matrix's repository keys and the registry's --repo.
        let prefix = match &options.tag_prefix {
            Some(p) => p
                .parse::<crate::model::Repository>()
                .map_err(|e| BuildError::bad_reference(p.clone(), e.why().to_string()))?
                .to_string(),
            None => release.repository.clone(),
        };
        let variants = selected_variants(release, options)?;
        if options.base_image.is_some() && options.variants == VariantFilter::Onbuild {
            return Err(BuildError::base_image_without_base());
        }
        if options.base_image.is_some() {
            let mut pythons: Vec<PythonVersion> =
                variants.iter().map(|v| release.python_of(v)).collect();
            pythons.dedup();
            if pythons.len() > 1 {
                let list: Vec<String> = pythons.iter().map(ToString::to_string).collect();
                return Err(BuildError::ambiguous_base_image(list.join(", ")));
            }
        }
        if let Some(base) = &options.base_image {
            check_reference(base)?;
        }
        let mut images = Vec::new();
        for variant in variants {
            let tag = ImageTag::new(release.version.clone(), variant);
            let context = options.contexts.join(render::context_dir(&tag));
            if !context.join("Dockerfile").is_file() {
                return Err(BuildError::missing_context(tag.to_string(), context));
            }
            let reference = format!("{prefix}:{tag}");
            check_reference(&reference)?;
            let mut build = ImageBuild::new(tag.to_string(), reference, context);
            if variant.base {
                if let Some(base) = &options.base_image {
                    build = build.build_arg(BASE_IMAGE_ARG, base.clone());
                }
                let vendor = render::ImageContext::new(matrix, release, variant)
                    .is_some_and(|c| !c.vendor.is_empty());
                if options.skip_vendor_packages && vendor {
                    build = build.build_arg(VENDOR_PACKAGES_ARG, "skip");
                }
            } else {
                let base_tag = ImageTag::new(release.version.clone(), variant.as_base());
                build = build.build_arg(BASE_IMAGE_ARG, format!("{prefix}:{base_tag}"));
            }
            images.push((tag, build));
        }
        Ok(BuildPlan {
            version: release.version.clone(),
            images,
        })
    }

    /// The directory of each build's context, for messages.
    pub fn contexts(&self) -> impl Iterator<Item = &Path> {
        self.images.iter().map(|(_, b)| b.context.as_path())
    }
}

/// The release's variants `options` select, each base first, then the ONBUILD image built
/// from it.
fn selected_variants(release: &Release, options: &PlanOptions) -> Result<Vec<Variant>, BuildError> {
    if let Some(python) = options.python
        && !release.pythons().any(|p| p == python)
    {
        let available: Vec<String> = release.pythons().map(|p| p.to_string()).collect();
        return Err(BuildError::no_such_python(
            release.version.to_string(),
            python.to_string(),
            available.join(", "),
        ));
    }
    let mut variants: Vec<Variant> = release
        .variants()
        .into_iter()
        .filter(|v| options.variants.admits(v))
        .filter(|v| options.python.is_none_or(|p| release.python_of(v) == p))
        .collect();
    // Release::variants lists each ONBUILD image before its base; build the base first.
    variants.sort_by_key(|v| (v.python, v.slim, !v.base));
    Ok(variants)
}

fn check_reference(reference: &str) -> Result<(), BuildError> {
    if reference
        .chars()
        .any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(BuildError::bad_reference(
            reference.to_string(),
            "it contains whitespace".into(),
        ));
    }
    reference
        .parse::<Reference>()
        .map(|_| ())
        .map_err(|e| BuildError::bad_reference(reference.to_string(), e.to_string()))
}
