//! Registry credentials: anonymous, basic credentials from the environment, or Docker's
//! `config.json`. A password never reaches a log, an error or `Debug` output.

use std::fmt;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use oci_client::secrets::RegistryAuth;

use super::RegistryError;

/// Environment variable with the user name for the registry named on the command line.
pub const ENV_USERNAME: &str = "RUNTIME_KIT_REGISTRY_USERNAME";
/// Environment variable with the password (or token) for the registry named on the command line.
pub const ENV_PASSWORD: &str = "RUNTIME_KIT_REGISTRY_PASSWORD";

/// Where credentials came from (printed instead of the credentials themselves).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CredentialSource {
    /// No credentials.
    Anonymous,
    /// [`ENV_USERNAME`] and [`ENV_PASSWORD`].
    Environment,
    /// `auths.<host>` of a Docker `config.json`.
    DockerConfig(PathBuf),
    /// Given by the calling program.
    Explicit,
}

impl fmt::Display for CredentialSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CredentialSource::Anonymous => f.write_str("anonymous access"),
            CredentialSource::Environment => write!(f, "{ENV_USERNAME}/{ENV_PASSWORD}"),
            CredentialSource::DockerConfig(p) => write!(f, "{}", p.display()),
            CredentialSource::Explicit => f.write_str("credentials given by the caller"),
        }
    }
}

/// A password that prints as `<redacted>`.
#[derive(Clone, PartialEq, Eq)]
struct Secret(String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Credentials for one registry.
///
/// ```
/// use runtime_kit::registry::Credentials;
/// let c = Credentials::basic("alice", "s3cret");
/// assert_eq!(format!("{c:?}"), r#"Credentials { username: "alice", password: <redacted>, source: Explicit }"#);
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    basic: Option<(String, Secret)>,
    source: CredentialSource,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.basic {
            None => f
                .debug_struct("Credentials")
                .field("source", &self.source)
                .finish(),
            Some((user, password)) => f
                .debug_struct("Credentials")
                .field("username", user)
                .field("password", password)
                .field("source", &self.source)
                .finish(),
        }
    }
}

impl Credentials {
    /// No credentials.
    pub fn anonymous() -> Self {
        Credentials {
            basic: None,
            source: CredentialSource::Anonymous,
        }
    }

    /// Basic credentials given by the calling program.
    pub fn basic(username: impl Into<String>, password: impl Into<String>) -> Self {
        Credentials {
            basic: Some((username.into(), Secret(password.into()))),
            source: CredentialSource::Explicit,
        }
    }

    /// The credentials for registry `host` (`HOST[:PORT]`), looked up in this order:
    ///
    /// 1. when `use_env`: [`ENV_USERNAME`] and [`ENV_PASSWORD`] (both, or neither);
    /// 2. `auths.<host>` of `$DOCKER_CONFIG/config.json`, else `$HOME/.docker/config.json`
    ///    (`auth` = base64 of `user:password`, or `username` and `password`);
    /// 3. anonymous.
    ///
    /// `env` reads an environment variable (`|k| std::env::var(k).ok()` in a program). The
    /// environment credentials are meant for the registry the user named, so callers pass
    /// `use_env = false` for any other registry (e.g. Docker Hub for base images).
    pub fn discover(
        host: &str,
        use_env: bool,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Credentials, RegistryError> {
        if use_env {
            match (env(ENV_USERNAME), env(ENV_PASSWORD)) {
                (Some(user), Some(password)) if !user.is_empty() => {
                    return Ok(Credentials {
                        basic: Some((user, Secret(password))),
                        source: CredentialSource::Environment,
                    });
                }
                (None, None) => {}
                (Some(u), None) if u.is_empty() => {}
                _ => {
                    return Err(RegistryError::credentials(format!(
                        "set both {ENV_USERNAME} and {ENV_PASSWORD}, or neither"
                    )));
                }
            }
        }
        let config = match env("DOCKER_CONFIG") {
            Some(dir) if !dir.is_empty() => Some(PathBuf::from(dir).join("config.json")),
            _ => env("HOME").map(|h| PathBuf::from(h).join(".docker").join("config.json")),
        };
        if let Some(path) = config
            && path.is_file()
            && let Some(c) = Self::from_docker_config(&path, host)?
        {
            return Ok(c);
        }
        Ok(Credentials::anonymous())
    }

    /// The credentials `auths.<host>` of the Docker `config.json` at `path` gives, if any.
    /// Entries are matched by host, with or without a scheme or path (`https://host/v1/`);
    /// `docker.io` also matches Docker's `https://index.docker.io/v1/` key. Credential helpers
    /// (`credsStore`, `credHelpers`) and identity tokens are not used.
    pub fn from_docker_config(
        path: &Path,
        host: &str,
    ) -> Result<Option<Credentials>, RegistryError> {
        let bad = |why: String| {
            RegistryError::credentials(format!("Docker config {}: {why}", path.display()))
        };
        let text = crate::fsutil::read_input_string(path, crate::fsutil::DEFAULT_INPUT_LIMIT)
            .map_err(|e| bad(format!("cannot read it: {e}")))?;
        let json: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| bad(format!("not valid JSON: {e}")))?;
        let Some(auths) = json.get("auths").and_then(|a| a.as_object()) else {
            return Ok(None);
        };
        let wanted = normalize_host(host);
        let Some(entry) = auths
            .iter()
            .find(|(k, _)| normalize_host(k) == wanted)
            .map(|(_, v)| v)
        else {
            return Ok(None);
        };
        let field = |k: &str| {
            entry
                .get(k)
                .and_then(|v| v.as_str())
                .filter(|s| !s.is_empty())
        };
        let (user, password) = if let Some(auth) = field("auth") {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(auth.trim())
                .map_err(|_| bad(format!("auths.{host}.auth is not base64")))?;
            let decoded = String::from_utf8(decoded)
                .map_err(|_| bad(format!("auths.{host}.auth is not UTF-8 text")))?;
            let (u, p) = decoded
                .split_once(':')
                .ok_or_else(|| bad(format!("auths.{host}.auth is not \"user:password\"")))?;
            (u.to_string(), p.to_string())
        } else if let (Some(u), Some(p)) = (field("username"), field("password")) {
            (u.to_string(), p.to_string())
        } else {
            return Ok(None);
        };
        Ok(Some(Credentials {
            basic: Some((user, Secret(password))),
            source: CredentialSource::DockerConfig(path.to_path_buf()),
        }))
    }

    /// The user name, for basic credentials.
    pub fn username(&self) -> Option<&str> {
        self.basic.as_ref().map(|(u, _)| u.as_str())
    }

    /// Where the credentials came from.
    pub fn source(&self) -> &CredentialSource {
        &self.source
    }

    /// True for anonymous access.
    pub fn is_anonymous(&self) -> bool {
        self.basic.is_none()
    }

    /// A description safe to print: never the password.
    pub fn describe(&self) -> String {
        match &self.basic {
            None => "anonymous access".to_string(),
            Some((user, _)) => format!("the credentials of {user:?} from {}", self.source),
        }
    }

    pub(crate) fn to_oci(&self) -> RegistryAuth {
        match &self.basic {
            None => RegistryAuth::Anonymous,
            Some((u, p)) => RegistryAuth::Basic(u.clone(), p.0.clone()),
        }
    }
}

/// `https://index.docker.io/v1/` → `docker.io`; `http://host:5000/` → `host:5000`.
fn normalize_host(key: &str) -> String {
    let k = key
        .trim()
        .trim_start_matches("https://")
        .trim_start_matches("http://");
    let k = k.split('/').next().unwrap_or_default().to_ascii_lowercase();
    match k.as_str() {
        "index.docker.io" | "registry-1.docker.io" => "docker.io".to_string(),
        _ => k,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn environment_first_and_both_or_neither() {
        let c = Credentials::discover(
            "r.example.com",
            true,
            env(&[(ENV_USERNAME, "bob"), (ENV_PASSWORD, "hunter2")]),
        )
        .unwrap();
        assert_eq!(c.username(), Some("bob"));
        assert_eq!(c.source(), &CredentialSource::Environment);
        let shown = format!("{c:?} {}", c.describe());
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("<redacted>"), "{shown}");

        let e = Credentials::discover("r.example.com", true, env(&[(ENV_USERNAME, "bob")]))
            .unwrap_err();
        assert!(e.to_string().contains("both"), "{e}");
        let e = Credentials::discover("r.example.com", true, env(&[(ENV_PASSWORD, "hunter2")]))
            .unwrap_err();
        assert!(!e.to_string().contains("hunter2"), "{e}");

        // Not for another registry.
        let c = Credentials::discover(
            "r.example.com",
            false,
            env(&[(ENV_USERNAME, "bob"), (ENV_PASSWORD, "hunter2")]),
        )
        .unwrap();
        assert!(c.is_anonymous());
    }

    #[test]
    fn docker_config() {
        let dir = std::env::temp_dir().join(format!("rk-auth-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let auth = base64::engine::general_purpose::STANDARD.encode("carol:pa:ss");
        std::fs::write(
            dir.join("config.json"),
            format!(
                r#"{{"auths": {{
                    "https://index.docker.io/v1/": {{"auth": "{auth}"}},
                    "http://127.0.0.1:5000": {{"username": "dave", "password": "pw"}},
                    "ghcr.io": {{"identitytoken": "x"}}
                }}, "credsStore": "desktop"}}"#
            ),
        )
        .unwrap();
        let dc = dir.to_string_lossy().to_string();
        let lookup = env(&[("DOCKER_CONFIG", &dc)]);
        let hub = Credentials::discover("docker.io", true, &lookup).unwrap();
        assert_eq!(hub.username(), Some("carol"));
        assert_eq!(
            hub.to_oci(),
            RegistryAuth::Basic("carol".into(), "pa:ss".into())
        );
        assert!(matches!(hub.source(), CredentialSource::DockerConfig(_)));
        let local = Credentials::discover("127.0.0.1:5000", true, &lookup).unwrap();
        assert_eq!(local.username(), Some("dave"));
        assert!(!format!("{local:?}").contains("\"pw\""));
        assert!(
            Credentials::discover("ghcr.io", true, &lookup)
                .unwrap()
                .is_anonymous()
        );
        assert!(
            Credentials::discover("quay.io", true, &lookup)
                .unwrap()
                .is_anonymous()
        );

        std::fs::write(dir.join("config.json"), "{not json").unwrap();
        let e = Credentials::discover("quay.io", true, &lookup).unwrap_err();
        assert!(e.to_string().contains("not valid JSON"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
