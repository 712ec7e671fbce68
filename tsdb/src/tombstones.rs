//! The block `tombstones` file: deleted time intervals per series.
//!
//! ```text
//! be32 magic 0x0130BA30 | u8 version 1
//! repeated: uvarint series ref | varint mint | varint maxt     (inclusive interval)
//! be32 CRC32C over the entries only
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::{Error, Result};
use crate::index::encoding::{check_crc, put_be32, put_uvarint, put_varint, Decbuf};
use crate::index::SeriesRef;

/// Magic number of the tombstones file.
pub const MAGIC_TOMBSTONES: u32 = 0x0130_BA30;
/// Tombstones format version.
pub const TOMBSTONES_V1: u8 = 1;
/// The file name inside a block directory.
pub const TOMBSTONES_FILE: &str = "tombstones";

/// A deleted time range, inclusive on both ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Interval {
    /// First deleted timestamp.
    pub min_time: i64,
    /// Last deleted timestamp.
    pub max_time: i64,
}

impl Interval {
    /// Whether `t` lies in the interval.
    pub fn contains(&self, t: i64) -> bool {
        self.min_time <= t && t <= self.max_time
    }
}

/// Deleted intervals per series of one block; intervals of a series are kept sorted and merged.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tombstones {
    by_series: BTreeMap<SeriesRef, Vec<Interval>>,
}

impl Tombstones {
    /// No tombstones.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a deleted interval for `series`, merging it with overlapping or adjacent ones.
    pub fn add(&mut self, series: SeriesRef, iv: Interval) {
        let list = self.by_series.entry(series).or_default();
        list.push(iv);
        list.sort();
        let mut merged: Vec<Interval> = Vec::with_capacity(list.len());
        for iv in list.drain(..) {
            match merged.last_mut() {
                Some(last) if iv.min_time <= last.max_time.saturating_add(1) => {
                    last.max_time = last.max_time.max(iv.max_time);
                }
                _ => merged.push(iv),
            }
        }
        *list = merged;
    }

    /// The deleted intervals of `series` (sorted, non-overlapping).
    pub fn get(&self, series: SeriesRef) -> &[Interval] {
        self.by_series
            .get(&series)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// Whether the sample at `t` of `series` is deleted.
    pub fn is_deleted(&self, series: SeriesRef, t: i64) -> bool {
        self.get(series).iter().any(|iv| iv.contains(t))
    }

    /// Total number of intervals (the `numTombstones` statistic).
    pub fn num_intervals(&self) -> u64 {
        self.by_series.values().map(|v| v.len() as u64).sum()
    }

    /// Whether there are no tombstones.
    pub fn is_empty(&self) -> bool {
        self.by_series.is_empty()
    }

    /// Encodes the whole file.
    pub fn encode(&self) -> Vec<u8> {
        let mut entries = Vec::new();
        for (series, ivs) in &self.by_series {
            for iv in ivs {
                put_uvarint(&mut entries, u64::from(*series));
                put_varint(&mut entries, iv.min_time);
                put_varint(&mut entries, iv.max_time);
            }
        }
        let mut out = Vec::with_capacity(entries.len() + 9);
        put_be32(&mut out, MAGIC_TOMBSTONES);
        out.push(TOMBSTONES_V1);
        out.extend_from_slice(&entries);
        put_be32(&mut out, crc32c::crc32c(&entries));
        out
    }

    /// Decodes a whole file.
    pub fn decode(data: &[u8]) -> Result<Self> {
        const FILE: &str = "tombstones";
        if data.len() < 9 {
            return Err(Error::corrupt(
                FILE,
                0,
                format!("file too small ({} bytes)", data.len()),
            ));
        }
        let mut d = Decbuf::new(FILE, data, 0);
        let magic = d.be32()?;
        if magic != MAGIC_TOMBSTONES {
            return Err(Error::Unsupported {
                file: FILE.into(),
                what: "magic",
                found: u64::from(magic),
            });
        }
        let version = d.byte()?;
        if version != TOMBSTONES_V1 {
            return Err(Error::Unsupported {
                file: FILE.into(),
                what: "version",
                found: u64::from(version),
            });
        }
        let entries = data.get(5..data.len() - 4).unwrap_or_default();
        let mut crc = Decbuf::new(
            FILE,
            data.get(data.len() - 4..).unwrap_or_default(),
            (data.len() - 4) as u64,
        );
        check_crc(FILE, 5, entries, crc.be32()?)?;
        let mut d = Decbuf::new(FILE, entries, 5);
        let mut t = Tombstones::new();
        while d.remaining() > 0 {
            let at = d.offset();
            let series = u32::try_from(d.uvarint()?)
                .map_err(|_| Error::corrupt(FILE, at, "series ref overflows 32 bits"))?;
            let min_time = d.varint()?;
            let max_time = d.varint()?;
            t.add(series, Interval { min_time, max_time });
        }
        Ok(t)
    }

    /// Reads `<dir>/tombstones`; a missing file means no tombstones.
    pub fn read(dir: &Path) -> Result<Self> {
        let path = dir.join(TOMBSTONES_FILE);
        match std::fs::read(&path) {
            Ok(data) => Self::decode(&data),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::new()),
            Err(e) => Err(Error::io("read", path, e)),
        }
    }

    /// Writes `<dir>/tombstones` atomically (temporary file, fsync, rename).
    pub fn write(&self, dir: &Path) -> Result<()> {
        crate::block::write_file_atomically(&dir.join(TOMBSTONES_FILE), &self.encode())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_file_is_nine_bytes() {
        assert_eq!(
            Tombstones::new().encode(),
            [0x01, 0x30, 0xba, 0x30, 0x01, 0, 0, 0, 0]
        );
        assert!(
            Tombstones::decode(&[0x01, 0x30, 0xba, 0x30, 0x01, 0, 0, 0, 0])
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn round_trip_and_merge() {
        let mut t = Tombstones::new();
        t.add(
            7,
            Interval {
                min_time: 10,
                max_time: 20,
            },
        );
        t.add(
            7,
            Interval {
                min_time: 15,
                max_time: 30,
            },
        );
        t.add(
            7,
            Interval {
                min_time: 50,
                max_time: 60,
            },
        );
        t.add(
            3,
            Interval {
                min_time: -5,
                max_time: i64::MAX,
            },
        );
        assert_eq!(
            t.get(7),
            &[
                Interval {
                    min_time: 10,
                    max_time: 30
                },
                Interval {
                    min_time: 50,
                    max_time: 60
                }
            ]
        );
        assert_eq!(t.num_intervals(), 3);
        assert!(
            t.is_deleted(7, 30)
                && !t.is_deleted(7, 31)
                && t.is_deleted(3, 0)
                && !t.is_deleted(4, 0)
        );
        let bytes = t.encode();
        assert_eq!(Tombstones::decode(&bytes).unwrap(), t);
        let dir = tempfile::tempdir().unwrap();
        t.write(dir.path()).unwrap();
        assert_eq!(Tombstones::read(dir.path()).unwrap(), t);
        assert!(Tombstones::read(&dir.path().join("nope"))
            .unwrap()
            .is_empty());
    }

    #[test]
    fn corrupt_files_are_errors() {
        let mut t = Tombstones::new();
        t.add(
            1,
            Interval {
                min_time: 1,
                max_time: 2,
            },
        );
        let good = t.encode();
        for i in 0..good.len() {
            let mut bad = good.clone();
            bad[i] ^= 0x10;
            assert!(Tombstones::decode(&bad).is_err(), "flip at {i}");
        }
        for len in 0..good.len() {
            assert!(
                Tombstones::decode(&good[..len]).is_err(),
                "truncated to {len}"
            );
        }
    }
}
