//! Package names (PEP 503 normalised) and the pinned package sets of a release.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use super::{PackageVersion, ParseError};

/// A Python package name, normalised per PEP 503 (lowercase, runs of `-`, `_`, `.` become `-`).
///
/// ```
/// use runtime_kit::model::PackageName;
/// let n: PackageName = "Apache_Airflow.Providers-Amazon".parse().unwrap();
/// assert_eq!(n.as_str(), "apache-airflow-providers-amazon");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PackageName(String);

impl PackageName {
    /// The normalised name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `raw` is already in normalised form.
    pub fn is_normalised(raw: &str) -> bool {
        raw.parse::<PackageName>().is_ok_and(|n| n.0 == raw)
    }
}

impl FromStr for PackageName {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, ParseError> {
        const EXPECTED: &str = "a package name of letters, digits, '-', '_' and '.', starting and ending with a letter or digit";
        let bytes = s.as_bytes();
        let alnum = |b: &u8| b.is_ascii_alphanumeric();
        if bytes.is_empty() || !alnum(&bytes[0]) || !alnum(&bytes[bytes.len() - 1]) {
            return Err(ParseError::new(
                s,
                EXPECTED,
                "it is empty or does not start and end with a letter or digit",
            ));
        }
        if let Some(bad) = s
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        {
            return Err(ParseError::new(
                s,
                EXPECTED,
                &format!("it contains {bad:?}"),
            ));
        }
        let mut out = String::with_capacity(s.len());
        let mut in_sep = false;
        for c in s.chars() {
            if matches!(c, '-' | '_' | '.') {
                if !in_sep {
                    out.push('-');
                }
                in_sep = true;
            } else {
                out.push(c.to_ascii_lowercase());
                in_sep = false;
            }
        }
        Ok(PackageName(out))
    }
}

impl fmt::Display for PackageName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl serde::Serialize for PackageName {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// The exact pins of an image, besides Airflow: name → version, sorted by name.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct PackageSet(BTreeMap<PackageName, PackageVersion>);

impl PackageSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a pin, returning the previous version of that package if there was one.
    pub fn insert(&mut self, name: PackageName, version: PackageVersion) -> Option<PackageVersion> {
        self.0.insert(name, version)
    }

    /// The pinned version of `name`.
    pub fn get(&self, name: &PackageName) -> Option<&PackageVersion> {
        self.0.get(name)
    }

    /// Pins in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&PackageName, &PackageVersion)> {
        self.0.iter()
    }

    /// Number of pins.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when nothing is pinned.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `name` is pinned.
    pub fn contains(&self, name: &PackageName) -> bool {
        self.0.contains_key(name)
    }
}

impl FromIterator<(PackageName, PackageVersion)> for PackageSet {
    fn from_iter<I: IntoIterator<Item = (PackageName, PackageVersion)>>(iter: I) -> Self {
        PackageSet(iter.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pep503_normalisation() {
        let cases = [
            ("apache-airflow", "apache-airflow"),
            ("Apache_Airflow", "apache-airflow"),
            ("a.b_c-d", "a-b-c-d"),
            ("a__--..b", "a-b"),
            ("astro-sdk-python", "astro-sdk-python"),
            ("X", "x"),
        ];
        for (raw, normal) in cases {
            assert_eq!(raw.parse::<PackageName>().unwrap().as_str(), normal);
        }
        assert!(PackageName::is_normalised("apache-airflow"));
        assert!(!PackageName::is_normalised("Apache-Airflow"));
        for bad in ["", "-a", "a-", "a b", "a\nb", "a;b", "a$b", "é"] {
            let e = bad.parse::<PackageName>().unwrap_err();
            assert!(e.to_string().contains("expected a package name"), "{bad:?}");
        }
    }

    #[test]
    fn sets_sort_by_name() {
        let set: PackageSet = [("b", "1.0"), ("a", "2.0")]
            .into_iter()
            .map(|(n, v)| (n.parse().unwrap(), v.parse().unwrap()))
            .collect();
        let names: Vec<&str> = set.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(set.len(), 2);
    }
}
