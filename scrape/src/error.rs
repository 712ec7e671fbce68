//! [`ScrapeError`]: why a scrape failed. Its `Display` is the target's `lastError`.

use std::path::PathBuf;

use crate::appender::AppendError;

/// Why a scrape (or building the HTTP client for a job) failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScrapeError {
    /// The HTTP client could not be built (bad CA, certificate, key, proxy).
    #[error("building HTTP client: {reason}")]
    Client {
        /// What was wrong.
        reason: String,
    },
    /// A credentials file could not be read.
    #[error("unable to read {path}: {source}")]
    SecretFile {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Connecting, sending or reading failed (the message includes the cause chain, e.g.
    /// `connection refused`).
    #[error("{}", chain(.0))]
    Http(#[source] reqwest::Error),
    /// The scrape did not finish within `scrape_timeout`.
    #[error("context deadline exceeded")]
    Timeout,
    /// The status was not 200.
    #[error("server returned HTTP status {0}")]
    Status(String),
    /// The (decompressed) body reached `body_size_limit`.
    #[error("body size limit exceeded")]
    BodySizeLimit,
    /// gzip decoding failed.
    #[error("decompressing gzip body: {0}")]
    Gzip(#[source] std::io::Error),
    /// No usable `Content-Type` and no fallback protocol.
    #[error("non-compliant scrape target sending blank Content-Type and no fallback_scrape_protocol specified for target")]
    BlankContentType,
    /// An unsupported `Content-Type` and no fallback protocol.
    #[error("received unsupported Content-Type {0:?} and no fallback_scrape_protocol specified for target")]
    UnsupportedContentType(String),
    /// The protobuf format was selected; it is not implemented.
    #[error("the protobuf exposition format is not supported")]
    ProtobufUnsupported,
    /// The body is not a valid exposition.
    #[error("parse error at {0}")]
    Parse(#[from] kagari_exposition::ParseError),
    /// More samples after metric relabeling than `sample_limit`.
    #[error("sample limit exceeded")]
    SampleLimit,
    /// A series has more labels than `label_limit`.
    #[error("label_limit exceeded (metric: {metric}, number of labels: {count}, limit: {limit})")]
    LabelLimit {
        /// The series.
        metric: String,
        /// Its label count.
        count: usize,
        /// The limit.
        limit: u64,
    },
    /// A label name is longer than `label_name_length_limit`.
    #[error("label_name_length_limit exceeded (metric: {metric}, label name: {name}, length: {len}, limit: {limit})")]
    LabelNameLength {
        /// The series.
        metric: String,
        /// The label name.
        name: String,
        /// Its length.
        len: usize,
        /// The limit.
        limit: u64,
    },
    /// A label value is longer than `label_value_length_limit`.
    #[error("label_value_length_limit exceeded (metric: {metric}, label name: {name}, value: {value:?}, length: {len}, limit: {limit})")]
    LabelValueLength {
        /// The series.
        metric: String,
        /// The label name.
        name: String,
        /// The value.
        value: String,
        /// Its length.
        len: usize,
        /// The limit.
        limit: u64,
    },
    /// No `__name__` after metric relabeling.
    #[error("missing metric name (__name__ label)")]
    MissingMetricName,
    /// A metric or label name invalid under the validation scheme.
    #[error("invalid metric name or label names: {0}")]
    InvalidName(String),
    /// Too many targets in the job.
    #[error("target_limit exceeded (number of targets: {count}, limit: {limit})")]
    TargetLimit {
        /// Active targets.
        count: usize,
        /// The limit.
        limit: u64,
    },
    /// Storage refused the transaction.
    #[error(transparent)]
    Append(#[from] AppendError),
}

/// `error: cause: cause …`, skipping causes whose text is already included.
fn chain(e: &reqwest::Error) -> String {
    let mut out = e.to_string();
    let mut cur: Option<&dyn std::error::Error> = std::error::Error::source(e);
    while let Some(c) = cur {
        let text = c.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        cur = c.source();
    }
    out
}
