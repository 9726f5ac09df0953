//! Debian releases images are based on.

use std::fmt;
use std::str::FromStr;

use super::ParseError;

/// A Debian release by code name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DebianRelease {
    /// Debian 10.
    Buster,
    /// Debian 11, the base of every Airflow 2 Runtime image.
    Bullseye,
    /// Debian 12.
    Bookworm,
}

impl DebianRelease {
    /// The code name, as used in image tags (`python:3.9-slim-bullseye`).
    pub fn codename(self) -> &'static str {
        match self {
            DebianRelease::Buster => "buster",
            DebianRelease::Bullseye => "bullseye",
            DebianRelease::Bookworm => "bookworm",
        }
    }

    /// The release number.
    pub fn number(self) -> u8 {
        match self {
            DebianRelease::Buster => 10,
            DebianRelease::Bullseye => 11,
            DebianRelease::Bookworm => 12,
        }
    }
}

impl FromStr for DebianRelease {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, ParseError> {
        match s {
            "buster" => Ok(DebianRelease::Buster),
            "bullseye" => Ok(DebianRelease::Bullseye),
            "bookworm" => Ok(DebianRelease::Bookworm),
            _ => Err(ParseError::new(
                s,
                "a Debian code name: \"buster\", \"bullseye\" or \"bookworm\"",
                "it is not a known Debian release",
            )),
        }
    }
}

impl fmt::Display for DebianRelease {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.codename())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_reject() {
        for d in [
            DebianRelease::Buster,
            DebianRelease::Bullseye,
            DebianRelease::Bookworm,
        ] {
            assert_eq!(d.codename().parse::<DebianRelease>().unwrap(), d);
        }
        assert_eq!(DebianRelease::Bullseye.number(), 11);
        for bad in ["Bullseye", "bullseye ", "sid", ""] {
            let e = bad.parse::<DebianRelease>().unwrap_err().to_string();
            assert!(e.contains("expected a Debian code name"), "{e}");
        }
    }
}
