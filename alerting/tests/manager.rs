//! The rule manager end to end over an in-memory store: groups run on their own threads,
//! recording results land in storage, alerts reach the sink, a reload keeps alert state and
//! stale-marks the series of removed rules, a bad file leaves the running set untouched.

use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use kagari_alerting::rules::AppendError;
use kagari_alerting::{
    AlertSink, AlertState, Appender, Health, ManagerOptions, NotifierAlert, Rule, RuleManager,
    SharedStore,
};
use kagari_model::{is_stale, Labels, MatchType, Matcher, Timestamp};
use kagari_promql::storage::{
    MemStorage, Querier, Queryable, SelectHints, StorageError, ValueType,
};

/// A `MemStorage` behind a lock; queries see a snapshot taken when the querier opens.
#[derive(Default)]
struct Store(RwLock<MemStorage>);

impl Queryable for Store {
    fn querier(&self, mint: i64, maxt: i64) -> Result<Box<dyn Querier + '_>, StorageError> {
        let snap: &'static MemStorage = Box::leak(Box::new(self.0.read().unwrap().clone()));
        snap.querier(mint, maxt)
    }
}

struct Buffered<'a> {
    store: &'a Store,
    samples: Vec<(Labels, Timestamp, f64)>,
}

impl Appender for Buffered<'_> {
    fn append(&mut self, labels: &Labels, t: Timestamp, v: f64) -> Result<(), AppendError> {
        self.samples.push((labels.clone(), t, v));
        Ok(())
    }

    fn commit(self: Box<Self>) -> Result<(), AppendError> {
        let mut st = self.store.0.write().unwrap();
        for (l, t, v) in self.samples {
            // Out-of-order samples (e.g. late stale markers) are rejected one by one.
            let _ = st.append(&l, t, v);
        }
        Ok(())
    }
}

impl SharedStore for Store {
    fn queryable(&self) -> &dyn Queryable {
        self
    }

    fn appender(&self) -> Box<dyn Appender + '_> {
        Box::new(Buffered {
            store: self,
            samples: Vec::new(),
        })
    }
}

#[derive(Default)]
struct Sink(Mutex<Vec<NotifierAlert>>);

impl AlertSink for Sink {
    fn send(&self, alerts: Vec<NotifierAlert>) {
        self.0.lock().unwrap().extend(alerts);
    }
}

/// Samples of `name` in storage.
fn samples(store: &Store, name: &str) -> Vec<(Timestamp, f64)> {
    let st = store.0.read().unwrap();
    let q = st.querier(i64::MIN / 2, i64::MAX / 2).unwrap();
    let m = Matcher::new(MatchType::Equal, "__name__", name).unwrap();
    let mut set = q.select(true, &SelectHints::default(), &[m]).unwrap();
    let mut out = Vec::new();
    while let Some(s) = set.next_series() {
        let mut it = s.iterator(None);
        while it.next() == ValueType::Float {
            out.push(it.at());
        }
    }
    out
}

fn wait_for<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

const V1: &str = "groups:\n- name: g\n  interval: 100ms\n  rules:\n  - record: one\n    expr: vector(1)\n  - alert: Always\n    expr: vector(1) > 0\n    labels: {severity: page}\n";
const V2: &str = "groups:\n- name: g\n  interval: 100ms\n  rules:\n  - alert: Always\n    expr: vector(1) > 0\n    labels: {severity: page}\n  - record: two\n    expr: vector(2)\n";

fn alert_active_at(m: &RuleManager) -> Option<(AlertState, i64)> {
    let groups = m.groups();
    let g = groups.first()?.lock();
    g.rules().iter().find_map(|r| match r {
        Rule::Alerting(a) => a.alerts().first().map(|x| (x.state, x.active_at)),
        Rule::Recording(_) => None,
    })
}

#[test]
fn groups_run_send_alerts_and_reload_keeps_state() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("r.yml");
    std::fs::write(&file, V1).unwrap();
    let patterns = [format!("{}/*.yml", dir.path().display())];
    let store = Arc::new(Store::default());
    let sink = Arc::new(Sink::default());
    let m = RuleManager::new(store.clone(), Some(sink.clone()));
    let opts = ManagerOptions::default();
    m.update(&patterns, &opts).unwrap();

    wait_for("recorded samples", || {
        (samples(&store, "one").len() >= 3).then_some(())
    });
    let sent = wait_for("a notification", || sink.0.lock().unwrap().first().cloned());
    assert_eq!(sent.labels.get("alertname"), Some("Always"));
    assert_eq!(sent.labels.get("severity"), Some("page"));
    assert!(sent.generator_url.contains("g0.expr=vector%281%29+%3E+0"));
    // Recorded samples sit on the group's slots: one interval apart.
    let one = samples(&store, "one");
    assert!(
        one.windows(2).all(|w| (w[1].0 - w[0].0) % 100 == 0),
        "{one:?}"
    );
    let (state, active_at) = alert_active_at(&m).unwrap();
    assert_eq!(state, AlertState::Firing);
    {
        let groups = m.groups();
        let g = groups[0].lock();
        let st = g.rule_status(0).unwrap();
        assert_eq!(st.health, Health::Ok);
        assert!(st.last_evaluation.is_some());
        assert!(g.last_evaluation().is_some());
        assert!(
            groups[0]
                .stats()
                .evaluations
                .load(std::sync::atomic::Ordering::Relaxed)
                >= 2
        );
    }

    // A broken file: error, the running group is untouched.
    std::fs::write(
        &file,
        "groups:\n- name: g\n  rules:\n  - record: x\n    expr: sum(\n",
    )
    .unwrap();
    assert!(m.update(&patterns, &opts).is_err());
    assert_eq!(m.groups().len(), 1);

    // Reload with a changed group: the alert keeps its activeAt, `one` goes stale.
    std::fs::write(&file, V2).unwrap();
    m.update(&patterns, &opts).unwrap();
    wait_for("the new rule's output", || {
        (!samples(&store, "two").is_empty()).then_some(())
    });
    let (state, after) = alert_active_at(&m).unwrap();
    assert_eq!((state, after), (AlertState::Firing, active_at));
    wait_for("a stale marker for the removed rule", || {
        samples(&store, "one")
            .last()
            .filter(|(_, v)| is_stale(*v))
            .map(|_| ())
    });
    m.stop();
}

#[test]
fn first_load_writes_alert_series_only_after_restoring() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("r.yml"), V1).unwrap();
    let store = Arc::new(Store::default());
    let m = RuleManager::new(store.clone(), None);
    m.update(
        &[format!("{}/r.yml", dir.path().display())],
        &ManagerOptions::default(),
    )
    .unwrap();
    wait_for("ALERTS_FOR_STATE", || {
        samples(&store, "ALERTS_FOR_STATE").first().copied()
    });
    let one = samples(&store, "one");
    let first_alerts = samples(&store, "ALERTS")[0].0;
    // The first two evaluations (before restoring) wrote `one` but no `ALERTS`.
    assert!(
        one.len() >= 2 && one[1].0 < first_alerts,
        "{one:?} vs {first_alerts}"
    );
    m.stop();
}
