//! Labelled families: one series per full set of label values.
//!
//! Series are keyed by their complete label values (compared for equality), never by a bare
//! hash. The map is split into shards, each a `parking_lot::RwLock<hashbrown::HashTable>`; the
//! hash of the `&[&str]` values is computed once and picks both the shard and the bucket, so
//! looking up an existing series takes a shared lock on one shard and allocates nothing.

use std::hash::BuildHasher;
use std::io;
use std::marker::PhantomData;
use std::sync::Arc;

use hashbrown::{DefaultHashBuilder, HashTable};
use kagari_exposition::MetricType;
use parking_lot::RwLock;

use crate::collector::{Metric, MetricWriter, Series, SeriesLabels};
use crate::{Error, LabelSet};

const SHARDS: usize = 16;

#[derive(Debug)]
struct Entry<M> {
    values: Box<[Box<str>]>,
    metric: M,
}

struct Inner<M> {
    names: Box<[Box<str>]>,
    shards: [RwLock<HashTable<Entry<M>>>; SHARDS],
    hasher: DefaultHashBuilder,
    make: Box<dyn Fn() -> M + Send + Sync>,
}

impl<M: std::fmt::Debug> std::fmt::Debug for Inner<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Family")
            .field("names", &self.names)
            .finish_non_exhaustive()
    }
}

/// A labelled family of series of type `M` (e.g. [`CounterVec`] = `Family<Counter>`).
///
/// Cloning gives another handle to the same family.
///
/// ```
/// use kagari_client::IntCounterVec;
/// let requests = IntCounterVec::new(&["method", "code"]).unwrap();
/// requests.with_label_values(&["GET", "200"]).unwrap().inc();
/// requests.with_label_values(&["GET", "200"]).unwrap().inc();
/// assert_eq!(requests.with_label_values(&["GET", "200"]).unwrap().get(), 2);
/// assert!(requests.with_label_values(&["GET"]).is_err()); // wrong number of values
/// ```
#[derive(Debug)]
pub struct Family<M: Series> {
    inner: Arc<Inner<M>>,
}

impl<M: Series> Clone for Family<M> {
    fn clone(&self) -> Self {
        Family {
            inner: self.inner.clone(),
        }
    }
}

/// A family of float counters.
pub type CounterVec = Family<crate::Counter>;
/// A family of integer counters.
pub type IntCounterVec = Family<crate::IntCounter>;
/// A family of float gauges.
pub type GaugeVec = Family<crate::Gauge>;
/// A family of integer gauges.
pub type IntGaugeVec = Family<crate::IntGauge>;
/// A family of histograms sharing bucket bounds.
pub type HistogramVec = Family<crate::Histogram>;
/// A family of summaries sharing options.
pub type SummaryVec = Family<crate::Summary>;

fn check_names(names: &[&str]) -> Result<Box<[Box<str>]>, Error> {
    for (i, n) in names.iter().enumerate() {
        if !kagari_model::is_valid_label_name(n) {
            return Err(Error::InvalidLabelName {
                metric: String::new(),
                label: (*n).to_owned(),
                reason: "does not match [a-zA-Z_][a-zA-Z0-9_]*",
            });
        }
        if n.starts_with("__") {
            return Err(Error::InvalidLabelName {
                metric: String::new(),
                label: (*n).to_owned(),
                reason: "names starting with __ are reserved",
            });
        }
        if names.iter().take(i).any(|m| m == n) {
            return Err(Error::DuplicateLabelName {
                metric: String::new(),
                label: (*n).to_owned(),
            });
        }
    }
    Ok(names.iter().map(|n| Box::<str>::from(*n)).collect())
}

impl<M: Series + Default> Family<M> {
    /// A family with the given label names whose series start as `M::default()`.
    pub fn new(label_names: &[&str]) -> Result<Self, Error> {
        Self::with_constructor(label_names, M::default)
    }
}

impl Family<crate::Histogram> {
    /// A histogram family whose series share the given bucket bounds.
    pub fn with_buckets(label_names: &[&str], buckets: Vec<f64>) -> Result<Self, Error> {
        let bounds = crate::histogram::validate_buckets(buckets)?;
        Self::with_constructor(label_names, move || {
            crate::Histogram::from_bounds(bounds.clone())
        })
    }
}

impl Family<crate::Summary> {
    /// A summary family whose series share the given options.
    pub fn with_opts(label_names: &[&str], opts: crate::SummaryOpts) -> Result<Self, Error> {
        crate::Summary::with_opts(opts.clone())?;
        Self::with_constructor(label_names, move || {
            crate::Summary::with_opts(opts.clone()).unwrap_or_default()
        })
    }
}

impl<M: Series> Family<M> {
    /// A family whose new series are made by `make` (e.g. histograms with custom buckets).
    pub fn with_constructor(
        label_names: &[&str],
        make: impl Fn() -> M + Send + Sync + 'static,
    ) -> Result<Self, Error> {
        if let Some(reserved) = M::RESERVED_LABEL {
            if label_names.contains(&reserved) {
                return Err(Error::InvalidLabelName {
                    metric: String::new(),
                    label: reserved.to_owned(),
                    reason: "reserved by this metric type",
                });
            }
        }
        Ok(Family {
            inner: Arc::new(Inner {
                names: check_names(label_names)?,
                shards: std::array::from_fn(|_| RwLock::new(HashTable::new())),
                hasher: DefaultHashBuilder::default(),
                make: Box::new(make),
            }),
        })
    }

    /// The declared label names.
    pub fn label_names(&self) -> impl Iterator<Item = &str> {
        self.inner.names.iter().map(|n| &**n)
    }

    #[inline]
    fn locate<S: AsRef<str>>(&self, values: &[S]) -> (u64, &RwLock<HashTable<Entry<M>>>) {
        // Hashing the values as a slice of `str` matches hashing the stored `[Box<str>]`.
        let hash = self.inner.hasher.hash_one(Strs(values));
        // Middle bits pick the shard: hashbrown uses the low bits and the top 7 inside a table.
        (
            hash,
            &self.inner.shards[(hash >> 40) as usize & (SHARDS - 1)],
        )
    }

    fn check_len(&self, got: usize) -> Result<(), Error> {
        let expected = self.inner.names.len();
        if got == expected {
            Ok(())
        } else {
            Err(Error::InconsistentCardinality { expected, got })
        }
    }

    /// The series for these label values (in declaration order), created on first use.
    ///
    /// Returns a cheap handle (an `Arc` clone); keep it to skip the lookup on hot paths.
    #[inline]
    pub fn with_label_values<S: AsRef<str>>(&self, values: &[S]) -> Result<M, Error> {
        self.check_len(values.len())?;
        let (hash, lock) = self.locate(values);
        if let Some(e) = lock.read().find(hash, |e| eq(&e.values, values)) {
            return Ok(e.metric.clone());
        }
        let mut table = lock.write();
        if let Some(e) = table.find(hash, |e| eq(&e.values, values)) {
            return Ok(e.metric.clone());
        }
        let metric = (self.inner.make)();
        let entry = Entry {
            values: values
                .iter()
                .map(|v| Box::<str>::from(v.as_ref()))
                .collect(),
            metric: metric.clone(),
        };
        let hasher = &self.inner.hasher;
        table.insert_unique(hash, entry, |e| hasher.hash_one(Strs(&e.values)));
        Ok(metric)
    }

    /// The series for a typed label set (names are checked against the family's).
    pub fn with_labels<L: LabelSet>(&self, labels: &L) -> Result<M, Error> {
        self.check_label_set::<L>()?;
        self.with_label_values(labels.label_values().as_ref())
    }

    /// A view that takes typed label sets and cannot fail (names checked once, here).
    pub fn typed<L: LabelSet>(&self) -> Result<TypedFamily<L, M>, Error> {
        self.check_label_set::<L>()?;
        Ok(TypedFamily {
            family: self.clone(),
            _labels: PhantomData,
        })
    }

    fn check_label_set<L: LabelSet>(&self) -> Result<(), Error> {
        let ours = &self.inner.names;
        if ours.len() == L::NAMES.len() && ours.iter().zip(L::NAMES).all(|(a, b)| **a == **b) {
            Ok(())
        } else {
            Err(Error::LabelNamesMismatch {
                expected: ours.iter().map(|n| n.to_string()).collect(),
                got: L::NAMES.iter().map(|n| (*n).to_owned()).collect(),
            })
        }
    }

    /// Whether a series with these label values exists.
    pub fn contains<S: AsRef<str>>(&self, values: &[S]) -> bool {
        if values.len() != self.inner.names.len() {
            return false;
        }
        let (hash, lock) = self.locate(values);
        let found = lock.read().find(hash, |e| eq(&e.values, values)).is_some();
        found
    }

    /// Removes the series with these label values; returns whether it existed.
    pub fn remove<S: AsRef<str>>(&self, values: &[S]) -> Result<bool, Error> {
        self.check_len(values.len())?;
        let (hash, lock) = self.locate(values);
        let mut table = lock.write();
        match table.find_entry(hash, |e| eq(&e.values, values)) {
            Ok(occupied) => {
                occupied.remove();
                Ok(true)
            }
            Err(_) => Ok(false),
        }
    }

    /// Removes every series.
    pub fn reset(&self) {
        for shard in self.inner.shards.iter() {
            shard.write().clear();
        }
    }

    /// Number of series.
    pub fn len(&self) -> usize {
        self.inner.shards.iter().map(|s| s.read().len()).sum()
    }

    /// Whether the family has no series.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[inline]
fn eq<S: AsRef<str>>(stored: &[Box<str>], values: &[S]) -> bool {
    stored.len() == values.len() && stored.iter().zip(values).all(|(a, b)| **a == *b.as_ref())
}

/// Hashes a slice of string-likes exactly like `[Box<str>]` / `[&str]` hash.
struct Strs<'a, S>(&'a [S]);

impl<S: AsRef<str>> std::hash::Hash for Strs<'_, S> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_usize(self.0.len());
        for s in self.0 {
            s.as_ref().hash(state);
        }
    }
}

impl<M: Series> Metric for Family<M> {
    fn metric_type(&self) -> MetricType {
        M::TYPE
    }

    fn label_names(&self) -> &[Box<str>] {
        &self.inner.names
    }

    fn reserved_label(&self) -> Option<&'static str> {
        M::RESERVED_LABEL
    }

    fn encode_samples(&self, w: &mut MetricWriter<'_>) -> io::Result<()> {
        for shard in self.inner.shards.iter() {
            let table = shard.read();
            for e in table.iter() {
                e.metric
                    .encode_series(w, SeriesLabels::new(&self.inner.names, &e.values))?;
            }
        }
        Ok(())
    }
}

/// A family addressed by a typed label set `L`; see [`Family::typed`].
#[derive(Debug)]
pub struct TypedFamily<L: LabelSet, M: Series> {
    family: Family<M>,
    _labels: PhantomData<fn(&L)>,
}

impl<L: LabelSet, M: Series> Clone for TypedFamily<L, M> {
    fn clone(&self) -> Self {
        TypedFamily {
            family: self.family.clone(),
            _labels: PhantomData,
        }
    }
}

impl<L: LabelSet, M: Series> TypedFamily<L, M> {
    /// The series for `labels`, created on first use.
    pub fn get(&self, labels: &L) -> M {
        let values = labels.label_values();
        let values = values.as_ref();
        // The length always matches: `L::NAMES` was compared with the family's names.
        self.family
            .with_label_values(values)
            .unwrap_or_else(|_| (self.family.inner.make)())
    }

    /// Removes the series for `labels`; returns whether it existed.
    pub fn remove(&self, labels: &L) -> bool {
        self.family
            .remove(labels.label_values().as_ref())
            .unwrap_or(false)
    }

    /// The untyped family.
    pub fn family(&self) -> &Family<M> {
        &self.family
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Counter, Histogram, IntCounter};

    #[test]
    fn same_values_same_series_different_values_different_series() {
        let f = Family::<IntCounter>::new(&["a", "b"]).unwrap();
        f.with_label_values(&["x", "y"]).unwrap().inc();
        f.with_label_values(&["x", "y"]).unwrap().inc();
        f.with_label_values(&["xy", ""]).unwrap().inc();
        f.with_label_values(&[String::from("y"), String::from("x")])
            .unwrap()
            .inc();
        assert_eq!(f.len(), 3);
        assert_eq!(f.with_label_values(&["x", "y"]).unwrap().get(), 2);
        assert_eq!(f.with_label_values(&["xy", ""]).unwrap().get(), 1);
    }

    #[test]
    fn cardinality_and_name_errors() {
        let f = Family::<Counter>::new(&["a"]).unwrap();
        assert!(matches!(
            f.with_label_values(&["1", "2"]),
            Err(Error::InconsistentCardinality {
                expected: 1,
                got: 2
            })
        ));
        assert!(Family::<Counter>::new(&["a", "a"]).is_err());
        assert!(Family::<Counter>::new(&["__a"]).is_err());
        assert!(Family::<Counter>::new(&["a-b"]).is_err());
        assert!(Family::<Histogram>::new(&["le"]).is_err());
        assert!(Family::<crate::Summary>::new(&["quantile"]).is_err());
        assert!(Family::<Histogram>::with_buckets(&["x"], vec![3.0, 1.0]).is_err());
    }

    #[test]
    fn remove_and_reset() {
        let f = Family::<IntCounter>::new(&["a"]).unwrap();
        f.with_label_values(&["1"]).unwrap().inc();
        f.with_label_values(&["2"]).unwrap().inc();
        assert!(f.contains(&["1"]));
        assert!(f.remove(&["1"]).unwrap());
        assert!(!f.remove(&["1"]).unwrap());
        assert!(!f.contains(&["1"]));
        assert_eq!(f.len(), 1);
        f.reset();
        assert!(f.is_empty());
        // A removed series starts again from zero.
        assert_eq!(f.with_label_values(&["2"]).unwrap().get(), 0);
    }

    #[test]
    fn many_series_spread_over_shards() {
        let f = Family::<IntCounter>::new(&["i"]).unwrap();
        for i in 0..1000 {
            f.with_label_values(&[i.to_string()]).unwrap().inc_by(i);
        }
        assert_eq!(f.len(), 1000);
        for i in (0..1000).step_by(37) {
            assert_eq!(f.with_label_values(&[i.to_string()]).unwrap().get(), i);
        }
        let used = f
            .inner
            .shards
            .iter()
            .filter(|s| !s.read().is_empty())
            .count();
        assert!(used > 8, "only {used} shards used");
    }

    crate::label_set! {
        /// Labels of an HTTP request.
        struct Req { method: &'static str, code: String }
    }

    crate::label_set! {
        struct Other { code: String, method: &'static str }
    }

    #[test]
    fn typed_labels() {
        let f = Family::<IntCounter>::new(&["method", "code"]).unwrap();
        let t = f.typed::<Req>().unwrap();
        let r = Req {
            method: "GET",
            code: "200".into(),
        };
        t.get(&r).inc();
        assert_eq!(f.with_label_values(&["GET", "200"]).unwrap().get(), 1);
        assert_eq!(f.with_labels(&r).unwrap().get(), 1);
        assert!(f.typed::<Other>().is_err());
        assert!(f
            .with_labels(&Other {
                code: "1".into(),
                method: "x"
            })
            .is_err());
        assert!(t.remove(&r));
        assert!(f.is_empty());
    }
}
