//! The notifier: sends alerts to Alertmanagers over the API v2 (`POST /api/v2/alerts`).
//!
//! Pipeline (upstream `notifier.Manager`, v3 layout): external labels are added to every
//! alert that lacks them, the global `alert_relabel_configs` run (dropped alerts vanish), then
//! for every Alertmanager set its own `alert_relabel_configs`, and the result is queued for
//! every Alertmanager of the set. Each Alertmanager has its own bounded queue (the oldest
//! alerts are dropped and counted when it overflows) and its own sender thread, which posts
//! batches of at most `batch_size` alerts. A failed post drops the batch (counted): there is
//! no retry, the rules' resend logic delivers the state again later.
//!
//! - `config.rs`: the `alerting:` configuration section;
//! - `wire.rs`: the JSON request body.
//!
//! HTTP goes through the workspace's blocking client (`ureq`): sending is rare (once per
//! evaluation interval), each Alertmanager has its own thread anyway, and this keeps the crate
//! free of an async runtime so any host program can embed it.

mod config;
mod wire;

use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use kagari_model::{relabel, Labels, RelabelConfig};

use crate::manager::AlertSink;
use crate::rules::NotifierAlert;

pub use config::{AlertmanagerConfig, ConfigError, NotifierConfig};

/// Flags of the notifier.
#[derive(Debug, Clone)]
pub struct NotifierOptions {
    /// `--alertmanager.notification-queue-capacity`: alerts queued per Alertmanager.
    /// Default 10000.
    pub queue_capacity: usize,
    /// Alerts per request. Default 64 (Prometheus 2.x's fixed batch size).
    pub batch_size: usize,
    /// `--alertmanager.drain-notification-queue-on-shutdown`. Default true.
    pub drain_on_shutdown: bool,
    /// Added to alerts that lack them.
    pub external_labels: Labels,
    /// `User-Agent` of the requests.
    pub user_agent: String,
}

impl Default for NotifierOptions {
    fn default() -> Self {
        NotifierOptions {
            queue_capacity: 10_000,
            batch_size: 64,
            drain_on_shutdown: true,
            external_labels: Labels::empty(),
            user_agent: format!("Kagari/{}", env!("CARGO_PKG_VERSION")),
        }
    }
}

/// Counters of one Alertmanager (upstream labels them `alertmanager=<url>`).
#[derive(Debug, Default)]
pub struct AmStats {
    /// `prometheus_notifications_sent_total`: alerts posted successfully.
    pub sent: AtomicU64,
    /// `prometheus_notifications_errors_total`: alerts in failed posts.
    pub errors: AtomicU64,
    /// Requests made (for `prometheus_notifications_latency_seconds_count`).
    pub requests: AtomicU64,
    /// Sum of request latencies in ns (`prometheus_notifications_latency_seconds_sum`).
    pub latency_ns: AtomicU64,
}

/// One Alertmanager: its URL, queue and counters.
#[derive(Debug)]
pub struct Alertmanager {
    url: String,
    timeout: Duration,
    queue: Mutex<Queue>,
    cv: Condvar,
    stats: AmStats,
}

#[derive(Debug, Default)]
struct Queue {
    alerts: VecDeque<NotifierAlert>,
    stopping: bool,
}

impl Alertmanager {
    /// The push URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The counters.
    pub fn stats(&self) -> &AmStats {
        &self.stats
    }

    fn queue(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queued alerts.
    pub fn queue_len(&self) -> usize {
        self.queue().alerts.len()
    }

    /// Enqueues `alerts`, dropping the oldest beyond `cap`; returns how many were dropped.
    fn push(&self, mut alerts: Vec<NotifierAlert>, cap: usize) -> u64 {
        let mut dropped = 0u64;
        if alerts.len() > cap {
            let over = alerts.len() - cap;
            dropped += over as u64;
            alerts.drain(..over);
        }
        let mut q = self.queue();
        let over = (q.alerts.len() + alerts.len()).saturating_sub(cap);
        if over > 0 {
            dropped += over as u64;
            q.alerts.drain(..over);
        }
        q.alerts.extend(alerts);
        drop(q);
        self.cv.notify_all();
        dropped
    }
}

/// One `alertmanagers[]` set after discovery.
#[derive(Debug)]
struct AmSet {
    alert_relabel: Vec<RelabelConfig>,
    ams: Vec<Arc<Alertmanager>>,
    dropped_urls: Vec<String>,
}

struct Inner {
    opts: NotifierOptions,
    global_relabel: Vec<RelabelConfig>,
    sets: Vec<AmSet>,
    threads: Vec<JoinHandle<()>>,
}

/// The notifier; see the module docs. It implements [`AlertSink`] for the rule manager.
pub struct Notifier {
    inner: Mutex<Inner>,
    dropped: Arc<AtomicU64>,
}

impl fmt::Debug for Notifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notifier")
            .field("alertmanagers", &self.alertmanagers().0)
            .finish_non_exhaustive()
    }
}

impl Notifier {
    /// A notifier with `cfg`'s Alertmanagers; starts one sender thread per Alertmanager.
    pub fn new(cfg: &NotifierConfig, opts: NotifierOptions) -> Notifier {
        let n = Notifier {
            inner: Mutex::new(Inner {
                opts: opts.clone(),
                global_relabel: Vec::new(),
                sets: Vec::new(),
                threads: Vec::new(),
            }),
            dropped: Arc::default(),
        };
        n.apply_config(cfg, opts);
        n
    }

    fn inner(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Replaces the configuration. Alertmanagers whose URL stays keep their queue and
    /// sender; removed ones send what they hold (if draining is on) and stop.
    pub fn apply_config(&self, cfg: &NotifierConfig, opts: NotifierOptions) {
        let mut inner = self.inner();
        let old: Vec<Arc<Alertmanager>> = inner
            .sets
            .iter()
            .flat_map(|s| s.ams.iter().cloned())
            .collect();
        let mut sets = Vec::with_capacity(cfg.alertmanagers.len());
        let mut keep = Vec::new();
        for amc in &cfg.alertmanagers {
            let (urls, dropped_urls) = amc.urls();
            let timeout = Duration::from_millis(u64::try_from(amc.timeout_ms).unwrap_or(0));
            let mut ams = Vec::with_capacity(urls.len());
            for url in urls {
                let reuse = old
                    .iter()
                    .find(|a| a.url == url && a.timeout == timeout && !keep.contains(&a.url));
                match reuse {
                    Some(a) => {
                        keep.push(a.url.clone());
                        ams.push(a.clone());
                    }
                    None => {
                        let am = Arc::new(Alertmanager {
                            url,
                            timeout,
                            queue: Mutex::default(),
                            cv: Condvar::new(),
                            stats: AmStats::default(),
                        });
                        let (a, o) = (am.clone(), opts.clone());
                        let d = self.dropped.clone();
                        match std::thread::Builder::new()
                            .name("notifier".into())
                            .spawn(move || send_loop(&a, &o, &d))
                        {
                            Ok(t) => inner.threads.push(t),
                            Err(e) => tracing::error!(error = %e, "cannot start a notifier thread"),
                        }
                        ams.push(am);
                    }
                }
            }
            sets.push(AmSet {
                alert_relabel: amc.alert_relabel_configs.clone(),
                ams,
                dropped_urls,
            });
        }
        for a in old.iter().filter(|a| !keep.contains(&a.url)) {
            a.queue().stopping = true;
            a.cv.notify_all();
        }
        inner.global_relabel = cfg.alert_relabel_configs.clone();
        inner.sets = sets;
        inner.opts = opts;
        inner.threads.retain(|t| !t.is_finished());
    }

    /// `(active, dropped)` Alertmanager push URLs, for `/api/v1/alertmanagers`.
    pub fn alertmanagers(&self) -> (Vec<String>, Vec<String>) {
        let inner = self.inner();
        let active = inner
            .sets
            .iter()
            .flat_map(|s| s.ams.iter().map(|a| a.url.clone()))
            .collect();
        let dropped = inner
            .sets
            .iter()
            .flat_map(|s| s.dropped_urls.iter().cloned())
            .collect();
        (active, dropped)
    }

    /// The current Alertmanagers (for per-Alertmanager metrics).
    pub fn alertmanager_handles(&self) -> Vec<Arc<Alertmanager>> {
        self.inner()
            .sets
            .iter()
            .flat_map(|s| s.ams.iter().cloned())
            .collect()
    }

    /// `prometheus_notifications_dropped_total`: alerts dropped by full queues, failed posts
    /// or the absence of Alertmanagers.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// `prometheus_notifications_queue_capacity`.
    pub fn queue_capacity(&self) -> usize {
        self.inner().opts.queue_capacity
    }

    /// `prometheus_notifications_queue_length`: alerts queued over all Alertmanagers.
    pub fn queue_len(&self) -> usize {
        self.alertmanager_handles()
            .iter()
            .map(|a| a.queue_len())
            .sum()
    }

    /// Stops the senders; with `drain_on_shutdown` they first send what is queued.
    pub fn stop(&self) {
        let threads = {
            let mut inner = self.inner();
            for s in &inner.sets {
                for a in &s.ams {
                    a.queue().stopping = true;
                    a.cv.notify_all();
                }
            }
            std::mem::take(&mut inner.threads)
        };
        for t in threads {
            let _ = t.join();
        }
    }
}

/// Adds the external labels an alert lacks.
fn with_external(labels: &Labels, external: &Labels) -> Labels {
    if external.is_empty() {
        return labels.clone();
    }
    let mut b = labels.to_builder();
    for l in external.iter() {
        if labels.get(&l.name).is_none() {
            b.set(&l.name, &l.value);
        }
    }
    b.build()
}

impl AlertSink for Notifier {
    fn send(&self, alerts: Vec<NotifierAlert>) {
        let inner = self.inner();
        let prepared: Vec<NotifierAlert> = alerts
            .into_iter()
            .filter_map(|mut a| {
                let l = with_external(&a.labels, &inner.opts.external_labels);
                a.labels = relabel(&l, &inner.global_relabel)?;
                Some(a)
            })
            .collect();
        if inner.sets.iter().all(|s| s.ams.is_empty()) {
            self.dropped
                .fetch_add(prepared.len() as u64, Ordering::Relaxed);
            return;
        }
        let cap = inner.opts.queue_capacity.max(1);
        for set in &inner.sets {
            let batch: Vec<NotifierAlert> = if set.alert_relabel.is_empty() {
                prepared.clone()
            } else {
                prepared
                    .iter()
                    .filter_map(|a| {
                        let labels = relabel(&a.labels, &set.alert_relabel)?;
                        Some(NotifierAlert {
                            labels,
                            ..a.clone()
                        })
                    })
                    .collect()
            };
            if batch.is_empty() {
                continue;
            }
            for am in &set.ams {
                let d = am.push(batch.clone(), cap);
                self.dropped.fetch_add(d, Ordering::Relaxed);
            }
        }
    }
}

/// One Alertmanager's sender: waits for alerts, posts batches, stops when asked (after
/// draining the queue if configured).
fn send_loop(am: &Alertmanager, opts: &NotifierOptions, dropped: &AtomicU64) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(am.timeout))
        .http_status_as_error(false)
        .build()
        .into();
    loop {
        let batch: Vec<NotifierAlert> = {
            let q = am.queue();
            let mut q = am
                .cv
                .wait_while(q, |q| q.alerts.is_empty() && !q.stopping)
                .unwrap_or_else(PoisonError::into_inner);
            if q.alerts.is_empty() || (q.stopping && !opts.drain_on_shutdown) {
                let n = q.alerts.len() as u64;
                dropped.fetch_add(n, Ordering::Relaxed);
                q.alerts.clear();
                return;
            }
            let n = q.alerts.len().min(opts.batch_size.max(1));
            q.alerts.drain(..n).collect()
        };
        let body = wire::encode(&batch);
        let start = Instant::now();
        let res = agent
            .post(&am.url)
            .header("Content-Type", "application/json")
            .header("User-Agent", &opts.user_agent)
            .send(body.as_bytes());
        let st = &am.stats;
        st.requests.fetch_add(1, Ordering::Relaxed);
        st.latency_ns.fetch_add(
            u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
        let n = batch.len() as u64;
        match res {
            Ok(r) if r.status().is_success() => {
                st.sent.fetch_add(n, Ordering::Relaxed);
            }
            Ok(r) => {
                tracing::error!(alertmanager = %am.url, status = %r.status(), count = n, "error sending alerts");
                st.errors.fetch_add(n, Ordering::Relaxed);
                dropped.fetch_add(n, Ordering::Relaxed);
            }
            Err(e) => {
                tracing::error!(alertmanager = %am.url, error = %e, count = n, "error sending alerts");
                st.errors.fetch_add(n, Ordering::Relaxed);
                dropped.fetch_add(n, Ordering::Relaxed);
            }
        }
    }
}

#[cfg(test)]
mod tests;
