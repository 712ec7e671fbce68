//! End to end with the REAL Alertmanager 0.25 (`shared/peers/run alertmanager`): kagari
//! scrapes a loopback target this test controls; the rule `up == 0` with `for: 30s` goes
//! pending when the target stops, fires after 30 s, the alert (labels, annotations,
//! external label) shows up in Alertmanager's `/api/v2/alerts`, and it resolves there when
//! the target comes back. Takes about a minute.
//!
//! Without the peer: a loud SKIP, or a failure under `KAGARI_REQUIRE_PEERS=true`.

mod common;
mod rules_peers;

use std::time::Duration;

use common::Server;
use rules_peers::{get_json, poll, require_peers, rfc3339_ms, start_peer, Target};
use serde_json::Value;

const RULES: &str = "groups:\n\
- name: e2e\n\
\x20 rules:\n\
\x20 - alert: TargetDown\n\
\x20   expr: up{job=\"target\"} == 0\n\
\x20   for: 30s\n\
\x20   labels:\n\
\x20     severity: page\n\
\x20   annotations:\n\
\x20     summary: '{{ $labels.instance }} of {{ $labels.job }} is down'\n";

fn kagari_config(target: u16, am: u16) -> String {
    format!(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n\
         \x20 external_labels: {{replica: a}}\n\
         rule_files: [rules/*.yml]\n\
         alerting:\n  alertmanagers:\n  - static_configs: [{{targets: ['127.0.0.1:{am}']}}]\n\
         scrape_configs:\n  - job_name: target\n    static_configs:\n      - targets: ['127.0.0.1:{target}']\n"
    )
}

/// Our alert in Alertmanager's active alerts, if there.
fn am_alert(am: &rules_peers::Peer) -> Option<Value> {
    let v = get_json(&am.url("/api/v2/alerts"));
    v.as_array()?
        .iter()
        .find(|a| a["labels"]["alertname"] == "TargetDown")
        .cloned()
}

#[test]
fn alert_fires_in_alertmanager_and_resolves() {
    if !require_peers(
        "alert_fires_in_alertmanager_and_resolves",
        &["/usr/bin/prometheus-alertmanager"],
    ) {
        return;
    }
    let am = start_peer("alertmanager", None, None, &[]);
    let target = Target::start();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("rules")).unwrap();
    std::fs::write(dir.path().join("rules/e2e.yml"), RULES).unwrap();
    let (tport, aport) = (target.port, am.port);
    let k = Server::start_custom(
        dir,
        move |_| kagari_config(tport, aport),
        &["--rules.alert.resend-delay=2s"],
    );
    let ctx = || format!("kagari log:\n{}", k.log());
    let instance = format!("127.0.0.1:{tport}");

    // The rule is loaded and the Alertmanager is known.
    let (_, rules) = k.json("/api/v1/rules");
    assert_eq!(rules["data"]["groups"][0]["rules"][0]["name"], "TargetDown");
    assert_eq!(rules["data"]["groups"][0]["rules"][0]["duration"], 30.0);
    let (_, ams) = k.json("/api/v1/alertmanagers");
    assert_eq!(
        ams["data"]["activeAlertmanagers"][0]["url"],
        format!("http://127.0.0.1:{aport}/api/v2/alerts")
    );
    k.wait_for_vector("up{job=\"target\"} == 1");

    target.set(false);
    let pending = poll("a pending alert", Duration::from_secs(60), ctx, || {
        let (_, v) = k.json("/api/v1/alerts");
        v["data"]["alerts"].as_array()?.first().cloned()
    });
    assert_eq!(pending["state"], "pending", "{pending}");
    let active_at = rfc3339_ms(pending["activeAt"].as_str().unwrap());
    assert!(am_alert(&am).is_none(), "pending alerts are not sent");

    let got = poll(
        "the alert in Alertmanager",
        Duration::from_secs(90),
        || format!("{}\nalertmanager log:\n{}", ctx(), am.log("alertmanager")),
        || am_alert(&am),
    );
    let labels = &got["labels"];
    assert_eq!(labels["alertname"], "TargetDown");
    assert_eq!(labels["job"], "target");
    assert_eq!(labels["instance"], instance.as_str());
    assert_eq!(labels["severity"], "page");
    assert_eq!(labels["replica"], "a", "external labels are added");
    assert_eq!(
        got["annotations"]["summary"],
        format!("{instance} of target is down")
    );
    assert_eq!(got["status"]["state"], "active");
    assert!(got["generatorURL"]
        .as_str()
        .unwrap()
        .contains("/graph?g0.expr=up%7Bjob%3D%22target%22%7D+%3D%3D+0&g0.tab=1"));
    // `for: 30s` is honoured: it started firing at least 30 s after it became active.
    let starts_at = rfc3339_ms(got["startsAt"].as_str().unwrap());
    assert!(
        starts_at - active_at >= 30_000,
        "startsAt {starts_at} activeAt {active_at}"
    );
    let (_, v) = k.json("/api/v1/alerts");
    assert_eq!(v["data"]["alerts"][0]["state"], "firing");

    target.set(true);
    poll(
        "the alert to resolve in Alertmanager",
        Duration::from_secs(60),
        ctx,
        || {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_millis() as i64;
            match am_alert(&am) {
                None => Some(()),
                Some(a) => {
                    let ends = rfc3339_ms(a["endsAt"].as_str().unwrap());
                    (ends <= now).then_some(())
                }
            }
        },
    );
    let (_, v) = k.json("/api/v1/alerts");
    assert_eq!(v["data"]["alerts"], Value::Array(vec![]), "{v}");
    let (_, m) = k.get("/metrics");
    let sent = m
        .lines()
        .find(|l| l.starts_with("prometheus_notifications_sent_total{"))
        .unwrap_or_else(|| panic!("no sent counter in\n{m}"));
    assert!(!sent.ends_with(" 0"), "{sent}");
    assert!(
        m.contains("prometheus_rule_evaluations_total{rule_group="),
        "{m}"
    );
}
