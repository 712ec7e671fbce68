//! Starts the `kagari` binary on a free loopback port with a temp data dir and a config that
//! scrapes itself every second, and talks to it with a blocking HTTP client.
#![allow(dead_code, unused_imports)] // each test binary uses a different subset

use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Generous bound for anything the server must do "eventually" (never a timing assertion).
pub(crate) const PATIENCE: Duration = Duration::from_secs(30);

/// A running server.
pub(crate) struct Server {
    child: Option<Child>,
    pub(crate) port: u16,
    pub(crate) dir: tempfile::TempDir,
    agent: ureq::Agent,
    /// The route prefix every path is requested under (`""` at the root).
    pub(crate) prefix: String,
}

pub(crate) use kagari_testkit::free_port;

pub(crate) fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into()
}

/// The self-scrape config at 1s plus `extra` YAML.
pub(crate) fn self_scrape_config(port: u16, extra: &str) -> String {
    format!(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  external_labels: {{replica: a}}\n\
         scrape_configs:\n  - job_name: prometheus\n    static_configs:\n      - targets: ['127.0.0.1:{port}']\n{extra}"
    )
}

impl Server {
    /// Starts a server scraping itself every second; `extra_yaml` is appended to the config.
    pub(crate) fn start(extra_yaml: &str, args: &[&str]) -> Server {
        let dir = tempfile::tempdir().unwrap();
        Server::start_in(dir, extra_yaml, args)
    }

    /// Like [`Server::start`] but in an existing directory (for restarts).
    pub(crate) fn start_in(dir: tempfile::TempDir, extra_yaml: &str, args: &[&str]) -> Server {
        Server::start_custom(dir, |port| self_scrape_config(port, extra_yaml), args)
    }

    /// Starts with the config `config(port)` in `dir`.
    pub(crate) fn start_custom(
        dir: tempfile::TempDir,
        config: impl Fn(u16) -> String,
        args: &[&str],
    ) -> Server {
        Server::start_prefixed(dir, config, args, "")
    }

    /// Like [`Server::start_custom`] for a server whose routes are under `prefix` (given by
    /// `args`); [`Server::url`] and the requests then prepend it.
    pub(crate) fn start_prefixed(
        dir: tempfile::TempDir,
        config: impl Fn(u16) -> String,
        args: &[&str],
        prefix: &str,
    ) -> Server {
        let mut dir = Some(dir);
        for _attempt in 0..3 {
            let port = free_port();
            let d = dir.take().unwrap();
            let cfg = d.path().join("prometheus.yml");
            let text = config(port);
            // An empty config: no --config.file, the server's embedded one.
            let cfg = (!text.is_empty()).then(|| {
                std::fs::write(&cfg, text).unwrap();
                cfg
            });
            let child = spawn(d.path(), cfg.as_deref(), port, args);
            let mut s = Server {
                child: Some(child),
                port,
                dir: d,
                agent: agent(),
                prefix: prefix.to_string(),
            };
            let ready = s.wait_ready();
            if ready == Readiness::Ready {
                return s;
            }
            let log = s.log();
            let d = s.take_dir();
            if ready != Readiness::Foreign && !log.contains("listening on") {
                panic!("server did not become ready:\n{log}");
            }
            // The port was taken meanwhile (our bind failed, or another test's server answers
            // on it): try another.
            dir = Some(d);
        }
        panic!("could not start the server");
    }

    fn take_dir(mut self) -> tempfile::TempDir {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let placeholder = tempfile::tempdir().unwrap();
        std::mem::replace(&mut self.dir, placeholder)
    }

    fn wait_ready(&mut self) -> Readiness {
        let deadline = Instant::now() + PATIENCE;
        while Instant::now() < deadline {
            if let Some(Ok(Some(_))) = self.child.as_mut().map(|c| c.try_wait()) {
                return Readiness::NotReady;
            }
            if let Ok((200, _)) = self.try_get("/-/ready") {
                return if self.is_ours() {
                    Readiness::Ready
                } else {
                    Readiness::Foreign
                };
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Readiness::NotReady
    }

    /// Whether the server answering on our port is our child (another test's server may have
    /// bound the port between `free_port` and our bind): its storage path is ours.
    fn is_ours(&self) -> bool {
        let want = self.dir.path().join("data").display().to_string();
        match self.try_get("/api/v1/status/flags") {
            Ok((200, body)) => serde_json::from_str::<Value>(&body)
                .is_ok_and(|v| v["data"]["storage.tsdb.path"].as_str() == Some(want.as_str())),
            _ => false,
        }
    }

    /// The server's log so far.
    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("kagari.log")).unwrap_or_default()
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{}{path}", self.port, self.prefix)
    }

    fn try_get(&self, path: &str) -> Result<(u16, String), ureq::Error> {
        let mut r = self.agent.get(&self.url(path)).call()?;
        let status = r.status().as_u16();
        Ok((status, r.body_mut().read_to_string()?))
    }

    /// GET → (status, body).
    pub(crate) fn get(&self, path: &str) -> (u16, String) {
        self.try_get(path).unwrap()
    }

    /// Form POST → (status, body).
    pub(crate) fn post_form(&self, path: &str, form: &[(&str, &str)]) -> (u16, String) {
        let mut r = self
            .agent
            .post(&self.url(path))
            .send_form(form.iter().copied())
            .unwrap();
        let status = r.status().as_u16();
        (status, r.body_mut().read_to_string().unwrap())
    }

    /// Any method with an empty body → status.
    pub(crate) fn method(&self, method: &str, path: &str) -> u16 {
        let req = ureq::http::Request::builder()
            .method(method)
            .uri(self.url(path))
            .body(())
            .unwrap();
        self.agent.run(req).unwrap().status().as_u16()
    }

    /// GET with request headers → (status, response headers).
    pub(crate) fn head_of(
        &self,
        path: &str,
        headers: &[(&str, &str)],
    ) -> (u16, ureq::http::HeaderMap) {
        let mut req = self.agent.get(&self.url(path));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let r = req.call().unwrap();
        (r.status().as_u16(), r.headers().clone())
    }

    /// GET with request headers → (status, raw body, Content-Encoding).
    pub(crate) fn get_raw(
        &self,
        path: &str,
        headers: &[(&str, &str)],
    ) -> (u16, Vec<u8>, Option<String>) {
        let mut req = self.agent.get(&self.url(path));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let mut r = req.call().unwrap();
        let enc = r
            .headers()
            .get("content-encoding")
            .map(|v| v.to_str().unwrap().to_string());
        (
            r.status().as_u16(),
            r.body_mut().read_to_vec().unwrap(),
            enc,
        )
    }

    /// Sends a signal (`HUP`, `TERM`, …) to the server.
    pub(crate) fn signal(&self, sig: &str) {
        let pid = self.child.as_ref().unwrap().id().to_string();
        let ok = Command::new("kill")
            .args([&format!("-{sig}"), pid.as_str()])
            .status()
            .unwrap();
        assert!(ok.success());
    }

    /// GET → (status, parsed JSON).
    pub(crate) fn json(&self, path: &str) -> (u16, Value) {
        let (s, b) = self.get(path);
        let v = serde_json::from_str(&b).unwrap_or_else(|e| panic!("{path}: {e}: {b}"));
        (s, v)
    }

    /// Polls `query` until it returns a non-empty vector; returns it.
    pub(crate) fn wait_for_vector(&self, query: &str) -> Vec<Value> {
        let path = format!("/api/v1/query?query={}", encode(query));
        let deadline = Instant::now() + PATIENCE;
        loop {
            let (s, v) = self.json(&path);
            assert_eq!(s, 200, "{v}");
            if let Some(r) = v["data"]["result"].as_array().filter(|r| !r.is_empty()) {
                return r.clone();
            }
            assert!(
                Instant::now() < deadline,
                "{query} stayed empty for {PATIENCE:?}; log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Sends SIGTERM and waits for the exit status.
    pub(crate) fn terminate(&mut self) -> ExitStatus {
        let mut c = self.child.take().unwrap();
        let ok = Command::new("kill")
            .args(["-TERM", &c.id().to_string()])
            .status()
            .unwrap();
        assert!(ok.success());
        c.wait().unwrap()
    }

    /// Waits for the process to exit on its own (after `/-/quit`).
    pub(crate) fn wait_exit(&mut self) -> ExitStatus {
        self.child.take().unwrap().wait().unwrap()
    }

    /// Stops the server (SIGTERM) and hands back its data directory.
    pub(crate) fn into_dir(mut self) -> tempfile::TempDir {
        if self.child.is_some() {
            assert!(self.terminate().success(), "{}", self.log());
        }
        self.take_dir()
    }
}

fn spawn(dir: &Path, cfg: Option<&Path>, port: u16, args: &[&str]) -> Child {
    let log = std::fs::File::create(dir.join("kagari.log")).unwrap();
    Command::new(env!("CARGO_BIN_EXE_kagari"))
        .args(cfg.map(|c| format!("--config.file={}", c.display())))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .args(args)
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap()
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Percent-encodes a query parameter value.
pub(crate) use kagari_testkit::encode_param as encode;

/// What [`Server::wait_ready`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Readiness {
    /// Our server answers ready.
    Ready,
    /// Our server exited or never became ready.
    NotReady,
    /// A server that is not ours answers on the port.
    Foreign,
}
