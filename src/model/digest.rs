//! Content digests of images (`sha256:<64 hex>`).

use std::fmt;
use std::str::FromStr;

use super::ParseError;

/// An OCI content digest, `sha256:` followed by 64 lowercase hex digits.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest(String);

impl Digest {
    /// The digest as text, `sha256:…`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Digest {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, ParseError> {
        let expected = "a digest like \"sha256:\" followed by 64 lowercase hex digits";
        let hex = s
            .strip_prefix("sha256:")
            .ok_or_else(|| ParseError::new(s, expected, "it does not start with \"sha256:\""))?;
        if hex.len() != 64 || !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(ParseError::new(
                s,
                expected,
                "its hash is not 64 lowercase hex digits",
            ));
        }
        Ok(Digest(s.to_string()))
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl serde::Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        let good = format!("sha256:{}", "a1".repeat(32));
        assert_eq!(good.parse::<Digest>().unwrap().as_str(), good);
        for bad in [
            "sha256:abc".to_string(),
            format!("sha512:{}", "a".repeat(64)),
            format!("sha256:{}", "A".repeat(64)),
            format!("sha256:{}\n", "a".repeat(64)),
        ] {
            assert!(bad.parse::<Digest>().is_err(), "{bad:?}");
        }
    }
}
