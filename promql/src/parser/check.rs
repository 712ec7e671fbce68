//! Type checking while the tree is built, with Prometheus's `checkAST` messages.

use super::ast::*;
use super::error::ParseErrorKind;
use super::functions::FunctionId;
use super::parse::{BinModifiers, PResult, Parser};

impl Parser<'_> {
    fn expect_type(
        &self,
        e: &Expr,
        want: ValueType,
        context: impl FnOnce() -> String,
    ) -> PResult<()> {
        let got = e.value_type();
        if got == want {
            return Ok(());
        }
        Err(self.err_at(
            e.span(),
            ParseErrorKind::TypeMismatch {
                expected: want,
                got,
                context: context(),
            },
        ))
    }

    /// Builds and checks a binary expression.
    pub(crate) fn binary(
        &self,
        op: BinaryOp,
        lhs: Expr,
        rhs: Expr,
        m: BinModifiers,
    ) -> PResult<Expr> {
        let span = lhs.span().to(rhs.span());
        let (lt, rt) = (lhs.value_type(), rhs.value_type());
        let fail = |k: ParseErrorKind| Err(self.err_at(span, k));
        for t in [lt, rt] {
            if !matches!(t, ValueType::Scalar | ValueType::Vector) {
                return fail(ParseErrorKind::Invalid(
                    "binary expression must contain only scalar and instant vector types",
                ));
            }
        }
        if m.return_bool && !op.is_comparison() {
            return fail(ParseErrorKind::Invalid(
                "bool modifier can only be used on comparison operators",
            ));
        }
        let both_vectors = lt == ValueType::Vector && rt == ValueType::Vector;
        if op.is_comparison()
            && !m.return_bool
            && lt == ValueType::Scalar
            && rt == ValueType::Scalar
        {
            return fail(ParseErrorKind::Invalid(
                "comparisons between scalars must use BOOL modifier",
            ));
        }
        if op.is_set_operator() && (lt == ValueType::Scalar || rt == ValueType::Scalar) {
            return fail(ParseErrorKind::InvalidNamed {
                rule: "set operator",
                subject: op.as_str().to_string(),
                suffix: " not allowed in binary scalar expression",
            });
        }
        let has_matching = m.on == Some(true) || !m.labels.is_empty() || m.group.is_some();
        if has_matching && !both_vectors {
            return fail(ParseErrorKind::Invalid(
                "vector matching only allowed between instant vectors",
            ));
        }
        if (m.fill_left.is_some() || m.fill_right.is_some()) && !both_vectors {
            return fail(ParseErrorKind::Invalid(
                "fill modifiers only allowed between instant vectors",
            ));
        }
        let mut card = Cardinality::OneToOne;
        let mut include = Vec::new();
        if let Some((c, inc)) = m.group {
            if op.is_set_operator() {
                return fail(ParseErrorKind::InvalidNamed {
                    rule: "no grouping allowed for",
                    subject: op.as_str().to_string(),
                    suffix: " operation",
                });
            }
            if m.on == Some(true) {
                if let Some(l) = inc.iter().find(|l| m.labels.contains(l)) {
                    return fail(ParseErrorKind::InvalidNamed {
                        rule: "label",
                        subject: l.clone(),
                        suffix: " must not occur in ON and GROUP clause at once",
                    });
                }
            }
            card = c;
            include = inc;
        }
        if op.is_set_operator() {
            if m.fill_left.is_some() || m.fill_right.is_some() {
                return fail(ParseErrorKind::InvalidNamed {
                    rule: "fill modifiers not allowed for",
                    subject: op.as_str().to_string(),
                    suffix: " operation",
                });
            }
            card = Cardinality::ManyToMany;
        }
        let matching = both_vectors.then(|| VectorMatching {
            card,
            on: m.on == Some(true),
            labels: m.labels,
            include,
            fill_left: m.fill_left,
            fill_right: m.fill_right,
        });
        Ok(Expr::Binary(BinaryExpr {
            op,
            lhs: Box::new(lhs),
            rhs: Box::new(rhs),
            return_bool: m.return_bool,
            matching,
            span,
        }))
    }

    /// Enforces "at least one non-empty matcher" on every selector except the label
    /// selector given as the second argument of `info()`.
    pub(crate) fn check_selectors(&self, e: &Expr) -> PResult<()> {
        match e {
            Expr::VectorSelector(v) => self.check_selector(v),
            Expr::MatrixSelector(m) => self.check_selector(&m.vector),
            Expr::Subquery(s) => self.check_selectors(&s.expr),
            Expr::Call(c) => {
                for (i, a) in c.args.iter().enumerate() {
                    let relaxed = c.func.id == FunctionId::Info && i == 1;
                    if !(relaxed && matches!(a, Expr::VectorSelector(_))) {
                        self.check_selectors(a)?;
                    }
                }
                Ok(())
            }
            Expr::Aggregate(a) => {
                if let Some(p) = &a.param {
                    self.check_selectors(p)?;
                }
                self.check_selectors(&a.expr)
            }
            Expr::Binary(b) => {
                self.check_selectors(&b.lhs)?;
                self.check_selectors(&b.rhs)
            }
            Expr::Unary(u) => self.check_selectors(&u.expr),
            Expr::Paren(p) => self.check_selectors(&p.expr),
            Expr::Number(_) | Expr::String(_) => Ok(()),
        }
    }

    fn check_selector(&self, v: &VectorSelector) -> PResult<()> {
        if v.name.is_none() && v.matchers.iter().all(|m| m.matches_empty()) {
            return Err(self.err_at(
                v.span,
                ParseErrorKind::Invalid(
                    "vector selector must contain at least one non-empty matcher",
                ),
            ));
        }
        Ok(())
    }

    /// Checks an aggregation's operand and parameter types.
    pub(crate) fn check_aggregate(&self, a: &AggregateExpr) -> PResult<()> {
        self.expect_type(&a.expr, ValueType::Vector, || {
            "aggregation expression".to_string()
        })?;
        if let (Some(want), Some(p)) = (a.op.param_type(), &a.param) {
            self.expect_type(p, want, || "aggregation parameter".to_string())?;
        }
        Ok(())
    }

    /// Checks a call's arity, argument types and range-selector extensions.
    pub(crate) fn check_call(&self, c: &Call) -> PResult<()> {
        let f = c.func;
        let n = c.args.len();
        let arity = |bound, expected| {
            Err(self.err_at(
                c.span,
                ParseErrorKind::Arity {
                    bound,
                    expected,
                    func: f.name,
                    got: n,
                },
            ))
        };
        if f.variadic == 0 {
            if n != f.arg_types.len() {
                return arity("", f.arg_types.len());
            }
        } else if n < f.min_args() {
            return arity("at least ", f.min_args());
        } else if let Some(max) = f.max_args().filter(|m| n > *m) {
            return arity("at most ", max);
        }
        for (i, arg) in c.args.iter().enumerate() {
            if let Some(want) = f.arg_type(i) {
                self.expect_type(arg, want, || format!("call to function {:?}", f.name))?;
            }
            let ext = match arg {
                Expr::MatrixSelector(m) => m.vector.extension,
                _ => None,
            };
            let allowed: &[FunctionId] = match ext {
                Some(RangeExtension::Smoothed) => {
                    &[FunctionId::Delta, FunctionId::Increase, FunctionId::Rate]
                }
                Some(RangeExtension::Anchored) => &[
                    FunctionId::Changes,
                    FunctionId::Delta,
                    FunctionId::Increase,
                    FunctionId::Rate,
                    FunctionId::Resets,
                ],
                None => continue,
            };
            if let Some(ext) = ext.filter(|_| !allowed.contains(&f.id)) {
                return Err(self.err_at(
                    arg.span(),
                    ParseErrorKind::ExtensionNotAllowed {
                        ext: ext.as_str(),
                        allowed: if ext == RangeExtension::Smoothed {
                            "delta, increase, rate"
                        } else {
                            "changes, delta, increase, rate, resets"
                        },
                        func: f.name,
                    },
                ));
            }
        }
        Ok(())
    }
}
