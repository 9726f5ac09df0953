//! Building a release's images from the generated contexts (`dockerfiles/`) with buildah or
//! docker.
//!
//! A [`BuildPlan`] lists the images of one release in dependency order (each `-base` image before
//! the ONBUILD image built `FROM` it), with the exact tags of the tag plan and the
//! `BASE_IMAGE` build arguments; a [`Runner`] runs them with a [`Builder`], keeps each builder's
//! output in a log file, reports the steps as [`Event`]s, and on failure returns a
//! [`BuildError`] naming the failing step. A [`CaBundle`] lets pip and apt inside the build trust
//! a proxy's certificate authority without any change to the Dockerfiles.
//!
//! Processes are run with `std::process`: the module needs no async runtime.
//!
//! ```no_run
//! use runtime_kit::build::{Builder, BuilderKind, BuildPlan, PlanOptions, Runner};
//! use runtime_kit::matrix::Matrix;
//!
//! let matrix = Matrix::load("runtime-matrix.toml").unwrap();
//! let options = PlanOptions {
//!     base_image: Some("localhost/python:3.9-slim-bullseye".into()),
//!     ..PlanOptions::default()
//! };
//! let plan = BuildPlan::new(&matrix, &"5.0.13".parse().unwrap(), &options).unwrap();
//! let builder = Builder::new(BuilderKind::Buildah).storage_driver(Some("vfs".into()));
//! let runner = Runner::new(builder, ".cache/build").unwrap();
//! for built in runner.build_plan(&plan, &mut |_event| {}).unwrap() {
//!     println!("{} in {:?}", built.reference, built.elapsed);
//! }
//! ```

mod builder;
mod ca;
mod error;
mod plan;
mod run;
mod step;

pub use builder::{Builder, BuilderKind, shell_quote};
pub use ca::{APT_CONF_TARGET, CA_TARGET, CaBundle, Mount, PIP_CONF_TARGET};
pub use error::BuildError;
pub use plan::{
    BASE_IMAGE_ARG, BuildPlan, ImageBuild, PlanOptions, VENDOR_PACKAGES_ARG, VariantFilter,
};
pub use run::{Built, Event, Runner, StepRecord, format_elapsed};
pub use step::{Step, is_cache_hit};

/// The default directory build logs and generated build configuration are kept in, relative to
/// the working directory (ignored by git).
pub const LOG_DIR: &str = ".cache/build";
