//! PromQL parser and engine (not built yet).
