//! Typed values the matrix is made of. Each is built only through a parser that rejects bad input
//! with a message saying what was expected, so nothing downstream re-checks strings and every value
//! that reaches a Dockerfile is known to be safe there.

use std::fmt;

mod debian;
mod digest;
mod package;
mod pep440;
mod python;
mod repository;
mod tag;
mod version;

pub use debian::DebianRelease;
pub use digest::Digest;
pub use package::{PackageName, PackageSet};
pub use pep440::{AirflowVersion, PackageVersion, VersionSpec};
pub use python::PythonVersion;
pub use repository::{Repository, is_loopback};
pub use tag::{ImageTag, Variant};
pub use version::{BuildVersion, PreId, RuntimeVersion, SemverVersion, SeriesKey};

/// A value that did not parse: what was given, what was expected and why it was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid value {input:?}: {why}; expected {expected}")]
pub struct ParseError {
    input: String,
    expected: &'static str,
    why: String,
}

impl ParseError {
    pub(crate) fn new(input: &str, expected: &'static str, why: &str) -> Self {
        // Long inputs (fuzzers, garbage) are cut so messages stay readable.
        let cut = input.chars().nth(80).is_some();
        let mut input: String = input.chars().take(80).collect();
        if cut {
            input.push('…');
        }
        ParseError {
            input,
            expected,
            why: why.to_string(),
        }
    }

    /// What a valid value looks like.
    pub fn expected(&self) -> &'static str {
        self.expected
    }

    /// The value given (cut to 80 characters; credentials masked).
    pub fn input(&self) -> &str {
        &self.input
    }

    /// Why it was refused.
    pub fn why(&self) -> &str {
        &self.why
    }
}

/// Characters allowed in every value that reaches a Dockerfile: no whitespace, quotes, `$`,
/// backslash or other shell metacharacters.
pub(crate) fn is_safe_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'+' | b'!'))
}

/// Writes `items` separated by `sep`.
pub(crate) fn write_joined<T: fmt::Display>(
    f: &mut fmt::Formatter<'_>,
    items: impl IntoIterator<Item = T>,
    sep: &str,
) -> fmt::Result {
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            f.write_str(sep)?;
        }
        write!(f, "{item}")?;
    }
    Ok(())
}
