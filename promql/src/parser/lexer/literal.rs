//! The literal tokens: quoted strings (with Go's escape checks) and numbers and durations
//! (scanned the way Prometheus's lexer scans them, so bad ones are cut where it cuts them).

use super::{is_alnum, Lexer, TokenKind};
use crate::parser::error::{ParseError, ParseErrorKind};

impl Lexer<'_> {
    /// A string token in any of the three quotes.
    pub(super) fn quoted(&mut self, quote: u8) -> Result<(), ParseError> {
        let start = self.pos;
        if quote == b'`' {
            self.raw_string()?;
        } else {
            self.string(quote)?;
        }
        self.push(TokenKind::String, start);
        Ok(())
    }

    /// A `"` or `'` string, with Go's escape rules checked as Prometheus's lexer does.
    fn string(&mut self, quote: u8) -> Result<(), ParseError> {
        let start = self.pos;
        self.pos += 1;
        loop {
            let Some(c) = self.peek(0) else {
                return Err(self.err(start, ParseErrorKind::UnterminatedString));
            };
            self.pos += 1;
            match c {
                b'\\' => {
                    if let Some(kind) = self.escape(quote) {
                        return Err(self.err(start, kind));
                    }
                }
                b'\n' => return Err(self.err(start, ParseErrorKind::UnterminatedString)),
                c if c == quote => return Ok(()),
                _ => {}
            }
        }
    }

    /// Checks the escape sequence after a backslash (already consumed); the error, if any.
    fn escape(&mut self, quote: u8) -> Option<ParseErrorKind> {
        let Some(ch) = self.char_at(self.pos) else {
            return Some(ParseErrorKind::EscapeNotTerminated);
        };
        self.pos += ch.len_utf8();
        let (digits, base, max) = match ch {
            'a' | 'b' | 'f' | 'n' | 'r' | 't' | 'v' | '\\' => return None,
            c if c as u32 == u32::from(quote) => return None,
            '0'..='7' => {
                self.pos -= 1;
                (3, 8, 255)
            }
            'x' => (2, 16, 255),
            'u' => (4, 16, 0x10ffff),
            'U' => (8, 16, 0x10ffff),
            c => return Some(ParseErrorKind::UnknownEscape(c)),
        };
        let mut value: u32 = 0;
        for _ in 0..digits {
            let Some(c) = self.char_at(self.pos) else {
                return Some(ParseErrorKind::EscapeNotTerminated);
            };
            let Some(d) = c.to_digit(base) else {
                return Some(ParseErrorKind::IllegalEscapeCharacter(c));
            };
            self.pos += 1;
            value = value.saturating_mul(base).saturating_add(d);
        }
        if value > max || (0xd800..0xe000).contains(&value) {
            return Some(ParseErrorKind::InvalidCodePoint);
        }
        None
    }

    fn raw_string(&mut self) -> Result<(), ParseError> {
        let start = self.pos;
        self.pos += 1;
        loop {
            match self.peek(0) {
                None => return Err(self.err(start, ParseErrorKind::UnterminatedRawString)),
                Some(c) => {
                    self.pos += 1;
                    if c == b'`' {
                        return Ok(());
                    }
                }
            }
        }
    }

    /// Consumes the longest number prefix Prometheus's lexer accepts; true if what follows
    /// cannot continue a word (so the number stands on its own).
    fn scan_number(&mut self) -> bool {
        let mut hex = false;
        if self.peek(0) == Some(b'0') && matches!(self.peek(1), Some(b'x' | b'X')) {
            self.pos += 2;
            hex = true;
        } else if self.peek(0) == Some(b'0') {
            self.pos += 1;
        }
        let digit = |c: u8| {
            if hex {
                c.is_ascii_hexdigit()
            } else {
                c.is_ascii_digit()
            }
        };
        while self.peek(0).is_some_and(digit) {
            self.pos += 1;
        }
        if self.peek(0) == Some(b'.') {
            self.pos += 1;
            while self.peek(0).is_some_and(digit) {
                self.pos += 1;
            }
        }
        if matches!(self.peek(0), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(0), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            while self.peek(0).is_some_and(|c| c.is_ascii_digit()) {
                self.pos += 1;
            }
        }
        !self.peek(0).is_some_and(is_alnum)
    }

    /// After a number that runs into a letter: the rest of a duration (`m`, `ms`, `h30m`...).
    /// False if it is not one; the position is then where Prometheus's lexer stops.
    pub(super) fn rest_of_duration(&mut self) -> bool {
        let accept = |l: &mut Self, set: &[u8]| {
            if l.peek(0).is_some_and(|c| set.contains(&c)) {
                l.pos += 1;
                true
            } else {
                false
            }
        };
        if !accept(self, b"smhdwy") {
            return false;
        }
        accept(self, b"s");
        while accept(self, b"0123456789") {
            while accept(self, b"0123456789") {}
            if !accept(self, b"smhdw") {
                return false;
            }
            accept(self, b"s");
        }
        match self.peek(0) {
            Some(c) if is_alnum(c) => {
                self.pos += 1;
                false
            }
            _ => true,
        }
    }

    pub(super) fn number_or_duration(&mut self, range_start: bool) -> Result<(), ParseError> {
        let start = self.pos;
        if self.scan_number() {
            self.push(TokenKind::Number, start);
            return Ok(());
        }
        if self.rest_of_duration() {
            self.push(TokenKind::Duration, start);
            return Ok(());
        }
        let text = self
            .query
            .get(start..self.pos)
            .unwrap_or_default()
            .to_string();
        let kind = if range_start {
            ParseErrorKind::BadDurationSyntax(text)
        } else {
            ParseErrorKind::BadNumber(text)
        };
        Err(ParseError::new(start..self.pos, kind, self.query))
    }
}
