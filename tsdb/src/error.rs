//! The crate's error type.
//!
//! One enum for the whole crate; every decoding variant names the file (or section) and the
//! byte offset where the problem was found. New variants are appended at the end.

use std::io;
use std::path::PathBuf;

/// Everything that can go wrong in `kagari-tsdb`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An I/O operation failed on `path`.
    #[error("{op} {path}: {source}")]
    Io {
        /// What was being done ("open", "read", "write", "rename", ...).
        op: &'static str,
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// Bytes on disk do not follow the format: `what` describes the structure, `offset` is the
    /// byte position (in `file`) where decoding failed.
    #[error("corrupted {file} at offset {offset}: {reason}")]
    Corruption {
        /// The file or section being decoded (e.g. "index", "chunks/000001", "XOR chunk").
        file: String,
        /// Byte offset of the problem.
        offset: u64,
        /// What was wrong.
        reason: String,
    },
    /// A stored CRC32C does not match the bytes it covers.
    #[error("checksum mismatch in {file} at offset {offset}: stored {stored:#010x}, computed {computed:#010x}")]
    Checksum {
        /// The file or section.
        file: String,
        /// Byte offset of the checksummed region.
        offset: u64,
        /// The CRC found on disk.
        stored: u32,
        /// The CRC computed over the bytes.
        computed: u32,
    },
    /// A magic number or format version is not one we understand.
    #[error("{file}: unsupported {what} {found:#x}")]
    Unsupported {
        /// The file.
        file: String,
        /// "magic", "version" or "chunk encoding".
        what: &'static str,
        /// The value found.
        found: u64,
    },
    /// A writer was fed input that violates the format's ordering rules.
    #[error("invalid input to {writer}: {reason}")]
    InvalidInput {
        /// The writer ("index writer", "block writer", "XOR appender", ...).
        writer: &'static str,
        /// What was wrong.
        reason: String,
    },
    /// A reference (series, chunk, symbol) points outside the data it refers to.
    #[error("{kind} reference {reference} out of range in {file}")]
    BadReference {
        /// "series", "chunk" or "symbol".
        kind: &'static str,
        /// The reference value.
        reference: u64,
        /// The file.
        file: String,
    },
    /// `meta.json` could not be parsed or serialised.
    #[error("meta.json {path}: {source}")]
    Meta {
        /// The path of the meta file.
        path: PathBuf,
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },
    /// A WAL (or checkpoint) segment is damaged: `offset` is where the damaged record starts
    /// in `segment`, i.e. the end of the last intact record (pass both to `wlog::repair`).
    #[error("WAL corruption in {dir} segment {segment} at offset {offset}: {reason}")]
    WalCorruption {
        /// The WAL directory.
        dir: PathBuf,
        /// The segment number.
        segment: u32,
        /// Byte offset in the segment of the first byte of the damaged record.
        offset: u64,
        /// What is wrong.
        reason: crate::wlog::CorruptionReason,
    },
    /// WAL segment numbers are not contiguous.
    #[error("WAL segments in {dir} are not sequential: {before} is followed by {after}")]
    WalSegmentGap {
        /// The WAL directory.
        dir: PathBuf,
        /// A segment number.
        before: u32,
        /// The next segment number present.
        after: u32,
    },
    /// A WAL writer had an I/O error earlier; its tail on disk is unknown, so it refuses to
    /// write more. Reopen the WAL (and repair it if reading reports corruption).
    #[error("WAL writer for {dir} is poisoned by an earlier I/O error")]
    WalPoisoned {
        /// The WAL directory.
        dir: PathBuf,
    },
    /// A WAL record could not be decoded.
    #[error("invalid WAL record of type {record_type} at byte {offset}: {reason}")]
    Record {
        /// The record's type byte.
        record_type: u8,
        /// Byte offset inside the record where decoding failed.
        offset: usize,
        /// What is wrong.
        reason: crate::record::RecordErrorKind,
    },
    /// A sample is older than the newest sample of its series (`out of order sample`).
    #[error("out of order sample: series {series_ref} at {t} is older than its newest sample at {max_t}")]
    OutOfOrderSample {
        /// The head series reference.
        series_ref: u64,
        /// The rejected timestamp.
        t: i64,
        /// The series' newest timestamp.
        max_t: i64,
    },
    /// A sample repeats the newest timestamp of its series with a different value
    /// (`duplicate sample for timestamp`); the same value is accepted as a no-op.
    #[error("duplicate sample for timestamp: series {series_ref} at {t}")]
    DuplicateSampleForTimestamp {
        /// The head series reference.
        series_ref: u64,
        /// The timestamp.
        t: i64,
    },
    /// A sample is older than the head's minimum valid time (`out of bounds`).
    #[error(
        "out of bounds: timestamp {t} is older than the head's minimum valid time {min_valid_time}"
    )]
    OutOfBounds {
        /// The rejected timestamp.
        t: i64,
        /// The minimum timestamp the head accepts.
        min_valid_time: i64,
    },
}

impl Error {
    /// Builds an [`Error::Io`].
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        Error::Io {
            op,
            path: path.into(),
            source,
        }
    }

    /// Builds an [`Error::Corruption`].
    pub(crate) fn corrupt(file: impl Into<String>, offset: u64, reason: impl Into<String>) -> Self {
        Error::Corruption {
            file: file.into(),
            offset,
            reason: reason.into(),
        }
    }
}

impl Error {
    /// For [`Error::WalCorruption`], the `(segment, offset)` to pass to `wlog::repair`.
    pub fn wal_corruption_position(&self) -> Option<(u32, u64)> {
        match self {
            Error::WalCorruption {
                segment, offset, ..
            } => Some((*segment, *offset)),
            _ => None,
        }
    }
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
