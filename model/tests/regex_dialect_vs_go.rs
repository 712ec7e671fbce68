//! Differential test: which patterns Go's regexp accepts, as recorded from the real
//! `promtool check config` (Debian Prometheus 2.42) by `fixtures/go_regex/gen.py`, must be
//! exactly the patterns `compile_regex` accepts, except where the Go that Prometheus 3 is
//! built with (>= 1.22) changed its mind.

#![cfg(feature = "regex")]

use kagari_model::compile_regex;
use serde::Deserialize;

#[derive(Deserialize)]
struct Fixture {
    promtool: String,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    pattern: String,
    go_accepts: bool,
    go_error: String,
}

/// Go 1.22 added `(?<name>…)`; Prometheus 3 accepts it.
const NEWER_GO_ACCEPTS: &[&str] = &["(?<n>a)"];

#[test]
fn accepts_exactly_what_go_accepts() {
    let fixture: Fixture =
        serde_json::from_str(include_str!("fixtures/go_regex/go-regex-acceptance.json")).unwrap();
    assert!(fixture.promtool.contains("2.42"), "{}", fixture.promtool);
    assert!(fixture.cases.len() >= 100, "fixture lost cases");
    let mut failures = Vec::new();
    for case in &fixture.cases {
        let want = case.go_accepts || NEWER_GO_ACCEPTS.contains(&case.pattern.as_str());
        let got = compile_regex(&case.pattern);
        if got.is_ok() != want {
            failures.push(format!(
                "{:?}: Go {} ({}), we {:?}",
                case.pattern,
                want,
                case.go_error,
                got.err()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[derive(Deserialize)]
struct MatchFixture {
    prometheus: String,
    values: Vec<String>,
    cases: Vec<MatchCase>,
}

#[derive(Deserialize)]
struct MatchCase {
    pattern: String,
    matches: Vec<bool>,
}

/// Which values each pattern matches, recorded from the real Prometheus by
/// `fixtures/go_regex/gen_match.py`, must be what both `compile_regex` and the `Matcher` fast
/// paths say.
#[test]
fn matches_exactly_what_go_matches() {
    use kagari_model::{MatchType, Matcher};
    let fixture: MatchFixture =
        serde_json::from_str(include_str!("fixtures/go_regex/go-regex-matches.json")).unwrap();
    assert!(
        fixture.prometheus.contains("2.42"),
        "{}",
        fixture.prometheus
    );
    assert!(
        fixture.cases.len() >= 50 && fixture.values.len() >= 40,
        "fixture lost cases"
    );
    let mut failures = Vec::new();
    for case in &fixture.cases {
        let re = compile_regex(&case.pattern).unwrap_or_else(|e| panic!("{}: {e}", case.pattern));
        let m = Matcher::new(MatchType::Regex, "a", &case.pattern).unwrap();
        for (v, &want) in fixture.values.iter().zip(&case.matches) {
            if re.is_match(v) != want || m.matches(v) != want {
                failures.push(format!(
                    "{:?} on {v:?}: Go {want}, regex {}, matcher {}",
                    case.pattern,
                    re.is_match(v),
                    m.matches(v)
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
