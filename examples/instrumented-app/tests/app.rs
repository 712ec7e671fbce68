//! Starts the app binary on a free port, drives its routes and checks its `/metrics`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};

struct App(Child);

impl Drop for App {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start() -> (App, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kagari-instrumented-app"))
        .arg("127.0.0.1:0")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on http://")
        .unwrap()
        .to_owned();
    (App(child), addr)
}

fn get(addr: &str, path: &str, accept: Option<&str>) -> (u16, String, String) {
    let mut c = TcpStream::connect(addr).unwrap();
    let accept = accept
        .map(|a| format!("Accept: {a}\r\n"))
        .unwrap_or_default();
    write!(c, "GET {path} HTTP/1.1\r\nHost: t\r\n{accept}\r\n").unwrap();
    let mut resp = String::new();
    c.read_to_string(&mut resp).unwrap();
    let (head, body) = resp.split_once("\r\n\r\n").unwrap();
    let code = head[9..12].parse().unwrap();
    let ct = head
        .lines()
        .find_map(|l| l.strip_prefix("Content-Type: "))
        .unwrap_or_default()
        .to_owned();
    (code, ct, body.to_owned())
}

fn value(metrics: &str, series: &str) -> Option<f64> {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[test]
fn routes_are_counted_timed_and_exposed() {
    let (_app, addr) = start();
    for _ in 0..3 {
        assert_eq!(get(&addr, "/", None).0, 200);
    }
    assert_eq!(get(&addr, "/work?ms=20", None).0, 200);
    assert_eq!(get(&addr, "/fail", None).0, 500);
    assert_eq!(get(&addr, "/nope", None).0, 404);

    let (code, ct, m) = get(&addr, "/metrics", None);
    assert_eq!(code, 200);
    assert_eq!(ct, "text/plain; version=0.0.4; charset=utf-8");
    assert_eq!(
        value(&m, "demo_http_requests_total{path=\"/\",code=\"200\"}"),
        Some(3.0)
    );
    assert_eq!(
        value(&m, "demo_http_requests_total{path=\"/fail\",code=\"500\"}"),
        Some(1.0)
    );
    assert_eq!(
        value(&m, "demo_http_requests_total{path=\"other\",code=\"404\"}"),
        Some(1.0)
    );
    assert_eq!(
        value(&m, "demo_http_request_errors_total{path=\"/fail\"}"),
        Some(1.0)
    );
    // The scrape itself is in flight while it is encoded.
    assert_eq!(value(&m, "demo_http_requests_in_progress"), Some(1.0));
    assert!(value(&m, "demo_http_last_served_timestamp_seconds").unwrap() > 1.6e9);
    assert_eq!(
        value(&m, "demo_http_request_latency_seconds_count"),
        Some(6.0)
    );
    assert_eq!(
        value(
            &m,
            "demo_http_request_duration_seconds_count{path=\"/work\"}"
        ),
        Some(1.0)
    );
    let work_sum = value(&m, "demo_http_request_duration_seconds_sum{path=\"/work\"}").unwrap();
    assert!(work_sum >= 0.02, "{work_sum}");
    assert!(m.contains("demo_http_request_latency_seconds{quantile=\"0.99\"}"));
    assert!(value(&m, "process_resident_memory_bytes").unwrap() > 0.0);
    assert!(m.contains("demo_build_info{version=\""));

    let (code, ct, om) = get(
        &addr,
        "/metrics",
        Some("application/openmetrics-text; version=1.0.0"),
    );
    assert_eq!(code, 200);
    assert!(ct.starts_with("application/openmetrics-text"), "{ct}");
    assert!(om.ends_with("# EOF\n"));
    assert!(om.contains("demo_http_requests_created{path=\"/\",code=\"200\"}"));
}
