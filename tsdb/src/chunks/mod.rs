//! Block chunk segment files (`<block>/chunks/000001`, ...): a header, then chunks laid end to
//! end, each `uvarint len | encoding | data | CRC32C(encoding ‖ data)`.

mod mmap;
mod reader;
mod writer;

pub(crate) use mmap::MappedFile;
pub use reader::ChunkReader;
pub use writer::ChunkWriter;

/// Magic number at the start of every block chunk file.
pub const MAGIC_CHUNKS: u32 = 0x85BD_40DD;
/// Chunk file format version.
pub const CHUNKS_FORMAT_V1: u8 = 1;
/// Size of the segment header (magic, version, three zero bytes).
pub const SEGMENT_HEADER_SIZE: u64 = 8;
/// Default maximum size of one segment file (512 MiB), as in Prometheus.
pub const DEFAULT_SEGMENT_SIZE: u64 = 512 * 1024 * 1024;

/// A reference to a chunk inside a block: `segment index << 32 | byte offset`.
///
/// The segment index is the 0-based position of the file in the sorted file list (file
/// `000001` is index 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct ChunkRef(pub u64);

impl ChunkRef {
    /// Builds a reference from a segment index and an offset in that file.
    pub fn new(segment: u32, offset: u32) -> Self {
        ChunkRef((u64::from(segment) << 32) | u64::from(offset))
    }

    /// The 0-based segment index.
    pub fn segment(self) -> u32 {
        (self.0 >> 32) as u32
    }

    /// The byte offset of the chunk in its segment.
    pub fn offset(self) -> u32 {
        self.0 as u32
    }
}

/// The file name of the segment with 0-based index `i` (`000001` for 0).
pub fn segment_file_name(i: u32) -> String {
    format!("{:06}", u64::from(i) + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_ref_parts() {
        let r = ChunkRef::new(3, 0x28);
        assert_eq!(r.0, (3u64 << 32) | 0x28);
        assert_eq!((r.segment(), r.offset()), (3, 0x28));
        assert_eq!(segment_file_name(0), "000001");
        assert_eq!(segment_file_name(41), "000042");
    }
}
