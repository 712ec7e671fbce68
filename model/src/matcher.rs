//! Label matchers: `=`, `!=`, `=~`, `!~`, with fully anchored RE2-style regexes.

use std::fmt;

use crate::quote::write_quoted_go;
use crate::{Error, Regexp};

/// The four matcher operators of PromQL and the remote-read protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MatchType {
    /// `=`
    Equal,
    /// `!=`
    NotEqual,
    /// `=~`
    Regex,
    /// `!~`
    NotRegex,
}

impl MatchType {
    /// The operator as written in PromQL.
    pub fn as_str(self) -> &'static str {
        match self {
            MatchType::Equal => "=",
            MatchType::NotEqual => "!=",
            MatchType::Regex => "=~",
            MatchType::NotRegex => "!~",
        }
    }
}

/// Matches one label's value. A missing label matches as the empty string.
///
/// ```
/// use kagari_model::{MatchType, Matcher};
/// let m = Matcher::new(MatchType::Regex, "job", "api|web").unwrap();
/// assert!(m.matches("web"));
/// assert!(!m.matches("webx")); // fully anchored
/// ```
///
/// Regex matchers recognise simple patterns and skip the regex engine for them: literals
/// compare as strings, `.*` matches everything, `.+` every non-empty value, `a|b|c` is a set
/// lookup, `foo.*` / `.*foo` / `.*foo.*` are prefix / suffix / substring tests.
#[derive(Clone)]
pub struct Matcher {
    match_type: MatchType,
    name: String,
    value: String,
    regex: Option<Regexp>,
}

impl Matcher {
    /// Creates a matcher; regex matchers compile `^(?s:value)$` in Go's RE2 dialect
    /// (see [`compile_regex`](crate::compile_regex)).
    pub fn new(match_type: MatchType, name: &str, value: &str) -> Result<Self, Error> {
        let regex = match match_type {
            MatchType::Regex | MatchType::NotRegex => Some(Regexp::new(value)?),
            _ => None,
        };
        Ok(Matcher {
            match_type,
            name: name.to_string(),
            value: value.to_string(),
            regex,
        })
    }

    /// The operator.
    pub fn match_type(&self) -> MatchType {
        self.match_type
    }

    /// The label name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The value or regex as written (without anchors).
    pub fn value(&self) -> &str {
        &self.value
    }

    /// Whether a label value (empty when the label is missing) matches.
    pub fn matches(&self, v: &str) -> bool {
        match self.match_type {
            MatchType::Equal => self.value == v,
            MatchType::NotEqual => self.value != v,
            MatchType::Regex => self.regex.as_ref().is_some_and(|r| r.is_match(v)),
            MatchType::NotRegex => !self.regex.as_ref().is_some_and(|r| r.is_match(v)),
        }
    }

    /// Whether this matcher matches the empty string (i.e. series lacking the label).
    pub fn matches_empty(&self) -> bool {
        self.matches("")
    }

    /// For `=~` and `!~`: the complete sorted list of values the regex matches, when it is a
    /// literal or an alternation of literals (`a|b|c`), so a storage engine can look those
    /// values up directly. For `!~` the matcher accepts everything *except* these values.
    /// `None` for `=`/`!=` and for regexes that match an open-ended set of strings.
    ///
    /// ```
    /// use kagari_model::{MatchType, Matcher};
    /// let m = Matcher::new(MatchType::Regex, "job", "web|api").unwrap();
    /// assert_eq!(m.set_matches(), Some(&["api".to_string(), "web".to_string()][..]));
    /// ```
    pub fn set_matches(&self) -> Option<&[String]> {
        self.regex.as_ref().and_then(Regexp::set_matches)
    }

    /// For `=~` and `!~`: a non-empty literal that every value the regex matches starts with
    /// (`foo` for `foo.*` or `foo(a|b)`), if there is one.
    ///
    /// ```
    /// use kagari_model::{MatchType, Matcher};
    /// let m = Matcher::new(MatchType::Regex, "path", "/api/.*").unwrap();
    /// assert_eq!(m.prefix(), Some("/api/"));
    /// ```
    pub fn prefix(&self) -> Option<&str> {
        self.regex.as_ref().and_then(Regexp::prefix)
    }

    /// The compiled regex of a `=~` or `!~` matcher.
    pub fn regexp(&self) -> Option<&Regexp> {
        self.regex.as_ref()
    }
}

impl PartialEq for Matcher {
    fn eq(&self, other: &Self) -> bool {
        self.match_type == other.match_type && self.name == other.name && self.value == other.value
    }
}

impl Eq for Matcher {}

impl fmt::Debug for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Prints as Prometheus does: `name="value"`, the value quoted like Go's `strconv.Quote`, and
/// the name quoted too when it is not a plain identifier (UTF-8 label names).
impl fmt::Display for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if should_quote_name(&self.name) {
            write_quoted_go(f, &self.name)?;
        } else {
            f.write_str(&self.name)?;
        }
        f.write_str(self.match_type.as_str())?;
        write_quoted_go(f, &self.value)
    }
}

/// Prometheus `Matcher.shouldQuoteName`: anything but `[a-zA-Z_][a-zA-Z0-9_]*` is quoted,
/// and so is the empty name.
fn should_quote_name(name: &str) -> bool {
    name.is_empty()
        || name
            .bytes()
            .enumerate()
            .any(|(i, c)| !(c == b'_' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operators() {
        let eq = Matcher::new(MatchType::Equal, "a", "x").unwrap();
        assert!(eq.matches("x") && !eq.matches("y"));
        let ne = Matcher::new(MatchType::NotEqual, "a", "x").unwrap();
        assert!(!ne.matches("x") && ne.matches(""));
        let re = Matcher::new(MatchType::Regex, "a", "a.c").unwrap();
        assert!(re.matches("abc") && re.matches("a\nc") && !re.matches("zabc"));
        let nre = Matcher::new(MatchType::NotRegex, "a", "").unwrap();
        assert!(!nre.matches("") && nre.matches("q"));
        assert!(Matcher::new(MatchType::Regex, "a", "(").is_err());
    }

    #[test]
    fn display_quotes_like_go() {
        let m = |t, n: &str, v: &str| Matcher::new(t, n, v).unwrap().to_string();
        assert_eq!(m(MatchType::Equal, "job", "a\"b"), r#"job="a\"b""#);
        assert_eq!(m(MatchType::Regex, "job", "\\d+\n"), r#"job=~"\\d+\n""#);
        assert_eq!(m(MatchType::NotEqual, "a", "\u{1}é"), r#"a!="\x01é""#);
        assert_eq!(
            m(MatchType::NotRegex, "my.label", "x"),
            r#""my.label"!~"x""#
        );
        assert_eq!(m(MatchType::Equal, "9a", ""), r#""9a"="""#);
    }

    #[test]
    fn fast_path_accessors() {
        let re = |v: &str| Matcher::new(MatchType::Regex, "a", v).unwrap();
        assert_eq!(re("x|y").set_matches().map(<[String]>::len), Some(2));
        assert_eq!(re("x.*").set_matches(), None);
        assert_eq!(re("x.*").prefix(), Some("x"));
        assert_eq!(
            Matcher::new(MatchType::Equal, "a", "x")
                .unwrap()
                .set_matches(),
            None
        );
        let nre = Matcher::new(MatchType::NotRegex, "a", "x|y").unwrap();
        assert!(nre.matches("z") && !nre.matches("x"));
        assert_eq!(nre.set_matches().map(<[String]>::len), Some(2));
    }
}
