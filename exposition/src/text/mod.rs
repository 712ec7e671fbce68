//! Prometheus text format 0.0.4.

pub(crate) mod parse;
