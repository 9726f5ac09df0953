//! Registry errors: what failed, against which registry, and what to do about it. None of them
//! carries a credential.

use std::error::Error as _;
use std::time::Duration;

use oci_client::errors::{OciDistributionError, OciErrorCode};

/// A registry operation that failed.
#[derive(Debug, thiserror::Error)]
#[error("{kind}")]
pub struct RegistryError {
    kind: Box<Kind>,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum Kind {
    #[error("invalid repository {input:?}: {why}; expected {expected}")]
    InvalidRepository {
        input: String,
        expected: &'static str,
        why: String,
    },
    #[error("credentials: {0}")]
    Credentials(String),
    #[error("{0}")]
    Options(String),
    #[error("cannot reach the registry {registry} while {what}: {why}")]
    Connect {
        registry: String,
        what: String,
        why: String,
    },
    #[error(
        "the registry {registry} answered in plain HTTP, not HTTPS, while {what}; pass --insecure to use plain HTTP with it (credentials and images then cross the network unencrypted)"
    )]
    PlainHttp { registry: String, what: String },
    #[error(
        "TLS with the registry {registry} failed while {what}: {why} (pass --ca-cert FILE to trust a private certificate authority)"
    )]
    Tls {
        registry: String,
        what: String,
        why: String,
    },
    #[error("the registry {registry} did not answer within {}s while {what}", after.as_secs_f64())]
    Timeout {
        registry: String,
        what: String,
        after: Duration,
    },
    #[error("the registry {registry} refused {credentials} while {what} (HTTP 401){hint}")]
    Unauthorized {
        registry: String,
        what: String,
        credentials: String,
        hint: &'static str,
    },
    #[error("the registry {registry} has no {what}")]
    NotFound { registry: String, what: String },
    #[error("the registry {registry} answered HTTP {status} while {what}: {message}")]
    Status {
        registry: String,
        what: String,
        status: u16,
        message: String,
    },
    #[error("the registry {registry} sent something unexpected while {what}: {why}")]
    Protocol {
        registry: String,
        what: String,
        why: String,
    },
    #[error("{0}")]
    Message(String),
    #[error(transparent)]
    Edit(#[from] crate::matrix::edit::EditError),
    #[error(transparent)]
    Plan(#[from] crate::tags::TagPlanError),
}

/// Where a request went and what it was for, to say so in errors.
#[derive(Clone, Debug)]
pub(crate) struct Context<'a> {
    pub registry: &'a str,
    pub what: String,
    pub credentials: String,
    pub anonymous: bool,
    pub timeout: Duration,
}

impl RegistryError {
    pub(crate) fn new(kind: Kind) -> Self {
        RegistryError {
            kind: Box::new(kind),
        }
    }

    pub(crate) fn invalid_repository(input: &str, expected: &'static str, why: &str) -> Self {
        RegistryError::new(Kind::InvalidRepository {
            input: input.chars().take(200).collect(),
            expected,
            why: why.to_string(),
        })
    }

    pub(crate) fn credentials(why: impl Into<String>) -> Self {
        RegistryError::new(Kind::Credentials(why.into()))
    }

    pub(crate) fn options(why: impl Into<String>) -> Self {
        RegistryError::new(Kind::Options(why.into()))
    }

    pub(crate) fn message(why: impl Into<String>) -> Self {
        RegistryError::new(Kind::Message(why.into()))
    }

    pub(crate) fn timeout(cx: &Context<'_>, after: Duration) -> Self {
        RegistryError::new(Kind::Timeout {
            registry: cx.registry.to_string(),
            what: cx.what.clone(),
            after,
        })
    }

    pub(crate) fn protocol(cx: &Context<'_>, why: impl Into<String>) -> Self {
        RegistryError::new(Kind::Protocol {
            registry: cx.registry.to_string(),
            what: cx.what.clone(),
            why: why.into(),
        })
    }

    /// True when the registry said the thing asked for does not exist (HTTP 404, or an OCI
    /// `MANIFEST_UNKNOWN` / `NAME_UNKNOWN` error).
    pub fn is_not_found(&self) -> bool {
        matches!(*self.kind, Kind::NotFound { .. })
    }

    /// True for a failure worth retrying: the registry unreachable, too slow, or a 5xx answer.
    pub fn is_transient(&self) -> bool {
        match &*self.kind {
            Kind::Connect { .. } | Kind::Timeout { .. } => true,
            Kind::Status { status, .. } => *status >= 500 || *status == 429,
            _ => false,
        }
    }

    /// True when the registry refused the credentials (or wanted some).
    pub fn is_unauthorized(&self) -> bool {
        matches!(*self.kind, Kind::Unauthorized { .. })
    }

    /// True when the registry did not answer in time.
    pub fn is_timeout(&self) -> bool {
        matches!(*self.kind, Kind::Timeout { .. })
    }

    /// Turns an oci-client error into one that says what failed and where.
    pub(crate) fn from_oci(cx: &Context<'_>, e: OciDistributionError) -> Self {
        let registry = cx.registry.to_string();
        let what = cx.what.clone();
        let unauthorized = || {
            RegistryError::new(Kind::Unauthorized {
                registry: registry.clone(),
                what: what.clone(),
                credentials: cx.credentials.clone(),
                hint: if cx.anonymous {
                    "; it needs credentials: set RUNTIME_KIT_REGISTRY_USERNAME and RUNTIME_KIT_REGISTRY_PASSWORD, or give it an \"auths\" entry in the Docker config.json (`docker login` without a credential helper writes one; credsStore and credHelpers are not read)"
                } else {
                    ""
                },
            })
        };
        let status = |status: u16, message: String| {
            RegistryError::new(Kind::Status {
                registry: registry.clone(),
                what: what.clone(),
                status,
                message: short(&message),
            })
        };
        match e {
            OciDistributionError::RequestError(r) => Self::from_reqwest(cx, &r),
            OciDistributionError::UnauthorizedError { .. }
            | OciDistributionError::AuthenticationFailure(_) => unauthorized(),
            OciDistributionError::ServerError { code, message, .. } => match code {
                401 | 403 => unauthorized(),
                404 => RegistryError::new(Kind::NotFound { registry, what }),
                _ => status(code, message),
            },
            OciDistributionError::RegistryError { envelope, .. } => {
                let codes: Vec<&OciErrorCode> = envelope.errors.iter().map(|e| &e.code).collect();
                if codes.iter().any(|c| {
                    matches!(
                        c,
                        OciErrorCode::ManifestUnknown
                            | OciErrorCode::NameUnknown
                            | OciErrorCode::NotFound
                            | OciErrorCode::BlobUnknown
                    )
                }) {
                    RegistryError::new(Kind::NotFound { registry, what })
                } else if codes
                    .iter()
                    .any(|c| matches!(c, OciErrorCode::Unauthorized | OciErrorCode::Denied))
                {
                    unauthorized()
                } else {
                    let message = envelope
                        .errors
                        .iter()
                        .map(|e| format!("{:?}: {}", e.code, e.message))
                        .collect::<Vec<_>>()
                        .join("; ");
                    status(400, message)
                }
            }
            OciDistributionError::ImageManifestNotFoundError(m) => {
                RegistryError::new(Kind::NotFound {
                    registry,
                    what: format!("{what} ({m})"),
                })
            }
            other => RegistryError::new(Kind::Protocol {
                registry,
                what,
                why: short(&other.to_string()),
            }),
        }
    }

    /// Turns a transport error into a connect, TLS or timeout error.
    pub(crate) fn from_reqwest(cx: &Context<'_>, r: &reqwest::Error) -> Self {
        let registry = cx.registry.to_string();
        let what = cx.what.clone();
        // The innermost causes say what happened ("Connection refused", "UnknownIssuer").
        let mut chain = Vec::new();
        let mut source = r.source();
        while let Some(s) = source {
            let text = s.to_string();
            if !chain.contains(&text) {
                chain.push(text);
            }
            source = s.source();
        }
        let why = if chain.is_empty() {
            r.to_string()
        } else {
            chain.join(": ")
        };
        let why = short(&strip_urls(&why));
        if r.is_timeout() {
            return RegistryError::new(Kind::Timeout {
                registry,
                what,
                after: cx.timeout,
            });
        }
        let lower = why.to_ascii_lowercase();
        // rustls reading a plain-HTTP answer as a TLS record: the host is there, without TLS.
        if lower.contains("invalidcontenttype") || lower.contains("corrupt message") {
            return RegistryError::new(Kind::PlainHttp { registry, what });
        }
        if lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake") {
            RegistryError::new(Kind::Tls {
                registry,
                what,
                why,
            })
        } else {
            RegistryError::new(Kind::Connect {
                registry,
                what,
                why,
            })
        }
    }
}

impl From<crate::matrix::edit::EditError> for RegistryError {
    fn from(e: crate::matrix::edit::EditError) -> Self {
        RegistryError::new(Kind::Edit(e))
    }
}

impl From<crate::tags::TagPlanError> for RegistryError {
    fn from(e: crate::tags::TagPlanError) -> Self {
        RegistryError::new(Kind::Plan(e))
    }
}

/// Drops URLs from transport messages: the error already names the registry, and a URL could
/// carry a query string nobody asked to see.
fn strip_urls(s: &str) -> String {
    s.split(' ')
        .filter(|w| !w.contains("://"))
        .collect::<Vec<_>>()
        .join(" ")
        .replace("(for url ())", "")
        .replace("  ", " ")
}

/// Keeps messages from a registry readable: one line, at most 300 characters.
fn short(s: &str) -> String {
    let one_line = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() > 300 {
        let mut cut: String = one_line.chars().take(300).collect();
        cut.push('…');
        cut
    } else {
        one_line
    }
}
