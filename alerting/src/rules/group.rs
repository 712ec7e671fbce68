//! A rule group: rules evaluated in file order at one timestamp, with staleness handling.

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use kagari_model::{Labels, Timestamp, STALE_NAN};

use super::{AlertingRule, EvalEnv, Health, NotifierAlert, RecordingRule, RuleError, RuleStore};
use crate::rulefmt;

/// A recording or alerting rule.
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)]
pub enum Rule {
    /// `record:`.
    Recording(RecordingRule),
    /// `alert:`.
    Alerting(AlertingRule),
}

impl Rule {
    /// The rule's name.
    pub fn name(&self) -> &str {
        match self {
            Rule::Recording(r) => r.name(),
            Rule::Alerting(r) => r.name(),
        }
    }
}

#[derive(Debug, Clone, Default)]
struct RuleState {
    health: Health,
    last_error: Option<String>,
    /// Whether the last evaluation's query succeeded (alerts are sent even if appending
    /// the `ALERTS` series failed, as upstream).
    eval_ok: bool,
    /// Series written by the last successful evaluation (for stale markers).
    series: HashSet<Labels>,
    /// Timestamp of the last evaluation.
    last_eval: Option<Timestamp>,
    /// How long the last evaluation took.
    eval_duration: Duration,
}

/// What the rules API shows about one rule's last evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleStatus<'a> {
    /// Health.
    pub health: Health,
    /// The last error (only when `health` is [`Health::Err`]).
    pub last_error: Option<&'a str>,
    /// Evaluation timestamp of the last evaluation (ms), `None` before the first.
    pub last_evaluation: Option<Timestamp>,
    /// Wall time the last evaluation took.
    pub evaluation_time: Duration,
}

/// A group of rules sharing an interval, query offset and limit.
#[derive(Debug, Clone)]
pub struct Group {
    name: String,
    file: String,
    interval_ms: i64,
    query_offset_ms: i64,
    limit: usize,
    rules: Vec<Rule>,
    status: Vec<RuleState>,
    last_eval: Option<Timestamp>,
    eval_duration: Duration,
    /// Series of rules that a reload removed: stale-marked at the next evaluation.
    stale_series: Vec<Labels>,
}

impl Group {
    /// A group of `rules`.
    pub fn new(
        name: &str,
        file: &str,
        interval_ms: i64,
        query_offset_ms: i64,
        limit: usize,
        rules: Vec<Rule>,
    ) -> Group {
        let status = vec![RuleState::default(); rules.len()];
        Group {
            name: name.to_string(),
            file: file.to_string(),
            interval_ms,
            query_offset_ms,
            limit,
            rules,
            status,
            last_eval: None,
            eval_duration: Duration::ZERO,
            stale_series: Vec::new(),
        }
    }

    /// Builds a group from a parsed rule file group; group labels are merged into every
    /// rule's labels (rule labels win). Missing interval/offset take the given defaults.
    pub fn from_config(
        file: &str,
        g: &rulefmt::RuleGroup,
        default_interval_ms: i64,
        default_query_offset_ms: i64,
    ) -> Result<Group, RuleError> {
        let mut rules = Vec::with_capacity(g.rules.len());
        for r in &g.rules {
            let expr = kagari_promql::parse(&r.expr).map_err(|e| RuleError::Parse {
                group: g.name.clone(),
                rule: r.name().to_string(),
                source: Box::new(e),
            })?;
            let mut labels: BTreeMap<String, String> = g.labels.clone();
            labels.extend(r.labels.iter().map(|(k, v)| (k.clone(), v.clone())));
            rules.push(match (&r.record, &r.alert) {
                (Some(rec), _) => Rule::Recording(RecordingRule::new(rec, expr, labels)),
                (None, alert) => Rule::Alerting(AlertingRule::new(
                    alert.as_deref().unwrap_or(""),
                    expr,
                    r.for_ms,
                    r.keep_firing_for_ms,
                    labels,
                    r.annotations.clone(),
                )),
            });
        }
        Ok(Group::new(
            &g.name,
            file,
            g.interval.unwrap_or(default_interval_ms),
            g.query_offset.unwrap_or(default_query_offset_ms),
            g.limit,
            rules,
        ))
    }

    /// The group name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The file the group came from.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// Evaluation interval (ms).
    pub fn interval_ms(&self) -> i64 {
        self.interval_ms
    }

    /// Query offset (ms).
    pub fn query_offset_ms(&self) -> i64 {
        self.query_offset_ms
    }

    /// The group limit (0 = none).
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// The group's deterministic evaluation offset within its interval, in nanoseconds:
    /// Prometheus's label hash of `{name, file}` modulo the interval (upstream
    /// `Group.EvalTimestamp` computes it in nanoseconds too), so groups spread out and keep
    /// their slots across restarts, and a group evaluates at the same instants as a
    /// Prometheus server loading the same file path.
    pub fn eval_offset_ns(&self) -> i128 {
        if self.interval_ms <= 0 {
            return 0;
        }
        let key = Labels::from_pairs([("name", self.name.as_str()), ("file", self.file.as_str())])
            .map(|l| l.stable_hash())
            .unwrap_or(0);
        i128::from(key % (self.interval_ms as u64).saturating_mul(1_000_000))
    }

    /// [`Group::eval_offset_ns`] in whole milliseconds (rounded down).
    pub fn eval_offset_ms(&self) -> i64 {
        (self.eval_offset_ns() / 1_000_000) as i64
    }

    /// The first evaluation timestamp after `now`: the latest slot at or before `now` plus
    /// one interval, where slots are `offset + k * interval` (computed in nanoseconds and
    /// truncated to milliseconds, as upstream stores them). Later evaluations are this plus
    /// multiples of the interval.
    pub fn first_eval_ts(&self, now: Timestamp) -> Timestamp {
        let iv = i128::from(self.interval_ms.max(1)) * 1_000_000;
        let off = self.eval_offset_ns();
        let adj = i128::from(now) * 1_000_000 - off;
        let slot = adj - adj.rem_euclid(iv) + off;
        ((slot + iv).div_euclid(1_000_000)) as Timestamp
    }

    /// Timestamp (ms) of the last evaluation, `None` before the first.
    pub fn last_evaluation(&self) -> Option<Timestamp> {
        self.last_eval
    }

    /// Wall time the last evaluation of the whole group took.
    pub fn evaluation_time(&self) -> Duration {
        self.eval_duration
    }

    /// Status of rule `i` for the API.
    pub fn rule_status(&self, i: usize) -> Option<RuleStatus<'_>> {
        self.status.get(i).map(|s| RuleStatus {
            health: s.health,
            last_error: s.last_error.as_deref(),
            last_evaluation: s.last_eval,
            evaluation_time: s.eval_duration,
        })
    }

    /// Every series the rules wrote at their last successful evaluation (for stale markers
    /// when the group goes away).
    pub fn written_series(&self) -> Vec<Labels> {
        self.status
            .iter()
            .flat_map(|s| s.series.iter().cloned())
            .collect()
    }

    /// Takes over the state of `old`, the group with the same file and name before a reload
    /// (upstream `Group.CopyState`): each rule inherits the alerts, health and written series
    /// of the first not yet matched old rule of the same kind, name and labels. Series of
    /// old rules without a successor get stale markers at this group's next evaluation.
    pub fn copy_state_from(&mut self, old: &mut Group) {
        let mut used = vec![false; old.rules.len()];
        for (rule, status) in self.rules.iter_mut().zip(self.status.iter_mut()) {
            let found =
                old.rules.iter().enumerate().position(|(j, o)| {
                    !used.get(j).copied().unwrap_or(true) && same_identity(rule, o)
                });
            let Some(j) = found else { continue };
            if let Some(u) = used.get_mut(j) {
                *u = true;
            }
            if let Some(st) = old.status.get_mut(j) {
                *status = std::mem::take(st);
            }
            if let (Rule::Alerting(new), Some(Rule::Alerting(o))) = (rule, old.rules.get_mut(j)) {
                new.take_alerts_from(o);
            }
        }
        self.last_eval = old.last_eval;
        self.eval_duration = old.eval_duration;
        self.stale_series = std::mem::take(&mut old.stale_series);
        for (j, st) in old.status.iter_mut().enumerate() {
            if !used.get(j).copied().unwrap_or(true) {
                self.stale_series.extend(st.series.drain());
            }
        }
    }

    /// The rules in order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Mutable rules (e.g. to mark alerting rules as not restored).
    pub fn rules_mut(&mut self) -> &mut [Rule] {
        &mut self.rules
    }

    /// Health and last error of rule `i`.
    pub fn rule_health(&self, i: usize) -> Option<(Health, Option<&str>)> {
        self.status
            .get(i)
            .map(|s| (s.health, s.last_error.as_deref()))
    }

    /// After [`Group::eval`] at `ts`: the alerts of successfully evaluated alerting rules
    /// that need (re)sending, marked as sent.
    pub fn alerts_to_send(
        &mut self,
        ts: Timestamp,
        resend_delay_ms: i64,
        external_url: &str,
    ) -> Vec<NotifierAlert> {
        let mut out = Vec::new();
        for (rule, status) in self.rules.iter_mut().zip(&self.status) {
            if let (Rule::Alerting(a), true) = (rule, status.eval_ok) {
                out.extend(a.alerts_to_send(ts, resend_delay_ms, self.interval_ms, external_url));
            }
        }
        out
    }

    /// Evaluates every rule in order at `ts`, writing results (and stale markers for series
    /// that disappeared) through `store`. Returns the errors of rules that failed; the other
    /// rules still ran.
    pub fn eval(
        &mut self,
        ts: Timestamp,
        env: &EvalEnv,
        store: &mut dyn RuleStore,
    ) -> Vec<(usize, RuleError)> {
        let mut errors = Vec::new();
        let t = ts - self.query_offset_ms;
        let group_start = Instant::now();
        if !self.stale_series.is_empty() {
            let produced: HashSet<&Labels> = self.status.iter().flat_map(|s| &s.series).collect();
            let mut app = store.appender();
            for l in self.stale_series.iter().filter(|l| !produced.contains(l)) {
                // Out-of-order markers (another rule wrote later) are expected and ignored.
                let _ = app.append(l, t, STALE_NAN);
            }
            let _ = app.commit();
            self.stale_series.clear();
        }
        for (i, (rule, status)) in self
            .rules
            .iter_mut()
            .zip(self.status.iter_mut())
            .enumerate()
        {
            let start = Instant::now();
            status.last_eval = Some(ts);
            let res = match rule {
                Rule::Recording(r) => {
                    r.eval(ts, self.query_offset_ms, self.limit, env, store.queryable())
                }
                Rule::Alerting(r) => {
                    r.eval(ts, self.query_offset_ms, self.limit, env, store.queryable())
                }
            };
            let samples = match res {
                Ok(s) => s,
                Err(e) => {
                    status.health = Health::Err;
                    status.last_error = Some(e.to_string());
                    status.eval_ok = false;
                    status.eval_duration = start.elapsed();
                    errors.push((i, e));
                    continue;
                }
            };
            status.eval_ok = true;
            status.health = Health::Ok;
            status.last_error = None;
            let mut app = store.appender();
            let mut seen = HashSet::with_capacity(samples.len());
            let mut append_err = None;
            for s in samples {
                match app.append(&s.labels, s.t, s.v) {
                    Ok(()) => {
                        seen.insert(s.labels);
                    }
                    Err(e) => {
                        append_err.get_or_insert(e);
                    }
                }
            }
            for gone in status.series.difference(&seen) {
                // Out-of-order or duplicate stale markers are expected and ignored.
                let _ = app.append(gone, t, STALE_NAN);
            }
            if let Err(e) = app.commit() {
                append_err.get_or_insert(e);
            }
            status.series = seen;
            if let Some(e) = append_err {
                status.health = Health::Err;
                status.last_error = Some(e.to_string());
                errors.push((i, RuleError::Append(e)));
            }
            status.eval_duration = start.elapsed();
        }
        self.last_eval = Some(ts);
        self.eval_duration = group_start.elapsed();
        errors
    }
}

/// Whether two rules are "the same rule" for state copying: same kind, name and labels.
fn same_identity(a: &Rule, b: &Rule) -> bool {
    match (a, b) {
        (Rule::Recording(x), Rule::Recording(y)) => {
            x.name() == y.name() && x.labels() == y.labels()
        }
        (Rule::Alerting(x), Rule::Alerting(y)) => x.name() == y.name() && x.labels() == y.labels(),
        _ => false,
    }
}
