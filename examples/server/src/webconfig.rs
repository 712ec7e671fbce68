//! `--web.config.file`: TLS and basic authentication in the exporter-toolkit format that
//! Prometheus uses (`tls_server_config`, `http_server_config`, `basic_auth_users` with bcrypt
//! hashes).
//!
//! - [`WebConfig::load`] reads and validates the file once at start-up (relative certificate
//!   paths are relative to the file's directory, as upstream); an invalid file stops the server.
//! - [`WebListener`] is the listener for `axum::serve`: plain TCP, or TLS with the handshakes
//!   done in their own tasks so a slow client cannot hold up the others.
//! - [`protect`] wraps the router: every path (including `/-/healthy`) requires a valid user
//!   when users are configured; failures are `401` with `WWW-Authenticate: Basic`. Verified
//!   credentials are cached (keyed by a SHA-256 of user, hash and password) because bcrypt is
//!   deliberately slow; unknown users are checked against a dummy hash of the same cost so
//!   timing does not reveal which users exist.
//!
//! Differences from upstream, all reported at start-up: the file is not re-read per request
//! or handshake (restart to rotate certificates); `cipher_suites`, `curve_preferences` and
//! `prefer_server_cipher_suites` are ignored (rustls chooses); TLS 1.0/1.1 are not available;
//! `client_allowed_sans` is not supported.

use std::collections::{BTreeMap, HashSet};
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use base64::Engine as _;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};
use serde::Deserialize;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// Longest a TLS handshake may take.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Handshaken connections waiting for `accept`.
const ACCEPT_QUEUE: usize = 128;
/// Cached credential verdicts before the cache is emptied.
const AUTH_CACHE_MAX: usize = 1024;
/// Response headers `http_server_config.headers` may set (exporter-toolkit's list).
const ALLOWED_HEADERS: [&str; 5] = [
    "Strict-Transport-Security",
    "X-Content-Type-Options",
    "X-Frame-Options",
    "X-XSS-Protection",
    "Content-Security-Policy",
];

/// Why the web configuration is unusable.
#[derive(Debug, thiserror::Error)]
pub(crate) enum WebConfigError {
    /// The file could not be read.
    #[error("reading {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// The YAML does not match the format.
    #[error("parsing {path}: {source}")]
    Yaml {
        /// The file.
        path: PathBuf,
        /// The cause (with line and column).
        source: serde_yaml_ng::Error,
    },
    /// A setting is invalid.
    #[error("{path}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// Certificates or keys could not be loaded.
    #[error("{path}: TLS: {message}")]
    Tls {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    tls_server_config: Option<TlsFile>,
    #[serde(default)]
    http_server_config: Option<HttpFile>,
    #[serde(default)]
    basic_auth_users: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct TlsFile {
    #[serde(default)]
    cert_file: String,
    #[serde(default)]
    key_file: String,
    #[serde(default)]
    cert: String,
    #[serde(default)]
    key: String,
    #[serde(default)]
    client_auth_type: String,
    #[serde(default)]
    client_ca_file: String,
    #[serde(default)]
    client_ca: String,
    #[serde(default)]
    client_allowed_sans: Vec<String>,
    #[serde(default)]
    cipher_suites: Vec<String>,
    #[serde(default)]
    curve_preferences: Vec<String>,
    #[serde(default)]
    prefer_server_cipher_suites: Option<bool>,
    #[serde(default)]
    min_version: String,
    #[serde(default)]
    max_version: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct HttpFile {
    #[serde(default)]
    http2: Option<bool>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
}

/// The loaded web configuration.
#[derive(Debug, Clone, Default)]
pub(crate) struct WebConfig {
    /// TLS, when configured.
    pub(crate) tls: Option<Arc<ServerConfig>>,
    /// Basic-auth users and extra headers, when configured.
    auth: Option<Arc<Auth>>,
}

/// Users (name → bcrypt hash), extra response headers, and the verdict cache.
#[derive(Debug)]
struct Auth {
    users: BTreeMap<String, String>,
    /// A hash of the users' highest cost, checked for unknown users.
    dummy: String,
    headers: Vec<(HeaderName, HeaderValue)>,
    ok: Mutex<HashSet<[u8; 32]>>,
    bad: Mutex<HashSet<[u8; 32]>>,
}

fn invalid(path: &Path, message: impl Into<String>) -> WebConfigError {
    WebConfigError::Invalid {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

fn tls_err(path: &Path, message: impl Into<String>) -> WebConfigError {
    WebConfigError::Tls {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

/// Inline PEM, or the file (relative to `dir`).
fn pem(inline: &str, file: &str, dir: &Path, path: &Path) -> Result<Vec<u8>, WebConfigError> {
    if !inline.is_empty() {
        return Ok(inline.as_bytes().to_vec());
    }
    let p = dir.join(file);
    std::fs::read(&p).map_err(|e| tls_err(path, format!("reading {}: {e}", p.display())))
}

fn versions(
    t: &TlsFile,
    path: &Path,
) -> Result<Vec<&'static rustls::SupportedProtocolVersion>, WebConfigError> {
    let rank = |v: &str, default: u8| -> Result<u8, WebConfigError> {
        match v {
            "" => Ok(default),
            "TLS12" => Ok(12),
            "TLS13" => Ok(13),
            "TLS10" | "TLS11" => Err(tls_err(
                path,
                format!("{v} is not supported by kagari (TLS 1.2 and 1.3 only)"),
            )),
            other => Err(invalid(path, format!("unknown TLS version: {other}"))),
        }
    };
    let (min, max) = (rank(&t.min_version, 12)?, rank(&t.max_version, 13)?);
    if min > max {
        return Err(invalid(
            path,
            "max_version must be greater than or equal to min_version",
        ));
    }
    let mut v: Vec<&'static rustls::SupportedProtocolVersion> = Vec::new();
    if max >= 13 {
        v.push(&rustls::version::TLS13);
    }
    if min <= 12 {
        v.push(&rustls::version::TLS12);
    }
    Ok(v)
}

fn tls_config(t: &TlsFile, dir: &Path, path: &Path) -> Result<Arc<ServerConfig>, WebConfigError> {
    if t.cert_file.is_empty() && t.cert.is_empty() {
        return Err(invalid(path, "missing one of cert or cert_file"));
    }
    if t.key_file.is_empty() && t.key.is_empty() {
        return Err(invalid(path, "missing one of key or key_file"));
    }
    if !t.client_allowed_sans.is_empty() {
        return Err(invalid(
            path,
            "client_allowed_sans is not supported by kagari",
        ));
    }
    let ignored = [
        ("cipher_suites", !t.cipher_suites.is_empty()),
        ("curve_preferences", !t.curve_preferences.is_empty()),
        (
            "prefer_server_cipher_suites",
            t.prefer_server_cipher_suites.is_some(),
        ),
    ];
    for (name, set) in ignored {
        if set {
            tracing::warn!(
                setting = name,
                "web config: ignored; rustls chooses the TLS parameters"
            );
        }
    }
    let cert = pem(&t.cert, &t.cert_file, dir, path)?;
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&cert)
        .collect::<Result<_, _>>()
        .map_err(|e| tls_err(path, format!("certificate: {e}")))?;
    if chain.is_empty() {
        return Err(tls_err(path, "certificate: no PEM certificate found"));
    }
    let key = pem(&t.key, &t.key_file, dir, path)?;
    let key = PrivateKeyDer::from_pem_slice(&key)
        .map_err(|e| tls_err(path, format!("private key: {e}")))?;

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&versions(t, path)?)
        .map_err(|e| tls_err(path, e.to_string()))?;
    let has_ca = !t.client_ca_file.is_empty() || !t.client_ca.is_empty();
    let verifier = match t.client_auth_type.as_str() {
        "" | "NoClientCert" => {
            if has_ca {
                return Err(invalid(
                    path,
                    "Client CA's have been configured without a Client Auth Policy",
                ));
            }
            None
        }
        kind @ ("VerifyClientCertIfGiven" | "RequireAndVerifyClientCert") => {
            if !has_ca {
                return Err(invalid(path, format!("{kind} requires client_ca_file")));
            }
            let ca = pem(&t.client_ca, &t.client_ca_file, dir, path)?;
            let mut roots = RootCertStore::empty();
            for c in CertificateDer::pem_slice_iter(&ca) {
                let c = c.map_err(|e| tls_err(path, format!("client CA: {e}")))?;
                roots
                    .add(c)
                    .map_err(|e| tls_err(path, format!("client CA: {e}")))?;
            }
            let b = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
            let b = if kind == "VerifyClientCertIfGiven" {
                b.allow_unauthenticated()
            } else {
                b
            };
            Some(
                b.build()
                    .map_err(|e| tls_err(path, format!("client CA: {e}")))?,
            )
        }
        kind @ ("RequestClientCert" | "RequireAnyClientCert") => {
            return Err(invalid(
                path,
                format!("client_auth_type {kind} (unverified client certificates) is not supported by kagari"),
            ));
        }
        other => return Err(invalid(path, format!("Invalid ClientAuth: {other}"))),
    };
    let builder = match verifier {
        Some(v) => builder.with_client_cert_verifier(v),
        None => builder.with_no_client_auth(),
    };
    let mut cfg = builder
        .with_single_cert(chain, key)
        .map_err(|e| tls_err(path, e.to_string()))?;
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(cfg))
}

fn auth(file: &File, path: &Path) -> Result<Option<Arc<Auth>>, WebConfigError> {
    let users = file.basic_auth_users.clone().unwrap_or_default();
    let mut headers = Vec::new();
    if let Some(h) = &file.http_server_config {
        if h.http2 == Some(false) {
            tracing::info!("web config: http2 false (kagari serves HTTP/1.1 only)");
        }
        for (k, v) in &h.headers {
            let Some(allowed) = ALLOWED_HEADERS.iter().find(|a| a.eq_ignore_ascii_case(k)) else {
                return Err(invalid(
                    path,
                    format!("HTTP header {k:?} can not be configured"),
                ));
            };
            let name = HeaderName::from_bytes(allowed.to_ascii_lowercase().as_bytes())
                .map_err(|_| invalid(path, format!("invalid HTTP header name {k:?}")))?;
            let value = HeaderValue::from_str(v)
                .map_err(|_| invalid(path, format!("invalid value for HTTP header {k:?}")))?;
            headers.push((name, value));
        }
    }
    if users.is_empty() && headers.is_empty() {
        return Ok(None);
    }
    let mut cost = 0;
    for (user, hash) in &users {
        let parts: bcrypt::HashParts = hash
            .parse()
            .map_err(|e| invalid(path, format!("basic_auth_users: {user:?}: {e}")))?;
        cost = cost.max(parts.get_cost());
    }
    let dummy = if users.is_empty() {
        String::new()
    } else {
        bcrypt::hash("kagari: a password nobody has", cost)
            .map_err(|e| invalid(path, format!("basic_auth_users: {e}")))?
    };
    Ok(Some(Arc::new(Auth {
        users,
        dummy,
        headers,
        ok: Mutex::new(HashSet::new()),
        bad: Mutex::new(HashSet::new()),
    })))
}

impl WebConfig {
    /// Reads `path`; `None` gives plain HTTP without authentication.
    pub(crate) fn load(path: Option<&Path>) -> Result<WebConfig, WebConfigError> {
        let Some(path) = path else {
            return Ok(WebConfig::default());
        };
        let text = std::fs::read_to_string(path).map_err(|source| WebConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let file: File = if text.trim().is_empty() {
            File::default()
        } else {
            serde_yaml_ng::from_str(&text).map_err(|source| WebConfigError::Yaml {
                path: path.to_path_buf(),
                source,
            })?
        };
        let dir = path.parent().unwrap_or(Path::new("."));
        let tls = match &file.tls_server_config {
            None => None,
            Some(t)
                if t.cert_file.is_empty()
                    && t.cert.is_empty()
                    && t.key_file.is_empty()
                    && t.key.is_empty()
                    && t.client_auth_type.is_empty()
                    && t.client_ca_file.is_empty()
                    && t.client_ca.is_empty() =>
            {
                None
            }
            Some(t) => Some(tls_config(t, dir, path)?),
        };
        Ok(WebConfig {
            tls,
            auth: auth(&file, path)?,
        })
    }

    /// Wraps a listener: TLS when configured.
    pub(crate) fn listener(&self, tcp: TcpListener) -> io::Result<WebListener> {
        let addr = tcp.local_addr()?;
        let Some(cfg) = &self.tls else {
            return Ok(WebListener::Plain(tcp));
        };
        let acceptor = tokio_rustls::TlsAcceptor::from(cfg.clone());
        let (tx, rx) = mpsc::channel(ACCEPT_QUEUE);
        let task = tokio::spawn(accept_tls(tcp, acceptor, tx));
        Ok(WebListener::Tls { rx, addr, task })
    }

    /// Wraps the router with basic authentication and the configured headers.
    pub(crate) fn protect(&self, router: Router) -> Router {
        match &self.auth {
            Some(a) => router.layer(middleware::from_fn_with_state(a.clone(), check_auth)),
            None => router,
        }
    }
}

/// Accepts TCP connections and completes TLS handshakes, each in its own task.
async fn accept_tls(
    tcp: TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
    tx: mpsc::Sender<(Box<dyn Conn>, SocketAddr)>,
) {
    loop {
        let (stream, peer) = match tcp.accept().await {
            Ok(c) => c,
            Err(e) => {
                // Out of file descriptors and the like: back off as axum does.
                tracing::debug!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let (acceptor, tx) = (acceptor.clone(), tx.clone());
        tokio::spawn(async move {
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                Ok(Ok(tls)) => {
                    let _ = tx.send((Box::new(tls) as Box<dyn Conn>, peer)).await;
                }
                Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
            }
        });
    }
}

/// A connection of either kind.
pub(crate) trait Conn: AsyncRead + AsyncWrite + Unpin + Send {}

impl<T: AsyncRead + AsyncWrite + Unpin + Send> Conn for T {}

/// The server's listener: plain TCP or TLS.
#[derive(Debug)]
pub(crate) enum WebListener {
    /// Plain HTTP.
    Plain(TcpListener),
    /// HTTPS: connections arrive handshaken from the accept task.
    Tls {
        /// Handshaken connections.
        rx: mpsc::Receiver<(Box<dyn Conn>, SocketAddr)>,
        /// The bound address.
        addr: SocketAddr,
        /// The accept task (stopped when the listener is dropped).
        task: tokio::task::JoinHandle<()>,
    },
}

impl Drop for WebListener {
    fn drop(&mut self) {
        if let WebListener::Tls { task, .. } = self {
            task.abort();
        }
    }
}

impl axum::serve::Listener for WebListener {
    type Io = Box<dyn Conn>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self {
            WebListener::Plain(l) => loop {
                match TcpListener::accept(l).await {
                    Ok((s, a)) => {
                        let _ = s.set_nodelay(true);
                        return (Box::new(s), a);
                    }
                    Err(e) => {
                        tracing::debug!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
            },
            WebListener::Tls { rx, .. } => match rx.recv().await {
                Some(c) => c,
                // The accept task never ends on its own; if it did, wait forever rather
                // than spin (graceful shutdown still ends `serve`).
                None => std::future::pending().await,
            },
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        match self {
            WebListener::Plain(l) => l.local_addr(),
            WebListener::Tls { addr, .. } => Ok(*addr),
        }
    }
}

/// `user`, `password` from an `Authorization: Basic …` header (Go's `Request.BasicAuth`).
fn basic_credentials(v: &HeaderValue) -> Option<(String, String)> {
    let v = v.to_str().ok()?;
    let (scheme, rest) = v.split_at_checked(6)?;
    if !scheme.eq_ignore_ascii_case("basic ") {
        return None;
    }
    let raw = base64::engine::general_purpose::STANDARD
        .decode(rest)
        .ok()?;
    let s = String::from_utf8(raw).ok()?;
    let (u, p) = s.split_once(':')?;
    Some((u.to_string(), p.to_string()))
}

fn cache_key(user: &str, hash: &str, pass: &str) -> [u8; 32] {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    for part in [user, ":", hash, ":", pass] {
        ctx.update(part.as_bytes());
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

impl Auth {
    /// Whether `user`/`pass` is valid (bcrypt on the blocking pool, cached).
    async fn verify(self: &Arc<Self>, user: String, pass: String) -> bool {
        let (hash, known) = match self.users.get(&user) {
            Some(h) => (h.clone(), true),
            None => (self.dummy.clone(), false),
        };
        let key = cache_key(&user, &hash, &pass);
        let cached = |set: &Mutex<HashSet<[u8; 32]>>| {
            set.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .contains(&key)
        };
        if cached(&self.ok) {
            return known;
        }
        if cached(&self.bad) {
            return false;
        }
        let ok = tokio::task::spawn_blocking(move || bcrypt::verify(pass, &hash).unwrap_or(false))
            .await
            .unwrap_or(false);
        let set = if ok { &self.ok } else { &self.bad };
        let mut g = set.lock().unwrap_or_else(PoisonError::into_inner);
        if g.len() >= AUTH_CACHE_MAX {
            g.clear();
        }
        g.insert(key);
        ok && known
    }
}

async fn check_auth(State(auth): State<Arc<Auth>>, req: Request, next: Next) -> Response {
    let mut resp = if auth.users.is_empty() {
        next.run(req).await
    } else {
        let creds = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(basic_credentials);
        let ok = match creds {
            Some((u, p)) => auth.verify(u, p).await,
            None => false,
        };
        if ok {
            next.run(req).await
        } else {
            let mut r = (StatusCode::UNAUTHORIZED, "Unauthorized\n").into_response();
            r.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic"));
            r
        }
    };
    for (k, v) in &auth.headers {
        resp.headers_mut().insert(k.clone(), v.clone());
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(yaml: &str) -> Result<WebConfig, WebConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("web.yml");
        std::fs::write(&p, yaml).unwrap();
        WebConfig::load(Some(&p))
    }

    fn err(yaml: &str) -> String {
        load(yaml).unwrap_err().to_string()
    }

    #[test]
    fn empty_and_absent_files_change_nothing() {
        let c = WebConfig::load(None).unwrap();
        assert!(c.tls.is_none() && c.auth.is_none());
        let c = load("").unwrap();
        assert!(c.tls.is_none() && c.auth.is_none());
        let c = load("tls_server_config: {}\n").unwrap();
        assert!(c.tls.is_none());
    }

    #[test]
    fn invalid_files_are_rejected_with_reasons() {
        assert!(err("nope: 1\n").contains("unknown field `nope`"));
        assert!(
            err("tls_server_config:\n  key_file: k\n").contains("missing one of cert or cert_file")
        );
        assert!(
            err("tls_server_config:\n  cert_file: c\n").contains("missing one of key or key_file")
        );
        assert!(
            err("tls_server_config:\n  cert_file: nothere.pem\n  key_file: k\n")
                .contains("nothere.pem")
        );
        assert!(err("basic_auth_users:\n  alice: notahash\n").contains("alice"));
        assert!(err("http_server_config:\n  headers:\n    Server: x\n")
            .contains("HTTP header \"Server\" can not be configured"));
    }

    #[test]
    fn headers_alone_enable_the_layer() {
        let c = load("http_server_config:\n  headers:\n    x-frame-options: deny\n").unwrap();
        let a = c.auth.unwrap();
        assert!(a.users.is_empty());
        assert_eq!(a.headers[0].0.as_str(), "x-frame-options");
    }

    #[test]
    fn basic_credentials_follow_go() {
        let h = |s: &str| basic_credentials(&HeaderValue::from_str(s).unwrap());
        assert_eq!(
            h("Basic YWxpY2U6czNjcjN0"),
            Some(("alice".into(), "s3cr3t".into()))
        );
        assert_eq!(
            h("basic YWxpY2U6czNjcjN0"),
            Some(("alice".into(), "s3cr3t".into()))
        );
        assert_eq!(h("Bearer YWxpY2U6czNjcjN0"), None);
        assert_eq!(h("Basic !!!"), None);
        assert_eq!(h("Basic YWxpY2U="), None); // no colon
    }

    #[tokio::test]
    async fn verification_uses_bcrypt_and_caches() {
        let hash = bcrypt::hash("pw", 4).unwrap();
        let c = load(&format!("basic_auth_users:\n  alice: '{hash}'\n")).unwrap();
        let a = c.auth.unwrap();
        assert!(a.verify("alice".into(), "pw".into()).await);
        assert!(a.verify("alice".into(), "pw".into()).await); // cached
        assert!(!a.verify("alice".into(), "wrong".into()).await);
        assert!(!a.verify("bob".into(), "pw".into()).await);
        assert_eq!(a.ok.lock().unwrap().len(), 1);
        assert_eq!(a.bad.lock().unwrap().len(), 2);
    }
}
