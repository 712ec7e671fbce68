//! Functions over range vectors: `rate`, `increase`, `delta`, `irate`, `idelta`, `deriv`,
//! `predict_linear`, `resets`, `changes`, the `*_over_time` family and
//! `double_exponential_smoothing`.

use kagari_model::{Labels, METRIC_NAME};

use crate::parser::ast::{Call, Expr, MatrixSelector, SubqueryExpr};
use crate::parser::functions::FunctionId as F;

use super::aggregate::format_float;
use super::call::{arg, unparen};
use super::eval::Evaluator;
use super::functions::{extended, over_time, rate, FPoint};
use super::value::{Matrix, Sample, Value, Vector};
use super::EngineError;

pub(crate) fn range_call(ev: &mut Evaluator<'_>, c: &Call, ts: i64) -> Result<Value, EngineError> {
    let id = c.func.id;
    // The matrix argument is first except for quantile_over_time.
    let (m_idx, scalars): (usize, Vec<usize>) = match id {
        F::QuantileOverTime => (1, vec![0]),
        F::PredictLinear => (0, vec![1]),
        F::DoubleExponentialSmoothing => (0, vec![1, 2]),
        _ => (0, vec![]),
    };
    let mut params = Vec::new();
    for i in scalars {
        params.push(ev.scalar_arg(arg(c, i)?, ts)?);
    }
    let p = |i: usize| params.get(i).copied().unwrap_or(f64::NAN);
    let m_arg = arg(c, m_idx)?;
    let extension = match unparen(m_arg) {
        Expr::MatrixSelector(ms) => ms.vector.extension,
        _ => None,
    };
    let (input, lo, hi) = match (unparen(m_arg), extension) {
        (Expr::MatrixSelector(ms), None) => {
            let (lo, hi) = ev.window_bounds(ms, ts);
            (Input::Selector(ms), lo, hi)
        }
        (Expr::MatrixSelector(ms), Some(_)) => {
            let (m, lo, hi) = ev.matrix_selector_ext(ms, ts, id != F::Delta)?;
            (Input::Matrix(m), lo, hi)
        }
        (Expr::Subquery(sq), _) => {
            let (lo, hi, _, _) = ev.subquery_window(sq, ts);
            (Input::Subquery(sq), lo, hi)
        }
        _ => {
            let (m, lo, hi) = ev.range_arg(m_arg, ts)?;
            (Input::Matrix(m), lo, hi)
        }
    };
    if extension.is_some() && matches!(id, F::Rate | F::Increase | F::Delta) {
        let secs = (id == F::Rate).then_some((hi - lo) as f64 / 1000.0);
        let v = apply(ev, input, ts, false, |_, pts| {
            extended::simple_increase(pts, id != F::Delta, secs)
        })?;
        return Ok(Value::Vector(v));
    }
    // The values of one window, for the kernels that take plain floats; reused across series.
    let mut vals: Vec<f64> = Vec::new();
    let v = match id {
        F::Rate | F::Increase | F::Delta => {
            let counter = id != F::Delta;
            let is_rate = id == F::Rate;
            let mut not_counters: Vec<String> = Vec::new();
            let v = apply(ev, input, ts, false, |metric, pts| {
                if counter && pts.len() >= 2 {
                    // `__name__` sorts first unless a label name starts with an
                    // upper-case letter.
                    let name = match metric.as_slice().first() {
                        Some(l) if &*l.name == METRIC_NAME => &*l.value,
                        _ => metric.metric_name().unwrap_or(""),
                    };
                    let counterish = ["_total", "_sum", "_count", "_bucket"]
                        .iter()
                        .any(|x| name.ends_with(x));
                    if !name.is_empty() && !counterish && !not_counters.iter().any(|n| n == name) {
                        not_counters.push(name.to_string());
                    }
                }
                rate::extrapolated_rate(pts, lo, hi, counter, is_rate)
            })?;
            for name in not_counters {
                ev.annotations.info(format!(
                    "metric might not be a counter, name does not end in _total/_sum/_count/_bucket: {name:?}"
                ));
            }
            Ok(v)
        }
        F::Irate => apply(ev, input, ts, false, |_, pts| {
            rate::instant_value(pts, true)
        }),
        F::Idelta => apply(ev, input, ts, false, |_, pts| {
            rate::instant_value(pts, false)
        }),
        F::Deriv => apply(ev, input, ts, false, |_, pts| rate::deriv(pts)),
        F::PredictLinear => apply(ev, input, ts, false, |_, pts| {
            rate::predict_linear(pts, ts, p(0))
        }),
        F::Resets => apply(ev, input, ts, false, |_, pts| Some(rate::resets(pts))),
        F::Changes => apply(ev, input, ts, false, |_, pts| Some(rate::changes(pts))),
        F::AvgOverTime => apply(ev, input, ts, false, |_, pts| {
            Some(over_time::avg(fill(&mut vals, pts)))
        }),
        F::SumOverTime => apply(ev, input, ts, false, |_, pts| {
            Some(over_time::sum(fill(&mut vals, pts)))
        }),
        F::CountOverTime => apply(ev, input, ts, false, |_, pts| Some(pts.len() as f64)),
        F::MinOverTime => apply(ev, input, ts, false, |_, pts| {
            Some(over_time::min(fill(&mut vals, pts)))
        }),
        F::MaxOverTime => apply(ev, input, ts, false, |_, pts| {
            Some(over_time::max(fill(&mut vals, pts)))
        }),
        F::StddevOverTime => apply(ev, input, ts, false, |_, pts| {
            Some(over_time::stddev(fill(&mut vals, pts)))
        }),
        F::StdvarOverTime => apply(ev, input, ts, false, |_, pts| {
            Some(over_time::stdvar(fill(&mut vals, pts)))
        }),
        F::MadOverTime => apply(ev, input, ts, false, |_, pts| {
            Some(over_time::mad(fill(&mut vals, pts)))
        }),
        F::PresentOverTime => apply(ev, input, ts, false, |_, _| Some(1.0)),
        F::LastOverTime => apply(ev, input, ts, true, |_, pts| pts.last().map(|x| x.f)),
        F::FirstOverTime => apply(ev, input, ts, true, |_, pts| pts.first().map(|x| x.f)),
        F::TsOfLastOverTime => apply(ev, input, ts, false, |_, pts| {
            pts.last().map(|x| x.t as f64 / 1000.0)
        }),
        F::TsOfFirstOverTime => apply(ev, input, ts, false, |_, pts| {
            pts.first().map(|x| x.t as f64 / 1000.0)
        }),
        F::TsOfMinOverTime | F::TsOfMaxOverTime => {
            let want_max = id == F::TsOfMaxOverTime;
            apply(ev, input, ts, false, |_, pts| {
                let mut best: Option<FPoint> = None;
                for x in pts {
                    best = match best {
                        None => Some(*x),
                        Some(b) if b.f.is_nan() && !x.f.is_nan() => Some(*x),
                        Some(b) if want_max && x.f >= b.f => Some(*x),
                        Some(b) if !want_max && x.f <= b.f => Some(*x),
                        keep => keep,
                    };
                }
                best.map(|b| b.t as f64 / 1000.0)
            })
        }
        F::QuantileOverTime => {
            let q = p(0);
            if !(0.0..=1.0).contains(&q) {
                ev.annotations.warn(format!(
                    "quantile value should be between 0 and 1, got {}",
                    format_float(q)
                ));
            }
            apply(ev, input, ts, false, |_, pts| {
                Some(over_time::quantile(q, fill(&mut vals, pts)))
            })
        }
        F::DoubleExponentialSmoothing => {
            let (sf, tf) = (p(0), p(1));
            if !(sf > 0.0 && sf < 1.0 && tf > 0.0 && tf < 1.0) {
                return Err(EngineError::Unsupported(format!(
                    "invalid smoothing or trend factor: expected 0 < x < 1, got {sf} and {tf}"
                )));
            }
            apply(ev, input, ts, false, |_, pts| {
                double_exponential_smoothing(pts, sf, tf)
            })
        }
        _ => {
            return Err(EngineError::Unsupported(format!(
                "function {}",
                c.func.name
            )))
        }
    };
    Ok(Value::Vector(v?))
}

/// `buf` refilled with the values of `pts`.
fn fill<'b>(buf: &'b mut Vec<f64>, pts: &[FPoint]) -> &'b mut [f64] {
    buf.clear();
    buf.extend(pts.iter().map(|p| p.f));
    buf
}

/// The range argument of a function call.
enum Input<'e> {
    /// A plain range selector: its windows are borrowed from the loaded series.
    Selector(&'e MatrixSelector),
    /// A subquery: its windows are borrowed from the inner steps evaluated so far.
    Subquery(&'e SubqueryExpr),
    /// Anything else, evaluated into a matrix.
    Matrix(Matrix),
}

/// Applies a per-series kernel (given the series labels and its window) over a range
/// argument; `keep_name` preserves the series' name.
fn apply(
    ev: &mut Evaluator<'_>,
    input: Input<'_>,
    ts: i64,
    keep_name: bool,
    mut f: impl FnMut(&Labels, &[FPoint]) -> Option<f64>,
) -> Result<Vector, EngineError> {
    Ok(match input {
        Input::Matrix(m) => {
            let mut out = Vec::with_capacity(m.len());
            for s in m {
                if let Some(v) = f(&s.metric, &s.floats) {
                    out.push(Sample {
                        metric: s.metric,
                        t: ts,
                        f: v,
                        drop_name: if keep_name { s.drop_name } else { true },
                    });
                }
            }
            out
        }
        Input::Selector(ms) => {
            let mut out = Vec::new();
            ev.for_each_window(ms, ts, |metric, pts| {
                if let Some(v) = f(metric, pts) {
                    out.push(Sample {
                        metric: metric.clone(),
                        t: ts,
                        f: v,
                        drop_name: !keep_name,
                    });
                }
            });
            out
        }
        Input::Subquery(sq) => {
            let mut out = Vec::new();
            ev.for_each_subquery_window(sq, ts, |metric, drop_name, pts| {
                if let Some(v) = f(metric, pts) {
                    out.push(Sample {
                        metric: metric.clone(),
                        t: ts,
                        f: v,
                        drop_name: if keep_name { drop_name } else { true },
                    });
                }
            })?;
            out
        }
    })
}

fn double_exponential_smoothing(pts: &[FPoint], sf: f64, tf: f64) -> Option<f64> {
    let (first, second) = (pts.first()?, pts.get(1)?);
    let (mut s0, mut s1, mut b) = (0.0, first.f, second.f - first.f);
    for (i, p) in pts.iter().enumerate().skip(1) {
        let x = sf * p.f;
        if i > 1 {
            b = tf * (s1 - s0) + (1.0 - tf) * b;
        }
        let y = (1.0 - sf) * (s1 + b);
        (s0, s1) = (s1, x + y);
    }
    Some(s1)
}
