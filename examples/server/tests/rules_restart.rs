//! Restart in the middle of a `for` period: kagari (with its WAL) has a pending alert, is
//! stopped and started again on the same data directory; the restored alert keeps its
//! active-since time (shifted only by the downtime, as upstream's `RestoreForState` does)
//! and fires on that schedule, earlier than a fresh alert would.

mod common;
mod rules_peers;

use std::time::{Duration, Instant};

use common::Server;
use rules_peers::{free_port, poll, rfc3339_ms};
use serde_json::Value;

const FOR_MS: i64 = 30_000;

fn config(dead_port: u16) -> String {
    format!(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n\
         rule_files: [rules.yml]\n\
         scrape_configs:\n  - job_name: dead\n    static_configs:\n      - targets: ['127.0.0.1:{dead_port}']\n"
    )
}

const RULES: &str = "groups:\n- name: restart\n  rules:\n  - alert: DeadTarget\n    expr: up{job=\"dead\"} == 0\n    for: 30s\n";

/// The only alert of `/api/v1/alerts`, once there.
fn alert(k: &Server) -> Value {
    poll(
        "an alert",
        Duration::from_secs(60),
        || k.log(),
        || {
            let (_, v) = k.json("/api/v1/alerts");
            v["data"]["alerts"].as_array()?.first().cloned()
        },
    )
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

#[test]
fn pending_alert_keeps_its_active_time_across_a_restart() {
    // Nothing listens on this port: every scrape fails, `up` is 0 from the start.
    let dead = free_port();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rules.yml"), RULES).unwrap();
    // A grace period below `for`, so that restoring applies (default 10m would skip it).
    let args = ["--rules.alert.for-grace-period=5s"];
    let k = Server::start_custom(dir, move |_| config(dead), &args);
    let first = alert(&k);
    assert_eq!(first["state"], "pending");
    let active_at = rfc3339_ms(first["activeAt"].as_str().unwrap());
    // Stay pending for a while so that a fresh start would be clearly later, and
    // `ALERTS_FOR_STATE` (written once the rule is restored) is in the WAL.
    k.wait_for_vector("ALERTS_FOR_STATE{alertname=\"DeadTarget\"}");
    let until = Instant::now() + Duration::from_secs(8);
    while Instant::now() < until {
        std::thread::sleep(Duration::from_millis(200));
    }
    let (_, v) = k.json("/api/v1/alerts");
    assert_eq!(v["data"]["alerts"][0]["state"], "pending", "{v}");
    let dir = k.into_dir();
    let stopped_at = now_ms();

    let k = Server::start_custom(dir, move |_| config(dead), &args);
    let restarted_at = now_ms();
    // Before restoration the new process shows a fresh activeAt (after the stop); wait for
    // the restored one (restoration runs after the second evaluation).
    let restored = poll(
        "the restored activeAt",
        Duration::from_secs(30),
        || k.log(),
        || {
            let (_, v) = k.json("/api/v1/alerts");
            let a = v["data"]["alerts"].as_array()?.first()?.clone();
            let t = rfc3339_ms(a["activeAt"].as_str()?);
            (t < stopped_at).then_some(t)
        },
    );
    // Kept, shifted only by the downtime (stop → restore, a few seconds here).
    let downtime_bound = now_ms() - stopped_at + 2_000;
    assert!(
        restored >= active_at && restored - active_at <= downtime_bound,
        "activeAt {active_at} → {restored} (bound {downtime_bound} ms)\n{}",
        k.log()
    );
    // It fires on the restored schedule: at the first evaluation ≥ activeAt + for.
    let fired = poll(
        "the alert to fire",
        Duration::from_secs(60),
        || k.log(),
        || {
            let (_, v) = k.json("/api/v1/alerts");
            let a = v["data"]["alerts"].as_array()?.first()?.clone();
            (a["state"] == "firing").then_some(a)
        },
    );
    assert_eq!(rfc3339_ms(fired["activeAt"].as_str().unwrap()), restored);
    let (_, v) = k.json(&format!(
        "/api/v1/query?query={}",
        rules_peers::encode("ALERTS{alertstate=\"firing\"}[2m]")
    ));
    let first_firing = v["data"]["result"][0]["values"][0][0].as_f64().unwrap();
    let first_firing = (first_firing * 1000.0).round() as i64;
    assert!(
        first_firing >= restored + FOR_MS && first_firing <= restored + FOR_MS + 1_000,
        "first firing sample at {first_firing}, activeAt {restored}"
    );
    assert!(
        first_firing < restarted_at + FOR_MS,
        "fired no earlier than a fresh alert would: {first_firing} vs restart {restarted_at}"
    );
}
