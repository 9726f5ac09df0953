//! A real OCI registry for tests: Debian's `docker-registry` (Distribution 2.8) on 127.0.0.1 at a
//! free port, storage in a temporary directory, stopped by its process id when dropped; optional
//! htpasswd auth and TLS. Plus a fault proxy on loopback (HTTP 500s, delays, dropped
//! connections) and helpers that push small synthetic images through oci-client.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{Read, Write as _};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt};
use oci_client::client::{
    Certificate, CertificateEncoding, ClientConfig, ClientProtocol, Config, ImageLayer,
};
use oci_client::manifest::{OciImageManifest, OciManifest};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The user and password of registries started with auth.
pub const USER: &str = "alice";
pub const PASSWORD: &str = "correct-horse-battery";

/// How to start a registry.
#[derive(Clone, Copy, Debug, Default)]
pub struct Setup {
    /// htpasswd auth with [`USER`] / [`PASSWORD`].
    pub auth: bool,
    /// TLS with a certificate signed by a test CA ([`Registry::ca_cert`]).
    pub tls: bool,
}

/// A running `docker-registry`.
pub struct Registry {
    pub dir: tempfile::TempDir,
    pub port: u16,
    pub setup: Setup,
    child: Option<Child>,
}

fn binary() -> PathBuf {
    for dir in std::env::var("PATH").unwrap_or_default().split(':') {
        let p = Path::new(dir).join("docker-registry");
        if p.is_file() {
            return p;
        }
    }
    panic!(
        "docker-registry is not installed: the registry tests need a real registry (apt-get install -y docker-registry apache2-utils openssl skopeo)"
    );
}

/// A free port below the ephemeral range (32768 and up on Linux), so a proxy or client socket
/// bound to port 0 cannot take it between this check and the registry binding it.
fn free_port() -> u16 {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let seed = std::process::id() as usize
        ^ std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos() as usize;
    loop {
        let port = 20000 + (seed + NEXT.fetch_add(1, Ordering::SeqCst) * 7919) % 12000;
        if TcpListener::bind(("127.0.0.1", port as u16)).is_ok() {
            return port as u16;
        }
    }
}

/// Whether a Distribution registry answers on `addr`.
fn answers(addr: SocketAddr, tls: bool) -> bool {
    let Ok(mut s) = TcpStream::connect(addr) else {
        return false;
    };
    if tls {
        return true; // a TLS listener is up; the handshake is the clients' business
    }
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if s.write_all(b"GET /v2/ HTTP/1.0\r\n\r\n").is_err() {
        return false;
    }
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    answer
        .to_ascii_lowercase()
        .contains("docker-distribution-api-version")
}

impl Registry {
    /// Starts an anonymous, plain-HTTP registry.
    pub fn start() -> Registry {
        Registry::start_with(Setup::default())
    }

    /// Starts a registry as `setup` says.
    pub fn start_with(setup: Setup) -> Registry {
        let dir = tempfile::tempdir().unwrap();
        if setup.auth {
            let status = Command::new("htpasswd")
                .args(["-Bbc"])
                .arg(dir.path().join("htpasswd"))
                .args([USER, PASSWORD])
                .stderr(Stdio::null())
                .status()
                .expect("htpasswd runs (apt-get install -y apache2-utils)");
            assert!(status.success());
        }
        if setup.tls {
            make_certificates(dir.path());
        }
        let mut registry = Registry {
            dir,
            port: 0,
            setup,
            child: None,
        };
        // The port is free when picked; another process may take it before the registry binds
        // it, so try a few.
        for _ in 0..5 {
            registry.port = free_port();
            if registry.spawn() {
                return registry;
            }
        }
        panic!("docker-registry did not start; log:\n{}", registry.log());
    }

    fn config(&self) -> String {
        let d = self.dir.path().display();
        let mut http = format!("  addr: 127.0.0.1:{}\n", self.port);
        if self.setup.tls {
            http.push_str(&format!(
                "  tls:\n    certificate: {d}/server.pem\n    key: {d}/server.key\n"
            ));
        }
        let auth = if self.setup.auth {
            format!("auth:\n  htpasswd:\n    realm: runtime-kit-tests\n    path: {d}/htpasswd\n")
        } else {
            String::new()
        };
        format!(
            "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {d}/data\n  delete:\n    enabled: true\nhttp:\n{http}{auth}"
        )
    }

    fn spawn(&mut self) -> bool {
        let cfg = self.dir.path().join("config.yml");
        std::fs::write(&cfg, self.config()).unwrap();
        let log = std::fs::File::create(self.dir.path().join("registry.log")).unwrap();
        let child = Command::new(binary())
            .arg("serve")
            .arg(&cfg)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("docker-registry starts");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                eprintln!("docker-registry exited with {status}");
                self.child = None;
                return false;
            }
            if answers(self.addr(), self.setup.tls) {
                // Still ours: a registry that lost the port to another process exits.
                std::thread::sleep(Duration::from_millis(50));
                if self.child.as_mut().unwrap().try_wait().unwrap().is_none() {
                    return true;
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.stop();
        false
    }

    /// `127.0.0.1:PORT`.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// `127.0.0.1:PORT`, as a registry host.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// `127.0.0.1:PORT/runtime`.
    pub fn repo(&self) -> String {
        format!("{}/runtime", self.host())
    }

    /// The PEM of the CA that signed the registry's certificate.
    pub fn ca_cert(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// The registry's log.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }

    /// Stops the registry (kills its process by id and reaps it).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port with the same storage.
    pub fn restart(&mut self) {
        self.stop();
        assert!(
            self.spawn(),
            "docker-registry restarts; log:\n{}",
            self.log()
        );
    }

    /// The process id, while running.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// A pusher authenticated as the registry needs.
    pub fn pusher(&self) -> Pusher {
        Pusher::new(&self.host(), self.setup, Some(self.ca_cert()))
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A test CA and a server certificate for 127.0.0.1 / localhost signed by it (webpki refuses a
/// self-signed CA certificate used as the server's own).
fn make_certificates(dir: &Path) {
    let run = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl runs (apt-get install -y openssl)");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=runtime-kit test CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=localhost",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
    ]);
    std::fs::write(
        dir.join("server.ext"),
        "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n",
    )
    .unwrap();
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "server.ext",
        "-out",
        "server.pem",
    ]);
}

/// Pushes synthetic images: one tiny shared layer, a config whose labels say what the image is.
pub struct Pusher {
    pub client: Client,
    pub auth: RegistryAuth,
    host: String,
    layer: ImageLayer,
}

/// The labels of a synthetic image of `version` carrying Airflow `airflow`.
pub fn labels(version: &str, airflow: &str, base: bool) -> BTreeMap<String, String> {
    BTreeMap::from([
        (
            "io.astronomer.docker.runtime.version".to_string(),
            version.to_string(),
        ),
        (
            "io.astronomer.docker.airflow.version".to_string(),
            airflow.to_string(),
        ),
        (
            "io.astronomer.docker.runtime.variant".to_string(),
            if base { "base" } else { "onbuild" }.to_string(),
        ),
        (
            "org.opencontainers.image.version".to_string(),
            version.to_string(),
        ),
    ])
}

impl Pusher {
    pub fn new(host: &str, setup: Setup, ca: Option<PathBuf>) -> Pusher {
        let mut config = ClientConfig {
            protocol: if setup.tls {
                ClientProtocol::Https
            } else {
                ClientProtocol::Http
            },
            use_monolithic_push: true,
            ..Default::default()
        };
        if setup.tls {
            config.extra_root_certificates = vec![Certificate {
                encoding: CertificateEncoding::Pem,
                data: std::fs::read(ca.unwrap()).unwrap(),
            }];
        }
        // An empty tar archive: two zero blocks.
        let layer = ImageLayer::new(
            vec![0u8; 1024],
            oci_client::manifest::IMAGE_LAYER_MEDIA_TYPE.to_string(),
            None,
        );
        Pusher {
            client: Client::try_from(config).unwrap(),
            auth: if setup.auth {
                RegistryAuth::Basic(USER.into(), PASSWORD.into())
            } else {
                RegistryAuth::Anonymous
            },
            host: host.to_string(),
            layer,
        }
    }

    fn reference(&self, repo: &str, tag: &str) -> Reference {
        Reference::with_tag(self.host.clone(), repo.to_string(), tag.to_string())
    }

    /// The manifest of a synthetic image with `labels` (deterministic: same labels, same digest).
    fn manifest(&self, labels: &BTreeMap<String, String>) -> (OciImageManifest, Config) {
        let config = serde_json::json!({
            "architecture": "amd64",
            "os": "linux",
            "config": { "Labels": labels },
            "rootfs": { "type": "layers", "diff_ids": [self.layer.sha256_digest()] },
        });
        let config = Config::oci_v1(serde_json::to_vec(&config).unwrap(), None);
        let manifest = OciImageManifest::build(std::slice::from_ref(&self.layer), &config, None);
        (manifest, config)
    }

    /// Pushes an image with `labels` as `repo:tag`; returns its digest.
    pub async fn push(&self, repo: &str, tag: &str, labels: &BTreeMap<String, String>) -> String {
        let reference = self.reference(repo, tag);
        let (manifest, config) = self.manifest(labels);
        self.client
            .push(
                &reference,
                std::slice::from_ref(&self.layer),
                config,
                &self.auth,
                Some(manifest),
            )
            .await
            .unwrap_or_else(|e| panic!("push {tag}: {e}"));
        self.digest(repo, tag).await.unwrap()
    }

    /// Pushes many images at once: `(tag, labels)`.
    pub async fn push_all(&self, repo: &str, images: Vec<(String, BTreeMap<String, String>)>) {
        // The shared layer first, so concurrent pushes do not all upload it.
        if let Some((tag, labels)) = images.first() {
            self.push(repo, tag, labels).await;
        }
        futures::stream::iter(images.iter().skip(1))
            .map(|(tag, labels)| async move {
                let reference = self.reference(repo, tag);
                let (manifest, config) = self.manifest(labels);
                self.client
                    .push_blob(&reference, config.data.clone(), &manifest.config.digest)
                    .await?;
                self.client
                    .push_manifest(&reference, &OciManifest::Image(manifest))
                    .await
            })
            .buffer_unordered(8)
            .try_collect::<Vec<_>>()
            .await
            .unwrap();
    }

    /// Points `repo:alias` at the manifest of `repo:target`.
    pub async fn alias(&self, repo: &str, alias: &str, target: &str) {
        let (bytes, _) = self
            .client
            .pull_manifest_raw(
                &self.reference(repo, target),
                &self.auth,
                &[oci_client::manifest::OCI_IMAGE_MEDIA_TYPE],
            )
            .await
            .unwrap();
        self.client
            .push_manifest_raw(
                &self.reference(repo, alias),
                bytes,
                oci_client::manifest::OCI_IMAGE_MEDIA_TYPE.parse().unwrap(),
            )
            .await
            .unwrap();
    }

    /// The digest `repo:tag` points at, if it exists.
    pub async fn digest(&self, repo: &str, tag: &str) -> Option<String> {
        self.client
            .fetch_manifest_digest(&self.reference(repo, tag), &self.auth)
            .await
            .ok()
    }

    /// Every tag of `repo`.
    pub async fn tags(&self, repo: &str) -> Vec<String> {
        let mut tags = self
            .client
            .list_tags(&self.reference(repo, "x"), &self.auth, None, None)
            .await
            .map(|t| t.tags)
            .unwrap_or_default();
        tags.sort();
        tags
    }

    /// `tag -> digest` of every tag of `repo`.
    pub async fn snapshot(&self, repo: &str) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        for t in self.tags(repo).await {
            let d = self.digest(repo, &t).await.unwrap();
            out.insert(t, d);
        }
        out
    }
}

/// What the fault proxy does to a matching request.
#[derive(Clone, Copy, Debug)]
pub enum Fault {
    /// Answer with this HTTP status and an OCI error body.
    Status(u16),
    /// Wait, then forward.
    Delay(Duration),
    /// Close the connection without an answer.
    Drop,
}

#[derive(Clone, Debug)]
struct Rule {
    method: Option<String>,
    path_contains: String,
    fault: Fault,
    /// How many more requests it applies to (`None`: all).
    remaining: Option<usize>,
}

/// An HTTP proxy on 127.0.0.1 in front of a registry that injects faults. Each client connection
/// carries one request (the proxy answers `Connection: close`). A connection that does not start
/// with an HTTP request (a TLS hello) is hung up on, or with [`FaultProxy::pass_through`] piped
/// to the registry as it is (TLS then runs end to end with the registry).
pub struct FaultProxy {
    pub addr: SocketAddr,
    pass_through: Arc<AtomicBool>,
    paginate: Arc<AtomicUsize>,
    rules: Arc<Mutex<Vec<Rule>>>,
    log: Arc<Mutex<Vec<(String, String)>>>,
    seen: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl FaultProxy {
    /// Starts a proxy to `backend` on 127.0.0.1 on the current tokio runtime.
    pub async fn start(backend: SocketAddr) -> FaultProxy {
        FaultProxy::start_on(IpAddr::from([127, 0, 0, 1]), backend).await
    }

    /// Starts a proxy to `backend` listening on `ip` (another loopback address, or this
    /// machine's address on its network) on the current tokio runtime.
    pub async fn start_on(ip: IpAddr, backend: SocketAddr) -> FaultProxy {
        let listener = tokio::net::TcpListener::bind((ip, 0)).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let rules: Arc<Mutex<Vec<Rule>>> = Arc::default();
        let log: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
        let seen = Arc::new(AtomicUsize::new(0));
        let paginate = Arc::new(AtomicUsize::new(0));
        let pass_through = Arc::new(AtomicBool::new(false));
        let (r, l, s, p) = (rules.clone(), log.clone(), seen.clone(), paginate.clone());
        let t = pass_through.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((conn, _)) = listener.accept().await else {
                    return;
                };
                let (r, l, s) = (r.clone(), l.clone(), s.clone());
                let p = p.load(Ordering::SeqCst);
                let t = t.load(Ordering::SeqCst);
                tokio::spawn(async move {
                    let _ = handle(conn, backend, r, l, s, p, t).await;
                });
            }
        });
        FaultProxy {
            addr,
            pass_through,
            paginate,
            rules,
            log,
            seen,
            task,
        }
    }

    /// `127.0.0.1:PORT` of the proxy.
    pub fn host(&self) -> String {
        self.addr.to_string()
    }

    /// Injects `fault` into requests whose method is `method` (any when `None`) and whose path
    /// contains `path_contains`, `times` times (always when `None`).
    pub fn inject(
        &self,
        method: Option<&str>,
        path_contains: &str,
        fault: Fault,
        times: Option<usize>,
    ) {
        self.rules.lock().unwrap().push(Rule {
            method: method.map(str::to_string),
            path_contains: path_contains.to_string(),
            fault,
            remaining: times,
        });
    }

    /// Answers tag lists page by page as the distribution spec describes (`?n=&last=`, a `Link`
    /// header to the next page), as Distribution 3, quay.io or ghcr.io do, with pages of at most
    /// `cap` tags whatever `n` asks (quay.io caps at 100); Distribution 2.8 itself returns every
    /// tag at once.
    pub fn paginate(&self, cap: usize) {
        self.paginate.store(cap, Ordering::SeqCst);
    }

    /// Pipes connections that do not start with an HTTP request (a TLS hello) to the registry
    /// byte for byte instead of hanging up: a TLS registry then does its own handshake through
    /// the proxy, a plain-HTTP one answers the hello as HTTP.
    pub fn pass_through(&self, on: bool) {
        self.pass_through.store(on, Ordering::SeqCst);
    }

    /// Removes every fault.
    pub fn clear(&self) {
        self.rules.lock().unwrap().clear();
    }

    /// The requests seen: `(method, path)`.
    pub fn requests(&self) -> Vec<(String, String)> {
        self.log.lock().unwrap().clone()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn handle(
    mut conn: tokio::net::TcpStream,
    backend: SocketAddr,
    rules: Arc<Mutex<Vec<Rule>>>,
    log: Arc<Mutex<Vec<(String, String)>>>,
    seen: Arc<AtomicUsize>,
    paginate: usize,
    pass_through: bool,
) -> std::io::Result<()> {
    // The request head.
    let mut buf = Vec::new();
    let head_end = loop {
        let mut chunk = [0u8; 8192];
        let n = conn.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
        if !buf[0].is_ascii_uppercase() {
            // Not HTTP (a TLS hello, say): hang up, or pipe it to the registry.
            if pass_through {
                let mut upstream = tokio::net::TcpStream::connect(backend).await?;
                upstream.write_all(&buf).await?;
                tokio::io::copy_bidirectional(&mut conn, &mut upstream).await?;
            }
            return Ok(());
        }
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        if buf.len() > 64 * 1024 {
            return Ok(()); // not HTTP (a TLS hello, say): hang up
        }
    };
    let Ok(head) = std::str::from_utf8(&buf[..head_end]) else {
        return Ok(());
    };
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default().to_string();
    let mut parts = request_line.split(' ');
    let (method, path) = (
        parts.next().unwrap_or_default().to_string(),
        parts.next().unwrap_or_default().to_string(),
    );
    let mut length = 0usize;
    let mut headers = Vec::new();
    for line in lines.filter(|l| !l.is_empty()) {
        let lower = line.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
        if lower.starts_with("connection:") {
            continue;
        }
        headers.push(line.to_string());
    }
    let mut body = buf[head_end..].to_vec();
    while body.len() < length {
        let mut chunk = vec![0u8; length - body.len()];
        let n = conn.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        body.extend_from_slice(&chunk[..n]);
    }
    seen.fetch_add(1, Ordering::SeqCst);
    log.lock().unwrap().push((method.clone(), path.clone()));

    let fault = {
        let mut rules = rules.lock().unwrap();
        let mut hit = None;
        for rule in rules.iter_mut() {
            let method_ok = rule.method.as_deref().is_none_or(|m| m == method);
            if method_ok && path.contains(&rule.path_contains) && rule.remaining != Some(0) {
                if let Some(n) = rule.remaining.as_mut() {
                    *n -= 1;
                }
                hit = Some(rule.fault);
                break;
            }
        }
        hit
    };
    match fault {
        Some(Fault::Status(code)) => {
            let body = r#"{"errors":[{"code":"UNKNOWN","message":"injected fault"}]}"#;
            let answer = format!(
                "HTTP/1.1 {code} Injected\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            conn.write_all(answer.as_bytes()).await?;
            return conn.shutdown().await;
        }
        Some(Fault::Drop) => return Ok(()),
        Some(Fault::Delay(d)) => tokio::time::sleep(d).await,
        None => {}
    }
    let page = if paginate > 0 && method == "GET" && path.contains("/tags/list") {
        let (n, last) = page_query(&path);
        Some((Some(n.unwrap_or(usize::MAX).min(paginate)), last))
    } else {
        None
    };
    let request_line = match (&page, path.split_once('?')) {
        (Some(_), Some((bare, _))) => request_line.replacen(&path, bare, 1),
        _ => request_line,
    };
    let mut upstream = tokio::net::TcpStream::connect(backend).await?;
    let mut out = format!("{request_line}\r\n");
    for h in headers {
        out.push_str(&h);
        out.push_str("\r\n");
    }
    out.push_str("Connection: close\r\n\r\n");
    upstream.write_all(out.as_bytes()).await?;
    upstream.write_all(&body).await?;
    let mut response = Vec::new();
    upstream.read_to_end(&mut response).await?;
    if let Some((n, last)) = page {
        response = paginated(&response, n, last.as_deref());
    }
    conn.write_all(&response).await?;
    conn.shutdown().await
}

/// `n` and `last` of a tag-list query.
fn page_query(path: &str) -> (Option<usize>, Option<String>) {
    let mut n = None;
    let mut last = None;
    if let Some((_, query)) = path.split_once('?') {
        for pair in query.split('&') {
            match pair.split_once('=') {
                Some(("n", v)) => n = v.parse().ok(),
                Some(("last", v)) => last = Some(v.to_string()),
                _ => {}
            }
        }
    }
    (n, last)
}

/// Cuts a full tag-list answer down to the page `n`, `last` asks for, with a `Link` header
/// when more follow.
fn paginated(response: &[u8], n: Option<usize>, last: Option<&str>) -> Vec<u8> {
    let Some(i) = response.windows(4).position(|w| w == b"\r\n\r\n") else {
        return response.to_vec();
    };
    if !response.starts_with(b"HTTP/1.1 200") {
        return response.to_vec();
    }
    let json: serde_json::Value = serde_json::from_slice(&response[i + 4..]).unwrap();
    let name = json["name"].as_str().unwrap().to_string();
    let mut tags: Vec<String> = json["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().to_string())
        .filter(|t| last.is_none_or(|l| t.as_str() > l))
        .collect();
    tags.sort();
    let n = n.unwrap_or(usize::MAX);
    let more = tags.len() > n;
    tags.truncate(n);
    let body = serde_json::json!({"name": name, "tags": tags}).to_string();
    let mut head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    if more {
        head.push_str(&format!(
            "Link: </v2/{name}/tags/list?n={n}&last={}>; rel=\"next\"\r\n",
            tags.last().unwrap()
        ));
    }
    head.push_str("\r\n");
    [head.into_bytes(), body.into_bytes()].concat()
}

/// Runs `runtime-kit ARGS` with extra environment variables (and without any registry
/// credentials of the caller's environment).
pub fn run_env(args: &[&str], env: &[(&str, &str)]) -> crate::common::Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_runtime-kit"));
    cmd.args(args)
        .current_dir(crate::common::root())
        .env("NO_COLOR", "1")
        .env_remove("RUNTIME_KIT_REGISTRY_USERNAME")
        .env_remove("RUNTIME_KIT_REGISTRY_PASSWORD")
        // No Docker config of the machine's user leaks in.
        .env("DOCKER_CONFIG", "/nonexistent");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("the binary runs");
    crate::common::Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Blocks until a TCP connection to `addr` is refused (the registry is down).
pub fn wait_down(addr: SocketAddr) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        match TcpStream::connect(addr) {
            Err(_) => return,
            Ok(mut s) => {
                let _ = s.write_all(b"GET /v2/ HTTP/1.0\r\n\r\n");
                let mut b = [0u8; 1];
                let _ = s.read(&mut b);
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
