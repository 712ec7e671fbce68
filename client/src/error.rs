//! The client crate's error type.

/// Everything that can go wrong when building, registering, encoding or pushing metrics.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A metric name does not match `[a-zA-Z_:][a-zA-Z0-9_:]*`.
    #[error("invalid metric name {name:?}")]
    InvalidMetricName {
        /// The offending (fully qualified) name.
        name: String,
    },
    /// A label name is invalid, reserved (`__` prefix) or not allowed for this metric type.
    #[error("invalid label name {label:?} for metric {metric:?}: {reason}")]
    InvalidLabelName {
        /// The metric the label was declared on.
        metric: String,
        /// The offending label name.
        label: String,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// The same label name was declared twice on one metric.
    #[error("duplicate label name {label:?} for metric {metric:?}")]
    DuplicateLabelName {
        /// The metric the label was declared on.
        metric: String,
        /// The repeated label name.
        label: String,
    },
    /// A collector with exactly this descriptor is already registered.
    #[error("duplicate metrics collector registration attempted: {name:?} is already registered")]
    AlreadyRegistered {
        /// The fully qualified family name.
        name: String,
    },
    /// A family with this name (or a name one of its samples would produce) is registered with a
    /// different type, help or label names.
    #[error(
        "metric {name:?} is inconsistent with the previously registered {existing:?}: {reason}"
    )]
    InconsistentRegistration {
        /// The family being registered.
        name: String,
        /// The family it clashes with.
        existing: String,
        /// What differs.
        reason: &'static str,
    },
    /// The wrong number of label values was given to a labelled family.
    #[error("inconsistent label cardinality: expected {expected} label values, got {got}")]
    InconsistentCardinality {
        /// Number of label names declared on the family.
        expected: usize,
        /// Number of values passed.
        got: usize,
    },
    /// A typed label set's names differ from the family's declared names.
    #[error("label set names {got:?} do not match the family's label names {expected:?}")]
    LabelNamesMismatch {
        /// The family's declared label names.
        expected: Vec<String>,
        /// The names of the typed label set.
        got: Vec<String>,
    },
    /// Histogram buckets are empty, unsorted, contain NaN, or bucket helper arguments are invalid.
    #[error("invalid buckets: {reason}")]
    InvalidBuckets {
        /// What is wrong with them.
        reason: &'static str,
    },
    /// A summary objective is outside (0, 1) or its error outside [0, 1].
    #[error("invalid summary objective {quantile} (error {error}): {reason}")]
    InvalidObjective {
        /// The target quantile.
        quantile: f64,
        /// Its allowed rank error.
        error: f64,
        /// What is wrong.
        reason: &'static str,
    },
    /// A counter was asked to go down (negative or NaN increment).
    #[error("counter cannot decrease: increment {value} rejected")]
    NegativeIncrement {
        /// The rejected increment.
        value: f64,
    },
    /// Exemplar labels are invalid or longer than OpenMetrics' 128-character limit.
    #[error("invalid exemplar labels: {reason}")]
    InvalidExemplar {
        /// What is wrong.
        reason: &'static str,
    },
    /// Writing the exposition or serving HTTP failed.
    #[error("I/O error while {context}: {source}")]
    Io {
        /// What was being done.
        context: &'static str,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A push was refused before sending: bad job name or grouping key.
    #[error("invalid push request: {reason}: {value:?}")]
    InvalidPush {
        /// What is wrong.
        reason: &'static str,
        /// The offending job or label.
        value: String,
    },
    /// The Pushgateway answered with an unexpected status.
    #[error("unexpected status code {status} from pushgateway at {url}: {body}")]
    PushStatus {
        /// HTTP status code.
        status: u16,
        /// The URL that was requested.
        url: String,
        /// The gateway's response text.
        body: String,
    },
    /// The Pushgateway could not be reached or the transfer failed.
    #[error("error talking to pushgateway at {url}: {source}")]
    PushTransport {
        /// The URL that was requested.
        url: String,
        /// The transport error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
}
