//! Function calls, aggregations, `by`/`without`/`on`/`ignoring` label lists and the other
//! modifiers between a binary operator and its right operand.

use super::ast::*;
use super::error::ParseErrorKind;
use super::functions::function_by_name;
use super::lexer::{Token, TokenKind};
use super::literals::unquote;
use super::parse::{BinModifiers, PResult, Parser};

impl Parser<'_> {
    /// A function call; as in Prometheus, the name is looked up once the arguments parsed.
    pub(crate) fn call(&mut self, name_tok: Token) -> PResult<Expr> {
        let name = self.text(name_tok);
        self.next();
        self.next(); // `(`
        let (args, close) = self.args()?;
        let func = function_by_name(name)
            .or_else(|| {
                let lower = name.to_ascii_lowercase();
                matches!(lower.as_str(), "start" | "end" | "step" | "range")
                    .then(|| function_by_name(&lower))
                    .flatten()
            })
            .ok_or_else(|| {
                self.err(
                    name_tok.start,
                    name_tok.end,
                    ParseErrorKind::UnknownFunction(name.to_string()),
                )
            })?;
        if func.experimental && !self.opts.experimental_functions {
            return Err(self.err(
                name_tok.start,
                name_tok.end,
                ParseErrorKind::FunctionNotEnabled(func.name.to_string()),
            ));
        }
        let span = Span::new(name_tok.start, close);
        Ok(Expr::Call(Call { func, args, span }))
    }

    /// Comma-separated expressions up to `)` (the `(` consumed); returns them and the end
    /// offset. A trailing comma is an error, as in Prometheus.
    fn args(&mut self) -> PResult<(Vec<Expr>, usize)> {
        let mut args = Vec::new();
        if self.peek().kind == TokenKind::RParen {
            return Ok((args, self.next().end));
        }
        loop {
            args.push(self.expr(0)?);
            let t = self.peek();
            match t.kind {
                TokenKind::Comma => {
                    self.next();
                    if self.peek().kind == TokenKind::RParen {
                        return Err(self.err(
                            t.start,
                            t.end,
                            ParseErrorKind::Invalid(
                                "trailing commas not allowed in function call args",
                            ),
                        ));
                    }
                }
                TokenKind::RParen => return Ok((args, self.next().end)),
                _ => return Err(self.unexpected(t, "", "")),
            }
        }
    }

    pub(crate) fn aggregate(&mut self, op: AggregateOp, kw: Token) -> PResult<Expr> {
        if matches!(op, AggregateOp::Limitk | AggregateOp::LimitRatio)
            && !self.opts.experimental_functions
        {
            return Err(self.err(kw.start, kw.end, ParseErrorKind::LimitNotEnabled));
        }
        self.next();
        let outer = std::mem::replace(&mut self.generic_context, "aggregation");
        let mut grouping = self.grouping_clause()?;
        let open = self.peek();
        if open.kind != TokenKind::LParen {
            return Err(self.unexpected(open, "aggregation", ""));
        }
        self.next();
        let (mut args, mut end) = self.args()?;
        self.generic_context = outer;
        if grouping.is_none() {
            grouping = self.grouping_clause()?;
            if grouping.is_some() {
                end = self.prev_end();
            }
        }
        let span = Span::new(kw.start, end);
        if args.is_empty() {
            return Err(self.err_at(
                span,
                ParseErrorKind::Invalid("no arguments for aggregate expression provided"),
            ));
        }
        let expected = if op.param_type().is_some() { 2 } else { 1 };
        if args.len() != expected {
            return Err(self.err_at(
                span,
                ParseErrorKind::AggregateArity {
                    expected,
                    got: args.len(),
                },
            ));
        }
        let expr = args.pop().map(Box::new);
        let param = args.pop().map(Box::new);
        let Some(expr) = expr else {
            return Err(self.err_at(span, ParseErrorKind::AggregateArity { expected, got: 0 }));
        };
        let agg = AggregateExpr {
            op,
            expr,
            param,
            grouping: grouping.unwrap_or(Grouping::By(Vec::new())),
            span,
        };
        Ok(Expr::Aggregate(agg))
    }

    /// An optional `by (...)` / `without (...)`.
    fn grouping_clause(&mut self) -> PResult<Option<Grouping>> {
        if self.at_keyword("by") {
            self.next();
            Ok(Some(Grouping::By(self.label_list()?)))
        } else if self.at_keyword("without") {
            self.next();
            Ok(Some(Grouping::Without(self.label_list()?)))
        } else {
            Ok(None)
        }
    }

    /// `( name, "quoted name", ... )` with an optional trailing comma.
    pub(crate) fn label_list(&mut self) -> PResult<Vec<String>> {
        const CONTEXT: &str = "grouping opts";
        self.expect(TokenKind::LParen, CONTEXT, "\"(\"")?;
        let mut labels = Vec::new();
        loop {
            let t = self.peek();
            match t.kind {
                TokenKind::RParen => {
                    self.next();
                    return Ok(labels);
                }
                TokenKind::Ident if !self.text(t).contains(':') => {
                    self.next();
                    labels.push(self.text(t).to_string());
                }
                TokenKind::String => {
                    self.next();
                    labels.push(unquote(self.text(t)).map_err(|k| self.err(t.start, t.end, k))?);
                }
                _ => return Err(self.unexpected(t, CONTEXT, "label")),
            }
            let t = self.peek();
            match t.kind {
                TokenKind::Comma => {
                    self.next();
                }
                TokenKind::RParen => {}
                _ => return Err(self.unexpected(t, CONTEXT, "\",\" or \")\"")),
            }
        }
    }

    // ---- binary operators ---------------------------------------------------------------

    pub(crate) fn bin_modifiers(&mut self, op: BinaryOp) -> PResult<BinModifiers> {
        let mut m = BinModifiers {
            span: Span::new(self.peek().start, self.peek().start),
            ..Default::default()
        };
        if self.at_keyword("bool") {
            self.next();
            m.return_bool = true;
        }
        if self.at_keyword("on") || self.at_keyword("ignoring") {
            m.on = Some(self.at_keyword("on"));
            self.next();
            m.labels = self.label_list()?;
        }
        // `group_left`/`group_right` only follow `on`/`ignoring`.
        if m.on.is_some() && (self.at_keyword("group_left") || self.at_keyword("group_right")) {
            let card = if self.at_keyword("group_left") {
                Cardinality::ManyToOne
            } else {
                Cardinality::OneToMany
            };
            self.next();
            let include = if self.peek().kind == TokenKind::LParen {
                self.label_list()?
            } else if self.starts_operand(self.peek()) {
                Vec::new()
            } else {
                return Err(self.unexpected(self.peek(), "grouping opts", "\"(\""));
            };
            m.group = Some((card, include));
        }
        loop {
            let which = ["fill", "fill_left", "fill_right"]
                .into_iter()
                .find(|k| self.at_keyword(k));
            let Some(which) = which.filter(|_| self.peek_at(1).kind == TokenKind::LParen) else {
                break;
            };
            let kw = self.next();
            if !self.opts.binop_fill_modifiers {
                return Err(self.err(
                    kw.start,
                    kw.end,
                    ParseErrorKind::FeatureNotEnabled("the fill modifier"),
                ));
            }
            self.next();
            let v = self.fill_value()?;
            self.expect(TokenKind::RParen, "fill modifier", "\")\"")?;
            if which != "fill_right" {
                m.fill_left = Some(v);
            }
            if which != "fill_left" {
                m.fill_right = Some(v);
            }
        }
        m.span.end = self.peek().start;
        let _ = op;
        Ok(m)
    }

    fn fill_value(&mut self) -> PResult<f64> {
        let mut sign = 1.0;
        loop {
            match self.peek().kind {
                TokenKind::Sub => sign = -sign,
                TokenKind::Add => {}
                _ => break,
            }
            self.next();
        }
        let t = self.next();
        let v = match t.kind {
            TokenKind::Number => self.number(t)?.value,
            TokenKind::Ident if self.text(t).eq_ignore_ascii_case("inf") => f64::INFINITY,
            TokenKind::Ident if self.text(t).eq_ignore_ascii_case("nan") => f64::NAN,
            _ => return Err(self.unexpected(t, "fill modifier", "number")),
        };
        Ok(sign * v)
    }
}
