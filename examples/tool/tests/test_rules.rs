//! `kagari-tool test rules` against real `promtool test rules` (2.42) on the rule unit tests in
//! `testdata/rules-tests/`:
//!
//! - every `*_test.yml` there passes under both tools;
//! - the files in `failing/` fail under both, and kagari-tool prints the text promtool
//!   printed (`failing/expected.promtool.txt`, checked against a live promtool run too);
//! - the files in `kagari-only/` pass under kagari-tool and fail under promtool for the
//!   reason their README gives.
//!
//! Without promtool the promtool halves print SKIP, unless `KAGARI_REQUIRE_PEERS=true`, where
//! they fail.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

const PROMTOOL: &str = "promtool";

fn rules_tests() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/rules-tests")
}

/// `*_test.yml` files of `sub` (relative to `testdata/rules-tests`), sorted.
fn test_files(sub: &str) -> Vec<String> {
    let dir = rules_tests().join(sub);
    let mut v: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            e.expect("dir entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|n| n.ends_with("_test.yml"))
        .map(|n| {
            if sub.is_empty() {
                n
            } else {
                format!("{sub}/{n}")
            }
        })
        .collect();
    v.sort();
    v
}

/// True when promtool runs; otherwise SKIP (or fail when peers are required).
fn promtool_present(test: &str) -> bool {
    kagari_testkit::available(
        kagari_testkit::promtool().is_some(),
        test,
        &format!("{PROMTOOL} not installed; promtool half not run"),
    )
}

/// Runs `program test rules FILES...` in `testdata/rules-tests` with stdout and stderr into
/// one file (so their interleaving is kept); returns (exit code, output).
fn run(program: &Path, files: &[String]) -> (i32, String) {
    static N: AtomicUsize = AtomicUsize::new(0);
    let out_path = std::env::temp_dir().join(format!(
        "kagari-test-rules-{}-{}.out",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let out = std::fs::File::create(&out_path).expect("create output file");
    let err = out.try_clone().expect("clone output file");
    let status = Command::new(program)
        .args(["test", "rules"])
        .args(files)
        .current_dir(rules_tests())
        .stdout(out)
        .stderr(err)
        .status()
        .unwrap_or_else(|e| panic!("running {}: {e}", program.display()));
    let text = std::fs::read_to_string(&out_path).expect("read output");
    let _ = std::fs::remove_file(&out_path);
    (status.code().unwrap_or(-1), text)
}

fn kagari(files: &[String]) -> (i32, String) {
    run(Path::new(env!("CARGO_BIN_EXE_kagari-tool")), files)
}

fn promtool(files: &[String]) -> (i32, String) {
    run(Path::new(PROMTOOL), files)
}

/// Trailing spaces and trailing blank lines removed; line endings unified.
fn normalise(s: &str) -> String {
    let lines: Vec<&str> = s.lines().map(str::trim_end).collect();
    lines.join("\n").trim_end().to_string()
}

fn success_text(files: &[String]) -> String {
    files
        .iter()
        .map(|f| format!("Unit Testing:  {f}\n  SUCCESS\n\n"))
        .collect()
}

#[test]
fn kagari_passes_every_rule_test_file() {
    let files = test_files("");
    assert!(files.len() >= 15, "only {} test files", files.len());
    let (code, out) = kagari(&files);
    assert_eq!(out, success_text(&files));
    assert_eq!(code, 0);
}

#[test]
fn promtool_passes_every_rule_test_file() {
    if !promtool_present("promtool_passes_every_rule_test_file") {
        return;
    }
    let files = test_files("");
    assert!(files.len() >= 15);
    for f in &files {
        let (code, out) = promtool(std::slice::from_ref(f));
        assert_eq!(
            (code, out.as_str()),
            (0, success_text(std::slice::from_ref(f)).as_str())
        );
    }
}

#[test]
fn failing_files_fail_with_promtools_text() {
    let files = test_files("failing");
    assert_eq!(files.len(), 7);
    let want = std::fs::read_to_string(rules_tests().join("failing/expected.promtool.txt"))
        .expect("expected.promtool.txt");
    let (code, out) = kagari(&files);
    assert_eq!(code, 1);
    assert_eq!(normalise(&out), normalise(&want));
    // The failures are real ones, not a file that cannot be read.
    assert!(out.contains("alertname: InstanceDown, time: 2m, "));
    assert!(out.contains("    expr: \"absent(up)\", time: 1m,"));
    assert!(out.contains("    rule: by_job, time: 1m0s, err: "));
    assert!(out.contains("field severity not found in type rulefmt.RuleNode"));
    assert!(out.contains("field exp_annotation not found in type main.alert"));
    assert!(out.contains("err: exceeded limit of 1 with 2 alerts"));
    assert!(out.contains("error calling first: first() called on vector with no elements"));

    if !promtool_present("failing_files_fail_with_promtools_text") {
        return;
    }
    let (pcode, pout) = promtool(&files);
    assert_eq!(pcode, 1);
    assert_eq!(
        normalise(&pout),
        normalise(&want),
        "promtool's output changed: regenerate failing/expected.promtool.txt"
    );
}

#[test]
fn kagari_only_files_pass_here_and_fail_under_promtool_for_the_documented_reason() {
    let files = test_files("kagari-only");
    assert!(!files.is_empty());
    let (code, out) = kagari(&files);
    assert_eq!(out, success_text(&files));
    assert_eq!(code, 0);
    if !promtool_present("kagari_only_files") {
        return;
    }
    for f in &files {
        let (pcode, pout) = promtool(std::slice::from_ref(f));
        assert_eq!(pcode, 1, "{f} now passes under promtool:\n{pout}");
        assert!(
            pout.contains("invalid memory address or nil pointer dereference"),
            "{f} fails under promtool for another reason:\n{pout}"
        );
    }
}

#[test]
fn usage_and_missing_files() {
    let (code, out) = kagari(&["does_not_exist_test.yml".to_string()]);
    assert_eq!(code, 1);
    assert_eq!(
        out,
        "Unit Testing:  does_not_exist_test.yml\n  FAILED:\nopen does_not_exist_test.yml: no such file or directory\n\n\n"
    );
    let status = Command::new(env!("CARGO_BIN_EXE_kagari-tool"))
        .args(["test", "rules"])
        .output()
        .expect("run kagari-tool");
    assert!(!status.status.success(), "no files must be a usage error");
}

#[test]
fn run_flag_selects_test_groups_by_name() {
    let file = "failing/wrong_expectations_test.yml".to_string();
    let tool = Path::new(env!("CARGO_BIN_EXE_kagari-tool"));
    let with_run = |pattern: &str| {
        let out = Command::new(tool)
            .args(["test", "rules", "--run", pattern, &file])
            .current_dir(rules_tests())
            .output()
            .expect("run kagari-tool");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    // Only the named group runs: its alert failures, none of the unnamed group's.
    let (code, err) = with_run("wrong-.*");
    assert_eq!(code, Some(1));
    assert!(err.contains("alertname: InstanceDown"));
    assert!(!err.contains("expr: "));
    // A pattern matching no group runs nothing, which passes.
    assert_eq!(with_run("no-such-group").0, Some(0));
    assert_eq!(with_run("(").0, Some(2));
}

/// A small deterministic generator (64-bit LCG), so the scenarios are the same every run.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

/// One random scenario: rule file and test file whose expectations are all empty, so every
/// firing alert and every `ALERTS`/`ALERTS_FOR_STATE`/recorded sample shows up in the failure
/// text. Values include gaps (at most two steps, so Prometheus 2's closed and 3's open lookback
/// windows agree) and stale markers.
fn random_scenario(rng: &mut Lcg) -> (String, String) {
    let durations = ["0s", "1m", "2m", "3m"];
    let for1 = durations[rng.next(4) as usize];
    let keep1 = durations[rng.next(3) as usize];
    let for2 = durations[rng.next(4) as usize];
    let threshold = rng.next(8);
    let rules = format!(
        "groups:\n  - name: rec\n    rules:\n      - record: m:sum\n        expr: sum(m)\n  - name: alerts\n    rules:\n      - alert: High\n        expr: m > {threshold}\n        for: {for1}\n        keep_firing_for: {keep1}\n        labels:\n          severity: page\n        annotations:\n          v: '{{{{ $value }}}} {{{{ $labels.i }}}}'\n      - alert: SumHigh\n        expr: m:sum > {}\n        for: {for2}\n        annotations:\n          v: '{{{{ $value | humanize }}}}'\n",
        threshold * 2
    );
    let mut test = String::from(
        "rule_files: [rules.yml]\nevaluation_interval: 1m\ngroup_eval_order: [rec, alerts]\ntests:\n  - interval: 1m\n    input_series:\n",
    );
    for i in 0..1 + rng.next(3) {
        let mut values = Vec::new();
        let mut gap = 0;
        for _ in 0..12 {
            if gap < 2 && rng.next(5) == 0 {
                values.push("_".to_string());
                gap += 1;
            } else if rng.next(12) == 0 {
                values.push("stale".to_string());
                gap = 0;
            } else {
                values.push(rng.next(11).to_string());
                gap = 0;
            }
        }
        test.push_str(&format!(
            "      - series: 'm{{i=\"{i}\"}}'\n        values: '{}'\n",
            values.join(" ")
        ));
    }
    test.push_str("    alert_rule_test:\n");
    for t in 0..12 {
        // Every minute, sometimes half a minute later (checked after the same step).
        let at = if rng.next(4) == 0 {
            format!("{t}m30s")
        } else {
            format!("{t}m")
        };
        for name in ["High", "SumHigh"] {
            test.push_str(&format!(
                "      - eval_time: {at}\n        alertname: {name}\n        exp_alerts: []\n"
            ));
        }
    }
    test.push_str("    promql_expr_test:\n");
    for t in [2, 5, 8, 11] {
        for expr in ["ALERTS", "ALERTS_FOR_STATE", "m:sum"] {
            test.push_str(&format!(
                "      - expr: {expr}\n        eval_time: {t}m\n        exp_samples: []\n"
            ));
        }
    }
    (rules, test)
}

#[test]
fn random_alert_scenarios_print_what_promtool_prints() {
    if !promtool_present("random_alert_scenarios_print_what_promtool_prints") {
        return;
    }
    let dir = std::env::temp_dir().join(format!("kagari-random-rules-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut rng = Lcg(0x6b61_6761_7269);
    let mut firing_seen = 0;
    for n in 0..30 {
        let (rules, test) = random_scenario(&mut rng);
        std::fs::write(dir.join("rules.yml"), &rules).expect("write rules");
        std::fs::write(dir.join("t_test.yml"), &test).expect("write test");
        let outputs: Vec<(Option<i32>, String)> = [
            Path::new(env!("CARGO_BIN_EXE_kagari-tool")),
            Path::new(PROMTOOL),
        ]
        .iter()
        .map(|p| {
            let o = Command::new(p)
                .args(["test", "rules", "t_test.yml"])
                .current_dir(&dir)
                .output()
                .expect("run tool");
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            );
            (o.status.code(), text)
        })
        .collect();
        assert_eq!(
            outputs[0], outputs[1],
            "scenario {n} differs (kagari-tool left, promtool right)\nrules:\n{rules}\ntest:\n{test}"
        );
        if outputs[0].1.contains("alertstate=\"firing\"") {
            firing_seen += 1;
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    // The scenarios exercise the state machine, not only empty results.
    assert!(
        firing_seen >= 10,
        "only {firing_seen} scenarios had firing alerts"
    );
}
