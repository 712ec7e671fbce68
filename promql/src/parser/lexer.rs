//! The hand-written PromQL lexer: turns a query into a vector of [`Token`]s with byte spans.
//!
//! Keywords are not distinguished here: every word is an [`TokenKind::Ident`] and the parser
//! decides from context (PromQL keywords are case-insensitive and may also be metric or label
//! names). `Inf` and `NaN` are left to the parser for the same reason.

use super::error::{ParseError, ParseErrorKind};

/// The kind of a lexed token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenKind {
    /// A word: `[a-zA-Z_:][a-zA-Z0-9_:]*` (no `:` inside brackets or braces).
    Ident,
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
}

impl TokenKind {
    /// How the token is named in error messages.
    pub(crate) fn describe(self) -> &'static str {
        match self {
            TokenKind::Ident => "identifier",
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
            TokenKind::At => "\"@\"",
            TokenKind::Assign => "\"=\"",
            TokenKind::Add => "\"+\"",
            TokenKind::Sub => "\"-\"",
            TokenKind::Mul => "\"*\"",
            TokenKind::Div => "\"/\"",
            TokenKind::Mod => "\"%\"",
            TokenKind::Pow => "\"^\"",
            TokenKind::Eql => "\"==\"",
            TokenKind::Neq => "\"!=\"",
            TokenKind::Lss => "\"<\"",
            TokenKind::Lte => "\"<=\"",
            TokenKind::Gtr => "\">\"",
            TokenKind::Gte => "\">=\"",
            TokenKind::TrimUpper => "\"</\"",
            TokenKind::TrimLower => "\">/\"",
            TokenKind::EqlRegex => "\"=~\"",
            TokenKind::NeqRegex => "\"!~\"",
            TokenKind::Eof => "end of input",
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

/// Lexes a whole query. The last token is always [`TokenKind::Eof`].
pub(crate) fn lex(query: &str) -> Result<Vec<Token>, ParseError> {
    Lexer {
        src: query.as_bytes(),
        query,
        pos: 0,
        brackets: 0,
        braces: 0,
        out: Vec::new(),
    }
    .run()
}

struct Lexer<'a> {
    src: &'a [u8],
    query: &'a str,
    pos: usize,
    brackets: usize,
    braces: usize,
    out: Vec<Token>,
}

fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

fn is_alnum(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

impl Lexer<'_> {
    fn peek(&self, off: usize) -> Option<u8> {
        self.src.get(self.pos + off).copied()
    }

    fn err(&self, start: usize, end: usize, kind: ParseErrorKind) -> ParseError {
        ParseError::new(start..end, kind, self.query)
    }

    fn push(&mut self, kind: TokenKind, start: usize) {
        self.out.push(Token {
            kind,
            start,
            end: self.pos,
        });
    }

    fn run(mut self) -> Result<Vec<Token>, ParseError> {
        while let Some(c) = self.peek(0) {
            let start = self.pos;
            match c {
                b' ' | b'\t' | b'\n' | b'\r' => self.pos += 1,
                b'#' => {
                    while let Some(c) = self.peek(0) {
                        if c == b'\n' {
                            break;
                        }
                        self.pos += 1;
                    }
                }
                b'"' | b'\'' | b'`' => {
                    self.string(c)?;
                    self.push(TokenKind::String, start);
                }
                b'0'..=b'9' => self.number()?,
                b'.' if self.peek(1).is_some_and(|c| c.is_ascii_digit()) => self.number()?,
                c if is_ident_start(c) || (c == b':' && self.brackets == 0 && self.braces == 0) => {
                    let colons = self.brackets == 0 && self.braces == 0;
                    while let Some(c) = self.peek(0) {
                        if is_alnum(c) || (colons && c == b':') {
                            self.pos += 1;
                        } else {
                            break;
                        }
                    }
                    self.push(TokenKind::Ident, start);
                }
                _ => {
                    let (kind, len) = match (c, self.peek(1)) {
                        (b'=', Some(b'=')) => (TokenKind::Eql, 2),
                        (b'=', Some(b'~')) => (TokenKind::EqlRegex, 2),
                        (b'=', _) => (TokenKind::Assign, 1),
                        (b'!', Some(b'=')) => (TokenKind::Neq, 2),
                        (b'!', Some(b'~')) => (TokenKind::NeqRegex, 2),
                        (b'<', Some(b'=')) => (TokenKind::Lte, 2),
                        (b'<', Some(b'/')) => (TokenKind::TrimUpper, 2),
                        (b'>', Some(b'/')) => (TokenKind::TrimLower, 2),
                        (b'<', _) => (TokenKind::Lss, 1),
                        (b'>', Some(b'=')) => (TokenKind::Gte, 2),
                        (b'>', _) => (TokenKind::Gtr, 1),
                        (b'(', _) => (TokenKind::LParen, 1),
                        (b')', _) => (TokenKind::RParen, 1),
                        (b'{', _) => (TokenKind::LBrace, 1),
                        (b'}', _) => (TokenKind::RBrace, 1),
                        (b'[', _) => (TokenKind::LBracket, 1),
                        (b']', _) => (TokenKind::RBracket, 1),
                        (b',', _) => (TokenKind::Comma, 1),
                        (b':', _) => (TokenKind::Colon, 1),
                        (b'@', _) => (TokenKind::At, 1),
                        (b'+', _) => (TokenKind::Add, 1),
                        (b'-', _) => (TokenKind::Sub, 1),
                        (b'*', _) => (TokenKind::Mul, 1),
                        (b'/', _) => (TokenKind::Div, 1),
                        (b'%', _) => (TokenKind::Mod, 1),
                        (b'^', _) => (TokenKind::Pow, 1),
                        _ => {
                            let ch = self.query[start..].chars().next().unwrap_or('\u{fffd}');
                            return Err(self.err(
                                start,
                                start + ch.len_utf8(),
                                ParseErrorKind::UnexpectedCharacter(ch),
                            ));
                        }
                    };
                    match kind {
                        TokenKind::LBracket => self.brackets += 1,
                        TokenKind::RBracket => self.brackets = self.brackets.saturating_sub(1),
                        TokenKind::LBrace => self.braces += 1,
                        TokenKind::RBrace => self.braces = self.braces.saturating_sub(1),
                        _ => {}
                    }
                    self.pos += len;
                    self.push(kind, start);
                }
            }
        }
        let end = self.src.len();
        self.out.push(Token {
            kind: TokenKind::Eof,
            start: end,
            end,
        });
        Ok(self.out)
    }

    fn string(&mut self, quote: u8) -> Result<(), ParseError> {
        let start = self.pos;
        self.pos += 1;
        loop {
            match self.peek(0) {
                None => {
                    return Err(self.err(start, self.pos, ParseErrorKind::UnterminatedString));
                }
                Some(b'\\') if quote != b'`' => {
                    self.pos += 1;
                    if self.peek(0).is_none() {
                        return Err(self.err(start, self.pos, ParseErrorKind::UnterminatedString));
                    }
                    self.pos += 1;
                }
                Some(b'\n') if quote != b'`' => {
                    return Err(self.err(start, self.pos, ParseErrorKind::UnterminatedString));
                }
                Some(c) => {
                    self.pos += 1;
                    if c == quote {
                        return Ok(());
                    }
                }
            }
        }
    }

    fn digits(&mut self, pred: fn(u8) -> bool) -> usize {
        let s = self.pos;
        while self.peek(0).is_some_and(pred) {
            self.pos += 1;
        }
        self.pos - s
    }

    /// Lexes a number or a duration starting at the current position.
    fn number(&mut self) -> Result<(), ParseError> {
        let start = self.pos;
        let bad = |l: &mut Self| {
            while l.peek(0).is_some_and(|c| is_alnum(c) || c == b'.') {
                l.pos += 1;
            }
            Err(l.err(
                start,
                l.pos,
                ParseErrorKind::BadNumber(l.query[start..l.pos].to_string()),
            ))
        };
        // Hexadecimal.
        if self.peek(0) == Some(b'0')
            && matches!(self.peek(1), Some(b'x' | b'X'))
            && self.peek(2).is_some_and(|c| c.is_ascii_hexdigit())
        {
            self.pos += 2;
            self.digits(|c| c.is_ascii_hexdigit());
            if self.peek(0).is_some_and(|c| is_alnum(c) || c == b'.') {
                return bad(self);
            }
            self.push(TokenKind::Number, start);
            return Ok(());
        }
        // Duration: one or more <digits><unit> groups.
        if let Some(len) = duration_len(&self.src[start..]) {
            let after = self.src.get(start + len).copied();
            if !after.is_some_and(|c| is_alnum(c) || c == b'.') {
                self.pos = start + len;
                self.push(TokenKind::Duration, start);
                return Ok(());
            }
        }
        // Decimal float.
        let int = self.digits(|c| c.is_ascii_digit());
        let mut frac = 0;
        if self.peek(0) == Some(b'.') {
            self.pos += 1;
            frac = self.digits(|c| c.is_ascii_digit());
        }
        if int + frac == 0 {
            return bad(self);
        }
        if matches!(self.peek(0), Some(b'e' | b'E')) {
            let save = self.pos;
            self.pos += 1;
            if matches!(self.peek(0), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if self.digits(|c| c.is_ascii_digit()) == 0 {
                self.pos = save;
                return bad(self);
            }
        }
        if self.peek(0).is_some_and(|c| is_alnum(c) || c == b'.') {
            return bad(self);
        }
        self.push(TokenKind::Number, start);
        Ok(())
    }
}

/// The length of the longest prefix of `s` shaped like `(\d+(ms|[smhdwy]))+`, if any.
fn duration_len(s: &[u8]) -> Option<usize> {
    let mut i = 0;
    let mut groups = 0;
    loop {
        let ds = i;
        while s.get(i).is_some_and(|c| c.is_ascii_digit()) {
            i += 1;
        }
        if i == ds {
            break;
        }
        let unit = match (s.get(i), s.get(i + 1)) {
            (Some(b'm'), Some(b's')) => 2,
            (Some(b's' | b'm' | b'h' | b'd' | b'w' | b'y'), _) => 1,
            _ => {
                i = ds;
                break;
            }
        };
        i += unit;
        groups += 1;
    }
    (groups > 0).then_some(i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(q: &str) -> Vec<TokenKind> {
        lex(q).unwrap().into_iter().map(|t| t.kind).collect()
    }

    #[test]
    fn tokens() {
        use TokenKind::*;
        assert_eq!(
            kinds("foo:bar{a=~\"x\"}[5m:1m] offset -1h30m"),
            [
                Ident, LBrace, Ident, EqlRegex, String, RBrace, LBracket, Duration, Colon,
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
    }

    #[test]
    fn errors() {
        assert!(lex("\"abc").is_err());
        assert!(lex("'a\nb'").is_err());
        assert!(lex("1.5m").is_err());
        assert!(lex("1a").is_err());
        assert!(lex("a ! b").is_err());
        assert!(lex("a € b").is_err());
        assert!(lex("`multi\nline`").is_ok());
    }
}
