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

#[test]
fn core_scripts_match_known_failures() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/promql");
    let mut known = known_failures(&dir);
    assert!(
        known.values().all(|r| !r.is_empty()),
        "every known failure needs a reason"
    );
    let mut unexpected = Vec::new();
    let mut fixed = Vec::new();
    let (mut passed, mut total) = (0, 0);
    let mut native = BTreeMap::<&str, usize>::new();
    for file in CORE_FILES {
        let src = std::fs::read_to_string(dir.join(file)).expect("vendored script");
        let outcomes = run_script(&src).unwrap_or_else(|e| panic!("{file}: {e}"));
        for o in outcomes {
            total += 1;
            let key = format!("{file}:{}", o.line);
            let listed = known.remove(&key).is_some();
            match (&o.result, listed) {
                (Ok(()), true) => fixed.push(key),
                (Ok(()), false) => passed += 1,
                (Err(reason), false) if reason.ends_with(NATIVE_HISTOGRAMS) => {
                    *native.entry(file).or_default() += 1;
                }
                (Err(reason), false) => unexpected.push(format!("{key} {}: {reason}", o.expr)),
                (Err(_), true) => {}
            }
        }
    }
    let stale: Vec<String> = known.into_keys().collect();
    let unsupported: usize = native.values().sum();
    println!(
        "core files: {passed}/{total} evals passed, {unsupported} need native histograms \
         (not evaluated, counted as failed), {} other failures",
        total - passed - unsupported
    );
    for (file, n) in &native {
        println!("  {file}: {n} native-histogram evals");
    }
    assert!(
        unexpected.is_empty() && fixed.is_empty() && stale.is_empty(),
        "{passed}/{total} passed\nunexpected failures:\n{}\nnow passing (remove from known_failures.txt):\n{}\nlisted but not an eval:\n{}",
        unexpected.join("\n"),
        fixed.join("\n"),
        stale.join("\n")
    );
    assert!(passed > 0);
    assert_eq!(
        passed + unsupported,
        total,
        "every core eval passes or needs native histograms"
    );
}
