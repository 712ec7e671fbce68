//! Differential test against the real Prometheus.
//!
//! `tests/fixtures/prometheus_relabel/prometheus-2.42.json` was recorded by `gen.py` next to
//! it: for each case, the real Prometheus (Debian 2.42 build) scraped one sample with the
//! input labels and applied the rules as `metric_relabel_configs`; the fixture holds the
//! label set it stored, or null when the sample was dropped. We apply the same rules with the
//! legacy name validation 2.42 uses and must get the same answer, except where Prometheus 3
//! (our spec) deliberately changed behaviour.

#![cfg(feature = "regex")]

use std::collections::BTreeMap;

use kagari_model::{relabel, Labels, NameValidationScheme, RelabelConfig};
use serde::Deserialize;

#[derive(Deserialize)]
struct Fixture {
    prometheus: String,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    id: String,
    input: BTreeMap<String, String>,
    rules: Vec<String>,
    prometheus: Option<BTreeMap<String, String>>,
}

/// A label set written as pairs.
type Pairs = &'static [(&'static str, &'static str)];

/// Cases where Prometheus 3 differs from 2.42, with the Prometheus 3 answer.
/// - v26: since 3.0 regexes are compiled with `(?s)`, so `.` matches a newline
///   (relabel.md §7 vector 26).
const PROMETHEUS_3_CHANGES: &[(&str, Option<Pairs>)] = &[(
    "v26",
    Some(&[("__name__", "m"), ("msg", "a\nb"), ("ok", "yes")]),
)];

fn labels<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Labels {
    Labels::from_pairs(pairs).unwrap()
}

#[test]
fn matches_real_prometheus() {
    let text = include_str!("fixtures/prometheus_relabel/prometheus-2.42.json");
    let fixture: Fixture = serde_json::from_str(text).unwrap();
    assert!(
        fixture.prometheus.contains("2.42"),
        "{}",
        fixture.prometheus
    );
    assert!(fixture.cases.len() >= 60, "fixture lost cases");
    let mut failures = Vec::new();
    for case in &fixture.cases {
        let yaml = format!("[{}]", case.rules.join(", "));
        let mut rules: Vec<RelabelConfig> =
            serde_yaml_ng::from_str(&yaml).unwrap_or_else(|e| panic!("{}: {e}", case.id));
        for r in &mut rules {
            r.name_validation = NameValidationScheme::Legacy;
            r.validate().unwrap_or_else(|e| panic!("{}: {e}", case.id));
        }
        let input = labels(case.input.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let got = relabel(&input, &rules);
        let recorded = case
            .prometheus
            .as_ref()
            .map(|m| labels(m.iter().map(|(k, v)| (k.as_str(), v.as_str()))));
        let want = match PROMETHEUS_3_CHANGES.iter().find(|(id, _)| *id == case.id) {
            Some((_, v3)) => {
                let v3 = v3.map(|p| labels(p.iter().copied()));
                assert_ne!(recorded, v3, "{}: no longer a 2.42/3.x difference", case.id);
                v3
            }
            None => recorded,
        };
        if got != want {
            failures.push(format!("{}: got {got:?}, Prometheus {want:?}", case.id));
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
