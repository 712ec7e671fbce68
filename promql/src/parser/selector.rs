//! Vector selectors, label matchers and the postfix modifiers: `[range]`, `[range:step]`,
//! `offset`, `@`, `anchored` and `smoothed`, plus duration expressions.

use kagari_model::{MatchType, Matcher, METRIC_NAME};

use super::ast::seconds_to_millis;
use super::ast::*;
use super::error::ParseErrorKind;
use super::lexer::{Token, TokenKind};
use super::literals::unquote;
use super::parse::{PResult, Parser};
use super::regex_error::go_regex_error;

const AT_TARGET: &str =
    "@ modifier must be preceded by an instant vector selector or range vector selector or a subquery";
const OFFSET_TARGET: &str =
    "offset modifier must be preceded by an instant vector selector or range vector selector or a subquery";

impl Parser<'_> {
    /// Parses `{...}` (if present) after an optional metric name that was already consumed.
    pub(crate) fn vector_selector(
        &mut self,
        name: Option<(String, Token)>,
    ) -> PResult<VectorSelector> {
        let start = name.as_ref().map_or(self.peek().start, |(_, t)| t.start);
        let mut end = name.as_ref().map_or(start, |(_, t)| t.end);
        let mut metric = name.map(|(n, _)| n);
        let mut matchers = Vec::new();
        if self.peek().kind == TokenKind::LBrace {
            self.next();
            loop {
                let t = self.peek();
                match t.kind {
                    TokenKind::RBrace => {
                        end = self.next().end;
                        break;
                    }
                    TokenKind::String
                        if matches!(self.peek_at(1).kind, TokenKind::Comma | TokenKind::RBrace) =>
                    {
                        // A quoted metric name: `{"my.metric"}`.
                        self.next();
                        let n = unquote(self.text(t)).map_err(|k| self.err(t.start, t.end, k))?;
                        if let Some(old) = metric.as_ref() {
                            return Err(self.err(t.start, t.end, twice(old, &n)));
                        }
                        if let Some(m) =
                            matchers.iter().find(|m: &&Matcher| m.name() == METRIC_NAME)
                        {
                            return Err(self.err(t.start, t.end, twice(m.value(), &n)));
                        }
                        metric = Some(n);
                    }
                    TokenKind::LabelName | TokenKind::String => {
                        // A second metric name is reported by the type checks, as in
                        // Prometheus.
                        let m = self.matcher()?;
                        matchers.push(m);
                    }
                    _ => return Err(self.unexpected(t, "label matching", "identifier or \"}\"")),
                }
                let t = self.peek();
                match t.kind {
                    TokenKind::Comma => {
                        self.next();
                    }
                    TokenKind::RBrace => {}
                    _ => return Err(self.unexpected(t, "label matching", "\",\" or \"}\"")),
                }
            }
        }
        let span = Span::new(start, end);
        if let Some(n) = &metric {
            let m = Matcher::new(MatchType::Equal, METRIC_NAME, n)
                .map_err(|e| self.err_at(span, e.into()))?;
            matchers.insert(0, m);
        }
        Ok(VectorSelector {
            name: metric,
            matchers,
            offset: None,
            at: None,
            extension: None,
            span,
        })
    }

    /// `name op "value"` where name is a word or a quoted string.
    fn matcher(&mut self) -> PResult<Matcher> {
        let nt = self.next();
        let name = match nt.kind {
            TokenKind::String => {
                unquote(self.text(nt)).map_err(|k| self.err(nt.start, nt.end, k))?
            }
            _ => self.text(nt).to_string(),
        };
        let opt = self.next();
        let mt = match opt.kind {
            TokenKind::Assign => MatchType::Equal,
            TokenKind::Neq => MatchType::NotEqual,
            TokenKind::EqlRegex => MatchType::Regex,
            TokenKind::NeqRegex => MatchType::NotRegex,
            _ => return Err(self.unexpected(opt, "label matching", "label matching operator")),
        };
        let vt = self.next();
        if vt.kind != TokenKind::String {
            return Err(self.unexpected(vt, "label matching", "string"));
        }
        let value = unquote(self.text(vt)).map_err(|k| self.err(vt.start, vt.end, k))?;
        Matcher::new(mt, &name, &value).map_err(|e| {
            let go = matches!(mt, MatchType::Regex | MatchType::NotRegex)
                .then(|| go_regex_error(&format!("^(?s:{value})$")))
                .flatten();
            let kind = match go {
                Some((code, text)) => ParseErrorKind::Regexp {
                    reason: code.to_string(),
                    text,
                },
                None => e.into(),
            };
            self.err(nt.start, vt.end, kind)
        })
    }

    /// Applies `[...]`, `offset`, `@`, `anchored` and `smoothed` after an operand.
    pub(crate) fn postfix(&mut self, mut e: Expr) -> PResult<Expr> {
        loop {
            let t = self.peek();
            e = match t.kind {
                TokenKind::LBracket => self.range_or_subquery(e)?,
                TokenKind::At => {
                    self.next();
                    let at = self.at_modifier(e.span().start)?;
                    let end = self.prev_end();
                    self.apply_at(e, at, end)?
                }
                TokenKind::Ident if self.at_keyword("offset") => {
                    self.next();
                    let d = self.offset_duration()?;
                    let end = d.span().end;
                    self.apply_offset(e, d, end)?
                }
                TokenKind::Ident if self.at_keyword("anchored") || self.at_keyword("smoothed") => {
                    let ext = if self.at_keyword("anchored") {
                        RangeExtension::Anchored
                    } else {
                        RangeExtension::Smoothed
                    };
                    self.next();
                    if !self.opts.extended_range_selectors {
                        return Err(self.err(
                            t.start,
                            t.end,
                            ParseErrorKind::FeatureNotEnabled("the anchored/smoothed modifier"),
                        ));
                    }
                    self.apply_extension(e, ext, t)?
                }
                _ => return Ok(e),
            };
        }
    }

    fn range_or_subquery(&mut self, e: Expr) -> PResult<Expr> {
        let open = self.next();
        let range = self.duration_expr(0)?;
        self.positive(&range)?;
        let t = self.peek();
        match t.kind {
            TokenKind::RBracket => {
                let close = self.next();
                let Expr::VectorSelector(vs) = e else {
                    return Err(self.err(
                        open.start,
                        close.end,
                        ParseErrorKind::Invalid("ranges only allowed for vector selectors"),
                    ));
                };
                if vs.offset.is_some() {
                    return Err(self.err(
                        open.start,
                        close.end,
                        ParseErrorKind::Invalid("no offset modifiers allowed before range"),
                    ));
                }
                if vs.at.is_some() {
                    return Err(self.err(
                        open.start,
                        close.end,
                        ParseErrorKind::Invalid("no @ modifiers allowed before range"),
                    ));
                }
                if vs.extension.is_some() {
                    return Err(self.err(
                        open.start,
                        close.end,
                        ParseErrorKind::Invalid(
                            "no anchored or smoothed modifiers allowed before range",
                        ),
                    ));
                }
                let span = Span::new(vs.span.start, close.end);
                Ok(Expr::MatrixSelector(MatrixSelector {
                    vector: vs,
                    range,
                    span,
                }))
            }
            TokenKind::Colon => {
                self.next();
                let step = if self.peek().kind == TokenKind::RBracket {
                    None
                } else {
                    let step = self.duration_expr(0)?;
                    self.positive(&step)?;
                    Some(step)
                };
                let close = self.expect(TokenKind::RBracket, "subquery or range", "\"]\"")?;
                let span = Span::new(e.span().start, close.end);
                Ok(Expr::Subquery(SubqueryExpr {
                    expr: Box::new(e),
                    range,
                    step,
                    offset: None,
                    at: None,
                    span,
                }))
            }
            _ => Err(self.unexpected(t, "subquery or range", "\":\" or \"]\"")),
        }
    }

    /// A range or step written as a literal must be more than zero.
    fn positive(&self, d: &DurationExpr) -> PResult<()> {
        match d {
            DurationExpr::Literal(n) if n.value == 0.0 => Err(self.err_at(
                n.span,
                ParseErrorKind::Invalid("duration must be greater than 0"),
            )),
            _ => Ok(()),
        }
    }

    /// The timestamp after `@`; `target` is where the expression it applies to starts.
    fn at_modifier(&mut self, target: usize) -> PResult<AtModifier> {
        let t = self.peek();
        if t.kind == TokenKind::Ident {
            let w = self.text(t).to_ascii_lowercase();
            if w == "start" || w == "end" {
                self.next();
                self.expect(TokenKind::LParen, "@", "timestamp")?;
                self.expect(TokenKind::RParen, "@", "timestamp")?;
                return Ok(if w == "start" {
                    AtModifier::Start
                } else {
                    AtModifier::End
                });
            }
        }
        let mut sign = 1.0;
        let first = self.peek();
        while matches!(self.peek().kind, TokenKind::Sub | TokenKind::Add) {
            if self.next().kind == TokenKind::Sub {
                sign = -sign;
            }
        }
        let t = self.next();
        let secs = match t.kind {
            TokenKind::Number => self.number(t)?.value,
            TokenKind::Duration => self.duration_literal(t)?.value,
            TokenKind::Ident if self.text(t).eq_ignore_ascii_case("inf") => f64::INFINITY,
            TokenKind::Ident if self.text(t).eq_ignore_ascii_case("nan") => f64::NAN,
            _ => return Err(self.unexpected(t, "@", "timestamp")),
        } * sign;
        seconds_to_millis(secs)
            .map(AtModifier::Timestamp)
            .ok_or_else(|| {
                // Go's `%f`: six decimals, all the digits of the integer part.
                let value = if secs.is_nan() {
                    "NaN".to_string()
                } else if secs.is_infinite() {
                    if secs > 0.0 { "+Inf" } else { "-Inf" }.to_string()
                } else {
                    format!("{secs:.6}")
                };
                self.err(
                    target,
                    first.end.max(t.end),
                    ParseErrorKind::AtOutOfBounds(value),
                )
            })
    }

    fn apply_at(&self, e: Expr, at: AtModifier, end: usize) -> PResult<Expr> {
        let start = e.span().start;
        let slot = |cur: &mut Option<AtModifier>, span: &mut Span| {
            if cur.is_some() {
                return Err(self.err(
                    start,
                    end,
                    ParseErrorKind::Invalid("@ <timestamp> may not be set multiple times"),
                ));
            }
            *cur = Some(at);
            span.end = end;
            Ok(())
        };
        Ok(match e {
            Expr::VectorSelector(mut v) => {
                slot(&mut v.at, &mut v.span)?;
                Expr::VectorSelector(v)
            }
            Expr::MatrixSelector(mut m) => {
                slot(&mut m.vector.at, &mut m.span)?;
                Expr::MatrixSelector(m)
            }
            Expr::Subquery(mut s) => {
                slot(&mut s.at, &mut s.span)?;
                Expr::Subquery(s)
            }
            _ => return Err(self.err(start, end, ParseErrorKind::Invalid(AT_TARGET))),
        })
    }

    fn apply_offset(&self, e: Expr, d: DurationExpr, end: usize) -> PResult<Expr> {
        let start = e.span().start;
        let slot = |cur: &mut Option<DurationExpr>, span: &mut Span| {
            if cur.is_some() {
                return Err(self.err(
                    start,
                    end,
                    ParseErrorKind::Invalid("offset may not be set multiple times"),
                ));
            }
            *cur = Some(d);
            span.end = end;
            Ok(())
        };
        Ok(match e {
            Expr::VectorSelector(mut v) => {
                slot(&mut v.offset, &mut v.span)?;
                Expr::VectorSelector(v)
            }
            Expr::MatrixSelector(mut m) => {
                slot(&mut m.vector.offset, &mut m.span)?;
                Expr::MatrixSelector(m)
            }
            Expr::Subquery(mut s) => {
                slot(&mut s.offset, &mut s.span)?;
                Expr::Subquery(s)
            }
            _ => return Err(self.err(start, end, ParseErrorKind::Invalid(OFFSET_TARGET))),
        })
    }

    fn apply_extension(&self, e: Expr, ext: RangeExtension, kw: Token) -> PResult<Expr> {
        let slot = |cur: &mut Option<RangeExtension>, span: &mut Span| {
            if cur.is_some() {
                return Err(self.err(
                    kw.start,
                    kw.end,
                    ParseErrorKind::Invalid("anchored or smoothed may not be set multiple times"),
                ));
            }
            *cur = Some(ext);
            span.end = kw.end;
            Ok(())
        };
        Ok(match e {
            Expr::VectorSelector(mut v) => {
                slot(&mut v.extension, &mut v.span)?;
                Expr::VectorSelector(v)
            }
            Expr::MatrixSelector(mut m) => {
                slot(&mut m.vector.extension, &mut m.span)?;
                Expr::MatrixSelector(m)
            }
            _ => {
                return Err(self.err(kw.start, kw.end, ParseErrorKind::Invalid(
                    "anchored and smoothed modifiers must be preceded by an instant vector selector or range vector selector",
                )))
            }
        })
    }

    // ---- duration expressions ----------------------------------------------------------

    /// The operand of `offset`: a signed literal, or with duration expressions a signed
    /// atom (literal, parenthesised expression or duration function). Binary operators after
    /// it belong to the enclosing expression: `x offset 1m + 1` is `(x offset 1m) + 1`.
    fn offset_duration(&mut self) -> PResult<DurationExpr> {
        let t = self.peek();
        if matches!(t.kind, TokenKind::Sub | TokenKind::Add) {
            self.next();
            let inner = self.offset_duration()?;
            return Ok(self.signed(t, inner));
        }
        let atom = match t.kind {
            TokenKind::Number | TokenKind::Duration | TokenKind::LParen => true,
            TokenKind::Ident => {
                self.peek_at(1).kind == TokenKind::LParen
                    && ["step", "range", "min_of", "max_of"]
                        .iter()
                        .any(|f| self.text(t).eq_ignore_ascii_case(f))
            }
            _ => false,
        };
        if !atom {
            return Err(self.unexpected(t, "offset", "duration"));
        }
        self.duration_atom()
    }

    fn signed(&self, sign: Token, inner: DurationExpr) -> DurationExpr {
        let op = if sign.kind == TokenKind::Sub {
            UnaryOp::Neg
        } else {
            UnaryOp::Pos
        };
        let span = Span::new(sign.start, inner.span().end);
        match inner {
            DurationExpr::Literal(mut n) => {
                if op == UnaryOp::Neg {
                    n.value = -n.value;
                }
                n.span = span;
                DurationExpr::Literal(n)
            }
            other => DurationExpr::Unary {
                op,
                expr: Box::new(other),
                span,
            },
        }
    }

    /// A full duration expression (inside `[...]`), Pratt-parsed like PromQL arithmetic.
    pub(crate) fn duration_expr(&mut self, min_bp: u8) -> PResult<DurationExpr> {
        let t = self.peek();
        let mut lhs = if matches!(t.kind, TokenKind::Sub | TokenKind::Add) {
            self.next();
            self.require_duration_exprs(t)?;
            let inner = self.duration_expr(BinaryOp::Mul.precedence() * 2 + 1)?;
            self.signed(t, inner)
        } else {
            self.duration_atom()?
        };
        loop {
            let t = self.peek();
            let op = match t.kind {
                TokenKind::Add => BinaryOp::Add,
                TokenKind::Sub => BinaryOp::Sub,
                TokenKind::Mul => BinaryOp::Mul,
                TokenKind::Div => BinaryOp::Div,
                TokenKind::Mod => BinaryOp::Mod,
                TokenKind::Pow => BinaryOp::Pow,
                _ => return Ok(lhs),
            };
            let l = op.precedence() * 2;
            let r = if op.is_right_associative() { l } else { l + 1 };
            if l < min_bp {
                return Ok(lhs);
            }
            self.require_duration_exprs(t)?;
            self.next();
            let rhs = self.duration_expr(r)?;
            let span = lhs.span().to(rhs.span());
            lhs = DurationExpr::Binary {
                op,
                lhs: Box::new(lhs),
                rhs: Box::new(rhs),
                span,
            };
        }
    }

    fn require_duration_exprs(&self, t: Token) -> PResult<()> {
        if self.opts.duration_expressions {
            Ok(())
        } else {
            Err(self.err(
                t.start,
                t.end,
                ParseErrorKind::FeatureNotEnabled("duration expressions"),
            ))
        }
    }

    fn duration_atom(&mut self) -> PResult<DurationExpr> {
        let t = self.peek();
        match t.kind {
            TokenKind::Number => {
                self.next();
                Ok(DurationExpr::Literal(self.number(t)?))
            }
            TokenKind::Duration => {
                self.next();
                Ok(DurationExpr::Literal(self.duration_literal(t)?))
            }
            TokenKind::LParen => {
                self.require_duration_exprs(t)?;
                self.next();
                let inner = self.duration_expr(0)?;
                let close = self.expect(TokenKind::RParen, "duration expression", "\")\"")?;
                Ok(DurationExpr::Paren {
                    expr: Box::new(inner),
                    span: Span::new(t.start, close.end),
                })
            }
            TokenKind::Ident if self.peek_at(1).kind == TokenKind::LParen => {
                let func = match self.text(t).to_ascii_lowercase().as_str() {
                    "step" => DurationFn::Step,
                    "range" => DurationFn::Range,
                    "min_of" => DurationFn::MinOf,
                    "max_of" => DurationFn::MaxOf,
                    _ => return Err(self.unexpected(t, "duration expression", "duration")),
                };
                self.require_duration_exprs(t)?;
                self.next();
                self.next();
                let mut args = Vec::new();
                let want = if matches!(func, DurationFn::MinOf | DurationFn::MaxOf) {
                    2
                } else {
                    0
                };
                for i in 0..want {
                    if i > 0 {
                        self.expect(TokenKind::Comma, "duration expression", "\",\"")?;
                    }
                    args.push(self.duration_expr(0)?);
                }
                let close = self.expect(TokenKind::RParen, "duration expression", "\")\"")?;
                Ok(DurationExpr::Call {
                    func,
                    args,
                    span: Span::new(t.start, close.end),
                })
            }
            _ => Err(self.unexpected(t, "duration expression", "duration")),
        }
    }
}

fn twice(a: &str, b: &str) -> ParseErrorKind {
    ParseErrorKind::NameSetTwice(a.to_string(), b.to_string())
}
