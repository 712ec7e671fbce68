use std::collections::BTreeMap;

use kagari_model::Labels;
use kagari_promql::engine::Value;
use kagari_promql::storage::MemStorage;

use super::*;
use crate::rulefmt::{parse_rule_file, ParseOptions};

const MIN: i64 = 60_000;

fn labels(s: &str) -> Labels {
    // `name{a="b", c="d"}` (no escapes needed in these tests).
    let (name, rest) = s.split_once('{').unwrap_or((s, "}"));
    let mut pairs = vec![("__name__".to_string(), name.to_string())];
    for kv in rest
        .trim_end_matches('}')
        .split(", ")
        .filter(|p| !p.is_empty())
    {
        let (k, v) = kv.split_once('=').unwrap();
        pairs.push((k.to_string(), v.trim_matches('"').to_string()));
    }
    Labels::from_pairs(pairs).unwrap()
}

fn load(st: &mut MemStorage, series: &str, values: &[f64]) {
    let l = labels(series);
    for (i, v) in values.iter().enumerate() {
        st.append(&l, i as i64 * MIN, *v).unwrap();
    }
}

fn query(st: &MemStorage, q: &str, t: i64) -> Vec<(String, f64)> {
    let expr = kagari_promql::parse(q).unwrap();
    let res = EvalEnv::default()
        .engine
        .instant_query(st, &expr, t)
        .unwrap();
    let Value::Vector(v) = res.value else {
        panic!("not a vector")
    };
    let mut out: Vec<(String, f64)> = v.into_iter().map(|s| (s.metric.to_string(), s.f)).collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn group(yaml: &str) -> Group {
    let f = parse_rule_file("r.yml", yaml, &ParseOptions::default()).unwrap();
    Group::from_config("r.yml", &f.groups[0], MIN, 0).unwrap()
}

fn alerting(g: &Group, i: usize) -> &AlertingRule {
    match &g.rules()[i] {
        Rule::Alerting(a) => a,
        Rule::Recording(_) => panic!("rule {i} is a recording rule"),
    }
}

fn env() -> EvalEnv {
    EvalEnv {
        external_labels: Labels::from_pairs([("region", "eu-west")]).unwrap(),
        external_url: "http://prom:9090".into(),
        ..EvalEnv::default()
    }
}

#[test]
fn disk_alert_for_and_resolve() {
    let mut st = MemStorage::new();
    load(
        &mut st,
        r#"disk_free_ratio{instance="db-1:9100", mount="/data"}"#,
        &[0.5, 0.2, 0.08, 0.07, 0.06, 0.05, 0.5],
    );
    load(
        &mut st,
        r#"disk_free_ratio{instance="web-1:9100", mount="/"}"#,
        &[0.3; 7],
    );
    let mut g = group(
        "groups:\n- name: disk\n  rules:\n  - alert: DiskAlmostFull\n    expr: disk_free_ratio < 0.10\n    for: 3m\n    labels:\n      severity: warning\n    annotations:\n      summary: '{{ $labels.mount }} on {{ $labels.instance }} is {{ $value | humanizePercentage }} free'\n",
    );
    let env = env();
    let want_labels =
        r#"{alertname="DiskAlmostFull", instance="db-1:9100", mount="/data", severity="warning"}"#;
    for minute in 0..=6 {
        let ts = minute * MIN;
        assert!(g.eval(ts, &env, &mut st).is_empty());
        let a = alerting(&g, 0);
        let state = a.alerts().first().map(|a| a.state);
        match minute {
            0 | 1 => assert_eq!(state, None, "{minute}"),
            2..=4 => assert_eq!(state, Some(AlertState::Pending), "{minute}"),
            5 => {
                let al = a.alerts()[0];
                assert_eq!(al.state, AlertState::Firing);
                assert_eq!(al.labels.to_string(), want_labels);
                assert_eq!(al.active_at, 2 * MIN);
                assert_eq!(al.fired_at, Some(5 * MIN));
                assert_eq!(al.annotations["summary"], "/data on db-1:9100 is 5% free");
            }
            _ => {
                let al = a.alerts()[0];
                assert_eq!(al.state, AlertState::Inactive);
                assert_eq!(al.resolved_at, Some(6 * MIN));
            }
        }
    }
    assert_eq!(
        query(&st, "ALERTS_FOR_STATE", 4 * MIN),
        [(format!("ALERTS_FOR_STATE{}", want_labels), 120.0)]
    );
    let pending = want_labels.replace(
        "alertname=\"DiskAlmostFull\", ",
        "alertname=\"DiskAlmostFull\", alertstate=\"pending\", ",
    );
    assert_eq!(
        query(&st, "ALERTS", 4 * MIN),
        [(format!("ALERTS{pending}"), 1.0)]
    );
    let firing = pending.replace("pending", "firing");
    assert_eq!(
        query(&st, "ALERTS", 5 * MIN),
        [(format!("ALERTS{firing}"), 1.0)]
    );
    // Resolved: stale markers end every ALERTS series at 6m.
    assert_eq!(query(&st, "ALERTS", 6 * MIN), []);
    assert_eq!(query(&st, "ALERTS_FOR_STATE", 6 * MIN), []);
}

#[test]
fn keep_firing_for_and_group_order() {
    let mut st = MemStorage::new();
    load(
        &mut st,
        r#"errors{job="api"}"#,
        &[1.0, 1.6, 2.0, 2.0, 1.5, 1.0, 0.5, 0.0, 0.0, 0.0],
    );
    let mut g = group(
        "groups:\n- name: g\n  rules:\n  - record: job:errors\n    expr: errors\n  - alert: High\n    expr: job:errors > 1.3\n    for: 2m\n    keep_firing_for: 3m\n    labels: {severity: page}\n    annotations:\n      summary: '{{ $labels.job }} in {{ $externalLabels.region }}: {{ printf \"%.2f\" $value }}'\n",
    );
    let env = env();
    let mut states = Vec::new();
    let mut summaries = Vec::new();
    for minute in 0..=9 {
        assert!(g.eval(minute * MIN, &env, &mut st).is_empty());
        let a = alerting(&g, 1).alerts();
        states.push(a.first().map(|a| a.state));
        summaries.push(
            a.first()
                .map(|a| a.annotations["summary"].clone())
                .unwrap_or_default(),
        );
    }
    use AlertState::*;
    assert_eq!(
        states,
        [
            None,
            Some(Pending),
            Some(Pending),
            Some(Firing),
            Some(Firing),
            Some(Firing),
            Some(Firing),
            Some(Firing),
            Some(Inactive),
            Some(Inactive)
        ]
    );
    // Annotations are frozen at the last evaluation where the condition held (4m, 1.5).
    assert_eq!(summaries[3], "api in eu-west: 2.00");
    assert_eq!(summaries[7], "api in eu-west: 1.50");
    let a = alerting(&g, 1).alerts()[0].clone();
    assert_eq!(a.resolved_at, Some(8 * MIN));
    assert_eq!(
        a.labels.to_string(),
        r#"{alertname="High", job="api", severity="page"}"#
    );
}

#[test]
fn recording_rule_output_labels_and_staleness() {
    let mut st = MemStorage::new();
    load(&mut st, r#"src{a="1", b="x"}"#, &[1.0, 2.0, 3.0]);
    load(
        &mut st,
        r#"src{a="2", b="x"}"#,
        &[5.0, kagari_model::STALE_NAN],
    );
    let mut g = group(
        "groups:\n- name: g\n  labels: {team: t, b: g}\n  rules:\n  - record: rec\n    expr: src * 2\n    labels: {b: '', env: prod}\n",
    );
    let env = env();
    assert!(g.eval(0, &env, &mut st).is_empty());
    assert_eq!(
        query(&st, "rec", 0),
        [
            (r#"rec{a="1", env="prod", team="t"}"#.to_string(), 2.0),
            (r#"rec{a="2", env="prod", team="t"}"#.to_string(), 10.0)
        ]
    );
    assert!(g.eval(MIN, &env, &mut st).is_empty());
    // a="2" went stale in the source, so its recorded series gets a stale marker at 1m and
    // disappears although it is within the lookback window.
    assert_eq!(
        query(&st, "rec", MIN),
        [(r#"rec{a="1", env="prod", team="t"}"#.to_string(), 4.0)]
    );
    assert_eq!(g.rule_health(0), Some((Health::Ok, None)));
}

#[test]
fn recording_errors_write_nothing() {
    let mut st = MemStorage::new();
    load(&mut st, r#"src{a="1"}"#, &[1.0]);
    load(&mut st, r#"src{a="2"}"#, &[2.0]);
    let env = env();
    let mut dup = group(
        "groups:\n- name: g\n  rules:\n  - record: rec\n    expr: src\n    labels: {a: ''}\n",
    );
    let errs = dup.eval(0, &env, &mut st);
    assert_eq!(errs.len(), 1);
    assert_eq!(
        errs[0].1.to_string(),
        "vector contains metrics with the same labelset after applying rule labels"
    );
    assert_eq!(dup.rule_health(0).map(|h| h.0), Some(Health::Err));
    let mut lim =
        group("groups:\n- name: g\n  limit: 1\n  rules:\n  - record: rec2\n    expr: src\n");
    let errs = lim.eval(0, &env, &mut st);
    assert_eq!(errs[0].1.to_string(), "exceeded limit of 1 with 2 series");
    assert_eq!(query(&st, "{__name__=~\"rec.*\"}", 0), []);
    let mut bad = group("groups:\n- name: g\n  rules:\n  - record: rec3\n    expr: '\"str\"'\n");
    assert_eq!(
        bad.eval(0, &env, &mut st)[0].1.to_string(),
        "rule result is not a vector or scalar"
    );
    let mut scalar = group("groups:\n- name: g\n  rules:\n  - record: rec4\n    expr: '1 + 1'\n");
    assert!(scalar.eval(0, &env, &mut st).is_empty());
    assert_eq!(query(&st, "rec4", 0), [("rec4".to_string(), 2.0)]);
}

#[test]
fn alert_limit_and_duplicates() {
    let mut st = MemStorage::new();
    load(&mut st, r#"up{i="1"}"#, &[0.0]);
    load(&mut st, r#"up{i="2"}"#, &[0.0]);
    let env = env();
    let mut lim =
        group("groups:\n- name: g\n  limit: 1\n  rules:\n  - alert: Down\n    expr: up == 0\n");
    let errs = lim.eval(0, &env, &mut st);
    assert_eq!(errs[0].1.to_string(), "exceeded limit of 1 with 2 alerts");
    assert!(alerting(&lim, 0).alerts().is_empty());
    let mut dup = group(
        "groups:\n- name: g\n  rules:\n  - alert: Down\n    expr: up == 0\n    labels: {i: x}\n",
    );
    let errs = dup.eval(0, &env, &mut st);
    assert_eq!(
        errs[0].1.to_string(),
        "vector contains metrics with the same labelset after applying alert labels"
    );
}

#[test]
fn pending_vanishes_and_refire_is_new_instance() {
    let mut st = MemStorage::new();
    // 1 = condition true.
    load(&mut st, r#"cond{i="1"}"#, &[1.0, 0.0, 1.0, 1.0, 0.0, 1.0]);
    let mut g =
        group("groups:\n- name: g\n  rules:\n  - alert: A\n    expr: cond == 1\n    for: 1m\n");
    let env = env();
    let mut seen = Vec::new();
    for minute in 0..=5 {
        g.eval(minute * MIN, &env, &mut st);
        seen.push(
            alerting(&g, 0)
                .alerts()
                .first()
                .map(|a| (a.state, a.active_at / MIN)),
        );
    }
    use AlertState::*;
    assert_eq!(
        seen,
        [
            Some((Pending, 0)),
            None,
            Some((Pending, 2)),
            Some((Firing, 2)),
            Some((Inactive, 2)),
            Some((Pending, 5))
        ]
    );
}

#[test]
fn resolved_alerts_dropped_after_retention() {
    let mut st = MemStorage::new();
    let l = labels(r#"cond{i="1"}"#);
    st.append(&l, 0, 1.0).unwrap();
    st.append(&l, MIN, kagari_model::STALE_NAN).unwrap();
    let mut g = group("groups:\n- name: g\n  rules:\n  - alert: A\n    expr: cond == 1\n");
    let env = env();
    g.eval(0, &env, &mut st);
    g.eval(MIN, &env, &mut st);
    assert_eq!(alerting(&g, 0).alerts()[0].state, AlertState::Inactive);
    g.eval(MIN + RESOLVED_RETENTION_MS, &env, &mut st);
    assert_eq!(alerting(&g, 0).alerts().len(), 1);
    g.eval(2 * MIN + RESOLVED_RETENTION_MS, &env, &mut st);
    assert!(alerting(&g, 0).alerts().is_empty());
}

#[test]
fn templates_can_query_and_see_value() {
    let mut st = MemStorage::new();
    load(&mut st, r#"up{job="a"}"#, &[0.0]);
    load(&mut st, r#"up{job="b"}"#, &[1.0]);
    let mut g = group(
        "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up == 0\n    labels: {v: '{{ $value }}', empty: ''}\n    annotations:\n      total: '{{ with query \"sum(up)\" }}{{ . | first | value }}{{ end }}'\n      bad: '{{ humanize \"x\" }}'\n",
    );
    g.eval(0, &env(), &mut st);
    let a = alerting(&g, 0).alerts()[0].clone();
    assert_eq!(a.labels.to_string(), r#"{alertname="A", job="a", v="0"}"#);
    assert_eq!(a.annotations["total"], "1");
    assert!(
        a.annotations["bad"].starts_with(
            "<error expanding template: error executing template __alert_A: template: __alert_A:1:"
        ),
        "{}",
        a.annotations["bad"]
    );
}

#[test]
fn restored_flag_controls_alerts_series() {
    let mut st = MemStorage::new();
    load(&mut st, r#"up{job="a"}"#, &[0.0]);
    let mut g = group("groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up == 0\n");
    if let Rule::Alerting(a) = &mut g.rules_mut()[0] {
        a.set_restored(false);
    }
    g.eval(0, &env(), &mut st);
    assert_eq!(query(&st, "ALERTS", 0), []);
    assert_eq!(alerting(&g, 0).state(), AlertState::Firing);
}

#[test]
fn query_offset_shifts_query_and_output() {
    let mut st = MemStorage::new();
    load(&mut st, r#"src{a="1"}"#, &[1.0, 2.0, 3.0]);
    let mut g =
        group("groups:\n- name: g\n  query_offset: 1m\n  rules:\n  - record: rec\n    expr: src\n");
    g.eval(2 * MIN, &env(), &mut st);
    // Evaluated at 1m (value 2), written at 1m.
    assert_eq!(query(&st, "rec", MIN), [(r#"rec{a="1"}"#.to_string(), 2.0)]);
}

#[test]
fn needs_sending_rules() {
    let mut a = Alert {
        labels: Labels::empty(),
        annotations: BTreeMap::new(),
        state: AlertState::Firing,
        value: 1.0,
        active_at: 0,
        fired_at: Some(0),
        resolved_at: None,
        last_sent_at: None,
        valid_until: None,
        keep_firing_since: None,
    };
    assert!(a.needs_sending(0, MIN));
    a.last_sent_at = Some(0);
    assert!(!a.needs_sending(MIN, MIN), "equal is not less");
    assert!(a.needs_sending(2 * MIN, MIN));
    a.resolved_at = Some(MIN);
    assert!(a.needs_sending(MIN, MIN));
    a.state = AlertState::Pending;
    assert!(!a.needs_sending(5 * MIN, MIN));
}

#[test]
fn notifications_follow_resend_rules() {
    let mut st = MemStorage::new();
    let l = labels(r#"up{job="a"}"#);
    for m in 0..=3 {
        st.append(&l, m * MIN, 0.0).unwrap();
    }
    st.append(&l, 4 * MIN, 1.0).unwrap();
    let mut g = group(
        "groups:\n- name: g\n  rules:\n  - alert: Down\n    expr: vector(1) > 0 and on() up == 0\n",
    );
    let env = env();
    let mut sent = Vec::new();
    for m in 0..=6 {
        g.eval(m * MIN, &env, &mut st);
        let n = g.alerts_to_send(m * MIN, MIN, "http://prom:9090");
        sent.push(
            n.iter()
                .map(|a| (a.starts_at, a.ends_at))
                .collect::<Vec<_>>(),
        );
        if m == 0 {
            assert_eq!(
                n[0].generator_url,
                "http://prom:9090/graph?g0.expr=vector%281%29+%3E+0+and+on+%28%29+up+%3D%3D+0&g0.tab=1"
            );
        }
    }
    let f = Some(0);
    assert_eq!(
        sent,
        [
            vec![(f, Some(4 * MIN))], // new firing alert: sent at once, endsAt = ts + 4m
            vec![],                   // +1m: lastSent + resend == ts, not less
            vec![(f, Some(6 * MIN))],
            vec![],
            vec![(f, Some(4 * MIN))], // resolved at 4m: sent at once with endsAt = resolvedAt
            vec![],
            vec![(f, Some(4 * MIN))], // re-sent as resolved every resend period
        ]
    );
}

#[test]
fn for_state_restored_after_restart() {
    let yaml = "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: cond == 1\n    for: 10m\n";
    let l = labels(r#"cond{i="1"}"#);
    let env = env();
    // Run 0..=3m, "crash", restart at `now` with the condition still true.
    let run = |now: i64, grace: i64| {
        let mut st = MemStorage::new();
        for m in 0..=70 {
            st.append(&l, m * MIN, 1.0).unwrap();
        }
        let mut g = group(yaml);
        for m in 0..=3 {
            g.eval(m * MIN, &env, &mut st);
        }
        let mut g2 = group(yaml);
        if let Rule::Alerting(a) = &mut g2.rules_mut()[0] {
            a.set_restored(false);
        }
        g2.eval(now, &env, &mut st);
        assert_eq!(query(&st, "ALERTS_FOR_STATE", now), [], "not restored yet");
        g2.restore_for_state(now, &st, grace, 60 * MIN).unwrap();
        alerting(&g2, 0).alerts()[0].active_at
    };
    // 3m spent, 7m remaining >= grace 1m: downtime (3m..20m) does not count.
    assert_eq!(run(20 * MIN, MIN), 17 * MIN);
    // 7m remaining < grace 8m: fires one grace period from now.
    assert_eq!(run(20 * MIN, 8 * MIN), 20 * MIN + 8 * MIN - 10 * MIN);
    // Outside the outage tolerance (last sample at 3m, window starts at 4m): nothing found.
    assert_eq!(run(64 * MIN, MIN), 64 * MIN);
    // `for` below the grace period: only marked restored.
    assert_eq!(run(20 * MIN, 11 * MIN), 20 * MIN);
}

#[test]
fn evaluation_slots_are_stable_and_aligned() {
    let a = group("groups:\n- name: a\n  rules: []\n");
    let b = group("groups:\n- name: b\n  rules: []\n");
    let off = a.eval_offset_ms();
    assert!((0..MIN).contains(&off));
    assert_eq!(
        off,
        group("groups:\n- name: a\n  rules: []\n").eval_offset_ms()
    );
    assert_ne!(off, b.eval_offset_ms(), "different groups spread out");
    for now in [0, 1, off, off + 1, 10 * MIN + 7] {
        let first = a.first_eval_ts(now);
        // `first` is after `now` in nanoseconds; truncated to ms it may equal `now`.
        assert!(first >= now && first - now <= MIN, "{now} -> {first}");
        assert_eq!((first - off).rem_euclid(MIN), 0);
    }
}
