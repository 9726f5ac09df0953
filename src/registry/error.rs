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
    #[error("TLS with the registry {registry} failed while {what}: {why}{}", problem.hint())]
    Tls {
        registry: String,
        what: String,
        why: String,
        problem: TlsProblem,
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
    #[error(
        "the registry {registry} answered HTTP {status} while {what}{}",
        colon(message)
    )]
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

/// What kind of failure a [`RegistryError`] is, to act on without reading its message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A repository, an option or the credentials were refused before any request.
    InvalidInput,
    /// The registry could not be reached: nothing listening, the host unknown, the connection
    /// reset or closed before an answer (also during the TLS handshake).
    Connect,
    /// The host answered plain HTTP (or something else that is not TLS) where HTTPS was
    /// expected; `--insecure` allows plain HTTP.
    PlainHttp,
    /// The registry's certificate is not signed by a trusted certificate authority; `--ca-cert`
    /// trusts a private one.
    UntrustedCertificate,
    /// The registry's certificate was refused for another reason: expired or not yet valid, not
    /// for this host name, revoked, badly encoded, not for a server.
    InvalidCertificate,
    /// TLS failed otherwise: an alert from the registry, no protocol version or cipher suite in
    /// common, a malformed handshake.
    Tls,
    /// The registry did not answer in time.
    Timeout,
    /// The registry refused the credentials, or wanted some.
    Unauthorized,
    /// The registry has no such repository, tag, manifest or blob.
    NotFound,
    /// The registry answered this HTTP status (neither 401 nor 404).
    Status(u16),
    /// The registry answered something the client could not use (a bad manifest or digest).
    Protocol,
    /// Anything else: a refused promotion, a matrix that could not be edited, a tag plan error.
    Other,
}

/// What about TLS failed, which decides the advice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TlsProblem {
    /// No trusted authority signed the certificate.
    Untrusted,
    /// The certificate is bad in another way (a trusted CA does not fix it).
    Certificate,
    /// The handshake failed before or besides the certificate.
    Handshake,
}

impl TlsProblem {
    fn hint(self) -> &'static str {
        match self {
            TlsProblem::Untrusted => {
                " (pass --ca-cert FILE to trust a private certificate authority)"
            }
            TlsProblem::Certificate | TlsProblem::Handshake => "",
        }
    }
}

/// What the causes of a transport error say happened, read from their types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cause {
    Timeout,
    PlainHttp,
    Tls(TlsProblem),
    /// Everything else: refused, reset, closed, unknown host. No cause of a transport error
    /// that is not one of the above points at the registry's TLS or protocol.
    Connect,
}

impl Cause {
    /// Walks the causes of `r`: reqwest's own flags, then every `source()`. An `io::Error`
    /// wrapping another error (tokio-rustls wraps each `rustls::Error` in one) forwards
    /// `source()` to the wrapped error's source, skipping the wrapped error itself, so it is
    /// opened with `get_ref()` instead.
    fn of(r: &reqwest::Error) -> Cause {
        if r.is_timeout() {
            return Cause::Timeout;
        }
        Cause::of_chain(r.source())
    }

    fn of_chain(mut next: Option<&(dyn std::error::Error + 'static)>) -> Cause {
        while let Some(e) = next {
            if let Some(tls) = e.downcast_ref::<rustls::Error>() {
                return Cause::of_tls(tls);
            }
            next = match e.downcast_ref::<std::io::Error>() {
                Some(io) if io.kind() == std::io::ErrorKind::TimedOut => return Cause::Timeout,
                Some(io) => match io.get_ref() {
                    Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
                    None => io.source(),
                },
                None => e.source(),
            };
        }
        Cause::Connect
    }

    fn of_tls(e: &rustls::Error) -> Cause {
        use rustls::{CertificateError, Error, InvalidMessage};
        match e {
            // The first byte of a record is its content type; an HTTP answer starts with 'H',
            // which is none. (Any peer that does not speak TLS gets here; registries that do
            // not speak TLS speak HTTP.)
            Error::InvalidMessage(InvalidMessage::InvalidContentType) => Cause::PlainHttp,
            Error::InvalidCertificate(CertificateError::UnknownIssuer) => {
                Cause::Tls(TlsProblem::Untrusted)
            }
            Error::InvalidCertificate(_)
            | Error::NoCertificatesPresented
            | Error::InvalidCertRevocationList(_) => Cause::Tls(TlsProblem::Certificate),
            _ => Cause::Tls(TlsProblem::Handshake),
        }
    }
}

/// `": message"`, or nothing for an answer that said nothing.
fn colon(message: &str) -> String {
    if message.is_empty() {
        String::new()
    } else {
        format!(": {message}")
    }
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

    /// The registry answered `status`; `message` says what it said, or is empty.
    pub(crate) fn status(cx: &Context<'_>, status: u16, message: impl Into<String>) -> Self {
        RegistryError::new(Kind::Status {
            registry: cx.registry.to_string(),
            what: cx.what.clone(),
            status,
            message: message.into(),
        })
    }

    pub(crate) fn protocol(cx: &Context<'_>, why: impl Into<String>) -> Self {
        RegistryError::new(Kind::Protocol {
            registry: cx.registry.to_string(),
            what: cx.what.clone(),
            why: why.into(),
        })
    }

    /// What kind of failure this is: the advice its message gives, as a value.
    pub fn kind(&self) -> ErrorKind {
        match &*self.kind {
            Kind::InvalidRepository { .. } | Kind::Credentials(_) | Kind::Options(_) => {
                ErrorKind::InvalidInput
            }
            Kind::Connect { .. } => ErrorKind::Connect,
            Kind::PlainHttp { .. } => ErrorKind::PlainHttp,
            Kind::Tls { problem, .. } => match problem {
                TlsProblem::Untrusted => ErrorKind::UntrustedCertificate,
                TlsProblem::Certificate => ErrorKind::InvalidCertificate,
                TlsProblem::Handshake => ErrorKind::Tls,
            },
            Kind::Timeout { .. } => ErrorKind::Timeout,
            Kind::Unauthorized { .. } => ErrorKind::Unauthorized,
            Kind::NotFound { .. } => ErrorKind::NotFound,
            Kind::Status { status, .. } => ErrorKind::Status(*status),
            Kind::Protocol { .. } => ErrorKind::Protocol,
            Kind::Message(_) | Kind::Edit(_) | Kind::Plan(_) => ErrorKind::Other,
        }
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
        let status =
            |status: u16, message: String| RegistryError::status(cx, status, short(&message));
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

    /// Turns a transport error into a connect, plain-HTTP, TLS or timeout error, as the types of
    /// its causes say (see [`ErrorKind`]); their messages only make up the "why".
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
        RegistryError::new(match Cause::of(r) {
            Cause::Timeout => Kind::Timeout {
                registry,
                what,
                after: cx.timeout,
            },
            Cause::PlainHttp => Kind::PlainHttp { registry, what },
            Cause::Tls(problem) => Kind::Tls {
                registry,
                what,
                why,
                problem,
            },
            Cause::Connect => Kind::Connect {
                registry,
                what,
                why,
            },
        })
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

#[cfg(test)]
mod tests {
    use super::*;

    /// An error with a source, as hyper-util's connect error wraps the connector's.
    #[derive(Debug, thiserror::Error)]
    #[error("client error (Connect)")]
    struct Outer(#[source] std::io::Error);

    fn cause(e: std::io::Error) -> Cause {
        let outer = Outer(e);
        Cause::of_chain(Some(&outer))
    }

    #[test]
    fn a_rustls_error_inside_an_io_error_is_found() {
        use rustls::{CertificateError, Error, InvalidMessage};
        let wrapped = |e: Error| std::io::Error::new(std::io::ErrorKind::InvalidData, e);
        assert_eq!(
            cause(wrapped(Error::InvalidMessage(
                InvalidMessage::InvalidContentType
            ))),
            Cause::PlainHttp
        );
        assert_eq!(
            cause(wrapped(Error::InvalidCertificate(
                CertificateError::UnknownIssuer
            ))),
            Cause::Tls(TlsProblem::Untrusted)
        );
        assert_eq!(
            cause(wrapped(Error::InvalidCertificate(
                CertificateError::Expired
            ))),
            Cause::Tls(TlsProblem::Certificate)
        );
        // Other corrupt records are a TLS peer misbehaving, not plain HTTP.
        assert_eq!(
            cause(wrapped(Error::InvalidMessage(
                InvalidMessage::MessageTooLarge
            ))),
            Cause::Tls(TlsProblem::Handshake)
        );
    }

    #[test]
    fn io_errors_without_tls_are_connect_or_timeout() {
        use std::io::{Error, ErrorKind};
        assert_eq!(cause(ErrorKind::ConnectionRefused.into()), Cause::Connect);
        // tokio-rustls's words for a peer that hangs up mid-handshake: no certificate involved.
        assert_eq!(
            cause(Error::new(ErrorKind::UnexpectedEof, "tls handshake eof")),
            Cause::Connect
        );
        assert_eq!(cause(ErrorKind::TimedOut.into()), Cause::Timeout);
    }
}
