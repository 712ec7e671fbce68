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
        // An untyped `q_bucket` created while `q` had only HELP, then `q` typed histogram.
        "# HELP q h\nq_bucket{le=\"x\"} 1\n# TYPE q histogram\nq_bucket{le=\"y\"} 2\n",
        "# HELP q h\nq_bucket{le=\"x\"} 1\n# TYPE q histogram\nq_count 3\nq_bucket{le=\"y\"} 2\n",
        "# HELP s h\ns_sum 1\n# TYPE s summary\ns_count 2\ns{quantile=\"0.5\"} 1\n",
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

/// Found by `cargo fuzz run text_parse` (2026-11-22): untyped `queue_size_bucket` samples, then
/// `# TYPE queue_size histogram` for a family created earlier by HELP, then more
/// `queue_size_bucket` samples (one with control bytes in `le`). Parsing files them all under the
/// untyped family, as Go's parser does (it looks up the exact name first); the text encoder used
/// to write the histogram's TYPE first, so the re-parse filed the buckets under the histogram.
#[test]
fn bucket_family_created_before_histogram_type_reencodes() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/exposition/regressions");
    let input = std::fs::read(dir.join("text-bucket-after-histogram-type.prom")).expect("fixture");
    let fams = parse_text(&input).expect("Go's parser accepts this input too");
    check(&fams, "text-bucket-after-histogram-type.prom");
    let mut text = Vec::new();
    encode_families(&mut text, &fams, Format::Text).expect("encode text");
    let again = parse_text(&text).expect("re-encoded text parses");
    let shape = |f: &[MetricFamily]| {
        let mut v: Vec<(String, String, usize)> = f
            .iter()
            .map(|f| {
                (
                    f.name.clone(),
                    format!("{:?}", f.metric_type),
                    f.samples.len(),
                )
            })
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        shape(&again),
        shape(&fams),
        "same families after the round trip"
    );
}

#[test]
fn histogram_holding_samples_of_a_captured_family_is_not_text() {
    let mut fams =
        parse_text(b"# HELP q h\nq_count 1\n# TYPE q histogram\nq_sum 2\n").expect("valid");
    // Hand-build the ambiguity a parser never produces: the histogram also holds `q_count`.
    let stolen = fams
        .iter()
        .find(|f| f.name == "q_count")
        .and_then(|f| f.samples.first().cloned())
        .expect("q_count family");
    if let Some(h) = fams.iter_mut().find(|f| f.name == "q") {
        h.samples.push(stolen);
    }
    let err = encode_families(&mut Vec::new(), &fams, Format::Text).expect_err("ambiguous");
    assert!(
        matches!(err, EncodeError::NotExpressibleAsText { .. }),
        "{err:?}"
    );
}
