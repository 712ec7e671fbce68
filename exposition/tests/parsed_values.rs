//! Parsed values (not just verdicts) of a few conformance cases and hand-written inputs.

mod common;

use kagari_exposition::{parse_openmetrics, parse_text, MetricFamily, MetricType, Timestamp};

fn om_case(name: &str) -> Vec<MetricFamily> {
    let path = common::testdata()
        .join("openmetrics")
        .join(name)
        .join("metrics");
    parse_openmetrics(&std::fs::read(&path).expect("read")).expect("parses")
}

#[test]
fn escaping_case_decodes_label_values_and_help() {
    let fams = om_case("escaping");
    assert_eq!(fams[0].help.as_deref(), Some("he\n\\l\\tp"));
    let values: Vec<&str> = fams[0]
        .samples
        .iter()
        .map(|s| s.label("foo").unwrap_or("?"))
        .collect();
    assert_eq!(values, ["b\"a\nr", "b\\a\\z", "b\"a\nr # ", "b\\a\\z # "]);
}

#[test]
fn help_escaping_case() {
    let fams = om_case("help_escaping");
    let helps: Vec<&str> = fams
        .iter()
        .map(|f| f.help.as_deref().unwrap_or("?"))
        .collect();
    assert_eq!(
        helps,
        ["foo", "\\foo", "\\foo", "foo\\", "\\", "\n", "\\n", "\\\n", "\"", "\\\""]
    );
}

#[test]
fn label_escaping_case() {
    let fams = om_case("label_escaping");
    let values: Vec<&str> = fams
        .iter()
        .map(|f| f.samples[0].label("foo").unwrap_or("?"))
        .collect();
    assert_eq!(
        values,
        ["foo", "\\foo", "\\foo", "foo\\", "\\", "\n", "\\n", "\\\n", "\"", "\\\""]
    );
}

#[test]
fn exemplars_and_timestamps_are_kept() {
    let fams = om_case("gaugehistogram_exemplars");
    assert_eq!(fams[0].metric_type, MetricType::GaugeHistogram);
    let last = fams[0].samples.last().expect("samples");
    assert_eq!(last.timestamp, Some(Timestamp::Seconds(123.0)));
    let ex = last.exemplar.as_ref().expect("exemplar");
    assert_eq!(
        (ex.labels[0].1.as_str(), ex.value, ex.timestamp),
        ("d", 4.0, Some(123.0))
    );
    let fams = om_case("counter_unit");
    assert_eq!(
        (fams[0].name.as_str(), fams[0].unit.as_deref()),
        ("cc_seconds", Some("seconds"))
    );
    assert_eq!(fams[0].samples[1].value, 123.456);
    let fams = om_case("uint64_counter");
    assert_eq!(fams[0].samples[0].value, 9223372036854775808.0);
}

#[test]
fn text_edge_cases_values() {
    let input = b"# HELP m A \\\\ and \\n and \"raw\".\n# TYPE m gauge\n\
        m{a=\"x\\\"y\"} -Inf -1\nm{a=\"z\"} NaN 9223372036854775807\n  m{a=\"w\" ,} +Inf\n";
    let fams = parse_text(input).expect("parses");
    assert_eq!(fams[0].help.as_deref(), Some("A \\ and \n and \"raw\"."));
    let s = &fams[0].samples;
    assert_eq!(s[0].label("a"), Some("x\"y"));
    assert_eq!(
        (s[0].value, s[0].timestamp),
        (f64::NEG_INFINITY, Some(Timestamp::Millis(-1)))
    );
    assert!(s[1].value.is_nan());
    assert_eq!(s[1].timestamp, Some(Timestamp::Millis(i64::MAX)));
    assert_eq!(s[2].value, f64::INFINITY);
}

#[test]
fn text_summary_and_histogram_samples_join_their_family() {
    let input = b"# TYPE s summary\ns{quantile=\"0.5\"} 1\ns_sum 2\ns_count 3\n\
        # TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\nh_other 5\n";
    let fams = parse_text(input).expect("parses");
    let shape: Vec<(&str, usize)> = fams
        .iter()
        .map(|f| (f.name.as_str(), f.samples.len()))
        .collect();
    assert_eq!(shape, [("s", 3), ("h", 3), ("h_other", 1)]);
}

#[test]
fn errors_carry_line_and_column() {
    let e = parse_openmetrics(b"# TYPE a gauge\na 1\na{b=\"c\"}  2\n# EOF\n")
        .expect_err("double space");
    assert_eq!((e.line, e.column), (3, 10));
    assert!(e.to_string().starts_with("3:10: "), "{e}");
    let e = parse_openmetrics(b"# TYPE a counter\na_total -1\n# EOF\n").expect_err("negative");
    assert_eq!(e.line, 2);
    let e = parse_openmetrics(b"a 1\n").expect_err("no EOF");
    assert_eq!(e.line, 2);
}

#[test]
fn openmetrics_timestamps_compare_at_nanosecond_resolution() {
    // Below a nanosecond the two timestamps are equal, so this does not go backwards.
    let ok = b"# TYPE a gauge\na 1 0.0000000001\na 2 0.000000000\n# EOF\n";
    assert!(parse_openmetrics(ok).is_ok());
    let bad = b"# TYPE a gauge\na 1 0.000000002\na 2 0.000000001\n# EOF\n";
    let e = parse_openmetrics(bad).expect_err("backwards");
    assert_eq!(e.line, 3);
}
