//! A simple in-memory [`Queryable`] for tests and the promqltest runner.

use std::collections::BTreeMap;

use kagari_model::{Labels, Matcher, Timestamp};

use super::{
    Querier, Queryable, SampleIterator, SelectHints, Series, SeriesSet, StorageError, ValueType,
};

/// Errors from appending to a [`MemStorage`].
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum MemStorageError {
    /// A sample was not newer than the series' last sample.
    #[error("out of order sample for series {labels} at {t} (last sample at {last})")]
    OutOfOrder {
        /// The series.
        labels: Labels,
        /// The rejected timestamp.
        t: Timestamp,
        /// The series' newest timestamp.
        last: Timestamp,
    },
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum MemValue {
    Float(f64),
    Histogram,
}

/// Series kept as sorted vectors in a `BTreeMap` keyed by labels.
///
/// ```
/// use kagari_promql::storage::{MemStorage, Queryable, SelectHints, ValueType};
/// use kagari_model::{Labels, MatchType, Matcher};
/// let mut s = MemStorage::new();
/// s.append(&Labels::from_pairs([("__name__", "up")]).unwrap(), 1000, 1.0).unwrap();
/// let q = s.querier(0, 2000).unwrap();
/// let m = [Matcher::new(MatchType::Equal, "__name__", "up").unwrap()];
/// let mut set = q.select(true, &SelectHints::default(), &m).unwrap();
/// let series = set.next_series().unwrap();
/// let mut it = series.iterator(None);
/// assert_eq!(it.next(), ValueType::Float);
/// assert_eq!(it.at(), (1000, 1.0));
/// ```
#[derive(Debug, Default, Clone)]
pub struct MemStorage {
    series: BTreeMap<Labels, Vec<(Timestamp, MemValue)>>,
}

impl MemStorage {
    /// An empty storage.
    pub fn new() -> Self {
        Self::default()
    }

    /// Removes all series.
    pub fn clear(&mut self) {
        self.series.clear();
    }

    /// Number of series stored.
    pub fn num_series(&self) -> usize {
        self.series.len()
    }

    /// Appends a float sample; timestamps must increase per series.
    pub fn append(&mut self, labels: &Labels, t: Timestamp, v: f64) -> Result<(), MemStorageError> {
        self.push(labels, t, MemValue::Float(v))
    }

    /// Records that a native histogram sample exists at `t` (its content is not kept: the
    /// engine rejects queries that touch it).
    pub fn append_histogram_marker(
        &mut self,
        labels: &Labels,
        t: Timestamp,
    ) -> Result<(), MemStorageError> {
        self.push(labels, t, MemValue::Histogram)
    }

    fn push(&mut self, labels: &Labels, t: Timestamp, v: MemValue) -> Result<(), MemStorageError> {
        let samples = self.series.entry(labels.clone()).or_default();
        if let Some(&(last, _)) = samples.last() {
            if t <= last {
                return Err(MemStorageError::OutOfOrder {
                    labels: labels.clone(),
                    t,
                    last,
                });
            }
        }
        samples.push((t, v));
        Ok(())
    }
}

impl Queryable for MemStorage {
    fn querier(
        &self,
        mint: Timestamp,
        maxt: Timestamp,
    ) -> Result<Box<dyn Querier + '_>, StorageError> {
        Ok(Box::new(MemQuerier {
            storage: self,
            mint,
            maxt,
        }))
    }
}

#[derive(Debug)]
struct MemQuerier<'a> {
    storage: &'a MemStorage,
    mint: Timestamp,
    maxt: Timestamp,
}

fn series_matches(labels: &Labels, matchers: &[Matcher]) -> bool {
    matchers
        .iter()
        .all(|m| m.matches(labels.get(m.name()).unwrap_or("")))
}

impl MemQuerier<'_> {
    fn window<'s>(&self, samples: &'s [(Timestamp, MemValue)]) -> &'s [(Timestamp, MemValue)] {
        let lo = samples.partition_point(|s| s.0 < self.mint);
        let hi = samples.partition_point(|s| s.0 <= self.maxt);
        samples.get(lo..hi).unwrap_or(&[])
    }
}

impl Querier for MemQuerier<'_> {
    fn select(
        &self,
        _sorted: bool,
        _hints: &SelectHints,
        matchers: &[Matcher],
    ) -> Result<Box<dyn SeriesSet + '_>, StorageError> {
        // Hints are advisory; the querier's own window bounds the samples.
        let mut out = Vec::new();
        for (labels, samples) in &self.storage.series {
            if !series_matches(labels, matchers) {
                continue;
            }
            let w = self.window(samples);
            if w.is_empty() {
                continue;
            }
            out.push(MemSeries { labels, samples: w });
        }
        // BTreeMap order is label order, so the result is always sorted.
        Ok(Box::new(MemSeriesSet {
            series: out.into_iter(),
        }))
    }

    fn label_names(&self, matchers: &[Matcher]) -> Result<Vec<String>, StorageError> {
        let mut names: Vec<String> = Vec::new();
        for (labels, samples) in &self.storage.series {
            if series_matches(labels, matchers) && !self.window(samples).is_empty() {
                names.extend(labels.iter().map(|l| l.name.to_string()));
            }
        }
        names.sort_unstable();
        names.dedup();
        Ok(names)
    }

    fn label_values(&self, name: &str, matchers: &[Matcher]) -> Result<Vec<String>, StorageError> {
        let mut values: Vec<String> = Vec::new();
        for (labels, samples) in &self.storage.series {
            if series_matches(labels, matchers) && !self.window(samples).is_empty() {
                if let Some(v) = labels.get(name) {
                    values.push(v.to_string());
                }
            }
        }
        values.sort_unstable();
        values.dedup();
        Ok(values)
    }
}

struct MemSeriesSet<'a> {
    series: std::vec::IntoIter<MemSeries<'a>>,
}

impl std::fmt::Debug for MemSeriesSet<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemSeriesSet").finish_non_exhaustive()
    }
}

impl SeriesSet for MemSeriesSet<'_> {
    fn next_series(&mut self) -> Option<Box<dyn Series + '_>> {
        self.series.next().map(|s| Box::new(s) as Box<dyn Series>)
    }
    fn take_err(&mut self) -> Option<StorageError> {
        None
    }
}

#[derive(Debug)]
struct MemSeries<'a> {
    labels: &'a Labels,
    samples: &'a [(Timestamp, MemValue)],
}

impl Series for MemSeries<'_> {
    fn labels(&self) -> &Labels {
        self.labels
    }
    fn iterator<'b>(
        &'b self,
        _reuse: Option<Box<dyn SampleIterator + 'b>>,
    ) -> Box<dyn SampleIterator + 'b> {
        // The memory iterator holds no buffers, so there is nothing to reuse.
        Box::new(MemIterator {
            samples: self.samples,
            pos: None,
        })
    }
}

#[derive(Debug)]
struct MemIterator<'a> {
    samples: &'a [(Timestamp, MemValue)],
    pos: Option<usize>,
}

impl MemIterator<'_> {
    fn kind(&self) -> ValueType {
        match self.pos.and_then(|p| self.samples.get(p)) {
            None => ValueType::None,
            Some((_, MemValue::Float(_))) => ValueType::Float,
            Some((_, MemValue::Histogram)) => ValueType::FloatHistogram,
        }
    }
}

impl SampleIterator for MemIterator<'_> {
    fn next(&mut self) -> ValueType {
        let p = self.pos.map_or(0, |p| (p + 1).min(self.samples.len()));
        self.pos = Some(p);
        self.kind()
    }

    fn seek(&mut self, t: Timestamp) -> ValueType {
        let from = self.pos.unwrap_or(0);
        let rest = self.samples.get(from..).unwrap_or(&[]);
        self.pos = Some(from + rest.partition_point(|s| s.0 < t));
        self.kind()
    }

    fn at(&self) -> (Timestamp, f64) {
        match self.pos.and_then(|p| self.samples.get(p)) {
            Some(&(t, MemValue::Float(v))) => (t, v),
            Some(&(t, MemValue::Histogram)) => (t, f64::NAN),
            None => (0, f64::NAN),
        }
    }

    fn at_t(&self) -> Timestamp {
        self.pos
            .and_then(|p| self.samples.get(p))
            .map_or(0, |s| s.0)
    }

    fn take_err(&mut self) -> Option<StorageError> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kagari_model::MatchType;

    fn lbl(pairs: &[(&str, &str)]) -> Labels {
        Labels::from_pairs(pairs.iter().copied()).unwrap()
    }

    #[test]
    fn select_filters_by_matchers_and_window_and_seeks() {
        let mut s = MemStorage::new();
        let a = lbl(&[("__name__", "m"), ("job", "a")]);
        let b = lbl(&[("__name__", "m"), ("job", "b")]);
        for t in 0..10 {
            s.append(&a, t * 10, t as f64).unwrap();
            s.append(&b, t * 10, -(t as f64)).unwrap();
        }
        assert!(s.append(&a, 50, 1.0).is_err());
        let q = s.querier(20, 60).unwrap();
        let m = [Matcher::new(MatchType::Regex, "job", "a|c").unwrap()];
        let mut set = q.select(true, &SelectHints::default(), &m).unwrap();
        let series = set.next_series().unwrap();
        assert_eq!(series.labels(), &a);
        let mut it = series.iterator(None);
        assert_eq!(it.seek(35), ValueType::Float);
        assert_eq!(it.at(), (40, 4.0));
        assert_eq!(it.seek(0), ValueType::Float);
        assert_eq!(it.at(), (40, 4.0));
        assert_eq!(it.next(), ValueType::Float);
        assert_eq!(it.next(), ValueType::Float);
        assert_eq!(it.at(), (60, 6.0));
        assert_eq!(it.next(), ValueType::None);
        drop(it);
        drop(series);
        assert!(set.next_series().is_none());
        assert_eq!(q.label_values("job", &[]).unwrap(), ["a", "b"]);
        assert_eq!(q.label_names(&m).unwrap(), ["__name__", "job"]);
    }
}
