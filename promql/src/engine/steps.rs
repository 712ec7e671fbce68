//! Evaluation over a grid of steps: subqueries (each inner step evaluated once per query into
//! one matrix that outer steps slide their windows over), the top-level range query, and the check of what they hold in memory against
//! `max_samples`.

use kagari_model::Labels;

use crate::parser::ast::{Expr, SubqueryExpr};

use super::eval::{finalize_matrix, Evaluator};
use super::index::MatrixBuilder;
use super::value::{FPoint, Matrix, Series, Value};
use super::EngineError;

/// The inner steps of one subquery evaluated so far in this query: every aligned step from
/// `first` to `last`, as one matrix. Outer steps slide their window over it, as Prometheus
/// evaluates a subquery's inner expression once as a range query over all outer windows.
#[derive(Debug)]
pub(crate) struct SubqueryPoints {
    points: MatrixBuilder,
    step: i64,
    first: i64,
    last: i64,
}

impl SubqueryPoints {
    /// No steps covered yet, starting at `first`.
    fn new(first: i64, step: i64) -> Self {
        SubqueryPoints {
            points: MatrixBuilder::with_points_hint(usize::MAX),
            step,
            first,
            last: first.saturating_sub(step),
        }
    }

    /// Whether the steps `first..` can be had by evaluating only steps after `last`.
    fn extends_to(&self, first: i64, step: i64) -> bool {
        step == self.step && first >= self.first && first <= self.last.saturating_add(step)
    }
}

/// Points before the current window a subquery series keeps at least before they are dropped.
const TRIM_MIN: usize = 256;

/// The window of one series: `(series index, range of its points)`.
type WindowRange = (usize, usize, usize);

impl Evaluator<'_> {
    /// The window `(lo_t, ref_t]` of a subquery at `ts`, its step and its first aligned step.
    pub(crate) fn subquery_window(&self, sq: &SubqueryExpr, ts: i64) -> (i64, i64, i64, i64) {
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
        (lo_t, ref_t, step, t)
    }

    /// Evaluates the inner steps of `sq` the window `(lo_t, ref_t]` at `ts` needs and have
    /// not been evaluated yet in this query, and lists the window of every series with points
    /// in it (into `ranges`). Inner steps are aligned to absolute multiples of the step, so
    /// consecutive outer windows share most of them: each is evaluated once per query, as long
    /// as outer steps move forward (otherwise the subquery starts over at this window).
    fn subquery_ranges(
        &mut self,
        sq: &SubqueryExpr,
        ts: i64,
        ranges: &mut Vec<WindowRange>,
    ) -> Result<(SubqueryPoints, i64, i64), EngineError> {
        let (lo_t, ref_t, step, first) = self.subquery_window(sq, ts);
        let node = sq as *const SubqueryExpr as usize;
        let mut sp = match self.subqueries.remove(&node) {
            Some(sp) if sp.extends_to(first, step) => sp,
            _ => SubqueryPoints::new(first, step),
        };
        let empty = Labels::empty();
        while let Some(t) = sp.last.checked_add(step).filter(|&t| t <= ref_t) {
            let v = self.eval(&sq.expr, t)?;
            push_value(&mut sp.points, &empty, &v, t)?;
            sp.last = t;
        }
        // Outer steps move forward, so points before this window are not needed again (a
        // window starting earlier starts the subquery over): drop them once they are the
        // larger part of a series.
        sp.first = first;
        for s in sp.points.series_mut() {
            let lo = s.floats.partition_point(|p| p.t <= lo_t);
            if lo >= TRIM_MIN && lo * 2 >= s.floats.len() {
                s.floats.drain(..lo);
            }
        }
        ranges.clear();
        let mut points = 0_usize;
        for (i, s) in sp.points.series().iter().enumerate() {
            let lo = s.floats.partition_point(|p| p.t <= lo_t);
            let hi = s.floats.partition_point(|p| p.t <= ref_t);
            if hi > lo {
                points += hi - lo;
                ranges.push((i, lo, hi));
            }
        }
        self.check_in_memory(points)?;
        Ok((sp, lo_t, ref_t))
    }

    /// A subquery at `ts`: the matrix and the window `(start, end]` it covers.
    pub(crate) fn subquery(
        &mut self,
        sq: &SubqueryExpr,
        ts: i64,
    ) -> Result<(Matrix, i64, i64), EngineError> {
        let mut ranges = Vec::new();
        let (sp, lo_t, ref_t) = self.subquery_ranges(sq, ts, &mut ranges)?;
        let series = sp.points.series();
        let m = ranges
            .iter()
            .filter_map(|&(i, lo, hi)| {
                let s = series.get(i)?;
                Some(Series {
                    metric: s.metric.clone(),
                    floats: s.floats.get(lo..hi)?.to_vec(),
                    drop_name: s.drop_name,
                })
            })
            .collect();
        self.subqueries
            .insert(sq as *const SubqueryExpr as usize, sp);
        Ok((m, lo_t, ref_t))
    }

    /// Calls `f` with every series' window of the subquery `sq` at `ts` (skipping empty
    /// windows): the matrix [`Evaluator::subquery`] returns, but borrowed instead of copied.
    /// Returns the window bounds.
    pub(crate) fn for_each_subquery_window(
        &mut self,
        sq: &SubqueryExpr,
        ts: i64,
        mut f: impl FnMut(&Labels, bool, &[FPoint]),
    ) -> Result<(i64, i64), EngineError> {
        let mut ranges = std::mem::take(&mut self.subquery_ranges_buf);
        let res = self.subquery_ranges(sq, ts, &mut ranges);
        let (sp, lo_t, ref_t) = match res {
            Ok(x) => x,
            Err(e) => {
                self.subquery_ranges_buf = ranges;
                return Err(e);
            }
        };
        let series = sp.points.series();
        for &(i, lo, hi) in &ranges {
            if let Some((s, pts)) = series.get(i).and_then(|s| Some((s, s.floats.get(lo..hi)?))) {
                f(&s.metric, s.drop_name, pts);
            }
        }
        self.subqueries
            .insert(sq as *const SubqueryExpr as usize, sp);
        self.subquery_ranges_buf = ranges;
        Ok((lo_t, ref_t))
    }

    /// Fails when the samples loaded from storage and the points of `m` (a subquery's matrix
    /// or a range query's result, both held in memory at once) exceed `max_samples`, as
    /// Prometheus counts such points too.
    fn check_in_memory(&self, points: usize) -> Result<(), EngineError> {
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
        self.check_in_memory(m.iter().map(|s| s.floats.len()).sum())?;
        m.sort_by(|a, b| a.metric.cmp(&b.metric));
        Ok(Value::Matrix(m))
    }
}

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

#[cfg(test)]
mod tests {
    use kagari_model::Labels;

    use crate::engine::eval::tests::assert_range_equals_instant;
    use crate::engine::Engine;
    use crate::storage::MemStorage;

    /// Windows of more than `TRIM_MIN` inner steps, so old points are dropped while the outer
    /// steps advance: every range step still equals the instant query at that time.
    #[test]
    fn long_subquery_windows_equal_instant_queries() {
        let mut st = MemStorage::new();
        for i in 0..3_i64 {
            let l = Labels::from_pairs([("__name__", "m"), ("i", &format!("{i}"))]).unwrap();
            for k in 0..500_i64 {
                let f = ((k * 13 + i * 7) % 29) as f64;
                st.append(&l, k * 15_000 + i * 1_000, f).unwrap();
            }
        }
        let engine = Engine::default();
        for q in [
            "max_over_time(m[10m:1s])",
            "sum_over_time(m[10m:2s])",
            "count_over_time((m > 10)[15m:1s])",
        ] {
            let points = assert_range_equals_instant(
                &engine,
                &st,
                q,
                (300_000, 7_000_000, 97_000),
                |a, b| a == b,
            );
            assert!(points > 100, "{q}: only {points} points");
        }
    }
}
