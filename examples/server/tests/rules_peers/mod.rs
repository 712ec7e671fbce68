//! Helpers of the rules/alerting tests: starting real peers through `shared/peers/run`, a
//! loopback scrape target the test can switch off, JSON GETs and polling.
#![allow(dead_code, unused_imports)] // each test binary uses a different subset

use std::ffi::OsString;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

/// The peer rule for peers started through `peers/run`: `true` if it and every binary in
/// `binaries` exist; otherwise a loud SKIP (`false`), or a panic under
/// `KAGARI_REQUIRE_PEERS=true`.
pub(crate) fn require_peers(test: &str, binaries: &[&str]) -> bool {
    let missing: Vec<&str> = binaries
        .iter()
        .copied()
        .filter(|b| !Path::new(b).exists())
        .collect();
    kagari_testkit::available(
        kagari_testkit::peers_run().is_some() && missing.is_empty(),
        test,
        &format!("peers/run or one of {missing:?} is missing"),
    )
}

/// A peer started by `peers/run` (stopped on drop, before its data directory goes).
pub(crate) struct Peer {
    peer: kagari_testkit::Peer,
    /// Its port on 127.0.0.1.
    pub(crate) port: u16,
    /// Its data directory.
    pub(crate) dir: tempfile::TempDir,
}

impl Peer {
    /// `http://127.0.0.1:<port><path>`.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.peer.url())
    }

    /// The peer's log.
    pub(crate) fn log(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(format!("{name}.log"))).unwrap_or_default()
    }
}

/// Starts `kind` with `--data dir` (reused if given), an optional config written by
/// `config(port)`, and `extra` flags; retries on another port if one was taken.
pub(crate) fn start_peer(
    kind: &str,
    dir: Option<tempfile::TempDir>,
    config: Option<&dyn Fn(u16) -> String>,
    extra: &[&str],
) -> Peer {
    let dir = dir.unwrap_or_else(|| tempfile::tempdir().unwrap());
    let peer = kagari_testkit::Peer::start_with(kind, |port| {
        let mut args = vec![OsString::from("--data"), dir.path().into()];
        if let Some(c) = config {
            let p = dir.path().join(format!("{kind}.yml"));
            std::fs::write(&p, c(port)).unwrap();
            args.extend([OsString::from("--config"), p.into()]);
        }
        args.extend(extra.iter().map(OsString::from));
        Ok(args)
    })
    .unwrap_or_else(|e| panic!("could not start {kind}: {e}"));
    Peer {
        port: peer.port(),
        peer,
        dir,
    }
}

pub(crate) use kagari_testkit::free_port;

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
pub(crate) use kagari_testkit::encode_param as encode;

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
