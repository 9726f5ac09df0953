//! Python `X.Y` versions of images.

use std::fmt;
use std::str::FromStr;

use super::ParseError;
use super::version::number;

/// A Python minor version such as `3.9`: the interpreter an image is built on.
///
/// ```
/// use runtime_kit::model::PythonVersion;
/// let v: PythonVersion = "3.10".parse().unwrap();
/// assert!(v > "3.9".parse().unwrap());
/// assert!("3.10.1".parse::<PythonVersion>().is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PythonVersion {
    /// Major version (3).
    pub major: u8,
    /// Minor version.
    pub minor: u8,
}

const EXPECTED: &str = "a Python version like \"3.9\" or \"3.11\"";

impl FromStr for PythonVersion {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, ParseError> {
        let err = |why: &str| ParseError::new(s, EXPECTED, why);
        let (major, minor) = s
            .split_once('.')
            .ok_or_else(|| err("it is not two dot-separated numbers"))?;
        let small = |part: &str| -> Result<u8, ParseError> {
            let n = number(part).map_err(|w| err(&format!("it {w}")))?;
            u8::try_from(n).map_err(|_| err(&format!("{n} is too large")))
        };
        let v = PythonVersion {
            major: small(major)?,
            minor: small(minor)?,
        };
        if v.major < 2 {
            return Err(err("no Python of that major version exists"));
        }
        Ok(v)
    }
}

impl fmt::Display for PythonVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

impl serde::Serialize for PythonVersion {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        let ok = [
            ("3.9", (3, 9)),
            ("3.10", (3, 10)),
            ("3.11", (3, 11)),
            ("2.7", (2, 7)),
        ];
        for (s, (ma, mi)) in ok {
            let v: PythonVersion = s.parse().unwrap();
            assert_eq!((v.major, v.minor), (ma, mi));
            assert_eq!(v.to_string(), s);
        }
        let bad = [
            ("3", "two dot-separated"),
            ("3.9.1", "\"9.1\" where a number"),
            ("3.09", "leading zero"),
            ("3.x", "\"x\" where"),
            ("300.1", "too large"),
            ("1.0", "no Python"),
            ("3.9 ", "\"9 \""),
        ];
        for (s, why) in bad {
            let e = s.parse::<PythonVersion>().unwrap_err().to_string();
            assert!(
                e.contains(why) && e.contains("expected a Python version"),
                "{s}: {e}"
            );
        }
    }
}
