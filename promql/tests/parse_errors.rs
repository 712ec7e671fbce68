//! Parse-error wording: every malformed query of `testdata/promql/parse_errors.txt` must fail
//! with exactly the message Prometheus gives (position prefix included), and every `ok` record
//! must parse. The table's messages were recorded from Prometheus 2.42; the live comparison
//! with the real binary is `examples/server/tests/bad_input.rs`.

mod parse_error_table;

use std::path::Path;

use kagari_promql::parse;
use parse_error_table::{load, Case};

fn cases() -> Vec<Case> {
    load(&Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
}

#[test]
fn messages_match_prometheus() {
    let cases = cases();
    assert!(cases.len() >= 60, "only {} cases", cases.len());
    let mut wrong = Vec::new();
    for c in &cases {
        let got = match parse(&c.query) {
            Ok(_) => None,
            Err(e) => Some(e.to_string()),
        };
        if got != c.v3 {
            wrong.push(format!(
                "line {}: {:?}\n   want {}\n   got  {}",
                c.line,
                c.query,
                c.v3.as_deref().unwrap_or("ok"),
                got.as_deref().unwrap_or("ok"),
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} differ:\n{}",
        wrong.len(),
        cases.len(),
        wrong.join("\n")
    );
}

#[test]
fn the_table_covers_every_error_class() {
    let cases = cases();
    let messages: Vec<&str> = cases.iter().filter_map(|c| c.v3.as_deref()).collect();
    for needle in [
        "inside braces",
        "unclosed left bracket",
        "unclosed left parenthesis",
        "in grouping opts",
        "in offset, expected duration",
        "in @, expected timestamp",
        "unexpected character",
        "escape sequence",
        "bad number or duration syntax",
        "binary expression must contain only scalar and instant vector types",
        "ranges only allowed for vector selectors",
        "unknown function with name",
        "argument(s) in call to",
        "expected type",
        "wrong number of arguments for aggregate expression",
        "vector selector must contain at least one non-empty matcher",
        "subquery is only allowed on instant vector",
        "error parsing regexp",
        "no grouping allowed for",
    ] {
        assert!(
            messages.iter().any(|m| m.contains(needle)),
            "no case for {needle:?}"
        );
    }
    assert!(cases.iter().any(|c| c.v3.is_none()), "no `ok` case");
}

#[test]
fn three_x_answers_differ_from_the_recorded_ones() {
    let cases = cases();
    let overridden = cases.iter().filter(|c| c.v2 != c.v3).count();
    // A `3.x=> ` line repeating the 2.42 answer, or one that got lost, would show here.
    let lines = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/promql/parse_errors.txt"),
    )
    .unwrap_or_default()
    .lines()
    .filter(|l| l.starts_with("3.x=> "))
    .count();
    assert_eq!(overridden, lines);
}
