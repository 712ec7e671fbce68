//! Parse errors: a byte span, a typed reason and the query, like Prometheus's `ParseErr`.

use std::fmt;
use std::ops::Range;

use super::ast::ValueType;

/// Why a query failed to parse. The `Display` text follows Prometheus's messages.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// A character that cannot start any token.
    #[error("unexpected character: {0:?}")]
    UnexpectedCharacter(char),
    /// A quoted string without its closing quote.
    #[error("unterminated quoted string")]
    UnterminatedString,
    /// A string with an invalid escape sequence.
    #[error("invalid escape sequence in string {0}")]
    InvalidEscape(String),
    /// Something that looks like a number or duration but is neither.
    #[error("bad number or duration syntax: {0:?}")]
    BadNumber(String),
    /// A duration that does not follow the Prometheus duration format.
    #[error("not a valid duration string: {0:?}")]
    BadDuration(String),
    /// A token that does not fit the grammar here.
    #[error("unexpected {found}{}{}", ctx(.context), exp(.expected))]
    Unexpected {
        /// The offending token, described.
        found: String,
        /// The construct being parsed, e.g. `"label matching"`.
        context: &'static str,
        /// What would have been valid, e.g. `"\",\" or \"}\""`.
        expected: &'static str,
    },
    /// A `(` never closed.
    #[error("unclosed left parenthesis")]
    UnclosedParen,
    /// A `{` never closed.
    #[error("unclosed left brace")]
    UnclosedBrace,
    /// A `[` never closed.
    #[error("unclosed left bracket")]
    UnclosedBracket,
    /// A `)` without a matching `(`.
    #[error("unexpected right parenthesis ')'")]
    UnexpectedRightParen,
    /// The query is empty.
    #[error("no expression found in input")]
    Empty,
    /// A call to a function that does not exist.
    #[error("unknown function with name {0:?}")]
    UnknownFunction(String),
    /// A call to an experimental function that is not enabled.
    #[error("function {0:?} is not enabled")]
    FunctionNotEnabled(String),
    /// An experimental language feature that is not enabled in [`crate::ParserOptions`].
    #[error("{0} is experimental and not enabled")]
    FeatureNotEnabled(&'static str),
    /// `limitk` / `limit_ratio` without the experimental-functions option.
    #[error("limitk() and limit_ratio() are experimental and must be enabled with --enable-feature=promql-experimental-functions")]
    LimitNotEnabled,
    /// A function called with the wrong number of arguments.
    #[error("expected {bound}{expected} argument(s) in call to {func:?}, got {got}")]
    Arity {
        /// `""`, `"at least "` or `"at most "`.
        bound: &'static str,
        /// The expected count.
        expected: usize,
        /// The function name.
        func: &'static str,
        /// The actual count.
        got: usize,
    },
    /// An aggregation with a missing or superfluous parameter.
    #[error("wrong number of arguments for aggregate expression provided, expected {expected}, got {got}")]
    AggregateArity {
        /// The expected count.
        expected: usize,
        /// The actual count.
        got: usize,
    },
    /// An operand of the wrong type.
    #[error("expected type {expected} in {context}, got {got}")]
    TypeMismatch {
        /// The type required here.
        expected: ValueType,
        /// The type found.
        got: ValueType,
        /// Where, e.g. `call to function "rate"`.
        context: String,
    },
    /// Any other semantic rule of the PromQL grammar, with Prometheus's text.
    #[error("{0}")]
    Invalid(&'static str),
    /// A semantic rule whose message names something from the query.
    #[error("{rule} {subject:?}{}", .suffix)]
    InvalidNamed {
        /// The first part of the message.
        rule: &'static str,
        /// The quoted subject (operator, label, type, function name...).
        subject: String,
        /// The rest of the message (may be empty).
        suffix: &'static str,
    },
    /// Two metric names in one selector.
    #[error("metric name must not be set twice: {0:?} or {1:?}")]
    NameSetTwice(String, String),
    /// A label matcher regex that does not compile.
    #[error("{0}")]
    Model(#[from] kagari_model::Error),
    /// `anchored` / `smoothed` on a range passed to a function that does not support it.
    #[error("{ext} modifier can only be used with: {allowed} - not with {func}")]
    ExtensionNotAllowed {
        /// `anchored` or `smoothed`.
        ext: &'static str,
        /// The functions that accept it.
        allowed: &'static str,
        /// The function it was passed to.
        func: &'static str,
    },
    /// A subquery over something that is not an instant vector.
    #[error("subquery is only allowed on instant vector, got {0} instead")]
    SubqueryType(ValueType),
    /// A unary operator on something that is not a scalar or instant vector.
    #[error(
        "unary expression only allowed on expressions of type scalar or instant vector, got {0:?}"
    )]
    UnaryType(String),
    /// A value item of a promqltest series description that cannot be read.
    #[error("invalid series description item {item:?}: {reason}")]
    BadSeriesItem {
        /// The item as written.
        item: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A number that does not fit where it is used (e.g. an `@` timestamp).
    #[error("{what} out of bounds: {value}")]
    OutOfBounds {
        /// What the number is.
        what: &'static str,
        /// The number as written or computed.
        value: String,
    },
}

fn ctx(c: &str) -> String {
    if c.is_empty() {
        String::new()
    } else {
        format!(" in {c}")
    }
}

fn exp(e: &str) -> String {
    if e.is_empty() {
        String::new()
    } else {
        format!(", expected {e}")
    }
}

/// A positioned parse error: where, why, and the query it happened in.
///
/// `Display` prints `line:col: parse error: reason` like Prometheus (both 1-based; the column
/// counts bytes from the start of the line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// Byte range of the offending part of the query.
    pub span: Range<usize>,
    /// The reason.
    pub message: ParseErrorKind,
    /// The whole query.
    pub query: String,
}

impl ParseError {
    pub(crate) fn new(span: Range<usize>, message: ParseErrorKind, query: &str) -> Self {
        ParseError {
            span,
            message,
            query: query.to_string(),
        }
    }

    /// 1-based line and column of the start of the span.
    pub fn line_col(&self) -> (usize, usize) {
        let start = self.span.start.min(self.query.len());
        let before = self.query.as_bytes().get(..start).unwrap_or_default();
        let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
        let col = 1 + before.iter().rev().take_while(|&&b| b != b'\n').count();
        (line, col)
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (line, col) = self.line_col();
        write!(f, "{line}:{col}: parse error: {}", self.message)
    }
}

impl std::error::Error for ParseError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.message {
            ParseErrorKind::Model(e) => Some(e),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn position_is_line_and_column() {
        let e = ParseError::new(8..9, ParseErrorKind::UnclosedParen, "foo\nbar +(");
        assert_eq!(e.line_col(), (2, 5));
        assert_eq!(e.to_string(), "2:5: parse error: unclosed left parenthesis");
    }
}
