//! Label matchers: `=`, `!=`, `=~`, `!~`, with fully anchored RE2-style regexes.

use std::fmt;

use crate::Error;

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
#[derive(Clone)]
pub struct Matcher {
    match_type: MatchType,
    name: String,
    value: String,
    regex: Option<regex::Regex>,
}

impl Matcher {
    /// Creates a matcher; regex matchers compile `^(?s:value)$`.
    pub fn new(match_type: MatchType, name: &str, value: &str) -> Result<Self, Error> {
        let regex = match match_type {
            MatchType::Regex | MatchType::NotRegex => {
                let anchored = format!("^(?s:{value})$");
                Some(regex::Regex::new(&anchored).map_err(|e| Error::InvalidRegex {
                    regex: value.to_string(),
                    reason: e.to_string(),
                })?)
            }
            _ => None,
        };
        Ok(Matcher { match_type, name: name.to_string(), value: value.to_string(), regex })
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

/// Prints as PromQL: `name="value"` with Go-style quoting.
impl fmt::Display for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}{:?}", self.name, self.match_type.as_str(), self.value)
    }
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
}
