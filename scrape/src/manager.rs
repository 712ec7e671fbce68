//! [`ScrapeManager`]: one task per job that follows discovery, derives targets and keeps one
//! scrape loop per target; `apply_config` reloads without disturbing unchanged targets.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::appender::Appendable;
use crate::config::{Config, ScrapeConfig};
use crate::discovery::{Discoverer, FileDiscoverer, JobDiscovery, StaticDiscoverer, TargetGroup};
use crate::error::ScrapeError;
use crate::health::{self, DroppedTarget, SharedHealth, TargetStatus};
use crate::http_client::HttpScraper;
use crate::process::SampleCfg;
use crate::scrape_loop::{LoopParams, ScrapeLoop, Stop};
use crate::target::{fnv64a, targets_from_group, Target};

/// Builds extra discovery providers for a job (Kubernetes, DNS, HTTP SD, tests, …).
pub type DiscoveryFactory = Arc<dyn Fn(&ScrapeConfig) -> Vec<Box<dyn Discoverer>> + Send + Sync>;

/// Options of a [`ScrapeManager`].
#[derive(Clone)]
pub struct ManagerOptions {
    /// Mixed into every target's offset so HA replicas scrape at different instants
    /// (default: hash of the host name and the external labels).
    pub offset_seed: Option<u64>,
    /// Period of the file SD mtime polling.
    pub file_sd_poll: std::time::Duration,
    /// Extra providers per job, run next to `static_configs` and `file_sd_configs`; called
    /// when a job starts and when its discovery configuration changes.
    pub extra_discovery: Option<DiscoveryFactory>,
}

impl Default for ManagerOptions {
    fn default() -> Self {
        ManagerOptions {
            offset_seed: None,
            file_sd_poll: std::time::Duration::from_secs(1),
            extra_discovery: None,
        }
    }
}

impl std::fmt::Debug for ManagerOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ManagerOptions")
            .field("offset_seed", &self.offset_seed)
            .field("file_sd_poll", &self.file_sd_poll)
            .field("extra_discovery", &self.extra_discovery.is_some())
            .finish()
    }
}

#[derive(Debug, Default)]
struct JobState {
    active: Vec<(Arc<Target>, SharedHealth)>,
    dropped: Vec<kagari_model::Labels>,
    /// Target syncs so far (each derives every target: must follow discovery updates only).
    syncs: u64,
}

type SharedState = Arc<Mutex<JobState>>;

#[derive(Debug)]
struct JobHandle {
    cfg: ScrapeConfig,
    cfg_tx: watch::Sender<Arc<ScrapeConfig>>,
    stop_tx: watch::Sender<Option<Stop>>,
    task: JoinHandle<()>,
    state: SharedState,
}

/// Runs the scrape jobs of a [`Config`] and appends to an [`Appendable`].
///
/// Must be used inside a tokio runtime.
pub struct ScrapeManager {
    appendable: Arc<dyn Appendable>,
    options: ManagerOptions,
    jobs: BTreeMap<String, JobHandle>,
}

impl std::fmt::Debug for ScrapeManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScrapeManager")
            .field("jobs", &self.jobs.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl ScrapeManager {
    /// A manager with no jobs.
    pub fn new(appendable: Arc<dyn Appendable>, options: ManagerOptions) -> Self {
        ScrapeManager {
            appendable,
            options,
            jobs: BTreeMap::new(),
        }
    }

    /// Applies a (validated) configuration: starts new jobs, reconfigures changed ones
    /// (targets whose labels and URL did not change keep their loop and series cache) and
    /// stops removed ones (their targets get end-of-run staleness markers).
    ///
    /// HTTP clients are built first; if any fails, nothing changes and the error is returned.
    pub fn apply_config(&mut self, cfg: &Config) -> Result<(), ScrapeError> {
        for sc in &cfg.scrape_configs {
            HttpScraper::new(sc)?;
        }
        let seed = self.options.offset_seed.unwrap_or_else(|| {
            let mut s = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
            for (k, v) in &cfg.global.external_labels {
                s.push_str(k);
                s.push('=');
                s.push_str(v);
            }
            fnv64a(s.trim().as_bytes())
        });
        let mut old = std::mem::take(&mut self.jobs);
        for sc in &cfg.scrape_configs {
            match old.remove(&sc.job_name) {
                Some(h) if h.cfg == *sc => {
                    self.jobs.insert(sc.job_name.clone(), h);
                }
                Some(mut h) => {
                    h.cfg = sc.clone();
                    h.cfg_tx.send_replace(Arc::new(sc.clone()));
                    self.jobs.insert(sc.job_name.clone(), h);
                }
                None => {
                    let h = self.start_job(sc, seed);
                    self.jobs.insert(sc.job_name.clone(), h);
                }
            }
        }
        for (_, h) in old {
            h.stop_tx.send_replace(Some(Stop::Gone));
        }
        Ok(())
    }

    fn start_job(&self, sc: &ScrapeConfig, seed: u64) -> JobHandle {
        let (cfg_tx, cfg_rx) = watch::channel(Arc::new(sc.clone()));
        let (stop_tx, stop_rx) = watch::channel(None);
        let state = SharedState::default();
        let runner = JobRunner {
            appendable: self.appendable.clone(),
            seed,
            poll: self.options.file_sd_poll,
            extra: self.options.extra_discovery.clone(),
            state: state.clone(),
            loops: HashMap::new(),
            generation: 0,
        };
        let task = tokio::spawn(runner.run(cfg_rx, stop_rx));
        JobHandle {
            cfg: sc.clone(),
            cfg_tx,
            stop_tx,
            task,
            state,
        }
    }

    /// The names of the running jobs (scrape pools), sorted.
    pub fn job_names(&self) -> Vec<String> {
        self.jobs.keys().cloned().collect()
    }

    /// Every active target of every job, sorted by job then labels.
    pub fn active_targets(&self) -> Vec<TargetStatus> {
        let mut out = Vec::new();
        for (job, h) in &self.jobs {
            let st = h
                .state
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            for (t, hl) in &st.active {
                out.push(TargetStatus {
                    job: job.clone(),
                    labels: t.public_labels().clone(),
                    discovered_labels: t.discovered_labels().clone(),
                    scrape_url: t.url().to_string(),
                    scrape_interval: t.interval(),
                    scrape_timeout: t.timeout(),
                    health: health::read(hl),
                });
            }
        }
        out
    }

    /// Targets dropped by relabeling (up to `keep_dropped_targets` per job when non-zero).
    pub fn dropped_targets(&self) -> Vec<DroppedTarget> {
        let mut out = Vec::new();
        for (job, h) in &self.jobs {
            let st = h
                .state
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            out.extend(st.dropped.iter().map(|l| DroppedTarget {
                job: job.clone(),
                discovered_labels: l.clone(),
            }));
        }
        out
    }

    /// Stops every job without staleness markers (server shutdown) and waits for them.
    pub async fn stop(mut self) {
        let jobs = std::mem::take(&mut self.jobs);
        for h in jobs.values() {
            h.stop_tx.send_replace(Some(Stop::Quiet));
        }
        for (_, h) in jobs {
            // A job task never panics by design; a JoinError here means it was aborted.
            let _ = h.task.await;
        }
    }
}

impl Drop for ScrapeManager {
    fn drop(&mut self) {
        for h in self.jobs.values() {
            h.stop_tx.send_replace(Some(Stop::Quiet));
        }
    }
}

struct LoopHandle {
    target: Arc<Target>,
    health: SharedHealth,
    stop_tx: watch::Sender<Option<Stop>>,
    task: JoinHandle<()>,
}

struct JobRunner {
    appendable: Arc<dyn Appendable>,
    seed: u64,
    poll: std::time::Duration,
    extra: Option<DiscoveryFactory>,
    state: SharedState,
    loops: HashMap<u64, LoopHandle>,
    generation: u64,
}

fn providers(
    cfg: &ScrapeConfig,
    poll: std::time::Duration,
    extra: Option<&DiscoveryFactory>,
) -> Vec<Box<dyn Discoverer>> {
    let mut p: Vec<Box<dyn Discoverer>> = Vec::new();
    if !cfg.static_configs.is_empty() {
        p.push(Box::new(StaticDiscoverer::new(&cfg.static_configs)));
    }
    for f in &cfg.file_sd_configs {
        p.push(Box::new(FileDiscoverer::new(f).with_poll_interval(poll)));
    }
    if let Some(extra) = extra {
        p.extend(extra(cfg));
    }
    p
}

impl JobRunner {
    fn params(&mut self, cfg: &ScrapeConfig, prev: Option<&LoopParams>) -> LoopParams {
        let samples = SampleCfg::new(cfg, self.generation);
        let samples = match prev {
            Some(p) if p.samples.same_labels(&samples) => Arc::new(SampleCfg {
                generation: p.samples.generation,
                ..samples
            }),
            _ => {
                self.generation += 1;
                Arc::new(SampleCfg {
                    generation: self.generation,
                    ..samples
                })
            }
        };
        LoopParams {
            scraper: HttpScraper::new(cfg)
                .map(Arc::new)
                .map_err(|e| e.to_string()),
            samples,
            forced_error: None,
            extra_metrics: cfg.extra_scrape_metrics.unwrap_or(false),
            sample_limit: cfg.sample_limit,
        }
    }

    async fn run(
        mut self,
        mut cfg_rx: watch::Receiver<Arc<ScrapeConfig>>,
        mut stop_rx: watch::Receiver<Option<Stop>>,
    ) {
        let mut cfg = cfg_rx.borrow_and_update().clone();
        let mut disc = JobDiscovery::start(providers(&cfg, self.poll, self.extra.as_ref()));
        let mut groups_rx = disc.subscribe();
        let first = self.params(&cfg, None);
        let (params_tx, _) = watch::channel(Arc::new(first));
        let mut pending_reload = false;
        // False once every provider has finished (static configs send once and end): the
        // merged groups can no longer change until discovery is restarted.
        let mut groups_open = true;
        let mode = loop {
            tokio::select! {
                biased;
                r = stop_rx.changed() => {
                    let requested = *stop_rx.borrow();
                    let _ = r;
                    break requested.unwrap_or(Stop::Quiet);
                }
                r = cfg_rx.changed() => {
                    if r.is_err() {
                        // The manager dropped the job; its stop request (if any) decides.
                        let requested = *stop_rx.borrow();
                        break requested.unwrap_or(Stop::Quiet);
                    }
                    let new_cfg = cfg_rx.borrow_and_update().clone();
                    let restart = new_cfg.static_configs != cfg.static_configs
                        || new_cfg.file_sd_configs != cfg.file_sd_configs;
                    if restart {
                        disc = JobDiscovery::start(providers(&new_cfg, self.poll, self.extra.as_ref()));
                        groups_rx = disc.subscribe();
                        groups_open = true;
                    }
                    cfg = new_cfg;
                    let prev = params_tx.borrow().clone();
                    let p = self.params(&cfg, Some(&prev));
                    params_tx.send_replace(Arc::new(p));
                    if restart {
                        // Wait for the new providers' first report instead of syncing to
                        // "no targets" and tearing every loop down in between.
                        pending_reload = true;
                    } else {
                        let groups = groups_rx.borrow().clone();
                        self.sync(&cfg, &groups, &params_tx, true);
                    }
                }
                r = groups_rx.changed(), if groups_open => {
                    if r.is_err() {
                        // Every provider has finished and the last groups were seen: only a
                        // reload or a stop can change anything now. (Re-subscribing here
                        // would spin: a fresh receiver of a closed channel reports the last
                        // value as new, then the closure, forever.)
                        groups_open = false;
                        continue;
                    }
                    let groups = groups_rx.borrow_and_update().clone();
                    self.sync(&cfg, &groups, &params_tx, pending_reload);
                    pending_reload = false;
                }
            }
        };
        drop(disc);
        let loops: Vec<LoopHandle> = self.loops.drain().map(|(_, l)| l).collect();
        for l in &loops {
            l.stop_tx.send_replace(Some(mode));
        }
        for l in loops {
            let _ = l.task.await;
        }
    }

    /// Derives targets from `groups` and starts/stops loops to match.
    fn sync(
        &mut self,
        cfg: &ScrapeConfig,
        groups: &[TargetGroup],
        params_tx: &watch::Sender<Arc<LoopParams>>,
        reload: bool,
    ) {
        let mut active: Vec<Target> = Vec::new();
        let mut dropped = Vec::new();
        for g in groups {
            let out = targets_from_group(g, cfg);
            for (labels, err) in out.failed {
                tracing::warn!(job = %cfg.job_name, target = %labels, error = %err, "discarding target");
            }
            active.extend(out.active);
            dropped.extend(out.dropped);
        }
        if cfg.keep_dropped_targets > 0 {
            dropped.truncate(usize::try_from(cfg.keep_dropped_targets).unwrap_or(usize::MAX));
        }
        let mut wanted: HashMap<u64, Target> = HashMap::new();
        for t in active {
            wanted.entry(t.hash()).or_insert(t);
        }
        // target_limit: every target of the job fails.
        let forced = (cfg.target_limit > 0 && wanted.len() as u64 > cfg.target_limit).then(|| {
            ScrapeError::TargetLimit {
                count: wanted.len(),
                limit: cfg.target_limit,
            }
            .to_string()
        });
        if params_tx.borrow().forced_error != forced {
            let mut p = (**params_tx.borrow()).clone();
            p.forced_error = forced;
            params_tx.send_replace(Arc::new(p));
        }
        // Successor identity for hand-over on reload: public labels + URL.
        let successor = |t: &Target| (t.public_labels().clone(), t.url().to_string());
        let successors: std::collections::HashSet<_> = wanted.values().map(successor).collect();
        let gone: Vec<u64> = self
            .loops
            .keys()
            .filter(|h| !wanted.contains_key(h))
            .copied()
            .collect();
        for h in gone {
            if let Some(l) = self.loops.remove(&h) {
                let quiet = reload && successors.contains(&successor(&l.target));
                l.stop_tx
                    .send_replace(Some(if quiet { Stop::Quiet } else { Stop::Gone }));
                drop(l.task);
            }
        }
        for (h, t) in wanted {
            if self.loops.contains_key(&h) {
                continue;
            }
            let target = Arc::new(t);
            let health = SharedHealth::default();
            let (stop_tx, stop_rx) = watch::channel(None);
            let lp = ScrapeLoop::new(
                target.clone(),
                params_tx.subscribe(),
                self.appendable.clone(),
                health.clone(),
                self.seed,
            );
            let task = tokio::spawn(lp.run(stop_rx));
            self.loops.insert(
                h,
                LoopHandle {
                    target,
                    health,
                    stop_tx,
                    task,
                },
            );
        }
        let mut st = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        st.active = self
            .loops
            .values()
            .map(|l| (l.target.clone(), l.health.clone()))
            .collect();
        st.active.sort_by(|a, b| a.0.labels().cmp(b.0.labels()));
        st.dropped = dropped;
        st.syncs += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::appender::{AppendError, Appender, SeriesRef};

    struct Null;
    struct NullApp;
    impl Appender for NullApp {
        fn append(
            &mut self,
            _: Option<SeriesRef>,
            _: &kagari_model::Labels,
            _: i64,
            _: f64,
        ) -> Result<SeriesRef, AppendError> {
            Ok(SeriesRef(0))
        }
        fn commit(self: Box<Self>) -> Result<(), AppendError> {
            Ok(())
        }
        fn rollback(self: Box<Self>) -> Result<(), AppendError> {
            Ok(())
        }
    }
    impl Appendable for Null {
        fn appender(&self) -> Box<dyn Appender> {
            Box::new(NullApp)
        }
    }

    fn syncs(m: &ScrapeManager) -> u64 {
        m.jobs
            .values()
            .map(|h| h.state.lock().map_or(0, |s| s.syncs))
            .sum()
    }

    /// Static discovery reports once and ends; the job must then stay idle instead of
    /// re-deriving its targets in a loop.
    #[tokio::test]
    async fn finished_discovery_is_synced_once() {
        let cfg = Config::from_yaml(
            "scrape_configs: [{job_name: x, scrape_interval: 1h, static_configs: [{targets: ['127.0.0.1:1', '127.0.0.1:2']}]}]",
        )
        .unwrap();
        let mut m = ScrapeManager::new(Arc::new(Null), ManagerOptions::default());
        m.apply_config(&cfg).unwrap();
        while m.active_targets().len() < 2 {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        // Give a spinning job task plenty of turns.
        for _ in 0..50 {
            tokio::task::yield_now().await;
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
        assert_eq!(syncs(&m), 1);
        // A reload that changes the targets syncs again, once the new provider reports.
        let cfg = Config::from_yaml(
            "scrape_configs: [{job_name: x, scrape_interval: 1h, static_configs: [{targets: ['127.0.0.1:3']}]}]",
        )
        .unwrap();
        m.apply_config(&cfg).unwrap();
        while m.active_targets().len() != 1 {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        for _ in 0..50 {
            tokio::task::yield_now().await;
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
        assert_eq!(syncs(&m), 2);
        m.stop().await;
    }
}
