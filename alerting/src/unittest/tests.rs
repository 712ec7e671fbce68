//! Scenario tests of the rule unit-test runner (files written to a fresh temp directory).

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::{run_test_file, FileOutcome, UnitTestError, UnitTestOptions};

/// A scratch directory removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Scratch {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "kagari-unittest-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn write(&self, name: &str, content: &str) -> String {
        let p = self.0.join(name);
        std::fs::write(&p, content).unwrap();
        p.to_string_lossy().into_owned()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const DISK_RULES: &str = r#"
groups:
  - name: disk
    rules:
      - alert: DiskAlmostFull
        expr: disk_free_ratio < 0.10
        for: 3m
        labels:
          severity: warning
        annotations:
          summary: '{{ $labels.mount }} on {{ $labels.instance }} is {{ $value | humanizePercentage }} free'
"#;

fn disk_test(exp_at_5m: &str, for_state: &str) -> String {
    format!(
        r#"
rule_files: [disk_alerts.yml]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'disk_free_ratio{{instance="db-1:9100", mount="/data"}}'
        values: '0.5 0.2 0.08 0.07 0.06 0.05 0.5'
      - series: 'disk_free_ratio{{instance="web-1:9100", mount="/"}}'
        values: '0.3x6'
    alert_rule_test:
      - eval_time: 3m
        alertname: DiskAlmostFull
        exp_alerts: []
      - eval_time: 5m
        alertname: DiskAlmostFull
        exp_alerts:
          - exp_labels:
              severity: warning
              instance: db-1:9100
              mount: /data
            exp_annotations:
              summary: '{exp_at_5m}'
      - eval_time: 6m
        alertname: DiskAlmostFull
        exp_alerts: []
    promql_expr_test:
      - expr: ALERTS_FOR_STATE
        eval_time: 4m
        exp_samples:
          - labels: 'ALERTS_FOR_STATE{{alertname="DiskAlmostFull", instance="db-1:9100", mount="/data", severity="warning"}}'
            value: {for_state}
"#
    )
}

fn run(files: &[(&str, &str)], main: &str) -> FileOutcome {
    run_with(files, main, &UnitTestOptions::default())
}

fn run_with(files: &[(&str, &str)], main: &str, opts: &UnitTestOptions) -> FileOutcome {
    let dir = Scratch::new();
    for (n, c) in files {
        dir.write(n, c);
    }
    run_test_file(&dir.0.join(main).to_string_lossy(), opts)
}

fn messages(o: &FileOutcome) -> Vec<String> {
    o.errors.iter().map(ToString::to_string).collect()
}

#[test]
fn worked_example_passes() {
    let o = run(
        &[
            ("disk_alerts.yml", DISK_RULES),
            ("t.yml", &disk_test("/data on db-1:9100 is 5% free", "120")),
        ],
        "t.yml",
    );
    assert!(o.passed(), "{:?}", messages(&o));
    assert!(o.warnings.is_empty());
}

#[test]
fn wrong_expectations_fail_with_promtool_text() {
    let o = run(
        &[
            ("disk_alerts.yml", DISK_RULES),
            ("t.yml", &disk_test("wrong", "121")),
        ],
        "t.yml",
    );
    assert_eq!(
        messages(&o),
        vec![
            "    alertname: DiskAlmostFull, time: 5m, \n        exp:[\n            0:\n              Labels:{alertname=\"DiskAlmostFull\", instance=\"db-1:9100\", mount=\"/data\", severity=\"warning\"}\n              Annotations:{summary=\"wrong\"}\n            ], \n        got:[\n            0:\n              Labels:{alertname=\"DiskAlmostFull\", instance=\"db-1:9100\", mount=\"/data\", severity=\"warning\"}\n              Annotations:{summary=\"/data on db-1:9100 is 5% free\"}\n            ]".to_string(),
            "    expr: \"ALERTS_FOR_STATE\", time: 4m,\n        exp: {__name__=\"ALERTS_FOR_STATE\", alertname=\"DiskAlmostFull\", instance=\"db-1:9100\", mount=\"/data\", severity=\"warning\"} 1.21E+02\n        got: {__name__=\"ALERTS_FOR_STATE\", alertname=\"DiskAlmostFull\", instance=\"db-1:9100\", mount=\"/data\", severity=\"warning\"} 1.2E+02".to_string(),
        ]
    );
}

#[test]
fn unmatched_rule_glob_warns_and_groups_are_named() {
    let o = run(
        &[(
            "t.yml",
            "rule_files: [nomatch*.yml]\ntests:\n  - name: g1\n    interval: 1m\n    input_series:\n      - series: up\n        values: '1'\n    alert_rule_test:\n      - eval_time: 0m\n        alertname: X\n        exp_alerts:\n          - exp_labels: {a: b}\n",
        )],
        "t.yml",
    );
    assert_eq!(o.warnings.len(), 1);
    assert!(o.warnings[0].starts_with("  WARNING: no file match pattern /"));
    assert!(o.warnings[0].ends_with("/nomatch*.yml"));
    assert_eq!(
        messages(&o),
        vec!["    name: g1,\n    alertname: X, time: 0s, \n        exp:[\n            0:\n              Labels:{a=\"b\", alertname=\"X\"}\n              Annotations:{}\n            ], \n        got:[]"]
    );
}

#[test]
fn missing_alertname_stops_the_group() {
    let o = run(
        &[(
            "t.yml",
            "tests:\n  - name: tg\n    alert_rule_test:\n      - eval_time: 90s\n",
        )],
        "t.yml",
    );
    assert_eq!(
        messages(&o),
        vec!["an item under alert_rule_test misses required attribute alertname at eval_time 1m30s (in TestGroup tg)"]
    );
}

#[test]
fn interval_defaults_to_evaluation_interval() {
    // Prometheus 3 semantics; promtool 2.42 would put every sample at time 0.
    let o = run(
        &[(
            "t.yml",
            "evaluation_interval: 30s\ntests:\n  - input_series:\n      - series: a\n        values: '1 2 3'\n    promql_expr_test:\n      - expr: a\n        eval_time: 1m\n        exp_samples:\n          - labels: a\n            value: 3\n",
        )],
        "t.yml",
    );
    assert!(o.passed(), "{:?}", messages(&o));
}

#[test]
fn rule_errors_stop_evaluation() {
    let rules = "groups:\n  - name: g\n    rules:\n      - record: x\n        expr: a\n        labels: {x: ''}\n";
    let test = "rule_files: [r.yml]\ntests:\n  - interval: 1m\n    input_series:\n      - series: 'a{x=\"1\"}'\n        values: '1 1'\n      - series: 'a{x=\"2\"}'\n        values: '1 1'\n    alert_rule_test:\n      - eval_time: 1m\n        alertname: X\n";
    let o = run(&[("r.yml", rules), ("t.yml", test)], "t.yml");
    assert_eq!(
        messages(&o),
        vec!["    rule: x, time: 0s, err: vector contains metrics with the same labelset after applying rule labels"]
    );
    assert!(matches!(o.errors[0], UnitTestError::RuleEval { .. }));
}

#[test]
fn scalar_results_and_bad_labels() {
    let test = "tests:\n  - interval: 1m\n    input_series:\n      - series: a\n        values: '1 2'\n    promql_expr_test:\n      - expr: scalar(a)\n        eval_time: 1m\n        exp_samples:\n          - labels: '{}'\n            value: 2\n      - expr: a\n        eval_time: 1m\n        exp_samples:\n          - labels: 'a{'\n            value: 2\n      - expr: a\n        eval_time: 1m\n        exp_samples:\n";
    let o = run(&[("t.yml", test)], "t.yml");
    let m = messages(&o);
    assert_eq!(m.len(), 2, "{m:?}");
    assert!(m[0].starts_with("    expr: \"a\", time: 1m, err: labels \"a{\": 1:3: parse error: "));
    assert_eq!(
        m[1],
        "    expr: \"a\", time: 1m,\n        exp: nil\n        got: {__name__=\"a\"} 2E+00"
    );
}

#[test]
fn unknown_keys_and_missing_files() {
    let o = run(&[("t.yml", "rule_files: [r.yml]\nbogus: 1\n")], "t.yml");
    assert_eq!(
        messages(&o),
        vec!["yaml: unmarshal errors:\n  line 2: field bogus not found in type main.unitTestFile"]
    );
    let o = run_test_file("/nonexistent/kagari/t.yml", &UnitTestOptions::default());
    assert_eq!(
        messages(&o),
        vec!["open /nonexistent/kagari/t.yml: no such file or directory"]
    );
}

#[test]
fn run_patterns_select_test_groups() {
    let test = "tests:\n  - name: good\n    interval: 1m\n  - name: bad\n    interval: 1m\n    alert_rule_test:\n      - eval_time: 0s\n        alertname: X\n        exp_alerts:\n          - exp_labels: {a: b}\n";
    assert!(!run(&[("t.yml", test)], "t.yml").passed());
    let only_good = UnitTestOptions::with_run_patterns(&["go+d".to_string()]).unwrap();
    assert!(run_with(&[("t.yml", test)], "t.yml", &only_good).passed());
    // Anchored: "ba" does not select "bad".
    let prefix =
        UnitTestOptions::with_run_patterns(&["ba".to_string(), "good".to_string()]).unwrap();
    assert!(run_with(&[("t.yml", test)], "t.yml", &prefix).passed());
    let both =
        UnitTestOptions::with_run_patterns(&["ba.".to_string(), "good".to_string()]).unwrap();
    assert!(!run_with(&[("t.yml", test)], "t.yml", &both).passed());
    assert!(UnitTestOptions::with_run_patterns(&["(".to_string()]).is_err());
}

#[test]
fn a_series_listed_twice_keeps_its_last_definition() {
    let test = "tests:\n  - interval: 1m\n    input_series:\n      - series: a\n        values: '1 2'\n      - series: a\n        values: '3 4'\n    promql_expr_test:\n      - expr: a\n        eval_time: 1m\n        exp_samples:\n          - labels: a\n            value: 4\n";
    let o = run(&[("t.yml", test)], "t.yml");
    assert!(o.passed(), "{:?}", messages(&o));
}

#[test]
fn start_timestamp_shifts_samples_steps_and_queries() {
    let rules = "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: a > 0\n";
    for start in ["1600000000", "2020-09-13T12:26:40Z"] {
        let test = format!(
            "rule_files: [r.yml]\ntests:\n  - interval: 1m\n    start_timestamp: {start}\n    input_series:\n      - series: a\n        values: '1 2'\n    promql_expr_test:\n      - expr: time()\n        eval_time: 1m\n        exp_samples:\n          - labels: '{{}}'\n            value: 1600000060\n      - expr: ALERTS_FOR_STATE\n        eval_time: 1m\n        exp_samples:\n          - labels: 'ALERTS_FOR_STATE{{alertname=\"A\"}}'\n            value: 1600000000\n      - expr: a\n        eval_time: 1m\n        exp_samples:\n          - labels: a\n            value: 2\n"
        );
        let o = run(&[("r.yml", rules), ("t.yml", &test)], "t.yml");
        assert!(o.passed(), "{start}: {:?}", messages(&o));
    }
}

#[test]
fn invalid_external_label_names_are_reported() {
    let test = "tests:\n  - interval: 1m\n    external_labels:\n      'a b': x\n";
    let o = run(&[("t.yml", test)], "t.yml");
    let m = messages(&o);
    assert_eq!(m.len(), 1, "{m:?}");
    assert!(m[0].starts_with("external_labels: "), "{m:?}");
}

#[test]
fn a_directory_matched_by_a_rule_glob_is_a_read_error() {
    let dir = Scratch::new();
    std::fs::create_dir_all(dir.0.join("rules/sub")).unwrap();
    dir.write("rules/a.yml", "groups: []\n");
    dir.write("t.yml", "rule_files: [rules/*]\ntests:\n  - interval: 1m\n");
    let o = run_test_file(
        &dir.0.join("t.yml").to_string_lossy(),
        &UnitTestOptions::default(),
    );
    let sub = dir.0.join("rules/sub").to_string_lossy().into_owned();
    assert_eq!(
        messages(&o),
        vec![format!("{sub}: read {sub}: is a directory")]
    );
    let o = run_test_file(
        &dir.0.join("rules").to_string_lossy(),
        &UnitTestOptions::default(),
    );
    assert_eq!(
        messages(&o),
        vec![format!(
            "read {}: is a directory",
            dir.0.join("rules").display()
        )]
    );
}

#[test]
fn huge_times_do_not_overflow() {
    let test = "tests:\n  - interval: 1m\n    start_timestamp: 9223372036854775\n    input_series:\n      - series: a\n        values: '1 2 3'\n    promql_expr_test:\n      - expr: a\n        eval_time: 0s\n";
    let o = run(&[("t.yml", test)], "t.yml");
    // The only question is that it returns; the answer is whatever the engine says.
    assert!(o.errors.len() <= 1, "{:?}", messages(&o));
}
