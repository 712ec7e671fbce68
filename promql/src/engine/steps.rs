//! Evaluation over a grid of steps: subqueries (each inner step evaluated once per query and
//! cached), the top-level range query, and the check of what they hold in memory against
//! `max_samples`.

use kagari_model::Labels;

use crate::parser::ast::{Expr, SubqueryExpr};

use super::eval::{finalize_matrix, Evaluator};
use super::index::MatrixBuilder;
use super::value::{Matrix, Value};
use super::EngineError;

impl Evaluator<'_> {
    /// A subquery at `ts`: the matrix and the window `(start, end]` it covers.
    pub(crate) fn subquery(
        &mut self,
        sq: &SubqueryExpr,
        ts: i64,
    ) -> Result<(Matrix, i64, i64), EngineError> {
        let ref_t = self
            .at_time(sq.at)
            .unwrap_or(ts)
            .saturating_sub(self.offset_ms(sq.offset.as_ref()));
        let range = self.duration_ms(&sq.range);
        let step = match &sq.step {
            Some(d) => self.duration_ms(d),
            None => self.opts.default_subquery_step,
        };
        let step = if step <= 0 {
            self.opts.default_subquery_step.max(1)
        } else {
            step
        };
        let lo_t = ref_t.saturating_sub(range);
        let mut t = step * (lo_t / step);
        if t <= lo_t {
            t = t.saturating_add(step);
        }
        // Inner steps are aligned to absolute multiples of `step`, so the windows of
        // consecutive outer steps share most of them: each inner step is evaluated once per
        // query and kept (up to SUBQUERY_CACHE_LIMIT samples).
        let node = sq as *const SubqueryExpr as usize;
        let mut out = MatrixBuilder::with_points_hint(steps_between(t, ref_t, step));
        let empty = Labels::empty();
        while t <= ref_t {
            if let Some(v) = self.subquery_cache.get(&(node, t)) {
                push_value(&mut out, &empty, v, t)?;
            } else {
                let v = self.eval(&sq.expr, t)?;
                push_value(&mut out, &empty, &v, t)?;
                let n = match &v {
                    Value::Vector(v) => v.len(),
                    _ => 1,
                };
                if self.subquery_cached + n <= SUBQUERY_CACHE_LIMIT {
                    self.subquery_cached += n;
                    self.subquery_cache.insert((node, t), v);
                }
            }
            match t.checked_add(step) {
                Some(n) => t = n,
                None => break,
            }
        }
        let m = out.finish();
        self.check_in_memory(&m)?;
        Ok((m, lo_t, ref_t))
    }

    /// Fails when the samples loaded from storage and the points of `m` (a subquery's matrix
    /// or a range query's result, both held in memory at once) exceed `max_samples`, as
    /// Prometheus counts such points too.
    fn check_in_memory(&self, m: &Matrix) -> Result<(), EngineError> {
        let points: usize = m.iter().map(|s| s.floats.len()).sum();
        if self.samples_loaded.saturating_add(points) > self.opts.max_samples {
            return Err(EngineError::TooManySamples {
                limit: self.opts.max_samples,
            });
        }
        Ok(())
    }

    /// Evaluates a range query into a matrix sorted by labels.
    pub(crate) fn eval_top_range(&mut self, expr: &Expr) -> Result<Value, EngineError> {
        match expr.value_type() {
            crate::parser::ast::ValueType::Matrix => {
                return Err(EngineError::InvalidRangeQueryType("range vector"))
            }
            crate::parser::ast::ValueType::String => {
                return Err(EngineError::InvalidRangeQueryType("string"))
            }
            _ => {}
        }
        let mut out =
            MatrixBuilder::with_points_hint(steps_between(self.start, self.end, self.step));
        let empty = Labels::empty();
        let mut ts = self.start;
        while ts <= self.end {
            match self.eval(expr, ts)? {
                Value::Scalar { f, .. } => out.push(empty.clone(), false, ts, f)?,
                Value::Vector(v) => {
                    for s in v {
                        out.push(s.metric, s.drop_name, ts, s.f)?;
                    }
                }
                other => return Err(EngineError::InvalidRangeQueryType(other.type_name())),
            }
            match ts.checked_add(self.step) {
                Some(n) => ts = n,
                None => break,
            }
        }
        let mut m = finalize_matrix(out.finish())?;
        self.check_in_memory(&m)?;
        m.sort_by(|a, b| a.metric.cmp(&b.metric));
        Ok(Value::Matrix(m))
    }
}

/// Samples of inner subquery steps kept for reuse by later outer steps (~40 bytes each).
const SUBQUERY_CACHE_LIMIT: usize = 4_000_000;

/// The number of steps from `from` to `to` (inclusive) every `step` ms.
fn steps_between(from: i64, to: i64, step: i64) -> usize {
    if to < from || step <= 0 {
        return 1;
    }
    usize::try_from((to - from) / step).map_or(1, |n| n.saturating_add(1))
}

/// Adds one subquery step's value (a scalar or a vector) to `out`.
fn push_value(
    out: &mut MatrixBuilder,
    empty: &Labels,
    v: &Value,
    t: i64,
) -> Result<(), EngineError> {
    match v {
        Value::Scalar { f, .. } => out.push(empty.clone(), false, t, *f),
        Value::Vector(v) => {
            for s in v {
                out.push(s.metric.clone(), s.drop_name, t, s.f)?;
            }
            Ok(())
        }
        other => Err(EngineError::Unsupported(format!(
            "subquery over {}",
            other.type_name()
        ))),
    }
}
