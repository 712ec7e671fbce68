//! The PromQL storage traits ([`kagari_promql::storage`]) implemented for [`Db`] and
//! [`Querier`] (cargo feature `promql`).
//!
//! **API Boundary**: `kagari-promql` only sees its own traits; it never depends on the head or
//! the `Db`. The engine queries a `&Db` as a `&dyn Queryable`.
//!
//! ```
//! use kagari_model::Labels;
//! use kagari_promql::engine::{Engine, EngineOptions, Value};
//! use kagari_tsdb::db::{Db, Options};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let db = Db::open(dir.path(), Options::default()).unwrap();
//! let mut app = db.appender();
//! for (i, job) in ["a", "b"].iter().enumerate() {
//!     let l = Labels::from_pairs([("__name__", "up"), ("job", *job)]).unwrap();
//!     app.append(None, &l, 10_000, i as f64 + 1.0).unwrap();
//! }
//! app.commit().unwrap();
//! let expr = kagari_promql::parse("sum(up)").unwrap();
//! let res = Engine::new(EngineOptions::default()).instant_query(&db, &expr, 20_000).unwrap();
//! let Value::Vector(v) = res.value else { panic!("not a vector") };
//! assert_eq!(v[0].f, 3.0);
//! ```

use kagari_model::{Labels, Matcher, Timestamp};
use kagari_promql::engine::FPoint;
use kagari_promql::storage::{
    Querier as PromQuerier, Queryable, SampleIterator, SelectHints, Series, SeriesSet,
    StorageError, ValueType,
};

use crate::chunkenc::ValueType as ChunkValueType;
use crate::db::Db;
use crate::error::Error;
use crate::querier::{Querier, QuerySeries, SeriesIterator};

fn backend(e: Error) -> StorageError {
    StorageError::Backend {
        source: Box::new(e),
    }
}

fn value_type(vt: ChunkValueType) -> ValueType {
    match vt {
        ChunkValueType::Float => ValueType::Float,
        ChunkValueType::None => ValueType::None,
    }
}

impl Queryable for Db {
    fn querier(
        &self,
        mint: Timestamp,
        maxt: Timestamp,
    ) -> Result<Box<dyn PromQuerier + '_>, StorageError> {
        Ok(Box::new(Db::querier(self, mint, maxt)))
    }
}

impl PromQuerier for Querier {
    /// Results are always sorted by labels; the hints are not needed (the querier's range
    /// already bounds the chunks read).
    fn select(
        &self,
        _sorted: bool,
        _hints: &SelectHints,
        matchers: &[Matcher],
    ) -> Result<Box<dyn SeriesSet + '_>, StorageError> {
        let series = Querier::select(self, matchers).map_err(backend)?;
        Ok(Box::new(VecSeriesSet {
            it: series.into_iter(),
        }))
    }

    fn label_names(&self, matchers: &[Matcher]) -> Result<Vec<String>, StorageError> {
        Querier::label_names(self, matchers).map_err(backend)
    }

    fn label_values(&self, name: &str, matchers: &[Matcher]) -> Result<Vec<String>, StorageError> {
        Querier::label_values(self, name, matchers).map_err(backend)
    }
}

/// The selected series, handed out one by one.
#[derive(Debug)]
struct VecSeriesSet {
    it: std::vec::IntoIter<QuerySeries>,
}

impl SeriesSet for VecSeriesSet {
    fn next_series(&mut self) -> Option<Box<dyn Series + '_>> {
        self.it
            .next()
            .map(|s| Box::new(SeriesAdapter(s)) as Box<dyn Series>)
    }

    fn take_err(&mut self) -> Option<StorageError> {
        None
    }
}

#[derive(Debug)]
struct SeriesAdapter(QuerySeries);

impl Series for SeriesAdapter {
    fn labels(&self) -> &Labels {
        self.0.labels()
    }

    /// `reuse` is dropped: the iterator's state is a few cursors, rebuilt cheaply.
    fn iterator<'a>(
        &'a self,
        _reuse: Option<Box<dyn SampleIterator + 'a>>,
    ) -> Box<dyn SampleIterator + 'a> {
        Box::new(IterAdapter {
            it: self.0.iter(),
            last: ChunkValueType::None,
        })
    }
}

#[derive(Debug)]
struct IterAdapter<'a> {
    it: SeriesIterator<'a>,
    last: ChunkValueType,
}

impl SampleIterator for IterAdapter<'_> {
    fn next(&mut self) -> ValueType {
        self.last = self.it.next();
        value_type(self.last)
    }

    fn seek(&mut self, t: Timestamp) -> ValueType {
        self.last = self.it.seek(t);
        value_type(self.last)
    }

    fn at(&self) -> (Timestamp, f64) {
        self.it.at()
    }

    fn at_t(&self) -> Timestamp {
        self.it.at().0
    }

    fn take_err(&mut self) -> Option<StorageError> {
        self.it.take_err().map(backend)
    }

    fn next_floats(&mut self, maxt: Timestamp, out: &mut Vec<FPoint>) -> ValueType {
        self.last = self.it.next_floats(maxt, |t, f| out.push(FPoint { t, f }));
        value_type(self.last)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Options;
    use kagari_model::MatchType;

    #[test]
    fn traits_read_blocks_and_head_through_dyn_queryable() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path(), Options::default()).unwrap();
        let l = Labels::from_pairs([("__name__", "m"), ("k", "v")]).unwrap();
        let hour = 3_600_000;
        let mut r = None;
        for i in 0..(5 * 60) {
            let mut app = db.appender();
            r = Some(app.append(r, &l, i * 60_000, i as f64).unwrap());
            app.commit().unwrap();
        }
        db.compact().unwrap();
        assert_eq!(db.blocks().len(), 1);
        let q: &dyn Queryable = &db;
        let querier = q.querier(hour, 3 * hour).unwrap();
        let m = Matcher::new(MatchType::Equal, "k", "v").unwrap();
        let mut set = querier.select(true, &SelectHints::default(), &[m]).unwrap();
        let s = set.next_series().unwrap();
        assert_eq!(s.labels(), &l);
        let mut it = s.iterator(None);
        assert_eq!(it.seek(2 * hour - 1), ValueType::Float);
        assert_eq!(it.at(), (2 * hour, 120.0));
        let mut n = 1;
        while it.next() == ValueType::Float {
            n += 1;
        }
        assert_eq!(n, 61); // 2h ..= 3h, one per minute, across the block/head boundary
        assert!(it.take_err().is_none());
        drop(it);
        drop(s);
        assert!(set.next_series().is_none());
        assert_eq!(querier.label_names(&[]).unwrap(), vec!["__name__", "k"]);
        assert_eq!(querier.label_values("k", &[]).unwrap(), vec!["v"]);
    }
}
