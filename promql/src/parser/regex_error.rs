//! Go's wording for a label-matcher regex that does not compile.
//!
//! Prometheus compiles `=~` and `!~` values as `^(?s:VALUE)$` with Go's `regexp`, and its
//! parse error then reads ``error parsing regexp: CODE: `TEXT` ``, where the text is the
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
    /// `invalid named capture`
    InvalidNamedCapture,
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
            RegexErrorCode::InvalidNamedCapture => "invalid named capture",
        })
    }
}

/// Whether `(?<name>` is a named group (Go 1.22 on, so Prometheus 3); Prometheus 2.42's Go
/// calls it invalid Perl syntax.
const NAMED_GROUPS_WITHOUT_P: bool = true;

/// The `[:name:]` classes Go knows.
const POSIX_CLASSES: &[&str] = &[
    "alnum", "alpha", "ascii", "blank", "cntrl", "digit", "graph", "lower", "print", "punct",
    "space", "upper", "word", "xdigit",
];

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
        let named = match self.re.get(self.pos..) {
            Some(r) if r.starts_with("P<") => Some(2),
            Some(r) if r.starts_with('<') && NAMED_GROUPS_WITHOUT_P => Some(1),
            _ => None,
        };
        if let Some(skip) = named {
            self.pos += skip;
            let rest = self.re.get(self.pos..).unwrap_or_default();
            let Some(close) = rest.find('>') else {
                self.pos = self.re.len();
                return Err((RegexErrorCode::InvalidNamedCapture, self.text(start)));
            };
            let name = rest.get(..close).unwrap_or_default();
            self.pos += close + 1;
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err((RegexErrorCode::InvalidNamedCapture, self.text(start)));
            }
            return Ok(false);
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
        let bad = |s: &Self| Err((RegexErrorCode::InvalidEscape, s.text(start)));
        let Some(c) = self.bump() else {
            return Err((RegexErrorCode::TrailingBackslash, String::new()));
        };
        match c {
            c if c.is_ascii_punctuation() => Ok(()),
            // `\1`..`\7` alone would be back-references; with another octal digit, octal.
            '1'..='7' if !self.peek().is_some_and(|d| ('0'..='7').contains(&d)) => bad(self),
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
            'x' if self.peek() == Some('{') => {
                self.bump();
                let mut value: u32 = 0;
                loop {
                    match self.peek() {
                        Some('}') if self.text(start).len() > 3 && value <= 0x10_ffff => {
                            self.bump();
                            return Ok(());
                        }
                        Some(c) if c.is_ascii_hexdigit() => {
                            self.bump();
                            let d = c.to_digit(16).unwrap_or(0);
                            value = value.saturating_mul(16).saturating_add(d);
                        }
                        Some('}') | None => return bad(self),
                        Some(_) => {
                            self.bump();
                            return bad(self);
                        }
                    }
                }
            }
            'x' => {
                // Go reads both digits before it checks them.
                let (a, b) = (self.bump(), self.bump());
                if a.is_some_and(|c| c.is_ascii_hexdigit())
                    && b.is_some_and(|c| c.is_ascii_hexdigit())
                {
                    Ok(())
                } else {
                    bad(self)
                }
            }
            'p' | 'P' => {
                let name = if self.peek() == Some('{') {
                    let rest = self.re.get(self.pos..).unwrap_or_default();
                    let Some(close) = rest.find('}') else {
                        self.pos = self.re.len();
                        return Err((RegexErrorCode::InvalidCharRange, self.text(start)));
                    };
                    self.pos += close + 1;
                    rest.get(1..close)
                        .unwrap_or_default()
                        .trim_start_matches('^')
                } else {
                    self.bump();
                    self.re.get(start + 2..self.pos).unwrap_or_default()
                };
                // Go's Unicode class names are the ones our Go-dialect compiler knows.
                if !name.is_empty()
                    && kagari_model::compile_regex(&format!("\\p{{{name}}}")).is_ok()
                {
                    Ok(())
                } else {
                    Err((RegexErrorCode::InvalidCharRange, self.text(start)))
                }
            }
            'Q' => {
                match self.re.get(self.pos..).and_then(|r| r.find("\\E")) {
                    Some(i) => self.pos += i + 2,
                    None => self.pos = self.re.len(),
                }
                Ok(())
            }
            _ => bad(self),
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
                            let name = rest.get(1..i).unwrap_or_default();
                            self.pos += i + 2;
                            if !POSIX_CLASSES.contains(&name.trim_start_matches('^')) {
                                return Err((RegexErrorCode::InvalidCharRange, self.text(item)));
                            }
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
                            let at = self.pos - 1;
                            let e = self.peek().unwrap_or('\\');
                            if matches!(e, 'd' | 'D' | 's' | 'S' | 'w' | 'W' | 'p' | 'P') {
                                // A class cannot end a range.
                                self.bump();
                                return Err((RegexErrorCode::InvalidEscape, self.text(at)));
                            }
                            self.escape(at)?;
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
            "a??",
            r"\12",
            r"\pL\p{Greek}",
            "[[:^alpha:]]",
            "(?<n>a)",
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
