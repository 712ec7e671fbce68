//! The reference runner's `@`-pinning rewrite (section 5.6 of the DSL spec): every selector
//! and subquery outside subqueries gets `@ t` unless it has an `@` already.

use crate::parser::ast::{AtModifier, Expr};
use crate::parser::functions::FunctionId as F;

/// Returns the expression with `@ t_ms` added, or `None` when the expression calls a function
/// whose result depends on the evaluation time even with pinned inputs.
pub(crate) fn pin_at(expr: &Expr, t_ms: i64) -> Option<Expr> {
    let mut e = expr.clone();
    walk(&mut e, t_ms).then_some(e)
}

fn time_dependent(id: F) -> bool {
    matches!(
        id,
        F::Time
            | F::Timestamp
            | F::PredictLinear
            | F::Minute
            | F::Hour
            | F::DayOfMonth
            | F::DayOfWeek
            | F::DayOfYear
            | F::DaysInMonth
            | F::Month
            | F::Year
            | F::Start
            | F::End
            | F::Range
            | F::Step
    )
}

fn walk(e: &mut Expr, t: i64) -> bool {
    match e {
        Expr::Number(_) | Expr::String(_) => true,
        Expr::VectorSelector(vs) => {
            vs.at.get_or_insert(AtModifier::Timestamp(t));
            true
        }
        Expr::MatrixSelector(ms) => {
            ms.vector.at.get_or_insert(AtModifier::Timestamp(t));
            true
        }
        Expr::Subquery(sq) => {
            sq.at.get_or_insert(AtModifier::Timestamp(t));
            true
        }
        Expr::Call(c) => !time_dependent(c.func.id) && c.args.iter_mut().all(|a| walk(a, t)),
        Expr::Aggregate(a) => walk(&mut a.expr, t) && a.param.as_mut().is_none_or(|p| walk(p, t)),
        Expr::Binary(b) => walk(&mut b.lhs, t) && walk(&mut b.rhs, t),
        Expr::Unary(u) => walk(&mut u.expr, t),
        Expr::Paren(p) => walk(&mut p.expr, t),
    }
}
