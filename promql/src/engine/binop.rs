//! Binary operators: arithmetic, comparisons (filtering or `bool`), set operators, and
//! vector matching (one-to-one, many-to-one, one-to-many).

use std::collections::{HashMap, HashSet};

use kagari_model::{Labels, METRIC_NAME};

use crate::parser::ast::{BinaryExpr, BinaryOp, Cardinality, VectorMatching};

use super::eval::Evaluator;
use super::value::{Sample, Value, Vector};
use super::EngineError;

/// Applies `op` to two floats: `(value, keep)`; `keep` is false when a comparison fails.
pub(crate) fn scalar_op(op: BinaryOp, l: f64, r: f64) -> (f64, bool) {
    match op {
        BinaryOp::Add => (l + r, true),
        BinaryOp::Sub => (l - r, true),
        BinaryOp::Mul => (l * r, true),
        BinaryOp::Div => (l / r, true),
        BinaryOp::Mod => (l % r, true),
        BinaryOp::Pow => (l.powf(r), true),
        BinaryOp::Atan2 => (l.atan2(r), true),
        BinaryOp::Eql => (l, l == r),
        BinaryOp::Neq => (l, l != r),
        BinaryOp::Gtr => (l, l > r),
        BinaryOp::Lss => (l, l < r),
        BinaryOp::Gte => (l, l >= r),
        BinaryOp::Lte => (l, l <= r),
        BinaryOp::And
        | BinaryOp::Or
        | BinaryOp::Unless
        | BinaryOp::TrimUpper
        | BinaryOp::TrimLower => (f64::NAN, false),
    }
}

fn drops_name(op: BinaryOp) -> bool {
    matches!(
        op,
        BinaryOp::Add
            | BinaryOp::Sub
            | BinaryOp::Mul
            | BinaryOp::Div
            | BinaryOp::Mod
            | BinaryOp::Pow
            | BinaryOp::Atan2
    )
}

pub(crate) fn eval_binary(
    ev: &mut Evaluator<'_>,
    b: &BinaryExpr,
    ts: i64,
) -> Result<Value, EngineError> {
    if matches!(b.op, BinaryOp::TrimUpper | BinaryOp::TrimLower) {
        return Err(EngineError::NativeHistogramsNotSupported);
    }
    let lhs = ev.eval(&b.lhs, ts)?;
    let rhs = ev.eval(&b.rhs, ts)?;
    match (lhs, rhs) {
        (Value::Scalar { f: l, .. }, Value::Scalar { f: r, .. }) => {
            let (v, keep) = scalar_op(b.op, l, r);
            let v = if b.op.is_comparison() {
                f64::from(u8::from(keep))
            } else {
                v
            };
            Ok(Value::Scalar { t: ts, f: v })
        }
        (Value::Vector(l), Value::Scalar { f: r, .. }) => {
            Ok(Value::Vector(vector_scalar(b, l, r, false, ts)))
        }
        (Value::Scalar { f: l, .. }, Value::Vector(r)) => {
            Ok(Value::Vector(vector_scalar(b, r, l, true, ts)))
        }
        (Value::Vector(l), Value::Vector(r)) => {
            let default = VectorMatching::default();
            let m = b.matching.as_ref().unwrap_or(&default);
            let out = match b.op {
                BinaryOp::And => and(l, r, m),
                BinaryOp::Or => or(l, r, m),
                BinaryOp::Unless => unless(l, r, m),
                _ => vector_vector(b, l, r, m, ts)?,
            };
            Ok(Value::Vector(out))
        }
        (l, r) => Err(EngineError::Unsupported(format!(
            "binary operator {} between {} and {}",
            b.op.as_str(),
            l.type_name(),
            r.type_name()
        ))),
    }
}

fn vector_scalar(b: &BinaryExpr, v: Vector, scalar: f64, swap: bool, ts: i64) -> Vector {
    let mut out = Vec::with_capacity(v.len());
    for mut s in v {
        let (l, r) = if swap { (scalar, s.f) } else { (s.f, scalar) };
        let (mut value, mut keep) = scalar_op(b.op, l, r);
        if b.op.is_comparison() && swap {
            value = r;
        }
        if b.return_bool {
            value = f64::from(u8::from(keep));
            keep = true;
        }
        if !keep {
            continue;
        }
        s.f = value;
        s.t = ts;
        s.drop_name |= drops_name(b.op) || b.return_bool;
        out.push(s);
    }
    out
}

/// The matching signature of `l` under `m`.
fn signature(l: &Labels, m: &VectorMatching) -> String {
    let mut sig = String::new();
    if m.on {
        for name in &m.labels {
            sig.push_str(l.get(name).unwrap_or(""));
            sig.push('\u{ff}');
        }
    } else {
        for lbl in l.iter() {
            if &*lbl.name == METRIC_NAME || m.labels.iter().any(|n| **n == *lbl.name) {
                continue;
            }
            sig.push_str(&lbl.name);
            sig.push('\u{fe}');
            sig.push_str(&lbl.value);
            sig.push('\u{ff}');
        }
    }
    sig
}

fn match_labels(l: &Labels, m: &VectorMatching) -> Labels {
    let mut b = l.to_builder();
    if m.on {
        b.retain(|n, _| m.labels.iter().any(|x| x == n));
    } else {
        b.retain(|n, _| n != METRIC_NAME && !m.labels.iter().any(|x| x == n));
    }
    b.build()
}

fn and(l: Vector, r: Vector, m: &VectorMatching) -> Vector {
    let right: HashSet<String> = r.iter().map(|s| signature(&s.metric, m)).collect();
    l.into_iter()
        .filter(|s| right.contains(&signature(&s.metric, m)))
        .collect()
}

fn or(l: Vector, r: Vector, m: &VectorMatching) -> Vector {
    let left: HashSet<String> = l.iter().map(|s| signature(&s.metric, m)).collect();
    let mut out = l;
    out.extend(
        r.into_iter()
            .filter(|s| !left.contains(&signature(&s.metric, m))),
    );
    out
}

fn unless(l: Vector, r: Vector, m: &VectorMatching) -> Vector {
    let right: HashSet<String> = r.iter().map(|s| signature(&s.metric, m)).collect();
    l.into_iter()
        .filter(|s| !right.contains(&signature(&s.metric, m)))
        .collect()
}

fn result_metric(lhs: &Labels, rhs: &Labels, m: &VectorMatching) -> Labels {
    let mut b = lhs.to_builder();
    if m.card == Cardinality::OneToOne {
        if m.on {
            b.retain(|n, _| m.labels.iter().any(|x| x == n));
        } else {
            b.retain(|n, _| !m.labels.iter().any(|x| x == n));
        }
    }
    for name in &m.include {
        match rhs.get(name) {
            Some(v) => b.set(name, v),
            None => b.del(name),
        };
    }
    b.build()
}

/// Applies the operator to one pair; `None` when a comparison filters it out.
fn apply(b: &BinaryExpr, fl: f64, fr: f64) -> Option<f64> {
    let (value, keep) = scalar_op(b.op, fl, fr);
    if b.return_bool {
        Some(f64::from(u8::from(keep)))
    } else {
        keep.then_some(value)
    }
}

fn vector_vector(
    b: &BinaryExpr,
    l: Vector,
    r: Vector,
    m: &VectorMatching,
    ts: i64,
) -> Result<Vector, EngineError> {
    let one_to_many = m.card == Cardinality::OneToMany;
    let (lhs, rhs) = if one_to_many { (r, l) } else { (l, r) };
    // Fill values for a "many"-side sample without partner and for an unmatched "one" side.
    // As in Prometheus, they are not swapped for `group_right`: `fill_left` fills whatever
    // is missing on the internal left (the "many" side), `fill_right` the internal right.
    let (fill_many, fill_one) = (m.fill_right, m.fill_left);
    let mut right: HashMap<String, usize> = HashMap::with_capacity(rhs.len());
    for (i, rs) in rhs.iter().enumerate() {
        let sig = signature(&rs.metric, m);
        if let Some(dup) = right.get(&sig).and_then(|&j| rhs.get(j)) {
            return Err(EngineError::ManyToMany {
                group: match_labels(&rs.metric, m).to_string(),
                side: if one_to_many { "left" } else { "right" },
                a: rs.metric.to_string(),
                b: dup.metric.to_string(),
            });
        }
        right.insert(sig, i);
    }
    let mut used = vec![false; rhs.len()];
    let mut matched: HashMap<String, HashSet<Labels>> = HashMap::new();
    let mut out = Vec::new();
    let arith = drops_name(b.op) || b.return_bool;
    for ls in lhs {
        let sig = signature(&ls.metric, m);
        let Some((ri, rs)) = right.get(&sig).and_then(|&i| rhs.get(i).map(|s| (i, s))) else {
            if let Some(fv) = fill_many {
                let (fl, fr) = if one_to_many { (fv, ls.f) } else { (ls.f, fv) };
                if let Some(f) = apply(b, fl, fr) {
                    let metric = result_metric(&ls.metric, &Labels::empty(), m);
                    out.push(Sample {
                        metric,
                        t: ts,
                        f,
                        drop_name: arith || ls.drop_name,
                    });
                }
            }
            continue;
        };
        if let Some(u) = used.get_mut(ri) {
            *u = true;
        }
        if m.card == Cardinality::OneToOne {
            // Checked before filtering, so filtered-away duplicates are still an error.
            if matched.insert(sig.clone(), HashSet::new()).is_some() {
                return Err(EngineError::ManyToOneNotExplicit);
            }
        }
        let (fl, fr) = if one_to_many {
            (rs.f, ls.f)
        } else {
            (ls.f, rs.f)
        };
        let Some(value) = apply(b, fl, fr) else {
            continue;
        };
        let metric = result_metric(&ls.metric, &rs.metric, m);
        if m.card != Cardinality::OneToOne
            && !matched.entry(sig).or_default().insert(metric.clone())
        {
            return Err(EngineError::GroupingNotUnique);
        }
        let drop_name = arith || ls.drop_name;
        out.push(Sample {
            metric,
            t: ts,
            f: value,
            drop_name,
        });
    }
    if let Some(fv) = fill_one {
        for (rs, _) in rhs.iter().zip(&used).filter(|(_, u)| !**u) {
            let (fl, fr) = if one_to_many { (rs.f, fv) } else { (fv, rs.f) };
            let Some(f) = apply(b, fl, fr) else {
                continue;
            };
            let metric = if m.card == Cardinality::OneToOne {
                result_metric(&rs.metric, &Labels::empty(), m)
            } else {
                let mut lb = match_labels(&rs.metric, m).to_builder();
                for name in &m.include {
                    if let Some(v) = rs.metric.get(name) {
                        lb.set(name, v);
                    }
                }
                lb.build()
            };
            out.push(Sample {
                metric,
                t: ts,
                f,
                drop_name: true,
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ops() {
        assert_eq!(scalar_op(BinaryOp::Mod, -7.0, 3.0).0, -1.0);
        assert_eq!(scalar_op(BinaryOp::Pow, 2.0, 10.0).0, 1024.0);
        assert_eq!(scalar_op(BinaryOp::Gtr, 1.0, 2.0), (1.0, false));
        assert!(scalar_op(BinaryOp::Div, 0.0, 0.0).0.is_nan());
    }
}
