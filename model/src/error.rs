//! The model crate's error type.

/// Everything that can go wrong when building model values from untrusted input.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A label name does not match `[a-zA-Z_][a-zA-Z0-9_]*` (or is not valid UTF-8).
    #[error("invalid label name {name:?}")]
    InvalidLabelName {
        /// The offending name.
        name: String,
    },
    /// A metric name does not match `[a-zA-Z_:][a-zA-Z0-9_:]*`.
    #[error("invalid metric name {name:?}")]
    InvalidMetricName {
        /// The offending name.
        name: String,
    },
    /// The same label name appeared twice in one label set.
    #[error("duplicate label name {name:?}")]
    DuplicateLabelName {
        /// The repeated name.
        name: String,
    },
    /// A regular expression did not compile.
    #[error("invalid regular expression {regex:?}: {reason}")]
    InvalidRegex {
        /// The regex as written by the user.
        regex: String,
        /// Why the regex engine rejected it.
        reason: String,
    },
}
