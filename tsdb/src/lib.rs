//! A Prometheus-compatible time-series database: on-disk blocks (chunks, index, tombstones,
//! meta) that are byte-compatible with Prometheus.
//!
//! ```
//! use kagari_tsdb::chunkenc::{ValueType, XorChunk};
//!
//! let mut chunk = XorChunk::new();
//! let mut app = chunk.appender().unwrap();
//! for i in 0..10 {
//!     app.append(i * 15_000, i as f64).unwrap();
//! }
//! let mut it = chunk.iter();
//! let mut n = 0;
//! while it.next() == ValueType::Float {
//!     n += 1;
//! }
//! assert_eq!(n, 10);
//! ```
#![deny(unsafe_code)]

pub mod block;
pub mod chunkenc;
pub mod chunks;
mod error;
pub mod index;
pub mod record;
pub mod tombstones;
pub mod wlog;

pub use block::{Block, BlockMeta, BlockWriter, Ulid};
pub use error::{Error, Result};
