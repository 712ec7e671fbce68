//! The vendored conformance suites: OpenMetrics parser suite, text good/bad, OpenMetrics samples.

mod common;

use common::{list, name};
use kagari_exposition::{parse_openmetrics, parse_text};

#[test]
fn openmetrics_parser_suite_gives_expected_verdicts() {
    let cases = list("openmetrics");
    let (mut wrong, mut accepts, mut rejects) = (Vec::new(), 0, 0);
    for case in &cases {
        let spec: serde_json::Value =
            serde_json::from_slice(&std::fs::read(case.join("test.json")).expect("test.json"))
                .expect("json");
        let file = spec["file"].as_str().unwrap_or("metrics");
        let want = spec["shouldParse"].as_bool().expect("shouldParse");
        let input = std::fs::read(case.join(file)).expect("input");
        let got = parse_openmetrics(&input);
        if want {
            accepts += 1
        } else {
            rejects += 1
        }
        if got.is_ok() != want {
            wrong.push(format!(
                "{}: expected {}, got {:?}",
                name(case),
                if want { "accept" } else { "reject" },
                got.err().map(|e| e.to_string())
            ));
        }
    }
    assert_eq!((accepts, rejects), (33, 125), "public case counts changed");
    assert!(
        wrong.is_empty(),
        "{}/{} cases wrong:\n{}",
        wrong.len(),
        cases.len(),
        wrong.join("\n")
    );
}

#[test]
fn every_good_text_file_parses() {
    let mut wrong = Vec::new();
    for f in list("text/good") {
        if let Err(e) = parse_text(&std::fs::read(&f).expect("read")) {
            wrong.push(format!("{}:{e}", name(&f)));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn every_bad_text_file_is_rejected() {
    let mut wrong = Vec::new();
    for f in list("text/bad") {
        match parse_text(&std::fs::read(&f).expect("read")) {
            Ok(fams) => wrong.push(format!("{}: accepted ({} families)", name(&f), fams.len())),
            Err(e) => println!("{}:{e}", name(&f)),
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn openmetrics_samples_parse() {
    for f in list("openmetrics-samples/good") {
        let input = std::fs::read(&f).expect("read");
        if let Err(e) = parse_openmetrics(&input) {
            panic!("{}:{e}", name(&f));
        }
    }
}

#[test]
fn text_sample_counts_match_sources_tsv() {
    // `facts` says "N families, M samples" as prometheus_client counted them; the sample count
    // is format-independent for files without client_python-specific merging.
    let tsv = std::fs::read_to_string(common::testdata().join("text/SOURCES.tsv")).expect("tsv");
    let mut checked = 0;
    for line in tsv.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (Some(file), Some(&"parse"), Some(facts)) = (cols.first(), cols.get(1), cols.get(2))
        else {
            continue;
        };
        let samples = facts
            .strip_suffix(" samples")
            .and_then(|f| f.rsplit(' ').next());
        let want: usize = samples
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("{facts}"));
        let input = std::fs::read(common::testdata().join("text").join(file)).expect("read");
        let got: usize = parse_text(&input)
            .expect("parse")
            .iter()
            .map(|f| f.samples.len())
            .sum();
        assert_eq!(got, want, "{file}");
        checked += 1;
    }
    assert!(checked >= 15, "only {checked} files checked");
}
