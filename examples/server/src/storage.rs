//! The one place storage is wired: a [`kagari_tsdb::Db`] behind kagari-scrape's
//! [`Appendable`]/[`Appender`] seam (queries use the `Db` directly through the `promql`
//! feature's `Queryable` implementation).
//!
//! Each scrape transaction is a [`kagari_tsdb::OwnedAppender`] (an owned head transaction):
//! samples go straight into it, and the series refs it returns are what the scrape cache
//! keeps, so a steady-state scrape appends by ref. Per-sample rejections (out of order,
//! duplicate, out of bounds) are counted and reported to the scrape loop as such, which
//! skips the sample, as Prometheus does.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use kagari_model::Labels;
use kagari_scrape::{AppendError, Appendable, Appender, SeriesRef};
use kagari_tsdb::{Db, Error as TsdbError, OwnedAppender};

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
            app: self.db.appender_owned(),
            stats: self.stats.clone(),
            rejected: 0,
        })
    }
}

/// One head transaction; see the module docs.
struct DbAppender {
    app: OwnedAppender,
    stats: Arc<AppendStats>,
    rejected: u64,
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
        let err = match self.app.append(sref.map(|r| r.0), labels, t, v) {
            Ok(r) => return Ok(SeriesRef(r)),
            Err(TsdbError::OutOfOrderSample { .. }) => AppendError::OutOfOrder,
            Err(TsdbError::DuplicateSampleForTimestamp { .. }) => AppendError::Duplicate,
            Err(TsdbError::OutOfBounds { .. }) => AppendError::OutOfBounds,
            Err(e) => return Err(AppendError::Storage(Box::new(e))),
        };
        self.rejected += 1;
        Err(err)
    }

    fn commit(self: Box<Self>) -> Result<(), AppendError> {
        let DbAppender {
            app,
            stats,
            rejected,
        } = *self;
        let n = app.len() as u64;
        stats.rejected.fetch_add(rejected, Ordering::Relaxed);
        app.commit().map_err(|e| {
            stats.failed_commits.fetch_add(1, Ordering::Relaxed);
            AppendError::Storage(Box::new(e))
        })?;
        stats.appended.fetch_add(n, Ordering::Relaxed);
        Ok(())
    }

    fn rollback(self: Box<Self>) -> Result<(), AppendError> {
        self.app.rollback();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kagari_model::{MatchType, Matcher};
    use kagari_tsdb::Options;

    #[test]
    fn appends_land_in_the_db_on_commit_only() {
        let dir = tempfile::tempdir().unwrap();
        let db = Arc::new(Db::open(dir.path(), Options::default()).unwrap());
        let a = DbAppendable::new(db.clone());
        let up = Labels::from_pairs([("__name__", "up"), ("job", "x")]).unwrap();
        let m = Matcher::new(MatchType::Equal, "job", "x").unwrap();
        let stored = || {
            let s = db
                .querier(0, 10_000)
                .select(std::slice::from_ref(&m))
                .unwrap();
            s.first().map(|s| s.samples().unwrap()).unwrap_or_default()
        };

        // A rolled-back ref (the scrape cache may still hold one) is only a hint.
        let mut app = a.appender();
        let r = app.append(None, &up, 1_000, 1.0).unwrap();
        app.rollback().unwrap();
        assert_eq!(stored(), vec![]);

        let mut app = a.appender();
        let r = app.append(Some(r), &up, 1_000, 1.0).unwrap();
        app.commit().unwrap();
        let mut app = a.appender();
        let r2 = app.append(Some(r), &up, 2_000, 0.0).unwrap();
        assert_eq!(r2, r, "steady state: same ref");
        assert!(matches!(
            app.append(Some(r2), &up, 500, 7.0),
            Err(AppendError::OutOfOrder)
        ));
        assert!(matches!(
            app.append(Some(r2), &up, 2_000, 7.0),
            Err(AppendError::Duplicate)
        ));
        assert!(matches!(
            app.append(None, &Labels::default(), 2_000, 7.0),
            Err(AppendError::Storage(_))
        ));
        app.commit().unwrap();

        assert_eq!(stored(), vec![(1_000, 1.0), (2_000, 0.0)]);
        assert_eq!(a.stats().appended.load(Ordering::Relaxed), 2);
        assert_eq!(a.stats().rejected.load(Ordering::Relaxed), 2);
    }
}
