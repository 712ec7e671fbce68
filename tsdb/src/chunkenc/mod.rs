//! Chunk encodings: how a run of samples of one series is compressed into bytes.
//!
//! Only the XOR float encoding (Prometheus encoding 1) is implemented; the other encodings are
//! recognised by [`Encoding::from_u8`] so readers can report them clearly.

mod bstream;
mod xor;

pub use xor::{XorAppender, XorChunk, XorIterator};

use crate::error::{Error, Result};

/// The kind of value an iterator is positioned on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueType {
    /// No value: the iterator is exhausted (or failed; check its `err`).
    None,
    /// A float sample.
    Float,
}

/// The chunk encoding byte stored in chunk files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Encoding {
    /// XOR float chunk (1).
    Xor,
    /// Integer native histogram chunk (2); recognised, not decoded.
    Histogram,
    /// Float native histogram chunk (3); recognised, not decoded.
    FloatHistogram,
}

impl Encoding {
    /// The byte written to disk.
    pub fn as_u8(self) -> u8 {
        match self {
            Encoding::Xor => 1,
            Encoding::Histogram => 2,
            Encoding::FloatHistogram => 3,
        }
    }

    /// Parses an encoding byte from a block chunk file (the out-of-order flag 0x80 is rejected:
    /// it only appears in head chunk files).
    pub fn from_u8(b: u8) -> Result<Self> {
        match b {
            1 => Ok(Encoding::Xor),
            2 => Ok(Encoding::Histogram),
            3 => Ok(Encoding::FloatHistogram),
            other => Err(Error::Unsupported {
                file: "chunk".into(),
                what: "chunk encoding",
                found: u64::from(other),
            }),
        }
    }
}

/// Number of samples at which block writers cut a new chunk, as Prometheus does.
pub const SAMPLES_PER_CHUNK: usize = 120;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_bytes() {
        for e in [Encoding::Xor, Encoding::Histogram, Encoding::FloatHistogram] {
            assert_eq!(Encoding::from_u8(e.as_u8()).unwrap(), e);
        }
        for b in [0u8, 4, 5, 6, 0x81] {
            assert!(
                matches!(Encoding::from_u8(b), Err(Error::Unsupported { found, .. }) if found == u64::from(b))
            );
        }
    }
}
