//! `static_configs`: a fixed list of target groups, sent once.

use tokio::sync::mpsc;

use super::{BoxFuture, Discoverer, LabelSet, TargetGroup};
use crate::config::StaticConfig;

/// Sends the static groups once, with sources `"0"`, `"1"`, … as Prometheus does.
#[derive(Debug, Clone)]
pub struct StaticDiscoverer {
    groups: Vec<TargetGroup>,
}

impl StaticDiscoverer {
    /// From the `static_configs` of a job.
    pub fn new(configs: &[StaticConfig]) -> Self {
        let groups = configs
            .iter()
            .enumerate()
            .map(|(i, sc)| TargetGroup {
                source: i.to_string(),
                targets: sc
                    .targets
                    .iter()
                    .map(|t| LabelSet::from([("__address__".to_string(), t.clone())]))
                    .collect(),
                labels: sc.labels.clone(),
            })
            .collect();
        StaticDiscoverer { groups }
    }
}

impl Discoverer for StaticDiscoverer {
    fn run(self: Box<Self>, tx: mpsc::Sender<Vec<TargetGroup>>) -> BoxFuture<()> {
        Box::pin(async move {
            // Ignore a closed channel: nobody is listening any more.
            let _ = tx.send(self.groups).await;
        })
    }
}
