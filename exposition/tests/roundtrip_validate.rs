//! Parse every good file, re-encode it in both formats, check the output with the external
//! oracle (`shared/conformance/exposition/validate`: promtool + prometheus_client) and parse it
//! again: the samples must be the same.

mod common;

use common::{list, name, peers_required, validate, Oracle};
use kagari_exposition::{encode_families, parse_openmetrics, parse_text, Format, MetricFamily};

/// A comparable rendering of every sample: name, sorted labels, value bits, timestamp in ms.
fn flat(fams: &[MetricFamily], skip_created: bool) -> Vec<String> {
    let mut v: Vec<String> = fams
        .iter()
        .flat_map(|f| f.samples.iter())
        .filter(|s| !(skip_created && s.name.ends_with("_created")))
        .map(|s| {
            let mut labels = s.labels.clone();
            labels.sort();
            let value = if s.value.is_nan() {
                "NaN".to_owned()
            } else {
                format!("{:?}", s.value)
            };
            let ts = s.timestamp.map(|t| t.as_millis());
            format!("{} {labels:?} {value} {ts:?}", s.name)
        })
        .collect();
    v.sort();
    v
}

fn encode(fams: &[MetricFamily], format: Format) -> Vec<u8> {
    let mut out = Vec::new();
    encode_families(&mut out, fams, format).expect("encode");
    out
}

struct Checker {
    failures: Vec<String>,
    validated: usize,
    skipped: usize,
}

impl Checker {
    fn oracle(&mut self, what: &str, format: &str, out: &[u8]) {
        match validate(format, out) {
            Oracle::Pass => self.validated += 1,
            Oracle::Fail(msg) => self
                .failures
                .push(format!("{what}: validate {format} rejected:\n{msg}")),
            Oracle::Unavailable(msg) => {
                if peers_required() {
                    self.failures
                        .push(format!("{what}: validator unavailable: {msg}"));
                } else {
                    self.skipped += 1;
                    println!("SKIP (NOT PASSING): validate {format} unavailable for {what}: {msg}");
                }
            }
        }
    }

    fn finish(self) {
        println!(
            "validated {} outputs, skipped {}",
            self.validated, self.skipped
        );
        assert!(self.failures.is_empty(), "{}", self.failures.join("\n\n"));
    }
}

#[test]
fn text_good_files_round_trip_and_validate_in_both_formats() {
    let mut c = Checker {
        failures: Vec::new(),
        validated: 0,
        skipped: 0,
    };
    for f in list("text/good") {
        let n = name(&f);
        let first = parse_text(&std::fs::read(&f).expect("read")).expect("parse");

        let text = encode(&first, Format::Text);
        match parse_text(&text) {
            Ok(again) if flat(&again, false) == flat(&first, false) => {}
            Ok(_) => c
                .failures
                .push(format!("{n}: text re-parse gives other samples")),
            Err(e) => c
                .failures
                .push(format!("{n}: text output does not parse: {e}")),
        }
        c.oracle(&n, "text", &text);

        let om = encode(&first, Format::OpenMetrics);
        match parse_openmetrics(&om) {
            Ok(again) if flat(&again, false) == flat(&first, false) => {}
            Ok(_) => c
                .failures
                .push(format!("{n}: OpenMetrics re-parse gives other samples")),
            Err(e) => c
                .failures
                .push(format!("{n}: OpenMetrics output does not parse: {e}")),
        }
        c.oracle(&n, "openmetrics", &om);
    }
    c.finish();
}

#[test]
fn openmetrics_samples_round_trip_and_validate() {
    let mut c = Checker {
        failures: Vec::new(),
        validated: 0,
        skipped: 0,
    };
    let mut files = list("openmetrics-samples/good");
    files.extend(
        list("openmetrics")
            .into_iter()
            .filter(|p| name(p).starts_with(|ch: char| ch != 'b'))
            .map(|p| p.join("metrics")),
    );
    for f in files {
        let n = f.display().to_string();
        let first = parse_openmetrics(&std::fs::read(&f).expect("read")).expect("parse");
        let om = encode(&first, Format::OpenMetrics);
        match parse_openmetrics(&om) {
            Ok(again) if again == first => {}
            Ok(again) if flat(&again, false) == flat(&first, false) => {}
            Ok(_) => c
                .failures
                .push(format!("{n}: re-parse gives other samples")),
            Err(e) => c.failures.push(format!("{n}: output does not parse: {e}")),
        }
        c.oracle(&n, "openmetrics", &om);
        let text = encode(&first, Format::Text);
        match parse_text(&text) {
            Ok(again) if flat(&again, true).len() <= flat(&first, true).len() => {}
            Ok(_) => c
                .failures
                .push(format!("{n}: text output has extra samples")),
            Err(e) => c
                .failures
                .push(format!("{n}: text output does not parse: {e}")),
        }
        c.oracle(&n, "text", &text);
    }
    c.finish();
}

#[test]
fn lenient_client_golang_output_is_rejected_like_prometheus_client() {
    // Real client_golang output: a histogram with negative buckets AND a _sum. We follow the
    // spec (and prometheus_client) strictly and reject it.
    for f in list("openmetrics-samples/lenient") {
        let err = parse_openmetrics(&std::fs::read(&f).expect("read")).expect_err("must reject");
        assert!(err.to_string().contains("negative"), "{}: {err}", name(&f));
    }
}
