//! # runtime-kit
//!
//! The toolkit behind an Airflow distribution image (the *Runtime*). The modules follow the path a
//! release takes:
//!
//! 1. [`matrix`]: load and validate `runtime-matrix.toml`, the release history (and edit it in
//!    place, keeping its comments);
//! 2. [`model`]: the typed values it is made of (Runtime versions, image tags, PEP 440 pins);
//! 3. [`policy`]: the release policy (next version, parity) and the lifecycle policy;
//! 4. [`query`]: questions other tools ask of the matrix;
//! 5. [`lock`]: each release's full pin set, resolved as of its release date;
//! 6. [`render`]: the typed template context and the build contexts under `dockerfiles/`;
//! 7. [`lint`]: any Dockerfile, and version parity of generated ones with the matrix;
//! 8. [`build`]: real image builds of a release, base before ONBUILD;
//! 9. [`tags`] and `registry` (feature `registry`): the tag plan, and verifying and promoting it
//!    in an OCI registry;
//! 10. [`release`]: the release engineer's workflow (cut, notes, the version feed).
//!
//! [`fsutil`] holds the all-or-nothing file writes every stage that writes uses.
//!
//! The library builds without default features (no CLI, async runtime or HTTP stack), so other
//! crates can import the version rules cheaply:
//!
//! ```
//! use runtime_kit::matrix::Matrix;
//! use runtime_kit::model::RuntimeVersion;
//!
//! let matrix = Matrix::from_str_named(r#"
//! schema = 1
//! [defaults]
//! debian = "bullseye"
//! [series.5]
//! channel = "stable"
//! python = "3.9"
//! [[release]]
//! version = "5.0.6"
//! airflow = "2.3.3"
//! date = 2022-07-11
//! [release.packages]
//! astronomer-providers = "1.7.1"
//! "#, "example.toml").unwrap();
//! let v: RuntimeVersion = "5.0.6".parse().unwrap();
//! assert_eq!(matrix.release(&v).unwrap().airflow_text(), "2.3.3");
//! ```
#![forbid(unsafe_code)]

pub mod build;
pub mod fsutil;
pub mod lint;
pub mod lock;
pub mod matrix;
pub mod model;
pub mod policy;
pub mod query;
#[cfg(feature = "registry")]
pub mod registry;
pub mod release;
pub mod render;
pub mod tags;

/// The README's examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
