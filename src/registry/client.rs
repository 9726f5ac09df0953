//! One repository of one registry, over oci-client: transport choice, credentials, timeouts,
//! retries and tag-list pagination.

use super::reference::OciReference;
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::time::Duration;

use bytes::Bytes;
use oci_client::Client;
use oci_client::RegistryOperation;
use oci_client::client::{Certificate, CertificateEncoding, ClientConfig, ClientProtocol};
use oci_client::manifest::{
    IMAGE_MANIFEST_LIST_MEDIA_TYPE, IMAGE_MANIFEST_MEDIA_TYPE, OCI_IMAGE_INDEX_MEDIA_TYPE,
    OCI_IMAGE_MEDIA_TYPE, OciDescriptor, OciManifest,
};
use oci_client::secrets::RegistryAuth;
use oci_client::token_cache::RegistryTokenType;

use super::error::{Context, ErrorKind};
use super::{Credentials, RegistryError, Repository, is_loopback};
use crate::model::Digest;

/// Manifest media types asked for: Docker v2 and OCI, single images and indexes.
const ACCEPT: &[&str] = &[
    OCI_IMAGE_INDEX_MEDIA_TYPE,
    OCI_IMAGE_MEDIA_TYPE,
    IMAGE_MANIFEST_LIST_MEDIA_TYPE,
    IMAGE_MANIFEST_MEDIA_TYPE,
];

/// How a [`RegistryClient`] talks to its registry.
#[derive(Clone, Debug)]
pub struct ClientOptions {
    /// Allow plain HTTP for any host (it is always allowed for loopback hosts). HTTPS is still
    /// tried first.
    pub insecure: bool,
    /// Extra certificate authorities to trust, PEM encoded (a private registry's CA).
    pub ca_certs: Vec<Vec<u8>>,
    /// Longest wait for one request, including its body.
    pub timeout: Duration,
    /// Retries of a request that failed transiently (unreachable, timed out, HTTP 5xx or 429).
    pub retries: u32,
    /// Requests in flight at once.
    pub jobs: usize,
    /// Tags asked for per page of the tag list.
    pub page_size: usize,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            insecure: false,
            ca_certs: Vec::new(),
            timeout: Duration::from_secs(30),
            retries: 2,
            jobs: 16,
            page_size: 1000,
        }
    }
}

/// The protocol chosen for a registry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// TLS (the default).
    Https,
    /// Plain HTTP: loopback hosts, or `insecure`, when the registry does not speak TLS.
    Http,
}

/// One image as the registry holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageInfo {
    /// Digest of the manifest the tag points at (the index, for a multi-platform image).
    pub digest: Digest,
    /// The image config's labels (of the linux/amd64 image, for a multi-platform image).
    pub labels: BTreeMap<String, String>,
}

/// A manifest exactly as stored, to be copied byte for byte under another tag.
#[derive(Clone, Debug)]
pub(crate) struct RawManifest {
    pub bytes: Bytes,
    pub digest: Digest,
    pub media_type: String,
}

/// A client bound to one repository. Cheap to clone.
#[derive(Clone)]
pub struct RegistryClient {
    repo: Repository,
    client: Client,
    auth: RegistryAuth,
    credentials: Credentials,
    transport: Transport,
    options: ClientOptions,
}

impl std::fmt::Debug for RegistryClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryClient")
            .field("repository", &self.repo)
            .field("credentials", &self.credentials)
            .field("transport", &self.transport)
            .field("options", &self.options)
            .finish()
    }
}

impl RegistryClient {
    /// Connects to the registry of `repo`: HTTPS, or, for a loopback host or with
    /// `options.insecure`, plain HTTP when the registry does not answer over TLS.
    pub async fn connect(
        repo: Repository,
        credentials: Credentials,
        options: ClientOptions,
    ) -> Result<RegistryClient, RegistryError> {
        if options.jobs == 0 || options.page_size == 0 {
            return Err(RegistryError::options(
                "jobs and page size must be at least 1",
            ));
        }
        // The first contact is retried like every request: a registry still starting up, or a
        // network blip, is not a verdict.
        let mut attempt = 0;
        let (transport, anonymous_status) = loop {
            match probe(&repo, &credentials, &options).await {
                Ok(found) => break found,
                Err(e) if e.is_transient() && attempt < options.retries => {
                    tokio::time::sleep(Duration::from_millis(100 << attempt.min(5))).await;
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        };
        let config = ClientConfig {
            protocol: match transport {
                Transport::Https => ClientProtocol::Https,
                Transport::Http => ClientProtocol::Http,
            },
            extra_root_certificates: options
                .ca_certs
                .iter()
                .map(|pem| Certificate {
                    encoding: CertificateEncoding::Pem,
                    data: pem.clone(),
                })
                .collect(),
            read_timeout: Some(options.timeout),
            connect_timeout: Some(options.timeout),
            user_agent: concat!("runtime-kit/", env!("CARGO_PKG_VERSION")),
            // Indexes are resolved here (see `image`), never by the client.
            platform_resolver: None,
            ..ClientConfig::default()
        };
        let client = Client::try_from(config)
            .map_err(|e| RegistryError::options(format!("cannot set up the HTTP client: {e}")))?;
        let auth = credentials.to_oci();
        // Some calls (manifest pushes) only use stored credentials.
        let reference = repo.reference("x");
        client
            .store_auth_if_needed(reference.resolve_registry(), &auth)
            .await;
        // oci-client caches tokens but not their absence: with anonymous access to a registry
        // that asks for none, it would call /v2/ again before every request, doubling them.
        // `/v2/` answered 200 to an anonymous request, so the registry does no access control
        // at all and ignores an Authorization header: cache an empty basic token instead.
        if credentials.is_anonymous() && anonymous_status == 200 {
            for op in [RegistryOperation::Pull, RegistryOperation::Push] {
                client
                    .tokens
                    .insert(
                        &reference,
                        op,
                        RegistryTokenType::Basic(String::new(), String::new()),
                    )
                    .await;
            }
        }
        Ok(RegistryClient {
            repo,
            client,
            auth,
            credentials,
            transport,
            options,
        })
    }

    /// The repository this client reads and writes.
    pub fn repository(&self) -> &Repository {
        &self.repo
    }

    /// The protocol in use.
    pub fn transport(&self) -> Transport {
        self.transport
    }

    /// The options it was made with.
    pub fn options(&self) -> &ClientOptions {
        &self.options
    }

    /// Every tag of the repository, sorted, following the tag list page by page (`?n=&last=`).
    /// A repository the registry does not know has no tags.
    pub async fn tags(&self) -> Result<Vec<String>, RegistryError> {
        let reference = self.repo.reference("latest");
        let n = self.options.page_size;
        let mut all = BTreeSet::new();
        let mut last: Option<String> = None;
        loop {
            let what = match &last {
                None => format!("listing the tags of {}", self.repo),
                Some(l) => format!("listing the tags of {} after {l:?}", self.repo),
            };
            let page = self
                .call(what, || {
                    self.client
                        .list_tags(&reference, &self.auth, Some(n), last.as_deref())
                })
                .await;
            let page = match page {
                Ok(p) => p.tags,
                Err(e) if e.is_not_found() && last.is_none() => return Ok(Vec::new()),
                Err(e) => return Err(e),
            };
            let count = page.len();
            let before = all.len();
            let max = page.iter().max().cloned();
            all.extend(page);
            // An empty page is past the end. A short page is not necessarily the last (quay.io
            // caps pages at 100 whatever `n` asks), so the next one is asked for too. A page
            // longer than asked for means the registry does not paginate (Distribution 2.8
            // returns every tag), and a page with nothing new means it ignores `last`: either
            // way everything has been seen.
            if count == 0 || count > n || all.len() == before {
                break;
            }
            last = max;
        }
        Ok(all.into_iter().collect())
    }

    /// The digest `tag` points at, or `None` when the tag does not exist.
    pub async fn digest(&self, tag: &str) -> Result<Option<Digest>, RegistryError> {
        let reference = self.repo.reference(tag);
        let what = format!("resolving {}:{tag}", self.repo);
        let r = self
            .call(what.clone(), || {
                self.client.fetch_manifest_digest(&reference, &self.auth)
            })
            .await;
        match r {
            Ok(d) => Ok(Some(self.parse_digest(&what, &d)?)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The manifest digest and config labels of `tag`, or `None` when the tag does not exist.
    pub async fn image(&self, tag: &str) -> Result<Option<ImageInfo>, RegistryError> {
        let Some(top) = self.manifest(tag).await? else {
            return Ok(None);
        };
        let what = format!("reading the manifest of {}:{tag}", self.repo);
        let config = match parse_manifest(&self.cx(what.clone()), &top.bytes)? {
            OciManifest::Image(m) => m.config,
            OciManifest::ImageIndex(index) => {
                let chosen = oci_client::client::linux_amd64_resolver(&index.manifests)
                    .or_else(|| index.manifests.first().map(|m| m.digest.clone()))
                    .ok_or_else(|| {
                        RegistryError::protocol(&self.cx(what.clone()), "the image index is empty")
                    })?;
                let reference = self.repo.reference_by_digest(&chosen);
                let inner = self
                    .call(format!("{what} ({chosen})"), || {
                        self.client
                            .pull_manifest_raw(&reference, &self.auth, ACCEPT)
                    })
                    .await?;
                match parse_manifest(&self.cx(what.clone()), &inner.0)? {
                    OciManifest::Image(m) => m.config,
                    OciManifest::ImageIndex(_) => {
                        return Err(RegistryError::protocol(
                            &self.cx(what),
                            "an image index points at another index",
                        ));
                    }
                }
            }
        };
        let labels = self.labels(tag, &config).await?;
        Ok(Some(ImageInfo {
            digest: top.digest,
            labels,
        }))
    }

    /// The manifest `tag` points at, byte for byte, or `None` when the tag does not exist.
    pub(crate) async fn manifest(&self, tag: &str) -> Result<Option<RawManifest>, RegistryError> {
        let reference = self.repo.reference(tag);
        let what = format!("fetching the manifest of {}:{tag}", self.repo);
        let r = self
            .call(what.clone(), || {
                self.client
                    .pull_manifest_raw(&reference, &self.auth, ACCEPT)
            })
            .await;
        let (bytes, digest) = match r {
            Ok(x) => x,
            Err(e) if e.is_not_found() => return Ok(None),
            Err(e) => return Err(e),
        };
        let digest = self.parse_digest(&what, &digest)?;
        let media_type = media_type(&self.cx(what), &bytes)?;
        Ok(Some(RawManifest {
            bytes,
            digest,
            media_type,
        }))
    }

    /// Stores `manifest` under `tag` (the blobs it names are already in the repository).
    pub(crate) async fn put_manifest(
        &self,
        tag: &str,
        manifest: &RawManifest,
    ) -> Result<(), RegistryError> {
        let reference = self.repo.reference(tag);
        let what = format!("pointing {}:{tag} at {}", self.repo, manifest.digest);
        let content_type = reqwest::header::HeaderValue::from_str(&manifest.media_type)
            .map_err(|_| RegistryError::protocol(&self.cx(what.clone()), "bad media type"))?;
        self.call(what, || {
            self.client
                .push_manifest_raw(&reference, manifest.bytes.clone(), content_type.clone())
        })
        .await?;
        Ok(())
    }

    async fn labels(
        &self,
        tag: &str,
        config: &OciDescriptor,
    ) -> Result<BTreeMap<String, String>, RegistryError> {
        let reference = self.repo.reference(tag);
        let what = format!("reading the image config of {}:{tag}", self.repo);
        let bytes = self
            .call(what.clone(), || async {
                let mut out: Vec<u8> = Vec::new();
                self.client
                    .pull_blob(&reference, config, &mut out)
                    .await
                    .map(|()| out)
            })
            .await?;
        let json: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| {
            RegistryError::protocol(&self.cx(what.clone()), format!("config is not JSON: {e}"))
        })?;
        let labels = json
            .get("config")
            .and_then(|c| c.get("Labels"))
            .and_then(|l| l.as_object())
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
                    .collect()
            })
            .unwrap_or_default();
        Ok(labels)
    }

    fn cx(&self, what: String) -> Context<'_> {
        Context {
            registry: self.repo.host(),
            what,
            credentials: self.credentials.describe(),
            anonymous: self.credentials.is_anonymous(),
            timeout: self.options.timeout,
        }
    }

    fn parse_digest(&self, what: &str, d: &str) -> Result<Digest, RegistryError> {
        d.parse().map_err(|e| {
            RegistryError::protocol(&self.cx(what.to_string()), format!("bad digest: {e}"))
        })
    }

    /// Runs one request with the timeout, retrying transient failures with a short backoff.
    async fn call<T, F, Fut>(&self, what: String, mut request: F) -> Result<T, RegistryError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, oci_client::errors::OciDistributionError>>,
    {
        let cx = self.cx(what);
        let mut attempt = 0;
        loop {
            let error = match tokio::time::timeout(self.options.timeout, request()).await {
                Ok(Ok(v)) => return Ok(v),
                Ok(Err(e)) => RegistryError::from_oci(&cx, e),
                Err(_) => RegistryError::timeout(&cx, self.options.timeout),
            };
            if !error.is_transient() || attempt >= self.options.retries {
                return Err(error);
            }
            tokio::time::sleep(Duration::from_millis(100 << attempt.min(5))).await;
            attempt += 1;
        }
    }
}

/// Chooses the protocol: HTTPS, unless plain HTTP is allowed (loopback or `insecure`) and the
/// registry answers the API over HTTP but not over TLS. Also returns the status `/v2/` answered
/// to an anonymous request (200: the registry asks for no credentials).
async fn probe(
    repo: &Repository,
    credentials: &Credentials,
    options: &ClientOptions,
) -> Result<(Transport, u16), RegistryError> {
    let mut builder = reqwest::Client::builder()
        .timeout(options.timeout)
        .connect_timeout(options.timeout);
    let mut certs = Vec::new();
    for pem in &options.ca_certs {
        certs.push(reqwest::Certificate::from_pem(pem).map_err(|e| {
            RegistryError::options(format!("a --ca-cert file is not a PEM certificate: {e}"))
        })?);
    }
    builder = builder.tls_certs_merge(certs);
    let http = builder
        .build()
        .map_err(|e| RegistryError::options(format!("cannot set up the HTTP client: {e}")))?;
    let cx = Context {
        registry: repo.host(),
        what: "connecting".to_string(),
        credentials: credentials.describe(),
        anonymous: credentials.is_anonymous(),
        timeout: options.timeout,
    };
    let https = http
        .get(format!("https://{}/v2/", repo.host()))
        .send()
        .await;
    let https_error = match https {
        Ok(r) => return Ok((Transport::Https, r.status().as_u16())),
        Err(e) => RegistryError::from_reqwest(&cx, &e),
    };
    if !plain_http_allowed(repo.host(), options.insecure) {
        return Err(https_error);
    }
    match http.get(format!("http://{}/v2/", repo.host())).send().await {
        // 200 or 401 is the registry API; anything else (a TLS server's 400) is not.
        Ok(r) if r.status().as_u16() == 200 || r.status().as_u16() == 401 => {
            Ok((Transport::Http, r.status().as_u16()))
        }
        // HTTPS was answered in plain HTTP and plain HTTP is allowed here, so what plain HTTP
        // answered is the verdict (a 5xx of a registry starting up is retried like any).
        Ok(r) if https_error.kind() == ErrorKind::PlainHttp => Err(RegistryError::status(
            &cx,
            r.status().as_u16(),
            "that is not the registry API, which answers GET /v2/ with 200 or 401",
        )),
        Ok(_) => Err(https_error),
        // HTTPS met no TLS server (nothing listening, the connection closed, an HTTP server):
        // what plain HTTP met (refused too, closed, no answer in time) says more.
        Err(e)
            if matches!(
                https_error.kind(),
                ErrorKind::Connect | ErrorKind::PlainHttp
            ) =>
        {
            Err(RegistryError::from_reqwest(&cx, &e))
        }
        Err(_) => Err(https_error),
    }
}

/// Whether plain HTTP may be used for `host`: loopback hosts, or anything with `insecure`.
pub(crate) fn plain_http_allowed(host: &str, insecure: bool) -> bool {
    insecure || is_loopback(host)
}

fn parse_manifest(cx: &Context<'_>, bytes: &[u8]) -> Result<OciManifest, RegistryError> {
    serde_json::from_slice(bytes)
        .map_err(|e| RegistryError::protocol(cx, format!("the manifest is not valid: {e}")))
}

/// The media type a manifest declares, or the OCI type its shape implies.
fn media_type(cx: &Context<'_>, bytes: &[u8]) -> Result<String, RegistryError> {
    let json: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| RegistryError::protocol(cx, format!("the manifest is not JSON: {e}")))?;
    if let Some(t) = json.get("mediaType").and_then(|t| t.as_str()) {
        return Ok(t.to_string());
    }
    Ok(if json.get("manifests").is_some() {
        OCI_IMAGE_INDEX_MEDIA_TYPE
    } else {
        OCI_IMAGE_MEDIA_TYPE
    }
    .to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_unless_loopback_or_insecure() {
        assert!(!plain_http_allowed("quay.io", false));
        assert!(!plain_http_allowed("registry.example.com:5000", false));
        assert!(plain_http_allowed("registry.example.com:5000", true));
        assert!(plain_http_allowed("127.0.0.1:5000", false));
        assert!(plain_http_allowed("localhost:5000", false));
    }
}
