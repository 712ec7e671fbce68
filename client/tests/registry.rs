//! Registration rules and the exact exposition a registry produces.

use kagari_client::{
    Collector, Counter, Desc, Error, Family, Format, Gauge, Histogram, IntCounter, IntCounterVec,
    IntGauge, MetricType, MetricWriter, Opts, Registry, Summary, SummaryOpts, Value,
};

/// Drops the `_created` lines (their values are wall-clock times) for exact comparisons.
fn without_created(s: &str) -> String {
    s.lines()
        .filter(|l| !l.contains("_created"))
        .map(|l| format!("{l}\n"))
        .collect()
}

fn check(r: &Registry, format: Format, expect: &str) {
    let got = without_created(&r.encode_to_string(format).unwrap());
    assert_eq!(
        got, expect,
        "\n--- got ---\n{got}--- expected ---\n{expect}"
    );
}

#[test]
fn text_exposition_of_every_type() {
    let r = Registry::new();
    let c: IntCounter = r.create(Opts::new("jobs_total", "Jobs done.")).unwrap();
    let g: Gauge = r
        .create(Opts::new("temp", "Temperature.").unit("celsius"))
        .unwrap();
    let h = Histogram::with_buckets(vec![0.5, 1.0]).unwrap();
    r.register(Opts::new("lat_seconds", "Latency."), h.clone())
        .unwrap();
    let s = Summary::with_opts(SummaryOpts::new().objective(0.5, 0.05)).unwrap();
    r.register(Opts::new("size", "Sizes.").namespace("app"), s.clone())
        .unwrap();
    c.inc_by(3);
    g.set(21.5);
    h.observe(0.25);
    h.observe(0.75);
    h.observe(2.0);
    s.observe(10.0);
    s.observe(30.0);
    s.observe(20.0);
    check(
        &r,
        Format::Text,
        "# HELP jobs_total Jobs done.\n\
         # TYPE jobs_total counter\n\
         jobs_total 3\n\
         # HELP temp_celsius Temperature.\n\
         # TYPE temp_celsius gauge\n\
         temp_celsius 21.5\n\
         # HELP lat_seconds Latency.\n\
         # TYPE lat_seconds histogram\n\
         lat_seconds_bucket{le=\"0.5\"} 1\n\
         lat_seconds_bucket{le=\"1\"} 2\n\
         lat_seconds_bucket{le=\"+Inf\"} 3\n\
         lat_seconds_sum 3\n\
         lat_seconds_count 3\n\
         # HELP app_size Sizes.\n\
         # TYPE app_size summary\n\
         app_size{quantile=\"0.5\"} 20\n\
         app_size_sum 60\n\
         app_size_count 3\n",
    );
}

#[test]
fn openmetrics_exposition_with_unit_created_and_exemplar() {
    let r = Registry::new();
    let c: Counter = r
        .create(Opts::new("sent", "Bytes sent.").unit("bytes"))
        .unwrap();
    c.inc_by_with_exemplar(2.5, &[("trace_id", "abc")]).unwrap();
    let text = r.encode_to_string(Format::OpenMetrics).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "# HELP sent_bytes Bytes sent.");
    assert_eq!(lines[1], "# TYPE sent_bytes counter");
    assert_eq!(lines[2], "# UNIT sent_bytes bytes");
    assert!(
        lines[3].starts_with("sent_bytes_total 2.5 # {trace_id=\"abc\"} 2.5 "),
        "{}",
        lines[3]
    );
    assert!(lines[4].starts_with("sent_bytes_created "), "{}", lines[4]);
    let created: f64 = lines[4]["sent_bytes_created ".len()..].parse().unwrap();
    assert!((created - c.created()).abs() < 1e-3);
    assert_eq!(lines[5], "# EOF");
    assert_eq!(lines.len(), 6);
    // Text drops exemplars and _created.
    check(
        &r,
        Format::Text,
        "# HELP sent_bytes_total Bytes sent.\n# TYPE sent_bytes_total counter\nsent_bytes_total 2.5\n",
    );
    assert!(!r
        .encode_to_string(Format::Text)
        .unwrap()
        .contains("_created"));
}

#[test]
fn families_prefix_and_const_labels() {
    let r = Registry::builder()
        .prefix("svc")
        .const_label("env", "prod")
        .build()
        .unwrap();
    let f: IntCounterVec = r
        .create_family(
            Opts::new("requests", "Requests.").const_label("zone", "a"),
            &["code"],
        )
        .unwrap();
    f.with_label_values(&["200"]).unwrap().inc();
    let g: IntGauge = r.create(Opts::new("up", "")).unwrap();
    g.set(1);
    check(
        &r,
        Format::Text,
        "# HELP svc_requests_total Requests.\n\
         # TYPE svc_requests_total counter\n\
         svc_requests_total{env=\"prod\",zone=\"a\",code=\"200\"} 1\n\
         # TYPE svc_up gauge\n\
         svc_up{env=\"prod\"} 1\n",
    );
}

#[test]
fn label_values_are_escaped() {
    let r = Registry::new();
    let f: Family<Gauge> = r
        .create_family(Opts::new("g", "Help with \\ and\nnewline."), &["v"])
        .unwrap();
    f.with_label_values(&["a\"b\\c\nd"]).unwrap().set(1.0);
    check(
        &r,
        Format::Text,
        "# HELP g Help with \\\\ and\\nnewline.\n# TYPE g gauge\ng{v=\"a\\\"b\\\\c\\nd\"} 1\n",
    );
}

#[test]
fn registration_errors() {
    let r = Registry::new();
    let _: Counter = r.create(Opts::new("a", "A.")).unwrap();
    // Same descriptor again.
    assert!(matches!(
        r.create::<Counter>(Opts::new("a_total", "A.")),
        Err(Error::AlreadyRegistered { .. })
    ));
    // Same name, different type or help.
    assert!(matches!(
        r.create::<Gauge>(Opts::new("a", "A.")),
        Err(Error::InconsistentRegistration { .. })
    ));
    assert!(matches!(
        r.create::<Counter>(Opts::new("a", "Other help.")),
        Err(Error::InconsistentRegistration { .. })
    ));
    // A gauge named like the counter's sample.
    assert!(matches!(
        r.create::<Gauge>(Opts::new("a_total", "x")),
        Err(Error::InconsistentRegistration { .. })
    ));
    // A histogram whose _count would clash with an existing gauge.
    let _: Gauge = r.create(Opts::new("h_count", "x")).unwrap();
    assert!(matches!(
        r.create::<Histogram>(Opts::new("h", "x")),
        Err(Error::InconsistentRegistration { .. })
    ));
    // Invalid names.
    assert!(matches!(
        r.create::<Gauge>(Opts::new("1bad", "x")),
        Err(Error::InvalidMetricName { .. })
    ));
    assert!(matches!(
        r.create::<Gauge>(Opts::new("ok", "x").const_label("__x", "1")),
        Err(Error::InvalidLabelName { .. })
    ));
    assert!(matches!(
        r.create::<Histogram>(Opts::new("hh", "x").const_label("le", "1")),
        Err(Error::InvalidLabelName { .. })
    ));
    assert!(matches!(
        r.create_family::<Gauge>(Opts::new("dup", "x").const_label("a", "1"), &["a"]),
        Err(Error::DuplicateLabelName { .. })
    ));
    assert!(Registry::builder().prefix("bad prefix").build().is_err());
    // Failed registrations reserve nothing.
    let _: Gauge = r.create(Opts::new("ok", "x")).unwrap();
}

#[test]
fn unregister_frees_the_name() {
    let r = Registry::new();
    let _: Histogram = r.create(Opts::new("h", "x")).unwrap();
    assert!(r.unregister("h"));
    assert!(!r.unregister("h"));
    assert_eq!(r.encode_to_string(Format::Text).unwrap(), "");
    let _: Gauge = r.create(Opts::new("h_sum", "now free")).unwrap();
}

#[derive(Debug)]
struct Temps;

impl Collector for Temps {
    fn describe(&self) -> Vec<Desc> {
        vec![Desc {
            name: "room_temp".into(),
            metric_type: MetricType::Gauge,
            help: "Room temperature.".into(),
            label_names: vec!["room".into()],
        }]
    }
    fn collect(&self, w: &mut MetricWriter<'_>) -> std::io::Result<()> {
        w.family("room_temp", MetricType::Gauge, "Room temperature.", None)?;
        w.sample(
            "",
            &[("room", "kitchen")],
            None,
            Value::Float(20.5),
            None,
            None,
        )?;
        w.sample(
            "",
            &[("room", "hall")],
            None,
            Value::Int(18),
            Some(1_000),
            None,
        )
    }
}

#[test]
fn custom_collector_is_validated_and_prefixed() {
    let r = Registry::builder()
        .prefix("home")
        .const_label("house", "1")
        .build()
        .unwrap();
    r.register_collector(Temps).unwrap();
    assert!(matches!(
        r.register_collector(Temps),
        Err(Error::AlreadyRegistered { .. })
    ));
    assert!(r
        .create::<Gauge>(Opts::new("room_temp", "Room temperature."))
        .is_err());
    check(
        &r,
        Format::Text,
        "# HELP home_room_temp Room temperature.\n\
         # TYPE home_room_temp gauge\n\
         home_room_temp{house=\"1\",room=\"kitchen\"} 20.5\n\
         home_room_temp{house=\"1\",room=\"hall\"} 18 1000\n",
    );
    assert!(r.unregister("home_room_temp"));
    assert_eq!(r.encode_to_string(Format::Text).unwrap(), "");
}

#[cfg(all(feature = "process", target_os = "linux"))]
#[test]
fn default_registry_has_process_metrics() {
    let text = kagari_client::default_registry()
        .encode_to_string(Format::Text)
        .unwrap();
    for name in [
        "process_cpu_seconds_total",
        "process_resident_memory_bytes",
        "process_virtual_memory_bytes",
        "process_open_fds",
        "process_max_fds",
        "process_start_time_seconds",
    ] {
        assert!(
            text.contains(&format!("\n{name} ")),
            "{name} missing in\n{text}"
        );
    }
}
