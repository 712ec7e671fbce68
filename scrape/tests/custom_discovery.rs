//! A custom [`Discoverer`] plugged into the manager: targets come and go without the scrape
//! loop knowing where they come from.

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use common::{eventually, Exporter, MemStorage, Response};
use kagari_model::is_stale;
use kagari_scrape::discovery::{BoxFuture, Discoverer, LabelSet, TargetGroup};
use kagari_scrape::{Config, DiscoveryFactory, ManagerOptions, ScrapeManager};
use tokio::sync::mpsc;

/// Forwards whatever the test sends.
#[derive(Debug)]
struct Channel(mpsc::Receiver<Vec<TargetGroup>>);

impl Discoverer for Channel {
    fn run(mut self: Box<Self>, tx: mpsc::Sender<Vec<TargetGroup>>) -> BoxFuture<()> {
        Box::pin(async move {
            while let Some(update) = self.0.recv().await {
                if tx.send(update).await.is_err() {
                    return;
                }
            }
        })
    }
}

fn group(source: &str, addrs: &[String]) -> TargetGroup {
    TargetGroup {
        source: source.into(),
        targets: addrs
            .iter()
            .map(|a| LabelSet::from([("__address__".to_string(), a.clone())]))
            .collect(),
        labels: BTreeMap::from([("__meta_custom_zone".to_string(), "z1".to_string())]),
    }
}

#[tokio::test]
async fn custom_provider_adds_and_removes_targets() {
    let a = Exporter::start(Response::text("from_a 1\n")).await;
    let b = Exporter::start(Response::text("from_b 1\n")).await;
    let (tx, rx) = mpsc::channel(4);
    let rx = Arc::new(Mutex::new(Some(rx)));
    let factory: DiscoveryFactory = Arc::new(move |_cfg| {
        rx.lock()
            .unwrap()
            .take()
            .map(|rx| Box::new(Channel(rx)) as Box<dyn Discoverer>)
            .into_iter()
            .collect()
    });
    let yaml = "scrape_configs:\n  - job_name: custom\n    scrape_interval: 500ms\n    scrape_timeout: 500ms\n    relabel_configs:\n      - {source_labels: [__meta_custom_zone], target_label: zone}\n";
    let st = MemStorage::default();
    let opts = ManagerOptions {
        offset_seed: Some(0),
        extra_discovery: Some(factory),
        ..Default::default()
    };
    let mut m = ScrapeManager::new(Arc::new(st.clone()), opts);
    m.apply_config(&Config::from_yaml(yaml).unwrap()).unwrap();
    tx.send(vec![group("g1", &[a.target()]), group("g2", &[b.target()])])
        .await
        .unwrap();
    eventually("both scraped", || {
        !st.values("from_a").is_empty() && !st.values("from_b").is_empty()
    })
    .await;
    let zones: Vec<_> = m
        .active_targets()
        .iter()
        .map(|t| t.labels.get("zone").map(str::to_string))
        .collect();
    assert_eq!(zones, [Some("z1".to_string()), Some("z1".to_string())]);
    // An empty group removes its targets; their series go stale.
    tx.send(vec![group("g2", &[])]).await.unwrap();
    eventually("one target left", || m.active_targets().len() == 1).await;
    eventually("b stale", || {
        st.values("from_b").iter().any(|v| is_stale(*v))
    })
    .await;
    assert!(st.values("from_a").iter().all(|v| !is_stale(*v)));
    m.stop().await;
}
