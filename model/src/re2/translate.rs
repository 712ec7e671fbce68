//! Translation of Go RE2 syntax into the dialect of the `regex` crate.
//!
//! The two dialects agree on almost everything. Where they differ, we rewrite the pattern so
//! the `regex` crate matches what Go's `regexp` would:
//!
//! | Go                               | `regex` crate by default      | we emit                    |
//! |----------------------------------|-------------------------------|----------------------------|
//! | `\d \w \s` ASCII-only            | Unicode-aware                 | explicit ASCII classes     |
//! | `\b \B` ASCII word boundary      | Unicode word boundary         | `(?-u:\b)`, `(?-u:\B)`     |
//! | `\Q…\E` literal text             | unsupported                   | escaped literal            |
//! | `\012` octal escapes             | unsupported                   | `\x{a}`                    |
//! | `\<` is a literal `<`            | start-of-word assertion       | `\x{3c}`                   |
//! | `[` `&&` `--` `~~` in a class    | nested class / set operations | escaped literals           |
//! | `a{` `a{x}` are literals         | syntax errors                 | `\{`                       |
//! | only flags `imsU`                | also `x`, `R`, `u`            | error                      |
//! | repeat counts at most 1000       | larger allowed                | error                      |

use crate::Error;

/// Go's limit on `{n,m}` repetition counts.
const MAX_REPEAT: u32 = 1000;

/// `\s` in Go: `[\t\n\f\r ]` (no `\v`).
const SPACE: &str = r"\t\n\x{c}\r ";
const DIGIT: &str = "0-9";
const WORD: &str = "0-9A-Za-z_";

/// Rewrites a Go regular expression so the `regex` crate gives it Go's meaning.
pub(crate) fn translate(pattern: &str) -> Result<String, Error> {
    let mut t = Translator {
        src: pattern,
        chars: pattern.char_indices().peekable(),
        out: String::new(),
    };
    t.out.reserve(pattern.len() + 8);
    t.run()?;
    Ok(t.out)
}

struct Translator<'a> {
    src: &'a str,
    chars: std::iter::Peekable<std::str::CharIndices<'a>>,
    out: String,
}

/// One element of a character class: a single character or an entire sub-class.
enum ClassAtom {
    Char(char),
    Class(String),
}

impl<'a> Translator<'a> {
    fn err(&self, reason: impl Into<String>) -> Error {
        Error::InvalidRegex {
            regex: self.src.to_string(),
            reason: reason.into(),
        }
    }

    fn next(&mut self) -> Option<char> {
        self.chars.next().map(|(_, c)| c)
    }

    fn peek(&mut self) -> Option<char> {
        self.chars.peek().map(|&(_, c)| c)
    }

    fn rest(&mut self) -> &'a str {
        match self.chars.peek() {
            Some(&(i, _)) => self.src.get(i..).unwrap_or_default(),
            None => "",
        }
    }

    fn skip(&mut self, n: usize) {
        for _ in 0..n {
            self.next();
        }
    }

    fn run(&mut self) -> Result<(), Error> {
        while let Some(c) = self.next() {
            match c {
                '\\' => self.escape_outside()?,
                '[' => self.class()?,
                '(' => self.group_open()?,
                '{' => self.brace()?,
                _ => self.out.push(c),
            }
        }
        Ok(())
    }

    /// `(`, `(?:`, `(?flags)`, `(?flags:`, `(?P<name>`, `(?<name>`.
    fn group_open(&mut self) -> Result<(), Error> {
        self.out.push('(');
        if self.peek() != Some('?') {
            return Ok(());
        }
        let rest = self.rest().to_string();
        if rest.starts_with("?P<") || rest.starts_with("?<") {
            // Named groups are spelled the same in both dialects.
            return Ok(());
        }
        // Flag group: `?` then flags then `)` or `:`.
        let body = rest.get(1..).unwrap_or_default();
        let end = body
            .find([')', ':'])
            .ok_or_else(|| self.err("missing closing )"))?;
        let flags = body.get(..end).unwrap_or_default();
        if let Some(bad) = flags
            .chars()
            .find(|c| !matches!(c, 'i' | 'm' | 's' | 'U' | '-'))
        {
            return Err(self.err(format!("invalid or unsupported Perl syntax: flag `{bad}`")));
        }
        Ok(())
    }

    /// `{` is a repetition only when it has the form `{n}`, `{n,}` or `{n,m}`; otherwise Go
    /// takes it literally.
    fn brace(&mut self) -> Result<(), Error> {
        let rest = self.rest();
        let Some(end) = rest.find('}') else {
            self.out.push_str(r"\{");
            return Ok(());
        };
        let body = rest.get(..end).unwrap_or_default();
        let (min, max) = match body.split_once(',') {
            Some((a, b)) => (a, Some(b)),
            None => (body, None),
        };
        let is_num = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        let valid = is_num(min) && max.is_none_or(|m| m.is_empty() || is_num(m));
        if !valid {
            self.out.push_str(r"\{");
            return Ok(());
        }
        let too_big = |s: &str| s.parse::<u32>().map_or(true, |n| n > MAX_REPEAT);
        if too_big(min) || max.is_some_and(|m| !m.is_empty() && too_big(m)) {
            return Err(self.err(format!("invalid repeat count: `{{{body}}}`")));
        }
        let body = body.to_string();
        self.out.push('{');
        self.out.push_str(&body);
        self.out.push('}');
        self.skip(end + 1);
        Ok(())
    }

    fn escape_outside(&mut self) -> Result<(), Error> {
        let c = self
            .next()
            .ok_or_else(|| self.err("trailing backslash at end of expression"))?;
        match c {
            'd' => self.out.push_str("[0-9]"),
            'D' => self.out.push_str("[^0-9]"),
            'w' => self.out.push_str("[0-9A-Za-z_]"),
            'W' => self.out.push_str("[^0-9A-Za-z_]"),
            's' => self.out.push_str(r"[\t\n\x{c}\r ]"),
            'S' => self.out.push_str(r"[^\t\n\x{c}\r ]"),
            'b' => self.out.push_str(r"(?-u:\b)"),
            'B' => self.out.push_str(r"(?-u:\B)"),
            'A' | 'z' => {
                self.out.push('\\');
                self.out.push(c);
            }
            'Q' => {
                let rest = self.rest().to_string();
                let (lit, consumed) = match rest.find(r"\E") {
                    Some(i) => (rest.get(..i).unwrap_or_default(), i + 2),
                    None => (rest.as_str(), rest.len()),
                };
                for ch in lit.chars() {
                    push_literal(&mut self.out, ch);
                }
                let n = rest.get(..consumed).map_or(0, |s| s.chars().count());
                self.skip(n);
            }
            'p' | 'P' => self.unicode_class(c, false)?,
            _ => {
                let ch = self.escaped_char(c)?;
                push_literal(&mut self.out, ch);
            }
        }
        Ok(())
    }

    /// Copies `\pL` or `\p{Greek}` verbatim (both dialects agree on the names we care about).
    fn unicode_class(&mut self, p: char, in_class: bool) -> Result<(), Error> {
        let mut s = String::from('\\');
        s.push(p);
        match self.next() {
            Some('{') => {
                if self.peek() == Some('^') {
                    // Go's `\p{^Greek}` is `\P{Greek}`.
                    self.next();
                    s = String::from(if p == 'p' { "\\P" } else { "\\p" });
                }
                s.push('{');
                loop {
                    match self.next() {
                        Some('}') => break,
                        Some(ch) => s.push(ch),
                        None => return Err(self.err("invalid character class range")),
                    }
                }
                s.push('}');
            }
            Some(ch) => s.push(ch),
            None => return Err(self.err("invalid character class range")),
        }
        if in_class {
            self.out.push('[');
            self.out.push_str(&s);
            self.out.push(']');
        } else {
            self.out.push_str(&s);
        }
        Ok(())
    }

    /// Decodes an escape that stands for one character (after the backslash `c`).
    fn escaped_char(&mut self, c: char) -> Result<char, Error> {
        Ok(match c {
            'a' => '\u{7}',
            'f' => '\u{c}',
            't' => '\t',
            'n' => '\n',
            'r' => '\r',
            'v' => '\u{b}',
            '0'..='7' => {
                // Go: a single non-zero digit is a backreference (unsupported); otherwise up
                // to three octal digits.
                let is_oct = |ch: Option<char>| ch.is_some_and(|d| ('0'..='7').contains(&d));
                if c != '0' && !is_oct(self.peek()) {
                    return Err(self.err(format!("invalid escape sequence: `\\{c}`")));
                }
                let mut v = c.to_digit(8).unwrap_or(0);
                for _ in 0..2 {
                    if !is_oct(self.peek()) {
                        break;
                    }
                    let d = self.next().and_then(|d| d.to_digit(8)).unwrap_or(0);
                    v = v * 8 + d;
                }
                char::from_u32(v).unwrap_or('\u{fffd}')
            }
            'x' => self.hex_escape()?,
            c if c.is_ascii() && !c.is_ascii_alphanumeric() => c,
            c => return Err(self.err(format!("invalid escape sequence: `\\{c}`"))),
        })
    }

    fn hex_escape(&mut self) -> Result<char, Error> {
        let bad = |t: &Self| t.err("invalid escape sequence: `\\x`");
        let digits: String = if self.peek() == Some('{') {
            self.next();
            let mut s = String::new();
            loop {
                match self.next() {
                    Some('}') => break,
                    Some(d) if d.is_ascii_hexdigit() => s.push(d),
                    _ => return Err(bad(self)),
                }
            }
            s
        } else {
            let a = self
                .next()
                .filter(char::is_ascii_hexdigit)
                .ok_or_else(|| bad(self))?;
            let b = self
                .next()
                .filter(char::is_ascii_hexdigit)
                .ok_or_else(|| bad(self))?;
            [a, b].iter().collect()
        };
        u32::from_str_radix(&digits, 16)
            .ok()
            .and_then(char::from_u32)
            .ok_or_else(|| bad(self))
    }

    /// Translates a bracketed class; the opening `[` was consumed.
    fn class(&mut self) -> Result<(), Error> {
        self.out.push('[');
        if self.peek() == Some('^') {
            self.next();
            self.out.push('^');
        }
        let mut first = true;
        loop {
            let c = self.next().ok_or_else(|| self.err("missing closing ]"))?;
            if c == ']' && !first {
                self.out.push(']');
                return Ok(());
            }
            first = false;
            let lo = self.class_atom(c)?;
            // `a-z` is a range unless the `-` is the last character of the class.
            let is_range = self.peek() == Some('-') && {
                let rest = self.rest();
                rest.len() > 1 && !rest.starts_with("-]")
            };
            match (lo, is_range) {
                (ClassAtom::Char(lo), true) => {
                    self.next(); // '-'
                    let c2 = self.next().ok_or_else(|| self.err("missing closing ]"))?;
                    let ClassAtom::Char(hi) = self.class_atom(c2)? else {
                        return Err(self.err("invalid character class range"));
                    };
                    if hi < lo {
                        return Err(self.err(format!("invalid character class range: `{lo}-{hi}`")));
                    }
                    push_class_char(&mut self.out, lo);
                    self.out.push('-');
                    push_class_char(&mut self.out, hi);
                }
                (ClassAtom::Class(_), true) => {
                    return Err(self.err("invalid character class range"))
                }
                (ClassAtom::Char(ch), false) => push_class_char(&mut self.out, ch),
                (ClassAtom::Class(s), false) => self.out.push_str(&s),
            }
        }
    }

    /// One class element starting with `c`: a char, an escape, `[:alpha:]` or a Perl class.
    fn class_atom(&mut self, c: char) -> Result<ClassAtom, Error> {
        if c == '[' && self.rest().starts_with(':') {
            let rest = self.rest().to_string();
            if let Some(end) = rest.find(":]") {
                let name = rest.get(..end + 2).unwrap_or_default();
                self.skip(name.chars().count());
                return Ok(ClassAtom::Class(format!("[{name}")));
            }
        }
        if c != '\\' {
            return Ok(ClassAtom::Char(c));
        }
        let e = self.next().ok_or_else(|| self.err("missing closing ]"))?;
        let class =
            |s: &str, neg: bool| ClassAtom::Class(format!("[{}{s}]", if neg { "^" } else { "" }));
        Ok(match e {
            'd' => class(DIGIT, false),
            'D' => class(DIGIT, true),
            'w' => class(WORD, false),
            'W' => class(WORD, true),
            's' => class(SPACE, false),
            'S' => class(SPACE, true),
            'p' | 'P' => {
                let start = self.out.len();
                self.unicode_class(e, true)?;
                let s = self.out.split_off(start);
                ClassAtom::Class(s)
            }
            _ => ClassAtom::Char(self.escaped_char(e)?),
        })
    }
}

/// Appends `c` as a literal outside a class.
fn push_literal(out: &mut String, c: char) {
    if regex_syntax::is_meta_character(c) {
        out.push('\\');
        out.push(c);
    } else if c.is_ascii_punctuation() || c.is_control() || c.is_whitespace() {
        // `\<`-style escapes and whitespace are spelled as hex to avoid any special meaning.
        push_hex(out, c);
    } else {
        out.push(c);
    }
}

/// Appends `c` as a literal inside a class.
fn push_class_char(out: &mut String, c: char) {
    if c.is_ascii_alphanumeric() || (!c.is_ascii() && !c.is_control() && !c.is_whitespace()) {
        out.push(c);
    } else {
        push_hex(out, c);
    }
}

fn push_hex(out: &mut String, c: char) {
    use std::fmt::Write;
    let _ = write!(out, r"\x{{{:x}}}", c as u32);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(p: &str) -> String {
        translate(p).unwrap()
    }

    #[test]
    fn perl_classes_become_ascii() {
        assert_eq!(t(r"\d+"), "[0-9]+");
        assert_eq!(t(r"\W"), "[^0-9A-Za-z_]");
        assert_eq!(t(r"[\d.]"), r"[[0-9]\x{2e}]");
        assert_eq!(t(r"\bfoo\B"), r"(?-u:\b)foo(?-u:\B)");
    }

    #[test]
    fn go_literals() {
        assert_eq!(t(r"a\<b"), r"a\x{3c}b");
        assert_eq!(t(r"\Qa.b\Ec"), r"a\.bc");
        assert_eq!(t(r"\Qa+"), r"a\+");
        assert_eq!(t(r"\012"), r"\x{a}");
        assert_eq!(t("a{"), r"a\{");
        assert_eq!(t("a{x}"), r"a\{x}");
        assert_eq!(t("a{2,3}"), "a{2,3}");
        assert_eq!(t("[[a]"), r"[\x{5b}a]");
        assert_eq!(t("[a&&b]"), r"[a\x{26}\x{26}b]");
        assert_eq!(t("[]a]"), r"[\x{5d}a]");
        assert_eq!(t("[a-]"), r"[a\x{2d}]");
        assert_eq!(t("[[:alpha:]x]"), "[[:alpha:]x]");
    }

    #[test]
    fn go_errors() {
        for p in [
            r"\1", "(?x)a", "a{1001}", r"\", "[a", r"\q", "[z-a]", r"[\d-z]",
        ] {
            assert!(translate(p).is_err(), "{p} should be rejected");
        }
    }
}
