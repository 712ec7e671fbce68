//! The OpenMetrics family-level parser: groups samples into families and checks the semantic
//! rules of the spec (grouping, clashes, per-type sample rules, units, exemplars, timestamps).

use std::collections::HashSet;

use crate::entry::{Entry, SampleEntry};
use crate::error::{ErrorKind, ParseError};
use crate::family::{owned_sample, MetricFamily, Sample};
use crate::number::parse_float;
use crate::openmetrics::parse::OpenMetricsParser;
use crate::{MetricType, Timestamp};

/// Parses and validates an OpenMetrics 1.0 exposition.
///
/// ```
/// let input = b"# TYPE a counter\na_total 1\n# EOF\n";
/// let fams = kagari_exposition::parse_openmetrics(input)?;
/// assert_eq!((fams[0].name.as_str(), fams[0].samples[0].name.as_str()), ("a", "a_total"));
/// # Ok::<(), kagari_exposition::ParseError>(())
/// ```
pub fn parse_openmetrics(input: &[u8]) -> Result<Vec<MetricFamily>, ParseError> {
    let mut parser = OpenMetricsParser::new(input);
    let mut st = State::default();
    loop {
        let entry = parser.next_entry()?;
        let line = parser.line();
        let err = |k: ErrorKind| ParseError::new(line, 1, k);
        match entry {
            Entry::Eof => {
                st.finish(line)?;
                return Ok(st.families);
            }
            Entry::Comment(_) => return Err(err(ErrorKind::InvalidComment)),
            Entry::Help { name, help } => {
                let fam = st.metadata(name, "HELP", line)?;
                fam.help = Some(help.into_owned());
            }
            Entry::Unit { name, unit } => {
                let fam = st.metadata(name, "UNIT", line)?;
                fam.unit = Some(unit.to_owned());
            }
            Entry::Type { name, metric_type } => {
                st.metadata(name, "TYPE", line)?;
                if let Some(cur) = st.cur.as_mut() {
                    cur.fam.metric_type = metric_type;
                }
            }
            Entry::Sample(s) => st.sample(&s, line)?,
        }
    }
}

#[derive(Default)]
struct State {
    families: Vec<MetricFamily>,
    seen_names: HashSet<String>,
    cur: Option<Building>,
}

struct Building {
    fam: MetricFamily,
    has: [bool; 3],
    group: Option<String>,
    group_ts: Option<f64>,
    seen_groups: HashSet<String>,
}

impl State {
    fn metadata(
        &mut self,
        name: &str,
        kind: &'static str,
        line: usize,
    ) -> Result<&mut MetricFamily, ParseError> {
        let slot = match kind {
            "HELP" => 0,
            "TYPE" => 1,
            _ => 2,
        };
        if self.cur.as_ref().is_none_or(|c| c.fam.name != name) {
            self.finish(line)?;
            self.cur = Some(Building::new(name));
        }
        let Some(cur) = self.cur.as_mut() else {
            return Err(ParseError::new(line, 1, ErrorKind::InvalidMetricName));
        };
        let name = name.to_owned();
        if !cur.fam.samples.is_empty() {
            return Err(ParseError::new(
                line,
                1,
                ErrorKind::MetadataAfterSamples { kind, name },
            ));
        }
        if let Some(h) = cur.has.get_mut(slot) {
            if *h {
                return Err(ParseError::new(
                    line,
                    1,
                    ErrorKind::DuplicateMetadata { kind, name },
                ));
            }
            *h = true;
        }
        Ok(&mut cur.fam)
    }

    fn sample(&mut self, s: &SampleEntry<'_>, line: usize) -> Result<(), ParseError> {
        let belongs = self
            .cur
            .as_ref()
            .is_some_and(|c| suffix_of(&c.fam, s.name).is_some());
        if !belongs {
            self.finish(line)?;
            self.cur = Some(Building::new(s.name));
        }
        let Some(cur) = self.cur.as_mut() else {
            return Err(ParseError::new(line, 1, ErrorKind::InvalidMetricName));
        };
        cur.add(s).map_err(|k| ParseError::new(line, 1, k))
    }

    fn finish(&mut self, line: usize) -> Result<(), ParseError> {
        let Some(cur) = self.cur.take() else {
            return Ok(());
        };
        let fam = cur.fam;
        let err = |k: ErrorKind| ParseError::new(line, 1, k);
        let mut suffixes: Vec<&str> = fam.metric_type.openmetrics_suffixes().to_vec();
        if !suffixes.contains(&"") {
            suffixes.push("");
        }
        for suffix in suffixes {
            let full = format!("{}{suffix}", fam.name);
            if !self.seen_names.insert(full.clone()) {
                return Err(err(ErrorKind::ClashingName(full)));
            }
        }
        if let Some(unit) = fam.unit.as_deref().filter(|u| !u.is_empty()) {
            let bad_type = matches!(fam.metric_type, MetricType::Info | MetricType::StateSet);
            let suffix_ok = fam
                .name
                .strip_suffix(unit)
                .is_some_and(|p| p.ends_with('_'));
            if bad_type || !suffix_ok {
                let (name, unit) = (fam.name.clone(), unit.to_owned());
                return Err(err(ErrorKind::InvalidUnit { name, unit }));
            }
        }
        if matches!(
            fam.metric_type,
            MetricType::Histogram | MetricType::GaugeHistogram
        ) {
            check_histogram(&fam).map_err(err)?;
        }
        self.families.push(fam);
        Ok(())
    }
}

/// The suffix of sample `name` within `fam`, if the sample belongs to the family.
fn suffix_of<'n>(fam: &MetricFamily, name: &'n str) -> Option<&'n str> {
    let suffix = name.strip_prefix(fam.name.as_str())?;
    fam.metric_type
        .openmetrics_suffixes()
        .contains(&suffix)
        .then_some(suffix)
}

impl Building {
    fn new(name: &str) -> Self {
        Building {
            fam: MetricFamily::new(name),
            has: [false; 3],
            group: None,
            group_ts: None,
            seen_groups: HashSet::new(),
        }
    }

    fn add(&mut self, s: &SampleEntry<'_>) -> Result<(), ErrorKind> {
        let fam = &self.fam;
        let t = fam.metric_type;
        let suffix = suffix_of(fam, s.name).unwrap_or("");
        let v = s.value;
        let mut dropped: Option<&str> = None;
        match (t, suffix) {
            (MetricType::StateSet, _) => {
                if s.labels.get(&fam.name).is_none() {
                    return Err(ErrorKind::InvalidTypeLabel("stateset"));
                }
                if v != 0.0 && v != 1.0 {
                    return Err(ErrorKind::InvalidValueForType("stateset"));
                }
                dropped = Some(fam.name.as_str());
            }
            (MetricType::Info, _) if v != 1.0 => {
                return Err(ErrorKind::InvalidValueForType("info"))
            }
            (MetricType::Histogram | MetricType::GaugeHistogram, "_bucket") => {
                let le = s
                    .labels
                    .get("le")
                    .ok_or(ErrorKind::InvalidTypeLabel("le"))?;
                let b = parse_float(&le).ok_or(ErrorKind::InvalidTypeLabel("le"))?;
                if b.is_nan() || (b == f64::INFINITY && le != "+Inf") {
                    return Err(ErrorKind::InvalidTypeLabel("le"));
                }
                if v.fract() != 0.0 || !v.is_finite() {
                    return Err(ErrorKind::InvalidValueForType(
                        "a bucket (must be an integer)",
                    ));
                }
                dropped = Some("le");
            }
            (MetricType::Summary, "") => {
                let q = s
                    .labels
                    .get("quantile")
                    .ok_or(ErrorKind::InvalidTypeLabel("quantile"))?;
                let qv = parse_float(&q).ok_or(ErrorKind::InvalidTypeLabel("quantile"))?;
                if !(0.0..=1.0).contains(&qv) {
                    return Err(ErrorKind::InvalidTypeLabel("quantile"));
                }
                if v < 0.0 {
                    return Err(ErrorKind::InvalidValueForType("a quantile (negative)"));
                }
                dropped = Some("quantile");
            }
            _ => {}
        }
        if matches!(suffix, "_count" | "_gcount") && (v.fract() != 0.0 || !v.is_finite()) {
            return Err(ErrorKind::InvalidValueForType(
                "a count (must be an integer)",
            ));
        }
        if matches!(
            suffix,
            "_total" | "_sum" | "_count" | "_bucket" | "_gcount" | "_gsum"
        ) {
            if v.is_nan() {
                return Err(ErrorKind::InvalidValueForType(
                    "a counter-like sample (NaN)",
                ));
            }
            if suffix != "_gsum" && v < 0.0 {
                return Err(ErrorKind::InvalidValueForType(
                    "a counter-like sample (negative)",
                ));
            }
        }
        if s.exemplar.is_some() {
            let ok = match t {
                MetricType::Histogram | MetricType::GaugeHistogram => suffix == "_bucket",
                MetricType::Counter => suffix == "_total",
                _ => false,
            };
            if !ok {
                return Err(ErrorKind::ExemplarNotAllowed);
            }
        }
        // Grouping: all samples of one label set (minus le/quantile/state) are contiguous.
        let key = if t == MetricType::Info {
            String::new()
        } else {
            group_key(s, dropped)
        };
        let ts = s.timestamp.map(ns_key);
        if self.group.as_deref() == Some(key.as_str()) {
            if ts.is_some() != self.group_ts.is_some() {
                return Err(ErrorKind::MixedTimestamps);
            }
            if let (Some(prev), Some(now)) = (self.group_ts, ts) {
                if now < prev && t != MetricType::Info {
                    return Err(ErrorKind::TimestampsBackwards);
                }
            }
        } else {
            if self.seen_groups.contains(&key) {
                return Err(ErrorKind::InvalidGrouping(s.name.to_owned()));
            }
            self.seen_groups.insert(key.clone());
            self.group = Some(key);
        }
        self.group_ts = ts;
        self.fam.samples.push(owned_sample(s));
        Ok(())
    }
}

/// Timestamps have nanosecond resolution: digits beyond the ninth decimal are ignored when
/// ordering and comparing them (so `0.0000000001` equals `0`).
fn ns_key(t: Timestamp) -> f64 {
    (t.as_seconds() * 1e9).trunc()
}

fn group_key(s: &SampleEntry<'_>, dropped: Option<&str>) -> String {
    let mut pairs: Vec<_> = s
        .labels
        .iter()
        .filter(|(n, _)| Some(*n) != dropped)
        .collect();
    pairs.sort();
    let mut key = String::new();
    for (n, v) in pairs {
        key.push_str(n);
        key.push('\u{0}');
        key.push_str(&v);
        key.push('\u{1}');
    }
    key
}

fn histogram_group(s: &Sample, is_bucket: bool) -> Vec<(&str, &str)> {
    let mut g: Vec<(&str, &str)> = s
        .labels
        .iter()
        .filter(|(n, _)| !(is_bucket && n == "le"))
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    g.sort();
    g
}

#[derive(Default)]
struct HistState {
    bucket: Option<f64>,
    last_bucket_value: f64,
    count: Option<f64>,
    negative_bucket: bool,
    has_sum: bool,
    has_gsum: bool,
    negative_gsum: bool,
}

impl HistState {
    fn check(&self) -> Result<(), ErrorKind> {
        let h = ErrorKind::InvalidHistogram;
        if self.bucket != Some(f64::INFINITY) {
            return Err(h("missing +Inf bucket"));
        }
        if self.count.is_some_and(|c| c != self.last_bucket_value) {
            return Err(h("count does not match the +Inf bucket"));
        }
        if (self.has_sum || self.has_gsum) != self.count.is_some() {
            return Err(h(
                "_sum and _count (or _gsum and _gcount) must come together",
            ));
        }
        if self.negative_bucket && self.has_sum {
            return Err(h("_sum is not allowed with negative buckets"));
        }
        if !self.negative_bucket && self.negative_gsum {
            return Err(h("negative _gsum needs a negative bucket"));
        }
        Ok(())
    }
}

/// Labels (without `le`) and timestamp: what one histogram check covers.
type HistGroup<'a> = (Vec<(&'a str, &'a str)>, Option<f64>);

fn check_histogram(fam: &MetricFamily) -> Result<(), ErrorKind> {
    let mut state: Option<HistState> = None;
    let mut group: Option<HistGroup<'_>> = None;
    for s in &fam.samples {
        let suffix = s.name.get(fam.name.len()..).unwrap_or("");
        // `_created` takes part in grouping (it ends a group when its timestamp differs) but
        // has no histogram rule of its own.
        if suffix.is_empty() {
            continue;
        }
        let g = (
            histogram_group(s, suffix == "_bucket"),
            s.timestamp.map(ns_key),
        );
        if group.as_ref() != Some(&g) {
            if let Some(st) = state.take() {
                st.check()?;
            }
            group = Some(g);
        }
        let st = state.get_or_insert_with(HistState::default);
        match suffix {
            "_bucket" => {
                let b = s.label("le").and_then(parse_float).unwrap_or(f64::NAN);
                if b < 0.0 {
                    st.negative_bucket = true;
                }
                if st.bucket.is_some_and(|prev| b <= prev) {
                    return Err(ErrorKind::InvalidHistogram("buckets out of order"));
                }
                if s.value < st.last_bucket_value {
                    return Err(ErrorKind::InvalidHistogram("bucket values decrease"));
                }
                st.bucket = Some(b);
                st.last_bucket_value = s.value;
            }
            "_count" | "_gcount" => st.count = Some(s.value),
            "_sum" => st.has_sum = true,
            "_gsum" => {
                st.has_gsum = true;
                if s.value < 0.0 {
                    st.negative_gsum = true;
                }
            }
            _ => {}
        }
    }
    match state {
        Some(st) => st.check(),
        None => Ok(()),
    }
}
