//! Aggregation operators: `sum`, `avg`, `count`, `min`, `max`, `group`, `stddev`, `stdvar`,
//! `quantile`, `count_values`, `topk`, `bottomk`, `limitk`, `limit_ratio`.

use std::collections::HashMap;

use kagari_model::{Labels, METRIC_NAME};

use crate::parser::ast::{AggregateExpr, AggregateOp, Grouping};

use super::eval::Evaluator;
use super::functions::label::is_valid_utf8_label_name;
use super::functions::over_time;
use super::index::{ptr, IntMap};
use super::value::{Sample, Value};
use super::EngineError;

/// The labels identifying a sample's group.
fn group_labels(l: &Labels, g: &Grouping) -> Labels {
    let mut b = l.to_builder();
    match g {
        Grouping::By(names) => b.retain(|n, _| names.iter().any(|x| x == n)),
        Grouping::Without(names) => b.retain(|n, _| {
            !matches!(n, "__name__" | "__type__" | "__unit__") && !names.iter().any(|x| x == n)
        }),
    };
    b.build()
}

/// Formats a float like Go's `strconv.FormatFloat(f, 'f', -1, 64)`.
pub(crate) fn format_float(f: f64) -> String {
    if f.is_nan() {
        "NaN".into()
    } else if f == f64::INFINITY {
        "+Inf".into()
    } else if f == f64::NEG_INFINITY {
        "-Inf".into()
    } else {
        format!("{f}")
    }
}

struct Group {
    labels: Labels,
    values: Vec<f64>,
    members: Vec<Sample>,
    drop_name: bool,
}

pub(crate) fn eval_aggregate(
    ev: &mut Evaluator<'_>,
    a: &AggregateExpr,
    ts: i64,
) -> Result<Value, EngineError> {
    let param = match &a.param {
        Some(p) => Some(ev.eval(p, ts)?),
        None => None,
    };
    let input = ev.vector_arg(&a.expr, ts)?;
    if matches!(a.op, AggregateOp::Limitk | AggregateOp::LimitRatio)
        && !ev.opts.experimental_aggregations
    {
        return Err(EngineError::Unsupported(format!(
            "{} (experimental, disabled)",
            a.op.as_str()
        )));
    }
    let pnum = |p: &Option<Value>| match p {
        Some(Value::Scalar { f, .. }) => *f,
        _ => f64::NAN,
    };
    let count_label = match (&a.op, &param) {
        (AggregateOp::CountValues, Some(Value::String { s, .. })) => {
            if !is_valid_utf8_label_name(s) {
                return Err(EngineError::InvalidLabelName(s.clone()));
            }
            Some(s.clone())
        }
        _ => None,
    };
    // Group the input, keeping first-appearance order. Grouping keys are computed once per
    // input series and query (interned, so a group is found by pointer); `count_values` keys
    // depend on the value and are computed per sample.
    let needs_members = matches!(
        a.op,
        AggregateOp::Topk | AggregateOp::Bottomk | AggregateOp::Limitk | AggregateOp::LimitRatio
    );
    // Tagged even: call nodes use odd keys in the same cache map.
    let node = (a as *const AggregateExpr as usize) << 1;
    let mut by_ptr: IntMap<usize, usize> = IntMap::default();
    let mut by_labels: HashMap<Labels, usize> = HashMap::new();
    let mut groups: Vec<Group> = Vec::new();
    let cache = ev.derived(node);
    for s in input {
        let (gl, i) = if let Some(name) = &count_label {
            let mut b = group_labels(&s.metric, &a.grouping).to_builder();
            b.set(name, &format_float(s.f));
            let gl = b.build();
            let i = by_labels.get(&gl).copied();
            if i.is_none() {
                by_labels.insert(gl.clone(), groups.len());
            }
            (gl, i)
        } else {
            let gl = match cache.get(&s.metric, |l| Some((group_labels(l, &a.grouping), 0.0))) {
                Some((gl, _)) => gl,
                None => group_labels(&s.metric, &a.grouping),
            };
            let i = by_ptr.get(&ptr(&gl)).copied();
            if i.is_none() {
                by_ptr.insert(ptr(&gl), groups.len());
            }
            (gl, i)
        };
        let i = match i {
            Some(i) => i,
            None => {
                groups.push(Group {
                    labels: gl,
                    values: Vec::new(),
                    members: Vec::new(),
                    drop_name: false,
                });
                groups.len() - 1
            }
        };
        if let Some(g) = groups.get_mut(i) {
            g.values.push(s.f);
            g.drop_name |= s.drop_name;
            if needs_members {
                g.members.push(s);
            }
        }
    }
    let keeps_name = matches!(&a.grouping, Grouping::By(n) if n.iter().any(|x| x == METRIC_NAME));
    let mut out = Vec::with_capacity(groups.len());
    match a.op {
        AggregateOp::Topk | AggregateOp::Bottomk | AggregateOp::Limitk => {
            let k = pnum(&param);
            if k.is_nan() {
                return Err(EngineError::ParameterNaN);
            }
            if k >= i64::MAX as f64 {
                return Err(EngineError::ScalarOverflow(k));
            }
            if k < 1.0 {
                return Ok(Value::Vector(Vec::new()));
            }
            let k = k as usize;
            for mut g in groups {
                match a.op {
                    AggregateOp::Topk => g.members.sort_by(|x, y| cmp_desc(x.f, y.f)),
                    AggregateOp::Bottomk => g.members.sort_by(|x, y| cmp_asc(x.f, y.f)),
                    _ => {}
                }
                g.members.truncate(k);
                for mut s in g.members {
                    s.t = ts;
                    out.push(s);
                }
            }
        }
        AggregateOp::LimitRatio => {
            let mut r = pnum(&param);
            if r.is_nan() {
                return Err(EngineError::RatioNaN);
            }
            if !(-1.0..=1.0).contains(&r) {
                let capped = r.clamp(-1.0, 1.0);
                ev.annotations.warn(format!(
                    "ratio value should be between -1 and 1, got {}, capping to {}",
                    format_float(r),
                    format_float(capped)
                ));
                r = capped;
            }
            for g in groups {
                for mut s in g.members {
                    let offset = ratio_offset(&s.metric);
                    let keep = if r >= 0.0 {
                        offset < r
                    } else {
                        offset >= 1.0 + r
                    };
                    if keep {
                        s.t = ts;
                        out.push(s);
                    }
                }
            }
        }
        _ => {
            let q = pnum(&param);
            if a.op == AggregateOp::Quantile && !(0.0..=1.0).contains(&q) {
                ev.annotations.warn(format!(
                    "quantile value should be between 0 and 1, got {}",
                    format_float(q)
                ));
            }
            for mut g in groups {
                let f = match a.op {
                    AggregateOp::Sum => over_time::sum(&g.values),
                    AggregateOp::Avg => over_time::avg(&g.values),
                    AggregateOp::Count | AggregateOp::CountValues => g.values.len() as f64,
                    AggregateOp::Min => over_time::min(&g.values),
                    AggregateOp::Max => over_time::max(&g.values),
                    AggregateOp::Group => 1.0,
                    AggregateOp::Stddev => over_time::stddev(&g.values),
                    AggregateOp::Stdvar => over_time::stdvar(&g.values),
                    AggregateOp::Quantile => over_time::quantile(q, &mut g.values),
                    _ => f64::NAN,
                };
                out.push(Sample {
                    metric: g.labels,
                    t: ts,
                    f,
                    drop_name: keeps_name && g.drop_name,
                });
            }
        }
    }
    Ok(Value::Vector(out))
}

/// Orders NaN last, larger values first.
fn cmp_desc(a: f64, b: f64) -> std::cmp::Ordering {
    use std::cmp::Ordering::*;
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Equal,
        (true, false) => Greater,
        (false, true) => Less,
        _ => b.partial_cmp(&a).unwrap_or(Equal),
    }
}

/// Orders NaN last, smaller values first.
fn cmp_asc(a: f64, b: f64) -> std::cmp::Ordering {
    use std::cmp::Ordering::*;
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Equal,
        (true, false) => Greater,
        (false, true) => Less,
        _ => a.partial_cmp(&b).unwrap_or(Equal),
    }
}

/// `limit_ratio`'s position of a series in `[0, 1]`: an XXH64 hash of its labels.
fn ratio_offset(l: &Labels) -> f64 {
    let mut buf = Vec::new();
    for lbl in l.iter() {
        for part in [lbl.name.as_bytes(), lbl.value.as_bytes()] {
            let n = part.len();
            if n < 255 {
                buf.push(n as u8);
            } else {
                buf.push(255);
                buf.extend_from_slice(&(n as u32).to_le_bytes()[..3]);
            }
            buf.extend_from_slice(part);
        }
    }
    let h = xxhash_rust::xxh64::xxh64(&buf, 0);
    h as f64 / u64::MAX as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_format_like_go() {
        assert_eq!(format_float(1.0), "1");
        assert_eq!(format_float(0.1), "0.1");
        assert_eq!(format_float(1e21), "1000000000000000000000");
        assert_eq!(format_float(f64::NEG_INFINITY), "-Inf");
    }

    #[test]
    fn grouping() {
        let l = Labels::from_pairs([("__name__", "m"), ("a", "1"), ("b", "2")]).unwrap();
        assert_eq!(
            group_labels(&l, &Grouping::By(vec!["a".into()])).to_string(),
            r#"{a="1"}"#
        );
        assert_eq!(
            group_labels(&l, &Grouping::Without(vec!["a".into()])).to_string(),
            r#"{b="2"}"#
        );
    }
}
