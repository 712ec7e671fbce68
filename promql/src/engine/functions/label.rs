//! `label_replace` and `label_join` on label sets.

use kagari_model::Labels;
use regex::Regex;

/// Errors from the label functions.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum LabelFnError {
    /// The destination (or a source) label name is not valid.
    #[error("invalid label name {0:?}")]
    InvalidLabelName(String),
    /// A source label name is not valid.
    #[error("invalid source label name {0:?}")]
    InvalidSourceLabelName(String),
    /// The regex did not compile.
    #[error("invalid regular expression in label_replace(): {0}")]
    InvalidRegex(String),
}

/// Whether `name` is a valid label name under Prometheus 3's UTF-8 naming: non-empty valid
/// UTF-8. Query strings with invalid UTF-8 reach us with U+FFFD in place of the bad bytes,
/// so that character marks a name as invalid.
pub fn is_valid_utf8_label_name(name: &str) -> bool {
    !name.is_empty() && !name.contains('\u{fffd}')
}

/// A compiled `label_replace` rule.
#[derive(Debug, Clone)]
pub struct LabelReplace {
    dst: String,
    replacement: String,
    src: String,
    /// The regex as written (before anchoring).
    regex_src: String,
    regex: Regex,
}

impl LabelReplace {
    /// Validates the destination name and compiles the fully anchored regex.
    pub fn new(dst: &str, replacement: &str, src: &str, regex: &str) -> Result<Self, LabelFnError> {
        let compiled = Regex::new(&format!("^(?s:{regex})$"))
            .map_err(|e| LabelFnError::InvalidRegex(e.to_string()))?;
        if !is_valid_utf8_label_name(dst) {
            return Err(LabelFnError::InvalidLabelName(dst.to_string()));
        }
        Ok(Self {
            dst: dst.into(),
            replacement: replacement.into(),
            src: src.into(),
            regex_src: regex.into(),
            regex: compiled,
        })
    }

    /// Whether this rule was built from these arguments.
    pub(crate) fn is_for(&self, dst: &str, replacement: &str, src: &str, regex: &str) -> bool {
        self.dst == dst
            && self.replacement == replacement
            && self.src == src
            && self.regex_src == regex
    }

    /// Applies the rule; returns the labels unchanged when the regex does not match.
    pub fn apply(&self, labels: &Labels) -> Labels {
        let src = labels.get(&self.src).unwrap_or("");
        let Some(caps) = self.regex.captures(src) else {
            return labels.clone();
        };
        let mut out = String::new();
        caps.expand(&self.replacement, &mut out);
        let mut b = labels.to_builder();
        b.set(&self.dst, &out);
        b.build()
    }
}

/// `label_join`: sets `dst` to the values of `srcs` joined with `sep` (empty deletes).
pub fn label_join(
    labels: &Labels,
    dst: &str,
    sep: &str,
    srcs: &[String],
) -> Result<Labels, LabelFnError> {
    if let Some(bad) = srcs.iter().find(|s| !is_valid_utf8_label_name(s)) {
        return Err(LabelFnError::InvalidSourceLabelName(bad.clone()));
    }
    if !is_valid_utf8_label_name(dst) {
        return Err(LabelFnError::InvalidLabelName(dst.to_string()));
    }
    let mut v = String::new();
    for (i, s) in srcs.iter().enumerate() {
        if i > 0 {
            v.push_str(sep);
        }
        v.push_str(labels.get(s).unwrap_or(""));
    }
    let mut b = labels.to_builder();
    b.set(dst, &v);
    Ok(b.build())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replace_and_join() {
        let l = Labels::from_pairs([("src", "source-value-10"), ("x", "a")]).unwrap();
        let r =
            LabelReplace::new("dst", "destination-value-$1", "src", "source-value-(.*)").unwrap();
        assert_eq!(r.apply(&l).get("dst"), Some("destination-value-10"));
        let r = LabelReplace::new("dst", "$1", "src", "nomatch(.*)").unwrap();
        assert_eq!(r.apply(&l), l);
        let r = LabelReplace::new("x", "", "src", ".*").unwrap();
        assert_eq!(r.apply(&l).get("x"), None);
        assert!(matches!(
            LabelReplace::new("a\u{fffd}z", "", "s", ""),
            Err(LabelFnError::InvalidLabelName(_))
        ));
        assert!(LabelReplace::new("a-b", "", "s", "").is_ok());
        assert!(matches!(
            label_join(&l, "j", "-", &["".into()]),
            Err(LabelFnError::InvalidSourceLabelName(_))
        ));
        let j = label_join(&l, "j", "-", &["x".into(), "missing".into(), "x".into()]).unwrap();
        assert_eq!(j.get("j"), Some("a--a"));
    }
}
