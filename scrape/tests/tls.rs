//! HTTPS targets: a custom CA, `insecure_skip_verify`, and client certificates.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{eventually, MemStorage};
use kagari_scrape::{Config, Health, ManagerOptions, ScrapeManager, TargetStatus};
use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::rustls::server::WebPkiClientVerifier;
use tokio_rustls::rustls::{self, RootCertStore, ServerConfig};

struct Pki {
    ca_pem: String,
    ca_der: CertificateDer<'static>,
    server_der: CertificateDer<'static>,
    server_key: Vec<u8>,
    client_pem: String,
    client_key_pem: String,
}

fn pki() -> Pki {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let server_key = KeyPair::generate().unwrap();
    let server = CertificateParams::new(vec!["localhost".to_string()])
        .unwrap()
        .signed_by(&server_key, &ca, &ca_key)
        .unwrap();
    let client_key = KeyPair::generate().unwrap();
    let client = CertificateParams::new(vec!["scraper".to_string()])
        .unwrap()
        .signed_by(&client_key, &ca, &ca_key)
        .unwrap();
    Pki {
        ca_pem: ca.pem(),
        ca_der: ca.der().clone(),
        server_der: server.der().clone(),
        server_key: server_key.serialize_der(),
        client_pem: client.pem(),
        client_key_pem: client_key.serialize_pem(),
    }
}

/// Serves `body` over TLS on loopback; returns the port.
async fn tls_exporter(pki: &Pki, require_client_cert: bool, body: &'static str) -> u16 {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap();
    let builder = if require_client_cert {
        let mut roots = RootCertStore::empty();
        roots.add(pki.ca_der.clone()).unwrap();
        builder.with_client_cert_verifier(
            WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .unwrap(),
        )
    } else {
        builder.with_no_client_auth()
    };
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(pki.server_key.clone()));
    let cfg = builder
        .with_single_cert(vec![pki.server_der.clone()], key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(cfg));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((sock, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(sock).await else {
                    return;
                };
                let mut buf = Vec::new();
                let mut tmp = [0u8; 2048];
                loop {
                    let Ok(n) = tls.read(&mut tmp).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&tmp[..n]);
                    while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        buf.drain(..end + 4);
                        let resp = format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\n\r\n{body}",
                            body.len()
                        );
                        if tls.write_all(resp.as_bytes()).await.is_err() {
                            return;
                        }
                    }
                }
            });
        }
    });
    port
}

async fn scrape_once(port: u16, tls_yaml: &str) -> (TargetStatus, MemStorage) {
    scrape_host("localhost", port, tls_yaml).await
}

async fn scrape_host(host: &str, port: u16, tls_yaml: &str) -> (TargetStatus, MemStorage) {
    let yaml = format!(
        "scrape_configs:\n  - job_name: tls\n    scheme: https\n    scrape_interval: 1s\n    scrape_timeout: 1s\n{tls_yaml}    static_configs: [{{targets: ['{host}:{port}']}}]\n"
    );
    let st = MemStorage::default();
    let opts = ManagerOptions {
        offset_seed: Some(0),
        file_sd_poll: Duration::from_millis(50),
        ..Default::default()
    };
    let mut m = ScrapeManager::new(Arc::new(st.clone()), opts);
    m.apply_config(&Config::from_yaml(&yaml).unwrap()).unwrap();
    eventually("scraped", || {
        m.active_targets()
            .first()
            .is_some_and(|t| t.health.health != Health::Unknown)
    })
    .await;
    let t = m.active_targets().remove(0);
    m.stop().await;
    (t, st)
}

#[tokio::test]
async fn custom_ca_and_insecure_skip_verify() {
    let pki = pki();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ca.pem"), &pki.ca_pem).unwrap();
    let port = tls_exporter(&pki, false, "tls_metric 42\n").await;

    let (t, _) = scrape_once(port, "").await;
    assert_eq!(t.health.health, Health::Down, "unknown CA must be rejected");
    assert!(!t.health.last_error.is_empty());

    let ca = format!(
        "    tls_config: {{ca_file: '{}'}}\n",
        dir.path().join("ca.pem").display()
    );
    let (t, st) = scrape_once(port, &ca).await;
    assert_eq!(t.health.health, Health::Up, "{}", t.health.last_error);
    assert_eq!(t.scrape_url, format!("https://localhost:{port}/metrics"));
    assert_eq!(st.values("tls_metric")[0], 42.0);

    let (t, _) = scrape_once(port, "    tls_config: {insecure_skip_verify: true}\n").await;
    assert_eq!(t.health.health, Health::Up, "{}", t.health.last_error);
}

#[tokio::test]
async fn client_certificates() {
    let pki = pki();
    let dir = tempfile::tempdir().unwrap();
    for (name, content) in [
        ("ca.pem", &pki.ca_pem),
        ("client.pem", &pki.client_pem),
        ("client.key", &pki.client_key_pem),
    ] {
        std::fs::write(dir.path().join(name), content).unwrap();
    }
    let port = tls_exporter(&pki, true, "mtls 1\n").await;
    let d = dir.path().display();
    let (t, _) = scrape_once(
        port,
        &format!("    tls_config: {{ca_file: '{d}/ca.pem'}}\n"),
    )
    .await;
    assert_eq!(
        t.health.health,
        Health::Down,
        "server requires a client certificate"
    );
    let with_cert = format!("    tls_config: {{ca_file: '{d}/ca.pem', cert_file: '{d}/client.pem', key_file: '{d}/client.key'}}\n");
    let (t, st) = scrape_once(port, &with_cert).await;
    assert_eq!(t.health.health, Health::Up, "{}", t.health.last_error);
    assert_eq!(st.values("mtls")[0], 1.0);
}

#[tokio::test]
async fn server_name_overrides_the_verified_name() {
    let pki = pki();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ca.pem"), &pki.ca_pem).unwrap();
    let port = tls_exporter(&pki, false, "sni 1\n").await;
    let d = dir.path().display();
    // The certificate names "localhost", not 127.0.0.1.
    let (t, _) = scrape_host(
        "127.0.0.1",
        port,
        &format!("    tls_config: {{ca_file: '{d}/ca.pem'}}\n"),
    )
    .await;
    assert_eq!(t.health.health, Health::Down);
    let (t, st) = scrape_host(
        "127.0.0.1",
        port,
        &format!("    tls_config: {{ca_file: '{d}/ca.pem', server_name: localhost}}\n"),
    )
    .await;
    assert_eq!(t.health.health, Health::Up, "{}", t.health.last_error);
    assert_eq!(st.values("sni")[0], 1.0);
    let (t, _) = scrape_host(
        "127.0.0.1",
        port,
        &format!("    tls_config: {{ca_file: '{d}/ca.pem', server_name: other.example}}\n"),
    )
    .await;
    assert_eq!(t.health.health, Health::Down);
}
