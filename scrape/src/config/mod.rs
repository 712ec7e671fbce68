//! `prometheus.yml` types for scraping: `global` defaults and `scrape_configs`.
//!
//! - `duration.rs`: [`PromDuration`] and [`ByteSize`];
//! - `http.rs`: inlined HTTP client settings (auth, TLS);
//! - `error.rs`: [`ConfigError`];
//! - `validate.rs`: inheritance from `global` and per-job validation;
//! - `glob.rs`: the restricted file globs of `file_sd_configs` and `scrape_config_files`;
//! - this file: the config structs, their defaults and effective-value accessors.
//!
//! Decoding is strict (unknown keys are errors with line and column). Sections that belong to
//! other crates (`rule_files`, `alerting`, `remote_write`, …) are accepted and kept as raw YAML.

mod duration;
mod error;
mod glob;
mod http;
mod validate;

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use kagari_model::{NameValidationScheme, RelabelConfig};
use serde::{Deserialize, Serialize};

pub use duration::{ByteSize, PromDuration, UnitParseError};
pub use error::ConfigError;
pub(crate) use glob::expand_glob;
pub(crate) use http::read_secret_file;
pub use http::{Authorization, BasicAuth, TlsConfig};

const DEFAULT_INTERVAL: PromDuration = PromDuration::from_secs(60);
const DEFAULT_TIMEOUT: PromDuration = PromDuration::from_secs(10);
const DEFAULT_FILE_SD_REFRESH: PromDuration = PromDuration::from_secs(300);

/// The whole configuration file; only `global` and `scrape_configs` are interpreted here.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Global defaults.
    pub global: GlobalConfig,
    /// The scrape jobs, with defaults filled in after [`Config::from_yaml`].
    pub scrape_configs: Vec<ScrapeConfig>,
    /// Extra files holding `scrape_configs:` (globs; read by [`Config::load_file`]).
    pub scrape_config_files: Vec<String>,
    /// Rule files (interpreted by the rules engine).
    pub rule_files: Vec<String>,
    /// `alerting` (interpreted elsewhere).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alerting: Option<serde_yaml_ng::Value>,
    /// `remote_write` (interpreted elsewhere).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remote_write: Option<serde_yaml_ng::Value>,
    /// `remote_read` (interpreted elsewhere).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remote_read: Option<serde_yaml_ng::Value>,
    /// `runtime` (ignored).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runtime: Option<serde_yaml_ng::Value>,
    /// `storage` (ignored).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage: Option<serde_yaml_ng::Value>,
    /// `otlp` (ignored).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub otlp: Option<serde_yaml_ng::Value>,
    /// `tracing` (ignored).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tracing: Option<serde_yaml_ng::Value>,
}

/// The `global` block.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GlobalConfig {
    /// Default scrape interval (1m).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scrape_interval: Option<PromDuration>,
    /// Default scrape timeout (`min(10s, interval)`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scrape_timeout: Option<PromDuration>,
    /// Rule evaluation interval.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evaluation_interval: Option<PromDuration>,
    /// Default rule query offset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule_query_offset: Option<PromDuration>,
    /// External labels.
    pub external_labels: BTreeMap<String, String>,
    /// Query log path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query_log_file: Option<String>,
    /// Scrape failure log path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scrape_failure_log_file: Option<String>,
    /// Default scrape protocols.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scrape_protocols: Option<Vec<ScrapeProtocol>>,
    /// Default body size limit.
    pub body_size_limit: ByteSize,
    /// Default sample limit.
    pub sample_limit: u64,
    /// Default label count limit.
    pub label_limit: u64,
    /// Default label name length limit.
    pub label_name_length_limit: u64,
    /// Default label value length limit.
    pub label_value_length_limit: u64,
    /// Default target limit.
    pub target_limit: u64,
    /// Default number of dropped targets kept for the API.
    pub keep_dropped_targets: u64,
    /// `utf8` (default) or `legacy`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metric_name_validation_scheme: Option<String>,
    /// Scrape native histograms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scrape_native_histograms: Option<bool>,
    /// Convert classic histograms to NHCB.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub convert_classic_histograms_to_nhcb: Option<bool>,
    /// Keep classic histograms as well.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub always_scrape_classic_histograms: Option<bool>,
    /// Extra report series.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extra_scrape_metrics: Option<bool>,
}

impl GlobalConfig {
    /// The effective global scrape interval.
    pub fn interval(&self) -> PromDuration {
        self.scrape_interval
            .filter(|d| !d.is_zero())
            .unwrap_or(DEFAULT_INTERVAL)
    }

    /// The effective global scrape timeout.
    pub fn timeout(&self) -> PromDuration {
        self.scrape_timeout
            .filter(|d| !d.is_zero())
            .unwrap_or_else(|| DEFAULT_TIMEOUT.min(self.interval()))
    }
}

/// A `scrape_protocols` entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ScrapeProtocol {
    /// Delimited protobuf (parsing not supported: never offered first by us unless asked).
    PrometheusProto,
    /// OpenMetrics 0.0.1.
    #[serde(rename = "OpenMetricsText0.0.1")]
    OpenMetricsText001,
    /// OpenMetrics 1.0.0.
    #[serde(rename = "OpenMetricsText1.0.0")]
    OpenMetricsText100,
    /// Text 0.0.4.
    #[serde(rename = "PrometheusText0.0.4")]
    PrometheusText004,
    /// Text 1.0.0.
    #[serde(rename = "PrometheusText1.0.0")]
    PrometheusText100,
}

impl ScrapeProtocol {
    /// The media type offered in `Accept` (without q-value).
    pub fn media_type(self, escaping: &str) -> String {
        match self {
            ScrapeProtocol::PrometheusProto => {
                "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited".into()
            }
            ScrapeProtocol::OpenMetricsText001 => "application/openmetrics-text;version=0.0.1".into(),
            ScrapeProtocol::OpenMetricsText100 => {
                format!("application/openmetrics-text;version=1.0.0;escaping={escaping}")
            }
            ScrapeProtocol::PrometheusText004 => "text/plain;version=0.0.4".into(),
            ScrapeProtocol::PrometheusText100 => format!("text/plain;version=1.0.0;escaping={escaping}"),
        }
    }

    /// The default list when nothing is configured.
    pub const DEFAULT: [ScrapeProtocol; 4] = [
        ScrapeProtocol::OpenMetricsText100,
        ScrapeProtocol::OpenMetricsText001,
        ScrapeProtocol::PrometheusText100,
        ScrapeProtocol::PrometheusText004,
    ];
}

/// A `static_configs` entry (also the shape of file SD groups).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StaticConfig {
    /// `host:port` strings.
    pub targets: Vec<String>,
    /// Labels applied to every target of the group.
    pub labels: BTreeMap<String, String>,
}

/// A `file_sd_configs` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSdConfig {
    /// File patterns (one `*` allowed, in the last path segment).
    pub files: Vec<String>,
    /// Re-read interval (default 5m).
    #[serde(default = "default_refresh")]
    pub refresh_interval: PromDuration,
}

fn default_refresh() -> PromDuration {
    DEFAULT_FILE_SD_REFRESH
}

/// One `scrape_configs` entry. After [`Config::from_yaml`] every inherited `Option` is `Some`
/// and the accessors return the effective values.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScrapeConfig {
    /// The job name (required, unique).
    pub job_name: String,
    /// Interval (inherits global).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scrape_interval: Option<PromDuration>,
    /// Timeout (inherits `min(global timeout, interval)`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scrape_timeout: Option<PromDuration>,
    /// Accepted protocols in preference order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scrape_protocols: Option<Vec<ScrapeProtocol>>,
    /// Protocol assumed when the Content-Type is missing or unknown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fallback_scrape_protocol: Option<ScrapeProtocol>,
    /// Path (default `/metrics`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics_path: Option<String>,
    /// `http` (default) or `https`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheme: Option<String>,
    /// URL query parameters.
    pub params: BTreeMap<String, Vec<String>>,
    /// Exposed labels win over target labels.
    pub honor_labels: bool,
    /// Use exposed timestamps (default true).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub honor_timestamps: Option<bool>,
    /// Write stale markers for series with explicit timestamps.
    pub track_timestamps_staleness: bool,
    /// Ask for gzip (default true).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable_compression: Option<bool>,
    /// Body size limit (0 = global).
    pub body_size_limit: ByteSize,
    /// Sample limit (0 = global).
    pub sample_limit: u64,
    /// Label count limit (0 = global).
    pub label_limit: u64,
    /// Label name length limit (0 = global).
    pub label_name_length_limit: u64,
    /// Label value length limit (0 = global).
    pub label_value_length_limit: u64,
    /// Target limit (0 = global).
    pub target_limit: u64,
    /// Dropped targets kept for the API (0 = global).
    pub keep_dropped_targets: u64,
    /// `utf8` or `legacy`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metric_name_validation_scheme: Option<String>,
    /// `allow-utf-8`, `underscores`, `dots`, `values`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metric_name_escaping_scheme: Option<String>,
    /// Native histograms (parsed, not scraped: no protobuf support).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scrape_native_histograms: Option<bool>,
    /// NHCB conversion (parsed, ignored).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub convert_classic_histograms_to_nhcb: Option<bool>,
    /// Keep classic histograms (parsed, ignored).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub always_scrape_classic_histograms: Option<bool>,
    /// Extra report series.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extra_scrape_metrics: Option<bool>,
    /// Native histogram bucket limit (parsed, ignored).
    pub native_histogram_bucket_limit: u64,
    /// Native histogram minimum bucket factor (parsed, ignored).
    pub native_histogram_min_bucket_factor: f64,
    /// Scrape failure log path (parsed, ignored).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scrape_failure_log_file: Option<String>,
    /// Basic authentication.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub basic_auth: Option<BasicAuth>,
    /// `Authorization` header.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization: Option<Authorization>,
    /// Deprecated bearer token.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "http::secret"
    )]
    pub bearer_token: Option<String>,
    /// Deprecated bearer token file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bearer_token_file: Option<PathBuf>,
    /// OAuth2 (rejected by validation: not supported).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oauth2: Option<serde_yaml_ng::Value>,
    /// TLS settings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_config: Option<TlsConfig>,
    /// Proxy URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proxy_url: Option<String>,
    /// Hosts that bypass the proxy (parsed, ignored).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_proxy: Option<String>,
    /// Use the environment's proxy settings.
    pub proxy_from_environment: bool,
    /// Proxy CONNECT headers (rejected: not supported).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proxy_connect_header: Option<serde_yaml_ng::Value>,
    /// Follow redirects (default true).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub follow_redirects: Option<bool>,
    /// Allow HTTP/2 (default true).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable_http2: Option<bool>,
    /// Custom headers (rejected: not supported).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_headers: Option<serde_yaml_ng::Value>,
    /// Static target groups.
    pub static_configs: Vec<StaticConfig>,
    /// File SD.
    pub file_sd_configs: Vec<FileSdConfig>,
    /// Target relabeling.
    pub relabel_configs: Vec<RelabelConfig>,
    /// Sample relabeling.
    pub metric_relabel_configs: Vec<RelabelConfig>,
}

impl ScrapeConfig {
    /// Effective interval.
    pub fn interval(&self) -> PromDuration {
        self.scrape_interval.unwrap_or(DEFAULT_INTERVAL)
    }
    /// Effective timeout.
    pub fn timeout(&self) -> PromDuration {
        self.scrape_timeout
            .unwrap_or(DEFAULT_TIMEOUT.min(self.interval()))
    }
    /// Effective metrics path.
    pub fn metrics_path(&self) -> &str {
        self.metrics_path.as_deref().unwrap_or("/metrics")
    }
    /// Effective scheme.
    pub fn scheme(&self) -> &str {
        self.scheme.as_deref().unwrap_or("http")
    }
    /// Effective `honor_timestamps`.
    pub fn honor_timestamps(&self) -> bool {
        self.honor_timestamps.unwrap_or(true)
    }
    /// Effective `enable_compression`.
    pub fn enable_compression(&self) -> bool {
        self.enable_compression.unwrap_or(true)
    }
    /// Effective `follow_redirects`.
    pub fn follow_redirects(&self) -> bool {
        self.follow_redirects.unwrap_or(true)
    }
    /// Effective protocol list.
    pub fn protocols(&self) -> &[ScrapeProtocol] {
        self.scrape_protocols
            .as_deref()
            .unwrap_or(&ScrapeProtocol::DEFAULT)
    }
    /// Effective name validation scheme.
    pub fn name_validation(&self) -> NameValidationScheme {
        match self.metric_name_validation_scheme.as_deref() {
            Some("legacy") => NameValidationScheme::Legacy,
            _ => NameValidationScheme::Utf8,
        }
    }
    /// The `Accept` header built from the protocol list, with q-values as in Prometheus 3.
    ///
    /// `PrometheusProto` is accepted in the list but never offered: protobuf exposition is
    /// not implemented, and offering it would make protobuf-capable exporters (client_golang,
    /// node_exporter) answer in a format every scrape would then fail on. The header is
    /// Prometheus's header for the list without it, so `[PrometheusProto,
    /// PrometheusText0.0.4]` gives `text/plain;version=0.0.4;q=0.6,*/*;q=0.5`.
    ///
    /// ```
    /// let c = kagari_scrape::ScrapeConfig::default();
    /// assert_eq!(c.accept_header(), "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,\
    /// application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,\
    /// text/plain;version=0.0.4;q=0.3,*/*;q=0.2");
    /// ```
    pub fn accept_header(&self) -> String {
        let escaping = match self.name_validation() {
            NameValidationScheme::Legacy => "underscores",
            NameValidationScheme::Utf8 => "allow-utf-8",
        };
        let mut out = String::new();
        let mut weight = 6u32;
        for p in self
            .protocols()
            .iter()
            .filter(|p| **p != ScrapeProtocol::PrometheusProto)
        {
            out.push_str(&p.media_type(escaping));
            out.push_str(&format!(";q=0.{weight},"));
            weight = weight.saturating_sub(1);
        }
        out.push_str(&format!("*/*;q=0.{weight}"));
        out
    }
}

impl Config {
    /// Parses and validates a configuration from YAML text. Relative paths stay relative.
    ///
    /// ```
    /// let c = kagari_scrape::Config::from_yaml("
    /// global: {scrape_interval: 15s}
    /// scrape_configs:
    ///   - job_name: node
    ///     static_configs: [{targets: ['localhost:9100']}]
    /// ").unwrap();
    /// assert_eq!(c.scrape_configs[0].interval().to_string(), "15s");
    /// assert_eq!(c.scrape_configs[0].timeout().to_string(), "10s");
    /// ```
    pub fn from_yaml(text: &str) -> Result<Config, ConfigError> {
        Self::parse(text, None)
    }

    /// Reads, parses and validates a file; relative paths (file SD, secrets, TLS files,
    /// `scrape_config_files`) are resolved against its directory.
    pub fn load_file(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            path: path.into(),
            source,
        })?;
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Self::parse(&text, Some(&dir))
    }

    fn parse(text: &str, dir: Option<&Path>) -> Result<Config, ConfigError> {
        // An empty document is the empty config.
        let mut cfg: Config = if text.trim().is_empty() {
            Config::default()
        } else {
            serde_yaml_ng::from_str(text)?
        };
        if let Some(dir) = dir {
            for pattern in cfg.scrape_config_files.clone() {
                for file in expand_glob(&dir.join(&pattern))? {
                    #[derive(Deserialize)]
                    #[serde(deny_unknown_fields)]
                    struct Extra {
                        #[serde(default)]
                        scrape_configs: Vec<ScrapeConfig>,
                    }
                    let t = std::fs::read_to_string(&file).map_err(|source| ConfigError::Io {
                        path: file.clone(),
                        source,
                    })?;
                    let extra: Extra = serde_yaml_ng::from_str(&t)?;
                    cfg.scrape_configs.extend(extra.scrape_configs);
                }
            }
        }
        cfg.validate(dir)?;
        Ok(cfg)
    }

    fn validate(&mut self, dir: Option<&Path>) -> Result<(), ConfigError> {
        if let (Some(t), i) = (self.global.scrape_timeout, self.global.interval()) {
            if t > i {
                return Err(ConfigError::GlobalTimeoutTooLarge);
            }
        }
        validate::validate_protocols(self.global.scrape_protocols.as_deref())?;
        let mut jobs = HashSet::new();
        for sc in &mut self.scrape_configs {
            sc.inherit_and_validate(&self.global, dir)?;
            if !jobs.insert(sc.job_name.clone()) {
                return Err(ConfigError::DuplicateJob {
                    job: sc.job_name.clone(),
                });
            }
        }
        Ok(())
    }
}

impl FromStr for Config {
    type Err = ConfigError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Config::from_yaml(s)
    }
}
