//! Memory-mapped head chunks (`chunks_head/000001`, ...), in Prometheus's format.
//!
//! When the head cuts a chunk (it is full), the chunk is appended to the current head chunk
//! file and the series keeps only a [`MappedChunk`] view of it; the chunk's bytes leave the
//! heap and live in the page cache. At open the files are read before the WAL is replayed
//! (see [`crate::db`]).
//!
//! * `file`: the mapping of one file (the module's only `unsafe`).
//! * `records`: header and record encoding, and a validating record iterator.
//! * `mapper`: [`ChunkDiskMapper`]: open (with tail repair), write, rotate, truncate.
//!
//! File layout: `be32 magic 0x0130BC91 | u8 version 1 | 3 zero bytes`, then records
//! `be64 series ref | be64 mint | be64 maxt | u8 encoding | uvarint len | data | be32 CRC32C`.
//!
//! Out-of-order chunks (encoding 0x81, written by Prometheus when its out-of-order window is
//! on) are kept apart at open ([`ChunkDiskMapper::take_ooo_chunks`]); the head holds in-order
//! chunks only, and [`Db::import_out_of_order`](crate::db::Db::import_out_of_order) turns them
//! (with `wbl/`) into blocks.
//!
//! **Architecture Invariant**: numbers of the files are contiguous; only whole files are
//! deleted, oldest first, once no chunk in them is referenced.

mod file;
mod mapper;
mod records;

use std::ops::Deref;
use std::sync::Arc;

pub use mapper::{ChunkDiskMapper, LoadedChunk, MappedChunk, MapperStats, OpenReport};

/// The head chunk directory inside a data directory.
pub const CHUNKS_HEAD_DIR: &str = "chunks_head";
/// Magic number at the start of every head chunk file.
pub const MAGIC_HEAD_CHUNKS: u32 = 0x0130_BC91;
/// The head chunk file format version.
pub const HEAD_CHUNKS_FORMAT_V1: u8 = 1;
/// Bit 7 of a head chunk record's encoding byte: an out-of-order chunk (0x81 = out-of-order
/// XOR). Only head chunk files carry it, never blocks.
pub const OOO_ENCODING_FLAG: u8 = 0x80;
/// Bytes of the file header.
pub const HEADER_SIZE: usize = 8;
/// Largest head chunk file (128 MiB), as in Prometheus.
pub const MAX_HEAD_CHUNK_FILE_SIZE: u64 = 128 * 1024 * 1024;
/// The largest record overhead (8 + 8 + 8 + 1 + 5 + 4): fewer trailing bytes than this, all
/// zero, end a file.
pub const MAX_HEAD_CHUNK_META_SIZE: usize = 34;

/// A head chunk reference: `file number << 32 | offset of the record in the file` (unlike
/// block chunk refs, the high half is the number in the file name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HeadChunkRef(pub u64);

impl HeadChunkRef {
    /// Builds a reference.
    pub fn new(file: u32, offset: u32) -> Self {
        HeadChunkRef((u64::from(file) << 32) | u64::from(offset))
    }
    /// The file number.
    pub fn file(self) -> u32 {
        (self.0 >> 32) as u32
    }
    /// The record's offset in the file.
    pub fn offset(self) -> u32 {
        self.0 as u32
    }
}

/// The bytes of a closed head chunk: on the heap, or in a head chunk file.
#[derive(Debug, Clone)]
pub(crate) enum ChunkBytes {
    /// Not written to `chunks_head/` (no mapper, or the write failed).
    Mem(Arc<[u8]>),
    /// Written to `chunks_head/`; the heap holds only this view.
    Mapped(MappedChunk),
}

impl ChunkBytes {
    /// Whether the bytes live in a head chunk file.
    pub(crate) fn is_mapped(&self) -> bool {
        matches!(self, ChunkBytes::Mapped(_))
    }
}

impl Deref for ChunkBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            ChunkBytes::Mem(b) => b,
            ChunkBytes::Mapped(m) => m,
        }
    }
}

impl From<Arc<[u8]>> for ChunkBytes {
    fn from(b: Arc<[u8]>) -> Self {
        ChunkBytes::Mem(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn head_chunk_ref_carries_the_file_number() {
        let r = HeadChunkRef::new(1, 8);
        assert_eq!(r.0, (1u64 << 32) | 8);
        assert_eq!((r.file(), r.offset()), (1, 8));
    }
}
