//! Parse errors: a byte span, a typed reason and the query, like Prometheus's `ParseErr`.

use std::fmt;
use std::ops::Range;

use super::ast::ValueType;
use super::literals::quote;

/// Why a query failed to parse. The `Display` text follows Prometheus's messages.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// A character that cannot start any token.
    #[error("unexpected character: {}", go_rune(Some(*.0)))]
    UnexpectedCharacter(char),
    /// A `!` (or `=`) followed by something that does not make an operator.
    #[error("unexpected character after '{after}'{}: {}", if *.in_braces { " inside braces" } else { "" }, go_rune(*.found))]
    UnexpectedAfter {
        /// The first character.
        after: char,
        /// What followed it (`None` at the end of the input).
        found: Option<char>,
        /// Whether this happened between `{` and `}`.
        in_braces: bool,
    },
    /// A character that has no place between `{` and `}`.
    #[error("unexpected character inside braces: {}", go_rune(Some(*.0)))]
    UnexpectedInBraces(char),
    /// The query ends between `{` and `}`.
    #[error("unexpected end of input inside braces")]
    UnexpectedEofInBraces,
    /// A `{` inside braces.
    #[error("unexpected left brace '{{'")]
    UnexpectedLeftBrace,
    /// A `[` inside brackets.
    #[error("unexpected left bracket '['")]
    UnexpectedLeftBracket,
    /// A `]` without its `[`.
    #[error("unexpected right bracket ']'")]
    UnexpectedRightBracket,
    /// A second `:` inside one pair of brackets.
    #[error("unexpected colon ':'")]
    UnexpectedColon,
    /// A quoted string without its closing quote.
    #[error("unterminated quoted string")]
    UnterminatedString,
    /// A backtick string without its closing backtick.
    #[error("unterminated raw string")]
    UnterminatedRawString,
    /// A backslash followed by a character that starts no escape sequence.
    #[error("unknown escape sequence {}", go_unicode(*.0))]
    UnknownEscape(char),
    /// A character that is not a digit of the escape sequence it is in.
    #[error("illegal character {} in escape sequence", go_unicode(*.0))]
    IllegalEscapeCharacter(char),
    /// The input ends inside an escape sequence.
    #[error("escape sequence not terminated")]
    EscapeNotTerminated,
    /// An escape sequence for a surrogate or a value beyond Unicode (or beyond a byte).
    #[error("escape sequence is an invalid Unicode code point")]
    InvalidCodePoint,
    /// A string with an invalid escape sequence (series descriptions, label lists).
    #[error("invalid escape sequence in string {0}")]
    InvalidEscape(String),
    /// Something that looks like a number or duration but is neither.
    #[error("bad number or duration syntax: {}", quote(.0))]
    BadNumber(String),
    /// The first thing inside `[` that starts like a duration but is not one.
    #[error("bad duration syntax: {}", quote(.0))]
    BadDurationSyntax(String),
    /// A range without a unit (or without anything) after `[`.
    #[error("missing unit character in duration")]
    MissingUnit,
    /// A number token Go's `strconv.ParseFloat` does not read.
    #[error("error parsing number: strconv.ParseFloat: parsing {}: invalid syntax", quote(.0))]
    NumberSyntax(String),
    /// A number beyond the range of a float.
    #[error("error parsing number: strconv.ParseFloat: parsing {}: value out of range", quote(.0))]
    NumberRange(String),
    /// A duration that does not follow the Prometheus duration format.
    #[error("not a valid duration string: {}", quote(.0))]
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
    /// A label matcher regex that does not compile, in Go's words: the reason and the part
    /// of the anchored pattern (`^(?s:VALUE)$`) Go quotes.
    #[error("error parsing regexp: {reason}: `{text}`")]
    Regexp {
        /// Go's error code text, e.g. `missing closing )`.
        reason: String,
        /// The quoted part of the pattern.
        text: String,
    },
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
    /// A subquery over something that is not an instant vector (Prometheus names the type
    /// by its API name here: `matrix`, `scalar`, `string`).
    #[error("subquery is only allowed on instant vector, got {} instead", .0.api_name())]
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
    /// An `@` timestamp beyond the millisecond range (the value as Go's `%f` prints it).
    #[error("timestamp out of bounds for @ modifier: {0}")]
    AtOutOfBounds(String),
    /// A number that does not fit where it is used.
    #[error("{what} out of bounds: {value}")]
    OutOfBounds {
        /// What the number is.
        what: &'static str,
        /// The number as written or computed.
        value: String,
    },
}

/// A character as Go's `%q` prints a rune (`'a'`, `'\''`, `'\x00'`); `None` (the end of
/// the input) prints as the replacement character, as Go's lexer does.
fn go_rune(c: Option<char>) -> String {
    let c = c.unwrap_or(char::REPLACEMENT_CHARACTER);
    match c {
        '\'' => "'\\''".to_string(),
        '"' => "'\"'".to_string(),
        _ => {
            let q = quote(c.encode_utf8(&mut [0u8; 4]));
            format!("'{}'", q.get(1..q.len() - 1).unwrap_or_default())
        }
    }
}

/// A character as Go's `%#U` prints it: `U+0071 'q'` (the quoted form only if printable).
fn go_unicode(c: char) -> String {
    let printable = c == ' ' || !(c.is_control() || c.is_whitespace());
    if printable {
        format!("U+{:04X} '{c}'", c as u32)
    } else {
        format!("U+{:04X}", c as u32)
    }
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
