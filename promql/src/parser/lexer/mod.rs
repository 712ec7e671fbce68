//! The hand-written PromQL lexer: turns a query into a vector of [`Token`]s with byte spans.
//!
//! Keywords are not distinguished here: every word is an [`TokenKind::Ident`] and the parser
//! decides from context (PromQL keywords are case-insensitive and may also be metric or label
//! names). `Inf` and `NaN` are left to the parser for the same reason.
//!
//! Lexing stops at the first lexical error, which becomes a final [`TokenKind::Error`] token:
//! as in Prometheus, whose parser pulls tokens one at a time, a syntax error the parser finds
//! earlier in the query wins over a lexical error further on. Like Prometheus's lexer, this
//! one also reports brackets left open at the end of the input and a `)` without its `(`.

mod literal;

use super::error::{ParseError, ParseErrorKind};

/// The kind of a lexed token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenKind {
    /// A word: `[a-zA-Z_:][a-zA-Z0-9_:]*` (no `:` inside brackets or braces).
    Ident,
    /// A word between `{` and `}`: always a label name, never a keyword.
    LabelName,
    /// A number: decimal, float with exponent, or hexadecimal.
    Number,
    /// A duration such as `5m` or `1h30m`.
    Duration,
    /// A quoted string (`"`, `'` or backtick); the token text includes the quotes.
    String,
    LParen,
    RParen,
    LBrace,
    RBrace,
    LBracket,
    RBracket,
    Comma,
    Colon,
    At,
    /// `=` (label matcher).
    Assign,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
    /// `==`
    Eql,
    /// `!=`
    Neq,
    Lss,
    Lte,
    Gtr,
    Gte,
    /// `</` (histogram trim)
    TrimUpper,
    /// `>/` (histogram trim)
    TrimLower,
    /// `=~`
    EqlRegex,
    /// `!~`
    NeqRegex,
    /// End of input.
    Eof,
    /// A lexical error; always the last token (see [`Lexed::error`]).
    Error,
}

impl TokenKind {
    /// How the token is named in error messages: Prometheus's item descriptions (operators
    /// as `<op:+>`, punctuation quoted, words and literals described by the parser).
    pub(crate) fn describe(self) -> &'static str {
        match self {
            TokenKind::Ident | TokenKind::LabelName => "identifier",
            TokenKind::Number => "number",
            TokenKind::Duration => "duration",
            TokenKind::String => "string",
            TokenKind::LParen => "\"(\"",
            TokenKind::RParen => "\")\"",
            TokenKind::LBrace => "\"{\"",
            TokenKind::RBrace => "\"}\"",
            TokenKind::LBracket => "\"[\"",
            TokenKind::RBracket => "\"]\"",
            TokenKind::Comma => "\",\"",
            TokenKind::Colon => "\":\"",
            TokenKind::At => "<op:@>",
            TokenKind::Assign => "\"=\"",
            TokenKind::Add => "<op:+>",
            TokenKind::Sub => "<op:->",
            TokenKind::Mul => "<op:*>",
            TokenKind::Div => "<op:/>",
            TokenKind::Mod => "<op:%>",
            TokenKind::Pow => "<op:^>",
            TokenKind::Eql => "<op:==>",
            TokenKind::Neq => "<op:!=>",
            TokenKind::Lss => "<op:<>",
            TokenKind::Lte => "<op:<=>",
            TokenKind::Gtr => "<op:>>",
            TokenKind::Gte => "<op:>=>",
            TokenKind::TrimUpper => "<op:</>",
            TokenKind::TrimLower => "<op:>/>",
            TokenKind::EqlRegex => "<op:=~>",
            TokenKind::NeqRegex => "<op:!~>",
            TokenKind::Eof => "end of input",
            TokenKind::Error => "lexical error",
        }
    }
}

/// One token: its kind and byte range in the query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Token {
    pub(crate) kind: TokenKind,
    pub(crate) start: usize,
    pub(crate) end: usize,
}

/// A lexed query: the tokens, ending in [`TokenKind::Eof`] or [`TokenKind::Error`], and the
/// error the last one stands for.
#[derive(Debug)]
pub(crate) struct Lexed {
    pub(crate) tokens: Vec<Token>,
    pub(crate) error: Option<ParseError>,
}

/// Lexes a whole query.
pub(crate) fn lex(query: &str) -> Lexed {
    let mut l = Lexer {
        src: query.as_bytes(),
        query,
        pos: 0,
        parens: 0,
        bracket_open: false,
        got_colon: false,
        in_braces: false,
        range_start: false,
        out: Vec::new(),
    };
    let end = query.len();
    match l.run() {
        Ok(()) => {
            l.out.push(Token {
                kind: TokenKind::Eof,
                start: end,
                end,
            });
            Lexed {
                tokens: l.out,
                error: None,
            }
        }
        Err(e) => {
            l.out.push(Token {
                kind: TokenKind::Error,
                start: e.span.start,
                end: e.span.end,
            });
            Lexed {
                tokens: l.out,
                error: Some(e),
            }
        }
    }
}

struct Lexer<'a> {
    src: &'a [u8],
    query: &'a str,
    pos: usize,
    parens: usize,
    bracket_open: bool,
    got_colon: bool,
    in_braces: bool,
    /// Whether the next token is the first inside `[`, where Prometheus reads a duration.
    range_start: bool,
    out: Vec<Token>,
}

fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

fn is_alnum(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r')
}

impl Lexer<'_> {
    fn peek(&self, off: usize) -> Option<u8> {
        self.src.get(self.pos + off).copied()
    }

    /// The character at byte offset `at`, if any.
    fn char_at(&self, at: usize) -> Option<char> {
        self.query.get(at..).and_then(|s| s.chars().next())
    }

    fn err(&self, start: usize, kind: ParseErrorKind) -> ParseError {
        let end = (start + self.char_at(start).map_or(0, char::len_utf8)).max(start);
        ParseError::new(start..end, kind, self.query)
    }

    fn push(&mut self, kind: TokenKind, start: usize) {
        self.out.push(Token {
            kind,
            start,
            end: self.pos,
        });
    }

    fn skip_comment(&mut self) {
        while let Some(c) = self.peek(0) {
            if c == b'\n' {
                break;
            }
            self.pos += 1;
        }
    }

    fn run(&mut self) -> Result<(), ParseError> {
        loop {
            if self.in_braces {
                if !self.inside_braces()? {
                    return Ok(());
                }
            } else if !self.statement()? {
                return Ok(());
            }
        }
    }

    /// Lexes one token (or skips blank space) outside braces; false at the end of input.
    fn statement(&mut self) -> Result<bool, ParseError> {
        let start = self.pos;
        let range_start = std::mem::take(&mut self.range_start);
        let Some(c) = self.peek(0) else {
            if self.parens > 0 {
                return Err(self.err(start, ParseErrorKind::UnclosedParen));
            }
            if self.bracket_open {
                return Err(self.err(start, ParseErrorKind::UnclosedBracket));
            }
            return Ok(false);
        };
        match c {
            c if is_space(c) => self.pos += 1,
            b'#' => self.skip_comment(),
            b'"' | b'\'' | b'`' => self.quoted(c)?,
            b'0'..=b'9' => self.number_or_duration(range_start)?,
            b'.' if self.peek(1).is_some_and(|c| c.is_ascii_digit()) => {
                self.number_or_duration(range_start)?
            }
            b':' if self.bracket_open => {
                if self.got_colon {
                    return Err(self.err(start, ParseErrorKind::UnexpectedColon));
                }
                self.got_colon = true;
                self.pos += 1;
                self.push(TokenKind::Colon, start);
            }
            c if is_ident_start(c) || c == b':' => {
                // Inside `[...]` words are duration functions (`step()`), never metric names.
                let colons = !self.bracket_open;
                while self
                    .peek(0)
                    .is_some_and(|c| is_alnum(c) || (colons && c == b':'))
                {
                    self.pos += 1;
                }
                self.push(TokenKind::Ident, start);
            }
            b'!' => match self.peek(1) {
                Some(b'=') => self.op(TokenKind::Neq, 2),
                _ => {
                    return Err(self.err(
                        start,
                        ParseErrorKind::UnexpectedAfter {
                            after: '!',
                            found: self.char_at(start + 1),
                            in_braces: false,
                        },
                    ))
                }
            },
            b'=' => match self.peek(1) {
                Some(b'=') => self.op(TokenKind::Eql, 2),
                Some(b'~') => {
                    return Err(self.err(
                        start,
                        ParseErrorKind::UnexpectedAfter {
                            after: '=',
                            found: Some('~'),
                            in_braces: false,
                        },
                    ))
                }
                _ => self.op(TokenKind::Assign, 1),
            },
            b'(' => {
                self.parens += 1;
                self.op(TokenKind::LParen, 1);
            }
            b')' => {
                self.pos += 1;
                if self.parens == 0 {
                    // Prometheus reports it just after the parenthesis.
                    return Err(ParseError::new(
                        self.pos..self.pos,
                        ParseErrorKind::UnexpectedRightParen,
                        self.query,
                    ));
                }
                self.parens -= 1;
                self.push(TokenKind::RParen, start);
            }
            b'{' => {
                self.in_braces = true;
                self.op(TokenKind::LBrace, 1);
            }
            b'[' => {
                if self.bracket_open {
                    return Err(self.err(start, ParseErrorKind::UnexpectedLeftBracket));
                }
                self.got_colon = false;
                self.bracket_open = true;
                self.op(TokenKind::LBracket, 1);
                while self.peek(0).is_some_and(is_space) {
                    self.pos += 1;
                }
                self.range_start_checks()?;
                self.range_start = true;
            }
            b']' => {
                if !self.bracket_open {
                    return Err(self.err(start, ParseErrorKind::UnexpectedRightBracket));
                }
                self.bracket_open = false;
                self.op(TokenKind::RBracket, 1);
            }
            _ => {
                let kind = match (c, self.peek(1)) {
                    (b'<', Some(b'=')) => Some((TokenKind::Lte, 2)),
                    (b'<', Some(b'/')) => Some((TokenKind::TrimUpper, 2)),
                    (b'<', _) => Some((TokenKind::Lss, 1)),
                    (b'>', Some(b'=')) => Some((TokenKind::Gte, 2)),
                    (b'>', Some(b'/')) => Some((TokenKind::TrimLower, 2)),
                    (b'>', _) => Some((TokenKind::Gtr, 1)),
                    (b',', _) => Some((TokenKind::Comma, 1)),
                    (b'@', _) => Some((TokenKind::At, 1)),
                    (b'+', _) => Some((TokenKind::Add, 1)),
                    (b'-', _) => Some((TokenKind::Sub, 1)),
                    (b'*', _) => Some((TokenKind::Mul, 1)),
                    (b'/', _) => Some((TokenKind::Div, 1)),
                    (b'%', _) => Some((TokenKind::Mod, 1)),
                    (b'^', _) => Some((TokenKind::Pow, 1)),
                    _ => None,
                };
                let Some((kind, len)) = kind else {
                    let ch = self.char_at(start).unwrap_or(char::REPLACEMENT_CHARACTER);
                    return Err(self.err(start, ParseErrorKind::UnexpectedCharacter(ch)));
                };
                self.op(kind, len);
            }
        }
        Ok(true)
    }

    /// What may follow `[`: a number or duration, or (duration expressions) a sign, a
    /// parenthesis or a duration function. Anything else fails as Prometheus's duration
    /// lexer fails on it.
    fn range_start_checks(&mut self) -> Result<(), ParseError> {
        let at = self.pos;
        match self.peek(0) {
            Some(c) if c.is_ascii_digit() || matches!(c, b'.' | b'(' | b'-' | b'+') => Ok(()),
            Some(c) if c.is_ascii_alphabetic() => {
                let rest = self.query.get(at..).unwrap_or_default();
                let word_len = rest.bytes().take_while(|&b| is_alnum(b)).count();
                let word = rest.get(..word_len).unwrap_or_default();
                if ["step", "range", "min_of", "max_of"]
                    .iter()
                    .any(|f| word.eq_ignore_ascii_case(f))
                {
                    return Ok(());
                }
                self.rest_of_duration();
                let text = self.query.get(at..self.pos).unwrap_or_default().to_string();
                Err(ParseError::new(
                    at..self.pos,
                    ParseErrorKind::BadDurationSyntax(text),
                    self.query,
                ))
            }
            _ => Err(self.err(at, ParseErrorKind::MissingUnit)),
        }
    }

    fn op(&mut self, kind: TokenKind, len: usize) {
        let start = self.pos;
        self.pos += len;
        self.push(kind, start);
    }

    /// Lexes one token (or skips blank space) inside `{...}`; false never (the end of input
    /// inside braces is an error).
    fn inside_braces(&mut self) -> Result<bool, ParseError> {
        let start = self.pos;
        let Some(c) = self.peek(0) else {
            return Err(self.err(start, ParseErrorKind::UnexpectedEofInBraces));
        };
        match c {
            c if is_space(c) => self.pos += 1,
            b'#' => self.skip_comment(),
            c if is_ident_start(c) => {
                while self.peek(0).is_some_and(is_alnum) {
                    self.pos += 1;
                }
                self.push(TokenKind::LabelName, start);
            }
            b',' => self.op(TokenKind::Comma, 1),
            b'"' | b'\'' | b'`' => self.quoted(c)?,
            b'=' if self.peek(1) == Some(b'~') => self.op(TokenKind::EqlRegex, 2),
            b'=' => self.op(TokenKind::Assign, 1),
            b'!' => match self.peek(1) {
                Some(b'~') => self.op(TokenKind::NeqRegex, 2),
                Some(b'=') => self.op(TokenKind::Neq, 2),
                _ => {
                    return Err(self.err(
                        start,
                        ParseErrorKind::UnexpectedAfter {
                            after: '!',
                            found: self.char_at(start + 1),
                            in_braces: true,
                        },
                    ))
                }
            },
            b'{' => return Err(self.err(start, ParseErrorKind::UnexpectedLeftBrace)),
            b'}' => {
                self.in_braces = false;
                self.op(TokenKind::RBrace, 1);
            }
            _ => {
                let ch = self.char_at(start).unwrap_or(char::REPLACEMENT_CHARACTER);
                return Err(self.err(start, ParseErrorKind::UnexpectedInBraces(ch)));
            }
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(q: &str) -> Vec<TokenKind> {
        let l = lex(q);
        assert!(l.error.is_none(), "{q}: {:?}", l.error);
        l.tokens.into_iter().map(|t| t.kind).collect()
    }

    fn error(q: &str) -> String {
        lex(q).error.map(|e| e.to_string()).unwrap_or_default()
    }

    #[test]
    fn tokens() {
        use TokenKind::*;
        assert_eq!(
            kinds("foo:bar{a=~\"x\"}[5m:1m] offset -1h30m"),
            [
                Ident, LBrace, LabelName, EqlRegex, String, RBrace, LBracket, Duration, Colon,
                Duration, RBracket, Ident, Sub, Duration, Eof
            ]
        );
        assert_eq!(
            kinds("0x1F 1e-3 .5 5. 1 # comment"),
            [Number, Number, Number, Number, Number, Eof]
        );
        assert_eq!(
            kinds("a!=b<=c>=d==e"),
            [Ident, Neq, Ident, Lte, Ident, Gte, Ident, Eql, Ident, Eof]
        );
        assert_eq!(kinds("1.5m"), [Duration, Eof]);
        assert_eq!(kinds("`multi\nline`"), [String, Eof]);
    }

    #[test]
    fn errors() {
        assert_eq!(
            error("\"abc"),
            "1:1: parse error: unterminated quoted string"
        );
        assert_eq!(
            error("'a\nb'"),
            "1:1: parse error: unterminated quoted string"
        );
        assert_eq!(
            error("1a"),
            "1:1: parse error: bad number or duration syntax: \"1\""
        );
        assert_eq!(
            error("5m5"),
            "1:1: parse error: bad number or duration syntax: \"5m5\""
        );
        assert_eq!(
            error("a ! b"),
            "1:3: parse error: unexpected character after '!': ' '"
        );
        assert_eq!(
            error("a € b"),
            "1:3: parse error: unexpected character: '€'"
        );
        assert_eq!(error("(a"), "1:3: parse error: unclosed left parenthesis");
        assert_eq!(
            error("a)"),
            "1:3: parse error: unexpected right parenthesis ')'"
        );
        assert_eq!(error("a[5m"), "1:5: parse error: unclosed left bracket");
        assert_eq!(
            error("a{b"),
            "1:4: parse error: unexpected end of input inside braces"
        );
        assert_eq!(
            error("a{b:c}"),
            "1:4: parse error: unexpected character inside braces: ':'"
        );
        assert_eq!(
            error("a[]"),
            "1:3: parse error: missing unit character in duration"
        );
        assert_eq!(
            error(r#""\q""#),
            "1:1: parse error: unknown escape sequence U+0071 'q'"
        );
        assert_eq!(
            error(r#""\u12""#),
            "1:1: parse error: illegal character U+0022 '\"' in escape sequence"
        );
        assert_eq!(
            error(r#""\400""#),
            "1:1: parse error: escape sequence is an invalid Unicode code point"
        );
        // Tokens before the error are kept for the parser.
        let l = lex("a + (b");
        assert_eq!(l.tokens.len(), 5);
        assert_eq!(l.tokens.last().map(|t| t.kind), Some(TokenKind::Error));
    }
}
