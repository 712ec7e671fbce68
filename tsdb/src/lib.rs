//! A Prometheus-compatible time-series database. The on-disk formats are byte-compatible with
//! Prometheus (checked against promtool and Prometheus 2.42); `docs/format/*.md` describes them.
//!
//! * [`chunkenc`]: the XOR float chunk encoding (appender, reusable iterators).
//! * [`chunks`]: block chunk segment files (`chunks/000001`), addressed by [`chunks::ChunkRef`].
//! * [`chunks_head`]: memory-mapped head chunk files (`chunks_head/000001`), Prometheus's format.
//! * [`index`]: the block index (format v2): symbols, series, postings, matchers.
//! * [`tombstones`]: deleted intervals of a block.
//! * [`block`]: `meta.json`, ULIDs, [`BlockWriter`] and [`Block`] (open, select, iterate).
//! * [`wlog`] and [`record`]: the write-ahead log and its record codecs.
//! * [`head`]: the in-memory head (series, postings, XOR chunks) and its [`HeadAppender`] and [`OwnedAppender`].
//! * [`db`]: [`Db`]: open/replay, block cutting, WAL checkpoints, retention, deletes, snapshots.
//! * [`querier`]: [`Querier`]: selection across the head and blocks, merged sample iterators.
//! * `storage` (feature `promql`): `kagari-promql`'s storage traits for [`Db`] and [`Querier`].
//!
//! ```
//! use kagari_model::{Labels, MatchType, Matcher};
//! use kagari_tsdb::{Block, BlockWriter};
//!
//! let data_dir = tempfile::tempdir().unwrap();
//! let mut writer = BlockWriter::new();
//! let up = Labels::from_pairs([("__name__", "up"), ("job", "node")]).unwrap();
//! writer.add_series(up.clone(), &[(1_000, 1.0), (16_000, 0.0), (31_000, 1.0)]).unwrap();
//! let meta = writer.write(data_dir.path()).unwrap();
//!
//! let block = Block::open(&data_dir.path().join(meta.ulid.to_string())).unwrap();
//! let job = Matcher::new(MatchType::Equal, "job", "node").unwrap();
//! let series: Vec<_> = block.select(&[job]).unwrap().collect::<Result<_, _>>().unwrap();
//! assert_eq!(series.len(), 1);
//! assert_eq!(series[0].labels, up);
//! assert_eq!(series[0].samples().unwrap(), vec![(1_000, 1.0), (16_000, 0.0), (31_000, 1.0)]);
//! ```
#![deny(unsafe_code)]

pub mod block;
pub mod chunkenc;
pub mod chunks;
pub mod chunks_head;
pub mod db;
mod error;
pub mod head;
pub mod index;
pub mod querier;
pub mod record;
#[cfg(feature = "promql")]
pub mod storage;
pub mod tombstones;
pub mod wlog;

pub use block::{Block, BlockMeta, BlockWriter, Ulid};
pub use db::{Db, Options};
pub use error::{Error, Result};
pub use head::{Head, HeadAppender, OwnedAppender, SeriesRef};
pub use querier::{Querier, QuerySeries, SeriesIterator};
