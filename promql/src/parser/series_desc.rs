//! The series-description syntax of promqltest `load` and `eval` blocks (Prometheus's
//! `ParseSeriesDesc`): `metric{a="b"} 1+2x10 _ stale 3x5 -1-1x3 Inf {{schema:0 sum:5}}x2`.
//!
//! * `a` one sample; `_` no sample; `_xN` N positions without samples; `stale` a staleness
//!   marker ([`STALE_NAN`]);
//! * `axN` N+1 samples equal to `a`; `a+bxN` / `a-bxN` N+1 samples a, a±b, a±2b, ... computed
//!   as a running sum (one addition per step, like Prometheus);
//! * `{{...}}` one native histogram, `{{...}}xN` N+1 copies, `{{A}}+{{B}}xN` / `{{A}}-{{B}}xN`
//!   N+1 histograms A, A±B, ...

use std::collections::BTreeMap;

use kagari_model::{Labels, LabelsBuilder, MatchType, STALE_NAN};

use super::error::{ParseError, ParseErrorKind};
use super::parse::parse_series_labels;

/// A parsed series description.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesDesc {
    /// The label set, with the metric name as `__name__`.
    pub labels: Labels,
    /// One entry per position; `None` where no sample exists.
    pub values: Vec<Option<SequenceValue>>,
}

/// One sample of a series description.
#[derive(Debug, Clone, PartialEq)]
pub enum SequenceValue {
    /// A float (possibly [`STALE_NAN`]; compare with `kagari_model::is_stale`).
    Float(f64),
    /// A native histogram written as `{{...}}`.
    Histogram(Box<HistogramDesc>),
}

/// The counter-reset hint of a histogram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CounterResetHint {
    /// `unknown`
    Unknown,
    /// `reset`
    Reset,
    /// `not_reset`
    NotReset,
    /// `gauge`
    Gauge,
}

/// A native histogram as written in a series description: absolute bucket counts, each of
/// `positive_buckets` / `negative_buckets` one contiguous run starting at its offset.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HistogramDesc {
    /// `schema` (default 0; -53 for custom buckets).
    pub schema: i32,
    /// `sum`
    pub sum: f64,
    /// `count`
    pub count: f64,
    /// `z_bucket`
    pub zero_count: f64,
    /// `z_bucket_w`
    pub zero_threshold: f64,
    /// `offset`
    pub positive_offset: i32,
    /// `buckets`
    pub positive_buckets: Vec<f64>,
    /// `n_offset`
    pub negative_offset: i32,
    /// `n_buckets`
    pub negative_buckets: Vec<f64>,
    /// `custom_values`
    pub custom_values: Vec<f64>,
    /// `counter_reset_hint`; `None` when not written (expectations then leave it unchecked).
    pub counter_reset_hint: Option<CounterResetHint>,
}

impl HistogramDesc {
    /// Bucket-wise `self + sign * other` (used by `{{A}}+{{B}}xN` expansions).
    /// With different exponential schemas the result has the lower resolution, buckets of
    /// the finer side merged as Prometheus's `FloatHistogram.Add` does.
    fn combine(&self, other: &HistogramDesc, sign: f64) -> Option<HistogramDesc> {
        const CUSTOM: i32 = -53;
        if self.custom_values != other.custom_values
            || (self.schema != other.schema && (self.schema == CUSTOM || other.schema == CUSTOM))
        {
            return None;
        }
        let schema = self.schema.min(other.schema);
        let reduce = |idx: i64, from: i32| -> i64 {
            let delta = u32::try_from(from - schema).unwrap_or(0).min(62);
            ((idx - 1) >> delta) + 1
        };
        let (sa, sb) = (self.schema, other.schema);
        let merge = |ao: i32, a: &[f64], bo: i32, b: &[f64]| -> (i32, Vec<f64>) {
            let mut m: BTreeMap<i64, f64> = BTreeMap::new();
            for (i, v) in a.iter().enumerate() {
                *m.entry(reduce(i64::from(ao) + i as i64, sa)).or_default() += v;
            }
            for (i, v) in b.iter().enumerate() {
                *m.entry(reduce(i64::from(bo) + i as i64, sb)).or_default() += sign * v;
            }
            let (Some((&lo, _)), Some((&hi, _))) = (m.first_key_value(), m.last_key_value()) else {
                return (0, Vec::new());
            };
            let out = (lo..=hi)
                .map(|i| m.get(&i).copied().unwrap_or(0.0))
                .collect();
            (i32::try_from(lo).unwrap_or(0), out)
        };
        let (po, pb) = merge(
            self.positive_offset,
            &self.positive_buckets,
            other.positive_offset,
            &other.positive_buckets,
        );
        let (no, nb) = merge(
            self.negative_offset,
            &self.negative_buckets,
            other.negative_offset,
            &other.negative_buckets,
        );
        Some(HistogramDesc {
            schema,
            sum: self.sum + sign * other.sum,
            count: self.count + sign * other.count,
            zero_count: self.zero_count + sign * other.zero_count,
            zero_threshold: self.zero_threshold,
            positive_offset: po,
            positive_buckets: pb,
            negative_offset: no,
            negative_buckets: nb,
            custom_values: self.custom_values.clone(),
            counter_reset_hint: self.counter_reset_hint,
        })
    }
}

/// Parses one series description line (labels followed by value items).
pub fn parse_series_desc(input: &str) -> Result<SeriesDesc, ParseError> {
    let start = input.len() - input.trim_start().len();
    let end = labels_end(input, start);
    let label_text = input.get(start..end).unwrap_or("");
    let (name, matchers) = parse_series_labels(label_text).map_err(|mut e| {
        e.span = e.span.start + start..e.span.end + start;
        e.query = input.to_string();
        e
    })?;
    let mut b = LabelsBuilder::new();
    for m in &matchers {
        if m.match_type() != MatchType::Equal {
            return Err(ParseError::new(
                start..end,
                ParseErrorKind::Invalid(
                    "only equality matchers are allowed in a series description",
                ),
                input,
            ));
        }
        b.set(m.name(), m.value());
    }
    if let Some(n) = &name {
        b.set(kagari_model::METRIC_NAME, n);
    }
    let mut values = Vec::new();
    let mut pos = end;
    while let Some((s, e)) = next_item(input, pos) {
        pos = e;
        let item = input.get(s..e).unwrap_or("");
        expand_item(item, &mut values).map_err(|reason| {
            ParseError::new(
                s..e,
                ParseErrorKind::BadSeriesItem {
                    item: item.to_string(),
                    reason,
                },
                input,
            )
        })?;
    }
    Ok(SeriesDesc {
        labels: b.build(),
        values,
    })
}

/// End of the label part: a name and/or a `{...}` block (quotes respected).
fn labels_end(s: &str, mut i: usize) -> usize {
    let b = s.as_bytes();
    while b
        .get(i)
        .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b':')
    {
        i += 1;
    }
    if b.get(i) != Some(&b'{') {
        return i;
    }
    let mut quote = None;
    while let Some(&c) = b.get(i) {
        i += 1;
        match (quote, c) {
            (Some(q), b'\\') if q != b'`' => i += 1,
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, b'"' | b'\'' | b'`') => quote = Some(c),
            (None, b'}') => return i,
            (None, _) => {}
        }
    }
    s.len()
}

/// The next whitespace-separated item from `pos`; `{{ ... }}` groups may contain spaces.
fn next_item(s: &str, mut pos: usize) -> Option<(usize, usize)> {
    let b = s.as_bytes();
    while b.get(pos).is_some_and(u8::is_ascii_whitespace) {
        pos += 1;
    }
    if pos >= b.len() {
        return None;
    }
    let start = pos;
    while let Some(&c) = b.get(pos) {
        if c.is_ascii_whitespace() {
            break;
        }
        if c == b'{' && b.get(pos + 1) == Some(&b'{') {
            pos = s
                .get(pos..)
                .and_then(|r| r.find("}}"))
                .map_or(s.len(), |e| pos + e + 2);
        } else {
            pos += 1;
        }
    }
    Some((start, pos))
}

type ItemResult = Result<(), &'static str>;

/// Most positions one description may expand to (the conformance files use at most 10 001).
const MAX_POSITIONS: usize = 1_000_000;

fn times(s: &str) -> Result<u64, &'static str> {
    if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
        return Err("expected a repetition count after 'x'");
    }
    s.parse::<u64>()
        .ok()
        .filter(|n| *n < MAX_POSITIONS as u64)
        .ok_or("repetition count too large")
}

fn expand_item(item: &str, out: &mut Vec<Option<SequenceValue>>) -> ItemResult {
    expand_one(item, out)?;
    if out.len() > MAX_POSITIONS {
        return Err("series description expands to too many positions");
    }
    Ok(())
}

fn expand_one(item: &str, out: &mut Vec<Option<SequenceValue>>) -> ItemResult {
    if out.len() >= MAX_POSITIONS {
        return Err("series description expands to too many positions");
    }
    if item == "_" {
        out.push(None);
        return Ok(());
    }
    if let Some(n) = item.strip_prefix("_x") {
        out.extend(std::iter::repeat_n(None, times(n)? as usize));
        return Ok(());
    }
    if item == "stale" {
        out.push(Some(SequenceValue::Float(STALE_NAN)));
        return Ok(());
    }
    if item.starts_with("{{") {
        return expand_histograms(item, out);
    }
    let (a, rest) = signed_number(item).ok_or("expected a number")?;
    if rest.is_empty() {
        out.push(Some(SequenceValue::Float(a)));
        return Ok(());
    }
    let (step, n) = if let Some(n) = rest.strip_prefix('x') {
        (0.0, times(n)?)
    } else {
        let (sign, r) = match rest.as_bytes().first() {
            Some(b'+') => (1.0, &rest[1..]),
            Some(b'-') => (-1.0, &rest[1..]),
            _ => return Err("expected '+', '-' or 'x' after the number"),
        };
        let (b, r) = signed_number(r).ok_or("expected a number after the sign")?;
        let n = r
            .strip_prefix('x')
            .ok_or("expected 'x' and a repetition count")?;
        (sign * b, times(n)?)
    };
    let mut cur = a;
    out.push(Some(SequenceValue::Float(cur)));
    for _ in 0..n {
        cur += step;
        out.push(Some(SequenceValue::Float(cur)));
    }
    Ok(())
}

/// A float (decimal, exponent, `Inf`, `NaN`, optional sign) at the start of `s`; no hex.
fn signed_number(s: &str) -> Option<(f64, &str)> {
    let b = s.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    let lower = s.get(i..).unwrap_or("").to_ascii_lowercase();
    for word in ["infinity", "inf", "nan"] {
        if lower.starts_with(word) {
            i += word.len();
            let v: f64 = s.get(..i)?.parse().ok()?;
            return Some((v, s.get(i..)?));
        }
    }
    let digits_start = i;
    while b.get(i).is_some_and(|c| c.is_ascii_digit() || *c == b'.') {
        i += 1;
    }
    if i == digits_start {
        return None;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        let mut j = i + 1;
        if matches!(b.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        if b.get(j).is_some_and(u8::is_ascii_digit) {
            while b.get(j).is_some_and(u8::is_ascii_digit) {
                j += 1;
            }
            i = j;
        }
    }
    let v: f64 = s.get(..i)?.parse().ok()?;
    Some((v, s.get(i..)?))
}

fn expand_histograms(item: &str, out: &mut Vec<Option<SequenceValue>>) -> ItemResult {
    let close = item.find("}}").ok_or("unclosed '{{'")?;
    let first = parse_histogram(item.get(2..close).unwrap_or(""))?;
    let rest = item.get(close + 2..).unwrap_or("");
    if rest.is_empty() {
        out.push(Some(SequenceValue::Histogram(Box::new(first))));
        return Ok(());
    }
    let (step, sign, n) = if let Some(n) = rest.strip_prefix('x') {
        (None, 1.0, times(n)?)
    } else {
        let sign = match rest.as_bytes().first() {
            Some(b'+') => 1.0,
            Some(b'-') => -1.0,
            _ => return Err("expected '+', '-' or 'x' after the histogram"),
        };
        let r = rest.get(1..).unwrap_or("");
        let inner = r.strip_prefix("{{").ok_or("expected '{{' after the sign")?;
        let close = inner.find("}}").ok_or("unclosed '{{'")?;
        let step = parse_histogram(inner.get(..close).unwrap_or(""))?;
        let n = inner
            .get(close + 2..)
            .unwrap_or("")
            .strip_prefix('x')
            .ok_or("expected 'x' and a repetition count")?;
        (Some(step), sign, times(n)?)
    };
    let mut cur = first;
    out.push(Some(SequenceValue::Histogram(Box::new(cur.clone()))));
    for _ in 0..n {
        if let Some(s) = &step {
            cur = cur
                .combine(s, sign)
                .ok_or("histograms with different schemas or custom bounds")?;
        }
        out.push(Some(SequenceValue::Histogram(Box::new(cur.clone()))));
    }
    Ok(())
}

fn parse_histogram(body: &str) -> Result<HistogramDesc, &'static str> {
    let mut h = HistogramDesc::default();
    let mut seen: Vec<&str> = Vec::new();
    let mut rest = body.trim();
    while !rest.is_empty() {
        let (key, after) = rest
            .split_once(':')
            .ok_or("expected key:value in histogram")?;
        let key = key.trim();
        if seen.contains(&key) {
            return Err("repeated histogram key");
        }
        seen.push(key);
        let after = after.trim_start();
        let (value, next) = if let Some(list) = after.strip_prefix('[') {
            let end = list.find(']').ok_or("unclosed '[' in histogram")?;
            (
                list.get(..end).unwrap_or(""),
                list.get(end + 1..).unwrap_or(""),
            )
        } else {
            after.split_once(char::is_whitespace).unwrap_or((after, ""))
        };
        rest = next.trim_start();
        let num = |v: &str| {
            signed_number(v)
                .filter(|(_, r)| r.is_empty())
                .map(|(f, _)| f)
                .ok_or("expected a number")
        };
        let int = |v: &str| v.parse::<i32>().map_err(|_| "expected an integer");
        let list = |v: &str| {
            v.split_whitespace()
                .map(num)
                .collect::<Result<Vec<f64>, _>>()
        };
        match key {
            "schema" => h.schema = int(value)?,
            "sum" => h.sum = num(value)?,
            "count" => h.count = num(value)?,
            "z_bucket" => h.zero_count = num(value)?,
            "z_bucket_w" => h.zero_threshold = num(value)?,
            "offset" => h.positive_offset = int(value)?,
            "n_offset" => h.negative_offset = int(value)?,
            "buckets" => h.positive_buckets = list(value)?,
            "n_buckets" => h.negative_buckets = list(value)?,
            "custom_values" => h.custom_values = list(value)?,
            "counter_reset_hint" => {
                h.counter_reset_hint = Some(match value {
                    "unknown" => CounterResetHint::Unknown,
                    "reset" => CounterResetHint::Reset,
                    "not_reset" => CounterResetHint::NotReset,
                    "gauge" => CounterResetHint::Gauge,
                    _ => return Err("unknown counter_reset_hint"),
                })
            }
            _ => return Err("unknown histogram key"),
        }
    }
    Ok(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn floats(d: &SeriesDesc) -> Vec<Option<f64>> {
        d.values
            .iter()
            .map(|v| match v {
                Some(SequenceValue::Float(f)) => Some(*f),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn floats_and_expansions() {
        let d =
            parse_series_desc(r#"metric{a="b", c="d"} 1+2x3 _ stale 3x2 -1-1x2 Inf _x2 .5 1e3"#)
                .unwrap();
        assert_eq!(d.labels.to_string(), r#"metric{a="b", c="d"}"#);
        let f = floats(&d);
        assert_eq!(&f[..4], &[Some(1.0), Some(3.0), Some(5.0), Some(7.0)]);
        assert_eq!(f[4], None);
        assert!(kagari_model::is_stale(f[5].unwrap()));
        assert_eq!(
            &f[6..12],
            &[
                Some(3.0),
                Some(3.0),
                Some(3.0),
                Some(-1.0),
                Some(-2.0),
                Some(-3.0)
            ]
        );
        assert_eq!(
            &f[12..],
            &[Some(f64::INFINITY), None, None, Some(0.5), Some(1000.0)]
        );
    }

    #[test]
    fn label_forms() {
        assert_eq!(parse_series_desc("up 1").unwrap().labels.to_string(), "up");
        assert!(parse_series_desc("{} 1").unwrap().labels.is_empty());
        let d = parse_series_desc(r#"{__name__="x", "a.b"='c'} 1"#).unwrap();
        assert_eq!(d.labels.get("__name__"), Some("x"));
        assert_eq!(d.labels.get("a.b"), Some("c"));
        assert_eq!(
            parse_series_desc("a:b 0.1").unwrap().labels.metric_name(),
            Some("a:b")
        );
        assert!(parse_series_desc(r#"x{a=~"b"} 1"#).is_err());
    }

    #[test]
    fn running_sum_matches_prometheus() {
        let d = parse_series_desc("x 0+0.1x10").unwrap();
        let mut acc = 0.0;
        for (i, v) in floats(&d).into_iter().enumerate() {
            assert_eq!(v, Some(acc), "position {i}");
            acc += 0.1;
        }
    }

    #[test]
    fn histograms() {
        let d = parse_series_desc(
            "h {{schema:1 sum:5 count:4 z_bucket:1 z_bucket_w:0.001 buckets:[1 2] offset:-1 n_buckets:[1] counter_reset_hint:gauge}} {{}}+{{sum:1 buckets:[1]}}x2",
        )
        .unwrap();
        assert_eq!(d.values.len(), 4);
        let Some(SequenceValue::Histogram(h)) = &d.values[0] else {
            panic!()
        };
        assert_eq!((h.schema, h.sum, h.count, h.zero_count), (1, 5.0, 4.0, 1.0));
        assert_eq!(
            (h.positive_offset, &h.positive_buckets[..]),
            (-1, &[1.0, 2.0][..])
        );
        assert_eq!(h.counter_reset_hint, Some(CounterResetHint::Gauge));
        let Some(SequenceValue::Histogram(last)) = &d.values[3] else {
            panic!()
        };
        assert_eq!((last.sum, &last.positive_buckets[..]), (2.0, &[2.0][..]));
        // Adding a finer histogram merges its buckets into the coarser schema.
        let d = parse_series_desc(
            "h {{schema:-1 buckets:[1] offset:1}}+{{schema:0 buckets:[2 2] offset:1}}x1",
        )
        .unwrap();
        let Some(SequenceValue::Histogram(h)) = &d.values[1] else {
            panic!()
        };
        assert_eq!(
            (h.schema, h.positive_offset, &h.positive_buckets[..]),
            (-1, 1, &[5.0][..])
        );
        assert!(parse_series_desc("h {{schema:x}}").is_err());
        assert!(parse_series_desc("h {{bogus:1}}").is_err());
        assert!(parse_series_desc("h {{sum:1").is_err());
    }

    #[test]
    fn bad_items_have_positions() {
        // No hex in series descriptions: `0x3` is "0 repeated 3 more times", as in Prometheus.
        assert_eq!(
            floats(&parse_series_desc("x 0x3").unwrap()),
            vec![Some(0.0); 4]
        );
        for bad in [
            "x 1+",
            "x 1x",
            "x 1.2.3",
            "x abc",
            "x 1+2",
            "x _xz",
            "x 1x99999999999",
        ] {
            let e = parse_series_desc(bad).unwrap_err();
            assert_eq!(e.span.start, 2, "{bad}");
        }
        assert!(parse_series_desc(r#"x{a="b" 1"#).is_err());
        let e = parse_series_desc("x 1x600000 _x600000").unwrap_err();
        assert_eq!(e.span.start, 11);
    }
}
