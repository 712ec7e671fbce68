//! Inputs (several found by fuzzing) whose parse result must re-encode in both formats into
//! output that parses again with the same number of samples.

use kagari_exposition::{
    encode_families, parse_openmetrics, parse_text, EncodeError, Format, MetricFamily,
};

fn samples(f: &[MetricFamily]) -> usize {
    f.iter().map(|f| f.samples.len()).sum()
}

fn check(fams: &[MetricFamily], what: &str) {
    let mut text = Vec::new();
    encode_families(&mut text, fams, Format::Text).expect("encode text");
    let again = parse_text(&text).unwrap_or_else(|e| {
        panic!(
            "{what}: text output fails: {e}\n{}",
            String::from_utf8_lossy(&text)
        )
    });
    let created = fams
        .iter()
        .flat_map(|f| {
            f.samples
                .iter()
                .filter(|s| s.name == format!("{}_created", f.name))
        })
        .count();
    assert_eq!(samples(&again) + created, samples(fams), "{what}");
    let mut om = Vec::new();
    encode_families(&mut om, fams, Format::OpenMetrics).expect("encode openmetrics");
    let again = parse_openmetrics(&om).unwrap_or_else(|e| {
        panic!(
            "{what}: OM output fails: {e}\n{}",
            String::from_utf8_lossy(&om)
        )
    });
    assert_eq!(samples(&again), samples(fams), "{what}");
}

#[test]
fn openmetrics_inputs_reencode() {
    for input in [
        "# TYPE a gaugehistogram\na_count -1\n# EOF\n",
        "# TYPE a summary\na_sum 1\na_count 1\n# TYPE b gauge\nb 1\n# EOF\n",
        "# TYPE a histogram\na_bucket{le=\"+Inf\"} 1\na_count 1\na_sum 1\na_created 5\n# EOF\n",
        "# TYPE a info\na_info{x=\"y\"} 1\n# TYPE a_info_x gauge\na_info_x 1\n# EOF\n",
    ] {
        let fams = parse_openmetrics(input.as_bytes()).unwrap_or_else(|e| panic!("{input}: {e}"));
        check(&fams, input);
    }
}

#[test]
fn text_inputs_reencode() {
    for input in [
        "# TYPE go_memstats_alloc_bytes gauge\ngo_memstats_alloc_bytes 1\n\
         # TYPE go_memstats_alloc_bytes_total counter\ngo_memstats_alloc_bytes_total 2\n",
        "# TYPE x counter\nx -1\n",
        "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\n",
        "a{b=\"1\"} 1 5\na{b=\"1\"} 1 3\n",
        "a 1\nb 1\na 2\n",
    ] {
        let fams = parse_text(input.as_bytes()).unwrap_or_else(|e| panic!("{input}: {e}"));
        check(&fams, input);
    }
}

#[test]
fn series_mixing_timestamp_presence_cannot_become_openmetrics() {
    let fams = parse_text(b"a 1 5\na 2\n").expect("valid 0.0.4");
    let mut om = Vec::new();
    let err = encode_families(&mut om, &fams, Format::OpenMetrics).expect_err("not expressible");
    assert!(matches!(err, EncodeError::NotExpressible { .. }), "{err:?}");
}
