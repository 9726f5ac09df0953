//! Repository names in the registry layer: the model's [`Repository`], and its references for
//! the OCI client.

use crate::model::ParseError;
pub use crate::model::{Repository, is_loopback};

use super::RegistryError;

/// The OCI client's references into a [`Repository`].
pub(crate) trait OciReference {
    /// The reference of `tag` in this repository.
    fn reference(&self, tag: &str) -> oci_client::Reference;
    /// The reference of the manifest with `digest` in this repository.
    fn reference_by_digest(&self, digest: &str) -> oci_client::Reference;
}

impl OciReference for Repository {
    fn reference(&self, tag: &str) -> oci_client::Reference {
        oci_client::Reference::with_tag(
            self.host().to_string(),
            self.path().to_string(),
            tag.to_string(),
        )
    }

    fn reference_by_digest(&self, digest: &str) -> oci_client::Reference {
        oci_client::Reference::with_digest(
            self.host().to_string(),
            self.path().to_string(),
            digest.to_string(),
        )
    }
}

impl From<ParseError> for RegistryError {
    fn from(e: ParseError) -> Self {
        RegistryError::invalid_repository(e.input(), e.expected(), e.why())
    }
}
