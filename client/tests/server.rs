//! The built-in `/metrics` server: negotiation, methods, paths, concurrency and shutdown.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

use kagari_client::{start_http_server, IntCounter, Opts, Registry};

fn request(addr: SocketAddr, raw: &str) -> String {
    let mut c = TcpStream::connect(addr).unwrap();
    c.write_all(raw.as_bytes()).unwrap();
    let mut out = String::new();
    c.read_to_string(&mut out).unwrap();
    out
}

fn setup() -> (Registry, IntCounter) {
    let r = Registry::new();
    let c: IntCounter = r.create(Opts::new("hits", "Hits.")).unwrap();
    c.inc_by(5);
    (r, c)
}

#[test]
fn serves_text_and_openmetrics() {
    let (r, _c) = setup();
    let s = start_http_server("127.0.0.1:0", r).unwrap();
    let text = request(s.local_addr(), "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
    assert!(text.contains("\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"));
    assert!(text
        .ends_with("\r\n\r\n# HELP hits_total Hits.\n# TYPE hits_total counter\nhits_total 5\n"));

    let om = request(
        s.local_addr(),
        "GET /metrics HTTP/1.1\r\nAccept: application/openmetrics-text;version=1.0.0,text/plain;q=0.5\r\n\r\n",
    );
    assert!(
        om.contains(
            "\r\nContent-Type: application/openmetrics-text; version=1.0.0; charset=utf-8\r\n"
        ),
        "{om}"
    );
    assert!(om.contains("\nhits_total 5\nhits_created "), "{om}");
    assert!(om.ends_with("# EOF\n"));
    let len: usize = om
        .lines()
        .find_map(|l| l.strip_prefix("Content-Length: "))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert_eq!(len, om.split_once("\r\n\r\n").unwrap().1.len());
    s.shutdown();
}

#[test]
fn methods_paths_and_bad_requests() {
    let (r, _c) = setup();
    let s = start_http_server("127.0.0.1:0", r).unwrap();
    let a = s.local_addr();
    let head = request(a, "HEAD /metrics HTTP/1.1\r\n\r\n");
    assert!(
        head.starts_with("HTTP/1.1 200 OK\r\n") && head.ends_with("\r\n\r\n"),
        "{head}"
    );
    assert!(request(a, "POST /metrics HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 405 "));
    assert!(request(a, "GET /nope HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 404 "));
    assert!(request(a, "garbage\r\n\r\n").starts_with("HTTP/1.1 400 "));
    assert!(request(a, "GET /?x=1 HTTP/1.0\r\n\r\n").starts_with("HTTP/1.1 200 "));
}

#[test]
fn concurrent_scrapes_see_updates_and_shutdown_stops_listening() {
    let (r, c) = setup();
    let s = start_http_server("127.0.0.1:0", r).unwrap();
    let addr = s.local_addr();
    std::thread::scope(|sc| {
        for _ in 0..8 {
            sc.spawn(|| {
                for _ in 0..10 {
                    let out = request(addr, "GET /metrics HTTP/1.1\r\n\r\n");
                    assert!(out.starts_with("HTTP/1.1 200 OK"));
                }
            });
        }
    });
    c.inc();
    assert!(request(addr, "GET /metrics HTTP/1.1\r\n\r\n").ends_with("hits_total 6\n"));
    s.shutdown();
    assert!(
        TcpStream::connect(addr).is_err(),
        "still listening after shutdown"
    );
}
