//! The engine's error type.

use crate::storage::StorageError;

/// Why a query failed. `Display` texts follow Prometheus's messages where scripts compare them.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// The storage failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The query touched native histogram samples, which this engine cannot evaluate yet.
    #[error("native histograms not supported")]
    NativeHistogramsNotSupported,
    /// More samples would be loaded than [`super::EngineOptions::max_samples`] allows.
    #[error("query processing would load too many samples into memory in query execution")]
    TooManySamples {
        /// The configured limit.
        limit: usize,
    },
    /// The deadline passed.
    #[error("query timed out in {phase}")]
    Timeout {
        /// The phase that noticed (`"query preparation"` or `"expression evaluation"`).
        phase: &'static str,
    },
    /// The caller's cancellation flag was set.
    #[error("query was canceled in {phase}")]
    Cancelled {
        /// The phase that noticed.
        phase: &'static str,
    },
    /// Two result series ended up with identical labels.
    #[error("vector cannot contain metrics with the same labelset")]
    DuplicateLabelset,
    /// One-to-one matching found several left-hand matches for one right-hand series.
    #[error("multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)")]
    ManyToOneNotExplicit,
    /// Many-to-one matching produced the same result series twice.
    #[error("multiple matches for labels: grouping labels must ensure unique matches")]
    GroupingNotUnique,
    /// The "one" side of a match had several series for one match group.
    #[error("found duplicate series for the match group {group} on the {side} hand-side of the operation: [{a}, {b}];many-to-many matching not allowed: matching labels must be unique on one side")]
    ManyToMany {
        /// The matching labels, printed.
        group: String,
        /// `"left"` or `"right"`.
        side: &'static str,
        /// One duplicate, printed.
        a: String,
        /// The other duplicate, printed.
        b: String,
    },
    /// A label name argument is not a valid label name.
    #[error("invalid label name {0:?}")]
    InvalidLabelName(String),
    /// A label name argument of a function is not valid, e.g. `label_join`'s destination.
    #[error("invalid {role} label name in {func}(): {name}")]
    InvalidFunctionLabelName {
        /// `"source"` or `"destination"`.
        role: &'static str,
        /// The function.
        func: &'static str,
        /// The name as given.
        name: String,
    },
    /// A regex argument did not compile.
    #[error("invalid regular expression in {func}(): {regex}")]
    InvalidRegex {
        /// The function.
        func: &'static str,
        /// The regex.
        regex: String,
    },
    /// `topk`/`bottomk`/`limitk` got a NaN `k`.
    #[error("Parameter value is NaN")]
    ParameterNaN,
    /// `limit_ratio` got a NaN ratio.
    #[error("Ratio value is NaN")]
    RatioNaN,
    /// A scalar parameter does not fit in an `i64`.
    #[error("Scalar value {0} overflows int64")]
    ScalarOverflow(f64),
    /// A range query over something other than a scalar or instant vector.
    #[error("invalid expression type {0:?} for range query, must be Scalar or instant Vector")]
    InvalidRangeQueryType(&'static str),
    /// A range query with a non-positive step or end before start.
    #[error("invalid range query: {0}")]
    InvalidRange(&'static str),
    /// A language feature the engine does not implement (yet).
    #[error("{0} is not supported by this engine")]
    Unsupported(String),
    /// The query text did not parse.
    #[error("{0}")]
    Parse(String),
}
