//! OpenMetrics 1.0 text format.

pub(crate) mod parse;
pub(crate) mod rules;
