//! The read-side storage interface the engine queries, and an in-memory implementation.
//!
//! `kagari-tsdb` implements [`Queryable`] for its head and blocks; the engine only ever sees
//! these traits (**API Boundary**: the engine never depends on a concrete storage type).
//!
//! Reading is pull-based: [`Queryable::querier`] opens a [`Querier`] over a time window,
//! [`Querier::select`] returns a [`SeriesSet`], each [`Series`] hands out a
//! [`SampleIterator`]. Iterators report a [`ValueType`] tag for each sample so native
//! histograms can be added later without changing the shape of the interface.

mod memory;

pub use memory::{MemStorage, MemStorageError};

use kagari_model::{Labels, Matcher, Timestamp};

use crate::engine::FPoint;

/// Errors a storage backend reports to the engine.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StorageError {
    /// The backend failed; `source` carries the backend-specific error.
    #[error("storage error: {source}")]
    Backend {
        /// The backend's own error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The series contains sample kinds the engine cannot handle yet.
    #[error("native histograms not supported")]
    NativeHistogramsNotSupported,
}

/// The kind of the sample an iterator is positioned on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueType {
    /// The iterator is exhausted (or failed: check [`SampleIterator::take_err`]).
    None,
    /// A float sample: read it with [`SampleIterator::at`].
    Float,
    /// A native histogram sample (not yet readable through this interface).
    Histogram,
    /// A float native histogram sample (not yet readable through this interface).
    FloatHistogram,
}

/// Hints the engine passes to [`Querier::select`]; a backend may use them to skip work but
/// must still return every sample in `[start, end]` for matching series.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SelectHints {
    /// Earliest timestamp the engine will read (inclusive, milliseconds).
    pub start: Timestamp,
    /// Latest timestamp the engine will read (inclusive, milliseconds).
    pub end: Timestamp,
    /// Query resolution step in milliseconds (0 for instant queries).
    pub step: i64,
    /// The function wrapping the selector, if any (e.g. `rate`).
    pub func: Option<String>,
    /// The range of a matrix selector in milliseconds (0 for instant selectors).
    pub range: i64,
}

/// Something that can open queriers over a time window (a database, a head block, a test
/// fixture).
pub trait Queryable: Send + Sync {
    /// Opens a querier that sees samples with timestamps in `[mint, maxt]`.
    fn querier(
        &self,
        mint: Timestamp,
        maxt: Timestamp,
    ) -> Result<Box<dyn Querier + '_>, StorageError>;
}

/// A read view over a fixed time window.
pub trait Querier {
    /// Returns the series matching all `matchers`; sorted by labels if `sorted` is true.
    fn select(
        &self,
        sorted: bool,
        hints: &SelectHints,
        matchers: &[Matcher],
    ) -> Result<Box<dyn SeriesSet + '_>, StorageError>;

    /// All label names present in the window, sorted and unique.
    fn label_names(&self, matchers: &[Matcher]) -> Result<Vec<String>, StorageError>;

    /// All values of label `name` on series matching `matchers`, sorted and unique.
    fn label_values(&self, name: &str, matchers: &[Matcher]) -> Result<Vec<String>, StorageError>;
}

/// A lazily produced set of series.
pub trait SeriesSet {
    /// The next series, or `None` at the end (then check [`SeriesSet::take_err`]).
    fn next_series(&mut self) -> Option<Box<dyn Series + '_>>;
    /// Takes the error that ended iteration early, if any.
    fn take_err(&mut self) -> Option<StorageError>;
}

/// One series: its labels and a way to iterate its samples.
pub trait Series {
    /// The series' labels.
    fn labels(&self) -> &Labels;

    /// An iterator over the series' samples in time order.
    ///
    /// **Buffer ownership:** a caller may pass back an iterator it no longer needs as `reuse`;
    /// the implementation may keep that iterator's allocations (decode buffers) and must reset
    /// all of its state. The returned iterator owns its buffers; nothing it returns borrows from
    /// `reuse`. Values read through [`SampleIterator::at`] are copies, valid forever.
    fn iterator<'a>(
        &'a self,
        reuse: Option<Box<dyn SampleIterator + 'a>>,
    ) -> Box<dyn SampleIterator + 'a>;
}

/// A forward-only cursor over one series' samples.
pub trait SampleIterator {
    /// Advances to the next sample and returns its kind ([`ValueType::None`] at the end).
    fn next(&mut self) -> ValueType;

    /// Advances to the first sample with timestamp `>= t` (never moves backwards: if the
    /// current sample already satisfies that, stays) and returns its kind.
    fn seek(&mut self, t: Timestamp) -> ValueType;

    /// The current float sample. Only meaningful after `next`/`seek` returned
    /// [`ValueType::Float`].
    fn at(&self) -> (Timestamp, f64);

    /// The timestamp of the current sample of any kind.
    fn at_t(&self) -> Timestamp;

    /// Takes the error that ended iteration, if any (call after [`ValueType::None`]).
    fn take_err(&mut self) -> Option<StorageError>;

    /// Bulk [`next`](Self::next): advances sample by sample, appending every float sample
    /// with a timestamp `<= maxt` to `out`, and stops on the first sample it does not append
    /// (a float after `maxt`, a histogram) or at the end. The iterator is left positioned on
    /// that sample, as if `next` had returned it, and its kind is returned.
    ///
    /// The default calls `next` and `at` per sample; backends override it to decode without
    /// a virtual call per sample. `out` is only appended to (its earlier contents are kept).
    fn next_floats(&mut self, maxt: Timestamp, out: &mut Vec<FPoint>) -> ValueType {
        loop {
            let vt = self.next();
            if vt != ValueType::Float {
                return vt;
            }
            let (t, f) = self.at();
            if t > maxt {
                return vt;
            }
            out.push(FPoint { t, f });
        }
    }
}
