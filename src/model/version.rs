//! Runtime versions: `5.0.6`, `5.0.0-rc1` and the Airflow-3-era `3.1-12`.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use super::ParseError;

/// A Runtime version.
///
/// Two schemes exist. Up to Airflow 2 the Runtime used semantic versions (`5.0.6`, with an optional
/// pre-release such as `5.0.0-rc1`). For Airflow 3 it uses `X.Y-Z`: Airflow `X.Y`, build `Z`
/// (`3.1-12`). Versions order as the public tooling orders them: every `X.Y-Z` sorts above every
/// semantic version, and a pre-release sorts below its release.
///
/// ```
/// use runtime_kit::model::RuntimeVersion;
/// let a: RuntimeVersion = "5.0.0-rc1".parse().unwrap();
/// let b: RuntimeVersion = "5.0.0".parse().unwrap();
/// let c: RuntimeVersion = "3.1-12".parse().unwrap();
/// assert!(a < b && b < c);
/// assert_eq!(c.to_string(), "3.1-12");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum RuntimeVersion {
    /// `major.minor.patch[-pre]`, the scheme of the Airflow 2 era.
    Semver(SemverVersion),
    /// `X.Y-Z`: Airflow `X.Y`, build `Z`.
    Build(BuildVersion),
}

/// A semantic Runtime version `major.minor.patch[-pre]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SemverVersion {
    /// Major version: a new Airflow minor, or a breaking change.
    pub major: u64,
    /// Minor version: functional changes, a new Airflow patch.
    pub minor: u64,
    /// Patch version: bug and security fixes.
    pub patch: u64,
    /// Pre-release identifiers (`rc1`, `alpha.2`); empty for a release.
    pub pre: Vec<PreId>,
}

/// One dot-separated pre-release identifier.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PreId {
    /// All digits: compared numerically.
    Numeric(u64),
    /// Letters and digits: compared as ASCII text.
    Alpha(String),
}

/// An Airflow-3-era Runtime version `X.Y-Z`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BuildVersion {
    /// Airflow major version.
    pub airflow_major: u64,
    /// Airflow minor version.
    pub airflow_minor: u64,
    /// Build number of the Runtime for that Airflow minor.
    pub build: u64,
}

const EXPECTED: &str = "a Runtime version like \"5.0.6\", \"5.0.0-rc1\" or \"3.1-12\"";

impl RuntimeVersion {
    /// A release (not pre-release) semantic version.
    pub fn new(major: u64, minor: u64, patch: u64) -> Self {
        RuntimeVersion::Semver(SemverVersion {
            major,
            minor,
            patch,
            pre: Vec::new(),
        })
    }

    /// The major series this version belongs to: the major version of a semantic version, the
    /// Airflow major of an `X.Y-Z` version.
    pub fn series(&self) -> SeriesKey {
        match self {
            RuntimeVersion::Semver(v) => SeriesKey::Major(v.major),
            RuntimeVersion::Build(v) => SeriesKey::Airflow(v.airflow_major, v.airflow_minor),
        }
    }

    /// The minor series (`5.0` for `5.0.6`; `3.1` for `3.1-12`).
    pub fn minor_series(&self) -> (u64, u64) {
        match self {
            RuntimeVersion::Semver(v) => (v.major, v.minor),
            RuntimeVersion::Build(v) => (v.airflow_major, v.airflow_minor),
        }
    }

    /// True for a pre-release such as `5.0.0-rc1`.
    pub fn is_prerelease(&self) -> bool {
        matches!(self, RuntimeVersion::Semver(v) if !v.pre.is_empty())
    }

    /// The semantic version, if this is one.
    pub fn as_semver(&self) -> Option<&SemverVersion> {
        match self {
            RuntimeVersion::Semver(v) => Some(v),
            RuntimeVersion::Build(_) => None,
        }
    }
}

/// The key of a series of Runtime versions: a major version of the semantic scheme, or an
/// Airflow `X.Y` line of the build scheme.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SeriesKey {
    /// Semantic major version `N`.
    Major(u64),
    /// Build scheme, Airflow `X.Y`.
    Airflow(u64, u64),
}

impl SeriesKey {
    /// The TOML header of the series' table in the matrix: `[series.5]`, `[series."3.1"]` (a
    /// dotted key must be quoted).
    pub fn table_header(&self) -> String {
        match self {
            SeriesKey::Major(m) => format!("[series.{m}]"),
            SeriesKey::Airflow(x, y) => format!("[series.\"{x}.{y}\"]"),
        }
    }
}

impl FromStr for SeriesKey {
    type Err = ParseError;

    /// `5` (a semantic major) or `3.1` (an Airflow-3 line).
    fn from_str(s: &str) -> Result<Self, ParseError> {
        const SERIES: &str =
            "a series: a major version like \"13\" or an Airflow line like \"3.1\"";
        let nums: Result<Vec<u64>, String> = s.split('.').map(number).collect();
        match nums.as_deref() {
            Ok([m]) => Ok(SeriesKey::Major(*m)),
            Ok([x, y]) => Ok(SeriesKey::Airflow(*x, *y)),
            Ok(_) => Err(ParseError::new(s, SERIES, "it has more than two numbers")),
            Err(why) => Err(ParseError::new(s, SERIES, &format!("it {why}"))),
        }
    }
}

impl fmt::Display for SeriesKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SeriesKey::Major(m) => write!(f, "{m}"),
            SeriesKey::Airflow(x, y) => write!(f, "{x}.{y}"),
        }
    }
}

impl FromStr for RuntimeVersion {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, ParseError> {
        let err = |why: &str| ParseError::new(s, EXPECTED, why);
        if s.is_empty() {
            return Err(err("it is empty"));
        }
        let (core, pre) = match s.split_once('-') {
            Some((core, rest)) => (core, Some(rest)),
            None => (s, None),
        };
        let parts: Vec<&str> = core.split('.').collect();
        match (parts.as_slice(), pre) {
            ([x, y], Some(z)) => Ok(RuntimeVersion::Build(BuildVersion {
                airflow_major: number(x).map_err(|w| err(&w))?,
                airflow_minor: number(y).map_err(|w| err(&w))?,
                build: number(z).map_err(|w| err(&format!("the build {w}")))?,
            })),
            ([major, minor, patch], pre) => Ok(RuntimeVersion::Semver(SemverVersion {
                major: number(major).map_err(|w| err(&w))?,
                minor: number(minor).map_err(|w| err(&w))?,
                patch: number(patch).map_err(|w| err(&w))?,
                pre: match pre {
                    None => Vec::new(),
                    Some(p) => prerelease(p).map_err(|w| err(&w))?,
                },
            })),
            ([_, _], None) => Err(err("it has two numbers but no build (\"-Z\")")),
            _ => Err(err("it does not have three dot-separated numbers")),
        }
    }
}

/// A decimal number without sign or leading zero.
pub(crate) fn number(s: &str) -> Result<u64, String> {
    if s.is_empty() {
        return Err("has an empty number".into());
    }
    if !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("has {s:?} where a number was expected"));
    }
    if s.len() > 1 && s.starts_with('0') {
        return Err(format!("has a leading zero in {s:?}"));
    }
    s.parse()
        .map_err(|_| format!("has a number {s:?} that is too large"))
}

/// The kinds a pre-release starts with (`rc1`, `alpha.2`, `beta`, `dev3`). Anything else after the
/// `-` (`onbuild`, `latest`) is a misspelt tag suffix, not a pre-release.
const PRE_KINDS: [&str; 4] = ["alpha", "beta", "rc", "dev"];

fn prerelease(s: &str) -> Result<Vec<PreId>, String> {
    let ids = s
        .split('.')
        .map(|id| {
            if id.is_empty() {
                Err("has an empty pre-release identifier".to_string())
            } else if id.bytes().all(|b| b.is_ascii_digit()) {
                number(id).map(PreId::Numeric)
            } else if id.bytes().all(|b| b.is_ascii_alphanumeric()) {
                Ok(PreId::Alpha(id.to_string()))
            } else {
                Err(format!(
                    "has a pre-release identifier {id:?}; expected letters and digits only"
                ))
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    let first = s.split('.').next().unwrap_or_default();
    let kind = first.trim_end_matches(|c: char| c.is_ascii_digit());
    if !PRE_KINDS.contains(&kind) {
        let shown: String = first.chars().take(20).collect();
        let more = if shown.len() < first.len() { "…" } else { "" };
        return Err(format!(
            "has a pre-release \"{shown}{more}\"; expected one starting with {}",
            PRE_KINDS.join(", ")
        ));
    }
    Ok(ids)
}

impl fmt::Display for RuntimeVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RuntimeVersion::Semver(v) => v.fmt(f),
            RuntimeVersion::Build(v) => v.fmt(f),
        }
    }
}

impl fmt::Display for SemverVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)?;
        for (i, id) in self.pre.iter().enumerate() {
            f.write_str(if i == 0 { "-" } else { "." })?;
            match id {
                PreId::Numeric(n) => write!(f, "{n}")?,
                PreId::Alpha(a) => f.write_str(a)?,
            }
        }
        Ok(())
    }
}

impl fmt::Display for BuildVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}.{}-{}",
            self.airflow_major, self.airflow_minor, self.build
        )
    }
}

impl Ord for PreId {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (PreId::Numeric(a), PreId::Numeric(b)) => a.cmp(b),
            (PreId::Numeric(_), PreId::Alpha(_)) => Ordering::Less,
            (PreId::Alpha(_), PreId::Numeric(_)) => Ordering::Greater,
            (PreId::Alpha(a), PreId::Alpha(b)) => a.cmp(b),
        }
    }
}

impl PartialOrd for PreId {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for SemverVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.major, self.minor, self.patch)
            .cmp(&(other.major, other.minor, other.patch))
            .then_with(|| match (self.pre.is_empty(), other.pre.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => self.pre.cmp(&other.pre),
            })
    }
}

impl PartialOrd for SemverVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for RuntimeVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (RuntimeVersion::Semver(a), RuntimeVersion::Semver(b)) => a.cmp(b),
            (RuntimeVersion::Semver(_), RuntimeVersion::Build(_)) => Ordering::Less,
            (RuntimeVersion::Build(_), RuntimeVersion::Semver(_)) => Ordering::Greater,
            (RuntimeVersion::Build(a), RuntimeVersion::Build(b)) => a.cmp(b),
        }
    }
}

impl PartialOrd for RuntimeVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl serde::Serialize for RuntimeVersion {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_every_scheme() {
        let cases = [
            "5.0.6",
            "0.0.0",
            "11.8.0",
            "5.0.0-rc1",
            "5.0.0-rc.1",
            "5.0.0-alpha.2.beta",
            "5.0.0-beta3",
            "5.0.0-dev1",
            "3.1-12",
            "3.0-1",
        ];
        for case in cases {
            let v: RuntimeVersion = case.parse().unwrap_or_else(|e| panic!("{case}: {e}"));
            assert_eq!(v.to_string(), case);
        }
    }

    #[test]
    fn rejects_with_what_was_expected() {
        let cases = [
            ("", "it is empty"),
            ("5", "three dot-separated numbers"),
            ("5.0", "no build"),
            ("5.0.6.1", "three dot-separated numbers"),
            ("05.0.6", "leading zero"),
            ("5.0.x", "\"x\" where a number was expected"),
            ("5.0.6-", "empty pre-release"),
            ("5.0.6-rc_1", "letters and digits only"),
            // A misspelt tag suffix is not a pre-release.
            (
                "5.0.6-onbuild",
                "expected one starting with alpha, beta, rc, dev",
            ),
            ("5.0.6-latest.1", "expected one starting with alpha"),
            ("5.0.6-rc1-base", "letters and digits only"),
            ("3.1-x", "the build has \"x\""),
            ("3.1-", "the build has an empty number"),
            (" 5.0.6", "\" 5\" where a number"),
            ("5.0.6\n", "\"6\\n\" where a number"),
            ("99999999999999999999.0.0", "too large"),
        ];
        for (input, why) in cases {
            let err = input.parse::<RuntimeVersion>().unwrap_err().to_string();
            assert!(err.contains(why), "{input:?}: {err}");
            assert!(err.contains("expected a Runtime version like"), "{err}");
        }
    }

    #[test]
    fn orders_as_the_public_tooling() {
        let ordered = [
            "3.0.0",
            "4.2.9",
            "5.0.0-alpha",
            "5.0.0-rc.1",
            "5.0.0-rc.2",
            "5.0.0-rc.10",
            "5.0.0-rc1",
            "5.0.0-rc2",
            "5.0.0",
            "5.0.10",
            "5.1.0",
            "13.0.0",
            "3.0-1",
            "3.0-10",
            "3.1-1",
            "4.0-1",
        ];
        let parsed: Vec<RuntimeVersion> = ordered.iter().map(|s| s.parse().unwrap()).collect();
        for pair in parsed.windows(2) {
            assert!(pair[0] < pair[1], "{} < {}", pair[0], pair[1]);
        }
    }

    #[test]
    fn series_keys() {
        let v: RuntimeVersion = "5.0.6".parse().unwrap();
        assert_eq!(v.series(), SeriesKey::Major(5));
        assert_eq!(v.minor_series(), (5, 0));
        let b: RuntimeVersion = "3.1-12".parse().unwrap();
        assert_eq!(b.series(), SeriesKey::Airflow(3, 1));
        assert!(!b.is_prerelease());
        assert!(
            "5.0.0-rc1"
                .parse::<RuntimeVersion>()
                .unwrap()
                .is_prerelease()
        );
    }
}
