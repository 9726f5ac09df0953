//! PEP 440 versions of Airflow and of packages (parsed by `pep440_rs`).

use std::fmt;
use std::str::FromStr;

use pep440_rs::{Version, VersionSpecifiers};

use super::{ParseError, is_safe_token};

/// A PEP 440 version of a Python package, such as `4.0.0`, `1!2.0.0` or `2.3.0rc1`.
///
/// Only the normalised spelling is accepted (`2.3.0rc1`, not `2.3.0-rc1`), so what the matrix says
/// is exactly what reaches `pip` and every comparison agrees with the text.
///
/// ```
/// use runtime_kit::model::PackageVersion;
/// let epoch: PackageVersion = "1!2.0.0".parse().unwrap();
/// let plain: PackageVersion = "9.0.0".parse().unwrap();
/// assert!(epoch > plain);
/// assert!("2.0.0-rc1".parse::<PackageVersion>().is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PackageVersion(Version);

const EXPECTED: &str = "a normalised PEP 440 version like \"2.3.3\", \"1!2.0.0\" or \"2.3.0rc1\"";

impl PackageVersion {
    /// The `pep440_rs` version.
    pub fn pep440(&self) -> &Version {
        &self.0
    }

    /// The release segment (`[2, 3, 3]` for `2.3.3`).
    pub fn release(&self) -> &[u64] {
        self.0.release()
    }

    /// The `n`-th release number, 0 where the version has fewer.
    pub fn part(&self, n: usize) -> u64 {
        self.release().get(n).copied().unwrap_or(0)
    }

    /// True for alpha, beta, release-candidate and development versions.
    pub fn is_pre(&self) -> bool {
        self.0.any_prerelease()
    }
}

impl FromStr for PackageVersion {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, ParseError> {
        if !is_safe_token(s) {
            return Err(ParseError::new(
                s,
                EXPECTED,
                "it contains a character that is not a letter, digit, '.', '!', '+', '-' or '_'",
            ));
        }
        let v = Version::from_str(s).map_err(|e| ParseError::new(s, EXPECTED, &e.to_string()))?;
        let normal = v.to_string();
        if normal != s {
            return Err(ParseError::new(
                s,
                EXPECTED,
                &format!("write it in its normalised form {normal:?}"),
            ));
        }
        Ok(PackageVersion(v))
    }
}

impl fmt::Display for PackageVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl serde::Serialize for PackageVersion {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The Airflow version a Runtime release carries: a PEP 440 version with at least
/// `major.minor.patch`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AirflowVersion(PackageVersion);

impl AirflowVersion {
    /// Airflow major version.
    pub fn major(&self) -> u64 {
        self.0.part(0)
    }

    /// Airflow minor version.
    pub fn minor(&self) -> u64 {
        self.0.part(1)
    }

    /// Airflow patch version.
    pub fn patch(&self) -> u64 {
        self.0.part(2)
    }

    /// `(major, minor)`: the Airflow minor series.
    pub fn minor_series(&self) -> (u64, u64) {
        (self.major(), self.minor())
    }

    /// The version as a package version.
    pub fn as_package_version(&self) -> &PackageVersion {
        &self.0
    }

    /// The `pep440_rs` version.
    pub fn pep440(&self) -> &Version {
        self.0.pep440()
    }
}

impl FromStr for AirflowVersion {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, ParseError> {
        let v: PackageVersion = s.parse()?;
        if v.release().len() < 3 || v.0.epoch() != 0 {
            return Err(ParseError::new(
                s,
                "an Airflow version like \"2.3.3\" (major.minor.patch)",
                "it does not have major, minor and patch numbers",
            ));
        }
        Ok(AirflowVersion(v))
    }
}

impl fmt::Display for AirflowVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl serde::Serialize for AirflowVersion {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Which Airflow versions a query asks about: an exact version (`2.3.3`), a series (`2.3`, every
/// `2.3.*`) or a PEP 440 range (`>=2.3,<2.5`).
#[derive(Clone, Debug)]
pub enum VersionSpec {
    /// Exactly this version.
    Exact(AirflowVersion),
    /// Every version whose release starts with these numbers.
    Series(Vec<u64>),
    /// A PEP 440 specifier set.
    Range(VersionSpecifiers),
}

impl VersionSpec {
    /// Whether `v` is one of the versions asked about.
    pub fn contains(&self, v: &AirflowVersion) -> bool {
        match self {
            VersionSpec::Exact(e) => e == v,
            VersionSpec::Series(prefix) => v.pep440().release().starts_with(prefix),
            VersionSpec::Range(r) => r.contains(v.pep440()),
        }
    }
}

impl FromStr for VersionSpec {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, ParseError> {
        let expected =
            "an Airflow version (\"2.3.3\"), series (\"2.3\") or PEP 440 range (\">=2.3,<2.5\")";
        let s_trim = s.trim();
        if s_trim.starts_with(['<', '>', '=', '!', '~']) {
            return VersionSpecifiers::from_str(s_trim)
                .map(VersionSpec::Range)
                .map_err(|e| ParseError::new(s, expected, &e.to_string()));
        }
        let parts: Result<Vec<u64>, _> = s_trim.split('.').map(super::version::number).collect();
        match parts {
            Ok(parts) if parts.len() >= 3 => s_trim
                .parse()
                .map(VersionSpec::Exact)
                .map_err(|e: ParseError| ParseError::new(s, expected, &e.to_string())),
            Ok(parts) if !parts.is_empty() => Ok(VersionSpec::Series(parts)),
            _ => s_trim
                .parse()
                .map(VersionSpec::Exact)
                .map_err(|_| ParseError::new(s, expected, "it is none of these")),
        }
    }
}

impl fmt::Display for VersionSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VersionSpec::Exact(v) => v.fmt(f),
            VersionSpec::Series(p) => {
                super::write_joined(f, p, ".")?;
                f.write_str(".*")
            }
            VersionSpec::Range(r) => r.fmt(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_versions() {
        let ok = [
            "4.0.0",
            "1!2.0.0",
            "2.3.0rc1",
            "1.0.post1",
            "2.0.0.dev3",
            "1.2.3+local.1",
        ];
        for s in ok {
            assert_eq!(s.parse::<PackageVersion>().unwrap().to_string(), s);
        }
        let bad = [
            ("2.0.0-rc1", "normalised form \"2.0.0rc1\""),
            ("v1.0", "normalised form \"1.0\""),
            ("1.0\n", "not a letter"),
            ("1.0 ", "not a letter"),
            ("$(id)", "not a letter"),
            ("1.0;rm", "not a letter"),
            ("", "not a letter"),
            ("abc", "expected a normalised PEP 440"),
        ];
        for (s, why) in bad {
            let e = s.parse::<PackageVersion>().unwrap_err().to_string();
            assert!(e.contains(why), "{s:?}: {e}");
        }
    }

    #[test]
    fn pep440_order_across_epochs() {
        let ordered = [
            "2.0.0rc1",
            "2.0.0",
            "2.0.0.post1",
            "10.0.0",
            "1!1.0.0",
            "1!2.0.0",
        ];
        let v: Vec<PackageVersion> = ordered.iter().map(|s| s.parse().unwrap()).collect();
        for w in v.windows(2) {
            assert!(w[0] < w[1], "{} < {}", w[0], w[1]);
        }
    }

    #[test]
    fn airflow_versions() {
        let v: AirflowVersion = "2.3.3".parse().unwrap();
        assert_eq!((v.major(), v.minor(), v.patch()), (2, 3, 3));
        assert!("2.3".parse::<AirflowVersion>().is_err());
        assert!("1!2.3.3".parse::<AirflowVersion>().is_err());
        assert!("2.3.3rc1".parse::<AirflowVersion>().is_ok());
    }

    #[test]
    fn specs() {
        let v = |s: &str| s.parse::<AirflowVersion>().unwrap();
        let cases = [
            ("2.3.3", "2.3.3", true),
            ("2.3.3", "2.3.4", false),
            ("2.3", "2.3.4", true),
            ("2.3", "2.4.0", false),
            ("2", "2.9.1", true),
            (">=2.3,<2.5", "2.4.3", true),
            (">=2.3,<2.5", "2.5.0", false),
            (">=2.3,<2.5", "2.2.5", false),
        ];
        for (spec, version, expected) in cases {
            let spec: VersionSpec = spec.parse().unwrap();
            assert_eq!(spec.contains(&v(version)), expected, "{spec} {version}");
        }
        for bad in ["", "two", ">=x", "2..3"] {
            assert!(bad.parse::<VersionSpec>().is_err(), "{bad}");
        }
    }
}
