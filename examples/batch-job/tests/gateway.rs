//! Runs the batch-job binary in all three modes against the real Pushgateway.
//!
//! Without the peer: a loud SKIP, or a failure if `KAGARI_REQUIRE_PEERS=true`.

use std::path::Path;
use std::process::Command;

use kagari_testkit::{http_get, skip_or_fail, Peer};

const BINARY: &str = "/usr/bin/prometheus-pushgateway";

fn job(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_kagari-batch-job"))
        .args(args)
        .output()
        .unwrap()
}

/// The Pushgateway's `/metrics` text.
fn metrics(url: &str) -> String {
    let (status, body) = http_get(&format!("{url}/metrics")).unwrap();
    assert_eq!(status, 200, "{body}");
    body
}

fn group(url: &str) -> Vec<String> {
    let text = metrics(url);
    text.lines()
        .filter(|l| l.contains("job=\"kagari_batch\"") && l.contains("instance=\"t1\""))
        .map(|l| l.split_once('{').map_or(l, |(n, _)| n).to_owned())
        .collect()
}

#[test]
fn push_pushadd_delete_modes() {
    let have = kagari_testkit::peers_run().is_some() && Path::new(BINARY).exists();
    skip_or_fail!(
        have,
        "push_pushadd_delete_modes",
        "real Pushgateway not available"
    );
    let gw = Peer::start("pushgateway", std::iter::empty::<&str>()).unwrap();
    let url = gw.url();

    let out = job(&[&url, "--instance", "t1", "--records", "500"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let names = group(&url);
    for n in [
        "batch_job_duration_seconds",
        "batch_job_records_processed_total",
        "batch_job_last_success_timestamp_seconds",
        "push_time_seconds",
    ] {
        assert!(names.iter().any(|x| x == n), "{n} missing: {names:?}");
    }
    let text = metrics(&url);
    assert!(text
        .contains("batch_job_records_processed_total{instance=\"t1\",job=\"kagari_batch\"} 500\n"));

    let out = job(&[
        &url,
        "--mode",
        "pushadd",
        "--instance",
        "t1",
        "--records",
        "7",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = metrics(&url);
    assert!(text
        .contains("batch_job_records_processed_total{instance=\"t1\",job=\"kagari_batch\"} 7\n"));

    let out = job(&[&url, "--mode", "delete", "--instance", "t1"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut left = group(&url);
    for _ in 0..50 {
        if left.is_empty() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        left = group(&url);
    }
    assert!(left.is_empty(), "group still there: {left:?}");

    let out = job(&[&url, "--mode", "bogus"]);
    assert_eq!(out.status.code(), Some(2));
}
