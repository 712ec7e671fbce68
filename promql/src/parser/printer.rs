//! Canonical single-line PromQL, printed the way Prometheus's `String()` methods do.
//!
//! Parsing the printed form of a parsed tree yields an equal tree.

use std::fmt::{self, Display, Formatter, Write};

use kagari_model::{is_valid_label_name, is_valid_metric_name, Matcher};

use super::ast::*;
use super::literals::{format_duration, format_float, quote};

/// Prints an expression as canonical PromQL (the same as `expr.to_string()`).
pub fn format_query(expr: &Expr) -> String {
    expr.to_string()
}

fn label(f: &mut Formatter<'_>, name: &str) -> fmt::Result {
    if is_valid_label_name(name) {
        f.write_str(name)
    } else {
        f.write_str(&quote(name))
    }
}

fn label_list(f: &mut Formatter<'_>, labels: &[String]) -> fmt::Result {
    f.write_char('(')?;
    for (i, l) in labels.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        label(f, l)?;
    }
    f.write_char(')')
}

/// `(a, "b.c")` as printed after `by`, `without`, `on`, `ignoring` and `group_*`.
pub(crate) fn label_list_string(labels: &[String]) -> String {
    struct L<'a>(&'a [String]);
    impl Display for L<'_> {
        fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
            label_list(f, self.0)
        }
    }
    L(labels).to_string()
}

fn matcher(f: &mut Formatter<'_>, m: &Matcher) -> fmt::Result {
    label(f, m.name())?;
    f.write_str(m.match_type().as_str())?;
    f.write_str(&quote(m.value()))
}

impl Display for Expr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Number(n) => n.fmt(f),
            Expr::String(s) => f.write_str(&quote(&s.value)),
            Expr::VectorSelector(v) => v.fmt(f),
            Expr::MatrixSelector(m) => m.fmt(f),
            Expr::Subquery(s) => s.fmt(f),
            Expr::Call(c) => c.fmt(f),
            Expr::Aggregate(a) => a.fmt(f),
            Expr::Binary(b) => b.fmt(f),
            Expr::Unary(u) => {
                f.write_str(if u.op == UnaryOp::Neg { "-" } else { "+" })?;
                u.expr.fmt(f)
            }
            Expr::Paren(p) => write!(f, "({})", p.expr),
        }
    }
}

impl Display for NumberLiteral {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match super::ast::seconds_to_millis(self.value) {
            Some(ms) if self.duration => f.write_str(&format_duration(ms)),
            _ => f.write_str(&format_float(self.value)),
        }
    }
}

impl VectorSelector {
    /// Name and matchers without modifiers.
    fn fmt_selector(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let skip_name = usize::from(self.name.is_some());
        let rest = self.matchers.get(skip_name..).unwrap_or_default();
        let bare = self.name.as_deref().filter(|n| is_valid_metric_name(n));
        if let Some(n) = bare {
            f.write_str(n)?;
            if rest.is_empty() {
                return Ok(());
            }
        }
        f.write_char('{')?;
        let mut first = true;
        if let (Some(n), None) = (&self.name, bare) {
            f.write_str(&quote(n))?;
            first = false;
        }
        for m in rest {
            if !first {
                f.write_char(',')?;
            }
            first = false;
            matcher(f, m)?;
        }
        f.write_char('}')
    }

    fn fmt_modifiers(&self, f: &mut Formatter<'_>) -> fmt::Result {
        fmt_at_offset(f, self.at, self.offset.as_ref())?;
        if let Some(e) = self.extension {
            write!(f, " {}", e.as_str())?;
        }
        Ok(())
    }
}

fn fmt_at_offset(
    f: &mut Formatter<'_>,
    at: Option<AtModifier>,
    offset: Option<&DurationExpr>,
) -> fmt::Result {
    match at {
        Some(AtModifier::Timestamp(ms)) => write!(f, " @ {:.3}", ms as f64 / 1000.0)?,
        Some(AtModifier::Start) => f.write_str(" @ start()")?,
        Some(AtModifier::End) => f.write_str(" @ end()")?,
        None => {}
    }
    if let Some(o) = offset {
        write!(f, " offset {o}")?;
    }
    Ok(())
}

impl Display for VectorSelector {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        self.fmt_selector(f)?;
        self.fmt_modifiers(f)
    }
}

impl Display for MatrixSelector {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        self.vector.fmt_selector(f)?;
        write!(f, "[{}]", self.range)?;
        self.vector.fmt_modifiers(f)
    }
}

impl Display for SubqueryExpr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}[{}:", self.expr, self.range)?;
        if let Some(s) = &self.step {
            s.fmt(f)?;
        }
        f.write_char(']')?;
        fmt_at_offset(f, self.at, self.offset.as_ref())
    }
}

impl Display for Call {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}(", self.func.name)?;
        for (i, a) in self.args.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            a.fmt(f)?;
        }
        f.write_char(')')
    }
}

impl Display for AggregateExpr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(self.op.as_str())?;
        match &self.grouping {
            Grouping::By(l) if l.is_empty() => {}
            Grouping::By(l) => {
                f.write_str(" by ")?;
                label_list(f, l)?;
                f.write_char(' ')?;
            }
            Grouping::Without(l) => {
                f.write_str(" without ")?;
                label_list(f, l)?;
                f.write_char(' ')?;
            }
        }
        f.write_char('(')?;
        if let Some(p) = &self.param {
            write!(f, "{p}, ")?;
        }
        write!(f, "{})", self.expr)
    }
}

impl Display for BinaryExpr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match &*self.lhs {
            // Prometheus prints `+Inf`, but `+Inf ^ x` would read back as `+(Inf ^ x)`.
            Expr::Number(n) if self.op == BinaryOp::Pow && n.value == f64::INFINITY => {
                write!(f, "Inf {}", self.op.as_str())?
            }
            lhs => write!(f, "{lhs} {}", self.op.as_str())?,
        }
        if self.return_bool {
            f.write_str(" bool")?;
        }
        if let Some(m) = &self.matching {
            let grouped = matches!(m.card, Cardinality::ManyToOne | Cardinality::OneToMany);
            if m.on || !m.labels.is_empty() || grouped {
                f.write_str(if m.on { " on " } else { " ignoring " })?;
                label_list(f, &m.labels)?;
            }
            if grouped {
                f.write_str(if m.card == Cardinality::ManyToOne {
                    " group_left "
                } else {
                    " group_right "
                })?;
                label_list(f, &m.include)?;
            }
            match (m.fill_left, m.fill_right) {
                (Some(l), Some(r)) if l == r || (l.is_nan() && r.is_nan()) => {
                    write!(f, " fill({})", format_float(l))?
                }
                (l, r) => {
                    if let Some(l) = l {
                        write!(f, " fill_left({})", format_float(l))?;
                    }
                    if let Some(r) = r {
                        write!(f, " fill_right({})", format_float(r))?;
                    }
                }
            }
        }
        write!(f, " {}", self.rhs)
    }
}

impl Display for DurationExpr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            DurationExpr::Literal(n) => n.fmt(f),
            DurationExpr::Unary { op, expr, .. } => {
                f.write_str(if *op == UnaryOp::Neg { "-" } else { "+" })?;
                expr.fmt(f)
            }
            DurationExpr::Binary { op, lhs, rhs, .. } => write!(f, "{lhs} {} {rhs}", op.as_str()),
            DurationExpr::Paren { expr, .. } => write!(f, "({expr})"),
            DurationExpr::Call { func, args, .. } => {
                write!(f, "{}(", func.as_str())?;
                for (i, a) in args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    a.fmt(f)?;
                }
                f.write_char(')')
            }
        }
    }
}
