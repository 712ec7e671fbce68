//! Go-compatible regular expressions, fully anchored, with fast paths for common shapes.
//!
//! Prometheus compiles every user regex (matchers and relabeling alike) as `^(?s:…)$` with Go's
//! RE2 dialect. [`compile_regex`] does the same with the `regex` crate after translating the
//! few places where the dialects differ (see `translate.rs`), and [`Regexp`] adds the
//! string-comparison fast paths Prometheus's `FastRegexMatcher` has.

mod expand;
mod fast;
pub(crate) mod translate;
mod unicode_names;

use std::fmt;

use crate::Error;
use expand::expand;
use fast::Strategy;

/// Compiles `pattern` the way Prometheus does: Go RE2 syntax, fully anchored, `.` matching
/// newlines (`^(?s:pattern)$`), and ASCII-only `\d \w \s \b`.
///
/// This is the single compile function shared by [`Matcher`](crate::Matcher) and relabeling.
///
/// ```
/// use kagari_model::compile_regex;
/// let re = compile_regex(r"\d+").unwrap();
/// assert!(re.is_match("42"));
/// assert!(!re.is_match("x42"));   // anchored
/// assert!(!re.is_match("٤٢"));    // Arabic-Indic digits are not \d in Go
/// ```
pub fn compile_regex(pattern: &str) -> Result<regex::Regex, Error> {
    let translated = translate::translate(pattern)?;
    compile_translated(pattern, &translated)
}

/// What we wrap user patterns in, before and after.
const ANCHOR_START: &str = "^(?s:";
const ANCHOR_END: &str = ")$";

fn compile_translated(pattern: &str, t: &translate::Translated) -> Result<regex::Regex, Error> {
    let anchored = format!("{ANCHOR_START}{}{ANCHOR_END}", t.pattern);
    regex::Regex::new(&anchored).map_err(|e| Error::InvalidRegex {
        regex: pattern.to_string(),
        reason: describe_error(&anchored, t, &e),
    })
}

/// The regex crate's message points into the translated, anchored pattern; we report the
/// error kind and the offset in the pattern the user wrote instead.
fn describe_error(anchored: &str, t: &translate::Translated, e: &regex::Error) -> String {
    // The translation alone gives spans in the user's terms (with the anchors around it, an
    // unbalanced `(` would be blamed on our own group).
    let (result, shift) = match regex_syntax::Parser::new().parse(&t.pattern) {
        Ok(_) => (
            regex_syntax::Parser::new().parse(anchored),
            ANCHOR_START.len(),
        ),
        Err(err) => (Err(err), 0),
    };
    let at = |offset: usize| t.original_offset(offset.saturating_sub(shift));
    match result {
        Err(regex_syntax::Error::Parse(a)) => {
            format!("{} at offset {}", a.kind(), at(a.span().start.offset))
        }
        Err(regex_syntax::Error::Translate(h)) => {
            format!("{} at offset {}", h.kind(), at(h.span().start.offset))
        }
        // Not a syntax error (e.g. the compiled size limit): the message has no position.
        _ => e.to_string(),
    }
}

/// A compiled, anchored Go-dialect regex that remembers its source and matches common
/// shapes (literals, alternations of literals, `.*`, `prefix.*`, …) without the regex engine.
///
/// ```
/// use kagari_model::Regexp;
/// let re = Regexp::new("api|web").unwrap();
/// assert!(re.is_match("web"));
/// assert_eq!(re.set_matches(), Some(&["api".to_string(), "web".to_string()][..]));
/// assert_eq!(re.as_str(), "api|web");
/// ```
#[derive(Clone)]
pub struct Regexp {
    source: String,
    regex: regex::Regex,
    /// The user's name of each capture group (index 0 is the whole match).
    group_names: Vec<Option<String>>,
    strategy: Strategy,
    prefix: Option<String>,
}

impl Regexp {
    /// Compiles `pattern` with [`compile_regex`] and works out its fast path.
    pub fn new(pattern: &str) -> Result<Self, Error> {
        let translated = translate::translate(pattern)?;
        let regex = compile_translated(pattern, &translated)?;
        let analysis = fast::analyse(&translated.pattern);
        let group_names = regex
            .capture_names()
            .map(|n| n.map(|n| translated.go_name(n).to_string()))
            .collect();
        Ok(Regexp {
            source: pattern.to_string(),
            regex,
            group_names,
            strategy: analysis.strategy,
            prefix: analysis.prefix,
        })
    }

    /// The pattern as written, without the added anchors.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The underlying anchored regex, for captures.
    pub fn as_regex(&self) -> &regex::Regex {
        &self.regex
    }

    /// Whether the whole of `s` matches.
    #[inline]
    pub fn is_match(&self, s: &str) -> bool {
        match &self.strategy {
            Strategy::Any => true,
            Strategy::NonEmpty => !s.is_empty(),
            Strategy::Set(set) => set.binary_search_by(|x| x.as_str().cmp(s)).is_ok(),
            Strategy::Prefix(p) => s.starts_with(p.as_str()),
            Strategy::Suffix(p) => s.ends_with(p.as_str()),
            Strategy::Contains(p) => s.contains(p.as_str()),
            Strategy::Regex { prefix } => s.starts_with(prefix.as_str()) && self.regex.is_match(s),
        }
    }

    /// The complete, sorted list of strings this regex matches, when it is small and finite
    /// (a literal, or an alternation of literals such as `a|b|c`), else `None`.
    pub fn set_matches(&self) -> Option<&[String]> {
        match &self.strategy {
            Strategy::Set(s) => Some(s),
            _ => None,
        }
    }

    /// A non-empty literal that every matching string starts with, if there is one.
    pub fn prefix(&self) -> Option<&str> {
        self.prefix.as_deref()
    }

    /// If the whole of `haystack` matches, appends `template` expanded with the match's
    /// capture groups to `out` and returns `true`; otherwise leaves `out` alone and returns
    /// `false`. Templates follow Go's `Regexp.Expand` (`$1`, `${1}`, `$name`, `$$`; `$1_x`
    /// names the group `1_x`), as Prometheus's relabeling and `label_replace` use them.
    ///
    /// ```
    /// use kagari_model::Regexp;
    /// let re = Regexp::new("(.*):(\\d+)").unwrap();
    /// let mut out = String::new();
    /// assert!(re.expand_into("host:80", "${1}_$2", &mut out));
    /// assert_eq!(out, "host_80");
    /// ```
    pub fn expand_into(&self, haystack: &str, template: &str, out: &mut String) -> bool {
        match self.regex.captures(haystack) {
            Some(caps) => {
                self.expand_captures(&caps, template, out);
                true
            }
            None => false,
        }
    }

    /// Appends `template` expanded with `caps` (a match of [`as_regex`](Self::as_regex)).
    pub(crate) fn expand_captures(
        &self,
        caps: &regex::Captures<'_>,
        template: &str,
        out: &mut String,
    ) {
        expand(&self.group_names, caps, template, out);
    }

    /// Whether the regex matches every string (`.*`).
    pub fn matches_everything(&self) -> bool {
        matches!(self.strategy, Strategy::Any)
    }
}

impl PartialEq for Regexp {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl Eq for Regexp {}

impl fmt::Debug for Regexp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Regexp").field(&self.source).finish()
    }
}

/// Prints the pattern as written.
impl fmt::Display for Regexp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_dialect() {
        let m = |p: &str, s: &str| compile_regex(p).unwrap().is_match(s);
        assert!(m(r"\d", "7") && !m(r"\d", "٧"));
        assert!(m(r"\w+", "a_1") && !m(r"\w", "é"));
        assert!(m(r"\s", " ") && !m(r"\s", "\u{b}") && !m(r"\s", "\u{a0}"));
        assert!(m(r"\D", "é"));
        assert!(m(r"a\bé", "aé")); // ASCII boundary between 'a' and non-word 'é'
        assert!(m(r"é\bx", "éx")); // non-word 'é' then word 'x'
        assert!(!m(r"a\bb", "ab"));
        assert!(m("a.b", "a\nb"));
        assert!(m(r"a\<b", "a<b"));
        assert!(m("[[a]+", "[a["));
        assert!(m("a{x}", "a{x}"));
        assert!(m(r"\Q.*\E", ".*") && !m(r"\Q.*\E", "ab"));
        assert!(m(r"\p{^Greek}", "a") && !m(r"\p{^Greek}", "α"));
        assert!(m(r"(?i)K", "\u{212a}")); // Kelvin sign folds to k in Go too
    }

    #[test]
    fn dialect_errors_have_context() {
        let e = compile_regex("a(").unwrap_err();
        assert!(matches!(e, Error::InvalidRegex { ref regex, .. } if regex == "a("));
        assert_eq!(
            e.to_string(),
            r#"invalid regular expression "a(": unclosed group at offset 1"#
        );
        // Offsets are in the pattern as written, even after translation (`\d` grew).
        let e = compile_regex(r"\d\d(").unwrap_err().to_string();
        assert!(e.ends_with("unclosed group at offset 4"), "{e}");
        let e = compile_regex(r"\d\d+*").unwrap_err().to_string();
        assert!(
            e.ends_with("invalid nested repetition operator at offset 5"),
            "{e}"
        );
        let e = compile_regex(r"x\pZ\p{Bogus}").unwrap_err().to_string();
        assert!(e.ends_with("at offset 4"), "{e}");
    }

    #[test]
    fn fast_paths_agree_with_engine() {
        let inputs = [
            "", "a", "foo", "foobar", "barfoo", "xfoox", "\n", "web", "api",
        ];
        for p in [
            ".*", ".+", "foo", "foo.*", ".*foo", ".*foo.*", "api|web", "", "fo+", "(?i)foo",
        ] {
            let re = Regexp::new(p).unwrap();
            let plain = compile_regex(p).unwrap();
            for s in inputs {
                assert_eq!(
                    re.is_match(s),
                    plain.is_match(s),
                    "pattern {p:?} input {s:?}"
                );
            }
        }
    }
}
