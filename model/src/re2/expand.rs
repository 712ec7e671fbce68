//! Go's `regexp.(*Regexp).Expand`: replacement templates with `$1`, `${1}`, `$name`, `$$`.
//!
//! The rules, including the ones users trip over:
//! - `$$` is a literal `$`;
//! - `$name` takes the *longest* run of letters, digits and `_`, so `$1_suffix` names the
//!   group `1_suffix` (usually absent, so it expands to nothing); write `${1}_suffix`;
//! - a name made only of digits is a group number, unless it has a leading zero or is too
//!   large, in which case it is a name;
//! - a missing or non-participating group expands to nothing;
//! - a `$` that does not start a valid reference is kept literally.

use regex::Captures;

/// Appends the expansion of `template` for `caps` to `out`; `names[i]` is the name the user
/// gave group `i`, if any.
pub(crate) fn expand(
    names: &[Option<String>],
    caps: &Captures<'_>,
    template: &str,
    out: &mut String,
) {
    let mut rest = template;
    while let Some(i) = rest.find('$') {
        out.push_str(rest.get(..i).unwrap_or_default());
        rest = rest.get(i + 1..).unwrap_or_default();
        if let Some(after) = rest.strip_prefix('$') {
            out.push('$');
            rest = after;
            continue;
        }
        let Some((reference, after)) = extract(rest) else {
            // Malformed: the `$` is literal text.
            out.push('$');
            continue;
        };
        rest = after;
        match reference {
            Reference::Number(n) => {
                if let Some(m) = caps.get(n) {
                    out.push_str(m.as_str());
                }
            }
            Reference::Name(name) => {
                // Go: the first group with this name that took part in the match.
                let group = names
                    .iter()
                    .enumerate()
                    .filter(|(_, n)| n.as_deref() == Some(name))
                    .find_map(|(i, _)| caps.get(i));
                if let Some(m) = group {
                    out.push_str(m.as_str());
                }
            }
        }
    }
    out.push_str(rest);
}

#[derive(Debug, PartialEq)]
enum Reference<'a> {
    Number(usize),
    Name(&'a str),
}

/// Go's `extract`: parses `name`, `{name}` at the start of `s` (just after a `$`).
fn extract(s: &str) -> Option<(Reference<'_>, &str)> {
    let (braced, body) = match s.strip_prefix('{') {
        Some(b) => (true, b),
        None => (false, s),
    };
    let end = body
        .char_indices()
        .find(|&(_, c)| !is_name_char(c))
        .map_or(body.len(), |(i, _)| i);
    if end == 0 {
        return None;
    }
    let name = body.get(..end)?;
    let mut rest = body.get(end..)?;
    if braced {
        rest = rest.strip_prefix('}')?;
    }
    Some((
        parse_number(name).map_or(Reference::Name(name), Reference::Number),
        rest,
    ))
}

/// Go's `unicode.IsLetter || unicode.IsDigit || '_'`. Rust has no general-category query, so
/// this uses `is_alphabetic`/`is_numeric`, which agree with Go on ASCII and all common scripts.
fn is_name_char(c: char) -> bool {
    c == '_' || c.is_alphabetic() || c.is_numeric()
}

/// A group number: ASCII digits, no leading zero, and stopping at 1e8 like Go.
fn parse_number(name: &str) -> Option<usize> {
    let mut num: usize = 0;
    for b in name.bytes() {
        if !b.is_ascii_digit() || num >= 100_000_000 {
            return None;
        }
        num = num * 10 + usize::from(b - b'0');
    }
    if name.len() > 1 && name.starts_with('0') {
        return None;
    }
    Some(num)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex(pattern: &str, input: &str, template: &str) -> String {
        let re = crate::Regexp::new(pattern).unwrap();
        let mut out = String::new();
        assert!(re.expand_into(input, template, &mut out));
        out
    }

    // Expected values follow Go's Regexp.ExpandString on the same inputs.
    #[test]
    fn go_expand_rules() {
        let cases: &[(&str, &str, &str, &str)] = &[
            ("(a)(b)", "ab", "$1-$2", "a-b"),
            ("(a)(b)", "ab", "$2$1", "ba"),
            ("(a)", "a", "$1_suffix", ""),
            ("(a)", "a", "${1}_suffix", "a_suffix"),
            ("(a)", "a", "$$1", "$1"),
            ("(a)", "a", "$$$1", "$a"),
            ("(a)", "a", "x$", "x$"),
            ("(a)", "a", "${1", "${1"),
            ("(a)", "a", "${}", "${}"),
            ("(a)", "a", "$-", "$-"),
            ("(a)", "a", "$01", ""),
            ("(a)", "a", "$0", "a"),
            ("(a)", "a", "$9", ""),
            ("(a)|(b)", "a", "[$2]", "[]"),
            ("(?P<word>x)", "x", "got-$word", "got-x"),
            ("(?P<word>x)", "x", "${word}s", "xs"),
            ("(?P<word>x)", "x", "$words", ""),
            ("(?<n>x)", "x", "$n", "x"),
            ("(a)", "a", "$é", ""),
            ("(a)", "a", "$1é", ""),
            ("(a)", "a", "no refs", "no refs"),
            ("(a)", "a", "$100000000", ""),
            ("(?P<n>a)|(?P<n>b)", "b", "[$n]", "[b]"),
            ("(?P<n>a)(?P<n>b)", "ab", "[$n]", "[a]"),
            ("(?P<1x>a)", "a", "[$1x]", "[a]"),
        ];
        for (p, input, t, want) in cases {
            assert_eq!(ex(p, input, t), *want, "pattern {p:?} template {t:?}");
        }
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_number("12"), Some(12));
        assert_eq!(parse_number("012"), None);
        assert_eq!(parse_number("1a"), None);
        assert_eq!(parse_number("123456789"), Some(123_456_789));
        assert_eq!(parse_number("1234567890"), None);
    }
}
