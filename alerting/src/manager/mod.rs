//! The rule manager: loads rule files, runs every group on its own thread at its slots, and
//! reloads without losing alert state (upstream `rules.Manager`).
//!
//! - `files.rs`: `rule_files` globs and loading;
//! - `run.rs`: one group's loop (slots, missed iterations, `for`-state restore, sending).
//!
//! Groups run on plain threads, not on an async runtime: rule evaluation is synchronous,
//! CPU-bound PromQL, and threads keep this crate usable from any host program. Each thread
//! sleeps on a condition variable, so stopping a group is immediate.

mod files;
mod run;

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicI64, AtomicU64};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use kagari_promql::storage::Queryable;

use crate::rulefmt::{ParseOptions, RuleGroup};
use crate::rules::{Appender, EvalEnv, Group, NotifierAlert, Rule, RuleStore};

pub use files::{expand_rule_files, load_rule_files, LoadError};

/// A storage rule groups share across threads: queries see committed appends.
pub trait SharedStore: Send + Sync {
    /// The read side.
    fn queryable(&self) -> &dyn Queryable;
    /// A new appender; samples become visible on commit.
    fn appender(&self) -> Box<dyn Appender + '_>;
}

/// Receives the alerts each evaluation wants sent (the notifier implements it).
pub trait AlertSink: Send + Sync {
    /// Queues `alerts` for delivery; must not block for long.
    fn send(&self, alerts: Vec<NotifierAlert>);
}

/// Settings of a rule manager, from the configuration and flags.
#[derive(Debug, Clone)]
pub struct ManagerOptions {
    /// Engine, external labels and external URL.
    pub env: EvalEnv,
    /// `global.evaluation_interval` (ms): the interval of groups that set none. Default 1m.
    pub default_interval_ms: i64,
    /// `global.rule_query_offset` (ms). Default 0.
    pub default_query_offset_ms: i64,
    /// `--rules.alert.resend-delay` (ms). Default 1m.
    pub resend_delay_ms: i64,
    /// `--rules.alert.for-outage-tolerance` (ms). Default 1h.
    pub outage_tolerance_ms: i64,
    /// `--rules.alert.for-grace-period` (ms). Default 10m.
    pub grace_period_ms: i64,
    /// How rule files are validated.
    pub parse: ParseOptions,
}

impl Default for ManagerOptions {
    fn default() -> Self {
        ManagerOptions {
            env: EvalEnv::default(),
            default_interval_ms: 60_000,
            default_query_offset_ms: 0,
            resend_delay_ms: 60_000,
            outage_tolerance_ms: 3_600_000,
            grace_period_ms: 600_000,
            parse: ParseOptions::default(),
        }
    }
}

impl ManagerOptions {
    /// Whether a running group can be kept as is under `other` (nothing it uses changed).
    fn same_for_groups(&self, other: &ManagerOptions) -> bool {
        self.default_interval_ms == other.default_interval_ms
            && self.default_query_offset_ms == other.default_query_offset_ms
            && self.resend_delay_ms == other.resend_delay_ms
            && self.env.external_labels == other.env.external_labels
            && self.env.external_url == other.env.external_url
            && format!("{:?}", self.env.engine) == format!("{:?}", other.env.engine)
    }
}

/// Counters of one group, for the server's `/metrics` (upstream `prometheus_rule_*`).
#[derive(Debug, Default)]
pub struct GroupStats {
    /// `prometheus_rule_evaluations_total`: rule evaluations.
    pub evaluations: AtomicU64,
    /// `prometheus_rule_evaluation_failures_total`: failed rule evaluations.
    pub failures: AtomicU64,
    /// `prometheus_rule_group_iterations_total`: scheduled iterations (missed included).
    pub iterations: AtomicU64,
    /// `prometheus_rule_group_iterations_missed_total`: iterations skipped because the
    /// previous one ran late.
    pub iterations_missed: AtomicU64,
    /// `prometheus_rule_group_last_duration_seconds` (in ns).
    pub last_duration_ns: AtomicU64,
    /// `prometheus_rule_group_last_evaluation_timestamp_seconds` (in ms; 0 before the first).
    pub last_eval_ms: AtomicI64,
}

/// A stop flag threads can sleep on.
#[derive(Debug, Default)]
pub(crate) struct StopSignal {
    stopped: Mutex<bool>,
    cv: Condvar,
}

impl StopSignal {
    fn stop(&self) {
        *self.stopped.lock().unwrap_or_else(PoisonError::into_inner) = true;
        self.cv.notify_all();
    }

    /// Sleeps up to `d`; true if stopped meanwhile (or before).
    pub(crate) fn wait_timeout(&self, d: Duration) -> bool {
        let g = self.stopped.lock().unwrap_or_else(PoisonError::into_inner);
        let (g, _) = self
            .cv
            .wait_timeout_while(g, d, |s| !*s)
            .unwrap_or_else(PoisonError::into_inner);
        *g
    }
}

/// A running group: its rules and state (behind a mutex the evaluation holds), counters and
/// the options it was started with.
pub struct GroupHandle {
    group: Mutex<Group>,
    stats: GroupStats,
    opts: ManagerOptions,
    config: RuleGroup,
    name: String,
    file: String,
    interval_ms: i64,
    rules: usize,
    stop: StopSignal,
}

impl fmt::Debug for GroupHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GroupHandle")
            .field("file", &self.file)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl GroupHandle {
    /// Locks the group (waits while it evaluates).
    pub fn lock(&self) -> MutexGuard<'_, Group> {
        self.group.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The group's counters.
    pub fn stats(&self) -> &GroupStats {
        &self.stats
    }

    /// The group name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The file the group came from.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// The evaluation interval (ms), readable without waiting for an evaluation.
    pub fn interval_ms(&self) -> i64 {
        self.interval_ms
    }

    /// The number of rules, readable without waiting for an evaluation.
    pub fn rule_count(&self) -> usize {
        self.rules
    }

    /// Sleeps until wall time `ts` (ms); false if the group was stopped meanwhile.
    fn sleep_until(&self, ts: i64) -> bool {
        loop {
            let now = run::now_ms();
            if now >= ts {
                return !*self
                    .stop
                    .stopped
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
            }
            let wait = Duration::from_millis(u64::try_from(ts - now).unwrap_or(0));
            if self.stop.wait_timeout(wait) {
                return false;
            }
        }
    }
}

/// What group threads share.
pub(crate) struct Shared {
    store: Arc<dyn SharedStore>,
    sink: Option<Arc<dyn AlertSink>>,
    done: Arc<StopSignal>,
}

/// A [`SharedStore`] as the [`RuleStore`] a group evaluates against.
pub(crate) struct StoreRef<'a>(&'a dyn SharedStore);

impl RuleStore for StoreRef<'_> {
    fn queryable(&self) -> &dyn Queryable {
        self.0.queryable()
    }

    fn appender(&mut self) -> Box<dyn Appender + '_> {
        self.0.appender()
    }
}

struct Running {
    handle: Arc<GroupHandle>,
    thread: Option<JoinHandle<()>>,
}

impl Running {
    fn stop(&mut self) {
        self.handle.stop.stop();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Loads rule files and runs their groups; see the module docs.
pub struct RuleManager {
    shared: Arc<Shared>,
    running: Mutex<State>,
}

#[derive(Default)]
struct State {
    groups: Vec<Running>,
    loaded_once: bool,
}

impl fmt::Debug for RuleManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RuleManager")
            .field("groups", &self.groups())
            .finish_non_exhaustive()
    }
}

impl RuleManager {
    /// A manager evaluating against `store` and sending alerts to `sink` (if any). No group
    /// runs until [`RuleManager::update`].
    pub fn new(store: Arc<dyn SharedStore>, sink: Option<Arc<dyn AlertSink>>) -> RuleManager {
        RuleManager {
            shared: Arc::new(Shared {
                store,
                sink,
                done: Arc::default(),
            }),
            running: Mutex::default(),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.running.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Loads the files matched by `patterns` and (re)starts groups (upstream
    /// `Manager.Update`). On error nothing changes. A group whose file, name, definition
    /// and options are unchanged keeps running untouched; a changed group is restarted and
    /// inherits the alerts and written series of its rules with the same name and labels;
    /// a removed group's series get stale markers two intervals later. Only groups of the
    /// first load restore their `for` state from `ALERTS_FOR_STATE`.
    pub fn update(&self, patterns: &[String], opts: &ManagerOptions) -> Result<(), LoadError> {
        let loaded = load_rule_files(patterns, &opts.parse)?;
        let mut built = Vec::with_capacity(loaded.len());
        for (file, cfg) in loaded {
            let g = Group::from_config(
                &file,
                &cfg,
                opts.default_interval_ms,
                opts.default_query_offset_ms,
            )?;
            built.push((file, cfg, g));
        }
        let mut st = self.state();
        let should_restore = !st.loaded_once;
        st.loaded_once = true;
        let mut old: HashMap<(String, String), Running> = st
            .groups
            .drain(..)
            .map(|r| ((r.handle.file.clone(), r.handle.name.clone()), r))
            .collect();
        let mut next = Vec::with_capacity(built.len());
        for (file, cfg, mut g) in built {
            let key = (file.clone(), cfg.name.clone());
            if let Some(mut prev) = old.remove(&key) {
                if prev.handle.config == cfg && prev.handle.opts.same_for_groups(opts) {
                    next.push(prev);
                    continue;
                }
                prev.stop();
                g.copy_state_from(&mut prev.handle.lock());
            } else if should_restore {
                for r in g.rules_mut() {
                    if let Rule::Alerting(a) = r {
                        a.set_restored(false);
                    }
                }
            }
            next.push(self.spawn(g, cfg, opts.clone(), should_restore));
        }
        for (_, mut gone) in old {
            gone.stop();
            let (series, interval) = {
                let g = gone.handle.lock();
                (g.written_series(), g.interval_ms())
            };
            run::mark_stale_later(
                self.shared.store.clone(),
                series,
                run::now_ms(),
                Duration::from_millis(u64::try_from(interval.max(0)).unwrap_or(0) * 2),
                self.shared.done.clone(),
            );
        }
        st.groups = next;
        Ok(())
    }

    fn spawn(&self, g: Group, config: RuleGroup, opts: ManagerOptions, restore: bool) -> Running {
        let handle = Arc::new(GroupHandle {
            name: g.name().to_string(),
            file: g.file().to_string(),
            interval_ms: g.interval_ms(),
            rules: g.rules().len(),
            group: Mutex::new(g),
            stats: GroupStats::default(),
            opts,
            config,
            stop: StopSignal::default(),
        });
        let (h, shared) = (handle.clone(), self.shared.clone());
        let thread = std::thread::Builder::new()
            .name(format!("rules:{}", handle.name))
            .spawn(move || run::run_group(h, shared, restore));
        match thread {
            Ok(t) => Running {
                handle,
                thread: Some(t),
            },
            Err(e) => {
                tracing::error!(group = %handle.name, error = %e, "cannot start the group thread");
                Running {
                    handle,
                    thread: None,
                }
            }
        }
    }

    /// The running groups, in file order then file position.
    pub fn groups(&self) -> Vec<Arc<GroupHandle>> {
        self.state()
            .groups
            .iter()
            .map(|r| r.handle.clone())
            .collect()
    }

    /// Stops every group and waits for their threads (pending stale-marker writers are
    /// cancelled).
    pub fn stop(&self) {
        self.shared.done.stop();
        let mut st = self.state();
        for r in &mut st.groups {
            r.stop();
        }
    }
}

impl Drop for RuleManager {
    fn drop(&mut self) {
        self.stop();
    }
}
