//! `--web.config.file` against the running binary: TLS with a certificate made in the test,
//! client certificates, basic auth with bcrypt hashes, extra headers, and invalid files.

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use common::{encode, PATIENCE};
use rcgen::{
    BasicConstraints, Certificate, CertificateParams, ExtendedKeyUsagePurpose, IsCa, KeyPair,
};
use ureq::tls::{ClientCert, PrivateKey, RootCerts, TlsConfig};

/// A kagari started with a web config; killed on drop.
struct Kagari {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Drop for Kagari {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Kagari {
    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("kagari.log")).unwrap_or_default()
    }
}

fn spawn(dir: &Path, port: u16, web_yml: &str) -> Child {
    let web = dir.join("web.yml");
    std::fs::write(&web, web_yml).unwrap();
    let log = std::fs::File::create(dir.join("kagari.log")).unwrap();
    Command::new(env!("CARGO_BIN_EXE_kagari"))
        .arg(format!("--web.config.file={}", web.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap()
}

/// Starts kagari in `dir` and waits until `ready(port)` holds.
fn start(dir: tempfile::TempDir, web_yml: &str, ready: impl Fn(u16) -> bool) -> Kagari {
    let port = common::free_port();
    let child = spawn(dir.path(), port, web_yml);
    let mut k = Kagari { child, port, dir };
    let deadline = Instant::now() + PATIENCE;
    while !ready(port) {
        if let Ok(Some(st)) = k.child.try_wait() {
            panic!("kagari exited with {st}:\n{}", k.log());
        }
        assert!(Instant::now() < deadline, "not ready:\n{}", k.log());
        std::thread::sleep(Duration::from_millis(100));
    }
    k
}

fn agent(tls: TlsConfig) -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .tls_config(tls)
        .build()
        .into()
}

struct Pki {
    ca: Certificate,
    ca_key: KeyPair,
}

impl Pki {
    fn new() -> Pki {
        let ca_key = KeyPair::generate().unwrap();
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca = p.self_signed(&ca_key).unwrap();
        Pki { ca, ca_key }
    }

    /// A leaf certificate for `names`, as (cert PEM, key PEM).
    fn leaf(&self, names: &[&str], client: bool) -> (String, String) {
        let key = KeyPair::generate().unwrap();
        let mut p = CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
            .unwrap();
        p.extended_key_usages = vec![if client {
            ExtendedKeyUsagePurpose::ClientAuth
        } else {
            ExtendedKeyUsagePurpose::ServerAuth
        }];
        let cert = p.signed_by(&key, &self.ca, &self.ca_key).unwrap();
        (cert.pem(), key.serialize_pem())
    }

    fn roots(&self) -> RootCerts {
        let der = self.ca.der().to_vec();
        RootCerts::new_with_certs(&[ureq::tls::Certificate::from_der(&der).to_owned()])
    }
}

fn get(agent: &ureq::Agent, url: &str) -> Result<(u16, String), ureq::Error> {
    let mut r = agent.get(url).call()?;
    Ok((r.status().as_u16(), r.body_mut().read_to_string()?))
}

#[test]
fn serves_tls_with_a_generated_certificate() {
    let pki = Pki::new();
    let (cert, key) = pki.leaf(&["localhost", "127.0.0.1"], false);
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("tls")).unwrap();
    std::fs::write(dir.path().join("tls/server.crt"), cert).unwrap();
    std::fs::write(dir.path().join("tls/server.key"), key).unwrap();
    // Relative paths are relative to the web config file.
    let web = "tls_server_config:\n  cert_file: tls/server.crt\n  key_file: tls/server.key\n  min_version: TLS12\n";
    let https = agent(TlsConfig::builder().root_certs(pki.roots()).build());
    let k = start(dir, web, |port| {
        get(&https, &format!("https://localhost:{port}/-/ready")).is_ok_and(|(s, _)| s == 200)
    });
    let base = format!("https://localhost:{}", k.port);
    let (st, body) = get(&https, &format!("{base}/api/v1/query?query=1%2B1&time=4")).unwrap();
    assert_eq!(
        (st, body.as_str()),
        (
            200,
            r#"{"status":"success","data":{"resultType":"scalar","result":[4,"2"]}}"#
        )
    );
    // The IP SAN verifies too.
    let (st, _) = get(&https, &format!("https://127.0.0.1:{}/-/healthy", k.port)).unwrap();
    assert_eq!(st, 200);
    // A client that does not trust the CA is refused by its own verification.
    let untrusting = agent(TlsConfig::builder().build());
    assert!(get(&untrusting, &format!("{base}/-/healthy")).is_err());
    // Plain HTTP on the TLS port gets no HTTP answer.
    let plain = common::agent();
    let r = get(&plain, &format!("http://127.0.0.1:{}/-/healthy", k.port));
    assert!(!matches!(r, Ok((200, _))), "{r:?}");
    // And the server is still fine after that.
    assert_eq!(get(&https, &format!("{base}/-/healthy")).unwrap().0, 200);
    assert!(k.log().contains("TLS is enabled"), "{}", k.log());
}

#[test]
fn requires_verified_client_certificates_when_asked() {
    let pki = Pki::new();
    let (cert, key) = pki.leaf(&["localhost"], false);
    let (ccert, ckey) = pki.leaf(&["client"], true);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("server.crt"), cert).unwrap();
    std::fs::write(dir.path().join("server.key"), key).unwrap();
    std::fs::write(dir.path().join("ca.crt"), pki.ca.pem()).unwrap();
    let web = "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.crt\n";
    let client_cert = ClientCert::new_with_certs(
        &[ureq::tls::Certificate::from_pem(ccert.as_bytes()).unwrap()],
        PrivateKey::from_pem(ckey.as_bytes()).unwrap(),
    );
    let with_cert = agent(
        TlsConfig::builder()
            .root_certs(pki.roots())
            .client_cert(Some(client_cert))
            .build(),
    );
    let k = start(dir, web, |port| {
        get(&with_cert, &format!("https://localhost:{port}/-/ready")).is_ok_and(|(s, _)| s == 200)
    });
    let url = format!("https://localhost:{}/-/healthy", k.port);
    assert_eq!(get(&with_cert, &url).unwrap().0, 200);
    let without = agent(TlsConfig::builder().root_certs(pki.roots()).build());
    assert!(
        get(&without, &url).is_err(),
        "a client without a certificate got in"
    );
    // A certificate from another CA is refused too.
    let other = Pki::new();
    let (ocert, okey) = other.leaf(&["client"], true);
    let stranger = agent(
        TlsConfig::builder()
            .root_certs(pki.roots())
            .client_cert(Some(ClientCert::new_with_certs(
                &[ureq::tls::Certificate::from_pem(ocert.as_bytes()).unwrap()],
                PrivateKey::from_pem(okey.as_bytes()).unwrap(),
            )))
            .build(),
    );
    assert!(
        get(&stranger, &url).is_err(),
        "a foreign certificate got in"
    );
    assert_eq!(get(&with_cert, &url).unwrap().0, 200);
}

fn basic(user: &str, pass: &str) -> String {
    let raw = format!("{user}:{pass}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
}

#[test]
fn basic_auth_rejects_missing_and_wrong_credentials() {
    // Cost 4 keeps the test quick; the server checks any cost the hash names.
    let alice = bcrypt::hash("wonderland", 4).unwrap();
    let bob = bcrypt::hash("builder", 5).unwrap();
    let web = format!(
        "basic_auth_users:\n  alice: '{alice}'\n  bob: '{bob}'\nhttp_server_config:\n  headers:\n    X-Frame-Options: deny\n"
    );
    let plain = common::agent();
    let right = basic("alice", "wonderland");
    let k = start(tempfile::tempdir().unwrap(), &web, |port| {
        plain
            .get(&format!("http://127.0.0.1:{port}/-/ready"))
            .header("Authorization", &right)
            .call()
            .is_ok_and(|r| r.status() == 200)
    });
    let call = |path: &str, auth: Option<&str>| {
        let mut req = plain.get(&format!("http://127.0.0.1:{}{path}", k.port));
        if let Some(a) = auth {
            req = req.header("Authorization", a);
        }
        let mut r = req.call().unwrap();
        let h = |n: &str| r.headers().get(n).map(|v| v.to_str().unwrap().to_string());
        let (www, xfo) = (h("www-authenticate"), h("x-frame-options"));
        (
            r.status().as_u16(),
            www,
            xfo,
            r.body_mut().read_to_string().unwrap(),
        )
    };
    let q = format!("/api/v1/query?query={}&time=4", encode("1+1"));
    for path in ["/-/healthy", q.as_str(), "/metrics", "/api/v1/nope"] {
        for auth in [
            None,
            Some(basic("alice", "wrong").as_str()),
            Some(basic("carol", "wonderland").as_str()),
            Some(basic("bob", "wonderland").as_str()),
            Some("Bearer wonderland"),
            Some("Basic not-base64!"),
        ] {
            let (st, www, xfo, body) = call(path, auth);
            assert_eq!(st, 401, "{path} with {auth:?}: {body}");
            assert_eq!(www.as_deref(), Some("Basic"), "{path} {auth:?}");
            assert_eq!(xfo.as_deref(), Some("deny"));
            assert_eq!(body, "Unauthorized\n");
        }
    }
    let (st, www, xfo, body) = call(&q, Some(&right));
    assert_eq!(
        (st, www, xfo.as_deref(), body.as_str()),
        (
            200,
            None,
            Some("deny"),
            r#"{"status":"success","data":{"resultType":"scalar","result":[4,"2"]}}"#
        )
    );
    assert_eq!(call("/-/healthy", Some(&basic("bob", "builder"))).0, 200);
    // Unknown paths still 404 once authenticated.
    assert_eq!(call("/api/v1/nope", Some(&right)).0, 404);
}

#[test]
fn invalid_web_config_stops_start_up() {
    for (yml, needle) in [
        (
            "tls_server_config:\n  cert_file: missing.crt\n  key_file: missing.key\n",
            "missing.crt",
        ),
        ("basic_auth_users:\n  alice: plaintext\n", "alice"),
        ("unknown_section: {}\n", "unknown field"),
        (
            "tls_server_config:\n  cert_file: a.crt\n",
            "missing one of key or key_file",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let mut child = spawn(dir.path(), common::free_port(), yml);
        let st = child.wait().unwrap();
        let log = std::fs::read_to_string(dir.path().join("kagari.log")).unwrap();
        assert!(!st.success(), "{yml}: started anyway");
        assert!(log.contains("error loading web config"), "{log}");
        assert!(log.contains(needle), "{yml}: {log}");
    }
}
