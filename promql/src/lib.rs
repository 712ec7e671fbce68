//! PromQL parser and engine (not built yet).

pub mod engine;
pub mod storage;
