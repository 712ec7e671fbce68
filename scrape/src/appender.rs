//! The storage seam: [`Appendable`] hands out [`Appender`] transactions.
//!
//! Storage (kagari-tsdb, or a test double) implements these; the scrape loop opens one
//! appender per scrape, appends every sample, then commits or rolls back.

use kagari_model::Labels;

/// An opaque per-series handle returned by [`Appender::append`]; pass it back on later
/// appends of the same series to skip the label lookup. Storage defines its meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SeriesRef(pub u64);

/// Why storage refused a sample or a transaction.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AppendError {
    /// The sample is older than the newest sample of its series.
    #[error("out of order sample")]
    OutOfOrder,
    /// The sample is outside the time range storage accepts.
    #[error("out of bounds")]
    OutOfBounds,
    /// Same timestamp as the last sample, different value.
    #[error("duplicate sample for timestamp")]
    Duplicate,
    /// Anything else (I/O, a closed database, …).
    #[error("storage: {0}")]
    Storage(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl AppendError {
    /// Whether only this sample is rejected (the scrape goes on), as Prometheus treats
    /// out-of-order, out-of-bounds and duplicate samples.
    pub fn is_sample_error(&self) -> bool {
        matches!(
            self,
            AppendError::OutOfOrder | AppendError::OutOfBounds | AppendError::Duplicate
        )
    }
}

/// One append transaction. Nothing is visible to readers before [`commit`](Self::commit).
///
/// `labels` is only borrowed for the call; storage clones it (an `Arc` increment) if it
/// keeps it. `sref`, when `Some`, was returned by an earlier `append` for the same labels
/// and may be trusted instead of `labels`.
pub trait Appender: Send {
    /// Appends `(t, v)` to the series `labels`; returns the series' reference.
    fn append(
        &mut self,
        sref: Option<SeriesRef>,
        labels: &Labels,
        t: i64,
        v: f64,
    ) -> Result<SeriesRef, AppendError>;
    /// Makes everything appended visible.
    fn commit(self: Box<Self>) -> Result<(), AppendError>;
    /// Discards everything appended.
    fn rollback(self: Box<Self>) -> Result<(), AppendError>;
}

/// A factory of appenders, shared by all scrape loops.
pub trait Appendable: Send + Sync {
    /// A new transaction.
    fn appender(&self) -> Box<dyn Appender>;
}
