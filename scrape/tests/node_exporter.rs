//! Scraping the real node_exporter (Debian peer). Skips loudly when the peer is missing,
//! unless `KAGARI_REQUIRE_PEERS=true`.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use common::{eventually, MemStorage};
use kagari_scrape::{Config, Health, ManagerOptions, ScrapeManager};
use kagari_testkit::Peer;

const REPORT: [&str; 5] = [
    "up",
    "scrape_duration_seconds",
    "scrape_samples_scraped",
    "scrape_samples_post_metric_relabeling",
    "scrape_series_added",
];

/// The real node_exporter on a free port (stopped on drop), or `None` after the peer rule (a
/// loud SKIP, or a failure under `KAGARI_REQUIRE_PEERS=true`) when it cannot be started.
fn start_peer() -> Option<(Peer, u16)> {
    const TEST: &str = "scrapes_the_real_node_exporter";
    let have = kagari_testkit::peers_run().is_some()
        && Path::new("/usr/bin/prometheus-node-exporter").exists();
    if !kagari_testkit::available(have, TEST, "node_exporter peer script or binary missing") {
        return None;
    }
    match Peer::start("node-exporter", [] as [&str; 0]) {
        Ok(peer) => {
            let port = peer.port();
            Some((peer, port))
        }
        Err(e) => {
            kagari_testkit::skip(TEST, &format!("node_exporter peer did not start: {e}"));
            None
        }
    }
}

#[tokio::test]
async fn scrapes_the_real_node_exporter() {
    let Some((_peer, port)) = start_peer() else {
        return;
    };
    let addr = format!("127.0.0.1:{port}");
    let yaml = format!(
        "scrape_configs:\n  - job_name: node\n    scrape_interval: 2s\n    scrape_timeout: 2s\n    static_configs: [{{targets: ['{addr}'], labels: {{env: peer}}}}]\n"
    );
    let st = MemStorage::default();
    let opts = ManagerOptions {
        offset_seed: Some(0),
        ..Default::default()
    };
    let mut m = ScrapeManager::new(Arc::new(st.clone()), opts);
    m.apply_config(&Config::from_yaml(&yaml).unwrap()).unwrap();
    eventually("node_exporter scraped", || {
        m.active_targets()
            .iter()
            .any(|t| t.health.health != Health::Unknown)
    })
    .await;
    let t = &m.active_targets()[0];
    assert_eq!(t.health.health, Health::Up, "{}", t.health.last_error);
    let first = st.all();
    let up = first
        .iter()
        .find(|s| s.labels.metric_name() == Some("up"))
        .unwrap();
    assert_eq!(up.v, 1.0);
    let scrape_ts = up.t;
    let samples: Vec<_> = first
        .iter()
        .filter(|s| s.t == scrape_ts && !REPORT.contains(&s.labels.metric_name().unwrap_or("")))
        .collect();
    let scraped = first
        .iter()
        .find(|s| s.labels.metric_name() == Some("scrape_samples_scraped"))
        .unwrap()
        .v;
    assert!(
        scraped > 100.0,
        "node_exporter serves hundreds of samples, got {scraped}"
    );
    assert_eq!(
        samples.len() as f64,
        scraped,
        "every scraped sample was stored"
    );
    for s in &samples {
        assert_eq!(s.labels.get("job"), Some("node"), "{}", s.labels);
        assert_eq!(
            s.labels.get("instance"),
            Some(addr.as_str()),
            "{}",
            s.labels
        );
        assert_eq!(s.labels.get("env"), Some("peer"), "{}", s.labels);
    }
    let build = samples
        .iter()
        .find(|s| s.labels.metric_name() == Some("node_exporter_build_info"))
        .unwrap();
    assert_eq!(build.v, 1.0);
    assert!(
        build
            .labels
            .get("version")
            .is_some_and(|v| v.starts_with("1.")),
        "{}",
        build.labels
    );
    assert!(samples
        .iter()
        .any(|s| s.labels.metric_name() == Some("node_cpu_seconds_total")
            && s.labels.get("mode") == Some("idle")));

    // Compare with an independent fetch parsed by the exposition crate: same metric names.
    let body = reqwest::get(format!("http://{addr}/metrics"))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let families = kagari_exposition::parse_text(&body).unwrap();
    let served: BTreeSet<String> = families
        .iter()
        .flat_map(|f| f.samples.iter().map(|s| s.name.clone()))
        .collect();
    let stored: BTreeSet<String> = samples
        .iter()
        .filter_map(|s| s.labels.metric_name().map(str::to_string))
        .collect();
    assert_eq!(stored, served);

    // Stop the exporter: up=0 and every series gets exactly one stale marker.
    drop(_peer);
    eventually("scrape fails", || st.values("up").contains(&0.0)).await;
    let mut markers: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for s in st.all().into_iter().filter(|s| kagari_model::is_stale(s.v)) {
        *markers.entry(s.labels.to_string()).or_default() += 1;
    }
    assert!(markers.values().all(|n| *n == 1), "one marker per series");
    for s in &samples {
        assert!(
            markers.contains_key(&s.labels.to_string()),
            "no marker for {}",
            s.labels
        );
    }
    m.apply_config(&Config::default()).unwrap();
    m.stop().await;
}
