//! The write-ahead log: numbered segment files made of 32 KiB pages holding CRC32C-checked
//! record fragments, byte-compatible with Prometheus's `tsdb/wlog` (see `docs/format/wal.md`).
//!
//! - [`WalWriter`] appends records, cuts segments and syncs them.
//! - [`WalReader`] yields the records of a range of segments.
//! - [`repair`] truncates a WAL at the first damaged record.
//! - [`checkpoint`] folds old segments into a `checkpoint.NNNNNNNN` directory.

mod checkpoint;
pub(crate) mod mapped;
mod reader;
mod repair;
mod segment;
mod writer;

pub use checkpoint::{
    checkpoint, checkpoint_range, checkpoint_with, delete_checkpoints_before, last_checkpoint,
    CheckpointStats,
};
pub use mapped::Prefault;
pub use reader::WalReader;
pub use repair::{repair, RepairStats};
pub use segment::{delete_segments_before, segment_name, segment_path, segments, SegmentRange};
pub use writer::{Compression, Deferred, SyncPolicy, WalOptions, WalWriter};

/// Size of one page: fragments never cross a page boundary.
pub const PAGE_SIZE: usize = 32 * 1024;
/// Size of a fragment header: type byte, `be16` length, `be32` CRC32C.
pub const FRAGMENT_HEADER_SIZE: usize = 7;
/// Default target size of a segment (128 MiB), as in Prometheus.
pub const DEFAULT_SEGMENT_SIZE: usize = 128 * 1024 * 1024;

/// Bit of the fragment type byte that marks a snappy-compressed record.
pub(crate) const SNAPPY_FLAG: u8 = 0x08;
/// Bit of the fragment type byte that marks a zstd-compressed record (Prometheus 3.x).
pub(crate) const ZSTD_FLAG: u8 = 0x10;
/// Mask of the fragment type proper (low three bits).
pub(crate) const TYPE_MASK: u8 = 0x07;

/// The kind of a fragment (low three bits of its type byte).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FragmentType {
    /// Zero byte: the rest of the page is padding.
    PageTerm,
    /// A whole record.
    Full,
    /// First fragment of a record.
    First,
    /// Middle fragment of a record.
    Middle,
    /// Last fragment of a record.
    Last,
}

impl FragmentType {
    /// Decodes the low three bits; `None` for the invalid values 5–7.
    pub(crate) fn from_bits(b: u8) -> Option<Self> {
        match b & TYPE_MASK {
            0 => Some(FragmentType::PageTerm),
            1 => Some(FragmentType::Full),
            2 => Some(FragmentType::First),
            3 => Some(FragmentType::Middle),
            4 => Some(FragmentType::Last),
            _ => None,
        }
    }

    /// The value stored in the low three bits.
    pub(crate) fn bits(self) -> u8 {
        match self {
            FragmentType::PageTerm => 0,
            FragmentType::Full => 1,
            FragmentType::First => 2,
            FragmentType::Middle => 3,
            FragmentType::Last => 4,
        }
    }
}

/// Why a WAL segment was judged corrupt (carried by [`crate::Error::WalCorruption`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CorruptionReason {
    /// A fragment's stored CRC32C does not match its payload.
    #[error("checksum mismatch: stored {stored:#010x}, computed {computed:#010x}")]
    Checksum {
        /// CRC stored in the fragment header.
        stored: u32,
        /// CRC computed over the payload.
        computed: u32,
    },
    /// The fragment type bits are 5, 6 or 7, or reserved bits are set.
    #[error("invalid fragment type byte {0:#04x}")]
    InvalidType(u8),
    /// A fragment's length does not fit in the rest of its page.
    #[error("fragment length {length} does not fit in the page")]
    BadLength {
        /// The stored payload length.
        length: u16,
    },
    /// A middle/last fragment without a first one, or a full/first one inside a record.
    #[error("fragment type {found} out of sequence")]
    OutOfSequence {
        /// The fragment type found (1–4).
        found: u8,
    },
    /// The segment ends inside a fragment header or payload.
    #[error("segment ends inside a fragment")]
    TruncatedFragment,
    /// The segment ends after a first/middle fragment: the record was torn by a crash.
    #[error("last record is torn")]
    TornRecord,
    /// A page terminator is followed by non-zero bytes.
    #[error("non-zero byte in page padding")]
    NonZeroPadding,
    /// A snappy-flagged record does not decompress.
    #[error("snappy decompression failed: {0}")]
    Snappy(String),
    /// A zstd-flagged record (written by Prometheus 3.x with zstd compression).
    #[error("zstd-compressed records are not supported")]
    Zstd,
}

impl CorruptionReason {
    /// Whether [`repair`] is the right answer: true for damage (bad CRC, torn or truncated
    /// records, bad padding), false for [`CorruptionReason::Zstd`], which is intact data this
    /// crate cannot decompress (repairing would throw it away).
    pub fn is_repairable(&self) -> bool {
        !matches!(self, CorruptionReason::Zstd)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fragment_type_bits_round_trip() {
        for b in 0u8..=4 {
            let t = FragmentType::from_bits(b);
            assert_eq!(t.map(FragmentType::bits), Some(b));
        }
        for b in 5u8..=7 {
            assert_eq!(FragmentType::from_bits(b), None);
        }
        assert_eq!(
            FragmentType::from_bits(SNAPPY_FLAG | 1),
            Some(FragmentType::Full)
        );
    }
}
