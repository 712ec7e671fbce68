//! The one place storage is wired: a [`kagari_tsdb::Db`] behind kagari-scrape's
//! [`Appendable`]/[`Appender`] seam (queries use the `Db` directly through the `promql`
//! feature's `Queryable` implementation).
//!
//! The TSDB's `HeadAppender` borrows the `Db`, while the scrape loop needs an owned
//! `Box<dyn Appender>`; [`DbAppender`] therefore buffers a scrape's samples (a label `Arc`
//! clone each, no allocation per sample beyond the buffer's growth) and replays them into one
//! `HeadAppender` transaction on commit. Per-sample rejections (out of order, duplicate, out
//! of bounds) are counted and skipped, as Prometheus does.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use kagari_model::Labels;
use kagari_scrape::{AppendError, Appendable, Appender, SeriesRef};
use kagari_tsdb::{Db, Error as TsdbError};

/// Returned for series that do not exist yet: the scrape loop caches it and passes it back,
/// and it is then resolved by labels.
const UNRESOLVED: u64 = u64::MAX;

/// Counters of the append path, for `/metrics`.
#[derive(Debug, Default)]
pub(crate) struct AppendStats {
    /// Samples committed.
    pub(crate) appended: AtomicU64,
    /// Samples rejected one by one (out of order, duplicate, out of bounds).
    pub(crate) rejected: AtomicU64,
    /// Failed commits.
    pub(crate) failed_commits: AtomicU64,
}

/// A [`Db`] as scrape's [`Appendable`].
#[derive(Debug, Clone)]
pub(crate) struct DbAppendable {
    db: Arc<Db>,
    stats: Arc<AppendStats>,
}

impl DbAppendable {
    /// Wraps `db`.
    pub(crate) fn new(db: Arc<Db>) -> Self {
        DbAppendable {
            db,
            stats: Arc::default(),
        }
    }

    /// The append counters.
    pub(crate) fn stats(&self) -> &Arc<AppendStats> {
        &self.stats
    }
}

impl Appendable for DbAppendable {
    fn appender(&self) -> Box<dyn Appender> {
        Box::new(DbAppender {
            db: self.db.clone(),
            stats: self.stats.clone(),
            pending: Vec::new(),
        })
    }
}

struct Pending {
    sref: Option<u64>,
    labels: Labels,
    t: i64,
    v: f64,
}

/// One buffered transaction; see the module docs.
struct DbAppender {
    db: Arc<Db>,
    stats: Arc<AppendStats>,
    pending: Vec<Pending>,
}

impl Appender for DbAppender {
    fn append(
        &mut self,
        sref: Option<SeriesRef>,
        labels: &Labels,
        t: i64,
        v: f64,
    ) -> Result<SeriesRef, AppendError> {
        if labels.is_empty() {
            return Err(AppendError::Storage(
                "series with an empty label set".into(),
            ));
        }
        let known = sref
            .map(|r| r.0)
            .filter(|r| *r != UNRESOLVED)
            .or_else(|| self.db.head().series_ref(labels));
        self.pending.push(Pending {
            sref: known,
            labels: labels.clone(),
            t,
            v,
        });
        Ok(SeriesRef(known.unwrap_or(UNRESOLVED)))
    }

    fn commit(self: Box<Self>) -> Result<(), AppendError> {
        let mut app = self.db.appender();
        let mut rejected = 0u64;
        for p in &self.pending {
            match app.append(p.sref, &p.labels, p.t, p.v) {
                Ok(_) => {}
                Err(
                    TsdbError::OutOfOrderSample { .. }
                    | TsdbError::DuplicateSampleForTimestamp { .. }
                    | TsdbError::OutOfBounds { .. },
                ) => rejected += 1,
                Err(e) => {
                    self.stats.failed_commits.fetch_add(1, Ordering::Relaxed);
                    app.rollback();
                    return Err(AppendError::Storage(Box::new(e)));
                }
            }
        }
        let n = app.len() as u64;
        self.stats.rejected.fetch_add(rejected, Ordering::Relaxed);
        app.commit().map_err(|e| {
            self.stats.failed_commits.fetch_add(1, Ordering::Relaxed);
            AppendError::Storage(Box::new(e))
        })?;
        self.stats.appended.fetch_add(n, Ordering::Relaxed);
        Ok(())
    }

    fn rollback(self: Box<Self>) -> Result<(), AppendError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kagari_model::{MatchType, Matcher};
    use kagari_tsdb::Options;

    #[test]
    fn buffered_appends_land_in_the_db_on_commit_only() {
        let dir = tempfile::tempdir().unwrap();
        let db = Arc::new(Db::open(dir.path(), Options::default()).unwrap());
        let a = DbAppendable::new(db.clone());
        let up = Labels::from_pairs([("__name__", "up"), ("job", "x")]).unwrap();

        let mut app = a.appender();
        let r = app.append(None, &up, 1_000, 1.0).unwrap();
        assert_eq!(r, SeriesRef(UNRESOLVED));
        app.rollback().unwrap();
        assert_eq!(db.head().num_series(), 0);

        let mut app = a.appender();
        app.append(Some(r), &up, 1_000, 1.0).unwrap();
        app.commit().unwrap();
        let mut app = a.appender();
        let r2 = app.append(Some(r), &up, 2_000, 0.0).unwrap();
        assert_ne!(r2, SeriesRef(UNRESOLVED));
        app.append(Some(r2), &up, 500, 7.0).unwrap(); // out of order: skipped at commit
        app.commit().unwrap();

        let m = Matcher::new(MatchType::Equal, "job", "x").unwrap();
        let s = db.querier(0, 10_000).select(&[m]).unwrap();
        assert_eq!(s[0].samples().unwrap(), vec![(1_000, 1.0), (2_000, 0.0)]);
        assert_eq!(a.stats().appended.load(Ordering::Relaxed), 2);
        assert_eq!(a.stats().rejected.load(Ordering::Relaxed), 1);
    }
}
