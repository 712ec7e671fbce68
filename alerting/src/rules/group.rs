//! A rule group: rules evaluated in file order at one timestamp, with staleness handling.

use std::collections::{BTreeMap, HashSet};

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
struct RuleStatus {
    health: Health,
    last_error: Option<String>,
    /// Whether the last evaluation's query succeeded (alerts are sent even if appending
    /// the `ALERTS` series failed, as upstream).
    eval_ok: bool,
    /// Series written by the last successful evaluation (for stale markers).
    series: HashSet<Labels>,
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
    status: Vec<RuleStatus>,
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
        let status = vec![RuleStatus::default(); rules.len()];
        Group {
            name: name.to_string(),
            file: file.to_string(),
            interval_ms,
            query_offset_ms,
            limit,
            rules,
            status,
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

    /// The group's deterministic evaluation offset within its interval: a stable hash of
    /// `{name, file}` modulo the interval, so groups spread out and keep their slots across
    /// restarts.
    pub fn eval_offset_ms(&self) -> i64 {
        if self.interval_ms <= 0 {
            return 0;
        }
        let key = Labels::from_pairs([("name", self.name.as_str()), ("file", self.file.as_str())])
            .map(|l| l.stable_hash())
            .unwrap_or(0);
        (key % self.interval_ms as u64) as i64
    }

    /// The first evaluation timestamp strictly after the latest slot at or before `now`:
    /// `slot(now) + interval`, where slots are `offset + k * interval`.
    pub fn first_eval_ts(&self, now: Timestamp) -> Timestamp {
        let iv = self.interval_ms.max(1);
        let off = self.eval_offset_ms();
        let slot = (now - off) - (now - off).rem_euclid(iv) + off;
        slot + iv
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
        for (i, (rule, status)) in self
            .rules
            .iter_mut()
            .zip(self.status.iter_mut())
            .enumerate()
        {
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
        }
        errors
    }
}
