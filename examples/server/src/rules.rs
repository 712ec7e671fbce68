//! Rules and alerting in the server: the `rule_files` and `alerting` sections wired to
//! kagari-alerting's [`RuleManager`] and [`Notifier`] over the `Db`, their flags, their
//! self-metrics, and the `/api/v1/rules`, `/api/v1/alerts` and `/api/v1/alertmanagers`
//! answers in Prometheus's JSON shapes.

use std::io;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use kagari_alerting::rules::AppendError;
use kagari_alerting::{
    AlertSink, AlertState, Appender, EvalEnv, GroupHandle, Health, ManagerOptions, Notifier,
    NotifierConfig, NotifierOptions, Rule, RuleManager, SharedStore,
};
use kagari_client::{Collector, Desc, MetricType, MetricWriter, Value as MValue};
use kagari_model::{Labels, Timestamp};
use kagari_promql::engine::{Engine, EngineOptions};
use kagari_promql::storage::Queryable;
use kagari_scrape::{Config, PromDuration};
use kagari_tsdb::{Db, HeadAppender};
use serde_json::{json, Map, Value};

use crate::api::{ApiError, Params, Success};

/// Flags of rule evaluation and the notifier, with Prometheus's names and defaults.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct RulesFlags {
    /// Max time to tolerate Prometheus outage for restoring "for" state of alert.
    #[arg(long = "rules.alert.for-outage-tolerance", default_value = "1h")]
    pub(crate) for_outage_tolerance: PromDuration,
    /// Minimum duration between alert and restored "for" state.
    #[arg(long = "rules.alert.for-grace-period", default_value = "10m")]
    pub(crate) for_grace_period: PromDuration,
    /// Minimum amount of time to wait before resending an alert to Alertmanager.
    #[arg(long = "rules.alert.resend-delay", default_value = "1m")]
    pub(crate) resend_delay: PromDuration,
    /// The capacity of the queue for pending Alertmanager notifications.
    #[arg(
        long = "alertmanager.notification-queue-capacity",
        default_value_t = 10_000
    )]
    pub(crate) queue_capacity: usize,
}

fn ms(d: PromDuration) -> i64 {
    i64::try_from(d.as_duration().as_millis()).unwrap_or(i64::MAX)
}

/// The `Db` as the rule manager's shared storage.
struct DbStore(Arc<Db>);

struct DbRuleAppender<'a>(HeadAppender<'a>);

impl Appender for DbRuleAppender<'_> {
    fn append(&mut self, labels: &Labels, t: Timestamp, v: f64) -> Result<(), AppendError> {
        self.0
            .append(None, labels, t, v)
            .map(|_| ())
            .map_err(|e| e.into())
    }

    fn commit(self: Box<Self>) -> Result<(), AppendError> {
        self.0.commit().map_err(|e| e.into())
    }
}

impl SharedStore for DbStore {
    fn queryable(&self) -> &dyn Queryable {
        self.0.as_ref()
    }

    fn appender(&self) -> Box<dyn Appender + '_> {
        Box::new(DbRuleAppender(self.0.appender()))
    }
}

/// Rule evaluation and notification of a running server.
#[derive(Debug)]
pub(crate) struct Rules {
    manager: RuleManager,
    notifier: Arc<Notifier>,
    flags: RulesFlags,
    engine: EngineOptions,
    external_url: String,
}

impl Rules {
    /// Starts the notifier and the rule groups of `cfg`.
    pub(crate) fn start(
        db: Arc<Db>,
        flags: &RulesFlags,
        engine: EngineOptions,
        external_url: String,
        cfg: &Config,
        config_file: Option<&Path>,
    ) -> Result<Rules, String> {
        let (ncfg, nopts) = notifier_config(cfg, flags)?;
        let notifier = Arc::new(Notifier::new(&ncfg, nopts));
        let sink: Arc<dyn AlertSink> = notifier.clone();
        let rules = Rules {
            manager: RuleManager::new(Arc::new(DbStore(db)), Some(sink)),
            notifier,
            flags: flags.clone(),
            engine,
            external_url,
        };
        rules.apply(cfg, config_file)?;
        Ok(rules)
    }

    /// Applies a (re)loaded configuration: rule files first (on error nothing changes, as
    /// upstream's "error loading rules, previous rule set restored"), then Alertmanagers.
    pub(crate) fn apply(&self, cfg: &Config, config_file: Option<&Path>) -> Result<(), String> {
        let (ncfg, nopts) = notifier_config(cfg, &self.flags)?;
        let dir = config_file.and_then(Path::parent).unwrap_or(Path::new(""));
        let patterns: Vec<String> = cfg
            .rule_files
            .iter()
            .map(|f| dir.join(f).to_string_lossy().into_owned())
            .collect();
        let g = &cfg.global;
        let opts = ManagerOptions {
            env: EvalEnv {
                engine: Engine::new(self.engine.clone()),
                external_labels: external_labels(cfg),
                external_url: self.external_url.clone(),
            },
            default_interval_ms: g.evaluation_interval.map_or(60_000, ms),
            default_query_offset_ms: g.rule_query_offset.map_or(0, ms),
            resend_delay_ms: ms(self.flags.resend_delay),
            outage_tolerance_ms: ms(self.flags.for_outage_tolerance),
            grace_period_ms: ms(self.flags.for_grace_period),
            ..ManagerOptions::default()
        };
        self.manager
            .update(&patterns, &opts)
            .map_err(|e| format!("error loading rules, previous rule set restored: {e}"))?;
        for w in &ncfg.warnings {
            tracing::warn!("{w}");
        }
        self.notifier.apply_config(&ncfg, nopts);
        Ok(())
    }

    /// Stops the groups, then the notifier (which sends what it holds).
    pub(crate) fn stop(&self) {
        self.manager.stop();
        self.notifier.stop();
    }

    /// The self-metrics collector.
    pub(crate) fn collector(self: &Arc<Self>) -> RulesCollector {
        RulesCollector(self.clone())
    }
}

fn external_labels(cfg: &Config) -> Labels {
    Labels::from_pairs(
        cfg.global
            .external_labels
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str())),
    )
    .unwrap_or_else(|_| Labels::empty())
}

fn notifier_config(
    cfg: &Config,
    flags: &RulesFlags,
) -> Result<(NotifierConfig, NotifierOptions), String> {
    let ncfg = NotifierConfig::from_yaml(cfg.alerting.as_ref()).map_err(|e| e.to_string())?;
    let opts = NotifierOptions {
        queue_capacity: flags.queue_capacity,
        external_labels: external_labels(cfg),
        ..NotifierOptions::default()
    };
    Ok((ncfg, opts))
}

// ---- API -------------------------------------------------------------------------------

/// Go's `strconv.FormatFloat(v, 'e', -1, 64)`: `1e+00`, `7.5e-01`, `NaN`, `+Inf`.
fn format_e(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    let s = format!("{v:e}");
    let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let (sign, digits) = match exp.strip_prefix('-') {
        Some(d) => ('-', d),
        None => ('+', exp),
    };
    format!("{mant}e{sign}{digits:0>2}")
}

/// A millisecond timestamp as Go's `RFC3339Nano`.
fn rfc3339(ms: Timestamp) -> String {
    let secs = ms.div_euclid(1000);
    let nanos = u32::try_from(ms.rem_euclid(1000) * 1_000_000).unwrap_or(0);
    crate::api::time::format_rfc3339_nano(secs, nanos)
}

const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

fn labels_json(l: &Labels) -> Value {
    Value::Object(
        l.iter()
            .map(|l| (l.name.to_string(), Value::String(l.value.to_string())))
            .collect(),
    )
}

fn map_json<'a>(m: impl Iterator<Item = (&'a String, &'a String)>) -> Value {
    Value::Object(
        m.map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect(),
    )
}

fn alert_json(a: &kagari_alerting::Alert) -> Value {
    let mut o = Map::new();
    o.insert("labels".into(), labels_json(&a.labels));
    o.insert("annotations".into(), map_json(a.annotations.iter()));
    o.insert("state".into(), a.state.as_str().into());
    o.insert("activeAt".into(), rfc3339(a.active_at).into());
    if let Some(k) = a.keep_firing_since {
        o.insert("keepFiringSince".into(), rfc3339(k).into());
    }
    o.insert("value".into(), format_e(a.value).into());
    Value::Object(o)
}

fn health_str(h: Health) -> &'static str {
    match h {
        Health::Ok => "ok",
        Health::Err => "err",
        Health::Unknown => "unknown",
    }
}

fn secs(d: std::time::Duration) -> Value {
    json!(d.as_secs_f64())
}

/// `/api/v1/rules`.
pub(crate) fn api_rules(rules: &Rules, p: &Params) -> Result<Success, ApiError> {
    let kind = p.value("type").to_ascii_lowercase();
    let (want_alert, want_record) = match kind.as_str() {
        "" => (true, true),
        "alert" => (true, false),
        "record" => (false, true),
        other => {
            return Err(ApiError::bad_data(format!(
                "invalid parameter \"type\": unsupported value {other:?}"
            )))
        }
    };
    let exclude_alerts = match p.value("exclude_alerts") {
        "" => false,
        v => parse_bool(v).ok_or_else(|| {
            ApiError::bad_data(format!(
                "invalid parameter \"exclude_alerts\": strconv.ParseBool: parsing {v:?}: invalid syntax"
            ))
        })?,
    };
    let sets = match_sets(p)?;
    let names: Vec<&str> = p.all("rule_name[]").collect();
    let group_names: Vec<&str> = p.all("rule_group[]").collect();
    let files: Vec<&str> = p.all("file[]").collect();
    let keep = |set: &[&str], v: &str| set.is_empty() || set.contains(&v);
    let mut groups = Vec::new();
    for h in rules.manager.groups() {
        if !keep(&group_names, h.name()) || !keep(&files, h.file()) {
            continue;
        }
        let g = h.lock();
        let mut out_rules = Vec::new();
        for (i, rule) in g.rules().iter().enumerate() {
            if !keep(&names, rule.name()) || !matches_sets(&sets, rule) {
                continue;
            }
            let Some(st) = g.rule_status(i) else { continue };
            let mut o = Map::new();
            match rule {
                Rule::Alerting(a) if want_alert => {
                    let state = if st.last_evaluation.is_none() {
                        "unknown"
                    } else {
                        a.state().as_str()
                    };
                    o.insert("state".into(), state.into());
                    o.insert("name".into(), a.name().into());
                    o.insert("query".into(), a.expr().to_string().into());
                    o.insert("duration".into(), json!(a.for_ms() as f64 / 1000.0));
                    o.insert(
                        "keepFiringFor".into(),
                        json!(a.keep_firing_for_ms() as f64 / 1000.0),
                    );
                    o.insert("labels".into(), map_json(a.labels().iter()));
                    o.insert("annotations".into(), map_json(a.annotations().iter()));
                    let alerts = if exclude_alerts {
                        Value::Null
                    } else {
                        Value::Array(
                            a.alerts()
                                .into_iter()
                                .filter(|x| x.state != AlertState::Inactive)
                                .map(alert_json)
                                .collect(),
                        )
                    };
                    o.insert("alerts".into(), alerts);
                }
                Rule::Recording(r) if want_record => {
                    o.insert("name".into(), r.name().into());
                    o.insert("query".into(), r.expr().to_string().into());
                    o.insert("labels".into(), map_json(r.labels().iter()));
                }
                _ => continue,
            }
            o.insert("health".into(), health_str(st.health).into());
            if let Some(e) = st.last_error {
                o.insert("lastError".into(), e.into());
            }
            o.insert("evaluationTime".into(), secs(st.evaluation_time));
            o.insert(
                "lastEvaluation".into(),
                st.last_evaluation
                    .map_or(ZERO_TIME.to_string(), rfc3339)
                    .into(),
            );
            let t = if matches!(rule, Rule::Alerting(_)) {
                "alerting"
            } else {
                "recording"
            };
            o.insert("type".into(), t.into());
            out_rules.push(Value::Object(o));
        }
        let filtered = !names.is_empty() || !kind.is_empty() || !sets.is_empty();
        if out_rules.is_empty() && filtered && !g.rules().is_empty() {
            continue;
        }
        groups.push(json!({
            "name": g.name(),
            "file": g.file(),
            "rules": out_rules,
            "interval": g.interval_ms() as f64 / 1000.0,
            "limit": g.limit(),
            "evaluationTime": g.evaluation_time().as_secs_f64(),
            "lastEvaluation": g.last_evaluation().map_or(ZERO_TIME.to_string(), rfc3339),
        }));
    }
    Ok(Success::data(json!({ "groups": groups }).to_string()))
}

/// The `match[]` selectors, each a list of matchers.
fn match_sets(p: &Params) -> Result<Vec<Vec<kagari_model::Matcher>>, ApiError> {
    let mut out = Vec::new();
    for s in p.all("match[]") {
        let bad = |why: String| ApiError::bad_data(format!("invalid parameter \"match[]\": {why}"));
        match kagari_promql::parse(s) {
            Ok(kagari_promql::Expr::VectorSelector(vs)) => out.push(vs.matchers),
            Ok(_) => return Err(bad(format!("{s:?} is not a series selector"))),
            Err(e) => return Err(bad(e.to_string())),
        }
    }
    Ok(out)
}

/// Whether a rule's configured labels satisfy any of the `match[]` sets (all when none).
fn matches_sets(sets: &[Vec<kagari_model::Matcher>], rule: &Rule) -> bool {
    let labels = match rule {
        Rule::Alerting(a) => a.labels(),
        Rule::Recording(r) => r.labels(),
    };
    sets.is_empty()
        || sets.iter().any(|set| {
            set.iter()
                .all(|m| m.matches(labels.get(m.name()).map_or("", String::as_str)))
        })
}

fn parse_bool(v: &str) -> Option<bool> {
    match v {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// `/api/v1/alerts`: pending and firing alerts of every alerting rule.
pub(crate) fn api_alerts(rules: &Rules) -> Success {
    let mut alerts = Vec::new();
    for h in rules.manager.groups() {
        let g = h.lock();
        for r in g.rules() {
            if let Rule::Alerting(a) = r {
                alerts.extend(
                    a.alerts()
                        .into_iter()
                        .filter(|x| x.state != AlertState::Inactive)
                        .map(alert_json),
                );
            }
        }
    }
    Success::data(json!({ "alerts": alerts }).to_string())
}

/// `/api/v1/alertmanagers`.
pub(crate) fn api_alertmanagers(rules: &Rules) -> Success {
    let (active, dropped) = rules.notifier.alertmanagers();
    let urls =
        |v: Vec<String>| -> Vec<Value> { v.into_iter().map(|u| json!({ "url": u })).collect() };
    Success::data(
        json!({
            "activeAlertmanagers": urls(active),
            "droppedAlertmanagers": urls(dropped),
        })
        .to_string(),
    )
}

// ---- self-metrics ----------------------------------------------------------------------

/// Exposes the rule and notifier counters with upstream's names.
#[derive(Debug)]
pub(crate) struct RulesCollector(Arc<Rules>);

type GroupValue = fn(&GroupHandle) -> MValue;

const GROUP_FAMILIES: [(&str, MetricType, &str, GroupValue); 8] = [
    (
        "prometheus_rule_evaluations",
        MetricType::Counter,
        "The total number of rule evaluations.",
        |h| MValue::UInt(h.stats().evaluations.load(Ordering::Relaxed)),
    ),
    (
        "prometheus_rule_evaluation_failures",
        MetricType::Counter,
        "The total number of rule evaluation failures.",
        |h| MValue::UInt(h.stats().failures.load(Ordering::Relaxed)),
    ),
    (
        "prometheus_rule_group_iterations",
        MetricType::Counter,
        "The total number of scheduled rule group evaluations, whether executed or missed.",
        |h| MValue::UInt(h.stats().iterations.load(Ordering::Relaxed)),
    ),
    (
        "prometheus_rule_group_iterations_missed",
        MetricType::Counter,
        "The total number of rule group evaluations missed due to slow rule group evaluation.",
        |h| MValue::UInt(h.stats().iterations_missed.load(Ordering::Relaxed)),
    ),
    (
        "prometheus_rule_group_last_duration_seconds",
        MetricType::Gauge,
        "The duration of the last rule group evaluation.",
        |h| MValue::Float(h.stats().last_duration_ns.load(Ordering::Relaxed) as f64 / 1e9),
    ),
    (
        "prometheus_rule_group_last_evaluation_timestamp_seconds",
        MetricType::Gauge,
        "The timestamp of the last rule group evaluation in seconds.",
        |h| MValue::Float(h.stats().last_eval_ms.load(Ordering::Relaxed) as f64 / 1e3),
    ),
    (
        "prometheus_rule_group_interval_seconds",
        MetricType::Gauge,
        "The interval of a rule group.",
        |h| MValue::Float(h.interval_ms() as f64 / 1e3),
    ),
    (
        "prometheus_rule_group_rules",
        MetricType::Gauge,
        "The number of rules.",
        |h| MValue::UInt(h.rule_count() as u64),
    ),
];

const NOTIFIER_FAMILIES: [(&str, MetricType, &str); 7] = [
    (
        "prometheus_notifications_sent",
        MetricType::Counter,
        "Total number of alerts sent.",
    ),
    (
        "prometheus_notifications_errors",
        MetricType::Counter,
        "Total number of sent alerts affected by errors.",
    ),
    (
        "prometheus_notifications_latency_seconds",
        MetricType::Summary,
        "Latency quantiles for sending alert notifications.",
    ),
    (
        "prometheus_notifications_dropped",
        MetricType::Counter,
        "Total number of alerts dropped due to errors when sending to Alertmanager.",
    ),
    (
        "prometheus_notifications_queue_length",
        MetricType::Gauge,
        "The number of alert notifications in the queue.",
    ),
    (
        "prometheus_notifications_queue_capacity",
        MetricType::Gauge,
        "The capacity of the alert notifications queue.",
    ),
    (
        "prometheus_notifications_alertmanagers_discovered",
        MetricType::Gauge,
        "The number of alertmanagers discovered and active.",
    ),
];

impl Collector for RulesCollector {
    fn describe(&self) -> Vec<Desc> {
        let group = GROUP_FAMILIES
            .iter()
            .map(|(n, t, h, _)| (*n, *t, *h, vec!["rule_group".to_string()]));
        let notif = NOTIFIER_FAMILIES.iter().map(|(n, t, h)| {
            let labels =
                if n.ends_with("_sent") || n.ends_with("_errors") || n.ends_with("_seconds") {
                    vec!["alertmanager".to_string()]
                } else {
                    vec![]
                };
            (*n, *t, *h, labels)
        });
        group
            .chain(notif)
            .map(|(name, metric_type, help, label_names)| Desc {
                name: name.to_string(),
                metric_type,
                help: help.to_string(),
                label_names,
            })
            .collect()
    }

    fn collect(&self, w: &mut MetricWriter<'_>) -> io::Result<()> {
        let groups = self.0.manager.groups();
        let keys: Vec<String> = groups
            .iter()
            .map(|g| format!("{};{}", g.file(), g.name()))
            .collect();
        for (name, t, help, value) in GROUP_FAMILIES {
            w.family(name, t, help, None)?;
            let suffix = if t == MetricType::Counter {
                "_total"
            } else {
                ""
            };
            for (g, key) in groups.iter().zip(&keys) {
                w.sample(suffix, &[("rule_group", key)], None, value(g), None, None)?;
            }
        }
        let n = &self.0.notifier;
        let ams = n.alertmanager_handles();
        let [sent, errors, latency, dropped, qlen, qcap, discovered] = NOTIFIER_FAMILIES;
        for (fam, pick) in [(sent, 0), (errors, 1)] {
            w.family(fam.0, fam.1, fam.2, None)?;
            for a in &ams {
                let s = a.stats();
                let v = if pick == 0 { &s.sent } else { &s.errors };
                let l = [("alertmanager", a.url())];
                w.sample(
                    "_total",
                    &l,
                    None,
                    MValue::UInt(v.load(Ordering::Relaxed)),
                    None,
                    None,
                )?;
            }
        }
        w.family(latency.0, latency.1, latency.2, None)?;
        for a in &ams {
            let s = a.stats();
            let l = [("alertmanager", a.url())];
            let sum = s.latency_ns.load(Ordering::Relaxed) as f64 / 1e9;
            w.sample("_sum", &l, None, MValue::Float(sum), None, None)?;
            let count = s.requests.load(Ordering::Relaxed);
            w.sample("_count", &l, None, MValue::UInt(count), None, None)?;
        }
        let gauges = [
            (dropped, MValue::UInt(n.dropped()), "_total"),
            (qlen, MValue::UInt(n.queue_len() as u64), ""),
            (qcap, MValue::UInt(n.queue_capacity() as u64), ""),
            (discovered, MValue::UInt(ams.len() as u64), ""),
        ];
        for (fam, v, suffix) in gauges {
            w.family(fam.0, fam.1, fam.2, None)?;
            w.sample(suffix, &[], None, v, None, None)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_like_go_e_format() {
        assert_eq!(format_e(1.0), "1e+00");
        assert_eq!(format_e(0.75), "7.5e-01");
        assert_eq!(format_e(123456.0), "1.23456e+05");
        assert_eq!(format_e(1e-300), "1e-300");
        assert_eq!(format_e(f64::NAN), "NaN");
        assert_eq!(format_e(f64::NEG_INFINITY), "-Inf");
        assert_eq!(format_e(0.0), "0e+00");
    }

    #[test]
    fn timestamps_print_like_rfc3339_nano() {
        assert_eq!(rfc3339(1_714_557_600_000), "2024-05-01T10:00:00Z");
        assert_eq!(rfc3339(1_714_557_600_120), "2024-05-01T10:00:00.12Z");
    }
}
