//! The promqltest runner: executes Prometheus's `.test` scripts (`load`, `clear`,
//! `eval instant|range`, `expect ...`) against [`crate::storage::MemStorage`] and the engine.
//!
//! The DSL is specified in the conformance README vendored next to the scripts. Like the
//! reference runner, instant evals are also checked in range mode and with `@`-pinned
//! selectors at other times ([`RunOptions::cross_checks`], on by default). Native histogram
//! values are not implemented: evals that need them fail with "native histograms not
//! supported".

mod compare;
mod pin;
mod runner;
mod script;
mod series;

pub use compare::float_eq;
pub use runner::{
    run_script, run_script_with, script_engine_options, EvalOutcome, RunOptions, NATIVE_HISTOGRAMS,
};
pub use script::{
    parse_duration, parse_number, parse_script, Command, EvalCmd, EvalKind, ScriptError, TextMatch,
};
pub use series::{parse_series_line, SeriesValue};
