//! Function calls: evaluates arguments and dispatches to the kernels in [`super::functions`].

use kagari_model::{Labels, MatchType, METRIC_NAME};

use crate::parser::ast::{Call, Expr};
use crate::parser::functions::FunctionId as F;

use super::aggregate::format_float;
use super::eval::Evaluator;
use super::functions::histogram::{bucket_fraction, bucket_quantile, Bucket};
use super::functions::label::{is_valid_utf8_label_name, label_join, LabelFnError, LabelReplace};
use super::functions::{math, time};
use super::index::{ptr, IntMap};
use super::value::{Sample, Value, Vector};
use super::EngineError;

pub(crate) fn unparen(e: &Expr) -> &Expr {
    match e {
        Expr::Paren(p) => unparen(&p.expr),
        other => other,
    }
}

fn label_err(func: &'static str, e: LabelFnError) -> EngineError {
    match e {
        LabelFnError::InvalidLabelName(name) => EngineError::InvalidFunctionLabelName {
            role: "destination",
            func,
            name,
        },
        LabelFnError::InvalidSourceLabelName(name) => EngineError::InvalidFunctionLabelName {
            role: "source",
            func,
            name,
        },
        LabelFnError::InvalidRegex(regex) => EngineError::InvalidRegex { func, regex },
    }
}

pub(crate) fn arg(c: &Call, i: usize) -> Result<&Expr, EngineError> {
    c.args
        .get(i)
        .ok_or_else(|| EngineError::Unsupported(format!("missing argument {i} of {}", c.func.name)))
}

/// Labels for `absent`/`absent_over_time`: the equality matchers of a plain selector.
fn absent_labels(e: &Expr) -> Labels {
    let matchers = match unparen(e) {
        Expr::VectorSelector(vs) => &vs.matchers,
        Expr::MatrixSelector(ms) => &ms.vector.matchers,
        _ => return Labels::empty(),
    };
    let mut b = Labels::empty().to_builder();
    let mut has: Vec<&str> = Vec::new();
    for m in matchers {
        if m.name() == METRIC_NAME {
            continue;
        }
        if m.match_type() == MatchType::Equal && !has.contains(&m.name()) {
            b.set(m.name(), m.value());
            has.push(m.name());
        } else {
            b.del(m.name());
        }
    }
    b.build()
}

fn out(metric: Labels, ts: i64, f: f64, drop_name: bool) -> Sample {
    Sample {
        metric,
        t: ts,
        f,
        drop_name,
    }
}

/// Maps every sample of a vector through `f` (returning `None` drops it); drops names.
fn map_vector(v: Vector, ts: i64, mut f: impl FnMut(f64) -> Option<f64>) -> Vector {
    v.into_iter()
        .filter_map(|mut s| {
            s.f = f(s.f)?;
            s.t = ts;
            s.drop_name = true;
            Some(s)
        })
        .collect()
}

/// Natural-order comparison (digit runs compare numerically) used by `sort_by_label`.
fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    let (mut x, mut y) = (a.as_bytes(), b.as_bytes());
    loop {
        match (x.first(), y.first()) {
            (None, None) => return std::cmp::Ordering::Equal,
            (None, _) => return std::cmp::Ordering::Less,
            (_, None) => return std::cmp::Ordering::Greater,
            (Some(c), Some(d)) if c.is_ascii_digit() && d.is_ascii_digit() => {
                let nx = x.iter().take_while(|c| c.is_ascii_digit()).count();
                let ny = y.iter().take_while(|c| c.is_ascii_digit()).count();
                let (dx, dy) = (x.get(..nx).unwrap_or(&[]), y.get(..ny).unwrap_or(&[]));
                let tx: &[u8] = dx
                    .iter()
                    .position(|c| *c != b'0')
                    .map_or(&[], |p| dx.get(p..).unwrap_or(&[]));
                let ty: &[u8] = dy
                    .iter()
                    .position(|c| *c != b'0')
                    .map_or(&[], |p| dy.get(p..).unwrap_or(&[]));
                let o = tx.len().cmp(&ty.len()).then_with(|| tx.cmp(ty));
                if o != std::cmp::Ordering::Equal {
                    return o;
                }
                x = x.get(nx..).unwrap_or(&[]);
                y = y.get(ny..).unwrap_or(&[]);
            }
            (Some(c), Some(d)) => {
                if c != d {
                    return c.cmp(d);
                }
                x = x.get(1..).unwrap_or(&[]);
                y = y.get(1..).unwrap_or(&[]);
            }
        }
    }
}

pub(crate) fn eval_call(ev: &mut Evaluator<'_>, c: &Call, ts: i64) -> Result<Value, EngineError> {
    let id = c.func.id;
    // Tagged odd: aggregation nodes use even keys in the same cache map.
    let node = (c as *const Call as usize) << 1 | 1;
    let secs = ts as f64 / 1000.0;
    let v = match id {
        F::Time => return Ok(Value::Scalar { t: ts, f: secs }),
        F::Pi => {
            return Ok(Value::Scalar {
                t: ts,
                f: std::f64::consts::PI,
            })
        }
        F::Start => {
            return Ok(Value::Scalar {
                t: ts,
                f: ev.start as f64 / 1000.0,
            })
        }
        F::End => {
            return Ok(Value::Scalar {
                t: ts,
                f: ev.end as f64 / 1000.0,
            })
        }
        F::Range => {
            return Ok(Value::Scalar {
                t: ts,
                f: (ev.end - ev.start) as f64 / 1000.0,
            })
        }
        F::Step => {
            return Ok(Value::Scalar {
                t: ts,
                f: ev.step as f64 / 1000.0,
            })
        }
        F::MinOf | F::MaxOf => {
            let a = ev.scalar_arg(arg(c, 0)?, ts)?;
            let b = ev.scalar_arg(arg(c, 1)?, ts)?;
            let f = if id == F::MinOf {
                math::go_min(a, b)
            } else {
                math::go_max(a, b)
            };
            return Ok(Value::Scalar { t: ts, f });
        }
        F::Scalar => {
            let v = ev.vector_arg(arg(c, 0)?, ts)?;
            let f = match v.as_slice() {
                [s] => s.f,
                _ => f64::NAN,
            };
            return Ok(Value::Scalar { t: ts, f });
        }
        F::Vector => {
            let f = ev.scalar_arg(arg(c, 0)?, ts)?;
            vec![out(Labels::empty(), ts, f, false)]
        }
        F::Abs
        | F::Ceil
        | F::Floor
        | F::Exp
        | F::Sqrt
        | F::Ln
        | F::Log2
        | F::Log10
        | F::Sin
        | F::Cos
        | F::Tan
        | F::Asin
        | F::Acos
        | F::Atan
        | F::Sinh
        | F::Cosh
        | F::Tanh
        | F::Asinh
        | F::Acosh
        | F::Atanh
        | F::Rad
        | F::Deg
        | F::Sgn => {
            let k = math::simple(c.func.name)
                .ok_or_else(|| EngineError::Unsupported(c.func.name.into()))?;
            let v = ev.vector_arg(arg(c, 0)?, ts)?;
            map_vector(v, ts, |x| Some(k(x)))
        }
        F::Round => {
            let v = ev.vector_arg(arg(c, 0)?, ts)?;
            let to = match c.args.get(1) {
                Some(e) => ev.scalar_arg(e, ts)?,
                None => 1.0,
            };
            map_vector(v, ts, |x| Some(math::round(x, to)))
        }
        F::Clamp => {
            let v = ev.vector_arg(arg(c, 0)?, ts)?;
            let lo = ev.scalar_arg(arg(c, 1)?, ts)?;
            let hi = ev.scalar_arg(arg(c, 2)?, ts)?;
            if hi < lo {
                Vec::new()
            } else {
                map_vector(v, ts, |x| Some(math::go_max(lo, math::go_min(hi, x))))
            }
        }
        F::ClampMin | F::ClampMax => {
            let v = ev.vector_arg(arg(c, 0)?, ts)?;
            let b = ev.scalar_arg(arg(c, 1)?, ts)?;
            if id == F::ClampMin {
                map_vector(v, ts, |x| Some(math::clamp_min(x, b)))
            } else {
                map_vector(v, ts, |x| Some(math::clamp_max(x, b)))
            }
        }
        F::DayOfMonth
        | F::DayOfWeek
        | F::DayOfYear
        | F::DaysInMonth
        | F::Hour
        | F::Minute
        | F::Month
        | F::Year => {
            let name = c.func.name;
            match c.args.first() {
                None => vec![out(
                    Labels::empty(),
                    ts,
                    time::calendar(name, secs).unwrap_or(f64::NAN),
                    false,
                )],
                Some(e) => {
                    let v = ev.vector_arg(e, ts)?;
                    map_vector(v, ts, |x| time::calendar(name, x))
                }
            }
        }
        F::Timestamp => {
            let a = arg(c, 0)?;
            let v = match unparen(a) {
                Expr::VectorSelector(vs) => ev.vector_selector(vs, ts)?,
                other => ev.vector_arg(other, ts)?,
            };
            v.into_iter()
                .map(|s| out(s.metric, ts, s.t as f64 / 1000.0, true))
                .collect()
        }
        F::Absent => {
            let a = arg(c, 0)?;
            let v = ev.vector_arg(a, ts)?;
            if v.is_empty() {
                vec![out(absent_labels(a), ts, 1.0, false)]
            } else {
                Vec::new()
            }
        }
        F::AbsentOverTime => {
            let a = arg(c, 0)?;
            let (m, _, _) = ev.range_arg(a, ts)?;
            if m.is_empty() {
                vec![out(absent_labels(a), ts, 1.0, false)]
            } else {
                Vec::new()
            }
        }
        F::Sort | F::SortDesc | F::SortByLabel | F::SortByLabelDesc => {
            if ev.step != 0 {
                ev.annotations.warn("sort is ineffective for range queries since results are always ordered by labels");
            }
            let mut v = ev.vector_arg(arg(c, 0)?, ts)?;
            match id {
                F::Sort => v.sort_by(|a, b| nan_last(a.f, b.f, false)),
                F::SortDesc => v.sort_by(|a, b| nan_last(a.f, b.f, true)),
                _ => {
                    let mut names = Vec::new();
                    for e in c.args.iter().skip(1) {
                        names.push(ev.string_arg(e, ts)?);
                    }
                    let desc = id == F::SortByLabelDesc;
                    v.sort_by(|a, b| {
                        let mut o = std::cmp::Ordering::Equal;
                        for n in &names {
                            o = natural_cmp(
                                a.metric.get(n).unwrap_or(""),
                                b.metric.get(n).unwrap_or(""),
                            );
                            if o != std::cmp::Ordering::Equal {
                                break;
                            }
                        }
                        let o = o.then_with(|| a.metric.cmp(&b.metric));
                        if desc {
                            o.reverse()
                        } else {
                            o
                        }
                    });
                }
            }
            return Ok(Value::Vector(v));
        }
        F::LabelReplace => {
            let v = ev.vector_arg(arg(c, 0)?, ts)?;
            let dst = ev.string_arg(arg(c, 1)?, ts)?;
            let repl = ev.string_arg(arg(c, 2)?, ts)?;
            let src = ev.string_arg(arg(c, 3)?, ts)?;
            let re = ev.string_arg(arg(c, 4)?, ts)?;
            // The arguments are string literals, the same at every step: compile the rule
            // once per query, and rewrite each input label set once (cached by allocation,
            // as grouping keys are).
            let node = c as *const Call as usize;
            let rule = match ev.label_rules.get(&node) {
                Some(r) if r.is_for(&dst, &repl, &src, &re) => r.clone(),
                _ => {
                    let r = LabelReplace::new(&dst, &repl, &src, &re).map_err(|e| match e {
                        LabelFnError::InvalidRegex(_) => EngineError::InvalidRegex {
                            func: "label_replace",
                            regex: re.clone(),
                        },
                        other => label_err("label_replace", other),
                    })?;
                    ev.label_rules.insert(node, r.clone());
                    ev.derived(node).clear();
                    r
                }
            };
            let cache = ev.derived(node);
            v.into_iter()
                .map(|mut s| {
                    if let Some((l, _)) = cache.get(&s.metric, |l| Some((rule.apply(l), 0.0))) {
                        s.metric = l;
                    }
                    s.t = ts;
                    if dst == METRIC_NAME {
                        s.drop_name = false;
                    }
                    s
                })
                .collect()
        }
        F::LabelJoin => {
            let v = ev.vector_arg(arg(c, 0)?, ts)?;
            let dst = ev.string_arg(arg(c, 1)?, ts)?;
            let sep = ev.string_arg(arg(c, 2)?, ts)?;
            let mut srcs = Vec::new();
            for e in c.args.iter().skip(3) {
                srcs.push(ev.string_arg(e, ts)?);
            }
            let mut res = Vec::with_capacity(v.len());
            for mut s in v {
                s.metric = label_join(&s.metric, &dst, &sep, &srcs)
                    .map_err(|e| label_err("label_join", e))?;
                s.t = ts;
                if dst == METRIC_NAME {
                    s.drop_name = false;
                }
                res.push(s);
            }
            res
        }
        F::HistogramQuantile => {
            let q = ev.scalar_arg(arg(c, 0)?, ts)?;
            let v = ev.vector_arg(arg(c, 1)?, ts)?;
            if !(0.0..=1.0).contains(&q) {
                ev.annotations.warn(format!(
                    "quantile value should be between 0 and 1, got {}",
                    format_float(q)
                ));
            }
            classic_buckets(ev, node, v, ts, |ev, name, b| {
                let (f, fixes) = bucket_quantile(q, b);
                if fixes.forced_monotonic {
                    ev.annotations.info(format!("input to histogram_quantile needed to be fixed for monotonicity (see https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile) for metric name {name:?}"));
                }
                f
            })
        }
        F::HistogramFraction => {
            let lo = ev.scalar_arg(arg(c, 0)?, ts)?;
            let hi = ev.scalar_arg(arg(c, 1)?, ts)?;
            let v = ev.vector_arg(arg(c, 2)?, ts)?;
            classic_buckets(ev, node, v, ts, |_, _, b| bucket_fraction(lo, hi, b))
        }
        F::HistogramQuantiles => {
            let v = ev.vector_arg(arg(c, 0)?, ts)?;
            let label = ev.string_arg(arg(c, 1)?, ts)?;
            if !is_valid_utf8_label_name(&label) {
                return Err(EngineError::InvalidLabelName(label));
            }
            let mut qs = Vec::new();
            for e in c.args.iter().skip(2) {
                let q = ev.scalar_arg(e, ts)?;
                if !(0.0..=1.0).contains(&q) {
                    ev.annotations.warn(format!(
                        "quantile value should be between 0 and 1, got {}",
                        format_float(q)
                    ));
                }
                qs.push(q);
            }
            let mut res = Vec::new();
            for q in qs {
                let per_q =
                    classic_buckets(ev, node, v.clone(), ts, |_, _, b| bucket_quantile(q, b).0);
                for mut s in per_q {
                    if s.metric.has(&label) {
                        return Err(EngineError::Unsupported(format!(
                            "label {label:?} already exists on the input of histogram_quantiles"
                        )));
                    }
                    let mut b = s.metric.to_builder();
                    let mut text = format_float(q);
                    if q.is_finite() && !text.contains('.') {
                        text.push_str(".0");
                    }
                    b.set(&label, &text);
                    s.metric = b.build();
                    res.push(s);
                }
            }
            res
        }
        F::HistogramAvg
        | F::HistogramCount
        | F::HistogramStddev
        | F::HistogramStdvar
        | F::HistogramSum => {
            // Only native histograms have these; float samples are ignored.
            let _ = ev.vector_arg(arg(c, 0)?, ts)?;
            Vec::new()
        }
        F::Info => return super::info::eval_info(ev, c, ts),
        F::StartTimestamp => {
            return Err(EngineError::Unsupported(format!(
                "function {}",
                c.func.name
            )));
        }
        _ => return super::range_fn::range_call(ev, c, ts),
    };
    Ok(Value::Vector(v))
}

fn nan_last(a: f64, b: f64, desc: bool) -> std::cmp::Ordering {
    use std::cmp::Ordering::*;
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Equal,
        (true, false) => Greater,
        (false, true) => Less,
        _ if desc => b.partial_cmp(&a).unwrap_or(Equal),
        _ => a.partial_cmp(&b).unwrap_or(Equal),
    }
}

/// Groups classic bucket samples by their labels without `le` and applies `f` per group.
fn classic_buckets(
    ev: &mut Evaluator<'_>,
    node: usize,
    v: Vector,
    ts: i64,
    mut f: impl FnMut(&mut Evaluator<'_>, &str, &mut Vec<Bucket>) -> f64,
) -> Vector {
    // The group key (labels without `le`) and bound are derived once per input series.
    let mut index: IntMap<usize, usize> = IntMap::default();
    let mut groups: Vec<(Labels, Vec<Bucket>)> = Vec::new();
    let mut malformed: Vec<String> = Vec::new();
    let cache = ev.derived(node);
    for s in v {
        let derived = cache.get(&s.metric, |l| {
            let ub = parse_go_float(l.get("le").unwrap_or(""))?;
            let mut b = l.to_builder();
            b.del("le");
            Some((b.build(), ub))
        });
        let Some((key, ub)) = derived else {
            let le = s.metric.get("le").unwrap_or("");
            let name = s.metric.metric_name().unwrap_or("").to_string();
            malformed.push(format!(
                "bucket label \"le\" is missing or has a malformed value of {le:?} for metric name {name:?}"
            ));
            continue;
        };
        let i = *index.entry(ptr(&key)).or_insert_with(|| {
            groups.push((key, Vec::new()));
            groups.len() - 1
        });
        if let Some(g) = groups.get_mut(i) {
            g.1.push(Bucket {
                upper_bound: ub,
                count: s.f,
            });
        }
    }
    for m in malformed {
        ev.annotations.warn(m);
    }
    groups
        .into_iter()
        .map(|(metric, mut buckets)| {
            let name = metric.metric_name().unwrap_or("").to_string();
            let val = f(ev, &name, &mut buckets);
            out(metric, ts, val, true)
        })
        .collect()
}

/// Parses a float the way Go's `strconv.ParseFloat` does for `le` values.
fn parse_go_float(s: &str) -> Option<f64> {
    let l = s.to_ascii_lowercase();
    match l.trim_start_matches(['+', '-']) {
        "inf" | "infinity" | "nan" => return s.parse::<f64>().ok(),
        "" => return None,
        _ => {}
    }
    if l.contains("inf") || l.contains("nan") {
        return None;
    }
    s.parse::<f64>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_order() {
        assert_eq!(natural_cmp("a2", "a10"), std::cmp::Ordering::Less);
        assert_eq!(natural_cmp("b", "a10"), std::cmp::Ordering::Greater);
        assert_eq!(natural_cmp("x", "x"), std::cmp::Ordering::Equal);
    }

    #[test]
    fn go_floats() {
        assert_eq!(parse_go_float("+Inf"), Some(f64::INFINITY));
        assert_eq!(parse_go_float("0.5"), Some(0.5));
        assert_eq!(parse_go_float("x"), None);
        assert_eq!(parse_go_float(""), None);
    }
}
