//! Image tags: `<version>[-python-X.Y][-slim][-base]`.

use std::fmt;
use std::str::FromStr;

use super::{ParseError, PythonVersion, RuntimeVersion};

/// Which image of a release a tag names. The default image (no suffix) carries the ONBUILD
/// instructions; `-base` has none; `-python-X.Y` is built on another Python; `-slim` has a smaller
/// package set.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Variant {
    /// The Python of a `-python-X.Y` image; `None` for the release's default Python.
    pub python: Option<PythonVersion>,
    /// A `-slim` image.
    pub slim: bool,
    /// A `-base` image (no ONBUILD instructions).
    pub base: bool,
}

impl Variant {
    /// The tag suffix, e.g. `-python-3.11-slim-base`; empty for the default image.
    pub fn suffix(&self) -> String {
        let mut s = String::new();
        if let Some(py) = self.python {
            s.push_str(&format!("-python-{py}"));
        }
        if self.slim {
            s.push_str("-slim");
        }
        if self.base {
            s.push_str("-base");
        }
        s
    }

    /// The same variant with `base` set: the image this ONBUILD variant is built `FROM`.
    pub fn as_base(self) -> Variant {
        Variant { base: true, ..self }
    }
}

/// An image tag of a Runtime release, e.g. `5.0.6`, `5.0.6-base`, `9.1.0-python-3.10`,
/// `11.2.0-python-3.11-slim-base` or `3.1-12-python-3.12-base`.
///
/// Suffixes are written in one canonical order, `-python-X.Y`, `-slim`, `-base` (the order of
/// Astronomer's image documentation: `11.0.0-python-3.11-slim-base`). The other order the public
/// record shows, `-slim-python-X.Y[-base]` (`13.7.0-slim-python-3.12`, which astro-cli parses), is
/// read too, and printed in the canonical order; every canonical tag prints back exactly as parsed.
///
/// ```
/// use runtime_kit::model::ImageTag;
/// let tag: ImageTag = "11.2.0-python-3.11-slim-base".parse().unwrap();
/// assert!(tag.variant.slim && tag.variant.base);
/// assert_eq!(tag.version.to_string(), "11.2.0");
/// assert_eq!(tag.to_string(), "11.2.0-python-3.11-slim-base");
/// let other: ImageTag = "13.7.0-slim-python-3.12".parse().unwrap();
/// assert_eq!(other.to_string(), "13.7.0-python-3.12-slim");
/// assert!("5.0.6-onbuild".parse::<ImageTag>().is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ImageTag {
    /// The Runtime version.
    pub version: RuntimeVersion,
    /// Which image of that release.
    pub variant: Variant,
}

impl ImageTag {
    /// The tag of `variant` of `version`.
    pub fn new(version: RuntimeVersion, variant: Variant) -> Self {
        ImageTag { version, variant }
    }
}

const EXPECTED: &str = "a tag like \"5.0.6\", \"5.0.6-base\", \"9.1.0-python-3.10\" or \"11.2.0-python-3.11-slim-base\"";

impl FromStr for ImageTag {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, ParseError> {
        let mut rest = s;
        let mut variant = Variant::default();
        if let Some(r) = rest.strip_suffix("-base") {
            variant.base = true;
            rest = r;
        }
        if let Some(r) = rest.strip_suffix("-slim") {
            variant.slim = true;
            rest = r;
        }
        if let Some(at) = rest.rfind("-python-") {
            let py = &rest[at + "-python-".len()..];
            variant.python = Some(py.parse().map_err(|e: ParseError| {
                ParseError::new(s, EXPECTED, &format!("its Python suffix is not valid: {e}"))
            })?);
            rest = &rest[..at];
            // The other order the record shows, `-slim-python-X.Y` (astro-cli reads it): read,
            // and written back in the canonical order.
            if !variant.slim
                && let Some(r) = rest.strip_suffix("-slim")
            {
                variant.slim = true;
                rest = r;
            }
        }
        let version: RuntimeVersion = rest.parse().map_err(|e: ParseError| {
            ParseError::new(
                s,
                EXPECTED,
                &format!("{rest:?} is not a Runtime version followed by known suffixes ({e})"),
            )
        })?;
        Ok(ImageTag { version, variant })
    }
}

impl fmt::Display for ImageTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.version, self.variant.suffix())
    }
}

impl serde::Serialize for ImageTag {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_exactly() {
        let cases = [
            ("5.0.6", None, false, false),
            ("5.0.6-base", None, false, true),
            ("9.1.0-python-3.10", Some("3.10"), false, false),
            ("9.1.0-python-3.10-base", Some("3.10"), false, true),
            ("11.2.0-slim", None, true, false),
            ("11.2.0-python-3.11-slim-base", Some("3.11"), true, true),
            ("3.1-12", None, false, false),
            ("3.1-12-python-3.12-base", Some("3.12"), false, true),
            ("5.0.0-rc1-base", None, false, true),
        ];
        for (text, py, slim, base) in cases {
            let tag: ImageTag = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(tag.to_string(), text);
            assert_eq!(tag.variant.python.map(|p| p.to_string()).as_deref(), py);
            assert_eq!((tag.variant.slim, tag.variant.base), (slim, base));
        }
    }

    #[test]
    fn reads_slim_before_python_and_writes_the_canonical_order() {
        let cases = [
            ("13.7.0-slim-python-3.12", "13.7.0-python-3.12-slim"),
            (
                "13.7.0-slim-python-3.12-base",
                "13.7.0-python-3.12-slim-base",
            ),
            ("3.1-12-slim-python-3.11", "3.1-12-python-3.11-slim"),
        ];
        for (text, canonical) in cases {
            let tag: ImageTag = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
            assert!(tag.variant.slim && tag.variant.python.is_some(), "{text}");
            assert_eq!(tag.to_string(), canonical);
            assert_eq!(canonical.parse::<ImageTag>().unwrap(), tag);
        }
    }

    #[test]
    fn rejects_with_what_was_expected() {
        let cases = [
            ("", "is not a Runtime version"),
            ("latest", "is not a Runtime version"),
            (
                "5.0.6-onbuild",
                "\"5.0.6-onbuild\" is not a Runtime version",
            ),
            ("5.0.6-base-slim", "is not a Runtime version"),
            ("5.0.6-python-3", "Python suffix is not valid"),
            ("5.0.6-python-3.10.1", "Python suffix is not valid"),
            ("5.0.6-slim-slim-python-3.10", "is not a Runtime version"),
            ("5.0.6-slim-python-3.10-slim", "is not a Runtime version"),
            ("5.0.6 ", "is not a Runtime version"),
            ("5.0.6-base\n", "is not a Runtime version"),
        ];
        for (text, why) in cases {
            let e = text.parse::<ImageTag>().unwrap_err().to_string();
            assert!(e.contains(why), "{text:?}: {e}");
            assert!(e.contains("expected a tag like"), "{e}");
        }
    }
}
