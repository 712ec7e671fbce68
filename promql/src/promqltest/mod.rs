//! The promqltest runner: executes Prometheus's `.test` scripts (`load`, `clear`,
//! `eval instant|range`, `expect ...`) against [`crate::storage::MemStorage`] and the engine.
//!
//! The DSL is specified in the conformance README vendored next to the scripts. Not yet
//! implemented: the reference runner's extra range-mode and `@`-pinning cross-checks of
//! instant evals, native histogram values (evals that need them fail with "native histograms
//! not supported").

mod compare;
mod runner;
mod script;
mod series;

pub use compare::float_eq;
pub use runner::{run_script, script_engine_options, EvalOutcome};
pub use script::{
    parse_duration, parse_number, parse_script, Command, EvalCmd, EvalKind, ScriptError, TextMatch,
};
pub use series::{parse_series_line, SeriesValue};
