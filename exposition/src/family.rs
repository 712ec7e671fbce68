//! Owned metric families and the 0.0.4 family-level parser ([`parse_text`]).

use std::collections::HashMap;

use crate::entry::{Entry, ExemplarEntry, SampleEntry};
use crate::error::{ErrorKind, ParseError};
use crate::lex::LabelSet;
use crate::number::parse_float;
use crate::text::parse::TextParser;
use crate::{MetricType, Timestamp};

/// A metric family with its metadata and samples, in input order.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricFamily {
    /// The family name. For 0.0.4 input this is the name in `# TYPE` (a counter is usually
    /// `foo_total`); for OpenMetrics it is the family name (`foo` for samples `foo_total`).
    pub name: String,
    /// The type (`Unknown` when there was no `# TYPE`; 0.0.4 `untyped` too).
    pub metric_type: MetricType,
    /// The HELP text, unescaped.
    pub help: Option<String>,
    /// The UNIT (OpenMetrics only).
    pub unit: Option<String>,
    /// The samples.
    pub samples: Vec<Sample>,
}

/// An owned sample.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The full sample name (`foo_total`, `foo_bucket`, ...).
    pub name: String,
    /// Labels in input order, unescaped.
    pub labels: Vec<(String, String)>,
    /// The value.
    pub value: f64,
    /// The timestamp, as the input wrote it.
    pub timestamp: Option<Timestamp>,
    /// The exemplar (OpenMetrics only).
    pub exemplar: Option<ExemplarData>,
}

impl Sample {
    /// The value of label `name`.
    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// An owned exemplar.
#[derive(Debug, Clone, PartialEq)]
pub struct ExemplarData {
    /// Labels, unescaped.
    pub labels: Vec<(String, String)>,
    /// The value.
    pub value: f64,
    /// Timestamp in seconds.
    pub timestamp: Option<f64>,
}

pub(crate) fn owned_labels(set: &LabelSet<'_>) -> Vec<(String, String)> {
    set.iter()
        .map(|(n, v)| (n.to_owned(), v.into_owned()))
        .collect()
}

pub(crate) fn owned_sample(s: &SampleEntry<'_>) -> Sample {
    Sample {
        name: s.name.to_owned(),
        labels: owned_labels(&s.labels),
        value: s.value,
        timestamp: s.timestamp,
        exemplar: s
            .exemplar
            .as_ref()
            .map(|e: &ExemplarEntry<'_>| ExemplarData {
                labels: owned_labels(&e.labels),
                value: e.value,
                timestamp: e.timestamp,
            }),
    }
}

impl MetricFamily {
    pub(crate) fn new(name: &str) -> Self {
        MetricFamily {
            name: name.to_owned(),
            metric_type: MetricType::Unknown,
            help: None,
            unit: None,
            samples: Vec::new(),
        }
    }
}

/// Parses a 0.0.4 text exposition into families, with the Go `expfmt` parser's rules: HELP and
/// TYPE at most once per family, TYPE before the family's samples, `_sum`/`_count`/`_bucket`
/// samples joining an already declared summary or histogram, and samples of a name that
/// appears again later merged into the first family.
///
/// ```
/// let fams = kagari_exposition::parse_text(b"# TYPE a_total counter\na_total{x=\"y\"} 3\n")?;
/// assert_eq!(fams[0].samples[0].value, 3.0);
/// # Ok::<(), kagari_exposition::ParseError>(())
/// ```
pub fn parse_text(input: &[u8]) -> Result<Vec<MetricFamily>, ParseError> {
    let mut parser = TextParser::new(input);
    let mut families: Vec<MetricFamily> = Vec::new();
    let mut typed: Vec<bool> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    loop {
        let entry = parser.next_entry()?;
        let line = parser.line();
        let err = |k: ErrorKind| ParseError::new(line, 1, k);
        match entry {
            Entry::Eof => return Ok(families),
            Entry::Comment(_) | Entry::Unit { .. } => {}
            Entry::Help { name, help } => {
                let i = family_for(name, &mut families, &mut typed, &mut index);
                let fam = families
                    .get_mut(i)
                    .ok_or_else(|| err(ErrorKind::InvalidMetricName))?;
                if fam.help.is_some() {
                    let name = name.to_owned();
                    return Err(err(ErrorKind::DuplicateMetadata { kind: "HELP", name }));
                }
                fam.help = Some(help.into_owned());
            }
            Entry::Type { name, metric_type } => {
                let i = family_for(name, &mut families, &mut typed, &mut index);
                let fam = families
                    .get_mut(i)
                    .ok_or_else(|| err(ErrorKind::InvalidMetricName))?;
                if typed.get(i).copied().unwrap_or(true) {
                    let name = name.to_owned();
                    return Err(err(if fam.samples.is_empty() {
                        ErrorKind::DuplicateMetadata { kind: "TYPE", name }
                    } else {
                        ErrorKind::MetadataAfterSamples { kind: "TYPE", name }
                    }));
                }
                fam.metric_type = metric_type;
                if let Some(t) = typed.get_mut(i) {
                    *t = true;
                }
            }
            Entry::Sample(s) => {
                let i = family_for(s.name, &mut families, &mut typed, &mut index);
                if let Some(t) = typed.get_mut(i) {
                    *t = true;
                }
                let fam = families
                    .get_mut(i)
                    .ok_or_else(|| err(ErrorKind::InvalidMetricName))?;
                let check = |label: &'static str| -> Result<(), ParseError> {
                    match s.labels.get(label) {
                        Some(v) if parse_float(&v).is_none() => {
                            Err(err(ErrorKind::InvalidTypeLabel(label)))
                        }
                        _ => Ok(()),
                    }
                };
                match fam.metric_type {
                    MetricType::Summary => check("quantile")?,
                    MetricType::Histogram if s.name.ends_with("_bucket") => check("le")?,
                    _ => {}
                }
                fam.samples.push(owned_sample(&s));
            }
        }
    }
}

/// Go's `setOrCreateCurrentMF`: the family named `name`, or the summary/histogram that a
/// `_sum`/`_count`/`_bucket` sample belongs to, or a new family.
fn family_for(
    name: &str,
    families: &mut Vec<MetricFamily>,
    typed: &mut Vec<bool>,
    index: &mut HashMap<String, usize>,
) -> usize {
    if let Some(&i) = index.get(name) {
        return i;
    }
    for (suffix, types) in [
        ("_sum", &[MetricType::Summary, MetricType::Histogram][..]),
        ("_count", &[MetricType::Summary, MetricType::Histogram][..]),
        ("_bucket", &[MetricType::Histogram][..]),
    ] {
        if let Some(base) = name.strip_suffix(suffix) {
            if let Some(&i) = index.get(base) {
                if families
                    .get(i)
                    .is_some_and(|f| types.contains(&f.metric_type))
                {
                    return i;
                }
            }
        }
    }
    families.push(MetricFamily::new(name));
    typed.push(false);
    index.insert(name.to_owned(), families.len() - 1);
    families.len() - 1
}
