//! The PromQL evaluation engine.

pub mod functions;
