//! What the pull parsers yield: [`Entry`] and its borrowed parts.

use std::borrow::Cow;

use crate::lex::LabelSet;
use crate::{MetricType, Timestamp};

/// One parsed line of an exposition, borrowing from the input.
#[derive(Debug, Clone, PartialEq)]
pub enum Entry<'a> {
    /// `# HELP name text` (text unescaped).
    Help {
        /// Metric (0.0.4) or family (OpenMetrics) name.
        name: &'a str,
        /// The help text, unescaped.
        help: Cow<'a, str>,
    },
    /// `# TYPE name type`.
    Type {
        /// Metric (0.0.4) or family (OpenMetrics) name.
        name: &'a str,
        /// The type.
        metric_type: MetricType,
    },
    /// `# UNIT name unit` (OpenMetrics only).
    Unit {
        /// Family name.
        name: &'a str,
        /// The unit (may be empty).
        unit: &'a str,
    },
    /// A free comment (0.0.4 only), without the leading `#`.
    Comment(&'a str),
    /// A sample line.
    Sample(SampleEntry<'a>),
    /// End of input (after `# EOF` in OpenMetrics). Returned again on later calls.
    Eof,
}

/// A sample line.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleEntry<'a> {
    /// The full sample name (with any `_total`, `_bucket`, ... suffix).
    pub name: &'a str,
    /// The labels, escapes decoded lazily.
    pub labels: LabelSet<'a>,
    /// The value.
    pub value: f64,
    /// The timestamp: [`Timestamp::Millis`] in 0.0.4, [`Timestamp::Seconds`] in OpenMetrics.
    pub timestamp: Option<Timestamp>,
    /// The exemplar (OpenMetrics only).
    pub exemplar: Option<ExemplarEntry<'a>>,
}

/// An OpenMetrics exemplar.
#[derive(Debug, Clone, PartialEq)]
pub struct ExemplarEntry<'a> {
    /// The exemplar's labels.
    pub labels: LabelSet<'a>,
    /// The value.
    pub value: f64,
    /// The timestamp in seconds.
    pub timestamp: Option<f64>,
}
