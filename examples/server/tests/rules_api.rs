//! `/api/v1/rules`, `/api/v1/alerts`, `/api/v1/alertmanagers` and reloads against the
//! binary (no peers needed): upstream JSON shapes, the `type` filter, a reload that keeps
//! alert state, a broken rule file that fails the reload and keeps the running rules.

mod common;
mod rules_peers;

use std::time::Duration;

use common::Server;
use rules_peers::poll;
use serde_json::{json, Value};

const RULES_V1: &str = "groups:\n- name: api\n  interval: 1s\n  rules:\n  - record: job:one\n    expr: vector(1)\n    labels: {team: a}\n  - alert: AlwaysPending\n    expr: vector(1) > 0\n    for: 1h\n    labels: {severity: info}\n    annotations: {summary: 'value {{ $value }}'}\n";
const RULES_V2: &str = "groups:\n- name: api\n  interval: 1s\n  rules:\n  - alert: AlwaysPending\n    expr: vector(1) > 0\n    for: 1h\n    labels: {severity: info}\n    annotations: {summary: 'value {{ $value }}'}\n  - record: job:two\n    expr: vector(2)\n";

fn config(_: u16) -> String {
    "global:\n  evaluation_interval: 1s\nrule_files: [rules.yml]\n\
     alerting:\n  alertmanagers:\n  - path_prefix: /am\n    static_configs: [{targets: ['127.0.0.1:1', 'drop.me:1']}]\n    \
     relabel_configs: [{source_labels: [__address__], regex: 'drop.*', action: drop}]\n"
        .to_string()
}

fn first_alert(k: &Server) -> Value {
    poll(
        "a pending alert",
        Duration::from_secs(30),
        || k.log(),
        || {
            let (_, v) = k.json("/api/v1/alerts");
            v["data"]["alerts"].as_array()?.first().cloned()
        },
    )
}

#[test]
fn rules_alerts_and_alertmanagers_have_upstream_shapes_and_reload_keeps_state() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rules.yml"), RULES_V1).unwrap();
    let file = dir.path().join("rules.yml").display().to_string();
    let k = Server::start_custom(dir, config, &["--web.enable-lifecycle"]);

    let alert = first_alert(&k);
    assert_eq!(alert["state"], "pending");
    assert_eq!(alert["value"], "1e+00");
    assert_eq!(alert["annotations"], json!({"summary": "value 1"}));
    assert_eq!(
        alert["labels"],
        json!({"alertname": "AlwaysPending", "severity": "info"})
    );
    let active_at = alert["activeAt"].clone();

    let (s, v) = k.json("/api/v1/rules");
    assert_eq!(s, 200);
    let g = &v["data"]["groups"][0];
    assert_eq!(g["name"], "api");
    assert_eq!(g["file"], file.as_str());
    assert_eq!(g["interval"], 1.0);
    assert_eq!(g["limit"], 0);
    assert!(g["evaluationTime"].is_number());
    assert_ne!(g["lastEvaluation"], "0001-01-01T00:00:00Z");
    let rec = &g["rules"][0];
    assert_eq!(rec["type"], "recording");
    assert_eq!(rec["name"], "job:one");
    assert_eq!(rec["query"], "vector(1)");
    assert_eq!(rec["labels"], json!({"team": "a"}));
    assert_eq!(rec["health"], "ok");
    assert!(rec.get("lastError").is_none());
    let al = &g["rules"][1];
    assert_eq!(al["type"], "alerting");
    assert_eq!(al["state"], "pending");
    assert_eq!(al["duration"], 3600.0);
    assert_eq!(al["keepFiringFor"], 0.0);
    assert_eq!(al["query"], "vector(1) > 0");
    assert_eq!(al["alerts"][0]["activeAt"], active_at);

    let (_, v) = k.json("/api/v1/rules?type=record");
    let names: Vec<&Value> = v["data"]["groups"][0]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["name"])
        .collect();
    assert_eq!(names, [&json!("job:one")]);
    let (_, v) = k.json("/api/v1/rules?type=alert&exclude_alerts=true");
    assert_eq!(v["data"]["groups"][0]["rules"][0]["alerts"], Value::Null);
    for (sel, want) in [
        ("{severity=\"info\"}", "AlwaysPending"),
        ("{team=~\"a|b\"}", "job:one"),
    ] {
        let (_, v) = k.json(&format!(
            "/api/v1/rules?match[]={}",
            rules_peers::encode(sel)
        ));
        let rules = v["data"]["groups"][0]["rules"].as_array().unwrap().clone();
        assert_eq!(rules.len(), 1, "{sel}: {v}");
        assert_eq!(rules[0]["name"], want, "{sel}");
    }
    let (s, _) = k.json("/api/v1/rules?match[]=sum(x)");
    assert_eq!(s, 400);
    let (_, v) = k.json("/api/v1/rules?rule_group[]=nope");
    assert_eq!(v["data"]["groups"], json!([]));
    let (s, v) = k.json("/api/v1/rules?type=bogus");
    assert_eq!((s, &v["errorType"]), (400, &json!("bad_data")));

    let (_, v) = k.json("/api/v1/alertmanagers");
    assert_eq!(
        v["data"],
        json!({
            "activeAlertmanagers": [{"url": "http://127.0.0.1:1/am/api/v2/alerts"}],
            "droppedAlertmanagers": [{"url": "http://drop.me:1/am/api/v2/alerts"}],
        })
    );
    k.wait_for_vector("job:one{team=\"a\"}");

    // Reload with a changed group: the pending alert keeps its activeAt.
    std::fs::write(k.dir.path().join("rules.yml"), RULES_V2).unwrap();
    assert_eq!(k.post_form("/-/reload", &[]).0, 200, "{}", k.log());
    k.wait_for_vector("job:two");
    let (_, v) = k.json("/api/v1/rules");
    assert_eq!(v["data"]["groups"][0]["rules"][1]["name"], "job:two");
    assert_eq!(first_alert(&k)["activeAt"], active_at);

    // A broken rule file fails the reload; the running rules stay.
    std::fs::write(
        k.dir.path().join("rules.yml"),
        "groups: [{name: x, rules: [{record: a, expr: 'sum('}]}]\n",
    )
    .unwrap();
    let (s, body) = k.post_form("/-/reload", &[]);
    assert_eq!(s, 500, "{body}");
    assert!(body.contains("could not parse expression"), "{body}");
    let (_, v) = k.json("/api/v1/rules");
    assert_eq!(v["data"]["groups"][0]["rules"][1]["name"], "job:two");

    let (_, m) = k.get("/metrics");
    let key = format!("rule_group=\"{file};api\"");
    for fam in [
        "prometheus_rule_evaluations_total",
        "prometheus_rule_group_iterations_total",
        "prometheus_rule_group_iterations_missed_total",
        "prometheus_rule_group_last_duration_seconds",
        "prometheus_rule_group_interval_seconds",
    ] {
        assert!(
            m.contains(&format!("{fam}{{{key}}}")),
            "{fam} missing:\n{m}"
        );
    }
    assert!(
        m.contains("prometheus_notifications_alertmanagers_discovered 1"),
        "{m}"
    );
    assert!(
        m.contains("prometheus_notifications_queue_capacity 10000"),
        "{m}"
    );
}
