//! Errors from loading and validating scrape configuration.

use std::path::PathBuf;

/// A rejected configuration. YAML errors carry the line and column of the offending key.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The YAML did not decode (syntax, unknown field, wrong type); the message names the
    /// location as `line L column C`.
    #[error("parsing YAML: {0}")]
    Yaml(#[from] serde_yaml_ng::Error),
    /// A file could not be read.
    #[error("reading {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// `global.scrape_timeout` is larger than `global.scrape_interval`.
    #[error("global scrape timeout greater than scrape interval")]
    GlobalTimeoutTooLarge,
    /// A job's timeout is larger than its interval.
    #[error("scrape timeout greater than scrape interval for scrape config with job name {job:?}")]
    TimeoutTooLarge {
        /// The job.
        job: String,
    },
    /// `job_name` is empty or missing.
    #[error("job_name is empty")]
    EmptyJobName,
    /// Two scrape configs share a job name.
    #[error("found multiple scrape configs with job name {job:?}")]
    DuplicateJob {
        /// The job.
        job: String,
    },
    /// `scheme` is neither `http` nor `https`.
    #[error("unknown scheme {scheme:?} for scrape config with job name {job:?}")]
    BadScheme {
        /// The job.
        job: String,
        /// The scheme.
        scheme: String,
    },
    /// A static target contains `/` while the job has no relabel rules.
    #[error("{target:?} is not a valid hostname")]
    BadTarget {
        /// The target string.
        target: String,
    },
    /// A relabel rule failed validation.
    #[error("job {job:?}: {source}")]
    Relabel {
        /// The job.
        job: String,
        /// The cause.
        source: kagari_model::RelabelConfigError,
    },
    /// Bad `scrape_protocols` / `fallback_scrape_protocol`.
    #[error("{reason}")]
    Protocols {
        /// What is wrong, in Prometheus's words.
        reason: String,
    },
    /// Conflicting or incomplete HTTP client settings.
    #[error("job {job:?}: {reason}")]
    HttpClient {
        /// The job.
        job: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// A feature that is valid in Prometheus but not implemented here.
    #[error("job {job:?}: {feature} is not supported by kagari-scrape")]
    Unsupported {
        /// The job.
        job: String,
        /// The configuration key.
        feature: &'static str,
    },
    /// A `file_sd_configs` pattern is not acceptable.
    #[error("path name {pattern:?} is not valid for file discovery")]
    BadFileSdPattern {
        /// The pattern.
        pattern: String,
    },
    /// A static or SD group label is not a valid label name.
    #[error("{name:?} is not a valid label name")]
    BadLabelName {
        /// The name.
        name: String,
    },
}
