//! End-to-end: the real binary scrapes itself and answers the HTTP API with Prometheus's
//! shapes and error codes.

mod common;

use common::{encode, Server};
use serde_json::{json, Value};

fn assert_success(v: &Value) {
    assert_eq!(v["status"], "success", "{v}");
}

fn assert_error(server: &Server, path: &str, status: u16, error_type: &str) -> Value {
    let (s, v) = server.json(path);
    assert_eq!(s, status, "{path}: {v}");
    assert_eq!(v["status"], "error", "{v}");
    assert_eq!(v["errorType"], error_type, "{v}");
    assert!(v["error"].as_str().is_some_and(|e| !e.is_empty()), "{v}");
    v
}

#[test]
fn scrapes_itself_and_up_is_1() {
    let s = Server::start("", &[]);
    let r = s.wait_for_vector("up{job=\"prometheus\"}");
    assert_eq!(r.len(), 1);
    let instance = format!("127.0.0.1:{}", s.port);
    assert_eq!(
        r[0]["metric"],
        json!({"__name__": "up", "instance": instance, "job": "prometheus"})
    );
    assert_eq!(r[0]["value"][1], "1");
    assert!(r[0]["value"][0].is_number());
    // Scrape report series and our own /metrics are stored too.
    s.wait_for_vector("scrape_samples_scraped{job=\"prometheus\"} > 0");
    s.wait_for_vector("prometheus_http_requests_total{handler=\"/metrics\",code=\"200\"}");
}

#[test]
fn query_shapes() {
    let s = Server::start("", &[]);
    // Grafana's health check, exactly.
    let (st, body) = s.get("/api/v1/query?query=1%2B1&time=4");
    assert_eq!(st, 200);
    assert_eq!(
        body,
        r#"{"status":"success","data":{"resultType":"scalar","result":[4,"2"]}}"#
    );
    let (_, body) = s.get("/api/v1/query?query=%22hi%22&time=1.5");
    assert_eq!(
        body,
        r#"{"status":"success","data":{"resultType":"string","result":[1.5,"hi"]}}"#
    );
    let (_, body) = s.get("/api/v1/query?query=vector(1%2F0)&time=2015-07-01T20:10:51.781Z");
    assert_eq!(
        body,
        r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1435781451.781,"+Inf"]}]}}"#
    );
    let (_, body) = s.get("/api/v1/query?query=nothing_here&time=10");
    assert_eq!(
        body,
        r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#
    );

    // Form POST, range vector, limit.
    s.wait_for_vector("up");
    let (st, body) = s.post_form("/api/v1/query", &[("query", "up[1m]")]);
    assert_eq!(st, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_success(&v);
    assert_eq!(v["data"]["resultType"], "matrix");
    let values = v["data"]["result"][0]["values"].as_array().unwrap();
    assert!(!values.is_empty());
    assert!(values[0][0].is_number() && values[0][1].is_string());

    // lookback_delta: half a second after a sample, a 0.1s lookback finds nothing.
    let t = s.wait_for_vector("timestamp(up)")[0]["value"][1]
        .as_str()
        .unwrap()
        .to_string();
    let at = t.parse::<f64>().unwrap() + 0.5;
    let (_, v) = s.json(&format!("/api/v1/query?query=up&time={at}"));
    assert_eq!(v["data"]["result"].as_array().unwrap().len(), 1, "{v}");
    let (_, v) = s.json(&format!(
        "/api/v1/query?query=up&time={at}&lookback_delta=0.1"
    ));
    assert_eq!(v["data"]["result"], json!([]), "{v}");
    assert_eq!(s.json("/api/v1/query?query=up&lookback_delta=x").0, 400);

    let (_, v) = s.json("/api/v1/query?query=up&stats=true");
    let samples = &v["data"]["stats"]["samples"]["totalQueryableSamples"];
    assert!(samples.as_u64().unwrap() >= 1, "{v}");
    assert!(v["data"]["stats"]["timings"]["execTotalTime"].is_number());
    let (_, v) = s.json("/api/v1/query?query=up");
    assert!(v["data"].get("stats").is_none());

    let (_, v) = s.json("/api/v1/query?query=%7Bjob%3D%22prometheus%22%7D&limit=1");
    assert_eq!(v["data"]["result"].as_array().unwrap().len(), 1);
    assert_eq!(v["warnings"], json!(["results truncated due to limit"]));
}

#[test]
fn query_range_shape() {
    let s = Server::start("", &[]);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let (st, v) = s.json(&format!(
        "/api/v1/query_range?query=2*3&start={}&end={}&step=1m",
        now - 180.0,
        now
    ));
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["data"]["resultType"], "matrix");
    let series = v["data"]["result"].as_array().unwrap();
    assert_eq!(series.len(), 1);
    assert_eq!(series[0]["metric"], json!({}));
    let pts = series[0]["values"].as_array().unwrap();
    assert_eq!(pts.len(), 4);
    assert!(pts.iter().all(|p| p[1] == "6"));
    // 11 000 intervals are still accepted.
    let (st, v) = s.json("/api/v1/query_range?query=1&start=0&end=11000&step=1");
    assert_eq!(st, 200, "{v}");

    s.wait_for_vector("up");
    let start = now.to_string();
    let end = (now + 3600.0).to_string();
    let (st, body) = s.post_form(
        "/api/v1/query_range",
        &[
            ("query", "up"),
            ("start", &start),
            ("end", &end),
            ("step", "15"),
        ],
    );
    assert_eq!(st, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["data"]["result"][0]["metric"]["job"], "prometheus");
}

#[test]
fn metadata_endpoints() {
    let s = Server::start("", &[]);
    s.wait_for_vector("up");
    let (st, v) = s.json(&format!("/api/v1/series?match[]={}", encode("up")));
    assert_eq!(st, 200, "{v}");
    assert_eq!(
        v["data"],
        json!([{"__name__": "up", "instance": format!("127.0.0.1:{}", s.port), "job": "prometheus"}])
    );
    let (st, body) = s.post_form(
        "/api/v1/series",
        &[("match[]", "up"), ("match[]", "scrape_duration_seconds")],
    );
    assert_eq!(st, 200);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["data"].as_array().unwrap().len(), 2, "{v}");

    let (_, v) = s.json("/api/v1/labels");
    assert_success(&v);
    let names: Vec<&str> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap())
        .collect();
    for want in ["__name__", "instance", "job"] {
        assert!(names.contains(&want), "{names:?}");
    }
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    let (_, v) = s.json(&format!("/api/v1/labels?match[]={}", encode("up")));
    assert_eq!(v["data"], json!(["__name__", "instance", "job"]));

    let (_, v) = s.json("/api/v1/label/job/values");
    assert_eq!(v["data"], json!(["prometheus"]));
    s.wait_for_vector("prometheus_http_requests_total");
    let (_, v) = s.json("/api/v1/label/__name__/values");
    let metric_names = v["data"].as_array().unwrap();
    assert!(metric_names.contains(&json!("up")), "{v}");
    assert!(
        metric_names.contains(&json!("prometheus_http_requests_total")),
        "{v}"
    );
    let (_, v) = s.json("/api/v1/label/nonexistent/values");
    assert_eq!(v["data"], json!([]));
}

#[test]
fn status_endpoints() {
    let s = Server::start(
        "rule_files: [rules.yml]\nremote_write: [{url: 'http://127.0.0.1:1/w'}]\n",
        &[],
    );
    s.wait_for_vector("up");
    let (st, v) = s.json("/api/v1/targets");
    assert_eq!(st, 200);
    let t = &v["data"]["activeTargets"][0];
    assert_eq!(t["health"], "up", "{v}");
    assert_eq!(t["scrapePool"], "prometheus");
    assert_eq!(
        t["scrapeUrl"],
        format!("http://127.0.0.1:{}/metrics", s.port)
    );
    assert_eq!(
        t["labels"],
        json!({"instance": format!("127.0.0.1:{}", s.port), "job": "prometheus"})
    );
    assert_eq!(
        t["discoveredLabels"]["__address__"],
        format!("127.0.0.1:{}", s.port)
    );
    assert_eq!(t["scrapeInterval"], "1s");
    assert_eq!(t["lastError"], "");
    assert!(t["lastScrape"].as_str().unwrap().ends_with('Z'));
    assert!(t["lastScrapeDuration"].is_number());
    assert_eq!(v["data"]["droppedTargets"], json!([]));
    assert_eq!(v["data"]["droppedTargetCounts"], json!({"prometheus": 0}));
    let (_, v) = s.json("/api/v1/targets?state=dropped");
    assert_eq!(v["data"]["activeTargets"], json!([]));
    let (_, v) = s.json("/api/v1/targets?state=active");
    assert_eq!(v["data"]["droppedTargetCounts"], Value::Null);

    let (_, v) = s.json("/api/v1/status/buildinfo");
    assert_success(&v);
    for k in [
        "version",
        "revision",
        "branch",
        "buildUser",
        "buildDate",
        "goVersion",
    ] {
        assert!(v["data"][k].is_string(), "{k}: {v}");
    }
    assert!(v["data"].get("features").is_none());

    let (_, v) = s.json("/api/v1/status/config");
    assert!(v["data"]["yaml"]
        .as_str()
        .unwrap()
        .contains("job_name: prometheus"));
    let warnings = v["warnings"].as_array().unwrap();
    // rule_files is implemented now; remote_write is still only accepted.
    assert_eq!(warnings.len(), 1, "{v}");
    assert!(warnings[0].as_str().unwrap().contains("remote_write"));
    assert!(
        s.log().contains("remote_write"),
        "the warning is logged too"
    );

    let (st, v) = s.json("/api/v1/status/tsdb?limit=2");
    assert_eq!(st, 200, "{v}");
    assert!(
        v["data"]["headStats"]["numSeries"].as_u64().unwrap() > 5,
        "{v}"
    );
    let by_pair = v["data"]["seriesCountByLabelValuePair"].as_array().unwrap();
    assert_eq!(by_pair.len(), 2);
    // Every series has the same instance and job: a tie, ordered by name.
    assert_eq!(
        by_pair[0]["name"],
        format!("instance=127.0.0.1:{}", s.port),
        "{v}"
    );
    assert_eq!(by_pair[1]["name"], "job=prometheus", "{v}");
    assert_eq!(by_pair[0]["value"], by_pair[1]["value"]);
    assert_eq!(
        v["data"]["labelValueCountByLabelName"][0]["name"],
        "__name__"
    );
    assert_eq!(s.json("/api/v1/status/tsdb?limit=0").0, 400);

    // No rules or alerting yet: empty, well-formed answers.
    assert_eq!(s.json("/api/v1/rules").1["data"], json!({"groups": []}));
    assert_eq!(s.json("/api/v1/rules?type=bogus").0, 400);
    assert_eq!(s.json("/api/v1/alerts").1["data"], json!({"alerts": []}));
    let (_, v) = s.json("/api/v1/alertmanagers");
    assert_eq!(v["data"]["activeAlertmanagers"], json!([]));

    let (_, v) = s.json("/api/v1/status/flags");
    assert_eq!(v["data"]["query.lookback-delta"], "5m");
    assert_eq!(
        v["data"]["web.listen-address"],
        format!("127.0.0.1:{}", s.port)
    );

    let (st, body) = s.get("/metrics");
    assert_eq!(st, 200);
    for want in [
        "# TYPE prometheus_http_requests_total counter",
        "prometheus_http_request_duration_seconds_bucket{handler=\"/api/v1/targets\"",
        "process_cpu_seconds_total",
        "prometheus_tsdb_head_series",
    ] {
        assert!(body.contains(want), "missing {want}");
    }
    // CORS: Vary always, the allow headers only for requests with an Origin.
    let (_, h) = s.head_of("/api/v1/status/buildinfo", &[]);
    assert_eq!(h["vary"], "Origin");
    assert!(h.get("access-control-allow-origin").is_none());
    let (_, h) = s.head_of("/api/v1/status/buildinfo", &[("Origin", "http://x")]);
    assert_eq!(h["access-control-allow-origin"], "*");
    assert_eq!(h["access-control-allow-methods"], "GET, POST, OPTIONS");

    // gzip when asked for (Grafana does).
    let (st, raw, enc) = s.get_raw("/api/v1/status/buildinfo", &[("Accept-Encoding", "gzip")]);
    assert_eq!((st, enc.as_deref()), (200, Some("gzip")));
    let mut text = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&raw[..]), &mut text).unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap()["status"],
        "success"
    );
    let (_, _, enc) = s.get_raw("/api/v1/status/buildinfo", &[]);
    assert_eq!(enc, None);

    let (st, body) = s.get("/");
    assert_eq!(st, 200);
    assert!(
        body.contains("/assets/graph.js"),
        "/ redirects to the expression browser"
    );
    assert_eq!(s.get("/graph").0, 200);
    assert_eq!(
        s.get("/-/healthy"),
        (200, "Prometheus Server is Healthy.\n".to_string())
    );
    assert_eq!(
        s.get("/-/ready"),
        (200, "Prometheus Server is Ready.\n".to_string())
    );
}

#[test]
fn bad_input() {
    let s = Server::start("", &["--query.max-samples=3"]);
    let v = assert_error(&s, "/api/v1/query?query=up%7B", 400, "bad_data");
    assert_eq!(
        v["error"],
        "invalid parameter \"query\": 1:4: parse error: unexpected end of input inside braces"
    );
    assert_error(&s, "/api/v1/query?query=", 400, "bad_data");
    assert_error(&s, "/api/v1/query?query=up&time=yesterday", 400, "bad_data");
    assert_error(&s, "/api/v1/query?query=up&limit=-1", 400, "bad_data");
    assert_error(
        &s,
        "/api/v1/query_range?query=up&start=10&end=5&step=1",
        400,
        "bad_data",
    );
    assert_error(
        &s,
        "/api/v1/query_range?query=up&start=0&end=5&step=0",
        400,
        "bad_data",
    );
    assert_error(
        &s,
        "/api/v1/query_range?query=up&end=5&step=1",
        400,
        "bad_data",
    );
    let v = assert_error(
        &s,
        "/api/v1/query_range?query=up&start=0&end=11001&step=1",
        400,
        "bad_data",
    );
    assert!(v["error"].as_str().unwrap().contains("11,000 points"));
    assert_error(&s, "/api/v1/series", 400, "bad_data");
    let v = assert_error(
        &s,
        &format!("/api/v1/series?match[]={}", encode("{job=~\".*\"}")),
        400,
        "bad_data",
    );
    assert_eq!(
        v["error"],
        "match[] must contain at least one non-empty matcher"
    );
    assert_error(&s, "/api/v1/labels?start=abc", 400, "bad_data");
    // Sample limit → 422 execution; deadline → 503 timeout.
    s.wait_for_vector("up");
    let v = assert_error(
        &s,
        &format!("/api/v1/query?query={}", encode("{job=\"prometheus\"}")),
        422,
        "execution",
    );
    assert!(
        v["error"].as_str().unwrap().contains("too many samples"),
        "{v}"
    );
    assert_error(&s, "/api/v1/query?query=up&timeout=0", 503, "timeout");

    // Unknown endpoint, wrong method.
    assert_eq!(s.get("/api/v1/nope").0, 404);
    assert_eq!(s.get("/nope").0, 404);
    assert_eq!(s.method("POST", "/api/v1/label/job/values"), 405);
    assert_eq!(s.method("POST", "/api/v1/status/buildinfo"), 405);
    assert_eq!(s.method("DELETE", "/api/v1/query"), 405);
    assert_eq!(s.method("OPTIONS", "/api/v1/query"), 204);
    // Lifecycle endpoints are off by default.
    assert_eq!(s.method("POST", "/-/reload"), 403);
    assert_eq!(s.method("POST", "/-/quit"), 403);
    assert_eq!(s.method("GET", "/-/reload"), 405);
    assert_eq!(s.method("GET", "/api/v1/admin/tsdb/snapshot"), 405);
    let (st, body) = s.post_form("/api/v1/admin/tsdb/snapshot", &[]);
    assert_eq!(
        (st, body.as_str()),
        (
            500,
            r#"{"status":"error","errorType":"unavailable","error":"admin APIs disabled"}"#
        )
    );
}

#[test]
fn lifecycle_reload_quit_and_restart_keeps_data() {
    let mut s = Server::start("", &["--web.enable-lifecycle"]);
    s.wait_for_vector("up");
    // Reload picks up a changed file: a second job appears in the targets.
    let cfg = s.dir.path().join("prometheus.yml");
    let extra = "  - job_name: other\n    static_configs:\n      - targets: ['127.0.0.1:1']\n";
    std::fs::write(&cfg, common::self_scrape_config(s.port, extra)).unwrap();
    assert_eq!(s.method("POST", "/-/reload"), 200);
    let (_, v) = s.json("/api/v1/scrape_pools");
    assert_eq!(v["data"]["scrapePools"], json!(["other", "prometheus"]));
    // A broken file is refused and the old config stays.
    std::fs::write(&cfg, "scrape_configs: [{bogus: 1}]\n").unwrap();
    let (st, body) = s.post_form("/-/reload", &[]);
    assert_eq!(st, 500);
    assert!(body.starts_with("failed to reload config: "), "{body}");
    let (_, v) = s.json("/api/v1/scrape_pools");
    assert_eq!(v["data"]["scrapePools"], json!(["other", "prometheus"]));
    std::fs::write(&cfg, common::self_scrape_config(s.port, "")).unwrap();

    let (st, body) = s.post_form("/-/quit", &[]);
    assert_eq!(
        (st, body.as_str()),
        (200, "Requesting termination... Goodbye!")
    );
    let status = s.wait_exit();
    assert!(status.success(), "{status:?}\n{}", s.log());
    assert!(s.log().contains("closing storage"));

    // The WAL brings the samples back after a restart.
    let dir = s.into_dir();
    let s = Server::start_in(dir, "", &[]);
    let (_, v) = s.json("/api/v1/query?query=count_over_time(up%5B1h%5D)");
    let n: f64 = v["data"]["result"][0]["value"][1]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(n >= 1.0, "{v}");
}

#[test]
fn sigterm_shuts_down_gracefully() {
    let mut s = Server::start("", &[]);
    s.wait_for_vector("up");
    let status = s.terminate();
    assert!(status.success(), "{status:?}\n{}", s.log());
    let log = s.log();
    assert!(log.contains("received SIGTERM"), "{log}");
    assert!(log.contains("closing storage"), "{log}");
}

#[test]
fn admin_api_snapshot_and_delete_series() {
    let s = Server::start("", &["--web.enable-admin-api"]);
    s.wait_for_vector("up");
    let (st, body) = s.post_form("/api/v1/admin/tsdb/snapshot", &[]);
    assert_eq!(st, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    let name = v["data"]["name"].as_str().unwrap();
    let snap = s.dir.path().join("data/snapshots").join(name);
    let blocks: Vec<_> = std::fs::read_dir(&snap).unwrap().collect();
    assert!(!blocks.is_empty(), "empty snapshot {}", snap.display());
    assert!(blocks[0]
        .as_ref()
        .unwrap()
        .path()
        .join("meta.json")
        .exists());

    let (st, v) = s.json("/api/v1/query?query=time()");
    assert_eq!(st, 200);
    let t = v["data"]["result"][0].as_f64().unwrap().to_string();
    let count = format!(
        "/api/v1/query?query={}&time={t}",
        encode("count_over_time(up[1h])")
    );
    assert_eq!(
        s.json(&count).1["data"]["result"].as_array().unwrap().len(),
        1
    );
    let (st, body) = s.post_form(
        "/api/v1/admin/tsdb/delete_series",
        &[("match[]", "up"), ("end", &t)],
    );
    assert_eq!((st, body.as_str()), (204, ""));
    assert_eq!(s.json(&count).1["data"]["result"], json!([]));
    let (st, _) = s.post_form("/api/v1/admin/tsdb/delete_series", &[]);
    assert_eq!(st, 400);
}

#[test]
fn sighup_reloads_the_config() {
    let s = Server::start("", &[]);
    let cfg = s.dir.path().join("prometheus.yml");
    let extra = "  - job_name: other\n    static_configs:\n      - targets: ['127.0.0.1:1']\n";
    std::fs::write(&cfg, common::self_scrape_config(s.port, extra)).unwrap();
    s.signal("HUP");
    let deadline = std::time::Instant::now() + common::PATIENCE;
    loop {
        let (_, v) = s.json("/api/v1/scrape_pools");
        if v["data"]["scrapePools"] == json!(["other", "prometheus"]) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not reloaded: {v}\n{}",
            s.log()
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(s.log().contains("received SIGHUP"));
}

#[test]
fn sigint_shuts_down_gracefully() {
    let mut s = Server::start("", &[]);
    s.signal("INT");
    let status = s.wait_exit();
    assert!(status.success(), "{status:?}\n{}", s.log());
    assert!(s.log().contains("received SIGINT"));
}

#[test]
fn federate_latest_samples_with_external_labels() {
    let s = Server::start("", &[]);
    s.wait_for_vector("up");
    let (st, body) = s.get(&format!("/federate?match[]={}", encode("up")));
    assert_eq!(st, 200, "{body}");
    let lines: Vec<&str> = body.lines().collect();
    assert_eq!(lines.len(), 2, "{body}");
    assert_eq!(lines[0], "# TYPE up untyped");
    let want = format!(
        "up{{instance=\"127.0.0.1:{}\",job=\"prometheus\",replica=\"a\"}} 1 ",
        s.port
    );
    assert!(lines[1].starts_with(&want), "{body}");
    let ts: i64 = lines[1][want.len()..].parse().unwrap();
    assert!(ts > 1_600_000_000_000);
    assert_eq!(s.get("/federate"), (200, String::new()));
    assert_eq!(s.get("/federate?match[]=up%7B").0, 400);
}
