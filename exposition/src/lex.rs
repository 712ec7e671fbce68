//! Byte-level scanning shared by both pull parsers: names, label sets, label values.

use std::borrow::Cow;

use crate::error::{excerpt, ErrorKind};
use crate::escape::unescape_label_value;

/// A scanning error: byte offset within the line and the reason.
pub(crate) type ScanError = (usize, ErrorKind);

pub(crate) fn is_metric_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b == b':'
}

pub(crate) fn is_metric_cont(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b':'
}

pub(crate) fn is_label_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

pub(crate) fn is_label_cont(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

pub(crate) fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// Whether `s` is a valid metric name (`[a-zA-Z_:][a-zA-Z0-9_:]*`).
pub fn is_valid_metric_name(s: &str) -> bool {
    let b = s.as_bytes();
    matches!(b.first(), Some(&c) if is_metric_start(c)) && b.iter().all(|&c| is_metric_cont(c))
}

/// Whether `s` is a valid label name (`[a-zA-Z_][a-zA-Z0-9_]*`).
pub fn is_valid_label_name(s: &str) -> bool {
    let b = s.as_bytes();
    matches!(b.first(), Some(&c) if is_label_start(c)) && b.iter().all(|&c| is_label_cont(c))
}

/// End of the token of `pred` bytes starting at `pos`.
pub(crate) fn take_while(b: &[u8], mut pos: usize, pred: impl Fn(u8) -> bool) -> usize {
    while let Some(&c) = b.get(pos) {
        if !pred(c) {
            break;
        }
        pos += 1;
    }
    pos
}

/// End of a metric name starting at `pos` (== `pos` if there is none).
pub(crate) fn metric_name_end(b: &[u8], pos: usize) -> usize {
    match b.get(pos) {
        Some(&c) if is_metric_start(c) => take_while(b, pos + 1, is_metric_cont),
        _ => pos,
    }
}

fn label_name_end(b: &[u8], pos: usize) -> usize {
    match b.get(pos) {
        Some(&c) if is_label_start(c) => take_while(b, pos + 1, is_label_cont),
        _ => pos,
    }
}

pub(crate) fn skip_blanks(b: &[u8], pos: usize) -> usize {
    take_while(b, pos, is_blank)
}

pub(crate) fn found(b: &[u8], pos: usize) -> String {
    match b.get(pos..) {
        Some(rest) if !rest.is_empty() => format!("{:?}", excerpt(rest)),
        _ => "end of line".to_owned(),
    }
}

/// Label-set dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    /// 0.0.4: blanks between tokens, trailing comma, only `\\ \" \n` escapes.
    Text,
    /// OpenMetrics: no blanks, no trailing comma, unknown escapes kept.
    OpenMetrics,
}

/// Scans a quoted label value whose opening quote is at `pos - 1`. Returns the offset just
/// after the closing quote.
pub(crate) fn scan_label_value(b: &[u8], pos: usize, dialect: Dialect) -> Result<usize, ScanError> {
    let mut i = pos;
    loop {
        let rest = b.get(i..).unwrap_or(&[]);
        let Some(off) = memchr::memchr2(b'"', b'\\', rest) else {
            return Err((b.len(), ErrorKind::UnterminatedLabelValue));
        };
        let at = i + off;
        if b.get(at) == Some(&b'"') {
            return Ok(at + 1);
        }
        match b.get(at + 1) {
            None => return Err((b.len(), ErrorKind::UnterminatedLabelValue)),
            Some(b'\\') | Some(b'"') | Some(b'n') => {}
            Some(&c) if dialect == Dialect::Text => {
                return Err((at, ErrorKind::InvalidEscape(char::from(c))));
            }
            Some(_) => {}
        }
        i = at + 2;
    }
}

/// Scans a label set whose `{` is at `pos - 1`; returns the offset just after `}`.
/// `names` is scratch space for the duplicate check (cleared here).
pub(crate) fn scan_labels(
    b: &[u8],
    pos: usize,
    dialect: Dialect,
    names: &mut Vec<(usize, usize)>,
) -> Result<usize, ScanError> {
    names.clear();
    let text = dialect == Dialect::Text;
    let mut i = pos;
    let mut first = true;
    loop {
        if text {
            i = skip_blanks(b, i);
        }
        if b.get(i) == Some(&b'}') && (text || first) {
            return Ok(i + 1);
        }
        first = false;
        let end = label_name_end(b, i);
        if end == i {
            return Err((i, ErrorKind::InvalidLabelName));
        }
        let name = b.get(i..end).unwrap_or(&[]);
        // 0.0.4 (Go) reserves `__name__`; OpenMetrics reserves every `__` prefix.
        if name == b"__name__" || (!text && name.starts_with(b"__")) {
            return Err((i, ErrorKind::ReservedLabelName(excerpt(name))));
        }
        if names.iter().any(|&(s, e)| b.get(s..e) == Some(name)) {
            return Err((i, ErrorKind::DuplicateLabelName(excerpt(name))));
        }
        names.push((i, end));
        i = end;
        if text {
            i = skip_blanks(b, i);
        }
        if b.get(i) != Some(&b'=') {
            let f = found(b, i);
            return Err((
                i,
                ErrorKind::Expected {
                    expected: "'=' after label name",
                    found: f,
                },
            ));
        }
        i += 1;
        if text {
            i = skip_blanks(b, i);
        }
        if b.get(i) != Some(&b'"') {
            let f = found(b, i);
            return Err((
                i,
                ErrorKind::Expected {
                    expected: "'\"' to start label value",
                    found: f,
                },
            ));
        }
        i = scan_label_value(b, i + 1, dialect)?;
        if text {
            i = skip_blanks(b, i);
        }
        match b.get(i) {
            Some(b',') => i += 1,
            Some(b'}') => return Ok(i + 1),
            _ => {
                let f = found(b, i);
                return Err((
                    i,
                    ErrorKind::Expected {
                        expected: "',' or '}' after label value",
                        found: f,
                    },
                ));
            }
        }
    }
}

/// A borrowed, already validated label set; escapes are decoded lazily while iterating.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LabelSet<'a> {
    raw: &'a str,
}

impl<'a> LabelSet<'a> {
    /// `raw` is the text between the braces, validated by [`scan_labels`].
    pub(crate) fn new(raw: &'a str) -> Self {
        LabelSet { raw }
    }

    /// The raw text between the braces, escapes and all.
    pub fn raw(&self) -> &'a str {
        self.raw
    }

    /// Whether the set has no labels.
    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }

    /// Iterates `(name, value)` pairs in input order; values are unescaped (borrowed when the
    /// value has no escapes).
    pub fn iter(&self) -> LabelIter<'a> {
        LabelIter {
            raw: self.raw,
            pos: 0,
        }
    }

    /// The value of label `name`, if present.
    pub fn get(&self, name: &str) -> Option<Cow<'a, str>> {
        self.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }
}

impl<'a> IntoIterator for LabelSet<'a> {
    type Item = (&'a str, Cow<'a, str>);
    type IntoIter = LabelIter<'a>;
    fn into_iter(self) -> LabelIter<'a> {
        self.iter()
    }
}

/// Iterator over a [`LabelSet`].
#[derive(Debug, Clone)]
pub struct LabelIter<'a> {
    raw: &'a str,
    pos: usize,
}

impl<'a> Iterator for LabelIter<'a> {
    type Item = (&'a str, Cow<'a, str>);

    fn next(&mut self) -> Option<Self::Item> {
        let b = self.raw.as_bytes();
        let start = take_while(b, self.pos, |c| is_blank(c) || c == b',');
        let end = label_name_end(b, start);
        if end == start {
            self.pos = b.len();
            return None;
        }
        let name = self.raw.get(start..end)?;
        let q = end + memchr::memchr(b'"', b.get(end..)?)?;
        // The set was validated, so the lenient dialect finds the same closing quote.
        let close = scan_label_value(b, q + 1, Dialect::OpenMetrics).ok()?;
        let raw_value = self.raw.get(q + 1..close - 1)?;
        self.pos = close;
        Some((name, unescape_label_value(raw_value)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(s: &str, d: Dialect) -> Result<Vec<(String, String)>, ScanError> {
        let b = s.as_bytes();
        let mut scratch = Vec::new();
        let end = scan_labels(b, 1, d, &mut scratch)?;
        let set = LabelSet::new(s.get(1..end - 1).unwrap_or(""));
        Ok(set
            .iter()
            .map(|(n, v)| (n.to_owned(), v.into_owned()))
            .collect())
    }

    #[test]
    fn label_sets() {
        let got = labels(r#"{a="1",b="x\"y\\z\n"}"#, Dialect::OpenMetrics).unwrap_or_default();
        assert_eq!(
            got,
            vec![("a".into(), "1".into()), ("b".into(), "x\"y\\z\n".into())]
        );
        let got = labels("{ a = \"} # {\" ,\tb=\"\",}", Dialect::Text).unwrap_or_default();
        assert_eq!(
            got,
            vec![("a".into(), "} # {".into()), ("b".into(), "".into())]
        );
        assert!(labels(r#"{a="1",}"#, Dialect::OpenMetrics).is_err());
        assert!(labels(r#"{a="1",a="2"}"#, Dialect::Text).is_err());
        assert!(labels(r#"{a="\x"}"#, Dialect::Text).is_err());
        assert_eq!(
            labels(r#"{a="\z"}"#, Dialect::OpenMetrics).unwrap_or_default()[0].1,
            "\\z"
        );
        assert!(labels(r#"{__name__="x"}"#, Dialect::Text).is_err());
        assert!(labels(r#"{__x="x"}"#, Dialect::Text).is_ok());
        assert!(labels(r#"{__x="x"}"#, Dialect::OpenMetrics).is_err());
        assert!(labels(r#"{a=1}"#, Dialect::Text).is_err());
        assert!(labels(r#"{a="1""#, Dialect::Text).is_err());
    }
}
