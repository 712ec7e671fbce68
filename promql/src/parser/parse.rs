//! The Pratt parser: token cursor, binding powers, primaries, aggregations and calls.
//!
//! Precedence and associativity follow Prometheus's `generated_parser.y`:
//! `or` < `and`/`unless` < comparisons < `+ -` < `* / % atan2` < `^` (right-associative), with
//! unary minus binding like `*` (so `-1^2` is `-(1^2)`), and `[...]`, `offset`, `@` binding
//! tighter than everything.

use std::collections::HashMap;

use super::ast::*;
use super::check::BinaryMods;
use super::error::{ParseError, ParseErrorKind};
use super::lexer::{lex, Token, TokenKind};
use super::literals::unquote;
use super::ParserOptions;

/// Deepest nesting (parentheses, calls, unary operators...) accepted; deeper queries get an
/// error instead of exhausting the stack (100 levels fit a 2 MiB thread stack in debug builds).
const MAX_DEPTH: usize = 100;

/// Longest accepted path of chained binary operators (`a + b + c ...` nests to the left), so
/// that recursive walks over the tree (printing, dropping, evaluating) stay shallow enough.
const MAX_CHAIN: usize = 1000;

/// Deepest accepted syntax tree. Chains inside parentheses add up (`(a + a ...) + a ...` is as
/// deep as both chains together), so [`MAX_CHAIN`] alone does not bound the depth that
/// evaluating, printing and dropping the tree recurse to.
const MAX_TREE_DEPTH: usize = 1100;

pub(crate) type PResult<T> = Result<T, ParseError>;

pub(crate) struct Parser<'a> {
    pub(crate) query: &'a str,
    tokens: Vec<Token>,
    pos: usize,
    pub(crate) opts: &'a ParserOptions,
    depth: usize,
    chain: usize,
    /// Depth of every binary node built so far, by its span (a parent's span always covers
    /// more than its child's, so spans tell binary nodes apart).
    binary_depths: HashMap<(usize, usize), usize>,
    /// The modifiers of every binary node, by its span, for the type checks.
    pub(crate) binary_mods: HashMap<(usize, usize), BinaryMods>,
    /// The lexical error the last token stands for, if any.
    lex_error: Option<ParseError>,
    /// The construct a plain "unexpected ..." error is reported in: Prometheus's grammar
    /// reports any stray token inside an aggregation's arguments as "in aggregation".
    pub(crate) generic_context: &'static str,
}

impl<'a> Parser<'a> {
    fn new(query: &'a str, opts: &'a ParserOptions) -> Self {
        let lexed = lex(query);
        Parser {
            query,
            tokens: lexed.tokens,
            pos: 0,
            opts,
            depth: 0,
            chain: 0,
            binary_depths: HashMap::new(),
            binary_mods: HashMap::new(),
            lex_error: lexed.error,
            generic_context: "",
        }
    }
}

/// Parses a whole query: syntax first (the first syntax or lexical error wins), then, as in
/// Prometheus, the type checks.
pub(crate) fn parse_query(query: &str, opts: &ParserOptions) -> PResult<Expr> {
    let mut p = Parser::new(query, opts);
    if p.peek().kind == TokenKind::Eof {
        return Err(p.err(0, 0, ParseErrorKind::Empty));
    }
    let e = p.expr(0)?;
    let t = p.peek();
    if t.kind != TokenKind::Eof {
        return Err(p.unexpected(t, "", ""));
    }
    p.check_ast(&e)?;
    Ok(e)
}

/// Parses the label part of a series description: `name`, `name{a="b"}` or `{a="b"}`.
/// Returns the metric name and the matchers as written.
pub(crate) fn parse_series_labels(
    text: &str,
) -> PResult<(Option<String>, Vec<kagari_model::Matcher>)> {
    let opts = ParserOptions::default();
    let mut p = Parser::new(text, &opts);
    let t = p.peek();
    let name = match t.kind {
        TokenKind::Ident => {
            p.next();
            Some((p.text(t).to_string(), t))
        }
        TokenKind::LBrace => None,
        _ => return Err(p.unexpected(t, "series description", "metric name or \"{\"")),
    };
    let vs = p.vector_selector(name)?;
    let t = p.peek();
    if t.kind != TokenKind::Eof {
        return Err(p.unexpected(t, "series description", "end of labels"));
    }
    let VectorSelector {
        name, mut matchers, ..
    } = vs;
    if name.is_some() && !matchers.is_empty() {
        matchers.remove(0);
    }
    Ok((name, matchers))
}

/// Whether a word can be a metric name in operand position: Prometheus's keywords that
/// only make sense after an operator cannot.
fn can_name_metric(w: &str) -> bool {
    // By length first: this runs for every word in operand position.
    let keyword = match w.len() {
        2 => "on",
        4 => "bool",
        5 => "atan2",
        8 => "ignoring",
        10 => "group_left",
        11 => "group_right",
        _ => return true,
    };
    !w.eq_ignore_ascii_case(keyword)
}

/// Whether Prometheus's lexer makes `w` a keyword rather than an identifier (aggregation
/// names aside; `start` and `end` are functions in Prometheus 3).
fn is_keyword(w: &str) -> bool {
    [
        "and",
        "or",
        "unless",
        "atan2",
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
        "bool",
        "offset",
    ]
    .iter()
    .any(|k| w.eq_ignore_ascii_case(k))
}

/// How Prometheus names a token in "unexpected ..." messages: operators as `<op:+>`,
/// aggregations as `<aggr:sum>`, keywords as `<by>`, punctuation quoted, and words and
/// literals by kind and Go-quoted text (literals cut to 10 characters).
fn describe(kind: TokenKind, text: &str) -> String {
    let quoted = |s: &str| super::literals::quote(s);
    match kind {
        TokenKind::Ident => {
            let lower = text.to_ascii_lowercase();
            if matches!(lower.as_str(), "and" | "or" | "unless" | "atan2") {
                format!("<op:{text}>")
            } else if AggregateOp::from_keyword(text).is_some() {
                format!("<aggr:{text}>")
            } else if matches!(
                lower.as_str(),
                "by" | "without"
                    | "on"
                    | "ignoring"
                    | "group_left"
                    | "group_right"
                    | "bool"
                    | "offset"
                    | "anchored"
                    | "smoothed"
                    | "fill"
                    | "fill_left"
                    | "fill_right"
            ) {
                format!("<{text}>")
            } else if matches!(lower.as_str(), "start" | "end" | "step") {
                quoted(text)
            } else if matches!(lower.as_str(), "inf" | "nan") {
                format!("number {}", quoted(text))
            } else if text.contains(':') {
                format!("metric identifier {}", quoted(text))
            } else {
                format!("identifier {}", quoted(text))
            }
        }
        TokenKind::LabelName => format!("identifier {}", quoted(text)),
        TokenKind::Number | TokenKind::Duration | TokenKind::String => {
            let short: String = text.chars().take(10).collect();
            let more = if short.len() < text.len() { "..." } else { "" };
            format!("{} {}{more}", kind.describe(), quoted(&short))
        }
        k => k.describe().to_string(),
    }
}

/// Whether a word is one of the keywords that can follow an operand.
fn binop_keyword(w: &str) -> Option<BinaryOp> {
    Some(match w.to_ascii_lowercase().as_str() {
        "and" => BinaryOp::And,
        "or" => BinaryOp::Or,
        "unless" => BinaryOp::Unless,
        "atan2" => BinaryOp::Atan2,
        _ => return None,
    })
}

/// Modifiers written between a binary operator and its right operand.
#[derive(Default)]
pub(crate) struct BinModifiers {
    pub(crate) return_bool: bool,
    pub(crate) on: Option<bool>,
    pub(crate) labels: Vec<String>,
    pub(crate) group: Option<(Cardinality, Vec<String>)>,
    pub(crate) fill_left: Option<f64>,
    pub(crate) fill_right: Option<f64>,
    pub(crate) span: Span,
}

impl<'a> Parser<'a> {
    // ---- cursor -------------------------------------------------------------------------

    pub(crate) fn peek(&self) -> Token {
        self.peek_at(0)
    }

    pub(crate) fn peek_at(&self, n: usize) -> Token {
        let last = Token {
            kind: TokenKind::Eof,
            start: self.query.len(),
            end: self.query.len(),
        };
        self.tokens.get(self.pos + n).copied().unwrap_or(last)
    }

    pub(crate) fn next(&mut self) -> Token {
        let t = self.peek();
        if t.kind != TokenKind::Eof {
            self.pos += 1;
        }
        t
    }

    /// End offset of the last consumed token.
    pub(crate) fn prev_end(&self) -> usize {
        self.pos
            .checked_sub(1)
            .and_then(|i| self.tokens.get(i))
            .map_or(0, |t| t.end)
    }

    pub(crate) fn text(&self, t: Token) -> &'a str {
        self.query.get(t.start..t.end).unwrap_or("")
    }

    /// Whether the next token is the (case-insensitive) keyword `kw`.
    pub(crate) fn at_keyword(&self, kw: &str) -> bool {
        let t = self.peek();
        t.kind == TokenKind::Ident && self.text(t).eq_ignore_ascii_case(kw)
    }

    pub(crate) fn err(&self, start: usize, end: usize, kind: ParseErrorKind) -> ParseError {
        ParseError::new(start..end, kind, self.query)
    }

    pub(crate) fn err_at(&self, span: Span, kind: ParseErrorKind) -> ParseError {
        self.err(span.start, span.end, kind)
    }

    pub(crate) fn unexpected(
        &self,
        t: Token,
        context: &'static str,
        expected: &'static str,
    ) -> ParseError {
        if t.kind == TokenKind::Error {
            if let Some(e) = &self.lex_error {
                return e.clone();
            }
        }
        let context = if context.is_empty() {
            self.generic_context
        } else {
            context
        };
        let found = describe(t.kind, self.text(t));
        self.err(
            t.start,
            t.end,
            ParseErrorKind::Unexpected {
                found,
                context,
                expected,
            },
        )
    }

    /// Consumes a token of `kind` or fails.
    pub(crate) fn expect(
        &mut self,
        kind: TokenKind,
        context: &'static str,
        expected: &'static str,
    ) -> PResult<Token> {
        let t = self.peek();
        if t.kind == kind {
            return Ok(self.next());
        }
        Err(self.unexpected(t, context, expected))
    }

    /// Whether `t` can start an operand (so an empty `group_left` label list is fine).
    pub(crate) fn starts_operand(&self, t: Token) -> bool {
        match t.kind {
            TokenKind::Number
            | TokenKind::Duration
            | TokenKind::String
            | TokenKind::LParen
            | TokenKind::LBrace
            | TokenKind::Add
            | TokenKind::Sub => true,
            TokenKind::Ident => can_name_metric(self.text(t)),
            _ => false,
        }
    }

    fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            let t = self.peek();
            return Err(self.err(
                t.start,
                t.end,
                ParseErrorKind::Invalid("expression nested too deeply"),
            ));
        }
        Ok(())
    }

    // ---- expressions --------------------------------------------------------------------

    fn peek_binop(&self) -> Option<BinaryOp> {
        let t = self.peek();
        Some(match t.kind {
            TokenKind::Add => BinaryOp::Add,
            TokenKind::Sub => BinaryOp::Sub,
            TokenKind::Mul => BinaryOp::Mul,
            TokenKind::Div => BinaryOp::Div,
            TokenKind::Mod => BinaryOp::Mod,
            TokenKind::Pow => BinaryOp::Pow,
            TokenKind::Eql => BinaryOp::Eql,
            TokenKind::Neq => BinaryOp::Neq,
            TokenKind::Lss => BinaryOp::Lss,
            TokenKind::Lte => BinaryOp::Lte,
            TokenKind::Gtr => BinaryOp::Gtr,
            TokenKind::Gte => BinaryOp::Gte,
            TokenKind::TrimUpper => BinaryOp::TrimUpper,
            TokenKind::TrimLower => BinaryOp::TrimLower,
            TokenKind::Ident => return binop_keyword(self.text(t)),
            _ => return None,
        })
    }

    /// Parses an expression whose binary operators all bind at least as tightly as `min_bp`.
    pub(crate) fn expr(&mut self, min_bp: u8) -> PResult<Expr> {
        self.enter()?;
        let mut lhs = self.unary()?;
        let chain = self.chain;
        while let Some(op) = self.peek_binop() {
            let l = op.precedence() * 2;
            let r = if op.is_right_associative() { l } else { l + 1 };
            if l < min_bp {
                break;
            }
            self.next();
            let mods = self.bin_modifiers(op)?;
            // A chain of operators makes the tree deeper too.
            self.chain += 1;
            if self.chain > MAX_CHAIN {
                let t = self.peek();
                return Err(self.err(
                    t.start,
                    t.end,
                    ParseErrorKind::Invalid("too many chained binary operators"),
                ));
            }
            let rhs = self.expr(r)?;
            let depth = 1 + self.tree_depth(&lhs).max(self.tree_depth(&rhs));
            if depth > MAX_TREE_DEPTH {
                let t = self.peek();
                return Err(self.err(
                    t.start,
                    t.end,
                    ParseErrorKind::Invalid("expression nested too deeply"),
                ));
            }
            lhs = self.binary(op, lhs, rhs, mods);
            let span = lhs.span();
            self.binary_depths.insert((span.start, span.end), depth);
        }
        self.chain = chain;
        self.depth -= 1;
        Ok(lhs)
    }

    /// The depth of `e`: binary nodes are looked up, other nodes (at most [`MAX_DEPTH`] levels
    /// of them) are walked.
    fn tree_depth(&self, e: &Expr) -> usize {
        match e {
            Expr::Binary(b) => self
                .binary_depths
                .get(&(b.span.start, b.span.end))
                .copied()
                .unwrap_or_else(|| 1 + self.tree_depth(&b.lhs).max(self.tree_depth(&b.rhs))),
            Expr::Paren(x) => 1 + self.tree_depth(&x.expr),
            Expr::Unary(x) => 1 + self.tree_depth(&x.expr),
            Expr::Subquery(x) => 1 + self.tree_depth(&x.expr),
            Expr::Aggregate(x) => {
                let param = x.param.as_deref().map_or(0, |p| self.tree_depth(p));
                1 + self.tree_depth(&x.expr).max(param)
            }
            Expr::Call(x) => 1 + x.args.iter().map(|a| self.tree_depth(a)).max().unwrap_or(0),
            Expr::Number(_)
            | Expr::String(_)
            | Expr::VectorSelector(_)
            | Expr::MatrixSelector(_) => 0,
        }
    }

    fn unary(&mut self) -> PResult<Expr> {
        let t = self.peek();
        let op = match t.kind {
            TokenKind::Sub => UnaryOp::Neg,
            TokenKind::Add => UnaryOp::Pos,
            _ => {
                let primary = self.primary()?;
                return self.postfix(primary);
            }
        };
        self.next();
        // Unary operators bind like `*`: tighter than `+`, looser than `^`.
        let operand = self.expr(BinaryOp::Mul.precedence() * 2 + 1)?;
        let span = Span::new(t.start, operand.span().end);
        if let Expr::Number(mut n) = operand {
            if op == UnaryOp::Neg {
                n.value = -n.value;
            }
            n.span = span;
            return Ok(Expr::Number(n));
        }
        Ok(Expr::Unary(UnaryExpr {
            op,
            expr: Box::new(operand),
            span,
        }))
    }

    fn primary(&mut self) -> PResult<Expr> {
        let t = self.peek();
        match t.kind {
            TokenKind::Number => {
                self.next();
                Ok(Expr::Number(self.number(t)?))
            }
            TokenKind::Duration => {
                self.next();
                Ok(Expr::Number(self.duration_literal(t)?))
            }
            TokenKind::String => {
                self.next();
                let value = unquote(self.text(t)).map_err(|k| self.err(t.start, t.end, k))?;
                Ok(Expr::String(StringLiteral {
                    value,
                    span: Span::new(t.start, t.end),
                }))
            }
            TokenKind::LParen => {
                self.next();
                let inner = self.expr(0)?;
                let close = self.expect(TokenKind::RParen, "", "")?;
                Ok(Expr::Paren(ParenExpr {
                    expr: Box::new(inner),
                    span: Span::new(t.start, close.end),
                }))
            }
            TokenKind::LBrace => Ok(Expr::VectorSelector(self.vector_selector(None)?)),
            TokenKind::Ident => self.word(t),
            _ => Err(self.unexpected(t, "", "")),
        }
    }

    /// A number as Prometheus reads it: Go's `strconv.ParseInt(s, 0, 64)` (hexadecimal, and
    /// octal for a leading zero), else `strconv.ParseFloat`.
    pub(crate) fn number(&self, t: Token) -> PResult<NumberLiteral> {
        let s = self.text(t);
        let int = if let Some(hex) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
            i64::from_str_radix(hex, 16).ok()
        } else if s.len() > 1 && s.starts_with('0') && s.bytes().all(|b| b.is_ascii_digit()) {
            i64::from_str_radix(s, 8).ok()
        } else {
            None
        };
        let value = match int {
            Some(v) => v as f64,
            None if s.starts_with("0x") || s.starts_with("0X") => {
                return Err(self.err(t.start, t.end, ParseErrorKind::NumberSyntax(s.to_string())))
            }
            None => match s.parse::<f64>() {
                Ok(v) if v.is_infinite() => {
                    return Err(self.err(
                        t.start,
                        t.end,
                        ParseErrorKind::NumberRange(s.to_string()),
                    ))
                }
                Ok(v) => v,
                Err(_) => {
                    return Err(self.err(
                        t.start,
                        t.end,
                        ParseErrorKind::NumberSyntax(s.to_string()),
                    ))
                }
            },
        };
        Ok(NumberLiteral {
            value,
            duration: false,
            span: Span::new(t.start, t.end),
        })
    }

    pub(crate) fn duration_literal(&self, t: Token) -> PResult<NumberLiteral> {
        let ms = super::literals::parse_duration(self.text(t))
            .map_err(|k| self.err(t.start, t.end, k))?;
        Ok(NumberLiteral {
            value: ms as f64 / 1000.0,
            duration: true,
            span: Span::new(t.start, t.end),
        })
    }

    /// A word in operand position: `Inf`/`NaN`, an aggregation, a call or a metric name.
    fn word(&mut self, t: Token) -> PResult<Expr> {
        let w = self.text(t);
        let next = self.peek_at(1);
        if w.eq_ignore_ascii_case("inf") || w.eq_ignore_ascii_case("nan") {
            // Prometheus's lexer makes these numbers, whatever follows.
            self.next();
            let value = if w.eq_ignore_ascii_case("inf") {
                f64::INFINITY
            } else {
                f64::NAN
            };
            return Ok(Expr::Number(NumberLiteral {
                value,
                duration: false,
                span: Span::new(t.start, t.end),
            }));
        }
        if let Some(op) = AggregateOp::from_keyword(w) {
            let next_word = (next.kind == TokenKind::Ident).then(|| self.text(next));
            if next.kind == TokenKind::LParen
                || next_word.is_some_and(|n| {
                    n.eq_ignore_ascii_case("by") || n.eq_ignore_ascii_case("without")
                })
            {
                return self.aggregate(op, t);
            }
        }
        if !can_name_metric(w) {
            return Err(self.unexpected(t, "", ""));
        }
        if next.kind == TokenKind::LParen {
            // Only plain identifiers name functions: a keyword used as a metric name
            // (`by`, `offset`...) or a recording-rule style name (`a:b`) cannot be called.
            if is_keyword(w) || w.contains(':') {
                return Err(self.unexpected(next, "", ""));
            }
            return self.call(t);
        }
        self.next();
        Ok(Expr::VectorSelector(
            self.vector_selector(Some((w.to_string(), t)))?,
        ))
    }
}
