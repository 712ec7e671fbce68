//! Rule unit tests in promtool's format (`promtool test rules`): load rule files, fill an
//! in-memory storage from `input_series`, evaluate the groups step by step and check
//! `alert_rule_test` and `promql_expr_test` cases.
//!
//! [`run_test_file`] runs one file and returns its problems as [`UnitTestError`]s whose
//! `Display` is the text promtool 2.42 prints for the same failure, so a front end only has
//! to print them (see `kagari-tool test rules`).
//!
//! Semantics follow Prometheus 3: a test group without `interval` uses
//! `evaluation_interval` (promtool 2.42 loads every input sample at time 0 in that case),
//! and `start_timestamp` and `fuzzy_compare` are accepted.

mod file;
mod glob;
mod report;
mod runner;

pub use report::{AlertDesc, PairList, SampleDesc};
pub use runner::run_test_file;

use crate::rulefmt::RuleFileError;
use crate::rules::RuleError;
use report::{alert_list, format_float_e, go_duration, indent_lines, sample_list};

/// Options of [`run_test_file`].
#[derive(Debug, Clone, Default)]
pub struct UnitTestOptions {
    /// Only test groups whose `name` matches run (promtool 3's `--run`; build it with
    /// [`UnitTestOptions::with_run_patterns`]).
    pub run: Option<regex::Regex>,
}

impl UnitTestOptions {
    /// Options running only the test groups whose whole name matches one of `patterns`
    /// (`^(?:p1|p2)$`, as promtool joins repeated `--run` flags); no patterns runs all.
    pub fn with_run_patterns(patterns: &[String]) -> Result<UnitTestOptions, regex::Error> {
        if patterns.is_empty() {
            return Ok(UnitTestOptions::default());
        }
        let re = regex::Regex::new(&format!("^(?:{})$", patterns.join("|")))?;
        Ok(UnitTestOptions { run: Some(re) })
    }
}

/// What running one test file produced.
#[derive(Debug, Default)]
pub struct FileOutcome {
    /// Warnings printed before the verdict (`  WARNING: no file match pattern …`).
    pub warnings: Vec<String>,
    /// Every failure; empty means the file passed.
    pub errors: Vec<UnitTestError>,
}

impl FileOutcome {
    /// Whether every test of the file passed.
    pub fn passed(&self) -> bool {
        self.errors.is_empty()
    }
}

/// One failure of a test file. `Display` gives promtool's text for it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UnitTestError {
    /// The test file could not be read (`open t.yml: no such file or directory`).
    #[error("{op} {path}: {reason}")]
    Read {
        /// The failing operation, `open` or `read`.
        op: &'static str,
        /// The path as given.
        path: String,
        /// The OS error in Go's wording (`no such file or directory`).
        reason: String,
    },
    /// A rule file could not be read (`rules/x: read rules/x: is a directory`).
    #[error("{path}: {op} {path}: {reason}")]
    RuleFileRead {
        /// The failing operation, `open` or `read`.
        op: &'static str,
        /// The path as resolved.
        path: String,
        /// The OS error in Go's wording.
        reason: String,
    },
    /// The test file is not valid YAML for the format (unknown key, wrong type, bad duration).
    #[error("{message}")]
    Yaml {
        /// The decoder's message.
        message: String,
    },
    /// A `rule_files` glob is malformed (Go's `filepath.ErrBadPattern`).
    #[error("syntax error in pattern")]
    BadGlob {
        /// The pattern.
        pattern: String,
    },
    /// A group appears twice in `group_eval_order`.
    #[error("group name repeated in evaluation order: {0}")]
    RepeatedEvalOrder(String),
    /// A rule file does not load.
    #[error(transparent)]
    RuleFile(Box<RuleFileError>),
    /// A rule group could not be built from its (validated) file.
    #[error(transparent)]
    RuleGroup(RuleError),
    /// An `input_series` entry does not parse.
    #[error("{message}")]
    InputSeries {
        /// The series notation parser's message.
        message: String,
    },
    /// Two input series write the same series at the same time.
    #[error("loading input series: {message}")]
    LoadSeries {
        /// The storage's message.
        message: String,
    },
    /// An `alert_rule_test` item has no `alertname`.
    #[error(
        "an item under alert_rule_test misses required attribute alertname at eval_time {}{}",
        kagari_promql::format_duration(*eval_time_ms),
        test_group.as_deref().map(|g| format!(" (in TestGroup {g})")).unwrap_or_default()
    )]
    MissingAlertname {
        /// The item's `eval_time` (ms).
        eval_time_ms: i64,
        /// The test group's name, when it has one.
        test_group: Option<String>,
    },
    /// A rule failed to evaluate at some step (testing stops there).
    #[error("    rule: {rule}, time: {}, err: {source}", go_duration(*time_ms))]
    RuleEval {
        /// The rule's name.
        rule: String,
        /// Step time relative to the start (ms).
        time_ms: i64,
        /// The evaluation error.
        source: RuleError,
    },
    /// The firing alerts differ from the expected ones.
    #[error(
        "{}    alertname: {alertname}, time: {}, \n        exp:{}, \n        got:{}",
        test_group.as_deref().map(|g| format!("    name: {g},\n")).unwrap_or_default(),
        kagari_promql::format_duration(*eval_time_ms),
        indent_lines(&alert_list(exp), "            "),
        indent_lines(&alert_list(got), "            ")
    )]
    AlertMismatch {
        /// The test group's name, when it has one.
        test_group: Option<String>,
        /// The alert name.
        alertname: String,
        /// `eval_time` (ms).
        eval_time_ms: i64,
        /// Expected alerts, sorted.
        exp: Vec<AlertDesc>,
        /// Firing alerts, sorted.
        got: Vec<AlertDesc>,
    },
    /// A `promql_expr_test` query failed (or an expected label set does not parse).
    #[error(
        "    expr: {}, time: {}, err: {message}",
        kagari_model::quote_go(expr),
        kagari_promql::format_duration(*eval_time_ms)
    )]
    ExprFailed {
        /// The expression.
        expr: String,
        /// `eval_time` (ms).
        eval_time_ms: i64,
        /// What went wrong.
        message: String,
    },
    /// A `promql_expr_test` result differs from the expected samples.
    #[error(
        "    expr: {}, time: {},\n        exp: {}\n        got: {}",
        kagari_model::quote_go(expr),
        kagari_promql::format_duration(*eval_time_ms),
        sample_list(exp),
        sample_list(got)
    )]
    ExprMismatch {
        /// The expression.
        expr: String,
        /// `eval_time` (ms).
        eval_time_ms: i64,
        /// Expected samples, sorted by labels.
        exp: Vec<SampleDesc>,
        /// Result samples, sorted by labels.
        got: Vec<SampleDesc>,
    },
}

/// Go's `strconv.FormatFloat(v, 'E', -1, 64)`, as promtool prints sample values.
pub fn format_value(v: f64) -> String {
    format_float_e(v)
}

#[cfg(test)]
mod tests;
