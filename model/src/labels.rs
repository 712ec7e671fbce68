//! Label sets: sorted, immutable, cheap to clone, with a stable hash for series identity.

use std::fmt;
use std::sync::Arc;

use crate::quote::write_quoted_go;
use crate::Error;

/// The reserved label name that holds a series' metric name.
pub const METRIC_NAME: &str = "__name__";

/// One `name="value"` pair.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Label {
    /// The label name.
    pub name: Box<str>,
    /// The label value (never empty inside a [`Labels`]).
    pub value: Box<str>,
}

/// An immutable set of labels sorted by name, with no duplicate names and no empty values.
///
/// Cloning is a reference-count increment. Equality and ordering compare the label pairs in
/// name order, as Prometheus's `labels.Compare` does.
///
/// ```
/// use kagari_model::Labels;
/// let a = Labels::from_pairs([("job", "x"), ("__name__", "up")]).unwrap();
/// assert_eq!(a.to_string(), r#"up{job="x"}"#);
/// assert_eq!(a.metric_name(), Some("up"));
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Labels(Arc<[Label]>);

impl Labels {
    /// The empty label set.
    pub fn empty() -> Self {
        Labels(Arc::from(Vec::new()))
    }

    /// Builds a label set from pairs in any order, validating names.
    ///
    /// Empty values are dropped (an empty label does not exist in Prometheus); a repeated name
    /// or an invalid name is an error.
    pub fn from_pairs<N, V, I>(pairs: I) -> Result<Self, Error>
    where
        N: AsRef<str>,
        V: AsRef<str>,
        I: IntoIterator<Item = (N, V)>,
    {
        let mut b = LabelsBuilder::new();
        for (n, v) in pairs {
            let n = n.as_ref();
            if !is_valid_label_name(n) {
                return Err(Error::InvalidLabelName {
                    name: n.to_string(),
                });
            }
            if b.get(n).is_some() {
                return Err(Error::DuplicateLabelName {
                    name: n.to_string(),
                });
            }
            b.set(n, v.as_ref());
        }
        Ok(b.build())
    }

    /// Builds from labels already sorted by name, unique and non-empty; not re-checked.
    ///
    /// Use this on hot paths where the caller guarantees the invariants (debug builds assert).
    pub fn from_sorted_unchecked(labels: Vec<Label>) -> Self {
        debug_assert!(labels.windows(2).all(|w| w[0].name < w[1].name));
        Labels(Arc::from(labels))
    }

    /// The value of label `name`, if present.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .binary_search_by(|l| (*l.name).cmp(name))
            .ok()
            .map(|i| &*self.0[i].value)
    }

    /// The metric name (`__name__`), if any.
    pub fn metric_name(&self) -> Option<&str> {
        self.get(METRIC_NAME)
    }

    /// Whether label `name` is present.
    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Number of labels.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no labels.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Iterates labels in name order.
    pub fn iter(&self) -> std::slice::Iter<'_, Label> {
        self.0.iter()
    }

    /// The labels as a sorted slice.
    pub fn as_slice(&self) -> &[Label] {
        &self.0
    }

    /// A builder pre-filled with these labels.
    pub fn to_builder(&self) -> LabelsBuilder {
        LabelsBuilder {
            labels: self.0.to_vec(),
        }
    }

    /// The stable 64-bit series hash, identical to Prometheus's `labels.Labels.Hash()`:
    /// xxHash64 (seed 0) over `name 0xff value 0xff` for every label in order.
    pub fn stable_hash(&self) -> u64 {
        let mut h = xxhash_rust::xxh64::Xxh64::new(0);
        for l in self.0.iter() {
            h.update(l.name.as_bytes());
            h.update(&[0xff]);
            h.update(l.value.as_bytes());
            h.update(&[0xff]);
        }
        h.digest()
    }

    /// A copy with label `name` set to `value` (an empty value removes the label).
    ///
    /// ```
    /// use kagari_model::Labels;
    /// let l = Labels::from_pairs([("a", "1")]).unwrap().with("b", "2");
    /// assert_eq!(l.to_string(), r#"{a="1", b="2"}"#);
    /// ```
    pub fn with(&self, name: &str, value: &str) -> Labels {
        let mut b = self.to_builder();
        b.set(name, value);
        b.build()
    }

    /// A copy without label `name`.
    pub fn without(&self, name: &str) -> Labels {
        if !self.has(name) {
            return self.clone();
        }
        let v: Vec<Label> = self
            .0
            .iter()
            .filter(|l| &*l.name != name)
            .cloned()
            .collect();
        Labels(Arc::from(v))
    }

    /// The labels without `__name__`.
    pub fn without_metric_name(&self) -> Labels {
        if !self.has(METRIC_NAME) {
            return self.clone();
        }
        let v: Vec<Label> = self
            .0
            .iter()
            .filter(|l| &*l.name != METRIC_NAME)
            .cloned()
            .collect();
        Labels(Arc::from(v))
    }
}

impl fmt::Debug for Labels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Prints like Prometheus: `name{a="b", c="d"}`, or `{a="b"}` with no metric name.
///
/// Values are quoted like Go's `strconv.Quote`. Names outside the legacy character set are
/// quoted too, and a metric name outside it goes inside the braces, as in Prometheus 3:
/// `{"my.metric", "my.label"="x"}`.
impl fmt::Display for Labels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.metric_name();
        let bare_name = name.filter(|n| is_valid_metric_name(n));
        if let Some(n) = bare_name {
            f.write_str(n)?;
        }
        let mut rest = self.0.iter().filter(|l| &*l.name != METRIC_NAME).peekable();
        if rest.peek().is_none() && bare_name.is_some() {
            return Ok(());
        }
        f.write_str("{")?;
        let mut first = true;
        if let (Some(n), None) = (name, bare_name) {
            write_quoted_go(f, n)?;
            first = false;
        }
        for l in rest {
            if !first {
                f.write_str(", ")?;
            }
            first = false;
            if is_valid_label_name(&l.name) {
                f.write_str(&l.name)?;
            } else {
                write_quoted_go(f, &l.name)?;
            }
            f.write_str("=")?;
            write_quoted_go(f, &l.value)?;
        }
        f.write_str("}")
    }
}

impl<'a> IntoIterator for &'a Labels {
    type Item = &'a Label;
    type IntoIter = std::slice::Iter<'a, Label>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// Mutable companion of [`Labels`]: set and delete labels, then [`build`](Self::build).
///
/// Setting an empty value deletes the label, as in Prometheus.
#[derive(Debug, Clone, Default)]
pub struct LabelsBuilder {
    labels: Vec<Label>,
}

impl LabelsBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// The current value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|l| &*l.name == name)
            .map(|l| &*l.value)
    }

    /// Sets `name` to `value`; an empty value deletes the label. Names are not validated here.
    pub fn set(&mut self, name: &str, value: &str) -> &mut Self {
        if value.is_empty() {
            return self.del(name);
        }
        match self.labels.iter_mut().find(|l| &*l.name == name) {
            Some(l) => l.value = value.into(),
            None => self.labels.push(Label {
                name: name.into(),
                value: value.into(),
            }),
        }
        self
    }

    /// Deletes `name` if present.
    pub fn del(&mut self, name: &str) -> &mut Self {
        self.labels.retain(|l| &*l.name != name);
        self
    }

    /// Keeps only labels for which `keep` returns true.
    pub fn retain(&mut self, mut keep: impl FnMut(&str, &str) -> bool) -> &mut Self {
        self.labels.retain(|l| keep(&l.name, &l.value));
        self
    }

    /// Iterates the current labels in unspecified order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.labels.iter().map(|l| (&*l.name, &*l.value))
    }

    /// Sorts and freezes the labels.
    pub fn build(&self) -> Labels {
        let mut v = self.labels.clone();
        v.sort_unstable_by(|a, b| a.name.cmp(&b.name));
        Labels(Arc::from(v))
    }
}

/// Which label and metric names are valid: Prometheus's `metric_name_validation_scheme`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum NameValidationScheme {
    /// `[a-zA-Z_][a-zA-Z0-9_]*` for labels, `[a-zA-Z_:][a-zA-Z0-9_:]*` for metrics.
    Legacy,
    /// Any non-empty UTF-8 string (Prometheus 3's default).
    #[default]
    Utf8,
}

impl NameValidationScheme {
    /// Whether `name` is a valid label name under this scheme.
    pub fn is_valid_label_name(self, name: &str) -> bool {
        match self {
            NameValidationScheme::Legacy => is_valid_label_name(name),
            NameValidationScheme::Utf8 => !name.is_empty(),
        }
    }

    /// Whether `name` is a valid metric name under this scheme.
    pub fn is_valid_metric_name(self, name: &str) -> bool {
        match self {
            NameValidationScheme::Legacy => is_valid_metric_name(name),
            NameValidationScheme::Utf8 => !name.is_empty(),
        }
    }
}

/// Whether `name` is a valid label name under the legacy scheme: `[a-zA-Z_][a-zA-Z0-9_]*`.
pub fn is_valid_label_name(name: &str) -> bool {
    let b = name.as_bytes();
    match b.first() {
        Some(c) if c.is_ascii_alphabetic() || *c == b'_' => {}
        _ => return false,
    }
    b[1..]
        .iter()
        .all(|c| c.is_ascii_alphanumeric() || *c == b'_')
}

/// Whether `name` is a valid metric name under the legacy scheme: `[a-zA-Z_:][a-zA-Z0-9_:]*`.
pub fn is_valid_metric_name(name: &str) -> bool {
    let b = name.as_bytes();
    match b.first() {
        Some(c) if c.is_ascii_alphabetic() || *c == b'_' || *c == b':' => {}
        _ => return false,
    }
    b[1..]
        .iter()
        .all(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b':')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_and_deduplicated() {
        let l = Labels::from_pairs([("b", "2"), ("a", "1"), ("c", "")]).unwrap();
        let names: Vec<&str> = l.iter().map(|l| &*l.name).collect();
        assert_eq!(names, ["a", "b"]);
        assert!(Labels::from_pairs([("a", "1"), ("a", "2")]).is_err());
        assert!(Labels::from_pairs([("0a", "1")]).is_err());
    }

    #[test]
    fn stable_hash_matches_prometheus() {
        // labels.FromStrings("__name__", "up", "job", "node").Hash() in Prometheus (xxhash64 of
        // "__name__\xffup\xffjob\xffnode\xff").
        let l = Labels::from_pairs([("__name__", "up"), ("job", "node")]).unwrap();
        let expect = xxhash_rust::xxh64::xxh64(b"__name__\xffup\xffjob\xffnode\xff", 0);
        assert_eq!(l.stable_hash(), expect);
        assert_eq!(
            Labels::empty().stable_hash(),
            xxhash_rust::xxh64::xxh64(b"", 0)
        );
    }

    #[test]
    fn display_quotes_like_go() {
        let l = Labels::from_sorted_unchecked(vec![
            Label {
                name: "__name__".into(),
                value: "my.metric".into(),
            },
            Label {
                name: "a".into(),
                value: "x\ny\u{1}é\"".into(),
            },
            Label {
                name: "b.c".into(),
                value: "\u{a0}".into(),
            },
        ]);
        assert_eq!(
            l.to_string(),
            r#"{"my.metric", a="x\ny\x01é\"", "b.c"="\u00a0"}"#
        );
        let up = Labels::from_pairs([("__name__", "up")]).unwrap();
        assert_eq!(up.to_string(), "up");
        assert_eq!(Labels::empty().to_string(), "{}");
        let odd = Labels::from_sorted_unchecked(vec![Label {
            name: "__name__".into(),
            value: "1x".into(),
        }]);
        assert_eq!(odd.to_string(), r#"{"1x"}"#);
    }

    #[test]
    fn with_and_without() {
        let l = Labels::from_pairs([("a", "1"), ("b", "2")]).unwrap();
        assert_eq!(l.with("a", "9").get("a"), Some("9"));
        assert_eq!(l.with("a", "").len(), 1);
        assert_eq!(l.without("b").to_string(), r#"{a="1"}"#);
        assert_eq!(l.without("zz"), l);
    }

    #[test]
    fn validation_schemes() {
        assert!(NameValidationScheme::Utf8.is_valid_label_name("a.b"));
        assert!(!NameValidationScheme::Utf8.is_valid_label_name(""));
        assert!(!NameValidationScheme::Legacy.is_valid_label_name("a.b"));
        assert!(NameValidationScheme::Legacy.is_valid_metric_name("a:b"));
    }

    #[test]
    fn names() {
        assert!(is_valid_metric_name("a:b_c9"));
        assert!(!is_valid_metric_name("9a"));
        assert!(!is_valid_label_name("a:b"));
        assert!(is_valid_label_name("_"));
        assert!(!is_valid_label_name(""));
    }
}
