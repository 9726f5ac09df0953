//! The registry stage: check and move what a registry holds against the [tag plan](crate::tags).
//!
//! - [`verify`](verify::verify): every planned tag exists, each image's labels equal the matrix,
//!   every floating alias points at the digest the plan says, and tags the matrix does not know
//!   are reported;
//! - [`promote`]: moves floating aliases to match the plan by copying manifests, after fetching
//!   every source manifest (so a missing source never leaves a half-moved set), restoring the
//!   aliases it already moved if a write fails;
//! - [`pin`]: resolves the base images' tags to digests for `[base-images]`.
//!
//! Everything goes through a [`RegistryClient`] bound to one repository: credentials
//! ([`Credentials`]: anonymous, the environment or Docker's `config.json`, never printed),
//! HTTPS unless the host is on loopback or plain HTTP is explicitly allowed, bounded concurrency,
//! a timeout and a few retries for every request, and paginated tag lists.
//!
//! This module needs the `registry` feature (tokio and an HTTP client); the tag plan itself is in
//! [`crate::tags`] and needs neither.

mod auth;
mod client;
mod error;
pub mod pin;
pub mod promote;
mod reference;
pub mod verify;

pub use auth::{CredentialSource, Credentials, ENV_PASSWORD, ENV_USERNAME};
pub use client::{ClientOptions, ImageInfo, RegistryClient, Transport};
pub use error::{ErrorKind, RegistryError};
pub use reference::{Repository, is_loopback};

/// Receives progress of a long registry operation (the CLI draws a bar on a terminal).
pub trait Progress: Send + Sync {
    /// A phase starts with `total` steps.
    fn start(&self, _phase: &str, _total: u64) {}
    /// `n` more steps are done.
    fn advance(&self, _n: u64) {}
    /// The phase is over.
    fn finish(&self) {}
}

/// Progress that goes nowhere.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoProgress;

impl Progress for NoProgress {}
