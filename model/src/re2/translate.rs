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

use super::unicode_names::is_go_class_name;
use crate::Error;

/// Go's limit on `{n,m}` repetition counts.
const MAX_REPEAT: u32 = 1000;

/// `\s` in Go: `[\t\n\f\r ]` (no `\v`).
const SPACE: &str = r"\t\n\x{c}\r ";
const DIGIT: &str = "0-9";
/// The `[:name:]` classes Go knows.
const POSIX_CLASSES: &[&str] = &[
    "alnum", "alpha", "ascii", "blank", "cntrl", "digit", "graph", "lower", "print", "punct",
    "space", "upper", "word", "xdigit",
];
const WORD: &str = "0-9A-Za-z_";

/// A translated pattern, with the map from its offsets back to the original's.
#[derive(Debug)]
pub(crate) struct Translated {
    /// The pattern in the `regex` crate's dialect.
    pub(crate) pattern: String,
    /// `(offset in pattern, offset in the original)` checkpoints, ascending.
    map: Vec<(usize, usize)>,
    original_len: usize,
    /// `(name in pattern, name in the original)` for every named group.
    names: Vec<(String, String)>,
}

impl Translated {
    /// The name the user gave the group the translated pattern calls `name`.
    pub(crate) fn go_name<'s>(&'s self, name: &'s str) -> &'s str {
        self.names
            .iter()
            .find(|(n, _)| n == name)
            .map_or(name, |(_, go)| go.as_str())
    }

    /// The offset in the original pattern that produced byte `offset` of the translation.
    pub(crate) fn original_offset(&self, offset: usize) -> usize {
        if offset >= self.pattern.len() {
            return self.original_len;
        }
        let k = self.map.partition_point(|&(o, _)| o <= offset);
        k.checked_sub(1)
            .and_then(|k| self.map.get(k))
            .map_or(0, |&(_, i)| i)
    }
}

/// Rewrites a Go regular expression so the `regex` crate gives it Go's meaning.
pub(crate) fn translate(pattern: &str) -> Result<Translated, Error> {
    let mut t = Translator {
        src: pattern,
        chars: pattern.char_indices().peekable(),
        out: String::with_capacity(pattern.len() + 8),
        item_start: 0,
        map: Vec::new(),
        names: Vec::new(),
    };
    t.run()?;
    Ok(Translated {
        pattern: t.out,
        map: t.map,
        original_len: pattern.len(),
        names: t.names,
    })
}

struct Translator<'a> {
    src: &'a str,
    chars: std::iter::Peekable<std::str::CharIndices<'a>>,
    out: String,
    /// Where the construct being translated starts in `src` (for error positions).
    item_start: usize,
    map: Vec<(usize, usize)>,
    /// `(name in output, name in src)` of named groups so far.
    names: Vec<(String, String)>,
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
            reason: format!("{} at offset {}", reason.into(), self.item_start),
        }
    }

    /// Consumes the next character, recording where its translation starts.
    fn next_item(&mut self) -> Option<char> {
        let (i, c) = self.chars.next()?;
        self.item_start = i;
        self.map.push((self.out.len(), i));
        Some(c)
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
        // Whether the previous item was a repetition: Go rejects `a**`, `a+*`, `a{2}*`.
        let mut after_repeat = false;
        while let Some(c) = self.next_item() {
            let mut repeat = false;
            match c {
                '\\' => self.escape_outside()?,
                '[' => self.class()?,
                '(' => self.group_open()?,
                '{' => repeat = self.brace()?,
                '*' | '+' | '?' => {
                    self.out.push(c);
                    repeat = true;
                }
                _ => self.out.push(c),
            }
            if repeat {
                if after_repeat {
                    return Err(self.err("invalid nested repetition operator"));
                }
                // A `?` right after a repetition makes it non-greedy; it is part of it.
                if self.peek() == Some('?') {
                    self.next();
                    self.out.push('?');
                }
            }
            after_repeat = repeat;
        }
        Ok(())
    }

    /// `(`, `(?:`, `(?flags)`, `(?flags:`, `(?P<name>`, `(?<name>`.
    fn group_open(&mut self) -> Result<(), Error> {
        self.out.push('(');
        if self.peek() != Some('?') {
            return Ok(());
        }
        let rest = self.rest();
        // Copy the whole group prefix, so that its `?` is not taken for a repetition.
        let prefix_len = if rest.starts_with("?P<") || rest.starts_with("?<") {
            // Named groups are spelled the same in both dialects, but Go only allows ASCII
            // word characters in names.
            let open = rest.find('<').unwrap_or(0) + 1;
            let close = rest
                .find('>')
                .ok_or_else(|| self.err("invalid named capture"))?;
            let name = rest.get(open..close).unwrap_or_default();
            if name.is_empty() || !name.bytes().all(|b| b == b'_' || b.is_ascii_alphanumeric()) {
                return Err(self.err(format!("invalid named capture: `{name}`")));
            }
            // Go allows repeated names and names starting with a digit; the `regex` crate
            // does not. Such groups get an internal name, mapped back for expansion.
            let starts_with_digit = name.bytes().next().is_some_and(|b| b.is_ascii_digit());
            if starts_with_digit || self.names.iter().any(|(_, go)| go == name) {
                let internal = format!("kagari_group_{}", self.names.len());
                self.names.push((internal.clone(), name.to_string()));
                self.out.push_str("?P<");
                self.out.push_str(&internal);
                self.out.push('>');
                self.skip(close + 1);
                return Ok(());
            }
            self.names.push((name.to_string(), name.to_string()));
            close + 1
        } else if rest.starts_with("?)") {
            // Go accepts an empty flag group and ignores it.
            self.out.push_str("?:");
            self.skip(1);
            return Ok(());
        } else {
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
            end + 2
        };
        let prefix = rest.get(..prefix_len).unwrap_or_default();
        self.out.push_str(prefix);
        self.skip(prefix.chars().count());
        Ok(())
    }

    /// `{` is a repetition only when it has the form `{n}`, `{n,}` or `{n,m}`; otherwise Go
    /// takes it literally. Returns whether it was a repetition.
    fn brace(&mut self) -> Result<bool, Error> {
        let rest = self.rest();
        let Some(end) = rest.find('}') else {
            self.out.push_str(r"\{");
            return Ok(false);
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
            return Ok(false);
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
        Ok(true)
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
                // Without `\E`, Go's `\Q` also swallows the `)$` Prometheus wraps the
                // pattern in, so the pattern is rejected.
                let Some(i) = rest.find(r"\E") else {
                    return Err(self.err("missing closing )"));
                };
                let (lit, consumed) = (rest.get(..i).unwrap_or_default(), i + 2);
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
        let mut name = String::new();
        match self.next() {
            Some('{') => {
                if self.peek() == Some('^') {
                    // Go's `\p{^Greek}` is `\P{Greek}`.
                    self.next();
                    s = String::from(if p == 'p' { "\\P" } else { "\\p" });
                }
                loop {
                    match self.next() {
                        Some('}') => break,
                        Some(ch) => name.push(ch),
                        None => return Err(self.err("invalid character class range")),
                    }
                }
            }
            Some(ch) => name.push(ch),
            None => return Err(self.err("invalid character class range")),
        }
        if !is_go_class_name(&name) {
            return Err(self.err(format!("invalid character class range: `\\{p}{{{name}}}`")));
        }
        if name == "Cs" {
            // Surrogates never occur in a Rust string: `\p{Cs}` matches nothing and
            // `\P{Cs}` anything, as in Go on valid UTF-8.
            s = String::from(if s.starts_with("\\P") {
                r"[\x{0}-\x{10FFFF}]"
            } else {
                "[a&&b]"
            });
        } else {
            s.push('{');
            s.push_str(&name);
            s.push('}');
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
            let c = self
                .next_item()
                .ok_or_else(|| self.err("missing closing ]"))?;
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
                // After a class such as `\d`, Go reads `-` as a literal.
                (ClassAtom::Class(s), true) => self.out.push_str(&s),
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
                let bare = name
                    .trim_start_matches(':')
                    .trim_start_matches('^')
                    .trim_end_matches(":]");
                if !POSIX_CLASSES.contains(&bare) {
                    return Err(self.err(format!("invalid character class range: `[{name}`")));
                }
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
        translate(p).unwrap().pattern
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
        assert_eq!(t(r"\012"), r"\x{a}");
        assert_eq!(t("a{"), r"a\{");
        assert_eq!(t("a{x}"), r"a\{x}");
        assert_eq!(t("a{2,3}"), "a{2,3}");
        assert_eq!(t("[[a]"), r"[\x{5b}a]");
        assert_eq!(t("[a&&b]"), r"[a\x{26}\x{26}b]");
        assert_eq!(t("[]a]"), r"[\x{5d}a]");
        assert_eq!(t("[a-]"), r"[a\x{2d}]");
        assert_eq!(t("[[:alpha:]x]"), "[[:alpha:]x]");
        assert_eq!(t(r"[\d-z]"), r"[[0-9]\x{2d}z]");
        assert_eq!(
            t("(?P<n>a)(?P<n>b)(?P<1>c)"),
            "(?P<n>a)(?P<kagari_group_1>b)(?P<kagari_group_2>c)"
        );
        assert_eq!(t("a*?b+?(?i:c)(?P<n>d)??"), "a*?b+?(?i:c)(?P<n>d)??");
        assert_eq!(t("(?U)a{2}?"), "(?U)a{2}?");
    }

    #[test]
    fn offsets_map_back() {
        let tr = translate(r"ab\dc").unwrap();
        assert_eq!(tr.pattern, "ab[0-9]c");
        assert_eq!(tr.original_offset(0), 0);
        assert_eq!(tr.original_offset(2), 2); // start of [0-9] comes from \d at 2
        assert_eq!(tr.original_offset(5), 2);
        assert_eq!(tr.original_offset(7), 4); // c
        assert_eq!(tr.original_offset(99), 5);
        let e = translate("ab[c").unwrap_err().to_string();
        assert!(e.contains("missing closing ] at offset 3"), "{e}");
    }

    #[test]
    fn go_errors() {
        for p in [
            r"\1", "(?x)a", "a{1001}", r"\", "[a", r"\q", "[z-a]", r"[a-\d]", "a**", "a+*",
            "a{2}*", "a*?+", "a*{2}", r"\Qa+",
        ] {
            assert!(translate(p).is_err(), "{p} should be rejected");
        }
    }
}
