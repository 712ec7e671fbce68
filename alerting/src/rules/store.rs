//! Where rules read from and write to, and the in-memory implementation for tests.

use kagari_model::{Labels, Timestamp};
use kagari_promql::storage::{MemStorage, Queryable};

use super::{AppendError, Appender};

/// A storage rules can query and append to.
pub trait RuleStore {
    /// The read side.
    fn queryable(&self) -> &dyn Queryable;
    /// A new appender; samples become visible on commit.
    fn appender(&mut self) -> Box<dyn Appender + '_>;
}

/// Appends straight into a [`MemStorage`] (so out-of-order samples fail per sample);
/// commit is a no-op.
#[derive(Debug)]
pub struct MemAppender<'a> {
    storage: &'a mut MemStorage,
}

impl Appender for MemAppender<'_> {
    fn append(&mut self, labels: &Labels, t: Timestamp, v: f64) -> Result<(), AppendError> {
        Ok(self.storage.append(labels, t, v)?)
    }

    fn commit(self: Box<Self>) -> Result<(), AppendError> {
        Ok(())
    }
}

impl RuleStore for MemStorage {
    fn queryable(&self) -> &dyn Queryable {
        self
    }

    fn appender(&mut self) -> Box<dyn Appender + '_> {
        Box::new(MemAppender { storage: self })
    }
}
