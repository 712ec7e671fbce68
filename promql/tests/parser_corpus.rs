//! Every `eval` expression of the vendored Prometheus conformance scripts must parse (with all
//! features on), except those whose expected failure is a parse error; those must fail with
//! exactly Prometheus's message. Each parsed expression must also survive print → parse.

use std::fs;
use std::path::Path;

use kagari_promql::{parse_with_options, ParserOptions};

/// Messages of `expect fail msg:` lines that Prometheus raises while parsing.
fn is_parse_error_message(msg: &str) -> bool {
    msg.contains("modifier can only be used with")
}

struct Eval {
    file: String,
    line: usize,
    expr: String,
    fail_msg: Option<String>,
}

fn extract(file: &str, text: &str) -> Vec<Eval> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, raw) in lines.iter().enumerate() {
        let line = raw.trim();
        let mut words = line.split_whitespace();
        let Some(cmd) = words.next() else { continue };
        if !cmd.starts_with("eval") {
            continue;
        }
        let rest: Vec<&str> = words.collect();
        let skip = match rest.first() {
            Some(&"instant") => 3, // instant at <t>
            Some(&"range") => 7,   // range from <a> to <b> step <c>
            _ => panic!("{file}:{}: unknown eval form", i + 1),
        };
        // Re-find the expression in the raw line so inner spacing is preserved.
        let mut pos = line.len() - line.trim_start_matches(cmd).len();
        for w in &rest[..skip] {
            let at = line[pos..].find(w).unwrap() + pos;
            pos = at + w.len();
        }
        let expr = line[pos..].trim().to_string();
        let mut fail_msg = None;
        for body in lines.iter().skip(i + 1) {
            let b = body.trim();
            if b.is_empty() || b.starts_with('#') {
                break;
            }
            if let Some(m) = b.strip_prefix("expect fail msg:") {
                fail_msg = Some(m.trim().to_string());
            }
        }
        out.push(Eval {
            file: file.to_string(),
            line: i + 1,
            expr,
            fail_msg,
        });
    }
    out
}

#[test]
fn every_conformance_expression_parses_and_round_trips() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/promql");
    let mut files: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let opts = ParserOptions::all();
    let (mut parsed, mut expected_failures, mut problems) = (0, 0, Vec::new());
    for path in files
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "test"))
    {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let text = fs::read_to_string(path).unwrap();
        for ev in extract(&name, &text) {
            let res = parse_with_options(&ev.expr, &opts);
            let loc = format!("{}:{}: {}", ev.file, ev.line, ev.expr);
            match (&ev.fail_msg, res) {
                (Some(msg), Err(e)) if is_parse_error_message(msg) => {
                    if e.message.to_string() == *msg {
                        expected_failures += 1;
                    } else {
                        problems.push(format!("{loc}\n  wanted error {msg:?}\n  got {e}"));
                    }
                }
                (Some(msg), Ok(_)) if is_parse_error_message(msg) => {
                    problems.push(format!("{loc}\n  parsed, but wanted error {msg:?}"));
                }
                (_, Ok(e)) => {
                    parsed += 1;
                    let printed = e.to_string();
                    match parse_with_options(&printed, &opts) {
                        Ok(again) if again == e => {}
                        Ok(again) => problems.push(format!(
                            "{loc}\n  printed {printed}\n  reparsed differently: {again}"
                        )),
                        Err(err) => problems.push(format!(
                            "{loc}\n  printed {printed}\n  does not reparse: {err}"
                        )),
                    }
                }
                (_, Err(e)) => problems.push(format!("{loc}\n  {e}")),
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
    assert!(parsed > 1500, "only {parsed} expressions found");
    // extended_vectors.test has six `smoothed`/`anchored` misuse errors raised by the parser.
    assert_eq!(
        expected_failures, 6,
        "parse-time failures expected by the scripts"
    );
}

/// Every series line of every `load` block, and every expected-series line of every `eval`
/// block, must be a valid series description.
#[test]
fn every_conformance_series_description_parses() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/promql");
    let mut files: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let (mut ok, mut problems) = (0, Vec::new());
    for path in files
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "test"))
    {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let text = fs::read_to_string(path).unwrap();
        let mut in_block = false;
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                in_block = false;
                continue;
            }
            let first = line.split_whitespace().next().unwrap_or("");
            if first.starts_with("load") || first.starts_with("eval") || first == "clear" {
                in_block = first != "clear";
                continue;
            }
            let is_scalar = line.parse::<f64>().is_ok() || line.eq_ignore_ascii_case("+inf");
            if !in_block || first == "expect" || first.starts_with("expected_") || is_scalar {
                continue;
            }
            // `@st` start-timestamp lines hold durations, not values: runner territory.
            if first.ends_with("@st") || line.contains("}@st") {
                continue;
            }
            match kagari_promql::parse_series_desc(line) {
                Ok(d) => {
                    assert!(
                        !d.values.is_empty() || line.split_whitespace().count() == 1,
                        "{line}"
                    );
                    ok += 1;
                }
                Err(e) => problems.push(format!("{name}:{}: {line}\n  {e}", i + 1)),
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
    assert!(ok > 2000, "only {ok} series lines found");
}
