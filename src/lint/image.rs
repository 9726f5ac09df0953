//! Image references of `FROM`, parsed with the OCI distribution grammar (`oci-spec`).

use std::fmt;

use oci_spec::distribution::Reference;

/// The image of a `FROM` instruction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImageRef {
    /// `scratch`, the empty image.
    Scratch,
    /// A reference built from build arguments (`${BASE_IMAGE}`, `python:${PY}`); not checked.
    Variable(String),
    /// An earlier stage used as the base (`FROM builder`).
    Stage(String),
    /// A registry image.
    Image(Image),
    /// Text that is not a valid reference.
    Invalid {
        /// What was written.
        text: String,
        /// Why it is not a reference.
        why: String,
    },
}

/// A parsed registry image reference: registry, repository, tag and digest, all kept.
///
/// ```
/// use runtime_kit::lint::image::{Image, ImageRef};
/// let ImageRef::Image(i) = ImageRef::parse("quay.io/astronomer/astro-runtime:5.0.6", &[]) else { panic!() };
/// assert_eq!(i.registry(), "quay.io");
/// assert_eq!(i.repository(), "astronomer/astro-runtime");
/// assert_eq!(i.tag(), Some("5.0.6"));
/// assert_eq!(i.digest(), None);
/// let ImageRef::Image(i) = ImageRef::parse("python", &[]) else { panic!() };
/// assert_eq!((i.registry(), i.repository(), i.tag()), ("docker.io", "library/python", None));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Image {
    reference: Reference,
    explicit_tag: bool,
}

impl Image {
    /// The registry (`docker.io` when none is written).
    pub fn registry(&self) -> &str {
        self.reference.registry()
    }

    /// The repository (`library/python` for `python`).
    pub fn repository(&self) -> &str {
        self.reference.repository()
    }

    /// The tag as written; `None` when the reference has no tag (the OCI parser would default it
    /// to `latest`, which is exactly what the untagged rule warns about).
    pub fn tag(&self) -> Option<&str> {
        if self.explicit_tag {
            self.reference.tag()
        } else {
            None
        }
    }

    /// The digest (`sha256:...`), if pinned.
    pub fn digest(&self) -> Option<&str> {
        self.reference.digest()
    }
}

impl fmt::Display for Image {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry(), self.repository())?;
        if let Some(t) = self.tag() {
            write!(f, ":{t}")?;
        }
        if let Some(d) = self.digest() {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

impl ImageRef {
    /// Parses the image text of a `FROM`; `stages` are the names of earlier stages.
    pub fn parse(text: &str, stages: &[&str]) -> ImageRef {
        if text.eq_ignore_ascii_case("scratch") {
            return ImageRef::Scratch;
        }
        if text.contains('$') {
            return ImageRef::Variable(text.to_string());
        }
        if stages.contains(&text) {
            return ImageRef::Stage(text.to_string());
        }
        match text.parse::<Reference>() {
            Ok(reference) => {
                // The tag is explicit when the last path component has a `:` before any `@`.
                let name = text.split('@').next().unwrap_or(text);
                let last = name.rsplit('/').next().unwrap_or(name);
                ImageRef::Image(Image {
                    reference,
                    explicit_tag: last.contains(':'),
                })
            }
            Err(e) => ImageRef::Invalid {
                text: text.to_string(),
                why: e.to_string(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_every_part() {
        let d = "sha256:".to_string() + &"a".repeat(64);
        let text = format!("localhost:5000/team/app:1.2@{d}");
        let ImageRef::Image(i) = ImageRef::parse(&text, &[]) else {
            panic!()
        };
        assert_eq!(i.registry(), "localhost:5000");
        assert_eq!(i.repository(), "team/app");
        assert_eq!(i.tag(), Some("1.2"));
        assert_eq!(i.digest(), Some(d.as_str()));
        assert_eq!(i.to_string(), text);

        let ImageRef::Image(i) = ImageRef::parse(&format!("localhost:5000/app@{d}"), &[]) else {
            panic!()
        };
        assert_eq!(i.tag(), None);
    }

    #[test]
    fn other_kinds() {
        assert_eq!(ImageRef::parse("scratch", &[]), ImageRef::Scratch);
        assert!(matches!(
            ImageRef::parse("${BASE}", &[]),
            ImageRef::Variable(_)
        ));
        assert!(matches!(
            ImageRef::parse("build", &["build"]),
            ImageRef::Stage(_)
        ));
        assert!(matches!(
            ImageRef::parse("UPPER:1", &[]),
            ImageRef::Invalid { .. }
        ));
        assert!(matches!(ImageRef::parse("", &[]), ImageRef::Invalid { .. }));
    }
}
