//! Helpers of the rules/alerting tests: starting real peers through `shared/peers/run`, a
//! loopback scrape target the test can switch off, JSON GETs and polling.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

const ROOT_FROM_CRATE: &str = "../..";

/// The `shared/` directory: `$KAGARI_SHARED` (relative to the workspace root), else
/// `../shared` beside the checkout.
pub(crate) fn shared_dir() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(ROOT_FROM_CRATE);
    let mut candidates = Vec::new();
    if let Ok(s) = std::env::var("KAGARI_SHARED") {
        candidates.push(root.join(s));
    }
    candidates.push(root.join("../shared"));
    candidates
        .into_iter()
        .find(|d| d.join("peers/run").exists())
}

/// `peers/run` if it and every binary in `binaries` exist; otherwise a loud SKIP (`None`),
/// or a panic under `KAGARI_REQUIRE_PEERS=true`.
pub(crate) fn require_peers(test: &str, binaries: &[&str]) -> Option<PathBuf> {
    let run = shared_dir().map(|d| d.join("peers/run"));
    let missing: Vec<&str> = binaries
        .iter()
        .copied()
        .filter(|b| !Path::new(b).exists())
        .collect();
    match run {
        Some(r) if missing.is_empty() => Some(r),
        _ => {
            let what = format!("peers/run or one of {missing:?} is missing");
            if std::env::var("KAGARI_REQUIRE_PEERS").as_deref() == Ok("true") {
                panic!("KAGARI_REQUIRE_PEERS=true but {what}");
            }
            eprintln!("SKIP {test}: {what} (set KAGARI_REQUIRE_PEERS=true to fail instead)");
            None
        }
    }
}

/// A peer started by `peers/run`, stopped by PID on drop.
pub(crate) struct Peer {
    run: PathBuf,
    pid: String,
    /// Its port on 127.0.0.1.
    pub(crate) port: u16,
    /// Its data directory.
    pub(crate) dir: tempfile::TempDir,
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = Command::new(&self.run).args(["stop", &self.pid]).status();
    }
}

impl Peer {
    /// `http://127.0.0.1:<port><path>`.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// The peer's log.
    pub(crate) fn log(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(format!("{name}.log"))).unwrap_or_default()
    }
}

/// Starts `kind` with `--data dir` (reused if given), an optional config written by
/// `config(port)`, and `extra` flags; retries on another port if one was taken.
pub(crate) fn start_peer(
    run: &Path,
    kind: &str,
    dir: Option<tempfile::TempDir>,
    config: Option<&dyn Fn(u16) -> String>,
    extra: &[&str],
) -> Peer {
    let dir = dir.unwrap_or_else(|| tempfile::tempdir().unwrap());
    for _ in 0..3 {
        let port = free_port();
        let mut cmd = Command::new(run);
        cmd.args([kind, "--port", &port.to_string(), "--data"])
            .arg(dir.path());
        if let Some(c) = config {
            let p = dir.path().join(format!("{kind}.yml"));
            std::fs::write(&p, c(port)).unwrap();
            cmd.arg("--config").arg(&p);
        }
        let out = cmd.args(extra).output().unwrap();
        if out.status.success() {
            let pid = String::from_utf8_lossy(&out.stdout).trim().to_string();
            return Peer {
                run: run.to_path_buf(),
                pid,
                port,
                dir,
            };
        }
        eprintln!(
            "{kind} start failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    panic!("could not start {kind}");
}

pub(crate) fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// A loopback exporter serving `metric 1`; while switched off it answers 503, so its
/// scrapes fail and `up` is 0.
pub(crate) struct Target {
    /// Its port.
    pub(crate) port: u16,
    on: Arc<AtomicBool>,
}

impl Target {
    pub(crate) fn start() -> Target {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let on = Arc::new(AtomicBool::new(true));
        let flag = on.clone();
        std::thread::spawn(move || {
            for conn in l.incoming() {
                let Ok(mut c) = conn else { return };
                let mut r = BufReader::new(c.try_clone().unwrap());
                loop {
                    let mut line = String::new();
                    if r.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
                        break;
                    }
                }
                let (status, body) = if flag.load(Ordering::Relaxed) {
                    ("200 OK", "# TYPE e2e_metric gauge\ne2e_metric 1\n")
                } else {
                    ("503 Service Unavailable", "down\n")
                };
                let _ = write!(
                    c,
                    "HTTP/1.1 {status}\r\nContent-Type: text/plain; version=0.0.4\r\n\
                     Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        Target { port, on }
    }

    /// Switches the target on (scrapes succeed) or off (503).
    pub(crate) fn set(&self, on: bool) {
        self.on.store(on, Ordering::Relaxed);
    }
}

pub(crate) fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

/// GET `url` → parsed JSON (`Null` for an empty body).
pub(crate) fn get_json(url: &str) -> Value {
    let mut r = agent().get(url).call().unwrap();
    let body = r.body_mut().read_to_string().unwrap();
    if body.is_empty() {
        return Value::Null;
    }
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{url}: {e}: {body}"))
}

/// Polls `f` every 250 ms until it returns `Some`, for at most `limit`; panics with `what`
/// and `context()` otherwise. A bound on waiting, not a timing assertion.
pub(crate) fn poll<T>(
    what: &str,
    limit: Duration,
    context: impl Fn() -> String,
    mut f: impl FnMut() -> Option<T>,
) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "gave up after {limit:?} waiting for {what}\n{}",
            context()
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// Percent-encodes a query parameter value.
pub(crate) fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Parses an RFC 3339 timestamp (`…Z`, optional fraction) to milliseconds.
pub(crate) fn rfc3339_ms(s: &str) -> i64 {
    let (date, time) = s.trim_end_matches('Z').split_once('T').unwrap();
    let mut d = date.split('-').map(|x| x.parse::<i64>().unwrap());
    let (y, m, day) = (d.next().unwrap(), d.next().unwrap(), d.next().unwrap());
    let (hms, frac) = time.split_once('.').unwrap_or((time, "0"));
    let mut t = hms.split(':').map(|x| x.parse::<i64>().unwrap());
    let (h, mi, sec) = (t.next().unwrap(), t.next().unwrap(), t.next().unwrap());
    let ms: i64 = format!("{:0<3}", &frac[..frac.len().min(3)])
        .parse()
        .unwrap();
    // Days from civil (Howard Hinnant).
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    ((days * 86_400 + h * 3600 + mi * 60 + sec) * 1000) + ms
}
