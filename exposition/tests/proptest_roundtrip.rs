//! Property: families written with the streaming `Encoder` parse back to the same samples, in
//! both formats.

use kagari_exposition::{
    parse_openmetrics, parse_text, Encoder, Exemplar, Format, MetricFamily, MetricType, Value,
};
use proptest::prelude::*;

#[derive(Debug, Clone)]
struct Series {
    labels: Vec<(String, String)>,
    /// Gauge/unknown value, counter total, or the summary/histogram count.
    values: Vec<f64>,
    ts: Option<i64>,
    exemplar: Option<(String, f64)>,
}

#[derive(Debug, Clone)]
struct Fam {
    name: String,
    t: MetricType,
    help: String,
    series: Vec<Series>,
}

fn label_value() -> impl Strategy<Value = String> {
    "[a-z\"\\\\\n ,{}#=☃]{0,8}"
}

fn series(t: MetricType) -> impl Strategy<Value = Series> {
    let names = proptest::collection::btree_set("[a-z][a-z0-9_]{0,5}", 0..4);
    let value = match t {
        MetricType::Gauge | MetricType::Unknown => prop_oneof![
            any::<f64>(),
            Just(f64::NAN),
            Just(f64::INFINITY),
            Just(-0.0),
            (-1000i64..1000).prop_map(|i| i as f64)
        ]
        .boxed(),
        _ => (0u32..1_000_000).prop_map(f64::from).boxed(),
    };
    (
        names,
        proptest::collection::vec(label_value(), 4),
        proptest::collection::vec(value, 1..6),
        proptest::option::of(-10_000_000_000_000i64..10_000_000_000_000),
        proptest::option::of(("[a-z]{1,10}", 0.0f64..100.0)),
    )
        .prop_map(|(names, vals, values, ts, exemplar)| Series {
            labels: names
                .into_iter()
                .filter(|n| n != "le" && n != "quantile")
                .zip(vals)
                .collect(),
            values,
            ts,
            exemplar,
        })
}

fn family(i: usize) -> impl Strategy<Value = Fam> {
    prop_oneof![
        Just(MetricType::Gauge),
        Just(MetricType::Unknown),
        Just(MetricType::Counter),
        Just(MetricType::Histogram),
        Just(MetricType::Summary),
    ]
    .prop_flat_map(move |t| {
        (
            "[a-z_]{1,6}",
            "[ -~\n\\\\\"☃]{0,12}",
            proptest::collection::vec(series(t), 0..4),
        )
            .prop_map(move |(n, help, mut series)| {
                // Series of one family need distinct label sets.
                let mut seen = std::collections::BTreeSet::new();
                series.retain(|s| seen.insert(s.labels.clone()));
                Fam {
                    name: format!("f{i}_{n}"),
                    t,
                    help,
                    series,
                }
            })
    })
}

fn families() -> impl Strategy<Value = Vec<Fam>> {
    (0usize..5).prop_flat_map(|n| (0..n).map(family).collect::<Vec<_>>())
}

/// Writes the families with the streaming encoder; returns the expected sample lines.
fn write(fams: &[Fam], format: Format) -> (Vec<u8>, Vec<String>) {
    let om = format == Format::OpenMetrics;
    let mut enc = Encoder::new(Vec::new(), format);
    let mut want = Vec::new();
    let mut expect = |name: String,
                      labels: &[(&str, &str)],
                      extra: Option<(&str, String)>,
                      v: f64,
                      ts: Option<i64>,
                      ex: Option<String>| {
        let mut l: Vec<(String, String)> = labels
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        l.extend(extra.map(|(a, b)| (a.to_owned(), b)));
        l.sort();
        want.push(render(&name, &l, v, ts, ex.as_deref()));
    };
    for f in fams {
        enc.family(&f.name, f.t, &f.help, None).expect("family");
        for s in &f.series {
            let labels: Vec<(&str, &str)> = s
                .labels
                .iter()
                .map(|(a, b)| (a.as_str(), b.as_str()))
                .collect();
            let ex_labels: Vec<(&str, &str)> = s
                .exemplar
                .iter()
                .map(|(v, _)| ("trace_id", v.as_str()))
                .collect();
            let ex = s.exemplar.as_ref().map(|(_, v)| Exemplar {
                labels: &ex_labels,
                value: *v,
                timestamp_seconds: None,
            });
            let ex_str = |allowed: bool| {
                (om && allowed)
                    .then(|| s.exemplar.as_ref().map(|(l, v)| format!("{l}={v:?}")))
                    .flatten()
            };
            let ts = s.ts;
            let n = &f.name;
            match f.t {
                MetricType::Gauge | MetricType::Unknown => {
                    // One sample per series (OM forbids repeats without timestamps).
                    let v = s.values[0];
                    enc.sample("", labels.iter().copied(), None, Value::Float(v), ts, None)
                        .expect("sample");
                    expect(n.clone(), &labels, None, v, ts, None);
                }
                MetricType::Counter => {
                    let v = s.values[0];
                    enc.sample(
                        "_total",
                        labels.iter().copied(),
                        None,
                        Value::UInt(v as u64),
                        ts,
                        ex.as_ref(),
                    )
                    .expect("sample");
                    expect(format!("{n}_total"), &labels, None, v, ts, ex_str(true));
                    enc.sample(
                        "_created",
                        labels.iter().copied(),
                        None,
                        Value::Float(1.5e9),
                        ts,
                        None,
                    )
                    .expect("sample");
                    if om {
                        expect(format!("{n}_created"), &labels, None, 1.5e9, ts, None);
                    }
                }
                MetricType::Histogram => {
                    let mut acc = 0.0;
                    for (i, v) in s.values.iter().enumerate() {
                        acc += v;
                        let le = i as f64 * 0.25;
                        enc.sample(
                            "_bucket",
                            labels.iter().copied(),
                            Some(("le", le)),
                            Value::Float(acc),
                            ts,
                            ex.as_ref(),
                        )
                        .expect("sample");
                        expect(
                            format!("{n}_bucket"),
                            &labels,
                            Some(("le", fmt_le(le))),
                            acc,
                            ts,
                            ex_str(true),
                        );
                    }
                    enc.sample(
                        "_bucket",
                        labels.iter().copied(),
                        Some(("le", f64::INFINITY)),
                        Value::Float(acc),
                        ts,
                        None,
                    )
                    .expect("sample");
                    expect(
                        format!("{n}_bucket"),
                        &labels,
                        Some(("le", "+Inf".into())),
                        acc,
                        ts,
                        None,
                    );
                    enc.sample(
                        "_count",
                        labels.iter().copied(),
                        None,
                        Value::Float(acc),
                        ts,
                        None,
                    )
                    .expect("sample");
                    expect(format!("{n}_count"), &labels, None, acc, ts, None);
                    enc.sample(
                        "_sum",
                        labels.iter().copied(),
                        None,
                        Value::Float(acc * 0.5),
                        ts,
                        None,
                    )
                    .expect("sample");
                    expect(format!("{n}_sum"), &labels, None, acc * 0.5, ts, None);
                }
                MetricType::Summary => {
                    for (i, v) in s.values.iter().enumerate() {
                        let q = i as f64 / 8.0;
                        enc.sample(
                            "",
                            labels.iter().copied(),
                            Some(("quantile", q)),
                            Value::Float(*v),
                            ts,
                            None,
                        )
                        .expect("sample");
                        expect(
                            n.clone(),
                            &labels,
                            Some(("quantile", fmt_le(q))),
                            *v,
                            ts,
                            None,
                        );
                    }
                    enc.sample(
                        "_count",
                        labels.iter().copied(),
                        None,
                        Value::Int(3),
                        ts,
                        None,
                    )
                    .expect("sample");
                    expect(format!("{n}_count"), &labels, None, 3.0, ts, None);
                    enc.sample(
                        "_sum",
                        labels.iter().copied(),
                        None,
                        Value::Float(2.5),
                        ts,
                        None,
                    )
                    .expect("sample");
                    expect(format!("{n}_sum"), &labels, None, 2.5, ts, None);
                }
                _ => unreachable!("not generated"),
            }
        }
    }
    (enc.finish().expect("finish"), want)
}

fn fmt_le(v: f64) -> String {
    // The encoder must write `le`/`quantile` as Go does; parse it back to compare numerically.
    let mut out = Vec::new();
    let mut enc = Encoder::new(&mut out, Format::Text);
    enc.family("x", MetricType::Gauge, "", None)
        .expect("family");
    enc.sample("", [], Some(("le", v)), Value::Int(0), None, None)
        .expect("sample");
    let s = String::from_utf8(out).expect("utf8");
    s.split('"').nth(1).expect("le").to_owned()
}

fn render(
    name: &str,
    labels: &[(String, String)],
    v: f64,
    ts: Option<i64>,
    ex: Option<&str>,
) -> String {
    let v = if v.is_nan() {
        "NaN".to_owned()
    } else {
        format!("{v:?}")
    };
    format!("{name} {labels:?} {v} {ts:?} {ex:?}")
}

fn got(fams: &[MetricFamily]) -> Vec<String> {
    fams.iter()
        .flat_map(|f| f.samples.iter())
        .map(|s| {
            let mut l = s.labels.clone();
            l.sort();
            let ex = s.exemplar.as_ref().map(|e| {
                format!(
                    "{}={:?}",
                    e.labels.first().map(|l| l.1.as_str()).unwrap_or(""),
                    e.value
                )
            });
            render(
                &s.name,
                &l,
                s.value,
                s.timestamp.map(|t| t.as_millis()),
                ex.as_deref(),
            )
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn text_round_trip(fams in families()) {
        let (bytes, want) = write(&fams, Format::Text);
        let parsed = parse_text(&bytes).map_err(|e| TestCaseError::fail(format!("{e}\n{}", String::from_utf8_lossy(&bytes))))?;
        prop_assert_eq!(got(&parsed), want, "{}", String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn openmetrics_round_trip(fams in families()) {
        let (bytes, want) = write(&fams, Format::OpenMetrics);
        let parsed = parse_openmetrics(&bytes).map_err(|e| TestCaseError::fail(format!("{e}\n{}", String::from_utf8_lossy(&bytes))))?;
        prop_assert_eq!(got(&parsed), want, "{}", String::from_utf8_lossy(&bytes));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Any bytes: the parsers return (never panic) and errors point inside the input.
    #[test]
    fn parsers_never_panic(
        input in proptest::collection::vec(
            prop_oneof![
                any::<u8>(),
                proptest::sample::select(b"# {}\",=\\\n_a1.eE+-".to_vec())
            ],
            0..200,
        )
    ) {
        let lines = input.iter().filter(|&&b| b == b'\n').count() + 2;
        for result in [parse_text(&input).map(|_| ()), parse_openmetrics(&input).map(|_| ())] {
            if let Err(e) = result {
                prop_assert!(e.line >= 1 && e.line <= lines, "{e}");
                prop_assert!(e.column >= 1, "{e}");
            }
        }
    }
}
