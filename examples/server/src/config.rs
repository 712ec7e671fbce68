//! Loading `prometheus.yml` (or the embedded self-scrape default) and listing the sections this
//! server accepts but does not implement yet.

use std::path::{Path, PathBuf};

use kagari_scrape::{Config, ConfigError};

/// Why a configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub(crate) enum LoadError {
    /// The file could not be read.
    #[error("reading {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file did not decode or validate.
    #[error("loading {path}: {source}")]
    Invalid {
        /// The file (or `<embedded>`).
        path: PathBuf,
        /// The decoder's complaint (with line and column).
        source: ConfigError,
    },
}

/// A loaded configuration with its source text and the warnings about ignored sections.
#[derive(Debug, Clone)]
pub(crate) struct Loaded {
    /// The decoded configuration.
    pub(crate) config: Config,
    /// The YAML it came from, re-serialised with secrets replaced by `<secret>`.
    pub(crate) yaml: String,
    /// One message per accepted-but-unimplemented section.
    pub(crate) warnings: Vec<String>,
}

/// The embedded configuration used without `--config.file`: scrape this server every 5s.
pub(crate) fn embedded_yaml(self_target: &str, metrics_path: &str) -> String {
    let path = if metrics_path == "/metrics" {
        String::new()
    } else {
        format!("    metrics_path: '{metrics_path}'\n")
    };
    format!(
        "# Embedded default configuration of the kagari server.\n\
         global:\n  scrape_interval: 5s\n  evaluation_interval: 5s\n\
         scrape_configs:\n  - job_name: prometheus\n{path}    static_configs:\n      - targets: ['{self_target}']\n"
    )
}

/// Decodes the embedded configuration.
pub(crate) fn load_embedded(self_target: &str, metrics_path: &str) -> Result<Loaded, LoadError> {
    let yaml = embedded_yaml(self_target, metrics_path);
    let config = Config::from_yaml(&yaml).map_err(|source| LoadError::Invalid {
        path: PathBuf::from("<embedded>"),
        source,
    })?;
    Ok(finish(config, yaml))
}

/// Reads and decodes a configuration file (including its `scrape_config_files`).
pub(crate) fn load_file(path: &Path) -> Result<Loaded, LoadError> {
    let yaml = std::fs::read_to_string(path).map_err(|source| LoadError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let config = Config::load_file(path).map_err(|source| LoadError::Invalid {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(finish(config, yaml))
}

fn finish(config: Config, yaml: String) -> Loaded {
    let warnings = unimplemented_sections(&config);
    for w in &warnings {
        tracing::warn!("{w}");
    }
    Loaded {
        config,
        yaml: masked_yaml(&yaml),
        warnings,
    }
}

/// Keys whose values are secrets (Prometheus's `config.Secret` fields).
const SECRET_KEYS: [&str; 6] = [
    "password",
    "credentials",
    "bearer_token",
    "client_secret",
    "secret_key",
    "key",
];

fn mask(v: &mut serde_yaml_ng::Value) {
    match v {
        serde_yaml_ng::Value::Mapping(m) => {
            for (k, val) in m.iter_mut() {
                let secret = k.as_str().is_some_and(|k| SECRET_KEYS.contains(&k));
                if secret && !val.is_null() {
                    *val = serde_yaml_ng::Value::String("<secret>".into());
                } else {
                    mask(val);
                }
            }
        }
        serde_yaml_ng::Value::Sequence(s) => s.iter_mut().for_each(mask),
        serde_yaml_ng::Value::Tagged(t) => mask(&mut t.value),
        _ => {}
    }
}

/// The configuration text for `/api/v1/status/config`: secrets replaced by `<secret>`
/// (comments are lost in the re-serialisation). Never returns the unmasked text.
pub(crate) fn masked_yaml(yaml: &str) -> String {
    let Ok(mut v) = serde_yaml_ng::from_str::<serde_yaml_ng::Value>(yaml) else {
        return String::new();
    };
    mask(&mut v);
    serde_yaml_ng::to_string(&v).unwrap_or_default()
}

/// Messages for every section present in `cfg` that this server accepts but ignores.
pub(crate) fn unimplemented_sections(cfg: &Config) -> Vec<String> {
    let mut out = Vec::new();
    let mut note = |section: &str| {
        out.push(format!(
            "configuration section {section:?} is accepted but not implemented yet by kagari; it is ignored"
        ));
    };
    let raw = [
        ("remote_write", &cfg.remote_write),
        ("remote_read", &cfg.remote_read),
        ("runtime", &cfg.runtime),
        ("storage", &cfg.storage),
        ("otlp", &cfg.otlp),
        ("tracing", &cfg.tracing),
    ];
    for (name, v) in raw {
        if v.as_ref().is_some_and(|v| !v.is_null()) {
            note(name);
        }
    }
    if cfg.global.query_log_file.is_some() {
        note("global.query_log_file");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_config_scrapes_itself_every_5s() {
        let l = load_embedded("localhost:9090", "/metrics").unwrap();
        assert_eq!(l.config.scrape_configs.len(), 1);
        let sc = &l.config.scrape_configs[0];
        assert_eq!(sc.job_name, "prometheus");
        assert_eq!(sc.interval().to_string(), "5s");
        assert!(l.warnings.is_empty());
    }

    #[test]
    fn unimplemented_sections_are_listed() {
        let cfg = Config::from_yaml(
            "rule_files: [a.yml]\nalerting: {alertmanagers: []}\nremote_write: [{url: 'http://x'}]\n",
        )
        .unwrap();
        let w = unimplemented_sections(&cfg);
        assert_eq!(w.len(), 1, "rule_files and alerting are implemented: {w:?}");
        assert!(w[0].contains("remote_write"));
    }

    #[test]
    fn secrets_are_masked() {
        let y = masked_yaml(
            "scrape_configs:\n  - job_name: x\n    basic_auth: {username: u, password: hunter2}\n    \
             authorization: {credentials: tok}\n    tls_config: {key: PEM, cert: C}\n",
        );
        assert!(
            !y.contains("hunter2") && !y.contains("tok") && !y.contains("PEM"),
            "{y}"
        );
        assert!(y.contains("username: u") && y.contains("cert: C"), "{y}");
        assert_eq!(y.matches("<secret>").count(), 3, "{y}");
    }

    #[test]
    fn bad_file_is_an_error_with_position() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("p.yml");
        std::fs::write(&p, "scrape_configs:\n  - job_name: x\n    bogus: 1\n").unwrap();
        let err = load_file(&p).unwrap_err().to_string();
        assert!(err.contains("bogus"), "{err}");
        let err = load_file(&dir.path().join("missing.yml")).unwrap_err();
        assert!(matches!(err, LoadError::Read { .. }));
    }
}
