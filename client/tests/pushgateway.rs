//! Push, pushadd and delete against the REAL Pushgateway (Debian's `prometheus-pushgateway`),
//! plus the exact requests the client sends (checked with a local fake server).
//!
//! Without the peer the gateway test prints a loud SKIP and returns, unless
//! `KAGARI_REQUIRE_PEERS=true`, in which case it fails.
#![cfg(feature = "push")]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::time::Duration;

use kagari_testkit::Peer;

use kagari_client::{
    Collector, Error, Gauge, IntCounter, MetricType, MetricWriter, Opts, Pusher, Registry, Value,
};

const BINARY: &str = "/usr/bin/prometheus-pushgateway";

/// The real Pushgateway on a free port (stopped on drop), or `None` after the peer rule (a
/// loud SKIP, or a failure under `KAGARI_REQUIRE_PEERS=true`) when it is not installed.
fn start_gateway() -> Option<Peer> {
    let have = kagari_testkit::peers_run().is_some() && Path::new(BINARY).exists();
    if !kagari_testkit::available(
        have,
        "push_pushadd_delete_against_real_pushgateway",
        &format!("{BINARY} or peers/run is missing"),
    ) {
        return None;
    }
    Some(Peer::start("pushgateway", [] as [&str; 0]).expect("the real Pushgateway starts"))
}

fn get(url: &str) -> String {
    ureq::get(url)
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap()
}

/// The gateway's sample lines for metrics starting with `kagari_` and the given job label,
/// sorted (push_time_seconds excluded, its value changes).
fn group_lines(gw: &Peer, job_label: &str) -> Vec<String> {
    let text = get(&format!("{}/metrics", gw.url()));
    let mut lines: Vec<String> = text
        .lines()
        .filter(|l| l.starts_with("kagari_") && l.contains(job_label))
        .map(str::to_owned)
        .collect();
    lines.sort();
    lines
}

fn push_times(gw: &Peer, job_label: &str) -> usize {
    get(&format!("{}/metrics", gw.url()))
        .lines()
        .filter(|l| l.starts_with("push_time_seconds{") && l.contains(job_label))
        .count()
}

fn registry_with(values: &[(&str, f64)]) -> Registry {
    let r = Registry::new();
    for (name, v) in values {
        if let Some(counter) = name.strip_suffix("_total") {
            let c: IntCounter = r.create(Opts::new(counter, "A counter.")).unwrap();
            c.inc_by(*v as u64);
        } else {
            let g: Gauge = r.create(Opts::new(*name, "A gauge.")).unwrap();
            g.set(*v);
        }
    }
    r
}

#[derive(Debug)]
struct Timestamped;

impl Collector for Timestamped {
    fn collect(&self, w: &mut MetricWriter<'_>) -> std::io::Result<()> {
        w.family("kagari_ts", MetricType::Gauge, "", None)?;
        w.sample("", &[], None, Value::Int(1), Some(1_000), None)
    }
}

#[test]
fn push_pushadd_delete_against_real_pushgateway() {
    let Some(gw) = start_gateway() else { return };

    // PUT replaces the whole group.
    let p1 = Pusher::new(&gw.url(), "j1")
        .unwrap()
        .grouping("instance", "i1")
        .unwrap();
    p1.push(&registry_with(&[
        ("kagari_a", 1.0),
        ("kagari_b_total", 2.0),
    ]))
    .unwrap();
    let j1 = "job=\"j1\"";
    assert_eq!(
        group_lines(&gw, j1),
        [
            "kagari_a{instance=\"i1\",job=\"j1\"} 1",
            "kagari_b_total{instance=\"i1\",job=\"j1\"} 2",
        ]
    );
    p1.push(&registry_with(&[("kagari_c", 3.0)])).unwrap();
    assert_eq!(
        group_lines(&gw, j1),
        ["kagari_c{instance=\"i1\",job=\"j1\"} 3"]
    );

    // POST replaces only same-named families.
    let p2 = Pusher::new(&gw.url(), "j2").unwrap();
    p2.push(&registry_with(&[
        ("kagari_a", 1.0),
        ("kagari_b_total", 2.0),
    ]))
    .unwrap();
    p2.pushadd(&registry_with(&[("kagari_a", 5.0), ("kagari_d", 7.0)]))
        .unwrap();
    let j2 = "job=\"j2\"";
    assert_eq!(
        group_lines(&gw, j2),
        [
            "kagari_a{instance=\"\",job=\"j2\"} 5",
            "kagari_b_total{instance=\"\",job=\"j2\"} 2",
            "kagari_d{instance=\"\",job=\"j2\"} 7",
        ]
    );
    assert_eq!(push_times(&gw, j2), 1);

    // DELETE removes the group including its push time; other groups stay.
    p2.delete().unwrap();
    // Deletes are queued by the gateway (202); poll briefly until applied.
    let mut tries = 0;
    while push_times(&gw, j2) != 0 && tries < 50 {
        std::thread::sleep(Duration::from_millis(100));
        tries += 1;
    }
    assert!(group_lines(&gw, j2).is_empty());
    assert_eq!(push_times(&gw, j2), 0);
    assert_eq!(
        group_lines(&gw, j1),
        ["kagari_c{instance=\"i1\",job=\"j1\"} 3"]
    );
    // Deleting a missing group is fine.
    p2.delete().unwrap();

    // Grouping values with '/', spaces, '+', unicode and empty values round-trip.
    let p3 = Pusher::new(&gw.url(), "a/b")
        .unwrap()
        .grouping("path", "/var/tmp")
        .unwrap()
        .grouping("sp", "a b")
        .unwrap()
        .grouping("plus", "x+y")
        .unwrap()
        .grouping("name", "Προμηθεύς")
        .unwrap()
        .grouping("empty", "")
        .unwrap();
    p3.push(&registry_with(&[("kagari_g", 1.0)])).unwrap();
    let groups = get(&format!("{}/api/v1/metrics", gw.url()));
    let expected_key = [
        "\"empty\":\"\"",
        "\"job\":\"a/b\"",
        "\"name\":\"Προμηθεύς\"",
        "\"path\":\"/var/tmp\"",
        "\"plus\":\"x+y\"",
        "\"sp\":\"a b\"",
    ];
    for part in expected_key {
        assert!(groups.contains(part), "{part} missing from {groups}");
    }
    let line = group_lines(&gw, "job=\"a/b\"");
    assert_eq!(line.len(), 1, "{line:?}");
    for part in [
        "path=\"/var/tmp\"",
        "sp=\"a b\"",
        "plus=\"x+y\"",
        "name=\"Προμηθεύς\"",
    ] {
        assert!(line[0].contains(part), "{part} missing from {}", line[0]);
    }
    p3.delete().unwrap();

    // The gateway's refusals come back with status and text.
    let r = Registry::new();
    r.register_collector(Timestamped).unwrap();
    match Pusher::new(&gw.url(), "j3").unwrap().push(&r) {
        Err(Error::PushStatus {
            status: 400, body, ..
        }) => {
            assert!(body.contains("must not have timestamps"), "{body}");
        }
        other => panic!("expected a 400, got {other:?}"),
    }
    // Inconsistent types across groups: a counter in j4, a gauge of the same name in j5.
    Pusher::new(&gw.url(), "j4")
        .unwrap()
        .push(&registry_with(&[("kagari_e_total", 1.0)]))
        .unwrap();
    let clash = Registry::new();
    let g: Gauge = clash
        .create(Opts::new("kagari_e_total", "A gauge."))
        .unwrap();
    g.set(1.0);
    match Pusher::new(&gw.url(), "j5").unwrap().push(&clash) {
        Err(Error::PushStatus {
            status: 400, body, ..
        }) => {
            assert!(body.contains("inconsistent"), "{body}");
        }
        other => panic!("expected a 400, got {other:?}"),
    }
    assert!(group_lines(&gw, "job=\"j5\"").is_empty());
}

/// Accepts one request on a local socket, answers with `reply`, returns the raw request.
fn fake_server(reply: &'static str) -> (String, std::thread::JoinHandle<String>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    let t = std::thread::spawn(move || {
        let (conn, _) = l.accept().unwrap();
        let mut r = BufReader::new(conn.try_clone().unwrap());
        let mut head = String::new();
        let mut len = 0usize;
        loop {
            let mut line = String::new();
            r.read_line(&mut line).unwrap();
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                len = v.trim().parse().unwrap();
            }
            head.push_str(&line);
            if line == "\r\n" || line.is_empty() {
                break;
            }
        }
        let mut body = vec![0; len];
        r.read_exact(&mut body).unwrap();
        (&conn).write_all(reply.as_bytes()).unwrap();
        head + &String::from_utf8(body).unwrap()
    });
    (url, t)
}

#[test]
fn requests_carry_method_path_auth_and_text_body() {
    let (url, t) = fake_server("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    let r = registry_with(&[("kagari_x", 2.0)]);
    Pusher::new(&url, "batch")
        .unwrap()
        .grouping("instance", "")
        .unwrap()
        .basic_auth("user", "pass")
        .pushadd(&r)
        .unwrap();
    let req = t.join().unwrap();
    assert!(
        req.starts_with("POST /metrics/job/batch/instance@base64/= HTTP/1.1\r\n"),
        "{req}"
    );
    let lower = req.to_ascii_lowercase();
    assert!(
        lower.contains("authorization: basic dxnlcjpwyxnz\r\n"),
        "{req}"
    );
    assert!(
        lower.contains("content-type: text/plain; version=0.0.4; charset=utf-8\r\n"),
        "{req}"
    );
    assert!(
        req.ends_with("# HELP kagari_x A gauge.\n# TYPE kagari_x gauge\nkagari_x 2\n"),
        "{req}"
    );
}

#[test]
fn error_status_and_text_are_reported() {
    let (url, t) =
        fake_server("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 5\r\n\r\nboom\n");
    let err = Pusher::new(&url, "j").unwrap().delete().unwrap_err();
    let req = t.join().unwrap();
    assert!(
        req.starts_with("DELETE /metrics/job/j HTTP/1.1\r\n"),
        "{req}"
    );
    match err {
        Error::PushStatus {
            status,
            body,
            url: u,
        } => {
            assert_eq!((status, body.as_str()), (503, "boom"));
            assert_eq!(u, format!("{url}/metrics/job/j"));
        }
        other => panic!("unexpected {other:?}"),
    }
}
