//! Rule evaluation: recording rules, alerting rules with the alert state machine, and
//! groups that evaluate their rules in order at one timestamp.
//!
//! Queries go through any [`Queryable`] with a [`Engine`]; results are
//! written through the small [`Appender`] trait that a [`RuleStore`] hands out, so a later
//! rule of a group sees what an earlier one wrote at the same timestamp.
//!
//! Also here: `for`-state restoration after a restart ([`Group::restore_for_state`]), the
//! sending decisions ([`Group::alerts_to_send`]) and evaluation slots ([`Group::eval_offset_ms`]).
//! The scheduler loop and reloads live in [`crate::manager`], sending in [`crate::notifier`].

mod alerting;
mod group;
mod notify;
mod recording;
mod restore;
mod store;

use kagari_model::{Labels, Timestamp};
use kagari_promql::engine::Engine;
use kagari_promql::engine::EngineError;
use kagari_promql::storage::Queryable;

pub use alerting::{Alert, AlertState, AlertingRule, RESOLVED_RETENTION_MS};
pub use group::{Group, Rule, RuleStatus};
pub use notify::NotifierAlert;
pub use recording::RecordingRule;
pub use store::{MemAppender, RuleStore};

/// Errors an [`Appender`] reports.
pub type AppendError = Box<dyn std::error::Error + Send + Sync>;

/// Writes rule output samples; a rule's samples are guaranteed visible to queries only after
/// [`Appender::commit`].
pub trait Appender {
    /// Adds one float sample.
    fn append(&mut self, labels: &Labels, t: Timestamp, v: f64) -> Result<(), AppendError>;
    /// Makes the appended samples visible.
    fn commit(self: Box<Self>) -> Result<(), AppendError>;
}

/// One output sample of a rule.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleSample {
    /// Series labels.
    pub labels: Labels,
    /// Timestamp (ms).
    pub t: Timestamp,
    /// Value.
    pub v: f64,
}

/// Rule health, as the rules API reports it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Health {
    /// Not evaluated yet.
    #[default]
    Unknown,
    /// Last evaluation succeeded.
    Ok,
    /// Last evaluation failed.
    Err,
}

/// Why a rule evaluation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RuleError {
    /// The query failed.
    #[error(transparent)]
    Query(#[from] EngineError),
    /// The expression gives a string or a range vector.
    #[error("rule result is not a vector or scalar")]
    NotVector,
    /// Two output series of a recording rule have the same labels.
    #[error("vector contains metrics with the same labelset after applying rule labels")]
    DuplicateRecordingLabelset,
    /// Two alert instances have the same labels.
    #[error("vector contains metrics with the same labelset after applying alert labels")]
    DuplicateAlertLabelset,
    /// A recording rule produced more series than the group limit.
    #[error("exceeded limit of {limit} with {n} series")]
    SeriesLimit {
        /// The limit.
        limit: usize,
        /// Series produced.
        n: usize,
    },
    /// An alerting rule has more active alerts than the group limit.
    #[error("exceeded limit of {limit} with {n} alerts")]
    AlertLimit {
        /// The limit.
        limit: usize,
        /// Alerts active.
        n: usize,
    },
    /// A rule expression does not parse (when building a group from unvalidated input).
    #[error("group {group:?}, rule {rule:?}: {source}")]
    Parse {
        /// Group name.
        group: String,
        /// Rule name.
        rule: String,
        /// The parse error.
        #[source]
        source: Box<kagari_promql::ParseError>,
    },
    /// Writing the rule output failed.
    #[error("appending rule output: {0}")]
    Append(AppendError),
}

/// What rules evaluate with: the engine and the external labels/URL templates can see.
#[derive(Debug, Clone, Default)]
pub struct EvalEnv {
    /// The PromQL engine.
    pub engine: Engine,
    /// Global external labels (`$externalLabels`).
    pub external_labels: Labels,
    /// The external URL (`$externalURL`).
    pub external_url: String,
}

/// Runs an instant query and returns a vector (a scalar becomes one label-less sample).
pub(crate) fn query_vector(
    env: &EvalEnv,
    storage: &dyn Queryable,
    expr: &kagari_promql::Expr,
    t: Timestamp,
) -> Result<Vec<(Labels, f64)>, RuleError> {
    let res = env.engine.instant_query(storage, expr, t)?;
    match res.value {
        kagari_promql::engine::Value::Vector(v) => {
            Ok(v.into_iter().map(|s| (s.metric, s.f)).collect())
        }
        kagari_promql::engine::Value::Scalar { f, .. } => Ok(vec![(Labels::empty(), f)]),
        _ => Err(RuleError::NotVector),
    }
}

/// The `query` template function over an engine and a storage.
pub(crate) struct TemplateQuery<'a> {
    pub(crate) env: &'a EvalEnv,
    pub(crate) storage: &'a dyn Queryable,
}

impl crate::template::QueryFn for TemplateQuery<'_> {
    fn query(
        &self,
        query: &str,
        ts_ms: i64,
    ) -> Result<Vec<(Labels, f64)>, Box<dyn std::error::Error + Send + Sync>> {
        let expr = kagari_promql::parse(query)?;
        Ok(query_vector(self.env, self.storage, &expr, ts_ms)?)
    }
}

#[cfg(test)]
mod tests;
