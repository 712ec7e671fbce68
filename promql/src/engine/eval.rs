//! The evaluator: loads selector data once, then evaluates the tree step by step.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use kagari_model::{is_stale, Labels};

use crate::parser::ast::{
    AtModifier, DurationContext, DurationExpr, Expr, MatrixSelector, RangeExtension, UnaryOp,
    VectorSelector,
};
use crate::storage::{Querier, SelectHints, ValueType};

use super::functions::extended;
use super::functions::label::LabelReplace;
use super::index::{DerivedCache, IntMap};
use super::prepare::{info_key, key, Plan};
use super::steps::SubqueryPoints;
use super::value::{Annotations, FPoint, Matrix, Sample, Series, Value, Vector};
use super::{aggregate, binop, call, EngineError, EngineOptions};

/// One loaded series: labels and all samples in the selector's window (stale markers kept).
#[derive(Debug)]
pub(crate) struct LoadedSeries {
    pub(crate) labels: Labels,
    pub(crate) points: Vec<FPoint>,
    /// Whether `points` holds a stale marker (windows must then be filtered).
    pub(crate) has_stale: bool,
}

/// State of one query's evaluation.
pub(crate) struct Evaluator<'a> {
    pub(crate) opts: &'a EngineOptions,
    pub(crate) start: i64,
    pub(crate) end: i64,
    pub(crate) step: i64,
    deadline: Option<Instant>,
    cancel: Option<&'a AtomicBool>,
    loaded: IntMap<usize, Vec<LoadedSeries>>,
    /// Reused by [`Evaluator::for_each_window`] for windows that need stale markers removed.
    window_buf: Vec<FPoint>,
    /// Per-node caches of grouping keys, keyed by node address.
    derived: IntMap<usize, DerivedCache>,
    /// Per range selector (by node address): window positions kept across steps.
    cursors: IntMap<usize, Cursors>,
    /// Compiled `label_replace` rules, by call node address.
    pub(crate) label_rules: IntMap<usize, LabelReplace>,
    /// Evaluated inner steps of subqueries, by node address.
    pub(super) subqueries: IntMap<usize, SubqueryPoints>,
    /// Reused by [`Evaluator::for_each_subquery_window`].
    pub(super) subquery_ranges_buf: Vec<(usize, usize, usize)>,
    pub(crate) annotations: Annotations,
    pub(crate) samples_loaded: usize,
    pub(crate) series_loaded: usize,
    ticks: u32,
}

impl std::fmt::Debug for Evaluator<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Evaluator")
            .field("start", &self.start)
            .field("end", &self.end)
            .finish_non_exhaustive()
    }
}

/// Removes `__name__`, `__type__` and `__unit__`.
pub(crate) fn drop_metric_name(l: &Labels) -> Labels {
    if !l
        .iter()
        .any(|x| matches!(&*x.name, "__name__" | "__type__" | "__unit__"))
    {
        return l.clone();
    }
    let mut b = l.to_builder();
    b.del("__name__").del("__type__").del("__unit__");
    b.build()
}

impl<'a> Evaluator<'a> {
    pub(crate) fn new(
        opts: &'a EngineOptions,
        start: i64,
        end: i64,
        step: i64,
        deadline: Option<Instant>,
        cancel: Option<&'a AtomicBool>,
    ) -> Self {
        Evaluator {
            opts,
            start,
            end,
            step,
            deadline,
            cancel,
            loaded: IntMap::default(),
            window_buf: Vec::new(),
            derived: IntMap::default(),
            cursors: IntMap::default(),
            label_rules: IntMap::default(),
            subqueries: IntMap::default(),
            subquery_ranges_buf: Vec::new(),
            annotations: Annotations::default(),
            samples_loaded: 0,
            series_loaded: 0,
            ticks: 0,
        }
    }

    fn duration_ctx(&self) -> DurationContext {
        DurationContext {
            step_ms: self.step,
            range_ms: self.end - self.start,
        }
    }

    /// A duration in ms (0 if it cannot be evaluated).
    pub(crate) fn duration_ms(&self, d: &DurationExpr) -> i64 {
        d.eval_millis(&self.duration_ctx()).unwrap_or(0)
    }

    /// An optional offset in ms.
    pub(crate) fn offset_ms(&self, d: Option<&DurationExpr>) -> i64 {
        d.map_or(0, |d| self.duration_ms(d))
    }

    /// The time an `@` modifier pins to.
    pub(crate) fn at_time(&self, at: Option<AtModifier>) -> Option<i64> {
        at.map(|a| match a {
            AtModifier::Timestamp(t) => t,
            AtModifier::Start => self.start,
            AtModifier::End => self.end,
        })
    }

    fn check(&mut self, phase: &'static str) -> Result<(), EngineError> {
        self.ticks = self.ticks.wrapping_add(1);
        if self.ticks % 64 != 0 {
            return Ok(());
        }
        if self.cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
            return Err(EngineError::Cancelled { phase });
        }
        if self.deadline.is_some_and(|d| Instant::now() > d) {
            return Err(EngineError::Timeout { phase });
        }
        Ok(())
    }

    /// Loads every selector's samples from `querier`.
    pub(crate) fn load(
        &mut self,
        querier: &dyn Querier,
        _expr: &Expr,
        plan: &Plan<'_>,
    ) -> Result<(), EngineError> {
        for (k, (w, matchers)) in &plan.selectors {
            let hints = SelectHints {
                start: w.mint,
                end: w.maxt,
                step: self.step,
                func: None,
                range: w.range,
            };
            let mut set = querier.select(false, &hints, matchers)?;
            let mut out = Vec::new();
            // Series of one selector usually hold about as many samples as each other: size
            // each buffer like the previous one's to skip the growth reallocations.
            let mut size_hint = 0;
            while let Some(series) = set.next_series() {
                self.check("query preparation")?;
                let mut it = series.iterator(None);
                let mut points = Vec::with_capacity(size_hint);
                let mut vt = it.seek(w.mint);
                if vt == ValueType::Float {
                    let (t, f) = it.at();
                    if t <= w.maxt {
                        points.push(FPoint { t, f });
                        vt = it.next_floats(w.maxt, &mut points);
                    }
                }
                if matches!(vt, ValueType::Histogram | ValueType::FloatHistogram)
                    && it.at_t() <= w.maxt
                {
                    return Err(EngineError::NativeHistogramsNotSupported);
                }
                size_hint = points.len();
                if let Some(e) = it.take_err() {
                    return Err(e.into());
                }
                self.samples_loaded += points.len();
                if self.samples_loaded > self.opts.max_samples {
                    return Err(EngineError::TooManySamples {
                        limit: self.opts.max_samples,
                    });
                }
                self.series_loaded += 1;
                out.push(LoadedSeries {
                    labels: series.labels().clone(),
                    has_stale: points.iter().any(|p| is_stale(p.f)),
                    points,
                });
            }
            if let Some(e) = set.take_err() {
                return Err(e.into());
            }
            self.loaded.insert(*k, out);
        }
        Ok(())
    }

    fn series_of(&self, vs: &VectorSelector) -> &[LoadedSeries] {
        self.loaded.get(&key(vs)).map_or(&[], Vec::as_slice)
    }

    /// The info series of an `info()` call selected at `ts` (lookback and staleness as for
    /// instant selectors); sample timestamps are the raw sample times.
    pub(crate) fn info_series(&self, c: &crate::parser::ast::Call, ts: i64) -> Vector {
        let look = self.opts.lookback_delta;
        let mut out = Vec::new();
        for s in self.loaded.get(&info_key(c)).map_or(&[][..], Vec::as_slice) {
            let idx = s.points.partition_point(|p| p.t <= ts);
            let Some(p) = idx.checked_sub(1).and_then(|i| s.points.get(i)) else {
                continue;
            };
            if p.t <= ts.saturating_sub(look) || is_stale(p.f) {
                continue;
            }
            out.push(Sample {
                metric: s.labels.clone(),
                t: p.t,
                f: p.f,
                drop_name: false,
            });
        }
        out
    }

    /// An instant selector at `ts`; sample timestamps are the raw sample times.
    pub(crate) fn vector_selector(
        &mut self,
        vs: &VectorSelector,
        ts: i64,
    ) -> Result<Vector, EngineError> {
        let ref_t = self
            .at_time(vs.at)
            .unwrap_or(ts)
            .saturating_sub(self.offset_ms(vs.offset.as_ref()));
        let look = self.opts.lookback_delta;
        let mut out = Vec::new();
        if vs.extension == Some(RangeExtension::Smoothed) {
            for s in self.series_of(vs) {
                let pts: Vec<FPoint> = s
                    .points
                    .iter()
                    .filter(|p| !is_stale(p.f))
                    .copied()
                    .collect();
                if let Some(f) = extended::smoothed_value(&pts, ref_t, look, false) {
                    out.push(Sample {
                        metric: s.labels.clone(),
                        t: ts,
                        f,
                        drop_name: false,
                    });
                }
            }
            return Ok(out);
        }
        for s in self.series_of(vs) {
            let idx = s.points.partition_point(|p| p.t <= ref_t);
            let Some(p) = idx.checked_sub(1).and_then(|i| s.points.get(i)) else {
                continue;
            };
            if p.t <= ref_t.saturating_sub(look) || is_stale(p.f) {
                continue;
            }
            out.push(Sample {
                metric: s.labels.clone(),
                t: p.t,
                f: p.f,
                drop_name: false,
            });
        }
        Ok(out)
    }

    /// A range selector at `ts`: the matrix and the window `(start, end]` it covers.
    pub(crate) fn matrix_selector(
        &mut self,
        ms: &MatrixSelector,
        ts: i64,
    ) -> Result<(Matrix, i64, i64), EngineError> {
        self.matrix_selector_ext(ms, ts, true)
    }

    /// A range selector; `counter` chooses counter-aware interpolation for `smoothed`.
    pub(crate) fn matrix_selector_ext(
        &mut self,
        ms: &MatrixSelector,
        ts: i64,
        counter: bool,
    ) -> Result<(Matrix, i64, i64), EngineError> {
        let vs = &ms.vector;
        let ref_t = self
            .at_time(vs.at)
            .unwrap_or(ts)
            .saturating_sub(self.offset_ms(vs.offset.as_ref()));
        let range = self.duration_ms(&ms.range);
        let lo_t = ref_t.saturating_sub(range);
        let mut out = Vec::new();
        if let Some(ext) = vs.extension {
            let look = self.opts.lookback_delta;
            for s in self.series_of(vs) {
                let pts: Vec<FPoint> = s
                    .points
                    .iter()
                    .filter(|p| !is_stale(p.f))
                    .copied()
                    .collect();
                let floats = match ext {
                    RangeExtension::Anchored => extended::anchored(&pts, lo_t, ref_t, look),
                    RangeExtension::Smoothed => {
                        extended::smoothed(&pts, lo_t, ref_t, look, counter)
                    }
                };
                if let Some(floats) = floats {
                    out.push(Series {
                        metric: s.labels.clone(),
                        floats,
                        drop_name: false,
                    });
                }
            }
            return Ok((out, lo_t, ref_t));
        }
        for s in self.series_of(vs) {
            let lo = s.points.partition_point(|p| p.t <= lo_t);
            let hi = s.points.partition_point(|p| p.t <= ref_t);
            let floats: Vec<FPoint> = s
                .points
                .get(lo..hi)
                .unwrap_or(&[])
                .iter()
                .filter(|p| !is_stale(p.f))
                .copied()
                .collect();
            if floats.is_empty() {
                continue;
            }
            out.push(Series {
                metric: s.labels.clone(),
                floats,
                drop_name: false,
            });
        }
        Ok((out, lo_t, ref_t))
    }

    /// The derived-labels cache of the node at address `node`, kept across steps.
    pub(crate) fn derived(&mut self, node: usize) -> &mut DerivedCache {
        self.derived.entry(node).or_default()
    }

    /// The window `(start, end]` a plain range selector covers at `ts`.
    pub(crate) fn window_bounds(&self, ms: &MatrixSelector, ts: i64) -> (i64, i64) {
        let vs = &ms.vector;
        let ref_t = self
            .at_time(vs.at)
            .unwrap_or(ts)
            .saturating_sub(self.offset_ms(vs.offset.as_ref()));
        let lo_t = ref_t.saturating_sub(self.duration_ms(&ms.range));
        (lo_t, ref_t)
    }

    /// Calls `f` with every series' window of the range selector `ms` (without a range
    /// extension) at `ts`, stale markers removed, skipping empty windows; the same windows
    /// [`Evaluator::matrix_selector`] returns, but borrowed instead of copied into a fresh
    /// matrix. Returns the window bounds.
    pub(crate) fn for_each_window(
        &mut self,
        ms: &MatrixSelector,
        ts: i64,
        mut f: impl FnMut(&Labels, &[FPoint]),
    ) -> (i64, i64) {
        let (lo_t, ref_t) = self.window_bounds(ms, ts);
        let k = key(&ms.vector);
        let series = self.loaded.get(&k).map_or(&[][..], Vec::as_slice);
        let cur = self.cursors.entry(k).or_default();
        // Steps usually move forward: then every series' window starts and ends at or after
        // where it did last time, and the cursors only advance.
        let forward =
            cur.pos.len() == series.len() && cur.last.is_some_and(|(l, r)| lo_t >= l && ref_t >= r);
        if !forward {
            cur.pos.clear();
            cur.pos.extend(series.iter().map(|s| {
                let lo = s.points.partition_point(|p| p.t <= lo_t);
                (lo, lo)
            }));
        }
        cur.last = Some((lo_t, ref_t));
        let buf = &mut self.window_buf;
        for (s, pos) in series.iter().zip(cur.pos.iter_mut()) {
            let lo = advance(&s.points, pos.0, lo_t);
            let hi = advance(&s.points, pos.1.max(lo), ref_t);
            *pos = (lo, hi);
            let w = s.points.get(lo..hi).unwrap_or(&[]);
            if s.has_stale {
                buf.clear();
                buf.extend(w.iter().filter(|p| !is_stale(p.f)).copied());
                if !buf.is_empty() {
                    f(&s.labels, buf);
                }
            } else if !w.is_empty() {
                f(&s.labels, w);
            }
        }
        (lo_t, ref_t)
    }

    /// Evaluates a range-vector argument (range selector or subquery, maybe parenthesised).
    pub(crate) fn range_arg(
        &mut self,
        e: &Expr,
        ts: i64,
    ) -> Result<(Matrix, i64, i64), EngineError> {
        match e {
            Expr::MatrixSelector(ms) => self.matrix_selector(ms, ts),
            Expr::Subquery(sq) => self.subquery(sq, ts),
            Expr::Paren(p) => self.range_arg(&p.expr, ts),
            other => match self.eval(other, ts)? {
                Value::Matrix(m) => Ok((m, ts, ts)),
                v => Err(EngineError::Unsupported(format!(
                    "{} as a range vector",
                    v.type_name()
                ))),
            },
        }
    }

    /// Evaluates an expression that must produce a scalar.
    pub(crate) fn scalar_arg(&mut self, e: &Expr, ts: i64) -> Result<f64, EngineError> {
        match self.eval(e, ts)? {
            Value::Scalar { f, .. } => Ok(f),
            v => Err(EngineError::Unsupported(format!(
                "{} where a scalar is expected",
                v.type_name()
            ))),
        }
    }

    /// Evaluates an expression that must produce an instant vector.
    pub(crate) fn vector_arg(&mut self, e: &Expr, ts: i64) -> Result<Vector, EngineError> {
        match self.eval(e, ts)? {
            Value::Vector(v) => Ok(v),
            v => Err(EngineError::Unsupported(format!(
                "{} where an instant vector is expected",
                v.type_name()
            ))),
        }
    }

    /// Evaluates an expression that must produce a string.
    pub(crate) fn string_arg(&mut self, e: &Expr, ts: i64) -> Result<String, EngineError> {
        match self.eval(e, ts)? {
            Value::String { s, .. } => Ok(s),
            v => Err(EngineError::Unsupported(format!(
                "{} where a string is expected",
                v.type_name()
            ))),
        }
    }

    /// Evaluates `expr` as an instant query at `ts`.
    pub(crate) fn eval(&mut self, expr: &Expr, ts: i64) -> Result<Value, EngineError> {
        self.check("expression evaluation")?;
        match expr {
            Expr::Number(n) => Ok(Value::Scalar { t: ts, f: n.value }),
            Expr::String(s) => Ok(Value::String {
                t: ts,
                s: s.value.clone(),
            }),
            Expr::Paren(p) => self.eval(&p.expr, ts),
            Expr::Unary(u) => {
                let v = self.eval(&u.expr, ts)?;
                if u.op == UnaryOp::Pos {
                    return Ok(v);
                }
                match v {
                    Value::Scalar { t, f } => Ok(Value::Scalar { t, f: -f }),
                    Value::Vector(mut vec) => {
                        for s in vec.iter_mut() {
                            s.f = -s.f;
                            s.t = ts;
                            s.drop_name = true;
                        }
                        Ok(Value::Vector(vec))
                    }
                    other => Err(EngineError::Unsupported(format!(
                        "unary minus on {}",
                        other.type_name()
                    ))),
                }
            }
            Expr::VectorSelector(vs) => {
                let mut v = self.vector_selector(vs, ts)?;
                v.iter_mut().for_each(|s| s.t = ts);
                Ok(Value::Vector(v))
            }
            Expr::MatrixSelector(ms) => Ok(Value::Matrix(self.matrix_selector(ms, ts)?.0)),
            Expr::Subquery(sq) => Ok(Value::Matrix(self.subquery(sq, ts)?.0)),
            Expr::Call(c) => call::eval_call(self, c, ts),
            Expr::Aggregate(a) => aggregate::eval_aggregate(self, a, ts),
            Expr::Binary(b) => binop::eval_binary(self, b, ts),
        }
    }

    /// Evaluates an instant query and applies delayed name removal.
    pub(crate) fn eval_top_instant(&mut self, expr: &Expr, ts: i64) -> Result<Value, EngineError> {
        Ok(match self.eval(expr, ts)? {
            Value::Vector(v) => Value::Vector(finalize_vector(v)?),
            Value::Matrix(m) => Value::Matrix(finalize_matrix(m)?),
            other => other,
        })
    }
}

/// The index of the first point after `from` with a timestamp above `t` (`points` sorted,
/// `from` at or before that index): a short linear scan, then a binary search.
fn advance(points: &[FPoint], from: usize, t: i64) -> usize {
    let mut i = from;
    let near = from.saturating_add(8).min(points.len());
    while i < near && points.get(i).is_some_and(|p| p.t <= t) {
        i += 1;
    }
    if i == near {
        i += points
            .get(i..)
            .map_or(0, |rest| rest.partition_point(|p| p.t <= t));
    }
    i
}

/// Per-selector window positions of [`Evaluator::for_each_window`], kept across steps.
#[derive(Debug, Default)]
struct Cursors {
    /// The window bounds of the last call.
    last: Option<(i64, i64)>,
    /// Per loaded series: the window's first and past-the-end point index.
    pos: Vec<(usize, usize)>,
}

/// Applies delayed name removal to a vector and rejects duplicate label sets.
pub(crate) fn finalize_vector(mut v: Vector) -> Result<Vector, EngineError> {
    for s in v.iter_mut() {
        if s.drop_name {
            s.metric = drop_metric_name(&s.metric);
            s.drop_name = false;
        }
    }
    let mut seen = std::collections::HashSet::with_capacity(v.len());
    if !v.iter().all(|s| seen.insert(&s.metric)) {
        return Err(EngineError::DuplicateLabelset);
    }
    Ok(v)
}

/// Applies delayed name removal to a matrix. Series that end up with the same labels are
/// merged when their points do not overlap in time; overlapping ones are an error.
pub(crate) fn finalize_matrix(m: Matrix) -> Result<Matrix, EngineError> {
    let mut index: HashMap<Labels, usize> = HashMap::with_capacity(m.len());
    let mut out: Matrix = Vec::with_capacity(m.len());
    for mut s in m {
        if s.drop_name {
            s.metric = drop_metric_name(&s.metric);
            s.drop_name = false;
        }
        match index.get(&s.metric).and_then(|&i| out.get_mut(i)) {
            Some(existing) => {
                existing.floats.extend(s.floats);
                existing.floats.sort_by_key(|p| p.t);
                if existing
                    .floats
                    .windows(2)
                    .any(|w| matches!(w, [a, b] if a.t == b.t))
                {
                    return Err(EngineError::DuplicateLabelset);
                }
            }
            None => {
                index.insert(s.metric.clone(), out.len());
                out.push(s);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn advance_finds_the_first_point_after_t_from_any_start() {
        let pts: Vec<FPoint> = (0..100).map(|i| FPoint { t: i * 10, f: 0.0 }).collect();
        for t in [-5, 0, 5, 75, 79, 80, 500, 985, 990, 2000] {
            let want = pts.partition_point(|p| p.t <= t);
            for from in [0, want.saturating_sub(3), want.saturating_sub(40), want] {
                assert_eq!(advance(&pts, from.min(want), t), want, "t={t} from={from}");
            }
        }
        assert_eq!(advance(&[], 0, 10), 0);
    }

    /// Range results built with cursors, borrowed windows and cached grouping keys equal the
    /// instant query at every step (including stale markers, gaps, and subqueries that move
    /// the windows backwards).
    #[test]
    fn range_steps_equal_instant_queries() {
        use crate::engine::Engine;
        use crate::storage::MemStorage;
        use kagari_model::STALE_NAN;

        let mut st = MemStorage::new();
        for i in 0..12_i64 {
            let l = Labels::from_pairs([
                ("__name__", if i % 4 == 3 { "gauge" } else { "m_bucket" }),
                ("a", &format!("{}", i % 3)),
                ("le", ["0.1", "1", "+Inf"][(i % 3) as usize]),
                ("i", &format!("{i}")),
            ])
            .unwrap();
            let mut v = 0.0;
            for k in 0..200_i64 {
                if (k + i) % 37 == 0 {
                    continue; // a gap
                }
                v += ((k * 7 + i * 3) % 11) as f64;
                let f = if i % 5 == 1 && k % 50 == 49 {
                    STALE_NAN
                } else if k % 60 == 59 {
                    0.0 // a counter reset
                } else {
                    v
                };
                st.append(&l, k * 15_000 + i * 100, f).unwrap();
            }
        }
        let engine = Engine::default();
        for q in [
            "rate(m_bucket[1m])",
            "rate({__name__=~\".+\"}[2m] offset 30s)",
            "sum by (a) (increase(m_bucket[90s]))",
            "count without (i) (delta(gauge[2m]))",
            "topk(2, rate(m_bucket[1m]))",
            "histogram_quantile(0.9, sum by (le, a) (rate(m_bucket[2m])))",
            "max_over_time(rate(m_bucket[1m])[3m:20s])",
            "min_over_time((time() - avg_over_time(m_bucket[1m:15s] offset 10s))[2m:45s])",
            "sum_over_time(vector(scalar(sum(m_bucket)))[100s:30s])",
            "max_over_time(max_over_time(rate(m_bucket[1m])[2m:10s])[5m:1m])",
            "last_over_time(gauge[1m:10s] @ 600)",
            "rate(gauge[2m:15s] offset -1m)",
            "count_over_time(m_bucket[20s:2m])",
            "absent_over_time(nonexistent[1m:10s]) or absent_over_time(gauge[30s:5s])",
            "quantile_over_time(0.5, sum by (a) (m_bucket)[3m:30s])",
            "avg_over_time(m_bucket[45s]) + on (i, a, le) rate(m_bucket[1m])",
            "label_replace(sum by (a, le) (rate(m_bucket[1m])), \"x\", \"v$1\", \"a\", \"(1|2)\")",
        ] {
            let points = assert_range_equals_instant(
                &engine,
                &st,
                q,
                (60_000, 2_900_000, 35_000),
                |a, b| a == b || (a.is_nan() && b.is_nan()),
            );
            assert!(points > 50, "{q}: only {points} points");
        }
    }

    /// Runs `q` as a range query over `(start, end, step)` and as an instant query at every
    /// step; asserts each instant sample has a range point at that step with `same` values
    /// and that the range has no extra points there. Returns the number of points compared.
    pub(crate) fn assert_range_equals_instant(
        engine: &crate::engine::Engine,
        st: &crate::storage::MemStorage,
        q: &str,
        (start, end, step): (i64, i64, i64),
        same: impl Fn(f64, f64) -> bool,
    ) -> usize {
        use crate::engine::Value;
        let expr = crate::parse(q).unwrap();
        let Value::Matrix(m) = engine
            .range_query(st, &expr, start, end, step)
            .unwrap()
            .value
        else {
            panic!("{q}: not a matrix");
        };
        let mut points = 0;
        let mut ts = start;
        while ts <= end {
            let Value::Vector(v) = engine.instant_query(st, &expr, ts).unwrap().value else {
                panic!("{q}: not a vector");
            };
            for s in &v {
                let series = m.iter().find(|x| x.metric == s.metric).unwrap();
                let p = series.floats.iter().find(|p| p.t == ts).unwrap();
                assert!(same(p.f, s.f), "{q} at {ts}: {} vs {}", p.f, s.f);
                points += 1;
            }
            // No extra points at this step.
            let here = m
                .iter()
                .filter(|x| x.floats.iter().any(|p| p.t == ts))
                .count();
            assert_eq!(here, v.len(), "{q} at {ts}");
            ts += step;
        }
        points
    }
}
