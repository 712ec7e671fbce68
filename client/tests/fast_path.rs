//! The registry writes plain family samples itself (pre-rendered labels, integer formatting);
//! its output must be byte for byte what `kagari_exposition::Encoder` writes for the same
//! samples, in both formats.

use kagari_client::{Format, GaugeVec, IntCounterVec, IntGaugeVec, MetricType, Registry, Value};
use kagari_exposition::Encoder;

const LABEL_VALUES: [[&str; 2]; 4] = [["GET", "200"], ["q\"\\\n", "ü"], ["", "x\"y"], ["a", ""]];
const GAUGE_VALUES: [f64; 10] = [
    3.0,
    -2.0,
    0.0,
    -0.0,
    0.5,
    999_999.0,
    1e6,
    -1.5e-7,
    f64::NAN,
    f64::INFINITY,
];

fn sorted_lines(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    lines.sort();
    lines
}

#[test]
fn direct_sample_lines_equal_the_encoders() {
    for format in [Format::Text, Format::OpenMetrics] {
        let r = Registry::builder()
            .prefix("app")
            .const_label("env", "p\"d\\")
            .build()
            .unwrap();
        let counters: IntCounterVec = r
            .create_family(("hits", "Hits.").into(), &["method", "code"])
            .unwrap();
        let gauges: GaugeVec = r.create_family(("temp", "Temp.").into(), &["k"]).unwrap();
        let ints: IntGaugeVec = r.create_family(("depth", "Depth.").into(), &["k"]).unwrap();

        let mut expected = Encoder::new(Vec::new(), format);
        let env = ("env", "p\"d\\");
        expected
            .family("app_hits", MetricType::Counter, "Hits.", None)
            .unwrap();
        for (i, [m, c]) in LABEL_VALUES.iter().enumerate() {
            let n = u64::MAX - i as u64;
            let counter = counters.with_label_values(&[m, c]).unwrap();
            counter.inc_by(n);
            let labels = [env, ("method", m), ("code", c)];
            expected
                .sample("_total", labels, None, Value::UInt(n), None, None)
                .unwrap();
            let created = Value::Float(counter.created());
            expected
                .sample("_created", labels, None, created, None, None)
                .unwrap();
        }
        expected
            .family("app_temp", MetricType::Gauge, "Temp.", None)
            .unwrap();
        for (i, v) in GAUGE_VALUES.iter().enumerate() {
            let k = i.to_string();
            gauges.with_label_values(&[&k]).unwrap().set(*v);
            let labels = [env, ("k", k.as_str())];
            expected
                .sample("", labels, None, Value::Float(*v), None, None)
                .unwrap();
        }
        expected
            .family("app_depth", MetricType::Gauge, "Depth.", None)
            .unwrap();
        for v in [i64::MIN, -1, 0, i64::MAX] {
            let k = v.to_string();
            ints.with_label_values(&[&k]).unwrap().set(v);
            expected
                .sample(
                    "",
                    [env, ("k", k.as_str())],
                    None,
                    Value::Int(v),
                    None,
                    None,
                )
                .unwrap();
        }
        let expected = String::from_utf8(expected.finish().unwrap()).unwrap();
        let got = r.encode_to_string(format).unwrap();
        assert_eq!(sorted_lines(&got), sorted_lines(&expected), "{format:?}");
        // Same order of families and headers too: only series order within a family may
        // differ, so the unsorted header lines must match.
        let headers = |t: &str| {
            t.lines()
                .filter(|l| l.starts_with('#'))
                .map(str::to_owned)
                .collect::<Vec<_>>()
        };
        assert_eq!(headers(&got), headers(&expected));
    }
}

#[test]
fn large_outputs_reach_the_writer_in_order() {
    let r = Registry::new();
    let f: IntCounterVec = r
        .create_family(("big", "Big.").into(), &["i", "j"])
        .unwrap();
    for i in 0..20_000u64 {
        f.with_label_values(&[&i.to_string(), "some-longer-value"])
            .unwrap()
            .inc_by(i);
    }
    let g: IntCounterVec = r.create_family(("after", "After.").into(), &["x"]).unwrap();
    g.with_label_values(&["1"]).unwrap().inc();
    let text = r.encode_to_string(Format::Text).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2 + 20_000 + 3);
    assert_eq!(
        lines[..2],
        ["# HELP big_total Big.", "# TYPE big_total counter"]
    );
    assert!(lines[2..20_002]
        .iter()
        .all(|l| l.starts_with("big_total{i=\"")));
    assert_eq!(
        lines[20_002..],
        [
            "# HELP after_total After.",
            "# TYPE after_total counter",
            "after_total{x=\"1\"} 1"
        ]
    );
}
