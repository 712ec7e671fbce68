//! Durations in ranges, subquery steps and offsets: literals, or with duration expressions
//! arithmetic over literals, `step()`, `range()`, `min_of()` and `max_of()`.

use super::ast::{BinaryOp, NumberLiteral, Span, UnaryOp};

/// A duration: a literal, or (with duration expressions) arithmetic over literals, `step()`,
/// `range()`, `min_of()` and `max_of()`. Values are in seconds until converted.
#[derive(Debug, Clone, PartialEq)]
pub enum DurationExpr {
    /// `5m` (duration) or `300` (seconds).
    Literal(NumberLiteral),
    /// `-d` / `+d`.
    Unary {
        /// The sign.
        op: UnaryOp,
        /// The operand.
        expr: Box<DurationExpr>,
        /// Position.
        span: Span,
    },
    /// `a + b`, with `op` one of `+ - * / % ^`.
    Binary {
        /// The operator.
        op: BinaryOp,
        /// Left operand.
        lhs: Box<DurationExpr>,
        /// Right operand.
        rhs: Box<DurationExpr>,
        /// Position.
        span: Span,
    },
    /// `(d)`.
    Paren {
        /// The inner duration.
        expr: Box<DurationExpr>,
        /// Position.
        span: Span,
    },
    /// `step()`, `range()`, `min_of(a, b)`, `max_of(a, b)`.
    Call {
        /// Which function.
        func: DurationFn,
        /// Arguments (two for `min_of`/`max_of`, none otherwise).
        args: Vec<DurationExpr>,
        /// Position.
        span: Span,
    },
}

/// Functions usable inside duration expressions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DurationFn {
    /// The query step.
    Step,
    /// The query range (end - start).
    Range,
    /// The smaller of two durations.
    MinOf,
    /// The larger of two durations.
    MaxOf,
}

impl DurationFn {
    /// The function name.
    pub fn as_str(self) -> &'static str {
        match self {
            DurationFn::Step => "step",
            DurationFn::Range => "range",
            DurationFn::MinOf => "min_of",
            DurationFn::MaxOf => "max_of",
        }
    }
}

/// What a duration expression may depend on when evaluated.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct DurationContext {
    /// The query step in milliseconds (0 for instant queries).
    pub step_ms: i64,
    /// The query range (end - start) in milliseconds (0 for instant queries).
    pub range_ms: i64,
}

impl DurationExpr {
    /// The node's position.
    pub fn span(&self) -> Span {
        match self {
            DurationExpr::Literal(n) => n.span,
            DurationExpr::Unary { span, .. }
            | DurationExpr::Binary { span, .. }
            | DurationExpr::Paren { span, .. }
            | DurationExpr::Call { span, .. } => *span,
        }
    }

    /// A literal duration of `ms` milliseconds, printed as a duration (`5m`).
    pub fn from_millis(ms: i64) -> Self {
        DurationExpr::Literal(NumberLiteral {
            value: ms as f64 / 1000.0,
            duration: true,
            span: Span::default(),
        })
    }

    /// Whether the value depends on `step()` or `range()`.
    pub fn is_constant(&self) -> bool {
        match self {
            DurationExpr::Literal(_) => true,
            DurationExpr::Unary { expr, .. } | DurationExpr::Paren { expr, .. } => {
                expr.is_constant()
            }
            DurationExpr::Binary { lhs, rhs, .. } => lhs.is_constant() && rhs.is_constant(),
            DurationExpr::Call {
                func: DurationFn::Step | DurationFn::Range,
                ..
            } => false,
            DurationExpr::Call { args, .. } => args.iter().all(DurationExpr::is_constant),
        }
    }

    /// The value in seconds.
    pub fn eval_seconds(&self, ctx: &DurationContext) -> f64 {
        match self {
            DurationExpr::Literal(n) => n.value,
            DurationExpr::Unary {
                op: UnaryOp::Neg,
                expr,
                ..
            } => -expr.eval_seconds(ctx),
            DurationExpr::Unary {
                op: UnaryOp::Pos,
                expr,
                ..
            }
            | DurationExpr::Paren { expr, .. } => expr.eval_seconds(ctx),
            DurationExpr::Binary { op, lhs, rhs, .. } => {
                let (a, b) = (lhs.eval_seconds(ctx), rhs.eval_seconds(ctx));
                match op {
                    BinaryOp::Add => a + b,
                    BinaryOp::Sub => a - b,
                    BinaryOp::Mul => a * b,
                    BinaryOp::Div => a / b,
                    BinaryOp::Mod => a % b,
                    BinaryOp::Pow => a.powf(b),
                    _ => f64::NAN,
                }
            }
            DurationExpr::Call { func, args, .. } => {
                let arg = |i: usize| args.get(i).map_or(f64::NAN, |a| a.eval_seconds(ctx));
                match func {
                    DurationFn::Step => ctx.step_ms as f64 / 1000.0,
                    DurationFn::Range => ctx.range_ms as f64 / 1000.0,
                    DurationFn::MinOf => arg(0).min(arg(1)),
                    DurationFn::MaxOf => arg(0).max(arg(1)),
                }
            }
        }
    }

    /// The value in whole milliseconds (rounded), or `None` when it is not finite or does
    /// not fit in an `i64`.
    pub fn eval_millis(&self, ctx: &DurationContext) -> Option<i64> {
        seconds_to_millis(self.eval_seconds(ctx))
    }

    /// The value in milliseconds if it does not depend on the query.
    pub fn constant_millis(&self) -> Option<i64> {
        if self.is_constant() {
            self.eval_millis(&DurationContext::default())
        } else {
            None
        }
    }
}

/// Converts seconds to rounded milliseconds, `None` when not representable.
pub(crate) fn seconds_to_millis(s: f64) -> Option<i64> {
    let ms = (s * 1000.0).round();
    (ms.is_finite() && ms.abs() < 9.2e18).then_some(ms as i64)
}
