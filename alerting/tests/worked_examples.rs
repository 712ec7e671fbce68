//! The worked example 2 of the rules reference: a recording rule feeding an alert through
//! group order, `for`, `keep_firing_for` and external labels, on the in-memory storage.

use kagari_alerting::{
    parse_rule_file, AlertState, AlertingRule, EvalEnv, Group, ParseOptions, Rule,
};
use kagari_model::Labels;
use kagari_promql::engine::Value;
use kagari_promql::storage::MemStorage;

const MIN: i64 = 60_000;

const RULES: &str = r#"
groups:
  - name: recording
    interval: 1m
    rules:
      - record: job:http_errors:rate5m
        expr: sum by (job) (rate(http_requests_total{code=~"5.."}[5m]))
  - name: alerts
    rules:
      - alert: HighErrorRate
        expr: job:http_errors:rate5m > 1.3
        for: 2m
        keep_firing_for: 3m
        labels:
          severity: page
        annotations:
          summary: '{{ $labels.job }} in {{ $externalLabels.region }}: {{ printf "%.2f" $value }} errors/s'
"#;

fn storage() -> MemStorage {
    let mut st = MemStorage::new();
    let a = Labels::from_pairs([
        ("__name__", "http_requests_total"),
        ("job", "api"),
        ("instance", "a:80"),
        ("code", "500"),
    ])
    .unwrap();
    let b = Labels::from_pairs([
        ("__name__", "http_requests_total"),
        ("job", "api"),
        ("instance", "b:80"),
        ("code", "200"),
    ])
    .unwrap();
    // '0+120x10 1320x10' and '0+600x20'.
    for i in 0..=21i64 {
        let v = if i <= 10 { 120.0 * i as f64 } else { 1320.0 };
        st.append(&a, i * MIN, v).unwrap();
        if i <= 20 {
            st.append(&b, i * MIN, 600.0 * i as f64).unwrap();
        }
    }
    st
}

fn instant(st: &MemStorage, q: &str, t: i64) -> Vec<(String, f64)> {
    let expr = kagari_promql::parse(q).unwrap();
    let res = EvalEnv::default()
        .engine
        .instant_query(st, &expr, t)
        .unwrap();
    let Value::Vector(v) = res.value else {
        panic!("not a vector")
    };
    v.into_iter().map(|s| (s.metric.to_string(), s.f)).collect()
}

fn alert_rule(g: &Group) -> &AlertingRule {
    match &g.rules()[0] {
        Rule::Alerting(a) => a,
        Rule::Recording(_) => panic!("expected an alerting rule"),
    }
}

#[test]
fn recording_feeds_alert_with_keep_firing_for() {
    let file = parse_rule_file("api_rules.yml", RULES, &ParseOptions::default()).unwrap();
    let mut groups: Vec<Group> = file
        .groups
        .iter()
        .map(|g| Group::from_config("api_rules.yml", g, MIN, 0).unwrap())
        .collect();
    let env = EvalEnv {
        external_labels: Labels::from_pairs([("region", "eu-west")]).unwrap(),
        ..EvalEnv::default()
    };
    let mut st = storage();
    let mut firing = Vec::new();
    for minute in 0..=16 {
        for g in &mut groups {
            assert!(g.eval(minute * MIN, &env, &mut st).is_empty());
        }
        let alerts = alert_rule(&groups[1]).alerts();
        firing.push(
            alerts
                .iter()
                .find(|a| a.state == AlertState::Firing)
                .map(|a| (minute, a.annotations["summary"].clone())),
        );
        if minute == 6 {
            assert_eq!(
                alerts[0].labels.to_string(),
                r#"{alertname="HighErrorRate", job="api", severity="page"}"#
            );
        }
    }
    let rec = "job:http_errors:rate5m";
    let want = |v: f64| vec![(r#"job:http_errors:rate5m{job="api"}"#.to_string(), v)];
    // 360 * ((180/180)/300) in IEEE-754: needs a bit-exact extrapolated rate.
    assert_eq!(instant(&st, rec, 3 * MIN), want(1.2000000000000002));
    assert_eq!(instant(&st, rec, 10 * MIN), want(2.0));
    assert_eq!(instant(&st, rec, 14 * MIN), want(0.5));
    assert_eq!(
        instant(&st, r#"ALERTS{alertname="HighErrorRate"}"#, 5 * MIN),
        [(
            r#"ALERTS{alertname="HighErrorRate", alertstate="pending", job="api", severity="page"}"#
                .to_string(),
            1.0
        )]
    );
    let summary = |m: usize| firing[m].as_ref().map(|(_, s)| s.as_str());
    assert_eq!(summary(5), None, "pending at 5m");
    assert_eq!(summary(6), Some("api in eu-west: 2.00 errors/s"));
    // Rate fell to 1.0 at 13m; kept firing, annotation frozen at 12m's 1.5.
    assert_eq!(summary(14), Some("api in eu-west: 1.50 errors/s"));
    assert_eq!(summary(15), Some("api in eu-west: 1.50 errors/s"));
    assert_eq!(summary(16), None, "resolved at 16m");
    let a = alert_rule(&groups[1]).alerts()[0].clone();
    assert_eq!(
        (a.active_at, a.fired_at, a.resolved_at),
        (4 * MIN, Some(6 * MIN), Some(16 * MIN))
    );
}
