//! `--web.external-url` and `--web.route-prefix` against the binary: every route under the
//! prefix (and none outside it), the redirects Prometheus answers, UI pages whose links and
//! assets resolve under the prefix, `/api/v1/status/flags`, the embedded self-scrape, template
//! functions and the `generatorURL` sent to an Alertmanager (a loopback listener here).

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::mpsc;
use std::time::Duration;

use common::{Server, PATIENCE};
use serde_json::Value;

/// An agent that reports redirects instead of following them.
fn no_redirects() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

/// GET `http://127.0.0.1:<port><path>` (no prefix added) → (status, Location).
fn raw(port: u16, path: &str) -> (u16, Option<String>) {
    let r = no_redirects()
        .get(&format!("http://127.0.0.1:{port}{path}"))
        .call()
        .unwrap();
    let loc = r
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string());
    (r.status().as_u16(), loc)
}

/// The `href="…"` and `src="…"` values of a page.
fn links(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    for attr in ["href=\"", "src=\""] {
        for (i, m) in html.match_indices(attr) {
            if let Some(v) = html[i + m.len()..].split('"').next() {
                out.push(v.to_string());
            }
        }
    }
    out
}

#[test]
fn every_route_is_under_the_external_urls_path() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start_prefixed(
        dir,
        |_| String::new(), // the embedded config: it must scrape /foo/metrics
        &["--web.external-url=http://proxy.example:8080/foo/"],
        "/foo",
    );
    let p = s.port;
    // Redirects as Prometheus: / → prefix → home page.
    assert_eq!(raw(p, "/"), (302, Some("/foo".into())));
    assert_eq!(raw(p, "/foo"), (302, Some("/foo/graph".into())));
    assert_eq!(raw(p, "/foo/"), (302, Some("/foo/graph".into())));
    // Everything is under the prefix, nothing outside it.
    for path in [
        "/-/healthy",
        "/-/ready",
        "/metrics",
        "/federate?match[]=up",
        "/graph",
        "/query",
        "/alerts",
        "/status",
        "/assets/common.js",
        "/api/v1/status/buildinfo",
    ] {
        assert_eq!(raw(p, &format!("/foo{path}")).0, 200, "/foo{path}");
        assert_eq!(raw(p, path).0, 404, "{path} outside the prefix");
    }
    assert_eq!(raw(p, "/foo/nope").0, 404);
    assert_eq!(raw(p, "/foobar/graph").0, 404);

    // Flags: the external URL as given, the route prefix as resolved.
    let (_, v) = s.json("/api/v1/status/flags");
    assert_eq!(
        v["data"]["web.external-url"],
        "http://proxy.example:8080/foo/"
    );
    assert_eq!(v["data"]["web.route-prefix"], "/foo");

    // The UI page: every link and asset under the prefix, and each asset is served there.
    let (status, html) = s.get("/graph");
    assert_eq!(status, 200);
    assert!(html.contains("data-prefix=\"/foo\""), "{html}");
    let urls = links(&html);
    assert!(urls.len() >= 10, "{urls:?}");
    for u in urls.iter().filter(|u| !u.starts_with("data:")) {
        assert!(u.starts_with("/foo/"), "{u} is not under the prefix");
        assert_eq!(raw(p, u).0, 200, "{u}");
    }
    let (_, js) = s.get("/assets/common.js");
    assert!(
        js.contains("PREFIX + \"/api/v1/\""),
        "API calls ignore the prefix"
    );

    // The embedded self-scrape follows the prefix, and the handler label leaves it out.
    s.wait_for_vector("up{job=\"prometheus\"} == 1");
    s.wait_for_vector("prometheus_http_requests_total{handler=\"/metrics\",code=\"200\"}");
}

#[test]
fn route_prefix_flag_overrides_the_external_path() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start_prefixed(
        dir,
        |port| common::self_scrape_config(port, "    metrics_path: /inner/metrics\n"),
        &[
            "--web.external-url=http://proxy.example/outer",
            "--web.route-prefix=inner/",
        ],
        "/inner",
    );
    // Served under the route prefix; links (as seen through the proxy) use the external path.
    assert_eq!(raw(s.port, "/inner/-/healthy").0, 200);
    assert_eq!(raw(s.port, "/outer/-/healthy").0, 404);
    assert_eq!(raw(s.port, "/inner/"), (302, Some("/outer/graph".into())));
    let (_, html) = s.get("/graph");
    assert!(html.contains("href=\"/outer/assets/kagari.css\""), "{html}");
    let (_, v) = s.json("/api/v1/status/flags");
    assert_eq!(v["data"]["web.route-prefix"], "/inner");
    s.wait_for_vector("up{job=\"prometheus\"} == 1");
}

#[test]
fn default_external_url_is_hostname_and_port() {
    let s = Server::start("", &[]);
    assert_eq!(raw(s.port, "/"), (302, Some("/graph".into())));
    let (_, v) = s.json("/api/v1/status/flags");
    assert_eq!(v["data"]["web.external-url"], "");
    assert_eq!(v["data"]["web.route-prefix"], "/");
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let want = format!("http://{}:{}", host.trim(), s.port);
    assert!(s.log().contains(&want), "log lacks {want}:\n{}", s.log());
}

const RULES: &str = "groups:\n\
- name: web\n\
\x20 rules:\n\
\x20 - alert: Always\n\
\x20   expr: vector(1)\n\
\x20   annotations:\n\
\x20     url: '{{ $externalURL }}'\n\
\x20     fn: '{{ externalURL }}'\n\
\x20     prefix: '{{ pathPrefix }}'\n";

/// Accepts connections and sends the body of each POST to `/api/v2/alerts` down `tx`.
fn fake_alertmanager(l: TcpListener, tx: mpsc::Sender<String>) {
    for conn in l.incoming() {
        let Ok(mut c) = conn else { return };
        let mut r = BufReader::new(c.try_clone().unwrap());
        let mut line = String::new();
        let mut len = 0usize;
        let mut first = String::new();
        r.read_line(&mut first).unwrap();
        loop {
            line.clear();
            if r.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
                break;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                len = v.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; len];
        r.read_exact(&mut body).unwrap();
        let _ = c.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        if first.contains("/api/v2/alerts") && tx.send(String::from_utf8(body).unwrap()).is_err() {
            return;
        }
    }
}

#[test]
fn alerts_and_templates_use_the_external_url() {
    let am = TcpListener::bind("127.0.0.1:0").unwrap();
    let am_port = am.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || fake_alertmanager(am, tx));
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rules.yml"), RULES).unwrap();
    let s = Server::start_prefixed(
        dir,
        move |_| {
            format!(
                "global:\n  evaluation_interval: 1s\nrule_files: [rules.yml]\n\
                 alerting:\n  alertmanagers:\n  - static_configs: [{{targets: ['127.0.0.1:{am_port}']}}]\n"
            )
        },
        &["--web.external-url=https://prom.example/ui/"],
        "/ui",
    );
    let body = rx
        .recv_timeout(PATIENCE)
        .expect("no alert reached the Alertmanager");
    let alerts: Value = serde_json::from_str(&body).unwrap();
    let a = &alerts[0];
    assert_eq!(a["labels"]["alertname"], "Always", "{body}");
    assert_eq!(
        a["generatorURL"],
        "https://prom.example/ui/graph?g0.expr=vector%281%29&g0.tab=1"
    );
    assert_eq!(a["annotations"]["url"], "https://prom.example/ui");
    assert_eq!(a["annotations"]["fn"], "https://prom.example/ui");
    assert_eq!(a["annotations"]["prefix"], "/ui");
    // The same annotations through the API under the prefix.
    let (_, v) = s.json("/api/v1/alerts");
    assert_eq!(
        v["data"]["alerts"][0]["annotations"]["prefix"], "/ui",
        "{v}"
    );
}
