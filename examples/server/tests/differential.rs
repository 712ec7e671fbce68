//! Differential smoke test against the REAL Prometheus (Debian's 2.42, via `shared/peers/run`):
//! both servers scrape the same target (the Prometheus peer's own `/metrics`) every second,
//! then the same API requests go to both and the answers are compared — exactly for
//! data-independent queries and errors (status, `errorType`), structurally for scraped data.
//!
//! Without the peer the test prints a loud SKIP and returns, unless
//! `KAGARI_REQUIRE_PEERS=true`, in which case it fails.

mod common;

use std::ffi::OsString;
use std::path::Path;
use std::time::{Duration, Instant};

use common::{encode, Server, PATIENCE};
use kagari_testkit::Peer;
use serde_json::Value;

const BINARY: &str = "/usr/bin/prometheus";

fn scrape_config(target_port: u16) -> String {
    format!(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n\
         scrape_configs:\n  - job_name: prometheus\n    static_configs:\n      - targets: ['127.0.0.1:{target_port}']\n"
    )
}

/// A running Prometheus scraping itself (stopped on drop, before its directory goes).
struct Prometheus {
    _peer: Peer,
    port: u16,
    _dir: tempfile::TempDir,
}

fn start_prometheus() -> Prometheus {
    let dir = tempfile::tempdir().unwrap();
    let peer = Peer::start_with("prometheus", |port| {
        let cfg = dir.path().join("prometheus.yml");
        std::fs::write(&cfg, scrape_config(port)).unwrap();
        Ok(vec![
            OsString::from("--config"),
            cfg.into(),
            "--data".into(),
            dir.path().join("data").into(),
        ])
    })
    .unwrap_or_else(|e| panic!("could not start the Prometheus peer: {e}"));
    Prometheus {
        port: peer.port(),
        _peer: peer,
        _dir: dir,
    }
}

fn get(agent: &ureq::Agent, url: &str) -> (u16, Value) {
    let mut r = agent.get(url).call().unwrap();
    let status = r.status().as_u16();
    let body = r.body_mut().read_to_string().unwrap();
    let v = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("{url}: {e}: {body}"))
    };
    (status, v)
}

fn wait_up(agent: &ureq::Agent, base: &str) {
    let deadline = Instant::now() + PATIENCE;
    let url = format!("{base}/api/v1/query?query={}", encode("up == 1"));
    loop {
        let (_, v) = get(agent, &url);
        if v["data"]["result"].as_array().is_some_and(|r| r.len() == 1) {
            return;
        }
        assert!(Instant::now() < deadline, "{base}: up never became 1: {v}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn same_answers_as_prometheus() {
    kagari_testkit::skip_or_fail!(
        kagari_testkit::peers_run().is_some() && Path::new(BINARY).exists(),
        "same_answers_as_prometheus",
        "peers/run or {BINARY} is missing"
    );
    let prom = start_prometheus();
    let kagari = Server::start_custom(
        tempfile::tempdir().unwrap(),
        |_| scrape_config(prom.port),
        &[],
    );
    let agent = common::agent();
    let p = format!("http://127.0.0.1:{}", prom.port);
    let k = kagari.url("");
    wait_up(&agent, &p);
    wait_up(&agent, &k);

    // Data-independent answers must be identical (status and JSON).
    let exact = [
        "/api/v1/query?query=1%2B1&time=4",
        "/api/v1/query?query=vector(1)&time=1435781451.781",
        "/api/v1/query?query=%22a%22&time=100",
        "/api/v1/query?query=1%2F0&time=100",
        "/api/v1/query?query=vector(-1%2F0)&time=100",
        "/api/v1/query?query=vector(0%2F0)&time=100",
        "/api/v1/query?query=vector(1e21)&time=100",
        "/api/v1/query?query=vector(1.5e-7)&time=100",
        "/api/v1/query?query=vector(-0.000001)&time=100",
        "/api/v1/query?query=time()&time=2015-07-01T20:10:51.781Z",
        "/api/v1/query?query=label_replace(vector(1),%22a%22,%22b%22,%22%22,%22%22)&time=7",
        "/api/v1/query_range?query=vector(2)*time()&start=0&end=60&step=15",
        "/api/v1/query_range?query=vector(1)&start=0&end=0.5&step=0.1",
        "/api/v1/label/no_such_label/values",
        "/api/v1/format_query?query=sum(rate(foo%7Ba%3D%22b%22%7D%5B5m%5D))by(job)%2Fon(job)group_left%20bar",
        "/api/v1/format_query?query=sum%20by%20(job%2C%20instance%2C%20namespace)%20(rate(http_requests_total%7Bcode%3D~%225..%22%2C%20job%3D%22apiserver%22%7D%5B5m%5D))%20%2F%20on%20(job)%20group_left%20()%20sum%20by%20(job)%20(rate(http_requests_total%5B5m%5D))",
        "/api/v1/format_query?query=-foo%20offset%205m%20%40%20100%20and%20bar%5B1h%3A5m%5D%20%3E%20bool%201",
        "/api/v1/rules",
        "/api/v1/alerts",
        "/api/v1/alertmanagers",
    ];
    for path in exact {
        let want = get(&agent, &format!("{p}{path}"));
        let got = get(&agent, &format!("{k}{path}"));
        assert_eq!(got, want, "{path}");
    }

    // Errors: same status and errorType (messages may differ).
    let errors = [
        "/api/v1/query?query=up%7B",
        "/api/v1/query?query=",
        "/api/v1/query?query=up&time=abc",
        "/api/v1/query_range?query=up&start=10&end=5&step=1",
        "/api/v1/query_range?query=up&start=0&end=5&step=0",
        "/api/v1/query_range?query=up&start=0&end=5",
        "/api/v1/query_range?query=up&start=0&end=11001&step=1",
        "/api/v1/series",
        "/api/v1/series?match[]=%7Bjob%3D~%22.*%22%7D",
        "/api/v1/labels?start=abc",
        "/api/v1/query?query=sum(up)%20by",
    ];
    for path in errors {
        let (ws, wv) = get(&agent, &format!("{p}{path}"));
        let (gs, gv) = get(&agent, &format!("{k}{path}"));
        assert_eq!(gs, ws, "{path}: prometheus {wv}, kagari {gv}");
        assert_eq!(gv["status"], wv["status"], "{path}");
        assert_eq!(gv["errorType"], wv["errorType"], "{path}");
    }

    // Scraped data: both scrape the same target, so series and label sets agree.
    let same_data = [
        format!("/api/v1/series?match[]={}", encode("up")),
        format!("/api/v1/series?match[]={}", encode("prometheus_build_info")),
        format!("/api/v1/labels?match[]={}", encode("up")),
        "/api/v1/label/job/values".to_string(),
        "/api/v1/label/instance/values".to_string(),
        format!("/api/v1/query?query={}&time=", encode("count(up)")),
    ];
    for path in &same_data {
        let (ws, mut wv) = get(&agent, &format!("{p}{path}"));
        let (gs, mut gv) = get(&agent, &format!("{k}{path}"));
        // Instant-query timestamps are "now" on each side.
        for v in [&mut wv, &mut gv] {
            if let Some(r) = v["data"]
                .as_object_mut()
                .and_then(|d| d.get_mut("result"))
                .and_then(Value::as_array_mut)
            {
                for s in r {
                    s["value"][0] = Value::Null;
                }
            }
        }
        assert_eq!((gs, gv), (ws, wv), "{path}");
    }
    for name in [
        "up",
        "scrape_duration_seconds",
        "scrape_samples_scraped",
        "scrape_samples_post_metric_relabeling",
        "scrape_series_added",
        "prometheus_build_info",
        "go_goroutines",
    ] {
        let path = format!("/api/v1/series?match[]={}", encode(name));
        let (_, wv) = get(&agent, &format!("{p}{path}"));
        let (_, gv) = get(&agent, &format!("{k}{path}"));
        assert_eq!(gv["data"], wv["data"], "{name}");
    }

    // Targets: same public labels and health, same keys on each target.
    let (_, wv) = get(&agent, &format!("{p}/api/v1/targets"));
    let (_, gv) = get(&agent, &format!("{k}/api/v1/targets"));
    let (wt, gt) = (
        &wv["data"]["activeTargets"][0],
        &gv["data"]["activeTargets"][0],
    );
    assert_eq!(gt["labels"], wt["labels"]);
    assert_eq!(gt["health"], wt["health"]);
    assert_eq!(gt["scrapeUrl"], wt["scrapeUrl"]);
    assert_eq!(gt["scrapeInterval"], wt["scrapeInterval"]);
    for key in wt.as_object().unwrap().keys() {
        assert!(gt.get(key).is_some(), "target key {key} missing: {gt}");
    }
    assert_eq!(gv["data"]["droppedTargets"], wv["data"]["droppedTargets"]);

    // Federation: the same lines for `up` once values and timestamps are cut off.
    let strip = |body: String| -> Vec<String> {
        body.lines()
            .map(|l| match l.starts_with('#') {
                true => l.to_string(),
                false => l.rsplitn(3, ' ').last().unwrap().to_string(),
            })
            .collect()
    };
    let fed = format!(
        "/federate?match[]={}",
        encode("{__name__=~\"up|prometheus_build_info\"}")
    );
    let text = |base: &str| {
        let mut r = agent.get(&format!("{base}{fed}")).call().unwrap();
        r.body_mut().read_to_string().unwrap()
    };
    let want = strip(text(&p));
    assert_eq!(want.len(), 4, "{want:?}");
    assert_eq!(strip(text(&k)), want);

    // buildinfo carries the same keys.
    let (_, wv) = get(&agent, &format!("{p}/api/v1/status/buildinfo"));
    let (_, gv) = get(&agent, &format!("{k}/api/v1/status/buildinfo"));
    let keys = |v: &Value| {
        v["data"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(keys(&gv), keys(&wv));
}
