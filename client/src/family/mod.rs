//! Labelled families: one series per full set of label values.
//!
//! Series are keyed by their complete label values (compared for equality), never by a bare
//! hash. The map is split into shards, each a `parking_lot::RwLock<hashbrown::HashTable>`; the
//! hash of the `&[&str]` values is computed once and picks both the shard and the bucket.
//!
//! In front of the map sit, per thread, a small cache of recently used series ([`cache`]) and
//! the family's shared read-only [`snapshot`] the thread last took: values that pack into a
//! [`Key`] (up to 8 values and 56 bytes of words, see [`key`]) are looked up there first,
//! which takes no lock and writes no shared memory. Only a series missing from both (created
//! since the snapshot, or values that do not fit a key) takes a shared lock on one shard;
//! no path allocates for an existing series.
//!
//! Lookups of up to 4 values get code unrolled for their count ([`Key::short`], then
//! [`Key::medium`]); with a literal array of values only one count's code remains inlined at
//! the call site.

mod cache;
mod encode;
mod key;
mod snapshot;
mod typed;

pub use self::typed::TypedFamily;

use std::cell::{Ref, RefCell};
use std::hash::BuildHasher;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use hashbrown::{DefaultHashBuilder, HashTable};
use parking_lot::{Mutex, RwLock};

use self::cache::{Caches, ThreadCache};
use self::key::{hash_values, word, Key, Packed, Seed};
use self::snapshot::Snapshot;
use crate::collector::Series;
use crate::render::{render_labels, Rendered};
use crate::{Error, LabelSet};

const SHARDS: usize = 16;
/// Series touched ahead of encoding them (see `encode_samples`).
const ENCODE_BATCH: usize = 64;

#[derive(Debug)]
struct Entry<M> {
    /// [`hash_values`] of `values`, kept for rehashing.
    hash: u64,
    /// `values` packed, or [`Key::NONE`] if they do not fit.
    key: Key,
    values: Box<[Box<str>]>,
    /// The labels rendered once for encoding.
    rendered: Option<Rendered>,
    metric: M,
}

struct Inner<M: Send + Sync> {
    names: Box<[Box<str>]>,
    shards: [RwLock<HashTable<Entry<M>>>; SHARDS],
    /// Per-family random secrets of the hash (from hashbrown's randomly keyed builder).
    seed: Seed,
    /// Bumped (under the shard lock) whenever series are removed: thread caches filled
    /// before then are stale.
    generation: AtomicU64,
    /// Series whose values fit a [`Key`] (those a snapshot holds).
    keyed: AtomicUsize,
    caches: Caches<M>,
    /// The latest snapshot any thread took.
    latest: Mutex<Option<Arc<Snapshot<M>>>>,
    make: Box<dyn Fn() -> M + Send + Sync>,
    /// Tests force every hash to one value to check that colliding series stay apart.
    #[cfg(test)]
    constant_hash: bool,
}

impl<M: Send + Sync + std::fmt::Debug> std::fmt::Debug for Inner<M> {
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
                seed: Seed::new(DefaultHashBuilder::default().hash_one(0x00C0_FFEE_u64)),
                generation: AtomicU64::new(0),
                keyed: AtomicUsize::new(0),
                caches: Caches::new(),
                latest: Mutex::new(None),
                make: Box::new(make),
                #[cfg(test)]
                constant_hash: false,
            }),
        })
    }

    /// The declared label names.
    pub fn label_names(&self) -> impl Iterator<Item = &str> {
        self.inner.names.iter().map(|n| &**n)
    }

    /// The hash of `values` (what the table and the shard choice use).
    #[inline]
    fn hash<S: AsRef<str>>(&self, values: &[S]) -> u64 {
        #[cfg(test)]
        if self.inner.constant_hash {
            return 42;
        }
        hash_values(&self.inner.seed, values)
    }

    /// The hash of values already packed into `key` (equal to [`Self::hash`] of them).
    #[inline]
    fn key_hash(&self, key: &Packed) -> u64 {
        #[cfg(test)]
        if self.inner.constant_hash {
            return 42;
        }
        key.hash(&self.inner.seed)
    }

    #[inline]
    fn shard(&self, hash: u64) -> &RwLock<HashTable<Entry<M>>> {
        // Middle bits pick the shard: hashbrown uses the low bits and the top 7 inside a table,
        // the thread cache bits 32..36.
        &self.inner.shards[(hash >> 40) as usize & (SHARDS - 1)]
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
        self.lookup(values, |found| match found {
            Found::Cached(m) => m.clone(),
            Found::Owned(m) => m,
        })
    }

    /// Runs `f` on the series for these label values (created on first use) without cloning
    /// its handle (saves the two atomic reference-count updates of [`Self::with_label_values`]).
    ///
    /// No lock is held while `f` runs: it may use this family too.
    ///
    /// ```
    /// use kagari_client::IntCounterVec;
    /// let requests = IntCounterVec::new(&["method", "code"]).unwrap();
    /// requests.with_series(&["GET", "200"], |c| c.inc()).unwrap();
    /// let now = requests.with_series(&["GET", "200"], |c| { c.inc(); c.get() }).unwrap();
    /// assert_eq!(now, 2);
    /// assert!(requests.with_series(&["GET"], |c| c.inc()).is_err());
    /// ```
    #[inline]
    pub fn with_series<S: AsRef<str>, R>(
        &self,
        values: &[S],
        f: impl FnOnce(&M) -> R,
    ) -> Result<R, Error> {
        self.lookup(values, |found| match found {
            Found::Cached(m) => f(m),
            Found::Owned(m) => f(&m),
        })
    }

    /// Finds (or creates) the series: in this thread's cache, else in the map.
    #[inline(always)]
    fn lookup<S: AsRef<str>, R>(
        &self,
        values: &[S],
        f: impl FnOnce(Found<'_, M>) -> R,
    ) -> Result<R, Error> {
        self.check_len(values.len())?;
        // Up to 4 values get a probe unrolled for their count (with a literal array of values
        // the count is known at compile time and only that arm remains).
        Ok(match values {
            [a] => self.probe(Key::short([a]), false, values, f),
            [a, b] => self.probe(Key::short([a, b]), false, values, f),
            [a, b, c] => self.probe(Key::short([a, b, c]), false, values, f),
            [a, b, c, d] => self.probe(Key::short([a, b, c, d]), false, values, f),
            _ => self.probe_long(values, f),
        })
    }

    /// Looks `key` (the packed `values`) up in this thread's cache, else in the map; a `None`
    /// key (values too long for [`Key::short`]) goes to [`Self::probe_long`]. A miss packs
    /// the values again unless `pass_key` (so that a short key stays in registers).
    #[inline(always)]
    fn probe<S: AsRef<str>, R>(
        &self,
        key: Option<Packed>,
        pass_key: bool,
        values: &[S],
        f: impl FnOnce(Found<'_, M>) -> R,
    ) -> R {
        let Some(key) = key else {
            return self.probe_long(values, f);
        };
        let cell = self.inner.caches.get();
        if let Some(cache) = cell.and_then(|c| c.try_borrow().ok()) {
            let generation = self.inner.generation.load(Ordering::Relaxed);
            // Long keys (already in memory): while the slots are cold, straight to the
            // snapshot under the same borrow.
            let found = if pass_key {
                Ref::filter_map(cache, |c| self.cold_from_snapshot(c, &key, generation))
            } else {
                Ref::filter_map(cache, |c| c.get(&key, generation))
            };
            if let Ok(metric) = found {
                return f(Found::Cached(&metric));
            }
            // The shared borrow ends here: the miss may fill the cache.
        }
        self.miss(cell, pass_key.then_some(&key), values, f)
    }

    /// [`Self::probe`] for values too long for [`Key::short`]: [`Key::medium`] keys get a
    /// probe unrolled for their count too.
    #[inline(never)]
    fn probe_long<S: AsRef<str>, R>(&self, values: &[S], f: impl FnOnce(Found<'_, M>) -> R) -> R {
        match values {
            [a] => self.probe_medium(Key::medium([a]), values, f),
            [a, b] => self.probe_medium(Key::medium([a, b]), values, f),
            [a, b, c] => self.probe_medium(Key::medium([a, b, c]), values, f),
            _ => self.probe_packed(values, f),
        }
    }

    /// [`Self::probe`] of a [`Key::medium`] key, else [`Self::probe_packed`].
    #[inline(always)]
    fn probe_medium<S: AsRef<str>, R>(
        &self,
        key: Option<Packed>,
        values: &[S],
        f: impl FnOnce(Found<'_, M>) -> R,
    ) -> R {
        match key {
            Some(key) => self.probe(Some(key), true, values, f),
            None => self.probe_packed(values, f),
        }
    }

    /// [`Self::probe`] for values that need [`Key::packed`] (or do not fit a key at all).
    #[inline(never)]
    fn probe_packed<S: AsRef<str>, R>(&self, values: &[S], f: impl FnOnce(Found<'_, M>) -> R) -> R {
        match Key::packed(values) {
            Some(key) => self.probe(Some(key), true, values, f),
            None => f(Found::Owned(self.uncached(values))),
        }
    }

    /// A handle from the map for values that do not fit a [`Key`] (never cached).
    #[inline(never)]
    fn uncached<S: AsRef<str>>(&self, values: &[S]) -> M {
        self.get_or_create(self.hash(values), None, values).0
    }

    /// The series of `key` from the slots, or while they are cold (they would take no series)
    /// from this thread's snapshot.
    #[inline(never)]
    fn cold_from_snapshot<'c>(
        &self,
        cache: &'c ThreadCache<M>,
        key: &Packed,
        generation: u64,
    ) -> Option<&'c M> {
        if cache.cold_miss() {
            cache.snapshot_get(self.key_hash(key), key, generation)
        } else {
            cache.get(key, generation)
        }
    }

    /// The thread cache's slots missed: the series from this thread's snapshot, else from the
    /// shards (then the snapshot may be refreshed). `key` is the packed `values`, or `None` to
    /// pack them here.
    #[inline(never)]
    fn miss<S: AsRef<str>, R>(
        &self,
        cell: Option<&RefCell<ThreadCache<M>>>,
        key: Option<&Packed>,
        values: &[S],
        f: impl FnOnce(Found<'_, M>) -> R,
    ) -> R {
        let packed;
        let key = match key {
            Some(k) => k,
            None => match Key::pack(values) {
                Some(k) => {
                    packed = k;
                    &packed
                }
                None => return f(Found::Owned(self.uncached(values))),
            },
        };
        let hash = self.key_hash(key);
        let generation = self.inner.generation.load(Ordering::Relaxed);
        let cell = cell.unwrap_or_else(|| {
            self.inner
                .caches
                .get_or(|| RefCell::new(ThreadCache::new(generation)))
        });
        // The snapshot, under a shared borrow (`f` may use this family too: then its misses
        // find the cache busy and leave it alone).
        if let Ok(cache) = cell.try_borrow() {
            if let Some(metric) = cache.snapshot_get(hash, key, generation) {
                if !cache.wants(key, generation) {
                    return f(Found::Cached(metric));
                }
                let metric = metric.clone();
                drop(cache);
                if let Ok(mut cache) = cell.try_borrow_mut() {
                    cache.fill(key, generation, metric.clone());
                }
                return f(Found::Owned(metric));
            }
        }
        let (metric, generation) = self.get_or_create(hash, Some(key), values);
        // Busy only while `f` of an outer call on this thread runs: then skip the cache.
        if let Ok(mut cache) = cell.try_borrow_mut() {
            if cache.wants(key, generation) {
                cache.fill(key, generation, metric.clone());
            }
            if cache.snapshot_missed() {
                self.refresh_snapshot(&mut cache);
            }
        }
        f(Found::Owned(metric))
    }

    /// Gives `cache` the family's latest snapshot, first building a new one unless the latest
    /// is current and complete.
    #[cold]
    fn refresh_snapshot(&self, cache: &mut ThreadCache<M>) {
        let generation = self.inner.generation.load(Ordering::Relaxed);
        let keyed = self.inner.keyed.load(Ordering::Relaxed);
        let mut latest = self.inner.latest.lock();
        let snapshot = match &*latest {
            Some(s) if s.generation() == generation && s.len() >= keyed => s.clone(),
            _ => {
                let s = Arc::new(self.build_snapshot());
                *latest = Some(s.clone());
                s
            }
        };
        drop(latest);
        cache.set_snapshot(snapshot);
    }

    /// A snapshot of every keyed series, at the generation read before copying any shard (a
    /// removal after that read bumps the generation, so a series removed while copying never
    /// sits in a current snapshot).
    fn build_snapshot(&self) -> Snapshot<M> {
        let generation = self.inner.generation.load(Ordering::Relaxed);
        let keyed = self.inner.keyed.load(Ordering::Relaxed);
        let mut snapshot = Snapshot::new(generation, keyed);
        for shard in self.inner.shards.iter() {
            for e in shard.read().iter().filter(|e| e.key != Key::NONE) {
                snapshot.insert(e.hash, e.key, e.metric.clone());
            }
        }
        snapshot
    }

    /// A handle to the series for `values` (packed into `key`, `None` if they do not fit one),
    /// created if missing, and the family generation it was found in (read under the shard
    /// lock).
    fn get_or_create<S: AsRef<str>>(
        &self,
        hash: u64,
        key: Option<&Packed>,
        values: &[S],
    ) -> (M, u64) {
        let lock = self.shard(hash);
        let generation = || self.inner.generation.load(Ordering::Relaxed);
        {
            let table = lock.read();
            if let Some(e) = table.find(hash, |e| e.is(key, values)) {
                return (e.metric.clone(), generation());
            }
        }
        let mut table = lock.write();
        if let Some(e) = table.find(hash, |e| e.is(key, values)) {
            return (e.metric.clone(), generation());
        }
        let metric = (self.inner.make)();
        let entry = Entry {
            hash,
            key: key.map_or(Key::NONE, |k| k.key),
            values: values
                .iter()
                .map(|v| Box::<str>::from(v.as_ref()))
                .collect(),
            rendered: render_labels(&self.inner.names, values),
            metric: metric.clone(),
        };
        table.insert_unique(hash, entry, |e| e.hash);
        if key.is_some() {
            self.inner.keyed.fetch_add(1, Ordering::Relaxed);
        }
        (metric, generation())
    }

    /// The hash and key of `values` (`None` if they do not fit one).
    fn hash_and_key<S: AsRef<str>>(&self, values: &[S]) -> (u64, Option<Packed>) {
        match Key::pack(values) {
            Some(p) => (self.key_hash(&p), Some(p)),
            None => (self.hash(values), None),
        }
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
        let (hash, key) = self.hash_and_key(values);
        let found = self
            .shard(hash)
            .read()
            .find(hash, |e| e.is(key.as_ref(), values))
            .is_some();
        found
    }

    /// Removes the series with these label values; returns whether it existed.
    pub fn remove<S: AsRef<str>>(&self, values: &[S]) -> Result<bool, Error> {
        self.check_len(values.len())?;
        let (hash, key) = self.hash_and_key(values);
        let mut table = self.shard(hash).write();
        match table.find_entry(hash, |e| e.is(key.as_ref(), values)) {
            Ok(occupied) => {
                if occupied.remove().0.key != Key::NONE {
                    self.inner.keyed.fetch_sub(1, Ordering::Relaxed);
                }
                self.inner.generation.fetch_add(1, Ordering::Relaxed);
                Ok(true)
            }
            Err(_) => Ok(false),
        }
    }

    /// Removes every series.
    pub fn reset(&self) {
        for shard in self.inner.shards.iter() {
            let mut table = shard.write();
            let keyed = table.iter().filter(|e| e.key != Key::NONE).count();
            table.clear();
            self.inner.keyed.fetch_sub(keyed, Ordering::Relaxed);
        }
        self.inner.generation.fetch_add(1, Ordering::Relaxed);
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

impl<M> Entry<M> {
    /// Whether this is the entry of `values`, packed into `key` (`None` if they do not fit
    /// one: then the entry's key is [`Key::NONE`] too, and the values are compared).
    #[inline]
    fn is<S: AsRef<str>>(&self, key: Option<&Packed>, values: &[S]) -> bool {
        match key {
            Some(k) => k.key == self.key,
            None => self.key == Key::NONE && eq(&self.values, values),
        }
    }
}

#[inline]
fn eq<S: AsRef<str>>(stored: &[Box<str>], values: &[S]) -> bool {
    stored.len() == values.len()
        && stored
            .iter()
            .zip(values)
            .all(|(a, b)| same_bytes(a.as_bytes(), b.as_ref().as_bytes()))
}

/// Byte equality that stays inline (no `memcmp` call) for values of up to 16 bytes.
#[inline]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    if a.len() > 16 {
        return a == b;
    }
    let (a0, a1) = a.split_at(a.len().min(8));
    let (b0, b1) = b.split_at(b.len().min(8));
    word(a0) == word(b0) && word(a1) == word(b1)
}

/// A series found by a lookup: borrowed from the thread cache, or a handle from the map.
enum Found<'a, M> {
    Cached(&'a M),
    Owned(M),
}

#[cfg(test)]
mod tests;
