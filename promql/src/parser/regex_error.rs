//! Go's wording for a label-matcher regex that does not compile.
//!
//! Prometheus compiles `=~` and `!~` values as `^(?s:VALUE)$` with Go's `regexp`, and its
//! parse error then reads `error parsing regexp: <code>: `<text>``, where the text is the
//! part of that anchored string Go blames. Our regexes compile with another engine (see
//! `kagari_model::compile_regex`), so when one fails this scanner finds the first syntax error
//! Go's parser would report, walking the anchored string the same way.

use std::fmt;

/// Go's `regexp/syntax` error codes that user patterns can hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RegexErrorCode {
    /// `missing closing )`
    MissingParen,
    /// `unexpected )`
    UnexpectedParen,
    /// `missing closing ]`
    MissingBracket,
    /// `missing argument to repetition operator`
    MissingRepeatArgument,
    /// `invalid nested repetition operator`
    InvalidNestedRepeat,
    /// `invalid repeat count`
    InvalidRepeatSize,
    /// `invalid escape sequence`
    InvalidEscape,
    /// `trailing backslash at end of expression`
    TrailingBackslash,
    /// `invalid character class range`
    InvalidCharRange,
    /// `invalid or unsupported Perl syntax`
    InvalidPerlOp,
}

impl fmt::Display for RegexErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RegexErrorCode::MissingParen => "missing closing )",
            RegexErrorCode::UnexpectedParen => "unexpected )",
            RegexErrorCode::MissingBracket => "missing closing ]",
            RegexErrorCode::MissingRepeatArgument => "missing argument to repetition operator",
            RegexErrorCode::InvalidNestedRepeat => "invalid nested repetition operator",
            RegexErrorCode::InvalidRepeatSize => "invalid repeat count",
            RegexErrorCode::InvalidEscape => "invalid escape sequence",
            RegexErrorCode::TrailingBackslash => "trailing backslash at end of expression",
            RegexErrorCode::InvalidCharRange => "invalid character class range",
            RegexErrorCode::InvalidPerlOp => "invalid or unsupported Perl syntax",
        })
    }
}

/// Go's largest repeat count.
const MAX_REPEAT: u32 = 1000;

/// The first error Go's regexp parser reports for `re` (an anchored pattern), with the text
/// it quotes; `None` if this scanner finds nothing wrong.
pub(crate) fn go_regex_error(re: &str) -> Option<(RegexErrorCode, String)> {
    Scanner { re, pos: 0 }.run().err()
}

struct Scanner<'a> {
    re: &'a str,
    pos: usize,
}

type Scan<T> = Result<T, (RegexErrorCode, String)>;

/// What the last item of the current sequence was, for the repetition checks.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Last {
    /// Nothing yet (start of a group or of an alternative).
    Nothing,
    /// Something a repetition can apply to.
    Atom,
    /// A repetition operator, starting at this offset.
    Repeat(usize),
}

impl Scanner<'_> {
    fn peek(&self) -> Option<char> {
        self.re.get(self.pos..).and_then(|s| s.chars().next())
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn text(&self, from: usize) -> String {
        self.re.get(from..self.pos).unwrap_or_default().to_string()
    }

    fn run(&mut self) -> Scan<()> {
        let mut depth = 0usize;
        let mut last = Last::Nothing;
        while let Some(c) = self.peek() {
            let start = self.pos;
            match c {
                '(' => {
                    self.bump();
                    if self.peek() == Some('?') {
                        self.bump();
                        if self.group_flags(start)? {
                            last = Last::Nothing;
                            continue;
                        }
                    }
                    depth += 1;
                    last = Last::Nothing;
                }
                ')' => {
                    self.bump();
                    if depth == 0 {
                        return Err((RegexErrorCode::UnexpectedParen, self.re.to_string()));
                    }
                    depth -= 1;
                    last = Last::Atom;
                }
                '|' => {
                    self.bump();
                    last = Last::Nothing;
                }
                '*' | '+' | '?' => {
                    self.bump();
                    self.repeat(start, &mut last)?;
                }
                '{' => {
                    self.bump();
                    match self.repeat_count() {
                        Some((min, max)) => {
                            if min > MAX_REPEAT || max.is_some_and(|m| m > MAX_REPEAT || m < min) {
                                return Err((RegexErrorCode::InvalidRepeatSize, self.text(start)));
                            }
                            self.repeat(start, &mut last)?;
                        }
                        None => last = Last::Atom,
                    }
                }
                '[' => {
                    self.bump();
                    self.class(start)?;
                    last = Last::Atom;
                }
                '\\' => {
                    self.bump();
                    self.escape(start)?;
                    last = Last::Atom;
                }
                _ => {
                    self.bump();
                    last = Last::Atom;
                }
            }
        }
        if depth > 0 {
            return Err((RegexErrorCode::MissingParen, self.re.to_string()));
        }
        Ok(())
    }

    /// After a repetition operator (already consumed, starting at `start`).
    fn repeat(&mut self, start: usize, last: &mut Last) -> Scan<()> {
        if self.peek() == Some('?') {
            self.bump();
        }
        match *last {
            Last::Nothing => Err((RegexErrorCode::MissingRepeatArgument, self.text(start))),
            Last::Repeat(prev) => Err((RegexErrorCode::InvalidNestedRepeat, self.text(prev))),
            Last::Atom => {
                *last = Last::Repeat(start);
                Ok(())
            }
        }
    }

    /// `{n}`, `{n,}` or `{n,m}` after the `{`; `None` (nothing consumed) if it is a literal.
    fn repeat_count(&mut self) -> Option<(u32, Option<u32>)> {
        let rest = self.re.get(self.pos..)?;
        let close = rest.find('}')?;
        let body = rest.get(..close)?;
        let (min, max) = match body.split_once(',') {
            None => (body, Some(body)),
            Some((a, "")) => (a, None),
            Some((a, b)) => (a, Some(b)),
        };
        let num = |s: &str| {
            (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
                .then(|| s.parse::<u32>().unwrap_or(u32::MAX))
        };
        let min = num(min)?;
        let max = match max {
            Some(m) => Some(num(m)?),
            None => None,
        };
        self.pos += close + 1;
        Some((min, max))
    }

    /// After `(?`: flags `(?i)` (true: no group opened) or `(?i:`, `(?P<name>` (false).
    fn group_flags(&mut self, start: usize) -> Scan<bool> {
        if self.peek() == Some('P') {
            self.bump();
            if self.peek() == Some('<') {
                self.bump();
                while let Some(c) = self.bump() {
                    if c == '>' {
                        return Ok(false);
                    }
                    if !(c.is_ascii_alphanumeric() || c == '_') {
                        break;
                    }
                }
            }
            return Err((RegexErrorCode::InvalidPerlOp, self.text(start)));
        }
        let mut any = false;
        while let Some(c) = self.bump() {
            match c {
                'i' | 'm' | 's' | 'U' | '-' => any = true,
                ')' if any => return Ok(true),
                ':' => return Ok(false),
                _ => break,
            }
        }
        Err((RegexErrorCode::InvalidPerlOp, self.text(start)))
    }

    /// After `\` (consumed; `start` is the backslash).
    fn escape(&mut self, start: usize) -> Scan<()> {
        let Some(c) = self.bump() else {
            return Err((RegexErrorCode::TrailingBackslash, String::new()));
        };
        match c {
            c if c.is_ascii_punctuation() => Ok(()),
            '0'..='7'
            | 'a'
            | 'f'
            | 't'
            | 'n'
            | 'r'
            | 'v'
            | 'd'
            | 'D'
            | 's'
            | 'S'
            | 'w'
            | 'W'
            | 'b'
            | 'B'
            | 'A'
            | 'z' => Ok(()),
            'x' => {
                if self.peek() == Some('{') {
                    while let Some(c) = self.bump() {
                        if c == '}' {
                            return Ok(());
                        }
                        if !c.is_ascii_hexdigit() {
                            break;
                        }
                    }
                    return Err((RegexErrorCode::InvalidEscape, self.text(start)));
                }
                for _ in 0..2 {
                    if !self.bump().is_some_and(|c| c.is_ascii_hexdigit()) {
                        return Err((RegexErrorCode::InvalidEscape, self.text(start)));
                    }
                }
                Ok(())
            }
            'p' | 'P' => {
                if self.peek() == Some('{') {
                    while let Some(c) = self.bump() {
                        if c == '}' {
                            break;
                        }
                    }
                } else {
                    self.bump();
                }
                Ok(())
            }
            'Q' => {
                match self.re.get(self.pos..).and_then(|r| r.find("\\E")) {
                    Some(i) => self.pos += i + 2,
                    None => self.pos = self.re.len(),
                }
                Ok(())
            }
            _ => Err((RegexErrorCode::InvalidEscape, self.text(start))),
        }
    }

    /// A character class after its `[` (consumed; `start` is the bracket).
    fn class(&mut self, start: usize) -> Scan<()> {
        let missing = |s: &Self| {
            (
                RegexErrorCode::MissingBracket,
                s.re.get(start..).unwrap_or_default().to_string(),
            )
        };
        if self.peek() == Some('^') {
            self.bump();
        }
        let mut first = true;
        loop {
            let item = self.pos;
            let Some(c) = self.bump() else {
                return Err(missing(self));
            };
            let lo = match c {
                ']' if !first => return Ok(()),
                '[' if self.peek() == Some(':') => {
                    let rest = self.re.get(self.pos..).unwrap_or_default();
                    match rest.find(":]") {
                        Some(i) => {
                            self.pos += i + 2;
                            first = false;
                            continue;
                        }
                        None => '[',
                    }
                }
                '\\' => {
                    let Some(e) = self.peek() else {
                        return Err(missing(self));
                    };
                    self.escape(item)?;
                    if e.is_ascii_alphabetic()
                        && !matches!(e, 'a' | 'f' | 't' | 'n' | 'r' | 'v' | 'x')
                    {
                        first = false;
                        continue;
                    }
                    e
                }
                c => c,
            };
            first = false;
            // A range `lo-hi` (a `-` before `]` is a literal).
            let save = self.pos;
            if self.peek() == Some('-') {
                self.bump();
                match self.bump() {
                    None => return Err(missing(self)),
                    Some(']') => self.pos = save,
                    Some(hi) => {
                        let hi = if hi == '\\' {
                            let e = self.peek().unwrap_or('\\');
                            self.escape(self.pos - 1)?;
                            e
                        } else {
                            hi
                        };
                        if hi < lo {
                            return Err((RegexErrorCode::InvalidCharRange, self.text(item)));
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(v: &str) -> Option<String> {
        go_regex_error(&format!("^(?s:{v})$")).map(|(c, t)| format!("{c}: `{t}`"))
    }

    #[test]
    fn go_messages() {
        assert_eq!(msg("(").as_deref(), Some("missing closing ): `^(?s:()$`"));
        assert_eq!(msg(")").as_deref(), Some("unexpected ): `^(?s:))$`"));
        assert_eq!(msg("[").as_deref(), Some("missing closing ]: `[)$`"));
        assert_eq!(
            msg("*").as_deref(),
            Some("missing argument to repetition operator: `*`")
        );
        assert_eq!(
            msg("a**").as_deref(),
            Some("invalid nested repetition operator: `**`")
        );
        assert_eq!(
            msg("a{2000}").as_deref(),
            Some("invalid repeat count: `{2000}`")
        );
        assert_eq!(
            msg(r"\q").as_deref(),
            Some(r"invalid escape sequence: `\q`")
        );
        assert_eq!(
            msg("[z-a]").as_deref(),
            Some("invalid character class range: `z-a`")
        );
        for ok in [
            "a.*",
            "(a|b)+?",
            "[]a]",
            "[^a-z]",
            r"\d+\.\x41",
            "a{2,3}",
            "a{x}",
            "(?i)a",
            "(?P<n>a)",
        ] {
            assert_eq!(msg(ok), None, "{ok}");
        }
    }
}
