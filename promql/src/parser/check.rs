//! Building binary nodes, and the type checks Prometheus's `checkAST` makes once the whole
//! query has parsed (so a syntax error anywhere wins over a type error), in its order and
//! with its messages and positions.

use kagari_model::METRIC_NAME;

use super::ast::*;
use super::error::ParseErrorKind;
use super::functions::FunctionId;
use super::parse::{BinModifiers, PResult, Parser};

/// What a binary node's modifiers said, kept for [`Parser::check_ast`] (the node itself
/// only keeps vector matching between two instant vectors).
#[derive(Debug, Clone, Default)]
pub(crate) struct BinaryMods {
    /// Whether `on`/`ignoring` named labels.
    has_labels: bool,
    /// `group_left`/`group_right` was given.
    grouped: bool,
    /// A label both in `on(...)` and in `group_x(...)`.
    on_and_group: Option<String>,
    /// A `fill` modifier was given.
    filled: bool,
}

impl Parser<'_> {
    /// Builds a binary expression; its checks wait for [`Parser::check_ast`].
    pub(crate) fn binary(&mut self, op: BinaryOp, lhs: Expr, rhs: Expr, m: BinModifiers) -> Expr {
        let span = lhs.span().to(rhs.span());
        let both_vectors =
            lhs.value_type() == ValueType::Vector && rhs.value_type() == ValueType::Vector;
        let mut card = Cardinality::OneToOne;
        let mut include = Vec::new();
        let mut mods = BinaryMods {
            has_labels: !m.labels.is_empty(),
            grouped: m.group.is_some(),
            on_and_group: None,
            filled: m.fill_left.is_some() || m.fill_right.is_some(),
        };
        if let Some((c, inc)) = m.group {
            if m.on == Some(true) {
                mods.on_and_group = inc.iter().find(|l| m.labels.contains(l)).cloned();
            }
            card = c;
            include = inc;
        }
        if op.is_set_operator() {
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
        // Most operators have no modifiers; only those that do are remembered.
        if mods.has_labels || mods.grouped || mods.filled {
            self.binary_mods.insert((span.start, span.end), mods);
        }
        Expr::Binary(BinaryExpr {
            op,
            lhs: Box::new(lhs),
            rhs: Box::new(rhs),
            return_bool: m.return_bool,
            matching,
            span,
        })
    }

    fn expect_type(
        &self,
        e: &Expr,
        want: ValueType,
        context: impl FnOnce() -> String,
    ) -> PResult<()> {
        let got = self.check_ast(e)?;
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

    /// Type-checks a parsed tree the way Prometheus's `checkAST` walks it; the first error.
    ///
    /// Trees can be over a thousand binary nodes deep, so the recursive path (this function
    /// and [`Parser::check_binary`]) keeps its frames small and leaves the rules to helpers.
    pub(crate) fn check_ast(&self, e: &Expr) -> PResult<ValueType> {
        match e {
            Expr::Binary(b) => self.check_binary(b),
            _ => self.check_other(e),
        }
    }

    #[inline(never)]
    fn check_other(&self, e: &Expr) -> PResult<ValueType> {
        match e {
            Expr::Number(_) => Ok(ValueType::Scalar),
            Expr::String(_) => Ok(ValueType::String),
            Expr::Paren(p) => self.check_ast(&p.expr),
            Expr::VectorSelector(v) => {
                self.check_selector(v)?;
                Ok(ValueType::Vector)
            }
            Expr::MatrixSelector(m) => {
                self.check_selector(&m.vector)?;
                Ok(ValueType::Matrix)
            }
            Expr::Unary(u) => {
                let t = self.check_ast(&u.expr)?;
                if !matches!(t, ValueType::Scalar | ValueType::Vector) {
                    return Err(self.err_at(u.span, ParseErrorKind::UnaryType(t.to_string())));
                }
                Ok(t)
            }
            Expr::Subquery(s) => {
                let t = self.check_ast(&s.expr)?;
                if t != ValueType::Vector {
                    return Err(self.err_at(s.span, ParseErrorKind::SubqueryType(t)));
                }
                Ok(ValueType::Matrix)
            }
            Expr::Aggregate(a) => {
                self.expect_type(&a.expr, ValueType::Vector, || {
                    "aggregation expression".to_string()
                })?;
                if let (Some(want), Some(p)) = (a.op.param_type(), &a.param) {
                    self.expect_type(p, want, || "aggregation parameter".to_string())?;
                }
                Ok(ValueType::Vector)
            }
            Expr::Call(c) => {
                self.check_call(c)?;
                Ok(e.value_type())
            }
            Expr::Binary(b) => self.check_binary(b),
        }
    }

    fn check_binary(&self, b: &BinaryExpr) -> PResult<ValueType> {
        let lt = self.check_ast(&b.lhs)?;
        let rt = self.check_ast(&b.rhs)?;
        self.binary_rules(b, lt, rt)
    }

    #[inline(never)]
    fn binary_rules(&self, b: &BinaryExpr, lt: ValueType, rt: ValueType) -> PResult<ValueType> {
        let mods = self
            .binary_mods
            .get(&(b.span.start, b.span.end))
            .cloned()
            .unwrap_or_default();
        let op = b.op;
        // The operator and its modifiers, without the blanks around them.
        let op_span = {
            let text = self.query.as_bytes();
            let mut start = b.lhs.span().end;
            while text.get(start).is_some_and(u8::is_ascii_whitespace) {
                start += 1;
            }
            Span::new(start, b.rhs.span().start.max(start))
        };
        if b.return_bool && !op.is_comparison() {
            return Err(self.err_at(
                op_span,
                ParseErrorKind::Invalid("bool modifier can only be used on comparison operators"),
            ));
        }
        if op.is_comparison()
            && !b.return_bool
            && lt == ValueType::Scalar
            && rt == ValueType::Scalar
        {
            return Err(self.err_at(
                op_span,
                ParseErrorKind::Invalid("comparisons between scalars must use BOOL modifier"),
            ));
        }
        if let Some(l) = mods.on_and_group {
            return Err(self.err_at(
                op_span,
                ParseErrorKind::InvalidNamed {
                    rule: "label",
                    subject: l,
                    suffix: " must not occur in ON and GROUP clause at once",
                },
            ));
        }
        for (t, side) in [(lt, &b.lhs), (rt, &b.rhs)] {
            if !matches!(t, ValueType::Scalar | ValueType::Vector) {
                return Err(self.err_at(
                    side.span(),
                    ParseErrorKind::Invalid(
                        "binary expression must contain only scalar and instant vector types",
                    ),
                ));
            }
        }
        let both_vectors = lt == ValueType::Vector && rt == ValueType::Vector;
        let fail = |k: ParseErrorKind| Err(self.err_at(b.span, k));
        if !both_vectors {
            if mods.has_labels {
                return fail(ParseErrorKind::Invalid(
                    "vector matching only allowed between instant vectors",
                ));
            }
            if mods.filled {
                return fail(ParseErrorKind::Invalid(
                    "fill modifiers only allowed between instant vectors",
                ));
            }
        } else if op.is_set_operator() {
            if mods.grouped {
                return fail(ParseErrorKind::InvalidNamed {
                    rule: "no grouping allowed for",
                    subject: op.as_str().to_string(),
                    suffix: " operation",
                });
            }
            if mods.filled {
                return fail(ParseErrorKind::InvalidNamed {
                    rule: "fill modifiers not allowed for",
                    subject: op.as_str().to_string(),
                    suffix: " operation",
                });
            }
        }
        if op.is_set_operator() && (lt == ValueType::Scalar || rt == ValueType::Scalar) {
            return fail(ParseErrorKind::InvalidNamed {
                rule: "set operator",
                subject: op.as_str().to_string(),
                suffix: " not allowed in binary scalar expression",
            });
        }
        Ok(if lt == ValueType::Scalar && rt == ValueType::Scalar {
            ValueType::Scalar
        } else {
            ValueType::Vector
        })
    }

    /// A metric name given twice, then "at least one non-empty matcher" (except for the label
    /// selector given as the second argument of `info()`, see [`Parser::check_call`]).
    fn check_selector(&self, v: &VectorSelector) -> PResult<()> {
        if let Some(name) = &v.name {
            if let Some(m) = v.matchers.iter().skip(1).find(|m| m.name() == METRIC_NAME) {
                return Err(self.err_at(
                    v.span,
                    ParseErrorKind::NameSetTwice(name.clone(), m.value().to_string()),
                ));
            }
        }
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

    /// Checks a call's arity, then each argument (its own checks, then its type and
    /// range-selector extension).
    fn check_call(&self, c: &Call) -> PResult<()> {
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
            let relaxed = f.id == FunctionId::Info && i == 1;
            match (relaxed, arg) {
                (true, Expr::VectorSelector(_)) => {}
                _ => match f.arg_type(i) {
                    Some(want) => {
                        self.expect_type(arg, want, || format!("call to function {:?}", f.name))?
                    }
                    None => {
                        self.check_ast(arg)?;
                    }
                },
            }
            self.check_extension(f.id, f.name, arg)?;
        }
        Ok(())
    }

    /// `anchored` / `smoothed` ranges only go to the functions that support them.
    fn check_extension(&self, id: FunctionId, name: &'static str, arg: &Expr) -> PResult<()> {
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
            None => return Ok(()),
        };
        match ext.filter(|_| !allowed.contains(&id)) {
            Some(ext) => Err(self.err_at(
                arg.span(),
                ParseErrorKind::ExtensionNotAllowed {
                    ext: ext.as_str(),
                    allowed: if ext == RangeExtension::Smoothed {
                        "delta, increase, rate"
                    } else {
                        "changes, delta, increase, rate, resets"
                    },
                    func: name,
                },
            )),
            None => Ok(()),
        }
    }
}
