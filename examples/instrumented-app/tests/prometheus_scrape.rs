//! The REAL Prometheus (Debian's 2.42, via `shared/peers/run`) scrapes the app every second;
//! its query API must then report the target up and the app's request counter with the
//! number of requests this test sent.
//!
//! Without the peer the test prints a loud SKIP and returns, unless
//! `KAGARI_REQUIRE_PEERS=true`, in which case it fails.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use kagari_testkit::{encode_param, free_port, http_get, skip_or_fail, Peer};

const BINARY: &str = "/usr/bin/prometheus";
/// Upper bound on waiting for Prometheus to report the expected values.
const DEADLINE: Duration = Duration::from_secs(40);
/// Requests sent to `/` (the value Prometheus must report for their counter).
const HELLOS: u32 = 4;

/// The app process, killed on drop.
struct App(Child);

impl Drop for App {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A running Prometheus (stopped on drop) and its scratch dir, removed on drop too.
struct Prometheus {
    peer: Peer,
    dir: PathBuf,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        self.peer.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn start_app() -> (App, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kagari-instrumented-app"))
        .arg("127.0.0.1:0")
        .stdout(Stdio::piped())
        .spawn()
        .expect("app starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("piped stdout"))
        .read_line(&mut line)
        .expect("app prints its address");
    let addr = line
        .trim()
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    (App(child), addr)
}

fn start_prometheus(app_addr: &str) -> Prometheus {
    let dir = std::env::temp_dir().join(format!(
        "kagari-app-prom-{}-{}",
        std::process::id(),
        Instant::now().elapsed().as_nanos() ^ u128::from(free_port())
    ));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let config = dir.join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
             scrape_configs:\n  - job_name: app\n    scrape_interval: 1s\n    scrape_timeout: 1s\n    \
             static_configs:\n      - targets: ['{app_addr}']\n"
        ),
    )
    .expect("config written");
    let data = dir.join("data");
    let peer = Peer::start(
        "prometheus",
        [Path::new("--config"), &config, Path::new("--data"), &data],
    )
    .unwrap_or_else(|e| panic!("could not start the real Prometheus: {e}"));
    Prometheus { peer, dir }
}

/// A plain HTTP/1.0 GET of `target` at `addr`; returns (status, body).
fn get(addr: &str, target: &str) -> Result<(u16, String), kagari_testkit::Error> {
    http_get(&format!("http://{addr}{target}"))
}

/// Runs an instant query; returns `(labels, value)` for each result, or `None` until the
/// API answers with a vector.
fn query(prom: &Prometheus, q: &str) -> Option<Vec<(serde_json::Value, f64)>> {
    let (code, body) = get(
        &prom.peer.addr(),
        &format!("/api/v1/query?query={}", encode_param(q)),
    )
    .ok()?;
    if code != 200 {
        eprintln!("query {q} answered {code}: {body}");
        return None;
    }
    let v: serde_json::Value = serde_json::from_str(&body).ok()?;
    if v["status"] != "success" || v["data"]["resultType"] != "vector" {
        return None;
    }
    let results = v["data"]["result"].as_array()?;
    results
        .iter()
        .map(|r| {
            let value = r["value"][1].as_str()?.parse().ok()?;
            Some((r["metric"].clone(), value))
        })
        .collect()
}

#[test]
fn real_prometheus_scrapes_the_app_and_queries_its_counter() {
    let have = kagari_testkit::peers_run().is_some() && Path::new(BINARY).exists();
    skip_or_fail!(
        have,
        "real_prometheus_scrapes_the_app_and_queries_its_counter",
        "real Prometheus not available ({BINARY})"
    );

    let (_app, app_addr) = start_app();
    for _ in 0..HELLOS {
        let (code, _) = get(&app_addr, "/").expect("app answers");
        assert_eq!(code, 200);
    }
    let (code, _) = get(&app_addr, "/fail").expect("app answers");
    assert_eq!(code, 500);

    let prom = start_prometheus(&app_addr);
    let start = Instant::now();
    let mut up = None;
    let mut hellos = None;
    let mut fails = None;
    let mut scrapes = None;
    while start.elapsed() < DEADLINE {
        up = query(&prom, "up{job=\"app\"}");
        hellos = query(
            &prom,
            "demo_http_requests_total{job=\"app\",path=\"/\",code=\"200\"}",
        );
        fails = query(&prom, "demo_http_request_errors_total{job=\"app\"}");
        // A scrape counts its own request after answering, so the next scrape shows it.
        scrapes = query(
            &prom,
            "demo_http_requests_total{job=\"app\",path=\"/metrics\"}",
        );
        let done = |r: &Option<Vec<(serde_json::Value, f64)>>, want: f64| matches!(r.as_deref(), Some([(_, v)]) if *v == want);
        let scraped = matches!(scrapes.as_deref(), Some([(_, v)]) if *v >= 1.0);
        if done(&up, 1.0) && done(&hellos, f64::from(HELLOS)) && done(&fails, 1.0) && scraped {
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    let log = std::fs::read_to_string(prom.dir.join("data/prometheus.log")).unwrap_or_default();
    let up = up.unwrap_or_default();
    assert!(
        matches!(up.as_slice(), [(_, v)] if *v == 1.0),
        "up{{job=\"app\"}} never became 1 within {DEADLINE:?}: {up:?}\nprometheus log:\n{log}"
    );
    let hellos = hellos.unwrap_or_default();
    match hellos.as_slice() {
        [(labels, v)] => {
            assert_eq!(*v, f64::from(HELLOS), "{labels}");
            assert_eq!(labels["instance"], app_addr.as_str(), "{labels}");
            assert_eq!(labels["path"], "/", "{labels}");
        }
        other => panic!("request counter not queryable as one series: {other:?}\n{log}"),
    }
    let fails = fails.unwrap_or_default();
    assert!(
        matches!(fails.as_slice(), [(_, v)] if *v == 1.0),
        "error counter: {fails:?}"
    );

    // Prometheus also kept the scrapes' own requests to /metrics, counted by the app.
    let scrapes = scrapes.unwrap_or_default();
    assert!(
        matches!(scrapes.as_slice(), [(_, v)] if *v >= 1.0),
        "scrape requests: {scrapes:?}"
    );
}
