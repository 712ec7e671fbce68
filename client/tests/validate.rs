//! Both encodings of a registry holding every metric type, checked by the independent
//! validator in `shared/conformance/exposition/validate` (promtool and Python
//! `prometheus_client` for text, `prometheus_client`'s OpenMetrics parser for OpenMetrics).
//!
//! Without the validator the test prints a loud SKIP and returns, unless
//! `KAGARI_REQUIRE_PEERS=true`, in which case it fails.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use kagari_client::{
    register_build_info, Collector, Counter, CounterVec, Desc, Format, Gauge, GaugeVec, Histogram,
    HistogramVec, IntCounter, IntCounterVec, IntGauge, MetricType, MetricWriter, Opts, Registry,
    Summary, SummaryOpts, SummaryVec, Value,
};

/// The validator under the shared folder, if it is there.
fn validator() -> Option<PathBuf> {
    Some(kagari_testkit::shared_path(
        "conformance/exposition/validate",
    ))
    .filter(|p| p.exists())
}

/// Pipes `body` to `validate <format> -`; returns the exit code and the combined output.
fn validate(validator: &PathBuf, format: &str, body: &str) -> (Option<i32>, String) {
    let mut child = Command::new(validator)
        .args([format, "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("validator starts");
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(body.as_bytes())
        .expect("validator reads stdin");
    let out = child.wait_with_output().expect("validator finishes");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), text)
}

/// A scrape-time collector: one labelled gauge family built on every collect.
#[derive(Debug)]
struct QueueCollector;

impl Collector for QueueCollector {
    fn describe(&self) -> Vec<Desc> {
        vec![Desc {
            name: "queue_depth".to_owned(),
            metric_type: MetricType::Gauge,
            help: "Items waiting per queue.".to_owned(),
            label_names: vec!["queue".to_owned()],
        }]
    }

    fn collect(&self, w: &mut MetricWriter<'_>) -> std::io::Result<()> {
        w.family(
            "queue_depth",
            MetricType::Gauge,
            "Items waiting per queue.",
            None,
        )?;
        w.sample("", &[("queue", "fast")], None, Value::Int(3), None, None)?;
        w.sample(
            "",
            &[("queue", "slow \"batch\"")],
            None,
            Value::Int(17),
            None,
            None,
        )
    }
}

/// A registry with every kind of metric the client offers, each with data.
fn full_registry() -> Registry {
    let r = Registry::builder()
        .prefix("app")
        .const_label("instance_id", "i-1")
        .build()
        .expect("valid registry");

    let c: IntCounter = r
        .create(Opts::new("jobs", "Jobs run.").const_label("shard", "a"))
        .expect("registers");
    c.inc_by_with_exemplar(3, &[("trace_id", "abc123")])
        .expect("valid exemplar");
    let fc: Counter = r
        .create(Opts::new("work", "Work done.").unit("seconds"))
        .expect("registers");
    fc.inc_by(1.25);
    let g: Gauge = r
        .create(Opts::new(
            "temperature",
            "Temperature with a \\ backslash\nand newline.",
        ))
        .expect("registers");
    g.set(-3.5);
    let ig: IntGauge = r
        .create(Opts::new("in_flight", "Requests in flight."))
        .expect("registers");
    ig.set(2);

    let h = Histogram::with_buckets(vec![0.1, 0.5, 1.0]).expect("valid buckets");
    r.register(Opts::new("latency_seconds", "Latency."), h.clone())
        .expect("registers");
    h.observe(0.05);
    h.observe_with_exemplar(0.7, &[("trace_id", "def456")])
        .expect("valid exemplar");
    h.observe(3.0);

    let s = Summary::with_opts(
        SummaryOpts::new()
            .objective(0.5, 0.05)
            .objective(0.99, 0.001),
    )
    .expect("valid summary");
    r.register(Opts::new("payload_bytes", "Payload sizes."), s.clone())
        .expect("registers");
    for v in [10.0, 20.0, 30.0, 400.0] {
        s.observe(v);
    }

    let requests: IntCounterVec = r
        .create_family(Opts::new("http_requests", "Requests."), &["method", "path"])
        .expect("registers");
    requests
        .with_label_values(&["GET", "/a \"quoted\" \\ path\nwith newline"])
        .expect("2 values")
        .inc();
    requests
        .with_label_values(&["POST", "/ünïcödé"])
        .expect("2 values")
        .inc_by(4);
    let tricky: IntCounterVec = r
        .create_family(
            Opts::new("escapes", "Escapes in every label position."),
            &["first", "second", "third"],
        )
        .expect("registers");
    tricky
        .with_label_values(&["a\"b", "c\\d\ne", "f\"g"])
        .expect("3 values")
        .inc();
    let fam_c: CounterVec = r
        .create_family(Opts::new("bytes_sent", "Bytes sent."), &["peer"])
        .expect("registers");
    fam_c
        .with_label_values(&["x"])
        .expect("1 value")
        .inc_by_with_exemplar(512.0, &[("span", "s1")])
        .expect("valid exemplar");
    let fam_g: GaugeVec = r
        .create_family(Opts::new("pool_size", "Pool size."), &["pool"])
        .expect("registers");
    fam_g.with_label_values(&["db"]).expect("1 value").set(8.0);
    let fam_h = HistogramVec::with_buckets(&["route"], vec![0.01, 0.1]).expect("valid family");
    r.register(Opts::new("route_seconds", "Route latency."), fam_h.clone())
        .expect("registers");
    fam_h
        .with_label_values(&["/x"])
        .expect("1 value")
        .observe(0.05);
    let fam_s = SummaryVec::with_opts(&["op"], SummaryOpts::new().objective(0.9, 0.01))
        .expect("valid family");
    r.register(Opts::new("op_seconds", "Op durations."), fam_s.clone())
        .expect("registers");
    fam_s
        .with_label_values(&["read"])
        .expect("1 value")
        .observe(0.2);

    r.register_collector(QueueCollector).expect("registers");
    register_build_info(&r, "kagari", &[("version", "0.1.0"), ("revision", "test")])
        .expect("registers");
    r
}

#[cfg(feature = "process")]
fn add_process_collector(r: &Registry) {
    r.register_collector(kagari_client::ProcessCollector::new())
        .expect("registers");
}

#[cfg(not(feature = "process"))]
fn add_process_collector(_: &Registry) {}

#[test]
fn every_metric_type_passes_the_independent_validators() {
    let validator = validator();
    kagari_testkit::skip_or_fail!(
        validator.is_some(),
        "every_metric_type_passes_the_independent_validators",
        "shared/conformance/exposition/validate not found"
    );
    let Some(validator) = validator else { return };
    let r = full_registry();
    add_process_collector(&r);

    let text = r.encode_to_string(Format::Text).expect("encodes");
    let om = r.encode_to_string(Format::OpenMetrics).expect("encodes");
    // The content the validators see really holds every kind of family.
    for needle in [
        "# TYPE app_jobs_total counter",
        "# TYPE app_temperature gauge",
        "# TYPE app_latency_seconds histogram",
        "# TYPE app_payload_bytes summary",
        "app_payload_bytes{instance_id=\"i-1\",quantile=\"0.99\"}",
        "app_http_requests_total{instance_id=\"i-1\",method=\"GET\",path=\"/a \\\"quoted\\\" \\\\ path\\nwith newline\"} 1",
        "app_queue_depth{instance_id=\"i-1\",queue=\"slow \\\"batch\\\"\"} 17",
        "app_escapes_total{instance_id=\"i-1\",first=\"a\\\"b\",second=\"c\\\\d\\ne\",third=\"f\\\"g\"} 1",
        "app_kagari_build_info{instance_id=\"i-1\",",
    ] {
        assert!(text.contains(needle), "text lacks {needle:?}:\n{text}");
    }
    #[cfg(feature = "process")]
    if cfg!(target_os = "linux") {
        assert!(text.contains("process_cpu_seconds_total"), "{text}");
    }
    for needle in [
        "app_jobs_total{instance_id=\"i-1\",shard=\"a\"} 3 # {trace_id=\"abc123\"} 3",
        "# {trace_id=\"def456\"} 0.7",
        "# UNIT app_work_seconds seconds",
        "app_jobs_created{",
        "# EOF\n",
    ] {
        assert!(om.contains(needle), "OpenMetrics lacks {needle:?}:\n{om}");
    }

    for (format, body) in [("text", &text), ("openmetrics", &om)] {
        let (code, out) = validate(&validator, format, body);
        assert_eq!(
            code,
            Some(0),
            "validate {format} rejected our output:\n{out}\n--- input ---\n{body}"
        );
        eprintln!("validate {format}: {}", out.lines().last().unwrap_or(""));
    }
}

#[test]
fn a_deliberately_broken_exposition_is_rejected() {
    // Proves the validator is really consulted: the same pipe fails on garbage.
    let validator = validator();
    kagari_testkit::skip_or_fail!(
        validator.is_some(),
        "a_deliberately_broken_exposition_is_rejected",
        "shared/conformance/exposition/validate not found"
    );
    let Some(validator) = validator else { return };
    let r = full_registry();
    let text = r.encode_to_string(Format::Text).expect("encodes");
    let broken = text.replacen("app_jobs_total{", "app_jobs_total{{", 1);
    let (code, out) = validate(&validator, "text", &broken);
    assert_ne!(code, Some(0), "validator accepted broken text:\n{out}");
    let om = r.encode_to_string(Format::OpenMetrics).expect("encodes");
    let (code, out) = validate(&validator, "openmetrics", om.trim_end_matches("# EOF\n"));
    assert_ne!(
        code,
        Some(0),
        "validator accepted OpenMetrics without # EOF:\n{out}"
    );
}
