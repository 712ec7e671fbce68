//! The PromQL evaluation engine: instant and range queries over a [`Queryable`].
//!
//! Evaluation is step-wise: the expression is evaluated as an instant query at every step of
//! the range; a subquery evaluates its inner expression once per aligned inner step per query
//! and each outer step slides its window over those points. Raw
//! samples are loaded once per selector for the whole time window the query needs (computed
//! up front), so the storage is asked exactly once per selector.
//!
//! Metric names are removed *late* (Prometheus's `promql-delayed-name-removal`): operations
//! that drop `__name__` only mark samples, and the name (with `__type__` and `__unit__`) is
//! removed when evaluation ends.
//!
//! ```
//! use kagari_model::Labels;
//! use kagari_promql::engine::{Engine, Value};
//! use kagari_promql::parse;
//! use kagari_promql::storage::MemStorage;
//!
//! let mut storage = MemStorage::new();
//! let series = Labels::from_pairs([("__name__", "requests_total"), ("job", "api")]).unwrap();
//! for i in 0..10 {
//!     storage.append(&series, i * 15_000, i as f64 * 30.0).unwrap();
//! }
//! let expr = parse("sum by (job) (rate(requests_total[1m]))").unwrap();
//! let result = Engine::default().instant_query(&storage, &expr, 135_000).unwrap();
//! let Value::Vector(v) = result.value else { panic!("not a vector") };
//! assert_eq!(v[0].metric.to_string(), r#"{job="api"}"#);
//! assert!((v[0].f - 2.0).abs() < 1e-9);
//! ```

mod aggregate;
mod binop;
mod call;
mod error;
mod eval;
pub mod functions;
mod index;
mod info;
mod prepare;
mod range_fn;
mod steps;
mod value;

use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

pub use error::EngineError;
pub use value::{Annotations, FPoint, Matrix, Sample, Series, Value, Vector};

use crate::parser::ast::Expr;
use crate::storage::Queryable;

/// Engine configuration.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// How far back an instant selector looks for a sample (ms). Default 5 minutes.
    pub lookback_delta: i64,
    /// Maximum number of samples a query may load. Default 50 million.
    pub max_samples: usize,
    /// Maximum wall time of one query. Default 2 minutes.
    pub timeout: Option<Duration>,
    /// Step of subqueries written without one (`x[10m:]`), in ms. Default 1 minute.
    pub default_subquery_step: i64,
    /// Enables the experimental aggregations `limitk` and `limit_ratio`.
    pub experimental_aggregations: bool,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            lookback_delta: 5 * 60 * 1000,
            max_samples: 50_000_000,
            timeout: Some(Duration::from_secs(120)),
            default_subquery_step: 60 * 1000,
            experimental_aggregations: false,
        }
    }
}

/// Per-query statistics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryStats {
    /// Raw samples loaded from storage.
    pub samples_loaded: usize,
    /// Series loaded from storage.
    pub series_loaded: usize,
    /// Time spent computing windows and loading data.
    pub prepare_time: Duration,
    /// Time spent evaluating.
    pub eval_time: Duration,
}

/// A successful query's value, annotations and statistics.
#[derive(Debug, Clone)]
pub struct QueryResult {
    /// The result.
    pub value: Value,
    /// Warnings and infos.
    pub annotations: Annotations,
    /// Statistics.
    pub stats: QueryStats,
}

/// When a query runs: one instant, or a range of steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryTime {
    /// An instant query at this time (ms).
    Instant(i64),
    /// A range query from `start` to `end` (inclusive) every `step` ms.
    Range {
        /// First step (ms).
        start: i64,
        /// Last possible step (ms).
        end: i64,
        /// Step (ms), must be positive.
        step: i64,
    },
}

/// The evaluation engine; cheap to share, holds only configuration.
#[derive(Debug, Clone, Default)]
pub struct Engine {
    opts: EngineOptions,
}

impl Engine {
    /// An engine with `opts`.
    pub fn new(opts: EngineOptions) -> Self {
        Engine { opts }
    }

    /// The configuration.
    pub fn options(&self) -> &EngineOptions {
        &self.opts
    }

    /// Runs `expr` at `time` against `storage`. `cancel`, when set to true by another thread,
    /// stops the query at the next check.
    pub fn query(
        &self,
        storage: &dyn Queryable,
        expr: &Expr,
        time: QueryTime,
        cancel: Option<&AtomicBool>,
    ) -> Result<QueryResult, EngineError> {
        let deadline = self.opts.timeout.map(|d| Instant::now() + d);
        let (start, end, step) = match time {
            QueryTime::Instant(t) => (t, t, 0),
            QueryTime::Range { start, end, step } => {
                if step <= 0 {
                    return Err(EngineError::InvalidRange(
                        "zero or negative query resolution step widths are not accepted",
                    ));
                }
                if end < start {
                    return Err(EngineError::InvalidRange(
                        "end timestamp must not be before start time",
                    ));
                }
                (start, end, step)
            }
        };
        let t0 = Instant::now();
        let mut ev = eval::Evaluator::new(&self.opts, start, end, step, deadline, cancel);
        let plan = prepare::windows(expr, &ev);
        let querier = storage.querier(plan.mint, plan.maxt)?;
        ev.load(querier.as_ref(), expr, &plan)?;
        let prepare_time = t0.elapsed();
        let t1 = Instant::now();
        let value = match time {
            QueryTime::Instant(t) => ev.eval_top_instant(expr, t)?,
            QueryTime::Range { .. } => ev.eval_top_range(expr)?,
        };
        let stats = QueryStats {
            samples_loaded: ev.samples_loaded,
            series_loaded: ev.series_loaded,
            prepare_time,
            eval_time: t1.elapsed(),
        };
        Ok(QueryResult {
            value,
            annotations: std::mem::take(&mut ev.annotations),
            stats,
        })
    }

    /// Runs an instant query.
    pub fn instant_query(
        &self,
        storage: &dyn Queryable,
        expr: &Expr,
        t: i64,
    ) -> Result<QueryResult, EngineError> {
        self.query(storage, expr, QueryTime::Instant(t), None)
    }

    /// Runs a range query.
    pub fn range_query(
        &self,
        storage: &dyn Queryable,
        expr: &Expr,
        start: i64,
        end: i64,
        step: i64,
    ) -> Result<QueryResult, EngineError> {
        self.query(storage, expr, QueryTime::Range { start, end, step }, None)
    }
}
