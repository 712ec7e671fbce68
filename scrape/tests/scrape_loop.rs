//! Scrape loops against loopback exporters, with an in-memory appender.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{eventually, Exporter, MemStorage, Response};
use kagari_model::is_stale;
use kagari_scrape::{Config, Health, ManagerOptions, ScrapeManager, TargetStatus};

const BODY: &str = "# HELP http_requests_total Requests.\n# TYPE http_requests_total counter\n\
http_requests_total{code=\"200\",method=\"get\"} 1027\n\
http_requests_total{code=\"400\",method=\"post\"} 3\n\
# TYPE temp gauge\ntemp 21.5\nweird{path=\"a\\\"b\\\\c\"} -Inf\n";

fn job(name: &str, target: &str, extra: &str) -> String {
    format!(
        "scrape_configs:\n  - job_name: {name}\n    scrape_interval: 500ms\n    scrape_timeout: 500ms\n{extra}    static_configs: [{{targets: ['{target}']}}]\n"
    )
}

fn manager(storage: &MemStorage, yaml: &str) -> ScrapeManager {
    let cfg = Config::from_yaml(yaml).unwrap();
    let opts = ManagerOptions {
        offset_seed: Some(0),
        file_sd_poll: Duration::from_millis(50),
        ..Default::default()
    };
    let mut m = ScrapeManager::new(Arc::new(storage.clone()), opts);
    m.apply_config(&cfg).unwrap();
    m
}

fn target(m: &ScrapeManager) -> TargetStatus {
    m.active_targets()
        .into_iter()
        .next()
        .expect("one active target")
}

/// Every value equals `want` (and there is at least one).
fn assert_all(values: &[f64], want: f64) {
    assert!(
        !values.is_empty() && values.iter().all(|v| *v == want),
        "{values:?} != all {want}"
    );
}

fn scraped(m: &ScrapeManager) -> bool {
    m.active_targets()
        .first()
        .is_some_and(|t| t.health.health != Health::Unknown)
}

#[tokio::test]
async fn text_samples_are_stored_as_served_with_report_series() {
    let exp = Exporter::start(Response::text(BODY)).await;
    let st = MemStorage::default();
    let m = manager(&st, &job("app", &exp.target(), ""));
    eventually("first scrape", || scraped(&m)).await;
    let t = target(&m);
    assert_eq!(t.health.health, Health::Up, "{}", t.health.last_error);
    assert_eq!(t.scrape_url, format!("http://{}/metrics", exp.addr));
    assert_eq!(
        t.labels.to_string(),
        format!(r#"{{instance="{}", job="app"}}"#, exp.addr)
    );
    let inst = exp.target();
    let ts = st.values("up");
    assert_eq!(ts[0], 1.0);
    let c200 = st.series(&format!(
        r#"http_requests_total{{code="200", instance="{inst}", job="app", method="get"}}"#
    ));
    assert_eq!(c200[0].v, 1027.0);
    let c400 = st.series(&format!(
        r#"http_requests_total{{code="400", instance="{inst}", job="app", method="post"}}"#
    ));
    assert_eq!(c400[0].v, 3.0);
    assert_eq!(
        st.series(&format!(r#"temp{{instance="{inst}", job="app"}}"#))[0].v,
        21.5
    );
    let weird = st.series(&format!(
        r#"weird{{instance="{inst}", job="app", path="a\"b\\c"}}"#
    ));
    assert_eq!(weird[0].v, f64::NEG_INFINITY);
    // All samples of one scrape share the scrape timestamp.
    assert_eq!(
        c200[0].t,
        st.series(&format!(r#"up{{instance="{inst}", job="app"}}"#))[0].t
    );
    assert_eq!(st.values("scrape_samples_scraped")[0], 4.0);
    assert_eq!(st.values("scrape_samples_post_metric_relabeling")[0], 4.0);
    assert_eq!(st.values("scrape_series_added")[0], 4.0);
    assert!(st.values("scrape_duration_seconds")[0] > 0.0);
    // Steady state: the second scrape adds no series.
    eventually("second scrape", || st.values("up").len() >= 2).await;
    assert_eq!(st.values("scrape_series_added")[1], 0.0);
    // Request headers.
    let req = exp.requests.lock().unwrap()[0].clone();
    assert_eq!(req[":request"], "GET /metrics HTTP/1.1");
    assert!(req["accept"]
        .starts_with("application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,"));
    assert_eq!(req["accept-encoding"], "gzip");
    assert_eq!(req["x-prometheus-scrape-timeout-seconds"], "0.5");
    m.stop().await;
}

#[tokio::test]
async fn openmetrics_gzip_and_honored_timestamps() {
    let body = "# TYPE a counter\na_total 5 1700000000.5\n# TYPE b gauge\nb{x=\"y\"} 2\n# EOF\n";
    let mut resp = Response::openmetrics(body);
    resp.gzip = true;
    let exp = Exporter::start(resp).await;
    let st = MemStorage::default();
    let m = manager(&st, &job("om", &exp.target(), ""));
    eventually("first scrape", || scraped(&m)).await;
    assert_eq!(
        target(&m).health.health,
        Health::Up,
        "{}",
        target(&m).health.last_error
    );
    let a = st
        .all()
        .into_iter()
        .find(|s| s.labels.metric_name() == Some("a_total"))
        .unwrap();
    assert_eq!((a.t, a.v), (1_700_000_000_500, 5.0));
    let b = st
        .all()
        .into_iter()
        .find(|s| s.labels.metric_name() == Some("b"))
        .unwrap();
    assert_eq!(b.labels.get("x"), Some("y"));
    assert_ne!(b.t, a.t);
    m.stop().await;

    // honor_timestamps: false uses the scrape timestamp.
    let st = MemStorage::default();
    let m = manager(
        &st,
        &job("om", &exp.target(), "    honor_timestamps: false\n"),
    );
    eventually("first scrape", || scraped(&m)).await;
    let a = st
        .all()
        .into_iter()
        .find(|s| s.labels.metric_name() == Some("a_total"))
        .unwrap();
    assert_eq!(
        a.t,
        st.all()
            .into_iter()
            .find(|s| s.labels.metric_name() == Some("up"))
            .unwrap()
            .t
    );
    m.stop().await;
}

#[tokio::test]
async fn target_down_gives_up_zero_and_stale_markers() {
    let exp = Exporter::start(Response::text("m 1\n")).await;
    let st = MemStorage::default();
    let m = manager(&st, &job("d", &exp.target(), ""));
    eventually("first scrape", || st.values("up").first() == Some(&1.0)).await;
    exp.set(|r| r.status = 503);
    eventually("failed scrape", || st.values("up").contains(&0.0)).await;
    let t = target(&m);
    assert_eq!(t.health.health, Health::Down);
    assert_eq!(
        t.health.last_error,
        "server returned HTTP status 503 Service Unavailable"
    );
    let m_values = st.values("m");
    assert_eq!(m_values[0], 1.0);
    let markers = m_values.iter().filter(|v| is_stale(**v)).count();
    assert_eq!(markers, 1, "{m_values:?}");
    // Further failures add no markers.
    eventually("more failures", || {
        st.values("up").iter().filter(|v| **v == 0.0).count() >= 3
    })
    .await;
    assert_eq!(st.values("m").iter().filter(|v| is_stale(**v)).count(), 1);
    // Recovery.
    exp.set(|r| r.status = 200);
    eventually("recovery", || st.values("up").last() == Some(&1.0)).await;
    assert_eq!(target(&m).health.health, Health::Up);
    m.stop().await;

    // Nothing listening at all.
    let st = MemStorage::default();
    let m = manager(&st, &job("gone", "127.0.0.1:1", ""));
    eventually("first scrape", || scraped(&m)).await;
    assert_all(&st.values("up"), 0.0);
    let err = target(&m).health.last_error;
    assert!(
        err.contains("127.0.0.1:1") && err.to_lowercase().contains("refused"),
        "{err}"
    );
    m.stop().await;
}

#[tokio::test]
async fn vanished_series_get_a_marker_at_the_next_scrape() {
    let exp = Exporter::start(Response::text("a 1\nb 2\n")).await;
    let st = MemStorage::default();
    let m = manager(&st, &job("v", &exp.target(), ""));
    eventually("first scrape", || !st.values("b").is_empty()).await;
    exp.set(|r| r.body = b"a 1\n".to_vec());
    eventually("b stale", || st.values("b").iter().any(|v| is_stale(*v))).await;
    let up = st.series(&format!(r#"up{{instance="{}", job="v"}}"#, exp.target()));
    let b_stale = st.values("b").len();
    assert_eq!(b_stale, 2);
    let marker_t = st
        .all()
        .into_iter()
        .filter(|s| s.labels.metric_name() == Some("b"))
        .last()
        .unwrap()
        .t;
    assert!(
        up.iter().any(|u| u.t == marker_t),
        "marker at a scrape timestamp"
    );
    assert!(st.values("a").iter().all(|v| !is_stale(*v)));
    m.stop().await;
}

#[tokio::test]
async fn reordered_series_keep_their_own_values() {
    let exp = Exporter::start(Response::text("a 1\nb 2\nc 3\n")).await;
    let st = MemStorage::default();
    let m = manager(&st, &job("o", &exp.target(), ""));
    eventually("first scrape", || !st.values("c").is_empty()).await;
    // Same series in another order, one gone, one new: positions no longer match.
    exp.set(|r| r.body = b"c 30\nd 40\nb 20\n".to_vec());
    eventually("second body", || st.values("d").contains(&40.0)).await;
    eventually("a stale", || st.values("a").iter().any(|v| is_stale(*v))).await;
    m.stop().await;
    let real =
        |n: &str| -> Vec<f64> { st.values(n).into_iter().filter(|v| !is_stale(*v)).collect() };
    for (name, old, new) in [("b", 2.0, 20.0), ("c", 3.0, 30.0)] {
        let v = real(name);
        assert!(v.iter().all(|x| *x == old || *x == new), "{name}: {v:?}");
        assert_eq!(v.last(), Some(&new), "{name}: {v:?}");
    }
    assert_all(&real("a"), 1.0);
    assert_all(&real("d"), 40.0);
}

async fn failing_scrape(extra: &str, resp: Response) -> (TargetStatus, MemStorage) {
    let exp = Exporter::start(resp).await;
    let st = MemStorage::default();
    let m = manager(&st, &job("f", &exp.target(), extra));
    eventually("first scrape", || scraped(&m)).await;
    let t = target(&m);
    m.stop().await;
    (t, st)
}

#[tokio::test]
async fn timeout_body_limit_sample_limit_and_invalid_exposition_fail_the_scrape() {
    let mut slow = Response::text("m 1\n");
    slow.delay = Duration::from_secs(2);
    let (t, st) = failing_scrape("", slow).await;
    assert_eq!(
        (t.health.health, t.health.last_error.as_str()),
        (Health::Down, "context deadline exceeded")
    );
    assert_all(&st.values("up"), 0.0);

    let (t, st) = failing_scrape(
        "    body_size_limit: 10B\n",
        Response::text("metric_name 12345\n"),
    )
    .await;
    assert_eq!(t.health.last_error, "body size limit exceeded");
    assert_all(&st.values("up"), 0.0);
    // Exactly the limit also fails.
    let (t, _) = failing_scrape("    body_size_limit: 4B\n", Response::text("m 1\n")).await;
    assert_eq!(t.health.last_error, "body size limit exceeded");
    let (t, _) = failing_scrape("    body_size_limit: 5B\n", Response::text("m 1\n")).await;
    assert_eq!(t.health.health, Health::Up);

    let (t, st) = failing_scrape("    sample_limit: 2\n", Response::text("a 1\nb 2\nc 3\n")).await;
    assert_eq!(t.health.last_error, "sample limit exceeded");
    assert_all(&st.values("up"), 0.0);
    assert_all(&st.values("scrape_samples_scraped"), 3.0);
    assert!(st.values("a").is_empty(), "rolled back");

    let (t, st) = failing_scrape("", Response::text("a 1\nb{ 2\n")).await;
    assert_eq!(t.health.health, Health::Down);
    assert!(
        t.health.last_error.starts_with("parse error at 2:"),
        "{}",
        t.health.last_error
    );
    assert_all(&st.values("up"), 0.0);
    assert!(st.values("a").is_empty(), "rolled back");

    let mut json = Response::text("a 1\n");
    json.content_type = Some("application/json".into());
    let (t, _) = failing_scrape("", json.clone()).await;
    assert!(
        t.health
            .last_error
            .contains("unsupported Content-Type \"application/json\""),
        "{}",
        t.health.last_error
    );
    let (t, st) = failing_scrape("    fallback_scrape_protocol: PrometheusText0.0.4\n", json).await;
    assert_eq!(t.health.health, Health::Up);
    assert_all(&st.values("a"), 1.0);

    let (t, _) = failing_scrape("    label_limit: 2\n", Response::text("a{x=\"1\"} 1\n")).await;
    assert!(
        t.health.last_error.starts_with("label_limit exceeded"),
        "{}",
        t.health.last_error
    );

    let (t, st) = failing_scrape("", Response::text("")).await;
    assert_eq!(t.health.health, Health::Up);
    assert_all(&st.values("scrape_samples_scraped"), 0.0);
}

#[tokio::test]
async fn basic_and_bearer_auth() {
    let mut resp = Response::text("secret_metric 1\n");
    resp.require_auth = Some("Basic dXNlcjpwYXNz".into());
    let (t, _) = failing_scrape("", resp.clone()).await;
    assert_eq!(
        t.health.last_error,
        "server returned HTTP status 401 Unauthorized"
    );
    let (t, st) = failing_scrape(
        "    basic_auth: {username: user, password: pass}\n",
        resp.clone(),
    )
    .await;
    assert_eq!(t.health.health, Health::Up, "{}", t.health.last_error);
    assert_all(&st.values("secret_metric"), 1.0);
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("pw");
    std::fs::write(&pw, "pass\n").unwrap();
    let (t, _) = failing_scrape(
        &format!(
            "    basic_auth: {{username: user, password_file: '{}'}}\n",
            pw.display()
        ),
        resp,
    )
    .await;
    assert_eq!(t.health.health, Health::Up, "{}", t.health.last_error);

    let mut resp = Response::text("m 1\n");
    resp.require_auth = Some("Bearer tok3n".into());
    let (t, st) = failing_scrape("", resp.clone()).await;
    assert_eq!(
        (t.health.health, t.health.last_error.as_str()),
        (Health::Down, "server returned HTTP status 401 Unauthorized")
    );
    assert_all(&st.values("up"), 0.0);
    let (t, _) = failing_scrape("    authorization: {credentials: wrong}\n", resp.clone()).await;
    assert_eq!(t.health.health, Health::Down);
    let (t, _) = failing_scrape("    authorization: {credentials: tok3n}\n", resp.clone()).await;
    assert_eq!(t.health.health, Health::Up, "{}", t.health.last_error);
    let (t, _) = failing_scrape("    bearer_token: tok3n\n", resp).await;
    assert_eq!(t.health.health, Health::Up, "{}", t.health.last_error);
}

#[tokio::test]
async fn metric_relabeling_and_honor_labels() {
    let body = "go_gc 1\nkeep_me{job=\"batch\"} 2\n";
    let extra = "    metric_relabel_configs:\n      - {source_labels: [__name__], regex: 'go_.*', action: drop}\n";
    let (_, st) = failing_scrape(extra, Response::text(body)).await;
    assert!(st.values("go_gc").is_empty());
    let k = st
        .all()
        .into_iter()
        .find(|s| s.labels.metric_name() == Some("keep_me"))
        .unwrap();
    assert_eq!(
        (k.labels.get("job"), k.labels.get("exported_job")),
        (Some("f"), Some("batch"))
    );
    assert_all(&st.values("scrape_samples_scraped"), 2.0);
    assert_all(&st.values("scrape_samples_post_metric_relabeling"), 1.0);
    let (_, st) = failing_scrape("    honor_labels: true\n", Response::text(body)).await;
    let k = st
        .all()
        .into_iter()
        .find(|s| s.labels.metric_name() == Some("keep_me"))
        .unwrap();
    assert_eq!(
        (k.labels.get("job"), k.labels.get("exported_job")),
        (Some("batch"), None)
    );
    // Report series keep the target's own labels.
    let up = st
        .all()
        .into_iter()
        .find(|s| s.labels.metric_name() == Some("up"))
        .unwrap();
    assert_eq!(up.labels.get("job"), Some("f"));
}

#[tokio::test]
async fn removed_target_gets_end_of_run_markers_and_reload_keeps_unchanged_loops() {
    let a = Exporter::start(Response::text("a_metric 1\n")).await;
    let b = Exporter::start(Response::text("b_metric 1\n")).await;
    let st = MemStorage::default();
    let both = format!(
        "{}{}",
        job("a", &a.target(), ""),
        job("b", &b.target(), "").replace("scrape_configs:\n", "")
    );
    let mut m = manager(&st, &both);
    eventually("both scraped", || {
        !st.values("a_metric").is_empty() && !st.values("b_metric").is_empty()
    })
    .await;
    let before = m
        .active_targets()
        .into_iter()
        .find(|t| t.job == "a")
        .unwrap();
    // Reload without job b.
    m.apply_config(&Config::from_yaml(&job("a", &a.target(), "")).unwrap())
        .unwrap();
    assert_eq!(m.active_targets().len(), 1);
    eventually("b stale", || {
        st.values("b_metric").iter().any(|v| is_stale(*v))
    })
    .await;
    let up_b = st.series(&format!(r#"up{{instance="{}", job="b"}}"#, b.target()));
    assert!(is_stale(up_b.last().unwrap().v), "report series stale too");
    // Job a kept its loop: never marked stale, health carried over.
    assert!(st.values("a_metric").iter().all(|v| !is_stale(*v)));
    let after = m
        .active_targets()
        .into_iter()
        .find(|t| t.job == "a")
        .unwrap();
    assert!(after.health.last_scrape >= before.health.last_scrape);
    assert_eq!(after.health.health, Health::Up);
    // A changed job (sample_limit) keeps its target loop too.
    m.apply_config(&Config::from_yaml(&job("a", &a.target(), "    sample_limit: 100\n")).unwrap())
        .unwrap();
    let n = st.values("a_metric").len();
    eventually("more scrapes", || st.values("a_metric").len() > n + 2).await;
    assert!(st.values("a_metric").iter().all(|v| !is_stale(*v)));
    m.stop().await;
}

#[tokio::test]
async fn target_limit_relabel_drops_and_file_sd() {
    let a = Exporter::start(Response::text("x 1\n")).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("targets.json");
    std::fs::write(
        &file,
        format!(
            r#"[{{"targets": ["{}"], "labels": {{"env": "test"}}}}]"#,
            a.target()
        ),
    )
    .unwrap();
    let yaml = format!(
        "scrape_configs:\n  - job_name: fsd\n    scrape_interval: 500ms\n    scrape_timeout: 500ms\n    file_sd_configs: [{{files: ['{}/*.json'], refresh_interval: 1m}}]\n    relabel_configs:\n      - {{source_labels: [__address__], regex: 'drop.*', action: drop}}\n",
        dir.path().display()
    );
    let st = MemStorage::default();
    let m = manager(&st, &yaml);
    eventually("file SD target scraped", || scraped(&m)).await;
    let t = target(&m);
    assert_eq!(t.labels.get("env"), Some("test"));
    assert_eq!(
        t.discovered_labels.get("__meta_filepath"),
        Some(file.to_str().unwrap())
    );
    // Rewrite the file: one more (dropped) target and a second real one.
    let b = Exporter::start(Response::text("y 1\n")).await;
    std::fs::write(
        &file,
        format!(
            r#"[{{"targets": ["{}", "{}", "drop:1"], "labels": {{"env": "test"}}}}]"#,
            a.target(),
            b.target()
        ),
    )
    .unwrap();
    eventually("two targets", || m.active_targets().len() == 2).await;
    eventually("dropped listed", || m.dropped_targets().len() == 1).await;
    assert_eq!(
        m.dropped_targets()[0].discovered_labels.get("__address__"),
        Some("drop:1")
    );
    eventually("b scraped", || !st.values("y").is_empty()).await;
    m.stop().await;

    let st = MemStorage::default();
    let yaml = format!(
        "scrape_configs:\n  - job_name: lim\n    scrape_interval: 500ms\n    scrape_timeout: 500ms\n    target_limit: 1\n    static_configs: [{{targets: ['{}', '{}']}}]\n",
        a.target(),
        b.target()
    );
    let m = manager(&st, &yaml);
    eventually("scraped", || {
        m.active_targets()
            .iter()
            .all(|t| t.health.health != Health::Unknown)
    })
    .await;
    for t in m.active_targets() {
        assert_eq!(
            t.health.last_error,
            "target_limit exceeded (number of targets: 2, limit: 1)"
        );
    }
    assert!(st.values("x").is_empty());
    m.stop().await;
}

#[tokio::test]
async fn reload_with_new_metric_relabeling_ends_the_old_series() {
    let exp = Exporter::start(Response::text("m{a=\"1\"} 1\n")).await;
    let st = MemStorage::default();
    let mut m = manager(&st, &job("r", &exp.target(), ""));
    eventually("first scrape", || !st.values("m").is_empty()).await;
    let rename = "    metric_relabel_configs:\n      - {source_labels: [a], target_label: b}\n";
    m.apply_config(&Config::from_yaml(&job("r", &exp.target(), rename)).unwrap())
        .unwrap();
    eventually("renamed series", || {
        st.all().iter().any(|s| s.labels.get("b") == Some("1"))
    })
    .await;
    let old = format!(r#"m{{a="1", instance="{}", job="r"}}"#, exp.target());
    eventually("old series stale", || {
        st.series(&old).iter().any(|s| is_stale(s.v))
    })
    .await;
    m.stop().await;
}

#[tokio::test]
async fn explicit_timestamps_are_not_staleness_tracked_unless_asked_and_duplicates_are_dropped() {
    let body = "a 1\nts_metric 5 1700000000000\ndup 1\ndup 2\n";
    let exp = Exporter::start(Response::text(body)).await;
    let st = MemStorage::default();
    let m = manager(&st, &job("ts", &exp.target(), ""));
    eventually("first scrape", || !st.values("a").is_empty()).await;
    // The second `dup` line of a scrape is dropped.
    assert_eq!(st.values("dup")[0], 1.0);
    assert_eq!(st.values("scrape_samples_scraped")[0], 4.0);
    exp.set(|r| r.body = b"\n".to_vec());
    eventually("a stale", || st.values("a").iter().any(|v| is_stale(*v))).await;
    assert!(
        st.values("ts_metric").iter().all(|v| !is_stale(*v)),
        "explicit timestamps: no marker"
    );
    assert!(st.values("dup").iter().all(|v| *v == 1.0 || is_stale(*v)));
    m.stop().await;

    let exp = Exporter::start(Response::text(body)).await;
    let st = MemStorage::default();
    let m = manager(
        &st,
        &job(
            "ts",
            &exp.target(),
            "    track_timestamps_staleness: true\n",
        ),
    );
    eventually("first scrape", || !st.values("a").is_empty()).await;
    exp.set(|r| r.body = b"\n".to_vec());
    eventually("ts_metric stale", || {
        st.values("ts_metric").iter().any(|v| is_stale(*v))
    })
    .await;
    m.stop().await;
}

#[tokio::test]
async fn request_shape_follows_the_job_config() {
    let exp = Exporter::start(Response::text("m 1\n")).await;
    let extra = "    metrics_path: /probe\n    params: {module: [http_2xx], target: ['a b']}\n    enable_compression: false\n    scrape_protocols: [PrometheusText0.0.4]\n";
    let st = MemStorage::default();
    let m = manager(&st, &job("shape", &exp.target(), extra));
    eventually("first scrape", || scraped(&m)).await;
    let t = target(&m);
    m.stop().await;
    assert_eq!(t.health.health, Health::Up, "{}", t.health.last_error);
    assert_eq!(
        t.scrape_url,
        format!("http://{}/probe?module=http_2xx&target=a+b", exp.addr)
    );
    let req = exp.requests.lock().unwrap()[0].clone();
    assert_eq!(
        req[":request"],
        "GET /probe?module=http_2xx&target=a+b HTTP/1.1"
    );
    assert_eq!(req["accept"], "text/plain;version=0.0.4;q=0.6,*/*;q=0.5");
    assert_eq!(req["accept-encoding"], "identity");
}

#[tokio::test]
async fn protobuf_is_never_negotiated() {
    let mut resp = Response::text("m 1\n");
    resp.protobuf_if_accepted = true;
    let exp = Exporter::start(resp).await;
    let extra =
        "    scrape_protocols: [PrometheusProto, OpenMetricsText1.0.0, PrometheusText0.0.4]\n";
    let st = MemStorage::default();
    let m = manager(&st, &job("proto", &exp.target(), extra));
    eventually("first scrape", || scraped(&m)).await;
    let t = target(&m);
    m.stop().await;
    assert_eq!(t.health.health, Health::Up, "{}", t.health.last_error);
    assert_all(&st.values("m"), 1.0);
    let req = exp.requests.lock().unwrap()[0].clone();
    assert_eq!(
        req["accept"],
        "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,text/plain;version=0.0.4;q=0.5,*/*;q=0.4"
    );

    // A target that sends protobuf anyway fails the scrape with a clear error.
    let mut resp = Response::text("m 1\n");
    resp.content_type = Some("application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited".into());
    let (t, st) = failing_scrape("", resp).await;
    assert_eq!(
        (t.health.health, t.health.last_error.as_str()),
        (
            Health::Down,
            "the protobuf exposition format is not supported"
        )
    );
    assert_all(&st.values("up"), 0.0);
}

#[tokio::test]
async fn reload_that_changes_static_targets_keeps_the_surviving_target_running() {
    let a = Exporter::start(Response::text("a_metric 1\n")).await;
    let b = Exporter::start(Response::text("b_metric 1\n")).await;
    let st = MemStorage::default();
    let mut m = manager(&st, &job("s", &a.target(), ""));
    eventually("a scraped", || !st.values("a_metric").is_empty()).await;
    let two = job("s", &a.target(), "").replace(
        &format!("['{}']", a.target()),
        &format!("['{}', '{}']", a.target(), b.target()),
    );
    m.apply_config(&Config::from_yaml(&two).unwrap()).unwrap();
    eventually("b scraped", || !st.values("b_metric").is_empty()).await;
    let n = st.values("a_metric").len();
    eventually("a keeps being scraped", || {
        st.values("a_metric").len() > n + 2
    })
    .await;
    assert!(
        st.values("a_metric").iter().all(|v| !is_stale(*v)),
        "a was never torn down"
    );
    m.stop().await;
}
