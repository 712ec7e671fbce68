//! Table tests for `prometheus.yml` scrape configuration: real-world configs and rejections.

use kagari_scrape::{Config, ConfigError, ScrapeProtocol};

const REAL_WORLD: &str = r#"
global:
  scrape_interval: 15s
  evaluation_interval: 15s
  external_labels: {monitor: codelab}
rule_files: ["rules/*.yml"]
alerting:
  alertmanagers:
    - static_configs: [{targets: ["localhost:9093"]}]
scrape_configs:
  - job_name: prometheus
    static_configs:
      - targets: ["localhost:9090"]
  - job_name: node
    scrape_interval: 30s
    scrape_timeout: 20s
    metrics_path: /probe
    scheme: https
    params: {module: [http_2xx, x]}
    honor_labels: true
    honor_timestamps: false
    track_timestamps_staleness: true
    body_size_limit: 10MB
    sample_limit: 1000
    label_limit: 30
    label_name_length_limit: 200
    label_value_length_limit: 200
    target_limit: 50
    scrape_protocols: [PrometheusText0.0.4, OpenMetricsText1.0.0]
    basic_auth: {username: u, password_file: /etc/pw}
    tls_config: {ca_file: /etc/ca.pem, server_name: node.local, insecure_skip_verify: false}
    follow_redirects: false
    static_configs:
      - targets: ["10.1.2.3:9100", "10.1.2.4:9100"]
        labels: {env: prod}
    file_sd_configs:
      - files: ["/etc/sd/*.json", "/etc/sd/web.yml"]
        refresh_interval: 1m
    relabel_configs:
      - source_labels: [__address__]
        regex: '([^:]+):.*'
        target_label: host
    metric_relabel_configs:
      - {source_labels: [__name__], regex: 'go_.*', action: drop}
  - job_name: bearer
    scrape_interval: 5s
    bearer_token: secret
    static_configs: [{targets: ["a:1"]}]
"#;

#[test]
fn real_world_config_decodes_with_inheritance() {
    let c = Config::from_yaml(REAL_WORLD).unwrap();
    assert_eq!(c.scrape_configs.len(), 3);
    let p = &c.scrape_configs[0];
    assert_eq!(
        (p.interval().to_string(), p.timeout().to_string()),
        ("15s".into(), "10s".into())
    );
    assert_eq!((p.scheme(), p.metrics_path()), ("http", "/metrics"));
    assert!(
        p.honor_timestamps() && !p.honor_labels && p.follow_redirects() && p.enable_compression()
    );
    assert_eq!(p.protocols(), ScrapeProtocol::DEFAULT);

    let n = &c.scrape_configs[1];
    assert_eq!(
        (n.interval().to_string(), n.timeout().to_string()),
        ("30s".into(), "20s".into())
    );
    assert_eq!((n.scheme(), n.metrics_path()), ("https", "/probe"));
    assert_eq!(
        n.params["module"],
        vec!["http_2xx".to_string(), "x".to_string()]
    );
    assert!(
        n.honor_labels
            && !n.honor_timestamps()
            && n.track_timestamps_staleness
            && !n.follow_redirects()
    );
    assert_eq!(n.body_size_limit.bytes(), 10 << 20);
    assert_eq!(
        (n.sample_limit, n.label_limit, n.target_limit),
        (1000, 30, 50)
    );
    assert_eq!(
        n.protocols(),
        [
            ScrapeProtocol::PrometheusText004,
            ScrapeProtocol::OpenMetricsText100
        ]
    );
    assert_eq!(
        n.accept_header(),
        "text/plain;version=0.0.4;q=0.6,application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,*/*;q=0.4"
    );
    assert_eq!(n.basic_auth.as_ref().unwrap().username, "u");
    assert_eq!(n.static_configs[0].labels["env"], "prod");
    assert_eq!(n.file_sd_configs[0].refresh_interval.to_string(), "1m");
    assert_eq!(n.relabel_configs.len(), 1);
    assert_eq!(n.metric_relabel_configs.len(), 1);

    let b = &c.scrape_configs[2];
    // timeout = min(global 10s, interval 5s)
    assert_eq!(b.timeout().to_string(), "5s");
    let auth = b.authorization.as_ref().unwrap();
    assert_eq!(
        (auth.auth_type.as_deref(), auth.credentials.as_deref()),
        (Some("Bearer"), Some("secret"))
    );
    assert!(b.bearer_token.is_none());
}

#[test]
fn global_defaults() {
    let c = Config::from_yaml("scrape_configs: [{job_name: a}]").unwrap();
    assert_eq!(c.scrape_configs[0].interval().to_string(), "1m");
    assert_eq!(c.scrape_configs[0].timeout().to_string(), "10s");
    let c = Config::from_yaml("global: {scrape_interval: 5s}\nscrape_configs: [{job_name: a}]")
        .unwrap();
    assert_eq!(c.scrape_configs[0].timeout().to_string(), "5s");
    let c = Config::from_yaml("global:\nscrape_configs: [{job_name: a, sample_limit: 0}]").unwrap();
    assert_eq!(c.scrape_configs[0].interval().to_string(), "1m");
    let c = Config::from_yaml(
        "global: {sample_limit: 7, body_size_limit: 1KB}\nscrape_configs: [{job_name: a}]",
    )
    .unwrap();
    assert_eq!(
        (
            c.scrape_configs[0].sample_limit,
            c.scrape_configs[0].body_size_limit.bytes()
        ),
        (7, 1024)
    );
    assert!(Config::from_yaml("").unwrap().scrape_configs.is_empty());
}

/// (config, substring expected in the error message)
const BAD: &[(&str, &str)] = &[
    ("scrape_configs:\n  - job_name: a\n    scrape_intervall: 5s\n", "unknown field `scrape_intervall`"),
    ("scrape_configs:\n  - job_name: a\n    scrape_intervall: 5s\n", "line 3 column 5"),
    ("bogus: 1\n", "unknown field `bogus`"),
    ("scrape_configs:\n  - job_name: a\n    scrape_interval: 5x\n", "not a valid duration string"),
    ("scrape_configs:\n  - job_name: a\n    scrape_interval: 5x\n", "line 2"),
    ("scrape_configs:\n  - job_name: a\n    body_size_limit: 10\n", "invalid size"),
    ("scrape_configs:\n  - {job_name: a, scrape_interval: 5s, scrape_timeout: 10s}\n",
     "scrape timeout greater than scrape interval for scrape config with job name \"a\""),
    ("global: {scrape_interval: 5s, scrape_timeout: 6s}\n", "global scrape timeout greater than scrape interval"),
    ("scrape_configs: [{job_name: a}, {job_name: a}]\n", "found multiple scrape configs with job name \"a\""),
    ("scrape_configs: [{job_name: ''}]\n", "job_name is empty"),
    ("scrape_configs: [{job_name: a, scheme: ftp}]\n", "unknown scheme"),
    ("scrape_configs: [{job_name: a, static_configs: [{targets: ['http://x:9100']}]}]\n",
     "\"http://x:9100\" is not a valid hostname"),
    ("scrape_configs: [{job_name: a, scrape_protocols: []}]\n", "scrape_protocols cannot be empty"),
    ("scrape_configs: [{job_name: a, scrape_protocols: [PrometheusText0.0.4, PrometheusText0.0.4]}]\n",
     "duplicated protocol"),
    ("scrape_configs: [{job_name: a, scrape_protocols: [prometheustext0.0.4]}]\n", "unknown variant"),
    ("scrape_configs: [{job_name: a, bearer_token: x, basic_auth: {username: u}}]\n", "at most one of"),
    ("scrape_configs: [{job_name: a, basic_auth: {username: u, password: p, password_file: f}}]\n",
     "password & password_file"),
    ("scrape_configs: [{job_name: a, authorization: {type: Basic, credentials: x}}]\n", "basic_auth"),
    ("scrape_configs: [{job_name: a, tls_config: {cert_file: c}}]\n", "key or key_file"),
    ("scrape_configs: [{job_name: a, kubernetes_sd_configs: [{role: pod}]}]\n", "unknown field `kubernetes_sd_configs`"),
    ("scrape_configs: [{job_name: a, file_sd_configs: [{files: ['x/*.txt']}]}]\n", "not valid for file discovery"),
    ("scrape_configs: [{job_name: a, file_sd_configs: [{files: ['x/*/y.json']}]}]\n", "not valid for file discovery"),
    ("scrape_configs: [{job_name: a, relabel_configs: [{action: hashmod, target_label: x}]}]\n", "modulus"),
    ("scrape_configs: [{job_name: a, relabel_configs: [{action: frobnicate}]}]\n", "unknown relabel action"),
    ("scrape_configs: [{job_name: a, oauth2: {client_id: x}}]\n", "oauth2 is not supported"),
];

#[test]
fn invalid_configs_are_rejected_with_context() {
    for (yaml, want) in BAD {
        let err: ConfigError = match Config::from_yaml(yaml) {
            Ok(_) => panic!("accepted:\n{yaml}"),
            Err(e) => e,
        };
        let msg = err.to_string();
        assert!(
            msg.contains(want),
            "config:\n{yaml}\nerror: {msg}\nwant: {want}"
        );
    }
}

#[test]
fn load_file_resolves_relative_paths_and_scrape_config_files() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("prometheus.yml"),
        "scrape_config_files: ['jobs/*.yml']\nscrape_configs:\n  - job_name: a\n    file_sd_configs: [{files: ['sd/*.json']}]\n    authorization: {credentials_file: tok}\n",
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("jobs")).unwrap();
    std::fs::write(
        dir.path().join("jobs/b.yml"),
        "scrape_configs: [{job_name: b}]\n",
    )
    .unwrap();
    let c = Config::load_file(&dir.path().join("prometheus.yml")).unwrap();
    let names: Vec<_> = c
        .scrape_configs
        .iter()
        .map(|s| s.job_name.as_str())
        .collect();
    assert_eq!(names, ["a", "b"]);
    let a = &c.scrape_configs[0];
    assert_eq!(
        a.file_sd_configs[0].files[0],
        dir.path().join("sd/*.json").to_string_lossy()
    );
    assert_eq!(
        a.authorization
            .as_ref()
            .unwrap()
            .credentials_file
            .as_deref(),
        Some(dir.path().join("tok").as_path())
    );
}

#[test]
fn serialised_config_reparses_to_the_same_jobs_with_secrets_hidden() {
    let c = Config::from_yaml(REAL_WORLD).unwrap();
    let yaml = serde_yaml_ng::to_string(&c).unwrap();
    assert!(!yaml.contains(": secret"), "{yaml}");
    let again = Config::from_yaml(&yaml).unwrap_or_else(|e| panic!("{e}\n{yaml}"));
    assert_eq!(again.scrape_configs[0], c.scrape_configs[0]);
    assert_eq!(again.scrape_configs[1], c.scrape_configs[1]);
    let auth = again.scrape_configs[2].authorization.as_ref().unwrap();
    assert_eq!(auth.credentials.as_deref(), Some("<secret>"));
    assert_eq!(again.global, c.global);
}

/// The `Accept` header per protocol list: Prometheus 3's header (reference §5.2: weights
/// from 0.6 down, `escaping=` on the 1.0.0 formats, `*/*` last), except that
/// `PrometheusProto` is never offered (we cannot parse protobuf), so lists with it give
/// Prometheus's header for the list without it.
#[test]
fn accept_header_per_protocol_list() {
    const OM1: &str = "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8";
    const OM0: &str = "application/openmetrics-text;version=0.0.1";
    const T1: &str = "text/plain;version=1.0.0;escaping=allow-utf-8";
    const T0: &str = "text/plain;version=0.0.4";
    let cases: [(&str, String); 9] = [
        ("", format!("{OM1};q=0.6,{OM0};q=0.5,{T1};q=0.4,{T0};q=0.3,*/*;q=0.2")),
        (
            "scrape_protocols: [PrometheusText0.0.4]",
            format!("{T0};q=0.6,*/*;q=0.5"),
        ),
        (
            "scrape_protocols: [PrometheusText1.0.0, OpenMetricsText0.0.1]",
            format!("{T1};q=0.6,{OM0};q=0.5,*/*;q=0.4"),
        ),
        (
            "scrape_protocols: [OpenMetricsText1.0.0, PrometheusText0.0.4]\n    metric_name_validation_scheme: legacy",
            "application/openmetrics-text;version=1.0.0;escaping=underscores;q=0.6,text/plain;version=0.0.4;q=0.5,*/*;q=0.4".to_string(),
        ),
        (
            "scrape_protocols: [PrometheusText1.0.0]\n    metric_name_validation_scheme: legacy",
            "text/plain;version=1.0.0;escaping=underscores;q=0.6,*/*;q=0.5".to_string(),
        ),
        // Protobuf is accepted in the list but not offered.
        (
            "scrape_protocols: [PrometheusProto, PrometheusText0.0.4]",
            format!("{T0};q=0.6,*/*;q=0.5"),
        ),
        (
            "scrape_protocols: [OpenMetricsText1.0.0, PrometheusProto, PrometheusText0.0.4]",
            format!("{OM1};q=0.6,{T0};q=0.5,*/*;q=0.4"),
        ),
        ("scrape_protocols: [PrometheusProto]", "*/*;q=0.6".to_string()),
        // Native histograms put protobuf first (Prometheus 3); without it the default remains.
        (
            "scrape_native_histograms: true",
            format!("{OM1};q=0.6,{OM0};q=0.5,{T1};q=0.4,{T0};q=0.3,*/*;q=0.2"),
        ),
    ];
    for (extra, want) in cases {
        let yaml = format!(
            "scrape_configs:\n  - job_name: j\n    {extra}\n    static_configs: [{{targets: ['a:1']}}]\n"
        );
        let c = Config::from_yaml(&yaml).unwrap_or_else(|e| panic!("{extra}: {e}"));
        assert_eq!(c.scrape_configs[0].accept_header(), want, "{extra}");
    }
    let c = Config::from_yaml(
        "scrape_configs:\n  - job_name: j\n    scrape_native_histograms: true\n    static_configs: [{targets: ['a:1']}]\n",
    )
    .unwrap();
    assert_eq!(
        c.scrape_configs[0].protocols(),
        [
            ScrapeProtocol::PrometheusProto,
            ScrapeProtocol::OpenMetricsText100,
            ScrapeProtocol::OpenMetricsText001,
            ScrapeProtocol::PrometheusText100,
            ScrapeProtocol::PrometheusText004,
        ]
    );
}
