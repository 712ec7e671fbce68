//! Command-line flags, with Prometheus's names and defaults.

use std::path::PathBuf;

use clap::Parser;
use kagari_scrape::{ByteSize, PromDuration};

/// The `kagari` command line.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "kagari",
    version,
    about = "The Kagari server: a Prometheus-compatible monitoring server."
)]
pub(crate) struct Flags {
    /// Prometheus configuration file path. Without it, an embedded configuration that
    /// scrapes this server every 5s is used.
    #[arg(long = "config.file")]
    pub(crate) config_file: Option<PathBuf>,

    /// Base path for metrics storage.
    #[arg(long = "storage.tsdb.path", default_value = "data/")]
    pub(crate) storage_path: PathBuf,

    /// How long to retain samples in storage (default 15d).
    #[arg(long = "storage.tsdb.retention.time")]
    pub(crate) retention_time: Option<PromDuration>,

    /// Maximum number of bytes blocks may use (0 = off), units B, KB, MB, GB, TB, PB, EB.
    #[arg(long = "storage.tsdb.retention.size", default_value = "0B")]
    pub(crate) retention_size: ByteSize,

    /// Address to listen on for the UI, API and telemetry.
    #[arg(long = "web.listen-address", default_value = "0.0.0.0:9090")]
    pub(crate) listen_address: String,

    /// Path to a configuration file that can enable TLS or authentication (exporter-toolkit
    /// format: `tls_server_config`, `http_server_config`, `basic_auth_users`).
    #[arg(long = "web.config.file")]
    pub(crate) web_config_file: Option<PathBuf>,

    /// The URL under which Prometheus is externally reachable (for example, if it is served
    /// via a reverse proxy). Used for generating relative and absolute links back to the
    /// server itself. If the URL has a path portion, it is used to prefix all HTTP endpoints
    /// served, unless --web.route-prefix says otherwise. Default `http://<hostname>:<port>/`.
    #[arg(long = "web.external-url")]
    pub(crate) external_url: Option<String>,

    /// Prefix for the internal routes of web endpoints. Defaults to the path of
    /// --web.external-url.
    #[arg(long = "web.route-prefix")]
    pub(crate) route_prefix: Option<String>,

    /// Enable shutdown and reload via HTTP request.
    #[arg(long = "web.enable-lifecycle")]
    pub(crate) enable_lifecycle: bool,

    /// Enable API endpoints for admin control actions (none implemented yet).
    #[arg(long = "web.enable-admin-api")]
    pub(crate) enable_admin_api: bool,

    /// Maximum time a query may take before being aborted.
    #[arg(long = "query.timeout", default_value = "2m")]
    pub(crate) query_timeout: PromDuration,

    /// Maximum number of samples a single query can load into memory.
    #[arg(long = "query.max-samples", default_value_t = 50_000_000)]
    pub(crate) query_max_samples: usize,

    /// Maximum number of queries executed concurrently.
    #[arg(long = "query.max-concurrency", default_value_t = 20)]
    pub(crate) query_max_concurrency: usize,

    /// The maximum lookback duration for retrieving metrics during expression evaluations.
    #[arg(long = "query.lookback-delta", default_value = "5m")]
    pub(crate) query_lookback_delta: PromDuration,

    /// Comma-separated feature names to enable (repeatable), as Prometheus's
    /// `--enable-feature`; `promql-duration-expr` allows `foo[5m+1m]` and `offset (1h*2)`.
    #[arg(long = "enable-feature", action = clap::ArgAction::Append)]
    pub(crate) enable_feature: Vec<String>,

    /// Only log messages with the given severity or above.
    #[arg(long = "log.level", default_value = "info", value_parser = ["debug", "info", "warn", "error"])]
    pub(crate) log_level: String,

    /// Rule evaluation and notifier flags.
    #[command(flatten)]
    pub(crate) rules: crate::rules::RulesFlags,
}

/// Prometheus's canonical duration text (`15d`, `1m30s`).
pub(crate) fn fmt_duration(d: PromDuration) -> String {
    kagari_promql::format_duration(i64::try_from(d.as_duration().as_millis()).unwrap_or(i64::MAX))
}

/// Default retention when neither time nor size is given: 15 days.
const DEFAULT_RETENTION: PromDuration = PromDuration::from_secs(15 * 24 * 3600);

impl Flags {
    /// The effective retention time.
    pub(crate) fn retention(&self) -> PromDuration {
        self.retention_time.unwrap_or(DEFAULT_RETENTION)
    }

    /// Flag name → value as strings, for `/api/v1/status/flags`.
    pub(crate) fn as_map(&self) -> Vec<(&'static str, String)> {
        let path = |p: &Option<PathBuf>| p.as_ref().map(|p| p.display().to_string());
        vec![
            ("config.file", path(&self.config_file).unwrap_or_default()),
            ("enable-feature", self.enable_feature.join(",")),
            ("log.level", self.log_level.clone()),
            (
                "query.lookback-delta",
                fmt_duration(self.query_lookback_delta),
            ),
            (
                "query.max-concurrency",
                self.query_max_concurrency.to_string(),
            ),
            ("query.max-samples", self.query_max_samples.to_string()),
            ("query.timeout", fmt_duration(self.query_timeout)),
            ("storage.tsdb.path", self.storage_path.display().to_string()),
            (
                "storage.tsdb.retention.size",
                self.retention_size.bytes().to_string() + "B",
            ),
            (
                "storage.tsdb.retention.time",
                fmt_duration(self.retention()),
            ),
            (
                "web.config.file",
                path(&self.web_config_file).unwrap_or_default(),
            ),
            ("web.enable-admin-api", self.enable_admin_api.to_string()),
            ("web.enable-lifecycle", self.enable_lifecycle.to_string()),
            (
                "web.external-url",
                self.external_url.clone().unwrap_or_default(),
            ),
            ("web.listen-address", self.listen_address.clone()),
            (
                "web.route-prefix",
                self.route_prefix.clone().unwrap_or_default(),
            ),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_prometheus() {
        let f = Flags::try_parse_from(["kagari"]).unwrap();
        assert_eq!(f.listen_address, "0.0.0.0:9090");
        assert_eq!(f.storage_path, PathBuf::from("data/"));
        assert_eq!(fmt_duration(f.query_timeout), "2m");
        assert_eq!(fmt_duration(f.query_lookback_delta), "5m");
        assert_eq!(fmt_duration(f.retention()), "15d");
        assert!(!f.enable_lifecycle);
    }

    #[test]
    fn dotted_flag_names_parse() {
        let f = Flags::try_parse_from([
            "kagari",
            "--config.file=/x.yml",
            "--web.listen-address",
            "127.0.0.1:1",
            "--storage.tsdb.retention.time=1d",
            "--web.enable-lifecycle",
            "--query.max-samples=10",
        ])
        .unwrap();
        assert_eq!(f.config_file, Some(PathBuf::from("/x.yml")));
        assert_eq!(f.listen_address, "127.0.0.1:1");
        assert_eq!(fmt_duration(f.retention()), "1d");
        assert!(f.enable_lifecycle);
        assert_eq!(f.query_max_samples, 10);
        let map = f.as_map();
        assert!(map.contains(&("query.max-samples", "10".to_string())));
        assert!(Flags::try_parse_from(["kagari", "--query.timeout=abc"]).is_err());
        assert!(Flags::try_parse_from(["kagari", "--log.level=loud"]).is_err());
    }
}
