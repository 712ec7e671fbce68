//! [`JobDiscovery`]: runs the providers of one job and publishes the merged target groups.

use std::collections::BTreeMap;
use std::sync::Arc;

use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use super::{Discoverer, TargetGroup};

/// The providers of one job, merged: the latest group per `(provider, source)`.
///
/// Dropping it stops the providers.
#[derive(Debug)]
pub struct JobDiscovery {
    rx: watch::Receiver<Arc<Vec<TargetGroup>>>,
    tasks: Vec<JoinHandle<()>>,
}

impl JobDiscovery {
    /// Starts `providers` on the current tokio runtime.
    pub fn start(providers: Vec<Box<dyn Discoverer>>) -> Self {
        let (wtx, rx) = watch::channel(Arc::new(Vec::new()));
        let mut tasks = Vec::new();
        let (utx, mut urx) = mpsc::channel::<(usize, Vec<TargetGroup>)>(16);
        for (i, p) in providers.into_iter().enumerate() {
            let (ptx, mut prx) = mpsc::channel(4);
            tasks.push(tokio::spawn(p.run(ptx)));
            let utx = utx.clone();
            tasks.push(tokio::spawn(async move {
                while let Some(groups) = prx.recv().await {
                    if utx.send((i, groups)).await.is_err() {
                        return;
                    }
                }
            }));
        }
        drop(utx);
        tasks.push(tokio::spawn(async move {
            let mut merged: BTreeMap<(usize, String), TargetGroup> = BTreeMap::new();
            while let Some((i, groups)) = urx.recv().await {
                apply(&mut merged, i, groups);
                // Coalesce whatever else is already queued before publishing.
                while let Ok((i, groups)) = urx.try_recv() {
                    apply(&mut merged, i, groups);
                }
                let all: Vec<TargetGroup> = merged.values().cloned().collect();
                if wtx.send(Arc::new(all)).is_err() {
                    return;
                }
            }
        }));
        JobDiscovery { rx, tasks }
    }

    /// A receiver of the merged groups; `changed()` fires on every update.
    pub fn subscribe(&self) -> watch::Receiver<Arc<Vec<TargetGroup>>> {
        self.rx.clone()
    }
}

fn apply(
    merged: &mut BTreeMap<(usize, String), TargetGroup>,
    provider: usize,
    groups: Vec<TargetGroup>,
) {
    for g in groups {
        let key = (provider, g.source.clone());
        if g.targets.is_empty() {
            merged.remove(&key);
        } else {
            merged.insert(key, g);
        }
    }
}

impl Drop for JobDiscovery {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}
