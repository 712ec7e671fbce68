//! Acceptance: the request sequence Grafana's Prometheus data source makes (data-source test,
//! metric browser, a panel's range query; `shared/reference/http-api.md` §8), sent by the
//! Python `prometheus-api-client` from PyPI (`tests/grafana/sequence.py`) to kagari and to real
//! Prometheus 2.42 serving the same promtool-backfilled data. Every step must give the same
//! HTTP status and the same response shape (keys and JSON types; values may differ).
//!
//! Without the peer or the Python package: a loud SKIP, or a failure under
//! `KAGARI_REQUIRE_PEERS=true`.

mod common;
mod peer;

use std::process::Command;

use serde_json::Value;

/// gen-openmetrics' default start (2023-11-14T22:00:00Z).
const DATA_START: i64 = 1_699_999_200;

fn python_client_installed() -> bool {
    Command::new("python3")
        .args(["-c", "import prometheus_api_client"])
        .status()
        .is_ok_and(|s| s.success())
}

fn sequence(base: &str) -> Value {
    let script = peer::root().join("examples/server/tests/grafana/sequence.py");
    let out = peer::run(Command::new("python3").arg(script).args([
        base,
        &(DATA_START + 300).to_string(),
        &(DATA_START + 3600).to_string(),
    ]));
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

#[test]
fn grafana_request_sequence_has_prometheus_shapes() {
    if peer::kit_or_skip("grafana_request_sequence_has_prometheus_shapes").is_none() {
        return;
    }
    kagari_testkit::skip_or_fail!(
        python_client_installed(),
        "grafana_request_sequence_has_prometheus_shapes",
        "prometheus-api-client is not installed (pip install prometheus-api-client)"
    );
    let work = tempfile::tempdir().unwrap();
    let blocks = peer::backfill(work.path(), 100, 2);
    let prom_data = work.path().join("prometheus");
    peer::copy_dir(&blocks, &prom_data);
    let prom = peer::Prometheus::start(&prom_data, &[]);
    let kagari = peer::start_kagari(&blocks);

    let want = sequence(&prom.url());
    let got = sequence(&kagari.url(""));
    let (w, g) = (want.as_object().unwrap(), got.as_object().unwrap());
    assert!(w.len() >= 25, "{want}");
    let mut diffs = Vec::new();
    for (step, wv) in w {
        match g.get(step) {
            None => diffs.push(format!("{step}: missing from kagari's run")),
            Some(gv) if gv != wv => diffs.push(format!(
                "{step}:\n      prometheus {wv}\n      kagari     {gv}"
            )),
            Some(_) => {}
        }
    }
    for d in &diffs {
        eprintln!("DIFF {d}");
    }
    assert!(
        diffs.is_empty(),
        "{} steps differ (see DIFF lines)",
        diffs.len()
    );

    // The facts Grafana depends on, checked on kagari's run directly.
    assert_eq!(got["health_post"]["status"], 200);
    assert_eq!(
        got["health_post"]["shape"]["data"]["result"],
        serde_json::json!(["array", ["number", "string"]])
    );
    assert_eq!(got["buildinfo_post_fallback"]["status"], 405);
    assert_eq!(got["exemplar_probe"]["status"], 200);
    assert_eq!(got["panel_error"]["status"], 400);
    let panel = &got["panel_range"]["shape"]["data"]["result"];
    assert_eq!(
        panel[1][0]["values"],
        serde_json::json!(["array", [["array", ["number", "string"]]]]),
        "{panel}"
    );
    for (step, v) in g.iter().filter(|(k, _)| k.starts_with("lib_")) {
        assert_eq!(v["ok"], true, "{step}: {v}");
    }
}
