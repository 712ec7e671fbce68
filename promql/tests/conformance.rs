//! Runs the core Prometheus v3.14 promqltest scripts and checks the outcome against
//! `testdata/promql/known_failures.txt`: every unlisted failure fails this test, and so does
//! every listed case that now passes (the list may only shrink).
//!
//! Evals that need native histograms (a later issue) fail cleanly with
//! [`NATIVE_HISTOGRAMS`] as their reason; they are counted and printed apart, never as passed.

use std::collections::BTreeMap;
use std::path::Path;

use kagari_promql::promqltest::{run_script, NATIVE_HISTOGRAMS};

const CORE_FILES: [&str; 12] = [
    "aggregators.test",
    "at_modifier.test",
    "collision.test",
    "functions.test",
    "histograms.test",
    "literals.test",
    "operators.test",
    "range_queries.test",
    "selectors.test",
    "staleness.test",
    "subquery.test",
    "trig_functions.test",
];

fn known_failures(dir: &Path) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(dir.join("known_failures.txt")).unwrap_or_default();
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| match l.split_once(' ') {
            Some((k, r)) => (k.to_string(), r.trim().to_string()),
            None => (l.to_string(), String::new()),
        })
        .collect()
}

/// Experimental files: run with every experimental switch on (as `run_script` does); their pass
/// rate is printed, and a failure must be listed or need native histograms.
const EXPERIMENTAL_FILES: [&str; 8] = [
    "limit.test",
    "duration_expression.test",
    "extended_vectors.test",
    "info.test",
    "type_and_unit.test",
    "name_label_dropping.test",
    "fill-modifier.test",
    "start_timestamps.test",
];

/// Runs `files`, checks them against `known` (removing what it sees) and returns a report.
fn run_files(files: &[&str], known: &mut BTreeMap<String, String>) -> Report {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/promql");
    let mut r = Report::default();
    for &file in files {
        let src = std::fs::read_to_string(dir.join(file)).expect("vendored script");
        let outcomes = run_script(&src).unwrap_or_else(|e| panic!("{file}: {e}"));
        let (mut file_passed, file_total) = (0, outcomes.len());
        for o in outcomes {
            r.total += 1;
            let key = format!("{file}:{}", o.line);
            let listed = known.remove(&key).is_some();
            match (&o.result, listed) {
                (Ok(()), true) => r.fixed.push(key),
                (Ok(()), false) => {
                    r.passed += 1;
                    file_passed += 1;
                }
                (Err(reason), false) if reason.ends_with(NATIVE_HISTOGRAMS) => {
                    r.native += 1;
                    *r.native_per_file.entry(file.to_string()).or_default() += 1;
                }
                (Err(reason), false) => r.unexpected.push(format!("{key} {}: {reason}", o.expr)),
                (Err(_), true) => r.listed += 1,
            }
        }
        println!(
            "  {file}: {file_passed}/{file_total} passed, {} need native histograms",
            r.native_per_file.get(file).copied().unwrap_or(0)
        );
    }
    r
}

#[derive(Default)]
struct Report {
    passed: usize,
    total: usize,
    native: usize,
    listed: usize,
    native_per_file: BTreeMap<String, usize>,
    unexpected: Vec<String>,
    fixed: Vec<String>,
}

impl Report {
    fn check(&self, what: &str) {
        println!(
            "{what}: {}/{} evals passed, {} need native histograms (not evaluated, counted as \
             failed), {} listed in known_failures.txt",
            self.passed, self.total, self.native, self.listed
        );
        assert!(
            self.unexpected.is_empty() && self.fixed.is_empty(),
            "{what}: unexpected failures:\n{}\nnow passing (remove from known_failures.txt):\n{}",
            self.unexpected.join("\n"),
            self.fixed.join("\n"),
        );
        assert!(self.passed > 0);
    }
}

fn listed(dir: &Path, prefixes: &[&str]) -> BTreeMap<String, String> {
    let mut known = known_failures(dir);
    known.retain(|k, _| prefixes.iter().any(|p| k.starts_with(&format!("{p}:"))));
    assert!(
        known.values().all(|r| !r.is_empty()),
        "every known failure needs a reason"
    );
    known
}

#[test]
fn core_scripts_match_known_failures() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/promql");
    let mut known = listed(&dir, &CORE_FILES);
    assert!(
        known.is_empty(),
        "the core files may not have known failures: {known:?}"
    );
    let r = run_files(&CORE_FILES, &mut known);
    r.check("core files");
    assert_eq!(
        r.passed + r.native,
        r.total,
        "every core eval passes or needs native histograms"
    );
}

#[test]
fn experimental_scripts_report() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/promql");
    let mut known = listed(&dir, &EXPERIMENTAL_FILES);
    let r = run_files(&EXPERIMENTAL_FILES, &mut known);
    r.check("experimental files");
    assert!(known.is_empty(), "listed but not an eval: {known:?}");
}
