//! Alerting rules and the alert state machine: inactive → pending → firing, `for`,
//! `keep_firing_for`, resolved alerts kept for 15 minutes, `ALERTS`/`ALERTS_FOR_STATE`.

use std::collections::{BTreeMap, HashMap};

use kagari_model::{Labels, Timestamp};
use kagari_promql::storage::Queryable;
use kagari_promql::Expr;

use super::{query_vector, EvalEnv, RuleError, RuleSample, TemplateQuery};
use crate::template::{AlertTemplate, AlertTemplateData, Context};

/// How long resolved alerts are kept (and re-sent as resolved): 15 minutes.
pub const RESOLVED_RETENTION_MS: i64 = 15 * 60 * 1000;

/// The state of an alert instance (or, for a rule, of its most active instance).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum AlertState {
    /// Not active (resolved, or never fired).
    #[default]
    Inactive,
    /// Active, waiting for `for` to elapse.
    Pending,
    /// Firing.
    Firing,
}

impl AlertState {
    /// `inactive`, `pending` or `firing`.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::Inactive => "inactive",
            AlertState::Pending => "pending",
            AlertState::Firing => "firing",
        }
    }
}

/// One alert instance. Times are ms; `None` is Go's zero time.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    /// Final labels (series labels minus `__name__`, rule labels, `alertname`).
    pub labels: Labels,
    /// Expanded annotations.
    pub annotations: BTreeMap<String, String>,
    /// State.
    pub state: AlertState,
    /// Last sample value.
    pub value: f64,
    /// When the condition first held (start of `for`).
    pub active_at: Timestamp,
    /// When it started firing.
    pub fired_at: Option<Timestamp>,
    /// When it resolved.
    pub resolved_at: Option<Timestamp>,
    /// When it was last sent to Alertmanager.
    pub last_sent_at: Option<Timestamp>,
    /// `endsAt` of the last notification.
    pub valid_until: Option<Timestamp>,
    /// Since when it is kept firing by `keep_firing_for`.
    pub keep_firing_since: Option<Timestamp>,
}

impl Alert {
    /// Whether the alert should be (re)sent at `ts` (upstream `needsSending`).
    pub fn needs_sending(&self, ts: Timestamp, resend_delay_ms: i64) -> bool {
        if self.state == AlertState::Pending {
            return false;
        }
        if self.resolved_at.unwrap_or(i64::MIN) > self.last_sent_at.unwrap_or(i64::MIN) {
            return true;
        }
        match self.last_sent_at {
            None => true,
            Some(l) => l + resend_delay_ms < ts,
        }
    }
}

/// An alerting rule (`alert:`) and its active alerts.
#[derive(Debug, Clone)]
pub struct AlertingRule {
    name: String,
    expr: Expr,
    for_ms: i64,
    keep_firing_for_ms: i64,
    labels: BTreeMap<String, String>,
    annotations: BTreeMap<String, String>,
    label_templates: Vec<(String, AlertTemplate)>,
    annotation_templates: Vec<(String, AlertTemplate)>,
    active: HashMap<Labels, Alert>,
    restored: bool,
}

impl AlertingRule {
    /// A new rule. It starts "restored" (writes `ALERTS`/`ALERTS_FOR_STATE` from the first
    /// evaluation); use [`AlertingRule::set_restored`] to model a fresh start.
    pub fn new(
        name: &str,
        expr: Expr,
        for_ms: i64,
        keep_firing_for_ms: i64,
        labels: BTreeMap<String, String>,
        annotations: BTreeMap<String, String>,
    ) -> AlertingRule {
        let parse = |m: &BTreeMap<String, String>| {
            m.iter()
                .map(|(k, v)| (k.clone(), AlertTemplate::new(name, v)))
                .collect()
        };
        AlertingRule {
            label_templates: parse(&labels),
            annotation_templates: parse(&annotations),
            name: name.to_string(),
            expr,
            for_ms,
            keep_firing_for_ms,
            labels,
            annotations,
            active: HashMap::new(),
            restored: true,
        }
    }

    /// The alert name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The expression.
    pub fn expr(&self) -> &Expr {
        &self.expr
    }

    /// `for` in ms.
    pub fn for_ms(&self) -> i64 {
        self.for_ms
    }

    /// `keep_firing_for` in ms.
    pub fn keep_firing_for_ms(&self) -> i64 {
        self.keep_firing_for_ms
    }

    /// Label templates.
    pub fn labels(&self) -> &BTreeMap<String, String> {
        &self.labels
    }

    /// Annotation templates.
    pub fn annotations(&self) -> &BTreeMap<String, String> {
        &self.annotations
    }

    /// Whether `ALERTS`/`ALERTS_FOR_STATE` are written.
    pub fn set_restored(&mut self, restored: bool) {
        self.restored = restored;
    }

    /// Active alerts (including resolved ones still retained), sorted by labels.
    pub fn alerts(&self) -> Vec<&Alert> {
        let mut v: Vec<&Alert> = self.active.values().collect();
        v.sort_by(|a, b| a.labels.cmp(&b.labels));
        v
    }

    /// Mutable access to the alerts (for the notifier's `last_sent_at`/`valid_until`).
    pub fn alerts_mut(&mut self) -> impl Iterator<Item = &mut Alert> {
        self.active.values_mut()
    }

    /// Takes the alerts of `old` (the same rule before a reload), keeping their `for` state.
    pub fn take_alerts_from(&mut self, old: &mut AlertingRule) {
        self.active = std::mem::take(&mut old.active);
    }

    /// Whether `ALERTS`/`ALERTS_FOR_STATE` are written (the `for` state was restored).
    pub fn restored(&self) -> bool {
        self.restored
    }

    /// The rule's state: the maximum over its alerts.
    pub fn state(&self) -> AlertState {
        self.active
            .values()
            .map(|a| a.state)
            .max()
            .unwrap_or_default()
    }

    /// One evaluation at `ts` (upstream `AlertingRule.Eval`); returns the `ALERTS` and
    /// `ALERTS_FOR_STATE` samples to write.
    pub fn eval(
        &mut self,
        ts: Timestamp,
        query_offset: i64,
        limit: usize,
        env: &EvalEnv,
        storage: &dyn Queryable,
    ) -> Result<Vec<RuleSample>, RuleError> {
        let t = ts - query_offset;
        let res = query_vector(env, storage, &self.expr, t)?;
        let tq = TemplateQuery { env, storage };
        let ctx = Context {
            ts_ms: ts,
            external_url: &env.external_url,
            query: Some(&tq),
        };
        let mut current: HashMap<Labels, Alert> = HashMap::with_capacity(res.len());
        for (metric, value) in res {
            let data = AlertTemplateData {
                labels: metric.clone(),
                external_labels: env.external_labels.clone(),
                external_url: env.external_url.clone(),
                value,
            }
            .to_value();
            let mut b = metric.to_builder();
            b.del("__name__");
            for (k, tmpl) in &self.label_templates {
                let v = tmpl.expand(&data, &ctx);
                if v.is_empty() {
                    b.del(k);
                } else {
                    b.set(k, &v);
                }
            }
            b.set("alertname", &self.name);
            let labels = b.build();
            let annotations = self
                .annotation_templates
                .iter()
                .map(|(k, tmpl)| (k.clone(), tmpl.expand(&data, &ctx)))
                .collect();
            if current.contains_key(&labels) {
                return Err(RuleError::DuplicateAlertLabelset);
            }
            current.insert(
                labels.clone(),
                Alert {
                    labels,
                    annotations,
                    state: AlertState::Pending,
                    value,
                    active_at: ts,
                    fired_at: None,
                    resolved_at: None,
                    last_sent_at: None,
                    valid_until: None,
                    keep_firing_since: None,
                },
            );
        }
        for (h, a) in &mut current {
            match self.active.get_mut(h) {
                Some(old) if old.state != AlertState::Inactive => {
                    old.value = a.value;
                    old.annotations = std::mem::take(&mut a.annotations);
                }
                _ => {
                    self.active.insert(h.clone(), a.clone());
                }
            }
        }
        let mut out = Vec::new();
        let mut count = 0usize;
        let mut remove = Vec::new();
        for (h, a) in &mut self.active {
            if !current.contains_key(h) {
                let mut keep = false;
                if a.state == AlertState::Firing && self.keep_firing_for_ms > 0 {
                    let since = *a.keep_firing_since.get_or_insert(ts);
                    keep = ts - since < self.keep_firing_for_ms;
                }
                let expired = a
                    .resolved_at
                    .is_some_and(|r| ts - r > RESOLVED_RETENTION_MS);
                if a.state == AlertState::Pending || expired {
                    remove.push(h.clone());
                    continue;
                }
                if a.state != AlertState::Inactive && !keep {
                    a.state = AlertState::Inactive;
                    a.resolved_at = Some(ts);
                }
                if !keep {
                    continue;
                }
            } else {
                a.keep_firing_since = None;
            }
            count += 1;
            if a.state == AlertState::Pending && ts - a.active_at >= self.for_ms {
                a.state = AlertState::Firing;
                a.fired_at = Some(ts);
            }
            if a.state == AlertState::Firing && ts - a.active_at < self.for_ms {
                a.state = AlertState::Pending;
                a.fired_at = None;
                a.last_sent_at = None;
                a.keep_firing_since = None;
            }
            if self.restored {
                out.push(RuleSample {
                    labels: alerts_series(&a.labels, a.state),
                    t,
                    v: 1.0,
                });
                out.push(RuleSample {
                    labels: a.labels.with("__name__", "ALERTS_FOR_STATE"),
                    t,
                    v: a.active_at as f64 / 1000.0,
                });
            }
        }
        for h in remove {
            self.active.remove(&h);
        }
        if limit > 0 && count > limit {
            self.active.clear();
            return Err(RuleError::AlertLimit { limit, n: count });
        }
        out.sort_by(|a, b| a.labels.cmp(&b.labels));
        Ok(out)
    }
}

fn alerts_series(labels: &Labels, state: AlertState) -> Labels {
    let mut b = labels.to_builder();
    b.set("__name__", "ALERTS");
    b.set("alertstate", state.as_str());
    b.build()
}
