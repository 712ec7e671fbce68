//! Errors: [`ParseError`] (with line and column) and [`ErrorKind`] (the reason).

use std::fmt;

/// Why an exposition was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The input ended in the middle of a line (0.0.4 needs a final LF).
    #[error("unexpected end of input stream")]
    UnexpectedEof,
    /// OpenMetrics input without the final `# EOF` line.
    #[error("missing \"# EOF\" at end of input")]
    MissingEof,
    /// Anything after `# EOF`.
    #[error("text after \"# EOF\"")]
    TextAfterEof,
    /// A line that is not valid UTF-8.
    #[error("invalid UTF-8")]
    InvalidUtf8,
    /// An empty line (OpenMetrics only).
    #[error("blank line")]
    BlankLine,
    /// A metric name is missing or malformed.
    #[error("invalid metric name")]
    InvalidMetricName,
    /// A label name is missing or malformed.
    #[error("invalid label name")]
    InvalidLabelName,
    /// A reserved label name (`__name__`; in OpenMetrics any `__` prefix).
    #[error("label name {0:?} is reserved")]
    ReservedLabelName(String),
    /// The same label name twice in one label set.
    #[error("duplicate label name {0:?}")]
    DuplicateLabelName(String),
    /// Expected a specific character.
    #[error("expected {expected}, found {found}")]
    Expected {
        /// What the grammar wanted here.
        expected: &'static str,
        /// What was there instead (a short rendering).
        found: String,
    },
    /// A label value ran to the end of the line.
    #[error("unterminated label value")]
    UnterminatedLabelValue,
    /// A backslash escape that the format does not know.
    #[error("invalid escape sequence '\\{0}'")]
    InvalidEscape(char),
    /// The sample value is not a float.
    #[error("expected float as value, got {0:?}")]
    InvalidValue(String),
    /// The timestamp is not valid for the format.
    #[error("invalid timestamp {0:?}")]
    InvalidTimestamp(String),
    /// Text after the timestamp (or a trailing blank).
    #[error("unexpected text at end of line: {0:?}")]
    TrailingText(String),
    /// An unknown `# TYPE`.
    #[error("unknown metric type {0:?}")]
    UnknownType(String),
    /// A comment line that OpenMetrics does not allow.
    #[error("invalid comment line (only HELP, TYPE, UNIT and EOF are allowed)")]
    InvalidComment,
    /// A metadata line without the required parts.
    #[error("malformed {0} line")]
    MalformedMetadata(&'static str),
    /// Second HELP/TYPE/UNIT for one family.
    #[error("second {kind} line for metric family {name:?}")]
    DuplicateMetadata {
        /// `HELP`, `TYPE` or `UNIT`.
        kind: &'static str,
        /// The family.
        name: String,
    },
    /// Metadata after the family's samples.
    #[error("{kind} line for {name:?} comes after its samples")]
    MetadataAfterSamples {
        /// `HELP`, `TYPE` or `UNIT`.
        kind: &'static str,
        /// The family.
        name: String,
    },
    /// Two families whose sample names overlap.
    #[error("clashing metric name {0:?}")]
    ClashingName(String),
    /// Samples of one series or family are not contiguous.
    #[error("samples of {0:?} are not grouped together")]
    InvalidGrouping(String),
    /// A series mixes samples with and without timestamps.
    #[error("mix of samples with and without timestamps in one series")]
    MixedTimestamps,
    /// A series whose timestamps go backwards.
    #[error("timestamps went backwards")]
    TimestampsBackwards,
    /// A unit that the family name does not end with, or on a type that has none.
    #[error("invalid unit {unit:?} for metric family {name:?}")]
    InvalidUnit {
        /// The family.
        name: String,
        /// The unit.
        unit: String,
    },
    /// A value that the metric type forbids.
    #[error("invalid value for {0}")]
    InvalidValueForType(&'static str),
    /// A missing or invalid `le`, `quantile` or stateset label.
    #[error("missing or invalid {0:?} label")]
    InvalidTypeLabel(&'static str),
    /// Histogram structure violated.
    #[error("invalid histogram: {0}")]
    InvalidHistogram(&'static str),
    /// An exemplar where none is allowed.
    #[error("exemplars are only allowed on counter _total and histogram _bucket samples")]
    ExemplarNotAllowed,
    /// Exemplar labels longer than 128 code points.
    #[error("exemplar labels are {0} code points long (at most 128)")]
    ExemplarTooLong(usize),
}

/// A rejected exposition: where (1-based line and byte column) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based line number.
    pub line: usize,
    /// 1-based byte column within the line.
    pub column: usize,
    /// The reason.
    pub reason: ErrorKind,
}

impl ParseError {
    pub(crate) fn new(line: usize, column: usize, reason: ErrorKind) -> Self {
        ParseError {
            line,
            column,
            reason,
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.line, self.column, self.reason)
    }
}

impl std::error::Error for ParseError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.reason)
    }
}

/// Why [`encode_families`](crate::encode_families) could not write an exposition.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// The writer failed.
    #[error("writing the exposition failed")]
    Io(#[from] std::io::Error),
    /// Two families would use the same OpenMetrics name, even after renaming.
    #[error("metric name {0:?} clashes in OpenMetrics")]
    ClashingName(String),
    /// A family breaks an OpenMetrics rule even as `unknown` (e.g. a series mixing samples with
    /// and without timestamps).
    #[error("family {family:?} cannot be written as OpenMetrics")]
    NotExpressible {
        /// The family.
        family: String,
        /// What the OpenMetrics parser says about it.
        #[source]
        reason: ParseError,
    },
    /// Text 0.0.4 cannot keep `family` apart from the summary or histogram `captor`, which holds
    /// samples named like `family` too: a parser would merge them.
    #[error("family {family:?} cannot be written as text 0.0.4 next to {captor:?}")]
    NotExpressibleAsText {
        /// The family a parser would file under `captor`.
        family: String,
        /// The summary or histogram family.
        captor: String,
    },
}

/// Renders a short, lossy excerpt of input bytes for error messages.
pub(crate) fn excerpt(bytes: &[u8]) -> String {
    let cut = bytes.get(..bytes.len().min(40)).unwrap_or(bytes);
    String::from_utf8_lossy(cut).into_owned()
}
