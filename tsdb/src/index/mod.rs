//! The block index file, format version 2: symbols, series (labels + chunk metas), postings and
//! the postings offset table, located through a table of contents at the end of the file.

pub(crate) mod encoding;
mod postings;
mod reader;
mod writer;

#[cfg(test)]
mod tests;

pub use postings::{intersect, merge, without};
pub use reader::{IndexReader, Toc};
pub use writer::IndexWriter;

use crate::chunks::ChunkRef;

/// Magic number at the start of an index file.
pub const MAGIC_INDEX: u32 = 0xBAAA_D700;
/// The index format version Kagari writes.
pub const FORMAT_V2: u8 = 2;
/// Size of the table of contents at the end of the file.
pub const TOC_LEN: usize = 6 * 8 + 4;

/// A series reference inside one block: the series entry's file offset divided by 16.
pub type SeriesRef = u32;

/// Where one chunk of a series lives and which (inclusive) time range it covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkMeta {
    /// Timestamp of the first sample.
    pub min_time: i64,
    /// Timestamp of the last sample.
    pub max_time: i64,
    /// Location in the block's chunk files.
    pub chunk_ref: ChunkRef,
}
