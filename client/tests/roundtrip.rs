//! What the registry writes parses back (with Kagari's text and OpenMetrics parsers, and with
//! the real `promtool check metrics` when present) to the same names, labels and values.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};

use kagari_client::{
    Counter, Format, GaugeVec, Histogram, HistogramVec, IntCounterVec, MetricType, Opts, Registry,
    Summary, SummaryOpts,
};
use kagari_exposition::{parse_openmetrics, parse_text, MetricFamily};
use proptest::prelude::*;

type Flat = BTreeMap<(String, Vec<(String, String)>), f64>;

/// `(sample name, sorted labels) → value`, without `_created` (Text has none).
fn flatten(families: &[MetricFamily]) -> Flat {
    let mut out = BTreeMap::new();
    for f in families {
        for s in &f.samples {
            if s.name.ends_with("_created") {
                continue;
            }
            let mut labels = s.labels.clone();
            labels.sort();
            out.insert((s.name.clone(), labels), s.value);
        }
    }
    out
}

fn both(r: &Registry) -> (Vec<MetricFamily>, Vec<MetricFamily>) {
    let text = r.encode_to_string(Format::Text).unwrap();
    let om = r.encode_to_string(Format::OpenMetrics).unwrap();
    let t = parse_text(text.as_bytes()).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let o = parse_openmetrics(om.as_bytes()).unwrap_or_else(|e| panic!("{e}\n{om}"));
    (t, o)
}

fn rich_registry() -> Registry {
    let r = Registry::builder()
        .const_label("env", "t\"e\\st")
        .build()
        .unwrap();
    let c: Counter = r
        .create(Opts::new("events_total", "Events.\nMultiline \\ help"))
        .unwrap();
    c.inc_by(1.5);
    let f: IntCounterVec = r
        .create_family(Opts::new("requests", "Requests."), &["path", "code"])
        .unwrap();
    f.with_label_values(&["/a\"b", "200"]).unwrap().inc_by(3);
    f.with_label_values(&["Προμηθεύς\n", "500"]).unwrap().inc();
    let g: GaugeVec = r
        .create_family(Opts::new("temp", "T.").unit("celsius"), &["room"])
        .unwrap();
    g.with_label_values(&["x"]).unwrap().set(-0.0000123);
    g.with_label_values(&["y"]).unwrap().set(f64::INFINITY);
    g.with_label_values(&["z"]).unwrap().set(1e300);
    let h = HistogramVec::with_buckets(&["op"], vec![0.1, 1.0, 10.0]).unwrap();
    r.register(Opts::new("op_seconds", "Op latency."), h.clone())
        .unwrap();
    let read = h.with_label_values(&["read"]).unwrap();
    read.observe(0.05);
    read.observe_with_exemplar(5.0, &[("trace_id", "abc123")])
        .unwrap();
    read.observe(50.0);
    let s = Summary::with_opts(
        SummaryOpts::new()
            .objective(0.5, 0.05)
            .objective(0.99, 0.001),
    )
    .unwrap();
    r.register(Opts::new("size_bytes", "Sizes."), s.clone())
        .unwrap();
    for i in 0..100 {
        s.observe(f64::from(i));
    }
    let empty: Histogram = r.create(Opts::new("never", "Never observed.")).unwrap();
    drop(empty);
    r
}

#[test]
fn text_and_openmetrics_agree_and_parse() {
    let r = rich_registry();
    let (t, o) = both(&r);
    assert_eq!(flatten(&t), flatten(&o));
    let types: Vec<(String, MetricType)> =
        o.iter().map(|f| (f.name.clone(), f.metric_type)).collect();
    assert_eq!(
        types,
        [
            ("events".to_owned(), MetricType::Counter),
            ("requests".to_owned(), MetricType::Counter),
            ("temp_celsius".to_owned(), MetricType::Gauge),
            ("op_seconds".to_owned(), MetricType::Histogram),
            ("size_bytes".to_owned(), MetricType::Summary),
            ("never".to_owned(), MetricType::Histogram),
        ]
    );
    assert_eq!(o[0].help.as_deref(), Some("Events.\nMultiline \\ help"));
    assert_eq!(o[2].unit.as_deref(), Some("celsius"));
    let flat = flatten(&o);
    let env = ("env".to_owned(), "t\"e\\st".to_owned());
    let key = |name: &str, extra: &[(&str, &str)]| {
        let mut l: Vec<(String, String)> = extra
            .iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect();
        l.push(env.clone());
        l.sort();
        (name.to_owned(), l)
    };
    assert_eq!(
        flat[&key(
            "requests_total",
            &[("path", "Προμηθεύς\n"), ("code", "500")]
        )],
        1.0
    );
    assert_eq!(flat[&key("temp_celsius", &[("room", "x")])], -0.0000123);
    assert_eq!(flat[&key("temp_celsius", &[("room", "y")])], f64::INFINITY);
    assert_eq!(
        flat[&key("op_seconds_bucket", &[("op", "read"), ("le", "10")])],
        2.0
    );
    assert_eq!(
        flat[&key("op_seconds_bucket", &[("op", "read"), ("le", "+Inf")])],
        3.0
    );
    // 0..100 observed: the median is within ±5 ranks (ε = 0.05), the 0.99 within ±0.1.
    let median = flat[&key("size_bytes", &[("quantile", "0.5")])];
    assert!((44.0..=55.0).contains(&median), "{median}");
    assert_eq!(flat[&key("size_bytes", &[("quantile", "0.99")])], 98.0);
    assert_eq!(flat[&key("size_bytes_count", &[])], 100.0);
    // The exemplar survives in OpenMetrics.
    let bucket = o[3]
        .samples
        .iter()
        .find(|s| s.label("le") == Some("10"))
        .unwrap();
    let ex = bucket
        .exemplar
        .as_ref()
        .expect("exemplar on the le=10 bucket");
    assert_eq!(ex.value, 5.0);
    assert_eq!(ex.labels, [("trace_id".to_owned(), "abc123".to_owned())]);
}

#[test]
fn promtool_accepts_the_text_output() {
    let promtool = kagari_testkit::promtool();
    kagari_testkit::skip_or_fail!(
        promtool.is_some(),
        "promtool_accepts_the_text_output",
        "promtool not installed"
    );
    let Some(promtool) = promtool else { return };
    let text = rich_registry().encode_to_string(Format::Text).unwrap();
    let mut child = Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // A parse error fails; lint findings (naming conventions) are printed: expect none.
    assert!(out.status.success(), "promtool: {report}\n{text}");
    assert_eq!(report.trim(), "", "{text}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Arbitrary label values and float values survive both formats exactly.
    #[test]
    fn arbitrary_labels_and_values_round_trip(
        series in proptest::collection::btree_map(
            (any::<String>(), "[a-z]{0,3}"),
            proptest::num::f64::ANY,
            1..20,
        )
    ) {
        let r = Registry::new();
        let g: GaugeVec = r.create_family(Opts::new("g", "G."), &["a", "b"]).unwrap();
        for ((a, b), v) in &series {
            g.with_label_values(&[a.as_str(), b.as_str()]).unwrap().set(*v);
        }
        let (t, o) = both(&r);
        for families in [&t, &o] {
            let flat = flatten(families);
            prop_assert_eq!(flat.len(), series.len());
            for ((a, b), v) in &series {
                // Empty label values are the same as absent ones.
                let mut labels = Vec::new();
                if !a.is_empty() { labels.push(("a".to_owned(), a.clone())); }
                if !b.is_empty() { labels.push(("b".to_owned(), b.clone())); }
                labels.sort();
                let got = flat.get(&("g".to_owned(), labels.clone()));
                let got = got.or_else(|| {
                    // Parsers may keep empty labels; look the series up with them too.
                    let mut full = vec![("a".to_owned(), a.clone()), ("b".to_owned(), b.clone())];
                    full.sort();
                    flat.get(&("g".to_owned(), full))
                });
                prop_assert!(got.is_some(), "missing {:?}", labels);
                let got = *got.unwrap();
                prop_assert!(got == *v || (got.is_nan() && v.is_nan()), "{} != {}", got, v);
            }
        }
    }
}
