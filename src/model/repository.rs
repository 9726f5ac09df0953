//! Image repositories: `HOST[:PORT]/PATH`, the one parser for the matrix's `repository` keys,
//! `--repo` and every registry operation.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use super::ParseError;

/// A repository in a registry, e.g. `quay.io/astronomer/astro-runtime` or
/// `127.0.0.1:5000/runtime`: a registry host (a name with a dot or a port, `localhost`, or an
/// address) and a path of lowercase components, without tag, digest, scheme or credentials.
///
/// ```
/// use runtime_kit::model::Repository;
/// let r: Repository = "127.0.0.1:5000/astro/runtime".parse().unwrap();
/// assert_eq!((r.host(), r.path()), ("127.0.0.1:5000", "astro/runtime"));
/// assert!(r.is_loopback());
/// assert!("runtime".parse::<Repository>().is_err());
/// // Credentials in the name are refused without being repeated.
/// let e = "alice:s3cret@127.0.0.1:5000/runtime".parse::<Repository>().unwrap_err();
/// assert!(!e.to_string().contains("s3cret"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Repository {
    host: String,
    path: String,
}

const EXPECTED: &str =
    "a repository like \"quay.io/astronomer/astro-runtime\" or \"127.0.0.1:5000/runtime\"";

impl Repository {
    /// A repository from a registry host (`HOST[:PORT]`) and a path, both checked.
    pub fn new(host: &str, path: &str) -> Result<Repository, ParseError> {
        format!("{host}/{path}").parse()
    }

    /// The registry: `HOST[:PORT]`.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The repository path inside the registry.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Whether the registry is on this machine (`localhost`, `127.0.0.0/8`, `[::1]`).
    pub fn is_loopback(&self) -> bool {
        is_loopback(&self.host)
    }
}

impl FromStr for Repository {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, ParseError> {
        // Credentials written into the repository (`user:password@host/...`) are never echoed.
        let host_part = s.split('/').next().unwrap_or(s);
        if let Some((_, rest)) = s.split_once('@')
            && host_part.contains('@')
        {
            return Err(ParseError::new(
                &format!("***@{rest}"),
                EXPECTED,
                "it holds credentials; pass them in RUNTIME_KIT_REGISTRY_USERNAME and RUNTIME_KIT_REGISTRY_PASSWORD or a Docker config.json, never in a repository name",
            ));
        }
        let err = |why: &str| ParseError::new(s, EXPECTED, why);
        let (host, path) = s
            .split_once('/')
            .ok_or_else(|| err("it has no registry host before a '/'"))?;
        if s.contains("://") {
            return Err(err("it has a URL scheme; give HOST/PATH only"));
        }
        if let Err(why) = check_host(host) {
            return Err(err(&format!("{host:?} is not a registry host: {why}")));
        }
        let component_ok = |c: &str| {
            !c.is_empty()
                && c.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
                })
                && c.as_bytes()[0].is_ascii_alphanumeric()
                && c.as_bytes()[c.len() - 1].is_ascii_alphanumeric()
        };
        if path.contains(':') || path.contains('@') {
            return Err(err("it has a tag or digest; give the repository only"));
        }
        if let Some(bad) = path.split('/').find(|c| !component_ok(c)) {
            return Err(err(&format!(
                "path component {bad:?} is not lowercase letters, digits and . _ - between them"
            )));
        }
        Ok(Repository {
            host: host.to_string(),
            path: path.to_string(),
        })
    }
}

/// Checks a registry host as image references have it: `NAME[:PORT]` with `NAME` dot-separated
/// labels of letters, digits and inner `-` (holding a dot, or with a port, or `localhost`), or
/// `[IPV6][:PORT]`. Says what is wrong otherwise.
fn check_host(host: &str) -> Result<(), String> {
    let port_ok = |p: &str| {
        !p.is_empty()
            && p.len() <= 5
            && p.bytes().all(|b| b.is_ascii_digit())
            && p.parse::<u16>().is_ok_and(|n| n > 0)
    };
    if let Some(rest) = host.strip_prefix('[') {
        let (addr, after) = rest
            .split_once(']')
            .ok_or("an IPv6 address opened with '[' is not closed with ']'")?;
        if addr.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(format!(
                "{addr:?} between '[' and ']' is not an IPv6 address"
            ));
        }
        return match after {
            "" => Ok(()),
            _ => match after.strip_prefix(':') {
                Some(p) if port_ok(p) => Ok(()),
                _ => Err(format!("{after:?} after the address is not ':' and a port")),
            },
        };
    }
    let (name, port) = match host.rsplit_once(':') {
        Some((name, port)) => {
            if !port_ok(port) {
                return Err(format!("{port:?} is not a port (1 to 65535)"));
            }
            (name, Some(port))
        }
        None => (host, None),
    };
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if let Some(bad) = name.split('.').find(|l| !label_ok(l)) {
        return Err(format!(
            "{bad:?} is not a host name label (letters, digits and '-' between them)"
        ));
    }
    if !(name.contains('.') || port.is_some() || name == "localhost") {
        return Err("expected a name with a dot or a port, or localhost".to_string());
    }
    Ok(())
}

impl fmt::Display for Repository {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.host, self.path)
    }
}

impl serde::Serialize for Repository {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Whether a registry host (`HOST[:PORT]`) is on this machine: `localhost`, an address in
/// `127.0.0.0/8`, or `[::1]`.
pub fn is_loopback(host: &str) -> bool {
    let name = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or_default()
    } else {
        host.rsplit_once(':').map_or(host, |(h, _)| h)
    };
    name.eq_ignore_ascii_case("localhost")
        || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        for h in [
            "localhost",
            "localhost:5000",
            "127.0.0.1",
            "127.0.0.1:5000",
            "127.9.9.9:1",
            "[::1]:5000",
        ] {
            assert!(is_loopback(h), "{h}");
        }
        for h in [
            "quay.io",
            "10.0.0.1:5000",
            "localhost.example.com",
            "128.0.0.1",
        ] {
            assert!(!is_loopback(h), "{h}");
        }
    }

    #[test]
    fn repositories() {
        let ok = [
            "quay.io/astronomer/astro-runtime",
            "127.0.0.1:5000/runtime",
            "localhost/a",
            "[::1]:5000/a/b",
            "[::1]/a",
            "registry.example.com:5000/runtime",
            "Quay.IO/astronomer/astro-runtime",
        ];
        for r in ok {
            assert_eq!(r.parse::<Repository>().unwrap().to_string(), r);
        }
        let bad = [
            ("runtime", "no registry host"),
            ("quay/runtime", "not a registry host"),
            ("https://quay.io/x", "URL scheme"),
            ("quay.io/Runtime", "path component"),
            ("quay.io/x:5.0.6", "tag or digest"),
            ("quay.io/", "path component"),
            ("quay.io/a//b", "path component"),
            // What the render fuzzer slipped into a FROM line, and its kin.
            (
                "quay.]]]]io/astronomer/astro-runtime",
                "not a host name label",
            ),
            ("quay..io/x", "not a host name label"),
            ("-quay.io/x", "not a host name label"),
            ("quay.io:/x", "not a port"),
            ("quay.io:99999/x", "not a port"),
            ("quay.io:5000:1/x", "not a host name label"),
            ("[::1/x", "not closed"),
            ("[zz]:5000/x", "not an IPv6 address"),
            ("[::1]x/y", "not ':' and a port"),
        ];
        for (r, why) in bad {
            let e = r.parse::<Repository>().unwrap_err().to_string();
            assert!(e.contains(why), "{r}: {e}");
        }
    }
}
