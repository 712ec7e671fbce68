//! The `alerting:` section of `prometheus.yml`: `alert_relabel_configs` and `alertmanagers`
//! (static targets, `scheme`, `path_prefix`, `timeout`, `api_version`, relabeling).
//!
//! Decoded strictly: unknown keys are errors. HTTP client settings (auth, TLS, proxy) and
//! service discovery other than `static_configs` are accepted and reported as warnings,
//! since this notifier does not implement them yet.

use std::collections::BTreeMap;

use kagari_model::{relabel, Labels, RelabelConfig};
use serde::Deserialize;

/// Why the `alerting:` section is invalid.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The YAML does not decode (unknown key, wrong type).
    #[error("alerting: {0}")]
    Yaml(String),
    /// A duration does not parse.
    #[error("alerting.alertmanagers[{index}]: not a valid duration string: {value:?}")]
    Duration {
        /// Index of the Alertmanager set.
        index: usize,
        /// The text.
        value: String,
    },
    /// `api_version` is not `v2`.
    #[error("alerting.alertmanagers[{index}]: unsupported api_version {value:?} (only v2)")]
    ApiVersion {
        /// Index of the Alertmanager set.
        index: usize,
        /// The value.
        value: String,
    },
    /// `scheme` is neither `http` nor `https`.
    #[error("alerting.alertmanagers[{index}]: unsupported scheme {value:?}")]
    Scheme {
        /// Index of the Alertmanager set.
        index: usize,
        /// The value.
        value: String,
    },
    /// A relabel rule is invalid.
    #[error("alerting: {0}")]
    Relabel(#[from] kagari_model::RelabelConfigError),
}

/// One Alertmanager set (`alertmanagers[]` entry).
#[derive(Debug, Clone, PartialEq)]
pub struct AlertmanagerConfig {
    /// `http` (default) or `https`.
    pub scheme: String,
    /// Prefix of the push path (default `/`).
    pub path_prefix: String,
    /// Request timeout (ms). Default 10s.
    pub timeout_ms: i64,
    /// Static targets with their labels.
    pub static_configs: Vec<(Vec<String>, BTreeMap<String, String>)>,
    /// Relabeling of the discovered Alertmanagers (`__address__`, `__scheme__`,
    /// `__alerts_path__`).
    pub relabel_configs: Vec<RelabelConfig>,
    /// Relabeling of alerts sent to this set.
    pub alert_relabel_configs: Vec<RelabelConfig>,
}

/// The decoded `alerting:` section.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NotifierConfig {
    /// Relabeling of every alert before any set.
    pub alert_relabel_configs: Vec<RelabelConfig>,
    /// The Alertmanager sets.
    pub alertmanagers: Vec<AlertmanagerConfig>,
    /// Settings accepted but ignored (one message each).
    pub warnings: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSection {
    #[serde(default)]
    alert_relabel_configs: Option<Vec<RelabelConfig>>,
    #[serde(default)]
    alertmanagers: Option<Vec<RawAm>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStatic {
    #[serde(default)]
    targets: Option<Vec<String>>,
    #[serde(default)]
    labels: Option<BTreeMap<String, String>>,
}

/// Keys of an Alertmanager entry that are accepted but not implemented.
const IGNORED: [&str; 16] = [
    "basic_auth",
    "authorization",
    "oauth2",
    "bearer_token",
    "bearer_token_file",
    "tls_config",
    "proxy_url",
    "no_proxy",
    "proxy_from_environment",
    "proxy_connect_header",
    "follow_redirects",
    "enable_http2",
    "http_headers",
    "sigv4",
    "file_sd_configs",
    "dns_sd_configs",
];

#[derive(Debug, Default, Deserialize)]
struct RawAm {
    #[serde(default)]
    scheme: Option<String>,
    #[serde(default)]
    path_prefix: Option<String>,
    #[serde(default)]
    timeout: Option<String>,
    #[serde(default)]
    api_version: Option<String>,
    #[serde(default)]
    static_configs: Option<Vec<RawStatic>>,
    #[serde(default)]
    relabel_configs: Option<Vec<RelabelConfig>>,
    #[serde(default)]
    alert_relabel_configs: Option<Vec<RelabelConfig>>,
    #[serde(flatten)]
    other: BTreeMap<String, serde_yaml_ng::Value>,
}

impl NotifierConfig {
    /// Decodes the `alerting:` value of a configuration (`None`/null = no Alertmanagers).
    pub fn from_yaml(v: Option<&serde_yaml_ng::Value>) -> Result<NotifierConfig, ConfigError> {
        let Some(v) = v.filter(|v| !v.is_null()) else {
            return Ok(NotifierConfig::default());
        };
        let raw: RawSection =
            serde_yaml_ng::from_value(v.clone()).map_err(|e| ConfigError::Yaml(e.to_string()))?;
        let mut out = NotifierConfig {
            alert_relabel_configs: raw.alert_relabel_configs.unwrap_or_default(),
            ..NotifierConfig::default()
        };
        for r in &out.alert_relabel_configs {
            r.validate()?;
        }
        for (index, am) in raw
            .alertmanagers
            .unwrap_or_default()
            .into_iter()
            .enumerate()
        {
            for key in am.other.keys() {
                if IGNORED.contains(&key.as_str()) {
                    out.warnings.push(format!(
                        "alerting.alertmanagers[{index}].{key} is accepted but not implemented by kagari; it is ignored"
                    ));
                } else {
                    return Err(ConfigError::Yaml(format!(
                        "alertmanagers[{index}]: field {key} not found in type config.plain"
                    )));
                }
            }
            let api = am.api_version.unwrap_or_else(|| "v2".into());
            if api != "v2" {
                return Err(ConfigError::ApiVersion { index, value: api });
            }
            let scheme = am.scheme.unwrap_or_else(|| "http".into());
            if scheme != "http" && scheme != "https" {
                return Err(ConfigError::Scheme {
                    index,
                    value: scheme,
                });
            }
            let timeout_ms = match am.timeout {
                None => 10_000,
                Some(t) => kagari_promql::parse_duration(&t)
                    .map_err(|_| ConfigError::Duration { index, value: t })?,
            };
            let relabel_configs = am.relabel_configs.unwrap_or_default();
            let alert_relabel_configs = am.alert_relabel_configs.unwrap_or_default();
            for r in relabel_configs.iter().chain(&alert_relabel_configs) {
                r.validate()?;
            }
            out.alertmanagers.push(AlertmanagerConfig {
                scheme,
                path_prefix: am.path_prefix.unwrap_or_else(|| "/".into()),
                timeout_ms,
                static_configs: am
                    .static_configs
                    .unwrap_or_default()
                    .into_iter()
                    .map(|s| (s.targets.unwrap_or_default(), s.labels.unwrap_or_default()))
                    .collect(),
                relabel_configs,
                alert_relabel_configs,
            });
        }
        Ok(out)
    }
}

/// The push path under a prefix (upstream `path.Join("/", prefix, "/api/v2/alerts")`).
pub(crate) fn alerts_path(prefix: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for seg in prefix.split('/').chain(["api", "v2", "alerts"]) {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    format!("/{}", parts.join("/"))
}

impl AlertmanagerConfig {
    /// The Alertmanager push URLs of this set: `(active, dropped)` after `relabel_configs`
    /// over `__address__`, `__scheme__`, `__alerts_path__` and the static labels.
    pub fn urls(&self) -> (Vec<String>, Vec<String>) {
        let path = alerts_path(&self.path_prefix);
        let mut active = Vec::new();
        let mut dropped = Vec::new();
        for (targets, labels) in &self.static_configs {
            for t in targets {
                let mut pairs: Vec<(&str, &str)> = labels
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                pairs.push(("__address__", t));
                pairs.push(("__scheme__", &self.scheme));
                pairs.push(("__alerts_path__", &path));
                let Ok(ls) = Labels::from_pairs(pairs) else {
                    continue;
                };
                let url = |l: &Labels| {
                    format!(
                        "{}://{}{}",
                        l.get("__scheme__").unwrap_or("http"),
                        l.get("__address__").unwrap_or(""),
                        l.get("__alerts_path__").unwrap_or(""),
                    )
                };
                match relabel(&ls, &self.relabel_configs) {
                    Some(out) if out.get("__address__").is_some_and(|a| !a.is_empty()) => {
                        active.push(url(&out));
                    }
                    _ => dropped.push(url(&ls)),
                }
            }
        }
        (active, dropped)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(yaml: &str) -> Result<NotifierConfig, ConfigError> {
        let v: serde_yaml_ng::Value = serde_yaml_ng::from_str(yaml).unwrap();
        NotifierConfig::from_yaml(Some(&v))
    }

    #[test]
    fn alertmanager_sets_and_urls() {
        let c = cfg(
            "alert_relabel_configs: [{action: labeldrop, regex: replica}]\n\
             alertmanagers:\n\
             - static_configs: [{targets: ['a:9093', 'b:9093']}]\n\
             \x20 path_prefix: /am/\n\
             \x20 timeout: 3s\n\
             \x20 relabel_configs: [{source_labels: [__address__], regex: 'b:.*', action: drop}]\n\
             - scheme: https\n\
             \x20 static_configs: [{targets: ['c:443']}]\n\
             \x20 tls_config: {insecure_skip_verify: true}\n",
        )
        .unwrap();
        assert_eq!(c.alert_relabel_configs.len(), 1);
        assert_eq!(c.alertmanagers[0].timeout_ms, 3_000);
        assert_eq!(
            c.alertmanagers[0].urls(),
            (
                vec!["http://a:9093/am/api/v2/alerts".to_string()],
                vec!["http://b:9093/am/api/v2/alerts".to_string()]
            )
        );
        assert_eq!(c.alertmanagers[1].urls().0, ["https://c:443/api/v2/alerts"]);
        assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
        assert!(c.warnings[0].contains("tls_config"));
    }

    #[test]
    fn bad_sections_are_errors() {
        assert!(matches!(cfg("bogus: 1\n"), Err(ConfigError::Yaml(_))));
        assert!(matches!(
            cfg("alertmanagers: [{bogus: 1}]\n"),
            Err(ConfigError::Yaml(_))
        ));
        assert!(matches!(
            cfg("alertmanagers: [{api_version: v1}]\n"),
            Err(ConfigError::ApiVersion { .. })
        ));
        assert!(matches!(
            cfg("alertmanagers: [{timeout: ten}]\n"),
            Err(ConfigError::Duration { .. })
        ));
        assert!(matches!(
            cfg("alertmanagers: [{scheme: ftp}]\n"),
            Err(ConfigError::Scheme { .. })
        ));
        assert_eq!(
            NotifierConfig::from_yaml(None).unwrap(),
            NotifierConfig::default()
        );
    }

    #[test]
    fn push_paths_join_like_go() {
        assert_eq!(alerts_path("/"), "/api/v2/alerts");
        assert_eq!(alerts_path(""), "/api/v2/alerts");
        assert_eq!(alerts_path("/x/y/"), "/x/y/api/v2/alerts");
        assert_eq!(alerts_path("x"), "/x/api/v2/alerts");
    }
}
