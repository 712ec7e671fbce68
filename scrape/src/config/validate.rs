//! Inheritance from `global` and validation of scrape configs (Prometheus
//! `ScrapeConfig.Validate`, `HTTPClientConfig.Validate`).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::{Authorization, ConfigError, GlobalConfig, ScrapeConfig, ScrapeProtocol};

impl ScrapeConfig {
    /// Fills inherited values from `global` (Prometheus `ScrapeConfig.Validate`) and checks
    /// the job on its own.
    pub(super) fn inherit_and_validate(
        &mut self,
        g: &GlobalConfig,
        dir: Option<&Path>,
    ) -> Result<(), ConfigError> {
        let job = self.job_name.clone();
        if job.is_empty() {
            return Err(ConfigError::EmptyJobName);
        }
        let interval = self
            .scrape_interval
            .filter(|d| !d.is_zero())
            .unwrap_or(g.interval());
        self.scrape_interval = Some(interval);
        match self.scrape_timeout.filter(|d| !d.is_zero()) {
            Some(t) if t > interval => return Err(ConfigError::TimeoutTooLarge { job }),
            Some(t) => self.scrape_timeout = Some(t),
            None => self.scrape_timeout = Some(g.timeout().min(interval)),
        }
        let scheme = self.scheme.get_or_insert_with(|| "http".into());
        if scheme != "http" && scheme != "https" {
            return Err(ConfigError::BadScheme {
                job,
                scheme: scheme.clone(),
            });
        }
        self.metrics_path.get_or_insert_with(|| "/metrics".into());
        macro_rules! inherit {
            ($($f:ident),*) => {$( if is_default(&self.$f) { self.$f = g.$f; } )*};
        }
        inherit!(
            body_size_limit,
            sample_limit,
            label_limit,
            label_name_length_limit,
            label_value_length_limit,
            target_limit,
            keep_dropped_targets
        );
        macro_rules! inherit_opt {
            ($($f:ident),*) => {$( if self.$f.is_none() { self.$f = g.$f.clone(); } )*};
        }
        inherit_opt!(
            metric_name_validation_scheme,
            scrape_native_histograms,
            convert_classic_histograms_to_nhcb,
            always_scrape_classic_histograms,
            extra_scrape_metrics,
            scrape_failure_log_file
        );
        if self.scrape_protocols.is_none() {
            self.scrape_protocols = g.scrape_protocols.clone();
        }
        validate_protocols(self.scrape_protocols.as_deref())?;
        if self.scrape_protocols.is_none() {
            // Prometheus 3 asks for protobuf first when native histograms are scraped.
            let mut list = Vec::with_capacity(ScrapeProtocol::DEFAULT.len() + 1);
            if self.scrape_native_histograms == Some(true) {
                list.push(ScrapeProtocol::PrometheusProto);
            }
            list.extend(ScrapeProtocol::DEFAULT);
            self.scrape_protocols = Some(list);
        }
        self.validate_http(dir)?;
        let scheme = self.name_validation();
        for r in self
            .relabel_configs
            .iter_mut()
            .chain(self.metric_relabel_configs.iter_mut())
        {
            r.name_validation = scheme;
            r.validate().map_err(|source| ConfigError::Relabel {
                job: job.clone(),
                source,
            })?;
        }
        for sc in &self.static_configs {
            for name in sc.labels.keys() {
                if !scheme.is_valid_label_name(name) {
                    return Err(ConfigError::BadLabelName { name: name.clone() });
                }
            }
            if self.relabel_configs.is_empty() {
                if let Some(t) = sc.targets.iter().find(|t| t.contains('/')) {
                    return Err(ConfigError::BadTarget { target: t.clone() });
                }
            }
        }
        for fsd in &mut self.file_sd_configs {
            for pattern in &mut fsd.files {
                validate_file_sd_pattern(pattern)?;
                if let Some(dir) = dir {
                    if Path::new(pattern.as_str()).is_relative() {
                        *pattern = dir.join(&*pattern).to_string_lossy().into_owned();
                    }
                }
            }
        }
        Ok(())
    }

    fn validate_http(&mut self, dir: Option<&Path>) -> Result<(), ConfigError> {
        let job = self.job_name.clone();
        let unsupported = |feature| {
            Err(ConfigError::Unsupported {
                job: job.clone(),
                feature,
            })
        };
        if self.oauth2.is_some() {
            return unsupported("oauth2");
        }
        if self.proxy_connect_header.is_some() {
            return unsupported("proxy_connect_header");
        }
        if self.http_headers.is_some() {
            return unsupported("http_headers");
        }
        let bad = |reason| {
            Err(ConfigError::HttpClient {
                job: job.clone(),
                reason,
            })
        };
        let auths = [
            self.basic_auth.is_some(),
            self.authorization.is_some(),
            self.bearer_token.is_some() || self.bearer_token_file.is_some(),
        ];
        if auths.iter().filter(|a| **a).count() > 1 {
            return bad("at most one of basic_auth, oauth2, bearer_token & bearer_token_file, authorization must be configured");
        }
        if self.bearer_token.is_some() && self.bearer_token_file.is_some() {
            return bad("at most one of bearer_token & bearer_token_file must be configured");
        }
        if let Some(b) = &self.basic_auth {
            if b.password.is_some() && b.password_file.is_some() {
                return bad(
                    "at most one of basic_auth password & password_file must be configured",
                );
            }
            if !b.username.is_empty() && b.username_file.is_some() {
                return bad(
                    "at most one of basic_auth username & username_file must be configured",
                );
            }
        }
        if let Some(a) = &self.authorization {
            if a.credentials.is_some() && a.credentials_file.is_some() {
                return bad("at most one of authorization credentials & credentials_file must be configured");
            }
            if a.auth_type
                .as_deref()
                .is_some_and(|t| t.eq_ignore_ascii_case("basic"))
            {
                return bad(
                    r#"authorization type cannot be set to "basic", use "basic_auth" instead"#,
                );
            }
        }
        // The deprecated spelling becomes `authorization`.
        if self.bearer_token.is_some() || self.bearer_token_file.is_some() {
            self.authorization = Some(Authorization {
                auth_type: Some("Bearer".into()),
                credentials: self.bearer_token.take(),
                credentials_file: self.bearer_token_file.take(),
            });
        }
        if let Some(tls) = &mut self.tls_config {
            if tls.ca.is_some() && tls.ca_file.is_some() {
                return bad("at most one of ca and ca_file must be configured");
            }
            if tls.cert.is_some() && tls.cert_file.is_some() {
                return bad("at most one of cert and cert_file must be configured");
            }
            if tls.key.is_some() && tls.key_file.is_some() {
                return bad("at most one of key and key_file must be configured");
            }
            if (tls.cert.is_some() || tls.cert_file.is_some())
                != (tls.key.is_some() || tls.key_file.is_some())
            {
                return bad("exactly one of key or key_file must be configured when a client certificate is configured");
            }
            if let Some(dir) = dir {
                tls.resolve_paths(dir);
            }
        }
        if let Some(dir) = dir {
            let fix = |p: &mut PathBuf| {
                if p.is_relative() {
                    *p = dir.join(&*p);
                }
            };
            if let Some(b) = &mut self.basic_auth {
                b.password_file.as_mut().map(fix);
                b.username_file.as_mut().map(fix);
            }
            if let Some(a) = &mut self.authorization {
                a.credentials_file.as_mut().map(fix);
            }
        }
        Ok(())
    }
}

fn is_default<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
}

pub(super) fn validate_protocols(p: Option<&[ScrapeProtocol]>) -> Result<(), ConfigError> {
    let Some(p) = p else { return Ok(()) };
    if p.is_empty() {
        return Err(ConfigError::Protocols {
            reason: "scrape_protocols cannot be empty".into(),
        });
    }
    let mut seen = HashSet::new();
    for proto in p {
        if !seen.insert(proto) {
            return Err(ConfigError::Protocols {
                reason: format!("duplicated protocol in scrape_protocols, got {p:?}"),
            });
        }
    }
    Ok(())
}

/// Checks a `file_sd_configs` pattern: `^[^*]*(\*[^/]*)?\.(json|yml|yaml|JSON|YML|YAML)$`.
fn validate_file_sd_pattern(pattern: &str) -> Result<(), ConfigError> {
    let bad = || ConfigError::BadFileSdPattern {
        pattern: pattern.to_string(),
    };
    let ext_ok = [".json", ".yml", ".yaml", ".JSON", ".YML", ".YAML"]
        .iter()
        .any(|e| pattern.ends_with(e));
    if !ext_ok {
        return Err(bad());
    }
    if let Some(star) = pattern.find('*') {
        let after = pattern.get(star + 1..).unwrap_or("");
        if after.contains('*') || after.contains('/') {
            return Err(bad());
        }
    }
    Ok(())
}
